#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR MIT)
"""evil_dev - a hostile virtio-ace device on the peer socket (no QEMU).

    evil_dev.py [--hello KIND] [--small IMAGE2] [--wait SECS] IMAGE SCENARIO:SOCK...

Listens on each SOCK until killed and does its SCENARIO to every peer
that connects there:
  good        HELLO and the arena, then stays quiet (a well-behaved device)
  stall       half a HELLO, then nothing
  stall-later HELLO and the arena, then (*) half a message, then nothing
  pipe        a pipe where the kick fd belongs, then the arena
  socket      a datagram socket where the raise fd belongs, then the arena
  other       the raise fd of the other ABI (2.1: an eventfd; 2.0: a stream
              socket), then the arena
  nofds       HELLO without its fds
  magic       garbage instead of a message
  huge        a header announcing a 1 GiB body
  short       the arena announced at its full size, its (sealed) fd cut to
              the header: the mproc table, the descriptors and every block
              lie past the end of the fd, so a peer that maps it anyway
              takes SIGBUS at its first use
  unsealed    the arena in a memfd not sealed against shrinking; (*) it is
              cut to the header under the peer
  badhdr      the arena with a class libace refuses
  refuse      the arena, then (*) a refused one
  detach      the arena, then (*) DETACH and a smaller, valid arena
              (IMAGE2); checks that the peer acknowledges the DETACH, never
              touches the old arena after that, and writes into the new one
              only the mproc slots it claims there (a service that outlives
              its guest makes its mproc again: ACE_PERSIST), never through
              an old handle
  storm       the arena, then (*) 9000 messages of unknown types and BROKEN
              notices (malformed, or for another generation), then the
              connection closed
  close       HELLO and the arena, then (*) the connection closed
  bell        HELLO offering a direct doorbell (ABI 2.2), the eventfd for
              it when asked, then the arena (a well-behaved 2.2 device)
  bellpipe    HELLO offering a direct doorbell, a pipe for it when asked
  bellfds     HELLO offering a direct doorbell, two eventfds when asked
  bellunasked HELLO offering none, then a BELL (an eventfd) all the same
  bellmute    HELLO offering a direct doorbell, no answer when asked
(*): once the peer has claimed an mproc in the arena (it is serving), or
after --wait seconds (default 1) if it claims none.

KIND is the HELLO a well-behaved device sends: 2.1 (default: the kick and
raise fds are AF_UNIX stream socket pairs), 2.0 (eventfds), or KICK,RAISE
with each of socket or eventfd.  IMAGE is a formatted arena (test_contract
--image).  Each connection logs "evil_dev: SCENARIO peer N: done" when it
is over, after "evil_dev: FAIL SCENARIO peer N: ..." for each check the
peer failed.
"""
import argparse, fcntl, hashlib, itertools, mmap, os, socket, struct, \
    threading, time

MAGIC = 0x50454341
HELLO, ARENA, DETACH, FULL, BROKEN, DETACHED = 1, 2, 3, 4, 5, 6
BELL_REQ, BELL = 7, 8
F_BELL = 1                      # ACE_HELLO_F_BELL
F_ADD_SEALS, F_SEAL_SHRINK, F_SEAL_GROW = 1033, 2, 4
HDR = 4096                      # ACE_HDR_SIZE: the arena header
SLOT_FREE = 0                   # ACE_SLOT_FREE
SLOT_ACTIVE = 2                 # ACE_SLOT_ACTIVE
SIDE_HOST = 3                   # ACE_SIDE_HOST (a side's low byte)
WHY_MAX = 96                    # ACE_WHY_MAX

SCENARIOS = ("good stall stall-later pipe socket other nofds magic huge short "
             "unsealed badhdr refuse detach storm close bell bellpipe bellfds "
             "bellunasked bellmute").split()
args = None
log_lock = threading.Lock()


def log(*what):
    with log_lock:
        print("evil_dev:", *what, flush=True)


def msg(t, body=b""):
    return struct.pack("<IIII", MAGIC, t, len(body), 0) + body


def send(s, data, fds=()):
    if fds:
        socket.send_fds(s, [data], list(fds))
    else:
        s.sendall(data)


def arena_fd(image, sealed=True, keep=None):
    """A memfd holding IMAGE (its first `keep` bytes only, if given)."""
    data = open(image, "rb").read()
    fd = os.memfd_create("evil-arena", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.write(fd, data if keep is None else data[:keep])
    if sealed:
        fcntl.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)
    return fd, len(data)


def send_arena(s, fd, size, gen):
    send(s, msg(ARENA, struct.pack("<IIQ", size, size, gen)), (fd,))


def hello_kinds():
    k = {"2.1": "socket,socket", "2.0": "eventfd,eventfd"}.get(args.hello, args.hello)
    kick, raise_ = k.split(",")
    assert kick in ("socket", "eventfd") and raise_ in ("socket", "eventfd"), k
    return kick, raise_


def good_fd(kind, role, keep):
    """The fd a well-behaved device passes as `role` (kick: the device
    writes, the peer reads; raise: the other way); what the device keeps
    goes to `keep`."""
    if kind == "eventfd":
        fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        keep.append(fd)
        return fd
    mine, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    mine.shutdown(socket.SHUT_RD if role == "kick" else socket.SHUT_WR)
    peer.shutdown(socket.SHUT_WR if role == "kick" else socket.SHUT_RD)
    keep += [mine, peer]
    return peer.fileno()


def hello(s, keep, kick=None, raise_=None, fds=True, features=None):
    kk, rk = hello_kinds()
    minor = 1 if "socket" in (kk, rk) else 0
    k = kick if kick is not None else good_fd(kk, "kick", keep)
    r = raise_ if raise_ is not None else good_fd(rk, "raise", keep)
    body = struct.pack("<IIII", (2 << 16) | minor, 0, 4, 1000000)
    if features is not None:    # ABI 2.2
        body = struct.pack("<IIIII", (2 << 16) | 2, 0, 4, 1000000, features)
    send(s, msg(HELLO, body), (k, r) if fds else ())


def bell_req(s, fails):
    """Wait (at most 5 s) for the peer's BELL_REQ; True if it came."""
    s.settimeout(5)
    try:
        h = b""
        while len(h) < 16:
            got = s.recv(16 - len(h))
            if not got:
                break
            h += got
    except OSError:
        pass
    s.settimeout(None)
    if len(h) == 16 and struct.unpack("<IIII", h)[:3] == (MAGIC, BELL_REQ, 0):
        return True
    fails.append("no BELL_REQ after a HELLO offering a direct doorbell (%r)" % h)
    return False


def geometry(image):
    """nr_mprocs, mproc_off, mproc_size of a formatted arena"""
    with open(image, "rb") as f:
        return struct.unpack_from("<III", f.read(0x1c), 0x10)


def claimed(fd, image, secs):
    """Wait until the peer has claimed an mproc in the arena in fd (it is
    past its open and serving), at most secs; True if it did."""
    nr, off, size = geometry(image)
    m = mmap.mmap(fd, off + nr * size)
    try:
        end = time.monotonic() + secs
        while time.monotonic() < end:
            for i in range(nr):
                state, = struct.unpack_from("<I", m, off + i * size + 8)
                if state & 0xf == SLOT_ACTIVE:
                    return True
            time.sleep(0.01)
        return False
    finally:
        m.close()


def digest(fd):
    return hashlib.sha256(os.pread(fd, os.fstat(fd).st_size, 0)).digest()


def drain(s, secs):
    """Read (and drop) what the peer sends until it closes, at most secs."""
    s.settimeout(secs)
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass


def serve(s, n, sc):
    keep = []
    fails = []
    try:
        serve_one(s, n, sc, keep, fails)
    except OSError as e:
        log("%s peer %d: %s" % (sc, n, e))  # the peer left first: not a check
    for f in fails:
        log("FAIL %s peer %d: %s" % (sc, n, f))
    for x in keep:
        try:
            x.close() if isinstance(x, socket.socket) else os.close(x)
        except OSError:
            pass
    try:
        s.close()
    except OSError:
        pass
    log("%s peer %d: done" % (sc, n))


def serve_one(s, n, sc, keep, fails):
    image = args.image
    if sc == "stall":
        s.sendall(msg(HELLO, struct.pack("<IIII", 2 << 16, 0, 4, 0))[:20])
        drain(s, 3600)
        return
    if sc == "pipe":
        r, w = os.pipe()
        keep += [r, w]
        hello(s, keep, kick=r)
    elif sc == "socket":
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        keep += [a, b]
        hello(s, keep, raise_=a.fileno())
    elif sc == "other":
        _, rk = hello_kinds()
        hello(s, keep, raise_=good_fd("eventfd" if rk == "socket" else "socket",
                                      "raise", keep))
    elif sc == "nofds":
        hello(s, keep, fds=False)
    elif sc in ("bell", "bellpipe", "bellfds", "bellmute"):
        hello(s, keep, features=F_BELL)
        if bell_req(s, fails) and sc != "bellmute":
            e = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            keep.append(e)
            if sc == "bellpipe":
                r, w = os.pipe()
                keep += [r, w]
                send(s, msg(BELL), (r,))
            elif sc == "bellfds":
                e2 = os.eventfd(0, os.EFD_CLOEXEC)
                keep.append(e2)
                send(s, msg(BELL), (e, e2))
            else:
                send(s, msg(BELL), (e,))
                os.eventfd_write(e, 3)      # three doorbells rung already
    elif sc == "bellunasked":
        hello(s, keep, features=0)
        e = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        keep.append(e)
        send(s, msg(BELL), (e,))
    elif sc == "magic":
        s.sendall(b"\xde\xad\xbe\xef" * 64)
    elif sc == "huge":
        s.sendall(struct.pack("<IIII", MAGIC, ARENA, 1 << 30, 0))
    else:
        hello(s, keep)
    fd = None
    if sc in ("good", "stall-later", "refuse", "detach", "storm", "close",
              "pipe", "socket", "other", "bell", "bellpipe", "bellfds",
              "bellunasked", "bellmute"):
        # after a bad HELLO too: a peer that took it would go on
        fd, size = arena_fd(image)
    elif sc == "short":
        fd, size = arena_fd(image, keep=HDR)
    elif sc == "unsealed":
        fd, size = arena_fd(image, sealed=False)
    elif sc == "badhdr":
        fd, size = arena_fd(image)
        os.pwrite(fd, struct.pack("<I", 300), bad_class_offset())
    if fd is not None:
        keep.append(fd)
        send_arena(s, fd, size, 1)
    if sc in ("stall-later", "refuse", "detach", "storm", "close", "unsealed"):
        serving = claimed(fd, image, args.wait)
    if sc == "stall-later":
        s.sendall(struct.pack("<IIII", MAGIC, ARENA, 16, 0) + b"abc")
    elif sc == "unsealed":
        os.ftruncate(fd, HDR)   # what an unsealed region allows
    elif sc == "refuse":
        bad, size = arena_fd(image)
        keep.append(bad)
        os.pwrite(bad, struct.pack("<I", 300), bad_class_offset())
        send_arena(s, bad, size, 2)
    elif sc == "detach":
        new, size = arena_fd(args.small)
        keep.append(new)
        fresh = os.pread(new, size, 0)
        s.sendall(msg(DETACH))
        try:
            send_arena(s, new, size, 2)
        except OSError:
            pass        # a peer may leave at the DETACH already
        if serving:
            check_detach(s, fd, new, fresh, fails)
            return
    elif sc == "storm":
        junk = (msg(77, b"x" * 8) + msg(BROKEN, b"\xff" * 12) +
                msg(BROKEN, struct.pack("<QII", 99, 0xbad, 1) +
                    b"stale generation".ljust(WHY_MAX, b"\0")))
        for _ in range(3000):
            s.sendall(junk)
    if sc in ("storm", "close"):
        s.close()
        return
    drain(s, 3600)


def check_detach(s, old, new, fresh, fails):
    """The peer was serving when DETACH went out: it must answer DETACHED,
    leave the old arena alone from then on, and write nothing into the
    new one (nothing is made in it)."""
    got, buf, acked = [], b"", None
    s.settimeout(30)
    while True:
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if not d:
            break
        buf += d
        while len(buf) >= 16:
            magic, t, ln, _ = struct.unpack_from("<IIII", buf)
            if magic != MAGIC or len(buf) < 16 + ln:
                break
            got.append(t)
            buf = buf[16 + ln:]
            if t == DETACHED and acked is None:
                acked = digest(old)
    if acked is None:
        fails.append("no DETACHED after DETACH (messages: %s)" % got)
    elif digest(old) != acked:
        fails.append("the old arena was written after DETACHED")
    made = new_arena_writes(new, fresh, fails)
    log("detach: checked a serving peer (messages: %s; mprocs made in the "
        "new arena: %s)" % (got, made))


def new_arena_writes(fd, fresh, fails):
    """What the peer wrote into the new arena: only slots it claimed
    there (side a host peer's, a printable name; active, or released
    since: the check runs once the peer is gone) may differ from the
    fresh image; anything else is a write through an old handle.
    Returns the names of the mprocs made."""
    now = os.pread(fd, len(fresh), 0)
    nr, off, size = struct.unpack_from("<III", fresh, 0x10)
    made, mask = [], bytearray(len(fresh))
    for i in range(nr):
        a = off + i * size
        if now[a:a + size] == fresh[a:a + size]:
            continue
        state, side = struct.unpack_from("<II", now, a + 8)
        name = now[a + 0x40:a + 0x70].split(b"\0")[0]
        if (state & 0xf not in (SLOT_FREE, SLOT_ACTIVE) or
                side & 0xff != SIDE_HOST or not name or
                not all(0x20 <= c < 0x7f for c in name)):
            fails.append("the new arena's slot %d was written, not claimed "
                         "(state 0x%x, side 0x%x)" % (i, state, side))
        made.append(name.decode("ascii", "replace"))
        mask[a:a + size] = b"\1" * size
    for a in range(0, len(fresh), 4096):
        if now[a:a + 4096] != fresh[a:a + 4096] and not all(mask[a:a + 4096]):
            diff = [k for k in range(a, a + 4096)
                    if now[k] != fresh[k] and not mask[k]]
            if diff:
                fails.append("the new arena was written through an old "
                             "handle (offset 0x%x)" % diff[0])
                break
    return made


def bad_class_offset():
    # struct ace_arena_hdr (shared/ace_abi.h): classes[] at 0x040, 16
    # bytes each, block_size first: classes[1].block_size
    return 0x40 + 16


def listen(ls, sc):
    for n in itertools.count():
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s, n, sc), daemon=True).start()


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--hello", default="2.1")
    p.add_argument("--small")
    p.add_argument("--wait", type=float, default=1.0)
    p.add_argument("image")
    p.add_argument("where", nargs="+", metavar="SCENARIO:SOCK")
    args = p.parse_args()
    hello_kinds()
    listeners = []
    for w in args.where:
        sc, path = w.split(":", 1)
        if sc not in SCENARIOS:
            p.error("no scenario " + sc)
        if sc == "detach" and not args.small:
            p.error("detach needs --small IMAGE2")
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(path)
        ls.listen(16)
        listeners.append(threading.Thread(target=listen, args=(ls, sc), daemon=True))
    for t in listeners:
        t.start()
    log("listening: HELLO %s, %s" % (args.hello, " ".join(args.where)))
    for t in listeners:
        t.join()


if __name__ == "__main__":
    main()
