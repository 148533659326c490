#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
# A guest sends a host ace-echo one message whose src it forged to the
# echo's own id (tests/host/fake_dev.c, role reflect): answered, the
# message would come back to the echo for ever (millions a second, from
# one message).  The echo drops it, says so, and goes on serving.
#
#   tests/host/test_reflect.sh BUILD [TOOLS-DIR]
set -u
B=${1:-build}
T_DIR=${2:-$B/tools}
tmp=$(mktemp -d)
dev=
trap '[ -n "$dev" ] && kill "$dev" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0 failed=0
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

"$B/host/fake_dev" -s "$tmp/r.sock" -r reflect:echo -t 5 >"$tmp/dev.log" 2>&1 &
dev=$!
for _ in $(seq 100); do grep -q 'slots$' "$tmp/dev.log" && break; sleep 0.05; done
timeout -s KILL 15 "$T_DIR/ace-echo" -d "$tmp/r.sock" -t 3 >"$tmp/echo.out" 2>"$tmp/echo.err"
rc=$?
wait "$dev"
dev=
n=$(awk '$2 == "reflected" { print $3 }' "$tmp/dev.log")
check "ace-echo exits 0 ($rc), nothing on stderr" test "$rc" = 0 -a ! -s "$tmp/echo.err"
check "the echo sent ${n:-nothing} message(s) in the second after the forged one (none wanted)" \
	test "${n:-x}" = 0
check "the echo says it did not answer itself" \
	grep -q '^ace-echo: 1 messages, .* 1 from itself' "$tmp/echo.out"
if [ "$failed" -gt 0 ]; then
	sed 's/^/    dev: /' "$tmp/dev.log"
	sed 's/^/    echo: /' "$tmp/echo.out" "$tmp/echo.err"
fi
echo "test_reflect: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
