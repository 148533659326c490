#!/usr/bin/env bash
# One VM can never harm another through ace-bridge, and nothing a guest
# writes reaches a terminal raw.  Host only: three fake VMs
# (tests/host/fake_dev.c, a device and its guest in one process) behind
# one ace-bridge:
#   b  a bystander service VM: "echo" and "sink"; a prober claims a slot
#      every 10 ms
#   c  a bystander client VM: round trips to b/echo, counted per 0.5 s
#   a  the attacker: names without end, forged src ids, every doorbell,
#      junk on the device socket, a flood into b/sink (exported to it),
#      names with escapes, newlines, quotes and invalid UTF-8; later its
#      connections are cut mid-message again and again
# The bridge exports b/echo to c, b/sink to a, and (an operator who
# trusts a too much) every name of a to b and c: the quota must hold.
#
#   tests/host/test_bridge.sh BUILD [TOOLS-DIR] [--sanitized]
# --sanitized: the tools are ASan+UBSan builds; the rate and memory bounds
# are not checked (the sanitizers' own cost and quarantine), all else is.
# The bounds (each a check below):
#   - b's and c's tables never hold more than QUOTA proxies standing for
#     a; their own processes never get -ENOSPC; c keeps reaching b/echo
#   - the bridge's fds come back to where they were once a is gone, and
#     never exceed that by more than a's quotas allow; its private memory
#     grows by less than 2 MiB
#   - (with ACE_BRIDGE_RATES=1; always measured and printed)
#     c's round-trip rate while a attacks (everything but the flood)
#     stays >= ATTACK_PCT% (default 35: 69-108% measured on a quiet
#     2-CPU machine, 43% with a VM test running beside it) of its rate
#     while a is stopped (SIGSTOP), medians of
#     0.5 s windows in alternating 2 s phases; with the flood into b/sink,
#     >= FLOOD_PCT% (default 25): b's own sink and device do that work,
#     on the same few CPUs as c's threads.  a runs at nice 19, standing
#     for the host's CPU isolation of a VM (docs/security.md)
#   - what a guest names comes out escaped: the bridge's log and ace-stat's
#     text hold no control byte and no byte past 0x7e, ace-stat --json is
#     valid JSON (python3 json) holding the exact names
#   - ace-stat -w follows a detach, a re-attach and the device's exit
#   - VMs not there (13 sockets that do not exist) cost the others no
#     stall: c2's round trips through the bridge stay under 60 ms (the
#     slowest of each 0.5 s window, one window excepted)
set -u
B=${1:-build}
T_DIR=${2:-$B/tools}
RATES=1
[ "${3:-}" = --sanitized ] && RATES=0
FAKE=$B/host/fake_dev
QUOTA=16
FLOOD_PCT=${FLOOD_PCT:-25}
ATTACK_PCT=${ATTACK_PCT:-35}
PHASE=2		# seconds: a stopped, a running, in turn
# The attacker runs at nice 19: it stands for the host's CPU isolation of
# a VM (its vCPUs and QEMU threads pinned or capped elsewhere), which the
# bridge cannot provide; what is measured is the bridge's own fairness.
NICE="nice -n 19"
passed=0 failed=0
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

check() { # check DESCRIPTION CMD...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok: $what"
	else
		failed=$((failed + 1))
		echo "FAIL: $what"
	fi
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_for() { # wait_for FILE REGEX SECS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -a -E "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# mark PHASE: the pinger starts a new phase (its windows are told apart
# by the "mark N" lines; phase names go to phases.txt in order)
mark() { echo "$1" >>"$tmp/phases.txt"; kill -USR1 "$PING"; }
# raw bytes a terminal would act on: any control byte but newline, tab
# and carriage return... and also those inside a line: any byte < 0x20
# other than \n, any byte >= 0x7f
raw_free() { ! LC_ALL=C grep -q -a -P '[^\x0a\x20-\x7e]' "$1"; }

cat >"$tmp/bridge.conf" <<EOF
# the bystanders' own exports
export b/echo=c
export b/sink=a     # a may use b's sink: the flood goes there
# an operator who trusts a too much: every name of a, in b and c
export a/*=b,c
quota $QUOTA
stats 1
EOF

"$FAKE" -s "$tmp/b.sock" -r echo --watch a/ >"$tmp/b.log" 2>&1 &
B_PID=$!; pids+=("$B_PID")
"$FAKE" -s "$tmp/c.sock" -r ping:b/echo --watch a/ >"$tmp/c.log" 2>&1 &
PING=$!; pids+=("$PING")
wait_for "$tmp/b.log" 'slots$' 10
wait_for "$tmp/c.log" 'slots$' 10
"$T_DIR/ace-bridge" -c "$tmp/bridge.conf" a="$tmp/a.sock" b="$tmp/b.sock" \
	c="$tmp/c.sock" >"$tmp/bridge.log" 2>&1 &
BR=$!; pids+=("$BR")
check "c sees b/echo and its round trips flow" wait_for "$tmp/c.log" '^rate [1-9]' 10
sleep 1
fd0=$(fds "$BR"); rss0=$(rss_kb "$BR")
echo "bridge before a: $fd0 fds, RssAnon $rss0 kB"

# ---- a attacks: names, forged senders, doorbells, junk (no flood) ----
$NICE "$FAKE" -s "$tmp/a.sock" -r attack --flood none --junk >"$tmp/a.log" 2>&1 &
A_PID=$!; pids+=("$A_PID")
check "a is up behind the bridge" wait_for "$tmp/bridge.log" 'a: up \(' 10
sleep 2
fdmax=$(fds "$BR")
for i in 1 2 3 4; do
	kill -STOP "$A_PID"; mark idle; sleep "$PHASE"
	kill -CONT "$A_PID"; mark attack; sleep "$PHASE"
	f=$(fds "$BR"); [ "$f" -gt "$fdmax" ] && fdmax=$f
done
mark none

# ---- the same with a flood into b/sink ----
kill "$A_PID"; wait "$A_PID" 2>/dev/null
$NICE "$FAKE" -s "$tmp/a.sock" -r attack --junk >"$tmp/a2.log" 2>&1 &
A_PID=$!; pids+=("$A_PID")
wait_for "$tmp/bridge.log" 'a: \+ b/sink' 10
sleep 1
for i in 1 2 3 4; do
	kill -STOP "$A_PID"; mark fidle; sleep "$PHASE"
	kill -CONT "$A_PID"; mark flood; sleep "$PHASE"
	f=$(fds "$BR"); [ "$f" -gt "$fdmax" ] && fdmax=$f
done
mark none

# ---- the escapes, while a's names are there ----
"$T_DIR/ace-stat" -d "$tmp/a.sock" >"$tmp/stat.txt" 2>&1
check "ace-stat (text) on a: exit 0" test $? -eq 0
"$T_DIR/ace-stat" -d "$tmp/a.sock" --json >"$tmp/stat.json" 2>&1
check "ace-stat --json on a: exit 0" test $? -eq 0
check "ace-stat text: no raw control or non-ASCII byte" raw_free "$tmp/stat.txt"
check "ace-stat text: the escape sequence shown as text" \
	grep -q -F '\x1b[31mRED\x1b[0m' "$tmp/stat.txt"
check "ace-stat text: the newline shown as text" grep -q -F 'new\x0aline' "$tmp/stat.txt"
check "ace-stat --json: valid JSON lines (python3 -m json.tool)" \
	python3 -m json.tool --json-lines "$tmp/stat.json" /dev/null
check "ace-stat --json: no raw control or non-ASCII byte" raw_free "$tmp/stat.json"
check "ace-stat --json: every name exact (name, name_hex)" python3 - "$tmp/stat.json" <<'EOF'
import json, sys
want = [b"\x1b[31mRED\x1b[0m\x1b]0;owned\x07", b"new\nline: ace-bridge: fake",
        b'quo"te\\back\\"slash', b"bell\x07\x01\x02\x7f", b"bad\xff\xfe\xc3utf8",
        "utf8-\u00e9-ok".encode(), b'{"json": 1}\r\n', b"c1-\xc2\x9b31m"]
got = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    raw = bytes.fromhex(o["name_hex"]) if "name_hex" in o else o["name"].encode()
    if "name_hex" in o and raw.decode("utf-8", "replace") != o["name"]:
        sys.exit("name and name_hex disagree: %r" % o)
    got[raw] = o
missing = [w for w in want if w not in got]
sys.exit("missing: %r" % missing if missing else 0)
EOF

# ---- a's connections cut mid-message, again and again ----
kill "$A_PID"; wait "$A_PID" 2>/dev/null
$NICE "$FAKE" -s "$tmp/a.sock" -r attack --flood none --break 0.4 >"$tmp/a3.log" 2>&1 &
A_PID=$!; pids+=("$A_PID")
sleep 6
f=$(fds "$BR"); [ "$f" -gt "$fdmax" ] && fdmax=$f
kill "$A_PID"; wait "$A_PID" 2>/dev/null
check "a's connections were cut mid-message at least 3 times" \
	awk '$2 == "breaks" && $3 >= 3 { ok = 1 } END { exit !ok }' "$tmp/a3.log"
check "the bridge connected again after each cut" \
	awk '$2 == "peers" && $3 >= 4 { ok = 1 } END { exit !ok }' "$tmp/a3.log"
sleep 2.5	# the bridge notices a gone and withdraws its proxies
fd1=$(fds "$BR"); rss1=$(rss_kb "$BR")
echo "bridge after a: $fd1 fds (at most $fdmax while a was there), RssAnon $rss1 kB"
check "bridge fds back to where they were once a is gone ($fd0 -> $fd1)" \
	test "$fd1" -le "$fd0"
# a's proxies in b and c and b's and c's in a, all within quota, and a's
# channel (socket, kick, raise, epoll, arena): 4 * QUOTA + 8
check "bridge fds while a was there within its quotas ($fdmax <= $fd0 + $((4 * QUOTA + 8)))" \
	test "$fdmax" -le $((fd0 + 4 * QUOTA + 8))
[ "$RATES" = 1 ] && check "bridge private memory grew < 2 MiB ($rss0 -> $rss1 kB)" \
	test "$((rss1 - rss0))" -lt 2048

# ---- ace-stat -w follows a detach, a re-attach and the device's exit ----
"$FAKE" -s "$tmp/n.sock" -r names --reattach 1 >"$tmp/n.log" 2>&1 &
N_PID=$!; pids+=("$N_PID")
wait_for "$tmp/n.log" 'slots$' 10
"$T_DIR/ace-stat" -d "$tmp/n.sock" -w 0.1 >"$tmp/watch.txt" 2>&1 &
W_PID=$!; pids+=("$W_PID")
sleep 2.5
kill "$N_PID"; wait "$N_PID" 2>/dev/null
sleep 0.5
"$FAKE" -s "$tmp/n.sock" -r names >"$tmp/n2.log" 2>&1 &
N_PID=$!; pids+=("$N_PID")
sleep 1.5
kill "$W_PID"; wait "$W_PID" 2>/dev/null
check "ace-stat -w: saw the detach" grep -q 'ace-stat: detached' "$tmp/watch.txt"
check "ace-stat -w: saw the new arena" grep -q 'ace-stat: attached' "$tmp/watch.txt"
check "ace-stat -w: saw the device go" grep -q 'ace-stat: device gone' "$tmp/watch.txt"
check "ace-stat -w: reconnected to the device" grep -q 'ace-stat: connected' "$tmp/watch.txt"
check "ace-stat -w: showed the names after reconnecting" \
	awk '/ace-stat: connected/ { c = 1 } c && /quo"te/ { ok = 1 } END { exit !ok }' \
	"$tmp/watch.txt"
check "ace-stat -w: no raw control or non-ASCII byte" raw_free "$tmp/watch.txt"

# ---- VMs that are not there cost the others nothing ----
# A bridge for b2 and c2 and 13 VMs whose sockets do not exist (their
# QEMU not started yet): each is tried every second, and a try waits for
# the socket, the HELLO and the arena on a thread of its own, not in the
# loop that serves b2 and c2 (there, the 13 tries held every message
# through the bridge by 200 ms and more, once a second)
"$FAKE" -s "$tmp/b2.sock" -r echo >"$tmp/b2.log" 2>&1 &
B2_PID=$!; pids+=("$B2_PID")
"$FAKE" -s "$tmp/c2.sock" -r ping:b/echo >"$tmp/c2.log" 2>&1 &
C2_PID=$!; pids+=("$C2_PID")
wait_for "$tmp/b2.log" 'slots$' 10
wait_for "$tmp/c2.log" 'slots$' 10
absent=()
for i in $(seq 13); do absent+=("x$i=$tmp/absent$i.sock"); done
"$T_DIR/ace-bridge" --export b/echo=c b="$tmp/b2.sock" c="$tmp/c2.sock" \
	"${absent[@]}" >"$tmp/bridge2.log" 2>&1 &
BR2=$!; pids+=("$BR2")
check "c2 reaches b/echo beside 13 absent VMs" wait_for "$tmp/c2.log" '^rate [1-9]' 10
sleep 4.5
kill "$BR2" "$B2_PID" "$C2_PID"; wait "$BR2" "$B2_PID" "$C2_PID" 2>/dev/null
# the slowest round trip of each 0.5 s window (the first left out): 60 ms
# or more in at most one (before: in most, 100-200 ms)
slow=$(awk '$1 == "rate" && $2 > 0 && n++ { printf "%s%d", s, $4 / 1000; s = " " }' \
	"$tmp/c2.log")
check "c2's round trips beside 13 absent VMs: slowest per 0.5 s $slow ms, >= 60 ms in at most one" \
	test "$(echo "$slow" | tr ' ' '\n' | awk '$1 >= 60' | wc -l)" -le 1

# ---- the end: counters, tables, logs ----
kill "$BR"; wait "$BR"
check "the bridge exits cleanly" test $? -eq 0
kill "$B_PID" "$PING" "$N_PID"; wait "$B_PID" "$PING" "$N_PID" 2>/dev/null
val() { awk -v k="$2" '$1 == "fake_dev:" && $2 == k { print $3 }' "$1"; }
for v in b c; do
	check "$v's table never held more than $QUOTA proxies for a ($(val "$tmp/$v.log" watch_max))" \
		test "$(val "$tmp/$v.log" watch_max)" -le "$QUOTA"
	check "$v's own processes always got a slot ($(val "$tmp/$v.log" probe_fail) of $(val "$tmp/$v.log" probes) failed)" \
		test "$(val "$tmp/$v.log" probe_fail)" -eq 0 -a "$(val "$tmp/$v.log" probes)" -gt 100
done
check "a forged senders, published names and flooded" \
	test "$(val "$tmp/a2.log" forged)" -gt 1000 -a "$(val "$tmp/a2.log" names)" -gt 1000 \
	-a "$(val "$tmp/a2.log" flood)" -gt 10000
check "the bridge counted a's forged senders and over-quota names" \
	awk '/ a: .* over quota, .* forged,/ { for (i = 1; i < NF; i++) {
		if ($(i + 1) == "over") q = $i; if ($(i + 1) == "forged,") f = $i } }
	     END { print "  last: " q " over quota, " f " forged"; exit !(q > 0 && f > 0) }' \
	"$tmp/bridge.log"
check "the bridge's log: no raw control or non-ASCII byte" raw_free "$tmp/bridge.log"
check "the bridge's log: a's escape sequence shown as text" \
	grep -q -F 'a: \x1b[31mRED\x1b[0m' "$tmp/bridge.log"
check "the bridge's log: rate-limited (at most 200 lines besides the counters)" \
	test "$(grep -v -c 'name(s) shown elsewhere' "$tmp/bridge.log")" -le 200
check "the bridge's log: c never lost b/echo" \
	test "$(grep -c 'c: - b/echo' "$tmp/bridge.log")" -eq 0

# ---- c's round trips, by phase ----
python3 - "$tmp/c.log" "$tmp/phases.txt" >"$tmp/rates.txt" <<'EOF'
import sys, statistics
names = [l.strip() for l in open(sys.argv[2])]
phase, rates, skip = None, {}, 0
for line in open(sys.argv[1]):
    w = line.split()
    if w[:1] == ["mark"]:
        phase, skip = names[int(w[1]) - 1], 1
    elif w[:1] == ["rate"] and phase:
        if skip:
            skip = 0      # the window the phase began in is mixed
            continue
        rates.setdefault(phase, []).append(int(w[1]))
for p in ("idle", "attack", "fidle", "flood"):  # "none": between tests
    r = rates.get(p, [0])
    print(p, statistics.median(r), min(r), len(r), " ".join(map(str, r)))
EOF
cat "$tmp/rates.txt"
med() { awk -v p="$1" '$1 == p { print int($2) }' "$tmp/rates.txt"; }
low() { awk -v p="$1" '$1 == p { print $3 }' "$tmp/rates.txt"; }
check "c's round trips never stopped (no 0.5 s window without one)" \
	test "$(low attack)" -gt 0 -a "$(low flood)" -gt 0
# The shares are timing on a shared machine: measured and printed every
# run, asserted only where asked (ACE_BRIDGE_RATES=1, a quiet machine);
# the isolation itself is asserted above (quotas, slots, fds, liveness).
echo "c's share of its rate: $(med attack) of $(med idle) while a attacks, $(med flood) of $(med fidle) while a floods b (per 0.5 s)"
if [ "$RATES" = 1 ] && [ "${ACE_BRIDGE_RATES:-0}" = 1 ]; then
	check "c keeps >= $ATTACK_PCT% of its rate while a attacks ($(med attack) vs $(med idle) per 0.5 s)" \
		test $((100 * $(med attack))) -ge $((ATTACK_PCT * $(med idle)))
	check "c keeps >= $FLOOD_PCT% of its rate while a floods b ($(med flood) vs $(med fidle) per 0.5 s)" \
		test $((100 * $(med flood))) -ge $((FLOOD_PCT * $(med fidle)))
fi
if [ "$failed" -gt 0 ]; then
	echo "--- bridge log (head) ---"; head -n 40 "$tmp/bridge.log"
	echo "--- fake VMs ---"; cat "$tmp/a.log" "$tmp/b.log" | grep -v '^rate'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
