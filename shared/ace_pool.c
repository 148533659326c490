// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_pool.c - blocks: one tagged Treiber stack per size class, and the
 * owners' private caches in front of them.
 *
 * The head word is {u32 handle of the top message, u32 tag}.  Every
 * successful CAS bumps the tag, so a pop that read a stale `next` fails
 * instead of installing it (ABA needs 2^32 changes inside one pop).
 *
 * The `next` of a message on the free list may be rewritten by whoever
 * popped it meanwhile; it is read once with an atomic load and checked,
 * and a CAS on an unchanged head is what makes the value trustworthy.
 *
 * ace_msg.flags tells free from held.  A message's flags are written only
 * by the party that holds it (the popper after its CAS won, the owner
 * before its push), so a load and a store suffice: a double free is
 * refused, and a free list that hands out a block that is not free is a
 * broken arena.
 */
#include "ace_core.h"

#define HEAD(h, tag)	((u64)(h) | ((u64)(tag) << 32))
#define HEAD_OFF(h)	((u32)(h))
#define HEAD_TAG(h)	((u32)((h) >> 32))

static u64 *free_head(struct ace_arena *a, u32 c)
{
	return &ace_hdr(a)->free[c].head;
}

/* Is `h` a message of class c?  (The class bits must say c, too.) */
static int in_class(const struct ace_arena *a, u32 c, u32 h)
{
	const struct ace_class *k = &a->cls[c];

	return ace_ror32(h - k->hbase, ACE_MSG_SHIFT) < k->nr;
}

/* Pop one message of class c: its handle, 0 if the class is empty, -errno. */
static s64 pop(struct ace_arena *a, u32 c)
{
	u64 *head = free_head(a, c);
	u64 h = ace_load(head, ACE_ACQUIRE);
	u32 tries;

	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		u32 off = HEAD_OFF(h), next;

		if (off == 0)
			return 0;
		if (!in_class(a, c, off))
			return ace_arena_break(a, "free-list head is not a block of its class", off);
		/* Partner: the release CAS in push() that published this
		 * block's next; a concurrent pop may have changed it since,
		 * in which case the head moved too and our CAS fails. */
		next = ace_load(&ace_msg(a, off)->next, ACE_RELAXED);
		if (next != 0 && !in_class(a, c, next)) {
			u64 now = ace_load(head, ACE_ACQUIRE);

			if (now == h)
				return ace_arena_break(a, "free-list link is not a block of its class", next);
			h = now;
			continue;
		}
		if (ace_cas(head, &h, HEAD(next, HEAD_TAG(h) + 1), ACE_ACQ_REL))
			return off;
	}
	return -EAGAIN;
}

static int push(struct ace_arena *a, u32 c, u32 off)
{
	u64 *head = free_head(a, c);
	u64 h = ace_load(head, ACE_RELAXED);
	u32 tries;

	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		ace_store(&ace_msg(a, off)->next, HEAD_OFF(h), ACE_RELAXED);
		/* Partner: the acquire load / CAS in pop(). */
		if (ace_cas(head, &h, HEAD(off, HEAD_TAG(h) + 1), ACE_ACQ_REL))
			return 0;
	}
	return -EAGAIN;
}

s64 ace_alloc(struct ace_arena *a, u32 len, u32 owner)
{
	u32 c;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	c = ace_class_for(a, len);
	if (c >= a->nr_classes)
		return -EINVAL;
	for (; c < a->nr_classes; c++) {
		s64 off = pop(a, c);
		struct ace_msg *m;
		u32 was;

		if (off == 0)
			continue;
		if (off < 0)
			return off;
		m = ace_msg(a, (u32)off);
		was = ace_load(&m->flags, ACE_RELAXED);
		if (was != ACE_MSG_FREE)
			return ace_arena_break(a, "free list handed out a block that was not free", (u32)off);
		ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
		ace_store(&m->next, 0, ACE_RELAXED);
		ace_store(&m->owner, owner, ACE_RELAXED);
		m->len = 0;
		return off;
	}
	return -ENOBUFS;
}

/* Free a message whose state is `from` (ALLOC, or CACHED when a dead
 * owner's cache is reclaimed).  A CAS, not a load and a store: two sides
 * tidying up after dead mprocs may race to free one block, and only one
 * may push it. */
static int free_from(struct ace_arena *a, u32 off, u32 from)
{
	u32 was = from;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	if (!ace_handle_ok(a, off))
		return -EINVAL;
	/* Only a held block can be freed: a second free, or a free of a
	 * message in flight, is refused and changes nothing. */
	if (!ace_cas(&ace_msg(a, off)->flags, &was, ACE_MSG_FREE, ACE_ACQ_REL))
		return -EINVAL;
	ace_store(&ace_msg(a, off)->owner, 0, ACE_RELAXED);
	return push(a, ACE_HANDLE_CLASS(off), off);
}

int ace_free(struct ace_arena *a, u32 off)
{
	return free_from(a, off, ACE_MSG_ALLOC);
}

int ace_free_reclaim(struct ace_arena *a, u32 off, u32 state)
{
	return free_from(a, off, state);
}

s64 ace_free_count(struct ace_arena *a, u32 c)
{
	u32 off, n = 0;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (c >= a->nr_classes)
		return -EINVAL;
	off = HEAD_OFF(ace_load(free_head(a, c), ACE_ACQUIRE));
	while (off) {
		if (!in_class(a, c, off))
			return ace_arena_break(a, "free-list link is not a block of its class", off);
		if (++n > a->cls[c].nr)
			return ace_arena_break(a, "free list is cyclic", c);
		off = ace_load(&ace_msg(a, off)->next, ACE_RELAXED);
	}
	return n;
}

/*
 * Pop up to `want` blocks of class k as one chain, with one CAS, into the
 * cache `c` (CACHED, owned by its owner).  Safe for the same reason a
 * single pop is: if the tagged head is unchanged when the CAS lands, no
 * push or pop completed meanwhile, so the links walked were the list's.
 * Returns how many (0: empty), or -errno.
 */
static int pop_chain(struct ace_arena *a, struct ace_cache *c, u32 k, u32 want)
{
	u64 *head = free_head(a, k);
	u64 h = ace_load(head, ACE_ACQUIRE);
	u32 *out = c->off[k];
	u32 tries, i;

	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		u32 cur = HEAD_OFF(h), n = 0;
		int torn = 0;

		while (cur && n < want) {
			if (!in_class(a, k, cur)) {
				torn = 1;
				break;
			}
			out[n++] = cur;
			cur = ace_load(&ace_msg(a, cur)->next, ACE_RELAXED);
		}
		if (torn || (cur && !in_class(a, k, cur))) {
			u64 now = ace_load(head, ACE_ACQUIRE);

			if (now == h)
				return ace_arena_break(a, "free-list link is not a block of its class", cur);
			h = now;
			continue;
		}
		if (!n)
			return 0;
		if (!ace_cas(head, &h, HEAD(cur, HEAD_TAG(h) + 1), ACE_ACQ_REL))
			continue;
		for (i = 0; i < n; i++) {
			struct ace_msg *m = ace_msg(a, out[i]);

			if (ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_FREE)
				return ace_arena_break(a, "free list handed out a block that was not free", out[i]);
			ace_store(&m->owner, c->owner, ACE_RELAXED);
			ace_store(&m->flags, ACE_MSG_CACHED, ACE_RELAXED);
		}
		return (int)n;
	}
	return -EAGAIN;
}

/* Push n cached blocks of class k as one chain, with one CAS. */
static int push_chain(struct ace_arena *a, u32 k, const u32 *offs, u32 n)
{
	u64 *head = free_head(a, k);
	u64 h = ace_load(head, ACE_RELAXED);
	u32 i, tries;

	for (i = 0; i < n; i++) {
		struct ace_msg *m = ace_msg(a, offs[i]);

		ace_store(&m->owner, 0, ACE_RELAXED);
		ace_store(&m->flags, ACE_MSG_FREE, ACE_RELAXED);
		if (i + 1 < n)
			ace_store(&m->next, offs[i + 1], ACE_RELAXED);
	}
	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		ace_store(&ace_msg(a, offs[n - 1])->next, HEAD_OFF(h), ACE_RELAXED);
		/* Partner: the acquire load / CAS in pop() and pop_chain(). */
		if (ace_cas(head, &h, HEAD(offs[0], HEAD_TAG(h) + 1), ACE_ACQ_REL))
			return 0;
	}
	return -EAGAIN;
}

/* ace_cache_alloc() found no block of the class in the cache (or
 * something it does not handle inline): refill, fall back, or refuse. */
s64 ace_cache_refill(struct ace_arena *a, struct ace_cache *c, u32 len)
{
	u32 k = ace_class_for(a, len), cap;
	int n;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	if (k >= a->nr_classes)
		return -EINVAL;
	if (c->n[k])
		return ace_cache_alloc(a, c, len);
	cap = a->cls[k].cache_cap;
	if (!cap)
		return ace_alloc(a, len, c->owner);
	n = pop_chain(a, c, k, cap / 2);
	if (n < 0)
		return n;
	if (!n)
		return ace_alloc(a, len, c->owner);	/* maybe a larger class */
	c->n[k] = (u32)n;
	return ace_cache_alloc(a, c, len);
}

/* ace_cache_free() did not keep the block: refuse it (not a block the
 * cache's owner holds: a second free finds it CACHED, another mproc's
 * block has another owner), free it (a class never cached), or make room
 * (the cache is full). */
int ace_cache_spill(struct ace_arena *a, struct ace_cache *c, u32 off)
{
	u32 k = ACE_HANDLE_CLASS(off), cap;
	struct ace_msg *m;
	int r;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	if (!ace_handle_ok(a, off))
		return -EINVAL;
	m = ace_msg(a, off);
	if (ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_ALLOC ||
	    ace_load(&m->owner, ACE_RELAXED) != c->owner)
		return -EINVAL;
	cap = a->cls[k].cache_cap;
	if (!cap)
		return ace_free(a, off);
	if (c->n[k] >= cap) {
		/* full: give the newest above cap/2 back in one CAS (as
		 * DPDK's mempool cache flushes: no copying down) */
		r = push_chain(a, k, c->off[k] + cap / 2, c->n[k] - cap / 2);
		if (r)
			return r;
		c->n[k] = cap / 2;
	}
	ace_store(&m->flags, ACE_MSG_CACHED, ACE_RELAXED);
	c->off[k][c->n[k]++] = off;
	return 0;
}

void ace_cache_drain(struct ace_arena *a, struct ace_cache *c)
{
	u32 k;

	for (k = 0; k < ACE_MAX_CLASSES; k++) {
		if (c->n[k] && k < a->nr_classes && !ace_read_once(&a->broken))
			push_chain(a, k, c->off[k], c->n[k]);
		c->n[k] = 0;
	}
}
