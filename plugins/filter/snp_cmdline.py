# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one list of kernel options for SEV-SNP hosts, for roles and playbooks."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import OptionError
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import grub_options

_VARIABLES = ("GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX")


def snp_cmdline_options(variable, extra=None):
    """Options for one GRUB variable: the collection's list plus the operator's extra options."""
    if variable not in _VARIABLES:
        raise AnsibleFilterError("snp_cmdline_options: expected GRUB_CMDLINE_LINUX_DEFAULT or GRUB_CMDLINE_LINUX, "
                                 "got %r" % (variable,))
    if extra is not None and not isinstance(extra, (list, tuple)):
        raise AnsibleFilterError("snp_cmdline_options: extra must be a list of options, got %s"
                                 % type(extra).__name__)
    try:
        return grub_options(extra or [])[variable]
    except OptionError as exc:
        raise AnsibleFilterError("snp_cmdline_options: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"snp_cmdline_options": snp_cmdline_options}
