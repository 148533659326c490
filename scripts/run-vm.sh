#!/usr/bin/env bash
# Usage: scripts/run-vm.sh [--initrd F] [--append S] [--timeout SEC] [--mem SIZE]
#                          [--log FILE] [--accel auto|tcg|kvm] [--kernel F]
#                          [--pidfile F] [--print] [-- extra qemu args...]
#   Boots build/guest/vmlinuz (+ initramfs, default build/guest/initramfs.cpio.gz,
#   built by scripts/mkinitramfs.sh when missing) in our QEMU ($ACE_QEMU or
#   build/qemu/bin/qemu-system-x86_64) on q35 (guest RAM private: the ACE
#   arena is the device's own region) and isa-debug-exit. The serial console goes to stdout and to the log
#   (default build/logs/vm-<time>-<pid>.log). --append adds to the kernel
#   command line (e.g. "ace.run=/bin/mytest"). Exit status: 0 only if the
#   console shows "ACE-GUEST-EXIT 0" and no kernel WARNING/BUG/Oops/Call
#   Trace/panic; 124 on timeout (QEMU is killed by its PID); 1 otherwise.
#   --print: print the complete QEMU command line instead (one line, shell-
#   quoted: paste it into a shell to boot the same guest by hand; the
#   console is then your terminal, Ctrl-A X quits) and exit 0.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INITRD="" APPEND="" TIMEOUT=300 MEM=512M LOG="" ACCEL=auto PIDFILE="" PRINT=0
KERNEL="$ACE_GUEST/vmlinuz"
EXTRA=()
usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --initrd) INITRD=$2; shift 2 ;;
        --append) APPEND=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --mem) MEM=$2; shift 2 ;;
        --log) LOG=$2; shift 2 ;;
        --accel) ACCEL=$2; shift 2 ;;
        --kernel) KERNEL=$2; shift 2 ;;
        --pidfile) PIDFILE=$2; shift 2 ;;
        --print) PRINT=1; shift ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) usage ;;
        *) echo "run-vm: unknown argument '$1'" >&2; usage ;;
    esac
done

# --print: stdout is the command line alone; what preparing says goes to stderr
[ "$PRINT" = 0 ] || exec 3>&1 1>&2
. "$ACE_SCRIPTS/qemu-env.sh"
[ -x "$ACE_QEMU" ] || die "no QEMU at $ACE_QEMU (run scripts/build-qemu.sh)"
[ -f "$KERNEL" ] || "$ACE_SCRIPTS/fetch-guest-kernel.sh"
if [ -z "$INITRD" ]; then
    INITRD="$ACE_GUEST/initramfs.cpio.gz"
    if [ ! -f "$INITRD" ] || [ "$ACE_SCRIPTS/mkinitramfs.sh" -nt "$INITRD" ]; then
        "$ACE_SCRIPTS/mkinitramfs.sh" -o "$INITRD"
    fi
fi
[ -f "$INITRD" ] || die "initrd $INITRD not found"
if [ -z "$LOG" ]; then
    mkdir -p "$ACE_BUILD/logs"
    LOG="$ACE_BUILD/logs/vm-$(date +%Y%m%d-%H%M%S)-$$.log"
fi
mkdir -p "$(dirname "$LOG")"
: >"$LOG"

[ "$ACCEL" = auto ] && ACCEL=$("$ACE_SCRIPTS/kvm-probe.sh")
case $ACCEL in
    tcg) ACCEL_ARGS=(-accel "tcg,thread=multi") ;;
    kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
    *) die "--accel must be auto, tcg or kvm" ;;
esac

# panic=-1 + -no-reboot: a guest panic ends QEMU at once instead of hanging.
# A trailing loglevel=7 keeps WARNINGs on the console even with "quiet".
CMDLINE="console=ttyS0,115200 panic=-1 mitigations=off $APPEND"
case $APPEND in *loglevel*) ;; *) CMDLINE="$CMDLINE loglevel=7" ;; esac
# shellcheck disable=SC2206,SC2054
QEMU_CMD=("$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS
    -nodefaults -no-user-config -nographic -no-reboot
    -machine q35 -m "$MEM"
    -smp 2 "${ACCEL_ARGS[@]}"
    -kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
    -chardev "stdio,id=con,signal=off,logfile=$LOG" -serial chardev:con -monitor none
    -device isa-debug-exit,iobase=0xf4,iosize=0x04
    "${EXTRA[@]+"${EXTRA[@]}"}")

# quote ARG: ARG as one shell word (plain if safe, else in single quotes)
quote() {
    case $1 in
        '' | *[!A-Za-z0-9_./:=,+@%-]*) printf "'%s'" "${1//\'/\'\\\'\'}" ;;
        *) printf '%s' "$1" ;;
    esac
}
if [ "$PRINT" = 1 ]; then
    line=""
    for a in "${QEMU_CMD[@]}"; do line+="${line:+ }$(quote "$a")"; done
    echo "$line" >&3
    exit 0
fi

QPID=""
cleanup() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QPID" 2>/dev/null || return 0; sleep 0.2; done
        kill -KILL "$QPID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log vm "accel=$ACCEL mem=$MEM timeout=${TIMEOUT}s log=$LOG"
log vm "append: $CMDLINE"
start_ns=$(date +%s%N)
"${QEMU_CMD[@]}" </dev/null &
QPID=$!
[ -z "$PIDFILE" ] || echo "$QPID" >"$PIDFILE"
deadline=$(( $(date +%s) + TIMEOUT ))
timed_out=0
while kill -0 "$QPID" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        timed_out=1
        log vm "TIMEOUT after ${TIMEOUT}s, killing QEMU pid $QPID"
        cleanup
        break
    fi
    sleep 0.2
done
qrc=0
wait "$QPID" 2>/dev/null || qrc=$?
QPID=""
elapsed=$(awk -v a="$start_ns" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
echo
log vm "QEMU exited with status $qrc after ${elapsed}s"

bad=$(tr -d '\r' <"$LOG" | grep -aE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' || true)
if [ -n "$bad" ]; then
    log vm "FAIL: kernel problems on the console:"
    echo "$bad" | head -40 | sed 's/^/    /'
    exit 1
fi
[ "$timed_out" -eq 0 ] || { log vm "FAIL: timeout"; exit 124; }
# the last marker counts (kernel messages may share its line)
status=$(tr -d '\r' <"$LOG" | grep -aoE 'ACE-GUEST-EXIT [0-9]+' | tail -n1 || true)
if [ "$status" = "ACE-GUEST-EXIT 0" ]; then
    log vm "PASS (${elapsed}s)"
    exit 0
fi
log vm "FAIL: ${status:-no ACE-GUEST-EXIT marker on the console}"
exit 1
