// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_hostpeer - a small host peer for the VM tests: connects to a
 * virtio-ace device's socket, maps the guest's arena, and reports what it
 * sees or plays a simple part.
 *
 *   ace_hostpeer SOCKET probe            print the peer index, the arena
 *                                        and the mprocs in it
 *   ace_hostpeer SOCKET echo NAME SECS   serve as mproc NAME: send every
 *                                        message back to its sender
 *   ace_hostpeer SOCKET ping NAME DST N  send N messages to DST, check
 *                                        the replies, print round trips
 *   ace_hostpeer SOCKET burst DST N      send N messages (tags 0..N-1) to
 *                                        DST as fast as possible
 *   ace_hostpeer SOCKET hold SECS        stay connected (to be killed)
 *
 * Options before SOCKET: -t MS (wait this long for the device and the
 * arena, default 60000).  Exit 0 on success; every failure says why.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "../../lib/ace_host.h"

static struct ace_host H;
static int timeout_ms = 60000;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "ace_hostpeer: %s: %s\n", what, H.err[0] ? H.err : "failed");
	exit(1);
}

static void list_mprocs(void)
{
	char name[ACE_NAME_MAX];
	u32 s, id, n = 0;

	for (s = 0; s < H.arena.nr_mprocs; s++) {
		if (ace_mproc_name(&H.arena, s, name, &id))
			continue;
		printf("mproc slot %u id 0x%x name %s side 0x%x\n", s, id, name,
		       ace_read_once(&ace_mproc_at(&H.arena, s)->side));
		n++;
	}
	printf("mprocs active: %u\n", n);
}

static int cmd_probe(void)
{
	u32 c;

	printf("peer %u of %u, section bound %u ns\n", H.peer, H.max_peers,
	       H.section_ns);
	printf("arena %u bytes, generation %llu, %u mproc slots, %u blocks\n",
	       H.size, (unsigned long long)H.generation, H.arena.nr_mprocs,
	       H.arena.total_blocks);
	for (c = 0; c < H.arena.nr_classes; c++)
		printf("class %u: %u blocks of %u bytes, %lld free\n", c,
		       H.arena.cls[c].nr, 1u << H.arena.cls[c].shift,
		       (long long)ace_free_count(&H.arena, c));
	list_mprocs();
	return ace_arena_broken(&H.arena) ? 1 : 0;
}

/* Wait for mail: poll the inbox for a while, then sleep on the doorbell. */
static int wait_mail(struct ace_rx *rx, double until)
{
	struct pollfd p[2] = {
		{ .fd = H.kick_fd, .events = POLLIN },
		{ .fd = H.sock, .events = POLLIN },
	};
	int spins;

	for (spins = 0; spins < 20000; spins++)
		if (ace_pending_mail(&H.arena, rx))
			return 1;
	while (now() < until) {
		if (ace_arm(&H.arena, rx)) {
			ace_disarm(&H.arena, rx);
			return 1;
		}
		poll(p, 2, 100);
		ace_disarm(&H.arena, rx);
		if (p[0].revents & POLLIN)
			ace_host_take_kicks(&H);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if (ace_host_process(&H, 0) < 0)
				die("device");
			if (!H.attached) {
				fprintf(stderr, "ace_hostpeer: the guest detached the arena\n");
				exit(1);
			}
		}
		if (ace_pending_mail(&H.arena, rx))
			return 1;
	}
	return 0;
}

static u32 claim(const char *name)
{
	u32 id;
	int r = ace_mproc_claim(&H.arena, name, ACE_SIDE(ACE_SIDE_HOST, H.peer),
				ACE_MODE_ADAPTIVE, &id);

	if (r) {
		fprintf(stderr, "ace_hostpeer: claim %s: %s\n", name, strerror(-r));
		exit(1);
	}
	ace_mproc_at(&H.arena, ACE_ID_SLOT(id))->pid = (u32)getpid();
	return id;
}

static void send_or_die(u32 src, u32 dst, u32 off, u32 len)
{
	int r = ace_send(&H.arena, src, dst, off, len);

	if (r < 0) {
		fprintf(stderr, "ace_hostpeer: send: %s (%s)\n", strerror(-r),
			ace_arena_why(&H.arena));
		exit(1);
	}
	if (r == 1 && ace_host_raise(&H))
		die("raise");
}

static int cmd_echo(const char *name, double secs)
{
	struct ace_rx rx;
	struct ace_msg_desc d;
	double until = now() + secs;
	u64 n = 0;
	u32 me = claim(name);

	ace_rx_init(&rx, me);
	printf("echo: serving as %s (id 0x%x)\n", name, me);
	fflush(stdout);
	while (wait_mail(&rx, until)) {
		while (ace_recv(&H.arena, &rx, &d) == 1) {
			send_or_die(me, d.src, d.off, d.len);
			n++;
		}
		if (ace_arena_broken(&H.arena))
			break;
	}
	printf("echo: answered %llu messages\n", (unsigned long long)n);
	if (ace_arena_broken(&H.arena)) {
		printf("echo: arena broken: %s\n", ace_arena_why(&H.arena));
		return 1;
	}
	ace_mproc_release(&H.arena, me);
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_ping(const char *name, const char *dst_name, u32 count)
{
	struct ace_rx rx;
	struct ace_msg_desc d;
	double *rtt = calloc(count, sizeof(double)), until = now() + timeout_ms / 1e3;
	u32 me = claim(name), dst, i;

	while (ace_mproc_lookup(&H.arena, dst_name, &dst)) {
		if (now() > until) {
			fprintf(stderr, "ace_hostpeer: %s never appeared\n", dst_name);
			return 1;
		}
		usleep(10000);
	}
	ace_rx_init(&rx, me);
	for (i = 0; i < count; i++) {
		s64 off = ace_alloc(&H.arena, 64, me);
		double t0 = now();

		if (off <= 0) {
			fprintf(stderr, "ace_hostpeer: alloc: %lld\n", (long long)off);
			return 1;
		}
		memset(ace_payload(&H.arena, (u32)off), (int)(i & 0xff), 64);
		ace_msg(&H.arena, (u32)off)->tag = i;
		send_or_die(me, dst, (u32)off, 64);
		if (!wait_mail(&rx, t0 + 10) || ace_recv(&H.arena, &rx, &d) != 1) {
			fprintf(stderr, "ace_hostpeer: no reply to message %u\n", i);
			return 1;
		}
		rtt[i] = now() - t0;
		if (d.tag != i || d.len != 64 ||
		    ((u8 *)ace_payload(&H.arena, d.off))[63] != (u8)i) {
			fprintf(stderr, "ace_hostpeer: reply %u is wrong (tag %u len %u)\n",
				i, d.tag, d.len);
			return 1;
		}
		ace_free(&H.arena, d.off);
	}
	qsort(rtt, count, sizeof(double), cmp_d);
	printf("ping: %u round trips to %s, p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       count, dst_name, rtt[count / 2] * 1e6, rtt[count * 99 / 100] * 1e6,
	       rtt[count - 1] * 1e6);
	ace_mproc_release(&H.arena, me);
	return 0;
}

static int cmd_burst(const char *dst_name, u32 count)
{
	double until = now() + timeout_ms / 1e3;
	char name[32];
	u32 me, dst, i, kicks = 0;

	snprintf(name, sizeof(name), "burst-%d", (int)getpid());
	me = claim(name);
	while (ace_mproc_lookup(&H.arena, dst_name, &dst)) {
		if (now() > until) {
			fprintf(stderr, "ace_hostpeer: %s never appeared\n", dst_name);
			return 1;
		}
		usleep(10000);
	}
	for (i = 0; i < count; i++) {
		s64 off = ace_alloc(&H.arena, 64, me);
		int r;

		if (off <= 0) {
			fprintf(stderr, "ace_hostpeer: alloc: %lld\n", (long long)off);
			return 1;
		}
		ace_msg(&H.arena, (u32)off)->tag = i;
		r = ace_send(&H.arena, me, dst, (u32)off, 64);
		if (r < 0) {
			fprintf(stderr, "ace_hostpeer: send: %s\n", strerror(-r));
			return 1;
		}
		if (r == 1) {
			kicks++;
			if (ace_host_raise(&H))
				die("raise");
		}
	}
	printf("burst: %u messages to %s, %u kick(s)\n", count, dst_name, kicks);
	/* our mproc stays open until we exit: the device closes it then */
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-t")) {
		timeout_ms = atoi(argv[2]);
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: ace_hostpeer [-t MS] SOCKET probe|echo NAME SECS|"
			"ping NAME DST N|burst DST N|hold SECS\n");
		return 2;
	}
	if (ace_host_connect(&H, argv[i], timeout_ms))
		die("connect");
	printf("connected: peer %u\n", H.peer);
	if (!strcmp(argv[i + 1], "hold")) {
		sleep(argc > i + 2 ? atoi(argv[i + 2]) : 60);
		return 0;
	}
	if (ace_host_wait_arena(&H, timeout_ms))
		die("arena");
	if (!strcmp(argv[i + 1], "probe"))
		return cmd_probe();
	if (!strcmp(argv[i + 1], "echo") && argc - i == 4)
		return cmd_echo(argv[i + 2], atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "burst") && argc - i == 4)
		return cmd_burst(argv[i + 2], (u32)atoi(argv[i + 3]));
	if (!strcmp(argv[i + 1], "ping") && argc - i == 5)
		return cmd_ping(argv[i + 2], argv[i + 3], (u32)atoi(argv[i + 4]));
	fprintf(stderr, "ace_hostpeer: unknown command %s\n", argv[i + 1]);
	return 2;
}
