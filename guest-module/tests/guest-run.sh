#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM as /run.sh (busybox sh): guest-run.sh nodev|dev
#   nodev  ace.ko loads and unloads without a device
#   dev    with a virtio-ace-pci device and the host peer connected to it
#          (tests/vm/ace_hostpeer driver): probe, /dev/ace0, sysfs, debugfs,
#          ace_usertest (with ace_ktest's kecho and the host peer's hecho),
#          rmmod refused while open, rmmod + re-probe, hot-unplug with the
#          device open, rescan, a hostile host (the peer corrupts the arena:
#          -EIO, no oops), and recovery by re-probing
#   dev races  only the recovery races (a quicker run while working on them)
mode=${1:-dev}
only=${2:-}
fail=0
ok() { echo "VMTEST ok: $*"; }
bad() { echo "VMTEST FAIL: $*"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
vdev() { ls -d /sys/bus/virtio/drivers/ace/virtio* 2>/dev/null | head -1; }

check "ace.ko loaded" 'grep -q "^ace " /proc/modules'
check "driver registered" '[ -d /sys/bus/virtio/drivers/ace ]'
if [ "$mode" = nodev ]; then
    check "no /dev/ace0 without a device" '[ ! -e /dev/ace0 ]'
    check "ace_ktest loaded, nothing to bind" '[ ! -e /sys/bus/auxiliary/devices/ace.kapi.0 ]'
    check "rmmod ace_ktest" 'rmmod ace_ktest'
    check "rmmod ace" 'rmmod ace'
    check "insmod ace again" 'insmod /lib/modules/ace/ace.ko test_hooks=1'
    check "rmmod ace again" 'rmmod ace'
    exit $fail
fi

mount -t debugfs none /sys/kernel/debug 2>/dev/null
check "probe: arena attached" 'dmesg | grep -q "arena attached"'
check "/dev/ace0 exists" '[ -c /dev/ace0 ]'
# the host (qmp-waker.py, polling the console) asks QEMU what the device
# negotiated; give it the time to
echo "ACE-QMP virtio-status probe"
sleep 3

# --- recoveries raced against their users; each case failed before its fix ---
# (ace_ktest goes first: the host's pings of kecho, cut off by a recovery,
# would fail the host peer)
races() {
    check "the host pinged kecho before the races" '/bin/ace_usertest --await hping-done'
    rmmod ace_ktest 2>/dev/null
    # a recovery resets the device: the driver negotiates the features
    # again (the host checks EVENT_IDX and FEATURES_OK by QMP), and event
    # queue traffic (host echoes: interrupts) works on the fresh arena
    r0=$(cat "$(vdev)/ace/recoveries")
    check "a forced recovery" 'echo 1 >/sys/kernel/debug/ace/ace0/recover'
    for i in $(seq 200); do [ "$(cat "$(vdev)/ace/broken")" = 0 ] && [ "$(cat "$(vdev)/ace/recoveries")" -gt "$r0" ] && break; sleep 0.1; done
    check "the forced recovery is done" '[ "$(cat "$(vdev)/ace/recoveries")" -gt "$r0" ]'
    echo "ACE-QMP virtio-status recovered"
    sleep 3
    check "host echoes after a recovery" '/bin/ace_usertest -H -k -n 300'
    # mmap() racing the zap: no mapping survives into the next arena
    check "mmap raced against 30 recoveries" '/bin/ace_usertest --race-mmap 30'
    # OPEN/CLOSE/release/debugfs racing the reformat: one CREATE held
    # (userfaultfd) across a recovery, then many in a loop
    check "a recovery does not wait for a CREATE held in a fault; the CREATE fails with EIO" '/bin/ace_usertest --stale-create'
    check "OPEN/CLOSE/debugfs raced against 30 recoveries" '/bin/ace_usertest --race-ioctl 30'
    # a recovery with every slot busy (threads in WAIT) ends in time
    check "recoveries with 16 busy slots end in time" '/bin/ace_usertest --busy-recover 5'
    check "the fresh arena is whole after the races" '[ "$(cat "$(vdev)/ace/broken")" = 0 ]'
    check "insmod ace_ktest after the races" 'insmod /lib/modules/ace/ace_ktest.ko'
    check "the host pinged kecho after the races" '/bin/ace_usertest --await hping-done'
}
if [ "$only" = races ]; then
    races
    exit $fail
fi
check "ace_ktest loaded" 'grep -q "^ace_ktest " /proc/modules'
check "auxiliary device ace.kapi.0, ace_ktest bound" '[ -e /sys/bus/auxiliary/devices/ace.kapi.0/driver ]'
V=$(vdev)
for f in arena_size nr_mprocs region_size max_peers section_ns peers_up generation; do
    echo "  sysfs $f: $(cat "$V/ace/$f")"
done
check "debugfs lists kecho" 'grep -q "name kecho" /sys/kernel/debug/ace/ace0/mprocs'
check "ace_usertest" '/bin/ace_usertest -H'
cat /sys/kernel/debug/ace/ace0/mprocs
for f in interrupts events bad_events kicks broken; do
    echo "  sysfs $f: $(cat "$V/ace/$f")"
done
check "arena not broken" '[ "$(cat "$V/ace/broken")" = 0 ]'
check "no bad events" '[ "$(cat "$V/ace/bad_events")" = 0 ]'
check "host events came as interrupts" '[ "$(cat "$V/ace/interrupts")" -gt 0 ]'
check "doorbells were rung" '[ "$(cat "$V/ace/kicks")" -gt 0 ]'
check "host peer 0 seen up" '[ "$(cat "$V/ace/peers_up")" = 0x1 ]'

rmmod ace_ktest
exec 3</dev/ace0
check "rmmod ace refused while /dev/ace0 is open" '! rmmod ace 2>/dev/null'
exec 3<&-
check "rmmod ace" 'rmmod ace'
check "/dev/ace0 gone" '[ ! -e /dev/ace0 ]'
check "insmod ace again" 'insmod /lib/modules/ace/ace.ko test_hooks=1'
check "probed again" '[ "$(dmesg | grep -c "arena attached")" -ge 2 ]'
check "insmod ace_ktest again" 'insmod /lib/modules/ace/ace_ktest.ko'
check "ace_usertest after re-probe" '/bin/ace_usertest -H -n 100'

# hot-unplug while a process has the device open, mapped and asleep
PCI=$(basename "$(readlink -f "$(vdev)/..")")
/bin/ace_usertest --hold >/tmp/hold.log 2>&1 &
hp=$!
for i in $(seq 100); do grep -q "HOLD ready" /tmp/hold.log && break; sleep 0.1; done
check "holder ready" 'grep -q "HOLD ready" /tmp/hold.log'
echo 1 >"/sys/bus/pci/devices/$PCI/remove"
wait $hp
hs=$?
sed 's/^/  /' /tmp/hold.log
check "holder got ENODEV and exited cleanly" '[ $hs = 0 ]'
check "/dev/ace0 gone after unplug" '[ ! -e /dev/ace0 ]'
check "rmmod ace_ktest after unplug" 'rmmod ace_ktest'
echo 1 >/sys/bus/pci/rescan
sleep 1
check "rescan: probed again" '[ -c /dev/ace0 ]'
check "insmod ace_ktest after rescan" 'insmod /lib/modules/ace/ace_ktest.ko'
check "ace_usertest after rescan" '/bin/ace_usertest -H -n 50'

# --- findings of the driver's review, each with the case that shows it ---
reload() {  # rmmod and insmod ace.ko and ace_ktest.ko
    rmmod ace_ktest 2>/dev/null
    rmmod ace && insmod /lib/modules/ace/ace.ko test_hooks=1 && insmod /lib/modules/ace/ace_ktest.ko
}
# done_within SECS PID: the process ended in time (a task stuck in D state
# cannot be killed: say so and leave it)
done_within() {
    for i in $(seq $(($1 * 10))); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
    echo "  pid $2 still there, state $(awk '{print $3}' /proc/"$2"/stat)"
    return 1
}

# 1. a forged FREE in an own slot's state word, then a claim of that slot
/bin/ace_usertest --forge-slot >/tmp/forge.log 2>&1 &
fp=$!
if done_within 30 $fp; then wait $fp; fs=$?; else fs=99; fi
sed 's/^/  /' /tmp/forge.log
check "forged slot state: the claim is refused, close() returns" '[ $fs = 0 ]'
check "reload after the forged slot" reload
# the host pings kecho on every arena: let it finish before kecho goes
# (a round cut off fails the host peer)
check "the host pinged kecho after the reload" '/bin/ace_usertest --await hping-done'

# 2. a broken event, then hot-unplug with a file open and ace_rng loaded:
#    closing the file and unloading ace_rng report on a device now freed
#    (recover=N: the arena stays broken, as it did before recovery existed)
#    (one auxiliary device per ACE device binds one driver: ace_ktest
#    makes way for ace_rng)
echo N >/sys/module/ace/parameters/recover
check "rmmod ace_ktest: ace.kapi.0 unbound" 'rmmod ace_ktest && [ ! -e /sys/bus/auxiliary/devices/ace.kapi.0/driver ]'
check "insmod ace_rng" 'insmod /lib/modules/ace/ace_rng.ko'
check "ace_rng bound to ace.kapi.0" 'dmesg | grep -q "ace_rng: mproc .ace-rng. id .* on ace.kapi.0"'
/bin/ace_usertest --idle >/tmp/idle.log 2>&1 &
ip=$!
for i in $(seq 100); do grep -q "IDLE ready" /tmp/idle.log && break; sleep 0.1; done
check "idler ready" 'grep -q "IDLE ready" /tmp/idle.log'
check "ask the host to report the arena broken" '/bin/ace_usertest --ask 0xdeaf'
V=$(vdev)
for i in $(seq 100); do grep -q "^1" "$V/ace/broken" && break; sleep 0.1; done
echo "  sysfs broken: $(cat "$V/ace/broken")"
check "the device's broken event arrived" 'grep -q "^1 arena: the device reports" "$V/ace/broken"'
PCI=$(basename "$(readlink -f "$V/..")")
echo 1 >"/sys/bus/pci/devices/$PCI/remove"
check "/dev/ace0 gone after unplug" '[ ! -e /dev/ace0 ]'
kill -USR1 $ip
if done_within 10 $ip; then wait $ip; is=$?; else is=99; fi
sed 's/^/  /' /tmp/idle.log
check "close after unplug of a broken device" '[ $is = 0 ]'
check "rmmod ace_rng after unplug of a broken device" 'rmmod ace_rng'
check "the reason was logged, by name" 'dmesg | grep -q "ace0: arena broken: the device reports the arena broken"'
echo 1 >/sys/bus/pci/rescan
sleep 1
check "rescan after the broken unplug" '[ -c /dev/ace0 ]'
check "insmod ace_ktest after rescan" 'insmod /lib/modules/ace/ace_ktest.ko'
# and before the unplug
check "the host pinged kecho on this arena" '/bin/ace_usertest --await hping-done'
# 2b. the same with no report before the unplug: the idler's own state
#     word is forged, so the breakage is found only when its file is
#     closed, after the device was freed (slub_debug poisons it: a report
#     through it oopses, and run-vm.sh fails the run)
/bin/ace_usertest --idle-forged >/tmp/idlef.log 2>&1 &
ip=$!
for i in $(seq 100); do grep -q "IDLE ready" /tmp/idlef.log && break; sleep 0.1; done
check "forged idler ready" 'grep -q "IDLE ready" /tmp/idlef.log'
PCI=$(basename "$(readlink -f "$(vdev)/..")")
echo 1 >"/sys/bus/pci/devices/$PCI/remove"
check "/dev/ace0 gone after the second unplug" '[ ! -e /dev/ace0 ]'
kill -USR1 $ip
if done_within 10 $ip; then wait $ip; is=$?; else is=99; fi
sed 's/^/  /' /tmp/idlef.log
check "close after unplug finds the forged slot, no oops" '[ $is = 0 ]'
dmesg | grep "arena broken: own mproc" | tail -1
echo 1 >/sys/bus/pci/rescan
sleep 1
check "rescan after the second unplug" '[ -c /dev/ace0 ]'
echo Y >/sys/module/ace/parameters/recover
# ace_ktest bound to the new ace.kapi.0 by itself; the host pings its
# kecho: let it finish before the rmmod below
check "the host pinged kecho on the rescanned arena" '/bin/ace_usertest --await hping-done'

# 3. a host peer forges the header while the driver formats the arena
check "ask the host to forge the next header" '/bin/ace_usertest --ask 0xf00d'
rmmod ace_ktest
check "rmmod ace (DETACH: the forger starts)" 'rmmod ace'
insmod /lib/modules/ace/ace.ko test_hooks=1
if [ -c /dev/ace0 ]; then
    # the forger still writes its header into the arena: what counts is
    # the table the driver built and reports, not the shared copy
    V=$(vdev)
    echo "  sysfs arena_size $(cat "$V/ace/arena_size") nr_mprocs $(cat "$V/ace/nr_mprocs")"
    check "forged header: the arena is the one the driver asked for" \
        '[ "$(cat "$V/ace/nr_mprocs")" = 64 ] && [ "$(cat "$V/ace/arena_size")" = 67108864 ]'
else
    check "forged header: probe refused, in words" 'dmesg | grep -q "arena header changed while formatting"'
fi
sleep 9	# the forger gives up after 8 s
check "reload after the forger" reload
check "ace_usertest after the forger" '/bin/ace_usertest -H -n 100'

# a hostile host: the driver must report, refuse and survive
V=$(vdev)
/bin/ace_usertest --idle >/tmp/idle3.log 2>&1 &	# an mproc the recovery loses
ip3=$!
for i in $(seq 100); do grep -q "IDLE ready" /tmp/idle3.log && break; sleep 0.1; done
check "corrupted arena refused" '/bin/ace_usertest --break'
echo "  sysfs broken: $(cat "$V/ace/broken")"
check "dmesg says why" 'dmesg | grep -q "ace0: arena broken: inbox link is not a block"'
# recovery: a fresh arena by itself, kernel clients bound again
for i in $(seq 100); do [ "$(cat "$V/ace/recoveries")" -ge 1 ] && break; sleep 0.1; done
for f in recoveries lost_mprocs lost_files last_reason broken generation; do
    echo "  sysfs $f: $(cat "$V/ace/$f")"
done
check "recovered by itself" '[ "$(cat "$V/ace/recoveries")" = 1 ]'
check "the reason is kept" 'grep -q "^broken: inbox link is not a block" "$V/ace/last_reason"'
check "what was lost is counted" '[ "$(cat "$V/ace/lost_mprocs")" -ge 1 ] && [ "$(cat "$V/ace/lost_files")" -ge 1 ]'
kill -USR1 $ip3; wait $ip3
check "the fresh arena is whole" '[ "$(cat "$V/ace/broken")" = 0 ]'
check "dmesg: recovered" 'dmesg | grep -q "ace0: recovered: fresh arena"'
check "kecho bound again on the fresh arena" 'grep -q "name kecho" /sys/kernel/debug/ace/ace0/mprocs'
check "new opens work without rmmod (kecho, host peer)" '/bin/ace_usertest -H -n 100'
races
# suspend to RAM (S3) and back (the host wakes us by QMP system_wakeup)
if grep -q deep /sys/power/mem_sleep 2>/dev/null; then
    echo deep >/sys/power/mem_sleep
    /bin/ace_usertest --idle >/tmp/idle2.log 2>&1 &
    ip=$!
    for i in $(seq 100); do grep -q "IDLE ready" /tmp/idle2.log && break; sleep 0.1; done
    lost0=$(cat "$V/ace/lost_mprocs")
    echo "ACE-S3 suspending"
    check "suspend to RAM and resume" 'echo mem >/sys/power/state'
    for f in resumes lost_mprocs last_reason generation; do echo "  sysfs $f: $(cat "$V/ace/$f")"; done
    check "resumed with a fresh arena" '[ "$(cat "$V/ace/resumes")" = 1 ] && grep -q "^suspended" "$V/ace/last_reason"'
    check "the idler's mproc counted as lost" '[ "$(cat "$V/ace/lost_mprocs")" -gt "$lost0" ]'
    kill -USR1 $ip; wait $ip
    check "kecho bound again after resume" 'grep -q "name kecho" /sys/kernel/debug/ace/ace0/mprocs'
    check "ace_usertest after resume (kecho, host peer)" '/bin/ace_usertest -H -n 100'
else
    echo "VMTEST skip: S3: /sys/power/mem_sleep offers no 'deep' ($(cat /sys/power/mem_sleep 2>/dev/null))"
fi
check "rmmod ace_ktest" 'rmmod ace_ktest'
check "rmmod ace" 'rmmod ace'
check "insmod ace: fresh arena" 'insmod /lib/modules/ace/ace.ko'
check "fresh arena not broken" '[ "$(cat "$(vdev)/ace/broken")" = 0 ]'
check "no debugfs recover knob without test_hooks" '[ -d /sys/kernel/debug/ace/ace0 ] && [ ! -e /sys/kernel/debug/ace/ace0/recover ]'
check "ace_usertest on the fresh arena" '/bin/ace_usertest -k -n 10'

# a probe that fails (1024 slots cannot fit in a 68 KiB arena) frees all
check "rmmod ace" 'rmmod ace'
insmod /lib/modules/ace/ace.ko arena_size=70000 nr_mprocs=2000
check "impossible geometry: probe refused" 'dmesg | grep -q "no geometry for a 69632-byte arena with 1024 mprocs"'
check "impossible geometry: no /dev/ace0" '[ ! -e /dev/ace0 ]'
check "rmmod after a failed probe" 'rmmod ace'
# a small and a large arena
for p in "1048576 16" "67108864 1024"; do
    set -- $p
    check "insmod arena_size=$1 nr_mprocs=$2" "insmod /lib/modules/ace/ace.ko arena_size=$1 nr_mprocs=$2"
    V=$(vdev)
    echo "  sysfs arena_size $(cat "$V/ace/arena_size") nr_mprocs $(cat "$V/ace/nr_mprocs") region_size $(cat "$V/ace/region_size")"
    check "arena of $1 bytes, $2 mprocs" "[ \"\$(cat $V/ace/arena_size)\" = $1 ] && [ \"\$(cat $V/ace/nr_mprocs)\" = $2 ]"
    check "ace_usertest on it" '/bin/ace_usertest -k -n 10'
    check "rmmod ace" 'rmmod ace'
done
dmesg | grep -E "virtio_ace|ace_ktest|ace[0-9]|virtio[0-9].*(arena|peer|/dev)" | tail -20
exit $fail
