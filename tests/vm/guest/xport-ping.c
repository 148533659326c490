// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * xport-ping - the same round-trip loop for every byte-stream transport
 * (virtio-serial port, TCP), so they compare with ace-ping:
 *   write SIZE bytes, read SIZE bytes back, timed with CLOCK_MONOTONIC;
 *   warm-up, then samples; p50/p99/p99.9; one JSON line per run.
 * Writes and reads interleave through poll() on a non-blocking fd, so a
 * message larger than the transport's buffers cannot deadlock.
 *
 * --stream: one sender streams COUNT messages of SIZE bytes into a sink
 * (tests/bench/xport-echo.c --sink): an 8-byte header with the total byte
 * count, the bytes, then a one-byte acknowledgement ends the clock.
 *
 * Usage: xport-ping -t serial -a PORTNAME | -t tcp -a IP:PORT
 *                   [-s SIZE] [-n COUNT] [-w WARMUP] [--stream]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "xport-ping: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* the /dev node of the virtio-serial port named NAME */
static int open_serial(const char *name)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	char path[512], buf[128];

	if (!d)
		die("/sys/class/virtio-ports");
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = 0;
			if (!strcmp(buf, name)) {
				int fd;

				fclose(f);
				snprintf(path, sizeof(path), "/dev/%s", e->d_name);
				closedir(d);
				fd = open(path, O_RDWR | O_NONBLOCK);
				if (fd < 0)
					die(path);
				return fd;
			}
		}
		fclose(f);
	}
	closedir(d);
	fprintf(stderr, "xport-ping: no virtio-serial port named %s\n", name);
	exit(1);
}

static int open_tcp(const char *addr)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1, tries;

	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		fprintf(stderr, "xport-ping: want IP:PORT, got %s\n", addr);
		exit(2);
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "xport-ping: bad IP %s\n", host);
		exit(2);
	}
	for (tries = 0;; tries++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		if (tries >= 50)
			die(addr);
		usleep(200000);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* write WLEN bytes of WBUF and read RLEN bytes into RBUF, interleaved */
static void xfer(int fd, const char *wbuf, size_t wlen, char *rbuf, size_t rlen)
{
	size_t w = 0, r = 0;

	while (w < wlen || r < rlen) {
		struct pollfd p = { .fd = fd, .events = 0 };
		ssize_t n;

		if (w < wlen) {
			n = write(fd, wbuf + w, wlen - w);
			if (n > 0)
				w += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("write");
		}
		if (r < rlen) {
			n = read(fd, rbuf + r, rlen - r);
			if (n > 0)
				r += (size_t)n;
			else if (n == 0) {
				fprintf(stderr, "xport-ping: the peer closed\n");
				exit(1);
			} else if (errno != EAGAIN && errno != EINTR)
				die("read");
		}
		if (w >= wlen && r >= rlen)
			break;
		if (w < wlen)
			p.events |= POLLOUT;
		if (r < rlen)
			p.events |= POLLIN;
		if (poll(&p, 1, 10000) == 0) {
			fprintf(stderr, "xport-ping: stalled 10 s (wrote %zu/%zu, read %zu/%zu)\n",
				w, wlen, r, rlen);
			exit(1);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "transport", 1, 0, 't' }, { "addr", 1, 0, 'a' }, { "size", 1, 0, 's' },
		{ "count", 1, 0, 'n' }, { "warmup", 1, 0, 'w' }, { "stream", 0, 0, 'S' },
		{ 0 },
	};
	const char *transport = NULL, *addr = NULL;
	uint64_t size = 64, count = 1000, warm = (uint64_t)-1, i, *rtt;
	int stream = 0, fd, c;
	char *wbuf, *rbuf;

	while ((c = getopt_long(argc, argv, "t:a:s:n:w:", opts, NULL)) != -1) {
		switch (c) {
		case 't': transport = optarg; break;
		case 'a': addr = optarg; break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'w': warm = strtoull(optarg, NULL, 0); break;
		case 'S': stream = 1; break;
		default:
			fprintf(stderr, "usage: xport-ping -t serial|tcp -a ADDR [-s SIZE] [-n COUNT] [-w WARMUP] [--stream]\n");
			return 2;
		}
	}
	if (!transport || !addr || size < 8 || !count)
		return fprintf(stderr, "xport-ping: -t and -a are needed\n"), 2;
	if (!strcmp(transport, "serial"))
		fd = open_serial(addr);
	else if (!strcmp(transport, "tcp"))
		fd = open_tcp(addr);
	else
		return fprintf(stderr, "xport-ping: transport serial or tcp\n"), 2;
	if (warm == (uint64_t)-1)
		warm = count / 10 ? count / 10 : 1;
	wbuf = malloc(size);
	rbuf = malloc(size);
	rtt = malloc(count * sizeof(*rtt));
	if (!wbuf || !rbuf || !rtt)
		die("malloc");
	memset(wbuf, 0x5a, size);

	if (stream) {
		uint64_t total = size * count, t0, t1;
		double secs;
		char ack;

		t0 = now_ns();
		xfer(fd, (const char *)&total, sizeof(total), NULL, 0);
		for (i = 0; i < count; i++)
			xfer(fd, wbuf, size, NULL, 0);
		xfer(fd, NULL, 0, &ack, 1);
		t1 = now_ns();
		secs = (double)(t1 - t0) / 1e9;
		printf("{\"tool\": \"xport-stream\", \"transport\": \"%s\", \"mode\": \"stream\", \"senders\": 1, \"size\": %llu, \"messages\": %llu, \"seconds\": %.6f, \"msgs_per_s\": %.0f, \"gbytes_per_s\": %.4f}\n",
		       transport, (unsigned long long)size, (unsigned long long)count,
		       secs, (double)count / secs, (double)total / secs / 1e9);
		return 0;
	}

	for (i = 0; i < warm + count; i++) {
		uint64_t t0 = now_ns();

		memcpy(wbuf, &i, sizeof(i));
		xfer(fd, wbuf, size, rbuf, size);
		if (memcmp(rbuf, &i, sizeof(i))) {
			fprintf(stderr, "xport-ping: wrong echo at round trip %llu\n",
				(unsigned long long)i);
			return 1;
		}
		if (i >= warm)
			rtt[i - warm] = now_ns() - t0;
	}
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
#define P(q) ((double)rtt[(uint64_t)((q) * (double)(count - 1))] / 1e3)
	printf("{\"tool\": \"xport-ping\", \"transport\": \"%s\", \"to\": \"%s\", \"mode\": \"syscall\", \"size\": %llu, \"samples\": %llu, \"min_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f}\n",
	       transport, addr, (unsigned long long)size, (unsigned long long)count,
	       rtt[0] / 1e3, P(0.5), P(0.99), P(0.999), rtt[count - 1] / 1e3);
	close(fd);
	return 0;
}
