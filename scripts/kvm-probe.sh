#!/usr/bin/env bash
# Usage: scripts/kvm-probe.sh
#   Prints "kvm" or "tcg": kvm only if /dev/kvm is usable AND the guest kernel
#   really boots under it (tiny initramfs printing a marker, hard 20 s limit;
#   nested KVM often hangs). ACE_ACCEL=tcg|kvm overrides. The answer is cached
#   in build/kvm-probe per boot (/proc/sys/kernel/random/boot_id).
#   Progress goes to stderr, the answer alone to stdout.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${ACE_ACCEL:-} in
    tcg|kvm) echo "$ACE_ACCEL"; exit 0 ;;
    "") ;;
    *) die "ACE_ACCEL must be tcg or kvm" ;;
esac

CACHE="$ACE_BUILD/kvm-probe"
BOOT_ID=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
if [ -f "$CACHE" ] && [ "$(cut -d' ' -f1 "$CACHE")" = "$BOOT_ID" ]; then
    cut -d' ' -f2 "$CACHE"
    exit 0
fi

answer=tcg
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    log kvm-probe "booting a test guest under KVM (20 s limit)..." >&2
    mkdir -p "$ACE_BUILD/guest"
    INITRD="$ACE_BUILD/guest/kvm-probe.cpio.gz"
    "$ACE_SCRIPTS/mkinitramfs.sh" -o "$INITRD" >&2
    if "$ACE_SCRIPTS/run-vm.sh" --accel kvm --timeout 20 --initrd "$INITRD" \
        --log "$ACE_BUILD/logs/kvm-probe.log" >/dev/null 2>&1; then
        answer=kvm
    fi
else
    log kvm-probe "/dev/kvm not usable" >&2
fi
log kvm-probe "result: $answer" >&2
mkdir -p "$ACE_BUILD"
echo "$BOOT_ID $answer" >"$CACHE"
echo "$answer"
