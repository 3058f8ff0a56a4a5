# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters between a libvirt domain XML and its expected launch measurement; documented in
snp_measurement_inputs.yml, snp_measurement_record.yml and snp_recorded_measurement.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.module_utils import snp_domain


def _wrap(name, function):
    def filter_function(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except snp_domain.DomainXmlError as exc:
            raise AnsibleFilterError("%s: %s" % (name, exc))
    filter_function.__name__ = name
    filter_function.__doc__ = function.__doc__
    return filter_function


def _to_text(value):
    # Ansible hands templated strings over as str subclasses; anything else is refused by parse().
    return str(value) if isinstance(value, str) else value


def snp_measurement_inputs(xml_text):
    return snp_domain.measurement_inputs(_to_text(xml_text))


def snp_recorded_measurement(xml_text):
    return snp_domain.recorded_measurement(_to_text(xml_text))


class FilterModule(object):
    def filters(self):
        return {
            "snp_measurement_inputs": _wrap("snp_measurement_inputs", snp_measurement_inputs),
            "snp_measurement_record": _wrap("snp_measurement_record", snp_domain.record_element),
            "snp_recorded_measurement": _wrap("snp_recorded_measurement", snp_recorded_measurement),
        }
