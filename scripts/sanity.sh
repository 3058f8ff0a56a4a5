#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection.
#
# ansible-test only accepts a collection that sits at .../ansible_collections/coco/sev_snp,
# so the files git knows about (tracked, plus untracked ones that are not ignored) are
# copied to build/sanity/ansible_collections/coco/sev_snp and the suite runs there.
# The collections listed in galaxy.yml `dependencies` are linked next to it from the
# `ansible` package, because ansible-test points ANSIBLE_COLLECTIONS_PATH at that root only.
#
# Usage: scripts/sanity.sh [extra ansible-test sanity arguments, e.g. --test pylint]
# Environment: VENV (default .venv of the checkout).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
BIN="$VENV/bin"
SANITY_ROOT="$ROOT/build/sanity"
DEST="$SANITY_ROOT/ansible_collections/coco/sev_snp"
started=$SECONDS

for tool in ansible-test python; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "sanity: $BIN/$tool not found; run 'make venv' first (or set VENV=...)" >&2
    exit 2
  fi
done
command -v rsync >/dev/null || { echo "sanity: rsync is missing; run 'make apt'" >&2; exit 2; }

python_version="$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
site_packages="$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# --- copy the collection --------------------------------------------------------------
rm -rf "$DEST"
mkdir -p "$DEST"
(
  cd "$ROOT"
  # `git ls-files -c` still lists files deleted in the work tree; keep existing ones only.
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
  done
) | rsync -a --from0 --files-from=- "$ROOT/" "$DEST/"
# ansible-test lists content with git from the nearest .git upwards; without one of its
# own the copy would be seen through the checkout, where build/ is ignored.
git -C "$DEST" init -q

# --- dependencies next to it -----------------------------------------------------------
deps="$("$BIN/python" - "$ROOT/galaxy.yml" <<'PY'
import sys
import yaml
with open(sys.argv[1], encoding="utf-8") as handle:
    galaxy = yaml.safe_load(handle)
print(" ".join(sorted((galaxy.get("dependencies") or {}).keys())))
PY
)"
for dep in $deps; do
  namespace="${dep%%.*}"
  name="${dep#*.}"
  source="$site_packages/ansible_collections/$namespace/$name"
  if [ ! -d "$source" ]; then
    echo "sanity: dependency $dep is not installed in $site_packages (install the 'ansible' package)" >&2
    exit 2
  fi
  mkdir -p "$SANITY_ROOT/ansible_collections/$namespace"
  ln -sfn "$source" "$SANITY_ROOT/ansible_collections/$namespace/$name"
done

# --- offline stand-in for pip's bootstrap script ---------------------------------------
# ansible-test bootstraps pip in each sanity virtualenv with a get-pip.py it downloads
# from a host outside the Python package index, and uses a cached copy when one exists.
# This writes an OFFLINE STAND-IN for that cached copy: it installs pip from the
# interpreter's bundled wheel (ensurepip) and then runs `pip install` with the very
# arguments ansible-test passed, so the pinned pip comes from the package index instead.
# A real get-pip.py already in the cache is left alone.
pip_version="$("$BIN/python" - <<'PY'
import re
from ansible_test._internal import python_requirements
source = open(python_requirements.__file__, encoding="utf-8").read()
print(re.search(r"default_packages = dict\(\s*pip='([^']+)'", source).group(1))
PY
)"
cache_dir="$HOME/.ansible/test/cache"
get_pip="$cache_dir/get_pip_${pip_version//./_}.py"
marker="# coco.sev_snp offline stand-in for get-pip.py"
if [ ! -e "$get_pip" ] || grep -qF "$marker" "$get_pip"; then
  mkdir -p "$cache_dir"
  cat > "$get_pip.tmp" <<PY
$marker
# Installs pip with ensurepip, then pip-installs the arguments ansible-test passed.
import subprocess
import sys

# get-pip.py understands these two options; pip itself does not.
GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")
arguments = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + arguments))
PY
  mv "$get_pip.tmp" "$get_pip"
fi

# --- host-side code on the oldest Python managed hosts run --------------------------------
# ansible-test's compile test only covers the Pythons installed here; modules and
# module_utils run on the managed host's Python, which may be as old as 3.8.
status=0
if [ -x "$BIN/vermin" ]; then
  echo "sanity: host-side code (plugins/modules, plugins/module_utils) against Python 3.8"
  "$BIN/vermin" -q -t=3.8- --violations --no-tips --backport typing \
    "$ROOT/plugins/modules" "$ROOT/plugins/module_utils" || status=$?
  if [ "$status" != 0 ]; then
    echo "sanity: host-side code needs a Python newer than 3.8 (see above)" >&2
  fi
else
  echo "sanity: $BIN/vermin not found; 'make venv' installs it" >&2
  status=2
fi

# --- run ---------------------------------------------------------------------------------
echo "sanity: ansible-test sanity --python $python_version in $DEST"
(
  cd "$DEST"
  # ansible-test passes the environment on to the sanity virtualenvs; keep the checkout's
  # collection link and remote tmp from leaking into them.
  unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH
  "$BIN/ansible-test" sanity --python "$python_version" --requirements --color no "$@"
) || status=$?
echo "sanity: finished in $((SECONDS - started)) s (exit $status)"
exit "$status"
