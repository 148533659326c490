// SPDX-License-Identifier: GPL-2.0
/*
 * Deliveries to the mprocs this guest owns, and the
 * notification that follows a send.
 *
 * A set pending bit means "a sender found this mproc armed".  Whoever
 * notices it (the event-queue interrupt for the host's raises, the sender
 * itself for a local one) asks the core what the notify word allows:
 *
 *   NOW    armed, outside a section (or forced): clear the bit, deliver
 *   DEFER  armed, inside a section: leave the bit for the owner's section
 *          end, and start the section's time bound; if the section is
 *          still open when it passes, force the delivery (an overrun)
 *   NONE   not armed: the owner is running; leave the bit (it clears it
 *          at its next arm) and count a spurious notification
 *
 * So nothing is ever delivered to an mproc that is running or inside a
 * section.  Which slots are ours comes from the private owned bitmap, never
 * from the table's side field, which any peer can write.
 */
#include <linux/eventfd.h>
#include <linux/ktime.h>

#include "ace_drv.h"

static bool ace_pending_bit(struct ace_dev *dev, u32 slot)
{
	return ace_pending_peek(&dev->arena, slot / 64) & BIT_ULL(slot % 64);
}

/* Under dev->lock: wake whoever waits on the slot. */
static void ace_wake_owner(struct ace_dev *dev, struct ace_slot *s)
{
	if (s->efd)
		ace_eventfd_signal(s->efd);
	if (s->kmp && s->kmp->rx_cb)
		queue_work(dev->wq, &s->kmp->work);
	if (s->file)
		wake_up_interruptible(&s->file->poll_wq);
	wake_up_all(&s->wq);
}

/* Under dev->lock: run the section's time bound for `slot`. */
static void ace_defer_start(struct ace_dev *dev, u32 slot, u32 seq)
{
	struct ace_slot *s = &dev->slots[slot];
	struct hrtimer *t = &dev->defer_timer;

	if (s->deferred && s->defer_seq == seq)
		return;		/* this section's bound already runs */
	s->deferred = true;
	s->defer_seq = seq;
	s->defer_deadline = ktime_add_ns(ktime_get(), dev->section_ns);
	if (!hrtimer_is_queued(t) ||
	    ktime_before(s->defer_deadline, hrtimer_get_expires(t)))
		hrtimer_start(t, s->defer_deadline, HRTIMER_MODE_ABS);
}

/* Under dev->lock: deliver to own `slot`, whose pending bit is set. */
static void ace_deliver_slot(struct ace_dev *dev, u32 slot)
{
	struct ace_mproc *e = ace_mproc_at(&dev->arena, slot);
	u32 n = 0;

	switch (ace_delivery(&dev->arena, slot, &n)) {
	case ACE_DELIVER_NOW:
		ace_pending_clear(&dev->arena, slot);
		dev->slots[slot].deferred = false;
		ace_count_shared(&e->c.wakeups, 1);
		ace_wake_owner(dev, &dev->slots[slot]);
		break;
	case ACE_DELIVER_DEFER:
		ace_defer_start(dev, slot, ACE_NOTIFY_SEQ(n));
		break;
	default:
		ace_count_shared(&e->c.spurious, 1);
		break;
	}
}

/* Under dev->lock (event IRQ): deliver to every own slot with its bit
 * set.  Bounded by the table size.
 */
void ace_scan_pending(struct ace_dev *dev)
{
	struct ace_arena *a = &dev->arena;
	u64 bits;
	u32 w;

	if (ace_arena_broken(a)) {
		ace_report_broken(dev);
		return;
	}
	for (w = 0; w < a->nr_pending_words; w++) {
		bits = dev->owned[w];
		if (bits)
			bits &= ace_pending_peek(a, w);
		while (bits) {
			ace_deliver_slot(dev, w * 64 + __ffs64(bits));
			bits &= bits - 1;
		}
	}
}

/*
 * After a send that raised dst's pending bit (ace_send() returned 1): wake
 * it here if this guest owns it, else ring the doorbell of the host peer
 * the table names.  A doorbell for a slot that is not a host's is ignored.
 */
void ace_notify_dst(struct ace_dev *dev, u32 dst)
{
	u32 slot = ACE_ID_SLOT(dst), side;
	unsigned long flags;

	if (slot >= dev->nr_mprocs)
		return;
	slot = ace_slot_idx(dev, dst);
	spin_lock_irqsave(&dev->lock, flags);
	if (!dev->alive)
		goto out;
	if (ace_slot_owned(dev, slot)) {
		if (ace_pending_bit(dev, slot))
			ace_deliver_slot(dev, slot);
		goto out;
	}
	side = ace_read_once(&ace_mproc_at(&dev->arena, slot)->side);
	if (ACE_SIDE_KIND(side) == ACE_SIDE_HOST)
		ace_kick_peer(dev, ACE_SIDE_PEER(side));
out:
	spin_unlock_irqrestore(&dev->lock, flags);
}

/*
 * Under dev->lock: a host peer went away.  It may have died between its
 * push and its raise, leaving mail in an own mproc that sleeps armed and
 * will never be told.  Deliver to every own mproc that has mail and may
 * be notified, as if the raise had come.  Bounded by the table size.
 */
void ace_rescue_mail(struct ace_dev *dev)
{
	struct ace_arena *a = &dev->arena;
	struct ace_rx rx;
	u32 slot;

	if (!dev->alive || ace_arena_broken(a))
		return;
	for (slot = 0; slot < dev->nr_mprocs; slot++) {
		if (!ace_slot_owned(dev, slot))
			continue;
		ace_rx_init(&rx, dev->slots[slot].id);
		if (!ace_pending_mail(a, &rx) ||
		    ace_delivery(a, slot, NULL) == ACE_DELIVER_NONE)
			continue;
		ace_pending_raise(a, slot);
		ace_deliver_slot(dev, slot);
	}
}

/* Under dev->lock: a section's time bound has passed. */
static void ace_defer_expire(struct ace_dev *dev, u32 slot, u32 seq)
{
	if (!ace_pending_bit(dev, slot))
		return;		/* drained at section end, or delivered */
	if (ace_force(&dev->arena, slot, seq))
		ace_deliver_slot(dev, slot);
}

/* The deferral hrtimer (hard IRQ): expire due sections, re-arm for the
 * next deadline.  Bounded by the table size.
 */
enum hrtimer_restart ace_defer_fire(struct hrtimer *t)
{
	struct ace_dev *dev = container_of(t, struct ace_dev, defer_timer);
	ktime_t now = ktime_get(), next = KTIME_MAX;
	unsigned long flags;
	u32 i;

	spin_lock_irqsave(&dev->lock, flags);
	for (i = 0; dev->alive && i < dev->nr_mprocs; i++) {
		struct ace_slot *s = &dev->slots[i];

		if (!s->deferred)
			continue;
		if (ktime_after(s->defer_deadline, now)) {
			next = min(next, s->defer_deadline);
			continue;
		}
		s->deferred = false;
		ace_defer_expire(dev, i, s->defer_seq);
	}
	if (dev->alive && next != KTIME_MAX)
		hrtimer_start(t, next, HRTIMER_MODE_ABS);
	spin_unlock_irqrestore(&dev->lock, flags);
	return HRTIMER_NORESTART;
}
