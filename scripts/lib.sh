# shellcheck shell=bash disable=SC2034
# Sourced helper for the ACE VM harness scripts (not executable on its own).
# Provides: ACE_SCRIPTS, ACE_ROOT, ACE_BUILD (ACE_BUILD_DIR overrides build/),
# ACE_KERNEL and ACE_GUEST (the guest kernel's directory), SUDO, log(), die().
ACE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACE_ROOT="$(cd "$ACE_SCRIPTS/.." && pwd)"
ACE_BUILD="${ACE_BUILD_DIR:-$ACE_ROOT/build}"   # override to keep caches elsewhere
# The guest kernel: ACE_KERNEL=6.1 (default: Debian 12's linux-image-amd64)
# or 6.12 (bookworm's linux-image-6.12.*+deb12-amd64); each has its own
# directory of kernel, modules and Kbuild pointer.
ACE_KERNEL="${ACE_KERNEL:-6.1}"
case $ACE_KERNEL in
    6.1) ACE_GUEST="$ACE_BUILD/guest" ;;
    6.12) ACE_GUEST="$ACE_BUILD/guest-6.12" ;;
    *) echo "[error] ACE_KERNEL must be 6.1 or 6.12, not '$ACE_KERNEL'" >&2; exit 2 ;;
esac
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# log TAG message...
log() { local t=$1; shift; echo "[$t] $*"; }
die() { echo "[error] $*" >&2; exit 1; }

