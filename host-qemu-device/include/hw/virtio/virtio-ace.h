/*
 * virtio-ace: a zero-copy message channel between host processes and the
 * guest, over message pools in a shared memory region of the device's own.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_VIRTIO_ACE_H
#define QEMU_VIRTIO_ACE_H

#include "hw/virtio/virtio.h"
#include "chardev/char-fe.h"
#include "io/channel-socket.h"
#include "io/net-listener.h"
#include "qemu/event_notifier.h"
#include "qemu/timer.h"
#include "sysemu/hostmem.h"
#include "sysemu/runstate.h"
#include "qom/object.h"
#include "../../../hw/virtio/ace-shared/ace_core.h"
#include "../../../hw/virtio/virtio-ace-ctrl.h"

#define TYPE_VIRTIO_ACE "virtio-ace-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOAce, VIRTIO_ACE)

/* One host peer: a process using libace's host backend. */
typedef struct VirtIOAcePeer {
    struct VirtIOAce *dev;
    int index;
    bool up;
    QIOChannelSocket *sioc;     /* listener peers */
    guint watch;
    bool is_chardev;            /* the peer behind chardev= */
    bool detached;              /* acknowledged DETACH (migration) */
    GQueue out;                 /* VirtIOAceOut: not yet written to it */
    guint out_watch;            /* G_IO_OUT while out is not empty */
    bool drop;                  /* to be dropped (drop_bh) */
    int kick_fd;                /* device -> peer: QEMU's end of a pair */
    int kick_peer_fd;           /* the peer's end (kept until peer down) */
    int raise_fd;               /* peer -> device ("scan"): QEMU's end */
    int raise_peer_fd;
    bool bell;                  /* a direct doorbell: bell_notifier is
                                 * assigned to its doorbell queue */
    EventNotifier bell_notifier;    /* signalled by KVM or the memory
                                     * core; the peer reads it */
    VirtIOAcePeerIn in;         /* what the peer sent, being framed */
} VirtIOAcePeer;

/* A section whose deferred delivery the device is timing. */
typedef struct VirtIOAceDeferral {
    uint32_t seq;
    int64_t deadline_ns;        /* 0: not timing this slot */
    int64_t left_ns;            /* migration: what was left of the bound */
} VirtIOAceDeferral;

struct VirtIOAce {
    VirtIODevice parent_obj;

    /* properties */
    CharBackend chr;
    char *socket_path;
    HostMemoryBackend *memdev;  /* the arena region's backing, or ... */
    uint64_t size;              /* ... the size of the device's own memfd */
    bool allow_unsealed;        /* a memdev peers could truncate (QEMU too) */
    uint32_t max_mprocs;
    uint32_t nr_peers;
    uint32_t section_ns;
    OnOffAuto direct_notify;    /* x-direct-notify: auto = KVM only */
    bool bell_pages;            /* set by virtio-ace-pci: page-per-vq, so
                                 * VIRTIO_ACE_F_BELL_PAGES is offered */

    VirtQueue *ctrl_vq;
    VirtQueue *event_vq;
    VirtQueue **doorbell_vq;
    VirtIOAcePeer *peers;
    QIONetListener *listener;
    VMChangeStateEntry *vmstate_change;
    Notifier migration_state;   /* a paused VM's migration: freeze early */
    NotifierWithReturn postcopy;    /* refuses postcopy */
    QEMUBH *drop_bh;            /* drops peers marked drop */
    uint64_t chr_conn;          /* +1 per chardev connection (OPENED) */
    uint64_t chr_hangup;        /* chr_conn + 1 of a connection drop_bh
                                 * is to end; 0: none (cleared when that
                                 * connection closes) */

    /* the arena region (virtio shared memory region ACE_SHM_ARENA) */
    MemoryRegion own_region;    /* when no memdev is given */
    MemoryRegion *region_mr;    /* memdev's or own_region */
    void *region;               /* its host address */
    int region_fd;              /* what peers map */
    uint64_t region_size;
    uint32_t arena_max;         /* the largest arena: the region's size */

    /* the attached arena, at the region's offset 0 */
    bool attached;
    uint32_t arena_size;
    struct ace_arena arena;
    uint64_t generation;
    bool broken_reported;
    struct ace_peer_broken broken;  /* why, and who found it */

    /* host -> guest events owed for want of a posted buffer */
    uint32_t events_owed;
    uint32_t events_owed_pending;
    uint32_t events_owed_broken;

    /* ACE section time bounds */
    QEMUTimer *section_timer;
    VirtIOAceDeferral *deferrals;   /* [nr_deferrals = ACE_MAX_MPROCS] */
    uint32_t nr_deferrals;
    uint32_t nr_peers_saved, max_mprocs_saved;  /* must match at load */

    /* migration and snapshots (see "Migration" in virtio-ace.c) */
    bool frozen;                /* peers detached for a final copy */
    bool loaded;                /* state came in: finish when running */
    uint32_t peers_up_saved;    /* peers the guest knew of at the copy */
    uint64_t stat_migration_reclaimed;  /* blocks of host mprocs closed */

    /* reclaiming dead peers' mprocs: one sliced pass (virtio-ace-peers.c) */
    QEMUBH *reap_bh;
    uint32_t *reap_ids;         /* [ACE_MAX_MPROCS] ids being reaped, 0: not */
    uint32_t reap_nr;           /* nonzero entries in reap_ids */
    uint32_t reap_cursor;       /* the next block to look at */
    uint32_t reap_peers;        /* the pass's peers (0: none running) */
    uint32_t reap_next_peers;   /* peers gone meanwhile: the next pass */
    int64_t reap_freed;         /* blocks freed by this pass */
    int64_t reap_t0;

    /* counters, for tests and `info qtree`-style inspection */
    uint64_t stat_reap_passes;
    uint64_t stat_reap_slices;
    uint64_t stat_reap_freed;
    uint64_t stat_reap_max_ns;  /* the longest slice: BQL held for it */
    uint64_t stat_interrupts;
    uint64_t stat_overruns;
    uint64_t stat_doorbells;    /* doorbells relayed by a QEMU thread */
    uint64_t stat_raises;       /* raise handler runs (main loop) */
    uint64_t stat_bells;        /* direct doorbells handed to peers */
    uint32_t nr_bells;          /* peers with one now */
    bool bells_grabbed;         /* the queues' own ioeventfds are off */
    uint64_t stat_guest_errors;     /* commands and arenas refused */
};

/* The arena region, for the transport to put into a BAR. */
MemoryRegion *virtio_ace_region(VirtIOAce *s);

#endif
