#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
"""evil_dev - a hostile virtio-ace device on the peer socket (no QEMU).

    evil_dev.py SOCK IMAGE SCENARIO

Accepts peers until killed and does SCENARIO to each:
  good        HELLO and the arena, then stays quiet (a well-behaved device)
  stall       half a HELLO, then nothing
  stall-later HELLO and the arena, then half a message, then nothing
  pipe        a pipe where the kick eventfd belongs
  socket      a socket where the raise eventfd belongs
  nofds       HELLO without its fds
  magic       garbage instead of a message
  huge        a header announcing a 1 GiB body
  short       the arena announced longer than its fd
  unsealed    the arena in a memfd not sealed against shrinking
  badhdr      the arena with a class libace refuses
  refuse      the arena, then (0.3 s later) a refused one
  detach      the arena, then DETACH and a smaller, refused one
  storm       the arena, then 20000 messages of unknown types and BROKEN
              notices, then the connection closed
  close       HELLO and the arena, then (0.2 s later) the connection closed
IMAGE is a formatted arena (test_contract --image).
"""
import array, os, socket, struct, sys, threading, time

MAGIC = 0x50454341
HELLO, ARENA, DETACH, BROKEN = 1, 2, 3, 5
ABI = (2 << 16) | 0
F_ADD_SEALS, F_SEAL_SHRINK, F_SEAL_GROW = 1033, 2, 4


def msg(t, body=b""):
    return struct.pack("<IIII", MAGIC, t, len(body), 0) + body


def send(s, data, fds=()):
    if fds:
        socket.send_fds(s, [data], list(fds))
    else:
        s.sendall(data)


def arena_fd(image, sealed=True, cut=0):
    data = open(image, "rb").read()
    fd = os.memfd_create("evil-arena", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, data[:len(data) - cut])
    if sealed:
        import fcntl
        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)
    return fd, len(data)


def hello(s, kick=None, raise_=None, fds=True):
    k = kick if kick is not None else os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    r = raise_ if raise_ is not None else os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
    body = struct.pack("<IIII", ABI, 0, 4, 1000000)
    send(s, msg(HELLO, body), (k, r) if fds else ())
    return [k, r]


def arena(s, image, size=None, **kw):
    fd, n = arena_fd(image, **kw)
    send(s, msg(ARENA, struct.pack("<IIQ", size or n, size or n, 1)), (fd,))
    return fd


def serve(s, image, sc):
    keep = []
    if sc == "stall":
        s.sendall(msg(HELLO, struct.pack("<IIII", ABI, 0, 4, 0))[:20])
        time.sleep(3600)
    if sc == "pipe":
        r, w = os.pipe()
        keep += [r, w] + hello(s, kick=r)
    elif sc == "socket":
        a, b = socket.socketpair()
        keep += [a, b] + hello(s, raise_=a.fileno())
    elif sc == "nofds":
        hello(s, fds=False)
    elif sc == "magic":
        s.sendall(b"\xde\xad\xbe\xef" * 64)
    elif sc == "huge":
        s.sendall(struct.pack("<IIII", MAGIC, ARENA, 1 << 30, 0))
    else:
        keep += hello(s)
    if sc in ("good", "stall-later", "refuse", "detach", "storm", "close"):
        keep.append(arena(s, image))
    elif sc == "short":
        keep.append(arena(s, image, cut=64 * 1024))
    elif sc == "unsealed":
        keep.append(arena(s, image, sealed=False))
    elif sc == "badhdr":
        fd, n = arena_fd(image)
        os.pwrite(fd, struct.pack("<I", 300), bad_class_offset())
        send(s, msg(ARENA, struct.pack("<IIQ", n, n, 1)), (fd,))
        keep.append(fd)
    if sc == "stall-later":
        time.sleep(0.3)
        s.sendall(struct.pack("<IIII", MAGIC, ARENA, 16, 0) + b"abc")
    elif sc in ("refuse", "detach"):
        time.sleep(0.3)
        if sc == "detach":
            s.sendall(msg(DETACH))
        fd, n = arena_fd(image)
        os.pwrite(fd, struct.pack("<I", 300), bad_class_offset())
        send(s, msg(ARENA, struct.pack("<IIQ", n, n, 2)), (fd,))
        keep.append(fd)
    elif sc == "storm":
        junk = msg(77, b"x" * 8) + msg(BROKEN, b"\xff" * 12)
        try:
            for _ in range(10000):
                s.sendall(junk)
        except OSError:
            pass
    if sc == "close":
        time.sleep(0.2)     # the peer has opened; now it goes
    if sc in ("storm", "close"):
        s.close()
    else:
        time.sleep(3600)
    for fd in keep:
        try:
            os.close(fd)
        except OSError:
            pass


def bad_class_offset():
    # struct ace_arena_hdr (shared/ace_abi.h): classes[] at 0x040, 16
    # bytes each, block_size first: classes[1].block_size
    return 0x40 + 16


def main():
    path, image, sc = sys.argv[1:4]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(16)
    print("evil_dev: %s: %s" % (path, sc), flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s, image, sc), daemon=True).start()


if __name__ == "__main__":
    main()
