# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain XML -> launch_measurement inputs, and the measurement record in <metadata>."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.snp_measurement import FilterModule
from ansible_collections.coco.sev_snp.plugins.module_utils import snp_domain

FILTERS = FilterModule().filters()
inputs = FILTERS["snp_measurement_inputs"]
record = FILTERS["snp_measurement_record"]
recorded = FILTERS["snp_recorded_measurement"]

MEASUREMENT = "836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee"

# As SUSE's SEV-SNP chapter defines a guest (virsh dumpxml shape, abridged).
SLES_DOMAIN = """<domain type='kvm'>
  <name>sles-snp</name>
  <vcpu placement='static'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-8.2'>hvm</type>
    <loader readonly='yes' type='rom'>/usr/share/qemu/ovmf-x86_64-sev.bin</loader>
    <boot dev='hd'/>
  </os>
  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>EPYC-Milan</model>
  </cpu>
  <launchSecurity type='sev-snp'>
    <cbitpos>51</cbitpos>
    <reducedPhysBits>1</reducedPhysBits>
    <policy>0x00030000</policy>
  </launchSecurity>
</domain>"""

KERNEL_BOOT = """<domain type='kvm'>
  <name>direct</name>
  <vcpu placement='static' current='2'>8</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader type='rom' readonly='yes'> /usr/share/ovmf/OVMF.amdsev.fd </loader>
    <kernel>/var/lib/libvirt/boot/vmlinuz</kernel>
    <initrd>/var/lib/libvirt/boot/initrd</initrd>
    <cmdline>console=ttyS0 root=/dev/vda1 &amp; quiet</cmdline>
  </os>
  <cpu mode='custom'><model>EPYC-Genoa</model></cpu>
  <launchSecurity type='sev-snp' kernelHashes='yes'><policy>0x30000</policy></launchSecurity>
</domain>"""


def test_sles_style_loader_path():
    result = inputs(SLES_DOMAIN)
    assert result == {"ovmf": "/usr/share/qemu/ovmf-x86_64-sev.bin", "vcpus": 4, "vcpu_type": "EPYC-Milan",
                      "kernel": None, "initrd": None, "append": None, "vmm_type": "QEMU", "kernel_hashes": False,
                      "notes": []}


def test_sles_loader_with_nvram_template_and_firmware_attribute():
    xml = SLES_DOMAIN.replace(
        "<loader readonly='yes' type='rom'>/usr/share/qemu/ovmf-x86_64-sev.bin</loader>",
        "<loader readonly='yes' type='pflash' stateless='yes'>/usr/share/qemu/ovmf-x86_64-sev.bin</loader>"
    ).replace("<os>", "<os firmware='efi'>")
    assert inputs(xml)["ovmf"] == "/usr/share/qemu/ovmf-x86_64-sev.bin"


def test_direct_kernel_boot_with_kernel_hashes():
    result = inputs(KERNEL_BOOT)
    assert result["ovmf"] == "/usr/share/ovmf/OVMF.amdsev.fd"
    assert result["vcpus"] == 2  # current vCPUs start; the others are never measured
    assert result["vcpu_type"] == "EPYC-Genoa"
    assert result["kernel"] == "/var/lib/libvirt/boot/vmlinuz"
    assert result["initrd"] == "/var/lib/libvirt/boot/initrd"
    assert result["append"] == "console=ttyS0 root=/dev/vda1 & quiet"
    assert result["kernel_hashes"] is True and result["notes"] == []


def test_direct_kernel_boot_without_kernel_hashes_is_not_measured():
    result = inputs(KERNEL_BOOT.replace(" kernelHashes='yes'", ""))
    assert result["kernel"] is None and result["initrd"] is None and result["append"] is None
    assert "not measured" in result["notes"][0]


def test_kernel_hashes_without_a_kernel():
    xml = KERNEL_BOOT.replace("<kernel>/var/lib/libvirt/boot/vmlinuz</kernel>", "")
    result = inputs(xml)
    assert result["kernel"] is None and result["initrd"] is None and result["append"] is None
    assert "without <kernel>" in result["notes"][0]


@pytest.mark.parametrize("mode", ["host-passthrough", "host-model", "maximum"])
def test_host_cpu_modes_leave_the_vcpu_type_open(mode):
    xml = SLES_DOMAIN.replace("<cpu mode='custom' match='exact' check='none'>", "<cpu mode='%s' check='none'>" % mode)
    result = inputs(xml)
    assert result["vcpu_type"] is None
    assert "vcpu_family" in result["notes"][0] and mode in result["notes"][0]


def test_no_cpu_element_is_noted():
    xml = KERNEL_BOOT.replace("<cpu mode='custom'><model>EPYC-Genoa</model></cpu>", "")
    result = inputs(xml)
    assert result["vcpu_type"] is None and "names no CPU model" in result["notes"][0]


def test_no_vcpu_element_is_libvirts_default_of_one():
    xml = SLES_DOMAIN.replace("<vcpu placement='static'>4</vcpu>", "")
    assert inputs(xml)["vcpus"] == 1


def test_bytes_are_accepted():
    assert inputs(SLES_DOMAIN.encode())["vcpus"] == 4


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<domain><name>&lol2;</name></domain>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY loader SYSTEM "file:///etc/shadow">]>
<domain><os><loader>&loader;</loader></os><launchSecurity type='sev-snp'/></domain>"""


@pytest.mark.parametrize("xml,message", [
    (BILLION_LAUGHS, "declares a DOCTYPE or entities"),
    (EXTERNAL_ENTITY, "declares a DOCTYPE or entities"),
    ("<!doctype domain><domain/>", "declares a DOCTYPE or entities"),
    ("<domain><name>x</name>", "not well-formed"),
    ("", "not well-formed"),
    ("<network><name>default</name></network>", "expected a libvirt <domain> element, got <network>"),
    ("<domain><os><loader>/x</loader></os></domain>", "has no <launchSecurity>"),
    ("<domain><os><loader>/x</loader></os><launchSecurity type='sev'/></domain>", "type is 'sev', not 'sev-snp'"),
    ("<domain><launchSecurity type='sev-snp'/></domain>", "names no <os><loader>"),
    ("<domain><os><loader> </loader></os><launchSecurity type='sev-snp'/></domain>", "names no <os><loader>"),
    ("<domain><vcpu>many</vcpu><os><loader>/x</loader></os><launchSecurity type='sev-snp'/></domain>",
     "<vcpu> holds 'many'"),
    ("<domain><vcpu>0</vcpu><os><loader>/x</loader></os><launchSecurity type='sev-snp'/></domain>",
     "says 0 vCPUs"),
    (b"<domain>\xff</domain>", "not UTF-8"),
    ({"domain": 1}, "expected the domain XML as a string"),
    (None, "expected the domain XML as a string"),
    ("<domain>" + " " * snp_domain.MAX_XML_BYTES + "</domain>", "larger than"),
])
def test_bad_xml_is_refused_with_a_reason(xml, message):
    with pytest.raises(AnsibleFilterError) as raised:
        inputs(xml)
    assert message in str(raised.value)
    assert str(raised.value).startswith("snp_measurement_inputs: ")


def test_record_round_trips_through_metadata():
    full = {"measurement": MEASUREMENT, "vcpus": 2, "vcpu_type": "EPYC-Milan", "vcpu_sig": "0xa00f11",
            "vmm_type": "QEMU", "guest_features": "0x1", "ovmf": "/usr/share/qemu/ovmf-x86_64-sev.bin",
            "ovmf_sha256": "ab" * 32, "append": "console=ttyS0 \"quoted\" <&>\nnext",
            "sev_snp_measure_version": "0.0.13", "kernel": None}
    element = record(full)
    xml = SLES_DOMAIN.replace("<vcpu", "<metadata>%s</metadata>\n  <vcpu" % element)
    back = recorded(xml)
    expected = dict(full)
    del expected["kernel"]
    assert back == expected
    # The record does not disturb the inputs.
    assert inputs(xml) == inputs(SLES_DOMAIN)


def test_no_record_is_none_and_foreign_metadata_is_ignored():
    assert recorded(SLES_DOMAIN) is None
    other = SLES_DOMAIN.replace("<vcpu", "<metadata><x:launch xmlns:x='urn:other' measurement='%s'/></metadata><vcpu"
                                % MEASUREMENT)
    assert recorded(other) is None


@pytest.mark.parametrize("value", ["", "ab", MEASUREMENT.upper(), MEASUREMENT + "00", None])
def test_record_needs_a_real_measurement(value):
    with pytest.raises(AnsibleFilterError) as raised:
        record({"measurement": value})
    assert "96 lowercase hex digits" in str(raised.value)


def test_a_hand_edited_record_is_an_error():
    element = record({"measurement": MEASUREMENT}).replace(MEASUREMENT, MEASUREMENT[:-2])
    xml = SLES_DOMAIN.replace("<vcpu", "<metadata>%s</metadata><vcpu" % element)
    with pytest.raises(AnsibleFilterError) as raised:
        recorded(xml)
    assert "edited by hand" in str(raised.value)


def test_recorded_refuses_hostile_xml():
    with pytest.raises(AnsibleFilterError):
        recorded(BILLION_LAUGHS)
