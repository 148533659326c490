#!/bin/sh
# Guest side of tests/vm/cases/hostile-guest.sh.  One arena for the
# resource attacks (the host must keep serving, and take everything back
# when the attacker exits), then a fresh arena for each corruption attack
# (the host must report it and stay up).  Every step the host acts on is an
# "ACE-TEST" line; the host ends a phase by stopping its services.
H=ace-hostile
fail() { echo "ACE-TEST FAIL: $*"; exit 1; }
attr() { cat /sys/bus/virtio/devices/virtio*/ace/"$1" 2>/dev/null | head -n 1; }

# bg NAME CMD...: run CMD in the background into /tmp/NAME.log and wait
# until it has said something (its pid in $bgpid)
bg() {
	name=$1
	shift
	"$@" >/tmp/"$name".log 2>&1 &
	bgpid=$!
	i=0
	while ! grep -q ACE-TEST /tmp/"$name".log && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# phase NAME: a fresh arena, then wait for the host's two services.
# recover=N: a broken arena stays broken (the driver answers -EIO) until
# the next phase reloads; the driver's own recovery is tested elsewhere
# (guest-module/tests, hostile-host)
phase() {
	insmod /lib/ace/ace.ko recover=N || fail "insmod for $1"
	echo "ACE-TEST phase $1"
	$H wait echo-a echo-b || fail "no host services for $1"
	$H ping echo-a 5 || fail "echo-a does not answer before $1"
}

# end NAME: say so, wait until the host has dropped its peers, unload
end() {
	echo "ACE-TEST end $1"
	i=0
	up=$(attr peers_up)
	while [ "$up" != "0x0" ] && [ "$up" != "0" ]; do
		[ $i -lt 600 ] || fail "host peers still up after $1 (peers_up '$up')"
		sleep 0.1
		i=$((i + 1))
		up=$(attr peers_up)
	done
	rmmod ace || fail "rmmod after $1"
}

# broken NAME: wait (up to 20 s) for the device to say the arena is
# broken; from then on the driver answers -EIO
broken() {
	i=0
	while [ "$(attr broken | cut -c1)" != "1" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	echo "ACE-TEST $1 guest-broken $(attr broken)"
	$H create "after-$1" && fail "a new mproc on the broken arena of $1"
}

# ---- resources: the arena stays good ----
phase resources
$H ping echo-b 20 || fail "echo-b"
$H census idle || fail "census at the start"

# every mproc slot: a client opened before keeps being served; nobody new
# gets a slot until the hog exits, then everyone does
bg client1 $H ping echo-a 100 10 100
client=$bgpid
bg slots $H slots 15
hog=$bgpid
cat /tmp/slots.log
$H create late-guest && fail "a new mproc got a slot while all were taken"
echo "ACE-TEST slots-full"
wait $hog || fail "slot hog"
wait $client
cat /tmp/client1.log
$H create after-slots || fail "no slot after the hog exited"
echo "ACE-TEST slots-freed"
$H ping late-host 5 || fail "late-host"

# every block: a new client waits for blocks (ENOBUFS meanwhile) and is
# served once the hog exits; every block comes back
bg pools $H pools 12
hog=$bgpid
cat /tmp/pools.log
$H census
echo "ACE-TEST pools-empty"
$H ping echo-b 20 30
wait $hog || fail "pool hog"
$H census idle || fail "blocks missing after the pool hog exited"
echo "ACE-TEST pools-freed"

# doorbells: a flood on echo-a's doorbell and every pending bit; echo-a and
# echo-b keep answering meanwhile
bg doorbells $H doorbells echo-a 10
sleep 1
$H ping echo-a 50
$H ping echo-b 50
wait $bgpid
cat /tmp/doorbells.log
$H census idle || fail "blocks missing after the doorbell flood"

# the header rewritten after everyone attached: those attached keep their
# checked copy of the geometry; a newcomer is refused
bg client2 $H ping echo-a 30 10 100
client=$bgpid
$H header
wait $client
cat /tmp/client2.log
$H census && fail "a newcomer accepted a rewritten header"
end resources

# ---- corruption: each on a fresh arena ----
for a in inbox-range inbox-misaligned next-range inbox-cycle length; do
	phase $a
	$H $a echo-a
	broken $a
	end $a
done

phase double-fetch
$H double-fetch echo-a 5
broken double-fetch
end double-fetch

# free lists: a host sender (ace-bench, whose block cache refills from the
# shared list every 16 messages) floods a guest sink; the attacker corrupts
# the small-block class's free list
for a in free-range free-misaligned free-cycle; do
	phase $a
	ace-echo -n gsink --sink -m adaptive -q &
	sink=$!
	sleep 1
	echo "ACE-TEST gsink-up $a"
	$H busy gsink 2000 || fail "no host sender for $a"
	$H $a 0
	broken $a
	kill $sink 2>/dev/null
	wait $sink
	end $a
done
echo "ACE-TEST all-phases-done"
# stay up while the host checks the last phase's QEMU and services
sleep 5
exit 0
