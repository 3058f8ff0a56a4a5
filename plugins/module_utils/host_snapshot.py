# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a host's SEV-SNP evidence once, below a root, into the snapshot host_model.build_facts takes.

Shared by the modules that report the facts (host_facts) and that configure and then report
them (host_config). Standard library only (runs on managed hosts with Python 3.8+).
A reader may be given planned contents (``planned``, root-relative path -> text) so that the
snapshot describes the host as it will be after an edit, in check mode too.
"""

from __future__ import annotations

import glob
import os

from ansible_collections.coco.sev_snp.plugins.module_utils.grub_cfg import boot_facts
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import (
    GrubDefaultError,
    cmdline_tokens,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    names_equal,
    split_cmdline,
    token_name,
    token_value,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import amd_cpu, parse_cpuinfo
from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import HostFileError, read_text
from ansible_collections.coco.sev_snp.plugins.module_utils.live_kernel_log import (
    LogRead,
    read_file,
    read_live_kernel_log,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.os_identity import container_paths
from ansible_collections.coco.sev_snp.plugins.module_utils.sev_firmware import boot_time, read_firmware
from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import (
    has_sev_evidence,
    parse_kernel_log,
)

_MODULES_LOAD_DIRS = ("etc/modules-load.d", "run/modules-load.d", "usr/lib/modules-load.d",
                      "lib/modules-load.d")


class HostReader(object):
    """Reads files below a root, never blocking (see host_files).

    text() is None for a file that is absent and for one that cannot be read; the latter
    is also listed in ``unreadable`` (root-relative path -> reason), because "could not
    read" must not pass for "not there".
    """

    def __init__(self, root, planned=None):
        self.root = root
        self.unreadable = {}
        self.planned = dict((key.lstrip("/"), text) for key, text in (planned or {}).items())

    def path(self, relative):
        return os.path.join(self.root, relative.lstrip("/"))

    def text(self, relative):
        if relative.lstrip("/") in self.planned:
            return self.planned[relative.lstrip("/")]
        try:
            return read_text(self.path(relative))
        except HostFileError as exc:
            self.unreadable[relative.lstrip("/")] = exc.reason
            return None

    def exists(self, relative):
        """True/False, or None when the parent directory itself is absent."""
        full = self.path(relative)
        if relative.lstrip("/") in self.planned or os.path.exists(full):
            return True
        return False if os.path.isdir(os.path.dirname(full)) else None

    def isdir(self, relative):
        full = self.path(relative)
        if os.path.isdir(full):
            return True
        return False if os.path.isdir(os.path.dirname(full)) else None


def read_snapshot(reader):
    snapshot = {
        "cpuinfo": reader.text("proc/cpuinfo"),
        "proc_modules": reader.text("proc/modules"),
        "sys_module_kvm_amd": reader.isdir("sys/module/kvm_amd"),
        "sys_module_msr": reader.isdir("sys/module/msr"),
        "dev_cpu_msr": reader.exists("dev/cpu/0/msr"),
        "dev_sev": reader.exists("dev/sev"),
        "kvm_amd_parameters": dict(
            (name, reader.text("sys/module/kvm_amd/parameters/%s" % name))
            for name in ("sev", "sev_es", "sev_snp")),
        "modules_load_files": read_modules_load(reader),
        "iommu_group_types": read_iommu_group_types(reader),
        "os_release": reader.text("etc/os-release") or reader.text("usr/lib/os-release"),
        "container_evidence": read_container_evidence(reader),
    }
    return snapshot


def read_container_evidence(reader):
    """What tells a container from a machine (see os_identity.container_type)."""
    return {
        "systemd_container": reader.text("run/systemd/container"),
        "pid1_environ": reader.text("proc/1/environ"),
        "markers": [path for path in container_paths() if reader.exists(path)],
        "proc_vz": reader.isdir("proc/vz"),
        "proc_bc": reader.isdir("proc/bc"),
        "pid1_cgroup": reader.text("proc/1/cgroup"),
    }


def read_modules_load(reader):
    """{path: text} of the modules-load.d files in effect (an /etc file masks a same-named one below)."""
    if not any(os.path.isdir(reader.path(d)) for d in _MODULES_LOAD_DIRS) and not os.path.isdir(reader.path("etc")):
        return None
    chosen = {}
    for directory in _MODULES_LOAD_DIRS:
        names = set(os.path.basename(full) for full in glob.glob(os.path.join(reader.path(directory), "*.conf")))
        names.update(os.path.basename(key) for key in reader.planned
                     if os.path.dirname(key) == directory and key.endswith(".conf"))
        for name in sorted(names):
            chosen.setdefault(name, "/" + directory + "/" + name)
    files = {}
    for path in chosen.values():
        files[path] = reader.text(path) or ""
    return files


def read_iommu_group_types(reader):
    base = reader.path("sys/kernel/iommu_groups")
    if not os.path.isdir(base):
        return None
    try:
        groups = os.listdir(base)
    except OSError:
        return None
    types = []
    for group in groups:
        value = reader.text("sys/kernel/iommu_groups/%s/type" % group)
        if value is not None:
            types.append(value.strip())
    if groups and not types:
        return None
    return types


def _useful(parsed):
    return parsed["reaches_boot"] or has_sev_evidence(parsed)


def read_kernel_log(module, reader, kernel_log, sources):
    """LogRead (parsed with parse_kernel_log) of the kernel_log file, the root's saved log or the live log.

    An unusable kernel_log argument fails the module; an unreadable saved log below root
    is listed in reader.unreadable.
    """
    if kernel_log:
        try:
            read = read_file(kernel_log, parse_kernel_log)
        except HostFileError as exc:
            module.fail_json(msg="kernel_log=%s %s; give the path of a readable regular file on the managed "
                                 "host (a saved dmesg output), or omit kernel_log to read the live log."
                                 % (kernel_log, exc.reason))
        read.source = "file"
        return read
    if os.path.realpath(reader.root) != "/":
        for relative, source in (("var/log/dmesg", "file"), ("var/log/boot.msg", "boot.msg")):
            try:
                read = read_file(reader.path(relative), parse_kernel_log, relative)
            except HostFileError as exc:
                if not exc.absent:
                    reader.unreadable[relative] = exc.reason
                continue
            read.source = source
            return read
        return LogRead(error="no readable var/log/dmesg or var/log/boot.msg below root %s" % reader.root)
    return read_live_kernel_log(module, parse_kernel_log, sources, useful=_useful)


def read_sev_firmware(reader, snapshot, parsed_log):
    """The SEV firmware files below the root and the log's account of them (sev_firmware.read_firmware).

    The kernel release names /lib/firmware/<release>: uname's on the live host, the log's for a
    saved tree; firmware_class.path= of the running command line adds the directory tried first."""
    family, model = amd_cpu(parse_cpuinfo(snapshot["cpuinfo"]))
    if os.path.realpath(reader.root) == "/":
        release = os.uname()[2]
    else:
        release = (parsed_log or {}).get("kernel_release")
    custom_dir = None
    for token in snapshot.get("cmdline_running") or ():
        if names_equal(token_name(token), "firmware_class.path"):
            custom_dir = token_value(token)
    return read_firmware(reader.root, family, model, parsed_log, release, custom_dir,
                         boot_time(reader.text("proc/stat")))


def read_host(module, reader, grub_path, kernel_log, sources, grub_cfg=None, kernel_flavour=None):
    """The whole snapshot build_facts takes: files below reader.root, the boot configuration in
    grub_path (root-relative), the boot menu (grub_cfg, None: the usual paths) judged for the
    wanted kernel_flavour (grub_cfg.boot_facts) and the kernel log (see read_kernel_log)."""
    snapshot = read_snapshot(reader)
    proc_cmdline = reader.text("proc/cmdline")
    snapshot["cmdline_running"] = split_cmdline(proc_cmdline) if proc_cmdline is not None else None
    grub_text = reader.text(grub_path)
    snapshot["cmdline_configured"] = None
    snapshot["cmdline_configured_error"] = None
    if grub_text is None:
        snapshot["cmdline_configured_error"] = "%s %s" % (
            grub_path, "cannot be read" if reader.exists(grub_path) else "does not exist")
    else:
        try:
            snapshot["cmdline_configured"] = cmdline_tokens(grub_text)
        except GrubDefaultError as exc:
            snapshot["cmdline_configured_error"] = "%s cannot be parsed (%s)" % (grub_path, exc)
    snapshot["boot"] = boot_facts(reader.text, grub_text, grub_cfg, kernel_flavour)

    log = read_kernel_log(module, reader, kernel_log, sources)
    snapshot["kernel_log"] = None
    snapshot["kernel_log_parsed"] = log.parsed
    snapshot["kernel_log_source"] = log.source
    snapshot["kernel_log_error"] = log.error
    snapshot["kernel_log_incomplete"] = log.incomplete
    snapshot["sev_firmware"] = read_sev_firmware(reader, snapshot, log.parsed)
    snapshot["unreadable"] = sorted(reader.unreadable)
    snapshot["unreadable_reasons"] = dict(reader.unreadable)
    return snapshot
