#!/usr/bin/env bash
# The guest driver's own suite (guest-module/tests/vm-test.sh): ace.ko with
# no device (load, unload, reload), then with the device and a host peer:
# mmap rules, names, FIFO, WAIT timeouts and wake-ups, eventfd and poll,
# sections, kecho, host<->guest echoes, CLOSE racing WAIT, concurrent
# senders, reclaim after kill, hot-unplug while mapped, and a hostile host
# corrupting an inbox (-EIO, no oops).
. "$(dirname "$0")/../lib.sh"
check "ace.ko alone and with the device and a host peer" \
	bash "$ROOT/guest-module/tests/vm-test.sh" all
finish
