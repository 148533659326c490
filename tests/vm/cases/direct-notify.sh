#!/usr/bin/env bash
# Direct doorbells (ABI 2.2) under TCG, rung by store from a process
# through the doorbell's own page (VIRTIO_ACE_F_BELL_PAGES, the default),
# or by ACE_IOC_NOTIFY (ACE_BELLS=ioctl: the driver's kicks count those).
#   on   x-direct-notify=on (the opt-in): the host's interrupt-mode echo
#        gets its doorbell's eventfd (x-bells 1), and the guest's round
#        trips to it ring that doorbell without any QEMU thread relaying
#        it: the device's count of relayed doorbells (x-doorbells) stays
#        0, while the round trips take far less than libace's 100 ms
#        recheck (a doorbell lost would cost that much)
#   off  the default under TCG: no eventfd is given (x-bells 0), every
#        doorbell is relayed (x-doorbells grows), and a peer that asks
#        for the eventfd in order to abuse it (blockfds: every fd it
#        holds blocking, counters filled, never reading) gets none: QMP
#        answers within 1 s throughout while the guest rings its doorbell
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
Q="python3 $ROOT/tests/vm/qmp.py"
N=2000
# the device's counters x-bells, x-doorbells, x-raises in one QMP session;
# "? ? ?" when QEMU is gone (the guest failed early): the checks say so
counters() {
	PYTHONPATH=$ROOT/tests/vm python3 -c '
import sys
from qmp import Qmp
q = Qmp(sys.argv[1])
print(*(q.cmd("qom-get", {"path": "/machine/peripheral/ace0/virtio-backend",
                          "property": p}) for p in ("x-bells", "x-doorbells", "x-raises")))
' "$T/qmp-$1.sock" 2>/dev/null || echo "? ? ?"
}
child() { pgrep -P "$1" | head -n 1; }
p50() { tr -d '\r' <"$T/console-$1.log" | sed -n 's/.*ACE-TEST ping .*"p50_us": \([0-9.]*\).*/\1/p'; }

for mode in on off; do
	echo "# x-direct-notify=$mode"
	sock=$T/ace-$mode.sock
	direct=()
	[ $mode = on ] && direct=(,x-direct-notify=on)
	VM_TIMEOUT=300 vm_start_as $mode direct-notify.sh "$mode,$N" -- \
		-device "virtio-ace-pci,id=ace0,socket=$sock${direct[*]}" \
		-qmp "unix:$T/qmp-$mode.sock,server=on,wait=off" \
		-qmp "unix:$T/qmp2-$mode.sock,server=on,wait=off"
	host echo-$mode 300 "$B/tools/ace-echo" -d "$sock" -n hecho -m interrupt -t 250
	[ $mode = off ] && host blocker 300 "$hp" -t 200000 "$sock" blockfds 250
	wait_for "$T/console-$mode.log" 'ACE-TEST arena-attached' 200
	check "$mode: the guest attached its arena" console_of $mode 'ACE-TEST arena-attached'
	if [ $mode = off ]; then
		wait_for "$T/blocker.log" '^blockfds: ' 30
		check "off: the abusive peer was given no doorbell eventfd" \
			has "$T/blocker.log" '^blockfds: fds blocking, .*no bell'
		host monitor 120 $Q "$T/qmp2-$mode.sock" watch-status 20
	fi
	wait_for "$T/console-$mode.log" 'ACE-TEST (done|.*failed)' 240
	read -r bells doorbells raises < <(counters $mode)
	echo "$mode: x-bells $bells, x-doorbells $doorbells, x-raises $raises; ping p50 $(p50 $mode) us"
	check "$mode: $N round trips done" console_of $mode 'ACE-TEST done'
	# doorbell pages (page-per-vq, the default): ace-ping rang by store,
	# and the kernel only for the round trips told to use the ioctl
	read -r pages < <(tr -d '\r' <"$T/console-$mode.log" | sed -n 's/.*ACE-TEST doorbell-pages \([0-9]*\).*/\1/p')
	read -r by_store by_ioctl < <(tr -d '\r' <"$T/console-$mode.log" | sed -n 's/.*ACE-TEST kicks by-store \([0-9]*\) by-ioctl \([0-9]*\).*/\1 \2/p')
	check "$mode: the driver offers a doorbell page per peer (${pages:-?})" test "${pages:-0}" = 8
	check "$mode: $N round trips rang by store, not through the driver (its kicks grew ${by_store:-?})" \
		eval '[ "${by_store:-99999}" -lt 10 ]'
	# (a round trip rings only when the echo sleeps armed: most do)
	check "$mode: 100 round trips with ACE_BELLS=ioctl rang through the driver (kicks grew ${by_ioctl:-?} >= 50)" \
		eval '[ "${by_ioctl:-0}" -ge 50 ]'
	check "$mode: round trips well under libace's 100 ms recheck (p50 $(p50 $mode) us < 20 ms)" \
		awk -v p="$(p50 $mode)" 'BEGIN { exit !(p != "" && p < 20000) }'
	if [ $mode = on ]; then
		check "on: the echo was given its doorbell's eventfd (x-bells 1)" test "$bells" = 1
		check "on: no doorbell relayed by a QEMU thread ($doorbells)" test "$doorbells" = 0
	else
		check "off: no doorbell eventfd given (x-bells 0)" test "$bells" = 0
		check "off: the doorbells were relayed ($doorbells >= $N)" \
			eval '[ "$doorbells" -ge $N ] 2>/dev/null'
		check "off: the abusive peer is still connected" kill -0 "$(child "$PID_blocker")"
		wait "$PID_monitor" || true
		cat "$T/monitor.log"
		slowest=$(sed -n 's/^status: [0-9]* answers, slowest \([0-9]*\) ms$/\1/p' "$T/monitor.log")
		check "off: QMP answered query-status within 1 s throughout (slowest ${slowest:-?} ms)" \
			test "${slowest:-99999}" -lt 1000
	fi
	check "$mode: the guest passed" vm_wait_as $mode
done
finish
