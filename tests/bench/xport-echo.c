// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * xport-echo - host side of tests/vm/guest/xport-ping.c: a UNIX-socket
 * server (QEMU's virtio-serial chardev connects to it) or a TCP server
 * on 127.0.0.1 (the guest reaches it at slirp's 10.0.2.2) that echoes
 * every byte back, or with --sink reads "8-byte total, bytes" and answers
 * one byte per stream.  One thread per connection.
 *
 * Usage: xport-echo (--unix PATH | --tcp PORT) [--sink]
 *   With --tcp 0 it prints "port N" once listening.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int sink;

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, char *b, size_t n)
{
	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void *serve(void *arg)
{
	int fd = (int)(long)arg;
	static __thread char buf[1 << 20];
	ssize_t n;

	if (!sink) {
		while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 && write_all(fd, buf, (size_t)n))
				break;
	} else {
		uint64_t total;

		while (!read_all(fd, (char *)&total, sizeof(total))) {
			while (total) {
				size_t want = total < sizeof(buf) ? total : sizeof(buf);

				n = read(fd, buf, want);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					goto out;
				total -= (uint64_t)n;
			}
			if (write_all(fd, "k", 1))
				break;
		}
	}
out:
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *upath = NULL;
	int port = -1, lfd, i, one = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--unix") && i + 1 < argc)
			upath = argv[++i];
		else if (!strcmp(argv[i], "--tcp") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--sink"))
			sink = 1;
		else
			return fprintf(stderr, "usage: xport-echo (--unix PATH | --tcp PORT) [--sink]\n"), 2;
	}
	if (upath) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", upath);
		unlink(upath);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128))
			return perror("xport-echo: unix"), 1;
		printf("listening on %s\n", upath);
	} else if (port >= 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		socklen_t sl = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 128))
			return perror("xport-echo: tcp"), 1;
		getsockname(lfd, (struct sockaddr *)&sa, &sl);
		printf("port %d\n", ntohs(sa.sin_port));
	} else {
		return fprintf(stderr, "xport-echo: --unix or --tcp\n"), 2;
	}
	fflush(stdout);
	for (;;) {
		pthread_t th;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return perror("xport-echo: accept"), 1;
		}
		if (!upath)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		pthread_create(&th, NULL, serve, (void *)(long)fd);
		pthread_detach(th);
	}
}
