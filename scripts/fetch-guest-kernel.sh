#!/usr/bin/env bash
# Usage: [ACE_KERNEL=6.1|6.12] scripts/fetch-guest-kernel.sh
#   Fetches a Debian 12 guest kernel WITHOUT installing it on the host, and
#   installs the matching linux-headers-<kver> on the host for building
#   ace.ko.  ACE_KERNEL=6.1 (default): the image linux-image-amd64 depends
#   on; 6.12: the newest linux-image-6.12.*+deb12-amd64 apt knows (bookworm's
#   security archive).  Produces, in $ACE_GUEST (build/guest, build/guest-6.12):
#     vmlinuz                  kernel for -kernel
#     kver                     guest `uname -r` (e.g. 6.1.0-NN-amd64)
#     kdir                     Kbuild dir for that kernel
#     root/lib/modules/<kver>  the guest's modules (for initramfs)
#   Idempotent: does nothing when the files for the current ABI are present.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

G="$ACE_GUEST"
mkdir -p "$G"
exec 9>"$G/.lock"   # one fetcher at a time
flock -w 1800 9 || die "timed out waiting for $G/.lock"

resolve_pkg() {
    if [ "$ACE_KERNEL" = 6.12 ]; then
        timeout 60 apt-cache pkgnames linux-image-6.12. 2>/dev/null |
            grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n 1
        return
    fi
    timeout 60 apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
PKG=$(resolve_pkg || true)
if [ -z "$PKG" ]; then
    log guest "no $ACE_KERNEL kernel package known, running apt-get update..."
    $SUDO timeout 600 apt-get update -q
    PKG=$(resolve_pkg || true)
fi
[ -n "$PKG" ] || die "cannot resolve the $ACE_KERNEL guest kernel package"
KVER=${PKG#linux-image-}
log guest "guest kernel: $PKG (uname -r = $KVER)"

KDIR="/usr/src/linux-headers-$KVER"
headers_ok() { [ -f "$KDIR/Makefile" ] && [ -f "$KDIR/Module.symvers" ]; }

if [ "$(cat "$G/kver" 2>/dev/null)" = "$KVER" ] && [ -f "$G/vmlinuz" ] &&
   [ -d "$G/root/lib/modules/$KVER/kernel" ] && headers_ok &&
   [ "$(cat "$G/kdir" 2>/dev/null)" = "$KDIR" ]; then
    log guest "up to date ($G)"
    exit 0
fi

# --- image: download + extract, never installed on the host -------------------
if [ ! -d "$G/root/lib/modules/$KVER/kernel" ] || [ ! -f "$G/vmlinuz" ] || [ "$(cat "$G/kver" 2>/dev/null)" != "$KVER" ]; then
    rm -rf "$G/root" "$G"/linux-image-*.deb
    log guest "downloading $PKG..."
    if ! (cd "$G" && timeout 900 apt-get download -q -o APT::Sandbox::User=root "$PKG"); then
        log guest "download failed, refreshing package lists and retrying..."
        $SUDO timeout 600 apt-get update -q
        (cd "$G" && timeout 900 apt-get download -q -o APT::Sandbox::User=root "$PKG")
    fi
    log guest "extracting..."
    dpkg-deb -x "$G"/"$PKG"_*.deb "$G/root"
    cp "$G/root/boot/vmlinuz-$KVER" "$G/vmlinuz.tmp" && mv -f "$G/vmlinuz.tmp" "$G/vmlinuz"
    cp "$G/root/boot/config-$KVER" "$G/config"
    rm -f "$G"/"$PKG"_*.deb
fi

# --- matching headers on the host -----------------------------------------------
if ! headers_ok; then
    log guest "installing linux-headers-$KVER on the host..."
    $SUDO env DEBIAN_FRONTEND=noninteractive timeout 900 \
        apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "linux-headers-$KVER"
fi
headers_ok || die "headers for $KVER not found in $KDIR"

echo "$KDIR" >"$G/kdir"
echo "$KVER" >"$G/kver"
log guest "vmlinuz: $G/vmlinuz"
log guest "modules: $G/root/lib/modules/$KVER"
log guest "kdir:    $KDIR"
