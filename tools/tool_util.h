/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Small helpers shared by the ACE tools: time, modes, errors. */
#ifndef ACE_TOOL_UTIL_H
#define ACE_TOOL_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "../lib/ace.h"

/* Message types the tools use between themselves. */
#define TOOL_DATA	0	/* payload; echoed or dropped */
#define TOOL_END	1	/* ace-bench: "my stream is over", echoed */

/* Where to connect by default: the guest device if there is one. */
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

/* How long to wait for the device socket and the guest's arena:
 * $ACE_WAIT seconds (default 5; a service started before its VM sets more). */
static inline int tool_wait_ms(void)
{
	const char *e = getenv("ACE_WAIT");

	return e ? (int)(atof(e) * 1000) : 5000;
}

/* Open a channel or exit with the reason. */
static inline struct ace *tool_open(const char *prog, const char *dev,
				    int timeout_ms)
{
	struct ace *ch;

	if (timeout_ms < 0)
		timeout_ms = tool_wait_ms();
	if (ace_open(&ch, dev, timeout_ms)) {
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));
		ace_close(ch);
		exit(1);
	}
	return ch;
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
