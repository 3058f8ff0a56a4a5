# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible.errors import AnsibleFilterError
from ansible.template import Templar, trust_as_template

from ansible_collections.coco.sev_snp.plugins.filter.bios import FilterModule, bios_problems, bios_settings_for_snp


def render(expression, **variables):
    return Templar(loader=None, variables=variables).template(trust_as_template(expression))


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["bios_problems", "bios_settings_for_snp"]


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
