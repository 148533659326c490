/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The wire protocol between ace_rng.ko (the guest's
 * hw_random driver) and ace-rngd (the host service), both ACE mprocs.
 *
 * Every message starts with struct ace_rng_hdr in its ACE payload; all
 * fields are little-endian u32.  The ACE message length (the payload
 * bytes the sender declared) is part of the protocol:
 *
 *   REQ    client -> "ace-rngd"   length 16; len = bytes wanted
 *                                 (1..ACE_RNG_MAX), seq chosen by the client
 *   REPLY  "ace-rngd" -> client   length 16 + len; the same seq, len <= the
 *                                 bytes wanted, then len random bytes
 *
 * The service answers in a block of its own and frees the request; the
 * client copies the bytes out and frees the reply.  A receiver trusts no
 * field: it reads the header once into a local copy and checks the type,
 * the sequence, the sender, len against what was asked and against the
 * message length, before touching a byte of data.
 */
#ifndef ACE_RNG_PROTO_H
#define ACE_RNG_PROTO_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#else
#include <assert.h>
#endif

typedef __le32 ace_rng_le32;

#define ACE_RNG_SERVICE	"ace-rngd"	/* the host service's mproc name */
#define ACE_RNG_CLIENT	"ace-rng"	/* the guest driver's mproc name */

#define ACE_RNG_REQ	0x51474e52u	/* "RNGQ" */
#define ACE_RNG_REPLY	0x50474e52u	/* "RNGP" */

/* Most bytes one request may ask for: 16 + 4048 fills a 4 KiB block
 * (4096 minus the 32-byte ACE message header).
 */
#define ACE_RNG_MAX	4048u

struct ace_rng_hdr {
	ace_rng_le32 type;	/* ACE_RNG_REQ or ACE_RNG_REPLY */
	ace_rng_le32 seq;	/* REPLY: the REQ's seq */
	ace_rng_le32 len;	/* REQ: bytes wanted; REPLY: bytes that follow */
	ace_rng_le32 reserved;	/* 0 */
};

#define ACE_RNG_HDR	((__u32)sizeof(struct ace_rng_hdr))

static_assert(sizeof(struct ace_rng_hdr) == 16, "ace_rng_hdr is 16 bytes");

#endif /* ACE_RNG_PROTO_H */
