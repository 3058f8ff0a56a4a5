# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One test per decision of amd_certs that the end-to-end tests do not pin on their own.

Each test here fails when the check it names is removed or loosened (see make mutation).
"""
import datetime

import pytest
from cryptography.hazmat.primitives import hashes

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, amd_roots
from amd_test_ca import StandInAmdCa, _builder, _der_ia5, der, make_report, p384_key, pem, rsa_key

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = bytes(range(64))


@pytest.fixture(scope="module")
def milan():
    return StandInAmdCa("Milan")


@pytest.fixture(scope="module")
def vcek(milan):
    return milan.issue_vek(chip_id=CHIP, tcb=TCB)


def _verify(report, vek, ca, **kwargs):
    kwargs.setdefault("trust_anchors", ca.anchors())
    return amd_certs.verify_attestation(report, vek, ca.chain_pem(), **kwargs)


def _report(**kwargs):
    kwargs.setdefault("chip_id", CHIP)
    kwargs.setdefault("tcb", TCB)
    return make_report(p384_key("vek"), **kwargs)


def _cert(data):
    return amd_certs.load_certificates(data, "test")[0]


# --- loading -----------------------------------------------------------------------------------

def test_empty_input_says_so():
    with pytest.raises(amd_certs.EncodingError, match="^load vek: file is empty$"):
        amd_certs.load_certificates(b"", "vek")


def test_blank_lines_between_pem_blocks_are_whitespace(milan):
    body = pem(milan.ask) + b"\n\r\n \t\n" + pem(milan.ark) + b"\n\n"
    assert len(amd_certs.exact_pem_certificates(body, "cert_chain")) == 2


def test_junk_is_located_by_offset(milan):
    body = pem(milan.ask) + b"junk!"
    with pytest.raises(amd_certs.EncodingError) as err:
        amd_certs.exact_pem_certificates(body, "cert_chain")
    assert err.value.detail == "5 bytes at offset %d are not a PEM certificate block" % len(pem(milan.ask))


# --- trust anchors -------------------------------------------------------------------------------

@pytest.mark.parametrize("product", ["Milan", "Genoa", "Turin"])
def test_the_pinned_root_itself_is_the_pinned_anchor(product):
    ark = _cert(amd_roots.pinned_ark_der(product))
    assert amd_certs.anchor_for(ark, product) == {
        "source": "pinned AMD root", "subject": "ARK-%s" % product, "sha256": amd_roots.pinned_ark(product)["sha256"]}
    assert amd_certs.anchor_for(ark, product, trust_anchors=[]) is not None


def test_listed_anchor_is_returned_as_a_copy(milan):
    anchors = milan.anchors()
    found = amd_certs.anchor_for(milan.ark, "Milan", anchors)
    assert found == anchors[0] and found is not anchors[0]


# --- DER values of AMD's extensions --------------------------------------------------------------

@pytest.mark.parametrize("data,tag,value", [
    (b"\x02\x01\x05", 0x02, b"\x05"),
    (b"\x02\x02\x00\xc8", 0x02, b"\x00\xc8"),
    (b"\x16\x81\x03abc", 0x16, b"abc"),
    (b"\x16\x82\x00\x03abc", 0x16, b"abc"),
    (b"\x02", 0x02, None),
    (b"", 0x02, None),
    (b"\x16\x01a", 0x02, None),
    (b"\x02\x03\x01", 0x02, None),
    (b"\x02\x00", 0x02, b""),
])
def test_der_value(data, tag, value):
    assert amd_certs._der_value(data, tag) == value


def _extensions(ca, **raw):
    return amd_certs.vek_extensions(ca.issue_vek(chip_id=CHIP, tcb=TCB, raw_extensions=raw))


def test_a_missing_tcb_extension_does_not_hide_the_others(milan):
    assert _extensions(milan, **{"3.1": None})["tcb"] == {"tee": 0, "snp": 8, "microcode": 115}


def test_tcb_extension_that_is_not_an_integer(milan):
    with pytest.raises(amd_certs.ChainError, match=r"^VEK extensions: extension .*3\.3 \(snp\) is not a DER INTEGER"):
        _extensions(milan, **{"3.3": _der_ia5("8")})


def test_tcb_integers_are_signed_as_der_says(milan):
    assert _extensions(milan, **{"3.8": b"\x02\x01\xff"})["tcb"]["microcode"] == -1
    assert _extensions(milan, **{"3.8": b"\x02\x02\x00\xff"})["tcb"]["microcode"] == 255


@pytest.mark.parametrize("raw,hwid", [
    (CHIP, CHIP.hex()),
    (b"\x04\x40" + CHIP, CHIP.hex()),                          # OCTET STRING wrapper
    (b"\x04\x08" + CHIP[:8], CHIP[:8].hex()),                  # Turin's 8 bytes, wrapped
    (CHIP[:10], CHIP[:10].hex()),                              # 10 raw bytes not starting with 0x04
    (b"\x04\x07" + CHIP[:8], (b"\x04\x07" + CHIP[:8]).hex()),  # length byte wrong: not a wrapper
    (b"\x05\x40" + CHIP, (b"\x05\x40" + CHIP).hex()),          # tag wrong: not a wrapper
    (b"\x04\x40" + CHIP[:63], (b"\x04\x40" + CHIP[:63]).hex()),  # 65 bytes: not a wrapper
    (b"\x04\x3e" + CHIP[:62], (b"\x04\x3e" + CHIP[:62]).hex()),  # a raw chip id that merely looks wrapped
])
def test_hwid_octet_string_wrapper_is_removed_only_when_it_is_one(milan, raw, hwid):
    assert _extensions(milan, **{"4": raw})["hwid"] == hwid


def test_product_name_plain_or_ia5(milan):
    assert _extensions(milan)["product_name"] == "Milan-B0"
    assert _extensions(milan, **{"2": b"Milan-B0"})["product_name"] == "Milan-B0"
    assert _extensions(milan, **{"2": None})["product_name"] is None


# --- signatures and validity ---------------------------------------------------------------------

def test_issuer_name_must_match(milan, vcek):
    with pytest.raises(amd_certs.ChainError, match="^x: issuer 'SEV-Milan' does not match 'ARK-Milan'"):
        amd_certs.verify_signed_by(vcek, milan.ark, "x")


def test_issuer_with_an_ec_key_is_not_rsa_pss(milan):
    ec_ark = _builder("ARK-Milan", "ARK-Milan", p384_key("ec-ark").public_key()).sign(p384_key("ec-ark"), hashes.SHA384())
    with pytest.raises(amd_certs.ChainError, match="^x: signature is not RSA-PSS"):
        amd_certs.verify_signed_by(milan.ask, ec_ark, "x")


def test_validity_bounds_are_inclusive():
    since = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    ca = StandInAmdCa("Milan", label="-validity", not_before=since)
    start = datetime.datetime(2021, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
    vek = der(ca.issue_vek(chip_id=CHIP, tcb=TCB, not_before=start, days=10))
    end = start + datetime.timedelta(days=10)
    second = datetime.timedelta(seconds=1)
    for now in (start, end):
        amd_certs.verify_chain(ca.chain_pem(), vek, now=now, trust_anchors=ca.anchors())
    for now in (start - second, end + second):
        with pytest.raises(amd_certs.ChainError, match="^VCEK validity"):
            amd_certs.verify_chain(ca.chain_pem(), vek, now=now, trust_anchors=ca.anchors())


def test_validity_time_replaces_now():
    since = datetime.datetime(1999, 1, 1, tzinfo=datetime.timezone.utc)
    ca = StandInAmdCa("Milan", label="-archive", not_before=since)
    old = ca.issue_vek(chip_id=CHIP, tcb=TCB, not_before=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                       days=10)
    when = datetime.datetime(2000, 1, 5, tzinfo=datetime.timezone.utc)
    parsed, _passed = _verify(_report(), der(old), ca, now=when)
    assert parsed["signing_key"] == "VCEK"


def test_report_signature_valid_is_a_bool(vcek):
    report = bytearray(_report())
    report[0x90] ^= 1
    assert amd_certs.report_signature_valid(vcek.public_key(), bytes(report)) is False


# --- chain selection -----------------------------------------------------------------------------

def test_pick_chain_needs_both_certificates(milan):
    assert amd_certs.pick_chain([milan.ask, milan.ark], "Milan", "VCEK") == (milan.ark, milan.ask)
    for certs, holds in (([milan.ask], "SEV-Milan"), ([milan.ark], "ARK-Milan"), ([], "no certificates")):
        with pytest.raises(amd_certs.ChainError, match="bundle holds %s;" % holds):
            amd_certs.pick_chain(certs, "Milan", "VCEK")


def test_vek_issued_by_a_non_amd_name(milan):
    stranger = milan.issue_vek(chip_id=CHIP, tcb=TCB, issuer="Example Issuing CA")
    with pytest.raises(amd_certs.ChainError, match="^VEK issuer: issuer 'Example Issuing CA' is not an AMD SEV"):
        _verify(_report(), der(stranger), milan)


def test_vek_with_an_rsa_key_is_refused(milan):
    rsa_vek = milan.issue_vek(chip_id=CHIP, tcb=TCB, key=rsa_key("rsa-vek"))
    with pytest.raises(amd_certs.ChainError, match="^VEK key: the VCEK key is not ECDSA P-384"):
        _verify(_report(), der(rsa_vek), milan)


# --- version 2 reports: the VEK names the product ------------------------------------------------

def test_version_2_report_takes_its_product_from_the_vek(milan, vcek):
    parsed, passed = _verify(_report(version=2), der(vcek), milan)
    assert parsed["product"] == "Milan" and parsed["version"] == 2
    assert "VEK matches reported TCB and chip id" in passed


def test_version_2_report_cannot_come_from_a_turin():
    turin = StandInAmdCa("Turin")
    tcb = dict(TCB, fmc=1)
    vek = turin.issue_vek(chip_id=CHIP, tcb=tcb)
    report = make_report(p384_key("vek"), version=2, product="Turin", chip_id=CHIP, tcb=tcb)
    with pytest.raises(amd_certs.ChainError, match="^VEK product: a version 2 report cannot come from a Turin"):
        _verify(report, der(vek), turin)


# --- VEK against the report ----------------------------------------------------------------------

def test_vlek_with_an_unmasked_chip_id_needs_no_hwid():
    ca = StandInAmdCa("Milan", vlek=True)
    report = _report(signing_key="VLEK", vmpl=1)
    _parsed, passed = _verify(report, der(ca.issue_vek(tcb=TCB)), ca)
    assert "VEK matches reported TCB" in passed and "VEK matches reported TCB and chip id" not in passed


def test_vcek_without_hwid(milan):
    bare = milan.issue_vek(chip_id=CHIP, tcb=TCB, raw_extensions={"4": None})
    with pytest.raises(amd_certs.ChainError, match="^VCEK hwID: the VCEK has no hwID extension$"):
        _verify(_report(), der(bare), milan)


def test_hwid_mismatch_names_both_chips_by_16_digits(milan):
    other = milan.issue_vek(chip_id=b"\x77" * 64, tcb=TCB)
    with pytest.raises(amd_certs.ChainError) as err:
        _verify(_report(), der(other), milan)
    assert err.value.detail == "the VCEK belongs to chip %s..., the report to chip %s..." % ("77" * 8, CHIP[:8].hex())


def test_bad_hex_message_names_the_digits():
    with pytest.raises(amd_certs.ChainError, match=r"is not a hex string of 32 bytes \(64 hex digits\)$"):
        amd_certs.expected_hex("xyz", 32, "expected_host_data", True)


def test_vmpl_is_listed_only_when_checked(milan, vcek):
    _parsed, passed = _verify(_report(vmpl=0), der(vcek), milan)
    assert "vmpl" not in passed
    _parsed, passed = _verify(_report(vmpl=0), der(vcek), milan, vmpl=0)
    assert passed[-1] == "vmpl"
    with pytest.raises(amd_certs.ChainError, match="^vmpl: report was requested at VMPL 0, expected 2"):
        _verify(_report(vmpl=0), der(vcek), milan, vmpl=2)
