// SPDX-License-Identifier: GPL-2.0
/*
 * ace_main.c - the virtio-ace driver: probe, remove, device lifetime.
 *
 * Probe: read and check the config space, map and format the arena in the
 * device's region, find the queues, post the event buffers, ATTACH the
 * arena, then expose /dev/aceN, sysfs and debugfs.  Remove undoes the
 * exposure, takes the arena away from every process that mapped it,
 * resets the device and drops the probe's reference; the kernel's mapping
 * goes when the last open file or kernel mproc lets go.
 */
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "ace_drv.h"

static DEFINE_IDA(ace_ida);
static LIST_HEAD(ace_devices);
static DEFINE_MUTEX(ace_devices_lock);

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

/* The first live device, with a reference; NULL if there is none. */
struct ace_dev *ace_dev_get_first(void)
{
	struct ace_dev *dev, *found = NULL;

	mutex_lock(&ace_devices_lock);
	list_for_each_entry(dev, &ace_devices, node) {
		if (READ_ONCE(dev->alive)) {
			kref_get(&dev->ref);
			found = dev;
			break;
		}
	}
	mutex_unlock(&ace_devices_lock);
	return found;
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
	pr_err("%s: arena broken: %s (value %#x); every operation now fails with -EIO\n",
	       dev->name, ace_arena_why(&dev->arena), dev->arena.why_value);
}

/* May the caller use the device?  0, -ENODEV (gone) or -EIO (broken). */
int ace_dev_check(struct ace_dev *dev)
{
	if (!READ_ONCE(dev->alive))
		return -ENODEV;
	if (ace_arena_broken(&dev->arena)) {
		ace_report_broken(dev);
		return -EIO;
	}
	return 0;
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

/* Stop the device: no more interrupts, kicks or queue use; wake sleepers. */
static void ace_dev_stop(struct ace_dev *dev)
{
	spin_lock_irq(&dev->lock);
	dev->alive = false;
	spin_unlock_irq(&dev->lock);
	virtio_reset_device(dev->vdev);
	hrtimer_cancel(&dev->defer_timer);
	cancel_work_sync(&dev->evt_work);
	cancel_work_sync(&dev->cfg_work);
	ace_vqs_del(dev);
	ace_wake_all(dev);
}

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
	err = ace_arena_format(dev);
	if (err)
		goto err_put;
	err = ace_vqs_init(dev);
	if (err)
		goto err_put;
	dev->alive = true;
	virtio_device_ready(vdev);
	err = ace_events_post(dev);
	if (err)
		goto err_stop;
	err = ace_ctrl_attach(dev);
	if (err)
		goto err_stop;
	err = ace_expose(dev);
	if (err)
		goto err_stop;
	dev_info(&vdev->dev,
		 "/dev/%s: arena attached: %u bytes of a %llu-byte region at %pa, %u mprocs, %u peers, generation %#llx\n",
		 dev->name, dev->arena_size, dev->region_len, &dev->region_addr,
		 dev->nr_mprocs, dev->max_peers, dev->generation);
	return 0;

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

	ace_unexpose(dev);
	ace_dev_stop(dev);
	ace_cdev_zap_mappings(dev);
	dev_info(&vdev->dev, "/dev/%s removed\n", dev->name);
	vdev->priv = NULL;
	/* vdev is freed after this returns; the files and kernel mprocs that
	 * still hold dev must not reach it */
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

static const struct virtio_device_id ace_id_table[] = {
	{ VIRTIO_ID_ACE, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, ace_id_table);

static struct virtio_driver ace_driver = {
	.driver.name	= KBUILD_MODNAME,
	.driver.owner	= THIS_MODULE,
	.id_table	= ace_id_table,
	.probe		= ace_probe,
	.remove		= ace_remove,
	.config_changed	= ace_config_changed,
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
