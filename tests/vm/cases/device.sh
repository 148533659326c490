#!/usr/bin/env bash
# The virtio-ace device: refuses an arena region it cannot share (naming
# the fix); the guest sees PCI 1af4:107f and attaches its arena in the
# device's region; host peers connect, get the layout and fds and see that
# arena and nothing else of the guest; a peer that dies mid-way leaves
# QEMU, the guest and the other peers running; the chardev= form serves
# one peer too.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/scripts/qemu-env.sh"

# refused QEMU ARGS...: QEMU exits at once (not by timeout); output in $T/refused.log
refused() {
	local rc=0
	# shellcheck disable=SC2086
	timeout 30 "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -nodefaults -display none \
		-machine q35 -m 128M "$@" >"$T/refused.log" 2>&1 || rc=$?
	cat "$T/refused.log"
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]
}
echo "regions the device refuses:"
T2="-accel tcg,thread=multi -smp 2"
check "one vCPU under TCG is refused, naming the fix" \
	eval 'refused -accel tcg,thread=multi -smp 1 -device virtio-ace-pci,socket=$SOCK &&
		has $T/refused.log "atomic against host processes only with multi-threaded TCG and two or more vCPUs: use -accel tcg,thread=multi and -smp 2"'
check "single-threaded TCG is refused too" \
	eval 'refused -accel tcg,thread=single -smp 2 -device virtio-ace-pci,socket=$SOCK &&
		has $T/refused.log "use -accel tcg,thread=multi"'
check "a memdev that is not shared is refused, naming share=on" \
	eval 'refused $T2 -object memory-backend-ram,id=ar,size=16M \
		-device virtio-ace-pci,socket=$SOCK,memdev=ar &&
		has $T/refused.log "memdev .ar. must be shared with host processes.*share=on"'
check "a memdev that is guest RAM already is refused" \
	eval 'refused $T2 -object memory-backend-memfd,id=m0,size=128M,share=on \
		-numa node,memdev=m0 -device virtio-ace-pci,socket=$SOCK,memdev=m0 &&
		has $T/refused.log "memdev .m0. is already in use"'
check "a memdev that can shrink is refused unless allow-unsealed=on" \
	eval 'refused $T2 -object memory-backend-file,id=ar,size=16M,mem-path=$T/ar.img,share=on \
		-device virtio-ace-pci,socket=$SOCK,memdev=ar &&
		has $T/refused.log "memdev .ar. can shrink .* allow-unsealed=on"'
check "a read-only memdev is refused" \
	eval 'refused $T2 -object memory-backend-file,id=ar,size=16M,mem-path=$T/ar.img,share=on,readonly=on \
		-device virtio-ace-pci,socket=$SOCK,memdev=ar,allow-unsealed=on &&
		has $T/refused.log "memdev .ar. is read-only"'
check "size= and memdev= together are refused" \
	eval 'refused $T2 -object memory-backend-memfd,id=ar,size=16M,share=on \
		-device virtio-ace-pci,socket=$SOCK,memdev=ar,size=16M &&
		has $T/refused.log "give size= or memdev=, not both"'
check "a region below 64 KiB is refused with the bounds" \
	eval 'refused $T2 -device virtio-ace-pci,socket=$SOCK,size=4096 &&
		has $T/refused.log "arena region must be 65536..1073741824 bytes"'
check "neither chardev= nor socket= is refused" \
	eval 'refused $T2 -device virtio-ace-pci &&
		has $T/refused.log "give chardev=<id> .one host peer. or socket=<path>"'
# shellcheck disable=SC2086
timeout 30 "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -nodefaults -display none \
	-accel tcg,thread=multi -smp 2 -machine q35 -m 128M -device virtio-ace-pci,socket="$T/no/such/dir/s" \
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
check "a third peer maps the guest's arena: the whole 64 MiB region" \
	has "$T/probe1.log" '^arena 67108864 bytes, generation [0-9]+, 64 mproc slots'
# every class listed, each with all its blocks free (nothing held yet)
all_classes_free() {
	awk '/^class [0-9]+: / { n++; if ($3 != $(NF - 1)) bad++ }
	     END { exit !(n >= 4 && !bad) }' "$T/probe1.log"
}
check "it validated every class, every block free" all_classes_free
check "the region fd it was given is exactly the region (64 MiB)" \
	has "$T/probe1.log" '^region fd 67108864 bytes$'
check "its one shared mapping is the arena region, nothing else of the guest" \
	eval 'has "$T/probe1.log" "^shared mappings: 1$" &&
		has "$T/probe1.log" "^shared mapping 67108864 bytes /memfd:virtio-ace-arena"'
qpid=$(pgrep -f -n "virtio-ace-pci,socket=$SOCK" || true)
guest_ram_private() {
	[ -n "$qpid" ] && ! grep -q 'memfd:' <(grep -v 'virtio-ace-arena' "/proc/$qpid/maps")
}
check "QEMU's guest RAM is private: its only memfd is the arena region" guest_ram_private
kill -KILL "$PID_peerA"
sleep 1
timeout 30 "$hp" -t 20000 "$SOCK" probe >"$T/probe2.log" 2>&1 || true
check "after peer A is killed, a new peer still attaches" has "$T/probe2.log" '^arena 67108864 bytes'
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
check "the chardev peer maps the arena" has "$T/peerC.log" '^arena 67108864 bytes'

echo "chardev=ID that cannot pass fds (TCP):"
# HELLO cannot go (no SCM_RIGHTS over TCP): the device says why and ends
# the connection, so its client is not left connected and never told.
# The test listens (port 0: no collision), QEMU's chardev connects to it.
python3 - "$T/tcp.port" >"$T/tcp-client.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(60)
c, _ = s.accept()
c.settimeout(10)
try:
    while c.recv(4096):
        pass
except socket.timeout:
    sys.exit("still connected after 10 s, and told nothing")
except ConnectionResetError:
    pass
print("the connection ended")
PY
tcpc=$!
for i in $(seq 50); do [ -s "$T/tcp.port" ] && break; sleep 0.1; done
host tcpqemu 90 "$ACE_QEMU" $ACE_QEMU_FIRMWARE_ARGS -nodefaults -display none -S \
	-machine q35 -m 128M -accel tcg,thread=multi -smp 2 \
	-chardev "socket,id=tcp0,host=127.0.0.1,port=$(cat "$T/tcp.port")" \
	-device virtio-ace-pci,chardev=tcp0
wait "$tcpc" || true
cat "$T/tcp-client.log"
check "a TCP chardev's connection is ended when HELLO cannot be sent" \
	has "$T/tcp-client.log" '^the connection ended'
check "QEMU says why" has "$T/tcpqemu.log" 'peer 0 cannot be passed fds over its chardev'
tcpq=$(pgrep -P "$PID_tcpqemu" || true)
check "QEMU is still running" test -n "$tcpq"
[ -z "$tcpq" ] || kill -TERM "$tcpq"
wait "$PID_tcpqemu" 2>/dev/null || true
finish
