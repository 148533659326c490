#!/usr/bin/env bash
# ACE sections end to end: host sends to a guest mproc inside a section
# raise no interrupt (counted as deferrals); at section end everything is
# received in order with zero interrupts for the batch; a section held past
# the time bound (section-ns, here 1 s so the batch fits under TCG) gets
# its interrupt and an overrun count.
. "$(dirname "$0")/../lib.sh"

vm_start sections.sh "" -- -device "virtio-ace-pci,socket=$SOCK,section-ns=1000000000"
check "the guest reaches the first section" wait_for "$T/console.log" 'ACE-TEST sect-ready' 120
timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$SOCK" burst sect 100 >"$T/burst1.log" 2>&1 || true
check "the host sent 100 messages" has "$T/burst1.log" '^burst: 100 messages to sect'
check "the guest holds the second section" wait_for "$T/console.log" 'ACE-TEST sect-hold' 60
timeout 60 "$B/vm/ace_hostpeer" -t 30000 "$SOCK" burst sect 1 >"$T/burst2.log" 2>&1 || true
check "the host sent 1 more" has "$T/burst2.log" '^burst: 1 messages to sect'
check "the guest passes" vm_wait
check "no guest check failed" console 'ACE-TEST sections: 0 failure'
check "batch of 100 with zero interrupts" \
	console 'ACE-TEST batch: 100 messages, 0 interrupts, 100 deferrals'
check "overrun forced one interrupt" console 'ACE-TEST ok: one overrun counted'
tr -d '\r' <"$T/console.log" | grep -a 'ACE-TEST' | sed 's/^/    /'
finish
