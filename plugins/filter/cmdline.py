# -*- coding: utf-8 -*-
# Copyright: coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja filters over kernel command line token lists."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils.cmdline import apply_options, split_cmdline


def _tokens(value):
    if isinstance(value, str):
        return split_cmdline(value)
    if isinstance(value, (list, tuple)):
        return [str(token) for token in value]
    raise AnsibleFilterError("expected a kernel command line as a string or a list of tokens, got %s" % type(value).__name__)


def _options(options):
    if not isinstance(options, (list, tuple)):
        raise AnsibleFilterError("options must be a list of {name, value, state} mappings")
    result = []
    for option in options:
        if not isinstance(option, dict) or not option.get("name"):
            raise AnsibleFilterError("every option needs a name, got %r" % (option,))
        result.append({
            "name": str(option["name"]),
            "value": None if option.get("value") is None else str(option["value"]),
            "state": option.get("state") or "present",
        })
    return result


def cmdline_apply(tokens, options):
    """Tokens after applying present/absent options (the rules of kernel_cmdline)."""
    return apply_options(_tokens(tokens), _options(options))


def cmdline_satisfies(tokens, options):
    """True when a command line already complies with every option."""
    current = _tokens(tokens)
    return apply_options(current, _options(options)) == current


def cmdline_format(options):
    """Human-readable summary of options, e.g. 'iommu=nopt, without iommu=pt'."""
    parts = []
    for option in _options(options):
        text = option["name"] if option["value"] is None else "%s=%s" % (option["name"], option["value"])
        parts.append(text if option["state"] == "present" else "without " + text)
    return ", ".join(parts)


class FilterModule(object):
    def filters(self):
        return {
            "cmdline_apply": cmdline_apply,
            "cmdline_satisfies": cmdline_satisfies,
            "cmdline_format": cmdline_format,
        }
