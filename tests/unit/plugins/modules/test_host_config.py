# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_config run in-process against copies of a labelled Milan host root.

The facts must be those host_facts gives for the host as the edits leave it; every refusal
must leave every file as it was.
"""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coco.sev_snp.plugins.module_utils.atomic_file import AtomicWriteError
from ansible_collections.coco.sev_snp.plugins.modules import host_config, host_facts
from module_exits import ExitJson, FailJson, patch_module_exits

ROOTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "host", "roots")
GRUB = "etc/default/grub"
MSR = "etc/modules-load.d/msr.conf"
# The fixture's GRUB_CMDLINE_LINUX_DEFAULT with passthrough instead of iommu=nopt.
PT_DEFAULT = 'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=pt mitigations=auto quiet"'
NOPT_DEFAULT = 'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=nopt mitigations=auto quiet"'

pytestmark = pytest.mark.usefixtures("no_hang")


def _run_module(module, args, fails=False, check_mode=False, diff=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    if diff:
        args = dict(args, _ansible_diff=True)
    with patch_module_args(args):
        with pytest.raises(FailJson if fails else ExitJson) as raised:
            module.main()
    return raised.value.args[0]


@pytest.fixture
def run(monkeypatch):
    patch_module_exits(monkeypatch)
    # No live command is ever found: a fake root must not read this machine's log.
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    return lambda args, **kw: _run_module(host_config, args, **kw)


@pytest.fixture
def facts_of(monkeypatch):
    """host_facts' own facts for a root, the reference host_config must match."""
    def _facts(root):
        return _run_module(host_facts, {"root": str(root)})["ansible_facts"]["sev_snp"]
    return _facts


@pytest.fixture
def milan(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(os.path.join(ROOTS, "milan-ready"), str(root))
    return root


def _pending(root):
    """The fixture as a stock SUSE host: iommu=pt configured and running, no msr.conf."""
    grub = root / GRUB
    grub.write_text(grub.read_text().replace(NOPT_DEFAULT, PT_DEFAULT))
    cmdline = root / "proc/cmdline"
    cmdline.write_text(cmdline.read_text().replace("iommu=nopt", "iommu=pt"))
    (root / MSR).unlink()


def _tree(root):
    """{relative path: (bytes, mode)} of every file below root."""
    found = {}
    for directory, _dirs, files in os.walk(str(root)):
        for name in files:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            if not stat.S_ISREG(info.st_mode):  # a FIFO is not opened
                found[os.path.relpath(full, str(root))] = (None, info.st_mode)
                continue
            with open(full, "rb") as handle:
                found[os.path.relpath(full, str(root))] = (handle.read(), stat.S_IMODE(info.st_mode))
    return found


# Bad inputs first: each fails with a message that says what to fix, and changes nothing.

def test_missing_grub_file_names_the_role_variable(run, milan):
    _pending(milan)
    (milan / GRUB).unlink()
    before = _tree(milan)
    result = run({"root": str(milan)}, fails=True)
    assert result["msg"].startswith("The boot configuration cannot be checked: %s does not exist. " % (milan / GRUB))
    assert "Nothing was changed on this host. Set sev_snp_host_grub_file" in result["msg"]
    # msr.conf (absent in _pending) is not created.
    assert _tree(milan) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_unreadable_grub_file_writes_nothing(run, milan):
    _pending(milan)
    (milan / GRUB).chmod(0)
    before = _tree(milan)
    result = run({"root": str(milan)}, fails=True)
    assert result["msg"].startswith("The boot configuration cannot be checked: %s cannot be read (" % (milan / GRUB))
    assert "Set sev_snp_host_grub_file" in result["msg"]
    assert _tree(milan) == before


def test_grub_file_that_cannot_be_opened_writes_nothing(run, milan, monkeypatch):
    """The same refusal when stat works but open does not (root with a file on a failing mount)."""
    _pending(milan)
    before = _tree(milan)
    real_open = open
    grub = str(milan / GRUB)

    def refusing_open(path, *args, **kwargs):
        if str(path) == grub:
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    # Only host_config's own open() refuses.
    monkeypatch.setattr(host_config, "open", refusing_open, raising=False)
    result = run({"root": str(milan)}, fails=True)
    assert result["msg"].startswith(
        "The boot configuration cannot be checked: %s cannot be read (Permission denied). " % grub), result["msg"]
    assert _tree(milan) == before


def test_grub_file_that_is_a_directory(run, milan):
    (milan / GRUB).unlink()
    (milan / GRUB).mkdir()
    result = run({"root": str(milan)}, fails=True)
    assert "%s is not a regular file. Nothing was changed" % (milan / GRUB) in result["msg"]
    assert "grub_file" in result["msg"]


def test_unparsable_grub_file_writes_nothing(run, milan):
    _pending(milan)
    grub = milan / GRUB
    grub.write_text(grub.read_text() + 'GRUB_CMDLINE_LINUX="$(cat /etc/extra)"\n')
    before = _tree(milan)
    result = run({"root": str(milan)}, fails=True)
    assert result["msg"].startswith("%s line 8: " % grub)
    assert result["lineno"] == 8
    assert "nothing was changed" in result["msg"]
    # msr.conf is not created either: every file is checked before the first is written.
    assert _tree(milan) == before


@pytest.mark.parametrize("field, options, says", [
    ("cmdline_options", [{"name": "iommu", "value": "a b"}], "cmdline_options: "),
    ("linux_options", [{"name": "quiet"}, {"name": "quiet", "value": "1"}], "linux_options: "),
    ("extra_options", [{"name": "iommu", "value": "a b"}], "extra_options: "),
    # An extra option that contradicts the collection's list is refused, not silently dropped.
    ("extra_options", [{"name": "iommu", "value": "nopt", "state": "absent"}], "extra_options: "),
])
def test_bad_options_write_nothing(run, milan, field, options, says):
    _pending(milan)
    before = _tree(milan)
    result = run({"root": str(milan), field: options}, fails=True)
    assert result["msg"].startswith(says) and result["msg"].endswith("nothing was changed")
    assert _tree(milan) == before


@pytest.mark.parametrize("option", ["root", "facts_root"])
def test_root_that_is_not_a_directory(run, tmp_path, option):
    result = run({option: str(tmp_path / "absent")}, fails=True)
    assert result["msg"].startswith("%s=%s is not a directory" % (option, tmp_path / "absent"))


def test_msr_conf_masked_by_a_symlink_to_dev_null_is_refused(run, milan):
    (milan / MSR).unlink()
    os.symlink("/dev/null", str(milan / MSR))
    _grub = (milan / GRUB).read_text()
    (milan / GRUB).write_text(_grub.replace(NOPT_DEFAULT, PT_DEFAULT))
    result = run({"root": str(milan)}, fails=True)
    assert "is not a regular file" in result["msg"] and "msr_file" in result["msg"]
    assert os.readlink(str(milan / MSR)) == "/dev/null"
    assert PT_DEFAULT in (milan / GRUB).read_text()


def test_unsupported_os_family_writes_nothing(run, milan):
    _pending(milan)
    (milan / "etc/os-release").write_text('NAME="Arch Linux"\nID=arch\n')
    before = _tree(milan)
    result = run({"root": str(milan), "supported_os_families": ["Suse", "Debian", "RedHat"]}, fails=True)
    assert result["msg"].startswith("Arch Linux (unknown family, from /etc/os-release) is not supported")
    assert "Suse, Debian, RedHat" in result["msg"]
    assert _tree(milan) == before


def test_refused_problem_writes_nothing(run, milan):
    _pending(milan)
    (milan / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
        "model name\t: Intel(R) Xeon(R)\nflags\t\t: fpu vmx\n")
    before = _tree(milan)
    result = run({"root": str(milan), "fail_on_problems": ["not_amd_epyc"]}, fails=True)
    assert result["msg"].startswith("not_amd_epyc: ") and " Fix: " in result["msg"]
    assert result["msg"].endswith("Nothing was changed.")
    assert [p["id"] for p in result["problems"]] == ["not_amd_epyc"]
    assert _tree(milan) == before
    # Without the refusal the same host is configured (warn mode in the role).
    assert run({"root": str(milan)})["changed"] is True


@pytest.mark.parametrize("args, expected", [
    # An unquoted YAML 1.50 arrives as the float 1.5: another version.
    ({"min_snp_api": 1.5}, "min_snp_api is the number 1.5, not a version string"),
    ({"min_snp_api": 1}, "min_snp_api must be a version string"),
    ({"min_snp_api": "abc"}, "min_snp_api='abc' is not a SEV firmware version"),
    ({"min_snp_api": "1.55", "min_snp_build": "21a"}, "min_snp_build must be a whole number"),
    ({"min_snp_build": 1.0}, "min_snp_build must be a whole number"),
    ({"min_snp_build": -1}, "min_snp_build must be a whole number from 0 to 999999999"),
])
def test_unusable_gate_minimum_is_refused_before_anything_changes(run, milan, args, expected):
    _pending(milan)
    before = _tree(milan)
    result = run(dict(args, root=str(milan)), fails=True, check_mode=False)
    assert result["msg"].startswith("the SEV-SNP gate settings: ")
    assert expected in result["msg"], result["msg"]
    assert result["msg"].endswith("; nothing was changed")
    assert _tree(milan) == before


@pytest.mark.parametrize("args", [{}, {"min_snp_api": None}, {"min_snp_api": ""}, {"min_snp_api": "1.55"},
                                  {"min_snp_api": "9.99", "min_snp_build": 21}, {"min_snp_build": "21"}])
def test_usable_gate_minimum_is_not_applied_here(run, milan, args):
    """The minimum is the gate's: host_config refuses only an unusable one (milan runs 1.55)."""
    _pending(milan)
    assert run(dict(args, root=str(milan)))["changed"] is True


def test_failed_grub_write_keeps_the_file_and_drops_the_backup(run, milan, monkeypatch):
    _pending(milan)
    real = host_config.atomic_write

    def refuse_grub(path, data, **kwargs):
        if path.endswith("grub"):
            raise AtomicWriteError("cannot replace %s: No space left on device; free some space" % path, path)
        return real(path, data, **kwargs)
    monkeypatch.setattr(host_config, "atomic_write", refuse_grub)
    grub_before = (milan / GRUB).read_bytes()
    result = run({"root": str(milan), "backup": True}, fails=True)
    assert "No space left on device" in result["msg"] and "the file was not changed" in result["msg"]
    assert (milan / GRUB).read_bytes() == grub_before
    assert sorted(os.listdir(str(milan / "etc/default"))) == ["grub"]
    # msr.conf was written first and the result says so.
    assert result["changed"] is True and result["msr_file"]["changed"] is True
    assert (milan / MSR).read_text() == "msr\n"


# What it does on good input.

def test_configured_host_changes_nothing_and_reports_host_facts(run, milan, facts_of):
    before = _tree(milan)
    result = run({"root": str(milan), "backup": True}, diff=True)
    assert result["changed"] is False
    assert result["grub_file"] == {
        "path": "/etc/default/grub", "changed": False,
        "variables": [
            {"variable": "GRUB_CMDLINE_LINUX_DEFAULT", "lineno": 5,
             "before": ["splash=silent", "iommu=nopt", "mitigations=auto", "quiet"],
             "after": ["splash=silent", "iommu=nopt", "mitigations=auto", "quiet"]},
            {"variable": "GRUB_CMDLINE_LINUX", "lineno": 6, "before": [], "after": []}]}
    assert result["msr_file"] == {"path": "/etc/modules-load.d/msr.conf", "changed": False, "created": False}
    assert result["diff"] == []
    assert result["ansible_facts"]["sev_snp"] == facts_of(milan)
    assert result["ansible_facts"]["sev_snp"]["ready"] is True
    assert _tree(milan) == before


def test_stock_host_is_configured_and_the_facts_describe_the_result(run, milan, facts_of):
    _pending(milan)
    grub_before = (milan / GRUB).read_text()
    result = run({"root": str(milan), "backup": True})
    assert result["changed"] is True
    assert result["msr_file"] == {"path": "/etc/modules-load.d/msr.conf", "changed": True, "created": True}
    assert (milan / MSR).read_text() == "msr\n"
    assert stat.S_IMODE(os.stat(str(milan / MSR)).st_mode) == 0o644
    assert NOPT_DEFAULT in (milan / GRUB).read_text()
    assert (milan / GRUB).read_text() == grub_before.replace(PT_DEFAULT, NOPT_DEFAULT)
    backup = result["grub_file"]["backup_file"]
    assert os.path.dirname(backup) == str(milan / "etc/default")
    assert open(backup).read() == grub_before
    facts = result["ansible_facts"]["sev_snp"]
    # The facts are those of the host after the edits: the configuration now has iommu=nopt,
    # the running kernel still has iommu=pt, so a reboot is pending.
    assert facts == facts_of(milan)
    assert facts["cmdline"]["reboot_required"] is True
    assert "reboot_pending" in [p["id"] for p in facts["problems"]]
    assert facts["msr"]["persistent"] is True
    # A second run is a no-op.
    again = run({"root": str(milan), "backup": True})
    assert again["changed"] is False and "backup_file" not in again["grub_file"]


def test_check_mode_writes_nothing_and_reports_what_a_real_run_would(run, milan, tmp_path, facts_of):
    _pending(milan)
    before = _tree(milan)
    checked = run({"root": str(milan), "backup": True}, check_mode=True, diff=True)
    assert _tree(milan) == before
    assert checked["changed"] is True and "backup_file" not in checked["grub_file"]
    msr_diff, grub_diff = checked["diff"]
    assert msr_diff == {"before": "", "after": "msr\n", "before_header": str(milan / MSR),
                        "after_header": str(milan / MSR)}
    assert PT_DEFAULT in grub_diff["before"] and NOPT_DEFAULT in grub_diff["after"]
    real = run({"root": str(milan), "backup": True})
    assert grub_diff["after"] == (milan / GRUB).read_text()
    assert checked["ansible_facts"] == real["ansible_facts"]
    assert checked["grub_file"]["variables"] == real["grub_file"]["variables"]


def test_facts_root_is_read_and_the_files_below_root_are_edited(run, milan, tmp_path):
    """The role's test-only sev_snp_host_facts_root: the host's state comes from a labelled copy,
    the edits go to the real files, and the facts show the edited files in the copy's place."""
    real = tmp_path / "real"
    (real / "etc/default").mkdir(parents=True)
    (real / GRUB).write_text('GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=pt quiet"\n')
    # The copy says iommu=pt in its GRUB file and has no msr.conf; the real files decide.
    _pending(milan)
    (milan / "proc/cmdline").write_text((milan / "proc/cmdline").read_text().replace("iommu=pt", "iommu=nopt"))
    copy_before = _tree(milan)
    result = run({"root": str(real), "facts_root": str(milan)})
    assert _tree(milan) == copy_before
    assert (real / GRUB).read_text() == 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX_DEFAULT="splash=silent iommu=nopt quiet"\n'
    assert (real / MSR).read_text() == "msr\n"
    facts = result["ansible_facts"]["sev_snp"]
    assert facts["cmdline"]["configured"] == ["splash=silent", "iommu=nopt", "quiet"]
    assert facts["msr"]["persistent"] is True
    assert facts["ready"] is True and facts["cmdline"]["reboot_required"] is False


def test_passthrough_leaves_grub_cmdline_linux_too(run, milan):
    grub = milan / GRUB
    grub.write_text(grub.read_text().replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="console=ttyS0 iommu=pt"'))
    result = run({"root": str(milan)})
    assert result["changed"] is True and result["msr_file"]["changed"] is False
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0"' in grub.read_text()
    assert result["grub_file"]["variables"][1]["before"] == ["console=ttyS0", "iommu=pt"]
    assert result["ansible_facts"]["sev_snp"]["cmdline"]["configured"][0] == "console=ttyS0"


def test_extra_options_are_the_collections_list_plus_the_operators(run, milan):
    # The same options as the filter snp_cmdline_options gives the role: present extras in
    # GRUB_CMDLINE_LINUX_DEFAULT, absent ones in both variables.
    grub = milan / GRUB
    grub.write_text(grub.read_text().replace('GRUB_CMDLINE_LINUX=""', 'GRUB_CMDLINE_LINUX="console=ttyS0 nosmt"'))
    extra = [{"name": "mem_encrypt", "value": "on"}, {"name": "nosmt", "state": "absent"}]
    result = run({"root": str(milan), "extra_options": extra})
    text = grub.read_text()
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0"' in text
    default_line = [line for line in text.splitlines() if line.startswith("GRUB_CMDLINE_LINUX_DEFAULT=")][0]
    assert "iommu=nopt" in default_line and "mem_encrypt=on" in default_line
    # The running kernel is judged by the same options: it lacks mem_encrypt=on.
    assert result["ansible_facts"]["sev_snp"]["cmdline"]["unsatisfied"] == ["mem_encrypt=on"]


@pytest.mark.parametrize("other", ["cmdline_options", "linux_options"])
def test_extra_options_exclude_explicit_option_lists(run, milan, other):
    before = _tree(milan)
    result = run({"root": str(milan), "extra_options": [], other: [{"name": "iommu", "value": "nopt"}]}, fails=True)
    assert "mutually exclusive" in result["msg"]
    assert _tree(milan) == before


@pytest.mark.parametrize("text, expected", [
    ("# loaded for snphost (bsc#1237858)\n", "# loaded for snphost (bsc#1237858)\nmsr\n"),
    ("kvm_amd", "kvm_amd\nmsr\n"),
    ("", "msr\n"),
])
def test_msr_conf_keeps_the_operators_lines(run, milan, text, expected):
    (milan / MSR).write_text(text)
    result = run({"root": str(milan)}, diff=True)
    assert result["changed"] is True and result["msr_file"]["created"] is False
    assert (milan / MSR).read_text() == expected
    assert result["diff"][0]["before"] == text and result["diff"][0]["after"] == expected


def test_msr_conf_that_lists_msr_among_comments_is_left_alone(run, milan):
    (milan / MSR).write_text("# operator note\n msr \n; old\n")
    result = run({"root": str(milan)})
    assert result["changed"] is False
    assert (milan / MSR).read_text() == "# operator note\n msr \n; old\n"


def test_msr_conf_mode_is_corrected_and_shown(run, milan):
    os.chmod(str(milan / MSR), 0o600)
    checked = run({"root": str(milan)}, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"] == [{"before": {"mode": "0600"}, "after": {"mode": "0644"},
                                "before_header": str(milan / MSR), "after_header": str(milan / MSR)}]
    assert stat.S_IMODE(os.stat(str(milan / MSR)).st_mode) == 0o600
    result = run({"root": str(milan)})
    assert result["changed"] is True and result["msr_file"]["changed"] is True
    assert stat.S_IMODE(os.stat(str(milan / MSR)).st_mode) == 0o644
    assert (milan / MSR).read_text() == "msr\n"


def test_missing_modules_load_directory_is_created(run, milan):
    shutil.rmtree(str(milan / "etc/modules-load.d"))
    result = run({"root": str(milan)})
    assert result["msr_file"]["created"] is True
    assert (milan / MSR).read_text() == "msr\n"
    assert result["ansible_facts"]["sev_snp"]["msr"]["persistent"] is True


def test_check_mode_counts_a_new_msr_conf_in_the_facts(run, milan):
    shutil.rmtree(str(milan / "etc/modules-load.d"))
    facts = run({"root": str(milan)}, check_mode=True)["ansible_facts"]["sev_snp"]
    assert facts["msr"]["persistent"] is True
    assert not (milan / "etc/modules-load.d").exists()


# The bootloader command, checked before the GRUB edit it would have to apply. No RHEL host
# here: stand-in grub2-mkconfig scripts below the fake root (the real one is a shell script),
# one with the --update-bls-cmdline option RHEL 9.3's grub2 has and one without (9.2 and older).
RHEL_COMMAND = "grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline"
COMMANDS = {"Suse": "update-bootloader", "Debian": "update-grub", "RedHat": RHEL_COMMAND}
NEW_MKCONFIG = "#!/bin/sh\n# stand-in for RHEL 9.3's grub2-mkconfig\ncase \"$1\" in --update-bls-cmdline) ;; esac\n"
OLD_MKCONFIG = ("#!/bin/sh\n# stand-in for RHEL 9.2's grub2-mkconfig\n"
                "case \"$1\" in --no-grubenv-update) ;; *) echo \"unrecognized option '$1'\" >&2; exit 1 ;; esac\n")


@pytest.fixture
def rhel(milan, monkeypatch):
    """The Milan root as a RHEL 9 host whose GRUB file still needs the edit."""
    _pending(milan)
    (milan / "etc/os-release").write_text('NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\n'
                                          'VERSION_ID="9.2"\n')
    (milan / "usr/sbin").mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/sbin:/usr/bin")
    return milan


def _mkconfig(root, text, mode=0o755):
    path = root / "usr/sbin/grub2-mkconfig"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_grub2_mkconfig_with_the_option_is_accepted(run, rhel):
    _mkconfig(rhel, NEW_MKCONFIG)
    result = run({"root": str(rhel), "bootloader_commands": COMMANDS})
    assert result["grub_file"]["changed"] is True
    assert result["bootloader_command"] == RHEL_COMMAND


@pytest.mark.parametrize("check_mode", [False, True])
def test_grub2_mkconfig_without_the_option_is_refused_before_the_edit(run, rhel, check_mode):
    path = _mkconfig(rhel, OLD_MKCONFIG)
    before = _tree(rhel)
    result = run({"root": str(rhel), "bootloader_commands": COMMANDS}, fails=True, check_mode=check_mode)
    assert result["msg"].startswith("%s has no --update-bls-cmdline option (RHEL-family grub2 has it from RHEL 9.3 "
                                    "on), so the bootloader step '%s' would fail after " % (path, RHEL_COMMAND))
    assert "Nothing was changed on this host. Update grub2-tools to RHEL 9.3's or newer, or set " \
           "sev_snp_host_bootloader_command" in result["msg"]
    assert _tree(rhel) == before


@pytest.mark.parametrize("make", ["missing", "not executable", "fifo", "directory"])
def test_missing_grub2_mkconfig_is_refused(run, rhel, make):
    path = rhel / "usr/sbin/grub2-mkconfig"
    if make == "not executable":
        _mkconfig(rhel, NEW_MKCONFIG, mode=0o644)
    elif make == "fifo":
        os.mkfifo(str(path))
    elif make == "directory":
        path.mkdir()
    before = _tree(rhel)
    result = run({"root": str(rhel), "bootloader_commands": COMMANDS}, fails=True)
    assert result["msg"].startswith("the bootloader command grub2-mkconfig is not installed, so the bootloader step")
    assert "Install it, or set sev_snp_host_bootloader_command" in result["msg"]
    assert _tree(rhel) == before


def test_an_option_named_only_in_another_option_does_not_count(run, rhel):
    # "--update-bls-cmdline-foo" in the script is not "--update-bls-cmdline=": the option's
    # name is looked for as given, so a longer option that contains it would pass. Documented
    # limit: the check reads the script's text, it does not run it.
    _mkconfig(rhel, "#!/bin/sh\n# --update-bls-cmdline-foo\n")
    assert run({"root": str(rhel), "bootloader_commands": COMMANDS})["changed"] is True


def test_a_compiled_program_is_trusted(run, rhel):
    _mkconfig(rhel, "\x7fELF not a script")
    assert run({"root": str(rhel), "bootloader_commands": COMMANDS})["grub_file"]["changed"] is True


def test_an_absolute_program_path_is_looked_up_below_root(run, rhel):
    _mkconfig(rhel, OLD_MKCONFIG)
    commands = dict(COMMANDS, RedHat="/usr/sbin/grub2-mkconfig --update-bls-cmdline")
    assert "has no --update-bls-cmdline option" in run({"root": str(rhel), "bootloader_commands": commands},
                                                       fails=True)["msg"]


def test_a_command_without_long_options_is_not_probed(run, rhel):
    # The operator's own command (sev_snp_host_bootloader_command) without the option: nothing
    # to look for, and its program need not be on the module's PATH.
    commands = dict(COMMANDS, RedHat="grub2-mkconfig -o /boot/grub2/grub.cfg")
    result = run({"root": str(rhel), "bootloader_commands": commands})
    assert result["changed"] is True
    assert result["bootloader_command"] == "grub2-mkconfig -o /boot/grub2/grub.cfg"


def test_a_configured_host_is_not_refused(run, rhel):
    # Nothing to regenerate: an old grub2-mkconfig does not matter.
    _mkconfig(rhel, OLD_MKCONFIG)
    grub = rhel / GRUB
    grub.write_text(grub.read_text().replace(PT_DEFAULT, NOPT_DEFAULT))
    result = run({"root": str(rhel), "bootloader_commands": COMMANDS})
    assert result["grub_file"]["changed"] is False
    assert result["msr_file"]["changed"] is True
    assert result["bootloader_command"] == RHEL_COMMAND


def test_a_command_that_cannot_be_split_is_refused(run, rhel):
    before = _tree(rhel)
    result = run({"root": str(rhel), "bootloader_commands": dict(COMMANDS, RedHat="grub2-mkconfig 'unclosed --x")},
                 fails=True)
    assert result["msg"].startswith("bootloader_commands[RedHat]: ")
    assert "cannot be split into words" in result["msg"]
    assert _tree(rhel) == before


def test_no_command_for_the_family_is_no_check(run, rhel):
    _mkconfig(rhel, OLD_MKCONFIG)
    result = run({"root": str(rhel), "bootloader_commands": {"Suse": "update-bootloader --force"}})
    assert result["grub_file"]["changed"] is True
    assert result["bootloader_command"] is None


def test_warned_problem_is_a_warning_with_its_fix_and_the_host_is_configured(run, milan, monkeypatch):
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning, **kw: warnings.append(warning))
    _pending(milan)
    (milan / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
        "model name\t: Intel(R) Xeon(R)\nflags\t\t: fpu vmx\n")
    result = run({"root": str(milan), "warn_on_problems": ["not_amd_epyc"]})
    assert result["changed"] is True
    warned = [w for w in warnings if w.startswith("not_amd_epyc: ")]
    assert len(warned) == 1 and " Fix: " in warned[0], warnings
    # Not listed: no warning of its own.
    del warnings[:]
    run({"root": str(milan)})
    assert not [w for w in warnings if w.startswith("not_amd_epyc: ")]
