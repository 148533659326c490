# shellcheck shell=bash
# Usage: source scripts/qemu-env.sh     (after scripts/build-qemu.sh)
#   Exports ACE_QEMU (our qemu-system-x86_64; an existing $ACE_QEMU wins) and
#   ACE_QEMU_FIRMWARE_ARGS (-L dirs: Debian's seabios, qemu-system-data and
#   ipxe-qemu, since the +dfsg QEMU source ships no firmware blobs).
#   Use: "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -M q35 ...
_ace_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ACE_QEMU="${ACE_QEMU:-${ACE_BUILD_DIR:-$_ace_root/build}/qemu/bin/qemu-system-x86_64}"
export ACE_QEMU_FIRMWARE_ARGS="-L /usr/share/seabios -L /usr/share/qemu -L /usr/lib/ipxe/qemu"
unset _ace_root
