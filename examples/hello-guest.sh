#!/bin/sh
# The guest's part of the first hour (docs/usage.md): the test initramfs
# runs it as /run.sh.  Load the driver, call the host's hello service in
# each delivery mode, and show the counters.
insmod /lib/ace/ace.ko || exit 1
for mode in poll interrupt adaptive; do
	hello-client -m $mode -n 3 world || exit 1
done
ace-stat
