# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attestation policy format: what it accepts, what it refuses, what it checks."""
import os

import pytest
import yaml

from ansible_collections.coco.sev_snp.plugins.module_utils import attestation_policy as ap

M1 = "11" * 48
M2 = "22" * 48
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "docs", "examples", "attestation-policy.yml")


def report(**changes):
    base = {"measurement": M1, "product": "Milan", "vmpl": 1, "host_data": "00" * 32,
            "reported_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": None},
            "policy": {"debug": False, "smt": True, "migrate_ma": False, "single_socket": False}}
    base.update(changes)
    return base


def test_the_documented_example_parses_and_names_every_key():
    with open(EXAMPLE) as handle:
        text = handle.read()
    policy = ap.parse(text)
    assert set(policy) == set(ap.KEYS) - {"host_data"}
    assert len(policy["measurements"]) == 2
    assert policy["guest_policy"] == {"debug": False, "migrate_ma": False, "smt": True}


def test_normalises_hex():
    policy = ap.parse("version: 1\nmeasurements: ['0x%s']\nhost_data: '%s'\n" % (M1.upper(), "AB" * 32))
    assert policy["measurements"] == [M1] and policy["host_data"] == "ab" * 32


@pytest.mark.parametrize("text,message", [
    ("", "must be a mapping"),
    ("- 1\n", "must be a mapping"),
    ("version: 1\nmeasurement: []\n", "unknown key(s) measurement"),
    ("measurements: ['%s']\n" % M1, "version must be 1"),
    ("version: 2\n", "version must be 1"),
    ("version: 1\nmeasurements: []\n", "non-empty list"),
    ("version: 1\nmeasurements: '%s'\n" % M1, "non-empty list"),
    ("version: 1\nmeasurements: ['abcd']\n", "measurements[0]: 'abcd' is not 96 hex digits"),
    ("version: 1\nmeasurements: [%s]\n" % ("1" * 96), "quote it"),
    ("version: 1\nmin_tcb: {snp: -1}\n", "min_tcb.snp: -1 is not a non-negative integer"),
    ("version: 1\nmin_tcb: {snp: '8'}\n", "min_tcb.snp: '8' is not a non-negative integer"),
    ("version: 1\nmin_tcb: {spl: 8}\n", "unknown component(s) spl"),
    ("version: 1\nguest_policy: {debgu: false}\n", "unknown bit(s) debgu"),
    ("version: 1\nguest_policy: {debug: 'no'}\n", "guest_policy.debug: 'no' is not true or false"),
    ("version: 1\nguest_policy: {reserved_must_be_one: true}\n", "unknown bit(s) reserved_must_be_one"),
    ("version: 1\nvmpl: 4\n", "not a VMPL"),
    ("version: 1\nvmpl: true\n", "vmpl: True is not a non-negative integer"),
    ("version: 1\nhost_data: 'ab'\n", "host_data: 'ab' is not 64 hex digits"),
    ("version: 1\nproducts: [Naples]\n", "products must be a non-empty list of Genoa, Milan, Turin"),
    ("version: 1\nproducts: []\n", "products must be a non-empty list"),
    ("version: 1\n  bad: [\n", "not valid YAML"),
    ("version: 1\nx: !!python/object/apply:os.system ['true']\n", "not valid YAML"),
])
def test_bad_policies_are_refused_with_the_key(text, message):
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse(text)
    assert message in str(raised.value)


def test_load_reads_hashes_and_bounds(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_text("version: 1\n")
    policy, digest = ap.load(str(path))
    assert policy == {"version": 1}
    import hashlib
    assert digest == hashlib.sha256(b"version: 1\n").hexdigest()
    with pytest.raises(ap.PolicyError, match="cannot read policy"):
        ap.load(str(tmp_path / "absent.yml"))
    big = tmp_path / "big.yml"
    big.write_bytes(b"#" * (ap.MAX_POLICY_BYTES + 1))
    with pytest.raises(ap.PolicyError, match="larger than"):
        ap.load(str(big))
    binary = tmp_path / "bin.yml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ap.PolicyError, match="not UTF-8"):
        ap.load(str(binary))


def test_a_passing_report_lists_each_check():
    policy = ap.parse(yaml.safe_dump({"version": 1, "measurements": [M2, M1], "products": ["Milan"],
                                      "min_tcb": {"snp": 8}, "guest_policy": {"debug": False}, "vmpl": 1,
                                      "host_data": "00" * 32}))
    assert ap.check(report(), policy) == ["measurement", "product", "min_tcb", "guest policy", "vmpl", "host_data"]


def test_an_empty_policy_checks_nothing():
    assert ap.check(report(), {"version": 1}) == []


@pytest.mark.parametrize("policy,changes,check,detail", [
    ({"measurements": [M2]}, {}, "measurement", "not among the 1 measurement(s)"),
    ({"products": ["Genoa"]}, {}, "product", "Milan processor; the policy allows Genoa"),
    ({"min_tcb": {"snp": 9}}, {}, "min_tcb", "snp 8 < 9"),
    ({"guest_policy": {"smt": False}}, {}, "guest policy", "smt is true, the policy requires false"),
    ({"guest_policy": {"debug": False}}, {"policy": {"debug": True}}, "guest policy", "debug is true"),
    ({"vmpl": 0}, {}, "vmpl", "VMPL 1, the policy requires 0"),
    ({"host_data": "ff" * 32}, {}, "host_data", "the policy requires " + "ff" * 32),
])
def test_each_violation_names_its_check(policy, changes, check, detail):
    with pytest.raises(ap.PolicyViolation) as raised:
        ap.check(report(**changes), dict(policy, version=1))
    assert raised.value.check == check
    assert detail in raised.value.detail
