#!/usr/bin/env bash
# Usage: scripts/deps.sh [group...]
#   Installs (with apt-get, only what is missing) the Debian 12 packages the
#   ACE build/test harness needs. Groups: core qemu guest bench pkg libvirt
#   lint (default: all). Must run as root (or with passwordless sudo).
#   Non-interactive.
set -euo pipefail

declare -A GROUP
GROUP[core]="build-essential clang libclang-rt-14-dev libck-dev pkg-config git python3 valgrind"
# Building QEMU 7.2 from Debian's source package (minimal x86_64-softmmu):
# toolchain, meson/ninja (the +dfsg source has no bundled meson), glib,
# pixman, slirp (-netdev user), flex/bison, python3 + venv for configure;
# firmware comes from seabios + qemu-system-data + ipxe-qemu (built-in
# search path of our QEMU, see build-qemu.sh).
GROUP[qemu]="dpkg-dev git build-essential pkg-config ninja-build meson python3 python3-venv
  libglib2.0-dev libpixman-1-dev libslirp-dev zlib1g-dev libfdt-dev flex bison
  seabios qemu-system-data ipxe-qemu xz-utils"
# Guest initramfs + out-of-tree module build against Debian's guest kernel.
GROUP[guest]="busybox-static cpio gzip zstd xz-utils kmod linux-headers-amd64 socat"
GROUP[bench]="gnuplot-nox"
# make deb and its test: Debian packaging, DKMS and a kernel's headers.
GROUP[pkg]="dpkg-dev debhelper dh-dkms dkms fakeroot build-essential pkg-config linux-headers-amd64"
# The guest driver's lint (tests/lint/lint.sh): sparse; checkpatch.pl comes
# from the linux-source-6.1 package, downloaded (not installed) there.
GROUP[lint]="sparse dpkg-dev xz-utils"
# libvirt (scripts/libvirt/): the daemon with its QEMU driver, and virsh.
# Not libvirt-daemon-system: its users, polkit, firewall and default network
# are not needed, and its init scripts would start system daemons.
GROUP[libvirt]="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(core qemu guest bench pkg libvirt lint)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

want=()
for g in "${groups[@]}"; do
    [ -n "${GROUP[$g]+x}" ] || { echo "[deps] unknown group '$g' (core qemu guest bench pkg libvirt lint)" >&2; exit 2; }
    # shellcheck disable=SC2206
    want+=(${GROUP[$g]})
done

missing=()
for p in "${want[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing+=("$p")
done
# de-duplicate
mapfile -t missing < <(printf '%s\n' "${missing[@]+"${missing[@]}"}" | awk 'NF && !seen[$0]++')

if [ ${#missing[@]} -eq 0 ]; then
    echo "[deps] ${groups[*]}: all installed"
    exit 0
fi

# Refresh package lists only if apt does not know one of the packages.
for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then
        echo "[deps] '$p' unknown to apt, running apt-get update..."
        $SUDO apt-get update -q
        break
    fi
done

echo "[deps] installing: ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
echo "[deps] done"
