// SPDX-License-Identifier: GPL-2.0
/*
 * ace_usertest - exercises /dev/aceN from a guest process.
 *
 *   ace_usertest [-d /dev/ace0] [-n N] [-k] [-H]
 *                                             run the tests; exit 0 if all pass
 *                                             (-k: no kecho tests, -H: also the
 *                                             host peer tests: the peer is
 *                                             tests/vm/ace_hostpeer driver)
 *   ace_usertest --break [-d DEV]             ask the host peer to corrupt the
 *                                             arena; exit 0 if the driver then
 *                                             refuses every call with -EIO
 *   ace_usertest --forge-slot                 forge FREE into an own slot's
 *                                             state word and claim again:
 *                                             exit 0 if the claim fails
 *                                             with -EIO and close() returns
 *   ace_usertest --idle-forged                --idle, its slot's state word
 *                                             forged FREE first
 *   ace_usertest --idle                       hold /dev/ace0 open with an
 *                                             mproc until SIGUSR1
 *   ace_usertest --ask TYPE                   send "hecho" a message of type
 *                                             TYPE (the host peer acts)
 *   ace_usertest --await NAME                 exit 0 once an mproc NAME is
 *                                             in the table (within 30 s)
 *   ace_usertest --hold [-d DEV]              hold the device open, mapped,
 *                                             with an mproc asleep in WAIT;
 *                                             exit 0 if the device's removal
 *                                             ends it with -ENODEV cleanly
 *   ace_usertest --busy-recover N             N forced recoveries (debugfs
 *                                             aceN/recover), each with 16
 *                                             threads asleep in WAIT: each
 *                                             must end within 20 s
 *   ace_usertest --race-ioctl N               N forced recoveries while
 *                                             threads open, CREATE, CLOSE
 *                                             and read debugfs in a loop: no
 *                                             call touches the next arena
 *   ace_usertest --stale-create               a CREATE held (userfaultfd on
 *                                             its argument) while a recovery
 *                                             is forced: the recovery ends
 *                                             without it, and the CREATE
 *                                             fails with -EIO, not claiming
 *                                             an mproc in the next arena
 *   ace_usertest --race-mmap N                N forced recoveries while
 *                                             threads mmap the arena in a
 *                                             loop: no mapping of a file
 *                                             sees the next arena
 *
 * The data path runs here, on the mapped arena, with the shared core
 * (shared/ace_*.c linked in); the driver only names, wakes and notifies.
 * Build: gcc -static -O2 -I shared tests/ace_usertest.c shared/ace_*.c
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/ace.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ace_core.h"

static const char *dev_path = "/dev/ace0";
static int fd = -1;
static void *map;
static struct ace_arena A;
static struct ace_ioc_info info;
static u32 id_a, id_b;
static int nr_echo = 300;
static int failures;

#define FAIL(...) do { fail(__func__, __LINE__, __VA_ARGS__); return -1; } while (0)
#define CHECK(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

static void fail(const char *fn, int line, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s (line %d): ", fn, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	usleep(ms * 1000);
}

static int xioctl(int f, unsigned long req, void *arg)
{
	return ioctl(f, req, arg) < 0 ? -errno : 0;
}

static int mp_open(int f, const char *name, u32 flags, u32 mode, u32 *id)
{
	struct ace_ioc_open o;
	int r;

	memset(&o, 0, sizeof(o));
	strncpy(o.name, name, sizeof(o.name) - 1);
	o.flags = flags;
	o.mode = mode;
	r = xioctl(f, ACE_IOC_OPEN, &o);
	if (!r)
		*id = o.id;
	return r;
}

static int mp_create(const char *name, u32 *id)
{
	return mp_open(fd, name, ACE_OPEN_CREATE, ACE_MODE_INTERRUPT, id);
}

static int mp_lookup(const char *name, u32 *id)
{
	return mp_open(fd, name, ACE_OPEN_LOOKUP, 0, id);
}

static int mp_close(int f, u32 id)
{
	return xioctl(f, ACE_IOC_CLOSE, &id);
}

static int mp_wait(int f, u32 id, u64 ns)
{
	struct ace_ioc_wait w = { .id = id, .timeout_ns = ns };

	return xioctl(f, ACE_IOC_WAIT, &w);
}

static int mp_notify(u32 dst)
{
	struct ace_ioc_notify n = { .dst = dst };

	return xioctl(fd, ACE_IOC_NOTIFY, &n);
}

static int mp_eventfd(u32 id, int efd)
{
	struct ace_ioc_eventfd e = { .id = id, .fd = efd };

	return xioctl(fd, ACE_IOC_EVENTFD, &e);
}

static struct ace_mproc *entry(u32 id)
{
	return ace_mproc_at(&A, ACE_ID_SLOT(id));
}

static u64 counter(u32 id, size_t field)
{
	return ace_load((u64 *)((char *)&entry(id)->c + field), ACE_RELAXED);
}

#define CTR(id, name) counter(id, offsetof(struct ace_mproc_counters, name))

static void fill(void *p, u32 len, u32 tag)
{
	u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++)
		b[i] = (u8)(tag * 31 + i);
}

static int filled(const void *p, u32 len, u32 tag)
{
	const u8 *b = p;
	u32 i;

	for (i = 0; i < len; i++)
		if (b[i] != (u8)(tag * 31 + i))
			return 0;
	return 1;
}

/* Allocate, fill and send one message; notify if the core says so.
 * Returns the block offset, or -errno. */
static s64 send_one(u32 src, u32 dst, u32 len, u32 tag, int *raised)
{
	s64 off = ace_alloc(&A, len, src);
	int r;

	if (off < 0)
		return off;
	fill(ace_payload(&A, (u32)off), len, tag);
	ace_msg(&A, (u32)off)->tag = tag;
	r = ace_send(&A, src, dst, (u32)off, len);
	if (r < 0) {
		ace_free(&A, (u32)off);
		return r;
	}
	if (raised)
		*raised = r;
	if (r == 1 && mp_notify(dst))
		return -EPROTO;
	return off;
}

/* Receive one message for own mproc rx, sleeping in WAIT (no polling: a
 * wake-up the driver loses is a failure, -ENOLINK), and check it. */
static int recv_one(struct ace_rx *rx, u32 src, u32 tag, struct ace_msg_desc *d)
{
	int r = ace_recv(&A, rx, d);

	if (r == 0) {
		r = mp_wait(fd, rx->id, 5000000000ull);
		if (r == -ETIMEDOUT)
			return ace_recv(&A, rx, d) == 1 ? -ENOLINK : -ETIMEDOUT;
		if (r)
			return r;
		r = ace_recv(&A, rx, d);
		if (r == 0)
			return -ENOMSG;	/* WAIT said mail, there is none */
	}
	if (r < 0)
		return r;
	if (d->src != src || d->tag != tag)
		return -EBADMSG;
	if (!filled(ace_payload(&A, d->off), d->len, tag))
		return -EBADMSG;
	return 0;
}

static u32 free_blocks(void)
{
	u32 held, queued, nfree;

	ace_block_census(&A, 0, &held, &queued, &nfree);
	return nfree;
}

static u32 held_by(u32 id)
{
	u32 held, queued, nfree;

	ace_block_census(&A, id, &held, &queued, &nfree);
	return held;
}

/* ---- tests ---- */

static int t_attach(void)
{
	int r;

	CHECK(!xioctl(fd, ACE_IOC_INFO, &info), "INFO: %s", strerror(errno));
	CHECK(info.abi_version >> 16 == ACE_ABI_MAJOR, "abi %#x", info.abi_version);
	map = mmap(NULL, info.arena_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
	r = ace_arena_attach(&A, map, info.arena_size);
	CHECK(!r, "attach: %d (%s)", r, ace_arena_why(&A));
	CHECK(A.generation == info.generation, "generation %llx vs %llx",
	      (unsigned long long)A.generation,
	      (unsigned long long)info.generation);
	CHECK(A.nr_mprocs == info.nr_mprocs, "nr_mprocs %u vs %u",
	      A.nr_mprocs, info.nr_mprocs);
	printf("arena %u bytes, %u mprocs, %u blocks, %u peers (up %#x), section %u ns\n",
	       info.arena_size, info.nr_mprocs, A.total_blocks,
	       info.max_peers, info.peers_up, info.section_ns);
	return 0;
}

static int t_mmap_rules(void)
{
	void *p;

	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE accepted");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(p == MAP_FAILED && errno == EINVAL, "offset 4096 accepted");
	p = mmap(NULL, info.arena_size + 4096ul, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p == MAP_FAILED && errno == EINVAL, "oversized map accepted");
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED, "small map: %s", strerror(errno));
	CHECK(*(u32 *)p == ACE_ARENA_MAGIC, "second map sees no magic");
	munmap(p, 8192);
	return 0;
}

static int t_names(void)
{
	char longname[ACE_NAME_MAX];
	struct ace_ioc_open o;
	u32 id;

	CHECK(!mp_create("utest-a", &id_a), "create a");
	CHECK(!mp_create("utest-b", &id_b), "create b");
	CHECK(mp_create("utest-b", &id) == -EEXIST, "duplicate accepted");
	CHECK(!mp_lookup("utest-b", &id) && id == id_b, "lookup b");
	CHECK(mp_lookup("no-such", &id) == -ENOENT, "lookup of nothing");
	CHECK(mp_create("has space", &id) == -EINVAL, "bad name accepted");
	memset(&o, 0, sizeof(o));
	memset(o.name, 'x', sizeof(o.name));
	o.flags = ACE_OPEN_CREATE;
	CHECK(xioctl(fd, ACE_IOC_OPEN, &o) == -EINVAL, "unterminated name");
	memset(longname, 0, sizeof(longname));
	strcpy(longname, "ok");
	CHECK(mp_open(fd, longname, 3, 0, &id) == -EINVAL, "bad flags");
	CHECK(mp_open(fd, longname, ACE_OPEN_CREATE, 7, &id) == -EINVAL,
	      "bad mode");
	CHECK(ACE_SIDE_KIND(entry(id_a)->side) == ACE_SIDE_GUEST_USER,
	      "side %#x", entry(id_a)->side);
	CHECK(entry(id_a)->pid == (u32)getpid(), "pid %u", entry(id_a)->pid);
	return 0;
}

static int t_send_recv(void)
{
	struct ace_msg_desc d;
	struct ace_rx rx;
	int i, raised;
	s64 off;

	ace_rx_init(&rx, id_b);
	for (i = 0; i < 100; i++) {
		off = send_one(id_a, id_b, 16 + (i % 20) * 10, i, &raised);
		CHECK(off > 0, "send %d: %lld", i, (long long)off);
		CHECK(!raised, "raised for an unarmed receiver");
	}
	for (i = 0; i < 100; i++) {
		CHECK(!recv_one(&rx, id_a, i, &d), "recv %d", i);
		CHECK(d.len == 16u + (i % 20) * 10, "len %u", d.len);
		CHECK(!ace_free(&A, d.off), "free");
	}
	CHECK(ace_recv(&A, &rx, &d) == 0, "extra message");
	return 0;
}

static int t_wait_timeout(void)
{
	u64 t0;
	int fd2, r;

	CHECK(mp_wait(fd, id_b, 0) == -ETIMEDOUT, "check-only wait");
	t0 = now_ns();
	r = mp_wait(fd, id_b, 20000000ull);
	CHECK(r == -ETIMEDOUT, "20 ms wait: %d", r);
	CHECK(now_ns() - t0 >= 20000000ull, "returned early");
	CHECK(!(entry(id_b)->notify & ACE_NOTIFY_ARMED), "left armed");
	fd2 = open(dev_path, O_RDWR);
	CHECK(fd2 >= 0, "second open");
	r = mp_wait(fd2, id_b, 0);
	CHECK(r == -EPERM, "wait on another file's mproc: %d", r);
	r = mp_close(fd2, id_b);
	CHECK(r == -EPERM, "close of another file's mproc: %d", r);
	close(fd2);
	CHECK(mp_wait(fd, 0x1fff, 0) == -ENOENT, "bogus id");
	return 0;
}

struct waiter {
	u32 id;
	u64 ns;
	int result;
};

static void *waiter_main(void *p)
{
	struct waiter *w = p;

	w->result = mp_wait(fd, w->id, w->ns);
	return NULL;
}

/* Wait until own mproc `id` is ARMED (a sleeper in WAIT, or ace_arm). */
static int await_armed(u32 id)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (ace_load(&entry(id)->notify, ACE_SEQ_CST) & ACE_NOTIFY_ARMED)
			return 0;
		sleep_ms(1);
	}
	return -ETIMEDOUT;
}

static int t_wait_wake(void)
{
	struct waiter w = { .id = id_b, .ns = 5000000000ull };
	u64 wakeups = CTR(id_b, wakeups);
	struct ace_msg_desc d;
	struct ace_rx rx;
	pthread_t th;
	int raised = 0;

	ace_rx_init(&rx, id_b);
	pthread_create(&th, NULL, waiter_main, &w);
	CHECK(!await_armed(id_b), "waiter never armed");
	CHECK(send_one(id_a, id_b, 64, 1000, &raised) > 0, "send");
	pthread_join(th, NULL);
	CHECK(raised, "send to a sleeper did not raise");
	CHECK(w.result == 0, "wait: %d", w.result);
	CHECK(CTR(id_b, wakeups) == wakeups + 1, "wakeups %llu",
	      (unsigned long long)CTR(id_b, wakeups));
	CHECK(!recv_one(&rx, id_a, 1000, &d), "recv");
	ace_free(&A, d.off);
	return 0;
}

static int efd_value(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v = 0;

	if (poll(&p, 1, ms) != 1 || read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return (int)v;
}

static int t_eventfd(void)
{
	int efd = eventfd(0, EFD_NONBLOCK), raised = 0;
	struct ace_msg_desc d;
	struct ace_rx rx;

	ace_rx_init(&rx, id_b);
	CHECK(efd >= 0, "eventfd");
	CHECK(!mp_eventfd(id_b, efd), "bind");
	/* not armed: no delivery, even if someone notifies anyway */
	CHECK(send_one(id_a, id_b, 64, 1, &raised) > 0 && !raised, "send 1");
	CHECK(!mp_notify(id_b), "notify");
	CHECK(efd_value(efd, 20) == 0, "an unarmed mproc was signalled");
	CHECK(!recv_one(&rx, id_a, 1, &d), "recv 1");
	ace_free(&A, d.off);
	/* armed: one signal */
	CHECK(ace_arm(&A, &rx) == 0, "arm");
	CHECK(send_one(id_a, id_b, 64, 2, &raised) > 0 && raised, "send 2");
	CHECK(efd_value(efd, 2000) == 1, "armed mproc not signalled");
	CHECK(!ace_disarm(&A, &rx), "disarm");
	CHECK(!recv_one(&rx, id_a, 2, &d), "recv 2");
	ace_free(&A, d.off);
	CHECK(!mp_eventfd(id_b, -1), "unbind");
	CHECK(mp_eventfd(id_b, 12345) < 0, "bad fd accepted");
	close(efd);
	return 0;
}

static void *delayed_send(void *p)
{
	sleep_ms(100);
	send_one(id_a, id_b, 64, *(u32 *)p, NULL);
	return NULL;
}

static int t_poll(void)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ace_msg_desc d;
	struct ace_rx rx;
	u32 tag = 77;
	pthread_t th;
	int r;

	ace_rx_init(&rx, id_b);
	CHECK(poll(&p, 1, 0) == 0, "POLLIN without mail");
	CHECK(ace_arm(&A, &rx) == 0, "arm");
	pthread_create(&th, NULL, delayed_send, &tag);
	r = poll(&p, 1, 3000);
	pthread_join(th, NULL);
	ace_disarm(&A, &rx);
	CHECK(r == 1 && (p.revents & POLLIN), "poll: %d %#x", r, p.revents);
	CHECK(!recv_one(&rx, id_a, tag, &d), "recv");
	ace_free(&A, d.off);
	return 0;
}

/* Deliveries inside a section wait; past the time bound they are forced. */
static int t_section(void)
{
	u64 defer0 = CTR(id_b, deferrals), over0;
	int efd = eventfd(0, EFD_NONBLOCK), raised = 0, r;
	struct ace_msg_desc d;
	struct ace_rx rx;

	ace_rx_init(&rx, id_b);
	CHECK(efd >= 0 && !mp_eventfd(id_b, efd), "bind");
	/* a short section: the batch is drained at its end */
	CHECK(ace_arm(&A, &rx) == 0, "arm");
	CHECK(!ace_section_begin(&A, &rx), "begin");
	CHECK(send_one(id_a, id_b, 64, 5, &raised) > 0 && raised, "send 5");
	CHECK(CTR(id_b, deferrals) == defer0 + 1, "deferrals");
	r = ace_section_end(&A, &rx);
	CHECK(r == 1, "section end: %d (want 1: drain)", r);
	CHECK(!recv_one(&rx, id_a, 5, &d), "drain");
	ace_free(&A, d.off);
	efd_value(efd, 0);
	/* a long section: the time bound forces the delivery (the short
	 * one may have overrun too under a slow emulator) */
	over0 = CTR(id_b, overruns);
	CHECK(!ace_section_begin(&A, &rx), "begin 2");
	CHECK(send_one(id_a, id_b, 64, 6, &raised) > 0 && raised, "send 6");
	if (info.section_ns >= 20000000)
		CHECK(efd_value(efd, info.section_ns / 4000000) == 0,
		      "delivered inside the section before its bound");
	CHECK(efd_value(efd, 2000) == 1, "bound passed, nothing delivered");
	CHECK(CTR(id_b, overruns) == over0 + 1, "overruns %llu",
	      (unsigned long long)CTR(id_b, overruns));
	r = ace_section_end(&A, &rx);
	CHECK(r == 1, "section end 2: %d", r);
	CHECK(!recv_one(&rx, id_a, 6, &d), "drain 2");
	ace_free(&A, d.off);
	ace_disarm(&A, &rx);
	mp_eventfd(id_b, -1);
	close(efd);
	return 0;
}

static long ktest_echoed(void)
{
	FILE *f = fopen("/sys/module/ace_ktest/parameters/echoed", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* Messages to the kernel's echo mproc come back: the same blocks. */
static int t_kecho(void)
{
	static const u32 sizes[] = { 64, 1000, 4000, 60000 };
	u32 kecho, e, *offs = calloc(nr_echo, sizeof(u32));
	long echoed0 = ktest_echoed();
	int sent = 0, got = 0;
	struct ace_msg_desc d;
	struct ace_rx rx;
	s64 off;

	CHECK(offs, "calloc");
	CHECK(!mp_lookup("kecho", &kecho), "no kecho mproc (ace_ktest.ko)");
	CHECK(ACE_SIDE_KIND(entry(kecho)->side) == ACE_SIDE_GUEST_KERNEL,
	      "kecho side %#x", entry(kecho)->side);
	CHECK(!mp_create("utest-echo", &e), "create");
	ace_rx_init(&rx, e);
	while (got < nr_echo) {
		while (sent < nr_echo && sent - got < 32) {
			off = send_one(e, kecho, sizes[sent % 4], sent, NULL);
			CHECK(off > 0, "send %d: %lld", sent, (long long)off);
			offs[sent++] = (u32)off;
		}
		CHECK(!recv_one(&rx, kecho, got, &d), "echo %d", got);
		CHECK(d.off == offs[got], "echo %d in another block", got);
		CHECK(d.len == sizes[got % 4], "echo %d len %u", got, d.len);
		ace_free(&A, d.off);
		got++;
	}
	CHECK(ktest_echoed() - echoed0 == nr_echo, "echoed counter %ld",
	      ktest_echoed() - echoed0);
	printf("kecho: %d messages echoed, kecho wakeups %llu, waits here %llu\n",
	       nr_echo, (unsigned long long)CTR(kecho, wakeups),
	       (unsigned long long)CTR(e, waits));
	CHECK(!mp_close(fd, e), "close");
	free(offs);
	return 0;
}

/* Wait up to `seconds` for an mproc named `name` to appear. */
static int await_name(const char *name, int seconds, u32 *id)
{
	int i;

	for (i = 0; i < seconds * 10; i++) {
		if (!mp_lookup(name, id))
			return 0;
		sleep_ms(100);
	}
	return -ETIMEDOUT;
}

/* A host peer's echo mproc: doorbells out, event-queue interrupts in. */
static int t_hecho(void)
{
	u32 hecho, e, *offs = calloc(nr_echo, sizeof(u32));
	int sent = 0, got = 0, r;
	struct ace_msg_desc d;
	struct ace_rx rx;
	s64 off;

	CHECK(offs, "calloc");
	CHECK(!await_name("hecho", 120, &hecho), "no host peer (hecho)");
	CHECK(ACE_SIDE_KIND(entry(hecho)->side) == ACE_SIDE_HOST,
	      "hecho side %#x", entry(hecho)->side);
	CHECK(!mp_create("utest-host", &e), "create");
	ace_rx_init(&rx, e);
	while (got < nr_echo) {
		while (sent < nr_echo && sent - got < 8) {
			off = send_one(e, hecho, 64 + sent % 3000, sent, NULL);
			CHECK(off > 0, "send %d: %lld", sent, (long long)off);
			offs[sent++] = (u32)off;
		}
		r = recv_one(&rx, hecho, got, &d);
		CHECK(!r, "echo %d: %d", got, r);
		CHECK(d.off == offs[got], "echo %d in another block", got);
		ace_free(&A, d.off);
		got++;
	}
	printf("hecho: %d messages echoed by the host, wakeups %llu, hecho notified %llu times\n",
	       nr_echo, (unsigned long long)CTR(e, wakeups),
	       (unsigned long long)CTR(hecho, notifies));
	CHECK(CTR(e, wakeups) > 0, "never woken by the host");
	CHECK(!mp_close(fd, e), "close");
	free(offs);
	return 0;
}

static int t_hping(void)
{
	u32 id;

	CHECK(!await_name("hping-done", 300, &id), "host never finished pinging kecho");
	return 0;
}

/* CLOSE while another thread sleeps in WAIT on the same mproc: the
 * sleeper leaves with -ENOENT, the close completes. */
static int t_close_while_wait(void)
{
	struct waiter w = { .ns = ~0ull };
	pthread_t th;
	u64 t0;

	CHECK(!mp_create("utest-w", &w.id), "create");
	pthread_create(&th, NULL, waiter_main, &w);
	CHECK(!await_armed(w.id), "never armed");
	t0 = now_ns();
	CHECK(!mp_close(fd, w.id), "close");
	pthread_join(th, NULL);
	CHECK(w.result == -ENOENT, "sleeper got %d", w.result);
	CHECK(now_ns() - t0 < 2000000000ull, "close took too long");
	return 0;
}

/* A read-only file may look (INFO, LOOKUP) but change nothing. */
static int t_ro_fd(void)
{
	int ro = open(dev_path, O_RDONLY), r;
	struct ace_ioc_notify n = { .dst = id_b };
	struct ace_ioc_info i2;
	u32 id;

	CHECK(ro >= 0, "open O_RDONLY: %s", strerror(errno));
	CHECK(!xioctl(ro, ACE_IOC_INFO, &i2), "INFO on a read-only fd");
	CHECK(!mp_open(ro, "utest-a", ACE_OPEN_LOOKUP, 0, &id) && id == id_a,
	      "LOOKUP on a read-only fd");
	r = mp_open(ro, "utest-ro", ACE_OPEN_CREATE, ACE_MODE_INTERRUPT, &id);
	CHECK(r == -EBADF, "CREATE on a read-only fd: %d, want -EBADF", r);
	r = xioctl(ro, ACE_IOC_NOTIFY, &n);
	CHECK(r == -EBADF, "NOTIFY on a read-only fd: %d, want -EBADF", r);
	close(ro);
	return 0;
}

/* The doorbell pages (ACE_IOC_BELLS): one per host peer, from the offset
 * the driver gives, shared, writable file only, and nothing around them. */
static void *bells_map(int f, size_t pages, u64 off, int prot, int flags)
{
	return mmap(NULL, pages * 4096, prot, flags, f, (off_t)off);
}

static int t_bells(void)
{
	struct ace_ioc_bells b = { .reserved = 1 };
	int ro = open(dev_path, O_RDONLY), r;
	int rw = PROT_READ | PROT_WRITE;
	volatile u16 *p;
	void *q;

	CHECK(ro >= 0, "open O_RDONLY: %s", strerror(errno));
	r = xioctl(ro, ACE_IOC_BELLS, &b);
	CHECK(r == -EBADF, "BELLS on a read-only fd: %d, want -EBADF", r);
	r = xioctl(fd, ACE_IOC_BELLS, &b);
	CHECK(!r, "BELLS: %d (does the device give doorbell pages?)", r);
	CHECK(b.count == info.max_peers && b.offset >= (1ull << 32) &&
	      !b.reserved, "BELLS: %u pages at %#llx (reserved %u), want %u",
	      b.count, (unsigned long long)b.offset, b.reserved,
	      info.max_peers);
	q = bells_map(ro, 1, b.offset, PROT_READ, MAP_SHARED);
	CHECK(q == MAP_FAILED && errno == EBADF,
	      "a read-only fd mapped a doorbell page (%s)", strerror(errno));
	close(ro);
	q = bells_map(fd, b.count + 1, b.offset, rw, MAP_SHARED);
	CHECK(q == MAP_FAILED && errno == EINVAL, "%u pages mapped", b.count + 1);
	q = bells_map(fd, 1, b.offset + 4096ull * b.count, rw, MAP_SHARED);
	CHECK(q == MAP_FAILED && errno == EINVAL, "the page after the last mapped");
	q = bells_map(fd, 1, b.offset - 4096, rw, MAP_SHARED);
	CHECK(q == MAP_FAILED && errno == EINVAL, "the page before the first mapped");
	q = bells_map(fd, 1, b.offset, rw, MAP_PRIVATE);
	CHECK(q == MAP_FAILED && errno == EINVAL, "a private doorbell mapping");
	q = bells_map(fd, 1, b.offset, rw | PROT_EXEC, MAP_SHARED);
	CHECK(q == MAP_FAILED && errno == EPERM, "an executable doorbell mapping");
	p = bells_map(fd, b.count, b.offset, rw, MAP_SHARED);
	CHECK(p != MAP_FAILED, "mmap %u doorbell pages: %s", b.count,
	      strerror(errno));
	/* the last page alone, and a store to it: peer count-1's doorbell
	 * (no peer there: the device relays it to nobody) */
	q = bells_map(fd, 1, b.offset + 4096ull * (b.count - 1), rw,
		      MAP_SHARED);
	CHECK(q != MAP_FAILED, "mmap the last doorbell page: %s", strerror(errno));
	*(volatile u16 *)q = (u16)(ACE_VQ_DOORBELL0 + b.count - 1);
	munmap(q, 4096);
	munmap((void *)p, 4096ul * b.count);
	printf("doorbell pages: %u at offset %#llx\n", b.count,
	       (unsigned long long)b.offset);
	return 0;
}

/* A CREATE whose argument can be read but not written: the mproc it
 * claimed cannot be reported, so the driver closes it again (-EFAULT,
 * and the name is free). */
static int t_create_undo(void)
{
	struct ace_ioc_open *o;
	u32 id;
	int r;

	o = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	CHECK(o != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(o, 0, sizeof(*o));
	strcpy(o->name, "utest-undo");
	o->flags = ACE_OPEN_CREATE;
	o->mode = ACE_MODE_INTERRUPT;
	CHECK(!mprotect(o, 4096, PROT_READ), "mprotect: %s", strerror(errno));
	r = xioctl(fd, ACE_IOC_OPEN, o);
	munmap(o, 4096);
	CHECK(r == -EFAULT, "CREATE into a read-only argument: %d, want -EFAULT", r);
	r = mp_lookup("utest-undo", &id);
	CHECK(r == -ENOENT, "its mproc is still there: lookup %d (id 0x%x)", r,
	      r ? 0 : id);
	r = mp_create("utest-undo", &id);
	CHECK(!r, "the name is free again: CREATE %d", r);
	CHECK(!mp_close(fd, id), "close");
	return 0;
}

/* Two threads WAIT on one mproc: the one that leaves first (timeout)
 * must not disarm the mproc under the one still asleep. */
static int t_two_waiters(void)
{
	struct waiter a = { .ns = 50000000ull }, b = { .ns = 4000000000ull };
	pthread_t ta, tb;
	int raised = 0;
	u64 t0;
	u32 w;

	CHECK(!mp_create("utest-2w", &w), "create");
	a.id = b.id = w;
	pthread_create(&tb, NULL, waiter_main, &b);
	CHECK(!await_armed(w), "first waiter never armed");
	sleep_ms(20);
	pthread_create(&ta, NULL, waiter_main, &a);
	pthread_join(ta, NULL);
	CHECK(a.result == -ETIMEDOUT, "short waiter: %d", a.result);
	CHECK(ace_load(&entry(w)->notify, ACE_SEQ_CST) & ACE_NOTIFY_ARMED,
	      "the short waiter disarmed the mproc under the long one");
	t0 = now_ns();
	CHECK(send_one(id_a, w, 64, 42, &raised) > 0, "send");
	pthread_join(tb, NULL);
	CHECK(b.result == 0, "long waiter: %d", b.result);
	CHECK(now_ns() - t0 < 1000000000ull,
	      "long waiter woke %llu ms after the send: a lost wake-up",
	      (unsigned long long)((now_ns() - t0) / 1000000));
	CHECK(!mp_close(fd, w), "close");
	return 0;
}

/* Several threads, each its own mproc, echo through kecho at once. */
struct stress {
	int index, n, result;
};

static void *stress_main(void *p)
{
	struct stress *st = p;
	struct ace_msg_desc d;
	struct ace_rx rx;
	char name[32];
	u32 me, kecho;
	int i, r = 0;

	snprintf(name, sizeof(name), "utest-s%d", st->index);
	if (mp_create(name, &me) || mp_lookup("kecho", &kecho)) {
		st->result = -EINVAL;
		return NULL;
	}
	ace_rx_init(&rx, me);
	for (i = 0; i < st->n && !r; i++) {
		u32 tag = st->index << 16 | i;

		if (send_one(me, kecho, 32 + i % 150, tag, NULL) < 0)
			r = -EIO;
		else if ((r = recv_one(&rx, kecho, tag, &d)) == 0)
			ace_free(&A, d.off);
	}
	st->result = r ? r : mp_close(fd, me);
	return NULL;
}

static int t_stress(void)
{
	struct stress st[4];
	pthread_t th[4];
	int i;

	for (i = 0; i < 4; i++) {
		st[i] = (struct stress){ .index = i, .n = nr_echo };
		pthread_create(&th[i], NULL, stress_main, &st[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		CHECK(!st[i].result, "thread %d: %d", i, st[i].result);
	return 0;
}

static int t_close_reclaim(void)
{
	u32 c, free0 = free_blocks();
	int i;

	CHECK(!mp_create("utest-c", &c), "create");
	for (i = 0; i < 20; i++)
		CHECK(ace_alloc(&A, 100 + (i % 5) * 400, c) > 0, "alloc %d", i);
	CHECK(held_by(c) == 20, "held %u", held_by(c));
	CHECK(!mp_close(fd, c), "close");
	CHECK(held_by(c) == 0, "still held %u", held_by(c));
	CHECK(free_blocks() == free0, "free %u, was %u", free_blocks(), free0);
	CHECK(mp_lookup("utest-c", &c) == -ENOENT, "closed mproc found");
	CHECK(mp_close(fd, c) == -ENOENT, "double close");
	return 0;
}

/* A process that dies holding blocks: release() reclaims them; what it
 * sent is still delivered. */
static void victim(void)
{
	struct ace_arena va;
	int f = open(dev_path, O_RDWR), i;
	void *m;
	u32 v;

	m = mmap(NULL, info.arena_size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (f < 0 || m == MAP_FAILED || ace_arena_attach(&va, m, info.arena_size) ||
	    mp_open(f, "victim", ACE_OPEN_CREATE, ACE_MODE_POLL, &v))
		_exit(2);
	for (i = 0; i < 10; i++)
		if (ace_alloc(&va, 64, v) < 0)
			_exit(3);
	for (i = 0; i < 5; i++) {
		s64 off = ace_alloc(&va, 64, v);

		if (off < 0)
			_exit(4);
		fill(ace_payload(&va, (u32)off), 64, 500 + i);
		ace_msg(&va, (u32)off)->tag = 500 + i;
		if (ace_send(&va, v, id_b, (u32)off, 64) < 0)
			_exit(5);
	}
	_exit(0);	/* no close, no munmap: the kernel cleans up */
}

static int t_killed(void)
{
	u32 free0 = free_blocks(), v, held, queued, nfree;
	struct ace_msg_desc d;
	struct ace_rx rx;
	int status, i;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		victim();
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork");
	CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "victim %#x", status);
	CHECK(mp_lookup("victim", &v) == -ENOENT, "victim's mproc survived");
	ace_block_census(&A, 0, &held, &queued, &nfree);
	CHECK(queued == 5, "%u in flight", queued);
	ace_rx_init(&rx, id_b);
	for (i = 0; i < 5; i++) {
		CHECK(ace_recv(&A, &rx, &d) == 1, "recv %d", i);
		CHECK(d.tag == 500u + i && filled(ace_payload(&A, d.off), 64, d.tag),
		      "message %d", i);
		ace_free(&A, d.off);
	}
	CHECK(free_blocks() == free0, "free %u, was %u", free_blocks(), free0);
	return 0;
}

static int t_final(void)
{
	u32 held, queued, nfree;

	CHECK(!mp_close(fd, id_a) && !mp_close(fd, id_b), "close");
	ace_block_census(&A, 0, &held, &queued, &nfree);
	printf("blocks: %u free, %u held, %u in flight of %u\n", nfree, held,
	       queued, A.total_blocks);
	CHECK(!queued, "messages left in flight");
	CHECK(!ace_arena_broken(&A), "arena broken: %s", ace_arena_why(&A));
	return 0;
}

/* ---- --hold: outlive the device ---- */

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Does reading *p fault with SIGBUS? */
static int faults(const volatile u32 *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int hit = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		hit = 1;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return hit;
}

static int hold(void)
{
	u32 id;
	int r, hit;

	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach() || mp_create("holder", &id))
		return 2;
	printf("HOLD ready\n");
	fflush(stdout);
	r = mp_wait(fd, id, ~0ull);
	printf("HOLD wait returned %d (%s)\n", r, strerror(-r));
	/* the region went with the device: the mapping is gone, and a
	 * touch faults instead of reaching what the address is given to */
	hit = faults(map);
	printf("HOLD touching the old mapping %s\n",
	       hit ? "faults (SIGBUS)" : "does not fault");
	if (r != -ENODEV || xioctl(fd, ACE_IOC_INFO, &info) != -ENODEV || !hit)
		return 1;
	if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED)
		return 1;
	munmap(map, info.arena_size);
	close(fd);
	printf("HOLD ok\n");
	return 0;
}

/* ---- recoveries raced against users ---- */

#define RACE_WAIT_S	20	/* a recovery longer than this is stuck */

static const char *misc_name(void)
{
	const char *n = strrchr(dev_path, '/');

	return n ? n + 1 : dev_path;
}

/* A number from the device's sysfs group (ace/NAME); -1 if unreadable. */
static long long sysfs_num(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/device/ace/%s",
		 misc_name(), name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lli", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void sysfs_str(const char *name, char *buf, size_t len);

/* The arena's generation (sysfs, hex): all 64 bits. */
static unsigned long long sysfs_generation(void)
{
	char buf[32];

	sysfs_str("generation", buf, sizeof(buf));
	return strtoull(buf, NULL, 16);
}

static void sysfs_str(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/sys/class/misc/%s/device/ace/%s",
		 misc_name(), name);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

/* Force a recovery (debugfs) and wait for it: 0, or -ETIMEDOUT. */
static int force_recovery(void)
{
	long long r0 = sysfs_num("recoveries");
	char path[128];
	int f, i;

	snprintf(path, sizeof(path), "/sys/kernel/debug/ace/%s/recover",
		 misc_name());
	f = open(path, O_WRONLY);
	if (f < 0 || write(f, "1", 1) != 1) {
		printf("FAIL cannot write %s: %s\n", path, strerror(errno));
		if (f >= 0)
			close(f);
		return -EIO;
	}
	close(f);
	for (i = 0; i < RACE_WAIT_S * 100; i++) {
		if (sysfs_num("recoveries") > r0 && sysfs_num("broken") == 0)
			return 0;
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

/* Each forced recovery is the last breakage: no other reason showed up. */
static int forced_only(int round)
{
	char why[128];

	sysfs_str("last_reason", why, sizeof(why));
	if (strstr(why, "a recovery was forced"))
		return 0;
	printf("FAIL round %d: the arena was given up for another reason: %s\n",
	       round, why);
	return -1;
}

/* fd's first doorbell page, mapped and read once, or NULL */
static volatile u32 *bell_page(void)
{
	struct ace_ioc_bells b = { 0 };
	volatile u32 *p;

	if (xioctl(fd, ACE_IOC_BELLS, &b))
		return NULL;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)b.offset);
	if (p == MAP_FAILED || faults(p))
		return NULL;
	return p;
}

/* --busy-recover: every slot busy (a thread in WAIT) as the arena goes */
static int busy_recover(int rounds)
{
	volatile u32 *bell;
	struct waiter w[16];
	pthread_t th[16];
	int round, i, n = 16, bad = 0, r;
	char name[32];
	u64 t0;

	for (round = 1; round <= rounds && !bad; round++) {
		fd = open(dev_path, O_RDWR);
		if (fd < 0 || t_attach())
			return 2;
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "busy-%d", i);
			w[i] = (struct waiter){ .ns = ~0ull };
			CHECK(!mp_create(name, &w[i].id), "create %s", name);
			pthread_create(&th[i], NULL, waiter_main, &w[i]);
		}
		for (i = 0; i < n; i++)
			CHECK(!await_armed(w[i].id), "waiter %d never armed", i);
		bell = bell_page();
		CHECK(bell, "no doorbell page could be mapped and read");
		t0 = now_ns();
		r = force_recovery();
		if (r) {
			printf("FAIL round %d: the recovery did not end within %d s with %d slots busy\n",
			       round, RACE_WAIT_S, n);
			fflush(stdout);
			return -1;	/* the waiters may never come back */
		}
		printf("BUSY round %d: recovered in %llu ms\n", round,
		       (unsigned long long)((now_ns() - t0) / 1000000));
		for (i = 0; i < n; i++) {
			pthread_join(th[i], NULL);
			if (w[i].result != -EIO) {
				printf("FAIL round %d: waiter %d got %d, want -EIO\n",
				       round, i, w[i].result);
				bad++;
			}
		}
		/* the doorbell page went with the arena, as its pages did */
		if (!faults(bell)) {
			printf("FAIL round %d: a doorbell page of the old arena still works\n",
			       round);
			bad++;
		}
		munmap((void *)bell, 4096);
		munmap(map, info.arena_size);
		close(fd);
		if (forced_only(round))
			bad++;
	}
	if (bad)
		return -1;
	printf("BUSY ok: %d recoveries with every waiter's slot busy\n",
	       rounds);
	return 0;
}

static volatile int race_stop;

struct racer {
	int index;
	long ops, stale, wrong;
};

/* open, CREATE, CLOSE until the file's arena is replaced; again */
static void *race_ioctl_main(void *p)
{
	struct racer *rc = p;
	struct ace_ioc_info in;
	char name[40];
	int f, r, i;
	u32 id;

	while (!race_stop) {
		f = open(dev_path, O_RDWR);
		if (f < 0) {
			sleep_ms(1);
			continue;
		}
		if (xioctl(f, ACE_IOC_INFO, &in)) {
			close(f);
			continue;
		}
		for (i = 0; !race_stop; i++) {
			snprintf(name, sizeof(name), "r%08x-%d-%d",
				 (u32)in.generation, rc->index, i % 1000);
			r = mp_open(f, name, ACE_OPEN_CREATE, ACE_MODE_INTERRUPT,
				    &id);
			if (r == -EIO)
				break;
			if (r) {
				printf("FAIL racer %d: CREATE %s: %d\n",
				       rc->index, name, r);
				rc->wrong++;
				break;
			}
			r = mp_close(f, id);
			if (r == -EIO)
				break;
			if (r) {
				printf("FAIL racer %d: CLOSE of own %#x (%s): %d\n",
				       rc->index, id, name, r);
				rc->wrong++;
				break;
			}
			rc->ops++;
		}
		close(f);
	}
	return NULL;
}

/* Read debugfs' mprocs in a loop: a name made on an older arena (its
 * generation is in the name) must never be in the current one.
 */
static void *race_debugfs_main(void *p)
{
	struct racer *rc = p;
	char path[128], line[512], *n;
	unsigned long long g1, g2;
	unsigned int gen;
	FILE *f;
	int found;

	snprintf(path, sizeof(path), "/sys/kernel/debug/ace/%s/mprocs",
		 misc_name());
	while (!race_stop) {
		g1 = sysfs_generation();
		f = fopen(path, "r");
		if (!f)
			break;
		found = 0;
		while (fgets(line, sizeof(line), f)) {
			n = strstr(line, " name r");
			if (n && sscanf(n, " name r%8x-", &gen) == 1 &&
			    gen != (unsigned int)g1)
				found++;
		}
		fclose(f);
		g2 = sysfs_generation();
		if (found && g1 == g2 && sysfs_num("broken") == 0) {
			printf("FAIL an mproc named on an older arena is in arena %#llx\n",
			       g1);
			rc->stale++;
		}
		rc->ops++;
	}
	return NULL;
}

static int race_run(int rounds, void *(*fn)(void *), int nthreads,
		    int debugfs)
{
	struct racer rc[8];
	pthread_t th[8];
	long ops = 0, wrong = 0, stale = 0;
	int i, round, r = 0, nt = nthreads + !!debugfs;
	u64 t0;

	memset(rc, 0, sizeof(rc));
	race_stop = 0;
	for (i = 0; i < nt; i++) {
		rc[i].index = i;
		pthread_create(&th[i], NULL,
			       i < nthreads ? fn : race_debugfs_main, &rc[i]);
	}
	for (round = 1; round <= rounds && !r; round++) {
		sleep_ms(50 + (round * 37) % 150);
		t0 = now_ns();
		r = force_recovery();
		if (r)
			printf("FAIL round %d: the recovery did not end within %d s\n",
			       round, RACE_WAIT_S);
		else if (forced_only(round))
			r = -1;
		else if (round % 10 == 0)
			printf("RACE round %d: recovered in %llu ms\n", round,
			       (unsigned long long)((now_ns() - t0) / 1000000));
	}
	race_stop = 1;
	for (i = 0; i < nt; i++) {
		pthread_join(th[i], NULL);
		ops += rc[i].ops;
		wrong += rc[i].wrong;
		stale += rc[i].stale;
	}
	printf("RACE %d recoveries: %ld operations, %ld wrong results, %ld stale sightings\n",
	       round - 1, ops, wrong, stale);
	return r || wrong || stale ? -1 : 0;
}

/* SIGBUS in the racers: a thread's own jump buffer */
static __thread sigjmp_buf race_jmp;

static void on_race_sigbus(int sig)
{
	(void)sig;
	siglongjmp(race_jmp, 1);
}

/* Read the generation in the header at map: 0, or -EFAULT (SIGBUS). */
static int map_generation(void *m, u64 *gen)
{
	if (sigsetjmp(race_jmp, 1))
		return -EFAULT;
	*gen = *(volatile u64 *)((char *)m +
				 offsetof(struct ace_arena_hdr, generation));
	return 0;
}

/* mmap, read, check until the file's arena is replaced; again */
static void *race_mmap_main(void *p)
{
	struct racer *rc = p;
	struct ace_ioc_info in, now;
	int f, r;
	void *m;
	u64 g;

	while (!race_stop) {
		f = open(dev_path, O_RDWR);
		if (f < 0) {
			sleep_ms(1);
			continue;
		}
		if (xioctl(f, ACE_IOC_INFO, &in)) {
			close(f);
			continue;
		}
		while (!race_stop) {
			m = mmap(NULL, in.arena_size, PROT_READ | PROT_WRITE,
				 MAP_SHARED, f, 0);
			if (m == MAP_FAILED) {
				if (errno != EIO) {
					printf("FAIL mapper %d: mmap: %s\n",
					       rc->index, strerror(errno));
					rc->wrong++;
				}
				break;
			}
			r = map_generation(m, &g);
			if (!r && g != in.generation) {
				printf("FAIL mapper %d: a mapping of arena %#llx shows arena %#llx\n",
				       rc->index,
				       (unsigned long long)in.generation,
				       (unsigned long long)g);
				rc->stale++;
			}
			/* the file's arena was replaced (a new generation is
			 * formatted only after the zap): no mapping of it is
			 * readable.  (-EIO alone may be a broken arena that is
			 * still mapped until its recovery starts.)
			 */
			if (sysfs_generation() != in.generation) {
				if (!map_generation(m, &g)) {
					printf("FAIL mapper %d: a mapping of arena %#llx is readable after it was replaced (reads %#llx)\n",
					       rc->index,
					       (unsigned long long)in.generation,
					       (unsigned long long)g);
					rc->stale++;
				}
				munmap(m, in.arena_size);
				break;
			}
			if (xioctl(f, ACE_IOC_INFO, &now) == -EIO) {
				munmap(m, in.arena_size);
				break;
			}
			munmap(m, in.arena_size);
			rc->ops++;
		}
		close(f);
	}
	return NULL;
}

/* ---- --stale-create: an ioctl that began on the old arena ---- */

struct staler {
	void *arg;
	int result;
};

static void *stale_main(void *p)
{
	struct staler *st = p;

	st->result = xioctl(fd, ACE_IOC_OPEN, st->arg);
	return NULL;
}

/* recoveries > r0 within ms milliseconds? */
static int recovered_within(long long r0, int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (sysfs_num("recoveries") > r0 && sysfs_num("broken") == 0)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

/*
 * A CREATE whose argument page is missing (userfaultfd) stops in
 * copy_from_user().  A recovery is forced meanwhile: it must not wait for
 * the fault (a fault that never ends, a FUSE file with a silent daemon,
 * would hold the recovery, and every caller behind it, for ever).  Then
 * the page is supplied: the CREATE must not claim its mproc in the arena
 * that replaced the file's: it fails with -EIO (or -ESTALE).
 */
static int stale_create(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_copy cp;
	struct ace_ioc_open *src;
	struct staler st = { .result = 1 };
	struct pollfd pfd;
	struct uffd_msg msg;
	long psz = sysconf(_SC_PAGESIZE);
	long long r0;
	int uffd, early, f2, r;
	char path[128];
	pthread_t th;
	void *page;
	u32 id;

	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach())
		return 2;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	CHECK(uffd >= 0, "userfaultfd: %s", strerror(errno));
	CHECK(!ioctl(uffd, UFFDIO_API, &api), "UFFDIO_API: %s", strerror(errno));
	page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED && src != MAP_FAILED, "mmap");
	reg.range.start = (unsigned long)page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	CHECK(!ioctl(uffd, UFFDIO_REGISTER, &reg), "UFFDIO_REGISTER: %s",
	      strerror(errno));
	st.arg = page;
	pthread_create(&th, NULL, stale_main, &st);
	pfd.fd = uffd;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 10000) == 1 &&
	      read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	      msg.event == UFFD_EVENT_PAGEFAULT, "the CREATE never faulted");
	/* the CREATE is past the driver's checks, in copy_from_user() */
	r0 = sysfs_num("recoveries");
	snprintf(path, sizeof(path), "/sys/kernel/debug/ace/%s/recover",
		 misc_name());
	f2 = open(path, O_WRONLY);
	CHECK(f2 >= 0 && write(f2, "1", 1) == 1, "cannot write %s", path);
	close(f2);
	early = recovered_within(r0, RACE_WAIT_S * 1000);
	printf("STALE the recovery %s while the CREATE was held\n",
	       early ? "ended" : "waited");
	memset(src, 0, sizeof(*src));
	strcpy(src->name, "stale-create");
	src->flags = ACE_OPEN_CREATE;
	src->mode = ACE_MODE_INTERRUPT;
	cp.dst = (unsigned long)page;
	cp.src = (unsigned long)src;
	cp.len = psz;
	cp.mode = 0;
	CHECK(!ioctl(uffd, UFFDIO_COPY, &cp), "UFFDIO_COPY: %s", strerror(errno));
	pthread_join(th, NULL);
	printf("STALE the held CREATE returned %d (id %#x)\n", st.result,
	       ((struct ace_ioc_open *)page)->id);
	CHECK(early,
	      "the recovery waited for a CREATE held in a page fault (more than %d s)",
	      RACE_WAIT_S);
	f2 = open(dev_path, O_RDWR);
	CHECK(f2 >= 0, "open after the recovery");
	r = mp_open(f2, "stale-create", ACE_OPEN_LOOKUP, 0, &id);
	close(f2);
	CHECK(r == -ENOENT,
	      "the CREATE begun on the old arena made mproc %#x in the new one (lookup %d)",
	      id, r);
	CHECK(st.result == -EIO || st.result == -ESTALE,
	      "the held CREATE returned %d, want -EIO or -ESTALE", st.result);
	close(fd);
	close(uffd);
	printf("STALE ok\n");
	return 0;
}

static int race_ioctl(int rounds)
{
	if (race_run(rounds, race_ioctl_main, 4, 1))
		return -1;
	printf("RACE-IOCTL ok\n");
	return 0;
}

static int race_mmap(int rounds)
{
	struct sigaction sa = { .sa_handler = on_race_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	if (race_run(rounds, race_mmap_main, 3, 0))
		return -1;
	printf("RACE-MMAP ok\n");
	return 0;
}

/* ---- --break: a hostile host ---- */

#define ACE_TEST_BREAK	0xdeadu	/* host peer (driver mode): corrupt the arena */

static int break_arena(void)
{
	struct pollfd p = { .fd = -1, .events = POLLIN };
	u32 hecho, id, e;
	s64 off;
	int i, r = 0;

	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach())
		return 2;
	p.fd = fd;
	CHECK(!await_name("hecho", 60, &hecho), "no host peer");
	CHECK(!mp_create("breaker", &e), "create");
	off = ace_alloc(&A, 64, e);
	CHECK(off > 0, "alloc");
	ace_msg(&A, (u32)off)->type = ACE_TEST_BREAK;
	r = ace_send(&A, e, hecho, (u32)off, 64);
	CHECK(r >= 0 && (r == 0 || !mp_notify(hecho)), "send");
	for (i = 0; i < 100; i++) {
		r = xioctl(fd, ACE_IOC_INFO, &info);
		if (r)
			break;
		sleep_ms(100);
	}
	CHECK(r == -EIO, "INFO after the corruption: %d, want -EIO", r);
	CHECK(mp_lookup("hecho", &id) == -EIO, "lookup not refused");
	CHECK(mp_wait(fd, e, 1000000) == -EIO, "wait not refused");
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR), "poll %#x",
	      p.revents);
	printf("BREAK ok: the driver refuses the broken arena\n");
	return 0;
}

/* ---- --forge-slot: our own slot's state word says FREE ---- */

/*
 * A /dev/aceN user (or a peer) writes FREE into the state word of an mproc
 * this file owns while a thread sleeps in WAIT on it, then claims again:
 * the claim lands in the same slot.  The driver must not take the arena's
 * word over its own table (a task stuck in D state at close, or the wrong
 * mproc closed): the claim fails with -EIO and close() returns.
 */
static int forge_slot(void)
{
	struct waiter w = { .ns = 1000000000ull };
	u32 x, y = 0, st;
	pthread_t th;
	int r;

	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach())
		return 2;
	/* claims take the lowest free slot: every slot below x is in use */
	CHECK(!mp_create("forge-x", &x), "create x");
	w.id = x;
	pthread_create(&th, NULL, waiter_main, &w);
	CHECK(!await_armed(x), "never armed");
	st = ace_load(&entry(x)->state, ACE_SEQ_CST);
	ace_store(&entry(x)->state, ACE_SLOT_WORD(ACE_SLOT_GEN(st), ACE_SLOT_FREE),
		  ACE_SEQ_CST);
	r = mp_create("forge-y", &y);
	printf("FORGE x %#x, claim after the forgery: %d (id %#x)\n", x, r, y);
	pthread_join(th, NULL);
	printf("FORGE the waiter got %d\n", w.result);
	CHECK(r == -EIO, "claim over an own slot: %d (id %#x), want -EIO", r, y);
	close(fd);	/* before the fix: stuck here in D state */
	printf("FORGE ok: closed\n");
	return 0;
}

/* ---- --idle: an open file with an mproc, until SIGUSR1 ---- */

/* forged: FREE in the idler's own state word, found only at close */
static int idle(int forged)
{
	sigset_t set;
	int sig;
	u32 id, st;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach() || mp_create("idler", &id))
		return 2;
	if (forged) {
		st = ace_load(&entry(id)->state, ACE_SEQ_CST);
		ace_store(&entry(id)->state,
			  ACE_SLOT_WORD(ACE_SLOT_GEN(st), ACE_SLOT_FREE),
			  ACE_SEQ_CST);
	}
	printf("IDLE ready\n");
	sigwait(&set, &sig);
	munmap(map, info.arena_size);
	close(fd);
	printf("IDLE closed\n");
	return 0;
}

/* ---- --ask TYPE: send hecho a message of type TYPE (a request) ---- */

static int ask_host(u32 type)
{
	u32 hecho, e;
	s64 off;
	int r;

	fd = open(dev_path, O_RDWR);
	if (fd < 0 || t_attach())
		return 2;
	CHECK(!await_name("hecho", 60, &hecho), "no host peer");
	CHECK(!mp_create("asker", &e), "create");
	off = ace_alloc(&A, 64, e);
	CHECK(off > 0, "alloc");
	ace_msg(&A, (u32)off)->type = type;
	r = ace_send(&A, e, hecho, (u32)off, 64);
	CHECK(r >= 0 && (r == 0 || !mp_notify(hecho)), "send");
	/* leave before the host acts on it; a host asked to break the arena
	 * may have done so already, and then the close reports it */
	CHECK(!mp_close(fd, e) || errno == EIO, "close: %s", strerror(errno));
	munmap(map, info.arena_size);
	close(fd);
	printf("ASK %#x sent\n", type);
	return 0;
}

struct test {
	const char *name;
	int (*fn)(void);
	int kecho;	/* needs ace_ktest.ko */
	int host;	/* needs the host peer (driver mode) on the device's socket */
};

static const struct test tests[] = {
	{ "attach", t_attach, 0, 0 },
	{ "mmap_rules", t_mmap_rules, 0, 0 },
	{ "names", t_names, 0, 0 },
	{ "send_recv", t_send_recv, 0, 0 },
	{ "wait_timeout", t_wait_timeout, 0, 0 },
	{ "wait_wake", t_wait_wake, 0, 0 },
	{ "eventfd", t_eventfd, 0, 0 },
	{ "poll", t_poll, 0, 0 },
	{ "section", t_section, 0, 0 },
	{ "kecho", t_kecho, 1, 0 },
	{ "hecho", t_hecho, 0, 1 },
	{ "hping", t_hping, 1, 1 },
	{ "close_while_wait", t_close_while_wait, 0, 0 },
	{ "ro_fd", t_ro_fd, 0, 0 },
	{ "bells", t_bells, 0, 0 },
	{ "create_undo", t_create_undo, 0, 0 },
	{ "two_waiters", t_two_waiters, 0, 0 },
	{ "stress", t_stress, 1, 0 },
	{ "close_reclaim", t_close_reclaim, 0, 0 },
	{ "killed", t_killed, 0, 0 },
	{ "final", t_final, 0, 0 },
};

int main(int argc, char **argv)
{
	int i, skip_kecho = 0, host = 0;
	const char *await = NULL;
	size_t t;
	u32 id;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dev_path = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			nr_echo = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-k"))
			skip_kecho = 1;
		else if (!strcmp(argv[i], "-H"))
			host = 1;
		else if (!strcmp(argv[i], "--hold"))
			return hold();
		else if (!strcmp(argv[i], "--break"))
			return break_arena() ? 1 : 0;
		else if (!strcmp(argv[i], "--forge-slot"))
			return forge_slot() ? 1 : 0;
		else if (!strcmp(argv[i], "--idle"))
			return idle(0);
		else if (!strcmp(argv[i], "--idle-forged"))
			return idle(1);
		else if (!strcmp(argv[i], "--ask") && i + 1 < argc)
			return ask_host((u32)strtoul(argv[i + 1], NULL, 0)) ? 1 : 0;
		else if (!strcmp(argv[i], "--busy-recover") && i + 1 < argc)
			return busy_recover(atoi(argv[i + 1])) ? 1 : 0;
		else if (!strcmp(argv[i], "--race-ioctl") && i + 1 < argc)
			return race_ioctl(atoi(argv[i + 1])) ? 1 : 0;
		else if (!strcmp(argv[i], "--stale-create"))
			return stale_create() ? 1 : 0;
		else if (!strcmp(argv[i], "--race-mmap") && i + 1 < argc)
			return race_mmap(atoi(argv[i + 1])) ? 1 : 0;
		else if (!strcmp(argv[i], "--await") && i + 1 < argc)
			await = argv[++i];
		else
			return fprintf(stderr, "usage: see the source\n"), 2;
	}
	fd = open(dev_path, O_RDWR);
	if (fd < 0)
		return printf("FAIL open %s: %s\n", dev_path, strerror(errno)), 1;
	if (await) {
		if (await_name(await, 30, &id))
			return printf("FAIL no mproc %s within 30 s\n", await), 1;
		return printf("AWAIT %s is mproc %#x\n", await, id), 0;
	}
	for (t = 0; t < sizeof(tests) / sizeof(tests[0]); t++) {
		if ((tests[t].kecho && skip_kecho) || (tests[t].host && !host))
			continue;
		if (tests[t].fn()) {
			failures++;
			if (t == 0)
				break;
		} else {
			printf("PASS %s\n", tests[t].name);
		}
	}
	printf("ace_usertest: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
