# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vendor tables of the BIOS reader, bad inputs first.

The attribute sets below are hand-written in the shapes the vendors publish (names and
values from the sources cited in BIOS_TABLE), with unrelated attributes around them.
"""
import copy

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import bios
from ansible_collections.coco.sev_snp.plugins.module_utils.bios import (
    BIOS_TABLE,
    PROBLEM_ORDER,
    base_name,
    bios_problems,
    settings_for_snp,
    switch_state,
)

HPE = {"AmdSecureMemoryEncryption": "Enabled", "AmdSecureNestedPaging": "Enabled", "ProcAmdIoVt": "Enabled",
       "AmdDmaRemapping": "Disabled", "ProcSMT": "Enabled", "WorkloadProfile": "GeneralPowerEfficientCompute"}
DELL = {"Sme": "Enabled", "Snp": "Enabled", "Rmp": "Enabled", "IommuSupport": "Enabled", "CpuMinSevAsid": 100,
        "TransparentSme": "Disabled", "LogicalProc": "Enabled", "ProcVirtualization": "Enabled"}
SUPERMICRO = {"SMEE#003E": "Enabled", "SEV-SNPSupport#01A7": "Enabled", "SNPMemory(RMPTable)Coverage#003C": "Enabled",
              "IOMMU#0196": "Enabled", "SEV-ESASIDSpaceLimit#700C": 100, "SMTControl#0076": "Auto"}
AMI = {"CbsCmnCpuSmee": "CbsCmnCpuSmeeEnabled", "CbsSevSnpSupport": "CbsSevSnpSupportEnable",
       "CbsDbgCpuSnpMemCover": "CbsDbgCpuSnpMemCoverEnabled", "CbsCmnGnbNbIOMMU": "CbsCmnGnbNbIOMMUEnabled",
       "CbsCmnCpuSevAsidSpaceCtrl": "CbsCmnCpuSevAsidSpaceCtrlManual", "CbsCmnCpuSevAsidSpaceLimit": 100,
       "CbsCmnCpuSevAsidCount": "CbsCmnCpuSevAsidCount509ASIDs"}

# (vendor set, attribute, value that is off, problem id, wanted value)
OFF_CASES = [
    (HPE, "AmdSecureMemoryEncryption", "Disabled", "bios_smee_disabled", "Enabled"),
    (HPE, "AmdSecureNestedPaging", "Disabled", "bios_snp_disabled", "Enabled"),
    (HPE, "ProcAmdIoVt", "Disabled", "bios_iommu_disabled", "Enabled"),
    (DELL, "Sme", "Disabled", "bios_smee_disabled", "Enabled"),
    (DELL, "Snp", "Disabled", "bios_snp_disabled", "Enabled"),
    (DELL, "Rmp", "Disabled", "bios_snp_memory_coverage_disabled", "Enabled"),
    (DELL, "IommuSupport", "Disabled", "bios_iommu_disabled", "Enabled"),
    (DELL, "CpuMinSevAsid", 1, "bios_sev_asid_space", 100),
    (SUPERMICRO, "SMEE#003E", "Disabled", "bios_smee_disabled", "Enabled"),
    (SUPERMICRO, "SEV-SNPSupport#01A7", "Disabled", "bios_snp_disabled", "Enabled"),
    (SUPERMICRO, "SNPMemory(RMPTable)Coverage#003C", "Disabled", "bios_snp_memory_coverage_disabled", "Enabled"),
    (SUPERMICRO, "IOMMU#0196", "Disabled", "bios_iommu_disabled", "Enabled"),
    (SUPERMICRO, "SEV-ESASIDSpaceLimit#700C", 1, "bios_sev_asid_space", 100),
    (AMI, "CbsCmnCpuSmee", "CbsCmnCpuSmeeDisabled", "bios_smee_disabled", "CbsCmnCpuSmeeEnabled"),
    (AMI, "CbsSevSnpSupport", "CbsSevSnpSupportDisable", "bios_snp_disabled", "CbsSevSnpSupportEnable"),
    (AMI, "CbsDbgCpuSnpMemCover", "CbsDbgCpuSnpMemCoverDisabled", "bios_snp_memory_coverage_disabled",
     "CbsDbgCpuSnpMemCoverEnabled"),
    (AMI, "CbsCmnGnbNbIOMMU", "CbsCmnGnbNbIOMMUDisabled", "bios_iommu_disabled", "Enabled"),
    (AMI, "CbsCmnCpuSevAsidSpaceLimit", 1, "bios_sev_asid_space", 100),
]


def with_value(attributes, name, value):
    changed = copy.deepcopy(attributes)
    changed[name] = value
    return changed


# ---- bad inputs ---------------------------------------------------------------------------

@pytest.mark.parametrize("attributes", [None, [], "SMEE=Enabled", 3, (("Sme", "Enabled"),)])
def test_attributes_that_are_not_a_mapping_are_refused_with_the_fix(attributes):
    with pytest.raises(ValueError, match="must be a mapping of attribute names to values"):
        bios_problems(attributes)


def test_a_name_that_is_not_a_string_is_refused():
    with pytest.raises(ValueError, match="names must be strings"):
        bios_problems({1: "Enabled", "Sme": "Enabled"})


@pytest.mark.parametrize("limit", [1, 0, -5, "1", "x", True, None, 2.5])
def test_an_asid_limit_that_leaves_snp_nothing_is_refused(limit):
    with pytest.raises(ValueError, match="asid_limit must be a whole number of at least 2"):
        bios_problems(DELL, asid_limit=limit)
    with pytest.raises(ValueError, match="asid_limit"):
        settings_for_snp(DELL, asid_limit=limit)


@pytest.mark.parametrize("attributes", [{}, {"BootMode": "Uefi"}, {"TransparentSme": "Enabled", "AmdDmaRemapping": "x"},
                                        {"SMEEx": "Enabled", "SMEE#zz": "Enabled", "Sme2": "Enabled"}])
def test_no_known_setting_is_stated_never_read_as_no_problems(attributes):
    problems = bios_problems(attributes)
    assert [p["id"] for p in problems] == ["bios_settings_unknown"]
    # Stated, never "no problems"; but names the table does not know are no evidence that SNP
    # cannot work, so it does not make the host not ready on its own.
    assert problems[0]["severity"] == "warning"
    assert "%d attributes read" % len(attributes) in problems[0]["message"]
    assert "BIOS_TABLE" in problems[0]["fix"]
    assert settings_for_snp(attributes) == {}


@pytest.mark.parametrize("value", ["Custom", "", "Enabledish", None, 7, ["Enabled"], {"v": 1}])
def test_a_value_neither_on_nor_off_is_a_warning_with_the_fix(value):
    problems = bios_problems(with_value(SUPERMICRO, "SNPMemory(RMPTable)Coverage#003C", value))
    assert [(p["id"], p["severity"]) for p in problems] == [("bios_snp_memory_coverage_disabled", "warning")]
    assert "neither on nor off" in problems[0]["message"]
    assert problems[0]["current"] == value and problems[0]["wanted"] == "Enabled"


@pytest.mark.parametrize("value", ["abc", None, True, "", "1.5", -1.0])
def test_an_asid_limit_that_is_not_a_number_is_a_warning(value):
    problems = bios_problems(with_value(DELL, "CpuMinSevAsid", value))
    assert [(p["id"], p["severity"]) for p in problems] == [("bios_sev_asid_space", "warning")]
    assert "not a number" in problems[0]["message"]


# ---- the vendor tables --------------------------------------------------------------------

@pytest.mark.parametrize("attributes", [HPE, DELL, SUPERMICRO, AMI], ids=["hpe", "dell", "supermicro", "ami"])
def test_every_vendor_set_with_everything_on_has_no_problem(attributes):
    assert bios_problems(attributes) == []
    assert settings_for_snp(attributes) == {}


@pytest.mark.parametrize("attributes, name, off, problem_id, wanted", OFF_CASES,
                         ids=["%s" % case[1] for case in OFF_CASES])
def test_each_setting_off_is_one_error_naming_the_attribute(attributes, name, off, problem_id, wanted):
    problems = bios_problems(with_value(attributes, name, off))
    assert len(problems) == 1
    found = problems[0]
    assert (found["id"], found["severity"], found["attribute"], found["current"], found["wanted"]) == (
        problem_id, "error", name, off, wanted)
    assert name in found["message"] and repr(off) in found["message"]
    assert name in found["fix"] and repr(wanted) in found["fix"] and "sev_snp_bios_apply_ok=true" in found["fix"]
    # (the AMI control is already Manual in AMI, so the limit alone changes)
    assert settings_for_snp(with_value(attributes, name, off)) == {name: wanted}


def test_the_table_has_one_entry_per_name_each_with_a_known_problem_and_a_source():
    names = [entry.name.lower() for entry in BIOS_TABLE]
    assert len(names) == len(set(names))
    for entry in BIOS_TABLE:
        assert entry.problem_id in PROBLEM_ORDER and entry.problem_id != "bios_settings_unknown"
        assert entry.kind in (bios.SWITCH, bios.ASID_LIMIT, bios.ASID_CONTROL)
        assert len(entry.source) > 20, entry
    # every vendor the issue names, except Lenovo (no public names found)
    assert {entry.vendor for entry in BIOS_TABLE} == {"HPE iLO", "Dell iDRAC", "Supermicro", "AMI CBS"}


def test_every_table_entry_is_exercised_by_the_off_cases():
    exercised = {base_name(case[1]).lower() for case in OFF_CASES}
    switch_or_limit = {e.name.lower() for e in BIOS_TABLE if e.kind != bios.ASID_CONTROL}
    assert switch_or_limit == exercised


def test_supermicro_names_match_before_the_suffix_and_are_written_back_in_full():
    board = {"SMEE#1A2B": "Disabled", "SEV-SNPSupport#ffff": "Disabled", "IOMMU#0196": "Enabled"}
    assert settings_for_snp(board) == {"SMEE#1A2B": "Enabled", "SEV-SNPSupport#ffff": "Enabled"}
    # the names without the suffix (NVIDIA's bug) are not what this board reports
    assert "SMEE" not in settings_for_snp(board)


def test_names_match_whatever_their_case():
    problems = bios_problems({"CbsCmnGnbNbIommu": "Disabled"})
    assert [(p["id"], p["attribute"]) for p in problems] == [("bios_iommu_disabled", "CbsCmnGnbNbIommu")]


@pytest.mark.parametrize("attribute, value, state", [
    ("Sme", "Enabled", "on"), ("Sme", "enabled", "on"), ("Sme", " Enabled ", "on"), ("Sme", True, "on"),
    ("Sme", "Disabled", "off"), ("Sme", False, "off"), ("Sme", "Auto", "auto"), ("Sme", "On", "on"),
    ("Sme", "Off", "off"), ("Sme", "Custom", None), ("Sme", 1, None), ("Sme", None, None),
    ("CbsSevSnpSupport", "CbsSevSnpSupportEnable", "on"), ("CbsSevSnpSupport", "CbsSevSnpSupportDisable", "off"),
    ("CbsCmnCpuSmee", "CbsCmnCpuSmeeAuto", "auto"), ("CbsCmnCpuSmee", "CbsCmnCpuSmee", None),
    ("SMEE#003E", "SMEEEnabled", "on"), ("Snp", "SnpDisabled", "off"),
])
def test_switch_state_reads_plain_and_ami_prefixed_values(attribute, value, state):
    assert switch_state(attribute, value) == state


def test_auto_is_a_warning_and_the_fix_makes_it_certain():
    problems = bios_problems(with_value(AMI, "CbsCmnCpuSmee", "CbsCmnCpuSmeeAuto"))
    assert [(p["id"], p["severity"]) for p in problems] == [("bios_smee_disabled", "warning")]
    assert "Auto" in problems[0]["message"]
    assert settings_for_snp(with_value(AMI, "CbsCmnCpuSmee", "CbsCmnCpuSmeeAuto")) == {
        "CbsCmnCpuSmee": "CbsCmnCpuSmeeEnabled"}


@pytest.mark.parametrize("value, severity", [(0, "error"), (1, "error"), ("1", "error"), (2, "none"), ("100", "none"),
                                             (509, "none")])
def test_the_asid_limit_leaves_snp_asids_only_above_one(value, severity):
    problems = bios_problems(with_value(DELL, "CpuMinSevAsid", value))
    assert [p["severity"] for p in problems] == ([] if severity == "none" else [severity])


def test_an_asid_limit_reported_as_text_is_written_back_as_text():
    assert settings_for_snp(with_value(DELL, "CpuMinSevAsid", "1"), asid_limit=253) == {"CpuMinSevAsid": "253"}
    assert settings_for_snp(with_value(DELL, "CpuMinSevAsid", 1), asid_limit=253) == {"CpuMinSevAsid": 253}


def test_an_ami_limit_change_also_sets_its_control_to_manual():
    board = with_value(with_value(AMI, "CbsCmnCpuSevAsidSpaceLimit", 1), "CbsCmnCpuSevAsidSpaceCtrl",
                       "CbsCmnCpuSevAsidSpaceCtrlAuto")
    assert settings_for_snp(board) == {"CbsCmnCpuSevAsidSpaceLimit": 100,
                                       "CbsCmnCpuSevAsidSpaceCtrl": "CbsCmnCpuSevAsidSpaceCtrlManual"}
    # the control alone is not a problem: the firmware chooses the split, and the limit says it
    only_control = with_value(AMI, "CbsCmnCpuSevAsidSpaceCtrl", "CbsCmnCpuSevAsidSpaceCtrlAuto")
    assert bios_problems(only_control) == []


def test_problems_come_in_the_documented_order():
    everything_off = {"IOMMU#0196": "Disabled", "SEV-ESASIDSpaceLimit#700C": 1, "SMEE#003E": "Disabled",
                      "SNPMemory(RMPTable)Coverage#003C": "Disabled", "SEV-SNPSupport#01A7": "Disabled"}
    assert [p["id"] for p in bios_problems(everything_off)] == [
        "bios_smee_disabled", "bios_snp_disabled", "bios_snp_memory_coverage_disabled", "bios_iommu_disabled",
        "bios_sev_asid_space"]
    assert len(settings_for_snp(everything_off)) == 5


def test_the_input_is_not_changed():
    board = with_value(SUPERMICRO, "SMEE#003E", "Disabled")
    before = copy.deepcopy(board)
    settings_for_snp(board)
    assert board == before


# ---- the attribute registry ---------------------------------------------------------------

def registry(*entries):
    return {"RegistryEntries": {"Attributes": list(entries)}}


def enum(name, *values, **more):
    entry = {"AttributeName": name, "Type": "Enumeration", "ReadOnly": False,
             "Value": [{"ValueName": v, "ValueDisplayName": v} for v in values]}
    entry.update(more)
    return entry


def test_a_registry_value_that_turns_the_setting_on_is_chosen():
    board = with_value(SUPERMICRO, "SMEE#003E", "Disable")
    reg = registry(enum("SMEE#003E", "Disable", "Enable", "Auto"))
    assert settings_for_snp(board, reg) == {"SMEE#003E": "Enable"}


def test_the_table_value_is_kept_when_the_registry_allows_it():
    board = with_value(SUPERMICRO, "SMEE#003E", "Disabled")
    reg = registry(enum("SMEE#003E", "Disabled", "Enabled", "Enable"))
    assert settings_for_snp(board, reg) == {"SMEE#003E": "Enabled"}


def test_a_registry_entry_under_the_base_name_counts_too():
    board = with_value(SUPERMICRO, "SMEE#003E", "Disabled")
    assert settings_for_snp(board, registry(enum("SMEE", "Off", "On"))) == {"SMEE#003E": "On"}


def test_the_redfish_info_result_shape_is_accepted():
    board = with_value(HPE, "AmdSecureNestedPaging", "Disabled")
    wrapped = {"bios_registry": registry(enum("AmdSecureNestedPaging", "Disabled", "Enabled")),
               "bios_registry_uri": "/redfish/v1/Registries/BiosAttributeRegistry/en", "ret": True}
    assert settings_for_snp(board, wrapped) == {"AmdSecureNestedPaging": "Enabled"}


def test_an_attribute_the_registry_marks_read_only_stops_the_whole_plan():
    board = with_value(with_value(DELL, "Sme", "Disabled"), "Snp", "Disabled")
    reg = registry(enum("Sme", "Enabled", "Disabled"), enum("Snp", "Enabled", "Disabled", ReadOnly=True))
    with pytest.raises(ValueError, match="marks Snp read-only.*reset the host and run again"):
        settings_for_snp(board, reg)


def test_no_allowed_value_turns_it_on():
    board = with_value(HPE, "ProcAmdIoVt", "Disabled")
    with pytest.raises(ValueError, match="allows ProcAmdIoVt only Disabled, Auto, none of which turns it on"):
        settings_for_snp(board, registry(enum("ProcAmdIoVt", "Disabled", "Auto")))


@pytest.mark.parametrize("low, high, limit, expected", [(1, 509, 100, 100), (1, 509, 509, 509), (1, 99, 100, None),
                                                        (200, 509, 100, None), (None, None, 300, 300)])
def test_an_integer_limit_must_be_within_the_registry_bounds(low, high, limit, expected):
    board = with_value(DELL, "CpuMinSevAsid", 1)
    reg = registry({"AttributeName": "CpuMinSevAsid", "Type": "Integer", "ReadOnly": False,
                    "LowerBound": low, "UpperBound": high})
    if expected is None:
        with pytest.raises(ValueError, match="must be between %s and %s" % (low, high)):
            settings_for_snp(board, reg, asid_limit=limit)
    else:
        assert settings_for_snp(board, reg, asid_limit=limit) == {"CpuMinSevAsid": expected}


def test_an_enumerated_limit_must_be_one_of_its_values():
    board = with_value(DELL, "CpuMinSevAsid", "1")
    reg = registry(enum("CpuMinSevAsid", "1", "100", "253", "509"))
    assert settings_for_snp(board, reg, asid_limit=253) == {"CpuMinSevAsid": "253"}
    with pytest.raises(ValueError, match="allows CpuMinSevAsid only 1, 100, 253, 509, not 300"):
        settings_for_snp(board, reg, asid_limit=300)


def test_the_ami_control_takes_the_manual_value_the_registry_offers():
    board = with_value(with_value(AMI, "CbsCmnCpuSevAsidSpaceLimit", 1), "CbsCmnCpuSevAsidSpaceCtrl", "Auto")
    reg = registry(enum("CbsCmnCpuSevAsidSpaceCtrl", "Auto", "Manual"))
    assert settings_for_snp(board, reg)["CbsCmnCpuSevAsidSpaceCtrl"] == "Manual"


def test_an_attribute_the_registry_does_not_list_keeps_the_table_value():
    board = with_value(DELL, "Snp", "Disabled")
    assert settings_for_snp(board, registry(enum("BootMode", "Uefi"))) == {"Snp": "Enabled"}


@pytest.mark.parametrize("bad", [[], "registry", {"RegistryEntries": {}}, {"RegistryEntries": []},
                                 {"bios_registry": {}}, {"Attributes": []}])
def test_a_registry_of_the_wrong_shape_is_refused(bad):
    with pytest.raises(ValueError, match="registry"):
        settings_for_snp(with_value(DELL, "Snp", "Disabled"), bad)


# ---- decisions pinned one by one (mutation testing) ---------------------------------------

def test_the_smallest_asid_limit_is_two():
    assert settings_for_snp(with_value(DELL, "CpuMinSevAsid", 1), asid_limit=2) == {"CpuMinSevAsid": 2}
    assert settings_for_snp(with_value(DELL, "CpuMinSevAsid", 1), asid_limit="2") == {"CpuMinSevAsid": 2}


@pytest.mark.parametrize("value, start", [
    ("Disabled", "The IOMMU is off: Supermicro BIOS attribute IOMMU#0196 is 'Disabled'"),
    ("Auto", "The IOMMU is left to the firmware: Supermicro BIOS attribute IOMMU#0196 is 'Auto'"),
    ("Custom", "The IOMMU is in an unknown state: Supermicro BIOS attribute IOMMU#0196 is 'Custom'"),
])
def test_each_switch_message_says_what_was_seen(value, start):
    assert bios_problems(with_value(SUPERMICRO, "IOMMU#0196", value))[0]["message"].startswith(start)


def test_registry_entries_of_the_wrong_shape_are_skipped():
    board = with_value(SUPERMICRO, "SMEE#003E", "Disabled")
    reg = registry("junk", {"Type": "Enumeration"}, {"AttributeName": 5}, enum("SMEE#003E", "Off", "On"))
    assert settings_for_snp(board, reg) == {"SMEE#003E": "On"}


@pytest.mark.parametrize("bad", [[], "registry", 3])
def test_a_registry_that_is_not_a_mapping_says_so(bad):
    with pytest.raises(ValueError, match="registry must be a mapping"):
        settings_for_snp(with_value(DELL, "Snp", "Disabled"), bad)


def test_the_table_value_wins_over_another_on_value_the_registry_lists_first():
    board = with_value(DELL, "Snp", "Disabled")
    assert settings_for_snp(board, registry(enum("Snp", "Enable", "Enabled", "Disabled"))) == {"Snp": "Enabled"}


def test_a_registry_type_other_than_an_enumeration_keeps_the_table_value():
    board = with_value(with_value(DELL, "Snp", "Disabled"), "CpuMinSevAsid", 1)
    reg = registry({"AttributeName": "Snp", "Type": "String", "ReadOnly": False},
                   {"AttributeName": "CpuMinSevAsid", "Type": "String", "ReadOnly": False})
    assert settings_for_snp(board, reg) == {"Snp": "Enabled", "CpuMinSevAsid": 100}


def test_a_limit_equal_to_the_lower_bound_is_allowed():
    reg = registry({"AttributeName": "CpuMinSevAsid", "Type": "Integer", "ReadOnly": False, "LowerBound": 100})
    assert settings_for_snp(with_value(DELL, "CpuMinSevAsid", 1), reg) == {"CpuMinSevAsid": 100}


def test_a_registry_value_without_a_name_is_not_taken_for_manual():
    board = with_value(with_value(AMI, "CbsCmnCpuSevAsidSpaceLimit", 1), "CbsCmnCpuSevAsidSpaceCtrl", "Auto")
    reg = registry({"AttributeName": "CbsCmnCpuSevAsidSpaceCtrl", "Type": "Enumeration", "ReadOnly": False,
                    "Value": [{"ValueDisplayName": "?"}, {"ValueName": "Auto"}, {"ValueName": "Manual"}]})
    assert settings_for_snp(board, reg)["CbsCmnCpuSevAsidSpaceCtrl"] == "Manual"


def test_the_ami_control_is_left_alone_unless_the_limit_changes():
    board = with_value(with_value(AMI, "CbsCmnCpuSmee", "CbsCmnCpuSmeeDisabled"), "CbsCmnCpuSevAsidSpaceCtrl",
                       "CbsCmnCpuSevAsidSpaceCtrlAuto")
    assert settings_for_snp(board) == {"CbsCmnCpuSmee": "CbsCmnCpuSmeeEnabled"}
    assert settings_for_snp(with_value(AMI, "CbsCmnCpuSevAsidSpaceCtrl", "CbsCmnCpuSevAsidSpaceCtrlAuto")) == {}


# ------------------------------------------------------------------------ BMC failures

@pytest.mark.parametrize("error, failure_id, label", [
    ("HTTP Error 401: Unauthorized", "bios_bmc_credentials_refused", "BMC refused the credentials"),
    ("GET request failed: HTTP Error 403: Forbidden", "bios_bmc_credentials_refused", "BMC refused the credentials"),
    ("URL Error: <urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed>",
     "bios_bmc_certificate_unverified", "BMC certificate not verified"),
    ("Failed GET request to 'https://10.0.0.9/redfish/v1/Systems': 'URL Error: [Errno 111] Connection refused'",
     "bios_bmc_unreachable", "BMC unreachable"),
    ("Status code was -1 and not [200]: Request failed: <urlopen error timed out>", "bios_bmc_unreachable",
     "BMC unreachable"),
    ("URL Error: [Errno -2] Name or service not known", "bios_bmc_unreachable", "BMC unreachable"),
    ("HTTP Error 500: Internal Server Error", "bios_bmc_read_failed", "BMC not read"),
    ("HTTP Error 4010", "bios_bmc_read_failed", "BMC not read"),
    ("", "bios_bmc_read_failed", "BMC not read"),
    (None, "bios_bmc_read_failed", "BMC not read"),
])
def test_a_bmc_failure_is_named_with_its_fix(error, failure_id, label):
    item = bios.bmc_failure(error, "10.0.0.9")
    assert item["id"] == failure_id == bios.bmc_failure_id(error)
    assert item["label"] == label
    assert item["severity"] == "warning"
    assert item["message"].startswith("The BMC at 10.0.0.9 %s, so the BIOS settings were not checked." % item["reason"])
    assert item["fix"]
    if error:
        assert item["message"].endswith(" BMC said: %s" % " ".join(error.split()))
        assert item["error"] == " ".join(error.split())
    else:
        assert "BMC said" not in item["message"] and item["error"] == ""


def test_each_bmc_failure_says_what_to_change():
    fixes = dict((failure_id, bios.bmc_failure(text, "b")["fix"]) for failure_id, text in (
        ("refused", "HTTP Error 401"), ("tls", "certificate verify failed"), ("down", "Connection refused")))
    assert "sev_snp_bmc_username and sev_snp_bmc_password" in fixes["refused"]
    assert "sev_snp_bmc_ca_path" in fixes["tls"] and "sev_snp_bmc_validate_certs=false" in fixes["tls"]
    assert "sev_snp_bmc_address" in fixes["down"]


def test_a_bmc_error_over_several_lines_is_one_line():
    item = bios.bmc_failure("URL Error:\n  Connection refused\n", "b")
    assert item["error"] == "URL Error: Connection refused"
    assert "\n" not in item["message"]


def test_bmc_failures_come_before_the_settings_in_the_problem_order():
    order = list(bios.PROBLEM_ORDER)
    assert order.index("bios_bmc_unreachable") < order.index("bios_settings_unknown") < order.index(
        "bios_smee_disabled")
