# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import os

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.domcaps import (
    DomainCapabilitiesError,
    parse_domain_capabilities,
    snp_problems,
    snp_supported,
    snp_warnings,
)
from corpus import read_corpus

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "domcaps")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def test_snp_host_is_fully_parsed():
    caps = parse_domain_capabilities(fixture("epyc-milan-snp-libvirt11.xml"))
    assert caps["complete"] is True
    assert (caps["domain"], caps["machine"], caps["arch"]) == ("kvm", "pc-q35-10.0", "x86_64")
    assert caps["host_cpu_model"] == "EPYC-Milan"
    assert caps["firmware_loaders"][0] == "/usr/share/qemu/ovmf-x86_64-sev.bin"
    assert caps["sev"] == {
        "supported": True, "cbitpos": 51, "reduced_phys_bits": 1,
        "max_guests": 15, "max_es_guests": 494, "cpu0_id": None,
    }
    assert caps["launch_security"] == {"supported": True, "sectypes": ["sev", "sev-snp"]}
    assert snp_problems(caps) == [] and snp_supported(caps)


def test_leading_prompt_is_skipped():
    caps = parse_domain_capabilities(fixture("prompt-then-snp.txt"))
    assert caps["sev"]["cbitpos"] == 51 and snp_supported(caps)


@pytest.mark.parametrize("name, expected", [
    ("intel-tcg-no-sev.xml", ["<sev supported='no'>", "'sev-snp' is not among the launchSecurity types"]),
    ("epyc-rome-sev-only-libvirt11.xml", ["(offered: sev)"]),
    ("epyc-libvirt9-no-launchsecurity.xml", ["libvirt older than 10.5"]),
])
def test_gate_names_what_is_missing(name, expected):
    problems = snp_problems(parse_domain_capabilities(fixture(name)))
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected):
        assert fragment in problem
        assert "/usr/bin/qemu-system-x86_64" in problem


def test_intel_host_offers_no_launch_security_types():
    caps = parse_domain_capabilities(fixture("intel-tcg-no-sev.xml"))
    assert caps["sev"]["supported"] is False and caps["sev"]["cbitpos"] is None
    assert caps["launch_security"] == {"supported": False, "sectypes": []}
    assert "(offered: none)" in snp_problems(caps)[1]


def test_missing_sev_element():
    caps = parse_domain_capabilities("<domainCapabilities><features/></domainCapabilities>")
    assert caps["sev"] is None
    assert "no <sev> element" in snp_problems(caps)[0]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("error: failed to connect to the hypervisor", "no <domainCapabilities>"),
    (None, "empty"),
])
def test_not_domain_capabilities(text, message):
    with pytest.raises(DomainCapabilitiesError, match=message):
        parse_domain_capabilities(text)


def test_truncated_xml_is_a_clear_error():
    with pytest.raises(DomainCapabilitiesError, match="not well-formed"):
        parse_domain_capabilities(fixture("truncated.xml"))


def test_corpus_libvirt_testdata_genoa():
    caps = parse_domain_capabilities(
        read_corpus("cpuinfo-sysfs-virsh/libvirt-testdata-domcaps-qemu10-amdsev-genoa-EXCERPT.xml"))
    assert caps["host_cpu_model"] == "EPYC-Genoa"
    assert caps["sev"]["cbitpos"] == 51 and caps["sev"]["reduced_phys_bits"] == 1
    assert caps["sev"]["max_guests"] == 59 and caps["sev"]["max_es_guests"] == 450
    assert caps["sev"]["cpu0_id"].startswith("BlAwmcr4")
    assert caps["launch_security"]["sectypes"] == ["sev", "sev-snp"]
    assert snp_problems(caps) == []


def test_corpus_xpath_fragment_with_no_es_asids():
    caps = parse_domain_capabilities(
        read_corpus("cpuinfo-sysfs-virsh/virsh-domcaps-sev-xpath-maxESGuests-0-opennebula.txt"))
    assert caps["complete"] is False
    assert caps["sev"]["supported"] is True and caps["sev"]["max_es_guests"] == 0
    assert caps["sev"]["max_guests"] == 1006
    assert snp_problems(caps) == [
        "only the <sev> element was given, so whether 'sev-snp' is a launchSecurity type is unknown; "
        "pass the complete 'virsh domcapabilities' output"]
    assert "maxESGuests is 0" in snp_warnings(caps)[0]


def test_es_asid_warning_only_when_sev_is_supported():
    assert snp_warnings(parse_domain_capabilities(fixture("epyc-milan-snp-libvirt11.xml"))) == []
    assert snp_warnings(parse_domain_capabilities(fixture("intel-tcg-no-sev.xml"))) == []
    warning = snp_warnings(parse_domain_capabilities(fixture("epyc-rome-sev-only-libvirt11.xml")))
    assert len(warning) == 1 and "SEV-ES ASID Space Limit" in warning[0]


# Odd but valid shapes, written for these tests: empty elements, modes and enums the
# parser must skip, a lone <sev> element as xmllint --xpath prints it.
ODD_SHAPES = """\
<domainCapabilities>
  <path> </path>
  <os supported='yes'><loader supported='yes'><value/><value>/usr/share/qemu/ovmf-x86_64-sev.bin</value></loader></os>
  <cpu>
    <mode name='host-model' supported='yes'><model fallback='forbid'>EPYC-Milan</model></mode>
    <mode name='custom' supported='yes'><model>qemu64</model></mode>
  </cpu>
  <features>
    <sev supported='yes'><cbitpos>51</cbitpos><cpu0Id>  QUJD  </cpu0Id></sev>
    <launchSecurity supported='yes'>
      <enum name='other'><value>x</value></enum>
      <enum name='sectype'><value/><value>sev-snp</value></enum>
    </launchSecurity>
  </features>
</domainCapabilities>
"""


def test_odd_shapes_are_parsed_to_none_and_skipped():
    caps = parse_domain_capabilities(ODD_SHAPES)
    assert (caps["path"], caps["domain"], caps["machine"], caps["arch"]) == (None, None, None, None)
    assert caps["firmware_loaders"] == ["", "/usr/share/qemu/ovmf-x86_64-sev.bin"]
    # Only the host-model mode names the host CPU, not a later custom mode.
    assert caps["host_cpu_model"] == "EPYC-Milan"
    assert caps["sev"]["cpu0_id"] == "QUJD" and caps["sev"]["max_guests"] is None
    # Only the enum named sectype lists launch security types.
    assert caps["launch_security"] == {"supported": True, "sectypes": ["", "sev-snp"]}
    assert snp_problems(caps) == []


@pytest.mark.parametrize("modes", [
    "<mode name='host-model' supported='no'><model>EPYC-Milan</model></mode>",
    "<mode name='host-model' supported='yes'/>",
    "<mode name='custom' supported='yes'><model>EPYC-Milan</model></mode>",
])
def test_host_cpu_model_only_from_a_supported_host_model_with_a_model(modes):
    caps = parse_domain_capabilities("<domainCapabilities><cpu>%s</cpu></domainCapabilities>" % modes)
    assert caps["host_cpu_model"] is None
    assert caps["sev"] is None and caps["launch_security"] is None


def test_lone_sev_fragment_after_a_prompt():
    caps = parse_domain_capabilities(
        "$ virsh domcapabilities | xmllint --xpath /domainCapabilities/features/sev -\n"
        "<sev supported=\"yes\">\n  <cbitpos>51</cbitpos>\n  <maxESGuests>0</maxESGuests>\n</sev>\n")
    assert caps == {
        "complete": False, "path": None, "domain": None, "machine": None, "arch": None,
        "host_cpu_model": None, "firmware_loaders": [], "launch_security": None,
        "sev": {"supported": True, "cbitpos": 51, "reduced_phys_bits": None, "max_guests": None,
                "max_es_guests": 0, "cpu0_id": None},
    }
    assert snp_problems(caps) == [
        "only the <sev> element was given, so whether 'sev-snp' is a launchSecurity type is unknown; "
        "pass the complete 'virsh domcapabilities' output"]


def test_caps_without_completeness_count_as_a_complete_document():
    caps = {"sev": {"supported": True}, "launch_security": None}
    problems = snp_problems(caps)
    assert len(problems) == 1 and "libvirt older than 10.5 cannot define SEV-SNP guests" in problems[0]


@pytest.mark.parametrize("sev", [
    None,
    {"supported": False, "max_es_guests": 0},
    {"supported": True, "max_es_guests": None},
    {"supported": True, "max_es_guests": 1},
])
def test_no_es_asid_warning_without_supported_sev_and_zero_es_guests(sev):
    assert snp_warnings({"sev": sev}) == []
