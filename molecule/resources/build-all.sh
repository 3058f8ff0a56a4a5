#!/usr/bin/env bash
# Build every local test image at once: the Debian 12 (plain and with zypper/rpm for the
# SUSE emulation) and Debian 13 (libvirt) podman images and the QEMU disk of the vm scenario. Each is cached and rebuilt only when its
# recipe changed, so on a warm machine this returns in seconds. The builds mostly wait on
# downloads and dpkg, so running them side by side saves minutes on a fresh machine.
#   build-all.sh LIBVIRT_PACKAGES...
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
logs=$(mktemp -d /var/tmp/sev-snp-images.XXXXXX)
trap 'rm -rf "$logs"' EXIT

declare -A jobs=()
start() {
  local label=$1; shift
  "$@" >"$logs/$label.log" 2>&1 &
  jobs[$label]=$!
}
start bookworm "$here/build-image.sh" localhost/sev-snp-test:bookworm bookworm
# The suse scenario's emulation: Debian's real zypper, rpm and createrepo_c (file: rpmbuild's).
start bookworm-suse "$here/build-image.sh" localhost/sev-snp-test:bookworm-suse bookworm zypper rpm createrepo-c file
start trixie-libvirt "$here/build-image.sh" localhost/sev-snp-test:trixie-libvirt trixie "$@"
start vm-disk "$here/vm/build-disk.sh"

failed=0
for label in bookworm bookworm-suse trixie-libvirt vm-disk; do
  if wait "${jobs[$label]}"; then status=ok; else status=FAILED; failed=1; fi
  sed "s/^/[$label] /" "$logs/$label.log"
  echo "[$label] $status"
done
exit $failed
