#!/bin/sh
# Guest side of tests/vm/cases/device.sh: load ace.ko, report what the
# guest sees, then stay up ($2 seconds) while the host tests its peers.
secs=${2:-10}
insmod /lib/ace/ace.ko || exit 1
[ -c /dev/ace0 ] || { echo "ACE-TEST no /dev/ace0"; exit 1; }
echo "ACE-TEST arena-attached"
for d in /sys/bus/pci/devices/*; do
	echo "ACE-TEST pci $(cat "$d/vendor"):$(cat "$d/device")"
done
sleep "$secs"
up=$(cat /sys/bus/virtio/devices/virtio*/ace/peers_up 2>/dev/null | head -n 1)
echo "ACE-TEST peers-up $up"
ace-stat -d /dev/ace0 || exit 1
exit 0
