# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report check_host wrote on the controller, checked against the containers themselves."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest

REPORT_DIR = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "report")
CONTAINERS = ["sev-snp-check-1", "sev-snp-check-2", "sev-snp-check-3"]
OFFLINE = "sev-snp-check-offline"

testinfra_hosts = ["ansible://sev_snp_check_containers"]


def read(name):
    path = os.path.join(REPORT_DIR, name)
    if not os.path.isfile(path):
        pytest.fail("%s missing: check_host did not write its report" % path)
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def report():
    return json.loads(read("fleet.json"))


@pytest.fixture(scope="module")
def rows(report):
    return dict((row["host"], row) for row in report["hosts"])


def test_every_inventory_host_has_exactly_one_row(report):
    assert sorted(row["host"] for row in report["hosts"]) == sorted(CONTAINERS + [OFFLINE])


def test_counts(report):
    assert report["summary"] == {"total": 4, "ready": 0, "not_ready": 3, "unreachable": 1, "failed": 0}


def test_unreachable_host_is_reported_with_the_connection_error(rows):
    row = rows[OFFLINE]
    assert row["status"] == "unreachable"
    assert "Connection refused" in row["error"] or "connect" in row["error"].lower()


def test_container_row_matches_the_container(host, rows):
    row = rows[host.backend.get_hostname()]
    assert row["status"] == "not_ready"
    assert row["ready"] is False
    assert row["problems"], "a host that is not ready must say why"
    assert all(problem["fix"] for problem in row["problems"] if problem["severity"] == "error")
    vendor = [line.split(":", 1)[1].strip() for line in host.file("/proc/cpuinfo").content_string.splitlines()
              if line.startswith("vendor_id")][0]
    if vendor != "AuthenticAMD":
        assert "not_amd_epyc" in row["problem_ids"]
    # The check is read-only: the first step of enabling a host did not happen.
    assert not host.file("/etc/modules-load.d/msr.conf").exists


def test_markdown_has_the_summary_and_one_table_row_per_host(report):
    text = read("fleet.md")
    assert "0 ready / 3 not ready / 1 unreachable / 0 failed (4 hosts)" in text
    for name in CONTAINERS + [OFFLINE]:
        assert [line for line in text.splitlines() if line.startswith("| %s |" % name)], name


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [value for name, value in attrs if name in ("src", "href") and value and value[0] != "#"]


def test_html_is_self_contained_and_lists_every_host():
    text = read("fleet.html")
    parser = _Tags()
    parser.feed(text)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert parser.urls == []
    assert parser.tags.count("tr") == 1 + 4
    assert "3 not ready" in text and OFFLINE in text


def check_host(*extra):
    """Run playbooks/check_host.yml against the scenario's inventory; (exit code, output)."""
    playbook = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", "check_host.yml")
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])  # with its group_vars
    ansible_playbook = (shutil.which("ansible-playbook")
                        or os.path.join(os.path.dirname(sys.executable), "ansible-playbook"))
    run = subprocess.run([ansible_playbook, "-i", inventory, playbook] + list(extra),
                         capture_output=True, text=True, timeout=600, check=False)
    return run.returncode, run.stdout + run.stderr


def snapshot(directory):
    found = {}
    for root, _dirs, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as handle:
                found[os.path.relpath(path, directory)] = (handle.read(), os.stat(path).st_mtime_ns)
    return found


def test_latest_names_the_one_run_and_the_copies_match_it():
    """converge wrote one run; the idempotence converge found no change and wrote nothing."""
    runs = os.listdir(os.path.join(REPORT_DIR, "runs"))
    assert len([name for name in runs if not name.endswith("-partial")]) == 1, runs
    assert read("latest") == "runs/%s\n" % sorted(runs)[0]
    for name in ("fleet.json", "fleet.md", "fleet.html"):
        assert read(name) == read(os.path.join("runs", sorted(runs)[0], name))


def test_by_problem_comes_first_with_the_unreachable_host_and_its_fix(report):
    groups = dict((group["id"], group) for group in report["by_problem"])
    assert groups["host_unreachable"]["hosts"] == [OFFLINE]
    assert "ansible_port" in groups["host_unreachable"]["fix"]
    assert all(group["count"] == len(group["hosts"]) for group in groups.values())
    text = read("fleet.md")
    assert text.index("## By problem") < text.index("## Hosts")
    assert "- **`host_unreachable`** (error), 1 host: %s" % OFFLINE in text
    # Sorted by status, then by name: the three not-ready containers, then the unreachable host.
    assert [row["host"] for row in report["hosts"]] == CONTAINERS + [OFFLINE]


def test_gate_fails_every_host_yet_the_report_is_written(tmp_path):
    """With sev_snp_gate the play fails, but only after the report exists; the output groups by problem."""
    code, output = check_host("-e", "sev_snp_gate=true", "-e", "sev_snp_report_dir=%s" % tmp_path)
    assert code == 2, output
    for name in CONTAINERS:
        assert "SEV-SNP not usable on %s" % name in output
    assert "%s was not checked (unreachable)" % OFFLINE in output
    assert "host_unreachable (error) on 1 host: %s" % OFFLINE in output
    assert "fix: Check that the host is up" in output
    with open(os.path.join(str(tmp_path), "fleet.json"), encoding="utf-8") as handle:
        assert len(json.load(handle)["hosts"]) == 4


def test_limited_run_with_a_refused_sudo_names_the_fix_and_keeps_the_full_report():
    """-l one host, connecting as a user sudo refuses: a partial report with the become fix."""
    user = "sevsnp-op"
    podman = shutil.which("podman") or "podman"
    subprocess.run([podman, "exec", CONTAINERS[0], "sh", "-c",
                    "id %s >/dev/null 2>&1 || useradd -m %s" % (user, user)], check=True, timeout=60)
    before = snapshot(REPORT_DIR)
    code, output = check_host("-l", CONTAINERS[0], "-e", "ansible_user=%s" % user,
                              "-e", "ansible_remote_tmp=/home/%s/.ansible/tmp" % user)
    assert code == 0, output
    assert "become_failed (error) on 1 host: %s" % CONTAINERS[0] in output
    assert "fix: Give the become password with -K (--ask-become-pass) or set ansible_become_password" in output
    assert "-e sev_snp_become=false" in output
    assert "Partial run: 1 of 4 inventory hosts" in output
    # The full report, its copies and latest are untouched; the limited run is a run of its own.
    after = snapshot(REPORT_DIR)
    assert dict((k, v) for k, v in after.items() if k in before) == before
    (partial,) = [name for name in after if name.endswith("-partial/fleet.json")]
    report = json.loads(after[partial][0])
    assert report["scope"] == {"partial": True, "hosts": 1, "inventory_hosts": 4, "not_covered": 3}
    (row,) = report["hosts"]
    assert row["status"] == "failed" and row["problem_ids"] == ["become_failed"]
    assert "a password is required" in row["error"] or "sudoers" in row["error"], row["error"]
