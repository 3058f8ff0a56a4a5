# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side gate over the sev_snp fact: no round trip to the host."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    compare_versions,
)

ARGUMENT_SPEC = dict(
    min_snp_api=dict(type="str"),
    min_snp_build=dict(type="int"),
    ignore=dict(type="list", elements="str", default=[]),
    facts=dict(type="dict"),
)

GATE_PROBLEMS = ("snp_firmware_below_minimum", "snp_not_confirmed")


def gate_problems(facts, min_snp_api=None, min_snp_build=None):
    """Problems that block the host: error-severity facts problems plus the gate's own checks."""
    blocking = [p for p in facts.get("problems") or [] if p.get("severity") == "error"]
    firmware = facts.get("firmware") or {}
    snp_api, snp_build = firmware.get("snp_api"), firmware.get("snp_build")
    if min_snp_api is not None or min_snp_build is not None:
        wanted = (min_snp_api or "") + (" build %s" % min_snp_build if min_snp_build is not None else "")
        too_old = None
        if snp_api is None:
            too_old = "the host reports no SEV-SNP firmware version"
        else:
            order = compare_versions(snp_api, min_snp_api) if min_snp_api is not None else 0
            if order < 0:
                too_old = "SEV-SNP firmware %s build %s is older than %s" % (snp_api, snp_build, wanted.strip())
            elif order == 0 and min_snp_build is not None and (snp_build is None or snp_build < min_snp_build):
                too_old = "SEV-SNP firmware %s build %s is older than %s" % (snp_api, snp_build, wanted.strip())
        if too_old:
            blocking.append({
                "id": "snp_firmware_below_minimum", "severity": "error", "message": too_old + ".",
                "fix": "Update the SEV firmware (/lib/firmware/amd/%s, then reboot) or the BIOS to a release "
                       "that carries SEV-SNP firmware %s or newer." % (
                           (facts.get("cpu") or {}).get("firmware_file") or "amd_sev_fam19h_model0xh.sbin",
                           wanted.strip()),
            })
    kvm = facts.get("kvm") or {}
    confirmed = bool(snp_api and (facts.get("psp") or {}).get("snp_initialized", True)) or kvm.get("sev_snp") is True
    if not confirmed:
        blocking.append({
            "id": "snp_not_confirmed", "severity": "error",
            "message": "Nothing shows SEV-SNP running: no 'SEV-SNP API' line in the kernel log and kvm_amd "
                       "does not report sev_snp=Y.",
            "fix": "Fix the other problems listed for this host, or read the kernel log yourself "
                   "(`dmesg | grep -i -e ccp -e sev`); run coco.sev_snp.host_facts as root.",
        })
    return blocking


def format_problems(problems):
    return ["%s: %s Fix: %s" % (p["id"], p["message"], p["fix"]) for p in problems]


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

        facts = args.get("facts")
        if facts is None:
            facts = (task_vars.get("ansible_facts") or {}).get("sev_snp") or task_vars.get("sev_snp")
        if not isinstance(facts, dict) or "problems" not in facts:
            raise AnsibleActionFail(
                "coco.sev_snp.host_gate found no SEV-SNP facts for %s: run coco.sev_snp.host_facts first "
                "(in the same play), or pass them as facts=." % task_vars.get("inventory_hostname", "this host"))

        ignore = set(args["ignore"])
        try:
            blocking = gate_problems(facts, args.get("min_snp_api"), args.get("min_snp_build"))
        except SnpVersionError as exc:
            raise AnsibleActionFail("coco.sev_snp.host_gate: min_snp_api: %s" % exc)
        failing = [p for p in blocking if p["id"] not in ignore]
        ignored = [p["id"] for p in blocking if p["id"] in ignore]
        firmware = facts.get("firmware") or {}

        result.update(
            changed=False,
            summary={
                "ready": bool(facts.get("ready")) and not failing,
                "snp_api": firmware.get("snp_api"),
                "snp_build": firmware.get("snp_build"),
                "problems": [p.get("id") for p in facts.get("problems") or []],
            },
            problems=failing,
            ignored=ignored,
        )
        if failing:
            lines = format_problems(failing)
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
