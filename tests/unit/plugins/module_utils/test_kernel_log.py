# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel log parser: every message variant, on hand-written lines."""

import os

import pytest

from corpus import read_corpus

from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import FileLines
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import (
    _bounded_int,
    has_sev_evidence,
    log_lines,
    normalize_pci_address,
    parse_kernel_log,
    status_name,
    strip_prefixes,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "logs")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize("line, message", [
    ("[    8.356061] ccp 0000:23:00.1: sev enabled", "ccp 0000:23:00.1: sev enabled"),
    ("ccp 0000:23:00.1: sev enabled", "ccp 0000:23:00.1: sev enabled"),
    ("Mar 03 10:15:09 kvm-host-07 kernel: ccp 0000:c1:00.5: sev enabled", "ccp 0000:c1:00.5: sev enabled"),
    ("2025-02-11T08:00:04+0100 kvm-host-12 kernel: ccp 0000:46:00.1: psp enabled",
     "ccp 0000:46:00.1: psp enabled"),
    ("2025-02-11T08:00:04.123456+01:00 h kernel: SEV API:1.55 build:21", "SEV API:1.55 build:21"),
    ("[Tue Feb 11 08:00:04 2025] kvm_amd: SEV enabled (ASIDs 1 - 9)", "kvm_amd: SEV enabled (ASIDs 1 - 9)"),
    ("<6>[    1.000000] AMD-Vi: SNP enabled", "AMD-Vi: SNP enabled"),
])
def test_prefixes_are_stripped(line, message):
    assert strip_prefixes(line) == message


@pytest.mark.parametrize("prefix", [
    "", "[   16.115717] ", "Jan  7 01:02:03 host kernel: ", "2024-01-07T01:02:03+0000 host kernel: ",
])
def test_both_api_lines_with_any_prefix(prefix):
    log = prefix + "ccp 0000:47:00.1: SEV API:1.51 build:3\n" + prefix + "ccp 0000:47:00.1: SEV-SNP API:1.51 build:3\n"
    parsed = parse_kernel_log(log)
    assert (parsed["sev_api"], parsed["sev_build"], parsed["snp_api"], parsed["snp_build"]) == ("1.51", 3, "1.51", 3)
    assert parsed["snp_initialized"] is True
    assert parsed["psp_devices"] == ["0000:47:00.1"]


def test_snp_line_before_sev_line():
    parsed = parse_kernel_log("SEV-SNP API:1.55 build:24\nSEV API:1.55 build:24\n")
    assert (parsed["sev_api"], parsed["snp_api"]) == ("1.55", "1.55")


def test_only_the_snp_line():
    parsed = parse_kernel_log("[ 338.775490] ccp 0000:54:00.1: SEV-SNP API:1.51 build:3\n")
    assert parsed["sev_api"] is None
    assert (parsed["snp_api"], parsed["snp_build"]) == ("1.51", 3)


def test_only_the_sev_line_means_snp_not_initialized():
    parsed = parse_kernel_log("[ 2.406858] ccp 0000:22:00.1: SEV API:1.52 build:4\n")
    assert (parsed["sev_api"], parsed["sev_build"]) == ("1.52", 4)
    assert parsed["snp_api"] is None and parsed["snp_initialized"] is False


def test_printed_twice_takes_the_last_after_a_hot_update():
    log = (
        "[ 5.1] ccp 0000:46:00.1: SEV API:1.55 build:21\n"
        "[ 5.2] ccp 0000:46:00.1: SEV-SNP API:1.55 build:21\n"
        "[ 900.1] ccp 0000:46:00.1: SEV firmware updated from 1.55.21 to 1.57.10\n"
        "[ 900.2] ccp 0000:46:00.1: SEV API:1.57 build:10\n"
        "[ 900.3] ccp 0000:46:00.1: SEV-SNP API:1.57 build:10\n"
    )
    parsed = parse_kernel_log(log)
    assert (parsed["sev_api"], parsed["sev_build"], parsed["snp_api"], parsed["snp_build"]) == ("1.57", 10, "1.57", 10)
    assert parsed["firmware_updated"] is True


def test_mangled_spacing_in_address_and_build():
    log = ("[ 8.811254] ccp 0000: 23:00.1: psp enabled\n"
           "[ 8.930106] ccp 0000:23:00.1: SEV API:1.51 build: 3\n"
           "[ 8.895333] ccp 0000:23:00.1: SEV-SNP:  failed to INIT error 0x13\n")
    parsed = parse_kernel_log(log)
    assert parsed["psp_devices"] == ["0000:23:00.1"]
    assert (parsed["sev_api"], parsed["sev_build"]) == ("1.51", 3)
    assert parsed["snp_init_error"]["error"] == 0x13


def test_normalize_pci_address():
    assert normalize_pci_address("0000: 23: 00.1") == "0000:23:00.1"
    assert normalize_pci_address("0000:C1:00.5") == "0000:c1:00.5"


@pytest.mark.parametrize("line, error, rc, command", [
    ("ccp 0000:43:00.1: SEV-SNP: failed to INIT error 0x3", 0x3, None, None),
    ("ccp 0000:43:00.1: SEV-SNP: failed to INIT rc -5, error 0x3", 0x3, -5, None),
    ("ccp 0000:43:00.1: SEV-SNP: SNP_INIT_EX failed rc -5, error 0x26", 0x26, -5, "SNP_INIT_EX"),
    ("ccp 0000:43:00.1: SEV-SNP: SNP_INIT failed rc -5, error 0x15", 0x15, -5, "SNP_INIT"),
    ("ccp 0000:43:00.1: SEV-SNP: SNP_DF_FLUSH failed rc -5, error 0xf", 0xF, -5, "SNP_DF_FLUSH"),
])
def test_snp_init_failures(line, error, rc, command):
    parsed = parse_kernel_log(line)
    failure = parsed["snp_init_error"]
    assert (failure["error"], failure["rc"], failure["command"]) == (error, rc, command)
    assert parsed["snp_initialized"] is False
    assert parsed["sev_init_error"] is None


def test_continue_sev_init_keeps_the_code_of_the_line_before():
    parsed = parse_kernel_log(fixture("kernel-6.15-snp-init-ex-failed.log"))
    assert parsed["snp_init_error"] == {"error": 0x3, "error_name": "INVALID_CONFIG", "rc": -5,
                                        "command": "SNP_INIT_EX"}
    assert parsed["rmp"]["reserved_start"] == "0x0000000098800000"
    assert parsed["asids"]["sev_snp"] == {"state": "disabled", "min": 1, "max": 99, "count": 99}


def test_continue_sev_init_alone_is_a_failure_without_code():
    parsed = parse_kernel_log("ccp 0000:43:00.1: SEV-SNP: failed to INIT, continue SEV INIT\n")
    assert parsed["snp_init_error"]["error"] is None


@pytest.mark.parametrize("line, error, rc, command", [
    ("ccp 0000:06:00.2: SEV: failed to INIT error 0x8004", 0x8004, None, None),
    ("ccp 0000:54:00.1: SEV: failed to INIT error 0x13, rc -5", 0x13, -5, None),
    ("ccp 0000:09:00.5: **SEV: failed to INIT error 0xe**", 0xE, None, None),
    ("ccp 0000:09:00.5: SEV: INIT failed 0x1, rc -5", 0x1, -5, "INIT"),
    ("ccp 0000:09:00.5: SEV: INIT_EX failed 0x13, rc -5", 0x13, -5, "INIT_EX"),
    ("ccp 0000:09:00.5: SEV: DF_FLUSH failed 0x3, rc -5", 0x3, -5, "DF_FLUSH"),
])
def test_sev_init_failures(line, error, rc, command):
    parsed = parse_kernel_log(line)
    failure = parsed["sev_init_error"]
    assert (failure["error"], failure["rc"], failure["command"]) == (error, rc, command)
    assert parsed["snp_init_error"] is None


def test_status_names():
    assert status_name(0x3) == "INVALID_CONFIG"
    assert status_name(0x13) == "HWSEV_RET_PLATFORM"
    assert status_name(0x8004) is None
    assert status_name(None) is None


def test_psp_timeout_get_status_broken_bios_and_bios_memory_encryption():
    parsed = parse_kernel_log(fixture("short-iso-psp-timeout.log"))
    assert parsed["psp_timeout"] == {"command": 0x81}
    assert parsed["snp_init_error"]["rc"] == -110
    assert parsed["sev_init_error"]["error"] == 0
    assert parsed["sev_api"] == "1.55"
    assert parsed["reaches_boot"] is True
    parsed = parse_kernel_log("ccp 0000:02:00.5: SEV: failed to get status. Error: 0x8003\n"
                              "ccp 0000:11:00.2: psp: unable to access the device: you might be running a broken BIOS.\n"
                              "ccp 0000:02:00.5: SEV: memory encryption not enabled by BIOS\n")
    assert parsed["get_status_error"] == {"error": 0x8003, "error_name": None}
    assert parsed["broken_bios"] is True
    assert parsed["memory_encryption_disabled_by_bios"] is True


def test_snp_firmware_too_old_line():
    parsed = parse_kernel_log("ccp 0000:23:00.1: SEV-SNP support requires firmware version >= 1:51\n")
    assert parsed["snp_firmware_too_old"] is True


@pytest.mark.parametrize("line, start, end", [
    ("SEV-SNP: RMP table physical address 0x0000000035c00000 - 0x0000000075cfffff",
     "0x0000000035c00000", "0x0000000075cfffff"),
    ("SEV-SNP: RMP table physical address [0x000000601ff00000 - 0x00000060e07fffff]",
     "0x000000601ff00000", "0x00000060e07fffff"),
    ("SEV-SNP: RMP table physical range [0x0000000011500000 - 0x0000000051dfffff]",
     "0x0000000011500000", "0x0000000051dfffff"),
])
def test_rmp_range_old_and_new(line, start, end):
    rmp = parse_kernel_log("[    0.5] " + line)["rmp"]
    assert (rmp["start"], rmp["end"]) == (start, end)


@pytest.mark.parametrize("line, key", [
    ("SEV-SNP: Memory for the RMP table has not been reserved by BIOS", "not_reserved"),
    ("SEV-SNP: Memory reserved for the RMP table does not cover full system RAM (expected 0x1 got 0x0)",
     "does_not_cover_ram"),
    ("SEV-SNP: RMP configuration not valid: base=0x2, end=0x1", "invalid"),
])
def test_rmp_failures(line, key):
    rmp = parse_kernel_log(line)["rmp"]
    assert rmp[key] is True
    assert rmp["start"] is None


@pytest.mark.parametrize("line, key, expected", [
    ("SEV supported: 410 ASIDs", "sev", {"state": "enabled", "min": None, "max": None, "count": 410}),
    ("SEV-ES supported: 99 ASIDs", "sev_es", {"state": "enabled", "min": None, "max": None, "count": 99}),
    ("SEV-SNP supported: 99 ASIDs", "sev_snp", {"state": "enabled", "min": None, "max": None, "count": 99}),
    ("kvm_amd: SEV supported: 254 ASIDs", "sev", {"state": "enabled", "min": None, "max": None, "count": 254}),
    ("kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)", "sev_snp", {"state": "enabled", "min": 1, "max": 99, "count": 99}),
    ("kvm_amd: SEV enabled (ASIDs 100 - 1006)", "sev", {"state": "enabled", "min": 100, "max": 1006, "count": 907}),
    ("kvm_amd: SEV-ES disabled (ASIDs 0 - 0)", "sev_es", {"state": "disabled", "min": 0, "max": 0, "count": 0}),
    ("kvm_amd: SEV-ES unusable (ASIDs 100 - 99)", "sev_es", {"state": "unusable", "min": 100, "max": 99, "count": 0}),
])
def test_asid_lines(line, key, expected):
    assert parse_kernel_log(line)["asids"][key] == expected


def test_asid_shared_es_and_snp_line():
    asids = parse_kernel_log("kvm_amd: SEV-ES and SEV-SNP supported: 255 ASIDs")["asids"]
    assert asids["sev_es"]["count"] == asids["sev_snp"]["count"] == 255
    assert asids["sev"] is None


@pytest.mark.parametrize("line, key", [
    ("AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.", "snp_passthrough"),
    ("AMD-Vi: SNP: IOMMU is disabled or configured in passthrough mode, SNP cannot be supported.", "snp_passthrough"),
    ("AMD-Vi: SNP: IOMMU SNP feature not enabled, SNP cannot be supported.", "snp_feature_missing"),
    ("AMD-Vi: SNP: IOMMU SNP feature is not enabled, SNP cannot be supported.", "snp_feature_missing"),
    ("AMD-Vi: SNP: IOMMU is configured with V2 page table mode, SNP cannot be supported.", "snp_v2_page_table"),
    ("AMD-Vi: SNP enabled", "snp_enabled"),
    ("AMD-Vi: IOMMU SNP support enabled.", "snp_enabled"),
])
def test_iommu_lines(line, key):
    iommu = parse_kernel_log("[    3.693304] " + line)["iommu"]
    assert iommu[key] is True
    assert sum(1 for value in iommu.values() if value is True) == 1


def test_iommu_default_domain():
    assert parse_kernel_log(fixture("iommu-passthrough-suse-default.log"))["iommu"]["default_domain"] == "passthrough"


def test_guest_memfd():
    assert parse_kernel_log("kvm_amd: SEV-SNP requires private memory support via guest_memfd.")["guest_memfd_missing"]


def test_noise_lines_that_mention_sev_say_nothing():
    log = ("[ 6.773490] systemd[1]: Set hostname to <xlab-SEV-SNP-01>.\n"
           "[ 4.3] systemd[1]: Configuration file /etc/systemd/system/mongoosev3-agent.service is marked\n"
           "qemu-system-x86_64: sev_guest_init: failed to initialize ret=-25 fw_error=0 ''\n"
           "[2257701.103251] SEV: 131072 locked pages exceed the lock limit of 16384.\n"
           "[ 4.301763] AMD-Vi: Extended features (0x841f77e022094ace, 0x0): PPR X2APIC NX IA GA PC SNP\n"
           "[ 25.414228] ccp 0000:45:00.1: ccp initialization failed\n")
    parsed = parse_kernel_log(log)
    assert parsed["relevant_lines"] == 0
    assert has_sev_evidence(parsed) is True  # the ccp device line names a PSP
    parsed = parse_kernel_log(fixture("noise-only-rotated.log"))
    assert has_sev_evidence(parsed) is False
    assert parsed["reaches_boot"] is False


def test_a_new_probe_clears_earlier_init_failures():
    log = ("SEV-SNP: failed to INIT error 0x3\nSEV: failed to INIT error 0x1\n"
           "sev enabled\nSEV API:1.52 build:4\nSEV-SNP API:1.52 build:4\n")
    parsed = parse_kernel_log(log)
    assert parsed["snp_init_error"] is None and parsed["sev_init_error"] is None
    assert parsed["snp_initialized"] is True


def test_failure_after_success_wins():
    parsed = parse_kernel_log("SEV-SNP API:1.55 build:21\nSEV-SNP: failed to INIT rc -5, error 0x3\n")
    assert parsed["snp_initialized"] is False
    assert parsed["snp_api"] == "1.55"


def test_multi_socket_psp_without_sev():
    log = ("ccp 0000:22:00.1: sev enabled\nccp 0000:a2:00.1: psp does not support SEV\n"
           "ccp 0000:01:00.2: firmware: failed to load amd/amd_sev_fam17h_model01h.sbin (-2)\n")
    parsed = parse_kernel_log(log)
    assert parsed["sev_devices"] == ["0000:22:00.1"]
    assert parsed["psp_without_sev"] == ["0000:a2:00.1"]
    assert parsed["firmware_files_missing"] == ["amd/amd_sev_fam17h_model01h.sbin"]
    assert parsed["psp_devices"] == ["0000:22:00.1", "0000:a2:00.1", "0000:01:00.2"]


def test_boot_markers_and_command_line():
    parsed = parse_kernel_log(fixture("journal-short-genoa-ready.log"))
    assert parsed["kernel_release"] == "6.4.0-150700.53-coco"
    assert "iommu=nopt" in parsed["command_line"]
    assert parsed["reaches_boot"] is True
    assert parsed["firmware_updated"] is True


def test_empty_log():
    parsed = parse_kernel_log("")
    assert parsed["lines"] == 0 and has_sev_evidence(parsed) is False


# -- text or lines: the same result either way

LOGS_BOTH_WAYS = [
    "",
    "\n",
    "a\n\nb",
    "[    0.000000] Linux version 6.4.0\r\nccp 0000:46:00.1: SEV-SNP API:1.55 build:21\r\n",
    "SEV-SNP API:1.55 build:21\rSEV-SNP: failed to INIT rc -5, error 0x3\x0cnoise\n",
]


@pytest.mark.parametrize("text", LOGS_BOTH_WAYS + [
    fixture("kernel-6.15-snp-init-ex-failed.log"), fixture("journal-short-genoa-ready.log"),
    fixture("short-iso-psp-timeout.log"), fixture("iommu-passthrough-suse-default.log"),
])
def test_text_and_lines_give_the_same_result(text):
    expected = parse_kernel_log(text)
    assert parse_kernel_log(text.split("\n")[:-1] + ([text.split("\n")[-1]] if text.split("\n")[-1] else [])) \
        == expected
    assert parse_kernel_log(iter(text.splitlines(True))) == expected
    assert parse_kernel_log(line for line in text.splitlines()) == expected


def test_log_lines():
    assert list(log_lines(None)) == []
    assert list(log_lines("a\r\nb")) == ["a", "b"]
    assert list(log_lines(["a\n", "", "b\rc"])) == ["a", "", "b", "c"]
    assert parse_kernel_log(None) == parse_kernel_log("")
    assert parse_kernel_log(["", ""])["lines"] == 2


# -- numbers of any length never raise, and nothing absurd reads as a valid value

HUGE = "9" * 5000
ZEROS = "0" * 5000


def short_id(value):
    """Test ids without the 5000-digit numbers."""
    return value[:60] if isinstance(value, str) else None


@pytest.mark.parametrize("line", [
    "ccp 0000:46:00.1: SEV-SNP API:%s.55 build:21" % HUGE,
    "ccp 0000:46:00.1: SEV-SNP API:1.%s build:21" % HUGE,
    "ccp 0000:46:00.1: SEV-SNP API:1.55 build:%s" % HUGE,
    "ccp 0000:46:00.1: SEV-SNP API:256.55 build:21",
    "ccp 0000:46:00.1: SEV-SNP API:1.256 build:21",
    "ccp 0000:46:00.1: SEV-SNP API:1.55 build:256",
    "ccp 0000:46:00.1: SEV API:1.55 build:%s" % HUGE,
    "ccp 0000:46:00.1: SEV API:%s.55 build:1" % HUGE,
    "ccp 0000:46:00.1: SEV API:1.256 build:1",
], ids=short_id)
def test_absurd_firmware_versions_leave_the_line_unparsed(line):
    parsed = parse_kernel_log(line)
    assert (parsed["snp_api"], parsed["snp_build"], parsed["sev_api"], parsed["sev_build"]) == (None,) * 4
    assert parsed["snp_initialized"] is False and parsed["relevant_lines"] == 0
    assert parsed["psp_devices"] == ["0000:46:00.1"]


@pytest.mark.parametrize("line, fields", [
    ("SEV-SNP API:255.255 build:255", ("255.255", 255)),
    ("SEV-SNP API:%s1.%s55 build:%s21" % (ZEROS, ZEROS, ZEROS), ("1.55", 21)),
    ("SEV-SNP API:0.0 build:0", ("0.0", 0)),
], ids=short_id)
def test_firmware_versions_at_the_bounds(line, fields):
    parsed = parse_kernel_log(line)
    assert (parsed["snp_api"], parsed["snp_build"]) == fields and parsed["relevant_lines"] == 1


@pytest.mark.parametrize("line", [
    "kvm_amd: SEV-SNP enabled (ASIDs 1 - %s)" % HUGE,
    "kvm_amd: SEV-SNP enabled (ASIDs %s - 99)" % HUGE,
    "kvm_amd: SEV-SNP enabled (ASIDs 1 - 4294967296)",
    "kvm_amd: SEV-SNP supported: %s ASIDs" % HUGE,
    "kvm_amd: SEV-ES and SEV-SNP supported: 4294967296 ASIDs",
], ids=short_id)
def test_absurd_asids_leave_the_line_unparsed(line):
    parsed = parse_kernel_log(line)
    assert parsed["asids"] == {"sev": None, "sev_es": None, "sev_snp": None}
    assert parsed["relevant_lines"] == 0


def test_asids_at_the_bound():
    parsed = parse_kernel_log("kvm_amd: SEV-SNP enabled (ASIDs 1 - 4294967295)")
    assert parsed["asids"]["sev_snp"] == {"state": "enabled", "min": 1, "max": 4294967295, "count": 4294967295}
    parsed = parse_kernel_log("kvm_amd: SEV-SNP supported: 4294967295 ASIDs")
    assert parsed["asids"]["sev_snp"]["count"] == 4294967295


@pytest.mark.parametrize("line, rmp", [
    ("SEV-SNP: RMP table physical range [0x%s - 0x0000000051dfffff]" % ("1" * 17), None),
    ("SEV-SNP: RMP table physical range [0x0000000011500000 - 0x%s]" % ("f" * 5000), None),
    ("SEV-SNP: Reserving start/end of RMP table on a 2MB boundary [0x%s]" % ("0" * 17), None),
    ("SEV-SNP: Segmented RMP using %s GB segments" % HUGE, None),
    ("SEV-SNP: Segmented RMP using 4294967296 GB segments", None),
    ("SEV-SNP: Segmented RMP using 64 GB segments", ("segment_gb", 64)),
    ("SEV-SNP: RMP table physical range [0xFFFFFFFFFFFFFFFF - 0x0]", ("start", "0xffffffffffffffff")),
], ids=short_id)
def test_rmp_numbers(line, rmp):
    parsed = parse_kernel_log(line)
    if rmp is None:
        assert parsed["rmp"] == parse_kernel_log("")["rmp"] and parsed["relevant_lines"] == 0
    else:
        assert parsed["rmp"][rmp[0]] == rmp[1] and parsed["relevant_lines"] == 1


@pytest.mark.parametrize("line, key, failure", [
    ("SEV-SNP: failed to INIT rc %s, error 0x3" % HUGE, "snp_init_error",
     {"error": 3, "error_name": "INVALID_CONFIG", "rc": None, "command": None}),
    ("SEV-SNP: failed to INIT rc -5, error 0x%s" % HUGE, "snp_init_error",
     {"error": None, "error_name": None, "rc": -5, "command": None}),
    ("SEV-SNP: SNP_INIT_EX failed rc -2147483648, error 0x100000000", "snp_init_error",
     {"error": None, "error_name": None, "rc": None, "command": "SNP_INIT_EX"}),
    ("SEV-SNP: SNP_INIT_EX failed rc -2147483647, error 0xffffffff", "snp_init_error",
     {"error": 0xFFFFFFFF, "error_name": None, "rc": -2147483647, "command": "SNP_INIT_EX"}),
    ("SEV-SNP: failed to INIT rc 2147483647, error 0x%s26" % ZEROS, "snp_init_error",
     {"error": 0x26, "error_name": "RMP_INITIALIZATION_FAILED", "rc": 2147483647, "command": None}),
    ("SEV: failed to INIT error 0x%s" % HUGE, "sev_init_error",
     {"error": None, "error_name": None, "rc": None, "command": None}),
    ("SEV: INIT failed 0x1, rc -%s" % HUGE, "sev_init_error",
     {"error": 1, "error_name": "INVALID_PLATFORM_STATE", "rc": None, "command": "INIT"}),
], ids=short_id)
def test_failures_with_absurd_codes_still_count_as_failures(line, key, failure):
    parsed = parse_kernel_log(line)
    assert parsed[key] == failure
    assert parsed["relevant_lines"] == 1


def test_absurd_status_and_timeout_codes():
    parsed = parse_kernel_log("SEV: failed to get status. Error: 0x%s\nsev command 0x%s timed out, disabling PSP\n"
                              % (HUGE, HUGE))
    assert parsed["get_status_error"] == {"error": None, "error_name": None}
    assert parsed["psp_timeout"] == {"command": None}
    assert parsed["relevant_lines"] == 2


def test_bounded_int():
    assert _bounded_int(None, 255) is None
    assert _bounded_int("255", 255) == 255
    assert _bounded_int("256", 255) is None
    assert _bounded_int("1000", 255) is None
    assert _bounded_int("-255", 255) == -255
    assert _bounded_int("-256", 255) is None
    assert _bounded_int("0", 255) == 0
    assert _bounded_int("000", 255) == 0
    assert _bounded_int("0xff", 255, 16) == 255
    assert _bounded_int("0XFF", 255, 16) == 255
    assert _bounded_int("ff", 255, 16) == 255
    assert _bounded_int("0x100", 255, 16) is None
    assert _bounded_int("0x0", 255, 16) == 0
    assert _bounded_int("10", 255, 16) == 16
    assert _bounded_int("9" * 100000, 255) is None


# -- every word of the keyword filter admits its own lines

@pytest.mark.parametrize("line, field, value", [
    ("SEV API:1.55 build:21", "sev_api", "1.55"),
    ("AMD-Vi: SNP enabled", ("iommu", "snp_enabled"), True),
    ("RMP configuration not valid: base=0x2, end=0x1", ("rmp", "invalid"), True),
    ("Failed to map RMP table", ("rmp", "invalid"), True),
    ("sev enabled", "relevant_lines", 1),
    ("psp enabled", "relevant_lines", 1),
    ("ccp 0000:01:00.2: enabling device", "psp_devices", ["0000:01:00.2"]),
    ("firmware: failed to load amd/amd_sev_fam19h_model0xh.sbin (-2)", "firmware_files_missing",
     ["amd/amd_sev_fam19h_model0xh.sbin"]),
    ("unable to access the device: you might be running a broken BIOS", "broken_bios", True),
    ("iommu: Default domain type: Translated", ("iommu", "default_domain"), "translated"),
    ("Linux version 6.4.0-150700.53-default (geeko@buildhost)", "kernel_release", "6.4.0-150700.53-default"),
    ("Command line: BOOT_IMAGE=/boot/vmlinuz iommu=nopt", "command_line", "BOOT_IMAGE=/boot/vmlinuz iommu=nopt"),
    ("Kernel command line: iommu=nopt quiet ", "command_line", "iommu=nopt quiet"),
    ("[    0.000000] Kernel command line: iommu=nopt", "command_line", "iommu=nopt"),
    ("command line: lower", "command_line", "lower"),
])
def test_each_keyword_lets_its_lines_through(line, field, value):
    parsed = parse_kernel_log(line)
    if isinstance(field, tuple):
        assert parsed[field[0]][field[1]] == value
    else:
        assert parsed[field] == value


@pytest.mark.parametrize("line", [
    "Kernel command line: iommu=nopt", "Command line: x", "Linux version 6.4.0 (gcc)",
])
def test_boot_lines_reach_boot_and_are_not_sev_lines(line):
    parsed = parse_kernel_log("[ 5.0] " + line)
    assert parsed["reaches_boot"] is True and parsed["relevant_lines"] == 0


@pytest.mark.parametrize("line", [
    "a kernel command line: x",  # not at the start of the message
    "Kernel  command line: x",
])
def test_command_line_only_at_the_start(line):
    parsed = parse_kernel_log(line)
    assert parsed["command_line"] is None and parsed["reaches_boot"] is False


@pytest.mark.parametrize("line, boot", [
    ("[    0.000000] smpboot: Allowing 256 CPUs", True),
    ("[0.0] x", True),
    ("Mar 03 10:15:09 h kernel: [    0.000000] x", True),
    ("[    0.000001] x", False),
    ("[   10.000000] x", False),
    ("[    0.100000] x", False),
    ("0.000000 x", False),
])
def test_boot_marker(line, boot):
    assert parse_kernel_log(line)["reaches_boot"] is boot


def test_lines_without_a_keyword_are_counted_but_not_scanned():
    parsed = parse_kernel_log("eth0: link up\nSEV API:1.55 build:21\n\n")
    assert parsed["lines"] == 3 and parsed["relevant_lines"] == 1


# -- the probe, init and flag rows, one by one

def test_probe_failed_is_not_a_probe():
    parsed = parse_kernel_log("SEV-SNP: failed to INIT error 0x3\nccp 0000:46:00.1: sev initialization failed\n")
    assert parsed["sev_probe_failed"] is True
    assert parsed["snp_init_error"]["error"] == 3 and parsed["sev_devices"] == []


def test_probe_records_the_device_once_and_clears_every_earlier_failure():
    log = ("SEV-SNP API:1.55 build:21\nSEV: failed to get status. Error: 0x3\n"
           "ccp 0000:46:00.1: sev enabled\nccp 0000:46:00.1: sev enabled\nsev enabled\n")
    parsed = parse_kernel_log(log)
    assert parsed["sev_devices"] == ["0000:46:00.1"]
    assert parsed["get_status_error"] is None and parsed["snp_initialized"] is False
    assert parsed["relevant_lines"] == 5


def test_psp_without_sev_once_per_device_and_needs_a_device():
    parsed = parse_kernel_log("ccp 0000:a2:00.1: psp does not support SEV\n" * 2 + "psp does not support SEV\n")
    assert parsed["psp_without_sev"] == ["0000:a2:00.1"] and parsed["relevant_lines"] == 3


def test_snp_initialized_line_clears_an_earlier_failure():
    parsed = parse_kernel_log("SEV-SNP: failed to INIT error 0x3\nSEV-SNP firmware initialized\n")
    assert parsed["snp_initialized"] is True and parsed["snp_init_error"] is None
    assert parsed["relevant_lines"] == 2


def test_sev_api_line_leaves_snp_state_alone():
    parsed = parse_kernel_log("SEV-SNP: failed to INIT error 0x3\nSEV API:1.55 build:21\n")
    assert parsed["snp_init_error"]["error"] == 3 and parsed["snp_initialized"] is False
    assert parsed["relevant_lines"] == 2


@pytest.mark.parametrize("line", [
    "SEV firmware updated from 1.55.21 to 1.57.10", "ccp 0000:46:00.1: SEV firmware update successful",
])
def test_firmware_update_lines(line):
    parsed = parse_kernel_log(line)
    assert parsed["firmware_updated"] is True and parsed["relevant_lines"] == 1


def test_missing_firmware_files_once_each():
    parsed = parse_kernel_log("firmware: failed to load amd/a.sbin (-2)\nfirmware: failed to load amd/a.sbin (-2)\n"
                              "firmware: failed to load amd/b.sbin (-2)\n")
    assert parsed["firmware_files_missing"] == ["amd/a.sbin", "amd/b.sbin"]


def test_a_follow_up_line_keeps_the_code_but_a_coded_line_replaces_it():
    parsed = parse_kernel_log("SEV-SNP: failed to INIT rc -5, error 0x3\nSEV-SNP: failed to INIT, continue SEV INIT\n")
    assert parsed["snp_init_error"]["error"] == 3 and parsed["relevant_lines"] == 2
    parsed = parse_kernel_log("SEV-SNP: failed to INIT rc -5, error 0x3\nSEV-SNP: failed to INIT error 0x26\n")
    assert parsed["snp_init_error"]["error"] == 0x26
    parsed = parse_kernel_log("SEV-SNP API:1.55 build:21\nSEV-SNP: failed to INIT, continue SEV INIT\n")
    assert parsed["snp_initialized"] is False and parsed["snp_init_error"]["error"] is None


def test_sev_init_failure_leaves_snp_initialized():
    parsed = parse_kernel_log("SEV-SNP API:1.55 build:21\nSEV: failed to INIT error 0x13, rc -5\n")
    assert parsed["snp_initialized"] is True and parsed["sev_init_error"]["error"] == 0x13
    assert parsed["snp_init_error"] is None


@pytest.mark.parametrize("line, path", [
    ("ccp 0000:02:00.5: SEV: memory encryption not enabled by BIOS", ("memory_encryption_disabled_by_bios",)),
    ("SEV-SNP support requires firmware version >= 1.51", ("snp_firmware_too_old",)),
    ("SEV-SNP: Memory for the RMP table has not been reserved by BIOS", ("rmp", "not_reserved")),
    ("SEV-SNP: Memory reserved for the RMP table does not cover full system RAM", ("rmp", "does_not_cover_ram")),
    ("kvm_amd: SEV-SNP requires private memory support via guest_memfd", ("guest_memfd_missing",)),
])
def test_flag_lines(line, path):
    parsed = parse_kernel_log(line)
    value = parsed
    for key in path:
        value = value[key]
    assert value is True and parsed["relevant_lines"] == 1


def test_a_line_that_matches_nothing_is_not_relevant():
    parsed = parse_kernel_log("SEV: 131072 locked pages exceed the lock limit of 16384.\nAMD-Vi: something else SNP\n")
    assert parsed["relevant_lines"] == 0


@pytest.mark.parametrize("line, expected", [
    ("kvm_amd: SEV supported: 0 ASIDs", {"state": "unusable", "min": None, "max": None, "count": 0}),
    ("kvm_amd: SEV supported: 1 ASIDs", {"state": "enabled", "min": None, "max": None, "count": 1}),
    ("kvm_amd: SEV enabled (ASIDs 1 - 1)", {"state": "enabled", "min": 1, "max": 1, "count": 1}),
    ("kvm_amd: SEV enabled (ASIDs 0 - 1)", {"state": "enabled", "min": 0, "max": 1, "count": 2}),
    ("kvm_amd: SEV enabled (ASIDs 2 - 1)", {"state": "enabled", "min": 2, "max": 1, "count": 0}),
])
def test_asid_counts_at_the_edges(line, expected):
    assert parse_kernel_log(line)["asids"]["sev"] == expected


def test_has_sev_evidence_each_field():
    empty = parse_kernel_log("")
    for field, value in [("psp_devices", ["x"]), ("sev_api", "1.0"), ("snp_api", "1.0"), ("snp_init_error", {}),
                         ("sev_init_error", {}), ("get_status_error", {}), ("psp_timeout", {}),
                         ("broken_bios", True), ("memory_encryption_disabled_by_bios", True),
                         ("snp_firmware_too_old", True)]:
        parsed = dict(empty, **{field: value})
        if value == {}:
            parsed[field] = {"error": None}
        assert has_sev_evidence(parsed) is True, field
    assert has_sev_evidence(dict(empty, asids={"sev": None, "sev_es": {"count": 0}, "sev_snp": None})) is True
    assert has_sev_evidence(empty) is False


def test_a_log_streamed_from_a_file_in_bounded_memory(tmp_path):
    """The iterable form is what the modules use: lines straight from host_files."""
    path = tmp_path / "dmesg"
    path.write_text("[ 1.0] eth0: link up\n" * 20000 + "ccp 0000:46:00.1: SEV-SNP: failed to INIT rc -5, error 0x3\n")
    with FileLines(str(path)) as lines:
        parsed = parse_kernel_log(lines)
    assert parsed["lines"] == 20001 and parsed["snp_init_error"]["error"] == 3


@pytest.mark.parametrize("line, key, error", [
    ("SEV-SNP: failed to INIT rc -5, error 0x26", "snp_init_error", 0x26),
    ("SEV-SNP: failed to INIT error 0x26", "snp_init_error", 0x26),
    ("SEV-SNP: SNP_INIT_EX failed rc -5, error 0x26", "snp_init_error", 0x26),
    ("SEV: failed to INIT error 0x26", "sev_init_error", 0x26),
    ("SEV: failed to INIT rc -5, error 0x26", "sev_init_error", 0x26),
    ("SEV: INIT_EX failed 0x26, rc -5", "sev_init_error", 0x26),
])
def test_every_coded_failure_row_replaces_an_earlier_failure(line, key, error):
    earlier = "SEV-SNP: failed to INIT error 0x3\nSEV: failed to INIT error 0x3\n"
    parsed = parse_kernel_log(earlier + line + "\n")
    assert parsed[key]["error"] == error


def test_an_empty_log_gives_the_empty_result():
    assert parse_kernel_log("") == {
        "lines": 0, "relevant_lines": 0, "kernel_release": None, "command_line": None, "reaches_boot": False,
        "sev_api": None, "sev_build": None, "snp_api": None, "snp_build": None, "firmware_updated": False,
        "firmware_update": None, "firmware_file_loaded": None, "firmware_files_missing": [], "psp_devices": [], "sev_devices": [], "psp_without_sev": [],
        "sev_probe_failed": False, "snp_initialized": False, "snp_init_error": None, "sev_init_error": None,
        "get_status_error": None, "psp_timeout": None, "broken_bios": False,
        "memory_encryption_disabled_by_bios": False, "snp_firmware_too_old": False,
        "rmp": {"start": None, "end": None, "reserved_start": None, "segment_gb": None,
                "not_reserved": False, "does_not_cover_ram": False, "invalid": False},
        "asids": {"sev": None, "sev_es": None, "sev_snp": None},
        "iommu": {"snp_passthrough": False, "snp_feature_missing": False, "snp_v2_page_table": False,
                  "snp_enabled": False, "default_domain": None},
        "guest_memfd_missing": False,
    }


# Status codes as the SEV and SEV-SNP firmware ABI specifications number them
# (the kernel's include/uapi/linux/psp-sev.h, enum sev_ret_code).
SPEC_STATUS_CODES = [
    (1, "INVALID_PLATFORM_STATE"), (2, "INVALID_GUEST_STATE"), (3, "INVALID_CONFIG"), (4, "INVALID_LEN"),
    (5, "ALREADY_OWNED"), (6, "INVALID_CERTIFICATE"), (7, "POLICY_FAILURE"), (8, "INACTIVE"),
    (9, "INVALID_ADDRESS"), (10, "BAD_SIGNATURE"), (11, "BAD_MEASUREMENT"), (12, "ASID_OWNED"),
    (13, "INVALID_ASID"), (14, "WBINVD_REQUIRED"), (15, "DFFLUSH_REQUIRED"), (16, "INVALID_GUEST"),
    (17, "INVALID_COMMAND"), (18, "ACTIVE"), (19, "HWSEV_RET_PLATFORM"), (20, "HWSEV_RET_UNSAFE"),
    (21, "UNSUPPORTED"), (22, "INVALID_PARAM"), (23, "RESOURCE_LIMIT"), (24, "SECURE_DATA_INVALID"),
    (25, "INVALID_PAGE_SIZE"), (26, "INVALID_PAGE_STATE"), (27, "INVALID_MDATA_ENTRY"),
    (28, "INVALID_PAGE_OWNER"), (29, "AEAD_OFLOW"), (31, "EXIT_RING_BUFFER"), (32, "RMP_INIT_REQUIRED"),
    (33, "BAD_SVN"), (34, "BAD_VERSION"), (35, "SHUTDOWN_REQUIRED"), (36, "UPDATE_FAILED"),
    (37, "RESTORE_REQUIRED"), (38, "RMP_INITIALIZATION_FAILED"), (39, "INVALID_KEY"),
]


@pytest.mark.parametrize("code, name", SPEC_STATUS_CODES)
def test_every_status_code_has_its_spec_name(code, name):
    assert status_name(code) == name
    assert parse_kernel_log("SEV-SNP: failed to INIT error %#x" % code)["snp_init_error"]["error_name"] == name


@pytest.mark.parametrize("code", [0, 30, 40, 0x8003, 0x9000])
def test_codes_outside_the_firmware_api_have_no_name(code):
    assert status_name(code) is None


def test_lines_without_a_keyword_are_never_scanned(monkeypatch):
    """The keyword filter is what keeps a multi-gigabyte log fast; it must let no noise through."""
    from ansible_collections.coco.sev_snp.plugins.module_utils import kernel_log
    scanned = []
    real = kernel_log._scan_line
    monkeypatch.setattr(kernel_log, "_scan_line", lambda message, *args: scanned.append(message) or real(message, *args))
    parsed = kernel_log.parse_kernel_log("[ 1.0] eth0: link up\n[ 2.0] usb 1-1: new device\n"
                                         "[ 3.0] ccp 0000:46:00.1: SEV API:1.55 build:21\n")
    assert scanned == ["ccp 0000:46:00.1: SEV API:1.55 build:21"]
    assert parsed["lines"] == 3 and parsed["sev_api"] == "1.55"


@pytest.mark.parametrize("line", [
    "ccp 0000:45:00.1: sev initialization failed",
    "firmware: failed to load amd/amd_sev_fam19h_model0xh.sbin (-2)",
    "SEV-SNP: Reserving start/end of RMP table on a 2MB boundary [0x0000000098800000]",
    "kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)",
    "kvm_amd: SEV supported: 410 ASIDs",
    "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.",
    "iommu: Default domain type: Translated",
    "SEV-SNP: Segmented RMP using 64 GB segments",
    "sev command 0x81 timed out, disabling PSP",
])
def test_each_kind_of_line_counts_as_relevant(line):
    assert parse_kernel_log(line)["relevant_lines"] == 1


def test_an_asid_range_that_runs_backwards_has_no_asids():
    assert parse_kernel_log("kvm_amd: SEV enabled (ASIDs 5 - 1)")["asids"]["sev"]["count"] == 0


# -- SEV firmware loaded at boot: both forms the ccp driver has printed, as readiness facts

MILAN_OLD_KERNEL = (
    "[    2.945157] ccp 0000:43:00.1: sev enabled\n"
    "[    2.986897] ccp 0000:43:00.1: SEV firmware update successful\n"
    "[    3.031942] ccp 0000:43:00.1: SEV API:1.51 build:3\n"
    "[    3.031950] ccp 0000:43:00.1: SEV-SNP API:1.51 build:3\n"
)
GENOA_NEW_KERNEL = (
    "[    6.101000] ccp 0000:01:00.5: sev enabled\n"
    "[    6.201000] ccp 0000:01:00.5: SEV firmware updated from 1.55.21 to 1.55.39\n"
    "[    6.301000] ccp 0000:01:00.5: SEV API:1.55 build:39\n"
    "[    6.301100] ccp 0000:01:00.5: SEV-SNP API:1.55 build:39\n"
)


def test_update_successful_form_has_no_versions_and_the_api_line_after_it_is_the_one_in_use():
    parsed = parse_kernel_log(MILAN_OLD_KERNEL)
    assert parsed["firmware_update"] == {"form": "update_successful", "changed": None, "from": None, "to": None}
    assert parsed["firmware_updated"] is True
    assert (parsed["snp_api"], parsed["snp_build"]) == ("1.51", 3)


def test_updated_from_form_gives_both_versions():
    parsed = parse_kernel_log(GENOA_NEW_KERNEL)
    assert parsed["firmware_update"] == {"form": "updated_from", "changed": True,
                                         "from": {"api": "1.55", "build": 21}, "to": {"api": "1.55", "build": 39}}
    assert parsed["firmware_updated"] is True
    assert (parsed["snp_api"], parsed["snp_build"]) == ("1.55", 39)


def test_a_runtime_upload_of_the_same_version_is_no_update():
    parsed = parse_kernel_log("ccp 0000:01:00.5: SEV firmware same as old 1.55.39\n")
    assert parsed["firmware_update"] == {"form": "same_as_old", "changed": False,
                                         "from": {"api": "1.55", "build": 39}, "to": {"api": "1.55", "build": 39}}
    assert parsed["firmware_updated"] is False
    assert parsed["relevant_lines"] == 1


def test_a_same_version_upload_after_a_boot_update_keeps_the_boot_update():
    parsed = parse_kernel_log(GENOA_NEW_KERNEL + "[ 900.0] ccp 0000:01:00.5: SEV firmware same as old 1.55.39\n")
    assert parsed["firmware_updated"] is True
    assert parsed["firmware_update"]["form"] == "same_as_old"


def test_no_update_line_means_no_update():
    parsed = parse_kernel_log("ccp 0000:01:00.5: sev enabled\nccp 0000:01:00.5: SEV-SNP API:1.55 build:21\n")
    assert parsed["firmware_update"] is None and parsed["firmware_updated"] is False


@pytest.mark.parametrize("line", [
    "SEV firmware updated from 1.55.256 to 1.55.39",
    "SEV firmware updated from 1.55.21 to 256.55.39",
    "SEV firmware updated from 1.55.21 to 1." + "9" * 5000 + ".39",
    "SEV firmware same as old 1.300.2",
])
def test_update_lines_with_numbers_the_firmware_cannot_print_are_left_unparsed(line):
    parsed = parse_kernel_log("ccp 0000:01:00.5: " + line + "\n")
    assert parsed["firmware_update"] is None and parsed["firmware_updated"] is False
    assert parsed["relevant_lines"] == 0


def test_update_versions_at_the_u8_bounds():
    parsed = parse_kernel_log("SEV firmware updated from 0.0.0 to 255.255.255\n")
    assert parsed["firmware_update"]["from"] == {"api": "0.0", "build": 0}
    assert parsed["firmware_update"]["to"] == {"api": "255.255", "build": 255}


@pytest.mark.parametrize("line", [
    "SEV firmware updated from 1.55 to 1.57",
    "SEV firmware updated from 1.55.21 to",
    "SEV firmware update failed",
    "Failed to update SEV firmware: 0x24",
])
def test_lines_that_only_look_like_an_update_are_not_one(line):
    assert parse_kernel_log(line + "\n")["firmware_updated"] is False


@pytest.mark.parametrize("line, loaded", [
    ("[    8.488939] ccp 0000:04:00.2: firmware: direct-loading firmware amd/amd_sev_fam17h_model01h.sbin",
     "amd/amd_sev_fam17h_model01h.sbin"),
    ("ccp 0000:01:00.5: firmware: direct-loading firmware amd/sev.fw", "amd/sev.fw"),
    ("ccp 0000:01:00.5: direct-loading amd/amd_sev_fam19h_model1xh.sbin", "amd/amd_sev_fam19h_model1xh.sbin"),
    ("amdgpu 0000:03:00.0: firmware: direct-loading firmware amdgpu/navi10_sos.bin", None),
    ("firmware: direct-loading firmware amd-ucode/microcode_amd_fam19h.bin", None),
])
def test_the_sev_firmware_file_a_debian_kernel_says_it_loaded(line, loaded):
    parsed = parse_kernel_log(line + "\n")
    assert parsed["firmware_file_loaded"] == loaded
    # A SEV image loaded is a line about SEV; another driver's firmware is not.
    assert parsed["relevant_lines"] == (1 if loaded else 0)


@pytest.mark.parametrize("name, snp", [
    ("host-dmesg/ok-ubuntu2204-fw-update-api-1.51-build-3.log", ("1.51", 3)),
    ("host-dmesg/fail-fw-update-ok-snp-init-0x3-sev-init-0x1.log", (None, None)),
])
def test_real_logs_of_the_update_successful_form(name, snp):
    parsed = parse_kernel_log(read_corpus(name))
    assert parsed["firmware_update"] == {"form": "update_successful", "changed": None, "from": None, "to": None}
    assert (parsed["snp_api"], parsed["snp_build"]) == snp
    assert (parsed["sev_api"], parsed["sev_build"]) == ("1.51", 3)


def test_a_real_log_whose_firmware_update_did_not_apply():
    parsed = parse_kernel_log(read_corpus("host-dmesg/fail-5.14-snp-host-fw-api-0.31-build-43-requires-1.51.log"))
    assert parsed["firmware_update"] is None and parsed["firmware_updated"] is False


def test_a_real_debian_log_names_every_file_the_kernel_tried():
    parsed = parse_kernel_log(read_corpus("host-dmesg/fail-naples-7401p-debian-firmware-missing-0x8004.log"))
    assert parsed["firmware_files_missing"][:3] == [
        "amd/amd_sev_fam17h_model01h.sbin", "amd/amd_sev_fam17h_model0xh.sbin", "amd/sev.fw"]
    assert parsed["firmware_file_loaded"] is None
