# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inline SVG chart of fleet.html: status counts and the problems that stop the most hosts."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import fleet_report as fr

SVG = "{http://www.w3.org/2000/svg}"


def not_ready(*problems):
    """A host_facts result of a host that is not ready, with (id, severity) problems."""
    return {"changed": False, "ansible_facts": {"sev_snp": {"ready": False, "problems": [
        {"id": problem_id, "severity": severity, "message": "%s happened" % problem_id,
         "fix": "fix %s" % problem_id} for problem_id, severity in problems]}}}


READY = {"changed": False, "ansible_facts": {"sev_snp": {"ready": True, "problems": []}}}
UNREACHABLE = {"unreachable": True, "msg": "Failed to connect to the host via ssh"}


def fleet_report(spec):
    """spec: list of (count, result); host names numbered in order."""
    hosts, results = [], {}
    for count, result in spec:
        for _host_index in range(count):
            name = "host-%04d" % len(hosts)
            hosts.append(name)
            results[name] = result
    return fr.build_report(hosts, results, generated_at="2026-01-02T03:04:05+00:00")


def chart_of(report, **kwargs):
    text = fr.html_chart(report, **kwargs)
    return ET.fromstring(text)  # well-formed XML, or this raises


def bars(svg, key):
    """{label: (count, bar width)} of the rows carrying data-<key>."""
    out = {}
    for group in svg.iter(SVG + "g"):
        if "data-" + key not in group.attrib:
            continue
        rects = [rect for rect in group.iter(SVG + "rect") if rect.get("class") == "bar"]
        assert len(rects) == 1
        out[group.attrib["data-" + key]] = (int(group.attrib["data-count"]), float(rects[0].get("width")))
    return out


def test_status_bars_carry_the_summary_counts_to_scale():
    report = fleet_report([(3, READY), (5, not_ready(("iommu_passthrough", "error"))), (2, UNREACHABLE)])
    status = bars(chart_of(report), "status")
    assert status == {
        "ready": (3, 120.0), "not_ready": (5, 200.0), "unreachable": (2, 80.0), "failed": (0, 0.0)}
    assert sum(count for count, _width in status.values()) == report["summary"]["total"] == 10


def test_problems_are_ordered_by_hosts_affected_not_severity():
    report = fleet_report([
        (2, not_ready(("firmware_too_old", "error"))),
        (6, not_ready(("msr_module_not_persistent", "warning"))),
        (2, not_ready(("a_error_tie", "error"))),
        (2, not_ready(("b_warning_tie", "warning"))),
    ])
    svg = chart_of(report)
    order = [group.attrib["data-problem"] for group in svg.iter(SVG + "g") if "data-problem" in group.attrib]
    # most hosts first; equal counts: errors before warnings, then by id
    assert order == ["msr_module_not_persistent", "a_error_tie", "firmware_too_old", "b_warning_tie"]
    assert bars(svg, "problem")["msr_module_not_persistent"] == (6, 200.0)
    # by_problem itself keeps its order (errors first)
    assert report["by_problem"][0]["severity"] == "error"


def test_only_the_top_problems_are_drawn_and_the_rest_are_counted():
    spec = [(index + 1, not_ready(("problem_%02d" % index, "error"))) for index in range(11)]
    report = fleet_report(spec)
    svg = chart_of(report, limit=8)
    drawn = bars(svg, "problem")
    assert len(drawn) == 8
    assert set(drawn) == set("problem_%02d" % index for index in range(3, 11))
    texts = ["".join(node.itertext()) for node in svg.iter(SVG + "text")]
    assert "and 3 more problems under By problem" in texts


def test_no_more_line_when_every_problem_is_drawn():
    report = fleet_report([(1, not_ready(("only_one", "error")))])
    texts = ["".join(node.itertext()) for node in chart_of(report).iter(SVG + "text")]
    assert not [text for text in texts if "more problem" in text]


def test_one_host_in_a_thousand_stays_visible_and_zero_is_empty():
    report = fleet_report([(999, READY), (1, not_ready(("rare_problem", "error")))])
    svg = chart_of(report)
    assert bars(svg, "problem")["rare_problem"] == (1, 2.0)
    assert bars(svg, "status")["failed"] == (0, 0.0)
    assert bars(svg, "status")["ready"] == (999, pytest.approx(399.6))


def test_share_is_printed_beside_each_bar():
    report = fleet_report([(1, READY), (2, not_ready(("x", "error")))])
    texts = ["".join(node.itertext()) for node in chart_of(report).iter(SVG + "text")]
    assert "1 (33%)" in texts and "2 (67%)" in texts


def test_a_fleet_without_problems_has_no_problem_heading():
    report = fleet_report([(4, READY)])
    texts = ["".join(node.itertext()) for node in chart_of(report).iter(SVG + "text")]
    assert "Hosts by status (4 hosts)" in texts
    assert not [text for text in texts if text.startswith("Top problems")]


def test_empty_report_has_no_chart():
    report = fr.build_report([], {})
    assert fr.html_chart(report) == ""
    assert "<svg" not in fr.render_html(report)


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "id|with|pipes",
    "x" * 300,
])
def test_hostile_problem_ids_stay_text(hostile):
    report = fleet_report([(2, not_ready((hostile, "error")))])
    text = fr.html_chart(report)
    svg = ET.fromstring(text)
    for node in svg.iter():
        assert node.tag.replace(SVG, "") in ("svg", "title", "g", "text", "rect")
        assert not [name for name in node.attrib if name.lower().startswith("on")]
    (group,) = [group for group in svg.iter(SVG + "g") if "data-problem" in group.attrib]
    assert group.attrib["data-problem"] == fr.clean_text(hostile)
    assert "<script" not in text and "<img" not in text
    label = [node.text for node in group.iter(SVG + "text") if node.get("text-anchor") == "end"][0]
    assert len(label) <= 34
    if len(hostile) > 34:
        assert label.endswith("\u2026") and hostile.startswith(label[:-1])
    # the full id is in the tooltip
    assert fr.clean_text(hostile) in group.find(SVG + "title").text


def test_page_places_the_chart_after_the_cards_and_before_by_problem():
    report = fleet_report([(2, READY), (3, not_ready(("iommu_passthrough", "error")))])
    page = fr.render_html(report)
    assert page.count("<svg") == 1
    assert page.index('class="cards"') < page.index("<svg") < page.index("<h2>By problem</h2>")
    assert "<script" not in page
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert csp == "default-src &#x27;none&#x27;; style-src &#x27;unsafe-inline&#x27;; img-src data:"
