# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""atomic_write on real files; failures are injected where the file system cannot be made to fail."""
from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import atomic_file
from ansible_collections.coco.sev_snp.plugins.module_utils.atomic_file import AtomicWriteError, atomic_write

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "grub"
    path.write_bytes(b"old\n")
    os.chmod(str(path), 0o640)
    return path


def test_replaces_content_by_rename_and_keeps_the_mode(target, tmp_path):
    inode = os.stat(str(target)).st_ino
    assert atomic_write(str(target), b"new\n") == str(target)
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o640
    assert os.stat(str(target)).st_ino != inode
    assert os.listdir(str(tmp_path)) == ["grub"]


def test_empty_content_and_large_content(target):
    atomic_write(str(target), b"")
    assert target.read_bytes() == b""
    data = os.urandom(3 * 1024 * 1024)
    atomic_write(str(target), data)
    assert target.read_bytes() == data


@root_only
def test_keeps_owner_and_group(target):
    os.chown(str(target), 4242, 4343)
    atomic_write(str(target), b"new\n")
    assert (os.stat(str(target)).st_uid, os.stat(str(target)).st_gid) == (4242, 4343)


def test_new_file_gets_umask_mode_or_the_given_mode(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(str(tmp_path / "a"), b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(str(tmp_path / "a")).st_mode) == 0o640
    atomic_write(str(tmp_path / "b"), b"x", mode=0o600)
    assert stat.S_IMODE(os.stat(str(tmp_path / "b")).st_mode) == 0o600


def test_given_mode_overrides_the_existing_mode(target):
    atomic_write(str(target), b"x", mode=0o644)
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o644


def test_symlink_stays_and_its_target_is_replaced(target, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(target)
    assert atomic_write(str(link), b"new\n") == str(target)
    assert link.is_symlink() and target.read_bytes() == b"new\n"


def test_symlink_itself_is_replaced_without_following(target, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(target)
    atomic_write(str(link), b"mine\n", follow_symlinks=False)
    assert not link.is_symlink() and link.read_bytes() == b"mine\n" and target.read_bytes() == b"old\n"


def _fail_with(code):
    def fail(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))
    return fail


# Every step that can fail: the file keeps its content and no temporary file stays.
@pytest.mark.parametrize("function, code, message", [
    ("write", errno.ENOSPC, "cannot replace %s: No space left on device; free some space in"),
    ("fsync", errno.EIO, "cannot replace %s: Input/output error"),
    ("replace", errno.EXDEV, "cannot replace %s: Invalid cross-device link"),
    ("fchmod", errno.EPERM, "cannot replace %s: Operation not permitted; run as a user that may write"),
    ("replace", errno.EROFS, "the file system is mounted read-only"),
])
def test_failure_leaves_the_file_and_no_temporary(monkeypatch, target, tmp_path, function, code, message):
    monkeypatch.setattr(atomic_file.os, function, _fail_with(code))
    with pytest.raises(AtomicWriteError) as raised:
        atomic_write(str(target), b"new\n")
    monkeypatch.undo()
    assert (message % target if "%s" in message else message) in str(raised.value)
    assert raised.value.path == str(target)
    assert target.read_bytes() == b"old\n"
    assert os.listdir(str(tmp_path)) == ["grub"]


def test_owner_that_cannot_be_kept_is_refused(monkeypatch, target, tmp_path):
    real_stat = os.stat

    def foreign_owner(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if path == str(target):
            values = list(result)
            values[stat.ST_UID] = result.st_uid + 1
            return os.stat_result(values)
        return result

    monkeypatch.setattr(atomic_file.os, "stat", foreign_owner)
    monkeypatch.setattr(atomic_file.os, "fchown", _fail_with(errno.EPERM))
    with pytest.raises(AtomicWriteError, match="cannot keep the owner .* run as root or as its owner"):
        atomic_write(str(target), b"new\n")
    monkeypatch.undo()
    assert target.read_bytes() == b"old\n"
    assert os.listdir(str(tmp_path)) == ["grub"]


def test_temporary_file_that_cannot_be_created_says_how_to_fix(monkeypatch, target):
    monkeypatch.setattr(atomic_file.tempfile, "mkstemp", _fail_with(errno.EACCES))
    with pytest.raises(AtomicWriteError, match="cannot create a temporary file in .* Permission denied; run as a user "
                                               "that may write .* become: true"):
        atomic_write(str(target), b"new\n")


def test_interrupt_removes_the_temporary_and_propagates(monkeypatch, target, tmp_path):
    def interrupted(*_args):
        raise KeyboardInterrupt
    monkeypatch.setattr(atomic_file.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(str(target), b"new\n")
    monkeypatch.undo()
    assert os.listdir(str(tmp_path)) == ["grub"] and target.read_bytes() == b"old\n"


def test_directory_is_not_replaced(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(AtomicWriteError, match="is not a regular file; refusing to replace it"):
        atomic_write(str(tmp_path / "d"), b"x")
    assert os.listdir(str(tmp_path)) == ["d"]


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(AtomicWriteError, match="cannot create a temporary file in .*: No such file or directory"):
        atomic_write(str(tmp_path / "no" / "file"), b"x")


def test_text_is_refused():
    with pytest.raises(TypeError, match="takes bytes, got str"):
        atomic_write("/nonexistent", "text")


def test_is_an_oserror_for_callers_that_catch_those(target, monkeypatch):
    monkeypatch.setattr(atomic_file.os, "replace", _fail_with(errno.EXDEV))
    with pytest.raises(OSError):
        atomic_write(str(target), b"x")


def test_selinux_label_is_copied_when_there_is_one(monkeypatch, target):
    copied = {}
    monkeypatch.setattr(atomic_file.os, "getxattr", lambda path, name: b"system_u:object_r:etc_t:s0", raising=False)
    monkeypatch.setattr(atomic_file.os, "setxattr", lambda fd, name, value: copied.update({name: value}), raising=False)
    atomic_write(str(target), b"x")
    assert copied == {"security.selinux": b"system_u:object_r:etc_t:s0"}


def test_missing_selinux_label_is_not_an_error(monkeypatch, target):
    monkeypatch.setattr(atomic_file.os, "getxattr", _fail_with(errno.ENODATA), raising=False)
    atomic_write(str(target), b"x")
    assert target.read_bytes() == b"x"
