# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEV firmware API versions ("1.55", "1:51", "1.55.21") compared as numbers.

"1.9" is older than "1.51": the minor number is an integer, not a decimal fraction.
"""

from __future__ import annotations

import re

# Nine digits at most per part: firmware numbers are bytes, and Python refuses int() of
# strings longer than 4300 digits.
_VERSION = re.compile(r"^\s*(\d{1,9})(?:\s*[.:]\s*(\d{1,9}))?(?:\s*[.:]\s*(\d{1,9}))?\s*$")

OPERATORS = ("<", "<=", "==", "!=", ">=", ">")
_OPERATOR_ALIASES = {
    "lt": "<", "le": "<=", "eq": "==", "=": "==", "ne": "!=", "ge": ">=", "gt": ">",
}


class SnpVersionError(ValueError):
    """A value that is not a firmware version, or an unknown comparison operator."""


def parse_version(value):
    """'1.55' -> (1, 55); '1:51' -> (1, 51); '1.55.21' -> (1, 55, 21); 1 -> (1,)."""
    # None, True and whole numbers go through the text rule below: 55 is (55,); None, True, -1
    # and ten digits are refused.
    if isinstance(value, float):
        raise SnpVersionError(
            "%r is a float, which loses the minor number (1.50 == 1.5); quote it: '1.50'" % (value,))
    # A tuple or list takes the text rule too, one number per item: (1, 55) is "1.55"; (1, -5),
    # (1, 1.5) and four items are refused.
    listed = isinstance(value, (tuple, list))
    match = _VERSION.match(".".join(str(part) for part in value) if listed else str(value))
    parts = tuple(int(part) for part in match.groups() if part is not None) if match else ()
    if not parts or (listed and len(parts) != len(value)):
        raise SnpVersionError("%r is not a SEV firmware version; expected e.g. '1.55' or '1.55.21'" % (value,))
    return parts


def compare_versions(left, right):
    """-1, 0 or 1. Missing trailing parts count as 0, so '1.55' == '1.55.0'."""
    a = parse_version(left)
    b = parse_version(right)
    width = max(len(a), len(b))
    a = a + (0,) * (width - len(a))
    b = b + (0,) * (width - len(b))
    return (a > b) - (a < b)


def version_satisfies(left, operator, right):
    """True when `left operator right` holds, e.g. version_satisfies('1.55', '>=', '1.51')."""
    op = _OPERATOR_ALIASES.get(operator, operator)
    if op not in OPERATORS:
        raise SnpVersionError("unknown operator %r; use one of %s" % (operator, ", ".join(OPERATORS)))
    result = compare_versions(left, right)
    return {
        "<": result < 0, "<=": result <= 0, "==": result == 0,
        "!=": result != 0, ">=": result >= 0, ">": result > 0,
    }[op]


def checked_minimum_api(value, name="min_snp_api"):
    """A firmware API minimum given by a person: None or "" (no minimum) or a string such as "1.55".

    Only strings are accepted: YAML reads an unquoted 1.50 as the float 1.5 (another
    version), and an integer hides whether a minor number was meant. Returns the string
    stripped, or None; raises SnpVersionError with the fix otherwise.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float):
        raise SnpVersionError(
            "%s is the number %r, not a version string: YAML reads an unquoted 1.50 as 1.5, a different "
            "version. Quote it, e.g. %s: \"1.55\"." % (name, value, name))
    if not isinstance(value, str):
        raise SnpVersionError("%s must be a version string such as \"1.55\", got %r (%s); quote it."
                              % (name, value, type(value).__name__))
    try:
        parse_version(value)
    except SnpVersionError:
        raise SnpVersionError("%s=%r is not a SEV firmware version; give it as \"MAJOR.MINOR\", e.g. \"1.55\"."
                              % (name, value))
    return value.strip()


def checked_minimum_build(value, name="min_snp_build"):
    """A firmware build minimum: None, "" or 0 (no minimum), or a whole number 0-999999999."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise SnpVersionError("%s must be a whole number such as 21, got %r." % (name, value))
    if isinstance(value, str):
        if not re.match(r"^\s*\d{1,9}\s*$", value):
            raise SnpVersionError("%s must be a whole number such as 21, got %r." % (name, value))
        value = int(value)
    if not isinstance(value, int) or value < 0 or value > 999999999:
        raise SnpVersionError("%s must be a whole number from 0 to 999999999, got %r." % (name, value))
    return value or None
