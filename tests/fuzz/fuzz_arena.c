// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * libFuzzer target: the arena validator and every core operation on an
 * arena the fuzzer controls.
 *
 * Input: the first bytes overwrite a freshly formatted 64 KiB arena at
 * fuzzer-chosen places (header, table, blocks), then the rest is a script
 * of operations.  Whatever the bytes, the core must not read or write
 * outside the arena (ASan), hit undefined behaviour (UBSan), or loop
 * without bound (libFuzzer's -timeout).
 *
 * Input layout: u8 npatch; npatch * {u16 offset, u32 value}; ops...
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../shared/ace_core.h"

#define SIZE (64u << 10)

static unsigned char *arena;
static unsigned char pristine[SIZE];

static void setup(void)
{
	struct ace_geometry g;
	struct ace_arena a;

	arena = aligned_alloc(4096, SIZE);
	ace_geometry_default(SIZE, 8, &g);
	ace_arena_init(&a, pristine, SIZE, &g, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ace_arena a;
	struct ace_rx rx;
	struct ace_msg_desc d;
	struct ace_cache cache;
	size_t pos = 1;
	u32 ids[4] = { 0 }, i, npatch;

	if (!arena)
		setup();
	memcpy(arena, pristine, SIZE);
	if (size < 1)
		return 0;
	npatch = data[0];
	for (i = 0; i < npatch && pos + 6 <= size; i++, pos += 6) {
		u16 off;
		u32 val;

		memcpy(&off, data + pos, 2);
		memcpy(&val, data + pos + 2, 4);
		memcpy(arena + (off & ~3u) % SIZE, &val, 4);
	}
	if (ace_arena_attach(&a, arena, SIZE))
		return 0;
	/* claim a couple of mprocs so sends have somewhere to go */
	ace_mproc_claim(&a, "f0", 1, 0, &ids[0]);
	ace_mproc_claim(&a, "f1", 3, 0, &ids[1]);
	ace_rx_init(&rx, ids[0]);
	ace_cache_init(&cache, ids[0]);
	for (; pos + 3 <= size; pos += 3) {
		u32 op = data[pos] % 16, x = data[pos + 1] | data[pos + 2] << 8;
		s64 off;

		switch (op) {
		case 0:
			off = ace_alloc(&a, x, ids[x & 1]);
			if (off > 0)
				ids[2] = (u32)off;
			break;
		case 1: ace_free(&a, ids[2] + (x & 0x3f)); break;
		case 2: ace_send(&a, ids[1], ids[x & 1], ids[2], x & 0xff); break;
		case 3:
			(void)ace_spin_mail(&a, &rx, 1 + (x & 1));
			if (ace_recv(&a, &rx, &d) == 1)
				ace_free(&a, d.off);
			break;
		case 4: ace_arm(&a, &rx); break;
		case 5: ace_disarm(&a, &rx); break;
		case 6: ace_section_begin(&a, &rx); break;
		case 7: ace_section_end(&a, &rx); break;
		case 8: ace_mproc_release(&a, ids[x & 1]); break;
		case 9: ace_mproc_lookup(&a, (x & 1) ? "f1" : "f0", &ids[3]); break;
		case 10: ace_force(&a, x % 16, x >> 4); break;
		case 11: ace_delivery(&a, x % 16, NULL); break;
		case 14:
			off = ace_cache_alloc(&a, &cache, x);
			if (off > 0)
				ids[2] = (u32)off;
			break;
		case 15:
			if (x & 1)
				ace_cache_free(&a, &cache, ids[2] + (x & 0x3e));
			else
				ace_cache_drain(&a, &cache);
			break;
		case 12: {
			u32 h, q, f;

			ace_block_census(&a, 0, &h, &q, &f);
			ace_free_count(&a, x % 4);
			break;
		}
		default:
			/* a peer writes while we work: the double-fetch case */
			memcpy(arena + ((x * 4u) % SIZE), &x, 2);
			break;
		}
	}
	return 0;
}
