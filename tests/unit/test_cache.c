// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* The private block cache: refills and returns in chains, keeps every
 * block accounted for (free + cached + held = total), reuses LIFO, refuses
 * double frees, never hoards a small class, is reclaimed with its owner,
 * and breaks the arena (never crashes) when a cached block is scribbled. */
#include "ace_test.h"

#define SIZE (16u << 20)

static struct ace_arena a;
static struct ace_cache c;
static u32 id;

static s64 free0(void)
{
	return ace_free_count(&a, 0);
}

int main(void)
{
	void *mem = ace_test_arena(&a, SIZE, 8);
	s64 start = free0(), off[64], x;
	u32 cap, i, h, q, f, m;

	cap = a.cls[0].nr / 64 < ACE_CACHE_SLOTS ? a.cls[0].nr / 64 : ACE_CACHE_SLOTS;
	CHECK_EQ(cap, ACE_CACHE_SLOTS);
	CHECK_EQ(ace_mproc_claim(&a, "cacher", 1, 0, &id), 0);
	ace_cache_init(&c, id);
	m = cap + 4;
	for (i = 0; i < m; i++) {
		off[i] = ace_cache_alloc(&a, &c, 64);
		CHECK(off[i] > 0);
		CHECK_EQ(ace_block_class(&a, (u32)off[i]), 0);
	}
	/* refills came in chains of cap/2: what is not handed out is cached */
	CHECK(c.n[0] < cap / 2);
	CHECK_EQ(free0() + c.n[0] + m, start);
	for (i = 0; i < m; i++)
		CHECK_EQ(ace_cache_free(&a, &c, (u32)off[i]), 0);
	CHECK(c.n[0] <= cap);
	CHECK_EQ(free0() + c.n[0], start);
	/* cached blocks are held by the owner, not free */
	CHECK_EQ(ace_block_census(&a, id, &h, &q, &f), 0);
	CHECK_EQ(h, c.n[0]);
	/* LIFO reuse from the cache, no shared free-list traffic */
	x = free0();
	CHECK_EQ(ace_cache_alloc(&a, &c, 10), off[m - 1]);
	CHECK_EQ(free0(), x);
	/* double frees are refused: into the cache, and of a free block */
	CHECK_EQ(ace_cache_free(&a, &c, (u32)off[m - 1]), 0);
	CHECK_EQ(ace_cache_free(&a, &c, (u32)off[m - 1]), -EINVAL);
	for (i = 0; i < m && ace_read_once(&ace_msg(&a, (u32)off[i])->flags) != ACE_MSG_FREE; i++)
		;
	CHECK(i < m);
	if (i < m)
		CHECK_EQ(ace_cache_free(&a, &c, (u32)off[i]), -EINVAL);
	/* drain gives everything back */
	ace_cache_drain(&a, &c);
	CHECK_EQ(c.n[0], 0);
	CHECK_EQ(free0(), start);
	/* a class too small to cache (a few blocks of 1 MiB) is never hoarded */
	m = a.nr_classes - 1;
	CHECK(a.cls[m].nr < 128);
	x = ace_cache_alloc(&a, &c, 1u << 20);
	CHECK(x > 0);
	CHECK_EQ(ace_block_class(&a, (u32)x), m);
	CHECK_EQ(ace_cache_free(&a, &c, (u32)x), 0);
	CHECK_EQ(c.n[m], 0);
	CHECK_EQ(ace_free_count(&a, m), a.cls[m].nr);
	/* a dead owner's cache is reclaimed with the rest of what it held */
	for (i = 0; i < 8; i++)
		CHECK_EQ(ace_cache_free(&a, &c, (u32)ace_cache_alloc(&a, &c, 64)), 0);
	CHECK(ace_alloc(&a, 64, id) > 0);		/* held, not cached */
	x = c.n[0];
	CHECK(ace_mproc_release(&a, id) == x + 1);
	CHECK_EQ(free0(), start);
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
