#!/usr/bin/env bash
# Usage: scripts/bench.sh   (make bench)
#   ACE beside virtio-serial and TCP (virtio-net + slirp) in one guest boot:
#   round trips at 64 B, 4 KiB, 64 KiB and 1 MiB (ACE in poll, interrupt and
#   adaptive modes; serial and TCP through tests/vm/guest/xport-ping.c, the
#   same write-N/read-N loop for both), throughput into sinks, and the
#   host's shared-memory floor (bench_core).  Writes build/bench/results.json,
#   results.md (also printed), latency.png and throughput.png.
#   BENCH_SCALE=N divides every guest sample count by N (quick look).
set -euo pipefail
cd "$(dirname "$0")/.."
# the VM test helpers: $ROOT, $B, $T, $SOCK, host(), wait_for(), and a
# cleanup that ends every process by its PID
. tests/vm/lib.sh
OUT=$B/bench
SCALE=${BENCH_SCALE:-1}
VM_TIMEOUT=${BENCH_VM_TIMEOUT:-1200}
say() { echo "[bench] $*"; }

start=$(date +%s)
say "building (first run: QEMU takes a few minutes)..."
bash tests/vm/prepare.sh
bash scripts/deps.sh bench
make -s build/bench/bench_core
mkdir -p "$OUT"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread tests/bench/xport-echo.c -o "$OUT/xport-echo"

say "host floor: bench_core --quick -n 300000 (two processes, one cache line)..."
timeout 120 "$B/bench/bench_core" --quick -n 300000 --json "$OUT/floor.json" >"$T/floor.log" 2>&1

say "host services: ACE echo-poll/echo-irq/echo-adaptive/sink, serial and TCP echo + sink..."
svc_secs=$((VM_TIMEOUT + 120))
host echo-poll "$svc_secs" "$B/tools/ace-echo" -d "$SOCK" -n echo-poll -m poll -q
host echo-irq "$svc_secs" "$B/tools/ace-echo" -d "$SOCK" -n echo-irq -m interrupt -q
host echo-adaptive "$svc_secs" "$B/tools/ace-echo" -d "$SOCK" -n echo-adaptive -m adaptive -q
host sink "$svc_secs" "$B/tools/ace-echo" -d "$SOCK" -n sink --sink -m poll -q
host rngd "$svc_secs" "$B/tools/ace-rngd" -d "$SOCK" -q
host ser-echo "$svc_secs" "$OUT/xport-echo" --unix "$T/ser-echo.sock"
host ser-sink "$svc_secs" "$OUT/xport-echo" --unix "$T/ser-sink.sock" --sink
host tcp-echo "$svc_secs" "$OUT/xport-echo" --tcp 0
host tcp-sink "$svc_secs" "$OUT/xport-echo" --tcp 0 --sink
wait_for "$T/ser-echo.log" '^listening' 10
wait_for "$T/ser-sink.log" '^listening' 10
wait_for "$T/tcp-echo.log" '^port [0-9]+' 10
wait_for "$T/tcp-sink.log" '^port [0-9]+' 10
EPORT=$(awk '/^port/ { print $2; exit }' "$T/tcp-echo.log")
SPORT=$(awk '/^port/ { print $2; exit }' "$T/tcp-sink.log")
say "TCP echo on 127.0.0.1:$EPORT, sink on :$SPORT (guest: 10.0.2.2)"

accel=$(bash scripts/kvm-probe.sh)
say "booting the guest ($accel) with virtio-ace, virtio-serial and virtio-net (timeout ${VM_TIMEOUT}s)..."
bash scripts/run-vm.sh --initrd "$B/vm/initramfs.cpio.gz" \
	--append "ace.run=/tests/bench.sh ace.args=$EPORT,$SPORT,$SCALE" \
	--timeout "$VM_TIMEOUT" --log "$T/console.log" -- \
	-device "virtio-ace-pci,socket=$SOCK" \
	-chardev "socket,id=ser0,path=$T/ser-echo.sock" \
	-chardev "socket,id=ser1,path=$T/ser-sink.sock" \
	-device virtio-serial-pci \
	-device virtserialport,chardev=ser0,name=ace.echo \
	-device virtserialport,chardev=ser1,name=ace.sink \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
	-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
	>"$T/vm.log" 2>&1 &
VMPID=$!
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
VMPID=""
cp "$T/console.log" "$OUT/console.log"
tr -d '\r' <"$T/console.log" | grep -aE '^\{"tool"' >"$OUT/guest.jsonl" || true
if [ "$vmrc" -ne 0 ] || ! grep -aq BENCH-DONE "$T/console.log"; then
	say "the guest run did not finish cleanly (run-vm status $vmrc); last console lines:"
	tr -d '\r' <"$T/console.log" | grep -av '^\s*$' | tail -n 20
	[ -s "$OUT/guest.jsonl" ] || exit 1
	say "tabulating what was measured"
fi

say "collecting results..."
python3 - "$OUT" "$accel" "$SCALE" <<'PY'
import json, sys, os
out, accel, scale = sys.argv[1], sys.argv[2], sys.argv[3]
fl = json.load(open(os.path.join(out, "floor.json")))
floor = [r for r in fl["results"] if r["name"] == "floor"][0]
core = [r for r in fl["results"] if r["name"] == "ace-poll"]
rows = [json.loads(l) for l in open(os.path.join(out, "guest.jsonl")) if l.strip()]
lat, thr, rng = [], [], []
def us(r, k):
    return r[k + "_us"] if k + "_us" in r else r[k + "_ns"] / 1e3
lat.append(dict(transport="host floor (2 procs, 1 line)", mode="spin", size=64,
                samples=floor["samples"], p50=us(floor, "p50"), p99=us(floor, "p99"), p999=us(floor, "p999")))
for c in core:
    lat.append(dict(transport="host ACE (2 procs)", mode="poll", size=64,
                    samples=c["samples"], p50=us(c, "p50"), p99=us(c, "p99"), p999=us(c, "p999")))
for r in rows:
    if r["tool"] == "ace-ping":
        lat.append(dict(transport="ACE", mode=r["mode"], size=r["size"], samples=r["samples"],
                        p50=r["p50_us"], p99=r["p99_us"], p999=r["p999_us"]))
    elif r["tool"] == "xport-ping":
        t = {"serial": "virtio-serial", "tcp": "TCP (virtio-net, slirp)"}[r["transport"]]
        lat.append(dict(transport=t, mode=r["mode"], size=r["size"], samples=r["samples"],
                        p50=r["p50_us"], p99=r["p99_us"], p999=r["p999_us"]))
    elif r["tool"] == "hwrng":
        rng.append(r)
    elif r["tool"] in ("ace-bench", "xport-stream"):
        t = "ACE" if r["tool"] == "ace-bench" else {"serial": "virtio-serial", "tcp": "TCP (virtio-net, slirp)"}[r["transport"]]
        thr.append(dict(transport=t, mode=r["mode"], senders=r["senders"], size=r["size"],
                        messages=int(r["messages"]), msgs=r["msgs_per_s"], gbs=r["gbytes_per_s"]))
f = lat[0]["p50"]
def sz(s):
    return f"{s // 1048576} MiB" if s >= 1048576 else f"{s // 1024} KiB" if s >= 1024 else f"{s} B"
md = []
md.append(f"Round trips (guest under {accel}; microseconds; floor = host, two processes on one cache line)")
md.append("")
md.append("| transport | mode | size | samples | p50 us | p99 us | p99.9 us | p50 / floor |")
md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in lat:
    md.append(f"| {r['transport']} | {r['mode']} | {sz(r['size'])} | {r['samples']} | {r['p50']:.2f} | {r['p99']:.2f} | {r['p999']:.2f} | {r['p50'] / f:.1f}x |")
md.append("")
md.append("Throughput, guest -> host sink")
md.append("")
md.append("| transport | mode | senders | size | messages | msgs/s | GB/s |")
md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for r in thr:
    md.append(f"| {r['transport']} | {r['mode']} | {r['senders']} | {sz(r['size'])} | {r['messages']} | {r['msgs']:.0f} | {r['gbs']:.4f} |")
md.append("")
md.append("Hardware RNG throughput in the guest (dd-style reads of /dev/hwrng, 4 KiB at a time)")
md.append("")
md.append("| rng | bytes | seconds | MB/s |")
md.append("| --- | ---: | ---: | ---: |")
for r in rng:
    md.append(f"| {r['rng']} | {r['bytes']} | {r['seconds']:.3f} | {r['mb_per_s']:.2f} |")
md.append("")
text = "\n".join(md)
open(os.path.join(out, "results.md"), "w").write(text)
json.dump({"accel": accel, "scale": int(scale), "floor_p50_us": f, "latency": lat, "throughput": thr,
           "hwrng": rng},
          open(os.path.join(out, "results.json"), "w"), indent=1)
# gnuplot data: one block per series (index i), "size value"
series = {}
for r in lat[1 + len(core):]:
    key = "ACE " + r["mode"] if r["transport"] == "ACE" else r["transport"]
    series.setdefault(key, []).append((r["size"], r["p50"]))
with open(os.path.join(out, "latency.dat"), "w") as d:
    d.write("\n\n".join(f'"{k}"\n' + "".join(f"{s} {p}\n" for s, p in sorted(v)) for k, v in series.items()))
tser = {}
for r in thr:
    key = f"{r['transport']} ({r['senders']} sender{'s' if r['senders'] > 1 else ''})"
    tser.setdefault(key, []).append((r["size"], r["gbs"]))
with open(os.path.join(out, "throughput.dat"), "w") as d:
    d.write("\n\n".join(f'"{k}"\n' + "".join(f"{s} {g}\n" for s, g in sorted(v)) for k, v in tser.items()))
print(text)
PY
say "plots..."
gnuplot -e "dir='$OUT'; floor=$(python3 -c "import json; print(json.load(open('$OUT/results.json'))['floor_p50_us'])")" \
	tests/bench/plot.gp && say "wrote $OUT/latency.png and $OUT/throughput.png"
say "results: $OUT/results.md, $OUT/results.json (took $(($(date +%s) - start)) s)"
