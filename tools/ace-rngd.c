// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-rngd - the host service behind the guest's ace_rng.ko hw_random
 * driver: answers each request (shared/ace_rng_proto.h) in a
 * block of its own with bytes from getrandom(), or with a known stream
 * (--pattern: byte i of the stream is (i * 131 + 7) & 0xff, continuing
 * across replies), or, for the tests, with malformed replies (--hostile).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/random.h>
#include "tool_util.h"
#include "../shared/ace_rng_proto.h"

enum hostile {
	H_NONE, H_LENGTH, H_OVERFLOW, H_MORE, H_TYPE, H_SEQ, H_SHORT, H_NR,
	H_CYCLE = H_NR,
};

static const char *const hostile_names[] = {
	"none", "length", "overflow", "more", "type", "seq", "short", "cycle",
};

struct rngd {
	struct ace_mp *mp;
	int pattern;
	enum hostile hostile;
	uint64_t pos;		/* --pattern: stream offset of the next byte */
	uint64_t requests, bytes, bad_requests, gone, hostile_sent;
	uint64_t alloc_waits;	/* tries that found no free block */
	uint64_t no_block;	/* requests dropped: no block within 1 s */
};

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(int status)
{
	printf("usage: ace-rngd [options]\n"
	       "  -d, --dev PATH     the virtio-ace device socket (default $ACE_DEV)\n"
	       "  -n, --name NAME    mproc name to serve as (default " ACE_RNG_SERVICE ")\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default adaptive)\n"
	       "  -t, --time SECS    exit after SECS seconds\n"
	       "      --pattern      serve the checkable stream byte i = (i * 131 + 7) & 0xff\n"
	       "      --hostile MODE answer every request wrongly, for the tests: length\n"
	       "                     (message length != header), overflow (len > block),\n"
	       "                     more (more bytes than asked), type, seq, short\n"
	       "                     (message shorter than the header), cycle (each in turn)\n"
	       "      --wait SECS    how long to wait for the device and the guest's\n"
	       "                     arena at the start: seconds or forever (default\n"
	       "                     $ACE_WAIT, else forever)\n"
	       "  -q, --quiet        no start and end lines\n"
	       "  -h, --help\n"
	       "A guest that goes away (reboot, ace.ko reloaded) is waited for and served\n"
	       "again under the same name; QEMU exiting ends it.\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait, or\n"
	       "forever; see --wait)\n");
	exit(status);
}

static int parse_hostile(const char *s, enum hostile *h)
{
	int i;

	for (i = H_LENGTH; i <= H_CYCLE; i++) {
		if (!strcmp(s, hostile_names[i])) {
			*h = (enum hostile)i;
			return 0;
		}
	}
	return -1;
}

static void fill(struct rngd *d, uint8_t *p, uint32_t n)
{
	uint32_t i;
	ssize_t r;

	if (d->pattern) {
		for (i = 0; i < n; i++, d->pos++)
			p[i] = (uint8_t)(d->pos * 131 + 7);
		return;
	}
	for (i = 0; i < n; i += (uint32_t)r) {
		r = getrandom(p + i, n - i, 0);
		if (r < 0 && errno != EINTR) {
			perror("ace-rngd: getrandom");
			exit(1);
		}
		if (r < 0)
			r = 0;
	}
}

/* Spoil a good reply (header h, message length *len) the way asked. */
static void spoil(enum hostile how, struct ace_rng_hdr *h, uint32_t *len)
{
	switch (how) {
	case H_LENGTH: *len -= 1; break;
	case H_OVERFLOW: h->len = 0x7fffffffu; break;
	case H_MORE: h->len += 16; *len += 16; break;
	case H_TYPE: h->type = ACE_RNG_REQ; break;
	case H_SEQ: h->seq += 1000; break;
	case H_SHORT: *len = 8; break;
	default: break;
	}
}

/* Answer one checked request for `want` bytes from `src`. */
static int reply(struct rngd *d, uint32_t src, uint32_t seq, uint32_t want)
{
	struct ace *ch = ace_mp_channel(d->mp);
	enum hostile how = d->hostile;
	struct ace_rng_hdr h;
	struct ace_buf b;
	uint32_t len;
	int r;

	if (how == H_CYCLE)
		how = (enum hostile)(H_LENGTH + d->hostile_sent % (H_NR - H_LENGTH));
	/* room for 16 more bytes than asked, for --hostile more.  No block
	 * free (the guest holds them all, for now): back off and retry for
	 * up to a second, then drop this request (the driver asks again). */
	r = tool_alloc(d->mp, ACE_RNG_HDR + want + 16, &b, 1000000000ull,
		       &stop, &d->alloc_waits);
	if (r == -ENOBUFS) {
		d->no_block++;
		return 0;
	}
	if (r == -ENOTCONN || r == -EPIPE)
		return r;	/* the guest or QEMU went away */
	TOOL_CHECK("ace-rngd", ch, r);
	h.type = ACE_RNG_REPLY;
	h.seq = seq;
	h.len = want;
	h.reserved = 0;
	len = ACE_RNG_HDR + want;
	fill(d, (uint8_t *)b.data + ACE_RNG_HDR, want + (how == H_MORE ? 16 : 0));
	if (how != H_NONE) {
		spoil(how, &h, &len);
		d->hostile_sent++;
	}
	memcpy(b.data, &h, sizeof(h));
	b.len = len;
	b.type = ACE_RNG_REPLY;
	b.tag = seq;
	r = ace_mp_send(d->mp, src, &b);
	if (r == -ENOENT) {		/* the driver left meanwhile */
		d->gone++;
		return ace_mp_free(d->mp, &b);
	}
	if (r == 0) {
		d->requests++;
		d->bytes += want;
	}
	return r;
}

/* One received message: a request is read once, freed, then answered. */
static int serve(struct rngd *d, struct ace_buf *b)
{
	struct ace *ch = ace_mp_channel(d->mp);
	struct ace_rng_hdr h;
	uint32_t len = b->len, src = b->src;
	int r;

	if (len >= ACE_RNG_HDR)
		memcpy(&h, b->data, sizeof(h));
	r = ace_mp_free(d->mp, b);
	if (r == -ENOTCONN || r == -EPIPE)
		return r;	/* the guest or QEMU went away */
	TOOL_CHECK("ace-rngd", ch, r);
	if (len != ACE_RNG_HDR || h.type != ACE_RNG_REQ || !h.len ||
	    h.len > ACE_RNG_MAX) {
		d->bad_requests++;
		return 0;
	}
	return reply(d, src, h.seq, h.len);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", 1, 0, 'd' }, { "name", 1, 0, 'n' }, { "mode", 1, 0, 'm' },
		{ "time", 1, 0, 't' }, { "pattern", 0, 0, 'P' },
		{ "hostile", 1, 0, 'H' }, { "quiet", 0, 0, 'q' },
		{ "help", 0, 0, 'h' }, { "wait", 1, 0, 'W' }, { 0 },
	};
	const char *dev = tool_default_dev(), *name = ACE_RNG_SERVICE, *wait = NULL;
	unsigned mode = ACE_MODE_ADAPTIVE;
	struct rngd d = { 0 };
	uint64_t end_ns = 0;
	struct ace_buf b[32];
	int quiet = 0, c, i, got;
	struct ace *ch;

	while ((c = getopt_long(argc, argv, "d:n:m:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'n': name = optarg; break;
		case 'm':
			if (tool_mode(optarg, &mode))
				tool_usage_error("ace-rngd", "-m/--mode '%s': want poll, interrupt or adaptive",
						 optarg);
			break;
		case 't':
			end_ns = tool_now_ns() +
				 (uint64_t)(tool_secs("ace-rngd", "-t/--time", optarg, 0.001,
						      TOOL_MAX_SECS) * 1e9);
			break;
		case 'P': d.pattern = 1; break;
		case 'H': if (parse_hostile(optarg, &d.hostile)) usage(2); break;
		case 'q': quiet = 1; break;
		case 'W': wait = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind < argc)
		tool_usage_error("ace-rngd", "unexpected argument '%s'", argv[optind]);
	tool_check_env("ace-rngd");
	c = tool_service_wait_ms("ace-rngd", wait);
	ch = tool_open_service("ace-rngd", dev, c);
	/* from here on a signal ends the loop (the wait above it ends
	 * outright: it may be for ever) */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	TOOL_CHECK("ace-rngd", ch, ace_mp_create(ch, name, mode, &d.mp));
	if (!quiet)
		printf("ace-rngd: serving as %s (id 0x%x, %s, %s mode)\n", name,
		       ace_mp_id(d.mp), d.hostile ? hostile_names[d.hostile] :
		       d.pattern ? "pattern" : "getrandom", tool_mode_name(mode));
	fflush(stdout);
	while (!stop && (!end_ns || tool_now_ns() < end_ns)) {
		got = ace_mp_recv_batch(d.mp, b, 32, 200000000);	/* 200 ms */
		if (got == -ENOTCONN &&	/* the guest went away: wait for it */
		    tool_await_guest("ace-rngd", ch, &stop, end_ns) >= 0)
			continue;
		if (got == -ENOTCONN || got == -EPIPE) {	/* QEMU went away */
			fprintf(stderr, "ace-rngd: %s\n", ace_error(ch));
			break;
		}
		TOOL_CHECK("ace-rngd", ch, got);
		for (i = 0; i < got && !stop; i++) {
			c = serve(&d, &b[i]);
			if (c == -ENOTCONN)
				break;	/* the rest went with the guest */
			if (c == -EPIPE)
				stop = 1;
			else
				TOOL_CHECK("ace-rngd", ch, c);
		}
	}
	if (!quiet)
		printf("ace-rngd: %llu replies, %llu bytes, %llu bad requests, "
		       "%llu hostile, %llu to departed clients, %llu dropped "
		       "(no free block)\n",
		       (unsigned long long)d.requests,
		       (unsigned long long)d.bytes,
		       (unsigned long long)d.bad_requests,
		       (unsigned long long)d.hostile_sent,
		       (unsigned long long)d.gone,
		       (unsigned long long)d.no_block);
	ace_mp_close(d.mp);
	ace_close(ch);
	return 0;
}
