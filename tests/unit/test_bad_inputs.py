# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every bad input from the host-verdicts report, each with the clear error or the correct
verdict it must give. Other test files pin the details (a non-root run without write permission:
test_kernel_cmdline.py, which needs an unprivileged user); this one is the list, in one place,
run against the real code (modules in-process, the gate action as Ansible calls it).
"""

from __future__ import annotations

import os
import re
import shutil
from unittest.mock import MagicMock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coco.sev_snp.plugins.action.host_gate import ActionModule as HostGate
from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import apply_options
from ansible_collections.coco.sev_snp.plugins.module_utils.fleet_report import build_report, render_markdown
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import GrubDefaultError, edit_variable
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import parse_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options
from ansible_collections.coco.sev_snp.plugins.modules import host_facts, kernel_cmdline
from module_exits import ExitJson, FailJson, patch_module_exits

ROOTS = os.path.join(os.path.dirname(__file__), "..", "fixtures", "host", "roots")


# A read that blocks fails the test (conftest.no_hang) instead of hanging the run.
pytestmark = pytest.mark.usefixtures("no_hang")


@pytest.fixture
def module(monkeypatch):
    """Run a module in-process: (main, args) -> (failed?, result). No live command is found."""
    patch_module_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)

    def _run(main, args):
        with patch_module_args(args):
            try:
                main()
            except ExitJson as done:
                return False, done.args[0]
            except FailJson as failed:
                return True, failed.args[0]
        raise AssertionError("the module neither exited nor failed")
    return _run


@pytest.fixture
def milan(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(os.path.join(ROOTS, "milan-ready"), str(root))
    return root


def gate(args, facts):
    task = MagicMock()
    task.args = args
    task.check_mode = False
    task.async_val = 0
    action = HostGate(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    return action.run(task_vars={"inventory_hostname": "kvm07", "ansible_facts": {"sev_snp": facts}})


def ids(facts):
    return [p["id"] for p in facts["problems"]]


# --------------------------------------------------------------- GRUB editing

SHELL_MAY_SKIP = [
    'false && GRUB_CMDLINE_LINUX_DEFAULT="x"',
    'false || GRUB_CMDLINE_LINUX_DEFAULT="x"',
    'f() { GRUB_CMDLINE_LINUX_DEFAULT="x"; }',
    'function f { GRUB_CMDLINE_LINUX_DEFAULT="x"; }',
    'if false; then GRUB_CMDLINE_LINUX_DEFAULT="x"; fi',
    '( GRUB_CMDLINE_LINUX_DEFAULT="x" )',
    '{ GRUB_CMDLINE_LINUX_DEFAULT="x"; }',
    'case a in b) GRUB_CMDLINE_LINUX_DEFAULT="x";; esac',
    'GRUB_CMDLINE_LINUX_DEFAULT=${X:-$(echo iommu=pt)}',
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet `echo iommu=pt`"',
    'GRUB_CMDLINE_LINUX_DEFAULT="quiet ${X:-$(echo iommu=pt)}"',
]


@pytest.mark.parametrize("second", SHELL_MAY_SKIP)
def test_grub_line_the_shell_may_not_run_is_refused_naming_the_line(module, tmp_path, second):
    path = tmp_path / "grub"
    original = 'GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"\n%s\n' % second
    path.write_text(original)
    failed, result = module(kernel_cmdline.main, {"path": str(path), "options": default_options()})
    assert failed, result
    assert "line 2" in result["msg"]
    assert path.read_text() == original
    assert os.listdir(str(tmp_path)) == ["grub"]


@pytest.mark.parametrize("token, left", [
    ("iommu.passthrough=on", []),
    ("iommu.passthrough=y", []),
    ("iommu.passthrough=true", []),
    ("amd_iommu=fullflush,off", ["amd_iommu=fullflush"]),
    ("iommu=pt", []),
    ("iommu=off", []),
])
def test_passthrough_spellings_are_removed(token, left):
    assert apply_options(["quiet", token], default_options()) == ["quiet"] + left + ["iommu=nopt"] \
        or apply_options(["quiet", token], default_options()) == ["quiet", "iommu=nopt"] + left


@pytest.mark.parametrize("name", ["a;b", "a b", "a\x00b", "a|b", "a&b", "a#b", "a<b", "a>b", "a`b", "a$b",
                                  "a'b", 'a"b', "a(b", "a)b", "a{b", "a}b", "--"])
def test_option_names_that_would_break_the_file_are_refused(module, tmp_path, name):
    path = tmp_path / "grub"
    path.write_text('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n')
    failed, result = module(kernel_cmdline.main, {"path": str(path), "options": [{"name": name}]})
    assert failed and "name" in result["msg"]
    assert path.read_text() == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n'


def test_grub_parser_never_accepts_an_unclosed_substitution():
    with pytest.raises(GrubDefaultError):
        edit_variable('GRUB_CMDLINE_LINUX_DEFAULT=$(echo\n', "GRUB_CMDLINE_LINUX_DEFAULT", default_options())


# --------------------------------------------------------------- host facts

def test_configured_passthrough_on_is_flagged(module, milan):
    (milan / "etc/default/grub").write_text('GRUB_CMDLINE_LINUX_DEFAULT="iommu=nopt iommu.passthrough=on"\n')
    failed, result = module(host_facts.main, {"root": str(milan)})
    facts = result["ansible_facts"]["sev_snp"]
    assert not failed
    problem = [p for p in facts["problems"] if p["id"] == "iommu_nopt_not_configured"][0]
    assert "iommu.passthrough" in problem["message"]


def test_failure_after_64_mib_of_log_is_not_missed(module, milan):
    log = milan / "var/log/dmesg"
    with open(str(log), "a") as handle:
        line = "[   9.000000] usb 1-1: new high-speed USB device number %d using xhci_hcd\n"
        for number in range(1100000):
            handle.write(line % number)
        handle.write("[  99.000000] ccp 0000:46:00.1: SEV-SNP: failed to INIT rc -5, error 0x3\n")
    assert os.path.getsize(str(log)) > 64 * 1024 * 1024
    facts = module(host_facts.main, {"root": str(milan)})[1]["ansible_facts"]["sev_snp"]
    assert facts["ready"] is False
    assert "snp_init_failed" in ids(facts) or "kernel_log_incomplete" in ids(facts)


test_failure_after_64_mib_of_log_is_not_missed = pytest.mark.slow(test_failure_after_64_mib_of_log_is_not_missed)


@pytest.mark.parametrize("line", [
    "ccp 0000:46:00.1: SEV-SNP API:1.%s build:1" % ("9" * 5000),
    "ccp 0000:46:00.1: SEV-SNP API:1.55 build:%s" % ("9" * 5000),
    "kvm_amd: SEV-SNP enabled (ASIDs 1 - %s)" % ("9" * 5000),
    "SEV-SNP: RMP table physical range [0x%s - 0x1]" % ("f" * 5000),
])
def test_numbers_of_any_length_never_raise(line):
    parsed = parse_kernel_log(line + "\n")
    assert parsed["snp_api"] in (None, "1.55")


def test_fifo_instead_of_cpuinfo_does_not_block(module, milan):
    (milan / "proc/cpuinfo").unlink()
    os.mkfifo(str(milan / "proc/cpuinfo"))
    facts = module(host_facts.main, {"root": str(milan)})[1]["ansible_facts"]["sev_snp"]
    assert facts["cpu"]["vendor"] is None
    assert "host_files_unreadable" in ids(facts)


def test_fifo_as_kernel_log_is_a_clear_error(module, milan, tmp_path):
    fifo = tmp_path / "log"
    os.mkfifo(str(fifo))
    failed, result = module(host_facts.main, {"root": str(milan), "kernel_log": str(fifo)})
    assert failed and "kernel_log" in result["msg"]


def test_unreadable_sev_snp_parameter_is_unknown_not_disabled(module, milan):
    param = milan / "sys/module/kvm_amd/parameters/sev_snp"
    param.unlink()
    os.mkfifo(str(param))
    facts = module(host_facts.main, {"root": str(milan)})[1]["ansible_facts"]["sev_snp"]
    assert facts["kvm"]["sev_snp"] is None
    assert "kvm_snp_disabled" not in ids(facts)
    assert "host_files_unreadable" in ids(facts)


def test_firmware_0_0_is_not_ready(module, milan):
    log = milan / "var/log/dmesg"
    log.write_text(log.read_text().replace("SEV-SNP API:1.55 build:37", "SEV-SNP API:0.0 build:0"))
    facts = module(host_facts.main, {"root": str(milan)})[1]["ansible_facts"]["sev_snp"]
    assert facts["ready"] is False
    assert "snp_firmware_too_old" in ids(facts)


# --------------------------------------------------------------- the gate

@pytest.fixture
def ready_facts(module, milan):
    facts = module(host_facts.main, {"root": str(milan)})[1]["ansible_facts"]["sev_snp"]
    assert facts["ready"] is True
    return facts


@pytest.mark.parametrize("minimum, message", [
    ("abc", "is not a SEV firmware version"),
    (1.5, "(?i)quote it"),
    (1.55, "(?i)quote it"),
    (2, "(?i)quote it"),
    (True, "(?i)quote it"),
    ("1." + "9" * 5000, "is not a SEV firmware version"),
])
def test_bad_firmware_minimum_is_refused(ready_facts, minimum, message):
    with pytest.raises(AnsibleActionFail, match=message):
        gate({"min_snp_api": minimum}, ready_facts)


def test_quoted_minimum_above_the_host_fails_it_with_the_fix(ready_facts):
    result = gate({"min_snp_api": "1.56"}, ready_facts)
    assert result["failed"] is True
    assert [p["id"] for p in result["problems"]] == ["snp_firmware_below_minimum"]
    assert "1.56" in result["problems"][0]["fix"]


@pytest.mark.parametrize("facts", [
    {"problems": "x"},
    {"problems": ["x"]},
    {"problems": [{"id": "a", "severity": "fatal"}]},
    {"problems": [], "firmware": "1.55"},
    {"problems": [], "firmware": {"snp_api": "one"}},
])
def test_malformed_facts_are_a_clear_error(facts):
    with pytest.raises(AnsibleActionFail, match="coco.sev_snp.host_gate"):
        gate({}, facts)


# --------------------------------------------------------------- the report

def test_markdown_report_escapes_every_field():
    facts = {"ready": False, "problems": [{"id": "reboot_required|x", "severity": "error",
                                          "message": "a | b\n# c", "fix": "`x` <script>"}],
             "firmware": {}, "cpu": {}, "iommu": {}, "msr": {}, "cmdline": {"reboot_required": True}}
    report = build_report(["kvm|07"], {"kvm|07": {"ansible_facts": {"sev_snp": facts}}})
    markdown = render_markdown(report)
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert len(table) == 3, markdown
    cells = [re.split(r"(?<!\\)\|", line) for line in table]
    assert len(set(len(row) for row in cells)) == 1, table
    assert "<script>" not in markdown
    assert "\n# c" not in markdown
