# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Layout of the SEV-SNP ATTESTATION_REPORT (AMD SEV-SNP ABI, publication 56860, table 23).

Pure Python, stdlib only: it takes bytes and returns plain dicts, so it runs on the
controller and on a managed host alike.
"""

from __future__ import annotations

import binascii
import struct

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_policy import decode_policy

REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SIGNATURE_R_OFFSET = 0x2A0
SIGNATURE_S_OFFSET = 0x2E8
SIGNATURE_COMPONENT_SIZE = 72
SIG_ALGO_ECDSA_P384_SHA384 = 1

SIGNING_KEYS = {0: "VCEK", 1: "VLEK", 7: "NONE"}

# Products in KDS spelling. Siena and Bergamo are served under Genoa.
PRODUCTS = ("Milan", "Genoa", "Turin")
# Turin moved the TCB fields and added FMC; later generations keep the Turin layout.
_TURIN_LAYOUT_PRODUCTS = ("Turin",)

_PLATFORM_INFO_BITS = (
    ("smt_enabled", 0),
    ("tsme_enabled", 1),
    ("ecc_enabled", 2),
    ("rapl_disabled", 3),
    ("ciphertext_hiding_enabled", 4),
    ("alias_check_complete", 5),
)


class ReportError(ValueError):
    """The bytes are not an attestation report this module understands."""


def _hex(data):
    return binascii.hexlify(data).decode("ascii")


def product_from_cpuid(family, model):
    """KDS product name for a CPUID family/model pair, or None when unknown."""
    if family == 0x19:
        if model <= 0x0F:
            return "Milan"
        if 0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF:
            return "Genoa"
    if family == 0x1A and model <= 0x11:
        return "Turin"
    return None


def uses_turin_tcb_layout(product):
    return product in _TURIN_LAYOUT_PRODUCTS


def decode_tcb(raw, product=None):
    """Split a 64-bit TCB_VERSION into its security patch levels.

    Milan/Genoa: byte 0 bootloader, 1 TEE, 6 SNP, 7 microcode.
    Turin: byte 0 FMC, 1 bootloader, 2 TEE, 3 SNP, 7 microcode.
    """
    data = struct.pack("<Q", raw)
    if uses_turin_tcb_layout(product):
        return {"fmc": data[0], "bootloader": data[1], "tee": data[2], "snp": data[3],
                "microcode": data[7], "raw": raw}
    return {"fmc": None, "bootloader": data[0], "tee": data[1], "snp": data[6],
            "microcode": data[7], "raw": raw}


def encode_tcb(tcb, product=None):
    """Inverse of decode_tcb (missing levels count as 0)."""
    values = dict((key, tcb_level_value(key, tcb.get(key) or 0)) for key in ("fmc", "bootloader", "tee", "snp", "microcode"))
    if uses_turin_tcb_layout(product):
        data = bytes([values["fmc"], values["bootloader"], values["tee"], values["snp"], 0, 0, 0, values["microcode"]])
    else:
        data = bytes([values["bootloader"], values["tee"], 0, 0, 0, 0, values["snp"], values["microcode"]])
    return struct.unpack("<Q", data)[0]


def tcb_levels(product):
    """The TCB components that matter for a product, in KDS query order."""
    if uses_turin_tcb_layout(product):
        return ("fmc", "bootloader", "tee", "snp", "microcode")
    return ("bootloader", "tee", "snp", "microcode")


def tcb_shortfalls(actual, minimum, product=None):
    """Components where ``actual`` is below ``minimum``, as readable strings."""
    problems = []
    for level in tcb_levels(product):
        wanted = minimum.get(level)
        if wanted is None:
            continue
        have = actual.get(level)
        if have is None or have < int(wanted):
            problems.append("%s %s < %s" % (level, have, wanted))
    return problems


def decode_platform_info(raw):
    fields = dict((name, bool(raw >> bit & 1)) for name, bit in _PLATFORM_INFO_BITS)
    fields["raw"] = raw
    return fields


def decode_key_info(raw):
    signing = raw >> 2 & 0x7
    return {
        "author_key_en": bool(raw & 1),
        "mask_chip_key": bool(raw >> 1 & 1),
        "signing_key": SIGNING_KEYS.get(signing, "reserved(%d)" % signing),
        "raw": raw,
    }


def signature_components(data):
    """(r, s) as integers; the report stores them little-endian, zero-padded to 72 bytes."""
    r_bytes = data[SIGNATURE_R_OFFSET:SIGNATURE_R_OFFSET + SIGNATURE_COMPONENT_SIZE]
    s_bytes = data[SIGNATURE_S_OFFSET:SIGNATURE_S_OFFSET + SIGNATURE_COMPONENT_SIZE]
    return int.from_bytes(r_bytes, "little"), int.from_bytes(s_bytes, "little")


def parse_report(data, product=None):
    """Decode every field of an attestation report.

    ``product`` is only consulted when the report itself cannot say (version 2 has no
    CPUID fields); a version 3+ report that names a different product than the caller
    is an error, because the TCB layout and the certificate chain depend on it.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise ReportError("attestation report must be bytes")
    if len(data) != REPORT_SIZE:
        raise ReportError(
            "attestation report is %d bytes, expected %d (0x4A0); is this the binary report, not hex or JSON?"
            % (len(data), REPORT_SIZE)
        )
    data = bytes(data)
    version, guest_svn, policy = struct.unpack_from("<IIQ", data, 0x00)
    if version < 2:
        raise ReportError("attestation report version %d is not supported (need 2 or later)" % version)
    vmpl, sig_algo, current_tcb, platform_info, key_info = struct.unpack_from("<IIQQI", data, 0x30)
    reported_tcb = struct.unpack_from("<Q", data, 0x180)[0]
    committed_tcb = struct.unpack_from("<Q", data, 0x1E0)[0]
    launch_tcb = struct.unpack_from("<Q", data, 0x1F0)[0]

    cpuid = None
    report_product = None
    if version >= 3:
        family, model, stepping = data[0x188], data[0x189], data[0x18A]
        cpuid = {"family": family, "model": model, "stepping": stepping}
        report_product = product_from_cpuid(family, model)
        if report_product is None:
            raise ReportError(
                "report names CPUID family %#x model %#x, which is not a known SEV-SNP product" % (family, model)
            )
        if product and product != report_product:
            raise ReportError(
                "report was produced on a %s (CPUID family %#x model %#x), not on a %s"
                % (report_product, family, model, product)
            )
    effective_product = report_product or product
    if effective_product is not None and effective_product not in PRODUCTS:
        raise ReportError("unknown product %r; expected one of %s" % (effective_product, ", ".join(PRODUCTS)))

    r_value, s_value = signature_components(data)
    parsed = {
        "version": version,
        "guest_svn": guest_svn,
        "policy": decode_policy(policy),
        "policy_raw": policy,
        "family_id": _hex(data[0x10:0x20]),
        "image_id": _hex(data[0x20:0x30]),
        "vmpl": vmpl,
        "signature_algo": sig_algo,
        "current_tcb": decode_tcb(current_tcb, effective_product),
        "platform_info": decode_platform_info(platform_info),
        "key_info": decode_key_info(key_info),
        "report_data": _hex(data[0x50:0x90]),
        "measurement": _hex(data[0x90:0xC0]),
        "host_data": _hex(data[0xC0:0xE0]),
        "id_key_digest": _hex(data[0xE0:0x110]),
        "author_key_digest": _hex(data[0x110:0x140]),
        "report_id": _hex(data[0x140:0x160]),
        "report_id_ma": _hex(data[0x160:0x180]),
        "reported_tcb": decode_tcb(reported_tcb, effective_product),
        "cpuid": cpuid,
        "chip_id": _hex(data[0x1A0:0x1E0]),
        "committed_tcb": decode_tcb(committed_tcb, effective_product),
        "current_version": {"major": data[0x1EA], "minor": data[0x1E9], "build": data[0x1E8]},
        "committed_version": {"major": data[0x1EE], "minor": data[0x1ED], "build": data[0x1EC]},
        "launch_tcb": decode_tcb(launch_tcb, effective_product),
        "product": effective_product,
        "signature": {"r": "%x" % r_value, "s": "%x" % s_value},
    }
    if version >= 5:
        parsed["launch_mit_vector"], parsed["current_mit_vector"] = struct.unpack_from("<QQ", data, 0x1F8)
    return parsed


def kds_hwid(chip_id_hex, product):
    """The hardware ID KDS expects in the VCEK URL: Turin uses only the first 8 bytes."""
    if uses_turin_tcb_layout(product):
        return chip_id_hex[:16]
    return chip_id_hex


KDS_DEFAULT_BASE_URL = "https://kdsintf.amd.com"
_KDS_QUERY_NAMES = (("fmc", "fmcSPL"), ("bootloader", "blSPL"), ("tee", "teeSPL"), ("snp", "snpSPL"),
                    ("microcode", "ucodeSPL"))


def kds_chain_path(product, signing_key="VCEK"):
    """KDS path of the ASK+ARK (VCEK) or ASVK+ARK (VLEK) bundle."""
    return "/%s/v1/%s/cert_chain" % ("vlek" if signing_key == "VLEK" else "vcek", product)


def kds_vcek_path(product, chip_id_hex, tcb):
    """KDS path of the VCEK for one chip and TCB, spelled as snpguest spells it.

    Turin identifies the chip by the first 8 bytes of CHIP_ID and adds fmcSPL.
    """
    if product not in PRODUCTS:
        raise ReportError("unknown product %r; expected one of %s" % (product, ", ".join(PRODUCTS)))
    hwid = kds_hwid(chip_id_hex.lower(), product)
    if set(hwid) == {"0"}:
        raise ReportError("the chip id is all zeros (the guest masked it); KDS cannot serve a VCEK for it")
    try:
        binascii.unhexlify(hwid)
    except (binascii.Error, ValueError):
        raise ReportError("chip id %r is not hex" % chip_id_hex)
    expected_len = 16 if uses_turin_tcb_layout(product) else 128
    if len(hwid) != expected_len:
        raise ReportError("chip id for %s must be %d hex digits, got %d" % (product, expected_len, len(hwid)))
    query = []
    for level, name in _KDS_QUERY_NAMES:
        if level == "fmc" and not uses_turin_tcb_layout(product):
            continue
        value = tcb.get(level)
        if value is None:
            raise ReportError("TCB for %s needs %s (%s)" % (product, level, name))
        query.append("%s=%02d" % (name, tcb_level_value(level, value)))
    return "/vcek/v1/%s/%s?%s" % (product, hwid, "&".join(query))


def tcb_level_value(level, value):
    """A security patch level as an int; each is one byte of TCB_VERSION, so 0..255."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(value)
        number = int(value)
    except ValueError:
        raise ReportError("TCB level %s must be an integer 0..255, got %r" % (level, value))
    if not 0 <= number <= 0xFF:
        raise ReportError("TCB level %s must be 0..255 (one byte of TCB_VERSION), got %d" % (level, number))
    return number


def vcek_cache_name(product, chip_id_hex, tcb):
    """File name that identifies a VCEK: it never changes for a product, chip and TCB."""
    hwid = kds_hwid(chip_id_hex.lower(), product)
    levels = "_".join("%s%d" % (level, tcb_level_value(level, tcb[level])) for level in tcb_levels(product))
    return "vcek_%s_%s.der" % (hwid, levels)
