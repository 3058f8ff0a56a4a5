# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for AMD's key hierarchy and the PSP, which cannot exist in a test run.

Builds certificates shaped like KDS's (RSA-PSS/SHA-384 ARK and ASK or ASVK, a P-384 VCEK or
VLEK carrying AMD's TCB, hwID and product-name extensions) and attestation reports signed
the way the PSP signs them. Keys are cached for the whole session: RSA generation is slow.
"""
import datetime
import functools
import struct

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, snp_report

AMD_OID = "1.3.6.1.4.1.3704.1."
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
NOW = datetime.datetime.now(datetime.timezone.utc)


@functools.lru_cache(maxsize=None)
def rsa_key(label, key_size=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=key_size)


@functools.lru_cache(maxsize=None)
def p384_key(label):
    return ec.generate_private_key(ec.SECP384R1())


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Engineering"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Santa Clara"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Advanced Micro Devices"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _der_integer(value):
    body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return bytes([0x02, len(body)]) + body


def _der_ia5(text):
    body = text.encode("ascii")
    return bytes([0x16, len(body)]) + body


def _builder(subject, issuer, public_key, not_before=None, days=3650):
    not_before = not_before or NOW - datetime.timedelta(days=1)
    return (x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(_name(issuer))
            .public_key(public_key)
            .serial_number(1)
            .not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(days=days)))


def pem(*certs):
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


class StandInAmdCa(object):
    """ARK + ASK (or ASVK when ``vlek``) for one product.

    Its ARK is not AMD's: verification accepts it only through ``anchors()`` (trust_anchors).
    ``ask_padding`` and ``ark_signer`` build the malformed chains the checks must refuse.
    """

    def __init__(self, product="Milan", key_size=2048, vlek=False, label="", ask_padding=PSS, ark_signer=None,
                 not_before=None):
        self.product = product
        self.vlek = vlek
        self.ark_key = rsa_key("ark-%s%s" % (product, label), key_size)
        self.ask_key = rsa_key("ask-%s%s-%s" % (product, label, vlek), key_size)
        ark_name = "ARK-%s" % product
        self.intermediate_name = ("SEV-VLEK-%s" if vlek else "SEV-%s") % product
        self.ark = _builder(ark_name, ark_name, self.ark_key.public_key(), not_before, days=9000).sign(
            ark_signer or self.ark_key, hashes.SHA384(), rsa_padding=PSS)
        self.ask = _builder(self.intermediate_name, ark_name, self.ask_key.public_key(), not_before, days=9000).sign(
            self.ark_key, hashes.SHA384(), rsa_padding=ask_padding)

    def chain_pem(self):
        """The bundle as KDS serves it: intermediate first, then ARK."""
        return pem(self.ask, self.ark)

    def anchors(self):
        """This stand-in's ARK as a trust anchor, the way trust_anchors passes it."""
        return amd_certs.load_trust_anchors([("stand-in ARK-%s" % self.product, pem(self.ark))])

    def issue_vek(self, chip_id=b"\x11" * 64, tcb=None, key=None, not_before=None, days=2555,
                  hash_algorithm=None, padding_scheme=PSS, raw_extensions=None, issuer=None):
        """A VCEK/VLEK; ``raw_extensions`` ({OID suffix: DER bytes or None to leave it out})
        replaces AMD extensions, ``issuer`` the issuer name, to build malformed ones."""
        tcb = tcb or {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
        key = key or p384_key("vek")
        subject = "SEV-VLEK" if self.vlek else "SEV-VCEK"
        builder = _builder(subject, issuer or self.intermediate_name, key.public_key(), not_before, days)
        extensions = [("1", _der_integer(1 if self.product == "Turin" else 0)),
                      ("2", _der_ia5(self.product if self.vlek else "%s-B0" % self.product))]
        for level, suffix in (("bootloader", "3.1"), ("tee", "3.2"), ("snp", "3.3"),
                              ("microcode", "3.8"), ("fmc", "3.9")):
            if level in tcb and tcb[level] is not None:
                extensions.append((suffix, _der_integer(tcb[level])))
        if self.vlek:
            extensions.append(("5", _der_ia5("CN=stand-in-csp.example")))
        else:
            hwid = chip_id[:8] if self.product == "Turin" else chip_id
            extensions.append(("4", bytes(hwid)))
        overrides = dict(raw_extensions or {})
        extensions = [(suffix, overrides.pop(suffix, value)) for suffix, value in extensions]
        extensions += sorted(overrides.items())
        for suffix, value in extensions:
            if value is None:
                continue
            builder = builder.add_extension(
                x509.UnrecognizedExtension(x509.ObjectIdentifier(AMD_OID + suffix), value), critical=False)
        return builder.sign(self.ask_key, hash_algorithm or hashes.SHA384(), rsa_padding=padding_scheme)


CPUID = {"Milan": (0x19, 0x01, 0x01), "Genoa": (0x19, 0x11, 0x01), "Turin": (0x1A, 0x02, 0x00)}


def make_report(vek_key, version=3, product="Milan", chip_id=b"\x11" * 64, tcb=None, policy=0x30000,
                report_data=b"", measurement=b"\x22" * 48, host_data=b"", vmpl=0, signing_key="VCEK",
                mask_chip_key=False, signature_algo=1):
    """An attestation report laid out like the PSP's and signed with ``vek_key``."""
    tcb = tcb or {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    if product == "Turin":
        tcb = dict(tcb, fmc=tcb.get("fmc") or 0)
    tcb_raw = snp_report.encode_tcb(tcb, product)
    data = bytearray(snp_report.REPORT_SIZE)
    struct.pack_into("<IIQ", data, 0, version, 0, policy)
    key_info = (1 if signing_key == "VLEK" else 0) << 2 | (2 if mask_chip_key else 0)
    struct.pack_into("<IIQQI", data, 0x30, vmpl, signature_algo, tcb_raw, 0x1, key_info)
    data[0x50:0x90] = report_data.ljust(64, b"\x00")
    data[0x90:0xC0] = measurement
    data[0xC0:0xE0] = host_data.ljust(32, b"\x00")
    struct.pack_into("<Q", data, 0x180, tcb_raw)
    if version >= 3:
        data[0x188:0x18B] = bytes(CPUID[product])
    data[0x1A0:0x1E0] = b"\x00" * 64 if mask_chip_key else chip_id
    struct.pack_into("<Q", data, 0x1E0, tcb_raw)
    data[0x1E8:0x1EB] = bytes([4, 55, 1])
    data[0x1EC:0x1EF] = bytes([4, 55, 1])
    struct.pack_into("<Q", data, 0x1F0, tcb_raw)
    sign_report(data, vek_key)
    return bytes(data)


def sign_report(data, vek_key):
    """(Re)sign bytes 0x000-0x29F in place, r and s little-endian in 72-byte slots."""
    signature = vek_key.sign(bytes(data[:snp_report.SIGNED_SIZE]), ec.ECDSA(hashes.SHA384()))
    r_value, s_value = decode_dss_signature(signature)
    data[0x2A0:0x2E8] = r_value.to_bytes(72, "little")
    data[0x2E8:0x330] = s_value.to_bytes(72, "little")
    return data


def write_evidence(directory, chip_id=b"\x5a" * 64, tcb=None, vmpl=1):
    """Evidence for the attest Molecule scenario, from this stand-in CA (PSP and KDS stand-ins).

    Layout: ark.pem (the trust anchor), kds/ (a KDS tree for a static HTTP server),
    guest/ and wrong-nonce/ (report.bin + request.bin for the snpguest stand-in), vlek/
    (a VLEK-signed report with an expired VLEK), host/ (ark.pem, ask.pem, vcek.pem for the
    snphost stand-in) and measurement.txt.
    """
    import os

    tcb = tcb or {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    since = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    vcek_ca = StandInAmdCa("Milan", label="-molecule", not_before=since)
    vlek_ca = StandInAmdCa("Milan", vlek=True, label="-molecule", not_before=since)
    # One ARK for both chains, as AMD has: the VLEK chain is re-issued under the VCEK chain's ARK.
    vlek_ca.ark_key, vlek_ca.ark = vcek_ca.ark_key, vcek_ca.ark
    vlek_ca.ask = _builder(vlek_ca.intermediate_name, "ARK-Milan", vlek_ca.ask_key.public_key(), since, days=9000).sign(
        vcek_ca.ark_key, hashes.SHA384(), rsa_padding=PSS)
    vcek_key, vlek_key = p384_key("molecule-vcek"), p384_key("molecule-vlek")
    vcek = vcek_ca.issue_vek(chip_id=chip_id, tcb=tcb, key=vcek_key)
    expired = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    vlek = vlek_ca.issue_vek(tcb=tcb, key=vlek_key, not_before=expired, days=365)
    measurement = bytes(range(48))
    files = {
        "ark.pem": pem(vcek_ca.ark),
        "kds/vcek/v1/Milan/cert_chain": vcek_ca.chain_pem(),
        "kds/vcek/v1/Milan/" + chip_id.hex(): der(vcek),
        "kds/vlek/v1/Milan/cert_chain": vlek_ca.chain_pem(),
        "host/ark.pem": pem(vcek_ca.ark),
        "host/ask.pem": pem(vcek_ca.ask),
        "host/vcek.pem": pem(vcek),
        "vlek/vlek.der": der(vlek),
        "measurement.txt": measurement.hex().encode("ascii"),
    }
    for case, key, signing_key in (("guest", vcek_key, "VCEK"), ("wrong-nonce", vcek_key, "VCEK"),
                                   ("vlek", vlek_key, "VLEK")):
        nonce = os.urandom(64)
        files[case + "/report.bin"] = make_report(key, chip_id=chip_id, tcb=tcb, report_data=nonce, vmpl=vmpl,
                                                  measurement=measurement, signing_key=signing_key,
                                                  mask_chip_key=signing_key == "VLEK")
        # A replayed report: the guest asked with a fresh nonce but got an old report.
        files[case + "/request.bin"] = os.urandom(64) if case == "wrong-nonce" else nonce
    for name, body in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(body)


if __name__ == "__main__":
    import sys

    write_evidence(sys.argv[1])
