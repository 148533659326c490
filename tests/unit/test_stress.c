// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Stress: two sides ("host" and "guest") on one arena, several threads
 * each, every thread an mproc that sends to every mproc of the other side
 * and drains its own inbox.  Each message carries (sender, sequence,
 * length, checksum); receivers check per-sender FIFO order and contents.
 * At the end nothing is lost or duplicated and free + in flight = total.
 *
 *   test_stress [-n messages-per-thread] [-t threads-per-side] [--threads]
 *
 * By default the sides are two processes mapping one memfd at different
 * addresses.  --threads keeps both sides in one process (two mappings),
 * so ThreadSanitizer sees every access.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/wait.h>
#include "ace_test.h"

#define SIZE (8u << 20)
#define MAXT 8

struct payload {
	u64 seq;
	u32 sender;	/* thread index on the sending side */
	u32 len;
	u64 sum;
	unsigned char bytes[];
};

struct side_result {
	u64 received, bad_order, bad_sum, errors;
};

static unsigned nthreads = 2;
static u64 per_thread = 1000000;
static int fd;

struct worker {
	struct ace_arena a;	/* this side's private view */
	int side;		/* 0 or 1 */
	unsigned t;
	u32 me;
	u32 peers[MAXT];	/* the other side's mprocs */
	u64 next_seq[MAXT];	/* expected seq from each sender */
	struct side_result r;
};

static u64 fnv(const unsigned char *p, u32 n, u64 seed)
{
	u64 h = 1469598103934665603ull ^ seed;
	u32 i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static u32 xorshift(u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void check(struct worker *w, const struct ace_msg_desc *d)
{
	const struct payload *p = ace_payload(&w->a, d->off);
	u32 from = p->sender;

	w->r.received++;
	if (from >= nthreads || d->len < sizeof(*p) || p->len != d->len) {
		w->r.errors++;
		return;
	}
	if (p->seq != w->next_seq[from])
		w->r.bad_order++;
	w->next_seq[from] = p->seq + 1;
	if (p->sum != fnv(p->bytes, p->len - sizeof(*p), p->seq))
		w->r.bad_sum++;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct ace_rx rx;
	struct ace_cache cache;
	struct ace_msg_desc d[32];
	int cached = w->t % 2 == 0;
	u64 sent = 0, expect = per_thread;
	u32 rng = 0x9e3779b9u * (w->side * MAXT + w->t + 1);
	unsigned spins = 0;
	int n, i;

	/* half the threads use a private cache: chains popped and pushed
	 * whole race with single pops and pushes on the same lists */
	ace_cache_init(&cache, w->me);
	ace_rx_init(&rx, w->me);
	while (sent < per_thread || w->r.received < expect) {
		if (sent < per_thread) {
			u32 dst = (u32)(sent % nthreads);
			u32 len = sizeof(struct payload) + xorshift(&rng) % 600;
			s64 off = cached ? ace_cache_alloc(&w->a, &cache, len) :
				  ace_alloc(&w->a, len, w->me);

			if (off > 0) {
				struct payload *p = ace_payload(&w->a, (u32)off);
				u32 k;

				p->seq = sent / nthreads;
				p->sender = w->t;
				p->len = len;
				for (k = 0; k < len - sizeof(*p); k++)
					p->bytes[k] = (unsigned char)(p->seq + k);
				p->sum = fnv(p->bytes, len - sizeof(*p), p->seq);
				if (ace_send(&w->a, w->me, w->peers[dst], (u32)off,
					     len) < 0) {
					w->r.errors++;
					break;
				}
				sent++;
			} else if (off != -ENOBUFS) {
				w->r.errors++;
				break;
			}
		}
		n = ace_recv_batch(&w->a, &rx, d, 32);
		if (n < 0) {
			w->r.errors++;
			break;
		}
		for (i = 0; i < n; i++) {
			check(w, &d[i]);
			if (cached ? ace_cache_free(&w->a, &cache, d[i].off) :
			    ace_free(&w->a, d[i].off))
				w->r.errors++;
		}
		if (n == 0 && sent == per_thread && ++spins % 64 == 0)
			sched_yield();
	}
	ace_cache_drain(&w->a, &cache);
	return NULL;
}

/* Run one side's threads; the other side's mprocs are looked up by name. */
static int side(int s, struct side_result *out)
{
	struct worker *w = calloc(nthreads, sizeof(*w));
	pthread_t th[MAXT];
	char name[32];
	unsigned t, k;
	int tries;

	for (t = 0; t < nthreads; t++) {
		ace_test_map(fd, SIZE, &w[t].a);
		w[t].side = s;
		w[t].t = t;
		snprintf(name, sizeof(name), "side%d-%u", s, t);
		if (ace_mproc_claim(&w[t].a, name, ACE_SIDE(s ? ACE_SIDE_GUEST_USER :
			ACE_SIDE_HOST, 0), ACE_MODE_POLL, &w[t].me))
			DIE("claim %s", name);
	}
	for (t = 0; t < nthreads; t++) {
		for (k = 0; k < nthreads; k++) {
			snprintf(name, sizeof(name), "side%d-%u", !s, k);
			for (tries = 0; ace_mproc_lookup(&w[t].a, name, &w[t].peers[k]);
			     tries++) {
				if (tries > 10000)
					DIE("peer %s never appeared", name);
				usleep(1000);
			}
		}
	}
	for (t = 0; t < nthreads; t++)
		pthread_create(&th[t], NULL, run, &w[t]);
	memset(out, 0, sizeof(*out));
	for (t = 0; t < nthreads; t++) {
		pthread_join(th[t], NULL);
		out->received += w[t].r.received;
		out->bad_order += w[t].r.bad_order;
		out->bad_sum += w[t].r.bad_sum;
		out->errors += w[t].r.errors;
		if (ace_arena_broken(&w[t].a)) {
			fprintf(stderr, "side %d: arena broken: %s (0x%x)\n", s,
				ace_arena_why(&w[t].a), w[t].a.why_value);
			out->errors++;
		}
	}
	free(w);
	return 0;
}

struct side_arg {
	int s;
	struct side_result r;
};

static void *side_thread(void *arg)
{
	struct side_arg *sa = arg;

	side(sa->s, &sa->r);
	return NULL;
}

int main(int argc, char **argv)
{
	struct side_result *res;
	struct ace_arena a;
	int threads_mode = 0, i;
	u32 h, q, f;
	void *mem;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			threads_mode = 1;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			per_thread = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			nthreads = (unsigned)atoi(argv[++i]);
		else
			DIE("usage: %s [-n N] [-t T] [--threads]", argv[0]);
	}
	if (nthreads < 1 || nthreads > MAXT)
		DIE("threads per side must be 1..%d", MAXT);
	per_thread -= per_thread % nthreads;	/* even split per receiver */
	fd = ace_test_memfd(SIZE, 64, NULL);
	res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (threads_mode) {
		struct side_arg sa[2] = { { .s = 0 }, { .s = 1 } };
		pthread_t th[2];

		pthread_create(&th[0], NULL, side_thread, &sa[0]);
		pthread_create(&th[1], NULL, side_thread, &sa[1]);
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		res[0] = sa[0].r;
		res[1] = sa[1].r;
	} else {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			/* shift the child's address space so its mapping
			 * lands elsewhere than the parent's */
			void *pad = mmap(NULL, 3 << 20, PROT_NONE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			(void)pad;
			side(1, &res[1]);
			_exit(0);
		}
		side(0, &res[0]);
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st)) {
			CHECK(0);
			fprintf(stderr, "guest-side process failed (status 0x%x)\n", st);
		}
	}
	for (i = 0; i < 2; i++) {
		printf("side %d: received %llu, out of order %llu, bad checksum %llu, errors %llu\n",
		       i, (unsigned long long)res[i].received,
		       (unsigned long long)res[i].bad_order,
		       (unsigned long long)res[i].bad_sum,
		       (unsigned long long)res[i].errors);
		CHECK_EQ(res[i].received, per_thread * nthreads);
		CHECK_EQ(res[i].bad_order, 0);
		CHECK_EQ(res[i].bad_sum, 0);
		CHECK_EQ(res[i].errors, 0);
	}
	mem = ace_test_map(fd, SIZE, &a);
	CHECK_EQ(ace_block_census(&a, 0, &h, &q, &f), 0);
	/* mprocs are still open: nothing held, nothing in flight */
	printf("blocks: %u free, %u in flight, %u held, %u total\n", f, q, h,
	       a.total_blocks);
	CHECK_EQ(f + q, a.total_blocks);
	CHECK_EQ(h, 0);
	for (i = 0; i < (int)a.nr_classes; i++)
		CHECK_EQ(ace_free_count(&a, (u32)i), a.cls[i].nr);
	munmap(mem, SIZE);
	return ace_test_done(threads_mode ? "stress (threads)" : "stress (processes)");
}
