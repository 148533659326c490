#!/bin/sh
# Guest side of tests/vm/cases/peer-stall.sh: ace.ko with 1,024 mproc
# slots; every second, round trips to the host's echo ("hecho") and a few
# doorbells at host mprocs that never answer ("stuck", "stopped"), for $2
# seconds.  Every round of the echo must succeed.
secs=${2:-60}
insmod /lib/ace/ace.ko nr_mprocs=1024 || exit 1
echo "ACE-TEST arena-attached"
i=0 ok=0 bad=0
while [ $i -lt "$secs" ]; do
	if ace-ping -T hecho -n 20 -w 0 -m interrupt >/dev/null 2>&1; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "ACE-TEST echo-failed at $i s"
	fi
	for t in stuck stopped; do
		ACE_WAIT=1 timeout 1 ace-ping -T $t -n 5 -w 0 -m interrupt >/dev/null 2>&1 &
	done
	sleep 1
	i=$((i + 1))
done
wait
echo "ACE-TEST echo-rounds ok=$ok bad=$bad"
[ "$bad" -eq 0 ]
