# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of coco.sev_snp.fleet_report: collect every host's result, write the report."""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.coco.sev_snp.plugins.module_utils.fleet_report import (
    build_report,
    markdown_table,
    parse_json,
    render_html,
    render_json,
    render_markdown,
    stable_view,
    summary_line,
)

FILE_NAMES = {"json": "fleet.json", "markdown": "fleet.md", "html": "fleet.html"}

ARGUMENT_SPEC = {
    "hosts": {"type": "list", "elements": "str", "required": True},
    "result_var": {"type": "str", "default": "sev_snp_host_facts_result"},
    "dest": {"type": "path", "default": "sev_snp_report"},
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


def _read(path):
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _write_atomically(path, content):
    """Readers never see a half-written report: write beside it, then rename over it."""
    directory = os.path.dirname(path)
    handle, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise


def _previous_report(directory):
    """The report already in ``directory``, or None when it is missing, partial or foreign."""
    paths = [os.path.join(directory, name) for name in FILE_NAMES.values()]
    if not all(os.path.isfile(path) for path in paths):
        return None
    try:
        return parse_json(_read(os.path.join(directory, FILE_NAMES["json"])) or "")
    except ValueError:
        return None


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
        result_var = args["result_var"]
        # Relative to where ansible-playbook was started: the playbook itself may live
        # inside an installed collection, which is no place for an operator's report.
        directory = os.path.abspath(args["dest"])

        hostvars = task_vars.get("hostvars") or {}
        results = {}
        for host in hosts:
            if host in hostvars and result_var in hostvars[host]:
                results[host] = _plain(hostvars[host][result_var])
        report = build_report(hosts, results)
        texts = {
            "json": render_json(report),
            "markdown": render_markdown(report),
            "html": render_html(report),
        }
        files = dict((kind, os.path.join(directory, name)) for kind, name in FILE_NAMES.items())

        previous = _previous_report(directory)
        changed = previous is None or stable_view(previous) != stable_view(report)
        previous_markdown = (_read(files["markdown"]) or "") if previous is not None else ""

        if os.path.exists(directory) and not os.path.isdir(directory):
            raise AnsibleActionFail("dest %s exists and is not a directory: point dest (sev_snp_report_dir "
                                    "in check_host) at a directory" % directory)
        written = False
        if not self._task.check_mode:
            try:
                os.makedirs(directory, exist_ok=True)
                for kind, path in files.items():
                    _write_atomically(path, texts[kind])
            except OSError as exc:
                raise AnsibleActionFail("cannot write the fleet report to %s: %s; choose a writable "
                                        "dest (sev_snp_report_dir in check_host)" % (directory, exc.strerror or exc))
            written = True

        if changed and self._task.diff:
            result["diff"] = {
                "before": previous_markdown,
                "after": texts["markdown"],
                "before_header": files["markdown"],
                "after_header": files["markdown"],
            }

        summary = report["summary"]
        result.update({
            "changed": changed,
            "written": written,
            "dest": directory,
            "files": files,
            "summary": summary,
            "summary_line": summary_line(summary),
            "table": markdown_table(report),
            "hosts": report["hosts"],
            "msg": "%s; report %s %s" % (summary_line(summary), "written to" if written else "not written (check mode)",
                                         directory),
        })
        return result
