#!/usr/bin/env bash
# shellcheck disable=SC2154 # PID_<name> are set by host() in lib.sh
# A hostile host.  (1) The extremes the device allows (64 KiB arena, 2
# mproc slots, 32 peers, 1 us section bound) work.  (2) A host peer
# ("ace_hostpeer ... hostile") attacks the guest: an interrupt storm,
# peers churning, inbox links out of range, misaligned and cyclic, a
# message longer than its block, a slot's state and generation rewritten,
# a forged section, a junk notify word, a broken free list, a scribbled
# header, junk in every free slot, and a peer that vanishes mid-message.
# The guest kernel stays quiet (run-vm.sh fails on any WARNING or Oops),
# users of the broken arena get -EIO with the reason, the damage stays
# contained, the driver replaces a broken arena by itself (or, with
# recover=N, it stays broken until a reload or unbind/bind); it refuses bad
# config values with -EIO (fault_config) and clamps the ones it can use;
# an ATTACH answer that is no errno user space knows fails the probe with
# -EIO, and the device answers a short ATTACH with EINVAL.
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
# the console once the guest is done, without carriage returns; grep
# reads the file itself (no pipe that an early match would break)
con() { has "$T/con.txt" "$1"; }

echo "the device's extremes:"
host hecho1 150 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m interrupt -t 140
vm_start hostile.sh extreme -- \
	-device "virtio-ace-pci,socket=$SOCK,size=64K,mprocs=2,peers=32,section-ns=1000"
check "the guest passes" vm_wait
tr -d '\r' <"$T/console.log" >"$T/con.txt"
for c in "64 KiB arena, 2 slots, 32 peers, 1 us sections accepted" \
	"ping through the smallest arena" \
	"a third mproc: no slot \(-ENOSPC\), said in words" "the arena is whole"; do
	check "$c" con "^ACE-TEST ok: $c"
done
grep -a '^ACE-TEST\|^ace-ping' "$T/con.txt" | sed 's/^/    /'

echo "a hostile host peer:"
SOCK=$T/ace2.sock
host hecho2 400 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m adaptive -t 390
host hostile 400 "$hp" -t 120000 "$SOCK" hostile 390
VM_TIMEOUT=450 vm_start hostile.sh attacks
check "the guest passes" vm_wait
tr -d '\r' <"$T/console.log" >"$T/con.txt"
check "no guest check failed" con '^ACE-TEST hostile: 0 failure'
while read -r c; do
	check "$c" con "^ACE-TEST ok: $c"
done <<'EOF'
storm: a ping to a good peer completes during it
storm: the victim is served after it
storm: it reached the guest \(>= 100 interrupts\)
churn: peers come and go, the guest carries on
oob: receive fails with -EIO
misaligned: receive fails with -EIO
cycle: receive fails with -EIO
len: receive fails with -EIO
len: damage contained, the arena is whole
section: a forged section still delivers \(overrun\)
notify: a junk notify word still delivers
vanish: unannounced messages of a vanished peer arrive
vanish: its held blocks and half-claimed slot are reclaimed
klen: the driver reports a message past its block
klen: a new user gets -EIO, in words
klen again: recoveries back off \(2 to 6 in 12 s\)
klen again: the kernel log says it waits
klen again: recovered by reloading ace.ko
state: a waiter gets -EIO
state: the driver says a peer changed our slot
state: recovered by itself, a fresh arena
gen: recovered by unbinding and binding the driver \(a device reset\)
freelist: allocation fails with -EIO
header: a new channel is refused, the open one works
table: junk in every free slot: -ENOSPC, no crash
after it all: a ping to kecho
after it all: the arena is whole
config: ABI major 3 refused with -EIO
config: max_peers 33 refused with -EIO
config: section_ns 2\^32-1 is clamped to 1 s
attach: an answer of EPROTO fails the probe with -EPROTO
attach: an answer of 517 \(EPROBE_DEFER\) fails the probe with -EIO
attach: a 20-byte ATTACH is refused with EINVAL, detail 20
recovery: the queues refused after the reset: it fails, saying so; rmmod is clean
EOF
check "the reason reaches the user" con '^ACE-TEST victim oob: ok: receive -> -5: .*inbox link is not a block'
check "the storm was a storm" has "$T/hostile.log" '^hostile: storm: [0-9]{4,} raises'
check "the vanisher left as planned" has "$T/hostile.log" '^hostile: vanisher .* exiting'
hrc=0
wait "$PID_hostile" || hrc=$?
# every kind the guest offers was attacked (a kind may be attacked again
# on a later arena; "... the arena changed meanwhile" lines are no attack)
attacked() {
	local k
	for k in storm churn oob misaligned cycle len section notify vanish \
		klen state gen freelist header table; do
		grep -qE "^hostile: $k on atk-$k \(id" "$T/hostile.log" ||
			{ echo "    not attacked: $k"; return 1; }
	done
}
check "the hostile peer ran every attack and left cleanly" \
	[ "$hrc" = 0 ]
check "every kind was attacked" attacked
grep -a '^ACE-TEST\|^ace-ping\|arena broken\|fault_config' "$T/con.txt" | sed 's/^/    /'
sed 's/^/    /' "$T/hostile.log"
finish
