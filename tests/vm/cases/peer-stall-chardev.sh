#!/usr/bin/env bash
# QEMU never waits on the peer behind chardev= either.  That peer
# connects and never reads; the guest then has the device send it
# message after message: it forces recovery after recovery (debugfs
# "recover"), each a new ATTACH, each a DETACH and an ARENA (with the
# region's fd) to every peer.  Once its connection and its queue in the
# device are full, the device drops it, saying why, and disconnects the
# chardev.  Throughout, QMP query-status answers within 1 s, and the
# guest's round trips with a healthy socket peer all succeed; afterwards
# a new peer on the chardev is served.
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
Q="python3 $ROOT/tests/vm/qmp.py"
SECS=40
# child PID: host() runs each peer under timeout(1)
child() { pgrep -P "$1" | head -n 1; }

rm -f "$T/chr.sock"
# how much a connection holds before the device's queue fills (the
# drop came after about 125 recoveries with 212992)
echo "net.core.wmem_default: $(cat /proc/sys/net/core/wmem_default 2>/dev/null || echo ?)"
VM_TIMEOUT=300 vm_start peer-stall-chardev.sh 2000 -- \
	-chardev "socket,id=chr0,path=$T/chr.sock,server=on,wait=off" \
	-device "virtio-ace-pci,id=ace0,chardev=chr0,socket=$SOCK" \
	-qmp "unix:$T/qmp.sock,server=on,wait=off"
for i in $(seq 300); do [ -S "$T/chr.sock" ] && [ -S "$T/qmp.sock" ] && break; sleep 0.2; done
# never reads after HELLO (hold: connect, then sleep)
host mute 300 "$hp" -t 200000 "$T/chr.sock" hold 280
wait_for "$T/mute.log" '^connected: peer 0' 60 || true
check "the mute peer is the chardev's peer 0" has "$T/mute.log" '^connected: peer 0'
host echo 300 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m interrupt -t 250
# the watch covers the flood (a slow guest boots late under TCG)
wait_for "$T/console.log" 'ACE-TEST flood-start' 200 || true
check "the guest starts its flood" console 'ACE-TEST flood-start'
host monitor 120 $Q "$T/qmp.sock" watch-status "$SECS"
t_end=$((SECONDS + SECS))
wait_for "$T/console.log" 'ACE-TEST flood-done' $((SECS - 10)) || true
check "the guest's flood ended within the QMP watch" console 'ACE-TEST flood-done'
tr -d '\r' <"$T/console.log" | grep -a 'ACE-TEST flood:' | sed 's/^/  /' || true
check "QEMU dropped the chardev peer, saying why" \
	has "$T/vm.log" 'virtio-ace: peer 0 does not read its connection \(messages pile up\); dropping it'
# a new peer on the chardev after the drop, then one that stays until
# the checks below are done (the guest waits for it to go)
if console 'ACE-TEST flood-done'; then
	timeout 60 "$hp" -t 30000 "$T/chr.sock" probe >"$T/probe.log" 2>&1 || true
	host again 150 "$hp" -t 30000 "$T/chr.sock" hold 140
fi
check "a new chardev peer is served after the drop" has "$T/probe.log" '^arena [0-9]+ bytes'
# the mute peer goes when the watch ends (a QEMU waiting on it, as
# before the fix, then answers the query it held)
while [ $SECONDS -lt $t_end ]; do sleep 1; done
mute=$(child "$PID_mute" || true)
[ -z "$mute" ] || kill -KILL "$mute"
wait "$PID_monitor" || true
qmp_watch_checks "$T/monitor.log" 100
check "the healthy echo is still connected" kill -0 "$(child "$PID_echo")"
check "QEMU is still running" kill -0 "$VMPID"
# the last chardev peer goes: the guest then ends
if [ -n "${PID_again:-}" ]; then
	again=$(child "$PID_again" || true)
	[ -z "$again" ] || kill -TERM "$again"
fi
check "the guest runs to the end and passes" vm_wait
check "the guest's echo rounds all succeeded" console 'ACE-TEST echo-rounds ok=[0-9]+ bad=0'
finish
