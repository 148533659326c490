#!/usr/bin/env bash
# Run test commands, one per line on stdin as "name<TAB>timeout<TAB>command",
# each under its own timeout, and print TAP lines plus a closing count:
#   ok 3 - asan/test_fifo (1.2 s)
#   ...
#   24 passed, 0 failed
# A test passes when it exits 0; 77 means skipped.  The output of a failed
# test is shown; the output of a passing one is kept in build/test-logs/.
set -u
logdir=${ACE_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"
n=0 pass=0 fail=0 skip=0
failed=()
while IFS=$'\t' read -r name tmo cmd; do
	[ -z "$name" ] && continue
	n=$((n + 1))
	log="$logdir/${name//\//_}.log"
	start=$(date +%s.%N)
	# timeout(1) ends the test's own process group by PID on expiry
	timeout --kill-after=10 "$tmo" bash -c "$cmd" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $name (${secs} s)"
		grep -E '^(side|blocks|rounds|operations|fuzz)' "$log" | sed 's/^/#   /'
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1))
		echo "ok $n - $name # SKIP $(tail -n 1 "$log")"
	else
		fail=$((fail + 1))
		failed+=("$name")
		[ $rc -eq 124 ] && why="timed out after $tmo s" || why="exit $rc"
		echo "not ok $n - $name ($why, ${secs} s)"
		tail -n 30 "$log" | sed 's/^/#   /'
	fi
done
echo "1..$n"
[ $fail -gt 0 ] && echo "# failed: ${failed[*]}"
if [ $skip -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ $fail -eq 0 ]
