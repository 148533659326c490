// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * A hostile arena: a scribbler process writes random and crafted values
 * (valid handles, self-links, handles whose class bits lie, lengths past a
 * block, torn states)
 * all over the header, the mproc table, the pending bitmap and the block
 * headers, while a validating process keeps working on the same arena.
 * The validator sits between guard pages, so any access outside the
 * arena faults.  It must never crash or hang, and it must report the
 * breakage (-EIO with a reason) and recover by attaching again.
 *
 *   test_hostile [-s seconds]
 */
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include "ace_test.h"

#define SIZE (1u << 20)
#define PAGE 4096u

struct stats {
	u64 ops, breaks, attach_fail, detected_by_ops;
	char last_why[96];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static u32 rnd(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (u32)(*s >> 11);
}

static void scribbler(int fd, double secs)
{
	unsigned char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
				fd, 0);
	unsigned char pristine[PAGE];
	struct ace_arena a;
	u64 s = 0x243f6a8885a308d3ull;
	double end = now() + secs;
	unsigned long n = 0;

	memcpy(pristine, m, PAGE);
	ace_arena_attach(&a, m, SIZE);	/* to learn where blocks are */
	while (now() < end) {
		u32 r = rnd(&s), where = r % 100, off, val;
		u32 c = rnd(&s) % a.nr_classes;
		u32 blk = ace_handle(&a, c, a.cls[c].nr ? rnd(&s) % a.cls[c].nr : 0);

		if (where < 20)
			off = rnd(&s) % PAGE;
		else if (where < 50)
			off = a.mproc_off + rnd(&s) % (a.nr_mprocs * 256);
		else if (where < 55)
			off = a.pending_off + rnd(&s) % 8;
		else
			off = ACE_HANDLE_DESC(blk) + (rnd(&s) % 8) * 4;
		switch (rnd(&s) % 8) {
		case 0: val = 0; break;
		case 1: val = 0xffffffffu; break;
		case 2: val = blk; break;		/* valid link, or a self-link */
		case 3: val = blk + 8; break;		/* misaligned */
		case 4: val = ACE_HANDLE_DESC(blk) | ((blk + 1) & 7); break; /* class lies */
		case 5: val = SIZE - 32; break;
		case 6: val = ACE_MSG_QUEUED; break;
		default: val = rnd(&s); break;
		}
		__atomic_store_n((u32 *)(m + (off & ~3u)), val, __ATOMIC_RELAXED);
		/* let the header heal now and then so attach can succeed */
		if (++n % 2000 == 0)
			memcpy(m, pristine, PAGE);
		if (n % 64 == 0)
			sched_yield();
	}
	_exit(0);
}

static void work(struct ace_arena *a, u64 *s, struct stats *st)
{
	struct ace_msg_desc d[8];
	struct ace_rx rx;
	char name[16];
	u32 id, h, q, f;
	s64 off;
	int i, r;

	snprintf(name, sizeof(name), "v%u", rnd(s) % 32);
	r = ace_mproc_claim(a, name, ACE_SIDE_HOST, 0, &id);
	if (r) {
		if (ace_mproc_lookup(a, name, &id))
			return;
	}
	ace_rx_init(&rx, id);
	for (i = 0; i < 8; i++) {
		off = ace_alloc(a, rnd(s) % 5000, id);
		if (off > 0 && ace_send(a, id, id, (u32)off, 16) < 0)
			ace_free(a, (u32)off);
	}
	ace_arm(a, &rx);
	ace_section_begin(a, &rx);
	ace_section_end(a, &rx);
	ace_disarm(a, &rx);
	r = ace_recv_batch(a, &rx, d, 8);
	for (i = 0; i < r; i++) {
		/* touch the payload through the checked length */
		volatile unsigned char *p = ace_payload(a, d[i].off);
		if (d[i].len)
			(void)p[d[i].len - 1];
		ace_free(a, d[i].off);
	}
	ace_pending_take(a, rnd(s) % 4, ~0ull);
	ace_delivery(a, rnd(s) % 64, NULL);
	ace_force(a, rnd(s) % 64, rnd(s));
	ace_block_census(a, 0, &h, &q, &f);
	ace_free_count(a, rnd(s) % 4);
	if (rnd(s) % 4 == 0)
		ace_mproc_release(a, id);
	st->ops++;
}

static void validator(int fd, double secs, struct stats *st)
{
	unsigned char *res = mmap(NULL, SIZE + 2 * PAGE, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *m = mmap(res + PAGE, SIZE, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, fd, 0);
	struct ace_arena a;
	u64 s = 0x13198a2e03707344ull;
	double end = now() + secs;

	if (m == MAP_FAILED)
		_exit(2);
	while (now() < end) {
		if (ace_arena_attach(&a, m, SIZE)) {
			st->attach_fail++;
			snprintf(st->last_why, sizeof(st->last_why), "%s", ace_arena_why(&a));
			usleep(100);
			continue;
		}
		while (!ace_arena_broken(&a) && now() < end)
			work(&a, &s, st);
		if (ace_arena_broken(&a)) {
			st->breaks++;
			snprintf(st->last_why, sizeof(st->last_why), "%s", ace_arena_why(&a));
		}
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	double secs = 3;
	int fd = ace_test_memfd(SIZE, 16, NULL), st;
	struct stats *stats = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t scrib, val, w;
	double deadline;

	if (argc == 3 && !strcmp(argv[1], "-s"))
		secs = atof(argv[2]);
	scrib = fork();
	if (scrib == 0)
		scribbler(fd, secs);
	val = fork();
	if (val == 0)
		validator(fd, secs, stats);
	/* a validator that hangs is a failure: wait with a deadline */
	deadline = now() + secs + 20;
	while ((w = waitpid(val, &st, WNOHANG)) == 0 && now() < deadline)
		usleep(10000);
	if (w == 0) {
		fprintf(stderr, "validator hung; killing pid %d\n", (int)val);
		kill(val, SIGKILL);
		waitpid(val, &st, 0);
		CHECK(0);
	} else {
		if (WIFSIGNALED(st))
			fprintf(stderr, "validator died of signal %d\n", WTERMSIG(st));
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	kill(scrib, SIGKILL);
	waitpid(scrib, NULL, 0);
	printf("operations %llu, arena broken %llu times, attach refused %llu times, last reason: %s\n",
	       (unsigned long long)stats->ops, (unsigned long long)stats->breaks,
	       (unsigned long long)stats->attach_fail, stats->last_why);
	CHECK(stats->ops > 100);
	CHECK(stats->breaks + stats->attach_fail > 0);
	return ace_test_done("hostile");
}
