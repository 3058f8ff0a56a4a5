#!/usr/bin/env bash
# The whole suite, as `make test` runs it: dependencies and images first, then every step.
# The vm scenario (a QEMU guest under software emulation, mostly one core busy for about
# twenty minutes) runs beside the other steps: it shares nothing with them (its own VM on a copy of
# the cached disk, its own SSH port and Molecule state), so running it alongside is the same
# test, not a weaker one. Its output goes to build/logs/suite-vm.log and is printed when it
# ends; the suite fails if it fails. SUITE_STEPS and SUITE_SCENARIOS select parts.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=${SUITE_STEPS:-unit lint sanity docs release compat}
scenarios=${SUITE_SCENARIOS:-$(make --no-print-directory -s print-scenarios)}
side=""
front=""
for s in $scenarios; do
  if [ "$s" = vm ]; then side=vm; else front="$front $s"; fi
done

total=$(date +%s)
make --no-print-directory deps images
mkdir -p build/logs

vm_pid=""
cleanup() {
  if [ -n "$vm_pid" ] && kill -0 "$vm_pid" 2>/dev/null; then
    echo "== stopping the vm scenario (the suite stopped early)"
    kill -- -"$vm_pid" 2>/dev/null || kill "$vm_pid" 2>/dev/null || true
    wait "$vm_pid" 2>/dev/null || true
    # QEMU daemonizes out of that group: Molecule's destroy stops the VM.
    make --no-print-directory molecule-destroy SCENARIOS=vm >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [ -n "$side" ]; then
  echo "== molecule scenario vm: started beside the other steps (log: build/logs/suite-vm.log)"
  # setsid: its own process group, so an early stop of the suite can end all of it.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'start=$(date +%s); rc=0; make --no-print-directory molecule-run SCENARIOS=vm || rc=$?;
    echo "molecule scenario vm: $(( $(date +%s) - start )) s, exit $rc"; exit $rc' \
    > build/logs/suite-vm.log 2>&1 &
  vm_pid=$!
fi

for step in $steps; do
  start=$(date +%s)
  make --no-print-directory "$step"
  echo "== $step: $(( $(date +%s) - start )) s"
done
if [ -n "${front# }" ]; then
  start=$(date +%s)
  make --no-print-directory molecule-run SCENARIOS="${front# }"
  echo "== molecule ($front ): $(( $(date +%s) - start )) s"
fi

if [ -n "$vm_pid" ]; then
  echo "== waiting for the vm scenario"
  rc=0; wait "$vm_pid" || rc=$?
  vm_pid=""
  echo "== molecule scenario vm output (build/logs/suite-vm.log):"
  cat build/logs/suite-vm.log
  if [ "$rc" -ne 0 ]; then
    echo "== the vm scenario failed (exit $rc)"
    exit "$rc"
  fi
fi
echo "== all tests passed in $(( $(date +%s) - total )) s"
