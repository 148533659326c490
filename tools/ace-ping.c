// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-ping - round-trip latency to an ACE echo service: p50, p99, p99.9,
 * max and a histogram, in the delivery mode asked for.
 */
#include <getopt.h>
#include <unistd.h>
#include "tool_util.h"

#define P		"ace-ping"
#define MAX_COUNT	1000000000ull	/* round trips (8 bytes of memory each) */

static void usage(int status)
{
	printf("usage: ace-ping [options]\n"
	       "  -d, --dev PATH     /dev/aceN in a guest, the device socket on the host\n"
	       "                     (default $ACE_DEV or /dev/ace0)\n"
	       "  -T, --to NAME      echo service to ping (default echo)\n"
	       "  -n, --count N      round trips measured (default 10000; 1 to 10^9)\n"
	       "  -w, --warmup N     round trips before measuring (default count/10)\n"
	       "  -s, --size BYTES   payload size (default 64; 8 to 2097120)\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default poll)\n"
	       "      --name NAME    own mproc name (default ping-<pid>)\n"
	       "      --touch        write every payload byte before sending and\n"
	       "                     check every byte of the reply (default: the\n"
	       "                     first 8 bytes only)\n"
	       "      --irq WORDS    count the interrupts of the /proc/interrupts\n"
	       "                     lines holding one of these comma-separated words\n"
	       "      --mark ID      print \"BENCH-T0 ID\" and \"BENCH-T1 ID\" around\n"
	       "                     the measured round trips (for a host monitor)\n"
	       "  -B, --block-wait MS  wait this long for a free block when the\n"
	       "                     pools are empty (default 10000; 0: fail at once\n"
	       "                     with ENOBUFS)\n"
	       "      --hist         print a histogram\n"
	       "      --json         one JSON line instead of text\n"
	       "  -h, --help\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait for the\n"
	       "device, the guest's arena and the service named by -T; default 5; or\n"
	       "forever)\n"
	       "exit status: 0 done, 1 failed (no device, no service, no reply), 2 usage\n");
	exit(status);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void histogram(const uint64_t *s, uint64_t n)
{
	uint64_t bucket[40] = { 0 }, max = 0;
	int i, top = 0;

	for (uint64_t k = 0; k < n; k++) {
		int b = 0;

		while (b < 39 && (s[k] >> (b + 1)))
			b++;
		bucket[b]++;
	}
	for (i = 0; i < 40; i++) {
		if (bucket[i] > max)
			max = bucket[i];
		if (bucket[i])
			top = i;
	}
	for (i = 0; i <= top; i++) {
		int bar = max ? (int)(bucket[i] * 50 / max) : 0;

		if (!bucket[i] && i < top && !bucket[i + 1])
			continue;
		printf("  %9.2f us .. %9.2f us %9llu |%.*s\n", (double)(1ull << i) / 1e3,
		       (double)(2ull << i) / 1e3, (unsigned long long)bucket[i], bar,
		       "##################################################");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "to", 1, 0, 'T' }, { "count", 1, 0, 'n' },
		{ "warmup", 1, 0, 'w' }, { "size", 1, 0, 's' }, { "mode", 1, 0, 'm' },
		{ "name", 1, 0, 'N' }, { "hist", 0, 0, 'H' }, { "json", 0, 0, 'J' },
		{ "touch", 0, 0, 'X' }, { "irq", 1, 0, 'I' }, { "mark", 1, 0, 'M' },
		{ "block-wait", 1, 0, 'B' }, { "help", 0, 0, 'h' }, { 0 },
	};
	const char *dev = tool_default_dev(), *to = "echo", *irq = NULL, *mark = NULL;
	char name[48];
	unsigned mode = ACE_MODE_POLL;
	uint64_t count = 10000, warm = (uint64_t)-1, size = 64, *rtt, i;
	uint64_t sum = 0, block_wait_ms = 10000;
	struct tool_meter meter;
	struct ace_stats me0, me1, peer0, peer1;
	int hist = 0, json = 0, touch = 0, c;
	struct ace_mp *mp;
	struct ace *ch;
	uint32_t dst;

	snprintf(name, sizeof(name), "ping-%d", (int)getpid());
	while ((c = getopt_long(argc, argv, "d:T:n:w:s:m:B:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'T': to = optarg; break;
		case 'n': count = tool_u64(P, "-n/--count", optarg, 1, MAX_COUNT); break;
		case 'w': warm = tool_u64(P, "-w/--warmup", optarg, 0, MAX_COUNT); break;
		case 'B':
			block_wait_ms = tool_u64(P, "-B/--block-wait", optarg, 0,
						 (uint64_t)TOOL_MAX_SECS * 1000);
			break;
		case 's': size = tool_u64(P, "-s/--size", optarg, 8, TOOL_MAX_PAYLOAD); break;
		case 'm':
			if (tool_mode(optarg, &mode))
				tool_usage_error(P, "-m/--mode '%s': want poll, interrupt or adaptive",
						 optarg);
			break;
		case 'N': snprintf(name, sizeof(name), "%s", optarg); break;
		case 'H': hist = 1; break;
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
	if (warm == (uint64_t)-1)
		warm = count / 10;
	meter = (struct tool_meter){ .mark = mark, .irq = irq };
	rtt = malloc(count * sizeof(*rtt));
	if (!rtt) {
		fprintf(stderr, "ace-ping: out of memory for %llu samples\n",
			(unsigned long long)count);
		return 1;
	}
	ch = tool_open("ace-ping", dev, -1);
	TOOL_CHECK("ace-ping", ch, ace_mp_create(ch, name, mode, &mp));
	dst = tool_lookup(P, ch, to);
	for (i = 0; i < warm + count; i++) {
		struct ace_buf b;
		uint64_t t0;
		int r;

		if (i == warm) {	/* the measured part starts */
			TOOL_CHECK("ace-ping", ch, ace_stats(ch, ace_mp_id(mp), &me0));
			TOOL_CHECK("ace-ping", ch, ace_stats(ch, dst, &peer0));
			tool_meter_begin(&meter);
		}
		t0 = tool_now_ns();
		/* no free block for now: back off, give up after -B ms (0:
		 * at once; tool_alloc takes 0 as "for ever", 1 ns is "no") */
		TOOL_CHECK("ace-ping", ch, tool_alloc(mp, size, &b,
						      block_wait_ms ? block_wait_ms * 1000000 : 1,
						      NULL, NULL));
		if (touch)
			tool_fill(b.data, size, i);
		else
			((uint64_t *)b.data)[0] = i;
		b.tag = (uint32_t)i;
		TOOL_CHECK("ace-ping", ch, ace_mp_send(mp, dst, &b));
		r = ace_mp_recv(mp, &b, 10000000000ll);	/* 10 s */
		TOOL_CHECK("ace-ping", ch, r);
		if (r == 0) {
			fprintf(stderr, "ace-ping: no reply from %s within 10 s\n", to);
			return 1;
		}
		if (b.tag != (uint32_t)i || b.len != size ||
		    (touch ? tool_check(b.data, size, i) :
			     ((uint64_t *)b.data)[0] != i)) {
			fprintf(stderr, "ace-ping: wrong reply (tag %u, len %u)\n",
				b.tag, b.len);
			return 1;
		}
		TOOL_CHECK("ace-ping", ch, ace_mp_free(mp, &b));
		if (i >= warm)
			rtt[i - warm] = tool_now_ns() - t0;
	}
	tool_meter_end(&meter);
	TOOL_CHECK("ace-ping", ch, ace_stats(ch, ace_mp_id(mp), &me1));
	if (ace_stats(ch, dst, &peer1))
		peer1 = peer0;	/* the echo left after its last reply */
	for (i = 0; i < count; i++)
		sum += rtt[i];
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
#define PCT(q) ((double)rtt[(uint64_t)((q) * (double)(count - 1))] / 1e3)
#define PER(x) ((double)(x) / (double)count)
	if (json) {
		printf("{\"tool\": \"ace-ping\", \"to\": ");
		tool_json_str(stdout, to);
		printf(", \"mode\": \"%s\", \"size\": %llu, \"touch\": %d, \"samples\": %llu, \"mean_us\": %.3f, \"min_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f, \"cpu_us_per_msg\": %.3f, \"irqs_per_msg\": %.4f, \"irqs_all_per_msg\": %.4f, \"ace_interrupts_per_msg\": %.4f, \"ace_wakeups_per_msg\": %.4f, \"ace_notifies_out_per_msg\": %.4f, \"mark\": ",
		       tool_mode_name(mode), (unsigned long long)size, touch,
		       (unsigned long long)count, PER(sum) / 1e3, rtt[0] / 1e3,
		       PCT(0.5), PCT(0.99), PCT(0.999), rtt[count - 1] / 1e3, PER(meter.cpu_ns) / 1e3,
		       PER(meter.irqs), PER(meter.irqs_all), PER(me1.interrupts - me0.interrupts),
		       PER(me1.wakeups - me0.wakeups),
		       PER(peer1.notifies - peer0.notifies));
		tool_json_str(stdout, mark ? mark : "");
		printf("}\n");
	} else {
		printf("ace-ping: %s mode, %llu B, %llu round trips to %s: min %.2f us, p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n",
		       tool_mode_name(mode), (unsigned long long)size,
		       (unsigned long long)count, to, rtt[0] / 1e3, PCT(0.5), PCT(0.99),
		       PCT(0.999), rtt[count - 1] / 1e3);
	}
	if (hist)
		histogram(rtt, count);
	ace_mp_close(mp);
	ace_close(ch);
	free(rtt);
	return 0;
}
