// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-ace driver: probe, remove, device lifetime.
 *
 * Probe: read and check the config space, map and format the arena in the
 * device's region, find the queues, post the event buffers, ATTACH the
 * arena, then expose /dev/aceN, sysfs, debugfs and the auxiliary device
 * "ace.kapi.N" kernel clients bind to.  Remove undoes the exposure (the
 * kernel clients unbind first), takes the arena away from every process
 * that mapped it, resets the device and drops the probe's reference; the
 * kernel's mapping goes when the last open file or kernel mproc lets go.
 *
 * A new arena (ace_dev_down() + ace_dev_up()) replaces a broken one by
 * itself (recovery, a work item) and the one a suspend lost (restore):
 * kernel clients are unbound and bound again, files opened on the old
 * arena lose their mprocs and mappings and get -EIO, new opens work.
 */
#include <linux/eventfd.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "ace_drv.h"

static DEFINE_IDA(ace_ida);
static LIST_HEAD(ace_devices);
static DEFINE_MUTEX(ace_devices_lock);

static bool recover = true;
module_param(recover, bool, 0644);
MODULE_PARM_DESC(recover,
		 "replace a broken arena by a fresh one by itself (default Y); N: it stays broken until the driver is rebound");

bool ace_test_hooks;
module_param_named(test_hooks, ace_test_hooks, bool, 0444);
MODULE_PARM_DESC(test_hooks,
		 "testing only: debugfs ace/aceN/recover forces a recovery (default N)");

static void ace_dev_release(struct kref *ref)
{
	struct ace_dev *dev = container_of(ref, struct ace_dev, ref);

	if (dev->wq)
		destroy_workqueue(dev->wq);
	ace_arena_unmap(dev);
	if (dev->index >= 0)
		ida_free(&ace_ida, dev->index);
	kfree(dev->slots);
	kfree(dev->evbufs);
	kfree(dev);
}

void ace_dev_put(struct ace_dev *dev)
{
	kref_put(&dev->ref, ace_dev_release);
}

/*
 * A host (or a peer) that breaks every fresh arena would keep the driver
 * recovering in a loop.  A breakage within ACE_RECOVER_CALM of the last
 * recovery waits before the next one: 1 s, doubling up to
 * ACE_RECOVER_MAX_DELAY while it goes on.
 */
#define ACE_RECOVER_CALM	(10 * HZ)
#define ACE_RECOVER_MAX_DELAY	(64 * HZ)

/* Queue recover_work after `delay` (0: now), holding a reference for it.
 * remove() sets removing under recover_lock before it cancels the work,
 * so nothing is queued after that cancel (6.1 has no disable_work_sync()).
 */
static bool ace_recover_queue(struct ace_dev *dev, unsigned long delay)
{
	unsigned long flags;
	bool queued = false, extra = false;

	spin_lock_irqsave(&dev->recover_lock, flags);
	if (!dev->removing) {
		kref_get(&dev->ref);
		queued = true;
		/* pending already: it holds its own reference */
		extra = mod_delayed_work(system_wq, &dev->recover_work, delay);
	}
	spin_unlock_irqrestore(&dev->recover_lock, flags);
	if (extra)
		ace_dev_put(dev);	/* not the last: the caller holds one */
	return queued;
}

/* The arena broke: replace it (recover_work).
 * Called once per arena (ACE_F_WHY_LOGGED), from any context.
 */
static void ace_recover_schedule(struct ace_dev *dev)
{
	unsigned long last = READ_ONCE(dev->recover_last), delay = 0;
	unsigned int burst = 0;

	if (!recover || !READ_ONCE(dev->alive) || READ_ONCE(dev->removing))
		return;
	if (last && time_before(jiffies, last + ACE_RECOVER_CALM)) {
		burst = READ_ONCE(dev->recover_burst) + 1;
		delay = min_t(unsigned long, HZ << min(burst - 1, 6u),
			      ACE_RECOVER_MAX_DELAY);
	}
	WRITE_ONCE(dev->recover_burst, burst);
	if (ace_recover_queue(dev, delay) && delay)
		pr_warn("%s: broken again soon after a recovery (%u in a row): a fresh arena in %lu s\n",
			dev->name, burst, delay / HZ);
}

/* Testing (debugfs "recover", reinit_lock held, arena alive and intact):
 * give the arena up now and replace it, without the delay a breakage
 * soon after a recovery waits.
 */
void ace_recover_force(struct ace_dev *dev)
{
	lockdep_assert_held(&dev->reinit_lock);
	if (!READ_ONCE(dev->alive) || ace_arena_broken(&dev->arena))
		return;
	ace_arena_break(&dev->arena, "a recovery was forced (debugfs)", 0);
	if (!test_and_set_bit(ACE_F_WHY_LOGGED, &dev->flags))
		pr_info("%s: arena broken: %s; a fresh arena follows\n",
			dev->name, ace_arena_why(&dev->arena));
	ace_recover_queue(dev, 0);
}

/*
 * Say once why the arena broke.  This runs from release() and from kernel
 * clients' teardown too, which may come after the device was removed and
 * its struct virtio_device freed: log with the name taken at probe, never
 * through dev->vdev.
 */
void ace_report_broken(struct ace_dev *dev)
{
	if (!ace_arena_broken(&dev->arena) ||
	    test_and_set_bit(ACE_F_WHY_LOGGED, &dev->flags))
		return;
	pr_err("%s: arena broken: %s (value %#x); its users get -EIO%s\n",
	       dev->name, ace_arena_why(&dev->arena), dev->arena.why_value,
	       recover ? ", a fresh arena follows" : "");
	ace_recover_schedule(dev);
}

/* May the caller use the device?  0, -ENODEV (gone) or -EIO (broken). */
int ace_dev_check(struct ace_dev *dev)
{
	if (!READ_ONCE(dev->alive))
		return READ_ONCE(dev->removing) || !dev->vdev ? -ENODEV : -EIO;
	if (ace_arena_broken(&dev->arena)) {
		ace_report_broken(dev);
		return -EIO;
	}
	return 0;
}

/* A file may only use the arena it was opened on: -EIO after a recovery
 * or a resume replaced it (its mprocs and mappings are gone).
 */
int ace_file_check(struct ace_file *f)
{
	int err = ace_dev_check(f->dev);

	if (!err && READ_ONCE(f->dev->epoch) != f->epoch)
		err = -EIO;
	return err;
}

static struct ace_dev *ace_dev_alloc(struct virtio_device *vdev)
{
	struct ace_dev *dev = kzalloc(sizeof(*dev), GFP_KERNEL);

	if (!dev)
		return NULL;
	dev->vdev = vdev;
	dev->index = -1;
	kref_init(&dev->ref);
	INIT_LIST_HEAD(&dev->node);
	INIT_LIST_HEAD(&dev->files);
	mutex_init(&dev->files_lock);
	spin_lock_init(&dev->lock);
	init_completion(&dev->ctrl_done);
	INIT_WORK(&dev->evt_work, ace_evt_work);
	INIT_WORK(&dev->cfg_work, ace_cfg_work);
	INIT_DELAYED_WORK(&dev->recover_work, ace_recover_work);
	mutex_init(&dev->reinit_lock);
	init_rwsem(&dev->arena_rwsem);
	init_rwsem(&dev->map_lock);
	spin_lock_init(&dev->recover_lock);
	ace_hrtimer_setup(&dev->defer_timer, ace_defer_fire);
	return dev;
}

/* Kernel-side state sized by the config: name, slots, event buffers. */
static int ace_dev_state(struct ace_dev *dev)
{
	u32 i;

	dev->index = ida_alloc(&ace_ida, GFP_KERNEL);
	if (dev->index < 0)
		return dev->index;
	snprintf(dev->name, sizeof(dev->name), "ace%d", dev->index);
	dev->slots = kcalloc(dev->nr_mprocs, sizeof(*dev->slots), GFP_KERNEL);
	dev->evbufs = kcalloc(ACE_NR_EVENTS, sizeof(*dev->evbufs), GFP_KERNEL);
	if (!dev->slots || !dev->evbufs)
		return -ENOMEM;
	for (i = 0; i < dev->nr_mprocs; i++)
		init_waitqueue_head(&dev->slots[i].wq);
	dev->wq = alloc_workqueue("%s", WQ_HIGHPRI, 0, dev->name);
	return dev->wq ? 0 : -ENOMEM;
}

/*
 * Under map_lock (written): a fault checks alive under it (ace_cdev.c).
 * Going down, every process mapping is zapped before alive is cleared,
 * both under the lock: a fault after that finds alive false (SIGBUS),
 * and whoever sees alive false (an ioctl's -EIO) finds its mapping gone
 * already, before the reset empties the region.
 */
static void ace_dev_set_alive(struct ace_dev *dev, bool alive)
{
	down_write(&dev->map_lock);
	if (!alive) {
		ace_cdev_zap_mappings(dev);
		dev->bells_live = false;
	}
	spin_lock_irq(&dev->lock);
	dev->alive = alive;
	spin_unlock_irq(&dev->lock);
	up_write(&dev->map_lock);
}

/* The arena is attached (DRIVER_OK long set): doorbell pages may be
 * mapped into processes from now until ace_dev_set_alive(false).
 */
static void ace_bells_live(struct ace_dev *dev)
{
	down_write(&dev->map_lock);
	dev->bells_live = dev->alive;
	up_write(&dev->map_lock);
}

/* Stop the device: no more interrupts, kicks or queue use, no process
 * mapping; wake sleepers (whoever leaves WAIT with -ENODEV or -EIO must
 * already fault on its old mapping: it does).
 */
static void ace_dev_stop(struct ace_dev *dev)
{
	ace_dev_set_alive(dev, false);
	virtio_reset_device(dev->vdev);
	hrtimer_cancel(&dev->defer_timer);
	cancel_work_sync(&dev->evt_work);
	cancel_work_sync(&dev->cfg_work);
	ace_vqs_del(dev);
	ace_wake_all(dev);
}

/*
 * After a reset (recovery), the device has forgotten the features: go
 * through the status sequence again the way virtio_device_restore() does
 * (ACKNOWLEDGE, DRIVER, the features negotiated at probe, FEATURES_OK)
 * before the queues are found and DRIVER_OK is set.  Without it the
 * device runs without VIRTIO_RING_F_EVENT_IDX while the driver's rings
 * use it, and the driver's kicks of the event queue are suppressed.
 */
static int ace_dev_renegotiate(struct ace_dev *dev)
{
	struct virtio_device *vdev = dev->vdev;
	int err;

	virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	/* the features are the ones probe negotiated, ACCESS_PLATFORM
	 * included: the checks virtio_features_ok() made on them then hold
	 */
	err = vdev->config->finalize_features(vdev);
	if (err)
		goto failed;
	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1))
		return 0;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		dev_err(&vdev->dev, "the device refuses the features it took at probe after a reset\n");
		err = -ENODEV;
		goto failed;
	}
	return 0;
failed:
	/* as virtio_device_restore() does: the device may stop trying */
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FAILED);
	return err;
}

/*
 * Format a fresh arena, set up the queues and ATTACH it.  reset: the
 * driver reset the device itself (recovery), so the features are
 * negotiated again first; probe and restore come after the virtio core
 * did that.
 */
static int ace_dev_up(struct ace_dev *dev, bool reset)
{
	int err;

	down_write(&dev->arena_rwsem);
	if (reset) {
		err = ace_dev_renegotiate(dev);
		if (err)
			goto out;
	}
	err = ace_arena_format(dev);
	if (err)
		goto out;
	err = ace_vqs_init(dev);
	if (err)
		goto out;
	spin_lock_irq(&dev->lock);
	dev->dev_broken = false;
	spin_unlock_irq(&dev->lock);
	ace_dev_set_alive(dev, true);
	clear_bit(ACE_F_WHY_LOGGED, &dev->flags);
	virtio_device_ready(dev->vdev);
	err = ace_events_post(dev);
	if (!err)
		err = ace_ctrl_attach(dev);
	if (err)
		ace_dev_stop(dev);
	else
		ace_bells_live(dev);
out:
	up_write(&dev->arena_rwsem);
	return err;
}

/*
 * Give the arena up (reinit_lock held, kernel clients unbound): stop the
 * device (which takes every process's mapping away: a touch faults, the
 * region is about to hold another arena), let the ioctls still on the
 * arena leave, then forget every mproc files own and move to the next
 * epoch, so files opened before get -EIO from here on.  Counts what was
 * lost.
 */
static void ace_dev_down(struct ace_dev *dev, const char *why)
{
	struct eventfd_ctx *efd;
	struct ace_file *f;
	u32 i, lost = 0;

	strscpy(dev->last_reason, why, sizeof(dev->last_reason));
	if (!ace_arena_broken(&dev->arena))
		ace_arena_break(&dev->arena, "the arena was replaced", 0);
	ace_dev_stop(dev);
	/* the sleepers were woken (alive is false): the ioctls, releases and
	 * debugfs readers still on this arena leave, new ones get -EIO
	 */
	down_write(&dev->arena_rwsem);
	for (i = 0; i < dev->nr_mprocs; i++) {
		struct ace_slot *s = &dev->slots[i];

		/* busy counts are taken and dropped under the read lock:
		 * none is left here; a check, not a wait
		 */
		WARN_ON_ONCE(READ_ONCE(s->busy));
		spin_lock_irq(&dev->lock);
		efd = s->efd;
		if (s->id)
			lost++;
		s->efd = NULL;
		s->id = 0;
		s->file = NULL;
		s->kmp = NULL;
		s->closing = false;
		s->deferred = false;
		s->waiters = 0;
		spin_unlock_irq(&dev->lock);
		if (efd)
			eventfd_ctx_put(efd);
	}
	spin_lock_irq(&dev->lock);
	memset(dev->owned, 0, sizeof(dev->owned));
	spin_unlock_irq(&dev->lock);
	atomic64_add(lost, &dev->lost_mprocs);
	/* the mappings were zapped by ace_dev_stop(), and no fault inserts a
	 * page since (alive is false): only the count and the epoch are left
	 */
	mutex_lock(&dev->files_lock);
	list_for_each_entry(f, &dev->files, node)
		atomic64_inc(&dev->lost_files);
	WRITE_ONCE(dev->epoch, dev->epoch + 1);
	mutex_unlock(&dev->files_lock);
	up_write(&dev->arena_rwsem);
	pr_info("%s: arena given up (%s): %u mprocs lost\n", dev->name, why,
		lost);
}

/* The arena broke: tell (done), reset, format a fresh one, ATTACH it. */
void ace_recover_work(struct work_struct *work)
{
	struct ace_dev *dev = container_of(to_delayed_work(work), struct ace_dev,
					  recover_work);
	char why[ACE_WHY_MAX];
	int err;

	mutex_lock(&dev->reinit_lock);
	if (!READ_ONCE(dev->alive) || dev->removing ||
	    !ace_arena_broken(&dev->arena))
		goto out;
	snprintf(why, sizeof(why), "broken: %s", ace_arena_why(&dev->arena));
	ace_kapi_del(dev);
	ace_dev_down(dev, why);
	err = ace_dev_up(dev, true);
	if (err) {
		pr_err("%s: no fresh arena after the breakage: %d; unbind and bind the driver to retry\n",
		       dev->name, err);
		goto out;
	}
	atomic64_inc(&dev->recoveries);
	WRITE_ONCE(dev->recover_last, jiffies ?: 1);
	ace_kapi_add(dev);
	pr_info("%s: recovered: fresh arena, generation %#llx\n", dev->name,
		dev->generation);
out:
	mutex_unlock(&dev->reinit_lock);
	ace_dev_put(dev);
}

#ifdef CONFIG_PM_SLEEP
/* Suspend or hibernate: the device loses its state; so does the arena. */
static int ace_freeze(struct virtio_device *vdev)
{
	struct ace_dev *dev = vdev->priv;

	if (cancel_delayed_work_sync(&dev->recover_work))
		ace_dev_put(dev);
	mutex_lock(&dev->reinit_lock);
	ace_kapi_del(dev);
	ace_dev_down(dev, "suspended");
	mutex_unlock(&dev->reinit_lock);
	return 0;
}

static int ace_restore(struct virtio_device *vdev)
{
	struct ace_dev *dev = vdev->priv;
	int err;

	mutex_lock(&dev->reinit_lock);
	err = ace_dev_up(dev, false);
	if (!err) {
		atomic64_inc(&dev->resumes);
		ace_kapi_add(dev);
		dev_info(&vdev->dev, "/dev/%s: resumed with a fresh arena, generation %#llx\n",
			 dev->name, dev->generation);
	} else {
		dev_err(&vdev->dev, "/dev/%s: no arena after resume: %d\n",
			dev->name, err);
	}
	mutex_unlock(&dev->reinit_lock);
	return err;
}
#endif

static int ace_expose(struct ace_dev *dev)
{
	int err;

	err = ace_sysfs_add(dev);
	if (err)
		return err;
	ace_debugfs_add(dev);
	err = ace_cdev_register(dev);
	if (err)
		goto err_sysfs;
	mutex_lock(&ace_devices_lock);
	list_add_tail(&dev->node, &ace_devices);
	mutex_unlock(&ace_devices_lock);
	return 0;

err_sysfs:
	ace_debugfs_del(dev);
	ace_sysfs_del(dev);
	return err;
}

static void ace_unexpose(struct ace_dev *dev)
{
	mutex_lock(&ace_devices_lock);
	list_del_init(&dev->node);
	mutex_unlock(&ace_devices_lock);
	ace_cdev_unregister(dev);
	ace_debugfs_del(dev);
	ace_sysfs_del(dev);
}

static int ace_probe(struct virtio_device *vdev)
{
	struct ace_dev *dev;
	int err;

	dev = ace_dev_alloc(vdev);
	if (!dev)
		return -ENOMEM;
	vdev->priv = dev;
	err = ace_config_read(dev);
	if (err)
		goto err_put;
	err = ace_dev_state(dev);
	if (err)
		goto err_put;
	err = ace_arena_map(dev);
	if (err)
		goto err_put;
	ace_bells_find(dev);
	err = ace_dev_up(dev, false);
	if (err)
		goto err_put;
	err = ace_expose(dev);
	if (err)
		goto err_stop;
	mutex_lock(&dev->reinit_lock);
	err = ace_kapi_add(dev);
	mutex_unlock(&dev->reinit_lock);
	if (err)
		goto err_unexpose;
	dev_info(&vdev->dev,
		 "/dev/%s: arena attached: %u bytes of a %llu-byte region at %pa, %u mprocs, %u peers (%s), generation %#llx\n",
		 dev->name, dev->arena_size, dev->region_len, &dev->region_addr,
		 dev->nr_mprocs, dev->max_peers,
		 dev->nr_bells ? "doorbell pages" : "doorbells by ioctl",
		 dev->generation);
	return 0;

err_unexpose:
	ace_unexpose(dev);
err_stop:
	ace_dev_stop(dev);
err_put:
	vdev->priv = NULL;
	ace_dev_put(dev);
	return err;
}

static void ace_remove(struct virtio_device *vdev)
{
	struct ace_dev *dev = vdev->priv;

	/* under recover_lock: no recover_work is queued after the cancel */
	spin_lock_irq(&dev->recover_lock);
	WRITE_ONCE(dev->removing, true);
	spin_unlock_irq(&dev->recover_lock);
	if (cancel_delayed_work_sync(&dev->recover_work))
		ace_dev_put(dev);
	mutex_lock(&dev->reinit_lock);
	ace_kapi_del(dev);		/* kernel clients let go first */
	mutex_unlock(&dev->reinit_lock);
	ace_unexpose(dev);
	/* zaps every process's mapping before it wakes the sleepers: one
	 * that returns with -ENODEV finds its mapping gone already
	 */
	ace_dev_stop(dev);
	/*
	 * The region outlives this driver instance (the next probe formats a
	 * new arena in it): from here on the core must not write a word of
	 * it on behalf of files and kernel mprocs still open.
	 */
	set_bit(ACE_F_WHY_LOGGED, &dev->flags);	/* nothing to log: it is gone */
	ace_arena_break(&dev->arena, "the device was removed", 0);
	dev_info(&vdev->dev, "/dev/%s removed\n", dev->name);
	vdev->priv = NULL;
	/* vdev is freed after this returns; the files and kernel mprocs that
	 * still hold dev must not reach it
	 */
	dev->vdev = NULL;
	ace_dev_put(dev);
}

/* Hard IRQ: peers_up changed; config reads sleep, so re-read it later. */
static void ace_config_changed(struct virtio_device *vdev)
{
	struct ace_dev *dev = vdev->priv;

	if (dev && READ_ONCE(dev->alive))
		queue_work(dev->wq, &dev->cfg_work);
}

static unsigned int ace_features[] = {
	VIRTIO_ACE_F_BELL_PAGES,
};

static const struct virtio_device_id ace_id_table[] = {
	{ VIRTIO_ID_ACE, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, ace_id_table);

static struct virtio_driver ace_driver = {
	.driver.name	= KBUILD_MODNAME,
	.driver.owner	= THIS_MODULE,
	.id_table	= ace_id_table,
	.feature_table	= ace_features,
	.feature_table_size = ARRAY_SIZE(ace_features),
	.probe		= ace_probe,
	.remove		= ace_remove,
	.config_changed	= ace_config_changed,
#ifdef CONFIG_PM_SLEEP
	.freeze		= ace_freeze,
	.restore	= ace_restore,
#endif
};

static int __init ace_init(void)
{
	int err;

	ace_debugfs_init();
	err = register_virtio_driver(&ace_driver);
	if (err)
		goto err_debugfs;
	return 0;

err_debugfs:
	ace_debugfs_exit();
	return err;
}

static void __exit ace_exit(void)
{
	unregister_virtio_driver(&ace_driver);
	ace_debugfs_exit();
	ida_destroy(&ace_ida);
}

module_init(ace_init);
module_exit(ace_exit);

MODULE_DESCRIPTION("ACE zero-copy host-guest messages: virtio-ace driver");
MODULE_LICENSE("GPL");
