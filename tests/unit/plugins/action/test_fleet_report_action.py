# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import os
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.coco.sev_snp.plugins.action import fleet_report as fleet_report_action
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


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Each run one minute after the previous one, from 2026-03-01 10:00 UTC."""
    moments = iter(range(1000))

    def now():
        return "2026-03-01T10:%02d:00+00:00" % next(moments)

    monkeypatch.setattr(fleet_report_action, "_now", now)


def snapshot(dest):
    """Every file under dest with its content and modification time: what a run touched."""
    found = {}
    for root, _dirs, names in os.walk(str(dest)):
        for name in names:
            path = os.path.join(root, name)
            with open(path) as handle:
                found[os.path.relpath(path, str(dest))] = (handle.read(), os.stat(path).st_mtime_ns)
    return found


def test_writes_a_run_its_latest_pointer_and_the_copies(tmp_path, fleet_vars):
    dest = tmp_path / "report"
    result = run({"hosts": ALL, "dest": str(dest)}, fleet_vars)
    assert result["changed"] is True and result["written"] is True
    assert result["run"] == "20260301T100000Z"
    assert sorted(snapshot(dest)) == ["fleet.html", "fleet.json", "fleet.md", "latest",
                                      "runs/20260301T100000Z/fleet.html", "runs/20260301T100000Z/fleet.json",
                                      "runs/20260301T100000Z/fleet.md"]
    assert read(dest, "latest") == "runs/20260301T100000Z\n"
    for name in ("fleet.json", "fleet.md", "fleet.html"):
        assert read(dest, name) == read(dest, "runs/20260301T100000Z/" + name)
    report = json.loads(read(dest, "fleet.json"))
    assert [(row["host"], row["status"]) for row in report["hosts"]] == [
        ("milan", "not_ready"), ("quiet-host", "failed"), ("gone", "unreachable"), ("epyc", "ready")]
    assert report["scope"]["partial"] is False
    assert result["summary"] == {"total": 4, "ready": 1, "not_ready": 1, "unreachable": 1, "failed": 1}
    assert result["summary_line"] == "1 ready / 1 not ready / 1 unreachable / 1 failed (4 hosts)"
    assert result["files"]["html"] == os.path.join(str(dest), "runs", "20260301T100000Z", "fleet.html")
    assert "| milan | not ready |" in result["table"]
    assert "| milan | not ready |" in read(dest, "fleet.md")
    assert "Fix:" in read(dest, "fleet.html")
    assert result["msg"] == ("1 ready / 1 not ready / 1 unreachable / 1 failed (4 hosts); report written: %s"
                             % os.path.join(str(dest), "runs", "20260301T100000Z"))


def test_rerun_over_the_same_fleet_touches_no_file(tmp_path, fleet_vars):
    dest = tmp_path
    run({"hosts": ALL, "dest": str(dest)}, fleet_vars)
    before = snapshot(dest)
    second = run({"hosts": ALL, "dest": str(dest)}, fleet_vars, diff=True)
    assert second["changed"] is False and second["written"] is False and second["unchanged"] is True
    assert "diff" not in second
    assert snapshot(dest) == before
    assert second["run"] == "20260301T100000Z"
    assert "report unchanged since 2026-03-01T10:00:00+00:00" in second["msg"]


def test_a_host_turning_unreachable_is_a_new_run_with_a_diff(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    fleet_vars["hostvars"]["epyc"]["sev_snp_host_facts_result"] = fixture("unreachable")
    result = run({"hosts": ALL, "dest": dest}, fleet_vars, diff=True)
    assert result["changed"] is True
    assert result["run"] == "20260301T100100Z"
    assert read(dest, "latest") == "runs/20260301T100100Z\n"
    assert sorted(os.listdir(os.path.join(dest, "runs"))) == ["20260301T100000Z", "20260301T100100Z"]
    assert "| epyc | ready |" in result["diff"]["before"]
    assert "| epyc | unreachable |" in result["diff"]["after"]
    assert "| epyc | unreachable |" in read(dest, "fleet.md")


def test_two_changed_runs_in_one_second_get_two_directories(tmp_path, fleet_vars, monkeypatch):
    monkeypatch.setattr(fleet_report_action, "_now", lambda: "2026-03-01T10:00:00+00:00")
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    fleet_vars["hostvars"]["epyc"]["sev_snp_host_facts_result"] = fixture("unreachable")
    assert run({"hosts": ALL, "dest": dest}, fleet_vars)["run"] == "20260301T100000Z-2"
    assert read(dest, "latest") == "runs/20260301T100000Z-2\n"


def test_a_missing_file_is_restored_without_a_new_run(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    os.unlink(os.path.join(dest, "fleet.html"))
    result = run({"hosts": ALL, "dest": dest}, fleet_vars)
    assert result["changed"] is True and result["unchanged"] is True
    assert read(dest, "fleet.html") == read(dest, "runs/20260301T100000Z/fleet.html")
    assert os.listdir(os.path.join(dest, "runs")) == ["20260301T100000Z"]


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


def test_check_mode_over_an_unchanged_fleet_predicts_no_change(tmp_path, fleet_vars):
    run({"hosts": ALL, "dest": str(tmp_path)}, fleet_vars)
    before = snapshot(tmp_path)
    result = run({"hosts": ALL, "dest": str(tmp_path)}, fleet_vars, check_mode=True)
    assert result["changed"] is False
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------- partial runs

def test_a_limited_run_says_so_and_keeps_the_full_report(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    full = dict((name, value) for name, value in snapshot(tmp_path).items() if not name.startswith("runs/"))
    fleet_vars["hostvars"]["milan"]["sev_snp_host_facts_result"] = fixture("ready_genoa")
    result = run({"hosts": ["milan"], "inventory_hosts": ALL, "dest": dest}, fleet_vars)
    assert result["changed"] is True and result["partial"] is True
    assert result["run"] == "20260301T100100Z-partial"
    assert result["scope"] == {"partial": True, "hosts": 1, "inventory_hosts": 4, "not_covered": 3}
    assert "Partial run: 1 of 4 inventory hosts" in result["msg"]
    assert "The last full report is kept." in result["msg"]
    partial = json.loads(read(dest, "runs/20260301T100100Z-partial/fleet.json"))
    assert [row["host"] for row in partial["hosts"]] == ["milan"]
    assert "Partial run: 1 of 4" in read(dest, "runs/20260301T100100Z-partial/fleet.html")
    assert dict((name, value) for name, value in snapshot(tmp_path).items() if not name.startswith("runs/")) == full
    # The same limited run again changes nothing.
    before = snapshot(tmp_path)
    assert run({"hosts": ["milan"], "inventory_hosts": ALL, "dest": dest}, fleet_vars)["changed"] is False
    assert snapshot(tmp_path) == before


def test_the_inventory_defaults_to_every_host_of_the_play_vars(tmp_path, fleet_vars):
    fleet_vars["groups"] = {"all": ALL, "ungrouped": []}
    result = run({"hosts": ["epyc"], "dest": str(tmp_path)}, fleet_vars)
    assert result["partial"] is True
    assert not os.path.exists(os.path.join(str(tmp_path), "latest"))
    assert not os.path.exists(os.path.join(str(tmp_path), "fleet.json"))
    assert run({"hosts": ALL, "dest": str(tmp_path)}, fleet_vars)["partial"] is False
    assert os.path.exists(os.path.join(str(tmp_path), "latest"))


# ------------------------------------------------------------------------------ history

def _flip(fleet_vars, index):
    """A different fleet each call: epyc alternates between ready and unreachable."""
    fleet_vars["hostvars"]["epyc"]["sev_snp_host_facts_result"] = fixture(
        "unreachable" if index % 2 else "ready_genoa")


def test_only_the_newest_runs_are_kept(tmp_path, fleet_vars):
    dest = str(tmp_path)
    for index in range(4):
        _flip(fleet_vars, index)
        result = run({"hosts": ALL, "dest": dest, "keep": 2}, fleet_vars)
    assert result["pruned"] == ["20260301T100100Z"]
    assert sorted(os.listdir(os.path.join(dest, "runs"))) == ["20260301T100200Z", "20260301T100300Z"]


def test_partial_runs_never_prune_the_run_latest_names(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest, "keep": 2}, fleet_vars)
    for index in range(1, 4):
        _flip(fleet_vars, index)
        run({"hosts": ["epyc"], "inventory_hosts": ALL, "dest": dest, "keep": 2}, fleet_vars)
    assert sorted(os.listdir(os.path.join(dest, "runs"))) == [
        "20260301T100000Z", "20260301T100200Z-partial", "20260301T100300Z-partial"]
    assert read(dest, "latest") == "runs/20260301T100000Z\n"


def test_a_run_directory_with_other_files_is_left_alone(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest, "keep": 1}, fleet_vars)
    notes = tmp_path / "runs" / "20260301T100000Z" / "notes.txt"
    notes.write_text("incident 42")
    (tmp_path / "runs" / "my-archive").mkdir()
    _flip(fleet_vars, 1)
    run({"hosts": ALL, "dest": dest, "keep": 1}, fleet_vars)
    _flip(fleet_vars, 2)
    result = run({"hosts": ALL, "dest": dest, "keep": 1}, fleet_vars)
    assert result["pruned"] == ["20260301T100100Z"]
    assert notes.read_text() == "incident 42"
    assert sorted(os.listdir(os.path.join(dest, "runs"))) == ["20260301T100000Z", "20260301T100200Z", "my-archive"]
    # Nothing left to prune: the next identical run is no change.
    assert run({"hosts": ALL, "dest": dest, "keep": 1}, fleet_vars)["changed"] is False


@pytest.mark.parametrize("keep", [0, -3])
def test_keep_below_one_is_a_clear_error(tmp_path, fleet_vars, keep):
    with pytest.raises(AnsibleActionFail, match="keep is %d: .* at least 1 .*sev_snp_report_keep" % keep):
        run({"hosts": ALL, "dest": str(tmp_path), "keep": keep}, fleet_vars)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("content", ["../../etc\n", "runs/../../x\n", "runs/20260301T100000Z-partial\n", "",
                                     "runs/\x00\n"])
def test_a_latest_that_names_no_full_run_is_not_followed(tmp_path, fleet_vars, content):
    dest = str(tmp_path)
    (tmp_path / "latest").write_text(content)
    result = run({"hosts": ALL, "dest": dest}, fleet_vars)
    assert result["changed"] is True and result["unchanged"] is False
    assert read(dest, "latest") == "runs/20260301T100000Z\n"


def test_a_broken_previous_report_is_replaced_by_a_new_run(tmp_path, fleet_vars):
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    (tmp_path / "runs" / "20260301T100000Z" / "fleet.json").write_text("{half")
    result = run({"hosts": ALL, "dest": dest}, fleet_vars)
    assert result["changed"] is True and result["run"] == "20260301T100100Z"


# ------------------------------------------------------------------ messages for the play

def test_not_checked_hosts_are_named_with_their_error(tmp_path):
    task_vars = {"hostvars": {
        "op1": {"sev_snp_host_facts_result": {"failed": True, "msg": "MODULE FAILURE",
                                              "module_stderr": "sudo: a password is required\n"}},
        "gone": {"sev_snp_host_facts_result": fixture("unreachable")},
        "epyc": {"sev_snp_host_facts_result": fixture("ready_genoa")}}}
    result = run({"hosts": ["op1", "gone", "epyc"], "dest": str(tmp_path)}, task_vars)
    assert sorted(result["not_checked"]) == ["gone", "op1"]
    assert result["not_checked"]["op1"].startswith("privilege escalation failed (sudo: a password is required). ")
    assert "ansible_become_password" in result["not_checked"]["op1"]
    assert result["by_problem_lines"][0] == "become_failed (error) on 1 host: op1"
    assert "fix: Give the become password with -K" in result["by_problem_lines"][2]


def test_a_rerun_with_the_hosts_in_another_order_writes_nothing(tmp_path, fleet_vars):
    """Forks finish in any order and inventories get reordered: the same fleet is no change."""
    dest = str(tmp_path)
    run({"hosts": ALL, "dest": dest}, fleet_vars)
    before = snapshot(dest)
    reordered = {"hostvars": dict(reversed(list(fleet_vars["hostvars"].items())))}
    second = run({"hosts": list(reversed(ALL)), "dest": dest}, reordered)
    assert second["changed"] is False and second["written"] is False and second["unchanged"] is True
    assert snapshot(dest) == before


def test_a_rerun_over_many_hosts_writes_nothing(tmp_path):
    """The no-change path at the size of a fleet (a few hundred hosts, every status)."""
    names = ["ready_genoa", "not_ready_milan", "unreachable", "module_crash"]
    hosts = ["epyc-%03d" % index for index in range(400)]
    task_vars = {"hostvars": dict(
        (host, {"inventory_hostname": host, "sev_snp_host_facts_result": fixture(names[index % len(names)])})
        for index, host in enumerate(hosts))}
    dest = str(tmp_path)
    first = run({"hosts": hosts, "dest": dest}, task_vars)
    assert first["written"] is True and first["summary"]["total"] == 400
    before = snapshot(dest)
    second = run({"hosts": hosts, "dest": dest}, task_vars)
    assert second["changed"] is False and second["written"] is False
    assert snapshot(dest) == before


def test_the_bios_column_comes_from_each_hosts_bios_check(tmp_path, fleet_vars):
    fleet_vars["hostvars"]["epyc"]["sev_snp_bios_check"] = {
        "checked": True, "bmc": "10.0.0.10", "failure": None,
        "problems": [{"id": "bios_snp_disabled", "severity": "error", "message": "SEV-SNP support is off.",
                      "fix": "Set Snp.", "attribute": "Snp", "current": "Disabled", "wanted": "Enabled"}]}
    fleet_vars["hostvars"]["milan"]["sev_snp_bios_check"] = {"checked": False, "bmc": None, "reason": "no BMC"}
    dest = tmp_path / "report"
    result = run({"hosts": ALL, "dest": str(dest), "bios": True}, fleet_vars)
    cells = dict((row["host"], row["bios"]) for row in result["hosts"])
    assert cells["epyc"]["text"] == "bios_snp_disabled (set Snp=Enabled)"
    assert cells["milan"]["text"] == "not checked: no BMC"
    assert cells["gone"]["state"] == "not_checked"
    assert result["summary"]["ready"] == 0
    assert "| BIOS | Problems |" in result["table"]
    assert json.loads(read(dest, "fleet.json"))["bios_checked"] is True


def test_without_the_bios_option_a_recorded_check_is_not_read(tmp_path, fleet_vars):
    fleet_vars["hostvars"]["epyc"]["sev_snp_bios_check"] = {"checked": True, "bmc": "b", "problems": []}
    result = run({"hosts": ALL, "dest": str(tmp_path / "r")}, fleet_vars)
    assert all(row["bios"] is None for row in result["hosts"])
    assert "BIOS" not in result["table"]
