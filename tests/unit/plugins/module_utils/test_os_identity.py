# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OS family and container detection from what host_facts reads."""

from __future__ import annotations

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.os_identity import (
    container_type,
    os_identity,
    parse_os_release,
)

LEAP = """NAME="openSUSE Leap"
VERSION="15.7"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.7"
PRETTY_NAME="openSUSE Leap 15.7"
"""

SLES = """NAME="SLES"
VERSION="15-SP7"
VERSION_ID="15.7"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP7"
ID="sles"
ID_LIKE="suse"
"""

DEBIAN = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
"""

UBUNTU = """NAME="Ubuntu"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian
"""

ROCKY = """NAME="Rocky Linux"
VERSION_ID="9.4"
ID="rocky"
ID_LIKE="rhel centos fedora"
"""

ALPINE = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.0
"""


@pytest.mark.parametrize("text, expected", [
    (LEAP, {"id": "opensuse-leap", "name": "openSUSE Leap", "version": "15.7", "family": "Suse"}),
    (SLES, {"id": "sles", "name": "SLES", "version": "15.7", "family": "Suse"}),
    (DEBIAN, {"id": "debian", "name": "Debian GNU/Linux", "version": "12", "family": "Debian"}),
    (UBUNTU, {"id": "ubuntu", "name": "Ubuntu", "version": "24.04", "family": "Debian"}),
    (ROCKY, {"id": "rocky", "name": "Rocky Linux", "version": "9.4", "family": "RedHat"}),
    (ALPINE, {"id": "alpine", "name": "Alpine Linux", "version": "3.20.0", "family": None}),
    (None, {"id": None, "name": None, "version": None, "family": None}),
    ("", {"id": None, "name": None, "version": None, "family": None}),
])
def test_os_identity(text, expected):
    assert os_identity(text) == expected


def test_id_like_decides_for_unknown_ids():
    assert os_identity('ID=opensuse-microos\nID_LIKE="suse opensuse opensuse-tumbleweed"\n')["family"] == "Suse"
    assert os_identity('ID=linuxmint\nID_LIKE="ubuntu debian"\n')["family"] == "Debian"


def test_parse_os_release_quoting_comments_and_junk():
    fields = parse_os_release(
        "# a comment\n"
        "NAME='Single Quoted'\n"
        'PRETTY_NAME="with \\"escaped\\" quotes"\n'
        "BROKEN=\"unterminated\n"
        "not an assignment\n"
        "BAD KEY=x\n"
        "\n")
    assert fields == {"NAME": "Single Quoted", "PRETTY_NAME": 'with "escaped" quotes', "BROKEN": "unterminated"}


@pytest.mark.parametrize("evidence, expected", [
    ({}, None),
    ({"systemd_container": "podman\n"}, "podman"),
    ({"systemd_container": "systemd-nspawn", "markers": [".dockerenv"]}, "systemd-nspawn"),
    ({"pid1_environ": "PATH=/usr/bin\0container=lxc\0TERM=xterm\0"}, "lxc"),
    ({"pid1_environ": "PATH=/usr/bin\0TERM=xterm\0"}, None),
    ({"markers": ["run/.containerenv"]}, "podman"),
    ({"markers": [".dockerenv"]}, "docker"),
    ({"proc_vz": True, "proc_bc": False}, "openvz"),
    # /proc/vz together with /proc/bc is the OpenVZ host itself.
    ({"proc_vz": True, "proc_bc": True}, None),
    ({"pid1_cgroup": "12:devices:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n"}, "docker"),
    ({"pid1_cgroup": "11:memory:/kubepods/besteffort/pod1\n"}, "kubernetes"),
    # cgroup v2 on a machine says nothing.
    ({"pid1_cgroup": "0::/init.scope\n"}, None),
    ({"systemd_container": "", "pid1_environ": None, "markers": []}, None),
])
def test_container_type(evidence, expected):
    assert container_type(evidence) == expected
