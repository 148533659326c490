/*
 * virtio-ace: host peers.  Each connects on the device's UNIX socket (or
 * is the one behind chardev=), gets HELLO with its kick and raise socket
 * pairs (and, if it asks and the device may, its doorbell's eventfd), the
 * arena region's fd, and DETACH/BROKEN notices; output to it never
 * blocks.  When it goes, its mprocs are closed and their blocks
 * reclaimed in slices.  See virtio-ace.c and docs/device.md, section 9.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/sockets.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio-ace.h"
#include "hw/virtio/virtio-bus.h"
#include "sysemu/kvm.h"
#include "sysemu/runstate.h"
#include "trace.h"
#include "virtio-ace-internal.h"

/*
 * Direct doorbells (ABI 2.2).  A peer that asks (ACE_PEER_BELL_REQ) is
 * given an eventfd of its own that the transport assigns to its doorbell
 * queue's notify address, as vhost does with a queue's host notifier:
 *   - under KVM, KVM's ioeventfd signals it: a guest doorbell wakes the
 *     peer with no QEMU thread on the way, and the kernel never blocks
 *     on a peer's file;
 *   - under TCG, the memory core signals it (event_notifier_set) in the
 *     vCPU thread that rang, with the BQL held.  The peer holds that
 *     very file: one that fills its counter and clears O_NONBLOCK makes
 *     that write() wait for ever, and the VM with it.  So under TCG the
 *     device offers direct doorbells only with x-direct-notify=on, for
 *     peers that are trusted (tests, benchmarks).
 * The eventfd is the device's own, not the queue's host notifier, so no
 * generic virtio code ever reads it; the device only assigns it, and at
 * the end unassigns and closes it, never reading or writing it.  While
 * any peer holds one, the queues' own ioeventfds are off (as vhost grabs
 * them): under KVM two eventfds cannot share one address, and the
 * control and event queues then notify through the vCPU thread.
 */
static bool virtio_ace_bells_allowed(VirtIOAce *s)
{
    BusState *qbus = qdev_get_parent_bus(DEVICE(s));

    if (!qbus || !VIRTIO_BUS_GET_CLASS(qbus)->ioeventfd_assign) {
        return false;
    }
    switch (s->direct_notify) {
    case ON_OFF_AUTO_ON:
        return true;
    case ON_OFF_AUTO_OFF:
        return false;
    default:
        return kvm_enabled() && kvm_eventfds_enabled();
    }
}

static int virtio_ace_bell_assign(VirtIOAcePeer *p, bool on)
{
    BusState *qbus = qdev_get_parent_bus(DEVICE(p->dev));

    return VIRTIO_BUS_GET_CLASS(qbus)->ioeventfd_assign(
        qbus->parent, &p->bell_notifier, ACE_VQ_DOORBELL0 + p->index, on);
}

/* Peer p asked for its doorbell's notifier. */
static void virtio_ace_peer_bell(VirtIOAcePeer *p)
{
    VirtIOAce *s = p->dev;
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    int fd;

    if (p->bell || !virtio_ace_bells_allowed(s)) {
        /* not offered (HELLO said so), or given already: ignored */
        return;
    }
    if (!s->nr_bells) {
        if (virtio_device_grab_ioeventfd(vdev) < 0) {
            return;
        }
        s->bells_grabbed = true;
    }
    if (event_notifier_init(&p->bell_notifier, 0) < 0 ||
        (virtio_ace_bell_assign(p, true) < 0 &&
         (event_notifier_cleanup(&p->bell_notifier), true))) {
        warn_report("virtio-ace: peer %d: no direct doorbell (eventfd); its "
                    "doorbells are relayed", p->index);
        if (!s->nr_bells) {
            virtio_device_release_ioeventfd(vdev);
            s->bells_grabbed = false;
        }
        /* a BELL without an fd: "relayed after all" */
        virtio_ace_peer_send(p, ACE_PEER_BELL, NULL, 0, NULL, 0);
        return;
    }
    p->bell = true;
    s->nr_bells++;
    s->stat_bells++;
    fd = event_notifier_get_fd(&p->bell_notifier);
    trace_virtio_ace_bell(p->index, kvm_enabled());
    virtio_ace_peer_send(p, ACE_PEER_BELL, NULL, 0, &fd, 1);
}

/* Take peer p's direct doorbell back: unassigned, closed, never read
 * (the peer may have made it blocking). */
static void virtio_ace_bell_off(VirtIOAcePeer *p)
{
    VirtIOAce *s = p->dev;

    if (!p->bell) {
        return;
    }
    virtio_ace_bell_assign(p, false);
    event_notifier_cleanup(&p->bell_notifier);
    p->bell = false;
    if (!--s->nr_bells && s->bells_grabbed) {
        virtio_device_release_ioeventfd(VIRTIO_DEVICE(s));
        s->bells_grabbed = false;
    }
}

/* ------------------------------------------------------------------ */
/* Host peers                                                         */
/* ------------------------------------------------------------------ */

/*
 * Output to a peer never blocks.  Every message goes through the peer's
 * queue: what its connection takes at once is written, the rest waits
 * for a G_IO_OUT watch, in order, so one message is never interleaved
 * with another.  A socket peer is written with sendmsg(MSG_DONTWAIT); the
 * peer behind chardev= with qemu_chr_fe_write() (the chardev's channel is
 * non-blocking), its fds set with qemu_chr_fe_set_msgfds() just before
 * the first byte of their message.  A peer that lets more than
 * ACE_PEER_OUT_MAX messages pile up does not read: it is dropped (from a
 * bottom half, as senders run inside loops over the peers; the chardev
 * is disconnected too).
 */
#define ACE_PEER_OUT_MAX    64

typedef struct VirtIOAceOut {
    size_t len, off;            /* off > 0: the fds went with byte 0 */
    int nfds;
    int fds[2];
    uint8_t buf[];
} VirtIOAceOut;

/*
 * End the chardev's current connection, from drop_bh: never from here,
 * as the caller may be inside the chardev (a CLOSED event holds its
 * write lock, which a disconnect takes again).  Asked for by whoever
 * takes the chardev peer down while its connection stays (a drop, a
 * HELLO that could not be sent, peers started over after a migration
 * that did not finish), which peer_down() alone would strand: up to the
 * device no more, and never told.  A connection made meanwhile is left
 * alone.
 */
void virtio_ace_chr_hangup(VirtIOAce *s)
{
    s->chr_hangup = s->chr_conn + 1;
    qemu_bh_schedule(s->drop_bh);
}

static void virtio_ace_peer_drop(VirtIOAcePeer *p, const char *why)
{
    /* a chardev peer may be down already: its chardev closed inside a
     * failed write */
    if (p->up && !p->drop) {
        warn_report("virtio-ace: peer %d %s; dropping it", p->index, why);
        p->drop = true;
        qemu_bh_schedule(p->dev->drop_bh);
        if (p->is_chardev) {
            virtio_ace_chr_hangup(p->dev);
        }
    }
}

/* Write o (the head of p's queue) to p's socket: what it took, or -1. */
static ssize_t virtio_ace_sock_write(VirtIOAcePeer *p, VirtIOAceOut *o)
{
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } cm;
    struct iovec iov = { .iov_base = o->buf + o->off,
                         .iov_len = o->len - o->off };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (o->nfds && !o->off) {
        struct cmsghdr *c;

        memset(&cm, 0, sizeof(cm));
        mh.msg_control = cm.buf;
        mh.msg_controllen = CMSG_SPACE(o->nfds * sizeof(int));
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(o->nfds * sizeof(int));
        memcpy(CMSG_DATA(c), o->fds, o->nfds * sizeof(int));
    }
    do {
        n = sendmsg(p->sioc->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

/*
 * Write o to the chardev: what it took, or -1.  The fds go with byte 0
 * alone, written by itself: QEMU 7.2's char-socket passes the fds it was
 * given to every sendmsg() of one write (io_channel_send_full() loops
 * after a partial one), so a message the socket took in two parts would
 * carry them twice; one byte goes whole or not at all.  On EAGAIN the
 * chardev keeps the fds for its next write: they are cleared, and set
 * again when the byte is.  A failed write may have closed the chardev,
 * and with it this peer (CHR_EVENT_CLOSED): o is then freed.
 */
static ssize_t virtio_ace_chr_write(VirtIOAcePeer *p, VirtIOAceOut *o,
                                    const char **why)
{
    CharBackend *be = &p->dev->chr;
    int n, err;

    if (!o->nfds || o->off) {
        return qemu_chr_fe_write(be, o->buf + o->off, o->len - o->off);
    }
    if (qemu_chr_fe_set_msgfds(be, o->fds, o->nfds) < 0) {
        *why = "cannot be passed fds over its chardev (not a UNIX socket?)";
        errno = EINVAL;
        return -1;
    }
    n = qemu_chr_fe_write(be, o->buf, 1);
    if (n < 0 && errno == EAGAIN) {
        err = errno;
        qemu_chr_fe_set_msgfds(be, NULL, 0);
        errno = err;
    }
    return n;
}

/* Write what is queued for p: NULL, or why its connection failed. */
static const char *virtio_ace_peer_flush(VirtIOAcePeer *p)
{
    const char *why = "closed its connection";
    VirtIOAceOut *o;

    while ((o = g_queue_peek_head(&p->out))) {
        ssize_t n = p->is_chardev ? virtio_ace_chr_write(p, o, &why)
                                  : virtio_ace_sock_write(p, o);

        if (n < 0) {
            return p->up && (errno == EAGAIN || errno == EWOULDBLOCK) ?
                   NULL : why;
        }
        if (!n) {
            return NULL;        /* a chardev that takes nothing now */
        }
        o->off += n;
        if (o->off < o->len) {
            continue;
        }
        g_queue_pop_head(&p->out);
        g_free(o);
    }
    return NULL;
}

/* p's connection can take more (cond: what its watch saw). */
static gboolean virtio_ace_peer_out_ready(VirtIOAcePeer *p, GIOCondition cond)
{
    const char *why = virtio_ace_peer_flush(p);

    if (!why && (cond & G_IO_HUP) && !g_queue_is_empty(&p->out)) {
        why = "closed its connection";
    }
    if (why || g_queue_is_empty(&p->out)) {
        p->out_watch = 0;
        if (why) {
            virtio_ace_peer_drop(p, why);
        }
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean virtio_ace_sock_out_io(QIOChannel *ioc, GIOCondition cond,
                                       gpointer opaque)
{
    return virtio_ace_peer_out_ready(opaque, cond);
}

static gboolean virtio_ace_chr_out_io(void *do_not_use, GIOCondition cond,
                                      void *opaque)
{
    return virtio_ace_peer_out_ready(opaque, cond);
}

static void virtio_ace_peer_out_clear(VirtIOAcePeer *p)
{
    if (p->out_watch) {
        g_source_remove(p->out_watch);
        p->out_watch = 0;
    }
    while (!g_queue_is_empty(&p->out)) {
        g_free(g_queue_pop_head(&p->out));
    }
}

bool virtio_ace_peer_send(VirtIOAcePeer *p, uint32_t type,
                                 const void *body, size_t len,
                                 int *fds, int nfds)
{
    struct ace_peer_msg h = {
        .magic = cpu_to_le32(ACE_PEER_MAGIC),
        .type = cpu_to_le32(type),
        .len = cpu_to_le32(len),
    };
    VirtIOAceOut *o;
    const char *why;

    assert(nfds >= 0 && nfds <= 2);
    if (p->drop) {
        return false;           /* going: nothing more for it */
    }
    o = g_malloc(sizeof(*o) + sizeof(h) + len);
    o->len = sizeof(h) + len;
    o->off = 0;
    o->nfds = nfds;
    memcpy(o->fds, fds, nfds * sizeof(int));
    memcpy(o->buf, &h, sizeof(h));
    memcpy(o->buf + sizeof(h), body, len);
    g_queue_push_tail(&p->out, o);
    if (g_queue_get_length(&p->out) > ACE_PEER_OUT_MAX) {
        virtio_ace_peer_drop(p, "does not read its connection (messages "
                             "pile up)");
        return false;
    }
    why = virtio_ace_peer_flush(p);
    if (why) {
        virtio_ace_peer_drop(p, why);
        return false;
    }
    if (!g_queue_is_empty(&p->out) && !p->out_watch) {
        p->out_watch = p->is_chardev ?
            qemu_chr_fe_add_watch(&p->dev->chr, G_IO_OUT | G_IO_HUP,
                                  virtio_ace_chr_out_io, p) :
            qio_channel_add_watch(QIO_CHANNEL(p->sioc), G_IO_OUT,
                                  virtio_ace_sock_out_io, p, NULL);
        if (!p->out_watch) {
            virtio_ace_peer_drop(p, "cannot be waited on (its chardev has "
                                 "no watch)");
            return false;
        }
    }
    return true;
}

void virtio_ace_drop_bh(void *opaque)
{
    VirtIOAce *s = opaque;
    uint32_t i;

    for (i = 0; i < s->nr_peers; i++) {
        VirtIOAcePeer *p = &s->peers[i];

        if (p->drop) {
            virtio_ace_peer_down(p);
        }
    }
    if (s->chr_hangup && s->chr_hangup == s->chr_conn + 1 &&
        qemu_chr_fe_backend_open(&s->chr)) {
        /* the chardev peer learns it by the connection's end; its
         * CHR_EVENT_CLOSED finds the peer down already */
        s->chr_hangup = 0;
        qemu_chr_fe_disconnect(&s->chr);
    }
    s->chr_hangup = 0;
}

/* The arena: its size and the region's fd, nothing else of the guest. */
void virtio_ace_peer_send_arena(VirtIOAcePeer *p)
{
    VirtIOAce *s = p->dev;
    struct ace_peer_arena pa = {
        .arena_size = cpu_to_le32(s->arena_size),
        .region_size = cpu_to_le32(s->region_size),
        .generation = cpu_to_le64(s->generation),
    };
    int fd = s->region_fd;

    virtio_ace_peer_send(p, ACE_PEER_ARENA, &pa, sizeof(pa), &fd, 1);
}

static void virtio_ace_update_peers_up(VirtIOAce *s)
{
    virtio_notify_config(VIRTIO_DEVICE(s));
}

/* Tear down every mproc the peer owned: that reclaims what it held. */
/*
 * Reclaiming a dead peer's mprocs and blocks.  Each slot is closed at
 * once (its inbox too: nothing more lands there, and the slot stays
 * CLOSING, so no one claims it); the blocks its mprocs held are found by
 * one pass over the arena for every dead id together, in slices from a
 * bottom half, so the BQL is never held long: ACE_REAP_SLICE_NS at most,
 * whatever the arena's size or the number of slots (issue: a 1,024-slot
 * peer at 256 MiB took 21 s in one go).  Peers that go while a pass runs
 * wait for the next one.  A new arena, a reset or a broken arena ends
 * the pass: its blocks are gone with it.
 */
#define ACE_REAP_SLICE_NS   (2 * SCALE_MS)
#define ACE_REAP_STEP       1024    /* blocks between looks at the clock */

void virtio_ace_reap_abort(VirtIOAce *s)
{
    memset(s->reap_ids, 0, sizeof(*s->reap_ids) * ACE_MAX_MPROCS);
    s->reap_nr = 0;
    s->reap_cursor = 0;
    s->reap_peers = 0;
    s->reap_next_peers = 0;
    qemu_bh_cancel(s->reap_bh);
}

/* Close every slot of the peers in `peers` and start a pass for them. */
void virtio_ace_reap_start(VirtIOAce *s, uint32_t peers)
{
    struct ace_arena *a = &s->arena;
    int64_t t0 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), took;
    uint32_t slot;

    if (!s->attached || ace_arena_broken(a)) {
        return;
    }
    for (slot = 0; slot < a->nr_mprocs; slot++) {
        uint32_t side = qatomic_read(&ace_mproc_at(a, slot)->side), id;
        int64_t n;

        /* Any state: the peer may have died inside a claim or a close. */
        if (ACE_SIDE_KIND(side) != ACE_SIDE_HOST ||
            ACE_SIDE_PEER(side) >= 32 || !(peers & (1u << ACE_SIDE_PEER(side)))) {
            continue;
        }
        n = ace_reap_begin(a, slot, &id);
        if (n > 0) {
            s->reap_freed += n;
        }
        if (id) {
            s->reap_ids[slot] = id;
            s->reap_nr++;
        }
    }
    s->reap_peers = peers;
    s->reap_cursor = 0;
    s->reap_t0 = t0;
    /* closing the slots (and freeing what was queued to them) is a
     * slice of its own: O(slots + messages queued to them) */
    took = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - t0;
    if (took > s->stat_reap_max_ns) {
        s->stat_reap_max_ns = took;
    }
    virtio_ace_check_broken(s);
    qemu_bh_schedule(s->reap_bh);
}

/* One slice of the pass: at most ACE_REAP_SLICE_NS under the BQL. */
void virtio_ace_reap_bh(void *opaque)
{
    VirtIOAce *s = opaque;
    struct ace_arena *a = &s->arena;
    int64_t t0 = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), n, took;
    uint32_t slot, next;

    if (!s->attached || ace_arena_broken(a)) {
        virtio_ace_reap_abort(s);
        return;
    }
    do {
        n = s->reap_nr ? ace_reap_blocks(a, s->reap_ids, &s->reap_cursor,
                                         ACE_REAP_STEP)
                       : (s->reap_cursor = a->total_blocks, 0);
        if (n < 0) {
            virtio_ace_check_broken(s);
            virtio_ace_reap_abort(s);
            return;
        }
        s->reap_freed += n;
    } while (s->reap_cursor < a->total_blocks &&
             qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - t0 < ACE_REAP_SLICE_NS);
    took = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - t0;
    s->stat_reap_slices++;
    if (took > s->stat_reap_max_ns) {
        s->stat_reap_max_ns = took;
    }
    if (s->reap_cursor < a->total_blocks) {
        qemu_bh_schedule(s->reap_bh);
        return;
    }
    for (slot = 0; slot < a->nr_mprocs; slot++) {
        if (s->reap_ids[slot]) {
            ace_reap_end(a, s->reap_ids[slot], 0);
            s->reap_ids[slot] = 0;
        }
    }
    trace_virtio_ace_reaped(s->reap_peers, s->reap_nr, s->reap_freed,
                            (qemu_clock_get_ns(QEMU_CLOCK_REALTIME) -
                             s->reap_t0) / SCALE_US);
    s->stat_reap_passes++;
    s->stat_reap_freed += s->reap_freed;
    s->reap_nr = 0;
    s->reap_freed = 0;
    s->reap_peers = 0;
    next = s->reap_next_peers;
    s->reap_next_peers = 0;
    if (next) {
        virtio_ace_reap_start(s, next);
    }
}

/* Peer `index` is gone: reclaim what its mprocs held. */
static void virtio_ace_reclaim_peer(VirtIOAce *s, int index)
{
    if (s->reap_peers) {
        s->reap_next_peers |= 1u << index;
    } else {
        virtio_ace_reap_start(s, 1u << index);
    }
}

/* Finish a pass now (migration takes the arena as it is next). */
void virtio_ace_reap_finish(VirtIOAce *s)
{
    while (s->reap_peers && s->attached) {
        virtio_ace_reap_bh(s);
    }
    qemu_bh_cancel(s->reap_bh);
}

void virtio_ace_peer_down(VirtIOAcePeer *p)
{
    VirtIOAce *s = p->dev;

    if (!p->up) {
        return;
    }
    p->up = false;
    virtio_ace_bell_off(p);
    qemu_set_fd_handler(p->raise_fd, NULL, NULL, NULL);
    if (p->watch) {
        g_source_remove(p->watch);
        p->watch = 0;
    }
    virtio_ace_peer_out_clear(p);
    p->drop = false;
    if (p->sioc) {
        qio_channel_close(QIO_CHANNEL(p->sioc), NULL);
        object_unref(OBJECT(p->sioc));
        p->sioc = NULL;
    }
    /* after the socket: a peer learns why from it, not from an EOF here */
    close(p->raise_fd);
    close(p->raise_peer_fd);
    close(p->kick_fd);
    close(p->kick_peer_fd);
    p->kick_fd = p->kick_peer_fd = p->raise_fd = p->raise_peer_fd = -1;
    virtio_ace_reclaim_peer(s, p->index);
    trace_virtio_ace_peer_down(p->index);
    virtio_ace_event(s, ACE_EVT_PEER_DOWN, p->index);
    virtio_ace_update_peers_up(s);
}

/*
 * A one-way socket pair between QEMU and a peer: *mine is QEMU's end,
 * *theirs goes to the peer.  Each side holds only its own end, so nothing
 * the peer does to its file (O_NONBLOCK, never reading, filling it)
 * reaches QEMU's; QEMU reads and writes its end with MSG_DONTWAIT.  The
 * direction not used is shut on both ends.
 */
static bool virtio_ace_pair(int *mine, int *theirs, bool to_peer)
{
    int sv[2];

    if (qemu_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        return false;
    }
    qemu_socket_set_nonblock(sv[0]);
    shutdown(sv[0], to_peer ? SHUT_RD : SHUT_WR);
    shutdown(sv[1], to_peer ? SHUT_WR : SHUT_RD);
    *mine = sv[0];
    *theirs = sv[1];
    return true;
}

static bool virtio_ace_peer_up(VirtIOAcePeer *p)
{
    VirtIOAce *s = p->dev;
    struct ace_peer_hello hello = {
        .abi_version = cpu_to_le32(ACE_ABI_VERSION),
        .peer = cpu_to_le32(p->index),
        .max_peers = cpu_to_le32(s->nr_peers),
        .section_ns = cpu_to_le32(s->section_ns),
        .features = cpu_to_le32(virtio_ace_bells_allowed(s) ?
                                ACE_HELLO_F_BELL : 0),
    };
    int fds[2];

    if (!virtio_ace_pair(&p->kick_fd, &p->kick_peer_fd, true)) {
        return false;
    }
    if (!virtio_ace_pair(&p->raise_fd, &p->raise_peer_fd, false)) {
        close(p->kick_fd);
        close(p->kick_peer_fd);
        p->kick_fd = p->kick_peer_fd = -1;
        return false;
    }
    fds[0] = p->kick_peer_fd;
    fds[1] = p->raise_peer_fd;
    memset(&p->in, 0, sizeof(p->in));
    p->up = true;
    if (!virtio_ace_peer_send(p, ACE_PEER_HELLO, &hello, sizeof(hello),
                              fds, 2)) {
        virtio_ace_peer_down(p);
        return false;
    }
    qemu_set_fd_handler(p->raise_fd, virtio_ace_raise, NULL, p);
    if (s->attached && !s->frozen && !s->loaded &&
        !runstate_check(RUN_STATE_INMIGRATE)) {
        virtio_ace_peer_send_arena(p);
        if (s->broken_reported) {
            virtio_ace_peer_send(p, ACE_PEER_BROKEN, &s->broken,
                                 sizeof(s->broken), NULL, 0);
        }
    }
    trace_virtio_ace_peer_up(p->index);
    virtio_ace_event(s, ACE_EVT_PEER_UP, p->index);
    virtio_ace_update_peers_up(s);
    return true;
}

/*
 * The arena is broken: the device found a word it cannot accept, or peer
 * b->peer did and said so.  Once per arena: log who found what, stop using
 * it (the device's view turns sticky broken: no more scans, interrupts or
 * reclaims), and tell the guest (ACE_EVT_BROKEN) and every other peer
 * (ACE_PEER_BROKEN), until the guest attaches a new arena.
 */
static void virtio_ace_broken(VirtIOAce *s, const struct ace_peer_broken *b)
{
    uint32_t i, who = le32_to_cpu(b->peer), value = le32_to_cpu(b->value);

    if (!s->attached || s->broken_reported) {
        return;
    }
    s->broken_reported = true;
    s->broken = *b;
    s->broken.generation = cpu_to_le64(s->generation);
    if (who == ACE_WHO_DEVICE) {
        error_report("virtio-ace: the guest's arena is broken: %s (0x%x); "
                     "the guest and host peers stop using it until the "
                     "guest attaches a new one", b->why, value);
    } else {
        error_report("virtio-ace: host peer %u found the guest's arena "
                     "broken: %s (0x%x); the guest and host peers stop "
                     "using it until the guest attaches a new one",
                     who, b->why, value);
        ace_arena_break(&s->arena, "a host peer found the arena broken",
                        value);
    }
    virtio_ace_event(s, ACE_EVT_BROKEN, 0);
    for (i = 0; i < s->nr_peers; i++) {
        if (s->peers[i].up && i != who) {
            virtio_ace_peer_send(&s->peers[i], ACE_PEER_BROKEN, &s->broken,
                                 sizeof(s->broken), NULL, 0);
        }
    }
}

/* Report, once per arena, that a word the guest wrote made it unusable. */
void virtio_ace_check_broken(VirtIOAce *s)
{
    struct ace_peer_broken b = { .peer = cpu_to_le32(ACE_WHO_DEVICE) };

    if (s->attached && ace_arena_broken(&s->arena) && !s->broken_reported) {
        b.value = cpu_to_le32(s->arena.why_value);
        pstrcpy(b.why, sizeof(b.why), ace_arena_why(&s->arena));
        virtio_ace_broken(s, &b);
    }
}

/* Frame what peer p sent and act on it; false if it broke the protocol. */
static bool virtio_ace_peer_feed(VirtIOAcePeer *p, const uint8_t *buf,
                                 size_t n)
{
    VirtIOAce *s = p->dev;
    VirtIOAcePeerMsg m;

    while (n) {
        int used = virtio_ace_peer_in(&p->in, buf, n, &m);

        if (used < 0) {
            warn_report("virtio-ace: peer %d broke the peer protocol; "
                        "dropping it", p->index);
            return false;
        }
        if (m.type == ACE_PEER_DETACHED) {
            p->detached = true;
        } else if (m.type == ACE_PEER_BELL_REQ) {
            virtio_ace_peer_bell(p);
        } else if (m.type == ACE_PEER_BROKEN) {
            /* a report on an arena since replaced is stale */
            if (s->attached &&
                le64_to_cpu(m.broken.generation) == s->generation) {
                m.broken.peer = cpu_to_le32(p->index);
                virtio_ace_broken(s, &m.broken);
            }
        } else if (!used) {
            break;
        }
        buf += used;
        n -= used;
    }
    return true;
}

static gboolean virtio_ace_peer_io(QIOChannel *ioc, GIOCondition cond,
                                   gpointer opaque)
{
    VirtIOAcePeer *p = opaque;
    uint8_t buf[256];
    ssize_t n;

    /*
     * Peers send only BROKEN reports; EOF, an error or a message that
     * breaks the protocol means the peer is gone.
     */
    n = recv(p->sioc->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0 && virtio_ace_peer_feed(p, buf, n)) {
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return G_SOURCE_CONTINUE;
    }
    p->watch = 0;
    virtio_ace_peer_down(p);
    return G_SOURCE_REMOVE;
}

static void virtio_ace_accept(QIONetListener *listener,
                              QIOChannelSocket *sioc, gpointer opaque)
{
    VirtIOAce *s = opaque;
    uint32_t i;

    /* Peer 0 is kept for chardev= when one is given. */
    for (i = qemu_chr_fe_backend_connected(&s->chr) ? 1 : 0;
         i < s->nr_peers; i++) {
        if (!s->peers[i].up) {
            break;
        }
    }
    if (i == s->nr_peers) {
        struct ace_peer_msg full = {
            .magic = cpu_to_le32(ACE_PEER_MAGIC),
            .type = cpu_to_le32(ACE_PEER_FULL),
        };

        warn_report("virtio-ace: all %u peer slots busy; refusing a peer",
                    s->nr_peers);
        /* best effort, never waiting: the connection closes anyway */
        if (send(sioc->fd, &full, sizeof(full),
                 MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            trace_virtio_ace_peer_down(-1);
        }
        qio_channel_close(QIO_CHANNEL(sioc), NULL);
        return;
    }
    s->peers[i].sioc = sioc;
    object_ref(OBJECT(sioc));
    s->peers[i].is_chardev = false;
    if (!virtio_ace_peer_up(&s->peers[i])) {
        if (s->peers[i].sioc) {
            object_unref(OBJECT(s->peers[i].sioc));
            s->peers[i].sioc = NULL;
        }
        return;
    }
    s->peers[i].watch = qio_channel_add_watch(QIO_CHANNEL(sioc),
                                              G_IO_IN | G_IO_HUP | G_IO_ERR,
                                              virtio_ace_peer_io,
                                              &s->peers[i], NULL);
}

int virtio_ace_chr_can_read(void *opaque)
{
    return 64;
}

void virtio_ace_chr_read(void *opaque, const uint8_t *buf, int size)
{
    VirtIOAce *s = opaque;

    if (s->peers[0].up && !virtio_ace_peer_feed(&s->peers[0], buf, size)) {
        qemu_chr_fe_disconnect(&s->chr);
    }
}

void virtio_ace_chr_event(void *opaque, QEMUChrEvent event)
{
    VirtIOAce *s = opaque;
    VirtIOAcePeer *p = &s->peers[0];

    if (event == CHR_EVENT_OPENED && !p->up) {
        s->chr_conn++;
        p->is_chardev = true;
        if (!virtio_ace_peer_up(p)) {
            virtio_ace_chr_hangup(s);   /* no HELLO: not left waiting */
        }
    } else if (event == CHR_EVENT_CLOSED) {
        /* the connection a hangup was asked for is over: the next one
         * (being accepted or connected, not OPENED yet) is not its */
        s->chr_hangup = 0;
        virtio_ace_peer_down(p);
    }
}

bool virtio_ace_listen(VirtIOAce *s, Error **errp)
{
    SocketAddress addr = {
        .type = SOCKET_ADDRESS_TYPE_UNIX,
        .u.q_unix.path = s->socket_path,
    };

    unlink(s->socket_path);
    s->listener = qio_net_listener_new();
    qio_net_listener_set_name(s->listener, "virtio-ace-listener");
    if (qio_net_listener_open_sync(s->listener, &addr, s->nr_peers, errp) < 0) {
        object_unref(OBJECT(s->listener));
        s->listener = NULL;
        return false;
    }
    qio_net_listener_set_client_func(s->listener, virtio_ace_accept, s, NULL);
    return true;
}

/* DETACH every peer and wait (bounded) for their DETACHED. */
void virtio_ace_detach_peers_sync(VirtIOAce *s)
{
    int64_t deadline = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                       ACE_DETACH_ACK_MS;
    struct pollfd pfd[ACE_MAX_PEERS];
    VirtIOAcePeer *who[ACE_MAX_PEERS];
    uint32_t i;
    int n;

    for (i = 0; i < s->nr_peers; i++) {
        VirtIOAcePeer *p = &s->peers[i];

        p->detached = p->is_chardev;
        if (p->up) {
            virtio_ace_peer_send(p, ACE_PEER_DETACH, NULL, 0, NULL, 0);
        }
    }
    for (;;) {
        int64_t left = deadline - qemu_clock_get_ms(QEMU_CLOCK_REALTIME);

        for (i = 0, n = 0; i < s->nr_peers; i++) {
            VirtIOAcePeer *p = &s->peers[i];

            if (p->up && !p->detached && p->sioc && !p->drop) {
                pfd[n] = (struct pollfd){
                    .fd = p->sioc->fd,
                    .events = POLLIN |
                              (g_queue_is_empty(&p->out) ? 0 : POLLOUT),
                };
                who[n++] = p;
            }
        }
        if (!n || left <= 0) {
            break;
        }
        if (poll(pfd, n, left) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (i = 0; i < (uint32_t)n; i++) {
            uint8_t buf[256];
            ssize_t r;

            if (!pfd[i].revents) {
                continue;
            }
            if ((pfd[i].revents & POLLOUT) && virtio_ace_peer_flush(who[i])) {
                virtio_ace_peer_down(who[i]);
                continue;
            }
            if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            r = recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            }
            if (r <= 0 || !virtio_ace_peer_feed(who[i], buf, r)) {
                virtio_ace_peer_down(who[i]);
            }
        }
    }
    for (i = 0; i < s->nr_peers; i++) {
        if (s->peers[i].up && !s->peers[i].detached) {
            warn_report("virtio-ace: peer %u did not acknowledge DETACH "
                        "within %d ms; dropping it", i, ACE_DETACH_ACK_MS);
            virtio_ace_peer_down(&s->peers[i]);
        }
    }
}

