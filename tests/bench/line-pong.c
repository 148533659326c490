// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * line-pong - host side of tests/vm/guest/line-ping.c: the guest<->host
 * cache-line floor.  Serves as an ACE mproc (default name line-pong),
 * receives one block from the guest, then spins on the 64-bit word whose
 * offset the block's first 4 bytes give: an odd value v is answered with
 * v + 1, UINT64_MAX ends the run.  Gives up after --idle seconds without
 * a change (default 60), so a guest that died does not leave it spinning.
 *
 * --self N instead: N times alloc, send to itself, receive, free (the
 * guest's share of an ACE round trip, line-ping's "ace-self", run
 * natively on the host: run it under valgrind --tool=callgrind to count
 * the instructions one costs), print the mean, and exit.
 *
 * Usage: line-pong -d SOCKET [-n NAME] [--idle SECS] [--self N]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ace.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --self: the guest's ACE work of one round trip, n times */
static int self_loop(struct ace *ch, struct ace_mp *mp, uint64_t n)
{
	uint64_t i, t0 = now_ns();
	struct ace_buf b;
	int r = 0;

	for (i = 0; i < n && !r; i++) {
		r = ace_mp_alloc(mp, 64, &b);
		if (r)
			break;
		memcpy(b.data, &i, sizeof(i));
		r = ace_mp_send(mp, ace_mp_id(mp), &b);
		if (!r && ace_mp_recv(mp, &b, ACE_NOWAIT) != 1)
			r = -1;
		if (!r)
			r = ace_mp_free(mp, &b);
	}
	if (r) {
		fprintf(stderr, "line-pong: send to self: %s\n", ace_error(ch));
		return 1;
	}
	printf("line-pong: %llu sends to self, %.3f us each\n",
	       (unsigned long long)n, (double)(now_ns() - t0) / (double)n / 1e3);
	ace_mp_close(mp);
	ace_close(ch);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = NULL, *name = "line-pong";
	double idle = 60;
	uint64_t self = 0;
	uint64_t v, t, rounds = 0, spins = 0, since;
	volatile uint64_t *w;
	struct ace_mp *mp;
	struct ace_buf b;
	struct ace *ch;
	uint32_t k;
	int i, r, moved = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dev = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--idle") && i + 1 < argc)
			idle = atof(argv[++i]);
		else if (!strcmp(argv[i], "--self") && i + 1 < argc)
			self = strtoull(argv[++i], NULL, 0);
		else
			return fprintf(stderr, "usage: line-pong -d SOCKET [-n NAME] [--idle SECS] [--self N]\n"), 2;
	}
	if (!dev)
		return fprintf(stderr, "line-pong: -d SOCKET is needed\n"), 2;
	r = ace_open(&ch, dev, 120000);
	if (!r)
		r = ace_mp_create(ch, name, ACE_MODE_INTERRUPT, &mp);
	if (r) {
		fprintf(stderr, "line-pong: %s\n", ace_error(ch));
		return 1;
	}
	if (self)
		return self_loop(ch, mp, self);
	printf("line-pong: serving as %s\n", name);
	fflush(stdout);
	r = ace_mp_recv(mp, &b, ACE_FOREVER);
	if (r != 1) {
		fprintf(stderr, "line-pong: receive: %s\n", ace_error(ch));
		return 1;
	}
	memcpy(&k, b.data, sizeof(k));
	if (b.len < 16 || k < 8 || k > b.len - 8 || ((uintptr_t)b.data + k) % 8) {
		fprintf(stderr, "line-pong: bad word offset %u in a %u-byte block\n",
			k, b.len);
		return 1;
	}
	w = (volatile uint64_t *)((char *)b.data + k);
	since = now_ns();
	for (;;) {
		v = *w;
		if (v == UINT64_MAX)
			break;
		if (v & 1) {
			*w = v + 1;
			rounds++;
			moved = 1;
			continue;
		}
		__builtin_ia32_pause();
		if (++spins & 0xfff)
			continue;
		t = now_ns();
		if (moved) {
			moved = 0;
			since = t;
		} else if (t - since > idle * 1e9) {
			fprintf(stderr, "line-pong: no change for %.0f s, giving up\n", idle);
			return 1;
		}
	}
	printf("line-pong: %llu round trips\n", (unsigned long long)rounds);
	ace_mp_free(mp, &b);
	ace_mp_close(mp);
	ace_close(ch);
	return 0;
}
