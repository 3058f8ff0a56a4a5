# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over kernel command lines, with the rules of the kernel_cmdline module."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import (
    OptionError,
    apply_options,
    format_option,
    kernel_bool,
    options_satisfied,
    split_cmdline,
    validate_options,
)


def _tokens(value):
    if isinstance(value, str):
        return split_cmdline(value)
    if isinstance(value, (list, tuple)):
        return [str(token) for token in value]
    raise AnsibleFilterError("expected a kernel command line as a string or a list of tokens, got %s" % type(value).__name__)


def _checked(function, *args):
    try:
        return function(*args)
    except OptionError as exc:
        raise AnsibleFilterError(str(exc))


def cmdline_apply(tokens, options):
    """Tokens after applying present/absent options."""
    return _checked(apply_options, _tokens(tokens), options)


def cmdline_satisfies(tokens, options):
    """True when the kernel, given this command line, runs the way every option asks."""
    return _checked(options_satisfied, _tokens(tokens), options)


def _describe(option):
    if option["match"] == "list":
        return "%s in %s" % (option["value"], option["name"])
    if option["match"] == "bool":
        return "%s %s" % (option["name"], "true" if kernel_bool(option["value"]) else "false")
    return format_option(option["name"], option["value"])


def cmdline_format(options):
    """Readable summary of options, e.g. 'iommu=nopt, without iommu=pt, without off in amd_iommu'."""
    parts = []
    for option in _checked(validate_options, options):
        text = _describe(option)
        parts.append(text if option["state"] == "present" else "without " + text)
    return ", ".join(parts)


class FilterModule(object):
    def filters(self):
        return {
            "cmdline_apply": cmdline_apply,
            "cmdline_satisfies": cmdline_satisfies,
            "cmdline_format": cmdline_format,
        }
