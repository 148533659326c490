// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/aceN: open, release, mmap of the arena and doorbell pages, poll.
 *
 * Each open file holds a reference on the device, so the driver's state
 * outlives a device that goes away while files are open (their calls then
 * fail with -ENODEV), and fops.owner pins the module, so rmmod refuses
 * cleanly while /dev/aceN is open.  A process maps the arena region
 * itself (device memory, write-back, pages inserted at fault time); when
 * the device goes away, or before a fresh arena is formatted in the
 * region (recovery, suspend), those mappings are zapped, so a later
 * access faults (SIGBUS) instead of reaching whatever the address holds
 * next.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>

#include "ace_drv.h"

static int ace_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data and holds misc_mtx: no remove races */
	struct ace_dev *dev = container_of(file->private_data,
					   struct ace_dev, misc);
	struct ace_file *f;

	if (!READ_ONCE(dev->alive))
		return ace_dev_check(dev);
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->dev = dev;
	f->mapping = file->f_mapping;
	f->writable = file->f_mode & FMODE_WRITE;
	init_waitqueue_head(&f->poll_wq);
	kref_get(&dev->ref);
	mutex_lock(&dev->files_lock);
	f->epoch = dev->epoch;		/* stable under files_lock */
	list_add_tail(&f->node, &dev->files);
	mutex_unlock(&dev->files_lock);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

/* The arena is being given up: no slot keeps pointing at f, freed next
 * (the mprocs themselves go with the arena).
 */
static void ace_file_forget(struct ace_dev *dev, struct ace_file *f)
{
	u32 i;

	spin_lock_irq(&dev->lock);
	for (i = 0; i < dev->nr_mprocs; i++)
		if (dev->slots[i].file == f)
			dev->slots[i].file = NULL;
	spin_unlock_irq(&dev->lock);
}

static int ace_release(struct inode *inode, struct file *file)
{
	struct ace_file *f = file->private_data;
	struct ace_dev *dev = f->dev;

	/*
	 * A file of an arena since replaced has no mproc left to close.  The
	 * lock is only tried: it fails while a writer holds it or waits for
	 * it, and every writer either gives the arena up (ace_dev_down(),
	 * which forgets every mproc files own, this one's too) or brings up
	 * a fresh one after that: either way nothing is left to close, and
	 * an exiting process does not sleep behind a recovery.
	 */
	if (down_read_trylock(&dev->arena_rwsem)) {
		if (f->epoch == READ_ONCE(dev->epoch))
			ace_file_close_all(dev, f);
		up_read(&dev->arena_rwsem);
	} else {
		ace_file_forget(dev, f);
	}
	mutex_lock(&dev->files_lock);
	list_del(&f->node);
	mutex_unlock(&dev->files_lock);
	kfree(f);
	ace_dev_put(dev);
	return 0;
}

/* Pages a fault inserts: the one asked for and the rest of its aligned
 * window, so a first walk of a 64 MiB arena takes 512 faults, not 16384.
 */
#define ACE_FAULT_AROUND	32

/*
 * The arena's pages are inserted at fault time, never at mmap(): an
 * mmap() that raced a recovery could otherwise fill a VMA the zap in
 * ace_dev_stop() had not seen yet, and that process would then use the
 * next arena through a file of the old one.  The check (device alive,
 * the file's arena is the current one) and the insertion run under
 * map_lock, which ace_dev_stop() holds to zap and then clear alive:
 * a page inserted before is zapped, a fault after finds alive false.
 * A mapping of a file whose arena is gone: SIGBUS.
 */
static vm_fault_t ace_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ace_file *f = vma->vm_private_data;
	struct ace_dev *dev = f->dev;
	unsigned long pages = dev->arena_size >> PAGE_SHIFT, pfn, addr, pg;
	unsigned long first = vmf->pgoff & ~(ACE_FAULT_AROUND - 1UL);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&dev->map_lock);
	if (!READ_ONCE(dev->alive) || READ_ONCE(dev->epoch) != f->epoch ||
	    vmf->pgoff >= pages)
		goto out;
	pfn = PHYS_PFN(dev->region_addr);
	ret = vmf_insert_pfn(vma, vmf->address, pfn + vmf->pgoff);
	if (ret != VM_FAULT_NOPAGE)
		goto out;
	for (pg = first; pg < first + ACE_FAULT_AROUND && pg < pages; pg++) {
		addr = vma->vm_start + ((pg - vma->vm_pgoff) << PAGE_SHIFT);
		if (pg == vmf->pgoff || pg < vma->vm_pgoff ||
		    addr >= vma->vm_end)
			continue;
		/* one already there is left alone; a failure is retried by
		 * the fault on that page
		 */
		if (vmf_insert_pfn(vma, addr, pfn + pg) != VM_FAULT_NOPAGE)
			break;
	}
out:
	up_read(&dev->map_lock);
	return ret;
}

static const struct vm_operations_struct ace_vm_ops = {
	.fault = ace_vm_fault,
};

/* A doorbell page (ACE_IOC_BELLS), inserted at fault time under the
 * same rule as the arena's pages, and only once the arena is attached
 * (no doorbell before DRIVER_OK), uncached: the VMA's vm_page_prot, and
 * the memory type virtio-pci reserved when it mapped the queue's notify
 * address.  Page N of the mapping rings host peer N and nothing else.
 */
static vm_fault_t ace_bell_fault(struct vm_fault *vmf)
{
	struct ace_file *f = vmf->vma->vm_private_data;
	struct ace_dev *dev = f->dev;
	unsigned long n = vmf->pgoff - ACE_BELL_PGOFF;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&dev->map_lock);
	if (dev->bells_live && READ_ONCE(dev->epoch) == f->epoch &&
	    n < dev->nr_bells)
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     PHYS_PFN(dev->bell_addr +
					      (u64)n * dev->bell_stride));
	up_read(&dev->map_lock);
	return ret;
}

static const struct vm_operations_struct ace_bell_vm_ops = {
	.fault = ace_bell_fault,
};

/*
 * Two mappings: the arena from offset 0 (write-back: the memory type
 * that ace_arena_map() reserved for the region is what PAT gives the
 * pages a fault inserts, vm_page_prot stays cacheable), and the doorbell
 * pages from ACE_BELL_PGOFF (uncached, a file open for writing).  Shared
 * only; nothing is mapped here.
 */
static int ace_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ace_file *f = file->private_data;
	struct ace_dev *dev = f->dev;
	unsigned long len = vma->vm_end - vma->vm_start;
	int err = ace_file_check(f);

	if (err)
		return err;
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;		/* MAP_PRIVATE would copy on write */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (!vma->vm_pgoff) {
		if (len > dev->arena_size)
			return -EINVAL;
		vma->vm_ops = &ace_vm_ops;
	} else if (vma->vm_pgoff >= ACE_BELL_PGOFF) {
		if (!dev->nr_bells || !f->writable)
			return dev->nr_bells ? -EBADF : -ENODEV;
		if (vma->vm_pgoff - ACE_BELL_PGOFF >= dev->nr_bells ||
		    (len >> PAGE_SHIFT) >
		    dev->nr_bells - (vma->vm_pgoff - ACE_BELL_PGOFF))
			return -EINVAL;
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		vma->vm_ops = &ace_bell_vm_ops;
	} else {
		return -EINVAL;
	}
	/* 6.1 writes vma->vm_flags directly; see ace_kcompat.h */
	ace_vm_flags_mod(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP,
			 VM_MAYEXEC);
	vma->vm_private_data = f;
	return 0;
}

/* The device is gone, or the region is about to hold a fresh arena (a
 * recovery, a suspend): no process keeps a mapping of it.
 */
void ace_cdev_zap_mappings(struct ace_dev *dev)
{
	struct address_space *last = NULL;
	struct ace_file *f;

	/* the files of one device node share its inode's mapping: zap it
	 * once, not once per open file (another node of the same device, a
	 * rare thing, has its own and is zapped too)
	 */
	mutex_lock(&dev->files_lock);
	list_for_each_entry(f, &dev->files, node) {
		if (f->mapping == last)
			continue;
		unmap_mapping_range(f->mapping, 0, 0, 1);
		last = f->mapping;
	}
	mutex_unlock(&dev->files_lock);
}

/* Does any mproc file f owns have mail? */
static bool ace_file_has_mail(struct ace_dev *dev, struct ace_file *f)
{
	struct ace_rx rx;
	bool mail = false;
	u32 i;

	spin_lock_irq(&dev->lock);
	for (i = 0; i < dev->nr_mprocs && !mail; i++) {
		if (!dev->slots[i].id || dev->slots[i].file != f)
			continue;
		ace_rx_init(&rx, dev->slots[i].id);
		mail = ace_pending_mail(&dev->arena, &rx);
	}
	spin_unlock_irq(&dev->lock);
	return mail;
}

/* POLLIN when an own mproc has mail.  Deliveries wake the poll queue, and
 * an mproc is delivered to only while armed: arm it (in the mapped arena)
 * before sleeping in poll/epoll.
 */
static __poll_t ace_poll(struct file *file, poll_table *pt)
{
	struct ace_file *f = file->private_data;
	struct ace_dev *dev = f->dev;
	__poll_t mask;

	poll_wait(file, &f->poll_wq, pt);
	if (!READ_ONCE(dev->alive) && ace_dev_check(dev) == -ENODEV)
		return EPOLLERR | EPOLLHUP;
	/* a writer is giving the arena up: it is no use to this file */
	if (!down_read_trylock(&dev->arena_rwsem))
		return EPOLLERR;
	if (ace_file_check(f) || ace_arena_broken(&dev->arena))
		mask = EPOLLERR;
	else
		mask = ace_file_has_mail(dev, f) ? EPOLLIN | EPOLLRDNORM : 0;
	up_read(&dev->arena_rwsem);
	return mask;
}

static const struct file_operations ace_fops = {
	.owner		= THIS_MODULE,
	.open		= ace_open,
	.release	= ace_release,
	.mmap		= ace_mmap,
	.poll		= ace_poll,
	.unlocked_ioctl	= ace_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= ACE_NO_LLSEEK,
};

int ace_cdev_register(struct ace_dev *dev)
{
	int err;

	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &ace_fops;
	dev->misc.parent = ace_devp(dev);
	dev->misc.mode = 0600;
	err = misc_register(&dev->misc);
	if (err) {
		dev_err(ace_devp(dev), "cannot register /dev/%s: %d\n",
			dev->name, err);
		return err;
	}
	dev->misc_registered = true;
	return 0;
}

void ace_cdev_unregister(struct ace_dev *dev)
{
	if (!dev->misc_registered)
		return;
	misc_deregister(&dev->misc);
	dev->misc_registered = false;
}
