#!/usr/bin/env bash
# The tools' command lines: every tool answers --help with its usage and
# exit 0, refuses a bad option, a bad number (negative, garbage, past its
# range or overflowing) and a bad ACE_WAIT or ACE_DEV with a clear message
# and exit 2, and, pointed at something that is not an ACE device (a
# missing /dev node included), says why and exits 1 (no crash, no hang).
set -u
B=${1:-build}
passed=0 failed=0
t() { # t DESCRIPTION EXPECTED-STATUS REGEX CMD...
	local what=$1 want=$2 re=$3 out rc
	shift 3
	out=$(timeout 20 "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && grep -qE "$re" <<<"$out"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $what (exit $rc, wanted $want): $(head -n 3 <<<"$out")"
	fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/notadev"
for tool in ace-echo ace-ping ace-bench ace-stat; do
	t "$tool --help" 0 "^usage: $tool" "$B/tools/$tool" --help
	t "$tool bad option" 2 "usage: $tool" "$B/tools/$tool" --no-such-option
	t "$tool on a missing socket" 1 "^$tool: connect .*No such file" \
		env ACE_WAIT=0 ACE_DEV="$tmp/none.sock" "$B/tools/$tool"
	t "$tool on a plain file" 1 "^$tool: connect .*(refused|not a socket|Connection)" \
		env ACE_WAIT=0 ACE_DEV="$tmp/notadev" "$B/tools/$tool"
done
t "ace-ping rejects a bad mode" 2 "mode 'sideways': want poll, interrupt or adaptive" \
	"$B/tools/ace-ping" -m sideways
# bad numbers: TOOL OPTION VALUE..., each refused with exit 2, naming the
# option and the value, before anything is opened (ACE_DEV points nowhere)
bad_num() {
	local tool=$1 opt=$2 v
	shift 2
	for v in "$@"; do
		t "$tool $opt '$v' is refused" 2 "^$tool: .*$opt.* '$(sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$v")': want" \
			env ACE_DEV="$tmp/none.sock" "$B/tools/$tool" "$opt" "$v" "${EXTRA[@]}"
	done
}
EXTRA=()
NUMS=(-5 abc 12x "" " 7" 1e999 18446744073709551616 99999999999999999999999)
bad_num ace-ping -n "${NUMS[@]}" 0 1000000001
bad_num ace-ping -w -3 abc 1.5
bad_num ace-ping -s -1 7 2097121 1048577 4k
bad_num ace-ping -B -1 soon
bad_num ace-bench -p 0 65 -1 two
bad_num ace-bench -n 0 -5 1e3
bad_num ace-bench -s 4 -64 big
bad_num ace-echo -c 0 -1 many
bad_num ace-echo -t -1 abc 0 nan inf 1e999 0x10 0x1p3 1e3 . 1.2.3 " 1" 1,5
bad_num ace-stat -w abc -1 0 nan 1x
bad_num ace-rngd -t -2 soon 0x2
bad_num ace-echo --wait -1 abc 0x10 1e3 never ""
bad_num ace-rngd --wait -1 0x1p2
EXTRA=(-s svc=tcp:80)
bad_num ace-proxy -w -1 8192x abc 99999999999999999999
bad_num ace-proxy -S 0 -1 lots
bad_num ace-proxy -t -1 x
bad_num ace-proxy --spin -1 x
t "ace-proxy refuses a window past its maximum" 2 "window 4096" \
	"$B/tools/ace-proxy" -w 999999999 -s svc=tcp:80
for o in "--spin -1" "--spin x" "-t -1" "-t abc" "-t 0x1p1" "-s 0" "-s nan" "-m sideways"; do
	# shellcheck disable=SC2086
	t "ace-bridge refuses $o" 2 "^ace-bridge: --[a-z]+ '[^']*': want" \
		"$B/tools/ace-bridge" $o "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
done
printf 'spin -4\n' >"$tmp/spin.conf"
t "ace-bridge refuses a bad number in a config file" 2 "spin.conf:1: not an option: spin -4" \
	"$B/tools/ace-bridge" -c "$tmp/spin.conf" "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
for tool in ace-echo ace-ping ace-bench ace-stat ace-rngd; do
	t "$tool refuses a stray argument" 2 "^$tool: unexpected argument 'extra'" \
		"$B/tools/$tool" extra
	for w in abc -1 "" 1e999 5s; do
		t "$tool refuses ACE_WAIT='$w'" 2 "^$tool: ACE_WAIT '$w': want seconds" \
			env ACE_WAIT="$w" ACE_DEV="$tmp/none.sock" "$B/tools/$tool"
	done
	t "$tool refuses an empty ACE_DEV" 2 "^$tool: ACE_DEV is set but empty" \
		env ACE_DEV= "$B/tools/$tool"
	t "$tool names a missing /dev node" 1 "^$tool: /dev/ace9: no such device; is ace.ko loaded\?" \
		"$B/tools/$tool" -d /dev/ace9
	t "$tool -d '' is refused" 2 "^$tool: the device path is empty" "$B/tools/$tool" -d ""
done
t "ace-proxy refuses ACE_WAIT=abc" 2 "^ace-proxy: ACE_WAIT 'abc': want seconds" \
	env ACE_WAIT=abc ACE_DEV="$tmp/none.sock" "$B/tools/ace-proxy" -s svc=tcp:80
t "ace-proxy names a missing /dev node" 1 "cannot open /dev/ace9: no such device; is ace.ko loaded\?" \
	"$B/tools/ace-proxy" -d /dev/ace9 -s svc=tcp:80
# ACE_WAIT is honoured: 0.5 s on a socket that never appears, then exit 1
t "ACE_WAIT=0.5 bounds the wait for a missing socket" 1 "^ace-stat: connect .*No such file" \
	env ACE_WAIT=0.5 ACE_DEV="$tmp/none.sock" "$B/tools/ace-stat"
t "ACE_WAIT=0x1p-1 is refused" 2 "^ace-stat: ACE_WAIT '0x1p-1': want seconds" \
	env ACE_WAIT=0x1p-1 ACE_DEV="$tmp/none.sock" "$B/tools/ace-stat"
# services wait for ever by default, as long as told otherwise
for tool in ace-echo ace-rngd; do
	t "$tool waits for an absent device for ever by default" 124 "" \
		timeout 1.5 env -u ACE_WAIT "$B/tools/$tool" -d "$tmp/none.sock"
	t "$tool --wait 0.3 bounds it" 1 "^$tool: connect .*No such file" \
		env -u ACE_WAIT "$B/tools/$tool" -d "$tmp/none.sock" --wait 0.3
	t "$tool: --wait over ACE_WAIT" 1 "^$tool: connect .*No such file" \
		env ACE_WAIT=forever "$B/tools/$tool" -d "$tmp/none.sock" --wait 0.3
done
t "ace-proxy waits for an absent device for ever by default" 124 "" \
	timeout 1.5 env -u ACE_WAIT "$B/tools/ace-proxy" -d "$tmp/none.sock" -s svc=tcp:80
t "ace-proxy --wait 0.3 gives up, saying why" 1 "no device at .* after 0.3 s" \
	env -u ACE_WAIT "$B/tools/ace-proxy" -d "$tmp/none.sock" --wait 0.3 -s svc=tcp:80
t "ace-bridge --help" 0 "^usage: ace-bridge" "$B/tools/ace-bridge" --help
t "ace-bridge needs two VMs" 2 "give 2 to 16 VMs" "$B/tools/ace-bridge" "vm1=$tmp/a.sock"
t "ace-bridge refuses NAME without =" 2 "is not NAME=SOCKET" \
	"$B/tools/ace-bridge" vm1 "vm2=$tmp/b.sock"
t "ace-bridge refuses a / in a name" 2 "is not NAME=SOCKET" \
	"$B/tools/ace-bridge" "a/b=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge refuses a name given twice" 2 "given twice" \
	"$B/tools/ace-bridge" "vm1=$tmp/a.sock" "vm1=$tmp/b.sock"
t "ace-bridge refuses an export rule naming no VM given" 2 "is not FROM/PATTERN=TO" \
	"$B/tools/ace-bridge" --export 'vm3/echo=vm1' "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge refuses an export rule without =" 2 "is not FROM/PATTERN=TO" \
	"$B/tools/ace-bridge" --export 'vm2/echo' "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge refuses a bad quota" 2 "is not N or VM=N" \
	"$B/tools/ace-bridge" --quota lots "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
# base 10 only (strtoul base 0 took 0x10 as 16 and 010 as 8), no sign or space
for q in 0x10 " 8" +8 -1 vm1=0x2 "vm1= 3"; do
	for o in --quota --reserve; do
		t "ace-bridge refuses $o '$q'" 2 "is not N or VM=N" \
			"$B/tools/ace-bridge" $o "$q" "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
	done
done
t "ace-bridge takes --quota 010 as ten" 0 "vm1: down.*quota 10\b" \
	"$B/tools/ace-bridge" -t 0.3 --stats 0.1 --quota 010 "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge refuses a missing config file" 2 "cannot read" \
	"$B/tools/ace-bridge" -c "$tmp/none.conf" "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
printf 'export vm2/echo=vm1\nbogus 1\n' >"$tmp/bad.conf"
t "ace-bridge names a bad config line" 2 "bad.conf:2: not an option: bogus" \
	"$B/tools/ace-bridge" -c "$tmp/bad.conf" "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge says when nothing is exported" 0 "0 export rule\(s\): nothing is shown" \
	"$B/tools/ace-bridge" -t 0.2 "vm1=$tmp/a.sock" "vm2=$tmp/b.sock"
t "ace-bridge waits for absent VMs, then exits on time" 0 "vm1: down.*0 in" \
	"$B/tools/ace-bridge" -t 0.5 "vm1=$tmp/a.sock" "vm2=$tmp/notadev"
t "ace-proxy --help" 0 "^usage: ace-proxy" "$B/tools/ace-proxy" --help
t "ace-proxy bad option" 2 "usage: ace-proxy" "$B/tools/ace-proxy" --no-such-option
t "ace-proxy needs -l or -s" 2 "give -l ADDR=SERVICE or -s NAME=ADDR" "$B/tools/ace-proxy"
t "ace-proxy refuses -l without =SERVICE" 2 "wants ADDR=SERVICE" \
	"$B/tools/ace-proxy" -l tcp:7000
t "ace-proxy refuses a bad address" 2 "bad address udp:7000" \
	"$B/tools/ace-proxy" -l udp:7000=svc
t "ace-proxy refuses a bad port" 2 "bad address tcp:70000" \
	"$B/tools/ace-proxy" -s svc=tcp:70000
for port in " 80" "+80" "0x50" "80 " ""; do
	re=$(sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$port")
	t "ace-proxy refuses port '$port'" 2 "bad address tcp:$re" \
		"$B/tools/ace-proxy" -s "svc=tcp:$port"
	t "ace-proxy refuses port '$port' with a host" 2 "bad address tcp:127\.0\.0\.1:$re" \
		"$B/tools/ace-proxy" -l "tcp:127.0.0.1:$port=svc"
done
t "ace-proxy refuses a tiny window" 2 "window 4096" \
	"$B/tools/ace-proxy" -w 100 -s svc=tcp:80
t "ace-proxy in a guest without /dev/ace0 says so" 1 "cannot open /dev/" \
	"$B/tools/ace-proxy" -d /dev/nonexistent-ace -s svc=tcp:80
t "ace-proxy on the host waits for an absent device, then exits on time" 0 \
	"0 stream\(s\) now" env -u ACE_WAIT "$B/tools/ace-proxy" -d "$tmp/none.sock" -t 0.5 \
	-l "unix:$tmp/l.sock=svc"
# With a device (tests/host/fake_dev: a device and its guest in one
# process, built by make host-bins): a name lookup waits ACE_WAIT, not
# longer, and says what it looked for; a ping to the fake guest's echo works.
if [ -x "$B/host/fake_dev" ]; then
	timeout --kill-after=5 60 "$B/host/fake_dev" -s "$tmp/dev.sock" -r echo -t 50 \
		>"$tmp/fake_dev.log" 2>&1 &
	fd_pid=$!
	for _ in $(seq 50); do [ -S "$tmp/dev.sock" ] && break; sleep 0.1; done
	t0=$(date +%s%N)
	t "ace-ping's name lookup gives up after ACE_WAIT" 1 \
		"^ace-ping: no mproc named nosuch after 1.0 s \(ACE_WAIT" \
		env ACE_WAIT=1 "$B/tools/ace-ping" -d "$tmp/dev.sock" -T nosuch
	ms=$((($(date +%s%N) - t0) / 1000000))
	t "... in about 1 s (took ${ms} ms)" 0 "" test "$ms" -ge 900 -a "$ms" -lt 5000
	t "ace-bench's name lookup gives up after ACE_WAIT" 1 \
		"^ace-bench: no mproc named nosuch after 0.3 s" \
		env ACE_WAIT=0.3 "$B/tools/ace-bench" -d "$tmp/dev.sock" -T nosuch
	t "ace-ping reaches the fake guest's echo" 0 "round trips to echo" \
		"$B/tools/ace-ping" -d "$tmp/dev.sock" -T echo -n 200 -m poll
	kill -TERM "$fd_pid" 2>/dev/null
	wait "$fd_pid" 2>/dev/null
else
	echo "(no $B/host/fake_dev: make host-bins for the lookup checks)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
