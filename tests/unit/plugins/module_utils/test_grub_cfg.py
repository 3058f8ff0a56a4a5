# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GRUB menu parser on grub.cfg files written by a real grub-mkconfig (Debian 12's,
tests/fixtures/grub_cfg/generate.sh), and on hostile hand-written ones."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.grub_cfg import (
    MAX_DEPTH,
    GrubCfgError,
    boot_next,
    flavour_entry,
    flavour_matches,
    grub_default_value,
    kernel_flavour,
    kernel_release,
    parse_grub_cfg,
    parse_grubenv,
    resolve_path,
    version_key,
)
from corpus import corpus_params

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "grub_cfg")
UUID = "0c1b2a39-4f5e-4d6c-8b7a-9e0f1a2b3c4d"
ADVANCED = "gnulinux-advanced-%s" % UUID
SIMPLE = "gnulinux-simple-%s" % UUID


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def cfg(name):
    return parse_grub_cfg(fixture(name))


def advanced(release, kind="advanced"):
    return "%s>gnulinux-%s-%s-%s" % (ADVANCED, release, kind, UUID)


# --------------------------------------------------------------------------- real grub-mkconfig output


def test_debian_two_flavours_menu_ids_titles_nesting():
    parsed = cfg("debian-two-flavours.cfg")
    assert [item["kind"] for item in parsed["menu"]] == ["entry", "submenu"]
    assert [e["path"] for e in parsed["entries"]] == [
        SIMPLE,
        advanced("6.1.0-50-cloud-amd64"),
        advanced("6.1.0-50-cloud-amd64", "recovery"),
        advanced("6.1.0-50-amd64"),
        advanced("6.1.0-50-amd64", "recovery"),
    ]
    assert [e["index_path"] for e in parsed["entries"]] == ["0", "1>0", "1>1", "1>2", "1>3"]
    generic = parsed["entries"][3]
    assert generic["title"] == "Debian GNU/Linux, with Linux 6.1.0-50-amd64"
    assert generic["title_path"] == "Advanced options for Debian GNU/Linux>" + generic["title"]
    assert generic["submenus"] == ["Advanced options for Debian GNU/Linux"]
    assert generic["kernel"] == "/boot/vmlinuz-6.1.0-50-amd64"
    assert (generic["release"], generic["flavour"], generic["recovery"]) == ("6.1.0-50-amd64", "amd64", False)
    assert [e["recovery"] for e in parsed["entries"]] == [False, False, True, False, True]
    assert parsed["default"] == "0"
    assert parsed["bls"] is False


def test_debian_default_zero_boots_the_top_entry_the_cloud_kernel():
    result = boot_next(cfg("debian-two-flavours.cfg"), grub_default="0")
    assert result["entry"]["path"] == SIMPLE
    assert result["entry"]["release"] == "6.1.0-50-cloud-amd64"
    assert (result["via"], result["fallback"], result["stale"]) == ("default", False, False)


def test_saved_default_follows_saved_entry():
    parsed = cfg("debian-saved-default.cfg")
    assert parsed["default"] == "${saved_entry}"
    result = boot_next(parsed, grub_default="saved", saved_entry=advanced("6.1.0-50-amd64"))
    assert result["entry"]["release"] == "6.1.0-50-amd64"
    assert (result["via"], result["fallback"], result["stale"]) == ("saved_entry", False, False)


def test_saved_default_without_saved_entry_boots_the_first():
    result = boot_next(cfg("debian-saved-default.cfg"), grub_default="saved", saved_entry=None)
    assert result["entry"]["path"] == SIMPLE
    assert result["fallback"] is False
    assert "no saved_entry" in result["reason"]


def test_saved_entry_of_a_removed_kernel_falls_back_to_the_first_with_a_reason():
    result = boot_next(cfg("debian-saved-default.cfg"), grub_default="saved",
                       saved_entry=advanced("6.1.0-49-amd64"))
    assert result["entry"]["path"] == SIMPLE
    assert result["fallback"] is True
    assert "6.1.0-49-amd64" in result["reason"] and "first entry" in result["reason"]


def test_grub_cfg_default_wins_over_an_unregenerated_grub_default():
    # /etc/default/grub says saved, but grub.cfg was generated with 0: GRUB reads grub.cfg.
    result = boot_next(cfg("debian-two-flavours.cfg"), grub_default="saved", saved_entry=advanced("6.1.0-50-amd64"))
    assert result["entry"]["path"] == SIMPLE
    assert result["stale"] is True
    assert result["via"] == "default"


def test_next_entry_wins_once():
    result = boot_next(cfg("debian-saved-default.cfg"), grub_default="saved", saved_entry=SIMPLE,
                       next_entry=advanced("6.1.0-50-amd64"))
    assert result["via"] == "next_entry"
    assert result["entry"]["release"] == "6.1.0-50-amd64"


@pytest.mark.parametrize("expression, release", [
    ("1>2", "6.1.0-50-amd64"),                                        # indexes
    ("Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-50-amd64", "6.1.0-50-amd64"),
    (ADVANCED + ">2", "6.1.0-50-amd64"),                             # id then index
    (ADVANCED, "6.1.0-50-cloud-amd64"),                              # a submenu: its first entry
    ("0", "6.1.0-50-cloud-amd64"),
])
def test_grub_default_forms(expression, release):
    # grub.cfg carries GRUB_DEFAULT as its `set default=` line after grub-mkconfig
    parsed = cfg("debian-two-flavours.cfg")
    parsed["default"] = expression
    result = boot_next(parsed, grub_default=expression)
    assert result["entry"]["release"] == release
    assert result["fallback"] is False


@pytest.mark.parametrize("expression", ["9", "1>9", "no such title", "1>0>0", ""])
def test_resolve_path_unknown(expression):
    assert resolve_path(cfg("debian-two-flavours.cfg")["menu"], expression) is None


def test_no_submenu_layout():
    parsed = cfg("debian-no-submenu.cfg")
    assert [e["path"] for e in parsed["entries"]] == [
        "gnulinux-6.1.0-50-cloud-amd64-advanced-%s" % UUID, "gnulinux-6.1.0-50-amd64-advanced-%s" % UUID]
    assert flavour_entry(parsed, "-amd64")["path"] == "gnulinux-6.1.0-50-amd64-advanced-%s" % UUID


def test_flavour_entry_is_the_advanced_non_recovery_entry():
    parsed = cfg("debian-two-flavours.cfg")
    assert flavour_entry(parsed, "-amd64")["path"] == advanced("6.1.0-50-amd64")
    # the cloud kernel is in the top entry and the advanced one: the advanced one is stable
    assert flavour_entry(parsed, "cloud-amd64")["path"] == advanced("6.1.0-50-cloud-amd64")
    assert flavour_entry(parsed, "-coco") is None
    assert flavour_entry(parsed, "") is None


def test_suse_names_select_coco_and_saved_default():
    parsed = cfg("suse-names-default-and-coco.cfg")
    coco = flavour_entry(parsed, "-coco")
    assert coco["path"] == advanced("6.4.0-150700.53.3-coco")
    assert coco["kernel"] == "/boot/vmlinuz-6.4.0-150700.53.3-coco"
    # before selection the host boots kernel-default; after grub2-set-default, coco
    assert boot_next(parsed, "saved", None)["entry"]["flavour"] == "default"
    assert boot_next(parsed, "saved", coco["path"])["entry"] is coco


def test_quoting_escaped_apostrophe_double_quotes_and_custom_entries():
    parsed = cfg("debian-custom-quoting.cfg")
    titles = [e["title"] for e in parsed["entries"]]
    assert titles[0] == 'Bob\'s "Test" Linux GNU/Linux'
    assert 'Custom "quoted" entry with a } brace' in titles
    by_title = dict((e["title"], e) for e in parsed["entries"])
    custom = by_title['Custom "quoted" entry with a } brace']
    assert (custom["id"], custom["path"], custom["kernel"], custom["flavour"]) == (
        "custom-quoted", "custom-quoted", "/vmlinuz-custom-coco", "coco")
    deep = by_title["Deep entry"]
    assert (deep["path"], deep["index_path"], deep["kernel"]) == ("tools>nested>deep", "3>0>0", "/boot/vmlinuz-deep-amd64")
    assert deep["submenus"] == ["Tools", "Nested tools"]
    noid = by_title["Entry without id"]
    assert (noid["id"], noid["path"]) == (None, "tools>Entry without id")
    assert resolve_path(parsed["menu"], noid["path"]) is noid
    assert resolve_path(parsed["menu"], "tools>nested>deep") is deep


def test_grubenv_file_and_listing_agree():
    from_file = parse_grubenv(fixture("grubenv-saved"))
    assert from_file == parse_grubenv(fixture("grubenv-saved.list"), listing=True)
    assert from_file["saved_entry"] == advanced("6.1.0-50-amd64")
    assert from_file["next_entry"] == ""
    assert from_file["odd"] == "value with = and spaces"
    assert len(fixture("grubenv-saved")) == 1024


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("text, line, words", [
    ("menuentry 'a' {\n linux /k\n", 1, "never closed"),
    ("submenu 'a' {\n menuentry 'b' {\n }\n", 1, "submenu 'a' is never closed"),
    ("menuentry 'a' {\n}\n}\n", 3, "closes no block"),
    ("menuentry 'a {\n}\n", 1, "unclosed single quote"),
    ('menuentry "a {\n}\n', 1, "unclosed double quote"),
    ("menuentry 'a'\n", 1, "without a '{'"),
    ("menuentry --class x {\n}\n", 1, "without a title"),
    ("menuentry 'a' $menuentry_id_option {\n}\n", 1, "without a value"),
])
def test_broken_cfg_is_a_clear_error_with_the_line(text, line, words):
    with pytest.raises(GrubCfgError) as info:
        parse_grub_cfg(text)
    assert info.value.lineno == line
    assert words in str(info.value)


def test_braces_in_variables_quotes_and_functions_do_not_count():
    text = (
        'if [ "${next_entry}" ] ; then\n   set default="${next_entry}"\nelse\n   set default="2"\nfi\n'
        "function f {\n menuentry 'inside function' { linux /boot/vmlinuz-1-x }\n}\n"
        "menuentry 'one line' --id one { linux /boot/vmlinuz-6.1.0-1-coco ; echo '}' }\n"
        "menuentry \"esc\\\"aped \\$x\" --id=two --hotkey x --class a --unrestricted {\n"
        "  linux ${root}/vmlinuz-9-z  # comment {\n}\n"
    )
    parsed = parse_grub_cfg(text)
    assert [e["title"] for e in parsed["entries"]] == ["one line", 'esc"aped $x']
    assert [e["id"] for e in parsed["entries"]] == ["one", "two"]
    assert parsed["entries"][0]["flavour"] == "coco"
    assert parsed["entries"][1]["kernel"] == "${root}/vmlinuz-9-z"
    assert parsed["default"] == "2"


def test_numeric_or_arrow_titles_without_id_are_addressed_by_index():
    parsed = parse_grub_cfg("menuentry '7' {\n}\nmenuentry 'a>b' {\n}\n")
    assert [e["path"] for e in parsed["entries"]] == ["0", "1"]


def test_bls_is_reported():
    parsed = parse_grub_cfg("insmod blscfg\nblscfg\n")
    assert parsed["bls"] is True and parsed["entries"] == []
    assert boot_next(parsed, "saved")["entry"] is None
    assert "no menu entry" in boot_next(parsed, "saved")["reason"]


def test_huge_cfg_parses_in_linear_time():
    entry = "menuentry 'Linux %d' --id e%d {\n\tlinux /boot/vmlinuz-6.1.0-%d-coco root=x ro\n}\n"
    text = "".join(entry % (i, i, i) for i in range(20000))  # about 1.3 MB
    started = time.monotonic()
    parsed = parse_grub_cfg(text)
    assert time.monotonic() - started < 10
    assert len(parsed["entries"]) == 20000
    assert flavour_entry(parsed, "-coco")["release"] == "6.1.0-19999-coco"


def nested(depth):
    text = "".join("submenu 's%d' --id s%d {\n" % (i, i) for i in range(depth))
    return text + "menuentry 'leaf' --id leaf { linux /boot/vmlinuz-1-coco }\n" + "}\n" * depth


def test_nesting_up_to_the_limit():
    parsed = parse_grub_cfg(nested(MAX_DEPTH - 1))
    leaf = parsed["entries"][0]
    assert leaf["path"].endswith("s%d>leaf" % (MAX_DEPTH - 2))
    assert leaf["index_path"] == ">".join(["0"] * MAX_DEPTH)
    assert resolve_path(parsed["menu"], leaf["path"]) is leaf


def test_hostile_deep_nesting_is_refused_fast():
    started = time.monotonic()
    with pytest.raises(GrubCfgError) as info:
        parse_grub_cfg(nested(200000))
    assert time.monotonic() - started < 5
    assert info.value.lineno == MAX_DEPTH + 1
    assert "deeper than %d" % MAX_DEPTH in str(info.value)


def test_function_bodies_hold_no_entries_and_close_properly():
    text = ("function a {\n function b {\n  menuentry 'x' { linux /k-1-y }\n }\n}\n"
            "menuentry 'after' { linux /boot/vmlinuz-2-coco }\n")
    parsed = parse_grub_cfg(text)
    assert [e["title"] for e in parsed["entries"]] == ["after"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n;;\n"])
def test_empty_cfg(text):
    parsed = parse_grub_cfg(text)
    assert parsed == {"menu": [], "entries": [], "default": None, "bls": False}


def test_grubenv_without_header_is_refused():
    with pytest.raises(GrubCfgError, match="grub-editenv FILE create"):
        parse_grubenv("saved_entry=x\n")


def test_grubenv_escapes():
    env = parse_grubenv("# GRUB Environment Block\na=back\\\\slash\nb=new\\\nline\n####")
    assert env == {"a": "back\\slash", "b": "new\nline"}


# --------------------------------------------------------------------------- kernels and flavours


@pytest.mark.parametrize("path, release", [
    ("/boot/vmlinuz-6.4.0-150700.53.3-coco", "6.4.0-150700.53.3-coco"),
    ("/@/boot/vmlinuz-6.4.0-1-default", "6.4.0-1-default"),
    ("/vmlinuz", None),
    ("/boot/vmlinuz-", None),
    (None, None),
    ("/boot/Image-6.1.0-1-arm64", "6.1.0-1-arm64"),
])
def test_kernel_release(path, release):
    assert kernel_release(path) == release


@pytest.mark.parametrize("release, flavour", [
    ("6.4.0-150700.53.3-coco", "coco"),
    ("6.1.0-28-cloud-amd64", "cloud-amd64"),
    ("6.1.0-28-amd64", "amd64"),
    ("6.8.0-45-generic", "generic"),
    ("5.14.0-427.el9.x86_64", None),
    ("coco", None),
    ("", None),
    (None, None),
])
def test_kernel_flavour(release, flavour):
    assert kernel_flavour(release) == flavour


@pytest.mark.parametrize("release, pattern, matches", [
    ("6.4.0-150700.53.3-coco", "-coco", True),
    ("6.4.0-150700.53.3-coco", "coco", True),
    ("6.4.0-150700.53.3-default", "-coco", False),
    ("6.1.0-28-cloud-amd64", "-amd64", False),
    ("6.1.0-28-amd64", "-amd64", True),
    ("6.1.0-28-amd64", "", False),
    ("6.1.0-28-amd64", "-", False),
])
def test_flavour_matches(release, pattern, matches):
    assert flavour_matches(release, pattern) is matches


def test_version_key_orders_like_sort_v():
    releases = ["6.4.0-150700.53.10-coco", "6.4.0-150700.53.3-coco", "6.4.0-150700.9.1-coco"]
    assert sorted(releases, key=version_key) == [
        "6.4.0-150700.9.1-coco", "6.4.0-150700.53.3-coco", "6.4.0-150700.53.10-coco"]


# --------------------------------------------------------------------------- GRUB_DEFAULT


@pytest.mark.parametrize("text, value", [
    ("GRUB_DEFAULT=saved\n", "saved"),
    ("GRUB_DEFAULT=0\nGRUB_DEFAULT=2\n", "2"),
    ('GRUB_DEFAULT="Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-50-amd64"\n',
     "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1.0-50-amd64"),
    ("GRUB_DEFAULT='a \"b\"  c'\n", 'a "b"  c'),
    ('GRUB_DEFAULT="say \\"x\\" \\$y"\n', 'say "x" $y'),
    ("GRUB_TIMEOUT=5\n", None),
    ("", None),
])
def test_grub_default_value(text, value):
    assert grub_default_value(text) == value


def test_grub_default_inside_a_condition_is_refused_with_the_line():
    with pytest.raises(GrubCfgError) as info:
        grub_default_value("if true; then\nGRUB_DEFAULT=saved\nfi\n")
    assert info.value.lineno == 2
    assert "GRUB_DEFAULT" in str(info.value)


@pytest.mark.parametrize("path", corpus_params("grub", suffixes=(".grub",)))
def test_real_default_grub_files_give_a_value_or_a_clear_error(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    try:
        value = grub_default_value(text)
    except GrubCfgError as exc:
        assert exc.lineno
        return
    assert value is None or isinstance(value, str)
