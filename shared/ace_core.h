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
/* The sender's CAS on a receiver's notify word, before it falls back to
 * a fetch_or: only the owner and other senders change that word, and a
 * sender that set DEFERRED ends everyone's loop (a test builds with 0). */
#ifndef ACE_NOTIFY_RETRIES
#define ACE_NOTIFY_RETRIES	64
#endif

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
	return ace_read_once(&a->broken);
}
static inline const char *ace_arena_why(const struct ace_arena *a)
{
	return ace_read_once(&a->broken) ? a->why : "ok";
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
 * owned by mproc `owner`.  Returns the message's handle (> 0) or -ENOBUFS,
 * -EINVAL (len too large for any class), -EAGAIN, -EIO. */
s64 ace_alloc(struct ace_arena *a, u32 len, u32 owner);

/* Return a block to its free list.  -EINVAL on a double free or a bad
 * handle; -EAGAIN, -EIO. */
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
static ace_hot s64 ace_cache_alloc(struct ace_arena *a, struct ace_cache *c,
				  u32 len);

/* Like ace_free, into the cache while it has room.  The block must be
 * held (ALLOC) by the cache's owner (-EINVAL otherwise: a block another
 * mproc holds, or one of another arena at the same offset); it becomes
 * CACHED. */
static ace_hot int ace_cache_free(struct ace_arena *a, struct ace_cache *c,
				 u32 off);

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

/* Reaping many dead mprocs (a host peer's, when it goes) with one pass
 * over the blocks for all of them, sliced as the caller likes:
 *   ace_reap_begin()   per slot, as ace_mproc_reap() does first: close it
 *                      (CLOSING, inbox closed) and free what was queued;
 *                      its id in *id (0: the slot was free).  Returns
 *                      blocks freed, -EAGAIN, -ENOENT or -EIO.
 *   ace_reap_blocks()  blocks [*cursor, *cursor + n) in arena order: free
 *                      each held or cached by an id with ids[slot] == id
 *                      (ids: nr_mprocs entries, 0 for slots not reaped);
 *                      advances *cursor (done at total_blocks).  Returns
 *                      blocks freed or -EIO.
 *   ace_reap_end()     per id begun: the slot is free again, `reclaimed`
 *                      in its counter.
 * A slot begun stays CLOSING (unclaimable) until its end. */
s64 ace_reap_begin(struct ace_arena *a, u32 slot, u32 *id);
s64 ace_reap_blocks(struct ace_arena *a, const u32 *ids, u32 *cursor, u32 n);
void ace_reap_end(struct ace_arena *a, u32 id, u64 reclaimed);

/* Free every block held (ALLOC) or cached (CACHED) by `id`.  Returns
 * blocks freed or -EIO. */
s64 ace_reclaim_owner(struct ace_arena *a, u32 id);

/* Count blocks by state for ace-stat and tests: held by `id` (or by
 * anyone if id == 0), and in flight.  Bounded scan.  -EIO if broken. */
int ace_block_census(struct ace_arena *a, u32 id, u32 *held, u32 *queued,
		     u32 *free);

/* ---- inbox: ace_inbox.c ---- */

/* Send message `off` (a handle; the block is held by `src`: ALLOC with
 * owner `src`, `len` payload bytes already written, type/tag set in its
 * header if wanted) from mproc `src` to `dst`.
 * Returns 0 when no notification is needed, 1 when the caller must kick
 * the destination's notifier (its pending bit went 0 -> 1), or -ENOENT
 * (dst closed: the caller still owns the block), -EINVAL (a bad handle or
 * length, or a block `src` does not hold: nothing is written), -EAGAIN,
 * -EIO. */
static ace_hot int ace_send(struct ace_arena *a, u32 src, u32 dst, u32 off,
			   u32 len);

/* ace_send that also sets the header's type and tag, once the block is
 * known to be the caller's (what libace sends with). */
static ace_hot int ace_send_msg(struct ace_arena *a, u32 src, u32 dst,
			       u32 off, u32 len, u32 type, u32 tag);

/* Set up a receive cursor for own mproc `id`. */
static inline void ace_rx_init(struct ace_rx *rx, u32 id)
{
	rx->id = id;
	rx->head = 0;
	rx->count = 0;
}

/* Take the next message, in FIFO order per sender.  Returns 1 with *d
 * filled, 0 if the inbox is empty, -EIO. */
static ace_hot int ace_recv(struct ace_arena *a, struct ace_rx *rx,
			   struct ace_msg_desc *d);

/* Take up to n messages.  Returns how many (>= 0) or -EIO. */
int ace_recv_batch(struct ace_arena *a, struct ace_rx *rx,
		   struct ace_msg_desc *d, int n);

/* True if a message is waiting (private list or inbox).  One load. */
int ace_pending_mail(struct ace_arena *a, const struct ace_rx *rx);

/* Spin until a message may be waiting: at most `spins` loads of the inbox
 * word with a PAUSE between them, no call and no clock.  1 if ace_recv()
 * should look (it checks what it finds), 0 if the spin ran out or the
 * inbox is closed. */
static ace_hot int ace_spin_mail(struct ace_arena *a, const struct ace_rx *rx,
				 u32 spins);

/* Put message `off`, received from this cursor and still held (not sent,
 * not freed), back in front of the private list: the next ace_recv()
 * returns it again, header unchanged (len, src, type, tag), and it is
 * counted as received once.  For a caller that took messages out of
 * order (waiting for one reply): unget them newest first and their order
 * is kept.  0, -EINVAL (not a message this mproc holds as received), or
 * -EIO. */
int ace_recv_unget(struct ace_arena *a, struct ace_rx *rx, u32 off);

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

/* ------------------------------------------------------------------ */
/* The hot path, inline                                                */
/* ------------------------------------------------------------------ */

/*
 * Allocation from a cache, free into it, send, and the receive of a
 * one-message inbox are inline (as liburing's ring helpers are): each is
 * a few dozen instructions, and a call would cost a fifth of that again.
 * Everything else (refills, spills, notifications, batches, every error
 * and every broken arena) is out of line in ace_pool.c and ace_inbox.c,
 * and each slow path checks everything again from the start, so a fast
 * path only has to be sure of what it does, never of what it refuses.
 */
s64 ace_cache_refill(struct ace_arena *a, struct ace_cache *c, u32 len);
int ace_cache_spill(struct ace_arena *a, struct ace_cache *c, u32 off);
int ace_send_notify(struct ace_arena *a, struct ace_mproc *e, u32 slot,
		    u32 n);
int ace_send_undo(struct ace_msg *m, u32 src, int err);
int ace_recv_slow(struct ace_arena *a, struct ace_rx *rx,
		  struct ace_msg_desc *d);
int ace_recv_rest(struct ace_arena *a, struct ace_rx *rx,
		  struct ace_msg_desc *d, u32 head, u32 taken);

static ace_hot s64 ace_cache_alloc(struct ace_arena *a, struct ace_cache *c,
				  u32 len)
{
	u32 k = ace_class_for(a, len), off;
	struct ace_msg *m;

	if (ace_unlikely(ace_read_once(&a->broken) || k >= ACE_NO_CLASS || !c->n[k]))
		return ace_cache_refill(a, c, len);
	off = c->off[k][--c->n[k]];
	m = ace_msg(a, off);
	/* Still ours unless a peer scribbled on it: check, as always. */
	if (ace_unlikely(ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_CACHED))
		return ace_arena_break(a, "cached block changed state", off);
	ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
	return off;
}

static ace_hot int ace_cache_free(struct ace_arena *a, struct ace_cache *c,
				 u32 off)
{
	u32 k = ACE_HANDLE_CLASS(off);
	struct ace_msg *m;

	/* a bad handle, a block not held (a second free: it is CACHED),
	 * or held by another mproc, a full cache: the slow path sorts them
	 * out */
	if (ace_unlikely(ace_read_once(&a->broken) || !ace_handle_ok(a, off)))
		return ace_cache_spill(a, c, off);
	m = ace_msg(a, off);
	if (ace_unlikely(ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_ALLOC ||
			 ace_load(&m->owner, ACE_RELAXED) != c->owner ||
			 c->n[k] >= a->cls[k].cache_cap))
		return ace_cache_spill(a, c, off);
	ace_store(&m->flags, ACE_MSG_CACHED, ACE_RELAXED);
	c->off[k][c->n[k]++] = off;
	return 0;
}

static ace_hot int
ace_send_common(struct ace_arena *a, u32 src, u32 dst, u32 off, u32 len,
		int set_tt, u32 type, u32 tag)
{
	u32 slot = ACE_ID_SLOT(dst), head, tries, n;
	const struct ace_class *k = &a->cls[ACE_HANDLE_CLASS(off)];
	struct ace_mproc *e;
	struct ace_msg *m;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	if (ace_unlikely(slot >= a->nr_mprocs))
		return -ENOENT;
	e = ace_mproc_at(a, slot);
	ace_prefetch_w(&e->inbox);	/* we are about to CAS it */
	if (ace_unlikely(ace_load(&e->state, ACE_ACQUIRE) !=
			 ACE_SLOT_WORD(ACE_ID_GEN(dst), ACE_SLOT_ACTIVE)))
		return -ENOENT;
	if (ace_unlikely(ace_ror32(off - k->hbase, ACE_MSG_SHIFT) >= k->nr ||
			 len > k->payload_max))
		return -EINVAL;
	m = ace_msg(a, off);
	/* The holder alone writes a held block's flags; the push CAS below
	 * publishes the store.  Partner: the acquire load of the inbox in
	 * ace_recv() / take(). */
	if (ace_unlikely(ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_ALLOC ||
			 ace_load(&m->owner, ACE_RELAXED) != src))
		return -EINVAL;		/* not a block the caller holds */
	ace_store(&m->flags, ACE_MSG_QUEUED, ACE_RELAXED);
	m->len = len;
	m->src = src;
	m->dst = dst;
	if (set_tt) {
		m->type = type;
		m->tag = tag;
	}
	/* In flight, a block belongs to its receiver: reclaiming a dead
	 * sender never touches it, even while the receiver is taking it. */
	m->owner = dst;
	head = ace_load(&e->inbox, ACE_RELAXED);
	for (tries = 0;; tries++) {
		if (ace_unlikely(head == ACE_INBOX_CLOSED))
			return ace_send_undo(m, src, -ENOENT);	/* closed under us */
		if (ace_unlikely(tries == ACE_CAS_RETRIES))
			return ace_send_undo(m, src, -EAGAIN);
		ace_store(&m->next, head, ACE_RELAXED);
		/* Partner: the acquire load of the inbox by its owner (it
		 * sees the header and payload written above). */
		if (ace_likely(ace_cas(&e->inbox, &head, off, ACE_SEQ_CST)))
			break;
	}
	if (ace_likely(ACE_ID_SLOT(src) < a->nr_mprocs))
		ace_count_own(&ace_mproc_at(a, ACE_ID_SLOT(src))->c.sent, 1);
	/* Partner: the fetch_or of ARMED in ace_arm(), which is followed by
	 * a seq_cst load of the inbox.  Our push CAS is seq_cst too, so
	 * either we see ARMED here or the owner sees our message there. */
	n = ace_load(&e->notify, ACE_SEQ_CST);
	if (ace_likely(!(n & ACE_NOTIFY_ARMED)))
		return 0;	/* running or polling: never interrupt */
	return ace_send_notify(a, e, slot, n);
}

static ace_hot int ace_send(struct ace_arena *a, u32 src, u32 dst, u32 off,
			   u32 len)
{
	return ace_send_common(a, src, dst, off, len, 0, 0, 0);
}

static ace_hot int ace_send_msg(struct ace_arena *a, u32 src, u32 dst,
			       u32 off, u32 len, u32 type, u32 tag)
{
	return ace_send_common(a, src, dst, off, len, 1, type, tag);
}

/* ace_recv()'s way out of line, through a descriptor of its own: `d`,
 * the caller's, then never has its address taken, so the compiler keeps
 * it in registers on the fast path (going through memory cost a dozen
 * instructions a message).  head != 0: ace_recv_rest(). */
static inline int ace_recv_slow_into(struct ace_arena *a, struct ace_rx *rx,
				     struct ace_msg_desc *d, u32 was, u32 head)
{
	struct ace_msg_desc t;
	int r = head ? ace_recv_rest(a, rx, &t, was, head) :
		       ace_recv_slow(a, rx, &t);

	if (r > 0)
		*d = t;
	return r;
}

/*
 * The usual receive of a polling mproc: nothing on the private list, one
 * message in the inbox.  Its header is read once and checked before
 * anything is written; then it is claimed while still linked (ALLOC, ours:
 * an owner killed here strands nothing), then detached with one CAS.
 * Anything else (a batch, a push that lands meanwhile, anything that does
 * not check) goes to ace_recv_slow(), which starts again from the inbox.
 */
static ace_hot int ace_recv(struct ace_arena *a, struct ace_rx *rx,
			   struct ace_msg_desc *d)
{
	u32 slot = ACE_ID_SLOT(rx->id), head, len, dst, was;
	const struct ace_class *k;
	struct ace_mproc *e;
	struct ace_msg *m;

	if (ace_unlikely(ace_read_once(&a->broken) || slot >= a->nr_mprocs || rx->count))
		return ace_recv_slow_into(a, rx, d, 0, 0);
	e = ace_mproc_at(a, slot);
	/* The polling fast path: one shared load.  Partner: the seq_cst
	 * CAS in ace_send() (acquire: the header and payload). */
	head = ace_load(&e->inbox, ACE_ACQUIRE);
	if (head == 0)
		return 0;
	/* Mail: ask for the inbox line for writing now (the detach CAS
	 * below needs it), so that the upgrade overlaps the reading of the
	 * descriptor instead of following it. */
	ace_prefetch_w(&e->inbox);
	k = &a->cls[ACE_HANDLE_CLASS(head)];
	if (ace_unlikely(ace_ror32(head - k->hbase, ACE_MSG_SHIFT) >= k->nr))
		return ace_recv_slow_into(a, rx, d, 0, 0);
	m = ace_msg(a, head);
	ace_prefetch_w(m);	/* we read it, then rewrite it */
	len = ace_read_once(&m->len);
	dst = ace_read_once(&m->dst);
	if (ace_unlikely(ace_read_once(&m->next) != 0 ||
			 ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_QUEUED ||
			 len > k->payload_max || dst != rx->id))
		return ace_recv_slow_into(a, rx, d, 0, 0);
	/* Only we take from our inbox: a load and a store, no lock. */
	ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
	ace_write_once(&m->owner, rx->id);
	was = head;
	if (ace_unlikely(!ace_cas(&e->inbox, &was, 0, ACE_ACQ_REL)))
		return ace_recv_slow_into(a, rx, d, was, head);
	d->off = head;
	d->len = len;
	d->src = ace_read_once(&m->src);
	d->type = ace_read_once(&m->type);
	d->tag = ace_read_once(&m->tag);
	d->cap = k->payload_max;
	d->data = k->data +
		  (ace_ror32(head - k->hbase, ACE_MSG_SHIFT) << k->shift);
	ace_count_own(&e->c.drains, 1);
	ace_count_own(&e->c.received, 1);
	if (ace_unlikely(ace_load(&e->c.max_batch, ACE_RELAXED) == 0))
		ace_store(&e->c.max_batch, 1, ACE_RELAXED);
	return 1;
}

static ace_hot int ace_spin_mail(struct ace_arena *a, const struct ace_rx *rx,
				 u32 spins)
{
	u32 slot = ACE_ID_SLOT(rx->id), head;
	struct ace_mproc *e;

	if (ace_unlikely(rx->count || slot >= a->nr_mprocs))
		return 1;	/* ace_recv() sorts it out */
	e = ace_mproc_at(a, slot);
	while (spins--) {
		/* only a look: ace_recv() loads it again, with acquire.  A
		 * closed inbox (a word a peer can write) is no mail: spin on,
		 * relaxed, as for an empty one. */
		head = ace_load(&e->inbox, ACE_RELAXED);
		if (head != 0 && head != ACE_INBOX_CLOSED)
			return 1;
		ace_cpu_relax();
	}
	return 0;
}

#endif /* ACE_CORE_H */
