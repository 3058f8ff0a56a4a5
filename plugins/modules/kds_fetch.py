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
  - Retries HTTP 429 and 5xx answers and connection errors with exponential backoff.
  - Every body is checked to be a certificate of the expected product (and, for a VCEK, of
    the requested chip and TCB) before it is written; an HTML error page or a truncated
    certificate is never stored. Files are written atomically.
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
    description: KDS base URL; point it at a mirror for air-gapped sites.
    type: str
    default: https://kdsintf.amd.com
  retries:
    description: How many times a 429, 5xx or connection error is retried.
    type: int
    default: 4
  retry_delay:
    description: Seconds before the first retry; doubled for each further retry (capped at 60 seconds).
    type: float
    default: 2.0
  timeout:
    description: Timeout of one HTTP request, in seconds.
    type: int
    default: 30
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
    report: "{{ playbook_dir }}/evidence/{{ inventory_hostname }}/report.bin"
    product: Milan  # only needed for version 2 reports
    dest: "{{ playbook_dir }}/kds-cache"
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
  description: HTTP requests made, retries included.
  returned: always
  type: int
  sample: 2
"""

import binascii
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.urls import fetch_url

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, snp_report

RETRY_MAX_DELAY = 60.0


class FetchError(Exception):
    pass


def check_chain(body, product, signing_key):
    certs = amd_certs.load_certificates(body, "cert_chain")
    names = set(amd_certs.common_name(cert.subject) for cert in certs)
    intermediate = ("SEV-VLEK-%s" if signing_key == "VLEK" else "SEV-%s") % product
    for wanted in ("ARK-%s" % product, intermediate):
        if wanted not in names:
            raise amd_certs.ChainError("cert_chain content", "bundle lacks %s (holds %s)"
                                       % (wanted, ", ".join(sorted(names)) or "nothing"))


def check_vcek(body, product, chip_id, tcb):
    if body.startswith(b"-----BEGIN"):
        raise amd_certs.ChainError("vcek content", "KDS serves the VCEK as DER, got PEM")
    certs = amd_certs.load_certificates(body, "vcek")
    vcek = certs[0]
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


class KdsClient(object):
    def __init__(self, module):
        self.module = module
        self.base_url = module.params["base_url"].rstrip("/")
        self.attempts = 0

    def get(self, path):
        url = self.base_url + path
        params = self.module.params
        last = "no attempt"
        last_retry_after = None
        for attempt in range(params["retries"] + 1):
            if attempt:
                time.sleep(self._delay(attempt, last_retry_after))
            self.attempts += 1
            response, info = fetch_url(self.module, url, timeout=params["timeout"], force=True)
            status = info.get("status", -1)
            last_retry_after = info.get("retry-after")
            if status == 200 and response is not None:
                return url, response.read()
            last = "HTTP %s %s" % (status, info.get("msg", ""))
            if status == 404:
                raise FetchError("KDS answered 404 for %s: it has no certificate for this product/chip/TCB. "
                                 "Check that the product matches the processor and the TCB is the report's "
                                 "reported_tcb" % url)
            if not (status == 429 or status >= 500 or status < 0):
                raise FetchError("KDS answered %s for %s" % (last, url))
        raise FetchError("KDS did not answer successfully after %d attempts (%s): %s"
                         % (params["retries"] + 1, last.strip(), url))

    def _delay(self, attempt, retry_after):
        delay = self.module.params["retry_delay"] * (2 ** (attempt - 1))
        try:
            delay = max(delay, float(retry_after))
        except (TypeError, ValueError):
            pass
        return min(delay, RETRY_MAX_DELAY)


def _valid_cached(path, check):
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as handle:
        body = handle.read()
    try:
        check(body)
    except amd_certs.ChainError:
        return False
    return True


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
            tcb = dict((key, int(value)) for key, value in tcb.items())
        except (TypeError, ValueError):
            module.fail_json(msg="tcb values must be integers, got %r" % (params["tcb"],))
    if chip_id:
        chip_id = chip_id.strip().lower()
        if chip_id.startswith("0x"):
            chip_id = chip_id[2:]
        try:
            binascii.unhexlify(chip_id)
        except (binascii.Error, ValueError):
            module.fail_json(msg="chip_id %r is not hex" % params["chip_id"])
    return product, signing_key, chip_id, tcb


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
            retries=dict(type="int", default=4),
            retry_delay=dict(type="float", default=2.0),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("report", "chip_id"), ("report", "tcb")],
        supports_check_mode=True,
    )
    if amd_certs.CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(amd_certs.CRYPTOGRAPHY_IMPORT_ERROR))
    if module.params["retries"] < 0 or module.params["retry_delay"] < 0:
        module.fail_json(msg="retries and retry_delay must not be negative")

    product, signing_key, chip_id, tcb = _target(module)
    product_dir = os.path.join(module.params["dest"], product)
    plan = [(
        os.path.join(product_dir, "%s_cert_chain.pem" % signing_key.lower()),
        snp_report.kds_chain_path(product, signing_key),
        lambda body: check_chain(body, product, signing_key),
    )]
    vek_path = None
    if signing_key == "VCEK":
        try:
            vcek_url_path = snp_report.kds_vcek_path(product, chip_id, tcb)
        except snp_report.ReportError as exc:
            module.fail_json(msg=str(exc))
        vek_path = os.path.join(product_dir, snp_report.vcek_cache_name(product, chip_id, tcb))
        plan.append((vek_path, vcek_url_path, lambda body: check_vcek(body, product, chip_id, tcb)))

    result = dict(changed=False, cert_chain=plan[0][0], vek=vek_path, product=product,
                  signing_key=signing_key, downloaded=[], attempts=0)
    todo = [step for step in plan if module.params["force"] or not _valid_cached(step[0], step[2])]
    if not todo or module.check_mode:
        result["changed"] = bool(todo)
        module.exit_json(**result)

    client = KdsClient(module)
    try:
        if not os.path.isdir(product_dir):
            os.makedirs(product_dir, 0o755)
        for path, url_path, check in todo:
            url, body = client.get(url_path)
            try:
                check(body)
            except amd_certs.ChainError as exc:
                raise FetchError("%s did not return a usable certificate, nothing was written: %s" % (url, exc.detail))
            _write_atomically(module, path, body)
            result["downloaded"].append(url)
            result["changed"] = True
    except FetchError as exc:
        result["attempts"] = client.attempts
        module.fail_json(msg=str(exc), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write into %s: %s" % (product_dir, exc), **result)
    result["attempts"] = client.attempts
    module.exit_json(**result)


if __name__ == "__main__":
    main()
