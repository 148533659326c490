#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmp-waker.py QMP-SOCKET [CONSOLE-LOG]: wake a guest that suspended to RAM.

Connects to QEMU's QMP socket (retrying until QEMU created it), polls
query-status, and sends system_wakeup each time the guest is "suspended".
Prints one line per wake-up; runs until QEMU closes the socket.

With CONSOLE-LOG (the guest's serial console, as QEMU writes it): for each
line "ACE-QMP virtio-status TAG" the guest prints, asks QEMU how the
virtio-ace device sees the driver (x-query-virtio-status) and prints
"qmp-waker: virtio-status TAG event-idx=yes|no features-ok=yes|no
driver-ok=yes|no": what the device negotiated, which a driver that resets
the device itself must negotiate again.
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

    def cmd(name, args=None):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        f.write(json.dumps(req) + "\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise EOFError
            msg = json.loads(line)
            if "return" in msg or "error" in msg:
                return msg

    def virtio_status(tag):
        devs = cmd("x-query-virtio").get("return", [])
        paths = [d["path"] for d in devs if d.get("name") == "virtio-ace"]
        if not paths:
            print("qmp-waker: virtio-status %s: no virtio-ace device" % tag)
            return
        st = cmd("x-query-virtio-status", {"path": paths[0]}).get("return", {})
        tr = st.get("guest-features", {}).get("transports", [])
        ss = st.get("status", {}).get("statuses", [])

        def yes(lst, name):
            return "yes" if any(x.startswith(name + ":") for x in lst) else "no"
        print("qmp-waker: virtio-status %s event-idx=%s features-ok=%s driver-ok=%s"
              % (tag, yes(tr, "VIRTIO_RING_F_EVENT_IDX"),
                 yes(ss, "VIRTIO_CONFIG_S_FEATURES_OK"),
                 yes(ss, "VIRTIO_CONFIG_S_DRIVER_OK")))
        sys.stdout.flush()

    console = open(sys.argv[2], "rb") if len(sys.argv) > 2 else None
    pending = b""

    def console_asks():
        nonlocal pending
        if not console:
            return []
        pending += console.read()
        *lines, pending = pending.split(b"\n")
        tags = []
        for line in lines:
            i = line.find(b"ACE-QMP virtio-status ")
            if i >= 0:
                words = line[i:].decode(errors="replace").split()
                if len(words) >= 3:
                    tags.append(words[2])
        return tags

    f.readline()  # greeting
    cmd("qmp_capabilities")
    wakes = 0
    try:
        while True:
            for tag in console_asks():
                virtio_status(tag)
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
