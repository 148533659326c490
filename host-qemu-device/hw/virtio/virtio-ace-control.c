/*
 * virtio-ace: the control queue.  The guest's ATTACH, DETACH and RESET,
 * each copied out of guest memory once, checked by the parser shared with
 * the fuzzer (virtio-ace-ctrl.c), then carried out here: the arena header
 * validated, peers told.  See docs/device.md, section 6.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/iov.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio-ace.h"
#include "trace.h"
#include "virtio-ace-internal.h"

#define ACE_GUEST_ERRORS_LOGGED 16

/* ------------------------------------------------------------------ */
/* The arena                                                          */
/* ------------------------------------------------------------------ */

void virtio_ace_detach(VirtIOAce *s, const char *why)
{
    uint32_t i;

    if (!s->attached) {
        return;
    }
    for (i = 0; i < s->nr_peers; i++) {
        if (s->peers[i].up) {
            virtio_ace_peer_send(&s->peers[i], ACE_PEER_DETACH, NULL, 0,
                                 NULL, 0);
        }
    }
    timer_del(s->section_timer);
    memset(s->deferrals, 0, sizeof(*s->deferrals) * ACE_MAX_MPROCS);
    virtio_ace_reap_abort(s);
    s->attached = false;
    s->events_owed = 0;
    s->events_owed_pending = 0;
    s->events_owed_broken = 0;
    trace_virtio_ace_detach(why);
}

/*
 * The guest sent something the device refuses: say what, but let no guest
 * flood the host's log by repeating it; past the first few, count only.
 */
static void G_GNUC_PRINTF(2, 3) virtio_ace_guest_error(VirtIOAce *s,
                                                       const char *fmt, ...)
{
    va_list ap;

    if (s->stat_guest_errors++ >= ACE_GUEST_ERRORS_LOGGED) {
        return;
    }
    va_start(ap, fmt);
    error_vreport(fmt, ap);
    va_end(ap);
    if (s->stat_guest_errors == ACE_GUEST_ERRORS_LOGGED) {
        error_report("virtio-ace: further refusals are counted, not logged");
    }
}

/* Validate the header the guest formatted at the region's offset 0. */
static uint32_t virtio_ace_attach(VirtIOAce *s, const VirtIOAceCtrl *c,
                                  uint32_t *detail)
{
    uint32_t i;

    if (ace_arena_attach(&s->arena, s->region, c->arena_size)) {
        virtio_ace_guest_error(s, "virtio-ace: the guest's arena is refused: "
                               "%s (0x%x)", ace_arena_why(&s->arena),
                               s->arena.why_value);
        *detail = s->arena.why_value;
        return EPROTO;
    }
    s->broken_reported = false;
    memset(&s->broken, 0, sizeof(s->broken));
    s->arena_size = c->arena_size;
    s->generation = c->generation;
    s->attached = true;
    trace_virtio_ace_attach(c->arena_size, s->generation);
    for (i = 0; i < s->nr_peers; i++) {
        if (s->peers[i].up) {
            virtio_ace_peer_send_arena(&s->peers[i]);
        }
    }
    return 0;
}

/*
 * One command, copied out of guest memory: checked by the parser shared
 * with tests/fuzz/fuzz_ctrl.c, then carried out.  An ATTACH, refused or
 * not, first detaches the arena before it: the guest is replacing it and
 * may already reuse its memory.
 */
static uint32_t virtio_ace_ctrl_cmd(VirtIOAce *s, const void *buf, size_t len,
                                    uint32_t *cmd, uint32_t *detail)
{
    g_autofree VirtIOAceCtrl *c = g_new(VirtIOAceCtrl, 1);
    uint32_t status;

    status = virtio_ace_ctrl_parse(buf, len, s->arena_max, c, detail);
    *cmd = c->cmd;
    if (c->cmd == ACE_CTRL_ATTACH) {
        virtio_ace_detach(s, "the guest attaches a new arena");
    }
    if (status) {
        virtio_ace_guest_error(s, "virtio-ace: control command %u refused: "
                               "%s (%u)", c->cmd, c->why, *detail);
        return status;
    }
    switch (c->cmd) {
    case ACE_CTRL_ATTACH:
        return virtio_ace_attach(s, c, detail);
    default:        /* DETACH, RESET */
        virtio_ace_detach(s, "the guest asked");
        return 0;
    }
}

void virtio_ace_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOAce *s = VIRTIO_ACE(vdev);
    VirtQueueElement *elem;

    while ((elem = virtqueue_pop(vq, sizeof(VirtQueueElement)))) {
        size_t out = iov_size(elem->out_sg, elem->out_num);
        size_t in = iov_size(elem->in_sg, elem->in_num);
        struct ace_ctrl_status st = { 0 };
        uint32_t status, detail = 0, cmd = 0;

        /* no room for the answer: nothing to refuse with (a command that
         * is too short is answered EINVAL by the parser, section 6) */
        if (in < sizeof(st)) {
            virtio_error(vdev, "virtio-ace: control buffer too small "
                         "(out %zu, in %zu)", out, in);
            virtqueue_detach_element(vq, elem, 0);
            g_free(elem);
            return;
        }
        if (out > VIRTIO_ACE_CTRL_MAX) {
            /* refused unread; the parser says the same of such a length */
            status = E2BIG;
            detail = out > UINT32_MAX ? UINT32_MAX : out;
        } else {
            g_autofree void *buf = g_malloc(out);

            /* one copy: the guest cannot change what is being checked */
            iov_to_buf(elem->out_sg, elem->out_num, 0, buf, out);
            status = virtio_ace_ctrl_cmd(s, buf, out, &cmd, &detail);
        }
        trace_virtio_ace_ctrl(cmd, status, detail);
        st.status = cpu_to_le32(status);
        st.detail = cpu_to_le32(detail);
        iov_from_buf(elem->in_sg, elem->in_num, 0, &st, sizeof(st));
        virtqueue_push(vq, elem, sizeof(st));
        virtio_notify(vdev, vq);
        g_free(elem);
    }
}

