// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Notify words and ACE sections: who gets notified, deferral inside a
 * section, draining at section end with no notification, the time bound
 * (FORCE, overrun), nesting, and the pending-bit rules. */
#include "ace_test.h"

#define SIZE (1u << 20)

static struct ace_arena A;
static u32 me, peer;

static int send_one(u32 tag)
{
	s64 off = ace_alloc(&A, 8, peer);

	if (off <= 0)
		DIE("alloc");
	ace_msg(&A, (u32)off)->tag = tag;
	return ace_send(&A, peer, me, (u32)off, 8);
}

static struct ace_mproc *E(void)
{
	return ace_mproc_at(&A, ACE_ID_SLOT(me));
}

int main(void)
{
	void *mem = ace_test_arena(&A, SIZE, 8);
	struct ace_rx rx;
	struct ace_msg_desc d;
	u32 n, i, seq;

	CHECK_EQ(ace_mproc_claim(&A, "guest", ACE_SIDE_GUEST_USER, 1, &me), 0);
	CHECK_EQ(ace_mproc_claim(&A, "host", ACE_SIDE_HOST, 0, &peer), 0);
	ace_rx_init(&rx, me);

	/* running (not armed): a send never asks for a notification */
	CHECK_EQ(send_one(0), 0);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_NONE);
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	ace_free(&A, d.off);

	/* armed: the first send raises (kick), the next coalesce */
	CHECK_EQ(ace_arm(&A, &rx), 0);
	CHECK_EQ(send_one(1), 1);
	CHECK_EQ(send_one(2), 0);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_NOW);
	CHECK_EQ(ace_pending_take(&A, 0, 1ull << ACE_ID_SLOT(me)),
		 1ull << ACE_ID_SLOT(me));
	CHECK_EQ(E()->c.notifies, 2);
	/* arming with mail waiting says so: do not sleep */
	CHECK_EQ(ace_arm(&A, &rx), 1);
	CHECK_EQ(ace_disarm(&A, &rx), 0);
	for (i = 1; i <= 2; i++) {
		CHECK_EQ(ace_recv(&A, &rx, &d), 1);
		CHECK_EQ(d.tag, i);
		ace_free(&A, d.off);
	}

	/* armed inside a section: deferred, counted, no notification due */
	CHECK_EQ(ace_arm(&A, &rx), 0);
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	CHECK_EQ(send_one(10), 1);	/* raise once: starts the time bound */
	for (i = 11; i < 20; i++)
		CHECK_EQ(send_one(i), 0);
	n = E()->notify;
	CHECK(n & ACE_NOTIFY_DEFERRED);
	CHECK_EQ(ACE_NOTIFY_DEPTH(n), 1);
	CHECK_EQ(E()->c.deferrals, 10);
	CHECK_EQ(E()->c.notifies, 2);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_DEFER);
	/* nesting: the inner end does not release */
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	CHECK_EQ(ace_section_end(&A, &rx), 0);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_DEFER);
	/* the outer end reports the deferred batch and clears our bit */
	CHECK_EQ(ace_section_end(&A, &rx), 1);
	CHECK_EQ(ace_pending_peek(&A, 0) & (1ull << ACE_ID_SLOT(me)), 0);
	CHECK_EQ(E()->notify & (ACE_NOTIFY_DEFERRED | ACE_NOTIFY_DEPTH_MASK), 0);
	for (i = 10; i < 20; i++) {
		CHECK_EQ(ace_recv(&A, &rx, &d), 1);
		CHECK_EQ(d.tag, i);
		ace_free(&A, d.off);
	}
	CHECK_EQ(ace_recv(&A, &rx, &d), 0);
	/* still armed after the section: the next send notifies at once */
	CHECK_EQ(send_one(20), 1);
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	ace_free(&A, d.off);
	ace_pending_clear(&A, ACE_ID_SLOT(me));

	/* a section with nothing sent ends quietly */
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	CHECK_EQ(ace_section_end(&A, &rx), 0);
	CHECK_EQ(ace_section_end(&A, &rx), -EINVAL);

	/* the time bound: FORCE for the open section, overrun counted */
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	seq = ACE_NOTIFY_SEQ(E()->notify);
	CHECK_EQ(send_one(30), 1);
	CHECK_EQ(ace_force(&A, ACE_ID_SLOT(me), seq + 1), 0);	/* stale seq */
	CHECK_EQ(ace_force(&A, ACE_ID_SLOT(me), seq), 1);
	CHECK_EQ(E()->c.overruns, 1);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_NOW);
	/* a forced section notifies later sends at once */
	CHECK_EQ(ace_pending_take(&A, 0, ~0ull), 1ull << ACE_ID_SLOT(me));
	CHECK_EQ(send_one(31), 1);
	CHECK_EQ(ace_section_end(&A, &rx), 1);
	CHECK_EQ(ace_force(&A, ACE_ID_SLOT(me), seq), 0);	/* ended */
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	CHECK_EQ(d.tag, 30);
	ace_free(&A, d.off);
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	CHECK_EQ(d.tag, 31);
	ace_free(&A, d.off);

	/* a section on an mproc that is not armed defers nothing */
	CHECK_EQ(ace_disarm(&A, &rx), 0);
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	CHECK_EQ(send_one(40), 0);
	CHECK_EQ(ace_section_end(&A, &rx), 0);
	CHECK_EQ(E()->c.deferrals, 11);	/* 10 above, and message 30 */
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	ace_free(&A, d.off);

	/* nesting is bounded */
	for (i = 0; i < 255; i++)
		CHECK_EQ(ace_section_begin(&A, &rx), 0);
	CHECK_EQ(ace_section_begin(&A, &rx), -EOVERFLOW);
	for (i = 0; i < 255; i++)
		CHECK_EQ(ace_section_end(&A, &rx), 0);
	CHECK_EQ(E()->c.sections, 5);	/* outermost sections only */
	CHECK_EQ(ace_arena_broken(&A), 0);
	munmap(mem, SIZE);
	return ace_test_done("section");
}
