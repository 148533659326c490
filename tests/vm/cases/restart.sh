#!/usr/bin/env bash
# shellcheck disable=SC2154 # PID_<name> are set by host() in lib.sh
# Restarts and faults, host side.
#   (a) hecho (ace-echo) is stopped with 16 guest messages in flight, then
#       killed (SIGKILL): the device reclaims exactly those 16 (its trace
#       says so), the guest's ace-soak counts them lost, a restarted hecho
#       serves again, and no block leaks.  The rule: a dead service's
#       queued and held messages are freed, never delivered; a restarted
#       service starts empty, under a new mproc id.
#   (d) ace.ko is reloaded (and the driver unbound and bound) four times
#       while a host peer floods a guest sink; the peer follows each new
#       arena and keeps sending.
#   (b) QEMU is killed while host peers (echo in adaptive and poll mode,
#       ping mid-stream, serve, flood) are connected: each says the device
#       is gone and exits within seconds, with a status, not a signal.
#   (c) the guest reboots (reboot -f) mid-stream: host peers see the
#       detach and the new arena, and traffic resumes after the reboot.
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
con() { has "$T/con.txt" "$1"; }
# child PID: host() starts CMD under timeout; signals go to CMD itself
child() { awk '{ print $1 }' "/proc/$1/task/$1/children" 2>/dev/null; }
# gone_within SECS PID: the process ended within SECS seconds
gone_within() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
# status PID: its exit status (after it ended)
status() { local r=0; wait "$1" || r=$?; echo "$r"; }

echo "(a) a service killed with messages in flight, (d) reloads, (b) QEMU killed:"
host hecho 120 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m adaptive -t 110
host flood 300 "$hp" -t 120000 "$SOCK" flood gsink 280
VM_TIMEOUT=400 vm_start restart.sh faults -- -device "virtio-ace-pci,socket=$SOCK" \
	-trace virtio_ace_reaped -pidfile "$T/qemu.pid"
wait_for "$T/console.log" 'ACE-TEST soak-running' 150
e=$(child "$PID_hecho")
kill -STOP "$e"		# the guest's window of 16 fills up and waits
sleep 2
kill -KILL "$e"
check "a: hecho killed" gone_within 5 "$PID_hecho"
sleep 0.5
host hecho2 200 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m adaptive -t 190
wait_for "$T/console.log" 'ACE-TEST waiting-for-the-end' 200
host k_echo 60 "$B/tools/ace-echo" -d "$SOCK" -n hk1 -m adaptive
host k_echo_poll 60 "$B/tools/ace-echo" -d "$SOCK" -n hk2 -m poll
host k_ping 60 "$B/tools/ace-ping" -d "$SOCK" -T gecho -m poll -n 100000000
host k_serve 60 "$hp" -t 20000 "$SOCK" serve hk3 50
wait_for "$T/k_echo_poll.log" 'serving as hk2' 20
sleep 3			# the ping is mid-stream
ACE_WAIT=10 timeout 20 "$B/tools/ace-stat" -d "$SOCK" --json >"$T/stat.log" 2>&1 || true
qpid=$(cat "$T/qemu.pid")
kill -KILL "$qpid"
for p in k_echo k_echo_poll k_ping k_serve flood; do
	v=PID_$p
	check "b: $p ends within 5 s of QEMU's death" gone_within 5 "${!v}"
done
vm_wait || true
tr -d '\r' <"$T/console.log" >"$T/con.txt"
check "the guest kernel stayed quiet" \
	bash -c "! grep -aE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' '$T/con.txt'"
check "no guest check failed" con '^ACE-TEST faults: 0 failure'
for c in "a: every message accounted for across the kill" \
	"a: the restarted hecho served again" "a: no block leaked" \
	"d: the flood reaches the guest" \
	"d: sink stopped, ace.ko reloaded under the flood" \
	"d: sink killed 5 times while draining, ace.ko reloaded under the flood" \
	"d: sink stopped, driver unbound and bound under the flood" \
	"d: once more"; do
	check "$c" con "^ACE-TEST ok: $c"
done
check "a: the guest lost exactly the 16 in flight" \
	con '^ACE-SOAK gsoak final: poll to hecho: sent [0-9]+ received [0-9]+ lost 16 in-flight 0 service-deaths 1 bad 0'
check "a: the device reclaimed exactly those 16 blocks" \
	has "$T/vm.log" 'virtio_ace_reaped peers 0x[0-9a-f]+: [0-9]+ mproc\(s\), 16 block\(s\)'
check "d: the flood fed five arenas" \
	[ "$(grep -cE '^flood: arena [0-9]+: sent [1-9]' "$T/flood.log")" -ge 5 ]
for p in k_echo k_echo_poll k_ping; do
	v=PID_$p
	r=$(status "${!v}")
	check "b: $p exits with status 1 (not a signal)" [ "$r" = 1 ]
	check "b: $p says why" has "$T/$p.log" 'the device closed the connection \(QEMU exited\?\)'
done
check "b: the ping was mid-stream when QEMU died" \
	has "$T/stat.log" '"name": "gecho", .*"received": [1-9]'
for p in k_serve flood; do
	v=PID_$p
	r=$(status "${!v}")
	check "b: $p exits cleanly" [ "$r" = 0 ]
	check "b: $p says why" has "$T/$p.log" 'the device is gone: the device closed the connection'
done
grep -a '^ACE-TEST\|^ACE-SOAK\|^ace-echo' "$T/con.txt" | sed 's/^/    /'
grep -a 'virtio_ace_reaped' "$T/vm.log" | sed 's/^/    /'
for p in hecho hecho2 flood k_echo k_echo_poll k_ping k_serve; do
	sed "s/^/    $p: /" "$T/$p.log"
done

echo "(c) a guest reboot mid-stream:"
SOCK=$T/ace2.sock
host serve 300 "$hp" -t 120000 "$SOCK" serve hecho 280
host r_ping 300 "$B/tools/ace-ping" -d "$SOCK" -T gecho -m interrupt -n 100000000
VM_TIMEOUT=400 vm_start restart.sh reboot -- -device "virtio-ace-pci,socket=$SOCK" \
	-action reboot=reset
check "the guest passes after its reboot" vm_wait
tr -d '\r' <"$T/console.log" >"$T/con.txt"
check "c: the first boot rebooted mid-stream" con '^ACE-TEST rebooting mid-stream'
check "c: a second boot" con '^ACE-TEST second boot'
for c in "c: the serve peer re-attached to the new arena" \
	"c: traffic resumes after the reboot" "c: no block leaked"; do
	check "$c" con "^ACE-TEST ok: $c"
done
check "c: the guest's soak was mid-stream before the reboot" \
	con '^ACE-SOAK gsoak progress: adaptive to hecho: sent [1-9]'
check "c: the serve peer saw the first arena go" has "$T/serve.log" '^serve: arena 1 gone after [1-9][0-9]* messages'
check "c: and the second arrive" has "$T/serve.log" '^serve: arena 2 attached'
r=$(status "$PID_r_ping")
check "c: a host ping mid-stream saw the detach and exited with status 1" [ "$r" = 1 ]
check "c: it says why" has "$T/r_ping.log" 'the guest detached'
grep -a '^ACE-TEST\|^ACE-SOAK' "$T/con.txt" | sed 's/^/    /'
sed 's/^/    serve: /' "$T/serve.log"
sed 's/^/    r_ping: /' "$T/r_ping.log"
finish
