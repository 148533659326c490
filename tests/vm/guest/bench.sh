#!/bin/sh
# Guest side of scripts/bench.sh: round trips and throughput over ACE,
# virtio-serial and TCP (virtio-net + slirp), one JSON line per run.
# Args: TCP_ECHO_PORT TCP_SINK_PORT [SCALE [ONLY [PROFILE]]]
#   SCALE divides sample and message counts; ONLY (a word: floor, lat,
#   tput, rng, prof) runs that part alone (quick looks); PROFILE=1 adds
#   the prof part: longer 64-byte round trips the host profiles with perf.
# Console protocol with the host (tests/bench/monitor.py):
#   BENCH-USE NAMES   host services the next runs use (the others stop)
#   BENCH-RUN ID CMD  a run starts (progress for the host)
#   BENCH-T0/T1 ID    printed by the programs around the measured part
#   BENCH-FAIL ...    a run failed (reported, not fatal)
#   BENCH-DONE        every run is over
EPORT=$1 SPORT=$2 SCALE=${3:-1} ONLY=${4:-all} PROFILE=${5:-0}
HOST=10.0.2.2
SIZES="64 4096 65536 1048576"
n() { c=$(($1 / SCALE)); [ $c -ge 20 ] || c=20; echo $c; }
use() { echo "BENCH-USE $*"; }
run() { # run ID SECS CMD...: one measurement; a failure is reported, not fatal
	id=$1 t=$2
	shift 2
	echo "BENCH-RUN $id $*"
	timeout "$t" "$@" --mark "$id" || echo "BENCH-FAIL rc=$? $id $*"
}
part() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }
prof() { [ "$PROFILE" = 1 ] && { [ "$ONLY" = all ] || [ "$ONLY" = prof ]; }; }
# virtioN of the first device of a type (/sys/bus/virtio/devices/*/device)
vdev() {
	for d in /sys/bus/virtio/devices/virtio*; do
		[ "$(cat "$d/device")" = "$1" ] && { basename "$d"; return; }
	done
	echo none
}

insmod /lib/ace/ace.ko || exit 1
# The arena region must be mapped write-back: an uncached mapping would
# make every ACE figure below a figure of uncached memory (the host's
# scripts/bench.sh refuses the run then).  PAT's view of it, from debugfs.
mount -t debugfs none /sys/kernel/debug 2>/dev/null
a=$(dmesg | sed -n 's/.*byte region at 0x0*\([0-9a-f]*\),.*/\1/p' | tail -n 1)
echo "BENCH-INFO arena memtype: $(grep -i "0x0*$a-" /sys/kernel/debug/x86/pat_memtype_list 2>/dev/null |
	awk '{ print $NF }' | sort -u | tr '\n' ' ')"
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
	ip route add default via 10.0.2.2 || echo "BENCH-FAIL network setup"
ip link set lo up
ACEV=$(vdev 0x003f)-
SERV=$(vdev 0x0003)-
NETV=$(vdev 0x0001)-
echo "BENCH-INFO irq vectors: ace $ACEV serial $SERV net $NETV;" \
	"clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
SINKS=ace.sink0,ace.sink1,ace.sink2,ace.sink3
# ace-proxy in the guest (started once, when a part needs it): TCP ports
# 7101 and 7102 lead to the host's tcp-echo and tcp-sink through the host
# proxies tcpecho-px and tcpsink-px
PXPID=""
proxy_up() {
	[ -n "$PXPID" ] && return 0
	ace-proxy -l tcp:127.0.0.1:7101=tcpecho-px -l tcp:127.0.0.1:7102=tcpsink-px \
		>/tmp/proxy.log 2>&1 &
	PXPID=$!
	i=0
	while [ $i -lt 100 ] && ! grep -q 'listening on tcp:127.0.0.1:7102' /tmp/proxy.log; do
		sleep 0.1
		i=$((i + 1))
	done
}

# pinned CMD...: run CMD with the device's interrupts on CPU 0, then put
# their affinity back
pinned() {
	irqs=$(grep "$ACEV" /proc/interrupts | cut -d: -f1 | tr -d ' ')
	for i in $irqs; do
		cat "/proc/irq/$i/smp_affinity" >"/tmp/aff.$i"
		echo 1 >"/proc/irq/$i/smp_affinity" || echo "BENCH-INFO irq $i stays where it is"
	done
	"$@"
	for i in $irqs; do cat "/tmp/aff.$i" >"/proc/irq/$i/smp_affinity" 2>/dev/null; done
}

# Round-trip samples by kind and size: 100k at 64 B everywhere and at
# 4 KiB where a round trip takes microseconds (ACE polled, adaptive)
cnt() { # cnt KIND SIZE
	case $1-$2 in
	*-64 | ace-4096) echo 100000 ;;
	*-4096) echo 20000 ;;
	ace-65536) echo 20000 ;;
	ace-1048576) echo 2000 ;;
	irq-65536 | serial-65536) echo 10000 ;;
	irq-1048576) echo 1000 ;;
	serial-1048576) echo 300 ;;
	tcp-65536 | proxy-65536) echo 2000 ;;
	proxy-64) echo 100000 ;;
	tcp-1048576) echo 100 ;;
	esac
}
# Throughput: messages (all senders together) by kind and size, ~1.5 s each
msgs() { # msgs KIND SIZE SENDERS
	case $1-$2 in
	ace-64 | irq-64) m=600000 ;;
	ace-4096) m=300000 ;;
	irq-4096) m=100000 ;;
	ace-65536) m=40000 ;;
	irq-65536) m=10000 ;;
	ace-1048576 | irq-1048576) m=3000 ;;
	serial-64) m=60000 ;;
	serial-4096) m=40000 ;;
	serial-65536) m=5000 ;;
	serial-1048576) m=300 ;;
	tcp-64) m=40000 ;;
	tcp-4096) m=6000 ;;
	tcp-65536 | proxy-65536) m=600 ;;
	tcp-1048576) m=60 ;;
	esac
	n $((m / $3))
}

# 1. the guest<->host cache-line floor (tests/bench/line-pong.c on the host)
if part floor; then
	use line-pong
	echo "BENCH-RUN floor-line line-ping"
	timeout 120 line-ping -T line-pong -n "$(n 200000)" || echo "BENCH-FAIL rc=$? floor-line"
fi

# 2. round trips: every transport writes and checks every byte (--touch);
#    ACE polled also without (the first 8 bytes only), to show zero copy
if part lat; then
	for m in poll irq adaptive; do
		k=ace
		[ $m = irq ] && k=irq
		mode=$m
		[ $m = irq ] && mode=interrupt
		use echo-$m
		for s in $SIZES; do
			run lat-ace-$m-$s 300 ace-ping -T echo-$m -m $mode -s $s \
				-n "$(n "$(cnt $k $s)")" --touch --irq "$ACEV" --json
		done
		# the same at 64 B with the doorbell rung by ACE_IOC_NOTIFY, not
		# by a store to its page (libace's default where the device
		# gives doorbell pages)
		[ $m = irq ] && run lat-ace-irq-64-ioctl 300 env ACE_BELLS=ioctl \
			ace-ping -T echo-irq -m interrupt -s 64 \
			-n "$(n "$(cnt irq 64)")" --touch --irq "$ACEV" --json
		# and with ace-ping on the CPU that takes the device's
		# interrupts (guest tuning): its wake-up needs no IPI to
		# another vCPU, so the host wake-ups left are the service's,
		# QEMU's relay and the vCPU's
		[ $m = irq ] && pinned run lat-ace-irq-64-pinned 300 taskset 1 \
			ace-ping -T echo-irq -m interrupt -s 64 \
			-n "$(n "$(cnt irq 64)")" --touch --irq "$ACEV" --json
		if [ $m = poll ]; then
			for s in $SIZES; do
				run lat-ace-poll-$s-notouch 300 ace-ping -T echo-poll -m poll \
					-s $s -n "$(n "$(cnt ace $s)")" --irq "$ACEV" --json
			done
		fi
	done
	use ser-echo
	for s in $SIZES; do
		run lat-serial-$s 300 xport-ping -t serial -a ace.echo -s $s \
			-n "$(n "$(cnt serial $s)")" --touch --irq "$SERV"
	done
	use tcp-echo
	for s in $SIZES; do
		run lat-tcp-$s 300 xport-ping -t tcp -a $HOST:$EPORT -s $s \
			-n "$(n "$(cnt tcp $s)")" --touch --irq "$NETV"
	done
	# the same TCP client and echo, through ace-proxy in the guest and
	# on the host instead of virtio-net
	proxy_up
	use tcp-echo,proxy-echo
	for s in 64 65536; do
		run lat-proxy-$s 300 xport-ping -t proxy -a 127.0.0.1:7101 -s $s \
			-n "$(n "$(cnt proxy $s)")" --touch --irq "$ACEV"
	done
fi

# 3. throughput into sinks, 1 and 4 senders, every byte written (--touch);
#    ACE polled also without, 1 sender
if part tput; then
	for m in poll irq adaptive; do
		k=ace
		[ $m = irq ] && k=irq
		mode=$m
		[ $m = irq ] && mode=interrupt
		use sink-$m
		for p in 1 4; do
			for s in $SIZES; do
				run tput-ace-$m-$p-$s 120 ace-bench -T sink-$m -m $mode -p $p \
					-s $s -n "$(msgs $k $s $p)" --touch --irq "$ACEV" --json
			done
		done
	done
	use sink-poll	# the transport alone: the first 8 bytes only
	for s in $SIZES; do
		run tput-ace-poll-1-$s-notouch 120 ace-bench -T sink-poll -m poll -p 1 \
			-s $s -n "$(msgs ace $s 1)" --irq "$ACEV" --json
	done
	use ser-sink
	for p in 1 4; do
		for s in $SIZES; do
			run tput-serial-$p-$s 120 xport-ping -t serial -a $SINKS --stream \
				-p $p -s $s -n "$(msgs serial $s $p)" --touch --irq "$SERV"
		done
	done
	use tcp-sink
	for p in 1 4; do
		for s in $SIZES; do
			run tput-tcp-$p-$s 120 xport-ping -t tcp -a $HOST:$SPORT --stream \
				-p $p -s $s -n "$(msgs tcp $s $p)" --touch --irq "$NETV"
		done
	done
	proxy_up
	use tcp-sink,proxy-sink
	for p in 1 4; do
		run tput-proxy-$p-65536 120 xport-ping -t proxy -a 127.0.0.1:7102 --stream \
			-p $p -s 65536 -n "$(msgs proxy 65536 $p)" --touch --irq "$ACEV"
	done
fi

# (cross-VM rows: tests/vm/guest/bench-xvm.sh, run after this guest)

# 4. hardware RNGs: ace-rng (bytes from host ace-rngd over ACE) beside virtio-rng
if part rng; then
	use rngd
	insmod /lib/ace/ace_rng.ko || echo "BENCH-FAIL insmod ace_rng"
	cat /sys/class/misc/hw_random/rng_available
	for r in ace-rng virtio_rng.0; do
		b=4194304
		[ $r = ace-rng ] || b=262144	# virtio-rng: about 0.1 MB/s here
		if echo $r >/sys/class/misc/hw_random/rng_current; then
			echo "BENCH-RUN rng-$r hwrng-read"
			timeout 120 hwrng-read $r "$(n $b)" || echo "BENCH-FAIL rc=$? rng-$r"
		else
			echo "BENCH-FAIL no hwrng $r"
		fi
	done
fi
# 5. profiles (BENCH_PROFILE=1): the host runs perf on QEMU and the service
#    during each prof-* run; long enough for perf to see thousands of samples
if prof; then
	use echo-poll
	run prof-ace-poll-64 120 ace-ping -T echo-poll -m poll -n "$(n 2000000)" --touch --json
	use echo-irq
	run prof-ace-irq-64 120 ace-ping -T echo-irq -m interrupt -n "$(n 30000)" --touch --json
	use ser-echo
	run prof-serial-64 120 xport-ping -t serial -a ace.echo -n "$(n 30000)" --touch
	use tcp-echo
	run prof-tcp-64 120 xport-ping -t tcp -a $HOST:$EPORT -n "$(n 20000)" --touch
fi
use none
[ -n "$PXPID" ] && { kill -USR1 $PXPID; sleep 0.5; sed 's/^/BENCH-INFO guest /' /tmp/proxy.log; }
echo "BENCH-DONE"
exit 0
