// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Reaping a dead peer's mprocs in one pass over the blocks, in slices
 * (ace_reap_begin/blocks/end): the same blocks come back as reaping each
 * slot on its own, the living keep theirs, and forged owner words and
 * slot states are skipped, not trusted. */
#include "ace_test.h"

#define SIZE (4u << 20)
#define NR 32
#define DEAD_PEER 2	/* the odd slots */

/* The same traffic into two arenas: NR mprocs, odd ones the dead peer's;
 * each holds some blocks and has sent some into the others' inboxes. */
static void fill(struct ace_arena *a, u32 *id)
{
	u32 i, k;

	for (i = 0; i < NR; i++) {
		char name[16];

		snprintf(name, sizeof(name), "m%u", i);
		CHECK_EQ(ace_mproc_claim(a, name, ACE_SIDE(ACE_SIDE_HOST, 1 + (i & 1)),
					 ACE_MODE_POLL, &id[i]), 0);
	}
	for (i = 0; i < NR; i++) {
		for (k = 0; k < 3 + i % 5; k++) {
			s64 off = ace_alloc(a, 8 + 100 * k, id[i]);

			CHECK(off > 0);
			if (k & 1)	/* sent on; the rest held */
				CHECK(ace_send(a, id[i], id[(i + k) % NR], (u32)off, 8) >= 0);
		}
	}
}

static void census(struct ace_arena *a, u32 *id, u32 *held, u32 *queued, u32 *free)
{
	u32 i, q;

	for (i = 0; i < NR; i++)
		CHECK_EQ(ace_block_census(a, id[i], &held[i], &q, free), 0);
	CHECK_EQ(ace_block_census(a, 0, &q, queued, free), 0);
}

int main(void)
{
	struct ace_arena a, b;
	void *ma = ace_test_arena(&a, SIZE, NR), *mb = ace_test_arena(&b, SIZE, NR);
	u32 ida[NR], idb[NR], ids[NR] = { 0 }, begun[NR], held_a[NR], held_b[NR];
	u32 qa, qb, fa, fb, i, cursor = 0, nb = 0, slices = 0;
	s64 r, freed_a = 0, freed_b = 0;

	fill(&a, ida);
	fill(&b, idb);
	/* forged: a block owned by a slot past the table, one by slot 0 with
	 * a generation that is not its own: neither is freed */
	{
		s64 x = ace_alloc(&a, 8, ida[0]), y = ace_alloc(&a, 8, ida[0]);

		CHECK(x > 0 && y > 0);
		ace_msg(&a, (u32)x)->owner = ACE_ID(ACE_ID_SLOT_MASK, 1);
		ace_msg(&a, (u32)y)->owner = ACE_ID(1, 77);
		x = ace_alloc(&b, 8, idb[0]);
		y = ace_alloc(&b, 8, idb[0]);
		ace_msg(&b, (u32)x)->owner = ACE_ID(ACE_ID_SLOT_MASK, 1);
		ace_msg(&b, (u32)y)->owner = ACE_ID(1, 77);
	}

	/* a: the batch, in slices of 7 blocks */
	for (i = 0; i < NR; i++) {
		if (ACE_SIDE_PEER(ace_mproc_at(&a, i)->side) != DEAD_PEER)
			continue;
		r = ace_reap_begin(&a, i, &ids[i]);
		CHECK(r >= 0);
		CHECK_EQ(ids[i], ida[i]);
		CHECK_EQ(ACE_SLOT_STATE(ace_mproc_at(&a, i)->state), ACE_SLOT_CLOSING);
		freed_a += r;
		begun[nb++] = ids[i];
	}
	while (cursor < a.total_blocks) {
		r = ace_reap_blocks(&a, ids, &cursor, 7);
		CHECK(r >= 0);
		freed_a += r;
		slices++;
	}
	CHECK_EQ(slices, (a.total_blocks + 6) / 7);
	CHECK_EQ(ace_reap_blocks(&a, ids, &cursor, 7), 0);	/* done: nothing */
	for (i = 0; i < nb; i++)
		ace_reap_end(&a, begun[i], 0);
	/* b: each slot on its own */
	for (i = 0; i < NR; i++) {
		if (ACE_SIDE_PEER(ace_mproc_at(&b, i)->side) != DEAD_PEER)
			continue;
		r = ace_mproc_reap(&b, i);
		CHECK(r > 0);
		freed_b += r;
	}
	CHECK(freed_a > 0);
	CHECK_EQ(freed_a, freed_b);
	census(&a, ida, held_a, &qa, &fa);
	census(&b, idb, held_b, &qb, &fb);
	CHECK_EQ(fa, fb);
	CHECK_EQ(qa, qb);
	for (i = 0; i < NR; i++) {
		CHECK_EQ(held_a[i], held_b[i]);
		if (i & 1) {
			CHECK_EQ(held_a[i], 0);
			CHECK_EQ(ACE_SLOT_STATE(ace_mproc_at(&a, i)->state), ACE_SLOT_FREE);
			CHECK_EQ(ace_mproc_check(&a, ida[i]), -ENOENT);
		} else {
			CHECK(held_a[i] > 0);
			CHECK_EQ(ace_mproc_check(&a, ida[i]), 0);
		}
	}
	/* the freed slots are claimable again, with a new generation */
	{
		u32 z;

		CHECK_EQ(ace_mproc_claim(&a, "again", 1, 0, &z), 0);
		CHECK(ACE_ID_SLOT(z) & 1);
		CHECK(ACE_ID_GEN(z) > 1);
	}
	/* a free slot begins as nothing; a forged generation-0 state is
	 * freed at once, with no id to reap */
	{
		u32 z = 99, s = 1;	/* slot 1: freed above, maybe taken by "again" */

		while (ACE_SLOT_STATE(ace_mproc_at(&a, s)->state) != ACE_SLOT_FREE)
			s += 2;
		CHECK_EQ(ace_reap_begin(&a, s, &z), 0);
		CHECK_EQ(z, 0);
		ace_mproc_at(&a, s)->state = ACE_SLOT_WORD(0, ACE_SLOT_ACTIVE);
		z = 99;
		CHECK(ace_reap_begin(&a, s, &z) >= 0);
		CHECK_EQ(z, 0);
		CHECK_EQ(ACE_SLOT_STATE(ace_mproc_at(&a, s)->state), ACE_SLOT_FREE);
		CHECK_EQ(ace_reap_begin(&a, NR + 1, &z), -ENOENT);
	}
	CHECK_EQ(ace_arena_broken(&a), 0);
	CHECK_EQ(ace_arena_broken(&b), 0);
	munmap(ma, SIZE);
	munmap(mb, SIZE);
	return ace_test_done("reap");
}
