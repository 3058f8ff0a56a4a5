# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""attestation_verify with an attestation policy, and the measurement path end to end on the
controller: domain XML -> launch_measurement -> record in <metadata> -> read back -> a
stand-in report carrying it verifies; one differing bit fails at the measurement check."""
import os

import pytest

from ansible_collections.coco.sev_snp.plugins.filter.snp_measurement import FilterModule
from ansible_collections.coco.sev_snp.plugins.modules import attestation_verify, launch_measurement
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem
from attest_module_runner import run_module

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = b"\x5a" * 64
MEASUREMENT = bytes(range(48))
FILTERS = FilterModule().filters()
DEBIAN_OVMF = "/usr/share/OVMF/OVMF_CODE.fd"


@pytest.fixture(scope="module")
def ca():
    # Stand-in for AMD's key hierarchy (no AMD PSP here); its ARK is passed as a trust anchor.
    return StandInAmdCa("Milan")


def write_evidence(ca, directory, measurement, vmpl=1):
    files = {
        "report": make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, measurement=measurement, vmpl=vmpl),
        "vek": der(ca.issue_vek(chip_id=CHIP, tcb=TCB)),
        "cert_chain": ca.chain_pem(),
        "ark.pem": pem(ca.ark),
    }
    paths = {}
    for name, body in files.items():
        (directory / name).write_bytes(body)
        paths[name] = str(directory / name)
    return {"report": paths["report"], "vek": paths["vek"], "cert_chain": paths["cert_chain"],
            "trust_anchors": [paths["ark.pem"]]}


def policy_file(tmp_path, text):
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return str(path)


def test_policy_passes_and_says_what_it_applied(ca, tmp_path):
    evidence = write_evidence(ca, tmp_path, MEASUREMENT)
    path = policy_file(tmp_path, "version: 1\nmeasurements: ['%s', '%s']\nmin_tcb: {snp: 8}\nvmpl: 1\n"
                                 "guest_policy: {debug: false, smt: true}\nproducts: [Milan]\n"
                       % ("ab" * 48, MEASUREMENT.hex()))
    failed, result = run_module(attestation_verify.main, dict(evidence, policy=path))
    assert not failed, result["msg"]
    assert result["applied"]["policy"]["path"] == path and len(result["applied"]["policy"]["sha256"]) == 64
    assert result["applied"]["measurements"] == ["ab" * 48, MEASUREMENT.hex()]
    assert result["checks"][-5:] == ["policy measurement", "policy product", "policy min_tcb", "policy guest policy",
                                     "policy vmpl"]


def test_without_policy_or_measurement_applied_says_nothing_was_checked(ca, tmp_path):
    failed, result = run_module(attestation_verify.main, write_evidence(ca, tmp_path, MEASUREMENT))
    assert not failed
    assert result["applied"] == {"policy": None, "measurements": []}


@pytest.mark.parametrize("policy_text,check", [
    ("version: 1\nmeasurements: ['%s']\n" % ("ab" * 48), "measurement"),
    ("version: 1\nvmpl: 0\n", "vmpl"),
    ("version: 1\nproducts: [Genoa]\n", "product"),
    ("version: 1\nmin_tcb: {microcode: 200}\n", "min_tcb"),
    ("version: 1\nguest_policy: {smt: false}\n", "guest policy"),
])
def test_policy_violation_names_the_check(ca, tmp_path, policy_text, check):
    evidence = write_evidence(ca, tmp_path, MEASUREMENT)
    failed, result = run_module(attestation_verify.main, dict(evidence, policy=policy_file(tmp_path, policy_text)))
    assert failed
    assert result["failed_check"] == check
    assert "attestation failed at check '%s' of policy" % check in result["msg"]


def test_option_and_policy_both_apply(ca, tmp_path):
    evidence = write_evidence(ca, tmp_path, MEASUREMENT)
    path = policy_file(tmp_path, "version: 1\nmeasurements: ['%s']\n" % ("ab" * 48))
    failed, result = run_module(attestation_verify.main,
                                dict(evidence, policy=path, expected_measurement=MEASUREMENT.hex()))
    assert failed and result["failed_check"] == "measurement"
    assert result["applied"]["measurements"] == [MEASUREMENT.hex(), "ab" * 48]


@pytest.mark.parametrize("text,message", [
    ("version: 1\nmeasurments: []\n", "unknown key(s) measurments"),
    ("version: 1\nmeasurements: [abc]\n", "not 96 hex digits"),
])
def test_a_bad_policy_fails_before_anything_is_verified(ca, tmp_path, text, message):
    evidence = write_evidence(ca, tmp_path, MEASUREMENT)
    failed, result = run_module(attestation_verify.main, dict(evidence, policy=policy_file(tmp_path, text)))
    assert failed and result["failed_check"] == "policy"
    assert message in result["msg"]


def test_an_absent_policy_file_is_named(ca, tmp_path):
    evidence = write_evidence(ca, tmp_path, MEASUREMENT)
    failed, result = run_module(attestation_verify.main, dict(evidence, policy=str(tmp_path / "none.yml")))
    assert failed and result["failed_check"] == "policy" and "none.yml" in result["msg"]


DOMAIN = """<domain type='kvm'>
  <name>web1</name>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type>
    <loader type='rom' readonly='yes'>%s</loader></os>
  <cpu mode='custom' match='exact'><model fallback='forbid'>EPYC-Milan</model></cpu>
  <launchSecurity type='sev-snp'><policy>0x30000</policy></launchSecurity>
</domain>"""


@pytest.mark.skipif(not os.path.isfile(DEBIAN_OVMF), reason="Debian's ovmf package is not installed (make apt)")
def test_recorded_measurement_end_to_end(ca, tmp_path):
    domain = DOMAIN % DEBIAN_OVMF
    inputs = FILTERS["snp_measurement_inputs"](domain)
    failed, measured = run_module(launch_measurement.main, {
        key: inputs[key] for key in ("ovmf", "vcpus", "vcpu_type", "vmm_type")})
    assert not failed, measured["msg"]
    record = dict(measured["inputs"], measurement=measured["measurement"],
                  sev_snp_measure_version=measured["sev_snp_measure_version"])
    defined = domain.replace("<vcpu", "<metadata>%s</metadata><vcpu" % FILTERS["snp_measurement_record"](record))
    recorded = FILTERS["snp_recorded_measurement"](defined)
    assert recorded["measurement"] == measured["measurement"]

    good = tmp_path / "good"
    good.mkdir()
    evidence = write_evidence(ca, good, bytes.fromhex(recorded["measurement"]))
    failed, result = run_module(attestation_verify.main, dict(evidence, expected_measurement=recorded["measurement"]))
    assert not failed, result["msg"]
    assert "measurement" in result["checks"]
    assert result["applied"]["measurements"] == [measured["measurement"]]

    flipped = bytearray.fromhex(recorded["measurement"])
    flipped[47] ^= 0x01
    bad = tmp_path / "bad"
    bad.mkdir()
    evidence = write_evidence(ca, bad, bytes(flipped))
    failed, result = run_module(attestation_verify.main, dict(evidence, expected_measurement=recorded["measurement"]))
    assert failed and result["failed_check"] == "measurement"
    assert bytes(flipped).hex() in result["msg"]
