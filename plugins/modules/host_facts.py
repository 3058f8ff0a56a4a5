#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_facts
short_description: Tell whether an AMD EPYC host can launch SEV-SNP guests now, and why not
version_added: "0.1.0"
description:
  - Reads the host once (C(/proc/cpuinfo), C(/sys/module/kvm_amd/parameters), C(/dev/sev),
    C(/proc/cmdline), C(/etc/default/grub), C(/proc/modules), C(modules-load.d),
    C(/sys/kernel/iommu_groups), C(/etc/os-release), container markers and the kernel log)
    and sets the fact C(sev_snp).
  - Never changes anything on the host; files it cannot read become V(null) in the facts,
    not a failure.
  - The kernel log comes from C(dmesg), then C(journalctl -k -b), then C(/var/log/boot.msg)
    (SUSE). When C(dmesg) is not permitted, as in most containers, the next source is used.
    When no source has the boot messages the problem C(kernel_log_unavailable) says so.
  - "Problem ids are stable: C(not_amd_epyc), C(cpu_generation_unsupported),
    C(memory_encryption_disabled_by_bios), C(rmp_table_missing), C(iommu_passthrough),
    C(iommu_snp_unsupported), C(psp_unavailable), C(snp_firmware_too_old), C(snp_init_failed),
    C(sev_init_failed), C(kvm_amd_not_loaded), C(kvm_snp_disabled), C(sev_es_asids_unavailable),
    C(guest_memfd_missing), C(msr_module_not_loaded), C(msr_module_not_persistent),
    C(iommu_nopt_not_configured), C(kernel_flavour_not_running), C(reboot_pending), C(kernel_log_incomplete),
    C(kernel_log_unavailable), C(host_files_unreadable). The gate (M(coco.sev_snp.host_gate))
    adds C(snp_firmware_below_minimum), C(sev_firmware_unchanged) and C(snp_not_confirmed)."
  - Needs no C(gather_facts).
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  root:
    description:
      - Directory prefixed to every file the module reads. Point it at a copy of a host's
        files to evaluate that host.
      - When O(root) is not C(/) and O(kernel_log) is not given, the log is read from
        C(<root>/var/log/dmesg) or C(<root>/var/log/boot.msg), never from the live host.
    type: path
    default: /
  kernel_log:
    description:
      - Path of a file on the managed host that holds a kernel log (for example a saved
        C(dmesg) output). It is read as given, not below O(root).
      - When omitted the live log is read, see O(kernel_log_sources).
    type: path
  kernel_log_sources:
    description:
      - Live log sources to try, in order. Leave out C(dmesg) where reading the ring buffer
        is not permitted.
    type: list
    elements: str
    choices: [dmesg, journal, boot.msg]
    default: [dmesg, journal, boot.msg]
  cmdline_options:
    description:
      - The kernel command line the host must boot with, as M(coco.sev_snp.kernel_cmdline)
        takes it. Options with O(cmdline_options[].state=present) missing from the boot
        configuration, or O(cmdline_options[].state=absent) ones found in it, give
        C(iommu_nopt_not_configured); ones the configuration satisfies but C(/proc/cmdline) does
        not give C(reboot_pending), an error because the host is not what its next boot makes of it.
      - Default is what the C(coco.sev_snp.sev_snp_host) role configures, from the collection's
        one list (filter C(coco.sev_snp.snp_cmdline_options)), that is C(iommu=nopt) present; C(pt) in
        C(iommu=), C(off) in C(iommu=) or C(amd_iommu=) and a true C(iommu.passthrough=) absent.
    type: list
    elements: dict
    suboptions:
      name:
        description: Kernel parameter name.
        type: str
        required: true
      value:
        description: Value; omit for a bare flag.
        type: str
      state:
        description: Whether the option must be there or must not.
        type: str
        choices: [present, absent]
        default: present
      match:
        description:
          - How a token matches, as the kernel parses the parameter. C(exact) compares the value;
            C(list) finds the value in a comma-separated list (C(amd_iommu=fullflush,off) has
            C(off)); C(bool) compares kernel booleans (C(1), C(y), C(on), C(true) are one value).
        type: str
        choices: [exact, list, bool]
        default: exact
  required_cmdline:
    description:
      - Deprecated, use O(cmdline_options). Kernel options (C(name=value) tokens) that must be in
        the boot configuration, compared exactly.
    type: list
    elements: str
  forbidden_cmdline:
    description:
      - Deprecated, use O(cmdline_options). Kernel options that must not be in the boot
        configuration, compared exactly.
    type: list
    elements: str
  grub_file:
    description:
      - The file that holds the kernel command line for the boot loader, below O(root). A
        missing or unparsable file is reported as C(iommu_nopt_not_configured) with the reason.
    type: path
    default: /etc/default/grub
  grub_cfg:
    description:
      - The GRUB menu grub-mkconfig writes, below O(root); its C(grubenv) is read from the same directory.
      - Default is C(/boot/grub2/grub.cfg) (SUSE, RHEL family), else C(/boot/grub/grub.cfg) (Debian).
    type: path
  kernel_flavour:
    description:
      - The kernel flavour the host must run, as it ends the kernel release (C(-coco) for
        C(6.4.0-150700.53.3-coco)); the whole flavour, so C(-amd64) does not match C(-cloud-amd64).
      - When set, a running kernel of another flavour gives C(kernel_flavour_not_running), an error,
        and RV(ansible_facts.sev_snp.boot.flavour) says which entry boots it. Default is no flavour.
    type: str
extends_documentation_fragment:
  - coco.sev_snp.read_only
attributes:
  platform:
    support: full
    platforms: posix
    description: Linux hosts; other systems report most facts as unknown.
  facts:
    support: full
    description: Sets C(ansible_facts.sev_snp).
seealso:
  - module: coco.sev_snp.host_gate
    description: Fail hosts that are not ready, on the controller, from these facts.
notes:
  - Run it with C(become=true); as a normal user C(dmesg) and some sysfs files are not readable.
"""

EXAMPLES = r"""
- name: Gather SEV-SNP facts
  coco.sev_snp.host_facts:

- name: Stop the rollout on hosts that cannot run SNP guests
  coco.sev_snp.host_gate:
    min_snp_api: "1.55"

- name: Evaluate a saved host tree and log (e.g. from a support bundle)
  coco.sev_snp.host_facts:
    root: /srv/bundles/host42
    kernel_log: /srv/bundles/host42/dmesg.txt

- name: In a container, where dmesg is not permitted, use the journal only
  coco.sev_snp.host_facts:
    kernel_log_sources: [journal, boot.msg]

- name: List what is wrong
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.message }} -> {{ item.fix }}"
  loop: "{{ ansible_facts.sev_snp.problems }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    sev_snp:
      description: SEV-SNP readiness of the host.
      returned: always
      type: dict
      contains:
        ready:
          description:
            - The verdict of the collection's one readiness decision (the same that
              M(coco.sev_snp.host_gate) applies, here without an operator minimum), True when no
              error-severity problem holds, the SNP firmware is at least 1.51 and the host
              positively shows SEV-SNP running (the PSP reported C(SEV-SNP API) and SNP
              initialized, or kvm_amd runs with C(sev_snp=Y)).
          type: bool
          sample: true
        problems:
          description:
            - Every problem the evidence supports, root causes first.
            - "Ids: C(not_amd_epyc), C(cpu_generation_unsupported), C(memory_encryption_disabled_by_bios),
              C(rmp_table_missing), C(iommu_passthrough), C(iommu_snp_unsupported), C(psp_unavailable),
              C(snp_firmware_too_old), C(snp_init_failed), C(sev_init_failed), C(kvm_amd_not_loaded),
              C(kvm_snp_disabled), C(sev_es_asids_unavailable), C(guest_memfd_missing),
              C(msr_module_not_loaded), C(msr_module_not_persistent), C(iommu_nopt_not_configured),
              C(kernel_flavour_not_running), C(reboot_pending), C(kernel_log_incomplete), C(kernel_log_unavailable),
              C(host_files_unreadable)."
          type: list
          elements: dict
          contains:
            id:
              description: Stable problem id.
              type: str
              sample: iommu_passthrough
            severity:
              description: C(error) blocks SNP guests now; C(warning) does not.
              type: str
              sample: error
            message:
              description: What the evidence shows.
              type: str
            fix:
              description: What to do about it.
              type: str
        firmware:
          description:
            - SEV firmware versions reported by the PSP in the kernel log (last report wins), the firmware
              files the kernel would load for this CPU and the update the log shows.
          type: dict
          contains:
            sev_api:
              description: API version from C(SEV API:x.y build:n), or null.
              type: str
              sample: "1.55"
            sev_build:
              description: Build from the same line, or null.
              type: int
              sample: 21
            snp_api:
              description: API version from C(SEV-SNP API:x.y build:n), or null.
              type: str
              sample: "1.55"
            snp_build:
              description: Build from the same line, or null.
              type: int
              sample: 21
            in_use:
              description:
                - The version the SEV firmware runs now, C(api) and C(build) from the last C(SEV-SNP API) line
                  (else the last C(SEV API) line); null when the log has neither.
              type: dict
              sample: {api: "1.55", build: 39}
            candidates:
              description:
                - The files the ccp driver requests for this CPU, in its order (see the filter
                  C(coco.sev_snp.sev_firmware_files)); empty when the CPU is not an AMD one or unknown.
              type: list
              elements: str
              sample: [amd/amd_sev_fam19h_model11h.sbin, amd/amd_sev_fam19h_model1xh.sbin, amd/sev.fw]
            files:
              description:
                - The candidates that exist below O(root) as regular files, in the order the kernel tries them,
                  that is each name with no suffix, C(.zst) and C(.xz), in the directory of C(firmware_class.path=),
                  C(/lib/firmware/updates/<release>), C(/lib/firmware/updates), C(/lib/firmware/<release>) and
                  C(/lib/firmware). Only examined with C(stat); no file is opened.
              type: list
              elements: dict
              contains:
                path:
                  description: Path on the host.
                  type: str
                  sample: /lib/firmware/amd/amd_sev_fam19h_model1xh.sbin.xz
                name:
                  description: The name the kernel requested.
                  type: str
                  sample: amd/amd_sev_fam19h_model1xh.sbin
                size:
                  description: Size in bytes (of the compressed file for C(.xz) and C(.zst)).
                  type: int
                mtime:
                  description: Modification time, seconds since the epoch.
                  type: int
                ctime:
                  description: Status change time (set when the file is installed or copied), seconds since the epoch.
                  type: int
            unusable:
              description: Candidates that exist but cannot be loaded (a directory, FIFO, device, or not examinable), with the reason.
              type: list
              elements: dict
            next_boot_file:
              description: The first of C(files), the image the ccp driver loads at the next boot; null when none.
              type: str
            changed_since_boot:
              description:
                - Whether C(next_boot_file) changed (its ctime) after the running kernel booted (C(btime) of
                  C(/proc/stat)), so the firmware running now cannot have come from it and a reboot is needed for it;
                  false when there is no such file, null when either time is unknown.
              type: bool
            updated_at_boot:
              description:
                - The kernel log shows the ccp driver loading a SEV firmware image (C(SEV firmware update successful)
                  up to Linux 6.11, C(SEV firmware updated from a.b.c to x.y.z) from 6.12, which prints only
                  when the version changed).
              type: bool
            update:
              description:
                - The last update line, or null. C(form) is C(update_successful), C(updated_from) or C(same_as_old)
                  (a runtime upload that changed nothing); C(changed) is null when the line does not say;
                  C(from) and C(to) are C(api)/C(build) dicts, C(to) taken from the API lines when the
                  line has no versions.
              type: dict
            loaded_file:
              description: The file the kernel says it loaded (Debian and Ubuntu kernels log it), or null.
              type: str
            load_failures:
              description: Files the kernel says it failed to load (Debian and Ubuntu kernels log them).
              type: list
              elements: str
        cpu:
          description: The first CPU of C(/proc/cpuinfo).
          type: dict
          contains:
            vendor:
              description: C(vendor_id), for example C(AuthenticAMD) or C(HygonGenuine).
              type: str
            family:
              description: CPU family (decimal; 25 is 19h).
              type: int
            model:
              description: CPU model (decimal).
              type: int
            generation:
              description: EPYC generation (Naples, Rome, Milan, Genoa, Bergamo/Siena, Turin) or null.
              type: str
              sample: Milan
            model_name:
              description: C(model name) line.
              type: str
            flags:
              description: The memory encryption flags (sme, sev, sev_es, sev_snp); null when unknown.
              type: dict
            snp_capable:
              description: Whether the generation has SEV-SNP (null when unknown).
              type: bool
            firmware_file:
              description: SEV firmware file name the ccp driver loads for this CPU.
              type: str
              sample: amd_sev_fam19h_model0xh.sbin
        kvm:
          description: kvm_amd state; null where unknown.
          type: dict
          contains:
            loaded:
              description: Whether kvm_amd is loaded.
              type: bool
            sev:
              description: Parameter C(sev) (Y/1 true, N/0 false, missing file null).
              type: bool
            sev_es:
              description: Parameter C(sev_es).
              type: bool
            sev_snp:
              description: Parameter C(sev_snp).
              type: bool
        iommu:
          description: IOMMU state.
          type: dict
          contains:
            mode:
              description: C(translated), C(passthrough), C(disabled) or C(unknown).
              type: str
        msr:
          description: msr module state.
          type: dict
          contains:
            loaded:
              description: Whether msr is loaded (null when unknown).
              type: bool
            persistent:
              description: Whether a modules-load.d file loads it at boot.
              type: bool
        cmdline:
          description: Kernel command line, running and configured.
          type: dict
          contains:
            running:
              description: Tokens of C(/proc/cmdline).
              type: list
              elements: str
            configured:
              description: Tokens of C(GRUB_CMDLINE_LINUX) and C(GRUB_CMDLINE_LINUX_DEFAULT).
              type: list
              elements: str
            reboot_required:
              description: Managed options are configured but the running kernel lacks them.
              type: bool
            pending:
              description: The options that wait for a reboot (C(no X) for one still running but removed).
              type: list
              elements: str
            unsatisfied:
              description:
                - The options of O(cmdline_options) the running kernel does not satisfy, whatever the boot
                  configuration says (C(no X) for one it must not have). Empty when the running kernel
                  runs the way every option asks; every present option when C(/proc/cmdline) is unreadable.
                - The role C(coco.sev_snp.sev_snp_host) reboots a host when this is not empty.
              type: list
              elements: str
              sample: [iommu=nopt]
        kernel_log:
          description: Where the kernel log came from.
          type: dict
          contains:
            source:
              description: C(dmesg), C(journal), C(boot.msg), C(file) or null.
              type: str
            lines:
              description: Lines read.
              type: int
            reaches_boot:
              description: Whether the log still holds the boot messages.
              type: bool
            kernel_release:
              description: Kernel release from the C(Linux version) line, when present.
              type: str
            complete:
              description:
                - Whether the whole log was read. A log read only in part gives
                  C(kernel_log_incomplete), which keeps the host from being ready.
              type: bool
        psp:
          description: AMD Secure Processor devices seen.
          type: dict
          contains:
            present:
              description: A PSP offered SEV (log) or C(/dev/sev) exists.
              type: bool
            devices:
              description: PCI addresses of the ccp devices in the log.
              type: list
              elements: str
            dev_sev:
              description: Whether C(/dev/sev) exists (null when C(/dev) is absent).
              type: bool
            snp_initialized:
              description: The log shows SNP initialized (and no later failure).
              type: bool
        rmp:
          description: RMP table range from the log.
          type: dict
          contains:
            start:
              description: First address, or null.
              type: str
            end:
              description: Last address, or null.
              type: str
        asids:
          description: ASID ranges KVM reported for sev, sev_es and sev_snp (state, min, max, count), or null.
          type: dict
        os:
          description:
            - The operating system, from C(/etc/os-release) (C(/usr/lib/os-release) when that is missing);
              every key is null when neither exists.
            - Lets a play pick per-OS settings without a separate C(setup) round trip.
          type: dict
          contains:
            id:
              description: C(ID), for example C(opensuse-leap), C(sles), C(debian).
              type: str
            name:
              description: C(NAME), for example C(openSUSE Leap).
              type: str
            version:
              description: C(VERSION_ID), for example C(15.7).
              type: str
            family:
              description:
                - C(Suse), C(Debian) or C(RedHat) (the names of C(ansible_facts.os_family)), from C(ID)
                  and then C(ID_LIKE); null for other systems.
              type: str
        boot:
          description:
            - The GRUB menu and the kernel, from C(grub.cfg), its C(grubenv), C(GRUB_DEFAULT) of O(grub_file)
              and C(/proc/sys/kernel/osrelease) (else C(/proc/version)).
          type: dict
          contains:
            grub_cfg:
              description: The grub.cfg read (null when none could be read).
              type: str
              sample: /boot/grub2/grub.cfg
            entries:
              description:
                - Every menu entry, nested ones included, in menu order.
                - C(path) is what C(grub2-set-default) and C(saved_entry) take (ids joined by C(>), the title
                  where an entry has no id); C(title_path) the same in titles; C(kernel) the path given to
                  C(linux), C(release) and C(flavour) read from it; C(recovery) a recovery entry.
              type: list
              elements: dict
            grub_default:
              description: C(GRUB_DEFAULT) of O(grub_file) (null when unset, which GRUB reads as 0).
              type: str
              sample: saved
            saved_entry:
              description: C(saved_entry) of grubenv, or null.
              type: str
            next_entry:
              description: C(next_entry) of grubenv (a one-time choice), or null.
              type: str
            next:
              description: The entry GRUB boots next (same keys as an item of RV(ansible_facts.sev_snp.boot.entries)), or null.
              type: dict
            next_via:
              description: What chose it, C(next_entry), C(saved_entry) or C(default).
              type: str
            next_fallback:
              description: The default names no entry, so GRUB falls back to the first one.
              type: bool
            next_reason:
              description: Why the first entry boots (fallback or no saved entry), or null.
              type: str
            stale:
              description: grub.cfg was generated with another GRUB_DEFAULT than O(grub_file) holds now.
              type: bool
            running_release:
              description: The running kernel's release (C(uname -r)).
              type: str
              sample: 6.4.0-150700.53.3-coco
            running_flavour:
              description: Its flavour (C(coco), C(default), C(cloud-amd64)), or null.
              type: str
            flavour:
              description:
                - Null unless O(kernel_flavour) is set. C(wanted) the flavour, C(running) whether the running kernel is
                  of it, C(entry) the entry to select for it (newest release, not recovery) or null, C(boots_next)
                  whether the next boot starts a kernel of it.
              type: dict
            error:
              description: What could not be read or parsed, or null.
              type: str
        container:
          description: Whether the host is a container (containers cannot load kernel modules or reboot).
          type: dict
          contains:
            detected:
              description: True in a container, false otherwise.
              type: bool
            type:
              description:
                - The engine, as C(/run/systemd/container) or PID 1's C(container=) names it (C(podman),
                  C(docker), C(lxc), C(systemd-nspawn)...), else from C(/run/.containerenv),
                  C(/.dockerenv), C(/proc/vz) or C(/proc/1/cgroup); null outside a container.
              type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    OptionError,
    validate_options,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import (
    build_facts,
)
from ansible_collections.coco.sev_snp.plugins.module_utils.host_snapshot import HostReader, read_host
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options, options_from_tokens


def cmdline_options(module):
    """The options the command line is judged by: cmdline_options, the deprecated token lists,
    or what the sev_snp_host role configures."""
    params = module.params
    if params["required_cmdline"] is not None or params["forbidden_cmdline"] is not None:
        module.deprecate("required_cmdline and forbidden_cmdline are replaced by cmdline_options (dicts with "
                         "name, value, state and match, as coco.sev_snp.kernel_cmdline takes them)",
                         version="1.0.0", collection_name="coco.sev_snp")
        bad = [o for o in (params["required_cmdline"] or []) + (params["forbidden_cmdline"] or [])
               if not o or any(c.isspace() for c in o)]
        if bad:
            module.fail_json(msg="required_cmdline/forbidden_cmdline take one kernel option per item, without "
                                 "spaces (e.g. iommu=nopt); got %s." % ", ".join(repr(o) for o in bad))
        options = options_from_tokens(params["required_cmdline"] or (), params["forbidden_cmdline"] or ())
    elif params["cmdline_options"] is not None:
        options = params["cmdline_options"]
    else:
        options = default_options()
    try:
        return validate_options(options)
    except OptionError as exc:
        module.fail_json(msg="cmdline_options: %s" % exc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            kernel_log=dict(type="path"),
            kernel_log_sources=dict(type="list", elements="str", choices=["dmesg", "journal", "boot.msg"],
                                    default=["dmesg", "journal", "boot.msg"]),
            cmdline_options=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                value=dict(type="str"),
                state=dict(type="str", choices=["present", "absent"], default="present"),
                match=dict(type="str", choices=["exact", "list", "bool"], default="exact"),
            )),
            required_cmdline=dict(type="list", elements="str"),
            forbidden_cmdline=dict(type="list", elements="str"),
            grub_file=dict(type="path", default="/etc/default/grub"),
            grub_cfg=dict(type="path"),
            kernel_flavour=dict(type="str"),
        ),
        mutually_exclusive=[("cmdline_options", "required_cmdline"), ("cmdline_options", "forbidden_cmdline")],
        supports_check_mode=True,
    )
    root = module.params["root"]
    if not os.path.isdir(root):
        module.fail_json(msg="root=%s is not a directory; give the directory that holds the host's "
                             "proc/, sys/ and etc/ (default /)." % root)
    options = cmdline_options(module)

    snapshot = read_host(module, HostReader(root), module.params["grub_file"], module.params["kernel_log"],
                         module.params["kernel_log_sources"], grub_cfg=module.params["grub_cfg"],
                         kernel_flavour=module.params["kernel_flavour"])
    facts = build_facts(snapshot, options)
    module.exit_json(changed=False, ansible_facts={"sev_snp": facts})


if __name__ == "__main__":
    main()
