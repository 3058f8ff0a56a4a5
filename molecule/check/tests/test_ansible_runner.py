# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX path: the playbooks run through ansible-runner as AWX runs them, on this scenario's hosts.

AWX (and Automation Platform) hands ansible-runner a private data dir: ``project/`` with the
job template's playbook, ``inventory/``, ``env/extravars`` and ``env/envvars``, and collects
the job's events and files from ``artifacts/<job id>/``. This test builds that directory with
the collection installed from a freshly built tarball (nothing of the checkout on the
collections or roles path), runs check_host and enable_host (check mode) with
``ansible_runner.run()`` and reads what AWX would read: the job status, the per-host events
and the fleet report under the job's artifact directory, where ``sev_snp_report_dir`` in
the extra vars points it (``AWX_ISOLATED_DATA_DIR`` is that directory, set by ansible-runner).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

ansible_runner = pytest.importorskip("ansible_runner")

CONTAINERS = ["sev-snp-check-1", "sev-snp-check-2", "sev-snp-check-3"]
OFFLINE = "sev-snp-check-offline"
GRUB_FILE = "/root/runner-test/grub"
STOCK_GRUB = 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=pt quiet"\nGRUB_CMDLINE_LINUX=""\n'

INVENTORY = """\
sev_snp_hosts:
  hosts:
{containers}
  vars:
    ansible_connection: containers.podman.podman
    ansible_remote_tmp: /root/.ansible/tmp
    sev_snp_host_grub_file: {grub}
    # The containers run on whatever CPU this machine has and are no SEV-SNP hosts: the CPU
    # check warns and the readiness gate is off (scenario default covers both).
    sev_snp_host_cpu_check: warn
    sev_snp_host_gate: false
unreachable:
  hosts:
    {offline}:
      ansible_connection: ssh
      ansible_host: 127.0.0.1
      ansible_port: 1
      ansible_user: root
"""

# What an AWX job template's extra variables hold to keep the report with the job's artifacts.
EXTRAVARS = {"sev_snp_report_dir": "{{ lookup('ansible.builtin.env', 'AWX_ISOLATED_DATA_DIR') }}/sev_snp_report"}

PROJECT_PLAYBOOK = """\
---
# A job template's playbook: one line that runs the collection's playbook.
- name: Run coco.sev_snp.{name}
  ansible.builtin.import_playbook: coco.sev_snp.{name}
"""

# Settings of the machine running the test that must not reach the job (AWX's jobs start clean).
LEAKING = ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_ROLES_PATH", "ANSIBLE_CONFIG",
           "ANSIBLE_LIBRARY", "ANSIBLE_FILTER_PLUGINS", "ANSIBLE_ACTION_PLUGINS", "ANSIBLE_CALLBACK_PLUGINS",
           "ANSIBLE_INVENTORY", "ANSIBLE_STDOUT_CALLBACK")


def _tool(name):
    return shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)


def _clean_env():
    env = dict(os.environ)
    for name in LEAKING:
        env.pop(name, None)
    return env


def _run(*command):
    # Without the checkout's collections path: ansible-galaxy would find coco.sev_snp installed there.
    run = subprocess.run(list(command), capture_output=True, text=True, timeout=600, check=False, env=_clean_env())
    assert run.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(command), run.stdout, run.stderr)
    return run.stdout


def _podman_exec(container, script):
    return _run(_tool("podman"), "exec", container, "sh", "-c", script)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The private data dir of an AWX job, with the collection installed from its tarball."""
    root = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    base = tmp_path_factory.mktemp("runner")
    dist = base / "dist"
    _run(_tool("ansible-galaxy"), "collection", "build", "--output-path", str(dist), root)
    (tarball,) = list(dist.glob("coco-sev_snp-*.tar.gz"))
    pdd = base / "private"
    collections = pdd / "collections"
    # The dependencies come from the `ansible` package on sys.path, as in an execution environment.
    _run(_tool("ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(collections), str(tarball))
    assert (collections / "ansible_collections" / "coco" / "sev_snp" / "MANIFEST.json").is_file()

    (pdd / "project").mkdir()
    for name in ("check_host", "enable_host"):
        (pdd / "project" / (name + ".yml")).write_text(PROJECT_PLAYBOOK.format(name=name))
    (pdd / "inventory").mkdir()
    (pdd / "inventory" / "hosts.yml").write_text(INVENTORY.format(
        containers="".join("    %s:\n" % name for name in CONTAINERS), grub=GRUB_FILE, offline=OFFLINE))
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(json.dumps(EXTRAVARS))
    empty = base / "empty"
    empty.mkdir()
    (pdd / "ansible.cfg").write_text("[defaults]\n")
    (pdd / "env" / "envvars").write_text(json.dumps({
        "ANSIBLE_CONFIG": str(pdd / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_ROLES_PATH": str(empty),
        "ANSIBLE_REMOTE_TMP": "/root/.ansible/tmp",
        "ANSIBLE_NOCOLOR": "1",
    }))
    for container in CONTAINERS:
        _podman_exec(container, "mkdir -p %s && printf '%%s' '%s' > %s" % (
            os.path.dirname(GRUB_FILE), STOCK_GRUB, GRUB_FILE))
    return pdd


def _job(data_dir, ident, playbook, cmdline=None):
    with pytest.MonkeyPatch.context() as patch:
        for name in LEAKING:
            patch.delenv(name, raising=False)
        # ansible-playbook of the Python running this test, as an execution environment has its own.
        patch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
        job = ansible_runner.run(private_data_dir=str(data_dir), playbook=playbook, ident=ident,
                                 cmdline=cmdline, quiet=True, timeout=900)
    events = list(job.events)
    return job, events


def _host_events(events, task_name):
    """{host: event name} of one task's per-host outcome events."""
    out = {}
    for event in events:
        data = event.get("event_data") or {}
        if (event.get("event", "").startswith("runner_on_") and event["event"] != "runner_on_start"
                and data.get("task") == task_name and data.get("host")):
            out[data["host"]] = event["event"]
    return out


def _stdout(job):
    with open(os.path.join(job.config.artifact_dir, "stdout"), encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def check_job(data_dir):
    return _job(data_dir, "check", "check_host.yml")


@pytest.fixture(scope="module")
def preview_job(data_dir, check_job):  # after the check: it must find nothing changed
    return _job(data_dir, "preview", "enable_host.yml", cmdline="--check --diff")


def test_check_job_succeeds_with_an_unreachable_host(check_job):
    job, _events = check_job
    assert (job.status, job.rc) == ("successful", 0), _stdout(job)[-3000:]


def test_check_job_has_one_event_per_host(check_job):
    _job_, events = check_job
    outcomes = _host_events(events, "Gather SEV-SNP facts (read-only)")
    assert outcomes == dict([(name, "runner_on_ok") for name in CONTAINERS] + [(OFFLINE, "runner_on_unreachable")])
    (stats,) = [event for event in events if event["event"] == "playbook_on_stats"]
    assert set(CONTAINERS + [OFFLINE]) <= set(stats["event_data"]["ok"])
    assert stats["event_data"]["failures"] == {} and stats["event_data"]["dark"] == {}
    assert stats["event_data"]["ignored"] == {OFFLINE: 1}  # kept in the play for the report
    assert sum(stats["event_data"]["changed"].values()) == 1  # one change: the report was written


def test_check_job_report_is_in_the_job_artifacts(check_job):
    job, _events = check_job
    assert os.path.basename(job.config.artifact_dir) == "check"
    report_dir = os.path.join(job.config.artifact_dir, "sev_snp_report")
    for name in ("fleet.json", "fleet.md", "fleet.html", "latest"):
        assert os.path.isfile(os.path.join(report_dir, name)), "%s not in %s" % (name, report_dir)
    with open(os.path.join(report_dir, "fleet.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["summary"] == {"total": 4, "ready": 0, "not_ready": 3, "unreachable": 1, "failed": 0}
    assert sorted(row["host"] for row in report["hosts"]) == sorted(CONTAINERS + [OFFLINE])


def test_check_job_ran_the_installed_collection(check_job, data_dir):
    job, events = check_job
    (task,) = [event for event in events if event["event"] == "playbook_on_task_start"
               and event["event_data"].get("task") == "Gather SEV-SNP facts (read-only)"]
    installed = os.path.join(str(data_dir), "collections", "ansible_collections", "coco", "sev_snp")
    assert task["event_data"]["task_path"].startswith(installed), task["event_data"]["task_path"]


def test_preview_job_is_check_mode_on_every_host_and_changes_nothing(preview_job):
    job, events = preview_job
    assert (job.status, job.rc) == ("successful", 0), _stdout(job)[-3000:]
    (stats,) = [event for event in events if event["event"] == "playbook_on_stats"]
    assert stats["event_data"]["failures"] == {} and stats["event_data"]["dark"] == {}
    for name in CONTAINERS:
        assert name in stats["event_data"]["ok"]
        # The preview shows the change to come ...
        assert stats["event_data"]["changed"].get(name, 0) >= 1
    for name in CONTAINERS:
        # ... and makes none.
        assert _podman_exec(name, "cat %s" % GRUB_FILE) == STOCK_GRUB
        assert "msr" not in _podman_exec(name, "cat /etc/modules-load.d/*.conf 2>/dev/null || true")
    assert "check mode" in _stdout(job)
    assert OFFLINE not in _stdout(job)  # enable_host targets sev_snp_hosts only
