// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/aceN ioctls (include/uapi/linux/ace.h).
 *
 * The data path (alloc, send, receive, free, sections, arming) runs in
 * user space on the mapped arena; the ioctls only name mprocs, sleep, and
 * notify.  Every call fails with -ENODEV once the device is gone and with
 * -EIO once the arena is broken or was replaced (a recovery, a resume).
 */
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/ace.h>

#include "ace_drv.h"

static int ace_ioc_info(struct ace_dev *dev, void __user *up)
{
	struct ace_ioc_info info = {
		.abi_version = ACE_ABI_VERSION,
		.arena_size = dev->arena_size,
		.nr_mprocs = dev->nr_mprocs,
		.max_peers = dev->max_peers,
		.section_ns = dev->section_ns,
		.peers_up = READ_ONCE(dev->peers_up),
		.generation = dev->generation,
	};

	return copy_to_user(up, &info, sizeof(info)) ? -EFAULT : 0;
}

static int ace_ioc_create(struct ace_file *f, struct ace_ioc_open *o)
{
	struct ace_dev *dev = f->dev;
	u32 side = ACE_SIDE(ACE_SIDE_GUEST_USER, 0);
	int err;

	if (o->mode > ACE_MODE_ADAPTIVE)
		return -EINVAL;
	err = ace_mproc_claim(&dev->arena, o->name, side, o->mode, &o->id);
	if (err)
		return err;
	ace_write_once(&ace_mproc_at(&dev->arena, ACE_ID_SLOT(o->id))->pid,
		       (u32)task_tgid_nr(current));
	return ace_slot_own(dev, o->id, f, NULL);
}

static int ace_ioc_open(struct ace_file *f, void __user *up)
{
	struct ace_ioc_open o;
	int err;

	if (copy_from_user(&o, up, sizeof(o)))
		return -EFAULT;
	if (!memchr(o.name, 0, sizeof(o.name)) || o.reserved)
		return -EINVAL;
	if (o.flags == ACE_OPEN_CREATE) {
		if (!f->writable)
			return -EBADF;
		err = ace_ioc_create(f, &o);
	} else if (o.flags == ACE_OPEN_LOOKUP) {
		if (o.mode)
			return -EINVAL;
		err = ace_mproc_lookup(&f->dev->arena, o.name, &o.id);
	} else {
		return -EINVAL;
	}
	if (err)
		return err;
	if (!copy_to_user(up, &o, sizeof(o)))
		return 0;
	if (o.flags == ACE_OPEN_CREATE)
		ace_slot_close(f->dev, f, o.id);
	return -EFAULT;
}

static int ace_ioc_close(struct ace_file *f, void __user *up)
{
	u32 id;

	if (get_user(id, (u32 __user *)up))
		return -EFAULT;
	return ace_slot_close(f->dev, f, id);
}

static int ace_ioc_wait(struct ace_file *f, void __user *up)
{
	struct ace_ioc_wait w;
	struct ace_slot *s;
	struct ace_rx rx;
	int err;

	if (copy_from_user(&w, up, sizeof(w)))
		return -EFAULT;
	if (w.reserved)
		return -EINVAL;
	s = ace_slot_get(f->dev, f, w.id);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ace_rx_init(&rx, w.id);
	err = ace_slot_wait(f->dev, s, &rx, w.timeout_ns);
	ace_slot_put(f->dev, s);
	return err;
}

static int ace_ioc_notify(struct ace_file *f, void __user *up)
{
	struct ace_ioc_notify n;

	if (copy_from_user(&n, up, sizeof(n)))
		return -EFAULT;
	if (n.reserved || ACE_ID_SLOT(n.dst) >= f->dev->nr_mprocs)
		return -EINVAL;
	ace_notify_dst(f->dev, n.dst);
	return 0;
}

/* Bind (or with fd -1 unbind) an eventfd signalled at every delivery. */
static int ace_ioc_eventfd(struct ace_file *f, void __user *up)
{
	struct ace_dev *dev = f->dev;
	struct eventfd_ctx *ctx = NULL, *old;
	struct ace_ioc_eventfd e;
	struct ace_slot *s;

	if (copy_from_user(&e, up, sizeof(e)))
		return -EFAULT;
	if (e.fd < -1)
		return -EBADF;
	s = ace_slot_get(dev, f, e.id);
	if (IS_ERR(s))
		return PTR_ERR(s);
	if (e.fd >= 0) {
		ctx = eventfd_ctx_fdget(e.fd);
		if (IS_ERR(ctx)) {
			ace_slot_put(dev, s);
			return PTR_ERR(ctx);
		}
	}
	spin_lock_irq(&dev->lock);
	old = s->efd;
	s->efd = ctx;
	spin_unlock_irq(&dev->lock);
	ace_slot_put(dev, s);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static long ace_ioctl_cmd(struct ace_file *f, unsigned int cmd,
			  void __user *up)
{
	/* only INFO and OPEN (LOOKUP) may be used read-only */
	if (!f->writable && cmd != ACE_IOC_INFO && cmd != ACE_IOC_OPEN)
		return -EBADF;
	switch (cmd) {
	case ACE_IOC_INFO:
		return ace_ioc_info(f->dev, up);
	case ACE_IOC_OPEN:
		return ace_ioc_open(f, up);
	case ACE_IOC_CLOSE:
		return ace_ioc_close(f, up);
	case ACE_IOC_WAIT:
		return ace_ioc_wait(f, up);
	case ACE_IOC_NOTIFY:
		return ace_ioc_notify(f, up);
	case ACE_IOC_EVENTFD:
		return ace_ioc_eventfd(f, up);
	default:
		return -ENOTTY;
	}
}

/* Under arena_rwsem (read): the file's arena stays for the whole call,
 * so no ioctl that passed the check reaches the arena that replaces it.
 */
long ace_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ace_file *f = file->private_data;
	long err;

	if (down_read_killable(&f->dev->arena_rwsem))
		return -EINTR;
	err = ace_file_check(f);
	if (!err)
		err = ace_ioctl_cmd(f, cmd, (void __user *)arg);
	up_read(&f->dev->arena_rwsem);
	if (err == -EIO)
		ace_report_broken(f->dev);
	return err;
}
