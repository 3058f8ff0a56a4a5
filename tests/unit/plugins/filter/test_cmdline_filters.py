import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.coco.sev_snp.plugins.filter.cmdline import FilterModule

FILTERS = FilterModule().filters()
WANTED = [
    {"name": "iommu", "value": "nopt"},
    {"name": "iommu", "value": "pt", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "state": "absent"},
]


def test_running_kernel_without_the_option_is_not_satisfied():
    running = "BOOT_IMAGE=/boot/vmlinuz-6.4.0 root=UUID=1234 splash=silent iommu=pt quiet"
    assert FILTERS["cmdline_satisfies"](running, WANTED) is False


def test_running_kernel_with_the_option_is_satisfied_from_list_or_string():
    running = ["BOOT_IMAGE=/boot/vmlinuz-6.4.0", "root=UUID=1234", "iommu=nopt", "quiet"]
    assert FILTERS["cmdline_satisfies"](running, WANTED) is True
    assert FILTERS["cmdline_satisfies"](" ".join(running), WANTED) is True


def test_conflict_alongside_the_option_is_not_satisfied():
    assert FILTERS["cmdline_satisfies"]("iommu=nopt amd_iommu=off", WANTED) is False


def test_apply_replaces_in_place():
    assert FILTERS["cmdline_apply"]("a iommu=pt b", WANTED) == ["a", "iommu=nopt", "b"]


def test_format_reads_like_a_sentence():
    assert FILTERS["cmdline_format"](WANTED) == "iommu=nopt, without iommu=pt, without amd_iommu=off"


@pytest.mark.parametrize("options", [[{"value": "x"}], [{"name": "bad name"}], "iommu=nopt"])
def test_bad_options_are_filter_errors(options):
    with pytest.raises(AnsibleFilterError):
        FILTERS["cmdline_satisfies"]("quiet", options)


def test_bad_command_line_type_is_a_filter_error():
    with pytest.raises(AnsibleFilterError):
        FILTERS["cmdline_satisfies"](42, WANTED)


PASSTHROUGH_GONE = [
    {"name": "iommu", "value": "nopt"},
    {"name": "iommu.passthrough", "value": "1", "match": "bool", "state": "absent"},
    {"name": "amd_iommu", "value": "off", "match": "list", "state": "absent"},
]


@pytest.mark.parametrize("running, satisfied", [
    ("iommu=nopt", True),
    ("iommu=nopt iommu.passthrough=on", False),
    ("iommu=nopt iommu.passthrough=y", False),
    ("iommu=nopt iommu.passthrough=0", True),
    ("iommu=nopt amd_iommu=fullflush,off", False),
    ("iommu=nopt amd_iommu=fullflush", True),
    ("iommu=nopt iommu=nopt", True),
    ("iommu=nopt -- amd_iommu=off", True),
])
def test_satisfies_matches_like_the_kernel(running, satisfied):
    assert FILTERS["cmdline_satisfies"](running, PASSTHROUGH_GONE) is satisfied


def test_apply_removes_the_list_item_and_every_true_spelling():
    assert FILTERS["cmdline_apply"]("a iommu.passthrough=on amd_iommu=fullflush,off", PASSTHROUGH_GONE) == [
        "a", "amd_iommu=fullflush", "iommu=nopt"]


def test_format_says_how_list_and_bool_match():
    assert FILTERS["cmdline_format"](PASSTHROUGH_GONE + [{"name": "x", "value": "off", "match": "bool"}]) == (
        "iommu=nopt, without iommu.passthrough true, without off in amd_iommu, x false")


def test_bad_match_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="use exact, list or bool"):
        FILTERS["cmdline_apply"]("quiet", [{"name": "x", "value": "1", "match": "glob"}])
