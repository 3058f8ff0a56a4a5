# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the SEV, SEV-SNP, RMP, ASID and AMD-Vi lines of a Linux kernel log.

The parser takes text, or an iterable of lines, and returns plain data; it never reads a
file, so a log of any size can be streamed through it in bounded memory. Message
formats come from drivers/crypto/ccp/sev-dev.c, arch/x86/virt/svm/sev.c,
arch/x86/kvm/svm/sev.c and drivers/iommu/amd/init.c of kernels 5.14 and later,
plus the out-of-tree AMD "snp-host" kernels that preceded mainline support.
"""

from __future__ import annotations

import re

# A line may carry, in this order: a journal prefix ("Nov 26 07:01:02 host kernel:"
# or "2025-11-26T07:01:02+0100 host kernel:"), a printk stamp ("[  12.345]" or the
# "dmesg -T" form "[Wed Nov 26 07:01:02 2025]"), and a syslog level ("<6>").
_JOURNAL_PREFIX = re.compile(
    r"^(?:"
    r"[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r")\s+\S+\s+kernel:\s?"
)
_PRINTK_STAMP = re.compile(r"^\s*\[[^\]]*\]\s?")
_BOOT_STAMP = re.compile(r"\[\s*0\.0+\]")
_SYSLOG_LEVEL = re.compile(r"^<\d+>")

_PCI_ADDRESS = r"[0-9a-fA-F]{4}:\s*[0-9a-fA-F]{2}:\s*[0-9a-fA-F]{2}\.\s*[0-7]"
_CCP_DEVICE = re.compile(r"\bccp\s+(" + _PCI_ADDRESS + r")\s*:")
# Numbers are ASCII digits of any length here; _bounded_int decides what is plausible.
_ERROR = r"(?P<error>0x[0-9a-fA-F]+|[0-9a-fA-F]+)"
_RC = r"(?P<rc>-?[0-9]+)"
# A 64-bit physical address; longer digit runs do not match, so the line stays unparsed.
_ADDRESS = r"(0x[0-9a-fA-F]{1,16})(?![0-9a-fA-F])"

_VERSION = r"([0-9]+)\s*\.\s*([0-9]+)\s+build\s*:\s*([0-9]+)"
_SNP_API = re.compile(r"SEV-SNP\s+API\s*:\s*" + _VERSION)
_SEV_API = re.compile(r"(?<![\w-])SEV\s+API\s*:\s*" + _VERSION)
# "1.55.21": api major, api minor and build as sev_pci_init prints them (%d.%d.%d).
_TRIPLE = r"([0-9]+)\.([0-9]+)\.([0-9]+)"
# Lines that report a SEV firmware image loaded by the ccp driver, tried in this order.
#   up to 6.11  "SEV firmware update successful" (sev_update_firmware) whenever DOWNLOAD_FIRMWARE
#               succeeded, even with an image of the running version; the line has no versions,
#               the API lines printed after it carry the new one
#   6.12 on     "SEV firmware updated from 1.55.21 to 1.55.29" (sev_pci_init), only when the
#               version changed; an image of the running version prints nothing
#   runtime     "SEV firmware same as old 1.55.29" (firmware upload through sysfs, no change)
# Columns: pattern, form, whether the version changed (None: the line does not say).
_FIRMWARE_UPDATES = (
    (re.compile(r"SEV firmware updated from " + _TRIPLE + r" to " + _TRIPLE), "updated_from", True),
    (re.compile(r"SEV firmware update successful"), "update_successful", None),
    (re.compile(r"SEV firmware same as old " + _TRIPLE), "same_as_old", False),
)
_FW_LOAD_FAILED = re.compile(r"firmware: failed to load (amd/\S+)")
# Debian and Ubuntu kernels log every firmware file they load ("firmware: direct-loading firmware
# amd/amd_sev_fam19h_model0xh.sbin"); mainline logs it only with dynamic debug.
_FW_LOADED = re.compile(r"direct-loading (?:firmware )?(amd/(?:amd_sev_\S+|sev\.fw))")

_SEV_PROBE = re.compile(r"\bsev enabled\b")
_PSP_ENABLED = re.compile(r"\bpsp enabled\b")
_PSP_NO_SEV = re.compile(r"psp does not support SEV\b")
_SEV_PROBE_FAILED = re.compile(r"\bsev initialization failed\b")

# INIT failures, tried in this order. Named groups carry the details: error (status code),
# rc (kernel return code), command (the PSP command that failed).
#   snp-host 5.x   "SEV-SNP: failed to INIT error %#x"
#   6.9            "SEV-SNP: failed to INIT rc %d, error %#x"
#   6.15           "SEV-SNP: SNP_INIT_EX failed rc %d, error %#x" (or SNP_INIT / SNP_DF_FLUSH)
#   follow-up      "SEV-SNP: failed to INIT, continue SEV INIT" (after the line with the code)
#   4.x/5.x        "SEV: failed to INIT error %#x", 6.x "..., rc %d"
#   6.15           "SEV: INIT failed %#x, rc %d" / "SEV: INIT_EX failed ..." / "SEV: DF_FLUSH failed ..."
# Columns: result key, pattern, follow_up (a line that only repeats an earlier failure and
# must not replace the code that line carried).
_SNP = r"SEV-SNP:\s+"
_SEV = r"(?<![\w-])SEV:\s+"
_INIT_FAILURES = (
    ("snp_init_error", re.compile(_SNP + r"failed to INIT\s+rc\s+" + _RC + r",\s*error\s+" + _ERROR), False),
    ("snp_init_error", re.compile(_SNP + r"failed to INIT\s+error\s+" + _ERROR + r"(?:,\s*rc\s+" + _RC + r")?"),
     False),
    ("snp_init_error", re.compile(_SNP + r"(?P<command>SNP_INIT_EX|SNP_INIT|SNP_DF_FLUSH)\s+failed\s+rc\s+" + _RC
                                  + r",\s*error\s+" + _ERROR), False),
    ("snp_init_error", re.compile(_SNP + r"failed to INIT(?:,|\s*$)"), True),
    ("sev_init_error", re.compile(_SEV + r"failed to INIT\s+error\s+" + _ERROR + r"(?:,\s*rc\s+" + _RC + r")?"),
     False),
    ("sev_init_error", re.compile(_SEV + r"failed to INIT\s+rc\s+" + _RC + r",\s*error\s+" + _ERROR), False),
    ("sev_init_error", re.compile(_SEV + r"(?P<command>INIT_EX|INIT|DF_FLUSH)\s+failed\s+" + _ERROR
                                  + r",\s*rc\s+" + _RC), False),
)
_SNP_INITIALIZED = re.compile(r"SEV-SNP firmware initialized")

_GET_STATUS_FAILED = re.compile(r"SEV:\s+failed to get status\.?\s+Error:\s*" + _ERROR)
_PSP_TIMEOUT = re.compile(r"sev command\s+(?P<command>0x[0-9a-fA-F]+|[0-9a-fA-F]+)\s+timed out, disabling PSP")
_BROKEN_BIOS = re.compile(r"unable to access the device: you might be running a broken BIOS")
_MEM_ENCRYPT_OFF = re.compile(r"SEV:\s+memory encryption not enabled by BIOS")
_SNP_FW_TOO_OLD = re.compile(r"SEV-SNP support requires firmware version >=\s*[0-9]+[:.][0-9]+")

_RMP_RANGE = re.compile(
    r"RMP table physical (?:address|range)\s*\[?\s*" + _ADDRESS + r"\s*-\s*" + _ADDRESS)
_RMP_RESERVING = re.compile(r"Reserving start/end of RMP table on a 2MB boundary\s*\[?\s*" + _ADDRESS)
_RMP_NOT_RESERVED = re.compile(r"Memory for the RMP table has not been reserved by BIOS")
_RMP_TOO_SMALL = re.compile(r"Memory reserved for the RMP table does not cover full system RAM")
_RMP_INVALID = re.compile(r"RMP configuration not valid|Failed to map RMP table")
_RMP_SEGMENTED = re.compile(r"Segmented RMP using\s+([0-9]+)\s*GB segments")

_ASID_COUNT = re.compile(
    r"(?<![\w-])(SEV-ES and SEV-SNP|SEV-SNP|SEV-ES|SEV)\s+supported:\s+([0-9]+)\s+ASIDs")
_ASID_RANGE = re.compile(
    r"(?<![\w-])(SEV-SNP|SEV-ES|SEV)\s+(enabled|disabled|unusable)\s+\(ASIDs\s+([0-9]+)\s*-\s*([0-9]+)\)")

_IOMMU_PASSTHROUGH = re.compile(
    r"SNP:\s+IOMMU\s+(?:is\s+)?(?:either\s+)?disabled or configured in passthrough mode")
_IOMMU_NO_SNP_FEATURE = re.compile(r"IOMMU SNP feature (?:is\s+)?not enabled")
_IOMMU_V2_PGTABLE = re.compile(r"SNP:\s+IOMMU is configured with V2 page table mode")
_IOMMU_SNP_ENABLED = re.compile(r"AMD-Vi:\s+(?:IOMMU SNP support (?:is\s+)?enabled|SNP enabled)")
_IOMMU_DEFAULT_DOMAIN = re.compile(r"iommu:\s+Default domain type:\s+(\w+)")
_GUEST_MEMFD_MISSING = re.compile(r"SEV-SNP requires private memory support via guest_memfd")

_KERNEL_VERSION = re.compile(r"\bLinux version (\S+)")
_COMMAND_LINE = re.compile(r"^(?:Kernel )?[Cc]ommand line:\s*(.*)$")

# Every pattern above needs one of these words, so a line without any is not looked at
# further: a log of millions of unrelated lines scans fast. Lines that only mention SEV in
# passing (hostnames, unit names, QEMU errors) pass this filter and fall through every
# pattern.
_KEYWORDS = ("SEV", "SNP", "RMP", "sev", "psp", "ccp", "firmware", "BIOS", "iommu", "Linux version",
             "ommand line")


def _may_matter(line):
    for word in _KEYWORDS:
        if word in line:
            return True
    return False


# Upper bounds of the numbers the kernel prints: the firmware reports its API version and
# build as u8; ASIDs, RMP segment sizes and status codes are u32; rc is an int. A larger
# number did not come from the kernel, so it makes its line unparsed (or its field null).
_U8 = 0xFF
_U32 = 0xFFFFFFFF
_INT_MAX = 0x7FFFFFFF

SEV_STATUS_CODES = {
    0x01: "INVALID_PLATFORM_STATE",
    0x02: "INVALID_GUEST_STATE",
    0x03: "INVALID_CONFIG",
    0x04: "INVALID_LEN",
    0x05: "ALREADY_OWNED",
    0x06: "INVALID_CERTIFICATE",
    0x07: "POLICY_FAILURE",
    0x08: "INACTIVE",
    0x09: "INVALID_ADDRESS",
    0x0A: "BAD_SIGNATURE",
    0x0B: "BAD_MEASUREMENT",
    0x0C: "ASID_OWNED",
    0x0D: "INVALID_ASID",
    0x0E: "WBINVD_REQUIRED",
    0x0F: "DFFLUSH_REQUIRED",
    0x10: "INVALID_GUEST",
    0x11: "INVALID_COMMAND",
    0x12: "ACTIVE",
    0x13: "HWSEV_RET_PLATFORM",
    0x14: "HWSEV_RET_UNSAFE",
    0x15: "UNSUPPORTED",
    0x16: "INVALID_PARAM",
    0x17: "RESOURCE_LIMIT",
    0x18: "SECURE_DATA_INVALID",
    0x19: "INVALID_PAGE_SIZE",
    0x1A: "INVALID_PAGE_STATE",
    0x1B: "INVALID_MDATA_ENTRY",
    0x1C: "INVALID_PAGE_OWNER",
    0x1D: "AEAD_OFLOW",
    0x1F: "EXIT_RING_BUFFER",
    0x20: "RMP_INIT_REQUIRED",
    0x21: "BAD_SVN",
    0x22: "BAD_VERSION",
    0x23: "SHUTDOWN_REQUIRED",
    0x24: "UPDATE_FAILED",
    0x25: "RESTORE_REQUIRED",
    0x26: "RMP_INITIALIZATION_FAILED",
    0x27: "INVALID_KEY",
}


def status_name(code):
    """Name of a SEV firmware status code, or None for codes outside the SEV API
    (0x8xxx/0x9xxx come from the PSP boot loader and mailbox, not the SEV firmware)."""
    if code is None:
        return None
    return SEV_STATUS_CODES.get(code)


def strip_prefixes(line):
    """The message part of one kernel log line, without journal prefix, stamp or level."""
    text = line.rstrip("\r\n")
    text = _JOURNAL_PREFIX.sub("", text, count=1)
    text = _SYSLOG_LEVEL.sub("", text, count=1)
    text = _PRINTK_STAMP.sub("", text, count=1)
    return text.strip()


def normalize_pci_address(address):
    """'0000: 23:00.1' -> '0000:23:00.1' (pasted logs sometimes carry stray spaces)."""
    return re.sub(r"\s+", "", address).lower()


def _bounded_int(text, maximum, base=10):
    """Value of a digit string (optional '-', optional '0x' in base 16) when its magnitude is
    at most ``maximum``, else None. Never raises, however many digits the string has."""
    if text is None:
        return None
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if base == 16 and digits[:2].lower() == "0x":
        digits = digits[2:]
    digits = digits.lstrip("0") or "0"
    if len(digits) > len(("%x" if base == 16 else "%d") % maximum):
        return None
    value = int(digits, base)
    if value > maximum:
        return None
    return -value if negative else value


def _version(match):
    """("1.55", 21) from an API line, or None when a part is beyond what the firmware reports."""
    major, minor, build = (_bounded_int(match.group(index), _U8) for index in (1, 2, 3))
    if major is None or minor is None or build is None:
        return None
    return "%d.%d" % (major, minor), build


def _triple(match, first):
    """{'api': '1.55', 'build': 21} from three groups starting at ``first``, or None when a part
    is beyond the u8 the firmware reports."""
    major, minor, build = (_bounded_int(match.group(first + index), _U8) for index in (0, 1, 2))
    if major is None or minor is None or build is None:
        return None
    return {"api": "%d.%d" % (major, minor), "build": build}


def _firmware_update(message):
    """The firmware update a line reports: {'form', 'changed', 'from', 'to'} (versions as _triple
    gives them, None where the line has none), or None: another line, or an update line whose
    numbers the firmware cannot have printed. "same as old" names one version, before and after."""
    for pattern, form, changed in _FIRMWARE_UPDATES:
        match = pattern.search(message)
        if not match:
            continue
        versions = [_triple(match, first) for first in range(1, len(match.groups()), 3)]
        if None in versions:
            return None
        before, after = (versions[0], versions[-1]) if versions else (None, None)
        return {"form": form, "changed": changed, "from": before, "to": after}
    return None


def _empty_result():
    return {
        "lines": 0,
        "relevant_lines": 0,
        "kernel_release": None,
        "command_line": None,
        "reaches_boot": False,
        "sev_api": None,
        "sev_build": None,
        "snp_api": None,
        "snp_build": None,
        "firmware_updated": False,
        "firmware_update": None,
        "firmware_file_loaded": None,
        "firmware_files_missing": [],
        "psp_devices": [],
        "sev_devices": [],
        "psp_without_sev": [],
        "sev_probe_failed": False,
        "snp_initialized": False,
        "snp_init_error": None,
        "sev_init_error": None,
        "get_status_error": None,
        "psp_timeout": None,
        "broken_bios": False,
        "memory_encryption_disabled_by_bios": False,
        "snp_firmware_too_old": False,
        "rmp": {"start": None, "end": None, "reserved_start": None, "segment_gb": None,
                "not_reserved": False, "does_not_cover_ram": False, "invalid": False},
        "asids": {"sev": None, "sev_es": None, "sev_snp": None},
        "iommu": {"snp_passthrough": False, "snp_feature_missing": False,
                  "snp_v2_page_table": False, "snp_enabled": False, "default_domain": None},
        "guest_memfd_missing": False,
    }


def _failure(match):
    """{'error', 'error_name', 'rc', 'command'} from the named groups of a failure pattern.

    An implausible code or rc becomes null; the failure itself still counts."""
    groups = match.groupdict()
    error = _bounded_int(groups.get("error"), _U32, 16)
    return {"error": error, "error_name": status_name(error),
            "rc": _bounded_int(groups.get("rc"), _INT_MAX), "command": groups.get("command")}


def _asid_range(state, minimum, maximum):
    """An ASID range line; count is the size of the range. "disabled" with a non-empty range
    means the feature was turned off for another reason, "unusable" or "0 - 0" means no ASIDs."""
    count = maximum - minimum + 1 if maximum >= minimum and maximum > 0 else 0
    return {"state": state, "min": minimum, "max": maximum, "count": count}


def _asid_count(count):
    """A "supported: N ASIDs" line: only the number is known."""
    return {"state": "enabled" if count > 0 else "unusable", "min": None, "max": None, "count": count}


def log_lines(log):
    """The lines of a log given as text or as an iterable of lines (or chunks of lines).

    Both give the same lines: every item is split as str.splitlines() splits the whole
    text, and an empty item is one empty line. None is an empty log.
    """
    if log is None:
        return iter(())
    if isinstance(log, str):
        return iter(log.splitlines())
    return (line for item in log for line in (item.splitlines() or [""]))


def parse_kernel_log(log):
    """Parse a kernel log (text, or an iterable of lines) into a dict of evidence.

    Later lines win: a firmware hot update or a reload of the ccp module prints a fresh
    set of lines, and what is printed last is what runs now. A new "sev enabled" probe
    line therefore clears the INIT failures seen before it.
    """
    result = _empty_result()
    psp_devices = []
    sev_devices = []
    for raw in log_lines(log):
        result["lines"] += 1
        if _BOOT_STAMP.search(raw):
            result["reaches_boot"] = True
        if not _may_matter(raw):
            continue
        if _scan_line(strip_prefixes(raw), result, psp_devices, sev_devices):
            result["relevant_lines"] += 1
    result["psp_devices"] = psp_devices
    result["sev_devices"] = sev_devices
    return result


def _note_device(message, devices):
    match = _CCP_DEVICE.search(message)
    if match:
        address = normalize_pci_address(match.group(1))
        if address not in devices:
            devices.append(address)
        return address
    return None


def _add_once(items, item):
    if item not in items:
        items.append(item)


# Lines that set one flag, tried in this order after the firmware and failure lines.
# Columns: pattern, the dict below the result that holds the flag (None: the result), flag.
_FLAG_LINES = (
    (_BROKEN_BIOS, None, "broken_bios"),
    (_MEM_ENCRYPT_OFF, None, "memory_encryption_disabled_by_bios"),
    (_SNP_FW_TOO_OLD, None, "snp_firmware_too_old"),
)
_PLATFORM_FLAG_LINES = (
    (_RMP_NOT_RESERVED, "rmp", "not_reserved"),
    (_RMP_TOO_SMALL, "rmp", "does_not_cover_ram"),
    (_RMP_INVALID, "rmp", "invalid"),
)
_IOMMU_FLAG_LINES = (
    (_IOMMU_PASSTHROUGH, "iommu", "snp_passthrough"),
    (_IOMMU_NO_SNP_FEATURE, "iommu", "snp_feature_missing"),
    (_IOMMU_V2_PGTABLE, "iommu", "snp_v2_page_table"),
    (_IOMMU_SNP_ENABLED, "iommu", "snp_enabled"),
)


def _set_flag(message, result, table):
    """Set the flag of the first row whose pattern matches; True when one did."""
    for pattern, section, flag in table:
        if pattern.search(message):
            (result[section] if section else result)[flag] = True
            return True
    return False


def _scan_line(message, result, psp_devices, sev_devices):
    """Update result from one message; True when the line said something about SEV."""
    match = _KERNEL_VERSION.search(message)
    if match:
        result["kernel_release"] = match.group(1)
        result["reaches_boot"] = True
        return False
    match = _COMMAND_LINE.match(message)
    if match:
        result["command_line"] = match.group(1).strip()
        result["reaches_boot"] = True
        return False

    device = _note_device(message, psp_devices)

    if _SEV_PROBE_FAILED.search(message):
        result["sev_probe_failed"] = True
        return True
    if _SEV_PROBE.search(message):
        if device:
            _add_once(sev_devices, device)
        # A new probe of the SEV device: what failed in an earlier probe no longer holds.
        result["snp_initialized"] = False
        result["snp_init_error"] = None
        result["sev_init_error"] = None
        result["get_status_error"] = None
        return True
    if _PSP_NO_SEV.search(message):
        if device:
            _add_once(result["psp_without_sev"], device)
        return True
    if _PSP_ENABLED.search(message):
        return True

    match = _SNP_API.search(message)
    if match:
        version = _version(match)
        if version is None:
            return False
        result["snp_api"], result["snp_build"] = version
        result["snp_initialized"] = True
        result["snp_init_error"] = None
        return True
    match = _SEV_API.search(message)
    if match:
        version = _version(match)
        if version is None:
            return False
        result["sev_api"], result["sev_build"] = version
        return True
    if _SNP_INITIALIZED.search(message):
        result["snp_initialized"] = True
        result["snp_init_error"] = None
        return True

    update = _firmware_update(message)
    if update is not None:
        result["firmware_update"] = update
        result["firmware_updated"] = result["firmware_updated"] or update["changed"] is not False
        return True
    match = _FW_LOAD_FAILED.search(message)
    if match:
        _add_once(result["firmware_files_missing"], match.group(1))
        return True
    match = _FW_LOADED.search(message)
    if match:
        result["firmware_file_loaded"] = match.group(1)
        return True

    for key, pattern, follow_up in _INIT_FAILURES:
        match = pattern.search(message)
        if match:
            if not (follow_up and result[key] is not None):
                result[key] = _failure(match)
            if key == "snp_init_error":
                result["snp_initialized"] = False
            return True
    match = _GET_STATUS_FAILED.search(message)
    if match:
        code = _bounded_int(match.group("error"), _U32, 16)
        result["get_status_error"] = {"error": code, "error_name": status_name(code)}
        return True
    match = _PSP_TIMEOUT.search(message)
    if match:
        result["psp_timeout"] = {"command": _bounded_int(match.group("command"), _U32, 16)}
        return True
    if _set_flag(message, result, _FLAG_LINES):
        return True
    return _scan_platform_line(message, result)


def _scan_platform_line(message, result):
    """RMP, ASID, IOMMU and KVM lines (not printed by the ccp driver)."""
    rmp = result["rmp"]
    match = _RMP_RANGE.search(message)
    if match:
        rmp["start"], rmp["end"] = match.group(1).lower(), match.group(2).lower()
        return True
    match = _RMP_RESERVING.search(message)
    if match:
        rmp["reserved_start"] = match.group(1).lower()
        return True
    match = _RMP_SEGMENTED.search(message)
    if match:
        segment = _bounded_int(match.group(1), _U32)
        if segment is None:
            return False
        rmp["segment_gb"] = segment
        return True
    if _set_flag(message, result, _PLATFORM_FLAG_LINES):
        return True

    asids = result["asids"]
    match = _ASID_RANGE.search(message)
    if match:
        minimum, maximum = _bounded_int(match.group(3), _U32), _bounded_int(match.group(4), _U32)
        if minimum is None or maximum is None:
            return False
        key = _ASID_KEYS[match.group(1)][0]
        asids[key] = _asid_range(match.group(2), minimum, maximum)
        return True
    match = _ASID_COUNT.search(message)
    if match:
        count = _bounded_int(match.group(2), _U32)
        if count is None:
            return False
        for key in _ASID_KEYS[match.group(1)]:
            asids[key] = _asid_count(count)
        return True

    if _set_flag(message, result, _IOMMU_FLAG_LINES):
        return True
    match = _IOMMU_DEFAULT_DOMAIN.search(message)
    if match:
        result["iommu"]["default_domain"] = match.group(1).lower()
        return True
    if _GUEST_MEMFD_MISSING.search(message):
        result["guest_memfd_missing"] = True
        return True
    return False


_ASID_KEYS = {"SEV": ("sev",), "SEV-ES": ("sev_es",), "SEV-SNP": ("sev_snp",),
              "SEV-ES and SEV-SNP": ("sev_es", "sev_snp")}


def has_sev_evidence(parsed):
    """True when the log holds any line from the SEV/PSP driver (ccp) or KVM's SEV setup."""
    return bool(
        parsed["psp_devices"] or parsed["sev_api"] or parsed["snp_api"]
        or parsed["snp_init_error"] or parsed["sev_init_error"] or parsed["get_status_error"]
        or parsed["psp_timeout"] or parsed["broken_bios"]
        or parsed["memory_encryption_disabled_by_bios"] or parsed["snp_firmware_too_old"]
        or any(parsed["asids"].values())
    )
