#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Usage: [ACE_KERNEL=6.1|6.12] guest-module/tests/vm-test.sh [nodev|dev|all|races]
#   (default: all, on Debian 12's default kernel 6.1)
#   Builds ace.ko, ace_ktest.ko and ace_usertest, packs them into an
#   initramfs (scripts/mkinitramfs.sh) and boots the guest kernel under TCG
#   (scripts/run-vm.sh, which fails on any kernel WARNING/BUG/Oops):
#     nodev  no ACE device: ace.ko loads, registers, unloads
#     dev    with -device virtio-ace-pci (skipped if our QEMU lacks it) and
#            the host peer tests/vm/ace_hostpeer in its "driver" mode (raw
#            peer ABI, no libace) on its socket: tests/guest-run.sh dev
#     races  dev, the recovery races only (guest-run.sh dev races)
#   Logs: build/guest-module/vm-<mode>.log
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../../scripts/lib.sh"
. "$ACE_SCRIPTS/qemu-env.sh"

MODE=${1:-all}
W="$ACE_BUILD/guest-module"
[ "$ACE_KERNEL" = 6.1 ] || W="$ACE_BUILD/guest-module-$ACE_KERNEL"
mkdir -p "$W"

[ -f "$ACE_GUEST/kdir" ] || "$ACE_SCRIPTS/fetch-guest-kernel.sh"
KDIR=$(cat "$ACE_GUEST/kdir")
log vm-test "kernel $(cat "$ACE_GUEST/kver") (ACE_KERNEL=$ACE_KERNEL)"
# objects built for the other kernel would be linked as they are: clean
if [ -f "$ACE_ROOT/guest-module/ace.ko" ] &&
   [ "$(modinfo -F vermagic "$ACE_ROOT/guest-module/ace.ko" | cut -d' ' -f1)" != "$(cat "$ACE_GUEST/kver")" ]; then
    make -C "$ACE_ROOT/guest-module" KDIR="$KDIR" clean >/dev/null
fi
make -C "$ACE_ROOT/guest-module" KDIR="$KDIR" >/dev/null
make -C "$ACE_ROOT/guest-module" UBUILD="$W" usertests >/dev/null
HOSTPEER=$ACE_BUILD/vm/ace_hostpeer
make -s -C "$ACE_ROOT" BUILD="$ACE_BUILD" "$HOSTPEER"
"$ACE_SCRIPTS/mkinitramfs.sh" -o "$W/initramfs.cpio.gz" \
    -f "$W/ace_usertest:/bin/ace_usertest" -f "$HERE/guest-run.sh:/run.sh" \
    -m "$ACE_ROOT/guest-module/ace.ko" -m "$ACE_ROOT/guest-module/tests/ace_ktest.ko" \
    -f "$ACE_ROOT/guest-module/drivers/ace_rng.ko:/lib/modules/ace/ace_rng.ko"

run() {  # run MODE [qemu args...]
    local mode=$1 tag=${1//,/-}; shift
    # slub_debug: poison freed objects, red-zone live ones, so a use after
    # free or an overflow oopses or is reported instead of passing quietly
    log vm-test "=== $mode ==="
    "$ACE_SCRIPTS/run-vm.sh" --accel tcg --timeout 600 --initrd "$W/initramfs.cpio.gz" \
        --append "ace.args=$mode ace.opts.ace=test_hooks=1 slub_debug=FZP" --log "$W/vm-$tag.log" -- "$@"
}

rc=0
if [ "$MODE" = nodev ] || [ "$MODE" = all ]; then
    run nodev || rc=1
fi
if [ "$MODE" = dev ] || [ "$MODE" = all ] || [ "$MODE" = races ]; then
    if ! timeout 30 "$ACE_QEMU" -device help 2>/dev/null | grep -q '"virtio-ace-pci"'; then
        log vm-test "SKIP dev: $ACE_QEMU has no virtio-ace-pci"
        [ "$MODE" = dev ] && rc=1
    else
        S=$(mktemp -d)
        HP="" QW="" dmode=dev
        [ "$MODE" = races ] && dmode=dev,races
        trap '[ -z "$HP" ] || kill "$HP" 2>/dev/null; [ -z "$QW" ] || kill "$QW" 2>/dev/null; rm -rf "$S"' EXIT
        timeout 700 "$HOSTPEER" "$S/ace.sock" driver 200 600 >"$W/hostpeer.log" 2>&1 &
        HP=$!
        # the guest suspends to RAM once: wake it through QMP when it is
        # ... and answers the guest's "ACE-QMP virtio-status TAG" lines
        timeout 700 python3 "$HERE/qmp-waker.py" "$S/qmp.sock" "$W/vm-${dmode//,/-}.log" \
            >"$W/qmp.log" 2>&1 &
        QW=$!
        run "$dmode" -chardev "socket,id=ace0,path=$S/ace.sock,server=on,wait=off" \
            -device virtio-ace-pci,chardev=ace0 \
            -qmp "unix:$S/qmp.sock,server=on,wait=off" || rc=1
        # (set -e: a waker that ended, or ends by our TERM, is no failure)
        kill "$QW" 2>/dev/null || true
        wait "$QW" 2>/dev/null || true
        QW=""
        sed 's/^/  /' "$W/qmp.log"
        # what the device negotiated, at probe and after a recovery (which
        # resets the device: the driver must negotiate the features again)
        for tag in probe recovered; do
            if grep -q "virtio-status $tag event-idx=yes features-ok=yes driver-ok=yes" "$W/qmp.log"; then
                log vm-test "ok: the device has EVENT_IDX and FEATURES_OK ($tag)"
            else
                log vm-test "FAIL: the device lacks EVENT_IDX or FEATURES_OK ($tag): $(grep "virtio-status $tag" "$W/qmp.log" | head -1)"
                rc=1
            fi
        done
        hrc=0
        wait "$HP" || hrc=$?
        HP=""
        sed 's/^/  /' "$W/hostpeer.log"
        [ "$hrc" = 0 ] || { log vm-test "FAIL: host peer exited with $hrc"; rc=1; }
    fi
fi
exit $rc
