# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side check of the operator's input before a playbook touches any host."""

from __future__ import annotations

import glob
import os

import yaml

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import load_extra_vars

from ansible_collections.coco.sev_snp.plugins.module_utils.operator_vars import (
    PLAYBOOK_VARS,
    SET_BY_COLLECTION,
    deprecation_message,
    judge,
    own_names,
    target_message,
    unknown_message,
)

display = Display()

ARGUMENT_SPEC = dict(
    target=dict(type="str", required=True),
    target_hosts=dict(type="list", elements="str", required=True),
    limit_hosts=dict(type="list", elements="str"),
    check_names=dict(type="bool", default=True),
)

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")


def _load_yaml(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def role_names(roles_dir=ROLES_DIR):
    """(options, set): every role's documented options, and the names its vars/ files set."""
    options, role_set = set(), set()
    for path in sorted(glob.glob(os.path.join(roles_dir, "*", "meta", "argument_specs.yml"))):
        for entry in (_load_yaml(path).get("argument_specs") or {}).values():
            options.update((entry or {}).get("options") or {})
    for path in sorted(glob.glob(os.path.join(roles_dir, "*", "vars", "*.yml"))):
        role_set.update(_load_yaml(path))
    return options, role_set


def known_names(roles_dir=ROLES_DIR):
    options, role_set = role_names(roles_dir)
    return options | role_set | set(PLAYBOOK_VARS) | SET_BY_COLLECTION


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("coco.sev_snp.check_vars: %s" % "; ".join(validation.error_messages))
        args = validation.validated_parameters

        target, hosts = args["target"], args["target_hosts"]
        if not hosts:
            raise AnsibleActionFail(target_message(target, task_vars.get("groups") or {}))
        if args["limit_hosts"] is not None:
            limited = set(args["limit_hosts"])
            hosts = [host for host in hosts if host in limited]
            if not hosts:
                raise AnsibleActionFail(
                    "The host pattern %r matches %d host%s, but none of them is in --limit %s, so nothing would "
                    "run. Widen the limit or give -e sev_snp_target=PATTERN." % (
                        target, len(args["target_hosts"]), "" if len(args["target_hosts"]) == 1 else "s",
                        task_vars.get("ansible_limit", "")))

        result.update(changed=False, hosts=hosts, unknown=[], deprecated=[])
        if args["check_names"]:
            unknown, deprecated = judge(self._names_by_source(hosts, task_vars), known_names())
            for old, new in deprecated:
                display.deprecated(deprecation_message(old, new), version="1.0.0", collection_name="coco.sev_snp")
            result.update(unknown=[dict(name=name, sources=sources, suggestion=close)
                                   for name, sources, close in unknown],
                          deprecated=[dict(name=old, replacement=new) for old, new in deprecated])
            if unknown:
                result.update(failed=True, msg=unknown_message(unknown))
                return result
        result["msg"] = "%d host%s targeted by %r; variable names checked." % (
            len(hosts), "" if len(hosts) == 1 else "s", target)
        return result

    def _names_by_source(self, hosts, task_vars):
        """{source: names}: the extra vars, then each host's inventory (and earlier plays') variables."""
        extra = own_names(load_extra_vars(self._loader))
        sources = {"extra vars (-e)": extra}
        hostvars = task_vars.get("hostvars")
        for host in hosts:
            try:
                names = hostvars.raw_get(host) if hostvars is not None else {}
            except Exception:  # pylint: disable=broad-except
                names = {}
            # Extra vars are in every host's variables too: name them once, where they were given.
            sources["inventory of %s" % host] = [name for name in own_names(names) if name not in extra]
        return sources
