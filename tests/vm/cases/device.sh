#!/usr/bin/env bash
# The virtio-ace device: refuses to start without shared RAM (naming the
# fix); the guest sees PCI 1af4:107f and attaches its arena; host peers
# connect, get the layout and fds and see that arena; a peer that dies
# mid-way leaves QEMU, the guest and the other peers running; the
# chardev= form serves one peer too.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/scripts/qemu-env.sh"

echo "no shared RAM:"
# shellcheck disable=SC2086
timeout 30 "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -nodefaults -display none \
	-machine q35 -accel tcg -device virtio-ace-pci,socket="$SOCK" \
	>"$T/noshm.log" 2>&1 && rc=0 || rc=$?
check "QEMU refuses to start" [ "$rc" -ne 0 -a "$rc" -ne 124 ]
check "the error gives the memfd share=on fix" \
	has "$T/noshm.log" 'memory-backend-memfd,id=mem,size=<RAM size>,share=on'

# shellcheck disable=SC2086
timeout 30 "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -nodefaults -display none -accel tcg \
	-object memory-backend-memfd,id=mem,size=256M,share=on -m 256M \
	-machine q35,memory-backend=mem -device virtio-ace-pci,socket="$T/no/such/dir/s" \
	>"$T/nobind.log" 2>&1 && rc=0 || rc=$?
refused_nobind() { [ "$rc" -eq 1 ] && has "$T/nobind.log" 'Failed to bind socket to .*No such file'; }
check "an unusable socket path is refused with the reason" refused_nobind

echo "socket=PATH, several peers:"
vm_start device.sh "hold,20"
hp=$B/vm/ace_hostpeer
host peerA 60 "$hp" -t 60000 "$SOCK" hold 40
host peerB 60 "$hp" -t 60000 "$SOCK" hold 40
wait_for "$T/console.log" 'ACE-TEST arena-attached' 90
check "guest module attached its arena" console 'ACE-TEST arena-attached'
check "peer A connected" has "$T/peerA.log" '^connected: peer [0-9]'
check "peer B connected" has "$T/peerB.log" '^connected: peer [0-9]'
timeout 30 "$hp" -t 20000 "$SOCK" probe >"$T/probe1.log" 2>&1 || true
check "a third peer maps the guest's arena" \
	has "$T/probe1.log" '^arena 16777216 bytes, generation [0-9]+, 64 mproc slots'
check "it validated every class" has "$T/probe1.log" '^class 3: 2 blocks of 2097152 bytes, 2 free'
kill -KILL "$PID_peerA"
sleep 1
timeout 30 "$hp" -t 20000 "$SOCK" probe >"$T/probe2.log" 2>&1 || true
check "after peer A is killed, a new peer still attaches" has "$T/probe2.log" '^arena 16777216 bytes'
check "peer B is still connected" kill -0 "$PID_peerB"
check "QEMU is still running" kill -0 "$VMPID"
check "the guest runs to the end and passes" vm_wait
check "the guest sees PCI 1af4:107f" console 'ACE-TEST pci 0x1af4:0x107f'
check "the guest saw peers come and go" console 'ACE-TEST peers-up 0x[0-9a-f]+'

echo "chardev=ID, one peer:"
rm -f "$T/chr.sock"
host peerC 60 "$hp" -t 60000 "$T/chr.sock" probe
vm_start device.sh "hold,6" -- -chardev "socket,id=ace0,path=$T/chr.sock,server=on,wait=off" \
	-device virtio-ace-pci,chardev=ace0
check "the guest passes" vm_wait
check "the chardev peer maps the arena" has "$T/peerC.log" '^arena 16777216 bytes'
finish
