// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * hwrng-read NAME BYTES: read BYTES from /dev/hwrng (whatever rng_current
 * is; NAME labels the result) and print one JSON line with the rate.
 * For make bench: ace-rng beside QEMU's virtio-rng in the same guest.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[4096];
	struct timespec t0, t1;
	long want, got = 0;
	double s;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: hwrng-read NAME BYTES\n");
		return 2;
	}
	want = atol(argv[2]);
	fd = open("/dev/hwrng", O_RDONLY);
	if (fd < 0) {
		perror("/dev/hwrng");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < want) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0) {
			perror("read /dev/hwrng");
			return 1;
		}
		got += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("{\"tool\": \"hwrng\", \"rng\": \"%s\", \"bytes\": %ld, \"seconds\": %.6f, \"mb_per_s\": %.3f}\n",
	       argv[1], got, s, got / s / 1e6);
	return 0;
}
