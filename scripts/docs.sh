#!/usr/bin/env bash
# Lint the collection's documentation and build its docs site with antsibull-docs + Sphinx.
#
#   scripts/docs.sh            lint, the report's browser test and README screenshot, then build
#                              build/docsite/build/html/index.html
#   scripts/docs.sh --lint     lint only
#
# Fails on any documentation error: a plugin or role whose documentation does not parse or
# does not match antsibull-docs' schema, a broken reference in docs/docsite/rst, a Sphinx
# warning. Cross-references into docs outside this collection (Ansible's own docs, Python,
# Jinja) need their Sphinx inventories from the internet, which a build machine may not
# reach: by default such references are not checked (references inside the collection
# are); DOCS_INTERSPHINX=1 checks them too.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
BIN="$VENV/bin"
COLLECTIONS="$ROOT/build/collections"
LINK="$COLLECTIONS/ansible_collections/coco/sev_snp"
SITE="$ROOT/build/docsite"
started=$SECONDS

for tool in antsibull-docs sphinx-build ansible-doc; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "docs: $BIN/$tool not found; run 'make venv' first (or set VENV=...)" >&2
    exit 2
  fi
done
export PATH="$BIN:$PATH"
mkdir -p "$(dirname "$LINK")"
[ -L "$LINK" ] || ln -sfn "$ROOT" "$LINK"
# The linter checks references to the galaxy.yml dependencies (seealso, M(...)) against
# copies it makes of them, and copies with `git ls-files` whatever lies inside a git work
# tree; the `ansible` package's copies sit in the (ignored) venv of the checkout, so they
# are copied to a temporary directory outside it first.
site_packages="$("$BIN/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
deps_root="$(mktemp -d)"
trap 'rm -rf "$deps_root"' EXIT
for dep in $("$BIN/python" - "$ROOT/galaxy.yml" <<'PY'
import sys
import yaml
with open(sys.argv[1], encoding="utf-8") as handle:
    print(" ".join(sorted((yaml.safe_load(handle).get("dependencies") or {}).keys())))
PY
); do
  source="$site_packages/ansible_collections/${dep%%.*}/${dep#*.}"
  [ -d "$source" ] || { echo "docs: dependency $dep is not installed in $site_packages" >&2; exit 2; }
  mkdir -p "$deps_root/ansible_collections/${dep%%.*}"
  cp -a "$source" "$deps_root/ansible_collections/${dep%%.*}/${dep#*.}"
done
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS:$deps_root"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False

echo "docs: antsibull-docs lint-collection-docs --plugin-docs"
antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
  --validate-collection-refs dependent --disallow-unknown-collection-refs "$ROOT"

if [ "${1:-}" = "--lint" ]; then
  echo "docs: lint passed in $((SECONDS - started)) s"
  exit 0
fi

# The fleet report in a real browser (headless Chromium): the tests of
# tests/unit/test_fleet_report_browser.py, which also write the README's screenshot of a
# 1,000-host report.
echo "docs: fleet.html in headless Chromium; screenshot docs/images/fleet-report.png"
command -v chromium >/dev/null || { echo "docs: chromium is missing; run 'make apt'" >&2; exit 2; }
mkdir -p "$ROOT/docs/images"
SEV_SNP_SCREENSHOT="$ROOT/docs/images/fleet-report.png" "$BIN/pytest" -q -p no:cacheprovider \
  "$ROOT/tests/unit/test_fleet_report_browser.py"

rm -rf "$SITE"
mkdir -p "$SITE"
chmod 755 "$SITE"   # antsibull-docs refuses a destination others can write to
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
  --dest-dir "$SITE" --project coco.sev_snp --title "coco.sev_snp" \
  --copyright "coco.sev_snp maintainers" coco.sev_snp >/dev/null

if [ "${DOCS_INTERSPHINX:-0}" != 1 ]; then
  cat >> "$SITE/conf.py" <<'PY'

# Offline build (scripts/docs.sh without DOCS_INTERSPHINX=1): no Sphinx inventories of
# other sites are fetched, so references that leave this collection cannot be resolved
# and are not reported; references to this collection's own pages still fail the build.
intersphinx_mapping = {}
nitpick_ignore_regex = [
    (r'(std:)?(ref|doc)', r'(?!ansible_collections\.coco\.sev_snp\.).*'),
]
PY
fi

# build.sh (from sphinx-init) writes the RST with --fail-on-error, then runs
# sphinx-build -W --keep-going: any warning fails.
"$SITE/build.sh"
index="$SITE/build/html/index.html"
[ -s "$index" ] || { echo "docs: $index was not written" >&2; exit 1; }
echo "docs: site built in $((SECONDS - started)) s: $index"
