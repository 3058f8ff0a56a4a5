# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import datetime
import time
import warnings

import pytest
from cryptography.hazmat.primitives import hashes

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, snp_report
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem, sign_report
from corpus import read_corpus

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = bytes(range(64))


@pytest.fixture(scope="module")
def milan():
    return StandInAmdCa("Milan")


@pytest.fixture(scope="module")
def milan_vcek(milan):
    return milan.issue_vek(chip_id=CHIP, tcb=TCB)


def _verify(report, vek, chain, **kwargs):
    return amd_certs.verify_attestation(report, vek, chain, **kwargs)


def test_stand_in_report_verifies(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, report_data=b"nonce")
    parsed, passed = _verify(report, der(milan_vcek), milan.chain_pem(),
                             expected_report_data=b"nonce".hex(), vmpl=0, min_tcb={"snp": 8})
    assert parsed["signing_key"] == "VCEK"
    assert "report signature" in passed and "report_data" in passed and "min_tcb" in passed


def test_pem_vek_accepted(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    _verify(report, pem(milan_vcek), milan.chain_pem())


@pytest.mark.slow
def test_every_single_bit_flip_in_signed_area_fails(milan_vcek):
    """5376 flips against one parsed key: the signature covers every byte up to 0x29F."""
    key = milan_vcek.public_key()
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    assert amd_certs.report_signature_valid(key, report)
    start = time.monotonic()
    mutable = bytearray(report)
    accepted = []
    for offset in range(snp_report.SIGNED_SIZE):
        for bit in range(8):
            mutable[offset] ^= 1 << bit
            if amd_certs.report_signature_valid(key, mutable):
                accepted.append((offset, bit))
            mutable[offset] ^= 1 << bit
    assert accepted == []
    assert time.monotonic() - start < 60


def test_flip_in_signature_fails(milan, milan_vcek):
    report = bytearray(make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB))
    report[0x2A0] ^= 1
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(bytes(report), der(milan_vcek), milan.chain_pem())


def test_wrong_generation_chain_fails(milan_vcek):
    genoa = StandInAmdCa("Genoa")
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="certificate chain product.*Genoa"):
        _verify(report, der(milan_vcek), genoa.chain_pem())


def test_v3_report_of_other_product_than_vek_fails(milan_vcek, milan):
    report = make_report(p384_key("vek"), product="Genoa", chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VEK product"):
        _verify(report, der(milan_vcek), milan.chain_pem())


def test_chain_forged_with_same_names_fails(milan_vcek):
    impostor = StandInAmdCa("Milan", label="-impostor")
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="signed by ASK"):
        _verify(report, der(milan_vcek), impostor.chain_pem())


def test_vcek_of_another_chip_fails(milan):
    other = milan.issue_vek(chip_id=b"\x77" * 64, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VCEK hwID"):
        _verify(report, der(other), milan.chain_pem())


def test_reported_tcb_above_vcek_fails(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=dict(TCB, snp=9))
    with pytest.raises(amd_certs.ChainError, match="^VEK TCB.*snp=9"):
        _verify(report, der(milan_vcek), milan.chain_pem())


def test_report_signed_by_other_key_fails(milan, milan_vcek):
    report = make_report(p384_key("not-the-vcek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(report, der(milan_vcek), milan.chain_pem())


@pytest.mark.parametrize("kwargs,check", [
    ({"expected_report_data": "00" * 63 + "01"}, "report_data"),
    ({"expected_measurement": "33" * 48}, "measurement"),
    ({"expected_host_data": "44" * 32}, "host_data"),
    ({"min_tcb": {"microcode": 200}}, "min_tcb"),
    ({"min_tcb": {"ucode": 1}}, "min_tcb"),
    ({"vmpl": 1}, "vmpl"),
    ({"expected_measurement": "zz"}, "expected_measurement"),
])
def test_policy_checks_fail(milan, milan_vcek, kwargs, check):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError) as err:
        _verify(report, der(milan_vcek), milan.chain_pem(), **kwargs)
    assert err.value.check == check


def test_debug_refused_unless_allowed(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, policy=0xB0000)
    with pytest.raises(amd_certs.ChainError, match="^debug policy"):
        _verify(report, der(milan_vcek), milan.chain_pem())
    _verify(report, der(milan_vcek), milan.chain_pem(), allow_debug=True)


def test_expired_vcek_fails(milan):
    old = milan.issue_vek(chip_id=CHIP, tcb=TCB, not_before=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                          days=10)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VCEK validity"):
        _verify(report, der(old), milan.chain_pem())


def test_vcek_signed_with_sha256_fails(milan):
    weak = milan.issue_vek(chip_id=CHIP, tcb=TCB, hash_algorithm=hashes.SHA256())
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="SHA-384"):
        _verify(report, der(weak), milan.chain_pem())


def test_vlek_chain_and_report():
    ca = StandInAmdCa("Milan", vlek=True)
    vlek = ca.issue_vek(tcb=TCB)
    report = make_report(p384_key("vek"), tcb=TCB, signing_key="VLEK", mask_chip_key=True, vmpl=1)
    parsed, _passed = _verify(report, der(vlek), ca.chain_pem(), vmpl=1)
    assert parsed["signing_key"] == "VLEK" and parsed["vek_extensions"]["csp_id"]


def test_vlek_given_for_vcek_report_fails():
    ca = StandInAmdCa("Milan", vlek=True)
    report = make_report(p384_key("vek"), tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^signing key"):
        _verify(report, der(ca.issue_vek(tcb=TCB)), ca.chain_pem())


def test_turin_report_with_fmc():
    ca = StandInAmdCa("Turin")
    tcb = {"fmc": 1, "bootloader": 2, "tee": 0, "snp": 3, "microcode": 9}
    vcek = ca.issue_vek(chip_id=CHIP, tcb=tcb)
    report = make_report(p384_key("vek"), product="Turin", chip_id=CHIP, tcb=tcb)
    parsed, _passed = _verify(report, der(vcek), ca.chain_pem())
    assert parsed["reported_tcb"]["fmc"] == 1
    bumped = make_report(p384_key("vek"), product="Turin", chip_id=CHIP, tcb=dict(tcb, fmc=2))
    with pytest.raises(amd_certs.ChainError, match="fmc=2"):
        _verify(bumped, der(vcek), ca.chain_pem())


def test_rsa_4096_chain():
    ca = StandInAmdCa("Genoa", key_size=4096)
    vcek = ca.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), product="Genoa", chip_id=CHIP, tcb=TCB)
    parsed, _passed = _verify(report, der(vcek), ca.chain_pem())
    assert parsed["product"] == "Genoa"


@pytest.mark.parametrize("body", [b"", b"<html><body>404 Not Found</body></html>", b"\x30\x82\x05"])
def test_garbage_certificate_is_a_clear_error(body):
    with pytest.raises(amd_certs.ChainError, match="^load vek"):
        amd_certs.load_certificates(body, "vek")


def test_signed_area_boundary(milan, milan_vcek):
    """Bytes after 0x29F are outside the signature, so changing reserved bytes there is harmless."""
    report = bytearray(make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB))
    report[0x49F] ^= 0xFF
    _verify(bytes(report), der(milan_vcek), milan.chain_pem())
    report[0x29F] ^= 0x01
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(bytes(report), der(milan_vcek), milan.chain_pem())
    sign_report(report, p384_key("vek"))
    _verify(bytes(report), der(milan_vcek), milan.chain_pem())


# Real reports and chains; SOURCES.md of the corpus says which verifies with which.
REAL = [
    ("virtee-sev/report_milan.bin", "virtee-sev/vcek_milan.der", "virtee-sev/cert_chain_milan", None),
    ("virtee-sev/report_milan.bin", "virtee-sev/vcek_milan.der", "go-sev-guest/ask_ark_milan.pem", None),
    ("go-sev-guest/attestation.bin", "go-sev-guest/vcek.testcer", "go-sev-guest/ask_ark_milan.pem", None),
    # The VLEK is valid for one year only; check it at a time inside that year.
    ("trustee/snp__test-vlek-report.bin", "trustee/snp__test-vlek.der", "trustee/snp__milan_ask_ark_asvk.pem",
     datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)),
    ("trustee/snp__test-vlek-report.bin", "trustee/snp__test-vlek.der", "go-sev-guest/ask_ark_milan_vlek.pem",
     datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)),
]


@pytest.mark.parametrize("report,vek,chain,when", REAL, ids=[r[0] + "+" + r[2] for r in REAL])
def test_real_reports_verify_without_warnings(report, vek, chain, when):
    data = [read_corpus("binary/" + p, "rb") for p in (report, vek, chain)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed, passed = amd_certs.verify_attestation(*data, now=when, allow_debug=True)
    assert parsed["product"] == "Milan"
    assert "report signature" in passed


@pytest.mark.parametrize("report,vek,chain,check", [
    ("virtee-sev/report_milan.bin", "go-sev-guest/vcek.testcer", "go-sev-guest/ask_ark_milan.pem", "VEK TCB"),
    ("virtee-sev/report_milan.bin", "virtee-sev/vcek_milan.der", "go-sev-guest/ask_ark_genoa.pem",
     "certificate chain product"),
    ("virtee-sev/report_milan.bin", "virtee-sev/vcek_turin.der", "virtee-sev/cert_chain_turin", "VEK product"),
    ("trustee/snp__test-vlek-report.bin", "trustee/snp__test-vlek.der", "trustee/snp__genoa_ask_ark_asvk.pem",
     "certificate chain product"),
    ("go-sev-guest/attestation.bin", "go-sev-guest/vcek.testcer", "go-sev-guest/ask_ark_milan.pem", "debug policy"),
])
def test_real_mismatches_fail(report, vek, chain, check):
    data = [read_corpus("binary/" + p, "rb") for p in (report, vek, chain)]
    with pytest.raises(amd_certs.ChainError) as err:
        amd_certs.verify_attestation(*data)
    assert err.value.check == check


def test_real_vcek_extensions():
    ext = amd_certs.vek_extensions(amd_certs.load_certificates(
        read_corpus("binary/virtee-sev/vcek_turin.der", "rb"), "vek")[0])
    assert ext["product_name"] == "Turin"
    assert len(ext["hwid"]) == 16
    assert set(ext["tcb"]) == {"fmc", "bootloader", "tee", "snp", "microcode"}
