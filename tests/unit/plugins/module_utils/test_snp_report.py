# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_report
from amd_test_ca import make_report, p384_key
from corpus import read_corpus


def test_legacy_and_turin_tcb_layouts_differ():
    tcb = {"fmc": 1, "bootloader": 2, "tee": 3, "snp": 4, "microcode": 5}
    legacy = snp_report.encode_tcb(tcb, "Milan")
    turin = snp_report.encode_tcb(tcb, "Turin")
    assert legacy == int.from_bytes(bytes([2, 3, 0, 0, 0, 0, 4, 5]), "little")
    assert turin == int.from_bytes(bytes([1, 2, 3, 4, 0, 0, 0, 5]), "little")
    assert snp_report.decode_tcb(turin, "Turin") == dict(tcb, raw=turin)
    assert snp_report.decode_tcb(legacy, "Genoa") == dict(tcb, fmc=None, raw=legacy)


@pytest.mark.parametrize("family,model,product", [
    (0x19, 0x01, "Milan"), (0x19, 0x11, "Genoa"), (0x19, 0xA0, "Genoa"), (0x1A, 0x02, "Turin"),
    (0x17, 0x31, None), (0x19, 0x50, None),
])
def test_product_from_cpuid(family, model, product):
    assert snp_report.product_from_cpuid(family, model) == product


def test_v3_report_fields_round_trip():
    data = make_report(p384_key("vek"), version=3, product="Genoa", chip_id=bytes(range(64)),
                       tcb={"bootloader": 9, "tee": 1, "snp": 22, "microcode": 213},
                       policy=0xB0000, report_data=b"\xAB" * 64, host_data=b"\x01" * 32, vmpl=2)
    report = snp_report.parse_report(data)
    assert report["version"] == 3
    assert report["product"] == "Genoa"
    assert report["cpuid"] == {"family": 0x19, "model": 0x11, "stepping": 1}
    assert report["policy"]["debug"] is True and report["policy_raw"] == 0xB0000
    assert report["vmpl"] == 2
    assert report["reported_tcb"]["snp"] == 22 and report["reported_tcb"]["microcode"] == 213
    assert report["reported_tcb"]["fmc"] is None
    assert report["chip_id"] == bytes(range(64)).hex()
    assert report["report_data"] == "ab" * 64
    assert report["host_data"] == "01" * 32
    assert report["key_info"]["signing_key"] == "VCEK"
    assert report["current_version"] == {"major": 1, "minor": 55, "build": 4}
    assert report["platform_info"]["smt_enabled"] is True


def test_turin_report_has_fmc():
    data = make_report(p384_key("vek"), product="Turin",
                       tcb={"fmc": 1, "bootloader": 2, "tee": 3, "snp": 4, "microcode": 5})
    report = snp_report.parse_report(data)
    assert report["reported_tcb"]["fmc"] == 1 and report["reported_tcb"]["snp"] == 4
    assert snp_report.kds_hwid(report["chip_id"], "Turin") == report["chip_id"][:16]


def test_v3_report_contradicting_caller_product():
    data = make_report(p384_key("vek"), product="Milan")
    with pytest.raises(snp_report.ReportError, match="Milan"):
        snp_report.parse_report(data, product="Genoa")


@pytest.mark.parametrize("size", [0, 1183, 1185, 2368])
def test_wrong_size_is_a_clear_error(size):
    with pytest.raises(snp_report.ReportError, match="expected 1184"):
        snp_report.parse_report(b"\x02" * size)


def test_unknown_cpuid_is_refused():
    data = bytearray(make_report(p384_key("vek")))
    data[0x188] = 0x17
    with pytest.raises(snp_report.ReportError, match="not a known SEV-SNP product"):
        snp_report.parse_report(bytes(data))


def test_version_1_refused():
    data = bytearray(make_report(p384_key("vek")))
    data[0] = 1
    with pytest.raises(snp_report.ReportError, match="version 1"):
        snp_report.parse_report(bytes(data))


def test_tcb_shortfalls():
    have = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": None}
    assert snp_report.tcb_shortfalls(have, {"snp": 8, "microcode": 100}) == []
    assert snp_report.tcb_shortfalls(have, {"snp": 9}) == ["snp 8 < 9"]


def test_virtee_milan_report_fields():
    report = snp_report.parse_report(read_corpus("binary/virtee-sev/report_milan.bin", "rb"))
    assert report["version"] == 2 and report["product"] is None
    assert report["policy_raw"] == 0x30000 and report["vmpl"] == 0
    assert report["chip_id"].startswith("d49554ec")
    tcb = report["reported_tcb"]
    assert (tcb["bootloader"], tcb["tee"], tcb["snp"], tcb["microcode"]) == (3, 0, 8, 115)
    assert report["current_version"] == {"major": 1, "minor": 52, "build": 4}


def test_trustee_vlek_report_fields():
    report = snp_report.parse_report(read_corpus("binary/trustee/snp__test-vlek-report.bin", "rb"))
    assert report["version"] == 3 and report["product"] == "Milan"
    assert report["vmpl"] == 1
    assert report["key_info"]["signing_key"] == "VLEK"
    assert report["chip_id"] == "00" * 64
    assert report["current_version"] == {"major": 1, "minor": 55, "build": 29}
