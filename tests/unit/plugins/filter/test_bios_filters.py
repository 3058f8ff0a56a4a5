# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible.errors import AnsibleFilterError
from ansible.template import Templar, trust_as_template

from ansible_collections.coco.sev_snp.plugins.filter.bios import (
    FilterModule,
    bios_bmc_failure,
    bios_problems,
    bios_settings_for_snp,
)


def render(expression, **variables):
    return Templar(loader=None, variables=variables).template(trust_as_template(expression))


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["bios_bmc_failure", "bios_problems", "bios_settings_for_snp"]


@pytest.mark.parametrize("attributes", [None, [], "Sme=Enabled"])
def test_bad_attributes_fail_the_template_with_the_fix(attributes):
    with pytest.raises(AnsibleFilterError, match="bios_problems: BIOS attributes must be a mapping"):
        bios_problems(attributes)
    with pytest.raises(AnsibleFilterError, match="bios_settings_for_snp: BIOS attributes must be a mapping"):
        bios_settings_for_snp(attributes)


def test_a_bad_asid_limit_fails_the_template():
    with pytest.raises(AnsibleFilterError, match="bios_problems: asid_limit must be"):
        bios_problems({"Sme": "Enabled"}, asid_limit=1)


def test_a_read_only_attribute_fails_the_plan():
    registry = {"RegistryEntries": {"Attributes": [
        {"AttributeName": "Snp", "Type": "Enumeration", "ReadOnly": True, "Value": [{"ValueName": "Enabled"}]}]}}
    with pytest.raises(AnsibleFilterError, match="bios_settings_for_snp: the BIOS attribute registry marks Snp read-only"):
        bios_settings_for_snp({"Sme": "Enabled", "Snp": "Disabled"}, registry)


def test_the_filters_in_a_template():
    attributes = {"SMEE#003E": "Enabled", "SEV-SNPSupport#01A7": "Disabled", "IOMMU#0196": "Enabled"}
    ids = render("{{ attrs | coco.sev_snp.bios_problems | map(attribute='id') | list }}", attrs=attributes)
    assert ids == ["bios_snp_disabled"]
    changes = render("{{ attrs | coco.sev_snp.bios_settings_for_snp(none, 200) }}", attrs=attributes)
    assert changes == {"SEV-SNPSupport#01A7": "Enabled"}
    asid = render("{{ {'CpuMinSevAsid': 1, 'Sme': 'Enabled'} | coco.sev_snp.bios_settings_for_snp(asid_limit=253) }}")
    assert asid == {"CpuMinSevAsid": 253}


def test_a_failed_redfish_read_names_the_bmc_failure():
    # community.general.redfish_info reports a refused login under redfish_facts, with ret false.
    result = {"failed": True, "msg": "", "redfish_facts": {"bios_attribute": {
        "ret": False, "msg": "HTTP Error 401 on GET request to '/redfish/v1/Systems', extended message: ''"}}}
    item = bios_bmc_failure(result, "10.1.2.3:443")
    assert item["id"] == "bios_bmc_credentials_refused"
    assert item["message"].startswith("The BMC at 10.1.2.3:443 refused the credentials (HTTP 401/403)")
    assert "HTTP Error 401 on GET request" in item["error"]


def test_a_failed_result_message_and_a_plain_text_are_read_alike():
    text = "URL Error: [Errno 111] Connection refused"
    assert bios_bmc_failure({"msg": text, "redfish_facts": None}, "b") == bios_bmc_failure(text, "b")
    assert bios_bmc_failure({}, "b")["id"] == "bios_bmc_read_failed"


def test_the_failure_filter_in_a_template():
    item = render("{{ err | coco.sev_snp.bios_bmc_failure('bmc-7') }}", err={"msg": "timed out"})
    assert (item["id"], item["label"]) == ("bios_bmc_unreachable", "BMC unreachable")
