# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the sev_snp_host role writes on a host, planned as text before anything is written.

Standard library only (runs on managed hosts with Python 3.8+). The planners never touch
the file system: they take the current text and return the text the file must hold, so a
module can check every file before it writes the first one, and check mode shows exactly
what a real run would write.
"""

from __future__ import annotations

from ansible_collections.coco.sev_snp.plugins.module_utils.grub_default import edit_variable
from ansible_collections.coco.sev_snp.plugins.module_utils.host_model import modules_load_lists

MSR_MODULE = "msr"
# The two variables grub-mkconfig puts on the kernel command line, in the order they are edited.
GRUB_VARIABLES = ("GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_CMDLINE_LINUX")


def plan_msr_conf(text):
    """Text of a modules-load.d file that loads msr at boot.

    ``text`` is the current content, None for a missing file. A file that already lists msr
    (as host_model reads modules-load.d files) is returned unchanged; otherwise a line
    ``msr`` is appended and every other line, comments included, stays.
    """
    if text is not None and MSR_MODULE in modules_load_lists({"msr.conf": text}):
        return text
    base = text or ""
    if base and not base.endswith("\n"):
        base += "\n"
    return base + MSR_MODULE + "\n"


def plan_grub(text, options_by_variable):
    """Apply kernel command line options to each variable of a /etc/default/grub text.

    ``options_by_variable`` is a sequence of (variable, options) pairs, applied in order to
    the text the previous one produced. Returns (new_text, edits), edits being the
    grub_default.EditResult of each variable. Raises grub_default.GrubDefaultError or
    cmdline.OptionError before anything is written, as edit_variable does.
    """
    edits = []
    for variable, options in options_by_variable:
        edit = edit_variable(text, variable, options)
        edits.append((variable, edit))
        text = edit.text
    return text, edits
