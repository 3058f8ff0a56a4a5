# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
import os

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_tools
from corpus import corpus_params, read_corpus

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "attestation")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.mark.parametrize("text,version", [
    ("snpguest 0.9.1", (0, 9, 1)), ("snphost 0.7", (0, 7, 0)), ("0.10.2\n", (0, 10, 2)), ([0, 8], (0, 8, 0)),
])
def test_parse_version(text, version):
    assert snp_tools.parse_version(text) == version


def test_parse_version_garbage():
    with pytest.raises(snp_tools.ToolOutputError, match="no version"):
        snp_tools.parse_version("command not found")


ARGS = ("/r/report.bin", "/r/request.bin", "/r/certs", "Milan")


@pytest.mark.parametrize("version", ["0.7.1", "0.8.3", "snpguest 0.8.9"])
def test_snpguest_before_0_9(version):
    cmds = snp_tools.snpguest_commands(version, *ARGS)
    assert cmds["fetch_ca"] == ["snpguest", "fetch", "ca", "pem", "milan", "/r/certs", "--endorser", "vcek"]
    assert cmds["fetch_vcek"] == ["snpguest", "fetch", "vcek", "pem", "milan", "/r/certs", "/r/report.bin"]


@pytest.mark.parametrize("version", ["0.9.0", "0.9.1", "1.0.0", "snpguest 0.10.0"])
def test_snpguest_0_9_and_later(version):
    cmds = snp_tools.snpguest_commands(version, *ARGS, endorser="vlek")
    assert cmds["fetch_ca"] == ["snpguest", "fetch", "ca", "pem", "/r/certs", "milan", "--endorser", "vlek"]
    assert cmds["fetch_vcek"] == ["snpguest", "fetch", "vcek", "pem", "/r/certs", "/r/report.bin",
                                  "--processor-model", "milan"]


def test_snpguest_common_lines():
    cmds = snp_tools.snpguest_commands("0.9.1", *ARGS, vmpl=0)
    assert cmds["report"] == ["snpguest", "report", "/r/report.bin", "/r/request.bin", "--random", "--vmpl", "0"]
    assert cmds["verify_attestation"] == ["snpguest", "verify", "attestation", "/r/certs", "/r/report.bin"]
    assert cmds["verify_certs"] == ["snpguest", "verify", "certs", "/r/certs"]


def test_snpguest_without_processor():
    new = snp_tools.snpguest_commands("0.9.1", "/r/report.bin", "/r/request.bin", "/r/certs")
    assert new["fetch_ca"] == ["snpguest", "fetch", "ca", "pem", "/r/certs", "--report", "/r/report.bin",
                               "--endorser", "vcek"]
    assert new["fetch_vcek"] == ["snpguest", "fetch", "vcek", "pem", "/r/certs", "/r/report.bin"]
    old = snp_tools.snpguest_commands("0.8.0", "/r/report.bin", "/r/request.bin", "/r/certs")
    assert old["fetch_ca"] is None and old["fetch_vcek"] is None
    assert old["report"][:2] == ["snpguest", "report"]


@pytest.mark.parametrize("version,vek,verify", [
    ("0.5.0", ["snphost", "fetch", "vcek", "pem", "/c"], ["snphost", "verify", "/c"]),
    ("snphost 0.6.2", ["snphost", "fetch", "vcek", "pem", "/c"], ["snphost", "verify", "/c"]),
    ("0.7.0", ["snphost", "fetch", "vek", "pem", "/c"], ["snphost", "verify", "certs", "/c"]),
    ("0.8.1", ["snphost", "fetch", "vek", "pem", "/c"], ["snphost", "verify", "certs", "/c"]),
])
def test_snphost_versions(version, vek, verify):
    cmds = snp_tools.snphost_commands(version, "/c")
    assert cmds["fetch_vek"] == vek and cmds["verify"] == verify
    assert cmds["fetch_ca"] == ["snphost", "fetch", "ca", "pem", "/c"]


def test_ok_table_all_pass():
    table = snp_tools.parse_ok_table(fixture("snphost-ok-all-pass.txt"))
    assert table["ok"] is True and table["failed"] == []
    assert table["skipped"] == ["Alias check"]
    assert table["passed"] == 11
    by_name = dict((check["name"], check) for check in table["checks"])
    assert by_name["AMD CPU"]["depth"] == 0
    assert by_name["SNP"]["depth"] == 3 and by_name["SNP"]["detail"] == "Enabled in MSR"
    assert by_name["KVM supported"]["detail"] == "API version: 12"


def test_ok_table_msr_disabled_corpus():
    table = snp_tools.parse_ok_table(read_corpus("tools/snphost-ok-6.11-snp-disabled-in-msr-7313.txt"))
    assert table["ok"] is False
    assert "SNP: Disabled in MSR" in table["failed"]
    assert any(item.startswith("SNP INIT") for item in table["failed"])


def test_ok_table_verbose_corpus():
    table = snp_tools.parse_ok_table(read_corpus("tools/snphost-ok-verbose-pr193-partial.txt"))
    first = table["checks"][0]
    assert first["section"] == "CPU Support" and first["name"] == "AMD CPU"
    assert "AuthenticAMD" in first["description"]
    assert table["ok"] is True


OK_TABLES = [param for param in corpus_params("tools")
             if param.values[0] is None
             or (os.path.basename(param.values[0]).startswith(("snphost-ok", "sevctl-ok"))
                 and ".json" not in param.values[0])]


@pytest.mark.parametrize("path", OK_TABLES)
def test_every_ok_style_corpus_file_parses(path):
    with open(path) as handle:
        table = snp_tools.parse_ok_table(handle.read())
    assert table["checks"]
    assert table["ok"] == (not any(check["status"] == "fail" for check in table["checks"]))


def test_ok_table_rejects_other_text():
    with pytest.raises(snp_tools.ToolOutputError):
        snp_tools.parse_ok_table("Error: permission denied")


def test_ok_json_complete():
    result = snp_tools.parse_snphost_ok_json(fixture("snphost-ok-complete.json"))
    assert result["ok"] is True and result["complete"] is True
    assert len(result["tests"]) == 4


def test_ok_json_truncated_failures_corpus():
    result = snp_tools.parse_snphost_ok_json(read_corpus("tools/snphost-ok-json-failures-pr193-partial.json.txt"))
    assert result["complete"] is False and result["ok"] is False
    assert result["summary"]["failed"] == 10 and len(result["failures"]) == 10
    assert result["failures"][0] == {"name": "SME", "hint": "Load MSR kernel module: sudo modprobe msr"}
    assert "Alias check" in result["skipped"]


def test_ok_json_truncated_issues_corpus():
    result = snp_tools.parse_snphost_ok_json(read_corpus("tools/snphost-ok-json-pr191-partial.json.txt"))
    assert result["failures"][0]["name"] == "Alias check"
    assert result["summary"]["passed"] == 29


def test_ok_json_garbage():
    with pytest.raises(snp_tools.ToolOutputError):
        snp_tools.parse_snphost_ok_json("[ PASS ] - AMD CPU")


def test_verify_attestation_success_corpus():
    result = snp_tools.parse_snpguest_verify(read_corpus("tools/snpguest-verify-attestation-success-no-fmc-dfinity.txt"))
    assert result["attestation_ok"] is True
    assert result["tcb"] == {"boot_loader": True, "tee": True, "snp": True, "microcode": True}


def test_verify_turin_corpus_mixes_failure_and_fmc():
    result = snp_tools.parse_snpguest_verify(
        read_corpus("tools/snpguest-turin-verify-certs-fail-attestation-ok-genoa-fetch-404.txt"))
    assert result["tcb"]["fmc"] is True
    assert result["chain"]["vek_signed_by_ask"] is False
    assert result["ok"] is False
    assert "Unable to fetch VCEK from URL: 404" in result["errors"]


def test_verify_tcb_mismatch_fixture():
    result = snp_tools.parse_snpguest_verify(fixture("snpguest-verify-attestation-tcb-mismatch.txt"))
    assert result["tcb"]["snp"] is False and result["attestation_ok"] is False
    assert len(result["errors"]) == 1


def test_verify_certs_fixture():
    result = snp_tools.parse_snpguest_verify(fixture("snpguest-verify-certs-ok.txt"))
    assert result["ok"] is True and result["attestation_ok"] is False
    assert result["chain"] == {"ark_self_signed": True, "ask_signed_by_ark": True, "vek_signed_by_ask": True}
