#!/bin/sh
# Guest side of the cross-VM phase of scripts/bench.sh (bench-xvm.sh on
# the host).  Args: ROLE SCALE.  ROLE b (vm2) serves echo-adaptive and
# echo-irq until the host ends it; ROLE a (vm1) pings them through the
# bridge as vm2/..., and the host's echoes through its own device under
# the same load, one JSON line per run.
ROLE=$1 SCALE=${2:-1}
n() { c=$(($1 / SCALE)); [ $c -ge 20 ] || c=20; echo $c; }
insmod /lib/ace/ace.ko || exit 1
export ACE_WAIT=120
case $ROLE in
b)
	ace-echo -n echo-adaptive -m adaptive -q &
	ace-echo -n echo-irq -m interrupt -q &
	echo "BENCH-XVM serving"
	sleep 3600
	;;
a)
	fail=0
	x() { # x ID ARGS...: one run, reported on failure
		echo "BENCH-RUN $1"
		id=$1
		shift
		timeout 300 ace-ping --json --mark "$id" "$@" || { echo "BENCH-FAIL rc=$? $id"; fail=1; }
	}
	# the far names appear once the bridge has seen vm2's echoes
	x xvm-poll-64 -T vm2/echo-adaptive -m poll -n "$(n 20000)"
	x xvm-adaptive-64 -T vm2/echo-adaptive -m adaptive -n "$(n 20000)"
	x xvm-irq-64 -T vm2/echo-irq -m interrupt -n "$(n 5000)"
	x xvm-poll-65536 -T vm2/echo-adaptive -m poll -s 65536 -n "$(n 5000)"
	x xvm-poll-65536-touch -T vm2/echo-adaptive -m poll -s 65536 --touch -n "$(n 2000)"
	# the same guest, the same load, to a host echo through its device
	x xvm-host-poll-64 -T hecho-adaptive -m poll -n "$(n 20000)"
	x xvm-host-irq-64 -T hecho-irq -m interrupt -n "$(n 5000)"
	echo "BENCH-XVM done"
	exit $fail
	;;
esac
