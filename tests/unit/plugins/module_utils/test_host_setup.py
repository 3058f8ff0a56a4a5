# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The planners of what the sev_snp_host role writes."""

from __future__ import annotations

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import OptionError
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import GrubDefaultError
from ansible_collections.coco.sev_snp.plugins.module_utils.host_setup import plan_grub, plan_msr_conf
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options, linux_options


@pytest.mark.parametrize("text, expected", [
    (None, "msr\n"),
    ("", "msr\n"),
    ("msr\n", "msr\n"),
    ("msr", "msr"),
    ("  msr  \n", "  msr  \n"),
    ("# msr\n", "# msr\nmsr\n"),
    ("; msr\n", "; msr\nmsr\n"),
    ("msrx\n", "msrx\nmsr\n"),
    ("kvm_amd", "kvm_amd\nmsr\n"),
    ("# keep me\nkvm\n", "# keep me\nkvm\nmsr\n"),
])
def test_plan_msr_conf(text, expected):
    assert plan_msr_conf(text) == expected


GRUB = 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"\nGRUB_CMDLINE_LINUX="iommu.passthrough=1 x"\n'


def test_plan_grub_edits_both_variables_in_order():
    text, edits = plan_grub(GRUB, [("GRUB_CMDLINE_LINUX_DEFAULT", default_options()),
                                   ("GRUB_CMDLINE_LINUX", linux_options())])
    assert text == 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=nopt"\nGRUB_CMDLINE_LINUX="x"\n'
    assert [(v, e.before, e.after, e.changed) for v, e in edits] == [
        ("GRUB_CMDLINE_LINUX_DEFAULT", ["quiet", "iommu=pt"], ["quiet", "iommu=nopt"], True),
        ("GRUB_CMDLINE_LINUX", ["iommu.passthrough=1", "x"], ["x"], True)]


def test_plan_grub_second_variable_sees_the_first_edit():
    # The default line is appended by the first edit; the second edit must keep it.
    both = [("GRUB_CMDLINE_LINUX_DEFAULT", default_options()), ("GRUB_CMDLINE_LINUX", linux_options())]
    text, edits = plan_grub("GRUB_CMDLINE_LINUX='iommu=pt'\n", both)
    assert text == "GRUB_CMDLINE_LINUX=''\nGRUB_CMDLINE_LINUX_DEFAULT=\"iommu=nopt\"\n"
    assert [e.lineno for _v, e in edits] == [2, 1]


def test_plan_grub_errors_come_before_any_text():
    with pytest.raises(GrubDefaultError):
        plan_grub('GRUB_CMDLINE_LINUX="$(x)"\n', [("GRUB_CMDLINE_LINUX_DEFAULT", default_options()),
                                                  ("GRUB_CMDLINE_LINUX", linux_options())])
    with pytest.raises(OptionError):
        plan_grub(GRUB, [("GRUB_CMDLINE_LINUX_DEFAULT", [{"name": "a", "value": "b c"}])])
