// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_mproc.c - the mproc table: named slots with generations.
 *
 * A slot moves FREE -> CLAIMING -> ACTIVE -> CLOSING -> FREE, each step a
 * CAS on its state word.  The generation rises at every claim, so an id
 * held after its mproc closed no longer matches and sends to it fail with
 * -ENOENT instead of landing in a stranger's inbox.
 */
#include "ace_core.h"

static int name_ok(const char *name, u32 *lenp)
{
	u32 n;

	for (n = 0; n < ACE_NAME_MAX; n++) {
		unsigned char ch = (unsigned char)name[n];

		if (ch == 0)
			break;
		if (ch <= 0x20 || ch >= 0x7f)
			return 0;	/* printable ASCII, no spaces */
	}
	if (n == 0 || n >= ACE_NAME_MAX)
		return 0;
	*lenp = n;
	return 1;
}

/* Copy a slot's name byte by byte (a peer may be writing it), always
 * NUL-terminated in the private copy. */
static void copy_name(char *dst, const char *src)
{
	u32 i;

	for (i = 0; i < ACE_NAME_MAX - 1; i++)
		dst[i] = ace_read_once(&src[i]);
	dst[ACE_NAME_MAX - 1] = 0;
}

int ace_mproc_name(struct ace_arena *a, u32 slot, char *buf, u32 *id)
{
	struct ace_mproc *e;
	u32 st;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (slot >= a->nr_mprocs)
		return -ENOENT;
	e = ace_mproc_at(a, slot);
	st = ace_load(&e->state, ACE_ACQUIRE);
	if (ACE_SLOT_STATE(st) != ACE_SLOT_ACTIVE)
		return -ENOENT;
	copy_name(buf, e->name);
	/* Partner: the release store of ACTIVE in claim; a changed state
	 * means the name may be torn: report the slot as gone. */
	if (ace_load(&e->state, ACE_ACQUIRE) != st)
		return -ENOENT;
	if (id)
		*id = ACE_ID(slot, ACE_SLOT_GEN(st));
	return 0;
}

/* Find an ACTIVE slot named `name`, skipping `skip`; -ENOENT if none. */
static int find(struct ace_arena *a, const char *name, u32 skip, u32 *id)
{
	char buf[ACE_NAME_MAX];
	u32 s;

	for (s = 0; s < a->nr_mprocs; s++) {
		if (s == skip || ace_mproc_name(a, s, buf, id))
			continue;
		if (!strncmp(buf, name, ACE_NAME_MAX))
			return 0;
	}
	return ace_read_once(&a->broken) ? -EIO : -ENOENT;
}

int ace_mproc_lookup(struct ace_arena *a, const char *name, u32 *id)
{
	u32 n;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (!name_ok(name, &n))
		return -EINVAL;
	return find(a, name, ACE_MAX_MPROCS, id);
}

int ace_mproc_check(struct ace_arena *a, u32 id)
{
	u32 slot = ACE_ID_SLOT(id);

	if (ace_read_once(&a->broken))
		return -EIO;
	if (slot >= a->nr_mprocs ||
	    ace_load(&ace_mproc_at(a, slot)->state, ACE_ACQUIRE) !=
	    ACE_SLOT_WORD(ACE_ID_GEN(id), ACE_SLOT_ACTIVE))
		return -ENOENT;
	return 0;
}

static void setup_slot(struct ace_arena *a, u32 slot, const char *name,
		       u32 len, u32 side, u32 mode)
{
	struct ace_mproc *e = ace_mproc_at(a, slot);

	memset(&e->c, 0, sizeof(e->c));
	memset(e->name, 0, sizeof(e->name));
	memcpy(e->name, name, len);
	ace_store(&e->notify, 0, ACE_RELAXED);
	ace_store(&e->side, side, ACE_RELAXED);
	ace_store(&e->mode, mode, ACE_RELAXED);
	ace_store(&e->pid, 0, ACE_RELAXED);
	/* A closed slot's inbox is ACE_INBOX_CLOSED; open it. */
	ace_store(&e->inbox, 0, ACE_RELAXED);
	ace_pending_clear(a, slot);
}

int ace_mproc_claim(struct ace_arena *a, const char *name, u32 side,
		    u32 mode, u32 *id)
{
	u32 s, len, dummy;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (!name_ok(name, &len))
		return -EINVAL;
	if (!find(a, name, ACE_MAX_MPROCS, &dummy))
		return -EEXIST;
	for (s = 0; s < a->nr_mprocs; s++) {
		struct ace_mproc *e = ace_mproc_at(a, s);
		u32 st = ace_load(&e->state, ACE_ACQUIRE), gen;

		if (ACE_SLOT_STATE(st) != ACE_SLOT_FREE)
			continue;
		gen = (ACE_SLOT_GEN(st) + 1) & ACE_ID_GEN_MASK;
		if (!gen)
			gen = 1;
		if (!ace_cas(&e->state, &st, ACE_SLOT_WORD(gen, ACE_SLOT_CLAIMING),
			     ACE_ACQ_REL))
			continue;
		setup_slot(a, s, name, len, side, mode);
		/* Partner: the acquire loads in ace_mproc_name/check. */
		ace_store(&e->state, ACE_SLOT_WORD(gen, ACE_SLOT_ACTIVE),
			  ACE_SEQ_CST);
		*id = ACE_ID(s, gen);
		/*
		 * Two claimers of one name both passed the check above.  Each
		 * published ACTIVE (seq_cst) before looking again (seq_cst),
		 * so at least one sees the other; whoever sees a twin yields.
		 */
		if (!find(a, name, s, &dummy)) {
			ace_mproc_release(a, *id);
			return -EEXIST;
		}
		return 0;
	}
	return -ENOSPC;
}

/* Free a list taken from the closed inbox of mproc `id` (LIFO order).  A
 * block its owner already made its own (ALLOC, owner id: it died in the
 * middle of taking its inbox) is left for ace_reclaim_owner(). */
static s64 free_queued(struct ace_arena *a, u32 off, u32 id)
{
	u32 seen = 0;
	s64 n = 0;

	while (off) {
		struct ace_msg *m;
		u32 next, was = ACE_MSG_QUEUED;

		if (ace_block_class(a, off) < 0)
			return ace_arena_break(a, "inbox link is not a block", off);
		if (seen++ >= a->total_blocks)
			return ace_arena_break(a, "inbox list is cyclic", off);
		m = ace_msg(a, off);
		next = ace_read_once(&m->next);
		if (!ace_cas(&m->flags, &was, ACE_MSG_ALLOC, ACE_ACQ_REL)) {
			if (was == ACE_MSG_ALLOC && ace_read_once(&m->owner) == id) {
				off = next;
				continue;
			}
			return ace_arena_break(a, "inbox holds a block that was not sent", off);
		}
		if (ace_free(a, off))
			return ace_arena_break(a, "could not free a queued block", off);
		n++;
		off = next;
	}
	return n;
}

s64 ace_reclaim_owner(struct ace_arena *a, u32 id)
{
	s64 n = 0;
	u32 c, i;

	if (ace_read_once(&a->broken))
		return -EIO;
	for (c = 0; c < a->nr_classes; c++) {
		for (i = 0; i < a->cls[c].nr; i++) {
			u32 off = ace_handle(a, c, i);
			struct ace_msg *m = ace_msg(a, off);
			u32 f = ace_read_once(&m->flags);

			if ((f != ACE_MSG_ALLOC && f != ACE_MSG_CACHED) ||
			    ace_read_once(&m->owner) != id)
				continue;
			/* -EINVAL: freed meanwhile by someone else; skip. */
			if (!ace_free_reclaim(a, off, f))
				n++;
		}
	}
	return ace_read_once(&a->broken) ? -EIO : n;
}

/* Slot `slot` is CLOSING and ours: refuse new sends and free what was
 * queued.  Partner: the CAS in ace_send(). */
static s64 close_inbox(struct ace_arena *a, u32 slot, u32 gen)
{
	struct ace_mproc *e = ace_mproc_at(a, slot);
	u32 head;

	/* From here no push can land: a sender's CAS sees CLOSED and keeps
	 * its block. */
	head = ace_xchg(&e->inbox, ACE_INBOX_CLOSED, ACE_ACQ_REL);
	return free_queued(a, head == ACE_INBOX_CLOSED ? 0 : head, ACE_ID(slot, gen));
}

/* The last of a teardown: the slot is free again. */
static void free_slot(struct ace_arena *a, u32 slot, u32 gen, u64 reclaimed)
{
	struct ace_mproc *e = ace_mproc_at(a, slot);

	ace_store(&e->c.reclaimed, reclaimed, ACE_RELAXED);
	ace_store(&e->notify, 0, ACE_RELAXED);
	ace_pending_clear(a, slot);
	ace_store(&e->state, ACE_SLOT_WORD(gen, ACE_SLOT_FREE), ACE_RELEASE);
}

/* The slot is CLOSING and ours to tear down: refuse new sends, free what
 * was queued and what the closed mproc held, then free the slot. */
static s64 teardown(struct ace_arena *a, u32 slot, u32 gen)
{
	s64 q, r;

	q = close_inbox(a, slot, gen);
	if (q < 0)
		return q;
	r = ace_reclaim_owner(a, ACE_ID(slot, gen));
	if (r < 0)
		return r;
	free_slot(a, slot, gen, (u64)(q + r));
	return q + r;
}

s64 ace_mproc_release(struct ace_arena *a, u32 id)
{
	u32 slot = ACE_ID_SLOT(id), gen = ACE_ID_GEN(id), st;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (slot >= a->nr_mprocs)
		return -ENOENT;
	st = ACE_SLOT_WORD(gen, ACE_SLOT_ACTIVE);
	if (!ace_cas(&ace_mproc_at(a, slot)->state, &st,
		     ACE_SLOT_WORD(gen, ACE_SLOT_CLOSING), ACE_ACQ_REL))
		return -ENOENT;
	return teardown(a, slot, gen);
}

/* Make slot `slot` ours to tear down, whatever state a dead owner left
 * it in: 1 (its generation in *gen), 0 for a free slot, or -errno. */
static int take_dead_slot(struct ace_arena *a, u32 slot, u32 *gen)
{
	struct ace_mproc *e;
	u32 st;

	if (ace_read_once(&a->broken))
		return -EIO;
	if (slot >= a->nr_mprocs)
		return -ENOENT;
	e = ace_mproc_at(a, slot);
	st = ace_load(&e->state, ACE_ACQUIRE);
	if (ACE_SLOT_STATE(st) == ACE_SLOT_FREE)
		return 0;
	if (ACE_SLOT_STATE(st) != ACE_SLOT_CLOSING &&
	    !ace_cas(&e->state, &st, ACE_SLOT_WORD(ACE_SLOT_GEN(st), ACE_SLOT_CLOSING),
		     ACE_ACQ_REL))
		return -EAGAIN;		/* it changed: its owner is not dead */
	*gen = ACE_SLOT_GEN(st);
	return 1;
}

s64 ace_mproc_reap(struct ace_arena *a, u32 slot)
{
	u32 gen;
	int r = take_dead_slot(a, slot, &gen);

	return r <= 0 ? r : teardown(a, slot, gen);
}

s64 ace_reap_begin(struct ace_arena *a, u32 slot, u32 *id)
{
	u32 gen;
	int r;

	*id = 0;
	r = take_dead_slot(a, slot, &gen);
	if (r <= 0)
		return r;
	if (!gen) {
		/* no claim makes generation 0 (a forged word): no id can
		 * hold a block, nothing to reap but the inbox */
		s64 q = close_inbox(a, slot, 0);

		if (q >= 0)
			free_slot(a, slot, 0, (u64)q);
		return q;
	}
	*id = ACE_ID(slot, gen);
	return close_inbox(a, slot, gen);
}

s64 ace_reap_blocks(struct ace_arena *a, const u32 *ids, u32 *cursor, u32 n)
{
	u32 c, i, first = 0, end;
	s64 freed = 0;

	if (ace_read_once(&a->broken))
		return -EIO;
	end = *cursor + n < *cursor ? ~0u : *cursor + n;
	for (c = 0; c < a->nr_classes && *cursor < end; first += a->cls[c].nr, c++) {
		if (*cursor >= first + a->cls[c].nr)
			continue;
		for (i = *cursor - first; i < a->cls[c].nr && *cursor < end;
		     i++, (*cursor)++) {
			u32 off = ace_handle(a, c, i);
			struct ace_msg *m = ace_msg(a, off);
			u32 f = ace_read_once(&m->flags), owner, slot;

			if (f != ACE_MSG_ALLOC && f != ACE_MSG_CACHED)
				continue;
			owner = ace_read_once(&m->owner);
			slot = ACE_ID_SLOT(owner);
			if (!owner || slot >= a->nr_mprocs || ids[slot] != owner)
				continue;
			/* -EINVAL: freed meanwhile by someone else; skip. */
			if (!ace_free_reclaim(a, off, f))
				freed++;
		}
	}
	if (*cursor >= a->total_blocks)
		*cursor = a->total_blocks;
	return ace_read_once(&a->broken) ? -EIO : freed;
}

void ace_reap_end(struct ace_arena *a, u32 id, u64 reclaimed)
{
	free_slot(a, ACE_ID_SLOT(id), ACE_ID_GEN(id), reclaimed);
}

int ace_block_census(struct ace_arena *a, u32 id, u32 *held, u32 *queued,
		     u32 *free)
{
	const struct ace_msg *m;
	u32 i;

	*held = *queued = *free = 0;
	if (ace_read_once(&a->broken))
		return -EIO;
	m = (const struct ace_msg *)(a->base + a->msg_off);
	for (i = 0; i < a->total_blocks; i++, m++) {
		u32 f = ace_read_once(&m->flags);

		if (f == ACE_MSG_FREE)
			(*free)++;
		else if (f == ACE_MSG_QUEUED)
			(*queued)++;
		else if ((f == ACE_MSG_ALLOC || f == ACE_MSG_CACHED) &&
			 (!id || ace_read_once(&m->owner) == id))
			(*held)++;
	}
	return 0;
}
