# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judging the operator's variable names: typos found, own results and deprecations told apart."""
from __future__ import annotations

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.operator_vars import (
    DEPRECATED,
    PLAYBOOK_VARS,
    SET_BY_COLLECTION,
    deprecation_message,
    judge,
    own_names,
    suggestion,
    summarise_sources,
    target_message,
    unknown_message,
)

KNOWN = {
    "sev_snp_host_reboot_ok", "sev_snp_host_reboot_timeout", "sev_snp_host_gate", "sev_snp_gate",
    "sev_snp_target", "sev_snp_report_dir", "sev_snp_min_snp_api", "sev_snp_host_min_snp_api",
}


@pytest.mark.parametrize("typo, meant", [
    # A dropped role prefix: the mistake of issue "sev_snp_reboot_ok".
    ("sev_snp_reboot_ok", "sev_snp_host_reboot_ok"),
    ("sev_snp_reboot_timeout", "sev_snp_host_reboot_timeout"),
    # Letters swapped or missing.
    ("sev_snp_host_reboot_of", "sev_snp_host_reboot_ok"),
    ("sev_snp_targt", "sev_snp_target"),
    ("sev_snp_report_dri", "sev_snp_report_dir"),
])
def test_suggestion_names_the_meant_variable(typo, meant):
    assert suggestion(typo, KNOWN) == meant


def test_suggestion_is_none_when_nothing_is_close():
    assert suggestion("sev_snp_completely_unrelated", KNOWN) is None


def test_suggestion_with_two_names_ending_alike_falls_back_to_similarity():
    # Two roles could own "reboot_ok": the tail alone does not decide, the closest spelling does.
    assert suggestion("sev_snp_reboot_ok", {"sev_snp_host_reboot_ok", "sev_snp_guest_reboot_ok"}) == \
        "sev_snp_host_reboot_ok"
    assert suggestion("sev_snp_reboot_ok", {"sev_snp_host_reboot_ok", "sev_snp_guest_reboot_ok",
                                            "sev_snp_reboot_ko"}) == "sev_snp_reboot_ko"


def test_suggestion_tail_must_follow_an_underscore():
    # "gate" ends "sev_snp_host_gate" but "x_gate" is no role prefix away from anything.
    assert suggestion("sev_snp_x_gate", {"sev_snp_gate", "sev_snp_host_gate"}) == "sev_snp_gate"


def test_own_names_keeps_only_the_collection_namespace():
    assert own_names(["sev_snp_b", "ansible_host", "sev_snp", "sev_snp_a", 3, "my_sev_snp_x"]) == [
        "sev_snp_a", "sev_snp_b"]


def test_judge_reports_unknown_names_with_every_source():
    unknown, deprecated = judge({
        "extra vars (-e)": ["sev_snp_reboot_ok", "sev_snp_target"],
        "inventory of h1": ["sev_snp_host_reboot_of", "ansible_user"],
        "inventory of h2": ["sev_snp_host_reboot_of"],
    }, KNOWN)
    assert unknown == [
        ("sev_snp_host_reboot_of", ["inventory of h1", "inventory of h2"], "sev_snp_host_reboot_ok"),
        ("sev_snp_reboot_ok", ["extra vars (-e)"], "sev_snp_host_reboot_ok"),
    ]
    assert deprecated == []


def test_judge_tells_deprecated_names_apart_and_does_not_call_them_unknown():
    unknown, deprecated = judge({"inventory of h1": ["sev_snp_host_min_snp_api"],
                                 "inventory of h2": ["sev_snp_host_min_snp_api", "sev_snp_host_gate_ignore"]},
                                KNOWN)
    assert unknown == []
    assert deprecated == [("sev_snp_host_gate_ignore", "sev_snp_gate_ignore"),
                          ("sev_snp_host_min_snp_api", "sev_snp_min_snp_api")]


def test_judge_accepts_the_results_the_collection_sets_when_known_includes_them():
    unknown = judge({"inventory of h1": sorted(SET_BY_COLLECTION)}, KNOWN | SET_BY_COLLECTION)[0]
    assert unknown == []


def test_deprecated_names_point_at_names_the_playbooks_read():
    for old, new in DEPRECATED.items():
        assert old.startswith("sev_snp_host_") and new in PLAYBOOK_VARS
        assert old in deprecation_message(old, new) and new in deprecation_message(old, new)


def test_summarise_sources_keeps_long_lists_short():
    assert summarise_sources(["a", "b"]) == "a, b"
    assert summarise_sources(["a", "b", "c"]) == "a, b, c"
    assert summarise_sources(["a", "b", "c", "d", "e"]) == "a, b, c and 2 more"


def test_unknown_message_names_each_variable_where_it_was_set_and_the_fix():
    text = unknown_message([("sev_snp_reboot_ok", ["extra vars (-e)"], "sev_snp_host_reboot_ok"),
                            ("sev_snp_zzz", ["inventory of h1"], None)])
    lines = text.splitlines()
    assert lines[0].startswith("2 variables in the coco.sev_snp namespace are not read")
    assert lines[1] == "- sev_snp_reboot_ok (set in extra vars (-e)): did you mean sev_snp_host_reboot_ok?"
    assert lines[2].startswith("- sev_snp_zzz (set in inventory of h1): no similar name")
    assert unknown_message([("sev_snp_zzz", ["x"], None)]).startswith("1 variable in the coco.sev_snp namespace is")


def test_target_message_names_the_pattern_the_closest_group_and_the_groups():
    text = target_message("sev-snp-hosts", {"all": [], "ungrouped": [], "sev_snp_hosts": ["a"], "canary": ["a"]})
    assert "'sev-snp-hosts'" in text
    assert "Did you mean sev_snp_hosts?" in text
    assert "Groups in this inventory: canary, sev_snp_hosts." in text
    assert "-e sev_snp_target=PATTERN" in text


def test_target_message_without_groups_or_close_names():
    text = target_message("zzz", {"all": [], "ungrouped": []})
    assert "Did you mean" not in text
    assert "The inventory has no groups." in text


@pytest.mark.parametrize("typo, meant, similar_but_wrong", [
    # Spelling alone would point at another role's option: the role prefix decides.
    ("sev_snp_certs_dir", "sev_snp_host_attest_certs_dir", "sev_snp_report_dir"),
    ("sev_snp_snphost", "sev_snp_host_attest_snphost", "sev_snp_report"),
])
def test_a_dropped_role_prefix_beats_a_similar_spelling(typo, meant, similar_but_wrong):
    assert suggestion(typo, {meant, similar_but_wrong}) == meant
