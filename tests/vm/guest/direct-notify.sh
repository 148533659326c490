#!/bin/sh
# Guest side of tests/vm/cases/direct-notify.sh: round trips to the host's
# interrupt-mode echo ("hecho"), whose every message rings its doorbell,
# then (MODE=off) doorbells at the host's abusive peer ("stuck") while
# the host watches QMP.  Args: MODE (on: direct doorbells, off) ROUNDS
mode=${1:-on} n=${2:-2000}
insmod /lib/ace/ace.ko || exit 1
echo "ACE-TEST arena-attached"
# ACE_WAIT: the host's echo may come up well after the arena on a busy host
if ! ACE_WAIT=60 ace-ping -T hecho -n "$n" -w 0 -m interrupt --json >/tmp/ping.json 2>/tmp/ping.err; then
	echo "ACE-TEST ping-failed: $(cat /tmp/ping.err)"
	exit 1
fi
echo "ACE-TEST ping $(cat /tmp/ping.json)"
if [ "$mode" = off ]; then
	i=0
	while [ $i -lt 30 ]; do
		ACE_WAIT=1 timeout 1 ace-ping -T stuck -n 5 -w 0 -m interrupt >/dev/null 2>&1
		ace-ping -T hecho -n 20 -w 0 -m interrupt >/dev/null 2>&1 ||
			{ echo "ACE-TEST echo-failed at $i"; exit 1; }
		i=$((i + 1))
	done
fi
echo "ACE-TEST done"
# time for the host to read the device's counters over QMP
sleep 20
