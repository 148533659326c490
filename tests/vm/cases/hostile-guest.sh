#!/usr/bin/env bash
# A hostile guest process (tests/vm/guest/ace-hostile.c) attacks the host
# side while two host services (ace-echo as echo-a and echo-b) serve it.
#
# Resource attacks on one arena: every mproc slot, every block, a doorbell
# flood, the header rewritten (and a host peer writing garbage on the
# socket).  QEMU and both services stay up and keep serving a well-behaved
# client; newcomers get a clear ENOSPC/ENOBUFS (or a refused arena)
# meanwhile; once the attacker exits everything is back (census: free + in
# flight + held = total, all free).
#
# Corruption attacks, each on a fresh arena: bad inbox heads, a bad message
# link, an inbox cycle, a length past the block, headers rewritten while
# the host reads them, bad free-list heads and a free-list cycle.  The
# service that meets the bad word exits with -EIO naming it; the device
# logs who found what and tells the guest (whose driver then answers -EIO)
# and the other service, which exits saying so; QEMU stays up; the next
# arena is served again.
. "$(dirname "$0")/../lib.sh"

E=$B/tools/ace-echo
P=$B/tools/ace-ping
export VM_TIMEOUT=600

pid_of() { local v="PID_${1//-/_}"; echo "${!v:-}"; }

# services PHASE: echo-a and echo-b for this phase's arena
services() {
	host "a-$1" 200 "$E" -d "$SOCK" -n echo-a -m adaptive -t 190
	host "b-$1" 200 "$E" -d "$SOCK" -n echo-b -m adaptive -t 190
}

# alive NAME: host process NAME still runs
alive() { kill -0 "$(pid_of "$1")" 2>/dev/null; }

# exits_with NAME SECS REGEX: NAME exits within SECS with status 1 and
# its log says REGEX
exits_with() {
	local pid i rc=0
	pid=$(pid_of "$1")
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 1
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ] && has "$T/$1.log" "$3"
}

# stop NAME...: end host processes that still run
stop() {
	local n pid
	for n in "$@"; do
		pid=$(pid_of "$n")
		[ -n "$pid" ] || continue
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# step REGEX: wait (2 minutes) for the guest to reach a step; at once
# false if the guest is gone
step() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ -f "$T/console.log" ] && has "$T/console.log" "$1" && return 0
		kill -0 "$VMPID" 2>/dev/null || break
		sleep 0.1
	done
	has "$T/console.log" "$1" && return 0
	check "the guest reaches: $1" false
	return 1
}

# QEMU itself (run-vm.sh's child), found once the guest runs
QPID=""
qemu_up() { [ -n "$QPID" ] && kill -0 "$QPID"; }

vm_start hostile-guest.sh
echo "resource attacks (one arena):"
step 'ACE-TEST phase resources'
QPID=$(ps -o pid=,comm= --ppid "$VMPID" | awk '$2 ~ /^qemu/ { print $1 }')
services resources
# a host peer that writes garbage on the socket is dropped, alone
timeout 20 python3 - "$SOCK" >"$T/junk.log" 2>&1 <<'PY' || true
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
s.recv(4096)                        # HELLO (its fds are dropped)
s.sendall(b"junk" * 8)              # no ACEP magic
while s.recv(4096):
    pass
print("junk peer: the device closed the connection")
PY
junk_dropped() {
	has "$T/junk.log" "device closed" &&
		has "$T/vm.log" "peer [0-9]+ broke the peer protocol; dropping it"
}
check "a peer writing garbage is dropped, the device says why" junk_dropped
step 'ACE-TEST slots-full'
host late1 60 "$E" -d "$SOCK" -n late-host -t 30
check "every slot taken: a new host service is refused with ENOSPC" \
	exits_with late1 20 'late-host: .*No space left on device'
step 'ACE-TEST slots-freed'
check "a client opened before keeps being served" \
	console 'ACE-TEST ping echo-a ok=100 bad=0'
host late2 60 "$E" -d "$SOCK" -n late-host -t 30
step 'ACE-TEST ping late-host '
check "the hog gone, a new host service gets a slot and serves" \
	console 'ACE-TEST ping late-host ok=5 bad=0'
check "... and a new guest mproc too" console 'ACE-TEST create after-slots ok'
step 'ACE-TEST pools-empty'
timeout 30 "$P" -d "$SOCK" -T echo-b -n 3 -w 0 -B 0 -m adaptive >"$T/ping-empty.log" 2>&1 && rc=0 || rc=$?
no_buffers() { [ "$rc" -eq 1 ] && has "$T/ping-empty.log" "No buffer space available"; }
check "every block taken: a host client gets ENOBUFS, clearly" no_buffers
check "the census counted every block held" console 'ACE-TEST census total=([0-9]+) free=0 queued=0 held=\1'
step 'ACE-TEST pools-freed'
check "a guest client waited out the hog with ENOBUFS, then was served" \
	console 'ACE-TEST ping echo-b ok=20 bad=0 nobufs=[1-9]'
# the census right after the client that waited out the pool hog
all_back() {
	tr -d '\r' <"$T/console.log" | grep -aA5 'ACE-TEST ping echo-b ok=20' |
		grep -qE 'census total=([0-9]+) free=\1 queued=0 held=0'
}
check "every block came back (census: all free)" all_back
timeout 30 "$P" -d "$SOCK" -T echo-b -n 3 -w 0 -B 0 -m adaptive >"$T/ping-after.log" 2>&1 || true
check "the hog gone, the host client is served" \
	has "$T/ping-after.log" '3 round trips to echo-b'
step 'ACE-TEST doorbells rang='
check "a doorbell flood ran, without an error" console 'ACE-TEST doorbells rang=[0-9]+ .* errors=0'
check "echo-a answered under the flood" console 'ACE-TEST ping echo-a ok=50 bad=0'
check "echo-b answered under the flood" console 'ACE-TEST ping echo-b ok=50 bad=0'
step 'ACE-TEST header-rewritten'
timeout 30 "$B/vm/ace_hostpeer" -t 20000 "$SOCK" probe >"$T/probe-header.log" 2>&1 || true
check "a rewritten header: a new host peer refuses the arena, saying why" \
	has "$T/probe-header.log" "arena is refused: bad magic"
step 'ACE-TEST end resources'
check "a client attached before the rewrite is still served" \
	console 'ACE-TEST ping echo-a ok=30 bad=0'
check "a guest newcomer refuses the rewritten arena" console 'ACE-TEST hostile-error attach: bad magic'
check "echo-a is still up" alive a-resources
check "echo-b is still up" alive b-resources
check "QEMU is still up" qemu_up
stop a-resources b-resources late2

# corrupt PHASE VICTIM REGEX: VICTIM meets the bad word and reports REGEX
corrupt() {
	local p=$1 victim=$2 why=$3 other=b-$1
	echo "$p:"
	step "ACE-TEST phase $p" || return 0
	services "$p"
	if [ "$victim" = "bench-$p" ]; then
		step "ACE-TEST gsink-up $p" || return 0
		host "bench-$p" 120 "$B/tools/ace-bench" -d "$SOCK" -T gsink \
			-n 1000000000 -m adaptive
	fi
	step "ACE-TEST end $p" || return 0
	check "$p: QEMU is still up" qemu_up
	check "$p: the service that met it exits, naming it" \
		exits_with "$victim" 20 "the arena is broken: $why"
	[ "$victim" = "bench-$p" ] && other=a-$p
	check "$p: the device logs which peer found what" \
		has "$T/vm.log" "virtio-ace: host peer [0-9]+ found the guest's arena broken: $why"
	check "$p: the other service is told and exits, saying so" \
		exits_with "$other" 20 "the arena is broken: ${why}[^,]*, found by host peer [0-9]+"
	check "$p: the guest is told" console "ACE-TEST $p guest-broken 1"
	check "$p: the guest driver answers -EIO" \
		console "ACE-TEST create after-$p .*arena is broken"
	stop "a-$p" "b-$p" "bench-$p"
}

echo "corruption attacks (a fresh arena each):"
corrupt inbox-range a-inbox-range "inbox link is not a block"
corrupt inbox-misaligned a-inbox-misaligned "inbox link is not a block"
corrupt next-range a-next-range "inbox link is not a block"
corrupt inbox-cycle a-inbox-cycle "inbox list is cyclic"
corrupt length a-length "message length past its block"
corrupt double-fetch a-double-fetch "[a-z]"
corrupt free-range bench-free-range "free-list (head|link) is not a block of its class"
corrupt free-misaligned bench-free-misaligned "free-list (head|link) is not a block of its class"
corrupt free-cycle bench-free-cycle "free list handed out a block that was not free"

check "the guest ends cleanly (QEMU up to the end, no kernel warning)" vm_wait
check "the guest ran every phase" console 'ACE-TEST all-phases-done'
tr -d '\r' <"$T/console.log" | grep -a 'ACE-TEST' | sed 's/^/    /'
grep -a 'virtio-ace' "$T/vm.log" | sed 's/^/    /'
finish
