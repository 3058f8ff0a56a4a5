#!/usr/bin/env bash
# Build a local, offline test image with systemd as PID 1 and import it into podman.
#   build-image.sh NAME SUITE [EXTRA_PACKAGES...]
# NAME is the podman image name (e.g. localhost/sev-snp-test:bookworm), SUITE a Debian
# suite (bookworm, trixie). The image is cached: rebuilt only when missing or when the
# package list changed (recorded as an image label).
set -euo pipefail
name=$1 suite=$2; shift 2
base_pkgs="systemd,systemd-sysv,dbus,python3,python3-apt,kmod,procps,iproute2,grub-common,sudo"
extra=$(IFS=,; echo "$*")
pkgs=$base_pkgs${extra:+,$extra}
stamp=$(printf '%s %s' "$suite" "$pkgs" | sha256sum | cut -c1-16)

if podman image exists "$name" && \
   [ "$(podman image inspect --format '{{ index .Labels "sev_snp.stamp" }}' "$name" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

work=$(mktemp -d /var/tmp/sev-snp-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "building $name from Debian $suite (about a minute)"
debootstrap --variant=minbase --include="$pkgs" "$suite" "$work/root" http://deb.debian.org/debian >"$work/log" 2>&1 \
  || { tail -20 "$work/log"; exit 1; }
chroot "$work/root" apt-get clean
rm -rf "$work/root"/var/lib/apt/lists/*
# Units that make no sense in a container and slow its boot.
for unit in systemd-udevd.service systemd-udev-trigger.service systemd-networkd-wait-online.service \
            getty@tty1.service console-getty.service systemd-logind.service; do
  ln -sf /dev/null "$work/root/etc/systemd/system/$unit"
done
mkdir -p "$work/root/root/.ansible/tmp"
tar -C "$work/root" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'ENV container=podman' \
  --change "LABEL sev_snp.stamp=$stamp" - "$name" >/dev/null
echo "built $name"
