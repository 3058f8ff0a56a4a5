# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/define_guest.yml run for real against this scenario's libvirtd.

Each case is an inventory host aliasing the scenario's container with its own variables
and domain name, checked by the exit code, the host's recap and message, and what libvirt
holds afterwards. Two ansible-playbook runs side by side (one with --check, one for the
other cases) keep the scenario's time down; snp-guest is left alone.
"""
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(_ROOT, "playbooks", "define_guest.yml")
IMAGES = "/var/lib/libvirt/images"

CHECK_MODE_CASE = {
    # --check with state=running for a guest that was never defined.
    "check-mode": {"sev_snp_guest_name": "snp-check-mode", "sev_snp_guest_state": "running"},
}
CASES = {
    # Every file the guest opens at start is missing (the medium: a directory is no file).
    "missing-files": {
        "sev_snp_guest_name": "snp-missing-files",
        "sev_snp_guest_disk_path": IMAGES + "/absent.qcow2", "sev_snp_guest_disk_format": "qcow2",
        "sev_snp_guest_loader": "/usr/share/ovmf/absent-sev.fd",
        "sev_snp_guest_install_media": IMAGES,
    },
    # define_only: defined although the disk is missing, with the missing file named.
    "define-only": {"sev_snp_guest_name": "snp-prepared", "sev_snp_guest_define_only": True,
                    "sev_snp_guest_disk_path": IMAGES + "/later.raw"},
    # define_only cannot start a guest.
    "define-only-running": {"sev_snp_guest_name": "snp-prepared-running", "sev_snp_guest_define_only": True,
                            "sev_snp_guest_state": "running"},
    # Kernel hashes from a firmware without a kernel hashes section (trixie's OVMF_CODE_4M.fd).
    "kernel-hashes-refused": {"sev_snp_guest_name": "snp-kernel-refused", "sev_snp_guest_kernel": "/etc/hostname"},
    # initrd without a kernel.
    "initrd-without-kernel": {"sev_snp_guest_name": "snp-initrd-only", "sev_snp_guest_initrd": "/etc/hostname"},
}
BOOT = "/var/lib/libvirt/boot"
CORPUS = os.environ.get("SEV_SNP_CORPUS") or os.path.join(os.path.dirname(_ROOT), "shared", "corpus")
AMDSEV_FIXTURE = os.path.join(CORPUS, "binary", "sev-snp-measure", "ovmf_AmdSev_suffix.bin")
DIRECT = {"sev_snp_guest_name": "snp-direct", "sev_snp_guest_loader": BOOT + "/OVMF.amdsev-fixture.fd",
          "sev_snp_guest_kernel": BOOT + "/vmlinuz", "sev_snp_guest_initrd": BOOT + "/initrd.img",
          "sev_snp_guest_cmdline": "console=ttyS0 root=/dev/vda1 quiet", "sev_snp_guest_vcpus": 3,
          "sev_snp_guest_cpu_model": "EPYC-Milan", "sev_snp_guest_guest_features": "0x21"}
if os.path.exists(AMDSEV_FIXTURE):
    # Direct kernel boot with kernel hashes and the AmdSev firmware prepare copied in.
    CASES["direct-kernel"] = DIRECT


def _case_inventory(path):
    """Every case as a host that reaches the scenario's container the way molecule's inventory does."""
    with open(os.environ["MOLECULE_INVENTORY_FILE"]) as handle:
        molecule_hosts = yaml.safe_load(handle)["all"]["hosts"]
    container, connection = next(iter(molecule_hosts.items()))
    hosts = {}
    for name, case_vars in list(CASES.items()) + list(CHECK_MODE_CASE.items()):
        hosts[name] = dict(connection or {}, ansible_host=container, **case_vars)
    path.write_text(json.dumps({"define_guest_cases": {"hosts": hosts}}))
    return str(path)


def _run(cases_inventory, target, args=()):
    molecule_inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK,
               "-i", molecule_inventory, "-i", cases_inventory, "-e", "sev_snp_target=" + target] + list(args)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="default")
    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=600, check=False)
    # The callback wraps long messages; fold whitespace so a sentence is found whole.
    return process.returncode, " ".join(process.stdout.decode().split())


def recap(output, host):
    match = re.search(r"PLAY RECAP .*? %s : ((?:\w+=\d+ ?)+)" % re.escape(host), output)
    assert match, output
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


@pytest.fixture(scope="module")
def runs(host, tmp_path_factory):
    if "MOLECULE_INVENTORY_FILE" not in os.environ:
        pytest.skip("runs only as the verifier of the molecule libvirt scenario")
    inventory = _case_inventory(tmp_path_factory.mktemp("cases") / "cases.json")
    with ThreadPoolExecutor(max_workers=2) as pool:
        check = pool.submit(_run, inventory, ",".join(CHECK_MODE_CASE), ["--check"])
        others = pool.submit(_run, inventory, ",".join(CASES))
        results = {"check": check.result(), "others": others.result()}
    # What libvirt holds afterwards, in one round trip.
    results["defined"] = set(host.run("virsh -c qemu:///system list --all --name").stdout.split())
    yield results
    host.run("virsh -c qemu:///system undefine snp-prepared; virsh -c qemu:///system undefine snp-direct")


def test_the_case_run_fails_only_where_expected(runs):
    rc, output = runs["others"]
    assert rc == 2, output
    assert recap(output, "missing-files")["failed"] == 1
    assert recap(output, "define-only-running")["failed"] == 1
    assert recap(output, "define-only")["failed"] == 0
    assert recap(output, "kernel-hashes-refused")["failed"] == 1
    assert recap(output, "initrd-without-kernel")["failed"] == 1
    if "direct-kernel" in CASES:
        assert recap(output, "direct-kernel")["failed"] == 0
    assert "Traceback" not in output


def test_check_mode_skips_the_start_and_defines_nothing(runs):
    rc, output = runs["check"]
    assert rc == 0, output
    assert "Check mode: the start of snp-check-mode is skipped because check mode defines nothing" in output
    assert "did not start" not in output
    assert "snp-check-mode" not in runs["defined"]
    # It writes nothing on the controller either: no record and no copies of the firmware (a
    # measurement in check mode uses a scratch directory that is gone again).
    records = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "measurements", "check-mode")
    assert not os.path.exists(records), os.listdir(records)


def test_missing_files_are_named_before_defining(runs):
    output = runs["others"][1]
    assert "snp-missing-files is not defined: " in output
    assert ("the SEV firmware /usr/share/ovmf/absent-sev.fd (sev_snp_guest_loader) does not exist: "
            "install ovmf-amdsev (Debian suites newer than trixie), which provides /usr/share/ovmf/OVMF.amdsev.fd"
            ) in output
    assert ("the disk image %s/absent.qcow2 (sev_snp_guest_disk_path) does not exist: "
            "create it (qemu-img create -f qcow2 %s/absent.qcow2 20G)" % (IMAGES, IMAGES)) in output
    # A directory where the ISO belongs counts as missing.
    assert "; %s is a directory, not a file." % IMAGES in output
    assert "snp-missing-files" not in runs["defined"]


def test_define_only_defines_with_the_missing_file_named(runs):
    output = runs["others"][1]
    assert ("sev_snp_guest_define_only is true, so snp-prepared is defined anyway, but it will not start until "
            "this is fixed: the disk image %s/later.raw (sev_snp_guest_disk_path) does not exist" % IMAGES) in output
    assert "snp-prepared" in runs["defined"]


def test_define_only_refuses_to_start(runs):
    output = runs["others"][1]
    assert ("sev_snp_guest_define_only=true defines a guest whose files may be missing, so it cannot start it: "
            "set sev_snp_guest_state=defined") in output
    assert "snp-prepared-running" not in runs["defined"]


def test_define_only_with_missing_files_records_no_measurement(runs):
    output = runs["others"][1]
    assert "No launch measurement is recorded for snp-prepared: its files are missing" in output


def test_kernel_hashes_need_the_amdsev_firmware(runs):
    output = runs["others"][1]
    assert "kernel hashes were requested" in output
    assert "has no SNP_KERNEL_HASHES metadata section" in output
    assert "snp-kernel-refused" not in runs["defined"]


def test_initrd_needs_a_kernel(runs):
    output = runs["others"][1]
    assert "sev_snp_guest_initrd and sev_snp_guest_cmdline are for direct kernel boot: set sev_snp_guest_kernel too" in output
    assert "snp-initrd-only" not in runs["defined"]


def test_direct_kernel_boot_is_defined_with_kernel_hashes_and_recorded(host, runs):
    if "direct-kernel" not in CASES:
        pytest.skip("sev-snp-measure's AmdSev fixture is not in the sample corpus")
    import xml.etree.ElementTree as ET

    dump = host.run("virsh -c qemu:///system dumpxml --inactive snp-direct").stdout
    domain = ET.fromstring(dump)
    assert domain.find("launchSecurity").get("kernelHashes") == "yes"
    assert domain.findtext("os/kernel") == DIRECT["sev_snp_guest_kernel"]
    assert domain.findtext("os/cmdline") == DIRECT["sev_snp_guest_cmdline"]
    ephemeral = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
    records = os.path.join(ephemeral, "measurements", "direct-kernel")
    with open(os.path.join(records, "snp-direct.json")) as handle:
        record = json.load(handle)
    assert record["inputs"]["kernel"] == DIRECT["sev_snp_guest_kernel"]
    assert record["inputs"]["append"] == DIRECT["sev_snp_guest_cmdline"]
    assert record["inputs"]["kernel_sha256"] == host.file(DIRECT["sev_snp_guest_kernel"]).sha256sum
    assert record["firmware"]["kernel_hashes"] is True
    assert "measurement='%s'" % record["measurement"] in dump.replace('"', "'")
    copies = os.path.join(records, "snp-direct.inputs")
    tool = os.path.join(os.path.dirname(sys.executable), "sev-snp-measure")
    done = subprocess.run([tool, "--mode", "snp", "--vcpus", "3", "--vcpu-type", "EPYC-Milan", "--guest-features", "0x21",
                           "--ovmf", os.path.join(copies, "ovmf", "OVMF.amdsev-fixture.fd"),
                           "--kernel", os.path.join(copies, "kernel", "vmlinuz"),
                           "--initrd", os.path.join(copies, "initrd", "initrd.img"),
                           "--append", DIRECT["sev_snp_guest_cmdline"]], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == record["measurement"]
