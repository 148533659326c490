// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ACE sections end to end, guest side (tests/vm/cases/sections.sh).
 *
 * Phase 1: mproc "sect" is armed (interrupt delivery through an eventfd)
 * and enters a section; the host sends 100 messages.  None may raise an
 * interrupt or a wake-up; each is counted as deferred; at section end all
 * 100 are received in order with zero interrupts for the batch.
 * Phase 2: the section is held past the device's time bound; the deferred
 * delivery is forced: one interrupt, one overrun, the eventfd fires.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../../lib/ace.h"

static int failures;

#define EXPECT(cond, ...) do {						\
	if (cond) {							\
		printf("ACE-TEST ok: " __VA_ARGS__);			\
	} else {							\
		printf("ACE-TEST FAIL: " __VA_ARGS__);			\
		failures++;						\
	}								\
	printf("\n");							\
} while (0)

static struct ace *ch;
static struct ace_mp *mp;

static void stats(struct ace_stats *st)
{
	if (ace_stats(ch, ace_mp_id(mp), st)) {
		printf("ACE-TEST FAIL: stats: %s\n", ace_error(ch));
		exit(1);
	}
}

static int fd_ready(int ms)
{
	struct pollfd p = { .fd = ace_mp_fd(mp), .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

int main(void)
{
	struct ace_stats s0, s1;
	struct ace_buf b;
	int i, r, inorder = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ace_open(&ch, "/dev/ace0", 0) ||
	    ace_mp_create(ch, "sect", ACE_MODE_INTERRUPT, &mp) ||
	    ace_mp_fd(mp) < 0) {
		printf("ACE-TEST FAIL: setup: %s\n", ace_error(ch));
		return 1;
	}

	/* phase 1 */
	EXPECT(ace_mp_arm(mp) == 0, "armed with an empty inbox");
	EXPECT(ace_mp_section_begin(mp) == 0, "section begins");
	stats(&s0);
	printf("ACE-TEST sect-ready\n");
	for (i = 0; i < 300; i++) {
		stats(&s1);
		if (s1.queued >= 100)
			break;
		usleep(20000);
	}
	EXPECT(s1.queued == 100, "100 messages queued inside the section (%u)", s1.queued);
	EXPECT(!fd_ready(0), "no delivery inside the section");
	EXPECT(s1.interrupts == s0.interrupts, "no interrupt inside the section (%llu)",
	       (unsigned long long)(s1.interrupts - s0.interrupts));
	EXPECT(s1.deferrals - s0.deferrals == 100, "100 deferrals counted (%llu)",
	       (unsigned long long)(s1.deferrals - s0.deferrals));
	r = ace_mp_section_end(mp);
	EXPECT(r == 1, "section end reports the deferred batch (%d)", r);
	for (i = 0; i < 100; i++) {
		if (ace_mp_recv(mp, &b, ACE_NOWAIT) != 1)
			break;
		if (b.tag != (uint32_t)i)
			inorder = 0;
		ace_mp_free(mp, &b);
	}
	EXPECT(i == 100 && inorder, "all 100 received in order (%d)", i);
	stats(&s1);
	EXPECT(s1.interrupts == s0.interrupts, "zero interrupts for the batch");
	printf("ACE-TEST batch: %d messages, %llu interrupts, %llu deferrals\n", i,
	       (unsigned long long)(s1.interrupts - s0.interrupts),
	       (unsigned long long)(s1.deferrals - s0.deferrals));

	/* phase 2 */
	stats(&s0);
	EXPECT(ace_mp_section_begin(mp) == 0, "second section begins");
	printf("ACE-TEST sect-hold\n");
	EXPECT(fd_ready(20000), "the deferred delivery is forced past the bound");
	stats(&s1);
	EXPECT(s1.overruns - s0.overruns == 1, "one overrun counted (%llu)",
	       (unsigned long long)(s1.overruns - s0.overruns));
	EXPECT(s1.interrupts - s0.interrupts == 1, "one interrupt for it (%llu)",
	       (unsigned long long)(s1.interrupts - s0.interrupts));
	ace_mp_fd_ack(mp);
	EXPECT(ace_mp_section_end(mp) == 1, "section end reports the forced message");
	EXPECT(ace_mp_recv(mp, &b, ACE_NOWAIT) == 1, "the message is there");
	ace_mp_disarm(mp);
	ace_mp_close(mp);
	ace_close(ch);
	printf("ACE-TEST sections: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
