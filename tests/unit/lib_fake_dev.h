/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * lib_fake_dev.h - for the libace unit tests (test_lib_*.c): a virtio-ace
 * device reduced to what a host peer needs, in a thread of the test.
 *
 * It listens on a UNIX socket, answers the one connection with HELLO (the
 * kick and raise socket pairs) and ARENA (a sealed memfd formatted with the
 * core), then relays raises: a host mproc's pending bit is passed on as a
 * kick, as the device does for host-to-host sends.  fdev.a is the
 * device's own view of the arena, so a test can play the guest with the
 * core (fdev_guest_send: a send, then the doorbell the guest's driver
 * rings when the receiver is an armed host mproc).  With fdev_start_bell()
 * the device offers a direct doorbell (ABI 2.2): it answers the peer's
 * BELL_REQ with an eventfd, and the guest's doorbell signals that eventfd
 * instead of writing the kick (as KVM's ioeventfd does).
 */
#ifndef LIB_FAKE_DEV_H
#define LIB_FAKE_DEV_H

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ace_test.h"

struct fdev {
	char dir[64], path[128];
	int lfd, sock, kick, raise, memfd;
	int kick_peer, raise_peer;	/* the ends HELLO passes */
	int offer_bell, bell;		/* BELL: offered; its eventfd (-1) */
	u32 size;
	void *mem;
	struct ace_arena a;
	pthread_t th;
	int stop;
};

static inline void fdev_send(int sock, u32 type, const void *body, u32 len,
		      const int *fds, int nfds)
{
	struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC, .type = type, .len = len };
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	m.msg_control = cbuf;
	m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	if (sendmsg(sock, &m, MSG_NOSIGNAL) != (ssize_t)(sizeof(h) + len))
		DIE("fake device: sendmsg: %s", strerror(errno));
}

/* The device's scan after a raise: host mprocs' bits become kicks. */
static inline void fdev_relay(struct fdev *d)
{
	u64 one = 1;
	u32 w;

	for (w = 0; w < d->a.nr_pending_words; w++) {
		u64 bits = ace_pending_peek(&d->a, w);

		while (bits) {
			u32 slot = w * 64 + (u32)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (slot < d->a.nr_mprocs &&
			    ACE_SIDE_KIND(ace_read_once(&ace_mproc_at(&d->a, slot)->side)) ==
			    ACE_SIDE_HOST) {
				if (send(d->kick, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
				    errno != EAGAIN)
					DIE("fake device: kick");
				return;
			}
		}
	}
}

static inline void *fdev_thread(void *arg)
{
	struct fdev *d = arg;
	struct ace_peer_hello hello = {
		.abi_version = ACE_ABI_VERSION, .peer = 0, .max_peers = 1,
		.section_ns = 1000000,
	};
	struct ace_peer_arena pa = { .arena_size = d->size, .region_size = d->size,
				     .generation = 1 };
	int fds[2];

	d->sock = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (d->sock < 0)
		DIE("fake device: accept: %s", strerror(errno));
	fds[0] = d->kick_peer;
	fds[1] = d->raise_peer;
	hello.features = d->offer_bell ? ACE_HELLO_F_BELL : 0;
	fdev_send(d->sock, ACE_PEER_HELLO, &hello, sizeof(hello), fds, 2);
	if (d->offer_bell) {
		struct ace_peer_msg req;
		struct pollfd p = { .fd = d->sock, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1 ||
		    recv(d->sock, &req, sizeof(req), MSG_WAITALL) != sizeof(req) ||
		    req.magic != ACE_PEER_MAGIC || req.type != ACE_PEER_BELL_REQ || req.len)
			DIE("fake device: no BELL_REQ after a HELLO offering BELL");
		d->bell = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->bell < 0)
			DIE("fake device: eventfd: %s", strerror(errno));
		fdev_send(d->sock, ACE_PEER_BELL, NULL, 0, &d->bell, 1);
	}
	fdev_send(d->sock, ACE_PEER_ARENA, &pa, sizeof(pa), &d->memfd, 1);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = d->raise, .events = POLLIN };
		char v[256];

		if (poll(&p, 1, 20) == 1 && recv(d->raise, v, sizeof(v), MSG_DONTWAIT) > 0)
			fdev_relay(d);
	}
	return NULL;
}

/* Start the device: an arena of `size` bytes, `nr_mprocs` slots; a
 * direct doorbell offered if `bell`. */
static inline void fdev_start_bell(struct fdev *d, u32 size, u32 nr_mprocs, int bell)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ace_geometry g;

	memset(d, 0, sizeof(*d));
	d->offer_bell = bell;
	d->bell = -1;
	d->size = size;
	snprintf(d->dir, sizeof(d->dir), "/tmp/ace-unit.XXXXXX");
	if (!mkdtemp(d->dir))
		DIE("mkdtemp: %s", strerror(errno));
	snprintf(d->path, sizeof(d->path), "%s/dev.sock", d->dir);
	d->memfd = memfd_create("ace-unit-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (d->memfd < 0 || ftruncate(d->memfd, size) ||
	    fcntl(d->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		DIE("memfd: %s", strerror(errno));
	d->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	if (ace_geometry_default(size, nr_mprocs, &g) ||
	    ace_arena_init(&d->a, d->mem, size, &g, 1))
		DIE("cannot format the arena");
	/* as the device does (ABI 2.1): a socket pair each; the fake
	 * device keeps both ends (it sends the peer's ends in HELLO) */
	{
		int kp[2], rp[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kp) ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rp))
			DIE("socketpair: %s", strerror(errno));
		d->kick = kp[0];
		d->kick_peer = kp[1];
		d->raise = rp[0];
		d->raise_peer = rp[1];
	}
	d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, d->path);
	if (d->kick < 0 || d->raise < 0 || d->lfd < 0 ||
	    bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(d->lfd, 1))
		DIE("fake device: %s", strerror(errno));
	if (pthread_create(&d->th, NULL, fdev_thread, d))
		DIE("pthread_create");
}

static inline void fdev_start(struct fdev *d, u32 size, u32 nr_mprocs)
{
	fdev_start_bell(d, size, nr_mprocs, 0);
}

static inline void fdev_stop(struct fdev *d)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(d->th, NULL);
	close(d->sock);
	close(d->lfd);
	close(d->kick);
	close(d->raise);
	close(d->kick_peer);
	close(d->raise_peer);
	if (d->bell >= 0)
		close(d->bell);
	munmap(d->mem, d->size);
	close(d->memfd);
	unlink(d->path);
	rmdir(d->dir);
}

/* The guest side: send `len` bytes of `text` from guest mproc `src` to
 * `dst` with `tag`; ring the host's doorbell as the driver would when the
 * send says so.  Returns what ace_send_msg returned. */
static inline int fdev_guest_send(struct fdev *d, u32 src, u32 dst, const char *text,
			   u32 tag)
{
	u32 len = (u32)strlen(text) + 1;
	s64 off = ace_alloc(&d->a, len, src);
	u64 one = 1;
	int r;

	if (off < 0)
		DIE("fake guest: alloc: %lld", (long long)off);
	memcpy(ace_payload(&d->a, (u32)off), text, len);
	r = ace_send_msg(&d->a, src, dst, (u32)off, len, 0, tag);
	if (r == 1 && d->bell >= 0) {
		if (write(d->bell, &one, sizeof(one)) != sizeof(one))
			DIE("fake guest: doorbell (eventfd): %s", strerror(errno));
	} else if (r == 1 && send(d->kick, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
		   errno != EAGAIN) {
		DIE("fake guest: doorbell");
	}
	return r;
}

#endif /* LIB_FAKE_DEV_H */
