// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* A receiver whose notify word keeps changing under the sender's CAS (a
 * hostile peer): built with ACE_NOTIFY_RETRIES 0 (see the Makefile), so
 * every send to an armed receiver inside a section runs out of tries at
 * once.  The push has landed by then: the send must not fail.  Before,
 * it returned -EAGAIN with the message in the inbox, and the sender took
 * the block for its own (its free or resend then failed, or freed a
 * block the receiver held).  And the delivery is still deferred, so the
 * section's end drains it: nothing is lost, atomicity holds. */
#include "ace_test.h"

#define SIZE (1u << 20)
#define SENDS 100

int main(void)
{
	struct ace_arena A;
	void *mem = ace_test_arena(&A, SIZE, 8);
	struct ace_msg_desc d;
	struct ace_rx rx;
	struct ace_mproc *e;
	u32 me, peer, got = 0;
	int i, r;

	(void)mem;
	CHECK_EQ(ACE_NOTIFY_RETRIES, 0);
	CHECK_EQ(ace_mproc_claim(&A, "guest", ACE_SIDE_GUEST_USER, 1, &me), 0);
	CHECK_EQ(ace_mproc_claim(&A, "host", ACE_SIDE_HOST, 0, &peer), 0);
	ace_rx_init(&rx, me);
	e = ace_mproc_at(&A, ACE_ID_SLOT(me));
	CHECK_EQ(ace_arm(&A, &rx), 0);
	CHECK_EQ(ace_section_begin(&A, &rx), 0);
	for (i = 0; i < SENDS; i++) {
		s64 off = ace_alloc(&A, 8, peer);

		if (off <= 0)
			DIE("alloc: %lld", (long long)off);
		r = ace_send(&A, peer, me, (u32)off, 8);
		CHECK(r == 0 || r == 1);
		if (r < 0)
			fprintf(stderr, "send %d: %d, the block %s\n", i, r,
				ace_msg(&A, (u32)off)->owner == me ?
				"in the receiver's inbox all the same" : "the sender's");
	}
	/* deferred all the same (a fetch_or): no interrupt inside the
	 * section, and its end says there is mail to drain */
	CHECK(e->notify & ACE_NOTIFY_DEFERRED);
	CHECK_EQ(e->c.deferrals, SENDS);
	CHECK_EQ(e->c.notifies, 0);
	CHECK_EQ(ace_delivery(&A, ACE_ID_SLOT(me), NULL), ACE_DELIVER_DEFER);
	CHECK_EQ(ace_section_end(&A, &rx), 1);
	CHECK_EQ(ace_pending_peek(&A, 0) & (1ull << ACE_ID_SLOT(me)), 0);
	CHECK_EQ(ace_disarm(&A, &rx), 0);
	while (ace_recv(&A, &rx, &d) == 1) {
		got++;
		CHECK_EQ(ace_free(&A, d.off), 0);
	}
	CHECK_EQ(got, SENDS);
	/* armed again, outside a section: the next send raises */
	CHECK_EQ(ace_arm(&A, &rx), 0);
	{
		s64 off = ace_alloc(&A, 8, peer);

		CHECK(off > 0);
		CHECK_EQ(ace_send(&A, peer, me, (u32)off, 8), 1);
	}
	CHECK_EQ(ace_disarm(&A, &rx), 0);
	CHECK_EQ(ace_recv(&A, &rx, &d), 1);
	CHECK_EQ(ace_free(&A, d.off), 0);
	CHECK_EQ(A.broken, 0);
	return ace_test_done("test_livelock");
}
