#!/bin/sh
# Guest side of tests/vm/cases/libvirt.sh: ping the host's echo through the
# device, serve the host's ping, then stay up (the echo still serving) until
# the host destroys the domain with virsh; running out the $2 seconds is a
# failure.
secs=${2:-120}
. /tests/common.sh
insmod /lib/ace/ace.ko || exit 1
[ -c /dev/ace0 ] || { echo "ACE-TEST no /dev/ace0"; exit 1; }
ace-ping -T hecho -n 500 -m interrupt || exit 1
ace-echo -n gecho -m interrupt -t "$secs" &
sleep 1
echo "ACE-TEST guest-echo-up"
# the host pings gecho 20 + 300 times (tests/vm/cases/libvirt.sh); 60 s
i=0
while [ $i -lt 600 ] && ! [ "$(counter gecho received)" -ge 320 ] 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
echo "ACE-TEST gecho-received $(counter gecho received)"
ace-stat
echo "ACE-TEST waiting-for-destroy"
sleep "$secs"
echo "ACE-TEST not destroyed after ${secs}s"
exit 1
