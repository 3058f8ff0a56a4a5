# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet.html opened in a real browser: headless Chromium, driven over the DevTools protocol.

Two fleets, rendered by the same functions the fleet_report action uses: a synthetic fleet of
1,000 hosts, and a small one whose host names, problem ids, messages and fixes are hostile
(``<script>``, ``onerror=``, pipes, newlines, a closing ``</style>``). For each page:

- no script runs: no script element in the DOM, no script parsed from the page, no event
  handler attribute, and the payloads' marker ``window.sev_snp_pwned`` stays undefined;
- the console stays clean (no error or warning, so no Content-Security-Policy violation) and
  the browser requests nothing but the page itself;
- the numbers on the page (status cards, chart bars, problem groups, table rows) equal fleet.json's;
- the chart's first problem is the one that stops the most hosts, and it is above the fold.

Chromium comes from Debian (``make apt``); without it these tests are skipped. With
SEV_SNP_SCREENSHOT=<file.png> (``make docs`` sets it) the 1,000-host page's first screen is
written there for the README.
"""
from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import time
import urllib.request

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import fleet_report as fr

websocket = pytest.importorskip("websocket")  # websocket-client, requirements-test.txt
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make apt installs it)"),
]

VIEWPORT = (1280, 900)
GENERATED_AT = "2026-11-30T12:00:00+00:00"

# ------------------------------------------------------------------------------------ fleets

PROBLEMS = {
    "iommu_passthrough": ("error", "AMD-Vi: SNP: IOMMU disabled or configured in passthrough mode, SNP cannot be supported.",
                          "Add iommu=nopt to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run `update-bootloader` and reboot."),
    "reboot_pending": ("warning", "The configured kernel command line differs from the running one.", "Reboot the host."),
    "msr_module_not_persistent": ("warning", "msr is loaded now but not listed in /etc/modules-load.d.",
                                  "`echo msr > /etc/modules-load.d/msr.conf`"),
    "snp_firmware_too_old": ("error", "SNP firmware API 1.51 is older than the minimum 1.55.",
                             "Update the BIOS / SEV firmware to SNP API 1.55 or newer."),
    "snp_disabled_in_bios": ("error", "The kernel log has no SEV-SNP API line: SNP is off in the BIOS.",
                             "Enable SEV-SNP, SMEE and SNP memory coverage in the BIOS setup."),
    "kernel_log_unavailable": ("info", "The kernel log could not be read.", "Run the check with become."),
}


def _facts(problem_ids):
    return {"changed": False, "ansible_facts": {"sev_snp": {
        "ready": not problem_ids,
        "problems": [dict(zip(("severity", "message", "fix"), PROBLEMS[pid]), id=pid) for pid in problem_ids],
        "cpu": {"vendor": "AuthenticAMD", "generation": "Genoa", "model_name": "AMD EPYC 9654 96-Core Processor"},
        "firmware": {"snp_api": "1.55", "snp_build": 21},
        "iommu": {"mode": "translated"},
        "msr": {"loaded": True, "persistent": True},
        "cmdline": {"reboot_required": "reboot_pending" in problem_ids},
    }}}


def thousand_hosts():
    """1,000 hosts in racks, a fixed pseudo-random mix of states (the same page every run)."""
    rng = random.Random(16)
    hosts, results = [], {}
    for index in range(1000):
        host = "epyc-r%02d-%03d.dc1.example.net" % (index // 40, index % 40)
        hosts.append(host)
        roll = rng.random()
        if roll < 0.03:
            results[host] = {"unreachable": True, "msg": "Failed to connect to the host via ssh: Connection timed out"}
        elif roll < 0.04:
            results[host] = {"failed": True, "msg": "MODULE FAILURE", "module_stderr": "PermissionError: /dev/sev\n"}
        elif roll < 0.45:
            results[host] = _facts([])
        else:
            problems = [pid for pid, share in (("iommu_passthrough", 0.7), ("reboot_pending", 0.4),
                                               ("msr_module_not_persistent", 0.3), ("snp_firmware_too_old", 0.12),
                                               ("snp_disabled_in_bios", 0.05), ("kernel_log_unavailable", 0.02))
                        if rng.random() < share]
            results[host] = _facts(problems or ["reboot_pending"])
    return fr.build_report(hosts, results, generated_at=GENERATED_AT)


PAYLOADS = [
    "<script>window.sev_snp_pwned = 'script'</script>",
    "<img src=x onerror=\"window.sev_snp_pwned='img'\">",
    "\"><svg onload=\"window.sev_snp_pwned='svg'\">",
    "</style><script>window.sev_snp_pwned='style'</script>",
    "</title></head><body onload=\"window.sev_snp_pwned='body'\">",
    "a | b || c | pipes",
    "line one\nline two\r\n<b>three</b>",
    "<a href=\"javascript:window.sev_snp_pwned='link'\">click</a>",
    "<link rel=stylesheet href=\"http://192.0.2.1/x.css\"><iframe src=\"http://192.0.2.1/\"></iframe>",
]


def hostile_hosts():
    hosts, results = [], {}
    for index, payload in enumerate(PAYLOADS):
        host = "%s-%d" % (payload, index)
        hosts.append(host)
        results[host] = {"changed": False, "ansible_facts": {"sev_snp": {
            "ready": False,
            "problems": [{"id": payload, "severity": "error", "message": payload, "fix": "`%s`" % payload},
                         {"id": "iommu_passthrough", "severity": "error", "message": payload, "fix": payload}],
            "cpu": {"generation": payload, "model_name": payload},
            "firmware": {"snp_api": payload},
            "iommu": {"mode": payload},
        }}}
    hosts.append(PAYLOADS[1] + "-gone")
    results[hosts[-1]] = {"unreachable": True, "msg": PAYLOADS[0]}
    hosts.append(PAYLOADS[3] + "-ok")
    results[hosts[-1]] = _facts([])
    return fr.build_report(hosts, results, generated_at=GENERATED_AT)


# ----------------------------------------------------------------------------- the browser

def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""


class Browser:
    """Headless Chromium and one page, over the DevTools protocol (a websocket of JSON messages)."""

    def __init__(self, profile):
        self.proc = subprocess.Popen([
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--mute-audio", "--remote-debugging-port=0",
            "--user-data-dir=%s" % profile, "--window-size=%d,%d" % VIEWPORT, "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(str(profile), "DevToolsActivePort")
        deadline = time.time() + 60
        while not _read(port_file).strip():
            if self.proc.poll() is not None or time.time() > deadline:
                self.close()
                pytest.fail("chromium did not start its DevTools endpoint (exit code %s)" % self.proc.returncode)
            time.sleep(0.1)
        port = _read(port_file).split()[0]
        with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=30) as response:
            (page,) = [target for target in json.load(response) if target["type"] == "page"]
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(event.get("method") == method for event in self.events):
                return
            self.events.append(json.loads(self.ws.recv()))
        raise AssertionError("no %s within %d s" % (method, timeout))

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self):
        if getattr(self, "ws", None):
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# What the page shows, read from its DOM (Runtime.evaluate is DevTools' own and not subject to the CSP).
READ_PAGE = """(() => {
  const num = (text) => parseInt(text.replace(/[^0-9]/g, ''), 10);
  const cards = {};
  for (const card of document.querySelectorAll('.cards .card')) {
    cards[[...card.classList].find((name) => name !== 'card' && name !== 'zero')] = num(card.querySelector('.n').textContent);
  }
  const bars = (key) => [...document.querySelectorAll('svg.chart g[data-' + key + ']')].map(
    (g) => [g.getAttribute('data-' + key), num(g.getAttribute('data-count'))]);
  const groups = [...document.querySelectorAll('details.group')].map((d) => [
    d.querySelector('summary code').textContent, num(d.querySelector('summary .count').textContent), d.open]);
  const svg = document.querySelector('svg.chart');
  const firstProblem = document.querySelector('svg.chart g[data-problem]');
  let handlers = 0;
  for (const element of document.querySelectorAll('*')) {
    for (const attribute of element.attributes) { if (attribute.name.toLowerCase().startsWith('on')) handlers++; }
  }
  return {
    cards, statusBars: bars('status'), problemBars: bars('problem'), groups,
    rows: document.querySelectorAll('table tbody tr').length,
    scripts: document.querySelectorAll('script').length,
    foreign: document.querySelectorAll('img, iframe, link, object, embed, base, form, input').length,
    handlers,
    pwned: typeof window.sev_snp_pwned,
    title: document.title,
    chartBottom: svg ? svg.getBoundingClientRect().bottom : null,
    firstProblemBottom: firstProblem ? firstProblem.getBoundingClientRect().bottom : null,
    viewportHeight: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    text: document.body.innerText,
  };
})()"""


def open_report(tmp_path, report, screenshot=None):
    """Write fleet.json and fleet.html as the action does, open the page; (page facts, events, URL)."""
    out = tmp_path / "report"
    out.mkdir()
    (out / "fleet.json").write_text(fr.render_json(report), encoding="utf-8")
    (out / "fleet.html").write_text(fr.render_html(report), encoding="utf-8")
    url = (out / "fleet.html").as_uri()
    browser = Browser(tmp_path / "profile")
    try:
        for domain in ("Page", "Runtime", "Log", "Network", "Debugger"):
            browser.send(domain + ".enable")
        browser.send("Emulation.setDeviceMetricsOverride", width=VIEWPORT[0], height=VIEWPORT[1],
                     deviceScaleFactor=1, mobile=False)
        browser.send("Page.navigate", url=url)
        browser.wait_for("Page.loadEventFired")
        page = browser.evaluate(READ_PAGE)
        if screenshot:
            shot = browser.send("Page.captureScreenshot", format="png")
            with open(screenshot, "wb") as handle:
                handle.write(base64.b64decode(shot["data"]))
        events = list(browser.events)
    finally:
        browser.close()
    with open(str(out / "fleet.json"), encoding="utf-8") as handle:
        return page, events, url, json.load(handle)


def assert_nothing_ran_or_loaded(page, events, url):
    assert page["scripts"] == 0 and page["handlers"] == 0 and page["foreign"] == 0
    assert page["pwned"] == "undefined"
    parsed = [event["params"].get("url") for event in events if event.get("method") == "Debugger.scriptParsed"]
    assert url not in parsed, "a script of the page was parsed"
    problems = [event["params"] for event in events
                if event.get("method") in ("Runtime.exceptionThrown",)
                or (event.get("method") == "Runtime.consoleAPICalled")
                or (event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] in ("error", "warning"))]
    assert problems == [], problems
    requested = [event["params"]["request"]["url"] for event in events if event.get("method") == "Network.requestWillBeSent"]
    assert requested == [url]


def assert_numbers_match(page, report):
    summary = report["summary"]
    assert page["cards"] == dict((status, summary[status]) for status in fr.STATUSES)
    assert dict(page["statusBars"]) == page["cards"]
    assert sum(page["cards"].values()) == summary["total"] == page["rows"]
    assert [[group["id"], group["count"], False] for group in report["by_problem"]] == page["groups"]
    counts = dict((group["id"], group["count"]) for group in report["by_problem"])
    for problem_id, count in page["problemBars"]:
        assert counts[problem_id] == count
    assert fr.summary_line(summary) in page["title"]


@pytest.fixture(scope="module")
def thousand(tmp_path_factory):
    report = thousand_hosts()
    screenshot = os.environ.get("SEV_SNP_SCREENSHOT") or str(tmp_path_factory.mktemp("shot") / "fleet.png")
    return open_report(tmp_path_factory.mktemp("thousand"), report, screenshot=screenshot) + (screenshot,)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return open_report(tmp_path_factory.mktemp("hostile"), hostile_hosts())


def test_thousand_hosts_page_runs_and_loads_nothing(thousand):
    page, events, url, _report, _shot = thousand
    assert_nothing_ran_or_loaded(page, events, url)


def test_thousand_hosts_page_shows_fleet_json_numbers(thousand):
    page, _events, _url, report, _shot = thousand
    assert report["summary"]["total"] == 1000
    assert_numbers_match(page, report)


def test_the_fix_that_unblocks_most_hosts_is_first_and_above_the_fold(thousand):
    page, _events, _url, report, _shot = thousand
    most = max(report["by_problem"], key=lambda group: group["count"])
    assert page["problemBars"][0] == [most["id"], most["count"]]
    assert page["firstProblemBottom"] < page["viewportHeight"]
    assert page["scrollWidth"] <= 1280  # no sideways scrolling at 1,000 hosts
    assert "Top problems, by hosts affected" in page["text"]


def test_screenshot_is_a_png_of_the_first_screen(thousand):
    shot = thousand[-1]
    with open(shot, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == VIEWPORT


def test_hostile_page_runs_and_loads_nothing(hostile):
    page, events, url, _report = hostile
    assert_nothing_ran_or_loaded(page, events, url)


def test_hostile_page_shows_the_strings_as_text_and_the_right_numbers(hostile):
    page, _events, _url, report = hostile
    assert_numbers_match(page, report)
    assert report["summary"] == {"total": 11, "ready": 1, "not_ready": 9, "unreachable": 1, "failed": 0}
    for payload in PAYLOADS:
        first_line = fr.clean_text(payload)[:30]
        assert first_line in page["text"], first_line
