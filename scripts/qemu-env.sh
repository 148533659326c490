# shellcheck shell=bash
# Usage: source scripts/qemu-env.sh     (after scripts/build-qemu.sh)
#   Exports ACE_QEMU (our qemu-system-x86_64; an existing $ACE_QEMU wins).
#   Our QEMU is configured with Debian's firmware directories (seabios,
#   qemu-system-data, ipxe-qemu: the +dfsg source ships no firmware blobs),
#   so it needs no -L.  ACE_QEMU_FIRMWARE_ARGS stays for scripts that
#   still pass it: empty unless set before.
#   Use: "$ACE_QEMU" -M q35 ...
_ace_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ACE_QEMU="${ACE_QEMU:-${ACE_BUILD_DIR:-$_ace_root/build}/qemu/bin/qemu-system-x86_64}"
export ACE_QEMU_FIRMWARE_ARGS="${ACE_QEMU_FIRMWARE_ARGS:-}"
unset _ace_root
