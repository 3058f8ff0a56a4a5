# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel command line an SEV-SNP host needs: the one list of what this collection sets
and what it removes.

The sev_snp_host role edits /etc/default/grub with these options (through host_config's
extra_options, grub_options below, which the snp_cmdline_options filter shares), and coco.sev_snp.host_facts
checks the configured and the running command line against the same options, so the
verdict and the edit cannot drift apart.

Conflicts are matched the way the kernel parses the parameters (see cmdline.py, ``match``):
``iommu=`` and ``amd_iommu=`` take comma-separated lists (arch/x86/kernel/pci-dma.c
iommu_setup, drivers/iommu/amd/init.c parse_amd_iommu_options), ``iommu.passthrough=`` is a
kstrtobool boolean (drivers/iommu/iommu.c iommu_set_def_domain_type).
"""

from __future__ import annotations

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import kernel_bool, validate_options

# SUSE kernels default to passthrough (CONFIG_IOMMU_DEFAULT_PASSTHROUGH=y), where AMD-Vi
# refuses SNP; iommu=nopt makes the default domain translated.
REQUIRED = (
    {"name": "iommu", "value": "nopt", "state": "present", "match": "exact"},
)

# Options that put the IOMMU in passthrough or turn it off; each makes SNP impossible.
CONFLICTS = (
    {"name": "iommu", "value": "pt", "state": "absent", "match": "list"},
    # x86 iommu=off sets no_iommu, which also keeps the AMD IOMMU driver from starting.
    {"name": "iommu", "value": "off", "state": "absent", "match": "list"},
    {"name": "iommu.passthrough", "value": "1", "state": "absent", "match": "bool"},
    {"name": "amd_iommu", "value": "off", "state": "absent", "match": "list"},
)


def _copy(options):
    return [dict(option) for option in options]


def default_options(extra=()):
    """Options for GRUB_CMDLINE_LINUX_DEFAULT (and what the running kernel must show):
    iommu=nopt first, so that it takes the place of an existing iommu=pt, then the conflicts
    removed, then the operator's extra options."""
    return _copy(REQUIRED) + _copy(CONFLICTS) + _copy(extra)


def linux_options(extra=()):
    """Options for GRUB_CMDLINE_LINUX (also used by recovery entries): only the conflicts go."""
    return _copy(CONFLICTS) + [dict(o) for o in extra if o.get("state", "present") == "absent"]


def grub_options(extra=()):
    """{GRUB variable: its options}, validated: the collection's list plus the operator's extra
    options (validated first, so a bad one is named as given). Raises cmdline.OptionError. The
    filter snp_cmdline_options and host_config's extra_options both take the options from here."""
    extra = validate_options(list(extra))
    return {
        "GRUB_CMDLINE_LINUX_DEFAULT": validate_options(default_options(extra)),
        "GRUB_CMDLINE_LINUX": validate_options(linux_options(extra)),
    }


def options_from_tokens(required=(), forbidden=()):
    """Option dicts from plain token lists such as ["iommu=nopt"] / ["iommu=pt"] (exact match)."""
    options = []
    for state, tokens in (("present", required), ("absent", forbidden)):
        for token in tokens:
            name, _sep, value = token.partition("=")
            options.append({"name": name, "value": value if _sep else None, "state": state, "match": "exact"})
    return options


def describe(option):
    """How an option reads in a message: iommu=nopt, no iommu=pt, no iommu.passthrough=<true>."""
    match = option.get("match") or "exact"
    value = option.get("value")
    text = option["name"] if value is None else "%s=%s" % (option["name"], value)
    if match == "bool":
        text = "%s=<%s>" % (option["name"], "1, y, on or true" if kernel_bool(value) else "0, n, off or false")
    elif match == "list":
        text = "%s (also inside a comma list)" % text
    return text if option.get("state", "present") == "present" else "no " + text
