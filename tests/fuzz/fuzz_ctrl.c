// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libFuzzer target: the device's control-command parser and its peer
 * stream framer (host-qemu-device/hw/virtio/virtio-ace-ctrl.c, built with
 * -DVIRTIO_ACE_CTRL_STANDALONE), the same source the QEMU device compiles,
 * against a fake guest-RAM layout.
 *
 * Input: u8 layout; u8 arena_max choice; u8 mode; then
 *   mode even: the command bytes, as the guest would queue them;
 *   mode odd:  a peer's byte stream, fed in pieces of 1..64 bytes (the
 *              piece sizes come from the mode byte's upper bits).
 *
 * Oracles, beyond ASan/UBSan: an accepted ATTACH has regions that are
 * aligned, at most 4 MiB, inside one RAM range of the layout at the fd
 * offset the layout gives, pairwise disjoint in guest RAM and in the fd,
 * tiling [0, arena_size), with arena_size within bounds; and the parser
 * accepts exactly what an independent reference check accepts.  The
 * framer must find the same messages, and the same violation, as a
 * reference that frames the whole stream at once, however it is split.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../host-qemu-device/hw/virtio/virtio-ace-ctrl.h"

#define check(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_ctrl: %s:%d: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* ---- fake guest RAM: what memory_region_find would say ---- */

struct ram {
	u64 gpa, len, fd;
};

struct layout {
	const char *name;
	int n;
	struct ram r[3];
};

static const struct layout layouts[] = {
	/* q35 with 512 MiB: legacy VGA/BIOS hole below 1 MiB */
	{ "q35-512M", 2, { { 0, 0xa0000, 0 },
			   { 0x100000, 0x1ff00000, 0x100000 } } },
	/* RAM split around the 32-bit PCI hole */
	{ "split-4G", 2, { { 0, 0x80000000ull, 0 },
			   { 0x100000000ull, 0x80000000ull, 0x80000000ull } } },
	/* two guest ranges aliasing one piece of the fd */
	{ "alias", 2, { { 0, 0x10000000, 0 },
			{ 0x40000000, 0x10000000, 0 } } },
	/* RAM whose fd offsets are not page-aligned */
	{ "odd-fd", 1, { { 0, 0x10000000, 0x800 } } },
	/* near the top of the 64-bit space */
	{ "high", 2, { { 0x1000, 0x1000000, 0 },
		       { 0xffffffffff000000ull, 0xfff000, 0x1000000 } } },
	/* nothing is shared RAM */
	{ "none", 0, { { 0, 0, 0 } } },
};
#define NR_LAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

static const struct layout *L;

/* The range that holds [gpa, gpa + len) whole, or NULL. */
static const struct ram *ram_of(const struct layout *l, u64 gpa, u64 len)
{
	int i;

	for (i = 0; i < l->n; i++) {
		const struct ram *r = &l->r[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->len &&
		    len <= r->len - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

static bool lookup(void *opaque, u64 gpa, u64 len, u64 *fd_off)
{
	const struct ram *r = ram_of(opaque, gpa, len);

	if (!r)
		return false;
	*fd_off = r->fd + (gpa - r->gpa);
	return true;
}

static const u32 arena_maxes[] = {
	64u << 20, 16u << 20, ACE_MIN_ARENA, ACE_MAX_ARENA, 0xffffffffu, 0,
};

/* ---- the reference: what a correct parser accepts ---- */

struct span {
	u64 start, len;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* 1 if no two spans overlap (sorted sweep, unlike the parser's pairs) */
static int disjoint(struct span *s, u32 n)
{
	u32 i;

	qsort(s, n, sizeof(*s), cmp_span);
	for (i = 1; i < n; i++)
		if (s[i].start < s[i - 1].start + s[i - 1].len)
			return 0;
	return 1;
}

static int ref_accepts(const u8 *buf, size_t len, u32 arena_max)
{
	static struct span g[ACE_MAX_CHUNKS], f[ACE_MAX_CHUNKS];
	struct ace_ctrl_cmd h;
	u64 sum = 0;
	u32 i, max = arena_max > ACE_MAX_ARENA ? ACE_MAX_ARENA : arena_max;

	if (len < sizeof(h) || len > VIRTIO_ACE_CTRL_MAX)
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.cmd == ACE_CTRL_DETACH || h.cmd == ACE_CTRL_RESET)
		return 1;
	if (h.cmd != ACE_CTRL_ATTACH || h.nr_chunks < 1 ||
	    h.nr_chunks > ACE_MAX_CHUNKS ||
	    len < sizeof(h) + h.nr_chunks * sizeof(struct ace_chunk))
		return 0;
	if (h.arena_size < ACE_MIN_ARENA || h.arena_size > max ||
	    h.arena_size % 4096)
		return 0;
	for (i = 0; i < h.nr_chunks; i++) {
		struct ace_chunk c;
		const struct ram *r;

		memcpy(&c, buf + sizeof(h) + i * sizeof(c), sizeof(c));
		if (c.gpa % 4096 || !c.len || c.len % 4096 || c.len > ACE_MAX_CHUNK)
			return 0;
		r = ram_of(L, c.gpa, c.len);
		if (!r || (r->fd + (c.gpa - r->gpa)) % 4096)
			return 0;
		g[i] = (struct span){ c.gpa, c.len };
		f[i] = (struct span){ r->fd + (c.gpa - r->gpa), c.len };
		sum += c.len;
	}
	return sum == h.arena_size && disjoint(g, h.nr_chunks) &&
	       disjoint(f, h.nr_chunks);
}

/* ---- the invariants of an accepted command ---- */

static void check_accepted(const u8 *buf, const VirtIOAceCtrl *c,
			   u32 arena_max)
{
	static struct span g[ACE_MAX_CHUNKS], f[ACE_MAX_CHUNKS];
	struct ace_ctrl_cmd h;
	u64 next = 0;
	u32 i;

	memcpy(&h, buf, sizeof(h));
	check(c->cmd == h.cmd);
	if (c->cmd != ACE_CTRL_ATTACH)
		return;
	check(c->arena_size == h.arena_size && c->generation == h.generation);
	check(c->arena_size >= ACE_MIN_ARENA && c->arena_size <= ACE_MAX_ARENA);
	check(c->arena_size <= arena_max && c->arena_size % 4096 == 0);
	check(c->nr_regions == h.nr_chunks);
	check(c->nr_regions >= 1 && c->nr_regions <= ACE_MAX_CHUNKS);
	for (i = 0; i < c->nr_regions; i++) {
		const VirtIOAceRegion *r = &c->regions[i];
		const struct ram *m = ram_of(L, r->gpa, r->len);
		struct ace_chunk raw;

		memcpy(&raw, buf + sizeof(h) + i * sizeof(raw), sizeof(raw));
		check(r->gpa == raw.gpa && r->len == raw.len);
		check(r->len && r->len % 4096 == 0 && r->len <= ACE_MAX_CHUNK);
		check(r->gpa % 4096 == 0 && r->fd_off % 4096 == 0);
		check(r->arena_off == next);
		check(m && r->fd_off == m->fd + (r->gpa - m->gpa));
		g[i] = (struct span){ r->gpa, r->len };
		f[i] = (struct span){ r->fd_off, r->len };
		next += r->len;
	}
	check(next == c->arena_size);
	check(disjoint(g, c->nr_regions) && disjoint(f, c->nr_regions));
}

static void fuzz_cmd(const u8 *buf, size_t len, u32 arena_max)
{
	static VirtIOAceCtrl c, again;
	u32 st, st2, detail, detail2;

	st = virtio_ace_ctrl_parse(buf, len, arena_max, lookup, (void *)L, &c,
				   &detail);
	check(st == 0 || st == EINVAL || st == E2BIG);
	check((st == 0) == ref_accepts(buf, len, arena_max));
	if (st) {
		check(c.why && c.why[0]);
	} else {
		check(!c.why);
		check_accepted(buf, &c, arena_max > ACE_MAX_ARENA ?
			       ACE_MAX_ARENA : arena_max);
	}
	/* a pure function: the same answer twice */
	st2 = virtio_ace_ctrl_parse(buf, len, arena_max, lookup, (void *)L,
				    &again, &detail2);
	check(st2 == st && detail2 == detail && again.nr_regions == c.nr_regions);
}

/* ---- peer streams ---- */

#define MAX_MSGS 64

struct seen {
	int n, violation;
	struct ace_peer_broken b[MAX_MSGS];
};

/* Frame the whole stream at once. */
static void ref_frame(const u8 *s, size_t n, struct seen *out)
{
	const size_t hl = sizeof(struct ace_peer_msg);
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	while (n - pos >= hl && out->n < MAX_MSGS) {
		struct ace_peer_msg h;

		memcpy(&h, s + pos, hl);
		if (h.magic != ACE_PEER_MAGIC) {
			out->violation = 1;
			return;
		}
		if (h.type == ACE_PEER_BROKEN) {
			if (h.len != sizeof(struct ace_peer_broken)) {
				out->violation = 1;
				return;
			}
			if (n - pos - hl < h.len)
				return;
			memcpy(&out->b[out->n++], s + pos + hl, h.len);
		} else if (h.len > VIRTIO_ACE_PEER_SKIP_MAX) {
			out->violation = 1;
			return;
		} else if (n - pos - hl < h.len) {
			return;
		}
		pos += hl + h.len;
	}
}

static void fuzz_stream(const u8 *s, size_t n, u8 split)
{
	static VirtIOAcePeerIn in;
	static struct seen want;
	VirtIOAcePeerMsg m;
	size_t pos = 0, piece = 1 + (split % 64);
	int got = 0, violation = 0, i;

	memset(&in, 0, sizeof(in));
	ref_frame(s, n, &want);
	while (pos < n && got < want.n) {
		size_t k = n - pos < piece ? n - pos : piece;
		int r = virtio_ace_peer_in(&in, s + pos, k, &m);

		if (r < 0) {
			violation = 1;
			break;
		}
		check((size_t)r <= k);
		check(r > 0 || m.type);
		pos += (size_t)r;
		if (!m.type)
			continue;
		check(m.type == ACE_PEER_BROKEN);
		/* the kept reason is terminated and printable */
		check(memchr(m.broken.why, 0, ACE_WHY_MAX));
		for (i = 0; m.broken.why[i]; i++)
			check(m.broken.why[i] >= 0x20 && m.broken.why[i] <= 0x7e);
		check(m.broken.generation == want.b[got].generation);
		check(m.broken.value == want.b[got].value);
		check(m.broken.peer == want.b[got].peer);
		got++;
	}
	check(got == want.n);
	/* what is left must raise the same violation as the reference */
	while (!violation && pos < n) {
		int r = virtio_ace_peer_in(&in, s + pos, n - pos, &m);

		if (r < 0) {
			violation = 1;
			break;
		}
		check(!m.type || got < MAX_MSGS);
		pos += (size_t)r;
		if (m.type)
			got++;
		else
			break;
	}
	if (want.n < MAX_MSGS)
		check(violation == want.violation);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	L = &layouts[data[0] % NR_LAYOUTS];
	if (data[2] & 1)
		fuzz_stream(data + 3, size - 3, data[2] >> 1);
	else
		fuzz_cmd(data + 3, size - 3,
			 arena_maxes[data[1] % (sizeof(arena_maxes) / sizeof(u32))]);
	return 0;
}
