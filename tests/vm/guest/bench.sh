#!/bin/sh
# Guest side of scripts/bench.sh: round trips and throughput over ACE,
# virtio-serial and TCP (virtio-net + slirp), one JSON line per run.
# Args: TCP_ECHO_PORT TCP_SINK_PORT [SCALE]  (SCALE divides sample counts)
EPORT=$1 SPORT=$2 SCALE=${3:-1}
HOST=10.0.2.2
n() { c=$(($1 / SCALE)); [ $c -ge 20 ] || c=20; echo $c; }
run() { # run SECS CMD...: one measurement; a failure is reported, not fatal
	t=$1; shift
	echo "BENCH-RUN $*"
	timeout "$t" "$@" || echo "BENCH-FAIL rc=$? $*"
}
insmod /lib/ace/ace.ko || exit 1
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
	ip route add default via 10.0.2.2 || echo "BENCH-FAIL network setup"
ls /sys/class/virtio-ports/ && cat /sys/class/virtio-ports/*/name

# ACE round trips: the same sizes in each delivery mode
for s in 64 4096 65536 1048576; do
	case $s in
	64) np=100000 ni=100000 na=100000 ;;
	4096) np=20000 ni=20000 na=20000 ;;
	65536) np=5000 ni=5000 na=5000 ;;
	*) np=2000 ni=2000 na=2000 ;;
	esac
	run 300 ace-ping -T echo-poll -m poll -s $s -n $(n $np) --json
	run 300 ace-ping -T echo-irq -m interrupt -s $s -n $(n $ni) --json
	run 300 ace-ping -T echo-adaptive -m adaptive -s $s -n $(n $na) --json
done
# virtio-serial and TCP: xport-ping, the same loop for both
for s in 64 4096 65536 1048576; do
	case $s in
	64) nx=100000 ;;
	4096) nx=20000 ;;
	65536) nx=2000 ;;
	*) nx=300 ;;
	esac
	run 300 xport-ping -t serial -a ace.echo -s $s -n $(n $nx)
	run 300 xport-ping -t tcp -a $HOST:$EPORT -s $s -n $(n $nx)
done
# throughput into sinks
run 120 ace-bench -T sink -m poll -p 1 -s 64 -n $(n 200000) --json
run 120 ace-bench -T sink -m poll -p 4 -s 64 -n $(n 50000) --json
run 120 ace-bench -T sink -m poll -p 1 -s 65536 -n $(n 20000) --json
run 120 ace-bench -T sink -m poll -p 4 -s 65536 -n $(n 5000) --json
for s in 64 65536; do
	if [ $s = 64 ]; then nx=20000; else nx=1000; fi
	run 120 xport-ping -t serial -a ace.sink -s $s -n $(n $nx) --stream
	run 120 xport-ping -t tcp -a $HOST:$SPORT -s $s -n $(n $nx) --stream
done
# hardware RNGs: ace-rng (bytes from host ace-rngd over ACE) beside virtio-rng
insmod /lib/ace/ace_rng.ko || echo "BENCH-FAIL insmod ace_rng"
cat /sys/class/misc/hw_random/rng_available
for r in ace-rng virtio_rng.0; do
	if echo $r > /sys/class/misc/hw_random/rng_current; then
		run 120 hwrng-read $r $(n 4194304)
	else
		echo "BENCH-FAIL no hwrng $r"
	fi
done
echo "BENCH-DONE"
exit 0
