# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sev_firmware_files filter: the module_utils names, and clear errors for bad input."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.sev_firmware import FilterModule, sev_firmware_files


def test_registered():
    assert FilterModule().filters() == {"sev_firmware_files": sev_firmware_files}


@pytest.mark.parametrize("cpu, first, second", [
    ({"family": 25, "model": 1}, "amd/amd_sev_fam19h_model01h.sbin", "amd/amd_sev_fam19h_model0xh.sbin"),
    ({"family": 25, "model": 17}, "amd/amd_sev_fam19h_model11h.sbin", "amd/amd_sev_fam19h_model1xh.sbin"),
    ({"family": 25, "model": 160}, "amd/amd_sev_fam19h_modela0h.sbin", "amd/amd_sev_fam19h_modelaxh.sbin"),
    ({"family": 26, "model": 2}, "amd/amd_sev_fam1ah_model02h.sbin", "amd/amd_sev_fam1ah_model0xh.sbin"),
])
def test_names(cpu, first, second):
    assert sev_firmware_files(cpu) == [first, second, "amd/sev.fw"]


def test_the_cpu_facts_can_be_given_whole():
    cpu = {"vendor": "AuthenticAMD", "family": 25, "model": 17, "generation": "Genoa", "flags": {}}
    assert sev_firmware_files(cpu)[1] == "amd/amd_sev_fam19h_model1xh.sbin"


@pytest.mark.parametrize("cpu, words", [
    (None, ["mapping", "NoneType"]),
    ("25/1", ["mapping", "str"]),
    ([25, 1], ["mapping", "list"]),
    ({"family": 25}, ["no model"]),
    ({}, ["no family and no model"]),
    ({"family": "25", "model": 1}, ["sev_firmware_files:", "family", "integer", "| int"]),
    ({"family": 25, "model": True}, ["model", "bool"]),
    ({"family": 25, "model": None}, ["model", "NoneType"]),
    ({"family": -25, "model": 1}, ["family", "0 and 255"]),
    ({"family": 25, "model": 10 ** 30}, ["model", "0 and 255"]),
])
def test_bad_input_is_a_filter_error_saying_what_to_give(cpu, words):
    with pytest.raises(AnsibleFilterError) as caught:
        sev_firmware_files(cpu)
    for word in words:
        assert word in str(caught.value)
