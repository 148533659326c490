// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-soak - a client that keeps a window of messages in flight to an
 * echo service and accounts for every one, through restarts of the
 * service.  Built for the guest (tests/vm/guest) and the host (make soak).
 *
 *   ace-soak -T SERVICE [-d DEV] [-m MODE] [-t SECS] [-w WINDOW] [-s SIZE]
 *            [-n NAME] [-p SECS]
 *
 * Each message carries a sequence number (tag and payload); the echo
 * returns it in the same block, in order.  When the service goes away
 * (a send fails with -ENOENT, or the name now names another mproc or
 * none), the replies it already sent are taken, and the messages still in
 * flight to it are counted as lost: the rule is that a dead service's
 * queued and held messages are reclaimed (freed), never delivered, and a
 * restarted service starts empty.  The client then looks the name up
 * again and carries on.
 *
 * At the end (-t, or SIGTERM/SIGINT) it stops sending, waits for what is
 * in flight, and prints
 *   ACE-SOAK NAME MODE to SERVICE: sent S received R lost L ...
 * Exit 0 iff S == R + L, every reply was the one expected, and the
 * arena's own counters of the mproc agree (sent S, received R).
 * -p prints a progress line every SECS seconds.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <unistd.h>
#include "../../../tools/tool_util.h"

static volatile sig_atomic_t stop;

static const char *svc = "echo", *name_opt;
static char name[48];
static unsigned mode = ACE_MODE_ADAPTIVE;
static uint64_t size = 64, window = 16;
static struct ace *ch;
static struct ace_mp *mp;
static uint32_t dst;
/* sent = received + lost + inflight, at every moment */
static uint64_t sent, received, lost, inflight, deaths, bad, gone_sends;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void fatal(const char *what)
{
	fprintf(stderr, "ace-soak %s: %s: %s\n", name, what, ace_error(ch));
	exit(1);
}

static void usage(int status)
{
	printf("usage: ace-soak -T SERVICE [-d DEV] [-m MODE] [-t SECS] [-w WINDOW] [-s SIZE]\n"
	       "                [-n NAME] [-p SECS]\n");
	exit(status);
}

/* The reply to the oldest message in flight. */
static void take_reply(struct ace_buf *b)
{
	uint64_t want = sent - inflight;

	if (b->tag != (uint32_t)want || b->len != size ||
	    ((uint64_t *)b->data)[0] != want) {
		if (bad++ < 5)
			fprintf(stderr, "ace-soak %s: reply tag %u len %u, wanted %llu\n",
				name, b->tag, b->len, (unsigned long long)want);
	}
	received++;
	inflight--;
	if (ace_mp_free(mp, b))
		fatal("free");
}

/* Take every reply already there without waiting. */
static void drain(void)
{
	struct ace_buf b;
	int r;

	while (inflight && (r = ace_mp_recv(mp, &b, ACE_NOWAIT)) == 1)
		take_reply(&b);
}

/* Is `dst` still the service?  1 yes, 0 gone (or replaced). */
static int service_alive(void)
{
	uint32_t id;

	return !ace_lookup(ch, svc, 0, &id) && id == dst;
}

/* The service went away: what it had is reclaimed.  Find its successor
 * unless we are stopping. */
static void service_died(void)
{
	drain();
	lost += inflight;
	printf("ACE-SOAK %s: %s (0x%x) went away with %llu message(s) in flight\n",
	       name, svc, dst, (unsigned long long)inflight);
	inflight = 0;
	deaths++;
	dst = 0;
	while (!stop && ace_lookup(ch, svc, 1000, &dst) == -ENOENT)
		;
	if (!dst && !stop)
		fatal("lookup");
}

static void send_one(void)
{
	struct ace_buf b;
	int r = ace_mp_alloc(mp, size, &b);

	if (r == -ENOBUFS)
		return;		/* wait for replies to free some */
	if (r)
		fatal("alloc");
	((uint64_t *)b.data)[0] = sent;
	((uint8_t *)b.data)[size - 1] = (uint8_t)sent;
	b.tag = (uint32_t)sent;
	r = ace_mp_send(mp, dst, &b);
	if (r == -ENOENT) {
		gone_sends++;
		if (ace_mp_free(mp, &b))
			fatal("free");
		service_died();
		return;
	}
	if (r)
		fatal("send");
	sent++;
	inflight++;
}

/* Wait up to ms for a reply; notice a service that died meanwhile. */
static void wait_reply(int ms)
{
	struct ace_buf b;
	int r = ace_mp_recv(mp, &b, (int64_t)ms * 1000000);

	if (r < 0)
		fatal("receive");
	if (r == 1) {
		take_reply(&b);
		drain();
	} else if (inflight && !service_alive()) {
		service_died();
	}
}

static void report(const char *what)
{
	printf("ACE-SOAK %s %s: %s to %s: sent %llu received %llu lost %llu in-flight %llu service-deaths %llu bad %llu\n",
	       name, what, tool_mode_name(mode), svc, (unsigned long long)sent,
	       (unsigned long long)received, (unsigned long long)lost,
	       (unsigned long long)inflight, (unsigned long long)deaths,
	       (unsigned long long)bad);
}

int main(int argc, char **argv)
{
	const char *dev = tool_default_dev();
	uint64_t end_ns = 0, every_ns = 0, next_ns = 0, t;
	struct ace_stats st;
	int c, ok;

	while ((c = getopt_long(argc, argv, "d:T:m:t:w:s:n:p:h", NULL, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'T': svc = optarg; break;
		case 'm': if (tool_mode(optarg, &mode)) usage(2); break;
		case 't': end_ns = tool_now_ns() + (uint64_t)(atof(optarg) * 1e9); break;
		case 'w': window = strtoull(optarg, NULL, 0); break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'n': name_opt = optarg; break;
		case 'p': every_ns = (uint64_t)(atof(optarg) * 1e9); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (size < 8 || !window)
		usage(2);
	snprintf(name, sizeof(name), "%s", name_opt ? name_opt : "soak");
	if (!name_opt)
		snprintf(name, sizeof(name), "soak-%d", (int)getpid());
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ch = tool_open("ace-soak", dev, -1);
	if (ace_mp_create(ch, name, mode, &mp))
		fatal("create");
	if (ace_lookup(ch, svc, 60000, &dst))
		fatal("lookup");
	next_ns = tool_now_ns() + every_ns;
	while (!stop && (!end_ns || tool_now_ns() < end_ns)) {
		while (!stop && dst && inflight < window) {
			uint64_t before = sent + deaths;

			send_one();
			if (sent + deaths == before)
				break;	/* no block free */
		}
		if (dst)
			wait_reply(100);
		t = tool_now_ns();
		if (every_ns && t >= next_ns) {
			report("progress");
			next_ns = t + every_ns;
		}
	}
	/* the end: answers for what is still in flight, 20 s at most (a
	 * service that dies meanwhile: they are lost, nothing replaces it) */
	stop = 1;
	for (t = tool_now_ns() + 20000000000ull; inflight && dst && tool_now_ns() < t;)
		wait_reply(100);
	if (inflight && dst && service_alive())
		fprintf(stderr, "ace-soak %s: %llu message(s) never answered by a live %s\n",
			name, (unsigned long long)inflight, svc);
	else if (inflight)
		service_died();
	if (ace_stats(ch, ace_mp_id(mp), &st))
		fatal("stats");
	report("final");
	printf("ACE-SOAK %s arena counters: sent %llu received %llu; sends refused (service gone) %llu\n",
	       name, (unsigned long long)st.sent, (unsigned long long)st.received,
	       (unsigned long long)gone_sends);
	ok = sent == received + lost && !bad && st.sent == sent &&
	     st.received == received;
	printf("ACE-SOAK %s %s: sent %llu = received %llu + lost %llu\n", name,
	       ok ? "accounted" : "NOT ACCOUNTED", (unsigned long long)sent,
	       (unsigned long long)received, (unsigned long long)lost);
	ace_mp_close(mp);
	ace_close(ch);
	return ok ? 0 : 1;
}
