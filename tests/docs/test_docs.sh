#!/usr/bin/env bash
# Usage: tests/docs/test_docs.sh [FILE.md]   (default docs/usage.md)
#   The documentation's command lines, run as written, so they cannot rot.
#   In the markdown, a fenced block's info string says what it is:
#     ```sh run             run, in order, in one bash (set -e) at the top
#                           of the tree (the first hour: builds, a guest
#                           initramfs, a host service, QEMU, ace-stat)
#     ```text output        each line must appear in what the runs print
#                           (numbers match any number, "..." anything)
#     ```sh file=PATH       must be the file PATH, byte for byte
#   Processes: the whole run is under timeout(1) (DOCS_TIMEOUT seconds,
#   default 1800: the first build of QEMU is in it), which ends its
#   process group when it expires; whatever the blocks leave running in
#   the background is ended by PID when they finish.  Prints one line per
#   check and "N passed, N failed"; exit 0 only if all passed.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
DOC=${1:-docs/usage.md}
W=$(mktemp -d "${TMPDIR:-/tmp}/ace-docs.XXXXXX")
trap 'rm -rf "$W"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "  ok - $what"
	else
		failed=$((failed + 1))
		echo "  FAIL - $what"
	fi
}

# --- take the marked blocks apart -------------------------------------------
python3 - "$DOC" "$W" <<'PY' || { echo "FAIL: cannot read the blocks of $DOC"; exit 1; }
import os, re, sys
doc, w = sys.argv[1], sys.argv[2]
runs, outputs, files = [], [], []
fence, info, body, start = None, None, [], 0
for n, line in enumerate(open(doc, encoding="utf-8"), 1):
    m = re.match(r"^(`{3,})(.*)$", line.rstrip("\n"))
    if fence is None and m:
        fence, info, body, start = m.group(1), m.group(2).split(), [], n
    elif fence is not None and line.rstrip("\n") == fence:
        text = "".join(body)
        if info[:2] == ["sh", "run"]:
            runs.append((start, text))
        elif info[:2] == ["text", "output"]:
            outputs.extend(l for l in text.splitlines() if l.strip())
        elif len(info) >= 2 and info[1].startswith("file="):
            files.append((start, info[1][5:], text))
        fence = None
    elif fence is not None:
        body.append(line)
with open(os.path.join(w, "script.sh"), "w") as f:
    for start, text in runs:
        f.write(f"echo '[docs] block at line {start}' >&2\n{text}\n")
with open(os.path.join(w, "runs"), "w") as f:
    f.write(f"{len(runs)}\n")
with open(os.path.join(w, "expect"), "w") as f:
    for l in outputs:
        # every number matches any number; "..." matches anything
        parts = re.split(r"(\.\.\.|[0-9]+(?:\.[0-9]+)?)", l.strip())
        rx = ""
        for p in parts:
            if p == "...":
                rx += ".*"
            elif re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", p):
                rx += r"[0-9]+(\.[0-9]+)?"
            else:
                rx += re.escape(p)
        f.write(l.strip() + "\t" + rx + "\n")
with open(os.path.join(w, "files"), "w") as f:
    for i, (start, path, text) in enumerate(files):
        name = os.path.join(w, f"file{i}")
        open(name, "w").write(text)
        f.write(f"{start}\t{path}\t{name}\n")
PY

echo "# $DOC: $(cat "$W/runs") block(s) to run, $(wc -l <"$W/expect") output line(s), $(wc -l <"$W/files") file(s)"
check "the page has blocks to run (at least 5)" test "$(cat "$W/runs")" -ge 5
check "the page shows output to check" test -s "$W/expect"

# --- files shown in full must be the files ----------------------------------
while IFS=$'\t' read -r line path copy; do
	check "the block at line $line is $path as it is" cmp -s "$copy" "$path" ||
		diff -u "$path" "$copy" | head -20
done <"$W/files"

# --- run the blocks ----------------------------------------------------------
{
	echo "set -e"
	echo "cd '$ROOT'"
	# what the blocks leave in the background: ended by PID; their scratch
	# directory ($T by the page's convention) removed
	# shellcheck disable=SC2016  # written for the run, expanded there
	echo 'trap '\''for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null; [ -z "${T:-}" ] || rm -rf "$T"'\'' EXIT'
	cat "$W/script.sh"
} >"$W/run.sh"
start=$(date +%s)
timeout --kill-after=10 "${DOCS_TIMEOUT:-1800}" bash "$W/run.sh" </dev/null >"$W/out.log" 2>&1
rc=$?
tr -d '\r' <"$W/out.log" >"$W/out.txt"
check "the blocks run to the end (exit $rc, $(($(date +%s) - start)) s)" test "$rc" = 0
if [ "$rc" != 0 ]; then
	echo "--- the last 40 lines of the run ---"
	tail -n 40 "$W/out.txt"
fi

# --- the output the page shows ------------------------------------------------
while IFS=$'\t' read -r line rx; do
	check "output: $line" grep -qE -- "$rx" "$W/out.txt"
done <"$W/expect"

# --- what the page says about the counters ------------------------------------
# the guest's ace-stat at the end: the host service "hello" in interrupt
# mode received the 9 requests, and counted a wake-up for those that
# found it asleep (host mprocs' wake-ups are counted by libace)
row=$(grep -E '^[0-9]+ +hello +[A-Z-]{4} ' "$W/out.txt" | tail -n 1)
echo "# hello's last ace-stat row: $row"
check "ace-stat: hello received 9" test "$(awk '{ print $7 }' <<<"$row")" = 9
check "ace-stat: hello counted its wake-ups" test "$(awk '{ print $9 }' <<<"$row")" -ge 1 2>/dev/null

[ "$failed" -eq 0 ] || { echo "--- the run's output: ---"; grep -avE '^\[(qemu|vm-prepare|initramfs)\]' "$W/out.txt" | tail -n 80; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
