# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attestation policy format: what it accepts, what it refuses, what it checks."""
import hashlib
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


ONE_MIB = 1024 * 1024  # written out, so a changed limit fails here rather than moving with the module


def padded_policy(size):
    """A valid one-key policy of exactly ``size`` bytes (a comment pads it)."""
    head = b"version: 1\n#"
    return head + b"x" * (size - len(head))


def test_load_reads_a_policy_of_exactly_the_size_limit(tmp_path):
    path = tmp_path / "policy.yml"
    raw = padded_policy(ONE_MIB)
    path.write_bytes(raw)
    assert ap.load(str(path)) == ({"version": 1}, hashlib.sha256(raw).hexdigest())


def test_load_refuses_a_policy_one_byte_over_the_size_limit(tmp_path):
    path = tmp_path / "policy.yml"
    path.write_bytes(padded_policy(ONE_MIB + 1))
    with pytest.raises(ap.PolicyError) as raised:
        ap.load(str(path))
    assert str(raised.value) == "policy %s is larger than 1048576 bytes; that is not a policy file" % path


@pytest.mark.parametrize("name,make,reason", [
    ("absent.yml", lambda path: None, "No such file or directory"),
    ("a-directory", lambda path: path.mkdir(), "Is a directory"),
])
def test_load_names_the_os_reason_once_when_the_policy_cannot_be_read(tmp_path, name, make, reason):
    path = tmp_path / name
    make(path)
    with pytest.raises(ap.PolicyError) as raised:
        ap.load(str(path))
    # The reason alone, not the exception's "[Errno n] reason: 'path'" repeating the path.
    assert str(raised.value) == "cannot read policy %s: %s" % (path, reason)


def test_load_falls_back_to_the_exception_text_when_it_has_no_strerror(tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise OSError("refused by the test")
    monkeypatch.setattr(ap, "open", refuse, raising=False)
    with pytest.raises(ap.PolicyError) as raised:
        ap.load(str(tmp_path / "policy.yml"))
    assert str(raised.value) == "cannot read policy %s: refused by the test" % (tmp_path / "policy.yml")


@pytest.mark.parametrize("text,message", [
    ("measurements: [123]\n", "measurements[0]: 123 is not a quoted hex string of 48 bytes (96 hex digits)"),
    ("host_data: 1234\n", "host_data: 1234 is not a quoted hex string of 32 bytes (64 hex digits)"),
])
def test_an_unquoted_hex_value_names_its_byte_and_digit_count(text, message):
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse("version: 1\n" + text)
    assert message in str(raised.value)


@pytest.mark.parametrize("text,message", [
    ("measurements: ['%s']\n" % ("zz" * 48), "measurements[0]: '%s' is not 96 hex digits" % ("zz" * 48)),
    ("measurements: ['0x%s']\n" % ("1g" * 48), "is not 96 hex digits"),
    ("host_data: '%s'\n" % ("xy" * 32), "host_data: '%s' is not 64 hex digits" % ("xy" * 32)),
])
def test_a_right_length_value_with_non_hex_characters_is_refused(text, message):
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse("version: 1\n" + text)
    assert message in str(raised.value)


@pytest.mark.parametrize("key,item", [("min_tcb", "snp"), ("guest_policy", "debug")])
@pytest.mark.parametrize("value", ["{}", "[%s]", "%s", "8"])
def test_min_tcb_and_guest_policy_must_be_non_empty_mappings(key, item, value):
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse("version: 1\n%s: %s\n" % (key, value.replace("%s", item)))
    assert str(raised.value).startswith("%s must be a mapping of " % key)


@pytest.mark.parametrize("vmpl", [0, 1, 2, 3])
def test_vmpl_0_to_3_is_accepted(vmpl):
    assert ap.parse("version: 1\nvmpl: %d\n" % vmpl) == {"version": 1, "vmpl": vmpl}


@pytest.mark.parametrize("vmpl,message", [
    ("4", "vmpl: 4 is not a VMPL (0-3)"),
    ("-1", "vmpl: -1 is not a non-negative integer"),
    ("'0'", "vmpl: '0' is not a non-negative integer"),
])
def test_vmpl_outside_0_to_3_is_refused(vmpl, message):
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse("version: 1\nvmpl: %s\n" % vmpl)
    assert message in str(raised.value)


@pytest.mark.parametrize("value", ["Milan", "{Milan: null}"])
def test_products_must_be_a_list(value):
    # A mapping's keys are known products, so only the list test refuses it.
    with pytest.raises(ap.PolicyError) as raised:
        ap.parse("version: 1\nproducts: %s\n" % value)
    assert "products must be a non-empty list of Genoa, Milan, Turin" in str(raised.value)


@pytest.mark.parametrize("version", ["true", "1.0", "'1'", "2", "0"])
def test_the_format_version_is_the_whole_number_1(version):
    """YAML's true and 1.0 equal 1 in Python; neither is the format number, so both are refused."""
    with pytest.raises(ap.PolicyError, match="version must be 1"):
        ap.parse("version: %s\n" % version, "policy p.yml")


def test_a_path_with_a_nul_byte_is_a_policy_error(tmp_path):
    with pytest.raises(ap.PolicyError, match="cannot read policy .*: embedded null byte"):
        ap.load(str(tmp_path / "pol\x00icy.yml"))
