#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_cmdline
short_description: Add, replace or remove kernel parameters in /etc/default/grub
version_added: "0.1.0"
description:
  - Edits one shell variable of C(/etc/default/grub), or of any file with that syntax, that
    holds kernel command line parameters (by default C(GRUB_CMDLINE_LINUX_DEFAULT)).
  - Only the tokens named by O(options) change. Every other byte of the file stays as it
    was, including the other tokens and their order, repeated parameters such as several
    C(console=), the quoting style of the value, C($VAR) references, comments, the other
    lines, the final newline (or its absence), and the file's mode, owner, group and
    SELinux label. The file is replaced atomically (a new file in the same directory,
    flushed to disk, renamed over the old one). When the owner cannot be kept, or the
    directory is not writable, the module fails, changes nothing and leaves no backup.
  - Only assignments the shell certainly runs are edited, that is simple top-level
    assignments (C(VAR="..."), also several on one line or with C(export)). When the
    variable is assigned several times that way, the last assignment (the one the shell
    keeps) is edited and a warning lists the lines. When the variable is not assigned at all
    and the options add something, C(VAR="...") is appended to the file.
  - The module fails naming the line, and leaves the file untouched, when the variable is
    assigned anywhere the shell may skip it or not keep its value (inside C(if), C(case), a
    loop, a function, a subshell in parentheses or a C({ }) group, a C(&&)/C(||) list, a pipeline,
    in the background, as a command prefix or argument, after C(exit)/C(return)), when
    another command names it (C(unset), C(read), C(eval)...) or assigns it through
    C(${VAR:=...}), and for content it cannot follow (an unclosed quote, command
    substitution anywhere in the value, also inside C(${X:-...}) and in backquotes, C(+=),
    a line continuation or mixed quoting inside the value, here-documents, a shell syntax
    error).
  - Parameter names match the way the kernel compares them, C(-) and C(_) being equal
    (C(kvm-amd.sev-snp) is C(kvm_amd.sev_snp)). Values match as O(options[].match) says,
    without the double quotes the kernel removes. A token that is only a reference (C($VAR), C(${VAR})) is kept
    as it is and never matches an option. In C(iommu=$X) the name is C(iommu) and the value
    is the text C($X), so O(options[].state=absent) without a value removes it.
  - The module does not regenerate the bootloader configuration; run C(update-bootloader) or
    C(grub2-mkconfig) when the task reports C(changed).
author:
  - coco.sev_snp maintainers (@coco-collections)
options:
  path:
    description:
      - File to edit. It must exist.
    type: path
    default: /etc/default/grub
  variable:
    description:
      - Shell variable that holds the kernel parameters.
      - C(GRUB_CMDLINE_LINUX_DEFAULT) reaches the normal boot entries only,
        C(GRUB_CMDLINE_LINUX) also the recovery entries.
    type: str
    default: GRUB_CMDLINE_LINUX_DEFAULT
  options:
    description:
      - Kernel parameters to ensure, applied in order.
      - Each name may appear at most once with O(options[].state=present), and not both
        present and absent with the same value.
      - One of O(options) and O(value) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Parameter name, the part before C(=), for example C(iommu) or C(kvm_amd.sev_snp).
          - It may not be C(--), nor contain whitespace, NUL, quotes, C(=), C($), backquotes,
            backslashes, parentheses, braces or any of C(;|&#<>).
        type: str
        required: true
      value:
        description:
          - Parameter value, the part after C(=). Leave it out for a bare flag such as C(quiet).
          - It may not contain whitespace, NUL or double quotes. C($), backquotes and
            backslashes are escaped for the shell.
        type: str
      match:
        description:
          - How a token's value is compared with O(options[].value).
          - V(exact), the values are equal.
          - V(list), the token's value is a comma-separated list, and O(options[].value) is
            one of its items (C(amd_iommu=fullflush,off) contains C(off)). It needs a value
            without a comma. With V(absent) only that item is removed; the token goes once
            no item is left, so C(amd_iommu=fullflush,off) becomes C(amd_iommu=fullflush).
          - V(bool), both values are the same kernel boolean, read as the kernel reads them
            (first character C(1), C(y), C(Y), C(t) or C(T), or C(on), is true; C(0), C(n),
            C(N), C(f) or C(F), or C(off), is false). A bare token is true. It needs a value
            that is a kernel boolean. With V(absent) every token with the same boolean is
            removed, so C(iommu.passthrough=1) also removes C(iommu.passthrough=on) and
            C(iommu.passthrough=y).
          - With V(present), V(list) and V(bool) change nothing when a token already
            matches (for V(bool), the last token with that name, whose value the kernel
            keeps); otherwise C(name=value) is set as with V(exact).
        type: str
        choices: [exact, list, bool]
        default: exact
      state:
        description:
          - V(present) with a value, exactly one C(name=value) remains. It takes the place
            of the first token with that name (bare or with another value) and every
            other token with that name is removed. Without such a token it is appended.
          - V(present) without a value, exactly one bare C(name) remains. Tokens
            C(name=something) are not the bare flag and are left alone.
          - V(absent) without a value, every token with that name is removed, bare or with
            any value.
          - V(absent) with a value, only the tokens that match (see O(options[].match)) are
            removed.
        type: str
        choices: [present, absent]
        default: present
  value:
    description:
      - Instead of O(options), the whole value the variable must hold, for a variable that is not
        a command line, for example V(saved) for C(GRUB_DEFAULT). The same parser and atomic edit
        apply; the value is quoted for the shell as it needs.
    type: str
  backup:
    description:
      - Keep a copy of the original file, with a timestamp in its name, when the module
        changes it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what would change, with the diff, and writes nothing.
  diff_mode:
    support: full
    description: Shows the whole file before and after the edit.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host; the file is shell syntax whichever bootloader tool reads it.
notes:
  - The value is rewritten as valid shell. An unquoted value gets double quotes once it
    holds more than one token or a character that needs quoting. New tokens are escaped for
    the value's quoting style.
  - Tokens after a bare C(--) belong to init. They never match and new tokens go in front
    of the C(--).
  - When the edited line expands its own variable (C(VAR="$VAR iommu=nopt")) after an earlier
    assignment, tokens of the earlier line still reach the kernel. The module warns
    about that but does not edit them.
seealso:
  - module: coco.sev_snp.host_facts
    description: Reads the running kernel command line and SEV-SNP state of the host.
  - name: coco.sev_snp.sev_snp_host role
    link: https://github.com/coco-collections/sev_snp/tree/main/roles/sev_snp_host
    description: Uses this module to add C(iommu=nopt) and remove IOMMU passthrough options.
"""

EXAMPLES = r"""
- name: Turn IOMMU passthrough off for SEV-SNP (iommu=nopt replaces an existing iommu=pt)
  coco.sev_snp.kernel_cmdline:
    options:
      - name: iommu
        value: nopt
      - name: iommu.passthrough
        value: "1"
        match: bool
        state: absent
      - name: amd_iommu
        value: "off"
        match: list
        state: absent
    backup: true
  register: grub_defaults

- name: Regenerate the bootloader configuration when the defaults changed
  ansible.builtin.command: update-bootloader --refresh
  when: grub_defaults is changed
  changed_when: true

- name: Boot the entry grub2-set-default saves (GRUB_DEFAULT=saved)
  coco.sev_snp.kernel_cmdline:
    variable: GRUB_DEFAULT
    value: saved
    backup: true

- name: Remove every iommu= parameter from the line shared with recovery entries
  coco.sev_snp.kernel_cmdline:
    variable: GRUB_CMDLINE_LINUX
    options:
      - name: iommu
        state: absent

- name: Ensure the bare flag quiet and a serial console in a file of the same syntax
  coco.sev_snp.kernel_cmdline:
    path: /etc/default/grub.d/50-serial.cfg
    options:
      - name: quiet
      - name: console
        value: ttyS0,115200
"""

RETURN = r"""
before:
  description: Tokens of the edited assignment before the change (empty when it did not exist).
  returned: always
  type: list
  elements: str
  sample: ["splash=silent", "quiet", "iommu=pt"]
after:
  description: Tokens of the edited assignment after the change (what it would be in check mode).
  returned: always
  type: list
  elements: str
  sample: ["splash=silent", "quiet", "iommu=nopt"]
cmdline:
  description:
    - Tokens that C(grub-mkconfig) puts on the normal boot entry after the change,
      C(GRUB_CMDLINE_LINUX) followed by C(GRUB_CMDLINE_LINUX_DEFAULT), with C($VAR) references
      kept as they are.
    - Empty when the rest of the file holds content the parser cannot follow for those two
      variables.
  returned: always
  type: list
  elements: str
  sample: ["splash=silent", "quiet", "iommu=nopt"]
lineno:
  description: Line of the edited assignment (or of the appended one); null when nothing was assigned or added.
  returned: always
  type: int
  sample: 12
variable:
  description: The variable the module edited.
  returned: always
  type: str
  sample: GRUB_CMDLINE_LINUX_DEFAULT
backup_file:
  description: Name of the copy of the original file.
  returned: when O(backup=true) and the file changed (not in check mode)
  type: str
  sample: /etc/default/grub.12345.2025-01-31@12:00:00~
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.coco.sev_snp.plugins.module_utils.atomic_file import AtomicWriteError, atomic_write
from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import MATCHES, STATES, OptionError
from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import (
    GrubDefaultError,
    cmdline_tokens,
    edit_variable,
    set_variable_tokens,
)

# surrogateescape keeps any byte that is not UTF-8 exactly as it was.
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


def _read(module, path):
    if not os.path.exists(path):
        module.fail_json(msg="%s does not exist; give path: the file that holds the kernel parameters" % path)
    if not os.path.isfile(path):
        module.fail_json(msg="%s is not a regular file" % path)
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(_ENCODING, _ERRORS)
    except (IOError, OSError) as error:
        module.fail_json(msg="cannot read %s: %s" % (path, to_native(error)))


def _write(module, path, text, backup, result):
    """Replace path with text; with backup, keep a copy of the original, and no copy when that fails."""
    directory = os.path.dirname(os.path.realpath(path))
    if not os.access(directory, os.W_OK | os.X_OK):
        module.fail_json(msg="cannot write %s: no permission to create files in %s; run as a user that may write "
                             "there (for example with become: true); the file was not changed" % (path, directory),
                         **dict(result, changed=False))
    backup_file = module.backup_local(path) if backup else None
    try:
        atomic_write(path, text.encode(_ENCODING, _ERRORS))
    except AtomicWriteError as error:
        if backup_file:
            os.unlink(backup_file)
        module.fail_json(msg="%s; the file was not changed" % error, **dict(result, changed=False))
    if backup_file:
        result["backup_file"] = backup_file


def _combined_cmdline(text):
    try:
        return cmdline_tokens(text)
    except GrubDefaultError:
        return []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", default="/etc/default/grub"),
            variable=dict(type="str", default="GRUB_CMDLINE_LINUX_DEFAULT"),
            options=dict(
                type="list",
                elements="dict",
                options=dict(
                    name=dict(type="str", required=True),
                    value=dict(type="str"),
                    state=dict(type="str", choices=list(STATES), default="present"),
                    match=dict(type="str", choices=list(MATCHES), default="exact"),
                ),
            ),
            value=dict(type="str"),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("options", "value")],
        required_one_of=[("options", "value")],
        supports_check_mode=True,
    )
    path = module.params["path"]
    variable = module.params["variable"]
    # No "path" key: AnsibleModule would add stat details of that path to the result.
    result = dict(changed=False, variable=variable)

    original = _read(module, path)
    try:
        if module.params["value"] is not None:
            edit = set_variable_tokens(original, variable, [module.params["value"]])
        else:
            edit = edit_variable(original, variable, module.params["options"])
    except GrubDefaultError as error:
        module.fail_json(msg="%s line %d: %s; the file was not changed" % (path, error.lineno, error.message),
                         lineno=error.lineno, **result)
    except (OptionError, ValueError) as error:
        module.fail_json(msg="%s; the file was not changed" % to_native(error), **result)

    for warning in edit.warnings:
        module.warn("%s: %s" % (path, warning))
    result.update(changed=edit.changed, before=edit.before, after=edit.after, lineno=edit.lineno,
                  cmdline=_combined_cmdline(edit.text))
    if module._diff:
        result["diff"] = dict(before=original, after=edit.text, before_header=path, after_header=path)

    if edit.changed and not module.check_mode:
        _write(module, path, edit.text, module.params["backup"], result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
