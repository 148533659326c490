#!/usr/bin/env python3
"""A small QMP client for the VM tests.

  qmp.py SOCKET COMMAND [JSON-ARGUMENTS]   run one command, print its return
  qmp.py SOCKET wait-migration SECS        poll query-migrate until the
                                           migration completes or fails;
                                           exit 0 only if it completed
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())           # the greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, args=None):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("qmp: the connection closed")
            r = json.loads(line)
            if "return" in r:
                return r["return"]
            if "error" in r:
                raise SystemExit("qmp: %s: %s" % (name, r["error"]["desc"]))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    q = Qmp(sys.argv[1])
    if sys.argv[2] == "wait-migration":
        end = time.time() + float(sys.argv[3])
        while time.time() < end:
            r = q.cmd("query-migrate")
            status = r.get("status", "none")
            if status in ("completed", "failed", "cancelled"):
                print("migration %s: total %s ms, downtime %s ms, ram %s bytes"
                      % (status, r.get("total-time"), r.get("downtime"),
                         r.get("ram", {}).get("transferred")))
                sys.exit(0 if status == "completed" else 1)
            time.sleep(0.2)
        raise SystemExit("qmp: migration not over after %s s" % sys.argv[3])
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else None
    print(json.dumps(q.cmd(sys.argv[2], args)))


if __name__ == "__main__":
    main()
