// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * hello-service - a host service for ACE, to start from.
 *
 * It connects to a VM's virtio-ace device (the socket given to QEMU with
 * -device virtio-ace-pci,socket=PATH), serves as the mproc "hello", and
 * answers every request in the same block: "hello, NAME" for a request
 * holding NAME.  The reply keeps the request's tag, so a client's
 * ace_mp_call() finds it.  It ends when the VM goes away, after -t SECS,
 * or on Ctrl-C.
 *
 *   hello-service -d /tmp/vm1.sock [-m poll|interrupt|adaptive] [-n NAME]
 *                 [-w WAIT_SECS] [-t SECS]
 *
 * Build (docs/usage.md, "The first hour"):
 *   cc -O2 hello-service.c $(pkg-config --cflags --libs ace) -o hello-service
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ace.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: hello-service -d SOCKET [-m poll|interrupt|adaptive] [-n NAME]\n"
		"                     [-w WAIT_SECS] [-t SECS]\n"
		"  -d SOCKET  the VM's device socket (default $ACE_DEV)\n"
		"  -m MODE    how the service waits for requests (default interrupt)\n"
		"  -n NAME    the name clients look up (default hello)\n"
		"  -w SECS    how long to wait for the VM to start (default 60)\n"
		"  -t SECS    stop after SECS seconds (default: when the VM goes away)\n");
	exit(status);
}

/* A whole number from 0 to max, or a usage error. */
static long number(const char *opt, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max) {
		fprintf(stderr, "hello-service: %s '%s': want a whole number from 0 to %ld\n",
			opt, s, max);
		usage(2);
	}
	return v;
}

static int mode_of(const char *s, unsigned *mode)
{
	if (!strcmp(s, "poll"))
		*mode = ACE_MODE_POLL;
	else if (!strcmp(s, "interrupt"))
		*mode = ACE_MODE_INTERRUPT;
	else if (!strcmp(s, "adaptive"))
		*mode = ACE_MODE_ADAPTIVE;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	const char *dev = getenv("ACE_DEV"), *name = "hello", *mode_name = "interrupt";
	unsigned mode = ACE_MODE_INTERRUPT;
	long wait_s = 60, run_s = 0, served = 0;
	time_t end = 0;
	struct ace_mp *mp;
	struct ace *ch;
	int c, r;

	while ((c = getopt(argc, argv, "d:m:n:w:t:h")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'm':
			if (mode_of(optarg, &mode)) {
				fprintf(stderr, "hello-service: -m '%s': want poll, interrupt or adaptive\n",
					optarg);
				usage(2);
			}
			mode_name = optarg;
			break;
		case 'n': name = optarg; break;
		case 'w': wait_s = number("-w", optarg, 86400); break;
		case 't': run_s = number("-t", optarg, 86400); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!dev || optind < argc)
		usage(2);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (run_s)
		end = time(NULL) + run_s;

	/* Connect: waits for QEMU's socket and for the guest to attach its
	 * arena (the driver loaded in the guest). */
	if (ace_open(&ch, dev, (int)wait_s * 1000)) {
		fprintf(stderr, "hello-service: %s\n", ace_error(ch));
		ace_close(ch);
		return 1;
	}
	if (ace_mp_create(ch, name, mode, &mp)) {
		fprintf(stderr, "hello-service: %s\n", ace_error(ch));
		return 1;
	}
	printf("hello-service: serving as %s (%s mode)\n", name, mode_name);
	fflush(stdout);

	while (!stop && (!end || time(NULL) < end)) {
		struct ace_buf b;
		char who[64];
		int n;

		/* wait up to 200 ms, in the mproc's mode, then look at the clock */
		r = ace_mp_recv(mp, &b, 200000000);
		if (r == 0)
			continue;
		if (r < 0) {	/* -EPIPE: QEMU exited or the guest detached */
			printf("hello-service: the VM went away (%s)\n", ace_error(ch));
			break;
		}
		/* the request holds a name; the answer goes in the same block */
		snprintf(who, sizeof(who), "%.*s", (int)(b.len < 63 ? b.len : 63),
			 (const char *)b.data);
		n = snprintf(b.data, b.cap, "hello, %s", who);
		/* a long name is cut to the block: the guest chose its size */
		b.len = n < 0 ? 0 : (uint32_t)n + 1 > b.cap ? b.cap : (uint32_t)n + 1;
		/* b.tag is the request's: the caller's ace_mp_call waits for it */
		r = ace_mp_send(mp, b.src, &b);
		if (r == -ENOENT) {	/* the client exited meanwhile */
			ace_mp_free(mp, &b);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "hello-service: %s\n", ace_error(ch));
			break;
		}
		served++;
	}
	printf("hello-service: answered %ld request(s)\n", served);
	ace_close(ch);		/* closes the mproc too */
	return 0;
}
