# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.coco.sev_snp.plugins.action.fleet_report import ActionModule

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "report")


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


def hostvars(**results):
    """hostvars as the action sees them: every host, some with the registered result."""
    hv = {"quiet-host": {"inventory_hostname": "quiet-host"}}
    for host, name in results.items():
        hv[host] = {"inventory_hostname": host, "sev_snp_host_facts_result": fixture(name)}
    return hv


def run(args, task_vars, check_mode=False, diff=False):
    task = MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    action = ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None,
                          shared_loader_obj=None)
    return action.run(task_vars=task_vars)


@pytest.fixture
def fleet_vars():
    return {"hostvars": hostvars(epyc="ready_genoa", milan="not_ready_milan", gone="unreachable")}


ALL = ["epyc", "milan", "gone", "quiet-host"]


def read(dest, name):
    with open(os.path.join(str(dest), name)) as handle:
        return handle.read()


def test_writes_three_files_with_every_host(tmp_path, fleet_vars):
    dest = tmp_path / "report"
    result = run({"hosts": ALL, "dest": str(dest)}, fleet_vars)
    assert result["changed"] is True and result["written"] is True
    assert sorted(os.listdir(str(dest))) == ["fleet.html", "fleet.json", "fleet.md"]
    report = json.loads(read(dest, "fleet.json"))
    assert [(row["host"], row["status"]) for row in report["hosts"]] == [
        ("epyc", "ready"), ("milan", "not_ready"), ("gone", "unreachable"), ("quiet-host", "failed")]
    assert result["summary"] == {"total": 4, "ready": 1, "not_ready": 1, "unreachable": 1, "failed": 1}
    assert result["summary_line"] == "1 ready / 1 not ready / 1 unreachable / 1 failed (4 hosts)"
    assert result["files"]["html"] == os.path.join(str(dest), "fleet.html")
    assert "| milan | not ready |" in result["table"]
    assert "| milan | not ready |" in read(dest, "fleet.md")
    assert "Fix:" in read(dest, "fleet.html")
    assert not [name for name in os.listdir(str(dest)) if name.startswith(".")]


def test_rerun_over_the_same_fleet_is_not_a_change_but_refreshes_files(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    first = json.loads(read(dest, "fleet.json"))
    os.utime(os.path.join(dest, "fleet.md"), (0, 0))
    second = run({"hosts": ALL, "dest": dest}, fleet_vars)
    assert second["changed"] is False
    assert second["written"] is True
    assert os.stat(os.path.join(dest, "fleet.md")).st_mtime > 0
    assert json.loads(read(dest, "fleet.json"))["hosts"] == first["hosts"]


def test_a_host_turning_unreachable_is_a_change_with_a_diff(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    fleet_vars["hostvars"]["epyc"]["sev_snp_host_facts_result"] = fixture("unreachable")
    result = run({"hosts": ALL, "dest": dest}, fleet_vars, diff=True)
    assert result["changed"] is True
    assert "| epyc | ready |" in result["diff"]["before"]
    assert "| epyc | unreachable |" in result["diff"]["after"]


def test_a_missing_file_is_a_change(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    os.unlink(os.path.join(dest, "fleet.html"))
    assert run({"hosts": ALL, "dest": dest}, fleet_vars)["changed"] is True
    assert os.path.isfile(os.path.join(dest, "fleet.html"))


def test_check_mode_writes_nothing_and_predicts_the_change(tmp_path, fleet_vars):
    dest = tmp_path / "not-yet"
    result = run({"hosts": ALL, "dest": str(dest)}, fleet_vars, check_mode=True)
    assert result["changed"] is True
    assert result["written"] is False
    assert not dest.exists()
    assert result["summary"]["total"] == 4
    assert "not written (check mode)" in result["msg"]


def test_relative_dest_is_relative_to_the_working_directory(tmp_path, fleet_vars, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    result = run({"hosts": ["epyc"]}, fleet_vars)
    assert result["dest"] == os.path.join(str(tmp_path), "sev_snp_report")
    assert os.path.isfile(os.path.join(str(tmp_path), "sev_snp_report", "fleet.json"))


def test_custom_result_var(tmp_path):
    task_vars = {"hostvars": {"a": {"facts_of_a": fixture("intel_host")}}}
    result = run({"hosts": ["a"], "dest": str(tmp_path), "result_var": "facts_of_a"}, task_vars)
    assert result["hosts"][0]["problem_ids"] == ["not_amd_epyc"]


def test_dest_that_is_a_file_is_a_clear_error(tmp_path, fleet_vars):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(AnsibleActionFail, match="not a directory"):
        run({"hosts": ALL, "dest": str(blocker)}, fleet_vars)


def test_unwritable_dest_is_a_clear_error(tmp_path, fleet_vars, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    with pytest.raises(AnsibleActionFail, match="cannot write the fleet report .*Permission denied"):
        run({"hosts": ALL, "dest": str(tmp_path)}, fleet_vars)


def test_unknown_option_is_refused(tmp_path, fleet_vars):
    with pytest.raises(AnsibleActionFail, match="destination"):
        run({"hosts": ALL, "dest": str(tmp_path), "destination": "x"}, fleet_vars)
    assert os.listdir(str(tmp_path)) == []
