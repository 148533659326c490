#!/usr/bin/env bash
# Usage: scripts/bench-xvm.sh OUT SCALE   (called by scripts/bench.sh)
#   The cross-VM rows of make bench: two guests joined by ace-bridge; vm1
#   pings vm2's echoes through the bridge (polled, adaptive, interrupt;
#   64 B and 64 KiB) and, under the same load, host echoes through its own
#   device.  One JSON line per run in OUT/xvm.jsonl.  The bridge runs
#   adaptive, spinning BENCH_XVM_SPIN us (default 50, the bridge's own
#   default) after each message before it sleeps.  On a machine with
#   cores to spare a longer spin saves a doorbell and a host wake-up per
#   leg; on 2 CPUs shared by four TCG vCPUs it takes CPU from them.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/vm/lib.sh
OUT=$1 SCALE=${2:-1}
export VM_TIMEOUT=${BENCH_XVM_TIMEOUT:-600}
say() { echo "[bench] $*"; }

host bridge $((VM_TIMEOUT + 60)) "$B/tools/ace-bridge" --spin "${BENCH_XVM_SPIN:-50}" --export-all \
	"vm1=$T/vm1.sock" "vm2=$T/vm2.sock"
host hecho-adaptive $((VM_TIMEOUT + 60)) "$B/tools/ace-echo" -d "$T/vm1.sock" \
	-n hecho-adaptive -m adaptive
host hecho-irq $((VM_TIMEOUT + 60)) "$B/tools/ace-echo" -d "$T/vm1.sock" \
	-n hecho-irq -m interrupt
say "cross-VM: booting vm2 (echoes) and vm1 (pings through ace-bridge)..."
vm_start_as vm2 bench-xvm.sh "b,$SCALE" -- -device "virtio-ace-pci,socket=$T/vm2.sock"
wait_for "$T/console-vm2.log" 'BENCH-XVM serving' 120 || say "vm2 did not come up"
vm_start_as vm1 bench-xvm.sh "a,$SCALE" -- -device "virtio-ace-pci,socket=$T/vm1.sock"
seen=0
while kill -0 "${VMPIDS[vm1]}" 2>/dev/null; do
	sleep 2
	n=$(tr -d '\r' <"$T/console-vm1.log" 2>/dev/null | grep -ac '^BENCH-RUN' || true)
	if [ "$n" -gt "$seen" ]; then
		tr -d '\r' <"$T/console-vm1.log" | grep -a '^BENCH-RUN' | tail -n +$((seen + 1)) |
			sed 's/^BENCH-RUN /[bench] cross-VM: /'
		seen=$n
	fi
done
rc=0
vm_wait_as vm1 || rc=$?
tr -d '\r' <"$T/console-vm1.log" | grep -aE '^\{"tool"' >"$OUT/xvm.jsonl" || true
tr -d '\r' <"$T/console-vm1.log" | grep -a '^BENCH-FAIL' | sed 's/^/[bench] cross-VM: /' || true
kill -TERM "$PID_bridge" 2>/dev/null || true
wait "$PID_bridge" 2>/dev/null || true
grep -a 'in, .* out' "$T/bridge.log" | tail -n 2 | sed 's/^/[bench] /' || true
say "cross-VM: $(wc -l <"$OUT/xvm.jsonl") runs (vm1 exit status $rc)"
