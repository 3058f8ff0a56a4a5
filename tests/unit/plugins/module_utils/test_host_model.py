# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host readiness model: generation table, sysfs values, problems and the ready decision."""

import copy

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import (
    PROBLEM_IDS,
    build_facts,
    cpu_generation,
    decide,
    iommu_mode,
    loaded_modules,
    modules_load_lists,
    parse_bool_param,
    parse_cpuinfo,
    reboot_required,
    sev_firmware_file,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import parse_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options, options_from_tokens

EPYC_FLAGS = "fpu vme de pse tsc msr pae svm sme sev sev_es sev_snp"


def cpuinfo(vendor="AuthenticAMD", family=25, model=1, name="AMD EPYC 7543 32-Core Processor", flags=EPYC_FLAGS):
    return ("processor\t: 0\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\n"
            "flags\t\t: %s\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n" % (vendor, family, model, name, flags))


READY_LOG = (
    "[    0.000000] Linux version 6.4.0-150700.53-coco (geeko@buildhost)\n"
    "[    0.000000] SEV-SNP: RMP table physical range [0x0000000098900000 - 0x00000000a8efffff]\n"
    "[    4.262831] ccp 0000:46:00.1: sev enabled\n"
    "[    5.270264] ccp 0000:46:00.1: SEV API:1.55 build:21\n"
    "[    5.270270] ccp 0000:46:00.1: SEV-SNP API:1.55 build:21\n"
    "[    5.283039] kvm_amd: SEV enabled (ASIDs 100 - 509)\n"
    "[    5.283041] kvm_amd: SEV-ES enabled (ASIDs 1 - 99)\n"
    "[    5.283042] kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)\n"
)

READY = {
    "cpuinfo": cpuinfo(),
    "proc_modules": "kvm_amd 200704 0 - Live 0x0\nkvm 1 1 kvm_amd, Live 0x0\nmsr 12288 0 - Live 0x0\n",
    "sys_module_kvm_amd": True,
    "sys_module_msr": True,
    "dev_cpu_msr": True,
    "dev_sev": True,
    "kvm_amd_parameters": {"sev": "Y\n", "sev_es": "Y\n", "sev_snp": "Y\n"},
    "modules_load_files": {"/etc/modules-load.d/msr.conf": "msr\n"},
    "iommu_group_types": ["DMA-FQ", "DMA-FQ"],
    "cmdline_running": ["BOOT_IMAGE=/boot/vmlinuz", "root=UUID=1", "iommu=nopt", "quiet"],
    "cmdline_configured": ["splash=silent", "iommu=nopt", "quiet"],
    "kernel_log": READY_LOG,
    "kernel_log_source": "dmesg",
}


def snapshot(**changes):
    result = copy.deepcopy(READY)
    result.update(changes)
    return result


def ids(facts):
    return [p["id"] for p in facts["problems"]]


def problem(facts, problem_id):
    return [p for p in facts["problems"] if p["id"] == problem_id][0]


# ------------------------------------------------------------------ small parsers


def test_parse_cpuinfo_takes_the_first_cpu():
    cpu = parse_cpuinfo(cpuinfo())
    assert cpu["vendor"] == "AuthenticAMD"
    assert (cpu["family"], cpu["model"]) == (25, 1)
    assert cpu["flags"] == {"sme": True, "sev": True, "sev_es": True, "sev_snp": True}
    assert cpu["hypervisor"] is False


def test_parse_cpuinfo_unreadable():
    cpu = parse_cpuinfo(None)
    assert cpu["vendor"] is None and cpu["flags"]["sev_snp"] is None


@pytest.mark.parametrize("family, model, generation, snp", [
    (0x17, 0x01, "Naples", False),
    (0x17, 0x31, "Rome", False),
    (0x19, 0x00, "Milan", True),
    (0x19, 0x01, "Milan", True),
    (0x19, 0x11, "Genoa", True),
    (0x19, 0xA0, "Bergamo/Siena", True),
    (0x19, 0xAF, "Bergamo/Siena", True),
    (0x1A, 0x02, "Turin", True),
    (0x1A, 0x11, "Turin", True),
    (0x19, 0x21, None, None),
    (0x15, 0x02, None, False),
])
def test_generation_table(family, model, generation, snp):
    assert cpu_generation("AuthenticAMD", family, model) == (generation, snp)


def test_generation_is_amd_only():
    assert cpu_generation("HygonGenuine", 0x18, 0x01) == (None, None)
    assert cpu_generation("GenuineIntel", 6, 143) == (None, None)


@pytest.mark.parametrize("family, model, name", [
    (0x17, 0x01, "amd_sev_fam17h_model0xh.sbin"),
    (0x17, 0x31, "amd_sev_fam17h_model3xh.sbin"),
    (0x19, 0x01, "amd_sev_fam19h_model0xh.sbin"),
    (0x19, 0x11, "amd_sev_fam19h_model1xh.sbin"),
    (0x19, 0xA0, "amd_sev_fam19h_modelaxh.sbin"),
    (0x1A, 0x02, "amd_sev_fam1ah_model0xh.sbin"),
])
def test_firmware_file_names(family, model, name):
    assert sev_firmware_file(family, model) == name


@pytest.mark.parametrize("text, value", [
    ("Y\n", True), ("y", True), ("1\n", True), ("N\n", False), ("n", False), ("0", False),
    ("", None), ("maybe", None), (None, None),
])
def test_bool_params(text, value):
    assert parse_bool_param(text) is value


def test_modules_load_lists_skip_comments():
    names = modules_load_lists({"/etc/modules-load.d/a.conf": "# msr\n; msr\n\n  kvm-amd  \n",
                                "/usr/lib/modules-load.d/b.conf": "msr\n"})
    assert names == {"kvm_amd": "/etc/modules-load.d/a.conf", "msr": "/usr/lib/modules-load.d/b.conf"}


@pytest.mark.parametrize("types, tokens, mode", [
    (["DMA-FQ", "DMA"], ["iommu=pt"], "translated"),
    (["identity", "identity"], [], "passthrough"),
    ([], [], "disabled"),
    (None, ["iommu=pt"], "passthrough"),
    (None, ["iommu=pt", "iommu=nopt"], "translated"),
    (None, ["iommu.passthrough=1"], "passthrough"),
    (None, ["amd_iommu=off"], "disabled"),
    (None, [], "unknown"),
    (None, None, "unknown"),
])
def test_iommu_mode(types, tokens, mode):
    assert iommu_mode(types, tokens, None) == mode


@pytest.mark.parametrize("tokens, mode", [
    (["iommu.passthrough=on"], "passthrough"),
    (["iommu.passthrough=y"], "passthrough"),
    (["iommu.passthrough=true"], "passthrough"),
    (["iommu.passthrough=off"], "translated"),
    (["iommu.passthrough=0"], "translated"),
    (["amd_iommu=fullflush,off"], "disabled"),
    (["amd_iommu=fullflush"], None),
    (["iommu=nopt,pt"], "passthrough"),
    (["iommu=off"], "disabled"),
    (["iommu=pt", "--", "iommu=nopt"], "passthrough"),
    (["kvm-amd.sev_snp=1"], None),
])
def test_iommu_mode_reads_options_as_the_kernel_does(tokens, mode):
    assert iommu_mode(None, tokens, None) == (mode or "unknown")


def test_reboot_required():
    options = options_from_tokens(["iommu=nopt"], ["iommu=pt", "amd_iommu=off"])
    assert reboot_required(["iommu=nopt"], ["iommu=nopt"], options) == (False, [])
    assert reboot_required(["quiet"], ["iommu=nopt"], options) == (True, ["iommu=nopt"])
    assert reboot_required(["iommu=pt"], ["iommu=nopt"], options) == (True, ["iommu=nopt", "no iommu=pt"])
    assert reboot_required(["quiet"], ["quiet"], options) == (False, [])
    assert reboot_required(None, ["iommu=nopt"], options) == (False, [])
    assert reboot_required(["iommu=nopt"], None, options) == (False, [])


def test_reboot_required_with_the_collections_options():
    options = default_options()
    pending, what = reboot_required(["iommu=nopt", "iommu.passthrough=on"], ["iommu=nopt"], options)
    assert pending is True
    assert what == ["no iommu.passthrough=<1, y, on or true>"]
    pending, what = reboot_required(["amd_iommu=fullflush,off"], ["iommu=nopt", "amd_iommu=fullflush"], options)
    assert pending is True
    assert what == ["iommu=nopt", "no amd_iommu=off (also inside a comma list)"]
    # Configured but not running, and the configuration itself is wrong: not a pending reboot.
    assert reboot_required(["quiet"], ["iommu.passthrough=1"], options) == (False, [])


# ------------------------------------------------------------------ decisions


def test_ready_host():
    facts = build_facts(snapshot())
    assert facts["problems"] == []
    assert facts["ready"] is True
    assert facts["firmware"] == {
        "sev_api": "1.55", "sev_build": 21, "snp_api": "1.55", "snp_build": 21,
        "in_use": {"api": "1.55", "build": 21},
        "candidates": ["amd/amd_sev_fam19h_model01h.sbin", "amd/amd_sev_fam19h_model0xh.sbin", "amd/sev.fw"],
        # A snapshot without the reader's file section: which files exist is unknown, not "none".
        "files": None, "unusable": None, "next_boot_file": None, "changed_since_boot": None,
        "updated_at_boot": False, "update": None, "loaded_file": None, "load_failures": []}
    assert facts["cpu"]["generation"] == "Milan"
    assert facts["kvm"] == {"loaded": True, "sev": True, "sev_es": True, "sev_snp": True}
    assert facts["iommu"] == {"mode": "translated"}
    assert facts["msr"] == {"loaded": True, "persistent": True}
    assert facts["cmdline"]["reboot_required"] is False
    assert facts["kernel_log"]["source"] == "dmesg"
    assert facts["psp"]["devices"] == ["0000:46:00.1"]


def test_contract_keys():
    facts = build_facts(snapshot())
    for key in ("ready", "problems", "firmware", "cpu", "kvm", "iommu", "msr", "cmdline", "kernel_log"):
        assert key in facts
    assert set(["vendor", "family", "model", "generation", "model_name", "flags"]) <= set(facts["cpu"])
    assert set(["running", "configured", "reboot_required", "pending", "unsatisfied"]) <= set(facts["cmdline"])


@pytest.mark.parametrize("value", ["1\n", "y\n"])
def test_integer_and_lowercase_sysfs_values(value):
    facts = build_facts(snapshot(kvm_amd_parameters={"sev": value, "sev_es": value, "sev_snp": value}))
    assert facts["kvm"]["sev_snp"] is True and facts["ready"] is True


@pytest.mark.parametrize("value", ["N\n", "0\n", "n"])
def test_sev_snp_off_in_kvm(value):
    facts = build_facts(snapshot(kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": value}))
    assert ids(facts) == ["kvm_snp_disabled"]
    assert facts["kvm"]["sev_snp"] is False
    assert facts["ready"] is False


def test_kernel_without_sev_snp_parameter():
    facts = build_facts(snapshot(kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": None},
                                 kernel_log=READY_LOG.replace("SEV-SNP API:1.55 build:21", "noop")))
    assert ids(facts) == ["kvm_snp_disabled"]
    assert "kernel-coco" in problem(facts, "kvm_snp_disabled")["fix"]
    assert facts["kvm"]["sev_snp"] is None


def test_ccp_says_snp_but_kvm_says_no():
    facts = build_facts(snapshot(kvm_amd_parameters={"sev": "Y", "sev_es": "N", "sev_snp": "N"}))
    assert "kvm_snp_disabled" in ids(facts)
    assert facts["ready"] is False


def test_kvm_amd_not_loaded():
    facts = build_facts(snapshot(proc_modules="kvm 1 0 - Live 0x0\nmsr 1 0 - Live 0x0\n", sys_module_kvm_amd=False,
                                 kvm_amd_parameters={"sev": None, "sev_es": None, "sev_snp": None}))
    assert ids(facts) == ["kvm_amd_not_loaded"]
    assert facts["kvm"] == {"loaded": False, "sev": None, "sev_es": None, "sev_snp": None}
    assert facts["ready"] is False


def test_hygon():
    facts = build_facts(snapshot(
        cpuinfo=cpuinfo(vendor="HygonGenuine", family=24, model=2, name="Hygon C86 3285  8-core Processor",
                        flags="fpu sme sev sev_es"),
        kvm_amd_parameters={"sev": "1\n", "sev_es": None, "sev_snp": None},
        dev_sev=False, kernel_log="ccp 0000:04:00.1: ccp enabled\n"))
    assert ids(facts)[0] == "not_amd_epyc"
    fix = problem(facts, "not_amd_epyc")
    assert "Hygon" in fix["message"] and "CSV" in fix["message"]
    assert "kvm_snp_disabled" not in ids(facts) and "psp_unavailable" not in ids(facts)
    assert facts["cpu"]["generation"] is None
    assert facts["ready"] is False


def test_intel_host():
    facts = build_facts(snapshot(cpuinfo=cpuinfo(vendor="GenuineIntel", family=6, model=143,
                                                 name="Intel(R) Xeon(R) Platinum 8480+", flags="fpu vmx"),
                                 kernel_log="", kvm_amd_parameters={}, sys_module_kvm_amd=False,
                                 proc_modules="kvm_intel 1 0 - Live 0x0\n"))
    assert ids(facts) == ["not_amd_epyc"]
    assert facts["ready"] is False


def test_client_ryzen():
    facts = build_facts(snapshot(cpuinfo=cpuinfo(family=23, model=24, name="AMD Ryzen 7 PRO 3700U w/ Radeon Vega",
                                                 flags="fpu sme sev sev_es")))
    assert ids(facts)[0] == "not_amd_epyc"
    assert "Ryzen" in problem(facts, "not_amd_epyc")["message"]


def test_rome_predates_snp():
    facts = build_facts(snapshot(cpuinfo=cpuinfo(family=23, model=49, name="AMD EPYC 7502 32-Core Processor",
                                                 flags="fpu sme sev sev_es")))
    assert "cpu_generation_unsupported" in ids(facts)
    assert "Rome" in problem(facts, "cpu_generation_unsupported")["message"]
    assert "iommu_nopt_not_configured" not in ids(facts)


def test_memory_encryption_off_from_flags_only_on_bare_metal():
    facts = build_facts(snapshot(cpuinfo=cpuinfo(flags="fpu svm"), kernel_log=None, kvm_amd_parameters={
        "sev": "N", "sev_es": "N", "sev_snp": "N"}))
    assert "memory_encryption_disabled_by_bios" in ids(facts)
    assert "SMEE" in problem(facts, "memory_encryption_disabled_by_bios")["fix"]
    guest = build_facts(snapshot(cpuinfo=cpuinfo(flags="fpu hypervisor"), kernel_log=None))
    assert "memory_encryption_disabled_by_bios" not in ids(guest)


def test_rmp_missing_from_flags_needs_a_boot_log():
    log = "[    0.000000] Linux version 6.4.0-coco\n[    7.2] ccp 0000:22:00.1: SEV API:1.55 build:21\n"
    flags = "fpu svm sme sev sev_es"
    facts = build_facts(snapshot(cpuinfo=cpuinfo(flags=flags), kernel_log=log,
                                 kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": "N"}))
    assert "rmp_table_missing" in ids(facts)
    assert "SNP Memory Coverage" in problem(facts, "rmp_table_missing")["fix"]
    rotated = build_facts(snapshot(cpuinfo=cpuinfo(flags=flags), kernel_log=log.split("\n", 1)[1],
                                   kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": "N"}))
    assert "rmp_table_missing" not in ids(rotated)


def test_rmp_not_reserved_log():
    facts = build_facts(snapshot(kernel_log="[ 0.000000] SEV-SNP: Memory for the RMP table has not been reserved by BIOS\n"
                                            "[ 4.1] ccp 0000:22:00.1: SEV API:1.55 build:21\n",
                                 kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": "N"}))
    assert ids(facts)[:1] == ["rmp_table_missing"]


def test_iommu_passthrough_from_sysfs_and_log():
    facts = build_facts(snapshot(iommu_group_types=["identity"], cmdline_running=["iommu=pt"],
                                 cmdline_configured=["iommu=pt"]))
    assert ids(facts)[0] == "iommu_passthrough"
    assert "iommu_nopt_not_configured" in ids(facts)
    assert facts["iommu"]["mode"] == "passthrough"
    assert facts["ready"] is False
    log = READY_LOG + "[ 1.3] AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.\n"
    assert "iommu_passthrough" in ids(build_facts(snapshot(iommu_group_types=None, kernel_log=log)))


def test_iommu_feature_and_page_table():
    log = READY_LOG + ("[ 1.3] AMD-Vi: SNP: IOMMU SNP feature not enabled, SNP cannot be supported.\n"
                       "[ 1.3] AMD-Vi: SNP: IOMMU is configured with V2 page table mode, SNP cannot be supported.\n")
    facts = build_facts(snapshot(kernel_log=log))
    assert ids(facts) == ["iommu_snp_unsupported"]


def test_grub_lacks_nopt_and_reboot_pending():
    facts = build_facts(snapshot(cmdline_configured=["quiet"]))
    assert ids(facts) == ["iommu_nopt_not_configured"]
    assert problem(facts, "iommu_nopt_not_configured")["severity"] == "warning"
    assert facts["ready"] is True
    facts = build_facts(snapshot(cmdline_running=["quiet"], cmdline_configured=["quiet", "iommu=nopt"]))
    assert ids(facts) == ["reboot_pending"]
    assert facts["cmdline"]["reboot_required"] is True
    assert facts["cmdline"]["pending"] == ["iommu=nopt"]
    assert facts["cmdline"]["unsatisfied"] == ["iommu=nopt"]


@pytest.mark.parametrize("running, configured, unsatisfied", [
    # Satisfied: nothing, whatever the configuration says.
    (["quiet", "iommu=nopt"], ["quiet"], []),
    (["quiet", "iommu=nopt"], ["quiet", "iommu=nopt"], []),
    # Lacking: also when the configuration lacks it too (not pending: nothing configured waits).
    (["quiet"], ["quiet"], ["iommu=nopt"]),
    # A later iommu=pt undoes nopt (the kernel reads the options in order).
    (["iommu=nopt", "iommu=pt"], ["iommu=nopt"], ["iommu=nopt", "no iommu=pt (also inside a comma list)"]),
    (["iommu=nopt", "amd_iommu=off"], ["iommu=nopt"], ["no amd_iommu=off (also inside a comma list)"]),
    # An unreadable /proc/cmdline lacks every option the kernel must have.
    (None, ["iommu=nopt"], ["iommu=nopt"]),
])
def test_unsatisfied_is_what_the_running_kernel_lacks(running, configured, unsatisfied):
    facts = build_facts(snapshot(cmdline_running=running, cmdline_configured=configured))
    assert facts["cmdline"]["unsatisfied"] == unsatisfied


def test_extra_required_and_forbidden_options():
    facts = build_facts(snapshot(cmdline_configured=["iommu=nopt", "mitigations=off"]),
                        options_from_tokens(["iommu=nopt", "kvm_amd.sev_snp=1"], ["mitigations=off"]))
    message = problem(facts, "iommu_nopt_not_configured")["message"]
    assert "kvm_amd.sev_snp=1" in message and "mitigations=off" in message


def test_msr_not_loaded_and_not_persistent():
    facts = build_facts(snapshot(proc_modules="kvm_amd 1 0 - Live 0x0\n", sys_module_msr=False, dev_cpu_msr=False,
                                 modules_load_files={}))
    assert ids(facts) == ["msr_module_not_loaded", "msr_module_not_persistent"]
    assert "echo msr > /etc/modules-load.d/msr.conf" in problem(facts, "msr_module_not_persistent")["fix"]
    assert facts["ready"] is True


def test_no_kernel_log_is_a_warning_and_sysfs_still_decides():
    facts = build_facts(snapshot(kernel_log=None, kernel_log_source=None, kernel_log_error="dmesg: Operation not permitted"))
    assert ids(facts) == ["kernel_log_unavailable"]
    assert "Operation not permitted" in problem(facts, "kernel_log_unavailable")["message"]
    assert facts["kernel_log"]["source"] is None
    assert facts["firmware"]["snp_api"] is None
    assert facts["ready"] is True


def test_rotated_ring_buffer_is_said():
    facts = build_facts(snapshot(kernel_log="[88231.1] br0: port 2(vnet3) entered forwarding state\n"))
    assert ids(facts) == ["kernel_log_unavailable"]
    assert "rotated" in problem(facts, "kernel_log_unavailable")["message"]


def test_container_like_snapshot():
    facts = build_facts({
        "cpuinfo": cpuinfo(), "proc_modules": None, "sys_module_kvm_amd": None, "sys_module_msr": None,
        "dev_cpu_msr": None, "dev_sev": None, "kvm_amd_parameters": {"sev": None, "sev_es": None, "sev_snp": None},
        "modules_load_files": None, "iommu_group_types": None, "cmdline_running": None,
        "cmdline_configured": None, "kernel_log": None, "kernel_log_source": None,
    })
    assert ids(facts) == ["kernel_log_unavailable"]
    assert facts["kvm"] == {"loaded": None, "sev": None, "sev_es": None, "sev_snp": None}
    assert facts["msr"] == {"loaded": None, "persistent": None}
    assert facts["iommu"]["mode"] == "unknown"
    assert facts["ready"] is False


def test_psp_timeout_is_psp_and_snp_init():
    log = READY_LOG.replace("[    5.270270] ccp 0000:46:00.1: SEV-SNP API:1.55 build:21\n",
                            "[  105.1] ccp 0000:46:00.1: sev command 0x81 timed out, disabling PSP\n")
    facts = build_facts(snapshot(kernel_log=log, kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": "N"}))
    assert ids(facts) == ["psp_unavailable", "snp_init_failed", "kvm_snp_disabled"]


def test_dev_sev_missing():
    facts = build_facts(snapshot(dev_sev=False, kernel_log=None))
    assert "psp_unavailable" in ids(facts)
    assert "/dev/sev" in problem(facts, "psp_unavailable")["message"]


def test_firmware_below_151_without_snp_line():
    log = "[ 8.3] ccp 0000:23:00.1: sev enabled\n[ 8.4] ccp 0000:23:00.1: SEV API:1.49 build:3\n"
    facts = build_facts(snapshot(kernel_log=log, kvm_amd_parameters={"sev": "Y", "sev_es": "Y", "sev_snp": "N"}))
    assert ids(facts)[0] == "snp_firmware_too_old"
    assert "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin" in problem(facts, "snp_firmware_too_old")["fix"]


def test_firmware_151_without_snp_line_is_not_too_old():
    log = "[ 8.3] ccp 0000:23:00.1: sev enabled\n[ 8.4] ccp 0000:23:00.1: SEV API:1.51 build:3\n"
    facts = build_facts(snapshot(kernel_log=log))
    assert "snp_firmware_too_old" not in ids(facts)


def test_guest_memfd_missing():
    facts = build_facts(snapshot(kernel_log=READY_LOG + "[ 900.1] kvm_amd: SEV-SNP requires private memory "
                                                        "support via guest_memfd.\n"))
    assert ids(facts) == ["guest_memfd_missing"]
    assert facts["ready"] is False


def test_sev_es_asids_unavailable():
    log = READY_LOG.replace("SEV-ES enabled (ASIDs 1 - 99)", "SEV-ES disabled (ASIDs 0 - 0)").replace(
        "SEV-SNP enabled (ASIDs 1 - 99)", "SEV-SNP disabled (ASIDs 0 - 0)")
    facts = build_facts(snapshot(kernel_log=log))
    assert "sev_es_asids_unavailable" in ids(facts)
    assert "SEV-ES ASID Space Limit" in problem(facts, "sev_es_asids_unavailable")["fix"]


def test_every_problem_has_a_documented_id_and_concrete_fix():
    facts = build_facts(snapshot(cpuinfo=cpuinfo(flags="fpu svm"), iommu_group_types=["identity"],
                                 cmdline_configured=["iommu=pt"], modules_load_files={}, sys_module_msr=False,
                                 dev_cpu_msr=False, proc_modules="kvm_amd 1 0 - Live 0x0\n"))
    assert len(facts["problems"]) >= 4
    for item in facts["problems"]:
        assert item["id"] in PROBLEM_IDS
        assert item["severity"] in ("error", "warning")
        assert len(item["fix"]) > 20


# ================================================================== decision tables
# Each table holds the smallest change to a ready host on either side of one condition of
# the model, and the problems (id, severity) and readiness that must come out.

BOOT_LINE = "[    0.000000] Linux version 6.4.0-150700.53-coco (geeko@buildhost)\n"
RMP_LINE = "[    0.000000] SEV-SNP: RMP table physical range [0x0000000098900000 - 0x00000000a8efffff]\n"
SNP_API_LINE = "[    5.270270] ccp 0000:46:00.1: SEV-SNP API:1.55 build:21\n"
# What a ring buffer holds after weeks of uptime: no boot line, no ccp line.
ROTATED_LOG = "[88231.1] br0: port 2(vnet3) entered forwarding state\n"
MILAN_NO_SNP_FLAG = "fpu vme de pse tsc msr pae svm sme sev sev_es"
THREADRIPPER = {"family": 25, "model": 8, "name": "AMD Ryzen Threadripper PRO 5995WX 64-Cores"}
ROME = {"family": 23, "model": 49, "name": "AMD EPYC 7502 32-Core Processor"}
# EPYC 4004 (family 19h model 61h): an EPYC the generation table does not know.
EPYC_4004 = {"family": 25, "model": 0x61, "name": "AMD EPYC 4564P 16-Core Processor"}
INTEL = {"vendor": "GenuineIntel", "family": 6, "model": 143, "name": "Intel(R) Xeon(R) Platinum 8480+",
         "flags": "fpu vmx msr"}
NOT_LOADED = {"proc_modules": "kvm 1 0 - Live 0x0\nmsr 1 0 - Live 0x0\n", "sys_module_kvm_amd": False,
              "kvm_amd_parameters": {"sev": None, "sev_es": None, "sev_snp": None}}


def cpu_block(vendor="AuthenticAMD", family=25, model=1, name="AMD EPYC 7543 32-Core Processor", flags=EPYC_FLAGS):
    """One /proc/cpuinfo block; a field given as None is left out."""
    lines = ["processor\t: 0"]
    for key, value in (("vendor_id", vendor), ("cpu family", family), ("model\t", model),
                       ("model name", name), ("flags\t", flags)):
        if value is not None:
            lines.append("%s\t: %s" % (key, value))
    return "\n".join(lines) + "\n"


def log_with(*replacements):
    """READY_LOG with (old, new) replacements; each old text must be there."""
    text = READY_LOG
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return text


def verdict(facts):
    return [(p["id"], p["severity"]) for p in facts["problems"]], facts["ready"]


def err(*names):
    return [(name, "error") for name in names]


def warn(*names):
    return [(name, "warning") for name in names]


# ------------------------------------------------------------------ parsers, edge by edge


def test_parse_cpuinfo_skips_leading_blank_lines():
    cpu = parse_cpuinfo("\n\n" + cpu_block())
    assert (cpu["vendor"], cpu["family"], cpu["model"]) == ("AuthenticAMD", 25, 1)


def test_parse_cpuinfo_never_reads_the_second_cpu():
    text = cpu_block(flags=None) + "\n" + cpu_block(vendor="GenuineIntel", flags="fpu hypervisor sev")
    cpu = parse_cpuinfo(text)
    assert cpu["vendor"] == "AuthenticAMD"
    assert cpu["flags"] == {"sme": None, "sev": None, "sev_es": None, "sev_snp": None}
    assert cpu["hypervisor"] is None


def test_parse_cpuinfo_keeps_going_past_a_line_without_colon():
    cpu = parse_cpuinfo("processor\t: 0\n(pasted from a ticket)\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n")
    assert (cpu["vendor"], cpu["family"]) == ("AuthenticAMD", 25)


def test_parse_cpuinfo_value_with_colon_stays_whole():
    # Engineering samples carry a colon in the model name.
    cpu = parse_cpuinfo(cpu_block(name="AMD Eng Sample: 100-000000314-04_30/16_N"))
    assert cpu["model_name"] == "AMD Eng Sample: 100-000000314-04_30/16_N"


def test_parse_cpuinfo_empty_values_are_none():
    cpu = parse_cpuinfo("processor\t: 0\nvendor_id\t:\ncpu family\t: x\nmodel\t\t:\nmodel name\t:\n")
    assert cpu == {"vendor": None, "family": None, "model": None, "model_name": None,
                   "flags": {"sme": None, "sev": None, "sev_es": None, "sev_snp": None}, "hypervisor": None}


@pytest.mark.parametrize("family, model, generation, snp", [
    (0x17, 0x00, "Naples", False), (0x17, 0x0F, "Naples", False), (0x17, 0x10, None, False),
    (0x17, 0x30, "Rome", False), (0x17, 0x3F, "Rome", False), (0x17, 0x40, None, False),
    (0x19, 0x0F, "Milan", True), (0x19, 0x10, "Genoa", True), (0x19, 0x1F, "Genoa", True),
    (0x19, 0x20, None, None), (0x19, 0x9F, None, None), (0x19, 0xB0, None, None),
    (0x1A, 0x00, "Turin", True), (0x1A, 0x1F, "Turin", True), (0x1A, 0x20, None, None),
    (0x18, 0x00, None, False),
    (None, 0x01, None, None), (0x19, None, None, None),
])
def test_generation_boundaries(family, model, generation, snp):
    assert cpu_generation("AuthenticAMD", family, model) == (generation, snp)


def test_firmware_file_needs_family_and_model():
    assert sev_firmware_file(None, 1) is None
    assert sev_firmware_file(0x19, None) is None


def test_loaded_modules():
    assert loaded_modules(None) is None
    assert loaded_modules("") == set()
    assert loaded_modules("kvm_amd 200704 0 - Live 0x0\n\nmsr 12288 0 - Live 0x0\n") == {"kvm_amd", "msr"}


def test_modules_load_lists_without_files():
    assert modules_load_lists(None) == {}
    assert modules_load_lists({"/etc/modules-load.d/msr.conf": None}) == {}


def _log_iommu(line):
    return parse_kernel_log("[    1.204411] %s\n" % line)


@pytest.mark.parametrize("types, tokens, log_line, mode", [
    # sysfs decides whenever a group says translated or identity
    (["DMA-FQ"], [], None, "translated"),
    (["DMA"], ["iommu=pt"], None, "translated"),
    (["identity", "DMA"], [], None, "translated"),
    (["identity"], ["iommu=nopt"], None, "passthrough"),
    # groups that say neither (vfio-bound groups are 'unmanaged') leave it to the command line
    (["unmanaged"], ["iommu=nopt"], None, "translated"),
    (["unmanaged"], [], None, "unknown"),
    # then the command line, then the log
    (None, ["iommu=nopt"], "iommu: Default domain type: Passthrough", "translated"),
    (None, [], "iommu: Default domain type: Passthrough", "passthrough"),
    (None, [], "iommu: Default domain type: Translated (set via kernel command line)", "translated"),
    (None, [], "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.",
     "passthrough"),
    (None, [], "iommu: Default domain type: Blocked", "unknown"),
    (None, [], "kvm_amd: SEV enabled (ASIDs 100 - 509)", "unknown"),
])
def test_iommu_mode_sources_in_order(types, tokens, log_line, mode):
    assert iommu_mode(types, tokens, _log_iommu(log_line) if log_line else None) == mode


def test_iommu_mode_snp_refusal_beats_the_default_domain_line():
    log = parse_kernel_log("[ 1.2] iommu: Default domain type: Translated\n"
                           "[ 1.3] AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, "
                           "SNP cannot be supported.\n")
    assert iommu_mode(None, [], log) == "passthrough"


@pytest.mark.parametrize("tokens, mode", [
    (["iommu"], "unknown"),
    (["iommu=pt", "iommu.passthrough"], "passthrough"),
    (["iommu=pt", "iommu.passthrough=maybe"], "passthrough"),
    (["iommu=nopt", "amd_iommu"], "translated"),
])
def test_iommu_options_without_a_usable_value_change_nothing(tokens, mode):
    assert iommu_mode(None, tokens, None) == mode


# ------------------------------------------------------------------ build_facts: what it reports


def test_facts_record_what_was_read():
    facts = build_facts(snapshot())
    assert facts["cpu"]["firmware_file"] == "amd_sev_fam19h_model0xh.sbin"
    assert facts["cmdline"]["running"] == READY["cmdline_running"]
    assert facts["cmdline"]["configured"] == READY["cmdline_configured"]
    assert facts["kernel_log"]["complete"] is True
    assert facts["psp"]["present"] is True
    assert facts["container"] == {"detected": None, "type": None}
    intel = build_facts(snapshot(cpuinfo=cpu_block(**INTEL)))
    assert intel["cpu"]["firmware_file"] is None


@pytest.mark.parametrize("log, dev_sev, present", [
    (READY_LOG, None, True),
    (BOOT_LINE, True, True),
    (BOOT_LINE, None, False),
    (BOOT_LINE, False, False),
])
def test_psp_present_from_log_or_dev_sev(log, dev_sev, present):
    assert build_facts(snapshot(kernel_log=log, dev_sev=dev_sev))["psp"]["present"] is present


@pytest.mark.parametrize("evidence, container", [
    (None, {"detected": None, "type": None}),
    ({}, {"detected": False, "type": None}),
    ({"systemd_container": "podman\n"}, {"detected": True, "type": "podman"}),
])
def test_container_fact(evidence, container):
    assert build_facts(snapshot(container_evidence=evidence))["container"] == container


@pytest.mark.parametrize("changes, loaded", [
    ({"sys_module_kvm_amd": None}, True),
    ({"proc_modules": None}, True),
    ({"proc_modules": None, "sys_module_kvm_amd": False}, False),
    ({"sys_module_kvm_amd": False}, True),  # /proc/modules lists it: loaded
    ({"proc_modules": None, "sys_module_kvm_amd": None}, None),
    ({"proc_modules": "msr 1 0 - Live 0x0\n", "sys_module_kvm_amd": None}, False),
])
def test_kvm_loaded_from_proc_modules_and_sysfs(changes, loaded):
    assert build_facts(snapshot(**changes))["kvm"]["loaded"] is loaded


@pytest.mark.parametrize("changes, msr", [
    ({"sys_module_msr": None, "dev_cpu_msr": None}, {"loaded": True, "persistent": True}),
    ({"proc_modules": "kvm_amd 1 0 - Live 0x0\n", "sys_module_msr": None, "dev_cpu_msr": None},
     {"loaded": False, "persistent": True}),
    ({"proc_modules": "kvm_amd 1 0 - Live 0x0\n", "sys_module_msr": True, "dev_cpu_msr": None},
     {"loaded": True, "persistent": True}),
    ({"proc_modules": "kvm_amd 1 0 - Live 0x0\n", "sys_module_msr": None, "dev_cpu_msr": True},
     {"loaded": True, "persistent": True}),
    ({"proc_modules": None, "sys_module_msr": True, "dev_cpu_msr": False}, {"loaded": True, "persistent": True}),
    ({"proc_modules": None, "sys_module_msr": None, "dev_cpu_msr": None}, {"loaded": None, "persistent": True}),
    ({"modules_load_files": None}, {"loaded": True, "persistent": None}),
    ({"modules_load_files": {"/etc/modules-load.d/kvm.conf": "# msr\nkvm_amd\n"}},
     {"loaded": True, "persistent": False}),
])
def test_msr_state_from_proc_modules_sysfs_and_modules_load(changes, msr):
    assert build_facts(snapshot(**changes))["msr"] == msr


@pytest.mark.parametrize("changes, complete", [
    ({}, True),
    ({"kernel_log_incomplete": "journalctl stopped after 100000 lines"}, False),
    ({"kernel_log": None}, False),
    ({"kernel_log": None, "kernel_log_incomplete": "dmesg was cut short"}, False),
])
def test_kernel_log_complete(changes, complete):
    assert build_facts(snapshot(**changes))["kernel_log"]["complete"] is complete


def test_pre_parsed_kernel_log_counts_as_a_log():
    facts = build_facts(snapshot(kernel_log=None, kernel_log_parsed=parse_kernel_log(READY_LOG)))
    assert verdict(facts) == ([], True)
    assert facts["firmware"]["snp_api"] == "1.55"
    assert facts["kernel_log"]["source"] == "dmesg"


# ------------------------------------------------------------------ build_facts: problems per check

DECISIONS = [
    # --- the CPU
    ("no cpuinfo: nothing said about the CPU", {"cpuinfo": None}, [], True),
    ("AMD without a model name counts as EPYC", {"cpuinfo": cpu_block(name=None)}, [], True),
    ("Threadripper PRO (Milan silicon) is not EPYC", {"cpuinfo": cpu_block(**THREADRIPPER)},
     err("not_amd_epyc"), False),
    ("EPYC of a family-17h model outside the table", {"cpuinfo": cpu_block(family=23, model=0x20)},
     err("cpu_generation_unsupported"), False),
    ("Hygon without a family line", {"cpuinfo": cpu_block(vendor="HygonGenuine", family=None, model=None,
                                                          name="Hygon C86 7285 32-core Processor")},
     err("not_amd_epyc"), False),
    # --- memory encryption off in the BIOS
    ("kernel says memory encryption is off", {"kernel_log": READY_LOG + "[    0.1] SEV: memory encryption not "
                                                                        "enabled by BIOS\n"},
     err("memory_encryption_disabled_by_bios"), False),
    ("no sme, no sev flag on bare-metal Milan", {"cpuinfo": cpu_block(flags="fpu svm")},
     err("memory_encryption_disabled_by_bios"), False),
    ("no flags, no model name", {"cpuinfo": cpu_block(name=None, flags="fpu svm")},
     err("memory_encryption_disabled_by_bios"), False),
    ("sev flag without sme", {"cpuinfo": cpu_block(flags="fpu svm sev sev_es sev_snp")}, [], True),
    ("sme flag without sev", {"cpuinfo": cpu_block(flags="fpu svm sme")}, [], True),
    ("no sme/sev in a guest", {"cpuinfo": cpu_block(flags="fpu svm hypervisor")}, [], True),
    ("no sme/sev on Threadripper", {"cpuinfo": cpu_block(flags="fpu svm", **THREADRIPPER)},
     err("not_amd_epyc"), False),
    ("no sme/sev on Rome", {"cpuinfo": cpu_block(flags="fpu svm", **ROME)},
     err("cpu_generation_unsupported"), False),
    # --- the RMP table
    ("RMP not reserved", {"kernel_log": log_with((RMP_LINE, "[    0.000000] SEV-SNP: Memory for the RMP table "
                                                            "has not been reserved by BIOS\n"))},
     err("rmp_table_missing"), False),
    ("RMP too small", {"kernel_log": log_with((RMP_LINE, "[    0.000000] SEV-SNP: Memory reserved for the RMP "
                                                         "table does not cover full system RAM\n"))},
     err("rmp_table_missing"), False),
    ("RMP invalid", {"kernel_log": log_with((RMP_LINE, "[    0.000000] SEV-SNP: RMP configuration not valid\n"))},
     err("rmp_table_missing"), False),
    # --- the IOMMU
    ("sysfs: identity domains", {"iommu_group_types": ["identity", "identity"]}, err("iommu_passthrough"), False),
    ("sysfs: no IOMMU group at all", {"iommu_group_types": []}, err("iommu_passthrough"), False),
    ("sysfs: unknown, nothing else says", {"iommu_group_types": None, "cmdline_running": ["quiet"],
                                           "cmdline_configured": None}, [], True),
    ("identity domains in a guest", {"iommu_group_types": ["identity"],
                                     "cpuinfo": cpu_block(flags=EPYC_FLAGS + " hypervisor")}, [], True),
    ("identity domains on Rome", {"iommu_group_types": ["identity"], "cpuinfo": cpu_block(**ROME)},
     err("cpu_generation_unsupported"), False),
    ("identity domains on Intel", {"iommu_group_types": ["identity"], "cpuinfo": cpu_block(**INTEL)},
     err("not_amd_epyc"), False),
    ("identity domains on an EPYC the table does not know", {"iommu_group_types": ["identity"],
                                                             "cpuinfo": cpu_block(**EPYC_4004)},
     err("iommu_passthrough"), False),
    ("AMD-Vi refuses SNP, even seen from a guest", {
        "cpuinfo": cpu_block(flags=EPYC_FLAGS + " hypervisor"),
        "kernel_log": READY_LOG + "[ 1.3] AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP "
                                  "cannot be supported.\n"},
     err("iommu_passthrough"), False),
    ("AMD-Vi: no SNP feature", {"kernel_log": READY_LOG + "[ 1.3] AMD-Vi: SNP: IOMMU SNP feature not enabled, "
                                                          "SNP cannot be supported.\n"},
     err("iommu_snp_unsupported"), False),
    ("AMD-Vi: v2 page table", {"kernel_log": READY_LOG + "[ 1.3] AMD-Vi: SNP: IOMMU is configured with V2 page "
                                                         "table mode, SNP cannot be supported.\n"},
     err("iommu_snp_unsupported"), False),
    # --- the PSP
    ("broken BIOS", {"kernel_log": READY_LOG + "[ 2899.2] ccp 0000:46:00.1: psp: unable to access the device: "
                                               "you might be running a broken BIOS.\n"},
     err("psp_unavailable"), False),
    ("PLATFORM_STATUS fails", {"kernel_log": READY_LOG + "[ 8.1] ccp 0000:46:00.1: SEV: failed to get status. "
                                                         "Error: 0x9000\n"},
     err("psp_unavailable"), False),
    ("the only PSP offers no SEV", {"kernel_log": BOOT_LINE + "[ 399.2] ccp 0000:a2:00.1: psp does not support "
                                                              "SEV\n"},
     err("psp_unavailable"), False),
    ("a second PSP offers no SEV, the first does", {"kernel_log": READY_LOG + "[ 399.2] ccp 0000:a2:00.1: psp "
                                                                              "does not support SEV\n"}, [], True),
    ("PSP timeout after SNP came up", {"kernel_log": READY_LOG + "[ 105.1] ccp 0000:46:00.1: sev command 0x1 timed "
                                                                 "out, disabling PSP\n"},
     err("psp_unavailable"), False),
    ("PSP timeout before SNP on Rome", {
        "cpuinfo": cpu_block(**ROME),
        "kernel_log": log_with((SNP_API_LINE, "[ 105.1] ccp 0000:46:00.1: sev command 0x81 timed out, "
                                              "disabling PSP\n"))},
     err("cpu_generation_unsupported", "psp_unavailable"), False),
    ("PSP timeout before SNP on Intel", {
        "cpuinfo": cpu_block(**INTEL),
        "kernel_log": log_with((SNP_API_LINE, "[ 105.1] ccp 0000:46:00.1: sev command 0x81 timed out, "
                                              "disabling PSP\n"))},
     err("not_amd_epyc", "psp_unavailable"), False),
    ("PSP timeout before SNP, CPU unknown", {
        "cpuinfo": None,
        "kernel_log": log_with((SNP_API_LINE, "[ 105.1] ccp 0000:46:00.1: sev command 0x81 timed out, "
                                              "disabling PSP\n"))},
     err("psp_unavailable", "snp_init_failed"), False),
    ("no /dev/sev", {"dev_sev": False}, err("psp_unavailable"), False),
    ("/dev/sev unknown", {"dev_sev": None}, [], True),
    ("no /dev/sev, kvm_amd not loaded", dict(NOT_LOADED, dev_sev=False), err("kvm_amd_not_loaded"), False),
    ("no /dev/sev on Threadripper", {"dev_sev": False, "cpuinfo": cpu_block(**THREADRIPPER)},
     err("not_amd_epyc"), False),
    ("no /dev/sev in a guest", {"dev_sev": False, "cpuinfo": cpu_block(flags=EPYC_FLAGS + " hypervisor")}, [], True),
    ("no /dev/sev on Rome", {"dev_sev": False, "cpuinfo": cpu_block(**ROME)},
     err("cpu_generation_unsupported"), False),
    ("no /dev/sev on an EPYC the table does not know", {"dev_sev": False, "cpuinfo": cpu_block(**EPYC_4004)},
     [], True),
    ("no /dev/sev, CPU without sev", {"dev_sev": False, "cpuinfo": cpu_block(flags="fpu svm sme")}, [], True),
    # --- firmware versions
    ("SNP API 1.50", {"kernel_log": log_with(("SEV API:1.55", "SEV API:1.49"), ("SEV-SNP API:1.55", "SEV-SNP API:1.50"))},
     err("snp_firmware_too_old"), False),
    ("SNP API 1.51 exactly", {"kernel_log": log_with(("SEV API:1.55", "SEV API:1.51"),
                                                     ("SEV-SNP API:1.55", "SEV-SNP API:1.51"))}, [], True),
    ("old SEV API, SNP API fine", {"kernel_log": log_with(("SEV API:1.55", "SEV API:1.49"))}, [], True),
    ("only the SNP API line", {"kernel_log": log_with(("[    5.270264] ccp 0000:46:00.1: SEV API:1.55 build:21\n", ""))},
     [], True),
    ("kernel says the firmware is too old", {
        "kernel_log": BOOT_LINE + "[ 8.3] ccp 0000:23:00.1: sev enabled\n"
                                  "[ 8.4] ccp 0000:23:00.1: SEV-SNP support requires firmware version >= 1:51\n"},
     err("snp_firmware_too_old"), False),
    # --- INIT
    ("SNP_INIT_EX fails", {"kernel_log": log_with((SNP_API_LINE, "[ 5.27] ccp 0000:46:00.1: SEV-SNP: SNP_INIT_EX "
                                                                 "failed rc -5, error 0x3\n"))},
     err("snp_init_failed"), False),
    ("SEV INIT fails, SNP runs", {"kernel_log": READY_LOG + "[ 5.28] ccp 0000:46:00.1: SEV: failed to INIT error "
                                                            "0x13, rc -5\n"},
     warn("sev_init_failed"), True),
    ("SEV INIT fails, no SNP", {"kernel_log": log_with((SNP_API_LINE, "[ 5.28] ccp 0000:46:00.1: SEV: failed to "
                                                                      "INIT error 0x13, rc -5\n"))},
     err("sev_init_failed"), False),
    # --- kvm_amd
    ("kvm_amd loaded, parameters not read", {"kvm_amd_parameters": None}, [], True),
    ("kvm_amd loaded, no sev_snp entry read", {"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"}}, [], True),
    ("kvm_amd loaded, no parameter files at all", {"kvm_amd_parameters": {"sev": None, "sev_es": None,
                                                                          "sev_snp": None}}, [], True),
    ("kvm_amd state unknown, sev_snp missing", {"proc_modules": None, "sys_module_kvm_amd": None,
                                                "kvm_amd_parameters": {"sev": "Y", "sev_es": "Y", "sev_snp": None}},
     [], True),
    ("kvm_amd not loaded, CPU unknown", dict(NOT_LOADED, cpuinfo=None), err("kvm_amd_not_loaded"), False),
    ("kvm_amd not loaded per sysfs only", {"proc_modules": None, "sys_module_kvm_amd": False,
                                           "kvm_amd_parameters": {"sev": None, "sev_es": None, "sev_snp": None}},
     err("kvm_amd_not_loaded"), False),
    ("kvm_amd reports SNP disabled", {"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"},
                                      "kernel_log": log_with(("SEV-SNP enabled", "SEV-SNP disabled"))},
     err("kvm_snp_disabled"), False),
    ("kvm_amd reports SNP disabled, SEV-ES line missing", {
        "kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"},
        "kernel_log": log_with(("SEV-SNP enabled", "SEV-SNP disabled"),
                               ("[    5.283041] kvm_amd: SEV-ES enabled (ASIDs 1 - 99)\n", ""))}, [], True),
    ("kvm_amd reports SNP unusable (no ASIDs)", {
        "kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"},
        "kernel_log": log_with(("kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)", "kvm_amd: SEV-SNP supported: 0 ASIDs"))},
     err("kvm_snp_disabled", "sev_es_asids_unavailable"), False),
    ("no SEV-ES and no SNP ASIDs", {
        "kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"},
        "kernel_log": log_with(("SEV-ES enabled (ASIDs 1 - 99)", "SEV-ES disabled (ASIDs 0 - 0)"),
                               ("SEV-SNP enabled (ASIDs 1 - 99)", "SEV-SNP disabled (ASIDs 0 - 0)"))},
     err("sev_es_asids_unavailable"), False),
    ("a single SEV-ES ASID is enough", {
        "kernel_log": log_with(("SEV-ES enabled (ASIDs 1 - 99)", "SEV-ES enabled (ASIDs 1 - 1)"),
                               ("SEV-SNP enabled (ASIDs 1 - 99)", "SEV-SNP enabled (ASIDs 1 - 1)"))}, [], True),
    # --- msr
    ("msr not loaded", {"proc_modules": "kvm_amd 1 0 - Live 0x0\n", "sys_module_msr": None, "dev_cpu_msr": None},
     warn("msr_module_not_loaded"), True),
    ("msr not loaded, CPU unknown", {"cpuinfo": None, "proc_modules": "kvm_amd 1 0 - Live 0x0\n",
                                     "sys_module_msr": None, "dev_cpu_msr": None, "modules_load_files": {}},
     warn("msr_module_not_loaded", "msr_module_not_persistent"), True),
    ("msr missing on Intel", {"cpuinfo": cpu_block(**INTEL), "proc_modules": "kvm_intel 1 0 - Live 0x0\n",
                              "sys_module_msr": False, "dev_cpu_msr": False, "modules_load_files": {}},
     err("not_amd_epyc"), False),
    # --- boot configuration
    ("grub unreadable", {"cmdline_configured": None,
                         "cmdline_configured_error": "/etc/default/grub cannot be parsed (unterminated quote)"},
     warn("iommu_nopt_not_configured"), True),
    ("grub not read, no error", {"cmdline_configured": None, "cmdline_configured_error": None}, [], True),
    ("grub has iommu=pt instead", {"cmdline_configured": ["iommu=pt"]}, warn("iommu_nopt_not_configured"), True),
    ("grub has iommu=nopt and iommu=pt", {"cmdline_configured": ["iommu=nopt", "iommu=pt"]},
     warn("iommu_nopt_not_configured"), True),
    ("grub lacks iommu=nopt, CPU unknown", {"cpuinfo": None, "cmdline_configured": ["quiet"]},
     warn("iommu_nopt_not_configured"), True),
    ("grub lacks iommu=nopt on Intel", {"cpuinfo": cpu_block(**INTEL), "cmdline_configured": ["quiet"]},
     err("not_amd_epyc"), False),
    ("grub lacks iommu=nopt on Rome", {"cpuinfo": cpu_block(**ROME), "cmdline_configured": ["quiet"]},
     err("cpu_generation_unsupported"), False),
    # --- unreadable files
    ("sev_snp parameter unreadable", {"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y", "sev_snp": None},
                                      "unreadable": ["sys/module/kvm_amd/parameters/sev_snp"]},
     warn("host_files_unreadable"), True),
    # --- the kernel log
    ("log read only in part", {"kernel_log_incomplete": "journalctl stopped after 100000 lines"},
     err("kernel_log_incomplete"), False),
    ("no log, yet a reason it is incomplete", {"kernel_log": None, "kernel_log_incomplete": "dmesg was cut short"},
     warn("kernel_log_unavailable"), True),
    ("log without boot but with the SNP line", {"kernel_log": SNP_API_LINE}, [], True),
    ("log from boot without SEV lines", {"kernel_log": BOOT_LINE}, [], True),
    ("rotated log, CPU unknown", {"cpuinfo": None, "kernel_log": ROTATED_LOG}, warn("kernel_log_unavailable"), True),
    ("rotated log on Rome", {"cpuinfo": cpu_block(**ROME), "kernel_log": ROTATED_LOG},
     err("cpu_generation_unsupported"), False),
    ("rotated log on Intel", {"cpuinfo": cpu_block(**INTEL), "kernel_log": ROTATED_LOG}, err("not_amd_epyc"), False),
]


@pytest.mark.parametrize("changes, problems, ready", [case[1:] for case in DECISIONS],
                         ids=[case[0] for case in DECISIONS])
def test_decision(changes, problems, ready):
    assert verdict(build_facts(snapshot(**changes))) == (problems, ready)


# RMP table missing, told by the CPU flags: every condition on its own.
RMP_OFF = {
    "cpuinfo": cpu_block(flags=MILAN_NO_SNP_FLAG),
    "kernel_log": log_with((RMP_LINE, ""), (SNP_API_LINE, ""),
                           ("[    5.283042] kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)\n", "")),
    "kvm_amd_parameters": {"sev": "Y", "sev_es": "Y", "sev_snp": "N"},
}


@pytest.mark.parametrize("changes, problems", [
    ({}, ["rmp_table_missing", "kvm_snp_disabled"]),
    ({"cpuinfo": cpu_block(flags=MILAN_NO_SNP_FLAG, **THREADRIPPER)}, ["not_amd_epyc", "kvm_snp_disabled"]),
    ({"cpuinfo": cpu_block(flags=MILAN_NO_SNP_FLAG + " hypervisor")}, ["kvm_snp_disabled"]),
    ({"cpuinfo": cpu_block(flags=MILAN_NO_SNP_FLAG, **ROME)}, ["cpu_generation_unsupported", "kvm_snp_disabled"]),
    ({"cpuinfo": cpu_block(flags="fpu svm sme")}, ["kvm_snp_disabled"]),
    ({"cpuinfo": cpu_block(flags=MILAN_NO_SNP_FLAG + " sev_snp")}, ["kvm_snp_disabled"]),
    (NOT_LOADED, ["kvm_amd_not_loaded"]),
    # kvm_amd state unknown (no /proc/modules, no /sys/module view): the flags alone do not decide
    ({"proc_modules": None, "sys_module_kvm_amd": None}, []),
    ({"kvm_amd_parameters": None}, []),
    ({"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y", "sev_snp": None}}, ["kvm_snp_disabled"]),
    ({"kernel_log": RMP_OFF["kernel_log"].replace(BOOT_LINE, "")}, ["kvm_snp_disabled"]),
    ({"kernel_log": RMP_OFF["kernel_log"] + RMP_LINE}, ["kvm_snp_disabled"]),
])
def test_rmp_missing_told_by_flags(changes, problems):
    facts = build_facts(snapshot(**dict(RMP_OFF, **changes)))
    assert ids(facts) == problems
    assert facts["ready"] is False


# ------------------------------------------------------------------ messages that carry the decision


def message(changes, problem_id):
    return problem(build_facts(snapshot(**changes)), problem_id)["message"]


def test_cpu_messages_name_what_was_found():
    assert message({"cpuinfo": cpu_block(**INTEL)}, "not_amd_epyc").startswith("CPU vendor is GenuineIntel;")
    assert "family unknown" in message({"cpuinfo": cpu_block(vendor="HygonGenuine", family=None, model=None)},
                                       "not_amd_epyc")
    assert message({"cpuinfo": cpu_block(family=23, model=0x20)}, "cpu_generation_unsupported").startswith(
        "family 17h model 20h predates")


@pytest.mark.parametrize("line, words", [
    ("Memory for the RMP table has not been reserved by BIOS", "has not been reserved"),
    ("Memory reserved for the RMP table does not cover full system RAM", "does not cover full system RAM"),
    ("RMP configuration not valid", "could not use the RMP table"),
])
def test_rmp_messages_say_what_the_kernel_said(line, words):
    log = log_with((RMP_LINE, "[    0.000000] SEV-SNP: %s\n" % line))
    assert words in message({"kernel_log": log}, "rmp_table_missing")


@pytest.mark.parametrize("changes, words", [
    ({"iommu_group_types": ["identity"]}, "runs in passthrough mode"),
    ({"iommu_group_types": []}, "runs in disabled mode"),
    ({"kernel_log": READY_LOG + "[ 1.3] AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot "
                                "be supported.\n"}, "AMD-Vi reports"),
])
def test_iommu_passthrough_message_names_the_mode(changes, words):
    assert words in message(changes, "iommu_passthrough")


@pytest.mark.parametrize("line, words", [
    ("AMD-Vi: SNP: IOMMU SNP feature not enabled, SNP cannot be supported.", "SNP feature not enabled"),
    ("AMD-Vi: SNP: IOMMU is configured with V2 page table mode, SNP cannot be supported.", "v2 page table"),
])
def test_iommu_snp_unsupported_message_names_the_cause(line, words):
    assert words in message({"kernel_log": READY_LOG + "[ 1.3] %s\n" % line}, "iommu_snp_unsupported")


@pytest.mark.parametrize("changes, present, absent", [
    ({"kernel_log": READY_LOG + "[ 8.1] ccp 0000:46:00.1: SEV: failed to get status. Error: 0x9000\n"},
     "PLATFORM_STATUS (error 0x9000).", "/dev/sev"),
    ({"kernel_log": READY_LOG + "[ 8.1] ccp 0000:46:00.1: SEV: failed to get status. Error: 0x1\n"},
     "PLATFORM_STATUS (error 0x1 (INVALID_PLATFORM_STATE))", "/dev/sev"),
    ({"kernel_log": READY_LOG + "[ 105.1] ccp 0000:46:00.1: sev command 0x1 timed out, disabling PSP\n",
      "dev_sev": False}, "PSP command (0x1) timed out", "/dev/sev"),
    ({"kernel_log": BOOT_LINE + "[ 399.2] ccp 0000:a2:00.1: psp does not support SEV\n"},
     "no PSP offers SEV (0000:a2:00.1)", "/dev/sev"),
    ({"dev_sev": False}, "/dev/sev does not exist", "timed out"),
])
def test_psp_message_lists_the_reasons(changes, present, absent):
    text = message(changes, "psp_unavailable")
    assert present in text and absent not in text


@pytest.mark.parametrize("log, version", [
    (log_with(("SEV API:1.55", "SEV API:1.49"), ("SEV-SNP API:1.55", "SEV-SNP API:1.50")), "1.50"),
    (BOOT_LINE + "[ 8.4] ccp 0000:23:00.1: SEV-SNP support requires firmware version >= 1:51\n", "below 1.51"),
    (BOOT_LINE + "[ 8.3] ccp 0000:23:00.1: SEV API:1.49 build:3\n"
                 "[ 8.4] ccp 0000:23:00.1: SEV-SNP support requires firmware version >= 1:51\n", "1.49"),
])
def test_firmware_too_old_message_names_the_version(log, version):
    assert message({"kernel_log": log}, "snp_firmware_too_old").startswith("SEV firmware %s is older" % version)


@pytest.mark.parametrize("cpu, words", [
    (cpu_block(family=25, model=0x11, name="AMD EPYC 9654 96-Core Processor"),
     "/lib/firmware/amd/amd_sev_fam19h_model1xh.sbin and reboot"),
    (cpu_block(family=None, model=None), "amd_sev_fam19h_model0xh.sbin (Milan; model1xh for Genoa"),
])
def test_firmware_fix_names_the_file_for_this_cpu(cpu, words):
    log = BOOT_LINE + "[ 8.4] ccp 0000:23:00.1: SEV-SNP support requires firmware version >= 1:51\n"
    assert words in problem(build_facts(snapshot(cpuinfo=cpu, kernel_log=log)), "snp_firmware_too_old")["fix"]


@pytest.mark.parametrize("line, detail", [
    ("SEV-SNP: SNP_INIT_EX failed rc -5, error 0x3", "(SNP_INIT) failed: SNP_INIT_EX, error 0x3 (INVALID_CONFIG)."),
    ("SEV-SNP: failed to INIT rc -5, error 0x3", "(SNP_INIT) failed: error 0x3 (INVALID_CONFIG)."),
    ("SEV-SNP: failed to INIT error 0x8001", "(SNP_INIT) failed: error 0x8001."),
    ("SEV-SNP: failed to INIT, continue SEV INIT", "(SNP_INIT) failed: an unreported error."),
])
def test_snp_init_message_carries_the_code(line, detail):
    log = log_with((SNP_API_LINE, "[ 5.27] ccp 0000:46:00.1: %s\n" % line))
    assert detail in message({"kernel_log": log}, "snp_init_failed")


def test_sev_init_fix_names_the_firmware_file():
    log = READY_LOG + "[ 5.28] ccp 0000:46:00.1: SEV: failed to INIT error 0x13, rc -5\n"
    found = problem(build_facts(snapshot(kernel_log=log)), "sev_init_failed")
    assert "error 0x13 (HWSEV_RET_PLATFORM); SEV-SNP itself is initialized" in found["message"]
    assert "(amd_sev_fam19h_model0xh.sbin)" in found["fix"]
    unknown = problem(build_facts(snapshot(kernel_log=log, cpuinfo=None)), "sev_init_failed")
    assert "(/lib/firmware/amd/amd_sev_*.sbin)" in unknown["fix"]


def test_kvm_messages_say_which_evidence():
    assert "no sev_snp parameter" in message(
        {"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y", "sev_snp": None}}, "kvm_snp_disabled")
    assert "reports SEV-SNP disabled" in message(
        {"kvm_amd_parameters": {"sev": "Y", "sev_es": "Y"},
         "kernel_log": log_with(("SEV-SNP enabled", "SEV-SNP disabled"))}, "kvm_snp_disabled")


@pytest.mark.parametrize("replacements, listed", [
    ((("SEV-ES enabled (ASIDs 1 - 99)", "SEV-ES disabled (ASIDs 0 - 0)"),
      ("SEV-SNP enabled (ASIDs 1 - 99)", "SEV-SNP disabled (ASIDs 0 - 0)")),
     "SEV-ES disabled (ASIDs 0 - 0); SEV-SNP disabled (ASIDs 0 - 0)."),
    ((("kvm_amd: SEV-ES enabled (ASIDs 1 - 99)", "kvm_amd: SEV-ES and SEV-SNP supported: 0 ASIDs"),
      ("[    5.283042] kvm_amd: SEV-SNP enabled (ASIDs 1 - 99)\n", "")),
     "SEV-ES: 0 ASIDs; SEV-SNP: 0 ASIDs."),
])
def test_asid_message_lists_the_empty_ranges(replacements, listed):
    assert message({"kernel_log": log_with(*replacements)}, "sev_es_asids_unavailable").endswith(listed)


@pytest.mark.parametrize("configured, lacks, has, fix", [
    (["iommu=pt"], True, True, ": add iommu=nopt and remove iommu=pt (also inside a comma list) (from"),
    (["iommu=pt", "iommu=nopt"], False, True, ": remove iommu=pt (also inside a comma list) (from"),
    (["quiet"], True, False, ": add iommu=nopt, then"),
])
def test_boot_configuration_message_says_what_to_add_and_remove(configured, lacks, has, fix):
    found = problem(build_facts(snapshot(cmdline_configured=configured)), "iommu_nopt_not_configured")
    assert ("lacks iommu=nopt" in found["message"]) is lacks
    assert ("has iommu=pt (also inside a comma list)" in found["message"]) is has
    assert fix in found["fix"]


def test_boot_configuration_error_is_quoted():
    text = message({"cmdline_configured": None, "cmdline_configured_error": "/etc/default/grub: unterminated quote"},
                   "iommu_nopt_not_configured")
    assert text == "The boot configuration cannot be checked: /etc/default/grub: unterminated quote."


def test_unreadable_files_are_listed_as_absolute_paths():
    text = message({"unreadable": ["sys/module/kvm_amd/parameters/sev_snp", "proc/modules"]},
                   "host_files_unreadable")
    assert "unknown: /proc/modules, /sys/module/kvm_amd/parameters/sev_snp." in text


@pytest.mark.parametrize("changes, start", [
    ({"kernel_log": None, "kernel_log_error": None}, "No kernel log could be read, so"),
    ({"kernel_log": ROTATED_LOG, "kernel_log_source": "journal"},
     "The kernel log (journal) has no ccp/SEV lines"),
    ({"kernel_log": ROTATED_LOG, "kernel_log_source": None},
     "The kernel log (unknown source) has no ccp/SEV lines"),
])
def test_kernel_log_unavailable_message(changes, start):
    assert message(changes, "kernel_log_unavailable").startswith(start)


# ------------------------------------------------------------------ decide()

GENOA_CPU = {"vendor": "AuthenticAMD", "family": 25, "model": 17}


def confirmed_facts(snp_api="1.55", snp_build=21, **extra):
    facts = {"problems": [], "kvm": {"sev_snp": None},
             "firmware": {"snp_api": snp_api, "snp_build": snp_build},
             "psp": {"snp_initialized": True}, "cpu": dict(GENOA_CPU)}
    facts.update(extra)
    return facts


def blocking_ids(result):
    return [p["id"] for p in result["blocking"]]


@pytest.mark.parametrize("facts, ready", [
    ({}, False),
    ({"kvm": {"sev_snp": True}}, True),
    ({"kvm": {"sev_snp": False}, "firmware": {"snp_api": "1.55"}, "psp": {"snp_initialized": True}}, True),
    ({"firmware": {"snp_api": "1.55"}, "psp": {"snp_initialized": False}}, False),
    ({"firmware": {"snp_api": None}, "psp": {"snp_initialized": True}}, False),
    ({"firmware": {"snp_api": "1.55"}}, False),
    ({"psp": {"snp_initialized": True}}, False),
    ({"kvm": None, "firmware": None, "psp": None, "problems": None}, False),
])
def test_decide_needs_positive_snp_evidence(facts, ready):
    result = decide(facts)
    assert result["ready"] is ready
    assert blocking_ids(result) == ([] if ready else ["snp_not_confirmed"])


def test_decide_blocks_on_errors_only():
    warning = {"id": "msr_module_not_loaded", "severity": "warning", "message": "m", "fix": "f"}
    error = {"id": "reboot_pending", "severity": "error", "message": "m", "fix": "f"}
    assert decide(confirmed_facts(problems=[warning])) == {"ready": True, "blocking": [], "ignored": []}
    result = decide(confirmed_facts(problems=[warning, error]))
    assert result == {"ready": False, "blocking": [error], "ignored": []}


def test_decide_ignores_what_the_operator_names():
    error = {"id": "reboot_pending", "severity": "error", "message": "m", "fix": "f"}
    result = decide(confirmed_facts(problems=[error]), ignore=("reboot_pending",))
    assert result == {"ready": True, "blocking": [], "ignored": ["reboot_pending"]}
    result = decide({"problems": [error]}, ignore=("snp_not_confirmed",))
    assert (result["ready"], blocking_ids(result), result["ignored"]) == (
        False, ["reboot_pending"], ["snp_not_confirmed"])


@pytest.mark.parametrize("snp_api, snp_build, min_api, min_build, below", [
    ("1.55", 21, None, None, False),
    ("1.55", 21, "1.55", None, False),
    ("1.55", None, "1.55", None, False),
    ("1.54", 30, "1.55", None, True),
    ("1.56", 1, "1.55", None, False),
    ("1.55", 21, "1.55", 21, False),
    ("1.55", 20, "1.55", 21, True),
    ("1.55", None, "1.55", 21, True),
    ("1.56", 5, "1.55", 21, False),
    ("1.54", 99, "1.55", 21, True),
    # A build minimum without an API minimum compares the build alone.
    ("1.55", 20, None, 21, True),
    ("1.55", 21, None, 21, False),
])
def test_operator_minimum(snp_api, snp_build, min_api, min_build, below):
    result = decide(confirmed_facts(snp_api, snp_build), min_api, min_build)
    assert blocking_ids(result) == (["snp_firmware_below_minimum"] if below else [])
    assert result["ready"] is not below


@pytest.mark.parametrize("min_api, min_build, message_text, fix_text", [
    ("1.55", 21, "SEV-SNP firmware 1.54 build 30 is older than the required 1.55 build 21.",
     "amd_sev_fam19h_model1xh.sbin and reboot (the ccp driver loads it at boot; coco.sev_snp.enable_host does "
     "both with -e sev_snp_host_firmware=package, or =file with sev_snp_host_firmware_src), or update the BIOS "
     "to a release with SEV-SNP firmware 1.55 build 21 or newer."),
    ("1.58", None, "SEV-SNP firmware 1.54 build 30 is older than the required 1.58.", "firmware 1.58 or newer."),
    (None, 31, "SEV-SNP firmware 1.54 build 30 is older than the required 1.51 build 31.",
     "firmware 1.51 build 31 or newer."),
])
def test_operator_minimum_message_names_the_minimum(min_api, min_build, message_text, fix_text):
    found = decide(confirmed_facts("1.54", 30), min_api, min_build)["blocking"][0]
    assert found["message"] == message_text
    assert found["fix"].endswith(fix_text)


def test_operator_minimum_without_firmware_facts():
    result = decide({"kvm": {"sev_snp": True}}, "1.55")
    assert blocking_ids(result) == ["snp_firmware_below_minimum"]


@pytest.mark.parametrize("cpu, fix_text", [
    (None, "SEV-SNP firmware exists only for AMD EPYC CPUs"),
    ({"vendor": "GenuineIntel", "family": 6, "model": 143}, "SEV-SNP firmware exists only for AMD EPYC CPUs"),
    ({"vendor": "AuthenticAMD", "family": None, "model": None}, "amd_sev_fam19h_model0xh.sbin (Milan; model1xh"),
])
def test_operator_minimum_without_a_version(cpu, fix_text):
    facts = {"kvm": {"sev_snp": True}, "firmware": {"snp_api": None, "snp_build": None}}
    if cpu is not None:
        facts["cpu"] = cpu
    result = decide(facts, "1.55", None)
    assert blocking_ids(result) == ["snp_firmware_below_minimum"]
    found = result["blocking"][0]
    assert found["message"] == "The host reports no SEV-SNP firmware version, so it cannot be shown to meet 1.55."
    assert fix_text in found["fix"]
