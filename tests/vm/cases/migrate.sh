#!/usr/bin/env bash
# Live migration and save/restore with the channel up.  A guest keeps
# soaks in every mode pinging the host's echo while the VM moves: live to
# a second QEMU on this machine (-incoming over a UNIX socket), then to a
# file and back into a third QEMU (save/restore).  The source's peer is
# told DETACH and answers; each new host's echo is found again; what the
# source's host mprocs had queued is exactly what the guest counts lost
# and what the device reclaims; every block is accounted for; no kernel
# warning anywhere.  A second source peer holds 100 blocks: they are
# reclaimed at the destination too.  A saved state whose peers_up names
# peers the device does not have is refused at load.
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer
Q="python3 $ROOT/tests/vm/qmp.py"
SECS=90
export VM_TIMEOUT=400

# qemu_for NAME SOCKET [ARGS...]: the device, QMP and tracing for one QEMU
qemu_for() {
	local name=$1 sock=$2
	shift 2
	vm_start_as "$name" migrate.sh "$SECS" -- -device "virtio-ace-pci,socket=$sock" \
		-qmp "unix:$T/qmp-$name.sock,server=on,wait=off" \
		-trace virtio_ace_freeze "$@"
}
# move FROM URI: migrate FROM to URI, wait until done, then quit FROM
move() {
	local from=$1 uri=$2
	$Q "$T/qmp-$from.sock" migrate-set-parameters \
		'{"max-bandwidth": 4294967296, "downtime-limit": 2000}' >/dev/null
	$Q "$T/qmp-$from.sock" migrate "{\"uri\": \"$uri\"}" >/dev/null
	$Q "$T/qmp-$from.sock" wait-migration 180 | tee "$T/mig-$from.log"
	local rc=${PIPESTATUS[0]}
	$Q "$T/qmp-$from.sock" quit >/dev/null 2>&1 || true
	vm_wait_as "$from" || true	# it quits with no guest verdict
	return "$rc"
}
no_kernel_problem() { ! grep -aqE 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic' "$T/console-$1.log"; }
# reclaimed NAME: the blocks the device of QEMU NAME reclaimed at load
reclaimed() { sed -n 's/.*state loaded: \([0-9]*\) block(s).*/\1/p' "$T/vm-$1.log"; }

echo "live migration:"
host echo0 300 "$hp" -t 200000 "$T/s0.sock" serve hecho 290
qemu_for src "$T/s0.sock"
wait_for "$T/console-src.log" '^ACE-TEST soaking' 180 ||
	check "the guest started its soaks" false
host grab 300 "$hp" -t 200000 "$T/s0.sock" grab 100 290
wait_for "$T/grab.log" '^grab: holding 100 block' 30
sleep 8
host echo1 300 "$hp" -t 200000 "$T/s1.sock" serve hecho 290
qemu_for dst1 "$T/s1.sock" -incoming "unix:$T/mig1.sock"
wait_for "$T/vm-dst1.log" . 1 || sleep 2
check "live migration to a second QEMU completes" move src "unix:$T/mig1.sock"
check "the source's peers answered DETACH (none dropped)" \
	has "$T/vm-src.log" 'virtio_ace_freeze peers up 0x3, after DETACH 0x3'
check "the source's echo saw its arena go" has "$T/echo0.log" '^serve: arena 1 gone'
check "the destination reclaimed the source's host mprocs" \
	has "$T/vm-dst1.log" 'state loaded: [0-9]+ block\(s\)'
check "the destination's echo got the migrated arena" \
	wait_for "$T/echo1.log" '^serve: arena 1 attached' 30

echo "save to a file, restore into a third QEMU:"
sleep 12
check "the VM is saved to a file" move dst1 "exec:cat > $T/vm.state"
check "the state file holds the VM" [ -s "$T/vm.state" ]
host echo2 300 "$hp" -t 200000 "$T/s2.sock" serve hecho 290
qemu_for dst2 "$T/s2.sock" -incoming "exec:cat $T/vm.state"
check "the restored guest runs to the end and passes" vm_wait_as dst2
tr -d '\r' <"$T/console-dst2.log" >"$T/con.txt"
con() { grep -aqE "$1" "$T/con.txt"; }
check "every soak message is accounted for" con '^ACE-TEST ok: every soak message is accounted for'
for m in poll interrupt adaptive; do
	check "soak-$m: its echo went away with each move" \
		con "^ACE-TEST ok: soak-$m saw its echo go away with each move"
	check "ping the last host's echo in $m mode" \
		con "^ACE-TEST ok: ping the last host's echo in $m mode"
done
check "no block leaked (census)" con '^ACE-TEST ok: no block leaked'
lost=$(sed -n 's/^ACE-TEST lost-total \([0-9]*\) .*/\1/p' "$T/con.txt")
r1=$(reclaimed dst1) r2=$(reclaimed dst2)
echo "  lost by the guest: $lost; reclaimed at load: $r1 + $r2"
accounted() { [ -n "$lost" ] && [ -n "$r1" ] && [ -n "$r2" ] && [ $((r1 + r2)) -eq $((100 + lost)) ]; }
check "reclaimed = the grabber's 100 + what the guest lost ($r1 + $r2 = 100 + $lost)" accounted
for v in src dst1 dst2; do
	check "$v: no kernel warning on the console" no_kernel_problem $v
done

echo "a saved state naming peers the device does not have:"
check "the saved state's peers_up is set to 0xffffffff" \
	python3 "$ROOT/tests/vm/ace_state.py" "$T/vm.state" "$T/bad.state" peers-up 0xffffffff
qemu_for bad "$T/s3.sock" -incoming "exec:cat $T/bad.state"
check "QEMU refuses to load it, saying why" wait_for "$T/vm-bad.log" \
	'incoming state does not fit this device .*peers up 0xffffffff there' 60
$Q "$T/qmp-bad.sock" quit >/dev/null 2>&1 || true
vm_wait_as bad || true
grep -a '^ACE-TEST\|^ACE-SOAK.*final' "$T/con.txt" | sed 's/^/    /'
grep -ah 'virtio-ace\|virtio_ace' "$T"/vm-*.log | sed 's/^/    /' | head -20
cat "$T"/mig-*.log | sed 's/^/    /'
finish
