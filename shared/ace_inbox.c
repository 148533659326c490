// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_inbox.c - sending and receiving: a multi-producer push list per
 * mproc, taken whole by its one consumer (the pattern of Linux's llist).
 *
 * Send is one CAS once the message is written: a reader never sees a
 * half-linked queue, which is ACE's "once started, it completes" without
 * disabling anything.  Receive claims the list, detaches it with one CAS
 * and reverses it into FIFO order on a private cursor.
 *
 * The common cases (a send, the receive of a one-message inbox) are
 * inline in ace_core.h; this file holds everything else.
 */
#include "ace_core.h"

static struct ace_mproc *own_entry(struct ace_arena *a, const struct ace_rx *rx)
{
	u32 slot = ACE_ID_SLOT(rx->id);

	return slot < a->nr_mprocs ? ace_mproc_at(a, slot) : (void *)0;
}

/* After a push to an armed mproc (ace_send): should anyone be notified?
 * `n` is the notify word the push loaded.  Returns 1 if the caller must
 * kick the destination's notifier. */
int ace_send_notify(struct ace_arena *a, struct ace_mproc *e, u32 slot, u32 n)
{
	u32 tries;

	for (tries = 0; ACE_NOTIFY_DEPTH(n) &&
	     !(n & (ACE_NOTIFY_DEFERRED | ACE_NOTIFY_FORCE)); tries++) {
		/* Inside a section: mark the delivery deferred.  A CAS, not
		 * fetch_or, so a section that ends meanwhile (depth 0) is
		 * seen and we notify instead.  Partner: the CAS in
		 * ace_section_end(). */
		/* A word that keeps changing (only a hostile owner does
		 * that for long): mark it with a fetch_or, which cannot
		 * fail.  The message is in the inbox already, so never
		 * -EAGAIN here (the caller would think the block still its
		 * own).  A section open then drains at its end; one that
		 * ended meanwhile (depth 0) ignores the bit, and its next
		 * outermost begin clears it. */
		if (tries == ACE_NOTIFY_RETRIES) {
			n = ace_fetch_or(&e->notify, ACE_NOTIFY_DEFERRED, ACE_SEQ_CST);
			if (!(n & ACE_NOTIFY_ARMED))
				return 0;
			break;
		}
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

/* A push (ace_send) that found the inbox closed, or kept losing its CAS:
 * the block is the sender's again. */
int ace_send_undo(struct ace_msg *m, u32 src, int err)
{
	m->owner = src;
	ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELEASE);
	return err;
}

/* Make the blocks from `cur` down to `stop` (not included) ours: ALLOC,
 * owned by us, still linked where they are.  Counts them in *n.  0 or
 * -EIO. */
static int claim(struct ace_arena *a, const struct ace_rx *rx, u32 cur,
		 u32 stop, u32 *n)
{
	while (cur != stop) {
		struct ace_msg *m;

		if (!cur)
			return ace_arena_break(a, "inbox list changed under its owner", rx->id);
		if (!ace_handle_ok(a, cur))
			return ace_arena_break(a, "inbox link is not a block", cur);
		if (++*n > a->total_blocks)
			return ace_arena_break(a, "inbox list is cyclic", rx->id);
		m = ace_msg(a, cur);
		/* Only we take from our inbox: a load and a store, no lock. */
		if (ace_load(&m->flags, ACE_RELAXED) != ACE_MSG_QUEUED) {
			if (ace_read_once(&m->owner) == rx->id)
				return ace_arena_break(a, "inbox list is cyclic (links a block already taken)", cur);
			return ace_arena_break(a, "inbox holds a block that was not sent", cur);
		}
		ace_store(&m->flags, ACE_MSG_ALLOC, ACE_RELAXED);
		ace_write_once(&m->owner, rx->id);
		cur = ace_read_once(&m->next);
	}
	return 0;
}

/*
 * Take the whole inbox onto the private cursor, in FIFO order.  An owner
 * killed at any point must strand nothing, so every block is made ours
 * while it is still linked from the inbox (claim), only then is the list
 * detached (a CAS: a push meanwhile adds a newer run above the one
 * claimed, claimed in turn), and only then reversed.  A dead owner's
 * close finds each block either in its inbox (freed there) or held by it
 * (reclaimed).  `head` is the inbox, loaded (acquire) and not 0; the run
 * from `stop` down is claimed already (n messages).  Returns the number
 * of messages taken, -EIO.  On return rx->head is a checked handle.
 */
static int ace_noinline
take(struct ace_arena *a, struct ace_rx *rx, struct ace_mproc *e, u32 head,
     u32 stop, u32 n)
{
	u32 cur, prev = 0, next, i, tries;

	for (tries = 0;; tries++) {
		if (head == ACE_INBOX_CLOSED)
			return ace_arena_break(a, "own inbox was closed under its owner", rx->id);
		if (claim(a, rx, head, stop, &n))
			goto bad;
		stop = head;
		if (tries == ACE_CAS_RETRIES) {
			/* senders never pause: detach what is there now (a
			 * death in the claim below strands the newest run) */
			head = ace_xchg(&e->inbox, 0, ACE_ACQ_REL);
			if (head == ACE_INBOX_CLOSED)
				return ace_arena_break(a, "own inbox was closed under its owner", rx->id);
			if (claim(a, rx, head, stop, &n))
				return -EIO;
			break;
		}
		/* Partner: the CAS in ace_send(); a failed CAS loads the newer
		 * head, whose chain leads down to the run already claimed. */
		if (ace_cas(&e->inbox, &head, 0, ACE_ACQ_REL))
			break;
	}
	/* The list is private now: reverse it.  Each link is read again
	 * from shared memory, so each is checked again (the first, `head`,
	 * is our own copy, checked by claim). */
	for (cur = head, i = 0;;) {
		struct ace_msg *m = ace_msg(a, cur);

		next = ace_read_once(&m->next);
		ace_write_once(&m->next, prev);
		prev = cur;
		if (++i == n)
			break;
		if (!ace_handle_ok(a, next))
			return ace_arena_break(a, "taken list changed under its owner", next);
		cur = next;
	}
	rx->head = prev;
	rx->count = n;
	ace_count_own(&e->c.drains, 1);
	if (n > ace_load(&e->c.max_batch, ACE_RELAXED))
		ace_store(&e->c.max_batch, n, ACE_RELAXED);
	return (int)n;

bad:
	/* Leave no junk in the inbox for the close to trip over: what was
	 * claimed is ours and is reclaimed when we close. */
	ace_xchg(&e->inbox, 0, ACE_ACQ_REL);
	return -EIO;
}

/* Step the cursor past message m; the next link is read once and checked
 * here, so rx->head is always a checked handle.  0 or -EIO. */
static inline int advance(struct ace_arena *a, struct ace_rx *rx,
			  struct ace_msg *m)
{
	u32 next;

	if (--rx->count == 0) {
		rx->head = 0;
		return 0;
	}
	next = ace_read_once(&m->next);
	if (ace_unlikely(!ace_handle_ok(a, next))) {
		rx->count = 0;
		rx->head = 0;
		return ace_arena_break(a, "private list link is not a block", next);
	}
	rx->head = next;
	return 0;
}

/* Everything ace_recv() does not do inline: deliver from the private
 * list, take a batch, report what does not check. */
int ace_recv_slow(struct ace_arena *a, struct ace_rx *rx,
		  struct ace_msg_desc *d)
{
	const struct ace_class *k;
	struct ace_mproc *e;
	struct ace_msg *m;
	u32 off, len, dst, head, dropped = 0;
	int r;

	if (ace_unlikely(ace_read_once(&a->broken)))
		return -EIO;
	e = own_entry(a, rx);
	if (ace_unlikely(!e))
		return -EINVAL;
again:
	if (rx->count == 0) {
		/* Partner: the seq_cst CAS in ace_send() (acquire: the
		 * headers). */
		head = ace_load(&e->inbox, ACE_ACQUIRE);
		if (head == 0)
			return 0;
		if (head < a->size)	/* we rewrite its header */
			ace_prefetch_w(ace_msg(a, head));
		r = take(a, rx, e, head, 0, 0);
		if (r < 0)
			return r;
	}
	off = rx->head;		/* checked by take() or advance() */
	k = &a->cls[ACE_HANDLE_CLASS(off)];
	m = ace_msg(a, off);
	/* take() made every block on the private list ours; a peer that
	 * relinked or re-stated one since is caught here. */
	if (ace_unlikely(ace_read_once(&m->flags) != ACE_MSG_ALLOC ||
			 ace_read_once(&m->owner) != rx->id))
		return ace_arena_break(a, "private list changed under its owner", off);
	/* Read every header word once; check the copies. */
	len = ace_read_once(&m->len);
	if (ace_unlikely(len > k->payload_max))
		return ace_arena_break(a, "message length past its block", len);
	dst = ace_read_once(&m->dst);
	if (ace_unlikely(dst != rx->id)) {
		if (ACE_ID_SLOT(dst) != ACE_ID_SLOT(rx->id))
			return ace_arena_break(a, "message in the wrong inbox", off);
		/* For an earlier mproc in this slot: its sender checked the
		 * generation, then the slot closed and was claimed anew
		 * before the push landed.  Not ours: drop it. */
		if (advance(a, rx, m))
			return -EIO;
		ace_free(a, off);
		/* A work budget per call: a peer that keeps pushing stale
		 * messages cannot hold the caller here. */
		if (++dropped >= a->total_blocks)
			return 0;
		goto again;
	}
	d->off = off;
	d->len = len;
	d->src = ace_read_once(&m->src);
	d->type = ace_read_once(&m->type);
	d->tag = ace_read_once(&m->tag);
	d->cap = k->payload_max;
	d->data = k->data +
		  (ace_ror32(off - k->hbase, ACE_MSG_SHIFT) << k->shift);
	ace_count_own(&e->c.received, 1);
	return advance(a, rx, m) ? -EIO : 1;
}

/* ace_recv() claimed message `taken` and found a newer push above it
 * (the inbox is now `head`): take the rest, then deliver in order. */
int ace_recv_rest(struct ace_arena *a, struct ace_rx *rx,
		  struct ace_msg_desc *d, u32 head, u32 taken)
{
	struct ace_mproc *e = own_entry(a, rx);
	int r;

	if (!e)
		return -EINVAL;
	r = take(a, rx, e, head, taken, 1);
	return r < 0 ? r : ace_recv_slow(a, rx, d);
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

int ace_recv_unget(struct ace_arena *a, struct ace_rx *rx, u32 off)
{
	struct ace_mproc *e;
	struct ace_msg *m;
	u64 n;

	if (ace_read_once(&a->broken))
		return -EIO;
	e = own_entry(a, rx);
	if (!e || !ace_handle_ok(a, off) || rx->count >= a->total_blocks)
		return -EINVAL;
	m = ace_msg(a, off);
	/* Ours and addressed to us: what ace_recv() handed out.  The next
	 * ace_recv() checks the header again before it delivers. */
	if (ace_read_once(&m->flags) != ACE_MSG_ALLOC ||
	    ace_read_once(&m->owner) != rx->id || ace_read_once(&m->dst) != rx->id)
		return -EINVAL;
	ace_write_once(&m->next, rx->count ? rx->head : 0);
	rx->head = off;
	rx->count++;
	n = ace_load(&e->c.received, ACE_RELAXED);
	if (n)		/* delivered again: counted once */
		ace_store(&e->c.received, n - 1, ACE_RELAXED);
	return 0;
}
