// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Write a few seed inputs for fuzz_arena into the directory argv[1]. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

static void put(const char *dir, const char *name, const uint8_t *b, size_t n)
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

int main(int argc, char **argv)
{
	uint8_t b[256];
	size_t i;

	if (argc != 2)
		return 2;
	/* no patches, then every operation in turn */
	b[0] = 0;
	for (i = 0; i < 14 * 3; i += 3) {
		b[1 + i] = (uint8_t)(i / 3);
		b[2 + i] = 40;
		b[3 + i] = 0;
	}
	put(argv[1], "ops", b, 1 + 14 * 3);
	/* alloc, send, recv, in a loop */
	b[0] = 0;
	for (i = 0; i < 60; i += 3) {
		b[1 + i] = (uint8_t)((i / 3) % 4);
		b[2 + i] = 1;
		b[3 + i] = 0;
	}
	put(argv[1], "traffic", b, 61);
	/* one patch of the magic, one of a class size */
	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 0x00; b[2] = 0x00; b[3] = 0xff;
	b[7] = 0x40; b[8] = 0x00; b[9] = 0x2c; b[10] = 0x01;
	put(argv[1], "patched", b, 13);
	return 0;
}
