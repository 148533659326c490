#!/usr/bin/env python3
"""Host side of make bench, beside the guest run (scripts/bench.sh).

Follows the guest console log and acts on the lines the guest prints:

  BENCH-USE NAME[,NAME...]  the host services the next runs need: those
                            run, every other service is stopped (SIGSTOP)
                            once it is ready, so idle pollers do not take
                            the CPUs the measured run needs
  BENCH-RUN ID ...          run ID starts (its program has not yet)
  BENCH-T0 ID / BENCH-T1 ID the measured part of run ID starts / ends:
                            CPU time of QEMU (vCPU threads and the rest)
                            and of every service is read at both

Writes one JSON object {ID: {...}} to --out when the VM process is gone.
CPU time is the sum over a process's threads of /proc/PID/task/*/schedstat
(nanoseconds), switches the sum of its third field (times a thread was
scheduled in: the host's wake-ups).  With --profile REGEX, a run whose ID matches is profiled:
`perf record -e cpu-clock -p QEMU,SERVICES-IN-USE` from its BENCH-RUN line
(so perf is running before the program's warm-up ends) to its BENCH-T1
(OUT_DIR/perf-ID.data).  With --qmp SOCKET, the device's counters of
notifications a QEMU thread handled (QOM x-doorbells: doorbells relayed,
x-raises: raise handler runs in the main loop) are read at both marks too.

Usage: monitor.py --console FILE --out FILE --vm PID --services FILE
                  [--profile REGEX] [--qmp SOCKET [--qom PATH]]
  services file: one "NAME PID LOGFILE READY-REGEX" per line; PID may be a
  wrapper (timeout): its only child is taken.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from qmp import Qmp  # noqa: E402

COUNTERS = ("x-doorbells", "x-raises")


class DeviceCounters:
    """the device's QOM counters over QMP; {} when they cannot be read"""

    def __init__(self, sock, path):
        self.sock, self.path, self.q = sock, path, None

    def read(self):
        if not self.sock:
            return {}
        try:
            if self.q is None:
                self.q = Qmp(self.sock)
            return {c: int(self.q.cmd("qom-get", {"path": self.path, "property": c}))
                    for c in COUNTERS}
        except (OSError, SystemExit, ValueError):
            self.q = None
            return {}


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def comm(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def threads(pid):
    """{tid: (comm, cpu ns, times scheduled in)} for the live threads of pid"""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                v = f.read().split()
            ns, runs = int(v[0]), int(v[2])
        except (OSError, ValueError, IndexError):
            continue
        out[t] = (comm(pid, t), ns, runs)
    return out


class Service:
    def __init__(self, name, pid, log, ready):
        self.name, self.wrapper, self.log = name, int(pid), log
        self.ready_re = re.compile(ready)
        self.pid = None
        self.is_ready = False
        self.stopped = False
        self.want_stop = False

    def resolve(self):
        if self.pid is None:
            kids = children(self.wrapper)
            if kids:
                self.pid = kids[0]
        return self.pid

    def ready(self):
        if not self.is_ready and self.resolve():
            try:
                with open(self.log, errors="replace") as f:
                    self.is_ready = any(self.ready_re.search(l) for l in f)
            except OSError:
                pass
        return self.is_ready

    def signal(self, sig):
        if self.resolve():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def usage(self):
        """(cpu ns, times scheduled in), summed over the live threads"""
        if not self.resolve():
            return 0, 0
        t = threads(self.pid).values()
        return sum(x[1] for x in t), sum(x[2] for x in t)


def qemu_pid(vm):
    """QEMU: a descendant of the run-vm.sh process named qemu-system-*"""
    todo = [vm]
    while todo:
        p = todo.pop()
        for c in children(p):
            if comm(c, c).startswith("qemu-system"):
                return c
            todo.append(c)
    return None


def snapshot(qpid, services):
    s = {"t": time.monotonic(), "vcpu": 0, "qemu": 0, "qruns": 0, "svc": {}, "sruns": {}}
    if qpid:
        for name, ns, runs in threads(qpid).values():
            s["qemu"] += ns
            s["qruns"] += runs
            if name.startswith("CPU "):  # "CPU 0/TCG", "CPU 1/KVM"
                s["vcpu"] += ns
    for sv in services:
        s["svc"][sv.name], s["sruns"][sv.name] = sv.usage()
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vm", type=int, required=True)
    ap.add_argument("--services", required=True)
    ap.add_argument("--profile", default="")
    ap.add_argument("--qmp", default="")
    ap.add_argument("--qom", default="/machine/peripheral/ace0/virtio-backend")
    a = ap.parse_args()
    dev = DeviceCounters(a.qmp, a.qom)
    services = []
    with open(a.services) as f:
        for line in f:
            parts = line.split(None, 3)
            if len(parts) == 4:
                services.append(Service(*[p.strip() for p in parts]))
    prof = re.compile(a.profile) if a.profile else None
    outdir = os.path.dirname(os.path.abspath(a.out))
    marker = re.compile(r"BENCH-(USE|RUN|T0|T1) (\S+)")
    results, open_runs = {}, {}
    perf = None
    qpid = None
    buf = b""
    pos = 0

    def stop_all_perf():
        nonlocal perf
        if perf:
            perf.send_signal(signal.SIGINT)
            try:
                perf.wait(timeout=30)
            except subprocess.TimeoutExpired:
                perf.kill()
            perf = None

    def handle(kind, arg):
        nonlocal perf
        if kind == "USE":
            use = set(arg.split(","))
            for sv in services:
                sv.want_stop = sv.name not in use
                if not sv.want_stop and sv.stopped:
                    sv.signal(signal.SIGCONT)
                    sv.stopped = False
        elif kind == "RUN":
            if prof and prof.search(arg) and qpid and not perf:
                pids = [qpid] + [sv.resolve() for sv in services
                                 if not sv.want_stop and sv.resolve()]
                perf = subprocess.Popen(
                    ["timeout", "600", "perf", "record", "-q", "-e", "cpu-clock",
                     "-F", "4999", "-p", ",".join(map(str, pids)), "-o",
                     os.path.join(outdir, f"perf-{arg}.data")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif kind == "T0":
            open_runs[arg] = snapshot(qpid, services)
            open_runs[arg]["dev"] = dev.read()
        elif kind == "T1" and arg in open_runs:
            s1 = snapshot(qpid, services)
            s1["dev"] = dev.read()
            if perf:
                stop_all_perf()
            s0 = open_runs.pop(arg)
            results[arg] = {
                "wall_s": s1["t"] - s0["t"],
                "qemu_cpu_s": (s1["qemu"] - s0["qemu"]) / 1e9,
                "qemu_vcpu_cpu_s": (s1["vcpu"] - s0["vcpu"]) / 1e9,
                "services_cpu_s": {k: (s1["svc"][k] - s0["svc"].get(k, 0)) / 1e9
                                   for k in s1["svc"]},
                "qemu_switches": s1["qruns"] - s0["qruns"],
                "services_switches": {k: s1["sruns"][k] - s0["sruns"].get(k, 0)
                                      for k in s1["sruns"]},
            }
            if s0["dev"] and s1["dev"]:
                results[arg]["device"] = {c: s1["dev"][c] - s0["dev"][c] for c in COUNTERS}

    try:
        while True:
            alive = os.path.exists(f"/proc/{a.vm}")
            if qpid is None:
                qpid = qemu_pid(a.vm)
            got = False
            try:
                with open(a.console, "rb") as f:
                    f.seek(pos)
                    chunk = f.read()
                    pos += len(chunk)
            except OSError:
                chunk = b""
            if chunk:
                got = True
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for l in lines:
                    m = marker.search(l.decode(errors="replace"))
                    if m:
                        handle(m.group(1), m.group(2))
            for sv in services:
                if sv.want_stop and not sv.stopped and sv.ready():
                    sv.signal(signal.SIGSTOP)
                    sv.stopped = True
            if not alive and not got:
                break
            if not got:
                time.sleep(0.003)
    finally:
        stop_all_perf()
        for sv in services:
            if sv.stopped:
                sv.signal(signal.SIGCONT)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
