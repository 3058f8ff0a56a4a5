# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_cmdline run in-process on files in tmp_path, and once as a real module process."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coco.sev_snp.plugins.modules import kernel_cmdline
from module_exits import ExitJson, FailJson, patch_module_exits

SUSE = (
    "# defaults\n"
    "GRUB_TIMEOUT=8\n"
    'GRUB_CMDLINE_LINUX_DEFAULT="splash=silent quiet iommu=pt"\n'
    'GRUB_CMDLINE_LINUX=""\n'
)
SNP_OPTIONS = [
    {"name": "iommu", "value": "nopt"},
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "state": "absent"},
]


@pytest.fixture
def run(monkeypatch):
    """Run the module with args; returns (result, warnings)."""
    warnings = []

    patch_module_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning, **kw: warnings.append(warning))

    def _run(args, fails=False):
        del warnings[:]
        with patch_module_args(args):
            with pytest.raises(FailJson if fails else ExitJson) as raised:
                kernel_cmdline.main()
        return raised.value.args[0], list(warnings)

    return _run


@pytest.fixture
def grub(tmp_path):
    path = tmp_path / "grub"
    path.write_text(SUSE)
    return path


def test_edit_changes_only_the_value(run, grub):
    result, warnings = run({"path": str(grub), "options": SNP_OPTIONS})
    assert result["changed"] is True
    assert grub.read_text() == SUSE.replace("iommu=pt", "iommu=nopt")
    assert result["before"] == ["splash=silent", "quiet", "iommu=pt"]
    assert result["after"] == ["splash=silent", "quiet", "iommu=nopt"]
    assert result["cmdline"] == ["splash=silent", "quiet", "iommu=nopt"]
    assert result["lineno"] == 3
    assert result["variable"] == "GRUB_CMDLINE_LINUX_DEFAULT"
    assert "backup_file" not in result and "diff" not in result
    assert warnings == []


def test_every_returned_key_is_documented(run, grub):
    documented = set(yaml.safe_load(kernel_cmdline.RETURN))
    result, _warnings = run({"path": str(grub), "options": SNP_OPTIONS, "backup": True, "_ansible_diff": True})
    assert set(result) - {"changed", "diff"} == documented


def test_second_run_changes_nothing(run, grub):
    run({"path": str(grub), "options": SNP_OPTIONS})
    first = grub.read_bytes()
    mtime = os.stat(str(grub)).st_mtime_ns
    result, _warnings = run({"path": str(grub), "options": SNP_OPTIONS})
    assert result["changed"] is False
    assert result["before"] == result["after"]
    assert grub.read_bytes() == first
    assert os.stat(str(grub)).st_mtime_ns == mtime


def test_check_mode_with_diff_writes_nothing(run, grub, tmp_path):
    before = os.stat(str(grub))
    result, _warnings = run({"path": str(grub), "options": SNP_OPTIONS, "backup": True,
                             "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True
    assert grub.read_text() == SUSE
    assert os.stat(str(grub)).st_mtime_ns == before.st_mtime_ns
    assert sorted(os.listdir(str(tmp_path))) == ["grub"], "no backup, no temporary file"
    assert "backup_file" not in result
    assert result["diff"] == {
        "before": SUSE, "after": SUSE.replace("iommu=pt", "iommu=nopt"),
        "before_header": str(grub), "after_header": str(grub),
    }
    assert result["after"][-1] == "iommu=nopt"


def test_diff_mode_when_unchanged_is_equal_text(run, grub):
    result, _warnings = run({"path": str(grub), "options": [{"name": "quiet"}], "_ansible_diff": True})
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"] == SUSE


def test_backup_holds_the_original(run, grub, tmp_path):
    result, _warnings = run({"path": str(grub), "options": SNP_OPTIONS, "backup": True})
    backup = result["backup_file"]
    assert os.path.dirname(backup) == str(tmp_path) and backup != str(grub)
    with open(backup) as handle:
        assert handle.read() == SUSE
    assert "iommu=nopt" in grub.read_text()
    assert sorted(os.listdir(str(tmp_path))) == sorted(["grub", os.path.basename(backup)])


def test_no_backup_without_change(run, grub, tmp_path):
    result, _warnings = run({"path": str(grub), "options": [{"name": "quiet"}], "backup": True})
    assert result["changed"] is False and "backup_file" not in result
    assert os.listdir(str(tmp_path)) == ["grub"]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing the owner needs root")
def test_mode_and_owner_preserved(run, grub):
    os.chmod(str(grub), 0o640)
    os.chown(str(grub), 4242, 4343)
    inode = os.stat(str(grub)).st_ino
    run({"path": str(grub), "options": SNP_OPTIONS})
    after = os.stat(str(grub))
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (4242, 4343)
    assert after.st_ino != inode, "replaced by rename, not rewritten in place"
    assert "iommu=nopt" in grub.read_text()


def test_symlink_stays_and_its_target_is_edited(run, grub, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(grub)
    run({"path": str(link), "options": SNP_OPTIONS})
    assert link.is_symlink() and os.readlink(str(link)) == str(grub)
    assert grub.read_text() == SUSE.replace("iommu=pt", "iommu=nopt")


def test_missing_variable_is_appended(run, tmp_path):
    path = tmp_path / "grub"
    path.write_text("GRUB_TIMEOUT=8")
    result, _warnings = run({"path": str(path), "variable": "GRUB_CMDLINE_LINUX", "options": SNP_OPTIONS})
    assert path.read_text() == 'GRUB_TIMEOUT=8\nGRUB_CMDLINE_LINUX="iommu=nopt"'
    assert (result["before"], result["after"], result["lineno"]) == ([], ["iommu=nopt"], 2)


def test_several_assignments_warn(run, tmp_path):
    path = tmp_path / "grub"
    path.write_text('GRUB_CMDLINE_LINUX_DEFAULT="a"\nGRUB_CMDLINE_LINUX_DEFAULT="b iommu=pt"\n')
    result, warnings = run({"path": str(path), "options": SNP_OPTIONS})
    assert path.read_text() == 'GRUB_CMDLINE_LINUX_DEFAULT="a"\nGRUB_CMDLINE_LINUX_DEFAULT="b iommu=nopt"\n'
    assert len(warnings) == 1 and warnings[0].startswith(str(path) + ": GRUB_CMDLINE_LINUX_DEFAULT is assigned 2 times")


def test_unfollowable_content_fails_with_line_and_leaves_file(run, tmp_path):
    path = tmp_path / "grub"
    text = 'GRUB_TIMEOUT=8\n\nGRUB_CMDLINE_LINUX_DEFAULT="quiet $(cat /proc/cmdline)"\n'
    path.write_text(text)
    result, _warnings = run({"path": str(path), "options": SNP_OPTIONS}, fails=True)
    assert result["msg"].startswith("%s line 3: the value of GRUB_CMDLINE_LINUX_DEFAULT uses command substitution" % path)
    assert result["msg"].endswith("the file was not changed")
    assert result["lineno"] == 3
    assert path.read_text() == text
    assert os.listdir(str(tmp_path)) == ["grub"]


@pytest.mark.parametrize("options, message", [
    ([{"name": "iommu=pt"}], "may not contain whitespace, NUL, quotes, '='"),
    ([{"name": "console", "value": "tty0 ttyS0"}], "may not contain whitespace"),
    ([{"name": "iommu", "value": "nopt"}, {"name": "iommu", "state": "absent"}], "both present and absent"),
])
def test_bad_options_fail_clearly(run, grub, options, message):
    result, _warnings = run({"path": str(grub), "options": options}, fails=True)
    assert message in result["msg"]
    assert grub.read_text() == SUSE


def test_bad_variable_name_fails_clearly(run, grub):
    result, _warnings = run({"path": str(grub), "variable": "GRUB-CMDLINE", "options": SNP_OPTIONS}, fails=True)
    assert "'GRUB-CMDLINE' is not a shell variable name" in result["msg"]


def test_missing_file_fails_clearly(run, tmp_path):
    result, _warnings = run({"path": str(tmp_path / "absent"), "options": SNP_OPTIONS}, fails=True)
    assert result["msg"].startswith("%s does not exist" % (tmp_path / "absent"))


def test_bytes_that_are_not_utf8_survive(run, tmp_path):
    path = tmp_path / "grub"
    original = b"# caf\xe9 in latin-1\nGRUB_CMDLINE_LINUX_DEFAULT='quiet iommu=pt'\n"
    path.write_bytes(original)
    run({"path": str(path), "options": SNP_OPTIONS})
    assert path.read_bytes() == original.replace(b"iommu=pt", b"iommu=nopt")


def test_runs_as_a_module_process(tmp_path, grub):
    """The real entry point: argument file, JSON on stdout, warnings in the result."""
    grub.write_text('GRUB_CMDLINE_LINUX_DEFAULT="a"\nGRUB_CMDLINE_LINUX_DEFAULT=iommu=pt\n')
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {"path": str(grub), "options": SNP_OPTIONS}}))
    collections = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(kernel_cmdline.__file__))))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(collections)))
    process = subprocess.run([sys.executable, "-m", "ansible_collections.coco.sev_snp.plugins.modules.kernel_cmdline",
                              str(args)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    result = json.loads(process.stdout.decode())
    assert result["changed"] is True, process.stderr
    assert result["after"] == ["iommu=nopt"]
    # ansible-core 2.19 reports warnings as structured events; older releases as strings.
    assert "GRUB_CMDLINE_LINUX_DEFAULT is assigned 2 times (lines 1, 2)" in json.dumps(result["warnings"])
    assert grub.read_text() == 'GRUB_CMDLINE_LINUX_DEFAULT="a"\nGRUB_CMDLINE_LINUX_DEFAULT=iommu=nopt\n'


def _run_unprivileged(args):
    """Run the module as an ordinary user: as nobody in a forked child when the tests run as root."""
    if os.geteuid() != 0:
        return _module_result(args)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, which reports through the pipe
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            payload = json.dumps(_module_result(args))
        except BaseException as error:  # the parent fails the test with this text
            payload = json.dumps({"child_error": repr(error)})
        with os.fdopen(write_end, "w") as stream:
            stream.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        payload = stream.read()
    os.waitpid(child, 0)
    result = json.loads(payload)
    assert "child_error" not in result, result
    return result


def _module_result(args):
    with pytest.MonkeyPatch.context() as monkeypatch:
        patch_module_exits(monkeypatch)
        with patch_module_args(args):
            try:
                kernel_cmdline.main()
            except (ExitJson, FailJson) as raised:
                return dict(raised.args[0], exited="fail" if isinstance(raised, FailJson) else "exit")
    raise AssertionError("the module neither exited nor failed")


@pytest.fixture
def shared_dir():
    """A directory an unprivileged user can reach (pytest's tmp_path is private to its user)."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="kernel-cmdline-")
    os.chmod(path, 0o755)
    yield path
    os.chmod(path, 0o755)
    shutil.rmtree(path)


@pytest.mark.parametrize("backup", [False, True])
def test_read_only_directory_fails_clearly_and_leaves_nothing(shared_dir, backup):
    path = os.path.join(shared_dir, "grub")
    with open(path, "w") as handle:
        handle.write(SUSE)
    os.chmod(path, 0o644)
    os.chmod(shared_dir, 0o555)
    result = _run_unprivileged({"path": path, "options": SNP_OPTIONS, "backup": backup})
    assert result["exited"] == "fail" and result["changed"] is False
    assert result["msg"].startswith("cannot write %s: no permission to create files in %s; run as a user that may "
                                    "write there (for example with become: true)" % (path, shared_dir))
    assert result["msg"].endswith("the file was not changed")
    assert os.listdir(shared_dir) == ["grub"], "no backup and no temporary file"
    with open(path) as handle:
        assert handle.read() == SUSE


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a file owned by another user than the one running the module")
@pytest.mark.parametrize("backup", [False, True])
def test_owner_that_cannot_be_kept_is_refused_and_the_backup_removed(shared_dir, backup):
    path = os.path.join(shared_dir, "grub")
    with open(path, "w") as handle:
        handle.write(SUSE)
    os.chmod(path, 0o644)
    os.chmod(shared_dir, 0o777)
    result = _run_unprivileged({"path": path, "options": SNP_OPTIONS, "backup": backup})
    assert result["exited"] == "fail" and result["changed"] is False
    assert "cannot keep the owner 0:0 of %s" % path in result["msg"]
    assert result["msg"].endswith("the file was not changed")
    assert os.listdir(shared_dir) == ["grub"]
    after = os.stat(path)
    assert (after.st_uid, stat.S_IMODE(after.st_mode)) == (0, 0o644)
    with open(path) as handle:
        assert handle.read() == SUSE


def test_write_failure_removes_the_backup(run, grub, tmp_path, monkeypatch):
    def full_disk(path, data):
        raise kernel_cmdline.AtomicWriteError("cannot replace %s: No space left on device" % path, path)
    monkeypatch.setattr(kernel_cmdline, "atomic_write", full_disk)
    result, _warnings = run({"path": str(grub), "options": SNP_OPTIONS, "backup": True}, fails=True)
    assert result["msg"] == "cannot replace %s: No space left on device; the file was not changed" % grub
    assert result["changed"] is False and "backup_file" not in result
    assert os.listdir(str(tmp_path)) == ["grub"] and grub.read_text() == SUSE


@pytest.mark.parametrize("text, lineno, message", [
    (SUSE + 'false && GRUB_CMDLINE_LINUX_DEFAULT="x"\n', 5, "is assigned in a && / || list"),
    (SUSE + 'f() { GRUB_CMDLINE_LINUX_DEFAULT="x"; }\n', 5, "is assigned inside a function"),
    ('GRUB_CMDLINE_LINUX_DEFAULT=${X:-$(echo iommu=pt)}\n', 1, "uses command substitution"),
])
def test_assignment_the_shell_may_skip_fails_naming_the_line(run, tmp_path, text, lineno, message):
    path = tmp_path / "grub"
    path.write_text(text)
    result, _warnings = run({"path": str(path), "options": SNP_OPTIONS}, fails=True)
    assert result["msg"].startswith("%s line %d: " % (path, lineno)) and message in result["msg"]
    assert result["lineno"] == lineno and path.read_text() == text
    assert os.listdir(str(tmp_path)) == ["grub"]


def test_match_list_and_bool_through_the_module(run, tmp_path):
    path = tmp_path / "grub"
    path.write_text('GRUB_CMDLINE_LINUX_DEFAULT="quiet iommu.passthrough=on amd_iommu=fullflush,off"\n')
    options = [{"name": "iommu.passthrough", "value": "1", "match": "bool", "state": "absent"},
               {"name": "amd_iommu", "value": "off", "match": "list", "state": "absent"}]
    result, _warnings = run({"path": str(path), "options": options})
    assert path.read_text() == 'GRUB_CMDLINE_LINUX_DEFAULT="quiet amd_iommu=fullflush"\n'
    assert result["after"] == ["quiet", "amd_iommu=fullflush"]
    result, _warnings = run({"path": str(path), "options": [{"name": "x", "value": "1", "match": "glob"}]}, fails=True)
    assert "value of match must be one of: exact, list, bool" in result["msg"]


# --------------------------------------------------------------------------- value (GRUB_DEFAULT)


@pytest.mark.parametrize("before, after", [
    ("GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\n", "GRUB_DEFAULT=saved\nGRUB_TIMEOUT=5\n"),
    ('GRUB_DEFAULT="gnulinux-advanced-x>gnulinux-6.1.0-50-amd64-advanced-x"\n', 'GRUB_DEFAULT="saved"\n'),
    ("GRUB_DEFAULT='Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 6.1'\n",
     "GRUB_DEFAULT='saved'\n"),
    ("GRUB_TIMEOUT=5\n", 'GRUB_TIMEOUT=5\nGRUB_DEFAULT="saved"\n'),
])
def test_value_sets_the_whole_variable(tmp_path, monkeypatch, before, after):
    path = tmp_path / "grub"
    path.write_text(before)
    result = _run_value(monkeypatch, {"path": str(path), "variable": "GRUB_DEFAULT", "value": "saved"})
    assert result["changed"] is True
    assert path.read_text() == after
    again = _run_value(monkeypatch, {"path": str(path), "variable": "GRUB_DEFAULT", "value": "saved"})
    assert again["changed"] is False


def test_value_inside_a_condition_is_refused_and_nothing_written(tmp_path, monkeypatch):
    path = tmp_path / "grub"
    text = "if true; then\nGRUB_DEFAULT=0\nfi\n"
    path.write_text(text)
    result = _run_value(monkeypatch, {"path": str(path), "variable": "GRUB_DEFAULT", "value": "saved"}, fails=True)
    assert "line 2" in result["msg"] and "not changed" in result["msg"]
    assert path.read_text() == text


def test_value_and_options_are_exclusive(tmp_path, monkeypatch):
    path = tmp_path / "grub"
    path.write_text("GRUB_DEFAULT=0\n")
    result = _run_value(monkeypatch, {"path": str(path), "variable": "GRUB_DEFAULT", "value": "saved",
                                      "options": [{"name": "quiet"}]}, fails=True)
    assert "mutually exclusive" in result["msg"]
    result = _run_value(monkeypatch, {"path": str(path), "variable": "GRUB_DEFAULT"}, fails=True)
    assert "one of the following is required" in result["msg"]


def _run_value(monkeypatch, args, fails=False):
    from ansible.module_utils.testing import patch_module_args
    from module_exits import ExitJson, FailJson, patch_module_exits
    from ansible_collections.coco.sev_snp.plugins.modules import kernel_cmdline
    patch_module_exits(monkeypatch)
    with patch_module_args(args):
        with pytest.raises(FailJson if fails else ExitJson) as raised:
            kernel_cmdline.main()
    return raised.value.args[0]
