# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of coco.sev_snp.fleet_report: collect every host's result, write the report.

Layout of ``dest`` (see the module's documentation):

    runs/<UTC time>[-partial]/fleet.{json,md,html}   one directory per run that found a change
    latest                                           one line: runs/<name> of the newest full run
    fleet.{json,md,html}                             copies of that newest full run

A run whose report equals the newest report of its kind (full or partial, timestamp aside)
writes nothing at all, so ``changed`` means "a file changed".
"""

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.coco.sev_snp.plugins.module_utils.atomic_file import atomic_write
from ansible_collections.coco.sev_snp.plugins.module_utils.fleet_report import (
    build_report,
    clean_text,
    console_by_problem,
    is_run_name,
    markdown_table,
    newest_run,
    parse_json,
    render_html,
    render_json,
    render_markdown,
    run_name,
    runs_to_prune,
    scope_line,
    stable_view,
    summary_line,
)

FILE_NAMES = {"json": "fleet.json", "markdown": "fleet.md", "html": "fleet.html"}
RUNS_DIR = "runs"
LATEST_FILE = "latest"
DEFAULT_KEEP = 30

ARGUMENT_SPEC = {
    "hosts": {"type": "list", "elements": "str", "required": True},
    "inventory_hosts": {"type": "list", "elements": "str"},
    "result_var": {"type": "str", "default": "sev_snp_host_facts_result"},
    "dest": {"type": "path", "default": "sev_snp_report"},
    "keep": {"type": "int", "default": DEFAULT_KEEP},
    "bios": {"type": "bool", "default": False},
    "bios_var": {"type": "str", "default": "sev_snp_bios_check"},
}


def _plain(value):
    """Tagged and lazy template containers turned into plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return dict((to_native(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return to_native(value)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return None


def write_file_atomically(path, content):
    """The one place that writes report files: readers see the old file or the new one, never a mix."""
    atomic_write(path, content.encode("utf-8"))


def _run_names(directory):
    try:
        return [name for name in os.listdir(os.path.join(directory, RUNS_DIR)) if is_run_name(name)]
    except (FileNotFoundError, NotADirectoryError):
        return []


def _latest_full_run(directory):
    """The run ``latest`` names, when it names one; anything else in it is ignored."""
    text = (_read(os.path.join(directory, LATEST_FILE)) or "").strip()
    prefix = RUNS_DIR + "/"
    if text.startswith(prefix) and is_run_name(text[len(prefix):]) and not text.endswith("-partial"):
        return text[len(prefix):]
    return None


def _run_report(directory, name):
    """The report of run ``name``, or None when it is missing or not a report."""
    if name is None:
        return None
    try:
        return parse_json(_read(os.path.join(directory, RUNS_DIR, name, FILE_NAMES["json"])) or "")
    except ValueError:
        return None


def _prunable(directory, name):
    """A run directory holds only report files (a file of the operator's keeps it)."""
    try:
        entries = os.listdir(os.path.join(directory, RUNS_DIR, name))
    except OSError:
        return False
    return set(entries) <= set(FILE_NAMES.values())


def _remove_run(directory, name):
    run_dir = os.path.join(directory, RUNS_DIR, name)
    for file_name in FILE_NAMES.values():
        try:
            os.unlink(os.path.join(run_dir, file_name))
        except FileNotFoundError:
            pass
    os.rmdir(run_dir)


def _texts(report):
    return {
        "json": render_json(report),
        "markdown": render_markdown(report),
        "html": render_html(report),
    }


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        hosts = [to_native(host) for host in args["hosts"]]
        inventory_hosts = args["inventory_hosts"]
        if inventory_hosts is None:
            inventory_hosts = (task_vars.get("groups") or {}).get("all") or hosts
        inventory_hosts = [to_native(host) for host in inventory_hosts]
        keep = args["keep"]
        if keep < 1:
            raise AnsibleActionFail("keep is %d: it counts the report runs to keep and must be at least 1 "
                                    "(sev_snp_report_keep in check_host)" % keep)
        result_var = args["result_var"]
        # Relative to where ansible-playbook was started: the playbook itself may live
        # inside an installed collection, which is no place for an operator's report.
        directory = os.path.abspath(args["dest"])
        if os.path.exists(directory) and not os.path.isdir(directory):
            raise AnsibleActionFail("dest %s exists and is not a directory: point dest (sev_snp_report_dir "
                                    "in check_host) at a directory" % directory)

        hostvars = task_vars.get("hostvars") or {}
        results = {}
        for host in hosts:
            if host in hostvars and result_var in hostvars[host]:
                results[host] = _plain(hostvars[host][result_var])
        bios = None
        if args["bios"]:
            bios = dict((host, _plain(hostvars[host][args["bios_var"]])) for host in hosts
                        if host in hostvars and args["bios_var"] in hostvars[host])
        report = build_report(hosts, results, generated_at=_now(), inventory_hosts=inventory_hosts, bios=bios)
        partial = report["scope"]["partial"]

        names = _run_names(directory)
        latest_full = _latest_full_run(directory)
        previous_name = newest_run(names, partial) if partial else latest_full
        previous = _run_report(directory, previous_name)
        unchanged = previous is not None and stable_view(previous) == stable_view(report)
        if unchanged:
            # Same fleet as the newest run of its kind: that run stands, with its own time.
            report["generated_at"] = previous["generated_at"]
            name = previous_name
        else:
            name = run_name(report["generated_at"], partial, taken=names)
        texts = _texts(report)

        run_dir = os.path.join(directory, RUNS_DIR, name)
        planned = [(os.path.join(run_dir, FILE_NAMES[kind]), texts[kind]) for kind in FILE_NAMES]
        if not partial:
            planned += [(os.path.join(directory, FILE_NAMES[kind]), texts[kind]) for kind in FILE_NAMES]
            # Last: until here the previous ``latest`` still names a complete run.
            planned.append((os.path.join(directory, LATEST_FILE), "%s/%s\n" % (RUNS_DIR, name)))
        if unchanged:
            before_path = os.path.join(run_dir, FILE_NAMES["markdown"])
        elif previous is not None:
            before_path = os.path.join(directory, RUNS_DIR, previous_name, FILE_NAMES["markdown"])
        else:
            before_path = None if partial else os.path.join(directory, FILE_NAMES["markdown"])
        to_write = [(path, text) for path, text in planned if _read(path) != text]
        protect = set([name, latest_full if partial else name])
        to_prune = [old for old in runs_to_prune(set(names) | set([name]), keep, protect)
                    if _prunable(directory, old)]
        changed = bool(to_write or to_prune)

        written = False
        if not self._task.check_mode:
            try:
                if to_write:
                    os.makedirs(run_dir, exist_ok=True)
                for path, text in to_write:
                    write_file_atomically(path, text)
                for old in to_prune:
                    _remove_run(directory, old)
            except OSError as exc:
                raise AnsibleActionFail("cannot write the fleet report to %s: %s; choose a writable "
                                        "dest (sev_snp_report_dir in check_host)" % (directory, exc.strerror or exc))
            written = bool(to_write)

        if to_write and self._task.diff:
            result["diff"] = {
                "before": (_read(before_path) if before_path else None) or "",
                "after": texts["markdown"],
                "before_header": before_path or "(no earlier report)",
                "after_header": os.path.join(run_dir, FILE_NAMES["markdown"]),
            }

        files = dict((kind, os.path.join(run_dir, file_name)) for kind, file_name in FILE_NAMES.items())
        if self._task.check_mode:
            state = "not written (check mode)"
        elif unchanged and not to_write:
            state = "unchanged since %s" % report["generated_at"]
        else:
            state = "written"
        # Row names are cleaned; an ordinary inventory name is its own clean form.
        inventory_names = dict((clean_text(host), host) for host in hosts)
        summary = report["summary"]
        scope = scope_line(report["scope"])
        result.update({
            "changed": changed,
            "written": written,
            "unchanged": unchanged,
            "partial": partial,
            "scope": report["scope"],
            "scope_line": scope,
            "dest": directory,
            "run": name,
            "run_dir": run_dir,
            "files": files,
            "pruned": to_prune,
            "summary": summary,
            "summary_line": summary_line(summary),
            "table": markdown_table(report),
            "by_problem": report["by_problem"],
            "by_problem_lines": console_by_problem(report),
            "hosts": report["hosts"],
            # Inventory name -> why the host could not be checked, for the play's messages.
            "not_checked": dict((inventory_names.get(row["host"], row["host"]), row["error"])
                                for row in report["hosts"] if row["error"]),
            "msg": "%s; report %s: %s%s" % (summary_line(summary), state, run_dir,
                                            (". " + scope) if scope else ""),
        })
        return result
