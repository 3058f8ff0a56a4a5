# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attestation policy: what an SEV-SNP report must show beyond a valid signature.

Controller-side (used by attestation_verify; needs PyYAML, which Ansible itself needs).
The format (docs/examples/attestation-policy.yml is a complete example)::

    version: 1                      # required; the format version
    measurements: [<96 hex>, ...]   # allowed launch measurements (a rollout lists old and new)
    min_tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}   # fmc too on Turin
    guest_policy: {debug: false, migrate_ma: false, smt: true}  # required policy bits
    vmpl: 0                         # VMPL the report must have been requested at
    host_data: <64 hex>             # expected HOST_DATA
    products: [Milan, Genoa]        # allowed processor products

Every key but ``version`` is optional; an absent key checks nothing. Unknown keys, unknown
policy bit names and malformed values are errors, so a typo can never loosen a policy.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import re

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_roots
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_policy import POLICY_FLAGS
from ansible_collections.coco.sev_snp.plugins.module_utils import snp_report

__metaclass__ = type

FORMAT_VERSION = 1
MAX_POLICY_BYTES = 1024 * 1024
KEYS = ("version", "measurements", "min_tcb", "guest_policy", "vmpl", "host_data", "products")
TCB_COMPONENTS = ("fmc", "bootloader", "tee", "snp", "microcode")
# Bit 17 must be one in every policy; requiring it says nothing.
POLICY_BITS = tuple(name for name, _bit in POLICY_FLAGS if name != "reserved_must_be_one")


class PolicyError(ValueError):
    """The policy file is unusable; the message names the key and what to write instead."""


class PolicyViolation(Exception):
    """The report breaks the policy; ``check`` names the check (as attestation_verify does)."""

    def __init__(self, check, detail):
        super(PolicyViolation, self).__init__("%s: %s" % (check, detail))
        self.check = check
        self.detail = detail


def _hex(value, key, size):
    if not isinstance(value, str):
        raise PolicyError("%s: %r is not a quoted hex string of %d bytes (%d hex digits); quote it, since YAML "
                          "reads unquoted digits as a number" % (key, value, size, 2 * size))
    text = value.strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) != 2 * size or not re.match(r"^[0-9a-f]+$", text):
        raise PolicyError("%s: %r is not %d hex digits" % (key, value, 2 * size))
    return text


def _non_negative_int(value, key):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError("%s: %r is not a non-negative integer" % (key, value))
    return value


def parse(text, source="policy"):
    """The validated policy from YAML text, normalised (hex lower-case without 0x)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError("%s is not valid YAML: %s" % (source, exc))
    if not isinstance(data, dict):
        raise PolicyError("%s must be a mapping with 'version: %d' and the checks (measurements, min_tcb, "
                          "guest_policy, vmpl, host_data, products)" % (source, FORMAT_VERSION))
    unknown = sorted(str(key) for key in data if key not in KEYS)
    if unknown:
        raise PolicyError("%s has unknown key(s) %s; the keys are %s" % (source, ", ".join(unknown), ", ".join(KEYS)))
    # YAML's true and 1.0 compare equal to 1 in Python, and neither is the format number.
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise PolicyError("%s: version must be %d (the format this collection reads), got %r"
                          % (source, FORMAT_VERSION, data.get("version")))
    policy = {"version": FORMAT_VERSION}
    if "measurements" in data:
        values = data["measurements"]
        if not isinstance(values, list) or not values:
            raise PolicyError("measurements must be a non-empty list of launch measurements (96 hex digits each); "
                              "remove the key to check no measurement")
        policy["measurements"] = [_hex(value, "measurements[%d]" % index, 48) for index, value in enumerate(values)]
    if "min_tcb" in data:
        values = data["min_tcb"]
        if not isinstance(values, dict) or not values:
            raise PolicyError("min_tcb must be a mapping of TCB components (%s) to minimum levels"
                              % ", ".join(TCB_COMPONENTS))
        bad = sorted(str(key) for key in values if key not in TCB_COMPONENTS)
        if bad:
            raise PolicyError("min_tcb has unknown component(s) %s; use %s" % (", ".join(bad), ", ".join(TCB_COMPONENTS)))
        policy["min_tcb"] = dict((key, _non_negative_int(value, "min_tcb.%s" % key)) for key, value in values.items())
    if "guest_policy" in data:
        values = data["guest_policy"]
        if not isinstance(values, dict) or not values:
            raise PolicyError("guest_policy must be a mapping of policy bits (%s) to true or false"
                              % ", ".join(POLICY_BITS))
        bad = sorted(str(key) for key in values if key not in POLICY_BITS)
        if bad:
            raise PolicyError("guest_policy has unknown bit(s) %s; use %s" % (", ".join(bad), ", ".join(POLICY_BITS)))
        for key, value in values.items():
            if not isinstance(value, bool):
                raise PolicyError("guest_policy.%s: %r is not true or false" % (key, value))
        policy["guest_policy"] = dict(values)
    if "vmpl" in data:
        vmpl = _non_negative_int(data["vmpl"], "vmpl")
        if vmpl > 3:
            raise PolicyError("vmpl: %d is not a VMPL (0-3)" % vmpl)
        policy["vmpl"] = vmpl
    if "host_data" in data:
        policy["host_data"] = _hex(data["host_data"], "host_data", 32)
    if "products" in data:
        values = data["products"]
        known = sorted(amd_roots.PINNED_ARKS)
        if not isinstance(values, list) or not values or any(value not in known for value in values):
            raise PolicyError("products must be a non-empty list of %s, got %r" % (", ".join(known), values))
        policy["products"] = list(values)
    return policy


def load(path):
    """(policy, sha256 of the file) from a policy file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_POLICY_BYTES + 1)
    except (IOError, OSError, ValueError) as exc:
        # ValueError: a path with a NUL byte, which no file system can hold.
        raise PolicyError("cannot read policy %s: %s" % (path, getattr(exc, "strerror", None) or exc))
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError("policy %s is larger than %d bytes; that is not a policy file" % (path, MAX_POLICY_BYTES))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError("policy %s is not UTF-8 text" % path)
    return parse(text, "policy %s" % path), hashlib.sha256(raw).hexdigest()


def check(report, policy):
    """The names of the checks the parsed report passes; PolicyViolation at the first it fails.

    The check names are attestation_verify's (measurement, min_tcb, vmpl, host_data) plus
    ``guest policy`` and ``product``.
    """
    passed = []
    if "measurements" in policy:
        if report["measurement"] not in policy["measurements"]:
            raise PolicyViolation("measurement", "report has %s, which is not among the %d measurement(s) the policy "
                                  "allows" % (report["measurement"], len(policy["measurements"])))
        passed.append("measurement")
    if "products" in policy:
        if report["product"] not in policy["products"]:
            raise PolicyViolation("product", "the report comes from a %s processor; the policy allows %s"
                                  % (report["product"], ", ".join(policy["products"])))
        passed.append("product")
    if "min_tcb" in policy:
        shortfalls = snp_report.tcb_shortfalls(report["reported_tcb"], policy["min_tcb"], report["product"])
        if shortfalls:
            raise PolicyViolation("min_tcb", "reported TCB below the policy's minimum: %s" % "; ".join(shortfalls))
        passed.append("min_tcb")
    if "guest_policy" in policy:
        wrong = ["%s is %s, the policy requires %s" % (name, str(report["policy"][name]).lower(), str(wanted).lower())
                 for name, wanted in sorted(policy["guest_policy"].items()) if report["policy"][name] != wanted]
        if wrong:
            raise PolicyViolation("guest policy", "; ".join(wrong))
        passed.append("guest policy")
    if "vmpl" in policy:
        if report["vmpl"] != policy["vmpl"]:
            raise PolicyViolation("vmpl", "report was requested at VMPL %d, the policy requires %d"
                                  % (report["vmpl"], policy["vmpl"]))
        passed.append("vmpl")
    if "host_data" in policy:
        if report["host_data"] != policy["host_data"]:
            raise PolicyViolation("host_data", "report has %s, the policy requires %s"
                                  % (report["host_data"], policy["host_data"]))
        passed.append("host_data")
    return passed
