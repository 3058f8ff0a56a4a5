# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parser and editor of /etc/default/grub; bash itself is the oracle for generated text."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    OptionError,
    split_cmdline,
    token_name,
    token_value,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import (
    GrubDefaultError,
    cmdline_tokens,
    edit_variable,
    find_assignments,
    set_variable_tokens,
)
from corpus import corpus_params

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "grub")
DEFAULT = "GRUB_CMDLINE_LINUX_DEFAULT"
LINUX = "GRUB_CMDLINE_LINUX"
SNP_CONFLICTS = [
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "iommu.passthrough", "value": "1", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "state": "absent"},
]
SNP_DEFAULT_OPTIONS = [{"name": "iommu", "value": "nopt", "state": "present"}] + SNP_CONFLICTS

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read().decode("utf-8")


def present(name, value=None):
    return {"name": name, "value": value, "state": "present"}


def absent(name, value=None):
    return {"name": name, "value": value, "state": "absent"}


def bash_values(tmp_path, text, names, env=None):
    """Values bash gives names after sourcing text (stdout and errors of the file ignored)."""
    path = tmp_path / "sourced"
    path.write_bytes(text.encode("utf-8"))
    script = 'set -f; source "$1" >/dev/null 2>&1; shift; for n in "$@"; do printf "%s\\0" "${!n}"; done'
    result = subprocess.run(["bash", "-c", script, "bash", str(path)] + list(names), env=dict(env or {}, PATH=os.environ["PATH"]),
                            stdout=subprocess.PIPE, check=True)
    return result.stdout.decode("utf-8").split("\0")[:-1]


def bash_tokens(tmp_path, text, name=DEFAULT, env=None):
    return split_cmdline(bash_values(tmp_path, text, [name], env)[0])


def bash_syntax_ok(tmp_path, text):
    path = tmp_path / "syntax"
    path.write_bytes(text.encode("utf-8"))
    return subprocess.run(["bash", "-n", str(path)], stderr=subprocess.PIPE, check=False).returncode == 0


class TestFindAssignments:
    def test_fixture_assignments_with_lines_and_spans(self):
        text = fixture("suse-passthrough.grub")
        (default,) = find_assignments(text, DEFAULT)
        assert default.lineno == 8
        assert default.quote == '"'
        assert default.token_texts[-3:] == ["iommu=pt", "crashkernel=256M,high", "crashkernel=72M,low"]
        assert text[default.value_start:default.value_end].startswith('"splash=silent')
        assert text[default.start:default.value_start] == DEFAULT + "="
        (linux,) = find_assignments(text, LINUX)
        assert linux.token_texts == ["amd_iommu=off", "console=tty0", "console=ttyS0,115200"]

    def test_commented_assignment_is_not_an_assignment(self):
        assert find_assignments('# GRUB_CMDLINE_LINUX_DEFAULT="x"\nA=1 # GRUB_CMDLINE_LINUX_DEFAULT=y\n', DEFAULT) == []

    def test_hash_inside_quotes_is_part_of_the_value(self):
        (found,) = find_assignments('GRUB_CMDLINE_LINUX_DEFAULT="a #b" # comment\n', DEFAULT)
        assert found.token_texts == ["a", "#b"]

    def test_quoting_styles(self):
        text = "A='x  y'\nB=z\nC=\nD=\"\"\nexport E=\"p q\"\n"
        assert [(a.quote, a.token_texts) for a in find_assignments(text, "A")] == [("'", ["x", "y"])]
        assert [(a.quote, a.token_texts) for a in find_assignments(text, "B")] == [("", ["z"])]
        assert [(a.quote, a.token_texts) for a in find_assignments(text, "C")] == [("", [])]
        assert [(a.quote, a.token_texts) for a in find_assignments(text, "D")] == [('"', [])]
        (exported,) = find_assignments(text, "E")
        assert exported.exported and exported.token_texts == ["p", "q"]

    def test_double_quote_escapes_decode_like_the_shell(self):
        (found,) = find_assignments(r'V="a\"b\" c\\d e\$f \x \`"' + "\n", "V")
        assert found.token_texts == ['a"b"', "c\\d", "e$f", "\\x", "`"]

    def test_kernel_quotes_inside_the_value_keep_one_token(self):
        (found,) = find_assignments('V="dyndbg=\\"file ccp.c +p\\" quiet"\n', "V")
        assert found.token_texts == ['dyndbg="file ccp.c +p"', "quiet"]
        assert token_value(found.token_texts[0]) == "file ccp.c +p"

    @needs_bash
    def test_dollar_without_a_name_is_a_plain_character(self, tmp_path):
        text = 'V="a $ b $"\n'
        assert find_assignments(text, "V")[0].token_texts == bash_tokens(tmp_path, text, "V") == ["a", "$", "b", "$"]

    def test_references_are_opaque_tokens(self):
        (found,) = find_assignments('V="$V ${W:-x y} $1 iommu=pt"\n', "V")
        assert found.token_texts == ["$V", "${W:-x y}", "$1", "iommu=pt"]

    def test_several_assignments_on_one_line(self):
        found = find_assignments("V=a; V='b c' W=1\n", "V")
        assert [a.token_texts for a in found] == [["a"], ["b", "c"]]

    def test_multiline_double_quoted_value(self):
        (found,) = find_assignments('V="a\n  b"\nW=1\n', "V")
        assert found.token_texts == ["a", "b"] and found.lineno == 1

    def test_command_substitution_elsewhere_is_followed(self):
        text = fixture("debian-style.grub")
        (found,) = find_assignments(text, DEFAULT)
        assert found.token_texts == ["quiet", "pci=nomsi", "pci=nommconf"] and found.quote == "'"
        assert find_assignments('X=$(echo ")" \'(\' $(true))\nV=1\n', "V")[0].token_texts == ["1"]

    def test_other_variable_with_a_longer_name_is_not_matched(self):
        assert find_assignments("GRUB_CMDLINE_LINUX_DEFAULT=a\n", LINUX) == []

    def test_bad_variable_name(self):
        with pytest.raises(ValueError, match="not a shell variable name"):
            find_assignments("", "1X")
        with pytest.raises(ValueError, match="not a shell variable name"):
            find_assignments("", None)

    def test_plain_assignment_is_not_exported(self):
        (found,) = find_assignments("V=a\n", "V")
        assert not found.exported

    def test_repr_names_variable_line_and_tokens(self):
        (found,) = find_assignments('A=1\nV="a b"\n', "V")
        assert repr(found) == "Assignment(V, line 2, ['a', 'b'])"

    def test_reference_at_the_very_end_of_the_file(self):
        assert find_assignments("V=$A", "V")[0].token_texts == ["$A"]

    @needs_bash
    def test_lone_dollar_at_the_very_end_of_the_file_is_plain_and_inside_the_text(self, tmp_path):
        text = "V=a$"
        (found,) = find_assignments(text, "V")
        assert found.token_texts == bash_tokens(tmp_path, text, "V") == ["a$"]
        assert (found.value_end, found.tokens[-1].end) == (len(text), len(text))

    def test_quoted_expansion_with_inner_quotes_is_one_reference(self):
        (found,) = find_assignments('V="${B:-"x y"} quiet"\n', "V")
        assert found.token_texts == ['${B:-"x y"}', "quiet"]

    def test_unclosed_quote_hint_only_for_a_quote_that_spans_lines(self):
        with pytest.raises(GrubDefaultError) as raised:
            find_assignments('A="x"\nV="y\n', "V")
        assert (raised.value.lineno, raised.value.message) == (2, "double quote opened here is never closed")

    @needs_bash
    @pytest.mark.parametrize("text, expected", [
        ("V='${X:-a b} c'\n", ["${X:-a", "b}", "c"]),
        ("V='a\\\\b c'\n", ["a\\\\b", "c"]),
        ('V="$\'a b\' c"\n', ["$'a", "b'", "c"]),
    ])
    def test_literal_dollar_and_backslash_split_like_the_shell(self, tmp_path, text, expected):
        assert find_assignments(text, "V")[0].token_texts == bash_tokens(tmp_path, text, "V") == expected


@pytest.mark.parametrize("text, lineno, message", [
    (None, 3, "double quote opened here is never closed; the quoted string that starts on line 2"),
    ("A=1\nB='x\n", 2, "single quote opened here is never closed"),
    ("A=1\n\nV=\"$(uname -r) quiet\"\n", 3, "command substitution"),
    ("V=`uname -r`\n", 1, "command substitution"),
    ("A=1\nV=\"a \\\n b\"\n", 2, "continues on the next line"),
    ("V=a\\\nb\n", 1, "line continuation"),
    ("V=\"a\"'b'\n", 1, "mixed quoting"),
    ("V=a\\ b\n", 1, "backslash escape"),
    ("V=$'a b'\n", 1, "$'...' quoting"),
    ("V=a\nV+=\" b\"\n", 2, "+= (append) is not supported"),
    ("if true; then\n  V=a\nfi\n", 2, "V is assigned inside an if"),
    ("V=a true\n", 1, "V is assigned as a prefix of the command 'true'"),
    ("A=1\ncat <<EOF\nV=x\nEOF\n", 2, "here-documents"),
    ("A=\"$(echo\n", 1, "$( opened here is never closed"),
    ("A=1\r\nV=\"quiet\"\r\n", 2, "carriage return"),
])
def test_content_it_cannot_follow_fails_with_line(text, lineno, message):
    text = fixture("unclosed-quote.grub") if text is None else text
    with pytest.raises(GrubDefaultError) as raised:
        edit_variable(text, "V" if "V" in text and DEFAULT not in text else DEFAULT, [present("iommu", "nopt")])
    assert raised.value.lineno == lineno
    assert message in raised.value.message
    assert str(raised.value).startswith("line %d: " % lineno)


ISSUE_FIRST = 'V="quiet iommu=pt"\n'


# Each form the shell may skip, run elsewhere or not keep: the edit fails naming the line.
@pytest.mark.parametrize("text, lineno, message", [
    (ISSUE_FIRST + 'false && V="x"\n', 2, "V is assigned in a && / || list"),
    (ISSUE_FIRST + 'true || V="x"\n', 2, "V is assigned in a && / || list"),
    (ISSUE_FIRST + 'V="x" && true\n', 2, "V is assigned in a && / || list"),
    (ISSUE_FIRST + 'f() { V="x"; }\n', 2, "V is assigned inside a function, which runs only when it is called"),
    (ISSUE_FIRST + 'f() {\n  V="x"\n}\n', 3, "inside a function"),
    (ISSUE_FIRST + 'f()\n(\n  V="x"\n)\n', 4, "inside a function"),
    (ISSUE_FIRST + 'function f {\n  V="x"\n}\n', 3, "inside a function"),
    (ISSUE_FIRST + 'function f() { V="x"; }\n', 2, "inside a function"),
    (ISSUE_FIRST + 'if false; then\n  :\nelse\n  V="x"\nfi\n', 5, "V is assigned inside an if"),
    (ISSUE_FIRST + 'if false; then :; elif true; then V="x"; fi\n', 2, "inside an if"),
    (ISSUE_FIRST + 'case a in\n  b) V="x" ;;\nesac\n', 3, "V is assigned inside a case"),
    (ISSUE_FIRST + 'case a in (b|c)\n  V="x"\nesac\n', 3, "inside a case"),
    (ISSUE_FIRST + 'for i in a; do V="x"; done\n', 2, "V is assigned inside a for or select loop"),
    (ISSUE_FIRST + 'while false; do\n  V="x"\ndone\n', 3, "V is assigned inside a while or until loop"),
    (ISSUE_FIRST + 'until true; do V="x"; done\n', 2, "inside a while or until loop"),
    (ISSUE_FIRST + '( V="x" )\n', 2, "V is assigned inside a ( ) subshell"),
    (ISSUE_FIRST + '{ V="x"; }\n', 2, "V is assigned inside a { } group"),
    (ISSUE_FIRST + 'V="x" | cat\n', 2, "V is assigned in a pipeline (|)"),
    (ISSUE_FIRST + 'V="x" &\n', 2, "V is assigned in a command run in the background (&)"),
    (ISSUE_FIRST + '! V="x"\n', 2, "V is assigned after ! or time"),
    (ISSUE_FIRST + 'V="x" >/dev/null\n', 2, "V is assigned on a line with a redirection"),
    (ISSUE_FIRST + 'V="x" 2>/dev/null\n', 2, "on a line with a redirection"),
    (ISSUE_FIRST + 'V="x" true\n', 2, "V is assigned as a prefix of the command 'true'"),
    (ISSUE_FIRST + 'declare V="x"\n', 2, "V is assigned as an argument of 'declare'"),
    (ISSUE_FIRST + 'return 0 2>/dev/null\nV="x"\n', 3, "after line 2, whose exit or return may stop the shell"),
    (ISSUE_FIRST + '[ -n "$A" ] || exit 0\nV="x"\n', 3, "after line 2"),
    (ISSUE_FIRST + 'unset V\n', 2, "a command names V"),
    (ISSUE_FIRST + 'read -r V < /etc/hostname\n', 2, "a command names V"),
    (ISSUE_FIRST + 'eval "V=x"\n', 2, "a command names V"),
    (ISSUE_FIRST + ': "${V:=x}"\n', 2, "V is assigned through ${V:=...}"),
    (ISSUE_FIRST + 'A="${V=x}"\n', 2, "V is assigned through ${V:=...}"),
    ('V=${X:-$(echo iommu=pt)}\n', 1, "uses command substitution"),
    ('V="${X:-$(echo iommu=pt)}"\n', 1, "uses command substitution"),
    ('V="quiet `echo iommu=pt`"\n', 1, "uses command substitution"),
    ('V="${X:-`echo iommu=pt`}"\n', 1, "uses command substitution"),
    ('V=${X:-`echo iommu=pt`}\n', 1, "uses command substitution"),
    ('V=$((1+2))\n', 1, "uses command substitution"),
    ('if true; then\n  A=1\n', 3, "unexpected end of the file where the shell expects 'fi'"),
    ('A=1\nfi\nV=a\n', 2, "unexpected 'fi' where the shell expects a command"),
    ('A=1 )\n', 1, "unexpected ')'"),
    ('cat < \nV=a\n', 1, "unexpected line end where the shell expects a file name"),
    ('echo a ()\nV=a\n', 1, "unexpected '(' where the shell expects a command argument"),
    (ISSUE_FIRST + '\\;V=b\n', 2, "a command names V"),
    (ISSUE_FIRST + 'if false; then :; elif V=x; then :; fi\n', 2, "V is assigned inside an if"),
    (ISSUE_FIRST + 'if true; then\n  f() { V=x; }\nfi\n', 3, "V is assigned inside an if"),
    ('V=a\\', 1, "backslash escape"),
    ('V=a"b c"\n', 1, "mixed quoting"),
    # The innermost reason is the one reported, whatever wraps it.
    (ISSUE_FIRST + '[ -n "$A" ] || exit 0\nif true; then V="x"; fi\n', 3, "V is assigned inside an if"),
    (ISSUE_FIRST + '{ V="x"; } &\n', 2, "V is assigned inside a { } group"),
    (ISSUE_FIRST + 'f() {\n  if true; then V="x"; fi\n}\n', 3, "V is assigned inside a function"),
    (ISSUE_FIRST + 'f() {\n  case a in b) V="x" ;; esac\n}\n', 3, "V is assigned inside a function"),
    (ISSUE_FIRST + 'if true; then export V="x"; fi\n', 2, "V is assigned inside an if"),
    (ISSUE_FIRST + 'if false; then :; else V="x"; fi\n', 2, "V is assigned inside an if"),
    (ISSUE_FIRST + 'for i in a; { V="x"; }\n', 2, "V is assigned inside a for or select loop"),
    (ISSUE_FIRST + 'function f ( V="x" )\n', 2, "V is assigned inside a function"),
    (ISSUE_FIRST + '[ -n "$A" ] || exit 0\nreturn 0 2>/dev/null\nV="x"\n', 4, "after line 2, whose exit"),
    (ISSUE_FIRST + 'V="x" 2 >/dev/null\n', 2, "V is assigned as a prefix of the command '2'"),
    (ISSUE_FIRST + 'declare V="x" >/dev/null\n', 2, "V is assigned as an argument of 'declare'"),
    # A failing redirection stops export before it assigns.
    (ISSUE_FIRST + 'export V="x" >/dev/null\n', 2, "V is assigned"),
    # Commands that assign V in ways the parser does not model.
    (ISSUE_FIRST + 'for V in a b; do :; done\n', 2, "a command names V"),
    (ISSUE_FIRST + 'export "V=x"\n', 2, "a command names V"),
    # A nameref (bash's declare/typeset/local -n) to V: assigning R assigns V.
    (ISSUE_FIRST + 'declare -n R=V\nR="x"\n', 2, "a command names V"),
    (ISSUE_FIRST + 'typeset -n R=V; R="x"\n', 2, "a command names V"),
    (ISSUE_FIRST + 'declare -gn R="V"\n', 2, "a command names V"),
    (ISSUE_FIRST + 'for i in ${V:=x}; do :; done\n', 2, "V is assigned through ${V:=...}"),
    (ISSUE_FIRST + '[[ -n ${V:=x} ]]\n', 2, "V is assigned through ${V:=...}"),
    # Not valid shell: refused at the first bad token rather than read past.
    ('( A=1 ) V=a\n', 1, "unexpected 'V=a' where the shell expects ';' or a line end"),
    ('A=1 && ; V=a\n', 1, "unexpected ';' where the shell expects a command"),
    ('for i in a b &\ndo :; done\nV=a\n', 1, "unexpected '&' where the shell expects ';' or a line end"),
    ('case ; in\n  a) A=1 ;;\nesac\nV=a\n', 1, "unexpected ';' where the shell expects a word to match"),
    ('case a in\n  b|) A=1 ;;\nesac\nV=a\n', 2, "unexpected ')' where the shell expects a case pattern"),
    ('function () { :; }\nV=a\n', 1, "unexpected '(' where the shell expects a function name"),
    ('function f x ) { :; }\nV=a\n', 1, "unexpected ')'"),
    ('[[ -n x\nV=a\n', 3, "unexpected end of the file where the shell expects ']]'"),
    ('A=b () { :; }\nV=a\n', 1, "unexpected '(' where the shell expects a command argument"),
    ('f (x { :; }\nV=a\n', 1, "unexpected '(' where the shell expects a command argument"),
    ("A=$'x\nV=a\n", 1, "$' quote opened here is never closed"),
    ('A=`x\nV=a\n', 1, "backquote opened here is never closed"),
    ("A=$(echo 'x)\nV=a\n", 1, "single quote opened here is never closed"),
    ('V=\\`${X}\n', 1, "backslash escape"),
    ('V="a\\\\$(echo iommu=pt)"\n', 1, "uses command substitution"),
    ('V="a\\$b $(echo iommu=pt)"\n', 1, "uses command substitution"),
    ('for ; do :; done\nV=a\n', 1, "unexpected ';' where the shell expects a variable name"),
    ('V=a\n( A=1\n', 3, "unexpected end of the file where the shell expects ')'"),
    # The outermost reason wins over the loop's own.
    (ISSUE_FIRST + 'f() {\n  while false; do V="x"; done\n}\n', 3, "V is assigned inside a function"),
    (ISSUE_FIRST + 'f() {\n  for i in a; do V="x"; done\n}\n', 3, "V is assigned inside a function"),
    # Only a number right before a redirection is a file descriptor.
    (ISSUE_FIRST + 'V="x">/dev/null\n', 2, "V is assigned on a line with a redirection"),
    (ISSUE_FIRST + 'V="x" 2;\n', 2, "V is assigned as a prefix of the command '2'"),
    (ISSUE_FIRST + '[ -n "$A" ] || return\nV="x"\n', 3, "after line 2, whose exit or return may stop the shell"),
    # The quoted string and the ${...} end on line 3: line 4 runs only if false succeeds.
    (ISSUE_FIRST + 'A="x$$("\nfalse &&\nB=")" V="x"\n', 4, "V is assigned in a && / || list"),
    (ISSUE_FIRST + 'A=${B:-x{}\nfalse &&\nC=} V="x"\n', 4, "V is assigned in a && / || list"),
])
def test_assignments_the_shell_may_not_keep_fail_with_line(text, lineno, message):
    with pytest.raises(GrubDefaultError) as raised:
        edit_variable(text, "V", [present("iommu", "nopt")])
    assert (raised.value.lineno, message in raised.value.message) == (lineno, True), raised.value.message


@needs_bash
def test_bash_assigns_through_a_nameref(tmp_path):
    """Why a declare that names V is refused: bash then assigns V through the other name."""
    assert bash_tokens(tmp_path, ISSUE_FIRST + 'declare -n R=V\nR="x"\n', "V") == ["x"]


def test_a_declare_of_another_variable_is_left_alone():
    result = edit_variable(ISSUE_FIRST + 'declare A="quiet"\n', "V", [present("iommu", "nopt")])
    assert "declare A=\"quiet\"" in result.text


@needs_bash
@pytest.mark.parametrize("tail", ['false && V="x"\n', 'f() { V="x"; }\n', 'function f {\n  V="x"\n}\n',
                                  'V="x" | cat\n', '( V="x" )\n', 'true || V="x"\n'])
def test_bash_keeps_the_first_value_where_the_old_editor_saw_a_last_one(tmp_path, tail):
    """Why those forms are refused: the second line is not what the shell keeps."""
    assert bash_tokens(tmp_path, ISSUE_FIRST + tail, "V") == ["quiet", "iommu=pt"]


# Forms around the variable that the parser follows; bash agrees on the value.
@needs_bash
@pytest.mark.parametrize("text", [
    'export V="a iommu=pt"\n',
    'A=1; V="a iommu=pt" B=2\n',
    'if [ -n "$V" ] && [[ $V == *x* || ( -z $A ) ]]; then\n  A="$V"\nfi\nV="a iommu=pt"\n',
    'f() {\n  echo "$V" | cat >/dev/null 2>&1\n}\nV="a iommu=pt"\n',
    'function g { :; }\ncase "$A" in\n  (x|y) B=1 ;;\n  *) B=2 ;&\nesac\nV="a iommu=pt"\n',
    'for ((i = 0; i < 2; i++)); do B=$i; done\n(( C = 1 ))\nV="a iommu=pt"\n',
    'for i in 1 2\ndo\n  B=$i\ndone\nwhile false; do :; done\nV="a iommu=pt"\n',
    'X=$(cat <(echo) 2>&1 || echo "${V}" \'x\')\ncat <<< "$V" >/dev/null &\nV="a iommu=pt"\n',
    'GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nexport V\nV="a iommu=pt"\n',
    'echo "${#V} ${!A}" >/dev/null\nV="a iommu=pt"\n',
    'V="x"\nV="a iommu=pt"\n',
    'A=1 \\\n  B=2\nV="a iommu=pt"\n',
    'for i do B=$i; done\nV="a iommu=pt"\n',
    'cat <(echo x) >/dev/null\nV="a iommu=pt"\n',
    "A=\\x;V=\"a iommu=pt\"\n",
    "A=$''\nV=\"a iommu=pt\"\n",
    "A=''\nV=\"a iommu=pt\"\n",
    'true & V="a iommu=pt"\n',
    'if true; then ( A=1 ) fi\nV="a iommu=pt"\n',
    'A=V; B="the V value"\nV="a iommu=pt"\n',
    'export A="V"\nV="a iommu=pt"\n',
    'V="a iommu=pt" \\\nB=2\n',
    'A="`echo \'"\'`"\nV="a iommu=pt"\n',
    'A="x (y" B="x {z"\nV="a iommu=pt"\n',
    "A=$'it\\'s' B=$'a\\\\'\nV=\"a iommu=pt\"\n",
    'A=``\nV="a iommu=pt"\n',
    'A=`echo a\\`b` B=`echo c\\\\`\nV="a iommu=pt"\n',
    # (( that does not close with )) is two subshells, not arithmetic.
    '((A=1); true)\nV="a iommu=pt"\n',
    # A backslash, quotes and backquotes inside $( ) and ${ } hide what would close them.
    'A=$(echo \\)) B=$(echo a\\b)\nV="a iommu=pt"\n',
    "A=$(echo '')\nV=\"a iommu=pt\"\n",
    'B=${A:-`echo }`}\nV="a iommu=pt"\n',
    # A nested ( or ${ opens a level; inside ${ } a bare { does not.
    'A=$(()) B=${C:-${D:-x}} E=$( (echo x) )\nV="a iommu=pt"\n',
    'A=${B:-${C:-x})} D=${B:-$$${C}x)} E=$(echo $())\nV="a iommu=pt"\n',
    'A=${B:-x{}\nV="a iommu=pt"\nC=}\n',
    'A=${B:-$$}\nV="a iommu=pt"\n',
    # $$ is a parameter: the ( { or quote after it opens nothing (no $(, ${ or $'...').
    "A=$$'\\'\nV=\"a iommu=pt\"\n",
    'A="x$$("\nV="a iommu=pt"\nB=")"\n',
    'A="$$"\nB="$$$(echo ")")"\nV="a iommu=pt"\n',
    'A=${B:-$${}\nV="a iommu=pt"\nC=}\n',
    '[[ -z $A ]] || B=1\nV="a iommu=pt"\n',
    # An escaped quote that ends the file.
    'V="a iommu=pt"\nA=\\\'',
])
def test_top_level_assignments_among_other_shell_are_edited(tmp_path, text):
    (result, bash) = (edit_variable(text, "V", [present("iommu", "nopt")]), bash_tokens(tmp_path, text, "V"))
    assert result.before == bash == ["a", "iommu=pt"]
    assert bash_tokens(tmp_path, result.text, "V") == ["a", "iommu=nopt"]


class TestEdit:
    def test_suse_fixture_only_the_value_changes(self, tmp_path):
        text = fixture("suse-passthrough.grub")
        result = edit_variable(text, DEFAULT, SNP_DEFAULT_OPTIONS)
        assert result.changed and result.warnings == [] and result.lineno == 8
        assert result.after == [t if t != "iommu=pt" else "iommu=nopt" for t in result.before]
        # The double space after the replaced token is the original separator of its neighbour.
        assert 'security=apparmor iommu=nopt  crashkernel=256M,high' in result.text
        old_lines, new_lines = text.split("\n"), result.text.split("\n")
        assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b] == [7]
        assert len(old_lines) == len(new_lines)
        if shutil.which("bash"):
            assert bash_tokens(tmp_path, result.text) == result.after

    def test_repeated_keys_and_single_quotes_kept(self, tmp_path):
        text = fixture("debian-style.grub")
        result = edit_variable(text, DEFAULT, SNP_DEFAULT_OPTIONS)
        assert "GRUB_CMDLINE_LINUX_DEFAULT='quiet pci=nomsi pci=nommconf iommu=nopt'\n" in result.text
        assert result.text.replace(" iommu=nopt'", "'") == text

    def test_leading_and_trailing_space_inside_quotes_kept(self):
        result = edit_variable('V=" a  b "\n', "V", [absent("a"), present("c")])
        assert result.text == 'V=" b c "\n'

    def test_unquoted_single_token_stays_unquoted(self):
        assert edit_variable("V=\n", "V", [present("iommu", "nopt")]).text == "V=iommu=nopt\n"
        assert edit_variable("V=quiet\n", "V", [absent("quiet")]).text == "V=\n"

    @needs_bash
    def test_unquoted_becoming_several_tokens_gets_double_quotes(self, tmp_path):
        result = edit_variable("V=quiet # keep\n", "V", [present("iommu", "nopt")])
        assert result.text == 'V="quiet iommu=nopt" # keep\n'
        assert bash_tokens(tmp_path, result.text, "V") == ["quiet", "iommu=nopt"]

    @needs_bash
    @pytest.mark.parametrize("original", ['V="quiet"\n', "V='quiet'\n", "V=quiet\n", "V=\n"])
    @pytest.mark.parametrize("value", ["a$b", "a`b`", "a\\b", "it's", "x$(id)", "${HOME}", "*"])
    def test_values_needing_quoting_reach_bash_literally(self, tmp_path, original, value):
        result = edit_variable(original, "V", [present("opt", value)])
        expected = split_cmdline(original.split("=", 1)[1].strip("\"'\n")) + ["opt=" + value]
        assert result.after == expected
        assert bash_tokens(tmp_path, result.text, "V", env={"b": "NO", "HOME": "NO"}) == expected
        assert edit_variable(result.text, "V", [present("opt", value)]).changed is False

    @needs_bash
    def test_references_preserved_and_expanded_by_bash(self, tmp_path):
        text = fixture("drop-in-self-reference.cfg")
        result = edit_variable(text, DEFAULT, SNP_DEFAULT_OPTIONS)
        assert result.text == text.replace("iommu=pt", "iommu=nopt")
        assert bash_tokens(tmp_path, result.text, env={DEFAULT: "quiet splash"}) == ["quiet", "splash", "iommu=nopt"]
        linux = edit_variable(result.text, LINUX, [absent("console")])
        assert 'export GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX}"\n' in linux.text
        assert bash_tokens(tmp_path, linux.text, LINUX, env={LINUX: "ro"}) == ["ro"]

    def test_final_newline_absence_is_kept_when_editing(self):
        text = fixture("no-final-newline.grub")
        result = edit_variable(text, DEFAULT, SNP_DEFAULT_OPTIONS)
        assert result.text == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=nopt" # no newline at the end'

    @needs_bash
    @pytest.mark.parametrize("text, expected, lineno", [
        ("A=1\n", 'A=1\nGRUB_CMDLINE_LINUX_DEFAULT="iommu=nopt"\n', 2),
        ("A=1", 'A=1\nGRUB_CMDLINE_LINUX_DEFAULT="iommu=nopt"', 2),
        ("", 'GRUB_CMDLINE_LINUX_DEFAULT="iommu=nopt"\n', 1),
        ("# only a comment", '# only a comment\nGRUB_CMDLINE_LINUX_DEFAULT="iommu=nopt"', 2),
    ])
    def test_missing_variable_is_appended_double_quoted(self, tmp_path, text, expected, lineno):
        result = edit_variable(text, DEFAULT, SNP_DEFAULT_OPTIONS)
        assert (result.text, result.before, result.after, result.lineno) == (expected, [], ["iommu=nopt"], lineno)
        assert bash_tokens(tmp_path, result.text) == ["iommu=nopt"]
        assert not edit_variable(result.text, DEFAULT, SNP_DEFAULT_OPTIONS).changed

    def test_missing_variable_and_nothing_to_add_is_no_change(self):
        result = edit_variable("A=1\n", DEFAULT, SNP_CONFLICTS)
        assert (result.text, result.changed, result.lineno) == ("A=1\n", False, None)

    def test_several_assignments_edit_the_last_and_warn(self):
        text = 'V="iommu=pt a"\nB=1\nV="iommu=pt b"\n'
        result = edit_variable(text, "V", [absent("iommu")])
        assert result.text == 'V="iommu=pt a"\nB=1\nV="b"\n'
        assert result.lineno == 3
        assert result.warnings == ["V is assigned 2 times (lines 1, 3); the shell keeps the last one, so only line 3 is edited"]

    def test_several_assignments_with_self_reference_say_so(self):
        result = edit_variable('V="iommu=pt"\nV="$V quiet"\n', "V", [absent("iommu")])
        assert not result.changed
        assert "expands $V, so tokens of the earlier lines still reach the kernel" in result.warnings[0]

    def test_unchanged_text_is_identical(self):
        text = 'V=" quiet  iommu=nopt "\n'
        result = edit_variable(text, "V", SNP_DEFAULT_OPTIONS)
        assert (result.changed, result.text) == (False, text)

    def test_bad_options_raise_before_anything(self):
        with pytest.raises(OptionError):
            edit_variable("V=a\n", "V", [present("a b")])


@pytest.mark.parametrize("name", ["suse-passthrough.grub", "debian-style.grub", "drop-in-self-reference.cfg",
                                  "no-final-newline.grub"])
def test_fixture_edits_are_idempotent(name):
    text = fixture(name)
    for variable, options in ((DEFAULT, SNP_DEFAULT_OPTIONS), (LINUX, SNP_CONFLICTS)):
        once = edit_variable(text, variable, options)
        twice = edit_variable(once.text, variable, options)
        assert not twice.changed and twice.text == once.text
        text = once.text


def test_cmdline_tokens_linux_then_default():
    text = fixture("suse-passthrough.grub")
    assert cmdline_tokens(text)[:4] == ["amd_iommu=off", "console=tty0", "console=ttyS0,115200", "splash=silent"]
    assert cmdline_tokens("A=1\n") == []


@needs_bash
@pytest.mark.parametrize("text, options, expected, tokens", [
    # A kept token that ends with an escape keeps its exact spelling.
    ('V="dyndbg=\\"file ccp.c +p\\" quiet"\n', [absent("quiet")], 'V="dyndbg=\\"file ccp.c +p\\""\n',
     ['dyndbg="file ccp.c +p"']),
    ('V="a\\ b c"\n', [absent("c")], 'V="a\\ b"\n', ["a\\", "b"]),
    # A new token goes after the last one, before the space that ends the value.
    ('V="x a\\ "\n', [present("quiet")], 'V="x a\\ quiet "\n', ["x", "a\\", "quiet"]),
    # A new token with a quote in a double-quoted value leaves the references alone.
    ('V="$X quiet"\n', [present("opt", "it's")], 'V="$X quiet opt=it\'s"\n', ["NO", "quiet", "opt=it's"]),
    # Single quotes turn into double quotes: the kept tokens are escaped for them.
    ("V='$X quiet'\n", [present("opt", "it's")], 'V="\\$X quiet opt=it\'s"\n', ["$X", "quiet", "opt=it's"]),
])
def test_edited_value_reaches_bash_as_planned(tmp_path, text, options, expected, tokens):
    result = edit_variable(text, "V", options)
    assert result.text == expected
    assert bash_tokens(tmp_path, result.text, "V", env={"X": "NO"}) == tokens


@pytest.mark.parametrize("text, tokens, expected", [
    # A token inserted before the first one; the first keeps its place.
    ('V="a b"\n', ["x", "a", "b"], 'V="x a b"\n'),
    # Kept references stay references; kept spacing stays.
    ('V="$V  quiet"\n', ["$V", "quiet", "splash"], 'V="$V  quiet splash"\n'),
    # Replaced tokens take the places (and spacing) of the ones they replace.
    ('V="a  b"\n', ["x", "y", "z"], 'V="x  y z"\n'),
])
def test_set_variable_tokens_places(text, tokens, expected):
    result = set_variable_tokens(text, "V", tokens)
    assert (result.text, result.after) == (expected, tokens)
    assert set_variable_tokens(result.text, "V", tokens).changed is False


def test_set_variable_tokens_long_line_with_repeated_tokens_keeps_them_as_written():
    # Command lines can hold a few hundred tokens; a repeated one between replaced ones is still kept.
    before = [token for index in range(4) for token in ("a%d=1" % index, "$V")] + ["opt%d=1" % index for index in range(192)]
    tokens = [token for index in range(4) for token in ("b%d=1" % index, "$V")] + before[8:]
    result = set_variable_tokens('V="%s"\n' % " ".join(before), "V", tokens)
    assert result.text == 'V="%s"\n' % " ".join(tokens)


def test_set_variable_tokens_keeps_spacing_of_kept_tokens():
    result = set_variable_tokens('V=" a  b   c"\n', "V", ["a", "x", "c", "d"])
    assert result.text == 'V=" a  x   c d"\n'
    assert set_variable_tokens(result.text, "V", ["a", "x", "c", "d"]).changed is False


def _value_span(text, variable):
    found = find_assignments(text, variable)
    return (found[-1].value_start, found[-1].value_end) if found else None


@pytest.mark.parametrize("path", corpus_params("grub", suffixes=[".grub"]))
def test_corpus_grub_files_take_the_snp_edit(tmp_path, path):
    with open(path, "rb") as handle:
        original = handle.read().decode("utf-8")
    text = original
    edits = []
    for variable, options in ((DEFAULT, SNP_DEFAULT_OPTIONS), (LINUX, SNP_CONFLICTS)):
        span = _value_span(text, variable)
        result = edit_variable(text, variable, options)
        assert not edit_variable(result.text, variable, options).changed, "second apply changes nothing"
        if span is not None:
            # Every byte outside the edited value is unchanged.
            start, end = span
            assert result.text[:start] == text[:start]
            assert result.text[len(result.text) - (len(text) - end):] == text[end:]
        elif result.changed:
            assert result.text.startswith(text.rstrip("\n"))
            assert result.text.count("\n") - text.count("\n") in (0, 1)
        conflicting = {("iommu", "pt"), ("iommu.passthrough", "1"), ("amd_iommu", "off")}
        kept = [t for t in result.before if token_name(t) != "iommu" and (token_name(t), token_value(t)) not in conflicting]
        assert [t for t in result.after if token_name(t) != "iommu"] == kept, "unrelated tokens kept in order"
        edits.append(result)
        text = result.text
    combined = cmdline_tokens(text)
    assert [t for t in combined if token_name(t) == "iommu"] == ["iommu=nopt"]
    if shutil.which("bash"):
        linux, default = bash_values(tmp_path, text, [LINUX, DEFAULT])
        assert split_cmdline(default) == edits[0].after
        assert split_cmdline(linux) == edits[1].after
        assert bash_syntax_ok(tmp_path, text) == bash_syntax_ok(tmp_path, original)
        assert re.search(r"\biommu=nopt\b", default)
