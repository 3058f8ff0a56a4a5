# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The expected launch measurement converge recorded for snp-guest: in libvirt's <metadata>, in
the controller's JSON file, equal to the sev-snp-measure command line on the same firmware, and
usable by attestation_verify (define -> record -> attest)."""
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
HOST = "sev-snp-libvirt"
RECORDS = os.path.join(EPHEMERAL, "measurements", HOST)
LOADER = "/usr/share/ovmf/OVMF.amdsev.fd"


def _snp_domain():
    # Standard library only; loaded from the file so the verifier needs no collection loader.
    spec = importlib.util.spec_from_file_location(
        "snp_domain", os.path.join(ROOT, "plugins", "module_utils", "snp_domain.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sev_snp_measure(*args):
    tool = os.path.join(os.path.dirname(sys.executable), "sev-snp-measure")
    done = subprocess.run([tool, "--mode", "snp"] + list(args), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def dump(host):
    return host.run("virsh -c qemu:///system dumpxml --inactive snp-guest").stdout


@pytest.fixture(scope="module")
def record():
    with open(os.path.join(RECORDS, "snp-guest.json")) as handle:
        return json.load(handle)


def test_metadata_and_json_file_hold_the_same_measurement(dump, record):
    recorded = _snp_domain().recorded_measurement(dump)
    assert recorded["measurement"] == record["measurement"]
    assert len(record["measurement"]) == 96
    assert recorded["vcpus"] == 2 and recorded["vcpu_type"] == "EPYC-v4" and recorded["guest_features"] == "0x1"
    assert recorded["ovmf"] == LOADER and record["inputs"]["ovmf"] == LOADER
    assert record["guest"] == "snp-guest" and record["host"] == HOST
    assert record["firmware"]["kernel_hashes"] is False
    # The record describes what the domain holds.
    domain = ET.fromstring(dump)
    assert domain.findtext("os/loader") == recorded["ovmf"]
    assert int(domain.findtext("vcpu")) == recorded["vcpus"]
    assert domain.findtext("cpu/model") == recorded["vcpu_type"]


def test_the_measured_copy_is_the_hosts_firmware(host, record):
    copy = os.path.join(RECORDS, "snp-guest.inputs", "ovmf", "OVMF.amdsev.fd")
    with open(copy, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == host.file(LOADER).sha256sum == record["inputs"]["ovmf_sha256"]


def test_the_command_line_computes_the_same_measurement(record):
    copy = os.path.join(RECORDS, "snp-guest.inputs", "ovmf", "OVMF.amdsev.fd")
    assert sev_snp_measure("--ovmf", copy, "--vcpus", "2", "--vcpu-type", "EPYC-v4",
                           "--guest-features", "0x1") == record["measurement"]


def test_recorded_measurement_attests(tmp_path):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "molecule", "libvirt", "files", "attest_recorded.py"),
                           os.path.join(RECORDS, "snp-guest.json"), str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    carrying, off = results["carrying"], results["one_bit_off"]
    assert carrying["failed"] is False and carrying["verified"] is True, carrying
    assert "measurement" in carrying["checks"]
    assert off["failed"] is True and off["failed_check"] == "measurement", off
