"""Checks of the Confidential Computing kernel path of roles/sev_snp_host (scenario suse):
SUSEConnect, the real zypper against the local rpm-md repository of stand-in RPMs, and the
boot entry, after two converges. Skipped in the other scenarios."""
import json
import re

import pytest

from test_host_role import SCENARIO, _playbook, _recap

pytestmark = pytest.mark.skipif(SCENARIO != "suse", reason="the kernel-coco path runs in the suse scenario")

COCO = "6.4.0-150700.53.3-coco"
COCO_ENTRY = "gnulinux-advanced-standin>gnulinux-%s-advanced-standin" % COCO
PRODUCT = "sle-module-confidential-computing/15.7/x86_64"


def test_module_registered_once_with_the_real_status_shape(host):
    calls = host.file("/var/lib/sev-snp-test/suseconnect-calls").content_string.splitlines()
    assert calls.count("-p " + PRODUCT) == 1, calls
    # two converges, each reading the status first
    assert calls.count("--status") >= 2, calls
    status = json.loads(host.check_output("SUSEConnect --status"))
    module = [p for p in status if p["identifier"] == "sle-module-confidential-computing"]
    assert module and module[0]["status"] == "Registered"
    assert set(module[0]) >= {"identifier", "version", "arch", "status", "regcode", "expires_at"}


def test_kernel_coco_installed_once_by_zypper(host):
    assert host.check_output("rpm -q kernel-coco") == "kernel-coco-6.4.0-150700.53.3.noarch"
    assert host.file("/boot/vmlinuz-" + COCO).is_file
    history = host.file("/var/log/zypp/history").content_string.splitlines()
    installs = [line for line in history if "|install|kernel-coco|" in line]
    assert len(installs) == 1, installs
    # its scriptlet regenerated the menu once (the role's own call is counted in test_host_role)
    calls = host.file("/var/lib/sev-snp-test/bootloader-calls").content_string.splitlines()
    assert sum(line.endswith(" --refresh") for line in calls) == 1, calls


def test_repository_holds_the_tools_too(host):
    found = host.check_output("zypper --non-interactive --quiet search --repo sev-snp-test --type package")
    for name in ("kernel-coco", "kernel-default", "snphost", "snpguest"):
        assert name in found


def test_kernel_coco_entry_saved_and_booted_by_default(host):
    env = dict(line.split("=", 1) for line in host.check_output("grub2-editenv list").splitlines() if "=" in line)
    assert env["saved_entry"] == COCO_ENTRY
    cfg = host.file("/boot/grub2/grub.cfg").content_string
    assert 'set default="${saved_entry}"' in cfg
    assert "'gnulinux-%s-advanced-standin'" % COCO in cfg


def test_flavour_reboot_is_pending_not_done(host):
    # the container runs the machine's kernel, never kernel-coco: the role wants a reboot and
    # does not reboot a container
    result = _playbook("-e", "sev_snp_host_reboot_ok=true")
    assert result.returncode == 0, result.stdout
    assert _recap(result.stdout, host.backend.get_hostname())["changed"] == 0, result.stdout
    # enable_host's summary says the host waits, and why, in the role's words
    assert "containers are never rebooted" in result.stdout, result.stdout
    assert re.search(r"sev-snp-suse needs it because [^\n]*the running kernel \S+ is not of the flavour -coco",
                     result.stdout), result.stdout
    assert host.file("/run/sev-snp-test-prepared").exists


def test_repository_without_the_package_is_a_clear_error_and_changes_nothing(host):
    before = host.check_output("sha256sum /etc/default/grub /boot/grub2/grub.cfg /boot/grub2/grubenv")
    result = _playbook("-e", "sev_snp_host_coco_kernel_package=kernel-coco-missing")
    assert result.returncode != 0, result.stdout
    assert "the package kernel-coco-missing could not be installed" in result.stdout, result.stdout
    assert "zypper" in result.stdout and "nor rebooted" in result.stdout
    assert "Traceback" not in result.stdout
    assert host.check_output("sha256sum /etc/default/grub /boot/grub2/grub.cfg /boot/grub2/grubenv") == before
    assert host.file("/run/sev-snp-test-prepared").exists
