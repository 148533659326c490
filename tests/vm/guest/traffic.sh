#!/bin/sh
# Guest side of tests/vm/cases/traffic.sh.
. /tests/common.sh
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
# wait for the host's two pings to be answered: 300 + 20 warm-up in
# interrupt mode, 2000 + 200 (ace-ping's default, count/10) polled.  (It
# waited for 2300, so under load the echo could be stopped while the
# polled ping still had its last 220 to go: "send: No such file".)
wait_received gecho 2520
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
