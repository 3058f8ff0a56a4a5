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

from ansible_collections.coco.sev_snp.plugins.module_utils import host_files, host_snapshot, live_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import parse_kernel_log
from ansible_collections.coco.sev_snp.plugins.modules import host_facts
from module_exits import ExitJson, FailJson, patch_module_exits

ROOTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "roots")
LOGS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "logs")


# A read that blocks fails the test (conftest.no_hang) instead of hanging the run.
pytestmark = pytest.mark.usefixtures("no_hang")


@pytest.fixture
def run(monkeypatch):
    """Run host_facts in-process; returns (result, names of the commands it looked for).

    Commands are never found, so a run against a fake root proves it reads no live log.
    The snapshot handed to build_facts is kept in run.snapshot.
    """
    calls = []
    patch_module_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: calls.append(name))
    real_build_facts = host_facts.build_facts

    def spy(snapshot, *args):
        _run.snapshot = snapshot
        return real_build_facts(snapshot, *args)
    monkeypatch.setattr(host_facts, "build_facts", spy)

    def _run(args, fails=False, check_mode=False):
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
    snapshot = run.snapshot
    assert snapshot["unreadable"] == [] and snapshot["unreadable_reasons"] == {}
    assert snapshot["kernel_log_incomplete"] is None and snapshot["kernel_log_error"] is None
    assert snapshot["kernel_log"] is None
    assert snapshot["kernel_log_parsed"] == parse_kernel_log(open(str(milan / "var/log/dmesg")).read())


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


@pytest.mark.parametrize("make, reason", [
    (lambda path: None, "does not exist"),
    (lambda path: os.mkfifo(str(path)), "is a named pipe (FIFO), not a regular file; it is not read"),
    (lambda path: path.mkdir(), "is a directory, not a regular file; it is not read"),
])
def test_unusable_kernel_log_argument_fails_clearly(run, milan, make, reason):
    path = milan / "saved.log"
    make(path)
    result = run({"root": str(milan), "kernel_log": str(path)}, fails=True)[0]
    assert result["msg"] == ("kernel_log=%s %s; give the path of a readable regular file on the managed host "
                             "(a saved dmesg output), or omit kernel_log to read the live log." % (path, reason))


def test_root_must_be_a_directory(run, tmp_path):
    result = run({"root": str(tmp_path / "missing")}, fails=True)[0]
    assert "not a directory" in result["msg"]


class StandInModule(object):
    """Finds stand-in dmesg/journalctl scripts in a directory (get_bin_path only)."""

    def __init__(self, directory):
        self.directory = directory

    def get_bin_path(self, name):
        path = os.path.join(self.directory, name)
        return path if os.path.exists(path) else None


def stand_in_tools(tmp_path, **scripts):
    for name, body in scripts.items():
        (tmp_path / name).write_text("#!/bin/sh\n" + body + "\n")
        (tmp_path / name).chmod(0o755)
    return StandInModule(str(tmp_path))


def test_live_log_falls_back_from_dmesg_to_journal(tmp_path):
    module = stand_in_tools(tmp_path, dmesg='echo "dmesg: read kernel buffer failed: Operation not permitted" >&2; '
                                            'exit 1',
                            journalctl="cat %s" % os.path.join(LOGS, "journal-short-genoa-ready.log"))
    read = host_snapshot.read_kernel_log(module, host_snapshot.HostReader("/"), None, ["dmesg", "journal", "boot.msg"])
    assert read.source == "journal" and read.error is None
    assert read.parsed["snp_api"] == "1.55" and read.parsed["reaches_boot"] is True


def test_live_log_prefers_the_source_that_still_has_the_boot(tmp_path):
    module = stand_in_tools(tmp_path, dmesg='echo "[99999.1] eth0: link up"',
                            journalctl="cat %s" % os.path.join(LOGS, "journal-short-genoa-ready.log"))
    read = host_snapshot.read_kernel_log(module, host_snapshot.HostReader("/"), None, ["dmesg", "journal"])
    assert read.source == "journal"
    module = stand_in_tools(tmp_path, dmesg='echo "[    0.000000] Linux version 6.4.0"')
    assert host_snapshot.read_kernel_log(module, host_snapshot.HostReader("/"), None, ["dmesg", "journal"]).source == "dmesg"
    module = stand_in_tools(tmp_path, dmesg='echo "[ 9.1] ccp 0000:42:00.1: SEV API:1.55 build:8"')
    assert host_snapshot.read_kernel_log(module, host_snapshot.HostReader("/"), None, ["dmesg", "journal"]).source == "dmesg"


def test_live_log_all_sources_fail(tmp_path, monkeypatch):
    module = stand_in_tools(tmp_path, dmesg='echo "Operation not permitted" >&2; exit 1',
                            journalctl='echo "Operation not permitted" >&2; exit 1')
    monkeypatch.setattr(live_kernel_log, "BOOT_MSG", str(tmp_path / "boot.msg"))
    read = host_snapshot.read_kernel_log(module, host_snapshot.HostReader("/"), None, ["dmesg", "journal", "boot.msg"])
    assert read.parsed is None and read.source is None
    assert read.error == ("dmesg: Operation not permitted; journal: Operation not permitted; "
                          "boot.msg: %s does not exist" % (tmp_path / "boot.msg"))


def test_bad_cmdline_option_argument(run, milan):
    result = run({"root": str(milan), "required_cmdline": ["iommu=nopt quiet"]}, fails=True)[0]
    assert "one kernel option per item" in result["msg"]


def test_os_and_container_from_the_tree(run, milan):
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["os"] == {"id": "opensuse-leap", "name": "openSUSE Leap", "version": "15.7", "family": "Suse"}
    (milan / "etc/os-release").unlink()
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


# -- bad inputs: every one is read without blocking, and what could not be read is said.

def make_fifo(path):
    path.unlink()
    os.mkfifo(str(path))


def make_directory(path):
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("relative, make, reason", [
    ("proc/cpuinfo", make_fifo, "is a named pipe (FIFO), not a regular file; it is not read"),
    ("proc/cmdline", make_fifo, "is a named pipe (FIFO), not a regular file; it is not read"),
    ("etc/default/grub", make_directory, "is a directory, not a regular file; it is not read"),
    # Stand-in for a permission error (tests run as root, who reads any file).
    ("sys/module/kvm_amd/parameters/sev_snp", make_directory,
     "is a directory, not a regular file; it is not read"),
    ("sys/kernel/iommu_groups/0/type", make_fifo, "is a named pipe (FIFO), not a regular file; it is not read"),
    ("etc/modules-load.d/msr.conf", make_fifo, "is a named pipe (FIFO), not a regular file; it is not read"),
])
def test_files_that_exist_but_cannot_be_read_are_listed(run, milan, relative, make, reason):
    make(milan / relative)
    run({"root": str(milan)})
    assert run.snapshot["unreadable"] == [relative]
    assert run.snapshot["unreadable_reasons"] == {relative: reason}


def test_unreadable_values_are_none_in_the_snapshot(run, milan):
    make_fifo(milan / "proc/cpuinfo")
    make_directory(milan / "sys/module/kvm_amd/parameters/sev_snp")
    run({"root": str(milan)})
    assert run.snapshot["cpuinfo"] is None
    assert run.snapshot["kvm_amd_parameters"] == {"sev": "Y\n", "sev_es": "Y\n", "sev_snp": None}
    assert run.snapshot["unreadable"] == ["proc/cpuinfo", "sys/module/kvm_amd/parameters/sev_snp"]


def test_absent_files_are_not_unreadable(run, milan):
    (milan / "sys/module/kvm_amd/parameters/sev_snp").unlink()
    (milan / "proc/cmdline").unlink()
    run({"root": str(milan)})
    assert run.snapshot["unreadable"] == []
    assert run.snapshot["kvm_amd_parameters"]["sev_snp"] is None


def test_saved_log_below_root_that_cannot_be_read_falls_back_and_is_listed(run, milan):
    make_fifo(milan / "var/log/dmesg")
    (milan / "var/log/boot.msg").write_text("[    0.000000] Linux version 6.4.0\n")
    facts = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]
    assert facts["kernel_log"]["source"] == "boot.msg"
    assert run.snapshot["unreadable"] == ["var/log/dmesg"]
    make_directory(milan / "var/log/boot.msg")
    run({"root": str(milan)})
    assert run.snapshot["kernel_log_source"] is None
    assert run.snapshot["kernel_log_error"] == ("no readable var/log/dmesg or var/log/boot.msg below root %s"
                                                % milan)
    assert run.snapshot["unreadable"] == ["var/log/boot.msg", "var/log/dmesg"]


def write_big_log(path, size, tail):
    """A log of ``size`` bytes of unrelated lines, then ``tail``."""
    noise = b"[ 1234.567890] eth0: renamed from veth1234abcd, link is up at 100 Mbps, noise\n"
    block = noise * (1024 * 1024 // len(noise))
    with open(str(path), "wb") as handle:
        written = 0
        while written < size:
            handle.write(block)
            written += len(block)
        handle.write(tail)


@pytest.mark.slow
def test_a_failure_after_64_mib_is_found(run, milan):
    # The old reader stopped at 64 MiB and called this host ready.
    log = milan / "big.log"
    dmesg = open(str(milan / "var/log/dmesg"), "rb").read()
    failure = b"[99999.1] ccp 0000:46:00.1: SEV-SNP: failed to INIT rc -5, error 0x3\n"
    write_big_log(log, 65 * 1024 * 1024, dmesg + failure)
    facts = run({"root": str(milan), "kernel_log": str(log)})[0]["ansible_facts"]["sev_snp"]
    assert "snp_init_failed" in [p["id"] for p in facts["problems"]]
    assert facts["ready"] is False
    assert run.snapshot["kernel_log_incomplete"] is None


def test_a_log_beyond_the_limit_says_what_was_not_read(run, milan, monkeypatch):
    monkeypatch.setattr(host_files, "LOG_LIMIT", 1024 * 1024)
    log = milan / "big.log"
    write_big_log(log, 2 * 1024 * 1024, b"")
    run({"root": str(milan), "kernel_log": str(log)})
    assert run.snapshot["kernel_log_incomplete"] == (
        "%s is larger than 1 MiB; lines after the first 1 MiB were not read" % log)
    assert run.snapshot["kernel_log_source"] == "file"


# -- the firmware section: files the kernel would load, the version in use, the update at boot

def without_ctime(files):
    """The file entries without ctime, which a test cannot set."""
    return [dict((k, v) for k, v in entry.items() if k != "ctime") for entry in files]


def _firmware_file(root, relative, data=b"\0" * 64, mtime=1718890000):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(str(path), (mtime, mtime))


def test_firmware_files_below_the_root_in_the_kernels_order(run, milan):
    _firmware_file(milan, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin.xz", b"x" * 40)
    _firmware_file(milan, "lib/firmware/amd/amd_sev_fam19h_model01h.sbin", b"y" * 96576, 1764547200)
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["candidates"][0] == "amd/amd_sev_fam19h_model01h.sbin"
    assert without_ctime(firmware["files"]) == [
        {"path": "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin", "name": "amd/amd_sev_fam19h_model01h.sbin",
         "size": 96576, "mtime": 1764547200},
        {"path": "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin.xz", "name": "amd/amd_sev_fam19h_model0xh.sbin",
         "size": 40, "mtime": 1718890000},
    ]
    assert firmware["next_boot_file"] == "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin"
    assert firmware["in_use"] == {"api": "1.55", "build": 37}


def test_no_firmware_file_is_an_empty_list_not_unknown(run, milan):
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["files"] == [] and firmware["unusable"] == [] and firmware["next_boot_file"] is None


def test_a_fifo_in_the_firmware_directory_does_not_hang_the_module(run, milan):
    (milan / "lib/firmware/amd").mkdir(parents=True)
    os.mkfifo(str(milan / "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin"))
    result = run({"root": str(milan)})[0]
    firmware = result["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["files"] == []
    assert firmware["unusable"][0]["path"] == "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin"
    assert "FIFO" in firmware["unusable"][0]["reason"]


def _log_without_update(milan):
    """The fixture's log without its 'SEV firmware updated from' line."""
    lines = (milan / "var/log/dmesg").read_text().splitlines(True)
    kept = [line for line in lines if "SEV firmware updated" not in line]
    assert len(kept) == len(lines) - 1
    return "".join(kept)


def test_the_release_directory_of_a_saved_tree_comes_from_its_log(run, milan):
    # The fixture's log says "Linux version 6.4.0-150700.53-coco".
    _firmware_file(milan, "lib/firmware/6.4.0-150700.53-coco/amd/amd_sev_fam19h_model0xh.sbin")
    _firmware_file(milan, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")
    _firmware_file(milan, "lib/firmware/6.12.0-other/amd/amd_sev_fam19h_model0xh.sbin")
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert [f["path"] for f in firmware["files"]] == [
        "/lib/firmware/6.4.0-150700.53-coco/amd/amd_sev_fam19h_model0xh.sbin",
        "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin"]


def test_firmware_class_path_on_the_running_command_line_is_tried_first(run, milan):
    cmdline = (milan / "proc/cmdline").read_text().strip()
    (milan / "proc/cmdline").write_text(cmdline + " firmware_class.path=/srv/fw\n")
    _firmware_file(milan, "srv/fw/amd/sev.fw")
    _firmware_file(milan, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    # The model-range name comes before sev.fw whatever the directory: names are the outer loop.
    assert [f["path"] for f in firmware["files"]] == [
        "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", "/srv/fw/amd/sev.fw"]


def test_only_firmware_class_path_names_the_custom_directory(run, milan):
    # Another option with a path value after it (here a stand-in resume=) is not a firmware directory.
    cmdline = (milan / "proc/cmdline").read_text().strip()
    (milan / "proc/cmdline").write_text(cmdline + " firmware_class.path=/srv/fw resume=/srv/other\n")
    _firmware_file(milan, "srv/fw/amd/sev.fw")
    _firmware_file(milan, "srv/other/amd/sev.fw")
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert [f["path"] for f in firmware["files"]] == ["/srv/fw/amd/sev.fw"]


@pytest.mark.parametrize("line, update", [
    ("ccp 0000:c1:00.5: SEV firmware updated from 1.55.21 to 1.55.37",
     {"form": "updated_from", "changed": True, "from": {"api": "1.55", "build": 21},
      "to": {"api": "1.55", "build": 37}}),
    ("ccp 0000:c1:00.5: SEV firmware update successful",
     {"form": "update_successful", "changed": None, "from": None, "to": {"api": "1.55", "build": 37}}),
])
def test_the_update_at_boot_in_both_forms(run, milan, line, update):
    (milan / "var/log/dmesg").write_text("[    5.000000] " + line + "\n" + _log_without_update(milan))
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["updated_at_boot"] is True
    assert firmware["update"] == update


def test_no_update_line_no_update(run, milan):
    (milan / "var/log/dmesg").write_text(_log_without_update(milan))
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["updated_at_boot"] is False and firmware["update"] is None


def test_an_intel_host_looks_for_no_amd_firmware(run, milan):
    (milan / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
        "model name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu vmx\n")
    _firmware_file(milan, "lib/firmware/amd/sev.fw")
    firmware = run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]
    assert firmware["candidates"] == [] and firmware["files"] == []


def test_changed_since_boot_compares_with_btime_of_the_roots_proc_stat(run, milan):
    _firmware_file(milan, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")
    ctime = int(os.stat(str(milan / "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")).st_ctime)
    (milan / "proc/stat").write_text("cpu  1 2 3\nbtime %d\n" % (ctime - 60))
    assert run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]["changed_since_boot"] is True
    (milan / "proc/stat").write_text("cpu  1 2 3\nbtime %d\n" % (ctime + 60))
    assert run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]["changed_since_boot"] is False
    (milan / "proc/stat").unlink()
    assert run({"root": str(milan)})[0]["ansible_facts"]["sev_snp"]["firmware"]["changed_since_boot"] is None
