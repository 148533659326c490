/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Small helpers shared by the ACE tools: time, modes, errors. */
#ifndef ACE_TOOL_UTIL_H
#define ACE_TOOL_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include "../lib/ace.h"

/* Message types the tools use between themselves. */
#define TOOL_DATA	0	/* payload; echoed or dropped */
#define TOOL_END	1	/* ace-bench: "my stream is over", echoed */

/*
 * A usage error: what is wrong, where to read more, exit status 2.  Every
 * number and environment value a tool takes goes through the parsers
 * below, so nonsense (-5, abc, 1e999, 12x) is refused, never half-read.
 */
static inline void __attribute__((noreturn, format(printf, 2, 3)))
tool_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s: see '%s --help'\n", prog, prog);
	exit(2);
}

/* Parse a whole number from min to max: decimal digits only (no sign, no
 * spaces, nothing after, no overflow).  0, or -1 if s is not one. */
static inline int tool_parse_u64(const char *s, uint64_t min, uint64_t max,
				 uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse a number of seconds from min to max: decimal digits with at most
 * one point (0.5, 2, .25; no sign, no spaces, no exponent, no hex, nothing
 * after).  0, or -1. */
static inline int tool_parse_secs(const char *s, double min, double max,
				  double *out)
{
	size_t digits = strspn(s, "0123456789"), frac = 0;
	char *end;
	double v;

	if (s[digits] == '.')
		frac = strspn(s + digits + 1, "0123456789");
	if (!digits && !frac)
		return -1;
	if (s[digits] && (s[digits] != '.' || s[digits + 1 + frac]))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The same, or a usage error naming `what` (an option or a variable). */
static inline uint64_t tool_u64(const char *prog, const char *what,
				const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (tool_parse_u64(s, min, max, &v))
		tool_usage_error(prog, "%s '%s': want a whole number from %llu to %llu",
				 what, s, (unsigned long long)min,
				 (unsigned long long)max);
	return v;
}

static inline double tool_secs(const char *prog, const char *what,
			       const char *s, double min, double max)
{
	double v;

	if (tool_parse_secs(s, min, max, &v))
		tool_usage_error(prog, "%s '%s': want seconds from %.10g to %.10g", what,
				 s, min, max);
	return v;
}

/* The largest payload a block holds (the default geometry's largest
 * class, 1 MiB: shared/ace_arena.c), for -s options. */
#define TOOL_MAX_PAYLOAD	(1u << 20)
/* The longest -t/--time and the like, in seconds: a year. */
#define TOOL_MAX_SECS		(365.0 * 86400)

/* Where to connect by default: $ACE_DEV, else the guest device. */
static inline const char *tool_default_dev(void)
{
	const char *e = getenv("ACE_DEV");

	return e ? e : "/dev/ace0";
}

static inline uint64_t tool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int tool_mode(const char *s, unsigned *mode)
{
	if (!strcmp(s, "poll") || !strcmp(s, "polled"))
		*mode = ACE_MODE_POLL;
	else if (!strcmp(s, "interrupt") || !strcmp(s, "irq"))
		*mode = ACE_MODE_INTERRUPT;
	else if (!strcmp(s, "adaptive"))
		*mode = ACE_MODE_ADAPTIVE;
	else
		return -1;
	return 0;
}

static inline const char *tool_mode_name(unsigned mode)
{
	static const char *const n[] = { "poll", "interrupt", "adaptive" };

	return mode < 3 ? n[mode] : "?";
}

/*
 * How long to wait for the device socket, the guest's arena and a named
 * service: `--wait SECS` (services) or $ACE_WAIT seconds, from 0 to
 * 1000000, or "forever".  Default: 5 s for a client (ace-ping, ace-stat,
 * ace-bench), for ever for a service (ace-echo, ace-rngd, ace-proxy),
 * which may well start before its VM.  Anything else is a usage error.
 * 0 still gives a device that is up 0.1 s to answer.
 */
#define TOOL_WAIT_DEFAULT_S	5
#define TOOL_WAIT_MAX_S		1000000

/* ms to wait for `s` (what = where it came from), -1 for "forever". */
static inline int tool_parse_wait(const char *prog, const char *what,
				  const char *s)
{
	double v;

	if (!strcmp(s, "forever"))
		return -1;
	if (tool_parse_secs(s, 0, TOOL_WAIT_MAX_S, &v))
		tool_usage_error(prog, "%s '%s': want seconds from 0 to %d, or "
				 "forever", what, s, TOOL_WAIT_MAX_S);
	return v < 0.1 ? 100 : (int)(v * 1000);
}

/* A client's wait: $ACE_WAIT, else 5 s ("forever": the longest there is). */
static inline int tool_wait_ms(const char *prog)
{
	const char *e = getenv("ACE_WAIT");
	int ms;

	if (!e)
		return TOOL_WAIT_DEFAULT_S * 1000;
	ms = tool_parse_wait(prog, "ACE_WAIT", e);
	return ms < 0 ? TOOL_WAIT_MAX_S * 1000 : ms;
}

/* A service's wait: `opt` (its --wait, or NULL), else $ACE_WAIT, else for
 * ever (-1). */
static inline int tool_service_wait_ms(const char *prog, const char *opt)
{
	const char *e = getenv("ACE_WAIT");

	if (opt)
		return tool_parse_wait(prog, "--wait", opt);
	return e ? tool_parse_wait(prog, "ACE_WAIT", e) : -1;
}

/* Check the environment the tools read (ACE_DEV, ACE_WAIT) before doing
 * anything: a bad value is a usage error, exit 2. */
static inline void tool_check_env(const char *prog)
{
	const char *d = getenv("ACE_DEV");

	if (d && !*d)
		tool_usage_error(prog, "ACE_DEV is set but empty: unset it, or give a "
				 "device (/dev/aceN) or the device socket's path");
	(void)tool_wait_ms(prog);
}

/*
 * Open a channel (ace_open_flags) or exit with the reason.  A path in /dev
 * that does not exist is a guest without the driver (or the wrong N):
 * said so at once, instead of a socket error after waiting for it.
 */
static inline struct ace *tool_open_flags(const char *prog, const char *dev,
					  int timeout_ms, unsigned flags)
{
	struct ace *ch;
	struct stat st;

	if (!*dev)
		tool_usage_error(prog, "the device path is empty");
	if (!strncmp(dev, "/dev/", 5) && !strchr(dev + 5, '/') &&
	    stat(dev, &st) && errno == ENOENT) {
		fprintf(stderr, "%s: %s: no such device; is ace.ko loaded? "
			"(lsmod | grep ace; ls /dev/ace*)\n", prog, dev);
		exit(1);
	}
	if (ace_open_flags(&ch, dev, timeout_ms, flags)) {
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));
		ace_close(ch);
		exit(1);
	}
	return ch;
}

/* A client's channel: timeout_ms < 0 waits as ACE_WAIT says. */
static inline struct ace *tool_open(const char *prog, const char *dev,
				    int timeout_ms)
{
	return tool_open_flags(prog, dev, timeout_ms < 0 ? tool_wait_ms(prog) :
			       timeout_ms, 0);
}

/*
 * A service's channel: its mprocs outlive the guest (ACE_PERSIST), and it
 * waits `wait_ms` (-1: for ever; see tool_service_wait_ms()) for the
 * device and the guest's arena.  Exits with the reason on failure.
 */
static inline struct ace *tool_open_service(const char *prog, const char *dev,
					    int wait_ms)
{
	return tool_open_flags(prog, dev, wait_ms, ACE_PERSIST);
}

/*
 * A service's mproc said -ENOTCONN: the guest went away (a reboot, ace.ko
 * reloaded) and may come back.  Wait for it (its mprocs are created again
 * then: ACE_SVC_REATTACHED) while *stop is clear, saying so on stdout
 * (events, which --quiet does not silence).
 * Returns 1 when the guest is back, 0 when stopped or end_ns
 * (tool_now_ns(); 0: none) passed, -EPIPE when QEMU is gone (ace_error()
 * says why; close the channel).
 */
static inline int tool_await_guest(const char *prog, struct ace *ch,
				   volatile int *stop, uint64_t end_ns)
{
	int r;

	printf("%s: the guest went away (%s); waiting for it\n", prog, ace_error(ch));
	fflush(stdout);
	while (!*stop && (!end_ns || tool_now_ns() < end_ns)) {
		r = ace_service_wait(ch, 200);
		if (r == ACE_SVC_REATTACHED) {
			printf("%s: the guest is back: serving again\n", prog);
			fflush(stdout);
			return 1;
		}
		if (r == -EPIPE)
			return r;
		/* 0, ACE_SVC_DETACHED, a refused arena (the next may do):
		 * wait on */
		if (r < 0)
			printf("%s: %s\n", prog, ace_error(ch));
		fflush(stdout);
	}
	return 0;
}

/*
 * Payload "touching" (--touch): write every byte of a message before it
 * is sent (the index i in the first 8 bytes, the byte (uint8_t)i in the
 * rest), and read every byte of the reply to check it.  Every benchmark
 * program uses these two, so all transports touch the same bytes.
 */
static inline void tool_fill(void *p, size_t len, uint64_t i)
{
	memset(p, (int)(i & 0xff), len);
	memcpy(p, &i, len < 8 ? len : 8);
}

/* 0 if p holds what tool_fill(p, len, i) wrote */
static inline int tool_check(const void *p, size_t len, uint64_t i)
{
	const unsigned char *c = p;

	if (memcmp(c, &i, len < 8 ? len : 8))
		return -1;
	if (len <= 8)
		return 0;
	/* every byte from 8 on equals the one before it, the first is i */
	return c[8] == (unsigned char)i && !memcmp(c + 8, c + 9, len - 9) ? 0 : -1;
}

/* CPU time (user + system) of this process, all threads, in ns. */
static inline uint64_t tool_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/*
 * Interrupts taken so far, summed over CPUs, from /proc/interrupts: the
 * lines whose text contains one of the comma-separated words in `match`
 * (e.g. "virtio2-" for every vector of virtio2), or every line if match
 * is NULL.  0 where /proc/interrupts cannot be read.
 */
static inline uint64_t tool_irqs(const char *match)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024], word[64];
	uint64_t sum = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *m = match, *p = strchr(line, ':');
		char *end;
		int hit = !match;

		while (m && *m && !hit) {
			size_t n = strcspn(m, ",");

			if (n && n < sizeof(word)) {
				memcpy(word, m, n);
				word[n] = 0;
				hit = strstr(line, word) != NULL;
			}
			m += n + (m[n] == ',');
		}
		if (!hit || !p)
			continue;
		for (p++;; p = end) {
			uint64_t v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
		}
	}
	fclose(f);
	return sum;
}

/*
 * What a measured part cost: this process's CPU time and the interrupts
 * taken (all of them, and those of the /proc/interrupts lines matching
 * `irq`, see tool_irqs()).  With a `mark`, "BENCH-T0 MARK" and "BENCH-T1
 * MARK" go to stdout around the part, for a host-side monitor.
 *   struct tool_meter m = { .mark = mark, .irq = irq };
 *   tool_meter_begin(&m); ...the measured part...; tool_meter_end(&m);
 *   then m.cpu_ns, m.irqs, m.irqs_all are the part's.
 */
struct tool_meter {
	const char *mark, *irq;
	uint64_t cpu_ns, irqs, irqs_all;
};

static inline void tool_meter_begin(struct tool_meter *m)
{
	if (m->mark) {
		printf("BENCH-T0 %s\n", m->mark);
		fflush(stdout);
	}
	m->irqs = m->irq ? tool_irqs(m->irq) : 0;
	m->irqs_all = tool_irqs(NULL);
	m->cpu_ns = tool_cpu_ns();
}

static inline void tool_meter_end(struct tool_meter *m)
{
	m->cpu_ns = tool_cpu_ns() - m->cpu_ns;
	m->irqs = m->irq ? tool_irqs(m->irq) - m->irqs : 0;
	m->irqs_all = tool_irqs(NULL) - m->irqs_all;
	if (m->mark) {
		printf("BENCH-T1 %s\n", m->mark);
		fflush(stdout);
	}
}

/*
 * Text a guest wrote (mproc names, reasons) never reaches a terminal or a
 * log raw.  tool_esc() keeps printable ASCII and writes every other byte
 * as \xHH (a backslash as \\), so escape sequences, newlines and invalid
 * UTF-8 come out as visible text; `out` holds at least 4 * strlen(in) + 1
 * bytes (TOOL_ESC_MAX for a name), else the result is cut short.
 */
#define TOOL_ESC_MAX	(4 * 48 + 1)

static inline const char *tool_esc(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (!size)
		return out;
	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		} else if (c == '\\') {
			if (o + 2 >= size)
				break;
			out[o++] = '\\';
			out[o++] = '\\';
		} else {
			if (o + 4 >= size)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = 0;
	return out;
}

/* Find a named mproc, waiting as long as ACE_WAIT says, or exit 1. */
static inline uint32_t tool_lookup(const char *prog, struct ace *ch,
				   const char *name)
{
	int ms = tool_wait_ms(prog), r;
	char esc[TOOL_ESC_MAX];
	uint32_t id;

	r = ace_lookup(ch, name, ms, &id);
	if (r == -ENOENT) {
		fprintf(stderr, "%s: no mproc named %s after %.1f s (ACE_WAIT sets "
			"how long to wait)\n", prog, tool_esc(name, esc, sizeof(esc)),
			ms / 1000.0);
		exit(1);
	}
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));
		exit(1);
	}
	return id;
}

/* 1 if s is printable ASCII only (what tool_esc() leaves alone). */
static inline int tool_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '\\')
			return 0;
	return 1;
}

/* Decode one UTF-8 sequence at s (NUL-terminated); returns its length and
 * the code point, or 0 if it is not well-formed (overlong, surrogate, past
 * U+10FFFF, truncated). */
static inline int tool_utf8(const unsigned char *s, uint32_t *cp)
{
	int n, i;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Print s as a JSON string, quotes included, in ASCII: well-formed UTF-8
 * becomes \uXXXX (surrogate pairs past U+FFFF), control characters, quotes
 * and backslashes are escaped, and a byte that is not UTF-8 becomes
 * U+FFFD.  The output is valid JSON whatever s holds; tool_json_hex()
 * gives the exact bytes when they matter.
 */
static inline void tool_json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	int n;

	fputc('"', f);
	while (*s) {
		n = tool_utf8(s, &cp);
		if (!n) {
			cp = 0xfffd;
			n = 1;
		}
		s += n;
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (char)cp);
		else if (cp >= 0x20 && cp < 0x7f)
			fputc((int)cp, f);
		else if (cp < 0x10000)
			fprintf(f, "\\u%04x", cp);
		else
			fprintf(f, "\\u%04x\\u%04x", 0xd800 + ((cp - 0x10000) >> 10),
				0xdc00 + ((cp - 0x10000) & 0x3ff));
	}
	fputc('"', f);
}

/* Print s's bytes as a JSON string of hex digits. */
static inline void tool_json_hex(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		fprintf(f, "%02x", (unsigned char)*s);
	fputc('"', f);
}

/*
 * Allocate with back-off: -ENOBUFS (every block of that size is in use,
 * for now) is retried, yielding a few times and then sleeping 50 us,
 * 100 us, ... up to 10 ms between tries, until `max_ns` pass (0: for ever)
 * or *stop is set.  Returns what ace_mp_alloc() last returned; *waits
 * (if given) counts the tries that found no block.
 */
static inline int tool_alloc(struct ace_mp *mp, size_t len, struct ace_buf *b,
			     uint64_t max_ns, volatile int *stop, uint64_t *waits)
{
	uint64_t t0 = 0, sleep_ns = 50000;
	unsigned tries = 0;
	int r;

	while ((r = ace_mp_alloc(mp, len, b)) == -ENOBUFS) {
		if (waits)
			(*waits)++;
		if (stop && *stop)
			break;
		if (++tries <= 16) {
			sched_yield();
			continue;
		}
		if (!t0)
			t0 = tool_now_ns();
		else if (max_ns && tool_now_ns() - t0 >= max_ns)
			break;
		{
			struct timespec ts = { 0, (long)sleep_ns };

			nanosleep(&ts, NULL);
		}
		if (sleep_ns < 10000000)
			sleep_ns *= 2;
	}
	return r;
}

#define TOOL_CHECK(prog, ch, expr) do {					\
	int _r = (expr);						\
	if (_r < 0) {							\
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));	\
		exit(1);						\
	}								\
} while (0)

/* A spin-wait hint between polls of shared memory. */
static inline void tool_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif
