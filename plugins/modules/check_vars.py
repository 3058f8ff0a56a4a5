#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The work happens on the controller in plugins/action/check_vars.py; this file documents it.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_vars
short_description: Stop a playbook whose target matches no host or whose sev_snp_* variables have a typo
version_added: "0.1.0"
description:
  - Runs on the controller before a playbook of the collection touches any host; every playbook
    of the collection starts with it.
  - Fails when O(target_hosts) is empty, naming the pattern, the closest group and the groups of
    the inventory, where Ansible itself would only print C(skipping - no hosts matched) and exit 0.
  - Fails when O(limit_hosts) is given and none of O(target_hosts) is in it.
  - Fails when a variable whose name starts with C(sev_snp_) is given as an extra variable or in
    the inventory of a targeted host, and no role or playbook of the collection reads it; each
    name comes with the closest known name ("did you mean").
  - Known names are the options in every role's C(meta/argument_specs.yml), the names the roles'
    C(vars/) files set, the variables the playbooks document, and the results and facts the
    collection registers itself (for example C(sev_snp_host_reboot_required), C(sev_snp_report)).
  - Deprecated names (C(sev_snp_host_min_snp_api), C(sev_snp_host_min_snp_build),
    C(sev_snp_host_gate_ignore)) give an Ansible deprecation warning naming the new name.
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  target:
    description: The host pattern the playbook acts on, as the operator gave it (for the message).
    type: str
    required: true
  target_hosts:
    description:
      - The hosts O(target) matches without the limit, typically
        C(query('ansible.builtin.inventory_hostnames', target)).
    type: list
    elements: str
    required: true
  limit_hosts:
    description:
      - The hosts C(--limit) leaves, when one was given (C(ansible_play_hosts_all) of a play on
        C(all)). Omit without a limit.
    type: list
    elements: str
  check_names:
    description: Check the variable names; V(false) checks only the target.
    type: bool
    default: true
attributes:
  action:
    support: full
    description: Runs entirely on the controller.
  async:
    support: none
    description: Nothing to run on the host.
  bypass_host_loop:
    support: none
    description: Run it once (C(run_once)); it reads every targeted host's variables itself.
  check_mode:
    support: full
    description: Only reads variables; check mode gives the same verdict.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
seealso:
  - module: coco.sev_snp.host_gate
    description: The other controller-side check, on the hosts' SEV-SNP facts.
  - module: ansible.builtin.validate_argument_spec
    description: Checks the values of a role's options (not names it does not know).
"""

EXAMPLES = r"""
- name: Check the target and the variable names before anything changes
  hosts: "{{ 'all' if ansible_limit is defined else 'localhost' }}"
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: Check the target and the variable names
      coco.sev_snp.check_vars:
        target: "{{ sev_snp_target | default('sev_snp_hosts') }}"
        target_hosts: "{{ query('ansible.builtin.inventory_hostnames', sev_snp_target | default('sev_snp_hosts')) }}"
        limit_hosts: "{{ ansible_play_hosts_all if ansible_limit is defined else omit }}"
      run_once: true
      delegate_to: localhost
"""

RETURN = r"""
msg:
  description: What was checked, or on failure what is wrong and how to fix it.
  returned: always
  type: str
  sample: "1 variable in the coco.sev_snp namespace is not read ...\n- sev_snp_reboot_ok (set in extra vars (-e)): did you mean sev_snp_host_reboot_ok?"
hosts:
  description: The targeted hosts within the limit.
  returned: success
  type: list
  elements: str
unknown:
  description: The unknown names, where each was set, and the closest known name (or null).
  returned: success or failure on names
  type: list
  elements: dict
  contains:
    name:
      description: The variable name.
      type: str
    sources:
      description: Where it was set (C(extra vars (-e)), C(inventory of HOST)).
      type: list
      elements: str
    suggestion:
      description: The closest known name, or null.
      type: str
deprecated:
  description: Deprecated names in use and their replacements.
  returned: success or failure on names
  type: list
  elements: dict
  contains:
    name:
      description: The deprecated name.
      type: str
    replacement:
      description: The name to use instead.
      type: str
"""
