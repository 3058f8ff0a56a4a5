# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""snp_version test: `fw is coco.sev_snp.snp_version('1.55', '>=')`, in ansible.builtin.version's order."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    parse_version,
    version_satisfies,
)


def _is_version(value):
    try:
        parse_version(value)
    except SnpVersionError:
        return False
    return True


def is_old_order(version, operator):
    """The 0.1.0 call `snp_version('>=', '1.55')`: the version sits where the operator belongs.

    No operator is a version and no version is an operator, so the two orders cannot be
    confused: only a non-version followed by a version is read the old way.
    """
    return not _is_version(version) and _is_version(operator)


def snp_version(value, version, operator="eq"):
    """True when `value operator version` holds, e.g. snp_version('1.55', '1.51', '>=')."""
    if is_old_order(version, operator):
        Display().deprecated(
            "coco.sev_snp.snp_version(%r, %r) uses the old argument order (operator first); "
            "write snp_version(%r, %r), the order of ansible.builtin.version" % (version, operator, operator, version),
            # Release 0.1.0 took (operator, version); the swapped call works until 1.0.0.
            version="1.0.0", collection_name="coco.sev_snp")
        version, operator = operator, version
    try:
        return version_satisfies(value, operator, version)
    except SnpVersionError as exc:
        raise AnsibleError("snp_version: %s" % exc)


class TestModule(object):
    def tests(self):
        return {"snp_version": snp_version}
