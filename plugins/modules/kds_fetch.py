#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kds_fetch
short_description: Fetch AMD SEV-SNP certificates (cert chain, VCEK) from AMD's KDS
version_added: 0.1.0
description:
  - Downloads the ASK+ARK bundle (C(/vcek/v1/{product}/cert_chain)), or the ASVK+ARK bundle
    for a VLEK (C(/vlek/v1/{product}/cert_chain)), and the VCEK for one chip and TCB
    (C(/vcek/v1/{product}/{hwid}?blSPL=..&teeSPL=..&snpSPL=..&ucodeSPL=..); on Turin the
    hwid is the first 8 bytes of the chip id and C(fmcSPL) is added).
  - Takes the product, chip id and reported TCB from an attestation report, or from
    explicit O(product), O(chip_id) and O(tcb).
  - Caches on disk under O(dest), keyed by product, chip id and TCB, because a VCEK never
    changes for those; a cached file is not downloaded again.
  - Retries HTTP 429 and 5xx answers, connection errors (refused, reset, timed out), bodies
    cut short and bodies that are not the expected encoding, with exponential backoff, all
    within one overall O(deadline). A failure names what went wrong and how many requests
    were made.
  - A body must be exactly the certificates expected and nothing else, at most
    O(max_body_size) bytes; the chain's ARK must be AMD's root for the product, which the
    collection carries pinned, or a root in O(trust_anchors); the ASK/ASVK must be signed by
    it, and the VCEK by the ASK, for the requested chip and TCB. An HTML error page, a
    truncated certificate, trailing bytes or a chain from another root is never stored.
    Files are written atomically. Cached files are checked the same way before they are
    reused, and fetched again when they fail.
  - KDS does not serve VLEKs (the cloud provider installs them on the host); for a
    VLEK-signed report only the ASVK+ARK bundle is fetched and RV(vek) is null.
  - B(Controller-side.) Run it delegated to C(localhost); it needs the Python
    C(cryptography) package where it runs.
author:
  - coco.sev_snp maintainers (@coco-collections)
requirements:
  - cryptography >= 41 (on the host the module runs on, normally the controller)
options:
  dest:
    description: Cache directory; created when missing.
    type: path
    required: true
  report:
    description:
      - Path to a binary attestation report to take the product, chip id, reported TCB and
        signing key from.
      - A version 2 report does not name its product; set O(product) as well.
    type: path
  product:
    description: Processor product as KDS names it. Required without O(report), and with a version 2 report.
    type: str
    choices: [Milan, Genoa, Turin]
  chip_id:
    description: CHIP_ID as hex (128 hex digits; on Turin the first 16 are enough).
    type: str
  tcb:
    description:
      - Reported TCB to fetch the VCEK for, with keys C(bootloader), C(tee), C(snp),
        C(microcode) and, on Turin, C(fmc).
    type: dict
  signing_key:
    description: Which key the chain is for. Defaults to what the report says, else C(VCEK).
    type: str
    choices: [VCEK, VLEK]
  base_url:
    description:
      - KDS base URL; point it at a mirror for air-gapped sites. A mirror is not trusted;
        what it serves must chain to AMD's pinned root (or to O(trust_anchors)).
    type: str
    default: https://kdsintf.amd.com
  trust_anchors:
    description:
      - Files (PEM or DER) with additional root certificates a chain may end in, for private
        or test key hierarchies only. AMD's roots are built in; never needed with AMD's KDS.
    type: list
    elements: path
    default: []
  retries:
    description: How many times a 429, 5xx, connection error, cut-short or badly encoded body is retried.
    type: int
    default: 4
  retry_delay:
    description: Seconds before the first retry; doubled for each further retry (capped at 60 seconds).
    type: float
    default: 2.0
  timeout:
    description: Timeout of one HTTP request (connecting, or waiting for the next bytes), in seconds.
    type: int
    default: 30
  deadline:
    description:
      - Seconds all requests of this run may take together, retries and their delays
        included. A server that trickles its answer is given up on when this passes.
    type: float
    default: 120
  max_body_size:
    description: Largest body accepted, in bytes. KDS certificates are 1-5 KiB.
    type: int
    default: 65536
  validate_certs:
    description: Verify the TLS certificate of O(base_url).
    type: bool
    default: true
  force:
    description: Download again even when the files are cached.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would be downloaded; contacts nothing and writes nothing.
  diff_mode:
    support: none
    description: Certificates are binary or PEM files downloaded whole; no diff is shown.
  platform:
    support: full
    platforms: posix
    description: Runs where the cache lives, normally the controller (C(delegate_to) C(localhost)).
seealso:
  - module: coco.sev_snp.attestation_verify
  - module: ansible.builtin.fetch
  - name: VCEK certificate and KDS interface specification (publication 57230)
    description: KDS paths and certificate extensions.
    link: https://www.amd.com/en/developer/sev.html
"""

EXAMPLES = r"""
- name: Fetch the chain and the VCEK for a report brought back from a guest
  coco.sev_snp.kds_fetch:
    report: "/srv/sev-snp/evidence/{{ inventory_hostname }}/report.bin"
    product: Milan  # only needed for version 2 reports
    dest: /srv/sev-snp/kds-cache
  delegate_to: localhost
  register: kds

- name: Fetch from an internal mirror for explicit values
  coco.sev_snp.kds_fetch:
    base_url: https://kds-mirror.example.com
    product: Genoa
    chip_id: "{{ chip_id_hex }}"
    tcb:
      bootloader: 9
      tee: 0
      snp: 22
      microcode: 213
    dest: /var/cache/kds
  delegate_to: localhost
"""

RETURN = r"""
cert_chain:
  description: Path of the cached ASK+ARK (or ASVK+ARK) PEM bundle.
  returned: always
  type: str
  sample: /srv/kds-cache/Milan/vcek_cert_chain.pem
vek:
  description: Path of the cached VCEK (DER), or null for a VLEK-signed report.
  returned: always
  type: str
  sample: /srv/kds-cache/Milan/vcek_d495...._bootloader3_tee0_snp8_microcode115.der
product:
  description: Product the certificates belong to.
  returned: always
  type: str
  sample: Milan
signing_key:
  description: C(VCEK) or C(VLEK).
  returned: always
  type: str
  sample: VCEK
downloaded:
  description: URLs that were downloaded in this run (empty when everything was cached).
  returned: always
  type: list
  elements: str
  sample: ["https://kdsintf.amd.com/vcek/v1/Milan/cert_chain"]
attempts:
  description: HTTP requests made, retries included (also on failure).
  returned: always
  type: int
  sample: 2
anchor:
  description: The root the certificate chain ends in (C(source) is C(pinned AMD root) or the O(trust_anchors) file).
  returned: success
  type: dict
  sample: {source: pinned AMD root, subject: ARK-Milan,
           sha256: 69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd}
"""

import binascii
import http.client
import os
import socket
import tempfile
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import open_url

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, snp_report

RETRY_MAX_DELAY = 60.0
READ_CHUNK = 8192


class FetchError(Exception):
    """A download failed for good; the message says why."""


class _Retryable(Exception):
    """This attempt failed in a way another attempt may not (reset, cut short, 5xx ...)."""

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


def check_chain(body, product, signing_key, trust_anchors):
    """Certificates of a KDS cert_chain body: exactly intermediate + ARK, the ARK an anchor.

    Returns (intermediate certificate, anchor).
    """
    certs = amd_certs.exact_pem_certificates(body, "cert_chain")
    names = sorted(amd_certs.common_name(cert.subject) for cert in certs)
    _ark, intermediate = amd_certs.pick_chain(certs, product, signing_key)
    if len(certs) != 2:
        raise amd_certs.ChainError("cert_chain content", "KDS serves exactly two certificates, %s and ARK-%s; "
                                   "the body holds %s" % (amd_certs.common_name(intermediate.subject), product,
                                                          ", ".join(names)))
    _ark, intermediate, anchor = amd_certs.verify_ca_chain(certs, product, signing_key, trust_anchors)
    return intermediate, anchor


def check_vcek(body, product, chip_id, tcb, intermediate):
    vcek = amd_certs.exact_der_certificate(body, "vcek")
    if amd_certs.product_of_issuer(vcek) != product:
        raise amd_certs.ChainError("vcek content", "issued by %r, not SEV-%s"
                                   % (amd_certs.common_name(vcek.issuer), product))
    extensions = amd_certs.vek_extensions(vcek)
    for level in snp_report.tcb_levels(product):
        if extensions["tcb"].get(level) != int(tcb[level]):
            raise amd_certs.ChainError("vcek content", "issued for %s=%s, requested %s"
                                       % (level, extensions["tcb"].get(level), tcb[level]))
    if (extensions["hwid"] or "").lower() != snp_report.kds_hwid(chip_id.lower(), product):
        raise amd_certs.ChainError("vcek content", "issued for another chip")
    amd_certs.verify_signed_by(vcek, intermediate, "VCEK signed by ASK")
    return vcek


def _describe(exc):
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, URLError):
        return "cannot connect: %s" % (exc.reason,)
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, http.client.IncompleteRead):
        return "connection closed after %d bytes of the body" % len(exc.partial)
    return "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__


class KdsClient(object):
    """GETs with retries inside one overall deadline; bodies capped and checked before use."""

    def __init__(self, base_url, retries, retry_delay, timeout, deadline, max_body, validate_certs=True):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.deadline_seconds = deadline
        self.deadline = time.monotonic() + deadline
        self.max_body = max_body
        self.validate_certs = validate_certs
        self.attempts = 0

    def get(self, path, check):
        """(url, body, check's result). ``check(body)`` raises amd_certs.EncodingError to retry."""
        url = self.base_url + path
        attempts = 0
        last = "no request made"
        retry_after = None
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self._delay(attempt, retry_after)
                if time.monotonic() + delay >= self.deadline:
                    break
                time.sleep(delay)
            if time.monotonic() >= self.deadline:
                break
            attempts += 1
            self.attempts += 1
            try:
                body = self._get_once(url)
                try:
                    return url, body, check(body)
                except amd_certs.EncodingError as exc:
                    raise _Retryable("the body is not the expected certificate (%s)" % exc.detail)
                except amd_certs.ChainError as exc:
                    raise FetchError("%s did not return a usable certificate: %s" % (url, exc))
            except _Retryable as exc:
                last, retry_after = str(exc), exc.retry_after
        raise FetchError("%s: no usable answer after %d attempt%s within the %gs deadline (last: %s)"
                         % (url, attempts, "" if attempts == 1 else "s", self.deadline_seconds, last))

    def _get_once(self, url):
        remaining = self.deadline - time.monotonic()
        try:
            response = open_url(url, timeout=max(0.01, min(self.timeout, remaining)),
                                validate_certs=self.validate_certs, follow_redirects="safe", decompress=False,
                                headers={"Accept-Encoding": "identity"}, http_agent="coco.sev_snp.kds_fetch")
        except HTTPError as exc:
            status = exc.code
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            exc.close()
            if status == 404:
                raise FetchError("KDS answered 404 for %s: it has no certificate for this product/chip/TCB. "
                                 "Check that the product matches the processor and the TCB is the report's "
                                 "reported_tcb" % url)
            if status == 429 or status >= 500:
                raise _Retryable("HTTP %d %s" % (status, exc.reason), retry_after)
            raise FetchError("KDS answered HTTP %d %s for %s" % (status, exc.reason, url))
        except (URLError, OSError, http.client.HTTPException, ValueError) as exc:
            raise _Retryable(_describe(exc))
        try:
            return self._read_body(response, url)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise _Retryable(_describe(exc))
        finally:
            response.close()

    def _read_body(self, response, url):
        declared = response.headers.get("Content-Length")
        try:
            declared = int(declared) if declared is not None else None
        except ValueError:
            raise _Retryable("Content-Length %r is not a number" % declared)
        if declared is not None and declared > self.max_body:
            raise FetchError("%s announces a %d-byte body; certificates are a few KiB and at most %d bytes are "
                             "accepted (max_body_size). Is base_url a KDS?" % (url, declared, self.max_body))
        chunks = []
        size = 0
        while True:
            if time.monotonic() >= self.deadline:
                raise _Retryable("the %gs deadline passed while the body arrived (%d bytes so far)"
                                 % (self.deadline_seconds, size))
            chunk = response.read1(READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body:
                raise FetchError("%s sent more than %d bytes; certificates are a few KiB (max_body_size). "
                                 "Is base_url a KDS?" % (url, self.max_body))
            chunks.append(chunk)
        if declared is not None and size != declared:
            raise _Retryable("connection closed after %d of %d announced bytes" % (size, declared))
        return b"".join(chunks)

    def _delay(self, attempt, retry_after):
        delay = self.retry_delay * (2 ** (attempt - 1))
        try:
            delay = max(delay, float(retry_after))
        except (TypeError, ValueError):
            pass
        return min(delay, RETRY_MAX_DELAY)


def _read_cached(path):
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _cached_result(path, check):
    """check(cached body), or None when the file is missing or no longer passes."""
    body = _read_cached(path)
    if body is None:
        return None
    try:
        return check(body)
    except amd_certs.ChainError:
        return None


def _write_atomically(module, path, body):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".kds_fetch.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        os.chmod(tmp, 0o644)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _target(module):
    """product, signing_key, chip_id, tcb from the report or the explicit options."""
    params = module.params
    product = params["product"]
    if params["report"]:
        try:
            with open(params["report"], "rb") as handle:
                report = snp_report.parse_report(handle.read(4096), product=product)
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read report %s: %s" % (params["report"], exc))
        except snp_report.ReportError as exc:
            module.fail_json(msg="report %s: %s" % (params["report"], exc))
        if report["product"] is None:
            module.fail_json(msg="report %s is version 2 and does not name its processor; set product "
                                 "(Milan, Genoa or Turin)" % params["report"])
        signing_key = params["signing_key"] or report["key_info"]["signing_key"]
        if signing_key not in ("VCEK", "VLEK"):
            module.fail_json(msg="the report says it was signed by %s; only VCEK and VLEK have KDS chains" % signing_key)
        tcb = dict((key, value) for key, value in report["reported_tcb"].items() if key != "raw")
        return report["product"], signing_key, report["chip_id"], tcb
    if not product:
        module.fail_json(msg="set either report or product (with chip_id and tcb for a VCEK)")
    signing_key = params["signing_key"] or "VCEK"
    chip_id, tcb = params["chip_id"], params["tcb"]
    if signing_key == "VCEK" and (not chip_id or not tcb):
        module.fail_json(msg="fetching a VCEK needs chip_id and tcb (or a report)")
    if tcb:
        try:
            tcb = dict((key, snp_report.tcb_level_value(key, value)) for key, value in tcb.items())
        except snp_report.ReportError as exc:
            module.fail_json(msg="tcb: %s" % exc)
    if chip_id:
        chip_id = chip_id.strip().lower()
        if chip_id.startswith("0x"):
            chip_id = chip_id[2:]
        try:
            binascii.unhexlify(chip_id)
        except (binascii.Error, ValueError):
            module.fail_json(msg="chip_id %r is not hex" % params["chip_id"])
    return product, signing_key, chip_id, tcb


def _trust_anchors(module):
    anchors = []
    for path in module.params["trust_anchors"]:
        try:
            with open(path, "rb") as handle:
                anchors.extend(amd_certs.load_trust_anchors([(path, handle.read(262145))]))
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read trust_anchors file %s: %s" % (path, exc))
        except amd_certs.ChainError as exc:
            module.fail_json(msg="trust_anchors file %s: %s" % (path, exc.detail))
    return anchors


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            report=dict(type="path"),
            product=dict(type="str", choices=list(snp_report.PRODUCTS)),
            chip_id=dict(type="str"),
            tcb=dict(type="dict"),
            signing_key=dict(type="str", choices=["VCEK", "VLEK"]),
            base_url=dict(type="str", default=snp_report.KDS_DEFAULT_BASE_URL),
            trust_anchors=dict(type="list", elements="path", default=[]),
            retries=dict(type="int", default=4),
            retry_delay=dict(type="float", default=2.0),
            timeout=dict(type="int", default=30),
            deadline=dict(type="float", default=120.0),
            max_body_size=dict(type="int", default=65536),
            validate_certs=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("report", "chip_id"), ("report", "tcb")],
        supports_check_mode=True,
    )
    params = module.params
    if amd_certs.CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(amd_certs.CRYPTOGRAPHY_IMPORT_ERROR))
    if params["retries"] < 0 or params["retry_delay"] < 0:
        module.fail_json(msg="retries and retry_delay must not be negative")
    if params["timeout"] <= 0 or params["deadline"] <= 0 or params["max_body_size"] <= 0:
        module.fail_json(msg="timeout, deadline and max_body_size must be positive")

    product, signing_key, chip_id, tcb = _target(module)
    anchors = _trust_anchors(module)
    product_dir = os.path.join(params["dest"], product)
    chain_path = os.path.join(product_dir, "%s_cert_chain.pem" % signing_key.lower())
    vek_path = vcek_url_path = None
    if signing_key == "VCEK":
        try:
            vcek_url_path = snp_report.kds_vcek_path(product, chip_id, tcb)
            vek_path = os.path.join(product_dir, snp_report.vcek_cache_name(product, chip_id, tcb))
        except snp_report.ReportError as exc:
            module.fail_json(msg=str(exc))

    def chain_check(body):
        return check_chain(body, product, signing_key, anchors)

    result = dict(changed=False, cert_chain=chain_path, vek=vek_path, product=product,
                  signing_key=signing_key, downloaded=[], attempts=0)
    cached_chain = None if params["force"] else _cached_result(chain_path, chain_check)

    def vcek_check(body):
        return check_vcek(body, product, chip_id, tcb, cached_chain[0])

    def vcek_cached():
        return vek_path is None or not params["force"] and _cached_result(vek_path, vcek_check) is not None

    if cached_chain is not None and vcek_cached():
        module.exit_json(anchor=cached_chain[1], **result)
    if module.check_mode:
        result["changed"] = True
        module.exit_json(**result)

    client = KdsClient(params["base_url"], params["retries"], params["retry_delay"], params["timeout"],
                       params["deadline"], params["max_body_size"], params["validate_certs"])
    try:
        if not os.path.isdir(product_dir):
            os.makedirs(product_dir, 0o755)
    except OSError as exc:
        module.fail_json(msg="cannot create the cache directory %s: %s" % (product_dir, exc), **result)

    def store(path, url, body):
        try:
            _write_atomically(module, path, body)
        except (IOError, OSError) as exc:
            result["attempts"] = client.attempts
            module.fail_json(msg="downloaded %s but cannot write %s: %s" % (url, path, exc), **result)
        result["downloaded"].append(url)
        result["changed"] = True

    try:
        if cached_chain is None:
            url, body, cached_chain = client.get(snp_report.kds_chain_path(product, signing_key), chain_check)
            store(chain_path, url, body)
        if not vcek_cached():
            url, body, _vcek = client.get(vcek_url_path, vcek_check)
            store(vek_path, url, body)
    except FetchError as exc:
        result["attempts"] = client.attempts
        module.fail_json(msg="%s. It was not written to the cache" % exc, **result)
    result["attempts"] = client.attempts
    module.exit_json(anchor=cached_chain[1], **result)


if __name__ == "__main__":
    main()
