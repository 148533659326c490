/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_core.h - the operations on an arena, shared by every side.
 *
 * The core is freestanding C: the guest module, the QEMU device and libace
 * compile the same ace_*.c files.  It never allocates, never sleeps and
 * never blocks: every loop is bounded (by the block count, the slot count
 * or ACE_CAS_RETRIES), and every word read from the arena is read once,
 * checked, and used only as the checked copy.
 *
 * Errors are negative errno values:
 *   -EIO       the arena is broken (sticky): a word a peer wrote is out of
 *              range, misaligned, or a list is cyclic.  ace_arena_why()
 *              says what was wrong.  Every later call returns -EIO too.
 *   -EINVAL    the caller passed something wrong (bad size, double free)
 *   -ENOBUFS   no free block large enough
 *   -ENOENT    no such mproc (closed, or the generation moved on)
 *   -EEXIST    an mproc of that name exists
 *   -ENOSPC    the mproc table is full
 *   -EAGAIN    a CAS kept failing ACE_CAS_RETRIES times (a peer livelocks it)
 *   -EOVERFLOW section nesting deeper than 255
 *
 * Threading: any number of threads on any side may alloc, free and send
 * concurrently.  An mproc's receive cursor (struct ace_rx) and its section
 * and arm calls belong to its one owner thread at a time.
 */
#ifndef ACE_CORE_H
#define ACE_CORE_H

#include "ace_abi.h"

#define ACE_CAS_RETRIES		(1u << 20)

/* The private view of one arena.  Geometry is copied here once, checked,
 * and never re-read from shared memory (a peer cannot change it later). */
struct ace_class {
	u32 hbase;		/* handle of its message 0 */
	u32 nr;			/* blocks; 0 for a class the arena lacks */
	u32 shift;		/* log2(block size) */
	u32 data;		/* offset of block 0's payload */
	u32 payload_max;	/* block size: the payload capacity */
	u32 cache_cap;		/* blocks one ace_cache keeps (0: none) */
};

#define ACE_NO_CLASS	ACE_MAX_CLASSES

struct ace_arena {
	u8 *base;
	u32 size;
	u32 nr_mprocs;
	u32 mproc_off;
	u32 pending_off;
	u32 nr_pending_words;
	u32 nr_classes;
	u32 total_blocks;
	u32 msg_off;		/* offset of descriptor 0 */
	u32 max_payload;	/* largest class's block size */
	u64 generation;
	/* all ACE_MAX_CLASSES entries: a missing class has nr == 0, so a
	 * handle naming it never checks */
	struct ace_class cls[ACE_MAX_CLASSES];
	/* smallest class whose blocks hold 2^i bytes; ACE_NO_CLASS if none */
	u8 class_of_log[33];
	/* sticky broken state */
	int broken;
	const char *why;	/* static string: what was wrong */
	u32 why_value;		/* the offending value */
};

/* The owner's private receive cursor: a FIFO list taken from the inbox. */
struct ace_rx {
	u32 id;			/* own mproc id */
	u32 head;		/* next message to deliver, 0 = none */
	u32 count;		/* messages left on the private list */
};

/* A received message: the header fields copied and checked once. */
struct ace_msg_desc {
	u32 off;		/* the message's handle */
	u32 len;		/* checked: <= cap */
	u32 src;
	u32 type;
	u32 tag;
	u32 data;		/* offset of its payload */
	u32 cap;		/* payload capacity of its block */
};

/* Geometry request for ace_arena_init(); block_size[i] == 0 ends it. */
struct ace_geometry {
	u32 nr_mprocs;
	u32 nr_classes;
	u32 block_size[ACE_MAX_CLASSES];
	u32 nr_blocks[ACE_MAX_CLASSES];
};

/* ---- arena: ace_arena.c ---- */

/* Fill `g` with the default classes (64 B, 256 B, 1 KiB, ... 1 MiB: every
 * power of four) sized for an arena of `size` bytes.  Returns 0 or
 * -EINVAL. */
int ace_geometry_default(u32 size, u32 nr_mprocs, struct ace_geometry *g);

/* Format `mem` (size bytes, zeroed or not) as a fresh arena and attach
 * `a` to it.  Used by the side that owns the memory (the guest driver). */
int ace_arena_init(struct ace_arena *a, void *mem, u32 size,
		   const struct ace_geometry *g, u64 generation);

/* Attach to an arena another side formatted: read the header once, check
 * magic, version, size and every geometry field.  -EIO with
 * ace_arena_why() on a bad header.  `size` is what the mapping holds. */
int ace_arena_attach(struct ace_arena *a, void *mem, u32 size);

/* Mark the arena broken (sticky); returns -EIO. */
int ace_arena_break(struct ace_arena *a, const char *why, u32 value);
static inline int ace_arena_broken(const struct ace_arena *a)
{
	return a->broken;
}
static inline const char *ace_arena_why(const struct ace_arena *a)
{
	return a->broken ? a->why : "ok";
}

/*
 * Message handles (see ace_abi.h): the descriptor's offset | class.
 *
 * ace_handle_index() is the whole check of a handle a peer wrote: the
 * index of the message within its class, which is < cls[class].nr iff the
 * handle names a message (in range, 32-byte aligned, class bits true).
 * Subtracting the class's first handle leaves the class bits at 0 only if
 * they were right; rotating right by 5 sends any low bit left to the top,
 * so one unsigned compare refuses a misaligned handle, one below the class
 * (it wraps) and one above it.  Pure function of the private geometry.
 */
static inline u32 ace_ror32(u32 v, u32 n)
{
	return (v >> n) | (v << (32 - n));
}

static inline u32 ace_handle_index(const struct ace_arena *a, u32 h)
{
	return ace_ror32(h - a->cls[ACE_HANDLE_CLASS(h)].hbase, ACE_MSG_SHIFT);
}

static inline int ace_handle_ok(const struct ace_arena *a, u32 h)
{
	return ace_handle_index(a, h) < a->cls[ACE_HANDLE_CLASS(h)].nr;
}

/* The class of message `h`, or -1 if `h` is not a message. */
static inline int ace_block_class(const struct ace_arena *a, u32 h)
{
	return ace_handle_ok(a, h) ? (int)ACE_HANDLE_CLASS(h) : -1;
}

/* The handle of message i of class c (no check). */
static inline u32 ace_handle(const struct ace_arena *a, u32 c, u32 i)
{
	return a->cls[c].hbase + (i << ACE_MSG_SHIFT);
}

static inline void *ace_ptr(const struct ace_arena *a, u32 off)
{
	return a->base + off;
}
/* The descriptor and the payload of a message; `h` must be one (checked
 * with ace_block_class, or returned by ace_alloc or ace_recv). */
static inline struct ace_msg *ace_msg(const struct ace_arena *a, u32 h)
{
	return (struct ace_msg *)(a->base + ACE_HANDLE_DESC(h));
}
static inline u32 ace_payload_off(const struct ace_arena *a, u32 h)
{
	const struct ace_class *k = &a->cls[ACE_HANDLE_CLASS(h)];

	return k->data + (ace_handle_index(a, h) << k->shift);
}
static inline void *ace_payload(const struct ace_arena *a, u32 h)
{
	return a->base + ace_payload_off(a, h);
}
static inline struct ace_arena_hdr *ace_hdr(const struct ace_arena *a)
{
	return (struct ace_arena_hdr *)a->base;
}
static inline struct ace_mproc *ace_mproc_at(const struct ace_arena *a,
					     u32 slot)
{
	return (struct ace_mproc *)(a->base + a->mproc_off) + slot;
}

/* The smallest class whose blocks hold `len` bytes, ACE_NO_CLASS if none:
 * a table lookup by ceil(log2(len)). */
static inline u32 ace_class_for(const struct ace_arena *a, u32 len)
{
	u32 x = len - (len != 0);	/* 0 and 1 both need 2^0 */

	return a->class_of_log[32 - __builtin_clz(x | 1)];
}

/* ---- blocks: ace_pool.c ---- */

/* Allocate a block with room for `len` payload bytes (the smallest class
 * that fits, else the next larger one with a free block).  The block is
 * owned by mproc `owner`.  Returns the block offset (> 0) or -ENOBUFS,
 * -EINVAL (len too large for any class), -EAGAIN, -EIO. */
s64 ace_alloc(struct ace_arena *a, u32 len, u32 owner);

/* Return a block to its free list.  -EINVAL on a double free or a bad
 * offset; -EAGAIN, -EIO. */
int ace_free(struct ace_arena *a, u32 off);

/* Free a block in state `state` (ACE_MSG_ALLOC or ACE_MSG_CACHED): for
 * reclaiming what a dead mproc held.  -EINVAL if it is not in that state. */
int ace_free_reclaim(struct ace_arena *a, u32 off, u32 state);

/* Payload capacity of message `h`'s block (0 if it is not a message). */
static inline u32 ace_block_capacity(const struct ace_arena *a, u32 h)
{
	return ace_handle_ok(a, h) ? a->cls[ACE_HANDLE_CLASS(h)].payload_max : 0;
}

/* Count free blocks of class `c` by walking its list (bounded); for
 * tests and ace-stat, not for the fast path.  -EIO on a bad list. */
s64 ace_free_count(struct ace_arena *a, u32 c);

/*
 * A private block cache for one owner thread, as DPDK's mempool caches:
 * freed blocks are kept (CACHED, still owned by the mproc, so a dead
 * owner's cache is reclaimed like anything else it held, and a second
 * free of a cached block is refused by its state) and handed out again
 * without touching the shared free lists; an empty cache refills with
 * half its capacity in one CAS (a chain popped whole) and a full one
 * returns half in one CAS.  A class gets at most nr_blocks / 64 slots, so
 * caches never hoard a small class.  A cache belongs to one arena.
 */
#define ACE_CACHE_SLOTS	32
struct ace_cache {
	u32 owner;
	u32 n[ACE_MAX_CLASSES];
	u32 off[ACE_MAX_CLASSES][ACE_CACHE_SLOTS];
};

static inline void ace_cache_init(struct ace_cache *c, u32 owner)
{
	memset(c, 0, sizeof(*c));
	c->owner = owner;
}

/* Like ace_alloc, from the cache when it has a block of the right class. */
s64 ace_cache_alloc(struct ace_arena *a, struct ace_cache *c, u32 len);

/* Like ace_free, into the cache while it has room.  The block must be
 * held (ALLOC); it becomes CACHED, owned by the cache's owner. */
int ace_cache_free(struct ace_arena *a, struct ace_cache *c, u32 off);

/* Give every cached block back to the shared free lists. */
void ace_cache_drain(struct ace_arena *a, struct ace_cache *c);

/* ---- mprocs: ace_mproc.c ---- */

/* Claim a free slot under `name` for `side` (ACE_SIDE(...)).  Returns the
 * new mproc id via *id.  -EINVAL (bad name), -EEXIST, -ENOSPC, -EIO. */
int ace_mproc_claim(struct ace_arena *a, const char *name, u32 side,
		    u32 mode, u32 *id);

/* Find an ACTIVE mproc by name.  -ENOENT if none. */
int ace_mproc_lookup(struct ace_arena *a, const char *name, u32 *id);

/* Check that `id` names an ACTIVE slot of the current generation. */
int ace_mproc_check(struct ace_arena *a, u32 id);

/* Copy the slot's name, checked and NUL-terminated, into buf[ACE_NAME_MAX].
 * Returns 0 if the slot is ACTIVE, -ENOENT otherwise. */
int ace_mproc_name(struct ace_arena *a, u32 slot, char *buf, u32 *id);

/* Close an mproc: refuse new sends, free everything queued in its inbox,
 * and reclaim every block it held (allocated, received, or still on its
 * owner's private list).  Any side may close a dead owner's mproc.
 * Returns the number of blocks freed (>= 0) or -ENOENT, -EIO. */
s64 ace_mproc_release(struct ace_arena *a, u32 id);

/* Tear down slot `slot` whatever state its owner left it in (CLAIMING,
 * ACTIVE or CLOSING): for an owner known to be dead, which may have died
 * in the middle of a claim or a close.  Returns blocks freed, 0 for a
 * free slot, -EAGAIN if the state changed meanwhile, -EIO. */
s64 ace_mproc_reap(struct ace_arena *a, u32 slot);

/* Free every block held (ALLOC) or cached (CACHED) by `id`.  Returns
 * blocks freed or -EIO. */
s64 ace_reclaim_owner(struct ace_arena *a, u32 id);

/* Count blocks by state for ace-stat and tests: held by `id` (or by
 * anyone if id == 0), and in flight.  Bounded scan.  -EIO if broken. */
int ace_block_census(struct ace_arena *a, u32 id, u32 *held, u32 *queued,
		     u32 *free);

/* ---- inbox: ace_inbox.c ---- */

/* Send the block `off` (owned by the caller, `len` payload bytes already
 * written, type/tag set in its header if wanted) from mproc `src` to `dst`.
 * Returns 0 when no notification is needed, 1 when the caller must kick
 * the destination's notifier (its pending bit went 0 -> 1), or -ENOENT
 * (dst closed: the caller still owns the block), -EINVAL, -EAGAIN, -EIO. */
int ace_send(struct ace_arena *a, u32 src, u32 dst, u32 off, u32 len);

/* ace_send that also sets the header's type and tag, once the block is
 * known to be the caller's (what libace sends with). */
int ace_send_msg(struct ace_arena *a, u32 src, u32 dst, u32 off, u32 len,
		 u32 type, u32 tag);

/* Set up a receive cursor for own mproc `id`. */
static inline void ace_rx_init(struct ace_rx *rx, u32 id)
{
	rx->id = id;
	rx->head = 0;
	rx->count = 0;
}

/* Take the next message, in FIFO order per sender.  Returns 1 with *d
 * filled, 0 if the inbox is empty, -EIO. */
int ace_recv(struct ace_arena *a, struct ace_rx *rx, struct ace_msg_desc *d);

/* Take up to n messages.  Returns how many (>= 0) or -EIO. */
int ace_recv_batch(struct ace_arena *a, struct ace_rx *rx,
		   struct ace_msg_desc *d, int n);

/* True if a message is waiting (private list or inbox).  One load. */
int ace_pending_mail(struct ace_arena *a, const struct ace_rx *rx);

/* ---- notify words, sections, pending bits: ace_notify.c ---- */

/* Arm before sleeping: set ARMED (full barrier), clear own pending bit,
 * re-check the inbox.  Returns 1 if mail is already there (do not sleep;
 * still armed: call ace_disarm), 0 if it is safe to sleep, -errno. */
int ace_arm(struct ace_arena *a, const struct ace_rx *rx);
int ace_disarm(struct ace_arena *a, const struct ace_rx *rx);

/* Enter/leave an ACE section.  Deliveries to an armed mproc inside a
 * section are deferred.  ace_section_end returns 1 when the outermost
 * section ends with deliveries deferred (drain the inbox now: no
 * interrupt will come for them), 0 otherwise, or -errno. */
int ace_section_begin(struct ace_arena *a, const struct ace_rx *rx);
int ace_section_end(struct ace_arena *a, const struct ace_rx *rx);

/* Set the pending bit of `slot`; 1 if it went 0 -> 1 (kick the owner's
 * notifier), 0 if a notification is already on its way. */
int ace_pending_raise(struct ace_arena *a, u32 slot);

/* Take the pending bits of word `w` that are in `mine` (the slots this
 * side owns): clears and returns them. */
u64 ace_pending_take(struct ace_arena *a, u32 w, u64 mine);

/* Read pending word `w` without clearing it. */
u64 ace_pending_peek(struct ace_arena *a, u32 w);

/* Clear one slot's pending bit. */
void ace_pending_clear(struct ace_arena *a, u32 slot);

/* What a notifier (the device, or the owner side's interrupt handler)
 * should do for a slot whose pending bit is set. */
#define ACE_DELIVER_NONE	0	/* not armed: the owner is running */
#define ACE_DELIVER_NOW		1	/* armed, outside a section (or forced) */
#define ACE_DELIVER_DEFER	2	/* armed, inside a section: wait */
int ace_delivery(struct ace_arena *a, u32 slot, u32 *notify_out);

/* The time bound passed for a deferred delivery: set FORCE if the section
 * with sequence `seq` is still open.  Returns 1 if forced (deliver now,
 * overrun counted), 0 if the section already ended. */
int ace_force(struct ace_arena *a, u32 slot, u32 seq);

/* Counter helpers. */
static inline void ace_count_own(u64 *ctr, u64 n)
{
	/* single writer: a relaxed load and store, no lock prefix */
	ace_store(ctr, ace_load(ctr, ACE_RELAXED) + n, ACE_RELAXED);
}
static inline void ace_count_shared(u64 *ctr, u64 n)
{
	ace_fetch_add(ctr, n, ACE_RELAXED);
}

#endif /* ACE_CORE_H */
