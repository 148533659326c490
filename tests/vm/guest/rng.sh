#!/bin/sh
# Guest side of tests/vm/cases/rng.sh: ace_rng.ko, the hw_random driver
# fed by the host's ace-rngd over ACE.
#  (a) the pattern service: /dev/hwrng yields its stream, byte for byte
#  (b) the service leaves: reads fail at once; it comes back: reads work
#  (c) a hostile service: every reply rejected and counted, no data
fail=0
bad() { echo "ACE-TEST FAIL: $*"; fail=1; }
P=/sys/module/ace_rng/parameters
H=/sys/class/misc/hw_random
has_mproc() { ace-stat --json | grep -q "\"name\": \"$1\""; }
# wait_mproc NAME present|absent SECS
wait_mproc() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		if has_mproc "$1"; then [ "$2" = present ] && return 0
		else [ "$2" = absent ] && return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
size() { wc -c <"$1" | tr -d ' '; }
counters() {
	echo "ACE-TEST rng-counters requests=$(cat $P/requests) bytes=$(cat $P/bytes)" \
	     "bad_replies=$(cat $P/bad_replies) timeouts=$(cat $P/timeouts)" \
	     "absent=$(cat $P/absent)"
}

insmod /lib/ace/ace.ko || exit 1
wait_mproc ace-rngd present 60 || bad "ace-rngd (pattern) never appeared"
insmod /lib/ace/ace_rng.ko || exit 1
grep -qw ace-rng $H/rng_available || bad "ace-rng not in rng_available"
echo ace-rng >$H/rng_current
echo "ACE-TEST rng-current $(cat $H/rng_current)"

# (a) 4096 bytes of the pattern stream.  The stream offset of the next byte
# is the driver's bytes counter (the hwrng core's own fill thread may have
# taken some first); retry if that thread took some in the middle.
ok=0
for _ in 1 2 3; do
	b0=$(cat $P/bytes)
	dd if=/dev/hwrng of=/tmp/rng.bin bs=512 count=8 2>/dev/null
	b1=$(cat $P/bytes)
	echo "ACE-TEST rng-read offset=$b0 got=$(size /tmp/rng.bin) counted=$((b1 - b0))"
	if [ $((b1 - b0)) -eq 4096 ]; then
		ace-rngcheck /tmp/rng.bin "$b0" 4096 && ok=1
		break
	fi
done
if [ $ok = 1 ]; then echo "ACE-TEST rng-pattern-ok"; else bad "pattern check"; fi
counters
echo "ACE-TEST rng-pattern-done"

# (b) the host stops ace-rngd.  The driver may still hold the rest of its
# last reply (up to one chunk): those bytes are the service's too, so they
# must continue the stream; after them a read fails at once, with no data.
wait_mproc ace-rngd absent 60 || bad "ace-rngd did not leave"
b0=$(cat $P/bytes)
timeout 20 dd if=/dev/hwrng of=/tmp/rest.bin bs=512 count=16 2>/dev/null
echo "ACE-TEST rng-rest offset=$b0 got=$(size /tmp/rest.bin)"
ace-rngcheck /tmp/rest.bin "$b0" || bad "the held bytes are not the stream"
t0=$(date +%s)
timeout 20 dd if=/dev/hwrng of=/tmp/none.bin bs=64 count=1 2>/tmp/dd.err
rc=$?
t1=$(date +%s)
echo "ACE-TEST rng-absent rc=$rc bytes=$(size /tmp/none.bin) secs=$((t1 - t0)) err=$(head -n 1 /tmp/dd.err)"
[ "$(size /tmp/none.bin)" = 0 ] || bad "data without a service"
if [ $rc = 0 ] || [ $rc = 124 ]; then bad "read without a service did not fail (rc $rc)"; fi
[ "$(cat $P/absent)" -gt 0 ] || bad "absent not counted"
# ... and works again once the host starts it anew
echo "ACE-TEST rng-waiting-for-service"
back=0
i=0
while [ $i -lt 60 ]; do
	timeout 10 dd if=/dev/hwrng of=/tmp/back.bin bs=512 count=2 2>/dev/null
	if [ "$(size /tmp/back.bin)" = 1024 ]; then back=1; break; fi
	sleep 1
	i=$((i + 1))
done
if [ $back = 1 ]; then echo "ACE-TEST rng-back"; else bad "no bytes after the service came back"; fi
counters

# (c) a hostile service: reload the driver pointed at it
rmmod ace_rng || bad "rmmod ace_rng"
wait_mproc rngd-hostile present 30 || bad "rngd-hostile never appeared"
insmod /lib/ace/ace_rng.ko service=rngd-hostile timeout_ms=500 || exit 1
echo ace-rng >$H/rng_current
bad0=$(cat $P/bad_replies)
total=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	timeout 20 dd if=/dev/hwrng of=/tmp/h.bin bs=64 count=1 2>/dev/null
	total=$((total + $(size /tmp/h.bin)))
done
bad1=$(cat $P/bad_replies)
echo "ACE-TEST rng-hostile bytes=$total bad_replies=$((bad1 - bad0))"
[ $total = 0 ] || bad "a hostile service's bytes came through"
[ $((bad1 - bad0)) -ge 12 ] || bad "bad replies not all counted"
counters
rmmod ace_rng || bad "rmmod ace_rng (hostile)"
has_mproc ace-rng && bad "ace-rng mproc still open after rmmod"
rmmod ace || bad "rmmod ace"
echo "ACE-TEST rng-done $fail"
exit $fail
