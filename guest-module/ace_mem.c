// SPDX-License-Identifier: GPL-2.0
/*
 * ace_mem.c - the arena's memory.
 *
 * The arena lives in the device's shared memory region ACE_SHM_ARENA (on
 * PCI a 64-bit prefetchable BAR), never in guest RAM: host peers map that
 * region and nothing else of the guest, and no page of it is ever handed
 * to the page allocator, so a reset, a reload or a peer that writes on
 * after DETACH can only ever damage the arena, which the next ATTACH
 * validates afresh.
 *
 * The region is device memory backed by host RAM: the driver maps it
 * write-back (memremap(MEMREMAP_WB), as virtio-pmem and virtio-fs DAX do),
 * and /dev/aceN maps it write-back into processes (PAT takes the memory
 * type reserved here).  The driver claims [addr, addr + arena_size) of the
 * region as a busy resource while it is bound to the device.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/random.h>

#include "ace_drv.h"

int ace_arena_map(struct ace_dev *dev)
{
	struct device *d = ace_devp(dev);
	struct virtio_shm_region r;

	if (!virtio_get_shm_region(dev->vdev, &r, ACE_SHM_ARENA)) {
		dev_err(d, "the device has no arena region (shared memory region %u)\n",
			ACE_SHM_ARENA);
		return -ENODEV;
	}
	if (!PAGE_ALIGNED(r.addr) || r.len < dev->arena_size) {
		dev_err(d, "arena region at %#llx of %llu bytes cannot hold a %u-byte arena\n",
			(unsigned long long)r.addr, (unsigned long long)r.len,
			dev->arena_size);
		return -EIO;
	}
	/* a static name: the claim may outlive this ace_dev (devres) */
	if (!devm_request_mem_region(d, r.addr, dev->arena_size, "ace-arena")) {
		dev_err(d, "arena region at %#llx is in use\n",
			(unsigned long long)r.addr);
		return -EBUSY;
	}
	dev->vaddr = memremap(r.addr, dev->arena_size, MEMREMAP_WB);
	if (!dev->vaddr) {
		dev_err(d, "cannot map the arena region at %#llx write-back\n",
			(unsigned long long)r.addr);
		return -ENOMEM;
	}
	dev->region_addr = r.addr;
	dev->region_len = r.len;
	return 0;
}

/* The last reference is gone: nobody uses the mapping any more. */
void ace_arena_unmap(struct ace_dev *dev)
{
	if (dev->vaddr)
		memunmap(dev->vaddr);
	dev->vaddr = NULL;
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
