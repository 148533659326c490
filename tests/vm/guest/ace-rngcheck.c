// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-rngcheck FILE OFFSET [LENGTH] - check that FILE holds the ace-rngd
 * --pattern stream (byte i = (i * 131 + 7) & 0xff) from stream offset
 * OFFSET on, and is LENGTH bytes long if LENGTH is given.  Exit 0 and one
 * "match" line, or 1 and where it first differs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int check(FILE *f, uint64_t off, uint64_t *n)
{
	int c;

	for (*n = 0; (c = getc(f)) != EOF; (*n)++) {
		if ((uint8_t)c != (uint8_t)((off + *n) * 131 + 7)) {
			printf("ace-rngcheck: byte %llu is 0x%02x, the pattern has 0x%02x\n",
			       (unsigned long long)*n, c,
			       (uint8_t)((off + *n) * 131 + 7));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t off, want = 0, n;
	FILE *f;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ace-rngcheck FILE OFFSET [LENGTH]\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	off = strtoull(argv[2], NULL, 0);
	if (argc == 4)
		want = strtoull(argv[3], NULL, 0);
	if (check(f, off, &n)) {
		fclose(f);
		return 1;
	}
	fclose(f);
	if (argc == 4 && n != want) {
		printf("ace-rngcheck: %llu bytes, expected %llu\n",
		       (unsigned long long)n, (unsigned long long)want);
		return 1;
	}
	printf("ace-rngcheck: %llu bytes match the pattern from offset %llu\n",
	       (unsigned long long)n, (unsigned long long)off);
	return 0;
}
