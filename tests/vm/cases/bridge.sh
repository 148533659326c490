#!/usr/bin/env bash
# Two guests joined by ace-bridge: each pings the other's echo under its
# qualified name (vm2/echo, vm1/echo) in poll, interrupt and adaptive
# modes, 64 B and 64 KiB.  Then vm2's QEMU is killed while vm1 streams to
# it: the bridge reports it and withdraws vm2's names, vm1's stream ends
# with a clear error, vm1 goes on working, and when vm2 boots again on
# the same socket the bridge joins it back and vm1 reaches it.
. "$(dirname "$0")/../lib.sh"
export VM_TIMEOUT=400

host bridge 420 "$B/tools/ace-bridge" -s 10 --export-all "vm1=$T/vm1.sock" "vm2=$T/vm2.sock"
vm_start_as vm1 bridge.sh a -- -device "virtio-ace-pci,socket=$T/vm1.sock"
# vm2 without doorbell pages (page-per-vq=off, as QEMU builds before
# them): its processes ring by ACE_IOC_NOTIFY, vm1's by store
vm_start_as vm2 bridge.sh b -- -device "virtio-ace-pci,socket=$T/vm2.sock,page-per-vq=off"

check "vm1 streams to vm2 after its pings" \
	wait_for "$T/console-vm1.log" 'ACE-TEST stream-start' 300
check "vm2 finished its pings" wait_for "$T/console-vm2.log" 'ACE-TEST pings-done' 300
check "vm1's driver offers 8 doorbell pages" console_of vm1 'ACE-TEST doorbell-pages 8'
check "vm2's (page-per-vq=off) offers none: its processes ring by ioctl" \
	console_of vm2 'ACE-TEST doorbell-pages 0'
sleep 2
kill -KILL "$(cat "$T/vm2.qemu-pid")"
check "vm2's run ends as killed (not passed)" eval '! vm_wait_as vm2'
check "the bridge reports vm2 down" wait_for "$T/bridge.log" 'vm2: down: ' 20
check "vm1's stream ends with an error" wait_for "$T/console-vm1.log" 'ACE-TEST stream-ended rc=[1-9]' 60
check "the bridge is still running" kill -0 "$PID_bridge"

# the section bound is 1 s on vm2's second boot so a batch fits under TCG
vm_start_as vm2b bridge.sh b2 -- \
	-device "virtio-ace-pci,socket=$T/vm2.sock,section-ns=1000000000"
check "vm1 reached vm2 again" wait_for "$T/console-vm1.log" 'ACE-TEST after-restart-done' 300
# a host peer of vm1 sends to vm2/sect: through vm1's arena, the bridge,
# and vm2's notify word, while sect is inside a section
check "vm2's section test is ready" wait_for "$T/console-vm2b.log" 'ACE-TEST sect-ready' 120
timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$T/vm1.sock" burst vm2/sect 100 >"$T/burst1.log" 2>&1
check "100 messages sent to vm2/sect from vm1's side" has "$T/burst1.log" '^burst: 100 messages to vm2/sect'
check "vm2's section is held past its bound" wait_for "$T/console-vm2b.log" 'ACE-TEST sect-hold' 60
timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$T/vm1.sock" burst vm2/sect 1 >"$T/burst2.log" 2>&1
check "vm2 booted again is served and its sections pass" vm_wait_as vm2b
check "through the bridge: 100 messages, 0 interrupts, 100 deferrals" \
	console_of vm2b 'ACE-TEST batch: 100 messages, 0 interrupts, 100 deferrals'
check "through the bridge: the overrun forced one interrupt" \
	console_of vm2b 'ACE-TEST ok: one overrun counted'
timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$T/vm1.sock" burst gate 1 >/dev/null 2>&1
check "vm1 passes" vm_wait_as vm1

for m in poll interrupt; do
	check "vm1 -> vm2/echo, $m mode" \
		console_of vm1 "^ace-ping: $m mode, 64 B, [0-9]+ round trips to vm2/echo: "
	check "vm2 -> vm1/echo, $m mode" \
		console_of vm2 "^ace-ping: $m mode, 64 B, [0-9]+ round trips to vm1/echo: "
done
check "vm1 -> vm2/echo, 64 KiB, adaptive mode" \
	console_of vm1 '^ace-ping: adaptive mode, 65536 B, 200 round trips to vm2/echo'
check "vm1's own traffic after vm2 died" \
	console_of vm1 '^ace-ping: poll mode, 64 B, 1000 round trips to echo: '
check "vm1 -> vm2/echo again after vm2's reboot" \
	console_of vm1 '^ace-ping: poll mode, 64 B, 500 round trips to vm2/echo: '
check "the bridge saw vm2 come up twice" \
	test "$(grep -c 'vm2: up (' "$T/bridge.log")" -ge 2
# timeout(1) passes SIGTERM on to the bridge, which prints its counters
kill -TERM "$PID_bridge"
check "the bridge exits cleanly" wait "$PID_bridge"
# in = out + dropped, summed over the VMs, on the closing counter lines
check "every message the bridge took was forwarded or counted as dropped" \
	awk '/ in, .* out, .* dropped$/ { n++; l[n] = $0 }
	     END { if (n < 2) exit 1
		   for (k = n - 1; k <= n; k++) {
			m = split(l[k], w, " ")
			for (j = 1; j < m; j++) {
				if (w[j + 1] == "in,") i += w[j]
				if (w[j + 1] == "out,") o += w[j]
				if (w[j + 1] == "dropped") d += w[j] } }
		   print "  bridge totals: in " i ", out " o ", dropped " d
		   exit !(i > 10000 && i == o + d) }' "$T/bridge.log"
tr -d '\r' <"$T/console-vm1.log" | grep -a -E '^ace-ping|ACE-TEST' | sed 's/^/  vm1: /'
tr -d '\r' <"$T/console-vm2.log" | grep -a -E '^ace-ping|ACE-TEST' | sed 's/^/  vm2: /'
tr -d '\r' <"$T/console-vm2b.log" | grep -a -E 'ACE-TEST' | sed 's/^/  vm2 again: /'
sed 's/^/  /' "$T/bridge.log"
finish
