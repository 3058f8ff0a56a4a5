#!/usr/bin/env bash
# Runs the Molecule scenarios named as arguments, one after another. Each one's output goes to
# the terminal and to build/logs/molecule-<scenario>.log. When one fails, the run stops and
# its failed tasks and assertions are repeated at the end, so the last screen of a long log
# says what broke.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
bin=${BIN:-.venv/bin}
mkdir -p build/logs
for s in "$@"; do
  start=$(date +%s)
  log="build/logs/molecule-$s.log"
  "$bin/molecule" test -s "$s" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  echo "molecule scenario $s: $(( $(date +%s) - start )) s"
  if [ "$rc" -ne 0 ]; then
    echo "== molecule scenario $s failed (exit $rc). What failed (full log: $log):"
    grep -E -A6 '^fatal:|^failed:|FAILED!|^\[ERROR\]|^CRITICAL|^FAILED |^E   ' "$log" | tail -n 100
    exit "$rc"
  fi
done
