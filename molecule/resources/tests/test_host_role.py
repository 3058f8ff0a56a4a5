"""Checks of roles/sev_snp_host on a converged container (scenarios default and suse).

Runs under molecule's testinfra verifier after two converges.
"""
import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "default")
GRUB_CFG = {"suse": "/boot/grub2/grub.cfg"}.get(SCENARIO, "/boot/grub/grub.cfg")

EXPECTED_GRUB_LINES = {
    "GRUB_CMDLINE_LINUX_DEFAULT": '"splash=silent resume=/dev/disk/by-uuid/0b2a7f4e-swap iommu=nopt '
                                  'mitigations=auto quiet security=apparmor"',
    "GRUB_CMDLINE_LINUX": '"console=tty0"',
    "GRUB_DEFAULT": "saved",
    "GRUB_HIDDEN_TIMEOUT": "0",
    "GRUB_TIMEOUT": "8",
    "GRUB_TERMINAL": '"gfxterm"',
    "GRUB_GFXMODE": '"auto"',
}


def test_msr_loaded_at_boot(host):
    conf = host.file("/etc/modules-load.d/msr.conf")
    # Command output reaches testinfra stripped of its final newline: compare characters.
    assert host.check_output("od -An -c /etc/modules-load.d/msr.conf").split() == ["m", "s", "r", "\\n"]
    assert conf.mode == 0o644
    assert conf.user == "root" and conf.group == "root"


def test_grub_defaults_edited_and_nothing_else(host):
    lines = host.file("/etc/default/grub").content_string.splitlines()
    assert lines[0].startswith("# If you change this file")
    assignments = dict(line.split("=", 1) for line in lines[1:])
    assert assignments == EXPECTED_GRUB_LINES
    assert len(lines) == 1 + len(EXPECTED_GRUB_LINES)


BOOTLOADER_COMMAND = {"suse": "update-bootloader"}.get(SCENARIO, "update-grub")


def test_bootloader_command_ran_exactly_once(host):
    # A kernel package's own regeneration (stand-in RPM scriptlet: --refresh) is not the role's.
    calls = [line for line in host.file("/var/lib/sev-snp-test/bootloader-calls").content_string.splitlines()
             if not line.endswith(" --refresh")]
    assert len(calls) == 1, calls
    assert calls[0].split()[1].endswith("/" + BOOTLOADER_COMMAND), calls


def test_bootloader_configuration_has_the_new_command_line(host):
    linux = [line for line in host.file(GRUB_CFG).content_string.splitlines() if line.split()[:1] == ["linux"]]
    # one entry without kernels in /boot; with kernels (suse), the top entry and one per kernel
    assert len(linux) == {"suse": 3}.get(SCENARIO, 1), linux
    for line in linux:
        tokens = line.split()
        assert "iommu=nopt" in tokens
        assert not {"iommu=pt", "amd_iommu=off"} & set(tokens)


def test_container_was_not_rebooted(host):
    # /run is a tmpfs: the marker written by prepare survives only if the container never
    # restarted.
    assert host.file("/run/sev-snp-test-prepared").exists


def test_backup_of_the_original_defaults_kept(host):
    backups = host.check_output("ls /etc/default/ | grep -c '^grub\\..*~$' || true")
    assert int(backups) >= 1


def _playbook(*extra):
    env = dict(os.environ)
    cmd = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
           os.path.join(ROOT, "playbooks", "enable_host.yml"), "-e", "sev_snp_target=all"] + list(extra)
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600, check=False)


def _recap(output, hostname):
    """The recap counters of one host (the playbooks' first play adds a localhost line)."""
    match = re.search(r"(?m)^%s\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                      % re.escape(hostname), output)
    assert match, output
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def test_rerun_without_consent_reports_pending_reboot_and_changes_nothing(host):
    result = _playbook("-e", "sev_snp_host_reboot_ok=false")
    assert result.returncode == 0, result.stdout
    assert _recap(result.stdout, host.backend.get_hostname())["changed"] == 0, result.stdout
    # Said once, in the closing summary (with the reason), not once per host as well.
    assert re.search(r"reboot pending: .*\b%s\b" % re.escape(host.backend.get_hostname()), result.stdout), \
        result.stdout
    assert "containers are never rebooted" in result.stdout
    assert "reboot required (" not in result.stdout


def test_failing_bootloader_leaves_grub_defaults_untouched(host):
    stock = ('GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu=pt"\n'
             "GRUB_CMDLINE_LINUX='console=ttyS0,115200 pci=nomsi pci=nommconf'\n")
    # run_test quotes its arguments itself.
    host.run_test("printf '%%s' %s > /etc/default/grub", stock)
    # check_output drops the final newline.
    assert host.file("/etc/default/grub").content_string == stock.rstrip("\n")
    before = host.check_output("sha256sum /etc/default/grub")
    calls_before = host.check_output("wc -l < /var/lib/sev-snp-test/bootloader-calls")
    host.run_test("mkdir -p /etc/sev-snp-test && touch /etc/sev-snp-test/bootloader-fails")
    try:
        result = _playbook()
    finally:
        host.run("rm -f /etc/sev-snp-test/bootloader-fails")
    assert result.returncode != 0, result.stdout
    assert "was restored" in result.stdout and "not rebooted" in result.stdout, result.stdout
    assert "simulated" in result.stdout  # the tool's stderr reaches the operator
    assert host.check_output("sha256sum /etc/default/grub") == before
    assert int(host.check_output("wc -l < /var/lib/sev-snp-test/bootloader-calls")) == int(calls_before) + 1
    assert host.file("/run/sev-snp-test-prepared").exists
