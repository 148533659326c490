#!/bin/sh
# Guest side of tests/vm/cases/hostile-host.sh.
#   hostile.sh attacks   a hostile host peer ("ace_hostpeer ... hostile")
#                        attacks each atk-KIND mproc ace-victim creates;
#                        the driver's config checks, with fault_config
#   hostile.sh extreme   the smallest arena, table and section bound and
#                        the most peers the device allows
#   hostile.sh config    the driver's config checks alone
# Prints "ACE-TEST ok: NAME" or "ACE-TEST FAIL: NAME" per check.  The
# kernel must stay quiet: run-vm.sh fails the run on any WARNING or Oops.
. /tests/common.sh
attr() { cat "$(vdev)/ace/$1"; }
has() { grep -q "$2" "$1"; }
# wait_mproc NAME SECS: until an mproc NAME is in the table
wait_mproc() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		ace-stat 2>/dev/null | grep -q " $1 " && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
reload() {
	rmmod ace_ktest 2>/dev/null
	rmmod ace && insmod /lib/ace/ace.ko && [ "$(attr broken)" = 0 ]
}
# victim KIND: run ace-victim KIND, show its lines, succeed if it did
victim() {
	ace-victim "$1" 30 >/tmp/victim.log 2>&1
	r=$?
	cat /tmp/victim.log
	return $r
}
# broken_says WHY: the arena is broken for WHY, or was and has been
# replaced by recovery already (last_reason keeps why)
broken_says() {
	grep -q "^1 arena: $1" "$(vdev)/ace/broken" ||
		grep -q "^broken: $1" "$(vdev)/ace/last_reason"
}
# recovered N: within 10 s, N recoveries so far and the arena whole
recovered() {
	i=0
	while [ $i -lt 100 ]; do
		[ "$(attr recoveries)" -ge "$1" ] && [ "$(attr broken)" = 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "    sysfs recoveries $(attr recoveries) broken $(attr broken)"
	return 1
}

extreme() {
	insmod /lib/ace/ace.ko || return 1
	echo "ACE-TEST extreme: arena_size $(attr arena_size) nr_mprocs $(attr nr_mprocs) max_peers $(attr max_peers) section_ns $(attr section_ns) region_size $(attr region_size)"
	check "64 KiB arena, 2 slots, 32 peers, 1 us sections accepted" \
		[ "$(attr arena_size)" = 65536 -a "$(attr nr_mprocs)" = 2 -a \
		"$(attr max_peers)" = 32 -a "$(attr section_ns)" = 1000 ]
	check "host echo up in the small table" wait_mproc hecho 60
	check "ping through the smallest arena" ace-ping -T hecho -n 200 -s 4000 -m interrupt
	ace-echo -q -n second -t 5 &
	wait_mproc second 10
	ace-echo -n third -t 1 >/tmp/third.log 2>&1
	cat /tmp/third.log
	wait
	check "a third mproc: no slot (-ENOSPC), said in words" has /tmp/third.log "No space left"
	check "the arena is whole" census_whole
	return 0
}

# insmod with fault_config=$1: the probe must fail with -EIO (or $3) and
# say $2
cfg_refused() {
	dmesg -c >/dev/null
	insmod /lib/ace/ace.ko "fault_config=$1" || return 1
	dmesg >/tmp/dmesg.log
	sed 's/^/    /' /tmp/dmesg.log
	r=0
	[ ! -e /dev/ace0 ] || r=1
	grep -q "failed with error ${3:--5}" /tmp/dmesg.log || r=1
	grep -q "$2" /tmp/dmesg.log || r=1
	rmmod ace || r=1
	return $r
}
# the host refuses the queues after a recovery's reset (vqs_fail=2: the
# second setup fails as virtio-pci does when queue 0 is refused): the
# recovery fails, saying so, and the driver still goes away cleanly
vqs_refused() {
	dmesg -c >/dev/null
	insmod /lib/ace/ace.ko fault_config=vqs_fail=2 test_hooks=1 || return 1
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	echo 1 >/sys/kernel/debug/ace/ace0/recover
	i=0
	while [ $i -lt 100 ] && ! dmesg | grep -q "no fresh arena after"; do
		sleep 0.1
		i=$((i + 1))
	done
	dmesg >/tmp/dmesg.log
	sed 's/^/    /' /tmp/dmesg.log
	r=0
	grep -q "no fresh arena after the breakage: -2" /tmp/dmesg.log || r=1
	rmmod ace || r=1
	return $r
}
# insmod with fault_config=$1 and params $3: works, sysfs $2 reads $4
cfg_clamped() {
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod /lib/ace/ace.ko "fault_config=$1" $3 || return 1
	v=$(attr "$2")
	echo "    $1 $3: $2 = $v"
	r=0
	[ "$v" = "$4" ] || r=1
	rmmod ace || r=1
	return $r
}

config() {
	rmmod ace_ktest 2>/dev/null
	rmmod ace || return 1
	check "config: ABI major 3 refused with -EIO" \
		cfg_refused abi_version=0x30000 "device ABI 3.0, driver ABI 2.[0-9]*: incompatible"
	check "config: arena_max below 64 KiB refused with -EIO" \
		cfg_refused arena_max=4096 "arena_max 4096 is below the minimum"
	check "config: max_peers 0 refused with -EIO" \
		cfg_refused max_peers=0 "max_peers 0 is not in 1..32"
	check "config: max_peers 33 refused with -EIO" \
		cfg_refused max_peers=33 "max_peers 33 is not in 1..32"
	check "config: max_mprocs 0 refused with -EIO" \
		cfg_refused max_mprocs=0 "max_mprocs is 0"
	check "config: section_ns 0 gets the default" \
		cfg_clamped section_ns=0 section_ns "" 50000
	check "config: section_ns 2^32-1 is clamped to 1 s" \
		cfg_clamped section_ns=0xffffffff section_ns "" 1000000000
	check "config: max_mprocs 5000 is clamped to 1024" \
		cfg_clamped max_mprocs=5000 nr_mprocs nr_mprocs=2000 1024
	check "config: arena_max 4 GiB-1 is clamped to the ABI's 1 GiB" \
		cfg_clamped arena_max=0xffffffff arena_size arena_size=2097152 2097152
	check "config: peers_up bits past max_peers are ignored" \
		cfg_clamped max_peers=2,peers_up=0xfffffffc peers_up "" 0x0
	check "config: a bad fault_config is refused" \
		cfg_refused nosuch=1 "fault_config: cannot apply 'nosuch'" -22
	# the device's answer to ATTACH: an errno passes, a kernel-internal
	# one (517, EPROBE_DEFER: probe again and again) is -EIO
	check "attach: an answer of EPROTO fails the probe with -EPROTO" \
		cfg_refused ctrl_status=71 "refused the arena: status 71 (an errno)" -71
	check "attach: an answer of 517 (EPROBE_DEFER) fails the probe with -EIO" \
		cfg_refused ctrl_status=517 "refused the arena: status 517 (not an errno)"
	# a guest's ATTACH of 20 bytes: the device answers EINVAL (section 6)
	check "attach: a 20-byte ATTACH is refused with EINVAL, detail 20" \
		cfg_refused attach_len=20 "refused the arena: status 22 (an errno), detail 20" -22
	check "recovery: the queues refused after the reset: it fails, saying so; rmmod is clean" \
		vqs_refused
	insmod /lib/ace/ace.ko || return 1
	return 0
}

attacks() {
	insmod /lib/ace/ace.ko || return 1
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	check "the host peers are up" wait_mproc hecho 90

	# an interrupt storm while the guest talks to a well-behaved peer
	i0=$(attr interrupts)
	ace-victim storm 60 >/tmp/storm.log 2>&1 &
	vp=$!
	wait_mproc atk-storm 10
	sleep 1
	ace-ping -T hecho -n 300 -m interrupt >/tmp/ping.log 2>&1
	pr=$?
	cat /tmp/ping.log
	wait $vp
	vr=$?
	cat /tmp/storm.log
	i1=$(attr interrupts)
	echo "ACE-TEST storm: $((i1 - i0)) interrupts, bad_events $(attr bad_events)"
	check "storm: a ping to a good peer completes during it" [ $pr = 0 ]
	check "storm: the victim is served after it" [ $vr = 0 ]
	check "storm: it reached the guest (>= 100 interrupts)" [ $((i1 - i0)) -ge 100 ]
	check "churn: peers come and go, the guest carries on" victim churn

	# forged words the driver or libace must refuse with -EIO
	for k in oob misaligned cycle len; do
		check "$k: receive fails with -EIO" victim $k
		echo "    sysfs broken: $(attr broken)"
		check "$k: damage contained, the arena is whole" census_whole
	done
	check "section: a forged section still delivers (overrun)" victim section
	check "notify: a junk notify word still delivers" victim notify
	check "vanish: unannounced messages of a vanished peer arrive" victim vanish
	check "vanish: its held blocks and half-claimed slot are reclaimed" census_whole

	# the driver itself finds the breakage; first without recovery
	# (recover=N, until the reload): the arena stays broken, users get -EIO
	echo N >/sys/module/ace/parameters/recover
	insmod /lib/ace/ace_ktest.ko name=atk-klen
	i=0
	while [ "$(attr broken)" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo "    sysfs broken: $(attr broken)"
	check "klen: the driver reports a message past its block" \
		broken_says "message length past its block"
	check "klen: the kernel log says why" sh -c 'dmesg | grep -q "arena broken: message length past its block"'
	ace-stat >/tmp/stat.log 2>&1
	r=$?
	cat /tmp/stat.log
	check "klen: a new user gets -EIO, in words" \
		[ $r != 0 -a -n "$(grep 'the arena is broken' /tmp/stat.log)" ]
	check "klen: recovered by reloading ace.ko" reload
	# recovery on (the default): the host attacks atk-klen again each
	# time ace_ktest binds to a fresh arena; the driver must back off,
	# not recover in a loop (without the back-off: dozens in 12 s)
	insmod /lib/ace/ace_ktest.ko name=atk-klen
	sleep 12
	r=$(attr recoveries)
	rmmod ace_ktest
	echo "    klen again, recovery on: $r recoveries in 12 s"
	check "klen again: recoveries back off (2 to 6 in 12 s)" [ "$r" -ge 2 -a "$r" -le 6 ]
	check "klen again: the kernel log says it waits" \
		sh -c 'dmesg | grep -q "broken again soon after a recovery (1 in a row): a fresh arena in 1 s"'
	check "klen again: recovered by reloading ace.ko" reload
	check "state: a waiter gets -EIO" victim state
	check "state: the driver says a peer changed our slot" \
		broken_says "own mproc's slot was changed by a peer"
	# recovery is on again (the default): a fresh arena follows by itself
	check "state: recovered by itself, a fresh arena" recovered 1
	check "state: recovered by reloading ace.ko" reload
	check "gen: a waiter gets -EIO" victim gen
	check "gen: the driver says a peer changed our slot" \
		broken_says "own mproc's slot was changed by a peer"
	v=$(basename "$(vdev)")
	echo "$v" >/sys/bus/virtio/drivers/ace/unbind
	echo "$v" >/sys/bus/virtio/drivers/ace/bind
	check "gen: recovered by unbinding and binding the driver (a device reset)" \
		[ -c /dev/ace0 -a "$(attr broken)" = 0 ]
	check "freelist: allocation fails with -EIO" victim freelist
	check "freelist: recovered by reloading ace.ko" reload
	check "header: a new channel is refused, the open one works" victim header
	check "header: recovered by reloading ace.ko" reload
	check "table: junk in every free slot: -ENOSPC, no crash" victim table
	check "table: ace-stat lists the junk" sh -c 'ace-stat >/dev/null'
	check "table: debugfs lists the junk" sh -c 'cat /sys/kernel/debug/ace/ace0/mprocs >/dev/null'
	check "table: recovered by reloading ace.ko" reload
	insmod /lib/ace/ace_ktest.ko
	check "after it all: a ping to kecho" ace-ping -T kecho -n 100 -m interrupt
	check "after it all: the arena is whole" census_whole
	config
	return 0
}

case ${1:-attacks} in
extreme) extreme || bad "extreme: setup" ;;
config) insmod /lib/ace/ace.ko || bad "config: insmod"; config || bad "config: setup" ;;
*) attacks || bad "attacks: setup" ;;
esac
echo "ACE-TEST hostile: $fails failure(s)"
[ $fails = 0 ]
