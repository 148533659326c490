#!/usr/bin/env bash
# The Debian packages (make deb), installed into this host as a user
# would: apt installs the four .deb files; a small program builds with
# `pkg-config --cflags --libs ace` and runs against the installed
# libace.so.1; the installed ace-proxy answers --help; and `dkms build`
# compiles ace.ko and ace_rng.ko against the installed kernel headers
# (linux-headers-amd64), whose vermagic they then carry.  The packages
# are purged at the end (dkms forgets the module with them).
# Host only, no VM.  Needs root (apt, dkms).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build
T=$(mktemp -d "${TMPDIR:-/tmp}/ace-deb.XXXXXX")
passed=0 failed=0
PKGS=(ace-dkms ace-tools libace-dev libace1)
check() {
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "  ok - $what"
	else
		failed=$((failed + 1))
		echo "  FAIL - $what"
	fi
}
apt_() { timeout 600 apt-get -y -q -o DPkg::Lock::Timeout=600 "$@"; }
cleanup() {
	apt_ purge "${PKGS[@]}" >"$T/purge.log" 2>&1 || true
	rm -rf "$T"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" -eq 0 ] || { echo "needs root (apt, dkms)"; echo "0 passed, 1 failed"; exit 1; }
check "make deb builds the packages" timeout 1800 make -s -C "$ROOT" deb
for p in "${PKGS[@]}"; do
	check "$p is built" compgen -G "$B/deb/${p}_*.deb" >/dev/null
done
VER=$(sed -n '1s/^ace (\([^)]*\)).*/\1/p' "$ROOT/debian/changelog")
# the installed headers' kernel (not necessarily the running one)
KVER=$(basename "$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n 1)")
KVER=${KVER#linux-headers-}

# install, as a user would; a DKMS build for the running kernel may fail
# here without its headers: that is not this test's concern
apt_ install --no-install-recommends "$B"/deb/{ace-dkms,ace-tools,libace-dev,libace1}_*.deb \
	>"$T/install.log" 2>&1
check "apt installs the four packages" \
	eval 'for p in "${PKGS[@]}"; do dpkg-query -W -f="\${db:Status-Status}\n" "$p" | grep -qx installed || exit 1; done'

# libace-dev: pkg-config, the header, the shared library
cat >"$T/hello.c" <<'C'
#include <stdio.h>
#include <ace.h>

int main(int argc, char **argv)
{
	struct ace *ch;
	int r = ace_open(&ch, argc > 1 ? argv[1] : "/nonexistent.sock", 0);

	printf("ace_open: %d: %s\n", r, ace_error(ch));
	ace_close(ch);
	return r ? 1 : 0;
}
C
check "pkg-config knows ace" eval 'pkg-config --cflags --libs ace | tee "$T/pc" | grep -q -- "-lace"'
check "a program builds with pkg-config --cflags --libs ace" \
	eval 'cc -Wall -Werror "$T/hello.c" $(pkg-config --cflags --libs ace) -o "$T/hello"'
"$T/hello" "$T/none.sock" >"$T/hello.out" 2>&1
rc=$?
check "it runs against the installed libace.so.1 (and fails as it should: $(cat "$T/hello.out"))" \
	eval 'ldd "$T/hello" | grep -E "libace.so.1 => (/usr)?/lib/" >/dev/null && [ $rc -eq 1 ] && grep -q "No such file" "$T/hello.out"'
cat >"$T/uapi.c" <<'C'
#include <stdio.h>
#include <linux/ace.h>

int main(void)
{
	printf("%lx %zu\n", (unsigned long)ACE_IOC_INFO, sizeof(struct ace_ioc_info));
	return 0;
}
C
check "the driver's uapi header builds as <linux/ace.h> with pkg-config --cflags ace" \
	eval 'cc -Wall -Werror "$T/uapi.c" $(pkg-config --cflags ace) -o "$T/uapi" && "$T/uapi" >/dev/null'
check "the static library links too" \
	eval 'cc "$T/hello.c" $(pkg-config --cflags ace) /usr/lib/*/libace.a -lpthread -o "$T/hello-static"'

# ace-tools
check "ace-proxy is installed and answers --help" eval '/usr/bin/ace-proxy --help | grep "^usage: ace-proxy" >/dev/null'
check "ace-ping is installed" test -x /usr/bin/ace-ping

# ace-dkms: the source is registered, and builds against the headers
check "dkms knows ace/$VER" eval 'dkms status -m ace -v "$VER" | grep "^ace/$VER" >/dev/null'
timeout 900 dkms build -m ace -v "$VER" -k "$KVER" --force >"$T/dkms.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$T/dkms.log"
check "dkms build compiles the modules against $KVER's headers" [ $rc -eq 0 ]
M=/var/lib/dkms/ace/$VER/$KVER/$(uname -m)/module
for m in ace ace_rng; do
	f=$(ls "$M/$m.ko"* 2>/dev/null | head -n 1)
	check "$m.ko is built for $KVER" \
		eval '[ -n "$f" ] && modinfo -F vermagic "$f" | grep "^$KVER " >/dev/null'
done
check "dkms status shows ace built for $KVER" \
	eval 'dkms status -m ace -v "$VER" -k "$KVER" | grep -E "built|installed" >/dev/null'

apt_ purge "${PKGS[@]}" >"$T/purge.log" 2>&1
check "the packages purge cleanly, dkms forgets ace" \
	eval '! dkms status -m ace 2>/dev/null | grep "^ace/" >/dev/null && [ ! -e /usr/include/ace.h ] && [ ! -e /usr/include/ace/linux/ace.h ]'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
