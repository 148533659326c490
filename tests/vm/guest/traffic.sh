#!/bin/sh
# Guest side of tests/vm/cases/traffic.sh.
# counter NAME FIELD: an mproc's counter, from ace-stat --json
counter() {
	ace-stat --json | grep "\"name\": \"$1\"" | sed "s/.*\"$2\": \([0-9]*\).*/\1/"
}
# wait_received NAME N: until mproc NAME has received N messages (30 s)
wait_received() {
	i=0
	while [ $i -lt 300 ]; do
		[ "$(counter "$1" received)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
insmod /lib/ace/ace.ko || exit 1
fail=0
ace-ping -T hecho -n 3000 -m poll || fail=1
ace-ping -T hecho -n 500 -m interrupt || fail=1
ace-ping -T hecho -n 1000 -m adaptive || fail=1
ace-ping -T hecho -n 500 -s 4096 -m poll || fail=1
ace-bench -T hsink -p 2 -n 100000 -m poll || fail=1
# serve the host: an interrupt-driven echo
ace-echo -n gecho -m interrupt -t 40 &
pid=$!
sleep 1
echo "ACE-TEST guest-echo-up"
# wait for the host's two pings (2300 messages) to be answered
wait_received gecho 2300
echo "ACE-TEST gecho-interrupts $(counter gecho interrupts)"
kill $pid
wait $pid
# a kernel mproc answers too
insmod /lib/ace/ace_ktest.ko || fail=1
echo "ACE-TEST kecho-up"
wait_received kecho 330
echo "ACE-TEST kecho-echoed $(counter kecho received)"
ace-stat
exit $fail
