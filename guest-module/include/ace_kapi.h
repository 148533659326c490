/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel mprocs on ACE (exported by ace.ko, GPL only).
 *
 * A paravirtual driver in the guest kernel can own mprocs in the arena of
 * an ACE device and exchange zero-copy messages with guest processes and
 * host peers.  Build with -I<ace>/guest-module/include and -I<ace>/shared;
 * the module then depends on ace.ko.
 *
 * Such a driver is an auxiliary driver (<linux/auxiliary_bus.h>) matching
 * "ace.kapi": ace.ko adds one auxiliary device per ACE device while its
 * arena is attached, and deletes it before the device goes away, before
 * a broken arena is replaced by a fresh one and before a suspend.  So the
 * driver creates its mprocs in probe() and must destroy them in remove();
 * its probe() runs again on the next arena.  The driver core binds one
 * driver to a device: one such client per ACE device at a time.
 *
 * Messages follow the core's rules (shared/ace_core.h): allocate a block
 * (ace_kalloc), write the payload in place, send it (ace_ksend: the block
 * now belongs to the receiver), receive (ace_krecv: the block is yours),
 * and free it (ace_kfree) or send it on.  Offsets, not pointers, name
 * blocks; ace_kpayload() turns an offset into a kernel pointer.
 *
 * Errors are negative errno values: those of the core (-ENOBUFS, -ENOENT,
 * -EEXIST, -ENOSPC, -EINVAL, -EAGAIN, -EIO when the arena is broken) and
 * -ENODEV once the device has gone away.  After -ENODEV or -EIO only
 * ace_kmproc_destroy() remains useful (remove() follows).
 *
 * Example: an echo service (see guest-module/tests/ace_ktest.c)
 *
 *	static void echo_rx(struct ace_kmproc *mp, void *ctx)
 *	{
 *		struct ace_msg_desc d;
 *
 *		while (ace_krecv(mp, &d) == 1)
 *			if (ace_ksend(mp, d.src, d.off, d.len))
 *				ace_kfree(mp, d.off);
 *	}
 *
 *	static int echo_probe(struct auxiliary_device *adev,
 *			      const struct auxiliary_device_id *id)
 *	{
 *		mp = ace_kmproc_create(adev, "kecho", echo_rx, NULL);
 *		return PTR_ERR_OR_ZERO(mp);
 *	}
 *	static void echo_remove(struct auxiliary_device *adev)
 *	{
 *		ace_kmproc_destroy(mp);
 *	}
 *	static const struct auxiliary_device_id echo_ids[] = {
 *		{ .name = ACE_KAPI_DEVICE }, {}
 *	};
 */
#ifndef ACE_KAPI_H
#define ACE_KAPI_H

#include <linux/auxiliary_bus.h>
#include <linux/types.h>
#include "ace_core.h"

/* auxiliary_device_id.name to match: ace.ko's "kapi" devices */
#define ACE_KAPI_DEVICE		"ace.kapi"

struct ace_kmproc;

/* Called from ace.ko's workqueue (process context, may sleep) when mail
 * was delivered; it should receive until ace_krecv() returns 0.  Calls
 * are serialised per mproc.
 */
typedef void (*ace_kmproc_cb_t)(struct ace_kmproc *mp, void *ctx);

/**
 * ace_kmproc_create - claim a named mproc in an ACE device's arena
 * @adev: the "ace.kapi" auxiliary device the caller's driver is bound to
 * @name: 1..47 printable ASCII characters, no spaces; unique in the arena
 * @rx_cb: delivery callback, or NULL to receive with ace_kwait()
 * @ctx: passed to @rx_cb
 *
 * With @rx_cb the mproc stays ARMED for its whole life, so every message
 * that finds it idle triggers one callback run (a burst costs one); the
 * callback is then the mproc's only receiver.  Without @rx_cb the mproc is
 * armed only inside ace_kwait().
 *
 * Context: process context, may sleep.
 * Return: the mproc, or ERR_PTR(-ENODEV) (device gone), -ENOMEM,
 * -EINVAL (bad name), -EEXIST, -ENOSPC (table full), -EIO.
 */
struct ace_kmproc *ace_kmproc_create(struct auxiliary_device *adev,
				     const char *name, ace_kmproc_cb_t rx_cb,
				     void *ctx);

/**
 * ace_kmproc_destroy - close the mproc and reclaim every block it holds
 * @mp: from ace_kmproc_create(); may be NULL or an ERR_PTR
 *
 * Waits for a running callback to return, so never call it from the
 * mproc's own callback.  Blocks queued to other mprocs stay theirs.
 * Context: process context, may sleep.
 */
void ace_kmproc_destroy(struct ace_kmproc *mp);

/**
 * ace_kmproc_id - the mproc's id (generation << 12 | slot), never 0
 * Context: any.
 */
u32 ace_kmproc_id(const struct ace_kmproc *mp);

/**
 * ace_klookup - find an active mproc by name in @mp's arena
 * @mp: any own mproc (names the device)
 * @name: the name to find
 * @id: the id found
 *
 * Context: any (scans at most the mproc table).
 * Return: 0, -ENOENT, -EINVAL (bad name), -EIO, -ENODEV.
 */
int ace_klookup(struct ace_kmproc *mp, const char *name, u32 *id);

/**
 * ace_kalloc - allocate a block with room for @len payload bytes
 * @mp: the allocating (owning) mproc
 * @len: payload bytes wanted (up to the largest class's payload)
 * @payload: if not NULL, set to the payload's kernel address
 *
 * Context: any; lock-free, never sleeps.
 * Return: the block's offset (> 0), or -ENOBUFS (none free), -EINVAL
 * (@len too large), -EAGAIN, -EIO, -ENODEV.
 */
s64 ace_kalloc(struct ace_kmproc *mp, u32 len, void **payload);

/**
 * ace_kfree - return a block @mp holds to its free list
 * Context: any; lock-free.
 * Return: 0, -EINVAL (not a block, or not held), -EAGAIN, -EIO, -ENODEV.
 */
int ace_kfree(struct ace_kmproc *mp, u32 off);

/**
 * ace_ksend - send the block at @off (@len payload bytes written) to @dst
 * @mp: the sender, which must hold the block
 * @dst: destination mproc id (any side: guest process, kernel or host)
 * @off: block offset from ace_kalloc() or ace_krecv()
 * @len: payload bytes
 *
 * Links the block into @dst's inbox with one CAS and, when the receiver
 * sleeps, notifies it: a host peer's doorbell, or a local wake-up.  On
 * success the block belongs to the receiver; on error the caller keeps it.
 * Context: any; never sleeps.
 * Return: 0, -ENOENT (@dst closed), -EINVAL, -EAGAIN, -EIO, -ENODEV.
 */
int ace_ksend(struct ace_kmproc *mp, u32 dst, u32 off, u32 len);

/**
 * ace_krecv - take the next message from @mp's inbox, FIFO per sender
 * @mp: the receiving mproc (one receiver at a time)
 * @d: filled with the checked header copy (off, len, src, type, tag)
 *
 * The block at d->off now belongs to @mp: free it or send it on.
 * Context: any; never sleeps.
 * Return: 1 (a message), 0 (inbox empty), -EIO, -ENODEV.
 */
int ace_krecv(struct ace_kmproc *mp, struct ace_msg_desc *d);

/**
 * ace_kpayload - kernel address of the payload of the block at @off
 * Context: any.
 * Return: the address, or NULL if @off is not the start of a block.
 */
void *ace_kpayload(struct ace_kmproc *mp, u32 off);

/**
 * ace_kwait - sleep until @mp has mail
 * @mp: an mproc created without a callback
 * @timeout: in jiffies; 0 only checks, MAX_SCHEDULE_TIMEOUT waits forever
 *
 * Arms the mproc, sleeps interruptibly until a delivery or the timeout,
 * and disarms it again.
 * Context: process context, may sleep.
 * Return: 0 (mail is waiting), -ETIMEDOUT, -ERESTARTSYS (signal),
 * -ENODEV, -EIO, -EINVAL (@mp has a callback).
 */
int ace_kwait(struct ace_kmproc *mp, long timeout);

/**
 * ace_ksection_begin - enter an ACE section (nests up to 255 deep)
 *
 * Until the outermost ace_ksection_end(), deliveries to @mp are deferred
 * (no callback, no wake-up), unless the section outlives the device's
 * time bound: then it is delivered anyway and an overrun is counted.
 * Context: any; never sleeps.
 * Return: 0, -EOVERFLOW, -EAGAIN, -EIO, -ENODEV.
 */
int ace_ksection_begin(struct ace_kmproc *mp);

/**
 * ace_ksection_end - leave an ACE section
 *
 * When the outermost section ends with deliveries deferred, the mail that
 * arrived meanwhile is drained right away: @mp's callback is called
 * inline (or re-queued when ending a section inside the callback itself).
 * Context: process context when @mp has a callback; else any.
 * Return: 1 when deliveries were deferred (an mproc without a callback
 * must drain its inbox now: no wake-up will come for them), 0, -EINVAL
 * (not in a section), -EAGAIN, -EIO, -ENODEV.
 */
int ace_ksection_end(struct ace_kmproc *mp);

#endif /* ACE_KAPI_H */
