// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel mprocs (include/ace_kapi.h documents each call).
 *
 * A kernel mproc with a callback stays ARMED: a send that finds it idle
 * raises its pending bit, the delivery (local, or the event interrupt for
 * a host's send) clears the bit and queues the mproc's work, and the work
 * runs the callback and re-arms, which re-checks the inbox.  A message
 * that lands while the callback runs raises the bit again and re-queues
 * the work, so nothing is lost and a burst costs one run.
 *
 * Kernel clients find a device through the auxiliary bus: every ACE
 * device has one auxiliary device "ace.kapi.N" while its arena is
 * attached.  It is deleted before the device goes away, before a broken
 * arena is replaced and before a suspend, and added again with the new
 * arena, so a client's remove() runs (and destroys its mprocs) whenever
 * its arena is about to go, and its probe() runs again on the fresh one.
 */
#include <linux/err.h>
#include <linux/export.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ace_drv.h"

static int ace_kcheck(struct ace_kmproc *mp)
{
	int err = ace_dev_check(mp->dev);

	if (!err && READ_ONCE(mp->dev->epoch) != mp->epoch)
		err = -EIO;	/* its arena was replaced */
	return err;
}

/* Pass a core result through; say why the first time the arena breaks. */
static int ace_kret(struct ace_kmproc *mp, int r)
{
	if (r == -EIO)
		ace_report_broken(mp->dev);
	return r;
}

static void ace_kmproc_run(struct ace_kmproc *mp)
{
	mutex_lock(&mp->cb_lock);
	mp->cb_task = current;
	mp->rx_cb(mp, mp->ctx);
	mp->cb_task = NULL;
	mutex_unlock(&mp->cb_lock);
}

static void ace_kmproc_work(struct work_struct *work)
{
	struct ace_kmproc *mp = container_of(work, struct ace_kmproc, work);
	struct ace_dev *dev = mp->dev;

	if (ace_kcheck(mp))
		return;
	ace_kmproc_run(mp);
	/* Still armed; re-check the inbox (and clear our pending bit) the
	 * way a sleeper does before sleeping.
	 */
	if (ace_kret(mp, ace_arm(&dev->arena, &mp->rx)) == 1)
		queue_work(dev->wq, work);
}

static struct ace_kmproc *ace_kmproc_alloc(struct ace_dev *dev,
					   ace_kmproc_cb_t rx_cb, void *ctx)
{
	struct ace_kmproc *mp = kzalloc(sizeof(*mp), GFP_KERNEL);

	if (!mp)
		return NULL;
	mp->dev = dev;
	mp->rx_cb = rx_cb;
	mp->ctx = ctx;
	INIT_WORK(&mp->work, ace_kmproc_work);
	mutex_init(&mp->cb_lock);
	return mp;
}

struct ace_kmproc *ace_kmproc_create(struct auxiliary_device *adev,
				     const char *name, ace_kmproc_cb_t rx_cb,
				     void *ctx)
{
	u32 side = ACE_SIDE(ACE_SIDE_GUEST_KERNEL, 0);
	struct ace_kmproc *mp;
	struct ace_dev *dev;
	int err;

	if (!adev)
		return ERR_PTR(-ENODEV);
	dev = container_of(adev, struct ace_adev, aux)->dev;
	err = ace_dev_check(dev);
	if (err)
		return ERR_PTR(err);
	kref_get(&dev->ref);
	mp = ace_kmproc_alloc(dev, rx_cb, ctx);
	if (!mp) {
		err = -ENOMEM;
		goto err_put;
	}
	err = ace_mproc_claim(&dev->arena, name, side, ACE_MODE_INTERRUPT,
			      &mp->id);
	if (err)
		goto err_free;
	ace_rx_init(&mp->rx, mp->id);
	mp->epoch = READ_ONCE(dev->epoch);
	err = ace_slot_own(dev, mp->id, NULL, mp);
	if (err)
		goto err_free;
	if (rx_cb && ace_arm(&dev->arena, &mp->rx) == 1)
		queue_work(dev->wq, &mp->work);
	return mp;

err_free:
	kfree(mp);
err_put:
	ace_dev_put(dev);
	return ERR_PTR(err);
}
EXPORT_SYMBOL_GPL(ace_kmproc_create);

void ace_kmproc_destroy(struct ace_kmproc *mp)
{
	struct ace_dev *dev;

	if (IS_ERR_OR_NULL(mp))
		return;
	dev = mp->dev;
	/* Order: no new deliveries, then no running callback, then close. */
	spin_lock_irq(&dev->lock);
	dev->owned[ACE_ID_SLOT(mp->id) / 64] &= ~BIT_ULL(ACE_ID_SLOT(mp->id) % 64);
	spin_unlock_irq(&dev->lock);
	cancel_work_sync(&mp->work);
	/* an arena replaced under it forgot the slot already */
	if (READ_ONCE(dev->epoch) == mp->epoch)
		ace_slot_drop(dev, ace_slot_of(dev, mp->id));
	kfree(mp);
	ace_dev_put(dev);
}
EXPORT_SYMBOL_GPL(ace_kmproc_destroy);

u32 ace_kmproc_id(const struct ace_kmproc *mp)
{
	return mp->id;
}
EXPORT_SYMBOL_GPL(ace_kmproc_id);

int ace_klookup(struct ace_kmproc *mp, const char *name, u32 *id)
{
	return ace_kcheck(mp) ?:
	       ace_kret(mp, ace_mproc_lookup(&mp->dev->arena, name, id));
}
EXPORT_SYMBOL_GPL(ace_klookup);

s64 ace_kalloc(struct ace_kmproc *mp, u32 len, void **payload)
{
	s64 off = ace_kcheck(mp);

	if (off)
		return off;
	off = ace_alloc(&mp->dev->arena, len, mp->id);
	if (off == -EIO)
		ace_report_broken(mp->dev);
	if (off > 0 && payload)
		*payload = ace_payload(&mp->dev->arena, (u32)off);
	return off;
}
EXPORT_SYMBOL_GPL(ace_kalloc);

int ace_kfree(struct ace_kmproc *mp, u32 off)
{
	return ace_kcheck(mp) ?: ace_kret(mp, ace_free(&mp->dev->arena, off));
}
EXPORT_SYMBOL_GPL(ace_kfree);

int ace_ksend(struct ace_kmproc *mp, u32 dst, u32 off, u32 len)
{
	int r = ace_kcheck(mp);

	if (r)
		return r;
	r = ace_send(&mp->dev->arena, mp->id, dst, off, len);
	if (r == 1)
		ace_notify_dst(mp->dev, dst);
	return r < 0 ? ace_kret(mp, r) : 0;
}
EXPORT_SYMBOL_GPL(ace_ksend);

int ace_krecv(struct ace_kmproc *mp, struct ace_msg_desc *d)
{
	return ace_kcheck(mp) ?:
	       ace_kret(mp, ace_recv(&mp->dev->arena, &mp->rx, d));
}
EXPORT_SYMBOL_GPL(ace_krecv);

void *ace_kpayload(struct ace_kmproc *mp, u32 off)
{
	if (ace_block_class(&mp->dev->arena, off) < 0)
		return NULL;
	return ace_payload(&mp->dev->arena, off);
}
EXPORT_SYMBOL_GPL(ace_kpayload);

int ace_kwait(struct ace_kmproc *mp, long timeout)
{
	u64 ns;
	int err = ace_kcheck(mp);

	if (err)
		return err;
	if (mp->rx_cb)
		return -EINVAL;
	if (timeout < 0)
		return -EINVAL;
	/* not jiffies_to_nsecs(): on 6.1 it truncates through u32 usecs */
	if (timeout == MAX_SCHEDULE_TIMEOUT || timeout > U64_MAX / TICK_NSEC)
		ns = U64_MAX;
	else
		ns = (u64)timeout * TICK_NSEC;
	return ace_slot_wait(mp->dev, ace_slot_of(mp->dev, mp->id), &mp->rx,
			     ns);
}
EXPORT_SYMBOL_GPL(ace_kwait);

int ace_ksection_begin(struct ace_kmproc *mp)
{
	return ace_kcheck(mp) ?:
	       ace_kret(mp, ace_section_begin(&mp->dev->arena, &mp->rx));
}
EXPORT_SYMBOL_GPL(ace_ksection_begin);

int ace_ksection_end(struct ace_kmproc *mp)
{
	int r = ace_kcheck(mp);

	if (r)
		return r;
	r = ace_kret(mp, ace_section_end(&mp->dev->arena, &mp->rx));
	if (r != 1 || !mp->rx_cb)
		return r;
	if (mp->cb_task == current)
		queue_work(mp->dev->wq, &mp->work);	/* inside the callback */
	else
		ace_kmproc_run(mp);
	return r;
}
EXPORT_SYMBOL_GPL(ace_ksection_end);

/* ---- the auxiliary device kernel clients bind to ---- */

static void ace_adev_release(struct device *d)
{
	struct ace_adev *ad = container_of(d, struct ace_adev, aux.dev);

	ace_dev_put(ad->dev);
	kfree(ad);
}

/* Add "ace.kapi.N" (reinit_lock held, arena attached). */
int ace_kapi_add(struct ace_dev *dev)
{
	struct ace_adev *ad;
	int err;

	ad = kzalloc(sizeof(*ad), GFP_KERNEL);
	if (!ad)
		return -ENOMEM;
	kref_get(&dev->ref);
	ad->dev = dev;
	ad->aux.name = "kapi";
	ad->aux.id = dev->index;
	ad->aux.dev.parent = ace_devp(dev);
	ad->aux.dev.release = ace_adev_release;
	err = auxiliary_device_init(&ad->aux);
	if (err) {
		ace_dev_put(dev);
		kfree(ad);
		goto out;
	}
	err = auxiliary_device_add(&ad->aux);
	if (err) {
		auxiliary_device_uninit(&ad->aux);	/* releases ad */
		goto out;
	}
	dev->adev = ad;
	return 0;
out:
	pr_err("%s: no auxiliary device for kernel clients: %d\n", dev->name,
	       err);
	return err;
}

/* Delete it (reinit_lock held): every client's remove() runs now. */
void ace_kapi_del(struct ace_dev *dev)
{
	struct ace_adev *ad = dev->adev;

	if (!ad)
		return;
	dev->adev = NULL;
	auxiliary_device_delete(&ad->aux);
	auxiliary_device_uninit(&ad->aux);
}
