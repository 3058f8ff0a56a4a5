# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line tokens and the present/absent rules that edit them.

Pure functions over strings and lists; no Ansible imports, no filesystem access, so the
same rules serve the ``kernel_cmdline`` module (on the managed host), the
``cmdline_*`` filters and the host facts (on the controller).

Rules (one option at a time, in the order given):

* ``present`` with a value: exactly one ``name=value`` remains. It takes the place of
  the first token named ``name`` (bare or with any value); every other token named
  ``name`` goes. Without any such token it is appended.
* ``present`` without a value: exactly one bare ``name`` remains. Tokens ``name=...``
  are not the bare flag and are left alone.
* ``absent`` without a value: every token named ``name`` goes, bare or with a value.
* ``absent`` with a value: only tokens ``name=value`` go.

Names compare the way the kernel compares parameter names: ``-`` and ``_`` are the same
character (``kvm-amd.sev-snp`` is ``kvm_amd.sev_snp``). Values compare exactly, after
removing the double quotes the kernel removes (``foo="a b"`` has the value ``a b``).
A token that is kept keeps its spelling; a replaced or added token is spelled as in the
option. Tokens after a bare ``--`` belong to init, not to the kernel: they never match
and new tokens go before the ``--``.
"""

from __future__ import annotations

_WHITESPACE = " \t\n\r\f\v"
# Characters that would make a name ambiguous on a command line or in a shell file.
_FORBIDDEN_IN_NAME = set(_WHITESPACE + "=\"'`$\\")
_FORBIDDEN_IN_VALUE = set(_WHITESPACE + '"')
STATES = ("present", "absent")
INIT_SEPARATOR = "--"


def split_cmdline(text):
    """Tokens of a kernel command line such as the content of /proc/cmdline.

    Splits on whitespace outside double quotes, as the kernel does: ``foo="a b"`` is one
    token. The quotes stay in the token (use token_value to get what the kernel sees).
    """
    tokens = []
    current = []
    in_quote = False
    for char in text:
        if char == '"':
            in_quote = not in_quote
        if char in _WHITESPACE and not in_quote:
            if current:
                tokens.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def join_cmdline(tokens):
    """The command line text of a token list."""
    return " ".join(tokens)


def _unquote_whole(token):
    # The kernel drops a leading quote and its matching trailing quote: "foo=bar" == foo=bar.
    if token.startswith('"'):
        token = token[1:]
        if token.endswith('"'):
            token = token[:-1]
    return token


def token_name(token):
    """Parameter name of a token: the text before the first ``=`` (the whole token if bare)."""
    token = _unquote_whole(token)
    return token.split("=", 1)[0]


def token_value(token):
    """Value of a token as the kernel sees it (surrounding quotes removed); None when bare."""
    token = _unquote_whole(token)
    if "=" not in token:
        return None
    value = token.split("=", 1)[1]
    if value.startswith('"'):
        value = value[1:]
        if value.endswith('"'):
            value = value[:-1]
    return value


def normalize_name(name):
    """Canonical spelling of a parameter name; the kernel treats ``-`` and ``_`` alike."""
    return name.replace("-", "_")


def names_equal(first, second):
    return normalize_name(first) == normalize_name(second)


def format_option(name, value=None):
    """Token text of an option."""
    return name if value is None else "%s=%s" % (name, value)


def _matches(token, name, value):
    """True when token is name=value (value given) or carries name at all (value None)."""
    if not names_equal(token_name(token), name):
        return False
    return value is None or token_value(token) == value


def _kernel_part_length(tokens):
    # Number of tokens meant for the kernel: everything before a bare "--".
    for index, token in enumerate(tokens):
        if token == INIT_SEPARATOR:
            return index
    return len(tokens)


def has_option(tokens, name, value=None):
    """True when the kernel part of tokens has ``name=value``, or (value None) any ``name``."""
    kernel = tokens[:_kernel_part_length(tokens)]
    return any(_matches(token, name, value) for token in kernel)


def has_flag(tokens, name):
    """True when the kernel part of tokens has the bare flag ``name``."""
    kernel = tokens[:_kernel_part_length(tokens)]
    return any(token_value(token) is None and names_equal(token_name(token), name) for token in kernel)


class OptionError(ValueError):
    """An option that cannot be applied; the message says what is wrong and how to fix it."""


def validate_options(options):
    """Checked copy of options as dicts with name, value (str or None) and state.

    Raises OptionError for malformed names or values and for options that contradict each
    other (they would make the outcome depend on their order and never settle).
    """
    if not isinstance(options, (list, tuple)):
        raise OptionError("options must be a list of {name, value, state} mappings")
    checked = []
    for position, option in enumerate(options, 1):
        if not isinstance(option, dict):
            raise OptionError("option %d must be a mapping with name, value and state, got %r" % (position, option))
        name = option.get("name")
        value = option.get("value")
        state = option.get("state") or "present"
        if not isinstance(name, str) or not name:
            raise OptionError("option %d has no name; give name: (for example name: iommu)" % position)
        bad = sorted(set(name) & _FORBIDDEN_IN_NAME)
        if bad:
            raise OptionError(
                "option name %r contains %s; a name may not contain whitespace, quotes, '=', '$', "
                "backquotes or backslashes (put the part after '=' into value:)" % (name, ", ".join(repr(c) for c in bad)))
        if value is not None:
            if not isinstance(value, str):
                value = str(value)
            bad = sorted(set(value) & _FORBIDDEN_IN_VALUE)
            if bad:
                raise OptionError(
                    "value %r of option %r contains %s; a kernel parameter value may not contain whitespace "
                    "or double quotes (give each parameter as its own option)"
                    % (value, name, ", ".join(repr(c) for c in bad)))
        if state not in STATES:
            raise OptionError("option %r has state %r; use present or absent" % (name, state))
        checked.append({"name": name, "value": value, "state": state})
    _check_contradictions(checked)
    return checked


def _check_contradictions(options):
    present = {}
    for option in options:
        if option["state"] != "present":
            continue
        key = normalize_name(option["name"])
        if key in present:
            raise OptionError(
                "options %s and %s both set %r; give each name at most once with state present"
                % (format_option(present[key]["name"], present[key]["value"]),
                   format_option(option["name"], option["value"]), option["name"]))
        present[key] = option
    for option in options:
        if option["state"] != "absent":
            continue
        wanted = present.get(normalize_name(option["name"]))
        if wanted is None:
            continue
        if option["value"] is None or option["value"] == wanted["value"]:
            raise OptionError(
                "option %s is both present and absent; remove one of them"
                % format_option(option["name"], option["value"]))


def plan_options(tokens, options):
    """How options change tokens, keeping track of where each result token comes from.

    Returns a list of ``(text, origin, slot)``: ``origin`` is the index in tokens of a
    token kept as it is (None for a new one); ``slot`` is the index of the original token
    whose place the result token takes (its own index when kept, the replaced token's
    index when it replaces one, None when appended). Editors of files use it to keep the
    text around untouched tokens.
    """
    options = validate_options(options)
    items = [(token, index, index) for index, token in enumerate(tokens)]
    for option in options:
        items = _apply_one(items, option)
    return items


def apply_options(tokens, options):
    """New token list after applying options (see the module docstring for the rules)."""
    return [text for text, _origin, _slot in plan_options(list(tokens), options)]


def options_satisfied(tokens, options):
    """True when applying options would not change tokens."""
    tokens = list(tokens)
    return apply_options(tokens, options) == tokens


def _split_items(items):
    kernel_length = _kernel_part_length([text for text, _origin, _slot in items])
    return items[:kernel_length], items[kernel_length:]


def _apply_one(items, option):
    name, value, state = option["name"], option["value"], option["state"]
    kernel, init = _split_items(items)
    if state == "absent":
        kept = [item for item in kernel if not _matches(item[0], name, value)]
        return kept + init
    if value is None:
        return _ensure_flag(kernel, name) + init
    return _ensure_value(kernel, name, value) + init


def _ensure_flag(kernel, name):
    result = []
    seen = False
    for item in kernel:
        text = item[0]
        if token_value(text) is None and names_equal(token_name(text), name):
            if seen:
                continue
            seen = True
        result.append(item)
    if not seen:
        result.append((name, None, None))
    return result


def _ensure_value(kernel, name, value):
    result = []
    placed = False
    for item in kernel:
        text, _origin, slot = item
        if not names_equal(token_name(text), name):
            result.append(item)
            continue
        if placed:
            continue
        placed = True
        if token_value(text) == value:
            result.append(item)
        else:
            result.append((format_option(name, value), None, slot))
    if not placed:
        result.append((format_option(name, value), None, None))
    return result
