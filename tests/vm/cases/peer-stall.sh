#!/usr/bin/env bash
# QEMU never waits on a peer.  One guest (a 256 MiB arena, 1,024 mproc
# slots) keeps round-tripping with a healthy host echo while three other
# peers misbehave:
#   stopped  an echo that is SIGSTOPped (never reads a kick or a message)
#   blocker  makes every fd it was given blocking, fills the raise
#            counter to its limit, never reads a kick
#   hog      claims 1,000 mprocs holding blocks, then is killed: the
#            device reclaims them all (one pass over the blocks, sliced)
# Throughout, QMP query-status answers within 1 s, the guest's echo
# rounds all succeed, and the reclaim never held the BQL for 50 ms (the
# device's own timing of its longest slice, x-reap-max-ns, printed).
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
Q="python3 $ROOT/tests/vm/qmp.py"
SECS=60
QOM='{"path": "/machine/peripheral/ace0/virtio-backend", "property": "%s"}'
qom() { $Q "$T/qmp2.sock" qom-get "$(printf "$QOM" "$1")"; }
# child PID: host() runs each peer under timeout(1)
child() { pgrep -P "$1" | head -n 1; }

VM_TIMEOUT=300 vm_start peer-stall.sh "$SECS" -- \
	-device "virtio-ace-pci,id=ace0,socket=$SOCK,size=256M" \
	-qmp "unix:$T/qmp.sock,server=on,wait=off" \
	-qmp "unix:$T/qmp2.sock,server=on,wait=off"
host echo 300 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m interrupt -t 250
host stopped 300 "$hp" -t 200000 "$SOCK" echo stopped 250
host blocker 300 "$hp" -t 200000 "$SOCK" blockfds 250
host hog 300 "$hp" -t 200000 "$SOCK" hog 1000 250
wait_for "$T/console.log" 'ACE-TEST arena-attached' 200
check "the guest attached a 256 MiB arena" console 'ACE-TEST arena-attached'
for i in $(seq 50); do [ -S "$T/qmp.sock" ] && break; sleep 0.2; done
host monitor 120 $Q "$T/qmp.sock" watch-status 40
wait_for "$T/hog.log" '^hog: ' 60
check "the hog holds 1,000 slots" has "$T/hog.log" '^hog: 1000 slot'
wait_for "$T/blocker.log" '^blockfds: ' 30
check "the blocker made its fds blocking" has "$T/blocker.log" '^blockfds: fds blocking'
sleep 3
stopped=$(child "$PID_stopped")
kill -STOP "$stopped"
sleep 5
passes0=$(qom x-reap-passes)
kill -KILL "$(child "$PID_hog")"
for i in $(seq 100); do [ "$(qom x-reap-passes)" -gt "$passes0" ] && break; sleep 0.2; done
max_ns=$(qom x-reap-max-ns)
freed=$(qom x-reap-freed)
echo "reclaim of the hog: $freed block(s), longest slice under the BQL $((max_ns / 1000)) us"
check "the hog's blocks came back (4,000 or more)" test "$freed" -ge 4000
check "no reclaim slice held the BQL for 50 ms" test "$max_ns" -lt 50000000
# the rest of the monitor's 40 s, with the stopped and the blocking peer
wait "$PID_monitor" || true
qmp_watch_checks "$T/monitor.log" 100
check "the healthy echo is still connected" kill -0 "$(child "$PID_echo")"
check "the hog is gone, the stopped peer still there" \
	eval '[ -z "$(child "$PID_hog")" ] && kill -0 "$stopped"' 
check "QEMU is still running" kill -0 "$VMPID"
kill -CONT "$stopped"
check "the guest's echo rounds all succeeded" vm_wait
check "the guest says so" console 'ACE-TEST echo-rounds ok=[0-9]+ bad=0'
finish
