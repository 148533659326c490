#!/bin/sh
# Guest side of tests/vm/cases/faults.sh: a killed process's messages are
# reclaimed; rmmod refuses while /dev/ace0 is open or a kernel user is
# loaded, and succeeds (and loads again) once they are gone.
fail() { echo "ACE-TEST FAIL: $*"; exit 1; }
free_blocks() { ace-stat | sed -n 's/^arena: \([0-9]*\) blocks: \([0-9]*\) free.*/\2/p'; }
insmod /lib/ace/ace.ko || fail insmod
total=$(ace-stat | sed -n 's/^arena: \([0-9]*\) blocks.*/\1/p')
[ "$(free_blocks)" = "$total" ] || fail "not all $total blocks free at start"
ace-hold holder 100 > /tmp/hold.log &
pid=$!
i=0
while ! grep -q holding /tmp/hold.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ace-stat | grep holder
held=$((total - $(free_blocks)))
echo "ACE-TEST held-before-kill $held"
kill -9 $pid
wait $pid 2>/dev/null
after=$(free_blocks)
echo "ACE-TEST free-after-kill $after of $total"
ace-stat | grep -q holder && fail "the dead process's mproc is still open"
[ "$after" = "$total" ] || fail "blocks leaked"
echo "ACE-TEST reclaimed $held"

exec 3</dev/ace0
rmmod ace 2>/tmp/rmmod.err && fail "rmmod succeeded with /dev/ace0 open"
echo "ACE-TEST rmmod-refused-open $(cat /tmp/rmmod.err)"
exec 3<&-
insmod /lib/ace/ace_ktest.ko || fail "insmod ace_ktest"
rmmod ace 2>/dev/null && fail "rmmod succeeded under a kernel user"
echo "ACE-TEST rmmod-refused-kernel-user"
rmmod ace_ktest || fail "rmmod ace_ktest"
rmmod ace || fail "rmmod ace with nothing open"
echo "ACE-TEST rmmod-ok"
insmod /lib/ace/ace.ko || fail "insmod again"
[ "$(free_blocks)" = "$total" ] || fail "fresh arena after reload"
echo "ACE-TEST reload-ok"
rmmod ace || fail "second rmmod"
insmod /lib/ace/ace.ko || fail "third insmod"
echo "ACE-TEST cycles-ok"
exit 0
