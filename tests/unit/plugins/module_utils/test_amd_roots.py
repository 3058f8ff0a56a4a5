# -*- coding: utf-8 -*-
# Copyright (c) 2025 coco.sev_snp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pinned ARKs are AMD's: equal to two independently published copies."""
import hashlib

import pytest

from ansible_collections.coco.sev_snp.plugins.module_utils import amd_certs, amd_roots, snp_report
from corpus import read_corpus

PRODUCTS = list(snp_report.PRODUCTS)


def _ark_of(bundle_path):
    certs = amd_certs.load_certificates(read_corpus("binary/" + bundle_path, "rb"), bundle_path)
    arks = [cert for cert in certs if amd_certs.common_name(cert.subject).startswith("ARK-")]
    assert len(arks) == 1
    return arks[0]


def test_every_product_has_a_pinned_root():
    assert sorted(amd_roots.PINNED_ARKS) == sorted(PRODUCTS)
    assert amd_roots.pinned_ark("Rome") is None and amd_roots.pinned_ark_der("Rome") is None


@pytest.mark.parametrize("product", PRODUCTS)
def test_pinned_fingerprint_is_the_embedded_certificate(product):
    der = amd_roots.pinned_ark_der(product)
    assert hashlib.sha256(der).hexdigest() == amd_roots.pinned_ark(product)["sha256"]
    cert = amd_certs.load_certificates(der, "pinned")[0]
    assert amd_certs.common_name(cert.subject) == amd_certs.common_name(cert.issuer) == "ARK-%s" % product
    assert cert.public_key().key_size == 4096


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("copy", [
    "virtee-sev/builtin_{lower}_ark.pem",          # virtee/sev src/certs/snp/builtin
    "go-sev-guest/ask_ark_{lower}{vcek}.pem",      # google/go-sev-guest verify/trust
    "go-sev-guest/ask_ark_{lower}_vlek.pem",
    "trustee/snp__{lower}_ask_ark_asvk.pem",       # confidential-containers/trustee
])
def test_pinned_root_equals_the_published_copies(product, copy):
    path = copy.format(lower=product.lower(), vcek="_vcek" if product == "Turin" else "")
    assert amd_certs.fingerprint(_ark_of(path)) == amd_roots.pinned_ark(product)["sha256"]
    assert amd_certs.anchor_for(_ark_of(path), product)["source"] == "pinned AMD root"


def test_pinned_root_of_one_product_does_not_anchor_another():
    milan_ark = _ark_of("virtee-sev/builtin_milan_ark.pem")
    with pytest.raises(amd_certs.ChainError, match="^trust anchor"):
        amd_certs.anchor_for(milan_ark, "Genoa")


def test_pem_to_der_needs_a_block():
    with pytest.raises(ValueError, match="no PEM certificate block"):
        amd_roots.pem_to_der("nothing here")


@pytest.mark.parametrize("body", ["QUJD=QUJD", "QUJDRA==QUJD"])
def test_pem_to_der_refuses_padding_inside_the_body(body):
    """Strict base64: a body with '=' before its end is refused, not decoded in part."""
    with pytest.raises(ValueError):
        amd_roots.pem_to_der("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % body)
