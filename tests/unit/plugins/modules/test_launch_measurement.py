# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""launch_measurement against sev-snp-measure's published vectors and Debian's real OVMF.

The vectors are read from sev-snp-measure's own tests/test_guest.py (in the sample corpus beside
the checkout, with its two 4 KiB firmware fixtures): every SEV-SNP case there is parsed with
``ast`` and run through the module, so a vector that the module gets wrong, or a change in the
published file, fails here. Debian's firmware comes from the ``ovmf`` package (``make apt``).
"""
import ast
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import launch_measurement as lm
from ansible_collections.coco.sev_snp.plugins.modules import launch_measurement
from attest_module_runner import run_module
from corpus import corpus_dir

VECTORS_DIR = corpus_dir(os.path.join("binary", "sev-snp-measure"))
DEBIAN_OVMF = "/usr/share/OVMF/OVMF_CODE.fd"
DEBIAN_OVMF_4M = "/usr/share/OVMF/OVMF_CODE_4M.fd"
needs_debian_ovmf = pytest.mark.skipif(not os.path.isfile(DEBIAN_OVMF),
                                       reason="Debian's ovmf package is not installed (make apt)")


def measure(args, check_mode=False):
    return run_module(launch_measurement.main, args, check_mode=check_mode)


# --- sev-snp-measure's published vectors ------------------------------------------------------

def _literal(node, assigned):
    if isinstance(node, ast.Name):
        return assigned.get(node.id)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _vcpu_type(node):
    # vcpu_types.CPU_SIGS["EPYC-v4"] -> "EPYC-v4"; None -> None
    if isinstance(node, ast.Subscript):
        return ast.literal_eval(node.slice)
    assert isinstance(node, ast.Constant) and node.value is None, ast.dump(node)
    return None


def published_snp_vectors():
    """One case per SEV-SNP test of sev-snp-measure's test_guest.py: (name, args, expected)."""
    with open(os.path.join(VECTORS_DIR, "test_guest.py.txt")) as handle:
        tree = ast.parse(handle.read())
    cases = []
    test_class = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TestGuest")
    for function in (n for n in test_class.body if isinstance(n, ast.FunctionDef)):
        assigned = {}
        calls = []
        expected = None
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                assigned[node.targets[0].id] = node.value.value
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "calc_launch_digest":
                calls.append(node)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "assertEqual":
                value = _literal(node.args[1], assigned)
                if isinstance(value, str) and len(value) == 96:
                    expected = value
                elif isinstance(value, str) and "SNP_KERNEL_HASHES" in value:
                    expected = ("fails", value)
        if len(calls) != 1 or ast.unparse(calls[0].args[0]) != "SevMode.SEV_SNP":
            continue
        call = calls[0]
        keywords = {k.arg: k.value for k in call.keywords}
        if "dump_vmsa" in keywords:
            continue
        positional = call.args
        args = {
            "vcpus": ast.literal_eval(positional[1]),
            "vcpu_type": _vcpu_type(positional[2]),
            "ovmf": os.path.join(VECTORS_DIR, os.path.basename(ast.literal_eval(positional[3]))),
            # The published tests give /dev/null; the module wants regular files, and an empty
            # file has the same content (and hash).
            "kernel": ast.literal_eval(positional[4]),
            "initrd": ast.literal_eval(positional[5]),
            "append": ast.literal_eval(positional[6]),
            "guest_features": "0x%x" % ast.literal_eval(positional[7]),
        }
        if "snp_ovmf_hash_str" in keywords:
            args["ovmf_hash"] = _literal(keywords["snp_ovmf_hash_str"], assigned)
        if "vmm_type" in keywords:
            args["vmm_type"] = keywords["vmm_type"].attr
        assert expected is not None, function.name
        cases.append(pytest.param(args, expected, id=function.name))
    return cases


def _vector_params():
    if VECTORS_DIR is None:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="sev-snp-measure vectors absent from the corpus"))]
    return published_snp_vectors()


def test_the_vector_file_yields_every_snp_case():
    if VECTORS_DIR is None:
        pytest.skip("sev-snp-measure vectors absent from the corpus")
    cases = published_snp_vectors()
    # 17 SNP cases in v0.0.13's file (the three SVSM cases need fixtures not in the corpus, the
    # dump_vmsa case has no digest): a parser that silently found fewer would test less.
    assert len(cases) == 17
    assert sum(1 for case in cases if isinstance(case.values[1], tuple)) == 1


@pytest.mark.parametrize("args,expected", _vector_params())
def test_published_vector(args, expected, tmp_path):
    args = dict(args)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    for key in ("kernel", "initrd"):
        if args[key] == "/dev/null":
            args[key] = str(empty)
    args = {key: value for key, value in args.items() if value is not None}
    failed, result = measure(args)
    if isinstance(expected, tuple):
        assert failed
        assert "no SNP_KERNEL_HASHES metadata section" in result["msg"]
        return
    assert not failed, result.get("msg")
    assert result["measurement"] == expected
    assert result["changed"] is False
    assert result["sev_snp_measure_version"] == lm.library_version()


# --- Debian's OVMF, against the sev-snp-measure command line -------------------------------------

def _cli(*args):
    tool = os.path.join(os.path.dirname(sys.executable), "sev-snp-measure")
    if not os.path.exists(tool):
        tool = shutil.which("sev-snp-measure")
    if tool is None:
        pytest.skip("the sev-snp-measure command is not installed")
    done = subprocess.run([tool, "--mode", "snp"] + list(args), capture_output=True, text=True, timeout=120, check=False)
    return done


@needs_debian_ovmf
@pytest.mark.parametrize("module_args,cli_args", [
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan"}, ["--vcpus", "1", "--vcpu-type", "EPYC-Milan"]),
    ({"vcpus": 4, "vcpu_type": "EPYC-Genoa", "guest_features": "0x21"},
     ["--vcpus", "4", "--vcpu-type", "EPYC-Genoa", "--guest-features", "0x21"]),
    ({"vcpus": 2, "vcpu_family": 25, "vcpu_model": 1, "vcpu_stepping": 1},
     ["--vcpus", "2", "--vcpu-family", "25", "--vcpu-model", "1", "--vcpu-stepping", "1"]),
    ({"vcpus": 3, "vcpu_sig": "0xb00f00"}, ["--vcpus", "3", "--vcpu-sig", "0xb00f00"]),
    ({"vcpus": 2, "vmm_type": "ec2", "vcpu_type": "EPYC-v4"},
     ["--vcpus", "2", "--vmm-type", "ec2", "--vcpu-type", "EPYC-v4"]),
], ids=["milan-1", "genoa-4-debugswap", "family-model-stepping", "turin-sig", "ec2"])
def test_debian_ovmf_matches_the_command_line(module_args, cli_args):
    failed, result = measure(dict(module_args, ovmf=DEBIAN_OVMF))
    assert not failed, result.get("msg")
    done = _cli("--ovmf", DEBIAN_OVMF, *cli_args)
    assert done.returncode == 0, done.stderr
    assert result["measurement"] == done.stdout.strip()
    assert len(result["measurement"]) == 96 and result["measurement"] == result["measurement"].lower()


@needs_debian_ovmf
def test_debian_ovmf_code_has_snp_metadata_but_no_kernel_hashes_section():
    failed, result = measure({"ovmf": DEBIAN_OVMF, "vcpus": 1, "vcpu_type": "EPYC-Milan"})
    assert not failed
    assert result["firmware"]["sections"] == ["SNP_SEC_MEM", "SNP_SEC_MEM", "SNP_SECRETS", "CPUID", "SNP_SEC_MEM"]
    assert result["firmware"]["kernel_hashes"] is False
    assert result["inputs"]["ovmf_sha256"] == lm.sha256_file(DEBIAN_OVMF)
    assert result["inputs"]["vcpu_sig"] == "0xa00f11"
    assert result["inputs"]["kernel"] is None


@needs_debian_ovmf
def test_kernel_hashes_against_debian_ovmf_fail_clearly(tmp_path):
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"MZ stand-in kernel")
    failed, result = measure({"ovmf": DEBIAN_OVMF, "vcpus": 1, "vcpu_type": "EPYC-Milan",
                              "kernel": str(kernel), "append": "console=ttyS0"})
    assert failed
    assert "kernel hashes were requested" in result["msg"]
    assert "%s has no SNP_KERNEL_HASHES metadata section" % DEBIAN_OVMF in result["msg"]
    assert "OvmfPkg/AmdSev" in result["msg"]
    # The command line refuses it too, in its own words.
    done = _cli("--ovmf", DEBIAN_OVMF, "--vcpus", "1", "--vcpu-type", "EPYC-Milan", "--kernel", str(kernel))
    assert done.returncode == 1 and "SNP_KERNEL_HASHES" in done.stderr


@pytest.mark.skipif(not os.path.isfile(DEBIAN_OVMF_4M), reason="Debian's ovmf package is not installed (make apt)")
def test_debian_4m_ovmf_has_no_snp_metadata_and_is_refused():
    # The command line prints a digest for this file anyway (no metadata, nothing measured
    # beyond the pages): a value no SNP guest can report. The module refuses it.
    failed, result = measure({"ovmf": DEBIAN_OVMF_4M, "vcpus": 1, "vcpu_type": "EPYC-Milan"})
    assert failed
    assert "%s has no SEV-SNP metadata" % DEBIAN_OVMF_4M in result["msg"]
    assert "Traceback" not in result["msg"]


# --- bad inputs ----------------------------------------------------------------------------------

@pytest.fixture
def snp_ovmf():
    if VECTORS_DIR is not None:
        return os.path.join(VECTORS_DIR, "ovmf_AmdSev_suffix.bin")
    if os.path.isfile(DEBIAN_OVMF):
        return DEBIAN_OVMF
    pytest.skip("no SEV-SNP firmware here (corpus absent, Debian's ovmf not installed)")


def test_check_mode_returns_the_same_measurement(snp_ovmf):
    args = {"ovmf": snp_ovmf, "vcpus": 2, "vcpu_type": "EPYC-Milan"}
    assert measure(args)[1]["measurement"] == measure(args, check_mode=True)[1]["measurement"]


def test_missing_library_names_the_package(monkeypatch, snp_ovmf):
    monkeypatch.setattr(lm, "SEVSNPMEASURE_IMPORT_ERROR", ImportError("No module named 'sevsnpmeasure'"))
    failed, result = measure({"ovmf": snp_ovmf, "vcpus": 1, "vcpu_type": "EPYC-Milan"})
    assert failed
    assert "sev-snp-measure" in result["msg"]


def _bad(tmp_path, name):
    if name == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(str(path))
    elif name == "directory":
        path = tmp_path
    elif name == "absent":
        path = tmp_path / "absent.fd"
    elif name == "empty":
        path = tmp_path / "empty.fd"
        path.write_bytes(b"")
    elif name == "garbage":
        path = tmp_path / "garbage.fd"
        path.write_bytes(os.urandom(8192))
    elif name == "huge":
        path = tmp_path / "huge.fd"
        with open(str(path), "wb") as handle:
            handle.truncate(lm.MAX_FIRMWARE_BYTES + 1)
    return str(path)


@pytest.mark.parametrize("name,message", [
    ("fifo", "is not a regular file"),
    ("directory", "is not a regular file"),
    ("absent", "cannot be read: No such file or directory"),
    ("empty", "is not an OVMF image"),
    ("garbage", "has no SEV-SNP metadata"),
    ("huge", "more than any firmware image"),
])
def test_unusable_firmware_file(tmp_path, no_hang, name, message):
    failed, result = measure({"ovmf": _bad(tmp_path, name), "vcpus": 1, "vcpu_type": "EPYC-Milan"})
    assert failed
    assert message in result["msg"]


@pytest.mark.parametrize("name", ["fifo", "directory", "absent"])
def test_unusable_kernel_or_initrd(tmp_path, no_hang, name):
    if VECTORS_DIR is None:
        pytest.skip("needs the kernel-hashes fixture from the corpus")
    ovmf = os.path.join(VECTORS_DIR, "ovmf_AmdSev_suffix.bin")
    good = tmp_path / "good"
    good.write_bytes(b"x")
    bad = _bad(tmp_path, name)
    for args in ({"kernel": bad}, {"kernel": str(good), "initrd": bad}):
        failed, result = measure(dict(args, ovmf=ovmf, vcpus=1, vcpu_type="EPYC-v4"))
        assert failed
        assert bad in result["msg"]


@pytest.mark.parametrize("args,message", [
    ({"vcpus": 0, "vcpu_type": "EPYC-Milan"}, "vcpus must be at least 1"),
    ({"vcpus": -3, "vcpu_type": "EPYC-Milan"}, "vcpus -3 is outside"),
    ({"vcpus": 1}, "QEMU measures the vCPU signature: set vcpu_type"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Foo"}, "vcpu_type 'EPYC-Foo' is not a CPU model sev-snp-measure knows; use one of"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "vcpu_sig": "0x1"}, "mutually exclusive"),
    ({"vcpus": 1, "vcpu_family": 25}, "vcpu_family"),
    ({"vcpus": 1, "vcpu_family": 25, "vcpu_model": 1, "vcpu_stepping": 16}, "vcpu_stepping 16 is outside"),
    ({"vcpus": 1, "vcpu_sig": "zz"}, "vcpu_sig must be a decimal or 0x-prefixed hex number"),
    ({"vcpus": 1, "vcpu_sig": "0x100000000"}, "vcpu_sig '0x100000000' is outside"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "guest_features": "nope"}, "guest_features must be"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "guest_features": "0x20"}, "lacks bit 0 (SNPActive)"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "guest_features": "0x801"}, "sets reserved bits (0x800)"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "guest_features": "0x10001"}, "sets reserved bits (0x10000)"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "ovmf_hash": "abcd"}, "ovmf_hash must be 96 hex digits"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "ovmf_hash": "g" * 96}, "ovmf_hash must be 96 hex digits"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "append": "console=ttyS0"}, "missing parameter(s) required by 'append'"),
    ({"vcpus": 1, "vcpu_type": "EPYC-Milan", "vmm_type": "xen"}, "value of vmm_type must be one of"),
])
def test_bad_arguments(snp_ovmf, args, message):
    failed, result = measure(dict(args, ovmf=snp_ovmf))
    assert failed
    assert message in result["msg"]
    assert "Traceback" not in result["msg"]


def test_gce_needs_no_vcpu_type_and_reports_none(snp_ovmf):
    failed, result = measure({"ovmf": snp_ovmf, "vcpus": 1, "vmm_type": "gce"})
    assert not failed, result.get("msg")
    assert result["inputs"]["vcpu_sig"] is None and result["inputs"]["vmm_type"] == "gce"


def test_one_input_changes_the_measurement(snp_ovmf):
    base = {"ovmf": snp_ovmf, "vcpus": 2, "vcpu_type": "EPYC-Milan"}
    seen = {measure(base)[1]["measurement"]}
    for change in ({"vcpus": 3}, {"vcpu_type": "EPYC-Genoa"}, {"guest_features": "0x21"}):
        seen.add(measure(dict(base, **change))[1]["measurement"])
    assert len(seen) == 4


def test_kernel_initrd_and_cmdline_each_change_the_measurement(tmp_path):
    if VECTORS_DIR is None:
        pytest.skip("needs the kernel-hashes fixture from the corpus")
    ovmf = os.path.join(VECTORS_DIR, "ovmf_AmdSev_suffix.bin")
    kernel = tmp_path / "k"
    kernel.write_bytes(b"kernel")
    initrd = tmp_path / "i"
    initrd.write_bytes(b"initrd")
    base = {"ovmf": ovmf, "vcpus": 1, "vcpu_type": "EPYC-v4", "kernel": str(kernel), "initrd": str(initrd),
            "append": "console=ttyS0"}
    first = measure(base)[1]
    assert first["inputs"]["kernel_sha256"] == lm.sha256_file(str(kernel))
    assert first["inputs"]["append"] == "console=ttyS0"
    seen = {first["measurement"]}
    seen.add(measure(dict(base, append="console=ttyS1"))[1]["measurement"])
    initrd.write_bytes(b"initrd2")
    seen.add(measure(base)[1]["measurement"])
    kernel.write_bytes(b"kernel2")
    seen.add(measure(base)[1]["measurement"])
    assert len(seen) == 4
