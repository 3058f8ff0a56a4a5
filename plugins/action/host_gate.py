# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side gate over the sev_snp fact: no round trip to the host."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import decide
from ansible_collections.coco.sev_snp.plugins.module_utils.problems import problem_lines
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    checked_minimum_api,
    checked_minimum_build,
    parse_version,
)

# raw, not str/int: a YAML float 1.50 must reach the check as a float (and be refused), not
# be turned into the string "1.5" on the way.
ARGUMENT_SPEC = dict(
    min_snp_api=dict(type="raw"),
    min_snp_build=dict(type="raw"),
    ignore=dict(type="list", elements="str", default=[]),
    facts=dict(type="dict"),
)


def checked_minimums(args):
    """(min_snp_api, min_snp_build) checked; AnsibleActionFail naming the fix otherwise."""
    try:
        return (checked_minimum_api(args.get("min_snp_api")),
                checked_minimum_build(args.get("min_snp_build")))
    except SnpVersionError as exc:
        raise AnsibleActionFail("coco.sev_snp.host_gate: %s" % exc)


def checked_facts(facts, host):
    """The sev_snp fact, or AnsibleActionFail when it is missing or not shaped like one."""
    if not isinstance(facts, dict) or "problems" not in facts:
        raise AnsibleActionFail(
            "coco.sev_snp.host_gate found no SEV-SNP facts for %s: run coco.sev_snp.host_facts first "
            "(in the same play), or pass them as facts=." % host)
    problems = facts["problems"]
    if not isinstance(problems, list) or not all(
            isinstance(p, dict) and isinstance(p.get("id"), str) and p.get("severity") in ("error", "warning")
            for p in problems):
        raise AnsibleActionFail(
            "coco.sev_snp.host_gate: the facts of %s are not coco.sev_snp.host_facts output (problems must be a "
            "list of {id, severity, message, fix}); pass the sev_snp fact unchanged." % host)
    for key in ("firmware", "kvm", "psp", "cpu"):
        if facts.get(key) is not None and not isinstance(facts[key], dict):
            raise AnsibleActionFail("coco.sev_snp.host_gate: facts.%s of %s must be a mapping, got %s."
                                    % (key, host, type(facts[key]).__name__))
    snp_api = (facts.get("firmware") or {}).get("snp_api")
    if snp_api is not None:
        try:
            parse_version(snp_api)
        except SnpVersionError:
            raise AnsibleActionFail("coco.sev_snp.host_gate: facts.firmware.snp_api of %s is %r, not a firmware "
                                    "version; pass the sev_snp fact of coco.sev_snp.host_facts unchanged."
                                    % (host, snp_api))
    return facts


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(self._task.args)
        if validation.error_messages:
            raise AnsibleActionFail("coco.sev_snp.host_gate: %s" % "; ".join(validation.error_messages))
        args = validation.validated_parameters
        min_snp_api, min_snp_build = checked_minimums(args)

        facts = args.get("facts")
        if facts is None:
            facts = (task_vars.get("ansible_facts") or {}).get("sev_snp") or task_vars.get("sev_snp")
        facts = checked_facts(facts, task_vars.get("inventory_hostname", "this host"))

        try:
            verdict = decide(facts, min_snp_api, min_snp_build, set(args["ignore"]))
        except SnpVersionError as exc:
            raise AnsibleActionFail("coco.sev_snp.host_gate: the facts of %s carry a firmware version that is not "
                                    "one (%s); pass the sev_snp fact of coco.sev_snp.host_facts unchanged."
                                    % (task_vars.get("inventory_hostname", "this host"), exc))
        failing, ignored = verdict["blocking"], verdict["ignored"]
        firmware = facts.get("firmware") or {}

        result.update(
            changed=False,
            summary={
                "ready": verdict["ready"],
                "snp_api": firmware.get("snp_api"),
                "snp_build": firmware.get("snp_build"),
                "problems": [p.get("id") for p in facts.get("problems") or []],
            },
            problems=failing,
            ignored=ignored,
        )
        if failing:
            lines = problem_lines(failing)
            result["failed"] = True
            result["msg"] = "SEV-SNP not usable on %s (%d problem%s):\n%s" % (
                task_vars.get("inventory_hostname", "this host"), len(failing), "" if len(failing) == 1 else "s",
                "\n".join("- " + line for line in lines))
            result["problem_lines"] = lines
        else:
            result["msg"] = "SEV-SNP ready: SNP firmware %s build %s%s." % (
                firmware.get("snp_api") or "unknown", firmware.get("snp_build"),
                (", ignored " + ", ".join(ignored)) if ignored else "")
        return result
