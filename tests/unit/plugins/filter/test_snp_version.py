# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Numeric firmware version comparison: module_utils, the filter and the test plugin."""

import pytest

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.version import FilterModule, snp_version_compare
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    compare_versions,
    parse_version,
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
