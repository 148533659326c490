// SPDX-License-Identifier: GPL-2.0
/*
 * ace_ktest.ko - an in-kernel echo mproc for the VM tests.
 *
 * Creates a kernel mproc (default name "kecho") on the first ACE device
 * and sends every message it receives back to its sender: the same block,
 * so the echo copies nothing.  Counters are read-only module parameters:
 * /sys/module/ace_ktest/parameters/{echoed,failed}.
 */
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

static int __init kecho_init(void)
{
	kecho = ace_kmproc_create(name, kecho_rx, NULL);
	if (IS_ERR(kecho)) {
		pr_err("ace_ktest: cannot create mproc '%s': %ld\n", name,
		       PTR_ERR(kecho));
		return PTR_ERR(kecho);
	}
	pr_info("ace_ktest: mproc '%s' id %#x echoing\n", name,
		ace_kmproc_id(kecho));
	return 0;
}

static void __exit kecho_exit(void)
{
	ace_kmproc_destroy(kecho);
	pr_info("ace_ktest: '%s' closed after %lu echoes, %lu failures\n",
		name, echoed, failed);
}

module_init(kecho_init);
module_exit(kecho_exit);

MODULE_DESCRIPTION("ACE in-kernel echo mproc (test)");
MODULE_LICENSE("GPL");
