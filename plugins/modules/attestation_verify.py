#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: attestation_verify
short_description: Verify an AMD SEV-SNP attestation report natively
version_added: 0.1.0
description:
  - Parses an SEV-SNP attestation report (version 2, 3 and later; the Turin TCB layout
    with its FMC field is recognised) and returns every field.
  - Verifies the AMD certificate chain ARK (self-signed, RSA-PSS SHA-384) -> ASK (ASVK for
    a VLEK) -> VCEK/VLEK, that the VCEK/VLEK was issued for the report's reported TCB (and,
    for a VCEK, for the report's chip), then the report's ECDSA P-384/SHA-384 signature
    over bytes 0x000-0x29F.
  - The trust anchor is never the chain file. The chain's ARK must be AMD's ARK for the
    report's product, which the collection carries pinned (certificate and SHA-256
    fingerprint), or a root listed in O(trust_anchors). A chain that is consistent in itself
    but ends in any other root fails the C(trust anchor) check. RV(anchor) names the root used.
  - The product (Milan, Genoa, Turin) comes from the report (version 3 and later) or from
    the VCEK/VLEK issuer; a chain of another product is refused, never silently replaced.
  - Optionally checks the nonce (report_data), the launch measurement, host_data, a minimum
    TCB, the VMPL, and refuses guests whose policy allows debugging.
  - With O(policy), also checks everything an attestation policy file requires (allowed
    measurements, minimum TCB, guest policy bits, VMPL, host_data, products); the options given
    as well apply in addition, so both must hold. RV(applied) says which policy and which
    measurements were checked.
  - B(Controller-side.) This module reads files where it runs and needs the Python
    C(cryptography) package there. Run it delegated to C(localhost) on the files that
    M(ansible.builtin.fetch) brought back from the guest and M(coco.sev_snp.kds_fetch)
    downloaded.
  - Never changes anything.
author:
  - coco.sev_snp maintainers (@coco-collections)
requirements:
  - cryptography >= 41 (on the host the module runs on, normally the controller)
options:
  report:
    description: Path to the binary attestation report (1184 bytes), as written by C(snpguest report).
    type: path
    required: true
  vek:
    description: Path to the VCEK or VLEK certificate, DER or PEM.
    type: path
    required: true
  cert_chain:
    description:
      - Path to the PEM bundle as KDS serves it at C(/vcek/v1/{product}/cert_chain) (ASK + ARK)
        or C(/vlek/v1/{product}/cert_chain) (ASVK + ARK). A bundle holding ASK, ARK and ASVK
        is accepted; the intermediate that matches the VCEK/VLEK issuer is used.
      - The bundle's ARK must be AMD's pinned ARK for the product or one of O(trust_anchors);
        the bundle itself is not trusted.
    type: path
    required: true
  trust_anchors:
    description:
      - Files (PEM or DER) holding additional root certificates to accept as the ARK, for
        private or test key hierarchies only.
      - AMD's roots for Milan, Genoa and Turin are built in; real hardware never needs this.
        Listing a root here makes every report signed under it C(verified), so list only
        roots you control.
      - A root is matched by the SHA-256 fingerprint of its whole certificate.
    type: list
    elements: path
    default: []
  expected_report_data:
    description:
      - Hex of the data the guest put into the report, normally the nonce. Shorter values
        are zero-padded to 64 bytes, as the guest pads them.
    type: str
  expected_measurement:
    description:
      - Hex of the expected launch measurement, exactly 48 bytes (96 hex digits, an optional
        C(0x) prefix aside). Any other length, the empty string included, is an error; it is
        never padded.
    type: str
  expected_host_data:
    description:
      - Hex of the expected HOST_DATA the hypervisor supplied at launch, exactly 32 bytes (64
        hex digits). Any other length, the empty string included, is an error.
    type: str
  min_tcb:
    description:
      - Minimum security patch levels for the report's reported TCB. Keys are C(bootloader),
        C(tee), C(snp), C(microcode) and, on Turin, C(fmc).
    type: dict
  allow_debug:
    description: Accept a guest whose policy allows debugging (policy bit 19).
    type: bool
    default: false
  vmpl:
    description: VMPL the report must have been requested at.
    type: int
  validity_time:
    description:
      - Check certificate validity at this time (ISO 8601, for example C(2025-06-01T00:00:00Z))
        instead of now, to re-verify archived evidence. VLEKs are valid for one year only.
    type: str
  policy:
    description:
      - Path of an attestation policy (YAML) on the host the module runs on. Format, version 1
        (every key but C(version) optional; unknown keys and malformed values are errors, so a typo
        never loosens a policy).
      - C(version) - C(1).
      - C(measurements) - list of allowed launch measurements, 96 hex digits each (quote them); a
        rollout lists the old and the new image.
      - C(min_tcb) - minimum reported TCB per component (C(bootloader), C(tee), C(snp), C(microcode),
        C(fmc) on Turin).
      - C(guest_policy) - required guest policy bits, each C(true) or C(false) (C(debug), C(migrate_ma),
        C(smt), C(single_socket), C(cxl_allow), C(mem_aes_256_xts), C(rapl_dis), C(ciphertext_hiding),
        C(page_swap_disable)).
      - C(vmpl) - the VMPL (0-3) the report must have been requested at.
      - C(host_data) - expected HOST_DATA, 64 hex digits.
      - C(products) - allowed processor products (C(Milan), C(Genoa), C(Turin)).
      - The collection's C(docs/examples/attestation-policy.yml) is a complete example.
    type: path
extends_documentation_fragment:
  - coco.sev_snp.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs where the files are, normally the controller (C(delegate_to) C(localhost)).
seealso:
  - module: coco.sev_snp.kds_fetch
  - module: ansible.builtin.fetch
  - name: AMD SEV-SNP ABI specification (publication 56860)
    description: Layout of the attestation report.
    link: https://www.amd.com/en/developer/sev.html
  - name: VCEK certificate and KDS interface specification (publication 57230)
    description: Certificate chain, extensions and KDS paths.
    link: https://www.amd.com/en/developer/sev.html
"""

EXAMPLES = r"""
- name: Verify the report fetched from the guest
  coco.sev_snp.attestation_verify:
    report: "/srv/sev-snp/evidence/{{ inventory_hostname }}/report.bin"
    vek: "/srv/sev-snp/evidence/{{ inventory_hostname }}/vcek.der"
    cert_chain: "/srv/sev-snp/evidence/{{ inventory_hostname }}/cert_chain.pem"
    expected_report_data: "{{ attest_nonce }}"
    expected_measurement: "{{ golden_measurement }}"  # 96 hex digits
    min_tcb:
      bootloader: 3
      snp: 8
      microcode: 115
    vmpl: 0
  delegate_to: localhost
  register: attestation

- name: Show the measurement
  ansible.builtin.debug:
    msg: "{{ attestation.report.measurement }}"

- name: Verify evidence from a private test key hierarchy (never needed on AMD hardware)
  coco.sev_snp.attestation_verify:
    report: evidence/report.bin
    vek: evidence/vcek.der
    cert_chain: evidence/cert_chain.pem
    trust_anchors:
      - /etc/sev-snp/test-ark.pem
  delegate_to: localhost
"""

RETURN = r"""
verified:
  description: True when every check passed (the module fails otherwise).
  returned: success
  type: bool
  sample: true
checks:
  description: The checks that passed, in the order they ran.
  returned: success
  type: list
  elements: str
  sample: ["report format", "trust anchor ARK-Milan (pinned AMD root)",
           "certificate chain ARK-Milan -> SEV-Milan -> VCEK", "report signature"]
anchor:
  description: The root the chain ended in.
  returned: success
  type: dict
  contains:
    source:
      description: C(pinned AMD root), or the O(trust_anchors) file that holds the root.
      type: str
      returned: success
    subject:
      description: Common name of the root, for example C(ARK-Milan).
      type: str
      returned: success
    sha256:
      description: SHA-256 fingerprint of the root certificate (DER), lower-case hex.
      type: str
      returned: success
  sample: {source: pinned AMD root, subject: ARK-Milan,
           sha256: 69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd}
product:
  description: Product whose chain verified the report.
  returned: success
  type: str
  sample: Milan
signing_key:
  description: Key that signed the report, C(VCEK) or C(VLEK).
  returned: success
  type: str
  sample: VCEK
applied:
  description: What was checked beyond the signature, so a result says which expectations it met.
  returned: success
  type: dict
  contains:
    policy:
      description: C(path) and C(sha256) of the O(policy) file, or null without one.
      type: dict
      returned: success
    measurements:
      description:
        - The launch measurements the report had to match (from O(expected_measurement) and the policy's
          C(measurements)); empty when no measurement was checked.
      type: list
      elements: str
      returned: success
  sample: {policy: {path: /srv/sev-snp/policy.yml, sha256: 9f86d081...}, measurements: [836d70ef...]}
failed_check:
  description: Name of the first check that failed.
  returned: failure
  type: str
  sample: report signature
report:
  description:
    - Every field of the report. Byte fields are lower-case hex. TCB values are dicts with
      C(bootloader), C(tee), C(snp), C(microcode), C(fmc) (null before Turin) and C(raw).
  returned: success
  type: dict
  contains:
    version: {description: Report format version., type: int, returned: always}
    guest_svn: {description: Guest security version number., type: int, returned: always}
    policy: {description: Decoded guest policy (see the policy filters)., type: dict, returned: always}
    policy_raw: {description: Guest policy as an integer., type: int, returned: always}
    family_id: {description: Family ID from the ID block., type: str, returned: always}
    image_id: {description: Image ID from the ID block., type: str, returned: always}
    vmpl: {description: VMPL the report was requested at., type: int, returned: always}
    signature_algo: {description: "Signature algorithm, 1 is ECDSA P-384 SHA-384.", type: int, returned: always}
    current_tcb: {description: Current TCB of the platform., type: dict, returned: always}
    reported_tcb: {description: TCB the VCEK/VLEK was derived for., type: dict, returned: always}
    committed_tcb: {description: Committed TCB., type: dict, returned: always}
    launch_tcb: {description: TCB at guest launch., type: dict, returned: always}
    platform_info: {description: Decoded PLATFORM_INFO flags and C(raw)., type: dict, returned: always}
    key_info: {description: "C(author_key_en), C(mask_chip_key), C(signing_key) and C(raw).", type: dict, returned: always}
    report_data: {description: 64 bytes supplied by the guest (the nonce)., type: str, returned: always}
    measurement: {description: 48-byte launch measurement., type: str, returned: always}
    host_data: {description: 32 bytes supplied by the hypervisor., type: str, returned: always}
    id_key_digest: {description: SHA-384 digest of the ID key., type: str, returned: always}
    author_key_digest: {description: SHA-384 digest of the author key., type: str, returned: always}
    report_id: {description: Report ID of the guest., type: str, returned: always}
    report_id_ma: {description: Report ID of the migration agent., type: str, returned: always}
    cpuid: {description: "CPUID family, model and stepping (version 3 and later; null before).", type: dict, returned: always}
    chip_id: {description: Chip identifier (zero when masked)., type: str, returned: always}
    current_version: {description: "Firmware C(major), C(minor), C(build).", type: dict, returned: always}
    committed_version: {description: "Committed firmware C(major), C(minor), C(build).", type: dict, returned: always}
    product: {description: Product the report belongs to., type: str, returned: always}
    signature: {description: Signature C(r) and C(s) as hex integers., type: dict, returned: always}
    signing_key: {description: C(VCEK) or C(VLEK)., type: str, returned: always}
    vek_extensions: {description: "AMD extensions of the VCEK/VLEK: C(tcb), C(hwid), C(product_name), C(csp_id).", type: dict, returned: always}
    anchor: {description: "The root the chain ended in (same as RV(anchor)).", type: dict, returned: always}
    launch_mit_vector: {description: Launch mitigation vector (version 5 and later)., type: int, returned: when present}
    current_mit_vector: {description: Current mitigation vector (version 5 and later)., type: int, returned: when present}
"""

import datetime

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, attestation_policy


def _read(module, name, limit):
    path = module.params[name]
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read %s %s: %s" % (name, path, exc), failed_check="read %s" % name)


def _validity_time(module):
    text = module.params["validity_time"]
    if not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        module.fail_json(msg="validity_time %r is not ISO 8601, for example 2025-06-01T00:00:00Z" % text,
                         failed_check="validity_time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when


def _applied(module, policy, policy_applied):
    measurements = []
    if module.params["expected_measurement"]:
        measurements.append(amd_certs.expected_hex(module.params["expected_measurement"], 48, "expected_measurement", True))
    for value in (policy or {}).get("measurements", []):
        if value not in measurements:
            measurements.append(value)
    return {"policy": policy_applied, "measurements": measurements}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            report=dict(type="path", required=True),
            vek=dict(type="path", required=True),
            cert_chain=dict(type="path", required=True),
            trust_anchors=dict(type="list", elements="path", default=[]),
            expected_report_data=dict(type="str"),
            expected_measurement=dict(type="str"),
            expected_host_data=dict(type="str"),
            min_tcb=dict(type="dict"),
            allow_debug=dict(type="bool", default=False),
            vmpl=dict(type="int"),
            validity_time=dict(type="str"),
            policy=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    if amd_certs.CRYPTOGRAPHY_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(amd_certs.CRYPTOGRAPHY_IMPORT_ERROR))

    min_tcb = module.params["min_tcb"]
    if min_tcb:
        try:
            min_tcb = dict((key, int(value)) for key, value in min_tcb.items())
        except (TypeError, ValueError):
            module.fail_json(msg="min_tcb values must be integers, got %r" % (module.params["min_tcb"],),
                             failed_check="min_tcb")
    try:
        amd_certs.expected_values(**dict((argument, module.params[argument])
                                         for argument, _field, _size, _exact in amd_certs.EXPECTED_FIELDS))
    except amd_certs.ChainError as exc:
        module.fail_json(msg="%s: %s" % (exc.check, exc.detail), failed_check=exc.check)
    policy, policy_applied = None, None
    if module.params["policy"]:
        try:
            policy, digest = attestation_policy.load(module.params["policy"])
        except attestation_policy.PolicyError as exc:
            module.fail_json(msg="policy: %s" % exc, failed_check="policy")
        policy_applied = {"path": module.params["policy"], "sha256": digest}
    anchors = []
    for path in module.params["trust_anchors"]:
        try:
            with open(path, "rb") as handle:
                anchors.extend(amd_certs.load_trust_anchors([(path, handle.read(262145))]))
        except (IOError, OSError) as exc:
            module.fail_json(msg="cannot read trust_anchors file %s: %s" % (path, exc), failed_check="read trust_anchors")
        except amd_certs.ChainError as exc:
            module.fail_json(msg="trust_anchors file %s: %s" % (path, exc.detail), failed_check="read trust_anchors")
    report_bytes = _read(module, "report", 4096)
    vek = _read(module, "vek", 65536)
    chain = _read(module, "cert_chain", 262144)
    try:
        report, passed = amd_certs.verify_attestation(
            report_bytes, vek, chain,
            expected_report_data=module.params["expected_report_data"],
            expected_measurement=module.params["expected_measurement"],
            expected_host_data=module.params["expected_host_data"],
            min_tcb=min_tcb,
            allow_debug=module.params["allow_debug"],
            vmpl=module.params["vmpl"],
            now=_validity_time(module),
            trust_anchors=anchors,
        )
    except amd_certs.ChainError as exc:
        module.fail_json(msg="attestation failed at check '%s': %s" % (exc.check, exc.detail), failed_check=exc.check,
                         applied=_applied(module, policy, policy_applied))
    if policy is not None:
        try:
            passed.extend("policy " + name for name in attestation_policy.check(report, policy))
        except attestation_policy.PolicyViolation as exc:
            module.fail_json(msg="attestation failed at check '%s' of policy %s: %s" % (
                exc.check, module.params["policy"], exc.detail), failed_check=exc.check,
                applied=_applied(module, policy, policy_applied), measurement=report["measurement"])
    module.exit_json(changed=False, verified=True, checks=passed, report=report, anchor=report["anchor"],
                     product=report["product"], signing_key=report["signing_key"],
                     applied=_applied(module, policy, policy_applied))


if __name__ == "__main__":
    main()
