# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.coco.sev_snp.plugins.modules import domain_capabilities

FIXTURES = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "domcaps"))


@pytest.fixture
def fake_virsh(tmp_path, monkeypatch):
    """Stand-in for virsh on an EPYC host: prints a fixture and records its arguments."""
    def install(fixture_name, rc=0, stderr=""):
        script = tmp_path / "virsh"
        script.write_text(
            "#!/bin/sh\n"
            "echo \"$@\" > %s/args\n"
            "cat %s\n"
            "echo '%s' >&2\n"
            "exit %d\n" % (tmp_path, os.path.join(FIXTURES, fixture_name), stderr, rc))
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", "%s:%s" % (tmp_path, os.environ.get("PATH", "")))
        return tmp_path / "args"
    return install


def run(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            domain_capabilities.main()
    return json.loads(capsys.readouterr().out)


def test_snp_host(fake_virsh, capsys):
    args_file = fake_virsh("epyc-milan-snp-libvirt11.xml")
    result = run(capsys, {"emulator": "/usr/bin/qemu-system-x86_64"})
    assert result["changed"] is False
    assert result["snp_supported"] is True and result["snp_problems"] == []
    assert result["domain_capabilities"]["sev"]["cbitpos"] == 51
    assert args_file.read_text().split() == [
        "-c", "qemu:///system", "domcapabilities", "--virttype", "kvm", "--arch", "x86_64",
        "--machine", "q35", "--emulatorbin", "/usr/bin/qemu-system-x86_64"]


def test_host_without_snp_reports_why(fake_virsh, capsys):
    fake_virsh("intel-tcg-no-sev.xml")
    result = run(capsys, {"virttype": "qemu"})
    assert result["snp_supported"] is False
    assert len(result["snp_problems"]) == 2
    assert "<sev supported='no'>" in result["snp_problems"][0]


def test_virsh_failure_is_a_clear_message(fake_virsh, capsys):
    fake_virsh("truncated.xml", rc=1, stderr="error: failed to connect to the hypervisor")
    result = run(capsys, {"uri": "qemu:///nowhere"})
    assert result["failed"] is True
    assert "failed to connect to the hypervisor" in result["msg"]
    assert "qemu:///nowhere" in result["msg"]


def test_garbage_output_is_a_clear_message(fake_virsh, capsys):
    fake_virsh("truncated.xml")
    result = run(capsys, {})
    assert result["failed"] is True and "not well-formed XML" in result["msg"]
