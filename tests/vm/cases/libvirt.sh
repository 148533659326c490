#!/usr/bin/env bash
# The guest under libvirt: a private libvirtd + virtlogd
# (scripts/libvirt/ace-libvirtd.sh, never a system one) boots it with
# scripts/libvirt/ace-virsh.sh from the domain template; messages go both
# ways through the device; virsh save and restore keep the guest's side;
# virsh destroy + undefine end it, and neither
# daemon nor the domain's QEMU is left behind.
. "$(dirname "$0")/../lib.sh"

bash "$ROOT/scripts/deps.sh" libvirt >/dev/null
LV=$T/lv
DOM=ace-test-$$
URI="qemu:///system?socket=$LV/run/libvirt-sock"
vsh() { timeout 60 virsh -q -c "$URI" "$@"; }
avsh() { timeout 120 "$ROOT/scripts/libvirt/ace-virsh.sh" -c "$URI" -n "$DOM" "$@"; }
# alive PID / gone PID: a known process runs / has ended
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
gone() { [ -n "$1" ] && ! kill -0 "$1" 2>/dev/null; }
# wait_gone PID SECS
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		gone "$1" && return 0
		sleep 0.1
	done
	return 1
}
# no process (a QEMU) has this test's device socket on its command line
qemu_gone() { ! pgrep -f "virtio-ace-pci,socket=$SOCK" >/dev/null; }

host libvirtd 400 "$ROOT/scripts/libvirt/ace-libvirtd.sh" --timeout 380 "$LV"
# answers: libvirtd takes connections on its private socket (30 s)
answers() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ -S "$LV/run/libvirt-sock" ] && vsh list --all >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
check "libvirtd answers on its private socket" answers
[ "$failed" -eq 0 ] || tail -n 20 "$T/libvirtd.log" "$LV/log/libvirtd.log" || true
LPID=$(cat "$LV/libvirtd.pid" 2>/dev/null || true)
VPID=$(cat "$LV/virtlogd.pid" 2>/dev/null || true)
check "virtlogd runs (pid $VPID)" alive "$VPID"

host hecho 300 "$B/tools/ace-echo" -d "$SOCK" -n hecho -m interrupt -t 280
# two NUMA cells on private RAM: libvirt backs each cell with its own
# memory-backend-ram; the device brings its own arena region
avsh -N 2 -s "$SOCK" -l "$T/console.log" -i "$B/vm/initramfs.cpio.gz" \
	-a "ace.run=/tests/libvirt.sh ace.args=x,200 loglevel=7" start >"$T/virsh.log" 2>&1 ||
	cat "$T/virsh.log"
QPID=$(cat "$LV/run/qemu/$DOM.pid" 2>/dev/null || true)
check "virsh started the domain (QEMU pid $QPID)" alive "$QPID"
numa_private() {
	local log=$LV/log/qemu/$DOM.log
	[ "$(grep -aoE '"qom-type":"memory-backend-ram"' "$log" | wc -l)" -eq 2 ] &&
		has "$log" 'numa node,nodeid=1,' && ! has "$log" '"share":true'
}
check "libvirt gave the guest two NUMA cells of private RAM" numa_private

wait_for "$T/console.log" 'ACE-TEST guest-echo-up' 240 || true
timeout 60 "$B/tools/ace-ping" -d "$SOCK" -T gecho -n 300 -w 20 -m interrupt \
	>"$T/hping.log" 2>&1 || true
wait_for "$T/console.log" 'ACE-TEST waiting-for-destroy' 60 || true
check "guest -> host echo through the device" \
	console '^ace-ping: interrupt mode, 64 B, 500 round trips to hecho: '
check "host -> guest echo through the device" \
	has "$T/hping.log" '^ace-ping: interrupt mode, 64 B, 300 round trips to gecho'
check "the guest echo received all 320 messages" console '^ACE-TEST gecho-received 320$'
check "the domain is still running" [ "$(avsh state 2>&1)" = running ]

# virsh save and restore with the device up: the guest's echo carries on
vsh save "$DOM" "$T/dom.save" >>"$T/virsh.log" 2>&1 || cat "$T/virsh.log"
saved() { [ -s "$T/dom.save" ] && [ "$(avsh state 2>&1)" = "shut off" ]; }
check "virsh save stopped the running domain into a file" saved
vsh restore "$T/dom.save" >>"$T/virsh.log" 2>&1 || cat "$T/virsh.log"
check "virsh restore brought it back" [ "$(avsh state 2>&1)" = running ]
QPID=$(cat "$LV/run/qemu/$DOM.pid" 2>/dev/null || true)
timeout 60 "$B/tools/ace-ping" -d "$SOCK" -T gecho -n 100 -w 5 -m interrupt \
	>"$T/hping2.log" 2>&1 || true
check "host -> the restored guest's echo through the device" \
	has "$T/hping2.log" '^ace-ping: interrupt mode, 64 B, 100 round trips to gecho'

avsh stop >>"$T/virsh.log" 2>&1 || cat "$T/virsh.log"
check "virsh destroy stopped the domain" [ "$(avsh state 2>&1)" = "shut off" ]
check "its QEMU has exited" wait_gone "$QPID" 10
avsh undefine >>"$T/virsh.log" 2>&1 || cat "$T/virsh.log"
# undefined: libvirtd answers and does not list the domain any more
undefined() {
	vsh list --all --name >"$T/domains" && ! grep -qx "$DOM" "$T/domains"
}
check "virsh undefine removed the domain" undefined
# clean_console: the guest booted and the kernel reported no problem
clean_console() {
	console '^ACE-INIT start' &&
		! console 'WARNING:|BUG:|Oops|Call Trace:|Kernel panic'
}
check "no kernel WARNING/BUG/Oops on the console" clean_console

kill -TERM "$PID_libvirtd" 2>/dev/null || true
check "libvirtd (pid $LPID) is gone" wait_gone "$LPID" 15
check "virtlogd (pid $VPID) is gone" wait_gone "$VPID" 15
check "no QEMU of this test remains" qemu_gone
cat "$T/hping.log" "$T/hping2.log"
finish
