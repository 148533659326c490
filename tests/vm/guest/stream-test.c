// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * stream-test - a plain sockets program (no ACE in it) for the ace-proxy
 * tests: what an unmodified client or server does, with every byte
 * checked.  Built static for the guest and natively for the host.
 *
 *   stream-test echo ADDR
 *       serve: echo every byte back, one thread per connection
 *   stream-test client ADDR STREAMS BYTES
 *       open STREAMS connections at once; each sends BYTES of its own
 *       pattern, half-closes, and must read the same BYTES back, then EOF
 *   stream-test send ADDR BYTES
 *       one stream: send BYTES of stream 0's pattern, half-close, and
 *       expect EOF with nothing back
 *   stream-test slowsink ADDR KIB_PER_S
 *       serve: read each connection at most KIB_PER_S, check the pattern
 *       of stream 0, print what arrived at EOF
 *
 * ADDR: tcp:PORT (127.0.0.1), tcp:IP:PORT or unix:PATH.  Exit 0 only if
 * everything arrived intact; each failure is printed with its errno.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage sa;
static socklen_t salen;

static void parse(const char *s)
{
	memset(&sa, 0, sizeof(sa));
	if (!strncmp(s, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)&sa;

		u->sun_family = AF_UNIX;
		snprintf(u->sun_path, sizeof(u->sun_path), "%s", s + 5);
		salen = sizeof(*u);
		return;
	}
	if (!strncmp(s, "tcp:", 4)) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
		const char *c = strrchr(s + 4, ':');
		char ip[64] = "127.0.0.1";

		if (c) {
			snprintf(ip, sizeof(ip), "%.*s", (int)(c - s - 4), s + 4);
			c++;
		} else {
			c = s + 4;
		}
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)atoi(c));
		if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
			salen = sizeof(*v4);
			return;
		}
	}
	fprintf(stderr, "stream-test: bad address %s\n", s);
	exit(2);
}

/* byte i of stream k */
static inline unsigned char pat(uint64_t i, unsigned k)
{
	return (unsigned char)(i * 131u + (i >> 11) + k * 29u);
}

static void fill(unsigned char *b, size_t n, uint64_t at, unsigned k)
{
	for (size_t j = 0; j < n; j++)
		b[j] = pat(at + j, k);
}

static int listen_fd(void)
{
	int fd = socket(sa.ss_family, SOCK_STREAM, 0), one = 1;

	if (sa.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&sa)->sun_path);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) || listen(fd, 256)) {
		perror("stream-test: listen");
		exit(1);
	}
	if (sa.ss_family == AF_INET) {
		struct sockaddr_in got;
		socklen_t l = sizeof(got);

		getsockname(fd, (struct sockaddr *)&got, &l);
		printf("stream-test: listening on port %d\n", ntohs(got.sin_port));
	} else {
		printf("stream-test: listening on %s\n", ((struct sockaddr_un *)&sa)->sun_path);
	}
	fflush(stdout);
	return fd;
}

static void *echo_conn(void *arg)
{
	int fd = (int)(long)arg;
	char *buf = malloc(1 << 16);
	unsigned long long total = 0;
	ssize_t n;

	while (buf && ((n = read(fd, buf, 1 << 16)) > 0 || (n < 0 && errno == EINTR))) {
		char *p = buf;

		/* said once per connection: a test that kills the echo
		 * mid-stream waits for this line */
		if (n > 0 && total < (1u << 20) && (total += (size_t)n) >= (1u << 20)) {
			printf("stream-test: a connection echoed 1 MiB\n");
			fflush(stdout);
		}

		while (n > 0) {
			ssize_t w = write(fd, p, (size_t)n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;
			p += w;
			n -= w;
		}
	}
out:
	close(fd);
	free(buf);
	return NULL;
}

static unsigned kibps;

static void *sink_conn(void *arg)
{
	int fd = (int)(long)arg;
	static __thread unsigned char buf[4096];
	struct timespec t0, t;
	uint64_t got = 0, bad = 0;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double el, due;

		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t j = 0; j < n; j++)
			bad += buf[j] != pat(got + (uint64_t)j, 0);
		got += (uint64_t)n;
		/* sleep until this many bytes are due at the rate */
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
		due = (double)got / 1024.0 / kibps;
		if (due > el)
			usleep((useconds_t)((due - el) * 1e6));
	}
	printf("stream-test: slowsink: %llu bytes, %s%s\n", (unsigned long long)got,
	       bad ? "pattern BAD" : "pattern ok", n < 0 ? ", ended by an error" : "");
	fflush(stdout);
	close(fd);
	return NULL;
}

static int serve(void *(*fn)(void *))
{
	int lfd = listen_fd();

	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("stream-test: accept");
			return 1;
		}
		if (pthread_create(&t, NULL, fn, (void *)(long)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}

struct conn {
	int fd;
	uint64_t sent, rcvd;
	int shut, done;
};

static int client(unsigned streams, uint64_t bytes, uint64_t back)
{
	struct conn *c = calloc(streams, sizeof(*c));
	struct pollfd *p = calloc(streams, sizeof(*p));
	unsigned char *buf = malloc(1 << 16), *chk = malloc(1 << 16);
	unsigned k, left = streams, failed = 0;
	struct timespec t0, t1;
	int one = 1;

	if (!c || !p || !buf || !chk)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < streams; k++) {
		c[k].fd = socket(sa.ss_family, SOCK_STREAM, 0);
		if (c[k].fd < 0 || connect(c[k].fd, (struct sockaddr *)&sa, salen)) {
			printf("stream-test: stream %u: connect: %s\n", k, strerror(errno));
			return 1;
		}
		if (sa.ss_family == AF_INET)
			setsockopt(c[k].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c[k].fd, F_SETFL, O_NONBLOCK);
	}
	while (left) {
		for (k = 0; k < streams; k++) {
			p[k].fd = c[k].done ? -1 : c[k].fd;
			p[k].events = POLLIN | (c[k].shut ? 0 : POLLOUT);
		}
		if (poll(p, streams, 60000) <= 0) {
			printf("stream-test: nothing moved for 60 s (%u stream(s) open)\n", left);
			return 1;
		}
		for (k = 0; k < streams; k++) {
			struct conn *s = &c[k];
			ssize_t n;

			if (s->done || !p[k].revents)
				continue;
			if (!s->shut && (p[k].revents & (POLLOUT | POLLERR))) {
				size_t want = bytes - s->sent < (1 << 16) ? bytes - s->sent : (1 << 16);

				fill(buf, want, s->sent, k);
				n = want ? write(s->fd, buf, want) : 0;
				if (n < 0 && errno != EAGAIN) {
					printf("stream-test: stream %u: write: %s (sent %llu)\n", k,
					       strerror(errno), (unsigned long long)s->sent);
					s->done = 1, left--, failed++;
					continue;
				}
				if (n > 0)
					s->sent += (uint64_t)n;
				if (s->sent == bytes) {
					shutdown(s->fd, SHUT_WR);
					s->shut = 1;
				}
			}
			if (p[k].revents & (POLLIN | POLLERR | POLLHUP)) {
				n = read(s->fd, chk, 1 << 16);
				if (n < 0 && errno == EAGAIN)
					continue;
				if (n < 0) {
					printf("stream-test: stream %u: read: %s (received %llu of %llu)\n",
					       k, strerror(errno), (unsigned long long)s->rcvd,
					       (unsigned long long)back);
					s->done = 1, left--, failed++;
					continue;
				}
				if (n == 0) {
					if (s->rcvd != back || !s->shut) {
						printf("stream-test: stream %u: EOF after %llu of %llu bytes\n",
						       k, (unsigned long long)s->rcvd,
						       (unsigned long long)back);
						failed++;
					}
					s->done = 1, left--;
					continue;
				}
				fill(buf, (size_t)n, s->rcvd, k);
				if (s->rcvd + (uint64_t)n > back || memcmp(buf, chk, (size_t)n)) {
					printf("stream-test: stream %u: wrong bytes at %llu\n", k,
					       (unsigned long long)s->rcvd);
					s->done = 1, left--, failed++;
					continue;
				}
				s->rcvd += (uint64_t)n;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("stream-test: %u stream(s) x %llu bytes: %u intact, %u failed (%.2f s)\n",
	       streams, (unsigned long long)bytes, streams - failed, failed,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	/* a peer that resets mid-stream is a failure to report, not a
	 * silent death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "echo")) {
		parse(argv[2]);
		return serve(echo_conn);
	}
	if (argc == 4 && !strcmp(argv[1], "slowsink")) {
		parse(argv[2]);
		kibps = (unsigned)atoi(argv[3]);
		if (!kibps)
			return 2;
		return serve(sink_conn);
	}
	if (argc == 5 && !strcmp(argv[1], "client")) {
		parse(argv[2]);
		uint64_t n = strtoull(argv[4], NULL, 0);

		return client((unsigned)atoi(argv[3]), n, n);
	}
	if (argc == 4 && !strcmp(argv[1], "send")) {
		parse(argv[2]);
		return client(1, strtoull(argv[3], NULL, 0), 0);
	}
	fprintf(stderr, "usage: stream-test echo ADDR | client ADDR STREAMS BYTES |"
		" send ADDR BYTES | slowsink ADDR KIB_PER_S\n");
	return 2;
}
