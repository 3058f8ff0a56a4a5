# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""snp_version_compare: SEV firmware versions compared as numbers (1.9 < 1.51 < 1.55)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    compare_versions,
    version_satisfies,
)


def snp_version_compare(left, right, operator=None):
    """Without operator: -1, 0 or 1. With operator ('<', '>=', ...): True or False."""
    try:
        if operator is None:
            return compare_versions(left, right)
        return version_satisfies(left, operator, right)
    except SnpVersionError as exc:
        raise AnsibleFilterError("snp_version_compare: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"snp_version_compare": snp_version_compare}
