#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller time and peak memory of the fleet report and the gate at fleet scale.

No host is contacted. Synthetic host results (the registered results of host_facts that
check_host hands to the report: ready Genoa hosts, Milan hosts below a firmware minimum with
one of several builds, unreachable and failed hosts, from tests/fixtures/report) are fed to
the controller-side code the way playbooks/check_host.yml calls it:

  report first    the fleet_report action plugin over every host, into an empty directory
  report re-run   the same fleet again: must find no change and write no file
  report changed  one host changed: a new run
  gate            the host_gate action plugin once per host (the playbook runs it per host)
  build/render    build_report and the JSON, Markdown and HTML renderers alone

Each is timed (best of --repeat), then run once more under tracemalloc for its peak memory.
Exits 1 when a step grows faster than linearly (time per host at the largest size more than
--max-growth times that at the smallest) or when the re-run writes a file.

  scripts/bench_fleet.py [--sizes 1000 10000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from types import SimpleNamespace

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "report")
COLLECTIONS = os.path.join(ROOT, "build", "collections")


def _import_collection():
    link = os.path.join(COLLECTIONS, "ansible_collections", "coco", "sev_snp")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    sys.path.insert(0, COLLECTIONS)


_import_collection()

# pylint: disable=wrong-import-position
from ansible_collections.coco.sev_snp.plugins.action import fleet_report as fleet_report_action  # noqa: E402
from ansible_collections.coco.sev_snp.plugins.action import host_gate as host_gate_action  # noqa: E402
from ansible_collections.coco.sev_snp.plugins.module_utils.fleet_report import (  # noqa: E402
    build_report,
    render_html,
    render_json,
    render_markdown,
)

RESULT_VAR = "sev_snp_host_facts_result"


def _fixture(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)


def synthetic_results(count):
    """{host: registered result}: 70 % ready, 20 % not ready (five firmware builds, so that one
    problem has several messages), 5 % unreachable, 5 % failed."""
    ready, not_ready = _fixture("ready_genoa"), _fixture("not_ready_milan")
    unreachable, crashed = _fixture("unreachable"), _fixture("module_crash")
    results = {}
    for index in range(count):
        host = "epyc-%05d.dc%d.example.net" % (index, index % 4)
        kind = index % 20
        if kind < 14:
            result = copy.deepcopy(ready)
        elif kind < 18:
            result = copy.deepcopy(not_ready)
            firmware = result["ansible_facts"]["sev_snp"].get("firmware") or {}
            if firmware.get("snp_build") is not None:
                firmware["snp_build"] = 20 + index % 5
        elif kind == 18:
            result = copy.deepcopy(unreachable)
        else:
            result = copy.deepcopy(crashed)
        results[host] = result
    return results


def _task(args, action):
    """What the action plugins read of the task, as the executor hands it to them (a stand-in:
    unittest.mock would cost more than the plugins themselves)."""
    return SimpleNamespace(args=args, action=action, check_mode=False, diff=False, async_val=0)


# The plugins run on the controller: their connection is never used.
_CONNECTION = SimpleNamespace(_shell=SimpleNamespace(tmpdir=""))


def _action(module, args):
    task = _task(args, "coco.sev_snp." + module.__name__.rsplit(".", 1)[-1])
    return module.ActionModule(task, _CONNECTION, None, loader=None, templar=None, shared_loader_obj=None)


def run_report(hosts, hostvars, dest):
    args = {"hosts": hosts, "inventory_hosts": hosts, "result_var": RESULT_VAR, "dest": dest, "keep": 30}
    return _action(fleet_report_action, args).run(task_vars={"hostvars": hostvars})


def run_gate(hosts, hostvars):
    """host_gate once per host, as the gate task of check_host runs on every checked host."""
    ready = 0
    for host in hosts:
        facts = (hostvars[host][RESULT_VAR].get("ansible_facts") or {}).get("sev_snp")
        if facts is None:
            continue
        task_vars = {"inventory_hostname": host, "ansible_facts": {"sev_snp": facts}}
        result = _action(host_gate_action, {"min_snp_api": "1.55", "ignore": []}).run(task_vars=task_vars)
        ready += not result.get("failed")
    return ready


def _files(dest):
    """{path: mtime_ns} of every file below dest."""
    found = {}
    for directory, _dirs, names in os.walk(dest):
        for name in names:
            path = os.path.join(directory, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def measure(step, repeat):
    """(best seconds, peak bytes) of step(); step may prepare its own state on each call."""
    best = None
    for _run in range(repeat):
        gc.collect()
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    gc.collect()
    tracemalloc.start()
    try:
        step()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return best, peak


def bench_size(count, repeat, work):
    results = synthetic_results(count)
    hosts = sorted(results)
    hostvars = dict((host, {"inventory_hostname": host, RESULT_VAR: result}) for host, result in results.items())
    figures = {}
    failures = []

    first_dest = os.path.join(work, "first-%d" % count)

    def first():
        shutil.rmtree(first_dest, ignore_errors=True)
        result = run_report(hosts, hostvars, first_dest)
        assert result["written"], result["msg"]
    figures["report first"] = measure(first, repeat)

    rerun_dest = os.path.join(work, "rerun-%d" % count)
    run_report(hosts, hostvars, rerun_dest)
    before = _files(rerun_dest)

    def rerun():
        result = run_report(hosts, hostvars, rerun_dest)
        if result["changed"] or result["written"]:
            failures.append("%d hosts: the re-run over an unchanged fleet wrote %s" % (count, result["msg"]))
    figures["report re-run"] = measure(rerun, repeat)
    if _files(rerun_dest) != before:
        failures.append("%d hosts: the re-run over an unchanged fleet touched a report file" % count)

    # Each call flips one host between its result and unreachable: every run finds a change.
    changed_host = hosts[0]
    results_of_changed = [_fixture("unreachable"), hostvars[changed_host][RESULT_VAR]]
    changed_dest = os.path.join(work, "changed-%d" % count)
    run_report(hosts, hostvars, changed_dest)

    def changed():
        results_of_changed.reverse()
        hostvars[changed_host][RESULT_VAR] = results_of_changed[-1]
        result = run_report(hosts, hostvars, changed_dest)
        if not result["written"]:
            failures.append("%d hosts: a changed host did not give a new run" % count)
    figures["report changed"] = measure(changed, repeat)
    hostvars[changed_host][RESULT_VAR] = results[changed_host]

    figures["gate"] = measure(lambda: run_gate(hosts, hostvars), repeat)

    plain = dict((host, result) for host, result in results.items())
    figures["build_report"] = measure(lambda: build_report(hosts, plain, inventory_hosts=hosts), repeat)
    report = build_report(hosts, plain, inventory_hosts=hosts)
    for label, render in (("render json", render_json), ("render markdown", render_markdown),
                          ("render html", render_html)):
        figures[label] = measure(lambda render=render: render(report), repeat)
    return figures, failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000],
                        help="fleet sizes, smallest first (default 1000 10000)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per step, best kept (default 1)")
    parser.add_argument("--max-growth", type=float, default=1.5,
                        help="largest allowed growth of the time per host from the smallest to the largest "
                             "size (default 1.5; linear is 1.0)")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if sizes[0] < 1 or args.repeat < 1:
        parser.error("--sizes and --repeat must be at least 1")

    work = tempfile.mkdtemp(prefix="sev-snp-bench-fleet.")
    by_size = {}
    failures = []
    try:
        for count in sizes:
            print("%d synthetic hosts ..." % count, flush=True)
            by_size[count], found = bench_size(count, args.repeat, work)
            failures += found
    finally:
        shutil.rmtree(work, ignore_errors=True)

    steps = list(by_size[sizes[0]])
    print()
    print("controller only, Python %s, best of %d; peak memory under tracemalloc"
          % (sys.version.split()[0], args.repeat))
    header = "%-16s" % "step" + "".join("%14s %10s" % ("%d hosts s" % n, "peak MiB") for n in sizes)
    if len(sizes) > 1:
        header += "%10s" % "growth"
    print(header)
    for step in steps:
        line = "%-16s" % step
        for count in sizes:
            seconds, peak = by_size[count][step]
            line += "%14.3f %10.1f" % (seconds, peak / 1048576.0)
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            per_small = by_size[small][step][0] / small
            per_large = by_size[large][step][0] / large
            # Steps that take under 50 ms at the largest size are noise, not growth.
            growth = per_large / per_small if per_small > 0 else 0.0
            line += "%9.2fx" % growth
            if growth > args.max_growth and by_size[large][step][0] > 0.05:
                failures.append("%s: %.2fx the time per host at %d hosts than at %d (superlinear)"
                                % (step, growth, large, small))
        print(line)
    for failure in failures:
        print("GOAL MISSED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
