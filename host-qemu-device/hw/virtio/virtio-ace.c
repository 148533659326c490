/*
 * virtio-ace: a zero-copy message channel between host processes and the
 * guest, over message pools (the "arena") in a memory region of the
 * device's own: a virtio shared memory region (a 64-bit prefetchable BAR)
 * backed by memdev= (any memory-backend-* with share=on) or by a sealed
 * memfd the device creates from size=.  Host peers are given that region's
 * fd and nothing else of the guest.
 *
 * The device does little on the data path.  It
 *   - takes the guest's ATTACH on the control queue and validates the
 *     arena header the guest formatted at the region's offset 0;
 *   - serves host peers on a UNIX socket (socket=PATH, any number up to
 *     `peers`) or a chardev (one peer): each gets its index, its kick
 *     and raise socket pairs and the region's fd, and maps the arena
 *     itself;
 *   - relays guest doorbells (one virtqueue per peer, kicked without
 *     buffers) to the peer's kick socket, or hands the peer the
 *     doorbell's own notifier so that no QEMU thread relays them (direct
 *     doorbells: KVM's ioeventfd; under TCG only on request);
 *   - on a peer's raise, scans the pending bitmap and injects an
 *     interrupt (an event-queue buffer) only for guest mprocs that are
 *     armed and outside an ACE section; for those inside one it starts the
 *     section time bound, and forces the delivery when the bound passes;
 *   - closes a dead peer's mprocs, which reclaims every block they held.
 *
 * Every word the guest can write is read once through the ACE core, which
 * checks it before use; a bad arena is refused or marked broken, never
 * trusted.  See docs/device.md.
 *
 * The device is split the way QEMU's larger virtio devices are:
 *   virtio-ace.c          the device core: events to the guest, the
 *                         pending-bit scan and ACE section bounds, the
 *                         region, migration, realize and properties;
 *   virtio-ace-peers.c    host peers: their sockets, fds and direct
 *                         doorbells, output queues, reclaim of the dead;
 *   virtio-ace-control.c  the control queue: ATTACH, DETACH, RESET
 *                         carried out (checked by virtio-ace-ctrl.c, the
 *                         parser free of QEMU types that the fuzzer runs).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/host-utils.h"
#include "qemu/iov.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/sockets.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "hw/qdev-properties.h"
#include "hw/qdev-properties-system.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio-ace.h"
#include "hw/virtio/virtio-bus.h"
#include "migration/misc.h"
#include "migration/postcopy-ram.h"
#include "migration/vmstate.h"
#include "qemu/memfd.h"
#include "hw/core/cpu.h"
#include "sysemu/hostmem.h"
#include "sysemu/kvm.h"
#include "sysemu/tcg.h"
#include "standard-headers/linux/virtio_ids.h"
#include "trace.h"
#include "virtio-ace-internal.h"

#define ACE_CTRL_QUEUE_SIZE     64
#define ACE_EVENT_QUEUE_SIZE    128
#define ACE_DOORBELL_QUEUE_SIZE 8
#define ACE_EVENTS_OWED_MAX     64

/* ------------------------------------------------------------------ */
/* Events to the guest                                                */
/* ------------------------------------------------------------------ */

/* Complete one posted event buffer; false if the guest posted none. */
static bool virtio_ace_push_event(VirtIOAce *s, uint32_t type, uint32_t peer,
                                  uint32_t arg)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    struct ace_event ev = {
        .type = cpu_to_le32(type),
        .peer = cpu_to_le32(peer),
        .arg = cpu_to_le32(arg),
    };
    VirtQueueElement *elem;

    if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        return false;
    }
    elem = virtqueue_pop(s->event_vq, sizeof(VirtQueueElement));
    if (!elem) {
        return false;
    }
    if (iov_size(elem->in_sg, elem->in_num) < sizeof(ev)) {
        virtio_error(vdev, "virtio-ace: event buffer of %zu bytes, need %zu",
                     iov_size(elem->in_sg, elem->in_num), sizeof(ev));
        virtqueue_detach_element(s->event_vq, elem, 0);
        g_free(elem);
        return true;
    }
    iov_from_buf(elem->in_sg, elem->in_num, 0, &ev, sizeof(ev));
    virtqueue_push(s->event_vq, elem, sizeof(ev));
    virtio_notify(vdev, s->event_vq);
    g_free(elem);
    return true;
}

/*
 * Send an event, or remember it until the guest posts a buffer.  PENDING
 * events coalesce: one owed PENDING covers any number of raises.
 */
void virtio_ace_event(VirtIOAce *s, uint32_t type, uint32_t peer)
{
    int owed = s->events_owed;

    if (type == ACE_EVT_PENDING) {
        if (s->events_owed_pending || !virtio_ace_push_event(s, type, 0, 0)) {
            s->events_owed_pending = 1;
        }
    } else if (type == ACE_EVT_BROKEN) {
        /* arg: the offending value */
        if (!virtio_ace_push_event(s, type, 0,
                                   le32_to_cpu(s->broken.value))) {
            s->events_owed_broken = 1;
        }
    } else if (!virtio_ace_push_event(s, type, peer, 0) &&
               s->events_owed < ACE_EVENTS_OWED_MAX) {
        /* peer up/down: the guest rereads peers_up from config anyway */
        s->events_owed++;
    }
    trace_virtio_ace_event(type, peer, owed);
}

static void virtio_ace_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);

    /* New buffers: pay what is owed. */
    if (s->events_owed_broken &&
        virtio_ace_push_event(s, ACE_EVT_BROKEN, 0,
                              le32_to_cpu(s->broken.value))) {
        s->events_owed_broken = 0;
    }
    if (s->events_owed_pending &&
        virtio_ace_push_event(s, ACE_EVT_PENDING, 0, 0)) {
        s->events_owed_pending = 0;
    }
    while (s->events_owed &&
           virtio_ace_push_event(s, ACE_EVT_PEER_UP, ACE_EVT_PEER_ANY, 0)) {
        s->events_owed--;
    }
}

/* ------------------------------------------------------------------ */
/* Notifications: pending bits, ACE sections, time bounds             */
/* ------------------------------------------------------------------ */

static void virtio_ace_arm_timer(VirtIOAce *s)
{
    int64_t next = INT64_MAX;
    uint32_t i;

    for (i = 0; i < s->arena.nr_mprocs; i++) {
        if (s->deferrals[i].deadline_ns && s->deferrals[i].deadline_ns < next) {
            next = s->deferrals[i].deadline_ns;
        }
    }
    if (next == INT64_MAX) {
        timer_del(s->section_timer);
    } else {
        timer_mod(s->section_timer, next);
    }
}

/*
 * Wake peer p: one byte into QEMU's end of its kick socket pair.  QEMU
 * writes nothing a peer shares: the peer holds the other end, so nothing
 * it does to its file (O_NONBLOCK, not reading) reaches QEMU's, and
 * MSG_DONTWAIT holds per call.  A full buffer means kicks are pending.
 */
static void virtio_ace_kick(VirtIOAcePeer *p)
{
    static const char one = 1;

    if (p->kick_fd >= 0) {
        (void)!send(p->kick_fd, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
}

/*
 * Scan the pending bitmap.  Guest mprocs: interrupt those that may be
 * interrupted, time those inside a section.  Host mprocs: relay the bit
 * to the owning peer's kick eventfd (host-to-host sends).
 */
void virtio_ace_scan(VirtIOAce *s, int raiser)
{
    struct ace_arena *a = &s->arena;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    int interrupts = 0, relays = 0;
    uint32_t w, relay_mask = 0;

    if (!s->attached || ace_arena_broken(a)) {
        return;
    }
    for (w = 0; w < a->nr_pending_words; w++) {
        uint64_t bits = ace_pending_peek(a, w);

        while (bits) {
            uint32_t slot = w * 64 + ctz64(bits);
            uint32_t side, n;

            bits &= bits - 1;
            if (slot >= a->nr_mprocs) {
                break;
            }
            side = qatomic_read(&ace_mproc_at(a, slot)->side);
            if (ACE_SIDE_KIND(side) == ACE_SIDE_HOST) {
                if (ACE_SIDE_PEER(side) < s->nr_peers) {
                    relay_mask |= 1u << ACE_SIDE_PEER(side);
                }
                continue;
            }
            switch (ace_delivery(a, slot, &n)) {
            case ACE_DELIVER_NOW:
                s->deferrals[slot].deadline_ns = 0;
                ace_count_shared(&ace_mproc_at(a, slot)->c.interrupts, 1);
                interrupts++;
                break;
            case ACE_DELIVER_DEFER:
                if (!s->deferrals[slot].deadline_ns ||
                    s->deferrals[slot].seq != ACE_NOTIFY_SEQ(n)) {
                    s->deferrals[slot].seq = ACE_NOTIFY_SEQ(n);
                    s->deferrals[slot].deadline_ns = now + s->section_ns;
                    trace_virtio_ace_defer(slot, ACE_NOTIFY_SEQ(n));
                }
                break;
            default:
                break;
            }
        }
    }
    for (w = 0; w < s->nr_peers; w++) {
        if ((relay_mask & (1u << w)) && s->peers[w].up && (int)w != raiser) {
            virtio_ace_kick(&s->peers[w]);
            relays++;
        }
    }
    if (interrupts) {
        s->stat_interrupts++;
        virtio_ace_event(s, ACE_EVT_PENDING, 0);
    }
    virtio_ace_arm_timer(s);
    virtio_ace_check_broken(s);
    trace_virtio_ace_raise(raiser, interrupts, relays);
}

/* A section held a delivery past the bound: force it. */
static void virtio_ace_section_timer(void *opaque)
{
    VirtIOAce *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    bool irq = false;
    uint32_t i;

    if (!s->attached) {
        return;
    }
    for (i = 0; i < s->arena.nr_mprocs; i++) {
        VirtIOAceDeferral *d = &s->deferrals[i];

        if (!d->deadline_ns || d->deadline_ns > now) {
            continue;
        }
        d->deadline_ns = 0;
        if (ace_force(&s->arena, i, d->seq)) {
            ace_count_shared(&ace_mproc_at(&s->arena, i)->c.interrupts, 1);
            s->stat_overruns++;
            irq = true;
            trace_virtio_ace_overrun(i, d->seq);
        }
    }
    if (irq) {
        s->stat_interrupts++;
        virtio_ace_event(s, ACE_EVT_PENDING, 0);
    }
    virtio_ace_arm_timer(s);
}

/*
 * Peer p raised: bytes on QEMU's end of its raise pair.  Take what is
 * there (a bounded amount: the rest makes the fd readable again), never
 * waiting: MSG_DONTWAIT holds per call whatever the peer does to its end.
 */
void virtio_ace_raise(void *opaque)
{
    VirtIOAcePeer *p = opaque;
    char buf[256];
    ssize_t n = 0;
    int i;

    p->dev->stat_raises++;
    for (i = 0; i < 4; i++) {
        n = recv(p->raise_fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
    }
    if (n == 0) {
        /* the peer closed its end: no more raises (its socket says
         * whether it is gone); stop watching an fd that stays readable */
        qemu_set_fd_handler(p->raise_fd, NULL, NULL, NULL);
    }
    if (i || n > 0) {
        virtio_ace_scan(p->dev, p->index);
    }
}

/* A guest doorbell the peer does not take directly: relay it (with KVM,
 * the queue's ioeventfd brings it to the main loop; under TCG it runs in
 * the vCPU thread that rang). */
static void virtio_ace_handle_doorbell(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);
    int peer = virtio_get_queue_index(vq) - ACE_VQ_DOORBELL0;

    if (peer >= 0 && peer < (int)s->nr_peers && s->peers[peer].up) {
        s->stat_doorbells++;
        virtio_ace_kick(&s->peers[peer]);
        trace_virtio_ace_doorbell(peer);
    }
}

/* ------------------------------------------------------------------ */
/* Device model boilerplate                                           */
/* ------------------------------------------------------------------ */

static void virtio_ace_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);
    struct ace_virtio_config cfg = { 0 };
    uint32_t i, up = 0;

    for (i = 0; i < s->nr_peers; i++) {
        up |= s->peers[i].up ? 1u << i : 0;
    }
    stl_le_p(&cfg.abi_version, ACE_ABI_VERSION);
    stl_le_p(&cfg.arena_max, s->arena_max);
    stl_le_p(&cfg.max_mprocs, s->max_mprocs);
    stl_le_p(&cfg.max_peers, s->nr_peers);
    stl_le_p(&cfg.section_ns, s->section_ns);
    stl_le_p(&cfg.peers_up, up);
    memcpy(config, &cfg, sizeof(cfg));
}

static uint64_t virtio_ace_get_features(VirtIODevice *vdev, uint64_t f,
                                        Error **errp)
{
    if (VIRTIO_ACE(vdev)->bell_pages) {
        virtio_add_feature(&f, VIRTIO_ACE_F_BELL_PAGES);
    }
    return f;
}

/*
 * Reset: peers are told DETACH first, then the region is emptied (its
 * pages dropped, so it reads as zeroes), so that nothing of the last
 * arena reaches the next driver.  A peer that writes on after DETACH
 * damages only the region, which the next ATTACH validates afresh.
 */
static void virtio_ace_reset(VirtIODevice *vdev)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);

    virtio_ace_detach(s, "device reset");
    if (s->region_mr &&
        ram_block_discard_range(s->region_mr->ram_block, 0,
                                s->region_size) < 0) {
        memset(s->region, 0, s->region_size);
    }
}

static void virtio_ace_set_status(VirtIODevice *vdev, uint8_t status)
{
    if (!(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        virtio_ace_detach(VIRTIO_ACE(vdev), "driver not ready");
    }
}

/*
 * The arena's region: memdev= (shared, unused by anything else) or a
 * memfd of size= bytes, sealed so that its size never changes under a
 * peer's mapping.  Its fd is what peers map.
 */
static bool virtio_ace_init_region(VirtIOAce *s, Error **errp)
{
    Error *err = NULL;
    int fd, seals;

    if (s->memdev) {
        const char *id = object_get_canonical_path_component(OBJECT(s->memdev));

        if (host_memory_backend_is_mapped(s->memdev)) {
            error_setg(errp, "virtio-ace: memdev '%s' is already in use", id);
            return false;
        }
        s->region_mr = host_memory_backend_get_memory(s->memdev);
        if (memory_region_get_fd(s->region_mr) < 0 ||
            !qemu_ram_is_shared(s->region_mr->ram_block)) {
            error_setg(errp, "virtio-ace: memdev '%s' must be shared with host "
                       "processes: a memory-backend-memfd or -file with "
                       "share=on", id);
            s->region_mr = NULL;
            return false;
        }
        if (s->region_mr->readonly) {
            error_setg(errp, "virtio-ace: memdev '%s' is read-only; peers and "
                       "the guest write the arena", id);
            s->region_mr = NULL;
            return false;
        }
        if (s->size) {
            error_setg(errp, "virtio-ace: give size= or memdev=, not both "
                       "(the region's size is the memdev's)");
            s->region_mr = NULL;
            return false;
        }
        /*
         * Every peer gets this fd: one that can shrink lets any peer
         * truncate it under QEMU's own mapping (SIGBUS, the VM dies).
         */
        seals = fcntl(memory_region_get_fd(s->region_mr), F_GET_SEALS);
        if (!s->allow_unsealed && (seals < 0 || !(seals & F_SEAL_SHRINK))) {
            error_setg(errp, "virtio-ace: memdev '%s' can shrink (it is not a "
                       "sealed memfd), so any host peer could truncate it "
                       "and crash the VM: use memory-backend-memfd (sealed "
                       "by default), or allow-unsealed=on to accept the risk",
                       id);
            s->region_mr = NULL;
            return false;
        }
        s->size = memory_region_size(s->region_mr);
    } else if (!s->size) {
        s->size = ACE_DEFAULT_ARENA;
    }
    if (s->size < ACE_MIN_ARENA || s->size > ACE_MAX_ARENA ||
        s->size % qemu_real_host_page_size()) {
        error_setg(errp, "virtio-ace: the arena region must be %u..%u bytes "
                   "and a multiple of the page size, not %" PRIu64,
                   ACE_MIN_ARENA, ACE_MAX_ARENA, s->size);
        s->region_mr = NULL;
        return false;
    }
    if (s->memdev) {
        host_memory_backend_set_mapped(s->memdev, true);
    } else {
        fd = qemu_memfd_create("virtio-ace-arena", s->size, false, 0,
                               F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL, errp);
        if (fd < 0) {
            return false;
        }
        memory_region_init_ram_from_fd(&s->own_region, OBJECT(s),
                                       "virtio-ace-arena", s->size,
                                       RAM_SHARED, fd, 0, &err);
        if (err) {
            close(fd);
            error_propagate(errp, err);
            return false;
        }
        s->region_mr = &s->own_region;
    }
    s->region = memory_region_get_ram_ptr(s->region_mr);
    s->region_fd = memory_region_get_fd(s->region_mr);
    s->region_size = s->size;
    s->arena_max = s->size;
    return true;
}

MemoryRegion *virtio_ace_region(VirtIOAce *s)
{
    return s->region_mr;
}

/*
 * Host peers and the guest update the same words with atomic
 * instructions.  Under TCG a guest's locked instructions are atomic
 * against other threads only with multi-threaded TCG and more than one
 * vCPU (CF_PARALLEL); otherwise a guest CAS can overwrite a peer's, and
 * messages vanish without a word.  Refuse that configuration.
 */
static bool virtio_ace_check_atomics(Error **errp)
{
#ifdef CONFIG_TCG
    if (tcg_enabled() &&
        (!qemu_tcg_mttcg_enabled() || current_machine->smp.max_cpus < 2)) {
        error_setg(errp, "virtio-ace: under TCG the guest's atomic "
                   "instructions are atomic against host processes only "
                   "with multi-threaded TCG and two or more vCPUs: use "
                   "-accel tcg,thread=multi and -smp 2 (or more), or KVM");
        return false;
    }
#endif
    return true;
}

static bool virtio_ace_check_props(VirtIOAce *s, Error **errp)
{
    if (s->nr_peers < 1 || s->nr_peers > ACE_MAX_PEERS) {
        error_setg(errp, "virtio-ace: peers must be 1..%u", ACE_MAX_PEERS);
    } else if (s->max_mprocs < 1 || s->max_mprocs > ACE_MAX_MPROCS) {
        error_setg(errp, "virtio-ace: mprocs must be 1..%u", ACE_MAX_MPROCS);
    } else if (s->section_ns < 1000 || s->section_ns > 1000000000) {
        error_setg(errp, "virtio-ace: section-ns must be 1000..1000000000");
    } else if (!qemu_chr_fe_backend_connected(&s->chr) && !s->socket_path) {
        error_setg(errp, "virtio-ace: give chardev=<id> (one host peer) or "
                   "socket=<path> (many host peers)");
    } else {
        return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Migration, snapshots, save/restore                                 */
/* ------------------------------------------------------------------ */

/*
 * The arena region migrates as RAM (vmstate_register_ram), but host peers
 * write it behind dirty tracking.  So when the VM stops for the final copy
 * (RUN_STATE_FINISH_MIGRATE, RUN_STATE_SAVE_VM) the device tells every
 * peer DETACH and waits, at most ACE_DETACH_ACK_MS, for each to answer
 * DETACHED ("I no longer touch the arena"); a peer that stays silent is
 * dropped (its mprocs reclaimed, as for any dead peer).  Then the whole
 * region is marked dirty, so the final pass copies what peers wrote.
 *
 * Where the state arrives (the destination, or a restore), host peers of
 * the source are gone: every host mproc in the arena is closed and its
 * blocks reclaimed, exactly as for a dead peer, and counted.  Guest
 * mprocs, their inboxes and guest-to-guest messages are untouched.  Once
 * the VM runs, the guest is told that the source's peers went down, and
 * peers that connect here get the arena.
 *
 * If the VM runs on where it was (a failed migration, a snapshot), its
 * peers were detached: they are disconnected, which reclaims their
 * mprocs, and they reconnect as after any restart of the device.
 *
 * A chardev= peer cannot be waited for here: it is told DETACH and
 * counted as acknowledged.  A VM that was paused before the migration
 * started is not stopped again, so its peers are detached only when the
 * device state is saved, after the last copy of the region: what they
 * wrote in between may be missing at the destination (never anything
 * outside the arena, which the destination validates as always).
 */
static uint32_t virtio_ace_peers_up(VirtIOAce *s)
{
    uint32_t i, up = 0;

    for (i = 0; i < s->nr_peers; i++) {
        up |= s->peers[i].up ? 1u << i : 0;
    }
    return up;
}

/* The VM stops for a final copy of its memory. */
static void virtio_ace_freeze(VirtIOAce *s)
{
    if (s->frozen) {
        return;
    }
    s->frozen = true;
    virtio_ace_reap_finish(s);
    s->peers_up_saved = virtio_ace_peers_up(s);
    virtio_ace_detach_peers_sync(s);
    memory_region_set_dirty(s->region_mr, 0, s->region_size);
    trace_virtio_ace_freeze(s->peers_up_saved, virtio_ace_peers_up(s));
}

/* Close every host mproc in the arena (one pass, at once: the VM is not
 * running); returns the blocks reclaimed. */
static int64_t virtio_ace_reap_host_mprocs(VirtIOAce *s)
{
    uint64_t before = s->stat_reap_freed;

    virtio_ace_reap_abort(s);
    virtio_ace_reap_start(s, ~0u);
    virtio_ace_reap_finish(s);
    return s->stat_reap_freed - before;
}

static int virtio_ace_pre_save(void *opaque)
{
    VirtIOAce *s = opaque;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    uint32_t i;

    /* normally done already (see virtio_ace_migration_state) */
    virtio_ace_freeze(s);
    s->nr_peers_saved = s->nr_peers;
    s->max_mprocs_saved = s->max_mprocs;
    for (i = 0; i < s->nr_deferrals; i++) {
        VirtIOAceDeferral *d = &s->deferrals[i];

        d->left_ns = d->deadline_ns ? MAX(d->deadline_ns - now, 1) : 0;
    }
    return 0;
}

static int virtio_ace_post_load(VirtIODevice *vdev)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);
    uint32_t i, peers = MAKE_64BIT_MASK(0, s->nr_peers);

    /* peers_up_saved names the peers the guest is told went down */
    if (s->nr_peers_saved != s->nr_peers ||
        s->max_mprocs_saved != s->max_mprocs || s->events_owed > 64 ||
        (s->peers_up_saved & ~peers) || s->nr_deferrals != ACE_MAX_MPROCS) {
        error_report("virtio-ace: incoming state does not fit this device "
                     "(peers %u here, %u there; mprocs %u here, %u there; "
                     "peers up 0x%x there)", s->nr_peers, s->nr_peers_saved,
                     s->max_mprocs, s->max_mprocs_saved, s->peers_up_saved);
        return -EINVAL;
    }
    for (i = 0; i < s->nr_deferrals; i++) {
        VirtIOAceDeferral *d = &s->deferrals[i];

        /* the time left starts when the VM runs (virtio_ace_vm_state) */
        d->left_ns = d->left_ns > 0 ? MIN(d->left_ns, (int64_t)s->section_ns) : 0;
        d->deadline_ns = 0;
    }
    s->frozen = false;
    s->loaded = true;
    if (!s->attached) {
        return 0;
    }
    if (s->arena_size < ACE_MIN_ARENA || s->arena_size > s->arena_max ||
        ace_arena_attach(&s->arena, s->region, s->arena_size)) {
        error_report("virtio-ace: the arena that came with the VM is refused: "
                     "%s; the guest must attach a new one",
                     s->arena_size > s->arena_max ? "larger than the region" :
                     ace_arena_why(&s->arena));
        s->attached = false;
        s->events_owed_broken = 1;
        return 0;
    }
    if (s->broken_reported) {
        ace_arena_break(&s->arena, "the arena was broken before the "
                        "migration", le32_to_cpu(s->broken.value));
    } else {
        s->stat_migration_reclaimed = virtio_ace_reap_host_mprocs(s);
        virtio_ace_check_broken(s);
    }
    info_report("virtio-ace: state loaded: %" PRId64 " block(s) of the "
                "source's host mprocs reclaimed; the guest's mprocs carry on",
                s->stat_migration_reclaimed);
    return 0;
}

/*
 * A migration that starts while the VM is paused (virsh save and
 * managedsave pause first) never stops it again: detach the peers before
 * the region's first pass instead.
 */
static void virtio_ace_migration_state(Notifier *n, void *data)
{
    VirtIOAce *s = container_of(n, VirtIOAce, migration_state);

    if (migration_in_setup(data) && !runstate_is_running()) {
        virtio_ace_freeze(s);
    }
}

/* Postcopy would let peers touch region pages that have not arrived. */
static int virtio_ace_postcopy_notify(NotifierWithReturn *n, void *opaque)
{
    struct PostcopyNotifyData *pnd = opaque;

    if (pnd->reason == POSTCOPY_NOTIFY_PROBE) {
        error_setg(pnd->errp, "virtio-ace: postcopy migration is not "
                   "supported: host peers map the arena region directly");
        return -ENOENT;
    }
    return 0;
}

static void virtio_ace_vm_state(void *opaque, bool running, RunState state)
{
    VirtIOAce *s = opaque;
    uint32_t i;

    if (!running) {
        if (state == RUN_STATE_FINISH_MIGRATE || state == RUN_STATE_SAVE_VM ||
            state == RUN_STATE_RESTORE_VM) {
            virtio_ace_freeze(s);
        }
        return;
    }
    if (s->loaded) {
        /* here at last: the source's peers are gone for the guest too,
         * and the peers that connected meanwhile get the arena */
        int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

        s->loaded = false;
        for (i = 0; i < s->nr_deferrals; i++) {
            VirtIOAceDeferral *d = &s->deferrals[i];

            d->deadline_ns = d->left_ns ? now + d->left_ns : 0;
        }
        virtio_ace_arm_timer(s);
        for (i = 0; i < ACE_MAX_PEERS; i++) {
            if (s->peers_up_saved & (1u << i)) {
                virtio_ace_event(s, ACE_EVT_PEER_DOWN, i);
            }
        }
        for (i = 0; i < s->nr_peers; i++) {
            if (s->peers[i].up && s->attached) {
                virtio_ace_peer_send_arena(&s->peers[i]);
            }
        }
        s->peers_up_saved = 0;
        virtio_notify_config(VIRTIO_DEVICE(s));
        virtio_ace_handle_event(VIRTIO_DEVICE(s), s->event_vq);
        virtio_ace_scan(s, -1);
    } else if (s->frozen) {
        /* running on here after all: peers were detached, start over */
        s->frozen = false;
        if (s->peers[0].up && s->peers[0].is_chardev) {
            virtio_ace_chr_hangup(s);   /* to connect again */
        }
        for (i = 0; i < s->nr_peers; i++) {
            virtio_ace_peer_down(&s->peers[i]);
        }
    }
}

static void virtio_ace_unrealize(DeviceState *dev);

static void virtio_ace_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOAce *s = VIRTIO_ACE(dev);
    uint32_t i;

    if (!virtio_ace_check_props(s, errp) || !virtio_ace_check_atomics(errp) ||
        !virtio_ace_init_region(s, errp)) {
        return;
    }
    /* the region migrates like RAM; see "Migration" above */
    vmstate_register_ram(s->region_mr, dev);
    virtio_init(vdev, VIRTIO_ID_ACE, sizeof(struct ace_virtio_config));
    s->ctrl_vq = virtio_add_queue(vdev, ACE_CTRL_QUEUE_SIZE,
                                  virtio_ace_handle_ctrl);
    s->event_vq = virtio_add_queue(vdev, ACE_EVENT_QUEUE_SIZE,
                                   virtio_ace_handle_event);
    s->doorbell_vq = g_new0(VirtQueue *, s->nr_peers);
    s->peers = g_new0(VirtIOAcePeer, s->nr_peers);
    for (i = 0; i < s->nr_peers; i++) {
        s->doorbell_vq[i] = virtio_add_queue(vdev, ACE_DOORBELL_QUEUE_SIZE,
                                             virtio_ace_handle_doorbell);
        s->peers[i].dev = s;
        s->peers[i].index = i;
        s->peers[i].kick_fd = s->peers[i].kick_peer_fd = -1;
        s->peers[i].raise_fd = s->peers[i].raise_peer_fd = -1;
    }
    s->drop_bh = qemu_bh_new(virtio_ace_drop_bh, s);
    s->reap_bh = qemu_bh_new(virtio_ace_reap_bh, s);
    s->reap_ids = g_new0(uint32_t, ACE_MAX_MPROCS);
    /* for tests: how long a reclaim held the BQL, at most */
    object_property_add_uint64_ptr(OBJECT(dev), "x-reap-max-ns",
                                   &s->stat_reap_max_ns, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(OBJECT(dev), "x-reap-passes",
                                   &s->stat_reap_passes, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(OBJECT(dev), "x-reap-freed",
                                   &s->stat_reap_freed, OBJ_PROP_FLAG_READ);
    /* for tests and benchmarks: notifications a QEMU thread handled
     * (doorbells relayed, raise handler runs), direct doorbells given */
    object_property_add_uint64_ptr(OBJECT(dev), "x-doorbells",
                                   &s->stat_doorbells, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(OBJECT(dev), "x-raises",
                                   &s->stat_raises, OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(OBJECT(dev), "x-bells",
                                   &s->stat_bells, OBJ_PROP_FLAG_READ);
    s->nr_deferrals = ACE_MAX_MPROCS;
    s->deferrals = g_new0(VirtIOAceDeferral, s->nr_deferrals);
    s->vmstate_change = qdev_add_vm_change_state_handler(dev,
                                                         virtio_ace_vm_state,
                                                         s);
    s->migration_state.notify = virtio_ace_migration_state;
    add_migration_state_change_notifier(&s->migration_state);
    s->postcopy.notify = virtio_ace_postcopy_notify;
    postcopy_add_notifier(&s->postcopy);
    s->section_timer = timer_new_ns(QEMU_CLOCK_REALTIME,
                                    virtio_ace_section_timer, s);
    if (qemu_chr_fe_backend_connected(&s->chr)) {
        qemu_chr_fe_set_handlers(&s->chr, virtio_ace_chr_can_read,
                                 virtio_ace_chr_read, virtio_ace_chr_event,
                                 NULL, s, NULL, true);
    }
    if (s->socket_path && !virtio_ace_listen(s, errp)) {
        virtio_ace_unrealize(dev);
        return;
    }
}

static void virtio_ace_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOAce *s = VIRTIO_ACE(dev);
    uint32_t i;

    virtio_ace_detach(s, "device removed");
    if (s->listener) {
        qio_net_listener_disconnect(s->listener);
        object_unref(OBJECT(s->listener));
        s->listener = NULL;
        unlink(s->socket_path);
    }
    /* the chardev outlives the device: its client is not left connected
     * to nothing (a device plugged onto it later would greet it) */
    if (qemu_chr_fe_backend_open(&s->chr)) {
        qemu_chr_fe_disconnect(&s->chr);
    }
    qemu_chr_fe_deinit(&s->chr, false);
    for (i = 0; i < s->nr_peers; i++) {
        virtio_ace_peer_down(&s->peers[i]);
        virtio_delete_queue(s->doorbell_vq[i]);
    }
    virtio_delete_queue(s->ctrl_vq);
    virtio_delete_queue(s->event_vq);
    timer_free(s->section_timer);
    qemu_bh_delete(s->drop_bh);     /* before the peers it reads go */
    g_free(s->deferrals);
    g_free(s->peers);
    g_free(s->doorbell_vq);
    qemu_del_vm_change_state_handler(s->vmstate_change);
    remove_migration_state_change_notifier(&s->migration_state);
    postcopy_remove_notifier(&s->postcopy);
    qemu_bh_delete(s->reap_bh);
    g_free(s->reap_ids);
    vmstate_unregister_ram(s->region_mr, dev);
    if (s->region_mr->container) {
        memory_region_del_subregion(s->region_mr->container, s->region_mr);
    }
    /*
     * A memdev stays "mapped" for good: peers that were given its fd may
     * still hold it, so it must never become guest RAM or another device's.
     */
    s->region_mr = NULL;
    virtio_cleanup(vdev);
}

static const VMStateDescription vmstate_virtio_ace_deferral = {
    .name = "virtio-ace-deferral",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_UINT32(seq, VirtIOAceDeferral),
        VMSTATE_INT64(left_ns, VirtIOAceDeferral),
        VMSTATE_END_OF_LIST()
    },
};

/* What the device keeps beyond the arena region (which migrates as RAM). */
static const VMStateDescription vmstate_virtio_ace_device = {
    .name = "virtio-ace-device",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = virtio_ace_pre_save,
    .fields = (VMStateField[]) {
        VMSTATE_BOOL(attached, VirtIOAce),
        VMSTATE_UINT32(arena_size, VirtIOAce),
        VMSTATE_UINT64(generation, VirtIOAce),
        VMSTATE_BOOL(broken_reported, VirtIOAce),
        VMSTATE_BUFFER_UNSAFE(broken, VirtIOAce, 0,
                              sizeof(struct ace_peer_broken)),
        VMSTATE_UINT32(peers_up_saved, VirtIOAce),
        VMSTATE_UINT32(nr_peers_saved, VirtIOAce),
        VMSTATE_UINT32(max_mprocs_saved, VirtIOAce),
        VMSTATE_UINT32(events_owed, VirtIOAce),
        VMSTATE_UINT32(events_owed_pending, VirtIOAce),
        VMSTATE_UINT32(events_owed_broken, VirtIOAce),
        VMSTATE_UINT64(stat_migration_reclaimed, VirtIOAce),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(deferrals, VirtIOAce,
                                             nr_deferrals,
                                             vmstate_virtio_ace_deferral,
                                             VirtIOAceDeferral),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_virtio_ace = {
    .name = "virtio-ace",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_VIRTIO_DEVICE,
        VMSTATE_END_OF_LIST()
    },
};

static Property virtio_ace_properties[] = {
    DEFINE_PROP_CHR("chardev", VirtIOAce, chr),
    DEFINE_PROP_STRING("socket", VirtIOAce, socket_path),
    DEFINE_PROP_LINK("memdev", VirtIOAce, memdev, TYPE_MEMORY_BACKEND,
                     HostMemoryBackend *),
    DEFINE_PROP_SIZE("size", VirtIOAce, size, 0),   /* 0: 64 MiB */
    DEFINE_PROP_BOOL("allow-unsealed", VirtIOAce, allow_unsealed, false),
    DEFINE_PROP_UINT32("mprocs", VirtIOAce, max_mprocs, ACE_MAX_MPROCS),
    DEFINE_PROP_UINT32("peers", VirtIOAce, nr_peers, 8),
    DEFINE_PROP_UINT32("section-ns", VirtIOAce, section_ns, 50000),
    /* direct doorbells: auto = under KVM with ioeventfds only; on = under
     * TCG too, UNSAFE with a hostile peer (see virtio_ace_peer_bell) */
    DEFINE_PROP_ON_OFF_AUTO("x-direct-notify", VirtIOAce, direct_notify,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_ace_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    device_class_set_props(dc, virtio_ace_properties);
    dc->vmsd = &vmstate_virtio_ace;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_ace_realize;
    vdc->unrealize = virtio_ace_unrealize;
    vdc->get_features = virtio_ace_get_features;
    vdc->get_config = virtio_ace_get_config;
    vdc->set_status = virtio_ace_set_status;
    vdc->reset = virtio_ace_reset;
    vdc->vmsd = &vmstate_virtio_ace_device;
    vdc->post_load = virtio_ace_post_load;
}

static const TypeInfo virtio_ace_info = {
    .name = TYPE_VIRTIO_ACE,
    .parent = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOAce),
    .class_init = virtio_ace_class_init,
};

static void virtio_ace_register_types(void)
{
    type_register_static(&virtio_ace_info);
}

type_init(virtio_ace_register_types)
