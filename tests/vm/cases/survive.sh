#!/usr/bin/env bash
# shellcheck disable=SC2154 # PID_<name> are set by host() in lib.sh
# A host service outlives its guest (libace's ACE_PERSIST): ace-echo,
# started before QEMU exists and waiting for it as long as it takes (no
# ACE_WAIT: a service's default is for ever), serves the guest; the guest
# reloads ace.ko, reboots (reboot -f), and reloads it again, and after each
# the guest's ace-ping reaches the same ace-echo process again, nothing
# restarted on the host.  When QEMU exits, ace-echo says so and exits 1.
. "$(dirname "$0")/../lib.sh"
# child PID: host() starts CMD under timeout; the service is its child
child() { awk '{ print $1 }' "/proc/$1/task/$1/children" 2>/dev/null; }
con() { tr -d '\r' <"$T/console.log" | grep -aE "$1" >/dev/null; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

echo "ace-echo before QEMU, a reload, a reboot and a reload:"
host echo 600 env -u ACE_WAIT "$B/tools/ace-echo" -d "$SOCK" -n echo -m adaptive
sleep 3
e=$(child "$PID_echo")
check "ace-echo waits for a device that is not there yet (3 s, no ACE_WAIT)" \
	alive "$e"
VM_TIMEOUT=500 vm_start survive.sh -- -device "virtio-ace-pci,socket=$SOCK" \
	-action reboot=reset
if wait_for "$T/console.log" 'ACE-TEST want-marker' 300; then
	host marker 400 "$B/tools/ace-echo" -d "$SOCK" -n boot2 -q
fi
wait_for "$T/console.log" 'ACE-TEST survive: ' 400 || true
check "the same ace-echo process (PID $e) is still serving" \
	[ "$(child "$PID_echo")" = "$e" ]
check "the guest passes" vm_wait
for c in "boot 1: the host's ace-echo answers" \
	"boot 1: ace.ko reloaded" \
	"boot 1: after the reload, ace-echo answers again" \
	"boot 2: after the reboot, ace-echo answers again" \
	"boot 2: ace.ko reloaded" \
	"boot 2: after the reload, ace-echo answers again" \
	"boot 2: no block leaked"; do
	check "$c" con "^ACE-TEST ok: $c"
done
check "the guest rebooted" con '^ACE-TEST rebooting'
check "a second boot" con '^ACE-TEST second boot'
check "no guest check failed" con '^ACE-TEST survive: 0 failure'
# QEMU is gone now: ace-echo tells that from the guest going away
for ((i = 0; i < 50; i++)); do kill -0 "$e" 2>/dev/null || break; sleep 0.1; done
r=0
wait "$PID_echo" || r=$?
check "QEMU gone: ace-echo exits with status 1" [ "$r" = 1 ]
check "... saying QEMU went away" has "$T/echo.log" 'QEMU exited\?'
check "ace-echo started once" [ "$(grep -c 'serving as echo' "$T/echo.log")" = 1 ]
check "it saw the guest go three times (reload, reboot, reload)" \
	[ "$(grep -c 'the guest went away' "$T/echo.log")" -ge 3 ]
check "and come back each time" \
	[ "$(grep -c 'the guest is back: serving again' "$T/echo.log")" -ge 3 ]
check "what it said while away: -ENOTCONN's words, not a stale handle" \
	has "$T/echo.log" 'the guest may come back'
tr -d '\r' <"$T/console.log" | grep -a '^ACE-TEST\|^ace-ping' | sed 's/^/    /'
sed 's/^/    echo: /' "$T/echo.log"
finish
