#!/bin/sh
# Guest side of tests/vm/cases/survive.sh: the host's ace-echo (started
# before this guest booted) answers; ace.ko is reloaded and it answers
# again; the guest reboots (reboot -f) and, on the second boot, it
# answers again, and again after one more reload.  The host starts its
# marker mproc "boot2" when asked (ACE-TEST want-marker): a boot that finds
# it is the second.
. /tests/common.sh
# ping_echo WHAT: 200 round trips to the host's echo (the lookup waits
# ACE_WAIT for its name, created again by libace after each new arena)
ping_echo() {
	ace-ping -T echo -n 200 -m interrupt >/tmp/ping.log 2>&1
	r=$?
	cat /tmp/ping.log
	[ $r = 0 ] && grep -q "200 round trips to echo" /tmp/ping.log
}
reload() { rmmod ace && insmod /lib/ace/ace.ko && [ -c /dev/ace0 ]; }

insmod /lib/ace/ace.ko || { bad "insmod"; exit 1; }
if ! wait_mproc echo 60; then
	bad "the host's ace-echo shows up"
	echo "ACE-TEST survive: $fails failure(s)"
	exit 1
fi
if ! wait_mproc boot2 5; then
	echo "ACE-TEST first boot"
	check "boot 1: the host's ace-echo answers" ping_echo
	check "boot 1: ace.ko reloaded" reload
	check "boot 1: after the reload, ace-echo answers again" ping_echo
	echo "ACE-TEST want-marker"
	if wait_mproc boot2 60; then
		echo "ACE-TEST rebooting"
		ace-stat
		reboot -f
		sleep 60
	fi
	bad "boot 1: rebooted"
	echo "ACE-TEST survive: $fails failure(s)"
	exit 1
fi
echo "ACE-TEST second boot"
ace-stat
check "boot 2: after the reboot, ace-echo answers again" ping_echo
check "boot 2: ace.ko reloaded" reload
check "boot 2: after the reload, ace-echo answers again" ping_echo
check "boot 2: no block leaked" census_whole
echo "ACE-TEST survive: $fails failure(s)"
# let the host see the service alive before QEMU goes
sleep 2
[ $fails = 0 ]
