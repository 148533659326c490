#!/usr/bin/env python3
"""Rewrite one field of the virtio-ace device's state in a saved VM (the
file of a `migrate "exec:cat > FILE"`), for tests of what the device
accepts at load.

  ace_state.py IN OUT peers-up VALUE [PEERS MPROCS]

sets peers_up_saved, the field just before nr_peers_saved and
max_mprocs_saved (PEERS, MPROCS: the device's properties, default 8 and
1024), in the section whose idstr ends in "/virtio-ace".  Exits 1 when
the field is not found exactly once.
"""
import re
import struct
import sys


def main():
    src, dst, field, value = sys.argv[1:5]
    peers = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    mprocs = int(sys.argv[6]) if len(sys.argv) > 6 else 1024
    if field != "peers-up":
        raise SystemExit("ace_state.py: unknown field %s" % field)
    data = bytearray(open(src, "rb").read())
    # a section header: ... idstr, instance_id 0, version_id 1 (big-endian)
    heads = [m.end() for m in
             re.finditer(rb"/virtio-ace\x00\x00\x00\x00\x00\x00\x00\x01", data)]
    if len(heads) != 1:
        raise SystemExit("ace_state.py: %d virtio-ace sections" % len(heads))
    tail = struct.pack(">II", peers, mprocs)
    area = bytes(data[heads[0]:heads[0] + 65536])
    hits = [m.start() for m in re.finditer(re.escape(tail), area)]
    if len(hits) != 1 or hits[0] < 4:
        raise SystemExit("ace_state.py: nr_peers/max_mprocs found %d times"
                         % len(hits))
    at = heads[0] + hits[0] - 4
    old = struct.unpack(">I", data[at:at + 4])[0]
    data[at:at + 4] = struct.pack(">I", int(value, 0))
    open(dst, "wb").write(data)
    print("ace_state.py: peers_up_saved %#x -> %#x at offset %d"
          % (old, int(value, 0), at))


main()
