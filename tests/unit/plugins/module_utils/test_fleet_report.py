# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

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


def test_every_host_gets_exactly_one_row_in_inventory_order():
    rep = report()
    assert [row["host"] for row in rep["hosts"]] == ["genoa-01", "milan-02", "xeon-03", "gone-04",
                                                     "crash-05", "late-06"]
    assert row_of(rep, "late-06")["status"] == "failed"
    hosts, results = fleet()
    assert len(fr.build_rows(hosts + ["genoa-01"], results)) == len(hosts)


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
    assert parsed.tags.count("b") == 1  # the page's own "Fix:" label
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
