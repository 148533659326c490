// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-stat - live per-mproc counters of an ACE arena: queue depth, blocks
 * held, messages, interrupts, wake-ups, deferrals and section overruns.
 */
#include <getopt.h>
#include <unistd.h>
#include "tool_util.h"

#define P "ace-stat"

static void usage(int status)
{
	printf("usage: ace-stat [options]\n"
	       "  -d, --dev PATH      /dev/aceN in a guest, the device socket on the host\n"
	       "  -w, --watch SECS    print again every SECS seconds (0.01 to 86400;\n"
	       "                      Ctrl-C stops), following the guest's detach and\n"
	       "                      re-attach and QEMU's exit and return\n"
	       "      --json          JSON, one object per mproc per line (names\n"
	       "                      escaped; name_hex: their bytes, if not plain ASCII)\n"
	       "  -h, --help\n"
	       "columns: depth = messages in the inbox, held = blocks the mproc holds,\n"
	       "irqs = interrupts injected for it, defer = sends deferred by an ACE\n"
	       "section, ovrun = sections that outlived the time bound\n"
	       "wakeups = deliveries that woke it (guest: by the driver; host: by libace\n"
	       "in the service's process)\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait for the\n"
	       "device and the guest's arena, default 5; or forever)\n"
	       "exit status: 0 done, 1 failed, 2 usage\n");
	exit(status);
}

static const char *flags(uint32_t n, char *buf)
{
	snprintf(buf, 24, "%s%s%s%s", n & 0x100 ? "A" : "-",
		 (n & 0xff) ? "S" : "-", n & 0x200 ? "D" : "-", n & 0x400 ? "F" : "-");
	return buf;
}

static void show(struct ace *ch, int json)
{
	uint32_t slot, id, n = 0;
	char name[48], esc[TOOL_ESC_MAX], fb[24];

	if (!json)
		printf("%-4s %-24s %5s %5s %4s %10s %10s %8s %8s %8s %6s\n", "slot",
		       "name", "flags", "depth", "held", "sent", "received",
		       "irqs", "wakeups", "defer", "ovrun");
	for (slot = 0; slot < ace_max_mprocs(ch); slot++) {
		struct ace_stats st;

		if (ace_slot_name(ch, slot, name, &id) || ace_stats(ch, id, &st))
			continue;
		n++;
		if (json) {
			/* the name is whatever the guest wrote: escaped, and
			 * its exact bytes in hex when it is not plain ASCII */
			printf("{\"slot\": %u, \"id\": %u, \"name\": ", slot, id);
			tool_json_str(stdout, name);
			if (!tool_plain(name)) {
				printf(", \"name_hex\": ");
				tool_json_hex(stdout, name);
			}
			printf(", \"notify\": %u, \"depth\": %u, \"held\": %u, \"sent\": %llu, \"received\": %llu, \"interrupts\": %llu, \"wakeups\": %llu, \"deferrals\": %llu, \"overruns\": %llu, \"waits\": %llu, \"sections\": %llu, \"spurious\": %llu}\n",
			       st.notify, st.queued, st.held,
			       (unsigned long long)st.sent, (unsigned long long)st.received,
			       (unsigned long long)st.interrupts,
			       (unsigned long long)st.wakeups,
			       (unsigned long long)st.deferrals,
			       (unsigned long long)st.overruns,
			       (unsigned long long)st.waits,
			       (unsigned long long)st.sections,
			       (unsigned long long)st.spurious);
			continue;
		}
		/* not cut to the column: two names must not look alike */
		printf("%-4u %-24s %5s %5u %4u %10llu %10llu %8llu %8llu %8llu %6llu\n",
		       slot, tool_esc(name, esc, sizeof(esc)), flags(st.notify, fb),
		       st.queued, st.held,
		       (unsigned long long)st.sent, (unsigned long long)st.received,
		       (unsigned long long)st.interrupts, (unsigned long long)st.wakeups,
		       (unsigned long long)st.deferrals, (unsigned long long)st.overruns);
	}
	if (!json) {
		struct ace_census c;

		printf("%u mproc(s); flags: A armed, S in a section, D deferred, F forced\n", n);
		if (!ace_census(ch, &c))
			printf("arena: %u blocks: %u free, %u in flight, %u held\n",
			       c.total, c.free, c.queued, c.held);
	}
	fflush(stdout);
}

/* A line about the channel itself (text: as is; JSON: an object). */
static void event(int json, const char *what, const char *why)
{
	char esc[512];

	if (json) {
		printf("{\"event\": \"%s\", \"why\": ", what);
		tool_json_str(stdout, why);
		printf("}\n");
	} else {
		printf("ace-stat: %s: %s\n", what, tool_esc(why, esc, sizeof(esc)));
	}
	fflush(stdout);
}

/*
 * -w: follow the channel as `tail -F` follows a file.  Before each print,
 * apply what the device said: a detached arena is not shown (its pages
 * are gone) until the guest attaches a new one; a device that went away
 * (QEMU exited) is reconnected to when it is back.
 */
static void watch_loop(const char *dev, struct ace *ch, double secs, int json)
{
	int shown_down = 0, detached = 0, r;

	for (;;) {
		usleep((useconds_t)(secs * 1e6));
		if (!ch) {
			/* a short wait: the device answers at once if it is up */
			if (ace_open(&ch, dev, 500)) {
				if (!shown_down)
					event(json, "waiting", ace_error(ch));
				shown_down = 1;
				ace_close(ch);
				ch = NULL;
				continue;
			}
			shown_down = detached = 0;
			event(json, "connected", dev);
		}
		r = ace_service(ch);
		if (r < 0) {
			event(json, "device gone", ace_error(ch));
			ace_close(ch);
			ch = NULL;
			shown_down = 1;
			continue;
		}
		if (r == ACE_SVC_DETACHED) {
			event(json, "detached", "the guest took its arena away");
			detached = 1;
		} else if (r == ACE_SVC_ATTACHED) {
			event(json, "attached", "the guest attached a new arena");
			detached = 0;
		}
		if (detached)
			continue;
		if (!json)
			printf("\n");
		show(ch, json);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "watch", 1, 0, 'w' }, { "json", 0, 0, 'J' },
		{ "help", 0, 0, 'h' }, { 0 },
	};
	const char *dev = tool_default_dev();
	double watch = 0;
	int json = 0, c;
	struct ace *ch;

	while ((c = getopt_long(argc, argv, "d:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'w': watch = tool_secs(P, "-w/--watch", optarg, 0.01, 86400); break;
		case 'J': json = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc)
		tool_usage_error(P, "unexpected argument '%s'", argv[optind]);
	tool_check_env(P);
	ch = tool_open("ace-stat", dev, -1);
	show(ch, json);
	if (watch > 0)
		watch_loop(dev, ch, watch, json);	/* until killed */
	ace_close(ch);
	return 0;
}
