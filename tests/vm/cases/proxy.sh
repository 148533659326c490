#!/usr/bin/env bash
# ace-proxy: unmodified programs talk across ACE.  Host services: a TCP
# echo, a UNIX echo, a TCP echo killed mid-stream and a slow reader, each
# behind a host ace-proxy -s; the guest (tests/vm/guest/proxy.sh) reaches
# them with busybox nc, md5sum and stream-test (plain sockets) through a
# guest ace-proxy -l: one line, 100 concurrent streams, 64 MiB with its
# checksum, a slow reader (the proxies' memory stays bounded, nothing is
# lost), a missing service and a killed one (the client gets an error).
# A hostile guest program (stream-hostile) sends a host proxy every kind
# of malformed stream message and floods it past its stream limit; the
# proxy answers each as the protocol says and keeps serving.  Then the
# reverse: host clients reach guest TCP and UNIX echoes through a host
# ace-proxy -l.
. "$(dirname "$0")/../lib.sh"
export VM_TIMEOUT=800
P=$B/tools/ace-proxy
ST=$T/stream-test
gcc -std=gnu11 -O2 -Wall -Werror -pthread "$ROOT/tests/vm/guest/stream-test.c" -o "$ST"

host techo 900 "$ST" echo tcp:127.0.0.1:0
host uecho 900 "$ST" echo "unix:$T/uecho.sock"
host victim 900 "$ST" echo tcp:127.0.0.1:0
host slow 900 "$ST" slowsink tcp:127.0.0.1:0 8192
for s in techo uecho victim slow; do
	wait_for "$T/$s.log" '^stream-test: listening' 10 || { echo "$s did not start"; exit 1; }
done
port() { sed -n 's/^stream-test: listening on port //p' "$T/$1.log"; }
host p-tcp 900 "$P" -d "$SOCK" -s "tcpecho=tcp:127.0.0.1:$(port techo)"
host p-unix 900 "$P" -d "$SOCK" -s "unixecho=unix:$T/uecho.sock"
host p-victim 900 "$P" -v -d "$SOCK" -s "victim=tcp:127.0.0.1:$(port victim)"
host p-slow 900 "$P" -d "$SOCK" -s "slow=tcp:127.0.0.1:$(port slow)"
host p-hostile 900 "$P" -S 64 -w 16384 -d "$SOCK" -s "hostile-target=tcp:127.0.0.1:$(port techo)"
host p-rev 900 "$P" -d "$SOCK" -l tcp:127.0.0.1:0=gtcp -l "unix:$T/rev.sock=gunix"
vm_start proxy.sh

check "the host proxies are up" wait_for "$T/p-rev.log" 'up as ' 200
check "the guest reached the kill test" wait_for "$T/console.log" 'ACE-TEST victim-start' 600
# the stream flows through both proxies before its service dies
check "the victim's stream flows" wait_for "$T/victim.log" 'echoed 1 MiB' 120
# timeout(1) passes SIGTERM on: the echo dies with bytes unread, so its
# kernel resets the connection under the host proxy
kill -TERM "$PID_victim"
check "the guest saw the kill" wait_for "$T/console.log" 'ACE-TEST victim-rc=' 120
check "the host proxy reported the failed stream" \
	has "$T/p-victim.log" '^ace-proxy: stream [0-9a-f]+: (read|write): ' 

check "the guest's reverse proxies are up" wait_for "$T/console.log" 'ACE-TEST reverse-ready' 120
RP=$(sed -n 's/.*listening on tcp:127.0.0.1:\([0-9]*\):.*/\1/p' "$T/p-rev.log")
check "host TCP client -> guest TCP echo, 10 streams x 1 MiB" \
	timeout 300 "$ST" client "tcp:127.0.0.1:$RP" 10 1048576
check "host UNIX client -> guest UNIX echo, 10 streams x 1 MiB" \
	timeout 300 "$ST" client "unix:$T/rev.sock" 10 1048576
check "host client -> guest, 100 concurrent streams" \
	timeout 300 "$ST" client "tcp:127.0.0.1:$RP" 100 16384

# memory of the proxy behind the slow reader: bounded by its windows
slowpid=$(pgrep -P "$PID_p_slow" | head -n 1)
anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$slowpid/status" 2>/dev/null || echo 999999)
echo "  host proxy behind the slow reader: RssAnon ${anon} kB"
check "the slow reader's proxy stayed under 16 MiB of private memory" [ "$anon" -lt 16384 ]

timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$SOCK" burst gate 1 >/dev/null 2>&1
check "the guest's checks pass" vm_wait
check "the attacked proxy reported the protocol violations" \
	test "$(grep -c 'broke the protocol' "$T/p-hostile.log")" -ge 3
check "the attacked proxy reset the hostile program's streams when it died" \
	has "$T/p-hostile.log" 'peer 0x[0-9a-f]+ is gone: [0-9]+ stream\(s\) reset'
check "the slow reader got all 32 MiB intact" \
	has "$T/slow.log" '^stream-test: slowsink: 33554432 bytes, pattern ok$'
tr -d '\r' <"$T/console.log" | grep -aE 'ACE-TEST|^stream-test|^guest' | sed 's/^/  guest: /'
for p in p-tcp p-unix p-victim p-slow p-hostile p-rev; do
	v=PID_${p//-/_}
	kill -TERM "${!v}" 2>/dev/null || true
	wait "${!v}" 2>/dev/null || true
done
for p in p-tcp p-unix p-victim p-slow p-hostile p-rev; do
	sed "s/^/  $p: /" "$T/$p.log" | tail -n 4
	[ $p = p-hostile ] && continue
	check "$p: no protocol violation" has "$T/$p.log" ' 0 protocol violation'
done
finish
