#!/bin/sh
# Guest side of tests/vm/cases/bridge.sh.  $1: a (vm1), b (vm2's first
# boot) or b2 (vm2 booted again after it was killed).
. /tests/common.sh
insmod /lib/ace/ace.ko || exit 1
echo "ACE-TEST doorbell-pages $(cat "$(vdev)/ace/doorbell_pages")"
# the far VM may still be booting: wait long for its names
export ACE_WAIT=120
fail=0
case "$1" in
a)
	ace-echo -n echo -m adaptive -t 600 &
	ace-ping -T vm2/echo -n 2000 -m poll || fail=1
	ace-ping -T vm2/echo -n 300 -m interrupt || fail=1
	ace-ping -T vm2/echo -n 200 -s 65536 -m adaptive || fail=1
	echo "ACE-TEST pings-done"
	# vm1 keeps streaming to vm2 until the host kills vm2's QEMU
	echo "ACE-TEST stream-start"
	ace-ping -T vm2/echo -n 5000000 -w 0 -m adaptive
	echo "ACE-TEST stream-ended rc=$?"
	# vm1 itself is unharmed: its own traffic goes on
	ace-ping -T echo -n 1000 -m poll || fail=1
	# and vm2, booted again, is reachable through the bridge once more
	ace-ping -T vm2/echo -n 500 -m poll || fail=1
	echo "ACE-TEST after-restart-done"
	# stay up while the host sends through vm1 to vm2's section test;
	# one message to "gate" ends it
	ace-echo -n gate --sink -c 1 -t 300 -q || fail=1
	;;
b)
	ace-echo -n echo -m interrupt -t 600 &
	ace-ping -T vm1/echo -n 2000 -m poll || fail=1
	ace-ping -T vm1/echo -n 300 -m interrupt || fail=1
	echo "ACE-TEST pings-done"
	sleep 600	# until the host kills this VM
	;;
b2)
	ace-echo -n echo -m interrupt -t 300 &
	wait_received echo 550 240 || fail=1
	echo "ACE-TEST served-again $(counter echo received)"
	# ACE sections across the bridge: mproc "sect" armed inside a
	# section gets the bridge's 100 sends as deferrals, no interrupt
	ace-sections || fail=1
	;;
esac
ace-stat
exit $fail
