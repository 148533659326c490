// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * line-ping - the guest<->host cache-line floor: a guest process and a
 * host process (tests/bench/line-pong.c) ping-pong one 64-bit word in the
 * ACE arena, both spinning.  No queue, no allocation, no validation: the
 * least a guest<->host round trip through shared memory can cost on this
 * machine and accelerator.  Timed like ace-ping (CLOCK_MONOTONIC around
 * each round trip); the cost of the two clock reads alone is measured
 * too and reported as clock_*.  Two runs: the guest's spin loop with a
 * PAUSE per iteration (as libace's polling does: ace_cpu_relax()), then
 * a plain one; under TCG a PAUSE ends the vCPU's run of translated code
 * ("let another CPU run"), which the difference between the two shows.
 *
 * The word lives in a block this program allocates and sends to the host
 * program once, so both sides know where it is; after that only the word
 * moves.  The block is deliberately used after the send (the receiver
 * cooperates): this is a floor, not an example of the API.
 *
 * Then what ringing line-pong's host peer costs the guest, by a store to
 * its doorbell page and by ACE_IOC_NOTIFY ("bell-cost"), and, with no
 * peer at all, what the guest's own ACE work costs (alloc,
 * send to itself, receive, free: one "ace-self" JSON line), and what
 * --touch costs (tool_fill() and tool_check() of tools/tool_util.h, as
 * ace-ping and xport-ping use them) at 64 B, 4 KiB, 64 KiB and 1 MiB, in
 * an arena block and in private memory, and tool_fill() alone (what a
 * throughput sender does): one "touch-cost" line per size.
 *
 * Usage: line-ping [-d /dev/ace0] [-T line-pong] [-n COUNT] [-w WARMUP]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/ace.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../../tools/tool_util.h"
#include "../../../shared/ace_core.h"

#define LINE_END	UINT64_MAX	/* odd: "stop" to the host side */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *s, uint64_t n, double q)
{
	return (double)s[(uint64_t)(q * (double)(n - 1))] / 1e3;
}

/* p50 and p99 (us) of tool_fill (+ tool_check) of len bytes at p, n times */
static void touch_cost(void *p, size_t len, uint64_t n, int check, uint64_t *s,
		       double *p50, double *p99)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		tool_fill(p, len, i);
		if (check && tool_check(p, len, i)) {
			fprintf(stderr, "line-ping: touch check failed\n");
			exit(1);
		}
		s[i] = now_ns() - t0;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	*p50 = pct(s, n, 0.5);
	*p99 = pct(s, n, 0.99);
}

/* count round trips through *w after warm ones; *seq: the last value */
static void spin_rtt(volatile uint64_t *w, uint64_t *seq, uint64_t warm,
		     uint64_t count, int pause, uint64_t *rtt)
{
	uint64_t i;

	for (i = 0; i < warm + count; i++) {
		uint64_t t0 = now_ns(), t1, v = *seq + 1;

		*w = v;
		if (pause)
			while (*w != v + 1)
				__builtin_ia32_pause();
		else
			while (*w != v + 1)
				;
		t1 = now_ns();
		*seq = v + 1;
		if (i >= warm)
			rtt[i - warm] = t1 - t0;
	}
}

/*
 * What ringing mproc dst's host peer costs the guest, n times each: a
 * store to the peer's doorbell page, and ACE_IOC_NOTIFY (the driver rings
 * it).  The peer is the one the arena's side word names.  One
 * "bell-cost" line, or none without doorbell pages.
 */
static void bell_cost(const char *dev, uint32_t dst, uint64_t n, uint64_t *s)
{
	struct ace_ioc_notify nt = { .dst = dst };
	struct ace_ioc_bells bl = { 0 };
	struct ace_ioc_info info;
	double st50, st99, io50, io99;
	volatile uint16_t *bell;
	struct ace_arena a;
	uint32_t side;
	uint64_t i;
	void *map;
	int fd = open(dev, O_RDWR);

	if (fd < 0 || ioctl(fd, ACE_IOC_INFO, &info) ||
	    ioctl(fd, ACE_IOC_BELLS, &bl)) {
		fprintf(stderr, "line-ping: no doorbell pages to time\n");
		goto out;
	}
	map = mmap(NULL, info.arena_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || ace_arena_attach(&a, map, info.arena_size) ||
	    ACE_ID_SLOT(dst) >= a.nr_mprocs)
		goto out;
	side = ace_read_once(&ace_mproc_at(&a, ACE_ID_SLOT(dst))->side);
	if (ACE_SIDE_KIND(side) != ACE_SIDE_HOST || ACE_SIDE_PEER(side) >= bl.count)
		goto out;
	bell = mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd,
		    (off_t)(bl.offset + 4096ull * ACE_SIDE_PEER(side)));
	if (bell == MAP_FAILED)
		goto out;
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		*bell = (uint16_t)(ACE_VQ_DOORBELL0 + ACE_SIDE_PEER(side));
		s[i] = now_ns() - t0;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	st50 = pct(s, n, 0.5);
	st99 = pct(s, n, 0.99);
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (ioctl(fd, ACE_IOC_NOTIFY, &nt))
			goto out;
		s[i] = now_ns() - t0;
	}
	qsort(s, n, sizeof(*s), cmp_u64);
	io50 = pct(s, n, 0.5);
	io99 = pct(s, n, 0.99);
	printf("{\"tool\": \"bell-cost\", \"samples\": %llu, \"store_p50_us\": %.3f, \"store_p99_us\": %.3f, \"ioctl_p50_us\": %.3f, \"ioctl_p99_us\": %.3f}\n",
	       (unsigned long long)n, st50, st99, io50, io99);
out:
	if (fd >= 0)
		close(fd);	/* the mappings go with the process */
}

static void fail(struct ace *ch, const char *what, int r)
{
	fprintf(stderr, "line-ping: %s: %s (%d)\n", what, ace_error(ch), r);
	exit(1);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "to", 1, 0, 'T' }, { "count", 1, 0, 'n' },
		{ "warmup", 1, 0, 'w' }, { 0 },
	};
	const char *dev = "/dev/ace0", *to = "line-pong";
	uint64_t count = 100000, warm = (uint64_t)-1, seq = 0, i, *rtt, *clk;
	volatile uint64_t *w;
	struct ace_mp *mp;
	struct ace_buf b;
	struct ace *ch;
	uint32_t dst, k;
	int c, r;

	while ((c = getopt_long(argc, argv, "d:T:n:w:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'T': to = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'w': warm = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: line-ping [-d DEV] [-T NAME] [-n COUNT] [-w WARMUP]\n");
			return 2;
		}
	}
	if (!count)
		return fprintf(stderr, "line-ping: -n must be > 0\n"), 2;
	if (warm == (uint64_t)-1)
		warm = count / 10;
	rtt = malloc(count * sizeof(*rtt));
	clk = malloc(count * sizeof(*clk));
	if (!rtt || !clk)
		return perror("line-ping: malloc"), 1;
	r = ace_open(&ch, dev, 5000);
	if (r)
		fail(ch, "open", r);
	r = ace_mp_create(ch, "line-ping", ACE_MODE_POLL, &mp);
	if (r)
		fail(ch, "mproc", r);
	r = ace_lookup(ch, to, 30000, &dst);
	if (r)
		fail(ch, to, r);
	r = ace_mp_alloc(mp, 256, &b);
	if (r)
		fail(ch, "alloc", r);
	/* the word: the first 64-byte-aligned address past the first 8
	 * bytes of the payload (the page offset is the same on both sides) */
	k = (uint32_t)((64 - (((uintptr_t)b.data + 8) & 63)) & 63) + 8;
	memcpy(b.data, &k, sizeof(k));
	w = (volatile uint64_t *)((char *)b.data + k);
	*w = 0;
	r = ace_mp_send(mp, dst, &b);
	if (r)
		fail(ch, "send", r);

	for (i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		clk[i] = now_ns() - t0;
	}
	qsort(clk, count, sizeof(*clk), cmp_u64);
	for (c = 1; c >= 0; c--) {	/* with PAUSE, then without */
		spin_rtt(w, &seq, warm, count, c, rtt);
		qsort(rtt, count, sizeof(*rtt), cmp_u64);
		printf("{\"tool\": \"line-ping\", \"to\": \"%s\", \"mode\": \"spin\", \"spin\": \"%s\", \"size\": 8, \"samples\": %llu, \"min_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f, \"clock_p50_us\": %.3f, \"clock_p99_us\": %.3f}\n",
		       to, c ? "pause" : "plain", (unsigned long long)count,
		       rtt[0] / 1e3, pct(rtt, count, 0.5), pct(rtt, count, 0.99),
		       pct(rtt, count, 0.999), rtt[count - 1] / 1e3,
		       pct(clk, count, 0.5), pct(clk, count, 0.99));
	}
	/* line-pong spins on the word meanwhile: its peer's doorbells
	 * wake nobody */
	bell_cost(dev, dst, count < 10000 ? count : 10000, rtt);
	*w = LINE_END;

	for (i = 0; i < warm + count; i++) {	/* the guest's ACE work alone */
		uint64_t t0 = now_ns();

		r = ace_mp_alloc(mp, 64, &b);
		if (!r) {
			memcpy(b.data, &i, sizeof(i));
			b.tag = (uint32_t)i;
			r = ace_mp_send(mp, ace_mp_id(mp), &b);
		}
		if (!r && ace_mp_recv(mp, &b, ACE_NOWAIT) != 1)
			r = -EIO;
		if (!r && (b.tag != (uint32_t)i || memcmp(b.data, &i, sizeof(i))))
			r = -EIO;
		if (!r)
			r = ace_mp_free(mp, &b);
		if (r)
			fail(ch, "send to self", r);
		if (i >= warm)
			rtt[i - warm] = now_ns() - t0;
	}
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
	printf("{\"tool\": \"ace-self\", \"size\": 64, \"samples\": %llu, \"min_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f}\n",
	       (unsigned long long)count, rtt[0] / 1e3, pct(rtt, count, 0.5),
	       pct(rtt, count, 0.99), pct(rtt, count, 0.999));

	for (c = 0; c < 4; c++) {
		static const size_t sizes[] = { 64, 4096, 65536, 1048576 };
		size_t len = sizes[c];
		uint64_t n = len >= 1048576 ? 100 : len >= 65536 ? 1000 : 10000;
		double a50, a99, m50, m99, f50, f99;
		void *priv = malloc(len);

		if (n > count)
			n = count;
		r = ace_mp_alloc(mp, len, &b);
		if (r)
			fail(ch, "alloc", r);
		if (!priv)
			return perror("line-ping: malloc"), 1;
		touch_cost(b.data, len, n, 1, rtt, &a50, &a99);
		touch_cost(priv, len, n, 1, rtt, &m50, &m99);
		touch_cost(b.data, len, n, 0, rtt, &f50, &f99);
		printf("{\"tool\": \"touch-cost\", \"size\": %zu, \"samples\": %llu, \"arena_p50_us\": %.3f, \"arena_p99_us\": %.3f, \"private_p50_us\": %.3f, \"private_p99_us\": %.3f, \"arena_fill_p50_us\": %.3f, \"arena_fill_p99_us\": %.3f}\n",
		       len, (unsigned long long)n, a50, a99, m50, m99, f50, f99);
		ace_mp_free(mp, &b);
		free(priv);
	}
	ace_mp_close(mp);
	ace_close(ch);
	return 0;
}
