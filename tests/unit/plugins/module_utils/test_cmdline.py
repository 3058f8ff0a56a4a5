# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import re

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    OptionError,
    apply_options,
    has_flag,
    has_option,
    options_satisfied,
    plan_options,
    split_cmdline,
    token_name,
    token_value,
    validate_options,
)
from corpus import corpus_params

SNP_DEFAULT_OPTIONS = [
    {"name": "iommu", "value": "nopt", "state": "present"},
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "iommu.passthrough", "value": "1", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "state": "absent"},
]


def present(name, value=None):
    return {"name": name, "value": value, "state": "present"}


def absent(name, value=None):
    return {"name": name, "value": value, "state": "absent"}


@pytest.mark.parametrize("text, tokens", [
    ("", []),
    ("  quiet \n", ["quiet"]),
    ("BOOT_IMAGE=/boot/vmlinuz root=UUID=ab-cd  ro\tquiet\n", ["BOOT_IMAGE=/boot/vmlinuz", "root=UUID=ab-cd", "ro", "quiet"]),
    ('dyndbg="file ccp.c +p" quiet', ['dyndbg="file ccp.c +p"', "quiet"]),
    ('"a b" c', ['"a b"', "c"]),
    ("init=/bin/sh -- single x", ["init=/bin/sh", "--", "single", "x"]),
])
def test_split_cmdline(text, tokens):
    assert split_cmdline(text) == tokens


@pytest.mark.parametrize("token, name, value", [
    ("quiet", "quiet", None),
    ("iommu=pt", "iommu", "pt"),
    ("root=UUID=1234", "root", "UUID=1234"),
    ("console=", "console", ""),
    ('dyndbg="file ccp.c +p"', "dyndbg", "file ccp.c +p"),
    ('"foo=bar"', "foo", "bar"),
    ("$GRUB_CMDLINE_LINUX", "$GRUB_CMDLINE_LINUX", None),
])
def test_token_name_and_value(token, name, value):
    assert token_name(token) == name
    assert token_value(token) == value


def test_has_option_and_flag():
    tokens = ["quiet", "iommu=pt", "kvm-amd.sev-snp=1", "--", "nomodeset"]
    assert has_option(tokens, "iommu", "pt")
    assert has_option(tokens, "iommu")
    assert not has_option(tokens, "iommu", "nopt")
    assert has_option(tokens, "kvm_amd.sev_snp", "1")
    assert has_flag(tokens, "quiet")
    assert not has_flag(tokens, "iommu")
    # After "--" the tokens are init's arguments, not kernel parameters.
    assert not has_option(tokens, "nomodeset")


class TestPresentWithValue:
    def test_appended_when_missing(self):
        assert apply_options(["quiet"], [present("iommu", "nopt")]) == ["quiet", "iommu=nopt"]

    def test_replaces_other_value_in_place(self):
        assert apply_options(["a", "iommu=pt", "b"], [present("iommu", "nopt")]) == ["a", "iommu=nopt", "b"]

    def test_replaces_bare_flag_in_place(self):
        assert apply_options(["a", "iommu", "b"], [present("iommu", "nopt")]) == ["a", "iommu=nopt", "b"]

    def test_keeps_one_at_first_position(self):
        tokens = ["iommu=pt", "a", "iommu=nopt", "iommu", "b"]
        assert apply_options(tokens, [present("iommu", "nopt")]) == ["iommu=nopt", "a", "b"]

    def test_satisfied_list_is_unchanged(self):
        tokens = ["a", "iommu=nopt", "b"]
        assert apply_options(tokens, [present("iommu", "nopt")]) == tokens

    def test_dash_and_underscore_are_one_name(self):
        assert apply_options(["kvm-amd.sev-snp=0"], [present("kvm_amd.sev_snp", "1")]) == ["kvm_amd.sev_snp=1"]
        # Already satisfied in another spelling: the existing spelling stays.
        assert apply_options(["kvm-amd.sev-snp=1"], [present("kvm_amd.sev_snp", "1")]) == ["kvm-amd.sev-snp=1"]

    def test_value_compares_without_kernel_quotes(self):
        assert apply_options(['iommu="nopt"'], [present("iommu", "nopt")]) == ['iommu="nopt"']

    def test_other_names_untouched_including_repeated_keys(self):
        tokens = ["pci=nomsi", "console=tty0", "pci=nommconf", "console=ttyS0,115200"]
        assert apply_options(tokens, [present("iommu", "nopt")]) == tokens + ["iommu=nopt"]

    def test_goes_before_init_arguments(self):
        assert apply_options(["quiet", "--", "iommu=pt"], [present("iommu", "nopt")]) == [
            "quiet", "iommu=nopt", "--", "iommu=pt"]


class TestPresentBare:
    def test_added_once(self):
        assert apply_options(["a"], [present("quiet")]) == ["a", "quiet"]

    def test_duplicates_collapse_to_first(self):
        assert apply_options(["quiet", "a", "quiet"], [present("quiet")]) == ["quiet", "a"]

    def test_valued_token_is_not_the_flag_and_stays(self):
        assert apply_options(["nosmt=force"], [present("nosmt")]) == ["nosmt=force", "nosmt"]


class TestAbsent:
    def test_without_value_removes_every_form(self):
        tokens = ["iommu", "a", "iommu=pt", "IOMMU=x", "iommu=nopt"]
        assert apply_options(tokens, [absent("iommu")]) == ["a", "IOMMU=x"]

    def test_with_value_removes_only_that_value(self):
        tokens = ["iommu=pt", "iommu=force", "iommu", "iommu=pt"]
        assert apply_options(tokens, [absent("iommu", "pt")]) == ["iommu=force", "iommu"]

    def test_missing_is_no_change(self):
        assert apply_options(["a"], [absent("iommu")]) == ["a"]

    def test_references_are_never_matched(self):
        tokens = ["$GRUB_CMDLINE_LINUX_DEFAULT", "${X}", "iommu=pt", "iommu=$Y"]
        assert apply_options(tokens, [absent("iommu")]) == ["$GRUB_CMDLINE_LINUX_DEFAULT", "${X}"]
        assert apply_options(tokens, [absent("iommu", "pt")]) == ["$GRUB_CMDLINE_LINUX_DEFAULT", "${X}", "iommu=$Y"]


def test_snp_edit_replaces_passthrough_at_its_place():
    tokens = ["splash=silent", "amd_iommu=on", "iommu=pt", "iommu.passthrough=1", "amd_iommu=off", "quiet"]
    assert apply_options(tokens, SNP_DEFAULT_OPTIONS) == ["splash=silent", "amd_iommu=on", "iommu=nopt", "quiet"]


def test_plan_tracks_origins_and_slots():
    plan = plan_options(["a", "iommu=pt", "b", "c"], [present("iommu", "nopt"), absent("b"), present("d")])
    assert plan == [("a", 0, 0), ("iommu=nopt", None, 1), ("c", 3, 3), ("d", None, None)]


@pytest.mark.parametrize("tokens", [
    [], ["quiet"], ["iommu=pt", "iommu=pt"], ["iommu", "iommu=nopt", "amd-iommu=off"], ["a", "--", "iommu=pt"],
])
def test_apply_is_idempotent(tokens):
    once = apply_options(tokens, SNP_DEFAULT_OPTIONS)
    assert apply_options(once, SNP_DEFAULT_OPTIONS) == once
    assert options_satisfied(once, SNP_DEFAULT_OPTIONS)
    assert options_satisfied(tokens, SNP_DEFAULT_OPTIONS) == (once == tokens)


def test_input_list_is_not_modified():
    tokens = ["iommu=pt"]
    apply_options(tokens, [absent("iommu")])
    assert tokens == ["iommu=pt"]


@pytest.mark.parametrize("options, message", [
    ("iommu=pt", "must be a list"),
    (["iommu"], "must be a mapping"),
    ([{"value": "1"}], "has no name"),
    ([present("")], "has no name"),
    ([present("iommu=pt")], "'='"),
    ([present("a b")], "whitespace"),
    ([present('a"b')], "quotes"),
    ([present("$x")], "'$'"),
    ([present("console", "tty0 ttyS0")], "whitespace"),
    ([present("dyndbg", 'a"b')], "double quotes"),
    ([{"name": "x", "state": "gone"}], "present or absent"),
    ([present("iommu", "nopt"), present("iommu", "pt")], "at most once"),
    ([present("iommu", "nopt"), present("iommu")], "at most once"),
    ([present("iommu", "nopt"), absent("iommu")], "both present and absent"),
    ([present("kvm-amd.x", "1"), absent("kvm_amd.x", "1")], "both present and absent"),
])
def test_bad_options_are_refused_clearly(options, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        validate_options(options)


def test_absent_other_value_does_not_contradict_present():
    assert len(validate_options(SNP_DEFAULT_OPTIONS)) == 4


def test_state_defaults_to_present_and_values_become_text():
    assert validate_options([{"name": "x", "value": 1}]) == [{"name": "x", "value": "1", "state": "present"}]


@pytest.mark.parametrize("path", corpus_params("grub", suffixes=[".txt"]))
def test_running_cmdline_samples(path):
    """A /proc/cmdline (here taken from a kernel log) gets the SNP edit applied as tokens."""
    with open(path) as handle:
        lines = [line for line in handle if "Command line:" in line]
    assert lines, "the sample has a kernel command line"
    tokens = split_cmdline(lines[-1].split("Command line:", 1)[1])
    after = apply_options(tokens, SNP_DEFAULT_OPTIONS)
    assert apply_options(after, SNP_DEFAULT_OPTIONS) == after
    assert [t for t in after if token_name(t) == "iommu"] == ["iommu=nopt"]
    conflicting = {("iommu", "pt"), ("iommu.passthrough", "1"), ("amd_iommu", "off")}
    assert [t for t in tokens if (token_name(t), token_value(t)) not in conflicting and token_name(t) != "iommu"] == \
        [t for t in after if token_name(t) != "iommu"]
    assert options_satisfied(after, SNP_DEFAULT_OPTIONS)
