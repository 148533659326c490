// SPDX-License-Identifier: GPL-2.0
/*
 * The device's config space, read once and checked, and
 * the module parameters that size the arena.
 *
 * The host is not trusted: every field is checked before use and only the
 * checked copies in struct ace_dev are used afterwards.  A value no
 * driver could work with refuses the device with -EIO; one it can live
 * with (a section bound out of range, more slots or a larger arena than
 * the ABI allows) is clamped with a warning.
 *
 * fault_config replaces fields as they are read, so the checks can be
 * tested with values our own device never offers (see
 * tests/vm/guest/hostile.sh).
 */
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_config.h>

#include "ace_drv.h"

static unsigned int arena_size;
module_param(arena_size, uint, 0444);
MODULE_PARM_DESC(arena_size,
		 "arena bytes (default 0: the whole arena region; clamped to the device's arena_max)");

static unsigned int nr_mprocs = ACE_DEFAULT_MPROCS;
module_param(nr_mprocs, uint, 0444);
MODULE_PARM_DESC(nr_mprocs,
		 "mproc table slots (default 64; clamped to the device's max_mprocs)");

static char *fault_config;
module_param(fault_config, charp, 0444);
MODULE_PARM_DESC(fault_config,
		 "testing: replace config-space fields as read, e.g. \"max_peers=0,section_ns=0\" (abi_version, arena_max, max_mprocs, max_peers, section_ns, peers_up), the ATTACH answer's status (ctrl_status) or ATTACH's length (attach_len, 1..24), or make the Nth setup of the queues fail as a transport that refuses queue 0 does (vqs_fail=N; 1: the probe's)");

#define ACE_CFG(vdev, field) \
	virtio_cread32(vdev, offsetof(struct ace_virtio_config, field))

/* The config space as read, before any check; the faults forced on the
 * ATTACH command and its answer (ace_vq.c), and which fields were forced.
 */
struct ace_cfg_raw {
	u32 abi_version, arena_max, max_mprocs, max_peers, section_ns, peers_up;
	u32 ctrl_status, attach_len, vqs_fail;
	u32 forced;
};

static const struct {
	const char *name;
	size_t off;
} ace_cfg_fields[] = {
	{ "abi_version", offsetof(struct ace_cfg_raw, abi_version) },
	{ "arena_max", offsetof(struct ace_cfg_raw, arena_max) },
	{ "max_mprocs", offsetof(struct ace_cfg_raw, max_mprocs) },
	{ "max_peers", offsetof(struct ace_cfg_raw, max_peers) },
	{ "section_ns", offsetof(struct ace_cfg_raw, section_ns) },
	{ "peers_up", offsetof(struct ace_cfg_raw, peers_up) },
#define ACE_FAULT_CTRL_STATUS	6
	{ "ctrl_status", offsetof(struct ace_cfg_raw, ctrl_status) },
#define ACE_FAULT_ATTACH_LEN	7
	{ "attach_len", offsetof(struct ace_cfg_raw, attach_len) },
	{ "vqs_fail", offsetof(struct ace_cfg_raw, vqs_fail) },
};

/* Apply fault_config ("field=value,...") to the raw copy. */
static int ace_config_fault(struct ace_dev *dev, struct ace_cfg_raw *raw)
{
	char *buf, *p, *tok, *val;
	unsigned int i;
	int err = 0;
	u32 v;

	if (!fault_config || !*fault_config)
		return 0;
	buf = kstrdup(fault_config, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = buf;
	while (!err && (tok = strsep(&p, ","))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (val)
			*val++ = 0;
		for (i = 0; i < ARRAY_SIZE(ace_cfg_fields); i++)
			if (!strcmp(tok, ace_cfg_fields[i].name))
				break;
		if (!val || i == ARRAY_SIZE(ace_cfg_fields) ||
		    kstrtou32(val, 0, &v)) {
			dev_err(ace_devp(dev), "fault_config: cannot apply '%s'\n",
				tok);
			err = -EINVAL;
			break;
		}
		*(u32 *)((u8 *)raw + ace_cfg_fields[i].off) = v;
		raw->forced |= BIT(i);
		dev_warn(ace_devp(dev), "fault_config: config field %s forced to %#x\n",
			 tok, v);
	}
	kfree(buf);
	return err;
}

/* Zero-copy by guest physical address needs a plain modern transport. */
static int ace_check_features(struct ace_dev *dev)
{
	struct virtio_device *vdev = dev->vdev;

	if (!virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "device is not modern (no VIRTIO_F_VERSION_1)\n");
		return -EIO;
	}
	if (virtio_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM)) {
		dev_err(&vdev->dev,
			"device needs VIRTIO_F_ACCESS_PLATFORM (IOMMU or encrypted memory): the arena cannot be shared by guest physical address\n");
		return -EIO;
	}
	return 0;
}

static int ace_check_config(struct ace_dev *dev)
{
	struct device *d = ace_devp(dev);

	if (dev->abi_version >> 16 != ACE_ABI_MAJOR) {
		dev_err(d, "device ABI %u.%u, driver ABI %u.%u: incompatible\n",
			dev->abi_version >> 16, dev->abi_version & 0xffff,
			ACE_ABI_MAJOR, ACE_ABI_MINOR);
		return -EIO;
	}
	if (dev->arena_max < ACE_MIN_ARENA) {
		dev_err(d, "device arena_max %u is below the minimum %u\n",
			dev->arena_max, ACE_MIN_ARENA);
		return -EIO;
	}
	if (dev->max_peers < 1 || dev->max_peers > ACE_MAX_PEERS) {
		dev_err(d, "device max_peers %u is not in 1..%u\n",
			dev->max_peers, ACE_MAX_PEERS);
		return -EIO;
	}
	if (dev->max_mprocs < 1) {
		dev_err(d, "device max_mprocs is 0\n");
		return -EIO;
	}
	return 0;
}

/* The arena size and table size: the parameters, within the device's and
 * the ABI's limits.
 */
static void ace_config_sizes(struct ace_dev *dev)
{
	u32 max = min(dev->arena_max, ACE_MAX_ARENA);
	u32 size = arena_size ? clamp_t(u32, arena_size, ACE_MIN_ARENA, max) : max;
	u32 nr = clamp_t(u32, nr_mprocs, 1,
			 min(dev->max_mprocs, ACE_MAX_MPROCS));

	dev->arena_size = round_down(size, PAGE_SIZE);
	dev->nr_mprocs = nr;
	if ((arena_size && dev->arena_size != arena_size) || nr != nr_mprocs)
		dev_info(ace_devp(dev),
			 "using arena_size %u and nr_mprocs %u (asked %u, %u; device limits %u, %u)\n",
			 dev->arena_size, nr, arena_size, nr_mprocs,
			 dev->arena_max, dev->max_mprocs);
}

static void ace_config_section(struct ace_dev *dev)
{
	u32 ns = dev->section_ns;

	if (ns && ns <= ACE_SECTION_NS_MAX)
		return;
	dev->section_ns = ns ? ACE_SECTION_NS_MAX : ACE_SECTION_NS_DEFAULT;
	dev_warn(ace_devp(dev), "device section_ns %u out of range, using %u\n",
		 ns, dev->section_ns);
}

static u32 ace_peers_mask(struct ace_dev *dev)
{
	return (u32)GENMASK_ULL(dev->max_peers - 1, 0);
}

/* peers_up changed (config interrupt, or an event for peer 32). */
void ace_cfg_work(struct work_struct *work)
{
	struct ace_dev *dev = container_of(work, struct ace_dev, cfg_work);
	u32 up, old;

	if (!READ_ONCE(dev->alive))
		return;
	up = ACE_CFG(dev->vdev, peers_up) & ace_peers_mask(dev);
	spin_lock_irq(&dev->lock);
	old = dev->peers_up;
	dev->peers_up = up;
	if (old & ~up)		/* someone left: see ace_rescue_mail() */
		ace_rescue_mail(dev);
	spin_unlock_irq(&dev->lock);
	if (up != old)
		dev_info(ace_devp(dev), "host peers up: %#x\n", up);
}

/*
 * Read the config space once, check it, keep the checked copies.  A value
 * no driver could work with refuses the device: -EIO, and the message says
 * which field.
 */
int ace_config_read(struct ace_dev *dev)
{
	struct virtio_device *vdev = dev->vdev;
	struct ace_cfg_raw raw = {};
	int err;

	err = ace_check_features(dev);
	if (err)
		return err;
	raw.abi_version = ACE_CFG(vdev, abi_version);
	raw.arena_max = ACE_CFG(vdev, arena_max);
	raw.max_mprocs = ACE_CFG(vdev, max_mprocs);
	raw.max_peers = ACE_CFG(vdev, max_peers);
	raw.section_ns = ACE_CFG(vdev, section_ns);
	raw.peers_up = ACE_CFG(vdev, peers_up);
	err = ace_config_fault(dev, &raw);
	if (err)
		return err;
	dev->abi_version = raw.abi_version;
	dev->arena_max = raw.arena_max;
	dev->max_mprocs = raw.max_mprocs;
	dev->max_peers = raw.max_peers;
	dev->section_ns = raw.section_ns;
	dev->fault_status = raw.forced & BIT(ACE_FAULT_CTRL_STATUS);
	dev->fault_status_v = raw.ctrl_status;
	dev->fault_vqs_fail = raw.vqs_fail;
	if (raw.forced & BIT(ACE_FAULT_ATTACH_LEN))
		dev->fault_attach_len = clamp_t(u32, raw.attach_len, 1,
						sizeof(struct ace_ctrl_cmd));
	err = ace_check_config(dev);
	if (err)
		return err;
	dev->peers_up = raw.peers_up & ace_peers_mask(dev);
	ace_config_section(dev);
	ace_config_sizes(dev);
	return 0;
}
