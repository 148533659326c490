// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_contract - libace's contract under every arena event, with a fake
 * device on the peer socket (no QEMU): a handle (mproc, received buffer)
 * of an arena that is gone, replaced or refused gives -ESTALE and
 * ace_error() names the event; no call touches memory of a gone arena.
 * Built with ASan+UBSan in `make test-host`.
 *
 *   refused      a new arena libace refuses (a bad class), then every
 *                call on the old mproc and on the channel
 *   racing       a header rewritten while libace attaches: each ARENA
 *                taken or refused, the old mproc stale either way
 *   smaller      ACE_SVC_ATTACHED with a smaller arena (fewer slots),
 *                then ace_mp_set_mode() and the rest on the old mproc
 *                (whose slot is past the new table), and an old buffer
 *                given to a new mproc
 *   stall        a device that stops in the middle of HELLO, and in the
 *                middle of a message later: ace_open() and ace_service()
 *                end by their bounds, the channel is dead (-EPIPE)
 *   pipe         a pipe where the kick socket belongs, and the eventfds
 *                of an ABI 2.0 device: refused, saying why
 *   blocking     blocking fds from the device, a kick filled to the
 *                brim, 20,000 raises the device never reads: no call
 *                waits
 *   noaccept     a listener that never accepts: ace_open() ends by its
 *                timeout
 *   reuse        a buffer of arena A kept over A -> B -> C (same size, so
 *                C may be mapped where A was): freed or sent through an
 *                mproc of C it fails, and C's block at its offset stays
 *                its holder's; then the same with A's mproc closed first
 *   cross        a thread waiting in ace_mp_recv() while the arena is
 *                replaced and a new mproc in the same slot is armed: its
 *                disarm (held back by the test until then) leaves the
 *                new mproc armed
 *   close        ace_mp_close() of an mproc whose arena is replaced while
 *                it closes (held back at the release): the new arena's
 *                mproc of the same id stays
 *   persist      ACE_PERSIST: DETACH gives -ENOTCONN (a wait in recv ends),
 *                the next arena ACE_SVC_REATTACHED with the mprocs created
 *                again under their names (a guest finds and reaches
 *                them), a name taken meanwhile retried until free, QEMU
 *                gone -EPIPE
 *   persist_race a thread works an ACE_PERSIST mproc (recv, alloc, free)
 *                while another detaches and attaches arenas and runs
 *                ace_service(): only success, -ENOTCONN or -ESTALE, and
 *                no race (built with TSan too: test_contract-tsan)
 *   persist_storm the guest squats the only mproc's name and kicks
 *                for 350 ms: ace_service() says 0, not REATTACHED, and
 *                claims again every 100 ms, not per kick
 *   persist_call the guest replaces the arena while ace_mp_call() holds
 *                a message that is not its reply: the call ends with
 *                -ENOTCONN, the next arena's message comes after it,
 *                once, and the held one is not put into the next arena;
 *                a quiet re-attach ends a call at once, not at its
 *                timeout; four re-attaches while a call waits (the
 *                incarnation it waits on is held, not freed under it)
 *   held_flags   the guest rewrites the flags of a block a host mproc
 *                holds: its send is -EIO, the arena broken (not -EINVAL)
 *   held_free    the same, then the host frees it: -EIO, the arena
 *                broken (not -EINVAL)
 *   misuse       the host program's own mistakes (a double free, a send
 *                after free, a second send of a block it sent itself)
 *                are its -EINVAL: the arena stays whole, the guest is
 *                not blamed
 *   errors       two threads fail calls on one channel at once: each
 *                reads its own ace_error(), never the other's (also
 *                under TSan)
 *   closed_inbox the guest closes the inbox of a host mproc waiting in
 *                ace_mp_recv(ACE_FOREVER): -EIO in every mode (poll too),
 *                the device told
 *   reformat     an honest reformat closes a polling mproc's inbox before
 *                the DETACH arrives: -ENOTCONN, not -EIO
 *   kick_eof     the device closes the kick socket while one thread arms
 *                and acks an mproc's fd and another runs ace_service():
 *                -EPIPE, and no race (built with TSan too)
 *   fds          the process's fd count is the same after all of it
 *
 *   test_contract [CASE...]   (default: all)
 *
 * Linked with --wrap=ace_disarm and --wrap=ace_mproc_release (see the
 * Makefile): a case may hold one of its threads at the entry of either,
 * to run an arena event exactly inside the window it guards.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "../../shared/ace_core.h"
#include "../../lib/ace.h"
#include "../../lib/ace_host.h"	/* ACE_HOST_MSG_MS */

static char sock_path[108];
static int lfd = -1;
static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "FAIL %s:%d: ", __func__, __LINE__);	\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		failures++;						\
	}								\
} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* ---- holding a thread at a core call (--wrap, see the Makefile) ---- */

static struct {
	pthread_mutex_t m;
	pthread_cond_t c;
	const char *fn;		/* the call that holds ... */
	pthread_t who;		/* ... this thread (once who_set) */
	int who_set, held, open;
} gate = { .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };

/* The next thread to call gate_me() will stop at its next call of `fn`
 * (set before that thread starts: gate_wait_held() waits for it). */
static void gate_set(const char *fn)
{
	pthread_mutex_lock(&gate.m);
	gate.fn = fn;
	gate.who_set = gate.held = gate.open = 0;
	pthread_mutex_unlock(&gate.m);
}

static void gate_me(void)
{
	pthread_mutex_lock(&gate.m);
	gate.who = pthread_self();
	gate.who_set = 1;
	pthread_mutex_unlock(&gate.m);
}

static void gate_pass(const char *fn)
{
	pthread_mutex_lock(&gate.m);
	if (gate.fn && !strcmp(gate.fn, fn) && gate.who_set &&
	    pthread_equal(gate.who, pthread_self())) {
		gate.held = 1;
		pthread_cond_broadcast(&gate.c);
		while (!gate.open)
			pthread_cond_wait(&gate.c, &gate.m);
		gate.fn = NULL;
	}
	pthread_mutex_unlock(&gate.m);
}

/* Wait (up to 3 s) until the thread stopped; 0 if it did. */
static int gate_wait_held(void)
{
	struct timespec ts;
	int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	pthread_mutex_lock(&gate.m);
	while (!gate.held && !r)
		r = pthread_cond_timedwait(&gate.c, &gate.m, &ts);
	pthread_mutex_unlock(&gate.m);
	return gate.held ? 0 : -1;
}

/* Let it go on (and stop no one else). */
static void gate_open(void)
{
	pthread_mutex_lock(&gate.m);
	gate.open = 1;
	gate.fn = NULL;
	pthread_cond_broadcast(&gate.c);
	pthread_mutex_unlock(&gate.m);
}

int __real_ace_disarm(struct ace_arena *a, const struct ace_rx *rx);
int __wrap_ace_disarm(struct ace_arena *a, const struct ace_rx *rx);
s64 __real_ace_mproc_release(struct ace_arena *a, u32 id);
s64 __wrap_ace_mproc_release(struct ace_arena *a, u32 id);

int __wrap_ace_disarm(struct ace_arena *a, const struct ace_rx *rx)
{
	gate_pass("ace_disarm");
	return __real_ace_disarm(a, rx);
}

s64 __wrap_ace_mproc_release(struct ace_arena *a, u32 id)
{
	gate_pass("ace_mproc_release");
	return __real_ace_mproc_release(a, id);
}

/* claims made in the process (the library's and the test's guest's) */
static unsigned long claims;

int __real_ace_mproc_claim(struct ace_arena *a, const char *name, u32 side,
			   u32 mode, u32 *id);
int __wrap_ace_mproc_claim(struct ace_arena *a, const char *name, u32 side,
			   u32 mode, u32 *id);

int __wrap_ace_mproc_claim(struct ace_arena *a, const char *name, u32 side,
			   u32 mode, u32 *id)
{
	__atomic_fetch_add(&claims, 1, __ATOMIC_RELAXED);
	return __real_ace_mproc_claim(a, name, side, mode, id);
}

/* ---- the fake device ---- */

struct dev {
	int conn;		/* the accepted peer connection */
	int kick, raise;	/* the device's ends of what HELLO passes */
	int memfd;
	u8 *mem;
	u32 size;
	u64 gen;
};

static int send_msg(int s, u32 type, const void *body, u32 len, const int *fds,
		    int nfds)
{
	struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC, .type = type, .len = len };
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(s, &m, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + len) ? 0 : -1;
}

/* A fresh sealed memfd holding a formatted arena of size bytes. */
static void dev_arena(struct dev *d, u32 size, u32 nr_mprocs, u64 gen)
{
	struct ace_geometry g;
	struct ace_arena a;

	if (d->mem)
		munmap(d->mem, d->size);
	if (d->memfd >= 0)
		close(d->memfd);
	d->memfd = memfd_create("test-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (d->memfd < 0 || ftruncate(d->memfd, size) ||
	    fcntl(d->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) {
		perror("memfd");
		exit(1);
	}
	d->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
	if (d->mem == MAP_FAILED || ace_geometry_default(size, nr_mprocs, &g) ||
	    ace_arena_init(&a, d->mem, size, &g, gen)) {
		fprintf(stderr, "cannot format a %u-byte arena\n", size);
		exit(1);
	}
	d->size = size;
	d->gen = gen;
}

static void dev_send_arena(struct dev *d)
{
	struct ace_peer_arena b = {
		.arena_size = d->size, .region_size = d->size, .generation = d->gen,
	};

	if (send_msg(d->conn, ACE_PEER_ARENA, &b, sizeof(b), &d->memfd, 1)) {
		perror("send ARENA");
		exit(1);
	}
}

static void dev_send(struct dev *d, u32 type)
{
	if (send_msg(d->conn, type, NULL, 0, NULL, 0)) {
		perror("send");
		exit(1);
	}
}

/* HELLO modes */
enum { HELLO_OK, HELLO_PIPE, HELLO_HALF, HELLO_BLOCKING, HELLO_EVENTFD };

struct accept_arg {
	struct dev *d;
	int hello;
};

static void *dev_accept(void *arg)
{
	struct accept_arg *x = arg;
	struct dev *d = x->d;
	struct ace_peer_hello hi = {
		.abi_version = ACE_ABI_VERSION, .peer = 0, .max_peers = 4,
		.section_ns = 1000000,
	};
	int fds[2], p[2] = { -1, -1 };

	d->conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (d->conn < 0) {
		perror("accept");
		exit(1);
	}
	if (x->hello == HELLO_HALF) {
		struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC,
					  .type = ACE_PEER_HELLO, .len = sizeof(hi) };

		/* the header and 4 bytes of the body, then nothing */
		if (send(d->conn, &h, sizeof(h), MSG_NOSIGNAL) < 0 ||
		    send(d->conn, &hi, 4, MSG_NOSIGNAL) < 0)
			perror("send");
		return NULL;
	}
	/* as QEMU does (ABI 2.1): a one-way socket pair each, the device
	 * keeping its ends; HELLO_BLOCKING passes blocking peer ends (libace
	 * must not care), HELLO_EVENTFD what a 2.0 device passed */
	if (x->hello == HELLO_EVENTFD) {
		d->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		d->raise = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fds[0] = d->kick;
		fds[1] = d->raise;
	} else {
		int kp[2], rp[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kp) ||
		    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rp))
			exit(1);
		if (x->hello != HELLO_BLOCKING) {
			fcntl(kp[1], F_SETFL, O_NONBLOCK);
			fcntl(rp[1], F_SETFL, O_NONBLOCK);
		}
		fcntl(kp[0], F_SETFL, O_NONBLOCK);
		d->kick = kp[0];
		d->raise = rp[0];
		fds[0] = p[0] = kp[1];
		fds[1] = p[1] = rp[1];
	}
	if (x->hello == HELLO_PIPE) {
		close(p[0]);
		close(p[1]);
		if (pipe2(p, O_CLOEXEC))
			exit(1);
		fds[0] = p[0];
		fds[1] = p[1];
	}
	if (send_msg(d->conn, ACE_PEER_HELLO, &hi, sizeof(hi), fds, 2))
		perror("send HELLO");
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	if (x->hello == HELLO_PIPE || x->hello == HELLO_EVENTFD)
		return NULL;	/* refused: the connection is closed */
	dev_send_arena(d);
	return NULL;
}

/* Open a channel (ace_open_flags) on a fresh fake device with a 1 MiB,
 * 64-slot arena. */
static int open_dev_flags(struct dev *d, struct ace **ch, int hello,
			  int timeout_ms, unsigned flags)
{
	struct accept_arg x = { d, hello };
	pthread_t t;
	int r;

	memset(d, 0, sizeof(*d));
	d->conn = d->kick = d->raise = d->memfd = -1;
	dev_arena(d, 1u << 20, 64, 1);
	pthread_create(&t, NULL, dev_accept, &x);
	r = ace_open_flags(ch, sock_path, timeout_ms, flags);
	pthread_join(t, NULL);
	return r;
}

static int open_dev(struct dev *d, struct ace **ch, int hello, int timeout_ms)
{
	return open_dev_flags(d, ch, hello, timeout_ms, 0);
}

static void dev_close(struct dev *d)
{
	if (d->conn >= 0)
		close(d->conn);
	if (d->kick >= 0)
		close(d->kick);
	if (d->raise >= 0)
		close(d->raise);
	if (d->memfd >= 0)
		close(d->memfd);
	if (d->mem)
		munmap(d->mem, d->size);
	memset(d, 0, sizeof(*d));
}

/* Let libace read what the device sent: ace_service() until a result
 * other than 0 (or 50 tries). */
static int service(struct ace *ch)
{
	int r = 0, i;

	for (i = 0; i < 50 && !r; i++) {
		r = ace_service(ch);
		if (!r)
			usleep(2000);
	}
	return r;
}

/* Every call on an mproc of a gone arena: `err` (-ESTALE; -ENOTCONN or
 * -EPIPE with ACE_PERSIST) and the event named. */
static void expect_gone(struct ace *ch, struct ace_mp *mp, struct ace_buf *held,
			const char *event, int err)
{
	struct ace_buf b;
	int r;

#define STALE(call) do {						\
	r = (call);							\
	CHECK(r == err, "%s returned %d, not %d (%s)", #call, r, err,	\
	      ace_error(ch));						\
	CHECK(strstr(ace_error(ch), event), "%s: \"%s\" does not say \"%s\"",\
	      #call, ace_error(ch), event);				\
} while (0)
	STALE(ace_mp_set_mode(mp, ACE_MODE_INTERRUPT, 10));
	STALE(ace_mp_alloc(mp, 64, &b));
	STALE(ace_mp_send(mp, ace_mp_id(mp), held));
	STALE(ace_mp_free(mp, held));
	STALE(ace_mp_recv(mp, &b, ACE_NOWAIT));
	STALE(ace_mp_recv(mp, &b, 1000000));
	STALE(ace_mp_recv_batch(mp, &b, 1, ACE_NOWAIT));
	STALE(ace_mp_section_begin(mp));
	STALE(ace_mp_section_end(mp));
	STALE(ace_mp_arm(mp));
	STALE(ace_mp_disarm(mp));
	ace_mp_fd_ack(mp);	/* void: must simply not crash */
#undef STALE
}

static void expect_stale(struct ace *ch, struct ace_mp *mp, struct ace_buf *held,
			 const char *event)
{
	expect_gone(ch, mp, held, event, -ESTALE);
}

/* ---- cases ---- */

static void case_refused(void)
{
	struct ace_arena_hdr *h;
	struct ace_buf held;
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	char name[48];
	uint32_t id;
	int r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	r = ace_mp_create(ch, "svc", ACE_MODE_ADAPTIVE, &mp);
	CHECK(r == 0, "create: %s", ace_error(ch));
	CHECK(ace_mp_alloc(mp, 64, &held) == 0, "alloc: %s", ace_error(ch));
	/* the guest attaches a new arena with a class libace refuses */
	dev_arena(&d, 1u << 20, 64, 2);
	h = (struct ace_arena_hdr *)d.mem;
	h->classes[1].block_size = 300;
	dev_send_arena(&d);
	r = service(ch);
	CHECK(r < 0 && r != -EPIPE, "ace_service: %d, not a refusal (%s)", r,
	      ace_error(ch));
	CHECK(strstr(ace_error(ch), "refused") && strstr(ace_error(ch), "power of two"),
	      "ace_service says \"%s\"", ace_error(ch));
	/* the service logs it and goes on with its mproc, as the did */
	expect_stale(ch, mp, &held, "refused");
	/* channel calls: no arena to look at */
	r = ace_lookup(ch, "svc", 0, &id);
	CHECK(r == -ESTALE, "lookup: %d", r);
	r = ace_slot_name(ch, 0, name, &id);
	CHECK(r == -ESTALE, "slot_name: %d", r);
	CHECK(ace_max_mprocs(ch) == 0 && ace_arena_size(ch) == 0,
	      "arena facts of a refused arena: %u slots, %u bytes",
	      ace_max_mprocs(ch), ace_arena_size(ch));
	r = ace_mp_create(ch, "svc2", ACE_MODE_POLL, &mp);
	CHECK(r == -ESTALE, "create without an arena: %d", r);
	if (!r)
		ace_mp_close(mp);
	/* and then a good arena: the service comes back */
	dev_arena(&d, 1u << 20, 64, 3);
	dev_send_arena(&d);
	r = service(ch);
	CHECK(r == ACE_SVC_ATTACHED, "after a good arena: %d (%s)", r, ace_error(ch));
	r = ace_mp_create(ch, "svc", ACE_MODE_ADAPTIVE, &mp);
	CHECK(r == 0, "create again: %s", ace_error(ch));
	if (!r) {
		struct ace_buf b;

		CHECK(ace_mp_alloc(mp, 64, &b) == 0, "alloc: %s", ace_error(ch));
		/* a buffer of a gone arena, given to the new mproc */
		r = ace_mp_free(mp, &held);
		CHECK(r == -ESTALE, "an old buffer freed by a new mproc: %d", r);
		CHECK(ace_mp_free(mp, &b) == 0, "free: %s", ace_error(ch));
		ace_mp_close(mp);
	}
	ace_close(ch);
out:
	dev_close(&d);
}

struct flip {
	volatile u32 *word;
	volatile int stop;
};

static void *flipper(void *arg)
{
	struct flip *f = arg;
	u32 good = *f->word;

	while (!f->stop) {
		__atomic_store_n(f->word, 300, __ATOMIC_RELAXED);
		__atomic_store_n(f->word, good, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void case_racing(void)
{
	struct ace_mp *mp = NULL;
	struct ace_buf held;
	struct ace *ch;
	struct dev d;
	int r, i, taken = 0, refused = 0;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	for (i = 0; i < 40; i++) {
		struct ace_arena_hdr *h;
		struct flip f;
		pthread_t t;

		if (!mp) {
			r = ace_mp_create(ch, "svc", ACE_MODE_ADAPTIVE, &mp);
			if (r) {
				CHECK(r == -ESTALE, "create: %d (%s)", r, ace_error(ch));
				mp = NULL;
			}
			if (mp && ace_mp_alloc(mp, 64, &held)) {
				CHECK(0, "alloc: %s", ace_error(ch));
				break;
			}
		}
		/* a new arena whose header the guest rewrites as it goes */
		dev_arena(&d, 1u << 20, 64, 10 + (u64)i);
		h = (struct ace_arena_hdr *)d.mem;
		f.word = &h->classes[2].block_size;
		f.stop = 0;
		pthread_create(&t, NULL, flipper, &f);
		dev_send_arena(&d);
		r = service(ch);
		f.stop = 1;
		pthread_join(t, NULL);
		if (r == ACE_SVC_ATTACHED)
			taken++;
		else if (r < 0 && r != -EPIPE)
			refused++;
		else
			CHECK(0, "ace_service: %d (%s)", r, ace_error(ch));
		if (mp) {
			expect_stale(ch, mp, &held, "new arena");
			CHECK(ace_mp_close(mp) == 0, "close a stale mproc: %s",
			      ace_error(ch));
			mp = NULL;
		}
	}
	printf("racing: %d arenas taken, %d refused\n", taken, refused);
	ace_close(ch);
out:
	dev_close(&d);
}

static void case_smaller(void)
{
	struct ace_mp *mp, *low, *nmp;
	struct ace_buf held;
	struct ace *ch;
	struct dev d;
	char name[24];
	int r, i;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	/* fill the table so the last mproc's slot is past a small table */
	CHECK(ace_mp_create(ch, "low", ACE_MODE_POLL, &low) == 0, "%s", ace_error(ch));
	for (i = 0, mp = NULL; i < 63; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		r = ace_mp_create(ch, name, ACE_MODE_ADAPTIVE, &mp);
		if (r)
			break;
	}
	CHECK(mp && ACE_ID_SLOT(ace_mp_id(mp)) >= 8, "the last mproc is in slot %u",
	      mp ? ACE_ID_SLOT(ace_mp_id(mp)) : 0);
	CHECK(ace_mp_alloc(mp, 64, &held) == 0, "alloc: %s", ace_error(ch));
	/* the guest reboots with a smaller arena: 128 KiB, 8 slots */
	dev_send(&d, ACE_PEER_DETACH);
	r = service(ch);
	CHECK(r == ACE_SVC_DETACHED, "after DETACH: %d (%s)", r, ace_error(ch));
	expect_stale(ch, mp, &held, "detached");
	dev_arena(&d, 128u << 10, 8, 2);
	dev_send_arena(&d);
	r = service(ch);
	CHECK(r == ACE_SVC_ATTACHED, "after ARENA: %d (%s)", r, ace_error(ch));
	CHECK(ace_max_mprocs(ch) == 8, "%u slots", ace_max_mprocs(ch));
	/* the program sets the mode on its old mproc before re-creating it */
	expect_stale(ch, mp, &held, "new arena");
	expect_stale(ch, low, &held, "new arena");
	r = ace_mp_create(ch, "again", ACE_MODE_ADAPTIVE, &nmp);
	CHECK(r == 0, "create in the new arena: %s", ace_error(ch));
	if (!r) {
		r = ace_mp_send(nmp, ace_mp_id(nmp), &held);
		CHECK(r == -ESTALE, "an old buffer sent by a new mproc: %d", r);
		CHECK(ace_mp_set_mode(nmp, ACE_MODE_POLL, 0) == 0, "%s", ace_error(ch));
	}
	ace_close(ch);	/* closes the stale mprocs too */
out:
	dev_close(&d);
}

static void case_stall(void)
{
	struct ace_mp *mp;
	struct ace_buf b;
	struct ace *ch;
	struct dev d;
	long t0;
	int r;

	/* HELLO cut in the middle: ace_open ends by its timeout */
	t0 = now_ms();
	r = open_dev(&d, &ch, HELLO_HALF, 1500);
	t0 = now_ms() - t0;
	CHECK(r < 0, "open against a stalled HELLO: %d", r);
	CHECK(t0 < 2500, "open took %ld ms with a 1500 ms timeout", t0);
	CHECK(strstr(ace_error(ch), "stalled") || strstr(ace_error(ch), "HELLO"),
	      "open says \"%s\"", ace_error(ch));
	ace_close(ch);
	dev_close(&d);

	/* later: a message begun and never finished */
	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &mp) == 0, "%s",
	      ace_error(ch));
	{
		/* a message in two parts, a call between: nothing is lost */
		struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC,
					  .type = ACE_PEER_DETACH };

		if (send(d.conn, &h, 3, MSG_NOSIGNAL) < 0)
			perror("send");
		usleep(20000);
		r = ace_service(ch);
		CHECK(r == 0, "ace_service on 3 bytes of DETACH: %d (%s)", r,
		      ace_error(ch));
		if (send(d.conn, (char *)&h + 3, sizeof(h) - 3, MSG_NOSIGNAL) < 0)
			perror("send");
		usleep(20000);
		r = ace_service(ch);
		CHECK(r == ACE_SVC_DETACHED, "ace_service on the rest: %d (%s)", r,
		      ace_error(ch));
		/* the rest came in time, but the service was busy for longer
		 * than the stall bound before it looked: not a stall */
		h.type = ACE_PEER_BROKEN + 100;	/* unknown: skipped */
		if (send(d.conn, &h, 3, MSG_NOSIGNAL) < 0)
			perror("send");
		usleep(20000);
		r = ace_service(ch);
		CHECK(r == 0, "ace_service on 3 bytes: %d (%s)", r, ace_error(ch));
		usleep(10000);
		if (send(d.conn, (char *)&h + 3, sizeof(h) - 3, MSG_NOSIGNAL) < 0)
			perror("send");
		usleep((ACE_HOST_MSG_MS + 100) * 1000);
		r = ace_service(ch);
		CHECK(r == 0, "a busy service took a message that came in time for "
		      "a stall: %d (%s)", r, ace_error(ch));
	}
	{
		struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC,
					  .type = ACE_PEER_ARENA, .len = 16 };

		if (send(d.conn, &h, sizeof(h), MSG_NOSIGNAL) < 0 ||
		    send(d.conn, "abc", 3, MSG_NOSIGNAL) < 0)
			perror("send");
	}
	/* ace_service() never waits for the rest (a bridge serves other
	 * devices meanwhile); a message still unfinished ACE_HOST_MSG_MS
	 * after its first byte breaks the connection at the next call */
	usleep(50000);
	t0 = now_ms();
	r = ace_service(ch);
	t0 = now_ms() - t0;
	CHECK(r >= 0, "ace_service on half a message: %d (%s)", r, ace_error(ch));
	CHECK(t0 < 100, "ace_service waited %ld ms for the rest of a message", t0);
	usleep((ACE_HOST_MSG_MS + 100) * 1000);
	t0 = now_ms();
	r = ace_service(ch);
	t0 = now_ms() - t0;
	CHECK(r == -EPIPE, "ace_service on a stalled message: %d (%s)", r,
	      ace_error(ch));
	CHECK(t0 < 100, "ace_service took %ld ms", t0);
	CHECK(strstr(ace_error(ch), "stalled"), "says \"%s\"", ace_error(ch));
	r = ace_service(ch);
	CHECK(r == -EPIPE, "a dead channel stays dead: %d", r);
	r = ace_mp_recv(mp, &b, 1000000);
	CHECK(r == -ESTALE && strstr(ace_error(ch), "close the channel"),
	      "recv on a dead channel: %d (%s)", r, ace_error(ch));
	ace_close(ch);
out:
	dev_close(&d);
}

static void case_pipe(void)
{
	struct ace *ch;
	struct dev d;
	int r;

	r = open_dev(&d, &ch, HELLO_PIPE, 1000);
	CHECK(r < 0, "a pipe as the kick fd was taken");
	CHECK(strstr(ace_error(ch), "the kick fd is not a socket"), "says \"%s\"",
	      ace_error(ch));
	ace_close(ch);
	dev_close(&d);
	/* a device of ABI 2.0: eventfds, one file both sides share */
	r = open_dev(&d, &ch, HELLO_EVENTFD, 1000);
	CHECK(r < 0, "eventfds as kick and raise were taken");
	CHECK(strstr(ace_error(ch), "not a socket") && strstr(ace_error(ch), "2.1"),
	      "says \"%s\"", ace_error(ch));
	ace_close(ch);
	dev_close(&d);
}

/* A device that passes blocking fds, never reads a raise and fills the
 * kick: no libace call waits on either. */
static void case_blocking(void)
{
	struct ace_arena ga;
	struct ace_mp *mp;
	struct ace_buf b;
	struct ace *ch;
	struct dev d;
	char junk[4096];
	u32 gid, sent = 0;
	long t0;
	int r, i;

	memset(junk, 1, sizeof(junk));
	r = open_dev(&d, &ch, HELLO_BLOCKING, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &mp) == 0, "%s",
	      ace_error(ch));
	/* a "guest" mproc, armed, in the device's view of the arena */
	CHECK(ace_arena_attach(&ga, d.mem, d.size) == 0, "device view");
	CHECK(ace_mproc_claim(&ga, "gsink", ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
			      ACE_MODE_INTERRUPT, &gid) == 0, "guest mproc");
	/* the kick, filled to the brim */
	while (send(d.kick, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	t0 = now_ms();
	for (i = 0; i < 3; i++) {
		CHECK(ace_service(ch) == 0, "service: %s", ace_error(ch));
		ace_mp_fd_ack(mp);
		CHECK(ace_mp_arm(mp) == 0, "arm: %s", ace_error(ch));
		CHECK(ace_mp_disarm(mp) == 0, "disarm: %s", ace_error(ch));
		CHECK(ace_mp_recv(mp, &b, 10000000) == 0, "recv: %s", ace_error(ch));
	}
	/* 20,000 raises that the device never reads: each send finds the
	 * guest mproc armed with its pending bit clear */
	for (i = 0; i < 20000; i++) {
		struct ace_rx grx;

		ace_rx_init(&grx, gid);
		if (ace_arm(&ga, &grx) < 0)
			break;
		ace_pending_clear(&ga, ACE_ID_SLOT(gid));
		if (ace_mp_alloc(mp, 8, &b))
			break;
		r = ace_mp_send(mp, gid, &b);
		CHECK(r == 0, "send %d: %d (%s)", i, r, ace_error(ch));
		if (r)
			break;
		sent++;
		/* the "guest" frees what came, so the pool never runs dry */
		{
			struct ace_msg_desc md;

			while (ace_recv(&ga, &grx, &md) == 1)
				ace_free(&ga, md.off);
		}
	}
	t0 = now_ms() - t0;
	CHECK(sent == 20000, "sent %u of 20000", sent);
	CHECK(t0 < 5000, "took %ld ms", t0);
	ace_close(ch);
out:
	dev_close(&d);
}

/* A listener that never accepts (its backlog full): ace_open() ends by
 * its timeout, saying so, instead of waiting in connect() for ever. */
static void case_noaccept(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), c[64], n = 0, r;
	char path[sizeof(sa.sun_path)];
	struct ace *ch;
	long t0;

	snprintf(path, sizeof(path), "%s.noaccept", sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 0)) {
		CHECK(0, "listener: %s", strerror(errno));
		return;
	}
	/* fill the backlog */
	while (n < 64) {
		c[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (connect(c[n], (struct sockaddr *)&sa, sizeof(sa))) {
			close(c[n]);
			break;
		}
		n++;
	}
	CHECK(n < 64, "the backlog never filled");
	t0 = now_ms();
	r = ace_open(&ch, path, 1000);
	t0 = now_ms() - t0;
	CHECK(r < 0, "open against a listener that never accepts: %d", r);
	CHECK(t0 < 2500, "open took %ld ms with a 1000 ms timeout", t0);
	CHECK(strstr(ace_error(ch), "accepts no connection"), "says \"%s\"",
	      ace_error(ch));
	ace_close(ch);
	while (n--)
		close(c[n]);
	close(l);
	unlink(path);
}

/* The owner word of block `off` in the device's view of its arena. */
static u32 owner_of(struct dev *d, u32 off, u32 *flags)
{
	struct ace_arena ga;
	struct ace_msg *m;

	if (ace_arena_attach(&ga, d->mem, d->size) || !ace_handle_ok(&ga, off))
		return 0;
	m = ace_msg(&ga, off);
	*flags = ace_read_once(&m->flags);
	return ace_read_once(&m->owner);
}

/* Does libace map the device's arena (a memfd of it) at address p? */
static int arena_mapped_at(struct dev *d, const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo, hi, at = (unsigned long)p;
	char line[512];
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, "test-arena") &&
			sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
			lo <= at && at < hi && lo != (unsigned long)d->mem;
	if (f)
		fclose(f);
	return found;
}

/* A new arena of the same size and slots as the first, taken. */
static int next_arena(struct dev *d, struct ace *ch, u64 gen)
{
	dev_arena(d, 1u << 20, 64, gen);
	dev_send_arena(d);
	return service(ch);
}

/*
 * Two old buffers, an mproc of the current arena, and a victim in that
 * arena holding the blocks at the old buffers' offsets: the free of one
 * and the sends of the other fail, the victim's blocks stay its own, and
 * the mproc's next block is another one.  `stale`: the old buffers'
 * mproc is still open (then -ESTALE: its arena's memory is still there,
 * so no arena since can be where it was).
 */
static void old_buffer_refused(struct dev *d, struct ace *ch, struct ace_buf *held,
			       int stale, const char *what)
{
	struct ace_mp *victim, *nmp;
	struct ace_buf vb[2], nb, rb;
	struct ace_stats st0, st;
	u32 flags = 0, owner;
	int r, i;

	if (ace_mp_create(ch, "victim", ACE_MODE_POLL, &victim) ||
	    ace_mp_create(ch, "svc", ACE_MODE_POLL, &nmp)) {
		CHECK(0, "%s: create: %s", what, ace_error(ch));
		return;
	}
	for (i = 0; i < 2; i++) {
		r = ace_mp_alloc(victim, 64, &vb[i]);
		CHECK(r == 0, "%s: alloc: %s", what, ace_error(ch));
		/* fresh arenas of one geometry hand out the same blocks */
		CHECK(vb[i].off == held[i].off, "%s: the victim's block 0x%x is not "
		      "the old buffer's 0x%x: the case tests nothing", what,
		      vb[i].off, held[i].off);
	}
	printf("%s: the new arena is %s the old one was\n", what,
	       vb[0].data == held[0].data ? "mapped where" : "not where");
	/* what the victim holds: those blocks, and what its cache keeps */
	CHECK(ace_stats(ch, ace_mp_id(victim), &st0) == 0, "%s: stats: %s", what,
	      ace_error(ch));
	r = ace_mp_send(nmp, ace_mp_id(nmp), &held[0]);
	CHECK(stale ? r == -ESTALE : r < 0, "%s: ace_mp_send(new mproc, old buffer) "
	      "= %d (%s)", what, r, r ? ace_error(ch) : "sent");
	r = ace_mp_send(nmp, ace_mp_id(victim), &held[0]);
	CHECK(stale ? r == -ESTALE : r < 0, "%s: ace_mp_send(new mproc, old buffer) "
	      "to the victim = %d (%s)", what, r, r ? ace_error(ch) : "sent");
	r = ace_mp_free(nmp, &held[1]);
	CHECK(stale ? r == -ESTALE : r < 0, "%s: ace_mp_free(new mproc, old buffer) "
	      "= %d (%s)", what, r, r ? ace_error(ch) : "freed");
	/* the victim's blocks are still its own, and only its own */
	for (i = 0; i < 2; i++) {
		owner = owner_of(d, vb[i].off, &flags);
		CHECK(owner == ace_mp_id(victim) && flags == ACE_MSG_ALLOC,
		      "%s: the victim's block 0x%x is owned by 0x%x in state 0x%x, "
		      "not by the victim 0x%x", what, vb[i].off, owner, flags,
		      ace_mp_id(victim));
	}
	CHECK(ace_stats(ch, ace_mp_id(victim), &st) == 0 && st.held == st0.held,
	      "%s: the victim holds %u blocks, not %u", what, st.held, st0.held);
	CHECK(ace_mp_recv(nmp, &rb, ACE_NOWAIT) == 0, "%s: the new mproc received "
	      "a message", what);
	CHECK(ace_mp_recv(victim, &rb, ACE_NOWAIT) == 0, "%s: the victim received "
	      "a message", what);
	r = ace_mp_alloc(nmp, 64, &nb);
	CHECK(r == 0 && nb.off != vb[0].off && nb.off != vb[1].off, "%s: the new "
	      "mproc was given a block of the victim's (0x%x)", what, nb.off);
	if (!r)
		CHECK(ace_mp_free(nmp, &nb) == 0, "%s: free: %s", what, ace_error(ch));
	for (i = 0; i < 2; i++)
		CHECK(ace_mp_free(victim, &vb[i]) == 0, "%s: the victim's free: %s",
		      what, ace_error(ch));
	CHECK(ace_mp_close(victim) == 0 && ace_mp_close(nmp) == 0, "%s: close: %s",
	      what, ace_error(ch));
}

static void case_reuse(void)
{
	struct ace_buf held[2];
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	int r, i;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	/* A: an mproc and two buffers it keeps */
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_POLL, &mp) == 0, "%s", ace_error(ch));
	CHECK(ace_mp_alloc(mp, 64, &held[0]) == 0 && ace_mp_alloc(mp, 64, &held[1]) == 0,
	      "alloc: %s", ace_error(ch));
	/* A -> B -> C, the old mproc still open */
	r = next_arena(&d, ch, 2);
	CHECK(r == ACE_SVC_ATTACHED, "B: %d (%s)", r, ace_error(ch));
	r = next_arena(&d, ch, 3);
	CHECK(r == ACE_SVC_ATTACHED, "C: %d (%s)", r, ace_error(ch));
	old_buffer_refused(&d, ch, held, 1, "reuse (its mproc open)");
	/* The old mproc closed: its arena's memory goes, and a later arena
	 * may be mapped where it was (the buffers are dead: the core still
	 * refuses a block its caller does not hold). */
	CHECK(ace_mp_close(mp) == 0, "close the old mproc: %s", ace_error(ch));
	for (i = 0; i < 8; i++) {
		r = next_arena(&d, ch, 4 + (u64)i);
		CHECK(r == ACE_SVC_ATTACHED, "arena %d: %d (%s)", 4 + i, r, ace_error(ch));
		/* until one is mapped where A was (then only the core's
		 * check of the block's owner stands in the way) */
		if (arena_mapped_at(&d, held[0].data))
			break;
	}
	old_buffer_refused(&d, ch, held, 0, "reuse (its mproc closed)");
	ace_close(ch);
out:
	dev_close(&d);
}

struct waiter {
	struct ace_mp *mp;
	int r;
};

static void *recv_waiter(void *arg)
{
	struct waiter *w = arg;
	struct ace_buf b;

	gate_me();
	w->r = ace_mp_recv(w->mp, &b, 5000000000ll);	/* 5 s */
	return NULL;
}

/* Is slot `slot` armed in the device's view of its arena? */
static int armed(struct dev *d, u32 slot)
{
	struct ace_arena ga;

	if (ace_arena_attach(&ga, d->mem, d->size) || slot >= ga.nr_mprocs)
		return -1;
	return !!(ace_read_once(&ace_mproc_at(&ga, slot)->notify) & ACE_NOTIFY_ARMED);
}

static void case_cross(void)
{
	struct waiter w = { 0 };
	struct ace_mp *nmp;
	struct ace *ch;
	struct dev d;
	pthread_t t;
	u32 slot;
	long t0;
	int r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &w.mp) == 0, "%s",
	      ace_error(ch));
	slot = ACE_ID_SLOT(ace_mp_id(w.mp));
	gate_set("ace_disarm");
	pthread_create(&t, NULL, recv_waiter, &w);
	/* thread A is waiting once its mproc is armed */
	t0 = now_ms();
	while (armed(&d, slot) != 1 && now_ms() - t0 < 3000)
		usleep(1000);
	CHECK(armed(&d, slot) == 1, "thread A never armed its mproc");
	/* the guest replaces the arena; a new mproc, in the same slot, arms */
	r = next_arena(&d, ch, 2);
	CHECK(r == ACE_SVC_ATTACHED, "new arena: %d (%s)", r, ace_error(ch));
	r = ace_mp_create(ch, "svc2", ACE_MODE_INTERRUPT, &nmp);
	CHECK(r == 0, "create: %s", ace_error(ch));
	if (r) {
		gate_open();
		pthread_join(t, NULL);
		ace_close(ch);
		goto out;
	}
	CHECK(ACE_ID_SLOT(ace_mp_id(nmp)) == slot, "the new mproc is in slot %u, "
	      "not %u: the case tests nothing", ACE_ID_SLOT(ace_mp_id(nmp)), slot);
	CHECK(ace_mp_arm(nmp) == 0, "arm: %s", ace_error(ch));
	CHECK(armed(&d, slot) == 1, "the new mproc is not armed");
	/* only now does thread A go on from its wait (to its disarm) */
	CHECK(gate_wait_held() == 0, "thread A never came to its disarm");
	gate_open();
	pthread_join(t, NULL);
	CHECK(w.r == -ESTALE, "thread A's ace_mp_recv: %d, not -ESTALE", w.r);
	CHECK(armed(&d, slot) == 1, "thread A's stale mproc disarmed the new "
	      "arena's mproc in its slot");
	CHECK(ace_mp_disarm(nmp) == 0 && armed(&d, slot) == 0, "disarm: %s",
	      ace_error(ch));
	ace_close(ch);
out:
	dev_close(&d);
}

struct closer {
	struct ace_mp *mp;
	int r;
};

static void *mp_closer(void *arg)
{
	struct closer *c = arg;

	gate_me();
	c->r = ace_mp_close(c->mp);
	return NULL;
}

static void case_close(void)
{
	struct closer c = { 0 };
	struct ace_mp *nmp;
	struct ace_buf b;
	struct ace *ch;
	struct dev d;
	char name[48];
	pthread_t t;
	u32 id;
	int r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_POLL, &c.mp) == 0, "%s",
	      ace_error(ch));
	id = ace_mp_id(c.mp);
	/* a thread closes the mproc, and is held as it releases it */
	gate_set("ace_mproc_release");
	pthread_create(&t, NULL, mp_closer, &c);
	CHECK(gate_wait_held() == 0, "the closing thread never came to the release");
	/* meanwhile the guest replaces the arena; the service starts again */
	r = next_arena(&d, ch, 2);
	CHECK(r == ACE_SVC_ATTACHED, "new arena: %d (%s)", r, ace_error(ch));
	r = ace_mp_create(ch, "svc", ACE_MODE_POLL, &nmp);
	CHECK(r == 0, "create: %s", ace_error(ch));
	if (!r)
		CHECK(ace_mp_id(nmp) == id, "the new mproc is 0x%x, not 0x%x: the "
		      "case tests nothing", ace_mp_id(nmp), id);
	gate_open();
	pthread_join(t, NULL);
	CHECK(c.r == 0, "closing the old mproc: %d (%s)", c.r, ace_error(ch));
	if (r)
		goto done;
	/* the new mproc is still there, and works */
	r = ace_name_of(ch, ace_mp_id(nmp), name);
	CHECK(r == 0 && !strcmp(name, "svc"), "the new mproc is gone: %d", r);
	r = ace_mp_alloc(nmp, 64, &b);
	CHECK(r == 0, "alloc: %s", ace_error(ch));
	if (!r) {
		r = ace_mp_send(nmp, ace_mp_id(nmp), &b);
		CHECK(r == 0, "send to itself: %d (%s)", r, ace_error(ch));
		if (r)
			ace_mp_free(nmp, &b);
		else
			CHECK(ace_mp_recv(nmp, &b, ACE_NOWAIT) == 1 &&
			      ace_mp_free(nmp, &b) == 0, "recv: %s", ace_error(ch));
	}
	CHECK(ace_mp_close(nmp) == 0, "close: %s", ace_error(ch));
done:
	ace_close(ch);
out:
	dev_close(&d);
}

/* ---- ACE_PERSIST ---- */

/* The guest's view of the device's current arena. */
static void guest_view(struct dev *d, struct ace_arena *ga)
{
	if (ace_arena_attach(ga, d->mem, d->size)) {
		fprintf(stderr, "the fake device's arena does not attach\n");
		exit(1);
	}
}

/* A guest program: claim `gname`, look `name` up, send it "ping" and
 * take the answer; 1 when the host's mproc answered, else 0. */
static int guest_round_trip(struct dev *d, struct ace *ch, struct ace_mp *mp,
			    const char *name, const char *gname)
{
	struct ace_arena ga;
	struct ace_msg_desc m;
	struct ace_buf b;
	struct ace_rx rx;
	u32 me, dst;
	s64 off;
	int r, ok = 0, i;

	guest_view(d, &ga);
	if (ace_mproc_claim(&ga, gname, ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
			    ACE_MODE_POLL, &me))
		return 0;
	ace_rx_init(&rx, me);
	r = ace_mproc_lookup(&ga, name, &dst);
	CHECK(r == 0 && dst == ace_mp_id(mp), "the guest finds %s: %d, id 0x%x "
	      "(the mproc's: 0x%x)", name, r, dst, ace_mp_id(mp));
	off = ace_alloc(&ga, 8, me);
	if (r || off < 0)
		goto out;
	memcpy(ace_payload(&ga, (u32)off), "ping", 5);
	if (ace_send_msg(&ga, me, dst, (u32)off, 5, 0, 7) < 0)
		goto out;
	r = ace_mp_recv(mp, &b, 2000000000);
	CHECK(r == 1 && b.src == me && !strcmp(b.data, "ping"), "%s received: %d (%s)",
	      name, r, ace_error(ch));
	if (r != 1)
		goto out;
	r = ace_mp_send(mp, b.src, &b);
	CHECK(r == 0, "%s answers: %d (%s)", name, r, ace_error(ch));
	for (i = 0; i < 200 && !ok; i++) {
		if (ace_recv(&ga, &rx, &m) == 1) {
			ok = m.tag == 7 && m.src == dst;
			ace_free(&ga, m.off);
		} else {
			usleep(1000);
		}
	}
out:
	ace_mproc_release(&ga, me);
	return ok;
}

/* A new arena of generation `gen`, its mproc `squat` (if any) claimed by
 * the guest before the host sees it; ace_service() until it answers. */
static int persist_next(struct dev *d, struct ace *ch, u64 gen, const char *squat,
			u32 *squat_id)
{
	struct ace_arena ga;

	dev_send(d, ACE_PEER_DETACH);
	dev_arena(d, 1u << 20, 64, gen);
	if (squat) {
		guest_view(d, &ga);
		if (ace_mproc_claim(&ga, squat, ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
				    ACE_MODE_POLL, squat_id))
			exit(1);
	}
	dev_send_arena(d);
	return service(ch);
}

static void case_persist(void)
{
	struct ace_mp *mp, *mp2, *mp3;
	struct ace_buf held, b;
	struct ace_arena ga;
	struct ace *ch;
	struct dev d;
	u32 squat = 0, old_id;
	long t0;
	int r;

	r = ace_open_flags(&ch, sock_path, 10, 2);
	CHECK(r == -EINVAL, "an unknown flag: %d", r);
	ace_close(ch);
	r = open_dev_flags(&d, &ch, HELLO_OK, 2000, ACE_PERSIST);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &mp) == 0, "%s", ace_error(ch));
	CHECK(ace_mp_create(ch, "svc2", ACE_MODE_POLL, &mp2) == 0, "%s", ace_error(ch));
	CHECK(guest_round_trip(&d, ch, mp, "svc", "g1"), "a round trip in arena 1");
	CHECK(ace_mp_alloc(mp, 64, &held) == 0, "alloc: %s", ace_error(ch));

	/* the guest goes away: -ENOTCONN, not -ESTALE, on every call */
	dev_send(&d, ACE_PEER_DETACH);
	t0 = now_ms();
	r = ace_mp_recv(mp, &b, 3000000000);
	CHECK(r == -ENOTCONN, "a wait in recv across DETACH: %d (%s)", r, ace_error(ch));
	CHECK(now_ms() - t0 < 1000, "it ended %ld ms after DETACH", now_ms() - t0);
	CHECK(strstr(ace_error(ch), "detached") && strstr(ace_error(ch), "may come back"),
	      "says \"%s\"", ace_error(ch));
	expect_gone(ch, mp, &held, "ACE_SVC_REATTACHED", -ENOTCONN);
	r = ace_lookup(ch, "svc", 10, &old_id);
	CHECK(r == -ENOTCONN && strstr(ace_error(ch), "no arena now") &&
	      !strstr(ace_error(ch), "created again"),
	      "lookup while detached: %d (%s)", r, ace_error(ch));
	r = ace_mp_create(ch, "later", ACE_MODE_POLL, &mp3);
	CHECK(r == -ENOTCONN && strstr(ace_error(ch), "no arena now") &&
	      strstr(ace_error(ch), "ACE_SVC_REATTACHED"),
	      "create while detached: %d (%s)", r, ace_error(ch));
	r = service(ch);
	CHECK(r == ACE_SVC_DETACHED, "ace_service: %d (%s)", r, ace_error(ch));
	t0 = now_ms();
	r = ace_service_wait(ch, 100);
	CHECK(r == 0 && now_ms() - t0 >= 90, "ace_service_wait with nothing to do: "
	      "%d after %ld ms", r, now_ms() - t0);

	/* it comes back: the library creates both again, the guest finds them */
	old_id = ace_mp_id(mp);
	dev_arena(&d, 1u << 20, 64, 2);
	guest_view(&d, &ga);	/* a guest mproc first: svc gets another slot */
	CHECK(ace_mproc_claim(&ga, "early", ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
			      ACE_MODE_POLL, &squat) == 0, "claim");
	dev_send_arena(&d);
	r = ace_service_wait(ch, 2000);
	CHECK(r == ACE_SVC_REATTACHED, "after ARENA: %d (%s)", r, ace_error(ch));
	CHECK(ace_mp_id(mp) != old_id, "a new id: 0x%x (was 0x%x)", ace_mp_id(mp), old_id);
	CHECK(guest_round_trip(&d, ch, mp, "svc", "g2"), "svc serves in arena 2");
	CHECK(guest_round_trip(&d, ch, mp2, "svc2", "g3"), "svc2 serves in arena 2");
	r = ace_mp_free(mp, &held);
	CHECK(r == -ESTALE, "a buffer of arena 1 freed in arena 2: %d", r);
	CHECK(ace_service(ch) == 0, "nothing more to tell");

	/* a guest mproc took svc2's name meanwhile: svc2 waits for it */
	r = persist_next(&d, ch, 3, "svc2", &squat);
	CHECK(r == ACE_SVC_REATTACHED, "arena 3: %d (%s)", r, ace_error(ch));
	CHECK(strstr(ace_error(ch), "1 mproc(s) could not be created"), "says \"%s\"",
	      ace_error(ch));
	CHECK(guest_round_trip(&d, ch, mp, "svc", "g4"), "svc serves in arena 3");
	r = ace_mp_recv(mp2, &b, ACE_NOWAIT);
	CHECK(r == -ENOTCONN && strstr(ace_error(ch), "svc2") &&
	      strstr(ace_error(ch), "another mproc has its name"),
	      "svc2 while its name is taken: %d (%s)", r, ace_error(ch));
	CHECK(ace_service(ch) == 0, "still taken: nothing to tell");
	guest_view(&d, &ga);
	ace_mproc_release(&ga, squat);
	t0 = now_ms();
	while ((r = ace_service(ch)) == 0 && now_ms() - t0 < 1000)
		usleep(5000);
	CHECK(r == ACE_SVC_REATTACHED, "the name free again: %d (%s)", r, ace_error(ch));
	CHECK(guest_round_trip(&d, ch, mp2, "svc2", "g5"), "svc2 serves in arena 3");

	/* QEMU goes away: -EPIPE, distinct from the guest going away */
	close(d.conn);
	d.conn = -1;
	r = ace_mp_recv(mp, &b, 3000000000);
	CHECK(r == -EPIPE, "recv when QEMU is gone: %d (%s)", r, ace_error(ch));
	CHECK(strstr(ace_error(ch), "QEMU"), "says \"%s\"", ace_error(ch));
	expect_gone(ch, mp2, &held, "QEMU", -EPIPE);
	r = ace_service_wait(ch, 100);
	CHECK(r == -EPIPE, "ace_service_wait when QEMU is gone: %d", r);
	ace_close(ch);
out:
	dev_close(&d);
}

/* persist_race: one thread works an mproc (recv, alloc, free) while this
 * one detaches and attaches arenas and runs ace_service(), which creates
 * the mproc again in each.  Every call gives success or -ENOTCONN /
 * -ESTALE, never an arena paired with another's state (TSan, ASan). */
struct race_arg {
	struct ace_mp *mp;
	int stop;
	unsigned long iters, bad, ok;
	int last_bad;
};

static int race_ok(int r)
{
	return r >= 0 || r == -ENOTCONN || r == -ESTALE;
}

static void *race_worker(void *p)
{
	struct race_arg *x = p;
	struct ace_buf b;
	int r;

	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		r = ace_mp_recv(x->mp, &b, ACE_NOWAIT);
		if (r == 1)
			r = ace_mp_free(x->mp, &b);
		if (!race_ok(r)) {
			x->bad++;
			x->last_bad = r;
		}
		r = ace_mp_alloc(x->mp, 64, &b);
		if (r == 0) {
			r = ace_mp_free(x->mp, &b);
			if (r == 0)
				__atomic_fetch_add(&x->ok, 1, __ATOMIC_RELAXED);
		}
		if (!race_ok(r)) {
			x->bad++;
			x->last_bad = r;
		}
		__atomic_fetch_add(&x->iters, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* the worker went round twice: no call of it still holds what was
 * current before (the library keeps one incarnation back) */
static void race_settle(struct race_arg *x)
{
	unsigned long i0 = __atomic_load_n(&x->iters, __ATOMIC_ACQUIRE);
	int n;

	for (n = 0; n < 5000 && __atomic_load_n(&x->iters, __ATOMIC_ACQUIRE) < i0 + 2; n++)
		usleep(200);
}

static void case_persist_race(void)
{
	struct race_arg x = { 0 };
	struct ace *ch;
	struct dev d;
	pthread_t th;
	unsigned long ok0;
	int r, k, made = 0;

	r = open_dev_flags(&d, &ch, HELLO_OK, 2000, ACE_PERSIST);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "racer", ACE_MODE_POLL, &x.mp) == 0, "%s", ace_error(ch));
	if (!x.mp) {
		ace_close(ch);
		goto out;
	}
	pthread_create(&th, NULL, race_worker, &x);
	for (k = 0; k < 20; k++) {
		dev_send(&d, ACE_PEER_DETACH);
		r = service(ch);
		CHECK(r == ACE_SVC_DETACHED, "round %d, DETACH: %d (%s)", k, r, ace_error(ch));
		race_settle(&x);
		dev_arena(&d, 1u << 20, 64, 2 + (u64)k);
		dev_send_arena(&d);
		r = service(ch);
		made += r == ACE_SVC_REATTACHED;
		race_settle(&x);
	}
	CHECK(made == 20, "re-attached %d of 20 times", made);
	/* it works in the last arena */
	ok0 = __atomic_load_n(&x.ok, __ATOMIC_RELAXED);
	for (k = 0; k < 5000 && __atomic_load_n(&x.ok, __ATOMIC_RELAXED) < ok0 + 10; k++)
		usleep(200);
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(x.ok >= ok0 + 10, "the worker's alloc/free in the last arena: %lu",
	      x.ok - ok0);
	CHECK(x.bad == 0, "%lu calls gave another error (last %d)", x.bad, x.last_bad);
	printf("persist_race: %lu worker rounds, %lu alloc+free\n", x.iters, x.ok);
	ace_mp_close(x.mp);
	ace_close(ch);
out:
	dev_close(&d);
}

/* persist_storm: the guest squats the only mproc's name and kicks
 * without pause: ace_service() says 0 (nothing was created, not
 * REATTACHED) and retries the claim at most every 100 ms, not per kick. */
static void case_persist_storm(void)
{
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	unsigned long c0, n;
	u32 squat = 0;
	long t0, ms;
	u64 one = 1;
	int r, k;

	r = open_dev_flags(&d, &ch, HELLO_OK, 2000, ACE_PERSIST);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &mp) == 0, "%s", ace_error(ch));
	r = persist_next(&d, ch, 2, "svc", &squat);
	CHECK(r == 0, "an arena where no mproc could be created: %d (%s)", r,
	      ace_error(ch));
	CHECK(strstr(ace_error(ch), "1 mproc(s) could not be created"), "says \"%s\"",
	      ace_error(ch));
	c0 = __atomic_load_n(&claims, __ATOMIC_RELAXED);
	t0 = now_ms();
	for (k = 0, r = 0; !r && now_ms() - t0 < 350; k++) {
		if (write(d.kick, &one, sizeof(one)) != sizeof(one))
			break;
		r = ace_service_wait(ch, 0);	/* what a wake by the kick runs */
	}
	ms = now_ms() - t0;
	n = __atomic_load_n(&claims, __ATOMIC_RELAXED) - c0;
	CHECK(r == 0, "kick %d: %d (%s)", k, r, ace_error(ch));
	CHECK(n >= 1 && n <= 2 + (unsigned long)ms / 100,
	      "%lu claim(s) for %d kicks in %ld ms", n, k, ms);
	printf("persist_storm: %d kicks in %ld ms, %lu claim(s)\n", k, ms, n);
	ace_mp_close(mp);
	ace_close(ch);
out:
	dev_close(&d);
}

/* persist_call: a message held by ace_mp_call() (not its reply) belongs
 * to its arena: the guest replaces the arena during the call and sends
 * the mproc, created again, a message in the next one.  The call ends
 * with -ENOTCONN; the new message is received afterwards, once, intact;
 * the old one is not put into the new arena. */
struct caller {
	struct ace_mp *mp;
	u32 dst;
	int64_t timeout_ns;	/* 0: 1.5 s */
	int r;
	char err[256];
};

static void *mp_caller(void *arg)
{
	struct caller *c = arg;
	struct ace_buf req, reply;

	gate_me();
	c->r = ace_mp_alloc(c->mp, 8, &req);
	if (c->r)
		return NULL;
	memcpy(req.data, "req", 4);
	req.len = 4;
	c->r = ace_mp_call(c->mp, c->dst, &req, &reply,
			   c->timeout_ns ? c->timeout_ns : 1500000000);
	snprintf(c->err, sizeof(c->err), "%s", ace_error(ace_mp_channel(c->mp)));
	if (c->r == 1)
		ace_mp_free(c->mp, &reply);
	return NULL;
}

/* The guest, as mproc `gname` of the arena now, sends the host's `to` a
 * message of type `type`; its id, or 0. */
static u32 guest_send(struct dev *d, const char *gname, u32 to, u32 type)
{
	struct ace_arena ga;
	u32 me;
	s64 off;

	guest_view(d, &ga);
	if (ace_mproc_lookup(&ga, gname, &me) &&
	    ace_mproc_claim(&ga, gname, ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
			    ACE_MODE_POLL, &me))
		return 0;
	off = ace_alloc(&ga, 8, me);
	if (off < 0)
		return 0;
	memcpy(ace_payload(&ga, (u32)off), "msg", 4);
	if (ace_send_msg(&ga, me, to, (u32)off, 4, type, 0) < 0)
		return 0;
	return me;
}

/* Start a call from `c->mp` to `c->dst` in a thread held at its first
 * wait (its disarm); 0 once it is there. */
static int call_start(struct caller *c, pthread_t *t)
{
	gate_set("ace_disarm");
	pthread_create(t, NULL, mp_caller, c);
	return gate_wait_held();
}

static void case_persist_call(void)
{
	struct caller c = { 0 };
	struct ace_buf b;
	struct ace *ch;
	struct dev d;
	pthread_t t;
	long t0;
	int r, i;

	r = open_dev_flags(&d, &ch, HELLO_OK, 2000, ACE_PERSIST);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "cli", ACE_MODE_INTERRUPT, &c.mp) == 0, "%s",
	      ace_error(ch));

	/* 1. the guest's service, which never answers, and a message to
	 * cli that is not the reply (the call keeps it); arena 2 while the
	 * call waits, and a message there */
	c.dst = guest_send(&d, "gsvc", ace_mp_id(c.mp), 1);
	CHECK(c.dst != 0, "the guest's first message");
	CHECK(call_start(&c, &t) == 0, "the call never waited");
	r = persist_next(&d, ch, 2, NULL, NULL);
	CHECK(r == ACE_SVC_REATTACHED, "arena 2: %d (%s)", r, ace_error(ch));
	CHECK(guest_send(&d, "gsvc", ace_mp_id(c.mp), 2) != 0,
	      "the guest's message in arena 2");
	gate_open();
	pthread_join(t, NULL);
	CHECK(c.r == -ENOTCONN && strstr(c.err, "during the call"),
	      "the call across arena 2: %d (%s)", c.r, c.err);
	r = ace_mp_recv(c.mp, &b, 100000000);
	CHECK(r == 1 && b.type == 2 && !memcmp(b.data, "msg", 4),
	      "arena 2's message afterwards: %d, type %u (%s)", r, r == 1 ? b.type : 0,
	      ace_error(ch));
	if (r == 1)
		ace_mp_free(c.mp, &b);
	r = ace_mp_recv(c.mp, &b, ACE_NOWAIT);
	CHECK(r == 0, "nothing more: %d, type %u (%s)", r, r == 1 ? b.type : 0,
	      ace_error(ch));

	/* 2. arena 3 while the call waits, and nothing sent there: the call
	 * ends then, not at its timeout (1.5 s) */
	c.dst = guest_send(&d, "gsvc", ace_mp_id(c.mp), 3);
	CHECK(c.dst != 0, "the guest's message in arena 2");
	CHECK(call_start(&c, &t) == 0, "the second call never waited");
	r = persist_next(&d, ch, 3, NULL, NULL);
	CHECK(r == ACE_SVC_REATTACHED, "arena 3: %d (%s)", r, ace_error(ch));
	t0 = now_ms();
	gate_open();
	pthread_join(t, NULL);
	CHECK(c.r == -ENOTCONN && now_ms() - t0 < 1000,
	      "a quiet re-attach ended the call: %d after %ld ms (%s)", c.r,
	      now_ms() - t0, c.err);

	/* 2b. the same in poll mode: the call spins, and the spin ends
	 * when the mproc is created again, not at the timeout (3 s) */
	{
		struct caller pc = { 0 };

		CHECK(ace_mp_create(ch, "pcli", ACE_MODE_POLL, &pc.mp) == 0, "%s",
		      ace_error(ch));
		pc.dst = guest_send(&d, "gsvc", ace_mp_id(pc.mp), 5);
		pc.timeout_ns = 3000000000;
		pthread_create(&t, NULL, mp_caller, &pc);
		usleep(200000);		/* it spins by now */
		r = persist_next(&d, ch, 4, NULL, NULL);
		CHECK(r == ACE_SVC_REATTACHED, "arena 4: %d (%s)", r, ace_error(ch));
		t0 = now_ms();
		pthread_join(t, NULL);
		CHECK(pc.r == -ENOTCONN && now_ms() - t0 < 1000,
		      "a re-attach ended a polling call: %d after %ld ms (%s)", pc.r,
		      now_ms() - t0, pc.err);
		ace_mp_close(pc.mp);
	}

	/* 3. four arenas while the call waits: what it waits on is freed
	 * by the second unless the call holds it (ASan: use after free) */
	c.dst = guest_send(&d, "gsvc", ace_mp_id(c.mp), 4);
	CHECK(c.dst != 0, "the guest's message in arena 3");
	CHECK(call_start(&c, &t) == 0, "the third call never waited");
	for (i = 5; i < 9; i++) {
		r = persist_next(&d, ch, (u64)i, NULL, NULL);
		CHECK(r == ACE_SVC_REATTACHED, "arena %d: %d (%s)", i, r, ace_error(ch));
	}
	gate_open();
	pthread_join(t, NULL);
	CHECK(c.r == -ENOTCONN, "the call across four arenas: %d (%s)", c.r, c.err);
	CHECK(guest_round_trip(&d, ch, c.mp, "cli", "g8"), "cli serves in arena 8");
	ace_close(ch);
out:
	dev_close(&d);
}

/* held_flags: the guest rewrites the flags of a block a host mproc
 * received and holds (its owner word left alone): the host's send of it
 * is refused as the guest's doing, -EIO and the arena broken, not the
 * caller's -EINVAL (found by vm/hostile-guest's double-fetch, where a
 * service exited with "send: Invalid argument" and the guest was never
 * told).  (A block that is not ours, as contract case reuse sends, stays
 * -EINVAL.) */
/* held_flags and held_free: the guest flips the flags of a block svc
 * holds, then svc sends (or frees) it. */
static void held_case(int by_free)
{
	const char *what = by_free ? "free" : "send";
	struct ace_arena ga;
	struct ace_buf b, other;
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	u32 g;
	int r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_POLL, &mp) == 0, "%s", ace_error(ch));
	g = guest_send(&d, "gcli", ace_mp_id(mp), 1);
	CHECK(g != 0, "the guest's message");
	r = ace_mp_recv(mp, &b, 1000000000);
	CHECK(r == 1, "received: %d (%s)", r, ace_error(ch));
	if (r != 1)
		goto close;
	guest_view(&d, &ga);
	ace_write_once(&ace_msg(&ga, b.off)->flags, ACE_MSG_FREE);
	r = by_free ? ace_mp_free(mp, &b) : ace_mp_send(mp, g, &b);
	CHECK(r == -EIO && strstr(ace_error(ch), "changed under it"),
	      "%s of a held block whose flags the guest changed: %d (%s)", what,
	      r, ace_error(ch));
	r = ace_mp_alloc(mp, 8, &other);
	CHECK(r == -EIO, "the arena is broken after it: alloc %d (%s)", r, ace_error(ch));
close:
	ace_close(ch);
out:
	dev_close(&d);
}

static void case_held_flags(void)
{
	held_case(0);
}

/* held_free: as held_flags, but the host frees the block: -EIO, the
 * arena broken (before: -EINVAL "free: Invalid argument", so a sink such
 * as ace-echo -S exited on the caller's error and the guest was never
 * told). */
static void case_held_free(void)
{
	held_case(1);
}

/* The guest mproc `g` sends back what it received. */
static void guest_echo(struct dev *d, u32 g)
{
	struct ace_msg_desc m;
	struct ace_arena ga;
	struct ace_rx rx;
	int i;

	guest_view(d, &ga);
	ace_rx_init(&rx, g);
	for (i = 0; i < 200; i++) {
		if (ace_recv(&ga, &rx, &m) == 1) {
			if (ace_send_msg(&ga, g, m.src, m.off, m.len, 0, 0) < 0)
				ace_free(&ga, m.off);
			return;
		}
		usleep(1000);
	}
}

/* misuse: the host program's own mistakes stay its -EINVAL and leave the
 * arena whole (before: a send after free was taken for the guest's
 * doing, and broke the arena, blaming the guest). */
static void case_misuse(void)
{
	struct ace_buf b, c;
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	u32 g;
	int r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_POLL, &mp) == 0, "%s", ace_error(ch));
	CHECK(ace_mp_alloc(mp, 8, &b) == 0, "alloc: %s", ace_error(ch));
	CHECK(ace_mp_free(mp, &b) == 0, "free: %s", ace_error(ch));
	r = ace_mp_free(mp, &b);
	CHECK(r == -EINVAL, "a double free: %d (%s)", r, ace_error(ch));
	r = ace_mp_send(mp, ace_mp_id(mp), &b);
	CHECK(r == -EINVAL, "a send after free: %d (%s)", r, ace_error(ch));
	CHECK(ace_mp_alloc(mp, 8, &c) == 0, "alloc: %s", ace_error(ch));
	CHECK(ace_mp_send(mp, ace_mp_id(mp), &c) == 0, "send to itself: %s", ace_error(ch));
	r = ace_mp_send(mp, ace_mp_id(mp), &c);
	CHECK(r == -EINVAL, "its second send: %d (%s)", r, ace_error(ch));
	r = ace_mp_free(mp, &c);
	CHECK(r == -EINVAL, "a free of it while queued: %d (%s)", r, ace_error(ch));
	r = ace_mp_recv(mp, &c, 1000000000);
	CHECK(r == 1, "it arrives once: %d (%s)", r, ace_error(ch));
	CHECK(ace_mp_free(mp, &c) == 0, "and is freed: %s", ace_error(ch));
	/* sent to the guest, sent back by it, and the stale buffer freed
	 * before it is received */
	CHECK(ace_mp_alloc(mp, 8, &c) == 0, "alloc: %s", ace_error(ch));
	b = c;
	g = guest_send(&d, "gback", ace_mp_id(mp), 1);	/* claims gback */
	CHECK(g != 0, "the guest's mproc");
	if (ace_mp_recv(mp, &c, 1000000000) == 1)
		ace_mp_free(mp, &c);
	CHECK(ace_mp_send(mp, g, &b) == 0, "send to the guest: %s", ace_error(ch));
	guest_echo(&d, g);
	r = ace_mp_free(mp, &b);
	CHECK(r == -EINVAL, "a free after the send, the block sent back: %d (%s)",
	      r, ace_error(ch));
	r = ace_mp_recv(mp, &c, 1000000000);
	CHECK(r == 1 && c.off == b.off, "it arrives: %d (%s)", r, ace_error(ch));
	if (r == 1)
		CHECK(ace_mp_free(mp, &c) == 0, "and is freed: %s", ace_error(ch));
	CHECK(guest_round_trip(&d, ch, mp, "svc", "gcli"),
	      "the arena is whole: the guest reaches svc");
	ace_close(ch);
out:
	dev_close(&d);
}

/* errors: ace_error() is per thread.  Before: one buffer per channel,
 * so a thread read the other's message (and TSan saw the race). */
struct err_thread {
	struct ace *ch;
	unsigned mode;
	int wrong;
	char seen[128];
};

static void *err_worker(void *p)
{
	struct err_thread *t = p;
	char want[64];
	struct ace_mp *mp;
	int i;

	snprintf(want, sizeof(want), "mode %u is not", t->mode);
	for (i = 0; i < 20000; i++) {
		if (ace_mp_create(t->ch, "x", t->mode, &mp) != -EINVAL ||
		    strncmp(ace_error(t->ch), want, strlen(want))) {
			if (!t->wrong++)
				snprintf(t->seen, sizeof(t->seen), "%s", ace_error(t->ch));
		}
	}
	return NULL;
}

static void case_errors(void)
{
	struct err_thread t[2];
	pthread_t th[2];
	struct ace_mp *mp;
	struct ace *ch;
	struct dev d;
	int i, r;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	for (i = 0; i < 2; i++) {
		t[i] = (struct err_thread){ .ch = ch, .mode = 7 + (unsigned)i };
		pthread_create(&th[i], NULL, err_worker, &t[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK(!t[i].wrong, "thread %d read another's message %d times of "
		      "20000 (\"%s\")", i, t[i].wrong, t[i].seen);
	}
	CHECK(ace_mp_create(ch, "x", 9, &mp) == -EINVAL &&
	      !strncmp(ace_error(ch), "mode 9 is not", 13), "this thread's: %s",
	      ace_error(ch));
	ace_close(ch);
	dev_close(&d);
	/* a channel opened after it (maybe at the same address) has no
	 * error yet: not the closed one's */
	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	CHECK(!strstr(ace_error(ch), "mode 9"), "a new channel says the closed "
	      "one's error: %s", ace_error(ch));
	ace_close(ch);
out:
	dev_close(&d);
}

/* The device's side of the connection: read what the peer sent for up to
 * `ms`; 1 if a BROKEN report came among it (why in *why). */
static int dev_got_broken(struct dev *d, int ms, char *why, size_t len)
{
	long end = now_ms() + ms;
	struct {
		struct ace_peer_msg m;
		struct ace_peer_broken b;
	} msg;
	size_t got = 0;
	ssize_t r;

	while (now_ms() < end) {
		r = recv(d->conn, (char *)&msg + got, sizeof(msg.m) - got, MSG_DONTWAIT);
		if (r <= 0) {
			usleep(5000);
			continue;
		}
		got += (size_t)r;
		if (got < sizeof(msg.m))
			continue;
		got = 0;
		if (msg.m.type != ACE_PEER_BROKEN || msg.m.len != sizeof(msg.b)) {
			/* no body (DETACHED, BELL_REQ): nothing to skip */
			continue;
		}
		if (recv(d->conn, &msg.b, sizeof(msg.b), MSG_WAITALL) != sizeof(msg.b))
			return 0;
		msg.b.why[ACE_WHY_MAX - 1] = 0;
		snprintf(why, len, "%s", msg.b.why);
		return 1;
	}
	return 0;
}

static const char *mode_name(unsigned mode)
{
	return mode == ACE_MODE_POLL ? "poll" :
	       mode == ACE_MODE_INTERRUPT ? "interrupt" : "adaptive";
}

struct receiver {
	struct ace_mp *mp;
	int r, done;
	char err[512];
};

static void *mp_receiver(void *arg)
{
	struct receiver *x = arg;
	struct ace_buf b;

	x->r = ace_mp_recv(x->mp, &b, ACE_FOREVER);
	snprintf(x->err, sizeof(x->err), "%s", ace_error(ace_mp_channel(x->mp)));
	if (x->r == 1)
		ace_mp_free(x->mp, &b);
	__atomic_store_n(&x->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* closed_inbox: the guest writes ACE_INBOX_CLOSED into the inbox of a
 * host mproc that waits in ace_mp_recv(ACE_FOREVER): in every mode the
 * wait ends with -EIO naming it, and the device is told (a polling
 * receiver spun on for ever, silent, its senders turned away). */
static void case_closed_inbox(void)
{
	static const unsigned modes[] = { ACE_MODE_POLL, ACE_MODE_ADAPTIVE,
					  ACE_MODE_INTERRUPT };
	char why[ACE_WHY_MAX];
	struct ace_arena ga;
	struct ace *ch;
	struct dev d;
	unsigned i;
	int r, k;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct receiver x = { 0 };
		struct ace_mproc *e;
		pthread_t t;

		r = open_dev(&d, &ch, HELLO_OK, 2000);
		CHECK(r == 0, "open: %s", ace_error(ch));
		if (r)
			goto next;
		r = ace_mp_create(ch, "svc", modes[i], &x.mp);
		CHECK(r == 0, "create: %s", ace_error(ch));
		if (r)
			goto next;
		pthread_create(&t, NULL, mp_receiver, &x);
		usleep(100000);		/* it waits by now */
		guest_view(&d, &ga);
		e = ace_mproc_at(&ga, ACE_ID_SLOT(ace_mp_id(x.mp)));
		ace_write_once(&e->inbox, ACE_INBOX_CLOSED);
		for (k = 0; k < 300 && !__atomic_load_n(&x.done, __ATOMIC_ACQUIRE); k++)
			usleep(10000);
		CHECK(x.done, "%s mode: the receiver still waits 3 s after the guest "
		      "closed its inbox", mode_name(modes[i]));
		if (!x.done) {
			/* let it go: a message it can take */
			ace_write_once(&e->inbox, 0);
			guest_send(&d, "gcli", ace_mp_id(x.mp), 1);
		}
		pthread_join(t, NULL);
		if (x.done == 1 && k < 300) {
			CHECK(x.r == -EIO && strstr(x.err, "closed under its owner"),
			      "%s mode: recv %d (%s)", mode_name(modes[i]), x.r, x.err);
			CHECK(dev_got_broken(&d, 1000, why, sizeof(why)) &&
			      strstr(why, "closed under its owner"),
			      "%s mode: the device is not told the arena is broken",
			      mode_name(modes[i]));
		}
next:
		ace_close(ch);
		dev_close(&d);
	}
}


/* reformat: an honest guest formatting its next arena closes every slot,
 * and the device's DETACH may reach the peer after that (here: 50 ms).  A
 * polling receive must end with the DETACH (-ENOTCONN, ACE_PERSIST), not
 * take the closed inbox for a peer's attack (before: -EIO at once, the
 * arena reported broken, and ace-echo -m poll exited). */
static void case_reformat(void)
{
	char why[ACE_WHY_MAX];
	struct ace_buf b;
	struct receiver x = { 0 };
	struct ace_arena ga;
	struct ace *ch;
	struct dev d;
	pthread_t t;
	int r, k;

	r = open_dev_flags(&d, &ch, HELLO_OK, 2000, ACE_PERSIST);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	r = ace_mp_create(ch, "svc", ACE_MODE_POLL, &x.mp);
	CHECK(r == 0, "create: %s", ace_error(ch));
	if (r)
		goto out;
	pthread_create(&t, NULL, mp_receiver, &x);
	usleep(100000);		/* it waits by now */
	guest_view(&d, &ga);
	ace_write_once(&ace_mproc_at(&ga, ACE_ID_SLOT(ace_mp_id(x.mp)))->inbox,
		       ACE_INBOX_CLOSED);
	usleep(50000);
	dev_send(&d, ACE_PEER_DETACH);
	for (k = 0; k < 300 && !__atomic_load_n(&x.done, __ATOMIC_ACQUIRE); k++)
		usleep(10000);
	CHECK(x.done, "the receiver still waits 3 s after the DETACH");
	if (!x.done) {
		dev_close(&d);	/* the connection ends: it returns */
		pthread_join(t, NULL);
		ace_close(ch);
		return;
	}
	pthread_join(t, NULL);
	CHECK(x.r == -ENOTCONN, "a polling receive across a reformat: %d (%s)",
	      x.r, x.err);
	CHECK(!dev_got_broken(&d, 300, why, sizeof(why)),
	      "the device was told the arena is broken: %s", why);
	/* the next arena; then its DETACH comes before a receive meets the
	 * one after it, half formatted (a link that is no block): the
	 * receive reads the DETACH first (before: -EIO, reported broken) */
	r = persist_next(&d, ch, 2, NULL, NULL);
	CHECK(r == ACE_SVC_REATTACHED, "the next arena: %d (%s)", r, ace_error(ch));
	dev_send(&d, ACE_PEER_DETACH);
	usleep(50000);
	guest_view(&d, &ga);
	ace_write_once(&ace_mproc_at(&ga, ACE_ID_SLOT(ace_mp_id(x.mp)))->inbox, 12345);
	r = ace_mp_recv(x.mp, &b, ACE_NOWAIT);
	CHECK(r == -ENOTCONN, "a receive that meets the next arena after the "
	      "DETACH came: %d (%s)", r, ace_error(ch));
	CHECK(!dev_got_broken(&d, 300, why, sizeof(why)),
	      "the device was told the arena is broken: %s", why);
out:
	ace_close(ch);
	dev_close(&d);
}

struct armer {
	struct ace_mp *mp;
	int stop;
	unsigned long rounds;
};

static void *mp_armer(void *arg)
{
	struct armer *x = arg;

	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		if (ace_mp_arm(x->mp) >= 0)
			ace_mp_disarm(x->mp);
		ace_mp_fd_ack(x->mp);
		__atomic_add_fetch(&x->rounds, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* kick_eof: the device closes its end of the kick socket (QEMU going
 * away) while one thread arms and acks its mproc's fd (each takes the
 * kicks waiting) and another runs ace_service(): the connection ends
 * once, -EPIPE, with no race on it (built with TSan too). */
static void case_kick_eof(void)
{
	struct armer x = { 0 };
	struct ace *ch;
	struct dev d;
	pthread_t t;
	long t0;
	u64 one = 1;
	int r = 0, k;

	r = open_dev(&d, &ch, HELLO_OK, 2000);
	CHECK(r == 0, "open: %s", ace_error(ch));
	if (r)
		goto out;
	CHECK(ace_mp_create(ch, "svc", ACE_MODE_INTERRUPT, &x.mp) == 0, "%s",
	      ace_error(ch));
	if (!x.mp) {
		ace_close(ch);
		goto out;
	}
	pthread_create(&t, NULL, mp_armer, &x);
	t0 = now_ms();
	while (__atomic_load_n(&x.rounds, __ATOMIC_RELAXED) < 100 && now_ms() - t0 < 2000)
		usleep(1000);
	/* kicks for both to take, then the end of them */
	for (k = 0; k < 200; k++) {
		if (write(d.kick, &one, sizeof(one)) != sizeof(one))
			break;
		ace_service(ch);
	}
	close(d.kick);
	d.kick = -1;
	t0 = now_ms();
	while ((r = ace_service(ch)) != -EPIPE && now_ms() - t0 < 2000)
		usleep(1000);
	__atomic_store_n(&x.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK(r == -EPIPE && strstr(ace_error(ch), "closed the connection"),
	      "after the kick socket's end: %d (%s)", r, ace_error(ch));
	printf("kick_eof: %lu arm rounds\n", x.rounds);
	ace_close(ch);
out:
	dev_close(&d);
}


static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "refused", case_refused }, { "racing", case_racing },
	{ "smaller", case_smaller }, { "stall", case_stall },
	{ "pipe", case_pipe }, { "blocking", case_blocking },
	{ "noaccept", case_noaccept },
	{ "reuse", case_reuse }, { "cross", case_cross }, { "close", case_close },
	{ "persist", case_persist }, { "persist_race", case_persist_race },
	{ "persist_storm", case_persist_storm },
	{ "persist_call", case_persist_call },
	{ "held_flags", case_held_flags }, { "held_free", case_held_free },
	{ "misuse", case_misuse }, { "errors", case_errors },
	{ "closed_inbox", case_closed_inbox }, { "reformat", case_reformat },
	{ "kick_eof", case_kick_eof },
};

static const char *running;

static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "FAIL: case %s hung (20 s)\n", running);
	_exit(1);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/ace-contract-XXXXXX";
	int fds0, fds1, i, k;

	if (argc == 5 && !strcmp(argv[1], "--image")) {
		/* for tests/host/test_hostile_dev.sh: a formatted arena */
		struct dev d = { .memfd = -1 };
		FILE *f = fopen(argv[2], "w");

		dev_arena(&d, (u32)atoi(argv[3]) * 1024u, (u32)atoi(argv[4]), 1);
		if (!f || fwrite(d.mem, 1, d.size, f) != d.size || fclose(f))
			return 1;
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	strcpy(sa.sun_path, sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)) {
		perror("listen");
		return 1;
	}
	fds0 = count_fds();
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		int want = argc < 2;

		for (k = 1; k < argc; k++)
			want |= !strcmp(argv[k], cases[i].name);
		if (!want)
			continue;
		k = failures;
		running = cases[i].name;
		alarm(20);
		cases[i].fn();
		alarm(0);
		printf("%s %s\n", failures == k ? "ok" : "FAILED", cases[i].name);
		fflush(stdout);
	}
	fds1 = count_fds();
#if !defined(__SANITIZE_THREAD__) && !(defined(__has_feature) && __has_feature(thread_sanitizer))
	/* (not under TSan: its symbolizer keeps pipes open; the ASan build
	 * counts them) */
	CHECK(fds0 == fds1, "fds: %d before, %d after", fds0, fds1);
#endif
	close(lfd);
	unlink(sock_path);
	rmdir(dir);
	printf("test_contract: %d failure(s), fds %d -> %d\n", failures, fds0, fds1);
	return failures ? 1 : 0;
}
