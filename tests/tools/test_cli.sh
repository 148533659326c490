#!/usr/bin/env bash
# The tools' command lines: every tool answers --help with its usage and
# exit 0, refuses a bad option with exit 2, and, pointed at something that
# is not an ACE device, says why and exits 1 (no crash, no hang).
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
t "ace-ping rejects a bad mode" 2 "usage: ace-ping" "$B/tools/ace-ping" -m sideways
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
t "ace-proxy refuses a tiny window" 2 "window 4096" \
	"$B/tools/ace-proxy" -w 100 -s svc=tcp:80
t "ace-proxy in a guest without /dev/ace0 says so" 1 "cannot open /dev/" \
	"$B/tools/ace-proxy" -d /dev/nonexistent-ace -s svc=tcp:80
t "ace-proxy on the host waits for an absent device, then exits on time" 0 \
	"0 stream\(s\) now" env ACE_WAIT=0 "$B/tools/ace-proxy" -d "$tmp/none.sock" -t 0.5 \
	-l "unix:$tmp/l.sock=svc"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
