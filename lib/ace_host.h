/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_host.h - the host side's connection to a virtio-ace device: the
 * peer socket, the kick and raise socket pairs and the arena mapped from
 * the device's arena region (the only memory of the guest's a peer ever
 * sees).
 *
 * Internal to libace (the public API is ace.h); also used directly by
 * host test peers.  Every message from the device is checked before use.
 */
#ifndef ACE_HOST_H
#define ACE_HOST_H

#include "../shared/ace_core.h"

#define ACE_HOST_MAX_BODY 4096	/* longer than any message this ABI knows */
#define ACE_HOST_MAX_FDS 4

/*
 * One arena as mapped here.  Allocated when the arena is taken and never
 * overwritten, so whoever holds a reference may go on using its view and
 * its memory: while the arena is attached, the shared mapping; once it is
 * gone (see ace_host_process), a private placeholder at the same address,
 * kept until the last reference goes, so no later arena is ever mapped
 * where a handle of this one still points.  libace's mprocs each hold a
 * reference to the arena they were made in; the connection holds one
 * (h->arena) until the next arena is taken, or the connection is closed.
 */
struct ace_host_arena {
	struct ace_arena a;	/* the validated view (first: see libace) */
	u64 epoch;		/* h->epoch while it was the current arena */
	void *map;		/* the mapping, or its placeholder */
	size_t map_len;		/* the arena rounded up to the fd's pages */
	u32 refs;		/* atomic */
};

struct ace_host {
	int sock;		/* connection to the device */
	int kick_fd;		/* readable when the guest rang our doorbell */
	int raise_fd;		/* write 1 to make the device scan pending bits */
	int bell_fd;		/* ABI 2.2: readable when the guest rang our
				 * doorbell, with no QEMU thread on the way
				 * (an eventfd; -1: none, kick_fd has all) */
	int bell_asked;		/* BELL_REQ sent, BELL not yet come */
	u32 peer;		/* our peer index */
	u32 max_peers;
	u32 section_ns;
	/* the arena, once the guest attached one */
	int attached;
	u64 region_bytes;	/* the region fd's size, as checked */
	u32 size;
	u64 generation;
	u64 epoch;		/* +1 at every arena event: a new arena
				 * (taken or refused), a detach, a
				 * broken connection (64 bits: a device
				 * cannot wrap it around) */
	char event[320];	/* the last arena event, in words */
	int dead;		/* the connection is broken (-errno; atomic:
				 * set by one thread, read by any) */
	/* the arena attached, or the last one (gone, its placeholder
	 * mapped) until another is taken; NULL before the first.  Replaced
	 * under arena_lock: see ace_host_arena_get(). */
	struct ace_host_arena *arena;
	int arena_lock;
	/* a broken arena: told to the device once; or told by it, why */
	int broken_told;
	char broken_why[ACE_WHY_MAX + 32];
	char err[256];		/* what went wrong, for the caller to print */
	/* the device's message in the making, taken as it comes */
	struct {
		struct ace_peer_msg hdr;
		u8 body[ACE_HOST_MAX_BODY] __attribute__((aligned(8)));
		int fds[ACE_HOST_MAX_FDS];
		int nfds;
		size_t got;	/* bytes of hdr + body so far */
		long since_ms;	/* when its first byte came */
	} rx;
};

/* Connect to the device's socket and take its HELLO (index, kick, raise),
 * and, when the device offers one (ABI 2.2), the direct doorbell (BELL;
 * not asked for when ACE_NO_BELL=1 is set).
 * Waits up to timeout_ms (negative: for ever) for the socket to appear
 * and answer.
 * Returns 0 or -errno with h->err set. */
int ace_host_connect(struct ace_host *h, const char *path, int timeout_ms);

/* Read and apply the messages the device has sent (ARENA maps and
 * attaches the arena, DETACH unmaps it), at most ACE_HOST_BUDGET per
 * call: the socket stays readable while more wait.  Waits up to
 * timeout_ms for the first one (0: do not wait), never for the rest of a
 * message begun: its bytes are kept for the next call.  A message begun
 * must be whole within ACE_HOST_MSG_MS of its first byte (a device sends
 * each message in one go), or the connection breaks.
 * Returns the number handled, or -errno:
 *   -EPIPE   the connection is broken (the device went away, stalled in
 *            a message, or broke the protocol); h->dead is set, every
 *            later call says the same, and the arena is unmapped;
 *   other    a new arena was refused (h->err says why); the old one is
 *            gone all the same (h->epoch moved), the connection stays. */
#define ACE_HOST_BUDGET	16
#define ACE_HOST_MSG_MS	1000
int ace_host_process(struct ace_host *h, int timeout_ms);

/* Wait until an arena is attached (processing messages meanwhile), up
 * to timeout_ms (negative: for ever). */
int ace_host_wait_arena(struct ace_host *h, int timeout_ms);

/* Ask the device to scan the pending bitmap (after ace_send returned 1). */
int ace_host_raise(struct ace_host *h);

/* After the core returned -EIO: tell the device (once per arena) what
 * was wrong, so that it stops using the arena and tells the guest and
 * the other peers (ACE_PEER_BROKEN).  Nothing if the arena is fine, or if
 * the device is the one that said so. */
void ace_host_report_broken(struct ace_host *h);

/* A reference to h->arena (NULL if there is none yet): its view and
 * memory stay valid until ace_host_arena_put(), whatever the device does
 * meanwhile (safe against ace_host_process() in another thread).  Whether
 * it is still the current arena: ha->epoch == h->epoch. */
struct ace_host_arena *ace_host_arena_get(struct ace_host *h);
/* Drop a reference (NULL: nothing); the last one unmaps and frees it. */
void ace_host_arena_put(struct ace_host_arena *ha);

/* Consume doorbell kicks (kick_fd and bell_fd); returns how many
 * arrived (0 if none). */
u64 ace_host_take_kicks(struct ace_host *h);

void ace_host_close(struct ace_host *h);

#endif /* ACE_HOST_H */
