#!/usr/bin/env bash
# Usage: scripts/bench.sh   (make bench)
#   ACE beside virtio-serial and TCP (virtio-net + slirp) in one guest boot:
#   - round trips at 64 B, 4 KiB, 64 KiB and 1 MiB: ACE polled, interrupt
#     and adaptive (tools/ace-ping), virtio-serial and TCP (the same
#     write-N/read-N loop for both: tests/vm/guest/xport-ping.c); every
#     program writes and checks every payload byte (--touch), ACE polled
#     also without (zero copy);
#   - throughput into sinks at the same sizes with 1 and 4 senders;
#   - floors: the host's (two processes on one cache line, an eventfd
#     wake-up: tests/bench/bench_core.c) and the guest<->host cache-line
#     floor (tests/vm/guest/line-ping.c against tests/bench/line-pong.c);
#   - interrupts per message (the guest's /proc/interrupts, ACE counters)
#     and CPU time per message: the guest program's (getrusage) and the
#     host's (QEMU and the service, tests/bench/monitor.py);
#   - an unmodified TCP client and server through ace-proxy (a guest
#     listener, a host proxy in front of the same TCP echo and sink):
#     64 B and 64 KiB round trips, 64 KiB throughput;
#   - ace-rng beside virtio-rng.
#   Writes build/bench/results.json, results.md (also printed), latency.png
#   and throughput.png.
# Environment:
#   BENCH_SCALE=N     divide every guest sample and message count by N
#   BENCH_ONLY=PART   one part alone: floor, lat, tput, rng, prof, or xvm
#                     (cross-VM: scripts/bench-xvm.sh, two guests joined
#                     by ace-bridge; after the main guest when unset)
#   BENCH_PROFILE=1   also profile (perf, cpu-clock) QEMU and the host
#                     service during long 64-byte round trips over ACE
#                     (polled, interrupt), serial and TCP (runs prof-*):
#                     build/bench/profile-prof-*.txt
#   BENCH_VM_TIMEOUT  seconds for the guest run (default 1200)
#   BENCH_DIRECT=on|off|auto  the device's x-direct-notify (default on:
#                     direct doorbells under TCG too; the services here
#                     are ours, so the TCG hazard of a hostile peer does
#                     not arise; off: every doorbell relayed by QEMU)
#   The device's counters of notifications QEMU handled (QOM x-doorbells,
#   x-raises) are read over QMP around every run (tests/bench/monitor.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# the VM test helpers: $ROOT, $B, $T, $SOCK, host(), wait_for(), and a
# cleanup that ends every process by its PID
. tests/vm/lib.sh
OUT=$B/bench
SCALE=${BENCH_SCALE:-1}
ONLY=${BENCH_ONLY:-all}
PROFILE=${BENCH_PROFILE:-0}
VM_TIMEOUT=${BENCH_VM_TIMEOUT:-1200}
DIRECT=${BENCH_DIRECT:-on}
CFLAGS=(-std=gnu11 -O2 -Wall -Wextra -Werror -pthread)
say() { echo "[bench] $*"; }

start=$(date +%s)
say "building (first run: QEMU takes a few minutes)..."
bash tests/vm/prepare.sh
bash scripts/deps.sh bench
make -s build/bench/bench_core
mkdir -p "$OUT"
rm -f "$OUT"/perf-*.data "$OUT"/profile-*.txt
gcc "${CFLAGS[@]}" tests/bench/xport-echo.c -o "$OUT/xport-echo"
gcc "${CFLAGS[@]}" -Ilib tests/bench/line-pong.c "$B/lib/libace.a" -o "$OUT/line-pong"
if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then
	say "BENCH_PROFILE needs perf (Debian: linux-perf)"
	exit 1
fi

say "host floors: bench_core --quick --wake (one cache line, ACE, eventfd)..."
timeout 120 "$B/bench/bench_core" --quick --wake -n 300000 --json "$OUT/floor.json" \
	>"$T/floor.log" 2>&1

# ten ACE host services: the device gets 16 peer slots (default 8)
say "host services: ACE echoes and sinks (poll, interrupt, adaptive), line-pong,"
say "  ace-rngd, serial and TCP echo and sink..."
svc_secs=$((VM_TIMEOUT + 120))
: >"$T/services"
svc() { # svc NAME READY-REGEX CMD...: a host service the monitor may pause
	local name=$1 ready=$2 pv
	shift 2
	host "$name" "$svc_secs" "$@"
	pv=PID_${name//-/_}
	echo "$name ${!pv} $T/$name.log $ready" >>"$T/services"
}
for m in poll irq adaptive; do
	mode=$m
	[ $m = irq ] && mode=interrupt
	svc "echo-$m" '^ace-echo: serving' "$B/tools/ace-echo" -d "$SOCK" -n "echo-$m" -m $mode
	svc "sink-$m" '^ace-echo: serving' "$B/tools/ace-echo" -d "$SOCK" -n "sink-$m" --sink -m $mode
done
svc line-pong '^line-pong: serving' "$OUT/line-pong" -d "$SOCK"
svc rngd '^ace-rngd: serving' "$B/tools/ace-rngd" -d "$SOCK"
svc ser-echo '^listening' "$OUT/xport-echo" --unix "$T/ser-echo.sock"
svc ser-sink '^listening' "$OUT/xport-echo" --unix "$T/ser-sink.sock" --sink
svc tcp-echo '^port [0-9]+' "$OUT/xport-echo" --tcp 0
svc tcp-sink '^port [0-9]+' "$OUT/xport-echo" --tcp 0 --sink
# (the cross-VM rows come after this guest: scripts/bench-xvm.sh)
wait_for "$T/ser-echo.log" '^listening' 10
wait_for "$T/ser-sink.log" '^listening' 10
wait_for "$T/tcp-echo.log" '^port [0-9]+' 10
wait_for "$T/tcp-sink.log" '^port [0-9]+' 10
EPORT=$(awk '/^port/ { print $2; exit }' "$T/tcp-echo.log")
SPORT=$(awk '/^port/ { print $2; exit }' "$T/tcp-sink.log")
say "TCP echo on 127.0.0.1:$EPORT, sink on :$SPORT (guest: 10.0.2.2)"
# the same TCP echo and sink reached through ACE: ace-proxy here, and
# one in the guest listening on 127.0.0.1 (tests/vm/guest/bench.sh)
svc proxy-echo '^ace-proxy: serving' "$B/tools/ace-proxy" -d "$SOCK" \
	-s "tcpecho-px=tcp:127.0.0.1:$EPORT"
svc proxy-sink '^ace-proxy: serving' "$B/tools/ace-proxy" -d "$SOCK" \
	-s "tcpsink-px=tcp:127.0.0.1:$SPORT"

accel=$(bash scripts/kvm-probe.sh)
sinks=()
for i in 0 1 2 3; do
	sinks+=(-chardev "socket,id=sink$i,path=$T/ser-sink.sock"
		-device "virtserialport,chardev=sink$i,name=ace.sink$i")
done
# clocksource=tsc tsc=reliable: under TCG the guest kernel finds the vCPUs'
# TSCs "unsynchronized" and falls back to the HPET, where every
# clock_gettime() is an MMIO exit (about 1.3 us under TCG, more than the
# round trip measured); QEMU's TSC is the host's, so it is reliable.
# debug-threads=on names QEMU's threads, so the monitor can tell the vCPU
# threads from the rest (device emulation, slirp, the main loop).
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "booting the guest ($accel) with virtio-ace, virtio-serial and virtio-net (timeout ${VM_TIMEOUT}s)..."
bash scripts/run-vm.sh --initrd "$B/vm/initramfs.cpio.gz" \
	--append "clocksource=tsc tsc=reliable ace.run=/tests/bench.sh ace.args=$EPORT,$SPORT,$SCALE,$ONLY,$PROFILE" \
	--timeout "$VM_TIMEOUT" --log "$T/console.log" -- \
	-name bench,debug-threads=on \
	-device "virtio-ace-pci,id=ace0,socket=$SOCK,peers=16,x-direct-notify=$DIRECT" \
	-qmp "unix:$T/qmp.sock,server=on,wait=off" \
	-device virtio-serial-pci \
	-chardev "socket,id=ser0,path=$T/ser-echo.sock" \
	-device virtserialport,chardev=ser0,name=ace.echo \
	"${sinks[@]}" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
	-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
	>"$T/vm.log" 2>&1 &
VMPID=$!
prof_args=()
[ "$PROFILE" = 1 ] && prof_args=(--profile '^prof-')
host monitor $((VM_TIMEOUT + 60)) python3 tests/bench/monitor.py --console "$T/console.log" \
	--out "$OUT/monitor.json" --vm "$VMPID" --services "$T/services" --qmp "$T/qmp.sock" \
	"${prof_args[@]}"
seen=0
while kill -0 "$VMPID" 2>/dev/null; do
	sleep 2
	[ -f "$T/console.log" ] || continue
	lines=$(tr -d '\r' <"$T/console.log" | grep -aE '^BENCH-(RUN|FAIL)' || true)
	total=$(printf '%s' "$lines" | grep -c . || true)
	if [ "$total" -gt "$seen" ]; then
		printf '%s\n' "$lines" | tail -n +$((seen + 1)) |
			sed "s/^BENCH-RUN /[bench] guest $(($(date +%s) - start))s: /; s/^BENCH-FAIL /[bench] guest FAILED: /"
		seen=$total
	fi
done
vmrc=0
wait "$VMPID" || vmrc=$?
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
VMPID=""
wait "$PID_monitor" || say "the monitor failed: $(tail -n 3 "$T/monitor.log")"
cp "$T/console.log" "$OUT/console.log"
memtype=$(tr -d '\r' <"$T/console.log" | sed -n 's/^BENCH-INFO arena memtype: //p' | head -n 1)
say "the guest maps the arena region: ${memtype:-(no PAT entry found)}"
case $memtype in
"write-back ") ;;
*) say "FAIL: the arena region is not mapped write-back only; these figures are not ACE's"
   exit 1 ;;
esac
tr -d '\r' <"$T/console.log" | grep -aE '^\{"tool"' >"$OUT/guest.jsonl" || true
if [ "$vmrc" -ne 0 ] || ! grep -aq BENCH-DONE "$T/console.log"; then
	say "the guest run did not finish cleanly (run-vm status $vmrc); last console lines:"
	tr -d '\r' <"$T/console.log" | grep -av '^\s*$' | tail -n 20
	[ -s "$OUT/guest.jsonl" ] || exit 1
	say "tabulating what was measured"
fi

for d in "$OUT"/perf-*.data; do
	[ -f "$d" ] || continue
	p=$OUT/profile-$(basename "$d" .data | sed 's/^perf-//').txt
	{
		echo "# perf record -e cpu-clock -p QEMU,SERVICE during one run"
		echo "# by process and DSO ([JIT]/anon: TCG-generated code), then by symbol"
		timeout 120 perf report -i "$d" --stdio --sort comm,dso 2>&1 | grep -v '^#' | grep . | head -n 20 || true
		echo
		timeout 120 perf report -i "$d" --stdio --sort comm,dso,sym 2>&1 | grep -v '^#' | grep . | head -n 50 || true
	} >"$p"
	say "profile: $p"
done

rm -f "$OUT/xvm.jsonl"
if [ "$ONLY" = all ] || [ "$ONLY" = xvm ]; then
	say "cross-VM: two guests joined by ace-bridge..."
	bash scripts/bench-xvm.sh "$OUT" "$SCALE" || say "the cross-VM phase failed"
fi

say "collecting results..."
took=$(($(date +%s) - start))
python3 tests/bench/report.py --out "$OUT" --accel "$accel" --scale "$SCALE" \
	--seconds "$took" --qemu "$B/qemu/bin/qemu-system-x86_64" --direct "$DIRECT" \
	--load "$load_before" --load "$load_after"
if [ -s "$OUT/latency.dat" ] && [ -s "$OUT/throughput1.dat" ] && [ -s "$OUT/throughput4.dat" ]; then
	say "plots..."
	gnuplot -e "dir='$OUT'" tests/bench/plot.gp && say "wrote $OUT/latency.png and $OUT/throughput.png"
else
	say "no plots: they need the round trips and the throughput (BENCH_ONLY unset)"
fi
say "results: $OUT/results.md, $OUT/results.json (took $(($(date +%s) - start)) s)"
