// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Named mproc slots: claim, lookup, duplicate names, bad names, a full
 * table, and generations that make stale ids fail. */
#include "ace_test.h"

#define SIZE (1u << 20)
#define NR 8

int main(void)
{
	struct ace_arena a;
	void *mem = ace_test_arena(&a, SIZE, NR);
	u32 id[NR], x, y, i;
	char name[64], buf[ACE_NAME_MAX];

	for (i = 0; i < NR; i++) {
		snprintf(name, sizeof(name), "svc-%u", i);
		CHECK_EQ(ace_mproc_claim(&a, name, ACE_SIDE(ACE_SIDE_HOST, 2),
					 ACE_MODE_POLL, &id[i]), 0);
		CHECK_EQ(ACE_ID_SLOT(id[i]), i);
		CHECK_EQ(ACE_ID_GEN(id[i]), 1);
		CHECK_EQ(ace_mproc_check(&a, id[i]), 0);
	}
	CHECK_EQ(ace_mproc_claim(&a, "one-more", 1, 0, &x), -ENOSPC);
	CHECK_EQ(ace_mproc_lookup(&a, "svc-5", &x), 0);
	CHECK_EQ(x, id[5]);
	CHECK_EQ(ace_mproc_lookup(&a, "svc-9", &x), -ENOENT);
	CHECK_EQ(ace_mproc_name(&a, 3, buf, &x), 0);
	CHECK(!strcmp(buf, "svc-3"));
	CHECK_EQ(ace_mproc_at(&a, 3)->side, ACE_SIDE(ACE_SIDE_HOST, 2));

	/* a name in use is refused */
	CHECK_EQ(ace_mproc_release(&a, id[0]), 0);
	CHECK_EQ(ace_mproc_claim(&a, "svc-1", 1, 0, &x), -EEXIST);
	/* bad names */
	CHECK_EQ(ace_mproc_claim(&a, "", 1, 0, &x), -EINVAL);
	CHECK_EQ(ace_mproc_claim(&a, "has space", 1, 0, &x), -EINVAL);
	CHECK_EQ(ace_mproc_claim(&a, "tab\there", 1, 0, &x), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[ACE_NAME_MAX - 1] = 0;	/* 47 chars: fits */
	CHECK_EQ(ace_mproc_claim(&a, name, 1, 0, &x), 0);
	CHECK_EQ(ace_mproc_release(&a, x), 0);
	name[ACE_NAME_MAX - 1] = 'n';
	name[ACE_NAME_MAX] = 0;		/* 48 chars: too long */
	CHECK_EQ(ace_mproc_claim(&a, name, 1, 0, &x), -EINVAL);

	/* generations: slot 0 is reused with a new generation */
	CHECK_EQ(ace_mproc_check(&a, id[0]), -ENOENT);
	CHECK_EQ(ace_mproc_claim(&a, "svc-0b", 1, 0, &y), 0);
	CHECK_EQ(ACE_ID_SLOT(y), 0);
	CHECK(ACE_ID_GEN(y) > ACE_ID_GEN(id[0]));
	/* the stale id can neither be sent to nor closed */
	{
		s64 off = ace_alloc(&a, 8, id[1]);

		CHECK(off > 0);
		CHECK_EQ(ace_send(&a, id[1], id[0], (u32)off, 8), -ENOENT);
		CHECK_EQ(ace_msg(&a, (u32)off)->flags, ACE_MSG_ALLOC);
		CHECK_EQ(ace_send(&a, id[1], y, (u32)off, 8), 0);
	}
	CHECK_EQ(ace_mproc_release(&a, id[0]), -ENOENT);
	CHECK_EQ(ace_mproc_release(&a, y), 1);	/* reclaims the queued one */
	CHECK_EQ(ace_mproc_lookup(&a, "svc-0b", &x), -ENOENT);
	/* a message in flight belongs to its receiver: reclaiming its
	 * sender leaves it alone */
	{
		u32 r1, s1;
		s64 off;
		struct ace_rx rx;
		struct ace_msg_desc d;

		CHECK_EQ(ace_mproc_release(&a, id[2]), 0);	/* make room */
		CHECK_EQ(ace_mproc_claim(&a, "rcv-x", 1, 0, &r1), 0);
		CHECK_EQ(ace_mproc_claim(&a, "snd-x", 1, 0, &s1), 0);
		off = ace_alloc(&a, 8, s1);
		CHECK_EQ(ace_send(&a, s1, r1, (u32)off, 8), 0);
		CHECK_EQ(ace_msg(&a, (u32)off)->owner, r1);
		CHECK_EQ(ace_mproc_release(&a, s1), 0);
		CHECK_EQ(ace_msg(&a, (u32)off)->flags, ACE_MSG_QUEUED);
		/* a send raced a close and a re-claim of the slot: the message
		 * names the old generation; the new owner drops it, no -EIO */
		off = ace_alloc(&a, 8, r1);
		CHECK_EQ(ace_send(&a, r1, r1, (u32)off, 8), 0);
		ace_msg(&a, (u32)off)->dst = ACE_ID(ACE_ID_SLOT(r1), ACE_ID_GEN(r1) + 7);
		ace_rx_init(&rx, r1);
		CHECK_EQ(ace_recv(&a, &rx, &d), 1);	/* the first, genuine one */
		CHECK_EQ(ace_free(&a, d.off), 0);
		CHECK_EQ(ace_recv(&a, &rx, &d), 0);	/* the stale one dropped */
		CHECK_EQ(ace_arena_broken(&a), 0);
		CHECK_EQ(ace_msg(&a, (u32)off)->flags, ACE_MSG_FREE);
		CHECK_EQ(ace_mproc_release(&a, r1), 0);
	}
	/* an owner that died mid-claim or mid-close: reap frees the slot and
	 * what it held, whatever state it was left in */
	{
		u32 z, st, k;
		struct ace_mproc *e;

		for (k = ACE_SLOT_CLAIMING; k <= ACE_SLOT_CLOSING; k++) {
			CHECK_EQ(ace_mproc_claim(&a, "dying", 1, 0, &z), 0);
			CHECK(ace_alloc(&a, 8, z) > 0);
			CHECK(ace_alloc(&a, 8, z) > 0);
			e = ace_mproc_at(&a, ACE_ID_SLOT(z));
			st = e->state;
			e->state = ACE_SLOT_WORD(ACE_SLOT_GEN(st), k);
			CHECK_EQ(ace_mproc_reap(&a, ACE_ID_SLOT(z)), 2);
			CHECK_EQ(ACE_SLOT_STATE(e->state), ACE_SLOT_FREE);
			CHECK_EQ(ace_mproc_reap(&a, ACE_ID_SLOT(z)), 0);
		}
		/* a slot left CLAIMING before its inbox was opened */
		CHECK_EQ(ace_mproc_claim(&a, "dying2", 1, 0, &z), 0);
		e = ace_mproc_at(&a, ACE_ID_SLOT(z));
		CHECK_EQ(ace_mproc_release(&a, z), 0);
		e->state = ACE_SLOT_WORD(ACE_SLOT_GEN(e->state) + 1, ACE_SLOT_CLAIMING);
		CHECK_EQ(ace_mproc_reap(&a, ACE_ID_SLOT(z)), 0);
		CHECK_EQ(ace_arena_broken(&a), 0);
	}
	/* out-of-range slots */
	CHECK_EQ(ace_mproc_check(&a, ACE_ID(NR + 3, 1)), -ENOENT);
	CHECK_EQ(ace_mproc_name(&a, NR + 3, buf, &x), -ENOENT);
	CHECK_EQ(ace_arena_broken(&a), 0);
	munmap(mem, SIZE);
	return ace_test_done("names");
}
