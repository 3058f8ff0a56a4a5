# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read files on the managed host without ever blocking and in bounded memory.

Standard library only (runs on the managed host's Python). Every file the facts modules
read goes through here, so one set of rules holds everywhere:

* Only regular files are read. A FIFO, socket or device at a path where a file is expected
  is refused before it is opened, and the file is opened with O_NONBLOCK and checked again
  with fstat, so a path swapped for a FIFO in between cannot hang the module either.
* /proc and /sys files report size 0, so st_size is never trusted: files are read in
  chunks up to a cap, and a file larger than the cap is refused (read_text) or read up to
  the cap with a sentence saying what was not read (LineReader).
* A file that is absent is None; a file that exists but cannot be read raises
  HostFileError with a reason an operator can act on.
"""

from __future__ import annotations

import errno
import os
import stat

KIB = 1024
MIB = 1024 * KIB

# /proc/cpuinfo of a two-socket host with 768 threads is about 1.5 MiB.
TEXT_LIMIT = 16 * MIB
# dmesg of a host that has run for a year with a 16 MiB ring buffer fits many times over.
LOG_LIMIT = 256 * MIB
# printk caps a message at 1024 bytes; journal lines are longer only with huge fields.
LINE_LIMIT = 64 * KIB
_CHUNK = 64 * KIB

_ABSENT_ERRNOS = (errno.ENOENT, errno.ENOTDIR)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class HostFileError(Exception):
    """A path that exists but cannot be read; ``reason`` says why, ``absent`` when it is missing."""

    def __init__(self, path, reason, absent=False):
        super(HostFileError, self).__init__("%s %s" % (path, reason))
        self.path = path
        self.reason = reason
        self.absent = absent


def size_text(size):
    """'256 MiB', '64 KiB', '100 bytes': how limits are named in messages."""
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        if size >= unit and size % unit == 0:
            return "%d %s" % (size // unit, name)
    return "%d bytes" % size


def file_kind(mode):
    """'a named pipe (FIFO)' etc. for a non-regular st_mode, None for a regular file."""
    for test, name in _KINDS:
        if test(mode):
            return name
    if stat.S_ISREG(mode):
        return None
    return "not a regular file"


def _describe(exc):
    return exc.strerror or str(exc)


def open_regular(path, allow_char_device=False):
    """File descriptor of a regular file, opened read-only and non-blocking.

    Raises HostFileError (absent=True when the path does not exist). allow_char_device
    admits character devices too (/dev/cpu/N/msr), still opened non-blocking.
    """
    try:
        before = os.stat(path)
    except OSError as exc:
        absent = exc.errno in _ABSENT_ERRNOS
        raise HostFileError(path, "does not exist" if absent else "cannot be read: %s" % _describe(exc),
                            absent=absent)
    _refuse(path, before.st_mode, allow_char_device)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        absent = exc.errno in _ABSENT_ERRNOS
        raise HostFileError(path, "does not exist" if absent else "cannot be opened: %s" % _describe(exc),
                            absent=absent)
    try:
        _refuse(path, os.fstat(fd).st_mode, allow_char_device)
    except HostFileError:
        os.close(fd)
        raise
    return fd


def _refuse(path, mode, allow_char_device):
    kind = file_kind(mode)
    if kind is None or (allow_char_device and stat.S_ISCHR(mode)):
        return
    raise HostFileError(path, "is %s, not a regular file; it is not read" % kind)


def read_text(path, limit=None):
    """Whole text of a small regular file (UTF-8, bad bytes replaced), or None when absent.

    Raises HostFileError when the file exists but is not a regular file, cannot be read
    or is larger than ``limit`` bytes (default TEXT_LIMIT).
    """
    limit = TEXT_LIMIT if limit is None else limit
    try:
        fd = open_regular(path)
    except HostFileError as exc:
        if exc.absent:
            return None
        raise
    chunks = []
    total = 0
    try:
        while total <= limit:
            chunk = _read_fd(fd, path, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise HostFileError(path, "is larger than %s; it is not read" % size_text(limit))
    return b"".join(chunks).decode("utf-8", "replace")


def _read_fd(fd, path, size):
    try:
        return os.read(fd, size)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
            raise HostFileError(path, "cannot be read without waiting (it behaves like a stream)")
        raise HostFileError(path, "cannot be read: %s" % _describe(exc))


class StreamCut(Exception):
    """Raised by a chunk reader to stop a LineReader; the message says what was not read."""


class LineReader(object):
    """Iterate the lines of a byte stream in bounded memory.

    ``read_chunk(size)`` returns up to ``size`` bytes, b"" at the end; it may raise StreamCut
    or HostFileError to stop early. Lines come without their trailing newline, decoded as
    UTF-8 with bad bytes replaced. At most ``limit`` bytes are read (default LOG_LIMIT); a
    line longer than ``line_limit`` (default LINE_LIMIT) is skipped whole, as is a line cut by the limit, because a fragment of
    a line can read as something else ("ASIDs 1 - 9" of "ASIDs 1 - 99").
    ``incomplete`` then holds one sentence saying what was not read, naming the stream
    as ``what`` (for example "the log from dmesg").
    """

    def __init__(self, read_chunk, what, limit=None, line_limit=None):
        self._read_chunk = read_chunk
        self.what = what
        self.limit = LOG_LIMIT if limit is None else limit
        self.line_limit = LINE_LIMIT if line_limit is None else line_limit
        self.bytes_read = 0
        self.lines = 0
        self.long_lines = []
        self.cut = None

    @property
    def incomplete(self):
        """None when every line was read, else one sentence saying what was not."""
        parts = []
        if self.cut:
            parts.append(self.cut)
        if self.long_lines:
            parts.append("%d line(s) of %s are longer than %s and were skipped (first: line %d)"
                         % (len(self.long_lines), self.what, size_text(self.line_limit), self.long_lines[0]))
        return "; ".join(parts) or None

    def _chunks(self):
        while True:
            if self.bytes_read >= self.limit:
                try:
                    more = self._read_chunk(1)
                except (StreamCut, HostFileError):
                    more = b""
                if more:
                    self.cut = ("%s is larger than %s; lines after the first %s were not read"
                                % (self.what, size_text(self.limit), size_text(self.limit)))
                return
            try:
                chunk = self._read_chunk(min(_CHUNK, self.limit - self.bytes_read))
            except StreamCut as exc:
                self.cut = str(exc)
                return
            except HostFileError as exc:
                self.cut = ("reading %s failed after %d bytes (%s); the rest was not read"
                            % (self.what, self.bytes_read, exc.reason))
                return
            if not chunk:
                return
            self.bytes_read += len(chunk)
            yield chunk

    def __iter__(self):
        pending = b""
        skipping = False
        for chunk in self._chunks():
            pending += chunk
            start = 0
            while True:
                end = pending.find(b"\n", start)
                if end < 0:
                    break
                line = pending[start:end]
                start = end + 1
                self.lines += 1
                if skipping:
                    skipping = False
                elif len(line) > self.line_limit:
                    self.long_lines.append(self.lines)
                else:
                    yield line.decode("utf-8", "replace")
            pending = pending[start:]
            if len(pending) > self.line_limit:
                if not skipping:
                    self.long_lines.append(self.lines + 1)
                skipping = True
                pending = b""
        if pending and not skipping and not self.cut:
            self.lines += 1
            yield pending.decode("utf-8", "replace")
        elif pending or skipping:
            # The unterminated tail of a cut stream or the rest of an over-long line.
            self.lines += 1


def file_chunks(fd, path):
    """read_chunk for a LineReader over an open file descriptor."""
    return lambda size: _read_fd(fd, path, size)


class FileLines(object):
    """Context manager: a LineReader over a regular file, closed on exit.

    Raises HostFileError on entry when the file cannot be opened (absent=True when missing).
    """

    def __init__(self, path, what=None, limit=None, line_limit=None):
        self.path = path
        self.what = what or path
        self.limit = limit
        self.line_limit = line_limit
        self._fd = None

    def __enter__(self):
        self._fd = open_regular(self.path)
        return LineReader(file_chunks(self._fd, self.path), self.what, self.limit, self.line_limit)

    def __exit__(self, *exc_info):
        os.close(self._fd)
        return False
