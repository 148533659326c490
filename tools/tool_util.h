/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Small helpers shared by the ACE tools: time, modes, errors. */
#ifndef ACE_TOOL_UTIL_H
#define ACE_TOOL_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

#define TOOL_CHECK(prog, ch, expr) do {					\
	int _r = (expr);						\
	if (_r < 0) {							\
		fprintf(stderr, "%s: %s\n", prog, ace_error(ch));	\
		exit(1);						\
	}								\
} while (0)

#endif
