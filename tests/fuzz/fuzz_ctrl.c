// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libFuzzer target: the device's control-command parser and its peer
 * stream framer (host-qemu-device/hw/virtio/virtio-ace-ctrl.c, built with
 * -DVIRTIO_ACE_CTRL_STANDALONE), the same source the QEMU device compiles.
 *
 * Input: u8 (unused); u8 arena_max choice; u8 mode; then
 *   mode even: the command bytes, as the guest would queue them;
 *   mode odd:  a peer's byte stream, fed in pieces of 1..64 bytes (the
 *              piece sizes come from the mode byte's upper bits).
 *
 * Oracles, beyond ASan/UBSan: an accepted ATTACH has an arena_size within
 * the region and aligned, and the parser accepts exactly what an
 * independent reference check accepts.  The
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

static const u32 arena_maxes[] = {
	64u << 20, 16u << 20, ACE_MIN_ARENA, ACE_MAX_ARENA, 0xffffffffu, 0,
};

/* ---- the reference: what a correct parser accepts ---- */

static int ref_accepts(const u8 *buf, size_t len, u32 arena_max)
{
	struct ace_ctrl_cmd h;
	u32 max = arena_max > ACE_MAX_ARENA ? ACE_MAX_ARENA : arena_max;

	if (len != sizeof(h))
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.reserved0 != 0 || h.reserved1 != 0)
		return 0;
	if (h.cmd == ACE_CTRL_DETACH || h.cmd == ACE_CTRL_RESET)
		return 1;
	return h.cmd == ACE_CTRL_ATTACH && h.arena_size >= ACE_MIN_ARENA &&
	       h.arena_size <= max && h.arena_size % 4096 == 0;
}

/* ---- the invariants of an accepted command ---- */

static void check_accepted(const u8 *buf, const VirtIOAceCtrl *c,
			   u32 arena_max)
{
	struct ace_ctrl_cmd h;

	memcpy(&h, buf, sizeof(h));
	check(c->cmd == h.cmd);
	if (c->cmd != ACE_CTRL_ATTACH)
		return;
	check(c->arena_size == h.arena_size && c->generation == h.generation);
	check(c->arena_size >= ACE_MIN_ARENA && c->arena_size <= ACE_MAX_ARENA);
	check(c->arena_size <= arena_max && c->arena_size % 4096 == 0);
}

static void fuzz_cmd(const u8 *buf, size_t len, u32 arena_max)
{
	static VirtIOAceCtrl c, again;
	u32 st, st2, detail, detail2;

	st = virtio_ace_ctrl_parse(buf, len, arena_max, &c, &detail);
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
	st2 = virtio_ace_ctrl_parse(buf, len, arena_max, &again, &detail2);
	check(st2 == st && detail2 == detail &&
	      again.arena_size == c.arena_size);
}

/* ---- peer streams ---- */

#define MAX_MSGS 64

struct seen {
	int n, violation;
	u32 type[MAX_MSGS];
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
			out->type[out->n] = ACE_PEER_BROKEN;
			memcpy(&out->b[out->n++], s + pos + hl, h.len);
		} else if (h.type == ACE_PEER_DETACHED || h.type == ACE_PEER_BELL_REQ) {
			if (h.len) {
				out->violation = 1;
				return;
			}
			out->type[out->n++] = h.type;
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
		check(m.type == want.type[got]);
		if (m.type == ACE_PEER_DETACHED || m.type == ACE_PEER_BELL_REQ) {
			got++;
			continue;
		}
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
	/* what is left must raise the same violation as the reference,
	 * which stops after MAX_MSGS messages: past those there is nothing
	 * to compare (an input of more, seen: 2132 bytes) */
	while (!violation && pos < n && want.n < MAX_MSGS) {
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
	if (data[2] & 1)
		fuzz_stream(data + 3, size - 3, data[2] >> 1);
	else
		fuzz_cmd(data + 3, size - 3,
			 arena_maxes[data[1] % (sizeof(arena_maxes) / sizeof(u32))]);
	return 0;
}
