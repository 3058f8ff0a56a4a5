# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kds_fetch against a KDS stand-in on 127.0.0.1 that can misbehave on demand."""
import http.server
import os
import threading

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_report
from ansible_collections.coco.sev_snp.plugins.modules import kds_fetch
from amd_test_ca import StandInAmdCa, der, make_report, p384_key
from attest_module_runner import run_module

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = bytes(range(64))
HTML_ERROR = b"<html><head><title>503</title></head><body>Service Unavailable</body></html>"


class StandInKds(object):
    """Serves scripted answers per path; the last answer of a script repeats."""

    def __init__(self):
        self.scripts = {}
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                script = owner.scripts.get(self.path, [(404, b"not found", {})])
                status, body, headers = script.pop(0) if len(script) > 1 else script[0]
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kds():
    server = StandInKds()
    yield server
    server.close()


@pytest.fixture(scope="module")
def milan():
    ca = StandInAmdCa("Milan")
    return ca, der(ca.issue_vek(chip_id=CHIP, tcb=TCB))


CHAIN_PATH = "/vcek/v1/Milan/cert_chain"
VCEK_PATH = snp_report.kds_vcek_path("Milan", CHIP.hex(), TCB)


def _args(kds, tmp_path, **extra):
    args = dict(base_url=kds.url, dest=str(tmp_path / "cache"), product="Milan", chip_id=CHIP.hex(),
                tcb=TCB, retries=3, retry_delay=0.01, timeout=5)
    args.update(extra)
    return args


def test_vcek_path_spelling():
    assert VCEK_PATH == "/vcek/v1/Milan/%s?blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115" % CHIP.hex()
    turin = snp_report.kds_vcek_path("Turin", CHIP.hex(), dict(TCB, fmc=1))
    assert turin == "/vcek/v1/Turin/0001020304050607?fmcSPL=01&blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115"
    assert snp_report.kds_chain_path("Genoa", "VLEK") == "/vlek/v1/Genoa/cert_chain"
    with pytest.raises(snp_report.ReportError, match="all zeros"):
        snp_report.kds_vcek_path("Milan", "00" * 64, TCB)
    with pytest.raises(snp_report.ReportError, match="fmc"):
        snp_report.kds_vcek_path("Turin", CHIP.hex(), TCB)


def test_fetch_then_cache(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed, result["msg"]
    assert result["changed"] and len(result["downloaded"]) == 2
    with open(result["vek"], "rb") as handle:
        assert handle.read() == vcek
    with open(result["cert_chain"], "rb") as handle:
        assert handle.read() == ca.chain_pem()
    kds.requests.clear()
    failed, again = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed and again["changed"] is False and kds.requests == []
    assert sorted(os.listdir(os.path.dirname(result["vek"]))) == sorted(
        [os.path.basename(result["vek"]), "vcek_cert_chain.pem"])


def test_check_mode_contacts_nothing(kds, tmp_path):
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path), check_mode=True)
    assert not failed and result["changed"] is True
    assert kds.requests == [] and not os.path.exists(str(tmp_path / "cache"))


def test_429_and_500_are_retried(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {
        CHAIN_PATH: [(429, b"slow down", {"Retry-After": "0"}), (500, b"oops", {}), (200, ca.chain_pem(), {})],
        VCEK_PATH: [(503, HTML_ERROR, {}), (200, vcek, {})],
    }
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed, result["msg"]
    assert result["attempts"] == 5
    assert kds.requests.count(CHAIN_PATH) == 3


def test_retries_exhausted(kds, tmp_path):
    kds.scripts = {CHAIN_PATH: [(500, HTML_ERROR, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=2))
    assert failed and "after 3 attempts" in result["msg"]
    assert kds.requests.count(CHAIN_PATH) == 3
    assert not os.path.exists(result["cert_chain"])


def test_404_is_not_retried(kds, tmp_path, milan):
    ca, _vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "404" in result["msg"] and "reported_tcb" in result["msg"]
    assert kds.requests.count(VCEK_PATH) == 1
    assert not os.path.exists(str(tmp_path / "cache" / "Milan" / snp_report.vcek_cache_name("Milan", CHIP.hex(), TCB)))


@pytest.mark.parametrize("body", [HTML_ERROR, b"", "truncated"])
def test_garbage_vcek_is_never_written(kds, tmp_path, milan, body):
    ca, vcek = milan
    if body == "truncated":
        body = vcek[:200]
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, body, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "nothing was written" in result["msg"]
    assert os.listdir(str(tmp_path / "cache" / "Milan")) == ["vcek_cert_chain.pem"]


def test_vcek_of_other_tcb_is_refused(kds, tmp_path, milan):
    ca, _vcek = milan
    other = der(ca.issue_vek(chip_id=CHIP, tcb=dict(TCB, snp=7)))
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, other, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "snp=7" in result["msg"]


def test_chain_of_other_product_is_refused(kds, tmp_path):
    kds.scripts = {CHAIN_PATH: [(200, StandInAmdCa("Genoa").chain_pem(), {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "ARK-Milan" in result["msg"]


def test_corrupt_cache_is_refetched(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek, {})]}
    run_module(kds_fetch.main, _args(kds, tmp_path))
    cached = tmp_path / "cache" / "Milan" / "vcek_cert_chain.pem"
    cached.write_bytes(HTML_ERROR)
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed and result["downloaded"] == [kds.url + CHAIN_PATH]


def test_inputs_from_report(kds, tmp_path, milan):
    ca, vcek = milan
    report = tmp_path / "report.bin"
    report.write_bytes(make_report(p384_key("vek"), version=3, chip_id=CHIP, tcb=TCB))
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek, {})]}
    args = dict(base_url=kds.url, dest=str(tmp_path / "cache"), report=str(report), retry_delay=0.01)
    failed, result = run_module(kds_fetch.main, args)
    assert not failed, result["msg"]
    assert result["product"] == "Milan" and result["signing_key"] == "VCEK"


def test_v2_report_needs_product(kds, tmp_path):
    report = tmp_path / "report.bin"
    report.write_bytes(make_report(p384_key("vek"), version=2, chip_id=CHIP, tcb=TCB))
    failed, result = run_module(kds_fetch.main, dict(dest=str(tmp_path), report=str(report), base_url=kds.url))
    assert failed and "set product" in result["msg"]


def test_vlek_report_fetches_only_the_asvk_chain(kds, tmp_path):
    ca = StandInAmdCa("Milan", vlek=True)
    report = tmp_path / "report.bin"
    report.write_bytes(make_report(p384_key("vek"), tcb=TCB, signing_key="VLEK", mask_chip_key=True))
    kds.scripts = {"/vlek/v1/Milan/cert_chain": [(200, ca.chain_pem(), {})]}
    failed, result = run_module(kds_fetch.main, dict(dest=str(tmp_path / "c"), report=str(report), base_url=kds.url))
    assert not failed, result["msg"]
    assert result["vek"] is None and result["cert_chain"].endswith("vlek_cert_chain.pem")
    assert kds.requests == ["/vlek/v1/Milan/cert_chain"]


def test_explicit_inputs_validated(kds, tmp_path):
    failed, result = run_module(kds_fetch.main, dict(dest=str(tmp_path), product="Milan", base_url=kds.url))
    assert failed and "chip_id and tcb" in result["msg"]
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, chip_id="xyz"))
    assert failed and "not hex" in result["msg"]
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, chip_id="ab" * 10))
    assert failed and "128 hex digits" in result["msg"]
