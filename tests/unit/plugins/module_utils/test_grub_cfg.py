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
    boot_facts,
    boot_next,
    flavour_entry,
    flavour_matches,
    grub_default_value,
    kernel_flavour,
    kernel_release,
    parse_grub_cfg,
    parse_grubenv,
    resolve_path,
    running_release,
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


@pytest.mark.parametrize("expression", ["9", "2", "1>9", "1>4", "no such title", "1>0>0", "", None])
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
    ("menuentry {\n}\n", 1, "without a title"),
    ('menuentry "a\\', 1, "unclosed double quote"),      # the file ends in the escape
    ('menuentry "a\\"', 1, "unclosed double quote"),     # an escaped quote closes nothing
    ("function f {\n insmod all_video\n", 1, "a block is never closed"),
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


@pytest.mark.parametrize("text", ["", None, "# only a comment\n", "# no final newline", "\n\n;;\n"])
def test_empty_cfg(text):
    parsed = parse_grub_cfg(text)
    assert parsed == {"menu": [], "entries": [], "default": None, "bls": False}


def test_grubenv_without_header_is_refused():
    with pytest.raises(GrubCfgError, match="grub-editenv FILE create"):
        parse_grubenv("saved_entry=x\n")


def test_grubenv_escapes():
    env = parse_grubenv("# GRUB Environment Block\na=back\\\\slash\nb=new\\\nline\n####")
    assert env == {"a": "back\\slash", "b": "new\nline"}

# --------------------------------------------------------------------------- GRUB's words (grub-core/script/yylex.l)


@pytest.mark.parametrize("end", ["\n", ""])
@pytest.mark.parametrize("source, value", [
    (r"set default=Debian\ GNU/Linux", "Debian GNU/Linux"),         # outside quotes \ escapes any character
    (r"set default=Linux\;1\;", "Linux;1;"),
    (r'set default="C:\boot\$x\"y\\z"', r'C:\boot$x"y\z'),          # in double quotes only \$ \" \\ escape
    (r"set default='C:\boot\'", "C:\\boot\\"),                     # single quotes take everything literally
    ("set default=\"Debian \\\nGNU/Linux\"", "Debian GNU/Linux"),  # \ newline in double quotes: a continuation
    ("set default=Debian\\\nGNU/Linux", "DebianGNU/Linux"),         # \ newline outside quotes: a continuation
    ("set default='two\nlines'", "two\nlines"),
    ("set default=\"two\nlines\"", "two\nlines"),
    ("set default=''", ""),
    ("set default='x'\"y\"z", "xyz"),                               # quoted parts join into one word
    ("set default=a#b # a comment", "a#b"),                        # '#' starts a comment only at a word's start
    ("set default=1;set timeout=5", "1"),                          # ';' ends a command
    ("set timeout=5;set default=1", "1"),
    ("set default=1\nset default", "1"),                           # `set NAME` alone is not an assignment
    ("echo default=1", None),                                      # only `set` assigns
    ('set default="2"\nif [ "${next_entry}" ] ; then\n  set default="${next_entry}"\nfi', "2"),
    ("set default=0\nmenuentry 'Make 1 the default' {\n  set default=1\n}", "0"),  # runs only when chosen
])
def test_words_and_commands_read_as_grub_reads_them(source, value, end):
    assert parse_grub_cfg(source + end)["default"] == value


@pytest.mark.parametrize("text, linenos, titles", [
    ("menuentry 'a' {\n}\nmenuentry 'b' {\n}\n", [1, 3], ["a", "b"]),
    ("menuentry 'two\nlines' {\n}\nmenuentry 'b' {\n}\n", [1, 4], ["two\nlines", "b"]),
    ("menuentry \"two\nlines\" {\n}\nmenuentry 'b' {\n}\n", [1, 4], ["two\nlines", "b"]),
    ("menuentry \"one \\\nline\" {\n}\nmenuentry 'b' {\n}\n", [1, 4], ["one line", "b"]),
    ("menuentry 'a' \\\n  --id a {\n}\nmenuentry 'b' {\n}\n", [1, 4], ["a", "b"]),
    ("# comment 'with {\nmenuentry 'a' {\n  echo ''\n}\nmenuentry 'b' {\n}\n", [2, 5], ["a", "b"]),
])
def test_entry_lines_count_newlines_in_quotes_and_continuations(text, linenos, titles):
    entries = parse_grub_cfg(text)["entries"]
    assert [e["lineno"] for e in entries] == linenos
    assert [e["title"] for e in entries] == titles


@pytest.mark.parametrize("body", [
    'echo "}"',        # a quoted brace is a word
    "echo '{'",
    "echo \\}",        # so is an escaped one
    "echo ${x}",
])
def test_quoted_or_escaped_braces_neither_open_nor_close(body):
    text = "menuentry 'a' {\n  %s\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n" % body
    entries = parse_grub_cfg(text)["entries"]
    assert [(e["title"], e["kernel"]) for e in entries] == [("a", "/boot/vmlinuz-6.4.0-1-coco")]


def test_one_line_entry_keeps_its_kernel():
    parsed = parse_grub_cfg("menuentry 'a' { linux /boot/vmlinuz-6.4.0-1-coco ro }\nlinux /boot/vmlinuz-0-x\n")
    assert [e["kernel"] for e in parsed["entries"]] == ["/boot/vmlinuz-6.4.0-1-coco"]


def test_a_truncated_file_ending_in_a_backslash_is_no_traceback():
    for text in ("set default=1\\", "menuentry 'a' {\n linux /boot/vmlinuz-1-coco \\"):
        try:
            parse_grub_cfg(text)
        except GrubCfgError:
            pass


# --------------------------------------------------------------------------- menuentry and submenu arguments


@pytest.mark.parametrize("arguments, title, entry_id", [
    # grub-mkconfig's form: title first, then classes and $menuentry_id_option
    ("'Debian' --class debian --class os $menuentry_id_option 'gnulinux-simple'", "Debian", "gnulinux-simple"),
    # GRUB's option parser takes options anywhere, with the value in the next word or after '='
    ("--id gnulinux-x 'Debian'", "Debian", "gnulinux-x"),
    ("--class os 'Debian'", "Debian", None),
    ("--class=os 'Debian'", "Debian", None),
    ("--unrestricted 'Debian'", "Debian", None),
    ("'Debian' --unrestricted --users=root --hotkey d --id=deb", "Debian", "deb"),
    ("'Debian' --id=deb --class=os", "Debian", "deb"),
    ("Debian --id deb", "Debian", "deb"),                    # an unquoted title
    ("'Debian' extra arguments", "Debian", None),           # the title is the first argument
    ("'$menuentry_id_option' --id x", "$menuentry_id_option", "x"),
])
def test_menuentry_title_and_id(arguments, title, entry_id):
    entry = parse_grub_cfg("menuentry %s {\n  linux /boot/vmlinuz-1-x\n}\n" % arguments)["entries"][0]
    assert (entry["title"], entry["id"]) == (title, entry_id)


@pytest.mark.parametrize("text, recovery", [
    ("menuentry 'Debian, with Linux 6.1.0-1-amd64' --id gnulinux-6.1.0-1-amd64-advanced-u {\n"
     "  linux /boot/vmlinuz-6.1.0-1-amd64 root=/dev/sda1 ro quiet\n}\n", False),
    # each of grub-mkconfig's three marks alone makes a recovery entry
    ("menuentry 'Debian, with Linux 6.1.0-1-amd64 (recovery mode)' {\n  linux /boot/vmlinuz-6.1.0-1-amd64 ro\n}\n", True),
    ("menuentry 'Rescue' --id gnulinux-6.1.0-1-amd64-recovery-u {\n  linux /boot/vmlinuz-6.1.0-1-amd64 ro\n}\n", True),
    ("menuentry 'Rescue' {\n  linux /boot/vmlinuz-6.1.0-1-amd64 single\n}\n", True),
    ("menuentry 'Rescue' {\n  linux /boot/vmlinuz-6.1.0-1-amd64 ro recovery nomodeset\n}\n", True),
])
def test_recovery_entries(text, recovery):
    assert parse_grub_cfg(text)["entries"][0]["recovery"] is recovery


def test_linux_without_a_path_or_outside_an_entry_names_no_kernel():
    text = ("linux /boot/vmlinuz-0-x\n"
            "menuentry 'a' {\n  linux\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n")
    assert [e["kernel"] for e in parse_grub_cfg(text)["entries"]] == ["/boot/vmlinuz-6.4.0-1-coco"]


def test_entries_made_by_functions_are_not_in_the_menu():
    # grub-mkconfig's header defines functions one after the other; what a body would create is not the menu
    text = ("function savedefault {\n  save_env saved_entry\n}\n"
            "function gen {\n  menuentry \"$1\" --id \"$2\" {\n    linux \"$3\"\n  }\n  menuentry \"$1 (no block)\"\n}\n"
            "function load_video\n{\n  insmod all_video\n}\n"             # the brace may stand on the next line
            "menuentry 'Linux' {\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n")
    assert [e["title"] for e in parse_grub_cfg(text)["entries"]] == ["Linux"]


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
    ("6.1.0-28-", None),                      # a file name cut short
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
    ("6.1.0-28-amd64", None, False),
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
    # the shell keeps a backslash in single quotes, and in double quotes before other characters
    ("GRUB_DEFAULT='Windows \\o/'\n", "Windows \\o/"),
    ('GRUB_DEFAULT="Windows \\o/"\n', "Windows \\o/"),
    ("GRUB_TIMEOUT=5\n", None),
    ("", None),
    (None, None),
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


# --------------------------------------------------------------------------- what boots next


def test_a_default_naming_a_submenu_boots_its_first_entry():
    parsed = cfg("debian-two-flavours.cfg")
    parsed["default"] = ADVANCED
    result = boot_next(parsed, grub_default=ADVANCED)
    assert result["entry"]["path"] == advanced("6.1.0-50-cloud-amd64")
    assert result["fallback"] is False


def test_a_submenu_without_entries_boots_nothing_named():
    parsed = parse_grub_cfg("submenu 'Tools' {\n  echo nothing here\n}\nmenuentry 'Linux' {\n  linux /boot/vmlinuz-1-x\n}\n")
    assert boot_next(parsed, grub_default="0")["entry"] is None
    assert boot_next(parsed, grub_default="1")["entry"]["title"] == "Linux"


@pytest.mark.parametrize("cfg_text, grub_default, stale", [
    ("set default=\"0\"\nmenuentry 'a' {\n}\n", None, False),      # GRUB_DEFAULT unset is 0
    ("set default=\"0\"\nmenuentry 'a' {\n}\n", "0", False),
    ("set default=\"0\"\nmenuentry 'a' {\n}\n", "saved", True),
    ("menuentry 'a' {\n}\n", "saved", False),                        # a grub.cfg that sets no default
    ("menuentry 'a' {\n}\n", None, False),
])
def test_stale_only_when_grub_cfg_sets_another_default(cfg_text, grub_default, stale):
    assert boot_next(parse_grub_cfg(cfg_text), grub_default=grub_default)["stale"] is stale


def test_an_empty_default_is_entry_zero_without_a_reason():
    parsed = parse_grub_cfg("set default=\"\"\nmenuentry 'a' {\n}\nmenuentry 'b' {\n}\n")
    result = boot_next(parsed)
    assert (result["entry"]["title"], result["via"], result["fallback"], result["reason"]) == ("a", "default", False, None)


@pytest.mark.parametrize("arguments, names", [
    ({"grub_default": "no such entry"}, "GRUB_DEFAULT 'no such entry'"),
    ({"grub_default": "saved", "saved_entry": "gone"}, "saved_entry 'gone'"),
    ({"grub_default": "0", "next_entry": "gone once"}, "next_entry 'gone once'"),
])
def test_a_fallback_reason_names_the_setting_that_names_nothing(arguments, names):
    parsed = parse_grub_cfg("menuentry 'a' {\n}\nmenuentry 'b' {\n}\n")
    result = boot_next(parsed, **arguments)
    assert result["entry"]["title"] == "a" and result["fallback"] is True
    assert result["reason"].startswith(names + " names no entry")


def test_flavour_entry_skips_recovery_entries_and_entries_without_an_id():
    text = ("menuentry 'Linux 6.4.0-2-coco (recovery mode)' {\n  linux /boot/vmlinuz-6.4.0-2-coco single\n}\n"
            "menuentry 'Linux 6.4.0-1-coco' {\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n"
            "menuentry 'Linux 6.4.0-3-default' {\n  linux /boot/vmlinuz-6.4.0-3-default\n}\n")
    assert flavour_entry(parse_grub_cfg(text), "-coco")["title"] == "Linux 6.4.0-1-coco"


def test_version_key_of_nothing():
    assert version_key(None) == version_key("") == []


# --------------------------------------------------------------------------- grubenv


def block(body):
    """A grubenv as grub-editenv writes it: 1024 bytes, padded with '#'."""
    text = "# GRUB Environment Block\n# WARNING: Do not edit this file by tools other than grub-editenv!!!\n" + body
    return text + "#" * (1024 - len(text))


@pytest.mark.parametrize("body, env", [
    ("saved_entry=a\n", {"saved_entry": "a"}),
    ("#saved_entry=old\nsaved_entry=new\n", {"saved_entry": "new"}),   # a line starting with '#' is no variable
    ("stray line\n=no name\nsaved_entry=a\n", {"saved_entry": "a"}),
    ("saved_entry=a\nsaved_entry=b\n", {"saved_entry": "b"}),
])
def test_grubenv_variables(body, env):
    assert parse_grubenv(block(body)) == env
    assert parse_grubenv(body, listing=True) == env


def test_grubenv_listing_of_nothing_and_missing_block():
    assert parse_grubenv(None, listing=True) == {} == parse_grubenv("", listing=True)
    with pytest.raises(GrubCfgError):
        parse_grubenv(None)


def test_a_truncated_grubenv_keeps_its_whole_variables():
    env = parse_grubenv("# GRUB Environment Block\nsaved_entry=x\nnext_entry=a\\")
    assert env["saved_entry"] == "x"


# --------------------------------------------------------------------------- the boot section


@pytest.mark.parametrize("osrelease, version, release", [
    ("6.4.0-1-coco\n", None, "6.4.0-1-coco"),
    ("\n", "Linux version 6.1.0-1-amd64 (debian-kernel@lists.debian.org) #1 SMP", "6.1.0-1-amd64"),
    (None, "Linux version 6.1.0-1-amd64", "6.1.0-1-amd64"),
    (None, "Linux 6.1.0-1-amd64 version", None),
    (None, "FreeBSD version 14.1", None),
    (None, "Linux version", None),
    (None, None, None),
])
def test_running_release(osrelease, version, release):
    assert running_release(osrelease, version) == release


CFG = "boot/grub/grub.cfg"
ENV = "boot/grub/grubenv"


def facts(files, default_grub="GRUB_DEFAULT=saved\n", **kwargs):
    return boot_facts(dict(files, **{"proc/sys/kernel/osrelease": "6.4.0-1-coco\n"}).get, default_grub, **kwargs)


def test_boot_facts_without_grub_cfg():
    boot = facts({})
    assert (boot["entries"], boot["next"], boot["next_via"], boot["next_reason"]) == ([], None, None, None)
    assert (boot["next_fallback"], boot["stale"]) == (False, False)
    assert "no readable grub.cfg" in boot["error"]


def test_boot_facts_without_grubenv_is_no_error():
    boot = facts({CFG: "menuentry 'a' {\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n"})
    assert boot["error"] is None
    assert (boot["saved_entry"], boot["next_entry"], boot["next"]["title"]) == (None, None, "a")


def test_boot_facts_read_grubenv_unset_values_as_none():
    files = {CFG: "set default=\"${saved_entry}\"\nmenuentry 'a' {\n}\nmenuentry 'b' {\n}\n",
             ENV: block("saved_entry=\nnext_entry=b\n")}
    boot = facts(files)
    assert (boot["saved_entry"], boot["next_entry"]) == (None, "b")
    assert (boot["next"]["title"], boot["next_via"]) == ("b", "next_entry")
    assert facts(dict(files, **{ENV: block("saved_entry=b\nnext_entry=\n")}))["next_entry"] is None


@pytest.mark.parametrize("cfg_text, error", [
    ("set default=0\n", None),                                   # no entries, no blscfg: nothing to say
    ("blscfg\nmenuentry 'custom' {\n  linux /boot/vmlinuz-6.4.0-1-coco\n}\n", None),
    ("insmod blscfg\nblscfg\n", "Boot Loader Specification"),
])
def test_boot_facts_mention_bls_only_when_it_hides_every_kernel(cfg_text, error):
    boot = facts({CFG: cfg_text})
    assert boot["error"] == error or error in boot["error"]
