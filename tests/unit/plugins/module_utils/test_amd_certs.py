# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import datetime
import warnings

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, snp_report
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem, rsa_key, sign_report
from corpus import read_corpus

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = bytes(range(64))


@pytest.fixture(scope="module")
def milan():
    return StandInAmdCa("Milan")


@pytest.fixture(scope="module")
def milan_vcek(milan):
    return milan.issue_vek(chip_id=CHIP, tcb=TCB)


def _verify(report, vek, ca, **kwargs):
    """Verify against ``ca``'s bundle, trusting ``ca``'s stand-in ARK (as trust_anchors would)."""
    kwargs.setdefault("trust_anchors", ca.anchors())
    return amd_certs.verify_attestation(report, vek, ca.chain_pem(), **kwargs)


def test_stand_in_report_verifies(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, report_data=b"nonce")
    parsed, passed = _verify(report, der(milan_vcek), milan,
                             expected_report_data=b"nonce".hex(), vmpl=0, min_tcb={"snp": 8})
    assert parsed["signing_key"] == "VCEK"
    assert "report signature" in passed and "report_data" in passed and "min_tcb" in passed


def test_pem_vek_accepted(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    _verify(report, pem(milan_vcek), milan)


@pytest.mark.slow
def test_every_single_bit_flip_in_signed_area_fails(milan_vcek):
    """5376 flips against one parsed key: the signature covers every byte up to 0x29F."""
    key = milan_vcek.public_key()
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    assert amd_certs.report_signature_valid(key, report)
    mutable = bytearray(report)
    accepted = []
    for offset in range(snp_report.SIGNED_SIZE):
        for bit in range(8):
            mutable[offset] ^= 1 << bit
            if amd_certs.report_signature_valid(key, mutable):
                accepted.append((offset, bit))
            mutable[offset] ^= 1 << bit
    assert accepted == []


def test_flip_in_signature_fails(milan, milan_vcek):
    report = bytearray(make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB))
    report[0x2A0] ^= 1
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(bytes(report), der(milan_vcek), milan)


def test_wrong_generation_chain_fails(milan_vcek):
    genoa = StandInAmdCa("Genoa")
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="certificate chain product.*Genoa"):
        _verify(report, der(milan_vcek), genoa)


def test_v3_report_of_other_product_than_vek_fails(milan_vcek, milan):
    report = make_report(p384_key("vek"), product="Genoa", chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VEK product"):
        _verify(report, der(milan_vcek), milan)


def test_chain_forged_with_same_names_fails(milan_vcek):
    impostor = StandInAmdCa("Milan", label="-impostor")
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="signed by ASK"):
        _verify(report, der(milan_vcek), impostor)


def test_vcek_of_another_chip_fails(milan):
    other = milan.issue_vek(chip_id=b"\x77" * 64, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VCEK hwID"):
        _verify(report, der(other), milan)


def test_reported_tcb_above_vcek_fails(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=dict(TCB, snp=9))
    with pytest.raises(amd_certs.ChainError, match="^VEK TCB.*snp=9"):
        _verify(report, der(milan_vcek), milan)


def test_report_signed_by_other_key_fails(milan, milan_vcek):
    report = make_report(p384_key("not-the-vcek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(report, der(milan_vcek), milan)


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
        _verify(report, der(milan_vcek), milan, **kwargs)
    assert err.value.check == check


def test_debug_refused_unless_allowed(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, policy=0xB0000)
    with pytest.raises(amd_certs.ChainError, match="^debug policy"):
        _verify(report, der(milan_vcek), milan)
    _verify(report, der(milan_vcek), milan, allow_debug=True)


def test_expired_vcek_fails(milan):
    old = milan.issue_vek(chip_id=CHIP, tcb=TCB, not_before=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                          days=10)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VCEK validity"):
        _verify(report, der(old), milan)


def test_vcek_signed_with_sha256_fails(milan):
    weak = milan.issue_vek(chip_id=CHIP, tcb=TCB, hash_algorithm=hashes.SHA256())
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="SHA-384"):
        _verify(report, der(weak), milan)


def test_vlek_chain_and_report():
    ca = StandInAmdCa("Milan", vlek=True)
    vlek = ca.issue_vek(tcb=TCB)
    report = make_report(p384_key("vek"), tcb=TCB, signing_key="VLEK", mask_chip_key=True, vmpl=1)
    parsed, _passed = _verify(report, der(vlek), ca, vmpl=1)
    assert parsed["signing_key"] == "VLEK" and parsed["vek_extensions"]["csp_id"]


def test_vlek_given_for_vcek_report_fails():
    ca = StandInAmdCa("Milan", vlek=True)
    report = make_report(p384_key("vek"), tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^signing key"):
        _verify(report, der(ca.issue_vek(tcb=TCB)), ca)


def test_turin_report_with_fmc():
    ca = StandInAmdCa("Turin")
    tcb = {"fmc": 1, "bootloader": 2, "tee": 0, "snp": 3, "microcode": 9}
    vcek = ca.issue_vek(chip_id=CHIP, tcb=tcb)
    report = make_report(p384_key("vek"), product="Turin", chip_id=CHIP, tcb=tcb)
    parsed, _passed = _verify(report, der(vcek), ca)
    assert parsed["reported_tcb"]["fmc"] == 1
    bumped = make_report(p384_key("vek"), product="Turin", chip_id=CHIP, tcb=dict(tcb, fmc=2))
    with pytest.raises(amd_certs.ChainError, match="fmc=2"):
        _verify(bumped, der(vcek), ca)


def test_rsa_4096_chain():
    ca = StandInAmdCa("Genoa", key_size=4096)
    vcek = ca.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), product="Genoa", chip_id=CHIP, tcb=TCB)
    parsed, _passed = _verify(report, der(vcek), ca)
    assert parsed["product"] == "Genoa"


@pytest.mark.parametrize("body", [b"", b"<html><body>404 Not Found</body></html>", b"\x30\x82\x05"])
def test_garbage_certificate_is_a_clear_error(body):
    with pytest.raises(amd_certs.ChainError, match="^load vek"):
        amd_certs.load_certificates(body, "vek")


def test_signed_area_boundary(milan, milan_vcek):
    """Bytes after 0x29F are outside the signature, so changing reserved bytes there is harmless."""
    report = bytearray(make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB))
    report[0x49F] ^= 0xFF
    _verify(bytes(report), der(milan_vcek), milan)
    report[0x29F] ^= 0x01
    with pytest.raises(amd_certs.ChainError, match="^report signature"):
        _verify(bytes(report), der(milan_vcek), milan)
    sign_report(report, p384_key("vek"))
    _verify(bytes(report), der(milan_vcek), milan)


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


# --- Trust anchors: the chain file is never its own anchor --------------------------------

def test_self_consistent_forged_chain_is_refused_without_trust_anchors():
    """The attack: own RSA-4096 ARK, own ASK, own VCEK, report signed by that VCEK."""
    forged = StandInAmdCa("Milan", key_size=4096, label="-forged")
    vcek = forged.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError) as err:
        amd_certs.verify_attestation(report, der(vcek), forged.chain_pem())
    assert err.value.check == "trust anchor"
    assert "ARK-Milan" in err.value.detail and "trust_anchors" in err.value.detail
    parsed, passed = _verify(report, der(vcek), forged)
    assert parsed["anchor"]["source"] == "stand-in ARK-Milan"
    assert parsed["anchor"]["sha256"] == amd_certs.fingerprint(forged.ark)
    assert passed[1] == "trust anchor ARK-Milan (stand-in ARK-Milan)"


def test_trust_anchor_of_another_hierarchy_does_not_cover_a_chain():
    forged = StandInAmdCa("Milan", label="-forged")
    other = StandInAmdCa("Milan", label="-other")
    vcek = forged.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^trust anchor"):
        amd_certs.verify_attestation(report, der(vcek), forged.chain_pem(), trust_anchors=other.anchors())


def test_real_reports_name_the_pinned_anchor():
    data = [read_corpus("binary/" + p, "rb") for p in REAL[0][:3]]
    parsed, passed = amd_certs.verify_attestation(*data)
    assert parsed["anchor"] == {"source": "pinned AMD root", "subject": "ARK-Milan",
                                "sha256": "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"}
    assert "trust anchor ARK-Milan (pinned AMD root)" in passed


def test_real_chain_with_its_ark_swapped_for_a_forged_one_is_refused():
    """AMD's real ASK kept, the ARK replaced by one with the same name: anchor check, not signature."""
    real = amd_certs.load_certificates(read_corpus("binary/virtee-sev/cert_chain_milan", "rb"), "chain")
    forged = StandInAmdCa("Milan", label="-swap")
    chain = pem(real[0], forged.ark)
    data = [read_corpus("binary/" + p, "rb") for p in REAL[0][:2]]
    with pytest.raises(amd_certs.ChainError, match="^trust anchor"):
        amd_certs.verify_attestation(data[0], data[1], chain)


def test_ark_self_signature_is_checked_even_for_a_trusted_root():
    ca = StandInAmdCa("Milan", label="-not-self-signed", ark_signer=rsa_key("someone-else"))
    vcek = ca.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^ARK self-signature"):
        _verify(report, der(vcek), ca)


def test_ask_signed_with_pkcs1v15_is_refused():
    ca = StandInAmdCa("Milan", label="-pkcs1", ask_padding=padding.PKCS1v15())
    vcek = ca.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^ASK signed by ARK: .*RSA-PSS"):
        _verify(report, der(vcek), ca)


def test_vcek_signed_with_pkcs1v15_is_refused(milan):
    vcek = milan.issue_vek(chip_id=CHIP, tcb=TCB, padding_scheme=padding.PKCS1v15())
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VCEK signed by ASK: .*RSA-PSS"):
        _verify(report, der(vcek), milan)


def test_vcek_on_p256_is_refused(milan):
    p256 = ec.generate_private_key(ec.SECP256R1())
    vcek = milan.issue_vek(chip_id=CHIP, tcb=TCB, key=p256)
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VEK key: .*P-384"):
        _verify(report, der(vcek), milan)


def test_vek_file_with_two_certificates_is_refused(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^load vek: expected exactly one certificate, found 2"):
        _verify(report, pem(milan_vcek, milan_vcek), milan)


def test_report_signature_algorithm_must_be_ecdsa_p384(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, signature_algo=2)
    with pytest.raises(amd_certs.ChainError, match="^signature algorithm: report uses algorithm 2"):
        _verify(report, der(milan_vcek), milan)


def test_vcek_tcb_above_reported_tcb_fails(milan):
    newer = milan.issue_vek(chip_id=CHIP, tcb=dict(TCB, snp=9))
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VEK TCB.*snp=8.*snp=9"):
        _verify(report, der(newer), milan)


def test_vcek_without_a_tcb_extension_fails(milan):
    partial = milan.issue_vek(chip_id=CHIP, tcb={"bootloader": 3, "tee": 0, "snp": 8})
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError, match="^VEK TCB: the VCEK has no microcode SPL"):
        _verify(report, der(partial), milan)


def test_masked_chip_id_skips_the_hwid_check(milan):
    other = milan.issue_vek(chip_id=b"\x77" * 64, tcb=TCB)
    report = make_report(p384_key("vek"), tcb=TCB, mask_chip_key=True)
    parsed, passed = _verify(report, der(other), milan)
    assert parsed["key_info"]["mask_chip_key"] is True


# --- Expected values: exact lengths for measurement and HOST_DATA ---------------------------

@pytest.mark.parametrize("argument,value,message", [
    ("expected_measurement", "22" * 47, "exactly 48 bytes (96 hex digits), got 47"),
    ("expected_measurement", "22" * 49, "exactly 48 bytes (96 hex digits), got 49"),
    ("expected_measurement", "", "exactly 48 bytes (96 hex digits), got 0"),
    ("expected_host_data", "00" * 31, "exactly 32 bytes (64 hex digits), got 31"),
    ("expected_host_data", "", "exactly 32 bytes (64 hex digits), got 0"),
    ("expected_host_data", "0x", "exactly 32 bytes (64 hex digits), got 0"),
    ("expected_report_data", "00" * 65, "65 bytes given, the report field has 64"),
    ("expected_measurement", "g" * 96, "not a hex string of 48 bytes"),
])
def test_expected_values_of_the_wrong_length_are_argument_errors(milan, milan_vcek, argument, value, message):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, measurement=b"\x22" * 48)
    with pytest.raises(amd_certs.ChainError) as err:
        _verify(report, der(milan_vcek), milan, **{argument: value})
    assert err.value.check == argument
    assert message in err.value.detail


def test_expected_values_of_the_right_length_match(milan, milan_vcek):
    report = make_report(p384_key("vek"), chip_id=CHIP, tcb=TCB, measurement=b"\x22" * 48,
                         host_data=b"\x00" * 32, report_data=b"\x01\x02")
    _parsed, passed = _verify(report, der(milan_vcek), milan, expected_measurement="0x" + "22" * 48,
                              expected_host_data="00" * 32, expected_report_data="0102")
    assert ["report_data", "measurement", "host_data"] == [p for p in passed if p in (
        "report_data", "measurement", "host_data")]
    # An empty nonce still means 64 zero bytes: report_data keeps its documented padding.
    with pytest.raises(amd_certs.ChainError, match="^report_data"):
        _verify(report, der(milan_vcek), milan, expected_report_data="")


def test_expected_values_are_checked_before_anything_else():
    with pytest.raises(amd_certs.ChainError, match="^expected_measurement"):
        amd_certs.verify_attestation(b"not a report", b"", b"", expected_measurement="22" * 47)


# --- Exact bodies: nothing but the certificates --------------------------------------------

def test_exact_pem_accepts_kds_bundle_and_crlf(milan):
    body = milan.chain_pem()
    assert [amd_certs.common_name(c.subject) for c in amd_certs.exact_pem_certificates(body, "cert_chain")] == [
        "SEV-Milan", "ARK-Milan"]
    assert len(amd_certs.exact_pem_certificates(body.replace(b"\n", b"\r\n") + b"\r\n", "cert_chain")) == 2


@pytest.mark.parametrize("mangle", [
    lambda body: body + b"junk",
    lambda body: body + b"\x00" * 1000,
    lambda body: b"<html>" + body,
    lambda body: body.replace(b"-----END CERTIFICATE-----\n-----BEGIN", b"-----END CERTIFICATE-----\nx\n-----BEGIN"),
    lambda body: body[:-40],
    lambda body: b"",
    lambda body: b"\n\n",
])
def test_exact_pem_refuses_anything_else(milan, mangle):
    with pytest.raises(amd_certs.EncodingError, match="^cert_chain encoding|^load cert_chain"):
        amd_certs.exact_pem_certificates(mangle(milan.chain_pem()), "cert_chain")


def test_exact_der_refuses_trailing_bytes_and_pem(milan_vcek):
    assert amd_certs.exact_der_certificate(der(milan_vcek), "vcek").subject == milan_vcek.subject
    with pytest.raises(amd_certs.EncodingError, match="^load vcek"):
        amd_certs.exact_der_certificate(der(milan_vcek) + b"\x00", "vcek")
    with pytest.raises(amd_certs.EncodingError, match="^vcek encoding: expected DER, got PEM"):
        amd_certs.exact_der_certificate(pem(milan_vcek), "vcek")


def test_trust_anchor_file_that_is_no_certificate():
    with pytest.raises(amd_certs.EncodingError, match="^load trust anchor x.pem"):
        amd_certs.load_trust_anchors([("x.pem", b"hello")])


def test_chain_of_a_product_without_a_pinned_root_is_refused_cleanly():
    """A v2 report names no product; a VEK issued by 'SEV-Rome' must not reach a lookup that crashes."""
    rome = StandInAmdCa("Rome", label="-unpinned")
    vcek = rome.issue_vek(chip_id=CHIP, tcb=TCB)
    report = make_report(p384_key("vek"), version=2, chip_id=CHIP, tcb=TCB)
    with pytest.raises(amd_certs.ChainError) as err:
        amd_certs.verify_attestation(report, der(vcek), rome.chain_pem())
    assert err.value.check == "trust anchor" and "none pinned" in err.value.detail
