#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmp-waker.py QMP-SOCKET: wake a guest that suspended to RAM.

Connects to QEMU's QMP socket (retrying until QEMU created it), polls
query-status, and sends system_wakeup each time the guest is "suspended".
Prints one line per wake-up; runs until QEMU closes the socket.
"""
import json
import socket
import sys
import time


def main():
    path = sys.argv[1]
    for _ in range(600):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            s.close()
            time.sleep(0.1)
    else:
        print("qmp-waker: no QMP socket")
        return 1
    f = s.makefile("rw")

    def cmd(name):
        f.write(json.dumps({"execute": name}) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise EOFError
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    f.readline()  # greeting
    cmd("qmp_capabilities")
    wakes = 0
    try:
        while True:
            st = cmd("query-status").get("return", {}).get("status")
            if st == "suspended":
                time.sleep(1)
                cmd("system_wakeup")
                wakes += 1
                print("qmp-waker: guest suspended, system_wakeup sent (%d)" % wakes)
                sys.stdout.flush()
            time.sleep(0.5)
    except (EOFError, OSError, ValueError):
        pass
    print("qmp-waker: QEMU gone after %d wake-up(s)" % wakes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
