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
def test_filter_and_test(left, op, right, expected):
    assert snp_version_compare(left, right, op) is expected
    assert snp_version(left, op, right) is expected


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
        snp_version("1.55", "~", "1.51")
