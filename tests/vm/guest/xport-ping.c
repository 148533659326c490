// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * xport-ping - the same round-trip loop for every byte-stream transport
 * (virtio-serial port, TCP), so they compare with ace-ping:
 *   write SIZE bytes, read SIZE bytes back, timed with CLOCK_MONOTONIC;
 *   warm-up, then samples; p50/p99/p99.9; one JSON line per run.
 * Writes and reads interleave through poll() on a non-blocking fd, so a
 * message larger than the transport's buffers cannot deadlock.
 * --touch writes every byte before sending and checks every byte of the
 * reply, with the same helpers as ace-ping --touch (tools/tool_util.h).
 *
 * --stream: P senders (-p, threads, one connection each) each stream
 * COUNT messages of SIZE bytes into a sink (tests/bench/xport-echo.c
 * --sink): an 8-byte header with the total byte count, the bytes, then a
 * one-byte acknowledgement; the clock stops when every sender has its.
 *
 * -a takes a comma-separated list: sender k uses entry k modulo its
 * length (serial: one port per sender; TCP: one address, P connections).
 * --irq WORDS counts /proc/interrupts lines holding one of the words;
 * --mark ID prints BENCH-T0/BENCH-T1 ID around the measured part; CPU
 * time is this process's user + system time over that part.
 *
 * Usage: xport-ping -t serial -a PORTNAME[,...] | -t tcp -a IP:PORT
 *                   | -t proxy -a IP:PORT (TCP to an ace-proxy listener,
 *                   reported as transport "proxy")
 *                   [-s SIZE] [-n COUNT] [-w WARMUP] [--touch]
 *                   [--stream [-p SENDERS]] [--irq WORDS] [--mark ID]
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
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../../../tools/tool_util.h"

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

static const char *transport;
static uint64_t size = 64, count = 1000;
static int touch;

/* entry k (modulo their number) of a comma-separated list */
static void pick(const char *list, int k, char *out, size_t outlen)
{
	int n = 1, i;
	const char *p = list;
	size_t len;

	for (i = 0; list[i]; i++)
		n += list[i] == ',';
	for (k %= n; k > 0; k--)
		p = strchr(p, ',') + 1;
	len = strcspn(p, ",");
	if (len >= outlen) {
		fprintf(stderr, "xport-ping: address too long: %s\n", p);
		exit(2);
	}
	memcpy(out, p, len);
	out[len] = 0;
}

static int open_addr(const char *list, int k)
{
	char addr[256];

	pick(list, k, addr, sizeof(addr));
	return !strcmp(transport, "serial") ? open_serial(addr) : open_tcp(addr);
}

struct sender {
	pthread_t th;
	int fd;
};

/* one stream: header, COUNT messages, wait for the sink's byte */
static void *stream(void *arg)
{
	struct sender *s = arg;
	uint64_t total = size * count, i;
	char *buf = malloc(size), ack;

	if (!buf)
		die("malloc");
	memset(buf, 0x5a, size);
	xfer(s->fd, (const char *)&total, sizeof(total), NULL, 0);
	for (i = 0; i < count; i++) {
		if (touch)
			tool_fill(buf, size, i);
		else
			memcpy(buf, &i, sizeof(i));
		xfer(s->fd, buf, size, NULL, 0);
	}
	xfer(s->fd, NULL, 0, &ack, 1);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "transport", 1, 0, 't' }, { "addr", 1, 0, 'a' }, { "size", 1, 0, 's' },
		{ "count", 1, 0, 'n' }, { "warmup", 1, 0, 'w' }, { "stream", 0, 0, 'S' },
		{ "senders", 1, 0, 'p' }, { "touch", 0, 0, 'X' }, { "irq", 1, 0, 'I' },
		{ "mark", 1, 0, 'M' }, { 0 },
	};
	const char *addr = NULL, *irq = NULL, *mark = NULL;
	uint64_t warm = (uint64_t)-1, i, *rtt, sum = 0;
	struct tool_meter meter;
	int stream_mode = 0, senders = 1, fd, c, k;
	char *wbuf, *rbuf;

	while ((c = getopt_long(argc, argv, "t:a:s:n:w:p:", opts, NULL)) != -1) {
		switch (c) {
		case 't': transport = optarg; break;
		case 'a': addr = optarg; break;
		case 's': size = strtoull(optarg, NULL, 0); break;
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'w': warm = strtoull(optarg, NULL, 0); break;
		case 'p': senders = atoi(optarg); break;
		case 'S': stream_mode = 1; break;
		case 'X': touch = 1; break;
		case 'I': irq = optarg; break;
		case 'M': mark = optarg; break;
		default:
			fprintf(stderr, "usage: xport-ping -t serial|tcp -a ADDR[,ADDR...] [-s SIZE] [-n COUNT] [-w WARMUP] [--touch] [--stream [-p SENDERS]] [--irq WORDS] [--mark ID]\n");
			return 2;
		}
	}
	if (!transport || !addr || size < 8 || !count || senders < 1 || senders > 64)
		return fprintf(stderr, "xport-ping: -t and -a are needed; size >= 8, count > 0, 1-64 senders\n"), 2;
	if (strcmp(transport, "serial") && strcmp(transport, "tcp") && strcmp(transport, "proxy"))
		return fprintf(stderr, "xport-ping: transport serial, tcp or proxy\n"), 2;
	meter = (struct tool_meter){ .mark = mark, .irq = irq };

	if (stream_mode) {
		struct sender *s = calloc((size_t)senders, sizeof(*s));
		uint64_t t0, t1;
		double secs, msgs;

		if (!s)
			die("calloc");
		for (k = 0; k < senders; k++)
			s[k].fd = open_addr(addr, k);
		tool_meter_begin(&meter);
		t0 = now_ns();
		for (k = 0; k < senders; k++)
			if (pthread_create(&s[k].th, NULL, stream, &s[k]))
				die("pthread_create");
		for (k = 0; k < senders; k++)
			pthread_join(s[k].th, NULL);
		t1 = now_ns();
		tool_meter_end(&meter);
		secs = (double)(t1 - t0) / 1e9;
		msgs = (double)count * senders;
		printf("{\"tool\": \"xport-stream\", \"transport\": \"%s\", \"to\": \"%s\", \"mode\": \"stream\", \"senders\": %d, \"size\": %llu, \"touch\": %d, \"messages\": %.0f, \"seconds\": %.6f, \"msgs_per_s\": %.0f, \"gbytes_per_s\": %.4f, \"cpu_us_per_msg\": %.3f, \"irqs_per_msg\": %.4f, \"irqs_all_per_msg\": %.4f, \"mark\": \"%s\"}\n",
		       transport, addr, senders, (unsigned long long)size, touch,
		       msgs, secs, msgs / secs, msgs * (double)size / secs / 1e9,
		       (double)meter.cpu_ns / msgs / 1e3, (double)meter.irqs / msgs,
		       (double)meter.irqs_all / msgs, mark ? mark : "");
		return 0;
	}

	fd = open_addr(addr, 0);
	if (warm == (uint64_t)-1)
		warm = count / 10 ? count / 10 : 1;
	wbuf = malloc(size);
	rbuf = malloc(size);
	rtt = malloc(count * sizeof(*rtt));
	if (!wbuf || !rbuf || !rtt)
		die("malloc");
	memset(wbuf, 0x5a, size);
	for (i = 0; i < warm + count; i++) {
		uint64_t t0;

		if (i == warm) {	/* the measured part starts */
			tool_meter_begin(&meter);
		}
		t0 = now_ns();
		if (touch)
			tool_fill(wbuf, size, i);
		else
			memcpy(wbuf, &i, sizeof(i));
		xfer(fd, wbuf, size, rbuf, size);
		if (touch ? tool_check(rbuf, size, i) : memcmp(rbuf, &i, sizeof(i))) {
			fprintf(stderr, "xport-ping: wrong echo at round trip %llu\n",
				(unsigned long long)i);
			return 1;
		}
		if (i >= warm)
			rtt[i - warm] = now_ns() - t0;
	}
	tool_meter_end(&meter);
	for (i = 0; i < count; i++)
		sum += rtt[i];
	qsort(rtt, count, sizeof(*rtt), cmp_u64);
#define P(q) ((double)rtt[(uint64_t)((q) * (double)(count - 1))] / 1e3)
#define PER(x) ((double)(x) / (double)count)
	printf("{\"tool\": \"xport-ping\", \"transport\": \"%s\", \"to\": \"%s\", \"mode\": \"syscall\", \"size\": %llu, \"touch\": %d, \"samples\": %llu, \"mean_us\": %.3f, \"min_us\": %.3f, \"p50_us\": %.3f, \"p99_us\": %.3f, \"p999_us\": %.3f, \"max_us\": %.3f, \"cpu_us_per_msg\": %.3f, \"irqs_per_msg\": %.4f, \"irqs_all_per_msg\": %.4f, \"mark\": \"%s\"}\n",
	       transport, addr, (unsigned long long)size, touch,
	       (unsigned long long)count, PER(sum) / 1e3, rtt[0] / 1e3, P(0.5),
	       P(0.99), P(0.999), rtt[count - 1] / 1e3, PER(meter.cpu_ns) / 1e3, PER(meter.irqs),
	       PER(meter.irqs_all), mark ? mark : "");
	close(fd);
	return 0;
}
