# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over the SEV-SNP guest policy; documented in snp_policy_*.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_policy import (
    decode_policy,
    encode_policy,
    validate_policy,
)


def snp_policy_decode(value):
    """Policy (int or hex string) -> dict of named fields."""
    try:
        return decode_policy(value)
    except ValueError as exc:
        raise AnsibleFilterError("snp_policy_decode: %s" % exc)


def snp_policy_encode(fields=None, **more):
    """Dict of named fields (and/or keyword arguments) -> policy integer; bit 17 always set."""
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise AnsibleFilterError(
            "snp_policy_encode expects a mapping of policy fields such as {'smt': true}, got %s"
            % type(fields).__name__)
    merged = dict(fields)
    merged.update(more)
    try:
        return encode_policy(**merged)
    except ValueError as exc:
        raise AnsibleFilterError("snp_policy_encode: %s" % exc)


def snp_policy_problems(value, allow_debug=False):
    """List of human-readable problems with a policy; empty when it is acceptable."""
    if not isinstance(allow_debug, bool):
        raise AnsibleFilterError("snp_policy_problems: allow_debug must be true or false, got %r" % (allow_debug,))
    return validate_policy(value, allow_debug=allow_debug)


class FilterModule(object):
    def filters(self):
        return {
            "snp_policy_decode": snp_policy_decode,
            "snp_policy_encode": snp_policy_encode,
            "snp_policy_problems": snp_policy_problems,
        }
