# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_gate through its action plugin class with fake tasks, and once through ansible-playbook."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys

import pytest
from unittest.mock import MagicMock

from ansible.errors import AnsibleActionFail

from ansible_collections.coco.sev_snp.plugins.action.host_gate import ActionModule

READY = {
    "ready": True,
    "problems": [],
    "firmware": {"sev_api": "1.55", "sev_build": 21, "snp_api": "1.55", "snp_build": 21},
    "cpu": {"vendor": "AuthenticAMD", "family": 25, "model": 1, "generation": "Milan",
            "model_name": "AMD EPYC 7543", "flags": {}, "firmware_file": "amd_sev_fam19h_model0xh.sbin"},
    "kvm": {"loaded": True, "sev": True, "sev_es": True, "sev_snp": True},
    "iommu": {"mode": "translated"},
    "msr": {"loaded": True, "persistent": True},
    "cmdline": {"running": [], "configured": [], "reboot_required": False},
    "kernel_log": {"source": "dmesg"},
    "psp": {"snp_initialized": True},
}


def facts(**changes):
    result = copy.deepcopy(READY)
    result.update(changes)
    return result


def run(args, task_vars):
    task = MagicMock()
    task.args = args
    task.check_mode = False
    task.async_val = 0
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def host(sev_snp):
    return {"inventory_hostname": "kvm07", "ansible_facts": {"sev_snp": sev_snp}}


def test_ready_host_passes():
    result = run({"min_snp_api": "1.55", "min_snp_build": 21}, host(facts()))
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["msg"] == "SEV-SNP ready: SNP firmware 1.55 build 21."
    assert result["summary"] == {"ready": True, "snp_api": "1.55", "snp_build": 21, "problems": []}


def test_problems_fail_with_one_line_each():
    problems = [
        {"id": "iommu_passthrough", "severity": "error", "message": "IOMMU in passthrough.", "fix": "Boot with iommu=nopt."},
        {"id": "msr_module_not_persistent", "severity": "warning", "message": "No msr.conf.", "fix": "echo msr"},
        {"id": "snp_init_failed", "severity": "error", "message": "SNP_INIT failed.", "fix": "Check the BIOS."},
    ]
    result = run({}, host(facts(ready=False, problems=problems)))
    assert result["failed"] is True
    assert result["problem_lines"] == ["iommu_passthrough: IOMMU in passthrough. Fix: Boot with iommu=nopt.",
                                       "snp_init_failed: SNP_INIT failed. Fix: Check the BIOS."]
    assert result["msg"].splitlines()[0] == "SEV-SNP not usable on kvm07 (2 problems):"
    assert result["msg"].splitlines()[1:] == ["- " + line for line in result["problem_lines"]]
    assert result["summary"]["problems"] == ["iommu_passthrough", "msr_module_not_persistent", "snp_init_failed"]


def test_ignore_lets_problems_through():
    problems = [{"id": "sev_init_failed", "severity": "error", "message": "m", "fix": "f"}]
    result = run({"ignore": ["sev_init_failed"]}, host(facts(problems=problems)))
    assert not result.get("failed")
    assert result["ignored"] == ["sev_init_failed"]


@pytest.mark.parametrize("minimum, build, fails", [
    ("1.51", None, False),
    ("1.9", None, False),
    ("1.55", None, False),
    ("1.55", 21, False),
    ("1.55", 22, True),
    ("1.56", None, True),
    ("2.0", None, True),
    (None, 22, True),
])
def test_firmware_minimum_compares_numerically(minimum, build, fails):
    args = {}
    if minimum is not None:
        args["min_snp_api"] = minimum
    if build is not None:
        args["min_snp_build"] = build
    result = run(args, host(facts()))
    assert bool(result.get("failed")) is fails
    if fails:
        assert [p["id"] for p in result["problems"]] == ["snp_firmware_below_minimum"]
        assert "amd_sev_fam19h_model0xh.sbin" in result["problems"][0]["fix"]


def test_old_firmware_1_9_is_below_1_51():
    result = run({"min_snp_api": "1.51"}, host(facts(firmware={"sev_api": "1.9", "sev_build": 1,
                                                               "snp_api": "1.9", "snp_build": 1})))
    assert result["failed"] is True
    assert "1.9 build 1 is older than the required 1.51" in result["msg"]


def test_no_positive_evidence_fails_unless_ignored():
    unknown = facts(ready=False, firmware={"sev_api": None, "sev_build": None, "snp_api": None, "snp_build": None},
                    kvm={"loaded": None, "sev": None, "sev_es": None, "sev_snp": None})
    result = run({}, host(unknown))
    assert result["failed"] is True and [p["id"] for p in result["problems"]] == ["snp_not_confirmed"]
    assert not run({"ignore": ["snp_not_confirmed"]}, host(unknown)).get("failed")


def test_explicit_facts_argument():
    result = run({"facts": facts()}, {"inventory_hostname": "kvm07"})
    assert not result.get("failed")


def test_top_level_fact_variable():
    result = run({}, {"inventory_hostname": "kvm07", "sev_snp": facts()})
    assert not result.get("failed")


def test_missing_facts_say_what_to_run():
    with pytest.raises(AnsibleActionFail) as raised:
        run({}, {"inventory_hostname": "kvm07", "ansible_facts": {}})
    assert "run coco.sev_snp.host_facts first" in str(raised.value)


@pytest.mark.parametrize("args, text", [
    ({"min_snp_api": "one.five"}, "not a SEV firmware version"),
    ({"min_snp_build": "soon"}, "min_snp_build"),
    ({"bogus": 1}, "bogus"),
])
def test_bad_arguments(args, text):
    with pytest.raises(AnsibleActionFail) as raised:
        run(args, host(facts()))
    assert text in str(raised.value)


PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - coco.sev_snp.host_facts:
        root: "{{ fake_root }}"
    - coco.sev_snp.host_gate:
        min_snp_api: "1.55"
        min_snp_build: 38
      register: gate
      ignore_errors: true
    - ansible.builtin.assert:
        that:
          - gate is failed
          - "'snp_firmware_below_minimum' in gate.msg"
          - ansible_facts.sev_snp.firmware.snp_api is coco.sev_snp.snp_version('1.51', '>=')
    - coco.sev_snp.host_gate:
        min_snp_api: "1.55"
"""


@pytest.mark.slow
def test_real_playbook_run(tmp_path, collections_path):
    base = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
    collections = collections_path
    playbook = tmp_path / "gate.yml"
    playbook.write_text(PLAYBOOK)
    root = os.path.join(base, "tests", "fixtures", "host", "roots", "milan-ready")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote"))
    ansible_playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    process = subprocess.run(
        [ansible_playbook, "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
         "-e", json.dumps({"fake_root": root}), str(playbook)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300, check=False)
    output = process.stdout.decode()
    assert process.returncode == 0, output
    assert "failed=0" in output and "ignored=1" in output
