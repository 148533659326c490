#!/usr/bin/env python3
"""make bench, last step: tabulate one run (scripts/bench.sh).

Reads OUT/floor.json (bench_core), OUT/guest.jsonl (one JSON line per guest
run), OUT/monitor.json (host CPU per run, tests/bench/monitor.py) and
OUT/console.log; writes OUT/results.json, OUT/results.md (printed too) and
the gnuplot inputs (latency.dat, throughput1.dat, throughput4.dat,
floors.gp).

Usage: report.py --out DIR --accel tcg|kvm --scale N --seconds S --qemu PATH
"""
import argparse
import json
import os
import platform
import re
import subprocess

SIZES = [64, 4096, 65536, 1048576]
NAMES = {"serial": "virtio-serial", "tcp": "TCP (virtio-net, slirp)",
         "proxy": "TCP through ace-proxy (ACE)"}
# host CPU: the service the guest talks to (through ace-proxy: the host
# proxy, which passes the bytes on to tcp-echo / tcp-sink)
ECHO = {"serial": "ser-echo", "tcp": "tcp-echo", "proxy": "proxy-echo"}
SINK = {"serial": "ser-sink", "tcp": "tcp-sink", "proxy": "proxy-sink"}


def sz(s):
    return f"{s // 1048576} MiB" if s >= 1048576 else f"{s // 1024} KiB" if s >= 1024 else f"{s} B"


def num(x, digits=2):
    """a figure for a table: thousands separated, sensible digits"""
    if x is None:
        return "-"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(qemu, accel, console):
    cpu = re.search(r"Model name:\s*(.*)", sh(["lscpu"]))
    mem = re.search(r"Mem:\s+(\S+)", sh(["free", "-h"]))
    deb = ""
    if os.path.exists("/etc/debian_version"):
        deb = "Debian " + open("/etc/debian_version").read().strip()
    gk = re.search(r"ACE-INIT start \(kernel (\S+)\)", console)
    cs = re.search(r"BENCH-INFO .*clocksource (\S+)", console)
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "cpus": os.cpu_count(),
        "memory": mem.group(1) if mem else "",
        "os": deb,
        "host_kernel": platform.release(),
        "qemu": sh([qemu, "--version"]).splitlines()[0] if os.path.exists(qemu) else "",
        "accel": accel,
        "guest_kernel": gk.group(1) if gk else "",
        "guest_clocksource": cs.group(1) if cs else "",
    }


def host_cpu(row, mon, svc, msgs):
    """host CPU per message (us): QEMU (vCPUs, the rest) and the service"""
    m = mon.get(row.get("mark", ""))
    if not m or not msgs:
        return {}
    q, v = m["qemu_cpu_s"], m["qemu_vcpu_cpu_s"]
    s = m["services_cpu_s"].get(svc, 0.0)
    sw = m.get("qemu_switches", 0) + m.get("services_switches", {}).get(svc, 0)
    dev = m.get("device", {})
    return {
        "host_switches_per_msg": sw / msgs,
        # notifications a QEMU thread handled: doorbells relayed (the main
        # loop under KVM, the vCPU thread under TCG), raises (main loop)
        "qemu_doorbells_per_msg": dev["x-doorbells"] / msgs if dev else None,
        "qemu_raises_per_msg": dev["x-raises"] / msgs if dev else None,
        "host_cpu_us_per_msg": (q + s) / msgs * 1e6,
        "qemu_vcpu_us_per_msg": v / msgs * 1e6,
        "qemu_other_us_per_msg": (q - v) / msgs * 1e6,
        "service_us_per_msg": s / msgs * 1e6,
        "service": svc,
        "monitor_wall_s": m["wall_s"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--accel", required=True)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--qemu", default="")
    ap.add_argument("--direct", default="auto",
                    help="the device's x-direct-notify in this run")
    ap.add_argument("--load", action="append", default=[],
                    help="the host's load averages (1, 5, 15 min) before and after the guest run")
    a = ap.parse_args()
    out = a.out
    fl = json.load(open(os.path.join(out, "floor.json")))["results"]
    byname = {r["name"]: r for r in fl}
    rows = []
    for line in open(os.path.join(out, "guest.jsonl"), errors="replace"):
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass  # a line a kernel message broke
    mon = {}
    if os.path.exists(os.path.join(out, "monitor.json")):
        mon = json.load(open(os.path.join(out, "monitor.json")))
    console = open(os.path.join(out, "console.log"), errors="replace").read().replace("\r", "")

    floors = []
    for key, label in (("floor", "host: 2 processes, 1 cache line"),
                       ("ace-poll", "host: 2 processes through ACE (polled)"),
                       ("eventfd", "host: eventfd wake-up (2 processes)")):
        r = byname.get(key)
        if r:
            floors.append(dict(name=label, key="host-" + key, samples=r["samples"],
                               p50=r["p50_ns"] / 1e3, p99=r["p99_ns"] / 1e3,
                               p999=r["p999_ns"] / 1e3))
    lat, thr, rng, touch = [], [], [], []
    for r in rows:
        t = r["tool"]
        if r.get("mark", "").startswith("prof-"):
            continue  # the profiled runs (BENCH_PROFILE=1): not tabulated
        if t == "line-ping":
            pause = r.get("spin") == "pause"
            floors.append(dict(name="guest<->host: 1 cache line in the arena, " +
                               ("PAUSE in the guest's spin loop (as libace)" if pause else
                                "plain spin loops (the floor)"),
                               key="guest-line-pause" if pause else "guest-line",
                               samples=r["samples"], p50=r["p50_us"], p99=r["p99_us"],
                               p999=r["p999_us"]))
            if not pause:
                floors.append(dict(name="guest: two clock_gettime() (in every sample)",
                                   key="guest-clock", samples=r["samples"],
                                   p50=r["clock_p50_us"], p99=r["clock_p99_us"], p999=None))
        elif t in ("ace-ping", "xport-ping"):
            if t == "ace-ping":
                d = dict(transport="ACE", mode=r["mode"], svc=r["to"])
                if r.get("mark", "").endswith("-ioctl"):
                    d["mode"] += ", doorbell by ioctl"  # ACE_BELLS=ioctl
                elif r.get("mark", "").endswith("-pinned"):
                    d["mode"] += ", on the interrupt's CPU"  # taskset, irq affinity
            else:
                d = dict(transport=NAMES[r["transport"]], mode="blocking I/O",
                         svc=ECHO[r["transport"]])
            d.update(size=r["size"], touch=r.get("touch", 0), samples=r["samples"],
                     mean=r.get("mean_us"), p50=r["p50_us"], p99=r["p99_us"], p999=r["p999_us"],
                     min=r["min_us"], max=r["max_us"],
                     guest_cpu_us_per_msg=r.get("cpu_us_per_msg"),
                     irqs_per_msg=r.get("irqs_per_msg"),
                     irqs_all_per_msg=r.get("irqs_all_per_msg"))
            for k in ("ace_interrupts_per_msg", "ace_wakeups_per_msg", "ace_notifies_out_per_msg"):
                if k in r:
                    d[k] = r[k]
            d.update(host_cpu(r, mon, d["svc"], r["samples"]))
            lat.append(d)
        elif t in ("ace-bench", "xport-stream"):
            if t == "ace-bench":
                d = dict(transport="ACE", mode=r["mode"], svc=r["to"])
            else:
                d = dict(transport=NAMES[r["transport"]], mode="blocking I/O",
                         svc=SINK[r["transport"]])
            d.update(senders=r["senders"], size=r["size"], touch=r.get("touch", 0),
                     messages=int(r["messages"]), seconds=r["seconds"],
                     msgs_per_s=r["msgs_per_s"], gbytes_per_s=r["gbytes_per_s"],
                     guest_cpu_us_per_msg=r.get("cpu_us_per_msg"),
                     irqs_per_msg=r.get("irqs_per_msg"),
                     irqs_all_per_msg=r.get("irqs_all_per_msg"),
                     alloc_waits_per_msg=r.get("alloc_waits_per_msg"))
            d.update(host_cpu(r, mon, d["svc"], r["messages"]))
            thr.append(d)
        elif t == "hwrng":
            rng.append(r)
        elif t == "ace-self":
            floors.append(dict(name="guest: alloc, send to itself, receive, free (ACE, no peer)",
                               key="guest-ace-self", samples=r["samples"], p50=r["p50_us"],
                               p99=r["p99_us"], p999=r["p999_us"]))
        elif t == "bell-cost":
            for how, label in (("store", "a store to its doorbell page"),
                               ("ioctl", "ACE_IOC_NOTIFY")):
                floors.append(dict(name=f"guest: ring a host peer's doorbell by {label}",
                                   key="guest-bell-" + how, samples=r["samples"],
                                   p50=r[how + "_p50_us"], p99=r[how + "_p99_us"], p999=None))
        elif t == "touch-cost":
            touch.append(r)

    def fl50(key):
        for f in floors:
            if f["key"] == key:
                return f["p50"]
        return None

    def l50(transport, mode=None, size=64, touch=1):
        for r in lat:
            if (r["transport"] == transport and (mode is None or r["mode"] == mode)
                    and r["size"] == size and r["touch"] == touch):
                return r["p50"]
        return None

    def best_gbs(transport, mode, size, touch=1):
        v = [r["gbytes_per_s"] for r in thr
             if r["transport"] == transport and (mode is None or r["mode"] == mode)
             and r["size"] == size and r["touch"] == touch]
        return max(v) if v else None

    # the targets of issue 6, as ratios from this run
    targets = []

    def target(name, value, limit, better, unit="x"):
        if value is None or limit is None:
            targets.append(dict(target=name, value=None, limit=limit, met=None, note="not measured"))
            return
        met = value <= limit if better == "le" else value >= limit
        if met:
            note = "met"
        elif better == "le":
            note = f"missed: {value / limit:.1f}x over the limit" if limit else "missed"
        else:
            note = f"missed: {limit / value:.1f}x short"
        targets.append(dict(target=name, value=value, limit=limit, met=met, note=note, unit=unit))

    ace64, ace64n = l50("ACE", "poll"), l50("ACE", "poll", touch=0)
    ser64, tcp64 = l50(NAMES["serial"]), l50(NAMES["tcp"])
    irq64 = l50("ACE", "interrupt")
    hf, gf = fl50("host-floor"), fl50("guest-line")
    div = lambda x, y: x / y if x is not None and y else None
    target("ACE polled 64 B round trip / host cache-line floor (<= 3x)", div(ace64, hf), 3, "le")
    target("ACE polled 64 B round trip / guest<->host cache-line floor (<= 3x; same bar, honest floor)",
           div(ace64, gf), 3, "le")
    target("virtio-serial 64 B round trip / ACE polled (>= 200x)", div(ser64, ace64), 200, "ge")
    target("TCP 64 B round trip / ACE polled (>= 200x)", div(tcp64, ace64), 200, "ge")
    target("ACE interrupt 64 B round trip / virtio-serial (<= 0.5x)", div(irq64, ser64), 0.5, "le")

    def l64(transport, mode, key):
        for r in lat:
            if (r["transport"] == transport and r["mode"] == mode and r["size"] == 64
                    and r["touch"] == 1):
                return r.get(key)
        return None

    target("host wake-ups per ACE interrupt-mode 64 B round trip (<= 2.5; issue 14)",
           l64("ACE", "interrupt", "host_switches_per_msg"), 2.5, "le", unit="")
    d, r_ = (l64("ACE", "poll", "qemu_doorbells_per_msg"), l64("ACE", "poll", "qemu_raises_per_msg"))
    target("QEMU relays per ACE polled 64 B round trip (0; issue 14)",
           None if d is None else d + r_, 0, "le", unit="")
    copy64k = max([v for v in (best_gbs(NAMES["serial"], None, 65536), best_gbs(NAMES["tcp"], None, 65536))
                   if v is not None], default=None)
    target("ACE polled 64 KiB throughput / the better of serial and TCP, all writing every byte (>= 10x)",
           div(best_gbs("ACE", "poll", 65536), copy64k), 10, "ge")
    target("ACE polled 64 KiB throughput, first 8 bytes only / the better of serial and TCP (>= 10x)",
           div(best_gbs("ACE", "poll", 65536, 0), copy64k), 10, "ge")
    target("zero copy: ACE polled round trip 1 MiB / 64 B, payload written and checked (<= 2x)",
           div(l50("ACE", "poll", 1048576), ace64), 2, "le")
    target("zero copy: ACE polled round trip 1 MiB / 64 B, first 8 bytes only (<= 2x)",
           div(l50("ACE", "poll", 1048576, 0), ace64n), 2, "le")
    target("copying: virtio-serial round trip 1 MiB / 64 B (grows)",
           div(l50(NAMES["serial"], size=1048576), ser64), 2, "ge")
    target("copying: TCP round trip 1 MiB / 64 B (grows)",
           div(l50(NAMES["tcp"], size=1048576), tcp64), 2, "ge")
    target("TCP 64 B round trip through ace-proxy / over virtio-net (< 1x: the proxy is faster)",
           div(l50(NAMES["proxy"]), tcp64), 1, "le")
    target("TCP 64 KiB throughput, 1 sender, through ace-proxy / over virtio-net (> 1x)",
           div(max([r["gbytes_per_s"] for r in thr if r["transport"] == NAMES["proxy"]
                    and r["size"] == 65536 and r["senders"] == 1], default=None),
               max([r["gbytes_per_s"] for r in thr if r["transport"] == NAMES["tcp"]
                    and r["size"] == 65536 and r["senders"] == 1], default=None)), 1, "ge")
    target("make bench wall time, this run (< 900 s on a fresh machine incl. the QEMU build)",
           float(a.seconds), 900, "le", unit="s")

    # where the polled 64-byte round trip goes, from the floors above
    parts = None
    gp, self_ = fl50("guest-line-pause"), fl50("guest-ace-self")
    if ace64n is not None and gp is not None and self_ is not None:
        parts = dict(round_trip=ace64n, line_floor_pause=gp, guest_ace_work=self_,
                     rest=ace64n - gp - self_)

    md = []
    mach = machine(a.qemu, a.accel, console)
    line = (f"Machine: {mach['cpu']}, {mach['cpus']} CPUs, {mach['memory']} RAM, {mach['os']}, "
            f"host kernel {mach['host_kernel']}; {mach['qemu']}; accelerator {a.accel.upper()}; "
            f"guest kernel {mach['guest_kernel']}, clocksource {mach['guest_clocksource']}.")
    if len(a.load) == 2:
        line += (f" Host load average (1, 5, 15 min) before the guest run {a.load[0]}, after it "
                 f"{a.load[1]} (the bench alone keeps about 2 threads runnable; more means other "
                 f"work shared the CPUs).")
    if a.scale > 1:
        line += f" Sample and message counts divided by {a.scale} (BENCH_SCALE)."
    md.append(line)
    md.append("")
    md.append("Floors (microseconds)")
    md.append("")
    md.append("| floor | samples | p50 | p99 | p99.9 |")
    md.append("| --- | ---: | ---: | ---: | ---: |")
    for f in floors:
        md.append(f"| {f['name']} | {f['samples']:,} | {num(f['p50'], 3)} | {num(f['p99'], 3)} | {num(f['p999'], 3)} |")
    if touch:
        md.append("")
        md.append("What --touch costs in the guest, no transport (p50 us): write every byte, then check "
                  "every byte (round trips), in an arena block and in private memory; write only "
                  "(throughput senders), and the GB/s that allows")
        md.append("")
        md.append("| size | samples | write + check, arena | write + check, private | write only | write-only GB/s |")
        md.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in touch:
            f = r.get("arena_fill_p50_us")
            md.append(f"| {sz(r['size'])} | {r['samples']:,} | {num(r['arena_p50_us'])} "
                      f"| {num(r['private_p50_us'])} | {num(f)} "
                      f"| {num(r['size'] / f / 1e3 if f else None)} |")
    md.append("")
    md.append(f"Round trips, guest -> host echo (microseconds; touch: every payload byte written "
              f"and checked, else the first 8; CPU in us per round trip: the guest program's "
              f"user+sys, and the host's = QEMU + the echo service)")
    md.append("")
    md.append("Host wake-ups/msg: times any thread of QEMU or of the echo service was scheduled "
              "in, per round trip. QEMU relays/msg: notifications a QEMU thread handled for the "
              "ACE device, per round trip: doorbells relayed (d; under KVM in the main loop, "
              "under TCG in the vCPU thread) + raises taken by the main loop (r); 0 + 0 when "
              f"doorbells are direct and the peer polls. Direct doorbells: {a.direct}.")
    md.append("")
    md.append("| transport | mode | size | touch | samples | p50 | p99 | p99.9 | mean | guest irqs/msg | host wake-ups/msg | QEMU relays/msg (d + r) | guest CPU | host CPU |")
    md.append("| --- | --- | ---: | :-: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in lat:
        relays = "-"
        if r.get("qemu_doorbells_per_msg") is not None and r["transport"] == "ACE":
            relays = f"{r['qemu_doorbells_per_msg']:.2f} + {r['qemu_raises_per_msg']:.2f}"
        md.append(f"| {r['transport']} | {r['mode']} | {sz(r['size'])} | {'yes' if r['touch'] else 'no'} "
                  f"| {r['samples']:,} | {num(r['p50'])} | {num(r['p99'])} | {num(r['p999'])} | {num(r.get('mean'))} "
                  f"| {num(r.get('irqs_per_msg'), 3)} | {num(r.get('host_switches_per_msg'))} | {relays} "
                  f"| {num(r.get('guest_cpu_us_per_msg'))} | {num(r.get('host_cpu_us_per_msg'))} |")
    # cross-VM (scripts/bench-xvm.sh): vm1 -> vm2 through ace-bridge, and
    # vm1 -> host under the same two-VM load
    xvm = []
    xp = os.path.join(out, "xvm.jsonl")
    if os.path.exists(xp):
        for line in open(xp, errors="replace"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            xvm.append(dict(path="vm1 -> vm2 (ace-bridge)" if "/" in r["to"] else
                            "vm1 -> host (same 2-VM load)",
                            to=r["to"], mode=r["mode"], size=r["size"], touch=bool(r.get("touch")),
                            samples=r["samples"], p50=r["p50_us"], p99=r["p99_us"],
                            p999=r["p999_us"], mean=r.get("mean_us"),
                            irqs_per_msg=r.get("irqs_all_per_msg"),
                            guest_cpu_us_per_msg=r.get("cpu_us_per_msg")))
    if xvm:
        md.append("")
        md.append("Round trips across VMs (microseconds): a guest in vm1 pings an echo in vm2 "
                  "through ace-bridge (one copy per leg), and, under the same load (two guests, "
                  "the bridge), a host echo through its own device. The bridge runs adaptive "
                  "(BENCH_XVM_SPIN, default 50 us of spin); guest irqs/msg counts all of vm1's "
                  "interrupts.")
        md.append("")
        md.append("| path | to | mode | size | touch | samples | p50 | p99 | p99.9 | mean | guest irqs/msg | guest CPU |")
        md.append("| --- | --- | --- | ---: | :-: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in xvm:
            md.append(f"| {r['path']} | {r['to']} | {r['mode']} | {sz(r['size'])} "
                      f"| {'yes' if r['touch'] else 'no'} | {r['samples']:,} | {num(r['p50'])} "
                      f"| {num(r['p99'])} | {num(r['p999'])} | {num(r['mean'])} "
                      f"| {num(r['irqs_per_msg'], 3)} | {num(r['guest_cpu_us_per_msg'])} |")
    md.append("")
    md.append("Throughput, guest -> host sink (touch: every payload byte written; CPU in us per message; "
              "pool empty: times per message an ACE sender found no free block and yielded)")
    md.append("")
    md.append("| transport | mode | senders | size | touch | messages | msgs/s | GB/s | guest irqs/msg | host wake-ups/msg | guest CPU | host CPU | pool empty/msg |")
    md.append("| --- | --- | ---: | ---: | :-: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in thr:
        md.append(f"| {r['transport']} | {r['mode']} | {r['senders']} | {sz(r['size'])} "
                  f"| {'yes' if r['touch'] else 'no'} | {r['messages']:,} "
                  f"| {r['msgs_per_s']:,.0f} | {r['gbytes_per_s']:.4f} | {num(r.get('irqs_per_msg'), 3)} "
                  f"| {num(r.get('host_switches_per_msg'))} "
                  f"| {num(r.get('guest_cpu_us_per_msg'))} | {num(r.get('host_cpu_us_per_msg'))} "
                  f"| {num(r.get('alloc_waits_per_msg'))} |")
    md.append("")
    md.append("Targets (issue 6), ratios of p50 round trips and of GB/s from this run")
    md.append("")
    md.append("| target | measured | result |")
    md.append("| --- | ---: | --- |")
    for t in targets:
        v = "-" if t["value"] is None else (f"{t['value']:.0f} s" if t.get("unit") == "s"
                                            else f"{t['value']:.2f}{t.get('unit', 'x')}")
        md.append(f"| {t['target']} | {v} | {t['note']} |")
    if parts:
        md.append("")
        md.append(f"Where the ACE polled 64 B round trip goes (p50, first 8 bytes only): "
                  f"{parts['round_trip']:.2f} us, against the guest<->host cache-line floor with "
                  f"PAUSE {parts['line_floor_pause']:.2f} us plus the guest's ACE work alone "
                  f"(alloc, send, receive, free; no peer) {parts['guest_ace_work']:.2f} us = "
                  f"{parts['line_floor_pause'] + parts['guest_ace_work']:.2f} us.")
    if rng:
        md.append("")
        md.append("Hardware RNG throughput in the guest (4 KiB reads of /dev/hwrng)")
        md.append("")
        md.append("| rng | bytes | seconds | MB/s |")
        md.append("| --- | ---: | ---: | ---: |")
        for r in rng:
            md.append(f"| {r['rng']} | {r['bytes']:,} | {r['seconds']:.3f} | {r['mb_per_s']:.2f} |")
    md.append("")
    text = "\n".join(md)
    open(os.path.join(out, "results.md"), "w").write(text)
    mach["load_before_after"] = a.load
    json.dump({"machine": mach, "accel": a.accel, "scale": a.scale, "seconds": a.seconds,
               "direct_notify": a.direct,
               "floors": floors, "touch_cost": touch, "latency": lat, "throughput": thr, "hwrng": rng,
               "targets": targets, "breakdown_ace_poll_64": parts, "cross_vm": xvm},
              open(os.path.join(out, "results.json"), "w"), indent=1)

    # gnuplot inputs: one block per series ("size value"), title first
    def blocks(path, series):
        with open(path, "w") as d:
            d.write("\n\n".join(f'"{k}"\n' + "".join(f"{s} {v}\n" for s, v in sorted(pts))
                                for k, pts in series.items() if pts))

    ls = {}
    for r in lat:
        if ", " in r["mode"]:
            continue  # variants at one size: in the table, not the plot
        key = (f"ACE {r['mode']}" if r["transport"] == "ACE" else r["transport"].split(" (")[0])
        if not r["touch"]:
            key += " (first 8 bytes only)"
        ls.setdefault(key, []).append((r["size"], r["p50"]))
    if touch:
        ls["write + check alone, no transport"] = [(r["size"], r["arena_p50_us"]) for r in touch]
    blocks(os.path.join(out, "latency.dat"), ls)
    for p in (1, 4):
        ts = {}
        for r in thr:
            if r["senders"] != p:
                continue
            key = f"ACE {r['mode']}" if r["transport"] == "ACE" else r["transport"].split(" (")[0]
            key += f", {p} sender{'s' if p > 1 else ''}"
            if not r["touch"]:
                key += ", first 8 bytes only"
            ts.setdefault(key, []).append((r["size"], r["gbytes_per_s"]))
        # the same transports at the same index in both files (same colours),
        # the first-8-bytes series last
        ts = dict(sorted(ts.items(), key=lambda kv: "first 8" in kv[0]))
        blocks(os.path.join(out, f"throughput{p}.dat"), ts)
    with open(os.path.join(out, "floors.gp"), "w") as f:
        f.write(f"hfloor = {hf or 0}\ngfloor = {gf or 0}\n")
    print(text)


if __name__ == "__main__":
    main()
