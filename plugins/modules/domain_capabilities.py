#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: domain_capabilities
short_description: Read libvirt's domain capabilities and tell whether SEV-SNP guests can be defined
version_added: 0.1.0
description:
  - Runs C(virsh domcapabilities) once for the emulator, architecture, machine type and
    virtualization type a guest will use, and reports the AMD SEV parameters
    (C(cbitpos), C(reducedPhysBits), guest limits) and the launch security types on offer.
  - Lists the reasons the host cannot run SEV-SNP guests, each naming what is missing and
    how to fix it. The module itself never fails on them; the
    P(coco.sev_snp.sev_snp_guest#role) role turns them into a gate.
  - Read-only.
options:
  uri:
    description: libvirt connection URI.
    type: str
    default: qemu:///system
  virttype:
    description: Virtualization type of the guest (C(kvm) for SEV-SNP; C(qemu) is TCG).
    type: str
    default: kvm
  arch:
    description: Guest architecture.
    type: str
    default: x86_64
  machine:
    description: Machine type; C(q35) is the one SEV-SNP guests use.
    type: str
    default: q35
  emulator:
    description: Path of the QEMU binary; libvirt's default for the architecture when unset.
    type: path
extends_documentation_fragment:
  - coco.sev_snp.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Hosts with libvirt and its C(virsh) client.
requirements:
  - virsh (libvirt-clients / libvirt-client)
seealso:
  - module: community.libvirt.virt
  - module: coco.sev_snp.guest_facts
  - name: libvirt domain capabilities
    description: The XML this module parses.
    link: https://libvirt.org/formatdomaincaps.html
author:
  - coco.sev_snp maintainers (@coco-collections)
"""

EXAMPLES = r"""
- name: Read what this host offers to SEV-SNP guests
  coco.sev_snp.domain_capabilities:
  register: caps

- name: Stop here unless SEV-SNP guests can be defined
  ansible.builtin.assert:
    that: caps.snp_supported
    fail_msg: "{{ caps.snp_problems | join('; ') }}"

- name: Ask about a specific emulator
  coco.sev_snp.domain_capabilities:
    emulator: /usr/bin/qemu-system-x86_64
    machine: pc-q35-10.0
"""

RETURN = r"""
command:
  description: The virsh command that was run.
  returned: always
  type: list
  elements: str
  sample: [/usr/bin/virsh, -c, "qemu:///system", domcapabilities, --virttype, kvm, --arch, x86_64, --machine, q35]
snp_supported:
  description: SEV-SNP guests can be defined and launched according to libvirt.
  returned: always
  type: bool
  sample: true
snp_problems:
  description: Why SEV-SNP guests cannot run here, each naming what is missing and the fix; empty when they can.
  returned: always
  type: list
  elements: str
  sample: ["'sev-snp' is not among the launchSecurity types for /usr/bin/qemu-system-x86_64 (offered: sev): ..."]
snp_warnings:
  description: Doubts that do not block a definition (for example no SEV-ES ASIDs reported).
  returned: always
  type: list
  elements: str
  sample: []
domain_capabilities:
  description: The parsed capabilities.
  returned: always
  type: dict
  contains:
    complete:
      description: The whole document was parsed.
      type: bool
      sample: true
    path:
      description: Emulator path.
      type: str
      sample: /usr/bin/qemu-system-x86_64
    domain:
      description: Virtualization type.
      type: str
      sample: kvm
    machine:
      description: Canonical machine type.
      type: str
      sample: pc-q35-10.0
    arch:
      description: Architecture.
      type: str
      sample: x86_64
    host_cpu_model:
      description: CPU model of the host-model mode, or null.
      type: str
      sample: EPYC-Genoa
    firmware_loaders:
      description: Firmware images libvirt knows for this machine.
      type: list
      elements: str
      sample: [/usr/share/qemu/ovmf-x86_64-sev.bin]
    sev:
      description: The C(<sev>) feature, or null when libvirt does not report it.
      type: dict
      contains:
        supported:
          description: SEV is available to guests.
          type: bool
        cbitpos:
          description: Position of the C-bit in guest page tables, or null.
          type: int
          sample: 51
        reduced_phys_bits:
          description: Physical address bits lost to memory encryption, or null.
          type: int
          sample: 1
        max_guests:
          description: SEV guests the host can run at once, or null.
          type: int
        max_es_guests:
          description: SEV-ES and SEV-SNP guests the host can run at once, or null.
          type: int
        cpu0_id:
          description: Identifier of CPU 0 (base64), or null.
          type: str
    launch_security:
      description: The C(<launchSecurity>) feature, or null with libvirt older than 10.5.
      type: dict
      contains:
        supported:
          description: Any launch security is available.
          type: bool
        sectypes:
          description: Launch security types on offer.
          type: list
          elements: str
          sample: [sev, sev-snp]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.coco.sev_snp.plugins.module_utils.domcaps import (
    DomainCapabilitiesError,
    parse_domain_capabilities,
    snp_problems,
    snp_warnings,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            uri=dict(type="str", default="qemu:///system"),
            virttype=dict(type="str", default="kvm"),
            arch=dict(type="str", default="x86_64"),
            machine=dict(type="str", default="q35"),
            emulator=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    virsh = module.get_bin_path("virsh")
    if virsh is None:
        module.fail_json(msg="virsh was not found on this host; install the libvirt client "
                             "(libvirt-client on SUSE, libvirt-clients on Debian)")
    command = [virsh, "-c", module.params["uri"], "domcapabilities",
               "--virttype", module.params["virttype"], "--arch", module.params["arch"],
               "--machine", module.params["machine"]]
    if module.params["emulator"]:
        command += ["--emulatorbin", module.params["emulator"]]
    rc, out, err = module.run_command(command, environ_update={"LC_ALL": "C"})
    if rc != 0:
        module.fail_json(msg="'%s' failed: %s" % (" ".join(command[1:]), (err or out).strip()),
                         command=command, rc=rc)
    try:
        caps = parse_domain_capabilities(out)
    except DomainCapabilitiesError as exc:
        module.fail_json(msg="%s (from '%s')" % (exc, " ".join(command[1:])), command=command)
    problems = snp_problems(caps)
    module.exit_json(
        changed=False,
        command=command,
        snp_supported=not problems,
        snp_problems=problems,
        snp_warnings=snp_warnings(caps),
        domain_capabilities=caps,
    )


if __name__ == "__main__":
    main()
