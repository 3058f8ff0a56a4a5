# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A libvirt SEV-SNP domain definition read for its launch measurement.

Pure standard library. measurement_inputs() maps a domain XML to the inputs of
coco.sev_snp.launch_measurement; the collection's own record of the expected measurement
lives in the domain's <metadata> under METADATA_NAMESPACE (record_element() writes it,
recorded_measurement() reads it back).

The XML is refused when it declares a DOCTYPE or entities: libvirt never writes one, and
entity expansion (billion laughs, external entities) is how hostile XML attacks a parser.
"""

from __future__ import absolute_import, division, print_function

import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

__metaclass__ = type

METADATA_NAMESPACE = "https://github.com/coco-collections/sev_snp/xmlns/launch-measurement/1"
METADATA_PREFIX = "coco"
RECORD_TAG = "launch"
# libvirt domain definitions are a few KiB; this bounds what a parser is handed.
MAX_XML_BYTES = 1024 * 1024
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_HEX96 = re.compile(r"^[0-9a-f]{96}$")
# CPU modes whose vCPU signature is the host CPU's, not a named model's.
_HOST_CPU_MODES = ("host-passthrough", "host-model", "maximum")
# The attributes of the record, in the order they are written.
RECORD_FIELDS = ("measurement", "vcpus", "vcpu_type", "vcpu_sig", "vmm_type", "guest_features", "ovmf",
                 "ovmf_sha256", "kernel", "kernel_sha256", "initrd", "initrd_sha256", "append",
                 "sev_snp_measure_version")


class DomainXmlError(ValueError):
    """The XML is not a usable SEV-SNP domain definition; the message says why."""


def parse(xml_text):
    """The <domain> element of a libvirt domain XML, refusing hostile or foreign input."""
    if isinstance(xml_text, bytes):
        try:
            xml_text = xml_text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DomainXmlError("the domain XML is not UTF-8: %s" % exc)
    if not isinstance(xml_text, str):
        raise DomainXmlError("expected the domain XML as a string (virsh dumpxml output), got %s"
                             % type(xml_text).__name__)
    if len(xml_text.encode("utf-8")) > MAX_XML_BYTES:
        raise DomainXmlError("the domain XML is larger than %d bytes; that is not a libvirt domain definition"
                             % MAX_XML_BYTES)
    if _DECLARATIONS.search(xml_text):
        raise DomainXmlError("the domain XML declares a DOCTYPE or entities, which libvirt never writes; it is "
                             "refused rather than expanded (give the output of 'virsh dumpxml')")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise DomainXmlError("the domain XML is not well-formed: %s" % exc)
    if root.tag != "domain":
        raise DomainXmlError("expected a libvirt <domain> element, got <%s>" % root.tag)
    return root


def _text(element):
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _vcpus(domain):
    vcpu = domain.find("vcpu")
    if vcpu is None:
        return 1  # libvirt's default
    value = vcpu.get("current") or _text(vcpu)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainXmlError("<vcpu> holds %r, not a number of vCPUs" % value)
    if number < 1:
        raise DomainXmlError("<vcpu> says %d vCPUs; a guest has at least one" % number)
    return number


def _vcpu_type(domain, notes):
    cpu = domain.find("cpu")
    mode = "custom" if cpu is None else cpu.get("mode", "custom")
    if mode in _HOST_CPU_MODES:
        notes.append("the CPU mode is %s, so the vCPU signature is the host CPU's: give vcpu_family, vcpu_model "
                     "and vcpu_stepping of the host (lscpu) to launch_measurement" % mode)
        return None
    model = _text(cpu.find("model")) if cpu is not None else None
    if model is None:
        notes.append("the domain names no CPU model, so QEMU's default (not an EPYC model) would be used; "
                     "set <cpu mode='custom'><model>EPYC-...</model></cpu>")
    return model


def measurement_inputs(xml_text):
    """The launch_measurement inputs of an SEV-SNP domain XML.

    Returns {"ovmf", "vcpus", "vcpu_type", "kernel", "initrd", "append", "vmm_type", "kernel_hashes",
    "notes"}; kernel, initrd and append are set only with kernelHashes='yes' (otherwise QEMU does
    not measure them). ``notes`` lists what the XML does not pin down.
    """
    domain = parse(xml_text)
    security = domain.find("launchSecurity")
    if security is None:
        raise DomainXmlError("the domain has no <launchSecurity>, so it is not an SEV-SNP guest and has no "
                             "launch measurement")
    if security.get("type") != "sev-snp":
        raise DomainXmlError("the domain's launchSecurity type is %r, not 'sev-snp'; only SEV-SNP launch "
                             "measurements are computed here" % security.get("type"))
    os_element = domain.find("os")
    loader = _text(os_element.find("loader")) if os_element is not None else None
    if loader is None:
        raise DomainXmlError(
            "the domain names no <os><loader>, so the firmware (and with it the measurement) is not known; set the "
            "loader to the SEV build of OVMF, or read the XML after libvirt resolved firmware autoselection "
            "('virsh dumpxml')")
    notes = []
    kernel_hashes = security.get("kernelHashes") == "yes"
    boot = {"kernel": None, "initrd": None, "append": None}
    if os_element is not None:
        given = {"kernel": _text(os_element.find("kernel")), "initrd": _text(os_element.find("initrd")),
                 "append": _text(os_element.find("cmdline"))}
        if kernel_hashes:
            if given["kernel"] is None:
                notes.append("kernelHashes='yes' without <kernel>: QEMU measures no kernel")
            else:
                boot = given
        elif given["kernel"] is not None:
            notes.append("direct kernel boot without kernelHashes='yes': the kernel, initrd and command line are "
                         "not measured, so an attestation says nothing about them")
    return {
        "ovmf": loader,
        "vcpus": _vcpus(domain),
        "vcpu_type": _vcpu_type(domain, notes),
        "kernel": boot["kernel"],
        "initrd": boot["initrd"] if boot["kernel"] else None,
        "append": boot["append"] if boot["kernel"] else None,
        "vmm_type": "QEMU",
        "kernel_hashes": kernel_hashes,
        "notes": notes,
    }


def record_element(record):
    """The <coco:launch .../> element that records an expected measurement in <metadata>."""
    if not isinstance(record, dict) or not _HEX96.match(str(record.get("measurement", ""))):
        raise DomainXmlError("a measurement record needs 'measurement' as 96 lowercase hex digits")
    attributes = " ".join("%s=%s" % (name, quoteattr(str(record[name])))
                          for name in RECORD_FIELDS if record.get(name) not in (None, ""))
    return "<%s:%s xmlns:%s=%s %s/>" % (METADATA_PREFIX, RECORD_TAG, METADATA_PREFIX, quoteattr(METADATA_NAMESPACE),
                                        attributes)


def recorded_measurement(xml_text):
    """The collection's record from the domain's <metadata> as a dict, or None when there is none."""
    domain = parse(xml_text)
    element = domain.find("metadata/{%s}%s" % (METADATA_NAMESPACE, RECORD_TAG))
    if element is None:
        return None
    record = dict((name, element.get(name)) for name in RECORD_FIELDS if element.get(name) is not None)
    if not _HEX96.match(record.get("measurement", "")):
        raise DomainXmlError("the domain's recorded measurement %r is not 96 lowercase hex digits; the record was "
                             "edited by hand: define the guest again" % record.get("measurement"))
    if "vcpus" in record:
        try:
            record["vcpus"] = int(record["vcpus"])
        except ValueError:
            raise DomainXmlError("the domain's recorded vcpus %r is not a number; define the guest again" % record["vcpus"])
    return record
