# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SEV firmware files the ccp driver loads at boot, and what a host has of them.

Standard library only (runs on the managed host's Python). The one place that knows the
kernel's file names:

* drivers/crypto/ccp/sev-dev.c, sev_get_firmware(): for CPU family F and model M it requests
  ``amd/amd_sev_fam%.2xh_model%.2xh.sbin`` (F, M), then ``amd/amd_sev_fam%.2xh_model%.1xxh.sbin``
  (F, M >> 4), then ``amd/sev.fw``, and takes the first that loads. AMD and the distributions
  ship the second form (one image per model range: model0xh = Milan, model1xh = Genoa,
  modelaxh = Bergamo/Siena, family 1ah model0xh = Turin).
* drivers/base/firmware_loader/main.c: each name is looked for with no suffix, then ``.zst``,
  then ``.xz`` (kernels built with compressed firmware support), each in the directory of
  ``firmware_class.path=``, ``/lib/firmware/updates/<release>``, ``/lib/firmware/updates``,
  ``/lib/firmware/<release>`` and ``/lib/firmware``.

The kernel keeps family and model in one byte each (struct cpuinfo_x86: __u8 x86, x86_model).
"""

from __future__ import annotations

import os
import re

from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import file_kind

FIRMWARE_ROOT = "/lib/firmware"
GENERIC_NAME = "amd/sev.fw"
# Suffixes in the order the firmware loader tries them.
SUFFIXES = ("", ".zst", ".xz")
_BYTE = 0xFF
# A kernel release as uname prints it; anything else (a path, "..") is not used as a directory.
_RELEASE = re.compile(r"^[A-Za-z0-9_+~-][A-Za-z0-9._+~-]*$")


class FirmwareInputError(ValueError):
    """A family or model the kernel cannot have; the message says what to give instead."""


def _cpu_byte(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise FirmwareInputError(
            "%s must be an integer as /proc/cpuinfo prints it (decimal: family 25 is 19h, 26 is 1ah), "
            "got %s %r; convert a string with '| int'." % (name, type(value).__name__, value))
    if not 0 <= value <= _BYTE:
        raise FirmwareInputError(
            "%s must be between 0 and 255 (the kernel keeps it in one byte), got %d." % (name, value))
    return value


def firmware_names(family, model):
    """The names sev_get_firmware() requests for this CPU, in its order, relative to the
    firmware directory: model-specific, model range, generic.

    Raises FirmwareInputError for anything but integers 0..255 (bools included)."""
    family = _cpu_byte("family", family)
    model = _cpu_byte("model", model)
    return [
        "amd/amd_sev_fam%02xh_model%02xh.sbin" % (family, model),
        "amd/amd_sev_fam%02xh_model%01xxh.sbin" % (family, (model & 0xF0) >> 4),
        GENERIC_NAME,
    ]


def staging_name(family, model):
    """The name an operator-supplied image is staged under: the first the kernel tries, so it
    wins over any image a package installs under the model-range name."""
    return firmware_names(family, model)[0]


def range_name(family, model):
    """The model-range file name AMD and the distributions ship (amd_sev_fam19h_model0xh.sbin),
    or None when family or model is unknown or impossible."""
    try:
        return os.path.basename(firmware_names(family, model)[1])
    except FirmwareInputError:
        return None


def search_dirs(release=None, custom_dir=None):
    """Directories the firmware loader looks in, in its order (absolute, on the host).

    A release that is not a plain uname string and a custom_dir that is not absolute are left
    out: they did not come from the kernel."""
    dirs = []
    if custom_dir and custom_dir.startswith("/") and "\0" not in custom_dir:
        dirs.append(os.path.normpath(custom_dir))
    usable_release = release if release and _RELEASE.match(release) else None
    for directory in (FIRMWARE_ROOT + "/updates/%s", FIRMWARE_ROOT + "/updates",
                      FIRMWARE_ROOT + "/%s", FIRMWARE_ROOT):
        if "%s" in directory:
            if usable_release is None:
                continue
            directory = directory % usable_release
        if directory not in dirs:
            dirs.append(directory)
    return dirs


def _candidates(names, release, custom_dir):
    """(path, name) pairs; search_dirs has no duplicates, so neither have these."""
    dirs = search_dirs(release, custom_dir)
    return [("%s/%s%s" % (directory.rstrip("/"), name, suffix), name)
            for name in names for suffix in SUFFIXES for directory in dirs]


def candidate_paths(names, release=None, custom_dir=None):
    """Every absolute path the kernel would try for ``names``, in its order: per name, per
    suffix, per directory."""
    return [path for path, _name in _candidates(names, release, custom_dir)]


def _version(api, build):
    return None if api is None else {"api": api, "build": build}


def version_in_use(parsed_log):
    """{'api', 'build'} the PSP reported last (the SEV-SNP line, else the SEV line), or None."""
    snp = _version(parsed_log.get("snp_api"), parsed_log.get("snp_build"))
    return snp or _version(parsed_log.get("sev_api"), parsed_log.get("sev_build"))


def _stat_file(full):
    """({'size', 'mtime'}, None) for a regular file, (None, reason) for anything else that is
    there, (None, None) when nothing is. Only stat: a FIFO or device is never opened."""
    try:
        info = os.stat(full)
    except OSError as exc:
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            return None, None
        return None, "cannot be read: %s" % (exc.strerror or exc)
    kind = file_kind(info.st_mode)
    if kind is not None:
        return None, "is %s, not a regular file; the kernel cannot load it" % kind
    return {"size": info.st_size, "mtime": int(info.st_mtime), "ctime": int(info.st_ctime)}, None


def _present(root, names, release, custom_dir):
    """([{'path', 'name', 'size', 'mtime'}], [{'path', 'reason'}]): the candidates below root that are
    regular files, and those that are there but cannot be loaded, both in the kernel's order."""
    files, unusable = [], []
    for path, name in _candidates(names, release, custom_dir):
        found, reason = _stat_file(os.path.join(root, path.lstrip("/")))
        if found is not None:
            found.update({"path": path, "name": name})
            files.append(found)
        elif reason is not None:
            unusable.append({"path": path, "reason": reason})
    return files, unusable


def boot_time(proc_stat):
    """Seconds since the epoch at which the running kernel booted (the btime line of /proc/stat),
    or None."""
    for line in (proc_stat or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "btime" and parts[1].isdigit() and len(parts[1]) <= 12:
            return int(parts[1])
    return None


def read_firmware(root, family, model, parsed_log, release=None, custom_dir=None, booted=None):
    """The `firmware` facts beyond the versions: the kernel's candidate files that exist below
    ``root`` (size, mtime), the one the next boot loads, the version in use and the update the
    kernel log shows (see kernel_log: firmware_update, firmware_file_loaded).

    family/model as parse_cpuinfo gives them (None when unknown: no files are looked for).
    root None examines no file (files, unusable and next_boot_file are then None: unknown).
    booted (boot_time()) gives changed_since_boot: whether the next boot's file changed (its ctime,
    which installing, copying or renaming sets and no tool can set back) after the running kernel
    booted, so the running firmware cannot have come from it; None when either is unknown.
    At most 3 names x 3 suffixes x 5 directories are stat()ed; no file is opened.
    """
    parsed_log = parsed_log or {}
    try:
        names = firmware_names(family, model)
    except FirmwareInputError:
        names = []
    files = unusable = None
    if root is not None:
        files, unusable = _present(root, names, release, custom_dir)
    in_use = version_in_use(parsed_log)
    update = parsed_log.get("firmware_update")
    if update is not None:
        update = dict(update)
        if update["to"] is None:
            # "update successful" carries no versions; the API lines printed after it do.
            update["to"] = in_use
    return {
        "candidates": names,
        "files": files,
        "unusable": unusable,
        "next_boot_file": files[0]["path"] if files else None,
        "changed_since_boot": _changed_since_boot(files, booted),
        "in_use": in_use,
        "updated_at_boot": bool(parsed_log.get("firmware_updated")),
        "update": update,
        "loaded_file": parsed_log.get("firmware_file_loaded"),
        "load_failures": list(parsed_log.get("firmware_files_missing") or []),
    }


def _changed_since_boot(files, booted):
    if files is None or booted is None:
        return None
    return bool(files) and files[0]["ctime"] > booted
