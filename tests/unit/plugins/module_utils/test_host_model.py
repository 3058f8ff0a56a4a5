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
    iommu_mode,
    modules_load_lists,
    parse_bool_param,
    parse_cpuinfo,
    reboot_required,
    sev_firmware_file,
)
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
    assert facts["firmware"] == {"sev_api": "1.55", "sev_build": 21, "snp_api": "1.55", "snp_build": 21}
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
    assert set(["running", "configured", "reboot_required"]) <= set(facts["cmdline"])


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
