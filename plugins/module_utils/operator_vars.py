# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's variable names, and the judgement of the names an operator gave.

One place for the names the playbooks read (each playbook's header documents its own; a unit
test keeps both in step), the names the collection sets itself (registered results and facts:
never the operator's typo) and the deprecated names with their replacements. The role options
come from each role's meta/argument_specs.yml, read by the action plugin coco.sev_snp.check_vars.
"""

from __future__ import absolute_import, division, print_function

import difflib

__metaclass__ = type

PREFIX = "sev_snp_"

# Variables the playbooks read besides the roles' options: {name: playbooks that read it}.
PLAYBOOK_VARS = {
    "sev_snp_target": ("attest_guest", "attest_host", "bios", "check_guest", "check_host", "define_guest",
                       "enable_host"),
    "sev_snp_become": ("check_host", "enable_host"),
    "sev_snp_serial": ("bios", "enable_host"),
    "sev_snp_allow_pending_reboot": ("enable_host",),
    "sev_snp_report_dir": ("check_host",),
    "sev_snp_report_keep": ("check_host",),
    "sev_snp_gate": ("check_host",),
    "sev_snp_min_snp_api": ("check_host", "enable_host"),
    "sev_snp_min_snp_build": ("check_host", "enable_host"),
    "sev_snp_gate_ignore": ("check_host", "enable_host"),
    "sev_snp_kernel_flavour": ("check_host",),
    "sev_snp_check_bios": ("check_host",),
}

# Registered results and facts the playbooks and roles set (and host_facts/guest_facts inject).
SET_BY_COLLECTION = frozenset((
    "sev_snp_attest_kds",
    "sev_snp_attest_measurement_source",
    "sev_snp_attest_result",
    "sev_snp_attest_snpguest_result",
    "sev_snp_bios_changes",
    "sev_snp_bios_check",
    "sev_snp_bios_problems",
    "sev_snp_bios_ready",
    "sev_snp_bios_reset_required",
    "sev_snp_guest",
    "sev_snp_guest_definition",
    "sev_snp_host_attest_ok",
    "sev_snp_host_attest_verify",
    "sev_snp_host_changed",
    "sev_snp_host_facts_result",
    "sev_snp_host_ready",
    "sev_snp_host_reboot_pending_reason",
    "sev_snp_host_reboot_reasons",
    "sev_snp_host_reboot_required",
    "sev_snp_host_rebooted",
    "sev_snp_report",
))

# Old name -> new name; the old names still work until coco.sev_snp 1.0.0 (the next major release).
DEPRECATED = {
    "sev_snp_host_min_snp_api": "sev_snp_min_snp_api",
    "sev_snp_host_min_snp_build": "sev_snp_min_snp_build",
    "sev_snp_host_gate_ignore": "sev_snp_gate_ignore",
}


def own_names(names):
    """The names of ``names`` in the collection's namespace, sorted."""
    return sorted(name for name in names if isinstance(name, str) and name.startswith(PREFIX))


def suggestion(name, known):
    """The known name closest to ``name``, or None when none is close."""
    # A dropped role prefix (sev_snp_reboot_ok for sev_snp_host_reboot_ok) is the typo operators
    # make most: difflib rates it low because the names differ in length.
    tail = name[len(PREFIX):]
    by_tail = sorted(candidate for candidate in known if candidate.endswith("_" + tail))
    if len(by_tail) == 1:
        return by_tail[0]
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return close[0] if close else None


def judge(names_by_source, known):
    """Judge the operator's names.

    names_by_source: {source label: iterable of variable names}, e.g. {"extra vars": [...],
    "inventory of host1": [...]}. known: every name the collection reads or sets.
    Returns (unknown, deprecated): unknown is a sorted list of (name, sources, suggestion),
    deprecated a sorted list of (old name, new name).
    """
    unknown = {}
    deprecated = set()
    for source, names in names_by_source.items():
        for name in own_names(names):
            if name in DEPRECATED:
                deprecated.add((name, DEPRECATED[name]))
            elif name not in known:
                unknown.setdefault(name, []).append(source)
    return ([(name, sorted(sources), suggestion(name, known)) for name, sources in sorted(unknown.items())],
            sorted(deprecated))


def summarise_sources(sources, limit=3):
    """'host1, host2, host3 and 7 more' for long lists of sources."""
    if len(sources) <= limit:
        return ", ".join(sources)
    return "%s and %d more" % (", ".join(sources[:limit]), len(sources) - limit)


def unknown_message(unknown):
    """One line per unknown name, with where it was set and the name it probably meant."""
    lines = ["%d variable%s in the coco.sev_snp namespace %s not read by any of its playbooks or roles "
             "(a typo is silently ignored by Ansible):" % (
                 len(unknown), "" if len(unknown) == 1 else "s", "is" if len(unknown) == 1 else "are")]
    for name, sources, close in unknown:
        lines.append("- %s (set in %s): %s" % (
            name, summarise_sources(sources),
            "did you mean %s?" % close if close else "no similar name; remove it or check the role's "
            "documentation (ansible-doc -t role coco.sev_snp.<role>)"))
    return "\n".join(lines)


def deprecation_message(old, new):
    # Ansible appends the version it goes away in.
    return "%s is now %s (the same name check_host uses); rename it, the old name still works for now." % (old, new)


def target_message(pattern, groups):
    """Why a target pattern that matches no host stops the run, and what exists instead."""
    names = sorted(group for group in groups if group not in ("all", "ungrouped"))
    close = difflib.get_close_matches(pattern, names, n=1, cutoff=0.6)
    return ("The host pattern %r (sev_snp_target, or the playbook's default group) matches no host of the "
            "inventory, so nothing would run and an older report would look current. %s%s Give an existing "
            "group or host with -e sev_snp_target=PATTERN, or fix the inventory (-i)." % (
                pattern,
                "Did you mean %s? " % close[0] if close else "",
                "Groups in this inventory: %s." % ", ".join(names) if names else "The inventory has no groups."))
