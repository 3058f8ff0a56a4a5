"""Locate the real-world sample corpus that lives beside the checkout (never inside it).

Tests that read it skip cleanly when it is absent. ``SEV_SNP_CORPUS`` overrides the
location.
"""
import os

import pytest

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.environ.get("SEV_SNP_CORPUS") or os.path.join(os.path.dirname(_ROOT), "shared", "corpus")


def corpus_dir(sub):
    """Path of a corpus sub-folder, or None when the corpus is not there."""
    path = os.path.join(CORPUS, sub)
    return path if os.path.isdir(path) else None


def corpus_params(sub, suffixes=None):
    """pytest params, one per file of a corpus sub-folder; one skipped param when absent."""
    path = corpus_dir(sub)
    if path is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="corpus folder %s absent" % sub))]
    names = sorted(n for n in os.listdir(path) if suffixes is None or n.endswith(tuple(suffixes)))
    return [pytest.param(os.path.join(path, n), id=n) for n in names]


def read_corpus(relpath, mode="r"):
    """Content of one corpus file; skips the calling test when it is absent."""
    path = os.path.join(CORPUS, relpath)
    if not os.path.exists(path):
        pytest.skip("corpus file %s absent" % relpath)
    with open(path, mode) as handle:
        return handle.read()
