# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet readiness report: one row per host from the results of ``host_facts``.

Pure rendering: the caller hands in what each host's ``coco.sev_snp.host_facts`` task
returned (a registered result, or ``None`` when the host never ran it) and gets back
rows, a summary and the JSON, Markdown and HTML texts. Nothing here reads or writes files.
"""

from __future__ import annotations

import datetime
import html
import json
import re

REPORT_FORMAT = "coco.sev_snp.fleet_report/1"

STATUS_READY = "ready"
STATUS_NOT_READY = "not_ready"
STATUS_UNREACHABLE = "unreachable"
STATUS_FAILED = "failed"
# Order of the summary and of the rows: what needs attention comes first.
STATUSES = (STATUS_NOT_READY, STATUS_FAILED, STATUS_UNREACHABLE, STATUS_READY)
STATUS_LABELS = {
    STATUS_READY: "ready",
    STATUS_NOT_READY: "not ready",
    STATUS_UNREACHABLE: "unreachable",
    STATUS_FAILED: "failed",
}

# Keys whose value changes on every run without the fleet changing.
VOLATILE_KEYS = ("generated_at",)


def _text(value):
    """A display string for a scalar that may be missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _section(facts, name):
    value = facts.get(name)
    return value if isinstance(value, dict) else {}


def _stderr_reason(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    # A traceback ends with the exception; anything else (a shell, pyenv) says it first.
    return lines[-1] if any(line.startswith("Traceback") for line in lines) else lines[0]


def _error_text(result):
    """The most useful one-line explanation a failed or unreachable result carries."""
    message = " ".join(_text(result.get("msg") or result.get("reason") or "").split())
    # ansible-core 2.19 prefixes every task error; in a column of errors it is noise.
    if message.startswith("Task failed: "):
        message = message[len("Task failed: "):]
    if message.startswith("MODULE FAILURE"):
        # The rest is "See stdout/stderr for the exact error", which the report does instead.
        message = "MODULE FAILURE"
    # A module that crashed says only "MODULE FAILURE" or that its output was no JSON;
    # its stderr holds the reason.
    reason = _stderr_reason(_text(result.get("module_stderr") or result.get("stderr") or ""))
    if reason and reason not in message:
        message = "%s: %s" % (message, reason) if message else reason
    return message or "no reason given"


def _problems(facts):
    problems = []
    for item in facts.get("problems") or []:
        if not isinstance(item, dict):
            problems.append({"id": _text(item), "severity": "error", "message": "", "fix": ""})
            continue
        problems.append({
            "id": _text(item.get("id")) or "unknown",
            "severity": _text(item.get("severity")) or "error",
            "message": _text(item.get("message")),
            "fix": _text(item.get("fix")),
        })
    return problems


def _empty_row(host, status, error=None):
    return {
        "host": _text(host),
        "status": status,
        "ready": None,
        "generation": None,
        "cpu_model": None,
        "snp_api": None,
        "snp_build": None,
        "iommu_mode": None,
        "msr_loaded": None,
        "msr_persistent": None,
        "reboot_required": None,
        "problem_ids": [],
        "problems": [],
        "error": error,
    }


def row_from_result(host, result):
    """One report row from what ``host_facts`` returned for ``host``.

    ``result`` is the registered task result (a dict) or ``None`` when the host has no
    result at all, for example because it left the play before the check ran.
    """
    if result is None:
        return _empty_row(host, STATUS_FAILED,
                          "no result recorded: the host left the play before its facts were gathered")
    if not isinstance(result, dict):
        return _empty_row(host, STATUS_FAILED, "unexpected result of type %s" % type(result).__name__)
    if result.get("unreachable"):
        return _empty_row(host, STATUS_UNREACHABLE, _error_text(result))
    if result.get("failed"):
        return _empty_row(host, STATUS_FAILED, _error_text(result))
    if result.get("skipped"):
        return _empty_row(host, STATUS_FAILED, "the facts task was skipped on this host, so nothing is known")

    facts = (result.get("ansible_facts") or {}).get("sev_snp")
    if not isinstance(facts, dict):
        return _empty_row(host, STATUS_FAILED, "the result holds no ansible_facts.sev_snp")

    cpu = _section(facts, "cpu")
    firmware = _section(facts, "firmware")
    msr = _section(facts, "msr")
    problems = _problems(facts)
    ready = facts.get("ready") is True
    row = _empty_row(host, STATUS_READY if ready else STATUS_NOT_READY)
    row.update({
        "ready": ready,
        "generation": cpu.get("generation"),
        "cpu_model": cpu.get("model_name"),
        "snp_api": firmware.get("snp_api"),
        "snp_build": firmware.get("snp_build"),
        "iommu_mode": _section(facts, "iommu").get("mode"),
        "msr_loaded": msr.get("loaded"),
        "msr_persistent": msr.get("persistent"),
        "reboot_required": _section(facts, "cmdline").get("reboot_required"),
        "problem_ids": [problem["id"] for problem in problems],
        "problems": problems,
    })
    return row


def build_rows(hosts, results):
    """Rows for every host in ``hosts`` (order kept), looking each up in ``results``.

    A host missing from ``results`` still gets a row: nobody is silently dropped.
    """
    rows = []
    seen = set()
    for host in hosts:
        if host in seen:
            continue
        seen.add(host)
        rows.append(row_from_result(host, results.get(host)))
    return rows


def summarize(rows):
    counts = dict((status, 0) for status in STATUSES)
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    counts["total"] = len(rows)
    return counts


def summary_line(summary):
    """``2 ready / 1 not ready / 1 unreachable / 0 failed (4 hosts)``."""
    parts = ["%d %s" % (summary.get(status, 0), STATUS_LABELS[status])
             for status in (STATUS_READY, STATUS_NOT_READY, STATUS_UNREACHABLE, STATUS_FAILED)]
    total = summary.get("total", 0)
    return "%s (%d host%s)" % (" / ".join(parts), total, "" if total == 1 else "s")


def build_report(hosts, results, generated_at=None):
    """The whole report document: metadata, summary and rows (JSON-serialisable)."""
    rows = build_rows(hosts, results)
    if generated_at is None:
        generated_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return {
        "format": REPORT_FORMAT,
        "generated_at": generated_at,
        "summary": summarize(rows),
        "hosts": rows,
    }


def stable_view(report):
    """The report without the keys that change on every run, to tell whether the fleet changed."""
    return dict((key, value) for key, value in report.items() if key not in VOLATILE_KEYS)


def _hosts_by_status(report, *statuses):
    return [row for row in report["hosts"] if row["status"] in statuses]


# ---------------------------------------------------------------------------------- JSON

def render_json(report):
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse_json(text):
    """A report document read back from its JSON; ValueError when it is not one."""
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise ValueError("not a JSON document: %s" % exc)
    if not isinstance(report, dict) or report.get("format") != REPORT_FORMAT:
        raise ValueError("not a %s document" % REPORT_FORMAT)
    return report


# ------------------------------------------------------------------------------ Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md_text(value):
    """Host-provided text made inert in Markdown (and in the HTML a renderer passes through)."""
    return _md_escape(" ".join(_text(value).split()))


def _md_escape(text):
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:-]+$")


def md_code(value):
    """A problem id as a code span; anything that is not an identifier is escaped as text."""
    text = _text(value)
    if not _IDENTIFIER.match(text):
        return md_text(text)
    return "`%s`" % text


def _code_segments(value):
    """Text split on backticks into (is_code, text) pairs; unbalanced backticks are plain text.

    The facts write commands in messages and fixes as `code`; keeping them as code keeps them
    readable in both renderings without trusting anything else in the text.
    """
    text = " ".join(_text(value).split())
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return [(False, text)]
    return [(index % 2 == 1, part) for index, part in enumerate(parts) if part]


def md_prose(value):
    """A message or fix for Markdown: `commands` stay code spans, everything else is inert text."""
    return "".join("`%s`" % part if is_code else _md_escape(part) for is_code, part in _code_segments(value))


def _firmware_text(row):
    if row["snp_api"] is None and row["snp_build"] is None:
        return ""
    return "%s build %s" % (_text(row["snp_api"]) or "?", _text(row["snp_build"]) or "?")


def _msr_text(row):
    if row["msr_loaded"] is None and row["msr_persistent"] is None:
        return ""
    loaded = "loaded" if row["msr_loaded"] else "not loaded" if row["msr_loaded"] is False else "unknown"
    if row["msr_persistent"] is True:
        return loaded + ", persistent"
    if row["msr_persistent"] is False:
        return loaded + ", not persistent"
    return loaded


def _pending_text(row):
    return _text(row["reboot_required"])


def _problems_or_error_md(row):
    if row["error"]:
        return md_text(row["error"])
    return ", ".join(md_code(problem_id) for problem_id in row["problem_ids"])


MARKDOWN_COLUMNS = ("Host", "Status", "Generation", "SNP firmware", "IOMMU", "msr", "Reboot pending",
                    "Problems")


def markdown_table(report):
    """The table alone, one row per host: what the play prints."""
    lines = [
        "| " + " | ".join(MARKDOWN_COLUMNS) + " |",
        "|" + "|".join(["---"] * len(MARKDOWN_COLUMNS)) + "|",
    ]
    for row in report["hosts"]:
        cells = [
            md_text(row["host"]),
            STATUS_LABELS.get(row["status"], row["status"]),
            md_text(row["generation"]),
            md_text(_firmware_text(row)),
            md_text(row["iommu_mode"]),
            md_text(_msr_text(row)),
            _pending_text(row),
            _problems_or_error_md(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(report):
    lines = [
        "# SEV-SNP fleet readiness",
        "",
        "**%s**" % summary_line(report["summary"]),
        "",
        "Generated %s." % md_text(report.get("generated_at")),
        "",
        markdown_table(report),
    ]
    not_ready = _hosts_by_status(report, STATUS_NOT_READY)
    if not_ready:
        lines += ["", "## What to fix"]
        for row in not_ready:
            lines += ["", "### %s" % md_text(row["host"]), ""]
            if not row["problems"]:
                lines.append("- not ready, but the facts list no problem: re-run the check")
            for problem in row["problems"]:
                entry = "- %s (%s): %s" % (md_code(problem["id"]), md_text(problem["severity"]),
                                           md_prose(problem["message"]) or "no message")
                if problem["fix"]:
                    entry += "  \n  Fix: %s" % md_prose(problem["fix"])
                lines.append(entry)
    broken = _hosts_by_status(report, STATUS_UNREACHABLE, STATUS_FAILED)
    if broken:
        lines += ["", "## Not checked", ""]
        for row in broken:
            lines.append("- **%s** %s: %s" % (md_text(row["host"]), STATUS_LABELS[row["status"]],
                                              md_text(row["error"])))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------- HTML

def h(value):
    return html.escape(_text(value), quote=True)


_CSS = """
:root { color-scheme: light; --ok: #1a7f37; --bad: #b42318; --warn: #b54708; --off: #667085;
  --line: #e4e7ec; --soft: #f9fafb; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #101828; margin: 0; background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 12px; }
.meta { color: var(--off); margin: 0 0 20px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 24px; }
.card { flex: 1 1 160px; border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px;
  border-top: 4px solid var(--off); }
.card .n { font-size: 28px; font-weight: 700; display: block; }
.card.ready { border-top-color: var(--ok); } .card.ready .n { color: var(--ok); }
.card.not_ready { border-top-color: var(--warn); } .card.not_ready .n { color: var(--warn); }
.card.failed { border-top-color: var(--bad); } .card.failed .n { color: var(--bad); }
.card.unreachable .n { color: var(--off); }
.card.zero { opacity: .55; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: var(--soft); }
td.host { font-weight: 600; white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px;
  font-weight: 600; white-space: nowrap; color: #fff; background: var(--off); }
.badge.ready { background: var(--ok); } .badge.not_ready { background: var(--warn); }
.badge.failed { background: var(--bad); }
.badge.error { background: var(--bad); } .badge.warning { background: var(--warn); }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: #f2f4f7;
  padding: 1px 5px; border-radius: 4px; word-break: break-word; }
.muted { color: var(--off); }
.host-block { border: 1px solid var(--line); border-radius: 10px; padding: 4px 16px 12px;
  margin-bottom: 14px; }
.host-block h3 { font-size: 15px; margin: 12px 0 8px; }
.problem { margin: 10px 0; padding-left: 12px; border-left: 3px solid var(--line); }
.problem.error { border-left-color: var(--bad); } .problem.warning { border-left-color: var(--warn); }
.fix { margin-top: 4px; } .fix b { color: var(--ok); }
.error-text { color: var(--bad); }
"""

# No script, no fetch: even a text that escaped escaping could not load or run anything.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def html_prose(value):
    """A message or fix for HTML: `commands` as <code>, all text escaped."""
    return "".join("<code>%s</code>" % h(part) if is_code else h(part) for is_code, part in _code_segments(value))


def _badge(status):
    return '<span class="badge %s">%s</span>' % (h(status), h(STATUS_LABELS.get(status, status)))


def _cell(value):
    text = _text(value)
    return h(text) if text else '<span class="muted">&ndash;</span>'


def _html_problem_cell(row):
    if row["error"]:
        return '<span class="error-text">%s</span>' % h(row["error"])
    if not row["problem_ids"]:
        return '<span class="muted">none</span>'
    return " ".join("<code>%s</code>" % h(problem_id) for problem_id in row["problem_ids"])


def _html_rows(report):
    out = []
    for index, row in enumerate(report["hosts"]):
        host = h(row["host"])
        if row["status"] == STATUS_NOT_READY:
            host = '<a href="#host-%d">%s</a>' % (index, host)
        out.append(
            "<tr><td class=\"host\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
            "<td>%s</td><td>%s</td></tr>" % (
                host, _badge(row["status"]), _cell(row["generation"]), _cell(_firmware_text(row)),
                _cell(row["iommu_mode"]), _cell(_msr_text(row)), _cell(_pending_text(row)),
                _html_problem_cell(row)))
    return "\n".join(out)


def _html_details(report):
    out = []
    for index, row in enumerate(report["hosts"]):
        if row["status"] != STATUS_NOT_READY:
            continue
        out.append('<section class="host-block" id="host-%d"><h3>%s</h3>' % (index, h(row["host"])))
        if not row["problems"]:
            out.append('<p class="muted">Not ready, but the facts list no problem: re-run the check.</p>')
        for problem in row["problems"]:
            severity = problem["severity"]
            out.append(
                '<div class="problem %s"><span class="badge %s">%s</span> <code>%s</code> %s' % (
                    h(severity), h(severity), h(severity), h(problem["id"]), html_prose(problem["message"])))
            if problem["fix"]:
                out.append('<div class="fix"><b>Fix:</b> %s</div>' % html_prose(problem["fix"]))
            out.append("</div>")
        out.append("</section>")
    return "\n".join(out)


def _html_unchecked(report):
    rows = _hosts_by_status(report, STATUS_UNREACHABLE, STATUS_FAILED)
    if not rows:
        return ""
    items = "\n".join('<li><b>%s</b> %s: <span class="error-text">%s</span></li>' % (
        h(row["host"]), _badge(row["status"]), h(row["error"])) for row in rows)
    return "<h2>Not checked</h2>\n<ul>\n%s\n</ul>" % items


def render_html(report):
    summary = report["summary"]
    cards = "\n".join(
        '<div class="card %s%s"><span class="n">%d</span>%s</div>' % (
            status, "" if summary.get(status, 0) else " zero", summary.get(status, 0), h(STATUS_LABELS[status]))
        for status in (STATUS_READY, STATUS_NOT_READY, STATUS_UNREACHABLE, STATUS_FAILED))
    header = "".join("<th>%s</th>" % h(column) for column in MARKDOWN_COLUMNS)
    details = _html_details(report)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % h(_CSP),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>SEV-SNP fleet readiness: %s</title>" % h(summary_line(summary)),
        "<style>%s</style></head><body><main>" % _CSS,
        "<h1>SEV-SNP fleet readiness</h1>",
        '<p class="meta">%s &middot; generated %s</p>' % (h(summary_line(summary)), h(report.get("generated_at"))),
        '<div class="cards">%s</div>' % cards,
        "<table><thead><tr>%s</tr></thead><tbody>" % header,
        _html_rows(report),
        "</tbody></table>",
    ]
    if details:
        parts += ["<h2>What to fix</h2>", details]
    parts += [_html_unchecked(report), "</main></body></html>"]
    return "\n".join(part for part in parts if part) + "\n"
