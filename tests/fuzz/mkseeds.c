// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Write seed inputs for a fuzz target into a directory:
 *
 *   mkseeds arena DIR    fuzz_arena: operation scripts and header patches
 *   mkseeds ctrl DIR     fuzz_ctrl: control commands and peer streams
 *
 * tests/fuzz/seeds-ctrl holds the output of `mkseeds ctrl`.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "../../shared/ace_abi.h"

static const char *dir;

static void put(const char *name, const void *b, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n)
		perror(path);
	if (f)
		fclose(f);
}

static void arena_seeds(void)
{
	uint8_t b[256];
	size_t i;

	/* no patches, then every operation in turn */
	b[0] = 0;
	for (i = 0; i < 16 * 3; i += 3) {
		b[1 + i] = (uint8_t)(i / 3);
		b[2 + i] = 40;
		b[3 + i] = 0;
	}
	put("ops", b, 1 + 16 * 3);
	/* through the cache: alloc, send, recv, free, drain */
	b[0] = 0;
	for (i = 0; i < 60; i += 3) {
		static const uint8_t cyc[] = { 14, 2, 3, 14, 15, 15 };

		b[1 + i] = cyc[(i / 3) % 6];
		b[2 + i] = (uint8_t)(1 + (i / 3) % 2);
		b[3 + i] = 0;
	}
	put("cache", b, 61);
	/* alloc, send, recv, in a loop */
	b[0] = 0;
	for (i = 0; i < 60; i += 3) {
		b[1 + i] = (uint8_t)((i / 3) % 4);
		b[2 + i] = 1;
		b[3 + i] = 0;
	}
	put("traffic", b, 61);
	/* one patch of the magic, one of a class size */
	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 0x00; b[2] = 0x00; b[3] = 0xff;
	b[7] = 0x40; b[8] = 0x00; b[9] = 0x2c; b[10] = 0x01;
	put("patched", b, 13);
}

/* fuzz_ctrl input: (unused), arena_max choice, mode, then the payload;
 * arena_max 0 = 64 MiB. */
static uint8_t in[3 + 2 * sizeof(struct ace_ctrl_cmd) + 512];

static size_t cmd(uint32_t op, uint32_t size, uint32_t reserved)
{
	struct ace_ctrl_cmd c = {
		.cmd = op, .arena_size = size, .reserved1 = reserved,
		.generation = 0x1234,
	};

	in[0] = 0;
	in[1] = 0;
	in[2] = 0;
	memcpy(in + 3, &c, sizeof(c));
	return 3 + sizeof(c);
}

static size_t peer_msg(uint8_t *p, uint32_t magic, uint32_t type,
		       const void *body, uint32_t len)
{
	struct ace_peer_msg h = { .magic = magic, .type = type, .len = len };

	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), body, len);
	return sizeof(h) + len;
}

static void ctrl_seeds(void)
{
	struct ace_peer_broken br = { .generation = 7, .value = 0x123, .peer = 1 };
	uint8_t junk[40] = { 0 };
	size_t n;

	put("attach-16M", in, cmd(ACE_CTRL_ATTACH, 16u << 20, 0));
	put("attach-64M", in, cmd(ACE_CTRL_ATTACH, 64u << 20, 0));
	put("attach-min", in, cmd(ACE_CTRL_ATTACH, ACE_MIN_ARENA, 0));
	put("detach", in, cmd(ACE_CTRL_DETACH, 0, 0));
	put("reset", in, cmd(ACE_CTRL_RESET, 0, 0));
	put("unknown", in, cmd(9, 0, 0));
	/* refused: too large, misaligned, a reserved word set, too long */
	put("too-big", in, cmd(ACE_CTRL_ATTACH, 128u << 20, 0));
	put("odd-size", in, cmd(ACE_CTRL_ATTACH, (16u << 20) + 100, 0));
	put("reserved", in, cmd(ACE_CTRL_ATTACH, 16u << 20, 1));
	n = cmd(ACE_CTRL_ATTACH, 16u << 20, 0);
	memset(in + n, 0, 16);
	put("too-long", in, n + 16);

	/* peer streams: two reports around a message of unknown type, fed
	 * in 7-byte pieces; then one with a bad magic */
	in[0] = 0;
	in[1] = 0;
	in[2] = 1 | (6 << 1);
	strcpy(br.why, "inbox link is not a block");
	n = 3;
	n += peer_msg(in + n, ACE_PEER_MAGIC, ACE_PEER_BROKEN, &br, sizeof(br));
	n += peer_msg(in + n, ACE_PEER_MAGIC, 99, junk, sizeof(junk));
	n += peer_msg(in + n, ACE_PEER_MAGIC, ACE_PEER_DETACHED, junk, 0);
	n += peer_msg(in + n, ACE_PEER_MAGIC, ACE_PEER_BELL_REQ, junk, 0);
	br.peer = ACE_WHO_DEVICE;
	n += peer_msg(in + n, ACE_PEER_MAGIC, ACE_PEER_BROKEN, &br, sizeof(br));
	put("peer-stream", in, n);
	n = 3 + peer_msg(in + 3, 0x12345678, ACE_PEER_BROKEN, &br, sizeof(br));
	put("peer-bad-magic", in, n);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		goto usage;
	dir = argv[2];
	if (!strcmp(argv[1], "arena"))
		arena_seeds();
	else if (!strcmp(argv[1], "ctrl"))
		ctrl_seeds();
	else
		goto usage;
	return 0;
usage:
	fprintf(stderr, "usage: mkseeds arena|ctrl DIR\n");
	return 2;
}
