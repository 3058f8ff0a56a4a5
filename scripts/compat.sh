#!/usr/bin/env bash
# Check the collection under the lowest ansible-core that meta/runtime.yml claims (2.16).
#
#   scripts/compat.sh
#
# Creates build/venv-ansible-2.16 (ansible-core 2.16.x, pytest, cryptography) once, then
# with that ansible-core: ansible-doc of every module, filter, test and role; a syntax
# check of every playbook; `playbooks/check_host.yml` against localhost;
# tests/release/installed_collection.yml (kernel_cmdline in check mode and for real on a
# temp file, through the sev_snp action group); and the unit tests.
# The collection is the checkout (build/collections link); its dependencies come from the
# main venv's `ansible` package, since Galaxy is not needed for a compatibility check.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CORE_SERIES="${CORE_SERIES:-2.16}"
OLD="$ROOT/build/venv-ansible-$CORE_SERIES"
COLLECTIONS="$ROOT/build/collections"
LINK="$COLLECTIONS/ansible_collections/coco/sev_snp"
WORK="$ROOT/build/compat-$CORE_SERIES"
started=$SECONDS
step() { echo "compat: [$((SECONDS - started)) s] $*"; }

[ -x "$VENV/bin/python" ] || { echo "compat: $VENV/bin/python not found; run 'make venv' first" >&2; exit 2; }

# The pins of requirements-test.txt for the test tools, so both runs use the same ones.
pin() { grep -E "^$1==" "$ROOT/requirements-test.txt" || echo "$1"; }
wanted="ansible-core==$CORE_SERIES.* $(pin pytest) $(pin cryptography)"
if [ ! -f "$OLD/.installed" ] || [ "$(cat "$OLD/.installed")" != "$wanted" ]; then
  step "creating $OLD ($wanted)"
  rm -rf "$OLD"
  "$VENV/bin/python" -m venv "$OLD"
  # shellcheck disable=SC2086  # $wanted is a list of requirement specifiers
  "$OLD/bin/pip" install -q --disable-pip-version-check $wanted
  echo "$wanted" > "$OLD/.installed"
fi
BIN="$OLD/bin"
version="$("$BIN/ansible" --version)"
version="${version%%$'\n'*}"
step "$version"
case "$version" in
  *"core $CORE_SERIES."*) ;;
  *) echo "compat: expected ansible-core $CORE_SERIES.x in $OLD" >&2; exit 1 ;;
esac

deps="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$(dirname "$LINK")"
[ -L "$LINK" ] || ln -sfn "$ROOT" "$LINK"
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
printf "[defaults]\n" > "$WORK/ansible.cfg"
export ANSIBLE_CONFIG="$WORK/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS:$deps"
unset ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH
export ANSIBLE_LOCAL_TEMP="$WORK/tmp" ANSIBLE_REMOTE_TMP="$WORK/remote-tmp"
export ANSIBLE_PYTHON_INTERPRETER="$BIN/python" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# Newer community.* collections from the `ansible` package announce that they want a
# newer ansible-core; that is about them, not about this collection.
export ANSIBLE_COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH=ignore
export PATH="$BIN:$PATH"

step "ansible-doc of every plugin and role"
# Every plugin is tried and the failures are reported together; the later steps still run.
checked=0
doc_failures=()
for type in module filter test role; do
  ansible-doc -t "$type" --list --json coco.sev_snp > "$WORK/list-$type.json"
  names="$(python -c 'import json, sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$WORK/list-$type.json")"
  for name in $names; do
    if ! ansible-doc -t "$type" "$name" > "$WORK/doc-$type-$name.txt" 2> "$WORK/doc-$type-$name.err" \
       || grep -q "WARNING\|ERROR" "$WORK/doc-$type-$name.err"; then
      echo "compat: ansible-doc -t $type $name under $version:" >&2
      cat "$WORK/doc-$type-$name.err" >&2
      doc_failures+=("ansible-doc -t $type $name")
      continue
    fi
    checked=$((checked + 1))
  done
done
step "ansible-doc: $checked plugins and roles render"

step "ansible-playbook --syntax-check of every playbook"
for playbook in "$ROOT"/playbooks/*.yml; do
  ansible-playbook --syntax-check -i localhost, "$playbook" > /dev/null
  echo "  $(basename "$playbook"): ok"
done

step "ansible-playbook playbooks/check_host.yml -i localhost, -c local"
ansible-playbook -i localhost, -c local "$ROOT/playbooks/check_host.yml" \
  -e sev_snp_report_dir="$WORK/report"
[ -s "$WORK/report/fleet.json" ] || { echo "compat: check_host wrote no fleet.json" >&2; exit 1; }

step "ansible-playbook tests/release/installed_collection.yml"
RELEASE_CHECK_DIR="$WORK" ansible-playbook -i localhost, -c local \
  "$ROOT/tests/release/installed_collection.yml"

# Some unit tests drive modules through test helpers that only newer ansible-core has
# (ansible.module_utils.testing.patch_module_args, ansible.template.trust_as_template).
# Those files are left out here, by name in the output; the modules they cover ran above
# under this ansible-core through ansible-doc and the playbooks, and every other test runs.
step "unit tests"
cd "$ROOT"
harness='ansible\.module_utils\.testing|trust_as_template'
mapfile -t helpers < <(grep -rlE "$harness" tests/unit --include='*.py' | grep -v '/test_[^/]*\.py$' \
  | xargs -r -n1 basename | sed 's/\.py$//')
ignored=()
while IFS= read -r test_file; do
  uses_new_harness=false
  if grep -qE "$harness" "$test_file"; then
    uses_new_harness=true
  fi
  for helper in "${helpers[@]}"; do
    if grep -qE "(import|from) +([a-z_.]*\.)?$helper\b" "$test_file"; then
      uses_new_harness=true
    fi
  done
  if $uses_new_harness; then
    ignored+=("--ignore=$test_file")
    echo "  not run under $CORE_SERIES (needs newer test helpers): $test_file"
  fi
done < <(find tests/unit -name 'test_*.py' | sort)
"$BIN/pytest" -q -p no:cacheprovider "${ignored[@]}" tests/unit
if [ "${#doc_failures[@]}" != 0 ]; then
  echo "compat: FAILED under $version, documentation that does not render:" >&2
  printf '  %s\n' "${doc_failures[@]}" >&2
  exit 1
fi
step "done: ansible-core $CORE_SERIES passes"
