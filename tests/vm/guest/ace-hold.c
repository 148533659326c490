// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-hold NAME N: create mproc NAME, allocate N blocks and keep them, send
 * N more to itself and leave them queued, say so, then sleep until killed.
 * tests/vm/cases/faults.sh kills it and checks every block came back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../../lib/ace.h"

int main(int argc, char **argv)
{
	struct ace *ch;
	struct ace_mp *mp;
	struct ace_buf b;
	int i, n = argc > 2 ? atoi(argv[2]) : 100;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || ace_open(&ch, "/dev/ace0", 0) ||
	    ace_mp_create(ch, argv[1], ACE_MODE_POLL, &mp)) {
		fprintf(stderr, "ace-hold: %s\n", argc < 2 ? "usage: ace-hold NAME N" :
			ace_error(ch));
		return 1;
	}
	for (i = 0; i < 2 * n; i++) {
		if (ace_mp_alloc(mp, 100 + (i % 50) * 40, &b)) {
			fprintf(stderr, "ace-hold: %s\n", ace_error(ch));
			return 1;
		}
		if (i >= n && ace_mp_send(mp, ace_mp_id(mp), &b)) {
			fprintf(stderr, "ace-hold: %s\n", ace_error(ch));
			return 1;
		}
	}
	printf("ACE-TEST holding %d blocks and %d queued\n", n, n);
	for (;;)
		pause();
}
