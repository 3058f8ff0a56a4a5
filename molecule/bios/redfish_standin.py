# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""STAND-IN for a server's BMC: a minimal Redfish service over HTTPS on 127.0.0.1.

A stand-in because no real BMC exists here, and sushy-tools keeps BIOS attributes only
through its libvirt driver (a libvirt domain per system). It implements just what
community.general's redfish_info / redfish_config / redfish_command use for BIOS work,
with the semantics of a real BMC:

- ``GET /redfish/v1`` (no authentication), ``Systems``, ``Systems/1``;
- ``GET Systems/1/Bios``: the attributes in force; ``AttributeRegistry`` names the registry;
- ``GET|PATCH Systems/1/Bios/Settings``: pending attributes. A PATCH is refused (400) for an
  attribute the BMC does not have or the registry marks read-only, and changes nothing;
- ``POST Systems/1/Actions/ComputerSystem.Reset``: applies the pending attributes (the only
  way they take effect) and empties them;
- ``GET Registries/BiosAttributeRegistry`` and its ``en`` location: the attribute registry;
- HTTP Basic authentication on everything but the service root (401 otherwise).

Each vendor profile (``--profile``) holds an attribute set shaped like that vendor's, with
SEV-SNP settings off. Every request that changes something, and every reset, is appended to
the journal (``--journal``, a JSON file rewritten atomically), which the scenario reads.
The TLS certificate is made at start for 127.0.0.1 by a throwaway CA written to ``--ca``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import json
import os
import ssl
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROFILES = {
    "hpe": {
        "vendor": "HPE",
        "oem": {"Hpe": {}},
        "attributes": {"AmdSecureMemoryEncryption": "Disabled", "AmdSecureNestedPaging": "Disabled",
                       "ProcAmdIoVt": "Enabled", "AmdDmaRemapping": "Disabled", "ProcSMT": "Enabled",
                       "WorkloadProfile": "GeneralPowerEfficientCompute"},
        "registry": [("AmdSecureMemoryEncryption", ["Enabled", "Disabled"]),
                     ("AmdSecureNestedPaging", ["Enabled", "Disabled"]),
                     ("ProcAmdIoVt", ["Enabled", "Disabled"]), ("AmdDmaRemapping", ["Enabled", "Disabled"]),
                     ("ProcSMT", ["Enabled", "Disabled"]),
                     ("WorkloadProfile", ["GeneralPowerEfficientCompute", "Virtualization-MaxPerformance"])],
    },
    "dell": {
        "vendor": "Dell",
        "oem": {"Dell": {}},
        "attributes": {"Sme": "Enabled", "Snp": "Disabled", "Rmp": "Disabled", "IommuSupport": "Enabled",
                       "CpuMinSevAsid": 1, "TransparentSme": "Disabled", "LogicalProc": "Enabled"},
        "registry": [("Sme", ["Enabled", "Disabled"]), ("Snp", ["Enabled", "Disabled"]),
                     ("Rmp", ["Enabled", "Disabled"]), ("IommuSupport", ["Enabled", "Disabled"]),
                     ("CpuMinSevAsid", (1, 509)), ("TransparentSme", ["Enabled", "Disabled"]),
                     ("LogicalProc", ["Enabled", "Disabled"])],
    },
    "supermicro": {
        "vendor": "Supermicro",
        "oem": {"Supermicro": {}},
        "attributes": {"SMEE#003E": "Disabled", "SEV-SNPSupport#01A7": "Disabled",
                       "SNPMemory(RMPTable)Coverage#003C": "Auto", "IOMMU#0196": "Enabled",
                       "SEV-ESASIDSpaceLimit#700C": 1, "SMTControl#0076": "Auto"},
        # No registry: the playbook must work from the attributes alone.
        "registry": None,
    },
}


def registry_document(entries, read_only):
    attributes = []
    for name, values in entries:
        entry = {"AttributeName": name, "ReadOnly": name in read_only, "DisplayName": name}
        if isinstance(values, tuple):
            entry.update({"Type": "Integer", "LowerBound": values[0], "UpperBound": values[1]})
        else:
            entry.update({"Type": "Enumeration", "Value": [{"ValueName": v, "ValueDisplayName": v} for v in values]})
        attributes.append(entry)
    return {"@odata.type": "#AttributeRegistry.v1_3_0.AttributeRegistry", "Id": "BiosAttributeRegistry",
            "RegistryEntries": {"Attributes": attributes}}


def make_certificate(ca_path):
    """A throwaway CA and a server certificate for 127.0.0.1; returns (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coco.sev_snp test BMC CA (stand-in)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    with open(ca_path, "wb") as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    workdir = tempfile.mkdtemp(prefix="redfish-standin-")
    cert_file, key_file = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    with open(cert_file, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_file, key_file


class Bmc(object):
    def __init__(self, profile, journal, username, password, read_only, pending):
        spec = PROFILES[profile]
        self.vendor = spec["vendor"]
        self.oem = spec["oem"]
        self.current = copy.deepcopy(spec["attributes"])
        self.pending = dict(pending)
        self.registry = registry_document(spec["registry"], read_only) if spec["registry"] else None
        self.read_only = set(read_only)
        self.journal_path = journal
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
        self.events = []
        self.lock = threading.Lock()
        self.save()

    def save(self):
        state = {"vendor": self.vendor, "current": self.current, "pending": self.pending, "events": self.events,
                 "resets": sum(1 for e in self.events if e["event"] == "reset"),
                 "patches": [e["body"] for e in self.events if e["event"] == "patch"]}
        directory = os.path.dirname(os.path.abspath(self.journal_path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".journal-")
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.journal_path)


SYSTEM = "/redfish/v1/Systems/1"


class Handler(BaseHTTPRequestHandler):
    server_version = "RedfishStandIn/1.0"

    def log_message(self, fmt, *args):  # quiet: the journal is the record
        pass

    @property
    def bmc(self):
        return self.server.bmc

    def reply(self, status, body=None):
        data = json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, message):
        self.reply(status, {"error": {"code": "Base.1.8.GeneralError", "message": message,
                                      "@Message.ExtendedInfo": [{"Message": message}]}})

    def authorised(self):
        if self.headers.get("Authorization") == self.bmc.auth:
            return True
        self.error(401, "Unauthorized: invalid user name or password")
        return False

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length).decode() or "{}")
        except ValueError:
            return None

    def do_GET(self):
        path = self.path.rstrip("/") or "/"
        if path == "/redfish/v1":
            return self.reply(200, {"@odata.id": "/redfish/v1", "RedfishVersion": "1.15.0", "Vendor": self.bmc.vendor,
                                    "Oem": self.bmc.oem, "Systems": {"@odata.id": "/redfish/v1/Systems"},
                                    "Registries": {"@odata.id": "/redfish/v1/Registries"}})
        if not self.authorised():
            return None
        with self.bmc.lock:
            if path == "/redfish/v1/Systems":
                return self.reply(200, {"Members": [{"@odata.id": SYSTEM}], "Members@odata.count": 1})
            if path == SYSTEM:
                return self.reply(200, {
                    "@odata.id": SYSTEM, "Id": "1", "PowerState": "On", "Bios": {"@odata.id": SYSTEM + "/Bios"},
                    "Actions": {"#ComputerSystem.Reset": {
                        "target": SYSTEM + "/Actions/ComputerSystem.Reset",
                        "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "GracefulRestart", "ForceRestart"]}}})
            if path == SYSTEM + "/Bios":
                body = {"@odata.id": SYSTEM + "/Bios", "Attributes": copy.deepcopy(self.bmc.current),
                        "@Redfish.Settings": {"SettingsObject": {"@odata.id": SYSTEM + "/Bios/Settings"}}}
                if self.bmc.registry:
                    body["AttributeRegistry"] = "BiosAttributeRegistry"
                return self.reply(200, body)
            if path == SYSTEM + "/Bios/Settings":
                return self.reply(200, {"@odata.id": SYSTEM + "/Bios/Settings",
                                        "Attributes": copy.deepcopy(self.bmc.pending)})
            if self.bmc.registry and path == "/redfish/v1/Registries/BiosAttributeRegistry":
                return self.reply(200, {"Location": [{"Language": "en",
                                                      "Uri": "/redfish/v1/Registries/BiosAttributeRegistry/en"}]})
            if self.bmc.registry and path == "/redfish/v1/Registries/BiosAttributeRegistry/en":
                return self.reply(200, self.bmc.registry)
        return self.error(404, "Resource %s not found" % path)

    def do_PATCH(self):
        if not self.authorised():
            return None
        if self.path.rstrip("/") != SYSTEM + "/Bios/Settings":
            return self.error(405, "PATCH is only allowed on %s/Bios/Settings" % SYSTEM)
        body = self.body()
        if not isinstance(body, dict) or not isinstance(body.get("Attributes"), dict):
            return self.error(400, "The request body must be {\"Attributes\": {...}}")
        with self.bmc.lock:
            for name in body["Attributes"]:
                if name not in self.bmc.current:
                    return self.error(400, "The property %s is not in the list of valid properties" % name)
                if name in self.bmc.read_only:
                    return self.error(400, "The property %s is a read only property and cannot be assigned a value"
                                      % name)
            self.bmc.pending.update(body["Attributes"])
            self.bmc.events.append({"event": "patch", "body": body, "current_after": copy.deepcopy(self.bmc.current)})
            self.bmc.save()
        return self.reply(200, {})

    def do_POST(self):
        if not self.authorised():
            return None
        if self.path.rstrip("/") != SYSTEM + "/Actions/ComputerSystem.Reset":
            return self.error(404, "Action %s not found" % self.path)
        body = self.body() or {}
        with self.bmc.lock:
            applied = dict(self.bmc.pending)
            self.bmc.current.update(applied)
            self.bmc.pending = {}
            self.bmc.events.append({"event": "reset", "reset_type": body.get("ResetType"), "applied": applied})
            self.bmc.save()
        return self.reply(200, {})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--ca", required=True, help="where to write the CA certificate clients should trust")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="standin-password")
    parser.add_argument("--read-only", action="append", default=[], help="attribute the registry marks read-only")
    parser.add_argument("--pending", default="{}", help="JSON object of attributes already pending at start")
    args = parser.parse_args(argv)
    cert_file, key_file = make_certificate(args.ca)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.bmc = Bmc(args.profile, args.journal, args.username, args.password, args.read_only,
                     json.loads(args.pending))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write("listening on https://127.0.0.1:%d (%s)\n" % (args.port, args.profile))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
