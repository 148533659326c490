#!/bin/sh
# Guest side of tests/vm/cases/migrate.sh: soaks in every mode keep
# messages in flight to the host's echo for $1 seconds while the host
# migrates the VM live, then saves it to a file and restores it; each
# time the echo on the new host is found again.  Then pings reach the
# last host's echo in every mode and every block is accounted for.
. /tests/common.sh
secs=${1:-90}
insmod /lib/ace/ace.ko || exit 1
check "the host's echo is up" wait_mproc hecho 90
pids=""
for m in poll interrupt adaptive; do
	ace-soak -T hecho -m $m -t "$secs" -p 10 -n soak-$m >/tmp/soak-$m.log 2>&1 &
	pids="$pids $!"
done
echo "ACE-TEST soaking"
r=0
for p in $pids; do wait "$p" || r=1; done
cat /tmp/soak-*.log
check "every soak message is accounted for (sent = received + lost)" [ $r = 0 ]
lost=0 deaths=0
for m in poll interrupt adaptive; do
	l=$(sed -n "s/^ACE-SOAK soak-$m final: .* lost \([0-9]*\) in-flight.*/\1/p" /tmp/soak-$m.log)
	d=$(sed -n "s/^ACE-SOAK soak-$m final: .* service-deaths \([0-9]*\) .*/\1/p" /tmp/soak-$m.log)
	lost=$((lost + ${l:-0}))
	deaths=$((deaths + ${d:-0}))
	check "soak-$m saw its echo go away with each move" [ "${d:-0}" -ge 2 ]
done
echo "ACE-TEST lost-total $lost deaths-total $deaths"
for m in poll interrupt adaptive; do
	check "ping the last host's echo in $m mode" ace-ping -T hecho -n 200 -m $m
done
check "no block leaked" census_whole
echo "ACE-TEST migrate: $fails failure(s)"
[ $fails = 0 ]
