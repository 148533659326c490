#!/bin/sh
# Guest side of tests/vm/cases/sections.sh.
insmod /lib/ace/ace.ko || exit 1
ace-sections
rc=$?
ace-stat
exit $rc
