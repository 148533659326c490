// SPDX-License-Identifier: GPL-2.0
/*
 * Counters: sysfs (the ace/ group under the virtio device)
 * and debugfs (/sys/kernel/debug/ace/aceN/mprocs, one line per active
 * mproc slot, read from the arena; aceN/recover, written to force a
 * recovery, for tests).
 */
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>

#include "ace_drv.h"

static struct dentry *ace_debugfs_root;

static struct ace_dev *ace_from(struct device *d)
{
	return dev_to_virtio(d)->priv;
}

/* a counter: ACE_ATTR_COUNTER(name, dev->name), an atomic64_t */
#define ACE_ATTR_COUNTER(name, counter)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct ace_dev *dev = ace_from(d);				\
									\
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(&(counter))); \
}									\
static DEVICE_ATTR_RO(name)

#define ACE_ATTR_U32(name, expr)					\
static ssize_t name##_show(struct device *d,				\
			   struct device_attribute *attr, char *buf)	\
{									\
	struct ace_dev *dev = ace_from(d);				\
									\
	return sysfs_emit(buf, "%u\n", (u32)(expr));			\
}									\
static DEVICE_ATTR_RO(name)

ACE_ATTR_COUNTER(interrupts, dev->interrupts);
ACE_ATTR_COUNTER(events, dev->events);
ACE_ATTR_COUNTER(bad_events, dev->bad_events);
ACE_ATTR_COUNTER(kicks, dev->kicks);
ACE_ATTR_COUNTER(recoveries, dev->recoveries);
ACE_ATTR_COUNTER(resumes, dev->resumes);
ACE_ATTR_COUNTER(lost_mprocs, dev->lost_mprocs);
ACE_ATTR_COUNTER(lost_files, dev->lost_files);

/* Why the last arena was given up ("broken: <why>", "suspended"), or
 * "none".
 */
static ssize_t last_reason_show(struct device *d,
				struct device_attribute *attr, char *buf)
{
	struct ace_dev *dev = ace_from(d);
	ssize_t n;

	mutex_lock(&dev->reinit_lock);
	n = sysfs_emit(buf, "%s\n", dev->last_reason[0] ? dev->last_reason : "none");
	mutex_unlock(&dev->reinit_lock);
	return n;
}
static DEVICE_ATTR_RO(last_reason);
ACE_ATTR_U32(arena_size, dev->arena_size);
ACE_ATTR_U32(nr_mprocs, dev->nr_mprocs);
ACE_ATTR_U32(max_peers, dev->max_peers);
ACE_ATTR_U32(section_ns, dev->section_ns);
/* doorbell pages a process may map (ACE_IOC_BELLS): 0 or max_peers */
ACE_ATTR_U32(doorbell_pages, dev->nr_bells);

static ssize_t region_size_show(struct device *d,
				struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", ace_from(d)->region_len);
}
static DEVICE_ATTR_RO(region_size);

static ssize_t peers_up_show(struct device *d, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%#x\n", READ_ONCE(ace_from(d)->peers_up));
}
static DEVICE_ATTR_RO(peers_up);

static ssize_t generation_show(struct device *d, struct device_attribute *attr,
			       char *buf)
{
	return sysfs_emit(buf, "%#llx\n", ace_from(d)->generation);
}
static DEVICE_ATTR_RO(generation);

/* "0", or "1 <why>" for a broken arena or a device that reported one. */
static ssize_t broken_show(struct device *d, struct device_attribute *attr,
			   char *buf)
{
	struct ace_dev *dev = ace_from(d);
	const struct ace_arena *a = &dev->arena;

	if (ace_arena_broken(a))
		return sysfs_emit(buf, "1 arena: %s (value %#x)\n",
				  ace_arena_why(a), a->why_value);
	if (READ_ONCE(dev->dev_broken))
		return sysfs_emit(buf, "1 device: refused the arena (arg %u)\n",
				  READ_ONCE(dev->dev_broken_arg));
	return sysfs_emit(buf, "0\n");
}
static DEVICE_ATTR_RO(broken);

static struct attribute *ace_attrs[] = {
	&dev_attr_interrupts.attr,
	&dev_attr_events.attr,
	&dev_attr_bad_events.attr,
	&dev_attr_kicks.attr,
	&dev_attr_arena_size.attr,
	&dev_attr_nr_mprocs.attr,
	&dev_attr_max_peers.attr,
	&dev_attr_section_ns.attr,
	&dev_attr_doorbell_pages.attr,
	&dev_attr_region_size.attr,
	&dev_attr_peers_up.attr,
	&dev_attr_generation.attr,
	&dev_attr_broken.attr,
	&dev_attr_recoveries.attr,
	&dev_attr_resumes.attr,
	&dev_attr_lost_mprocs.attr,
	&dev_attr_lost_files.attr,
	&dev_attr_last_reason.attr,
	NULL,
};

static const struct attribute_group ace_attr_group = {
	.name = "ace",
	.attrs = ace_attrs,
};

int ace_sysfs_add(struct ace_dev *dev)
{
	int err = sysfs_create_group(&ace_devp(dev)->kobj, &ace_attr_group);

	if (err)
		dev_err(ace_devp(dev), "cannot create sysfs counters: %d\n", err);
	return err;
}

void ace_sysfs_del(struct ace_dev *dev)
{
	sysfs_remove_group(&ace_devp(dev)->kobj, &ace_attr_group);
}

/* ---- debugfs ---- */

static const char *ace_side_name(u32 side)
{
	switch (ACE_SIDE_KIND(side)) {
	case ACE_SIDE_GUEST_KERNEL:
		return "kernel";
	case ACE_SIDE_GUEST_USER:
		return "user";
	case ACE_SIDE_HOST:
		return "host";
	default:
		return "?";
	}
}

static void ace_show_counters(struct seq_file *m, const struct ace_mproc *e)
{
	const struct ace_mproc_counters *c = &e->c;

	seq_printf(m, " sent %llu received %llu waits %llu wakeups %llu",
		   ace_read_once(&c->sent), ace_read_once(&c->received),
		   ace_read_once(&c->waits), ace_read_once(&c->wakeups));
	seq_printf(m, " notifies %llu interrupts %llu deferrals %llu overruns %llu spurious %llu",
		   ace_read_once(&c->notifies), ace_read_once(&c->interrupts),
		   ace_read_once(&c->deferrals), ace_read_once(&c->overruns),
		   ace_read_once(&c->spurious));
}

static void ace_show_slot(struct seq_file *m, struct ace_dev *dev, u32 slot)
{
	struct ace_arena *a = &dev->arena;
	const struct ace_mproc *e = ace_mproc_at(a, slot);
	char name[ACE_NAME_MAX];
	u32 id, side, held, queued, free;

	if (ace_mproc_name(a, slot, name, &id))
		return;
	side = ace_read_once(&e->side);
	seq_printf(m, "slot %u id %#x name %s side %s:%u local %d mode %u notify %#010x pid %u",
		   slot, id, name, ace_side_name(side), ACE_SIDE_PEER(side),
		   ace_slot_owned(dev, slot), ace_read_once(&e->mode),
		   ace_read_once(&e->notify), ace_read_once(&e->pid));
	ace_show_counters(m, e);
	if (!ace_block_census(a, id, &held, &queued, &free))
		seq_printf(m, " held %u", held);
	seq_putc(m, '\n');
}

static int ace_mprocs_show(struct seq_file *m, void *unused)
{
	struct ace_dev *dev = m->private;
	struct ace_arena *a = &dev->arena;
	u32 slot, held, queued, free;
	int err;

	/* not across a new arena's formatting (ace_dev_up()) */
	err = down_read_killable(&dev->arena_rwsem);
	if (err)
		return err;
	if (!READ_ONCE(dev->alive)) {
		seq_puts(m, "no arena\n");
		goto out;
	}
	for (slot = 0; slot < a->nr_mprocs; slot++) {
		ace_show_slot(m, dev, slot);
		cond_resched();		/* a census walks every block */
	}
	if (ace_block_census(a, 0, &held, &queued, &free))
		seq_printf(m, "arena broken: %s (value %#x)\n",
			   ace_arena_why(a), a->why_value);
	else
		seq_printf(m, "blocks total %u free %u held %u in_flight %u\n",
			   a->total_blocks, free, held, queued);
out:
	up_read(&dev->arena_rwsem);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ace_mprocs);

/* Testing (only with test_hooks=1): a write gives the arena up and
 * replaces it at once, as if it had broken (the tests race recoveries
 * against users with it).  Under reinit_lock, so it never lands inside a
 * probe, a recovery or a restore bringing an arena up; an arena already
 * broken has its recovery coming, and an empty write does nothing.
 */
static ssize_t ace_recover_write(struct file *file, const char __user *buf,
				 size_t len, loff_t *ppos)
{
	struct ace_dev *dev = file->private_data;
	ssize_t r = len;

	if (!len)
		return 0;
	if (mutex_lock_killable(&dev->reinit_lock))
		return -EINTR;
	if (!READ_ONCE(dev->alive) || dev->removing)
		r = -EIO;
	else if (!ace_arena_broken(&dev->arena))
		ace_recover_force(dev);
	mutex_unlock(&dev->reinit_lock);
	return r;
}

static const struct file_operations ace_recover_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= ace_recover_write,
	.llseek	= ACE_NO_LLSEEK,
};

void ace_debugfs_init(void)
{
	ace_debugfs_root = debugfs_create_dir("ace", NULL);
}

void ace_debugfs_exit(void)
{
	debugfs_remove_recursive(ace_debugfs_root);
}

void ace_debugfs_add(struct ace_dev *dev)
{
	dev->debugfs = debugfs_create_dir(dev->name, ace_debugfs_root);
	debugfs_create_file("mprocs", 0400, dev->debugfs, dev,
			    &ace_mprocs_fops);
	if (ace_test_hooks)
		debugfs_create_file("recover", 0200, dev->debugfs, dev,
				    &ace_recover_fops);
}

void ace_debugfs_del(struct ace_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
	dev->debugfs = NULL;
}
