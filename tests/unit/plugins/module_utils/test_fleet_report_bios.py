# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's BIOS column (check_host -e sev_snp_check_bios=true)."""
from __future__ import annotations

import copy
import json
import os

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import fleet_report as fr
from ansible_collections.coco.sev_snp.plugins.module_utils.bios import bios_problems, bmc_failure
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import decide

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "report")

HPE_ON = {"AmdSecureMemoryEncryption": "Enabled", "AmdSecureNestedPaging": "Enabled", "ProcAmdIoVt": "Enabled"}
HPE_SNP_OFF = dict(HPE_ON, AmdSecureNestedPaging="Disabled")
SUPERMICRO_AUTO = {"SMEE#003E": "Auto", "SEV-SNPSupport#01A7": "Enabled", "SNPMemory(RMPTable)Coverage#003C": "Enabled",
                   "IOMMU#0196": "Enabled", "SEV-ESASIDSpaceLimit#700C": 100}


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


def checked(attributes, bmc="10.0.0.10"):
    """What the role's check records for a BMC that answered (the problems of the real filter)."""
    return {"checked": True, "bmc": bmc, "problems": bios_problems(attributes), "failure": None}


def failed(error, bmc="10.0.0.11"):
    return {"checked": True, "bmc": bmc, "problems": None, "failure": bmc_failure(error, bmc)}


NOT_CHECKED = {"checked": False, "bmc": None, "reason": "no BMC variables (sev_snp_bmc_address)"}


def test_the_ready_fixture_is_ready_by_the_one_decision():
    # The premise of the tests below: the stand-in facts are what host_facts would decide on.
    facts = fixture("ready_genoa")["ansible_facts"]["sev_snp"]
    assert facts["ready"] is True and decide(facts)["ready"] is True


def test_a_bmc_with_every_setting_on_is_ok_and_changes_nothing_else():
    plain = fr.row_from_result("genoa-01", fixture("ready_genoa"))
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), checked(HPE_ON))
    assert row["bios"] == {"state": "ok", "bmc": "10.0.0.10", "text": "ok"}
    assert dict(row, bios=None) == plain


def test_a_setting_that_is_off_makes_a_ready_host_not_ready_with_the_exact_change():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), checked(HPE_SNP_OFF))
    assert row["bios"]["state"] == "problems"
    assert row["bios"]["text"] == "bios_snp_disabled (set AmdSecureNestedPaging=Enabled)"
    assert (row["status"], row["ready"]) == ("not_ready", False)
    assert row["problem_ids"] == ["bios_snp_disabled"]
    (item,) = row["problems"]
    assert item["severity"] == "error"
    assert "AmdSecureNestedPaging" in item["fix"] and "sev_snp_bios_apply_ok=true" in item["fix"]
    assert set(item) == {"id", "severity", "message", "fix"}


def test_a_warning_shows_in_the_column_and_leaves_the_host_ready():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), checked(SUPERMICRO_AUTO))
    assert row["bios"]["text"] == "bios_smee_disabled (set SMEE#003E=Enabled)"
    assert (row["status"], row["ready"]) == ("ready", True)
    assert row["problems"][0]["severity"] == "warning"


def test_unknown_names_are_stated_never_ok_and_leave_readiness_to_the_host():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), checked({"BootMode": "Uefi"}))
    assert row["bios"]["state"] == "problems"
    assert row["bios"]["text"] == "bios_settings_unknown"
    assert row["status"] == "ready"


@pytest.mark.parametrize("error, text", [
    ("URL Error: [Errno 111] Connection refused", "BMC unreachable: URL Error: [Errno 111] Connection refused"),
    ("HTTP Error 401: Unauthorized", "BMC refused the credentials: HTTP Error 401: Unauthorized"),
    ("certificate verify failed", "BMC certificate not verified: certificate verify failed"),
    ("", "BMC not read: The BMC at 10.0.0.11 could not be read, so the BIOS settings were not checked."),
])
def test_a_bmc_that_cannot_be_read_is_shown_as_such_never_ok(error, text):
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), failed(error))
    assert row["bios"] == {"state": "bmc_failed", "bmc": "10.0.0.11", "text": text}
    assert row["status"] == "ready"  # the BIOS is unknown, which is no evidence against the host
    (item,) = row["problems"]
    assert item["severity"] == "warning" and item["id"].startswith("bios_bmc_") and item["fix"]


def test_a_host_without_bmc_variables_is_not_checked():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), NOT_CHECKED)
    assert row["bios"]["state"] == "not_checked"
    assert row["bios"]["text"] == "not checked: no BMC variables (sev_snp_bmc_address)"
    assert row["problems"] == [] and row["status"] == "ready"


@pytest.mark.parametrize("check", [None, "garbage", 7, []])
def test_a_missing_or_malformed_record_is_not_checked(check):
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), check)
    assert row["bios"]["state"] == "not_checked"
    assert row["bios"]["text"] == "not checked: the BIOS step recorded nothing for this host"


def test_a_checked_record_without_a_problem_list_is_not_ok():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), {"checked": True, "bmc": "b", "problems": "x"})
    assert row["bios"]["state"] == "bmc_failed"
    assert row["problem_ids"] == ["bios_bmc_read_failed"]


def test_a_failure_given_as_text_is_still_a_failure():
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), {"checked": True, "bmc": "b", "failure": "boom"})
    assert row["bios"] == {"state": "bmc_failed", "bmc": "b", "text": "BMC not read: boom"}
    assert row["problems"][0]["severity"] == "warning"


def test_bios_problems_of_an_unreachable_host_are_kept_and_it_stays_unreachable():
    row = fr.row_from_result("gone-04", fixture("unreachable"), checked(HPE_SNP_OFF))
    assert row["status"] == "unreachable"
    assert row["problem_ids"] == ["host_unreachable", "bios_snp_disabled"]


def test_a_not_ready_host_stays_not_ready_and_gains_the_bios_problems():
    row = fr.row_from_result("milan-02", fixture("not_ready_milan"), checked(HPE_SNP_OFF))
    assert row["status"] == "not_ready"
    assert row["problem_ids"][-1] == "bios_snp_disabled"
    assert len(row["problem_ids"]) == len(fr.row_from_result("milan-02", fixture("not_ready_milan"))["problem_ids"]) + 1


def test_hostile_bmc_text_is_cleaned():
    check = failed("URL Error\x1b[31m\n| <script>")
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), check)
    assert "\x1b" not in row["bios"]["text"] and "\n" not in row["bios"]["text"]
    check = {"checked": True, "bmc": "x\ny", "problems": [dict(bios_problems(HPE_SNP_OFF)[0], attribute="A|\x07")]}
    row = fr.row_from_result("genoa-01", fixture("ready_genoa"), check)
    assert row["bios"]["bmc"] == "x y"
    assert "\x07" not in row["bios"]["text"] and "\\x07" in row["bios"]["text"]


def test_the_input_is_not_changed():
    check = checked(HPE_SNP_OFF)
    before = copy.deepcopy(check)
    fr.row_from_result("genoa-01", fixture("ready_genoa"), check)
    assert check == before


# ---------------------------------------------------------------------------- report

def fleet_with_bios():
    results = {"ok-1": fixture("ready_genoa"), "bad-2": fixture("ready_genoa"), "down-3": fixture("ready_genoa"),
               "nobmc-4": fixture("ready_genoa"), "late-5": fixture("ready_genoa")}
    bios = {"ok-1": checked(HPE_ON), "bad-2": checked(HPE_SNP_OFF),
            "down-3": failed("URL Error: [Errno 111] Connection refused"), "nobmc-4": NOT_CHECKED}
    hosts = ["ok-1", "bad-2", "down-3", "nobmc-4", "late-5"]
    return fr.build_report(hosts, results, generated_at="2026-01-02T03:04:05+00:00", bios=bios)


def test_the_report_says_it_checked_bios_and_gives_each_host_a_cell():
    rep = fleet_with_bios()
    assert rep["bios_checked"] is True
    cells = dict((row["host"], row["bios"]["state"]) for row in rep["hosts"])
    assert cells == {"ok-1": "ok", "bad-2": "problems", "down-3": "bmc_failed", "nobmc-4": "not_checked",
                     "late-5": "not_checked"}
    assert rep["summary"]["not_ready"] == 1 and rep["summary"]["ready"] == 4


def test_without_a_bios_check_there_is_no_column():
    rep = fr.build_report(["ok-1"], {"ok-1": fixture("ready_genoa")}, generated_at="2026-01-02T03:04:05+00:00")
    assert rep["bios_checked"] is False and rep["hosts"][0]["bios"] is None
    assert "BIOS" not in fr.markdown_table(rep).splitlines()[0]
    assert "<th>BIOS</th>" not in fr.render_html(rep)


def test_by_problem_names_the_bios_problems_and_the_bmc_failure_with_fixes():
    groups = dict((group["id"], group) for group in fleet_with_bios()["by_problem"])
    assert groups["bios_snp_disabled"]["hosts"] == ["bad-2"]
    assert groups["bios_snp_disabled"]["severity"] == "error"
    assert "AmdSecureNestedPaging" in groups["bios_snp_disabled"]["fix"]
    assert groups["bios_bmc_unreachable"]["hosts"] == ["down-3"]
    assert "sev_snp_bmc_address" in groups["bios_bmc_unreachable"]["fix"]
    lines = fr.console_by_problem(fleet_with_bios())
    assert "bios_bmc_unreachable (warning) on 1 host: down-3" in lines


def test_the_markdown_table_has_the_bios_column_before_problems():
    table = fr.markdown_table(fleet_with_bios()).splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header[-2:] == ["BIOS", "Problems"]
    rows = dict((line.split("|")[1].strip().replace("\\", ""), line) for line in table[2:])
    assert "| ok |" in rows["ok-1"]
    assert "bios\\_snp\\_disabled (set AmdSecureNestedPaging=Enabled)" in rows["bad-2"]
    assert "BMC unreachable: URL Error: \\[Errno 111\\] Connection refused" in rows["down-3"]
    assert "not checked: no BMC variables (sev\\_snp\\_bmc\\_address)" in rows["nobmc-4"]
    assert all(line.count("|") == len(header) + 1 for line in table)


def test_the_html_table_has_the_bios_column_and_flags_the_failure():
    page = fr.render_html(fleet_with_bios())
    assert "<th>BIOS</th><th>Problems</th>" in page
    assert '<span class="error-text">BMC unreachable: URL Error: [Errno 111] Connection refused</span>' in page
    assert "<td>bios_snp_disabled (set AmdSecureNestedPaging=Enabled)</td>" in page
    row = [line for line in page.splitlines() if "ok-1" in line and line.startswith("<tr>")][0]
    assert row.count("<td") == len(fr.columns(fleet_with_bios())) == 9


def test_the_markdown_lists_the_bios_fix_for_the_host_it_made_not_ready():
    text = fr.render_markdown(fleet_with_bios())
    section = text.split("## What to fix", 1)[1]
    assert "### bad\\-2" in section or "### bad-2" in section
    assert "Set the BIOS attribute AmdSecureNestedPaging" in section


def test_the_json_round_trips():
    rep = fleet_with_bios()
    assert fr.parse_json(fr.render_json(rep)) == rep
