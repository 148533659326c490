/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The /dev/aceN ioctls of the ACE guest driver (ace.ko).
 *
 * The data path (alloc, send, receive, free, sections, arming) runs in
 * user space on the arena mapped from /dev/aceN (mmap, MAP_SHARED, offset
 * 0); these calls only name mprocs, sleep and notify.  The arena's layout
 * is in the ACE ABI header (ace_abi.h); this header is all a program needs
 * to talk to the driver.
 *
 * Rules every call follows:
 *  - the argument's size is part of the command number (_IOC_SIZE), so a
 *    program built against another layout gets -ENOTTY, never a misread;
 *  - every reserved field and every flag bit not defined here must be 0,
 *    else -EINVAL: they can be given a meaning later;
 *  - calls that change state (OPEN with ACE_OPEN_CREATE, CLOSE, WAIT,
 *    NOTIFY, EVENTFD) need a file opened for writing, else -EBADF;
 *  - -ENODEV once the device is gone; -EIO once the arena this file was
 *    opened on is broken or was replaced by a recovery or a resume (the
 *    mprocs the file owned are gone: open /dev/aceN again).
 *
 * The magic 0xDA is not in Documentation/userspace-api/ioctl/ioctl-number.rst.
 */
#ifndef _UAPI_LINUX_ACE_H
#define _UAPI_LINUX_ACE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ACE_IOCTL_MAGIC		0xDA

/* ACE_IOC_INFO (out): the arena and device this file works on. */
struct ace_ioc_info {
	__u32 abi_version;	/* major << 16 | minor */
	__u32 arena_size;	/* bytes to mmap() */
	__u32 nr_mprocs;	/* mproc table slots */
	__u32 max_peers;	/* host peers the device serves */
	__u32 section_ns;	/* ACE section time bound */
	__u32 peers_up;		/* bitmap of connected host peers */
	__u64 generation;	/* the arena's generation (header) */
};

#define ACE_OPEN_CREATE		1u	/* claim a new named mproc */
#define ACE_OPEN_LOOKUP		2u	/* find an existing one (no ownership) */

/* ACE_IOC_OPEN (in/out): claim or look up a named mproc. */
struct ace_ioc_open {
	char name[48];		/* NUL-terminated (ACE_NAME_MAX) */
	__u32 flags;		/* exactly one ACE_OPEN_* */
	__u32 mode;		/* ACE_MODE_* for CREATE, else 0 */
	__u32 id;		/* out: the mproc id */
	__u32 reserved;		/* 0 */
};

/* ACE_IOC_WAIT (in): sleep until own mproc `id` has mail. */
struct ace_ioc_wait {
	__u32 id;		/* own mproc */
	__u32 reserved;		/* 0 */
	__u64 timeout_ns;	/* 0: check only; ~0: forever */
};

/* ACE_IOC_NOTIFY (in): wake mproc `dst`, whose pending bit a send raised. */
struct ace_ioc_notify {
	__u32 dst;
	__u32 reserved;		/* 0 */
};

/* ACE_IOC_EVENTFD (in): signal eventfd `fd` at every delivery to own
 * mproc `id`; fd -1 unbinds.
 */
struct ace_ioc_eventfd {
	__u32 id;
	__s32 fd;
};

/*
 * ACE_IOC_BELLS (out): host peers' doorbells a process may ring itself.
 * Where the device gives each doorbell a page of its own, mmap() `count`
 * pages (MAP_SHARED, PROT_WRITE) at `offset` of /dev/aceN; any store to
 * page N then rings host peer N's doorbell, as ACE_IOC_NOTIFY would for
 * a host mproc of peer N, with no system call.  -EOPNOTSUPP where the
 * device does not (then use ACE_IOC_NOTIFY).  The mapping is device
 * memory: like the arena's, it is taken away when the arena goes (a
 * later store faults), and a store to it must be the last thing a send
 * does (the send's writes to the arena come first: a store fence, or
 * the ordering x86 gives stores).
 */
struct ace_ioc_bells {
	__u64 offset;		/* mmap() offset of page 0 */
	__u32 count;		/* pages: one per host peer */
	__u32 reserved;		/* 0 */
};

#define ACE_IOC_INFO	_IOR(ACE_IOCTL_MAGIC, 0x00, struct ace_ioc_info)
#define ACE_IOC_OPEN	_IOWR(ACE_IOCTL_MAGIC, 0x01, struct ace_ioc_open)
#define ACE_IOC_CLOSE	_IOW(ACE_IOCTL_MAGIC, 0x02, __u32)	/* own mproc id */
#define ACE_IOC_WAIT	_IOW(ACE_IOCTL_MAGIC, 0x03, struct ace_ioc_wait)
#define ACE_IOC_NOTIFY	_IOW(ACE_IOCTL_MAGIC, 0x04, struct ace_ioc_notify)
#define ACE_IOC_EVENTFD	_IOW(ACE_IOCTL_MAGIC, 0x05, struct ace_ioc_eventfd)
#define ACE_IOC_BELLS	_IOR(ACE_IOCTL_MAGIC, 0x06, struct ace_ioc_bells)

#endif /* _UAPI_LINUX_ACE_H */
