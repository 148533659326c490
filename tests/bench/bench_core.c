// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * bench_core - the ACE core between two processes on one memfd, beside
 * the baselines measured in the same run:
 *
 *   floor     two processes ping-ponging one cache line (the hardware floor)
 *   ace-poll  a 64-byte message round trip through two inboxes, polled
 *   ck-ring   Concurrency Kit's SPSC ring carrying 64-byte entries (a copy)
 *   eventfd   a wake-up round trip through two eventfds (blocking reads)
 *   pipe      a round trip through two pipes
 *
 * and throughput (64-byte messages, 1, 2 and 4 senders into one inbox)
 * for ACE and ck_ring's MPSC mode.  Latency is one round trip per sample,
 * timed with the TSC on one side, reported as percentiles.
 *
 *   bench_core [-n samples] [-m messages-per-sender] [--json FILE] [--quick]
 *              [--wake] [--rtt]
 *
 * --quick measures the floor and the ACE round trip only (make demo);
 * --wake adds the eventfd round trip to it (make bench); --rtt measures
 * the floor, ACE and ck_ring round trips only.  Without --quick those
 * three run in ten alternating rounds each, so that on a busy machine all
 * three see the same weather.
 */
#define _GNU_SOURCE
#include <ck_ring.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "../../shared/ace_core.h"

#define ARENA_SIZE (16u << 20)
#define RING_SIZE 4096
#define MSG 64
#define TPUT_LIMIT_S 10.0	/* a throughput run stops after this long */

struct msg64 {
	unsigned char b[MSG];
};
CK_RING_PROTOTYPE(msg64, msg64)

/* Shared control page(s): created before fork, MAP_SHARED. */
struct shared {
	volatile u64 line ACE_ALIGNED(64);	/* the floor's cache line */
	volatile u32 ready ACE_ALIGNED(64);
	volatile u32 go;
	volatile u32 done;
	struct ck_ring ring_ab ACE_ALIGNED(64);
	struct ck_ring ring_ba ACE_ALIGNED(64);
	struct msg64 buf_ab[RING_SIZE] ACE_ALIGNED(64);
	struct msg64 buf_ba[RING_SIZE] ACE_ALIGNED(64);
};

static struct shared *sh;
static int arena_fd;
static u64 nsamples = 1000000, nmsgs = 2000000;
static double tsc_ghz;
static FILE *json;
static int json_first = 1;

static inline u64 tsc(void)
{
	return __builtin_ia32_rdtsc();
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void calibrate(void)
{
	double t0 = mono();
	u64 c0 = tsc();

	while (mono() - t0 < 0.2)
		;
	tsc_ghz = (tsc() - c0) / ((mono() - t0) * 1e9);
}

static void pin(int cpu)
{
	cpu_set_t s;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&s);
	CPU_SET(cpu % (n > 0 ? n : 1), &s);
	sched_setaffinity(0, sizeof(s), &s);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void map_arena(struct ace_arena *a)
{
	void *m = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       arena_fd, 0);

	if (m == MAP_FAILED || ace_arena_attach(a, m, ARENA_SIZE))
		die("arena");
}

/* Run `child` in a forked process pinned to CPU 1 while `parent` runs
 * pinned to CPU 0. */
static void pair(void (*parent)(void), void (*child)(void))
{
	pid_t pid;
	int st;

	sh->ready = 0;
	sh->go = 0;
	sh->done = 0;
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		pin(1);
		child();
		_exit(0);
	}
	pin(0);
	parent();
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		die("child");
}

/* ---- latency statistics ---- */

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

struct lat {
	const char *name;
	u64 n;
	double min, p50, p99, p999, max;
};

static struct lat results[8];
static int nresults;

static double pct(u64 *s, u64 n, double p)
{
	u64 i = (u64)(p * (n - 1));

	return s[i] / tsc_ghz;
}

static void report(const char *name, u64 *s, u64 n)
{
	struct lat *l = &results[nresults++];

	qsort(s, n, sizeof(*s), cmp_u64);
	l->name = name;
	l->n = n;
	l->min = s[0] / tsc_ghz;
	l->p50 = pct(s, n, 0.50);
	l->p99 = pct(s, n, 0.99);
	l->p999 = pct(s, n, 0.999);
	l->max = s[n - 1] / tsc_ghz;
	fprintf(stderr, "  %-10s done: p50 %.0f ns over %llu samples\n", name,
		l->p50, (unsigned long long)n);
}

static u64 *samples;
static u64 warm;

/* ---- floor: one cache line ---- */

static void floor_a(void)
{
	u64 i, t;

	while (!sh->ready)
		;
	for (i = 0; i < warm + nsamples; i++) {
		t = tsc();
		sh->line = 2 * i + 1;
		while (sh->line != 2 * i + 2)
			ace_cpu_relax();
		if (i >= warm)
			samples[i - warm] = tsc() - t;
	}
}

static void floor_b(void)
{
	u64 i;

	sh->ready = 1;
	for (i = 0; i < warm + nsamples; i++) {
		while (sh->line != 2 * i + 1)
			ace_cpu_relax();
		sh->line = 2 * i + 2;
	}
}

/* ---- ACE polled round trip ---- */

static u32 id_a, id_b;

static void ace_a(void)
{
	struct ace_arena a;
	struct ace_rx rx;
	struct ace_msg_desc d;
	struct ace_cache cache;
	u64 i, t;
	int r;

	map_arena(&a);
	ace_rx_init(&rx, id_a);
	ace_cache_init(&cache, id_a);
	while (!sh->ready)
		;
	for (i = 0; i < warm + nsamples; i++) {
		s64 off;

		t = tsc();
		off = ace_cache_alloc(&a, &cache, MSG);
		if (off <= 0)
			die("ace_alloc");
		memset(ace_payload(&a, (u32)off), (int)i, MSG);
		if (ace_send(&a, id_a, id_b, (u32)off, MSG) < 0)
			die("ace_send");
		while ((r = ace_recv(&a, &rx, &d)) == 0)
			ace_cpu_relax();
		if (r < 0)
			die("ace_recv");
		if (((unsigned char *)ace_payload(&a, d.off))[MSG - 1] != (unsigned char)i)
			die("ace payload");
		ace_cache_free(&a, &cache, d.off);
		if (i >= warm)
			samples[i - warm] = tsc() - t;
	}
	ace_cache_drain(&a, &cache);
}

static void ace_b(void)
{
	struct ace_arena a;
	struct ace_rx rx;
	struct ace_msg_desc d;
	u64 i;
	int r;

	map_arena(&a);
	ace_rx_init(&rx, id_b);
	sh->ready = 1;
	for (i = 0; i < warm + nsamples; i++) {
		while ((r = ace_recv(&a, &rx, &d)) == 0)
			ace_cpu_relax();
		if (r < 0)
			die("ace_recv");
		/* echo the same block back: zero copy */
		if (ace_send(&a, id_b, id_a, d.off, d.len) < 0)
			die("echo");
	}
}

/* ---- ck_ring SPSC round trip with 64-byte entries ---- */

static void ck_a(void)
{
	struct msg64 m, r;
	u64 i, t;

	while (!sh->ready)
		;
	for (i = 0; i < warm + nsamples; i++) {
		t = tsc();
		memset(&m, (int)i, sizeof(m));
		while (!ck_ring_enqueue_spsc_msg64(&sh->ring_ab, sh->buf_ab, &m))
			ace_cpu_relax();
		while (!ck_ring_dequeue_spsc_msg64(&sh->ring_ba, sh->buf_ba, &r))
			ace_cpu_relax();
		if (r.b[MSG - 1] != (unsigned char)i)
			die("ck payload");
		if (i >= warm)
			samples[i - warm] = tsc() - t;
	}
}

static void ck_b(void)
{
	struct msg64 m;
	u64 i;

	sh->ready = 1;
	for (i = 0; i < warm + nsamples; i++) {
		while (!ck_ring_dequeue_spsc_msg64(&sh->ring_ab, sh->buf_ab, &m))
			ace_cpu_relax();
		while (!ck_ring_enqueue_spsc_msg64(&sh->ring_ba, sh->buf_ba, &m))
			ace_cpu_relax();
	}
}

/* ---- blocking wake-ups: eventfd and pipe ---- */

static int fd_ab[2], fd_ba[2];	/* [read end, write end] */
static u64 wake_n;

static void wake_a(void)
{
	u64 i, t, v = 1;

	for (i = 0; i < warm / 10 + wake_n; i++) {
		t = tsc();
		if (write(fd_ab[1], &v, 8) != 8 || read(fd_ba[0], &v, 8) != 8)
			die("wake a");
		if (i >= warm / 10)
			samples[i - warm / 10] = tsc() - t;
	}
}

static void wake_b(void)
{
	u64 i, v;

	for (i = 0; i < warm / 10 + wake_n; i++)
		if (read(fd_ab[0], &v, 8) != 8 || write(fd_ba[1], &v, 8) != 8)
			die("wake b");
}

/* ---- throughput: S senders, one receiver ---- */

struct tput {
	const char *name;
	int senders;
	double msgs_per_s;
	u64 n;
};
static struct tput tputs[8];
static int ntputs;

static void ace_sender(int s, u32 dst, u32 me)
{
	struct ace_arena a;
	struct ace_cache cache;
	u64 i;

	map_arena(&a);
	ace_cache_init(&cache, me);
	while (!sh->go)
		;
	for (i = 0; i < nmsgs && !sh->done; i++) {
		s64 off;

		while ((off = ace_cache_alloc(&a, &cache, MSG)) == -ENOBUFS &&
		       !sh->done)
			sched_yield();
		if (off == -ENOBUFS)
			break;
		if (off < 0)
			die("tput alloc");
		memset(ace_payload(&a, (u32)off), s, MSG);
		if (ace_send(&a, me, dst, (u32)off, MSG) < 0)
			die("tput send");
	}
}

static void ck_sender(int s)
{
	struct msg64 m;
	u64 i;

	while (!sh->go)
		;
	for (i = 0; i < nmsgs && !sh->done; i++) {
		memset(&m, s, sizeof(m));
		while (!ck_ring_enqueue_mpsc_msg64(&sh->ring_ab, sh->buf_ab, &m) &&
		       !sh->done)
			sched_yield();
	}
}

static double ace_receiver(u32 me, u64 total, u64 *gotp)
{
	struct ace_arena a;
	struct ace_rx rx;
	struct ace_cache cache;
	struct ace_msg_desc d[64];
	u64 got = 0, sum = 0;
	double t0, rate;
	int n, i;

	map_arena(&a);
	ace_rx_init(&rx, me);
	ace_cache_init(&cache, me);
	t0 = mono();
	sh->go = 1;
	while (got < total && mono() - t0 < TPUT_LIMIT_S) {
		n = ace_recv_batch(&a, &rx, d, 64);
		if (n < 0)
			die("tput recv");
		for (i = 0; i < n; i++) {
			sum += ((unsigned char *)ace_payload(&a, d[i].off))[0];
			ace_cache_free(&a, &cache, d[i].off);
		}
		got += n;
		if (!n)
			sched_yield();
	}
	(void)sum;
	*gotp = got;
	rate = got / (mono() - t0);
	/* Senders stop on `done`; what is still queued or cached is freed
	 * when the mprocs close (their blocks are reclaimed). */
	sh->done = 1;
	ace_cache_drain(&a, &cache);
	return rate;
}

static double ck_receiver(u64 total, u64 *gotp)
{
	struct msg64 m;
	u64 got = 0, sum = 0;
	double t0 = mono(), rate;

	sh->go = 1;
	while (got < total && mono() - t0 < TPUT_LIMIT_S) {
		if (ck_ring_dequeue_spsc_msg64(&sh->ring_ab, sh->buf_ab, &m)) {
			sum += m.b[0];
			got++;
		} else {
			sched_yield();
		}
	}
	(void)sum;
	*gotp = got;
	rate = got / (mono() - t0);
	sh->done = 1;
	return rate;
}

static void throughput(int use_ace, int senders)
{
	struct ace_arena a;
	pid_t pids[8];
	u32 rcv = 0, snd[8];
	char name[32];
	double rate;
	u64 got = 0;
	int s, st;

	sh->go = 0;
	if (use_ace) {
		map_arena(&a);
		ace_mproc_claim(&a, "t-rcv", ACE_SIDE_HOST, 0, &rcv);
		for (s = 0; s < senders; s++) {
			snprintf(name, sizeof(name), "t-snd%d", s);
			ace_mproc_claim(&a, name, ACE_SIDE_HOST, 0, &snd[s]);
		}
	} else {
		ck_ring_init(&sh->ring_ab, RING_SIZE);
	}
	for (s = 0; s < senders; s++) {
		pids[s] = fork();
		if (pids[s] == 0) {
			pin(s + 1);
			if (use_ace)
				ace_sender(s, rcv, snd[s]);
			else
				ck_sender(s);
			_exit(0);
		}
	}
	pin(0);
	sh->done = 0;
	rate = use_ace ? ace_receiver(rcv, nmsgs * senders, &got)
		       : ck_receiver(nmsgs * senders, &got);
	for (s = 0; s < senders; s++)
		if (waitpid(pids[s], &st, 0) != pids[s] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			die("sender");
	if (use_ace) {
		ace_mproc_release(&a, rcv);
		for (s = 0; s < senders; s++)
			ace_mproc_release(&a, snd[s]);
	}
	tputs[ntputs].name = use_ace ? "ace" : "ck-ring-mpsc";
	tputs[ntputs].senders = senders;
	tputs[ntputs].msgs_per_s = rate;
	tputs[ntputs].n = got;
	ntputs++;
	fprintf(stderr, "  %-12s %d sender(s): %.2f M msgs/s\n",
		use_ace ? "ace" : "ck-ring-mpsc", senders, rate / 1e6);
}

/* --rtt: floor, ACE and ck_ring in RTT_ROUNDS alternating rounds. */
#define RTT_ROUNDS 10

static void interleaved(void)
{
	u64 total = nsamples, chunk = nsamples / RTT_ROUNDS, r, k;
	u64 *all[3], *keep = samples, keep_warm = warm;
	static const char *const names[3] = { "floor", "ace-poll", "ck-ring" };

	for (k = 0; k < 3; k++) {
		all[k] = malloc(sizeof(u64) * chunk * RTT_ROUNDS);
		if (!all[k])
			die("malloc");
	}
	nsamples = chunk;
	warm = chunk / 10 > 1000 ? chunk / 10 : 1000;
	for (r = 0; r < RTT_ROUNDS; r++) {
		samples = all[0] + r * chunk;
		pair(floor_a, floor_b);
		samples = all[1] + r * chunk;
		pair(ace_a, ace_b);
		samples = all[2] + r * chunk;
		ck_ring_init(&sh->ring_ab, RING_SIZE);
		ck_ring_init(&sh->ring_ba, RING_SIZE);
		pair(ck_a, ck_b);
	}
	for (k = 0; k < 3; k++)
		report(names[k], all[k], chunk * RTT_ROUNDS);
	samples = keep;
	warm = keep_warm;
	nsamples = total;
}

/* ---- output ---- */

static void json_kv(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void json_kv(const char *fmt, ...)
{
	va_list ap;

	if (!json)
		return;
	fprintf(json, "%s\n    ", json_first ? "" : ",");
	json_first = 0;
	va_start(ap, fmt);
	vfprintf(json, fmt, ap);
	va_end(ap);
}

static void print_all(void)
{
	const struct lat *fl = &results[0];
	int i;

	printf("\nACE core benchmark: 64-byte messages between two processes on one memfd\n");
	printf("TSC %.3f GHz; %ld CPUs online; latency = one round trip per sample\n\n",
	       tsc_ghz, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-10s %10s %9s %9s %9s %9s %9s %8s\n", "round trip", "samples",
	       "min ns", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "p50/floor");
	for (i = 0; i < nresults; i++) {
		const struct lat *l = &results[i];

		printf("%-10s %10llu %9.0f %9.0f %9.0f %9.0f %9.0f %8.2fx\n",
		       l->name, (unsigned long long)l->n, l->min, l->p50, l->p99,
		       l->p999, l->max, l->p50 / fl->p50);
		json_kv("{\"kind\": \"rtt\", \"name\": \"%s\", \"samples\": %llu, \"min_ns\": %.1f, \"p50_ns\": %.1f, \"p99_ns\": %.1f, \"p999_ns\": %.1f, \"max_ns\": %.1f}",
			l->name, (unsigned long long)l->n, l->min, l->p50,
			l->p99, l->p999, l->max);
	}
	printf("\n%-14s %8s %12s %14s\n", "throughput", "senders", "messages",
	       "M msgs/s");
	for (i = 0; i < ntputs; i++) {
		const struct tput *t = &tputs[i];

		printf("%-14s %8d %12llu %14.2f\n", t->name, t->senders,
		       (unsigned long long)t->n, t->msgs_per_s / 1e6);
		json_kv("{\"kind\": \"throughput\", \"name\": \"%s\", \"senders\": %d, \"messages\": %llu, \"msgs_per_s\": %.0f}",
			t->name, t->senders, (unsigned long long)t->n,
			t->msgs_per_s);
	}
}

int main(int argc, char **argv)
{
	const char *json_path = NULL;
	int quick = 0, wake = 0, rtt = 0;
	struct ace_geometry g;
	struct ace_arena a;
	void *mem;
	int i, s;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			nsamples = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-m") && i + 1 < argc)
			nmsgs = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_path = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--wake"))
			wake = 1;
		else if (!strcmp(argv[i], "--rtt"))
			rtt = 1;
		else {
			fprintf(stderr, "usage: %s [-n samples] [-m msgs] [--json FILE] [--quick [--wake] | --rtt]\n",
				argv[0]);
			return 2;
		}
	}
	warm = nsamples / 10 > 10000 ? nsamples / 10 : 10000;
	wake_n = nsamples / 10 > 1000 ? nsamples / 10 : 1000;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	samples = malloc(sizeof(u64) * nsamples);
	arena_fd = memfd_create("ace-bench", 0);
	if (sh == MAP_FAILED || !samples || arena_fd < 0 ||
	    ftruncate(arena_fd, ARENA_SIZE))
		die("setup");
	mem = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   arena_fd, 0);
	if (mem == MAP_FAILED || ace_geometry_default(ARENA_SIZE, 64, &g) ||
	    ace_arena_init(&a, mem, ARENA_SIZE, &g, 1))
		die("arena init");
	ace_mproc_claim(&a, "ping", ACE_SIDE_HOST, 0, &id_a);
	ace_mproc_claim(&a, "echo", ACE_SIDE_GUEST_USER, 0, &id_b);
	fprintf(stderr, "bench_core: calibrating, then %llu samples per round trip (%llu warm-up)\n",
		(unsigned long long)nsamples, (unsigned long long)warm);
	calibrate();

	if (!quick) {
		interleaved();
		if (rtt)
			goto out;
	} else {
		pair(floor_a, floor_b);
		report("floor", samples, nsamples);
		pair(ace_a, ace_b);
		report("ace-poll", samples, nsamples);
	}
	if (!quick || wake) {
		fd_ab[0] = fd_ab[1] = eventfd(0, 0);
		fd_ba[0] = fd_ba[1] = eventfd(0, 0);
		pair(wake_a, wake_b);
		report("eventfd", samples, wake_n);
		close(fd_ab[0]);
		close(fd_ba[0]);
	}
	if (quick)
		goto out;
	if (pipe(fd_ab) || pipe(fd_ba))
		die("pipe");
	pair(wake_a, wake_b);
	report("pipe", samples, wake_n);

	for (s = 1; s <= 4; s *= 2) {
		throughput(1, s);
		throughput(0, s);
	}
out:
	if (json_path) {
		json = fopen(json_path, "w");
		if (!json)
			die(json_path);
		fprintf(json, "{\n  \"benchmark\": \"bench_core\",\n  \"message_bytes\": %d,\n  \"tsc_ghz\": %.4f,\n  \"cpus\": %ld,\n  \"results\": [",
			MSG, tsc_ghz, sysconf(_SC_NPROCESSORS_ONLN));
	}
	print_all();
	if (json) {
		fprintf(json, "\n  ]\n}\n");
		fclose(json);
		printf("\nwrote %s\n", json_path);
	}
	return 0;
}
