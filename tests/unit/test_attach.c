// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Attach refuses a bad header with a clear reason, and accepts a good one
 * mapped at another address. */
#include "ace_test.h"

#define SIZE (1u << 20)

struct corruption {
	const char *what;
	unsigned off;		/* byte offset in the header */
	unsigned width;		/* 2, 4 or 8 */
	unsigned long long value;
	const char *why;	/* expected prefix of ace_arena_why() */
};

static const struct corruption cases[] = {
	{ "magic", 0x000, 4, 0x12345678, "bad magic" },
	{ "major version", 0x004, 2, ACE_ABI_MAJOR + 1, "ABI major" },
	{ "size", 0x008, 4, SIZE / 2, "header size differs" },
	{ "header size", 0x00c, 4, 8192, "bad header size" },
	{ "mproc count 0", 0x010, 4, 0, "mproc count" },
	{ "mproc count huge", 0x010, 4, 100000, "mproc count" },
	{ "mproc offset", 0x014, 4, 12, "mproc table" },
	{ "mproc size", 0x018, 4, 128, "bad mproc entry" },
	{ "pending offset", 0x01c, 4, 4096, "pending bitmap" },
	{ "class count", 0x020, 4, 9, "class count" },
	{ "descriptors misaligned", 0x030, 4, 0x8020, "descriptor table misplaced" },
	{ "descriptors over the bitmap", 0x030, 4, 0x1000, "descriptor table misplaced" },
	{ "descriptors past the end", 0x030, 4, SIZE - 64, "descriptor table extends" },
	{ "class 0 size not pow2", 0x040, 4, 300, "class block size" },
	{ "class 1 size tiny", 0x050, 4, 32, "class block size" },
	{ "class 1 not ascending", 0x050, 4, 64, "class block sizes are not" },
	{ "class 2 base misaligned", 0x068, 4, 0x20010, "class base" },
	{ "class 3 count huge", 0x074, 4, 0x1000001, "block count" },
	{ "class 7 past end", 0x0b4, 4, 3, "class extends" },
	{ "class 0 overlaps descriptors", 0x048, 4, 0x5000, "class base" },
	{ "class 0 overlaps table", 0x048, 4, 0, "class base" },
};

static void poke(void *hdr, const struct corruption *c)
{
	unsigned char *p = (unsigned char *)hdr + c->off;

	memcpy(p, &c->value, c->width);	/* little-endian host */
}

int main(void)
{
	struct ace_arena a, b;
	unsigned char saved[4096];
	unsigned i;
	int fd = ace_test_memfd(SIZE, 16, NULL);
	void *m1, *m2;

	m1 = ace_test_map(fd, SIZE, &a);
	m2 = ace_test_map(fd, SIZE, &b);
	CHECK(m1 != m2);
	CHECK_EQ(b.total_blocks, a.total_blocks);
	CHECK_EQ(b.generation, 1);
	memcpy(saved, m1, sizeof(saved));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct corruption *c = &cases[i];
		int r;

		poke(m1, c);
		r = ace_arena_attach(&b, m2, SIZE);
		CHECK_EQ(r, -EIO);
		CHECK(ace_arena_broken(&b));
		if (strncmp(ace_arena_why(&b), c->why, strlen(c->why))) {
			fprintf(stderr, "case %s: why = \"%s\", expected \"%s\"\n",
				c->what, ace_arena_why(&b), c->why);
			CHECK(0);
		}
		/* broken is sticky: every operation now fails with -EIO */
		CHECK_EQ(ace_alloc(&b, 10, 1), -EIO);
		memcpy(m1, saved, sizeof(saved));
	}
	/* wrong mapping size */
	CHECK_EQ(ace_arena_attach(&b, m2, SIZE - 4096), -EIO);
	CHECK_EQ(ace_arena_attach(&b, m2, 1000), -EIO);
	/* restored header attaches again */
	CHECK_EQ(ace_arena_attach(&b, m2, SIZE), 0);
	CHECK_EQ(ace_arena_broken(&b), 0);
	return ace_test_done("attach");
}
