# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real ansible-playbook runs on the controller: playbooks/check_guest.yml and the snp_version test.

check_guest runs against "guests" that are this machine with a saved kernel log and an
empty device tree (guest_facts' root and kernel_log options), so the verdict is the log's,
whatever this machine is.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import _ROOT, collections_search_path

# Each test is a playbook run (seconds); the mutation run skips them.
pytestmark = pytest.mark.slow

FIXTURES = os.path.join(_ROOT, "tests", "fixtures", "guest")
PLAIN_LOG = os.path.join(FIXTURES, "plain-kvm-guest.log")
SNP_LOG = os.path.join(FIXTURES, "snp-kernel-6-double-space.log")


def run_playbook(tmp_path, playbook, inventory=None, extra_vars=None, args=()):
    """(return code, output) of ansible-playbook against local-connection hosts.

    The output's whitespace runs are folded to one space: the callback wraps long messages.
    """
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_search_path(), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "remote-tmp"),
               ANSIBLE_ROLES_PATH=os.path.join(_ROOT, "roles"), ANSIBLE_DEPRECATION_WARNINGS="1",
               ANSIBLE_STDOUT_CALLBACK="default")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook,
               "-i", str(inventory) if inventory else "localhost,", "-c", "local",
               "-e", json.dumps({"ansible_python_interpreter": sys.executable, "ansible_become": False})]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    process = subprocess.run(command + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=300, check=False)
    return process.returncode, " ".join(process.stdout.decode().split())


def recap(output, host):
    """{'ok': n, 'failed': n, ...} of one host's PLAY RECAP line."""
    match = re.search(r"PLAY RECAP .*?%s : ((?:\w+=\d+ ?)+)" % re.escape(host), output)
    assert match, output
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


# --- check_guest: options are role defaults, so inventory group_vars set them ---------------

def guest_inventory(tmp_path, group_vars=None):
    """Two guests: one whose kernel log shows SEV-SNP, one plain KVM guest."""
    empty_root = tmp_path / "empty-root"
    empty_root.mkdir(parents=True, exist_ok=True)
    inventory = tmp_path / "inventory"
    inventory.mkdir(parents=True)
    (inventory / "hosts.yml").write_text(json.dumps({"sev_snp_guests": {"hosts": {
        "guest-snp": {"sev_snp_check_guest_kernel_log": SNP_LOG, "sev_snp_check_guest_root": str(empty_root)},
        "guest-plain": {"sev_snp_check_guest_kernel_log": PLAIN_LOG, "sev_snp_check_guest_root": str(empty_root)},
    }}}))
    if group_vars is not None:
        (inventory / "group_vars").mkdir()
        (inventory / "group_vars" / "sev_snp_guests.yml").write_text(json.dumps(group_vars))
    return inventory


CHECK_GUEST = os.path.join(_ROOT, "playbooks", "check_guest.yml")


def test_check_guest_reports_without_failing_by_default(tmp_path):
    rc, output = run_playbook(tmp_path, CHECK_GUEST, guest_inventory(tmp_path))
    assert rc == 0, output
    assert "guest-snp: SEV-SNP protected [" in output
    assert "guest-plain: NOT encrypted [] (evidence: none); no evidence of memory encryption" in output
    assert recap(output, "guest-plain")["failed"] == 0


def test_inventory_group_vars_require_snp_fails_the_unprotected_guest(tmp_path):
    inventory = guest_inventory(tmp_path, {"sev_snp_check_guest_require_snp": True})
    rc, output = run_playbook(tmp_path, CHECK_GUEST, inventory)
    assert rc == 2, output
    assert "guest-plain is not SEV-SNP protected (sev_snp_check_guest_require_snp is true)" in output
    assert recap(output, "guest-plain")["failed"] == 1
    assert recap(output, "guest-snp")["failed"] == 0
    assert "Traceback" not in output


def test_extra_vars_still_override_the_inventory(tmp_path):
    inventory = guest_inventory(tmp_path, {"sev_snp_check_guest_require_snp": True})
    rc, output = run_playbook(tmp_path, CHECK_GUEST, inventory, {"sev_snp_check_guest_require_snp": False})
    assert rc == 0, output
    rc, output = run_playbook(tmp_path, CHECK_GUEST, guest_inventory(tmp_path / "second"),
                              {"sev_snp_check_guest_require_snp": "true"})
    assert rc == 2, output
    assert "guest-plain is not SEV-SNP protected" in output


def test_a_non_boolean_requirement_is_refused_by_the_role_arguments(tmp_path):
    inventory = guest_inventory(tmp_path, {"sev_snp_check_guest_require_snp": "sometimes"})
    rc, output = run_playbook(tmp_path, CHECK_GUEST, inventory)
    assert rc == 2, output
    assert "sev_snp_check_guest_require_snp" in output and "bool" in output
    assert "Traceback" not in output


# --- the snp_version test in ansible.builtin.version's order -------------------------------

SNP_VERSION_PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.assert:
        that:
          - "'1.55' is coco.sev_snp.snp_version('1.51', '>=')"
          - "'1.51' is not coco.sev_snp.snp_version('1.55', '>=')"
          - "'1.55' is version('1.51', '>=')"
          - "'1.9' is coco.sev_snp.snp_version('1.51', 'lt')"
          - "'1:55' is coco.sev_snp.snp_version('1.55')"
        quiet: true
    - name: The operator-first order of 0.1.0
      ansible.builtin.assert:
        that:
          - "'1.55' is coco.sev_snp.snp_version('>=', '1.51')"
        quiet: true
      when: old_order | default(false)
    - ansible.builtin.debug:
        msg: "{{ '1.55' is coco.sev_snp.snp_version(other, '>=') }}"
      when: other is defined
"""


@pytest.fixture
def version_playbook(tmp_path):
    path = tmp_path / "snp_version.yml"
    path.write_text(SNP_VERSION_PLAYBOOK)
    return str(path)


def test_snp_version_takes_ansible_builtin_versions_order(tmp_path, version_playbook):
    rc, output = run_playbook(tmp_path, version_playbook)
    assert rc == 0, output
    assert "DEPRECATION" not in output


def test_snp_version_old_order_works_with_a_deprecation_warning(tmp_path, version_playbook):
    rc, output = run_playbook(tmp_path, version_playbook, extra_vars={"old_order": True})
    assert rc == 0, output
    assert "[DEPRECATION WARNING]" in output
    assert "uses the old argument order (operator first); write snp_version('1.51', '>=')" in output


@pytest.mark.parametrize("other, text", [
    ("1.x", "'1.x' is not a SEV firmware version"),
    (1.51, "is a float"),
])
def test_snp_version_bad_input_is_a_clear_task_failure(tmp_path, version_playbook, other, text):
    rc, output = run_playbook(tmp_path, version_playbook, extra_vars={"other": other})
    assert rc == 2, output
    assert "snp_version: " in output and text in output
    assert "Traceback" not in output
