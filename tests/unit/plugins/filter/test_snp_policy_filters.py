# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible.errors import AnsibleFilterError
from ansible.template import Templar, trust_as_template

from ansible_collections.coco.sev_snp.plugins.filter.snp_policy import (
    FilterModule,
    snp_policy_decode,
    snp_policy_encode,
    snp_policy_problems,
)


def render(expression, **variables):
    return Templar(loader=None, variables=variables).template(trust_as_template(expression))


def test_filters_are_registered():
    assert sorted(FilterModule().filters()) == ["snp_policy_decode", "snp_policy_encode", "snp_policy_problems"]


@pytest.mark.parametrize("value, set_flags", [
    (0x30000, ["smt", "reserved_must_be_one"]),
    ("0x30000", ["smt", "reserved_must_be_one"]),
    (0x20000, ["reserved_must_be_one"]),
    (0xB0000, ["smt", "reserved_must_be_one", "debug"]),
    (0x130000, ["smt", "reserved_must_be_one", "single_socket"]),
    (0x3FF0000, ["smt", "reserved_must_be_one", "migrate_ma", "debug", "single_socket", "cxl_allow",
                 "mem_aes_256_xts", "rapl_dis", "ciphertext_hiding", "page_swap_disable"]),
])
def test_decode_names_each_bit(value, set_flags):
    fields = snp_policy_decode(value)
    assert sorted(k for k, v in fields.items() if v is True) == sorted(set_flags)
    assert fields["unknown_bits"] == 0


def test_decode_abi_version():
    fields = snp_policy_decode(0x31F0A)
    assert (fields["abi_major"], fields["abi_minor"]) == (0x1F, 0x0A)


@pytest.mark.parametrize("value", [0x30000, 0xB0000, 0x130000, 0x3FF1234, 0x20000 | 1 << 40])
def test_encode_inverts_decode(value):
    assert snp_policy_encode(snp_policy_decode(value)) == value


def test_encode_always_sets_reserved_bit_and_takes_keywords():
    assert snp_policy_encode({}) == 0x20000
    assert snp_policy_encode({"smt": True}) == 0x30000
    assert snp_policy_encode({"smt": True}, single_socket=True) == 0x130000


@pytest.mark.parametrize("bad, message", [
    ({"smtt": True}, "unknown SEV-SNP policy field"),
    ({"abi_major": 256}, "0..255"),
    (["smt"], "expects a mapping"),
])
def test_encode_refuses_bad_fields(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        snp_policy_encode(bad)


@pytest.mark.parametrize("bad", ["zero", True, None, -1, 1 << 64])
def test_decode_refuses_non_policies(bad):
    with pytest.raises(AnsibleFilterError, match="snp_policy_decode"):
        snp_policy_decode(bad)


def test_problems():
    assert snp_policy_problems(0x30000) == []
    assert "bit 17" in snp_policy_problems(0x10000)[0]
    assert "debug" in snp_policy_problems(0xB0000)[0]
    assert snp_policy_problems(0xB0000, allow_debug=True) == []
    assert "above 25" in snp_policy_problems(0x30000 | 1 << 30)[0]
    with pytest.raises(AnsibleFilterError, match="allow_debug"):
        snp_policy_problems(0x30000, allow_debug="yes")


def test_filters_through_jinja():
    assert render("{{ '0x%x' | format({'smt': true} | coco.sev_snp.snp_policy_encode) }}") == "0x30000"
    assert render("{{ (policy | coco.sev_snp.snp_policy_decode).single_socket }}", policy="0x130000") is True
    assert render("{{ policy | coco.sev_snp.snp_policy_problems(allow_debug=true) | length }}", policy=0xB0000) == 0
