# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # Modules that only read: the same result in check mode, nothing to diff.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: The module only reads, so check mode runs it unchanged and returns the same result.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
"""
