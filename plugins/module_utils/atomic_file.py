# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replace a file atomically: readers see the old content or the new one, never a mix.

Standard library only (it runs on managed hosts with Python 3.8+ and on the controller).
The new content goes to a temporary file in the same directory, is flushed to disk and
renamed over the target; the directory is then flushed too. An existing file keeps its
mode, owner and group (and its SELinux label where the xattr can be copied); when the
owner cannot be kept the write is refused. On every failure the temporary file is
removed and AtomicWriteError says what went wrong and how to fix it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile

_SELINUX_XATTR = "security.selinux"


class AtomicWriteError(OSError):
    """The file could not be replaced; it is unchanged. ``path`` is the file meant."""

    def __init__(self, message, path):
        super(AtomicWriteError, self).__init__(message)
        self.message = message
        self.path = path

    def __str__(self):
        return self.message


def _explain(error, what, directory):
    reason = error.strerror or str(error)
    if error.errno in (errno.EACCES, errno.EPERM):
        return "%s: %s; run as a user that may write %s (for example with become: true)" % (what, reason, directory)
    if error.errno == errno.EROFS:
        return "%s: %s; the file system is mounted read-only" % (what, reason)
    if error.errno == errno.ENOSPC:
        return "%s: %s; free some space in %s" % (what, reason, directory)
    return "%s: %s" % (what, reason)


def _copy_selinux_label(source, target_fd):
    # Best effort: without SELinux (or without xattr support) there is nothing to copy.
    if not hasattr(os, "getxattr"):
        return
    try:
        label = os.getxattr(source, _SELINUX_XATTR)
        os.setxattr(target_fd, _SELINUX_XATTR, label)
    except OSError:
        pass


def _keep_attributes(path, handle, mode):
    """Give the temporary file the mode and owner the result must have."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(handle, mode)
        return
    if not stat.S_ISREG(current.st_mode):
        raise AtomicWriteError("%s is not a regular file; refusing to replace it" % path, path)
    os.fchmod(handle, stat.S_IMODE(current.st_mode) if mode is None else mode)
    ours = os.fstat(handle)
    if (ours.st_uid, ours.st_gid) != (current.st_uid, current.st_gid):
        try:
            os.fchown(handle, current.st_uid, current.st_gid)
        except OSError as error:
            raise AtomicWriteError(
                "cannot keep the owner %d:%d of %s (%s); run as root or as its owner (for example with become: "
                "true)" % (current.st_uid, current.st_gid, path, error.strerror or error), path)
    _copy_selinux_label(path, handle)


def _sync_directory(directory):
    # Makes the rename itself durable; some file systems do not support it, which is harmless.
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def atomic_write(path, data, mode=None, follow_symlinks=True):
    """Replace the file at path with data (bytes) atomically, in path's own directory.

    An existing file keeps its mode (unless mode is given), owner and group; a new file gets
    mode, or 0666 minus the umask. With follow_symlinks (the default) a symlink stays and
    the file it points to is replaced. Returns the path written. Raises AtomicWriteError,
    with the file unchanged and no temporary file left behind.
    """
    if not isinstance(data, bytes):
        raise TypeError("atomic_write takes bytes, got %s" % type(data).__name__)
    target = os.path.realpath(path) if follow_symlinks else os.path.abspath(path)
    directory = os.path.dirname(target)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(target), suffix=".tmp", dir=directory)
    except OSError as error:
        raise AtomicWriteError(_explain(error, "cannot create a temporary file in %s to replace %s"
                                        % (directory, target), directory), target)
    try:
        try:
            _keep_attributes(target, handle, mode)
            view = memoryview(data)
            while view:
                written = os.write(handle, view)
                view = view[written:]
            os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, target)
    except AtomicWriteError:
        _remove(temporary)
        raise
    except OSError as error:
        _remove(temporary)
        raise AtomicWriteError(_explain(error, "cannot replace %s" % target, directory), target)
    except BaseException:
        _remove(temporary)
        raise
    _sync_directory(directory)
    return target


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass
