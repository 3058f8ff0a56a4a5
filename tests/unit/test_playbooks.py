"""Every playbook selects its hosts the same way: the extra variable ``sev_snp_target``.

``ansible-playbook --list-hosts`` resolves the play's ``hosts:`` exactly as a real run
does, without connecting anywhere.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import _BASE, _ROOT

PLAYBOOKS = os.path.join(_ROOT, "playbooks")
INVENTORY = """\
sev_snp_hosts:
  hosts:
    epyc-1:
    epyc-2:
sev_snp_guests:
  hosts:
    guest-1:
elsewhere:
  hosts:
    other-1:
"""

# The documented default of each playbook.
DEFAULTS = {
    "check_host.yml": ["epyc-1", "epyc-2", "guest-1", "other-1"],
    "enable_host.yml": ["epyc-1", "epyc-2"],
    "define_guest.yml": ["epyc-1", "epyc-2"],
    "attest_host.yml": ["epyc-1", "epyc-2"],
    "check_guest.yml": ["guest-1"],
    "attest_guest.yml": ["guest-1"],
    "bios.yml": ["epyc-1", "epyc-2"],
}


def list_hosts(playbook, inventory, *extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=_BASE, ANSIBLE_NOCOLOR="1")
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "--list-hosts", "-i", str(inventory),
         os.path.join(PLAYBOOKS, playbook)] + list(extra),
        env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    hosts = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line and not line.startswith(("playbook:", "play #", "pattern:", "hosts (")):
            hosts.append(line)
    return sorted(hosts)


def test_every_playbook_is_covered():
    assert sorted(f for f in os.listdir(PLAYBOOKS) if f.endswith(".yml")) == sorted(DEFAULTS)


TARGET = "elsewhere:epyc-2"


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    """{(playbook, target or None): hosts}, every ansible-playbook run side by side."""
    inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    inventory.write_text(INVENTORY)
    cases = [(playbook, target) for playbook in sorted(DEFAULTS) for target in (None, TARGET)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(
            lambda case: list_hosts(case[0], inventory, *(["-e", "sev_snp_target=" + case[1]] if case[1] else [])),
            cases)
        return dict(zip(cases, results))


@pytest.mark.parametrize("playbook", sorted(DEFAULTS))
def test_default_hosts(listed, playbook):
    assert listed[(playbook, None)] == DEFAULTS[playbook]


@pytest.mark.parametrize("playbook", sorted(DEFAULTS))
def test_sev_snp_target_selects_the_hosts(listed, playbook):
    assert listed[(playbook, TARGET)] == ["epyc-2", "other-1"]
