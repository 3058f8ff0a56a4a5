# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over Redfish BIOS attributes; documented in bios_*.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.bios import (
    DEFAULT_ASID_LIMIT,
    bios_problems as _bios_problems,
    bmc_failure,
    settings_for_snp,
)


def bios_problems(attributes, asid_limit=DEFAULT_ASID_LIMIT):
    """Redfish Bios.Attributes -> list of SEV-SNP problems; empty when every SNP setting is on."""
    try:
        return _bios_problems(attributes, asid_limit)
    except ValueError as exc:
        raise AnsibleFilterError("bios_problems: %s" % exc)


def bios_settings_for_snp(attributes, registry=None, asid_limit=DEFAULT_ASID_LIMIT):
    """Redfish Bios.Attributes -> {attribute: value} that fixes every problem bios_problems finds."""
    try:
        return settings_for_snp(attributes, registry, asid_limit)
    except ValueError as exc:
        raise AnsibleFilterError("bios_settings_for_snp: %s" % exc)


def bios_bmc_failure(error, address=""):
    """A failed Redfish result (or its message) -> the BMC failure problem, with its label and fix."""
    if isinstance(error, dict):
        # redfish_info puts the reason of a failed read under redfish_facts as well as (or instead of) msg.
        inner = ((error.get("redfish_facts") or {}).get("bios_attribute") or {}).get("msg") or ""
        error = " ".join(str(part) for part in (error.get("msg") or "", inner) if part)
    return bmc_failure(error, address)


class FilterModule(object):
    def filters(self):
        return {
            "bios_problems": bios_problems,
            "bios_bmc_failure": bios_bmc_failure,
            "bios_settings_for_snp": bios_settings_for_snp,
        }
