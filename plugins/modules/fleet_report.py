#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name, on the controller; this file
# carries its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Write the SEV-SNP fleet readiness report on the controller
description:
  - Collects, for every host in O(hosts), the result that M(coco.sev_snp.host_facts) registered
    under O(result_var), and writes one readiness report for the whole fleet on the controller,
    as C(fleet.json), C(fleet.md) and C(fleet.html).
  - One row per host with its status (ready, not ready, unreachable, failed), EPYC generation,
    SNP firmware API and build, IOMMU mode, msr module state, whether a reboot is pending,
    and the problem ids; rows are sorted by status (not ready, failed, unreachable, ready), then
    by name. Not-ready hosts are listed with each problem and its fix.
  - At the top of C(fleet.md) and C(fleet.html), and as C(by_problem) in C(fleet.json), every problem
    id once with the number of hosts, the fix and the host list (collapsed with C(<details>) in HTML).
    Hosts that could not be checked carry a problem too (C(host_unreachable), C(become_failed),
    C(facts_module_failed), C(facts_missing)), so they appear there with their fix.
  - A refused privilege escalation (sudo's "a password is required", "is not in the sudoers file",
    "incorrect password" and the like) is reported as C(become_failed), naming the fixes (-K or
    C(ansible_become_password), C(ansible_become_user), C(ansible_become_method), or running without
    become).
  - A host in O(hosts) without a registered result, an unreachable host and a host where the
    facts module failed all get a row with the reason; no host is dropped.
  - Every text that comes from a host is made one line without control or bidirectional-override
    characters and cut at 1000 characters; every field has the type its column promises (a boolean
    column that receives anything else shows unknown). Markdown, HTML and JSON then escape it.
  - The HTML page is self-contained (inline CSS, no script, no external resource, a
    Content-Security-Policy that forbids both).
  - Each run that finds a change writes a new directory C(runs/<UTC time>) (for example
    C(runs/20261130T151157Z)) under O(dest). When O(hosts) covers all of O(inventory_hosts), the run is
    full, and the one-line text file C(latest) then names it (C(runs/20261130T151157Z)) and C(fleet.json),
    C(fleet.md) and C(fleet.html) directly in O(dest) are copies of it. C(latest) is a file, not a
    symlink, so that it survives copying the directory to places that drop symlinks (zip, object
    stores, Windows shares, CI artifacts).
  - A run that covers only part of the inventory (C(-l), or a host pattern smaller than the inventory)
    says so in its report, is written to C(runs/<UTC time>-partial), and leaves C(latest) and the
    copies alone.
  - A run whose report equals the newest report of its kind (full or partial), the time aside, writes
    nothing at all; the files keep the time at which that state was first seen, and the task reports
    C(changed) only when it wrote or removed a file.
  - The newest O(keep) run directories are kept; older ones are removed, except the one C(latest) names
    and any that holds a file the report did not write.
  - Controller-side. Runs entirely on the controller and never contacts the managed hosts; use it
    once per play with C(run_once=true).
  - Files are written atomically (written beside the target, then renamed over it); C(latest) is
    written last, so it always names a complete run.
  - In check mode nothing is written, as with M(ansible.builtin.template); the summary and the
    table are still returned.
version_added: 0.1.0
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  hosts:
    description:
      - The hosts that get a row; normally C(ansible_play_hosts_all), which keeps unreachable and
        failed hosts.
    type: list
    elements: str
    required: true
  inventory_hosts:
    description:
      - Every host of the inventory, normally C(groups['all']). When some are not in O(hosts) the run
        is partial (see above).
      - Defaults to C(groups['all']) of the play.
    type: list
    elements: str
  result_var:
    description:
      - Name of the variable under which each host registered the result of
        M(coco.sev_snp.host_facts).
    type: str
    default: sev_snp_host_facts_result
  dest:
    description:
      - Directory that receives the runs, C(latest) and the copies of the newest full run (see above);
        created when missing.
      - A relative path is relative to the directory ansible-playbook was started from, not to
        the playbook (which may live inside an installed collection).
    type: path
    default: sev_snp_report
  keep:
    description:
      - Number of run directories to keep under C(runs/) (full and partial together); at least 1.
    type: int
    default: 30
  bios:
    description:
      - Add the BIOS column, from the BIOS check each host recorded under O(bios_var) (the role
        C(coco.sev_snp.sev_snp_bios) with C(tasks_from=check); check_host does this with
        C(-e sev_snp_check_bios=true)).
      - The column shows V(ok), the BIOS problems each with the exact attribute change
        (for example C(bios_snp_disabled) followed by C(set Snp=Enabled)), the BMC failure (C(BMC unreachable)
        or C(BMC refused the credentials), then what the BMC said) or C(not checked) and why, for a host
        without BMC variables.
        A BMC that could not be read is never shown as V(ok).
      - The BIOS problems join the host's problems (in C(by_problem) too, with their fixes). An
        error among them (a setting that is off) makes a ready host not ready, through the same
        decision as the host's own problems; a BMC failure and V(bios_settings_unknown) are warnings
        that leave the readiness to the host's own evidence.
    type: bool
    default: false
  bios_var:
    description:
      - Name of the variable under which each host recorded its BIOS check (see O(bios)).
    type: str
    default: sev_snp_bios_check
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the report is rendered and returned but not written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
    details: The diff is that of C(fleet.md), from the previous run of the same kind to this one.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details: Runs on the controller only; the managed hosts are never contacted.
seealso:
  - module: coco.sev_snp.host_facts
  - module: coco.sev_snp.host_gate
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Gather SEV-SNP facts, keeping unreachable and failed hosts for the report
  coco.sev_snp.host_facts:
  register: sev_snp_host_facts_result
  ignore_unreachable: true
  ignore_errors: true

- name: Write the fleet readiness report
  coco.sev_snp.fleet_report:
    hosts: "{{ ansible_play_hosts_all }}"
    inventory_hosts: "{{ groups['all'] }}"
    dest: /srv/reports/sev_snp
    keep: 60
  run_once: true
  register: sev_snp_report

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ [sev_snp_report.msg] + sev_snp_report.table.splitlines() + sev_snp_report.by_problem_lines }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: Absolute path of the report directory.
  returned: always
  type: str
  sample: /home/operator/fleet/sev_snp_report
written:
  description: Whether any file was written (false in check mode and when nothing changed).
  returned: always
  type: bool
  sample: true
unchanged:
  description: Whether the report equals the newest report of its kind, so that no new run was made.
  returned: always
  type: bool
  sample: false
partial:
  description: Whether the run covered only part of O(inventory_hosts).
  returned: always
  type: bool
  sample: false
scope:
  description: How much of the inventory the run covered (also in C(fleet.json)).
  returned: always
  type: dict
  contains:
    partial:
      description: Whether some inventory hosts were not in the run.
      type: bool
      returned: always
      sample: false
    hosts:
      description: Hosts in the run.
      type: int
      returned: always
      sample: 4
    inventory_hosts:
      description: Hosts in the inventory.
      type: int
      returned: always
      sample: 4
    not_covered:
      description: Inventory hosts that were not in the run.
      type: int
      returned: always
      sample: 0
scope_line:
  description: For a partial run, the sentence the report prints about it; empty otherwise.
  returned: always
  type: str
  sample: "Partial run: 1 of 300 inventory hosts (limited with -l or sev_snp_target); 299 not checked here. The last full report is kept."
run:
  description: Name of this run's directory under C(runs/); an earlier run's when nothing changed.
  returned: always
  type: str
  sample: 20261130T151157Z
run_dir:
  description: Absolute path of that directory.
  returned: always
  type: str
  sample: /home/operator/fleet/sev_snp_report/runs/20261130T151157Z
files:
  description: Absolute paths of the run's three report files.
  returned: always
  type: dict
  contains:
    json:
      description: Path of C(fleet.json).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/runs/20261130T151157Z/fleet.json
    markdown:
      description: Path of C(fleet.md).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/runs/20261130T151157Z/fleet.md
    html:
      description: Path of C(fleet.html).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/runs/20261130T151157Z/fleet.html
pruned:
  description: Run directories removed because more than O(keep) runs were kept.
  returned: always
  type: list
  elements: str
  sample: [20260101T080000Z]
summary:
  description: Number of hosts per status.
  returned: always
  type: dict
  contains:
    total:
      description: Number of rows.
      type: int
      returned: always
      sample: 4
    ready:
      description: Hosts whose facts say ready.
      type: int
      returned: always
      sample: 2
    not_ready:
      description: Hosts whose facts list problems that keep them from being ready.
      type: int
      returned: always
      sample: 1
    unreachable:
      description: Hosts Ansible could not connect to.
      type: int
      returned: always
      sample: 1
    failed:
      description: Hosts where the facts module failed, or that have no result.
      type: int
      returned: always
      sample: 0
summary_line:
  description: The summary as one line.
  returned: always
  type: str
  sample: 2 ready / 1 not ready / 1 unreachable / 0 failed (4 hosts)
table:
  description: The Markdown table of C(fleet.md), one row per host.
  returned: always
  type: str
  sample: "| Host | Status | Generation | SNP firmware | IOMMU | msr | Reboot pending | Problems |"
by_problem:
  description: Every problem id once, errors first, then by number of hosts; as in C(fleet.json).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Problem id.
      type: str
      returned: always
      sample: iommu_passthrough
    severity:
      description: The highest severity the id has on any host (C(error), C(warning), C(info)).
      type: str
      returned: always
      sample: error
    count:
      description: Number of hosts with the problem.
      type: int
      returned: always
      sample: 2
    hosts:
      description: The hosts, in the order of the rows.
      type: list
      elements: str
      returned: always
      sample: [epyc-07, epyc-12]
    message:
      description: The message of the most frequent variant.
      type: str
      returned: always
      sample: IOMMU in passthrough mode
    fix:
      description: The fix of the most frequent variant.
      type: str
      returned: always
      sample: Add iommu=nopt to GRUB_CMDLINE_LINUX_DEFAULT
    variants:
      description: Each distinct message and fix with its hosts, the most frequent first.
      type: list
      elements: dict
      returned: always
      sample: [{message: IOMMU in passthrough mode, fix: Add iommu=nopt, hosts: [epyc-07, epyc-12]}]
by_problem_lines:
  description: The same grouped by problem as lines for the play's output (at most 20 hosts named per line).
  returned: always
  type: list
  elements: str
  sample: ["iommu_passthrough (error) on 2 hosts: epyc-07, epyc-12", "  IOMMU in passthrough mode", "  fix: Add iommu=nopt"]
not_checked:
  description: Inventory name of each unreachable or failed host with the reason, as in its row.
  returned: always
  type: dict
  sample: {epyc-09: "Failed to connect to the host via ssh: Connection refused"}
msg:
  description: Summary, what happened to the report files and where, and the partial-run note.
  returned: always
  type: str
  sample: "2 ready / 1 not ready / 1 unreachable / 0 failed (4 hosts); report written: /srv/reports/sev_snp/runs/20261130T151157Z"
hosts:
  description: The report rows, as in C(fleet.json), sorted by status, then by name.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: Inventory name of the host.
      type: str
      returned: always
      sample: epyc-07
    status:
      description: One of C(ready), C(not_ready), C(unreachable), C(failed).
      type: str
      returned: always
      sample: not_ready
    ready:
      description: The facts' readiness; null when the host was not checked.
      type: bool
      returned: always
      sample: false
    generation:
      description: EPYC generation from the facts.
      type: str
      returned: always
      sample: Genoa
    cpu_model:
      description: CPU model name from the facts.
      type: str
      returned: always
      sample: AMD EPYC 9654 96-Core Processor
    snp_api:
      description: SNP firmware API version.
      type: str
      returned: always
      sample: "1.55"
    snp_build:
      description: SNP firmware build number.
      type: int
      returned: always
      sample: 21
    iommu_mode:
      description: IOMMU mode (translated, passthrough, disabled, unknown).
      type: str
      returned: always
      sample: passthrough
    msr_loaded:
      description: Whether the msr module is loaded.
      type: bool
      returned: always
      sample: true
    msr_persistent:
      description: Whether the msr module is loaded at every boot.
      type: bool
      returned: always
      sample: false
    reboot_required:
      description: Whether the configured kernel command line differs from the running one; null when unknown.
      type: bool
      returned: always
      sample: false
    problem_ids:
      description: Ids of the problems, in the order of the facts (for a host that was not checked, why).
      type: list
      elements: str
      returned: always
      sample: [iommu_passthrough, msr_module_not_persistent]
    problems:
      description: The problems with severity, message and fix, as in the facts.
      type: list
      elements: dict
      returned: always
      sample: [{id: iommu_passthrough, severity: error, message: IOMMU in passthrough mode, fix: Add iommu=nopt}]
    error:
      description: Why an unreachable or failed host could not be checked; null otherwise.
      type: str
      returned: always
      sample: "Failed to connect to the host via ssh: Connection refused"
    bios:
      description: The BIOS cell with O(bios); null without.
      type: dict
      returned: always
      sample: {state: problems, bmc: "10.0.0.10", text: "bios_snp_disabled (set Snp=Enabled)"}
      contains:
        state:
          description: One of C(ok), C(problems), C(bmc_failed), C(not_checked).
          type: str
          returned: with O(bios)
          sample: bmc_failed
        bmc:
          description: The BMC address; null for a host without one.
          type: str
          returned: with O(bios)
          sample: "10.0.0.10"
        text:
          description: The column's text.
          type: str
          returned: with O(bios)
          sample: "BMC unreachable: URL Error: [Errno 111] Connection refused"
"""
