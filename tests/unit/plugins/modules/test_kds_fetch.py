# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kds_fetch against a KDS stand-in on 127.0.0.1 that can misbehave on demand."""
import http.server
import os
import socket
import struct
import threading
import time

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_report
from ansible_collections.coco.sev_snp.plugins.modules import kds_fetch
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem
from attest_module_runner import run_module

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = bytes(range(64))
HTML_ERROR = b"<html><head><title>503</title></head><body>Service Unavailable</body></html>"


class StandInKds(object):
    """Serves scripted answers per path; the last answer of a script repeats.

    An answer is (status, body, headers), or a callable that gets the request handler and
    misbehaves on the socket itself (reset, trickle, lie about the length).
    """

    def __init__(self):
        self.scripts = {}
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                script = owner.scripts.get(self.path, [(404, b"not found", {})])
                answer = script.pop(0) if len(script) > 1 else script[0]
                if callable(answer):
                    try:
                        answer(self)
                    except OSError:
                        pass
                    return
                status, body, headers = answer
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
def kds(anchor_file):
    server = StandInKds()
    server.anchor = anchor_file
    yield server
    server.close()


@pytest.fixture(scope="module")
def milan():
    ca = StandInAmdCa("Milan")
    return ca, der(ca.issue_vek(chip_id=CHIP, tcb=TCB))


@pytest.fixture(scope="module")
def anchor_file(milan, tmp_path_factory):
    """The stand-in CA's ARK, the only way its chains may be cached (trust_anchors)."""
    path = tmp_path_factory.mktemp("anchor") / "stand-in-ark.pem"
    path.write_bytes(pem(milan[0].ark))
    return str(path)


def reset(handler):
    """Close with an RST (SO_LINGER 0) once the request has been read."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def cut_short(body):
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True
    return answer


def trickle(body, interval):
    """One byte every ``interval`` seconds (bounded by the body: the thread always ends)."""
    def answer(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for index in range(len(body)):
            handler.wfile.write(body[index:index + 1])
            handler.wfile.flush()
            time.sleep(interval)
    return answer


def endless(handler):
    """No Content-Length and a body far beyond any certificate; stops when the client hangs up."""
    handler.send_response(200)
    handler.end_headers()
    handler.close_connection = True
    block = b"A" * 65536
    for _block in range(1600):  # 100 MiB at most
        handler.wfile.write(block)


CHAIN_PATH = "/vcek/v1/Milan/cert_chain"
VCEK_PATH = snp_report.kds_vcek_path("Milan", CHIP.hex(), TCB)


def _args(kds, tmp_path, **extra):
    args = dict(base_url=kds.url, dest=str(tmp_path / "cache"), product="Milan", chip_id=CHIP.hex(),
                tcb=TCB, retries=3, retry_delay=0.01, timeout=5, trust_anchors=[kds.anchor])
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
    assert failed and "It was not written to the cache" in result["msg"]
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
    args = dict(base_url=kds.url, dest=str(tmp_path / "cache"), report=str(report), retry_delay=0.01,
                trust_anchors=[kds.anchor])
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
    anchor = tmp_path / "vlek-ark.pem"
    anchor.write_bytes(pem(ca.ark))
    failed, result = run_module(kds_fetch.main, dict(dest=str(tmp_path / "c"), report=str(report), base_url=kds.url,
                                                     trust_anchors=[str(anchor)]))
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


# --- A client that never caches junk ----------------------------------------------------------

def _cache_files(tmp_path):
    directory = tmp_path / "cache" / "Milan"
    return sorted(os.listdir(str(directory))) if directory.exists() else []


def test_chain_followed_by_100_mib_of_junk_is_refused(kds, tmp_path, milan):
    ca, _vcek = milan

    def chain_then_junk(handler):
        endless_after = ca.chain_pem()
        handler.send_response(200)
        handler.end_headers()
        handler.close_connection = True
        handler.wfile.write(endless_after)
        endless(handler)
    kds.scripts = {CHAIN_PATH: [chain_then_junk]}
    start = time.monotonic()
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "sent more than 65536 bytes" in result["msg"] and "max_body_size" in result["msg"]
    assert result["attempts"] == 1 and _cache_files(tmp_path) == []
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("junk", [b"junk", b"\n<html>oops</html>\n", b"\x00" * 10])
def test_chain_followed_by_a_little_junk_is_retried_and_refused(kds, tmp_path, milan, junk):
    ca, _vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem() + junk, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=1))
    assert failed and "not the expected certificate" in result["msg"] and "not a PEM certificate block" in result["msg"]
    assert result["attempts"] == 2 and "after 2 attempts" in result["msg"]
    assert _cache_files(tmp_path) == []


def test_announced_huge_body_is_refused_without_reading_it(kds, tmp_path):
    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(100 * 1024 * 1024))
        handler.end_headers()
        handler.wfile.write(b"x" * 1024)
    kds.scripts = {CHAIN_PATH: [huge]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, max_body_size=4096))
    assert failed and "announces a 104857600-byte body" in result["msg"] and "4096" in result["msg"]
    assert result["attempts"] == 1


def test_slow_drip_is_bounded_by_the_deadline(kds, tmp_path, milan):
    ca, _vcek = milan
    kds.scripts = {CHAIN_PATH: [trickle(ca.chain_pem()[:40], 0.25)]}
    start = time.monotonic()
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, deadline=1.0, timeout=30, retry_delay=0.01))
    elapsed = time.monotonic() - start
    assert failed and "1s deadline" in result["msg"]
    assert elapsed < 3, elapsed
    assert result["attempts"] >= 1 and "after %d attempt" % result["attempts"] in result["msg"]
    assert kds.requests.count(CHAIN_PATH) == result["attempts"]
    assert _cache_files(tmp_path) == []


def test_retry_delays_stay_inside_the_deadline(kds, tmp_path):
    kds.scripts = {CHAIN_PATH: [(503, HTML_ERROR, {})]}
    start = time.monotonic()
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=5, retry_delay=30, deadline=2))
    assert failed and result["attempts"] == 1 and "after 1 attempt within the 2s deadline" in result["msg"]
    assert "HTTP 503" in result["msg"]
    assert time.monotonic() - start < 2


def test_connection_reset_is_retried_and_counted(kds, tmp_path):
    kds.scripts = {CHAIN_PATH: [reset]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=2))
    assert failed and result["attempts"] == 3 and "after 3 attempts" in result["msg"]
    assert "cannot write" not in result["msg"] and "reset" in result["msg"].lower()
    assert _cache_files(tmp_path) == []


def test_reset_then_answer_succeeds(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [reset, cut_short(ca.chain_pem()), (200, ca.chain_pem(), {})],
                   VCEK_PATH: [(200, vcek, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed, result["msg"]
    assert result["attempts"] == 4 and kds.requests.count(CHAIN_PATH) == 3


def test_body_cut_short_is_reported_with_the_byte_counts(kds, tmp_path, milan):
    ca, _vcek = milan
    body = ca.chain_pem()
    kds.scripts = {CHAIN_PATH: [cut_short(body)]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=1))
    assert failed and "closed after %d of %d announced bytes" % (len(body) // 2, len(body)) in result["msg"]
    assert result["attempts"] == 2 and _cache_files(tmp_path) == []


def test_kds_down_is_a_clear_failure(tmp_path, anchor_file):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = dict(base_url="http://127.0.0.1:%d" % port, dest=str(tmp_path / "cache"), product="Milan",
                chip_id=CHIP.hex(), tcb=TCB, retries=2, retry_delay=0.01, trust_anchors=[anchor_file])
    failed, result = run_module(kds_fetch.main, args)
    assert failed and "cannot connect" in result["msg"] and "after 3 attempts" in result["msg"]
    assert result["attempts"] == 3 and result["downloaded"] == []


@pytest.mark.parametrize("tcb", [dict(TCB, snp=999), dict(TCB, microcode=-1), dict(TCB, tee="x")])
def test_tcb_out_of_range_is_refused_before_any_request(kds, tmp_path, tcb):
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, tcb=tcb))
    assert failed and "must be" in result["msg"] and "0..255" in result["msg"]
    assert kds.requests == []


def test_forged_chain_is_not_cached_without_trust_anchors(kds, tmp_path, milan):
    """A mirror serving its own hierarchy: refused at once, and never written."""
    ca, _vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, trust_anchors=[]))
    assert failed and "trust anchor" in result["msg"] and "not AMD's ARK-Milan" in result["msg"]
    assert result["attempts"] == 1 and _cache_files(tmp_path) == []


def test_cached_chain_from_an_untrusted_root_is_not_reused(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek, {})]}
    failed, _result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed
    kds.requests.clear()
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, trust_anchors=[]))
    assert failed and "trust anchor" in result["msg"] and kds.requests == [CHAIN_PATH]


def test_bundle_with_extra_certificates_is_refused(kds, tmp_path, milan):
    ca, _vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem() + pem(ca.ask), {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "exactly two certificates" in result["msg"] and _cache_files(tmp_path) == []


def test_vcek_not_signed_by_the_cached_ask_is_refused(kds, tmp_path, milan):
    ca, _vcek = milan
    impostor = StandInAmdCa("Milan", label="-vcek-impostor")
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})],
                   VCEK_PATH: [(200, der(impostor.issue_vek(chip_id=CHIP, tcb=TCB)), {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert failed and "VCEK signed by ASK" in result["msg"]
    assert _cache_files(tmp_path) == ["vcek_cert_chain.pem"]


def test_vcek_with_trailing_bytes_is_refused(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek + b"\x00", {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, retries=0))
    assert failed and "not the expected certificate" in result["msg"]
    assert _cache_files(tmp_path) == ["vcek_cert_chain.pem"]


def test_result_names_the_anchor_and_check_mode_on_a_full_cache(kds, tmp_path, milan):
    ca, vcek = milan
    kds.scripts = {CHAIN_PATH: [(200, ca.chain_pem(), {})], VCEK_PATH: [(200, vcek, {})]}
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path))
    assert not failed and result["anchor"]["source"] == kds.anchor
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path), check_mode=True)
    assert not failed and result["changed"] is False


@pytest.mark.parametrize("extra,message", [
    ({"deadline": 0}, "must be positive"), ({"max_body_size": 0}, "must be positive"),
    ({"retries": -1}, "must not be negative"), ({"trust_anchors": ["/nonexistent/ark.pem"]}, "cannot read trust_anchors"),
])
def test_bad_options(kds, tmp_path, extra, message):
    failed, result = run_module(kds_fetch.main, _args(kds, tmp_path, **extra))
    assert failed and message in result["msg"] and kds.requests == []
