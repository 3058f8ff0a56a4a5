# Stand-in for virtee's snphost, for the attest Molecule scenario only. A container has no
# AMD PSP and no route to AMD's KDS: `fetch` copies the test CA's certificates from
# /usr/local/share/sev-snp-standin/host. It accepts only the command line of the version it
# pretends to be (0.7 renamed `fetch vcek` to `fetch vek` and `verify` to `verify certs`),
# prints the real tool's output formats, and logs every argv to /var/log/snphost-standin.log.
import os
import shutil
import sys

SHARE = "/usr/local/share/sev-snp-standin"
with open(os.path.join(SHARE, "snphost.version")) as handle:
    VERSION = tuple(int(part) for part in handle.read().strip().split("."))
RENAMED = VERSION >= (0, 7, 0)

OK_TABLE = """\
[ PASS ] - AMD CPU
[ PASS ]   - Microcode support
[ PASS ]   - Secure Memory Encryption (SME)
[ PASS ]     - SME: Enabled in MSR
[ PASS ]   - Secure Encrypted Virtualization (SEV)
[ PASS ]     - Encrypted State (SEV-ES)
[ PASS ]       - SEV-ES INIT: Enabled
[ PASS ]     - SEV INIT: SEV is INIT, but not currently running a guest
[ PASS ]     - Secure Nested Paging (SEV-SNP)
[ PASS ]       - VM Permission Levels
[ PASS ]         - Number of VMPLs: 4
[ PASS ]       - SNP: Enabled in MSR
[ PASS ]       - SEV Firmware Version: Sev firmware version: 1.55
[ PASS ]       - SNP INIT: SNP is INIT
[ PASS ]     - Physical address bit reduction: 5
[ PASS ]     - C-bit location: 51
[ PASS ]     - Number of encrypted guests supported simultaneously: 509
[ PASS ]     - Minimum ASID value for SEV-enabled, SEV-ES disabled guest: 233
[ PASS ]     - Reading /dev/sev: /dev/sev readable
[ PASS ]     - Writing /dev/sev: /dev/sev writable
[ PASS ]   - Page flush MSR: ENABLED
[ PASS ] - KVM supported: API version: 12
[ PASS ]   - SEV enabled in KVM: enabled
[ PASS ]   - SEV-ES enabled in KVM: enabled"""


def usage(message):
    print("error: %s\n\nUsage: snphost <COMMAND>\n\nFor more information, try '--help'." % message, file=sys.stderr)
    sys.exit(2)


def fetch(args):
    vek_word = "vek" if RENAMED else "vcek"
    if len(args) != 3 or args[0] not in ("ca", vek_word) or args[1] not in ("pem", "der"):
        usage("unrecognized subcommand '%s'" % (args[0] if args else ""))
    encoding, directory = args[1], args[2]
    if encoding != "pem":
        print("ERROR: the stand-in serves PEM only")
        sys.exit(1)
    os.makedirs(directory, exist_ok=True)
    names = ("ark", "ask") if args[0] == "ca" else ("vcek",)
    for name in names:
        shutil.copyfile(os.path.join(SHARE, "host", name + ".pem"), os.path.join(directory, name + ".pem"))


def verify(args):
    if RENAMED:
        if args[:1] != ["certs"] or len(args) != 2:
            usage("unrecognized subcommand '%s'" % (args[0] if args else ""))
        directory = args[1]
    else:
        if len(args) != 1:
            usage("unexpected argument '%s' found" % args[0] if args else "missing <CERTS_DIR>")
        directory = args[0]
    for name in ("ark.pem", "ask.pem", "vcek.pem"):
        if not os.path.isfile(os.path.join(directory, name)):
            print("ERROR: %s missing in %s" % (name, directory))
            sys.exit(1)
    print("The AMD ARK was self-signed!")
    print("The AMD ASK was signed by the AMD ARK!")
    print("The VCEK was signed by the AMD ASK!")


def main():
    args = sys.argv[1:]
    with open("/var/log/snphost-standin.log", "a") as log:
        log.write(" ".join(["snphost"] + args) + "\n")
    if args == ["--version"]:
        print("snphost %s" % ".".join(str(part) for part in VERSION))
    elif args == ["ok"]:
        print(OK_TABLE)
    elif args[:1] == ["fetch"]:
        fetch(args[1:])
    elif args[:1] == ["verify"]:
        verify(args[1:])
    else:
        usage("unrecognized subcommand '%s'" % (args[0] if args else ""))


main()
