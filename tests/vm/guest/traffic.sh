#!/bin/sh
# Guest side of tests/vm/cases/traffic.sh.
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
i=0
while [ $i -lt 300 ]; do
	n=$(ace-stat --json | grep '"name": "gecho"' | sed 's/.*"received": \([0-9]*\).*/\1/')
	[ "${n:-0}" -ge 2300 ] && break
	sleep 0.1
	i=$((i + 1))
done
irqs=$(ace-stat --json | grep '"name": "gecho"' | sed 's/.*"interrupts": \([0-9]*\).*/\1/')
echo "ACE-TEST gecho-interrupts ${irqs:-0}"
kill $pid
wait $pid
# a kernel mproc answers too
insmod /lib/ace/ace_ktest.ko || fail=1
echo "ACE-TEST kecho-up"
i=0
while [ $i -lt 300 ]; do
	n=$(ace-stat --json | grep '"name": "kecho"' | sed 's/.*"received": \([0-9]*\).*/\1/')
	[ "${n:-0}" -ge 330 ] && break
	sleep 0.1
	i=$((i + 1))
done
echo "ACE-TEST kecho-echoed ${n:-0}"
ace-stat
exit $fail
