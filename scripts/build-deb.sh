#!/usr/bin/env bash
# Usage: scripts/build-deb.sh   (make deb)
#   Builds the Debian packages with dpkg-buildpackage (debian/): ace-dkms
#   (guest-module/ and shared/ under DKMS), libace1, libace-dev and
#   ace-tools.  The build runs in a clean copy of the source tree
#   (build/deb/src/ace-VERSION: the files git tracks or would track, so no
#   build output comes along); the .deb files land in build/deb/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="$ACE_BUILD/deb"
VERSION=$(sed -n '1s/^ace (\([^)]*\)).*/\1/p' "$ACE_ROOT/debian/changelog")
[ -n "$VERSION" ] || die "no version in debian/changelog"
SRC="$OUT/src/ace-$VERSION"
"$ACE_SCRIPTS/deps.sh" pkg >/dev/null

rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.buildinfo "$OUT"/*.changes
mkdir -p "$SRC"
cd "$ACE_ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -C "$SRC" -xf -
else
    tar --exclude=./build --exclude='*.o' --exclude='*.ko' -cf - . | tar -C "$SRC" -xf -
fi
log deb "dpkg-buildpackage in $SRC..."
(cd "$SRC" && timeout 1800 dpkg-buildpackage -us -uc -b -j2) >"$OUT/build.log" 2>&1 ||
    { tail -n 30 "$OUT/build.log"; die "dpkg-buildpackage failed (see $OUT/build.log)"; }
# dpkg-buildpackage writes next to the source tree
mv "$OUT"/src/*.deb "$OUT"/src/*.buildinfo "$OUT"/src/*.changes "$OUT"/
ls "$OUT"/*.deb | sed 's/^/[deb] /'
