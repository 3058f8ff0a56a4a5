# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.snp_policy import (
    POLICY_FLAGS,
    decode_policy,
    encode_policy,
    validate_policy,
)


def test_decode_default_libvirt_policy():
    fields = decode_policy(0x30000)
    assert fields["smt"] is True
    assert fields["reserved_must_be_one"] is True
    assert fields["debug"] is False
    assert fields["abi_major"] == 0 and fields["abi_minor"] == 0
    assert fields["unknown_bits"] == 0


def test_decode_abi_version_and_hex_string():
    fields = decode_policy("0x000b0103")
    assert fields["abi_major"] == 1
    assert fields["abi_minor"] == 3
    assert fields["smt"] and fields["debug"] and not fields["migrate_ma"]


@pytest.mark.parametrize("name,bit", POLICY_FLAGS)
def test_each_flag_is_its_own_bit(name, bit):
    fields = decode_policy(1 << bit)
    assert [key for key, value in fields.items() if value is True] == [name]
    assert encode_policy(**{name: True}) == (1 << bit) | (1 << 17)


def test_bit_positions_match_abi():
    positions = dict(POLICY_FLAGS)
    assert positions["debug"] == 19
    assert positions["single_socket"] == 20
    assert positions["ciphertext_hiding"] == 24
    assert positions["page_swap_disable"] == 25


@pytest.mark.parametrize("value", [0x30000, 0xB0000, 0x3F_FF_FF, 0x2000000 | 0x20000, (1 << 63) | 0x20000])
def test_round_trip(value):
    assert encode_policy(**decode_policy(value)) == value


def test_unknown_bits_reported():
    assert decode_policy((1 << 40) | 0x30000)["unknown_bits"] == 1 << 40


def test_encode_always_sets_reserved_bit():
    assert encode_policy() == 0x20000
    assert encode_policy(reserved_must_be_one=False) == 0x20000


@pytest.mark.parametrize("bad", [{"smtt": True}, {"abi_major": 256}, {"abi_minor": -1}, {"unknown_bits": 1}])
def test_encode_refuses_bad_fields(bad):
    with pytest.raises(ValueError):
        encode_policy(**bad)


def test_validate_good_policy():
    assert validate_policy(0x30000) == []
    assert validate_policy("0x30000") == []


def test_validate_reserved_bit_clear():
    errors = validate_policy(0x10000)
    assert len(errors) == 1 and "bit 17" in errors[0] and "0x30000" in errors[0]


def test_validate_debug():
    assert any("debug" in e for e in validate_policy(0xB0000))
    assert validate_policy(0xB0000, allow_debug=True) == []


def test_validate_high_bits_and_range():
    assert any("above 25" in e for e in validate_policy(0x30000 | 1 << 26))
    assert any("64-bit" in e for e in validate_policy(1 << 64))
    assert any("64-bit" in e for e in validate_policy(-1))


@pytest.mark.parametrize("bad", ["SMT", None, True, 1.5])
def test_bad_types_are_clear_errors(bad):
    errors = validate_policy(bad)
    assert len(errors) == 1 and "policy" in errors[0]
    with pytest.raises(ValueError):
        decode_policy(bad)
