#!/usr/bin/env python
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mutation testing of the module_utils that decide verdicts.

Each mutant changes one decision in a copy of the collection (a comparison flipped, a
condition dropped from an and/or, a `not` removed, a number moved by one, a returned value
replaced by None, break and continue swapped, ...) and runs the unit tests that exercise
that file. A mutant that no test notices "survives": either it is equivalent to the
original, or a decision is not pinned by any test. Survivors that are understood are
explained in tests/mutation/<module>.yml (key: why); the rest are printed.

    scripts/mutation.py [--jobs 2] [FILE ...]      (default: the files in GOALS)

Exit status 1 when a file misses its goal (killed share, explained survivors not counted
as killed) or when a survivor has no explanation. String constants are not mutated
(messages), nor lines marked `# pragma: no mutate`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORK = os.path.join(ROOT, "build", "mutation")
EXPLAINED_DIR = os.path.join(ROOT, "tests", "mutation")

# Files that decide verdicts and the killed share each must reach (percent).
GOALS = {
    "plugins/module_utils/host_model.py": 85,
    "plugins/module_utils/kernel_log.py": 85,
    "plugins/module_utils/cmdline.py": 85,
    "plugins/module_utils/grub_default.py": 85,
    "plugins/module_utils/guest_log.py": 85,
    "plugins/module_utils/host_files.py": 90,
    "plugins/module_utils/amd_certs.py": 90,
    "plugins/module_utils/amd_roots.py": 90,
    "plugins/module_utils/snp_report.py": 90,
    "plugins/module_utils/attestation_policy.py": 90,
    "plugins/module_utils/snp_version.py": 90,
}

_COMPARE_SWAPS = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
    ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_BINOP_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift, ast.RShift: ast.LShift, ast.Mult: ast.FloorDiv,
}


class Mutant(object):
    def __init__(self, path, key, lineno, start, end, replacement):
        self.path = path
        self.key = key
        self.lineno = lineno
        self.start = start
        self.end = end
        self.replacement = replacement

    def apply(self, source):
        return source[:self.start] + self.replacement.encode("utf-8") + source[self.end:]


class _Collector(ast.NodeVisitor):
    """Walks one module and records every mutant as a byte range and its replacement."""

    def __init__(self, path, source):
        self.path = path
        self.source = source
        self.lines = source.split(b"\n")
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line) + 1)
        self.scope = []
        self.mutants = []
        self.keys = {}
        self.docstrings = set()

    # -- helpers
    def _range(self, node):
        return (self.offsets[node.lineno - 1] + node.col_offset,
                self.offsets[node.end_lineno - 1] + node.end_col_offset)

    def _skipped(self, node):
        for lineno in range(node.lineno, node.end_lineno + 1):
            if b"pragma: no mutate" in self.lines[lineno - 1]:
                return True
        return False

    def _segment(self, node):
        start, end = self._range(node)
        text = self.source[start:end].decode("utf-8", "replace")
        return " ".join(text.split())

    def _add(self, node, replacement_node, what=None, wrap=True):
        if self._skipped(node):
            return
        start, end = self._range(node)
        text = ast.unparse(replacement_node) if isinstance(replacement_node, ast.AST) else replacement_node
        if wrap:
            text = "(%s)" % text
        original = self._segment(node)
        mutated = " ".join(text.split())
        key = "%s: %s => %s" % (".".join(self.scope) or "<module>", _short(original), what or _short(mutated))
        count = self.keys.get(key, 0) + 1
        self.keys[key] = count
        if count > 1:
            key = "%s #%d" % (key, count)
        self.mutants.append(Mutant(self.path, key, node.lineno, start, end, text))

    # -- scopes
    def _scoped(self, node):
        self.scope.append(node.name)
        body = getattr(node, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            self.docstrings.add(id(body[0].value))
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    # -- operators
    def visit_Compare(self, node):
        for index, operator in enumerate(node.ops):
            swap = _COMPARE_SWAPS.get(type(operator))
            if swap is None:
                continue
            mutated = copy.deepcopy(node)
            mutated.ops[index] = swap()
            self._add(node, mutated)
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        mutated = copy.deepcopy(node)
        mutated.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self._add(node, mutated)
        for index in range(len(node.values)):
            rest = [copy.deepcopy(v) for i, v in enumerate(node.values) if i != index]
            replacement = rest[0] if len(rest) == 1 else ast.BoolOp(op=copy.deepcopy(node.op), values=rest)
            self._add(node, replacement, "drop %s" % _short(self._segment(node.values[index]), 40))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            self._add(node, node.operand, "drop not")
        self.generic_visit(node)

    def visit_BinOp(self, node):
        swap = _BINOP_SWAPS.get(type(node.op))
        if swap is not None:
            mutated = copy.deepcopy(node)
            mutated.op = swap()
            self._add(node, mutated)
        self.generic_visit(node)

    def visit_If(self, node):
        self._add(node.test, "True", "condition always true")
        self._add(node.test, "False", "condition always false")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if id(node) in self.docstrings:
            return
        value = node.value
        if isinstance(value, bool):
            self._add(node, repr(not value), wrap=False)
        elif isinstance(value, int):
            self._add(node, repr(value + 1), wrap=False)
        elif isinstance(value, float):
            self._add(node, repr(value + 1.0), wrap=False)

    def visit_Return(self, node):
        if node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            self._add(node, "return None", wrap=False)
        self.generic_visit(node)

    def visit_Break(self, node):
        self._add(node, "continue", wrap=False)

    def visit_Continue(self, node):
        self._add(node, "break", wrap=False)

    def visit_JoinedStr(self, node):
        return  # f-strings are messages

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        self.generic_visit(node)


def _short(text, limit=70):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def collect_mutants(path):
    with open(os.path.join(ROOT, path), "rb") as handle:
        source = handle.read()
    collector = _Collector(path, source)
    collector.visit(ast.parse(source, filename=path))
    return source, collector.mutants


def tests_for(path):
    """Unit test files that exercise a module_utils file, directly or through a plugin."""
    name = os.path.splitext(os.path.basename(path))[0]
    users = {name}
    for directory in ("plugins/modules", "plugins/action", "plugins/filter", "plugins/test"):
        for entry in sorted(os.listdir(os.path.join(ROOT, directory))):
            if not entry.endswith(".py"):
                continue
            with open(os.path.join(ROOT, directory, entry), encoding="utf-8") as handle:
                if re.search(r"module_utils\.%s import" % re.escape(name), handle.read()):
                    users.add(os.path.splitext(entry)[0])
    pattern = re.compile(r"\b(%s)\b" % "|".join(sorted(re.escape(u) for u in users)))
    found = []
    for directory, _dirs, files in os.walk(os.path.join(ROOT, "tests", "unit")):
        for entry in sorted(files):
            if entry.startswith("test_") and entry.endswith(".py"):
                full = os.path.join(directory, entry)
                with open(full, encoding="utf-8") as handle:
                    if pattern.search(handle.read()):
                        found.append(os.path.relpath(full, ROOT))
    # The module's own test file first: most mutants die there, and -x stops at once.
    return sorted(found, key=lambda test: (os.path.basename(test) != "test_%s.py" % name, test))


def _copy_tree(destination):
    if os.path.exists(destination):
        shutil.rmtree(destination)
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "__pycache__", ".pytest_cache", "*.pyc",
                                    "mutants", ".cache")
    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)


def _workdir(index):
    return os.path.join(WORK, "w%d" % index, "ansible_collections", "coco", "sev_snp")


def _run_pytest_child(tree, tests):
    """In a forked child: run the tests of the tree once, quietly; exit with pytest's status."""
    os.chdir(tree)
    sys.dont_write_bytecode = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import pytest
    code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-W", "ignore", "-m", "not slow"] + tests)
    os._exit(int(code))


def run_tests(tree, tests, timeout):
    """pytest's exit code for the tree (0: all passed), or 'timeout'."""
    pid = os.fork()
    if pid == 0:
        try:
            _run_pytest_child(tree, tests)
        finally:
            os._exit(99)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout"
        time.sleep(0.02)


def _worker(index, jobs, work, results_path):
    """Runs every jobs-th mutant of the work list in its own copy of the tree."""
    tree = _workdir(index)
    # Playbooks that tests start find the mutated copy, not the checkout.
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(WORK, "w%d" % index)
    import pytest  # noqa: F401  (imported once here, inherited by every forked child)
    try:
        import ansible.module_utils.basic  # noqa: F401
        import cryptography.x509  # noqa: F401
    except ImportError:
        pass
    out = []
    for number, (path, source, mutant, tests, timeout) in enumerate(work):
        if number % jobs != index:
            continue
        target = os.path.join(tree, path)
        with open(target, "wb") as handle:
            handle.write(mutant.apply(source))
        # The module's own test file alone first: most mutants die there, and collecting the
        # other files (modules, playbooks) costs more than running it.
        outcome = run_tests(tree, tests[:1], timeout)
        if outcome == 0 and len(tests) > 1:
            outcome = run_tests(tree, tests[1:], timeout)
        if index == 0 and len(out) % 25 == 0:
            print("  ... %d/%d mutants run" % (number + 1, len(work)), flush=True)
        with open(target, "wb") as handle:
            handle.write(source)
        out.append({"path": path, "key": mutant.key, "line": mutant.lineno,
                    "killed": outcome != 0, "outcome": outcome})
    with open(results_path, "w", encoding="utf-8") as handle:
        json.dump(out, handle)


def load_explanations(path):
    name = os.path.splitext(os.path.basename(path))[0]
    file_path = os.path.join(EXPLAINED_DIR, name + ".yml")
    if not os.path.exists(file_path):
        return {}, file_path
    try:
        import yaml
    except ImportError:
        sys.exit("PyYAML is needed to read %s" % file_path)
    with open(file_path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        sys.exit("%s must be a mapping of mutant key to explanation" % file_path)
    return dict((str(k), str(v)) for k, v in data.items()), file_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("files", nargs="*", help="module_utils files (default: all with a goal)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, run nothing")
    args = parser.parse_args(argv)
    files = [os.path.relpath(os.path.abspath(f), ROOT) for f in args.files] or sorted(GOALS)

    plan = []
    for path in files:
        source, mutants = collect_mutants(path)
        tests = tests_for(path)
        if not tests:
            sys.exit("no unit test mentions %s" % path)
        plan.append((path, source, mutants, tests))
        if args.list:
            print("%s: %d mutants; tests: %s" % (path, len(mutants), " ".join(tests)))
            for mutant in mutants:
                print("  L%d %s" % (mutant.lineno, mutant.key))
    if args.list:
        return 0

    os.makedirs(WORK, exist_ok=True)
    for index in range(args.jobs):
        _copy_tree(_workdir(index))
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    work = []
    for path, source, mutants, tests in plan:
        started = time.monotonic()
        baseline = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                   "-m", "not slow"] + tests,
                                  cwd=_workdir(0), capture_output=True, text=True, check=False,
                                  env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(WORK, "w0")))
        elapsed = time.monotonic() - started
        if baseline.returncode != 0:
            print(baseline.stdout[-3000:])
            sys.exit("the tests of %s fail without any mutation; fix them first" % path)
        timeout = max(15.0, elapsed * 4)
        print("%s: %d mutants, %d test files, baseline %.1f s" % (path, len(mutants), len(tests), elapsed),
              flush=True)
        work.extend((path, source, mutant, tests, timeout) for mutant in mutants)

    started = time.monotonic()
    children = []
    for index in range(args.jobs):
        results_path = os.path.join(WORK, "results-%d.json" % index)
        pid = os.fork()
        if pid == 0:
            try:
                _worker(index, args.jobs, work, results_path)
            finally:
                os._exit(0)
        children.append((pid, results_path))
    results = []
    for pid, results_path in children:
        os.waitpid(pid, 0)
        with open(results_path, encoding="utf-8") as handle:
            results.extend(json.load(handle))
    elapsed = time.monotonic() - started

    failed = False
    summary = []
    for path in files:
        mine = sorted((r for r in results if r["path"] == path), key=lambda r: r["line"])
        explanations, explained_file = load_explanations(path)
        killed = sum(1 for r in mine if r["killed"])
        survivors = [r for r in mine if not r["killed"]]
        unexplained = [r for r in survivors if r["key"] not in explanations]
        stale = sorted(set(explanations) - set(r["key"] for r in survivors))
        share = 100.0 * killed / len(mine) if mine else 100.0
        goal = GOALS.get(path, 85)
        summary.append((path, len(mine), killed, share, goal, len(survivors) - len(unexplained), len(unexplained)))
        for r in unexplained:
            print("SURVIVED %s:%d  %s" % (path, r["line"], r["key"]))
        for key in stale:
            print("STALE explanation in %s (no such survivor now): %s" % (os.path.relpath(explained_file, ROOT), key))
        if share < goal or unexplained:
            failed = True
    print("\n%-42s %8s %7s %7s %5s %9s %11s" % ("file", "mutants", "killed", "share", "goal", "explained",
                                                "unexplained"))
    for path, total, killed, share, goal, explained, unexplained in summary:
        print("%-42s %8d %7d %6.1f%% %4d%% %9d %11d" % (path, total, killed, share, goal, explained, unexplained))
    print("mutation run: %d mutants in %.0f s with %d jobs" % (len(results), elapsed, args.jobs))
    with open(os.path.join(WORK, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
