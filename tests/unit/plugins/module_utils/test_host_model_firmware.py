# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""decide() on a host that had a SEV firmware image staged before its reboot (sev_firmware_unchanged)."""

import copy

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import PROBLEM_IDS, decide

STAGED = "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin"
READY = {
    "problems": [],
    "kvm": {"sev_snp": True},
    "psp": {"snp_initialized": True},
    "cpu": {"vendor": "AuthenticAMD", "family": 25, "model": 1},
    "firmware": {"snp_api": "1.55", "snp_build": 29, "sev_api": "1.55", "sev_build": 29,
                 "in_use": {"api": "1.55", "build": 29}},
}


def facts(staged=None, in_use="keep", snp=("1.55", 29)):
    result = copy.deepcopy(READY)
    result["firmware"]["snp_api"], result["firmware"]["snp_build"] = snp
    if in_use != "keep":
        result["firmware"]["in_use"] = in_use
    if staged is not None:
        result["firmware"]["staged"] = staged
    return result


def ids(verdict):
    return [p["id"] for p in verdict["blocking"]]


def test_the_id_is_in_the_catalogue_between_the_minimum_and_the_confirmation():
    assert PROBLEM_IDS.index("snp_firmware_below_minimum") < PROBLEM_IDS.index("sev_firmware_unchanged") \
        < PROBLEM_IDS.index("snp_not_confirmed")


def test_nothing_staged_nothing_to_say():
    assert decide(facts())["ready"] is True


def test_a_staged_image_that_changed_the_version_passes():
    verdict = decide(facts(staged={"file": STAGED, "before": {"api": "1.51", "build": 3}}), "1.55")
    assert verdict == {"ready": True, "blocking": [], "ignored": []}


def test_a_new_build_of_the_same_api_is_a_change():
    assert decide(facts(staged={"file": STAGED, "before": {"api": "1.55", "build": 21}}))["ready"] is True


def test_an_unchanged_version_fails_naming_the_file():
    verdict = decide(facts(staged={"file": STAGED, "before": {"api": "1.55", "build": 29}}))
    assert verdict["ready"] is False
    assert ids(verdict) == ["sev_firmware_unchanged"]
    found = verdict["blocking"][0]
    assert found["severity"] == "error"
    assert STAGED in found["message"] and "1.55 build 29" in found["message"]
    assert "sev_snp_gate_ignore" in found["fix"] and "dmesg" in found["fix"]


def test_unchanged_and_below_the_minimum_says_both():
    verdict = decide(facts(staged={"file": STAGED, "before": {"api": "1.51", "build": 3}},
                           in_use={"api": "1.51", "build": 3}, snp=("1.51", 3)), "1.55")
    assert ids(verdict) == ["snp_firmware_below_minimum", "sev_firmware_unchanged"]


def test_no_version_after_the_reboot_is_not_a_change():
    verdict = decide(facts(staged={"file": STAGED, "before": {"api": "1.51", "build": 3}}, in_use=None))
    assert "sev_firmware_unchanged" in ids(verdict)
    assert "reports no SEV firmware version" in verdict["blocking"][0]["message"]


def test_no_version_before_and_one_now_is_a_change():
    assert decide(facts(staged={"file": STAGED, "before": None}))["ready"] is True


def test_it_can_be_ignored():
    verdict = decide(facts(staged={"file": STAGED, "before": {"api": "1.55", "build": 29}}),
                     ignore={"sev_firmware_unchanged"})
    assert verdict == {"ready": True, "blocking": [], "ignored": ["sev_firmware_unchanged"]}


@pytest.mark.parametrize("staged", [{}, {"file": ""}, {"file": None, "before": None}, "yes", ["x"], True,
                                    # the version did not change, but no file was staged: nothing to say
                                    {"file": "", "before": {"api": "1.55", "build": 29}},
                                    {"file": None, "before": {"api": "1.55", "build": 29}}])
def test_a_staged_entry_without_a_file_is_no_staging(staged):
    assert decide(facts(staged=staged))["ready"] is True
