/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_stream_proto.h - byte streams over ACE messages: the wire protocol
 * between two ace-proxy mprocs (tools/ace-proxy.c), one in a guest and one
 * on the host, either of which may open streams to the other.
 *
 * The message's ACE type says what it is; its ACE tag is a stream id
 * chosen by the RECEIVER of the message (an index and a generation into
 * the receiver's own stream table), so a receiver finds the stream in one
 * checked table look-up, and a peer can only ever name streams that the
 * receiver gave it.  The one exception is OPEN, whose tag is the opener's
 * own id (the receiver has none yet).
 *
 *   OPEN    opener -> service    tag = opener's id; ctl: window
 *   ACCEPT  service -> opener    tag = opener's id; ctl: id = the service's
 *                                id for the stream, window
 *   DATA    either way           tag = receiver's id; payload: the bytes
 *                                (1 .. ACE_STREAM_MAX_DATA)
 *   CREDIT  either way           tag = receiver's id; ctl: credit = bytes
 *                                of window given back
 *   SHUT    either way           tag = receiver's id; no ctl: the sender
 *                                will send no more DATA (its side read EOF)
 *   CLOSE   either way           tag = receiver's id; ctl: err (an errno,
 *                                0 = none): the sender dropped the stream;
 *                                also the refusal of an OPEN
 *
 * Every control message but SHUT carries exactly one struct
 * ace_stream_ctl (its ACE length is ACE_STREAM_CTL); SHUT carries none.
 *
 * Flow control: each side tells the other, in OPEN or ACCEPT, how many
 * bytes it will buffer for the stream (its window).  A DATA message of L
 * bytes costs its sender L + ACE_STREAM_MSG_COST of that window (the cost
 * bounds the messages, not only the bytes, a receiver may have to hold);
 * the receiver gives the cost back with CREDIT once it has passed the
 * bytes on.  A sender never has more than the window outstanding, so a
 * slow reader costs its peer at most the window per stream, and a
 * receiver that gets more, or more credit back than it has outstanding,
 * has a broken or hostile peer: it closes that stream (err EPROTO).
 *
 * Half-close: SHUT after the last DATA of one direction; the receiver
 * shuts down the writing side of its socket once it has written
 * everything.  A side forgets the stream once it has both sent and
 * received SHUT and written everything, or sent or received CLOSE.
 * Messages naming a forgotten id are dropped (an ACCEPT for one is
 * answered with CLOSE, so the service forgets its half too).
 *
 * A receiver trusts no field: it reads type, tag, length and sender once
 * (libace hands them over in struct ace_buf, after the core checked the
 * block), copies the ctl out once, and checks the id's index, its
 * generation, the sender, the stream's state and every count before use.
 * All fields are little-endian u32 (ACE hosts are x86).
 */
#ifndef ACE_STREAM_PROTO_H
#define ACE_STREAM_PROTO_H

#include <stdint.h>

/* ACE message types (struct ace_buf.type) */
#define ACE_STREAM_OPEN		0x53410001u
#define ACE_STREAM_ACCEPT	0x53410002u
#define ACE_STREAM_DATA		0x53410003u
#define ACE_STREAM_CREDIT	0x53410004u
#define ACE_STREAM_SHUT		0x53410005u
#define ACE_STREAM_CLOSE	0x53410006u

/* Stream ids: the low 16 bits index the owner's table, the high 16 are a
 * generation that changes each time the entry is reused. */
#define ACE_STREAM_ID(idx, gen)	(((uint32_t)(gen) << 16) | ((idx) & 0xffffu))
#define ACE_STREAM_IDX(id)	((id) & 0xffffu)
#define ACE_STREAM_GEN(id)	((id) >> 16)
#define ACE_STREAM_MAX_STREAMS	65535u	/* index 0xffff is never used */

/* What one DATA message costs of the window beyond its bytes. */
#define ACE_STREAM_MSG_COST	256u
/* Windows a side may announce: enough for one byte, at most 64 MiB. */
#define ACE_STREAM_MIN_WINDOW	(ACE_STREAM_MSG_COST + 1u)
#define ACE_STREAM_MAX_WINDOW	(64u << 20)
/* The most bytes one DATA message carries (a 2 MiB block's payload). */
#define ACE_STREAM_MAX_DATA	((2u << 20) - 32u)
/* errno values a CLOSE may carry (larger ones read as EPROTO). */
#define ACE_STREAM_MAX_ERR	4095u

struct ace_stream_ctl {
	uint32_t id;		/* ACCEPT: the sender's id for the stream */
	uint32_t window;	/* OPEN, ACCEPT: bytes the sender will buffer */
	uint32_t credit;	/* CREDIT: window given back, in bytes */
	uint32_t err;		/* CLOSE: errno, 0 = none */
};

#define ACE_STREAM_CTL	((uint32_t)sizeof(struct ace_stream_ctl))

_Static_assert(sizeof(struct ace_stream_ctl) == 16, "ace_stream_ctl is 16 bytes");

#endif /* ACE_STREAM_PROTO_H */
