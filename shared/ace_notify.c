// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_notify.c - notify words, ACE sections and pending bits.
 *
 * The lost-wakeup handshake is Dekker's: the sender stores (push CAS) then
 * loads (notify); the owner stores (ARMED) then loads (inbox).  Both pairs
 * are seq_cst read-modify-writes followed by seq_cst loads, so at least
 * one side sees the other's store.  x86 TSO would let a plain store pass a
 * later load; the locked instructions forbid it.
 *
 * Pending bits: one per slot.  A sender that must notify sets the bit and
 * kicks the owner's notifier only on a 0 -> 1 transition.  The owner
 * clears its bit right after arming and before draining at section end,
 * so a set bit on an armed mproc always means a notification raised after
 * it armed: a bit left set by an earlier, unconsumed raise can never
 * swallow a later one.
 */
#include "ace_core.h"

static struct ace_mproc *own(struct ace_arena *a, const struct ace_rx *rx)
{
	u32 slot = ACE_ID_SLOT(rx->id);

	if (ace_read_once(&a->broken) || slot >= a->nr_mprocs)
		return (void *)0;
	return ace_mproc_at(a, slot);
}

static u64 *pending_word(struct ace_arena *a, u32 w)
{
	return (u64 *)(a->base + a->pending_off) + w;
}

int ace_pending_raise(struct ace_arena *a, u32 slot)
{
	u64 bit = 1ull << (slot % 64);

	if (slot >= a->nr_mprocs)
		return 0;
	return !(ace_fetch_or(pending_word(a, slot / 64), bit, ACE_SEQ_CST) & bit);
}

void ace_pending_clear(struct ace_arena *a, u32 slot)
{
	if (slot < a->nr_mprocs)
		ace_fetch_and(pending_word(a, slot / 64), ~(1ull << (slot % 64)),
			      ACE_SEQ_CST);
}

u64 ace_pending_take(struct ace_arena *a, u32 w, u64 mine)
{
	if (w >= a->nr_pending_words)
		return 0;
	return ace_fetch_and(pending_word(a, w), ~mine, ACE_SEQ_CST) & mine;
}

u64 ace_pending_peek(struct ace_arena *a, u32 w)
{
	if (w >= a->nr_pending_words)
		return 0;
	return ace_load(pending_word(a, w), ACE_SEQ_CST);
}

int ace_arm(struct ace_arena *a, const struct ace_rx *rx)
{
	struct ace_mproc *e = own(a, rx);

	if (!e)
		return ace_read_once(&a->broken) ? -EIO : -EINVAL;
	/* Partner: the seq_cst push CAS then notify load in ace_send(). */
	ace_fetch_or(&e->notify, ACE_NOTIFY_ARMED, ACE_SEQ_CST);
	/* Then drop a bit left by a raise that found us not armed (its
	 * notifier ignored it): set now, it would swallow the next raise.
	 * A raise after this clear goes 0 -> 1 and finds us armed; one
	 * before it is for a message the re-check below finds. */
	ace_pending_clear(a, ACE_ID_SLOT(rx->id));
	ace_count_own(&e->c.waits, 1);
	return ace_pending_mail(a, rx);
}

int ace_disarm(struct ace_arena *a, const struct ace_rx *rx)
{
	struct ace_mproc *e = own(a, rx);

	if (!e)
		return ace_read_once(&a->broken) ? -EIO : -EINVAL;
	ace_fetch_and(&e->notify, ~(ACE_NOTIFY_ARMED | ACE_NOTIFY_FORCE),
		      ACE_SEQ_CST);
	return 0;
}

int ace_section_begin(struct ace_arena *a, const struct ace_rx *rx)
{
	struct ace_mproc *e = own(a, rx);
	u32 n, nn, tries;

	if (!e)
		return ace_read_once(&a->broken) ? -EIO : -EINVAL;
	n = ace_load(&e->notify, ACE_RELAXED);
	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		if (ACE_NOTIFY_DEPTH(n) == ACE_NOTIFY_DEPTH_MASK)
			return -EOVERFLOW;
		nn = n + 1;
		if (!ACE_NOTIFY_DEPTH(n))	/* outermost: a new sequence */
			nn = (nn & 0xffffu & ~(ACE_NOTIFY_DEFERRED | ACE_NOTIFY_FORCE)) |
			     ((ACE_NOTIFY_SEQ(n) + 1) << ACE_NOTIFY_SEQ_SHIFT);
		/* Partner: the deferral CAS in notify_after_push(). */
		if (ace_cas(&e->notify, &n, nn, ACE_SEQ_CST)) {
			if (!ACE_NOTIFY_DEPTH(n))
				ace_count_own(&e->c.sections, 1);
			return 0;
		}
	}
	return -EAGAIN;
}

int ace_section_end(struct ace_arena *a, const struct ace_rx *rx)
{
	struct ace_mproc *e = own(a, rx);
	u32 n, nn, tries;

	if (!e)
		return ace_read_once(&a->broken) ? -EIO : -EINVAL;
	n = ace_load(&e->notify, ACE_RELAXED);
	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		if (!ACE_NOTIFY_DEPTH(n))
			return -EINVAL;		/* not in a section */
		nn = n - 1;
		if (ACE_NOTIFY_DEPTH(n) == 1)
			nn &= ~(ACE_NOTIFY_DEFERRED | ACE_NOTIFY_FORCE);
		/* Partner: the deferral CAS in notify_after_push(): a sender
		 * either set DEFERRED before this CAS (we see it and drain)
		 * or sees depth 0 after it (and notifies). */
		if (ace_cas(&e->notify, &n, nn, ACE_SEQ_CST))
			break;
	}
	if (tries == ACE_CAS_RETRIES)
		return -EAGAIN;
	if (ACE_NOTIFY_DEPTH(n) != 1 ||
	    !(n & (ACE_NOTIFY_DEFERRED | ACE_NOTIFY_FORCE)))
		return 0;
	/* Clear the bit before the caller drains: a raise after this goes
	 * 0 -> 1 and notifies; a raise before it is for a message the drain
	 * will find. */
	ace_pending_clear(a, ACE_ID_SLOT(rx->id));
	return 1;
}

int ace_delivery(struct ace_arena *a, u32 slot, u32 *notify_out)
{
	u32 n;

	if (ace_read_once(&a->broken) || slot >= a->nr_mprocs)
		return ACE_DELIVER_NONE;
	n = ace_load(&ace_mproc_at(a, slot)->notify, ACE_SEQ_CST);
	if (notify_out)
		*notify_out = n;
	if (!(n & ACE_NOTIFY_ARMED))
		return ACE_DELIVER_NONE;
	if (!ACE_NOTIFY_DEPTH(n) || (n & ACE_NOTIFY_FORCE))
		return ACE_DELIVER_NOW;
	return ACE_DELIVER_DEFER;
}

int ace_force(struct ace_arena *a, u32 slot, u32 seq)
{
	struct ace_mproc *e;
	u32 n, tries;

	if (ace_read_once(&a->broken) || slot >= a->nr_mprocs)
		return 0;
	e = ace_mproc_at(a, slot);
	n = ace_load(&e->notify, ACE_SEQ_CST);
	for (tries = 0; tries < ACE_CAS_RETRIES; tries++) {
		if (!ACE_NOTIFY_DEPTH(n) || ACE_NOTIFY_SEQ(n) != seq)
			return 0;	/* that section ended in time */
		if (n & ACE_NOTIFY_FORCE)
			return 1;
		if (ace_cas(&e->notify, &n, n | ACE_NOTIFY_FORCE, ACE_SEQ_CST)) {
			ace_count_shared(&e->c.overruns, 1);
			return 1;
		}
	}
	return 0;
}
