// SPDX-License-Identifier: GPL-2.0
/*
 * ace_mem.c - the arena's memory.
 *
 * Debian's 6.1 kernel has no CMA, so nothing larger than 4 MiB (order 10)
 * is physically contiguous.  The arena is a list of chunks of at most
 * 4 MiB, each a buddy allocation split into individually refcounted pages
 * (so mmap can insert them and a mapping keeps them alive), all mapped
 * into one contiguous kernel range with vmap().  The chunk list, in arena
 * order, is what the device is given.
 *
 * Retiring: host peers map the arena's pages directly.  When the device
 * is reset it sends every peer DETACH, but a peer acts on it only when it
 * next reads its socket, and may write a few more messages meanwhile.  So
 * the pages of a retired arena stay out of the page allocator for
 * ACE_RETIRE_GRACE before they are freed: a peer that reads its socket
 * within that time never writes into memory the guest reused.
 */
#include <linux/delay.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "ace_drv.h"

#define ACE_RETIRE_GRACE	HZ	/* see "Retiring" above */

struct ace_retired {
	struct list_head node;
	unsigned long expires;		/* jiffies */
	struct page **pages;
	unsigned int nr_pages;
};

static LIST_HEAD(ace_retired_list);
static DEFINE_SPINLOCK(ace_retired_lock);
static void ace_retired_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(ace_retired_work, ace_retired_work_fn);

/* The smallest chunk order that keeps an arena of `size` bytes within
 * ACE_MAX_CHUNKS chunks. */
static unsigned int ace_min_order(u32 size)
{
	unsigned int order = 0;

	while (order < ACE_CHUNK_ORDER &&
	       (size >> (PAGE_SHIFT + order)) > ACE_MAX_CHUNKS)
		order++;
	return order;
}

/* One chunk of 2^*order pages, falling back to smaller orders. */
static struct page *ace_alloc_chunk(unsigned int *order, unsigned int min)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;
	struct page *page;

	for (;;) {
		page = alloc_pages(gfp, *order);
		if (page || *order == min)
			return page;
		(*order)--;
	}
}

static int ace_alloc_chunks(struct ace_dev *dev, unsigned int min)
{
	unsigned int order = ACE_CHUNK_ORDER, done = 0, i;
	struct page *page;

	while (done < dev->nr_pages) {
		while ((1u << order) > dev->nr_pages - done)
			order--;
		if (dev->nr_chunks == ACE_MAX_CHUNKS)
			return -ENOMEM;
		page = ace_alloc_chunk(&order, min);
		if (!page)
			return -ENOMEM;
		split_page(page, order);
		for (i = 0; i < (1u << order); i++)
			dev->pages[done + i] = page + i;
		dev->chunks[dev->nr_chunks].page = page;
		dev->chunks[dev->nr_chunks].order = order;
		dev->nr_chunks++;
		done += 1u << order;
	}
	return 0;
}

int ace_arena_alloc(struct ace_dev *dev)
{
	unsigned int min = ace_min_order(dev->arena_size);
	u32 size = round_down(dev->arena_size, PAGE_SIZE << min);
	int err;

	if (size != dev->arena_size)
		dev_info(ace_devp(dev), "arena_size rounded down to %u\n", size);
	dev->arena_size = size;
	dev->nr_pages = size >> PAGE_SHIFT;
	dev->pages = kvcalloc(dev->nr_pages, sizeof(*dev->pages), GFP_KERNEL);
	if (!dev->pages)
		return -ENOMEM;
	err = ace_alloc_chunks(dev, min);
	if (err) {
		dev_err(ace_devp(dev),
			"cannot allocate a %u-byte arena in at most %u chunks\n",
			size, ACE_MAX_CHUNKS);
		goto err_free;
	}
	dev->vaddr = vmap(dev->pages, dev->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!dev->vaddr) {
		err = -ENOMEM;
		goto err_free;
	}
	return 0;

err_free:
	ace_arena_free(dev);
	return err;
}

/* Drop the driver's page references.  Pages still mapped by a process
 * live on until it unmaps them. */
static void ace_pages_put(struct page **pages, unsigned int nr)
{
	unsigned int i;

	for (i = 0; pages && i < nr; i++)
		if (pages[i])
			put_page(pages[i]);
	kvfree(pages);
}

/* Free the retired arenas whose grace has passed (all of them if `all`);
 * returns true if some are left. */
static bool ace_retired_reap(bool all)
{
	struct ace_retired *r, *tmp;
	LIST_HEAD(done);
	bool left = false;

	spin_lock(&ace_retired_lock);
	list_for_each_entry_safe(r, tmp, &ace_retired_list, node) {
		if (all || time_after_eq(jiffies, r->expires))
			list_move(&r->node, &done);
		else
			left = true;
	}
	spin_unlock(&ace_retired_lock);
	list_for_each_entry_safe(r, tmp, &done, node) {
		ace_pages_put(r->pages, r->nr_pages);
		kfree(r);
	}
	return left;
}

static void ace_retired_work_fn(struct work_struct *work)
{
	if (ace_retired_reap(false))
		schedule_delayed_work(&ace_retired_work, ACE_RETIRE_GRACE / 4);
}

/* The arena is no longer in use by this guest: unmap it, and free its
 * pages once host peers have had time to see DETACH. */
void ace_arena_free(struct ace_dev *dev)
{
	struct ace_retired *r;

	if (dev->vaddr)
		vunmap(dev->vaddr);
	dev->vaddr = NULL;
	if (dev->pages) {
		r = kmalloc(sizeof(*r), GFP_KERNEL);
		if (!r) {
			msleep(jiffies_to_msecs(ACE_RETIRE_GRACE));
			ace_pages_put(dev->pages, dev->nr_pages);
		} else {
			r->pages = dev->pages;
			r->nr_pages = dev->nr_pages;
			r->expires = jiffies + ACE_RETIRE_GRACE;
			spin_lock(&ace_retired_lock);
			list_add_tail(&r->node, &ace_retired_list);
			spin_unlock(&ace_retired_lock);
			schedule_delayed_work(&ace_retired_work, ACE_RETIRE_GRACE);
		}
	}
	dev->pages = NULL;
	dev->nr_chunks = 0;
}

/* Module exit: wait out the last grace, then free every retired arena. */
void ace_arena_retire_all(void)
{
	unsigned long last = jiffies;
	struct ace_retired *r;

	cancel_delayed_work_sync(&ace_retired_work);
	spin_lock(&ace_retired_lock);
	list_for_each_entry(r, &ace_retired_list, node)
		if (time_after(r->expires, last))
			last = r->expires;
	spin_unlock(&ace_retired_lock);
	if (time_after(last, jiffies))
		schedule_timeout_uninterruptible(last - jiffies);
	ace_retired_reap(true);
}

int ace_arena_format(struct ace_dev *dev)
{
	struct ace_geometry g;
	int err;

	err = ace_geometry_default(dev->arena_size, dev->nr_mprocs, &g);
	if (err) {
		dev_err(ace_devp(dev), "no geometry for a %u-byte arena with %u mprocs\n",
			dev->arena_size, dev->nr_mprocs);
		return err;
	}
	dev->generation = get_random_u64();
	err = ace_arena_init(&dev->arena, dev->vaddr, dev->arena_size, &g,
			     dev->generation);
	if (err)
		dev_err(ace_devp(dev), "cannot format the arena: %d\n", err);
	return err;
}
