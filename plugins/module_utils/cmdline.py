# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line tokens and the present/absent rules that edit them.

Pure functions over strings and lists; no Ansible imports, no filesystem access, so the
same rules serve the ``kernel_cmdline`` module (on the managed host), the
``cmdline_*`` filters and the host facts (on the controller).

An option is a dict with ``name``, ``value`` (None for a bare flag), ``state`` (present or
absent) and ``match`` (how a token's value is compared with the option's value):

* ``exact``: the values are equal.
* ``list``: the token's value is a comma-separated list and the option's value is one of
  its items (``amd_iommu=fullflush,off`` contains ``off``), as the kernel reads list
  parameters such as ``amd_iommu=``.
* ``bool``: both values are the same kernel boolean, read the way the kernel's
  ``kstrtobool`` reads them (``1``, ``y``, ``Y``, ``on``, ``true``... are true; ``0``,
  ``n``, ``off``, ``false``... are false). A bare token is true, as the kernel sets a bare
  boolean parameter.

Edit rules (one option at a time, in the order given):

* ``present`` with a value (``exact``): exactly one ``name=value`` remains. It takes the
  place of the first token named ``name`` (bare or with any value); every other token named
  ``name`` goes. Without any such token it is appended.
* ``present`` with ``list`` or ``bool``: when the tokens already satisfy the option (see
  below) nothing changes; otherwise as ``exact``, spelled ``name=value``.
* ``present`` without a value: exactly one bare ``name`` remains. Tokens ``name=...``
  are not the bare flag and are left alone.
* ``absent`` without a value: every token named ``name`` goes, bare or with a value.
* ``absent`` with a value: the tokens that match go. With ``list`` only the matching items
  go and the token stays with the other items (``amd_iommu=fullflush,off`` becomes
  ``amd_iommu=fullflush``); it goes once no item is left.

Satisfied (what the running kernel does): a ``present`` flag or ``list`` option when any
token matches; a ``present`` ``exact`` or ``bool`` option when the last token with that
name matches, since the kernel keeps the last value of a parameter given several times;
an ``absent`` option when no token matches.

Names compare the way the kernel compares parameter names: ``-`` and ``_`` are the same
character (``kvm-amd.sev-snp`` is ``kvm_amd.sev_snp``). Values compare after removing the
double quotes the kernel removes (``foo="a b"`` has the value ``a b``). A token that is
kept keeps its spelling; a replaced or added token is spelled as in the option. Tokens
after a bare ``--`` belong to init, not to the kernel: they never match and new tokens go
before the ``--``.
"""

from __future__ import annotations

_WHITESPACE = " \t\n\r\f\v"
# Characters that would make a name ambiguous on a command line or in a shell file.
_FORBIDDEN_IN_NAME = frozenset(_WHITESPACE + "\0=\\;|&#<>`$'\"(){}")
_FORBIDDEN_IN_VALUE = frozenset(_WHITESPACE + '"\0')
STATES = ("present", "absent")
MATCHES = ("exact", "list", "bool")
INIT_SEPARATOR = "--"
_LIST_SEPARATOR = ","


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


def kernel_bool(text):
    """The boolean the kernel's kstrtobool reads from text, or None when it reads none.

    The first character decides: ``y Y t T 1`` true, ``n N f F 0`` false; ``o``/``O``
    followed by ``n``/``N`` (on) is true, by ``f``/``F`` (off) false.
    """
    if not text:
        return None
    first = text[0]
    if first in "yYtT1":
        return True
    if first in "nNfF0":
        return False
    if first in "oO" and len(text) > 1:
        if text[1] in "nN":
            return True
        if text[1] in "fF":
            return False
    return None


def _token_bool(value):
    # A bare boolean parameter is set: the kernel reads it as "1".
    return True if value is None else kernel_bool(value)


def option_matches(token, option):
    """True when token is one the checked option speaks about (see the module docstring).

    A ``present`` option without a value matches only the bare flag; an ``absent`` one
    without a value matches the name with any value.
    """
    if not names_equal(token_name(token), option["name"]):
        return False
    wanted = option["value"]
    actual = token_value(token)
    if wanted is None:
        return actual is None or option.get("state") == "absent"
    # A missing match (an option built in code) is exact, the last case below.
    match = option.get("match")
    if match == "list":
        return actual is not None and wanted in actual.split(_LIST_SEPARATOR)
    if match == "bool":
        found = _token_bool(actual)
        return found is not None and found == kernel_bool(wanted)
    return actual == wanted


def _kernel_part_length(tokens):
    # Number of tokens meant for the kernel: everything before a bare "--".
    for index, token in enumerate(tokens):
        if token == INIT_SEPARATOR:
            return index
    return len(tokens)


def _kernel_part(tokens):
    tokens = list(tokens)
    return tokens[:_kernel_part_length(tokens)]


def has_option(tokens, name, value=None):
    """True when the kernel part of tokens has ``name=value``, or (value None) any ``name``."""
    option = {"name": name, "value": value, "state": "absent", "match": "exact"}
    return any(option_matches(token, option) for token in _kernel_part(tokens))


def has_flag(tokens, name):
    """True when the kernel part of tokens has the bare flag ``name``."""
    option = {"name": name, "value": None, "state": "present", "match": "exact"}
    return any(option_matches(token, option) for token in _kernel_part(tokens))


class OptionError(ValueError):
    """An option that cannot be applied; the message says what is wrong and how to fix it."""


def _check_name(position, name):
    if not isinstance(name, str) or not name:
        raise OptionError("option %d has no name; give name: (for example name: iommu)" % position)
    if name == INIT_SEPARATOR:
        raise OptionError("option %d is named '--', which is not a kernel parameter: it separates the kernel's "
                          "parameters from init's; give the parameter's name" % position)
    bad = sorted(set(name) & _FORBIDDEN_IN_NAME)
    if bad:
        raise OptionError(
            "option name %r contains %s; a name may not contain whitespace, NUL, quotes, '=', '$', backquotes, "
            "backslashes or any of ;|&#<>(){} (put the part after '=' into value:)"
            % (name, ", ".join(repr(c) for c in bad)))


def _check_value(name, value, match):
    if value is None:
        if match != "exact":
            raise OptionError("option %r has match: %s but no value; give value: (the %s to look for)"
                              % (name, match, "list item" if match == "list" else "boolean"))
        return None
    value = str(value)
    bad = sorted(set(value) & _FORBIDDEN_IN_VALUE)
    if bad:
        raise OptionError(
            "value %r of option %r contains %s; a kernel parameter value may not contain whitespace, NUL "
            "or double quotes (give each parameter as its own option)"
            % (value, name, ", ".join(repr(c) for c in bad)))
    if match == "list" and (not value or _LIST_SEPARATOR in value):
        raise OptionError("value %r of option %r with match: list must be one non-empty list item without ','; "
                          "give one option per item" % (value, name))
    if match == "bool" and kernel_bool(value) is None:
        raise OptionError("value %r of option %r with match: bool is not a kernel boolean; use 1 or 0 (y/n, "
                          "on/off and true/false mean the same)" % (value, name))
    return value


def validate_options(options):
    """Checked copy of options as dicts with name, value (str or None), state and match.

    Raises OptionError for malformed names or values and for options that contradict each
    other (they would make the outcome depend on their order and never settle).
    """
    if not isinstance(options, (list, tuple)):
        raise OptionError("options must be a list of {name, value, state, match} mappings")
    checked = []
    for position, option in enumerate(options, 1):
        if not isinstance(option, dict):
            raise OptionError("option %d must be a mapping with name, value and state, got %r" % (position, option))
        name = option.get("name")
        _check_name(position, name)
        state = option.get("state") or "present"
        if state not in STATES:
            raise OptionError("option %r has state %r; use present or absent" % (name, state))
        match = option.get("match") or "exact"
        if match not in MATCHES:
            raise OptionError("option %r has match %r; use exact, list or bool" % (name, match))
        value = _check_value(name, option.get("value"), match)
        checked.append({"name": name, "value": value, "state": state, "match": match})
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
        # The token the present option adds would be removed again by the absent one.
        if wanted is not None and option_matches(format_option(wanted["name"], wanted["value"]), option):
            raise OptionError(
                "option %s is both present and absent; remove one of them"
                % format_option(option["name"], option["value"]))


def _present_satisfied(kernel, option):
    if option["value"] is None or option["match"] == "list":
        return any(option_matches(token, option) for token in kernel)
    named = [token for token in kernel if names_equal(token_name(token), option["name"])]
    # The kernel keeps the last value of a parameter given several times.
    return bool(named) and option_matches(named[-1], option)


def unsatisfied_options(tokens, options):
    """The checked options the kernel part of tokens does not satisfy, in order.

    A present option is unsatisfied without a matching token (for ``exact`` and ``bool``:
    when the last token with its name does not match), an absent option with one.
    """
    kernel = _kernel_part(tokens)
    unsatisfied = []
    for option in validate_options(options):
        if option["state"] == "present":
            satisfied = _present_satisfied(kernel, option)
        else:
            satisfied = not any(option_matches(token, option) for token in kernel)
        if not satisfied:
            unsatisfied.append(option)
    return unsatisfied


def options_satisfied(tokens, options):
    """True when the kernel part of tokens satisfies every option (see unsatisfied_options)."""
    return not unsatisfied_options(tokens, options)


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


def _split_items(items):
    kernel_length = _kernel_part_length([text for text, _origin, _slot in items])
    return items[:kernel_length], items[kernel_length:]


def _apply_one(items, option):
    kernel, init = _split_items(items)
    if option["state"] == "absent":
        if option["match"] == "list":
            return _remove_item(kernel, option) + init
        return [item for item in kernel if not option_matches(item[0], option)] + init
    if option["value"] is None:
        return _ensure_flag(kernel, option) + init
    if option["match"] != "exact" and _present_satisfied([item[0] for item in kernel], option):
        return items
    return _ensure_value(kernel, option) + init


def _remove_item(kernel, option):
    result = []
    for item in kernel:
        text, _origin, slot = item
        if not option_matches(text, option):
            result.append(item)
            continue
        rest = [part for part in token_value(text).split(_LIST_SEPARATOR) if part != option["value"]]
        if any(rest):
            value = _LIST_SEPARATOR.join(rest)
            if set(value) & set(_WHITESPACE):
                value = '"%s"' % value
            result.append((format_option(token_name(text), value), None, slot))
    return result


def _ensure_flag(kernel, option):
    result = []
    seen = False
    for item in kernel:
        if option_matches(item[0], option):
            if seen:
                continue
            seen = True
        result.append(item)
    if not seen:
        result.append((option["name"], None, None))
    return result


def _ensure_value(kernel, option):
    result = []
    placed = False
    for item in kernel:
        text, _origin, slot = item
        if not names_equal(token_name(text), option["name"]):
            result.append(item)
            continue
        if placed:
            continue
        placed = True
        if option_matches(text, option):
            result.append(item)
        else:
            result.append((format_option(option["name"], option["value"]), None, slot))
    if not placed:
        result.append((format_option(option["name"], option["value"]), None, None))
    return result
