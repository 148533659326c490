# shellcheck shell=bash disable=SC2034
# Sourced helper for the ACE VM harness scripts (not executable on its own).
# Provides: ACE_SCRIPTS, ACE_ROOT, ACE_BUILD (ACE_BUILD_DIR overrides build/),
# SUDO, log(), die().
ACE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ACE_ROOT="$(cd "$ACE_SCRIPTS/.." && pwd)"
ACE_BUILD="${ACE_BUILD_DIR:-$ACE_ROOT/build}"   # override to keep caches elsewhere
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# log TAG message...
log() { local t=$1; shift; echo "[$t] $*"; }
die() { echo "[error] $*" >&2; exit 1; }

