# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_facts' boot section and kernel_flavour_not_running, on a ready host's tree given a
grub.cfg written by a real grub-mkconfig (SUSE kernel names), its grubenv and a running kernel."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.coco.sev_snp.plugins.module_utils import host_model
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_cfg import boot_facts
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import decide
from ansible_collections.coco.sev_snp.plugins.modules import host_facts
from module_exits import ExitJson, patch_module_exits

HERE = os.path.dirname(__file__)
ROOTS = os.path.join(HERE, "..", "..", "..", "fixtures", "host", "roots")
GRUB_CFG = os.path.join(HERE, "..", "..", "..", "fixtures", "grub_cfg")
UUID = "0c1b2a39-4f5e-4d6c-8b7a-9e0f1a2b3c4d"
COCO = "gnulinux-advanced-%s>gnulinux-6.4.0-150700.53.3-coco-advanced-%s" % (UUID, UUID)
GRUBENV_HEADER = "# GRUB Environment Block\n"

pytestmark = pytest.mark.usefixtures("no_hang")


def grubenv(**values):
    body = GRUBENV_HEADER + "".join("%s=%s\n" % item for item in sorted(values.items()))
    return body + "#" * (1024 - len(body))


@pytest.fixture
def host(tmp_path):
    """A ready Milan host tree on SUSE's layout running kernel-default, GRUB_DEFAULT=saved."""
    root = tmp_path / "root"
    shutil.copytree(os.path.join(ROOTS, "milan-ready"), str(root))
    (root / "boot" / "grub2").mkdir(parents=True)
    shutil.copy(os.path.join(GRUB_CFG, "suse-names-default-and-coco.cfg"), str(root / "boot" / "grub2" / "grub.cfg"))
    (root / "boot" / "grub2" / "grubenv").write_text(grubenv())
    (root / "proc" / "sys" / "kernel").mkdir(parents=True)
    (root / "proc" / "sys" / "kernel" / "osrelease").write_text("6.4.0-150700.53.3-default\n")
    grub = root / "etc" / "default" / "grub"
    grub.write_text(grub.read_text() + "GRUB_DEFAULT=saved\n")
    return root


def run_facts(monkeypatch, args):
    patch_module_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    with patch_module_args(args):
        with pytest.raises(ExitJson) as raised:
            host_facts.main()
    return raised.value.args[0]["ansible_facts"]["sev_snp"]


def ids(facts):
    return [p["id"] for p in facts["problems"]]


def test_no_flavour_wanted_reports_the_menu_and_no_problem(monkeypatch, host):
    facts = run_facts(monkeypatch, {"root": str(host)})
    boot = facts["boot"]
    assert boot["grub_cfg"] == "/boot/grub2/grub.cfg"
    assert len(boot["entries"]) == 5
    assert boot["grub_default"] == "saved" and boot["saved_entry"] is None
    assert boot["next"]["release"] == "6.4.0-150700.53.3-default"
    assert boot["next_via"] == "saved_entry"
    assert (boot["running_release"], boot["running_flavour"]) == ("6.4.0-150700.53.3-default", "default")
    assert boot["flavour"] is None and boot["error"] is None
    assert "kernel_flavour_not_running" not in ids(facts)
    assert facts["ready"] is True


def test_wrong_flavour_running_and_not_selected(monkeypatch, host):
    facts = run_facts(monkeypatch, {"root": str(host), "kernel_flavour": "-coco"})
    assert facts["boot"]["flavour"]["running"] is False
    assert facts["boot"]["flavour"]["entry"]["path"] == COCO
    assert facts["boot"]["flavour"]["boots_next"] is False
    problem = [p for p in facts["problems"] if p["id"] == "kernel_flavour_not_running"][0]
    assert problem["severity"] == "error"
    assert "6.4.0-150700.53.3-default" in problem["message"] and "-coco" in problem["message"]
    assert "GRUB_DEFAULT=saved" in problem["fix"] and COCO in problem["fix"]
    assert facts["ready"] is False
    assert [p["id"] for p in decide(facts)["blocking"]] == ["kernel_flavour_not_running"]


def test_wrong_flavour_running_but_selected_says_reboot(monkeypatch, host):
    (host / "boot" / "grub2" / "grubenv").write_text(grubenv(saved_entry=COCO))
    facts = run_facts(monkeypatch, {"root": str(host), "kernel_flavour": "-coco"})
    assert facts["boot"]["next"]["path"] == COCO
    assert facts["boot"]["flavour"]["boots_next"] is True
    problem = [p for p in facts["problems"] if p["id"] == "kernel_flavour_not_running"][0]
    assert problem["fix"].startswith("Reboot the host")


def test_flavour_running_is_ready(monkeypatch, host):
    (host / "proc" / "sys" / "kernel" / "osrelease").write_text("6.4.0-150700.53.3-coco\n")
    facts = run_facts(monkeypatch, {"root": str(host), "kernel_flavour": "coco"})
    assert facts["boot"]["flavour"]["running"] is True
    assert "kernel_flavour_not_running" not in ids(facts)
    assert facts["ready"] is True


def test_flavour_not_installed_says_install(monkeypatch, host):
    facts = run_facts(monkeypatch, {"root": str(host), "kernel_flavour": "-rt"})
    problem = [p for p in facts["problems"] if p["id"] == "kernel_flavour_not_running"][0]
    assert "has no entry" in problem["message"]
    assert problem["fix"].startswith("Install the kernel")
    # The fix names the menu file of this host's layout.
    assert "so that /boot/grub2/grub.cfg lists it" in problem["fix"]


def test_flavour_check_without_a_menu_file_names_grub_cfg_generically():
    # A boot section that found no menu file (grub_cfg None) still gives a readable fix.
    facts = {"boot": {"grub_cfg": None, "running_release": "6.4.0-150700.53.3-default",
                      "flavour": {"wanted": "-coco", "running": False, "entry": None, "boots_next": False}}}
    problem = host_model._check_kernel_flavour(None, facts, None)[0]
    assert "so that grub.cfg lists it" in problem["fix"] and "None" not in problem["fix"]


def test_debian_layout_and_proc_version(monkeypatch, host):
    shutil.rmtree(str(host / "boot" / "grub2"))
    (host / "boot" / "grub").mkdir()
    shutil.copy(os.path.join(GRUB_CFG, "debian-two-flavours.cfg"), str(host / "boot" / "grub" / "grub.cfg"))
    os.remove(str(host / "proc" / "sys" / "kernel" / "osrelease"))
    (host / "proc" / "version").write_text("Linux version 6.1.0-50-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\n")
    facts = run_facts(monkeypatch, {"root": str(host), "kernel_flavour": "-amd64"})
    boot = facts["boot"]
    assert boot["grub_cfg"] == "/boot/grub/grub.cfg"
    # GRUB_DEFAULT=saved in the file, but this grub.cfg was generated with 0
    assert boot["stale"] is True and boot["next"]["release"] == "6.1.0-50-cloud-amd64"
    assert boot["running_flavour"] == "cloud-amd64"
    assert boot["flavour"]["entry"]["release"] == "6.1.0-50-amd64"
    assert "kernel_flavour_not_running" in ids(facts)


@pytest.mark.parametrize("cfg_text, env_text, words", [
    (None, None, "no readable grub.cfg"),
    ("menuentry 'x' {\n", None, "cannot be parsed (line 1"),
    ("menuentry 'x' {\n}\n", "saved_entry=x\n", "not a GRUB environment block"),
    ("insmod blscfg\nblscfg\n", None, "Boot Loader Specification"),
])
def test_unreadable_boot_configuration_is_an_error_text_not_a_traceback(cfg_text, env_text, words):
    files = {"proc/sys/kernel/osrelease": "6.4.0-1-coco\n"}
    if cfg_text is not None:
        files["boot/grub2/grub.cfg"] = cfg_text
    if env_text is not None:
        files["boot/grub2/grubenv"] = env_text
    boot = boot_facts(files.get, "GRUB_DEFAULT=saved\n", flavour="-coco")
    assert words in boot["error"]
    assert boot["flavour"]["running"] is True and boot["flavour"]["entry"] is None


def test_unparsable_grub_default_is_reported():
    files = {"boot/grub/grub.cfg": "menuentry 'x' {\n}\n"}
    boot = boot_facts(files.get, "if x; then\nGRUB_DEFAULT=saved\nfi\n")
    assert "GRUB_DEFAULT cannot be read" in boot["error"] and "line 2" in boot["error"]
    assert boot["next"]["title"] == "x"


def test_explicit_grub_cfg_path_only():
    files = {"boot/grub/grub.cfg": "menuentry 'x' {\n}\n"}
    boot = boot_facts(files.get, None, grub_cfg="/boot/grub2/grub.cfg")
    assert boot["grub_cfg"] is None and "/boot/grub2/grub.cfg" in boot["error"]
