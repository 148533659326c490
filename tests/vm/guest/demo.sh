#!/bin/sh
# Guest side of make demo: ping each host echo service in its own mode.
insmod /lib/ace/ace.ko || exit 1
ace-ping -T echo-poll -m poll -n 20000 --json || exit 1
ace-ping -T echo-interrupt -m interrupt -n 3000 --json || exit 1
ace-ping -T echo-adaptive -m adaptive -n 5000 --json || exit 1
exit 0
