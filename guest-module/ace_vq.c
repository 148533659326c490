// SPDX-License-Identifier: GPL-2.0
/*
 * The device's queues.
 *
 *   0 ctrl      driver -> device commands (ACE_CTRL_ATTACH at probe)
 *   1 event     device -> driver events, written into buffers the driver
 *               keeps posted (Linux drops a vq interrupt that completes no
 *               buffer, so every host -> guest notification is one)
 *   2.. doorbellN  one per host peer, never given buffers: the kick itself
 *               is the doorbell that tells peer N to scan the pending bits
 *
 * The event callback runs in hard IRQ.  It handles at most ACE_EVT_BUDGET
 * buffers and hands the rest to a work item, so a device that completes
 * buffers as fast as they are posted cannot keep a CPU in IRQ context.
 */
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>

#include "ace_drv.h"

static void ace_ctrl_done(struct virtqueue *vq)
{
	struct ace_dev *dev = vq->vdev->priv;

	if (dev)
		complete(&dev->ctrl_done);
}

/* ---- events ---- */

static int ace_event_add(struct virtqueue *vq, struct ace_event *ev)
{
	struct scatterlist sg;

	sg_init_one(&sg, ev, sizeof(*ev));
	return virtqueue_add_inbuf(vq, &sg, 1, ev, GFP_ATOMIC);
}

/* PEER_UP/DOWN for one peer, or for peer 32: "re-read peers_up". */
static bool ace_event_peer(struct ace_dev *dev, u32 type, u32 peer)
{
	bool up = type == ACE_EVT_PEER_UP;

	if (peer == ACE_MAX_PEERS) {
		queue_work(dev->wq, &dev->cfg_work);
		return true;
	}
	if (peer >= dev->max_peers)
		return false;
	if (up) {
		dev->peers_up |= BIT(peer);
	} else {
		dev->peers_up &= ~BIT(peer);
		ace_rescue_mail(dev);
	}
	dev_info_ratelimited(ace_devp(dev), "host peer %u %s\n", peer,
			     up ? "up" : "down");
	return true;
}

/* Under dev->lock: act on one event (a checked copy).  PENDING only
 * notes that the bitmap must be scanned: one scan serves a batch.
 */
static void ace_event_handle(struct ace_dev *dev, const struct ace_event *e,
			     bool *scan)
{
	switch (e->type) {
	case ACE_EVT_PENDING:
		*scan = true;
		break;
	case ACE_EVT_PEER_UP:
	case ACE_EVT_PEER_DOWN:
		if (!ace_event_peer(dev, e->type, e->peer))
			goto bad;
		break;
	case ACE_EVT_BROKEN:
		dev->dev_broken = true;
		dev->dev_broken_arg = e->arg;
		/* the host side stopped using the arena: so does the guest */
		ace_arena_break(&dev->arena, "the device reports the arena broken",
				e->arg);
		ace_report_broken(dev);		/* says why, recovers */
		break;
	default:
		goto bad;
	}
	atomic64_inc(&dev->events);
	return;
bad:
	atomic64_inc(&dev->bad_events);
}

/* Under dev->lock: copy a used buffer once, re-post it, handle the copy. */
static void ace_event_take(struct ace_dev *dev, struct ace_event *ev,
			   unsigned int len, bool *scan)
{
	struct ace_event e = {
		.type = READ_ONCE(ev->type),
		.peer = READ_ONCE(ev->peer),
		.arg = READ_ONCE(ev->arg),
	};

	if (ace_event_add(dev->vqs[ACE_VQ_EVENT], ev))
		atomic64_inc(&dev->bad_events);	/* buffer lost: queue broken */
	if (len != sizeof(*ev)) {
		atomic64_inc(&dev->bad_events);
		return;
	}
	ace_event_handle(dev, &e, scan);
}

/* Under dev->lock.  Returns true if the budget ran out with callbacks
 * still disabled: the caller must schedule evt_work.
 */
static bool ace_events_drain(struct ace_dev *dev)
{
	struct virtqueue *vq = dev->vqs[ACE_VQ_EVENT];
	unsigned int n = 0, len;
	struct ace_event *ev;
	bool more = false, scan = false;

	do {
		virtqueue_disable_cb(vq);
		while ((ev = virtqueue_get_buf(vq, &len))) {
			ace_event_take(dev, ev, len, &scan);
			if (++n >= ACE_EVT_BUDGET) {
				more = true;
				goto out;
			}
		}
	} while (!virtqueue_enable_cb(vq));
out:
	if (n)
		virtqueue_kick(vq);
	if (scan)
		ace_scan_pending(dev);
	return more;
}

static void ace_events_run(struct ace_dev *dev)
{
	unsigned long flags;
	bool more;

	spin_lock_irqsave(&dev->lock, flags);
	more = dev->alive && ace_events_drain(dev);
	spin_unlock_irqrestore(&dev->lock, flags);
	if (more)
		queue_work(dev->wq, &dev->evt_work);
}

static void ace_event_done(struct virtqueue *vq)
{
	struct ace_dev *dev = vq->vdev->priv;

	if (!dev)
		return;
	atomic64_inc(&dev->interrupts);
	ace_events_run(dev);
}

void ace_evt_work(struct work_struct *work)
{
	ace_events_run(container_of(work, struct ace_dev, evt_work));
}

int ace_events_post(struct ace_dev *dev)
{
	struct virtqueue *vq = dev->vqs[ACE_VQ_EVENT];
	unsigned int i, n;
	int err = 0;

	n = min_t(unsigned int, ACE_NR_EVENTS, virtqueue_get_vring_size(vq));
	spin_lock_irq(&dev->lock);
	for (i = 0; i < n && !err; i++)
		err = ace_event_add(vq, &dev->evbufs[i]);
	if (!err)
		virtqueue_kick(vq);
	spin_unlock_irq(&dev->lock);
	if (err)
		dev_err(ace_devp(dev), "cannot post event buffers: %d\n", err);
	return err;
}

/* ---- doorbells ---- */

/* Under dev->lock: ring host peer `peer`'s doorbell.  The peer number is
 * read from the arena (a slot's side word): clamped under speculation too.
 */
void ace_kick_peer(struct ace_dev *dev, u32 peer)
{
	if (!dev->alive || peer >= dev->max_peers)
		return;
	peer = array_index_nospec(peer, dev->max_peers);
	virtqueue_notify(dev->vqs[ACE_VQ_DOORBELL0 + peer]);
	atomic64_inc(&dev->kicks);
}

/* ---- queues ---- */

int ace_vqs_init(struct ace_dev *dev)
{
	vq_callback_t *cbs[ACE_NR_VQS_MAX] = { ace_ctrl_done, ace_event_done };
	const char *names[ACE_NR_VQS_MAX] = { "ctrl", "event" };
	unsigned int i;
	int err;

	dev->nvqs = ACE_VQ_DOORBELL0 + dev->max_peers;
	for (i = 0; i < dev->max_peers; i++) {
		snprintf(dev->db_names[i], sizeof(dev->db_names[i]),
			 "doorbell%u", i);
		names[ACE_VQ_DOORBELL0 + i] = dev->db_names[i];
	}
	if (dev->fault_vqs_fail && ++dev->vqs_setups == dev->fault_vqs_fail) {
		/* testing: the transport refused queue 0 (its size read 0);
		 * virtio-pci leaves an error pointer in vqs[0] then
		 */
		dev->vqs[0] = ERR_PTR(-ENOENT);
		err = -ENOENT;
	} else {
		err = ace_find_vqs(dev->vdev, dev->nvqs, dev->vqs, cbs, names);
	}
	if (err) {
		dev_err(ace_devp(dev), "cannot set up %u virtqueues (ctrl, event, %u doorbells): %d\n",
			dev->nvqs, dev->max_peers, err);
		/* the transport deleted what it set up (an error pointer or a
		 * freed queue may be left here): nothing for ace_vqs_del()
		 */
		memset(dev->vqs, 0, sizeof(dev->vqs));
		dev->nvqs = 0;
	}
	return err;
}

/* After a reset: drop the buffers the device never used, delete the
 * queues.  The buffers themselves belong to struct ace_dev.
 */
void ace_vqs_del(struct ace_dev *dev)
{
	unsigned int i;

	for (i = 0; i < dev->nvqs; i++)
		while (virtqueue_detach_unused_buf(dev->vqs[i]))
			;
	dev->vdev->config->del_vqs(dev->vdev);
	memset(dev->vqs, 0, sizeof(dev->vqs));
	dev->nvqs = 0;
}

/* ---- control queue ---- */

/* Run one command; the buffers must stay valid until the device is reset
 * if this fails.
 */
static int ace_ctrl_exec(struct ace_dev *dev, void *cmd, size_t len,
			 struct ace_ctrl_status *st)
{
	struct virtqueue *vq = dev->vqs[ACE_VQ_CTRL];
	struct scatterlist out, in, *sgs[2] = { &out, &in };
	unsigned int used;
	int err;

	sg_init_one(&out, cmd, len);
	sg_init_one(&in, st, sizeof(*st));
	reinit_completion(&dev->ctrl_done);
	err = virtqueue_add_sgs(vq, sgs, 1, 1, cmd, GFP_KERNEL);
	if (err)
		return err;
	if (!virtqueue_kick(vq))
		return -EIO;
	if (!wait_for_completion_timeout(&dev->ctrl_done, ACE_CTRL_TIMEOUT))
		return -ETIMEDOUT;
	if (virtqueue_get_buf(vq, &used) != cmd || used < sizeof(*st))
		return -EIO;
	return 0;
}

static struct ace_ctrl_cmd *ace_attach_cmd(struct ace_dev *dev, size_t *len)
{
	struct ace_ctrl_cmd *cmd;

	cmd = kzalloc(sizeof(*cmd), GFP_KERNEL);
	if (!cmd)
		return NULL;
	*len = dev->fault_attach_len ?: sizeof(*cmd);
	cmd->cmd = ACE_CTRL_ATTACH;
	cmd->arena_size = dev->arena_size;
	cmd->generation = dev->generation;
	return cmd;
}

/*
 * The device's answer: 0, or the errno it refused with.  Only the errnos
 * user space knows pass: from ERESTARTSYS (512) up they are the kernel's
 * own (include/linux/errno.h), and a host answering EPROBE_DEFER, say,
 * would have the driver core probe the device again and again.
 */
static int ace_ctrl_status(struct ace_dev *dev,
			   const struct ace_ctrl_status *st)
{
	u32 status = READ_ONCE(st->status), detail = READ_ONCE(st->detail);
	bool errno_ok;

	if (dev->fault_status)
		status = dev->fault_status_v;
	if (!status)
		return 0;
	errno_ok = status < ERESTARTSYS;
	dev_err(ace_devp(dev), "device refused the arena: status %u (%s errno), detail %u\n",
		status, errno_ok ? "an" : "not an", detail);
	return errno_ok ? -(int)status : -EIO;
}

/* Tell the device the arena in its region is formatted (ACE_CTRL_ATTACH). */
int ace_ctrl_attach(struct ace_dev *dev)
{
	struct ace_ctrl_status *st;
	struct ace_ctrl_cmd *cmd;
	size_t len;
	int err = -ENOMEM;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	cmd = ace_attach_cmd(dev, &len);
	if (!st || !cmd)
		goto out;
	err = ace_ctrl_exec(dev, cmd, len, st);
	if (err) {
		/* the device may still own the buffers: make it let go */
		virtio_reset_device(dev->vdev);
		dev_err(ace_devp(dev), "ATTACH command failed: %d%s\n", err,
			err == -ETIMEDOUT ? " (no answer in 5 s)" : "");
		goto out;
	}
	err = ace_ctrl_status(dev, st);
out:
	kfree(cmd);
	kfree(st);
	return err;
}
