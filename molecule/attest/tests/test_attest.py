# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What converge left behind, then attest_guest.yml run again for each way it must fail."""
from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess

import pytest

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", "")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOK = os.path.join(ROOT, "playbooks", "attest_guest.yml")
EVIDENCE = os.path.join(EPHEMERAL, "evidence")
HOSTS = ["sev-snp-attest-old", "sev-snp-attest-new"]
NEW = "sev-snp-attest-new"

testinfra_hosts = ["ansible://sev_snp_guests"]


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _run_attest(case, extra, host=NEW, cwd=None):
    """attest_guest.yml for one host with its own guest directory; (rc, failure messages, stdout)."""
    # Cases run side by side: each has its own directory in the guest and on the controller.
    extra = dict({"sev_snp_target": host, "sev_snp_attest_guest_dir": "/root/attest-%s" % case,
                  "sev_snp_attest_evidence_dir": os.path.join(EPHEMERAL, "evidence-" + case)}, **extra)
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
    command = ["ansible-playbook", "-i", INVENTORY, PLAYBOOK, "-e", json.dumps(extra)]
    try:
        done = subprocess.run(command, cwd=cwd or EPHEMERAL, env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        document = json.loads(done.stdout[done.stdout.index("{"):])
    except (ValueError, subprocess.TimeoutExpired) as exc:
        # Reported by the test that reads this case, not as a fixture error (which re-runs every case).
        return None, [{"task": "ansible-playbook", "host": host, "msg": "no JSON result: %s" % exc}], None
    failures = []
    for play in document["plays"]:
        for task in play["tasks"]:
            for name, result in task["hosts"].items():
                if result.get("failed") or result.get("unreachable"):
                    failures.append({"task": task["task"]["name"], "host": name, "msg": str(result.get("msg"))})
    return done.returncode, failures, document


FETCH = "Fetch the certificate chain and the VCEK from KDS (cached)"
VERIFY = "Verify the report natively on the controller"
CASES = {
    # The test CA's chain is self-consistent; without trust_anchors it proves nothing about AMD.
    "forged": ({"sev_snp_attest_trust_anchors": [],
                "sev_snp_attest_kds_cache": os.path.join(EPHEMERAL, "cache-forged")},
               FETCH, ["trust anchor", "not AMD's ARK-Milan"]),
    "wrong-nonce": ({}, VERIFY, ["check 'report_data'"]),
    "measurement": ({"sev_snp_attest_expected_measurement": "ab" * 48},
                    VERIFY, ["check 'measurement'", "expected " + "ab" * 48]),
    "short-measurement": ({"sev_snp_attest_expected_measurement": "ab" * 47},
                          VERIFY, ["exactly 48 bytes"]),
    "kds-down": ({"sev_snp_attest_kds_base_url": "http://127.0.0.1:1",
                  "sev_snp_attest_kds_cache": os.path.join(EPHEMERAL, "cache-down")},
                 FETCH, ["cannot connect", "after 2 attempts"]),
    "vlek": ({"sev_snp_attest_vlek": os.path.join(EVIDENCE, "vlek", "vlek.der")},
             VERIFY, ["check 'VLEK validity'", "valid only from 2024-01-01"]),
    "no-snp": ({"sev_snp_attest_guest_facts_root": "/", "sev_snp_attest_guest_kernel_log": "",
                "sev_snp_attest_snpguest": "/nonexistent/snpguest"},
               "Require SEV-SNP in the guest", ["does not run under SEV-SNP"]),
    # No measurement given, none recorded, no policy: refused by default.
    "no-measurement": ({"sev_snp_attest_expected_measurement": "",
                        "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records-none")},
                       "Require an expected launch measurement",
                       ["measurement: sev-snp-attest-new has no expected launch measurement",
                        "sev_snp_attest_require_measurement=false"]),
    # The record sev_snp_guest would have written, for another image than the guest runs.
    "record-mismatch": ({"sev_snp_attest_expected_measurement": "",
                         "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records-other")},
                        VERIFY, ["check 'measurement'", "expected " + "cd" * 48]),
    # Two records for one guest name (two libvirt hosts): ambiguous.
    "record-ambiguous": ({"sev_snp_attest_expected_measurement": "",
                          "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records-twice")},
                         "Refuse an ambiguous or missing measurement record", ["2 records match sev-snp-attest-new"]),
    "policy-vmpl": ({"sev_snp_attest_policy": os.path.join(EPHEMERAL, "policy-vmpl0.yml")},
                    VERIFY, ["check 'vmpl' of policy", "the policy requires 0"]),
}
# Cases that must pass, with what the result must say about the measurement and the policy.
PASSING = {
    "record": ({"sev_snp_attest_expected_measurement": "",
                "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records")},
               ["measurement_checked=record " + os.path.join(EPHEMERAL, "records", "hv1", NEW + ".json"),
                "policy=none"]),
    "policy": ({"sev_snp_attest_expected_measurement": "",
                "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records-none"),
                "sev_snp_attest_policy": os.path.join(EPHEMERAL, "policy.yml")},
               ["measurement_checked=policy " + os.path.join(EPHEMERAL, "policy.yml"),
                "policy=" + os.path.join(EPHEMERAL, "policy.yml")]),
    "unrequired": ({"sev_snp_attest_expected_measurement": "", "sev_snp_attest_require_measurement": False,
                    "sev_snp_attest_measurement_dir": os.path.join(EPHEMERAL, "records-none")},
                   ["measurement_checked=none", "policy=none"]),
}


def _write_records_and_policies():
    """What define time would have left on the controller, and two policies."""
    measurement = _read(os.path.join(EVIDENCE, "measurement.txt")).strip()
    for directory, hosts, value in (("records", ["hv1"], measurement), ("records-other", ["hv1"], "cd" * 48),
                                    ("records-twice", ["hv1", "hv2"], measurement)):
        for libvirt_host in hosts:
            path = os.path.join(EPHEMERAL, directory, libvirt_host)
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, NEW + ".json"), "w", encoding="utf-8") as handle:
                json.dump({"guest": NEW, "host": libvirt_host, "measurement": value}, handle)
    os.makedirs(os.path.join(EPHEMERAL, "records-none"), exist_ok=True)
    with open(os.path.join(EPHEMERAL, "policy.yml"), "w", encoding="utf-8") as handle:
        handle.write("version: 1\nmeasurements: ['%s', '%s']\nvmpl: 1\nguest_policy: {debug: false}\n"
                     "products: [Milan]\n" % ("ab" * 48, measurement))
    with open(os.path.join(EPHEMERAL, "policy-vmpl0.yml"), "w", encoding="utf-8") as handle:
        handle.write("version: 1\nvmpl: 0\n")


@pytest.fixture(scope="module")
def case_results():
    """Every failure case at once, side by side (each is its own ansible-playbook run)."""
    _write_records_and_policies()
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = dict((case, pool.submit(_run_attest, case, extra)) for case, (extra, _t, _m) in CASES.items())
        futures.update((case, pool.submit(_run_attest, case, extra)) for case, (extra, _m) in PASSING.items())
        futures["vlek-archived"] = pool.submit(_run_attest, "vlek", {
            "sev_snp_attest_vlek": os.path.join(EVIDENCE, "vlek", "vlek.der"),
            "sev_snp_attest_validity_time": "2024-06-01T00:00:00Z"}, host="sev-snp-attest-old")
        futures["defaults"] = pool.submit(_run_attest, "defaults", {
            "sev_snp_attest_evidence_dir": "sev_snp_evidence", "sev_snp_attest_kds_cache": "sev_snp_kds_cache"},
            cwd=_workdir())
        return dict((case, future.result()) for case, future in futures.items())


def _workdir():
    path = os.path.join(EPHEMERAL, "operator-cwd")
    os.makedirs(path, exist_ok=True)
    return path


@pytest.fixture(scope="module", autouse=True)
def stop_kds_standin():
    """The KDS stand-in prepare started ends with the tests (it would stop itself later anyway)."""
    yield
    try:
        os.kill(int(_read(os.path.join(EVIDENCE, "kds.pid"))), signal.SIGTERM)
    except (OSError, ValueError):
        pass


# --- converge: the verified path on both tool generations --------------------------------------

def test_converge_kept_the_evidence_and_the_kds_cache(host):
    name = host.backend.get_hostname()
    assert os.path.getsize(os.path.join(EPHEMERAL, "sev_snp_evidence", name, "report.bin")) == 1184
    cache = os.path.join(EPHEMERAL, "sev_snp_kds_cache", "Milan")
    assert "vcek_cert_chain.pem" in os.listdir(cache)
    assert any(entry.startswith("vcek_5a5a") for entry in os.listdir(cache))


def test_snpguest_ran_with_its_generation_s_command_lines(host):
    log = host.file("/var/log/snpguest-standin.log").content_string.splitlines()
    assert "snpguest --version" in log
    assert any(line.startswith("snpguest report /root/sev-snp-attest/report.bin /root/sev-snp-attest/request.bin "
                               "--random --vmpl 1") for line in log)
    assert "snpguest verify attestation /root/sev-snp-attest/certs /root/sev-snp-attest/report.bin" in log
    for name in ("ark.pem", "ask.pem", "vcek.der"):
        assert host.file("/root/sev-snp-attest/certs/" + name).exists


def test_snphost_ran_with_its_generation_s_command_lines(host):
    log = host.file("/var/log/snphost-standin.log").content_string.splitlines()
    certs = "/var/lib/sev-snp/certs"
    if host.backend.get_hostname() == NEW:
        expected = ["snphost ok", "snphost fetch ca pem " + certs, "snphost fetch vek pem " + certs,
                    "snphost verify certs " + certs]
    else:
        expected = ["snphost ok", "snphost fetch ca pem " + certs, "snphost fetch vcek pem " + certs,
                    "snphost verify " + certs]
    assert [line for line in log if line != "snphost --version"] == expected
    for name in ("ark.pem", "ask.pem", "vcek.pem"):
        assert host.file("%s/%s" % (certs, name)).exists


# --- each failure, with its message -----------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_failure_is_clear(case_results, case):
    _extra, task, fragments = CASES[case]
    rc, failures, _document = case_results[case]
    assert rc != 0, "attest_guest.yml passed for case %s" % case
    assert len(failures) == 1, failures
    failure = failures[0]
    assert failure["task"].endswith(" : " + task) or failure["task"] == task, failure
    for fragment in fragments:
        assert fragment in failure["msg"], failure
    assert "Traceback" not in failure["msg"]


@pytest.mark.parametrize("case", sorted(PASSING))
def test_the_result_says_which_measurement_and_policy_applied(case_results, case):
    _extra, fragments = PASSING[case]
    rc, failures, document = case_results[case]
    assert rc == 0 and failures == [], failures
    shown = [task for play in document["plays"] for task in play["tasks"]
             if task["task"]["name"] == "Show the attestation result"]
    message = shown[0]["hosts"][NEW]["msg"]
    assert "verified=True" in message
    for fragment in fragments:
        assert fragment in message, message


def test_forged_chain_was_not_cached(case_results):
    assert not os.path.exists(os.path.join(EPHEMERAL, "cache-forged", "Milan", "vcek_cert_chain.pem"))


def test_expired_vlek_verifies_at_a_time_inside_its_year(case_results):
    rc, failures, document = case_results["vlek-archived"]
    assert rc == 0 and failures == [], failures
    shown = [task for play in document["plays"] for task in play["tasks"]
             if task["task"]["name"] == "Show the attestation result"]
    assert "verified=True" in shown[0]["hosts"]["sev-snp-attest-old"]["msg"]


def test_evidence_and_cache_default_to_the_working_directory(case_results):
    """The case passes the role's own defaults (extra vars cannot unset the scenario's values)."""
    defaults = _read(os.path.join(ROOT, "roles", "sev_snp_attest", "defaults", "main.yml"))
    assert "\nsev_snp_attest_evidence_dir: sev_snp_evidence\n" in defaults
    assert "\nsev_snp_attest_kds_cache: sev_snp_kds_cache\n" in defaults
    rc, failures, _document = case_results["defaults"]
    assert rc == 0 and failures == [], failures
    base = _workdir()
    assert os.path.isfile(os.path.join(base, "sev_snp_evidence", NEW, "report.bin"))
    assert os.path.isfile(os.path.join(base, "sev_snp_kds_cache", "Milan", "vcek_cert_chain.pem"))
