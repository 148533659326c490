/*
 * virtio-ace PCI bindings: modern-only (non-transitional), PCI 1af4:107f.
 * The arena region is virtio shared memory region ACE_SHM_ARENA: BAR 2, a
 * 64-bit prefetchable memory BAR (BARs 0, 1 and 4 are virtio-pci's own),
 * described by a VIRTIO_PCI_CAP_SHARED_MEMORY_CFG capability; see
 * VIRTIO_ACE_SHM_BAR_MIN for its size.  page-per-vq defaults on, so each
 * doorbell queue has a notify page of its own (VIRTIO_ACE_F_BELL_PAGES).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci.h"
#include "standard-headers/linux/virtio_pci.h"
#include "hw/qdev-properties.h"
#include "hw/virtio/virtio-ace.h"
#include "hw/virtio/virtio-pci.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct VirtIOAcePCI VirtIOAcePCI;

#define TYPE_VIRTIO_ACE_PCI "virtio-ace-pci-base"
DECLARE_INSTANCE_CHECKER(VirtIOAcePCI, VIRTIO_ACE_PCI, TYPE_VIRTIO_ACE_PCI)

#define VIRTIO_ACE_SHM_BAR  2

/*
 * BAR 2 is at least 4 GiB, of which only the region's bytes are backed.
 * A 64-bit BAR that cannot fit below 4 GiB is placed above it by the
 * firmware (SeaBIOS moves every 64-bit BAR high then; OVMF puts them high
 * anyway), where no MTRR covers it: below 4 GiB the firmware's MTRRs make
 * the whole PCI hole uncached, and the guest's write-back mapping of the
 * arena would silently become uncached-minus.
 */
#define VIRTIO_ACE_SHM_BAR_MIN  (4ULL << 30)

struct VirtIOAcePCI {
    VirtIOPCIProxy parent_obj;
    VirtIOAce vdev;
    MemoryRegion shm_bar;       /* the arena region, padded to a power of 2 */
};

/* A virtio 1.2 shared memory region capability (struct virtio_pci_cap64). */
static void virtio_ace_pci_add_shm_cap(VirtIOPCIProxy *proxy, uint8_t bar,
                                       uint64_t offset, uint64_t length,
                                       uint8_t id, Error **errp)
{
    struct virtio_pci_cap64 cap = {
        .cap.cap_len = sizeof(cap),
        .cap.cfg_type = VIRTIO_PCI_CAP_SHARED_MEMORY_CFG,
        .cap.bar = bar,
        .cap.id = id,
        .cap.offset = cpu_to_le32(offset),
        .cap.length = cpu_to_le32(length),
        .offset_hi = cpu_to_le32(offset >> 32),
        .length_hi = cpu_to_le32(length >> 32),
    };
    PCIDevice *dev = &proxy->pci_dev;
    int pos;

    pos = pci_add_capability(dev, PCI_CAP_ID_VNDR, 0, cap.cap.cap_len, errp);
    if (pos < 0) {
        return;
    }
    memcpy(dev->config + pos + PCI_CAP_FLAGS, &cap.cap.cap_len,
           cap.cap.cap_len - PCI_CAP_FLAGS);
}

static Property virtio_ace_pci_properties[] = {
    DEFINE_PROP_BIT("ioeventfd", VirtIOPCIProxy, flags,
                    VIRTIO_PCI_FLAG_USE_IOEVENTFD_BIT, true),
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors,
                       DEV_NVECTORS_UNSPECIFIED),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_ace_pci_realize(VirtIOPCIProxy *vpci_dev, Error **errp)
{
    VirtIOAcePCI *dev = VIRTIO_ACE_PCI(vpci_dev);
    DeviceState *vdev = DEVICE(&dev->vdev);
    MemoryRegion *region;
    uint64_t size;

    /* One vector per queue (control, event, a doorbell per peer) plus the
     * config interrupt; 0 would leave the device INTx-only. */
    if (vpci_dev->nvectors == DEV_NVECTORS_UNSPECIFIED) {
        vpci_dev->nvectors = 2 + dev->vdev.nr_peers + 1;
    }
    virtio_pci_force_virtio_1(vpci_dev);
    /* one page per queue: queue_notify_off is the queue index (QEMU maps
     * queues in order) and the multiplier 4 KiB, so the guest may hand a
     * doorbell's page to a process (VIRTIO_ACE_F_BELL_PAGES) */
    dev->vdev.bell_pages = vpci_dev->flags & VIRTIO_PCI_FLAG_PAGE_PER_VQ;
    if (!qdev_realize(vdev, BUS(&vpci_dev->bus), errp)) {
        return;
    }
    region = virtio_ace_region(&dev->vdev);
    size = memory_region_size(region);
    memory_region_init(&dev->shm_bar, OBJECT(dev), "virtio-ace-shm",
                       MAX(pow2ceil(size), VIRTIO_ACE_SHM_BAR_MIN));
    memory_region_add_subregion(&dev->shm_bar, 0, region);
    pci_register_bar(&vpci_dev->pci_dev, VIRTIO_ACE_SHM_BAR,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_PREFETCH |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &dev->shm_bar);
    virtio_ace_pci_add_shm_cap(vpci_dev, VIRTIO_ACE_SHM_BAR, 0, size,
                               ACE_SHM_ARENA, errp);
}

static void virtio_ace_pci_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioPCIClass *k = VIRTIO_PCI_CLASS(klass);
    PCIDeviceClass *pcidev_k = PCI_DEVICE_CLASS(klass);

    k->realize = virtio_ace_pci_realize;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    pcidev_k->vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET;
    pcidev_k->device_id = 0;    /* modern: 0x1040 + VIRTIO_ID_ACE */
    pcidev_k->revision = VIRTIO_PCI_ABI_VERSION;
    pcidev_k->class_id = PCI_CLASS_OTHERS;
    device_class_set_props(dc, virtio_ace_pci_properties);
}

static void virtio_ace_pci_instance_init(Object *obj)
{
    VirtIOAcePCI *dev = VIRTIO_ACE_PCI(obj);

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->vdev),
                                TYPE_VIRTIO_ACE);
    /* page-per-vq defaults on here (virtio-pci's default, off, was set
     * before this runs; -device ...,page-per-vq=off still applies) */
    VIRTIO_PCI(obj)->flags |= VIRTIO_PCI_FLAG_PAGE_PER_VQ;
}

static const VirtioPCIDeviceTypeInfo virtio_ace_pci_info = {
    .base_name = TYPE_VIRTIO_ACE_PCI,
    .non_transitional_name = "virtio-ace-pci",
    .instance_size = sizeof(VirtIOAcePCI),
    .instance_init = virtio_ace_pci_instance_init,
    .class_init = virtio_ace_pci_class_init,
};

static void virtio_ace_pci_register(void)
{
    virtio_pci_types_register(&virtio_ace_pci_info);
}

type_init(virtio_ace_pci_register)
