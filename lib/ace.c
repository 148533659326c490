// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace.c - libace: the public API (ace.h) over two backends.
 *
 *   guest: /dev/aceN: the arena is mmap()ed; ACE_IOC_OPEN/CLOSE own mprocs,
 *          ACE_IOC_WAIT sleeps, ACE_IOC_NOTIFY rings a doorbell or wakes a
 *          guest mproc, ACE_IOC_EVENTFD binds an eventfd for ace_fd().
 *   host:  the device's socket (lib/ace_host.c): the arena is mapped from
 *          the guest-RAM fd; mprocs are claimed in the arena directly;
 *          waits poll the mproc's own eventfd and the peer's kick eventfd,
 *          and whichever waiter reads a kick dispatches it to the others.
 *
 * Everything between is the shared core: the same send, receive, section
 * and notify code as the guest kernel and the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/ace.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "ace_host.h"
#include "ace.h"

#define DEFAULT_SPIN_US 50
#define ACE_ERR_LEN	512		/* ace_error()'s longest message */
#define HOST_RECHECK_MS	100		/* see wait_host() */
#define HOST_CHECK_NS	1000000		/* see device_check() */
#define CLOSED_GRACE_NS	1000000000	/* see wait_mail() */
#define GUEST_CHECK_NS	10000000
#define RECV_SPINS	256		/* see ace_mp_recv() */
#define RECREATE_RETRY_NS 100000000	/* see ace_service() */
#define RECV_SPIN_MIN_NS 10000000

struct ace {
	int guest;			/* 1: /dev/aceN, 0: host socket */
	int dev_fd;			/* guest */
	void *map;			/* guest mapping */
	volatile u16 *bells;		/* guest: doorbell pages, or NULL */
	size_t bells_len;
	u32 nr_bells, bell_stride;	/* stride in u16s (a page) */
	struct ace_host host;		/* host (its arena: arena_get()) */
	struct ace_arena *a;		/* guest: its view, once validated */
	struct ace_arena garena;	/* guest's view */
	pthread_mutex_t lock;		/* mprocs list */
	pthread_mutex_t dev_lock;	/* host: reading the device socket */
	struct ace_mp *mprocs;
	int epfd;			/* host: ace_fd(), kick + socket */
	u64 svc_epoch;			/* host: epoch ace_service() saw */
	unsigned flags;			/* ACE_PERSIST */
	int lost;			/* ACE_PERSIST: mprocs not created
					 * again in the current arena */
	s64 retry_at;			/* ACE_PERSIST: no retry before */
	u64 serial;			/* see seterr() */
	pthread_mutex_t err_lock;	/* err: a copy for other threads */
	char err[ACE_ERR_LEN];
};

/*
 * Every call on an mproc, and on a buffer given to it, uses mp->in->a:
 * the arena it was created in, never the channel's current one.  On the
 * host in->a is a reference (struct ace_host_arena) that the incarnation
 * holds until it is freed (the mproc closed, or, with ACE_PERSIST, the
 * second re-attach after it, once no waiter holds it): a view never
 * overwritten, and memory that stays mapped (the placeholder, once the
 * arena is gone), so a thread that finds the mproc current and then loses
 * the race with an arena event touches only its own arena's view and
 * memory, never the next arena's.
 */
struct ace_inc {
	struct ace_arena *a;		/* its arena: see above */
	struct ace_rx rx;
	struct ace_cache cache;		/* freed blocks kept for reuse */
	u64 epoch;			/* host: its arena's (guest: 0) */
	u32 id;
	int refs;			/* see inc_get() */
};

struct ace_mp {
	/* What it is in one arena.  ACE_PERSIST makes a new one for each
	 * arena and swaps it in with one release store: a call loads it once
	 * (acquire) and uses that incarnation throughout, so it never pairs
	 * one arena with another's rx or cache.  A call that does not wait
	 * uses it unreferenced (the one before stays, see old_in); one that
	 * waits takes a reference (inc_get()). */
	struct ace_inc *in;
	struct ace *ch;
	struct ace_mp *next;
	unsigned mode;
	unsigned spin_us;
	int efd;			/* host: wake-ups; guest: bound eventfd */
	u32 polls;			/* calls since device_check() looked */
	s64 checked;			/* when it last looked */
	/* ACE_PERSIST: what it is created again as, the incarnation before
	 * (the mproc's reference to it is kept until the next one: a thread
	 * that loaded mp->in as it changed still finds it whole and mapped),
	 * why it could not be (-errno, 0) */
	char name[ACE_NAME_MAX];
	struct ace_inc *old_in;
	int lost;
};

/* The mproc's incarnation now: load it once per call. */
static inline struct ace_inc *mp_in(const struct ace_mp *mp)
{
	return __atomic_load_n(&mp->in, __ATOMIC_ACQUIRE);
}

/* The incarnation now, referenced: for a call that holds it across a
 * wait, which another thread's ace_service() may outlast by two
 * re-attaches (the second frees what the mproc kept of the first).  The
 * mproc holds one reference to mp->in and one to mp->old_in; recreate()
 * swaps them under ch->lock, taken here too. */
static struct ace_inc *inc_get(struct ace_mp *mp)
{
	struct ace_inc *in;

	pthread_mutex_lock(&mp->ch->lock);
	in = mp->in;
	__atomic_fetch_add(&in->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mp->ch->lock);
	return in;
}

static void arena_put(struct ace *ch, struct ace_arena *a);

/* Drop a reference: the last frees the incarnation and drops its arena. */
static void inc_put(struct ace *ch, struct ace_inc *in)
{
	if (in && !__atomic_sub_fetch(&in->refs, 1, __ATOMIC_ACQ_REL)) {
		arena_put(ch, in->a);
		free(in);
	}
}

/* What went wrong, per thread: a thread's message is never overwritten
 * by another thread's failing call on the same channel before it reads
 * it.  Kept for the last channel the thread failed on (by the channel's
 * serial number, never reused: a later channel at the same address is
 * another); ch->err keeps the channel's latest for any other thread. */
static __thread u64 err_serial;	/* the channel of err_msg */
static __thread char err_msg[ACE_ERR_LEN], err_copy[ACE_ERR_LEN];
static u64 serials;			/* channels opened, for err_serial */

/* Host: the connection is broken (set once, by whichever thread found
 * it: any thread may ask). */
static inline int host_dead(const struct ace *ch)
{
	return __atomic_load_n(&ch->host.dead, __ATOMIC_ACQUIRE);
}

static int seterr(struct ace *ch, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	err_serial = ch->serial;
	pthread_mutex_lock(&ch->err_lock);
	memcpy(ch->err, err_msg, strlen(err_msg) + 1);
	pthread_mutex_unlock(&ch->err_lock);
	return -err;
}

/* Host: the struct ace_host_arena whose view `a` is. */
static inline struct ace_host_arena *host_arena(struct ace_arena *a)
{
	return (struct ace_host_arena *)((char *)a -
					 offsetof(struct ace_host_arena, a));
}

static int stale_err(struct ace *ch);
static int no_arena_err(struct ace *ch);

/* A core error on arena `a`: say what the core said.  A broken arena
 * found here is reported to the device, which tells the guest and the
 * other peers; an arena that went meanwhile (host) is -ESTALE. */
static int core_err(struct ace *ch, struct ace_arena *a, int r, const char *what)
{
	if (r == -EIO) {
		if (!ch->guest) {
			if (host_arena(a)->epoch != ace_read_once(&ch->host.epoch))
				return stale_err(ch);
			ace_host_report_broken(&ch->host);
		}
		return seterr(ch, EIO, "%s: the arena is broken: %s (0x%x)", what,
			      ace_arena_why(a), a->why_value);
	}
	return seterr(ch, -r, "%s: %s", what, strerror(-r));
}

/*
 * The channel's arena, pinned: the view and the memory stay valid until
 * arena_put(), even if another thread takes the device's next message
 * meanwhile.  NULL when there is none (host: detached, refused, the
 * connection broken; a guest channel that did not open).
 */
static struct ace_arena *arena_pin(struct ace *ch)
{
	struct ace_host_arena *ha;

	if (ch->guest)
		return ch->a;
	ha = ace_host_arena_get(&ch->host);
	if (ha && ha->epoch == ace_read_once(&ch->host.epoch))
		return &ha->a;
	ace_host_arena_put(ha);		/* gone: no arena now */
	return NULL;
}

static void arena_put(struct ace *ch, struct ace_arena *a)
{
	if (!ch->guest && a)
		ace_host_arena_put(host_arena(a));
}

/* arena_pin() for a channel call: 0, or -ESTALE with ace_error() set. */
static int arena_get(struct ace *ch, struct ace_arena **a)
{
	*a = arena_pin(ch);
	if (ace_likely(*a))
		return 0;
	if (ch->guest)
		return seterr(ch, ENODEV, "the channel has no arena (it did not open)");
	return no_arena_err(ch);
}

static s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* An ioctl failed: -ENODEV and -EIO are the driver's verdict on the
 * device; say so in words. */
static int ioctl_err(struct ace *ch, const char *what, int err)
{
	if (err == ENODEV)
		return seterr(ch, err, "%s: the device is gone (unplugged, or its driver was unbound)",
			      what);
	if (err == EIO)
		return seterr(ch, err, "%s: the arena is broken, or was replaced since this channel was opened (the kernel log, ace/broken and ace/last_reason in sysfs say why; open the channel again)",
			      what);
	return seterr(ch, err, "%s: %s", what, strerror(err));
}

const char *ace_error(const struct ace *ch)
{
	if (!ch)
		return "no channel (out of memory)";
	if (err_serial == ch->serial)
		return err_msg;
	pthread_mutex_lock((pthread_mutex_t *)&ch->err_lock);
	memcpy(err_copy, ch->err, strlen(ch->err) + 1);
	pthread_mutex_unlock((pthread_mutex_t *)&ch->err_lock);
	return err_copy;
}

int ace_is_guest(const struct ace *ch)
{
	return ch->guest;
}

/* 0 while no arena is attached (host: detached, refused, connection
 * broken) */
uint32_t ace_arena_size(const struct ace *ch)
{
	struct ace_arena *a = arena_pin((struct ace *)ch);
	u32 v = a ? a->size : 0;

	arena_put((struct ace *)ch, a);
	return v;
}

uint32_t ace_max_mprocs(const struct ace *ch)
{
	struct ace_arena *a = arena_pin((struct ace *)ch);
	u32 v = a ? a->nr_mprocs : 0;

	arena_put((struct ace *)ch, a);
	return v;
}

/* ---- opening ---- */

/*
 * Guest: map the host peers' doorbell pages where the driver offers them
 * (ACE_IOC_BELLS), so that a send rings a host peer with one store, no
 * system call.  Anything else (an older driver, a device without them,
 * ACE_BELLS=ioctl in the environment) leaves ACE_IOC_NOTIFY to do it.
 */
static void open_bells(struct ace *ch)
{
	struct ace_ioc_bells b = { 0 };
	const char *env = getenv("ACE_BELLS");
	long page = sysconf(_SC_PAGESIZE);
	void *m;

	if ((env && !strcmp(env, "ioctl")) || page <= 0 ||
	    ioctl(ch->dev_fd, ACE_IOC_BELLS, &b) || !b.count ||
	    b.count > ACE_MAX_PEERS ||
	    (u64)(off_t)b.offset != b.offset)	/* a 32-bit off_t */
		return;
	m = mmap(NULL, (size_t)b.count * page, PROT_WRITE, MAP_SHARED,
		 ch->dev_fd, (off_t)b.offset);
	if (m == MAP_FAILED)
		return;
	ch->bells = m;
	ch->bells_len = (size_t)b.count * page;
	ch->bell_stride = (u32)(page / sizeof(u16));
	ch->nr_bells = b.count;
}

/* Ring host peer `peer`'s doorbell by store: the value is its queue's
 * index, as virtio-pci's notify writes it.  The send's arena writes must
 * be seen first: x86 keeps stores in order (an uncached one too); other
 * architectures get a full fence. */
static inline void ring_bell(struct ace *ch, u32 peer)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("" ::: "memory");
#else
	__sync_synchronize();
#endif
	ch->bells[(size_t)peer * ch->bell_stride] = (u16)(ACE_VQ_DOORBELL0 + peer);
}

static int open_guest(struct ace *ch, const char *path)
{
	struct ace_ioc_info info;

	ch->guest = 1;
	ch->dev_fd = open(path, O_RDWR | O_CLOEXEC);
	if (ch->dev_fd < 0)
		return seterr(ch, errno, "open %s: %s (is ace.ko loaded?)", path,
			      strerror(errno));
	if (ioctl(ch->dev_fd, ACE_IOC_INFO, &info))
		return ioctl_err(ch, path, errno);
	if ((info.abi_version >> 16) != ACE_ABI_MAJOR)
		return seterr(ch, EPROTO, "%s speaks ABI %u.%u, libace %u.%u", path,
			      info.abi_version >> 16, info.abi_version & 0xffff,
			      ACE_ABI_MAJOR, ACE_ABI_MINOR);
	ch->map = mmap(NULL, info.arena_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       ch->dev_fd, 0);
	if (ch->map == MAP_FAILED) {
		ch->map = NULL;
		return seterr(ch, errno, "mmap %s: %s", path, strerror(errno));
	}
	if (ace_arena_attach(&ch->garena, ch->map, info.arena_size))
		return seterr(ch, EIO, "%s: the arena is refused: %s", path,
			      ace_arena_why(&ch->garena));
	ch->a = &ch->garena;
	open_bells(ch);
	return 0;
}

static int open_host(struct ace *ch, const char *path, int timeout_ms)
{
	int r = ace_host_connect(&ch->host, path, timeout_ms);

	if (!r)
		r = ace_host_wait_arena(&ch->host, timeout_ms);
	if (r)
		return seterr(ch, -r, "%s", ch->host.err);
	ch->svc_epoch = ch->host.epoch;
	return 0;
}

int ace_open(struct ace **chp, const char *where, int timeout_ms)
{
	return ace_open_flags(chp, where, timeout_ms, 0);
}

int ace_open_flags(struct ace **chp, const char *where, int timeout_ms,
		   unsigned flags)
{
	struct ace *ch = calloc(1, sizeof(*ch));
	struct stat st;

	*chp = ch;
	if (!ch)
		return -ENOMEM;
	ch->dev_fd = ch->epfd = -1;
	ch->host.sock = ch->host.kick_fd = ch->host.raise_fd = ch->host.bell_fd = -1;
	pthread_mutex_init(&ch->lock, NULL);
	pthread_mutex_init(&ch->dev_lock, NULL);
	pthread_mutex_init(&ch->err_lock, NULL);
	ch->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	if (flags & ~ACE_PERSIST)
		return seterr(ch, EINVAL, "unknown flags 0x%x", flags & ~ACE_PERSIST);
	ch->flags = flags;
	if (!where)
		where = "/dev/ace0";
	if (!stat(where, &st) && S_ISCHR(st.st_mode))
		return open_guest(ch, where);
	return open_host(ch, where, timeout_ms);
}

void ace_close(struct ace *ch)
{
	if (!ch)
		return;
	while (ch->mprocs)
		ace_mp_close(ch->mprocs);
	if (ch->guest) {
		if (ch->map)
			munmap(ch->map, ch->garena.size);
		if (ch->bells)
			munmap((void *)ch->bells, ch->bells_len);
		if (ch->dev_fd >= 0)
			close(ch->dev_fd);
	} else {
		ace_host_close(&ch->host);
	}
	if (ch->epfd >= 0)
		close(ch->epfd);
	pthread_mutex_destroy(&ch->lock);
	pthread_mutex_destroy(&ch->dev_lock);
	pthread_mutex_destroy(&ch->err_lock);
	free(ch);
}

/* ---- mprocs ---- */

static inline int stale(struct ace_mp *mp, const struct ace_inc *in);

/* Host: is incarnation `in` of the mproc of the channel's arena now?
 * (Guest: always.) */
static inline int in_current(const struct ace_mp *mp, const struct ace_inc *in)
{
	return in->epoch == ace_read_once(&mp->ch->host.epoch);
}

/* Host: read what the device sent, without waiting, unless another
 * thread is reading it (then 1: that thread does).  0, 1 or -errno. */
static int device_peek(struct ace *ch)
{
	int r;

	if (pthread_mutex_trylock(&ch->dev_lock))
		return 1;
	r = ace_host_process(&ch->host, 0);
	pthread_mutex_unlock(&ch->dev_lock);
	return r;
}

/* A core error on an mproc call in incarnation `in`: -ESTALE (-ENOTCONN)
 * if its arena went meanwhile.  Host: a broken arena may be the guest
 * formatting its next one in the same memory, its DETACH already on the
 * socket: read what is there first (unless another thread is reading),
 * so that is not reported as the guest's attack. */
static int ace_noinline mp_err(struct ace_mp *mp, const struct ace_inc *in,
			       int r, const char *what)
{
	if (r == -EIO && !mp->ch->guest && in_current(mp, in))
		(void)device_peek(mp->ch);
	if (!in_current(mp, in))
		return stale(mp, in);
	return core_err(mp->ch, in->a, r, what);
}

int ace_mp_create(struct ace *ch, const char *name, unsigned mode,
		  struct ace_mp **mpp)
{
	struct ace_arena *a;
	struct ace_inc *in;
	struct ace_mp *mp;
	u32 id;
	int r;

	*mpp = NULL;
	if (mode > ACE_MODE_ADAPTIVE)
		return seterr(ch, EINVAL, "mode %u is not poll, interrupt or adaptive", mode);
	r = arena_get(ch, &a);
	if (r)
		return r;
	if (ch->guest) {
		struct ace_ioc_open o = { .flags = ACE_OPEN_CREATE, .mode = mode };

		if (strlen(name) >= ACE_NAME_MAX)
			return seterr(ch, EINVAL, "name too long: %s", name);
		strcpy(o.name, name);
		if (ioctl(ch->dev_fd, ACE_IOC_OPEN, &o))
			return ioctl_err(ch, name, errno);
		id = o.id;
	} else {
		r = ace_mproc_claim(a, name, ACE_SIDE(ACE_SIDE_HOST, ch->host.peer),
				    mode, &id);
		if (r) {
			r = core_err(ch, a, r, name);
			arena_put(ch, a);
			return r;
		}
		ace_mproc_at(a, ACE_ID_SLOT(id))->pid = (u32)getpid();
	}
	mp = calloc(1, sizeof(*mp));
	in = calloc(1, sizeof(*in));
	if (!mp || !in) {
		free(mp);
		free(in);
		if (ch->guest)
			(void)!ioctl(ch->dev_fd, ACE_IOC_CLOSE, &id);
		else
			ace_mproc_release(a, id);
		arena_put(ch, a);
		return -ENOMEM;
	}
	in->a = a;		/* the reference arena_get() took is the mproc's */
	in->refs = 1;		/* the mproc's */
	mp->in = in;
	mp->ch = ch;
	snprintf(mp->name, sizeof(mp->name), "%s", name);
	in->id = id;
	mp->mode = mode;
	mp->spin_us = DEFAULT_SPIN_US;
	in->epoch = ch->guest ? 0 : host_arena(a)->epoch;
	mp->efd = -1;
	ace_rx_init(&in->rx, id);
	ace_cache_init(&in->cache, id);
	if (!ch->guest) {
		mp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (mp->efd < 0) {
			r = seterr(ch, errno, "eventfd: %s", strerror(errno));
			ace_mproc_release(a, id);
			arena_put(ch, a);
			free(in);
			free(mp);
			return r;
		}
	}
	pthread_mutex_lock(&ch->lock);
	mp->next = ch->mprocs;
	ch->mprocs = mp;
	pthread_mutex_unlock(&ch->lock);
	*mpp = mp;
	return 0;
}

int ace_mp_close(struct ace_mp *mp)
{
	struct ace *ch = mp->ch;
	struct ace_inc *in;
	struct ace_mp **pp;
	int r = 0;

	pthread_mutex_lock(&ch->lock);
	for (pp = &ch->mprocs; *pp; pp = &(*pp)->next) {
		if (*pp == mp) {
			*pp = mp->next;
			break;
		}
	}
	pthread_mutex_unlock(&ch->lock);
	/* off the list: recreate() no longer swaps it */
	in = mp->in;
	/* An arena that is gone keeps nothing of ours to give back (and
	 * one that goes meanwhile is broken: the core touches nothing). */
	if (in_current(mp, in))
		ace_cache_drain(in->a, &in->cache);
	if (ch->guest) {
		u32 id = in->id;

		if (ioctl(ch->dev_fd, ACE_IOC_CLOSE, &id))
			r = ioctl_err(ch, "close", errno);
	} else if (in_current(mp, in)) {
		s64 n = ace_mproc_release(in->a, in->id);

		if (n < 0 && in_current(mp, in))
			r = core_err(ch, in->a, (int)n, "close");
	}
	if (mp->efd >= 0)
		close(mp->efd);
	inc_put(ch, in);
	inc_put(ch, mp->old_in);
	free(mp);
	return r;
}

uint32_t ace_mp_id(const struct ace_mp *mp)
{
	return mp_in(mp)->id;
}

struct ace *ace_mp_channel(const struct ace_mp *mp)
{
	return mp->ch;
}

int ace_mp_set_mode(struct ace_mp *mp, unsigned mode, unsigned spin_us)
{
	struct ace_inc *in = mp_in(mp);
	int r;

	if (mode > ACE_MODE_ADAPTIVE)
		return seterr(mp->ch, EINVAL, "bad mode %u", mode);
	if ((r = stale(mp, in)))
		return r;
	mp->mode = mode;
	mp->spin_us = spin_us ? spin_us : DEFAULT_SPIN_US;
	/* its slot is in its own arena's table (checked when claimed) */
	ace_store(&ace_mproc_at(in->a, ACE_ID_SLOT(in->id))->mode, mode,
		  ACE_RELAXED);
	return 0;
}

int ace_lookup(struct ace *ch, const char *name, int timeout_ms, uint32_t *id)
{
	s64 deadline = now_ns() + (s64)timeout_ms * 1000000;
	struct ace_arena *a;
	int r;

	r = arena_get(ch, &a);
	if (r)
		return r;
	while ((r = ace_mproc_lookup(a, name, id)) == -ENOENT &&
	       now_ns() < deadline) {
		usleep(5000);
		if (ch->guest || pthread_mutex_trylock(&ch->dev_lock))
			continue;
		/* the wait also ends when the device or the arena goes */
		r = ace_host_process(&ch->host, 0);
		pthread_mutex_unlock(&ch->dev_lock);
		if (r < 0 && host_dead(ch)) {
			r = seterr(ch, EPIPE, "%s", ch->host.err);
			goto out;
		}
		if (host_arena(a)->epoch != ch->host.epoch) {
			r = stale_err(ch);
			goto out;
		}
	}
	if (r)
		r = core_err(ch, a, r, name);
out:
	arena_put(ch, a);
	return r;
}

int ace_slot_name(struct ace *ch, uint32_t slot, char name[48], uint32_t *id)
{
	struct ace_arena *a;
	int r = arena_get(ch, &a);

	if (r)
		return r;
	r = ace_mproc_name(a, slot, name, id);
	arena_put(ch, a);
	return r;
}

int ace_name_of(struct ace *ch, uint32_t id, char name[48])
{
	struct ace_arena *a;
	u32 now;
	int r = arena_get(ch, &a);

	if (r)
		return r;
	if (ace_mproc_check(a, id) ||
	    ace_mproc_name(a, ACE_ID_SLOT(id), name, &now) || now != id)
		r = -ENOENT;
	arena_put(ch, a);
	return r;
}

/* ---- messages ---- */

/*
 * Host: the arena the handle was made in is gone: the guest detached it
 * or attached another (taken or refused), or the connection broke.  The
 * handle must not touch the arena again (its memory may be unmapped or
 * hold another arena); -ESTALE, with the event in words.
 */
static int ace_noinline stale_err(struct ace *ch)
{
	const char *todo;

	if (ch->flags & ACE_PERSIST) {
		if (host_dead(ch))
			return seterr(ch, EPIPE, "%s: QEMU is gone (or the device "
				      "failed): close the channel", ch->host.event);
		return seterr(ch, ENOTCONN, "%s: the guest may come back: this "
			      "mproc is created again when it attaches its next arena "
			      "(wait for ACE_SVC_REATTACHED)", ch->host.event);
	}
	if (host_dead(ch))
		todo = "close the channel and open it again";
	else if (ch->host.attached)
		todo = "close this mproc and create it again";
	else
		todo = "close this mproc; create it again after ACE_SVC_ATTACHED";
	return seterr(ch, ESTALE, "made in an arena that is gone: %s: %s",
		      ch->host.event, todo);
}

/*
 * Host: a call on the channel (create, lookup, names) finds no arena: the
 * guest detached it, or its arena was refused, or the connection broke.
 * The error is stale_err()'s (-ENOTCONN or -EPIPE with ACE_PERSIST,
 * else -ESTALE); the words are for a channel, not for an mproc.
 */
static int ace_noinline no_arena_err(struct ace *ch)
{
	int err = ch->flags & ACE_PERSIST ? ENOTCONN : ESTALE;

	if (host_dead(ch))
		return seterr(ch, ch->flags & ACE_PERSIST ? EPIPE : ESTALE,
			      "%s: QEMU is gone (or the device failed): close the "
			      "channel", ch->host.event);
	return seterr(ch, err, "%s: no arena now (the guest is away): retry after %s",
		      ch->host.event, ch->flags & ACE_PERSIST ?
		      "ACE_SVC_REATTACHED (or ACE_SVC_ATTACHED)" : "ACE_SVC_ATTACHED");
}

/* Host: every arena event moves the epoch (a guest channel's stays 0,
 * as do its mprocs'), so an mproc of the current epoch is of the arena
 * attached now.  Finding it so is no promise for later: whatever the
 * mproc does next it does on its own arena (in->a), gone or not. */
static int ace_noinline lost_err(struct ace_mp *mp)
{
	struct ace *ch = mp->ch;
	int lost = __atomic_load_n(&mp->lost, __ATOMIC_RELAXED);

	if (!lost || host_dead(ch) || !ch->host.attached)
		return stale_err(ch);
	return seterr(ch, ENOTCONN, "%s could not be created again in the guest's "
		      "new arena: %s%s; ace_service() tries again", mp->name,
		      strerror(-lost), lost == -EEXIST ?
		      " (another mproc has its name)" : "");
}

static inline int stale(struct ace_mp *mp, const struct ace_inc *in)
{
	if (ace_likely(in_current(mp, in)))
		return 0;
	return lost_err(mp);
}

/*
 * A loop that never sleeps on the device (a polling receiver, a sender
 * that never receives) must still notice it going away: QEMU exited, the
 * guest detached its arena (and may soon reuse its pages), the driver
 * lost the device.  Every (mask + 1) calls, and if HOST_CHECK_NS (host) or
 * GUEST_CHECK_NS (guest) passed, look: the host reads the device socket
 * without waiting, the guest asks the driver.  0 or -errno.
 */
static int ace_noinline device_look(struct ace_mp *mp)
{
	struct ace *ch = mp->ch;
	struct ace_ioc_info info;
	s64 t;
	int r, s;

	t = now_ns();
	if (t - mp->checked < (ch->guest ? GUEST_CHECK_NS : HOST_CHECK_NS))
		return 0;
	mp->checked = t;
	if (ch->guest)
		return ioctl(ch->dev_fd, ACE_IOC_INFO, &info) ?
		       ioctl_err(ch, "device", errno) : 0;
	r = device_peek(ch);
	if (r > 0)
		return 0;	/* another thread is reading the socket */
	if (r < 0 && host_dead(ch))
		return seterr(ch, EPIPE, "%s", ch->host.err);
	s = stale(mp, mp_in(mp));
	if (s)
		return s;
	return r < 0 ? seterr(ch, -r, "%s", ch->host.err) : 0;
}

static inline int device_check(struct ace_mp *mp, u32 mask)
{
	if (ace_likely(++mp->polls & mask))
		return 0;
	return device_look(mp);
}

int ace_mp_alloc(struct ace_mp *mp, size_t len, struct ace_buf *b)
{
	struct ace_inc *in = mp_in(mp);
	struct ace_arena *a = in->a;
	const struct ace_class *k;
	s64 off;
	int r;

	/* no device_check() here: a block is only of use once sent, and
	 * ace_mp_send() looks */
	if (ace_unlikely(r = stale(mp, in)))
		return r;
	if (ace_unlikely(len > UINT32_MAX))
		return seterr(mp->ch, EINVAL, "%zu bytes is too large", len);
	off = ace_cache_alloc(a, &in->cache, (u32)len);
	if (ace_unlikely(off < 0))
		return mp_err(mp, in, (int)off, "alloc");
	/* the core returned a checked handle: its class is in it */
	k = &a->cls[ACE_HANDLE_CLASS((u32)off)];
	b->off = (u32)off;
	b->len = (u32)len;
	b->cap = k->payload_max;
	b->data = ace_payload(a, (u32)off);
	b->src = in->id;
	b->type = b->tag = 0;
	return 0;
}

/* Host: a buffer of an arena that is gone, given to an mproc of another
 * one: its data pointer is not where this arena keeps that handle's
 * payload (the old arena's memory stays mapped, as its placeholder, as
 * long as its incarnation lives, so no later arena is mapped there; with
 * ACE_PERSIST that ends at the second re-attach, and usage.md says to
 * forget such buffers).  The
 * core checks the handle itself, and that the mproc holds its block. */
static int ace_noinline foreign_buf(struct ace_mp *mp)
{
	return seterr(mp->ch, ESTALE, "the buffer is not of this mproc's arena "
		      "(it is of an arena that is gone, or was changed): drop it");
}

static inline int buf_foreign(const struct ace_inc *in, const struct ace_buf *b)
{
	const struct ace_arena *a = in->a;

	return ace_unlikely((uintptr_t)b->data !=
			    (uintptr_t)a->base + ace_payload_off(a, b->off));
}

/* Host: the core refused to send or free b (-EINVAL): "not a block the
 * caller holds".  Whose doing?  Only the guest writes a header we hold
 * (a receive or an alloc made the block ours), so a block whose owner
 * word still names this mproc is the guest's doing, and the arena is
 * broken (-EIO, the device told), unless its state is one the caller's
 * own mistake can leave there: ALLOC (held, refused for another reason),
 * CACHED and in this mproc's own cache (already freed: a double free,
 * or a send after free; the cache is private), QUEUED to this mproc
 * (sent to itself already, or sent on and sent back since: a buffer
 * kept after its send).  A guest can fake that last one, and gets the
 * caller's -EINVAL for it; telling them apart would take a walk of the
 * inbox.  Any other refusal, a block another owns included, stays the
 * caller's -EINVAL. */
static int ace_noinline held_changed(struct ace_inc *in, const struct ace_buf *b,
				     int send)
{
	struct ace_arena *a = in->a;
	u32 cap = ace_block_capacity(a, b->off);	/* 0: not a block */
	const struct ace_cache *c = &in->cache;
	u32 k = ACE_HANDLE_CLASS(b->off), i;
	struct ace_msg *m;
	u32 flags;

	if (!cap || (send && b->len > cap))
		return -EINVAL;
	m = ace_msg(a, b->off);
	flags = ace_read_once(&m->flags);
	if (ace_read_once(&m->owner) != in->id || flags == ACE_MSG_ALLOC)
		return -EINVAL;
	if (flags == ACE_MSG_CACHED)
		for (i = 0; i < c->n[k]; i++)
			if (c->off[k][i] == b->off)
				return -EINVAL;
	if (flags == ACE_MSG_QUEUED && ace_read_once(&m->dst) == in->id)
		return -EINVAL;
	return ace_arena_break(a, "the flags of a block this peer holds were "
			       "changed under it", flags);
}

int ace_mp_free(struct ace_mp *mp, struct ace_buf *b)
{
	struct ace_inc *in = mp_in(mp);
	int r;

	if (ace_unlikely(r = stale(mp, in)))
		return r;
	if (buf_foreign(in, b))
		return foreign_buf(mp);
	r = ace_cache_free(in->a, &in->cache, b->off);
	if (ace_likely(r == 0))
		return 0;
	if (r == -EINVAL && !mp->ch->guest)
		r = held_changed(in, b, 0);
	return mp_err(mp, in, r, "free");
}

/* Host: wake an mproc of ours whose pending bit is set, if deliverable. */
static void host_dispatch(struct ace *ch)
{
	struct ace_mp *mp;
	u64 one = 1;

	if (!ch->host.attached)
		return;
	pthread_mutex_lock(&ch->lock);
	for (mp = ch->mprocs; mp; mp = mp->next) {
		struct ace_inc *in = mp_in(mp);
		struct ace_arena *a = in->a;
		u32 slot = ACE_ID_SLOT(in->id);

		if (!in_current(mp, in))
			continue;	/* of an arena that is gone */
		if (!(ace_pending_peek(a, slot / 64) & (1ull << (slot % 64))))
			continue;
		if (ace_delivery(a, slot, NULL) != ACE_DELIVER_NOW)
			continue;
		ace_pending_clear(a, slot);
		ace_count_shared(&ace_mproc_at(a, slot)->c.wakeups, 1);
		if (write(mp->efd, &one, sizeof(one)) < 0)
			continue;
	}
	pthread_mutex_unlock(&ch->lock);
}

/* After ace_send() said "notify": ring the receiver's side. */
static int notify(struct ace_mp *mp, const struct ace_inc *in, u32 dst)
{
	struct ace *ch = mp->ch;
	u32 side;

	if (ch->guest) {
		struct ace_ioc_notify n = { .dst = dst };

		/* a host peer's mproc: its doorbell page, if mapped (the
		 * side word is the peer's to write: a lie rings another
		 * peer, or leaves the kernel to find the mproc) */
		if (ch->bells) {
			side = ace_read_once(&ace_mproc_at(in->a, ACE_ID_SLOT(dst))->side);
			if (ACE_SIDE_KIND(side) == ACE_SIDE_HOST &&
			    ACE_SIDE_PEER(side) < ch->nr_bells) {
				ring_bell(ch, ACE_SIDE_PEER(side));
				return 0;
			}
		}
		if (ioctl(ch->dev_fd, ACE_IOC_NOTIFY, &n))
			return ioctl_err(ch, "notify", errno);
		return 0;
	}
	/* the send checked dst's slot against this arena's table */
	side = ace_read_once(&ace_mproc_at(in->a, ACE_ID_SLOT(dst))->side);
	if (side == ACE_SIDE(ACE_SIDE_HOST, ch->host.peer)) {
		host_dispatch(ch);	/* one of ours: no device round trip */
		return 0;
	}
	return ace_host_raise(&ch->host) ? seterr(ch, EPIPE, "%s", ch->host.err) : 0;
}

int ace_mp_send(struct ace_mp *mp, uint32_t dst, struct ace_buf *b)
{
	struct ace_inc *in;
	int r = device_check(mp, 63);

	if (ace_unlikely(r < 0))
		return r;
	in = mp_in(mp);
	if (ace_unlikely(r = stale(mp, in)))
		return r;
	if (buf_foreign(in, b))
		return foreign_buf(mp);
	/* The core checks the handle, and that the block is ours, before
	 * it writes a word of the header. */
	r = ace_send_msg(in->a, in->id, dst, b->off, b->len, b->type, b->tag);
	if (ace_likely(r == 0))
		return 0;
	if (r == -EINVAL && !mp->ch->guest)
		r = held_changed(in, b, 1);
	if (r < 0)
		return mp_err(mp, in, r, "send");
	return notify(mp, in, dst);
}

/* Sleep until notified, mail is seen, or the deadline (0: none) passes. */
static int wait_host(struct ace_mp *mp, struct ace_inc *in, s64 deadline)
{
	struct ace *ch = mp->ch;
	struct pollfd p[4] = {
		{ .fd = mp->efd, .events = POLLIN },
		{ .fd = ch->host.kick_fd, .events = POLLIN },
		{ .fd = ch->host.sock, .events = POLLIN },
		{ .fd = ch->host.bell_fd, .events = POLLIN },	/* -1: none */
	};
	int ms = -1, r, s;
	u64 v;

	r = ace_arm(in->a, &in->rx);
	if (r) {
		ace_disarm(in->a, &in->rx);
		return r < 0 ? mp_err(mp, in, r, "arm") : 0;
	}
	if (deadline) {
		s64 left = deadline - now_ns();

		ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
	}
	/* The notify word and the pending bit that decide whether we are
	 * woken live in guest memory: a hostile guest can set the bit or
	 * clear ARMED and so swallow every wake-up.  Look at the inbox
	 * every HOST_RECHECK_MS anyway: such a guest costs latency, never
	 * a hang. */
	if (ms < 0 || ms > HOST_RECHECK_MS)
		ms = HOST_RECHECK_MS;
	r = poll(p, 4, ms);
	/* A doorbell may be for us: dispatch it while still armed, so that
	 * our wake-up is counted as when another thread dispatches it (and
	 * our eventfd, written then, is read below).  Under the lock: a
	 * kick fd at EOF ends the connection. */
	if (r > 0 && ((p[1].revents & (POLLIN | POLLHUP)) || p[3].revents)) {
		pthread_mutex_lock(&ch->dev_lock);
		ace_host_take_kicks(&ch->host);
		pthread_mutex_unlock(&ch->dev_lock);
		if (!host_dead(ch)) {
			host_dispatch(ch);
			p[0].revents |= POLLIN;
		}
	}
	ace_disarm(in->a, &in->rx);	/* its own arena's slot, gone or not */
	if (host_dead(ch))
		return seterr(ch, EPIPE, "%s", ch->host.err);
	if (r < 0 && errno != EINTR)
		return seterr(ch, errno, "poll: %s", strerror(errno));
	if (p[0].revents & POLLIN)
		(void)!read(mp->efd, &v, sizeof(v));
	if (p[2].revents & (POLLIN | POLLHUP)) {
		pthread_mutex_lock(&ch->dev_lock);
		r = ace_host_process(&ch->host, 0);
		pthread_mutex_unlock(&ch->dev_lock);
		if (r < 0 && host_dead(ch))
			return seterr(ch, EPIPE, "%s", ch->host.err);
		s = stale(mp, in);
		if (s)
			return s;
		if (r < 0)
			return seterr(ch, -r, "%s", ch->host.err);
	}
	return 0;
}

static int wait_guest(struct ace_mp *mp, struct ace_inc *in, s64 deadline)
{
	struct ace_ioc_wait w = { .id = in->id, .timeout_ns = ~0ull };

	if (deadline) {
		s64 left = deadline - now_ns();

		w.timeout_ns = left > 0 ? (u64)left : 0;
	}
	if (ioctl(mp->ch->dev_fd, ACE_IOC_WAIT, &w) && errno != ETIMEDOUT &&
	    errno != EINTR)
		return ioctl_err(mp->ch, "wait", errno);
	return 0;
}

/* Is the mproc's own inbox closed?  (Its slot is in its arena's table:
 * checked when it was claimed.) */
static int inbox_closed(const struct ace_inc *in)
{
	return ace_load(&ace_mproc_at(in->a, ACE_ID_SLOT(in->id))->inbox,
			ACE_RELAXED) == ACE_INBOX_CLOSED;
}

/* Wait for mail by the mproc's mode.  0 when mail may be there (or the
 * deadline passed), -errno on failure. */
static int wait_mail(struct ace_mp *mp, struct ace_inc *in, s64 deadline)
{
	struct ace *ch = mp->ch;

	if (mp->mode != ACE_MODE_INTERRUPT) {
		s64 spin_end = mp->mode == ACE_MODE_POLL ? deadline :
			       now_ns() + (s64)mp->spin_us * 1000;

		s64 closed_at = 0, t;

		if (deadline && spin_end > deadline)
			spin_end = deadline;
		do {
			int r;

			if (ace_spin_mail(in->a, &in->rx, 4096))
				return 0;
			/* A closed inbox is no mail to the spin.  A guest
			 * formatting its next arena closes every slot, and
			 * the device's DETACH may still be on its way: the
			 * device look below ends the wait then.  Closed for
			 * CLOSED_GRACE_NS in an arena still current, it is a
			 * peer's doing: the caller's receive says so (-EIO);
			 * a polling wait for ever would spin on for ever. */
			if (inbox_closed(in)) {
				t = now_ns();
				if (!closed_at)
					closed_at = t;
				else if (t - closed_at >= CLOSED_GRACE_NS)
					return 0;
			} else {
				closed_at = 0;
			}
			r = device_check(mp, 0);
			if (r < 0)
				return r;
			/* created again meanwhile: the caller looks there */
			if (__atomic_load_n(&mp->in, __ATOMIC_RELAXED) != in)
				return 0;
		} while (!spin_end || now_ns() < spin_end);
		if (mp->mode == ACE_MODE_POLL)
			return 0;
	}
	return ch->guest ? wait_guest(mp, in, deadline) : wait_host(mp, in, deadline);
}

/* A received message, as its descriptor says. */
static inline void buf_set(struct ace_buf *b, const struct ace_arena *a,
			   const struct ace_msg_desc *d)
{
	b->data = a->base + d->data;
	b->len = d->len;
	b->cap = d->cap;
	b->off = d->off;
	b->src = d->src;
	b->type = d->type;
	b->tag = d->tag;
}

/* Take what is there into b[got..n): how many now, or -errno. */
static inline int recv_now(struct ace_mp *mp, struct ace_inc *in,
			   struct ace_buf *b, int got, int n)
{
	struct ace_arena *a = in->a;
	struct ace_msg_desc d;
	int r = 0;

	while (got < n && (r = ace_recv(a, &in->rx, &d)) == 1)
		buf_set(&b[got++], a, &d);
	if (got)
		return got;
	return ace_unlikely(r < 0) ? mp_err(mp, in, r, "recv") : 0;
}

/* Nothing there: wait for it by the mproc's mode.  `pin` (ace_mp_call()):
 * only that incarnation will do; 0 once the mproc has another. */
static int ace_noinline
recv_wait(struct ace_mp *mp, struct ace_buf *b, int n, int64_t timeout_ns,
	  const struct ace_inc *pin)
{
	s64 deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0;
	struct ace_inc *in;
	int r;

	for (;;) {
		if (deadline && now_ns() >= deadline)
			return 0;
		/* held across the wait (a call holds its own) */
		in = pin ? (struct ace_inc *)pin : inc_get(mp);
		r = wait_mail(mp, in, deadline);
		if (!pin)
			inc_put(mp->ch, in);
		if (r < 0)
			return r;
		r = device_check(mp, 63);
		if (r < 0)
			return r;
		/* the incarnation now (one made while we slept will do) */
		in = mp_in(mp);
		if (pin && in != pin)
			return 0;
		if ((r = stale(mp, in)))
			return r;
		r = recv_now(mp, in, b, 0, n);
		if (r)
			return r;
	}
}

/*
 * Nothing there, and the caller waits for it.  A polling caller waits for
 * a reply, which is a round trip away: look at the inbox word RECV_SPINS
 * times first, inline, with no clock read and no call (recv_wait() reads
 * the clock twice before it looks).  Not under a short timeout, which
 * the spin could overrun; an arena replaced meanwhile goes the long way,
 * which says so.
 */
static int ace_noinline
recv_spin(struct ace_mp *mp, struct ace_inc *in, struct ace_buf *b,
	  int64_t timeout_ns)
{
	struct ace_arena *a = in->a;
	struct ace_msg_desc d;
	int r;

	if (mp->mode != ACE_MODE_INTERRUPT &&
	    (timeout_ns < 0 || timeout_ns >= RECV_SPIN_MIN_NS) &&
	    ace_spin_mail(a, &in->rx, RECV_SPINS) && ace_likely(in_current(mp, in))) {
		r = ace_recv(a, &in->rx, &d);
		if (ace_likely(r == 1)) {
			buf_set(b, a, &d);
			return 1;
		}
		if (r < 0)
			return mp_err(mp, in, r, "recv");
	}
	return recv_wait(mp, b, 1, timeout_ns, NULL);
}

int ace_mp_recv_batch(struct ace_mp *mp, struct ace_buf *b, int n,
		   int64_t timeout_ns)
{
	struct ace_inc *in;
	int r = device_check(mp, 63);

	if (ace_unlikely(r < 0))
		return r;
	in = mp_in(mp);
	if (ace_unlikely(r = stale(mp, in)))
		return r;
	r = recv_now(mp, in, b, 0, n);
	if (r || timeout_ns == ACE_NOWAIT)
		return r;
	return recv_wait(mp, b, n, timeout_ns, NULL);
}

int ace_mp_recv(struct ace_mp *mp, struct ace_buf *b, int64_t timeout_ns)
{
	struct ace_inc *in = mp_in(mp);
	struct ace_arena *a = in->a;
	struct ace_msg_desc d;
	int r;

	/* the device look every 64 calls, or an arena replaced: the long way */
	if (ace_unlikely(!(++mp->polls & 63) || !in_current(mp, in))) {
		mp->polls--;
		return ace_mp_recv_batch(mp, b, 1, timeout_ns);
	}
	r = ace_recv(a, &in->rx, &d);
	if (ace_likely(r == 1)) {
		buf_set(b, a, &d);
		return 1;
	}
	if (r < 0)
		return mp_err(mp, in, r, "recv");
	if (timeout_ns == ACE_NOWAIT)
		return 0;
	return recv_spin(mp, in, b, timeout_ns);
}

/* ---- request and reply ---- */

/* Call tags: one counter for the process, so a tag is never reused by an
 * mproc until 2^32 calls later (0 is skipped: a fresh block's tag). */
static u32 call_tags;

/* Put the messages ace_mp_call() took meanwhile back, newest first, so
 * the next receives return them in the order they came. */
static int call_unget(struct ace_mp *mp, struct ace_inc *in, const u32 *held,
		      u32 n)
{
	int r = 0, e;

	while (n--) {
		e = ace_recv_unget(in->a, &in->rx, held[n]);
		if (e && !r)
			r = mp_err(mp, in, e, "call: keep a message");
	}
	return r;
}

/* One receive of ace_mp_call(), in incarnation `in` only: what is there,
 * a spin as ace_mp_recv() spins, then a wait that ends (0) once the mproc
 * is another incarnation. */
static int call_recv(struct ace_mp *mp, struct ace_inc *in, struct ace_buf *b,
		     int64_t wait)
{
	int r = stale(mp, in);

	if (r)
		return r;
	r = recv_now(mp, in, b, 0, 1);
	if (r || wait == ACE_NOWAIT)
		return r;
	if (mp->mode != ACE_MODE_INTERRUPT && (wait < 0 || wait >= RECV_SPIN_MIN_NS) &&
	    ace_spin_mail(in->a, &in->rx, RECV_SPINS)) {
		r = recv_now(mp, in, b, 0, 1);
		if (r)
			return r;
	}
	return recv_wait(mp, b, 1, wait, in);
}

int ace_mp_call(struct ace_mp *mp, uint32_t dst, struct ace_buf *req,
		struct ace_buf *reply, int64_t timeout_ns)
{
	s64 deadline = timeout_ns > 0 ? now_ns() + timeout_ns : 0, wait;
	u32 local[32], *held = local, *more, cap = 32, n = 0, tag;
	/* The incarnation the request goes out in, referenced for the
	 * whole call (its wait may outlast two re-attaches): the call
	 * receives there only, and what it keeps goes back there. */
	struct ace_inc *in = inc_get(mp);
	struct ace_buf b;
	int r, k;

	if (!__atomic_load_n(&call_tags, __ATOMIC_RELAXED)) {
		/* a start of the process's own: tags of two processes calling
		 * one service then seldom meet (the reply is matched on its
		 * sender too) */
		u32 zero = 0, seed = ((u32)getpid() * 2654435761u) ^ (u32)now_ns();

		__atomic_compare_exchange_n(&call_tags, &zero, seed | 1, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	do
		tag = __atomic_add_fetch(&call_tags, 1, __ATOMIC_RELAXED);
	while (!tag);
	req->tag = tag;
	r = ace_mp_send(mp, dst, req);
	if (r < 0) {
		inc_put(mp->ch, in);
		return r;	/* the caller still holds req */
	}
	for (;;) {
		wait = timeout_ns;
		if (deadline) {
			wait = deadline - now_ns();
			if (wait <= 0)
				wait = ACE_NOWAIT;	/* what is there already */
		}
		r = call_recv(mp, in, &b, wait);
		if (ace_unlikely(mp_in(mp) != in) &&
		    (r >= 0 || r == -ENOTCONN || r == -ESTALE)) {
			/* ACE_PERSIST: the mproc was created again in the
			 * guest's next arena meanwhile.  The request, its
			 * reply and what we kept went with the arena before
			 * (what the new one has waits for the next receive). */
			r = seterr(mp->ch, ENOTCONN, "call: the guest attached a new "
				   "arena during the call: the request went with the "
				   "one before (look the service up and call again)");
			n = 0;
			break;
		}
		/* the reply: our tag, from the mproc we called (a tag alone
		 * could be another process's, forwarded or sent to us) */
		if (r <= 0 || (b.tag == tag && b.src == dst))
			break;
		/* Not the reply: keep it for the next receive. */
		if (n == cap) {
			more = held == local ? malloc(2 * cap * sizeof(*held)) :
			       realloc(held, 2 * cap * sizeof(*held));
			if (!more) {
				/* the newest goes back first: order kept */
				(void)ace_recv_unget(in->a, &in->rx, b.off);
				r = seterr(mp->ch, ENOMEM, "call: no memory to keep "
					   "the messages that came before the reply");
				break;
			}
			if (held == local)
				memcpy(more, local, sizeof(local));
			held = more;
			cap *= 2;
		}
		held[n++] = b.off;
	}
	/* Gone with their arena (-EPIPE, -EIO, -ESTALE, -ENOTCONN, or -ENODEV: the
	 * device unplugged, its mapping gone): nothing to put back. */
	if (r != -EPIPE && r != -EIO && r != -ESTALE && r != -ENOTCONN &&
	    r != -ENODEV) {
		k = call_unget(mp, in, held, n);
		if (k < 0 && r >= 0) {
			if (r == 1)
				ace_mp_free(mp, &b);
			r = k;
		}
	}
	inc_put(mp->ch, in);
	if (held != local)
		free(held);
	if (r == 1)
		*reply = b;
	return r;
}

/* ---- sections and event loops ---- */

int ace_mp_section_begin(struct ace_mp *mp)
{
	struct ace_inc *in = mp_in(mp);
	int r = stale(mp, in);

	if (r)
		return r;
	r = ace_section_begin(in->a, &in->rx);
	return r ? mp_err(mp, in, r, "section begin") : 0;
}

int ace_mp_section_end(struct ace_mp *mp)
{
	struct ace_inc *in = mp_in(mp);
	int r = stale(mp, in);

	if (r)
		return r;
	r = ace_section_end(in->a, &in->rx);
	return r < 0 ? mp_err(mp, in, r, "section end") : r;
}

int ace_mp_fd(struct ace_mp *mp)
{
	struct ace *ch = mp->ch;
	struct ace_ioc_eventfd e;

	if (mp->efd >= 0)
		return mp->efd;
	mp->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mp->efd < 0)
		return seterr(ch, errno, "eventfd: %s", strerror(errno));
	e.id = mp_in(mp)->id;
	e.fd = mp->efd;
	if (ioctl(ch->dev_fd, ACE_IOC_EVENTFD, &e)) {
		int err = errno;

		close(mp->efd);
		mp->efd = -1;
		return seterr(ch, err, "bind eventfd: %s", strerror(err));
	}
	return mp->efd;
}

/* Host: take the kicks waiting for our peer and dispatch them.  Under
 * the device lock, as every reader of the device's fds: a kick socket at
 * EOF ends the connection, which no two threads may do at once. */
static void take_kicks(struct ace *ch)
{
	u64 kicks;

	if (ch->guest)
		return;
	pthread_mutex_lock(&ch->dev_lock);
	kicks = ace_host_take_kicks(&ch->host);
	pthread_mutex_unlock(&ch->dev_lock);
	if (kicks)
		host_dispatch(ch);
}

int ace_mp_arm(struct ace_mp *mp)
{
	struct ace_inc *in = mp_in(mp);
	int r;

	if ((r = stale(mp, in)))
		return r;
	r = ace_arm(in->a, &in->rx);
	if (r < 0)
		return mp_err(mp, in, r, "arm");
	/* Host: a kick may be waiting for our peer; dispatch it so the fd
	 * of whichever mproc it was for becomes readable. */
	take_kicks(mp->ch);
	return r;
}

int ace_mp_disarm(struct ace_mp *mp)
{
	struct ace_inc *in = mp_in(mp);
	int r;

	if ((r = stale(mp, in)))
		return r;
	r = ace_disarm(in->a, &in->rx);
	return r ? mp_err(mp, in, r, "disarm") : 0;
}

void ace_mp_fd_ack(struct ace_mp *mp)
{
	u64 v;

	if (mp->efd >= 0)
		(void)!read(mp->efd, &v, sizeof(v));
	take_kicks(mp->ch);
}

/* ---- whole-channel event loops ---- */

int ace_fd(struct ace *ch)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (ch->guest)
		return ch->dev_fd;
	if (ch->epfd >= 0)
		return ch->epfd;
	ch->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ch->epfd < 0)
		return seterr(ch, errno, "epoll: %s", strerror(errno));
	ev.data.fd = ch->host.kick_fd;
	if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->host.kick_fd, &ev))
		goto fail;
	ev.data.fd = ch->host.sock;
	if (epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->host.sock, &ev))
		goto fail;
	ev.data.fd = ch->host.bell_fd;
	if (ch->host.bell_fd >= 0 &&
	    epoll_ctl(ch->epfd, EPOLL_CTL_ADD, ch->host.bell_fd, &ev))
		goto fail;
	return ch->epfd;
fail:
	close(ch->epfd);
	ch->epfd = -1;
	return seterr(ch, errno, "epoll_ctl: %s", strerror(errno));
}

/*
 * ACE_PERSIST: create the channel's mprocs that are not of the current
 * arena again in it, same name and mode.  Each takes a reference to the
 * new arena and keeps the one before (see struct ace_mp), and its epoch
 * moves last, so another thread that finds it current finds it whole.
 * Returns how many were created; ch->lost counts those that could not be
 * (0 when the arena went again meanwhile: the next one creates them all).
 */
static int recreate(struct ace *ch)
{
	struct ace_arena *a = arena_pin(ch);
	struct ace_inc *in;
	struct ace_mp *mp;
	int made = 0, r;
	u64 epoch;
	u32 id;

	ch->lost = 0;
	ch->retry_at = now_ns() + RECREATE_RETRY_NS;
	if (!a)
		return 0;	/* gone again: the next arena will do */
	epoch = host_arena(a)->epoch;
	pthread_mutex_lock(&ch->lock);
	for (mp = ch->mprocs; mp; mp = mp->next) {
		if (mp->in->epoch == epoch)
			continue;
		r = ace_mproc_claim(a, mp->name, ACE_SIDE(ACE_SIDE_HOST, ch->host.peer),
				    mp->mode, &id);
		if (r) {
			__atomic_store_n(&mp->lost, r, __ATOMIC_RELAXED);
			ch->lost++;
			continue;
		}
		in = calloc(1, sizeof(*in));
		if (!in) {
			ace_mproc_release(a, id);
			__atomic_store_n(&mp->lost, -ENOMEM, __ATOMIC_RELAXED);
			ch->lost++;
			continue;
		}
		ace_mproc_at(a, ACE_ID_SLOT(id))->pid = (u32)getpid();
		/* its own reference to the arena (the pin is dropped below) */
		__atomic_fetch_add(&host_arena(a)->refs, 1, __ATOMIC_RELAXED);
		in->a = a;
		in->id = id;
		in->epoch = epoch;
		in->refs = 1;
		ace_rx_init(&in->rx, id);
		ace_cache_init(&in->cache, id);
		__atomic_store_n(&mp->lost, 0, __ATOMIC_RELAXED);
		/* the one before last goes (unless a waiter holds it); the
		 * last stays for a thread that loaded it just now */
		inc_put(ch, mp->old_in);
		mp->old_in = mp->in;
		__atomic_store_n(&mp->in, in, __ATOMIC_RELEASE);
		/* a waiter on the one before looks again now (see wait_mail()) */
		if (mp->efd >= 0)
			(void)!eventfd_write(mp->efd, 1);
		made++;
	}
	pthread_mutex_unlock(&ch->lock);
	arena_put(ch, a);
	return made;
}

/* ace_service() after recreate() made `made`: ACE_SVC_REATTACHED if it
 * made any (ace_error() names those it could not), else 0 and why. */
static int recreated(struct ace *ch, int made)
{
	if (ch->lost)
		seterr(ch, ENOTCONN, "%s: %d mproc(s) could not be created again "
		       "in it (ace_service() tries again every %d ms)",
		       ch->host.event, ch->lost, RECREATE_RETRY_NS / 1000000);
	else if (!made)
		seterr(ch, ENOTCONN, "%s: the arena went again before its mprocs "
		       "could be created in it", ch->host.event);
	return made ? ACE_SVC_REATTACHED : 0;
}

int ace_service(struct ace *ch)
{
	u64 kicks;
	int r;

	if (ch->guest)
		return 0;
	/* the socket is read by one thread at a time (a waiter in
	 * ace_mp_recv() may be reading it) */
	pthread_mutex_lock(&ch->dev_lock);
	kicks = ace_host_take_kicks(&ch->host);
	r = ace_host_process(&ch->host, 0);
	pthread_mutex_unlock(&ch->dev_lock);
	if (kicks)
		host_dispatch(ch);
	if (r < 0 && host_dead(ch))
		return seterr(ch, EPIPE, "%s", ch->host.err);
	if (r < 0) {
		/* a new arena refused: reported once, here */
		ch->svc_epoch = ch->host.epoch;
		return seterr(ch, -r, "%s: %s", ch->host.event,
			      "every mproc is stale; wait for ACE_SVC_ATTACHED");
	}
	if (ch->svc_epoch == ch->host.epoch) {
		/* Mprocs that could not be created again: try once more, at
		 * most every RECREATE_RETRY_NS (each try scans the slots, and
		 * a guest that squats a name can kick as often as it likes). */
		if (ch->lost && ch->host.attached && now_ns() >= ch->retry_at)
			return recreated(ch, recreate(ch));
		return 0;
	}
	ch->svc_epoch = ch->host.epoch;
	if (ch->host.attached && (ch->flags & ACE_PERSIST)) {
		int none;

		pthread_mutex_lock(&ch->lock);
		none = !ch->mprocs;
		pthread_mutex_unlock(&ch->lock);
		if (none)
			return ACE_SVC_ATTACHED;	/* nothing to create again */
		return recreated(ch, recreate(ch));
	}
	if (ch->host.attached)
		return ACE_SVC_ATTACHED;
	ch->lost = 0;
	seterr(ch, ch->flags & ACE_PERSIST ? ENOTCONN : ESTALE, "%s", ch->host.event);
	return ACE_SVC_DETACHED;
}

int ace_service_wait(struct ace *ch, int timeout_ms)
{
	struct pollfd p[2];
	int r;

	if (ch->guest) {
		/* nothing to wait for: a negative timeout would be for ever */
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	/* what a call on an mproc read from the device already */
	r = ace_service(ch);
	if (r || !timeout_ms)
		return r;
	p[0].fd = ch->host.sock;
	p[1].fd = ch->host.kick_fd;
	p[0].events = p[1].events = POLLIN;
	if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
		return seterr(ch, errno, "poll: %s", strerror(errno));
	return ace_service(ch);
}

/* ---- counters ---- */

static u32 inbox_depth(struct ace_arena *a, struct ace_mproc *e)
{
	u32 off = ace_read_once(&e->inbox), n = 0;

	/* A read-only, bounded walk of a live list: a snapshot, no more. */
	while (off && off != ACE_INBOX_CLOSED && n < a->total_blocks &&
	       ace_handle_ok(a, off)) {
		n++;
		off = ace_read_once(&ace_msg(a, off)->next);
	}
	return n;
}

int ace_stats(struct ace *ch, uint32_t id, struct ace_stats *st)
{
	struct ace_arena *a;
	struct ace_mproc *e;
	u32 q, f;
	int r = arena_get(ch, &a);

	if (r)
		return r;
	if (ace_mproc_check(a, id)) {
		r = seterr(ch, ENOENT, "no mproc 0x%x", id);
		goto out;
	}
	e = ace_mproc_at(a, ACE_ID_SLOT(id));
#define C(x) st->x = ace_read_once(&e->c.x)
	C(sent); C(received); C(drains); C(max_batch); C(waits); C(wakeups);
	C(sections); C(notifies); C(interrupts); C(deferrals); C(overruns);
	C(spurious);
#undef C
	st->notify = ace_read_once(&e->notify);
	st->queued = inbox_depth(a, e);
	if (ace_block_census(a, id, &st->held, &q, &f))
		r = core_err(ch, a, -EIO, "census");
out:
	arena_put(ch, a);
	return r;
}

int ace_census(struct ace *ch, struct ace_census *c)
{
	struct ace_arena *a;
	int r = arena_get(ch, &a);

	if (r)
		return r;
	c->total = a->total_blocks;
	if (ace_block_census(a, 0, &c->held, &c->queued, &c->free))
		r = core_err(ch, a, -EIO, "census");
	arena_put(ch, a);
	return r;
}
