from ansible_collections.coco.sev_snp.plugins.module_utils import live_kernel_log


class FakeModule(object):
    """Answers get_bin_path/run_command from a table instead of running anything."""

    def __init__(self, commands):
        self.commands = commands
        self.ran = []

    def get_bin_path(self, name):
        return "/usr/bin/" + name if name in self.commands else None

    def run_command(self, args, check_rc=False, environ_update=None):
        self.ran.append((args, environ_update))
        return self.commands[args[0].rsplit("/", 1)[-1]]


def test_rotated_ring_buffer_loses_to_the_journal():
    module = FakeModule({"dmesg": (0, "[9999.1] eth0: link up\n", ""),
                         "journalctl": (0, "kernel: ccp 0000:42:00.1: SEV-SNP API:1.55 build:8\n", "")})
    text, source, error = live_kernel_log.read_live_kernel_log(
        module, ["dmesg", "journal"], useful=lambda text: "SEV-SNP API" in text)
    assert (source, error) == ("journal", None) and "1.55" in text


def test_without_a_useful_source_the_first_readable_one_is_used():
    module = FakeModule({"dmesg": (0, "noise\n", ""), "journalctl": (0, "other noise\n", "")})
    text, source, _error = live_kernel_log.read_live_kernel_log(module, ["dmesg", "journal"], useful=lambda t: False)
    assert (text, source) == ("noise\n", "dmesg")


def test_empty_journal_and_missing_tools_are_reasons_not_text():
    module = FakeModule({"journalctl": (0, "-- No entries --\n", "")})
    text, source, error = live_kernel_log.read_live_kernel_log(module, ["dmesg", "journal"])
    assert text is None and source is None
    assert "dmesg: dmesg not installed" in error and "no kernel messages" in error


def test_commands_run_in_the_c_locale():
    module = FakeModule({"dmesg": (0, "x\n", "")})
    assert live_kernel_log.read_source(module, "dmesg") == ("x\n", None)
    assert module.ran == [(["/usr/bin/dmesg"], {"LC_ALL": "C"})]
