// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_arena.c - formatting, attaching and validating an arena.
 *
 * ace_arena_init() writes a header and then attaches through the same
 * validator a peer uses, so one piece of code decides what a good header
 * is.  After attach the geometry lives in struct ace_arena only; the
 * shared header is never read again.
 */
#include "ace_core.h"

#define ACE_PAGE	4096u

static u64 round_up64(u64 v, u64 a)
{
	return (v + a - 1) & ~(a - 1);
}

static u32 pending_words(u32 nr_mprocs)
{
	return (nr_mprocs + 63) / 64;
}

/* End of the metadata before the descriptors: header, mproc table,
 * pending bitmap; 64-byte aligned. */
static u64 meta_end(u32 nr_mprocs)
{
	u64 end = ACE_HDR_SIZE + (u64)nr_mprocs * sizeof(struct ace_mproc) +
		  (u64)pending_words(nr_mprocs) * 8;

	return round_up64(end, 64);
}

/*
 * Every power of four from 64 B to 1 MiB, so any payload takes at most
 * 4x its size and a power-of-four one (64 B, 4 KiB, 64 KiB, ...) exactly
 * its size.  Shares of the arena, in 64ths: a quarter to 1 MiB blocks, an
 * eighth to each class from 4 KiB to 256 KiB, a sixteenth to 256 B and
 * 1 KiB, and what is left to 64 B blocks and the descriptors.
 */
int ace_geometry_default(u32 size, u32 nr_mprocs, struct ace_geometry *g)
{
	static const u8 shift[ACE_MAX_CLASSES] = { 6, 8, 10, 12, 14, 16, 18, 20 };
	static const u8 share[ACE_MAX_CLASSES] = { 0, 4, 4, 8, 8, 8, 8, 16 };
	u64 used, descs = 0, left;
	int c;

	if (size < ACE_MIN_ARENA || size > ACE_MAX_ARENA ||
	    nr_mprocs == 0 || nr_mprocs > ACE_MAX_MPROCS)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->nr_mprocs = nr_mprocs;
	g->nr_classes = ACE_MAX_CLASSES;
	used = meta_end(nr_mprocs) + ACE_PAGE;	/* + the descriptors' rounding */
	for (c = ACE_MAX_CLASSES - 1; c >= 1; c--) {
		g->block_size[c] = 1u << shift[c];
		g->nr_blocks[c] = (u32)(((u64)size * share[c] / 64) >> shift[c]);
		used += round_up64((u64)g->nr_blocks[c] << shift[c], ACE_PAGE);
		descs += g->nr_blocks[c];
	}
	g->block_size[0] = 1u << shift[0];
	used += descs * ACE_MSG_SIZE + ACE_PAGE;	/* + class 0's rounding */
	if (used >= size)
		return -EINVAL;
	left = size - used;
	/* each class-0 block costs its payload and its descriptor */
	g->nr_blocks[0] = (u32)(left / ((1u << shift[0]) + ACE_MSG_SIZE));
	return g->nr_blocks[0] ? 0 : -EINVAL;
}

int ace_arena_break(struct ace_arena *a, const char *why, u32 value)
{
	if (!ace_read_once(&a->broken)) {
		a->why = why;
		a->why_value = value;
		/* Release so another thread that sees broken sees why too. */
		ace_store(&a->broken, 1, ACE_RELEASE);
	}
	return -EIO;
}

static int is_pow2(u32 v)
{
	return v && !(v & (v - 1));
}

static u32 log2_u32(u32 v)
{
	return 31 - (u32)__builtin_clz(v);
}

/* Check the class descriptors and the descriptor table placement read
 * from the header; fill a->cls.  Every header word is read once. */
static int attach_classes(struct ace_arena *a, const struct ace_arena_hdr *h,
			  u64 first_free)
{
	u32 bs[ACE_MAX_CLASSES], nr[ACE_MAX_CLASSES], base[ACE_MAX_CLASSES];
	u64 prev_end, total = 0;
	u32 c, l, prev_size = 0, moff;

	moff = ace_read_once(&h->msg_off);
	if (moff % 64 || moff < first_free)
		return ace_arena_break(a, "descriptor table misplaced", moff);
	for (c = 0; c < a->nr_classes; c++) {
		bs[c] = ace_read_once(&h->classes[c].block_size);
		nr[c] = ace_read_once(&h->classes[c].nr_blocks);
		base[c] = ace_read_once(&h->classes[c].base);
		if (nr[c] > (1u << 24))
			return ace_arena_break(a, "block count is 0 or above 2^24", nr[c]);
		total += nr[c];
	}
	if (total == 0 || total > (1u << 24))
		return ace_arena_break(a, "block count is 0 or above 2^24", (u32)total);
	prev_end = (u64)moff + total * ACE_MSG_SIZE;
	if (prev_end > a->size)
		return ace_arena_break(a, "descriptor table extends past the arena", moff);
	a->msg_off = moff;
	a->total_blocks = (u32)total;
	total = 0;
	for (c = 0; c < a->nr_classes; c++) {
		u64 end;

		if (!is_pow2(bs[c]) || log2_u32(bs[c]) < ACE_MIN_BLOCK_SHIFT ||
		    log2_u32(bs[c]) > ACE_MAX_BLOCK_SHIFT)
			return ace_arena_break(a, "class block size is not a power of two in 64 B..4 MiB", bs[c]);
		end = (u64)base[c] + ((u64)nr[c] << log2_u32(bs[c]));
		if (bs[c] <= prev_size)
			return ace_arena_break(a, "class block sizes are not ascending", bs[c]);
		if (base[c] % ACE_PAGE || base[c] < prev_end)
			return ace_arena_break(a, "class base misaligned or overlapping", base[c]);
		if (end > a->size)
			return ace_arena_break(a, "class extends past the arena", base[c]);
		a->cls[c].hbase = moff + (u32)(total << ACE_MSG_SHIFT) + c;
		a->cls[c].nr = nr[c];
		a->cls[c].shift = log2_u32(bs[c]);
		a->cls[c].data = base[c];
		a->cls[c].payload_max = bs[c];
		a->cls[c].cache_cap = nr[c] / 64 < ACE_CACHE_SLOTS ? nr[c] / 64 :
				      ACE_CACHE_SLOTS;
		if (a->cls[c].cache_cap < 2)
			a->cls[c].cache_cap = 0;
		total += nr[c];
		prev_end = end;
		prev_size = bs[c];
	}
	a->max_payload = prev_size;
	/* class_of_log[i]: the smallest class with 2^i-byte room */
	for (l = 0, c = 0; l <= 32; l++) {
		while (c < a->nr_classes && l > a->cls[c].shift)
			c++;
		a->class_of_log[l] = (u8)(c < a->nr_classes ? c : ACE_NO_CLASS);
	}
	return 0;
}

int ace_arena_attach(struct ace_arena *a, void *mem, u32 size)
{
	const struct ace_arena_hdr *h = mem;
	u32 v, nr, off, poff;

	memset(a, 0, sizeof(*a));
	a->base = mem;
	a->size = size;
	if (size < ACE_MIN_ARENA || size > ACE_MAX_ARENA || size % ACE_PAGE)
		return ace_arena_break(a, "mapping size out of range or not page-aligned", size);
	v = ace_read_once(&h->magic);
	if (v != ACE_ARENA_MAGIC)
		return ace_arena_break(a, "bad magic (not an ACE arena)", v);
	v = ace_read_once(&h->version_major);
	if (v != ACE_ABI_MAJOR)
		return ace_arena_break(a, "ABI major version mismatch", v);
	v = ace_read_once(&h->size);
	if (v != size)
		return ace_arena_break(a, "header size differs from the mapping", v);
	v = ace_read_once(&h->hdr_size);
	if (v != ACE_HDR_SIZE)
		return ace_arena_break(a, "bad header size", v);
	v = ace_read_once(&h->mproc_size);
	if (v != sizeof(struct ace_mproc))
		return ace_arena_break(a, "bad mproc entry size", v);
	nr = ace_read_once(&h->nr_mprocs);
	if (nr == 0 || nr > ACE_MAX_MPROCS)
		return ace_arena_break(a, "mproc count out of range", nr);
	off = ace_read_once(&h->mproc_off);
	if (off < ACE_HDR_SIZE || off % 64)
		return ace_arena_break(a, "mproc table misplaced", off);
	poff = ace_read_once(&h->pending_off);
	if (poff % 64 || poff < (u64)off + (u64)nr * sizeof(struct ace_mproc))
		return ace_arena_break(a, "pending bitmap misplaced", poff);
	a->nr_mprocs = nr;
	a->mproc_off = off;
	a->pending_off = poff;
	a->nr_pending_words = pending_words(nr);
	v = ace_read_once(&h->nr_classes);
	if (v == 0 || v > ACE_MAX_CLASSES)
		return ace_arena_break(a, "class count out of range", v);
	a->nr_classes = v;
	a->generation = ace_read_once(&h->generation);
	return attach_classes(a, h, (u64)poff + (u64)a->nr_pending_words * 8);
}

/* Link every block of class c into its free list, in address order. */
static void init_class(struct ace_arena *a, u32 c)
{
	const struct ace_class *k = &a->cls[c];
	u32 i;

	for (i = 0; i < k->nr; i++) {
		struct ace_msg *m = ace_msg(a, ace_handle(a, c, i));

		memset(m, 0, sizeof(*m));
		m->next = (i + 1 < k->nr) ? ace_handle(a, c, i + 1) : 0;
		m->flags = ACE_MSG_FREE;
	}
	ace_hdr(a)->free[c].head = k->nr ? k->hbase : 0;
}

int ace_arena_init(struct ace_arena *a, void *mem, u32 size,
		   const struct ace_geometry *g, u64 generation)
{
	struct ace_arena_hdr *h = mem;
	u64 pos, total = 0;
	u32 c, s;
	int ret;

	memset(a, 0, sizeof(*a));
	if (!g || g->nr_mprocs == 0 || g->nr_mprocs > ACE_MAX_MPROCS ||
	    g->nr_classes == 0 || g->nr_classes > ACE_MAX_CLASSES ||
	    size < ACE_MIN_ARENA || size > ACE_MAX_ARENA || size % ACE_PAGE)
		return -EINVAL;
	for (c = 0; c < g->nr_classes; c++)
		total += g->nr_blocks[c];
	pos = meta_end(g->nr_mprocs);
	if (total > (1u << 24) ||
	    round_up64(pos + total * ACE_MSG_SIZE, ACE_PAGE) > size)
		return -EINVAL;
	memset(mem, 0, (u32)pos);
	h->magic = ACE_ARENA_MAGIC;
	h->version_major = ACE_ABI_MAJOR;
	h->version_minor = ACE_ABI_MINOR;
	h->size = size;
	h->hdr_size = ACE_HDR_SIZE;
	h->nr_mprocs = g->nr_mprocs;
	h->mproc_off = ACE_HDR_SIZE;
	h->mproc_size = sizeof(struct ace_mproc);
	h->pending_off = ACE_HDR_SIZE + g->nr_mprocs * sizeof(struct ace_mproc);
	h->nr_classes = g->nr_classes;
	h->generation = generation;
	h->msg_off = (u32)pos;
	pos = round_up64(pos + total * ACE_MSG_SIZE, ACE_PAGE);
	for (c = 0; c < g->nr_classes; c++) {
		h->classes[c].block_size = g->block_size[c];
		h->classes[c].nr_blocks = g->nr_blocks[c];
		h->classes[c].base = (u32)pos;
		pos = round_up64(pos + (u64)g->block_size[c] * g->nr_blocks[c],
				 ACE_PAGE);
		if (pos > size)
			return -EINVAL;
	}
	ret = ace_arena_attach(a, mem, size);
	if (ret)
		return -EINVAL;	/* the request itself was bad */
	for (s = 0; s < a->nr_mprocs; s++)
		ace_mproc_at(a, s)->inbox = ACE_INBOX_CLOSED;
	for (c = 0; c < a->nr_classes; c++)
		init_class(a, c);
	/* Publish: whoever reads the header after this sees a whole arena. */
	ace_fence();
	return 0;
}
