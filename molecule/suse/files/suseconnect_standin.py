"""STAND-IN for SUSEConnect (SLES registration), labelled as such: it never contacts SUSE.

It answers `SUSEConnect --status` / `-s` with the real JSON shape (one object per installed
product: identifier, version, arch, status, and for registered ones regcode, starts_at,
expires_at, subscription_status, type) and `SUSEConnect -p NAME/VERSION/ARCH` by recording the
product as registered. Every call is appended to /var/lib/sev-snp-test/suseconnect-calls.
"""
import json
import os
import sys

STATE = "/var/lib/sev-snp-test"
REGISTERED = os.path.join(STATE, "suseconnect-registered.json")
BASE = {"identifier": "SLES", "version": "15.7", "arch": "x86_64"}
SUBSCRIPTION = {"regcode": "STAND-IN-0000", "starts_at": "2026-01-01 00:00:00 UTC",
                "expires_at": "2031-01-01 00:00:00 UTC", "subscription_status": "ACTIVE", "type": "full"}


def registered():
    try:
        with open(REGISTERED) as handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return []


def main(argv):
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, "suseconnect-calls"), "a") as log:
        log.write(" ".join(argv) + "\n")
    if argv[:1] in (["--status"], ["-s"]):
        products = [dict(BASE, status="Registered", **SUBSCRIPTION)]
        products += [dict(p, status="Registered", **SUBSCRIPTION) for p in registered()]
        print(json.dumps(products))
        return 0
    if len(argv) == 2 and argv[0] in ("-p", "--product"):
        parts = argv[1].split("/")
        if len(parts) != 3:
            sys.stderr.write("Error: invalid product %s; use <name>/<version>/<arch>\n" % argv[1])
            return 67
        products = [p for p in registered() if p["identifier"] != parts[0]]
        products.append({"identifier": parts[0], "version": parts[1], "arch": parts[2]})
        with open(REGISTERED, "w") as handle:
            json.dump(products, handle)
        print("Registering system to SUSE Customer Center (STAND-IN)\n\nActivating %s ...\n"
              "-> Adding service to system ...\n\nSuccessfully registered system" % argv[1])
        return 0
    sys.stderr.write("SUSEConnect STAND-IN: only --status and -p are implemented\n")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
