#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, coco.sev_snp maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wall time of check_host and enable_host against the one-task floor, in one run on the same hosts.

Starts N podman containers (systemd as PID 1), prepares each as a stock host (a GRUB file
with iommu=pt, the bootloader stand-in; molecule/resources/prepare-host.yml) and runs, with
the same forks and the containers.podman.podman connection:

  floor           one trivial task per host
  check_host      playbooks/check_host.yml
  enable first    playbooks/enable_host.yml on the stock hosts (one batch; a container is
                  never rebooted, so this is the no-reboot path)
  enable re-run   the same again, nothing left to change
  literal first   BASELINE scripts/bench_literal_enable.yml (the chapter's steps typed
                  literally) on hosts prepared again
  literal re-run  the same again

The whole sequence runs --repeat times (default 3) and each figure is its playbook's fastest
run. Prints each as a ratio to the floor, with the CPU seconds it cost on this machine (ansible:
ansible-playbook and what it runs; other: the rest of the machine, with transport ssh mostly the
hosts' own module runs), and exits 1 when a goal is missed: enable re-run <= 2x the floor and no
slower than the literal re-run, enable first run <= 3x, check_host <= 1.2x.

  scripts/bench_enable_host.py [--hosts 20] [--forks 10] [--repeat 3] [--transport podman|ssh] [--image IMAGE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_check_host import (  # noqa: E402 (after the path above)
    CHECK_PLAYBOOK,
    ROOT,
    TRANSPORTS,
    Containers,
    _interrupt,
    floor_playbook,
    run_playbook,
    write_inventory,
    write_playbook,
)

ENABLE_PLAYBOOK = os.path.join(ROOT, "playbooks", "enable_host.yml")
LITERAL_PLAYBOOK = os.path.join(ROOT, "scripts", "bench_literal_enable.yml")
PREPARE_PLAYBOOK = os.path.join(ROOT, "molecule", "resources", "prepare-host.yml")
BOOTLOADER = "update-grub"
GOALS = (
    # (label, limit as a ratio to the floor)
    ("check_host", 1.2),
    ("enable first", 3.0),
    ("enable re-run", 2.0),
)
ENABLE_VARS = [
    "sev_snp_target=all", "sev_snp_serial=100%", "sev_snp_become=false", "sev_snp_host_cpu_check=warn",
    "sev_snp_host_gate=false", "sev_snp_host_reboot_ok=true", "sev_snp_host_bootloader_command=" + BOOTLOADER,
    # A container always waits for a reboot of the machine that runs it: not a failure here.
    "sev_snp_allow_pending_reboot=true",
]


def _extra(pairs):
    args = []
    for pair in pairs:
        args += ["-e", pair]
    return args


def prepare(inventory, forks, env, work):
    """Untimed: stock GRUB file, bootloader stand-in, no msr.conf."""
    run_playbook("prepare", PREPARE_PLAYBOOK, inventory, forks, env, work,
                 _extra(["molecule_bootloader_command=" + BOOTLOADER]))
    reset = os.path.join(work, "reset.yml")
    remove = {"path": "/etc/modules-load.d/msr.conf", "state": "absent"}
    write_playbook(reset, [{"name": "No msr.conf", "hosts": "all", "gather_facts": False,
                            "tasks": [{"name": "Remove msr.conf", "ansible.builtin.file": remove}]}])
    run_playbook("reset", reset, inventory, forks, env, work)


def _keep_fastest(results, label, run):
    if label not in results or run.wall < results[label].wall:
        results[label] = run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--hosts", type=int, default=20, help="number of containers (default 20)")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks (default 10)")
    parser.add_argument("--image", default=os.environ.get("SEV_SNP_TEST_IMAGE", "localhost/sev-snp-test:bookworm"))
    parser.add_argument("--transport", choices=TRANSPORTS, default="podman",
                        help="podman exec, or ssh to sshd in each container on a loopback port, with "
                             "ControlPersist and pipelining (default podman)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="run the whole sequence this many times and keep each playbook's fastest run "
                             "(default 3; 1 for a quick look)")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.forks < 1 or args.repeat < 1:
        parser.error("--hosts, --forks and --repeat must be at least 1")
    if shutil.which("ansible-playbook") is None or shutil.which("podman") is None:
        parser.error("ansible-playbook and podman must be on PATH")
    if subprocess.run(["podman", "image", "exists", args.image], check=False).returncode != 0:
        parser.error("image %s not found; build it with `make images`" % args.image)

    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", os.path.join(ROOT, "molecule", "resources", "containers.conf"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, "build", "collections"))
    env.setdefault("ANSIBLE_ROLES_PATH", os.path.join(ROOT, "roles"))
    env.setdefault("ANSIBLE_REMOTE_TMP", "/root/.ansible/tmp")
    env["ANSIBLE_NOCOLOR"] = "1"
    os.environ["CONTAINERS_CONF"] = env["CONTAINERS_CONF"]
    signal.signal(signal.SIGTERM, _interrupt)

    work = tempfile.mkdtemp(prefix="sev-snp-bench.")
    results = {}
    try:
        inventory = os.path.join(work, "inventory.json")
        floor = os.path.join(work, "floor.yml")
        write_playbook(floor, floor_playbook())
        report = ["-e", "sev_snp_report_dir=" + os.path.join(work, "report")]
        print("starting %d containers from %s ..." % (args.hosts, args.image), flush=True)
        with Containers(args.image, args.hosts, args.transport) as containers:
            write_inventory(inventory, containers)
            run_playbook("warmup", floor, inventory, args.forks, env, work)
            # The sequence again and again, on hosts prepared afresh each time; a figure is its
            # playbook's fastest run, so that one slow moment of a shared machine does not decide
            # a ratio (the floor too: the ratios compare best with best).
            for _repetition in range(args.repeat):
                prepare(inventory, args.forks, env, work)
                _keep_fastest(results, "floor", run_playbook("floor", floor, inventory, args.forks, env, work))
                _keep_fastest(results, "check_host", run_playbook("check_host", CHECK_PLAYBOOK, inventory,
                                                                  args.forks, env, work, report))
                for label in ("enable first", "enable re-run"):
                    _keep_fastest(results, label, run_playbook(label.replace(" ", "_"), ENABLE_PLAYBOOK, inventory,
                                                               args.forks, env, work, _extra(ENABLE_VARS)))
                prepare(inventory, args.forks, env, work)
                for label in ("literal first", "literal re-run"):
                    _keep_fastest(results, label, run_playbook(label.replace(" ", "_"), LITERAL_PLAYBOOK, inventory,
                                                               args.forks, env, work,
                                                               _extra(["bench_bootloader_command=" + BOOTLOADER])))
    except KeyboardInterrupt:
        print("interrupted; containers removed", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.CalledProcessError, OSError, ValueError, KeyError) as exc:
        print("benchmark failed: %s" % exc, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)

    floor_wall = results["floor"].wall
    print()
    print("%d hosts, forks %d, transport %s, fastest of %d run(s) each"
          % (args.hosts, args.forks, args.transport, args.repeat))
    columns = ("playbook", "wall s", "tasks/host", "ratio", "ansible CPU s", "other CPU s")
    print("%-16s %8s %11s %8s %13s %11s" % columns)
    for label in ("floor", "check_host", "enable first", "enable re-run", "literal first", "literal re-run"):
        run = results[label]
        note = "  (baseline)" if label.startswith("literal") else ""
        row = (label, run.wall, run.per_host, run.wall / floor_wall, run.ansible_cpu, run.other_cpu, note)
        print("%-16s %8.1f %11.1f %8.2f %13.1f %11.1f%s" % row)
    failures = []
    for label, limit in GOALS:
        ratio = results[label].wall / floor_wall
        if ratio > limit:
            failures.append("%s takes %.2fx the floor (goal <= %.1fx)" % (label, ratio, limit))
    if results["enable re-run"].wall > results["literal re-run"].wall:
        failures.append("enable re-run (%.1f s) is slower than the literal re-run (%.1f s)"
                        % (results["enable re-run"].wall, results["literal re-run"].wall))
    for failure in failures:
        print("GOAL MISSED: " + failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
