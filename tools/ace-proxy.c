// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace-proxy - byte streams over ACE, so unmodified programs talk across.
 *
 *   host:  ace-proxy -d /run/ace/vm1.sock -s web=tcp:127.0.0.1:80
 *   guest: ace-proxy -l tcp:8080=web          # curl http://127.0.0.1:8080/
 *
 * -l ADDR=SERVICE listens on a TCP port or UNIX socket; each connection
 * becomes a stream to the ace-proxy that serves SERVICE on the other side
 * of the channel.  -s NAME=ADDR serves as the mproc NAME and connects
 * each stream opened to it to ADDR.  Both sides run the same program, so
 * either direction works (a host port reaching a guest service too), and
 * one process may do both.
 *
 * One mproc carries all of a process's streams; the protocol is
 * shared/ace_stream_proto.h: per-stream windows (a slow reader stalls its
 * own stream only, and costs at most the window of memory), half-close,
 * and CLOSE carrying the errno when either end fails.  Bytes go from a
 * socket straight into an ACE block (read() into the arena) and from the
 * block straight to the other socket; only bytes a slow reader cannot
 * take yet are copied, into the stream's window-sized buffer.
 *
 * Everything a peer sends is read once and checked: type, length, the
 * stream id's index and generation, the sender, the stream's state, the
 * window and the credit.  A peer that breaks the rules loses the stream
 * it named (CLOSE with EPROTO) and nothing else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include "tool_util.h"

#define P "ace-proxy"
#include "../shared/ace_stream_proto.h"

#define MAX_LISTEN	16
#define BATCH		32
#define READS_PER_EVENT	16
#define OPEN_TIMEOUT_NS	10000000000ull	/* an OPEN unanswered this long fails */
#define TICK_NS		100000000ull	/* timeouts, retries, device messages */
#define LIVE_NS		1000000000ull	/* is each stream's peer still there? */
#define RETRY_MS	1		/* when blocks or sends ran short */

/* epoll tags: the mproc, the channel, listeners, then streams */
#define EV_MP		0ull
#define EV_CH		1ull
#define EV_LISTEN	2ull			/* + listener index */
#define EV_STREAM	(EV_LISTEN + MAX_LISTEN)	/* + stream index */

struct addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[128];
};

struct listener {
	struct addr at;
	char service[48];
	uint32_t svc_id;	/* 0: look it up at the next connection */
	int fd;
	uint64_t refused;
};

enum { S_FREE, S_OPENING, S_CONNECTING, S_OPEN };

struct stream {
	int state;
	uint16_t gen;
	int fd;
	uint32_t events;	/* registered with epoll (0: not registered) */
	uint32_t peer;		/* the other ace-proxy's mproc id */
	uint32_t peer_sid;	/* its id for this stream */
	struct listener *from;	/* opened for a local connection here */
	uint64_t deadline;	/* S_OPENING: when to give up */
	/* sending: the peer's window, and what we owe it */
	uint32_t tx_window, tx_out;
	uint32_t rd_size;	/* next block to read into */
	/* receiving: our window, charged to us, passed on but not credited */
	uint32_t rx_window, rx_held, rx_unreported;
	char *buf;		/* bytes a slow local reader has not taken */
	uint32_t bhead, blen;
	unsigned rd_eof:1;	/* local EOF read, SHUT sent */
	unsigned want_shut:1;	/* local EOF read, SHUT not sent yet */
	unsigned peer_shut:1;	/* SHUT received */
	unsigned wr_shut:1;	/* shutdown(SHUT_WR) done */
	unsigned starved:1;	/* no block to read into: retry */
	unsigned owe_credit:1;	/* a CREDIT could not be sent: retry */
	uint64_t bytes_in, bytes_out;
};

static const char *dev;
static struct ace *ch;
static struct ace_mp *mp;
static int ep = -1;
static unsigned mode = ACE_MODE_ADAPTIVE, spin_us = 50;
static uint32_t window = 256 << 10, max_streams = 1024;
static char mp_name[48];
static int serving;
static struct addr target;
static struct listener lis[MAX_LISTEN];
static int nr_lis;
static struct stream *tab;
static uint32_t *free_idx, nr_free;
static int verbose, retry_pending;
static uint64_t next_open_try;
static int away;		/* the guest went away; mp waits for it */
static volatile sig_atomic_t stop, want_stats;

static struct {
	uint64_t opened, accepted, refused, closed, resets, violations, stale;
	uint64_t bad, bytes_in, bytes_out, starved;
} st;
static int violation_lines;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("ace-proxy: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- addresses ---- */

/* tcp:PORT (127.0.0.1), tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH,
 * unix:@NAME (abstract).  HOST: a numeric address or localhost. */
static int parse_addr(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->text, sizeof(a->text), "%s", s);
	if (!strncmp(s, "unix:", 5)) {
		struct sockaddr_un *u = (struct sockaddr_un *)&a->sa;
		size_t n = strlen(s + 5);

		if (!n || n >= sizeof(u->sun_path))
			return -1;
		u->sun_family = AF_UNIX;
		memcpy(u->sun_path, s + 5, n);
		if (u->sun_path[0] == '@')
			u->sun_path[0] = 0;
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
				     (s[5] != '@'));
		return 0;
	}
	if (!strncmp(s, "tcp:", 4)) {
		char host[64] = "127.0.0.1";
		const char *p = s + 4, *port = p, *c;
		struct sockaddr_in *v4 = (struct sockaddr_in *)&a->sa;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->sa;
		uint64_t n;

		if (*p == '[') {
			c = strchr(p, ']');
			if (!c || c[1] != ':' || (size_t)(c - p - 1) >= sizeof(host))
				return -1;
			memcpy(host, p + 1, (size_t)(c - p - 1));
			host[c - p - 1] = 0;
			port = c + 2;
		} else if ((c = strrchr(p, ':'))) {
			if ((size_t)(c - p) >= sizeof(host))
				return -1;
			memcpy(host, p, (size_t)(c - p));
			host[c - p] = 0;
			port = c + 1;
		}
		/* decimal digits only: strtoul() alone takes " 80" and "+80" */
		if (tool_parse_u64(port, 0, 65535, &n))
			return -1;
		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			v4->sin_port = htons((uint16_t)n);
			a->len = sizeof(*v4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((uint16_t)n);
			a->len = sizeof(*v6);
			return 0;
		}
	}
	return -1;
}

static void tune(int fd, const struct addr *a)
{
	int one = 1;

	if (a->sa.ss_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int listen_on(struct listener *l)
{
	struct sockaddr_un *u = (struct sockaddr_un *)&l->at.sa;
	struct stat sb;
	int one = 1, fd;

	fd = socket(l->at.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (l->at.sa.ss_family == AF_UNIX) {
		/* a stale socket from an earlier run: replace it */
		if (u->sun_path[0] && !stat(u->sun_path, &sb) && S_ISSOCK(sb.st_mode))
			unlink(u->sun_path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&l->at.sa, l->at.len) || listen(fd, 512)) {
		close(fd);
		return -1;
	}
	if (l->at.sa.ss_family != AF_UNIX) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char ip[INET6_ADDRSTRLEN];
		int port;

		getsockname(fd, (struct sockaddr *)&ss, &len);
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			snprintf(l->at.text, sizeof(l->at.text), "tcp:%s:%d", ip, port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			snprintf(l->at.text, sizeof(l->at.text), "tcp:[%s]:%d", ip, port);
		}
	}
	l->fd = fd;
	return 0;
}

/* ---- streams ---- */

static uint32_t sid(const struct stream *s)
{
	return ACE_STREAM_ID((uint32_t)(s - tab), s->gen);
}

static struct stream *stream_new(void)
{
	struct stream *s;

	if (!nr_free)
		return NULL;
	s = &tab[free_idx[--nr_free]];
	memset(&s->fd, 0, sizeof(*s) - offsetof(struct stream, fd));
	s->fd = -1;
	s->rx_window = window;
	s->rd_size = 4000;
	s->state = S_CONNECTING;	/* the caller sets the real one */
	return s;
}

/* The stream that id `id` from mproc `src` names, or NULL. */
static struct stream *stream_find(uint32_t id, uint32_t src)
{
	uint32_t idx = ACE_STREAM_IDX(id);
	struct stream *s;

	if (idx >= max_streams)
		return NULL;
	s = &tab[idx];
	if (s->state == S_FREE || s->gen != ACE_STREAM_GEN(id) || s->peer != src)
		return NULL;
	return s;
}

static void set_events(struct stream *s, uint32_t want)
{
	struct epoll_event ev = { .events = want,
				  .data.u64 = EV_STREAM + (uint64_t)(s - tab) };

	if (want == s->events || s->fd < 0)
		return;
	if (!want)
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
	else
		epoll_ctl(ep, s->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev);
	s->events = want;
}

static uint32_t tx_avail(const struct stream *s)
{
	return s->tx_window - s->tx_out;
}

/* What the stream waits for on its socket now. */
static void stream_arm(struct stream *s)
{
	uint32_t want = 0;

	if (s->state == S_CONNECTING) {
		want = EPOLLOUT;
	} else if (s->state == S_OPEN) {
		if (!s->rd_eof && !s->want_shut && !s->starved &&
		    tx_avail(s) > ACE_STREAM_MSG_COST)
			want |= EPOLLIN;
		if (s->blen)
			want |= EPOLLOUT;
	}
	set_events(s, want);
}

/* Forget a stream.  rst: make the local end see an error (a TCP RST;
 * a UNIX peer sees its connection end). */
static void stream_free(struct stream *s, int rst)
{
	if (s->fd >= 0) {
		set_events(s, 0);
		if (rst) {
			struct linger lg = { 1, 0 };

			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			st.resets++;
		}
		close(s->fd);
	}
	free(s->buf);
	s->buf = NULL;
	s->fd = -1;
	s->state = S_FREE;
	s->gen++;
	free_idx[nr_free++] = (uint32_t)(s - tab);
	st.closed++;
}

static void channel_error(const char *doing, int r);

/* The pools are empty for now (-ENOBUFS; -ENOMEM for our own memory):
 * try again later, nothing is broken. */
static int short_of_blocks(int r)
{
	return r == -ENOBUFS || r == -ENOMEM;
}

/* Send a control message; 0, or -errno (the caller decides). */
static int send_ctl(uint32_t dst, uint32_t type, uint32_t tag,
		    const struct ace_stream_ctl *c)
{
	struct ace_buf b;
	int r;

	r = ace_mp_alloc(mp, c ? ACE_STREAM_CTL : 0, &b);
	if (r)
		return r;
	if (c)
		memcpy(b.data, c, ACE_STREAM_CTL);
	b.len = c ? ACE_STREAM_CTL : 0;
	b.type = type;
	b.tag = tag;
	r = ace_mp_send(mp, dst, &b);
	if (r)
		ace_mp_free(mp, &b);
	return r;
}

static void peer_gone(uint32_t peer);

/* Drop a stream because of `err` here: tell the peer (if it knows the
 * stream), and reset the local end. */
static void stream_abort(struct stream *s, int err, const char *why)
{
	struct ace_stream_ctl c = { .err = (uint32_t)err };

	if (verbose)
		say("stream %x: %s: %s", sid(s), why, strerror(err));
	if (s->state == S_OPEN || s->state == S_CONNECTING) {
		int r = send_ctl(s->peer, ACE_STREAM_CLOSE, s->peer_sid, &c);

		if (r == -ENOTCONN) {	/* the guest went away: ace_service() says */
			stream_free(s, 1);
			return;
		}
		if (r == -EIO || r == -EPIPE || r == -ESTALE) {
			stream_free(s, 1);
			channel_error("close", r);
			return;
		}
	}
	stream_free(s, 1);
}

static void violation(struct stream *s, const char *what)
{
	st.violations++;
	if (violation_lines < 20) {
		violation_lines++;
		say("peer 0x%x broke the protocol on stream %x: %s; stream closed%s",
		    s->peer, sid(s), what, violation_lines == 20 ? " (no more of these)" : "");
	}
	stream_abort(s, EPROTO, what);
}

static void check_done(struct stream *s)
{
	if (s->state == S_OPEN && s->rd_eof && s->peer_shut && s->wr_shut)
		stream_free(s, 0);
}

static void send_shut(struct stream *s)
{
	int r = send_ctl(s->peer, ACE_STREAM_SHUT, s->peer_sid, NULL);

	if (short_of_blocks(r)) {
		s->want_shut = 1;
		retry_pending = 1;
		return;
	}
	if (r == -ENOENT) {
		peer_gone(s->peer);
		return;
	}
	if (r) {
		channel_error("shut", r);
		return;
	}
	s->want_shut = 0;
	s->rd_eof = 1;
	check_done(s);
}

static void maybe_credit(struct stream *s, int force)
{
	struct ace_stream_ctl c;
	int r;

	if (!s->rx_unreported || s->state != S_OPEN || s->peer_shut)
		return;
	if (!force && s->rx_unreported < s->rx_window / 4)
		return;
	c = (struct ace_stream_ctl){ .credit = s->rx_unreported };
	r = send_ctl(s->peer, ACE_STREAM_CREDIT, s->peer_sid, &c);
	if (short_of_blocks(r)) {
		s->owe_credit = 1;
		retry_pending = 1;
		return;
	}
	if (r == -ENOENT) {
		peer_gone(s->peer);
		return;
	}
	if (r) {
		channel_error("credit", r);
		return;
	}
	s->owe_credit = 0;
	s->rx_held -= s->rx_unreported;
	s->rx_unreported = 0;
}

/* After the buffer drained: the write side's half-close, if due. */
static void after_flush(struct stream *s)
{
	if (s->blen || !s->peer_shut || s->wr_shut)
		return;
	shutdown(s->fd, SHUT_WR);
	s->wr_shut = 1;
	check_done(s);
}

/* Write buffered bytes to the socket.  0, or -1 if the stream is gone. */
static int flush(struct stream *s)
{
	while (s->blen) {
		uint32_t first = window - s->bhead;
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 1 };
		ssize_t w;

		if (first > s->blen)
			first = s->blen;
		iov[0] = (struct iovec){ s->buf + s->bhead, first };
		if (first < s->blen) {
			iov[1] = (struct iovec){ s->buf, s->blen - first };
			mh.msg_iovlen = 2;
		}
		w = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			stream_abort(s, errno, "write");
			return -1;
		}
		s->bhead = (uint32_t)((s->bhead + (uint32_t)w) % window);
		s->blen -= (uint32_t)w;
		s->rx_unreported += (uint32_t)w;
		s->bytes_out += (uint64_t)w;
	}
	maybe_credit(s, 0);
	if (s->state == S_FREE)
		return -1;
	after_flush(s);
	if (s->state == S_FREE)
		return -1;
	stream_arm(s);
	return 0;
}

/* DATA for stream s: straight to the socket, what it cannot take into
 * the buffer (never more than the window: checked above). */
static void deliver(struct stream *s, const void *data, uint32_t len)
{
	ssize_t w = 0;

	s->rx_held += len + ACE_STREAM_MSG_COST;
	s->rx_unreported += ACE_STREAM_MSG_COST;
	st.bytes_out += len;
	if (!s->blen) {
		w = send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				stream_abort(s, errno, "write");
				return;
			}
			w = 0;
		}
		s->rx_unreported += (uint32_t)w;
		s->bytes_out += (uint64_t)w;
	}
	if ((uint32_t)w < len) {
		uint32_t rest = len - (uint32_t)w, tail, first;
		const char *p = (const char *)data + w;

		if (!s->buf) {
			s->buf = malloc(window);
			if (!s->buf) {
				stream_abort(s, ENOMEM, "buffer");
				return;
			}
			s->bhead = 0;
		}
		tail = (s->bhead + s->blen) % window;
		first = window - tail < rest ? window - tail : rest;
		memcpy(s->buf + tail, p, first);
		memcpy(s->buf, p + first, rest - first);
		s->blen += rest;
	}
	maybe_credit(s, 0);
	if (s->state == S_FREE)
		return;
	stream_arm(s);
}

/* Read from the local socket into blocks and send them as DATA. */
static void pump_socket(struct stream *s)
{
	uint16_t gen = s->gen;
	int i;

	for (i = 0; i < READS_PER_EVENT; i++) {
		uint32_t avail = tx_avail(s), want;
		struct ace_buf b;
		ssize_t n;
		int r;

		if (s->state != S_OPEN || s->gen != gen || s->rd_eof || s->want_shut)
			return;
		if (avail <= ACE_STREAM_MSG_COST)
			break;
		want = avail - ACE_STREAM_MSG_COST;
		if (want > s->rd_size)
			want = s->rd_size;
		r = ace_mp_alloc(mp, want, &b);
		if (short_of_blocks(r) && want > 4000)
			r = ace_mp_alloc(mp, want = 4000, &b);
		if (short_of_blocks(r) && want > 200)
			r = ace_mp_alloc(mp, want = 200, &b);
		if (short_of_blocks(r)) {
			s->starved = 1;
			retry_pending = 1;
			st.starved++;
			break;
		}
		if (r) {
			channel_error("alloc", r);
			return;
		}
		if (want > b.cap)
			want = b.cap;
		n = recv(s->fd, b.data, want, MSG_DONTWAIT);
		if (n <= 0) {
			int err = n < 0 ? errno : 0;

			ace_mp_free(mp, &b);
			if (n < 0 && (err == EAGAIN || err == EINTR))
				break;
			if (n < 0) {
				stream_abort(s, err, "read");
				return;
			}
			send_shut(s);	/* EOF */
			break;
		}
		b.len = (uint32_t)n;
		b.type = ACE_STREAM_DATA;
		b.tag = s->peer_sid;
		r = ace_mp_send(mp, s->peer, &b);
		if (r) {
			ace_mp_free(mp, &b);
			if (r == -ENOENT)
				peer_gone(s->peer);
			else
				channel_error("send", r);
			return;
		}
		s->tx_out += (uint32_t)n + ACE_STREAM_MSG_COST;
		s->bytes_in += (uint64_t)n;
		st.bytes_in += (uint64_t)n;
		/* a full block: the socket has more, use a big one next */
		if ((uint32_t)n < want)
			break;
		s->rd_size = 65000;
	}
	if (s->state == S_OPEN && s->gen == gen)
		stream_arm(s);
}

/* Every stream with this peer: its mproc is gone. */
static void peer_gone(uint32_t peer)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < max_streams; i++) {
		if (tab[i].state != S_FREE && tab[i].peer == peer) {
			stream_free(&tab[i], 1);
			n++;
		}
	}
	if (n)
		say("peer 0x%x is gone: %d stream(s) reset", peer, n);
}

static void reset_all(void)
{
	uint32_t i;

	for (i = 0; i < max_streams; i++)
		if (tab[i].state != S_FREE)
			stream_free(&tab[i], 1);
}

/* ---- messages from peers ---- */

static void on_open(uint32_t src, uint32_t opener_id, const struct ace_stream_ctl *c)
{
	struct ace_stream_ctl no = { .err = ECONNREFUSED };
	struct stream *s;
	int fd;

	if (!serving || c->window < ACE_STREAM_MIN_WINDOW ||
	    c->window > ACE_STREAM_MAX_WINDOW) {
		st.bad++;
		no.err = serving ? EPROTO : ECONNREFUSED;
		send_ctl(src, ACE_STREAM_CLOSE, opener_id, &no);
		return;
	}
	s = stream_new();
	if (!s) {
		st.refused++;
		no.err = ENOSPC;
		send_ctl(src, ACE_STREAM_CLOSE, opener_id, &no);
		return;
	}
	s->peer = src;
	s->peer_sid = opener_id;
	s->tx_window = c->window;
	fd = socket(target.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		no.err = (uint32_t)errno;
		send_ctl(src, ACE_STREAM_CLOSE, opener_id, &no);
		stream_free(s, 0);
		return;
	}
	s->fd = fd;
	tune(fd, &target);
	s->state = S_CONNECTING;
	if (connect(fd, (struct sockaddr *)&target.sa, target.len) && errno != EINPROGRESS) {
		int err = errno;

		st.refused++;
		if (verbose)
			say("%s: %s", target.text, strerror(err));
		stream_abort(s, err, "connect");
		return;
	}
	stream_arm(s);	/* EPOLLOUT: connected (or failed) */
}

/* The local connect() of a served stream finished. */
static void on_connected(struct stream *s)
{
	struct ace_stream_ctl c = { .id = sid(s), .window = s->rx_window };
	int err = 0, r;
	socklen_t len = sizeof(err);

	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		st.refused++;
		if (verbose)
			say("%s: %s", target.text, strerror(err));
		stream_abort(s, err, "connect");
		return;
	}
	r = send_ctl(s->peer, ACE_STREAM_ACCEPT, s->peer_sid, &c);
	if (r) {
		stream_free(s, 1);
		if (r == -ENOENT)
			peer_gone(s->peer);
		else if (!short_of_blocks(r))
			channel_error("accept", r);
		return;
	}
	st.accepted++;
	s->state = S_OPEN;
	stream_arm(s);
}

static void on_accept(uint32_t src, uint32_t tag, const struct ace_stream_ctl *c)
{
	struct stream *s = stream_find(tag, src);
	struct ace_stream_ctl no = { .err = ECONNRESET };

	if (!s || s->state != S_OPENING) {
		/* ours timed out (or never was): let the service forget it */
		st.stale++;
		send_ctl(src, ACE_STREAM_CLOSE, c->id, &no);
		return;
	}
	s->peer_sid = c->id;
	s->state = S_OPEN;
	if (c->window < ACE_STREAM_MIN_WINDOW || c->window > ACE_STREAM_MAX_WINDOW) {
		violation(s, "window out of range");
		return;
	}
	s->tx_window = c->window;
	stream_arm(s);
	pump_socket(s);		/* the client may have spoken already */
}

static void on_msg(struct ace_buf *b)
{
	/* read once: libace copied these out of the block's header */
	const uint32_t type = b->type, tag = b->tag, len = b->len, src = b->src;
	struct ace_stream_ctl c;
	struct stream *s;

	if (type == ACE_STREAM_DATA) {
		s = stream_find(tag, src);
		if (!s) {
			st.stale++;
		} else if (s->state != S_OPEN || s->peer_shut) {
			violation(s, "data in the wrong state");
		} else if (!len || len > ACE_STREAM_MAX_DATA) {
			violation(s, "data length out of range");
		} else if (len + ACE_STREAM_MSG_COST > s->rx_window - s->rx_held) {
			violation(s, "data beyond the window");
		} else {
			deliver(s, b->data, len);
		}
		return;
	}
	if (type == ACE_STREAM_SHUT) {
		s = stream_find(tag, src);
		if (!s) {
			st.stale++;
		} else if (len || s->state != S_OPEN || s->peer_shut) {
			violation(s, "shut in the wrong state");
		} else {
			s->peer_shut = 1;
			after_flush(s);
		}
		return;
	}
	if (type < ACE_STREAM_OPEN || type > ACE_STREAM_CLOSE || len != ACE_STREAM_CTL) {
		st.bad++;	/* not ours, or not the right size */
		return;
	}
	memcpy(&c, b->data, sizeof(c));	/* the only read of the payload */
	switch (type) {
	case ACE_STREAM_OPEN:
		on_open(src, tag, &c);
		break;
	case ACE_STREAM_ACCEPT:
		on_accept(src, tag, &c);
		break;
	case ACE_STREAM_CREDIT:
		s = stream_find(tag, src);
		if (!s)
			st.stale++;
		else if (s->state != S_OPEN || c.credit > s->tx_out)
			violation(s, "credit beyond what was sent");
		else {
			s->tx_out -= c.credit;
			stream_arm(s);
		}
		break;
	case ACE_STREAM_CLOSE:
		s = stream_find(tag, src);
		if (!s) {
			st.stale++;
			break;
		}
		if (verbose || s->state == S_OPENING)
			say("stream %x to %s: %s", sid(s),
			    s->from ? s->from->service : "?",
			    c.err ? strerror(c.err > ACE_STREAM_MAX_ERR ? EPROTO : (int)c.err)
				  : "closed");
		if (s->state == S_OPENING && s->from)
			s->from->refused++;
		stream_free(s, c.err != 0);
		break;
	}
}

/* Receive and handle what waits; how many messages. */
static int pump_ace(void)
{
	struct ace_buf b[BATCH];
	int got, i, r;

	if (!mp || away)
		return 0;
	got = ace_mp_recv_batch(mp, b, BATCH, ACE_NOWAIT);
	if (got < 0) {
		channel_error("receive", got);
		return 1;
	}
	for (i = 0; i < got; i++) {
		on_msg(&b[i]);
		if (!mp || away)
			return got;	/* the channel went down meanwhile */
		r = ace_mp_free(mp, &b[i]);
		if (r) {
			channel_error("free", r);
			return got;
		}
	}
	return got;
}

/* ---- local connections ---- */

static void on_listen(struct listener *l)
{
	struct ace_stream_ctl c = { .window = window };
	int i, fd, r;

	for (i = 0; i < 64; i++) {
		struct stream *s;

		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!mp || !(s = stream_new())) {
			struct linger lg = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			l->refused++;
			st.refused++;
			continue;
		}
		tune(fd, &l->at);
		s->fd = fd;
		s->from = l;
		if (!l->svc_id && ace_lookup(ch, l->service, 0, &l->svc_id)) {
			l->svc_id = 0;
			if (l->refused++ % 100 == 0)
				say("%s: no service %s (yet)", l->at.text, l->service);
			stream_free(s, 1);
			continue;
		}
		s->peer = l->svc_id;
		s->state = S_OPENING;
		s->deadline = tool_now_ns() + OPEN_TIMEOUT_NS;
		r = send_ctl(s->peer, ACE_STREAM_OPEN, sid(s), &c);
		if (r == -ENOENT) {
			/* that service went away; a new one may have its name */
			l->svc_id = 0;
			if (!ace_lookup(ch, l->service, 0, &l->svc_id)) {
				s->peer = l->svc_id;
				r = send_ctl(s->peer, ACE_STREAM_OPEN, sid(s), &c);
			}
		}
		if (r) {
			l->refused++;
			stream_free(s, 1);
			if (r == -ENOTCONN)
				continue;	/* the guest went away */
			if (r == -EIO || r == -EPIPE || r == -ESTALE) {
				channel_error("open", r);
				return;
			}
			continue;
		}
		st.opened++;
	}
}

static void on_stream_event(struct stream *s, uint32_t ev)
{
	uint16_t gen = s->gen;

	if (s->state == S_CONNECTING) {
		on_connected(s);
		return;
	}
	if (s->state != S_OPEN)
		return;
	if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && s->blen && flush(s))
		return;
	if (s->state == S_OPEN && s->gen == gen && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		pump_socket(s);
}

/* Timeouts, retries and peer checks. */
static void tick(uint64_t now, int live)
{
	uint32_t i, last_dead = 0, last_live = 0;
	char name[48];

	retry_pending = 0;
	for (i = 0; i < max_streams; i++) {
		struct stream *s = &tab[i];

		if (s->state == S_FREE)
			continue;
		if (s->state == S_OPENING && now > s->deadline) {
			say("stream %x to %s: no answer in %llu s", sid(s), s->from->service,
			    OPEN_TIMEOUT_NS / 1000000000ull);
			stream_free(s, 1);
			continue;
		}
		if (live && s->peer != last_live) {
			if (s->peer == last_dead || ace_name_of(ch, s->peer, name) == -ENOENT) {
				last_dead = s->peer;
				peer_gone(s->peer);
				continue;
			}
			last_live = s->peer;
		}
		if (s->state != S_OPEN)
			continue;
		if (s->want_shut)
			send_shut(s);
		if (s->state == S_OPEN && s->owe_credit)
			maybe_credit(s, 1);
		if (s->state == S_OPEN && s->starved) {
			s->starved = 0;
			pump_socket(s);
		}
	}
}

/* ---- the channel ---- */

static void channel_down(const char *why)
{
	int i;

	reset_all();
	if (mp) {
		epoll_ctl(ep, EPOLL_CTL_DEL, ace_mp_fd(mp), NULL);
		ace_mp_close(mp);
		mp = NULL;
	}
	for (i = 0; i < nr_lis; i++)
		lis[i].svc_id = 0;
	away = 0;
	say("channel down: %s", why);
}

/* The guest went away (-ENOTCONN, ACE_SVC_DETACHED, a refused arena): its
 * streams went with it; the mproc waits for its next arena, unused. */
static void guest_away(void)
{
	int i;

	reset_all();
	for (i = 0; i < nr_lis; i++)
		lis[i].svc_id = 0;
	away = 1;
}

static void channel_error(const char *doing, int r)
{
	char why[300];

	if (r == -ENOTCONN) {
		guest_away();	/* ace_service() tells the rest */
		return;
	}
	snprintf(why, sizeof(why), "%s: %s", doing, ace_error(ch));
	channel_down(why);
	if (ace_is_guest(ch)) {
		/* the guest's device does not come back under us */
		say("giving up");
		exit(1);
	}
	epoll_ctl(ep, EPOLL_CTL_DEL, ace_fd(ch), NULL);
	ace_close(ch);
	ch = NULL;
	next_open_try = tool_now_ns() + 1000000000ull;
}

static int mproc_up(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_MP };
	int r, fd;

	r = ace_mp_create(ch, mp_name, mode, &mp);
	if (r) {
		say("cannot create mproc %s: %s", mp_name, ace_error(ch));
		mp = NULL;
		return r;
	}
	if (mode == ACE_MODE_ADAPTIVE)
		ace_mp_set_mode(mp, mode, spin_us);
	fd = ace_mp_fd(mp);
	if (fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		say("mproc fd: %s", ace_error(ch));
		ace_mp_close(mp);
		mp = NULL;
		return -EIO;
	}
	say("up as %s (id 0x%x, %s, %s mode)", mp_name, ace_mp_id(mp),
	    ace_is_guest(ch) ? "guest" : "host", tool_mode_name(mode));
	return 0;
}

static void channel_try_open(int timeout_ms)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_CH };
	struct ace *c;

	next_open_try = tool_now_ns() + 1000000000ull;
	/* ACE_PERSIST: the mproc outlives the guest (see on_channel_event) */
	if (ace_open_flags(&c, dev, timeout_ms, ACE_PERSIST)) {
		if (verbose)
			say("%s: %s", dev, ace_error(c));
		ace_close(c);
		return;
	}
	ch = c;
	if (!ace_is_guest(ch)) {
		if (ace_service(ch) < 0 || ace_fd(ch) < 0 ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, ace_fd(ch), &ev)) {
			say("%s: %s", dev, ace_error(ch));
			ace_close(ch);
			ch = NULL;
			return;
		}
	}
	if (mproc_up() == -EEXIST)
		say("(another process serves as %s?)", mp_name);
}

static void on_channel_event(void)
{
	int r;

	if (!ch || ace_is_guest(ch))
		return;
	r = ace_service(ch);
	if (r == -EPIPE) {
		channel_error("device", r);	/* QEMU is gone */
	} else if (r < 0 || r == ACE_SVC_DETACHED) {
		guest_away();
		say("the guest went away (%s); waiting for it", ace_error(ch));
	} else if (r == ACE_SVC_REATTACHED) {
		guest_away();
		away = 0;
		if (mp)
			say("the guest is back: up again as %s (id 0x%x)", mp_name,
			    ace_mp_id(mp));
		else
			mproc_up();
	} else if (r == ACE_SVC_ATTACHED) {
		if (mp)
			channel_down("the guest attached a new arena");
		mproc_up();
	}
}

/* ---- main ---- */

static void print_stats(void)
{
	uint32_t i, live = 0;

	for (i = 0; i < max_streams; i++)
		live += tab[i].state != S_FREE;
	say("%u stream(s) now; %llu opened, %llu accepted, %llu refused, %llu closed, "
	    "%llu reset; %llu bytes in, %llu out; %llu protocol violation(s), "
	    "%llu stale, %llu foreign message(s); %llu starved read(s)",
	    live, (unsigned long long)st.opened, (unsigned long long)st.accepted,
	    (unsigned long long)st.refused, (unsigned long long)st.closed,
	    (unsigned long long)st.resets, (unsigned long long)st.bytes_in,
	    (unsigned long long)st.bytes_out, (unsigned long long)st.violations,
	    (unsigned long long)st.stale, (unsigned long long)st.bad,
	    (unsigned long long)st.starved);
}

static void usage(int status)
{
	printf("usage: ace-proxy [options] (-l ADDR=SERVICE)... | -s NAME=ADDR\n"
	       "  Carries byte streams over ACE so unmodified programs talk across.\n"
	       "  -l, --listen ADDR=SERVICE  listen on ADDR; carry each connection to the\n"
	       "                     ace-proxy serving SERVICE on the other side (repeatable)\n"
	       "  -s, --serve NAME=ADDR      serve as NAME; connect each stream to ADDR\n"
	       "  ADDR: tcp:PORT (127.0.0.1), tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH,\n"
	       "        unix:@ABSTRACT (HOST: a numeric address or localhost; port 0 picks\n"
	       "        one and prints it)\n"
	       "  -d, --dev PATH     /dev/aceN in a guest, the device socket on the host\n"
	       "                     (default $ACE_DEV or /dev/ace0)\n"
	       "  -n, --name NAME    own mproc name when only listening (default proxy-PID)\n"
	       "  -m, --mode MODE    poll, interrupt or adaptive (default adaptive)\n"
	       "      --spin US      adaptive spin before sleeping (default 50)\n"
	       "  -w, --window BYTES what one stream may have in flight towards this side\n"
	       "                     (default 262144; it is also the most a slow reader\n"
	       "                     here makes this process buffer for a stream)\n"
	       "  -S, --streams N    streams at once (default 1024)\n"
	       "  -t, --time SECS    exit after SECS seconds\n"
	       "      --wait SECS    how long to wait for the device and the guest's\n"
	       "                     arena at the start: seconds or forever (default\n"
	       "                     $ACE_WAIT, else forever); the host side listens\n"
	       "                     meanwhile and tries the device every second\n"
	       "  -v, --verbose      report every stream that fails\n"
	       "  -h, --help\n"
	       "On the host, a guest that goes away (reboot, ace.ko reloaded) resets the\n"
	       "streams and is waited for; the mproc comes back under the same name.\n"
	       "SIGUSR1 prints the counters; so does the end.\n"
	       "environment: ACE_DEV (default device), ACE_WAIT (seconds to wait, or\n"
	       "forever; see --wait)\n");
	exit(status);
}

static void handle_events(struct epoll_event *evs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		uint64_t t = evs[i].data.u64;

		if (t == EV_MP)
			continue;	/* the inbox: pump_ace() reads it */
		if (t == EV_CH)
			on_channel_event();
		else if (t < EV_STREAM)
			on_listen(&lis[t - EV_LISTEN]);
		else if (t - EV_STREAM < max_streams)
			on_stream_event(&tab[t - EV_STREAM], evs[i].events);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", 1, 0, 'l' }, { "serve", 1, 0, 's' }, { "dev", 1, 0, 'd' },
		{ "name", 1, 0, 'n' }, { "mode", 1, 0, 'm' }, { "spin", 1, 0, 'P' },
		{ "window", 1, 0, 'w' }, { "streams", 1, 0, 'S' }, { "time", 1, 0, 't' },
		{ "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { "wait", 1, 0, 'W' },
		{ 0 },
	};
	uint64_t end_ns = 0, idle_since, now, next_tick = 0, next_live = 0, t0;
	const char *wait = NULL;
	int wait_ms, opened, gave_up = 0;
	struct epoll_event evs[64];
	uint64_t v;
	char *eq;
	int c, i, n;

	dev = tool_default_dev();
	while ((c = getopt_long(argc, argv, "l:s:d:n:m:w:S:t:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			eq = strrchr(optarg, '=');
			if (nr_lis == MAX_LISTEN || !eq || !eq[1] ||
			    strlen(eq + 1) >= sizeof(lis[0].service)) {
				fprintf(stderr, "ace-proxy: -l wants ADDR=SERVICE (at most %d)\n",
					MAX_LISTEN);
				usage(2);
			}
			*eq = 0;
			if (parse_addr(optarg, &lis[nr_lis].at)) {
				fprintf(stderr, "ace-proxy: bad address %s\n", optarg);
				usage(2);
			}
			strcpy(lis[nr_lis++].service, eq + 1);
			break;
		case 's':
			eq = strchr(optarg, '=');
			if (serving || !eq || eq == optarg ||
			    (size_t)(eq - optarg) >= sizeof(mp_name)) {
				fprintf(stderr, "ace-proxy: one -s NAME=ADDR\n");
				usage(2);
			}
			*eq = 0;
			snprintf(mp_name, sizeof(mp_name), "%s", optarg);
			if (parse_addr(eq + 1, &target)) {
				fprintf(stderr, "ace-proxy: bad address %s\n", eq + 1);
				usage(2);
			}
			serving = 1;
			break;
		case 'd': dev = optarg; break;
		case 'n':
			if (strlen(optarg) >= sizeof(mp_name))
				usage(2);
			if (!serving)
				strcpy(mp_name, optarg);
			break;
		case 'm':
			if (tool_mode(optarg, &mode))
				tool_usage_error(P, "-m/--mode '%s': want poll, interrupt or adaptive",
						 optarg);
			break;
		case 'P':
			spin_us = (unsigned)tool_u64(P, "--spin", optarg, 0, 1000000);
			break;
		case 'w':
			/* "window 4096": the words the CLI test looks for */
			if (tool_parse_u64(optarg, 4096, ACE_STREAM_MAX_WINDOW, &v))
				tool_usage_error(P, "-w/--window '%s': want a window 4096 to %u bytes",
						 optarg, ACE_STREAM_MAX_WINDOW);
			window = (uint32_t)v;
			break;
		case 'S':
			max_streams = (uint32_t)tool_u64(P, "-S/--streams", optarg, 1,
							 ACE_STREAM_MAX_STREAMS);
			break;
		case 't':
			end_ns = tool_now_ns() +
				 (uint64_t)(tool_secs(P, "-t/--time", optarg, 0.001,
						      TOOL_MAX_SECS) * 1e9);
			break;
		case 'v': verbose = 1; break;
		case 'W': wait = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || (!nr_lis && !serving)) {
		fprintf(stderr, "ace-proxy: give -l ADDR=SERVICE or -s NAME=ADDR\n");
		usage(2);
	}
	tool_check_env(P);
	wait_ms = tool_service_wait_ms(P, wait);
	t0 = tool_now_ns();
	if (!*dev)
		tool_usage_error(P, "the device path is empty");
	tab = calloc(max_streams, sizeof(*tab));
	free_idx = calloc(max_streams, sizeof(*free_idx));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!tab || !free_idx || ep < 0) {
		perror("ace-proxy");
		return 1;
	}
	for (i = 0; i < (int)max_streams; i++) {
		tab[i].fd = -1;
		tab[i].gen = (uint16_t)(tool_now_ns() >> 10);	/* ids differ per run */
		free_idx[i] = max_streams - 1 - (uint32_t)i;
	}
	nr_free = max_streams;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	signal(SIGPIPE, SIG_IGN);

	for (i = 0; i < nr_lis; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_LISTEN + (uint64_t)i };

		if (listen_on(&lis[i])) {
			fprintf(stderr, "ace-proxy: listen on %s: %s\n", lis[i].at.text,
				strerror(errno));
			return 1;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, lis[i].fd, &ev);
	}
	if (!mp_name[0])
		snprintf(mp_name, sizeof(mp_name), "proxy-%d", (int)getpid());
	if (!strncmp(dev, "/dev/", 5) && !strchr(dev + 5, '/') && access(dev, F_OK)) {
		fprintf(stderr, "ace-proxy: cannot open %s: no such device; is ace.ko "
			"loaded? (lsmod | grep ace; ls /dev/ace*)\n", dev);
		return 1;
	}
	channel_try_open(wait_ms < 0 || wait_ms > TOOL_WAIT_DEFAULT_S * 1000 ?
			 TOOL_WAIT_DEFAULT_S * 1000 : wait_ms);
	opened = ch != NULL;
	if (!ch && (!strncmp(dev, "/dev/", 5))) {
		fprintf(stderr, "ace-proxy: cannot open %s\n", dev);
		return 1;
	}
	if (ch && !mp && ace_is_guest(ch))
		return 1;
	if (serving)
		say("serving %s: streams go to %s", mp_name, target.text);
	for (i = 0; i < nr_lis; i++)
		say("listening on %s: streams go to %s", lis[i].at.text, lis[i].service);

	idle_since = tool_now_ns();
	while (!stop) {
		int busy;

		now = tool_now_ns();
		if (end_ns && now >= end_ns)
			break;
		if (want_stats) {
			want_stats = 0;
			print_stats();
		}
		if (now >= next_tick) {
			if (!ch && now >= next_open_try)
				channel_try_open(20);
			opened |= ch != NULL;
			if (!opened && wait_ms >= 0 && now - t0 >= (uint64_t)wait_ms * 1000000) {
				say("no device at %s after %.1f s (--wait, ACE_WAIT)", dev,
				    wait_ms / 1000.0);
				gave_up = 1;
				break;
			}
			if (ch && !ace_is_guest(ch))
				on_channel_event();
			tick(now, now >= next_live && ch);
			if (now >= next_live)
				next_live = now + LIVE_NS;
			next_tick = now + TICK_NS;
		} else if (retry_pending) {
			tick(now, 0);
		}
		busy = pump_ace();
		n = epoll_wait(ep, evs, 64, 0);
		if (n > 0)
			handle_events(evs, n);
		if (busy || n > 0) {
			idle_since = now;
			continue;
		}
		if (mp && !away && (mode == ACE_MODE_POLL ||
			   (mode == ACE_MODE_ADAPTIVE && now - idle_since < spin_us * 1000ull))) {
			tool_relax();
			continue;
		}
		if (mp && !away && ace_mp_arm(mp)) {
			ace_mp_disarm(mp);
			continue;	/* mail already (or an error: pump_ace sees it) */
		}
		n = epoll_wait(ep, evs, 64, retry_pending ? RETRY_MS :
			       (int)((next_tick > now ? next_tick - now : 0) / 1000000) + 1);
		if (mp && !away) {
			ace_mp_disarm(mp);
			ace_mp_fd_ack(mp);
		}
		if (n > 0)
			handle_events(evs, n);
		idle_since = tool_now_ns();
	}
	print_stats();
	reset_all();
	for (i = 0; i < nr_lis; i++) {
		struct sockaddr_un *u = (struct sockaddr_un *)&lis[i].at.sa;

		close(lis[i].fd);
		if (lis[i].at.sa.ss_family == AF_UNIX && u->sun_path[0])
			unlink(u->sun_path);
	}
	if (mp)
		ace_mp_close(mp);
	if (ch)
		ace_close(ch);
	return gave_up;
}
