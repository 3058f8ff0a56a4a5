# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/sev_snp_host/tasks/redhat_check.yml, run by ansible-playbook against localhost.

No RHEL host here: a stand-in grub2-mkconfig (a shell script, as the real one is) is put
first on PATH, once with the --update-bls-cmdline option RHEL 9.3's grub2 has and once
without it (RHEL 9.2 and older). The task file only reads; nothing on this machine changes.
"""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from conftest import _ROOT, collections_search_path

BIN = os.path.dirname(sys.executable)
ROLE_TASKS = os.path.join(_ROOT, "roles", "sev_snp_host", "tasks")
RHEL_COMMAND = "grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline"

# Stand-ins for grub2-mkconfig: the option parsing of RHEL 9.3's script, and of 9.2's.
NEW_MKCONFIG = """#!/bin/sh
# stand-in for RHEL 9.3's grub2-mkconfig
case "$1" in --update-bls-cmdline) ;; esac
exit 0
"""
OLD_MKCONFIG = """#!/bin/sh
# stand-in for RHEL 9.2's grub2-mkconfig
case "$1" in --no-grubenv-update) ;; *) echo "unrecognized option '$1'" >&2; exit 1 ;; esac
"""

PLAY = """\
- name: Run redhat_check.yml as the role runs it
  hosts: localhost
  gather_facts: false
  environment:
    PATH: "{fake}:{{{{ ansible_env.PATH | default('/usr/bin:/bin') }}}}"
  tasks:
    - name: The RHEL-family check
      ansible.builtin.include_role:
        name: coco.sev_snp.sev_snp_host
        tasks_from: redhat_check.yml
      vars:
        sev_snp_host_bootloader_command: "{command}"
    - name: Reached only when the host was not refused
      ansible.builtin.debug:
        msg: "host accepted"
"""


def _run(base, name, mkconfig, command=RHEL_COMMAND):
    fake = base / name
    fake.mkdir()
    if mkconfig is not None:
        (fake / "grub2-mkconfig").write_text(mkconfig)
        (fake / "grub2-mkconfig").chmod(0o755)
    play = base / (name + ".yml")
    play.write_text(PLAY.format(fake=fake, command=command))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_search_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.pop("ANSIBLE_CONFIG", None)
    # A PATH without any real grub2-mkconfig of this machine (Debian has none; be sure).
    env["PATH"] = os.pathsep.join([BIN, "/usr/bin", "/bin"])
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play)],
                          env=env, cwd=str(base), capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("redhat")
    cases = {
        "new": (NEW_MKCONFIG,),
        "old": (OLD_MKCONFIG,),
        "missing": (None,),
        "override": (OLD_MKCONFIG, "grub2-mkconfig -o /boot/grub2/grub.cfg"),
    }
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futures = dict((name, pool.submit(_run, base, name, *args)) for name, args in cases.items())
        return dict((name, future.result()) for name, future in futures.items())


def test_grub2_with_the_option_is_accepted(runs):
    code, out = runs["new"]
    assert code == 0, out
    assert "host accepted" in out


def test_grub2_without_the_option_is_refused_with_the_fix(runs):
    code, out = runs["old"]
    assert code == 2, out
    assert "host accepted" not in out
    assert "has no --update-bls-cmdline option (RHEL-family grub2 has it from RHEL 9.3 on)" in out
    assert "/old/grub2-mkconfig has no" in out
    assert "Nothing was changed on this host" in out
    assert "Update grub2-tools to RHEL 9.3's or newer, or set sev_snp_host_bootloader_command" in out
    assert "Traceback" not in out


def test_missing_grub2_mkconfig_is_refused(runs):
    code, out = runs["missing"]
    assert code == 2, out
    assert "the bootloader command grub2-mkconfig is not installed" in out


def test_an_operator_command_without_the_option_is_not_probed(runs):
    code, out = runs["override"]
    assert code == 0, out
    assert "host accepted" in out


def test_main_includes_the_check_for_redhat_before_any_change():
    with open(os.path.join(ROLE_TASKS, "main.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    files = [task.get("ansible.builtin.import_tasks") or task.get("ansible.builtin.include_tasks") for task in tasks]
    index = files.index("redhat_check.yml")
    assert files[:index] == ["preflight.yml"]  # the OS family is known, nothing written yet
    assert tasks[index]["when"] == "_sev_snp_host_os_family == 'RedHat'"
    for later in ("msr.yml", "cmdline.yml", "bootloader.yml"):
        assert files.index(later) > index


def test_the_redhat_command_is_the_one_checked():
    with open(os.path.join(_ROOT, "roles", "sev_snp_host", "vars", "RedHat.yml"), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["sev_snp_host_os_bootloader_command"] == RHEL_COMMAND
