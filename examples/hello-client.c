// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * hello-client - a guest program for ACE, to start from.
 *
 * It opens the guest's ACE device, finds the host's "hello" service, and
 * calls it N times (ace_mp_call: a request, then the reply with the same
 * tag), printing each answer and its round-trip time.
 *
 *   hello-client [-d /dev/ace0] [-m poll|interrupt|adaptive] [-n N]
 *                [-s SERVICE] NAME
 *
 * Build (docs/usage.md, "The first hour"):
 *   full guest:   cc -O2 hello-client.c $(pkg-config --cflags --libs ace) -o hello-client
 *   initramfs:    make examples  (build/guest-bin/hello-client, static)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ace.h>

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: hello-client [-d DEVICE] [-m poll|interrupt|adaptive] [-n N]\n"
		"                    [-s SERVICE] NAME\n"
		"  -d DEVICE  the guest's ACE device (default $ACE_DEV, else /dev/ace0)\n"
		"  -m MODE    how this client waits for replies (default poll)\n"
		"  -n N       calls to make (default 3)\n"
		"  -s NAME    the service to call (default hello)\n");
	exit(status);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("ACE_DEV"), *svc = "hello", *mode_name = "poll";
	unsigned mode = ACE_MODE_POLL;
	char me[48], *end;
	long n = 3, i;
	struct ace_mp *mp;
	struct ace *ch;
	uint32_t dst;
	int c, r;

	while ((c = getopt(argc, argv, "d:m:n:s:h")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm':
			mode_name = optarg;
			if (!strcmp(optarg, "poll"))
				mode = ACE_MODE_POLL;
			else if (!strcmp(optarg, "interrupt"))
				mode = ACE_MODE_INTERRUPT;
			else if (!strcmp(optarg, "adaptive"))
				mode = ACE_MODE_ADAPTIVE;
			else
				usage(2);
			break;
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > 1000000) {
				fprintf(stderr, "hello-client: -n '%s': want 1 to 1000000\n", optarg);
				usage(2);
			}
			break;
		case 's': svc = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc - 1 || strlen(argv[optind]) > 60)
		usage(2);
	if (!dev)
		dev = "/dev/ace0";

	if (ace_open(&ch, dev, 5000)) {	/* the 5 s: on a host socket only */
		fprintf(stderr, "hello-client: %s\n", ace_error(ch));
		return 1;
	}
	snprintf(me, sizeof(me), "hello-client-%d", (int)getpid());
	if (ace_mp_create(ch, me, mode, &mp)) {
		fprintf(stderr, "hello-client: %s\n", ace_error(ch));
		return 1;
	}
	r = ace_lookup(ch, svc, 10000, &dst);	/* wait up to 10 s for it */
	if (r) {
		fprintf(stderr, "hello-client: %s\n", r == -ENOENT ?
			"no such service after 10 s: is hello-service running?" :
			ace_error(ch));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct ace_buf req, rep;
		uint64_t t0 = now_ns();

		/* a block in the arena: written in place, never copied */
		if (ace_mp_alloc(mp, 64, &req)) {
			fprintf(stderr, "hello-client: %s\n", ace_error(ch));
			return 1;
		}
		req.len = (uint32_t)snprintf(req.data, req.cap, "%s", argv[optind]) + 1;
		/* send, then wait up to 2 s for the reply with our tag */
		r = ace_mp_call(mp, dst, &req, &rep, 2000000000);
		if (r < 0) {
			fprintf(stderr, "hello-client: %s\n", ace_error(ch));
			ace_mp_free(mp, &req);	/* a failed send leaves it ours */
			return 1;
		}
		if (r == 0) {
			fprintf(stderr, "hello-client: no answer from %s within 2 s\n", svc);
			return 1;
		}
		printf("hello-client: %.*s (%s mode, %.1f us)\n", (int)rep.len,
		       (const char *)rep.data, mode_name, (double)(now_ns() - t0) / 1e3);
		ace_mp_free(mp, &rep);
	}
	printf("hello-client: %ld call(s) to %s answered\n", n, svc);
	ace_close(ch);
	return 0;
}
