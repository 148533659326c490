#!/bin/sh
# Guest side of tests/vm/cases/proxy.sh: unmodified programs (busybox nc,
# md5sum, and stream-test, a plain sockets program) reach host services
# through ace-proxy, and the host reaches guest services the same way.
# The host serves: tcpecho (TCP echo), unixecho (UNIX echo), victim (a
# TCP echo it kills mid-stream), slow (a reader at 8 MiB/s),
# hostile-target (the TCP echo behind a proxy that stream-hostile attacks).
. /tests/common.sh
insmod /lib/ace/ace.ko || exit 1
ip link set lo up || bad "loopback up"
# wait_line FILE REGEX SECS
wait_line() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ace-proxy -v -l tcp:127.0.0.1:7001=tcpecho -l tcp:127.0.0.1:7002=unixecho \
	-l unix:/tmp/unixecho.sock=unixecho -l tcp:127.0.0.1:7003=victim \
	-l tcp:127.0.0.1:7004=slow -l tcp:127.0.0.1:7005=nosuch \
	-l tcp:127.0.0.1:7006=hostile-target >/tmp/gproxy.log 2>&1 &
GP=$!
check "the guest proxy listens" wait_line /tmp/gproxy.log 'listening on tcp:127.0.0.1:7006' 30

# the host's proxies name their services once the arena is attached
for s in tcpecho unixecho victim slow hostile-target; do
	check "the host serves $s" wait_mproc $s 120
done

# 1. nc to the host's TCP echo and (through a TCP port) its UNIX echo
out=$(echo "hello over ace" | timeout 60 nc 127.0.0.1 7001)
check "nc -> host TCP echo: '$out'" [ "$out" = "hello over ace" ]
out=$(echo "hello unix" | timeout 60 nc 127.0.0.1 7002)
check "nc -> host UNIX echo: '$out'" [ "$out" = "hello unix" ]
# a guest UNIX socket to the host UNIX echo (busybox nc has no UNIX mode)
check "guest UNIX socket -> host UNIX echo, 1 MiB" \
	timeout 120 stream-test client unix:/tmp/unixecho.sock 1 1048576

# 2. 100 concurrent streams, each 64 KiB there and back
check "100 concurrent streams to the TCP echo" \
	timeout 300 stream-test client tcp:127.0.0.1:7001 100 65536
check "20 concurrent streams to the UNIX echo" \
	timeout 300 stream-test client tcp:127.0.0.1:7002 20 65536

# 3. 64 MiB through nc, checksum on both sides
head -c 67108864 /dev/urandom >/tmp/big
sum_in=$(md5sum </tmp/big | cut -d' ' -f1)
t0=$(date +%s)
sum_out=$(timeout 400 nc 127.0.0.1 7001 </tmp/big | md5sum | cut -d' ' -f1)
echo "ACE-TEST 64 MiB echoed in $(($(date +%s) - t0)) s: $sum_in / $sum_out"
check "64 MiB through nc and the TCP echo, md5 intact" [ "$sum_in" = "$sum_out" ]
rm -f /tmp/big

# 4. a slow reader on the host: the sender is held back, nothing lost
check "32 MiB to a host reader at 8 MiB/s" \
	timeout 300 stream-test send tcp:127.0.0.1:7004 33554432

# 5. no such service: the client's connection is reset at once
timeout 30 stream-test client tcp:127.0.0.1:7005 1 100 >/tmp/nosuch.log 2>&1
cat /tmp/nosuch.log
check "a stream to a missing service is reset at once" \
	grep -qE 'Connection reset|Broken pipe' /tmp/nosuch.log

# 6. a hostile program speaks the stream protocol wrongly to a host proxy
#    (stream limit 64), floods it and exits with streams open; the proxy
#    then still serves an unmodified client
check "the hostile program's checks" timeout 300 stream-hostile hostile-target 64
sleep 3
check "after the attack, the attacked proxy still serves 10 streams" \
	timeout 120 stream-test client tcp:127.0.0.1:7006 10 65536

# 7. the host kills the service mid-stream: the client sees an error
echo "ACE-TEST victim-start"
timeout 300 stream-test client tcp:127.0.0.1:7003 1 4000000000 >/tmp/victim.log 2>&1
echo "ACE-TEST victim-rc=$?"
cat /tmp/victim.log
# a reset (the echo died with bytes unread) or, when it had read all it
# was sent, its FIN passed on: the stream ends short either way
check "the killed service's client got an error" \
	grep -qE 'read: Connection reset|write: (Broken pipe|Connection reset)|EOF after [0-9]+ of 4000000000' /tmp/victim.log
check "the killed service's stream did not complete" \
	grep -q '0 intact, 1 failed' /tmp/victim.log

# 8. the reverse direction: host clients reach guest services
stream-test echo tcp:127.0.0.1:7100 >/tmp/gecho-tcp.log 2>&1 &
E1=$!
stream-test echo unix:/tmp/gecho.sock >/tmp/gecho-unix.log 2>&1 &
E2=$!
wait_line /tmp/gecho-tcp.log listening 10 && wait_line /tmp/gecho-unix.log listening 10
ace-proxy -s gtcp=tcp:127.0.0.1:7100 >/tmp/rp1.log 2>&1 &
R1=$!
ace-proxy -s gunix=unix:/tmp/gecho.sock >/tmp/rp2.log 2>&1 &
R2=$!
check "the reverse proxies are up" wait_line /tmp/rp1.log 'serving gtcp' 30
check "the reverse proxies are up" wait_line /tmp/rp2.log 'serving gunix' 30
echo "ACE-TEST reverse-ready"
# the host's checks end with one message to "gate"
ace-echo -n gate --sink -c 1 -t 400 -q || bad "the host never opened the gate"

kill -USR1 $GP $R1 $R2
sleep 1
kill $GP $R1 $R2 $E1 $E2
wait $GP $R1 $R2 2>/dev/null
sed 's/^/guest proxy: /' /tmp/gproxy.log | tail -n 20
sed 's/^/guest reverse proxy: /' /tmp/rp1.log /tmp/rp2.log | tail -n 8
check "the guest proxy saw no protocol violation" \
	grep -q ' 0 protocol violation' /tmp/gproxy.log
[ $fails -eq 0 ]
