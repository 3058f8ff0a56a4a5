# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attest a stand-in report that carries a guest's recorded launch measurement.

    python attest_recorded.py RECORD.json WORKDIR

Stand-in: there is no AMD PSP here, so the report is built and signed by the test CA of
tests/unit/amd_test_ca.py, whose ARK is trusted through trust_anchors only. Runs
coco.sev_snp.attestation_verify twice with the record's measurement as expected_measurement:
on a report carrying it, and on one whose measurement differs in one bit. Prints both results
as JSON ({"carrying": ..., "one_bit_off": ...}).
"""
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "modules"))

import conftest  # noqa: E402,F401 (makes ansible_collections.coco.sev_snp importable) pylint: disable=unused-import
from amd_test_ca import StandInAmdCa, der, make_report, p384_key, pem  # noqa: E402
from attest_module_runner import run_module  # noqa: E402

from ansible_collections.coco.sev_snp.plugins.modules import attestation_verify  # noqa: E402

TCB = {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
CHIP = b"\x5a" * 64


def attest(ca, directory, measurement, expected):
    os.makedirs(directory, exist_ok=True)
    files = {
        "report.bin": make_report(p384_key("libvirt-vek"), chip_id=CHIP, tcb=TCB, measurement=measurement),
        "vcek.der": der(ca.issue_vek(chip_id=CHIP, tcb=TCB, key=p384_key("libvirt-vek"))),
        "cert_chain.pem": ca.chain_pem(),
        "ark.pem": pem(ca.ark),
    }
    for name, body in files.items():
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(body)
    failed, result = run_module(attestation_verify.main, {
        "report": os.path.join(directory, "report.bin"), "vek": os.path.join(directory, "vcek.der"),
        "cert_chain": os.path.join(directory, "cert_chain.pem"),
        "trust_anchors": [os.path.join(directory, "ark.pem")], "expected_measurement": expected})
    result.pop("report", None)
    return dict(result, failed=failed)


def main(record_path, workdir):
    with open(record_path) as handle:
        expected = json.load(handle)["measurement"]
    ca = StandInAmdCa("Milan", label="-libvirt")
    flipped = bytearray.fromhex(expected)
    flipped[0] ^= 0x80
    print(json.dumps({
        "carrying": attest(ca, os.path.join(workdir, "carrying"), bytes.fromhex(expected), expected),
        "one_bit_off": attest(ca, os.path.join(workdir, "one-bit-off"), bytes(flipped), expected),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:3])
