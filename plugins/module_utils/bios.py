# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SEV-SNP firmware settings as BMCs report them in Redfish ``Bios.Attributes``.

SNP needs, in the firmware: SMEE (memory encryption) on, SEV-SNP support on, the RMP table
covering all memory, the IOMMU on, and an SEV-ES/SNP ASID range that is not empty. Each
vendor names these differently; ``BIOS_TABLE`` maps the public names to those five settings,
each entry with the public source it was taken from. Supermicro appends a board-specific
``#xxxx`` to every name (``SMEE#003E``): names are matched on the part before the ``#`` and
written back in full, as the BMC reported them.

Pure Python, standard library only; the ``coco.sev_snp.bios_problems`` and
``coco.sev_snp.bios_settings_for_snp`` filters are thin wrappers.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.coco.sev_snp.plugins.module_utils.problems import ERROR, WARNING, problem

SMEE_DISABLED = "bios_smee_disabled"
SNP_DISABLED = "bios_snp_disabled"
SNP_MEMORY_COVERAGE_DISABLED = "bios_snp_memory_coverage_disabled"
IOMMU_DISABLED = "bios_iommu_disabled"
SEV_ASID_SPACE = "bios_sev_asid_space"
SETTINGS_UNKNOWN = "bios_settings_unknown"
# Why the BIOS could not be read through the BMC (bmc_failure).
BMC_CREDENTIALS_REFUSED = "bios_bmc_credentials_refused"
BMC_CERTIFICATE_UNVERIFIED = "bios_bmc_certificate_unverified"
BMC_UNREACHABLE = "bios_bmc_unreachable"
BMC_READ_FAILED = "bios_bmc_read_failed"
PROBLEM_ORDER = (BMC_CREDENTIALS_REFUSED, BMC_CERTIFICATE_UNVERIFIED, BMC_UNREACHABLE, BMC_READ_FAILED,
                 SETTINGS_UNKNOWN, SMEE_DISABLED, SNP_DISABLED, SNP_MEMORY_COVERAGE_DISABLED,
                 IOMMU_DISABLED, SEV_ASID_SPACE)

# What each setting is called in messages.
SETTING_NAMES = {
    SMEE_DISABLED: "SMEE (secure memory encryption)",
    SNP_DISABLED: "SEV-SNP support",
    SNP_MEMORY_COVERAGE_DISABLED: "SNP memory (RMP table) coverage",
    IOMMU_DISABLED: "the IOMMU",
    SEV_ASID_SPACE: "the SEV-ES/SNP ASID space limit",
}

# ASIDs below the limit go to SEV-ES and SEV-SNP guests, the rest to plain SEV ones; a limit
# of 1 leaves SNP none (the kernel then logs "SEV-ES disabled (ASIDs 0 - 0)"). 100 is what
# the public guides below set (ASIDs 1-99 for SEV-ES/SNP).
DEFAULT_ASID_LIMIT = 100

SWITCH = "switch"              # an on/off attribute
ASID_LIMIT = "asid_limit"      # the lowest ASID of plain SEV guests: 1 leaves SEV-ES/SNP none
ASID_CONTROL = "asid_control"  # Auto/Manual: whether the firmware honours the limit above

BiosEntry = namedtuple("BiosEntry", "vendor name problem_id kind wanted source")

_HPE_ILO6 = ("HPE iLO 6 BIOS resource definitions (servermanagementportal.ext.hpe.com, "
             "ilo6_bios_resourcedefns120): Enumeration Enabled/Disabled")
_CNS_BIOS = ("NVIDIA cloud-native-stack, playbooks/cns_conf_compu_bios.yaml and "
             "playbooks/files/redfish.py (github.com/NVIDIA/cloud-native-stack)")
_DELL_RACADM = ("Dell iDRAC BIOS.ProcSettings, used in dimstav23/GDPRuler CVM_setup/README.md "
                "(racadm set BIOS.ProcSettings.Sme/Snp/IommuSupport/CpuMinSevAsid)")
_DELL_RMP = ("Dell iDRAC BIOS.ProcSettings.Rmp, thenervelab/hippius-cvm deploy/ansible/README.md "
             "('Enabling SEV-SNP on a Dell (racadm)')")
_CISCO_CBS = ("AMD CBS token names as Cisco IMC exposes them (imcsdk BiosVfCbsDbgCpuSnpMemCover, "
              "BiosVfCbsCmnGnbNbIOMMU; Intersight BIOS policy cbs_dbg_cpu_snp_mem_cover)")

BIOS_TABLE = (
    # HPE iLO 5 (2.x) and iLO 6: documented names. HPE documents no separate RMP coverage
    # or ASID attribute; AmdDmaRemapping is pre-boot DMA protection, not the IOMMU itself.
    BiosEntry("HPE iLO", "AmdSecureMemoryEncryption", SMEE_DISABLED, SWITCH, "Enabled", _HPE_ILO6),
    BiosEntry("HPE iLO", "AmdSecureNestedPaging", SNP_DISABLED, SWITCH, "Enabled", _HPE_ILO6),
    BiosEntry("HPE iLO", "ProcAmdIoVt", IOMMU_DISABLED, SWITCH, "Enabled",
              "weka/tools bios_tool/README.md (HPE ProLiant DL385 diff: ProcAmdIoVt Disabled/Enabled); "
              "iLO 5 attribute list"),
    # Dell iDRAC 9. TransparentSme (TSME) is left alone: SNP does not need it, NVIDIA enables
    # it, other guides leave it off. CpuMinSevAsid is Integer in current registries and was an
    # Enumeration of numbers in older ones (both handled).
    BiosEntry("Dell iDRAC", "Sme", SMEE_DISABLED, SWITCH, "Enabled", _DELL_RACADM),
    BiosEntry("Dell iDRAC", "Snp", SNP_DISABLED, SWITCH, "Enabled", _DELL_RACADM),
    BiosEntry("Dell iDRAC", "Rmp", SNP_MEMORY_COVERAGE_DISABLED, SWITCH, "Enabled", _DELL_RMP),
    BiosEntry("Dell iDRAC", "IommuSupport", IOMMU_DISABLED, SWITCH, "Enabled", _DELL_RACADM),
    BiosEntry("Dell iDRAC", "CpuMinSevAsid", SEV_ASID_SPACE, ASID_LIMIT, DEFAULT_ASID_LIMIT,
              _DELL_RACADM + "; " + _DELL_RMP),
    # Supermicro (H12/H13, AMI-based BMC): names carry a board-specific #xxxx suffix, e.g.
    # SMEE#003E, IOMMU#0196, SEV-SNPSupport#01A7, SNPMemory(RMPTable)Coverage#003C,
    # SEV-ESASIDSpaceLimit#700C. A later NVIDIA playbook (cns_cc_bios.yaml) wrote the names
    # without the suffix, which the BMC does not know: the bug this matching avoids.
    BiosEntry("Supermicro", "SMEE", SMEE_DISABLED, SWITCH, "Enabled", _CNS_BIOS),
    BiosEntry("Supermicro", "SEV-SNPSupport", SNP_DISABLED, SWITCH, "Enabled", _CNS_BIOS),
    BiosEntry("Supermicro", "SNPMemory(RMPTable)Coverage", SNP_MEMORY_COVERAGE_DISABLED, SWITCH, "Enabled",
              _CNS_BIOS),
    BiosEntry("Supermicro", "IOMMU", IOMMU_DISABLED, SWITCH, "Enabled", _CNS_BIOS),
    BiosEntry("Supermicro", "SEV-ESASIDSpaceLimit", SEV_ASID_SPACE, ASID_LIMIT, DEFAULT_ASID_LIMIT, _CNS_BIOS),
    # AMI Aptio AMD CBS names (ASRock Rack); the values repeat the name:
    # CbsCmnCpuSmeeEnabled, CbsSevSnpSupportEnable, CbsDbgCpuSnpMemCoverEnabled.
    BiosEntry("AMI CBS", "CbsCmnCpuSmee", SMEE_DISABLED, SWITCH, "CbsCmnCpuSmeeEnabled", _CNS_BIOS),
    BiosEntry("AMI CBS", "CbsSevSnpSupport", SNP_DISABLED, SWITCH, "CbsSevSnpSupportEnable", _CNS_BIOS),
    BiosEntry("AMI CBS", "CbsDbgCpuSnpMemCover", SNP_MEMORY_COVERAGE_DISABLED, SWITCH,
              "CbsDbgCpuSnpMemCoverEnabled", _CNS_BIOS + "; " + _CISCO_CBS),
    BiosEntry("AMI CBS", "CbsCmnGnbNbIOMMU", IOMMU_DISABLED, SWITCH, "Enabled", _CISCO_CBS),
    BiosEntry("AMI CBS", "CbsCmnCpuSevAsidSpaceLimit", SEV_ASID_SPACE, ASID_LIMIT, DEFAULT_ASID_LIMIT, _CNS_BIOS),
    BiosEntry("AMI CBS", "CbsCmnCpuSevAsidSpaceCtrl", SEV_ASID_SPACE, ASID_CONTROL,
              "CbsCmnCpuSevAsidSpaceCtrlManual", _CNS_BIOS),
    # Lenovo XCC: no public Redfish names for these settings were found; a Lenovo host
    # reports bios_settings_unknown until they are added here with their source.
)

_ON = ("enabled", "enable", "on", "true", "yes")
_OFF = ("disabled", "disable", "off", "false", "no")
_AUTO = ("auto",)
_SUFFIX = re.compile(r"^(.+)#[0-9A-Fa-f]+$")
_BY_NAME = dict((entry.name.lower(), entry) for entry in BIOS_TABLE)


def base_name(attribute):
    """The name before a Supermicro-style ``#xxxx`` suffix (the whole name when there is none)."""
    match = _SUFFIX.match(attribute)
    return match.group(1) if match else attribute


def table_entry(attribute):
    """The BIOS_TABLE entry of an attribute name as a BMC reports it, or None."""
    return _BY_NAME.get(base_name(attribute).lower())


def switch_state(attribute, value):
    """``on``, ``off``, ``auto`` or None (not understood) for an on/off attribute's value.

    AMI repeats the attribute name in its values (``CbsCmnCpuSmeeEnabled``): that prefix is
    dropped before the value is read.
    """
    if isinstance(value, bool):
        return "on" if value else "off"
    if not isinstance(value, str):
        return None
    text = value.strip()
    prefix = base_name(attribute)
    if text.lower().startswith(prefix.lower()) and len(text) > len(prefix):
        text = text[len(prefix):]
    word = text.lower()
    if word in _ON:
        return "on"
    if word in _OFF:
        return "off"
    if word in _AUTO:
        return "auto"
    return None


def asid_number(value):
    """The integer of an ASID attribute value (an int or a decimal string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def check_asid_limit(asid_limit):
    """The ASID limit to set, validated: an integer of at least 2 (1 leaves SNP no ASID)."""
    number = asid_number(asid_limit)
    if number is None or number < 2:
        raise ValueError(
            "asid_limit must be a whole number of at least 2 (ASIDs 1 to asid_limit-1 go to SEV-ES and "
            "SEV-SNP guests), got %r" % (asid_limit,))
    return number


def _matches(attributes):
    if not isinstance(attributes, dict):
        raise ValueError(
            "BIOS attributes must be a mapping of attribute names to values (Redfish Bios.Attributes, e.g. "
            "from community.general.redfish_info GetBiosAttributes), got %s" % type(attributes).__name__)
    found = []
    for name in sorted(attributes, key=str):
        if not isinstance(name, str):
            raise ValueError("BIOS attribute names must be strings, got %r" % (name,))
        entry = table_entry(name)
        if entry is not None:
            found.append((entry, name, attributes[name]))
    return found


def _bios_problem(problem_id, severity, message, attribute, current, wanted):
    fix = ("Set the BIOS attribute %s to %r and reset the host: the coco.sev_snp.bios playbook does it "
           "with -e sev_snp_bios_apply_ok=true, or use the BMC's BIOS setup page." % (attribute, wanted))
    item = problem(problem_id, severity, message, fix)
    item.update({"attribute": attribute, "current": current, "wanted": wanted})
    return item


def _switch_problem(entry, name, value):
    state = switch_state(name, value)
    if state == "on":
        return None
    setting = SETTING_NAMES[entry.problem_id]
    if state == "off":
        return _bios_problem(entry.problem_id, ERROR, "%s is off: %s BIOS attribute %s is %r; SEV-SNP needs it on."
                             % (setting[0].upper() + setting[1:], entry.vendor, name, value),
                             name, value, entry.wanted)
    if state == "auto":
        return _bios_problem(entry.problem_id, WARNING,
                             "%s is left to the firmware: %s BIOS attribute %s is %r, and what Auto means "
                             "differs between boards and BIOS versions." % (setting[0].upper() + setting[1:],
                                                                            entry.vendor, name, value),
                             name, value, entry.wanted)
    return _bios_problem(entry.problem_id, WARNING,
                         "%s is in an unknown state: %s BIOS attribute %s is %r, which is neither on nor off."
                         % (setting[0].upper() + setting[1:], entry.vendor, name, value),
                         name, value, entry.wanted)


def _asid_problem(entry, name, value, asid_limit):
    number = asid_number(value)
    wanted = asid_limit if not isinstance(value, str) else str(asid_limit)
    if number is None:
        return _bios_problem(SEV_ASID_SPACE, WARNING,
                             "The SEV-ES/SNP ASID space is unknown: %s BIOS attribute %s is %r, not a number."
                             % (entry.vendor, name, value), name, value, wanted)
    if number <= 1:
        return _bios_problem(SEV_ASID_SPACE, ERROR,
                             "The ASID split leaves SEV-SNP no ASIDs: %s BIOS attribute %s is %r, and only "
                             "ASIDs below it go to SEV-ES and SEV-SNP guests." % (entry.vendor, name, value),
                             name, value, wanted)
    return None


def bios_problems(attributes, asid_limit=DEFAULT_ASID_LIMIT):
    """Problems of a Redfish ``Bios.Attributes`` mapping for SEV-SNP, in PROBLEM_ORDER.

    Each is ``{id, severity, message, fix, attribute, current, wanted}``. Off is an error:
    SEV-SNP cannot work, so the fleet report counts the host not ready. Auto and values that
    are neither on nor off are warnings. When no attribute of BIOS_TABLE is present at all,
    the one problem is ``bios_settings_unknown``, a warning: an empty list always means every
    SNP setting the BMC reports was seen and is on, while names this table does not know are
    no evidence that SNP cannot work (the host's own readiness then decides).
    """
    asid_limit = check_asid_limit(asid_limit)
    found = _matches(attributes)
    if not found:
        return [problem(SETTINGS_UNKNOWN, WARNING,
                        "None of the BIOS attributes is a known SEV-SNP setting (%d attributes read), so the "
                        "SNP firmware settings cannot be judged." % len(attributes),
                        "Check SMEE, SEV-SNP support, SNP memory (RMP table) coverage, the IOMMU and the "
                        "SEV-ES ASID space limit in the BIOS setup by hand; to automate this vendor, add its "
                        "attribute names to BIOS_TABLE in plugins/module_utils/bios.py.")]
    problems = []
    for entry, name, value in found:
        if entry.kind == SWITCH:
            item = _switch_problem(entry, name, value)
        elif entry.kind == ASID_LIMIT:
            item = _asid_problem(entry, name, value, asid_limit)
        else:
            item = None  # ASID_CONTROL only comes with a limit change (settings_for_snp)
        if item is not None:
            problems.append(item)
    rank = dict((pid, index) for index, pid in enumerate(PROBLEM_ORDER))
    return sorted(problems, key=lambda p: (rank[p["id"]], p["attribute"]))


def _registry_index(registry):
    """Registry entries by attribute name, from a Redfish AttributeRegistry document.

    Takes the document itself, or community.general.redfish_info's GetBiosRegistries result
    (``{bios_registry: ..., bios_registry_uri: ...}``).
    """
    if registry is None:
        return None
    if not isinstance(registry, dict):
        raise ValueError("the BIOS attribute registry must be a mapping (a Redfish AttributeRegistry), got %s"
                         % type(registry).__name__)
    if "bios_registry" in registry:
        registry = registry["bios_registry"]
    entries = registry.get("RegistryEntries", {}) if isinstance(registry, dict) else {}
    attributes = entries.get("Attributes") if isinstance(entries, dict) else None
    if not isinstance(attributes, list):
        raise ValueError("the BIOS attribute registry has no RegistryEntries.Attributes list; pass the registry "
                         "that GetBiosRegistries returns, or omit it")
    index = {}
    for item in attributes:
        if isinstance(item, dict) and isinstance(item.get("AttributeName"), str):
            index[item["AttributeName"]] = item
    return index


def _turns_on(entry, name, value):
    if entry.kind == ASID_CONTROL:
        return isinstance(value, str) and value.lower().endswith("manual")
    return switch_state(name, value) == "on"


def _registry_value(name, wanted, entry, registered):
    """The value to write, as the registry allows it; ValueError when it cannot be written."""
    if registered.get("ReadOnly") is True:
        raise ValueError(
            "the BIOS attribute registry marks %s read-only, so it cannot be changed now. On Dell iDRAC, Snp and "
            "CpuMinSevAsid stay read-only until Sme is applied, and Rmp until Snp is: apply the other changes, "
            "reset the host and run again, or set it in the BIOS setup." % name)
    kind = registered.get("Type")
    allowed = [v.get("ValueName") for v in registered.get("Value") or [] if isinstance(v, dict)]
    if entry.kind == ASID_LIMIT:
        number = asid_number(wanted)
        if kind == "Integer":
            low, high = registered.get("LowerBound"), registered.get("UpperBound")
            if (isinstance(low, int) and number < low) or (isinstance(high, int) and number > high):
                raise ValueError("%s must be between %s and %s by the BIOS attribute registry; asid_limit %d is not"
                                 % (name, low, high, number))
            return number
        if kind == "Enumeration":
            if str(number) in allowed:
                return str(number)
            raise ValueError("the BIOS attribute registry allows %s only %s, not %d; choose asid_limit from them"
                             % (name, ", ".join(map(str, allowed)), number))
        return wanted
    if kind == "Enumeration":
        if wanted in allowed:
            return wanted
        for value in allowed:
            if _turns_on(entry, name, value):
                return value
        raise ValueError("the BIOS attribute registry allows %s only %s, none of which turns it on"
                         % (name, ", ".join(map(str, allowed))))
    return wanted


def settings_for_snp(attributes, registry=None, asid_limit=DEFAULT_ASID_LIMIT):
    """The attribute changes that fix bios_problems, as ``{full attribute name: value}``.

    Names are written back exactly as the BMC reported them (Supermicro suffix kept). With a
    registry, each value is one the registry allows, and an attribute it marks read-only (or
    one no allowed value turns on) raises ValueError, so nothing is half-planned. An ASID
    limit change on an AMI board also sets its Auto/Manual control to Manual.
    """
    problems = bios_problems(attributes, asid_limit)
    changes = {}
    for item in problems:
        if "attribute" in item:
            changes[item["attribute"]] = item["wanted"]
    if any(p["id"] == SEV_ASID_SPACE and "attribute" in p for p in problems):
        for entry, name, value in _matches(attributes):
            if entry.kind == ASID_CONTROL and not _turns_on(entry, name, value):
                changes[name] = entry.wanted
    index = _registry_index(registry)
    if index is not None:
        for name in sorted(changes):
            registered = index.get(name) or index.get(base_name(name))
            if registered is not None:
                changes[name] = _registry_value(name, changes[name], table_entry(name), registered)
    return changes


# How each BMC failure is named: (column label, what the BMC did, the fix). The role's
# failure messages and the fleet report's BIOS column both come from here.
_BMC_FAILURES = {
    BMC_CREDENTIALS_REFUSED: (
        "BMC refused the credentials",
        "refused the credentials (HTTP 401/403)",
        "Check sev_snp_bmc_username and sev_snp_bmc_password for this host (the password in a vault)."),
    BMC_CERTIFICATE_UNVERIFIED: (
        "BMC certificate not verified",
        "presented a TLS certificate that could not be verified",
        "Give the CA of the BMC's certificate in sev_snp_bmc_ca_path (or, for a self-signed one you cannot "
        "replace, sev_snp_bmc_validate_certs=false)."),
    BMC_UNREACHABLE: (
        "BMC unreachable",
        "cannot be reached",
        "Check sev_snp_bmc_address, that the BMC is up and that this controller may reach it on HTTPS."),
    BMC_READ_FAILED: (
        "BMC not read",
        "could not be read",
        "Read the BMC's answer above; run the coco.sev_snp.bios playbook with -l HOST -vvv for the whole "
        "exchange."),
}
_CREDENTIALS_REFUSED = re.compile(r"HTTP Error 40[13]\b")
_CERTIFICATE_UNVERIFIED = re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", re.IGNORECASE)
_UNREACHABLE = re.compile(r"URL Error|timed out|Connection refused|No route to host|Name or service not known|"
                          r"Temporary failure in name resolution|Network is unreachable", re.IGNORECASE)


def bmc_failure_id(error):
    """Which BMC failure an error text (community.general.redfish_* or uri) describes."""
    text = error if isinstance(error, str) else ""
    if _CREDENTIALS_REFUSED.search(text):
        return BMC_CREDENTIALS_REFUSED
    if _CERTIFICATE_UNVERIFIED.search(text):
        return BMC_CERTIFICATE_UNVERIFIED
    if _UNREACHABLE.search(text):
        return BMC_UNREACHABLE
    return BMC_READ_FAILED


def bmc_failure(error, address):
    """The problem of a BMC whose BIOS could not be read: ``{id, severity, message, fix, label, reason, error}``.

    A warning: the BIOS settings are unknown, which says nothing about whether SNP works, so
    the host's readiness rests on its own evidence. ``label`` names the failure in the fleet
    report's BIOS column, ``reason`` completes "the BMC at ADDRESS ...", ``error`` is what the
    BMC (or the connection) said, on one line.
    """
    said = " ".join(str(error if error is not None else "").split())
    failure_id = bmc_failure_id(said)
    label, reason, fix = _BMC_FAILURES[failure_id]
    message = "The BMC at %s %s, so the BIOS settings were not checked.%s" % (
        address, reason, (" BMC said: %s" % said) if said else "")
    item = problem(failure_id, WARNING, message, fix)
    item.update({"label": label, "reason": reason, "error": said})
    return item


__all__ = ["BIOS_TABLE", "DEFAULT_ASID_LIMIT", "PROBLEM_ORDER", "base_name", "bios_problems", "bmc_failure",
           "bmc_failure_id", "settings_for_snp", "switch_state", "table_entry"]
