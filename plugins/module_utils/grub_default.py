# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and edit shell-style variable assignments of /etc/default/grub text.

grub-mkconfig sources /etc/default/grub with the shell, so the file is shell. This parser
understands enough of it to find every assignment of a variable with exact byte offsets,
which lets an edit replace one value and leave every other byte alone. It never guesses:
anything that would make the value of the edited variable depend on shell behaviour it does
not model (command substitution, mixed quoting, a line continuation inside the value, an
assignment inside ``if``/``case``/a command prefix, ``+=``) raises GrubDefaultError with
the line number.

Supported forms of the edited variable (with or without a leading ``export``)::

    VAR="a b $OTHER"     double quotes; \\" \\\\ \\$ \\` escapes; $VAR / ${VAR} kept as tokens
    VAR='a b'            single quotes
    VAR=a  VAR=          unquoted, a single word (quoted with double quotes once it needs it)

The value splits into kernel command line tokens on whitespace outside double quotes
(the kernel honours ``foo="a b"``); a token's text is the value as the shell produces it,
except that ``$VAR`` references are left as written. No filesystem access here.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import namedtuple

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import plan_options

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ASSIGNMENT_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_SPECIAL_PARAMETERS = "@*#?$!-0123456789"
_OPERATORS = "()<>"
_SEPARATORS = ";&|"
_BLANKS = " \t"
_VALUE_WHITESPACE = " \t\n"
# Characters that need no quoting in an unquoted assignment value.
_UNQUOTED_SAFE_RE = re.compile(r"[A-Za-z0-9_.,:/=+@%-]+\Z")
_OPENERS = ("if", "case", "for", "while", "until", "select", "{", "(")
_CLOSERS = ("fi", "esac", "done", "}", ")")

LINUX = "GRUB_CMDLINE_LINUX"
LINUX_DEFAULT = "GRUB_CMDLINE_LINUX_DEFAULT"


class GrubDefaultError(ValueError):
    """Shell content the parser cannot follow; ``lineno`` is 1-based."""

    def __init__(self, message, lineno):
        self.message = message
        self.lineno = lineno
        super(GrubDefaultError, self).__init__("line %d: %s" % (lineno, message))


Segment = namedtuple("Segment", "kind start end")
Word = namedtuple("Word", "start end segments")
Token = namedtuple("Token", "text start end")
EditResult = namedtuple("EditResult", "text changed before after warnings lineno")


class Assignment(object):
    """One assignment ``[export ]NAME=value`` with the offsets an edit needs.

    ``value_start``/``value_end`` span the value including its quotes; ``body_start``/
    ``body_end`` span the text between the quotes; ``quote`` is ``"``, ``'`` or empty;
    ``tokens`` are Token(text, start, end) with offsets into the whole text.
    """

    def __init__(self, variable, lineno, start, value_start, value_end, quote, exported, tokens):
        self.variable = variable
        self.lineno = lineno
        self.start = start
        self.value_start = value_start
        self.value_end = value_end
        self.quote = quote
        self.exported = exported
        self.body_start = value_start + len(quote)
        self.body_end = value_end - len(quote)
        self.tokens = tokens

    @property
    def token_texts(self):
        return [token.text for token in self.tokens]

    def __repr__(self):
        return "Assignment(%s, line %d, %r)" % (self.variable, self.lineno, self.token_texts)


class _Lines(object):
    def __init__(self, text):
        self._newlines = [index for index, char in enumerate(text) if char == "\n"]

    def of(self, offset):
        return bisect.bisect_left(self._newlines, offset) + 1


class _Lexer(object):
    """Splits shell text into simple commands made of words with quoting segments."""

    def __init__(self, text):
        self.text = text
        self.lines = _Lines(text)
        # Starts of quoted strings that span lines: the usual culprit of a quote left open later.
        self.multiline_quotes = []

    def fail(self, message, offset):
        raise GrubDefaultError(message, self.lines.of(offset))

    def fail_unclosed(self, what, offset):
        message = "%s opened here is never closed" % what
        if self.multiline_quotes:
            first = self.multiline_quotes[0]
            message += ("; the quoted string that starts on line %d spans several lines, so a closing quote "
                        "missing there would explain it" % self.lines.of(first))
        self.fail(message, offset)

    def _closed(self, start, end):
        if "\n" in self.text[start:end]:
            self.multiline_quotes.append(start)
        return end

    def commands(self):
        text = self.text
        length = len(text)
        commands = []
        words = []
        pos = 0
        while pos < length:
            char = text[pos]
            if char in _BLANKS:
                pos += 1
            elif char == "\n" or char in _SEPARATORS:
                if words:
                    commands.append(words)
                    words = []
                pos += 1
            elif char == "#":
                end = text.find("\n", pos)
                pos = length if end < 0 else end
            elif char == "\\" and text.startswith("\n", pos + 1):
                pos += 2
            elif char in _OPERATORS:
                if text.startswith("<<", pos):
                    self.fail("here-documents are not supported; keep this file to plain assignments", pos)
                words.append(Word(pos, pos + 1, [Segment("operator", pos, pos + 1)]))
                pos += 1
            else:
                word = self._word(pos)
                words.append(word)
                pos = word.end
        if words:
            commands.append(words)
        return commands

    def _word(self, start):
        text = self.text
        length = len(text)
        segments = []
        pos = start
        plain_start = None

        def flush(end):
            if plain_start is not None:
                segments.append(Segment("plain", plain_start, end))

        while pos < length:
            char = text[pos]
            if char in _BLANKS or char == "\n" or char in _SEPARATORS or char in _OPERATORS:
                break
            special = self._special(pos)
            if special is None:
                if plain_start is None:
                    plain_start = pos
                pos += 1
                continue
            flush(pos)
            plain_start = None
            segments.append(special)
            pos = special.end
        flush(pos)
        return Word(start, pos, segments)

    def _special(self, pos):
        """The quoting or expansion segment starting at pos, or None for a plain character."""
        text = self.text
        char = text[pos]
        if char == "'":
            end = text.find("'", pos + 1)
            if end < 0:
                self.fail_unclosed("single quote", pos)
            return Segment("sq", pos, self._closed(pos, end + 1))
        if char == '"':
            return Segment("dq", pos, self._double_quoted_end(pos))
        if char == "`":
            return Segment("cmdsub", pos, self._backquote_end(pos))
        if char == "\\":
            if pos + 1 >= len(text):
                return Segment("escape", pos, pos + 1)
            kind = "continuation" if text[pos + 1] == "\n" else "escape"
            return Segment(kind, pos, pos + 2)
        if char == "$":
            nxt = text[pos + 1:pos + 2]
            if nxt == "'":
                return Segment("ansi", pos, self._ansi_end(pos))
            if nxt == "(":
                return Segment("cmdsub", pos, self._paren_end(pos))
            if nxt == "{":
                return Segment("expand", pos, self._brace_end(pos))
            if nxt and (nxt.isalpha() or nxt == "_"):
                end = pos + 2
                while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                    end += 1
                return Segment("expand", pos, end)
            if nxt and nxt in _SPECIAL_PARAMETERS:
                return Segment("expand", pos, pos + 2)
        return None

    def _double_quoted_end(self, start):
        text = self.text
        pos = start + 1
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                pos += 2
            elif char == '"':
                return self._closed(start, pos + 1)
            elif char == "`":
                pos = self._backquote_end(pos)
            elif char == "$" and text.startswith("(", pos + 1):
                pos = self._paren_end(pos)
            elif char == "$" and text.startswith("{", pos + 1):
                pos = self._brace_end(pos)
            else:
                pos += 1
        self.fail_unclosed("double quote", start)

    def _ansi_end(self, start):
        text = self.text
        pos = start + 2
        while pos < len(text):
            if text[pos] == "\\":
                pos += 2
            elif text[pos] == "'":
                return pos + 1
            else:
                pos += 1
        self.fail_unclosed("$' quote", start)

    def _backquote_end(self, start):
        text = self.text
        pos = start + 1
        while pos < len(text):
            if text[pos] == "\\":
                pos += 2
            elif text[pos] == "`":
                return pos + 1
            else:
                pos += 1
        self.fail_unclosed("backquote", start)

    def _nested_end(self, start, opening, closing, what):
        text = self.text
        depth = 1
        pos = start + 2
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                pos += 2
            elif char == "'":
                end = text.find("'", pos + 1)
                if end < 0:
                    self.fail_unclosed("single quote", pos)
                pos = end + 1
            elif char == '"':
                pos = self._double_quoted_end(pos)
            elif char == "`":
                pos = self._backquote_end(pos)
            elif char == opening:
                depth += 1
                pos += 1
            elif char == closing:
                depth -= 1
                pos += 1
                if depth == 0:
                    return pos
            else:
                pos += 1
        self.fail_unclosed(what, start)

    def _paren_end(self, start):
        return self._nested_end(start, "(", ")", "$(")

    def _brace_end(self, start):
        return self._nested_end(start, "{", "}", "${")


def _check_variable_name(variable):
    if not isinstance(variable, str) or not _NAME_RE.match(variable):
        raise ValueError("%r is not a shell variable name (letters, digits and _, not starting with a digit)"
                         % (variable,))


def _assigned_name(text, word):
    """(name, is_append) when word is NAME=... or NAME+=..., else None."""
    first = word.segments[0] if word.segments else None
    if first is None or first.kind != "plain":
        return None
    match = _ASSIGNMENT_RE.match(text, first.start, first.end)
    if not match:
        return None
    return match.group(1), bool(match.group(2)), match.end()


def find_assignments(text, variable):
    """Every assignment of variable that the shell keeps, in file order (a list of Assignment).

    Raises GrubDefaultError for content around the variable that the parser cannot follow.
    """
    _check_variable_name(variable)
    lexer = _Lexer(text)
    found = []
    depth = 0
    for words in lexer.commands():
        first = text[words[0].start:words[0].end]
        exported = first == "export"
        body = words[1:] if exported else words
        plain = bool(body) and all(_assigned_name(text, word) for word in body)
        for word in words:
            assigned = _assigned_name(text, word)
            if not assigned or assigned[0] != variable:
                continue
            _name, is_append, value_start = assigned
            if is_append:
                lexer.fail("%s+= (append) is not supported; write one plain %s=\"...\" assignment"
                           % (variable, variable), word.start)
            if not plain or depth > 0:
                lexer.fail("%s is assigned inside a compound command or as a command prefix; the "
                           "module only edits plain top-level assignments" % variable, word.start)
            found.append(_parse_assignment(lexer, variable, word, value_start, exported))
        if first in _OPENERS:
            depth += 1
        elif first in _CLOSERS:
            depth = max(0, depth - 1)
    return found


def _parse_assignment(lexer, variable, word, value_start, exported):
    text = lexer.text
    segments = list(word.segments)
    head = segments.pop(0)
    if value_start < head.end:
        segments.insert(0, Segment("plain", value_start, head.end))
    kinds = [segment.kind for segment in segments]
    carriage_return = text.find("\r", value_start, word.end)
    if carriage_return >= 0:
        lexer.fail("the value of %s contains a carriage return (Windows line endings?); the shell keeps it "
                   "as part of the value, convert the file to Unix line endings" % variable, carriage_return)
    for segment in segments:
        if segment.kind == "cmdsub" or (segment.kind == "dq" and _has_command_substitution(text, segment)):
            lexer.fail("the value of %s uses command substitution; the module cannot know its tokens"
                       % variable, segment.start)
    if not segments:
        quote = ""
    elif kinds == ["dq"]:
        quote = '"'
    elif kinds == ["sq"]:
        quote = "'"
    elif all(kind in ("plain", "expand") for kind in kinds):
        quote = ""
    else:
        offending = [segment for segment in segments if segment.kind not in ("plain", "expand")]
        what = {"continuation": "a line continuation", "escape": "a backslash escape", "ansi": "$'...' quoting"}
        reason = what.get(offending[0].kind, "mixed quoting")
        lexer.fail("the value of %s uses %s the module cannot follow; write it as one double-quoted string "
                   "on one line, e.g. %s=\"quiet splash\"" % (variable, reason, variable), offending[0].start)
    body_start = value_start + len(quote)
    body_end = word.end - len(quote)
    tokens = _tokenize_body(lexer, variable, quote, body_start, body_end)
    return Assignment(variable, lexer.lines.of(word.start), word.start, value_start, word.end, quote,
                      exported, tokens)


def _has_command_substitution(text, segment):
    pos = segment.start + 1
    while pos < segment.end - 1:
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "`" or text.startswith("$(", pos):
            return True
        pos += 1
    return False


def _units(lexer, variable, quote, start, end):
    """(decoded text, raw start, raw end, is_reference) for each character or reference."""
    text = lexer.text
    units = []
    pos = start
    while pos < end:
        char = text[pos]
        if quote == "'":
            units.append((char, pos, pos + 1, False))
            pos += 1
            continue
        if char == "\\" and quote == '"':
            nxt = text[pos + 1:pos + 2]
            if nxt == "\n":
                lexer.fail("the value of %s continues on the next line with a backslash; put it on one line"
                           % variable, pos)
            if nxt in ('"', "\\", "$", "`"):
                units.append((nxt, pos, pos + 2, False))
                pos += 2
                continue
            units.append((char, pos, pos + 1, False))
            pos += 1
            continue
        if char == "$":
            special = lexer._special(pos)
            if special is not None and special.kind == "expand":
                units.append((text[special.start:special.end], special.start, special.end, True))
                pos = special.end
                continue
        units.append((char, pos, pos + 1, False))
        pos += 1
    return units


def _tokenize_body(lexer, variable, quote, start, end):
    tokens = []
    current = []
    in_quote = False
    for unit in _units(lexer, variable, quote, start, end):
        decoded, _raw_start, _raw_end, is_reference = unit
        if decoded == '"' and not is_reference:
            in_quote = not in_quote
        if decoded in _VALUE_WHITESPACE and not is_reference and not in_quote:
            if current:
                tokens.append(_token(current))
                current = []
            continue
        current.append(unit)
    if current:
        tokens.append(_token(current))
    return tokens


def _token(units):
    return Token("".join(unit[0] for unit in units), units[0][1], units[-1][2])


def last_assignment_tokens(text, variable):
    """Tokens of the last assignment of variable (empty when it is never assigned)."""
    found = find_assignments(text, variable)
    return found[-1].token_texts if found else []


def cmdline_tokens(text):
    """Tokens grub-mkconfig puts on the normal boot entry: GRUB_CMDLINE_LINUX, then _DEFAULT.

    ``$VAR`` references stay as opaque tokens.
    """
    return last_assignment_tokens(text, LINUX) + last_assignment_tokens(text, LINUX_DEFAULT)


def _encode(token, quote):
    if quote == '"':
        return re.sub(r'([\\"$`])', r"\\\1", token)
    return token


def _render(text, assignment, items):
    """New value text (with quotes) of assignment for plan items (text, origin, slot)."""
    tokens = assignment.tokens
    body = text[assignment.body_start:assignment.body_end]
    offset = assignment.body_start
    if tokens:
        lead = body[:tokens[0].start - offset]
        trail = body[tokens[-1].end - offset:]
        separators = [None] + [text[tokens[i - 1].end:tokens[i].start] for i in range(1, len(tokens))]
    else:
        lead, trail, separators = body, "", []
    quote = assignment.quote
    new_tokens = [token for token, origin, _slot in items if origin is None]
    if quote == "" and (len(items) > 1 or any(not _UNQUOTED_SAFE_RE.match(token) for token in new_tokens)):
        quote = '"'
    # '\'' would be mixed quoting; double quotes say the same in a form this parser reads back.
    requote = quote == "'" and any("'" in token for token in new_tokens)
    if requote:
        quote = '"'
    parts = [lead]
    for position, (token, origin, slot) in enumerate(items):
        if position:
            separator = separators[slot] if slot is not None and slot > 0 else " "
            parts.append(separator)
        if origin is not None and requote:
            parts.append(_encode(tokens[origin].text, quote))
        elif origin is not None:
            parts.append(text[tokens[origin].start:tokens[origin].end])
        else:
            parts.append(_encode(token, quote))
    parts.append(trail)
    return quote + "".join(parts) + quote


def _new_assignment(text, variable, tokens):
    """(new text, line number of the appended assignment)."""
    line = '%s="%s"' % (variable, " ".join(_encode(token, '"') for token in tokens))
    if not text:
        return line + "\n", 1
    if text.endswith("\n"):
        return text + line + "\n", text.count("\n") + 1
    # The file had no final newline; keep it that way.
    return text + "\n" + line, text.count("\n") + 2


def _several_warning(variable, found):
    lines = ", ".join(str(assignment.lineno) for assignment in found)
    message = ("%s is assigned %d times (lines %s); the shell keeps the last one, so only line %d is edited"
               % (variable, len(found), lines, found[-1].lineno))
    references = ("$" + variable, "${" + variable + "}")
    if any(reference in token for token in found[-1].token_texts for reference in references):
        message += ("; that line expands $%s, so tokens of the earlier lines still reach the kernel: "
                    "check them by hand" % variable)
    return message


def _edit(text, variable, plan):
    found = find_assignments(text, variable)
    warnings = [_several_warning(variable, found)] if len(found) > 1 else []
    if not found:
        items = plan([])
        after = [token for token, _origin, _slot in items]
        if not after:
            return EditResult(text, False, [], [], warnings, None)
        new_text, lineno = _new_assignment(text, variable, after)
        return EditResult(new_text, True, [], after, warnings, lineno)
    assignment = found[-1]
    before = assignment.token_texts
    items = plan(before)
    after = [token for token, _origin, _slot in items]
    unchanged = [origin for _token, origin, _slot in items] == list(range(len(before)))
    if unchanged:
        return EditResult(text, False, before, after, warnings, assignment.lineno)
    value = _render(text, assignment, items)
    new_text = text[:assignment.value_start] + value + text[assignment.value_end:]
    return EditResult(new_text, new_text != text, before, after, warnings, assignment.lineno)


def edit_variable(text, variable, options):
    """Apply kernel command line options (see cmdline.apply_options) to variable in text.

    Edits the last assignment (the one the shell keeps), or appends a double-quoted
    assignment when there is none and the options add something. Returns EditResult(text,
    changed, before, after, warnings, lineno). Raises GrubDefaultError for content it
    cannot follow and cmdline.OptionError for bad options; text is never half-edited.
    """
    _check_variable_name(variable)
    return _edit(text, variable, lambda tokens: plan_options(tokens, options))


def set_variable_tokens(text, variable, tokens):
    """Make variable hold exactly tokens, keeping the spelling and spacing of tokens that stay."""
    _check_variable_name(variable)
    tokens = [str(token) for token in tokens]

    def plan(before):
        items = []
        matcher = difflib.SequenceMatcher(a=before, b=tokens, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for offset, j in enumerate(range(j1, j2)):
                if tag == "equal":
                    items.append((tokens[j], i1 + offset, i1 + offset))
                else:
                    slot = i1 + offset if i1 + offset < i2 else None
                    items.append((tokens[j], None, slot))
        return items

    return _edit(text, variable, plan)
