# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.snp_tools import FilterModule

FILTERS = FilterModule().filters()


def test_version_and_commands_chain():
    version = FILTERS["snp_tool_version"]("snphost 0.7.2\n")
    assert version == "0.7.2"
    assert FILTERS["snphost_commands"](version, "/c")["fetch_vek"][2] == "vek"
    guest = FILTERS["snpguest_commands"]("snpguest 0.8.0", "/r", "/q", "/c", "Genoa")
    assert guest["fetch_ca"][4:6] == ["genoa", "/c"]


def test_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="snp_tool_version"):
        FILTERS["snp_tool_version"]("not installed")
    with pytest.raises(AnsibleFilterError, match="snp_ok_table"):
        FILTERS["snp_ok_table"]("")


def test_parsers_are_exposed():
    assert FILTERS["snp_ok_table"]("[ FAIL ] - AMD CPU")["ok"] is False
    assert FILTERS["snphost_ok_json"]('{"failures": [], "summary": {"failed": 0}}')["ok"] is True
    assert FILTERS["snpguest_verify_result"]("VEK signed the Attestation Report!")["signature_verified"] is True


def test_b64_hex():
    assert FILTERS["snp_b64_hex"]("AAH/") == "0001ff"
    with pytest.raises(AnsibleFilterError, match="snp_b64_hex"):
        FILTERS["snp_b64_hex"]("not base64!")
