# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every real host kernel log of the sample corpus, against what a careful reader takes from it.

The table was written by reading each file, not from the parser's output. Problem ids are
only those the log alone supports (no cpuinfo, sysfs or grub evidence is given).
"""

import os

import pytest

from corpus import corpus_dir, corpus_params

from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import build_facts

# file name: (sev_api, sev_build, snp_api, snp_build, problem ids, ready)
EXPECTED = {
    # Early SNP stack: only the SNP line, without ccp prefix; SNP came up.
    # Pre-release SNP firmware 1.22: below the 1.51 floor that released kernels enforce.
    "early-sev-snp-devel-readme-api-1.22-three-supported-lines.log": (
        None, None, "1.22", 22, ["snp_firmware_too_old"], False),
    # Firmware 0.31 never got the SNP line; the kernel says SNP needs >= 1:51; legacy INIT failed 0x1.
    "fail-5.14-snp-host-fw-api-0.31-build-43-requires-1.51.log": (
        "0.31", 43, None, None, ["snp_firmware_too_old", "sev_init_failed"], False),
    # Both INITs failed with 0x13 after a firmware update to 1.51 build 3.
    "fail-5.14-snp-host-init-0x13-mangled-spacing.log": (
        "1.51", 3, None, None, ["snp_init_failed", "sev_init_failed"], False),
    # Only the head: RMP range lines, no ccp line at all; nothing to conclude, nothing confirmed.
    "fail-6.15-milan-sev-snp-amd64-rmp-range-reserving-HEAD.log": (None, None, None, None, [], False),
    # PLATFORM_STATUS failed: the PSP does not answer.
    "fail-asus-get-status-0x9000.log": (None, None, None, None, ["psp_unavailable"], False),
    # Head only: AMD-Vi SNP enabled and RMP range, the failure itself is not in the file.
    "fail-aws-dedicated-host-6.5-amd-vi-snp-enabled-HEAD.log": (None, None, None, None, [], False),
    # SNP INIT succeeded (SEV-SNP API line), legacy SEV INIT failed 0x13: SNP usable, warning only.
    "fail-aws-m6a-metal-7r13-dyndbg-snp-init-ok-sev-init-0x13.log": (
        None, None, "1.51", 3, ["sev_init_failed"], True),
    # "unable to access the device: you might be running a broken BIOS".
    "fail-broken-bios-ccp-psp-unable-to-access.log": (None, None, None, None, ["psp_unavailable"], False),
    # Truncated while SNP_INIT_EX ran; one PSP registered SEV, the other socket's does not offer it.
    "fail-dell-r6525-dyndbg-no-sev-firmware-file-snp-init-ex.log": (None, None, None, None, [], False),
    # Legacy INIT 0x8003; probe lines from another boot add nothing.
    "fail-epyc3151-ubuntu1804-sev-init-0x8003-and-qemu-error.log": (
        None, None, None, None, ["sev_init_failed"], False),
    # SNP INIT 0x3 and SEV INIT 0x1 after a hot update to 1.51 build 3.
    "fail-fw-update-ok-snp-init-0x3-sev-init-0x1.log": (
        "1.51", 3, None, None, ["snp_init_failed", "sev_init_failed"], False),
    # Legacy INIT 0xe (inside markdown bold).
    "fail-genoa-9224-sev-init-0xe.log": (None, None, None, None, ["sev_init_failed"], False),
    # "ccp initialization failed" is the crypto queue part; the SEV INIT 0x13 is the failure.
    "fail-milan-7313-5.4-ccp-init-failed-sev-init-0x13.log": (
        None, None, None, None, ["sev_init_failed"], False),
    # Four PSPs, firmware files missing (optional), INIT 0x8004.
    "fail-naples-7401p-debian-firmware-missing-0x8004.log": (
        None, None, None, None, ["sev_init_failed"], False),
    "fail-naples-ubuntu1804-sev-init-0x8004.log": (None, None, None, None, ["sev_init_failed"], False),
    # A QEMU/locked-pages error; the log holds no ccp line and does not reach boot.
    "fail-sev-locked-pages-exceed-lock-limit.log": (
        None, None, None, None, ["kernel_log_unavailable"], False),
    # PLATFORM_STATUS failed 0x8003 although kvm_amd lists SNP ASIDs.
    "fail-siena-8024p-get-status-0x8003.log": (None, None, None, None, ["psp_unavailable"], False),
    # Distro kernel: SEV API 1.52 build 4, no SNP line; the log alone names no cause.
    "fedora38-distro-kernel-milan-7313-sev-es-no-snp-with-virsh-domcaps.log": (
        "1.52", 4, None, None, [], False),
    # Failures from one kernel, then a fresh probe of another that brought SNP up: the last wins.
    "mixed-sev-step-vs-snp-host-fragments.log": ("1.52", 4, "1.52", 4, [], True),
    "ok-6.1-snp-host-kvm_amd-supported-asids-format-plus-sysfs.log": ("1.52", 4, "1.52", 4, [], True),
    "ok-genoa-coconut-api-1.55-build-24.log": ("1.55", 24, "1.55", 24, [], True),
    "ok-nixos-milan-api-1.55-build-21.log": ("1.55", 21, "1.55", 21, [], True),
    "ok-ubuntu2204-fw-update-api-1.51-build-3.log": ("1.51", 3, "1.51", 3, [], True),
    # SEV only: "SEV-ES disabled (ASIDs 0 - 0)" leaves no ASIDs for SEV-ES/SNP.
    "partial-sev-only-sev-es-disabled-asids-0-0-api-1.55-build-61.log": (
        "1.55", 61, None, None, ["sev_es_asids_unavailable"], False),
}


def test_every_corpus_file_has_an_expectation():
    path = corpus_dir("host-dmesg")
    if path is None:
        pytest.skip("corpus folder host-dmesg absent")
    names = set(os.listdir(path))
    assert names - set(EXPECTED) == set(), "new corpus files need a row in EXPECTED"
    assert set(EXPECTED) - names == set(), "EXPECTED names files the corpus no longer has"


@pytest.mark.parametrize("path", corpus_params("host-dmesg"))
def test_corpus_log(path):
    with open(path) as handle:
        text = handle.read()
    sev_api, sev_build, snp_api, snp_build, problem_ids, ready = EXPECTED[os.path.basename(path)]
    facts = build_facts({"kernel_log": text, "kernel_log_source": "file"})
    versions = dict((key, facts["firmware"][key]) for key in ("sev_api", "sev_build", "snp_api", "snp_build"))
    assert versions == {"sev_api": sev_api, "sev_build": sev_build, "snp_api": snp_api, "snp_build": snp_build}
    assert [p["id"] for p in facts["problems"]] == problem_ids
    assert facts["ready"] is ready
    for problem in facts["problems"]:
        assert problem["message"] and problem["fix"]
