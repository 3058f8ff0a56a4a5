# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the running system's kernel log, shared by host_facts and guest_facts.

The log is never held in memory: command output and files are streamed line by line into
the caller's parser (parse_kernel_log or parse_guest_kernel_log), at most
host_files.LOG_LIMIT bytes, and what could not be read is said in one sentence
(``incomplete``) instead of being dropped silently. Takes the AnsibleModule only to find
commands; the parsers stay separate.
"""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time

from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import (
    FileLines,
    HostFileError,
    LineReader,
    StreamCut,
)

SOURCES = ("dmesg", "journal", "boot.msg")
BOOT_MSG = "/var/log/boot.msg"
# journalctl on a host with a large journal takes seconds; minutes mean it hangs.
COMMAND_TIMEOUT = 300
_COMMANDS = {
    "dmesg": ("dmesg", []),
    "journal": ("journalctl", ["-k", "-b", "--no-pager", "-o", "short", "-q"]),
}
_NO_ENTRIES = "-- No entries --"


class LogRead(object):
    """What reading one log gave: the parser's result, where it came from, what was not read.

    ``parsed`` is None exactly when ``error`` says why nothing was read.
    """

    def __init__(self, parsed=None, source=None, incomplete=None, error=None):
        self.parsed = parsed
        self.source = source
        self.incomplete = incomplete
        self.error = error

    def __repr__(self):
        return "LogRead(source=%r, incomplete=%r, error=%r)" % (self.source, self.incomplete, self.error)


class _Counted(object):
    """Passes lines through and remembers whether any said more than "-- No entries --"."""

    def __init__(self, lines):
        self._lines = lines
        self.content = False

    def __iter__(self):
        for line in self._lines:
            if line.strip() and line.strip() != _NO_ENTRIES:
                self.content = True
            yield line


def read_file(path, parse, what=None, limit=None, line_limit=None):
    """LogRead of a log file; raises HostFileError when it cannot be opened (absent=True if missing)."""
    with FileLines(path, what or path, limit, line_limit) as lines:
        parsed = parse(lines)
        return LogRead(parsed, None, lines.incomplete)


def _pipe_chunks(fd, name, timeout, started):
    """read_chunk for a LineReader over a pipe; stops with StreamCut after ``timeout`` seconds."""

    def read_chunk(size):
        remaining = started + timeout - time.monotonic()
        ready = select.select([fd], [], [], max(remaining, 0))[0] if remaining > 0 else []
        if not ready:
            raise StreamCut("%s did not finish within %g s; its output after that was not read" % (name, timeout))
        return os.read(fd, size)

    return read_chunk


def run_command(module, source, parse, limit=None, line_limit=None, timeout=None):
    """LogRead of dmesg or journalctl, parsed while it prints, in the C locale.

    A command that prints more than ``limit`` bytes or runs longer than ``timeout`` seconds
    is stopped; its LogRead then says so in ``incomplete``.
    """
    timeout = COMMAND_TIMEOUT if timeout is None else timeout
    name, args = _COMMANDS[source]
    binary = module.get_bin_path(name)
    if not binary:
        return LogRead(source=source, error="%s not installed" % name)
    env = dict(os.environ, LC_ALL="C")
    with tempfile.TemporaryFile() as stderr:
        try:
            process = subprocess.Popen([binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=stderr, env=env, close_fds=True)
        except OSError as exc:
            return LogRead(source=source, error="%s cannot be run: %s" % (binary, exc.strerror or exc))
        lines = LineReader(_pipe_chunks(process.stdout.fileno(), name, timeout, time.monotonic()),
                           "the log from %s" % name, limit, line_limit)
        counted = _Counted(lines)
        try:
            parsed = parse(counted)
        finally:
            stopped = process.poll() is None
            if stopped:
                process.kill()
            process.stdout.close()
            rc = process.wait()
        stderr.seek(0)
        message = stderr.read(4096).decode("utf-8", "replace").strip()
    if rc != 0 and not (stopped and lines.incomplete):
        return LogRead(source=source, error=message or "%s exited with code %d" % (name, rc))
    if source == "journal" and not counted.content:
        return LogRead(source=source, error="no kernel messages in the journal for this boot")
    return LogRead(parsed, source, lines.incomplete)


def read_source(module, source, parse, limit=None, line_limit=None, timeout=None):
    """LogRead of one live source: dmesg, journal (this boot) or boot.msg (SUSE)."""
    if source in _COMMANDS:
        return run_command(module, source, parse, limit, line_limit, timeout)
    if source == "boot.msg":
        try:
            read = read_file(BOOT_MSG, parse, BOOT_MSG, limit, line_limit)
        except HostFileError as exc:
            return LogRead(source=source, error="%s %s" % (BOOT_MSG, exc.reason))
        read.source = source
        return read
    return LogRead(source=source, error="unknown source %s" % source)


def read_live_kernel_log(module, parse, sources=SOURCES, useful=None, **limits):
    """LogRead of the first source whose parsed log is useful, else of the first readable one.

    ``useful(parsed)`` tells whether a log still holds what the caller needs (a rotated ring
    buffer may have lost the boot messages that the journal kept). When no source can be
    read, ``error`` joins the reason of each. ``limits`` (limit, line_limit, timeout) are
    passed to read_source.
    """
    fallback = None
    errors = []
    for source in sources:
        read = read_source(module, source, parse, **limits)
        if read.error:
            errors.append("%s: %s" % (source, read.error))
            continue
        if useful is None or useful(read.parsed):
            return read
        if fallback is None:
            fallback = read
    if fallback is not None:
        return fallback
    return LogRead(error="; ".join(errors) or "no kernel log source enabled")
