# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""snp_version test: `fw is coco.sev_snp.snp_version('>=', '1.55')`."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    version_satisfies,
)


def snp_version(value, operator, other):
    try:
        return version_satisfies(value, operator, other)
    except SnpVersionError as exc:
        raise AnsibleError("snp_version: %s" % exc)


class TestModule(object):
    def tests(self):
        return {"snp_version": snp_version}
