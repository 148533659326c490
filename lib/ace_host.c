// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_host.c - a host peer's connection to virtio-ace: see ace_host.h and
 * docs/device.md ("Host peer protocol").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#include <sys/un.h>
#include "ace_host.h"

#define MAX_BODY 4096	/* longer than any message this ABI knows */
#define MAX_FDS 4

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

/* Read exactly n bytes, collecting any fds passed with them. */
static int read_full(struct ace_host *h, void *buf, size_t n, int *fds,
		     int *nfds)
{
	size_t got = 0;

	while (got < n) {
		char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct iovec iov = { (char *)buf + got, n - got };
		struct msghdr m = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *c;
		ssize_t r = recvmsg(h->sock, &m, MSG_CMSG_CLOEXEC);

		if (r == 0)
			return fail(h, EPIPE, "the device closed the connection (QEMU exited?)");
		if (r < 0) {
			if (errno == EINTR)
				continue;
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
				if (*nfds < MAX_FDS)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
		got += (size_t)r;
	}
	return 0;
}

/* Forget the arena.  `final`: unmap it; otherwise leave private memory
 * in its place (see below) until ace_host_close(). */
static void unmap_arena(struct ace_host *h, int final)
{
	if (h->map && final) {
		munmap(h->map, h->map_len);
	} else if (h->map) {
		if (h->old_map)
			munmap(h->old_map, h->old_len);
		/* Every later core call fails with -EIO, and pointers the
		 * application still holds land in harmless private memory
		 * instead of a hole (or the guest's reused pages). */
		ace_arena_break(&h->arena, "the guest detached its arena", 0);
		if (mmap(h->map, h->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
		    munmap(h->map, h->map_len))
			abort();	/* the region must not stay mapped */
		h->old_map = h->map;
		h->old_len = h->map_len;
		h->epoch++;
	}
	h->map = NULL;
	h->attached = 0;
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

/* ARENA: check the region fd, map the arena from its offset 0, attach. */
static int apply_arena(struct ace_host *h, const u8 *body, u32 len, int fd)
{
	struct ace_peer_arena pa;
	size_t map_len = 0;
	u32 size;
	u8 *map;
	int err;

	if (len != sizeof(pa))
		return fail(h, EPROTO, "ARENA message of %u bytes, not %zu", len,
			    sizeof(pa));
	memcpy(&pa, body, sizeof(pa));
	size = pa.arena_size;
	if (size < ACE_MIN_ARENA || size > ACE_MAX_ARENA || size % 4096 ||
	    pa.region_size < size)
		return fail(h, EPROTO, "ARENA message: bad arena size %u (region %u)",
			    size, pa.region_size);
	err = check_region_fd(h, fd, size, &map_len);
	if (err)
		return err;
	unmap_arena(h, 0);
	h->map_len = map_len;
	map = mmap(NULL, h->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return fail(h, errno, "map the %u-byte arena: %s", size,
			    strerror(errno));
	h->map = map;
	h->size = size;
	h->generation = pa.generation;
	if (ace_arena_attach(&h->arena, map, size)) {
		int e = fail(h, EIO, "the guest's arena is refused: %s (0x%x)",
			     ace_arena_why(&h->arena), h->arena.why_value);

		munmap(map, h->map_len);
		h->map = NULL;
		return e;
	}
	h->attached = 1;
	h->broken_told = 0;
	h->epoch++;
	return 0;
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
	if (b.generation != h->generation || ace_arena_broken(&h->arena))
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
	ace_arena_break(&h->arena, h->broken_why, b.value);
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

	if (!h->attached || !ace_arena_broken(&h->arena) || h->broken_told)
		return;
	h->broken_told = 1;
	msg.b.generation = h->generation;
	msg.b.value = h->arena.why_value;
	msg.b.peer = h->peer;
	snprintf(msg.b.why, sizeof(msg.b.why), "%s", ace_arena_why(&h->arena));
	/* best effort: a device that is gone needs no report */
	if (send(h->sock, &msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return;
}

/* Read one message; 0 or -errno. */
static int handle_one(struct ace_host *h)
{
	struct ace_peer_msg m;
	int fds[MAX_FDS], nfds = 0, ret = 0;
	u8 *body = NULL;

	ret = read_full(h, &m, sizeof(m), fds, &nfds);
	if (ret)
		goto out;
	if (m.magic != ACE_PEER_MAGIC || m.len > MAX_BODY) {
		ret = fail(h, EPROTO, "bad message from the device (magic 0x%x, len %u)",
			   m.magic, m.len);
		goto out;
	}
	body = malloc(m.len ? m.len : 1);
	if (!body) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_full(h, body, m.len, fds, &nfds);
	if (ret)
		goto out;
	switch (m.type) {
	case ACE_PEER_HELLO: {
		const struct ace_peer_hello *hi = (const void *)body;

		if (m.len < sizeof(*hi) || nfds != 2) {
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
		h->peer = hi->peer;
		h->max_peers = hi->max_peers;
		h->section_ns = hi->section_ns;
		h->kick_fd = fds[0];
		h->raise_fd = fds[1];
		nfds = 0;
		break;
	}
	case ACE_PEER_ARENA:
		if (nfds != 1) {
			ret = fail(h, EPROTO, "ARENA with %d fds", nfds);
			break;
		}
		/* the mapping keeps the region; its fd is closed below */
		ret = apply_arena(h, body, m.len, fds[0]);
		break;
	case ACE_PEER_DETACH: {
		/* Acknowledge once the arena is out of reach: a device that
		 * is being migrated or snapshotted waits for this (with a
		 * bound) before it copies the arena for the last time. */
		struct ace_peer_msg ack = {
			.magic = ACE_PEER_MAGIC, .type = ACE_PEER_DETACHED,
		};

		unmap_arena(h, 0);
		if (send(h->sock, &ack, sizeof(ack), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break;	/* a device that is gone needs no answer */
		break;
	}
	case ACE_PEER_FULL:
		ret = fail(h, EBUSY, "the device has no free peer slot");
		break;
	case ACE_PEER_BROKEN:
		take_broken(h, body, m.len);
		break;
	default:
		break;		/* unknown: ignore, for forward compatibility */
	}
out:
	close_fds(fds, nfds);
	free(body);
	return ret;
}

int ace_host_process(struct ace_host *h, int timeout_ms)
{
	struct pollfd p = { .fd = h->sock, .events = POLLIN };
	int n = 0, r;

	/* A budget per call: a device (a guest resetting it in a loop) that
	 * keeps sending cannot hold the caller here; the rest waits on the
	 * socket, still readable, for the next call. */
	while (n < ACE_HOST_BUDGET) {
		r = poll(&p, 1, n ? 0 : timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n;
		if (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN))
			return fail(h, EPIPE, "the device closed the connection (QEMU exited?)");
		r = handle_one(h);
		if (r)
			return r;
		n++;
	}
	return n;
}

int ace_host_connect(struct ace_host *h, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long deadline = now_ms() + timeout_ms;
	int r;

	memset(h, 0, sizeof(*h));
	h->sock = h->kick_fd = h->raise_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(h, ENAMETOOLONG, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		h->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (h->sock < 0)
			return fail(h, errno, "socket: %s", strerror(errno));
		if (!connect(h->sock, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		r = errno;
		close(h->sock);
		h->sock = -1;
		if ((r != ENOENT && r != ECONNREFUSED) || now_ms() >= deadline)
			return fail(h, r, "connect %s: %s", path, strerror(r));
		usleep(20000);
	}
	while (h->kick_fd < 0) {
		long left = deadline - now_ms();

		if (left <= 0) {
			ace_host_close(h);
			return fail(h, ETIMEDOUT, "no HELLO from the device at %s", path);
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
	long deadline = now_ms() + timeout_ms;

	while (!h->attached) {
		long left = deadline - now_ms();
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
	u64 one = 1;

	if (write(h->raise_fd, &one, sizeof(one)) != sizeof(one))
		return fail(h, errno, "raise: %s", strerror(errno));
	return 0;
}

u64 ace_host_take_kicks(struct ace_host *h)
{
	u64 n = 0;

	if (h->kick_fd < 0)
		return 0;
	if (read(h->kick_fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

void ace_host_close(struct ace_host *h)
{
	unmap_arena(h, 1);
	if (h->old_map && h->old_map != h->map)
		munmap(h->old_map, h->old_len);
	h->old_map = NULL;
	if (h->sock >= 0)
		close(h->sock);
	if (h->kick_fd >= 0)
		close(h->kick_fd);
	if (h->raise_fd >= 0)
		close(h->raise_fd);
	h->sock = h->kick_fd = h->raise_fd = -1;
}
