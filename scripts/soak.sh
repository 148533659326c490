#!/usr/bin/env bash
# Usage: scripts/soak.sh   (make soak; SOAK_SECONDS, default 600)
#   One guest, traffic both ways in every delivery mode for SOAK_SECONDS
#   while host services are killed (SIGKILL, by PID) and restarted at
#   random:
#     guest ace-soak gc-{poll,irq,adapt} -> host ace-echo hecho-*  (these
#                                           echoes are the ones killed)
#     host ace-soak hc-{poll,irq,adapt}  -> guest ace-echo gecho-*
#   Every 30 s a progress line; at the end every message is accounted for:
#     - each client: sent = received + lost, where lost are the messages
#       in flight to a service when it was killed, and the arena's own
#       counters of the client agree;
#     - the device reclaimed exactly as many blocks from the killed
#       services (its virtio_ace_reaped trace) as the clients lost;
#     - what the host clients sent is what the guest echoes received;
#     - once everything stopped, the guest's census finds every block
#       free, none in flight, and every free block on a free list.
#   Prints the figures (messages, restarts, reclaimed); exit 0 iff all hold.
#   Logs stay in build/soak/.
set -euo pipefail
cd "$(dirname "$0")/.."
# the VM test helpers: $ROOT, $B, $T, $SOCK, host(), wait_for(), and a
# cleanup that ends every process by its PID
. tests/vm/lib.sh
SECS=${SOAK_SECONDS:-600}
OUT=$B/soak
say() { echo "[soak $(date +%H:%M:%S)] $*"; }
MODES=(poll irq adapt)
mode_of() { case $1 in irq) echo interrupt ;; adapt) echo adaptive ;; *) echo "$1" ;; esac; }
child() { awk '{ print $1 }' "/proc/$1/task/$1/children" 2>/dev/null; }

say "building..."
bash tests/vm/prepare.sh >/dev/null
make -s build/vm/ace-soak
mkdir -p "$OUT"
rm -f "$OUT"/*.log

life=$((SECS + 400))
declare -A SVC=()	# mode -> current host() name of its hecho
restarts=0 gen=0
# start_svc MODE [nowait]: a new hecho-MODE; unless nowait (the guest is
# not up yet), see it serve, and retry while the device still reaps the
# previous one (its claim says "File exists")
start_svc() {
	local m=$1
	for _ in 1 2 3 4 5; do
		gen=$((gen + 1))
		local n="hecho_${m}_$gen"
		host "$n" "$life" "$B/tools/ace-echo" -d "$SOCK" -n "hecho-$m" -m "$(mode_of "$m")"
		if [ "${2:-}" = nowait ] ||
		   { wait_for "$T/$n.log" 'serving as|ace-echo: ' 20 &&
		     grep -q 'serving as' "$T/$n.log"; }; then
			SVC[$m]=$n
			return 0
		fi
		sleep 0.5
	done
	say "cannot restart hecho-$m"
	return 1
}

say "host services hecho-{poll,irq,adapt}; guest boots (TCG)..."
for m in "${MODES[@]}"; do start_svc "$m" nowait; done
VM_TIMEOUT=$((SECS + 500)) vm_start soak.sh "$SECS" -- \
	-device "virtio-ace-pci,socket=$SOCK" -trace virtio_ace_reaped
if ! wait_for "$T/console.log" 'ACE-TEST soak-start' 300; then
	say "FAIL: the guest did not start its part"
	exit 1
fi
for m in "${MODES[@]}"; do
	host "hc_$m" "$life" "$B/vm/ace-soak" -d "$SOCK" -T "gecho-$m" \
		-m "$(mode_of "$m")" -w 16 -p 30 -n "hc-$m"
done
t0=$(date +%s)
chaos_end=$((t0 + SECS - 30))
say "soaking for $SECS s: guest and host clients in every mode; host services killed at random"
next_kill=$((t0 + 5 + RANDOM % 10))
next_report=$((t0 + 30))
while :; do
	now=$(date +%s)
	[ "$now" -ge $((t0 + SECS)) ] && break
	if ! kill -0 "$VMPID" 2>/dev/null; then
		say "FAIL: the guest ended early"
		break
	fi
	if [ "$now" -ge "$next_kill" ] && [ "$now" -lt "$chaos_end" ]; then
		m=${MODES[$((RANDOM % 3))]}
		n=${SVC[$m]}
		v=PID_$n
		e=$(child "${!v}")
		if [ -n "$e" ]; then
			kill -KILL "$e"
			wait "${!v}" 2>/dev/null || true
			restarts=$((restarts + 1))
			sleep "0.$((RANDOM % 10))"
			start_svc "$m" || break
		fi
		next_kill=$((now + 3 + RANDOM % 13))
	fi
	if [ "$now" -ge "$next_report" ]; then
		line=$(tr -d '\r' <"$T/console.log" | grep -a '^ACE-SOAK gc-poll progress' | tail -n 1 || true)
		hline=$(grep -a 'progress' "$T/hc_poll.log" | tail -n 1 || true)
		say "$((now - t0)) s: $restarts service restart(s)"
		say "  guest ${line#ACE-SOAK }"
		say "  host  ${hline#ACE-SOAK }"
		next_report=$((now + 30))
	fi
	sleep 0.5
done

say "time is up: waiting for the guest's clients to finish..."
wait_for "$T/console.log" 'ACE-TEST soak-clients-done' 120 || say "the guest's clients did not finish"
for m in "${MODES[@]}"; do
	v=PID_hc_$m
	kill -TERM "$(child "${!v}")" 2>/dev/null || true
done
for m in "${MODES[@]}"; do
	v=PID_hc_$m
	wait "${!v}" 2>/dev/null || true
done
for m in "${MODES[@]}"; do
	v=PID_${SVC[$m]}
	kill -TERM "$(child "${!v}")" 2>/dev/null || true
	wait "${!v}" 2>/dev/null || true
done
vmrc=0
vm_wait || vmrc=$?
cp "$T"/*.log "$OUT/" 2>/dev/null || true
tr -d '\r' <"$T/console.log" >"$OUT/console.log"
C=$OUT/console.log

passes=0 fails=0
ok() { echo "  ok - $*"; passes=$((passes + 1)); }
bad() { echo "  FAIL - $*"; fails=$((fails + 1)); }
verdict() { if "${@:2}"; then ok "$1"; else bad "$1"; fi; }
# sums LOG NAME: sent, received and lost from the client's final line
sums() { grep -a "^ACE-SOAK $2 final:" "$1" | tail -n 1 |
	sed -E 's/.*sent ([0-9]+) received ([0-9]+) lost ([0-9]+).*/\1 \2 \3/'; }
echo "results:"
verdict "the guest ran to the end without a kernel warning (run-vm.sh)" [ "$vmrc" = 0 ]
verdict "no guest check failed" grep -q '^ACE-TEST soak: 0 failure' "$C"
gs=0 gr=0 gl=0 hs=0 hr=0 hl=0
for m in "${MODES[@]}"; do
	verdict "guest client gc-$m: sent = received + lost" grep -q "^ACE-SOAK gc-$m accounted" "$C"
	read -r s r l <<<"$(sums "$C" "gc-$m")"
	gs=$((gs + ${s:-0})) gr=$((gr + ${r:-0})) gl=$((gl + ${l:-0}))
	verdict "host client hc-$m: sent = received + lost" grep -q "^ACE-SOAK hc-$m accounted" "$T/hc_$m.log"
	read -r s r l <<<"$(sums "$T/hc_$m.log" "hc-$m")"
	hs=$((hs + ${s:-0})) hr=$((hr + ${r:-0})) hl=$((hl + ${l:-0}))
	e=$(grep -aA1 "serving as gecho-$m " "$C" | grep -aoE '^ace-echo: [0-9]+ messages' |
		awk '{ print $2 }' | tail -n 1 || true)
	verdict "gecho-$m received what hc-$m sent (${e:-?} = ${s:-?})" [ "${e:-x}" = "${s:-y}" ]
done
reclaimed=$({ grep -aoE 'virtio_ace_reaped peers 0x[0-9a-f]+: [0-9]+ mproc\(s\), [0-9]+ block' "$OUT/vm.log" || true; } |
	awk '{ n += $6 } END { print n + 0 }')
verdict "the device reclaimed what the guest clients lost ($reclaimed = $gl)" [ "$reclaimed" = "$gl" ]
verdict "nothing lost host -> guest (no guest service died)" [ "$hl" = 0 ]
verdict "restarts happened" [ "$restarts" -ge 1 ]
verdict "the census: every block free, none in flight, all on free lists" \
	grep -q '^ACE-TEST victim check: ok' "$C"
grep -a '^ACE-TEST census' "$C" | sed 's/^/    /'
echo "figures ($SECS s):"
echo "  guest -> host (echoed): sent $gs, received $gr, lost with a killed service $gl"
echo "  host -> guest (echoed): sent $hs, received $hr, lost $hl"
echo "  messages: $((gs + hs)) round trips ($(( (gs + hs) / SECS ))/s), $((gs + gr + hs + hr)) one-way messages"
echo "  host service restarts: $restarts; blocks reclaimed by the device: $reclaimed"
echo "$passes passed, $fails failed"
[ "$fails" = 0 ]
