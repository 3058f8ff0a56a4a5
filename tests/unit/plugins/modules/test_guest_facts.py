# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import json
import os
import shutil
import struct

import pytest

from ansible.module_utils.testing import patch_module_args
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
