// SPDX-License-Identifier: GPL-2.0
/*
 * The slots this guest owns: who owns them, how their owners
 * sleep, and how they are closed.
 *
 * A slot is owned by one open /dev/aceN file (ACE_IOC_OPEN CREATE) or one
 * kernel mproc.  An ioctl that works on an own slot takes a busy count;
 * CLOSE marks the slot closing (no new users, sleepers wake up), waits
 * for the busy count to drop, and only then releases the mproc, so no
 * ioctl ever arms or disarms a slot that has been given to someone else.
 */
#include <linux/eventfd.h>
#include <linux/sched.h>

#include "ace_drv.h"

bool ace_slot_owned(struct ace_dev *dev, u32 slot)
{
	return dev->owned[slot / 64] & BIT_ULL(slot % 64);
}

/*
 * Mark mproc `id` (just claimed) as this guest's: owned by file f or by
 * kernel mproc kmp.  The claim found the slot FREE in the arena, but the
 * arena is shared: if our own table still holds the slot, somebody (a
 * peer, or a process through its mapping) wrote FREE over an mproc we
 * own.  Taking the slot over would hand the old owner's sleepers and busy
 * count to the new one (a close that waits forever, or the wrong mproc
 * closed): the arena is broken instead.  Returns 0 or -EIO.
 */
int ace_slot_own(struct ace_dev *dev, u32 id, struct ace_file *f,
		 struct ace_kmproc *kmp)
{
	u32 slot = ACE_ID_SLOT(id);
	struct ace_slot *s;

	if (slot >= dev->nr_mprocs)
		return ace_arena_break(&dev->arena,
				       "a claim returned a slot past the table", id);
	s = ace_slot_of(dev, id);
	spin_lock_irq(&dev->lock);
	if (s->id || ace_slot_owned(dev, slot)) {
		spin_unlock_irq(&dev->lock);
		ace_arena_break(&dev->arena,
				"an own mproc's slot was freed by someone else", id);
		ace_report_broken(dev);
		return -EIO;
	}
	s->id = id;
	s->epoch = dev->epoch;
	s->file = f;
	s->kmp = kmp;
	s->pid = f ? task_tgid_nr(current) : 0;
	s->closing = false;
	s->busy = 0;
	s->deferred = false;
	s->waiters = 0;
	dev->owned[slot / 64] |= BIT_ULL(slot % 64);
	spin_unlock_irq(&dev->lock);
	return 0;
}

/* Take a busy count on mproc `id`, which file f must own. */
struct ace_slot *ace_slot_get(struct ace_dev *dev, struct ace_file *f, u32 id)
{
	struct ace_slot *s;
	int err = 0;

	if (ACE_ID_SLOT(id) >= dev->nr_mprocs)
		return ERR_PTR(-ENOENT);
	s = ace_slot_of(dev, id);
	spin_lock_irq(&dev->lock);
	if (s->id != id || s->closing)
		err = -ENOENT;
	else if (s->file != f)
		err = -EPERM;
	else if (s->epoch != f->epoch)
		err = -ESTALE;	/* defence only: ace_file_check() fails first */
	else
		s->busy++;
	spin_unlock_irq(&dev->lock);
	return err ? ERR_PTR(err) : s;
}

/* Drop the busy count.  A CLOSE waiting for the slot to go idle is woken
 * when it reaches 0 (ace_dev_down() never waits: it holds the arena lock
 * for writing, and busy counts live under it for reading).
 */
void ace_slot_put(struct ace_dev *dev, struct ace_slot *s)
{
	bool idle;

	spin_lock_irq(&dev->lock);
	idle = !--s->busy;
	spin_unlock_irq(&dev->lock);
	if (idle && wq_has_sleeper(&s->wq))
		wake_up_all(&s->wq);
}

/* Stop delivering to the slot, then close its mproc in the arena (which
 * reclaims every block it held).  The slot must be closing and idle, or
 * owned by a kernel mproc that is being destroyed.
 */
s64 ace_slot_drop(struct ace_dev *dev, struct ace_slot *s)
{
	struct eventfd_ctx *efd;
	u32 id = s->id, slot = ACE_ID_SLOT(id);
	s64 r;

	spin_lock_irq(&dev->lock);
	dev->owned[slot / 64] &= ~BIT_ULL(slot % 64);
	efd = s->efd;
	s->efd = NULL;
	s->id = 0;
	s->file = NULL;
	s->kmp = NULL;
	s->deferred = false;
	s->closing = false;
	spin_unlock_irq(&dev->lock);
	if (efd)
		eventfd_ctx_put(efd);
	r = ace_mproc_release(&dev->arena, id);
	if (r == -ENOENT)
		r = ace_slot_stolen(dev, id);
	else if (r == -EIO)
		ace_report_broken(dev);
	return r;
}

/*
 * Our mproc `id` is no longer ACTIVE under its generation.  Only its
 * owner (this guest) closes it, and only the reaper of a dead owner may
 * tear it down, so a change under a live owner is a peer writing our
 * slot: the arena is broken.  Returns -EIO.
 */
int ace_slot_stolen(struct ace_dev *dev, u32 id)
{
	u32 slot = ACE_ID_SLOT(id);

	ace_arena_break(&dev->arena, "own mproc's slot was changed by a peer",
			ace_read_once(&ace_mproc_at(&dev->arena, slot)->state));
	ace_report_broken(dev);
	return -EIO;
}

static bool ace_slot_idle(struct ace_dev *dev, struct ace_slot *s)
{
	bool idle;

	spin_lock_irq(&dev->lock);
	idle = !s->busy;
	spin_unlock_irq(&dev->lock);
	return idle;
}

/* Start closing own mproc `id` of file f (slot s): no new users from
 * here.  Returns 0, -ENOENT (not ours, or closing), -EPERM (another
 * file's) or -ESTALE (claimed on an arena since replaced).
 */
static int ace_slot_begin_close(struct ace_dev *dev, struct ace_file *f,
				struct ace_slot *s, u32 id)
{
	int err = 0;

	spin_lock_irq(&dev->lock);
	if (!s->id || s->id != id || s->closing)
		err = -ENOENT;
	else if (s->file != f)
		err = -EPERM;
	else if (s->epoch != f->epoch)
		err = -ESTALE;	/* defence only: ace_file_check() fails first */
	else
		s->closing = true;
	spin_unlock_irq(&dev->lock);
	return err;
}

static s64 ace_slot_finish_close(struct ace_dev *dev, struct ace_slot *s)
{
	wake_up_all(&s->wq);
	wait_event(s->wq, ace_slot_idle(dev, s));
	return ace_slot_drop(dev, s);
}

/* ACE_IOC_CLOSE: close own mproc `id`. */
int ace_slot_close(struct ace_dev *dev, struct ace_file *f, u32 id)
{
	struct ace_slot *s;
	s64 r;
	int err;

	if (ACE_ID_SLOT(id) >= dev->nr_mprocs)
		return -ENOENT;
	s = ace_slot_of(dev, id);
	err = ace_slot_begin_close(dev, f, s, id);
	if (err)
		return err;
	r = ace_slot_finish_close(dev, s);
	return r < 0 && r != -ENOENT ? (int)r : 0;
}

/* release(): close every mproc file f owns; the core reclaims the blocks
 * they held, which is how a killed process's messages come back.
 */
void ace_file_close_all(struct ace_dev *dev, struct ace_file *f)
{
	u32 i, id;

	for (i = 0; i < dev->nr_mprocs; i++) {
		struct ace_slot *s = &dev->slots[i];

		id = READ_ONCE(s->id);
		if (!id || READ_ONCE(s->file) != f)
			continue;
		if (!ace_slot_begin_close(dev, f, s, id))
			ace_slot_finish_close(dev, s);
	}
}

/* ---- sleeping ---- */

/* Is our mproc still ACTIVE under its generation?  One load. */
static bool ace_slot_intact(struct ace_dev *dev, const struct ace_rx *rx)
{
	return ace_mproc_check(&dev->arena, rx->id) == 0;
}

static bool ace_wait_done(struct ace_dev *dev, struct ace_slot *s,
			  const struct ace_rx *rx)
{
	return ace_pending_mail(&dev->arena, rx) || !READ_ONCE(dev->alive) ||
	       READ_ONCE(s->closing) || ace_arena_broken(&dev->arena) ||
	       !ace_slot_intact(dev, rx);
}

static int ace_wait_result(struct ace_dev *dev, struct ace_slot *s,
			   const struct ace_rx *rx, long r)
{
	if (r < 0 && r != -ETIME && r != -ERESTARTSYS)
		return r;		/* ace_arm failed */
	if (!READ_ONCE(dev->alive))
		return ace_dev_check(dev);	/* gone, or being replaced */
	if (ace_pending_mail(&dev->arena, rx))
		return 0;
	if (!READ_ONCE(s->closing) && !ace_arena_broken(&dev->arena) &&
	    !ace_slot_intact(dev, rx))
		return ace_slot_stolen(dev, rx->id);
	if (ace_arena_broken(&dev->arena)) {
		ace_report_broken(dev);
		return -EIO;
	}
	if (READ_ONCE(s->closing))
		return -ENOENT;
	return r == -ERESTARTSYS ? -ERESTARTSYS : -ETIMEDOUT;
}

static long ace_wait_sleep(struct ace_dev *dev, struct ace_slot *s,
			   const struct ace_rx *rx, u64 timeout_ns)
{
	if (timeout_ns == U64_MAX)
		return wait_event_interruptible(s->wq,
						ace_wait_done(dev, s, rx));
	return wait_event_interruptible_hrtimeout(s->wq,
			ace_wait_done(dev, s, rx),
			ns_to_ktime(min_t(u64, timeout_ns, KTIME_MAX)));
}

/*
 * Several threads may sleep on one mproc (one WAIT each).  The ARMED bit
 * is one per mproc, so it is set by the first sleeper and cleared by the
 * last: a sleeper that leaves (timeout, signal, mail) must not disarm the
 * mproc under one still asleep, or that one's wake-up is lost.  The arm
 * (which re-checks the inbox) runs for every sleeper.
 */
static int ace_wait_arm(struct ace_dev *dev, struct ace_slot *s,
			const struct ace_rx *rx)
{
	int r;

	spin_lock_irq(&dev->lock);
	s->waiters++;
	r = ace_arm(&dev->arena, rx);
	spin_unlock_irq(&dev->lock);
	return r;
}

static void ace_wait_disarm(struct ace_dev *dev, struct ace_slot *s,
			    const struct ace_rx *rx)
{
	spin_lock_irq(&dev->lock);
	if (!--s->waiters)
		ace_disarm(&dev->arena, rx);
	spin_unlock_irq(&dev->lock);
}

/*
 * Sleep until own mproc rx->id has mail: arm it (the core re-checks the
 * inbox after setting ARMED), sleep until a delivery, disarm.  0 when mail
 * is waiting, -ETIMEDOUT, -ERESTARTSYS, -ENODEV, -EIO, -ENOENT (closed).
 * timeout_ns: 0 only checks, U64_MAX waits forever.
 */
int ace_slot_wait(struct ace_dev *dev, struct ace_slot *s,
		  struct ace_rx *rx, u64 timeout_ns)
{
	long r;

	if (ace_arena_broken(&dev->arena)) {
		ace_report_broken(dev);
		return -EIO;
	}
	if (!ace_slot_intact(dev, rx))
		return ace_slot_stolen(dev, rx->id);
	if (!timeout_ns)
		return ace_pending_mail(&dev->arena, rx) ? 0 : -ETIMEDOUT;
	r = ace_wait_arm(dev, s, rx);
	if (r == 0)
		r = ace_wait_sleep(dev, s, rx, timeout_ns);
	ace_wait_disarm(dev, s, rx);
	return ace_wait_result(dev, s, rx, r);
}

/* The device went away: wake every sleeper and poller. */
void ace_wake_all(struct ace_dev *dev)
{
	struct ace_file *f;
	u32 i;

	for (i = 0; i < dev->nr_mprocs; i++)
		wake_up_all(&dev->slots[i].wq);
	mutex_lock(&dev->files_lock);
	list_for_each_entry(f, &dev->files, node)
		wake_up_interruptible_all(&f->poll_wq);
	mutex_unlock(&dev->files_lock);
}
