#!/usr/bin/env bash
# Usage: scripts/build-qemu.sh
#   Builds qemu-system-x86_64 (QEMU 7.2 from Debian's source package) with the
#   ACE device overlaid from host-qemu-device/ and shared/, and caches it as
#   build/qemu/<hash>/qemu-system-x86_64 (hash over host-qemu-device/, shared/
#   and this script); build/qemu/bin/qemu-system-x86_64 points at the current
#   one. A second run with unchanged inputs returns at once.
#   Source: build/qemu-src/, build tree: build/qemu-build/ (incremental).
#   The binary finds its firmware by itself (--firmwarepath: Debian's
#   seabios, qemu-system-data and ipxe-qemu directories, since the +dfsg
#   source ships no firmware blobs), so `qemu-system-x86_64 -machine q35 ...`
#   runs without -L.  Env for scripts: source scripts/qemu-env.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEV_DIR="$ACE_ROOT/host-qemu-device"
SHARED_DIR="$ACE_ROOT/shared"
SRC_PARENT="$ACE_BUILD/qemu-src"
BLD="$ACE_BUILD/qemu-build"
OUT="$ACE_BUILD/qemu"
SELF="$ACE_SCRIPTS/$(basename "${BASH_SOURCE[0]}")"

# QEMU's configure refuses --python together with a system meson, and the
# Debian +dfsg source has no bundled meson/, so we pick Debian's python3 via
# PATH instead (meson 1.0.1 from bookworm is new enough: >= 0.61.5).
CONFIGURE_FLAGS=(
    --target-list=x86_64-softmmu
    --without-default-features
    --enable-kvm --enable-tcg --enable-slirp
    --enable-vhost-net --enable-vhost-kernel --enable-vhost-user
    --disable-user --disable-docs --disable-werror
    --audio-drv-list=
    --with-git-submodules=ignore
    # where Debian's seabios, qemu-system-data and ipxe-qemu packages put
    # the BIOS, option ROMs and keymaps (scripts/deps.sh qemu installs them)
    --firmwarepath=/usr/share/seabios:/usr/share/qemu:/usr/lib/ipxe/qemu
)

input_hash() {
    (
        cd "$ACE_ROOT"
        for d in host-qemu-device shared; do
            if [ -d "$d" ]; then find "$d" -type f -print0; fi
        done | sort -z | xargs -0r sha256sum
        sha256sum <"$SELF"
        # the configure line itself, so a change to it always rebuilds
        printf '%s\n' "${CONFIGURE_FLAGS[@]}"
    ) | sha256sum | cut -c1-16
}

HASH=$(input_hash)
BIN="$OUT/$HASH/qemu-system-x86_64"
link_current() {
    mkdir -p "$OUT/bin"
    ln -sfn "../$HASH/qemu-system-x86_64" "$OUT/bin/qemu-system-x86_64"
    log qemu "binary: $OUT/bin/qemu-system-x86_64 -> $BIN"
}
if [ -x "$BIN" ]; then
    log qemu "cached build $HASH is up to date"
    link_current
    exit 0
fi

# one builder at a time (several builds may share build/); re-check after waiting
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -w 3600 9 || die "timed out waiting for $OUT/.lock"
if [ -x "$BIN" ]; then link_current; exit 0; fi

"$ACE_SCRIPTS/deps.sh" qemu

# --- 1. Debian source package ------------------------------------------------
ensure_deb_src() {
    timeout 60 apt-cache showsrc qemu 2>/dev/null | grep -c '^Package: qemu$' >/dev/null && return 0
    local f=/etc/apt/sources.list.d/ace-deb-src.sources
    if [ ! -e "$f" ]; then
        log qemu "adding deb-src entries ($f)"
        local tmp; tmp=$(mktemp)
        if [ -e /etc/apt/sources.list.d/debian.sources ]; then
            # mirror every deb822 stanza (URIs/Suites/Components/Signed-By)
            sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$tmp"
        else
            # classic one-line format
            grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
                sed 's/^deb /deb-src /' >"${tmp}"
            f=/etc/apt/sources.list.d/ace-deb-src.list
        fi
        [ -s "$tmp" ] || die "no Debian apt sources found to mirror as deb-src"
        $SUDO install -m 0644 "$tmp" "$f"
        rm -f "$tmp"
    fi
    log qemu "apt-get update (for deb-src)..."
    $SUDO timeout 600 apt-get update -q
}

find_src() { local d; for d in "$SRC_PARENT"/qemu-*/; do [ -x "$d/configure" ] && { echo "${d%/}"; return; }; done; return 0; }
SRC=$(find_src)
PRISTINE="$SRC_PARENT/pristine.git"   # git snapshot of the unpacked tree (outside it)
pgit() { git --git-dir="$PRISTINE" --work-tree="$SRC" -c user.name=ace -c user.email=ace@localhost "$@"; }
if [ -z "$SRC" ] || [ ! -d "$PRISTINE" ]; then
    ensure_deb_src
    log qemu "fetching Debian source package into $SRC_PARENT..."
    rm -rf "$SRC_PARENT"; mkdir -p "$SRC_PARENT"
    (cd "$SRC_PARENT" && timeout 900 apt-get source -q -o APT::Sandbox::User=root qemu) >"$SRC_PARENT/apt-source.log" 2>&1 ||
        { tail -20 "$SRC_PARENT/apt-source.log"; die "apt-get source qemu failed"; }
    SRC=$(find_src)
    [ -n "$SRC" ] || die "apt-get source qemu did not unpack a tree"
    log qemu "snapshotting the pristine tree (to undo integrate.sh edits later)..."
    pgit init -q && pgit add -A && pgit commit -qm "pristine $(basename "$SRC")"
fi
log qemu "source: $SRC ($(cat "$SRC/VERSION"))"

# --- 2. Overlay the ACE device ----------------------------------------------
# Every run starts from the pristine tree: files edited by an earlier
# integrate.sh are restored (keeping their old mtime when the new run yields
# the same content, so ninja only rebuilds what really changed) and overlay
# files that are no longer provided are removed.
SAVED=$(mktemp -d)
trap 'rm -rf "$SAVED"' EXIT
# (the list first: a `git diff` still running may hold the index lock
# that each `git checkout` takes)
CHANGED=$(pgit diff --name-only)
while read -r rel; do
    [ -n "$rel" ] || continue
    [ -f "$DEV_DIR/$rel" ] && continue          # overlaid anyway, see below
    mkdir -p "$SAVED/$(dirname "$rel")"
    cp -p "$SRC/$rel" "$SAVED/$rel"
    pgit checkout -q -- "$rel"
done <<<"$CHANGED"
MANIFEST="$SRC_PARENT/overlay.list"
if [ -f "$MANIFEST" ]; then
    while read -r rel; do
        if [ ! -f "$DEV_DIR/$rel" ] && ! pgit ls-files --error-unmatch "$rel" >/dev/null 2>&1; then
            rm -f "$SRC/$rel"; log qemu "  removed $rel"
        fi
    done <"$MANIFEST"
fi

# copy only when content differs so ninja rebuilds only what changed
sync_file() { cmp -s "$1" "$2" || { mkdir -p "$(dirname "$2")"; cp "$1" "$2"; log qemu "  updated ${2#"$SRC"/}"; }; }

log qemu "overlaying device sources..."
: >"$MANIFEST.new"
if [ -d "$DEV_DIR" ]; then
    # files laid out like the QEMU tree: first path component is a QEMU dir
    (cd "$DEV_DIR" && find . -mindepth 2 -type f -print) | sed 's:^\./::' | sort |
    while read -r rel; do
        if [ -d "$SRC/${rel%%/*}" ]; then
            sync_file "$DEV_DIR/$rel" "$SRC/$rel"
            echo "$rel" >>"$MANIFEST.new"
        fi
    done
fi
mv -f "$MANIFEST.new" "$MANIFEST"
ACE_SHARED="$SRC/hw/virtio/ace-shared"
mkdir -p "$ACE_SHARED"
for f in "$SHARED_DIR"/*.h "$SHARED_DIR"/*.c; do
    if [ -f "$f" ]; then sync_file "$f" "$ACE_SHARED/$(basename "$f")"; fi
done
for f in "$ACE_SHARED"/*; do   # drop files no longer in shared/
    if [ -f "$f" ] && [ ! -f "$SHARED_DIR/$(basename "$f")" ]; then rm -f "$f"; log qemu "  removed ${f#"$SRC"/}"; fi
done
if [ -f "$DEV_DIR/integrate.sh" ]; then
    log qemu "running host-qemu-device/integrate.sh..."
    timeout 300 bash "$DEV_DIR/integrate.sh" "$SRC"
fi
(cd "$SAVED" && find . -type f) | sed 's:^\./::' | while read -r rel; do
    if cmp -s "$SAVED/$rel" "$SRC/$rel"; then touch -r "$SAVED/$rel" "$SRC/$rel"; else log qemu "  integrate.sh changed $rel"; fi
done

# --- 3. Configure (only when needed) -----------------------------------------
STAMP="$BLD/.ace-configure"
want_stamp="$SRC ${CONFIGURE_FLAGS[*]}"
if [ ! -f "$BLD/build.ninja" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want_stamp" ]; then
    log qemu "configuring in $BLD..."
    rm -rf "$BLD"; mkdir -p "$BLD"
    (cd "$BLD" && PATH="/usr/bin:/bin:$PATH" timeout 600 "$SRC/configure" "${CONFIGURE_FLAGS[@]}") \
        >"$BLD/configure.log" 2>&1 || { tail -40 "$BLD/configure.log"; die "configure failed (see $BLD/configure.log)"; }
    echo "$want_stamp" >"$STAMP"
fi

# --- 4. Build ------------------------------------------------------------------
log qemu "building with ninja (full log: $BLD/ninja.log)..."
start=$(date +%s)
# Show every 50th progress line plus anything that is not a progress line
# (warnings, errors). pipefail propagates ninja's status.
PATH="/usr/bin:/bin:$PATH" timeout 5400 ninja -C "$BLD" qemu-system-x86_64 2>&1 | tee "$BLD/ninja.log" |
    awk '/^\[[0-9]+\/[0-9]+\]/ { split(substr($1,2), a, "/"); if (a[1] % 50 == 0 || a[1] == a[2]+0) { print "[qemu] " substr($0, 1, 110); fflush() } next } { print; fflush() }' ||
    die "ninja failed (see $BLD/ninja.log)"
log qemu "ninja finished in $(( $(date +%s) - start ))s"

mkdir -p "$OUT/$HASH"
cp "$BLD/qemu-system-x86_64" "$BIN.tmp" && mv -f "$BIN.tmp" "$BIN"
link_current
# keep the 3 newest cached binaries
ls -1dt "$OUT"/*/ | { grep -v '/bin/$' || true; } | tail -n +4 | while read -r d; do rm -rf "$d"; done
log qemu "done; use: source scripts/qemu-env.sh  (exports ACE_QEMU, ACE_QEMU_FIRMWARE_ARGS)"
