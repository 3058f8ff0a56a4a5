# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""live_kernel_log runs real processes: small shell scripts stand in for dmesg and journalctl."""

import os
import time

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import host_files, live_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.guest_log import parse_guest_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import parse_kernel_log


class StandInModule(object):
    """Finds commands among the stand-in scripts written into a directory (get_bin_path only)."""

    def __init__(self, directory):
        self.directory = directory

    def get_bin_path(self, name):
        path = os.path.join(self.directory, name)
        return path if os.path.exists(path) else None


@pytest.fixture
def tools(tmp_path):
    """tools(dmesg="...shell...") writes stand-in commands; returns a module that finds them."""
    def write(**scripts):
        for name, body in scripts.items():
            path = tmp_path / ("journalctl" if name == "journalctl" else name)
            path.write_text("#!/bin/sh\n" + body + "\n")
            path.chmod(0o755)
        return StandInModule(str(tmp_path))
    return write


# A read that blocks fails the test (conftest.no_hang) instead of hanging the run.
pytestmark = pytest.mark.usefixtures("no_hang")


SNP_LINE = "ccp 0000:42:00.1: SEV-SNP API:1.55 build:8"


def test_dmesg_output_is_parsed_in_the_c_locale(tools):
    module = tools(dmesg='echo "[ 5.1] %s"; echo "[ 0.0] locale=$LC_ALL"' % SNP_LINE)
    read = live_kernel_log.read_source(module, "dmesg", parse_kernel_log)
    assert (read.source, read.error, read.incomplete) == ("dmesg", None, None)
    assert read.parsed["snp_api"] == "1.55" and read.parsed["lines"] == 2
    lines = []
    live_kernel_log.read_source(module, "dmesg", lines.extend)
    assert lines[1] == "[ 0.0] locale=C"


def test_journalctl_gets_this_boots_kernel_messages(tools):
    module = tools(journalctl='echo "$@"')
    lines = []
    read = live_kernel_log.read_source(module, "journal", lines.extend)
    assert lines == ["-k -b --no-pager -o short -q"] and read.error is None


@pytest.mark.parametrize("body, error", [
    ('echo "dmesg: read kernel buffer failed: Operation not permitted" >&2; exit 1',
     "dmesg: read kernel buffer failed: Operation not permitted"),
    ("exit 3", "dmesg exited with code 3"),
    ('echo "half a log"; echo "  oops  " >&2; exit 1', "oops"),
])
def test_a_failing_command_is_a_reason_not_a_log(tools, body, error):
    read = live_kernel_log.read_source(tools(dmesg=body), "dmesg", parse_kernel_log)
    assert read.parsed is None and read.error == error and read.source == "dmesg"


def test_missing_and_unrunnable_commands(tools, tmp_path):
    module = tools()
    assert live_kernel_log.read_source(module, "dmesg", parse_kernel_log).error == "dmesg not installed"
    (tmp_path / "dmesg").write_text("not a program")
    (tmp_path / "dmesg").chmod(0o644)
    read = live_kernel_log.read_source(module, "dmesg", parse_kernel_log)
    assert read.error == "%s cannot be run: Permission denied" % (tmp_path / "dmesg")


@pytest.mark.parametrize("body", ['echo "-- No entries --"', "true", 'echo; echo "   "'])
def test_an_empty_journal_is_a_reason(tools, body):
    read = live_kernel_log.read_source(tools(journalctl=body), "journal", parse_kernel_log)
    assert read.error == "no kernel messages in the journal for this boot" and read.parsed is None


def test_an_empty_dmesg_is_an_empty_log_not_an_error(tools):
    read = live_kernel_log.read_source(tools(dmesg="true"), "dmesg", parse_kernel_log)
    assert read.error is None and read.parsed["lines"] == 0


def test_endless_output_is_stopped_at_the_limit_and_said(tools):
    module = tools(dmesg='while :; do echo "[ 1.0] eth0: link up"; done')
    started = time.monotonic()
    read = live_kernel_log.read_source(module, "dmesg", parse_kernel_log, limit=64 * 1024)
    assert time.monotonic() - started < 10
    assert read.error is None
    assert read.incomplete == ("the log from dmesg is larger than 64 KiB; lines after the first 64 KiB "
                               "were not read")
    assert read.parsed["lines"] == 64 * 1024 // len("[ 1.0] eth0: link up\n")


def test_the_default_limit_applies(tools, monkeypatch):
    monkeypatch.setattr(host_files, "LOG_LIMIT", 1024)
    read = live_kernel_log.read_source(tools(dmesg="yes"), "dmesg", parse_kernel_log)
    assert read.incomplete.startswith("the log from dmesg is larger than 1 KiB")


def test_a_hanging_command_is_stopped_after_the_timeout(tools, monkeypatch):
    module = tools(dmesg='echo "%s"; exec sleep 60' % SNP_LINE)
    started = time.monotonic()
    read = live_kernel_log.read_source(module, "dmesg", parse_kernel_log, timeout=0.5)
    assert time.monotonic() - started < 5
    assert read.incomplete == "dmesg did not finish within 0.5 s; its output after that was not read"
    assert read.error is None and read.parsed["snp_api"] == "1.55"
    monkeypatch.setattr(live_kernel_log, "COMMAND_TIMEOUT", 0.2)
    read = live_kernel_log.read_source(module, "dmesg", parse_kernel_log)
    assert read.incomplete.startswith("dmesg did not finish within 0.2 s")


def test_a_command_that_finishes_in_time_is_complete(tools):
    read = live_kernel_log.read_source(tools(dmesg="sleep 0.3; echo late"), "dmesg", parse_kernel_log, timeout=5)
    assert read.incomplete is None and read.parsed["lines"] == 1


def test_over_long_lines_make_the_log_incomplete(tools):
    read = live_kernel_log.read_source(tools(dmesg="head -c 100 /dev/zero | tr '\\0' x; echo; echo ok"),
                                       "dmesg", parse_kernel_log, line_limit=50)
    assert read.parsed["lines"] == 1  # the parser never sees the skipped line
    assert read.incomplete == ("1 line(s) of the log from dmesg are longer than 50 bytes and were skipped "
                               "(first: line 1)")


@pytest.fixture
def boot_msg(tmp_path, monkeypatch):
    path = tmp_path / "boot.msg"
    monkeypatch.setattr(live_kernel_log, "BOOT_MSG", str(path))
    return path


def test_boot_msg_file(tools, boot_msg):
    boot_msg.write_text("<5>[    0.000000] Linux version 6.4.0-150700.53-default\n" + SNP_LINE + "\n")
    read = live_kernel_log.read_source(tools(), "boot.msg", parse_kernel_log)
    assert read.source == "boot.msg" and read.error is None
    assert read.parsed["snp_api"] == "1.55" and read.parsed["reaches_boot"] is True
    read = live_kernel_log.read_source(tools(), "boot.msg", parse_kernel_log, limit=10)
    assert read.incomplete.startswith("%s is larger than 10 bytes" % boot_msg)


@pytest.mark.parametrize("make, error", [
    (lambda path: None, "does not exist"),
    (lambda path: os.mkfifo(str(path)), "is a named pipe (FIFO), not a regular file; it is not read"),
    (lambda path: path.mkdir(), "is a directory, not a regular file; it is not read"),
])
def test_boot_msg_that_cannot_be_read(tools, boot_msg, make, error):
    make(boot_msg)
    read = live_kernel_log.read_source(tools(), "boot.msg", parse_kernel_log)
    assert read.error == "%s %s" % (boot_msg, error) and read.parsed is None


def test_unknown_source(tools):
    assert live_kernel_log.read_source(tools(), "kmsg", parse_kernel_log).error == "unknown source kmsg"


def useful(parsed):
    return parsed["snp_api"] is not None


def test_rotated_ring_buffer_loses_to_the_journal(tools):
    module = tools(dmesg='echo "[9999.1] eth0: link up"', journalctl='echo "h kernel: %s"' % SNP_LINE)
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log, ["dmesg", "journal"], useful=useful)
    assert (read.source, read.error) == ("journal", None) and read.parsed["snp_api"] == "1.55"


def test_the_first_useful_source_wins(tools):
    module = tools(dmesg='echo "%s"' % SNP_LINE, journalctl='echo "h kernel: %s"' % SNP_LINE)
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log, ["journal", "dmesg"], useful=useful)
    assert read.source == "journal"


def test_without_a_useful_source_the_first_readable_one_is_used(tools):
    module = tools(dmesg="echo noise", journalctl="echo other noise; echo more")
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log, ["journal", "dmesg"],
                                                useful=lambda parsed: False)
    assert (read.source, read.parsed["lines"]) == ("journal", 2)
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log, ["dmesg", "journal"])
    assert read.source == "dmesg"


def test_when_nothing_is_readable_every_reason_is_given(tools, boot_msg):
    module = tools(journalctl='echo "-- No entries --"')
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log)
    assert read.parsed is None and read.source is None
    assert read.error == ("dmesg: dmesg not installed; journal: no kernel messages in the journal for this boot; "
                          "boot.msg: %s does not exist" % boot_msg)
    assert live_kernel_log.read_live_kernel_log(module, parse_kernel_log, []).error == "no kernel log source enabled"


def test_limits_reach_every_source(tools):
    module = tools(dmesg="yes")
    read = live_kernel_log.read_live_kernel_log(module, parse_kernel_log, ["dmesg"], limit=100)
    assert read.incomplete.startswith("the log from dmesg is larger than 100 bytes")


def test_the_guest_parser_streams_the_same_way(tools):
    module = tools(dmesg='echo "[ 0.3] Memory Encryption Features active: AMD SEV SEV-ES SEV-SNP"')
    read = live_kernel_log.read_live_kernel_log(module, parse_guest_kernel_log, ["dmesg"])
    assert read.parsed["snp"] is True


def test_log_read_repr():
    assert repr(live_kernel_log.LogRead(source="dmesg", error="x")) == \
        "LogRead(source='dmesg', incomplete=None, error='x')"
