#!/usr/bin/env bash
# Usage: tests/vm/prepare.sh
#   Builds everything the VM tests need, once: QEMU with the device, the
#   guest kernel and headers, ace.ko and its test module, the static guest
#   tools and test programs, the host tools, and one initramfs holding them
#   (build/vm/initramfs.cpio.gz).  Prints progress; idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=build
log() { echo "[vm-prepare] $*"; }

bash scripts/deps.sh core qemu guest libvirt
log "QEMU with virtio-ace..."
bash scripts/build-qemu.sh
log "guest kernel and headers..."
bash scripts/fetch-guest-kernel.sh | tail -n 1
KDIR=$(cat $B/guest/kdir)
log "ace.ko against $KDIR..."
make -s -C guest-module KDIR="$KDIR" >/dev/null
log "tools (host and static guest builds)..."
make -s tools guest-tools $B/vm/ace_hostpeer $B/vm/guest-tests
files=()
for t in $B/guest-bin/*; do files+=(-f "$t:/bin/$(basename "$t")"); done
for s in tests/vm/guest/*.sh; do files+=(-f "$s:/tests/$(basename "$s")"); done
files+=(-f guest-module/ace.ko:/lib/ace/ace.ko)
files+=(-f guest-module/tests/ace_ktest.ko:/lib/ace/ace_ktest.ko)
files+=(-f guest-module/drivers/ace_rng.ko:/lib/ace/ace_rng.ko)
log "initramfs..."
bash scripts/mkinitramfs.sh -o $B/vm/initramfs.cpio.gz "${files[@]}" | tail -n 1
log "ready"
