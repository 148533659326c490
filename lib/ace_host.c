// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_host.c - a host peer's connection to virtio-ace: see ace_host.h and
 * docs/device.md ("Host peer protocol").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "ace_host.h"

static int fail(struct ace_host *h, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return -err;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fds(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Take what the device has sent of the message in the making, never
 * waiting: a service that serves several devices (ace-bridge) must not
 * stop for one that sends half a message.  The bytes and fds collect in
 * h->rx across calls; ace_host_process() breaks the connection when a
 * message begun stays unfinished for ACE_HOST_MSG_MS.
 * Returns 1 when bytes came (*done set when the message is whole), 0 when
 * none are there now, or a fatal -errno (h->err says why).
 */
static int rx_step(struct ace_host *h, int *done)
{
	const size_t hdr = sizeof(h->rx.hdr);
	char cbuf[CMSG_SPACE(sizeof(int) * ACE_HOST_MAX_FDS)];
	struct iovec iov;
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*done = 0;
	if (h->rx.got < hdr) {
		iov.iov_base = (char *)&h->rx.hdr + h->rx.got;
		iov.iov_len = hdr - h->rx.got;
	} else {
		iov.iov_base = h->rx.body + (h->rx.got - hdr);
		iov.iov_len = hdr + h->rx.hdr.len - h->rx.got;
	}
	r = recvmsg(h->sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r == 0)
		return fail(h, EPIPE, "the device closed the connection (QEMU exited?)");
	if (r < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		if (errno == ECONNRESET)
			return fail(h, EPIPE, "the device reset the connection (QEMU "
				    "exited?)");
		return fail(h, errno, "recvmsg: %s", strerror(errno));
	}
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		int k, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(fd));
			if (h->rx.nfds < ACE_HOST_MAX_FDS)
				h->rx.fds[h->rx.nfds++] = fd;
			else
				close(fd);
		}
	}
	if (m.msg_flags & MSG_CTRUNC)
		return fail(h, EPROTO, "the device passed more than %d fds with a "
			    "message", ACE_HOST_MAX_FDS);
	if (!h->rx.got)
		h->rx.since_ms = now_ms();
	h->rx.got += (size_t)r;
	if (h->rx.got == hdr &&
	    (h->rx.hdr.magic != ACE_PEER_MAGIC || h->rx.hdr.len > ACE_HOST_MAX_BODY))
		return fail(h, EPROTO, "bad message from the device (magic 0x%x, len %u)",
			    h->rx.hdr.magic, h->rx.hdr.len);
	*done = h->rx.got >= hdr && h->rx.got == hdr + h->rx.hdr.len;
	return 1;
}

/* The message in the making is done with: close the fds nobody took. */
static void rx_reset(struct ace_host *h)
{
	close_fds(h->rx.fds, h->rx.nfds);
	h->rx.nfds = 0;
	h->rx.got = 0;
}

/*
 * Is fd one end of a UNIX stream socket pair, as the kick and raise are
 * (ABI 2.1)?  Each side holds only its own end, so nothing the device
 * does to its file can make ours block; libace reads and writes it with
 * MSG_DONTWAIT all the same, and makes it non-blocking besides.  An
 * eventfd (ABI 2.0) is refused: the device would share that very file and
 * could make a write to it block; a pipe or anything else too.
 */
static int take_pair_fd(struct ace_host *h, int fd, const char *what)
{
	int type = 0, domain = 0, fl;
	socklen_t len = sizeof(type);
	struct stat st;

	if (fstat(fd, &st) < 0)
		return fail(h, errno, "HELLO: cannot stat the %s fd: %s", what,
			    strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return fail(h, EPROTO, "HELLO: the %s fd is not a socket (mode 0%o; "
			    "a device older than ABI 2.1 passes an eventfd)", what,
			    (unsigned int)st.st_mode);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM)
		return fail(h, EPROTO, "HELLO: the %s fd is not a stream socket", what);
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_UNIX)
		return fail(h, EPROTO, "HELLO: the %s fd is not a UNIX socket", what);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail(h, errno, "HELLO: the %s fd: fcntl: %s", what,
			    strerror(errno));
	return 0;
}

/*
 * The BELL fd (ABI 2.2): the eventfd the hypervisor signals when the
 * guest rings our doorbell.  We only ever read it, without waiting: the
 * device holds the same file and could clear O_NONBLOCK, so each read is
 * a preadv2(RWF_NOWAIT), which fails at once on an empty counter
 * whatever the file's mode.  Anything but an eventfd is refused.
 */
static int take_bell_fd(struct ace_host *h, int fd)
{
	char path[64], what[64];
	ssize_t n;
	int fl;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, what, sizeof(what) - 1);
	if (n < 0)
		return fail(h, errno, "BELL: cannot look at the fd: %s", strerror(errno));
	what[n] = 0;
	if (strcmp(what, "anon_inode:[eventfd]"))
		return fail(h, EPROTO, "BELL: the doorbell fd is not an eventfd (%.40s)",
			    what);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return fail(h, errno, "BELL: fcntl: %s", strerror(errno));
	return 0;
}

/* Read the BELL counter, never waiting; 0 if nothing is there. */
static u64 read_bell(int fd)
{
	u64 v = 0;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
	ssize_t r = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (r < 0 && errno == EOPNOTSUPP) {
		/* a kernel without RWF_NOWAIT on eventfds: only while the
		 * file is non-blocking (we set it; look again) */
		int fl = fcntl(fd, F_GETFL);

		r = fl >= 0 && (fl & O_NONBLOCK) ? read(fd, &v, sizeof(v)) : -1;
	}
	return r == sizeof(v) ? v : 0;
}

static void arena_lock(struct ace_host *h)
{
	while (__atomic_exchange_n(&h->arena_lock, 1, __ATOMIC_ACQUIRE))
		ace_cpu_relax();
}

static void arena_unlock(struct ace_host *h)
{
	__atomic_store_n(&h->arena_lock, 0, __ATOMIC_RELEASE);
}

/* Make `ha` (NULL: none) the connection's arena; drop its reference to
 * the one before. */
static void set_arena(struct ace_host *h, struct ace_host_arena *ha)
{
	struct ace_host_arena *old;

	arena_lock(h);
	old = h->arena;
	h->arena = ha;
	arena_unlock(h);
	ace_host_arena_put(old);
}

struct ace_host_arena *ace_host_arena_get(struct ace_host *h)
{
	struct ace_host_arena *ha;

	arena_lock(h);
	ha = h->arena;
	if (ha)
		__atomic_fetch_add(&ha->refs, 1, __ATOMIC_RELAXED);
	arena_unlock(h);
	return ha;
}

void ace_host_arena_put(struct ace_host_arena *ha)
{
	if (!ha || __atomic_sub_fetch(&ha->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (ha->map)
		munmap(ha->map, ha->map_len);
	free(ha);
}

/* Forget the arena.  `final`: drop it (unmapped with its last
 * reference); otherwise leave private memory in its place (see below)
 * for as long as anyone holds it. */
static void unmap_arena(struct ace_host *h, int final)
{
	struct ace_host_arena *ha = h->arena;

	if (h->attached && (!final || __atomic_load_n(&ha->refs, __ATOMIC_ACQUIRE) > 1)) {
		/* Every later core call fails with -EIO, and pointers the
		 * application still holds land in harmless private memory
		 * instead of a hole (or the guest's reused pages).  While it
		 * is mapped, no other arena can be mapped at its address. */
		ace_arena_break(&ha->a, "the guest detached its arena", 0);
		if (mmap(ha->map, ha->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
			if (munmap(ha->map, ha->map_len))
				abort();	/* the region must not stay mapped */
			ha->map = NULL;	/* a hole: never unmap it again */
		}
	}
	h->attached = 0;
	if (final)
		set_arena(h, NULL);
}

/* An arena event: the arena (if any) is out of reach, every handle made
 * before is stale; `fmt` says what happened, for ace_error(). */
static void arena_event(struct ace_host *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void arena_event(struct ace_host *h, const char *fmt, ...)
{
	va_list ap;

	/* the epoch first: whoever finds the old arena broken below finds
	 * its handles stale too */
	__atomic_add_fetch(&h->epoch, 1, __ATOMIC_SEQ_CST);
	unmap_arena(h, 0);
	va_start(ap, fmt);
	vsnprintf(h->event, sizeof(h->event), fmt, ap);
	va_end(ap);
}

/*
 * Is fd a region we can map `size` bytes of without ever taking SIGBUS?
 * A regular file (memfd, hugetlbfs or tmpfs file) at least that long,
 * which cannot shrink: sealed with F_SEAL_SHRINK.  A file that cannot be
 * sealed (memory-backend-file) could be truncated under the mapping by
 * whoever holds it, so it is taken only when the operator says so
 * (ACE_TRUST_UNSEALED=1).
 */
static int check_region_fd(struct ace_host *h, int fd, u32 size,
			   size_t *map_len)
{
	const char *trust = getenv("ACE_TRUST_UNSEALED");
	struct stat st;
	int seals;

	/* seals first: once sealed, the size read next cannot change */
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0)
		return fail(h, errno, "ARENA: cannot stat the region fd: %s",
			    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(h, EPROTO, "ARENA: the region fd is not a memory file "
			    "(mode 0%o)", (unsigned int)st.st_mode);
	if (st.st_size < (off_t)size)
		return fail(h, EPROTO, "ARENA: the region fd has %lld bytes, fewer "
			    "than the %u-byte arena", (long long)st.st_size, size);
	h->region_bytes = (u64)st.st_size;
	/* hugetlbfs maps whole huge pages: map the arena's pages only */
	if (st.st_blksize <= 0)
		return fail(h, EPROTO, "ARENA: the region fd has no page size");
	*map_len = ((size_t)size + st.st_blksize - 1) / st.st_blksize *
		   st.st_blksize;
	if ((u64)*map_len > (u64)st.st_size)
		return fail(h, EPROTO, "ARENA: the %u-byte arena does not end on a "
			    "page of the region fd (%ld-byte pages)", size,
			    (long)st.st_blksize);
	if (seals >= 0 && (seals & F_SEAL_SHRINK))
		return 0;
	if (trust && !strcmp(trust, "1"))
		return 0;
	return fail(h, EPROTO, "ARENA: the region fd is not sealed against "
		    "shrinking, so it could be truncated under this service; give "
		    "the device a memory-backend-memfd (sealed by default) or set "
		    "ACE_TRUST_UNSEALED=1 to accept a file-backed region");
}

/*
 * ARENA: the guest attached a new arena.  Whatever comes of it, the old
 * one is gone (the new one may live in the same pages): it is unmapped
 * first (its placeholder stays while anyone holds it).  Then check the
 * region fd, map the arena from offset 0 and validate it into a view of
 * its own: h->arena changes only when the new arena is taken, so a
 * refused one leaves nothing half-attached behind.
 */
static int apply_arena(struct ace_host *h, const u8 *body, u32 len,
		       int nfds, int fd)
{
	struct ace_peer_arena pa = { 0 };
	struct ace_host_arena *na;
	size_t map_len = 0;
	u32 size;
	u8 *map;
	int err;

	if (len == sizeof(pa))
		memcpy(&pa, body, sizeof(pa));
	arena_event(h, "the guest attached a new arena (generation %llu)",
		    (unsigned long long)pa.generation);
	if (len != sizeof(pa))
		err = fail(h, EPROTO, "ARENA message of %u bytes, not %zu", len,
			   sizeof(pa));
	else if (nfds != 1)
		err = fail(h, EPROTO, "ARENA with %d fds, not 1", nfds);
	else if (pa.arena_size < ACE_MIN_ARENA || pa.arena_size > ACE_MAX_ARENA ||
		 pa.arena_size % 4096 || pa.region_size < pa.arena_size)
		err = fail(h, EPROTO, "ARENA message: bad arena size %u (region %u)",
			   pa.arena_size, pa.region_size);
	else
		err = check_region_fd(h, fd, pa.arena_size, &map_len);
	if (err)
		goto refused;
	size = pa.arena_size;
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = fail(h, errno, "map the %u-byte arena: %s", size,
			   strerror(errno));
		goto refused;
	}
	na = calloc(1, sizeof(*na));
	if (!na) {
		err = fail(h, ENOMEM, "the %u-byte arena: out of memory", size);
		munmap(map, map_len);
		goto refused;
	}
	if (ace_arena_attach(&na->a, map, size)) {
		err = fail(h, EIO, "the guest's arena is refused: %s (0x%x)",
			   ace_arena_why(&na->a), na->a.why_value);
		munmap(map, map_len);
		free(na);
		goto refused;
	}
	na->epoch = h->epoch;
	na->map = map;
	na->map_len = map_len;
	na->refs = 1;		/* the connection's */
	set_arena(h, na);
	h->size = size;
	h->generation = pa.generation;
	h->attached = 1;
	h->broken_told = 0;
	return 0;
refused:
	snprintf(h->event, sizeof(h->event), "the guest's new arena (generation "
		 "%llu) was refused: %.250s", (unsigned long long)pa.generation, h->err);
	return err;
}

/*
 * BROKEN from the device: the device or another peer found a word in the
 * arena it could not accept.  Stop using the arena too: every later core
 * call returns -EIO, and ace_arena_why() says what was wrong and who
 * found it.  A notice about an arena since replaced is ignored.
 */
static void take_broken(struct ace_host *h, const u8 *body, u32 len)
{
	struct ace_peer_broken b;
	u32 i;

	if (len != sizeof(b) || !h->attached)
		return;
	memcpy(&b, body, sizeof(b));
	if (b.generation != h->generation || ace_arena_broken(&h->arena->a))
		return;
	b.why[ACE_WHY_MAX - 1] = 0;
	for (i = 0; b.why[i]; i++)
		if ((unsigned char)b.why[i] < 0x20 || (unsigned char)b.why[i] > 0x7e)
			b.why[i] = '?';
	if (b.peer == ACE_WHO_DEVICE)
		snprintf(h->broken_why, sizeof(h->broken_why), "%s, found by the device",
			 b.why);
	else
		snprintf(h->broken_why, sizeof(h->broken_why), "%s, found by host peer %u",
			 b.why, b.peer);
	h->broken_told = 1;	/* the device knows */
	ace_arena_break(&h->arena->a, h->broken_why, b.value);
}

void ace_host_report_broken(struct ace_host *h)
{
	struct {
		struct ace_peer_msg m;
		struct ace_peer_broken b;
	} msg = {
		.m = { .magic = ACE_PEER_MAGIC, .type = ACE_PEER_BROKEN,
		       .len = sizeof(struct ace_peer_broken) },
	};

	if (!h->attached || !ace_arena_broken(&h->arena->a) || h->broken_told)
		return;
	h->broken_told = 1;
	msg.b.generation = h->generation;
	msg.b.value = h->arena->a.why_value;
	msg.b.peer = h->peer;
	snprintf(msg.b.why, sizeof(msg.b.why), "%s", ace_arena_why(&h->arena->a));
	/* best effort: a device that is gone needs no report */
	if (send(h->sock, &msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return;
}

/* Act on the whole message in h->rx; 0, -errno for a refused arena, or a
 * fatal -errno with *fatal set (the device broke the protocol).  The fds
 * it takes it removes from h->rx; rx_reset() closes the rest. */
static int handle_one(struct ace_host *h, int *fatal)
{
	const struct ace_peer_msg m = h->rx.hdr;
	const u8 *body = h->rx.body;
	int *fds = h->rx.fds, nfds = h->rx.nfds, ret = 0;

	*fatal = 0;
	switch (m.type) {
	case ACE_PEER_HELLO: {
		const struct ace_peer_hello *hi = (const void *)body;

		*fatal = 1;	/* a bad HELLO: nothing to go on with */
		/* a 2.1 HELLO ends before `features` */
		if (m.len < offsetof(struct ace_peer_hello, features) || nfds != 2) {
			ret = fail(h, EPROTO, "HELLO with %u bytes and %d fds", m.len, nfds);
			break;
		}
		if ((hi->abi_version >> 16) != ACE_ABI_MAJOR) {
			ret = fail(h, EPROTO, "device speaks ABI %u.%u, we speak %u.%u",
				   hi->abi_version >> 16, hi->abi_version & 0xffff,
				   ACE_ABI_MAJOR, ACE_ABI_MINOR);
			break;
		}
		if (hi->peer >= ACE_MAX_PEERS) {
			ret = fail(h, EPROTO, "HELLO: peer index %u out of range", hi->peer);
			break;
		}
		if (h->kick_fd >= 0) {
			ret = fail(h, EPROTO, "a second HELLO from the device");
			break;
		}
		ret = take_pair_fd(h, fds[0], "kick");
		if (!ret)
			ret = take_pair_fd(h, fds[1], "raise");
		if (ret)
			break;
		h->peer = hi->peer;
		h->max_peers = hi->max_peers;
		h->section_ns = hi->section_ns;
		h->kick_fd = fds[0];
		h->raise_fd = fds[1];
		h->rx.nfds = 0;
		*fatal = 0;
		if (m.len >= sizeof(*hi) && (hi->features & ACE_HELLO_F_BELL) &&
		    !getenv("ACE_NO_BELL")) {
			struct ace_peer_msg req = {
				.magic = ACE_PEER_MAGIC, .type = ACE_PEER_BELL_REQ,
			};

			/* a device that does not take it gives no BELL:
			 * ace_host_connect() waits for it, bounded */
			if (send(h->sock, &req, sizeof(req),
				 MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(req))
				h->bell_asked = 1;
		}
		break;
	}
	case ACE_PEER_BELL:
		/* the answer to our BELL_REQ: the doorbell's eventfd, or
		 * no fd (the device relays our doorbells after all) */
		*fatal = 1;
		if (!h->bell_asked) {
			ret = fail(h, EPROTO, "a BELL not asked for");
			break;
		}
		if (m.len || nfds > 1) {
			ret = fail(h, EPROTO, "BELL with %u bytes and %d fds", m.len, nfds);
			break;
		}
		if (nfds) {
			ret = take_bell_fd(h, fds[0]);
			if (ret)
				break;
			h->bell_fd = fds[0];
			h->rx.nfds = 0;
		}
		h->bell_asked = 0;
		*fatal = 0;
		break;
	case ACE_PEER_ARENA:
		/* the mapping keeps the region; its fd is closed below */
		ret = apply_arena(h, body, m.len, nfds, nfds ? fds[0] : -1);
		break;
	case ACE_PEER_DETACH: {
		/* Acknowledge once the arena is out of reach: a device that
		 * is being migrated or snapshotted waits for this (with a
		 * bound) before it copies the arena for the last time. */
		struct ace_peer_msg ack = {
			.magic = ACE_PEER_MAGIC, .type = ACE_PEER_DETACHED,
		};

		if (h->attached)
			arena_event(h, "the guest detached its arena (generation %llu)",
				    (unsigned long long)h->generation);
		if (send(h->sock, &ack, sizeof(ack), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;	/* a device that is gone needs no answer */
		break;
	}
	case ACE_PEER_FULL:
		ret = fail(h, EBUSY, "the device has no free peer slot");
		*fatal = 1;
		break;
	case ACE_PEER_BROKEN:
		take_broken(h, body, m.len);
		break;
	default:
		break;		/* unknown: ignore, for forward compatibility */
	}
	return ret;
}

/* The connection is lost: keep why, forget the arena.  Its fds are
 * closed by ace_host_close() (the application may still poll them). */
static int conn_dead(struct ace_host *h, int err)
{
	char why[sizeof(h->err)];

	memcpy(why, h->err, sizeof(why));
	arena_event(h, "the connection to the device broke: %s", why);
	memcpy(h->err, why, sizeof(why));
	/* last: a thread that sees it dead reads the words above */
	__atomic_store_n(&h->dead, err ? err : EPIPE, __ATOMIC_RELEASE);
	return -EPIPE;
}

int ace_host_process(struct ace_host *h, int timeout_ms)
{
	struct pollfd p = { .fd = h->sock, .events = POLLIN };
	long t0 = now_ms();
	int n = 0, r, done, fatal;

	if (__atomic_load_n(&h->dead, __ATOMIC_ACQUIRE))
		return -EPIPE;	/* h->err still says why */
	/* A budget per call: a device (a guest resetting it in a loop) that
	 * keeps sending cannot hold the caller here; the rest waits on the
	 * socket, still readable, for the next call. */
	while (n < ACE_HOST_BUDGET) {
		long now, wait;

		r = rx_step(h, &done);
		if (r < 0)
			return conn_dead(h, -r);
		if (done) {
			r = handle_one(h, &fatal);
			rx_reset(h);
			if (r && fatal)
				return conn_dead(h, -r);
			if (r)
				return r;
			n++;
			continue;
		}
		if (r)
			continue;	/* part of a message: more may be there */
		/* Nothing there now.  A message begun long ago is a stall
		 * (judged only now: a caller busy elsewhere for a while must
		 * not take a message still arriving for one). */
		now = now_ms();
		if (h->rx.got && now - h->rx.since_ms >= ACE_HOST_MSG_MS) {
			fail(h, ETIMEDOUT, "the device stalled in the middle of a "
			     "message (%zu of %zu bytes came in %ld ms)", h->rx.got,
			     h->rx.got < sizeof(h->rx.hdr) ? sizeof(h->rx.hdr) :
			     sizeof(h->rx.hdr) + h->rx.hdr.len, now - h->rx.since_ms);
			return conn_dead(h, ETIMEDOUT);
		}
		/* wait only for the first message, only as long as the
		 * caller said, and not past a stall */
		if (n)
			return n;
		wait = timeout_ms - (now - t0);
		if (h->rx.got && wait > h->rx.since_ms + ACE_HOST_MSG_MS - now)
			wait = h->rx.since_ms + ACE_HOST_MSG_MS - now;
		if (wait <= 0)
			return 0;
		if (poll(&p, 1, (int)wait) < 0 && errno != EINTR)
			return fail(h, errno, "poll: %s", strerror(errno));
	}
	return n;
}

/* The end of a wait of timeout_ms from now (negative: never), and what
 * is left of it, as an int for poll(). */
static long deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? LONG_MAX : now_ms() + timeout_ms;
}

static long left_of(long deadline)
{
	long left = deadline == LONG_MAX ? INT_MAX : deadline - now_ms();

	return left > INT_MAX ? INT_MAX : left;
}

int ace_host_connect(struct ace_host *h, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = deadline_of(timeout_ms);
	int r;

	memset(h, 0, sizeof(*h));
	h->sock = h->kick_fd = h->raise_fd = h->bell_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(h, ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		/* non-blocking: a listener that never accepts (its backlog
		 * full: QEMU stopped, wedged or hostile) gives EAGAIN at once
		 * instead of a connect() that waits for ever */
		h->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (h->sock < 0)
			return fail(h, errno, "socket: %s", strerror(errno));
		if (!connect(h->sock, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		r = errno;
		close(h->sock);
		h->sock = -1;
		if ((r != ENOENT && r != ECONNREFUSED && r != EAGAIN) ||
		    left_of(deadline) <= 0)
			return fail(h, r, "connect %s: %s%s", path, strerror(r),
				    r == EAGAIN ? " (the device accepts no connection)" : "");
		usleep(20000);
	}
	while (h->kick_fd < 0 || h->bell_asked) {
		long left = left_of(deadline);

		if (left <= 0) {
			ace_host_close(h);
			return fail(h, ETIMEDOUT, "no %s from the device at %s",
				    h->bell_asked ? "BELL (the answer to BELL_REQ)" :
				    "HELLO", path);
		}
		r = ace_host_process(h, (int)left);
		if (r < 0) {
			char why[sizeof(h->err)];

			memcpy(why, h->err, sizeof(why));
			ace_host_close(h);
			memcpy(h->err, why, sizeof(why));
			return r;
		}
	}
	return 0;
}

int ace_host_wait_arena(struct ace_host *h, int timeout_ms)
{
	long deadline = deadline_of(timeout_ms);

	while (!h->attached) {
		long left = left_of(deadline);
		int r;

		if (left <= 0)
			return fail(h, ETIMEDOUT, "the guest attached no arena in %d ms",
				    timeout_ms);
		r = ace_host_process(h, (int)left);
		if (r < 0)
			return r;
	}
	return 0;
}

int ace_host_raise(struct ace_host *h)
{
	static const char one = 1;

	if (__atomic_load_n(&h->dead, __ATOMIC_ACQUIRE))
		return -EPIPE;
	/* EAGAIN: the device has raises pending already; EPIPE: it closed
	 * its end, and its socket says so */
	if (send(h->raise_fd, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
		return fail(h, errno, "raise: %s", strerror(errno));
	return 0;
}

u64 ace_host_take_kicks(struct ace_host *h)
{
	char buf[256];
	u64 n = 0;
	ssize_t r;
	int i;

	if (h->kick_fd < 0)
		return 0;
	if (h->bell_fd >= 0)
		n += read_bell(h->bell_fd);
	/* bounded: what is left keeps the fd readable for the next call */
	for (i = 0; i < 4 && !__atomic_load_n(&h->dead, __ATOMIC_ACQUIRE); i++) {
		r = recv(h->kick_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (!r) {
			/* the device closed its end: gone (or broken), and an
			 * fd at EOF would keep every poll awake */
			fail(h, EPIPE, "the device closed the connection (QEMU exited?)");
			conn_dead(h, EPIPE);
		}
		if (r <= 0)
			break;
		n += (u64)r;
	}
	return n;
}

void ace_host_close(struct ace_host *h)
{
	unmap_arena(h, 1);
	rx_reset(h);
	if (h->sock >= 0)
		close(h->sock);
	if (h->kick_fd >= 0)
		close(h->kick_fd);
	if (h->raise_fd >= 0)
		close(h->raise_fd);
	if (h->bell_fd >= 0)
		close(h->bell_fd);
	h->sock = h->kick_fd = h->raise_fd = h->bell_fd = -1;
}
