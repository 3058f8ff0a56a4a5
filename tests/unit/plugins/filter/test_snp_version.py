# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Numeric firmware version comparison: module_utils, the filter and the test plugin, and the
minimums a person gives to the gates."""

import itertools

import pytest

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.version import FilterModule, snp_version_compare
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    OPERATORS,
    SnpVersionError,
    checked_minimum_build,
    compare_versions,
    parse_version,
    version_satisfies,
)
from ansible_collections.coco.sev_snp.plugins.test.snp_version import TestModule as SnpVersionTests
from ansible_collections.coco.sev_snp.plugins.test.snp_version import snp_version
from ansible_collections.coco.sev_snp.plugins.test import snp_version as snp_version_test


@pytest.mark.parametrize("text, parts", [
    ("1.55", (1, 55)), ("1:51", (1, 51)), ("1.55.21", (1, 55, 21)), (" 0.31 ", (0, 31)), (1, (1,)),
    ((1, 55), (1, 55)),
])
def test_parse(text, parts):
    assert parse_version(text) == parts


@pytest.mark.parametrize("bad", ["", "1.x", "one", None, True, 1.5, "1.55 build 3"])
def test_parse_rejects(bad):
    with pytest.raises(SnpVersionError):
        parse_version(bad)


def test_order_is_numeric():
    ordered = ["0.31", "1.9", "1.22", "1.51", "1.55", "1.55.21", "1.57", "2.0"]
    for low, high in zip(ordered, ordered[1:]):
        assert compare_versions(low, high) == -1
        assert compare_versions(high, low) == 1
    assert compare_versions("1.55", "1.55.0") == 0


@pytest.mark.parametrize("left, op, right, expected", [
    ("1.9", "<", "1.51", True), ("1.51", "<", "1.55", True), ("1.55", ">=", "1.55", True),
    ("1.55", "gt", "1.51", True), ("1.51", "==", "1:51", True), ("1.51", "!=", "1.51", False),
    ("1.9", ">", "1.51", False),
])
def test_filter_and_test(left, op, right, expected, deprecations):
    assert snp_version_compare(left, right, op) is expected
    # ansible.builtin.version's order: value, version, operator.
    assert snp_version(left, right, op) is expected
    assert deprecations == []


@pytest.fixture
def deprecations(monkeypatch):
    """Every Display.deprecated call the test plugin makes, as (msg, version, collection_name)."""
    calls = []

    def record(self, msg, version=None, removed=False, date=None, collection_name=None, **kwargs):
        calls.append((msg, version, collection_name))
    monkeypatch.setattr(snp_version_test.Display, "deprecated", record)
    return calls


def test_operator_defaults_to_eq_like_ansible_builtin_version(deprecations):
    assert snp_version("1:55", "1.55") is True
    assert snp_version("1.55", "1.51") is False
    assert deprecations == []


@pytest.mark.parametrize("left, op, right, expected", [
    ("1.55", ">=", "1.51", True), ("1.51", ">=", "1.55", False), ("1.9", "<", "1.51", True),
    ("1.55", "==", "1:55", True), ("1.55", "gt", "1.55", False),
])
def test_old_order_still_works_with_a_deprecation(left, op, right, expected, deprecations):
    assert snp_version(left, op, right) is expected
    assert len(deprecations) == 1
    msg, version, collection = deprecations[0]
    assert "old argument order" in msg
    assert "snp_version(%r, %r)" % (right, op) in msg
    assert version == "1.0.0"
    assert collection == "coco.sev_snp"


@pytest.mark.parametrize("version, operator, old", [
    ("1.51", ">=", False), (">=", "1.51", True), ("1:51", "eq", False), ("ge", 1, True),
    # Neither argument a version: not the old order, so the error names the bad version.
    ("x", ">=", False), (">=", "x", False),
    # Both versions: the new order, whose operator is then refused.
    ("1.51", "1.55", False),
    # A float is no version in either place.
    (">=", 1.55, False),
])
def test_old_order_is_recognised_only_by_a_version_in_the_operator_place(version, operator, old):
    assert snp_version_test.is_old_order(version, operator) is old


@pytest.mark.parametrize("args, text", [
    (("1.55", "x", ">="), "'x' is not a SEV firmware version"),
    (("1.55", "1.51", "=>"), "unknown operator '=>'"),
    (("1.55", "~", "1.51"), "unknown operator '~'"),
    (("1.55", 1.51, ">="), "is a float"),
    (("1.55", "1.51", "1.50"), "unknown operator '1.50'"),
])
def test_test_plugin_errors_name_the_bad_argument(args, text, deprecations):
    with pytest.raises(AnsibleError) as raised:
        snp_version(*args)
    assert str(raised.value).startswith("snp_version: ")
    assert text in str(raised.value)


def test_filter_without_operator():
    assert snp_version_compare("1.9", "1.51") == -1
    assert FilterModule().filters()["snp_version_compare"] is snp_version_compare
    assert SnpVersionTests().tests()["snp_version"] is snp_version


def test_errors_are_ansible_errors():
    with pytest.raises(AnsibleFilterError):
        snp_version_compare("1.55", "x")
    with pytest.raises(AnsibleFilterError):
        snp_version_compare("1.55", "1.51", "=>")
    with pytest.raises(AnsibleError):
        snp_version("1.55", "1.51", "~")


_PYTHON = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
           "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b, ">": lambda a, b: a > b}
_ALIASES = {"lt": "<", "le": "<=", "eq": "==", "=": "==", "ne": "!=", "ge": ">=", "gt": ">"}
# (text, the same version as a tuple): older, equal and newer pairs of each other.
_VERSIONS = [("1.9", (1, 9)), ("1.51", (1, 51)), ("1:55", (1, 55)), ("1.55.0", (1, 55, 0)), ("1.55.21", (1, 55, 21)),
             ("2", (2,))]


def _padded(a, b):
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


@pytest.mark.parametrize("operator", list(OPERATORS) + sorted(_ALIASES))
def test_every_operator_on_older_equal_and_newer(operator):
    """Each operator (and its word alias) answers as the numbers do, including at equality."""
    symbol = _ALIASES.get(operator, operator)
    for (left, left_parts), (right, right_parts) in itertools.product(_VERSIONS, repeat=2):
        expected = _PYTHON[symbol](*_padded(left_parts, right_parts))
        assert version_satisfies(left, operator, right) is expected, (left, operator, right)


@pytest.mark.parametrize("left, right, expected", [
    ("1.55.0", "1.55", 0), ("1.55", "1.55.0", 0), ("1", "1.0.0", 0), ("1.0.0", "1", 0),
    ("1.55", "1.55.1", -1), ("1.55.1", "1.55", 1), ("2", "1.99", 1), ("1.99", "2", -1),
])
def test_missing_trailing_parts_count_as_zero_on_either_side(left, right, expected):
    assert compare_versions(left, right) == expected


def test_an_unknown_operator_is_refused_with_the_list():
    with pytest.raises(SnpVersionError, match=r"unknown operator '=>'; use one of <, <=, ==, !=, >=, >"):
        version_satisfies("1.55", "=>", "1.51")


@pytest.mark.parametrize("value, parts", [(0, (0,)), (55, (55,)), (999999999, (999999999,))])
def test_whole_numbers_are_one_part_versions(value, parts):
    assert parse_version(value) == parts


@pytest.mark.parametrize("value", [-1, 1000000000, True, False])
def test_negative_huge_and_boolean_numbers_are_no_versions(value):
    """A firmware number is a byte: the same limits as for the text form."""
    with pytest.raises(SnpVersionError, match="is not a SEV firmware version"):
        parse_version(value)


@pytest.mark.parametrize("value", [None, "", "   ", 0, "0", " 0 "])
def test_no_build_minimum(value):
    """None, blank and 0 all mean no minimum, reported as None (the gate then skips the check)."""
    assert checked_minimum_build(value) is None


@pytest.mark.parametrize("value, build", [(21, 21), ("21", 21), (" 21 ", 21), (999999999, 999999999),
                                          ("999999999", 999999999), (1, 1)])
def test_build_minimum_is_a_whole_number(value, build):
    result = checked_minimum_build(value)
    assert result == build and isinstance(result, int) and not isinstance(result, bool)


@pytest.mark.parametrize("value, text", [
    # YAML's true and 21.0 are no build numbers: a bool is an int to Python, 21.0 a float.
    (True, "must be a whole number such as 21, got True"),
    (False, "must be a whole number such as 21, got False"),
    (21.0, "must be a whole number such as 21, got 21.0"),
    ("21.0", "must be a whole number such as 21, got '21.0'"),
    ("-1", "must be a whole number such as 21, got '-1'"),
    ("1234567890", "must be a whole number such as 21, got '1234567890'"),
    ("abc", "must be a whole number such as 21"),
    (-1, "must be a whole number from 0 to 999999999, got -1"),
    (1000000000, "must be a whole number from 0 to 999999999, got 1000000000"),
    ([21], "must be a whole number from 0 to 999999999, got [21]"),
])
def test_bad_build_minimums_say_what_to_write(value, text):
    with pytest.raises(SnpVersionError) as raised:
        checked_minimum_build(value, name="sev_snp_min_snp_build")
    assert str(raised.value).startswith("sev_snp_min_snp_build ")
    assert text in str(raised.value)


@pytest.mark.parametrize("value, parts", [((1, 55), (1, 55)), (["1", "55", "21"], (1, 55, 21)), ((7,), (7,))])
def test_tuples_and_lists_take_the_text_rule(value, parts):
    assert parse_version(value) == parts


@pytest.mark.parametrize("value", [(1, -5), (1, 2, 3, 4), (), (1, True), (1, 1.5), ("1", "x")])
def test_tuples_and_lists_the_text_rule_refuses(value):
    with pytest.raises(SnpVersionError, match="is not a SEV firmware version"):
        parse_version(value)
