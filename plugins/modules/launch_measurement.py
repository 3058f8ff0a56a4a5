#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: launch_measurement
short_description: Compute the expected SEV-SNP launch measurement of a guest
version_added: 0.2.0
description:
  - Computes the launch digest (the C(MEASUREMENT) field of an SEV-SNP attestation report) that a
    guest launched by QEMU from O(ovmf), with O(vcpus) vCPUs of one CPU model and, for direct kernel
    boot with kernel hashes, O(kernel), O(initrd) and O(append), must report.
  - The digest is computed by L(sev-snp-measure,https://github.com/virtee/sev-snp-measure), the
    reference implementation (virtee, Apache-2.0), used as a library. This module checks the inputs
    first so that a firmware that cannot launch an SNP guest, or that cannot measure a kernel, is an
    error saying so instead of a digest no guest will ever report.
  - B(Controller-side.) Run it on the controller (C(delegate_to) C(localhost)) or wherever the
    firmware and kernel files are; it needs the Python package C(sev-snp-measure) there. The
    collection's C(requirements.txt) and execution environment carry it.
  - B(What changes the result besides the files.) The host kernel and QEMU version decide two
    inputs that the domain definition does not show. O(guest_features) is the VMSA's SEV_FEATURES
    field; Linux host kernels before 6.6 set C(0x1) (SNPActive), 6.6 and 6.7 set C(0x21)
    (SNPActive + DebugSwap), and from 6.8 on (kernel commit 5abf6dceb066) C(0x1) again unless
    DebugSwap is enabled explicitly. Upstream KVM hosts SNP guests from 6.11 on; the earlier versions are
    AMD's out-of-tree SNP host branches based on them. sev-snp-measure 0.0.9 changed its default to
    C(0x21) and 0.0.10 back to C(0x1); this module's default is C(0x1).
  - The initial VMSA layout changed with KVM_SEV_INIT2 (host kernel 6.10 and later, with a QEMU that
    uses it, QEMU 9.1 and later with upstream SNP support), which sets MXCSR (C(0x1f80)) and the x87
    control word (C(0x37f)) in every vCPU's VMSA. sev-snp-measure 0.0.10 and later compute that
    layout; measurements of guests on older SNP host kernels (the out-of-tree AMD SNP branches) differ
    and cannot be computed with this version of the library.
  - The CPU model matters with QEMU because QEMU writes the vCPU signature into every vCPU's initial
    RDX; EC2 and GCE write a fixed value, so O(vcpu_type) may be omitted there.
author:
  - coco.sev_snp maintainers (@coco-collections)
requirements:
  - sev-snp-measure >= 0.0.10 (Python package, on the host the module runs on, normally the controller)
extends_documentation_fragment:
  - coco.sev_snp.read_only
options:
  ovmf:
    description:
      - The OVMF firmware image the guest boots (libvirt's C(<loader>)), for example
        C(/usr/share/qemu/ovmf-x86_64-sev.bin) on SUSE. It must carry SEV-SNP metadata.
      - Debian 12's C(ovmf) package has it in C(/usr/share/OVMF/OVMF_CODE.fd) (without a kernel hashes
        section) but not in C(OVMF_CODE_4M.fd).
    type: path
    required: true
  vcpus:
    description: Number of vCPUs the guest starts with; one VMSA page is measured per vCPU.
    type: int
    required: true
  vcpu_type:
    description:
      - The guest's CPU model as QEMU names it, one of the names sev-snp-measure knows, for example
        C(EPYC-v4), C(EPYC-Milan), C(EPYC-Genoa) or C(EPYC-Turin). Versions of one model (C(EPYC-Milan-v2))
        have the same signature.
      - Mutually exclusive with O(vcpu_family)/O(vcpu_model)/O(vcpu_stepping) and O(vcpu_sig). One of
        them is required with O(vmm_type=QEMU); a C(host-passthrough) guest has the host CPU's family,
        model and stepping.
    type: str
  vcpu_family:
    description: CPU family (decimal), for example C(25) for Milan and Genoa. Needs O(vcpu_model) and O(vcpu_stepping).
    type: int
  vcpu_model:
    description: CPU model number (decimal), for example C(1) for Milan.
    type: int
  vcpu_stepping:
    description: CPU stepping (0-15).
    type: int
  vcpu_sig:
    description: The 32-bit CPUID signature, decimal or C(0x) hex, for example C(0xa00f11) for EPYC-Milan.
    type: str
  vmm_type:
    description: Which VMM launches the guest; EC2 and GCE set up the initial vCPU state differently from QEMU.
    type: str
    choices: [QEMU, ec2, gce]
    default: QEMU
  guest_features:
    description:
      - The VMSA's SEV_FEATURES value as hex, decided by the host kernel (see the description).
        Bit 0 (SNPActive) must be set; AMD reserves bits 11, 13 and 16-63.
    type: str
    default: "0x1"
  kernel:
    description:
      - Kernel of a direct kernel boot with kernel hashes (libvirt C(<kernel>) with
        C(<launchSecurity type='sev-snp' kernelHashes='yes'>)). The firmware must have an
        C(SNP_KERNEL_HASHES) section, which only the SEV build of OVMF (edk2 OvmfPkg/AmdSev) has.
    type: path
  initrd:
    description: Initrd of the direct kernel boot; needs O(kernel). Without it an empty initrd is measured, as QEMU does.
    type: path
  append:
    description: Kernel command line of the direct kernel boot; needs O(kernel). Without it an empty command line is measured.
    type: str
  ovmf_hash:
    description:
      - Precomputed firmware digest (96 hex digits, C(sev-snp-measure --mode snp:ovmf-hash)) to use instead of
        hashing the pages of O(ovmf). O(ovmf) is still read for its metadata and reset vector.
    type: str
attributes:
  platform:
    support: full
    platforms: posix
    description: Runs where the firmware and kernel files are, normally the controller.
seealso:
  - module: coco.sev_snp.attestation_verify
  - plugin: coco.sev_snp.snp_measurement_inputs
    plugin_type: filter
  - name: sev-snp-measure
    description: The reference implementation this module uses, with its changelog.
    link: https://github.com/virtee/sev-snp-measure
"""

EXAMPLES = r"""
- name: Expected measurement of a guest booting SUSE's SEV firmware with 4 EPYC-Milan vCPUs
  coco.sev_snp.launch_measurement:
    ovmf: /srv/firmware/ovmf-x86_64-sev.bin
    vcpus: 4
    vcpu_type: EPYC-Milan
  delegate_to: localhost
  register: expected

- name: Direct kernel boot with kernel hashes, host kernel 6.6 (DebugSwap on)
  coco.sev_snp.launch_measurement:
    ovmf: /srv/firmware/OVMF.amdsev.fd
    vcpus: 2
    vcpu_type: EPYC-Genoa
    guest_features: "0x21"
    kernel: /srv/guests/web1/vmlinuz
    initrd: /srv/guests/web1/initrd
    append: console=ttyS0 root=/dev/vda2
  delegate_to: localhost

- name: The inputs taken from a libvirt domain definition
  coco.sev_snp.launch_measurement:
    ovmf: "{{ inputs.ovmf }}"
    vcpus: "{{ inputs.vcpus }}"
    vcpu_type: "{{ inputs.vcpu_type }}"
    kernel: "{{ inputs.kernel | default(omit, true) }}"
    initrd: "{{ inputs.initrd | default(omit, true) }}"
    append: "{{ inputs.append | default(omit, true) }}"
  vars:
    inputs: "{{ domain_xml | coco.sev_snp.snp_measurement_inputs }}"
  delegate_to: localhost
"""

RETURN = r"""
measurement:
  description: The expected launch measurement, 96 lowercase hex digits (SHA-384).
  returned: success
  type: str
  sample: 836d70ef6fb294660c2227b0f535c07f814a965442bccfa75a240f478a9f4abd1a63dd0c796f3a75d7f16b02b1d3b8ee
inputs:
  description:
    - The inputs the measurement was computed from, as used (the vCPU signature resolved, the guest features
      normalised), with the SHA-256 of each file read, so a record shows which files it was made from.
  returned: success
  type: dict
  sample:
    ovmf: /usr/share/OVMF/OVMF_CODE.fd
    ovmf_sha256: 3b1d8a3c...
    ovmf_hash: null
    vcpus: 1
    vcpu_type: EPYC-Milan
    vcpu_sig: "0xa00f11"
    vcpu_given_as: vcpu_type EPYC-Milan
    vmm_type: QEMU
    guest_features: "0x1"
    kernel: null
    kernel_sha256: null
    initrd: null
    initrd_sha256: null
    append: null
firmware:
  description: What the firmware image offers for SEV-SNP.
  returned: success
  type: dict
  contains:
    snp_metadata:
      description: Whether the image has the SEV metadata table (always true on success; the module fails otherwise).
      returned: success
      type: bool
      sample: true
    sections:
      description: The SEV metadata sections, in the order the firmware lists them.
      returned: success
      type: list
      elements: str
      sample: [SNP_SEC_MEM, SNP_SEC_MEM, SNP_SECRETS, CPUID, SNP_SEC_MEM]
    kernel_hashes:
      description: Whether it has an C(SNP_KERNEL_HASHES) section (direct kernel boot can be measured).
      returned: success
      type: bool
      sample: false
    size:
      description: Size of the image in bytes.
      returned: success
      type: int
      sample: 1966080
sev_snp_measure_version:
  description: Version of the sev-snp-measure library that computed the measurement.
  returned: always
  type: str
  sample: 0.0.13
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.coco.sev_snp.plugins.module_utils import launch_measurement as lm


def run(params):
    """The module's result for validated parameters; raises lm.MeasurementError."""
    vmm_type = params["vmm_type"]
    vcpu_sig, named = lm.vcpu_signature(params.get("vcpu_type"), params.get("vcpu_family"), params.get("vcpu_model"),
                                        params.get("vcpu_stepping"), params.get("vcpu_sig"), vmm_type)
    features = lm.guest_features(params["guest_features"])
    measurement, firmware = lm.compute(
        params["ovmf"], params["vcpus"], vcpu_sig, vmm_type, features,
        params.get("kernel"), params.get("initrd"), params.get("append"), params.get("ovmf_hash"))
    kernel = params.get("kernel") or None
    initrd = (params.get("initrd") or None) if kernel else None
    inputs = {
        "ovmf": params["ovmf"],
        "ovmf_sha256": lm.sha256_file(params["ovmf"]),
        "ovmf_hash": (params.get("ovmf_hash") or "").lower() or None,
        "vcpus": params["vcpus"],
        "vcpu_type": params.get("vcpu_type") or None,
        "vcpu_sig": None if vcpu_sig is None else "0x%x" % vcpu_sig,
        "vcpu_given_as": named,
        "vmm_type": vmm_type,
        "guest_features": "0x%x" % features,
        "kernel": kernel,
        "kernel_sha256": lm.sha256_file(kernel) if kernel else None,
        "initrd": initrd,
        "initrd_sha256": lm.sha256_file(initrd) if initrd else None,
        "append": params.get("append") if kernel else None,
    }
    return {"changed": False, "measurement": measurement, "inputs": inputs, "firmware": firmware,
            "sev_snp_measure_version": lm.library_version()}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ovmf=dict(type="path", required=True),
            vcpus=dict(type="int", required=True),
            vcpu_type=dict(type="str"),
            vcpu_family=dict(type="int"),
            vcpu_model=dict(type="int"),
            vcpu_stepping=dict(type="int"),
            vcpu_sig=dict(type="str"),
            vmm_type=dict(type="str", choices=list(lm.VMM_TYPES), default="QEMU"),
            guest_features=dict(type="str", default="0x1"),
            kernel=dict(type="path"),
            initrd=dict(type="path"),
            append=dict(type="str"),
            ovmf_hash=dict(type="str"),
        ),
        mutually_exclusive=[("vcpu_type", "vcpu_sig"), ("vcpu_type", "vcpu_family"), ("vcpu_sig", "vcpu_family")],
        required_together=[("vcpu_family", "vcpu_model", "vcpu_stepping")],
        required_by={"initrd": "kernel", "append": "kernel"},
        supports_check_mode=True,
    )
    if lm.SEVSNPMEASURE_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(lm.PACKAGE), exception=str(lm.SEVSNPMEASURE_IMPORT_ERROR),
                         sev_snp_measure_version=None)
    try:
        result = run(module.params)
    except lm.MeasurementError as exc:
        module.fail_json(msg=str(exc), sev_snp_measure_version=lm.library_version())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
