#!/usr/bin/env bash
# Build (once) the bootable Debian 12 disk the `vm` scenario boots under QEMU, and print
# where it is:
#   build-disk.sh            -> prints "<base image> <ssh private key>" (builds if needed)
# The disk is a 3 GB raw image with a dos partition table, one ext4 partition, the Debian
# cloud and generic kernels, GRUB for BIOS (grub-pc), systemd, sshd and python3. Root logs in over SSH
# with an ed25519 key generated at build time. The result is cached under
# ${SEV_SNP_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coco-sev-snp}, keyed by a hash of this
# directory's files, so editing the recipe rebuilds it and nothing else does. Runs need
# copy-on-write overlays on top of it (qemu-img create -f qcow2 -b BASE -F raw), never
# the base itself. Needs root, loop devices, debootstrap, sfdisk and mkfs.ext4.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SEV_SNP_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coco-sev-snp}
mirror=${SEV_SNP_VM_MIRROR:-http://deb.debian.org/debian}
recipe_hash=$(cd "$here" && cat build-disk.sh image-files/* | sha256sum | cut -c1-16)
base=$cache/vm-bookworm-$recipe_hash.raw
key=$cache/vm-bookworm-$recipe_hash.id_ed25519

mkdir -p "$cache"
# Several scenario runs may start at once: one builds, the others wait for its result.
exec 9>"$cache/vm-bookworm.lock"
flock 9

if [ -s "$base" ] && [ -s "$key" ]; then
  echo "$base $key"
  exit 0
fi

for tool in debootstrap sfdisk losetup mkfs.ext4 blkid ssh-keygen flock; do
  command -v "$tool" >/dev/null || { echo "build-disk.sh: '$tool' is missing (apt-get install debootstrap fdisk e2fsprogs mount openssh-client util-linux)" >&2; exit 1; }
done

work=$(mktemp -d /var/tmp/sev-snp-vm.XXXXXX)
mnt=$work/root
loop=""
cleanup() {
  set +e
  for sub in dev/pts dev proc sys; do
    mountpoint -q "$mnt/$sub" && umount -l "$mnt/$sub"
  done
  mountpoint -q "$mnt" && umount "$mnt"
  [ -n "$loop" ] && losetup -d "$loop"
  rm -rf "$work"
}
trap cleanup EXIT

started=$SECONDS
echo "build-disk.sh: building the Debian 12 VM disk (about two minutes)" >&2
disk=$work/disk.raw
truncate -s 3G "$disk"
echo 'type=83, bootable' | sfdisk --quiet --label dos "$disk"
loop=$(losetup -fP --show "$disk")
part=${loop}p1
# The partition node appears asynchronously. Kernels built without the dos partition
# parser never create it; partx reads the table in user space and adds it instead, and
# without devtmpfs/udev the node is made from sysfs.
for _ in $(seq 20); do [ -b "$part" ] && break; sleep 0.1; done
[ -b "$part" ] || partx --add "$loop" 2>/dev/null || true
for _ in $(seq 20); do [ -b "$part" ] && break; sleep 0.1; done
if [ ! -b "$part" ]; then
  sysdev=/sys/block/$(basename "$loop")/$(basename "$part")/dev
  [ -r "$sysdev" ] || { echo "build-disk.sh: $part did not appear" >&2; exit 1; }
  mknod "$part" b "$(cut -d: -f1 "$sysdev")" "$(cut -d: -f2 "$sysdev")"
fi
mkfs.ext4 -q -L sev-snp-root "$part"
uuid=$(blkid -s UUID -o value "$part")
mkdir -p "$mnt"
mount "$part" "$mnt"

# Two real kernel flavours: cloud-amd64, which the image boots first (GRUB_DEFAULT=0), and
# amd64, which stands in for SUSE's kernel-coco (sev_snp_host_kernel_flavour: -amd64).
# python3-apt: ansible.builtin.package (apt) checks the installed flavour without network.
packages=linux-image-cloud-amd64,linux-image-amd64,python3-apt,grub-pc,systemd,systemd-sysv,udev,dbus,openssh-server,python3,kmod,procps,iproute2
debootstrap --variant=minbase --include="$packages" bookworm "$mnt" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

# A private /dev for the chroot: the loop nodes grub needs plus the by-uuid link that
# udev would provide, so grub-mkconfig writes root=UUID=... rather than the loop node.
mount -t tmpfs -o mode=755 devtmp "$mnt/dev"
cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$loop" "$part" "$mnt/dev/"
mkdir -p "$mnt/dev/pts" "$mnt/dev/disk/by-uuid"
ln -s "../../$(basename "$part")" "$mnt/dev/disk/by-uuid/$uuid"
mount -t proc proc "$mnt/proc"
mount -t sysfs sysfs "$mnt/sys"

install -m 0644 "$here/image-files/default-grub" "$mnt/etc/default/grub"
# No boot-time fsck: every run boots a fresh overlay of a cleanly unmounted disk, and
# fsck would only add seconds of emulated CPU before the root is remounted.
printf 'UUID=%s / ext4 errors=remount-ro 0 0\n' "$uuid" >"$mnt/etc/fstab"
echo sev-snp-vm >"$mnt/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 sev-snp-vm\n' >"$mnt/etc/hosts"
install -m 0644 "$here/image-files/wired.network" "$mnt/etc/systemd/network/20-wired.network"
chroot "$mnt" systemctl enable systemd-networkd.service >/dev/null 2>&1
# Nothing in the scenario waits for "network online"; the unit would only slow boots.
chroot "$mnt" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1
# Periodic jobs only compete for the emulated CPUs during the scenario.
chroot "$mnt" systemctl mask e2scrub_reap.service e2scrub_all.timer apt-daily.timer \
  apt-daily-upgrade.timer dpkg-db-backup.timer fstrim.timer >/dev/null 2>&1
# GRUB loads the initramfs through the BIOS, slowly under emulation, and the default one
# carries most of the kernel's modules: the root disk needs only the virtio ones.
install -m 0644 "$here/image-files/initramfs-modules" "$mnt/etc/initramfs-tools/modules"
sed -i 's/^MODULES=.*/MODULES=list/' "$mnt/etc/initramfs-tools/initramfs.conf"
chroot "$mnt" update-initramfs -u -k all >"$work/update-initramfs.log" 2>&1 \
  || { cat "$work/update-initramfs.log" >&2; exit 1; }
# Each update-grub costs close to a minute of emulated CPU; the scenario regenerates
# several times and needs only the Linux entries (os-prober is off in default-grub).
for script in 20_linux_xen 30_os-prober 30_uefi-firmware; do
  [ ! -e "$mnt/etc/grub.d/$script" ] || chmod a-x "$mnt/etc/grub.d/$script"
done
install -m 0644 "$here/image-files/boot-log.service" "$mnt/etc/systemd/system/sev-snp-test-boot-log.service"
chroot "$mnt" systemctl enable sev-snp-test-boot-log.service >/dev/null 2>&1
# The counter below wraps the real update-grub so the scenario can count regenerations.
chroot "$mnt" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-grub.real --add /usr/sbin/update-grub
install -m 0755 "$here/image-files/update-grub-counter" "$mnt/usr/sbin/update-grub"

ssh-keygen -q -t ed25519 -N '' -C sev-snp-vm-test -f "$work/id_ed25519"
install -d -m 0700 "$mnt/root/.ssh"
install -m 0600 "$work/id_ed25519.pub" "$mnt/root/.ssh/authorized_keys"
# Ansible's remote temp dir outside /tmp, as in the container scenarios.
install -d -m 0700 "$mnt/root/.ansible/tmp"

chroot "$mnt" grub-install --target=i386-pc "$loop" >"$work/grub-install.log" 2>&1 \
  || { cat "$work/grub-install.log" >&2; exit 1; }
chroot "$mnt" update-grub.real >"$work/update-grub.log" 2>&1 \
  || { cat "$work/update-grub.log" >&2; exit 1; }
if ! grep -q "root=UUID=$uuid" "$mnt/boot/grub/grub.cfg" || grep -q 'root=/dev/loop' "$mnt/boot/grub/grub.cfg"; then
  echo "build-disk.sh: grub.cfg does not boot by UUID $uuid:" >&2
  grep -n 'linux\s' "$mnt/boot/grub/grub.cfg" >&2
  exit 1
fi
chroot "$mnt" apt-get clean
rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/lib/sev-snp-test
# Each boot of every overlay gets its own machine id (and so its own DHCP identity).
: >"$mnt/etc/machine-id"

cleanup_mounts_then_publish() {
  for sub in proc sys dev; do umount -l "$mnt/$sub"; done
  umount "$mnt"
  losetup -d "$loop"
  loop=""
  mv "$disk" "$base.partial"
  mv "$work/id_ed25519" "$key.partial"
  mv "$key.partial" "$key"
  mv "$base.partial" "$base"
}
cleanup_mounts_then_publish
# Older recipes' images are dead weight once this one exists.
find "$cache" -maxdepth 1 -name 'vm-bookworm-*' ! -name "vm-bookworm-$recipe_hash.*" -delete
echo "build-disk.sh: built $base in $((SECONDS - started)) s" >&2
echo "$base $key"
