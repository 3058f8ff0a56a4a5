"""Make ``ansible_collections.coco.sev_snp`` importable when pytest runs from a checkout.

The checkout is not necessarily at a path ending in ``ansible_collections/coco/sev_snp``;
a symlink under ``build/collections`` gives the import system that shape.
"""
import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _collections_dir():
    parts = _ROOT.split(os.sep)
    if parts[-3:-2] == ["ansible_collections"] and parts[-2:] == ["coco", "sev_snp"]:
        return os.sep.join(parts[:-3])
    base = os.path.join(_ROOT, "build", "collections")
    link = os.path.join(base, "ansible_collections", "coco", "sev_snp")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(_ROOT, link)
        except FileExistsError:
            pass
    return base


_BASE = _collections_dir()
if _BASE not in sys.path:
    sys.path.insert(0, _BASE)

# Loading the collection through ansible's own loader keeps plugin imports identical
# to what ansible-playbook sees.
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_finder = _AnsibleCollectionFinder(paths=[_BASE])
_finder._install()

sys.path.insert(0, os.path.dirname(__file__))


def collections_search_path():
    """For ansible-playbook runs in tests: this checkout first, then what the environment
    already searches (the dependency collections of a compatibility run live elsewhere)."""
    inherited = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    return os.pathsep.join([_BASE] + ([inherited] if inherited else []))


import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes seconds (a playbook run, thousands of signatures); the mutation run skips it")


@pytest.fixture
def no_hang():
    """Fail the test after 30 s instead of letting a blocking read (a FIFO, a slow pipe) hang
    the whole run."""
    import signal

    def expired(*_args):
        raise AssertionError("the test blocked for 30 s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def collections_path():
    """The directory that holds ansible_collections/coco/sev_snp for this run's tests, for
    tests that start ansible-playbook (a copy of the tree under test finds itself)."""
    return _BASE
