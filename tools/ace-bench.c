// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-bench - throughput into one ACE service: N sender threads, each its
 * own mproc, stream messages to a sink (ace-echo --sink), then an end
 * marker the sink answers; the clock stops when every marker is back.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <unistd.h>
#include "tool_util.h"

#define P		"ace-bench"

static const char *dev, *to = "sink";
static unsigned mode = ACE_MODE_POLL;
static uint64_t count = 100000, size = 64;
static int touch;
static struct ace *ch;
static uint64_t alloc_waits;	/* allocations that found no free block */

static void usage(int status)
{
	printf("usage: ace-bench [options]\n"
	       "  -d, --dev PATH      /dev/aceN in a guest, the device socket on the host\n"
	       "  -T, --to NAME       sink to stream to (default sink: ace-echo --sink)\n"
	       "  -p, --senders N     sender threads, each its own mproc (default 1; 1 to 64)\n"
	       "  -n, --count N       messages per sender (default 100000)\n"
	       "  -s, --size BYTES    payload size (default 64; 8 to 2097120)\n"
	       "  -m, --mode MODE     poll, interrupt or adaptive (default poll)\n"
	       "      --touch         write every payload byte of every message\n"
	       "                      (default: the first 8 bytes)\n"
	       "      --irq WORDS     count the interrupts of the /proc/interrupts\n"
	       "                      lines holding one of these comma-separated words\n"
	       "      --mark ID       print \"BENCH-T0 ID\" and \"BENCH-T1 ID\" around\n"
	       "                      the measured run (for a host monitor)\n"
	       "      --json          one JSON line instead of text\n"
	       "  -h, --help\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait for the\n"
	       "device, the guest's arena and the sink named by -T; default 5; or\n"
	       "forever)\n"
	       "exit status: 0 done, 1 failed, 2 usage\n");
	exit(status);
}

static void *sender(void *arg)
{
	struct ace_mp *mp;
	struct ace_buf b;
	uint32_t dst;
	char name[48];
	uint64_t i, waits = 0;
	int r;

	snprintf(name, sizeof(name), "bench-%d-%ld", (int)getpid(), (long)arg);
	TOOL_CHECK("ace-bench", ch, ace_mp_create(ch, name, mode, &mp));
	dst = tool_lookup(P, ch, to);
	for (i = 0; i <= count; i++) {
		/* -ENOBUFS: the sink has not freed enough yet; back off
		 * (yield, then sleep) and retry for as long as it takes */
		r = tool_alloc(mp, size, &b, 0, NULL, &waits);
		TOOL_CHECK("ace-bench", ch, r);
		if (touch)
			tool_fill(b.data, size, i);
		else
			((uint64_t *)b.data)[0] = i;
		b.type = i == count ? TOOL_END : TOOL_DATA;
		TOOL_CHECK("ace-bench", ch, ace_mp_send(mp, dst, &b));
	}
	r = ace_mp_recv(mp, &b, 60000000000ll);
	TOOL_CHECK("ace-bench", ch, r);
	if (r == 0 || b.type != TOOL_END) {
		fprintf(stderr, "ace-bench: the sink did not answer the end marker\n");
		exit(1);
	}
	ace_mp_free(mp, &b);
	ace_mp_close(mp);
	__atomic_add_fetch(&alloc_waits, waits, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "to", 1, 0, 'T' }, { "senders", 1, 0, 'p' },
		{ "count", 1, 0, 'n' }, { "size", 1, 0, 's' }, { "mode", 1, 0, 'm' },
		{ "json", 0, 0, 'J' }, { "touch", 0, 0, 'X' }, { "irq", 1, 0, 'I' },
		{ "mark", 1, 0, 'M' }, { "help", 0, 0, 'h' }, { 0 },
	};
	pthread_t th[64];
	long senders = 1, i;
	const char *irq = NULL, *mark = NULL;
	uint64_t t0, t1;
	struct tool_meter meter;
	double secs, msgs;
	int json = 0, c;

	dev = tool_default_dev();
	while ((c = getopt_long(argc, argv, "d:T:p:n:s:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'T': to = optarg; break;
		case 'p': senders = (long)tool_u64(P, "-p/--senders", optarg, 1, 64); break;
		case 'n':
			count = tool_u64(P, "-n/--count", optarg, 1, 1000000000000ull);
			break;
		case 's': size = tool_u64(P, "-s/--size", optarg, 8, TOOL_MAX_PAYLOAD); break;
		case 'm':
			if (tool_mode(optarg, &mode))
				tool_usage_error(P, "-m/--mode '%s': want poll, interrupt or adaptive",
						 optarg);
			break;
		case 'J': json = 1; break;
		case 'X': touch = 1; break;
		case 'I': irq = optarg; break;
		case 'M': mark = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc)
		tool_usage_error(P, "unexpected argument '%s'", argv[optind]);
	tool_check_env(P);
	ch = tool_open("ace-bench", dev, -1);
	meter = (struct tool_meter){ .mark = mark, .irq = irq };
	tool_meter_begin(&meter);
	t0 = tool_now_ns();
	for (i = 0; i < senders; i++)
		pthread_create(&th[i], NULL, sender, (void *)i);
	for (i = 0; i < senders; i++)
		pthread_join(th[i], NULL);
	t1 = tool_now_ns();
	tool_meter_end(&meter);
	secs = (double)(t1 - t0) / 1e9;
	msgs = (double)count * (double)senders;
	if (json) {
		printf("{\"tool\": \"ace-bench\", \"to\": ");
		tool_json_str(stdout, to);
		printf(", \"mode\": \"%s\", \"senders\": %ld, \"size\": %llu, \"touch\": %d, \"messages\": %.0f, \"seconds\": %.6f, \"msgs_per_s\": %.0f, \"gbytes_per_s\": %.4f, \"cpu_us_per_msg\": %.3f, \"irqs_per_msg\": %.4f, \"irqs_all_per_msg\": %.4f, \"alloc_waits_per_msg\": %.4f, \"mark\": ",
		       tool_mode_name(mode), senders, (unsigned long long)size,
		       touch, msgs, secs, msgs / secs, msgs * (double)size / secs / 1e9,
		       (double)meter.cpu_ns / msgs / 1e3, (double)meter.irqs / msgs,
		       (double)meter.irqs_all / msgs, (double)alloc_waits / msgs);
		tool_json_str(stdout, mark ? mark : "");
		printf("}\n");
	} else {
		printf("ace-bench: %ld sender(s), %llu B, %.0f messages in %.3f s: %.0f msgs/s, %.3f GB/s\n",
		       senders, (unsigned long long)size, msgs, secs, msgs / secs,
		       msgs * (double)size / secs / 1e9);
	}
	ace_close(ch);
	return 0;
}
