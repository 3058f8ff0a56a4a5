"""Every playbook selects its hosts the same way: the extra variable ``sev_snp_target``.

``ansible-playbook --list-hosts`` resolves the play's ``hosts:`` exactly as a real run
does, without connecting anywhere.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import _ROOT, collections_search_path

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
    """The hosts of the playbook's main play (the second: the first checks the target)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_search_path(), ANSIBLE_NOCOLOR="1")
    bindir = os.path.dirname(sys.executable)
    proc = subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "--list-hosts", "-i", str(inventory),
         os.path.join(PLAYBOOKS, playbook)] + list(extra),
        env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    plays = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line.startswith("play #"):
            plays.append([])
        elif line and plays and not line.startswith(("pattern:", "hosts (")):
            plays[-1].append(line)
    assert plays[0] == ["localhost"], "the first play checks the target on the controller: %s" % plays
    return sorted(plays[1])


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


# --- the names the operator may give ---------------------------------------------------------

import re  # noqa: E402

import yaml  # noqa: E402

from ansible_collections.coco.sev_snp.plugins.action.check_vars import known_names, role_names  # noqa: E402
from ansible_collections.coco.sev_snp.plugins.module_utils.operator_vars import (  # noqa: E402
    DEPRECATED,
    PLAYBOOK_VARS,
    SET_BY_COLLECTION,
    judge,
)

EXAMPLE_INVENTORY = os.path.join(_ROOT, "docs", "examples", "inventory")
ROLES = os.path.join(_ROOT, "roles")
GROUPS = {"sev_snp_hosts", "sev_snp_guests"}


def header(playbook):
    """The comment lines before the first play."""
    lines = []
    with open(os.path.join(PLAYBOOKS, playbook), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("- "):
                break
            if line.startswith("#"):
                lines.append(line)
    return "".join(lines)


def documented(playbook):
    """Variables a playbook header documents: '-e NAME=' and the '#   NAME  description' lists."""
    text = header(playbook)
    names = set(re.findall(r"-e (sev_snp_\w+)=", text)) | set(re.findall(r"(?m)^#\s{2,}(sev_snp_\w+)\s", text))
    return names - GROUPS


@pytest.mark.parametrize("playbook", sorted(DEFAULTS))
def test_every_variable_a_playbook_header_documents_is_known(playbook):
    names = documented(playbook)
    assert "sev_snp_target" in names, "the header must say how to choose the hosts"
    options = role_names()[0]
    unknown = sorted(name for name in names if name not in PLAYBOOK_VARS and name not in options)
    assert not unknown, "%s documents %s: add them to PLAYBOOK_VARS (module_utils/operator_vars.py)" % (
        playbook, unknown)


@pytest.mark.parametrize("name", sorted(PLAYBOOK_VARS))
def test_every_playbook_variable_is_documented_and_read_by_its_playbooks(name):
    options = role_names()[0]
    for playbook in PLAYBOOK_VARS[name]:
        with open(os.path.join(PLAYBOOKS, playbook + ".yml"), encoding="utf-8") as handle:
            text = handle.read()
        body = text[len(header(playbook + ".yml")):]
        # A variable the role reads counts for the playbook that runs the role.
        assert name in body or name in options, "%s.yml does not read %s" % (playbook, name)
        assert name in documented(playbook + ".yml") or name in options, \
            "%s.yml does not document %s in its header" % (playbook, name)


class _StrictLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """Refuses a mapping that gives a key twice (PyYAML keeps the last one silently)."""


def _no_duplicates(loader, node, deep=False):
    keys = [loader.construct_object(key, deep=deep) for key, _value in node.value]
    duplicates = sorted(set(key for key in keys if keys.count(key) > 1))
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, "duplicate keys %s" % duplicates, node.start_mark)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def _inventory_files():
    for folder, _dirs, files in os.walk(EXAMPLE_INVENTORY):
        for name in sorted(files):
            if name.endswith((".yml", ".yaml")):
                yield os.path.join(folder, name)


def _variables(data, found):
    """Every key under a vars: of a YAML inventory, or at the top of a group_vars/host_vars file."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("vars",) and isinstance(value, dict):
                found.update(value)
            elif key == "hosts" and isinstance(value, dict):
                for host_vars in value.values():
                    found.update(host_vars or {})
            else:
                _variables(value, found)
    return found


def test_the_example_inventory_uses_only_known_names_once_each():
    sources = {}
    for path in _inventory_files():
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_StrictLoader)  # nosec - a SafeLoader
        rel = os.path.relpath(path, EXAMPLE_INVENTORY)
        names = set(data) if os.sep in rel else _variables(data, set())
        sources[rel] = names
    assert any(names for names in sources.values()), "the example inventory sets no variable at all"
    unknown, deprecated = judge(sources, known_names())
    assert unknown == [] and deprecated == []


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "register" in node or "ansible.builtin.set_fact" in node or "set_fact" in node:
            yield node
        for key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
            yield from _tasks(node.get(key))


def test_every_result_and_fact_the_collection_sets_is_known_as_its_own():
    files = [os.path.join(PLAYBOOKS, name) for name in sorted(DEFAULTS)]
    for folder, _dirs, names in os.walk(ROLES):
        if os.path.basename(folder) == "tasks":
            files.extend(os.path.join(folder, name) for name in sorted(names) if name.endswith(".yml"))
    set_names = set()
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for task in _tasks(yaml.safe_load(handle)):
                set_names.add(task.get("register"))
                set_names.update(task.get("ansible.builtin.set_fact") or task.get("set_fact") or {})
    own = sorted(name for name in set_names if isinstance(name, str) and name.startswith("sev_snp_"))
    assert "sev_snp_host_reboot_required" in own and "sev_snp_report" in own
    role_set = role_names()[1]
    missing = [name for name in own if name not in SET_BY_COLLECTION and name not in role_set]
    assert not missing, "add %s to SET_BY_COLLECTION (module_utils/operator_vars.py)" % missing
    options = role_names()[0]
    stale = sorted(name for name in SET_BY_COLLECTION if name not in own
                   and name not in ("sev_snp_guest",))  # guest_facts injects ansible_facts.sev_snp_guest
    assert not stale, "SET_BY_COLLECTION names %s that nothing sets" % stale
    assert not SET_BY_COLLECTION & options, "an option is not a result"


def test_deprecated_names_are_still_role_options():
    options = role_names()[0]
    for old, new in DEPRECATED.items():
        assert old in options and new in options
