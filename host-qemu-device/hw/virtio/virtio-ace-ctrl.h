/*
 * virtio-ace: the checks on what the guest and host peers send the device,
 * as pure functions (no QEMU types), so that a host fuzzer compiles the
 * very code the device runs (tests/fuzz/fuzz_ctrl.c).
 *
 *   virtio_ace_ctrl_parse()   one control-queue command (ATTACH, DETACH,
 *                             RESET): every field checked;
 *   virtio_ace_peer_in()      the byte stream a host peer sends on its
 *                             socket, framed into messages.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIRTIO_ACE_CTRL_H
#define VIRTIO_ACE_CTRL_H

#if __has_include("ace-shared/ace_abi.h")
#include "ace-shared/ace_abi.h"         /* inside QEMU's tree */
#else
#include "../../../shared/ace_abi.h"    /* the ACE source tree */
#endif
#include <stdbool.h>

/* Every control command is exactly one struct ace_ctrl_cmd. */
#define VIRTIO_ACE_CTRL_MAX     sizeof(struct ace_ctrl_cmd)

/* A checked control command. */
typedef struct VirtIOAceCtrl {
    uint32_t cmd;                   /* ACE_CTRL_* */
    uint32_t arena_size;            /* ATTACH: bytes from the region's 0 */
    uint64_t generation;            /* ATTACH: the header's generation */
    const char *why;                /* refused: what was wrong */
} VirtIOAceCtrl;

/*
 * Check the command in buf[0, len) (a private copy: the guest cannot change
 * it meanwhile).  Returns 0 with *c filled, or the positive errno the
 * device answers with, *detail naming the refused value and c->why saying
 * what was wrong:
 *   EINVAL  a command shorter than its header, an unknown command, or a
 *           reserved field that is not 0;
 *   E2BIG   a command longer than VIRTIO_ACE_CTRL_MAX, or an arena size
 *           below ACE_MIN_ARENA, above arena_max (the region's size) or
 *           not 4 KiB-aligned.
 * The arena always starts at offset 0 of the device's region.
 */
uint32_t virtio_ace_ctrl_parse(const void *buf, size_t len, uint32_t arena_max,
                               VirtIOAceCtrl *c, uint32_t *detail);

/* ---- what host peers send ---- */

/* The largest message body the device keeps; longer ones are skipped. */
#define VIRTIO_ACE_PEER_BODY_MAX    sizeof(struct ace_peer_broken)
#define VIRTIO_ACE_PEER_SKIP_MAX    (1u << 16)

/* Framing state of one peer's byte stream. */
typedef struct VirtIOAcePeerIn {
    uint8_t buf[sizeof(struct ace_peer_msg) + VIRTIO_ACE_PEER_BODY_MAX];
    uint32_t have;                  /* bytes in buf */
    uint32_t skip;                  /* body bytes still to drop */
} VirtIOAcePeerIn;

/* A complete message from a peer: BROKEN, or DETACHED or BELL_REQ (no
 * body). */
typedef struct VirtIOAcePeerMsg {
    uint32_t type;                  /* ACE_PEER_*, 0: none complete yet */
    struct ace_peer_broken broken;  /* ACE_PEER_BROKEN; why: printable */
} VirtIOAcePeerMsg;

/*
 * Take bytes data[0, n) from a peer (n at most INT_MAX).  Returns how many
 * were consumed; when a message is complete it stops there and fills *m
 * (m->type != 0): call again with the rest.  Returns -1 on a protocol
 * violation (bad magic, a BROKEN of the wrong size, a DETACHED or
 * BELL_REQ with a body, a body longer than
 * VIRTIO_ACE_PEER_SKIP_MAX): the device drops that peer.  Messages of a
 * type this version does not know are skipped.
 */
int virtio_ace_peer_in(VirtIOAcePeerIn *in, const uint8_t *data, size_t n,
                       VirtIOAcePeerMsg *m);

#endif
