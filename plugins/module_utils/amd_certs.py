# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AMD SEV-SNP certificate chains: ARK -> ASK/ASVK -> VCEK/VLEK, and the report signature.

Controller-side: needs the ``cryptography`` package (callers check CRYPTOGRAPHY_IMPORT_ERROR
and report it with missing_required_lib). Takes bytes, never reads files.
"""

from __future__ import annotations

import binascii
import contextlib
import datetime
import hashlib
import re
import warnings

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_roots, snp_report

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError as _exc:  # pragma: no cover - exercised only where cryptography is missing
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

OID_STRUCT_VERSION = "1.3.6.1.4.1.3704.1.1"
OID_PRODUCT_NAME = "1.3.6.1.4.1.3704.1.2"
OID_BL_SPL = "1.3.6.1.4.1.3704.1.3.1"
OID_TEE_SPL = "1.3.6.1.4.1.3704.1.3.2"
OID_SNP_SPL = "1.3.6.1.4.1.3704.1.3.3"
OID_UCODE_SPL = "1.3.6.1.4.1.3704.1.3.8"
OID_FMC_SPL = "1.3.6.1.4.1.3704.1.3.9"
OID_HWID = "1.3.6.1.4.1.3704.1.4"
OID_CSP_ID = "1.3.6.1.4.1.3704.1.5"

TCB_OIDS = (
    ("bootloader", OID_BL_SPL),
    ("tee", OID_TEE_SPL),
    ("snp", OID_SNP_SPL),
    ("microcode", OID_UCODE_SPL),
    ("fmc", OID_FMC_SPL),
)

# cryptography warns on (and one day refuses) the zero serial numbers AMD uses.
_SERIAL_WARNING = r".*serial number.*"


class ChainError(Exception):
    """A certificate or signature check failed; the message names the check."""

    def __init__(self, check, message):
        super().__init__("%s: %s" % (check, message))
        self.check = check
        self.detail = message


class EncodingError(ChainError):
    """The bytes are not (only) the certificates expected: truncated, junk, wrong encoding.

    A download that produced them may be retried; a certificate that decodes but is the
    wrong one is a ChainError and is not.
    """


@contextlib.contextmanager
def amd_serial_numbers_tolerated():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_SERIAL_WARNING)
        yield


def load_certificates(data, what):
    """All certificates in ``data`` (one DER, or one or more PEM blocks)."""
    if not data:
        raise EncodingError("load %s" % what, "file is empty")
    try:
        with amd_serial_numbers_tolerated():
            if b"-----BEGIN CERTIFICATE-----" in data:
                certs = x509.load_pem_x509_certificates(data)
            else:
                certs = [x509.load_der_x509_certificate(data)]
            for cert in certs:
                cert.serial_number  # noqa: B018 - forces the serial check now, inside the guard
    except ValueError as exc:
        raise EncodingError(
            "load %s" % what,
            "not a DER or PEM certificate (%s). If it is an AMD certificate, the installed "
            "cryptography may refuse AMD's zero serial numbers; use a cryptography release "
            "that still loads them" % exc,
        )
    return certs


_PEM_BLOCK_RE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----[ \t]*(?:\r?\n|$)")


_WHITESPACE_RE = re.compile(rb"[ \t\r\n]*")


def exact_pem_certificates(data, what):
    """The certificates of a PEM body that holds nothing else (whitespace between blocks aside).

    KDS serves exactly the PEM blocks; text before, between or after them is not KDS's.
    """
    position = 0
    certs = []
    while True:
        position = _WHITESPACE_RE.match(data, position).end()
        if position == len(data):
            break
        match = _PEM_BLOCK_RE.match(data, position)
        if not match:
            raise EncodingError("%s encoding" % what, "%d bytes at offset %d are not a PEM certificate block"
                                % (len(data) - position, position))
        certs.extend(load_certificates(match.group(0), what))
        position = match.end()
    if not certs:
        raise EncodingError("%s encoding" % what, "no PEM certificate in %d bytes" % len(data))
    return certs


def exact_der_certificate(data, what):
    """The one DER certificate that is the whole of ``data`` (trailing bytes are refused)."""
    if b"-----BEGIN" in data:
        raise EncodingError("%s encoding" % what, "expected DER, got PEM")
    return load_certificates(data, what)[0]


def fingerprint(cert):
    """SHA-256 of the certificate's DER encoding, lower-case hex."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_trust_anchors(files):
    """Private or test roots: [(label, bytes)] -> anchors for verify_chain / verify_ca_chain."""
    anchors = []
    for label, data in files:
        for cert in load_certificates(data, "trust anchor %s" % label):
            anchors.append({"source": label, "subject": common_name(cert.subject), "sha256": fingerprint(cert)})
    return anchors


def anchor_for(ark, product, trust_anchors=None):
    """The trust anchor ``ark`` is: AMD's pinned ARK for ``product``, or one of ``trust_anchors``."""
    digest = fingerprint(ark)
    pinned = amd_roots.pinned_ark(product)
    if pinned is not None and digest == pinned["sha256"]:
        return {"source": "pinned AMD root", "subject": "ARK-%s" % product, "sha256": digest}
    for anchor in trust_anchors or ():
        if anchor["sha256"] == digest:
            return dict(anchor)
    raise ChainError(
        "trust anchor",
        "the chain's %r (SHA-256 %s) is not AMD's ARK-%s (SHA-256 %s) nor a root listed in trust_anchors; "
        "a chain that ends in another root proves nothing about AMD. Fetch the chain from AMD's KDS, or "
        "list your private root in trust_anchors"
        % (common_name(ark.subject), digest, product, pinned["sha256"] if pinned else "none pinned"),
    )


def common_name(name):
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return attrs[0].value if attrs else ""


def product_of_issuer(cert):
    """Product from an AMD issuer name: SEV-Milan, SEV-VLEK-Genoa, ARK-Turin ..."""
    cn = common_name(cert.issuer)
    for prefix in ("SEV-VLEK-", "SEV-", "ARK-"):
        if cn.startswith(prefix):
            return cn[len(prefix):]
    return None


def _der_value(data, expected_tag):
    """Value of a single short DER TLV; AMD's extension values are tiny INTEGERs and IA5Strings."""
    if len(data) < 2 or data[0] != expected_tag:
        return None
    length = data[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[2:2 + count], "big")
        offset = 2 + count
    value = data[offset:offset + length]
    return value if len(value) == length else None


def _extension_bytes(cert, oid):
    try:
        with amd_serial_numbers_tolerated():
            ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    return getattr(ext.value, "value", None)


def vek_extensions(cert):
    """AMD's VCEK/VLEK extensions: TCB levels, hwID (VCEK), CSP id (VLEK), product name."""
    result = {"tcb": {}, "hwid": None, "product_name": None, "csp_id": None}
    for level, oid in TCB_OIDS:
        raw = _extension_bytes(cert, oid)
        if raw is None:
            continue
        value = _der_value(raw, 0x02)
        if value is None:
            raise ChainError("VEK extensions", "extension %s (%s) is not a DER INTEGER" % (oid, level))
        result["tcb"][level] = int.from_bytes(value, "big", signed=True)
    hwid = _extension_bytes(cert, OID_HWID)
    if hwid is not None:
        # KDS stores the raw chip id; tolerate an OCTET STRING wrapper some tools add.
        if len(hwid) in (66, 10) and hwid[0] == 0x04 and hwid[1] == len(hwid) - 2:
            hwid = hwid[2:]
        result["hwid"] = binascii.hexlify(hwid).decode("ascii")
    for key, oid in (("product_name", OID_PRODUCT_NAME), ("csp_id", OID_CSP_ID)):
        raw = _extension_bytes(cert, oid)
        if raw is not None:
            value = _der_value(raw, 0x16)
            result[key] = (value if value is not None else raw).decode("ascii", "replace")
    return result


def verify_signed_by(cert, issuer, check):
    """Signature of ``cert`` under ``issuer``'s key; AMD signs everything with RSA-PSS / SHA-384."""
    if cert.issuer != issuer.subject:
        raise ChainError(check, "issuer %r does not match %r" % (common_name(cert.issuer), common_name(issuer.subject)))
    public_key = issuer.public_key()
    with amd_serial_numbers_tolerated():
        algorithm = cert.signature_hash_algorithm
        parameters = cert.signature_algorithm_parameters
    if not isinstance(algorithm, hashes.SHA384):
        raise ChainError(check, "signature hash is %s, AMD uses SHA-384" % getattr(algorithm, "name", algorithm))
    if not isinstance(public_key, rsa.RSAPublicKey) or not isinstance(parameters, padding.PSS):
        raise ChainError(check, "signature is not RSA-PSS as AMD's chain requires")
    try:
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, parameters, algorithm)
    except InvalidSignature:
        raise ChainError(check, "signature of %r does not verify under %r"
                         % (common_name(cert.subject), common_name(issuer.subject)))


def _check_validity(cert, now, check):
    before = cert.not_valid_before_utc
    after = cert.not_valid_after_utc
    if now < before or now > after:
        raise ChainError(check, "%r is valid only from %s to %s" % (common_name(cert.subject), before, after))


def signing_key_of(vek):
    """VCEK or VLEK, from the issuer of the certificate."""
    return "VLEK" if common_name(vek.issuer).startswith("SEV-VLEK-") else "VCEK"


def pick_chain(chain_certs, product, signing_key):
    """(ark, intermediate) for ``signing_key`` out of a KDS bundle; refuses a bundle of another product."""
    ark_name = "ARK-%s" % product
    intermediate_name = ("SEV-VLEK-%s" if signing_key == "VLEK" else "SEV-%s") % product
    by_name = dict((common_name(cert.subject), cert) for cert in chain_certs)
    present = ", ".join(sorted(by_name)) or "no certificates"
    if ark_name not in by_name or intermediate_name not in by_name:
        raise ChainError(
            "certificate chain product",
            "the %s is for %s and needs %s + %s, but the bundle holds %s; fetch the %s chain "
            "(KDS %s)" % (signing_key, product, intermediate_name, ark_name, present, product,
                          snp_report.kds_chain_path(product, signing_key)),
        )
    return by_name[ark_name], by_name[intermediate_name]


def intermediate_label(signing_key):
    return "ASVK" if signing_key == "VLEK" else "ASK"


def verify_ca_chain(chain_certs, product, signing_key, trust_anchors=None):
    """ARK (a trust anchor, self-signed) -> ASK/ASVK. Returns (ark, intermediate, anchor)."""
    ark, intermediate = pick_chain(chain_certs, product, signing_key)
    anchor = anchor_for(ark, product, trust_anchors)
    with amd_serial_numbers_tolerated():
        verify_signed_by(ark, ark, "ARK self-signature")
        verify_signed_by(intermediate, ark, "%s signed by ARK" % intermediate_label(signing_key))
    return ark, intermediate, anchor


def verify_chain(chain_data, vek_data, product=None, now=None, trust_anchors=None):
    """Check trust anchor ARK (self-signed) -> ASK/ASVK -> VEK. Returns a dict describing the chain.

    ``product`` comes from a v3+ report; when None, the VEK's issuer names it.
    ``trust_anchors`` (from load_trust_anchors) are accepted besides AMD's pinned ARKs.
    """
    chain_certs = load_certificates(chain_data, "cert_chain")
    vek_list = load_certificates(vek_data, "vek")
    if len(vek_list) != 1:
        raise ChainError("load vek", "expected exactly one certificate, found %d" % len(vek_list))
    vek = vek_list[0]
    issuer_product = product_of_issuer(vek)
    if issuer_product is None:
        raise ChainError("VEK issuer", "issuer %r is not an AMD SEV signing key" % common_name(vek.issuer))
    if product is not None and issuer_product != product:
        raise ChainError(
            "VEK product",
            "the report comes from a %s but the VEK was issued by %r; fetch the VEK for %s"
            % (product, common_name(vek.issuer), product),
        )
    product = issuer_product
    signing_key = signing_key_of(vek)
    ark, intermediate, anchor = verify_ca_chain(chain_certs, product, signing_key, trust_anchors)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    with amd_serial_numbers_tolerated():
        verify_signed_by(vek, intermediate, "%s signed by %s" % (signing_key, intermediate_label(signing_key)))
        for cert, label in ((ark, "ARK"), (intermediate, "ASK/ASVK"), (vek, signing_key)):
            _check_validity(cert, now, "%s validity" % label)
    vek_key = vek.public_key()
    if not isinstance(vek_key, ec.EllipticCurvePublicKey) or vek_key.curve.name != "secp384r1":
        raise ChainError("VEK key", "the %s key is not ECDSA P-384" % signing_key)
    return {
        "product": product,
        "signing_key": signing_key,
        "anchor": anchor,
        "ark_subject": common_name(ark.subject),
        "intermediate_subject": common_name(intermediate.subject),
        "vek_issuer": common_name(vek.issuer),
        "vek": vek,
        "extensions": vek_extensions(vek),
    }


def report_signature_valid(public_key, report_bytes):
    """True when the report's ECDSA P-384/SHA-384 signature over bytes 0x000-0x29F verifies."""
    r_value, s_value = snp_report.signature_components(report_bytes)
    signature = encode_dss_signature(r_value, s_value)
    try:
        public_key.verify(signature, bytes(report_bytes[:snp_report.SIGNED_SIZE]), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def check_vek_matches_report(extensions, report, signing_key):
    """The VEK must be the one derived for this chip and this reported TCB."""
    product = report["product"]
    reported = report["reported_tcb"]
    for level in snp_report.tcb_levels(product):
        cert_value = extensions["tcb"].get(level)
        if cert_value is None:
            raise ChainError("VEK TCB", "the %s has no %s SPL extension; is it for %s?" % (signing_key, level, product))
        if reported[level] != cert_value:
            raise ChainError(
                "VEK TCB",
                "report's reported_tcb %s=%d but the %s was issued for %s=%d; fetch the %s for this TCB"
                % (level, reported[level], signing_key, level, cert_value, signing_key),
            )
    if signing_key == "VCEK":
        if report["key_info"]["mask_chip_key"]:
            return
        wanted = snp_report.kds_hwid(report["chip_id"], product)
        if extensions["hwid"] is None:
            raise ChainError("VCEK hwID", "the VCEK has no hwID extension")
        if extensions["hwid"].lower() != wanted.lower():
            raise ChainError(
                "VCEK hwID",
                "the VCEK belongs to chip %s..., the report to chip %s..."
                % (extensions["hwid"][:16], report["chip_id"][:16]),
            )


# (argument, report field, size, exact): report_data keeps the guest's zero-padding of
# shorter nonces; a measurement or HOST_DATA shorter than its field is a mistake, never padded.
EXPECTED_FIELDS = (
    ("expected_report_data", "report_data", 64, False),
    ("expected_measurement", "measurement", 48, True),
    ("expected_host_data", "host_data", 32, True),
)


def expected_hex(value, size, name, exact):
    """Lower-case hex of ``size`` bytes for an expected_* argument, or ChainError naming ``name``."""
    text = str(value).strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    try:
        raw = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        raise ChainError(name, "%r is not a hex string of %d bytes (%d hex digits)" % (value, size, 2 * size))
    if exact and len(raw) != size:
        raise ChainError(name, "must be exactly %d bytes (%d hex digits), got %d bytes"
                         % (size, 2 * size, len(raw)))
    if len(raw) > size:
        raise ChainError(name, "%d bytes given, the report field has %d" % (len(raw), size))
    return binascii.hexlify(raw + b"\x00" * (size - len(raw))).decode("ascii")


def expected_values(**given):
    """{report field: wanted hex} for the expected_* arguments that are not None."""
    wanted = {}
    for argument, field, size, exact in EXPECTED_FIELDS:
        if given.get(argument) is not None:
            wanted[field] = expected_hex(given[argument], size, argument, exact)
    return wanted


def verify_attestation(report_bytes, vek_data, chain_data, expected_report_data=None,
                       expected_measurement=None, expected_host_data=None, min_tcb=None,
                       allow_debug=False, vmpl=None, now=None, trust_anchors=None):
    """Run every check in order; raise ChainError naming the first that fails.

    Returns (parsed report, list of the checks that passed). The report carries the
    trust anchor its chain ended in under ``anchor``.
    """
    wanted = expected_values(expected_report_data=expected_report_data,
                             expected_measurement=expected_measurement,
                             expected_host_data=expected_host_data)
    try:
        report = snp_report.parse_report(report_bytes)
    except snp_report.ReportError as exc:
        raise ChainError("report format", str(exc))
    passed = ["report format"]
    chain = verify_chain(chain_data, vek_data, product=report["product"], now=now, trust_anchors=trust_anchors)
    passed.append("trust anchor %s (%s)" % (chain["anchor"]["subject"], chain["anchor"]["source"]))
    passed.append("certificate chain %s -> %s -> %s" % (chain["ark_subject"], chain["intermediate_subject"], chain["signing_key"]))
    if report["product"] is None:
        # A version 2 report cannot name its product; the VEK's issuer does.
        if snp_report.uses_turin_tcb_layout(chain["product"]):
            raise ChainError("VEK product", "a version 2 report cannot come from a %s (its firmware writes "
                             "version 3 or later); the VEK was issued by %r" % (chain["product"], chain["vek_issuer"]))
        report = snp_report.parse_report(report_bytes, product=chain["product"])
    if report["key_info"]["signing_key"] != chain["signing_key"]:
        raise ChainError(
            "signing key",
            "the report says it was signed by the %s, but a %s was given"
            % (report["key_info"]["signing_key"], chain["signing_key"]),
        )
    if report["signature_algo"] != snp_report.SIG_ALGO_ECDSA_P384_SHA384:
        raise ChainError("signature algorithm", "report uses algorithm %d, only 1 (ECDSA P-384 SHA-384) is defined"
                         % report["signature_algo"])
    check_vek_matches_report(chain["extensions"], report, chain["signing_key"])
    passed.append("VEK matches reported TCB%s" % (" and chip id" if chain["signing_key"] == "VCEK" else ""))
    if not report_signature_valid(chain["vek"].public_key(), report_bytes):
        raise ChainError("report signature", "the ECDSA signature over bytes 0x000-0x29F does not verify "
                         "under the %s" % chain["signing_key"])
    passed.append("report signature")

    for _argument, name, _size, _exact in EXPECTED_FIELDS:
        if name not in wanted:
            continue
        if report[name] != wanted[name]:
            raise ChainError(name, "report has %s, expected %s" % (report[name], wanted[name]))
        passed.append(name)
    if min_tcb:
        unknown = sorted(set(min_tcb) - set(("fmc", "bootloader", "tee", "snp", "microcode")))
        if unknown:
            raise ChainError("min_tcb", "unknown TCB component(s) %s; use bootloader, tee, snp, microcode, fmc"
                             % ", ".join(unknown))
        shortfalls = snp_report.tcb_shortfalls(report["reported_tcb"], min_tcb, report["product"])
        if shortfalls:
            raise ChainError("min_tcb", "reported TCB below the minimum: %s" % "; ".join(shortfalls))
        passed.append("min_tcb")
    if report["policy"]["debug"] and not allow_debug:
        raise ChainError("debug policy", "the guest policy allows debugging (bit 19); the hypervisor can read "
                         "guest memory. Set allow_debug to accept it")
    passed.append("debug policy")
    if vmpl is not None and report["vmpl"] != int(vmpl):
        raise ChainError("vmpl", "report was requested at VMPL %d, expected %d" % (report["vmpl"], int(vmpl)))
    if vmpl is not None:
        passed.append("vmpl")
    report["signing_key"] = chain["signing_key"]
    report["vek_extensions"] = chain["extensions"]
    report["anchor"] = chain["anchor"]
    return report, passed
