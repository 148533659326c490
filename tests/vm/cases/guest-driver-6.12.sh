#!/usr/bin/env bash
# The guest driver's own suite (guest-module/tests/vm-test.sh, as in
# guest-driver.sh) on Debian 12's other kernel: 6.12 from bookworm's
# security archive (ACE_KERNEL=6.12; scripts/fetch-guest-kernel.sh resolves
# the newest linux-image-6.12.*+deb12-amd64 apt knows, fetched on first use).
. "$(dirname "$0")/../lib.sh"
check "ace.ko on 6.12: alone and with the device and a host peer" \
	env ACE_KERNEL=6.12 bash "$ROOT/guest-module/tests/vm-test.sh" all
finish
