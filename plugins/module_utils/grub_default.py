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
# Shell operators, longest first so that "&&" is not read as two "&".
_OPERATOR_TEXTS = (";;&", "&>>", "<<<", "<<-", "&&", "||", ";;", ";&", "|&", "&>", ">>", "<&", ">&", "<>", ">|",
                   "<<", ";", "&", "|", "(", ")", "<", ">", "\n")
_REDIRECTIONS = frozenset(("<", ">", ">>", "<&", ">&", "<>", ">|", "&>", "&>>", "<<<"))
_COMMAND_ENDS = frozenset((";", "&", "&&", "||", "|", "|&", ";;", ";&", ";;&", ")", "\n"))
_CASE_ENDS = (";;", ";&", ";;&")
# Reserved words that only close or continue a compound command.
_CONTINUATIONS = frozenset(("then", "elif", "else", "fi", "do", "done", "esac", "}"))
_STOPPERS = ("exit", "return")
# Commands whose NAME=VALUE arguments can make NAME a reference to another variable (bash's
# nameref, -n): a value that names the variable is then an assignment to it.
_DECLARERS = ("declare", "typeset", "local")

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
Op = namedtuple("Op", "text start end")
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

    def tokens(self):
        """Words and operators (Op, newlines included) of the text; comments dropped."""
        text = self.text
        length = len(text)
        tokens = []
        pos = 0
        while pos < length:
            char = text[pos]
            if char in _BLANKS:
                pos += 1
            elif char == "#":
                end = text.find("\n", pos)
                pos = length if end < 0 else end
            elif char == "\\" and text.startswith("\n", pos + 1):
                pos += 2
            elif char in "<>" and text.startswith("(", pos + 1):
                # Process substitution <(...) or >(...): one word, run by the shell.
                end = self._paren_end(pos)
                tokens.append(Word(pos, end, [Segment("cmdsub", pos, end)]))
                pos = end
            elif text.startswith("((", pos) and self._arithmetic_end(pos):
                end = self._arithmetic_end(pos)
                tokens.append(Word(pos, end, [Segment("arith", pos, end)]))
                pos = end
            elif char in _OPERATORS or char in _SEPARATORS or char == "\n":
                operator = next(op for op in _OPERATOR_TEXTS if text.startswith(op, pos))
                if operator in ("<<", "<<-"):
                    self.fail("here-documents are not supported; keep this file to plain assignments", pos)
                tokens.append(Op(operator, pos, pos + len(operator)))
                pos += len(operator)
            else:
                word = self._word(pos)
                tokens.append(word)
                pos = word.end
        return tokens

    def _arithmetic_end(self, start):
        """End of ((...)) starting at start, or None when the parentheses are two subshells."""
        end = self._nested_end(start, "(", ")", "((")
        return end + 1 if self.text.startswith(")", end) else None

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
            elif char == "$" and text.startswith("$", pos + 1):
                # $$ is a parameter: a ( or { right after it opens nothing.
                pos += 2
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
            elif char == "$" and text.startswith("$", pos + 1):
                pos += 2
            elif char == "$" and text.startswith(opening, pos + 1):
                depth += 1
                pos += 2
            elif char == opening and opening == "(":
                # Inside ${...} only a nested ${ opens a level; a bare { is a plain character.
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

    Only assignments the shell certainly runs count: simple commands of plain assignments
    (with or without ``export``) at the top level of the file. Raises GrubDefaultError, with
    the line, for an assignment of variable anywhere else (if, case, loops, functions,
    subshells, brace groups, ``&&``/``||`` lists, pipelines, the background, command
    prefixes, after ``exit``/``return``), for any other command that names variable, and
    for content around it that the parser cannot follow.
    """
    _check_variable_name(variable)
    lexer = _Lexer(text)
    found = []
    for event in _Parser(lexer, variable).parse():
        if event.problem:
            lexer.fail(event.problem, event.offset)
        word = event.word
        _name, is_append, value_start = _assigned_name(text, word)
        if is_append:
            lexer.fail("%s+= (append) is not supported; write one plain %s=\"...\" assignment"
                       % (variable, variable), word.start)
        if event.reason:
            lexer.fail("%s is assigned %s, so the shell may not run this assignment or may not keep its value; "
                       "the module only edits top-level assignments that always run, such as %s=\"...\" on "
                       "its own line" % (variable, event.reason, variable), word.start)
        found.append(_parse_assignment(lexer, variable, word, value_start, event.exported))
    return found


class _Event(object):
    """An assignment of the variable (reason: why the shell may not keep it) or a problem."""

    def __init__(self, offset, word=None, exported=False, reason=None, problem=None):
        self.offset = offset
        self.word = word
        self.exported = exported
        self.reason = reason
        self.problem = problem


class _Parser(object):
    """Recursive descent over the shell grammar, deep enough to know which commands always run."""

    def __init__(self, lexer, variable):
        self.lexer = lexer
        self.text = lexer.text
        self.variable = variable
        self.tokens = lexer.tokens()
        self.pos = 0
        self.events = []
        self.stopper = None
        boundary = r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(variable)
        self._mention_re = re.compile(boundary)
        self._reference_re = re.compile(r"\$(?:\{[#!]?)?\Z")
        self._default_assign_re = re.compile(r"\$\{%s:?=" % re.escape(variable))

    # -- tokens

    def peek(self, ahead=0):
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def is_op(self, token, *texts):
        return isinstance(token, Op) and token.text in texts

    def is_word(self, token, *texts):
        return isinstance(token, Word) and self.text[token.start:token.end] in texts

    def unexpected(self, token, expected):
        if token is None:
            what, offset = "end of the file", len(self.text)
        elif self.is_op(token, "\n"):
            what, offset = "line end", token.start
        else:
            what, offset = repr(self.text[token.start:token.end]), token.start
        self.lexer.fail("unexpected %s where the shell expects %s; the file is not valid shell (bash -n shows the "
                        "error), fix it first" % (what, expected), offset)

    def expect_word(self, *texts):
        if not self.is_word(self.peek(), *texts):
            self.unexpected(self.peek(), " or ".join(repr(text) for text in texts))
        self.pos += 1

    def expect_op(self, text):
        if not self.is_op(self.peek(), text):
            self.unexpected(self.peek(), repr(text))
        self.pos += 1

    def skip_newlines(self):
        while self.is_op(self.peek(), "\n"):
            self.pos += 1

    # -- what the parse finds

    def record(self, word, exported, reason):
        if reason is None and self.stopper is not None:
            reason = ("after line %d, whose exit or return may stop the shell before it gets here"
                      % self.lexer.lines.of(self.stopper))
        self.events.append(_Event(word.start, word=word, exported=exported, reason=reason))

    def mark(self, first, reason):
        for event in self.events[first:]:
            if event.word is not None and event.reason is None:
                event.reason = reason

    def check_word(self, word, may_name=False):
        """Problems with a word that is not an assignment of the variable."""
        raw = self.text[word.start:word.end]
        default = self._default_assign_re.search(raw)
        if default:
            self.events.append(_Event(word.start + default.start(), problem=(
                "%s is assigned through ${%s:=...} or ${%s=...}; the module cannot tell which value the shell "
                "keeps, write a plain assignment instead" % (self.variable, self.variable, self.variable))))
            return
        if may_name:
            return
        for mention in self._mention_re.finditer(raw):
            if not self._reference_re.search(raw[max(0, mention.start() - 3):mention.start()]):
                self.events.append(_Event(word.start + mention.start(), problem=(
                    "a command names %s (unset, read, declare, eval... can change it); the module cannot tell "
                    "which value the shell keeps, remove that command or edit the file by hand" % self.variable)))
                return

    # -- grammar

    def parse(self):
        self.compound_list(None, (), ())
        if self.peek() is not None:
            self.unexpected(self.peek(), "a command")
        return self.events

    def compound_list(self, reason, end_words, end_ops):
        while True:
            while self.is_op(self.peek(), "\n", ";"):
                self.pos += 1
            token = self.peek()
            if token is None or self.is_word(token, *end_words) or self.is_op(token, *end_ops):
                return
            first = len(self.events)
            self.and_or(reason)
            token = self.peek()
            if self.is_op(token, "&"):
                self.mark(first, "in a command run in the background (&), in a subshell")
                self.pos += 1
            elif self.is_op(token, ";", "\n"):
                self.pos += 1
            elif not (token is None or self.is_word(token, *end_words) or self.is_op(token, *end_ops)):
                self.unexpected(token, "';' or a line end")

    def and_or(self, reason):
        first = len(self.events)
        self.pipeline(reason)
        if self.is_op(self.peek(), "&&", "||"):
            while self.is_op(self.peek(), "&&", "||"):
                self.pos += 1
                self.skip_newlines()
                self.pipeline(reason)
            self.mark(first, "in a && / || list")

    def pipeline(self, reason):
        first = len(self.events)
        prefixed = False
        while self.is_word(self.peek(), "!", "time"):
            prefixed = True
            self.pos += 1
        self.command(reason)
        if self.is_op(self.peek(), "|", "|&"):
            while self.is_op(self.peek(), "|", "|&"):
                self.pos += 1
                self.skip_newlines()
                self.command(reason)
            self.mark(first, "in a pipeline (|), whose commands run in subshells")
        elif prefixed:
            self.mark(first, "after ! or time")

    def command(self, reason):
        token = self.peek()
        if self.is_op(token, "("):
            self.pos += 1
            self.compound_list(reason or "inside a ( ) subshell", (), (")",))
            self.expect_op(")")
        elif isinstance(token, Word):
            handler = {
                "{": self.brace_group, "if": self.if_clause, "while": self.while_clause,
                "until": self.while_clause, "for": self.for_clause, "select": self.for_clause,
                "case": self.case_clause, "function": self.function, "[[": self.conditional,
            }.get(self.text[token.start:token.end])
            if handler is None:
                if self.is_word(token, *_CONTINUATIONS):
                    self.unexpected(token, "a command")
                self.simple_command(reason)
                return
            self.pos += 1
            handler(reason)
        else:
            self.unexpected(token, "a command")
        self.redirections()

    def redirections(self):
        while isinstance(self.peek(), Op) and self.peek().text in _REDIRECTIONS:
            self.pos += 1
            target = self.peek()
            if not isinstance(target, Word):
                self.unexpected(target, "a file name")
            self.check_word(target)
            self.pos += 1

    def brace_group(self, reason):
        self.compound_list(reason or "inside a { } group", ("}",), ())
        self.expect_word("}")

    def if_clause(self, reason):
        reason = reason or "inside an if"
        self.compound_list(reason, ("then",), ())
        self.expect_word("then")
        self.compound_list(reason, ("elif", "else", "fi"), ())
        while self.is_word(self.peek(), "elif"):
            self.pos += 1
            self.compound_list(reason, ("then",), ())
            self.expect_word("then")
            self.compound_list(reason, ("elif", "else", "fi"), ())
        if self.is_word(self.peek(), "else"):
            self.pos += 1
            self.compound_list(reason, ("fi",), ())
        self.expect_word("fi")

    def while_clause(self, reason):
        reason = reason or "inside a while or until loop"
        self.compound_list(reason, ("do",), ())
        self.do_group(reason)

    def do_group(self, reason):
        if self.is_word(self.peek(), "{"):
            self.pos += 1
            self.brace_group(reason)
            return
        self.expect_word("do")
        self.compound_list(reason, ("done",), ())
        self.expect_word("done")

    def for_clause(self, reason):
        reason = reason or "inside a for or select loop"
        name = self.peek()
        if not isinstance(name, Word):
            self.unexpected(name, "a variable name")
        self.check_word(name)
        self.pos += 1
        self.skip_newlines()
        if self.is_word(self.peek(), "in"):
            self.pos += 1
            while isinstance(self.peek(), Word):
                self.check_word(self.peek())
                self.pos += 1
            if not self.is_op(self.peek(), ";", "\n"):
                self.unexpected(self.peek(), "';' or a line end")
        if self.is_op(self.peek(), ";"):
            self.pos += 1
        self.skip_newlines()
        self.do_group(reason)

    def case_clause(self, reason):
        reason = reason or "inside a case"
        subject = self.peek()
        if not isinstance(subject, Word):
            self.unexpected(subject, "a word to match")
        self.check_word(subject)
        self.pos += 1
        self.skip_newlines()
        self.expect_word("in")
        while True:
            self.skip_newlines()
            if self.is_word(self.peek(), "esac"):
                self.pos += 1
                return
            if self.is_op(self.peek(), "("):
                self.pos += 1
            while True:
                pattern = self.peek()
                if not isinstance(pattern, Word):
                    self.unexpected(pattern, "a case pattern")
                self.check_word(pattern)
                self.pos += 1
                if not self.is_op(self.peek(), "|"):
                    break
                self.pos += 1
            self.expect_op(")")
            self.compound_list(reason, ("esac",), _CASE_ENDS)
            if self.is_op(self.peek(), *_CASE_ENDS):
                self.pos += 1

    def function(self, reason):
        name = self.peek()
        if not isinstance(name, Word):
            self.unexpected(name, "a function name")
        self.check_word(name)
        self.pos += 1
        if self.is_op(self.peek(), "(") and self.is_op(self.peek(1), ")"):
            self.pos += 2
        self.function_body(reason)

    def function_body(self, reason):
        self.skip_newlines()
        self.command(reason or "inside a function, which runs only when it is called")

    def conditional(self, _reason):
        while not self.is_word(self.peek(), "]]"):
            token = self.peek()
            if token is None:
                self.unexpected(token, "']]'")
            if isinstance(token, Word):
                self.check_word(token)
            self.pos += 1
        self.pos += 1

    def simple_command(self, reason):
        words = []
        redirected = False
        while True:
            token = self.peek()
            if token is None or (isinstance(token, Op) and token.text in _COMMAND_ENDS):
                break
            if isinstance(token, Op) and token.text in _REDIRECTIONS:
                self.redirections()
                redirected = True
                continue
            if self.is_op(token, "("):
                if len(words) == 1 and self.is_op(self.peek(1), ")") and not _assigned_name(self.text, words[0]):
                    self.check_word(words[0])
                    self.pos += 2
                    self.function_body(reason)
                    return
                self.unexpected(token, "a command argument")
            nxt = self.peek(1)
            if (self.text[token.start:token.end].isdigit() and isinstance(nxt, Op) and nxt.text in _REDIRECTIONS
                    and nxt.start == token.end):
                # A file descriptor number such as the 2 of 2>/dev/null belongs to the redirection.
                self.pos += 1
                continue
            words.append(token)
            self.pos += 1
        self.classify(words, redirected, reason)

    def classify(self, words, redirected, reason):
        text = self.text
        count = 0
        while count < len(words) and _assigned_name(text, words[count]):
            count += 1
        prefix, command = words[:count], words[count:]
        name = text[command[0].start:command[0].end] if command else None
        if name in _STOPPERS and self.stopper is None:
            self.stopper = command[0].start
        if command:
            prefix_reason = "as a prefix of the command %r, which sets it for that command only" % name
        else:
            prefix_reason = "on a line with a redirection" if redirected else None
        for word in prefix:
            if _assigned_name(text, word)[0] == self.variable:
                self.record(word, False, reason or prefix_reason)
            else:
                self.check_word(word, may_name=True)
        for word in command[1:] if name == "export" else command:
            assigned = _assigned_name(text, word)
            if assigned and assigned[0] == self.variable:
                exported = name == "export"
                self.record(word, exported, reason or (prefix_reason if exported and redirected else None)
                            or ("as an argument of %r" % name if not exported else None))
            else:
                # "export VAR" only marks it for the environment.
                self.check_word(word, may_name=(bool(assigned) and name not in _DECLARERS)
                                or (name == "export" and text[word.start:word.end] == self.variable))


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
        if segment.kind == "cmdsub" or (segment.kind in ("dq", "expand") and _has_command_substitution(text, segment)):
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
