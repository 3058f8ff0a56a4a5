#!/usr/bin/env bash
# Build the release tarball and prove that what ships works once installed.
#
#   scripts/release.sh
#
# 1. Copies the files git knows about (tracked, plus untracked ones that are not ignored)
#    to build/release/src/ansible_collections/coco/sev_snp, lints the changelog fragments
#    and assembles the changelog for the version in galaxy.yml there (the checkout's
#    changelogs/ stay as they are; cutting a real release runs
#    `antsibull-changelog release` in the checkout and commits the result).
# 2. `ansible-galaxy collection build` -> build/release/coco-sev_snp-<version>.tar.gz
# 3. Installs the tarball the way README's "Quick start for operators" says, offline:
#    `ansible-galaxy collection install -r requirements.yml` with docs/examples/requirements.yml,
#    its coco.sev_snp entry pointing at the tarball (the dependency collections come from the
#    `ansible` package on sys.path), into an empty directory. Then, with
#    ANSIBLE_COLLECTIONS_PATH pointing only there and outside the checkout: the quick start's
#    fleet commands against a copy of docs/examples/inventory (--list-hosts: its hosts do not
#    exist), a misspelt variable that must fail,
#    ansible-doc of every module/filter/test/role, `ansible-playbook coco.sev_snp.check_host`
#    against localhost, and tests/release/installed_collection.yml (kernel_cmdline in check
#    mode and for real on a temp file, through the sev_snp action group).
# 4. `ansible-builder create` of execution-environment.yml and `ansible-builder introspect`
#    of the installed copy: the build context is complete and the collection's Python and
#    system requirements are found. (Building the image needs a base image from a container
#    registry: ansible-builder build -f execution-environment.yml -t sev-snp-ee:latest.)
# 5. galaxy-importer (the check Galaxy runs on an upload) on the tarball, offline, in its own
#    venv (build/galaxy-importer/venv: it pins its own ansible-core and ansible-lint, which
#    must not leak into .venv), with the `ansible` package of requirements-test.txt beside it
#    so that the declared dependencies resolve as on an operator's controller. Its
#    ansible-test step is off here: galaxy-importer would run `ansible-test sanity --docker`
#    with an image from a registry; `make sanity` runs the same sanity tests locally.
#    Any error fails the release; its warnings are printed (there should be none).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
BIN="$VENV/bin"
OUT="$ROOT/build/release"
SRC="$OUT/src/ansible_collections/coco/sev_snp"
INSTALL="$OUT/installed"
WORK="$OUT/work"
GALAXY_IMPORTER_VERSION=0.4.44
IMPORTER_VENV="${IMPORTER_VENV:-$ROOT/build/galaxy-importer/venv}"
started=$SECONDS

for tool in ansible-galaxy ansible-doc ansible-playbook antsibull-changelog ansible-builder python; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "release: $BIN/$tool not found; run 'make venv' first (or set VENV=...)" >&2
    exit 2
  fi
done
command -v rsync >/dev/null || { echo "release: rsync is missing; run 'make apt'" >&2; exit 2; }
export PATH="$BIN:$PATH"
step() { echo "release: [$((SECONDS - started)) s] $*"; }

read -r version <<<"$("$BIN/python" - "$ROOT/galaxy.yml" <<'PY'
import sys
import yaml
with open(sys.argv[1], encoding="utf-8") as handle:
    print(yaml.safe_load(handle)["version"])
PY
)"

# --- 1. clean copy and changelog ----------------------------------------------------------
step "copying the collection (version $version)"
rm -rf "$OUT"
mkdir -p "$SRC" "$INSTALL" "$WORK"
(
  cd "$ROOT"
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
  done
) | rsync -a --from0 --files-from=- "$ROOT/" "$SRC/"
# antsibull-changelog lists the collection's files with git from the nearest .git upwards;
# without one of its own the copy would be seen through the checkout, where build/ is
# ignored, and no plugin would be found.
git -C "$SRC" init -q

step "antsibull-changelog lint + release --version $version (in the copy)"
(
  cd "$SRC"
  antsibull-changelog lint
  ANSIBLE_COLLECTIONS_PATH="$OUT/src" antsibull-changelog release --version "$version"
  grep -q '^### New Modules' CHANGELOG.md || {
    echo "release: CHANGELOG.md lists no new modules; antsibull-changelog found no plugins" >&2; exit 1; }
  # The cache is antsibull-changelog's own, not part of the release.
  rm -f changelogs/.plugin-cache.yaml
  rm -rf .git
)

# --- 2. build ------------------------------------------------------------------------------
step "ansible-galaxy collection build"
ansible-galaxy collection build --force --output-path "$OUT" "$SRC"
tarball="$OUT/coco-sev_snp-$version.tar.gz"
[ -s "$tarball" ] || { echo "release: $tarball was not built" >&2; exit 1; }
# Nothing of the development tree may ship.
if tar -tzf "$tarball" | grep -E '^(\.venv|build|\.ci|\.cache|\.git|tests/output|\.pytest_cache)/'; then
  echo "release: the tarball contains development files (see above); fix build_ignore in galaxy.yml" >&2
  exit 1
fi

# --- 3. install into an empty path and use it ------------------------------------------------
step "ansible-galaxy collection install --offline into $INSTALL"
# Outside the checkout, with no ansible.cfg, so that only the installed copy can be found.
cd "$WORK"
printf "[defaults]\n" > "$WORK/ansible.cfg"
export ANSIBLE_CONFIG="$WORK/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$INSTALL"
unset ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH
export ANSIBLE_LOCAL_TEMP="$WORK/tmp" ANSIBLE_REMOTE_TMP="$WORK/remote-tmp"
# localhost runs the modules with the controller's Python, as `-c local` users expect.
export ANSIBLE_PYTHON_INTERPRETER="$BIN/python" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
# The operator's requirements.yml, with the release tarball in place of Galaxy.
python - "$ROOT/docs/examples/requirements.yml" "$tarball" "$WORK/requirements.yml" <<'PY'
import sys
import yaml
with open(sys.argv[1], encoding="utf-8") as handle:
    requirements = yaml.safe_load(handle)
entries = requirements["collections"]
own = [entry for entry in entries if entry["name"] == "coco.sev_snp"]
if len(own) != 1:
    sys.exit("release: docs/examples/requirements.yml must list coco.sev_snp once: %r" % entries)
own[0].clear()
own[0].update(name=sys.argv[2], type="file")
with open(sys.argv[3], "w", encoding="utf-8") as handle:
    yaml.safe_dump(requirements, handle)
PY
ansible-galaxy collection install --offline -p "$INSTALL" -r "$WORK/requirements.yml"
installed="$INSTALL/ansible_collections/coco/sev_snp"
[ -f "$installed/MANIFEST.json" ] || { echo "release: $installed/MANIFEST.json missing" >&2; exit 1; }
ansible-galaxy collection list coco.sev_snp | tee "$WORK/collection-list.txt"
grep -qF "$INSTALL/ansible_collections" "$WORK/collection-list.txt" || {
  echo "release: coco.sev_snp is not found in $INSTALL" >&2; exit 1; }
if [ "$(grep -c '^coco\.sev_snp ' "$WORK/collection-list.txt")" != 1 ]; then
  echo "release: more than one coco.sev_snp is visible; the check would not test the tarball" >&2
  exit 1
fi

step "ansible-doc of every plugin and role of the installed copy"
# Every plugin is tried and the failures are reported together; the later steps still run.
doc_failures=()
for type in module filter test role; do
  ansible-doc -t "$type" --list --json coco.sev_snp > "$WORK/list-$type.json"
  names="$(python -c 'import json, sys; print(" ".join(sorted(json.load(open(sys.argv[1])))))' "$WORK/list-$type.json")"
  for name in $names; do
    if ! ansible-doc -t "$type" "$name" > "$WORK/doc-$type-$name.txt" 2> "$WORK/doc-$type-$name.err" \
       || grep -q "WARNING\|ERROR" "$WORK/doc-$type-$name.err"; then
      echo "release: ansible-doc -t $type $name:" >&2
      cat "$WORK/doc-$type-$name.err" >&2
      doc_failures+=("ansible-doc -t $type $name")
      continue
    fi
    echo "  ansible-doc -t $type $name: ok"
  done
done

step "the quick start's commands against the example inventory (--list-hosts)"
cp -r "$ROOT/docs/examples/inventory" "$WORK/inventory"
mapfile -t quick_start < <(sed -n '/^## Quick start for operators/,/^## /p' "$ROOT/README.md" \
  | grep -E '^ansible-playbook -i inventory coco\.sev_snp\.' | sed 's/ *#.*$//')
[ "${#quick_start[@]}" = 4 ] || {
  echo "release: README's quick start should show 4 fleet commands, found ${#quick_start[@]}" >&2; exit 1; }
for command in "${quick_start[@]}"; do
  read -r -a words <<<"$command"
  "${words[@]}" --list-hosts > "$WORK/quick-start.txt"
  grep -q 'example.net' "$WORK/quick-start.txt" || {
    echo "release: '$command' targets no host of the example inventory:" >&2; cat "$WORK/quick-start.txt" >&2; exit 1; }
  echo "  $command: ok"
done
# A misspelt variable must stop the run on the controller, before any (here unresolvable) host.
if ansible-playbook -i "$WORK/inventory" coco.sev_snp.enable_host -e sev_snp_reboot_ok=true \
     > "$WORK/typo.txt" 2>&1; then
  echo "release: enable_host accepted -e sev_snp_reboot_ok=true" >&2; exit 1
fi
grep -q 'did you mean sev_snp_host_reboot_ok' "$WORK/typo.txt" || {
  echo "release: the misspelt variable was not named:" >&2; tail -20 "$WORK/typo.txt" >&2; exit 1; }

step "ansible-playbook coco.sev_snp.check_host -i localhost, -c local"
ansible-playbook coco.sev_snp.check_host -i localhost, -c local \
  -e sev_snp_report_dir="$WORK/report"
for report in fleet.json fleet.md fleet.html; do
  [ -s "$WORK/report/$report" ] || { echo "release: check_host wrote no $report" >&2; exit 1; }
done
# The report keeps hosts whose facts module failed; here it must have run.
python - "$WORK/report/fleet.json" <<'PY'
import json
import sys
with open(sys.argv[1], encoding="utf-8") as handle:
    rows = json.load(handle)["hosts"]
if [row["host"] for row in rows] != ["localhost"] or rows[0]["error"]:
    sys.exit("release: check_host did not read localhost: %r" % rows)
PY

step "ansible-playbook tests/release/installed_collection.yml"
RELEASE_CHECK_DIR="$WORK" ansible-playbook -i localhost, -c local \
  "$ROOT/tests/release/installed_collection.yml"

# --- 4. execution environment -----------------------------------------------------------------
step "ansible-builder create + introspect"
ansible-builder create -f "$ROOT/execution-environment.yml" -c "$OUT/ee-context" >/dev/null
for f in Containerfile _build/requirements.yml _build/requirements.txt _build/bindep.txt; do
  [ -s "$OUT/ee-context/$f" ] || { echo "release: the EE build context lacks $f" >&2; exit 1; }
done
ansible-builder introspect --sanitize "$INSTALL" > "$WORK/introspect.txt"
for needed in cryptography libvirt-python lxml libvirt-devel; do
  grep -q "$needed" "$WORK/introspect.txt" || {
    echo "release: ansible-builder introspect does not see $needed in the installed collection" >&2
    cat "$WORK/introspect.txt" >&2; exit 1; }
done

# --- 5. galaxy-importer ------------------------------------------------------------------------
step "galaxy-importer $GALAXY_IMPORTER_VERSION on the tarball (own venv: $IMPORTER_VENV)"
ansible_pin="$(grep -E '^ansible==' "$ROOT/requirements-test.txt")"
if [ "$(cat "$IMPORTER_VENV/.installed" 2>/dev/null)" != "galaxy-importer==$GALAXY_IMPORTER_VERSION $ansible_pin" ]; then
  rm -rf "$IMPORTER_VENV"
  "${PYTHON:-python3}" -m venv "$IMPORTER_VENV"
  "$IMPORTER_VENV/bin/pip" install -q --disable-pip-version-check \
    "galaxy-importer==$GALAXY_IMPORTER_VERSION" "$ansible_pin" > "$OUT/importer-pip.log" 2>&1 || {
    echo "release: could not install galaxy-importer into $IMPORTER_VENV:" >&2
    grep -v 'is ignored: it is neither' "$OUT/importer-pip.log" | tail -20 >&2; exit 1; }
  echo "galaxy-importer==$GALAXY_IMPORTER_VERSION $ansible_pin" > "$IMPORTER_VENV/.installed"
fi
importer_dir="$OUT/galaxy-importer"
mkdir -p "$importer_dir/tmp"
cat > "$importer_dir/galaxy-importer.cfg" <<CFG
[galaxy-importer]
run_ansible_test = false
run_ansible_doc = true
run_ansible_lint = true
offline_ansible_lint = true
check_changelog = true
ansible_local_tmp = $importer_dir/tmp
tmp_root_dir = $importer_dir/tmp
CFG
# A clean environment: only the importer's venv on PATH, no collections path of ours.
set +e
(cd "$importer_dir" && env -i HOME="$HOME" LANG=C.UTF-8 PATH="$IMPORTER_VENV/bin:/usr/bin:/bin" \
   GALAXY_IMPORTER_CONFIG="$importer_dir/galaxy-importer.cfg" \
   "$IMPORTER_VENV/bin/python" -m galaxy_importer.main "$tarball") > "$importer_dir/importer.log" 2>&1
importer_rc=$?
set -e
grep -E '^(WARNING|ERROR|CRITICAL)' "$importer_dir/importer.log" > "$importer_dir/findings.txt" || true
warnings="$(grep -c '^WARNING' "$importer_dir/findings.txt" || true)"
errors="$(grep -cE '^(ERROR|CRITICAL)' "$importer_dir/findings.txt" || true)"
if [ "$warnings" != 0 ]; then
  echo "release: galaxy-importer warnings ($warnings):"
  grep '^WARNING' "$importer_dir/findings.txt" | sed 's/^/  /'
fi
if [ "$importer_rc" != 0 ] || [ "$errors" != 0 ] \
   || ! grep -q 'Importer processing completed successfully' "$importer_dir/importer.log" \
   || [ ! -s "$importer_dir/importer_result.json" ]; then
  echo "release: galaxy-importer refused the tarball (exit code $importer_rc, $errors errors);" \
       "Galaxy would refuse the upload. Its log ($importer_dir/importer.log) ends:" >&2
  tail -40 "$importer_dir/importer.log" >&2
  exit 1
fi
echo "  galaxy-importer: imported, $warnings warnings ($importer_dir/importer_result.json)"

if [ "${#doc_failures[@]}" != 0 ]; then
  echo "release: FAILED, documentation that does not render from the installed copy:" >&2
  printf '  %s\n' "${doc_failures[@]}" >&2
  exit 1
fi
step "done: $tarball"
