# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readiness model of an AMD SEV-SNP host: CPU generations, sysfs values, the problem
catalogue and the decision whether SNP guests can be launched now.

Everything here works on text and lists already read by the caller; nothing touches the
filesystem, so the same decision can be tested on hand-written samples.
"""

from __future__ import annotations

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    has_flag,
    has_option,
    normalize_name,
    token_name,
    token_value,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import (
    has_sev_evidence,
    parse_kernel_log,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.os_identity import container_type, os_identity
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import compare_versions

HOST_ROLE = "coco.sev_snp.sev_snp_host"
ENABLE_PLAYBOOK = "coco.sev_snp.enable_host"

DEFAULT_REQUIRED_CMDLINE = ("iommu=nopt",)
DEFAULT_FORBIDDEN_CMDLINE = ("iommu=pt", "iommu.passthrough=1", "amd_iommu=off")

SNP_MIN_API = "1.51"

ERROR = "error"
WARNING = "warning"

# Stable problem ids, in the order they are reported (root causes first).
PROBLEM_IDS = (
    "not_amd_epyc",
    "cpu_generation_unsupported",
    "memory_encryption_disabled_by_bios",
    "rmp_table_missing",
    "iommu_passthrough",
    "iommu_snp_unsupported",
    "psp_unavailable",
    "snp_firmware_too_old",
    "snp_init_failed",
    "sev_init_failed",
    "kvm_amd_not_loaded",
    "kvm_snp_disabled",
    "sev_es_asids_unavailable",
    "guest_memfd_missing",
    "msr_module_not_loaded",
    "msr_module_not_persistent",
    "iommu_nopt_not_configured",
    "reboot_pending",
    "kernel_log_unavailable",
)

# (first model, last model, generation, SEV-SNP capable) per CPU family.
GENERATIONS = {
    0x17: ((0x00, 0x0F, "Naples", False), (0x30, 0x3F, "Rome", False)),
    0x19: ((0x00, 0x0F, "Milan", True), (0x10, 0x1F, "Genoa", True), (0xA0, 0xAF, "Bergamo/Siena", True)),
    0x1A: ((0x00, 0x1F, "Turin", True),),
}

_TRUE_VALUES = ("y", "1")
_FALSE_VALUES = ("n", "0")


# --------------------------------------------------------------------------- parsers


def parse_cpuinfo(text):
    """vendor, family, model, model_name and the SEV flags of the first CPU in /proc/cpuinfo."""
    cpu = {"vendor": None, "family": None, "model": None, "model_name": None,
           "flags": {"sme": None, "sev": None, "sev_es": None, "sev_snp": None},
           "hypervisor": None}
    if not text:
        return cpu
    fields = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        key = key.strip().lower()
        if key not in fields:
            fields[key] = value.strip()
    cpu["vendor"] = fields.get("vendor_id") or None
    cpu["family"] = _int_or_none(fields.get("cpu family"))
    cpu["model"] = _int_or_none(fields.get("model"))
    cpu["model_name"] = fields.get("model name") or None
    if "flags" in fields:
        flags = set(fields["flags"].split())
        for name in cpu["flags"]:
            cpu["flags"][name] = name in flags
        cpu["hypervisor"] = "hypervisor" in flags
    return cpu


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cpu_generation(vendor, family, model):
    """(generation name or None, SNP capable: True/False/None)."""
    if vendor != "AuthenticAMD" or family is None or model is None:
        return None, None
    for first, last, name, snp in GENERATIONS.get(family, ()):
        if first <= model <= last:
            return name, snp
    if family < 0x19:
        return None, False
    return None, None


def sev_firmware_file(family, model):
    """The file name the ccp driver looks for, e.g. amd_sev_fam19h_model0xh.sbin."""
    if family is None or model is None:
        return None
    return "amd_sev_fam%02xh_model%xxh.sbin" % (family, (model & 0xF0) >> 4)


def parse_bool_param(text):
    """A kvm_amd module parameter: Y/y/1 -> True, N/n/0 -> False, anything else -> None."""
    if text is None:
        return None
    value = text.strip().lower()
    if value in _TRUE_VALUES:
        return True
    if value in _FALSE_VALUES:
        return False
    return None


def loaded_modules(proc_modules):
    """Module names from /proc/modules text, or None when it could not be read."""
    if proc_modules is None:
        return None
    names = set()
    for line in proc_modules.splitlines():
        parts = line.split()
        if parts:
            names.add(parts[0])
    return names


def modules_load_lists(files):
    """Module names listed in modules-load.d files ({path: text}); '#' and ';' start comments."""
    names = {}
    for path, text in sorted((files or {}).items()):
        for line in (text or "").splitlines():
            entry = line.strip()
            if not entry or entry[0] in "#;":
                continue
            names.setdefault(entry.split()[0].replace("-", "_"), path)
    return names


def iommu_mode(group_types, running_tokens, parsed_log):
    """translated | passthrough | disabled | unknown, from sysfs first, then cmdline, then log.

    group_types: the contents of /sys/kernel/iommu_groups/*/type (None when the directory
    could not be listed, [] when it exists but holds no group).
    """
    if group_types:
        kinds = set(t.strip().lower() for t in group_types if t)
        if kinds & {"dma", "dma-fq"}:
            return "translated"
        if "identity" in kinds:
            return "passthrough"
    elif group_types == []:
        return "disabled"
    mode = _iommu_mode_from_tokens(running_tokens)
    if mode:
        return mode
    if parsed_log:
        if parsed_log["iommu"]["snp_passthrough"]:
            return "passthrough"
        domain = parsed_log["iommu"]["default_domain"]
        if domain == "passthrough":
            return "passthrough"
        if domain == "translated":
            return "translated"
    return "unknown"


def _iommu_mode_from_tokens(tokens):
    mode = None
    for token in tokens or ():
        if token == "--":
            break
        name, value = normalize_name(token_name(token)), token_value(token)
        if name == "iommu" and value == "pt":
            mode = "passthrough"
        elif name == "iommu" and value == "nopt":
            mode = "translated"
        elif name == "iommu.passthrough" and value is not None:
            mode = "passthrough" if value.lower() in ("1", "y", "on") else "translated"
        elif name == "amd_iommu" and value == "off":
            mode = "disabled"
    return mode


def token_present(tokens, wanted):
    """True when the option `wanted` ('iommu=nopt' or a bare flag) is among the kernel's tokens."""
    if not tokens:
        return False
    value = token_value(wanted)
    if value is None:
        return has_flag(tokens, token_name(wanted))
    return has_option(tokens, token_name(wanted), value)


def reboot_required(running, configured, required, forbidden):
    """Tokens the configuration already asks for but the running kernel does not have."""
    if running is None or configured is None:
        return False, []
    pending = []
    for option in required:
        if token_present(configured, option) and not token_present(running, option):
            pending.append(option)
    for option in forbidden:
        if not token_present(configured, option) and token_present(running, option):
            pending.append("no " + option)
    return bool(pending), pending


# --------------------------------------------------------------------------- problems


def _problem(problem_id, severity, message, fix):
    return {"id": problem_id, "severity": severity, "message": message, "fix": fix}


def _code(failure):
    if not failure or failure.get("error") is None:
        return "an unreported error"
    text = "error %#x" % failure["error"]
    if failure.get("error_name"):
        text += " (%s)" % failure["error_name"]
    return text


class _Evidence(object):
    """Everything the decision looks at, gathered once."""

    def __init__(self, snapshot, required, forbidden):
        self.snapshot = snapshot
        self.required = list(required)
        self.forbidden = list(forbidden)
        self.cpu = parse_cpuinfo(snapshot.get("cpuinfo"))
        self.generation, self.snp_capable = cpu_generation(
            self.cpu["vendor"], self.cpu["family"], self.cpu["model"])
        log_text = snapshot.get("kernel_log")
        parsed = snapshot.get("kernel_log_parsed")
        self.log_available = log_text is not None or parsed is not None
        self.log = parsed if parsed is not None else parse_kernel_log(log_text or "")
        self.log_has_sev = has_sev_evidence(self.log)
        self.modules = loaded_modules(snapshot.get("proc_modules"))
        self.kvm_params = snapshot.get("kvm_amd_parameters")
        self.running = snapshot.get("cmdline_running")
        self.configured = snapshot.get("cmdline_configured")

    # -- derived facts
    def kvm(self):
        loaded = None
        if self.modules is not None:
            loaded = "kvm_amd" in self.modules
        if self.snapshot.get("sys_module_kvm_amd") is True:
            loaded = True
        elif loaded is None and self.snapshot.get("sys_module_kvm_amd") is False:
            loaded = False
        params = self.kvm_params or {}
        kvm = {"loaded": loaded}
        for name in ("sev", "sev_es", "sev_snp"):
            kvm[name] = parse_bool_param(params.get(name)) if loaded else None
        kvm["parameters_present"] = sorted(k for k, v in params.items() if v is not None) if loaded else []
        return kvm

    def msr(self):
        loaded = None
        if self.modules is not None:
            loaded = "msr" in self.modules
        if self.snapshot.get("sys_module_msr") or self.snapshot.get("dev_cpu_msr"):
            loaded = True
        files = self.snapshot.get("modules_load_files")
        persistent = None
        if files is not None:
            persistent = "msr" in modules_load_lists(files)
        return {"loaded": loaded, "persistent": persistent}

    def is_amd_epyc(self):
        name = (self.cpu["model_name"] or "")
        return self.cpu["vendor"] == "AuthenticAMD" and ("EPYC" in name.upper() or not name)

    def bare_metal(self):
        return self.cpu["hypervisor"] is False


def build_facts(snapshot, required_cmdline=DEFAULT_REQUIRED_CMDLINE,
                forbidden_cmdline=DEFAULT_FORBIDDEN_CMDLINE):
    """The `sev_snp` fact from a snapshot of host files (see host_facts for the keys)."""
    ev = _Evidence(snapshot, required_cmdline, forbidden_cmdline)
    log = ev.log
    kvm = ev.kvm()
    msr = ev.msr()
    mode = iommu_mode(snapshot.get("iommu_group_types"), ev.running, log if ev.log_available else None)
    pending_reboot, pending_tokens = reboot_required(ev.running, ev.configured, ev.required, ev.forbidden)

    facts = {
        "ready": False,
        "problems": [],
        "firmware": {
            "sev_api": log["sev_api"], "sev_build": log["sev_build"],
            "snp_api": log["snp_api"], "snp_build": log["snp_build"],
        },
        "cpu": {
            "vendor": ev.cpu["vendor"], "family": ev.cpu["family"], "model": ev.cpu["model"],
            "generation": ev.generation, "model_name": ev.cpu["model_name"],
            "flags": dict(ev.cpu["flags"]),
            "snp_capable": ev.snp_capable,
            "firmware_file": sev_firmware_file(ev.cpu["family"], ev.cpu["model"])
            if ev.cpu["vendor"] == "AuthenticAMD" else None,
        },
        "kvm": {"loaded": kvm["loaded"], "sev": kvm["sev"], "sev_es": kvm["sev_es"], "sev_snp": kvm["sev_snp"]},
        "iommu": {"mode": mode},
        "msr": msr,
        "cmdline": {
            "running": list(ev.running) if ev.running is not None else [],
            "configured": list(ev.configured) if ev.configured is not None else [],
            "reboot_required": pending_reboot,
            "pending": pending_tokens,
        },
        "kernel_log": {
            "source": snapshot.get("kernel_log_source") if ev.log_available else None,
            "lines": log["lines"],
            "reaches_boot": log["reaches_boot"],
            "kernel_release": log["kernel_release"],
        },
        "psp": {
            "present": bool(log["sev_devices"]) or bool(snapshot.get("dev_sev")),
            "devices": log["psp_devices"],
            "dev_sev": snapshot.get("dev_sev"),
            "snp_initialized": log["snp_initialized"],
        },
        "rmp": {"start": log["rmp"]["start"], "end": log["rmp"]["end"]},
        "asids": log["asids"],
        "os": os_identity(snapshot.get("os_release")),
        "container": _container(snapshot.get("container_evidence")),
    }
    problems = _problems(ev, facts, kvm)
    facts["problems"] = problems
    facts["ready"] = _ready(problems, facts)
    return facts


def _container(evidence):
    if evidence is None:
        return {"detected": None, "type": None}
    engine = container_type(evidence)
    return {"detected": engine is not None, "type": engine}


def _ready(problems, facts):
    if any(p["severity"] == ERROR for p in problems):
        return False
    return bool(facts["firmware"]["snp_api"] and facts["psp"]["snp_initialized"]) or facts["kvm"]["sev_snp"] is True


def _problems(ev, facts, kvm):
    found = []
    for check in (_check_cpu, _check_bios, _check_iommu, _check_psp, _check_firmware,
                  _check_init, _check_kvm, _check_asids, _check_guest_memfd, _check_msr, _check_cmdline,
                  _check_kernel_log):
        found.extend(check(ev, facts, kvm))
    order = dict((pid, index) for index, pid in enumerate(PROBLEM_IDS))
    seen = set()
    unique = []
    for problem in sorted(found, key=lambda p: order[p["id"]]):
        if problem["id"] not in seen:
            seen.add(problem["id"])
            unique.append(problem)
    return unique


def _check_cpu(ev, facts, kvm):
    cpu = ev.cpu
    vendor = cpu["vendor"]
    if vendor is None:
        return []
    if vendor == "HygonGenuine":
        return [_problem(
            "not_amd_epyc", ERROR,
            "Hygon CPU (HygonGenuine, family %s): Hygon implements China Secure Virtualization "
            "(CSV), not AMD SEV-SNP." % ("%xh" % cpu["family"] if cpu["family"] is not None else "unknown"),
            "This host cannot run SEV-SNP guests; take it out of the SNP host group and use AMD EPYC "
            "7003 (Milan) or newer hosts.")]
    if vendor != "AuthenticAMD":
        return [_problem(
            "not_amd_epyc", ERROR,
            "CPU vendor is %s; SEV-SNP is an AMD EPYC feature." % vendor,
            "Take this host out of the SNP host group; SEV-SNP guests need AMD EPYC 7003 (Milan) or newer.")]
    name = cpu["model_name"]
    if name and "EPYC" not in name.upper():
        return [_problem(
            "not_amd_epyc", ERROR,
            "'%s' is not an AMD EPYC server processor; AMD ships SEV-SNP firmware for EPYC only." % name,
            "Use an AMD EPYC 7003 (Milan) or newer host for SEV-SNP guests.")]
    if ev.snp_capable is False:
        what = ev.generation or "family %xh model %xh" % (cpu["family"], cpu["model"])
        return [_problem(
            "cpu_generation_unsupported", ERROR,
            "%s predates SEV-SNP (first in EPYC 7003 'Milan', family 19h); it supports SEV and SEV-ES only." % what,
            "Run SEV-SNP guests on a Milan, Genoa, Bergamo/Siena or Turin host; this host can still run SEV/SEV-ES guests.")]
    return []


_BIOS_MEMORY_FIX = ("In the BIOS setup enable 'SMEE' (Secure Memory Encryption) and 'SEV-SNP Support', "
                    "then power the host off and on.")
_BIOS_RMP_FIX = ("In the BIOS setup enable 'SEV-SNP Support' and 'SNP Memory Coverage' (the RMP table; "
                 "some BIOSes call it 'SNP Memory (RMP Table) Coverage') so that it covers all of system RAM, "
                 "then power the host off and on.")


def _check_bios(ev, facts, kvm):
    found = []
    log = ev.log
    cpu = ev.cpu
    if log["memory_encryption_disabled_by_bios"]:
        found.append(_problem(
            "memory_encryption_disabled_by_bios", ERROR,
            "The kernel reports 'SEV: memory encryption not enabled by BIOS'.", _BIOS_MEMORY_FIX))
    elif (ev.is_amd_epyc() and ev.bare_metal() and ev.snp_capable
          and cpu["flags"]["sev"] is False and cpu["flags"]["sme"] is False):
        found.append(_problem(
            "memory_encryption_disabled_by_bios", ERROR,
            "The CPU shows neither the 'sme' nor the 'sev' flag: memory encryption is off in the BIOS.",
            _BIOS_MEMORY_FIX))
    rmp = log["rmp"]
    if rmp["not_reserved"]:
        found.append(_problem(
            "rmp_table_missing", ERROR,
            "The kernel reports 'Memory for the RMP table has not been reserved by BIOS'.", _BIOS_RMP_FIX))
    elif rmp["does_not_cover_ram"]:
        found.append(_problem(
            "rmp_table_missing", ERROR,
            "The kernel reports 'Memory reserved for the RMP table does not cover full system RAM'.", _BIOS_RMP_FIX))
    elif rmp["invalid"]:
        found.append(_problem(
            "rmp_table_missing", ERROR,
            "The kernel could not use the RMP table the BIOS configured.", _BIOS_RMP_FIX))
    elif (ev.is_amd_epyc() and ev.bare_metal() and ev.snp_capable and cpu["flags"]["sev"]
          and cpu["flags"]["sev_snp"] is False and kvm["loaded"]
          and ev.kvm_params is not None and ev.kvm_params.get("sev_snp") is not None
          and log["reaches_boot"] and rmp["start"] is None):
        # An SNP-capable kernel (kvm_amd has sev_snp) clears the CPU flag and prints no RMP
        # range when the BIOS left SNP off; the log reaches boot, so the line is not lost.
        found.append(_problem(
            "rmp_table_missing", ERROR,
            "The CPU has 'sev' but not 'sev_snp' and the boot log shows no RMP table: "
            "SEV-SNP is off in the BIOS.", _BIOS_RMP_FIX))
    return found


def _check_iommu(ev, facts, kvm):
    found = []
    log = ev.log
    mode = facts["iommu"]["mode"]
    if log["iommu"]["snp_passthrough"] or (mode in ("passthrough", "disabled") and _snp_relevant(ev)):
        if log["iommu"]["snp_passthrough"]:
            message = ("AMD-Vi reports 'SNP: IOMMU disabled or configured in passthrough mode, "
                       "SNP cannot be supported'.")
        else:
            message = "The IOMMU runs in %s mode; SEV-SNP needs it enabled and translating." % mode
        found.append(_problem(
            "iommu_passthrough", ERROR, message,
            "Enable 'IOMMU' in the BIOS setup and boot with iommu=nopt: run the %s role (it adds iommu=nopt "
            "to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and removes iommu=pt, iommu.passthrough=1 "
            "and amd_iommu=off), run update-bootloader, then reboot." % HOST_ROLE))
    if log["iommu"]["snp_feature_missing"]:
        found.append(_problem(
            "iommu_snp_unsupported", ERROR,
            "AMD-Vi reports 'SNP: IOMMU SNP feature not enabled, SNP cannot be supported'.",
            "Enable 'SEV-SNP Support' and 'IOMMU' in the BIOS setup (update the BIOS if it has no such "
            "option), then power the host off and on."))
    if log["iommu"]["snp_v2_page_table"]:
        found.append(_problem(
            "iommu_snp_unsupported", ERROR,
            "AMD-Vi runs the v2 page table, which SNP cannot use.",
            "Remove amd_iommu=pgtbl_v2 from GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run "
            "update-bootloader and reboot."))
    return found


def _snp_relevant(ev):
    """Only AMD hosts that could run SNP get IOMMU advice derived from sysfs or the command line."""
    return ev.cpu["vendor"] == "AuthenticAMD" and ev.snp_capable is not False and ev.bare_metal()


_PSP_FIX = ("Update the BIOS to the vendor's latest release, check that 'SMEE' and 'SEV-SNP Support' are "
            "enabled, then power the host off and on (a warm reboot does not reset a hung PSP); "
            "afterwards `modprobe ccp` must create /dev/sev.")


def _check_psp(ev, facts, kvm):
    log = ev.log
    reasons = []
    if log["psp_timeout"]:
        reasons.append("a PSP command (%#x) timed out and the kernel disabled the PSP"
                       % log["psp_timeout"]["command"])
    if log["broken_bios"]:
        reasons.append("the kernel cannot access the PSP ('you might be running a broken BIOS')")
    if log["get_status_error"]:
        reasons.append("the PSP did not answer PLATFORM_STATUS (%s)" % _code(log["get_status_error"]))
    if log["psp_without_sev"] and not log["sev_devices"]:
        reasons.append("no PSP offers SEV (%s)" % ", ".join(log["psp_without_sev"]))
    if (not reasons and ev.snapshot.get("dev_sev") is False and kvm["loaded"] and ev.is_amd_epyc()
            and ev.bare_metal() and ev.snp_capable and ev.cpu["flags"]["sev"]):
        reasons.append("/dev/sev does not exist although the CPU offers SEV and kvm_amd is loaded")
    if not reasons:
        return []
    return [_problem("psp_unavailable", ERROR, "The AMD Secure Processor is unusable: %s." % "; ".join(reasons),
                     _PSP_FIX)]


def _firmware_fix(ev):
    name = sev_firmware_file(ev.cpu["family"], ev.cpu["model"])
    if name:
        where = "/lib/firmware/amd/%s" % name
    else:
        where = ("/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin (Milan; model1xh for Genoa, "
                 "modelaxh for Bergamo/Siena)")
    return ("Install AMD's SEV firmware for this CPU as %s and reboot (the ccp driver loads it at boot), "
            "or update the BIOS to a release with SEV-SNP firmware 1.51 or newer." % where)


def _check_firmware(ev, facts, kvm):
    log = ev.log
    sev_api = log["sev_api"]
    old_sev = sev_api is not None and compare_versions(sev_api, SNP_MIN_API) < 0
    if log["snp_firmware_too_old"] or (old_sev and log["snp_api"] is None):
        version = sev_api or "below 1.51"
        return [_problem(
            "snp_firmware_too_old", ERROR,
            "SEV firmware %s is older than %s, the first with SEV-SNP." % (version, SNP_MIN_API),
            _firmware_fix(ev))]
    return []


_INIT_FIX = ("Check the BIOS setup: 'SEV-SNP Support', 'SNP Memory Coverage', 'SMEE' and 'IOMMU' enabled, "
             "'SEV-ES ASID Space Limit' above 1; boot with iommu=nopt; then power the host off and on. "
             "If it persists, update the BIOS and the SEV firmware.")


def _check_init(ev, facts, kvm):
    found = []
    log = ev.log
    failure = log["snp_init_error"]
    if failure is not None:
        detail = _code(failure)
        if failure.get("command"):
            detail = "%s, %s" % (failure["command"], detail)
        found.append(_problem(
            "snp_init_failed", ERROR,
            "SEV-SNP firmware initialization (SNP_INIT) failed: %s." % detail, _INIT_FIX))
    elif log["psp_timeout"] and log["snp_api"] is None and _snp_relevant_or_unknown(ev):
        found.append(_problem(
            "snp_init_failed", ERROR,
            "SEV-SNP was never initialized: the PSP timed out before SNP_INIT completed.", _INIT_FIX))
    sev_failure = log["sev_init_error"]
    if sev_failure is not None:
        snp_running = log["snp_initialized"]
        found.append(_problem(
            "sev_init_failed", WARNING if snp_running else ERROR,
            "Legacy SEV firmware initialization (INIT) failed: %s%s." % (
                _code(sev_failure),
                "; SEV-SNP itself is initialized, but SEV and SEV-ES guests will not start" if snp_running else ""),
            "Update the BIOS and the SEV firmware (%s); error 0x13 points at the platform configuration, so "
            "recheck 'SMEE', 'SEV-SNP Support' and the ASID limits in the BIOS, then power the host off and on."
            % (sev_firmware_file(ev.cpu["family"], ev.cpu["model"]) or "/lib/firmware/amd/amd_sev_*.sbin")))
    return found


def _check_guest_memfd(ev, facts, kvm):
    if not ev.log["guest_memfd_missing"]:
        return []
    return [_problem(
        "guest_memfd_missing", ERROR,
        "KVM refused an SNP launch: 'SEV-SNP requires private memory support via guest_memfd'.",
        "Boot a kernel with guest_memfd (SLES 15 SP7: the kernel-coco flavour; upstream 6.11 or later) and "
        "use a QEMU that backs SNP guest memory with guest_memfd (9.1 or later, as libvirt does for "
        "launchSecurity type='sev-snp').")]


def _snp_relevant_or_unknown(ev):
    return ev.cpu["vendor"] in (None, "AuthenticAMD") and ev.snp_capable is not False


def _check_kvm(ev, facts, kvm):
    found = []
    if ev.cpu["vendor"] not in (None, "AuthenticAMD"):
        return found
    if kvm["loaded"] is False:
        found.append(_problem(
            "kvm_amd_not_loaded", ERROR,
            "The kvm_amd module is not loaded, so no SEV guest (of any kind) can start.",
            "Run `modprobe kvm_amd`; if it refuses, enable 'SVM Mode' in the BIOS setup. "
            "Check `dmesg | grep kvm_amd` for the reason."))
        return found
    if not kvm["loaded"]:
        return found
    params = ev.kvm_params or {}
    if "sev_snp" in params and params["sev_snp"] is None and params.get("sev") is not None:
        found.append(_problem(
            "kvm_snp_disabled", ERROR,
            "kvm_amd has no sev_snp parameter: the running kernel was built without SEV-SNP host support.",
            "Boot a kernel with SEV-SNP host support (SLES 15 SP7: the kernel-coco flavour from the "
            "Confidential Computing Module) and make it the default boot entry, then reboot."))
    elif kvm["sev_snp"] is False:
        found.append(_problem(
            "kvm_snp_disabled", ERROR,
            "kvm_amd runs with sev_snp=N: SEV-SNP guests cannot be launched.",
            "Remove any 'options kvm_amd sev_snp=0' from /etc/modprobe.d and kvm_amd.sev_snp=0 from the "
            "kernel command line; if SNP was unusable when kvm_amd loaded (see the other problems), fix "
            "that first, then reboot or run `modprobe -r kvm_amd && modprobe kvm_amd`."))
    else:
        snp = ev.log["asids"]["sev_snp"]
        if snp is not None and snp["state"] in ("disabled", "unusable") and ev.log["asids"]["sev_es"] is not None \
                and ev.log["asids"]["sev_es"]["state"] == "enabled":
            found.append(_problem(
                "kvm_snp_disabled", ERROR,
                "kvm_amd reports SEV-SNP %s." % snp["state"],
                "Fix the problems reported with it (BIOS, IOMMU, firmware), then reboot."))
    return found


def _check_asids(ev, facts, kvm):
    asids = ev.log["asids"]
    sev_es = asids["sev_es"]
    snp = asids["sev_snp"]
    empty = []
    for name, entry in (("SEV-ES", sev_es), ("SEV-SNP", snp)):
        if entry is not None and entry["count"] == 0:
            empty.append("%s %s (ASIDs %s - %s)" % (name, entry["state"], entry["min"], entry["max"])
                         if entry["min"] is not None else "%s: %s ASIDs" % (name, entry["count"]))
    if not empty:
        return []
    return [_problem(
        "sev_es_asids_unavailable", ERROR,
        "No ASIDs are left for SEV-ES/SEV-SNP guests: %s." % "; ".join(empty),
        "In the BIOS setup set 'SEV-ES ASID Space Limit Control' to Manual and 'SEV-ES ASID Space Limit' "
        "above 1 (SNP guests use the SEV-ES ASID range), then power the host off and on.")]


def _check_msr(ev, facts, kvm):
    found = []
    if ev.cpu["vendor"] not in (None, "AuthenticAMD"):
        return found
    msr = facts["msr"]
    if msr["loaded"] is False:
        found.append(_problem(
            "msr_module_not_loaded", WARNING,
            "The msr module is not loaded; snphost and snpguest cannot read the SEV MSRs.",
            "Run `modprobe msr` (and make it persistent, see msr_module_not_persistent)."))
    if msr["persistent"] is False:
        found.append(_problem(
            "msr_module_not_persistent", WARNING,
            "No modules-load.d file loads msr at boot.",
            "Run `echo msr > /etc/modules-load.d/msr.conf` (the %s role does it)." % HOST_ROLE))
    return found


def _check_cmdline(ev, facts, kvm):
    found = []
    if ev.cpu["vendor"] not in (None, "AuthenticAMD") or ev.snp_capable is False:
        return found
    configured = ev.configured
    if configured is not None:
        missing = [o for o in ev.required if not token_present(configured, o)]
        conflicts = [o for o in ev.forbidden if token_present(configured, o)]
        if missing or conflicts:
            parts = []
            if missing:
                parts.append("lacks %s" % " ".join(missing))
            if conflicts:
                parts.append("has %s" % " ".join(conflicts))
            found.append(_problem(
                "iommu_nopt_not_configured", WARNING,
                "The boot configuration in /etc/default/grub %s; the next boot would leave the IOMMU "
                "unfit for SEV-SNP." % " and ".join(parts),
                "Run the %s role (playbook %s), or add %s to GRUB_CMDLINE_LINUX_DEFAULT%s in "
                "/etc/default/grub and run update-bootloader." % (
                    HOST_ROLE, ENABLE_PLAYBOOK, " ".join(missing or ev.required),
                    (" and remove %s" % " ".join(conflicts)) if conflicts else "")))
    if facts["cmdline"]["reboot_required"]:
        found.append(_problem(
            "reboot_pending", WARNING,
            "The boot configuration has changed but the running kernel predates it (%s)."
            % ", ".join(facts["cmdline"]["pending"]),
            "Reboot the host (run update-bootloader first if the boot loader configuration was not "
            "regenerated); the %s role reboots when sev_snp_host_reboot_ok is true." % HOST_ROLE))
    return found


def _check_kernel_log(ev, facts, kvm):
    error = ev.snapshot.get("kernel_log_error")
    if not ev.log_available:
        return [_problem(
            "kernel_log_unavailable", WARNING,
            "No kernel log could be read%s, so firmware versions and INIT results are unknown." % (
                " (%s)" % error if error else ""),
            "Run the module as root (become: true), enable a persistent journal so `journalctl -k -b` "
            "works, or pass kernel_log with a saved `dmesg` output.")]
    if not ev.log_has_sev and not ev.log["reaches_boot"] and _snp_relevant_or_unknown(ev):
        return [_problem(
            "kernel_log_unavailable", WARNING,
            "The kernel log (%s) has no ccp/SEV lines and does not reach back to boot: the ring buffer "
            "has probably rotated." % (ev.snapshot.get("kernel_log_source") or "unknown source"),
            "Read the boot messages from the journal (`journalctl -k -b | grep -i -e ccp -e sev`), or "
            "enable a persistent journal so the module can fall back to it; a larger log_buf_len= also "
            "keeps them.")]
    return []
