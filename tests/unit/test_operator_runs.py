# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator's first hour, run through ansible-playbook: every mistake ends loudly.

Each case is one ansible-playbook process; all of them start side by side. Most cases never
reach a host (the target and variable check runs on the controller; the inventory's hosts
point at a port where nothing listens, so a connection would show as UNREACHABLE). The
enable_host preview runs in check mode over local-connection hosts: host_facts reads labelled
copies of a Milan host's files (tests/fixtures/host/roots/milan-ready, a stand-in for EPYC
hardware), the role's GRUB file is a temporary file, and a stand-in sudo that always wants a
password plays the refusing host. Check mode writes nothing on this machine.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible.release import __version__ as ansible_version

from conftest import _ROOT, collections_search_path

PLAYBOOKS = os.path.join(_ROOT, "playbooks")
MILAN = os.path.join(_ROOT, "tests", "fixtures", "host", "roots", "milan-ready")
BIN = os.path.dirname(sys.executable)

UNREACHABLE = """\
{group}:
  hosts:
    epyc-1:
{epyc1_vars}    epyc-2:
  vars:
    ansible_connection: ssh
    ansible_host: 127.0.0.1
    ansible_port: 1
    ansible_user: root
"""

STOCK_GRUB = 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=pt quiet"\nGRUB_CMDLINE_LINUX=""\n'

# Stand-in for a sudo that wants a password the run did not give (what sudo -n prints).
REFUSING_SUDO = '#!/bin/sh\necho "sudo: a password is required" >&2\nexit 1\n'


class Run:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout + "\n" + proc.stderr

    def __repr__(self):
        return "rc=%s\n%s" % (self.rc, self.out)


def playbook(name, inventory, *extra, cwd):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_search_path(), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_DEPRECATION_WARNINGS="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.pop("ANSIBLE_CONFIG", None)
    path = name if os.path.isabs(name) else os.path.join(PLAYBOOKS, name)
    return Run(subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), path] + list(extra),
                              env=env, cwd=str(cwd), capture_output=True, text=True, check=False, timeout=600))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("operator")

    def write(name, text, mode=0o644):
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return path

    right = write("right.yml", UNREACHABLE.format(group="sev_snp_hosts", epyc1_vars=""))
    wrong_group = write("wrong-group.yml", UNREACHABLE.format(group="sev-snp-hosts", epyc1_vars=""))
    typo = write("typo.yml", UNREACHABLE.format(
        group="sev_snp_hosts", epyc1_vars="      sev_snp_host_reboot_of: true\n"))
    deprecated = write("deprecated.yml", UNREACHABLE.format(
        group="sev_snp_hosts", epyc1_vars="      sev_snp_host_gate_ignore: [sev_init_failed]\n"))
    hostless = write("hostless.yml", "sev_snp_hosts:\n  hosts: {}\n")
    old_report = write("report/fleet.md", "# an old report\n")
    # A site playbook that runs check_host twice: the second check sees the first one's results.
    site = write("site.yml", "- ansible.builtin.import_playbook: %s\n- ansible.builtin.import_playbook: %s\n" % (
        os.path.join(PLAYBOOKS, "check_host.yml"), os.path.join(PLAYBOOKS, "check_host.yml")))

    # The check-mode preview: the failing hosts come first in the inventory, so that a rollout
    # that stopped at the first failure would never show the others' diffs.
    for name in ("ready", "pending"):
        shutil.copytree(MILAN, str(base / "roots" / name))
    write("roots/pending/proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.4.0-coco root=UUID=0f0e iommu=pt quiet\n")
    grub = write("grub", STOCK_GRUB)
    sudo = write("refusing-sudo", REFUSING_SUDO, 0o755)
    preview = write("preview.yml", """\
sev_snp_hosts:
  hosts:
    nogrub:
      sev_snp_host_grub_file: {base}/no-such-dir/grub
    nosudo:
      sev_snp_become: true
      ansible_become_exe: {sudo}
      ansible_become_user: sev-snp-operator-test
    ready:
      sev_snp_host_facts_root: {base}/roots/ready
    pending:
      sev_snp_host_facts_root: {base}/roots/pending
  vars:
    ansible_connection: local
    ansible_python_interpreter: {python}
    sev_snp_become: false
    sev_snp_host_grub_file: {grub}
    sev_snp_host_cpu_check: warn
""".format(base=base, sudo=sudo, grub=grub, python=sys.executable))

    report = ["-e", "sev_snp_report_dir=%s" % old_report.parent]
    cases = {
        "preview": ("enable_host.yml", preview, "--check", "--diff"),
        "wrong_group": ("enable_host.yml", wrong_group),
        "wrong_target": ("enable_host.yml", right, "-e", "sev_snp_target=sev_snp_host"),
        "hostless_check": ("check_host.yml", hostless, "-e", "sev_snp_gate=true") + tuple(report),
        "typos": ("enable_host.yml", typo, "-e", "sev_snp_reboot_ok=true"),
        "limit_outside_target": ("enable_host.yml", right, "-e", "sev_snp_target=epyc-1", "-l", "epyc-2"),
        "site_twice": (str(site), deprecated, "-e", "sev_snp_report_dir=%s" % (base / "site-report")),
    }
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futures = dict((key, pool.submit(playbook, *case, cwd=base)) for key, case in cases.items())
        results = dict((key, future.result()) for key, future in futures.items())
    results["grub_after"] = grub.read_text()
    results["old_report_after"] = old_report.read_text()
    return results


# --- target patterns that match nothing -----------------------------------------------------------

def test_a_misspelt_inventory_group_fails_and_names_the_groups(runs):
    run = runs["wrong_group"]
    assert run.rc != 0, run
    assert "The host pattern 'sev_snp_hosts'" in run.out and "matches no host" in run.out, run
    assert "Did you mean sev-snp-hosts?" in run.out, run
    assert "Groups in this inventory: sev-snp-hosts." in run.out, run
    assert "UNREACHABLE" not in run.out, run


def test_a_misspelt_target_fails_with_the_closest_group(runs):
    run = runs["wrong_target"]
    assert run.rc != 0, run
    assert "The host pattern 'sev_snp_host'" in run.out and "Did you mean sev_snp_hosts?" in run.out, run
    assert "skipping: no hosts matched" not in run.out, run


def test_check_host_on_an_inventory_without_hosts_fails_and_leaves_the_old_report(runs):
    run = runs["hostless_check"]
    assert run.rc != 0, run
    assert "The host pattern 'all'" in run.out and "matches no host" in run.out, run
    assert runs["old_report_after"] == "# an old report\n"


def test_a_limit_outside_the_target_fails(runs):
    run = runs["limit_outside_target"]
    assert run.rc != 0, run
    assert "The host pattern 'epyc-1' matches 1 host, but none of them is in --limit epyc-2" in run.out, run


# --- variable names ---------------------------------------------------------------------------------

def test_typos_in_extra_vars_and_inventory_fail_before_any_host_is_contacted(runs):
    run = runs["typos"]
    assert run.rc != 0, run
    assert "- sev_snp_reboot_ok (set in extra vars (-e)): did you mean sev_snp_host_reboot_ok?" in run.out, run
    assert "- sev_snp_host_reboot_of (set in inventory of epyc-1): did you mean sev_snp_host_reboot_ok?" in run.out
    assert "UNREACHABLE" not in run.out, run


def test_deprecated_names_warn_and_own_results_of_an_earlier_play_are_not_typos(runs):
    run = runs["site_twice"]
    # check_host keeps unreachable hosts in its report: the run itself succeeds.
    assert run.rc == 0, run
    assert "[DEPRECATION WARNING]: sev_snp_host_gate_ignore is now sev_snp_gate_ignore" in run.out, run
    assert "not read by any of its playbooks" not in run.out, run
    assert run.out.count("Write the fleet readiness report on the controller") == 2, run


# --- the enable_host preview ------------------------------------------------------------------------

def test_check_mode_previews_every_host_after_a_failing_one(runs):
    run = runs["preview"]
    assert run.rc == 2, run
    # Both hosts after the failing ones show their would-be edit of the GRUB file.
    assert run.out.count('+GRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=nopt quiet"') == 2, run
    assert runs["grub_after"] == STOCK_GRUB


@pytest.mark.skipif(tuple(int(p) for p in ansible_version.split(".")[:2]) < (2, 17),
                    reason="ansible-core 2.16 words a refused sudo differently; the message is pinned on 2.19")
def test_a_refused_sudo_names_the_fixes(runs):
    run = runs["preview"]
    # sudo's own words, or (ansible-core 2.16) the become plugin's.
    assert any(('nosudo: privilege escalation (sudo to sev-snp-operator-test) was refused: "%s".' % said) in run.out
               for said in ("sudo: a password is required", "Missing sudo password")), run
    for fix in ("-K", "ansible_become_password", "ansible_become_user / ansible_become_method",
                "-e sev_snp_become=false"):
        assert fix in run.out, fix


def test_a_missing_grub_file_stops_the_host_before_anything_is_written(runs):
    run = runs["preview"]
    assert "nogrub: The boot configuration cannot be checked: " in run.out, run
    assert "no-such-dir/grub does not exist." in run.out
    assert "Set sev_snp_host_grub_file" in run.out
    assert "Nothing was changed on this host." in run.out
    # The host stopped in the task that writes msr.conf and the GRUB file, before either was
    # planned: no diff, no change, only its failure (which preflight's rescue turns into the message).
    config_task = run.out.split("Configure msr.conf and the kernel command line", 1)[1].split("TASK [", 1)[0]
    assert "fatal: [nogrub]" in config_task, config_task
    assert "changed: [nogrub]" not in config_task and "ok: [nogrub]" not in config_task, config_task


def test_the_summary_lists_each_group_with_the_command_that_finishes_it(runs):
    run = runs["preview"]
    summary = run.out.split("TASK [Summarise the rollout]", 1)[1]
    assert "enable_host (check mode: nothing was changed): 2 of 4 hosts went through, 1 verified ready." in summary
    assert "would change: ready, pending" in summary
    assert "rebooted: none" in summary
    assert "reboot pending: pending" in summary
    assert "- pending: check mode never reboots." in summary
    # ... and why, in the role's words (its running command line lacks iommu=nopt).
    assert "  pending needs it because the running kernel's command line lacks what the configuration asks: iommu=nopt" in summary
    assert "coco.sev_snp.enable_host -e sev_snp_host_reboot_ok=true -l pending" in summary
    assert "failed: nogrub, nosudo" in summary
    assert "coco.sev_snp.enable_host --check --diff -l nogrub,nosudo" in summary
    # Check mode is a preview: a pending reboot does not fail the run (the two failed hosts do).
    assert "still needs a reboot" not in summary
