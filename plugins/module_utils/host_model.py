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
    kernel_bool,
    normalize_name,
    token_name,
    token_value,
    unsatisfied_options,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import (
    has_sev_evidence,
    parse_kernel_log,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.os_identity import container_type, os_identity
from ansible_collections.coco.sev_snp.plugins.module_utils.problems import (
    ERROR,
    WARNING,
    blocking,
    ordered_unique,
    problem,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.sev_firmware import range_name, read_firmware
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options, describe
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import compare_versions

HOST_ROLE = "coco.sev_snp.sev_snp_host"
ENABLE_PLAYBOOK = "coco.sev_snp.enable_host"

# The first SEV firmware with SEV-SNP; the kernel refuses SNP below it. Every minimum an
# operator gives is raised to this floor.
SNP_MIN_API = "1.51"

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
    "kernel_flavour_not_running",
    "reboot_pending",
    "kernel_log_incomplete",
    "kernel_log_unavailable",
    "host_files_unreadable",
    # Added by decide() for an operator's minimum and when nothing shows SNP running.
    "snp_firmware_below_minimum",
    "sev_firmware_unchanged",
    "snp_not_confirmed",
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


def amd_cpu(cpu):
    """(family, model) of an AMD CPU for the SEV firmware names, (None, None) for any other."""
    if cpu.get("vendor") != "AuthenticAMD":
        return None, None
    return cpu.get("family"), cpu.get("model")


def sev_firmware_file(family, model):
    """The model-range file name AMD ships for this CPU, e.g. amd_sev_fam19h_model0xh.sbin
    (sev_firmware holds the kernel's names and their order)."""
    return range_name(family, model)


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


# What each IOMMU option item means, in the order the kernel reads them (last one wins):
# iommu= and amd_iommu= are comma lists, iommu.passthrough= a kstrtobool boolean.
_IOMMU_LIST_ITEMS = {
    "iommu": {"pt": "passthrough", "nopt": "translated", "off": "disabled"},
    "amd_iommu": {"off": "disabled"},
}


def _iommu_mode_from_tokens(tokens):
    mode = None
    for token in tokens or ():
        if token == "--":
            break
        name, value = normalize_name(token_name(token)), token_value(token)
        if name == "iommu.passthrough":
            on = kernel_bool(value) if value is not None else None
            if on is not None:
                mode = "passthrough" if on else "translated"
        elif name in _IOMMU_LIST_ITEMS and value is not None:
            for item in value.split(","):
                mode = _IOMMU_LIST_ITEMS[name].get(item, mode)
    return mode


def reboot_required(running, configured, options):
    """(pending?, what): options the configuration satisfies but the running kernel does not."""
    if running is None or configured is None:
        return False, []
    live_missing = unsatisfied_options(running, options)
    config_missing = unsatisfied_options(configured, options)
    pending = [describe(o) for o in live_missing if o not in config_missing]
    return bool(pending), pending


# --------------------------------------------------------------------------- problems


def _code(failure):
    if not failure or failure.get("error") is None:
        return "an unreported error"
    text = "error %#x" % failure["error"]
    if failure.get("error_name"):
        text += " (%s)" % failure["error_name"]
    return text


class _Evidence(object):
    """Everything the decision looks at, gathered once."""

    def __init__(self, snapshot, options):
        self.snapshot = snapshot
        self.options = list(options)
        self.unreadable = set(snapshot.get("unreadable") or ())
        self.cpu = parse_cpuinfo(snapshot.get("cpuinfo"))
        self.generation, self.snp_capable = cpu_generation(
            self.cpu["vendor"], self.cpu["family"], self.cpu["model"])
        parsed = snapshot.get("kernel_log_parsed")
        log_text = snapshot.get("kernel_log")
        self.log_available = parsed is not None or log_text is not None
        self.log = parsed if parsed is not None else parse_kernel_log(log_text or "")
        self.log_incomplete = snapshot.get("kernel_log_incomplete")
        self.log_has_sev = has_sev_evidence(self.log)
        self.modules = loaded_modules(snapshot.get("proc_modules"))
        self.kvm_params = snapshot.get("kvm_amd_parameters")
        self.running = snapshot.get("cmdline_running")
        self.configured = snapshot.get("cmdline_configured")

    def param_unreadable(self, name):
        return "sys/module/kvm_amd/parameters/%s" % name in self.unreadable

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
            # An unreadable parameter is unknown (None), never "disabled".
            kvm[name] = parse_bool_param(params.get(name)) if loaded else None
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


def build_facts(snapshot, options=None):
    """The `sev_snp` fact from a snapshot of host files (see host_facts for the keys).

    options: the kernel command line the host must boot with (cmdline option dicts);
    default: what the sev_snp_host role configures (snp_cmdline.default_options()).
    """
    ev = _Evidence(snapshot, default_options() if options is None else options)
    log = ev.log
    kvm = ev.kvm()
    msr = ev.msr()
    mode = iommu_mode(snapshot.get("iommu_group_types"), ev.running, log if ev.log_available else None)
    pending_reboot, pending_tokens = reboot_required(ev.running, ev.configured, ev.options)

    facts = {
        "problems": [],
        "firmware": dict(
            {"sev_api": log["sev_api"], "sev_build": log["sev_build"],
             "snp_api": log["snp_api"], "snp_build": log["snp_build"]},
            **(snapshot.get("sev_firmware") or read_firmware(None, *amd_cpu(ev.cpu), parsed_log=log))),
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
            # What the running kernel lacks, whatever the configuration says (an unreadable
            # /proc/cmdline lacks every option it must have): the role reboots when not empty.
            "unsatisfied": [describe(o) for o in unsatisfied_options(ev.running or [], ev.options)],
        },
        "kernel_log": {
            "source": snapshot.get("kernel_log_source") if ev.log_available else None,
            "lines": log["lines"],
            "reaches_boot": log["reaches_boot"],
            "kernel_release": log["kernel_release"],
            "complete": ev.log_available and not ev.log_incomplete,
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
    if snapshot.get("boot") is not None:
        facts["boot"] = snapshot["boot"]
    facts["problems"] = _problems(ev, facts, kvm)
    facts["ready"] = decide(facts)["ready"]
    return facts


def _container(evidence):
    if evidence is None:
        return {"detected": None, "type": None}
    engine = container_type(evidence)
    return {"detected": engine is not None, "type": engine}


def snp_confirmed(facts):
    """Something shows SEV-SNP running: kvm_amd says sev_snp=Y, or the kernel log has the
    SEV-SNP API line and did not report SNP initialization failing."""
    kvm = facts.get("kvm") or {}
    if kvm.get("sev_snp") is True:
        return True
    firmware = facts.get("firmware") or {}
    psp = facts.get("psp") or {}
    return firmware.get("snp_api") is not None and psp.get("snp_initialized") is True


def decide(facts, min_snp_api=None, min_snp_build=None, ignore=()):
    """The one readiness decision of this collection; host_facts, host_gate, the role's gate
    and check_host all come here.

    A host is ready when no error-severity problem holds, its SEV-SNP firmware is at least
    the floor (SNP_MIN_API) and the operator's minimum (min_snp_api, build min_snp_build),
    a firmware image staged before this boot (facts.firmware.staged, set by the sev_snp_host
    role: {file, before}) changed the running version, and something shows SEV-SNP running. Returns {ready, blocking, ignored}: blocking is the
    list of problems (with fixes) that stop the host, minus the ids in ``ignore``.
    min_snp_api must already be checked (snp_version.checked_minimum_api).
    """
    found = blocking(facts.get("problems") or [])
    found.extend(_minimum_problems(facts, min_snp_api, min_snp_build))
    found.extend(_staged_firmware_problems(facts))
    if not snp_confirmed(facts):
        found.append(problem(
            "snp_not_confirmed", ERROR,
            "Nothing shows SEV-SNP running: no 'SEV-SNP API' line with an initialized firmware in the "
            "kernel log, and kvm_amd does not report sev_snp=Y.",
            "Fix the other problems listed for this host, or read the kernel log yourself "
            "(`dmesg | grep -i -e ccp -e sev`); run coco.sev_snp.host_facts as root."))
    found = ordered_unique(found, PROBLEM_IDS)
    ignored = [p["id"] for p in found if p["id"] in ignore]
    stopping = [p for p in found if p["id"] not in ignore]
    return {"ready": not stopping, "blocking": stopping, "ignored": ignored}


def _minimum_problems(facts, min_snp_api, min_snp_build):
    if min_snp_api is None and min_snp_build is None:
        return []
    firmware = facts.get("firmware") or {}
    snp_api, snp_build = firmware.get("snp_api"), firmware.get("snp_build")
    wanted = " build ".join(str(part) for part in (min_snp_api or SNP_MIN_API, min_snp_build) if part is not None)
    if snp_api is None:
        reason = "The host reports no SEV-SNP firmware version, so it cannot be shown to meet %s." % wanted
    else:
        order = compare_versions(snp_api, min_snp_api) if min_snp_api is not None else 0
        too_old = order < 0 or (order == 0 and min_snp_build is not None
                                and (snp_build is None or snp_build < min_snp_build))
        if not too_old:
            return []
        reason = "SEV-SNP firmware %s build %s is older than the required %s." % (snp_api, snp_build, wanted)
    return [problem("snp_firmware_below_minimum", ERROR, reason,
                    _firmware_fix((facts.get("cpu") or {}), wanted))]


def _version_text(version):
    return "%s build %s" % (version.get("api"), version.get("build"))


def _staged_firmware_problems(facts):
    """sev_firmware_unchanged: an image was staged and the host rebooted, but the version the
    PSP reports is the one from before (or none at all)."""
    firmware = facts.get("firmware") or {}
    staged = firmware.get("staged")
    if not isinstance(staged, dict) or not staged.get("file"):
        return []
    before, now = staged.get("before"), firmware.get("in_use")
    if now is not None and now != before:
        return []
    if now is None:
        reason = "the kernel log reports no SEV firmware version after the reboot"
    else:
        reason = "the firmware still runs %s after the reboot" % _version_text(now)
    return [problem(
        "sev_firmware_unchanged", ERROR,
        "The SEV firmware image staged as %s did not change the firmware: %s." % (staged["file"], reason),
        "The AMD Secure Processor takes an image only when it is meant for this CPU and newer than the "
        "firmware it runs (older ones fail with BAD_SVN/BAD_VERSION, printed only with dynamic debug of ccp). "
        "Check `dmesg | grep -i -e ccp -e firmware` and the image's version, stage a newer image for this CPU "
        "(or update the BIOS); to accept the running version, add sev_firmware_unchanged to "
        "sev_snp_gate_ignore.")]


def _problems(ev, facts, kvm):
    found = []
    for check in (_check_cpu, _check_bios, _check_iommu, _check_psp, _check_firmware,
                  _check_init, _check_kvm, _check_asids, _check_guest_memfd, _check_msr, _check_cmdline,
                  _check_kernel_flavour, _check_kernel_log, _check_unreadable):
        found.extend(check(ev, facts, kvm))
    return ordered_unique(found, PROBLEM_IDS)


def _check_cpu(ev, facts, kvm):
    cpu = ev.cpu
    vendor = cpu["vendor"]
    if vendor is None:
        return []
    if vendor == "HygonGenuine":
        return [problem(
            "not_amd_epyc", ERROR,
            "Hygon CPU (HygonGenuine, family %s): Hygon implements China Secure Virtualization "
            "(CSV), not AMD SEV-SNP." % ("%xh" % cpu["family"] if cpu["family"] is not None else "unknown"),
            "This host cannot run SEV-SNP guests; take it out of the SNP host group and use AMD EPYC "
            "7003 (Milan) or newer hosts.")]
    if vendor != "AuthenticAMD":
        return [problem(
            "not_amd_epyc", ERROR,
            "CPU vendor is %s; SEV-SNP is an AMD EPYC feature." % vendor,
            "Take this host out of the SNP host group; SEV-SNP guests need AMD EPYC 7003 (Milan) or newer.")]
    name = cpu["model_name"]
    if name and "EPYC" not in name.upper():
        return [problem(
            "not_amd_epyc", ERROR,
            "'%s' is not an AMD EPYC server processor; AMD ships SEV-SNP firmware for EPYC only." % name,
            "Use an AMD EPYC 7003 (Milan) or newer host for SEV-SNP guests.")]
    if ev.snp_capable is False:
        what = ev.generation or "family %xh model %xh" % (cpu["family"], cpu["model"])
        return [problem(
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
        found.append(problem(
            "memory_encryption_disabled_by_bios", ERROR,
            "The kernel reports 'SEV: memory encryption not enabled by BIOS'.", _BIOS_MEMORY_FIX))
    elif (ev.is_amd_epyc() and ev.bare_metal() and ev.snp_capable
          and cpu["flags"]["sev"] is False and cpu["flags"]["sme"] is False):
        found.append(problem(
            "memory_encryption_disabled_by_bios", ERROR,
            "The CPU shows neither the 'sme' nor the 'sev' flag: memory encryption is off in the BIOS.",
            _BIOS_MEMORY_FIX))
    rmp = log["rmp"]
    if rmp["not_reserved"]:
        found.append(problem(
            "rmp_table_missing", ERROR,
            "The kernel reports 'Memory for the RMP table has not been reserved by BIOS'.", _BIOS_RMP_FIX))
    elif rmp["does_not_cover_ram"]:
        found.append(problem(
            "rmp_table_missing", ERROR,
            "The kernel reports 'Memory reserved for the RMP table does not cover full system RAM'.", _BIOS_RMP_FIX))
    elif rmp["invalid"]:
        found.append(problem(
            "rmp_table_missing", ERROR,
            "The kernel could not use the RMP table the BIOS configured.", _BIOS_RMP_FIX))
    elif (ev.is_amd_epyc() and ev.bare_metal() and ev.snp_capable and cpu["flags"]["sev"]
          and cpu["flags"]["sev_snp"] is False and kvm["loaded"]
          and ev.kvm_params is not None and ev.kvm_params.get("sev_snp") is not None
          and log["reaches_boot"] and rmp["start"] is None):
        # An SNP-capable kernel (kvm_amd has sev_snp) clears the CPU flag and prints no RMP
        # range when the BIOS left SNP off; the log reaches boot, so the line is not lost.
        found.append(problem(
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
        found.append(problem(
            "iommu_passthrough", ERROR, message,
            "Enable 'IOMMU' in the BIOS setup and boot with iommu=nopt: run the %s role (it adds iommu=nopt "
            "to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and removes iommu=pt, iommu.passthrough=1 "
            "and amd_iommu=off), run update-bootloader, then reboot." % HOST_ROLE))
    if log["iommu"]["snp_feature_missing"]:
        found.append(problem(
            "iommu_snp_unsupported", ERROR,
            "AMD-Vi reports 'SNP: IOMMU SNP feature not enabled, SNP cannot be supported'.",
            "Enable 'SEV-SNP Support' and 'IOMMU' in the BIOS setup (update the BIOS if it has no such "
            "option), then power the host off and on."))
    if log["iommu"]["snp_v2_page_table"]:
        found.append(problem(
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
    return [problem("psp_unavailable", ERROR, "The AMD Secure Processor is unusable: %s." % "; ".join(reasons),
                    _PSP_FIX)]


def _firmware_fix(cpu, wanted=SNP_MIN_API):
    """How to get SEV firmware `wanted` or newer; names an AMD firmware file only on AMD CPUs."""
    if cpu.get("vendor") != "AuthenticAMD":
        return ("SEV-SNP firmware exists only for AMD EPYC CPUs (Milan or newer); run SNP guests on such a "
                "host.")
    name = sev_firmware_file(cpu.get("family"), cpu.get("model"))
    if name:
        where = "/lib/firmware/amd/%s" % name
    else:
        where = ("/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin (Milan; model1xh for Genoa, "
                 "modelaxh for Bergamo/Siena)")
    return ("Install AMD's SEV firmware for this CPU as %s and reboot (the ccp driver loads it at boot; "
            "coco.sev_snp.enable_host does both with -e sev_snp_host_firmware=package, or =file with "
            "sev_snp_host_firmware_src), or update the BIOS to a release with SEV-SNP firmware %s or newer."
            % (where, wanted))


def _check_firmware(ev, facts, kvm):
    log = ev.log
    sev_api, snp_api = log["sev_api"], log["snp_api"]
    old_sev = sev_api is not None and compare_versions(sev_api, SNP_MIN_API) < 0
    old_snp = snp_api is not None and compare_versions(snp_api, SNP_MIN_API) < 0
    if log["snp_firmware_too_old"] or old_snp or (old_sev and snp_api is None):
        version = snp_api if old_snp else (sev_api or "below %s" % SNP_MIN_API)
        return [problem(
            "snp_firmware_too_old", ERROR,
            "SEV firmware %s is older than %s, the first with SEV-SNP." % (version, SNP_MIN_API),
            _firmware_fix(ev.cpu))]
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
        found.append(problem(
            "snp_init_failed", ERROR,
            "SEV-SNP firmware initialization (SNP_INIT) failed: %s." % detail, _INIT_FIX))
    elif log["psp_timeout"] and log["snp_api"] is None and _snp_relevant_or_unknown(ev):
        found.append(problem(
            "snp_init_failed", ERROR,
            "SEV-SNP was never initialized: the PSP timed out before SNP_INIT completed.", _INIT_FIX))
    sev_failure = log["sev_init_error"]
    if sev_failure is not None:
        snp_running = log["snp_initialized"]
        found.append(problem(
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
    return [problem(
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
        found.append(problem(
            "kvm_amd_not_loaded", ERROR,
            "The kvm_amd module is not loaded, so no SEV guest (of any kind) can start.",
            "Run `modprobe kvm_amd`; if it refuses, enable 'SVM Mode' in the BIOS setup. "
            "Check `dmesg | grep kvm_amd` for the reason."))
        return found
    if not kvm["loaded"]:
        return found
    params = ev.kvm_params or {}
    # Absent (None) only counts when it was not merely unreadable.
    if ("sev_snp" in params and params["sev_snp"] is None and not ev.param_unreadable("sev_snp")
            and params.get("sev") is not None):
        found.append(problem(
            "kvm_snp_disabled", ERROR,
            "kvm_amd has no sev_snp parameter: the running kernel was built without SEV-SNP host support.",
            "Boot a kernel with SEV-SNP host support (SLES 15 SP7: the kernel-coco flavour from the "
            "Confidential Computing Module) and make it the default boot entry, then reboot."))
    elif kvm["sev_snp"] is False:
        found.append(problem(
            "kvm_snp_disabled", ERROR,
            "kvm_amd runs with sev_snp=N: SEV-SNP guests cannot be launched.",
            "Remove any 'options kvm_amd sev_snp=0' from /etc/modprobe.d and kvm_amd.sev_snp=0 from the "
            "kernel command line; if SNP was unusable when kvm_amd loaded (see the other problems), fix "
            "that first, then reboot or run `modprobe -r kvm_amd && modprobe kvm_amd`."))
    else:
        snp = ev.log["asids"]["sev_snp"]
        if snp is not None and snp["state"] in ("disabled", "unusable") and ev.log["asids"]["sev_es"] is not None \
                and ev.log["asids"]["sev_es"]["state"] == "enabled":
            found.append(problem(
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
    return [problem(
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
        found.append(problem(
            "msr_module_not_loaded", WARNING,
            "The msr module is not loaded; snphost and snpguest cannot read the SEV MSRs.",
            "Run `modprobe msr` (and make it persistent, see msr_module_not_persistent)."))
    if msr["persistent"] is False:
        found.append(problem(
            "msr_module_not_persistent", WARNING,
            "No modules-load.d file loads msr at boot.",
            "Run `echo msr > /etc/modules-load.d/msr.conf` (the %s role does it)." % HOST_ROLE))
    return found


def _check_cmdline(ev, facts, kvm):
    found = []
    if ev.cpu["vendor"] not in (None, "AuthenticAMD") or ev.snp_capable is False:
        return found
    configured = ev.configured
    if configured is None:
        error = ev.snapshot.get("cmdline_configured_error")
        if error:
            found.append(problem(
                "iommu_nopt_not_configured", WARNING,
                "The boot configuration cannot be checked: %s." % error,
                "Give the role the file that holds the kernel command line (sev_snp_host_grub_file, default "
                "/etc/default/grub), or fix the file so that the shell and grub-mkconfig can read it."))
    else:
        unsatisfied = unsatisfied_options(configured, ev.options)
        if unsatisfied:
            missing = [describe(o) for o in unsatisfied if o.get("state", "present") == "present"]
            conflicts = [describe(o)[3:] for o in unsatisfied if o.get("state") == "absent"]
            parts = (["lacks %s" % ", ".join(missing)] if missing else []) + \
                (["has %s" % ", ".join(conflicts)] if conflicts else [])
            found.append(problem(
                "iommu_nopt_not_configured", WARNING,
                "The boot configuration in /etc/default/grub %s; the next boot would leave the IOMMU "
                "unfit for SEV-SNP." % " and ".join(parts),
                "Run the %s role (playbook %s), or edit GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub%s%s, "
                "then run update-bootloader." % (
                    HOST_ROLE, ENABLE_PLAYBOOK,
                    (": add %s" % ", ".join(missing)) if missing else "",
                    ("%s remove %s (from GRUB_CMDLINE_LINUX too)" % (" and" if missing else ":", ", ".join(conflicts)))
                    if conflicts else "")))
    if facts["cmdline"]["reboot_required"]:
        # A pending reboot blocks: the host is not what the next boot will make of it.
        found.append(problem(
            "reboot_pending", ERROR,
            "The boot configuration has changed but the running kernel predates it (configured, not yet "
            "booted: %s)." % ", ".join(facts["cmdline"]["pending"]),
            "Reboot the host (run update-bootloader first if the boot loader configuration was not "
            "regenerated); the %s role reboots when sev_snp_host_reboot_ok is true." % HOST_ROLE))
    return found


def _check_kernel_flavour(ev, facts, kvm):
    """kernel_flavour_not_running: a flavour is wanted (host_facts kernel_flavour) and the running
    kernel is of another one. The fix names what the next boot would do."""
    boot = facts.get("boot") or {}
    flavour = boot.get("flavour")
    if not flavour or flavour.get("running") is not False:
        return []
    wanted = flavour["wanted"]
    release = boot.get("running_release")
    entry = flavour.get("entry")
    grub_cfg = boot.get("grub_cfg") or "grub.cfg"
    if entry is None:
        fix = ("Install the kernel of the %s flavour (SLES 15 SP7 / Leap 15.7: kernel-coco; the %s role does it "
               "with sev_snp_host_coco_kernel: true), regenerate the boot configuration so that %s lists it, "
               "select it and reboot." % (wanted, HOST_ROLE, grub_cfg))
    elif flavour.get("boots_next"):
        fix = "Reboot the host: the next boot starts '%s' (%s)." % (entry["title"], entry["release"])
    else:
        fix = ("Make '%s' the default boot entry: GRUB_DEFAULT=saved in /etc/default/grub, regenerate the boot "
               "configuration, then grub2-set-default (grub-set-default on Debian) '%s', and reboot; the %s role "
               "does all of it with sev_snp_host_kernel_flavour: '%s' and sev_snp_host_reboot_ok: true."
               % (entry["title"], entry["path"], HOST_ROLE, wanted))
    return [problem(
        "kernel_flavour_not_running", ERROR,
        "The running kernel %s is not of the wanted flavour %s%s." % (
            release, wanted, "" if entry else " and %s has no entry for one" % grub_cfg),
        fix)]


def _check_unreadable(ev, facts, kvm):
    if not ev.unreadable:
        return []
    return [problem(
        "host_files_unreadable", WARNING,
        "Some host files could not be read, so what they tell is unknown: %s." % ", ".join(
            "/" + path for path in sorted(ev.unreadable)),
        "Run the check as root (become: true, which check_host does by default); these files are "
        "regular files on a healthy host.")]


def _check_kernel_log(ev, facts, kvm):
    error = ev.snapshot.get("kernel_log_error")
    if ev.log_available and ev.log_incomplete:
        # A failure may sit in what was not read: never ready on a partial log.
        return [problem(
            "kernel_log_incomplete", ERROR,
            "The kernel log was not read completely: %s. A failure in the unread part would be missed, "
            "so readiness is unknown." % ev.log_incomplete,
            "Read the boot messages from a shorter source (`journalctl -k -b` or a saved `dmesg` passed as "
            "kernel_log), or rotate/limit the log; then re-run the check.")]
    if not ev.log_available:
        return [problem(
            "kernel_log_unavailable", WARNING,
            "No kernel log could be read%s, so firmware versions and INIT results are unknown." % (
                " (%s)" % error if error else ""),
            "Run the module as root (become: true), enable a persistent journal so `journalctl -k -b` "
            "works, or pass kernel_log with a saved `dmesg` output.")]
    if not ev.log_has_sev and not ev.log["reaches_boot"] and _snp_relevant_or_unknown(ev):
        return [problem(
            "kernel_log_unavailable", WARNING,
            "The kernel log (%s) has no ccp/SEV lines and does not reach back to boot: the ring buffer "
            "has probably rotated." % (ev.snapshot.get("kernel_log_source") or "unknown source"),
            "Read the boot messages from the journal (`journalctl -k -b | grep -i -e ccp -e sev`), or "
            "enable a persistent journal so the module can fall back to it; a larger log_buf_len= also "
            "keeps them.")]
    return []
