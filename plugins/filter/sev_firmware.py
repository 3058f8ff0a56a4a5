# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sev_firmware_files: the SEV firmware file names the kernel tries for a CPU, in its order."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.sev_firmware import (
    FirmwareInputError,
    firmware_names,
)


def sev_firmware_files(cpu):
    """{'family': 25, 'model': 1} -> ['amd/amd_sev_fam19h_model01h.sbin', 'amd/amd_sev_fam19h_model0xh.sbin',
    'amd/sev.fw']."""
    if not isinstance(cpu, Mapping):
        raise AnsibleFilterError(
            "sev_firmware_files: give a mapping with the integer keys family and model (as "
            "ansible_facts.sev_snp.cpu has them), got %s." % type(cpu).__name__)
    missing = [key for key in ("family", "model") if key not in cpu]
    if missing:
        raise AnsibleFilterError(
            "sev_firmware_files: the mapping has no %s; give family and model as /proc/cpuinfo prints them "
            "('cpu family' and 'model', decimal)." % " and no ".join(missing))
    try:
        return firmware_names(cpu["family"], cpu["model"])
    except FirmwareInputError as exc:
        raise AnsibleFilterError("sev_firmware_files: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"sev_firmware_files": sev_firmware_files}
