#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work happens on the controller in plugins/action/host_gate.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_gate
short_description: Fail hosts whose SEV-SNP facts show they cannot launch SNP guests
version_added: "0.1.0"
description:
  - Decides on the controller, from the C(sev_snp) fact that M(coco.sev_snp.host_facts) set,
    whether the host may go on; no second round trip to the host.
  - Fails the host when an error-severity problem holds that is not in O(ignore), when the SNP
    firmware is below O(min_snp_api)/O(min_snp_build) (id C(snp_firmware_below_minimum)), or
    when nothing shows SEV-SNP running (id C(snp_not_confirmed)). The message lists each problem
    with its fix, one line each.
  - When the facts carry C(firmware.staged) (C(file), C(before); the C(coco.sev_snp.sev_snp_host) role
    sets it for a host it rebooted after staging a SEV firmware image), the host also fails when the
    version in use is still C(before) (id C(sev_firmware_unchanged), naming the file).
  - Warnings never fail the host.
  - Firmware versions compare numerically, so C(1.9) is older than C(1.51).
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  min_snp_api:
    description:
      - Lowest acceptable SEV-SNP firmware API version, for example C("1.55"). Quote it; a YAML
        float would turn C(1.50) into C(1.5).
    type: str
  min_snp_build:
    description:
      - Lowest acceptable firmware build when the API version equals O(min_snp_api) (or, without
        O(min_snp_api), at any version).
    type: int
  ignore:
    description:
      - Problem ids that do not fail the host (for example C(sev_init_failed) where no legacy SEV
        guests run, or C(snp_not_confirmed) before the first reboot).
    type: list
    elements: str
    default: []
  facts:
    description:
      - The facts to judge. Default is the host's C(ansible_facts.sev_snp).
    type: dict
attributes:
  action:
    support: full
    description: Runs entirely on the controller.
  async:
    support: none
    description: Nothing to run on the host.
  bypass_host_loop:
    support: none
    description: Judges each host separately.
  check_mode:
    support: full
    description: Only reads facts; check mode gives the same verdict.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller, whatever the host.
seealso:
  - module: coco.sev_snp.host_facts
    description: Gathers the facts this gate judges.
  - module: ansible.builtin.assert
    description: The general-purpose controller-side check this gate resembles.
"""

EXAMPLES = r"""
- name: Gather SEV-SNP facts
  coco.sev_snp.host_facts:

- name: Continue only on hosts with SNP firmware 1.55 build 21 or newer
  coco.sev_snp.host_gate:
    min_snp_api: "1.55"
    min_snp_build: 21

- name: Hosts that run no legacy SEV guests may keep a failing SEV INIT
  coco.sev_snp.host_gate:
    ignore:
      - sev_init_failed

- name: Judge facts gathered earlier and saved in a variable
  coco.sev_snp.host_gate:
    facts: "{{ hostvars[inventory_hostname].ansible_facts.sev_snp }}"
"""

RETURN = r"""
msg:
  description: Verdict; on failure one line per problem with its fix.
  returned: always
  type: str
  sample: "SEV-SNP ready: SNP firmware 1.55 build 21."
summary:
  description: Short view of the facts.
  returned: always
  type: dict
  contains:
    ready:
      description: The host passed the gate and the facts say it is ready.
      type: bool
    snp_api:
      description: SEV-SNP firmware API version, or null.
      type: str
    snp_build:
      description: SEV-SNP firmware build, or null.
      type: int
    problems:
      description: Ids of every problem in the facts, warnings included.
      type: list
      elements: str
problems:
  description: The problems that failed the host (id, severity, message, fix); empty when it passed.
  returned: always
  type: list
  elements: dict
ignored:
  description: Ids of blocking problems that O(ignore) let through.
  returned: always
  type: list
  elements: str
problem_lines:
  description: The failing problems as one readable line each.
  returned: when the host failed the gate
  type: list
  elements: str
"""
