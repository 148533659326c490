#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
# Host services against a hostile device (tests/host/evil_dev.py on the
# peer socket, no QEMU): every tool, every scenario.  Each run must end
# within its bound (no hang), without a signal or a sanitizer report (no
# crash), with the exit status and the one stderr line its scenario
# calls for (the refusal or the event, in libace's words); the device
# checks its side (a DETACH acknowledged, no write into an arena after
# it).  Then ace-stat -w across repeated breaks: it reports each and its
# fd count stays flat.
#
#   test_hostile_dev.sh BUILD TOOLDIR     (TOOLDIR: tools or tools-asan)
#
# ACE_EVIL_HELLO: the HELLO the device sends (evil_dev.py --hello): 2.1
# (the kick and raise fds are stream socket pairs) or 2.0 (eventfds);
# by default the one of the ABI minor in shared/ace_abi.h.
# ONLY="SCENARIO ...", WATCH="SCENARIO ...": run those only (empty: none).
set -u
build=$1 tools=$2
dir=$(mktemp -d)
dev= w=
trap '[ -n "$w" ] && kill $w 2>/dev/null; [ -n "$dev" ] && kill $dev 2>/dev/null; rm -rf "$dir"' EXIT
# ACE_WAIT bounds a tool's wait for the device, the arena and a name (an
# mproc "echo" never appears here): long enough for a storm of 9,000
# messages to reach its close under ASan on a loaded machine (16 messages
# per look), short of the 15 s kill
export ACE_WAIT=8
fails=0 runs=0
"$build/host/test_contract" --image "$dir/arena.img" 1024 64 || exit 1
"$build/host/test_contract" --image "$dir/small.img" 256 16 || exit 1
minor=$(awk '$2 == "ACE_ABI_MINOR" { print $3 }' shared/ace_abi.h)
hello=${ACE_EVIL_HELLO:-$([ "${minor:-0}" -ge 1 ] && echo 2.1 || echo 2.0)}

all="stall stall-later pipe socket other nofds magic huge short unsealed \
     badhdr refuse detach storm close bellpipe bellfds bellunasked bellmute"
scen=${ONLY-$all}
watch=${WATCH-close stall-later refuse detach}

# start_dev LOG ARGS... SCENARIO...: one device, a socket per scenario
# ($dir/SCENARIO.sock)
start_dev() {
	local log=$1; shift
	local opts=() sc
	while [ "${1#-}" != "$1" ]; do opts+=("$1" "$2"); shift 2; done
	[ -n "$dev" ] && { kill $dev 2>/dev/null; wait $dev 2>/dev/null; }
	: >"$log"
	python3 tests/host/evil_dev.py --hello "$hello" --small "$dir/small.img" \
		"${opts[@]}" "$dir/arena.img" \
		$(for sc; do echo "$sc:$dir/$sc.sock"; done) >"$log" 2>&1 &
	dev=$!
	for _ in $(seq 200); do grep -q "^evil_dev: listening" "$log" && return; sleep 0.05; done
	echo "evil_dev did not start"; cat "$log"; exit 1
}

census='^arena: [0-9]+ blocks: [0-9]+ free'
gone='made in an arena that is gone: '

# expect SCENARIO TOOL: sets rc (the exit status) and pat (an ERE the one
# line the tool writes to stderr must match after "TOOL: ", or "" for a
# run that writes nothing there and prints the arena's census), or opat
# (an ERE a line on stdout must match after "TOOL: ", nothing on stderr)
expect() {
	local sc=$1 tool=$2
	rc=1 opat=
	case $sc in
	stall)		pat='the device stalled in the middle of a message';;
	pipe)		pat='HELLO: the kick fd is not';;
	socket|other)	pat='HELLO: the raise fd is not';;
	nofds)		pat='HELLO with [0-9]+ bytes and 0 fds';;
	magic)		pat='bad message from the device \(magic 0xefbeadde';;
	huge)		pat='bad message from the device \(magic 0x50454341, len 1073741824\)';;
	short)		pat='ARENA: the region fd .*(fewer than|shorter)';;
	unsealed)	pat='ARENA: the region fd is not sealed';;
	badhdr)		pat="the guest's arena is refused: class block size";;
	# the event comes once the tool serves (has claimed an mproc);
	# ace-stat prints the arena and exits before; ace-rngd says what
	# ended it and exits 0
	stall-later)	pat='the device stalled in the middle of a message';;
	refuse)		pat="${gone}the guest's new arena \(generation 2\) was refused: .*class block size";;
	detach)		pat="${gone}the guest (detached its arena \(generation 1\)|attached a new arena \(generation 2\))";;
	storm|close)	pat='the device closed the connection';;
	# ABI 2.2: the direct doorbell's fd
	bellpipe)	pat='BELL: the doorbell fd is not an eventfd \(pipe:';;
	bellfds)	pat='BELL with 0 bytes and 2 fds';;
	bellunasked)	pat='a BELL not asked for';;
	bellmute)	pat='no BELL \(the answer to BELL_REQ\) from the device';;
	esac
	case $sc:$tool in
	stall-later:ace-stat|refuse:ace-stat|detach:ace-stat|storm:ace-stat|close:ace-stat)
		rc=0 pat=;;
	stall-later:ace-rngd|storm:ace-rngd|close:ace-rngd)
		rc=0;;
	# the services outlive the guest (ACE_PERSIST): a refused arena
	# or a detach is the guest going away, waited for until their -t
	refuse:ace-echo|refuse:ace-rngd)
		rc=0 pat= opat="the guest went away \(the guest's new arena \(generation 2\) was refused: .*class block size";;
	detach:ace-echo|detach:ace-rngd)
		rc=0 pat= opat="the guest is back: serving again";;
	esac
}

bad() {	# SCENARIO TOOL WHY: a failed run
	fails=$((fails + 1))
	echo "FAIL $1 $2: $3"
	sed 's/^/    stderr: /' "$dir/err" | tail -n 12
	sed 's/^/    stdout: /' "$dir/out" | tail -n 3
}

# run SCENARIO TOOL ARGS...
run() {
	local sc=$1 tool=$2; shift 2
	local t0 got secs n
	runs=$((runs + 1))
	expect "$sc" "$tool"
	t0=$(date +%s.%N)
	timeout --foreground -s KILL 15 "$tools/$tool" -d "$dir/$sc.sock" "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	secs=$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	n=$(grep -c . "$dir/err")
	if [ $got = 137 ]; then
		bad $sc $tool "killed after $secs s (a hang); wanted exit $rc${pat:+, \"$pat\"}"
	elif grep -qE 'Sanitizer|runtime error' "$dir/err" "$dir/out"; then
		bad $sc $tool "crashed after $secs s: $(grep -m1 -hE 'SUMMARY|runtime error' "$dir/err" "$dir/out")"
	elif [ $got -gt 128 ]; then
		bad $sc $tool "killed by signal $((got - 128)) after $secs s"
	elif [ $got != $rc ]; then
		bad $sc $tool "exit $got, wanted $rc${pat:+ with \"$pat\"}"
	elif [ -n "$opat" ] && { [ "$n" != 0 ] || ! grep -qE "^$tool: .*$opat" "$dir/out"; }; then
		bad $sc $tool "nothing on stderr ($n lines) and \"$tool: ...$opat\" on stdout, wanted"
	elif [ -n "$opat" ]; then
		echo "ok $sc $tool: exit $got, $secs s: $(grep -m1 -E "^$tool: .*$opat" "$dir/out" | cut -c1-150)"
	elif [ -n "$pat" ] && { [ "$n" != 1 ] || ! grep -qE "^$tool: .*$pat" "$dir/err"; }; then
		bad $sc $tool "stderr ($n lines) is not the one line \"$tool: ...$pat\""
	elif [ -z "$pat" ] && { [ "$n" != 0 ] || ! grep -qE "$census" "$dir/out"; }; then
		bad $sc $tool "wanted the arena's census and nothing on stderr"
	else
		echo "ok $sc $tool: exit $got, $secs s: $({ cat "$dir/err"; grep -E "$census" "$dir/out"; } |
			head -n 1 | cut -c1-150)"
	fi
}

# the device's own checks: every connection over, no FAIL line
dev_checks() {	# LOG CONNECTIONS [DETACH_CHECKS]
	local n c
	for _ in $(seq 100); do
		n=$(grep -c ': done$' "$1")
		[ "$n" -ge "$2" ] && break
		sleep 0.05
	done
	runs=$((runs + 1))
	c=$(grep -c '^evil_dev: detach: checked' "$1")
	if [ "$c" -lt "${3:-0}" ]; then
		fails=$((fails + 1)); echo "FAIL device: detach checked $c serving peers, not $3"
		grep detach "$1"
	elif grep -q '^evil_dev: FAIL' "$1"; then
		fails=$((fails + 1)); echo "FAIL device checks:"; grep '^evil_dev: FAIL' "$1"
	elif grep -q 'Traceback' "$1"; then
		fails=$((fails + 1)); echo "FAIL device: evil_dev.py failed"; cat "$1"
	else
		echo "ok device checks: $n connections over, $c detach checks, no FAIL"
	fi
}

echo "hostile-dev: HELLO $hello (ABI 2.${minor:-?} in shared/ace_abi.h)"
if [ -n "$scen" ]; then
	start_dev "$dir/dev.log" $scen
	for sc in $scen; do
		run $sc ace-echo -t 6 -q
		run $sc ace-ping -n 50 -B 100
		run $sc ace-stat
		run $sc ace-rngd -t 6 -q
		run $sc ace-bench -n 100
	done
	# detach: the device checks the four tools that serve (not ace-stat)
	dev_checks "$dir/dev.log" $(( $(echo $scen | wc -w) * 5 )) \
		$(case " $scen " in *" detach "*) echo 4;; esac)
	kill $dev; wait $dev 2>/dev/null; dev=
fi

# fdmax PID SAMPLES: the most fds PID held other than memfds, and the
# most memfds, sampled every 0.1 s (a memfd is the arena region's fd,
# held only while its ARENA message is handled: one at most)
fdmax() {
	local o=0 m=0 f n k
	for _ in $(seq "$2"); do
		f=$(find /proc/$1/fd -mindepth 1 -printf '%l\n' 2>/dev/null)
		n=$(grep -vc '^/memfd:' <<<"$f"); k=$(grep -c '^/memfd:' <<<"$f")
		[ "$n" -gt "$o" ] && o=$n
		[ "$k" -gt "$m" ] && m=$k
		sleep 0.1
	done
	echo $o $m
}

# a service that reconnects: ace-stat -w across connections cut at once,
# half messages and refused arenas (events 0.2 s after each connection),
# and across a detach and a smaller arena: it reports each event, its fds
# stay flat
[ -n "$watch" ] && start_dev "$dir/watch.log" --wait 0.2 $watch
for sc in $watch; do
	case $sc in
	close)		ev='device gone: the device closed the connection' min=3;;
	stall-later)	ev='device gone: the device stalled in the middle of a message' min=2;;
	refuse)		ev="device gone: the guest's new arena \(generation 2\) was refused" min=3;;
	detach)		ev='attached: the guest attached a new arena' min=1;;
	esac
	"$tools/ace-stat" -d "$dir/$sc.sock" -w 0.05 >"$dir/watch" 2>&1 &
	w=$!
	# the most fds seen in the first 2 s and in the 4 s after: a leak
	# of one fd per connection would add several
	read -r a am < <(fdmax $w 20); read -r b bm < <(fdmax $w 40)
	runs=$((runs + 1))
	n=$(grep -cE "^ace-stat: $ev" "$dir/watch")
	if ! kill -0 $w 2>/dev/null; then
		fails=$((fails + 1)); echo "FAIL watch $sc: ace-stat -w died"; tail -n 5 "$dir/watch"
	elif [ "$b" -gt "$a" ] || [ "$am" -gt 1 ] || [ "$bm" -gt 1 ]; then
		fails=$((fails + 1)); echo "FAIL watch $sc: fds $a -> $b, memfds $am -> $bm"
	elif [ "$n" -lt $min ]; then
		fails=$((fails + 1)); echo "FAIL watch $sc: \"$ev\" $n times, wanted $min or more"
		grep '^ace-stat:' "$dir/watch" | sort | uniq -c | head -n 5
	elif [ $sc = detach ] && [ "$(grep -E "$census" "$dir/watch" | head -n 1)" = \
				    "$(grep -E "$census" "$dir/watch" | tail -n 1)" ]; then
		fails=$((fails + 1)); echo "FAIL watch $sc: the census did not follow to the smaller arena"
		grep -E "$census" "$dir/watch" | uniq -c
	else
		echo "ok watch $sc: ace-stat -w alive, fds $a -> $b (memfds at most $bm), \"$ev\" $n times"
	fi
	kill $w 2>/dev/null; wait $w 2>/dev/null; w=
	if grep -qE 'Sanitizer|runtime error' "$dir/watch"; then
		fails=$((fails + 1)); echo "FAIL watch $sc: sanitizer"; grep -A5 Sanitizer "$dir/watch"
	fi
done
[ -n "$watch" ] && dev_checks "$dir/watch.log" 0
echo "hostile-dev: $runs runs, $fails failed"
[ $fails = 0 ]
