# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""libvirt domain capabilities (``virsh domcapabilities``) as far as SEV-SNP cares.

Pure Python, stdlib only; runs on the managed host. The parser takes text and never
touches the filesystem; ``snp_problems`` turns the parsed capabilities into the reasons a
host cannot run SEV-SNP guests, each with the fix an operator can act on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["DomainCapabilitiesError", "parse_domain_capabilities", "snp_problems", "snp_supported", "snp_warnings"]

# libvirt added the sev-snp launch security type (and the <launchSecurity> enum in
# domain capabilities) in release 10.5.
SNP_MIN_LIBVIRT = "10.5"

_DOCUMENT_START = re.compile(r"<domainCapabilities[\s>]")
_SEV_FRAGMENT = re.compile(r"<sev[\s>].*?</sev>|<sev\s[^>]*/>", re.S)


class DomainCapabilitiesError(ValueError):
    """The text is not domain capabilities XML."""


def _int_or_none(text):
    if text is None:
        return None
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def _supported(element):
    """Tri-state: True / False from supported='yes'/'no', None when the element is absent."""
    if element is None:
        return None
    return element.get("supported") == "yes"


def _parse_sev(sev):
    if sev is None:
        return None
    return {
        "supported": _supported(sev),
        "cbitpos": _int_or_none(sev.findtext("cbitpos")),
        "reduced_phys_bits": _int_or_none(sev.findtext("reducedPhysBits")),
        "max_guests": _int_or_none(sev.findtext("maxGuests")),
        "max_es_guests": _int_or_none(sev.findtext("maxESGuests")),
        "cpu0_id": (sev.findtext("cpu0Id") or "").strip() or None,
    }


def _enum_values(parent, name):
    if parent is None:
        return []
    for enum in parent.findall("enum"):
        if enum.get("name") == name:
            return [(value.text or "").strip() for value in enum.findall("value")]
    return []


def _parse_document(root):
    features = root.find("features")
    os_element = root.find("os")
    loader = os_element.find("loader") if os_element is not None else None
    launch = features.find("launchSecurity") if features is not None else None
    host_model = None
    for mode in root.findall("cpu/mode"):
        if mode.get("name") == "host-model" and mode.get("supported") == "yes":
            host_model = (mode.findtext("model") or "").strip() or None
    return {
        "complete": True,
        "path": (root.findtext("path") or "").strip() or None,
        "domain": (root.findtext("domain") or "").strip() or None,
        "machine": (root.findtext("machine") or "").strip() or None,
        "arch": (root.findtext("arch") or "").strip() or None,
        "host_cpu_model": host_model,
        "firmware_loaders": [(v.text or "").strip() for v in loader.findall("value")] if loader is not None else [],
        "sev": _parse_sev(features.find("sev") if features is not None else None),
        "launch_security": None if launch is None else {
            "supported": _supported(launch),
            "sectypes": _enum_values(launch, "sectype"),
        },
    }


def parse_domain_capabilities(text):
    """Parse ``virsh domcapabilities`` output into a dict.

    Leading noise (a shell prompt, a pasted command line) is skipped. A lone ``<sev>``
    element, as ``xmllint --xpath /domainCapabilities/features/sev`` prints it, is
    accepted too; the result then has ``complete: false`` because launch security types
    are unknown.
    """
    if not isinstance(text, str) or not text.strip():
        raise DomainCapabilitiesError("domain capabilities are empty; expected the output of 'virsh domcapabilities'")
    start = _DOCUMENT_START.search(text)
    try:
        if start is not None:
            return _parse_document(ET.fromstring(text[start.start():].strip()))
        fragment = _SEV_FRAGMENT.search(text)
        if fragment is not None:
            parsed = {
                "complete": False, "path": None, "domain": None, "machine": None, "arch": None,
                "host_cpu_model": None, "firmware_loaders": [], "launch_security": None,
            }
            parsed["sev"] = _parse_sev(ET.fromstring(fragment.group(0)))
            return parsed
    except ET.ParseError as exc:
        raise DomainCapabilitiesError("domain capabilities are not well-formed XML (%s)" % exc)
    raise DomainCapabilitiesError(
        "no <domainCapabilities> document found; expected the output of 'virsh domcapabilities'"
    )


def snp_problems(caps):
    """Reasons this libvirt/QEMU/host combination cannot launch SEV-SNP guests ([] = it can)."""
    problems = []
    where = " for %s" % caps["path"] if caps.get("path") else ""
    sev = caps.get("sev")
    if sev is None:
        problems.append(
            "domain capabilities%s have no <sev> element: this QEMU/libvirt does not report AMD SEV at all; "
            "install a SEV-capable QEMU and libvirt (libvirt %s or newer for SEV-SNP)" % (where, SNP_MIN_LIBVIRT)
        )
    elif not sev["supported"]:
        problems.append(
            "<sev supported='no'>%s: the host offers no AMD SEV to guests; check that the CPU is an AMD EPYC, "
            "SEV is enabled in the firmware setup, kvm_amd has sev=1 and /dev/sev exists" % where
        )
    launch = caps.get("launch_security")
    if launch is None:
        if caps.get("complete", True):
            problems.append(
                "domain capabilities%s list no <launchSecurity> types: libvirt older than %s cannot define "
                "SEV-SNP guests; upgrade libvirt" % (where, SNP_MIN_LIBVIRT)
            )
        else:
            problems.append(
                "only the <sev> element was given, so whether 'sev-snp' is a launchSecurity type is unknown; "
                "pass the complete 'virsh domcapabilities' output"
            )
    elif "sev-snp" not in launch["sectypes"]:
        offered = ", ".join(launch["sectypes"]) or "none"
        problems.append(
            "'sev-snp' is not among the launchSecurity types%s (offered: %s): QEMU, libvirt or the host kernel "
            "does not support SEV-SNP here; the host needs an SNP-enabled kernel (kvm_amd sev_snp=Y) and "
            "QEMU 9.1 or newer" % (where, offered)
        )
    return problems


def snp_warnings(caps):
    """Signs that SEV-SNP guests may fail to start although libvirt would define them.

    libvirt derives maxESGuests from CPUID 0x8000001F on the host and reports 0 when it
    cannot read it, so 0 is a warning, not a verdict.
    """
    warnings = []
    sev = caps.get("sev")
    if sev and sev["supported"] and sev.get("max_es_guests") == 0:
        where = " for %s" % caps["path"] if caps.get("path") else ""
        warnings.append(
            "maxESGuests is 0%s: SEV-SNP guests use the SEV-ES ASID range, which looks empty; raise the "
            "'SEV-ES ASID Space Limit' (minimum SEV non-ES ASID) in the firmware setup" % where
        )
    return warnings


def snp_supported(caps):
    return not snp_problems(caps)
