# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape every verdict in this collection reports a problem in.

A problem is ``{id, severity, message, fix}``: a stable id to filter and count on, whether it
blocks (error) or only informs (warning), what was seen, and what to do about it. Host
readiness, guest checks and libvirt domain capabilities all use it, so the fleet report, the
gates and the console print every one of them the same way.
"""

from __future__ import annotations

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)


def problem(problem_id, severity, message, fix):
    """One problem; a severity other than error or warning is a programming error."""
    if severity not in SEVERITIES:
        raise ValueError("severity must be one of %s, got %r" % (", ".join(SEVERITIES), severity))
    return {"id": problem_id, "severity": severity, "message": message, "fix": fix}


def blocking(problems):
    """The problems that stop a host or guest: the error-severity ones."""
    return [p for p in problems if p.get("severity") == ERROR]


def ordered_unique(problems, order):
    """Problems sorted by their id's place in ``order`` (unknown ids last), first of each id kept."""
    rank = dict((pid, index) for index, pid in enumerate(order))
    seen = set()
    unique = []
    for item in sorted(problems, key=lambda p: rank.get(p["id"], len(rank))):
        if item["id"] not in seen:
            seen.add(item["id"])
            unique.append(item)
    return unique


def problem_lines(problems):
    """One line per problem: ``id: message Fix: fix``."""
    return ["%s: %s Fix: %s" % (p["id"], p["message"], p["fix"]) for p in problems]
