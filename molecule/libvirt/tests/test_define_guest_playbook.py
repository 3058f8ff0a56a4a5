# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/define_guest.yml run for real against this scenario's libvirtd.

Each case is one ansible-playbook run with the scenario's inventory, checked by its exit
code, its message and what libvirt holds afterwards. The runs use their own domain names,
so they run side by side (keeps the scenario's time down) and leave snp-guest alone.
"""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(_ROOT, "playbooks", "define_guest.yml")
IMAGES = "/var/lib/libvirt/images"

CASES = {
    # --check with state=running for a guest that was never defined.
    "check_mode": (["--check"], {"sev_snp_guest_name": "snp-check-mode", "sev_snp_guest_state": "running"}),
    # Every file the guest opens at start is missing.
    "missing_files": ([], {
        "sev_snp_guest_name": "snp-missing-files",
        "sev_snp_guest_disk_path": IMAGES + "/absent.qcow2", "sev_snp_guest_disk_format": "qcow2",
        "sev_snp_guest_loader": "/usr/share/ovmf/absent-sev.fd",
        "sev_snp_guest_install_media": IMAGES + "/absent.iso",
    }),
    # A directory where the disk image belongs.
    "disk_is_a_directory": ([], {"sev_snp_guest_name": "snp-disk-dir", "sev_snp_guest_disk_path": IMAGES}),
    # define_only: defined although the disk is missing, with the missing file named.
    "define_only": ([], {"sev_snp_guest_name": "snp-prepared", "sev_snp_guest_define_only": True,
                         "sev_snp_guest_disk_path": IMAGES + "/later.raw"}),
    # define_only cannot start a guest.
    "define_only_running": ([], {"sev_snp_guest_name": "snp-prepared-running", "sev_snp_guest_define_only": True,
                                 "sev_snp_guest_state": "running"}),
}


def _run(args, extra_vars):
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, PLAYBOOK,
               "-e", "sev_snp_target=all", "-e", json.dumps(extra_vars)] + args
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=600, check=False)
    # The callback wraps long messages; fold whitespace so a sentence is found whole.
    return process.returncode, " ".join(process.stdout.decode().split())


@pytest.fixture(scope="module")
def runs(host):
    if "MOLECULE_INVENTORY_FILE" not in os.environ:
        pytest.skip("runs only as the verifier of the molecule libvirt scenario")
    names = sorted(CASES)
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = dict(zip(names, pool.map(lambda name: _run(*CASES[name]), names)))
    # What libvirt holds afterwards, in one round trip.
    listing = host.run("virsh -c qemu:///system list --all --name").stdout.split()
    results["defined"] = set(listing)
    yield results
    host.run("virsh -c qemu:///system undefine snp-prepared")


def test_check_mode_skips_the_start_and_defines_nothing(runs):
    rc, output = runs["check_mode"]
    assert rc == 0, output
    assert "Check mode: the start of snp-check-mode is skipped because check mode defines nothing" in output
    assert "did not start" not in output
    assert "snp-check-mode" not in runs["defined"]


def test_missing_files_are_named_before_defining(runs):
    rc, output = runs["missing_files"]
    assert rc == 2, output
    assert "snp-missing-files is not defined: " in output
    assert ("the SEV firmware /usr/share/ovmf/absent-sev.fd (sev_snp_guest_loader) does not exist: "
            "install ovmf-amdsev (Debian suites newer than trixie), which provides /usr/share/ovmf/OVMF.amdsev.fd"
            ) in output
    assert ("the disk image %s/absent.qcow2 (sev_snp_guest_disk_path) does not exist: "
            "create it (qemu-img create -f qcow2 %s/absent.qcow2 20G)" % (IMAGES, IMAGES)) in output
    assert "the installation medium %s/absent.iso (sev_snp_guest_install_media) does not exist" % IMAGES in output
    assert "failed=1" in output and "Traceback" not in output
    assert "snp-missing-files" not in runs["defined"]


def test_a_directory_is_not_a_disk_image(runs):
    rc, output = runs["disk_is_a_directory"]
    assert rc == 2, output
    assert "snp-disk-dir is not defined: %s is a directory, not a file." % IMAGES in output
    assert "snp-disk-dir" not in runs["defined"]


def test_define_only_defines_with_the_missing_file_named(runs):
    rc, output = runs["define_only"]
    assert rc == 0, output
    assert ("sev_snp_guest_define_only is true, so snp-prepared is defined anyway, but it will not start until "
            "this is fixed: the disk image %s/later.raw (sev_snp_guest_disk_path) does not exist" % IMAGES) in output
    assert "snp-prepared" in runs["defined"]


def test_define_only_refuses_to_start(runs):
    rc, output = runs["define_only_running"]
    assert rc == 2, output
    assert ("sev_snp_guest_define_only=true defines a guest whose files may be missing, so it cannot start it: "
            "set sev_snp_guest_state=defined") in output
    assert "snp-prepared-running" not in runs["defined"]
