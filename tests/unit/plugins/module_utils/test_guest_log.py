# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import os

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.guest_log import (
    SEV_STATUS_BITS,
    decode_sev_status,
    guest_verdict,
    parse_guest_kernel_log,
)
from corpus import corpus_params

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "guest")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize("name, sev, sev_es, snp", [
    ("sev-active-kernel-4.log", True, None, None),
    ("sev-es-kernel-5.log", True, True, False),
    ("snp-kernel-6-double-space.log", True, True, True),
    ("snp-sev-guest-driver-failed.log", True, True, True),
    ("journalctl-short-monotonic-snp.log", True, True, True),
    ("plain-kvm-guest.log", None, None, None),
])
def test_every_kernel_wording(name, sev, sev_es, snp):
    log = parse_guest_kernel_log(fixture(name))
    assert (log["sev"], log["sev_es"], log["snp"]) == (sev, sev_es, snp)


def test_double_space_and_status_line_features():
    log = parse_guest_kernel_log(fixture("snp-kernel-6-double-space.log"))
    assert log["features"] == ["SEV", "SEV-ES", "SEV-SNP", "DebugSwap", "SMTProtection"]
    assert log["snp_cpuid_entries"] == 64
    assert log["snp_platform_device"] is True
    assert log["sev_guest_driver"] == "initialized"
    assert log["vmpck_id"] == 0
    assert all(not line.startswith("[") for line in log["lines"])


def test_driver_failure_is_reported():
    log = parse_guest_kernel_log(fixture("snp-sev-guest-driver-failed.log"))
    assert log["sev_guest_driver"] == "failed"
    assert log["driver_errors"] == ["Invalid VMPCK0 communication key"]
    verdict = guest_verdict(log, None, sev_guest_device=True)
    assert verdict["snp"] is True
    assert any("Invalid VMPCK0" in p["problem"] for p in verdict["problems"])


def test_cpuid_table_alone_implies_snp_and_its_predecessors():
    log = parse_guest_kernel_log("[ 0.7] SEV: Using SNP CPUID table, 31 entries present.\n")
    assert (log["sev"], log["sev_es"], log["snp"]) == (True, True, True)
    assert log["snp_cpuid_entries"] == 31


def test_empty_and_missing_logs():
    for text in (None, "", "\n\n"):
        log = parse_guest_kernel_log(text)
        assert log["snp"] is None and log["lines"] == []


@pytest.mark.parametrize("path", corpus_params("guest-dmesg", suffixes=[".log"]))
def test_corpus_guest_logs(path):
    with open(path) as handle:
        text = handle.read()
    log = parse_guest_kernel_log(text)
    name = os.path.basename(path)
    if "sev-only" in name:
        assert (log["sev"], log["sev_es"], log["snp"]) == (True, False, False)
        verdict = guest_verdict(log, None, sev_guest_device=False)
        assert verdict["snp"] is False
        assert "not SEV-SNP" in verdict["problems"][0]["problem"]
    elif "no-sev-guest-driver" in name:
        assert log["snp"] is True and log["snp_cpuid_entries"] == 31
        assert log["sev_guest_driver"] is None
        verdict = guest_verdict(log, None, sev_guest_device=False)
        assert [p["fix"] for p in verdict["problems"]] == [
            "modprobe sev-guest (and add sev-guest to /etc/modules-load.d/ to keep it)"]
    elif "driver-initialized" in name:
        assert log["sev_guest_driver"] == "initialized" and log["vmpck_id"] == 0
        # The driver line alone says nothing about which encryption is active.
        assert log["snp"] is None
    else:
        pytest.fail("corpus file %s has no expectation here; add one" % name)


def test_sev_status_bits_match_kernel_positions():
    positions = dict((name, bit) for bit, name in SEV_STATUS_BITS)
    assert positions["vTOM"] == 3 and positions["DebugSwap"] == 7 and positions["BTBIsolation"] == 9
    assert positions["SecureTSC"] == 11 and positions["VmsaRegProt"] == 16 and positions["SMTProtection"] == 17


@pytest.mark.parametrize("value, snp, features", [
    (0x0, False, []),
    (0x1, False, ["SEV"]),
    (0x3, False, ["SEV", "SEV-ES"]),
    (0x7, True, ["SEV", "SEV-ES", "SEV-SNP"]),
    (0x7 | 1 << 7 | 1 << 17, True, ["SEV", "SEV-ES", "SEV-SNP", "DebugSwap", "SMTProtection"]),
    (0x7 | 1 << 3 | 1 << 4, True, ["SEV", "SEV-ES", "SEV-SNP", "vTOM", "ReflectVC"]),
])
def test_decode_sev_status(value, snp, features):
    decoded = decode_sev_status(value)
    assert decoded["snp"] is snp and decoded["features"] == features
    assert decoded["value"] == "%#x" % value


def test_decode_sev_status_reports_bits_it_cannot_name():
    assert decode_sev_status(0x7 | 1 << 13 | 1 << 40)["unknown_bits"] == [13, 40]


@pytest.mark.parametrize("bad", [-1, 1 << 64, "7", None, True])
def test_decode_sev_status_refuses_non_msr_values(bad):
    with pytest.raises(ValueError):
        decode_sev_status(bad)


def test_msr_wins_over_a_stale_log():
    log = parse_guest_kernel_log(fixture("sev-es-kernel-5.log"))
    verdict = guest_verdict(log, decode_sev_status(0x7), sev_guest_device=True)
    assert verdict["snp"] is True and verdict["sources"] == ["msr", "kernel_log", "sev_guest_device"]
    assert "disagree" in verdict["problems"][0]["problem"]


def test_no_evidence_at_all_says_how_to_get_some():
    verdict = guest_verdict(parse_guest_kernel_log(""), None, sev_guest_device=False)
    assert verdict["snp"] is False and verdict["sources"] == []
    assert "modprobe msr" in verdict["problems"][0]["fix"]


@pytest.mark.parametrize("name", [
    "sev-active-kernel-4.log", "sev-es-kernel-5.log", "snp-kernel-6-double-space.log",
    "snp-sev-guest-driver-failed.log", "journalctl-short-monotonic-snp.log", "plain-kvm-guest.log",
])
def test_text_and_lines_give_the_same_result(name):
    text = fixture(name)
    assert parse_guest_kernel_log(iter(text.splitlines(True))) == parse_guest_kernel_log(text)
    assert parse_guest_kernel_log(text.replace("\n", "\r\n").splitlines(True)) == parse_guest_kernel_log(text)


@pytest.mark.parametrize("line", [
    "[ 0.7] SEV: Using SNP CPUID table, %s entries present." % ("9" * 5000),
    "[ 0.7] SEV: Using SNP CPUID table, 1234567890 entries present.",
    "[ 3.9] sev-guest sev-guest: Initialized SEV guest driver (using vmpck_id %s)" % ("9" * 5000),
])
def test_numbers_of_any_length_leave_the_line_unparsed(line):
    log = parse_guest_kernel_log(line)
    assert log["snp"] is None and log["snp_cpuid_entries"] is None and log["vmpck_id"] is None
    assert log["sev_guest_driver"] is None and log["lines"] == []


def test_largest_plausible_numbers_parse():
    log = parse_guest_kernel_log("SEV: Using SNP CPUID table, 123456789 entries present.\n"
                                 "sev-guest: Initialized SEV guest driver (using vmpck_id 3)\n")
    assert log["snp_cpuid_entries"] == 123456789 and log["vmpck_id"] == 3


@pytest.mark.parametrize("line, sev, sev_es, snp, features", [
    ("AMD Secure Encrypted Virtualization (SEV) active", True, None, None, ["SEV"]),
    ("AMD Memory Encryption Features active: SEV", True, False, False, ["SEV"]),
    ("Memory Encryption Features active: AMD SEV SEV-ES", True, True, False, ["SEV", "SEV-ES"]),
    ("Memory Encryption Features active: AMD  SEV  SEV-ES  SEV-SNP", True, True, True, ["SEV", "SEV-ES", "SEV-SNP"]),
    ("Memory Encryption Features active: AMD SME", False, False, False, []),
    ("SEV: Status: SEV SEV-ES SEV-SNP DebugSwap vTom SmtProt", True, True, True,
     ["SEV", "SEV-ES", "SEV-SNP", "DebugSwap", "vTOM", "SMTProtection"]),
    ("SEV: Status: SEV SEV-ES", True, True, False, ["SEV", "SEV-ES"]),
    ("SEV: Status: SEV NewThing", True, False, False, ["SEV", "NewThing"]),
    ("SEV: SNP guest platform device initialized", True, True, True, ["SEV", "SEV-ES", "SEV-SNP"]),
])
def test_each_wording(line, sev, sev_es, snp, features):
    log = parse_guest_kernel_log("[    0.5] " + line)
    assert (log["sev"], log["sev_es"], log["snp"]) == (sev, sev_es, snp)
    assert log["features"] == features
    assert log["lines"] == [line]


def test_features_are_listed_once_in_the_order_seen():
    log = parse_guest_kernel_log("Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n"
                                 "SEV: Status: SEV SEV-ES SEV-SNP DebugSwap\n")
    assert log["features"] == ["SEV", "SEV-ES", "SEV-SNP", "DebugSwap"]
    log = parse_guest_kernel_log("SEV: Status: DebugSwap SEV-SNP\n")
    assert log["features"] == ["DebugSwap", "SEV-SNP", "SEV", "SEV-ES"]


def test_later_lines_win_and_the_platform_device_counts():
    log = parse_guest_kernel_log("Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n"
                                 "Memory Encryption Features active: AMD SEV\n")
    assert (log["sev"], log["sev_es"], log["snp"]) == (True, False, False)
    log = parse_guest_kernel_log("SEV: SNP guest platform device initialized\n")
    assert log["snp_platform_device"] is True and log["snp"] is True


def test_driver_lines():
    log = parse_guest_kernel_log("sev-guest: Initialized SEV guest driver (using vmpck_id 2)\n"
                                 "sev-guest sev-guest: Failed to get report\n")
    assert log["sev_guest_driver"] == "initialized" and log["vmpck_id"] == 2
    assert log["driver_errors"] == ["Failed to get report"]
    log = parse_guest_kernel_log("sev-guest sev-guest: unable to map secrets page\n"
                                 "sev-guest sev-guest: VMPCK is not set\n")
    assert log["sev_guest_driver"] == "failed" and len(log["driver_errors"]) == 2
    assert parse_guest_kernel_log("sev-guest sev-guest: all good\n")["lines"] == []


def test_timestamps_and_levels_are_stripped_trailing_space_too():
    log = parse_guest_kernel_log("<6>[    0.058110] SEV: SNP guest platform device initialized   \n")
    assert log["lines"] == ["SEV: SNP guest platform device initialized"]


@pytest.mark.parametrize("value, device, problems", [
    (0x7, True, []),
    (0x7, False, ["/dev/sev-guest is missing, so attestation reports cannot be requested"]),
    (0x3, True, ["this guest runs with SEV-ES, not SEV-SNP"]),
    (0x1, True, ["this guest runs with SEV, not SEV-SNP"]),
    (0x0, True, ["this guest runs with no memory encryption, not SEV-SNP"]),
])
def test_verdict_from_the_msr(value, device, problems):
    verdict = guest_verdict(parse_guest_kernel_log(""), decode_sev_status(value), device)
    assert [p["problem"] for p in verdict["problems"]] == problems
    assert verdict["snp"] is bool(value & 4) and verdict["sev"] is bool(value & 1)
    assert verdict["sev_es"] is bool(value & 2)
    assert verdict["sources"] == ["msr"] + (["sev_guest_device"] if device else [])
    assert verdict["features"] == decode_sev_status(value)["features"]


def test_verdict_from_the_log_alone():
    log = parse_guest_kernel_log("Memory Encryption Features active: AMD SEV SEV-ES\n")
    verdict = guest_verdict(log, None, True)
    assert (verdict["sev"], verdict["sev_es"], verdict["snp"]) == (True, True, False)
    assert verdict["features"] == ["SEV", "SEV-ES"] and verdict["sources"] == ["kernel_log", "sev_guest_device"]
    assert [p["problem"] for p in verdict["problems"]] == ["this guest runs with SEV-ES, not SEV-SNP"]


def test_log_and_msr_agreeing_raise_no_disagreement():
    log = parse_guest_kernel_log("Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n")
    assert guest_verdict(log, decode_sev_status(0x7), True)["problems"] == []
    quiet = parse_guest_kernel_log("nothing\n")
    assert guest_verdict(quiet, decode_sev_status(0x7), True)["problems"] == []
    assert "disagree" in guest_verdict(log, decode_sev_status(0x3), True)["problems"][0]["problem"]


def test_driver_errors_become_problems_even_when_snp_is_fine():
    log = parse_guest_kernel_log(fixture("snp-sev-guest-driver-failed.log"))
    verdict = guest_verdict(log, decode_sev_status(0x7), True)
    assert [p["problem"] for p in verdict["problems"]] == ["sev-guest driver: Invalid VMPCK0 communication key"]


def test_an_empty_log_gives_the_empty_result():
    assert parse_guest_kernel_log("") == {
        "sev": None, "sev_es": None, "snp": None, "features": [], "snp_cpuid_entries": None,
        "snp_platform_device": False, "sev_guest_driver": None, "vmpck_id": None, "driver_errors": [], "lines": [],
    }


# Bit positions of MSR_AMD64_SEV (SEV_STATUS) as the kernel's arch/x86/include/asm/msr-index.h defines them.
KERNEL_SEV_STATUS_BITS = [
    (0, "SEV"), (1, "SEV-ES"), (2, "SEV-SNP"), (3, "vTOM"), (4, "ReflectVC"), (5, "RestrictedInjection"),
    (6, "AlternateInjection"), (7, "DebugSwap"), (8, "PreventHostIBS"), (9, "BTBIsolation"), (10, "VmplSSS"),
    (11, "SecureTSC"), (12, "VMGExitParam"), (14, "IBSVirt"), (16, "VmsaRegProt"), (17, "SMTProtection"),
    (18, "SecureAVIC"), (23, "IBPBOnEntry"),
]


@pytest.mark.parametrize("bit, name", KERNEL_SEV_STATUS_BITS)
def test_every_sev_status_bit_decodes_to_its_name(bit, name):
    decoded = decode_sev_status(1 << bit)
    assert decoded["features"] == [name] and decoded["unknown_bits"] == []


def test_the_highest_msr_bit_is_reported_unnamed():
    assert decode_sev_status(1 << 63)["unknown_bits"] == [63]
