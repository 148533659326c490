// SPDX-License-Identifier: GPL-2.0
/*
 * ace_rng.ko - a paravirtual hw_random driver on the ACE kernel API.
 *
 * An auxiliary driver for ace.ko's "ace.kapi" devices: bound to one (the
 * first; hw_random wants one name), it owns the kernel mproc "ace-rng" in
 * that device's arena and registers the hwrng "ace-rng".  ace.ko unbinds
 * it before the device goes away and before its arena is replaced
 * (recovery, suspend), and binds it again on the fresh arena.  Its bytes come from the host
 * service mproc "ace-rngd" (tools/ace-rngd.c): a 16-byte request is
 * written in place in an arena block and sent; the service answers in a
 * block of its own; the driver checks the reply, copies bytes out to the
 * hw_random core's buffer as it asks for them and frees the block when it
 * is used up.  The protocol is in shared/ace_rng_proto.h.
 *
 * At most one request is outstanding.  A read that finds no reply yet
 * returns 0 at once when the core may not wait, and otherwise waits for
 * it at most timeout_ms.  Nothing here trusts the host: a reply of the
 * wrong type, length or sender is dropped and counted in bad_replies, a
 * late or foreign sequence number likewise; a service that is absent, or
 * left, is looked up again on the next read.
 *
 * Counters: /sys/module/ace_rng/parameters/{requests,bytes,bad_replies,
 * timeouts,absent}.
 */
#include <linux/auxiliary_bus.h>
#include <linux/err.h>
#include <linux/hw_random.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/string.h>

#include "ace_kapi.h"
#include "ace_rng_proto.h"

static char *service = ACE_RNG_SERVICE;
module_param(service, charp, 0444);
MODULE_PARM_DESC(service, "name of the host service mproc (default ace-rngd)");

static unsigned int chunk = 2048;
module_param(chunk, uint, 0444);
MODULE_PARM_DESC(chunk, "bytes asked for per request (1..4048, default 2048)");

static unsigned int timeout_ms = 1000;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "longest wait for a reply (default 1000)");

static unsigned short quality;
module_param(quality, ushort, 0444);
MODULE_PARM_DESC(quality, "entropy per 1024 bits for the hwrng core (0: its default)");

static unsigned long requests;
module_param(requests, ulong, 0444);
MODULE_PARM_DESC(requests, "requests sent");

static unsigned long bytes;
module_param(bytes, ulong, 0444);
MODULE_PARM_DESC(bytes, "bytes handed to the hwrng core");

static unsigned long bad_replies;
module_param(bad_replies, ulong, 0444);
MODULE_PARM_DESC(bad_replies, "replies rejected (type, length, sender, sequence)");

static unsigned long timeouts;
module_param(timeouts, ulong, 0444);
MODULE_PARM_DESC(timeouts, "requests abandoned after timeout_ms");

static unsigned long absent;
module_param(absent, ulong, 0444);
MODULE_PARM_DESC(absent, "reads that found no service");

/* the counters are read through sysfs at any time: no torn stores */
static void ace_rng_count(unsigned long *c, unsigned long n)
{
	WRITE_ONCE(*c, *c + n);
}

#define ACE_RNG_BATCH	64	/* messages looked at per receive pass */

struct ace_rng {
	struct hwrng hwrng;
	struct ace_kmproc *mp;
	struct mutex lock;	/* everything below */
	u32 svc;		/* the service's mproc id; 0: look it up */
	u32 seq;		/* sequence of the last request */
	u32 want;		/* bytes the outstanding request asked for */
	bool pending;		/* a request is outstanding */
	u32 blk;		/* the reply being handed out; 0: none */
	const u8 *data;		/* its bytes, in the arena */
	u32 avail;		/* how many */
	u32 pos;		/* how many were handed out */
};

static struct ace_rng ace_rng;
/* One hwrng: the first ace.kapi device binds, others get -EBUSY.  Probes
 * of two devices may run at once: bound is tested and set under the lock.
 */
static DEFINE_MUTEX(ace_rng_bind_lock);
static bool ace_rng_bound;

/* Find the service unless we know it: 0, or -ENODEV. */
static int ace_rng_lookup(struct ace_rng *r)
{
	if (r->svc)
		return 0;
	if (ace_klookup(r->mp, service, &r->svc)) {
		r->svc = 0;
		ace_rng_count(&absent, 1);
		return -ENODEV;
	}
	return 0;
}

/* Forget the service (it left, or stopped answering) and its request. */
static void ace_rng_forget(struct ace_rng *r)
{
	r->svc = 0;
	r->pending = false;
}

static int ace_rng_send(struct ace_rng *r, u32 off)
{
	int err = ace_rng_lookup(r);

	if (err)
		return err;
	err = ace_ksend(r->mp, r->svc, off, ACE_RNG_HDR);
	if (err != -ENOENT)
		return err;
	/* the service left; a new one may be up under a new id */
	ace_rng_forget(r);
	err = ace_rng_lookup(r);
	if (err)
		return err;
	err = ace_ksend(r->mp, r->svc, off, ACE_RNG_HDR);
	if (err == -ENOENT) {
		ace_rng_forget(r);
		return -ENODEV;
	}
	return err;
}

/* Write a request in place in a block of our own and send it. */
static int ace_rng_request(struct ace_rng *r)
{
	struct ace_rng_hdr *h;
	u32 want = clamp_t(u32, chunk, 1, ACE_RNG_MAX);
	s64 off;
	int err;

	err = ace_rng_lookup(r);
	if (err)
		return err;
	off = ace_kalloc(r->mp, ACE_RNG_HDR, (void **)&h);
	if (off < 0)
		return off;
	h->type = cpu_to_le32(ACE_RNG_REQ);
	h->seq = cpu_to_le32(r->seq + 1);
	h->len = cpu_to_le32(want);
	h->reserved = 0;
	err = ace_rng_send(r, off);
	if (err) {
		ace_kfree(r->mp, off);	/* a failed send leaves it ours */
		return err;
	}
	r->seq++;
	r->want = want;
	r->pending = true;
	ace_rng_count(&requests, 1);
	return 0;
}

/*
 * Check a received message against the outstanding request.  The header
 * is read once, field by field, into a local; only the local is used.
 * Return: the number of data bytes, -ESTALE (not the reply we wait for:
 * drop it and keep waiting) or -EBADMSG (the reply is bad).
 */
static int ace_rng_check(struct ace_rng *r, const struct ace_msg_desc *d)
{
	const struct ace_rng_hdr *sh;
	struct ace_rng_hdr h;
	u32 len;

	if (d->len < ACE_RNG_HDR)
		return -EBADMSG;
	sh = ace_kpayload(r->mp, d->off);
	if (!sh)
		return -EBADMSG;
	h.type = READ_ONCE(sh->type);
	h.seq = READ_ONCE(sh->seq);
	h.len = READ_ONCE(sh->len);
	if (!r->pending || d->src != r->svc ||
	    le32_to_cpu(h.seq) != r->seq)
		return -ESTALE;
	if (le32_to_cpu(h.type) != ACE_RNG_REPLY)
		return -EBADMSG;
	len = le32_to_cpu(h.len);
	/* len <= want <= ACE_RNG_MAX, so the sum cannot wrap */
	if (!len || len > r->want || d->len != ACE_RNG_HDR + len)
		return -EBADMSG;
	return len;
}

/*
 * Look through the inbox for the reply, dropping anything else; a bounded
 * pass, so a host that floods us cannot keep us here.
 * Return: 1 (a good reply is held), 0 (not yet), -EIO (a bad reply).
 */
static int ace_rng_take(struct ace_rng *r)
{
	struct ace_msg_desc d;
	int i, len, ret;

	for (i = 0;; i++) {
		if (i == ACE_RNG_BATCH)
			return 0;
		ret = ace_krecv(r->mp, &d);
		if (ret <= 0)
			return ret;
		len = ace_rng_check(r, &d);
		if (len >= 0)
			break;
		ace_kfree(r->mp, d.off);
		ace_rng_count(&bad_replies, 1);
		pr_warn_ratelimited("ace_rng: %s reply from %#x dropped\n",
				    len == -ESTALE ? "unexpected" : "bad",
				    d.src);
		if (len == -EBADMSG) {
			r->pending = false;	/* that was its answer */
			return -EIO;
		}
	}
	r->pending = false;
	r->blk = d.off;
	r->data = (const u8 *)ace_kpayload(r->mp, d.off) + ACE_RNG_HDR;
	r->avail = len;
	r->pos = 0;
	return 1;
}

/* Wait (if allowed) for the reply to the outstanding request. */
static int ace_rng_wait(struct ace_rng *r, bool wait)
{
	unsigned long end = jiffies + msecs_to_jiffies(timeout_ms);
	long left;
	int ret;

	for (;;) {
		ret = ace_rng_take(r);
		if (ret)
			return ret < 0 ? ret : 0;
		if (!wait)
			return 0;
		cond_resched();
		left = (long)(end - jiffies);
		if (left <= 0)
			break;
		ret = ace_kwait(r->mp, left);
		if (ret == -ERESTARTSYS)
			return 0;	/* the hwrng core sees the signal */
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
	/* abandoned: a late reply will be stale; look the service up again */
	ace_rng_count(&timeouts, 1);
	ace_rng_forget(r);
	return -ETIMEDOUT;
}

/* Hand out bytes of the held reply; free it when it is used up. */
static int ace_rng_copy(struct ace_rng *r, void *buf, size_t max)
{
	u32 n = min_t(size_t, r->avail - r->pos, max);

	memcpy(buf, r->data + r->pos, n);
	r->pos += n;
	ace_rng_count(&bytes, n);
	if (r->pos == r->avail) {
		ace_kfree(r->mp, r->blk);
		r->blk = 0;
	}
	return n;
}

/* Hold a reply with bytes left: 1, 0 (none yet, may not wait), -errno. */
static int ace_rng_fill(struct ace_rng *r, bool wait)
{
	int err;

	if (r->blk)
		return 1;
	if (!r->pending) {
		err = ace_rng_request(r);
		if (err)
			return err;
	}
	err = ace_rng_wait(r, wait);
	if (err)
		return err;
	return r->blk ? 1 : 0;
}

/*
 * Fill the core's buffer across reply boundaries when it lets us wait:
 * the core hands a short read out from its end, so full reads keep the
 * bytes in the order the service sent them.
 */
static int ace_rng_read(struct hwrng *hwrng, void *buf, size_t max, bool wait)
{
	struct ace_rng *r = container_of(hwrng, struct ace_rng, hwrng);
	size_t done = 0;
	int ret = 0;

	mutex_lock(&r->lock);
	while (done < max) {
		ret = ace_rng_fill(r, wait);
		if (ret <= 0)
			break;
		done += ace_rng_copy(r, (u8 *)buf + done, max - done);
	}
	mutex_unlock(&r->lock);
	return done ? done : ret;
}

/* Under ace_rng_bind_lock. */
static int ace_rng_bind(struct ace_rng *r, struct auxiliary_device *adev)
{
	int err;

	if (ace_rng_bound)
		return -EBUSY;
	memset(r, 0, sizeof(*r));
	mutex_init(&r->lock);
	r->mp = ace_kmproc_create(adev, ACE_RNG_CLIENT, NULL, NULL);
	if (IS_ERR(r->mp)) {
		pr_err("ace_rng: cannot create mproc '%s': %ld\n",
		       ACE_RNG_CLIENT, PTR_ERR(r->mp));
		return PTR_ERR(r->mp);
	}
	r->hwrng.name = "ace-rng";
	r->hwrng.read = ace_rng_read;
	r->hwrng.quality = quality;
	err = hwrng_register(&r->hwrng);
	if (err) {
		pr_err("ace_rng: hwrng_register: %d\n", err);
		goto err_mp;
	}
	ace_rng_bound = true;
	auxiliary_set_drvdata(adev, r);
	pr_info("ace_rng: mproc '%s' id %#x on %s, bytes from '%s'\n",
		ACE_RNG_CLIENT, ace_kmproc_id(r->mp), dev_name(&adev->dev),
		service);
	return 0;

err_mp:
	ace_kmproc_destroy(r->mp);
	return err;
}

static int ace_rng_probe(struct auxiliary_device *adev,
			 const struct auxiliary_device_id *id)
{
	struct ace_rng *r = &ace_rng;
	int err;

	mutex_lock(&ace_rng_bind_lock);
	err = ace_rng_bind(r, adev);
	mutex_unlock(&ace_rng_bind_lock);
	return err;
}

static void ace_rng_remove(struct auxiliary_device *adev)
{
	struct ace_rng *r = &ace_rng;

	mutex_lock(&ace_rng_bind_lock);
	if (!ace_rng_bound || auxiliary_get_drvdata(adev) != r) {
		mutex_unlock(&ace_rng_bind_lock);
		return;
	}

	/* Order: no new reads (waits for a running one), then give back
	 * the reply we hold, then close: that reclaims a late reply too.
	 */
	hwrng_unregister(&r->hwrng);
	mutex_lock(&r->lock);
	if (r->blk)
		ace_kfree(r->mp, r->blk);
	r->blk = 0;
	mutex_unlock(&r->lock);
	ace_kmproc_destroy(r->mp);
	ace_rng_bound = false;
	mutex_unlock(&ace_rng_bind_lock);
	pr_info("ace_rng: closed after %lu requests, %lu bytes, %lu bad replies, %lu timeouts\n",
		requests, bytes, bad_replies, timeouts);
}

static const struct auxiliary_device_id ace_rng_ids[] = {
	{ .name = ACE_KAPI_DEVICE },
	{}
};
MODULE_DEVICE_TABLE(auxiliary, ace_rng_ids);

static struct auxiliary_driver ace_rng_driver = {
	.name = "rng",
	.probe = ace_rng_probe,
	.remove = ace_rng_remove,
	.id_table = ace_rng_ids,
};
module_auxiliary_driver(ace_rng_driver);

MODULE_DESCRIPTION("ACE paravirtual hw_random driver (bytes from the host's ace-rngd)");
MODULE_LICENSE("GPL");
