# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over the snpguest / snphost command builders and output parsers."""

from __future__ import annotations

import base64
import binascii

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_tools


def _wrap(name, function):
    """Turn parser errors into filter errors that name the filter the user wrote."""
    def filter_function(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except snp_tools.ToolOutputError as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc))
    filter_function.__name__ = name
    filter_function.__doc__ = function.__doc__
    return filter_function


def snp_tool_version(text):
    """'snpguest 0.9.1' -> '0.9.1'."""
    return ".".join(str(part) for part in snp_tools.parse_version(text))


def snpguest_commands(version, report, request, certs_dir, processor=None, encoding="pem", endorser="vcek", vmpl=None):
    return snp_tools.snpguest_commands(version, report, request, certs_dir, processor, encoding, endorser, vmpl)


def snphost_commands(version, certs_dir, encoding="pem"):
    return snp_tools.snphost_commands(version, certs_dir, encoding)


def snp_b64_hex(data):
    """Base64 (what ansible.builtin.slurp returns) to lower-case hex."""
    try:
        return binascii.hexlify(base64.b64decode(str(data), validate=True)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise snp_tools.ToolOutputError("not base64: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "snp_tool_version": _wrap("snp_tool_version", snp_tool_version),
            "snpguest_commands": _wrap("snpguest_commands", snpguest_commands),
            "snphost_commands": _wrap("snphost_commands", snphost_commands),
            "snp_ok_table": _wrap("snp_ok_table", snp_tools.parse_ok_table),
            "snphost_ok_json": _wrap("snphost_ok_json", snp_tools.parse_snphost_ok_json),
            "snpguest_verify_result": _wrap("snpguest_verify_result", snp_tools.parse_snpguest_verify),
            "snp_b64_hex": _wrap("snp_b64_hex", snp_b64_hex),
        }
