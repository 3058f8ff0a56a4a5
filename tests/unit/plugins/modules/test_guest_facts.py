# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import json
import os
import shutil
import signal
import struct

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.coco.sev_snp.plugins.module_utils import host_files
from ansible_collections.coco.sev_snp.plugins.modules import guest_facts

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "guest")
SEV_STATUS_OFFSET = 0xC0010131


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            guest_facts.main()
    return json.loads(capsys.readouterr().out)


def guest_tree(tmp_path, sev_status=None, sev_guest=False):
    """A directory laid out like a guest's /dev.

    Stand-in for a real SEV-SNP guest's devices: /dev/cpu/0/msr becomes a sparse regular
    file holding the MSR value at the MSR's offset, so the module's pread is exercised.
    """
    if sev_status is not None:
        msr = tmp_path / "dev" / "cpu" / "0" / "msr"
        msr.parent.mkdir(parents=True)
        with open(str(msr), "wb") as handle:
            handle.seek(SEV_STATUS_OFFSET)
            handle.write(struct.pack("<Q", sev_status))
    if sev_guest:
        (tmp_path / "dev").mkdir(exist_ok=True)
        (tmp_path / "dev" / "sev-guest").write_bytes(b"")
    return str(tmp_path)


def test_msr_and_device_make_an_snp_verdict(tmp_path, capsys):
    root = guest_tree(tmp_path, sev_status=0x7 | 1 << 7, sev_guest=True)
    result = run(capsys, {"root": root, "kernel_log": os.path.join(FIXTURES, "snp-kernel-6-double-space.log")})
    facts = result["ansible_facts"]["sev_snp_guest"]
    assert result["changed"] is False
    assert (facts["sev"], facts["sev_es"], facts["snp"]) == (True, True, True)
    assert facts["features"] == ["SEV", "SEV-ES", "SEV-SNP", "DebugSwap"]
    assert facts["sources"] == ["msr", "kernel_log", "sev_guest_device"]
    assert facts["msr"]["value"] == "0x87" and facts["msr_error"] is None
    assert facts["kernel_log"]["snp_cpuid_entries"] == 64
    assert facts["problems"] == []


def test_sev_es_guest_is_not_snp(tmp_path, capsys):
    root = guest_tree(tmp_path, sev_status=0x3)
    facts = run(capsys, {"root": root, "kernel_log": os.path.join(FIXTURES, "sev-es-kernel-5.log")})[
        "ansible_facts"]["sev_snp_guest"]
    assert (facts["sev_es"], facts["snp"]) == (True, False)
    assert facts["problems"][0]["problem"] == "this guest runs with SEV-ES, not SEV-SNP"


def test_missing_msr_device_falls_back_to_the_log_and_names_modprobe(tmp_path, capsys):
    root = guest_tree(tmp_path)
    facts = run(capsys, {"root": root, "kernel_log": os.path.join(
        FIXTURES, "snp-sev-guest-driver-failed.log")})["ansible_facts"]["sev_snp_guest"]
    assert facts["snp"] is True and facts["msr"] is None
    assert "modprobe msr" in facts["msr_error"]
    fixes = [p["fix"] for p in facts["problems"]]
    assert any("modprobe sev-guest" in fix for fix in fixes)
    assert any("Invalid VMPCK0" in p["problem"] for p in facts["problems"])


def test_short_msr_read_is_reported_not_raised(tmp_path, capsys):
    msr = tmp_path / "dev" / "cpu" / "0" / "msr"
    msr.parent.mkdir(parents=True)
    msr.write_bytes(b"\0" * 16)
    facts = run(capsys, {"root": str(tmp_path), "kernel_log": os.path.join(FIXTURES, "plain-kvm-guest.log")})[
        "ansible_facts"]["sev_snp_guest"]
    assert facts["msr"] is None and "returned 0 bytes" in facts["msr_error"]
    assert facts["snp"] is False


def test_unreadable_kernel_log_is_a_clear_failure(tmp_path, capsys):
    result = run(capsys, {"root": str(tmp_path), "kernel_log": str(tmp_path / "absent.log")})
    assert result["failed"] is True
    assert "cannot read kernel_log" in result["msg"] and "absent.log" in result["msg"]


def test_root_must_be_a_directory(tmp_path, capsys):
    result = run(capsys, {"root": str(tmp_path / "nope")})
    assert result["failed"] is True and "not a directory" in result["msg"]


def test_offline_tree_does_not_read_this_machines_log(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(guest_facts, "read_live_kernel_log", lambda *args, **kw: calls.append(1) or (None, None, "x"))
    facts = run(capsys, {"root": guest_tree(tmp_path, sev_status=0x7, sev_guest=True)})[
        "ansible_facts"]["sev_snp_guest"]
    assert calls == [] and facts["kernel_log"]["source"] is None
    assert facts["snp"] is True and facts["sources"] == ["msr", "sev_guest_device"]


@pytest.mark.skipif(shutil.which("dmesg") is None and shutil.which("journalctl") is None,
                    reason="no dmesg or journalctl here")
def test_live_run_on_this_machine_never_fails(capsys):
    facts = run(capsys, {})["ansible_facts"]["sev_snp_guest"]
    assert isinstance(facts["snp"], bool)
    assert all(set(p) == {"problem", "fix"} for p in facts["problems"])


def new_dir(path):
    path.mkdir()
    return path


@pytest.fixture
def no_hang():
    def expired(*_args):
        raise AssertionError("guest_facts blocked")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("make, reason", [
    (lambda path: os.mkfifo(str(path)), "it is a named pipe (FIFO), not a regular file; it is not read"),
    (lambda path: path.mkdir(), "it is a directory, not a regular file; it is not read"),
    (lambda path: None, "it does not exist"),
])
def test_kernel_log_that_is_not_a_readable_file(tmp_path, capsys, no_hang, make, reason):
    path = tmp_path / "guest.log"
    make(path)
    result = run(capsys, {"root": str(tmp_path), "kernel_log": str(path)})
    assert result["failed"] is True
    assert result["msg"] == ("cannot read kernel_log %s: %s; give a readable regular file or leave kernel_log "
                             "unset to read the live log" % (path, reason))


@pytest.mark.parametrize("make, error", [
    (lambda path: os.mkfifo(str(path)),
     "/dev/cpu/0/msr is a named pipe (FIFO), not a regular file; it is not read (reading MSRs needs root)"),
    (lambda path: path.mkdir(),
     "/dev/cpu/0/msr is a directory, not a regular file; it is not read (reading MSRs needs root)"),
])
def test_msr_path_that_is_not_a_device_never_blocks(tmp_path, capsys, no_hang, make, error):
    path = tmp_path / "dev" / "cpu" / "0" / "msr"
    path.parent.mkdir(parents=True)
    make(path)
    facts = run(capsys, {"root": str(tmp_path), "kernel_log": os.path.join(FIXTURES, "plain-kvm-guest.log")})[
        "ansible_facts"]["sev_snp_guest"]
    assert facts["msr"] is None and facts["msr_error"] == error


def test_a_log_larger_than_the_limit_is_a_problem_not_a_silent_cut(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(host_files, "LOG_LIMIT", 1024)
    path = tmp_path / "guest.log"
    path.write_text("[ 0.1] noise line\n" * 200 + "[ 9.9] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP\n")
    facts = run(capsys, {"root": guest_tree(new_dir(tmp_path / "root")), "kernel_log": str(path)})[
        "ansible_facts"]["sev_snp_guest"]
    assert facts["snp"] is False
    assert {"problem": "the kernel log was not read completely: %s is larger than 1 KiB; lines after the first "
                       "1 KiB were not read" % path,
            "fix": "pass a shorter saved log as kernel_log (the boot messages are at its start)"} in facts["problems"]


def test_a_complete_log_has_no_such_problem(tmp_path, capsys):
    facts = run(capsys, {"root": guest_tree(tmp_path, sev_status=0x7, sev_guest=True),
                         "kernel_log": os.path.join(FIXTURES, "snp-kernel-6-double-space.log")})[
        "ansible_facts"]["sev_snp_guest"]
    assert facts["problems"] == [] and facts["kernel_log"]["source"].endswith("snp-kernel-6-double-space.log")


def test_live_log_is_streamed_from_the_first_source(tmp_path, capsys, monkeypatch):
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "dmesg"
    script.write_text("#!/bin/sh\necho '[ 0.05] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP'\n")
    script.chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(script) if name == "dmesg" else None)
    monkeypatch.setattr(guest_facts.os.path, "realpath", lambda path: "/")
    facts = run(capsys, {"root": guest_tree(new_dir(tmp_path / "root"), sev_guest=True)})["ansible_facts"]["sev_snp_guest"]
    assert facts["kernel_log"]["source"] == "dmesg" and facts["snp"] is True
    assert facts["sources"] == ["kernel_log", "sev_guest_device"]


def test_no_live_log_and_no_msr_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    monkeypatch.setattr(guest_facts.os.path, "realpath", lambda path: "/")
    facts = run(capsys, {"root": guest_tree(new_dir(tmp_path / "root"))})["ansible_facts"]["sev_snp_guest"]
    assert facts["kernel_log"]["source"] is None
    assert facts["problems"][-1]["problem"] == ("the live kernel log could not be read (dmesg and journalctl "
                                                "gave nothing)")
