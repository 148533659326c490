/*
 * virtio-ace: the checks on what the guest and host peers send the device,
 * as pure functions (no QEMU types), so that a host fuzzer compiles the
 * very code the device runs (tests/fuzz/fuzz_ctrl.c).
 *
 *   virtio_ace_ctrl_parse()   one control-queue command (ATTACH, DETACH,
 *                             RESET): every field and every chunk checked,
 *                             the arena's region table computed;
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

/* The longest control command: the header and ACE_MAX_CHUNKS chunks. */
#define VIRTIO_ACE_CTRL_MAX \
    (sizeof(struct ace_ctrl_cmd) + ACE_MAX_CHUNKS * sizeof(struct ace_chunk))

/*
 * Where does guest range [gpa, gpa + len) live in the guest-RAM fd?  True,
 * with *fd_off, only if all of it is writable RAM in one piece, backed by
 * the RAM fd that host peers map.
 */
typedef bool (*VirtIOAceRamLookup)(void *opaque, uint64_t gpa, uint64_t len,
                                   uint64_t *fd_off);

/* One accepted chunk: where it sits in guest RAM, the arena and the fd. */
typedef struct VirtIOAceRegion {
    uint64_t gpa;
    uint64_t arena_off;
    uint64_t fd_off;
    uint64_t len;
} VirtIOAceRegion;

/* A checked control command. */
typedef struct VirtIOAceCtrl {
    uint32_t cmd;                   /* ACE_CTRL_* */
    uint32_t arena_size;            /* ATTACH: bytes */
    uint64_t generation;            /* ATTACH: the header's generation */
    uint32_t nr_regions;            /* ATTACH: chunks, in arena order */
    VirtIOAceRegion regions[ACE_MAX_CHUNKS];
    const char *why;                /* refused: what was wrong */
} VirtIOAceCtrl;

/*
 * Check the command in buf[0, len) (a private copy: the guest cannot change
 * it meanwhile).  Returns 0 with *c filled, or the positive errno the
 * device answers with, *detail naming the refused field (the chunk index,
 * the size, the count) and c->why saying what was wrong:
 *   EINVAL  unknown command, bad chunk count, a chunk misaligned, empty,
 *           larger than ACE_MAX_CHUNK, wrapping, overlapping another (in
 *           guest RAM or in the fd), outside shared RAM, or chunks that do
 *           not add up to arena_size;
 *   E2BIG   a command longer than VIRTIO_ACE_CTRL_MAX, or an arena size
 *           below ACE_MIN_ARENA, above arena_max or not 4 KiB-aligned.
 * Accepted regions are 4 KiB-aligned in guest RAM and in the fd, at most
 * ACE_MAX_CHUNK long, pairwise disjoint in both, and tile [0, arena_size).
 */
uint32_t virtio_ace_ctrl_parse(const void *buf, size_t len, uint32_t arena_max,
                               VirtIOAceRamLookup lookup, void *opaque,
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

/* A complete message from a peer. */
typedef struct VirtIOAcePeerMsg {
    uint32_t type;                  /* ACE_PEER_*, 0: none complete yet */
    struct ace_peer_broken broken;  /* ACE_PEER_BROKEN; why: printable */
} VirtIOAcePeerMsg;

/*
 * Take bytes data[0, n) from a peer (n at most INT_MAX).  Returns how many
 * were consumed; when a message is complete it stops there and fills *m
 * (m->type != 0): call again with the rest.  Returns -1 on a protocol
 * violation (bad magic, a BROKEN of the wrong size, a body longer than
 * VIRTIO_ACE_PEER_SKIP_MAX): the device drops that peer.  Messages of a
 * type this version does not know are skipped.
 */
int virtio_ace_peer_in(VirtIOAcePeerIn *in, const uint8_t *data, size_t n,
                       VirtIOAcePeerMsg *m);

#endif
