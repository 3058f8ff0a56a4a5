# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command lines for, and parsers of the text output of, virtee's snpguest and snphost
(and the `ok` table that sevctl shares with them).

Pure Python, stdlib only.
"""

from __future__ import annotations

import json
import re

# snpguest 0.9 moved CERTS_DIR before PROCESSOR_MODEL in `fetch ca` and turned the processor
# of `fetch vcek` into an option; snphost 0.7 renamed `fetch vcek` and `verify`.
SNPGUEST_CERTS_DIR_FIRST = (0, 9, 0)
SNPHOST_VEK_RENAME = (0, 7, 0)

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_OK_LINE_RE = re.compile(r"^\s*\[\s*(PASS|FAIL|SKIP|WARN)\s*\]\s*(-\s*)?(.*?)\s*$")
_TCB_LINE_RE = re.compile(r"Reported TCB (.+?) from certificate (matches|does not match)", re.IGNORECASE)


class ToolOutputError(ValueError):
    """Text that is not what the tool prints."""


def parse_version(text):
    """(major, minor, patch) from `snpguest --version` / `snphost --version` output."""
    if isinstance(text, (list, tuple)):
        return tuple(int(part) for part in (list(text) + [0, 0, 0])[:3])
    match = _VERSION_RE.search(str(text or ""))
    if not match:
        raise ToolOutputError("no version number in %r; expected output like 'snpguest 0.9.1'" % text)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def snpguest_commands(version, report, request, certs_dir, processor=None, encoding="pem", endorser="vcek",
                      vmpl=None):
    """argv lists for the guest flow, spelled for the installed snpguest version.

    Without ``processor``, snpguest 0.9+ reads it from the report; older releases cannot,
    so their fetch lines are None.
    """
    version = parse_version(version)
    processor = str(processor).lower() if processor else None
    report_cmd = ["snpguest", "report", report, request, "--random"]
    if vmpl is not None:
        report_cmd += ["--vmpl", str(int(vmpl))]
    if version >= SNPGUEST_CERTS_DIR_FIRST:
        fetch_ca = ["snpguest", "fetch", "ca", encoding, certs_dir]
        fetch_ca += [processor] if processor else ["--report", report]
        fetch_ca += ["--endorser", endorser]
        fetch_vcek = ["snpguest", "fetch", "vcek", encoding, certs_dir, report]
        fetch_vcek += ["--processor-model", processor] if processor else []
    elif processor:
        fetch_ca = ["snpguest", "fetch", "ca", encoding, processor, certs_dir, "--endorser", endorser]
        fetch_vcek = ["snpguest", "fetch", "vcek", encoding, processor, certs_dir, report]
    else:
        fetch_ca = fetch_vcek = None
    return {
        "version": ".".join(str(part) for part in version),
        "report": report_cmd,
        "fetch_ca": fetch_ca,
        "fetch_vcek": fetch_vcek,
        "verify_certs": ["snpguest", "verify", "certs", certs_dir],
        "verify_attestation": ["snpguest", "verify", "attestation", certs_dir, report],
    }


def snphost_commands(version, certs_dir, encoding="pem"):
    """argv lists for the host flow, spelled for the installed snphost version."""
    version = parse_version(version)
    renamed = version >= SNPHOST_VEK_RENAME
    return {
        "version": ".".join(str(part) for part in version),
        "ok": ["snphost", "ok"],
        "fetch_ca": ["snphost", "fetch", "ca", encoding, certs_dir],
        "fetch_vek": ["snphost", "fetch", "vek" if renamed else "vcek", encoding, certs_dir],
        "verify": ["snphost", "verify", "certs", certs_dir] if renamed else ["snphost", "verify", certs_dir],
    }


def parse_ok_table(text):
    """The `[ PASS ] - name: detail` table of `snphost ok`, `snpguest ok` and `sevctl ok`.

    Also reads the grouped `--verbose` layout, whose description lines are attached to the
    check above them.
    """
    checks = []
    section = None
    for raw in str(text or "").splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        heading = re.match(r"^\s*===\s*(.+?)\s*===\s*$", line)
        if heading:
            section = heading.group(1)
            continue
        match = _OK_LINE_RE.match(line)
        if not match:
            if checks and raw.startswith(" ") and checks[-1]["description"] is None and section:
                checks[-1]["description"] = line.strip()
            continue
        status, _dash, body = match.groups()
        indent = len(line) - len(line.lstrip(" ")) if section else 0
        depth = (len(re.match(r"^\s*\[[^\]]*\]( *)", line).group(1)) - 1) // 2 if not section else indent // 2
        name, _sep, detail = body.partition(": ")
        checks.append({"status": status.lower(), "name": name.strip(), "detail": detail.strip() or None,
                       "depth": depth, "section": section, "description": None})
    if not checks:
        raise ToolOutputError("no '[ PASS ]' / '[ FAIL ]' lines found; is this the output of `ok`?")
    failed = [check for check in checks if check["status"] == "fail"]
    return {
        "ok": not failed,
        "checks": checks,
        "failed": [_label(check) for check in failed],
        "skipped": [_label(check) for check in checks if check["status"] == "skip"],
        "passed": sum(1 for check in checks if check["status"] == "pass"),
    }


def _label(check):
    return "%s: %s" % (check["name"], check["detail"]) if check["detail"] else check["name"]


def _top_level_members(text):
    """Decode the members of a JSON object one by one, stopping where the text is cut off."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    if start < 0:
        raise ToolOutputError("no JSON object in the output")
    position = start + 1
    members = {}
    key_re = re.compile(r'\s*,?\s*"((?:[^"\\]|\\.)*)"\s*:\s*')
    while True:
        key_match = key_re.match(text, position)
        if not key_match:
            break
        try:
            value, position = decoder.raw_decode(text, key_match.end())
        except ValueError:
            break
        members[json.loads('"%s"' % key_match.group(1))] = value
    return members


def parse_snphost_ok_json(text):
    """`snphost ok -o json`. A cut-off document (the tool killed mid-write) still yields the
    members that arrived, with ``complete`` false."""
    text = str(text or "")
    try:
        document = json.loads(text[text.find("{"):]) if "{" in text else None
        complete = isinstance(document, dict)
    except ValueError:
        document, complete = None, False
    if not complete:
        document = _top_level_members(text)
        if not document:
            raise ToolOutputError("not JSON from `snphost ok -o json` (no complete member found)")
    # Older snphost called the list "issues", newer "failures".
    failures = document.get("failures", document.get("issues", []))
    summary = document.get("summary", {})
    tests = document.get("tests", [])
    failed_count = summary.get("failed", len(failures))
    return {
        "ok": complete and failed_count == 0 and not failures,
        "complete": complete,
        "failures": [{"name": item.get("name"), "hint": item.get("hint")} for item in failures],
        "skipped": list(document.get("skipped", [])),
        "summary": summary,
        "tests": tests,
    }


def parse_snpguest_verify(text):
    """`snpguest verify certs` and `snpguest verify attestation` output."""
    result = {"tcb": {}, "signature_verified": False, "chain": {}, "errors": []}
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if re.match(r"^(ERROR|Error):", line):
            message = line.split(":", 1)[1].strip()
            if message not in result["errors"]:
                result["errors"].append(message)
            continue
        tcb = _TCB_LINE_RE.search(line)
        if tcb:
            result["tcb"][tcb.group(1).strip().lower().replace(" ", "_")] = tcb.group(2).lower() == "matches"
            continue
        if re.search(r"\b(VEK|VCEK|VLEK) signed the Attestation Report", line, re.IGNORECASE):
            result["signature_verified"] = True
            continue
        if "ARK was self-signed" in line:
            result["chain"]["ark_self_signed"] = True
        elif re.search(r"(ASK|ASVK) was signed by the AMD ARK", line):
            result["chain"]["ask_signed_by_ark"] = True
        elif re.search(r"(VCEK|VLEK|VEK) was signed by the AMD (ASK|ASVK)", line):
            result["chain"]["vek_signed_by_ask"] = True
    for message in result["errors"]:
        if "VCEK was not signed" in message or "VLEK was not signed" in message or "VEK was not signed" in message:
            result["chain"]["vek_signed_by_ask"] = False
    if not (result["tcb"] or result["chain"] or result["errors"] or result["signature_verified"]):
        raise ToolOutputError("no snpguest verify output recognised")
    result["ok"] = not result["errors"] and all(result["tcb"].values()) and all(result["chain"].values())
    result["attestation_ok"] = result["ok"] and result["signature_verified"] and bool(result["tcb"])
    return result
