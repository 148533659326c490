// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-echo - an ACE service that answers: every message is sent back to
 * its sender in the same block (zero copy), or dropped with --sink.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include "tool_util.h"

#define P "ace-echo"

static volatile sig_atomic_t stop;

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
	       "  -q, --quiet        no start line\n"
	       "  -h, --help\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait for the\n"
	       "device and the guest's arena, default 5)\n"
	       "exit status: 0 done, 1 failed, 2 usage\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "name", 1, 0, 'n' }, { "mode", 1, 0, 'm' },
		{ "count", 1, 0, 'c' }, { "time", 1, 0, 't' }, { "sink", 0, 0, 'S' },
		{ "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' }, { 0 },
	};
	const char *dev = tool_default_dev(), *name = "echo";
	unsigned mode = ACE_MODE_ADAPTIVE;
	uint64_t count = 0, n = 0, end_ns = 0, dropped = 0;
	int sink = 0, quiet = 0, c, i, got;
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
		case 'q': quiet = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc)
		tool_usage_error(P, "unexpected argument '%s'", argv[optind]);
	tool_check_env(P);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ch = tool_open("ace-echo", dev, -1);
	TOOL_CHECK("ace-echo", ch, ace_mp_create(ch, name, mode, &mp));
	if (!quiet)
		printf("ace-echo: serving as %s (id 0x%x, %s mode, %s)\n", name,
		       ace_mp_id(mp), tool_mode_name(mode),
		       ace_is_guest(ch) ? "guest" : "host");
	fflush(stdout);
	while (!stop && (!count || n < count) && (!end_ns || tool_now_ns() < end_ns)) {
		got = ace_mp_recv_batch(mp, b, 32, 200000000);	/* 200 ms */
		TOOL_CHECK("ace-echo", ch, got);
		for (i = 0; i < got; i++) {
			if (sink && b[i].type == TOOL_DATA) {
				TOOL_CHECK("ace-echo", ch, ace_mp_free(mp, &b[i]));
				continue;
			}
			c = ace_mp_send(mp, b[i].src, &b[i]);
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
		printf("ace-echo: %llu messages, %llu dropped (sender gone)\n",
		       (unsigned long long)n, (unsigned long long)dropped);
	ace_mp_close(mp);
	ace_close(ch);
	return 0;
}
