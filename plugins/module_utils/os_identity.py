# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which operating system a host runs, and whether it is a container.

host_facts reports both so that the host role needs no separate ``setup`` round trip:
the OS family picks the bootloader command, and a container is never rebooted.
Pure functions over text already read by the caller.
"""

from __future__ import annotations

import shlex

# os-release ID / ID_LIKE words -> the family names ansible-core's facts use.
_FAMILY_WORDS = (
    ("Suse", ("suse", "opensuse", "sles", "sled", "sles_sap", "opensuse-leap", "opensuse-tumbleweed")),
    ("Debian", ("debian", "ubuntu")),
    ("RedHat", ("rhel", "fedora", "centos", "rocky", "almalinux", "ol")),
)

# Marker files of container engines, checked after the engines' own declarations.
_CONTAINER_MARKERS = (
    ("run/.containerenv", "podman"),
    (".dockerenv", "docker"),
)

# Words in /proc/1/cgroup (cgroup v1) that name the engine.
_CGROUP_WORDS = (("/docker", "docker"), ("/lxc/", "lxc"), ("/kubepods", "kubernetes"),
                 ("containerd", "containerd"), ("/libpod", "podman"))


def parse_os_release(text):
    """{KEY: value} of an os-release file (shell-style assignments; comments ignored)."""
    fields = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, raw = line.split("=", 1)
        key = key.strip()
        if not key.replace("_", "").isalnum():
            continue
        try:
            words = shlex.split(raw, comments=False, posix=True)
        except ValueError:
            words = [raw.strip("'\"")]
        fields[key] = " ".join(words)
    return fields


def os_family(fields):
    """Suse, Debian, RedHat or None, from ID first, then ID_LIKE."""
    candidates = [fields.get("ID", "").lower()] + fields.get("ID_LIKE", "").lower().split()
    for word in candidates:
        for family, words in _FAMILY_WORDS:
            if word in words:
                return family
    return None


def os_identity(os_release_text):
    """The ``os`` fact: id, name, version, family (None where the file says nothing)."""
    if os_release_text is None:
        return {"id": None, "name": None, "version": None, "family": None}
    fields = parse_os_release(os_release_text)
    return {
        "id": fields.get("ID") or None,
        "name": fields.get("NAME") or None,
        "version": fields.get("VERSION_ID") or None,
        "family": os_family(fields),
    }


def _environ_container(environ):
    for item in (environ or "").split("\0"):
        if item.startswith("container="):
            return item.partition("=")[2].strip() or None
    return None


def container_type(evidence):
    """Name of the container engine the host runs in, or None.

    ``evidence`` holds what the caller could read: ``systemd_container`` (text of
    /run/systemd/container), ``pid1_environ`` (/proc/1/environ), ``markers`` (the
    relative paths of _CONTAINER_MARKERS that exist), ``proc_vz``/``proc_bc`` (booleans)
    and ``pid1_cgroup`` (/proc/1/cgroup). The order follows systemd-detect-virt: what
    the engine declares first, then its marker files, then older hints.
    """
    declared = (evidence.get("systemd_container") or "").strip()
    if declared:
        return declared
    declared = _environ_container(evidence.get("pid1_environ"))
    if declared:
        return declared
    markers = evidence.get("markers") or ()
    for path, engine in _CONTAINER_MARKERS:
        if path in markers:
            return engine
    if evidence.get("proc_vz") and not evidence.get("proc_bc"):
        return "openvz"
    cgroup = evidence.get("pid1_cgroup") or ""
    for line in cgroup.splitlines():
        for word, engine in _CGROUP_WORDS:
            if word in line.partition(":")[2].partition(":")[2]:
                return engine
    return None


def container_paths():
    """The relative marker paths the caller should test for existence."""
    return [path for path, _engine in _CONTAINER_MARKERS]
