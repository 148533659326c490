# shellcheck shell=bash
# Sourced by tests/vm/cases/*.sh: start a guest and host processes, each
# under a timeout and ended by its PID, and count checks.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$ROOT/build
T=$(mktemp -d "${TMPDIR:-/tmp}/ace-vm.XXXXXX")
SOCK=$T/ace.sock
PIDS=()
VMPID=""
declare -A VMPIDS=()	# named VMs (vm_start_as): NAME -> run-vm.sh PID
passed=0 failed=0
# services in these tests start before their VM: let them wait for it
export ACE_WAIT=120

cleanup() {
	local p
	for p in "${PIDS[@]}" $VMPID "${VMPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${PIDS[@]}" $VMPID "${VMPIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "$failed" -gt 0 ]; then
		for f in "$T"/console*.log; do
			[ -f "$f" ] || continue
			echo "--- $(basename "$f" .log) (last 40 lines) ---"
			tr -d '\r' <"$f" | grep -av '^\s*$' | tail -n 40
		done
	fi
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

check() { # check DESCRIPTION COMMAND...: one named assertion
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "  ok - $what"
	else
		failed=$((failed + 1))
		echo "  FAIL - $what"
	fi
}

# has FILE REGEX: the file has a line matching REGEX
has() { grep -aqE "$2" "$1"; }

# host NAME SECS CMD...: a host process in the background, output in $T/NAME.log
host() {
	local name=$1 secs=$2
	shift 2
	timeout --kill-after=5 "$secs" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	eval "PID_${name//-/_}=$!"
}

# vm_start GUEST-SCRIPT [ARGS] [-- QEMU ARGS]: boot the guest in the
# background with the device on $SOCK (unless QEMU args say otherwise).
vm_start() {
	local script=$1 args=${2:-}
	shift 2 || shift $#
	[ "${1:-}" = "--" ] && shift
	local dev=(-device "virtio-ace-pci,socket=$SOCK")
	[ $# -gt 0 ] && dev=("$@")
	"$ROOT/scripts/run-vm.sh" --initrd "$B/vm/initramfs.cpio.gz" \
		--append "ace.run=/tests/$script ace.args=$args" \
		--timeout "${VM_TIMEOUT:-180}" --log "$T/console.log" \
		-- "${dev[@]}" >"$T/vm.log" 2>&1 &
	VMPID=$!
}

# vm_start_as NAME GUEST-SCRIPT ARGS -- QEMU ARGS: one of several guests;
# console in $T/console-NAME.log, QEMU's own PID in $T/NAME.qemu-pid.
vm_start_as() {
	local name=$1 script=$2 args=$3
	shift 3
	[ "${1:-}" = "--" ] && shift
	rm -f "$T/$name.qemu-pid"
	"$ROOT/scripts/run-vm.sh" --initrd "$B/vm/initramfs.cpio.gz" \
		--append "ace.run=/tests/$script ace.args=$args" \
		--timeout "${VM_TIMEOUT:-180}" --log "$T/console-$name.log" \
		--pidfile "$T/$name.qemu-pid" -- "$@" >"$T/vm-$name.log" 2>&1 &
	VMPIDS[$name]=$!
}

# vm_wait_as NAME: like vm_wait, for a named guest
vm_wait_as() {
	local rc=0
	wait "${VMPIDS[$1]}" || rc=$?
	unset "VMPIDS[$1]"
	return $rc
}

# console_of NAME REGEX: the named guest printed a matching line
console_of() { tr -d '\r' <"$T/console-$1.log" | grep -aE "$2" >/dev/null; }

# vm_wait: wait for the guest to finish; 0 if it passed (run-vm.sh rules)
vm_wait() {
	local rc=0
	wait "$VMPID" || rc=$?
	VMPID=""
	return $rc
}

# console REGEX: the guest printed a matching line (grep reads to the end:
# with -q it could exit first, and pipefail would report tr's SIGPIPE)
console() { tr -d '\r' <"$T/console.log" | grep -aE "$1" >/dev/null; }

# wait_for FILE REGEX SECS: until FILE has a matching line
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ -f "$1" ] && grep -aqE "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# qmp_watch_checks LOG MIN: the verdict on a finished `qmp.py SOCKET
# watch-status SECS` (its output in LOG, shown): every query-status
# answered within 1 s, and at least MIN answers
qmp_watch_checks() {
	local slowest answers
	cat "$1"
	slowest=$(sed -n 's/^status: [0-9]* answers, slowest \([0-9]*\) ms$/\1/p' "$1")
	answers=$(sed -n 's/^status: \([0-9]*\) answers.*/\1/p' "$1")
	check "QMP answered query-status within 1 s throughout (slowest ${slowest:-?} ms)" \
		test "${slowest:-99999}" -lt 1000
	check "QMP answered at least $2 times (${answers:-no} answers)" \
		test "${answers:-0}" -ge "$2"
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
