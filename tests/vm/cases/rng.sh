#!/usr/bin/env bash
# shellcheck disable=SC2154 # PID_<name> are set by host() in lib.sh
# ace_rng.ko, a paravirtual hw_random driver on the ACE kernel API, fed by
# the host service ace-rngd: (a) /dev/hwrng yields the --pattern stream
# byte for byte; (b) with the service gone a read fails at once, and works
# again when it is back; (c) a hostile service's replies are all rejected
# and counted, no bytes pass and the kernel stays quiet (run-vm.sh fails on
# any WARNING or Oops).
. "$(dirname "$0")/../lib.sh"

RNGD=$B/tools/ace-rngd
host rngd 240 "$RNGD" -d "$SOCK" --pattern -t 220
host hostile 240 "$RNGD" -d "$SOCK" -n rngd-hostile --hostile cycle -t 220
vm_start rng.sh
wait_for "$T/console.log" 'ACE-TEST rng-pattern-done' 150
kill -TERM "$PID_rngd" 2>/dev/null || true
wait_for "$T/console.log" 'ACE-TEST rng-waiting-for-service' 90
host rngd2 150 "$RNGD" -d "$SOCK" -t 120
check "the guest passes" vm_wait
for p in "$PID_hostile" "$PID_rngd2"; do	# end lines in their logs
	kill -TERM "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
done
check "ace-rng is the current hwrng" console '^ACE-TEST rng-current ace-rng'
check "/dev/hwrng yields ace-rngd's pattern stream" console '^ACE-TEST rng-pattern-ok'
check "the pattern bytes match from the driver's stream offset" \
	console '^ace-rngcheck: 4096 bytes match the pattern from offset [0-9]+'
check "service absent: the read fails at once, no data" \
	console '^ACE-TEST rng-absent rc=[1-9][0-9]* bytes=0 secs=[0-2] '
check "service back: reads work again" console '^ACE-TEST rng-back'
check "hostile replies: no bytes, every one counted" \
	console '^ACE-TEST rng-hostile bytes=0 bad_replies=(1[2-9]|[2-9][0-9]|[0-9]{3,})'
check "the pattern service answered" has "$T/rngd.log" '^ace-rngd: [1-9][0-9]* replies'
check "the hostile service was asked" \
	has "$T/hostile.log" '^ace-rngd: [0-9]+ replies, [0-9]+ bytes, 0 bad requests, [1-9][0-9]* hostile'
check "the restarted service answered" has "$T/rngd2.log" '^ace-rngd: [1-9][0-9]* replies'
tr -d '\r' <"$T/console.log" | grep -a 'ACE-TEST\|ace-rngcheck\|ace_rng' || true
cat "$T/rngd.log" "$T/hostile.log" "$T/rngd2.log" 2>/dev/null || true
finish
