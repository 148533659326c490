#!/usr/bin/env bash
# Usage: tests/lint/lint.sh
#   The guest driver (guest-module/: ace.ko, ace_rng.ko, ace_ktest.ko and
#   their headers) as the kernel's own tools read it:
#     sparse    make C=2 (every source checked, whether rebuilt or not)
#               against the guest kernel's headers, in a copy under
#               build/lint/ so the tree's objects are left alone
#     checkpatch.pl --strict, the kernel's own script, from Debian's
#               linux-source-6.1 package (downloaded once, not installed)
#   Passes only with 0 errors, 0 warnings and 0 checks from both.  The one
#   exception, said here: LINUX_VERSION_CODE in ace_kcompat.h, the shim
#   that builds one source on 6.1 and 6.12 (it would go upstream).
#   The shared core (shared/) goes through sparse (core_*.c include it)
#   but not through checkpatch.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../../scripts/lib.sh"
L=$ACE_BUILD/lint
mkdir -p "$L"
bash "$ACE_SCRIPTS/deps.sh" lint guest >/dev/null
[ -f "$ACE_GUEST/kdir" ] || "$ACE_SCRIPTS/fetch-guest-kernel.sh" >/dev/null
KDIR=$(cat "$ACE_GUEST/kdir")
rc=0

# ---- checkpatch.pl from linux-source-6.1 ----
CP=$L/checkpatch/checkpatch.pl
if [ ! -f "$CP" ]; then
    log lint "fetching checkpatch.pl from Debian's linux-source-6.1..."
    D=$(mktemp -d "$L/dl.XXXXXX")
    (cd "$D" && apt-get download -q linux-source-6.1 >/dev/null 2>&1) ||
        { $SUDO apt-get update -q >/dev/null && (cd "$D" && apt-get download -q linux-source-6.1 >/dev/null 2>&1); } ||
        die "apt-get download linux-source-6.1 failed"
    deb=$(ls "$D"/linux-source-6.1_*.deb)
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$D" ./usr/src/linux-source-6.1.tar.xz
    xz -dc "$D/usr/src/linux-source-6.1.tar.xz" | tar -x -C "$D" \
        linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
        linux-source-6.1/scripts/const_structs.checkpatch
    rm -rf "$L/checkpatch"
    mv "$D/linux-source-6.1/scripts" "$L/checkpatch"
    basename "$deb" >"$L/checkpatch/SOURCE"
    rm -rf "$D"
fi
# both tools work on a copy of the committed sources: the tree's objects
# and checkpatch's caches stay out of the tree
S=$L/src
rm -rf "$S"
mkdir -p "$S"
git -C "$ACE_ROOT" ls-files -z -c -o --exclude-standard -- guest-module shared |
    (cd "$ACE_ROOT" && xargs -0 cp --parents -t "$S")
log lint "checkpatch.pl --strict ($(cat "$L/checkpatch/SOURCE"))"
cd "$S/guest-module"
mapfile -t files < <(git -C "$ACE_ROOT" ls-files -- 'guest-module/*.c' 'guest-module/*.h' |
    sed 's|^guest-module/||' | grep -v '^core_\|^tests/ace_usertest.c$')
# (core_*.c only include the shared core; ace_usertest.c is a user-space
# program)
cpout=$L/checkpatch.log
: >"$cpout"
for f in "${files[@]}"; do
    ign=""
    [ "$f" = ace_kcompat.h ] && ign="--ignore LINUX_VERSION_CODE"
    # shellcheck disable=SC2086
    perl "$CP" --strict --no-tree --terse --show-types --no-summary $ign -f "$f" >>"$cpout" 2>&1 || true
done
n_err=$(grep -c ': ERROR:' "$cpout" || true)
n_warn=$(grep -c ': WARNING:' "$cpout" || true)
n_chk=$(grep -c ': CHECK:' "$cpout" || true)
sed 's/^/  /' "$cpout"
echo "checkpatch: ${#files[@]} files, $n_err errors, $n_warn warnings, $n_chk checks"
[ "$n_err" = 0 ] && [ "$n_warn" = 0 ] && [ "$n_chk" = 0 ] || rc=1

# ---- sparse ----
log lint "sparse (make C=2) against $KDIR"
spout=$L/sparse.log
make -C "$S/guest-module" KDIR="$KDIR" C=2 CHECK=sparse >"$spout" 2>&1 || {
    echo "sparse: the build failed"; tail -20 "$spout"; rc=1
}
n_sw=$(grep -cE ': (warning|error):' "$spout" || true)
grep -E ': (warning|error):' "$spout" | sed 's/^/  /' || true
n_checked=$(grep -cE '^\s+CHECK\s' "$spout" || true)
echo "sparse: $n_checked files checked, $n_sw errors and warnings"
[ "$n_checked" -gt 0 ] && [ "$n_sw" = 0 ] || rc=1
exit $rc
