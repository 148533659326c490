/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private state of the ACE guest driver (ace.ko).
 *
 * One struct ace_dev per virtio-ace device.  It lives as long as anybody
 * holds a reference (the probe, each open /dev/aceN file, each kernel
 * mproc), so the arena and its vmap outlive a device that went away while
 * still in use.  Whatever touches the device itself (queues, doorbells)
 * checks dev->alive under dev->lock first.
 *
 * Locking: dev->lock is a spinlock taken with interrupts off, also from the
 * event queue's hard-IRQ callback and from the deferral hrtimer.  It
 * protects alive, the owned bitmap, every struct ace_slot, peers_up, the
 * device-reported broken state, and every use of the event and doorbell
 * queues.  Under it we only wake (waitqueues, eventfds, queue_work,
 * hrtimer_start); nothing called under it takes it again.
 */
#ifndef ACE_DRV_H
#define ACE_DRV_H

#include <linux/auxiliary_bus.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "ace_core.h"
#include "ace_kapi.h"
#include "ace_kcompat.h"

#define ACE_NR_EVENTS		64	/* event buffers kept posted */
#define ACE_EVT_BUDGET		(2 * ACE_NR_EVENTS)	/* per IRQ, then a work */
#define ACE_CTRL_TIMEOUT	(5 * HZ)
#define ACE_NR_VQS_MAX		(ACE_VQ_DOORBELL0 + ACE_MAX_PEERS)
#define ACE_SECTION_NS_DEFAULT	50000u
#define ACE_SECTION_NS_MAX	1000000000u

struct eventfd_ctx;
struct ace_file;

/* Kernel-side state of one mproc slot this guest owns (dev->lock). */
struct ace_slot {
	u32 id;				/* 0: not owned by this guest */
	bool closing;			/* CLOSE in progress: no new users */
	unsigned int busy;		/* ioctls using the slot */
	unsigned int waiters;		/* sleepers in WAIT: the first arms
					 * the mproc, the last disarms it
					 */
	struct ace_file *file;		/* owner: an open /dev/aceN, or */
	struct ace_kmproc *kmp;		/* a kernel mproc */
	pid_t pid;			/* user owner's tgid */
	u32 epoch;			/* the arena it was claimed on */
	struct eventfd_ctx *efd;	/* signalled at each delivery */
	wait_queue_head_t wq;		/* WAIT sleepers, CLOSE */
	bool deferred;			/* a section's time bound is running */
	u32 defer_seq;			/* ... for this section sequence */
	ktime_t defer_deadline;
};

struct ace_dev {
	struct virtio_device *vdev;
	struct kref ref;
	struct list_head node;		/* ace_devices */
	int index;			/* N of /dev/aceN, -1 before ida */
	char name[16];
	struct miscdevice misc;
	bool misc_registered;
	struct dentry *debugfs;
	unsigned long flags;		/* ACE_F_* */

	/* config space, checked once at probe */
	u32 abi_version, arena_max, max_mprocs, max_peers, section_ns;
	/* testing (fault_config): the ATTACH answer's status forced, and
	 * ATTACH sent this many bytes long (0: whole); the setup of the
	 * queues that fails (0: none), and how many there were
	 */
	bool fault_status;
	u32 fault_status_v, fault_attach_len;
	u32 fault_vqs_fail, vqs_setups;

	/* queues */
	struct virtqueue *vqs[ACE_NR_VQS_MAX];
	unsigned int nvqs;
	char db_names[ACE_MAX_PEERS][16];
	struct completion ctrl_done;
	struct ace_event *evbufs;	/* ACE_NR_EVENTS device-writable */
	struct work_struct evt_work;	/* event budget overflow */
	struct work_struct cfg_work;	/* re-read peers_up */
	struct workqueue_struct *wq;

	/* arena: at offset 0 of the device's region ACE_SHM_ARENA */
	phys_addr_t region_addr;
	u64 region_len;
	void *vaddr;			/* memremap()ed write-back */
	/* doorbell pages a process may map (VIRTIO_ACE_F_BELL_PAGES), from
	 * the PCI notify capability at probe: page N rings peer N
	 */
	phys_addr_t bell_addr;
	u32 bell_stride, nr_bells;	/* nr_bells 0: none */
	bool bells_live;		/* map_lock: attached, may be rung */
	u32 arena_size, nr_mprocs;
	u64 generation;
	struct ace_arena arena;

	/* open files (files_lock) */
	struct mutex files_lock;
	struct list_head files;

	/* dev->lock */
	spinlock_t lock;
	bool alive;
	u64 owned[ACE_MAX_MPROCS / 64];	/* private: slots this guest owns */
	struct ace_slot *slots;		/* [nr_mprocs] */
	struct hrtimer defer_timer;
	u32 peers_up;
	bool dev_broken;		/* ACE_EVT_BROKEN seen */
	u32 dev_broken_arg;

	atomic64_t interrupts, events, bad_events, kicks;

	/* recovery and suspend (reinit_lock): the arena is formatted anew */
	struct mutex reinit_lock;
	/*
	 * arena_rwsem: the slot table and the arena's private view change
	 * only with it held for writing (ace_dev_down(), ace_dev_up()); the
	 * ioctls, release(), poll and debugfs hold it for reading, so none
	 * of them runs across a new arena.  Taken before files_lock.
	 */
	struct rw_semaphore arena_rwsem;
	/*
	 * map_lock: a fault inserts the arena's pages with it held for
	 * reading, after checking alive and its file's epoch; ace_dev_stop()
	 * zaps every mapping and then clears alive with it held for writing,
	 * so no page is inserted that the zap misses.
	 */
	struct rw_semaphore map_lock;
	spinlock_t recover_lock;	/* removing vs queueing recover_work */
	struct delayed_work recover_work;
	unsigned long recover_last;	/* jiffies of the last recovery, 0: none */
	unsigned int recover_burst;	/* recoveries in a row, each soon after the last */
	u32 epoch;			/* +1 per new arena; files keep theirs */
	bool removing;			/* remove() started: no recovery
					 * (set under recover_lock)
					 */
	char last_reason[ACE_WHY_MAX];	/* why the last arena was dropped */
	atomic64_t recoveries, resumes, lost_mprocs, lost_files;

	/* kernel clients: the auxiliary device "ace.kapi.N" (reinit_lock) */
	struct ace_adev *adev;
};

/* The auxiliary device kernel clients bind to (see ace_kapi.h). */
struct ace_adev {
	struct auxiliary_device aux;
	struct ace_dev *dev;		/* holds a reference */
};

#define ACE_F_WHY_LOGGED	0	/* arena breakage reported */

/* An open /dev/aceN. */
struct ace_file {
	struct ace_dev *dev;
	struct list_head node;
	wait_queue_head_t poll_wq;
	struct address_space *mapping;	/* where its arena mappings live */
	bool writable;			/* opened for writing: may change state */
	u32 epoch;			/* the arena it was opened on */
};

/* An in-kernel mproc (opaque in ace_kapi.h). */
struct ace_kmproc {
	struct ace_dev *dev;
	u32 id;
	struct ace_rx rx;
	ace_kmproc_cb_t rx_cb;
	void *ctx;
	struct work_struct work;
	u32 epoch;			/* the arena it was created on */
	struct mutex cb_lock;		/* one callback run at a time */
	struct task_struct *cb_task;	/* who runs it now */
};

/* The virtio device: only while bound (probe to remove); after remove
 * dev->vdev is NULL, so log with dev->name (pr_*) on paths that can run
 * then (release, kernel clients' teardown).
 */
static inline struct device *ace_devp(struct ace_dev *dev)
{
	return &dev->vdev->dev;
}

/* Slot of an id that was checked against dev->nr_mprocs; clamped under
 * speculation too, since ids come from user space and from the arena.
 */
static inline u32 ace_slot_idx(struct ace_dev *dev, u32 id)
{
	return array_index_nospec(ACE_ID_SLOT(id), dev->nr_mprocs);
}

static inline struct ace_slot *ace_slot_of(struct ace_dev *dev, u32 id)
{
	return &dev->slots[ace_slot_idx(dev, id)];
}

/* ace_main.c */
void ace_dev_put(struct ace_dev *dev);
int ace_dev_check(struct ace_dev *dev);
int ace_file_check(struct ace_file *f);
void ace_report_broken(struct ace_dev *dev);
extern bool ace_test_hooks;
void ace_recover_force(struct ace_dev *dev);
void ace_recover_work(struct work_struct *work);

/* ace_kapi.c */
int ace_kapi_add(struct ace_dev *dev);
void ace_kapi_del(struct ace_dev *dev);

/* ace_config.c */
int ace_config_read(struct ace_dev *dev);
void ace_cfg_work(struct work_struct *work);

/* ace_mem.c */
/* /dev/aceN's mmap() offsets, in pages: the arena at 0, the doorbell
 * pages (ACE_IOC_BELLS) from here on (above any arena: 4 GiB)
 */
#define ACE_BELL_PGOFF		(1UL << (32 - PAGE_SHIFT))
int ace_arena_map(struct ace_dev *dev);
void ace_bells_find(struct ace_dev *dev);
int ace_arena_format(struct ace_dev *dev);
void ace_arena_unmap(struct ace_dev *dev);

/* ace_vq.c */
int ace_vqs_init(struct ace_dev *dev);
void ace_vqs_del(struct ace_dev *dev);
int ace_events_post(struct ace_dev *dev);
void ace_evt_work(struct work_struct *work);
int ace_ctrl_attach(struct ace_dev *dev);
void ace_kick_peer(struct ace_dev *dev, u32 peer);

/* ace_deliver.c */
void ace_scan_pending(struct ace_dev *dev);
void ace_notify_dst(struct ace_dev *dev, u32 dst);
void ace_rescue_mail(struct ace_dev *dev);
enum hrtimer_restart ace_defer_fire(struct hrtimer *t);

/* ace_slot.c */
bool ace_slot_owned(struct ace_dev *dev, u32 slot);
int ace_slot_own(struct ace_dev *dev, u32 id, struct ace_file *f,
		 struct ace_kmproc *kmp);
struct ace_slot *ace_slot_get(struct ace_dev *dev, struct ace_file *f, u32 id);
void ace_slot_put(struct ace_dev *dev, struct ace_slot *s);
int ace_slot_close(struct ace_dev *dev, struct ace_file *f, u32 id);
s64 ace_slot_drop(struct ace_dev *dev, struct ace_slot *s);
int ace_slot_stolen(struct ace_dev *dev, u32 id);
void ace_file_close_all(struct ace_dev *dev, struct ace_file *f);
int ace_slot_wait(struct ace_dev *dev, struct ace_slot *s,
		  struct ace_rx *rx, u64 timeout_ns);
void ace_wake_all(struct ace_dev *dev);

/* ace_cdev.c */
int ace_cdev_register(struct ace_dev *dev);
void ace_cdev_unregister(struct ace_dev *dev);
void ace_cdev_zap_mappings(struct ace_dev *dev);

/* ace_ioctl.c */
long ace_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* ace_stats.c */
int ace_sysfs_add(struct ace_dev *dev);
void ace_sysfs_del(struct ace_dev *dev);
void ace_debugfs_init(void);
void ace_debugfs_exit(void);
void ace_debugfs_add(struct ace_dev *dev);
void ace_debugfs_del(struct ace_dev *dev);

#endif /* ACE_DRV_H */
