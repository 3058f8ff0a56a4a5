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
    join_cmdline,
    kernel_bool,
    option_matches,
    options_satisfied,
    plan_options,
    split_cmdline,
    token_name,
    token_value,
    unsatisfied_options,
    validate_options,
)
from corpus import corpus_params

SNP_DEFAULT_OPTIONS = [
    {"name": "iommu", "value": "nopt", "state": "present"},
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "iommu.passthrough", "value": "1", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "state": "absent"},
]


# What the SEV-SNP host role means to remove: every spelling of passthrough or a disabled IOMMU.
SNP_KERNEL_OPTIONS = [
    {"name": "iommu", "value": "nopt", "state": "present"},
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "iommu.passthrough", "value": "1", "state": "absent", "match": "bool"},
    {"name": "amd_iommu", "value": "off", "state": "absent", "match": "list"},
]


def present(name, value=None, match=None):
    option = {"name": name, "value": value, "state": "present"}
    if match:
        option["match"] = match
    return option


def absent(name, value=None, match=None):
    option = {"name": name, "value": value, "state": "absent"}
    if match:
        option["match"] = match
    return option


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


def test_join_cmdline_is_the_text_of_the_tokens():
    assert join_cmdline(['dyndbg="file ccp.c +p"', "quiet", "--", "x"]) == 'dyndbg="file ccp.c +p" quiet -- x'
    assert join_cmdline([]) == ""


@pytest.mark.parametrize("token, name, value", [
    ("quiet", "quiet", None),
    ("iommu=pt", "iommu", "pt"),
    ("root=UUID=1234", "root", "UUID=1234"),
    ("console=", "console", ""),
    ('dyndbg="file ccp.c +p"', "dyndbg", "file ccp.c +p"),
    ('"foo=bar"', "foo", "bar"),
    ("$GRUB_CMDLINE_LINUX", "$GRUB_CMDLINE_LINUX", None),
    # An opening quote without its closing one: only the opening quote goes.
    ('"foo=bar', "foo", "bar"),
    ('x="abc', "x", "abc"),
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

    def test_already_last_still_keeps_one_at_first_position(self):
        assert apply_options(["iommu=pt", "a", "iommu=nopt"], [present("iommu", "nopt")]) == ["iommu=nopt", "a"]

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
        assert apply_options(["quiet", "a", "quiet", "b", "quiet"], [present("quiet")]) == ["quiet", "a", "b"]

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


@pytest.mark.parametrize("tokens, satisfied", [
    ([], False),
    (["quiet"], False),
    (["iommu=pt", "iommu=pt"], False),
    (["iommu", "iommu=nopt", "amd-iommu=off"], False),
    (["a", "--", "iommu=pt"], False),
    (["iommu=nopt", "--", "iommu=pt"], True),
    (["iommu=nopt", "iommu=nopt"], True),
    (["iommu=nopt"], True),
])
def test_apply_is_idempotent(tokens, satisfied):
    once = apply_options(tokens, SNP_DEFAULT_OPTIONS)
    assert apply_options(once, SNP_DEFAULT_OPTIONS) == once
    assert options_satisfied(once, SNP_DEFAULT_OPTIONS)
    # Written out rather than derived from apply_options: the kernel's view, not the editor's.
    assert options_satisfied(tokens, SNP_DEFAULT_OPTIONS) is satisfied


def test_input_list_is_not_modified():
    tokens = ["iommu=pt"]
    apply_options(tokens, [absent("iommu")])
    assert tokens == ["iommu=pt"]


@pytest.mark.parametrize("options, message", [
    ("iommu=pt", "must be a list"),
    (["iommu"], "option 1 must be a mapping"),
    ([{"value": "1"}], "option 1 has no name"),
    ([present("a"), {"value": "1"}], "option 2 has no name"),
    ([present("")], "has no name"),
    ([present("iommu=pt")], "'='"),
    ([present("a b")], "whitespace"),
    ([present('a"b')], "quotes"),
    ([present("$x")], "'$'"),
    ([{"name": 5}], "has no name"),
    ([present("--")], "'--', which is not a kernel parameter"),
    ([present("console", "tty0 ttyS0")], "whitespace"),
    ([present("dyndbg", 'a"b')], "double quotes"),
    ([present("dyndbg", "a\0b")], "NUL"),
    ([{"name": "x", "state": "gone"}], "present or absent"),
    ([{"name": "x", "value": "1", "match": "regex"}], "use exact, list or bool"),
    ([present("amd_iommu", None, "list")], "match: list but no value; give value: (the list item"),
    ([absent("iommu.passthrough", None, "bool")], "match: bool but no value; give value: (the boolean"),
    ([absent("amd_iommu", "off,fullflush", "list")], "one non-empty list item without ','"),
    ([absent("amd_iommu", "", "list")], "one non-empty list item"),
    ([absent("iommu.passthrough", "maybe", "bool")], "is not a kernel boolean; use 1 or 0"),
    ([absent("iommu.passthrough", "", "bool")], "is not a kernel boolean"),
    ([present("iommu.passthrough", "0", "bool"), absent("iommu.passthrough", "n", "bool")], "both present and absent"),
    ([present("amd_iommu", "off"), absent("amd_iommu", "off", "list")], "both present and absent"),
    ([present("iommu", "nopt"), present("iommu", "pt")], "at most once"),
    ([present("iommu", "nopt"), present("iommu")], "at most once"),
    ([present("iommu", "nopt"), absent("iommu")], "both present and absent"),
    ([present("kvm-amd.x", "1"), absent("kvm_amd.x", "1")], "both present and absent"),
    # The order of the list does not matter: an absent option before the present ones.
    ([absent("iommu"), present("iommu", "nopt")], "both present and absent"),
    ([absent("amd_iommu", "off", "list"), present("iommu", "nopt"), present("iommu", "pt")], "at most once"),
])
def test_bad_options_are_refused_clearly(options, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        validate_options(options)


def test_absent_other_value_does_not_contradict_present():
    assert len(validate_options(SNP_DEFAULT_OPTIONS)) == 4


def test_state_defaults_to_present_and_values_become_text():
    assert validate_options([{"name": "x", "value": 1}]) == [
        {"name": "x", "value": "1", "state": "present", "match": "exact"}]


# Each character that would make a name ambiguous on a command line or in a shell file.
@pytest.mark.parametrize("char", list(" \t\n\r\f\v\0=\\;|&#<>`$'\"(){}"))
def test_every_forbidden_character_in_a_name_is_refused(char):
    with pytest.raises(OptionError, match="option name .* contains %s; a name may not contain" % re.escape(repr(char))):
        validate_options([present("iommu" + char + "x")])


@pytest.mark.parametrize("name", ["-", "---", "a-", "kvm-amd.sev-snp", "x_y.z", "-nopt"])
def test_names_with_dashes_other_than_the_separator_are_accepted(name):
    assert validate_options([present(name)])[0]["name"] == name


def test_contradiction_needs_the_same_boolean_or_item():
    assert len(validate_options([present("iommu.passthrough", "0", "bool"),
                                 absent("iommu.passthrough", "on", "bool")])) == 2
    assert len(validate_options([present("amd_iommu", "fullflush"), absent("amd_iommu", "off", "list")])) == 2


@pytest.mark.parametrize("text, expected", [
    ("1", True), ("y", True), ("Y", True), ("yes", True), ("t", True), ("T", True), ("true", True),
    ("on", True), ("ON", True), ("oN", True), ("1x", True),
    ("0", False), ("n", False), ("N", False), ("no", False), ("f", False), ("F", False), ("false", False),
    ("off", False), ("OFF", False), ("oF", False),
    ("", None), ("o", None), ("ox", None), ("2", None), ("enable", None), ("-1", None), (" 1", None),
])
def test_kernel_bool_reads_like_kstrtobool(text, expected):
    assert kernel_bool(text) is expected


def _checked(option):
    return validate_options([option])[0]


@pytest.mark.parametrize("token, option, expected", [
    # bool: every true spelling, quoted values, a bare boolean parameter is true
    ("iommu.passthrough=1", absent("iommu.passthrough", "1", "bool"), True),
    ("iommu.passthrough=on", absent("iommu.passthrough", "1", "bool"), True),
    ("iommu.passthrough=y", absent("iommu.passthrough", "1", "bool"), True),
    ("iommu.passthrough=Y", absent("iommu.passthrough", "1", "bool"), True),
    ("iommu.passthrough=true", absent("iommu.passthrough", "1", "bool"), True),
    ('iommu.passthrough="on"', absent("iommu.passthrough", "1", "bool"), True),
    ("iommu-passthrough=1", absent("iommu_passthrough", "1", "bool"), True),
    ("iommu.passthrough", absent("iommu.passthrough", "1", "bool"), True),
    ("iommu.passthrough=0", absent("iommu.passthrough", "1", "bool"), False),
    ("iommu.passthrough=off", absent("iommu.passthrough", "1", "bool"), False),
    ("iommu.passthrough=maybe", absent("iommu.passthrough", "1", "bool"), False),
    ("iommu.passthrough=", absent("iommu.passthrough", "1", "bool"), False),
    ("iommu.passthrough=off", present("iommu.passthrough", "n", "bool"), True),
    ("iommu.passthrough", present("iommu.passthrough", "n", "bool"), False),
    ("iommu=1", absent("iommu.passthrough", "1", "bool"), False),
    # list: an item of the comma-separated value, never a part of an item
    ("amd_iommu=off", absent("amd_iommu", "off", "list"), True),
    ("amd_iommu=fullflush,off", absent("amd_iommu", "off", "list"), True),
    ("amd_iommu=off,fullflush", absent("amd_iommu", "off", "list"), True),
    ('amd_iommu="fullflush,off"', absent("amd_iommu", "off", "list"), True),
    ("amd-iommu=fullflush,off", absent("amd_iommu", "off", "list"), True),
    ("amd_iommu=fullflush", absent("amd_iommu", "off", "list"), False),
    ("amd_iommu=offx", absent("amd_iommu", "off", "list"), False),
    ("amd_iommu=xoff,fullflush", absent("amd_iommu", "off", "list"), False),
    ("amd_iommu", absent("amd_iommu", "off", "list"), False),
    ("amd_iommu=fullflush,off", absent("amd_iommu", "off"), False),
    # exact and bare flags
    ("iommu=pt", absent("iommu", "pt"), True),
    ("iommu=PT", absent("iommu", "pt"), False),
    ("iommu", absent("iommu"), True),
    ("iommu=pt", absent("iommu"), True),
    ("iommu=pt", present("iommu"), False),
    ("iommu", present("iommu"), True),
    ("iommux", absent("iommu"), False),
])
def test_option_matches(token, option, expected):
    assert option_matches(token, _checked(option)) is expected


@pytest.mark.parametrize("tokens, expected", [
    # the examples of the issue: passthrough spelled otherwise, off inside a list
    (["iommu.passthrough=on", "quiet"], ["quiet", "iommu=nopt"]),
    (["iommu.passthrough=y", "iommu.passthrough=true", "iommu.passthrough=0"], ["iommu.passthrough=0", "iommu=nopt"]),
    (["amd_iommu=fullflush,off", "quiet"], ["amd_iommu=fullflush", "quiet", "iommu=nopt"]),
    (["amd_iommu=off,fullflush,off,force_isolation"], ["amd_iommu=fullflush,force_isolation", "iommu=nopt"]),
    (['amd_iommu="fullflush,off"'], ["amd_iommu=fullflush", "iommu=nopt"]),
    (["amd-iommu=off", "amd_iommu=off,off"], ["iommu=nopt"]),
    (["amd_iommu=off,", "amd_iommu=fullflush,,off"], ["amd_iommu=fullflush,", "iommu=nopt"]),
    (["amd_iommu=on", "iommu=pt", "--", "amd_iommu=off"], ["amd_iommu=on", "iommu=nopt", "--", "amd_iommu=off"]),
])
def test_snp_kernel_options_remove_every_spelling(tokens, expected):
    assert apply_options(tokens, SNP_KERNEL_OPTIONS) == expected
    assert apply_options(expected, SNP_KERNEL_OPTIONS) == expected
    assert unsatisfied_options(expected, SNP_KERNEL_OPTIONS) == []


def test_list_item_removal_keeps_its_place_and_name_spelling():
    plan = plan_options(["a", "amd-iommu=off,fullflush", "b"], [absent("amd_iommu", "off", "list")])
    assert plan == [("a", 0, 0), ("amd-iommu=fullflush", None, 1), ("b", 2, 2)]


def test_list_item_removal_requotes_an_item_with_a_space():
    assert apply_options(['x="a b,off"'], [absent("x", "off", "list")]) == ['x="a b"']


class TestPresentListAndBool:
    def test_bool_satisfied_by_another_spelling_changes_nothing(self):
        tokens = ["kvm_amd.sev_snp=Y", "quiet"]
        assert apply_options(tokens, [present("kvm_amd.sev_snp", "1", "bool")]) == tokens

    def test_bool_last_value_wins(self):
        # The kernel keeps the last value: =1 after =0 is on, so present 0 rewrites.
        assert apply_options(["x=0", "a", "x=1"], [present("x", "0", "bool")]) == ["x=0", "a"]
        assert apply_options(["x=1", "a", "x=off"], [present("x", "0", "bool")]) == ["x=1", "a", "x=off"]

    def test_bool_missing_or_other_value_is_set_in_place(self):
        assert apply_options(["a", "x=0", "b"], [present("x", "1", "bool")]) == ["a", "x=1", "b"]
        assert apply_options(["a"], [present("x", "1", "bool")]) == ["a", "x=1"]

    def test_list_satisfied_by_any_item(self):
        tokens = ["amd_iommu=fullflush", "amd_iommu=force_isolation,off"]
        assert apply_options(tokens, [present("amd_iommu", "off", "list")]) == tokens

    def test_list_without_the_item_is_set_as_exact(self):
        assert apply_options(["amd_iommu=fullflush", "q", "amd_iommu=x"], [present("amd_iommu", "off", "list")]) == [
            "amd_iommu=off", "q"]


@pytest.mark.parametrize("tokens, options, unsatisfied", [
    (["iommu=nopt"], SNP_KERNEL_OPTIONS, []),
    (["iommu=nopt", "iommu=nopt"], SNP_KERNEL_OPTIONS, []),
    (["quiet", "quiet=1"], [present("quiet")], []),
    (["amd_iommu=off", "amd_iommu=fullflush"], [present("amd_iommu", "off", "list")], []),
    (["amd_iommu=fullflush"], [present("amd_iommu", "off", "list")], [0]),
    (["iommu=pt", "iommu=nopt"], SNP_KERNEL_OPTIONS, [1]),
    (["iommu=nopt", "iommu=pt"], [present("iommu", "nopt")], [0]),
    (["iommu=pt", "iommu=nopt"], [present("iommu", "nopt")], []),
    (["iommu=nopt", "iommu.passthrough=on"], SNP_KERNEL_OPTIONS, [2]),
    (["iommu=nopt", "amd_iommu=fullflush,off"], SNP_KERNEL_OPTIONS, [3]),
    (["quiet"], SNP_KERNEL_OPTIONS, [0]),
    (["iommu=nopt", "--", "iommu=pt", "amd_iommu=off"], SNP_KERNEL_OPTIONS, []),
    (["--", "iommu=nopt"], SNP_KERNEL_OPTIONS, [0]),
    (["x=1", "x=0"], [present("x", "y", "bool")], [0]),
    (["x=0", "x=on"], [present("x", "y", "bool")], []),
    (["a=1", "quiet"], [present("quiet"), present("a", "1"), absent("b")], []),
    (["quiet=1"], [present("quiet")], [0]),
    (["b=2"], [absent("b")], [0]),
])
def test_unsatisfied_options_in_the_kernels_view(tokens, options, unsatisfied):
    checked = validate_options(options)
    assert unsatisfied_options(tokens, options) == [checked[index] for index in unsatisfied]
    assert options_satisfied(tokens, options) is (not unsatisfied)


def test_unsatisfied_options_refuse_bad_options():
    with pytest.raises(OptionError):
        unsatisfied_options(["a"], [present("--")])


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
    kernel_view = apply_options(tokens, SNP_KERNEL_OPTIONS)
    assert unsatisfied_options(kernel_view, SNP_KERNEL_OPTIONS) == []
