/*
 * virtio-ace: a zero-copy message channel between host processes and the
 * guest, over message pools the guest keeps in its own RAM.
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
    EventNotifier kick;         /* guest doorbell -> peer (peer reads) */
    EventNotifier raise;        /* peer -> device: scan the pending bits */
    VirtIOAcePeerIn in;         /* what the peer sent, being framed */
} VirtIOAcePeer;

/* A section whose deferred delivery the device is timing. */
typedef struct VirtIOAceDeferral {
    uint32_t seq;
    int64_t deadline_ns;        /* 0: not timing this slot */
} VirtIOAceDeferral;

struct VirtIOAce {
    VirtIODevice parent_obj;

    /* properties */
    CharBackend chr;
    char *socket_path;
    uint32_t arena_max;
    uint32_t max_mprocs;
    uint32_t nr_peers;
    uint32_t section_ns;

    VirtQueue *ctrl_vq;
    VirtQueue *event_vq;
    VirtQueue **doorbell_vq;
    VirtIOAcePeer *peers;
    QIONetListener *listener;
    Error *migration_blocker;

    /* the attached arena, mapped contiguously in our address space */
    bool attached;
    void *map;
    uint32_t map_size;
    int ram_fd;
    uint32_t nr_regions;
    struct ace_peer_region *regions;
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
    VirtIOAceDeferral *deferrals;   /* [ACE_MAX_MPROCS] */

    /* counters, for tests and `info qtree`-style inspection */
    uint64_t stat_interrupts;
    uint64_t stat_overruns;
    uint64_t stat_doorbells;
    uint64_t stat_guest_errors;     /* commands and arenas refused */
};

#endif
