# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Expected SEV-SNP launch measurement, computed with sev-snp-measure.

Controller-side: needs the ``sev-snp-measure`` package (import name ``sevsnpmeasure``; callers
check SEVSNPMEASURE_IMPORT_ERROR). The digest itself is sev-snp-measure's: this file only
checks the inputs first, so that a wrong input is an error that says what to fix instead of a
digest that silently differs from what the chip reports.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import os
import re
import stat

__metaclass__ = type

SEVSNPMEASURE_IMPORT_ERROR = None
try:
    from sevsnpmeasure import guest as _guest
    from sevsnpmeasure import vcpu_types as _vcpu_types
    from sevsnpmeasure import vmm_types as _vmm_types
    from sevsnpmeasure.ovmf import OVMF as _OVMF
    from sevsnpmeasure.sev_mode import SevMode as _SevMode
except ImportError as _exc:  # pragma: no cover - exercised only where sev-snp-measure is missing
    SEVSNPMEASURE_IMPORT_ERROR = _exc

PACKAGE = "sev-snp-measure"
VMM_TYPES = ("QEMU", "ec2", "gce")
DEFAULT_GUEST_FEATURES = 0x1
# Real OVMF images are 2-4 MiB; anything far larger is the wrong file, and is read whole.
MAX_FIRMWARE_BYTES = 64 * 1024 * 1024
# SEV_FEATURES bits that AMD reserves (must be zero): 11, 13 and 16-63.
_RESERVED_FEATURE_BITS = (1 << 11) | (1 << 13) | (~0xffff & 0xffffffffffffffff)
_SNP_ACTIVE = 0x1
# OVMF footer table entry that points at the SEV metadata (OvmfPkg/ResetVector).
_SEV_METADATA_GUID = "dc886566-984a-4798-a75e-5585a7bf67cc"
_SECTION_NAMES = {1: "SNP_SEC_MEM", 2: "SNP_SECRETS", 3: "CPUID", 4: "SVSM_CAA", 0x10: "SNP_KERNEL_HASHES"}
_HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")


class MeasurementError(Exception):
    """An input the measurement cannot be computed from, with what to do about it."""


def library_version():
    """Version of the installed sev-snp-measure, or None when it is missing."""
    if SEVSNPMEASURE_IMPORT_ERROR is not None:
        return None
    try:
        from importlib import metadata
        return metadata.version(PACKAGE)
    except Exception:  # pragma: no cover - metadata missing from an unusual install
        from sevsnpmeasure import cli
        return getattr(cli, "VERSION", None)


def require_library():
    """Raise MeasurementError naming the package when sev-snp-measure is not importable."""
    if SEVSNPMEASURE_IMPORT_ERROR is not None:
        raise MeasurementError("the Python package %s is not installed where this runs (pip install %s): %s"
                               % (PACKAGE, PACKAGE, SEVSNPMEASURE_IMPORT_ERROR))


def vcpu_type_names():
    """The CPU model names sev-snp-measure knows a signature for (QEMU's EPYC models)."""
    require_library()
    return sorted(_vcpu_types.CPU_SIGS)


def _int_value(value, name, bits):
    """An int from an int or a decimal / 0x-hex string, within ``bits`` bits."""
    if isinstance(value, bool):
        raise MeasurementError("%s must be a number, not %r" % (name, value))
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip()
        try:
            number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise MeasurementError("%s must be a decimal or 0x-prefixed hex number, got %r" % (name, value))
    if number < 0 or number >= 1 << bits:
        raise MeasurementError("%s %r is outside 0..0x%x" % (name, value, (1 << bits) - 1))
    return number


def guest_features(value):
    """SEV_FEATURES as an int, from ``0x1``-style text or an int.

    Bit 0 (SNPActive) is set in every SNP guest's VMSA, and AMD reserves bits 11, 13 and 16-63.
    """
    features = _int_value(DEFAULT_GUEST_FEATURES if value is None else value, "guest_features", 64)
    if not features & _SNP_ACTIVE:
        raise MeasurementError(
            "guest_features 0x%x lacks bit 0 (SNPActive), which every SEV-SNP guest has: use 0x1 (host kernel "
            "6.8 and later, and before 6.6) or 0x21 (SNPActive + DebugSwap, host kernels 6.6 and 6.7)" % features)
    if features & _RESERVED_FEATURE_BITS:
        raise MeasurementError(
            "guest_features 0x%x sets reserved bits (0x%x); AMD requires bits 11, 13 and 16-63 to be zero"
            % (features, features & _RESERVED_FEATURE_BITS))
    return features


def vcpu_signature(vcpu_type=None, family=None, model=None, stepping=None, sig=None, vmm_type="QEMU"):
    """(signature or None, how it was given) from exactly one of the three ways to name a vCPU.

    QEMU puts the signature into every vCPU's initial RDX, so it is part of the measurement and
    required. EC2 and GCE put a fixed value there instead, so none is needed for them.
    """
    require_library()
    family_given = [part is not None for part in (family, model, stepping)]
    ways = [name for name, given in (("vcpu_type", vcpu_type not in (None, "")),
                                     ("vcpu_family/vcpu_model/vcpu_stepping", any(family_given)),
                                     ("vcpu_sig", sig not in (None, ""))) if given]
    if len(ways) > 1:
        raise MeasurementError("give the vCPU one way, not %s" % " and ".join(ways))
    if not ways:
        if vmm_type == "QEMU":
            raise MeasurementError(
                "QEMU measures the vCPU signature: set vcpu_type (the guest's CPU model, one of %s), or "
                "vcpu_family, vcpu_model and vcpu_stepping, or vcpu_sig" % ", ".join(vcpu_type_names()))
        return None, None
    if vcpu_type not in (None, ""):
        if vcpu_type not in _vcpu_types.CPU_SIGS:
            raise MeasurementError(
                "vcpu_type %r is not a CPU model sev-snp-measure knows; use one of %s, or give vcpu_family, "
                "vcpu_model and vcpu_stepping (a host-passthrough guest has the host CPU's)"
                % (vcpu_type, ", ".join(vcpu_type_names())))
        return _vcpu_types.CPU_SIGS[vcpu_type], "vcpu_type %s" % vcpu_type
    if any(family_given):
        if not all(family_given):
            raise MeasurementError("vcpu_family, vcpu_model and vcpu_stepping go together; give all three")
        values = [_int_value(part, name, 8) for part, name in (
            (family, "vcpu_family"), (model, "vcpu_model"), (stepping, "vcpu_stepping"))]
        if values[2] > 0xf:
            raise MeasurementError("vcpu_stepping %d is outside 0..15" % values[2])
        return _vcpu_types.cpu_sig(*values), "family %d model %d stepping %d" % tuple(values)
    return _int_value(sig, "vcpu_sig", 32), "vcpu_sig"


def _regular_file(path, what, limit=None):
    """Refuse what would hang (a FIFO), be wrong (a directory) or exhaust memory."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise MeasurementError("%s %s cannot be read: %s" % (what, path, exc.strerror or exc))
    if not stat.S_ISREG(info.st_mode):
        raise MeasurementError("%s %s is not a regular file" % (what, path))
    if limit is not None and info.st_size > limit:
        raise MeasurementError("%s %s is %d bytes, more than any firmware image (%d); is it the right file?"
                               % (what, path, info.st_size, limit))
    if not os.access(path, os.R_OK):
        raise MeasurementError("%s %s is not readable by this user" % (what, path))
    return info


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inspect_ovmf(path):
    """What the firmware image offers for SEV-SNP: its metadata sections, in order.

    Returns {"snp_metadata": bool, "sections": [names], "kernel_hashes": bool, "size": int}.
    A file that is not an OVMF image at all raises MeasurementError.
    """
    require_library()
    info = _regular_file(path, "OVMF firmware", MAX_FIRMWARE_BYTES)
    try:
        ovmf = _OVMF(path)
    except (RuntimeError, ValueError) as exc:
        # sev-snp-measure's own words ("Wrong SEV metadata signature", a short buffer, an unknown
        # section type) are kept after ours.
        raise MeasurementError("%s is not an OVMF image with a readable SEV metadata table: %s" % (path, exc))
    except OSError as exc:
        raise MeasurementError("OVMF firmware %s cannot be read: %s" % (path, exc.strerror or exc))
    sections = []
    for item in ovmf.metadata_items():
        sections.append(_SECTION_NAMES.get(item.section_type_int, "0x%x" % item.section_type_int))
    try:
        ovmf.table_item(_SEV_METADATA_GUID)
        has_metadata = True
    except KeyError:
        has_metadata = False
    return {
        "snp_metadata": has_metadata,
        "sections": sections,
        "kernel_hashes": "SNP_KERNEL_HASHES" in sections,
        "size": info.st_size,
    }


def _ovmf_hash(value):
    text = str(value).strip().lower()
    if text.startswith("0x"):
        text = text[2:]
    if len(text) != 96 or not _HEX.match(text):
        raise MeasurementError("ovmf_hash must be 96 hex digits (the SHA-384 launch digest of the firmware pages, "
                               "as 'sev-snp-measure --mode snp:ovmf-hash' prints it), got %d characters" % len(text))
    return text


def compute(ovmf, vcpus, vcpu_sig, vmm_type="QEMU", features=DEFAULT_GUEST_FEATURES,
            kernel=None, initrd=None, append=None, ovmf_hash=None):
    """The expected launch measurement as 96 lowercase hex digits, and the firmware's facts.

    Returns (measurement, firmware) where firmware is inspect_ovmf()'s answer.
    """
    require_library()
    if vmm_type not in VMM_TYPES:
        raise MeasurementError("vmm_type %r is not one of %s" % (vmm_type, ", ".join(VMM_TYPES)))
    vcpus = _int_value(vcpus, "vcpus", 16)
    if vcpus < 1:
        raise MeasurementError("vcpus must be at least 1 (one VMSA is measured per vCPU)")
    if vmm_type == "QEMU" and vcpu_sig is None:
        raise MeasurementError("QEMU measures the vCPU signature; give the guest's vCPU type")
    if (initrd or append) and not kernel:
        raise MeasurementError("initrd and append are measured only with direct kernel boot: give kernel as well")
    firmware = inspect_ovmf(ovmf)
    if not firmware["snp_metadata"]:
        raise MeasurementError(
            "%s has no SEV-SNP metadata (OVMF footer entry %s): it is not built for SEV-SNP and QEMU cannot launch "
            "an SNP guest from it. Use an SEV build of OVMF (edk2 OvmfPkg/AmdSev, for example "
            "/usr/share/qemu/ovmf-x86_64-sev.bin on SUSE) or a generic OVMF that carries the metadata"
            % (ovmf, _SEV_METADATA_GUID))
    if kernel:
        _regular_file(kernel, "kernel")
        if initrd:
            _regular_file(initrd, "initrd")
        if not firmware["kernel_hashes"]:
            raise MeasurementError(
                "kernel hashes were requested (kernel=%s), but %s has no SNP_KERNEL_HASHES metadata section (it has %s), "
                "so QEMU cannot measure the kernel, initrd and command line into it. Use the SEV build of OVMF "
                "(edk2 OvmfPkg/AmdSev) for direct kernel boot with kernelHashes='yes', or boot from the disk "
                "without kernel, initrd and append" % (kernel, ovmf, ", ".join(firmware["sections"]) or "none"))
    hash_text = _ovmf_hash(ovmf_hash) if ovmf_hash else ""
    try:
        digest = _guest.calc_launch_digest(
            _SevMode.SEV_SNP, vcpus, vcpu_sig, ovmf, kernel or None, initrd or None, append or None, features,
            hash_text, _vmm_types.VMMType[vmm_type])
    except (RuntimeError, ValueError, AssertionError) as exc:
        raise MeasurementError("sev-snp-measure could not compute the measurement from %s: %s" % (ovmf, exc))
    except OSError as exc:
        raise MeasurementError("sev-snp-measure could not read %s: %s" % (exc.filename or ovmf, exc.strerror or exc))
    return digest.hex(), firmware
