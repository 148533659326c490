#!/usr/bin/env bash
# Usage: scripts/mkinitramfs.sh -o OUT [-f SRC:DEST]... [-m module.ko]...
#   Builds a gzip'd newc initramfs for the test guest (kernel from
#   scripts/fetch-guest-kernel.sh):
#     - busybox-static with applet symlinks, scripts/guest/ace-exit
#     - the guest kernel's virtio modules (+ their deps), insmod'ed in order
#     - -f SRC:DEST  extra file copied to DEST (e.g. /run.sh, /bin/test)
#     - -m FILE.ko   extra module, copied and insmod'ed after the virtio ones
#   /init mounts proc/sys/devtmpfs, loads modules, runs `ace.run=<path>` from
#   the kernel command line (default /run.sh if present), prints
#   "ACE-GUEST-EXIT <status>" and exits QEMU through isa-debug-exit.
#   Extra arguments for the run command: ace.args="a,b,c" (commas -> spaces).
#   Parameters for a module insmod'ed at boot: ace.opts.MODULE="k=v,k=v".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT="" FILES=() MODS=()
while getopts "o:f:m:h" opt; do
    case $opt in
        o) OUT=$OPTARG ;;
        f) FILES+=("$OPTARG") ;;
        m) MODS+=("$OPTARG") ;;
        *) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2 ;;
    esac
done
[ -n "$OUT" ] || { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2; }

G="$ACE_GUEST"
[ -f "$G/kver" ] || "$ACE_SCRIPTS/fetch-guest-kernel.sh"
KVER=$(cat "$G/kver")
MODDIR="$G/root/lib/modules/$KVER"
BUSYBOX=/bin/busybox
"$ACE_SCRIPTS/deps.sh" guest >/dev/null
! ldd "$BUSYBOX" >/dev/null 2>&1 || die "$BUSYBOX is not static (install busybox-static)"

# guest helper programs: static, rebuilt when the source is newer
GBIN="$G/bin"
mkdir -p "$GBIN"
for c in "$ACE_SCRIPTS"/guest/*.c; do
    exe="$GBIN/$(basename "$c" .c)"
    if [ ! -x "$exe" ] || [ "$c" -nt "$exe" ]; then
        log initramfs "building $(basename "$exe") (static)"
        gcc -static -O2 -Wall -o "$exe.$$" "$c" && mv -f "$exe.$$" "$exe"
    fi
done

STAGE=$(mktemp -d "$ACE_BUILD/initramfs.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules/ace}

cp "$BUSYBOX" "$STAGE/bin/busybox"
"$BUSYBOX" --list-full | while read -r a; do
    [ -e "$STAGE/$a" ] || ln -s /bin/busybox "$STAGE/$a"
done
cp "$GBIN"/* "$STAGE/bin/"

# --- modules, in dependency order ------------------------------------------
# The guest modules are uncompressed .ko in Debian 12 (MODULE_COMPRESS_NONE);
# .ko.xz/.ko.zst would need decompressing first (busybox insmod can't).
declare -A KO=() SEEN=()
while IFS= read -r p; do
    n=$(basename "$p"); n=${n%%.ko*}; KO[${n//-/_}]=$p
done < <(find "$MODDIR/kernel" -name '*.ko*')

ORDER=()
add_mod() {  # add_mod NAME|PATH: depth-first, dependencies first
    local m=$1 path name dep
    if [ -f "$m" ]; then path=$m; name=$(basename "$m" .ko); else name=${m//-/_}; path=${KO[$name]:-}; fi
    name=${name//-/_}
    [ -z "${SEEN[$name]:-}" ] || return 0
    if [ -z "$path" ]; then
        grep -q "/${name//_/[-_]}.ko" "$MODDIR/modules.builtin" 2>/dev/null && return 0  # built in
        die "module $m not found for $KVER"
    fi
    SEEN[$name]=1
    for dep in $(modinfo -F depends "$path" | tr ',' ' '); do add_mod "$dep"; done
    case $path in
        *.ko) ;;
        *.ko.xz) xz -dc "$path" >"$STAGE/tmp/$name.ko"; path="$STAGE/tmp/$name.ko" ;;
        *.ko.zst) zstd -qdc "$path" >"$STAGE/tmp/$name.ko"; path="$STAGE/tmp/$name.ko" ;;
        *) die "unsupported module file $path" ;;
    esac
    cp "$path" "$STAGE/lib/modules/ace/$name.ko"
    rm -f "$STAGE/tmp/$name.ko"
    ORDER+=("$name")
}
for m in virtio_pci virtio_console virtio_net virtio_rng virtio_blk; do add_mod "$m"; done
for m in "${MODS[@]+"${MODS[@]}"}"; do add_mod "$m"; done
printf '%s\n' "${ORDER[@]}" >"$STAGE/etc/ace-modules"

# --- extra files --------------------------------------------------------------
for spec in "${FILES[@]+"${FILES[@]}"}"; do
    src=${spec%%:*} dest=${spec#*:}
    [ "$src" != "$spec" ] || die "-f wants SRC:DEST, got '$spec'"
    [ -e "$src" ] || die "-f: $src does not exist"
    mkdir -p "$STAGE/$(dirname "$dest")"
    cp -L "$src" "$STAGE/$dest"
done

cat >"$STAGE/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
echo "ACE-INIT start (kernel $(uname -r))"
# module parameters from the kernel command line: ace.opts.MODULE=k=v,k=v
while read -r m; do
    opts=""
    for a in $(cat /proc/cmdline); do
        case $a in ace.opts.$m=*) opts=$(echo "${a#ace.opts.$m=}" | tr ',' ' ') ;; esac
    done
    insmod "/lib/modules/ace/$m.ko" $opts || echo "ACE-INIT insmod $m failed"
done </etc/ace-modules
ifconfig lo 127.0.0.1 up 2>/dev/null

run="" args=""
for a in $(cat /proc/cmdline); do
    case $a in
        ace.run=*) run=${a#ace.run=} ;;
        ace.args=*) args=$(echo "${a#ace.args=}" | tr ',' ' ') ;;
    esac
done
[ -n "$run" ] || { [ -f /run.sh ] && run=/run.sh; }
if [ -n "$run" ]; then
    echo "ACE-INIT running $run $args"
    if [ -x "$run" ]; then "$run" $args; else sh "$run" $args; fi
    status=$?
else
    echo "ACE-GUEST-IDLE nothing to run"
    status=0
fi
echo "ACE-GUEST-EXIT $status"
ace-exit "$status"
poweroff -f
sleep 86400
EOF
chmod 0755 "$STAGE/init"

# newc entry for /dev/console, written by hand so no root/mknod is needed.
cpio_node() {  # cpio_node NAME MODE(octal) RMAJOR RMINOR
    local name=$1 n=$((${#1} + 1)) pad
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        $((0x7fff0000 + ${#1})) $((8#$2)) 0 0 1 0 0 0 0 "$3" "$4" "$n" 0
    printf '%s\0' "$name"
    pad=$(( (4 - (110 + n) % 4) % 4 )); head -c "$pad" /dev/zero
}

mkdir -p "$(dirname "$OUT")"
(
    cd "$STAGE"
    find . -mindepth 1 | sed 's:^\./::' | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible
    cpio_node dev/console 020600 5 1
    cpio_node TRAILER!!! 0 0 0
) | gzip -6 -n >"$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
log initramfs "$OUT ($(du -h "$OUT" | cut -f1); modules: ${ORDER[*]})"
