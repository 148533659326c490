#!/usr/bin/env bash
# Faults in the guest: a process killed while holding and receiving
# messages has them reclaimed; rmmod refuses cleanly while the device is
# open or a kernel user is loaded, and unload/reload cycles leak nothing,
# with a host peer connected throughout.  No kernel warning may appear
# (run-vm.sh fails the guest on one).
. "$(dirname "$0")/../lib.sh"

host peer 120 "$B/vm/ace_hostpeer" -t 60000 "$SOCK" hold 90
vm_start faults.sh
check "the guest passes" vm_wait
# it holds 200 messages, and its block cache may keep a few more
held=$(tr -d '\r' <"$T/console.log" | sed -n 's/^ACE-TEST held-before-kill \([0-9]*\)$/\1/p')
check "the killed process held its 200 blocks (and its cache's: $held)" \
	eval '[ -n "$held" ] && [ "$held" -ge 200 ] && [ "$held" -le 264 ]'
check "all of them came back" eval 'console "^ACE-TEST reclaimed $held\$" &&
	console "^ACE-TEST free-after-kill ([0-9]+) of \\1\$"'
check "rmmod refused with /dev/ace0 open" console 'ACE-TEST rmmod-refused-open .*(in use|unavailable)'
check "rmmod refused under a kernel user" console 'ACE-TEST rmmod-refused-kernel-user'
check "rmmod, insmod and again: a fresh arena each time" console 'ACE-TEST cycles-ok'
check "the host peer outlived every reload" kill -0 "$PID_peer"
tr -d '\r' <"$T/console.log" | grep -a 'ACE-TEST' | sed 's/^/    /'
finish
