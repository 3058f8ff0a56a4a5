# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_files: nothing blocks, nothing grows without bound, nothing unreadable passes for absent."""

import errno
import os
import socket
import stat

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import host_files
from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import (
    FileLines,
    HostFileError,
    LineReader,
    StreamCut,
    file_kind,
    open_regular,
    read_text,
    size_text,
)


# A read that blocks fails the test (conftest.no_hang) instead of hanging the run.
pytestmark = pytest.mark.usefixtures("no_hang")


def make(tmp_path, kind):
    """A path of the given kind below tmp_path (a socket path must stay short)."""
    path = str(tmp_path / "f")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        os.chdir(str(tmp_path))
        server.bind("f")
        return path, server
    elif kind == "loop":
        os.symlink(path, path)
    elif kind == "dangling":
        os.symlink(str(tmp_path / "nowhere"), path)
    return path, None


@pytest.mark.parametrize("kind, reason", [
    ("fifo", "is a named pipe (FIFO), not a regular file; it is not read"),
    ("directory", "is a directory, not a regular file; it is not read"),
    ("socket", "is a socket, not a regular file; it is not read"),
    ("loop", "cannot be read: Too many levels of symbolic links"),
])
def test_what_exists_but_is_not_a_readable_file(tmp_path, kind, reason):
    path, keep = make(tmp_path, kind)
    with pytest.raises(HostFileError) as raised:
        read_text(path)
    assert raised.value.reason == reason and raised.value.absent is False
    assert raised.value.path == path and str(raised.value) == path + " " + reason
    with pytest.raises(HostFileError) as raised:
        with FileLines(path):
            pass
    assert raised.value.reason == reason
    if keep:
        keep.close()


@pytest.mark.parametrize("path", ["/dev/null", "/dev/zero"])
def test_devices_are_refused_unless_allowed(path):
    with pytest.raises(HostFileError) as raised:
        read_text(path)
    assert raised.value.reason == "is a character device, not a regular file; it is not read"
    fd = open_regular(path, allow_char_device=True)
    try:
        assert os.read(fd, 1) in (b"", b"\0")
    finally:
        os.close(fd)


@pytest.mark.parametrize("kind", ["missing", "dangling", "below_a_file"])
def test_absent_is_none_not_an_error(tmp_path, kind):
    if kind == "below_a_file":
        (tmp_path / "file").write_text("x")
        path = str(tmp_path / "file" / "child")
    elif kind == "dangling":
        path = make(tmp_path, "dangling")[0]
    else:
        path = str(tmp_path / "missing")
    assert read_text(path) is None
    with pytest.raises(HostFileError) as raised:
        open_regular(path)
    assert raised.value.absent is True and raised.value.reason == "does not exist"


def test_permission_denied_is_unreadable(tmp_path, monkeypatch):
    # Stand-in: the tests run as root, who may open any file, so open() is made to refuse.
    (tmp_path / "secret").write_text("x")

    def refuse(*_args):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(HostFileError) as raised:
        read_text(str(tmp_path / "secret"))
    assert raised.value.reason == "cannot be opened: Permission denied" and raised.value.absent is False


def test_a_fifo_swapped_in_after_the_check_is_refused_and_closed(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    closed = []
    real_close = os.close
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((stat.S_IFIFO | 0o600,) + (0,) * 9))
    monkeypatch.setattr(os, "close", lambda fd: closed.append(fd) or real_close(fd))
    with pytest.raises(HostFileError) as raised:
        open_regular(str(tmp_path / "f"))
    assert "named pipe" in raised.value.reason and len(closed) == 1


def test_proc_files_report_size_zero_and_are_still_read_whole():
    assert os.stat("/proc/self/status").st_size == 0
    text = read_text("/proc/self/status")
    assert text.startswith("Name:") and "VmRSS" in text


def test_read_text_limit(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a" * 100)
    assert read_text(str(path), limit=100) == "a" * 100
    with pytest.raises(HostFileError) as raised:
        read_text(str(path), limit=99)
    assert raised.value.reason == "is larger than 99 bytes; it is not read"


def test_read_text_default_limit_is_read_when_called(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"a" * (3 * 64 * 1024))
    assert len(read_text(str(path))) == 3 * 64 * 1024
    monkeypatch.setattr(host_files, "TEXT_LIMIT", 1024)
    with pytest.raises(HostFileError) as raised:
        read_text(str(path))
    assert raised.value.reason == "is larger than 1 KiB; it is not read"


def test_read_text_replaces_bad_utf8(tmp_path):
    (tmp_path / "f").write_bytes(b"ok \xff\xfe end\n")
    assert read_text(str(tmp_path / "f")) == u"ok \ufffd\ufffd end\n"


@pytest.mark.parametrize("error, reason", [
    (OSError(errno.EAGAIN, "Resource temporarily unavailable"),
     "cannot be read without waiting (it behaves like a stream)"),
    (OSError(errno.EIO, "Input/output error"), "cannot be read: Input/output error"),
])
def test_read_errors(tmp_path, monkeypatch, error, reason):
    (tmp_path / "f").write_text("x")

    def fail(*_args):
        raise error
    monkeypatch.setattr(os, "read", fail)
    with pytest.raises(HostFileError) as raised:
        read_text(str(tmp_path / "f"))
    assert raised.value.reason == reason


@pytest.mark.parametrize("size, text", [
    (0, "0 bytes"), (100, "100 bytes"), (1024, "1 KiB"), (1536, "1536 bytes"), (64 * 1024, "64 KiB"),
    (1024 * 1024, "1 MiB"), (256 * 1024 * 1024, "256 MiB"), (1024 * 1024 + 1024, "1025 KiB"),
])
def test_size_text(size, text):
    assert size_text(size) == text


def test_file_kind():
    assert file_kind(stat.S_IFREG) is None
    assert file_kind(stat.S_IFLNK) == "not a regular file"
    assert file_kind(stat.S_IFBLK) == "a block device"


def chunks(data, size=None):
    """read_chunk over bytes, handing out at most ``size`` bytes per call."""
    state = {"at": 0, "calls": []}

    def read_chunk(wanted):
        state["calls"].append(wanted)
        step = wanted if size is None else min(size, wanted)
        piece = data[state["at"]:state["at"] + step]
        state["at"] += len(piece)
        return piece
    read_chunk.state = state
    return read_chunk


@pytest.mark.parametrize("data, lines, count", [
    (b"", [], 0),
    (b"a\nb\n", ["a", "b"], 2),
    (b"a\nb", ["a", "b"], 2),
    (b"\n\n", ["", ""], 2),
    (b"a\r\nb\n", ["a\r", "b"], 2),
    (b"\xffx\n", [u"\ufffdx"], 1),
])
def test_line_reader_lines(data, lines, count):
    for size in (None, 1, 2):
        reader = LineReader(chunks(data, size), "the log")
        assert list(reader) == lines
        assert reader.lines == count and reader.bytes_read == len(data)
        assert reader.incomplete is None


def test_limit_cuts_and_drops_the_cut_line():
    reader = LineReader(chunks(b"ASIDs 1 - 99\nmore\n"), "the log from dmesg", limit=10)
    assert list(reader) == []
    assert reader.incomplete == "the log from dmesg is larger than 10 bytes; lines after the first 10 bytes were not read"
    reader = LineReader(chunks(b"one\ntwo\nthree\n"), "x", limit=8)
    assert list(reader) == ["one", "two"] and reader.bytes_read == 8 and reader.lines == 2
    assert reader.incomplete.startswith("x is larger than 8 bytes")


def test_a_stream_of_exactly_the_limit_is_complete():
    for data in (b"one\ntwo\n", b"one\ntwo"):
        reader = LineReader(chunks(data), "x", limit=len(data))
        assert list(reader) == ["one", "two"] and reader.incomplete is None


def test_chunks_never_pass_the_limit():
    read_chunk = chunks(b"x" * 200 + b"\n")
    reader = LineReader(read_chunk, "x", limit=150)
    assert list(reader) == []
    assert reader.bytes_read == 150
    assert read_chunk.state["calls"] == [150, 1]


def test_default_limits_are_read_when_called(monkeypatch):
    monkeypatch.setattr(host_files, "LOG_LIMIT", 4)
    monkeypatch.setattr(host_files, "LINE_LIMIT", 3)
    reader = LineReader(chunks(b"ab\ncd\n"), "x")
    assert (reader.limit, reader.line_limit) == (4, 3)
    assert list(reader) == ["ab"]


def test_over_long_lines_are_skipped_whole_and_counted():
    data = b"short\n" + b"y" * 50 + b"\nafter\n" + b"z" * 30 + b"\nlast"
    for size in (None, 7, 64):
        reader = LineReader(chunks(data, size), "the log from dmesg", line_limit=20)
        assert list(reader) == ["short", "after", "last"]
        assert reader.lines == 5
        assert reader.long_lines == [2, 4]
        assert reader.incomplete == ("2 line(s) of the log from dmesg are longer than 20 bytes and were "
                                     "skipped (first: line 2)")


def test_a_line_of_exactly_the_line_limit_is_kept():
    reader = LineReader(chunks(b"x" * 20 + b"\n" + b"y" * 20), "x", line_limit=20)
    assert list(reader) == ["x" * 20, "y" * 20] and reader.incomplete is None


def test_an_unterminated_over_long_tail_is_skipped():
    reader = LineReader(chunks(b"ok\n" + b"y" * 50, 8), "x", line_limit=20)
    assert list(reader) == ["ok"] and reader.lines == 2 and reader.long_lines == [2]


def test_cut_and_long_lines_together():
    reader = LineReader(chunks(b"y" * 30 + b"\nok\nmore\n"), "x", limit=36, line_limit=20)
    assert list(reader) == ["ok"]
    assert reader.incomplete == ("x is larger than 36 bytes; lines after the first 36 bytes were not read; "
                                 "1 line(s) of x are longer than 20 bytes and were skipped (first: line 1)")


def test_stream_cut_and_read_errors_end_the_stream_with_a_sentence():
    def cut(_size):
        raise StreamCut("dmesg did not finish within 5 s; its output after that was not read")
    reader = LineReader(cut, "x")
    assert list(reader) == [] and reader.incomplete == "dmesg did not finish within 5 s; its output after that was not read"

    calls = []

    def fails_second(_size):
        calls.append(1)
        if len(calls) > 1:
            raise HostFileError("/var/log/boot.msg", "cannot be read: Input/output error")
        return b"first\nsecond"
    reader = LineReader(fails_second, "/var/log/boot.msg")
    assert list(reader) == ["first"]
    assert reader.incomplete == ("reading /var/log/boot.msg failed after 12 bytes (cannot be read: "
                                 "Input/output error); the rest was not read")


@pytest.mark.parametrize("error", [StreamCut("late"), HostFileError("p", "broken")])
def test_an_error_while_probing_past_the_limit_is_no_cut(error):
    state = {"calls": 0}

    def read_chunk(_size):
        state["calls"] += 1
        if state["calls"] > 1:
            raise error
        return b"ab\n"
    reader = LineReader(read_chunk, "x", limit=3)
    assert list(reader) == ["ab"] and reader.incomplete is None


def test_file_lines_streams_a_file_and_closes_it(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"a\nb\n")
    before = len(os.listdir("/proc/self/fd"))
    with FileLines(str(path)) as lines:
        assert list(lines) == ["a", "b"]
        assert lines.what == str(path)
    with FileLines(str(path), "the saved log", limit=2) as lines:
        assert list(lines) == ["a"]
        assert lines.incomplete.startswith("the saved log is larger than 2 bytes")
    assert len(os.listdir("/proc/self/fd")) == before


def test_file_lines_on_a_fifo_does_not_block(tmp_path):
    os.mkfifo(str(tmp_path / "pipe"))
    with pytest.raises(HostFileError) as raised:
        with FileLines(str(tmp_path / "pipe")):
            pass
    assert "named pipe" in raised.value.reason


def test_the_default_limits_are_the_documented_ones():
    """The sizes the messages name: 16 MiB for a text file, 256 MiB for a log, 64 KiB for a line."""
    assert [size_text(limit) for limit in (host_files.TEXT_LIMIT, host_files.LOG_LIMIT, host_files.LINE_LIMIT)] == [
        "16 MiB", "256 MiB", "64 KiB"]


def test_files_are_opened_non_blocking_without_a_terminal_and_closed_on_exec(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")
    flags_seen = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, flags, *rest: flags_seen.append(flags) or real_open(path, flags, *rest))
    os.close(open_regular(str(tmp_path / "f")))
    assert flags_seen == [os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC]


def test_a_fifo_swapped_in_after_the_check_does_not_block_the_open(tmp_path, monkeypatch):
    """The real FIFO, no writer: only O_NONBLOCK lets open() return so that fstat can refuse it."""
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    regular = os.stat(__file__)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *rest: regular if path == str(fifo) else real_stat(path, *rest))
    with pytest.raises(HostFileError) as raised:
        open_regular(str(fifo))
    assert raised.value.reason == "is a named pipe (FIFO), not a regular file; it is not read"


@pytest.mark.parametrize("size, refused", [(100, False), (101, True)])
def test_read_text_reads_at_most_one_byte_past_the_limit_however_reads_are_split(tmp_path, monkeypatch, size,
                                                                                 refused):
    """Stand-in for /proc, whose files hand out a page per read(): here at most 50 bytes."""
    path = tmp_path / "f"
    path.write_bytes(b"a" * size + b"b" * 500)
    returned = []
    real_read = os.read

    def paged_read(fd, wanted):
        data = real_read(fd, min(wanted, 50))
        returned.append(len(data))
        return data
    monkeypatch.setattr(os, "read", paged_read)
    with pytest.raises(HostFileError, match="is larger than 100 bytes"):
        read_text(str(path), limit=100)
    assert sum(returned) == 101
    path.write_bytes(b"a" * size)
    if refused:
        with pytest.raises(HostFileError, match="is larger than 100 bytes"):
            read_text(str(path), limit=100)
    else:
        assert read_text(str(path), limit=100) == "a" * 100


def test_the_line_cut_by_the_limit_is_counted():
    reader = LineReader(chunks(b"one\ntwo\nthree\n"), "x", limit=10)
    assert list(reader) == ["one", "two"] and reader.lines == 3


def test_an_over_long_tail_ending_on_a_chunk_boundary_is_counted():
    reader = LineReader(chunks(b"ok\n" + b"y" * 47, 25), "x", line_limit=20)
    assert list(reader) == ["ok"] and reader.lines == 2 and reader.long_lines == [2]


def test_an_error_inside_file_lines_propagates_and_the_file_is_closed(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("a\n")
    closed = []
    real_close = os.close
    monkeypatch.setattr(os, "close", lambda fd: closed.append(fd) or real_close(fd))
    with pytest.raises(ZeroDivisionError):
        with FileLines(str(tmp_path / "f")) as lines:
            next(iter(lines))
            raise ZeroDivisionError()
    assert len(closed) == 1
