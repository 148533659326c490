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

/* Bytes before the first class: header, mproc table, pending bitmap. */
static u64 meta_size(u32 nr_mprocs)
{
	u64 end = ACE_HDR_SIZE + (u64)nr_mprocs * sizeof(struct ace_mproc) +
		  (u64)pending_words(nr_mprocs) * 8;

	return round_up64(end, ACE_PAGE);
}

int ace_geometry_default(u32 size, u32 nr_mprocs, struct ace_geometry *g)
{
	static const u32 shift[ACE_MAX_CLASSES] = { 8, 12, 16, 21 };
	u64 used, quarter = size / 4;
	int c;

	if (size < ACE_MIN_ARENA || size > ACE_MAX_ARENA ||
	    nr_mprocs == 0 || nr_mprocs > ACE_MAX_MPROCS)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->nr_mprocs = nr_mprocs;
	g->nr_classes = ACE_MAX_CLASSES;
	/* Each larger class gets a quarter of the arena; class 0 (small
	 * messages) gets what the metadata and page rounding leave. */
	used = meta_size(nr_mprocs);
	for (c = ACE_MAX_CLASSES - 1; c >= 1; c--) {
		g->block_size[c] = 1u << shift[c];
		g->nr_blocks[c] = (u32)(quarter >> shift[c]);
		used += round_up64((u64)g->nr_blocks[c] << shift[c], ACE_PAGE);
	}
	g->block_size[0] = 1u << shift[0];
	if (used >= size)
		return -EINVAL;
	g->nr_blocks[0] = (u32)((size - used) >> shift[0]);
	return g->nr_blocks[0] ? 0 : -EINVAL;
}

int ace_arena_break(struct ace_arena *a, const char *why, u32 value)
{
	if (!a->broken) {
		a->why = why;
		a->why_value = value;
		/* Release so another thread that sees broken sees why too. */
		ace_store(&a->broken, 1, ACE_RELEASE);
	}
	return -EIO;
}

int ace_block_class(const struct ace_arena *a, u32 off)
{
	u32 c;

	for (c = 0; c < a->nr_classes; c++) {
		const struct ace_class *k = &a->cls[c];

		if (off >= k->base && off < k->end)
			return ((off - k->base) & ((1u << k->shift) - 1)) ?
			       -1 : (int)c;
	}
	return -1;
}

static int is_pow2(u32 v)
{
	return v && !(v & (v - 1));
}

static u32 log2_u32(u32 v)
{
	return 31 - (u32)__builtin_clz(v);
}

/* Check the class descriptors copied from the header; fill a->cls. */
static int attach_classes(struct ace_arena *a, const struct ace_class_desc *d,
			  u64 first_free)
{
	u64 prev_end = first_free, total = 0;
	u32 c, prev_size = 0;

	for (c = 0; c < a->nr_classes; c++) {
		u32 bs = ace_read_once(&d[c].block_size);
		u32 nr = ace_read_once(&d[c].nr_blocks);
		u32 base = ace_read_once(&d[c].base);
		u64 end = (u64)base + (u64)nr * bs;

		if (!is_pow2(bs) || log2_u32(bs) < ACE_MIN_BLOCK_SHIFT ||
		    log2_u32(bs) > ACE_MAX_BLOCK_SHIFT)
			return ace_arena_break(a, "class block size is not a power of two in 64 B..4 MiB", bs);
		if (bs <= prev_size)
			return ace_arena_break(a, "class block sizes are not ascending", bs);
		if (base % ACE_PAGE || base < prev_end)
			return ace_arena_break(a, "class base misaligned or overlapping", base);
		if (end > a->size)
			return ace_arena_break(a, "class extends past the arena", base);
		total += nr;
		a->cls[c].base = base;
		a->cls[c].end = (u32)end;
		a->cls[c].nr = nr;
		a->cls[c].shift = log2_u32(bs);
		a->cls[c].payload_max = bs - ACE_MSG_HDR;
		prev_end = end;
		prev_size = bs;
	}
	if (total == 0 || total > (1u << 24))
		return ace_arena_break(a, "block count is 0 or above 2^24", (u32)total);
	a->total_blocks = (u32)total;
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
	return attach_classes(a, h->classes,
			      (u64)poff + (u64)a->nr_pending_words * 8);
}

/* Link every block of class c into its free list, in address order. */
static void init_class(struct ace_arena *a, u32 c)
{
	const struct ace_class *k = &a->cls[c];
	u32 i, bs = 1u << k->shift;

	for (i = 0; i < k->nr; i++) {
		struct ace_msg *m = ace_msg(a, k->base + i * bs);

		memset(m, 0, sizeof(*m));
		m->next = (i + 1 < k->nr) ? k->base + (i + 1) * bs : 0;
		m->flags = ACE_MSG_FREE;
	}
	ace_hdr(a)->free[c].head = k->nr ? k->base : 0;
}

int ace_arena_init(struct ace_arena *a, void *mem, u32 size,
		   const struct ace_geometry *g, u64 generation)
{
	struct ace_arena_hdr *h = mem;
	u64 pos;
	u32 c, s;
	int ret;

	memset(a, 0, sizeof(*a));
	if (!g || g->nr_mprocs == 0 || g->nr_mprocs > ACE_MAX_MPROCS ||
	    g->nr_classes == 0 || g->nr_classes > ACE_MAX_CLASSES ||
	    size < ACE_MIN_ARENA || size > ACE_MAX_ARENA || size % ACE_PAGE)
		return -EINVAL;
	pos = meta_size(g->nr_mprocs);
	if (pos > size)
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
