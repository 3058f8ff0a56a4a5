# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over Redfish BIOS attributes; documented in bios_*.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.bios import (
    DEFAULT_ASID_LIMIT,
    bios_problems as _bios_problems,
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


class FilterModule(object):
    def filters(self):
        return {
            "bios_problems": bios_problems,
            "bios_settings_for_snp": bios_settings_for_snp,
        }
