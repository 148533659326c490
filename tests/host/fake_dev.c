// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * fake_dev - a virtio-ace device and the guest behind it, in one host
 * process, for host-only tests (no QEMU, no VM).
 *
 * The device side speaks the host peer protocol on a UNIX socket as
 * host-qemu-device/hw/virtio/virtio-ace.c does: HELLO with the kick and
 * raise socket pairs, ARENA with the arena's fd, BROKEN reports taken in,
 * a peer's mprocs reaped when its connection closes, and the pending
 * bitmap scanned when a peer raises (host mprocs: relayed to their peer's
 * kick; guest mprocs: an "interrupt" that wakes the waiting guest thread).
 * The arena is a sealed memfd formatted with the core (ace_arena_init).
 *
 * The guest side plays a role (-r):
 *   echo          "echo" answers every message, "sink" frees them; a prober
 *                 claims and releases an mproc every 10 ms and counts
 *                 -ENOSPC (the bridge must leave this guest room)
 *   ping:NAME     round trips to NAME (a proxy the bridge shows here), one
 *                 at a time; prints "rate N max_us M" (round trips and the
 *                 slowest, in us) per 0.5 s window and "mark"
 *                 on SIGUSR1, so a test can tell phases apart
 *   attack        a hostile guest, one thread as a 1-vCPU guest would have:
 *                 publishes names without end (claims until the table is
 *                 full, then releases the oldest and claims a new one),
 *                 sends to every proxy it sees with forged src ids (random
 *                 ids, its own many mprocs, the bridge's proxies), floods
 *                 "--flood NAME" and rings every doorbell; plus the names
 *                 below
 *   names         mprocs whose names hold terminal escapes, newlines,
 *                 quotes, backslashes, control bytes and invalid UTF-8
 *   reflect:NAME[,AS]  one message to the host's NAME with its src forged
 *                 to AS's id (default NAME's own); prints "reflected N",
 *                 what NAME sent in the second after
 * Device-side attacks (any role):
 *   --junk        flood every peer with messages of an unknown type
 *   --break SECS  every SECS, cut every peer's connection in the middle of
 *                 a message (header, then body, in turn)
 *   --reattach SECS  (role names) every SECS, DETACH, 0.3 s without an
 *                 arena, then a freshly formatted one (a guest reboot)
 * Measures (printed at exit, "fake_dev: key value" lines):
 *   --watch PREFIX   the most slots whose names start with PREFIX seen at
 *                    once (sampled every 10 ms)
 * Attack knobs: --flood NAME (default b/sink), --names N (names held at
 * once; default all slots but 32, room for the proxies shown here).
 *
 *   fake_dev -s SOCK -r ROLE [-t SECS] [--mprocs N] [--arena-kb N] ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
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

#define MAX_PEERS	8
#define GUEST_SIDE	ACE_SIDE(ACE_SIDE_GUEST_USER, 0)

struct peer {
	int up, sock, kick, raise;	/* the device's ends of the pairs */
	int kick_peer, raise_peer;	/* the peer's, kept until it goes */
	u8 pend[32];		/* a junk message partly written */
	int pend_len, pend_off;
	int told_broken;
};

static struct ace_arena A;
static u8 *mem;
static int memfd = -1;
static u32 arena_size = 1u << 20, nr_mprocs = 64;
static u64 generation = 1;
static struct peer peers[MAX_PEERS];
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;
static int slot_efd[ACE_MAX_MPROCS];	/* guest waiters' eventfds */
static volatile int stop;
static volatile int marks;
static int junk;
static double break_secs, reattach_secs;
static const char *watch_prefix, *flood_to = "b/sink";
static u32 names_max;		/* attack: names held at once */

/* results */
static u64 st_interrupts, st_relays, st_peers, st_breaks, st_junk;
static u64 st_probes, st_probe_fail, st_watch_max;
static u64 st_names, st_forged, st_flood, st_flood_nobufs, st_kicks;
static u64 st_rt, st_rt_timeouts, st_echoed, st_reattach;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		marks++;
	else
		stop = 1;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static void sleep_ns(u64 ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };

	nanosleep(&ts, NULL);
}

static void die(const char *what)
{
	fprintf(stderr, "fake_dev: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- the device: peer protocol ---- */

/* Send one whole message with fds, waiting (bounded) for room. */
static int peer_send(struct peer *p, u32 type, const void *body, u32 len,
		     const int *fds, int nfds)
{
	struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC, .type = type, .len = len };
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	size_t total = sizeof(h) + len, done = 0;
	u64 deadline = now_ns() + 1000000000ull;

	/* a junk message partly out goes first: the stream stays framed */
	while (p->pend_len) {
		ssize_t r = send(p->sock, p->pend + p->pend_off,
				 (size_t)(p->pend_len - p->pend_off), MSG_NOSIGNAL);

		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r > 0 && (p->pend_off += (int)r) == p->pend_len)
			p->pend_len = p->pend_off = 0;
		if (r < 0 && now_ns() > deadline)
			return -1;
		if (r < 0)
			sleep_ns(100000);
	}
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
	while (done < total) {
		ssize_t r = sendmsg(p->sock, &m, MSG_NOSIGNAL);

		if (r < 0) {
			if ((errno != EAGAIN && errno != EINTR) || now_ns() > deadline)
				return -1;
			sleep_ns(100000);
			continue;
		}
		done += (size_t)r;
		m.msg_control = NULL;	/* the fds went with the first byte */
		m.msg_controllen = 0;
		while (r > 0 && m.msg_iovlen) {
			size_t k = (size_t)r < m.msg_iov[0].iov_len ? (size_t)r :
				   m.msg_iov[0].iov_len;

			m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + k;
			m.msg_iov[0].iov_len -= k;
			r -= (ssize_t)k;
			if (!m.msg_iov[0].iov_len) {
				m.msg_iov++;
				m.msg_iovlen--;
			}
		}
	}
	return 0;
}

/*
 * ACE_PEER_ARENA to peer p: the one place that knows this message's
 * layout: struct ace_peer_arena { arena_size, region_size, generation }
 * and one fd, the region's sealed memfd, mapped from offset 0.
 */
static int send_arena(struct peer *p)
{
	struct ace_peer_arena body = {
		.arena_size = arena_size, .region_size = arena_size,
		.generation = generation,
	};
	return peer_send(p, ACE_PEER_ARENA, &body, sizeof(body), &memfd, 1);
}

static void peer_down(int i)
{
	struct peer *p = &peers[i];
	u32 slot;

	pthread_mutex_lock(&plock);
	if (!p->up) {
		pthread_mutex_unlock(&plock);
		return;
	}
	p->up = 0;
	close(p->sock);
	close(p->kick);
	close(p->raise);
	close(p->kick_peer);
	close(p->raise_peer);
	p->sock = p->kick = p->raise = p->kick_peer = p->raise_peer = -1;
	p->pend_len = p->pend_off = 0;
	pthread_mutex_unlock(&plock);
	/* as the device does: every mproc the peer owned, in any state */
	for (slot = 0; slot < A.nr_mprocs; slot++)
		if (ace_read_once(&ace_mproc_at(&A, slot)->side) ==
		    ACE_SIDE(ACE_SIDE_HOST, (u32)i))
			ace_mproc_reap(&A, slot);
}

static void peer_accept(int lfd)
{
	struct ace_peer_hello hello = {
		.abi_version = ACE_ABI_VERSION, .max_peers = MAX_PEERS,
		.section_ns = 1000000,
	};
	int s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), i, fds[2], kp[2], rp[2];
	struct peer *p;

	if (s < 0)
		return;
	for (i = 0; i < MAX_PEERS && peers[i].up; i++)
		;
	if (i == MAX_PEERS) {
		struct peer tmp = { .sock = s };

		peer_send(&tmp, ACE_PEER_FULL, NULL, 0, NULL, 0);
		close(s);
		return;
	}
	p = &peers[i];
	memset(p, 0, sizeof(*p));
	p->sock = s;
	/* as the device does (ABI 2.1): a one-way socket pair each */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kp) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rp))
		die("socketpair");
	shutdown(kp[0], SHUT_RD);
	shutdown(kp[1], SHUT_WR);
	shutdown(rp[0], SHUT_WR);
	shutdown(rp[1], SHUT_RD);
	fcntl(kp[0], F_SETFL, O_NONBLOCK);
	fcntl(rp[0], F_SETFL, O_NONBLOCK);
	p->kick = kp[0];
	p->kick_peer = kp[1];
	p->raise = rp[0];
	p->raise_peer = rp[1];
	fcntl(s, F_SETFL, O_NONBLOCK);
	hello.peer = (u32)i;
	fds[0] = p->kick_peer;
	fds[1] = p->raise_peer;
	p->up = 1;
	st_peers++;
	if (peer_send(p, ACE_PEER_HELLO, &hello, sizeof(hello), fds, 2) ||
	    send_arena(p))
		peer_down(i);
}

/* A guest mproc whose pending bit is set: "interrupt" it if it waits. */
static void guest_deliver(u32 slot)
{
	u64 one = 1;

	if (ace_delivery(&A, slot, NULL) != ACE_DELIVER_NOW)
		return;
	ace_pending_clear(&A, slot);
	ace_count_shared(&ace_mproc_at(&A, slot)->c.interrupts, 1);
	__atomic_add_fetch(&st_interrupts, 1, __ATOMIC_RELAXED);
	if (slot_efd[slot] > 0 && write(slot_efd[slot], &one, sizeof(one)) < 0)
		return;
}

/* Ring host peer i's doorbell (its kick). */
static void kick_peer(u32 i)
{
	static const char one = 1;

	pthread_mutex_lock(&plock);
	if (i < MAX_PEERS && peers[i].up &&
	    send(peers[i].kick, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		st_relays++;
	pthread_mutex_unlock(&plock);
}

/* The device's scan of the pending bitmap after a raise. */
static void scan(int raiser)
{
	u32 w;

	for (w = 0; w < A.nr_pending_words; w++) {
		u64 bits = ace_pending_peek(&A, w);

		while (bits) {
			u32 slot = w * 64 + (u32)__builtin_ctzll(bits), side;

			bits &= bits - 1;
			if (slot >= A.nr_mprocs)
				break;
			side = ace_read_once(&ace_mproc_at(&A, slot)->side);
			if (ACE_SIDE_KIND(side) == ACE_SIDE_HOST) {
				if ((int)ACE_SIDE_PEER(side) != raiser)
					kick_peer(ACE_SIDE_PEER(side));
				continue;
			}
			guest_deliver(slot);
		}
	}
}

/* Cut every peer's connection mid-message: a header alone, or a header
 * and part of its body. */
static void break_all(void)
{
	static int turn;
	struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC, .type = 99, .len = 64 };
	u8 buf[sizeof(h) + 16] = { 0 };
	int i;

	memcpy(buf, &h, sizeof(h));
	for (i = 0; i < MAX_PEERS; i++) {
		if (!peers[i].up)
			continue;
		if (send(peers[i].sock, buf, turn & 1 ? sizeof(buf) : 8,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* full or gone: cut it all the same */
		}
		peer_down(i);
		st_breaks++;
	}
	turn++;
}

/* Junk: a message of an unknown type, as fast as the peer reads. */
static void junk_one(struct peer *p)
{
	struct ace_peer_msg h = { .magic = ACE_PEER_MAGIC, .type = 77, .len = 8 };
	ssize_t r;

	if (!p->pend_len) {
		memcpy(p->pend, &h, sizeof(h));
		memset(p->pend + sizeof(h), 0x5a, 8);
		p->pend_len = sizeof(h) + 8;
		p->pend_off = 0;
		st_junk++;
	}
	r = send(p->sock, p->pend + p->pend_off, (size_t)(p->pend_len - p->pend_off),
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r > 0 && (p->pend_off += (int)r) == p->pend_len)
		p->pend_len = p->pend_off = 0;
}

static void publish_evil_names(void);

/* The guest detaches its arena and attaches a fresh one (role names:
 * no guest thread holds an mproc). */
static void reattach(void)
{
	struct ace_geometry g;
	int i;

	for (i = 0; i < MAX_PEERS; i++)
		if (peers[i].up && peer_send(&peers[i], ACE_PEER_DETACH, NULL, 0, NULL, 0))
			peer_down(i);
	sleep_ns(300000000);	/* detached a while: the tools must notice */
	generation++;
	if (ace_geometry_default(arena_size, nr_mprocs, &g) ||
	    ace_arena_init(&A, mem, arena_size, &g, generation))
		exit(1);
	publish_evil_names();
	for (i = 0; i < MAX_PEERS; i++)
		if (peers[i].up && send_arena(&peers[i]))
			peer_down(i);
}

static void device_loop(int lfd, u64 end)
{
	struct pollfd pf[1 + 2 * MAX_PEERS];
	int who[1 + 2 * MAX_PEERS], n, i, k;
	u64 next_break = break_secs > 0 ? now_ns() + (u64)(break_secs * 1e9) : 0;
	u64 next_re = reattach_secs > 0 ? now_ns() + (u64)(reattach_secs * 1e9) : 0;

	while (!stop && (!end || now_ns() < end)) {
		n = 0;
		pf[n].fd = lfd;
		pf[n].events = POLLIN;
		who[n++] = -1;
		for (i = 0; i < MAX_PEERS; i++) {
			if (!peers[i].up)
				continue;
			pf[n].fd = peers[i].sock;
			pf[n].events = POLLIN | (junk ? POLLOUT : 0);
			who[n++] = i;
			pf[n].fd = peers[i].raise;
			pf[n].events = POLLIN;
			who[n++] = i | 0x100;
		}
		if (poll(pf, (nfds_t)n, 10) < 0 && errno != EINTR)
			die("poll");
		for (k = 0; k < n; k++) {
			int idx = who[k] & 0xff;

			if (!pf[k].revents)
				continue;
			if (who[k] < 0) {
				peer_accept(lfd);
			} else if (who[k] & 0x100) {
				char v[256];

				if (peers[idx].up &&
				    recv(peers[idx].raise, v, sizeof(v), MSG_DONTWAIT) > 0)
					scan(idx);
			} else if (peers[idx].up) {
				u8 buf[512];
				ssize_t r = 0;

				if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) {
					r = recv(peers[idx].sock, buf, sizeof(buf), MSG_DONTWAIT);
					if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
						peer_down(idx);
						continue;
					}
					if (r > 0 && !peers[idx].told_broken) {
						peers[idx].told_broken = 1;
						printf("fake_dev: peer %d sent %zd byte(s) (a BROKEN report?)\n",
						       idx, r);
					}
				}
				if (junk && (pf[k].revents & POLLOUT))
					junk_one(&peers[idx]);
			}
		}
		if (next_break && now_ns() >= next_break) {
			break_all();
			next_break = now_ns() + (u64)(break_secs * 1e9);
		}
		if (next_re && now_ns() >= next_re) {
			reattach();
			st_reattach++;
			next_re = now_ns() + (u64)(reattach_secs * 1e9);
		}
	}
}

/* ---- the guest ---- */

/* After ace_send() said "notify": ring the receiver's side. */
static void guest_notify(u32 dst)
{
	u32 slot = ACE_ID_SLOT(dst), side;

	if (slot >= A.nr_mprocs)
		return;
	side = ace_read_once(&ace_mproc_at(&A, slot)->side);
	if (ACE_SIDE_KIND(side) == ACE_SIDE_HOST)
		kick_peer(ACE_SIDE_PEER(side));	/* the doorbell of its peer */
	else
		guest_deliver(slot);
}

static int guest_claim(const char *name, u32 mode, u32 *id, int *efd)
{
	int r = ace_mproc_claim(&A, name, GUEST_SIDE, mode, id);

	if (r)
		return r;
	if (efd) {
		*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		slot_efd[ACE_ID_SLOT(*id)] = *efd;
	}
	return 0;
}

/* Wait for mail up to ms: arm, sleep on the "interrupt", disarm.  (No
 * spinning: the tests share few CPUs with the bridge and the attacker.) */
static void guest_wait(struct ace_rx *rx, int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	u64 v;

	if (ace_arm(&A, rx) == 0) {
		poll(&p, 1, ms);
		if (read(efd, &v, sizeof(v)) < 0) {
			/* nothing was there */
		}
	}
	ace_disarm(&A, rx);
}

static void *echo_thread(void *arg)
{
	int sink = arg != NULL, efd;
	struct ace_msg_desc d;
	struct ace_rx rx;
	u32 id;
	int r;

	if (guest_claim(sink ? "sink" : "echo", ACE_MODE_INTERRUPT, &id, &efd))
		die("claim echo");
	ace_rx_init(&rx, id);
	while (!stop) {
		r = ace_recv(&A, &rx, &d);
		if (r < 0) {
			fprintf(stderr, "fake_dev: echo: %s\n", ace_arena_why(&A));
			return NULL;
		}
		if (!r) {
			guest_wait(&rx, efd, 100);
			continue;
		}
		if (sink) {
			ace_free(&A, d.off);
			continue;
		}
		r = ace_send(&A, id, d.src, d.off, d.len);
		if (r < 0)
			ace_free(&A, d.off);
		else if (r)
			guest_notify(d.src);
		if (r >= 0)
			__atomic_add_fetch(&st_echoed, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Another guest process, now and then: can it still get a slot? */
static void *probe_thread(void *arg)
{
	u32 id;
	int r;

	(void)arg;
	while (!stop) {
		r = ace_mproc_claim(&A, "probe", GUEST_SIDE, ACE_MODE_POLL, &id);
		st_probes++;
		if (r)
			st_probe_fail++;
		else
			ace_mproc_release(&A, id);
		sleep_ns(10000000);
	}
	return NULL;
}

/* The most slots with names starting with the watched prefix at once. */
static void *watch_thread(void *arg)
{
	size_t n = strlen(watch_prefix);
	char name[ACE_NAME_MAX];
	u32 slot, id;
	u64 c;

	(void)arg;
	while (!stop) {
		for (slot = 0, c = 0; slot < A.nr_mprocs; slot++)
			if (!ace_mproc_name(&A, slot, name, &id) &&
			    !strncmp(name, watch_prefix, n))
				c++;
		if (c > st_watch_max)
			st_watch_max = c;
		sleep_ns(10000000);
	}
	return NULL;
}

static void *ping_thread(void *arg)
{
	const char *to = arg;
	u64 window = now_ns(), n = 0, seq = 0, worst = 0;
	int efd, seen_marks = 0;
	struct ace_msg_desc d;
	struct ace_rx rx;
	u32 id, dst = 0;
	s64 off;
	int r;

	if (guest_claim("ping", ACE_MODE_INTERRUPT, &id, &efd))
		die("claim ping");
	ace_rx_init(&rx, id);
	while (!stop) {
		u64 t0;

		if (marks != seen_marks) {
			seen_marks = marks;
			printf("mark %d\n", seen_marks);
			fflush(stdout);
			window = now_ns();
			n = worst = 0;
		}
		if (now_ns() - window >= 500000000ull) {
			printf("rate %llu max_us %llu\n", (unsigned long long)n,
			       (unsigned long long)(worst / 1000));
			fflush(stdout);
			window += 500000000ull;
			n = worst = 0;
		}
		if (!dst && ace_mproc_lookup(&A, to, &dst)) {
			dst = 0;
			sleep_ns(10000000);
			continue;
		}
		off = ace_alloc(&A, 64, id);
		if (off < 0) {
			sleep_ns(1000000);
			continue;
		}
		ace_msg(&A, (u32)off)->tag = (u32)++seq;
		ace_msg(&A, (u32)off)->type = 0;
		memcpy(ace_payload(&A, (u32)off), &seq, sizeof(seq));
		r = ace_send(&A, id, dst, (u32)off, 64);
		if (r < 0) {
			ace_free(&A, (u32)off);
			dst = 0;	/* gone: look it up again */
			continue;
		}
		if (r)
			guest_notify(dst);
		for (t0 = now_ns(); !stop;) {
			r = ace_recv(&A, &rx, &d);
			if (r == 1) {
				int mine = d.tag == (u32)seq;

				ace_free(&A, d.off);
				if (mine) {
					n++;
					st_rt++;
					if (now_ns() - t0 > worst)
						worst = now_ns() - t0;
					break;
				}
				continue;	/* a late reply to an earlier one */
			}
			if (r < 0) {
				fprintf(stderr, "fake_dev: ping: %s\n", ace_arena_why(&A));
				return NULL;
			}
			if (now_ns() - t0 > 1000000000ull) {
				st_rt_timeouts++;
				dst = 0;
				break;
			}
			guest_wait(&rx, efd, 100);
		}
	}
	return NULL;
}

/* Names no well-behaved guest writes (claimed under a plain name, then
 * rewritten in place: the guest owns the memory). */
static const char *const evil_names[] = {
	"\x1b[31mRED\x1b[0m\x1b]0;owned\x07",
	"new\nline: ace-bridge: fake",
	"quo\"te\\back\\\"slash",
	"bell\x07\x01\x02\x7f",
	"bad\xff\xfe\xc3utf8",
	"utf8-\xc3\xa9-ok",
	"{\"json\": 1}\r\n",
	"c1-\xc2\x9b" "31m",
};
#define NR_EVIL (sizeof(evil_names) / sizeof(evil_names[0]))

static void publish_evil_names(void)
{
	char plain[16];
	unsigned i;
	u32 id;

	for (i = 0; i < NR_EVIL; i++) {
		snprintf(plain, sizeof(plain), "evil%u", i);
		if (ace_mproc_claim(&A, plain, GUEST_SIDE, ACE_MODE_POLL, &id))
			continue;
		memset(ace_mproc_at(&A, ACE_ID_SLOT(id))->name, 0, ACE_NAME_MAX);
		memcpy(ace_mproc_at(&A, ACE_ID_SLOT(id))->name, evil_names[i],
		       strlen(evil_names[i]));
	}
}

static u32 rnd(void)
{
	static u64 x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return (u32)x;
}

static void *attack_thread(void *arg)
{
	u32 fifo[ACE_MAX_MPROCS], head = 0, count = 0, flood_id, flood_dst = 0;
	u64 next_name = 0, round = 0;
	struct ace_rx rx;
	u32 slot, id, k;
	char name[ACE_NAME_MAX];
	s64 off;
	int r;

	(void)arg;
	publish_evil_names();
	if (guest_claim("flood", ACE_MODE_POLL, &flood_id, NULL))
		die("claim flood");
	ace_rx_init(&rx, flood_id);
	while (!stop) {
		struct ace_msg_desc d;

		round++;
		/* names without end: fill the table (but for the room the
		 * bridge needs for the proxies it shows here), then churn */
		for (k = 0; k < 4; k++) {
			snprintf(name, sizeof(name), "n%llu", (unsigned long long)next_name);
			r = count >= names_max ? -ENOSPC :
			    ace_mproc_claim(&A, name, GUEST_SIDE, ACE_MODE_POLL, &id);
			if (r == -ENOSPC && count) {
				ace_mproc_release(&A, fifo[head]);
				head = (head + 1) % ACE_MAX_MPROCS;
				count--;
				r = ace_mproc_claim(&A, name, GUEST_SIDE, ACE_MODE_POLL, &id);
			}
			if (r)
				break;
			fifo[(head + count) % ACE_MAX_MPROCS] = id;
			count++;
			next_name++;
			st_names++;
		}
		/* forged senders, to every proxy in sight */
		for (slot = 0; slot < A.nr_mprocs; slot++) {
			u32 dst, src;

			if (ace_mproc_name(&A, slot, name, &dst) || !strchr(name, '/'))
				continue;
			switch (rnd() % 3) {
			case 0: src = rnd(); break;			/* no mproc */
			case 1: src = count ? fifo[(head + rnd() % count) %
						   ACE_MAX_MPROCS] : rnd();
				break;				/* many of ours */
			default: src = dst; break;		/* the proxy itself */
			}
			/* the core sends only a block its sender holds: the
			 * forger holds it as the one it claims to be */
			off = ace_alloc(&A, 64, src);
			if (off < 0)
				break;
			r = ace_send(&A, src, dst, (u32)off, 64);
			if (r < 0)
				ace_free(&A, (u32)off);
			else
				st_forged++;
			if (r > 0)
				guest_notify(dst);
		}
		/* the flood */
		if (!flood_dst && ace_mproc_lookup(&A, flood_to, &flood_dst))
			flood_dst = 0;
		for (k = 0; flood_dst && k < 256; k++) {
			off = ace_alloc(&A, 64, flood_id);
			if (off < 0) {
				st_flood_nobufs++;
				break;
			}
			r = ace_send(&A, flood_id, flood_dst, (u32)off, 64);
			if (r < 0) {
				ace_free(&A, (u32)off);
				flood_dst = 0;
				break;
			}
			st_flood++;
			if (r > 0)
				guest_notify(flood_dst);
		}
		/* doorbells, all of them */
		for (k = 0; k < MAX_PEERS; k++) {
			kick_peer(k);
			st_kicks++;
		}
		/* whatever comes back is freed unread */
		while (ace_recv(&A, &rx, &d) == 1)
			ace_free(&A, d.off);
		if (!(round & 63))
			sched_yield();
	}
	return NULL;
}

/* reflect:NAME[,AS]: once the host's NAME is up, send it one message
 * whose src is forged to AS's id (default: NAME's own), then count what
 * NAME sends over the next second ("reflected N"): an echo that answers
 * src sends it to itself (or to AS) for ever, or not at all. */
static void *reflect_thread(void *arg)
{
	char name[ACE_NAME_MAX], as[ACE_NAME_MAX];
	const char *spec = arg, *comma = strchr(spec, ',');
	u32 me, dst = 0, src = 0, slot;
	u64 sent0, sent1;
	s64 off;
	int r;

	snprintf(name, sizeof(name), "%.*s", comma ? (int)(comma - spec) : (int)strlen(spec),
		 spec);
	snprintf(as, sizeof(as), "%s", comma ? comma + 1 : name);
	if (guest_claim("reflector", ACE_MODE_POLL, &me, NULL))
		die("claim reflector");
	while (!stop && (ace_mproc_lookup(&A, name, &dst) ||
			 ace_mproc_lookup(&A, as, &src)))
		sleep_ns(10000000);
	if (stop)
		return NULL;
	sleep_ns(200000000);	/* it serves by now */
	/* the forgery: a block held by `src`, sent as `src` */
	off = ace_alloc(&A, 8, src);
	if (off < 0)
		die("reflect: alloc");
	memcpy(ace_payload(&A, (u32)off), "mirror", 7);
	r = ace_send_msg(&A, src, dst, (u32)off, 7, 0, 1);
	if (r < 0)
		die("reflect: send");
	if (r)
		guest_notify(dst);
	slot = ACE_ID_SLOT(dst);
	sleep_ns(200000000);
	sent0 = ace_read_once(&ace_mproc_at(&A, slot)->c.sent);
	sleep_ns(1000000000);
	sent1 = ace_read_once(&ace_mproc_at(&A, slot)->c.sent);
	printf("fake_dev: reflected %llu\n", (unsigned long long)(sent1 - sent0));
	fflush(stdout);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: fake_dev -s SOCK -r echo|ping:NAME|attack|names|reflect:NAME[,AS] "
		"[-t SECS] [--mprocs N] [--arena-kb N] [--flood NAME] [--junk] "
		"[--break SECS] [--reattach SECS] [--watch PREFIX] [--names N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sock", 1, 0, 's' }, { "role", 1, 0, 'r' }, { "time", 1, 0, 't' },
		{ "mprocs", 1, 0, 'M' }, { "arena-kb", 1, 0, 'K' },
		{ "flood", 1, 0, 'F' }, { "junk", 0, 0, 'J' }, { "break", 1, 0, 'B' },
		{ "watch", 1, 0, 'W' }, { "names", 1, 0, 'N' },
		{ "reattach", 1, 0, 'R' }, { 0 },
	};
	const char *sock = NULL, *role = "echo";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ace_geometry g;
	pthread_t th[4];
	int nth = 0, lfd, c, i;
	u64 end = 0;

	while ((c = getopt_long(argc, argv, "s:r:t:", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'r': role = optarg; break;
		case 't': end = now_ns() + (u64)(atof(optarg) * 1e9); break;
		case 'M': nr_mprocs = (u32)atoi(optarg); break;
		case 'K': arena_size = (u32)atoi(optarg) * 1024u; break;
		case 'F': flood_to = optarg; break;
		case 'J': junk = 1; break;
		case 'B': break_secs = atof(optarg); break;
		case 'W': watch_prefix = optarg; break;
		case 'N': names_max = (u32)atoi(optarg); break;
		case 'R': reattach_secs = atof(optarg); break;
		default: usage();
		}
	}
	if (!sock || strlen(sock) >= sizeof(sa.sun_path))
		usage();
	if (reattach_secs > 0 && strcmp(role, "names"))
		usage();	/* guest threads would lose their mprocs */
	if (!names_max || names_max > nr_mprocs)
		names_max = nr_mprocs > 32 ? nr_mprocs - 32 : nr_mprocs / 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	memset(slot_efd, -1, sizeof(slot_efd));
	for (i = 0; i < MAX_PEERS; i++) {
		peers[i].sock = peers[i].kick = peers[i].raise = -1;
		peers[i].kick_peer = peers[i].raise_peer = -1;
	}

	/* the arena: a sealed memfd the core formats */
	memfd = memfd_create("fake-ace-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0 || ftruncate(memfd, arena_size))
		die("memfd");
	if (fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		die("seal");
	mem = mmap(NULL, arena_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	if (ace_geometry_default(arena_size, nr_mprocs, &g) ||
	    ace_arena_init(&A, mem, arena_size, &g, generation)) {
		fprintf(stderr, "fake_dev: cannot format a %u-byte arena with %u slots\n",
			arena_size, nr_mprocs);
		return 1;
	}

	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, sock);
	unlink(sock);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8))
		die("listen");

	if (!strcmp(role, "echo")) {
		pthread_create(&th[nth++], NULL, echo_thread, NULL);
		pthread_create(&th[nth++], NULL, echo_thread, (void *)1);
		pthread_create(&th[nth++], NULL, probe_thread, NULL);
	} else if (!strncmp(role, "ping:", 5)) {
		pthread_create(&th[nth++], NULL, ping_thread, (void *)(role + 5));
		pthread_create(&th[nth++], NULL, probe_thread, NULL);
	} else if (!strcmp(role, "attack")) {
		pthread_create(&th[nth++], NULL, attack_thread, NULL);
	} else if (!strcmp(role, "names")) {
		publish_evil_names();
	} else if (!strncmp(role, "reflect:", 8)) {
		pthread_create(&th[nth++], NULL, reflect_thread, (void *)(role + 8));
	} else {
		usage();
	}
	if (watch_prefix)
		pthread_create(&th[nth++], NULL, watch_thread, NULL);
	printf("fake_dev: %s: %s, arena %u KiB, %u slots\n", sock, role,
	       arena_size / 1024, A.nr_mprocs);
	fflush(stdout);

	device_loop(lfd, end);
	stop = 1;
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < MAX_PEERS; i++)
		peer_down(i);
	close(lfd);
	unlink(sock);
#define OUT(k, v) printf("fake_dev: %s %llu\n", k, (unsigned long long)(v))
	OUT("peers", st_peers);
	OUT("interrupts", st_interrupts);
	OUT("relays", st_relays);
	OUT("breaks", st_breaks);
	OUT("junk", st_junk);
	OUT("probes", st_probes);
	OUT("probe_fail", st_probe_fail);
	OUT("watch_max", st_watch_max);
	OUT("names", st_names);
	OUT("forged", st_forged);
	OUT("flood", st_flood);
	OUT("flood_nobufs", st_flood_nobufs);
	OUT("round_trips", st_rt);
	OUT("rt_timeouts", st_rt_timeouts);
	OUT("echoed", st_echoed);
	OUT("reattached", st_reattach);
	return 0;
}
