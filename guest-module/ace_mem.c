// SPDX-License-Identifier: GPL-2.0
/*
 * The arena's memory.
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
 *
 * With VIRTIO_ACE_F_BELL_PAGES each host peer's doorbell is a notify page
 * of its own, which /dev/aceN maps uncached into a process that asks
 * (ACE_IOC_BELLS): a send then rings its peer with one store.
 */
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/virtio_pci.h>

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

/* Read a field of the virtio-pci capability at config offset pos. */
#define ace_cap_read(pdev, pos, type, field, out)			\
	pci_read_config_##type(pdev, (pos) +				\
			       offsetof(struct virtio_pci_notify_cap, field), out)

/* Does [off, off + len) of BAR bar, widened to whole pages, meet the
 * doorbell pages [lo, hi) of that BAR?
 */
static bool ace_bells_meet(u8 bar, u8 bells_bar, u64 off, u64 len, u64 lo,
			   u64 hi)
{
	return bar == bells_bar && len &&
	       round_down(off, PAGE_SIZE) < hi &&
	       round_up(off + len, PAGE_SIZE) > lo;
}

/*
 * A page a process may write must hold a doorbell and nothing else: no
 * other virtio structure (common config: a write resets the device),
 * no MSI-X table or PBA (a write there aims interrupts anywhere).
 */
static bool ace_bells_alone(struct pci_dev *pdev, int notify, u8 bar, u64 lo,
			    u64 hi)
{
	u32 off, len, tbl, pba;
	u16 flags;
	u8 type, b;
	int pos;

	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos > 0;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		ace_cap_read(pdev, pos, byte, cap.cfg_type, &type);
		ace_cap_read(pdev, pos, byte, cap.bar, &b);
		ace_cap_read(pdev, pos, dword, cap.offset, &off);
		ace_cap_read(pdev, pos, dword, cap.length, &len);
		if (pos != notify && type != VIRTIO_PCI_CAP_PCI_CFG &&
		    ace_bells_meet(b, bar, off, len, lo, hi))
			return false;
	}
	if (!pdev->msix_cap)
		return true;
	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &tbl);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	len = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	return !ace_bells_meet(tbl & PCI_MSIX_TABLE_BIR, bar,
			       tbl & PCI_MSIX_TABLE_OFFSET, len * 16ULL, lo, hi) &&
	       !ace_bells_meet(pba & PCI_MSIX_PBA_BIR, bar,
			       pba & PCI_MSIX_PBA_OFFSET, DIV_ROUND_UP(len, 64) * 8ULL,
			       lo, hi);
}

/*
 * Where the doorbell pages are: the first notify capability in a memory
 * BAR, with the feature's promise that queue N's notify offset is N.
 * The pages must be page aligned, lie in the capability and the BAR,
 * and share no page with anything else of the device: else no process
 * rings by store, and ACE_IOC_NOTIFY does it all.
 */
void ace_bells_find(struct ace_dev *dev)
{
	struct device *parent = dev->vdev->dev.parent;
	struct pci_dev *pdev;
	u32 offset = 0, length = 0, mult = 0;
	u64 start, first, end;
	u8 type, bar = 0;
	int pos;

	dev->nr_bells = 0;
	if (!virtio_has_feature(dev->vdev, VIRTIO_ACE_F_BELL_PAGES) ||
	    !parent || !dev_is_pci(parent))
		return;
	pdev = to_pci_dev(parent);
	for (pos = pci_find_capability(pdev, PCI_CAP_ID_VNDR); pos > 0;
	     pos = pci_find_next_capability(pdev, pos, PCI_CAP_ID_VNDR)) {
		ace_cap_read(pdev, pos, byte, cap.cfg_type, &type);
		ace_cap_read(pdev, pos, byte, cap.bar, &bar);
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && bar < PCI_STD_NUM_BARS &&
		    (pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
			break;
	}
	if (pos <= 0)
		return;
	ace_cap_read(pdev, pos, dword, cap.offset, &offset);
	ace_cap_read(pdev, pos, dword, cap.length, &length);
	ace_cap_read(pdev, pos, dword, notify_off_multiplier, &mult);
	start = pci_resource_start(pdev, bar);
	first = (u64)ACE_VQ_DOORBELL0 * mult;
	end = first + (u64)dev->max_peers * mult;
	if (!mult || mult % PAGE_SIZE || (start + offset) % PAGE_SIZE ||
	    end > length || offset + end > pci_resource_len(pdev, bar) ||
	    !ace_bells_alone(pdev, pos, bar, offset + first, offset + end)) {
		dev_warn(ace_devp(dev),
			 "doorbell pages offered, but notify capability (BAR %u, offset %#x, length %#x, multiplier %u) does not give %u whole pages of their own: doorbells by ioctl only\n",
			 bar, offset, length, mult, dev->max_peers);
		return;
	}
	dev->bell_addr = start + offset + first;
	dev->bell_stride = mult;
	dev->nr_bells = dev->max_peers;
}

/* The last reference is gone: nobody uses the mapping any more. */
void ace_arena_unmap(struct ace_dev *dev)
{
	if (dev->vaddr)
		memunmap(dev->vaddr);
	dev->vaddr = NULL;
}

/*
 * ace_arena_init() writes the header into the region and then attaches
 * through the same validator a peer uses, which reads the header back
 * from the region.  A peer that still maps the region (from an earlier
 * arena) can rewrite it in between: the private view is then a valid
 * arena, but not the one asked for, and dev->slots has dev->nr_mprocs
 * entries whatever the header says.  So the view must be what we wrote.
 */
static int ace_arena_check_format(struct ace_dev *dev,
				  const struct ace_geometry *g)
{
	const struct ace_arena *a = &dev->arena;
	u32 c, bad = 0;

	if (a->nr_mprocs != dev->nr_mprocs)
		bad = a->nr_mprocs;
	else if (a->size != dev->arena_size)
		bad = a->size;
	else if (a->generation != dev->generation)
		bad = (u32)a->generation;
	else if (a->nr_classes != g->nr_classes)
		bad = a->nr_classes;
	for (c = 0; !bad && c < a->nr_classes; c++)
		if (a->cls[c].nr != g->nr_blocks[c] ||
		    BIT(a->cls[c].shift) != g->block_size[c])
			bad = a->cls[c].nr;
	if (!bad)
		return 0;
	dev_err(ace_devp(dev),
		"arena header changed while formatting (a peer writes the region): table of %u slots read back, %u written (value %#x)\n",
		a->nr_mprocs, dev->nr_mprocs, bad);
	memset(&dev->arena, 0, sizeof(dev->arena));
	return -EIO;
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
	if (err) {
		dev_err(ace_devp(dev), "cannot format the arena: %d\n", err);
		return err;
	}
	return ace_arena_check_format(dev, &g);
}
