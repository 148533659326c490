// SPDX-License-Identifier: GPL-2.0
/*
 * ace_ktest.ko - an in-kernel echo mproc for the VM tests.
 *
 * An auxiliary driver for ace.ko's "ace.kapi" devices: on the one it
 * binds (the first ACE device; one mproc name per arena) it creates a
 * kernel mproc (default name "kecho") and sends every message it receives
 * back to its sender: the same block, so the echo copies nothing.  It is
 * unbound and bound again when the arena is replaced.  Counters are read-only module parameters:
 * /sys/module/ace_ktest/parameters/{echoed,failed}.
 */
#include <linux/auxiliary_bus.h>
#include <linux/err.h>
#include <linux/module.h>

#include "ace_kapi.h"

#define KECHO_BATCH	256	/* per callback run; the rest re-queues */

static char *name = "kecho";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "mproc name (default kecho)");

static unsigned long echoed;
module_param(echoed, ulong, 0444);
MODULE_PARM_DESC(echoed, "messages sent back");

static unsigned long failed;
module_param(failed, ulong, 0444);
MODULE_PARM_DESC(failed, "messages that could not be sent back (freed)");

static struct ace_kmproc *kecho;

static void kecho_rx(struct ace_kmproc *mp, void *ctx)
{
	struct ace_msg_desc d;
	int i, r = 0;

	for (i = 0; i < KECHO_BATCH; i++) {
		r = ace_krecv(mp, &d);
		if (r <= 0)
			break;
		if (ace_ksend(mp, d.src, d.off, d.len)) {
			/* the sender is gone: the block is still ours */
			ace_kfree(mp, d.off);
			WRITE_ONCE(failed, failed + 1);
			continue;
		}
		WRITE_ONCE(echoed, echoed + 1);
	}
	if (r < 0)
		pr_err_ratelimited("ace_ktest: receive failed: %d\n", r);
}

static int kecho_probe(struct auxiliary_device *adev,
		       const struct auxiliary_device_id *id)
{
	struct ace_kmproc *mp;

	if (kecho)
		return -EBUSY;	/* one device is enough for the tests */
	mp = ace_kmproc_create(adev, name, kecho_rx, NULL);
	if (IS_ERR(mp)) {
		pr_err("ace_ktest: cannot create mproc '%s': %ld\n", name,
		       PTR_ERR(mp));
		return PTR_ERR(mp);
	}
	kecho = mp;
	auxiliary_set_drvdata(adev, mp);
	pr_info("ace_ktest: mproc '%s' id %#x echoing on %s\n", name,
		ace_kmproc_id(mp), dev_name(&adev->dev));
	return 0;
}

static void kecho_remove(struct auxiliary_device *adev)
{
	ace_kmproc_destroy(auxiliary_get_drvdata(adev));
	kecho = NULL;
	pr_info("ace_ktest: '%s' closed after %lu echoes, %lu failures\n",
		name, echoed, failed);
}

static const struct auxiliary_device_id kecho_ids[] = {
	{ .name = ACE_KAPI_DEVICE },
	{}
};
MODULE_DEVICE_TABLE(auxiliary, kecho_ids);

static struct auxiliary_driver kecho_driver = {
	.name = "ktest",
	.probe = kecho_probe,
	.remove = kecho_remove,
	.id_table = kecho_ids,
};
module_auxiliary_driver(kecho_driver);

MODULE_DESCRIPTION("ACE in-kernel echo mproc (test)");
MODULE_LICENSE("GPL");
