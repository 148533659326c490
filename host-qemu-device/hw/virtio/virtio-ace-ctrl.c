/*
 * virtio-ace: checking what the guest puts on the control queue and what
 * host peers write on their sockets.  Pure functions over private copies:
 * compiled into the device and into tests/fuzz/fuzz_ctrl.c (which builds
 * it with -DVIRTIO_ACE_CTRL_STANDALONE, outside QEMU).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef VIRTIO_ACE_CTRL_STANDALONE
#include "qemu/osdep.h"
#endif
#include "virtio-ace-ctrl.h"

#define ACE_PAGE 4096u

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static uint32_t refuse(VirtIOAceCtrl *c, uint32_t *detail, uint32_t status,
                       uint32_t what, const char *why)
{
    *detail = what;
    c->why = why;
    return status;
}

/*
 * ATTACH names no memory: the arena is always at offset 0 of the device's
 * own region, so all there is to check is its size against the region.
 */
static uint32_t parse_attach(const struct ace_ctrl_cmd *h, uint32_t arena_max,
                             VirtIOAceCtrl *c, uint32_t *detail)
{
    uint32_t size = h->arena_size;

    if (arena_max > ACE_MAX_ARENA) {
        arena_max = ACE_MAX_ARENA;
    }
    if (size < ACE_MIN_ARENA || size > arena_max || size % ACE_PAGE) {
        return refuse(c, detail, E2BIG, size,
                      "arena size below 64 KiB, above the region's size or "
                      "not 4 KiB-aligned");
    }
    c->arena_size = size;
    c->generation = h->generation;
    return 0;
}

uint32_t virtio_ace_ctrl_parse(const void *buf, size_t len, uint32_t arena_max,
                               VirtIOAceCtrl *c, uint32_t *detail)
{
    struct ace_ctrl_cmd h;

    c->cmd = 0;
    c->arena_size = 0;
    c->generation = 0;
    c->why = NULL;
    *detail = 0;
    if (len < sizeof(h)) {
        return refuse(c, detail, EINVAL, (uint32_t)len,
                      "command shorter than 24 bytes");
    }
    if (len > VIRTIO_ACE_CTRL_MAX) {
        return refuse(c, detail, E2BIG, len > UINT32_MAX ? UINT32_MAX :
                      (uint32_t)len, "command longer than 24 bytes");
    }
    memcpy(&h, buf, sizeof(h));
    c->cmd = h.cmd;
    if (h.reserved0 || h.reserved1) {
        return refuse(c, detail, EINVAL, h.reserved0 ? h.reserved0 :
                      h.reserved1, "reserved field is not 0");
    }
    switch (h.cmd) {
    case ACE_CTRL_ATTACH:
        return parse_attach(&h, arena_max, c, detail);
    case ACE_CTRL_DETACH:
    case ACE_CTRL_RESET:
        return 0;
    default:
        return refuse(c, detail, EINVAL, h.cmd, "unknown command");
    }
}

/* ------------------------------------------------------------------ */
/* Host peers                                                         */
/* ------------------------------------------------------------------ */

/*
 * A BROKEN body as the device keeps it: the reason NUL-terminated and
 * printable, whatever the peer wrote.
 */
static void take_broken(const uint8_t *body, struct ace_peer_broken *b)
{
    size_t i;

    memcpy(b, body, sizeof(*b));
    b->why[ACE_WHY_MAX - 1] = 0;
    for (i = 0; b->why[i]; i++) {
        unsigned char ch = (unsigned char)b->why[i];

        if (ch < 0x20 || ch > 0x7e) {
            b->why[i] = '?';
        }
    }
}

int virtio_ace_peer_in(VirtIOAcePeerIn *in, const uint8_t *data, size_t n,
                       VirtIOAcePeerMsg *m)
{
    const size_t hlen = sizeof(struct ace_peer_msg);
    const size_t full = hlen + sizeof(struct ace_peer_broken);
    struct ace_peer_msg h;
    size_t used = 0, k;

    m->type = 0;
    while (used < n) {
        if (in->skip) {
            k = min_size(in->skip, n - used);
            in->skip -= k;
            used += k;
            continue;
        }
        if (in->have < hlen) {
            k = min_size(hlen - in->have, n - used);
            memcpy(in->buf + in->have, data + used, k);
            in->have += k;
            used += k;
            if (in->have < hlen) {
                break;
            }
            memcpy(&h, in->buf, hlen);
            if (h.magic != ACE_PEER_MAGIC) {
                return -1;
            }
            if (h.type == ACE_PEER_BROKEN) {
                if (h.len != sizeof(struct ace_peer_broken)) {
                    return -1;
                }
                continue;       /* now its body */
            }
            if (h.type == ACE_PEER_DETACHED || h.type == ACE_PEER_BELL_REQ) {
                if (h.len) {
                    return -1;
                }
                m->type = h.type;
                in->have = 0;
                break;
            }
            /* a type this version does not know: drop its body */
            if (h.len > VIRTIO_ACE_PEER_SKIP_MAX) {
                return -1;
            }
            in->skip = h.len;
            in->have = 0;
            continue;
        }
        /* the body of a BROKEN */
        k = min_size(full - in->have, n - used);
        memcpy(in->buf + in->have, data + used, k);
        in->have += k;
        used += k;
        if (in->have < full) {
            break;
        }
        take_broken(in->buf + hlen, &m->broken);
        m->type = ACE_PEER_BROKEN;
        in->have = 0;
        break;
    }
    return (int)used;
}
