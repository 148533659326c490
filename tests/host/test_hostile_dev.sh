#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
# Host services against a hostile device (tests/host/evil_dev.py on the
# peer socket, no QEMU): every tool, every scenario; no crash (no signal,
# no sanitizer report), no hang (each run ends by its bound), a clear
# message, and flat fd counts for a service that reconnects (ace-stat -w).
#
#   test_hostile_dev.sh BUILD TOOLDIR     (TOOLDIR: tools or tools-asan)
set -u
build=$1 tools=$2
dir=$(mktemp -d)
dev=
trap '[ -n "$dev" ] && kill $dev 2>/dev/null; rm -rf "$dir"' EXIT
export ACE_WAIT=2
fails=0 runs=0
"$build/host/test_contract" --image "$dir/arena.img" 1024 64 || exit 1

start_dev() {
	[ -n "$dev" ] && { kill $dev 2>/dev/null; wait $dev 2>/dev/null; }
	python3 tests/host/evil_dev.py "$dir/sock" "$dir/arena.img" "$1" >"$dir/dev.log" 2>&1 &
	dev=$!
	rm -f "$dir/sock"
	for _ in $(seq 100); do grep -q "^evil_dev:" "$dir/dev.log" && return; sleep 0.05; done
	echo "evil_dev did not start"; cat "$dir/dev.log"; exit 1
}

# run SCENARIO TOOL ARGS...: must end within 15 s, by exit 0 or 1, with
# no sanitizer report; exit 1 must come with a message
run() {
	local sc=$1 tool=$2; shift 2
	local t0 rc secs
	runs=$((runs + 1))
	t0=$(date +%s.%N)
	timeout -s KILL 15 "$tools/$tool" -d "$dir/sock" "$@" >"$dir/out" 2>&1
	rc=$?
	secs=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	if [ $rc -gt 1 ] || grep -qE 'Sanitizer|runtime error' "$dir/out"; then
		fails=$((fails + 1))
		echo "FAIL $sc $tool: exit $rc after $secs s"; tail -n 8 "$dir/out"
	elif [ $rc = 1 ] && ! grep -q . "$dir/out"; then
		fails=$((fails + 1))
		echo "FAIL $sc $tool: exit 1 without a word"
	else
		echo "ok $sc $tool: exit $rc, $secs s: $(grep -v '^ace-echo: serving\|^slot\|^[0-9]' "$dir/out" | tail -n 1 | cut -c1-150)"
	fi
}

for sc in ${ONLY:-stall stall-later pipe socket nofds magic huge short unsealed badhdr \
	  refuse detach storm close}; do
	start_dev $sc
	run $sc ace-echo -t 4 -q
	run $sc ace-ping -n 50 -B 100
	run $sc ace-stat
	run $sc ace-rngd -t 4 -q
	run $sc ace-bench -n 100
done

fdmax() {	# PID SAMPLES: the most fds PID held, sampled every 0.1 s
	local m=0 n
	for _ in $(seq "$2"); do
		n=$(ls /proc/$1/fd 2>/dev/null | wc -l)
		[ "$n" -gt "$m" ] && m=$n
		sleep 0.1
	done
	echo $m
}

# a service that reconnects: ace-stat -w across connections cut at once,
# half messages and refused arenas; its fds stay flat
for sc in close stall-later refuse; do
	start_dev $sc
	"$tools/ace-stat" -d "$dir/sock" -w 0.05 >"$dir/watch" 2>&1 &
	w=$!
	# the most fds seen in the first 2 s and in the 4 s after: a leak
	# of one fd per connection would add dozens
	a=$(fdmax $w 20); b=$(fdmax $w 40)
	runs=$((runs + 1))
	if ! kill -0 $w 2>/dev/null; then
		fails=$((fails + 1)); echo "FAIL watch $sc: ace-stat -w died"; tail -n 5 "$dir/watch"
	elif [ "$b" -gt "$a" ]; then
		fails=$((fails + 1)); echo "FAIL watch $sc: fds $a -> $b"
	else
		echo "ok watch $sc: ace-stat -w alive, fds $a -> $b, $(grep -c . "$dir/watch") lines"
	fi
	kill $w 2>/dev/null; wait $w 2>/dev/null
	if grep -qE 'Sanitizer|runtime error' "$dir/watch"; then
		fails=$((fails + 1)); echo "FAIL watch $sc: sanitizer"; grep -A5 Sanitizer "$dir/watch"
	fi
done
echo "hostile-dev: $runs runs, $fails failed"
[ $fails = 0 ]
