#!/usr/bin/env bash
# Usage: tests/bench/insn.sh BENCH_INSN [--json FILE] [--check REF]
#
# Count the hot path's instructions exactly: run bench_insn under
# callgrind, read the dump of each part, divide by the messages.
#   --json FILE   write the counts as JSON
#   --check REF   compare with the committed figures in REF (lines
#                 "part count"); fail if any part exceeds its figure by
#                 more than 10%.  Exit 77 (skip) if valgrind is missing.
set -euo pipefail

bin=$1
shift
json="" ref=""
while [ $# -gt 0 ]; do
	case $1 in
	--json) json=$2; shift 2;;
	--check) ref=$2; shift 2;;
	*) echo "usage: $0 BENCH_INSN [--json FILE] [--check REF]" >&2; exit 2;;
	esac
done
N=${INSN_N:-200000}

if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed (scripts/deps.sh core installs it)"
	exit 77
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
	"$bin" -n "$N" >"$out/log" 2>&1 || { cat "$out/log"; exit 1; }
grep '^bench_insn:' "$out/log"

declare -A count
for f in "$out"/cg.out.*; do
	part=$(sed -n 's/^desc: Trigger: Client Request: //p' "$f")
	total=$(sed -n 's/^\(totals\|summary\): *\([0-9]*\).*/\2/p' "$f" | head -n 1)
	[ -n "$part" ] && [ -n "$total" ] || continue
	count[$part]=$(( (total + N / 2) / N ))
done
parts="core libace rtt core-stream libace-stream rtt-core poll"
for p in $parts; do
	[ -n "${count[$p]:-}" ] || { echo "no count for part '$p'"; exit 1; }
done

printf '%-14s %14s\n' part "insn/message"
for p in $parts; do
	printf '%-14s %14s\n' "$p" "${count[$p]}"
done

if [ -n "$json" ]; then
	mkdir -p "$(dirname "$json")"
	{
		printf '{\n  "benchmark": "bench_insn",\n  "tool": "callgrind",\n'
		printf '  "messages_per_part": %s,\n  "message_bytes": 64,\n' "$N"
		printf '  "instructions_per_message": {'
		sep=""
		for p in $parts; do
			printf '%s\n    "%s": %s' "$sep" "$p" "${count[$p]}"
			sep=","
		done
		printf '\n  }\n}\n'
	} >"$json"
	echo "wrote $json"
fi

if [ -n "$ref" ]; then
	fail=0
	while read -r p want; do
		case $p in ''|'#'*) continue;; esac
		have=${count[$p]:-}
		if [ -z "$have" ]; then
			echo "FAIL $p: not measured"
			fail=1
		elif [ $((have * 10)) -gt $((want * 11)) ]; then
			echo "FAIL $p: $have instructions per message, more than 10% above the committed $want"
			fail=1
		else
			echo "ok   $p: $have (committed $want, limit $((want * 11 / 10)))"
		fi
	done <"$ref"
	exit $fail
fi
