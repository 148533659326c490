/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_host.h - the host side's connection to a virtio-ace device: the
 * peer socket, the two eventfds and the arena mapped from the device's
 * arena region (the only memory of the guest's a peer ever sees).
 *
 * Internal to libace (the public API is ace.h); also used directly by
 * host test peers.  Every message from the device is checked before use.
 */
#ifndef ACE_HOST_H
#define ACE_HOST_H

#include "../shared/ace_core.h"

struct ace_host {
	int sock;		/* connection to the device */
	int kick_fd;		/* readable when the guest rang our doorbell */
	int raise_fd;		/* write 1 to make the device scan pending bits */
	u32 peer;		/* our peer index */
	u32 max_peers;
	u32 section_ns;
	/* the arena, once the guest attached one */
	int attached;
	void *map;
	u64 region_bytes;	/* the region fd's size, as checked */
	size_t map_len;		/* the arena rounded up to the fd's pages */
	size_t old_len;
	u32 size;
	u64 generation;
	u32 epoch;		/* +1 at every attach and detach */
	void *old_map;		/* a detached arena's placeholder */
	struct ace_arena arena;
	/* a broken arena: told to the device once; or told by it, why */
	int broken_told;
	char broken_why[ACE_WHY_MAX + 32];
	char err[256];		/* what went wrong, for the caller to print */
};

/* Connect to the device's socket and take its HELLO (index, eventfds).
 * Waits up to timeout_ms for the socket to appear and answer.
 * Returns 0 or -errno with h->err set. */
int ace_host_connect(struct ace_host *h, const char *path, int timeout_ms);

/* Read and apply the messages the device has sent (ARENA maps and
 * attaches the arena, DETACH unmaps it), at most ACE_HOST_BUDGET per
 * call: the socket stays readable while more wait.  Waits up to
 * timeout_ms for the first one (0: do not wait).  Returns the number
 * handled, or -errno: -EPIPE when the device went away (QEMU exited). */
#define ACE_HOST_BUDGET	16
int ace_host_process(struct ace_host *h, int timeout_ms);

/* Wait until an arena is attached (processing messages meanwhile). */
int ace_host_wait_arena(struct ace_host *h, int timeout_ms);

/* Ask the device to scan the pending bitmap (after ace_send returned 1). */
int ace_host_raise(struct ace_host *h);

/* After the core returned -EIO: tell the device (once per arena) what
 * was wrong, so that it stops using the arena and tells the guest and
 * the other peers (ACE_PEER_BROKEN).  Nothing if the arena is fine, or if
 * the device is the one that said so. */
void ace_host_report_broken(struct ace_host *h);

/* Consume doorbell kicks; returns how many arrived (0 if none). */
u64 ace_host_take_kicks(struct ace_host *h);

void ace_host_close(struct ace_host *h);

#endif /* ACE_HOST_H */
