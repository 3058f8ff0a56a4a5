# Stand-in for virtee's snpguest, for the attest Molecule scenario only. A container has no
# AMD PSP, so `report` cannot ask one: it hands out a report the controller generated with
# the test CA (tests/unit/amd_test_ca.py), taken from a "standin" directory beside the
# requested report file, else from /usr/local/share/sev-snp-standin/guest. It accepts only
# the command line of the version it pretends to be (--version), prints what the real tool
# prints, and logs every argv to /var/log/snpguest-standin.log.
# `verify attestation` does not redo the cryptography (the controller's attestation_verify
# did): it checks that the certificates are in place and that the report is the one it gave.
import hashlib
import os
import shutil
import sys

SHARE = "/usr/local/share/sev-snp-standin"
with open(os.path.join(SHARE, "snpguest.version")) as handle:
    VERSION = tuple(int(part) for part in handle.read().strip().split("."))


def fail(message, code=1):
    print("ERROR: %s" % message)
    print("Error: %s" % message, file=sys.stderr)
    sys.exit(code)


def usage(message):
    print("error: %s\n\nUsage: snpguest <COMMAND>\n\nFor more information, try '--help'." % message, file=sys.stderr)
    sys.exit(2)


def evidence(report_path):
    beside = os.path.join(os.path.dirname(os.path.abspath(report_path)), "standin")
    return beside if os.path.isdir(beside) else os.path.join(SHARE, "guest")


def report(args):
    options = [arg for arg in args if arg.startswith("--")]
    positional = [arg for index, arg in enumerate(args)
                  if not arg.startswith("--") and not (index and args[index - 1] == "--vmpl")]
    if len(positional) != 2 or "--random" not in options:
        usage("snpguest report needs <ATT_REPORT_PATH> <REQUEST_FILE> and --random here")
    if "--vmpl" in args and args[args.index("--vmpl") + 1] != "1":
        fail("the stand-in's reports were generated at VMPL 1")
    source = evidence(positional[0])
    shutil.copyfile(os.path.join(source, "report.bin"), positional[0])
    shutil.copyfile(os.path.join(source, "request.bin"), positional[1])


def fetch(args):
    fail("the stand-in has no route to a KDS; the controller fetches the certificates")


def verify(args):
    if len(args) != 3 or args[0] != "attestation":
        usage("the stand-in implements `verify attestation <CERTS_DIR> <ATT_REPORT_PATH>` only")
    certs, report_path = args[1], args[2]
    for name in ("ark.pem", "ask.pem", "vcek.der"):
        if not os.path.isfile(os.path.join(certs, name)):
            fail("Unable to read %s from %s" % (name, certs))
    with open(report_path, "rb") as handle:
        given = hashlib.sha256(handle.read()).digest()
    with open(os.path.join(evidence(report_path), "report.bin"), "rb") as handle:
        if given != hashlib.sha256(handle.read()).digest():
            fail("Report signature verification failed")
    for level in ("Boot Loader", "TEE", "SNP", "Microcode"):
        print("Reported TCB %s from certificate matches the attestation report." % level)
    # Before 0.9 the last line named the VCEK; 0.9 says VEK (VCEK or VLEK).
    print("%s signed the Attestation Report!" % ("VEK" if VERSION >= (0, 9, 0) else "VCEK"))


def main():
    args = sys.argv[1:]
    with open("/var/log/snpguest-standin.log", "a") as log:
        log.write(" ".join(["snpguest"] + args) + "\n")
    if args == ["--version"]:
        print("snpguest %s" % ".".join(str(part) for part in VERSION))
    elif args[:1] == ["report"]:
        report(args[1:])
    elif args[:1] == ["fetch"]:
        fetch(args[1:])
    elif args[:1] == ["verify"]:
        verify(args[1:])
    else:
        usage("unrecognized subcommand '%s'" % (args[0] if args else ""))


main()
