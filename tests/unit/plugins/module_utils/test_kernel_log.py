# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel log parser: every message variant, on hand-written lines."""

import os

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import (
    has_sev_evidence,
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
