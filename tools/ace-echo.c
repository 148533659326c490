// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-echo - an ACE service that answers: every message is sent back to
 * its sender in the same block (zero copy), or dropped with --sink.  A
 * message whose sender is the echo itself (a src a guest forged) is
 * dropped: answered, it would come back for ever.  On
 * the host it outlives the guest: a reboot or ace.ko reloaded, and it
 * serves the guest's next arena under the same name (ACE_PERSIST).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include "tool_util.h"

#define P "ace-echo"

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(int status)
{
	printf("usage: ace-echo [options]\n"
	       "  -d, --dev PATH     /dev/aceN in a guest, the device socket on the host\n"
	       "                     (default $ACE_DEV or /dev/ace0)\n"
	       "  -n, --name NAME    mproc name to serve as (default echo)\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default adaptive)\n"
	       "  -c, --count N      exit after N messages\n"
	       "  -t, --time SECS    exit after SECS seconds\n"
	       "      --sink         free data messages instead of answering\n"
	       "                     (still answers ace-bench's end marker)\n"
	       "      --wait SECS    how long to wait for the device and the guest's\n"
	       "                     arena at the start: seconds or forever (default\n"
	       "                     $ACE_WAIT, else forever)\n"
	       "  -q, --quiet        no start line\n"
	       "  -h, --help\n"
	       "On the host, a guest that goes away (reboot, ace.ko reloaded) is waited\n"
	       "for, and served again under the same name; QEMU exiting ends it (1).\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait, or\n"
	       "forever; see --wait)\n"
	       "exit status: 0 done, 1 failed, 2 usage\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "name", 1, 0, 'n' }, { "mode", 1, 0, 'm' },
		{ "count", 1, 0, 'c' }, { "time", 1, 0, 't' }, { "sink", 0, 0, 'S' },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { "wait", 1, 0, 'W' },
		{ 0 },
	};
	const char *dev = tool_default_dev(), *name = "echo", *wait = NULL;
	unsigned mode = ACE_MODE_ADAPTIVE;
	uint64_t count = 0, n = 0, end_ns = 0, dropped = 0, looped = 0;
	int sink = 0, quiet = 0, c, i, got, self;
	struct ace_buf b[32];
	struct ace_mp *mp;
	struct ace *ch;

	while ((c = getopt_long(argc, argv, "d:n:m:c:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'n': name = optarg; break;
		case 'm':
			if (tool_mode(optarg, &mode))
				tool_usage_error(P, "-m/--mode '%s': want poll, interrupt or adaptive",
						 optarg);
			break;
		case 'c': count = tool_u64(P, "-c/--count", optarg, 1, UINT64_MAX); break;
		case 't':
			end_ns = tool_now_ns() +
				 (uint64_t)(tool_secs(P, "-t/--time", optarg, 0.001,
						      TOOL_MAX_SECS) * 1e9);
			break;
		case 'S': sink = 1; break;
		case 'W': wait = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc)
		tool_usage_error(P, "unexpected argument '%s'", argv[optind]);
	tool_check_env(P);
	c = tool_service_wait_ms(P, wait);
	ch = tool_open_service(P, dev, c);
	/* from here on a signal ends the loop (the wait above it ends
	 * outright: it may be for ever) */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	TOOL_CHECK("ace-echo", ch, ace_mp_create(ch, name, mode, &mp));
	if (!quiet)
		printf("ace-echo: serving as %s (id 0x%x, %s mode, %s)\n", name,
		       ace_mp_id(mp), tool_mode_name(mode),
		       ace_is_guest(ch) ? "guest" : "host");
	fflush(stdout);
	while (!stop && (!count || n < count) && (!end_ns || tool_now_ns() < end_ns)) {
		got = ace_mp_recv_batch(mp, b, 32, 200000000);	/* 200 ms */
		if (got == -ENOTCONN)	/* the guest went away: QEMU gone exits */
			got = tool_await_guest(P, ch, &stop, end_ns) < 0 ? -EPIPE : 0;
		TOOL_CHECK("ace-echo", ch, got);
		for (i = 0; i < got; i++) {
			/* "from" this echo itself: a src a peer forged (an
			 * answer would come back here, for ever) */
			self = b[i].src == ace_mp_id(mp);
			if (self || (sink && b[i].type == TOOL_DATA)) {
				c = ace_mp_free(mp, &b[i]);
				if (c == -ENOTCONN)
					break;	/* the rest went with the guest */
				TOOL_CHECK("ace-echo", ch, c);
				looped += self;
				continue;
			}
			c = ace_mp_send(mp, b[i].src, &b[i]);
			if (c == -ENOTCONN)
				break;
			if (c == -ENOENT) {
				/* the sender closed meanwhile: drop it */
				TOOL_CHECK("ace-echo", ch, ace_mp_free(mp, &b[i]));
				dropped++;
				continue;
			}
			TOOL_CHECK("ace-echo", ch, c);
		}
		n += (uint64_t)got;
	}
	if (!quiet)
		printf("ace-echo: %llu messages, %llu dropped (sender gone), %llu "
		       "from itself (a forged sender: not answered)\n",
		       (unsigned long long)n, (unsigned long long)dropped,
		       (unsigned long long)looped);
	ace_mp_close(mp);
	ace_close(ch);
	return 0;
}
