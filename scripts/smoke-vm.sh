#!/usr/bin/env bash
# Usage: scripts/smoke-vm.sh
#   Proves the VM harness end to end: installs deps, builds QEMU, fetches the
#   guest kernel, builds an initramfs whose /run.sh lists the PCI devices and
#   checks that the virtio-net (slirp), virtio-serial (socket chardev) and
#   virtio-rng devices are bound by the guest drivers, then boots it under
#   TCG. Exits 0 on success. Logs: build/logs/smoke.log
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ACE_SCRIPTS/deps.sh" core qemu guest
"$ACE_SCRIPTS/build-qemu.sh"
"$ACE_SCRIPTS/fetch-guest-kernel.sh"

W="$ACE_BUILD/smoke"
mkdir -p "$W" "$ACE_BUILD/logs"
cat >"$W/run.sh" <<'EOF'
#!/bin/sh
echo "PCI devices (vendor:device driver):"
for d in /sys/bus/pci/devices/*; do
    drv=$(readlink "$d/driver" 2>/dev/null) || drv=none
    echo "  ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") ${drv##*/}"
done
fail=0
check() {
    if eval "$2"; then echo "SMOKE ok: $1"; else echo "SMOKE FAIL: $1"; fail=1; fi
}
check "virtio-net bound (eth0)" '[ -e /sys/class/net/eth0 ]'
check "virtio-serial port ace.smoke" 'grep -qx ace.smoke /sys/class/virtio-ports/*/name'
check "virtio-rng registered" 'grep -q virtio /sys/class/misc/hw_random/rng_available'
check "shared RAM visible" '[ "$(awk "/MemTotal/ {print \$2}" /proc/meminfo)" -gt 300000 ]'
exit $fail
EOF
"$ACE_SCRIPTS/mkinitramfs.sh" -o "$W/initramfs.cpio.gz" -f "$W/run.sh:/run.sh"

SOCK="$W/serial.sock"
rm -f "$SOCK"
"$ACE_SCRIPTS/run-vm.sh" --accel tcg --timeout 180 --initrd "$W/initramfs.cpio.gz" \
    --log "$ACE_BUILD/logs/smoke.log" -- \
    -chardev "socket,id=smoke0,path=$SOCK,server=on,wait=off" \
    -device virtio-serial-pci -device virtserialport,chardev=smoke0,name=ace.smoke \
    -netdev user,id=net0,restrict=on -device virtio-net-pci,netdev=net0 \
    -device virtio-rng-pci
rm -f "$SOCK"
log smoke "PASS"
