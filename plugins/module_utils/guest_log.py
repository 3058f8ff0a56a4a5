# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a guest's own kernel says about its memory encryption, and the SEV_STATUS MSR.

Pure Python, stdlib only; runs inside the guest. Parsers take text or integers and never
touch the filesystem; the guest_facts module does the reading.
"""

from __future__ import annotations

import re

from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import log_lines

__all__ = [
    "SEV_STATUS_MSR", "SEV_STATUS_BITS", "decode_sev_status", "parse_guest_kernel_log", "guest_verdict",
]

# MSR_AMD64_SEV (SEV_STATUS); readable by the guest through /dev/cpu/N/msr.
SEV_STATUS_MSR = 0xC0010131

# Bit positions as in the kernel's arch/x86/include/asm/msr-index.h (MSR_AMD64_SEV_*,
# MSR_AMD64_SNP_*). Names are the ones this collection reports; the kernel's own
# "SEV: Status:" wording is mapped onto them in _KERNEL_STATUS_NAMES.
SEV_STATUS_BITS = (
    (0, "SEV"),
    (1, "SEV-ES"),
    (2, "SEV-SNP"),
    (3, "vTOM"),
    (4, "ReflectVC"),
    (5, "RestrictedInjection"),
    (6, "AlternateInjection"),
    (7, "DebugSwap"),
    (8, "PreventHostIBS"),
    (9, "BTBIsolation"),
    (10, "VmplSSS"),
    (11, "SecureTSC"),
    (12, "VMGExitParam"),
    (14, "IBSVirt"),
    (16, "VmsaRegProt"),
    (17, "SMTProtection"),
    (18, "SecureAVIC"),
    (23, "IBPBOnEntry"),
)
_BIT_NAMES = dict(SEV_STATUS_BITS)

_KERNEL_STATUS_NAMES = {
    "vtom": "vTOM", "ri": "RestrictedInjection", "ai": "AlternateInjection", "nohostibs": "PreventHostIBS",
    "btbisol": "BTBIsolation", "vmsaregprot": "VmsaRegProt", "smtprot": "SMTProtection",
}
_KERNEL_STATUS_NAMES.update((name.lower(), name) for _bit, name in SEV_STATUS_BITS)

_TIMESTAMP = re.compile(r"^\s*(?:<\d+>)?(?:\[\s*[\d.]+\]\s*)?")
# 4.15 .. 5.9: "AMD Secure Encrypted Virtualization (SEV) active"
_OLD_SEV_ACTIVE = re.compile(r"AMD Secure Encrypted Virtualization \(SEV\) active")
# 5.10 .. 5.19: "AMD Memory Encryption Features active: SEV SEV-ES"
# 6.x: "Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP" (spacing varies)
_FEATURES_ACTIVE = re.compile(r"(?:AMD )?Memory Encryption Features active:(?P<features>.*)$")
_STATUS = re.compile(r"\bSEV: Status:(?P<features>.*)$")
_CPUID_TABLE = re.compile(r"SEV: Using SNP CPUID table, (?P<entries>[0-9]{1,9}) entries present")
_SNP_PLATFORM_DEVICE = re.compile(r"SEV: SNP guest platform device initialized")
_GUEST_DRIVER_OK = re.compile(
    r"sev-guest(?: sev-guest)?: Initialized SEV guest driver \(using vmpck_id (?P<vmpck>[0-9]{1,9})\)")
_GUEST_DRIVER_ERROR = re.compile(r"sev-guest(?: sev-guest)?: (?P<message>.*(?:[Ff]ail|[Ii]nvalid|[Uu]nable|not ).*)$")


def decode_sev_status(value):
    """SEV_STATUS MSR value -> sev/sev_es/snp booleans, named features and unnamed set bits."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise ValueError("SEV_STATUS must be a 64-bit unsigned integer, got %r" % (value,))
    features = [name for bit, name in SEV_STATUS_BITS if value >> bit & 1]
    unnamed = [bit for bit in range(64) if value >> bit & 1 and bit not in _BIT_NAMES]
    return {
        "value": "%#x" % value,
        "sev": bool(value & 1),
        "sev_es": bool(value & 2),
        "snp": bool(value & 4),
        "features": features,
        "unknown_bits": unnamed,
    }


def _feature_tokens(text):
    return [token for token in text.split() if token]


def parse_guest_kernel_log(log):
    """Everything the guest kernel log (text, or an iterable of lines) says about SEV, SEV-ES and SEV-SNP.

    Returns ``sev``/``sev_es``/``snp`` as True when a line says so and None when the log
    says nothing (absence in a truncated log is not proof of absence), the features the
    kernel listed, the CPUID table size, the sev-guest driver state and the matching lines.
    """
    result = {
        "sev": None, "sev_es": None, "snp": None,
        "features": [],
        "snp_cpuid_entries": None,
        "snp_platform_device": False,
        "sev_guest_driver": None,
        "vmpck_id": None,
        "driver_errors": [],
        "lines": [],
    }
    features = []

    def add(names):
        for name in names:
            if name not in features:
                features.append(name)

    for raw in log_lines(log):
        line = _TIMESTAMP.sub("", raw).rstrip()
        matched = True
        active = _FEATURES_ACTIVE.search(line)
        status = _STATUS.search(line)
        if _OLD_SEV_ACTIVE.search(line):
            result["sev"] = True
            add(["SEV"])
        elif active:
            tokens = [t for t in _feature_tokens(active.group("features")) if t.startswith("SEV")]
            # The list says what is active, so anything missing from a complete list is off.
            result["sev"] = "SEV" in tokens
            result["sev_es"] = "SEV-ES" in tokens
            result["snp"] = "SEV-SNP" in tokens
            add(tokens)
        elif status:
            tokens = [_KERNEL_STATUS_NAMES.get(t.lower(), t) for t in _feature_tokens(status.group("features"))]
            result["sev"] = "SEV" in tokens
            result["sev_es"] = "SEV-ES" in tokens
            result["snp"] = "SEV-SNP" in tokens
            add(tokens)
        elif _CPUID_TABLE.search(line):
            result["snp_cpuid_entries"] = int(_CPUID_TABLE.search(line).group("entries"))
            result["snp"] = True
        elif _SNP_PLATFORM_DEVICE.search(line):
            result["snp_platform_device"] = True
            result["snp"] = True
        elif _GUEST_DRIVER_OK.search(line):
            result["sev_guest_driver"] = "initialized"
            result["vmpck_id"] = int(_GUEST_DRIVER_OK.search(line).group("vmpck"))
        elif _GUEST_DRIVER_ERROR.search(line):
            result["driver_errors"].append(_GUEST_DRIVER_ERROR.search(line).group("message").strip())
            if result["sev_guest_driver"] is None:
                result["sev_guest_driver"] = "failed"
        else:
            matched = False
        if matched:
            result["lines"].append(line)
    if result["snp"]:
        # SNP implies SEV-ES and SEV: a CPUID-table line alone proves all three.
        result["sev"] = result["sev_es"] = True
        add([name for name in ("SEV", "SEV-ES", "SEV-SNP") if name not in features])
    result["features"] = features
    return result


def guest_verdict(log, msr, sev_guest_device):
    """Combine the kernel log, the MSR (decoded, or None) and /dev/sev-guest into facts.

    The MSR is the hardware's word and wins over the log; the log fills in when the MSR
    cannot be read. Problems carry the fix.
    """
    sources = []
    if msr is not None:
        sources.append("msr")
        sev, sev_es, snp = msr["sev"], msr["sev_es"], msr["snp"]
        features = list(msr["features"])
    else:
        sev, sev_es, snp = bool(log["sev"]), bool(log["sev_es"]), bool(log["snp"])
        features = list(log["features"])
    if log["lines"]:
        sources.append("kernel_log")
    if sev_guest_device:
        sources.append("sev_guest_device")
    problems = []
    if msr is not None and log["snp"] is not None and bool(log["snp"]) != msr["snp"]:
        problems.append({
            "problem": "the kernel log and the SEV_STATUS MSR disagree about SEV-SNP (log: %s, MSR: %s)"
                       % (log["snp"], msr["snp"]),
            "fix": "the log may be from an earlier boot; read the live log (kernel_log unset) and compare",
        })
    if not snp:
        if msr is None and not log["lines"]:
            problems.append({
                "problem": "no evidence of memory encryption: the kernel log has no SEV lines and the SEV_STATUS "
                           "MSR could not be read",
                "fix": "load the msr module (modprobe msr) so /dev/cpu/0/msr exists, or pass the boot log as kernel_log",
            })
        else:
            state = "SEV-ES" if sev_es else ("SEV" if sev else "no memory encryption")
            problems.append({
                "problem": "this guest runs with %s, not SEV-SNP" % state,
                "fix": "define the domain with <launchSecurity type='sev-snp'> and an SEV-SNP OVMF "
                       "(role coco.sev_snp.sev_snp_guest) on a host that passes the SNP checks",
            })
    elif not sev_guest_device:
        problems.append({
            "problem": "/dev/sev-guest is missing, so attestation reports cannot be requested",
            "fix": "modprobe sev-guest (and add sev-guest to /etc/modules-load.d/ to keep it)",
        })
    for message in log["driver_errors"]:
        problems.append({
            "problem": "sev-guest driver: %s" % message,
            "fix": "check that the host's SEV-SNP firmware provided the VMPCK for this VMPL; reboot the guest after fixing the host",
        })
    return {
        "sev": sev,
        "sev_es": sev_es,
        "snp": snp,
        "features": features,
        "sources": sources,
        "problems": problems,
    }
