#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wall time of playbooks/check_host.yml against the alternatives an operator has.

Starts N podman containers (systemd as PID 1) and runs, with the same forks and the
containers.podman.podman connection:

  floor     one trivial task per host (one round trip: nothing can be faster)
  literal   the SUSE chapter's checks as an operator would write them, one shell or
            command task each (dmesg | grep -i ccp, lsmod | grep msr, cat /proc/cmdline, ...)
  check     playbooks/check_host.yml (one host_facts round trip, the rest on the controller)

Prints a table and exits 1 when check is not at least 5x faster than literal or not within
1.5x of the floor. Each row also gives the CPU seconds the run cost (run_playbook says how they
are split). The containers are removed at the end, also on failure or Ctrl-C.

  scripts/bench_check_host.py [--hosts 20] [--forks 10] [--image IMAGE]

The image defaults to $SEV_SNP_TEST_IMAGE or localhost/sev-snp-test:bookworm (built by
molecule/resources/build-image.sh). Podman settings come from $CONTAINERS_CONF, by default
molecule/resources/containers.conf.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CHECK_PLAYBOOK = os.path.join(ROOT, "playbooks", "check_host.yml")
MIN_SPEEDUP_OVER_LITERAL = 5.0
MAX_RATIO_TO_FLOOR = 1.5

# The chapter's checks, one task each, the way they are typed at a shell.
LITERAL_CHECKS = [
    ("CPU vendor", "grep -m1 vendor_id /proc/cpuinfo"),
    ("CPU model", "grep -m1 'model name' /proc/cpuinfo"),
    ("CPU family", "grep -m1 'cpu family' /proc/cpuinfo"),
    ("Memory encryption CPU flags", "grep -m1 -o -w -E 'sme|sev|sev_es|sev_snp' /proc/cpuinfo | sort -u"),
    ("ccp messages (SEV-SNP API version)", "dmesg | grep -i ccp"),
    ("SEV firmware initialised", "dmesg | grep -i 'SEV API'"),
    ("SEV-SNP enabled by the kernel", "dmesg | grep -i 'SEV-SNP'"),
    ("RMP table", "dmesg | grep -i RMP"),
    ("AMD-Vi SNP support", "dmesg | grep -i 'AMD-Vi'"),
    ("Memory encryption features", "dmesg | grep -i 'Memory Encryption'"),
    ("PSP device", "ls -l /dev/sev"),
    ("kvm_amd loaded", "lsmod | grep kvm_amd"),
    ("kvm_amd sev", "cat /sys/module/kvm_amd/parameters/sev"),
    ("kvm_amd sev_es", "cat /sys/module/kvm_amd/parameters/sev_es"),
    ("kvm_amd sev_snp", "cat /sys/module/kvm_amd/parameters/sev_snp"),
    ("msr loaded", "lsmod | grep msr"),
    ("msr persistent", "cat /etc/modules-load.d/msr.conf"),
    ("Running kernel command line", "cat /proc/cmdline"),
    ("Configured kernel command line", "grep GRUB_CMDLINE_LINUX_DEFAULT /etc/default/grub"),
    ("IOMMU default domain type", "cat /sys/kernel/iommu_groups/0/type"),
    ("Running kernel", "uname -r"),
]


def literal_playbook():
    tasks = []
    for name, command in LITERAL_CHECKS:
        tasks.append({
            "name": name,
            "ansible.builtin.shell": command,
            "register": "out_" + re.sub(r"\W+", "_", name.lower()).strip("_"),
            "changed_when": False,
            "failed_when": False,
        })
    return [{"name": "SEV-SNP host check, one command per step", "hosts": "all", "gather_facts": False,
             "tasks": tasks}]


def floor_playbook():
    return [{"name": "One trivial task per host", "hosts": "all", "gather_facts": False,
             "tasks": [{"name": "Round trip", "ansible.builtin.ping": None}]}]


SSH_DIR = os.path.join(ROOT, "build", "bench-ssh")
SSH_KEY = os.path.join(SSH_DIR, "id_ed25519")
TRANSPORTS = ("podman", "ssh")


def ssh_image(base):
    """``base`` with openssh-server (ssh.service starts with systemd), built once and kept."""
    image = base + "-sshd" if ":" in base.rsplit("/", 1)[-1] else base + ":sshd"
    if subprocess.run(["podman", "image", "exists", image], check=False).returncode == 0:
        return image
    print("building %s (openssh-server from the distribution's repository) ..." % image, flush=True)
    builder = "sev-snp-bench-sshd-build-%d" % os.getpid()
    try:
        subprocess.run(["podman", "run", "--name", builder, base, "sh", "-c",
                        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                        "--no-install-recommends openssh-server >/dev/null && rm -rf /var/lib/apt/lists/*"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["podman", "commit", "-q", builder, image], check=True, stdout=subprocess.DEVNULL)
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", builder], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return image


def ssh_key():
    """The benchmark's own key pair (build/bench-ssh), generated on first use."""
    if not os.path.exists(SSH_KEY):
        os.makedirs(SSH_DIR, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sev-snp-bench", "-f", SSH_KEY],
                       check=True)
    return SSH_KEY


def ssh_options(key):
    return ["-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]


class Containers(object):
    """Test hosts as podman containers, removed on exit whatever happens.

    With transport ssh each container runs sshd, published on a loopback port of its own
    (``ports``), and accepts the benchmark's key for root.
    """

    def __init__(self, image, count, transport="podman"):
        self.image = image
        self.transport = transport
        self.names = ["sev-snp-bench-%d-%02d" % (os.getpid(), index) for index in range(1, count + 1)]
        self.started = []
        self.ports = {}

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self):
        image, publish = self.image, []
        if self.transport == "ssh":
            image = ssh_image(self.image)
            publish = ["-p", "127.0.0.1::22"]
        for name in self.names:
            subprocess.run(["podman", "run", "-d", "--name", name, "--privileged", "--systemd=always",
                            "--stop-timeout=2"] + publish + [image, "/sbin/init"],
                           check=True, stdout=subprocess.DEVNULL)
            self.started.append(name)
        deadline = time.time() + 120
        for name in self.names:
            while subprocess.run(["podman", "exec", name, "test", "-d", "/root/.ansible/tmp"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode != 0:
                if time.time() > deadline:
                    raise RuntimeError("container %s did not come up" % name)
                time.sleep(0.5)
        if self.transport == "ssh":
            self._authorize(deadline)

    def _authorize(self, deadline):
        with open(ssh_key() + ".pub") as handle:
            public = handle.read()
        for name in self.names:
            subprocess.run(["podman", "exec", "-i", name, "sh", "-c",
                            "umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys"],
                           input=public, text=True, check=True)
            port = subprocess.run(["podman", "port", name, "22/tcp"], capture_output=True, text=True,
                                  check=True).stdout.strip().rsplit(":", 1)[-1]
            self.ports[name] = int(port)
            while subprocess.run(["ssh"] + ssh_options(SSH_KEY) + ["-p", port, "root@127.0.0.1", "true"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 check=False).returncode != 0:
                if time.time() > deadline:
                    raise RuntimeError("sshd in container %s did not answer on port %s" % (name, port))
                time.sleep(0.5)

    def __exit__(self, *_exc):
        if self.started:
            subprocess.run(["podman", "rm", "-f", "-t", "0"] + self.started,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            self.started = []
        return False


def write_inventory(path, containers):
    hosts = dict((name, None) for name in containers.names)
    # Same interpreter for every playbook, so that discovery does not blur the comparison.
    common = {"ansible_python_interpreter": "/usr/bin/python3"}
    if containers.transport == "ssh":
        hosts = dict((name, {"ansible_port": containers.ports[name]}) for name in containers.names)
        common.update({
            "ansible_connection": "ansible.builtin.ssh",
            "ansible_host": "127.0.0.1",
            "ansible_user": "root",
            "ansible_ssh_private_key_file": SSH_KEY,
            # As a fleet runs it: one master connection per host, kept open between tasks,
            # and modules piped into the remote Python (no temporary file per task).
            "ansible_ssh_args": "-C -o ControlMaster=auto -o ControlPersist=120s",
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
            "ansible_pipelining": True,
        })
    else:
        common.update({
            "ansible_connection": "containers.podman.podman",
            # With --systemd=always /tmp is a tmpfs that `podman mount` cannot see into.
            "ansible_remote_tmp": "/root/.ansible/tmp",
        })
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": hosts, "vars": common}}, handle)


def write_playbook(path, plays):
    with open(path, "w") as handle:
        json.dump(plays, handle, indent=1)


RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+"
                   r"skipped=\d+\s+rescued=\d+\s+ignored=(\d+)", re.M)


# One timed playbook run: wall seconds, tasks run per host, and CPU seconds split in two:
# ansible (ansible-playbook, its forked workers and what they start and wait for: podman exec,
# ssh clients) and other (the rest of the machine over the same interval: with transport ssh the
# hosts' sshd and module Pythons and the ssh masters; otherwise mostly the containers' side).
# On this benchmark the hosts share the controller's cores, so "other" is work that a real fleet
# does on each machine at once.
Run = collections.namedtuple("Run", "wall per_host ansible_cpu other_cpu")


def _busy_seconds():
    """CPU seconds the whole machine spent busy since boot (/proc/stat; every state but idle and iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]
    return busy / float(os.sysconf("SC_CLK_TCK"))


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_playbook(label, playbook, inventory, forks, env, log_dir, extra_args=()):
    log_path = os.path.join(log_dir, label + ".log")
    command = ["ansible-playbook", "-i", inventory, "-f", str(forks), playbook] + list(extra_args)
    busy, children, start = _busy_seconds(), _children_cpu(), time.monotonic()
    with open(log_path, "w") as log:
        returncode = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False).returncode
    wall = time.monotonic() - start
    ansible_cpu = _children_cpu() - children
    other_cpu = max(_busy_seconds() - busy - ansible_cpu, 0.0)
    with open(log_path) as log:
        output = log.read()
    recap = RECAP.findall(output)
    if returncode != 0 or not recap:
        sys.stderr.write(output[-4000:])
        raise RuntimeError("%s failed (exit %d), log above" % (label, returncode))
    # Tasks that ran on a host (skipped ones cost no round trip), averaged over the hosts.
    executed = sum(int(ok) + int(unreachable) + int(failed) + int(ignored)
                   for _host, ok, unreachable, failed, ignored in recap)
    return Run(wall, executed / float(len(recap)), ansible_cpu, other_cpu)


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=20, help="number of containers (default 20)")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks (default 10)")
    parser.add_argument("--image", default=os.environ.get("SEV_SNP_TEST_IMAGE", "localhost/sev-snp-test:bookworm"))
    parser.add_argument("--transport", choices=TRANSPORTS, default="podman",
                        help="podman exec, or ssh to sshd in each container on a loopback port (default podman)")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.forks < 1:
        parser.error("--hosts and --forks must be at least 1")
    if shutil.which("ansible-playbook") is None or shutil.which("podman") is None:
        parser.error("ansible-playbook and podman must be on PATH")
    if subprocess.run(["podman", "image", "exists", args.image], check=False).returncode != 0:
        parser.error("image %s not found; build it with molecule/resources/build-image.sh %s bookworm"
                     % (args.image, args.image))

    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", os.path.join(ROOT, "molecule", "resources", "containers.conf"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, "build", "collections"))
    env.setdefault("ANSIBLE_REMOTE_TMP", "/root/.ansible/tmp")
    env["ANSIBLE_NOCOLOR"] = "1"
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]

    # SIGTERM would skip the cleanup; make it unwind like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)

    work = tempfile.mkdtemp(prefix="sev-snp-bench.")
    results = {}
    try:
        inventory = os.path.join(work, "inventory.json")
        floor = os.path.join(work, "floor.yml")
        literal = os.path.join(work, "literal.yml")
        write_playbook(floor, floor_playbook())
        write_playbook(literal, literal_playbook())
        report_dir = os.path.join(work, "report")

        print("starting %d containers from %s ..." % (args.hosts, args.image), flush=True)
        with Containers(args.image, args.hosts, args.transport) as containers:
            write_inventory(inventory, containers)
            # Untimed: the first contact mounts every container and warms caches.
            run_playbook("warmup", floor, inventory, args.forks, env, work)
            results["floor"] = run_playbook("floor", floor, inventory, args.forks, env, work)
            results["literal"] = run_playbook("literal", literal, inventory, args.forks, env, work)
            results["check_host"] = run_playbook("check_host", CHECK_PLAYBOOK, inventory, args.forks, env, work,
                                                 ["-e", "sev_snp_report_dir=" + report_dir])
        with open(os.path.join(report_dir, "fleet.json")) as handle:
            rows = len(json.load(handle)["hosts"])
        if rows != args.hosts:
            raise RuntimeError("check_host reported %d hosts out of %d" % (rows, args.hosts))
    except KeyboardInterrupt:
        print("interrupted; containers removed", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.CalledProcessError, OSError, ValueError, KeyError) as exc:
        print("benchmark failed: %s" % exc, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor_wall = results["floor"].wall
    literal_wall = results["literal"].wall
    check_wall = results["check_host"].wall
    print()
    print("%d hosts, forks %d, transport %s" % (args.hosts, args.forks, args.transport))
    columns = ("playbook", "wall s", "tasks/host", "ratio", "ansible CPU s", "other CPU s")
    print("%-12s %8s %11s %12s %13s %11s" % columns)
    for label, note in (("floor", "1.00 (floor)"), ("literal", None), ("check_host", None)):
        run = results[label]
        ratio = note or "%.2f" % (run.wall / floor_wall)
        row = (label, run.wall, run.per_host, ratio, run.ansible_cpu, run.other_cpu)
        print("%-12s %8.1f %11.1f %12s %13.1f %11.1f" % row)
    speedup = literal_wall / check_wall
    ratio = check_wall / floor_wall
    print()
    failures = []
    print("check_host vs literal: %.1fx faster (target >= %.1fx)" % (speedup, MIN_SPEEDUP_OVER_LITERAL))
    if speedup < MIN_SPEEDUP_OVER_LITERAL:
        failures.append("check_host is only %.1fx faster than the literal playbook" % speedup)
    print("check_host vs floor:   %.2fx (target <= %.1fx)" % (ratio, MAX_RATIO_TO_FLOOR))
    if ratio > MAX_RATIO_TO_FLOOR:
        failures.append("check_host takes %.2fx the one-task floor" % ratio)
    for failure in failures:
        print("TARGET MISSED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
