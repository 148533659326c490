#!/bin/sh
# Guest side of tests/vm/cases/restart.sh.
#   restart.sh faults   (a) ace-soak keeps 16 messages in flight to the
#                       host's hecho while the host kills and restarts it;
#                       (d) ace.ko reloaded (and the driver unbound and
#                       bound) while a host peer floods a guest sink;
#                       (b) a guest echo serves the host until the host
#                       kills QEMU
#   restart.sh reboot   (c) first boot: traffic both ways, then reboot -f
#                       mid-stream; second boot: traffic resumes
# The host reads "ACE-TEST ..." lines and answers with its own actions.
. /tests/common.sh
# sink_cycle HOW [unbind]: a sink takes the host's flood for 3 s and is
# stopped (HOW: TERM, or KILL five times over: a sink killed while it
# drains thousands of messages must strand none), then ace.ko goes away
# and comes back (or the driver is unbound and bound)
sink_cycle() {
	r=0
	for _ in 1 2 3 4 5; do
		ace-echo -n gsink --sink -m interrupt >/tmp/sink.log 2>&1 &
		sp=$!
		if [ "$1" = KILL ]; then sleep 1; else sleep 3; fi
		ace-stat | grep ' gsink '	# its inbox depth when it dies
		kill -"$1" $sp
		wait $sp
		cat /tmp/sink.log
		[ "$1" = KILL ] || grep -qE "^ace-echo: [1-9][0-9]* messages" /tmp/sink.log || r=1
		census_whole || r=1	# what was queued to it came back
		[ "$1" = KILL ] || break
	done
	if [ "${2:-}" = unbind ]; then
		v=$(basename "$(vdev)")
		echo "$v" >/sys/bus/virtio/drivers/ace/unbind || r=1
		echo "$v" >/sys/bus/virtio/drivers/ace/bind || r=1
	else
		rmmod ace && insmod /lib/ace/ace.ko || r=1
	fi
	[ -c /dev/ace0 ] || r=1
	return $r
}

faults() {
	insmod /lib/ace/ace.ko || return 1
	check "hecho is up" wait_mproc hecho 90
	ace-soak -T hecho -m poll -w 16 -t 30 -n gsoak >/tmp/soak.log 2>&1 &
	sp=$!
	sleep 2
	echo "ACE-TEST soak-running"
	wait $sp
	r=$?
	cat /tmp/soak.log
	check "a: every message accounted for across the kill" [ $r = 0 ]
	check "a: the restarted hecho served again" \
		grep -qE "^ACE-SOAK gsoak final: .* service-deaths 1 " /tmp/soak.log
	check "a: no block leaked" census_whole

	check "d: the flood reaches the guest" wait_mproc 'flood-[0-9]+' 30
	check "d: sink stopped, ace.ko reloaded under the flood" sink_cycle TERM
	check "d: sink killed 5 times while draining, ace.ko reloaded under the flood" sink_cycle KILL
	check "d: sink stopped, driver unbound and bound under the flood" sink_cycle TERM unbind
	check "d: once more" sink_cycle TERM
	ace-echo -n gsink --sink -m interrupt -t 3 >/dev/null 2>&1
	echo "ACE-TEST reloads-done"

	# serve the host until it kills QEMU
	ace-echo -n gecho -m interrupt -t 120 &
	echo "ACE-TEST faults: $fails failure(s)"
	echo "ACE-TEST waiting-for-the-end"
	sleep 120
	return 0
}

reboot_test() {
	insmod /lib/ace/ace.ko || return 1
	if ! wait_mproc 'arena-[0-9]+' 90; then
		bad "the host's serve peer is up"
		return 0
	fi
	if wait_mproc arena-1 1; then
		echo "ACE-TEST first boot"
		ace-echo -n gecho -m interrupt &
		ace-soak -T hecho -m adaptive -t 600 -p 2 -n gsoak &
		sleep 4
		echo "ACE-TEST rebooting mid-stream"
		ace-stat
		reboot -f
		sleep 60
		bad "still running after reboot -f"
		return 0
	fi
	echo "ACE-TEST second boot"
	check "c: the serve peer re-attached to the new arena" wait_mproc arena-2 1
	ace-soak -T hecho -m adaptive -t 5 -n gsoak2 >/tmp/soak.log 2>&1
	r=$?
	cat /tmp/soak.log
	check "c: traffic resumes after the reboot" [ $r = 0 ]
	check "c: no block leaked" census_whole
	return 0
}

case ${1:-faults} in
reboot) reboot_test || bad "reboot: setup" ;;
*) faults || bad "faults: setup" ;;
esac
echo "ACE-TEST restart: $fails failure(s)"
[ $fails = 0 ]
