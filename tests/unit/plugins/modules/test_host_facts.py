# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_facts run in-process against fake root trees."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coco.sev_snp.plugins.module_utils import live_kernel_log
from ansible_collections.coco.sev_snp.plugins.modules import host_facts
from module_exits import ExitJson, FailJson, patch_module_exits

ROOTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "roots")
LOGS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "logs")


@pytest.fixture
def run(monkeypatch):
    calls = []

    def run_command(self, args, **kwargs):
        calls.append(args)
        return fake_commands.get(os.path.basename(args[0]), (127, "", "not found"))

    fake_commands = {}
    patch_module_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)

    def _run(args, fails=False, commands=None, check_mode=False):
        fake_commands.clear()
        fake_commands.update(commands or {})
        del calls[:]
        if check_mode:
            args = dict(args, _ansible_check_mode=True)
        with patch_module_args(args):
            with pytest.raises(FailJson if fails else ExitJson) as raised:
                host_facts.main()
        return raised.value.args[0], list(calls)
    return _run


@pytest.fixture
def milan(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(os.path.join(ROOTS, "milan-ready"), str(root))
    return root


def test_ready_tree(run, milan):
    result, calls = run({"root": str(milan)})
    facts = result["ansible_facts"]["sev_snp"]
    assert result["changed"] is False
    assert facts["ready"] is True, facts["problems"]
    assert facts["problems"] == []
    assert facts["firmware"]["snp_api"] == "1.55" and facts["firmware"]["snp_build"] == 37
    assert facts["cpu"]["generation"] == "Milan"
    assert facts["cmdline"]["configured"] == ["splash=silent", "iommu=nopt", "mitigations=auto", "quiet"]
    assert "iommu=nopt" in facts["cmdline"]["running"]
    assert facts["kernel_log"]["source"] == "file"
    assert facts["psp"]["dev_sev"] is True
    # A fake root never reads the live host's log.
    assert calls == []


def test_check_mode_gives_the_same_facts(run, milan):
    normal = run({"root": str(milan)})[0]
    checked = run({"root": str(milan)}, check_mode=True)[0]
    assert checked["ansible_facts"] == normal["ansible_facts"]


@pytest.mark.parametrize("value, expected", [("1", True), ("y", True), ("0", False), ("n", False)])
def test_sysfs_values(run, milan, value, expected):
    (milan / "sys/module/kvm_amd/parameters/sev_snp").write_text(value + "\n")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["kvm"]["sev_snp"] is expected
    assert ("kvm_snp_disabled" in [p["id"] for p in facts["problems"]]) is (not expected)


def test_missing_sev_snp_parameter_means_kernel_without_support(run, milan):
    (milan / "sys/module/kvm_amd/parameters/sev_snp").unlink()
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["kvm"]["sev_snp"] is None
    assert [p["id"] for p in facts["problems"]] == ["kvm_snp_disabled"]


def test_hygon_tree(run, milan):
    (milan / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: HygonGenuine\ncpu family\t: 24\nmodel\t\t: 2\n"
        "model name\t: Hygon C86 3285  8-core Processor\nflags\t\t: fpu svm sme sev sev_es\n")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["problems"][0]["id"] == "not_amd_epyc"
    assert facts["ready"] is False


def test_module_state_from_proc_modules_and_sysfs(run, milan):
    (milan / "proc/modules").write_text("kvm 1 0 - Live 0x0\n")
    shutil.rmtree(str(milan / "sys/module/kvm_amd"))
    shutil.rmtree(str(milan / "sys/module/msr"))
    (milan / "etc/modules-load.d/msr.conf").unlink()
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["kvm"]["loaded"] is False
    assert facts["msr"] == {"loaded": False, "persistent": False}
    assert [p["id"] for p in facts["problems"]] == [
        "kvm_amd_not_loaded", "msr_module_not_loaded", "msr_module_not_persistent"]


def test_msr_persistence_from_usr_lib_and_masking(run, milan):
    (milan / "etc/modules-load.d/msr.conf").unlink()
    (milan / "usr/lib/modules-load.d").mkdir(parents=True)
    (milan / "usr/lib/modules-load.d/sev.conf").write_text("# for snphost\nmsr\n")
    assert run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["msr"]["persistent"] is True
    (milan / "etc/modules-load.d/sev.conf").write_text("")
    assert run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["msr"]["persistent"] is False


def test_iommu_identity_and_grub_change_pending(run, milan):
    for group in ("0", "1"):
        (milan / "sys/kernel/iommu_groups" / group / "type").write_text("identity\n")
    (milan / "proc/cmdline").write_text("BOOT_IMAGE=/boot/vmlinuz root=UUID=1 iommu=pt\n")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["iommu"]["mode"] == "passthrough"
    assert facts["cmdline"]["reboot_required"] is True
    ids = [p["id"] for p in facts["problems"]]
    assert ids[0] == "iommu_passthrough" and "reboot_pending" in ids


def test_broken_grub_file_is_a_problem_not_a_crash(run, milan):
    (milan / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX_DEFAULT="quiet\n')
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["cmdline"]["configured"] == []
    found = [p for p in facts["problems"] if p["id"] == "iommu_nopt_not_configured"]
    assert len(found) == 1 and "/etc/default/grub cannot be parsed" in found[0]["message"]
    assert "sev_snp_host_grub_file" in found[0]["fix"]


def test_missing_grub_file_is_reported_with_the_role_variable(run, milan):
    (milan / "etc/default/grub").unlink()
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    found = [p for p in facts["problems"] if p["id"] == "iommu_nopt_not_configured"]
    assert found and found[0]["message"] == ("The boot configuration cannot be checked: /etc/default/grub does "
                                             "not exist.")
    assert "sev_snp_host_grub_file" in found[0]["fix"]


def test_grub_file_option_reads_another_file(run, milan):
    (milan / "etc/default/grub").rename(milan / "etc/default/grub.sev")
    facts = run({"root": str(milan), "grub_file": "/etc/default/grub.sev"})[0]["ansible_facts"]["sev_snp"]
    assert "iommu=nopt" in facts["cmdline"]["configured"]
    assert "iommu_nopt_not_configured" not in [p["id"] for p in facts["problems"]]


def test_container_like_tree(run, tmp_path):
    root = tmp_path / "container"
    (root / "proc").mkdir(parents=True)
    (root / "proc/cpuinfo").write_text(open(os.path.join(ROOTS, "milan-ready/proc/cpuinfo")).read())
    (root / "etc").mkdir()
    facts = run({"root": str(root)})[0]["ansible_facts"]["sev_snp"]
    assert facts["kvm"]["loaded"] is None
    assert facts["kernel_log"]["source"] is None
    assert [p["id"] for p in facts["problems"]] == ["msr_module_not_persistent", "iommu_nopt_not_configured",
                                                    "kernel_log_unavailable"]
    assert facts["ready"] is False


def test_explicit_kernel_log_file(run, milan):
    facts = run({"root": str(milan), "kernel_log": os.path.join(LOGS, "iommu-passthrough-suse-default.log")})[0]
    facts = facts["ansible_facts"]["sev_snp"]
    assert facts["kernel_log"]["source"] == "file"
    assert facts["problems"][0]["id"] == "iommu_passthrough"


def test_unreadable_kernel_log_argument_fails_clearly(run, milan):
    result = run({"root": str(milan), "kernel_log": str(milan / "nope.log")}, fails=True)[0]
    assert "kernel_log=" in result["msg"] and "cannot be read" in result["msg"]


def test_root_must_be_a_directory(run, tmp_path):
    result = run({"root": str(tmp_path / "missing")}, fails=True)[0]
    assert "not a directory" in result["msg"]


def test_live_log_falls_back_from_dmesg_to_journal(run):
    journal = open(os.path.join(LOGS, "journal-short-genoa-ready.log")).read()
    commands = {"dmesg": (1, "", "dmesg: read kernel buffer failed: Operation not permitted"),
                "journalctl": (0, journal, "")}
    reader = live_kernel_log.read_live_kernel_log
    module = basic.AnsibleModule.__new__(basic.AnsibleModule)
    from unittest import mock
    with mock.patch.object(basic.AnsibleModule, "run_command",
                           lambda self, args, **kw: commands[os.path.basename(args[0])]), \
            mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name):
        text, source, error = reader(module, ["dmesg", "journal", "boot.msg"])
    assert source == "journal" and error is None and "SEV-SNP API:1.55" in text


def test_live_log_all_sources_fail(run):
    from unittest import mock
    module = basic.AnsibleModule.__new__(basic.AnsibleModule)
    with mock.patch.object(basic.AnsibleModule, "run_command", lambda self, args, **kw: (1, "", "Operation not permitted")), \
            mock.patch.object(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name), \
            mock.patch.object(live_kernel_log, "_BOOT_MSG", "/nonexistent/boot.msg"):
        text, source, error = live_kernel_log.read_live_kernel_log(module, ["dmesg", "journal", "boot.msg"])
    assert text is None and source is None
    assert "dmesg: Operation not permitted" in error and "boot.msg" in error


def test_bad_cmdline_option_argument(run, milan):
    result = run({"root": str(milan), "required_cmdline": ["iommu=nopt quiet"]}, fails=True)[0]
    assert "one kernel option per item" in result["msg"]


def test_os_and_container_from_the_tree(run, milan):
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["os"] == {"id": None, "name": None, "version": None, "family": None}
    assert facts["container"] == {"detected": False, "type": None}

    (milan / "usr/lib").mkdir(parents=True)
    (milan / "usr/lib/os-release").write_text('NAME="SLES"\nVERSION_ID="15.7"\nID="sles"\nID_LIKE="suse"\n')
    (milan / "run").mkdir()
    (milan / "run/.containerenv").write_text("")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["os"] == {"id": "sles", "name": "SLES", "version": "15.7", "family": "Suse"}
    assert facts["container"] == {"detected": True, "type": "podman"}

    # /etc/os-release wins over /usr/lib/os-release; systemd's declaration over markers.
    (milan / "etc/os-release").write_text('NAME="openSUSE Leap"\nVERSION_ID="15.7"\nID="opensuse-leap"\n'
                                          'ID_LIKE="suse opensuse"\n')
    (milan / "run/systemd").mkdir()
    (milan / "run/systemd/container").write_text("systemd-nspawn\n")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["os"]["id"] == "opensuse-leap" and facts["os"]["family"] == "Suse"
    assert facts["container"] == {"detected": True, "type": "systemd-nspawn"}
