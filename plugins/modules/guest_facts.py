#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: guest_facts
short_description: Tell from inside a guest whether it runs under AMD SEV, SEV-ES or SEV-SNP
version_added: 0.1.0
description:
  - Runs inside a virtual machine and reports whether its memory is protected by AMD SEV,
    SEV-ES or SEV-SNP, which SEV features are active, and what is missing for attestation.
  - Reads the SEV_STATUS MSR (C001_0131h) directly from C(/dev/cpu/0/msr) when that device
    exists, which is what C(snpguest ok) checks, without needing C(snpguest).
  - Reads the guest kernel log and understands every wording kernels have used, from the
    old I(AMD Secure Encrypted Virtualization - SEV - active) and I(AMD Memory Encryption
    Features active) lines to I(Memory Encryption Features active - AMD SEV SEV-ES SEV-SNP),
    the I(SEV Status) line, the SNP CPUID table and the C(sev-guest) driver lines.
  - Checks that C(/dev/sev-guest) exists, which attestation needs.
  - Read-only; never changes the guest.
options:
  root:
    description:
      - Directory that prefixes every device and file this module reads (C(/dev/cpu/0/msr),
        C(/dev/sev-guest)); point it at a copied tree to inspect a guest offline.
      - When it is not C(/) and O(kernel_log) is unset, the live kernel log is not read,
        because it would describe this machine and not the tree.
    type: path
    default: /
  kernel_log:
    description:
      - File holding a kernel log (for example a saved C(dmesg) output or a serial console
        log). Read as given, not prefixed with O(root).
      - When unset, the live log is read with C(dmesg), falling back to C(journalctl -k -b).
    type: path
extends_documentation_fragment:
  - coco.sev_snp.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Linux guests; the MSR is read only on x86_64.
  facts:
    support: full
    description: Returns its result as C(ansible_facts.sev_snp_guest).
notes:
  - Reading the MSR and the live kernel log needs root. Without the C(msr) kernel module
    the MSR is skipped and the log alone decides.
seealso:
  - module: coco.sev_snp.domain_capabilities
  - module: community.libvirt.virt
  - name: SEV_STATUS bits in the Linux kernel (msr-index.h)
    description: MSR_AMD64_SEV_* and MSR_AMD64_SNP_* bit definitions.
    link: https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/arch/x86/include/asm/msr-index.h
author:
  - coco.sev_snp maintainers (@coco-collections)
"""

EXAMPLES = r"""
- name: Gather SEV-SNP facts inside the guest
  coco.sev_snp.guest_facts:

- name: Fail unless the guest is SEV-SNP protected
  ansible.builtin.assert:
    that: ansible_facts.sev_snp_guest.snp
    fail_msg: "{{ ansible_facts.sev_snp_guest.problems | map(attribute='problem') | join('; ') }}"

- name: Judge a saved boot log instead of the live one
  coco.sev_snp.guest_facts:
    kernel_log: /var/log/guest-boot.log
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    sev_snp_guest:
      description: What this guest knows about its own memory encryption.
      returned: always
      type: dict
      contains:
        sev:
          description: Memory is encrypted with AMD SEV.
          type: bool
          returned: always
          sample: true
        sev_es:
          description: Register state is encrypted too (SEV-ES).
          type: bool
          returned: always
          sample: true
        snp:
          description: The guest runs under SEV-SNP (secure nested paging).
          type: bool
          returned: always
          sample: true
        features:
          description: Active SEV features, from the MSR when it could be read, else from the kernel log.
          type: list
          elements: str
          returned: always
          sample: [SEV, SEV-ES, SEV-SNP, DebugSwap]
        sources:
          description: What the verdict rests on, among C(msr), C(kernel_log) and C(sev_guest_device).
          type: list
          elements: str
          returned: always
          sample: [msr, kernel_log, sev_guest_device]
        sev_guest_device:
          description: C(/dev/sev-guest) exists (attestation reports can be requested).
          type: bool
          returned: always
          sample: true
        msr:
          description: The decoded SEV_STATUS MSR, or null when it could not be read.
          type: dict
          returned: always
          contains:
            value:
              description: Raw MSR value in hex.
              type: str
              sample: "0x7"
            sev:
              description: Bit 0.
              type: bool
            sev_es:
              description: Bit 1.
              type: bool
            snp:
              description: Bit 2.
              type: bool
            features:
              description: Names of the set bits.
              type: list
              elements: str
            unknown_bits:
              description: Set bits this module has no name for.
              type: list
              elements: int
        msr_error:
          description: Why the MSR was not read, or null.
          type: str
          returned: always
          sample: /dev/cpu/0/msr is missing (msr module not loaded)
        kernel_log:
          description: What the kernel log says.
          type: dict
          returned: always
          contains:
            source:
              description: Where the log came from (the file, C(dmesg), C(journal)) or null.
              type: str
            snp_cpuid_entries:
              description: Entries of the SNP CPUID table the kernel reported, or null.
              type: int
            sev_guest_driver:
              description: C(initialized), C(failed) or null when the log does not mention it.
              type: str
            vmpck_id:
              description: VMPCK the sev-guest driver uses, or null.
              type: int
            lines:
              description: The log lines the verdict used, without timestamps.
              type: list
              elements: str
        problems:
          description: What stands between this guest and an attestable SEV-SNP guest, each with its fix.
          type: list
          elements: dict
          returned: always
          contains:
            problem:
              description: What is wrong.
              type: str
            fix:
              description: How to fix it.
              type: str
"""

import errno
import os
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.coco.sev_snp.plugins.module_utils.guest_log import (
    SEV_STATUS_MSR,
    decode_sev_status,
    guest_verdict,
    parse_guest_kernel_log,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.host_files import HostFileError, open_regular
from ansible_collections.coco.sev_snp.plugins.module_utils.live_kernel_log import read_file, read_live_kernel_log

# boot.msg is a SUSE host log; a guest's own log comes from its ring buffer or journal.
GUEST_LOG_SOURCES = ("dmesg", "journal")


def _under(root, path):
    return os.path.join(root, path.lstrip("/"))


def read_sev_status(root):
    """(value, None) or (None, reason)."""
    path = _under(root, "/dev/cpu/0/msr")
    try:
        # The msr device, or a regular file in a copied tree; a FIFO there must not hang the module.
        fd = open_regular(path, allow_char_device=True)
    except HostFileError as exc:
        if exc.absent:
            return None, "/dev/cpu/0/msr is missing (msr module not loaded; modprobe msr)"
        return None, "/dev/cpu/0/msr %s (reading MSRs needs root)" % exc.reason
    try:
        data = os.pread(fd, 8, SEV_STATUS_MSR)
    except OSError as exc:
        if exc.errno == errno.EIO:
            return None, "the CPU refused to read MSR C001_0131h: this is not an AMD guest with SEV"
        return None, "reading MSR C001_0131h failed: %s" % exc.strerror
    finally:
        os.close(fd)
    if len(data) != 8:
        return None, "reading MSR C001_0131h returned %d bytes instead of 8" % len(data)
    return struct.unpack("<Q", data)[0], None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            kernel_log=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    root = module.params["root"]
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory; give the directory that holds the guest's /dev" % root)

    read = None
    if module.params["kernel_log"]:
        try:
            read = read_file(module.params["kernel_log"], parse_guest_kernel_log)
        except HostFileError as exc:
            module.fail_json(msg="cannot read kernel_log %s: it %s; give a readable regular file or leave "
                                 "kernel_log unset to read the live log" % (module.params["kernel_log"], exc.reason))
        read.source = module.params["kernel_log"]
    elif os.path.realpath(root) == "/":
        read = read_live_kernel_log(module, parse_guest_kernel_log, GUEST_LOG_SOURCES)
    log_read = read is not None and read.parsed is not None
    log = read.parsed if log_read else parse_guest_kernel_log(None)
    log_source = read.source if log_read else None
    value, msr_error = read_sev_status(root)
    msr = decode_sev_status(value) if value is not None else None
    device = os.path.exists(_under(root, "/dev/sev-guest"))

    facts = guest_verdict(log, msr, device)
    if log_read and read.incomplete:
        facts["problems"].append({
            "problem": "the kernel log was not read completely: %s" % read.incomplete,
            "fix": "pass a shorter saved log as kernel_log (the boot messages are at its start)",
        })
    if not log_read and msr is None:
        facts["problems"].append({
            "problem": "the live kernel log could not be read (dmesg and journalctl gave nothing)",
            "fix": "run as root (become: true) or pass a saved log as kernel_log",
        })
    facts.update({
        "sev_guest_device": device,
        "msr": msr,
        "msr_error": msr_error,
        "kernel_log": {
            "source": log_source,
            "snp_cpuid_entries": log["snp_cpuid_entries"],
            "sev_guest_driver": log["sev_guest_driver"],
            "vmpck_id": log["vmpck_id"],
            "lines": log["lines"],
        },
    })
    module.exit_json(changed=False, ansible_facts={"sev_snp_guest": facts})


if __name__ == "__main__":
    main()
