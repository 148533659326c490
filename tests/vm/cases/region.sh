#!/usr/bin/env bash
# The arena region on every kind of host memory: guests with private RAM,
# with two NUMA nodes on memory backends, with a file-backed and a
# hugetlbfs-backed arena all carry traffic, mapped write-back; a peer
# that never reads its socket and scribbles over the arena while the
# guest reboots damages the arena only: the new kernel boots sound, and
# a reloaded ace.ko serves traffic once the scribbler is gone.
. "$(dirname "$0")/../lib.sh"
hp=$B/vm/ace_hostpeer

# boot_traffic NAME [QEMU ARGS...]: the traffic guest with a host echo
boot_traffic() {
	local name=$1
	shift
	rm -f "$SOCK"
	host "echo-$name" 200 "$hp" -t 150000 "$SOCK" serve hecho 180
	vm_start region.sh traffic -- -device "virtio-ace-pci,socket=$SOCK$1" "${@:2}"
	check "$name: the guest passes" vm_wait
	tr -d '\r' <"$T/console.log" >"$T/console-$name.txt"
	check "$name: pings in poll and interrupt mode" eval \
		'grep -q "^ACE-TEST ok: ping the host in poll mode" "$T/console-$name.txt" &&
		 grep -q "^ACE-TEST ok: ping the host in interrupt mode" "$T/console-$name.txt"'
	check "$name: the region is write-back (PAT)" \
		grep -q '^ACE-TEST ok: the region is write-back' "$T/console-$name.txt"
	grep -a 'arena attached\|^ace-ping\|PAT' "$T/console-$name.txt" | sed 's/^/    /'
	kill "$(eval echo "\$PID_echo_${name//-/_}")" 2>/dev/null || true
}

echo "private guest RAM (no shared memory backend at all):"
boot_traffic private ""

echo "two NUMA nodes on memory backends (libvirt's layout):"
boot_traffic numa "" \
	-object memory-backend-ram,id=m0,size=256M -numa node,nodeid=0,memdev=m0 \
	-object memory-backend-ram,id=m1,size=256M -numa node,nodeid=1,memdev=m1

echo "a file-backed arena (memory-backend-file: cannot be sealed):"
ACE_TRUST_UNSEALED=1 boot_traffic file ",memdev=ar,allow-unsealed=on" \
	-object "memory-backend-file,id=ar,size=32M,mem-path=$T/arena.img,share=on"
check "file: the arena is the file: 32 MiB" [ "$(stat -c %s "$T/arena.img")" = 33554432 ]

echo "  and without ACE_TRUST_UNSEALED a service refuses it:"
rm -f "$SOCK"
vm_start region.sh traffic -- -device "virtio-ace-pci,socket=$SOCK,memdev=ar,allow-unsealed=on" \
	-object "memory-backend-file,id=ar,size=32M,mem-path=$T/arena2.img,share=on"
env -u ACE_TRUST_UNSEALED timeout 100 "$hp" -t 90000 "$SOCK" probe >"$T/unsealed.log" 2>&1 || true
check "file: the service says why it refuses the unsealed region" \
	has "$T/unsealed.log" 'not sealed against shrinking.*ACE_TRUST_UNSEALED=1'
kill "$VMPID" 2>/dev/null || true
wait "$VMPID" 2>/dev/null || true
VMPID=""

echo "a hugetlbfs-backed arena (memory-backend-memfd,hugetlb=on: sealed):"
hp_before=$(cat /proc/sys/vm/nr_hugepages)
echo $((hp_before + 16)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
if [ "$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)" -ge 16 ]; then
	boot_traffic hugetlb ",memdev=ar" \
		-object memory-backend-memfd,id=ar,size=32M,hugetlb=on,hugetlbsize=2M,share=on
	echo "$hp_before" >/proc/sys/vm/nr_hugepages
else
	echo "$hp_before" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	echo "  SKIP: the host has no 16 free 2 MiB huge pages (nr_hugepages could not grow)"
fi

echo "a peer scribbles over the arena without end while the guest reboots:"
rm -f "$SOCK"
host serve 300 "$hp" -t 150000 "$SOCK" serve hecho 280
VM_TIMEOUT=400 vm_start region.sh scribble -- -device "virtio-ace-pci,socket=$SOCK" \
	-action reboot=reset
wait_for "$T/console.log" 'ACE-TEST first boot: scribble now' 150
host scribbler 300 "$hp" -t 20000 "$SOCK" scribble 280
# The scribbler writes on across the reboot, for as long as the reboot
# takes (under TCG that is the host's load): the second boot tells itself
# from the first by seeing it still up.  Once that boot has, and the
# scribbler has written into its arena for a while, it is stopped.
wait_for "$T/console.log" 'ACE-TEST second boot' 300 || true
for ((i = 0; i < 300; i++)); do
	[ "$(grep -c '^scribble: writing into arena generation' "$T/scribbler.log")" -ge 2 ] && break
	sleep 0.1
done
sleep 2
kill -TERM "$PID_scribbler" 2>/dev/null || true
check "the guest passes after its reboot" vm_wait
tr -d '\r' <"$T/console.log" >"$T/con.txt"
check "scribble: the first boot rebooted under the scribbler" \
	grep -q '^ACE-TEST rebooting under the scribbler' "$T/con.txt"
check "scribble: a second boot" grep -q '^ACE-TEST second boot' "$T/con.txt"
check "scribble: the scribbler wrote into the second boot's arena too" \
	eval '[ "$(grep -c "^scribble: writing into arena generation" "$T/scribbler.log")" -ge 2 ]'
for c in "the kernel is sound: a busybox applet runs" \
	"a reloaded ace.ko serves traffic again" "no block leaked"; do
	check "scribble: $c" grep -q "^ACE-TEST ok: $c" "$T/con.txt"
done
grep -a '^ACE-TEST\|arena broken\|virtio_ace' "$T/con.txt" | sed 's/^/    /' | tail -n 30
sed 's/^/    scribbler: /' "$T/scribbler.log" | tail -n 5
finish
