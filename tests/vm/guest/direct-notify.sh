#!/bin/sh
# Guest side of tests/vm/cases/direct-notify.sh: round trips to the host's
# interrupt-mode echo ("hecho"), whose every message rings its doorbell,
# then (MODE=off) doorbells at the host's abusive peer ("stuck") while
# the host watches QMP.  Args: MODE (on: direct doorbells, off) ROUNDS
# The round trips ring by store on the doorbell's own page (doorbell
# pages, the default): the driver's count of doorbells it rang (kicks)
# must not grow with them; then a few with ACE_BELLS=ioctl, which must.
mode=${1:-on} n=${2:-2000}
. /tests/common.sh
insmod /lib/ace/ace.ko || exit 1
echo "ACE-TEST arena-attached"
V=$(vdev)
echo "ACE-TEST doorbell-pages $(cat "$V/ace/doorbell_pages")"
k0=$(cat "$V/ace/kicks")
# ACE_WAIT: the host's echo may come up well after the arena on a busy host
if ! ACE_WAIT=60 ace-ping -T hecho -n "$n" -w 0 -m interrupt --json >/tmp/ping.json 2>/tmp/ping.err; then
	echo "ACE-TEST ping-failed: $(cat /tmp/ping.err)"
	exit 1
fi
k1=$(cat "$V/ace/kicks")
echo "ACE-TEST ping $(cat /tmp/ping.json)"
if ! ACE_BELLS=ioctl ace-ping -T hecho -n 100 -w 0 -m interrupt >/tmp/ping2.log 2>&1; then
	echo "ACE-TEST ping-ioctl-failed: $(cat /tmp/ping2.log)"
	exit 1
fi
k2=$(cat "$V/ace/kicks")
echo "ACE-TEST kicks by-store $((k1 - k0)) by-ioctl $((k2 - k1))"
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
