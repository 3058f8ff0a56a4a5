# -*- coding: utf-8 -*-
# Copyright: (c) 2025, coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What converge (coco.sev_snp.enable_host) and the idempotence run leave on the VM.

Runs after `converge` and `idempotence`, before `side_effect`. The image records every
boot in /var/lib/sev-snp-test/boots and every update-grub call in
/var/lib/sev-snp-test/update-grub.calls (see molecule/resources/vm/image-files), so these
tests can count reboots and bootloader regenerations instead of trusting task output.
"""
from __future__ import annotations

import pathlib
import shlex

import pytest

IMAGE_FILES = pathlib.Path(__file__).resolve().parents[2] / "resources" / "vm" / "image-files"
CMDLINE_VARIABLES = ("GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX")
PASSTHROUGH_OPTIONS = ("iommu=pt", "iommu.passthrough=1", "amd_iommu=off")
# Problems converge must have fixed; host_facts reports each while it still holds.
FIXED_PROBLEMS = (
    "iommu_passthrough",
    "iommu_nopt_not_configured",
    "reboot_pending",
    "msr_module_not_loaded",
    "msr_module_not_persistent",
    "kernel_flavour_not_running",
)


def shell_assignments(text):
    """VAR=value lines of a shell fragment such as /etc/default/grub, values unquoted."""
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.isidentifier() and not line.startswith("#"):
            words = shlex.split(value, posix=True) if not value.startswith("`") else [value]
            values[name] = " ".join(words)
    return values


def lines_without_cmdline(text):
    return [line for line in text.splitlines() if not line.startswith(CMDLINE_VARIABLES)]


@pytest.fixture(scope="module")
def facts(host):
    """coco.sev_snp.host_facts on the VM, read once: a module run costs seconds on the emulated CPU."""
    result = host.ansible("coco.sev_snp.host_facts", "kernel_flavour=-amd64", check=False)
    return result["ansible_facts"]["sev_snp"]


def records(host, path):
    return [line.split() for line in host.file(path).content_string.splitlines() if line.strip()]


def running_cmdline(host):
    return host.file("/proc/cmdline").content_string.split()


def test_running_kernel_has_iommu_nopt_and_no_passthrough(host):
    tokens = running_cmdline(host)
    assert "iommu=nopt" in tokens
    for option in PASSTHROUGH_OPTIONS:
        assert option not in tokens


def test_running_kernel_keeps_the_unrelated_options(host):
    tokens = running_cmdline(host)
    for option in ("quiet", "transparent_hugepage=madvise", "console=ttyS0,115200n8", "net.ifnames=0"):
        assert option in tokens
    assert any(token.startswith("root=UUID=") for token in tokens)


def test_default_grub_has_iommu_pt_replaced_in_place(host):
    values = shell_assignments(host.file("/etc/default/grub").content_string)
    assert values["GRUB_CMDLINE_LINUX_DEFAULT"] == "quiet iommu=nopt transparent_hugepage=madvise"
    assert values["GRUB_CMDLINE_LINUX"] == "console=ttyS0,115200n8 net.ifnames=0"


def test_default_grub_other_lines_are_untouched(host):
    original = (IMAGE_FILES / "default-grub").read_text()
    current = host.file("/etc/default/grub").content_string
    # GRUB_DEFAULT=0 became saved in place; every other line is as it was.
    assert "GRUB_DEFAULT=0" in original.splitlines()
    assert lines_without_cmdline(current) == [
        "GRUB_DEFAULT=saved" if line == "GRUB_DEFAULT=0" else line for line in lines_without_cmdline(original)]
    # The original really had what converge had to change (guards the image recipe).
    assert "iommu=pt" in shell_assignments(original)["GRUB_CMDLINE_LINUX_DEFAULT"].split()


def test_grub_cfg_boots_the_new_command_line_by_uuid(host):
    kernel_lines = [
        line.split()
        for line in host.file("/boot/grub/grub.cfg").content_string.splitlines()
        if line.strip().startswith("linux\t") or line.strip().startswith("linux ")
    ]
    # Recovery entries ("single") get GRUB_CMDLINE_LINUX only, by GRUB's design.
    normal_lines = [tokens for tokens in kernel_lines if "single" not in tokens]
    assert normal_lines
    for tokens in normal_lines:
        assert "iommu=nopt" in tokens
    for tokens in kernel_lines:
        assert not set(PASSTHROUGH_OPTIONS) & set(tokens)
        assert any(token.startswith("root=UUID=") for token in tokens)


def test_running_kernel_is_the_selected_flavour(host):
    release = host.check_output("uname -r")
    assert release.endswith("-amd64") and not release.endswith("-cloud-amd64"), release
    assert host.file("/proc/version").content_string.split()[2] == release


def test_selected_flavour_entry_is_saved(host):
    env = dict(line.split("=", 1) for line in host.check_output("grub-editenv list").splitlines() if "=" in line)
    release = host.check_output("uname -r")
    assert env["saved_entry"].startswith("gnulinux-advanced-"), env
    assert env["saved_entry"].split(">")[1].startswith("gnulinux-%s-advanced-" % release), env
    assert 'set default="${saved_entry}"' in host.file("/boot/grub/grub.cfg").content_string


def test_bootloader_regenerated_exactly_once_before_the_reboot(host):
    calls = records(host, "/var/lib/sev-snp-test/update-grub.calls")
    boots = records(host, "/var/lib/sev-snp-test/boots")
    assert len(calls) == 1, calls
    epoch, boot_id, status = calls[0]
    assert status == "0"
    assert boot_id == boots[0][0], "update-grub ran after the reboot, not before it"
    assert host.file("/boot/grub/grub.cfg").mtime.timestamp() >= int(epoch) - 1


def test_rebooted_once_and_not_again_by_the_second_converge(host):
    boots = [fields[0] for fields in records(host, "/var/lib/sev-snp-test/boots")]
    assert len(boots) == 2, boots
    assert boots[0] != boots[1]
    assert boots[-1] == host.file("/proc/sys/kernel/random/boot_id").content_string.strip()


def test_msr_loaded_at_boot_from_modules_load_d(host):
    conf = host.file("/etc/modules-load.d/msr.conf")
    assert conf.content_string == "msr\n"
    assert conf.user == "root"
    assert conf.mode == 0o644
    assert host.file("/sys/module/msr").is_directory
    # By syslog identifier: the message is logged before the journal attributes it to the unit.
    journal = host.run("journalctl -b --no-pager -o cat -t systemd-modules-load")
    assert journal.rc == 0
    assert "Inserted module 'msr'" in journal.stdout


def test_host_facts_say_not_epyc_and_nothing_converge_should_have_fixed(facts):
    problems = {problem["id"] for problem in facts["problems"]}
    assert "not_amd_epyc" in problems
    # the boot section read from the real grub.cfg, grubenv and kernel
    boot = facts["boot"]
    assert boot["grub_cfg"] == "/boot/grub/grub.cfg" and boot["error"] is None
    assert boot["grub_default"] == "saved" and boot["stale"] is False
    assert boot["next"]["release"] == boot["running_release"] and boot["next_via"] == "saved_entry"
    assert boot["flavour"]["running"] is True and boot["flavour"]["boots_next"] is True
    assert {entry["flavour"] for entry in boot["entries"]} == {"amd64", "cloud-amd64"}
    assert facts["ready"] is False
    assert not problems & set(FIXED_PROBLEMS), problems


def test_firmware_staged_under_the_first_name_with_a_backup_and_in_the_initramfs(host, facts):
    # host_facts names the files the kernel tries for this CPU, first the model-specific one.
    target = "/lib/firmware/" + facts["firmware"]["candidates"][0]
    assert target == "/lib/firmware/amd/amd_sev_fam0fh_model6bh.sbin", facts["firmware"]["candidates"]
    assert "STAND-IN SEV FIRMWARE IMAGE" in host.file(target).content_string
    # The file prepare put there before converge is kept beside it (copy's backup: name.<stamp>~).
    backups = host.check_output("ls -1 %s.*~" % shlex.quote(target)).split()
    assert len(backups) == 1, backups
    assert "OLDER STAND-IN" in host.file(backups[0]).content_string
    assert ("copy_file firmware " + target) in host.file("/etc/initramfs-tools/hooks/coco-sev-firmware").content_string
    # In the initramfs of the kernel that runs now, the flavour selected in the same run.
    listing = host.check_output("lsinitramfs /boot/initrd.img-$(uname -r)")
    assert target.lstrip("/") in listing.split("\n") or ("usr" + target) in listing.split("\n"), listing[-2000:]
