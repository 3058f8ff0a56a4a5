#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_config
short_description: Configure an AMD EPYC host for SEV-SNP and report its state, in one run
version_added: "0.1.0"
description:
  - Does in one module run what SUSE's SEV-SNP chapter does in its first two steps, and then
    reads the host as M(coco.sev_snp.host_facts) does, so that a play needs one round trip to
    the host when nothing has to change.
  - Makes O(msr_file) load the C(msr) module at boot. A file that already lists C(msr) is left
    as it is; otherwise a line C(msr) is appended and every other line, comments included,
    stays. The file ends up mode C(0644), owner and group C(root).
  - Edits C(GRUB_CMDLINE_LINUX_DEFAULT) with O(cmdline_options) and C(GRUB_CMDLINE_LINUX) with
    O(linux_options) in O(grub_file), exactly as M(coco.sev_snp.kernel_cmdline) edits one
    variable (every other byte stays; the file is replaced atomically and keeps its mode, owner
    and SELinux label).
  - Every file is planned and checked before the first one is written. Content the parser
    cannot follow, a missing O(grub_file), bad options, an unsupported operating system
    (O(supported_os_families)) or a problem listed in O(fail_on_problems) fail the module
    with nothing written.
  - Sets the fact C(sev_snp) exactly as M(coco.sev_snp.host_facts) builds it, describing the
    host after the edits (in check mode, after the edits it would make). A boot configuration
    that the running kernel does not match yet gives C(cmdline.reboot_required) and the
    problem C(reboot_pending).
  - It does not regenerate the bootloader configuration, load C(msr) now or reboot; run those
    when RV(grub_file.changed) or the facts say so (the C(coco.sev_snp.sev_snp_host) role does).
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  root:
    description:
      - Directory prefixed to O(grub_file) and O(msr_file), the files the module writes. Leave it
        at C(/) on real hosts.
    type: path
    default: /
  facts_root:
    description:
      - Directory below which the host's state is read (C(/proc), C(/sys), C(/etc), the kernel
        log), with the planned contents of O(grub_file) and O(msr_file) in place of those files.
        Defaults to O(root).
      - Tests point it at a labelled copy of a real EPYC host's files while the edits go to the
        files below O(root), so that the facts can be exercised on machines without SEV-SNP.
      - When it is not C(/) and O(kernel_log) is not given, the log is read from
        C(<facts_root>/var/log/dmesg) or C(<facts_root>/var/log/boot.msg), never from the live host.
    type: path
  grub_file:
    description:
      - The file that holds the kernel command line for the bootloader, below O(root). It must
        exist (role variable C(sev_snp_host_grub_file)).
    type: path
    default: /etc/default/grub
  msr_file:
    description:
      - The C(modules-load.d) file that loads C(msr) at boot, below O(root). It is created when
        missing, with its directory.
    type: path
    default: /etc/modules-load.d/msr.conf
  cmdline_options:
    description:
      - Options for C(GRUB_CMDLINE_LINUX_DEFAULT), and what the running kernel must show, as
        M(coco.sev_snp.kernel_cmdline) takes them.
      - Default is the collection's one list (filter C(coco.sev_snp.snp_cmdline_options)), that is
        C(iommu=nopt) present and the IOMMU passthrough and off options absent.
    type: list
    elements: dict
    suboptions:
      name:
        description: Kernel parameter name.
        type: str
        required: true
      value:
        description: Value; omit for a bare flag.
        type: str
      state:
        description: Whether the option must be there or must not.
        type: str
        choices: [present, absent]
        default: present
      match:
        description: How a token matches, see M(coco.sev_snp.kernel_cmdline).
        type: str
        choices: [exact, list, bool]
        default: exact
  linux_options:
    description:
      - Options for C(GRUB_CMDLINE_LINUX), the line recovery entries use too.
      - Default is the collection's list of IOMMU passthrough and off options, all absent.
    type: list
    elements: dict
    suboptions:
      name:
        description: Kernel parameter name.
        type: str
        required: true
      value:
        description: Value; omit for a bare flag.
        type: str
      state:
        description: Whether the option must be there or must not.
        type: str
        choices: [present, absent]
        default: present
      match:
        description: How a token matches, see M(coco.sev_snp.kernel_cmdline).
        type: str
        choices: [exact, list, bool]
        default: exact
  extra_options:
    description:
      - The operator's options on top of the collection's list, for both GRUB variables the way the
        filter C(coco.sev_snp.snp_cmdline_options) combines them (present ones in
        C(GRUB_CMDLINE_LINUX_DEFAULT), absent ones in both). The role C(coco.sev_snp.sev_snp_host)
        passes its C(sev_snp_host_cmdline_extra) and C(sev_snp_host_cmdline_conflicts) this way.
      - Mutually exclusive with O(cmdline_options) and O(linux_options).
    type: list
    elements: dict
    suboptions:
      name:
        description: Kernel parameter name.
        type: str
        required: true
      value:
        description: Value; omit for a bare flag.
        type: str
      state:
        description: Whether the option must be there or must not.
        type: str
        choices: [present, absent]
        default: present
      match:
        description: How a token matches, see M(coco.sev_snp.kernel_cmdline).
        type: str
        choices: [exact, list, bool]
        default: exact
  backup:
    description:
      - Keep a copy of O(grub_file), with a timestamp in its name, when the module changes it
        (RV(grub_file.backup_file)), so that a failed bootloader regeneration can restore it.
    type: bool
    default: false
  supported_os_families:
    description:
      - When given, fail without writing anything unless the family of the host (C(Suse),
        C(Debian), C(RedHat), from C(/etc/os-release)) is one of these.
    type: list
    elements: str
  bootloader_commands:
    description:
      - The command that regenerates the boot configuration, per OS family (C(Suse), C(Debian),
        C(RedHat)), as the caller will run it after a change to O(grub_file).
      - When O(grub_file) is to change and the host family's command passes long options (for
        example C(grub2-mkconfig ... --update-bls-cmdline)), the module fails without writing
        anything if the command's program is not installed (looked up on the module's C(PATH),
        below O(root)) or is a script that has no such option. So an older C(grub2-mkconfig)
        (RHEL 9.2 and older) is refused before the edit it could not apply.
      - A compiled program's options cannot be looked up and are trusted.
    type: dict
  warn_on_problems:
    description:
      - Problem ids that the module reports as warnings (with their fix) and then carries on,
        for example C(not_amd_epyc) on a test machine.
    type: list
    elements: str
    default: []
  fail_on_problems:
    description:
      - Problem ids (see M(coco.sev_snp.host_facts)) that make the module fail without writing
        anything, for example C(not_amd_epyc). The message gives each problem and its fix.
    type: list
    elements: str
    default: []
  min_snp_api:
    description:
      - The minimum SEV-SNP firmware API version that the gate (M(coco.sev_snp.host_gate)) will
        require after the change, as a string such as C("1.55"). It is not applied here; it is
        checked first, by the same rule as the gate's, so that a rollout with an unusable minimum
        (an unquoted YAML C(1.50), which is the number 1.5, or text that is not a version) stops
        before it changes anything on the host.
    type: raw
  min_snp_build:
    description:
      - The minimum firmware build that the gate will require, a whole number; checked first like
        O(min_snp_api).
    type: raw
  kernel_log:
    description:
      - Path of a file on the managed host that holds a kernel log, read as given (not below
        O(root)). When omitted the live log is read, see O(kernel_log_sources).
    type: path
  kernel_log_sources:
    description: Live log sources to try, in order.
    type: list
    elements: str
    choices: [dmesg, journal, boot.msg]
    default: [dmesg, journal, boot.msg]
  grub_cfg:
    description:
      - The GRUB menu grub-mkconfig writes, below O(facts_root); its C(grubenv) is read from the same
        directory. Read only, for the facts' C(boot) section (as M(coco.sev_snp.host_facts) reports it).
      - Default is C(/boot/grub2/grub.cfg) (SUSE, RHEL family), else C(/boot/grub/grub.cfg) (Debian).
    type: path
  kernel_flavour:
    description:
      - The kernel flavour the host must run, as it ends the kernel release (C(-coco) for
        C(6.4.0-150700.53.3-coco)), judged as M(coco.sev_snp.host_facts) judges it (problem
        C(kernel_flavour_not_running)). Default is no flavour.
    type: str
attributes:
  check_mode:
    support: full
    description: Writes nothing; reports what would change, with the diff, and the facts as the edits would leave them.
  diff_mode:
    support: full
    description: Shows each file that changes, before and after, and the mode or owner of O(msr_file) when that changes.
  platform:
    support: full
    platforms: posix
    description: Linux hosts that boot with GRUB 2.
  facts:
    support: full
    description: Sets C(ansible_facts.sev_snp), as M(coco.sev_snp.host_facts) does.
seealso:
  - module: coco.sev_snp.host_facts
    description: The same facts, without changing anything.
  - module: coco.sev_snp.kernel_cmdline
    description: Edits one variable of a GRUB defaults file.
  - module: coco.sev_snp.host_gate
    description: Fail hosts that are not ready, on the controller, from these facts.
notes:
  - Run it with C(become=true).
  - Regenerate the bootloader configuration (C(update-bootloader), C(update-grub),
    C(grub2-mkconfig)) when RV(grub_file.changed) is true, and reboot when
    C(ansible_facts.sev_snp.cmdline.reboot_required) is true.
"""

EXAMPLES = r"""
- name: Configure msr.conf and the kernel command line, and read the SEV-SNP state
  coco.sev_snp.host_config:
    backup: true
    supported_os_families: [Suse, Debian, RedHat]
    bootloader_commands:
      Suse: update-bootloader
      Debian: update-grub
      RedHat: grub2-mkconfig -o /boot/grub2/grub.cfg --update-bls-cmdline
    fail_on_problems: [not_amd_epyc]
  become: true
  register: sev_snp_config

- name: Regenerate the bootloader configuration when the GRUB defaults changed
  ansible.builtin.command: update-bootloader
  when: sev_snp_config.grub_file.changed
  changed_when: true

- name: Say when the running kernel still lacks the configured options
  ansible.builtin.debug:
    msg: "Reboot needed: {{ ansible_facts.sev_snp.cmdline.pending | join(', ') }}"
  when: ansible_facts.sev_snp.cmdline.reboot_required
"""

RETURN = r"""
bootloader_command:
  description: The command of O(bootloader_commands) for the host's OS family; null when none is given.
  returned: always
  type: str
  sample: update-bootloader
ansible_facts:
  description: C(sev_snp), as M(coco.sev_snp.host_facts) returns it, for the host after the edits.
  returned: always
  type: dict
  contains:
    sev_snp:
      description: SEV-SNP readiness of the host; see M(coco.sev_snp.host_facts) for every key.
      type: dict
      returned: always
grub_file:
  description: What happened to O(grub_file).
  returned: always
  type: dict
  contains:
    path:
      description: The file, below O(root).
      type: str
      sample: /etc/default/grub
    changed:
      description: Whether the file changed (would change, in check mode).
      type: bool
    backup_file:
      description: Copy of the original file, when O(backup=true) and the file changed (not in check mode).
      type: str
      sample: /etc/default/grub.12345.2026-01-31@12:00:00~
    variables:
      description: One entry per edited variable, C(GRUB_CMDLINE_LINUX_DEFAULT) first.
      type: list
      elements: dict
      contains:
        variable:
          description: Variable name.
          type: str
        before:
          description: Its tokens before the edit.
          type: list
          elements: str
        after:
          description: Its tokens after the edit.
          type: list
          elements: str
        lineno:
          description: Line of the edited assignment, null when none was assigned or added.
          type: int
msr_file:
  description: What happened to O(msr_file).
  returned: always
  type: dict
  contains:
    path:
      description: The file, below O(root).
      type: str
      sample: /etc/modules-load.d/msr.conf
    changed:
      description: Whether its content, mode, owner or group changed (would change, in check mode).
      type: bool
    created:
      description: Whether the file did not exist before.
      type: bool
"""

import errno
import os
import pwd
import grp
import shlex
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.coco.sev_snp.plugins.module_utils.atomic_file import AtomicWriteError, atomic_write
from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import MATCHES, STATES, OptionError, validate_options
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import GrubDefaultError
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import build_facts
from ansible_collections.coco.sev_snp.plugins.module_utils.host_setup import GRUB_VARIABLES, plan_grub, plan_msr_conf
from ansible_collections.coco.sev_snp.plugins.module_utils.host_snapshot import HostReader, read_host
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_cmdline import default_options, grub_options, linux_options
from ansible_collections.coco.sev_snp.plugins.module_utils.snp_version import (
    SnpVersionError,
    checked_minimum_api,
    checked_minimum_build,
)

# surrogateescape keeps any byte that is not UTF-8 exactly as it was.
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"
MSR_MODE = 0o644
_NOTHING = "; nothing was changed"

_OPTION_FIELDS = dict(
    name=dict(type="str", required=True),
    value=dict(type="str"),
    state=dict(type="str", choices=list(STATES), default="present"),
    match=dict(type="str", choices=list(MATCHES), default="exact"),
)


def _below(root, path):
    return os.path.join(root, path.lstrip("/"))


_GRUB_FIX = ("Nothing was changed on this host. Set sev_snp_host_grub_file (this module's grub_file; default "
             "/etc/default/grub) to the file that holds GRUB_CMDLINE_LINUX_DEFAULT for the host or its group, or "
             "create it.")


def _read(module, full, what, missing_ok=False):
    """Exact text of a regular file (None when missing and missing_ok); fails the module otherwise.

    what is the option that names the file; for grub_file the message leads with what the role
    cannot do and ends with _GRUB_FIX.
    """
    def fail(problem):
        if what == "grub_file":
            module.fail_json(msg="The boot configuration cannot be checked: %s %s. %s" % (full, problem, _GRUB_FIX))
        module.fail_json(msg="%s %s; set %s to a readable regular file%s" % (full, problem, what, _NOTHING))

    try:
        info = os.stat(full)
    except OSError as error:
        if error.errno == errno.ENOENT and missing_ok:
            return None
        if error.errno == errno.ENOENT:
            fail("does not exist")
        fail("cannot be read (%s)" % to_native(error.strerror or error))
    if not stat.S_ISREG(info.st_mode):
        fail("is not a regular file")
    try:
        with open(full, "rb") as handle:
            return handle.read().decode(_ENCODING, _ERRORS)
    except (IOError, OSError) as error:
        fail("cannot be read (%s)" % to_native(error.strerror or error))


def _options(module, name, default):
    options = module.params[name]
    try:
        return validate_options(default if options is None else options)
    except OptionError as exc:
        module.fail_json(msg="%s: %s%s" % (name, exc, _NOTHING))


def _check_preconditions(module, facts):
    families = module.params["supported_os_families"]
    os_facts = facts.get("os") or {}
    if families is not None and os_facts.get("family") not in families:
        module.fail_json(msg="%s (%s family, from /etc/os-release) is not supported: this role knows the %s "
                             "families%s" % (os_facts.get("name") or "an unknown system", os_facts.get("family") or "unknown",
                                             ", ".join(families), _NOTHING))
    refused = [p for p in facts["problems"] if p["id"] in module.params["fail_on_problems"]]
    if refused:
        module.fail_json(msg="%s Nothing was changed." % " ".join(
            "%s: %s Fix: %s" % (p["id"], p["message"], p["fix"]) for p in refused), problems=refused)


# What to do about a long option that older releases of a bootloader program lack.
_OPTION_FIXES = {
    "--update-bls-cmdline": ("RHEL-family grub2 has it from RHEL 9.3 on",
                             "Update grub2-tools to RHEL 9.3's or newer, or set"),
}
_SCRIPT_LIMIT = 4 << 20


def _find_program(root, name):
    """The executable regular file below root that the shell would run for name, or None."""
    if "/" in name:
        candidates = [name]
    else:
        path = os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin"
        candidates = [os.path.join(directory, name) for directory in path.split(os.pathsep) if directory]
    for candidate in candidates:
        full = _below(root, candidate)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return full
    return None


def _check_bootloader_command(module, root, family, grub_full):
    """The family's bootloader command; fails the module when it could not apply the edit."""
    command = (module.params["bootloader_commands"] or {}).get(family)
    if not command:
        return None
    command = to_native(command)
    try:
        words = shlex.split(command)
    except ValueError as error:
        module.fail_json(msg="bootloader_commands[%s]: %r cannot be split into words (%s)%s"
                             % (family, command, error, _NOTHING))
    options = sorted(set(word.split("=", 1)[0] for word in words[1:] if word.startswith("--") and len(word) > 2))
    if not words or not options:
        return command
    after = ("so the bootloader step '%s' would fail after %s was edited. Nothing was changed on this host."
             % (command, grub_full))
    program = _find_program(root, words[0])
    if program is None:
        module.fail_json(msg="the bootloader command %s is not installed, %s Install it, or set "
                             "sev_snp_host_bootloader_command to the command that writes the kernel command line "
                             "into this host's boot entries." % (words[0], after))
    try:
        with open(program, "rb") as handle:
            script = handle.read(_SCRIPT_LIMIT)
    except (IOError, OSError) as error:
        module.fail_json(msg="the bootloader command %s cannot be read (%s), %s" % (program, to_native(error), after))
    if not script.startswith(b"#!"):
        return command
    for option in options:
        if option.encode("utf-8", "surrogateescape") not in script:
            why, fix = _OPTION_FIXES.get(option, ("", "Update it, or set"))
            module.fail_json(msg="%s has no %s option%s, %s %s sev_snp_host_bootloader_command to the command "
                                 "that writes the kernel command line into this host's boot entries."
                                 % (program, option, " (%s)" % why if why else "", after, fix))
    return command


def _attribute_changes(full):
    """{attribute: (before, after)} for the mode, owner and group msr.conf must have."""
    info = os.stat(full)
    changes = {}
    if stat.S_IMODE(info.st_mode) != MSR_MODE:
        changes["mode"] = ("%04o" % stat.S_IMODE(info.st_mode), "%04o" % MSR_MODE)
    if info.st_uid != 0:
        changes["owner"] = (_name(pwd.getpwuid, info.st_uid), "root")
    if info.st_gid != 0:
        changes["group"] = (_name(grp.getgrgid, info.st_gid), "root")
    return changes


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def _write_msr(module, full, text, original, attributes, result):
    try:
        directory = os.path.dirname(full)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        if text != original:
            atomic_write(full, text.encode(_ENCODING, _ERRORS), mode=MSR_MODE)
        if "mode" in attributes or text != original:
            os.chmod(full, MSR_MODE)
        if "owner" in attributes or "group" in attributes:
            os.chown(full, 0, 0)
    except (AtomicWriteError, OSError) as error:
        module.fail_json(msg="cannot write %s: %s%s" % (full, to_native(error), _NOTHING), **result)


def _write_grub(module, full, text, backup, result):
    directory = os.path.dirname(os.path.realpath(full))
    if not os.access(directory, os.W_OK | os.X_OK):
        module.fail_json(msg="cannot write %s: no permission to create files in %s; run as a user that may write "
                             "there (for example with become: true); the file was not changed" % (full, directory),
                         **result)
    backup_file = module.backup_local(full) if backup else None
    try:
        atomic_write(full, text.encode(_ENCODING, _ERRORS))
    except AtomicWriteError as error:
        if backup_file:
            os.unlink(backup_file)
        module.fail_json(msg="%s; the file was not changed" % error, **result)
    if backup_file:
        result["grub_file"]["backup_file"] = backup_file


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            facts_root=dict(type="path"),
            grub_file=dict(type="path", default="/etc/default/grub"),
            msr_file=dict(type="path", default="/etc/modules-load.d/msr.conf"),
            cmdline_options=dict(type="list", elements="dict", options=_OPTION_FIELDS),
            linux_options=dict(type="list", elements="dict", options=_OPTION_FIELDS),
            extra_options=dict(type="list", elements="dict", options=_OPTION_FIELDS),
            backup=dict(type="bool", default=False),
            supported_os_families=dict(type="list", elements="str"),
            fail_on_problems=dict(type="list", elements="str", default=[]),
            warn_on_problems=dict(type="list", elements="str", default=[]),
            bootloader_commands=dict(type="dict"),
            # raw: an unquoted YAML 1.50 must arrive as the float it is, and be refused.
            min_snp_api=dict(type="raw"),
            min_snp_build=dict(type="raw"),
            kernel_log=dict(type="path"),
            grub_cfg=dict(type="path"),
            kernel_flavour=dict(type="str"),
            kernel_log_sources=dict(type="list", elements="str", choices=["dmesg", "journal", "boot.msg"],
                                    default=["dmesg", "journal", "boot.msg"]),
        ),
        mutually_exclusive=[("extra_options", "cmdline_options"), ("extra_options", "linux_options")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        checked_minimum_api(params["min_snp_api"])
        checked_minimum_build(params["min_snp_build"])
    except SnpVersionError as error:
        module.fail_json(msg="the SEV-SNP gate settings: %s%s" % (error, _NOTHING))
    root = params["root"]
    facts_root = params["facts_root"] or root
    for name, value in (("root", root), ("facts_root", facts_root)):
        if not os.path.isdir(value):
            module.fail_json(msg="%s=%s is not a directory; give the directory that holds the host's proc/, sys/ and "
                                 "etc/ (default /)%s" % (name, value, _NOTHING))
    if params["extra_options"] is not None:
        try:
            grub = grub_options(params["extra_options"])
        except OptionError as exc:
            module.fail_json(msg="extra_options: %s%s" % (exc, _NOTHING))
        cmdline_options, other_options = grub["GRUB_CMDLINE_LINUX_DEFAULT"], grub["GRUB_CMDLINE_LINUX"]
    else:
        cmdline_options = _options(module, "cmdline_options", default_options())
        other_options = _options(module, "linux_options", linux_options())
    grub_full = _below(root, params["grub_file"])
    msr_full = _below(root, params["msr_file"])

    grub_before = _read(module, grub_full, "grub_file")
    msr_before = _read(module, msr_full, "msr_file", missing_ok=True)
    try:
        grub_after, edits = plan_grub(grub_before, zip(GRUB_VARIABLES, (cmdline_options, other_options)))
    except GrubDefaultError as error:
        module.fail_json(msg="%s line %d: %s%s" % (grub_full, error.lineno, error.message, _NOTHING),
                         lineno=error.lineno)
    except (OptionError, ValueError) as error:
        module.fail_json(msg="%s%s" % (to_native(error), _NOTHING))
    msr_after = plan_msr_conf(msr_before)
    msr_attributes = _attribute_changes(msr_full) if msr_before is not None else {}

    reader = HostReader(facts_root, planned={params["grub_file"]: grub_after, params["msr_file"]: msr_after})
    snapshot = read_host(module, reader, params["grub_file"], params["kernel_log"], params["kernel_log_sources"],
                         grub_cfg=params["grub_cfg"], kernel_flavour=params["kernel_flavour"])
    facts = build_facts(snapshot, cmdline_options)
    _check_preconditions(module, facts)

    for problem in facts["problems"]:
        if problem["id"] in params["warn_on_problems"]:
            module.warn("%s: %s Fix: %s" % (problem["id"], problem["message"], problem["fix"]))
    for variable, edit in edits:
        for warning in edit.warnings:
            module.warn("%s: %s" % (grub_full, warning))
    grub_changed = grub_after != grub_before
    family = (facts.get("os") or {}).get("family")
    if grub_changed:
        bootloader_command = _check_bootloader_command(module, root, family, grub_full)
    else:
        bootloader_command = (params["bootloader_commands"] or {}).get(family)
        bootloader_command = None if bootloader_command is None else to_native(bootloader_command)
    msr_changed = msr_after != msr_before or bool(msr_attributes)
    result = dict(
        changed=grub_changed or msr_changed,
        bootloader_command=bootloader_command,
        grub_file=dict(path=params["grub_file"], changed=grub_changed,
                       variables=[dict(variable=variable, before=edit.before, after=edit.after, lineno=edit.lineno)
                                  for variable, edit in edits]),
        msr_file=dict(path=params["msr_file"], changed=msr_changed, created=msr_before is None),
    )
    if module._diff:
        diff = []
        if msr_after != msr_before:
            diff.append(dict(before=msr_before or "", after=msr_after, before_header=msr_full, after_header=msr_full))
        if msr_attributes:
            diff.append(dict(before=dict((k, v[0]) for k, v in msr_attributes.items()),
                             after=dict((k, v[1]) for k, v in msr_attributes.items()),
                             before_header=msr_full, after_header=msr_full))
        if grub_changed:
            diff.append(dict(before=grub_before, after=grub_after, before_header=grub_full, after_header=grub_full))
        result["diff"] = diff

    if not module.check_mode:
        if msr_changed:
            _write_msr(module, msr_full, msr_after, msr_before, msr_attributes, dict(result, changed=False))
        if grub_changed:
            _write_grub(module, grub_full, grub_after, params["backup"], dict(result, changed=msr_changed))
    module.exit_json(ansible_facts={"sev_snp": facts}, **result)


if __name__ == "__main__":
    main()
