/*
 * virtio-ace PCI bindings: modern-only (non-transitional), PCI 1af4:107f.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/qdev-properties.h"
#include "hw/virtio/virtio-ace.h"
#include "hw/virtio/virtio-pci.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct VirtIOAcePCI VirtIOAcePCI;

#define TYPE_VIRTIO_ACE_PCI "virtio-ace-pci-base"
DECLARE_INSTANCE_CHECKER(VirtIOAcePCI, VIRTIO_ACE_PCI, TYPE_VIRTIO_ACE_PCI)

struct VirtIOAcePCI {
    VirtIOPCIProxy parent_obj;
    VirtIOAce vdev;
};

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

    /* One vector per queue (control, event, a doorbell per peer) plus the
     * config interrupt; 0 would leave the device INTx-only. */
    if (vpci_dev->nvectors == DEV_NVECTORS_UNSPECIFIED) {
        vpci_dev->nvectors = 2 + dev->vdev.nr_peers + 1;
    }
    virtio_pci_force_virtio_1(vpci_dev);
    qdev_realize(vdev, BUS(&vpci_dev->bus), errp);
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
