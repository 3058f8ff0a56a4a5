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


@pytest.mark.parametrize("family,model,product", [
    (0x19, 0x00, "Milan"), (0x19, 0x0F, "Milan"),
    (0x19, 0x10, "Genoa"), (0x19, 0x1F, "Genoa"), (0x19, 0x20, None),
    (0x19, 0x9F, None), (0x19, 0xA0, "Genoa"), (0x19, 0xAF, "Genoa"), (0x19, 0xB0, None),
    (0x1A, 0x00, "Turin"), (0x1A, 0x11, "Turin"), (0x1A, 0x12, None),
    (0x18, 0x01, None), (0x1B, 0x01, None),
])
def test_cpuid_boundaries_between_generations(family, model, product):
    assert snp_report.product_from_cpuid(family, model) == product


def test_unknown_product_for_a_version_2_report_is_refused():
    data = make_report(p384_key("vek"), version=2)
    with pytest.raises(snp_report.ReportError, match="unknown product 'Rome'; expected one of Milan, Genoa, Turin"):
        snp_report.parse_report(data, product="Rome")
    assert snp_report.parse_report(data, product="Genoa")["product"] == "Genoa"


def test_version_2_report_without_product_has_none():
    assert snp_report.parse_report(make_report(p384_key("vek"), version=2))["product"] is None


CHIP_HEX = bytes(range(64)).hex()
TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}


@pytest.mark.parametrize("level,value", [
    ("snp", 256), ("snp", 999), ("microcode", -1), ("tee", "x"), ("bootloader", True), ("snp", 3.5),
    ("snp", "1e3"), ("microcode", [1]),
])
def test_tcb_levels_out_of_range_never_reach_a_url(level, value):
    with pytest.raises(snp_report.ReportError, match="TCB level %s must be" % level):
        snp_report.kds_vcek_path("Milan", CHIP_HEX, dict(TCB, **{level: value}))


def test_tcb_level_bounds_are_inclusive():
    path = snp_report.kds_vcek_path("Milan", CHIP_HEX, {"bootloader": 0, "tee": "0", "snp": 255, "microcode": "255"})
    assert path.endswith("?blSPL=00&teeSPL=00&snpSPL=255&ucodeSPL=255")
    assert snp_report.vcek_cache_name("Milan", CHIP_HEX, TCB).endswith("_bootloader3_tee0_snp8_microcode115.der")
    with pytest.raises(snp_report.ReportError, match="0..255"):
        snp_report.encode_tcb({"snp": 256})
    with pytest.raises(snp_report.ReportError, match="0..255"):
        snp_report.vcek_cache_name("Milan", CHIP_HEX, dict(TCB, snp=-1))


def test_kds_vcek_path_refuses_unknown_product_and_bad_chip():
    with pytest.raises(snp_report.ReportError, match="unknown product"):
        snp_report.kds_vcek_path("Rome", CHIP_HEX, TCB)
    with pytest.raises(snp_report.ReportError, match="not hex"):
        snp_report.kds_vcek_path("Milan", "zz" * 64, TCB)


# --- Every field at its offset: a report whose every byte differs from its neighbours -----------

def _patterned(version):
    data = bytearray((index * 7 + 3) & 0xFF for index in range(snp_report.REPORT_SIZE))
    data[0:4] = version.to_bytes(4, "little")
    data[0x188:0x18B] = bytes([0x19, 0x01, 0x00])  # Milan
    return bytes(data)


def _slice(data, start, end):
    return data[start:end].hex()


@pytest.mark.parametrize("version", [3, 4, 5])
def test_every_field_is_read_from_its_offset(version):
    data = _patterned(version)
    report = snp_report.parse_report(data)
    fields = {"family_id": (0x10, 0x20), "image_id": (0x20, 0x30), "report_data": (0x50, 0x90),
              "measurement": (0x90, 0xC0), "host_data": (0xC0, 0xE0), "id_key_digest": (0xE0, 0x110),
              "author_key_digest": (0x110, 0x140), "report_id": (0x140, 0x160), "report_id_ma": (0x160, 0x180),
              "chip_id": (0x1A0, 0x1E0)}
    for name, (start, end) in fields.items():
        assert report[name] == _slice(data, start, end), name
    for name, offset in (("current_tcb", 0x38), ("reported_tcb", 0x180), ("committed_tcb", 0x1E0),
                         ("launch_tcb", 0x1F0)):
        assert report[name]["raw"] == int.from_bytes(data[offset:offset + 8], "little"), name
    assert report["current_version"] == {"major": data[0x1EA], "minor": data[0x1E9], "build": data[0x1E8]}
    assert report["committed_version"] == {"major": data[0x1EE], "minor": data[0x1ED], "build": data[0x1EC]}
    if version >= 5:
        assert report["launch_mit_vector"] == int.from_bytes(data[0x1F8:0x200], "little")
        assert report["current_mit_vector"] == int.from_bytes(data[0x200:0x208], "little")
    else:
        assert "launch_mit_vector" not in report and "current_mit_vector" not in report


@pytest.mark.parametrize("bit,name", [(0, "smt_enabled"), (1, "tsme_enabled"), (2, "ecc_enabled"),
                                      (3, "rapl_disabled"), (4, "ciphertext_hiding_enabled"),
                                      (5, "alias_check_complete")])
def test_platform_info_bits(bit, name):
    decoded = snp_report.decode_platform_info(1 << bit)
    assert decoded[name] is True
    assert [key for key, value in decoded.items() if value is True] == [name]
    assert not any(value for key, value in snp_report.decode_platform_info(0).items() if key != "raw")


@pytest.mark.parametrize("raw,author,mask,key", [
    (0, False, False, "VCEK"), (1, True, False, "VCEK"), (2, False, True, "VCEK"),
    (1 << 2, False, False, "VLEK"), (7 << 2, False, False, "NONE"), (3 << 2, False, False, "reserved(3)"),
])
def test_key_info(raw, author, mask, key):
    decoded = snp_report.decode_key_info(raw)
    assert (decoded["author_key_en"], decoded["mask_chip_key"], decoded["signing_key"]) == (author, mask, key)


def test_report_must_be_bytes():
    with pytest.raises(snp_report.ReportError, match="must be bytes"):
        snp_report.parse_report("\x02" * snp_report.REPORT_SIZE)


def test_version_3_report_agreeing_with_the_caller():
    assert snp_report.parse_report(make_report(p384_key("vek"), product="Genoa"), product="Genoa")["product"] == "Genoa"


def test_tcb_shortfalls_with_a_missing_level():
    assert snp_report.tcb_shortfalls({"snp": None}, {"snp": 1}) == ["snp None < 1"]


def test_kds_vcek_path_names_a_missing_level():
    with pytest.raises(snp_report.ReportError, match=r"^TCB for Milan needs microcode \(ucodeSPL\)$"):
        snp_report.kds_vcek_path("Milan", CHIP_HEX, {"bootloader": 3, "tee": 0, "snp": 8})


def test_empty_chip_id_is_a_length_error():
    with pytest.raises(snp_report.ReportError, match="must be 128 hex digits, got 0"):
        snp_report.kds_vcek_path("Milan", "", TCB)
