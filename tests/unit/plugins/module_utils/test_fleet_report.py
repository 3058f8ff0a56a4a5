# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import functools
import json
import os
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import fleet_report as fr

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "report")


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


def fleet():
    """Inventory order on purpose not alphabetical; one host never got a result."""
    results = {
        "genoa-01": fixture("ready_genoa"),
        "milan-02": fixture("not_ready_milan"),
        "xeon-03": fixture("intel_host"),
        "gone-04": fixture("unreachable"),
        "crash-05": fixture("module_crash"),
    }
    hosts = ["genoa-01", "milan-02", "xeon-03", "gone-04", "crash-05", "late-06"]
    return hosts, results


def report():
    hosts, results = fleet()
    return fr.build_report(hosts, results, generated_at="2026-01-02T03:04:05+00:00")


def row_of(rep, host):
    (row,) = [row for row in rep["hosts"] if row["host"] == host]
    return row


# ----------------------------------------------------------------------------- rows

def test_ready_row_carries_the_columns_an_operator_reads():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"))
    assert row["status"] == "ready"
    assert row["ready"] is True
    assert row["generation"] == "Genoa"
    assert (row["snp_api"], row["snp_build"]) == ("1.55", 21)
    assert row["iommu_mode"] == "translated"
    assert (row["msr_loaded"], row["msr_persistent"]) == (True, True)
    assert row["reboot_required"] is False
    assert row["problem_ids"] == []
    assert row["error"] is None


def test_not_ready_row_keeps_problems_in_order_with_their_fix():
    row = fr.row_from_result("milan-02", fixture("not_ready_milan"))
    assert row["status"] == "not_ready"
    assert row["problem_ids"] == ["iommu_passthrough", "msr_module_not_persistent", "reboot_pending"]
    assert row["problems"][0]["fix"].startswith("Add iommu=nopt")
    assert row["problems"][1]["severity"] == "warning"
    assert row["iommu_mode"] == "passthrough"
    assert row["reboot_required"] is True
    assert (row["snp_api"], row["snp_build"]) == ("1.51", 3)


def test_unreachable_host_is_a_row_with_the_connection_error():
    row = fr.row_from_result("gone-04", fixture("unreachable"))
    assert row["status"] == "unreachable"
    assert row["ready"] is None
    assert row["error"] == ("Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: "
                            "Connection refused")


def test_crashed_module_row_names_the_exception_not_just_module_failure():
    row = fr.row_from_result("crash-05", fixture("module_crash"))
    assert row["status"] == "failed"
    assert row["error"] == "MODULE FAILURE: PermissionError: [Errno 13] Permission denied: '/dev/sev'"


def test_interpreter_failure_names_the_first_stderr_line():
    result = {"failed": True, "msg": "Module result deserialization failed: No start of json char found",
              "module_stderr": "pyenv: python3.13: command not found\n\nThe `python3.13' command exists"}
    row = fr.row_from_result("h", result)
    assert row["error"] == ("Module result deserialization failed: No start of json char found: "
                            "pyenv: python3.13: command not found")


@pytest.mark.parametrize("result, reason", [
    (None, "no result recorded"),
    ({"skipped": True, "changed": False}, "skipped"),
    ({"changed": False, "ansible_facts": {}}, "no ansible_facts.sev_snp"),
    ("garbage", "unexpected result"),
])
def test_hosts_without_usable_facts_are_failed_with_a_reason(result, reason):
    row = fr.row_from_result("h", result)
    assert row["status"] == "failed"
    assert reason in row["error"]


def test_ready_must_be_literally_true():
    result = fixture("ready_genoa")
    result["ansible_facts"]["sev_snp"]["ready"] = "yes"
    assert fr.row_from_result("h", result)["status"] == "not_ready"


def test_partial_facts_do_not_crash():
    facts = {"ready": False, "problems": ["odd"], "cpu": None}
    row = fr.row_from_result("h", {"ansible_facts": {"sev_snp": facts}})
    assert row["status"] == "not_ready"
    assert row["problem_ids"] == ["odd"]
    assert row["generation"] is None


def test_every_host_gets_exactly_one_row_sorted_by_status_then_name():
    rep = report()
    assert [row["host"] for row in rep["hosts"]] == ["milan-02", "xeon-03", "crash-05", "late-06", "gone-04",
                                                     "genoa-01"]
    assert row_of(rep, "late-06")["status"] == "failed"
    hosts, results = fleet()
    assert len(fr.build_rows(hosts + ["genoa-01"], results)) == len(hosts)


def test_names_sort_by_their_numbers():
    hosts = ["epyc-10", "epyc-9", "EPYC-1", "epyc-1b", "db"]
    rows = fr.build_rows(hosts, dict((host, fixture("ready_genoa")) for host in hosts))
    assert [row["host"] for row in rows] == ["db", "EPYC-1", "epyc-1b", "epyc-9", "epyc-10"]


# --------------------------------------------------------------------------- counts

def test_summary_counts_each_status():
    rep = report()
    assert rep["summary"] == {"total": 6, "ready": 1, "not_ready": 2, "unreachable": 1, "failed": 2}
    assert fr.summary_line(rep["summary"]) == "1 ready / 2 not ready / 1 unreachable / 2 failed (6 hosts)"


def test_summary_of_one_host_is_singular():
    rep = fr.build_report(["genoa-01"], {"genoa-01": fixture("ready_genoa")})
    assert fr.summary_line(rep["summary"]).endswith("(1 host)")


# ----------------------------------------------------------------------------- JSON

def test_json_round_trips():
    rep = report()
    assert fr.parse_json(fr.render_json(rep)) == rep


def test_json_of_hostile_text_round_trips():
    rep = fr.build_report(["<script>x</script>"], {"<script>x</script>": fixture("hostile_text")})
    assert fr.parse_json(fr.render_json(rep)) == rep


@pytest.mark.parametrize("text", ["", "[]", "{\"format\": \"other\"}", "{not json"])
def test_parse_json_rejects_what_is_not_a_report(text):
    with pytest.raises(ValueError):
        fr.parse_json(text)


def test_stable_view_ignores_only_the_timestamp():
    hosts, results = fleet()
    first = fr.build_report(hosts, results, generated_at="2026-01-01T00:00:00+00:00")
    second = fr.build_report(hosts, results, generated_at="2026-02-01T00:00:00+00:00")
    assert fr.stable_view(first) == fr.stable_view(second)
    results["genoa-01"] = fixture("unreachable")
    third = fr.build_report(hosts, results, generated_at="2026-01-01T00:00:00+00:00")
    assert fr.stable_view(first) != fr.stable_view(third)


# ------------------------------------------------------------------------- Markdown

def test_markdown_has_summary_table_and_fixes():
    text = fr.render_markdown(report())
    assert "**1 ready / 2 not ready / 1 unreachable / 2 failed (6 hosts)**" in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) == 2 + 6
    assert all(line.count(" | ") == 7 for line in table if not line.startswith("|---"))
    milan = [line for line in table if line.startswith("| milan-02 |")][0]
    assert "| not ready | Milan | 1.51 build 3 | passthrough | loaded, not persistent | yes |" in milan
    assert "`iommu\\_passthrough`" not in milan and "`iommu_passthrough`" in milan
    fixes = text.split("## What to fix")[1].split("## Not checked")[0]
    assert "### milan\\-02" not in fixes and "### milan-02" in fixes
    assert "Fix: Add iommu=nopt" in fixes
    assert "`not_amd_epyc` (error)" in fixes
    unchecked = text.split("## Not checked")[1]
    assert "**gone-04** unreachable: Failed to connect" in unchecked
    assert "**late-06** failed: no result recorded" in unchecked


def test_markdown_cells_cannot_break_the_table_or_inject_html():
    rep = fr.build_report(["evil|host<script>"], {"evil|host<script>": fixture("hostile_text")})
    text = fr.render_markdown(rep)
    assert "<script>" not in text and "<img" not in text
    row = [line for line in text.splitlines() if line.startswith("| evil")][0]
    # Seven separators between eight cells; escaped pipes do not count.
    assert len(re.findall(r"(?<!\\) \| ", row)) == 7
    assert "evil\\|host&lt;script&gt;" in row
    assert "[click](javascript" not in text


# ----------------------------------------------------------------------------- HTML

class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []
        self.external = []
        self.csp = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "meta" and ("http-equiv", "Content-Security-Policy") in attrs:
            self.csp = dict(attrs)["content"]
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
            if name.startswith("on"):
                self.external.append(name)

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text):
    collector = _Collector()
    collector.feed(text)
    return collector


def test_html_is_self_contained_and_shows_the_summary():
    page = fr.render_html(report())
    parsed = parse_html(page)
    assert "script" not in parsed.tags
    assert "link" not in parsed.tags
    assert parsed.external == []
    assert "style" in parsed.tags
    assert parsed.csp.startswith("default-src 'none';")
    text = " ".join(parsed.text)
    assert "1 ready / 2 not ready / 1 unreachable / 2 failed (6 hosts)" in text
    assert parsed.tags.count("tr") == 1 + 6
    assert "Add iommu=nopt to GRUB_CMDLINE_LINUX_DEFAULT" in text
    assert "Failed to connect to the host via ssh" in text


def test_html_escapes_every_host_provided_text():
    host = "<script>alert('host')</script>"
    page = fr.render_html(fr.build_report([host], {host: fixture("hostile_text")}))
    parsed = parse_html(page)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags and "i" not in parsed.tags
    # Only the page's own "Fix:" labels (by problem, what to fix) are bold.
    assert parsed.tags.count("b") == 2
    assert parsed.external == []
    text = "".join(parsed.text)
    assert "<script>alert('host')</script>" in text
    assert "<img src=x onerror=alert(1)>" in text
    assert "<b>1.55</b>" in text and "<i>Milan</i>" in text
    for raw in ("<script>", "<img", "<b>1.55", "<i>Milan"):
        assert raw not in page


def test_html_escapes_the_host_name_of_unreachable_hosts():
    host = "<b onmouseover=x>"
    page = fr.render_html(fr.build_report([host], {host: fixture("unreachable")}))
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=x&gt;" in page


# ------------------------------------------------------------- commands inside messages

def test_backticked_commands_stay_code_in_markdown_and_html():
    fix = "Run `echo msr > /etc/modules-load.d/msr.conf` then <reboot> `now`"
    assert fr.md_prose(fix) == "Run `echo msr > /etc/modules-load.d/msr.conf` then &lt;reboot&gt; `now`"
    assert fr.html_prose(fix) == ("Run <code>echo msr &gt; /etc/modules-load.d/msr.conf</code> then "
                                  "&lt;reboot&gt; <code>now</code>")


def test_unbalanced_backtick_is_plain_escaped_text():
    assert fr.md_prose("a `b <c>") == "a \\`b &lt;c&gt;"
    assert fr.html_prose("a `b <c>") == "a `b &lt;c&gt;"


def test_code_in_html_cannot_carry_markup():
    page = fr.render_html(fr.build_report(["h"], {"h": {"ansible_facts": {"sev_snp": {
        "ready": False, "problems": [{"id": "x", "severity": "error", "message": "m",
                                      "fix": "`<script>alert(1)</script>`"}]}}}}))
    assert "<script>" not in page
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in page


# ------------------------------------------------------------ hostile values, every field

def _base_facts():
    return {
        "ready": False,
        "cpu": {"generation": "Milan", "model_name": "AMD EPYC 7763 64-Core Processor"},
        "firmware": {"snp_api": "1.55", "snp_build": 21},
        "iommu": {"mode": "translated"},
        "msr": {"loaded": True, "persistent": False},
        "cmdline": {"reboot_required": False},
        "problems": [{"id": "msr_module_not_persistent", "severity": "warning",
                      "message": "msr is not loaded at boot.", "fix": "Run `echo msr > /etc/modules-load.d/msr.conf`."}],
    }


def _set_fact(path):
    def place(value):
        facts = _base_facts()
        target = facts
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return "victim", {"changed": False, "ansible_facts": {"sev_snp": facts}}
    return place


def _set_problem(key):
    def place(value):
        facts = _base_facts()
        facts["problems"][0][key] = value
        return "victim", {"changed": False, "ansible_facts": {"sev_snp": facts}}
    return place


def _set_host(value):
    return value, {"changed": False, "ansible_facts": {"sev_snp": _base_facts()}}


def _set_error(key, **result):
    def place(value):
        failed = dict(result)
        failed[key] = value
        return "victim", failed
    return place


FIELDS = {
    "host": _set_host,
    "ready": _set_fact(["ready"]),
    "generation": _set_fact(["cpu", "generation"]),
    "cpu_model": _set_fact(["cpu", "model_name"]),
    "snp_api": _set_fact(["firmware", "snp_api"]),
    "snp_build": _set_fact(["firmware", "snp_build"]),
    "iommu_mode": _set_fact(["iommu", "mode"]),
    "msr_loaded": _set_fact(["msr", "loaded"]),
    "msr_persistent": _set_fact(["msr", "persistent"]),
    "reboot_required": _set_fact(["cmdline", "reboot_required"]),
    "problem_id": _set_problem("id"),
    "severity": _set_problem("severity"),
    "message": _set_problem("message"),
    "fix": _set_problem("fix"),
    "problems": _set_fact(["problems"]),
    "error_msg": _set_error("msg", failed=True),
    "error_stderr": _set_error("module_stderr", failed=True, msg="MODULE FAILURE"),
    "unreachable_msg": _set_error("msg", unreachable=True),
}

HOSTILE = {
    "pipe": "a | b || c",
    "newlines": "first\nsecond\r\nthird",
    "backticks": "`rm -rf /` and ``double`` and ` lone",
    "script": "<script>alert(1)</script>",
    "onerror": "<img src=x onerror=alert(1)>",
    "attribute_break": "\" onmouseover=\"alert(1)",
    "entities": "&lt;script&gt; &amp; &#60;b&#62;",
    "markdown": "# title *b* _i_ ~~s~~ [x](javascript:alert(1)) ![i](http://x/y.png)",
    "ansi": "\x1b[31mred\x1b[0m\x07",
    "nul_and_c1": "a\x00b\x85c\x9bd",
    "bidi": "abc\u202edcb\u2066x\u2069",
    "line_separator": "a\u2028b\u2029c",
    "lone_surrogate": "bad\ud800half",
    "long": "A" * 100000,
    "float": 1.55,
    "nan": float("nan"),
    "huge_int": 10 ** 40,
    "list": ["<b>x</b>", 1, None],
    "dict": {"k": "<i>v</i>"},
    "true": True,
    "none": None,
    "bytes": b"\xff\xfe<b>",
}

# Inventory names are strings; the rest of the values cannot reach the host field.
HOST_VALUES = ("pipe", "newlines", "backticks", "script", "onerror", "attribute_break", "entities",
               "markdown", "ansi", "nul_and_c1", "bidi", "line_separator", "lone_surrogate", "long", "float")

# Fields whose value decides how much there is to show (a ready host has no problem block).
RESHAPING = ("ready", "problems")
PAGE_TAGS = set(["html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "div", "span",
                 "table", "thead", "tbody", "tr", "th", "td", "a", "code", "b", "details", "summary", "section",
                 "ul", "li"])
PAGE_TAGS |= set(["svg", "g", "rect", "text"])  # the inline chart (fleet_report.html_chart)
PAGE_TAGS |= set("/" + tag for tag in PAGE_TAGS)

CASES = [(field, name) for field in sorted(FIELDS) for name in sorted(HOSTILE)
         if field != "host" or name in HOST_VALUES]

_CONTROL = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff]")


def _render_with(field, value):
    host, result = FIELDS[field](value)
    rep = fr.build_report([host, "bystander"], {host: result, "bystander": fixture("not_ready_milan")},
                          generated_at="2026-01-02T03:04:05+00:00", inventory_hosts=[host, "bystander", "other"])
    return rep, fr.render_json(rep), fr.render_markdown(rep), fr.render_html(rep)


@functools.lru_cache(maxsize=None)
def _benign(field):
    """The field's renderings with ordinary values: text, missing, and false."""
    return [_render_with(field, plain) for plain in ("plain", None, False)]


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


class _Structure(HTMLParser):
    """Tags with their attribute names (values aside): what markup a page has."""

    def __init__(self):
        super().__init__()
        self.items = []
        self.attributes = []

    def handle_starttag(self, tag, attrs):
        self.items.append((tag, tuple(sorted(name for name, _value in attrs))))
        self.attributes += attrs

    def handle_endtag(self, tag):
        self.items.append(("/" + tag, ()))


def _structure(page):
    parser = _Structure()
    parser.feed(page)
    return parser


def _md_shape(text):
    """How each line starts, in any order (a problem id's value may move its block)."""
    return sorted(line.split(" ")[0] for line in text.splitlines())


@pytest.mark.parametrize("field, name", CASES)
def test_hostile_value_cannot_escape_its_field(field, name):
    value = HOSTILE[name]
    rep, json_text, markdown, page = _render_with(field, value)
    benign = _benign(field)

    # JSON: valid UTF-8, round-trips, every text one clean line, every column its type.
    json_text.encode("utf-8")
    assert fr.parse_json(json_text) == rep
    for text in _strings(rep):
        assert not _CONTROL.search(text), text
        assert "\n" not in text
        assert len(text) <= fr.MAX_FIELD_CHARS + 40
    for row in rep["hosts"]:
        for key in ("ready", "msr_loaded", "msr_persistent", "reboot_required"):
            assert row[key] in (True, False, None)
        assert row["snp_build"] is None or (isinstance(row["snp_build"], int) and not isinstance(row["snp_build"], bool))
        for key in ("host", "status", "generation", "cpu_model", "snp_api", "iommu_mode", "error"):
            assert row[key] is None or isinstance(row[key], str)
        assert all(problem["severity"] in fr.SEVERITIES for problem in row["problems"])

    # Markdown: no markup of the host's, the same lines as a plain value, eight cells a row.
    assert "<" not in markdown and not _CONTROL.search(markdown)
    if field not in RESHAPING:
        assert _md_shape(markdown) in [_md_shape(other[2]) for other in benign]
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 9, line

    # HTML: exactly the markup a plain value gives (blocks may move), no handler, no link out of the page.
    parsed = _structure(page)
    if field not in RESHAPING:
        assert sorted(parsed.items) in [sorted(_structure(other[3]).items) for other in benign]
    assert set(tag for tag, _attrs in parsed.items) <= PAGE_TAGS
    assert not _CONTROL.search(page)
    for name_, attr in parsed.attributes:
        assert not name_.startswith("on")
        if name_ == "href":
            assert re.match(r"^#host-\d+$", attr), attr

    # Console: one clean line each.
    for line in fr.console_by_problem(rep):
        assert not _CONTROL.search(line) and "\n" not in line


@pytest.mark.parametrize("name", ["pipe", "script", "entities", "ansi", "bidi", "markdown"])
@pytest.mark.parametrize("field", ["host", "generation", "iommu_mode", "error_msg"])
def test_hostile_text_is_shown_not_dropped(field, name):
    rep, _json, _markdown, page = _render_with(field, HOSTILE[name])
    shown = fr.clean_text(HOSTILE[name])
    parser = _Collector()
    parser.feed(page)
    assert shown in "".join(parser.text)


def test_clean_text_folds_escapes_and_cuts():
    assert fr.clean_text(None) == ""
    assert fr.clean_text(" a \n\t b\u2028c ") == "a b c"
    assert fr.clean_text("\x1b[1m") == "\\x1b[1m"
    assert fr.clean_text("x\u202ey") == "x\\u202ey"
    assert fr.clean_text("\ud800") == "\\ud800"
    assert fr.clean_text(1.5) == "1.5"
    assert fr.clean_text(True) == "yes"
    assert fr.clean_text(["a", 1]) == '["a", 1]'
    assert fr.clean_text(b"\xff") == "\ufffd"
    assert fr.clean_text("x" * 12, limit=10) == "xxxxxxxxxx... (2 more characters)"
    assert fr.clean_text("x" * 10, limit=10) == "x" * 10


@pytest.mark.parametrize("value, expected", [
    (21, 21), (8.0, 8), (" 8 ", 8), (True, None), (8.5, None), ("8a", None), ([8], None), (None, None)])
def test_snp_build_is_an_int_or_unknown(value, expected):
    _host, result = FIELDS["snp_build"](value)
    assert fr.row_from_result("h", result)["snp_build"] == expected


@pytest.mark.parametrize("value, expected", [
    ("warning", "warning"), ("WARNING", "warning"), ("info", "info"), ("error", "error"),
    ("critical", "error"), (None, "error"), ("warning<script>", "error")])
def test_unknown_severity_counts_as_an_error(value, expected):
    _host, result = FIELDS["severity"](value)
    assert fr.row_from_result("h", result)["problems"][0]["severity"] == expected


def test_reboot_pending_is_yes_no_or_blank_in_both_renderings():
    for value, shown in ((True, "yes"), (False, "no"), ("<script>", "")):
        host, result = FIELDS["reboot_required"](value)
        rep = fr.build_report([host], {host: result})
        row = [line for line in fr.render_markdown(rep).splitlines() if line.startswith("| victim")][0]
        assert row.split(" | ")[6] == shown


# ------------------------------------------------------------------- become (sudo) failures

@pytest.mark.parametrize("result, said", [
    ({"failed": True, "msg": "MODULE FAILURE\nSee stdout/stderr for the exact error",
      "module_stderr": "sudo: a password is required\n", "module_stdout": "", "rc": 1},
     "sudo: a password is required"),
    ({"failed": True, "msg": "MODULE FAILURE", "module_stdout": "",
      "module_stderr": "op is not in the sudoers file.  This incident will be reported.\n"},
     "op is not in the sudoers file. This incident will be reported."),
    ({"failed": True, "msg": "Task failed: Incorrect sudo password"}, "Task failed: Incorrect sudo password"),
    ({"failed": True, "msg": "Missing sudo password"}, "Missing sudo password"),
    ({"failed": True, "msg": "MODULE FAILURE", "module_stderr": "sudo: 3 incorrect password attempts"},
     "sudo: 3 incorrect password attempts"),
    ({"unreachable": True, "msg": "Timeout (12s) waiting for privilege escalation prompt: "},
     "Timeout (12s) waiting for privilege escalation prompt:"),
])
def test_a_refused_become_names_the_fix(result, said):
    row = fr.row_from_result("h", result)
    assert row["status"] == "failed"
    assert row["problem_ids"] == ["become_failed"]
    assert said in row["error"]
    for fix in ("-K", "ansible_become_password", "ansible_become_pass", "ansible_become_user",
                "ansible_become_method", "-e sev_snp_become=false"):
        assert fix in row["error"], fix
        assert fix in row["problems"][0]["fix"], fix


def test_other_failures_are_not_blamed_on_become():
    assert fr.row_from_result("h", fixture("module_crash"))["problem_ids"] == ["facts_module_failed"]
    assert fr.row_from_result("h", fixture("unreachable"))["problem_ids"] == ["host_unreachable"]
    assert fr.become_failure({"msg": "Permission denied: /dev/sev"}) is None


# ------------------------------------------------------------------------ by problem

def _facts_with(*problems):
    return {"changed": False, "ansible_facts": {"sev_snp": {"ready": False, "problems": [
        {"id": pid, "severity": severity, "message": message, "fix": "fix " + pid}
        for pid, severity, message in problems]}}}


def test_by_problem_groups_hosts_errors_first_then_most_hosts():
    results = {
        "h-10": _facts_with(("reboot_pending", "warning", "m")),
        "h-2": _facts_with(("reboot_pending", "warning", "m"), ("iommu_passthrough", "error", "pt")),
        "h-1": _facts_with(("reboot_pending", "warning", "m"), ("reboot_pending", "warning", "again")),
        "ok": fixture("ready_genoa"),
        "gone": fixture("unreachable"),
    }
    rep = fr.build_report(sorted(results), results)
    groups = rep["by_problem"]
    assert [(group["id"], group["count"]) for group in groups] == [
        ("host_unreachable", 1), ("iommu_passthrough", 1), ("reboot_pending", 3)]
    pending = groups[2]
    assert pending["hosts"] == ["h-1", "h-2", "h-10"]
    assert pending["severity"] == "warning"
    assert (pending["message"], pending["fix"]) == ("m", "fix reboot_pending")
    assert [variant["hosts"] for variant in pending["variants"]] == [["h-1", "h-2", "h-10"]]
    assert "ok" not in [host for group in groups for host in group["hosts"]]


def test_by_problem_keeps_each_distinct_message_with_its_hosts():
    results = {"a": _facts_with(("psp_unavailable", "error", "no /dev/sev")),
               "b": _facts_with(("psp_unavailable", "error", "SNP INIT failed")),
               "c": _facts_with(("psp_unavailable", "warning", "SNP INIT failed"))}
    (group,) = fr.build_report(sorted(results), results)["by_problem"]
    assert group["severity"] == "error"
    assert [(variant["message"], variant["hosts"]) for variant in group["variants"]] == [
        ("SNP INIT failed", ["b", "c"]), ("no /dev/sev", ["a"])]
    assert group["message"] == "SNP INIT failed"


def test_by_problem_leads_both_documents_and_the_console():
    rep = report()
    markdown = fr.render_markdown(rep)
    assert markdown.index("## By problem") < markdown.index("## Hosts") < markdown.index("## What to fix")
    block = markdown.split("## By problem")[1].split("## Hosts")[0]
    assert ("- **`not_amd_epyc`** (error), 1 host: xeon-03  \n  The CPU is GenuineIntel Intel(R) Xeon(R) Gold "
            "6338 CPU @ 2.00GHz, not an AMD EPYC.  \n  Fix: SEV-SNP needs an AMD EPYC") in block
    assert "`facts_missing`** (error), 1 host: late-06" in block
    page = fr.render_html(rep)
    assert page.index("<h2>By problem</h2>") < page.index("<table>")
    assert page.count("<details ") == len(rep["by_problem"])
    assert '<a href="#host-1">xeon-03</a>' in page and 'id="host-1"' in page
    assert "<script" not in page and fr._CSP in page.replace("&#x27;", "'")
    lines = fr.console_by_problem(rep)
    start = lines.index("not_amd_epyc (error) on 1 host: xeon-03")
    assert lines[start + 1] == "  The CPU is GenuineIntel Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz, not an AMD EPYC."
    assert lines[start + 2].startswith("  fix: SEV-SNP needs an AMD EPYC")


def test_console_names_at_most_the_limit_of_hosts():
    results = dict(("h%02d" % index, _facts_with(("reboot_pending", "warning", "m"))) for index in range(25))
    lines = fr.console_by_problem(fr.build_report(sorted(results), results), max_hosts=3)
    assert lines[0] == "reboot_pending (warning) on 25 hosts: h00, h01, h02, ... and 22 more (all in the report files)"


def test_console_variants_each_with_hosts_and_fix():
    results = {"a": _facts_with(("x", "error", "one")), "b": _facts_with(("x", "error", "two"), ("y", "info", "i"))}
    assert fr.console_by_problem(fr.build_report(["a", "b"], results)) == [
        "x (error) on 2 hosts: a, b", "  a: one", "    fix: fix x", "  b: two", "    fix: fix x",
        "", "y (info) on 1 host: b", "  i", "  fix: fix y"]


@pytest.mark.slow
def test_ten_thousand_hosts():
    """Building and rendering stay linear: a quadratic step would take minutes here."""
    results = {}
    for index in range(10000):
        results["epyc-%05d" % index] = (fixture("ready_genoa") if index % 3 else
                                        _facts_with(("reboot_pending", "warning", "m")))
    hosts = sorted(results, reverse=True)
    rep = fr.build_report(hosts, results, inventory_hosts=hosts)
    assert rep["summary"]["total"] == 10000
    assert rep["by_problem"][0]["count"] == 3334
    assert rep["hosts"][0]["host"] == "epyc-00000" and rep["hosts"][-1]["host"] == "epyc-09998"
    assert fr.render_html(rep).count("<tr>") == 10001
    assert fr.render_markdown(rep).count("\n| epyc-") == 10000
    assert len(fr.console_by_problem(rep)) == 3


# ---------------------------------------------------------------------- scope and history

def test_a_run_over_part_of_the_inventory_says_so():
    rep = fr.build_report(["a"], {"a": fixture("ready_genoa")}, inventory_hosts=["a", "b", "c"])
    assert rep["scope"] == {"partial": True, "hosts": 1, "inventory_hosts": 3, "not_covered": 2}
    line = "Partial run: 1 of 3 inventory hosts (limited with -l or sev_snp_target); 2 not checked here."
    assert line in fr.scope_line(rep["scope"])
    assert line in fr.render_html(rep)
    assert line.replace("_", "\\_") in fr.render_markdown(rep)


def test_a_run_over_the_whole_inventory_is_not_partial():
    rep = fr.build_report(["b", "a"], {}, inventory_hosts=["a", "b"])
    assert rep["scope"] == {"partial": False, "hosts": 2, "inventory_hosts": 2, "not_covered": 0}
    assert fr.scope_line(rep["scope"]) == ""
    assert "Partial" not in fr.render_markdown(rep) and "Partial" not in fr.render_html(rep)
    assert fr.build_report(["a"], {})["scope"]["partial"] is False


def test_run_names_are_utc_sortable_and_unique():
    assert fr.run_name("2026-11-30T16:11:57+01:00", False) == "20261130T151157Z"
    assert fr.run_name("2026-11-30T15:11:57+00:00", True) == "20261130T151157Z-partial"
    assert fr.run_name("2026-11-30T15:11:57+00:00", False, taken={"20261130T151157Z"}) == "20261130T151157Z-2"
    assert fr.run_name("2026-11-30T15:11:57+00:00", True,
                       taken={"20261130T151157Z-partial", "20261130T151157Z-2-partial"}) == "20261130T151157Z-3-partial"


def test_newest_run_of_a_kind():
    names = ["20261130T151157Z", "20261130T151157Z-2", "20261201T000000Z-partial", "notes", "20261129T000000Z"]
    assert fr.newest_run(names, partial=False) == "20261130T151157Z-2"
    assert fr.newest_run(names, partial=True) == "20261201T000000Z-partial"
    assert fr.newest_run(["notes"], partial=False) is None


def test_runs_to_prune_keeps_the_newest_and_the_protected():
    names = ["20260101T000000Z", "20260102T000000Z-partial", "20260103T000000Z", "20260103T000000Z-2",
             "README", "20260104T000000Z-partial"]
    assert fr.runs_to_prune(names, keep=2) == ["20260101T000000Z", "20260102T000000Z-partial",
                                               "20260103T000000Z"]
    assert fr.runs_to_prune(names, keep=2, protect={"20260101T000000Z"}) == ["20260102T000000Z-partial",
                                                                             "20260103T000000Z"]
    assert fr.runs_to_prune(names, keep=5) == []


# ------------------------------------------------------------------- edges the mutants found

@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_blank_text_is_unknown_not_empty(value):
    _host, result = FIELDS["generation"](value)
    assert fr.row_from_result("h", result)["generation"] is None


def test_a_repeated_id_does_not_hide_the_problems_after_it():
    results = {"a": _facts_with(("x", "error", "m"), ("x", "error", "m"), ("y", "warning", "n"))}
    assert [group["id"] for group in fr.build_report(["a"], results)["by_problem"]] == ["x", "y"]


def test_one_host_missing_from_the_run_makes_it_partial():
    assert fr.build_report(["a"], {}, inventory_hosts=["a", "b"])["scope"]["partial"] is True


def test_console_names_exactly_the_limit_without_a_remainder():
    results = dict(("h%d" % index, _facts_with(("x", "error", "m"))) for index in range(3))
    assert fr.console_by_problem(fr.build_report(sorted(results), results), max_hosts=3)[0] == \
        "x (error) on 3 hosts: h0, h1, h2"


def test_console_without_message_or_fix():
    one = {"a": {"ansible_facts": {"sev_snp": {"ready": False, "problems": [{"id": "x", "severity": "error"}]}}}}
    assert fr.console_by_problem(fr.build_report(["a"], one)) == ["x (error) on 1 host: a", "  no message"]
    two = {"a": one["a"], "b": _facts_with(("x", "error", "m"))}
    assert fr.console_by_problem(fr.build_report(["a", "b"], two)) == [
        "x (error) on 2 hosts: a, b", "  a: no message", "  b: m", "    fix: fix x"]
