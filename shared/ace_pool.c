// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_pool.c - blocks: one tagged Treiber stack per size class.
 *
 * The head word is {u32 offset of the top block, u32 tag}.  Every
 * successful CAS bumps the tag, so a pop that read a stale `next` fails
 * instead of installing it (ABA needs 2^32 changes inside one pop).
 *
 * The `next` of a block on the free list may be rewritten by whoever
 * popped it meanwhile; it is read once with an atomic load and checked,
 * and a CAS on an unchanged head is what makes the value trustworthy.
 *
 * ace_msg.flags tells free from allocated.  A block's flags are written
 * only by the party that holds it (the popper after its CAS won, the
 * owner before its push), so a load and a store suffice: a double free
 * is refused, and a free list that hands out a block that is not free is
 * a broken arena.
 */
#include "ace_core.h"

#define HEAD(off, tag)	((u64)(off) | ((u64)(tag) << 32))
#define HEAD_OFF(h)	((u32)(h))
#define HEAD_TAG(h)	((u32)((h) >> 32))

static u64 *free_head(struct ace_arena *a, u32 c)
{
	return &ace_hdr(a)->free[c].head;
}

static int in_class(const struct ace_arena *a, u32 c, u32 off)
{
	const struct ace_class *k = &a->cls[c];

	return off >= k->base && off < k->end &&
	       !((off - k->base) & ((1u << k->shift) - 1));
}

/* Pop one block of class c: its offset, 0 if the class is empty, -errno. */
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

static u32 class_for(const struct ace_arena *a, u32 len);

s64 ace_alloc(struct ace_arena *a, u32 len, u32 owner)
{
	u32 c, first = class_for(a, len);

	if (ace_unlikely(a->broken))
		return -EIO;
	if (first == a->nr_classes)
		return -EINVAL;
	for (c = first; c < a->nr_classes; c++) {
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

int ace_free(struct ace_arena *a, u32 off)
{
	int c;
	u32 was;

	if (ace_unlikely(a->broken))
		return -EIO;
	c = ace_block_class(a, off);
	if (c < 0)
		return -EINVAL;
	/* Only a held block can be freed: a second free, or a free of a
	 * message in flight, is refused and changes nothing.  A CAS, not a
	 * load and a store: two sides tidying up after dead mprocs may race
	 * to free one block, and only one may push it. */
	was = ACE_MSG_ALLOC;
	if (!ace_cas(&ace_msg(a, off)->flags, &was, ACE_MSG_FREE, ACE_ACQ_REL))
		return -EINVAL;
	ace_store(&ace_msg(a, off)->owner, 0, ACE_RELAXED);
	return push(a, (u32)c, off);
}

u32 ace_block_capacity(const struct ace_arena *a, u32 off)
{
	int c = ace_block_class(a, off);

	return c < 0 ? 0 : a->cls[c].payload_max;
}

s64 ace_free_count(struct ace_arena *a, u32 c)
{
	u32 off, n = 0;

	if (a->broken)
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

/* Smallest class whose payload holds len, or nr_classes. */
static u32 class_for(const struct ace_arena *a, u32 len)
{
	u32 c;

	for (c = 0; c < a->nr_classes; c++)
		if (len <= a->cls[c].payload_max)
			break;
	return c;
}

/*
 * Pop up to `want` blocks of class k as one chain, with one CAS.  Safe for
 * the same reason a single pop is: if the tagged head is unchanged when
 * the CAS lands, no push or pop completed meanwhile, so the links walked
 * were the list's.  Returns how many (0: empty), or -errno.
 */
static int pop_chain(struct ace_arena *a, u32 k, u32 *out, u32 want)
{
	u64 *head = free_head(a, k);
	u64 h = ace_load(head, ACE_ACQUIRE);
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
			ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
		}
		return (int)n;
	}
	return -EAGAIN;
}

/* Push n held blocks of class k as one chain, with one CAS. */
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

/* How many blocks of class k one cache may keep: none of a class so
 * small that caching would hoard it. */
static u32 cache_cap(const struct ace_arena *a, u32 k)
{
	u32 cap = a->cls[k].nr / 64;

	return cap < ACE_CACHE_SLOTS ? cap : ACE_CACHE_SLOTS;
}

s64 ace_cache_alloc(struct ace_arena *a, struct ace_cache *c, u32 len)
{
	u32 k = class_for(a, len), off, i;
	struct ace_msg *m;

	if (ace_unlikely(a->broken))
		return -EIO;
	if (k >= a->nr_classes)
		return -EINVAL;
	if (!c->n[k] && cache_cap(a, k) >= 2) {
		int n = pop_chain(a, k, c->off[k], cache_cap(a, k) / 2);

		if (n < 0)
			return n;
		for (i = 0; i < (u32)n; i++)
			ace_store(&ace_msg(a, c->off[k][i])->owner, c->owner, ACE_RELAXED);
		c->n[k] = (u32)n;
	}
	if (!c->n[k])
		return ace_alloc(a, len, c->owner);	/* maybe a larger class */
	off = c->off[k][--c->n[k]];
	if (!in_class(a, k, off))
		return -EINVAL;		/* a cache from another arena */
	m = ace_msg(a, off);
	/* Still ours unless a peer scribbled on it: check, as always. */
	if (ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_ALLOC)
		return ace_arena_break(a, "cached block changed state", off);
	ace_store(&m->next, 0, ACE_RELAXED);
	m->len = 0;
	return off;
}

int ace_cache_free(struct ace_arena *a, struct ace_cache *c, u32 off)
{
	u32 i, cap, half;
	int k, r;

	if (ace_unlikely(a->broken))
		return -EIO;
	k = ace_block_class(a, off);
	if (k < 0 || ace_load(&ace_msg(a, off)->flags, ACE_RELAXED) != ACE_MSG_ALLOC)
		return -EINVAL;
	for (i = 0; i < c->n[k]; i++)
		if (c->off[k][i] == off)
			return -EINVAL;		/* already cached: a double free */
	cap = cache_cap(a, (u32)k);
	if (cap < 2)
		return ace_free(a, off);
	if (c->n[k] >= cap) {
		/* full: give the older ones back in one CAS, keep cap/2 */
		half = c->n[k] - cap / 2;
		r = push_chain(a, (u32)k, c->off[k], half);
		if (r)
			return r;
		for (i = half; i < c->n[k]; i++)
			c->off[k][i - half] = c->off[k][i];
		c->n[k] -= half;
	}
	ace_store(&ace_msg(a, off)->owner, c->owner, ACE_RELAXED);
	c->off[k][c->n[k]++] = off;
	return 0;
}

void ace_cache_drain(struct ace_arena *a, struct ace_cache *c)
{
	u32 k;

	for (k = 0; k < ACE_MAX_CLASSES; k++) {
		if (c->n[k] && k < a->nr_classes && !a->broken)
			push_chain(a, k, c->off[k], c->n[k]);
		c->n[k] = 0;
	}
}
