// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-victim KIND [SECS]: the guest side of one hostile-host attack
 * (tests/vm/ace_hostpeer.c "hostile").  Creates mproc "atk-KIND" in
 * interrupt mode, which the hostile peer attacks, and checks what the
 * guest must see:
 *
 *   oob misaligned cycle len   receive fails with -EIO and a reason
 *   state gen                  receive (asleep in the driver) fails with
 *                              -EIO: a peer rewrote our slot
 *   section notify             a forged section or a junk notify word:
 *                              the message is still delivered (the
 *                              section's time bound forces it: overrun)
 *   freelist                   allocation fails with -EIO
 *   header                     a new channel is refused (-EIO), the open
 *                              one keeps working (geometry is private)
 *   table                      junk in every free slot: creating another
 *                              mproc fails with -ENOSPC, listing is safe
 *   storm churn                the message after the storm arrives
 *   vanish                     the 10 messages a peer left unannounced
 *                              before vanishing arrive, in order
 *
 *   ace-victim check           no attack: every block is free or held by
 *                              a live mproc, nothing is in flight, no slot
 *                              is half-claimed, the free lists hold every
 *                              free block
 *
 * Prints "ACE-TEST victim KIND: ..." lines; exit 0 if the guest saw what
 * it must.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/ace.h>
#include <sys/mman.h>
#include "../../../shared/ace_core.h"
#include "../../../lib/ace.h"

#define ATK_DONE	0xa77acu	/* the hostile peer's "done" message */

static const char *kind;
static struct ace *ch;
static struct ace_mp *mp;
static int64_t wait_ns;

static int say(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("ACE-TEST victim %s: %s: ", kind, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return ok ? 0 : 1;
}

/* Expect the receive to fail with -EIO. */
static int expect_eio(void)
{
	struct ace_buf b;
	int r = ace_mp_recv(mp, &b, wait_ns);

	return say(r == -EIO, "receive -> %d: %s", r, r < 0 ? ace_error(ch) : "no error");
}

/* Receive the hostile peer's "done" message; 1 if it came. */
static int got_done(void)
{
	struct ace_buf b;
	int r = ace_mp_recv(mp, &b, wait_ns);

	if (r != 1 || b.type != ATK_DONE) {
		say(0, "no done message: %d (%s)", r, r < 0 ? ace_error(ch) : "timeout");
		return 0;
	}
	ace_mp_free(mp, &b);
	return 1;
}

static int do_delivered(void)
{
	struct ace_stats st;
	int r;

	if (!got_done() || ace_stats(ch, ace_mp_id(mp), &st))
		return 1;
	if (!strcmp(kind, "section"))
		return say(st.overruns >= 1,
			   "delivered despite a forged section: %llu deferral(s), %llu overrun(s), %llu interrupt(s)",
			   (unsigned long long)st.deferrals,
			   (unsigned long long)st.overruns,
			   (unsigned long long)st.interrupts);
	r = ace_mp_section_begin(mp);
	return say(1, "delivered despite notify word 0x%08x; section begin then -> %d (%s)",
		   st.notify, r, r < 0 ? ace_error(ch) : "ok");
}

static int do_freelist(void)
{
	struct ace_buf b;
	int i, r = 0;

	if (!got_done())
		return 1;
	for (i = 0; i < 100000 && !(r = ace_mp_alloc(mp, 64, &b)); i++)
		;
	return say(r == -EIO, "allocation %d -> %d: %s", i, r, ace_error(ch));
}

static int do_header(void)
{
	struct ace *ch2;
	struct ace_buf b;
	int r, r2;

	if (!got_done())
		return 1;
	r = ace_open(&ch2, "/dev/ace0", 0);
	printf("ACE-TEST victim header: a new channel -> %d: %s\n", r,
	       r ? ace_error(ch2) : "opened");
	ace_close(ch2);
	r2 = ace_mp_alloc(mp, 64, &b);
	if (!r2)
		r2 = ace_mp_send(mp, ace_mp_id(mp), &b);
	if (!r2)
		r2 = ace_mp_recv(mp, &b, wait_ns) == 1 ? ace_mp_free(mp, &b) : -1;
	return say(r == -EIO && r2 == 0,
		   "new channel refused (%d), the open one still sends and receives (%d)",
		   r, r2);
}

static int do_table(void)
{
	struct ace_mp *mp2;
	char name[48];
	uint32_t s, id, junk = 0, seen = 0;
	struct ace_buf b;
	int r, rs = 1;

	if (!got_done())
		return 1;
	r = ace_mp_create(ch, "atk-table-2", ACE_MODE_POLL, &mp2);
	printf("ACE-TEST victim table: create another mproc -> %d: %s\n", r,
	       r ? ace_error(ch) : "created");
	for (s = 0; s < ace_max_mprocs(ch); s++) {
		if (ace_slot_name(ch, s, name, &id))
			continue;
		seen++;
		if ((unsigned char)name[0] == 0xff && !junk)
			junk = id;
	}
	if (junk && !ace_mp_alloc(mp, 64, &b)) {
		rs = ace_mp_send(mp, junk, &b);
		if (rs)
			ace_mp_free(mp, &b);
	}
	return say(r == -ENOSPC && junk,
		   "no free slot left (-ENOSPC), %u slots listed, a send into a junk slot -> %d",
		   seen, rs);
}

static int do_after(void)
{
	struct ace_stats st;

	if (!got_done() || ace_stats(ch, ace_mp_id(mp), &st))
		return 1;
	return say(1, "still served: %llu wake-up(s), %llu interrupt(s), %llu spurious",
		   (unsigned long long)st.wakeups, (unsigned long long)st.interrupts,
		   (unsigned long long)st.spurious);
}

/* Nobody raised for these: only the driver's look at its mprocs when
 * the peer went down wakes us, well before our own timeout would. */
static int do_vanish(void)
{
	struct ace_buf b;
	int n = 0, order = 1;
	time_t t0 = time(NULL);

	while (n < 10 && ace_mp_recv(mp, &b, wait_ns) == 1) {
		order &= b.tag == (uint32_t)n;
		n++;
		ace_mp_free(mp, &b);
	}
	return say(n == 10 && order && time(NULL) - t0 < 10,
		   "%d of the 10 unannounced messages arrived%s, after %d s", n,
		   order ? " in order" : " OUT OF ORDER", (int)(time(NULL) - t0));
}

/* The arena, mapped raw, for what libace does not show: slot states and
 * the free lists themselves. */
static int do_check(void)
{
	struct ace_ioc_info info;
	struct ace_census c;
	struct ace_arena a;
	uint32_t s, id, half = 0, live = 0, listed = 0, cls;
	char name[48];
	void *map;
	int fd;

	fd = open("/dev/ace0", O_RDWR);
	if (fd < 0 || ioctl(fd, ACE_IOC_INFO, &info))
		return say(0, "/dev/ace0: %s", strerror(errno));
	map = mmap(NULL, info.arena_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || ace_arena_attach(&a, map, info.arena_size))
		return say(0, "cannot map the arena");
	for (s = 0; s < a.nr_mprocs; s++) {
		uint32_t st = ace_read_once(&ace_mproc_at(&a, s)->state);

		half += ACE_SLOT_STATE(st) == ACE_SLOT_CLAIMING ||
			ACE_SLOT_STATE(st) == ACE_SLOT_CLOSING;
	}
	for (cls = 0; cls < a.nr_classes; cls++) {
		s64 n = ace_free_count(&a, cls);

		if (n < 0)
			return say(0, "free list %u: %s", cls, ace_arena_why(&a));
		listed += (uint32_t)n;
	}
	if (ace_census(ch, &c))
		return say(0, "census: %s", ace_error(ch));
	for (s = 0; s < ace_max_mprocs(ch); s++) {
		struct ace_stats st;

		if (!ace_slot_name(ch, s, name, &id) && !ace_stats(ch, id, &st))
			live += st.held;
	}
	printf("ACE-TEST census total %u free %u in-flight %u held %u held-by-live %u half-open %u on-free-lists %u\n",
	       c.total, c.free, c.queued, c.held, live, half, listed);
	return say(c.queued == 0 && c.held == live && half == 0 && listed == c.free,
		   "every block is free or held by a live mproc");
}

int main(int argc, char **argv)
{
	char name[48];
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: ace-victim KIND [SECS]\n");
		return 2;
	}
	kind = argv[1];
	wait_ns = (argc > 2 ? atoll(argv[2]) : 30) * 1000000000ll;
	if (ace_open(&ch, "/dev/ace0", 0))
		return say(0, "open: %s", ace_error(ch));
	if (!strcmp(kind, "check"))
		return do_check();
	snprintf(name, sizeof(name), "atk-%s", kind);
	if (ace_mp_create(ch, name, ACE_MODE_INTERRUPT, &mp))
		return say(0, "create %s: %s", name, ace_error(ch));
	printf("ACE-TEST victim %s: waiting as %s (id 0x%x)\n", kind, name,
	       ace_mp_id(mp));
	if (!strcmp(kind, "section") || !strcmp(kind, "notify"))
		r = do_delivered();
	else if (!strcmp(kind, "freelist"))
		r = do_freelist();
	else if (!strcmp(kind, "header"))
		r = do_header();
	else if (!strcmp(kind, "table"))
		r = do_table();
	else if (!strcmp(kind, "storm") || !strcmp(kind, "churn"))
		r = do_after();
	else if (!strcmp(kind, "vanish"))
		r = do_vanish();
	else
		r = expect_eio();
	/* exit without closing: the driver closes it (on a broken arena
	 * the close is what finds the breakage, or refuses) */
	return r;
}
