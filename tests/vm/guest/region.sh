#!/bin/sh
# Guest side of tests/vm/cases/region.sh.
#   region.sh traffic    pings to the host's hecho in poll and interrupt
#                        mode; the arena region is mapped write-back in
#                        the kernel and in a process (PAT)
#   region.sh scribble   first boot: ask the host to start a peer that
#                        scribbles over the arena without end, then
#                        reboot -f; second boot: the kernel is sound, and
#                        once the scribbler stops a reloaded ace.ko works
. /tests/common.sh


# pat_wb: every PAT reservation of the arena region is write-back, and
# there are at least $1 of them.  The kernel's is the one that counts: a
# process's mapping gets its pages at fault time (vmf_insert_pfn), and
# the kernel gives each inserted page the memory type of the reservation
# that covers it (track_pfn_insert -> lookup_memtype), making no entry of
# its own; a non-write-back entry while a process has the arena mapped
# and in use fails the check
pat_wb() {
	addr=$(dmesg | sed -n 's/.*byte region at 0x0*\([0-9a-f]*\),.*/\1/p' | tail -n 1)
	[ -n "$addr" ] || return 1
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	l=/sys/kernel/debug/x86/pat_memtype_list
	grep -i "0x0*$addr-" $l | sed 's/^/  PAT /'
	# (not "n": check() keeps its name there)
	pat_n=$(grep -ci "0x0*$addr-" $l)
	pat_bad=$(grep -i "0x0*$addr-" $l | grep -vc write-back)
	[ "$pat_n" -ge "$1" ] && [ "$pat_bad" = 0 ]
}

traffic() {
	insmod /lib/ace/ace.ko || return 1
	dmesg | grep -a 'arena attached' | sed 's/^/  /'
	check "arena attached in the region" [ -c /dev/ace0 ]
	check "ping the host in poll mode" ace-ping -T hecho -n 500 -m poll
	check "ping the host in interrupt mode" ace-ping -T hecho -n 200 -m interrupt
	ace-echo -n gmapped -m interrupt -t 30 &
	pid=$!
	wait_mproc gmapped 10
	check "the region is write-back in the kernel and in a process (PAT)" pat_wb 1
	kill $pid
	wait $pid
	return 0
}

scribble() {
	insmod /lib/ace/ace.ko || return 1
	# the first boot sees one host peer (the serve peer), the second
	# two: the scribbler, which is still connected
	check "the serve peer is up" wait_mproc hecho 90
	sleep 1
	if [ "$(cat "$(vdev)/ace/peers_up")" = 0x1 ]; then
		echo "ACE-TEST first boot: scribble now"
		# the host starts its scribbler on this line; give it time
		sleep 5
		echo "ACE-TEST rebooting under the scribbler"
		reboot -f
		sleep 60
		bad "still running after reboot -f"
		return 0
	fi
	echo "ACE-TEST second boot"
	check "the kernel is sound: a busybox applet runs" sh -c 'echo ok | grep -q ok'
	# the scribbler writes on into this boot's arena until its time is
	# up; then it disconnects, leaving only the serve peer
	i=0
	while [ "$(cat "$(vdev)/ace/peers_up")" != 0x1 ] && [ $i -lt 900 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "ACE-TEST scribbler gone after $((i / 10)) s; arena broken: $(cat "$(vdev)/ace/broken")"
	rmmod ace
	insmod /lib/ace/ace.ko
	check "a reloaded ace.ko serves traffic again" \
		ace-ping -T hecho -n 200 -m interrupt -w 20
	check "no block leaked" census_whole
	return 0
}

case ${1:-traffic} in
scribble) scribble || bad "scribble: setup" ;;
*) traffic || bad "traffic: setup" ;;
esac
echo "ACE-TEST region: $fails failure(s)"
[ $fails = 0 ]
