# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet readiness report: one row per host from the results of ``host_facts``.

Pure rendering: the caller hands in what each host's ``coco.sev_snp.host_facts`` task
returned (a registered result, or ``None`` when the host never ran it) and gets back
rows, a summary, the problems grouped across hosts and the JSON, Markdown, HTML and
console texts. Nothing here reads or writes files.

Everything a host sends is cleaned once, when its row is built (``clean_text``): one
line, no control or bidirectional-override characters, at most ``MAX_FIELD_CHARS``
characters, and each field of the type its column promises. The renderers then escape
for their format (Markdown, HTML, JSON), so no text from a host can add markup, break a
table row or move the terminal's cursor.
"""

from __future__ import annotations

import datetime
import html
import json
import re

from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import decide
from ansible_collections.coco.sev_snp.plugins.module_utils.problems import blocking

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

SEVERITIES = ("error", "warning", "info")

# Keys whose value changes on every run without the fleet changing.
VOLATILE_KEYS = ("generated_at",)

# Longer host texts are cut (a crashing module can print megabytes into its stderr).
MAX_FIELD_CHARS = 1000
# Hosts named per problem in the console; the files always name all of them.
CONSOLE_MAX_HOSTS = 20

# Why a host could not be checked, as problems, so that the summary by problem lists them
# with a fix like any other problem.
HOST_UNREACHABLE = "host_unreachable"
BECOME_FAILED = "become_failed"
FACTS_MODULE_FAILED = "facts_module_failed"
FACTS_MISSING = "facts_missing"

BECOME_FIX = ("Give the become password with -K (--ask-become-pass) or set ansible_become_password "
              "(ansible_become_pass) for the host; set ansible_become_user or ansible_become_method if "
              "the host escalates differently; or run without privilege escalation "
              "(-e sev_snp_become=false), which usually leaves the kernel log unreadable "
              "(kernel_log_unavailable).")

_NOT_CHECKED = {
    HOST_UNREACHABLE: (
        "Ansible could not connect to the host; its row says why.",
        "Check that the host is up and that the inventory's connection settings (ansible_host, "
        "ansible_port, ansible_user, SSH keys) reach it: `ansible HOST -m ansible.builtin.ping`."),
    BECOME_FAILED: (
        "Privilege escalation (become) failed, so the facts could not be read as root.",
        BECOME_FIX),
    FACTS_MODULE_FAILED: (
        "The facts module failed on the host; its row says why.",
        "Read the host's error; re-run with -l HOST -vvv for the module's whole output (a missing "
        "Python needs ansible_python_interpreter)."),
    FACTS_MISSING: (
        "No facts were recorded for the host.",
        "Re-run the check; if the host keeps leaving the play early, run it alone with -l HOST -vvv."),
}

# What sudo, su and Ansible's become plugins say when escalation is refused.
_BECOME_FAILURE = re.compile(
    r"a password is required|is not in the sudoers file|is not allowed to execute|"
    r"incorrect (?:sudo |su |become )?password|missing (?:sudo |su |become )?password|"
    r"sorry, try again|a terminal is required|no tty present|"
    r"timeout \(\d+s\) waiting for privilege escalation prompt|su: authentication failure",
    re.IGNORECASE)

# C0/C1 controls (whitespace ones are folded into spaces before), bidirectional overrides
# and isolates, byte-order marks and lone surrogates (which cannot even be written as UTF-8).
_UNSAFE_CHARS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def _visible_escape(match):
    code = ord(match.group(0))
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code


def _raw_text(value):
    """Any value as text: the form an operator would recognise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def clean_text(value, limit=MAX_FIELD_CHARS):
    """One safe line of text from anything a host may send; ``""`` for None.

    Whitespace runs (newlines included) become one space, other control and
    bidirectional-override characters become visible escapes such as ``\\x1b``, and text
    beyond ``limit`` characters is cut with a note of how much was left out.
    """
    text = _UNSAFE_CHARS.sub(_visible_escape, " ".join(_raw_text(value).split()))
    if limit is not None and len(text) > limit:
        text = "%s... (%d more characters)" % (text[:limit], len(text) - limit)
    return text


def _text_or_none(value):
    """A text column: cleaned text, or None when the host did not say."""
    if value is None:
        return None
    return clean_text(value) or None


def _bool_or_none(value):
    """A yes/no column: True, False, or None (unknown) for anything that is not a boolean."""
    return value if isinstance(value, bool) else None


def _int_or_none(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _severity(value):
    """A known severity; anything else counts as an error, so nothing is played down."""
    text = clean_text(value).lower()
    return text if text in SEVERITIES else "error"


def _text(value):
    """Display form of a value for the renderers: cleaned like a row field, never cut again."""
    return clean_text(value, limit=None)


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
    message = " ".join(_raw_text(result.get("msg") or result.get("reason") or "").split())
    # ansible-core 2.19 prefixes every task error; in a column of errors it is noise.
    if message.startswith("Task failed: "):
        message = message[len("Task failed: "):]
    if message.startswith("MODULE FAILURE"):
        # The rest is "See stdout/stderr for the exact error", which the report does instead.
        message = "MODULE FAILURE"
    # A module that crashed says only "MODULE FAILURE" or that its output was no JSON;
    # its stderr holds the reason.
    reason = _stderr_reason(_raw_text(result.get("module_stderr") or result.get("stderr") or ""))
    if reason and reason not in message:
        message = "%s: %s" % (message, reason) if message else reason
    return clean_text(message) or "no reason given"


def become_failure(result):
    """The line in which sudo/su refused to escalate, or None when escalation did not fail."""
    for key in ("module_stderr", "module_stdout", "stderr", "stdout", "msg", "reason"):
        for line in _raw_text(result.get(key)).splitlines():
            if _BECOME_FAILURE.search(line):
                return clean_text(line)
    return None


def _problems(facts):
    problems = []
    items = facts.get("problems")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            problems.append({"id": clean_text(item) or "unknown", "severity": "error", "message": "", "fix": ""})
            continue
        problems.append({
            "id": clean_text(item.get("id")) or "unknown",
            "severity": _severity(item.get("severity")),
            "message": clean_text(item.get("message")),
            "fix": clean_text(item.get("fix")),
        })
    return problems


def _empty_row(host, status, error=None, reason_id=None):
    problems = []
    if reason_id is not None:
        message, fix = _NOT_CHECKED[reason_id]
        problems.append({"id": reason_id, "severity": "error", "message": message, "fix": fix})
    return {
        "host": clean_text(host),
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
        "problem_ids": [problem["id"] for problem in problems],
        "problems": problems,
        "error": error,
        "bios": None,
    }


def _not_checked_row(host, status, result):
    refused = become_failure(result)
    if refused:
        return _empty_row(host, STATUS_FAILED, "privilege escalation failed (%s). %s" % (refused, BECOME_FIX),
                          BECOME_FAILED)
    if status == STATUS_UNREACHABLE:
        return _empty_row(host, status, _error_text(result), HOST_UNREACHABLE)
    return _empty_row(host, status, _error_text(result), FACTS_MODULE_FAILED)


# row_from_result without a BIOS check: the row has no BIOS cell.
_NO_BIOS = object()


def row_from_result(host, result, bios=_NO_BIOS):
    """One report row from what ``host_facts`` returned for ``host``.

    ``result`` is the registered task result (a dict) or ``None`` when the host has no
    result at all, for example because it left the play before the check ran. ``bios``,
    when given, is the host's BIOS check (see bios_cell; None: nothing was recorded).
    """
    row = _row_from_result(host, result)
    if bios is _NO_BIOS:
        return row
    facts = _section(_section(result, "ansible_facts"), "sev_snp") if isinstance(result, dict) else {}
    return _with_bios(row, facts, bios)


def _row_from_result(host, result):
    if result is None:
        return _empty_row(host, STATUS_FAILED,
                          "no result recorded: the host left the play before its facts were gathered",
                          FACTS_MISSING)
    if not isinstance(result, dict):
        return _empty_row(host, STATUS_FAILED, "unexpected result of type %s" % type(result).__name__,
                          FACTS_MISSING)
    if result.get("unreachable"):
        return _not_checked_row(host, STATUS_UNREACHABLE, result)
    if result.get("failed"):
        return _not_checked_row(host, STATUS_FAILED, result)
    if result.get("skipped"):
        return _empty_row(host, STATUS_FAILED, "the facts task was skipped on this host, so nothing is known",
                          FACTS_MISSING)

    facts = _section(_section(result, "ansible_facts"), "sev_snp")
    if not facts:
        return _empty_row(host, STATUS_FAILED, "the result holds no ansible_facts.sev_snp", FACTS_MISSING)

    cpu = _section(facts, "cpu")
    firmware = _section(facts, "firmware")
    msr = _section(facts, "msr")
    problems = _problems(facts)
    ready = facts.get("ready") is True
    row = _empty_row(host, STATUS_READY if ready else STATUS_NOT_READY)
    row.update({
        "ready": ready,
        "generation": _text_or_none(cpu.get("generation")),
        "cpu_model": _text_or_none(cpu.get("model_name")),
        "snp_api": _text_or_none(firmware.get("snp_api")),
        "snp_build": _int_or_none(firmware.get("snp_build")),
        "iommu_mode": _text_or_none(_section(facts, "iommu").get("mode")),
        "msr_loaded": _bool_or_none(msr.get("loaded")),
        "msr_persistent": _bool_or_none(msr.get("persistent")),
        "reboot_required": _bool_or_none(_section(facts, "cmdline").get("reboot_required")),
        "problem_ids": [problem["id"] for problem in problems],
        "problems": problems,
    })
    return row


# ------------------------------------------------------------------------------ BIOS

# The BIOS column (check_host -e sev_snp_check_bios=true): what the host's BMC reported.
BIOS_OK = "ok"
BIOS_PROBLEMS = "problems"
BIOS_BMC_FAILED = "bmc_failed"
BIOS_NOT_CHECKED = "not_checked"


def _bios_problem_text(item):
    """``bios_smee_disabled (set AmdSecureMemoryEncryption=Enabled)``: the id and the exact change."""
    if item["attribute"] is None:
        return item["id"]
    return "%s (set %s=%s)" % (item["id"], item["attribute"], item["wanted"])


def bios_cell(check):
    """The row's BIOS cell ``{state, bmc, text}`` and the problems it adds, from one host's BIOS check.

    ``check`` is what check_host's BIOS step recorded for the host (the role sev_snp_bios,
    tasks_from check: ``{checked, bmc, problems, failure, reason}``), or None when the step
    recorded nothing. A BMC that could not be read is never "ok": its failure is the cell and
    a problem (a warning, with its fix); the BIOS problems keep their severity, so an error
    among them makes the host not ready (row_from_result).
    """
    if not isinstance(check, dict):
        return ({"state": BIOS_NOT_CHECKED, "bmc": None,
                 "text": "not checked: the BIOS step recorded nothing for this host"}, [])
    bmc = _text_or_none(check.get("bmc"))
    if check.get("checked") is not True:
        reason = clean_text(check.get("reason")) or "no BMC variables (sev_snp_bmc_address)"
        return {"state": BIOS_NOT_CHECKED, "bmc": bmc, "text": "not checked: " + reason}, []
    failure = check.get("failure")
    if failure is not None:
        failure = failure if isinstance(failure, dict) else {"message": failure}
        item = _problems({"problems": [dict(failure, id=failure.get("id") or "bios_bmc_read_failed",
                                            severity=failure.get("severity") or "warning")]})[0]
        said = clean_text(failure.get("error")) or item["message"]
        label = clean_text(failure.get("label")) or "BMC not read"
        return {"state": BIOS_BMC_FAILED, "bmc": bmc, "text": "%s: %s" % (label, said) if said else label}, [item]
    raw = check.get("problems")
    if not isinstance(raw, list):
        item = {"id": "bios_bmc_read_failed", "severity": "warning",
                "message": "The BIOS check of this host returned no problem list, so its BIOS settings are unknown.",
                "fix": "Re-run check_host with -e sev_snp_check_bios=true -l HOST -vvv."}
        return {"state": BIOS_BMC_FAILED, "bmc": bmc, "text": "BMC not read: no problem list"}, [item]
    problems = _problems({"problems": raw})
    for item, source in zip(problems, raw):
        source = source if isinstance(source, dict) else {}
        item["attribute"] = _text_or_none(source.get("attribute"))
        item["wanted"] = clean_text(source.get("wanted"))
    if not problems:
        return {"state": BIOS_OK, "bmc": bmc, "text": "ok"}, []
    text = ", ".join(_bios_problem_text(item) for item in problems)
    for item in problems:
        del item["attribute"], item["wanted"]
    return {"state": BIOS_PROBLEMS, "bmc": bmc, "text": text}, problems


def _with_bios(row, facts, check):
    """The row with its BIOS cell; the BIOS problems join the row's and, through decide, its readiness."""
    cell, problems = bios_cell(check)
    row["bios"] = cell
    if not problems:
        return row
    row["problems"] = row["problems"] + problems
    row["problem_ids"] = [problem["id"] for problem in row["problems"]]
    if row["ready"] is True and blocking(problems):
        # The one decision, over the host's problems and the BIOS ones together.
        row["ready"] = decide(dict(facts, problems=list(facts.get("problems") or []) + problems))["ready"]
        row["status"] = STATUS_READY if row["ready"] else STATUS_NOT_READY
    return row


_DIGITS = re.compile(r"(\d+)")


def _name_key(name):
    """epyc-2 before epyc-10: digit runs compare as numbers."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(name.lower())]


def _row_key(row):
    return (STATUSES.index(row["status"]), _name_key(row["host"]), row["host"])


def build_rows(hosts, results, bios=None):
    """Rows for every host in ``hosts``, looking each up in ``results``; sorted by status, then name.

    A host missing from ``results`` still gets a row: nobody is silently dropped. With
    ``bios`` (host -> BIOS check, when the run checked BIOS settings) every row gets a BIOS
    cell, "not checked" for a host missing from it.
    """
    rows = []
    seen = set()
    for host in hosts:
        if host in seen:
            continue
        seen.add(host)
        if bios is None:
            rows.append(row_from_result(host, results.get(host)))
        else:
            rows.append(row_from_result(host, results.get(host), bios.get(host)))
    rows.sort(key=_row_key)
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


def group_by_problem(rows):
    """Each problem id once, with the hosts that have it; errors first, then the most hosts.

    Hosts keep the order of ``rows``. The same id can carry different messages (the
    message names the host's values), so each distinct message and fix is a variant with
    its own hosts; ``message`` and ``fix`` are those of the variant with the most hosts.
    """
    groups = {}
    for row in rows:
        seen = set()
        for problem in row["problems"]:
            if problem["id"] in seen:
                continue
            seen.add(problem["id"])
            group = groups.setdefault(problem["id"], {"id": problem["id"], "severity": "info", "hosts": [],
                                                      "variants": {}})
            group["hosts"].append(row["host"])
            if SEVERITIES.index(problem["severity"]) < SEVERITIES.index(group["severity"]):
                group["severity"] = problem["severity"]
            variant = group["variants"].setdefault((problem["message"], problem["fix"]), {
                "message": problem["message"], "fix": problem["fix"], "hosts": []})
            variant["hosts"].append(row["host"])
    out = []
    for group in groups.values():
        variants = sorted(group["variants"].values(), key=lambda variant: -len(variant["hosts"]))
        out.append({
            "id": group["id"],
            "severity": group["severity"],
            "count": len(group["hosts"]),
            "hosts": group["hosts"],
            "message": variants[0]["message"],
            "fix": variants[0]["fix"],
            "variants": variants,
        })
    out.sort(key=lambda group: (SEVERITIES.index(group["severity"]), -group["count"], group["id"]))
    return out


def _scope(hosts, inventory_hosts):
    covered = set(hosts)
    inventory = covered | set(inventory_hosts or ())
    not_covered = len(inventory) - len(covered)
    return {
        "partial": not_covered > 0,
        "hosts": len(covered),
        "inventory_hosts": len(inventory),
        "not_covered": not_covered,
    }


def scope_line(scope):
    """What an operator must know about a run that did not cover the whole inventory, or ''."""
    if not scope.get("partial"):
        return ""
    return ("Partial run: %d of %d inventory hosts (limited with -l or sev_snp_target); %d not checked "
            "here. The last full report is kept." % (scope["hosts"], scope["inventory_hosts"],
                                                     scope["not_covered"]))


def build_report(hosts, results, generated_at=None, inventory_hosts=None, bios=None):
    """The whole report document: metadata, scope, summary, problems and rows (JSON-serialisable).

    ``inventory_hosts`` is every host of the inventory (``groups['all']``); when some of
    them are not in ``hosts`` the report says it covers only part of the inventory. ``bios``
    (host -> BIOS check) adds the BIOS column; None leaves it out (``bios_checked`` false).
    """
    rows = build_rows(hosts, results, bios)
    if generated_at is None:
        generated_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()
    return {
        "format": REPORT_FORMAT,
        "generated_at": generated_at,
        "scope": _scope(hosts, inventory_hosts),
        "bios_checked": bios is not None,
        "summary": summarize(rows),
        "by_problem": group_by_problem(rows),
        "hosts": rows,
    }


def stable_view(report):
    """The report without the keys that change on every run, to tell whether the fleet changed."""
    return dict((key, value) for key, value in report.items() if key not in VOLATILE_KEYS)


def _hosts_by_status(report, *statuses):
    return [row for row in report["hosts"] if row["status"] in statuses]


# -------------------------------------------------------------------------------- history

_RUN_NAME = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?(-partial)?$")


def run_name(generated_at, partial, taken=()):
    """Directory name of a run: its UTC time without separators (portable to any file system).

    ``20261130T151157Z``, ``-partial`` for a run that did not cover the inventory, and a
    counter when a name in ``taken`` already has that second.
    """
    moment = datetime.datetime.fromisoformat(generated_at).astimezone(datetime.timezone.utc)
    base = moment.strftime("%Y%m%dT%H%M%SZ")
    suffix = "-partial" if partial else ""
    name, counter = base + suffix, 1
    while name in taken:
        counter += 1
        name = "%s-%d%s" % (base, counter, suffix)
    return name


def is_run_name(name):
    return bool(_RUN_NAME.match(name))


def _run_key(name):
    stamp, counter, _partial = _RUN_NAME.match(name).groups()
    return (stamp, int(counter or 1))


def newest_run(names, partial):
    """The newest run name among ``names`` of the given kind (full or partial), or None."""
    runs = [name for name in names if is_run_name(name) and name.endswith("-partial") == partial]
    return max(runs, key=_run_key) if runs else None


def runs_to_prune(names, keep, protect=()):
    """Run names beyond the newest ``keep`` runs, oldest first; never one in ``protect``."""
    runs = sorted((name for name in names if is_run_name(name)), key=_run_key, reverse=True)
    return [name for name in reversed(runs[keep:]) if name not in protect]


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

# Characters with a meaning in Markdown (GFM: | splits table cells, ~ strikes through).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_text(value):
    """Host-provided text made inert in Markdown (and in the HTML a renderer passes through)."""
    return _md_escape(_text(value))


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
    text = _text(value)
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return [(False, text)]
    return [(index % 2 == 1, part) for index, part in enumerate(parts) if part]


def md_prose(value):
    """A message or fix for Markdown: `commands` stay code spans, everything else is inert text.

    A pipe inside a code span would still end a table cell in GFM, so it is escaped there too.
    """
    return "".join("`%s`" % part.replace("|", "\\|") if is_code else _md_escape(part)
                   for is_code, part in _code_segments(value))


def _firmware_text(row):
    if row["snp_api"] is None and row["snp_build"] is None:
        return ""
    return "%s build %s" % (_text(row["snp_api"]) or "?", _text(row["snp_build"]) or "?")


def _msr_text(row):
    if row["msr_loaded"] is None and row["msr_persistent"] is None:
        return ""
    loaded = "loaded" if row["msr_loaded"] is True else "not loaded" if row["msr_loaded"] is False else "unknown"
    if row["msr_persistent"] is True:
        return loaded + ", persistent"
    if row["msr_persistent"] is False:
        return loaded + ", not persistent"
    return loaded


def _pending_text(row):
    value = row["reboot_required"]
    return "yes" if value is True else "no" if value is False else ""


def _problems_or_error_md(row):
    if row["error"]:
        return md_text(row["error"])
    return ", ".join(md_code(problem_id) for problem_id in row["problem_ids"])


MARKDOWN_COLUMNS = ("Host", "Status", "Generation", "SNP firmware", "IOMMU", "msr", "Reboot pending",
                    "Problems")
BIOS_COLUMN = "BIOS"


def columns(report):
    """The table's columns: the BIOS one, before Problems, only when the run checked BIOS settings."""
    if not report.get("bios_checked"):
        return MARKDOWN_COLUMNS
    return MARKDOWN_COLUMNS[:-1] + (BIOS_COLUMN, MARKDOWN_COLUMNS[-1])


def _bios_text(row):
    return (row.get("bios") or {}).get("text") or ""


def markdown_table(report):
    """The table alone, one row per host: what the play prints."""
    header = columns(report)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * len(header)) + "|",
    ]
    for row in report["hosts"]:
        cells = [
            md_text(row["host"]),
            md_text(STATUS_LABELS.get(row["status"], row["status"])),
            md_text(row["generation"]),
            md_text(_firmware_text(row)),
            md_text(row["iommu_mode"]),
            md_text(_msr_text(row)),
            md_text(_pending_text(row)),
            _problems_or_error_md(row),
        ]
        if report.get("bios_checked"):
            cells.insert(-1, md_text(_bios_text(row)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _hosts_count(count):
    return "%d host%s" % (count, "" if count == 1 else "s")


def _markdown_by_problem(report):
    lines = []
    for group in report.get("by_problem") or []:
        hosts = ", ".join(md_text(host) for host in group["hosts"])
        lines.append("- **%s** (%s), %s: %s" % (md_code(group["id"]), md_text(group["severity"]),
                                                _hosts_count(group["count"]), hosts))
        several = len(group["variants"]) > 1
        for variant in group["variants"]:
            indent = "    " if several else "  "
            message = md_prose(variant["message"]) or "no message"
            if several:
                lines.append("  - %s: %s" % (", ".join(md_text(host) for host in variant["hosts"]), message))
            else:
                lines[-1] += "  \n  " + message
            if variant["fix"]:
                lines[-1] += "  \n%sFix: %s" % (indent, md_prose(variant["fix"]))
    return lines


def render_markdown(report):
    lines = [
        "# SEV-SNP fleet readiness",
        "",
        "**%s**" % summary_line(report["summary"]),
        "",
    ]
    scope = scope_line(report.get("scope") or {})
    if scope:
        lines += ["**%s**" % md_text(scope), ""]
    lines += ["Generated %s." % md_text(report.get("generated_at"))]
    by_problem = _markdown_by_problem(report)
    if by_problem:
        lines += ["", "## By problem", ""] + by_problem
    lines += ["", "## Hosts", "", markdown_table(report)]
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
            lines.append("- **%s** %s: %s" % (md_text(row["host"]), md_text(STATUS_LABELS[row["status"]]),
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
.partial { border: 1px solid var(--warn); border-left-width: 4px; border-radius: 6px; padding: 8px 12px;
  margin: 0 0 20px; color: var(--warn); font-weight: 600; }
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
details.group { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 8px;
  padding: 8px 14px; margin-bottom: 10px; }
details.group.error { border-left-color: var(--bad); } details.group.warning { border-left-color: var(--warn); }
details.group summary { cursor: pointer; }
details.group .count { font-weight: 700; }
.hosts { word-break: break-word; }
.fix { margin-top: 4px; } .fix b { color: var(--ok); }
.error-text { color: var(--bad); word-break: break-word; }
"""

# No script, no fetch: even a text that escaped escaping could not load or run anything.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def html_prose(value):
    """A message or fix for HTML: `commands` as <code>, all text escaped."""
    # The segments are cleaned already; escaping them again through h() would strip their spaces.
    return "".join("<code>%s</code>" % html.escape(part, quote=True) if is_code else html.escape(part, quote=True)
                   for is_code, part in _code_segments(value))


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


def _anchors(report):
    """Anchor of each not-ready host's block in "What to fix", by host name."""
    return dict((row["host"], "host-%d" % index) for index, row in enumerate(report["hosts"])
                if row["status"] == STATUS_NOT_READY)


def _host_link(host, anchors):
    anchor = anchors.get(host)
    return '<a href="#%s">%s</a>' % (anchor, h(host)) if anchor else h(host)


def _html_bios_cell(row):
    bios = row.get("bios") or {}
    if bios.get("state") == BIOS_BMC_FAILED:
        return '<span class="error-text">%s</span>' % h(bios.get("text"))
    return _cell(bios.get("text"))


def _html_rows(report, anchors):
    out = []
    for row in report["hosts"]:
        cells = [_host_link(row["host"], anchors), _badge(row["status"]), _cell(row["generation"]),
                 _cell(_firmware_text(row)), _cell(row["iommu_mode"]), _cell(_msr_text(row)),
                 _cell(_pending_text(row)), _html_problem_cell(row)]
        if report.get("bios_checked"):
            cells.insert(-1, _html_bios_cell(row))
        out.append('<tr><td class="host">%s</td>%s</tr>' % (
            cells[0], "".join("<td>%s</td>" % cell for cell in cells[1:])))
    return "\n".join(out)


def _html_by_problem(report, anchors):
    out = []
    for group in report.get("by_problem") or []:
        severity = h(group["severity"])
        out.append('<details class="group %s"><summary><span class="badge %s">%s</span> <code>%s</code> '
                   '<span class="count">%s</span>%s</summary>' % (
                       severity, severity, severity, h(group["id"]), h(_hosts_count(group["count"])),
                       ' <span class="fix"><b>Fix:</b> %s</span>' % html_prose(group["fix"]) if group["fix"] else ""))
        several = len(group["variants"]) > 1
        for variant in group["variants"]:
            out.append('<div class="problem %s"><p>%s</p>' % (severity, html_prose(variant["message"]) or "no message"))
            if several and variant["fix"]:
                out.append('<div class="fix"><b>Fix:</b> %s</div>' % html_prose(variant["fix"]))
            out.append('<p class="hosts">%s: %s</p></div>' % (
                h(_hosts_count(len(variant["hosts"]))),
                ", ".join(_host_link(host, anchors) for host in variant["hosts"])))
        out.append("</details>")
    return "\n".join(out)


def _html_details(report, anchors):
    out = []
    for row in report["hosts"]:
        if row["status"] != STATUS_NOT_READY:
            continue
        out.append('<section class="host-block" id="%s"><h3>%s</h3>' % (anchors[row["host"]], h(row["host"])))
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


# The chart: inline SVG (no script, nothing fetched), drawn from the summary and by_problem.
CHART_TOP_PROBLEMS = 8
_CHART_WIDTH = 760
_CHART_LABEL_X = 250          # labels end here; bars start here
_CHART_BAR_MAX = 400          # a bar as long as the whole fleet
_CHART_ROW = 22
_CHART_LABEL_CHARS = 34

_CHART_CSS = """
.chart { display: block; max-width: 100%; height: auto; margin: 0 0 24px; }
.chart text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; fill: #101828; }
.chart text.head { font-weight: 700; font-size: 13px; }
.chart text.num { fill: #475467; }
.chart rect.track { fill: var(--soft); }
.chart rect.bar { fill: var(--off); }
.chart .ready rect.bar { fill: var(--ok); } .chart .not_ready rect.bar { fill: var(--warn); }
.chart .failed rect.bar, .chart .error rect.bar { fill: var(--bad); }
.chart .warning rect.bar { fill: var(--warn); }
"""


def top_problems(report, limit=CHART_TOP_PROBLEMS):
    """The problems that stop the most hosts first: count, then errors before warnings, then id."""
    groups = sorted(report.get("by_problem") or [],
                    key=lambda group: (-group["count"], SEVERITIES.index(group["severity"]), group["id"]))
    return groups[:limit]


def _chart_label(value):
    text = _text(value)
    return text if len(text) <= _CHART_LABEL_CHARS else text[:_CHART_LABEL_CHARS - 1] + "\u2026"


def _chart_bar(y, kind, key, value, label, count, total, tooltip):
    """One row: label, a track the length of the fleet, the bar, and "count (share %)"."""
    width = _CHART_BAR_MAX * count / total if total else 0
    if count and width < 2:
        width = 2  # a host or two in a big fleet stays visible
    share = int(round(100.0 * count / total)) if total else 0
    return (
        '<g class="%s" data-%s="%s" data-count="%d"><title>%s</title>'
        '<text x="%d" y="%d" text-anchor="end">%s</text>'
        '<rect class="track" x="%d" y="%d" width="%d" height="14" rx="3"/>'
        '<rect class="bar" x="%d" y="%d" width="%.1f" height="14" rx="3"/>'
        '<text class="num" x="%.1f" y="%d">%d (%d%%)</text></g>' % (
            h(kind), key, h(value), count, h(tooltip),
            _CHART_LABEL_X - 8, y + 12, h(_chart_label(label)),
            _CHART_LABEL_X, y + 1, _CHART_BAR_MAX,
            _CHART_LABEL_X, y + 1, width,
            _CHART_LABEL_X + width + 6, y + 12, count, share))


def html_chart(report, limit=CHART_TOP_PROBLEMS):
    """Inline SVG: hosts per status, then the problems that stop the most hosts, bars to scale.

    Every bar is drawn against the whole fleet, so a problem's bar says at a glance how much
    of the fleet its fix concerns. Empty for a report without hosts.
    """
    summary = report["summary"]
    total = summary.get("total", 0)
    if not total:
        return ""
    out = []
    y = 0
    out.append('<text class="head" x="0" y="%d">Hosts by status (%s)</text>' % (y + 14, h(_hosts_count(total))))
    y += _CHART_ROW + 4
    for status in (STATUS_READY, STATUS_NOT_READY, STATUS_UNREACHABLE, STATUS_FAILED):
        count = summary.get(status, 0)
        out.append(_chart_bar(y, status, "status", status, STATUS_LABELS[status], count, total,
                              "%s: %s" % (STATUS_LABELS[status], _hosts_count(count))))
        y += _CHART_ROW
    groups = report.get("by_problem") or []
    shown = top_problems(report, limit)
    if shown:
        y += 12
        out.append('<text class="head" x="0" y="%d">Top problems, by hosts affected</text>' % (y + 14))
        y += _CHART_ROW + 4
        for group in shown:
            out.append(_chart_bar(y, group["severity"], "problem", group["id"], group["id"], group["count"], total,
                                  "%s (%s): %s; fix: %s" % (group["id"], group["severity"],
                                                            _hosts_count(group["count"]), group["fix"] or "none given")))
            y += _CHART_ROW
        if len(groups) > len(shown):
            more = len(groups) - len(shown)
            out.append('<text class="num" x="%d" y="%d">and %d more problem%s under By problem</text>' % (
                _CHART_LABEL_X, y + 12, more, "" if more == 1 else "s"))
            y += _CHART_ROW
    height = y + 4
    return ('<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" '
            'viewBox="0 0 %d %d" aria-label="%s"><title>%s</title>%s</svg>' % (
                _CHART_WIDTH, height, _CHART_WIDTH, height, h(summary_line(summary)),
                h(summary_line(summary)), "".join(out)))


def render_html(report):
    summary = report["summary"]
    anchors = _anchors(report)
    cards = "\n".join(
        '<div class="card %s%s"><span class="n">%d</span>%s</div>' % (
            status, "" if summary.get(status, 0) else " zero", summary.get(status, 0), h(STATUS_LABELS[status]))
        for status in (STATUS_READY, STATUS_NOT_READY, STATUS_UNREACHABLE, STATUS_FAILED))
    header = "".join("<th>%s</th>" % h(column) for column in columns(report))
    scope = scope_line(report.get("scope") or {})
    by_problem = _html_by_problem(report, anchors)
    details = _html_details(report, anchors)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % h(_CSP),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>SEV-SNP fleet readiness: %s</title>" % h(summary_line(summary)),
        "<style>%s%s</style></head><body><main>" % (_CSS, _CHART_CSS),
        "<h1>SEV-SNP fleet readiness</h1>",
        '<p class="meta">%s &middot; generated %s</p>' % (h(summary_line(summary)), h(report.get("generated_at"))),
        '<p class="partial">%s</p>' % h(scope) if scope else "",
        '<div class="cards">%s</div>' % cards,
        html_chart(report),
    ]
    if by_problem:
        parts += ["<h2>By problem</h2>", by_problem]
    parts += [
        "<h2>Hosts</h2>",
        "<table><thead><tr>%s</tr></thead><tbody>" % header,
        _html_rows(report, anchors),
        "</tbody></table>",
    ]
    if details:
        parts += ["<h2>What to fix</h2>", details]
    parts += [_html_unchecked(report), "</main></body></html>"]
    return "\n".join(part for part in parts if part) + "\n"


# ------------------------------------------------------------------------------- console

def _host_list(hosts, max_hosts):
    shown = ", ".join(hosts[:max_hosts])
    if len(hosts) > max_hosts:
        shown += ", ... and %d more (all in the report files)" % (len(hosts) - max_hosts)
    return shown


def console_by_problem(report, max_hosts=CONSOLE_MAX_HOSTS):
    """Lines for the play's output: one block per problem id with its hosts, message and fix.

    Blocks are separated by an empty line.
    """
    lines = []
    for group in report.get("by_problem") or []:
        if lines:
            lines.append("")
        lines.append("%s (%s) on %s: %s" % (group["id"], group["severity"], _hosts_count(group["count"]),
                                            _host_list(group["hosts"], max_hosts)))
        several = len(group["variants"]) > 1
        for variant in group["variants"]:
            prefix = "    " if several else "  "
            if several:
                lines.append("  %s: %s" % (_host_list(variant["hosts"], max_hosts), variant["message"] or "no message"))
            else:
                lines.append("  %s" % (variant["message"] or "no message"))
            if variant["fix"]:
                lines.append("%sfix: %s" % (prefix, variant["fix"]))
    return lines
