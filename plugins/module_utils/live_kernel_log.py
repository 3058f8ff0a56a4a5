# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the running system's kernel log, shared by host_facts and guest_facts.

Takes the AnsibleModule only to find and run commands; the parsers stay separate.
"""

from __future__ import annotations

SOURCES = ("dmesg", "journal", "boot.msg")
_BOOT_MSG = "/var/log/boot.msg"
_MAX_READ = 64 * 1024 * 1024


def read_source(module, source):
    """(text, error) of one live source: dmesg, journal (this boot) or boot.msg (SUSE)."""
    if source == "dmesg":
        return _run(module, "dmesg", [])
    if source == "journal":
        text, error = _run(module, "journalctl", ["-k", "-b", "--no-pager", "-o", "short", "-q"])
        if error is None and (not text.strip() or text.strip() == "-- No entries --"):
            return None, "no kernel messages in the journal for this boot"
        return text, error
    if source == "boot.msg":
        try:
            with open(_BOOT_MSG, "rb") as handle:
                return handle.read(_MAX_READ).decode("utf-8", "replace"), None
        except (IOError, OSError):
            return None, "%s not readable" % _BOOT_MSG
    return None, "unknown source %s" % source


def _run(module, name, args):
    binary = module.get_bin_path(name)
    if not binary:
        return None, "%s not installed" % name
    rc, out, err = module.run_command([binary] + args, check_rc=False, environ_update={"LC_ALL": "C"})
    if rc != 0:
        return None, (err or out or "exit code %d" % rc).strip()
    return out, None


def read_live_kernel_log(module, sources=SOURCES, useful=None):
    """(text, source, error): the first source whose text is useful, else the first readable one.

    ``useful(text)`` tells whether a log still holds what the caller needs (a rotated ring
    buffer may have lost the boot messages that the journal kept).
    """
    fallback = None
    errors = []
    for source in sources:
        text, error = read_source(module, source)
        if error:
            errors.append("%s: %s" % (source, error))
            continue
        if useful is None or useful(text):
            return text, source, None
        if fallback is None:
            fallback = (text, source)
    if fallback is not None:
        return fallback[0], fallback[1], None
    return None, None, "; ".join(errors) or "no kernel log source enabled"
