# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEV-SNP guest policy (the 64-bit GUEST_POLICY of AMD's SEV-SNP ABI, publication 56860).

Pure Python; shared by the policy filters, the guest definition and attestation.
"""

from __future__ import annotations

__all__ = ["POLICY_FLAGS", "POLICY_KNOWN_MASK", "decode_policy", "encode_policy", "validate_policy"]

# Single-bit flags, in ABI order. Bit 17 is reserved and the firmware rejects a policy
# without it, which is why encode_policy always sets it.
POLICY_FLAGS = (
    ("smt", 16),
    ("reserved_must_be_one", 17),
    ("migrate_ma", 18),
    ("debug", 19),
    ("single_socket", 20),
    ("cxl_allow", 21),
    ("mem_aes_256_xts", 22),
    ("rapl_dis", 23),
    ("ciphertext_hiding", 24),
    ("page_swap_disable", 25),
)
_RESERVED_ONE_BIT = 1 << 17
_HIGHEST_KNOWN_BIT = 25
POLICY_KNOWN_MASK = (1 << (_HIGHEST_KNOWN_BIT + 1)) - 1
_UINT64_MAX = (1 << 64) - 1


def _as_int(value):
    """Accept an int or a decimal / 0x-hex string, refuse everything else with a clear message."""
    if isinstance(value, bool):
        raise ValueError("SEV-SNP policy must be an integer or a hex string like '0x30000', not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text, 0)
        except ValueError:
            raise ValueError(
                "SEV-SNP policy %r is not a number; write it as an integer or a hex string like '0x30000'" % value
            )
    raise ValueError(
        "SEV-SNP policy must be an integer or a hex string like '0x30000', not %s" % type(value).__name__
    )


def decode_policy(value):
    """Split a policy value into its named fields.

    ``unknown_bits`` is the integer of every set bit above bit 25 (0 when there is none).
    """
    number = _as_int(value)
    if number < 0 or number > _UINT64_MAX:
        raise ValueError("SEV-SNP policy %#x is outside the 64-bit range" % number)
    fields = {
        "abi_minor": number & 0xFF,
        "abi_major": (number >> 8) & 0xFF,
    }
    for name, bit in POLICY_FLAGS:
        fields[name] = bool(number >> bit & 1)
    fields["unknown_bits"] = number & ~POLICY_KNOWN_MASK
    return fields


def encode_policy(**fields):
    """Inverse of decode_policy; the reserved bit 17 is always set.

    Unknown field names are refused so a typo cannot silently produce a weaker policy.
    """
    known = set(name for name, _bit in POLICY_FLAGS) | {"abi_minor", "abi_major", "unknown_bits"}
    unexpected = sorted(set(fields) - known)
    if unexpected:
        raise ValueError(
            "unknown SEV-SNP policy field(s) %s; valid fields are %s"
            % (", ".join(unexpected), ", ".join(sorted(known)))
        )
    number = _RESERVED_ONE_BIT
    for name in ("abi_minor", "abi_major"):
        part = fields.get(name, 0)
        if isinstance(part, bool) or not isinstance(part, int) or not 0 <= part <= 0xFF:
            raise ValueError("SEV-SNP policy field %s must be an integer 0..255, got %r" % (name, part))
    number |= fields.get("abi_minor", 0)
    number |= fields.get("abi_major", 0) << 8
    for name, bit in POLICY_FLAGS:
        if fields.get(name):
            number |= 1 << bit
    extra = fields.get("unknown_bits", 0) or 0
    if not isinstance(extra, int) or extra < 0 or extra & POLICY_KNOWN_MASK or extra > _UINT64_MAX:
        raise ValueError("unknown_bits must be a non-negative 64-bit integer with no bit at or below 25 set")
    return number | extra


def validate_policy(value, allow_debug=False):
    """Human-readable problems with a policy; an empty list means it is acceptable."""
    try:
        number = _as_int(value)
    except ValueError as exc:
        return [str(exc)]
    if number < 0 or number > _UINT64_MAX:
        return ["SEV-SNP policy %#x is outside the 64-bit range (0 .. 0xffffffffffffffff)" % number]
    errors = []
    if not number & _RESERVED_ONE_BIT:
        errors.append(
            "bit 17 (reserved, must be one) is clear in %#x; the firmware rejects such a policy - use %#x"
            % (number, number | _RESERVED_ONE_BIT)
        )
    if number >> 19 & 1 and not allow_debug:
        errors.append(
            "bit 19 (debug) is set in %#x: the hypervisor could read guest memory; clear it or allow debug explicitly"
            % number
        )
    unknown = number & ~POLICY_KNOWN_MASK
    if unknown:
        errors.append(
            "bits above 25 are reserved and must be zero, but %#x has %#x set" % (number, unknown)
        )
    return errors
