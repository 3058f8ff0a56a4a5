# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What libvirt holds after converge, the idempotence run and side_effect."""
import xml.etree.ElementTree as ET

import pytest


# One round trip: each host.run through the Ansible backend costs seconds.
_PROBE = (
    "virsh -c qemu:///system dumpxml --inactive snp-guest; echo '@@'; "
    "virsh -c qemu:///system domstate snp-guest; echo '@@'; "
    "virt-xml-validate /root/snp-guest.generated.xml domain 2>&1; echo \"rc=$?\"; echo '@@'; "
    "cat /root/snp-guest.generated.xml"
)


@pytest.fixture(scope="module")
def probe(host):
    result = host.run(_PROBE)
    dump, state, validation, generated = result.stdout.split("@@\n")
    return {"dump": dump, "state": state.strip(), "validation": validation.strip(), "generated": generated}


@pytest.fixture(scope="module")
def domain(probe):
    return ET.fromstring(probe["dump"])


def test_q35_with_the_sev_ovmf_as_rom(domain):
    assert domain.get("type") == "kvm"
    assert domain.find("os/type").get("machine").startswith("pc-q35-")
    loader = domain.find("os/loader")
    assert loader.text == "/usr/share/ovmf/OVMF.amdsev.fd"
    assert loader.get("type") == "rom" and loader.get("readonly") == "yes"
    assert domain.find("os/nvram") is None


def test_launch_security_sev_snp_with_changed_policy_and_host_parameters(domain):
    launch = domain.find("launchSecurity")
    assert launch.get("type") == "sev-snp"
    assert launch.findtext("policy") == "0x00130000"
    # The values the prepare stand-in put into the capability report, read back by the role.
    assert launch.findtext("cbitpos") == "51"
    assert launch.findtext("reducedPhysBits") == "1"


def test_no_tpm_and_smm_off(domain):
    assert domain.find("devices/tpm") is None
    assert domain.find("features/smm").get("state") == "off"


def test_epyc_cpu_disk_and_network(domain):
    assert domain.findtext("cpu/model") == "EPYC-v4"
    disk = domain.find("devices/disk[@device='disk']")
    assert disk.find("source").get("file") == "/var/lib/libvirt/images/snp-guest.raw"
    assert disk.find("driver").get("iommu") == "on"
    assert domain.find("devices/interface/source").get("network") == "default"
    assert domain.find("devices/memballoon").get("model") == "none"


def test_domain_is_defined_but_not_running(probe):
    assert probe["state"] == "shut off"


def test_generated_xml_passes_libvirts_schema(probe):
    assert probe["validation"].endswith("validates\nrc=0"), probe["validation"]


def test_generated_xml_is_the_policy_template(probe):
    generated = ET.fromstring(probe["generated"])
    assert generated.find("launchSecurity").get("type") == "sev-snp"
    assert generated.findtext("launchSecurity/policy") == "0x00130000"
    assert generated.find("devices/tpm") is None
