// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/aceN ioctls (include/uapi/linux/ace.h).
 *
 * The data path (alloc, send, receive, free, sections, arming) runs in
 * user space on the mapped arena; the ioctls only name mprocs, sleep, and
 * notify (or say where a process may ring a host peer's doorbell itself:
 * ACE_IOC_BELLS).  Every call fails with -ENODEV once the device is gone and with
 * -EIO once the arena is broken or was replaced (a recovery, a resume).
 *
 * The argument is copied in before arena_rwsem is taken and the result
 * out after it is dropped: a user buffer whose fault never ends (a
 * userfaultfd range, a FUSE file with a silent daemon) then holds up only
 * its own call, never a recovery waiting to take the lock for writing
 * (nor, behind that writer, every other caller).
 */
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/ace.h>

#include "ace_drv.h"

/* An ioctl's argument, in kernel memory while the arena lock is held. */
union ace_ioc_arg {
	struct ace_ioc_info info;
	struct ace_ioc_open open;
	struct ace_ioc_wait wait;
	struct ace_ioc_notify notify;
	struct ace_ioc_eventfd efd;
	struct ace_ioc_bells bells;
	u32 id;
};

static void ace_ioc_info(struct ace_dev *dev, struct ace_ioc_info *info)
{
	*info = (struct ace_ioc_info){
		.abi_version = ACE_ABI_VERSION,
		.arena_size = dev->arena_size,
		.nr_mprocs = dev->nr_mprocs,
		.max_peers = dev->max_peers,
		.section_ns = dev->section_ns,
		.peers_up = READ_ONCE(dev->peers_up),
		.generation = dev->generation,
	};
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

static int ace_ioc_open(struct ace_file *f, struct ace_ioc_open *o)
{
	if (!memchr(o->name, 0, sizeof(o->name)) || o->reserved)
		return -EINVAL;
	if (o->flags == ACE_OPEN_CREATE) {
		if (!f->writable)
			return -EBADF;
		return ace_ioc_create(f, o);
	}
	if (o->flags == ACE_OPEN_LOOKUP) {
		if (o->mode)
			return -EINVAL;
		return ace_mproc_lookup(&f->dev->arena, o->name, &o->id);
	}
	return -EINVAL;
}

static int ace_ioc_wait(struct ace_file *f, struct ace_ioc_wait *w)
{
	struct ace_slot *s;
	struct ace_rx rx;
	int err;

	if (w->reserved)
		return -EINVAL;
	s = ace_slot_get(f->dev, f, w->id);
	if (IS_ERR(s))
		return PTR_ERR(s);
	ace_rx_init(&rx, w->id);
	err = ace_slot_wait(f->dev, s, &rx, w->timeout_ns);
	ace_slot_put(f->dev, s);
	return err;
}

static int ace_ioc_notify(struct ace_file *f, struct ace_ioc_notify *n)
{
	if (n->reserved || ACE_ID_SLOT(n->dst) >= f->dev->nr_mprocs)
		return -EINVAL;
	ace_notify_dst(f->dev, n->dst);
	return 0;
}

/* Bind (or with fd -1 unbind) an eventfd signalled at every delivery. */
static int ace_ioc_eventfd(struct ace_file *f, struct ace_ioc_eventfd *e)
{
	struct ace_dev *dev = f->dev;
	struct eventfd_ctx *ctx = NULL, *old;
	struct ace_slot *s;

	if (e->fd < -1)
		return -EBADF;
	s = ace_slot_get(dev, f, e->id);
	if (IS_ERR(s))
		return PTR_ERR(s);
	if (e->fd >= 0) {
		ctx = eventfd_ctx_fdget(e->fd);
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

static int ace_ioc_bells(struct ace_dev *dev, struct ace_ioc_bells *b)
{
	if (!dev->nr_bells)
		return -EOPNOTSUPP;
	*b = (struct ace_ioc_bells){
		.offset = (u64)ACE_BELL_PGOFF << PAGE_SHIFT,
		.count = dev->nr_bells,
	};
	return 0;
}

/* Size of cmd's argument copied in (0: none, or not an ACE ioctl). */
static size_t ace_ioc_in_size(unsigned int cmd)
{
	switch (cmd) {
	case ACE_IOC_OPEN:
		return sizeof(struct ace_ioc_open);
	case ACE_IOC_CLOSE:
		return sizeof(u32);
	case ACE_IOC_WAIT:
		return sizeof(struct ace_ioc_wait);
	case ACE_IOC_NOTIFY:
		return sizeof(struct ace_ioc_notify);
	case ACE_IOC_EVENTFD:
		return sizeof(struct ace_ioc_eventfd);
	default:
		return 0;
	}
}

/* Under arena_rwsem (read), the argument in kernel memory. */
static long ace_ioctl_cmd(struct ace_file *f, unsigned int cmd,
			  union ace_ioc_arg *a)
{
	/* only INFO and OPEN (LOOKUP) may be used read-only */
	if (!f->writable && cmd != ACE_IOC_INFO && cmd != ACE_IOC_OPEN)
		return -EBADF;
	switch (cmd) {
	case ACE_IOC_INFO:
		ace_ioc_info(f->dev, &a->info);
		return 0;
	case ACE_IOC_OPEN:
		return ace_ioc_open(f, &a->open);
	case ACE_IOC_CLOSE:
		return ace_slot_close(f->dev, f, a->id);
	case ACE_IOC_WAIT:
		return ace_ioc_wait(f, &a->wait);
	case ACE_IOC_NOTIFY:
		return ace_ioc_notify(f, &a->notify);
	case ACE_IOC_EVENTFD:
		return ace_ioc_eventfd(f, &a->efd);
	case ACE_IOC_BELLS:
		return ace_ioc_bells(f->dev, &a->bells);
	default:
		return -ENOTTY;
	}
}

/* Under arena_rwsem (read): the file's arena stays for the whole call,
 * so no ioctl that passed the check reaches the arena that replaces it.
 */
static long ace_ioctl_locked(struct ace_file *f, unsigned int cmd,
			     union ace_ioc_arg *a)
{
	long err;

	if (down_read_killable(&f->dev->arena_rwsem))
		return -EINTR;
	err = ace_file_check(f);
	if (!err)
		err = ace_ioctl_cmd(f, cmd, a);
	up_read(&f->dev->arena_rwsem);
	return err;
}

/* The id of a CREATE could not be copied out: close the mproc again,
 * unless its arena was replaced meanwhile (which took it along).
 */
static void ace_ioc_create_undo(struct ace_file *f, u32 id)
{
	if (down_read_killable(&f->dev->arena_rwsem))
		return;			/* release() closes it */
	if (!ace_file_check(f))
		ace_slot_close(f->dev, f, id);
	up_read(&f->dev->arena_rwsem);
}

/* Copy the result out, with no lock held. */
static long ace_ioctl_out(struct ace_file *f, unsigned int cmd,
			  union ace_ioc_arg *a, void __user *up)
{
	if (cmd == ACE_IOC_INFO)
		return copy_to_user(up, &a->info, sizeof(a->info)) ? -EFAULT : 0;
	if (cmd == ACE_IOC_BELLS)
		return copy_to_user(up, &a->bells, sizeof(a->bells)) ? -EFAULT : 0;
	if (cmd != ACE_IOC_OPEN ||
	    !copy_to_user(up, &a->open, sizeof(a->open)))
		return 0;
	if (a->open.flags == ACE_OPEN_CREATE)
		ace_ioc_create_undo(f, a->open.id);
	return -EFAULT;
}

long ace_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ace_file *f = file->private_data;
	void __user *up = (void __user *)arg;
	union ace_ioc_arg a;
	size_t in = ace_ioc_in_size(cmd);
	long err;

	if (in && copy_from_user(&a, up, in))
		return -EFAULT;
	err = ace_ioctl_locked(f, cmd, &a);
	if (err == -EIO)
		ace_report_broken(f->dev);
	if (err)
		return err;
	return ace_ioctl_out(f, cmd, &a, up);
}
