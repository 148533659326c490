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
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "ace_drv.h"

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
void ace_arena_free(struct ace_dev *dev)
{
	unsigned int i;

	if (dev->vaddr)
		vunmap(dev->vaddr);
	dev->vaddr = NULL;
	for (i = 0; dev->pages && i < dev->nr_pages; i++)
		if (dev->pages[i])
			put_page(dev->pages[i]);
	kvfree(dev->pages);
	dev->pages = NULL;
	dev->nr_chunks = 0;
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
