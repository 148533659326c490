// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-hostile - a hostile guest process for tests/vm/cases/hostile-guest.sh.
 * It maps /dev/ace0 as libace does and attacks the host side: the device
 * and the host services behind it.  Also the well-behaved party the test
 * needs beside the attacker (wait, ping, census).
 *
 *   ace-hostile wait NAME...          until every mproc NAME exists (60 s)
 *   ace-hostile ping NAME N [SECS [MS]]
 *                                     N round trips to NAME from a new,
 *                                     well-behaved mproc, MS apart (default
 *                                     0); waits up to SECS (default 10) for
 *                                     a free block
 *   ace-hostile census [idle]         free + in flight + held = total
 *                                     (idle: and every block free)
 *   ace-hostile create NAME           can a new mproc be created now?
 *   ace-hostile busy NAME N           until mproc NAME has received N
 *                                     messages (60 s)
 *
 * Resource attacks (the arena stays good; the host must keep serving):
 *   slots SECS                        claim every free mproc slot, hold
 *   pools SECS                        allocate every block, hold
 *   doorbells NAME SECS               ring NAME's doorbell and set every
 *                                     pending bit, in a tight loop
 *   header                            rewrite the arena header's geometry
 *
 * Corruption attacks on host mproc NAME (or free list CLASS): the host
 * must report the breakage and never crash:
 *   inbox-range NAME | inbox-misaligned NAME   bad inbox head
 *   next-range NAME                   a message whose next is out of range
 *   inbox-cycle NAME                  two messages linked in a circle
 *   length NAME                       a length past the block
 *   double-fetch NAME SECS            legal sends whose headers a second
 *                                     thread keeps rewriting
 *   free-range CLASS | free-misaligned CLASS | free-cycle CLASS
 *                                     a bad free-list head or a cycle
 *
 * Every line for the test starts with "ACE-TEST ".  Exit 0 when the
 * command did what it says (for ping: every round trip came back).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/ace.h>
#include <sys/mman.h>
#include "../../../lib/ace.h"
#include "../../../shared/ace_core.h"

#define DEV "/dev/ace0"

/* The raw view: the mapping, our own validated copy of the geometry, and
 * (for attacks that need one) an mproc of our own. */
struct raw {
	int fd;
	u8 *map;
	u32 size;
	struct ace_arena a;
	u32 me;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	printf("ACE-TEST hostile-error %s: %s\n", what, strerror(errno));
	exit(1);
}

static void raw_open(struct raw *r, int claim)
{
	struct ace_ioc_info info;
	struct ace_ioc_open o = { .flags = ACE_OPEN_CREATE,
				  .mode = ACE_MODE_POLL };

	r->fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		die("open " DEV);
	if (ioctl(r->fd, ACE_IOC_INFO, &info))
		die("ACE_IOC_INFO");
	r->size = info.arena_size;
	r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		die("mmap");
	if (ace_arena_attach(&r->a, r->map, r->size)) {
		printf("ACE-TEST hostile-error attach: %s\n", ace_arena_why(&r->a));
		exit(1);
	}
	if (!claim)
		return;
	snprintf(o.name, sizeof(o.name), "hostile-%d", (int)getpid());
	if (ioctl(r->fd, ACE_IOC_OPEN, &o))
		die("create own mproc");
	r->me = o.id;
}

static u32 lookup(struct raw *r, const char *name, double secs)
{
	double end = now() + secs;
	u32 id;

	while (ace_mproc_lookup(&r->a, name, &id)) {
		if (now() > end) {
			printf("ACE-TEST hostile-error no mproc named %s\n", name);
			exit(1);
		}
		usleep(20000);
	}
	return id;
}

static int ring(struct raw *r, u32 dst)
{
	struct ace_ioc_notify n = { .dst = dst };

	return ioctl(r->fd, ACE_IOC_NOTIFY, &n) ? -errno : 0;
}

/* A block of class c, held by us, to forge a message in.  Others may be
 * using the pool hard: retry (10 s) until that class has one. */
static u32 forge_block(struct raw *r, u32 c)
{
	double end = now() + 10;
	s64 off;

	do {
		off = ace_alloc(&r->a, r->a.cls[c].payload_max, r->me);
		if (off > 0 && ace_block_class(&r->a, (u32)off) == (int)c)
			return (u32)off;
		if (off > 0)
			ace_free(&r->a, (u32)off);	/* a larger class */
		usleep(1000);
	} while (off != -EIO && now() < end);
	printf("ACE-TEST hostile-error no block of class %u: %lld\n", c,
	       (long long)off);
	exit(1);
}

/* Write a message header as a sender would, but with any values. */
static void forge_msg(struct raw *r, u32 off, u32 dst, u32 len, u32 next)
{
	struct ace_msg *m = ace_msg(&r->a, off);

	ace_write_once(&m->len, len);
	ace_write_once(&m->src, r->me);
	ace_write_once(&m->dst, dst);
	ace_write_once(&m->type, 0);
	ace_write_once(&m->tag, 0xbad);
	ace_write_once(&m->owner, dst);
	ace_write_once(&m->next, next);
	ace_store(&m->flags, ACE_MSG_QUEUED, ACE_RELEASE);
}

/* Install `off` as dst's inbox head, whatever was there, and ring. */
static void push_raw(struct raw *r, u32 dst, u32 off)
{
	struct ace_mproc *e = ace_mproc_at(&r->a, ACE_ID_SLOT(dst));

	ace_xchg(&e->inbox, off, ACE_SEQ_CST);
	ace_pending_raise(&r->a, ACE_ID_SLOT(dst));
	ring(r, dst);
}

/* ---- the well-behaved side ---- */

static int cmd_wait(int n, char **names)
{
	struct raw r;
	int i;

	raw_open(&r, 0);
	for (i = 0; i < n; i++)
		lookup(&r, names[i], 60);
	printf("ACE-TEST found");
	for (i = 0; i < n; i++)
		printf(" %s", names[i]);
	printf("\n");
	return 0;
}

static int cmd_ping(const char *dst_name, int count, double alloc_secs,
		    int gap_ms)
{
	struct ace *ch;
	struct ace_mp *mp;
	struct ace_buf b;
	char name[32];
	double worst = 0;
	int i, ok = 0, bad = 0, nobufs = 0, r = 0;
	u32 dst;

	snprintf(name, sizeof(name), "client-%d", (int)getpid());
	if (ace_open(&ch, DEV, 0) || ace_mp_create(ch, name, ACE_MODE_ADAPTIVE, &mp) ||
	    ace_lookup(ch, dst_name, 30000, &dst)) {
		printf("ACE-TEST ping %s error: %s\n", dst_name, ace_error(ch));
		return 1;
	}
	for (i = 0; i < count; i++) {
		double t0 = now(), end = t0 + alloc_secs;
		unsigned char *p;

		while ((r = ace_mp_alloc(mp, 64, &b)) == -ENOBUFS && now() < end) {
			nobufs++;
			usleep(20000);
		}
		if (r)
			break;
		p = b.data;
		memset(p, i & 0xff, 64);
		b.tag = (u32)i;
		r = ace_mp_send(mp, dst, &b);
		if (r)
			break;
		r = ace_mp_recv(mp, &b, 3000000000LL);
		if (r < 0)
			break;
		if (r == 0) {
			bad++;
			r = -ETIMEDOUT;
			break;
		}
		p = b.data;
		if (b.tag == (u32)i && b.len == 64 && p[0] == (i & 0xff) &&
		    p[63] == (i & 0xff))
			ok++;
		else
			bad++;
		ace_mp_free(mp, &b);
		if (now() - t0 > worst)
			worst = now() - t0;
		r = 0;
		if (gap_ms)
			usleep((useconds_t)gap_ms * 1000);
	}
	printf("ACE-TEST ping %s ok=%d bad=%d nobufs=%d max=%.0fus%s%s\n",
	       dst_name, ok, bad, nobufs, worst * 1e6, r ? " error: " : "",
	       r ? ace_error(ch) : "");
	ace_mp_close(mp);
	ace_close(ch);
	return ok == count ? 0 : 1;
}

static int cmd_census(int idle)
{
	struct raw r;
	u32 held, queued, free;

	raw_open(&r, 0);
	if (ace_block_census(&r.a, 0, &held, &queued, &free)) {
		printf("ACE-TEST census error: %s\n", ace_arena_why(&r.a));
		return 1;
	}
	printf("ACE-TEST census total=%u free=%u queued=%u held=%u\n",
	       r.a.total_blocks, free, queued, held);
	if (free + queued + held != r.a.total_blocks)
		return 1;
	return idle && free != r.a.total_blocks;
}

static int cmd_create(const char *name)
{
	struct ace *ch;
	struct ace_mp *mp;
	int r;

	if (ace_open(&ch, DEV, 0)) {
		printf("ACE-TEST create %s error: %s\n", name, ace_error(ch));
		return 1;
	}
	r = ace_mp_create(ch, name, ACE_MODE_POLL, &mp);
	printf("ACE-TEST create %s %s\n", name, r ? ace_error(ch) : "ok");
	if (!r)
		ace_mp_close(mp);
	ace_close(ch);
	return r ? 1 : 0;
}

static int cmd_busy(const char *name, u64 n)
{
	struct raw r;
	double end;
	u32 id;
	u64 got = 0;

	raw_open(&r, 0);
	id = lookup(&r, name, 30);
	end = now() + 60;
	while (now() < end) {
		got = ace_read_once(&ace_mproc_at(&r.a, ACE_ID_SLOT(id))->c.received);
		if (got >= n) {
			printf("ACE-TEST busy %s received=%llu\n", name,
			       (unsigned long long)got);
			return 0;
		}
		usleep(20000);
	}
	printf("ACE-TEST busy %s only received=%llu\n", name, (unsigned long long)got);
	return 1;
}

/* ---- resource attacks ---- */

static int cmd_slots(double secs)
{
	struct raw r;
	int n = 0, err;

	raw_open(&r, 0);
	for (;;) {
		struct ace_ioc_open o = { .flags = ACE_OPEN_CREATE,
					  .mode = ACE_MODE_POLL };

		snprintf(o.name, sizeof(o.name), "hog-%d-%d", (int)getpid(), n);
		if (ioctl(r.fd, ACE_IOC_OPEN, &o))
			break;
		n++;
	}
	err = errno;
	printf("ACE-TEST slots-claimed %d, then: %s\n", n, strerror(err));
	fflush(stdout);
	usleep((useconds_t)(secs * 1e6));
	return err == ENOSPC ? 0 : 1;
}

static int cmd_pools(double secs)
{
	struct raw r;
	u32 per[ACE_MAX_CLASSES] = { 0 }, n = 0, c;
	s64 off;

	raw_open(&r, 1);
	while ((off = ace_alloc(&r.a, 0, r.me)) > 0) {
		per[ace_block_class(&r.a, (u32)off)]++;
		n++;
	}
	printf("ACE-TEST pools-exhausted held=%u of %u (", n, r.a.total_blocks);
	for (c = 0; c < r.a.nr_classes; c++)
		printf("%s%u", c ? " " : "", per[c]);
	printf("), then: %s\n", strerror((int)-off));
	fflush(stdout);
	usleep((useconds_t)(secs * 1e6));
	return off == -ENOBUFS ? 0 : 1;
}

static int cmd_doorbells(const char *name, double secs)
{
	struct raw r;
	double t0, end;
	u64 rang = 0, errs = 0;
	u32 dst, w;
	int last = 0;

	raw_open(&r, 0);
	dst = lookup(&r, name, 30);
	t0 = now();
	end = t0 + secs;
	while (now() < end) {
		int i;

		for (i = 0; i < 256; i++) {
			int e = ring(&r, dst);

			rang++;
			if (e) {
				errs++;
				last = e;
			}
		}
		/* every pending bit, every time: the device and the guest
		 * scan them all */
		for (w = 0; w < r.a.nr_pending_words; w++)
			ace_store((u64 *)(r.map + r.a.pending_off) + w, ~0ull,
				  ACE_RELAXED);
	}
	printf("ACE-TEST doorbells rang=%llu in %.1fs (%.0f/s), errors=%llu%s%s\n",
	       (unsigned long long)rang, now() - t0, rang / (now() - t0),
	       (unsigned long long)errs, last ? " last: " : "",
	       last ? strerror(-last) : "");
	return errs ? 1 : 0;
}

static int cmd_header(void)
{
	struct raw r;
	struct ace_arena_hdr *h;

	raw_open(&r, 0);
	h = (struct ace_arena_hdr *)r.map;
	/* geometry that no longer matches the blocks, and a bad magic */
	ace_write_once(&h->classes[0].base, h->classes[0].base + 64);
	ace_write_once(&h->classes[1].nr_blocks, 0xffffffffu);
	ace_write_once(&h->nr_mprocs, 4096);
	ace_write_once(&h->magic, 0xdeadbeefu);
	printf("ACE-TEST header-rewritten magic=0x%x\n", h->magic);
	return 0;
}

/* ---- corruption attacks ---- */

static int cmd_inbox(const char *name, int misaligned)
{
	struct raw r;
	u32 dst, bad;

	raw_open(&r, 0);
	dst = lookup(&r, name, 30);
	bad = misaligned ? ace_handle(&r.a, 0, 0) + 8 : r.size + 0x1000;
	ace_store(&ace_mproc_at(&r.a, ACE_ID_SLOT(dst))->inbox, bad, ACE_SEQ_CST);
	ace_pending_raise(&r.a, ACE_ID_SLOT(dst));
	ring(&r, dst);
	printf("ACE-TEST attack %s: inbox of %s = 0x%x\n",
	       misaligned ? "inbox-misaligned" : "inbox-range", name, bad);
	return 0;
}

static int cmd_next(const char *name)
{
	struct raw r;
	u32 dst, b, bad;

	raw_open(&r, 1);
	dst = lookup(&r, name, 30);
	b = forge_block(&r, 0);
	bad = r.size + 0x40;
	forge_msg(&r, b, dst, 8, bad);
	push_raw(&r, dst, b);
	printf("ACE-TEST attack next-range: message 0x%x to %s links to 0x%x\n",
	       b, name, bad);
	return 0;
}

static int cmd_cycle(const char *name)
{
	struct raw r;
	u32 dst, a, b;

	raw_open(&r, 1);
	dst = lookup(&r, name, 30);
	a = forge_block(&r, 0);
	b = forge_block(&r, 0);
	forge_msg(&r, a, dst, 8, b);
	forge_msg(&r, b, dst, 8, a);
	push_raw(&r, dst, a);
	printf("ACE-TEST attack inbox-cycle: 0x%x -> 0x%x -> 0x%x to %s\n",
	       a, b, a, name);
	return 0;
}

static int cmd_length(const char *name)
{
	struct raw r;
	u32 dst, b, len;

	raw_open(&r, 1);
	dst = lookup(&r, name, 30);
	b = forge_block(&r, 0);
	len = 0x7ffffff0;
	forge_msg(&r, b, dst, len, 0);
	push_raw(&r, dst, b);
	printf("ACE-TEST attack length: message 0x%x to %s says %u bytes in a %u-byte block\n",
	       b, name, len, 1u << r.a.cls[0].shift);
	return 0;
}

struct flipper {
	struct raw *r;
	u32 block;		/* the block being sent, 0: none yet */
	u32 stop;
	u64 flips;
};

/* Rewrite the header of whatever is being sent, between good and bad
 * values, as fast as possible: a host that read a word twice would act
 * on a value it never checked. */
static void *flip(void *arg)
{
	struct flipper *f = arg;
	static const u32 lens[] = { 8, 0x7ffffff0, 64, 0xffffffffu };
	u32 i = 0;

	while (!ace_load(&f->stop, ACE_RELAXED)) {
		u32 off = ace_load(&f->block, ACE_RELAXED);
		struct ace_msg *m;

		if (!off)
			continue;
		m = ace_msg(&f->r->a, off);
		ace_write_once(&m->len, lens[i & 3]);
		ace_write_once(&m->next, (i & 8) ? f->r->size + 8 : 0);
		ace_write_once(&m->flags, (i & 16) ? ACE_MSG_FREE : ACE_MSG_QUEUED);
		i++;
		f->flips++;
	}
	return NULL;
}

static int cmd_double_fetch(const char *name, double secs)
{
	struct raw r;
	struct flipper f = { .r = &r };
	pthread_t t;
	double end;
	u64 sent = 0, errs = 0;
	u32 dst;

	raw_open(&r, 1);
	dst = lookup(&r, name, 30);
	if (pthread_create(&t, NULL, flip, &f))
		die("pthread_create");
	end = now() + secs;
	while (now() < end) {
		/* a block of our own each time, sent legally, then the
		 * flipper goes to work on it while the host takes it */
		s64 off = ace_alloc(&r.a, 8, r.me);
		int s;

		if (off <= 0) {
			/* our view broke (the flipper hit our own reads) or
			 * the pool ran dry: start again on a fresh view */
			ace_arena_attach(&r.a, r.map, r.size);
			errs++;
			usleep(1000);
			continue;
		}
		s = ace_send(&r.a, r.me, dst, (u32)off, 8);
		ace_store(&f.block, (u32)off, ACE_RELAXED);
		if (s < 0)
			errs++;
		ring(&r, dst);
		sent++;
		usleep(200);
	}
	ace_store(&f.stop, 1, ACE_RELAXED);
	pthread_join(t, NULL);
	printf("ACE-TEST attack double-fetch: %llu sends to %s, %llu header rewrites, %llu own errors\n",
	       (unsigned long long)sent, name, (unsigned long long)f.flips,
	       (unsigned long long)errs);
	return 0;
}

static int cmd_free(const char *what, u32 c)
{
	struct raw r;
	u64 *head, h, want;
	u32 bad;

	raw_open(&r, !strcmp(what, "free-cycle"));
	if (c >= r.a.nr_classes) {
		printf("ACE-TEST hostile-error no class %u\n", c);
		return 1;
	}
	head = &ace_hdr(&r.a)->free[c].head;
	if (!strcmp(what, "free-range")) {
		bad = r.size + 0x100;
	} else if (!strcmp(what, "free-misaligned")) {
		bad = ace_handle(&r.a, c, 0) + 8;
	} else {
		/* one of our blocks, back on the list, linked to itself */
		bad = forge_block(&r, c);
		ace_write_once(&ace_msg(&r.a, bad)->next, bad);
		ace_store(&ace_msg(&r.a, bad)->flags, ACE_MSG_FREE, ACE_RELEASE);
	}
	h = ace_load(head, ACE_ACQUIRE);
	do {
		want = (u64)bad | ((h >> 32) + 1) << 32;
	} while (!ace_cas(head, &h, want, ACE_SEQ_CST));
	printf("ACE-TEST attack %s: class %u free-list head = 0x%x\n", what, c, bad);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of tests/vm/guest/ace-hostile.c\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "wait") && argc > 2)
		return cmd_wait(argc - 2, argv + 2);
	if (!strcmp(cmd, "ping") && argc > 3)
		return cmd_ping(argv[2], atoi(argv[3]), argc > 4 ? atof(argv[4]) : 10,
				argc > 5 ? atoi(argv[5]) : 0);
	if (!strcmp(cmd, "census"))
		return cmd_census(argc > 2 && !strcmp(argv[2], "idle"));
	if (!strcmp(cmd, "create") && argc > 2)
		return cmd_create(argv[2]);
	if (!strcmp(cmd, "busy") && argc > 3)
		return cmd_busy(argv[2], strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "slots") && argc > 2)
		return cmd_slots(atof(argv[2]));
	if (!strcmp(cmd, "pools") && argc > 2)
		return cmd_pools(atof(argv[2]));
	if (!strcmp(cmd, "doorbells") && argc > 3)
		return cmd_doorbells(argv[2], atof(argv[3]));
	if (!strcmp(cmd, "header"))
		return cmd_header();
	if (!strcmp(cmd, "inbox-range") && argc > 2)
		return cmd_inbox(argv[2], 0);
	if (!strcmp(cmd, "inbox-misaligned") && argc > 2)
		return cmd_inbox(argv[2], 1);
	if (!strcmp(cmd, "next-range") && argc > 2)
		return cmd_next(argv[2]);
	if (!strcmp(cmd, "inbox-cycle") && argc > 2)
		return cmd_cycle(argv[2]);
	if (!strcmp(cmd, "length") && argc > 2)
		return cmd_length(argv[2]);
	if (!strcmp(cmd, "double-fetch") && argc > 3)
		return cmd_double_fetch(argv[2], atof(argv[3]));
	if (!strncmp(cmd, "free-", 5) && argc > 2 &&
	    (!strcmp(cmd, "free-range") || !strcmp(cmd, "free-misaligned") ||
	     !strcmp(cmd, "free-cycle")))
		return cmd_free(cmd, (u32)atoi(argv[2]));
	usage();
	return 2;
}
