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
    as C(fleet.json), C(fleet.md) and C(fleet.html) in O(dest).
  - One row per host with its status (ready, not ready, unreachable, failed), EPYC generation,
    SNP firmware API and build, IOMMU mode, msr module state, whether a reboot is pending,
    and the problem ids. Not-ready hosts are listed with each problem and its fix.
  - A host in O(hosts) without a registered result, an unreachable host and a host where the
    facts module failed all get a row with the reason; no host is dropped.
  - The HTML page is self-contained (inline CSS, no script, no external resource) and escapes
    all text that comes from the hosts.
  - Controller-side. Runs entirely on the controller and never contacts the managed hosts; use it
    once per play with C(run_once=true).
  - Files are written atomically (written beside the target, then renamed over it).
  - The files are rewritten on every run so that C(generated_at) is current, but the task reports
    C(changed) only when the readiness of the fleet (every row) differs from the report already
    in O(dest), so a re-run over an unchanged fleet is idempotent.
  - In check mode nothing is written, as with M(ansible.builtin.template); the summary and the
    table are still returned.
version_added: 0.1.0
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  hosts:
    description:
      - The hosts that get a row, in this order; normally C(ansible_play_hosts_all), which keeps
        unreachable and failed hosts.
    type: list
    elements: str
    required: true
  result_var:
    description:
      - Name of the variable under which each host registered the result of
        M(coco.sev_snp.host_facts).
    type: str
    default: sev_snp_host_facts_result
  dest:
    description:
      - Directory that receives C(fleet.json), C(fleet.md) and C(fleet.html); created when missing.
      - A relative path is relative to the directory ansible-playbook was started from, not to
        the playbook (which may live inside an installed collection).
    type: path
    default: sev_snp_report
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the report is rendered and returned but not written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode).
    support: full
    details: The diff is that of C(fleet.md).
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
    dest: /srv/reports/sev_snp
  run_once: true
  register: sev_snp_report

- name: Show the table
  ansible.builtin.debug:
    msg: "{{ [sev_snp_report.summary_line] + sev_snp_report.table.splitlines() }}"
  run_once: true
"""

RETURN = r"""
dest:
  description: Absolute path of the report directory.
  returned: always
  type: str
  sample: /home/operator/fleet/sev_snp_report
written:
  description: Whether the files were written (false in check mode).
  returned: always
  type: bool
  sample: true
files:
  description: Absolute paths of the three report files.
  returned: always
  type: dict
  contains:
    json:
      description: Path of C(fleet.json).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/fleet.json
    markdown:
      description: Path of C(fleet.md).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/fleet.md
    html:
      description: Path of C(fleet.html).
      type: str
      returned: always
      sample: /home/operator/fleet/sev_snp_report/fleet.html
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
hosts:
  description: The report rows, as in C(fleet.json).
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
      description: Whether the configured kernel command line differs from the running one.
      type: bool
      returned: always
      sample: false
    problem_ids:
      description: Ids of the problems, in the order of the facts.
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
"""
