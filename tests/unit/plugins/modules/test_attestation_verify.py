# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import json

import pytest

from ansible_collections.coco.sev_snp.plugins.modules import attestation_verify
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem
from corpus import read_corpus
from attest_module_runner import run_module

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = b"\x5a" * 64


@pytest.fixture(scope="module")
def evidence(tmp_path_factory):
    ca = StandInAmdCa("Milan")
    base = tmp_path_factory.mktemp("evidence")
    files = {
        "report": make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, report_data=b"\x01\x02"),
        "vek": der(ca.issue_vek(chip_id=CHIP, tcb=TCB)),
        "cert_chain": ca.chain_pem(),
        "trust_anchors": pem(ca.ark),
    }
    paths = {}
    for name, body in files.items():
        path = base / name
        path.write_bytes(body)
        paths[name] = str(path)
    paths["trust_anchors"] = [paths["trust_anchors"]]
    return paths


def test_verifies_and_returns_fields(evidence):
    arguments = dict(evidence, expected_report_data="0102", vmpl=0, min_tcb={"snp": "8"})
    failed, result = run_module(attestation_verify.main, arguments)
    assert not failed, result["msg"]
    assert result["verified"] is True and result["changed"] is False
    assert result["report"]["chip_id"] == CHIP.hex()
    assert result["report"]["policy"]["smt"] is True
    assert result["signing_key"] == "VCEK" and result["product"] == "Milan"
    json.dumps(result)


def test_check_mode_verifies_too(evidence):
    failed, result = run_module(attestation_verify.main, evidence, check_mode=True)
    assert not failed and result["verified"]


def test_wrong_nonce_names_the_check(evidence):
    failed, result = run_module(attestation_verify.main, dict(evidence, expected_report_data="ff"))
    assert failed
    assert result["failed_check"] == "report_data"
    assert "report_data" in result["msg"]


def test_missing_file_is_a_clear_failure(evidence, tmp_path):
    failed, result = run_module(attestation_verify.main, dict(evidence, vek=str(tmp_path / "absent.der")))
    assert failed and "cannot read vek" in result["msg"]


def test_bad_min_tcb_and_validity_time(evidence):
    failed, result = run_module(attestation_verify.main, dict(evidence, min_tcb={"snp": "high"}))
    assert failed and "min_tcb" in result["msg"]
    failed, result = run_module(attestation_verify.main, dict(evidence, validity_time="yesterday"))
    assert failed and "ISO 8601" in result["msg"]


def test_validity_time_outside_vcek_lifetime(evidence):
    failed, result = run_module(attestation_verify.main, dict(evidence, validity_time="2001-01-01T00:00:00Z"))
    assert failed and result["failed_check"] == "ARK validity"


def test_corpus_vlek_report_with_validity_time(tmp_path):
    paths = {}
    for name, rel in (("report", "trustee/snp__test-vlek-report.bin"), ("vek", "trustee/snp__test-vlek.der"),
                      ("cert_chain", "trustee/snp__milan_ask_ark_asvk.pem")):
        path = tmp_path / name
        path.write_bytes(read_corpus("binary/" + rel, "rb"))
        paths[name] = str(path)
    failed, result = run_module(attestation_verify.main, dict(paths, vmpl=1, validity_time="2025-06-01"))
    assert not failed, result["msg"]
    assert result["signing_key"] == "VLEK"
    assert result["report"]["vek_extensions"]["csp_id"]


def test_stand_in_chain_without_trust_anchors_is_not_verified(evidence):
    failed, result = run_module(attestation_verify.main, dict(evidence, trust_anchors=[]))
    assert failed and result["failed_check"] == "trust anchor"
    assert "verified" not in result
    assert "not AMD's ARK-Milan" in result["msg"] and "trust_anchors" in result["msg"]


def test_result_names_the_anchor(evidence):
    failed, result = run_module(attestation_verify.main, evidence)
    assert not failed, result["msg"]
    assert result["anchor"]["source"] == evidence["trust_anchors"][0]
    assert result["anchor"]["subject"] == "ARK-Milan" and len(result["anchor"]["sha256"]) == 64


@pytest.mark.parametrize("argument,value,length", [
    ("expected_measurement", "22" * 47, "48 bytes"), ("expected_measurement", "", "48 bytes"),
    ("expected_host_data", "", "32 bytes"), ("expected_host_data", "00" * 33, "32 bytes"),
])
def test_expected_values_of_wrong_length_fail_before_reading_files(evidence, tmp_path, argument, value, length):
    arguments = dict(evidence, report=str(tmp_path / "absent"), **{argument: value})
    failed, result = run_module(attestation_verify.main, arguments)
    assert failed and result["failed_check"] == argument
    assert result["msg"].startswith(argument) and length in result["msg"]


@pytest.mark.parametrize("body,message", [(None, "cannot read trust_anchors file"), (b"junk", "not a DER or PEM")])
def test_bad_trust_anchor_files(evidence, tmp_path, body, message):
    path = tmp_path / "anchor.pem"
    if body is not None:
        path.write_bytes(body)
    failed, result = run_module(attestation_verify.main, dict(evidence, trust_anchors=[str(path)]))
    assert failed and result["failed_check"] == "read trust_anchors" and message in result["msg"]


def test_corpus_report_verifies_with_no_options(tmp_path):
    paths = {}
    for name, rel in (("report", "virtee-sev/report_milan.bin"), ("vek", "virtee-sev/vcek_milan.der"),
                      ("cert_chain", "virtee-sev/cert_chain_milan")):
        path = tmp_path / name
        path.write_bytes(read_corpus("binary/" + rel, "rb"))
        paths[name] = str(path)
    failed, result = run_module(attestation_verify.main, paths)
    assert not failed, result["msg"]
    assert result["anchor"]["source"] == "pinned AMD root"
