#!/bin/sh
# Guest side of tests/vm/cases/peer-stall-chardev.sh: once the host's
# echo ("hecho") is up, force recoveries (debugfs "recover", each a new
# ATTACH: a DETACH and an ARENA to every peer) as fast as they go, until
# the device drops the mute chardev peer (bit 0 of peers_up clears) or
# $2 recoveries, with a round trip to the echo every 100 writes; then
# wait for a new chardev peer, and stay until it goes.  Shell builtins
# only in the loop: under TCG a fork costs more than a recovery.
. /tests/common.sh
max=${2:-2000}
ping_echo() {
	if ace-ping -T hecho -n 5 -w 0 -m interrupt >/dev/null 2>&1; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "ACE-TEST echo-failed after $n recoveries"
	fi
}
insmod /lib/ace/ace.ko test_hooks=1 arena_size=1048576 || exit 1
mount -t debugfs none /sys/kernel/debug 2>/dev/null
a=$(vdev)/ace
hook=/sys/kernel/debug/ace/ace0/recover
[ -w "$hook" ] || { echo "ACE-TEST no recover hook"; exit 1; }
echo "ACE-TEST arena-attached"
wait_mproc hecho 120 || { echo "ACE-TEST no hecho"; exit 1; }
n=0 ok=0 bad=0 w=0 up=1
ping_echo
echo "ACE-TEST flood-start"
t0=$(date +%s)
while [ "$n" -lt "$max" ] && [ $((up & 1)) = 1 ]; do
	# a write while the last recovery is under way waits for it or is
	# a no-op (the arena is broken until it ends)
	echo 1 >"$hook"
	w=$((w + 1))
	[ $((w % 100)) != 0 ] || ping_echo
	read -r n <"$a/recoveries"
	read -r up <"$a/peers_up"
done
echo "ACE-TEST flood: $n recoveries ($w writes) in $(($(date +%s) - t0)) s, peers_up $up"
ping_echo
echo "ACE-TEST flood-done"
# peer0 UP SECS: until bit 0 of peers_up is UP (1 or 0), SECS at most
peer0() {
	i=0
	while [ $((up & 1)) != "$1" ] && [ $i -lt $(($2 * 10)) ]; do
		sleep 0.1
		read -r up <"$a/peers_up"
		i=$((i + 1))
	done
}
# peer0_stays SECS: until bit 0 of peers_up has been set for 2 s on end
# (the host's probe peer comes and goes; the one after it stays), SECS
# at most
peer0_stays() {
	i=0 held=0
	while [ $held -lt 20 ] && [ $i -lt $(($1 * 10)) ]; do
		sleep 0.1
		read -r up <"$a/peers_up"
		if [ $((up & 1)) = 1 ]; then held=$((held + 1)); else held=0; fi
		i=$((i + 1))
	done
}
# the host connects new peers to the chardev: the last one stays until
# the host's QMP watch ends, then goes, and with it this guest
peer0_stays 60
echo "ACE-TEST peers-up $up"
again=$up
ping_echo
peer0 0 120
echo "ACE-TEST echo-rounds ok=$ok bad=$bad"
[ "$bad" -eq 0 ] && [ "$n" -lt "$max" ] && [ $((again & 1)) = 1 ]
