#!/bin/sh
# Guest side of scripts/soak.sh (make soak): soak.sh SECS
#   Echo services for the host's clients (gecho-poll, -irq, -adapt) and
#   clients of the host's services (gc-poll, -irq, -adapt -> hecho-*), in
#   the three delivery modes, for SECS seconds while the host kills and
#   restarts its services.  Then, once the host's peers are gone, the
#   services stop and the census must find every block free.
secs=${1:-600}
. /tests/common.sh
host_mprocs() { ace-stat 2>/dev/null | grep -cE '^[0-9]+ +(hecho|hc)-'; }

insmod /lib/ace/ace.ko || { bad insmod; exit 1; }
pids=""
for m in poll irq adapt; do
	case $m in irq) mode=interrupt ;; adapt) mode=adaptive ;; *) mode=$m ;; esac
	ace-echo -n gecho-$m -m $mode >/tmp/gecho-$m.log 2>&1 &
	pids="$pids $!"
done
i=0
while [ "$(host_mprocs)" -lt 3 ] && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(host_mprocs)" -ge 3 ] || bad "the host's services are up"
echo "ACE-TEST soak-start $secs"
cpids=""
for m in poll irq adapt; do
	case $m in irq) mode=interrupt ;; adapt) mode=adaptive ;; *) mode=$m ;; esac
	ace-soak -T hecho-$m -m $mode -w 16 -t "$secs" -p 30 -n gc-$m &
	cpids="$cpids $!"
done
for p in $cpids; do
	wait "$p" || bad "a guest client's accounting (pid $p)"
done
echo "ACE-TEST soak-clients-done"
# the host stops its clients and services; then ours stop
i=0
while [ "$(host_mprocs)" -gt 0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(host_mprocs)" = 0 ] || bad "the host's peers left"
# shellcheck disable=SC2086
kill -TERM $pids
for p in $pids; do wait "$p"; done
cat /tmp/gecho-*.log
ace-victim check >/tmp/check.log 2>&1 || bad "census"
cat /tmp/check.log
awk '/^ACE-TEST census/ { f = ($4 == $6 && $8 == 0 && $10 == 0) } END { exit !f }' \
	/tmp/check.log || bad "every block free once idle"
ace-stat
echo "ACE-TEST soak: $fails failure(s)"
[ $fails = 0 ]
