/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel APIs that changed after 6.1, the kernel
 * this driver is written and tested against (Debian 12).  Each wrapper
 * names the release that changed the call.  Needs Linux 5.16 or later
 * (virtio_reset_device); 6.1 and 6.12 (Debian 12's two kernels) are
 * compile- and run-tested here (tests/vm/cases/guest-driver*.sh).
 */
#ifndef ACE_KCOMPAT_H
#define ACE_KCOMPAT_H

#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/version.h>
#include <linux/virtio_config.h>

#include "ace_abi.h"

/* 6.3: vma->vm_flags became read-only; vm_flags_set/clear() */
static inline void ace_vm_flags_mod(struct vm_area_struct *vma,
				    unsigned long set, unsigned long clear)
{
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* 6.8: eventfd_signal() lost its count argument */
static inline void ace_eventfd_signal(struct eventfd_ctx *ctx)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.11: virtio_find_vqs() takes struct virtqueue_info[] */
static inline int ace_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			       struct virtqueue *vqs[], vq_callback_t *cbs[],
			       const char *names[])
{
#if KERNEL_VERSION(6, 11, 0) <= LINUX_VERSION_CODE
	struct virtqueue_info info[ACE_VQ_DOORBELL0 + ACE_MAX_PEERS] = {};
	unsigned int i;

	for (i = 0; i < nvqs && i < ARRAY_SIZE(info); i++) {
		info[i].name = names[i];
		info[i].callback = cbs[i];
	}
	return virtio_find_vqs(vdev, nvqs, vqs, info, NULL);
#else
	return virtio_find_vqs(vdev, nvqs, vqs, cbs, names, NULL);
#endif
}

/* 6.13: hrtimer_setup() replaces hrtimer_init() + .function */
static inline void ace_hrtimer_setup(struct hrtimer *t,
				     enum hrtimer_restart (*fn)(struct hrtimer *))
{
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
	hrtimer_setup(t, fn, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
#else
	hrtimer_init(t, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	t->function = fn;
#endif
}

/* 6.12: no_llseek is gone; a NULL .llseek means the same there */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define ACE_NO_LLSEEK	NULL
#else
#define ACE_NO_LLSEEK	no_llseek
#endif

#endif /* ACE_KCOMPAT_H */
