"""The sev_snp_host role's SEV firmware settings: per-OS values, defaults, and the initrd files
it writes, rendered by ansible-playbook from the role's own vars as the role renders them."""
import os
import subprocess
import sys

import pytest
import yaml

from conftest import _ROOT, collections_search_path

ROLE = os.path.join(_ROOT, "roles", "sev_snp_host")
FAMILIES = ("Suse", "Debian", "RedHat")
OS_KEYS = ("packages", "packages_note", "initrd_kind", "initrd_config", "initrd_command")
IMAGE = "/lib/firmware/amd/amd_sev_fam19h_model0xh.sbin.xz"

RENDER = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - "{{ role_dir }}/defaults/main.yml"
    - "{{ role_dir }}/vars/main.yml"
  tasks:
    - name: Stand in for host_facts after a package put the image in place
      ansible.builtin.set_fact:
        sev_snp:
          os: {family: "{{ os_family }}"}
          firmware:
            next_boot_file: %(image)s
            files: [{path: %(image)s, size: 97344, ctime: 1750000000}]
        cacheable: true
    - name: Write what the role writes
      ansible.builtin.copy:
        dest: "{{ out }}/{{ item.key }}"
        content: "{{ item.value }}"
        mode: "0644"
      loop: "{{ {'config': _sev_snp_host_firmware_initrd_config, 'stamp': _sev_snp_host_firmware_stamp_text,
                  'command': _sev_snp_host_initrd_command, 'packages': _sev_snp_host_firmware_packages | join(' '),
                  'mode': _sev_snp_host_firmware} | dict2items }}"
""" % {"image": IMAGE}


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


def os_values(family):
    """The role's firmware settings of one OS family (vars/main.yml, _sev_snp_host_os_firmware)."""
    return load("vars", "main.yml")["_sev_snp_host_os_firmware"][family]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_os_family_says_how_to_stage_firmware(family):
    values = os_values(family)
    assert sorted(values) == sorted(OS_KEYS)
    assert values["initrd_kind"] in ("dracut", "initramfs-tools")
    assert values["packages"] and all(values["packages"])
    assert values["packages_note"].strip()
    kind = values["initrd_kind"]
    assert values["initrd_config"].startswith(
        "/etc/dracut.conf.d/" if kind == "dracut" else "/etc/initramfs-tools/hooks/")
    assert values["initrd_command"].split()[0] == ("dracut" if kind == "dracut" else "update-initramfs")


def test_every_supported_os_family_has_firmware_settings():
    """The families the role configures (the bootloader commands) are those it can stage firmware on."""
    role_vars = load("vars", "main.yml")
    assert sorted(role_vars["_sev_snp_host_os_firmware"]) == sorted(role_vars["_sev_snp_host_os_bootloader_commands"])


def test_defaults_match_the_argument_specs():
    defaults = load("defaults", "main.yml")
    options = load("meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in ("sev_snp_host_firmware", "sev_snp_host_firmware_src", "sev_snp_host_firmware_packages",
                 "sev_snp_host_initrd_command"):
        assert defaults[name] == options[name]["default"], name
    # Quoted: an unquoted off would be the boolean false.
    assert defaults["sev_snp_host_firmware"] == "off"
    assert options["sev_snp_host_firmware"]["choices"] == ["off", "package", "file"]


def render(tmp_path, family, *extra):
    playbook = tmp_path / "render.yml"
    playbook.write_text(RENDER)
    out = tmp_path / family
    out.mkdir()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_search_path(), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook),
         "-e", "role_dir=" + ROLE, "-e", "os_family=" + family, "-e", "out=" + str(out)] + list(extra),
        env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return dict((name, (out / name).read_text()) for name in ("config", "stamp", "command", "packages", "mode"))


@pytest.mark.slow
def test_the_initrd_files_name_the_image(tmp_path):
    for family in FAMILIES:
        written = render(tmp_path, family, "-e", "sev_snp_host_firmware=package")
        kind = os_values(family)["initrd_kind"]
        if kind == "dracut":
            assert 'install_items+=" %s "' % IMAGE in written["config"]
        else:
            assert written["config"].startswith("#!/bin/sh\n")
            assert "copy_file firmware %s\n" % IMAGE in written["config"]
            assert subprocess.run(["sh", "-n"], input=written["config"], text=True, check=False).returncode == 0
        # The stamp changes with the image (path, size, ctime) and with the configuration.
        assert written["config"].endswith("\n")
        assert written["stamp"] == "%s size=97344 ctime=1750000000\n%s" % (IMAGE, written["config"])
        assert written["command"] == os_values(family)["initrd_command"]
        assert written["packages"] == " ".join(os_values(family)["packages"])


@pytest.mark.slow
def test_operator_overrides_and_an_unquoted_off(tmp_path):
    written = render(tmp_path, "Debian", "-e", '{"sev_snp_host_firmware": false, '
                     '"sev_snp_host_initrd_command": "mkinitramfs-custom", '
                     '"sev_snp_host_firmware_packages": ["linux-firmware"]}')
    assert written["mode"] == "off"
    assert written["command"] == "mkinitramfs-custom"
    assert written["packages"] == "linux-firmware"
