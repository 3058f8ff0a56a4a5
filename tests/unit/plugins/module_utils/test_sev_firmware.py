# -*- coding: utf-8 -*-
# Copyright (c) 2025, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SEV firmware file names in the kernel's order, and what a host tree has of them."""

import os
import time

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils.kernel_log import parse_kernel_log
from ansible_collections.coco.sev_snp.plugins.module_utils.sev_firmware import (
    FirmwareInputError,
    boot_time,
    candidate_paths,
    firmware_names,
    range_name,
    read_firmware,
    search_dirs,
    staging_name,
    version_in_use,
)


# Family and model as /proc/cpuinfo prints them (decimal), with the names sev_get_firmware()
# builds from "amd/amd_sev_fam%.2xh_model%.2xh.sbin" and "amd/amd_sev_fam%.2xh_model%.1xxh.sbin".
@pytest.mark.parametrize("family, model, names", [
    # Milan, EPYC 7003 (19h model 01h)
    (25, 1, ["amd/amd_sev_fam19h_model01h.sbin", "amd/amd_sev_fam19h_model0xh.sbin", "amd/sev.fw"]),
    # Genoa, EPYC 9004 (19h model 11h)
    (25, 17, ["amd/amd_sev_fam19h_model11h.sbin", "amd/amd_sev_fam19h_model1xh.sbin", "amd/sev.fw"]),
    # Bergamo (19h model a0h) and Siena, EPYC 8004 (19h model a0h-afh)
    (25, 160, ["amd/amd_sev_fam19h_modela0h.sbin", "amd/amd_sev_fam19h_modelaxh.sbin", "amd/sev.fw"]),
    (25, 175, ["amd/amd_sev_fam19h_modelafh.sbin", "amd/amd_sev_fam19h_modelaxh.sbin", "amd/sev.fw"]),
    # Turin, EPYC 9005 (1ah model 02h) and Turin dense (1ah model 11h)
    (26, 2, ["amd/amd_sev_fam1ah_model02h.sbin", "amd/amd_sev_fam1ah_model0xh.sbin", "amd/sev.fw"]),
    (26, 17, ["amd/amd_sev_fam1ah_model11h.sbin", "amd/amd_sev_fam1ah_model1xh.sbin", "amd/sev.fw"]),
    # Naples (17h model 01h, the names a real Debian log shows failing in this order) and Rome (17h 31h)
    (23, 1, ["amd/amd_sev_fam17h_model01h.sbin", "amd/amd_sev_fam17h_model0xh.sbin", "amd/sev.fw"]),
    (23, 49, ["amd/amd_sev_fam17h_model31h.sbin", "amd/amd_sev_fam17h_model3xh.sbin", "amd/sev.fw"]),
    # The byte bounds: two hex digits each, lower case
    (0, 0, ["amd/amd_sev_fam00h_model00h.sbin", "amd/amd_sev_fam00h_model0xh.sbin", "amd/sev.fw"]),
    (255, 255, ["amd/amd_sev_famffh_modelffh.sbin", "amd/amd_sev_famffh_modelfxh.sbin", "amd/sev.fw"]),
])
def test_names_in_the_kernels_order(family, model, names):
    assert firmware_names(family, model) == names
    assert staging_name(family, model) == names[0]
    assert range_name(family, model) == os.path.basename(names[1])


@pytest.mark.parametrize("family, model, words", [
    ("25", 1, ["family", "integer", "str", "| int"]),
    (25, "0x11", ["model", "integer", "str"]),
    (True, 1, ["family", "integer", "bool"]),
    (25, False, ["model", "integer", "bool"]),
    (None, 1, ["family", "integer", "NoneType"]),
    (25.0, 1, ["family", "integer", "float"]),
    (-1, 1, ["family", "0 and 255", "-1"]),
    (25, -17, ["model", "0 and 255", "-17"]),
    (256, 1, ["family", "0 and 255", "256"]),
    (25, 2 ** 200, ["model", "0 and 255", str(2 ** 200)]),
])
def test_bad_family_or_model_is_refused_with_what_to_give(family, model, words):
    with pytest.raises(FirmwareInputError) as caught:
        firmware_names(family, model)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("family, model", [(None, 1), (25, None), ("25", 1), (True, 1), (300, 1)])
def test_range_name_is_none_when_the_cpu_is_unknown(family, model):
    assert range_name(family, model) is None


def test_search_dirs_in_the_loaders_order():
    assert search_dirs("6.4.0-150700.53-default", "/srv/fw") == [
        "/srv/fw", "/lib/firmware/updates/6.4.0-150700.53-default", "/lib/firmware/updates",
        "/lib/firmware/6.4.0-150700.53-default", "/lib/firmware"]
    assert search_dirs() == ["/lib/firmware/updates", "/lib/firmware"]


@pytest.mark.parametrize("release", ["..", ".", "../../etc", "6.4/../../x", "a b", "", None, ".hidden"])
def test_a_release_that_is_not_a_uname_string_adds_no_directory(release):
    assert search_dirs(release) == ["/lib/firmware/updates", "/lib/firmware"]


@pytest.mark.parametrize("custom", ["relative/dir", "", None, "/bad\0dir"])
def test_a_custom_dir_that_is_not_absolute_is_not_used(custom):
    assert search_dirs(None, custom) == ["/lib/firmware/updates", "/lib/firmware"]


@pytest.mark.parametrize("custom, dirs", [
    ("/lib/firmware", ["/lib/firmware", "/lib/firmware/updates"]),
    ("/lib/firmware/updates/", ["/lib/firmware/updates", "/lib/firmware"]),
])
def test_a_custom_dir_that_is_a_standard_one_is_listed_once_first(custom, dirs):
    assert search_dirs(None, custom) == dirs


@pytest.mark.parametrize("custom", ["/", "/srv/fw"])
def test_a_custom_dir_under_a_root_path_keeps_its_slashes_right(custom):
    assert candidate_paths(["amd/sev.fw"], custom_dir=custom)[0] == custom.rstrip("/") + "/amd/sev.fw"


def test_a_custom_dir_is_normalised():
    assert search_dirs(None, "/srv//fw/../firmware/")[0] == "/srv/firmware"


def test_candidates_per_name_then_suffix_then_directory():
    paths = candidate_paths(["amd/a.sbin", "amd/sev.fw"])
    assert paths == [
        "/lib/firmware/updates/amd/a.sbin", "/lib/firmware/amd/a.sbin",
        "/lib/firmware/updates/amd/a.sbin.zst", "/lib/firmware/amd/a.sbin.zst",
        "/lib/firmware/updates/amd/a.sbin.xz", "/lib/firmware/amd/a.sbin.xz",
        "/lib/firmware/updates/amd/sev.fw", "/lib/firmware/amd/sev.fw",
        "/lib/firmware/updates/amd/sev.fw.zst", "/lib/firmware/amd/sev.fw.zst",
        "/lib/firmware/updates/amd/sev.fw.xz", "/lib/firmware/amd/sev.fw.xz",
    ]


def test_the_custom_dir_equal_to_a_standard_one_is_tried_once():
    paths = candidate_paths(["amd/sev.fw"], custom_dir="/lib/firmware")
    assert paths.count("/lib/firmware/amd/sev.fw") == 1
    assert paths[0] == "/lib/firmware/amd/sev.fw"


def without_ctime(files):
    """The file entries without ctime, which a test cannot set."""
    return [dict((k, v) for k, v in entry.items() if k != "ctime") for entry in files]


def _put(root, relative, data=b"x", mtime=None):
    full = os.path.join(str(root), relative.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as handle:
        handle.write(data)
    if mtime is not None:
        os.utime(full, (mtime, mtime))
    return full


def test_files_present_with_size_and_mtime_in_the_kernels_order(tmp_path):
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", b"r" * 96576, 1718890000)
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model01h.sbin.xz", b"s" * 10, 1700000000)
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model1xh.sbin", b"g")   # Genoa's: not this CPU's
    facts = read_firmware(str(tmp_path), 25, 1, parse_kernel_log(""))
    assert without_ctime(facts["files"]) == [
        {"path": "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin.xz", "name": "amd/amd_sev_fam19h_model01h.sbin",
         "size": 10, "mtime": 1700000000},
        {"path": "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", "name": "amd/amd_sev_fam19h_model0xh.sbin",
         "size": 96576, "mtime": 1718890000},
    ]
    assert facts["next_boot_file"] == "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin.xz"
    assert facts["candidates"] == firmware_names(25, 1)
    assert facts["unusable"] == []


def test_updates_directory_and_release_directory_come_first(tmp_path):
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model1xh.sbin")
    _put(tmp_path, "lib/firmware/6.12.0-coco/amd/amd_sev_fam19h_model1xh.sbin")
    _put(tmp_path, "lib/firmware/updates/amd/amd_sev_fam19h_model1xh.sbin")
    facts = read_firmware(str(tmp_path), 25, 17, None, release="6.12.0-coco")
    assert [f["path"] for f in facts["files"]] == [
        "/lib/firmware/updates/amd/amd_sev_fam19h_model1xh.sbin",
        "/lib/firmware/6.12.0-coco/amd/amd_sev_fam19h_model1xh.sbin",
        "/lib/firmware/amd/amd_sev_fam19h_model1xh.sbin",
    ]


def test_a_fifo_is_reported_as_unusable_and_never_opened(tmp_path):
    full = os.path.join(str(tmp_path), "lib/firmware/amd/amd_sev_fam19h_model01h.sbin")
    os.makedirs(os.path.dirname(full))
    os.mkfifo(full)   # opening it for reading would block forever
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", b"r")
    facts = read_firmware(str(tmp_path), 25, 1, None)
    assert facts["unusable"] == [{"path": "/lib/firmware/amd/amd_sev_fam19h_model01h.sbin",
                                  "reason": "is a named pipe (FIFO), not a regular file; the kernel cannot load it"}]
    assert facts["next_boot_file"] == "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin"


def test_a_directory_where_the_file_should_be_is_unusable(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), "lib/firmware/amd/sev.fw"))
    facts = read_firmware(str(tmp_path), 25, 1, None)
    assert facts["files"] == [] and facts["next_boot_file"] is None
    assert [u["path"] for u in facts["unusable"]] == ["/lib/firmware/amd/sev.fw"]
    assert "a directory" in facts["unusable"][0]["reason"]


def test_a_symlink_to_a_regular_file_counts_a_dangling_one_does_not(tmp_path):
    target = _put(tmp_path, "usr/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", b"1234")
    os.makedirs(os.path.join(str(tmp_path), "lib/firmware/amd"))
    os.symlink(target, os.path.join(str(tmp_path), "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin"))
    os.symlink("/nonexistent", os.path.join(str(tmp_path), "lib/firmware/amd/sev.fw"))
    facts = read_firmware(str(tmp_path), 25, 1, None)
    assert [(f["path"], f["size"]) for f in facts["files"]] == [("/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin", 4)]
    assert facts["unusable"] == []


@pytest.mark.parametrize("error, reason", [
    (PermissionError(13, "Permission denied"), "cannot be read: Permission denied"),
    (OSError("stale file handle on the firmware mount"), "cannot be read: stale file handle on the firmware mount"),
])
def test_a_path_that_cannot_be_examined_gives_a_reason(tmp_path, monkeypatch, error, reason):
    # Root reads every directory here, so the refusal a normal user meets is simulated.
    real_stat = os.stat
    denied = os.path.join(str(tmp_path), "lib/firmware/amd/sev.fw")

    def stat(path, *args, **kwargs):
        if path == denied:
            raise error
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    facts = read_firmware(str(tmp_path), 25, 1, None)
    assert facts["unusable"] == [{"path": "/lib/firmware/amd/sev.fw", "reason": reason}]
    assert facts["files"] == []


@pytest.mark.parametrize("family, model", [(None, None), (25, None), (1000, 1), ("25", 1)])
def test_an_unknown_cpu_looks_for_no_file(tmp_path, family, model):
    _put(tmp_path, "lib/firmware/amd/sev.fw")
    facts = read_firmware(str(tmp_path), family, model, None)
    assert facts["candidates"] == [] and facts["files"] == [] and facts["next_boot_file"] is None


def test_version_in_use_prefers_the_snp_line():
    assert version_in_use(parse_kernel_log("SEV API:1.55 build:21\nSEV-SNP API:1.55 build:39\n")) == {
        "api": "1.55", "build": 39}
    assert version_in_use(parse_kernel_log("SEV API:0.24 build:20\n")) == {"api": "0.24", "build": 20}
    assert version_in_use(parse_kernel_log("")) is None
    assert version_in_use({}) is None


def test_old_form_update_takes_its_target_from_the_api_line(tmp_path):
    log = ("ccp 0000:43:00.1: SEV firmware update successful\n"
           "ccp 0000:43:00.1: SEV API:1.51 build:3\nccp 0000:43:00.1: SEV-SNP API:1.51 build:3\n")
    facts = read_firmware(str(tmp_path), 25, 1, parse_kernel_log(log))
    assert facts["updated_at_boot"] is True
    assert facts["update"] == {"form": "update_successful", "changed": None, "from": None,
                               "to": {"api": "1.51", "build": 3}}
    assert facts["in_use"] == {"api": "1.51", "build": 3}


def test_new_form_update_keeps_both_versions(tmp_path):
    log = ("ccp 0000:01:00.5: SEV firmware updated from 1.55.21 to 1.55.39\n"
           "ccp 0000:01:00.5: SEV-SNP API:1.55 build:39\n")
    facts = read_firmware(str(tmp_path), 25, 17, parse_kernel_log(log))
    assert facts["update"]["from"] == {"api": "1.55", "build": 21}
    assert facts["update"]["to"] == {"api": "1.55", "build": 39}
    assert facts["updated_at_boot"] is True


def test_no_update_and_the_kernels_own_account_of_files(tmp_path):
    log = ("ccp 0000:01:00.2: firmware: failed to load amd/amd_sev_fam17h_model01h.sbin (-2)\n"
           "ccp 0000:01:00.5: firmware: direct-loading firmware amd/amd_sev_fam17h_model0xh.sbin\n"
           "ccp 0000:01:00.2: SEV API:0.17 build:48\n")
    facts = read_firmware(str(tmp_path), 23, 1, parse_kernel_log(log))
    assert facts["updated_at_boot"] is False and facts["update"] is None
    assert facts["loaded_file"] == "amd/amd_sev_fam17h_model0xh.sbin"
    assert facts["load_failures"] == ["amd/amd_sev_fam17h_model01h.sbin"]
    assert facts["in_use"] == {"api": "0.17", "build": 48}


def test_the_parsed_log_is_not_changed(tmp_path):
    parsed = parse_kernel_log("SEV firmware update successful\nSEV-SNP API:1.51 build:3\n")
    read_firmware(str(tmp_path), 25, 1, parsed)
    assert parsed["firmware_update"]["to"] is None


@pytest.mark.parametrize("text, booted", [
    ("cpu  1 2 3\nintr 5\nctxt 9\nbtime 1764547200\nprocesses 4\n", 1764547200),
    ("btime 0\n", 0),
    ("ctxt 9\n", None),
    ("btime\n", None),
    ("btime -5\n", None),
    ("btime 17x\n", None),
    ("btime 1 2\n", None),
    ("btime " + "9" * 400 + "\n", None),
    # At most 12 digits (year 33658): more did not come from the kernel.
    ("btime 999999999999\n", 999999999999),
    ("btime 1000000000000\n", None),
    ("", None),
    (None, None),
])
def test_boot_time_from_proc_stat(text, booted):
    assert boot_time(text) == booted


def test_a_file_installed_after_boot_has_changed_since_boot(tmp_path):
    full = _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")
    ctime = int(os.stat(full).st_ctime)
    entry = read_firmware(str(tmp_path), 25, 1, None, booted=ctime - 1)
    assert entry["files"][0]["ctime"] == ctime
    assert entry["changed_since_boot"] is True
    assert read_firmware(str(tmp_path), 25, 1, None, booted=ctime)["changed_since_boot"] is False
    assert read_firmware(str(tmp_path), 25, 1, None, booted=ctime + 3600)["changed_since_boot"] is False
    assert read_firmware(str(tmp_path), 25, 1, None)["changed_since_boot"] is None


def test_only_the_next_boots_file_counts_for_changed_since_boot(tmp_path):
    old = _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model01h.sbin")
    booted = int(os.stat(old).st_ctime)
    # A later file the kernel would not load (it tries model01h first) changes nothing.
    time.sleep(1.1)
    _put(tmp_path, "lib/firmware/amd/amd_sev_fam19h_model0xh.sbin")
    facts = read_firmware(str(tmp_path), 25, 1, None, booted=booted)
    assert facts["files"][1]["ctime"] > booted
    assert facts["changed_since_boot"] is False


def test_no_file_has_not_changed_and_no_root_is_unknown(tmp_path):
    assert read_firmware(str(tmp_path), 25, 1, None, booted=1)["changed_since_boot"] is False
    assert read_firmware(None, 25, 1, None, booted=1)["changed_since_boot"] is None


def test_the_target_of_an_update_line_with_versions_is_its_own(tmp_path):
    # No API line after the update line: the version in use is unknown, the line's target is not.
    facts = read_firmware(str(tmp_path), 25, 17,
                          parse_kernel_log("ccp 0000:01:00.5: SEV firmware updated from 1.55.21 to 1.55.39\n"))
    assert facts["in_use"] is None
    assert facts["update"]["to"] == {"api": "1.55", "build": 39}
