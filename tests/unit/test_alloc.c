// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Blocks: alloc/free/exhaustion of each class, fallback to a larger class,
 * refused sizes, double free, and every block back at the end. */
#include "ace_test.h"

#define SIZE (4u << 20)

static unsigned long long free_total(struct ace_arena *a)
{
	unsigned long long n = 0;
	unsigned c;

	for (c = 0; c < a->nr_classes; c++)
		n += (unsigned long long)ace_free_count(a, c);
	return n;
}

int main(void)
{
	struct ace_arena a;
	void *mem = ace_test_arena(&a, SIZE, 8);
	unsigned c, i, total = a.total_blocks;
	s64 *held = calloc(total, sizeof(*held));
	unsigned nheld = 0;

	CHECK_EQ(free_total(&a), total);
	for (c = 0; c < a.nr_classes; c++) {
		unsigned nr = a.cls[c].nr, want = a.cls[c].payload_max;
		unsigned start = nheld;

		/* exhaust class c and everything above it, exactly */
		for (i = 0; i < nr; i++) {
			s64 off = ace_alloc(&a, want, ACE_ID(0, 1));

			CHECK(off > 0);
			if (off <= 0)
				break;
			CHECK_EQ(ace_block_class(&a, (u32)off), c);
			CHECK_EQ(ace_msg(&a, (u32)off)->flags, ACE_MSG_ALLOC);
			CHECK_EQ(ace_msg(&a, (u32)off)->owner, ACE_ID(0, 1));
			CHECK_EQ(ace_block_capacity(&a, (u32)off), want);
			/* the payload is ours to write, all of it */
			memset(ace_payload(&a, (u32)off), 0xa5, want);
			held[nheld++] = off;
		}
		CHECK_EQ(ace_free_count(&a, c), 0);
		/* a class that is empty falls back to a larger one */
		if (c + 1 < a.nr_classes && a.cls[c + 1].nr) {
			s64 off = ace_alloc(&a, want, 1);

			CHECK(off > 0);
			CHECK_EQ(ace_block_class(&a, (u32)off), c + 1);
			CHECK_EQ(ace_free(&a, (u32)off), 0);
		}
		(void)start;
	}
	/* everything is taken: -ENOBUFS, and the arena stays healthy */
	CHECK_EQ(ace_alloc(&a, 1, 1), -ENOBUFS);
	CHECK_EQ(ace_arena_broken(&a), 0);
	CHECK_EQ(free_total(&a), 0);
	/* too large for any class */
	CHECK_EQ(ace_alloc(&a, a.cls[a.nr_classes - 1].payload_max + 1, 1),
		 -EINVAL);
	/* free everything; a double free is refused and changes nothing */
	for (i = 0; i < nheld; i++)
		CHECK_EQ(ace_free(&a, (u32)held[i]), 0);
	CHECK_EQ(ace_free(&a, (u32)held[0]), -EINVAL);
	CHECK_EQ(free_total(&a), total);
	/* not a block: refused */
	CHECK_EQ(ace_free(&a, 0), -EINVAL);
	CHECK_EQ(ace_free(&a, ace_handle(&a, 0, 0) + 8), -EINVAL);
	CHECK_EQ(ace_free(&a, ace_handle(&a, 0, 0) + 1), -EINVAL);	/* class bits lie */
	CHECK_EQ(ace_free(&a, ace_handle(&a, 0, a.cls[0].nr)), -EINVAL);
	CHECK_EQ(ace_free(&a, ace_handle(&a, 1, 0) - 32), -EINVAL);
	CHECK_EQ(ace_free(&a, SIZE + 4096), -EINVAL);
	/* LIFO reuse: the block just freed is the next one handed out */
	{
		s64 x = ace_alloc(&a, 10, 1);

		CHECK(x > 0);
		CHECK_EQ(ace_free(&a, (u32)x), 0);
		CHECK_EQ(ace_alloc(&a, 10, 1), x);
		CHECK_EQ(ace_free(&a, (u32)x), 0);
	}
	/* census agrees with the free lists */
	{
		u32 h, q, f;

		CHECK_EQ(ace_block_census(&a, 0, &h, &q, &f), 0);
		CHECK_EQ(h, 0);
		CHECK_EQ(q, 0);
		CHECK_EQ(f, total);
	}
	CHECK_EQ(ace_arena_broken(&a), 0);
	free(held);
	munmap(mem, SIZE);
	return ace_test_done("alloc");
}
