# shellcheck shell=sh
# Sourced by the guest scripts (. /tests/common.sh): checks reported on
# the console, and readings of the ACE counters.
fails=0
ok() { echo "ACE-TEST ok: $*"; }
bad() { echo "ACE-TEST FAIL: $*"; fails=$((fails + 1)); }
check() { # check NAME COMMAND...
	n=$1
	shift
	if "$@"; then ok "$n"; else bad "$n"; fi
}
# vdev: the sysfs folder of the first virtio-ace device
vdev() { ls -d /sys/bus/virtio/drivers/ace/virtio* 2>/dev/null | head -n 1; }
# counter NAME FIELD: an mproc's counter, from ace-stat --json
counter() {
	ace-stat --json | grep "\"name\": \"$1\"" | sed "s/.*\"$2\": \([0-9]*\).*/\1/"
}
# wait_received NAME N [SECS]: until mproc NAME has received N messages
wait_received() {
	i=0
	while [ $i -lt $((${3:-30} * 10)) ]; do
		[ "$(counter "$1" received)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
# census_whole: every block of the arena is free or held by a live mproc,
# nothing in flight, no slot half-claimed (ace-victim check)
census_whole() { ace-victim check >/tmp/check.log 2>&1; r=$?; cat /tmp/check.log; return $r; }
# wait_mproc REGEX SECS: until ace-stat lists a matching mproc name
wait_mproc() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		ace-stat 2>/dev/null | grep -qE "^[0-9]+ +$1 " && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
