#!/usr/bin/env bash
# Messages both ways between a guest process and a host service, in
# polled, interrupt and adaptive modes, and throughput into a sink;
# then a guest kernel mproc (ace_ktest.ko's "kecho") answering a host peer.
. "$(dirname "$0")/../lib.sh"

host hecho 120 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m adaptive -t 100
host hsink 120 "$B/tools/ace-echo" -d "$SOCK" -n hsink --sink -m adaptive -t 100
vm_start traffic.sh
wait_for "$T/console.log" 'ACE-TEST guest-echo-up' 120
timeout 60 "$B/tools/ace-ping" -d "$SOCK" -T gecho -n 300 -w 20 -m interrupt \
	>"$T/hping-irq.log" 2>&1 || true
timeout 60 "$B/tools/ace-ping" -d "$SOCK" -T gecho -n 2000 -m poll \
	>"$T/hping-poll.log" 2>&1 || true
wait_for "$T/console.log" 'ACE-TEST kecho-up' 120
timeout 60 "$B/tools/ace-ping" -d "$SOCK" -T kecho -n 300 -m interrupt \
	>"$T/hping-kecho.log" 2>&1 || true
check "the guest passes" vm_wait
for m in poll interrupt adaptive; do
	check "guest -> host echo, $m mode" \
		console "^ace-ping: $m mode, 64 B, [0-9]+ round trips to hecho: "
done
check "guest -> host, 4 KiB messages" console '^ace-ping: poll mode, 4096 B, '
check "guest -> host sink throughput, 2 senders" \
	console '^ace-bench: 2 sender\(s\), 64 B, 200000 messages'
check "host -> guest echo, interrupt mode" \
	has "$T/hping-irq.log" '^ace-ping: interrupt mode, 64 B, 300 round trips to gecho'
check "host -> guest echo, poll mode" \
	has "$T/hping-poll.log" '^ace-ping: poll mode, 64 B, 2000 round trips to gecho'
check "the guest echo was woken by interrupts" console 'ACE-TEST gecho-interrupts [1-9]'
check "host -> guest kernel mproc kecho" \
	has "$T/hping-kecho.log" '^ace-ping: interrupt mode, 64 B, 300 round trips to kecho'
check "kecho counted what it echoed" console 'ACE-TEST kecho-echoed ([3-9][0-9]{2}|[0-9]{4,})'
for f in hping-irq hping-poll hping-kecho; do cat "$T/$f.log"; done
finish
