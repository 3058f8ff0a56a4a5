# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_snapshot's readers on small trees: what "absent", "no parent" and "planned" mean."""
from __future__ import annotations

from ansible_collections.coco.sev_snp.plugins.module_utils.host_snapshot import (
    HostReader,
    read_iommu_group_types,
    read_modules_load,
)


def test_exists_is_true_false_or_none_and_counts_planned_files(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "present").write_text("x")
    reader = HostReader(str(tmp_path), planned={"etc/planned": "y"})
    assert reader.exists("etc/present") is True
    assert reader.exists("/etc/planned") is True      # written by this run, not on disk yet
    assert reader.exists("etc/absent") is False       # the directory is there, the file is not
    assert reader.exists("nodir/absent") is None      # nothing can be said


def test_isdir_is_true_false_or_none(tmp_path):
    (tmp_path / "sys" / "module" / "msr").mkdir(parents=True)
    reader = HostReader(str(tmp_path))
    assert reader.isdir("sys/module/msr") is True
    assert reader.isdir("sys/module/kvm_amd") is False
    assert reader.isdir("proc/vz") is None


def test_modules_load_none_without_etc_and_planned_conf_files_only(tmp_path):
    assert read_modules_load(HostReader(str(tmp_path))) is None
    (tmp_path / "etc").mkdir()
    assert read_modules_load(HostReader(str(tmp_path))) == {}
    (tmp_path / "usr" / "lib" / "modules-load.d").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "modules-load.d" / "msr.conf").write_text("msr\n")
    planned = {"etc/modules-load.d/kvm.conf": "kvm\n", "etc/modules-load.d/notes.txt": "x\n",
               "etc/other/else.conf": "y\n"}
    files = read_modules_load(HostReader(str(tmp_path), planned=planned))
    assert files == {"/etc/modules-load.d/kvm.conf": "kvm\n", "/usr/lib/modules-load.d/msr.conf": "msr\n"}


def test_modules_load_without_etc_but_with_a_modules_load_dir(tmp_path):
    (tmp_path / "usr" / "lib" / "modules-load.d").mkdir(parents=True)
    (tmp_path / "usr" / "lib" / "modules-load.d" / "msr.conf").write_text("msr\n")
    assert read_modules_load(HostReader(str(tmp_path))) == {"/usr/lib/modules-load.d/msr.conf": "msr\n"}


def test_iommu_group_types(tmp_path):
    reader = HostReader(str(tmp_path))
    assert read_iommu_group_types(reader) is None                  # no sysfs: unknown
    base = tmp_path / "sys" / "kernel" / "iommu_groups"
    base.mkdir(parents=True)
    assert read_iommu_group_types(reader) == []                    # no groups at all
    (base / "0").mkdir()
    assert read_iommu_group_types(reader) is None                  # groups without a readable type
    (base / "0" / "type").write_text("DMA\n")
    (base / "1").mkdir()
    (base / "1" / "type").write_text("identity\n")
    assert sorted(read_iommu_group_types(reader)) == ["DMA", "identity"]
