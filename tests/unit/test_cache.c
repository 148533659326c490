// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* The private block cache: reuse without the shared free lists, overflow
 * to them, cached blocks still count as held and are reclaimed when their
 * owner closes, and drain returns everything. */
#include "ace_test.h"

#define SIZE (1u << 20)

int main(void)
{
	struct ace_arena a;
	struct ace_cache c;
	void *mem = ace_test_arena(&a, SIZE, 8);
	s64 off[ACE_CACHE_SLOTS + 4];
	u32 id, h, q, f, i;
	s64 free0 = ace_free_count(&a, 0);

	CHECK_EQ(ace_mproc_claim(&a, "cacher", 1, 0, &id), 0);
	ace_cache_init(&c, id);
	for (i = 0; i < ACE_CACHE_SLOTS + 4; i++) {
		off[i] = ace_cache_alloc(&a, &c, 64);
		CHECK(off[i] > 0);
	}
	CHECK_EQ(ace_free_count(&a, 0), free0 - (ACE_CACHE_SLOTS + 4));
	/* the first SLOTS frees stay in the cache, the rest go back */
	for (i = 0; i < ACE_CACHE_SLOTS + 4; i++)
		CHECK_EQ(ace_cache_free(&a, &c, (u32)off[i]), 0);
	CHECK_EQ(c.n[0], ACE_CACHE_SLOTS);
	CHECK_EQ(ace_free_count(&a, 0), free0 - ACE_CACHE_SLOTS);
	/* cached blocks are held by their owner, not free */
	CHECK_EQ(ace_block_census(&a, id, &h, &q, &f), 0);
	CHECK_EQ(h, ACE_CACHE_SLOTS);
	/* reuse comes from the cache (LIFO) without touching the free list */
	CHECK_EQ(ace_cache_alloc(&a, &c, 10), off[ACE_CACHE_SLOTS - 1]);
	CHECK_EQ(ace_free_count(&a, 0), free0 - ACE_CACHE_SLOTS);
	/* a double free through the cache is refused */
	CHECK_EQ(ace_cache_free(&a, &c, (u32)off[0]), -EINVAL);
	CHECK_EQ(ace_cache_free(&a, &c, (u32)off[ACE_CACHE_SLOTS - 1]), 0);
	/* drain gives everything back */
	ace_cache_drain(&a, &c);
	CHECK_EQ(ace_free_count(&a, 0), free0);
	/* a dead owner's cache is reclaimed with the rest of what it held */
	for (i = 0; i < 4; i++)
		CHECK_EQ(ace_cache_free(&a, &c, (u32)ace_cache_alloc(&a, &c, 64)), 0);
	CHECK(ace_cache_free(&a, &c, (u32)ace_alloc(&a, 64, id)) == 0);
	CHECK_EQ(ace_mproc_release(&a, id), 2);
	CHECK_EQ(ace_free_count(&a, 0), free0);
	/* a block changed under the cache breaks the arena, never crashes */
	ace_cache_init(&c, 7);
	off[0] = ace_cache_alloc(&a, &c, 64);
	CHECK_EQ(ace_cache_free(&a, &c, (u32)off[0]), 0);
	ace_msg(&a, (u32)off[0])->flags = ACE_MSG_FREE;
	CHECK_EQ(ace_cache_alloc(&a, &c, 64), -EIO);
	CHECK(ace_arena_broken(&a));
	munmap(mem, SIZE);
	return ace_test_done("cache");
}
