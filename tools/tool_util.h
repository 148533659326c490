/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Small helpers shared by the ACE tools: time, modes, errors. */
#ifndef ACE_TOOL_UTIL_H
#define ACE_TOOL_UTIL_H

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

#define TOOL_CHECK(prog, ch, expr) do {					\
	int _r = (expr);						\
	if (_r < 0) {							\
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));	\
		exit(1);						\
	}								\
} while (0)

#endif
