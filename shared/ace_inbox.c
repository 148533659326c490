// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_inbox.c - sending and receiving: a multi-producer push list per
 * mproc, taken whole by its one consumer (the pattern of Linux's llist).
 *
 * Send is one CAS once the message is written: a reader never sees a
 * half-linked queue, which is ACE's "once started, it completes" without
 * disabling anything.  Receive takes the list with one exchange and
 * reverses it into FIFO order on a private cursor.
 */
#include "ace_core.h"

static struct ace_mproc *own_entry(struct ace_arena *a, const struct ace_rx *rx)
{
	u32 slot = ACE_ID_SLOT(rx->id);

	return slot < a->nr_mprocs ? ace_mproc_at(a, slot) : (void *)0;
}

/* After a push: should anyone be notified?  Returns 1 if the caller must
 * kick the destination's notifier. */
static int notify_after_push(struct ace_arena *a, struct ace_mproc *e,
			     u32 slot)
{
	/* Partner: the fetch_or of ARMED in ace_arm(), which is followed by
	 * a seq_cst load of the inbox.  Our push CAS is seq_cst too, so
	 * either we see ARMED here or the owner sees our message there. */
	u32 n = ace_load(&e->notify, ACE_SEQ_CST);
	u32 tries;

	if (!(n & ACE_NOTIFY_ARMED))
		return 0;	/* running or polling: never interrupt */
	for (tries = 0; ACE_NOTIFY_DEPTH(n) &&
	     !(n & (ACE_NOTIFY_DEFERRED | ACE_NOTIFY_FORCE)); tries++) {
		/* Inside a section: mark the delivery deferred.  A CAS, not
		 * fetch_or, so a section that ends meanwhile (depth 0) is
		 * seen and we notify instead.  Partner: the CAS in
		 * ace_section_end(). */
		if (tries == ACE_CAS_RETRIES)
			return -EAGAIN;
		if (ace_cas(&e->notify, &n, n | ACE_NOTIFY_DEFERRED, ACE_SEQ_CST))
			break;
		if (!(n & ACE_NOTIFY_ARMED))
			return 0;
	}
	if (ACE_NOTIFY_DEPTH(n) && !(n & ACE_NOTIFY_FORCE))
		ace_count_shared(&e->c.deferrals, 1);
	else
		ace_count_shared(&e->c.notifies, 1);
	/* Raise even when deferred: the notifier starts the section's time
	 * bound when it sees the bit. */
	return ace_pending_raise(a, slot);
}

int ace_send(struct ace_arena *a, u32 src, u32 dst, u32 off, u32 len)
{
	u32 slot = ACE_ID_SLOT(dst), head, tries, was;
	struct ace_mproc *e;
	struct ace_msg *m;
	int c;

	if (ace_unlikely(a->broken))
		return -EIO;
	if (slot >= a->nr_mprocs)
		return -ENOENT;
	e = ace_mproc_at(a, slot);
	ace_prefetch_w(&e->inbox);	/* we are about to CAS it */
	if (ace_load(&e->state, ACE_ACQUIRE) !=
	    ACE_SLOT_WORD(ACE_ID_GEN(dst), ACE_SLOT_ACTIVE))
		return -ENOENT;
	c = ace_block_class(a, off);
	if (c < 0 || len > a->cls[c].payload_max)
		return -EINVAL;
	m = ace_msg(a, off);
	/* The holder alone writes a held block's flags; the push CAS below
	 * publishes the store.  Partner: the acquire exchange in take(). */
	was = ace_load(&m->flags, ACE_RELAXED);
	if (was != ACE_MSG_ALLOC)
		return -EINVAL;		/* not a block the caller holds */
	ace_store(&m->flags, ACE_MSG_QUEUED, ACE_RELAXED);
	m->len = len;
	m->src = src;
	m->dst = dst;
	/* In flight, a block belongs to its receiver: reclaiming a dead
	 * sender never touches it, even while the receiver is taking it. */
	m->owner = dst;
	head = ace_load(&e->inbox, ACE_RELAXED);
	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		if (head == ACE_INBOX_CLOSED) {
			/* Closed under us: the caller keeps the block. */
			m->owner = src;
			ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELEASE);
			return -ENOENT;
		}
		ace_store(&m->next, head, ACE_RELAXED);
		/* Partner: the exchange in take() (acquire: the receiver sees
		 * the header and payload written above). */
		if (ace_cas(&e->inbox, &head, off, ACE_SEQ_CST))
			break;
	}
	if (tries == ACE_CAS_RETRIES) {
		m->owner = src;
		ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELEASE);
		return -EAGAIN;
	}
	if (ACE_ID_SLOT(src) < a->nr_mprocs)
		ace_count_own(&ace_mproc_at(a, ACE_ID_SLOT(src))->c.sent, 1);
	return notify_after_push(a, e, slot);
}

/* Take the whole inbox and reverse it onto the private cursor.  Returns
 * the number of messages taken, 0 if none, -EIO. */
static int take(struct ace_arena *a, struct ace_rx *rx, struct ace_mproc *e)
{
	u32 cur, prev = 0, n = 0;

	if (ace_load(&e->inbox, ACE_RELAXED) == 0)
		return 0;	/* the polling fast path: one shared load */
	/* Partner: the seq_cst CAS in ace_send(). */
	cur = ace_xchg(&e->inbox, 0, ACE_ACQ_REL);
	if (cur && cur < a->size - ACE_MSG_HDR)
		ace_prefetch_w(ace_msg(a, cur));	/* we rewrite its header */
	if (cur == ACE_INBOX_CLOSED)
		return ace_arena_break(a, "own inbox was closed under its owner", rx->id);
	while (cur) {
		struct ace_msg *m;
		u32 next;

		if (ace_block_class(a, cur) < 0)
			return ace_arena_break(a, "inbox link is not a block", cur);
		if (++n > a->total_blocks)
			return ace_arena_break(a, "inbox list is cyclic", rx->id);
		m = ace_msg(a, cur);
		/* The list is ours now: a load and a store, no lock. */
		if (ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_QUEUED)
			return ace_arena_break(a, "inbox holds a block that was not sent", cur);
		ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
		next = ace_read_once(&m->next);
		ace_write_once(&m->next, prev);
		ace_write_once(&m->owner, rx->id);
		prev = cur;
		cur = next;
	}
	rx->head = prev;
	rx->count = n;
	ace_count_own(&e->c.drains, 1);
	if (n > ace_load(&e->c.max_batch, ACE_RELAXED))
		ace_store(&e->c.max_batch, n, ACE_RELAXED);
	return (int)n;
}

int ace_recv(struct ace_arena *a, struct ace_rx *rx, struct ace_msg_desc *d)
{
	struct ace_mproc *e;
	struct ace_msg *m;
	u32 off, len, dst;
	int c, r;

	if (ace_unlikely(a->broken))
		return -EIO;
	e = own_entry(a, rx);
	if (!e)
		return -EINVAL;
again:
	if (rx->count == 0) {
		r = take(a, rx, e);
		if (r <= 0)
			return r;
	}
	off = rx->head;
	c = ace_block_class(a, off);
	if (c < 0)
		return ace_arena_break(a, "private list link is not a block", off);
	m = ace_msg(a, off);
	/* Read every header word once; check the copies. */
	len = ace_read_once(&m->len);
	if (len > a->cls[c].payload_max)
		return ace_arena_break(a, "message length past its block", len);
	dst = ace_read_once(&m->dst);
	if (dst != rx->id) {
		if (ACE_ID_SLOT(dst) != ACE_ID_SLOT(rx->id))
			return ace_arena_break(a, "message in the wrong inbox", off);
		/* For an earlier mproc in this slot: its sender checked the
		 * generation, then the slot closed and was claimed anew
		 * before the push landed.  Not ours: drop it. */
		rx->head = --rx->count ? ace_read_once(&m->next) : 0;
		ace_free(a, off);
		goto again;
	}
	d->off = off;
	d->len = len;
	d->src = ace_read_once(&m->src);
	d->type = ace_read_once(&m->type);
	d->tag = ace_read_once(&m->tag);
	rx->head = --rx->count ? ace_read_once(&m->next) : 0;
	ace_count_own(&e->c.received, 1);
	return 1;
}

int ace_recv_batch(struct ace_arena *a, struct ace_rx *rx,
		   struct ace_msg_desc *d, int n)
{
	int i, r;

	for (i = 0; i < n; i++) {
		r = ace_recv(a, rx, &d[i]);
		if (r < 0)
			return i ? i : r;
		if (r == 0)
			break;
	}
	return i;
}

int ace_pending_mail(struct ace_arena *a, const struct ace_rx *rx)
{
	struct ace_mproc *e = own_entry(a, rx);
	u32 head;

	if (rx->count)
		return 1;
	if (!e)
		return 0;
	head = ace_load(&e->inbox, ACE_SEQ_CST);
	return head != 0 && head != ACE_INBOX_CLOSED;
}
