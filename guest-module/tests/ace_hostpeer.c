// SPDX-License-Identifier: GPL-2.0
/*
 * ace_hostpeer - a minimal host peer for the guest driver's VM test.
 *
 *   ace_hostpeer SOCKET [-n N] [-t SECONDS]
 *
 * Connects to the virtio-ace device's socket (retrying until QEMU has
 * created it), maps the guest's arena from the fds the device passes, and
 * then, on every arena the guest attaches:
 *   - claims "hecho" and echoes every message back to its sender (the same
 *     block), raising the device when the receiver sleeps;
 *   - pings the guest kernel's "kecho" mproc N times from "hping" and
 *     checks the echoes, then claims "hping-done" so the guest knows;
 *   - on a message of type 0xdead to "hecho", turns hostile: corrupts the
 *     inbox of "kecho" and raises it (the guest's hardening test);
 *   - on type 0xdeaf, tells the device the arena is broken (ACE_PEER_BROKEN,
 *     which the device passes on to the guest as ACE_EVT_BROKEN);
 *   - on type 0xf00d, keeps the region mapped at the next DETACH and
 *     writes a forged header (a 1024-slot table, the guest's generation
 *     kept) into it over and over while the guest formats its next arena,
 *     until that arena is attached or 8 s pass.
 * It sleeps only on the kick eventfd (the guest's doorbell): a wake-up the
 * guest forgot shows up as a stall, which is counted and fails the run.
 * Exits when the device closes the socket (QEMU exited) or after SECONDS;
 * prints "HOSTPEER ..." lines; exit 0 if, on every arena, the pings all
 * came back, and nothing stalled or was malformed.
 *
 * Deliberately independent of libace: it tests the driver, not the library.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ace_core.h"

#define MAX_FDS		16
#define WINDOW		8
#define ACE_TEST_BREAK	0xdeadu	/* message type: "corrupt the arena" */
#define ACE_TEST_REPORT	0xdeafu	/* "report the arena broken to the device" */
#define ACE_TEST_FORGE	0xf00du	/* "forge the header of the next arena" */

static int sock = -1, kick_fd = -1, raise_fd = -1, peer;
static int fds[MAX_FDS], nfds;
static struct ace_arena A;
static void *map;
static u32 map_size;
static u32 hecho, hping;
static struct ace_rx rx_echo, rx_ping;
static int n_ping = 200, ping_done, pings_sent, pings_got;
static long echoed, raises, kicks, stalls, bad, rounds, unfinished;

static void take_fds(struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int), i;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; i < n; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds < MAX_FDS)
				fds[nfds++] = f;
			else
				close(f);
		}
	}
}

/* Read exactly len bytes, collecting any fds that come with them. */
static int read_full(void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(MAX_FDS * sizeof(int))];
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return -1;
		take_fds(&m);
		got += (size_t)n;
	}
	return 0;
}

static void raise_dev(void)
{
	uint64_t one = 1;

	if (write(raise_fd, &one, sizeof(one)) == sizeof(one))
		raises++;
}

/* ---- the header forger ---- */

static int forge_armed;
static pthread_t forger;
static volatile int forging;
static void *forge_map;
static u32 forge_size;

static void *forge_main(void *unused)
{
	struct ace_arena fa;
	struct ace_geometry g;
	u8 *img = malloc(forge_size), *hdr = forge_map;
	time_t end = time(NULL) + 8;
	long n = 0;

	(void)unused;
	if (!img || ace_geometry_default(forge_size, ACE_MAX_MPROCS, &g) ||
	    ace_arena_init(&fa, img, forge_size, &g, 0)) {
		printf("HOSTPEER forger: cannot build a header\n");
		free(img);
		return NULL;
	}
	/* every byte of the header but the generation (0x28..0x2f), which
	 * must stay the guest's for the device to take the arena */
	while (forging && time(NULL) < end) {
		memcpy(hdr, img, 0x28);
		memcpy(hdr + 0x30, img + 0x30, ACE_HDR_SIZE - 0x30);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		n++;
	}
	printf("HOSTPEER forger: wrote a %u-slot header %ld times\n",
	       ACE_MAX_MPROCS, n);
	free(img);
	return NULL;
}

static void forge_stop(void)
{
	if (!forge_map)
		return;
	forging = 0;
	pthread_join(forger, NULL);
	munmap(forge_map, forge_size);
	forge_map = NULL;
}

static void send_broken(void)
{
	struct {
		struct ace_peer_msg h;
		struct ace_peer_broken b;
	} m;

	memset(&m, 0, sizeof(m));
	m.h.magic = ACE_PEER_MAGIC;
	m.h.type = ACE_PEER_BROKEN;
	m.h.len = sizeof(m.b);
	m.b.generation = A.generation;
	m.b.value = 0xdeaf;
	m.b.peer = peer;
	strcpy(m.b.why, "the test asked for it");
	if (write(sock, &m, sizeof(m)) == sizeof(m))
		printf("HOSTPEER reported the arena broken as asked\n");
}

static void unmap_arena(void)
{
	if (map && pings_sent && !ping_done)
		unfinished++;	/* pinging started, and was cut off */
	if (map && forge_armed) {
		/* keep the mapping: the forger writes through it */
		forge_armed = 0;
		forge_map = map;
		forge_size = map_size;
		forging = 1;
		if (pthread_create(&forger, NULL, forge_main, NULL)) {
			forging = 0;
			munmap(map, map_size);
			forge_map = NULL;
		} else {
			printf("HOSTPEER forging the next arena's header\n");
		}
	} else if (map) {
		munmap(map, map_size);
	}
	map = NULL;
	hecho = hping = 0;
}

static int map_arena(const struct ace_peer_arena *pa, int region_fd)
{
	int err;

	unmap_arena();
	forge_stop();
	map_size = pa->arena_size;
	map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   region_fd, 0);
	if (map == MAP_FAILED)
		return map = NULL, -1;
	err = ace_arena_attach(&A, map, map_size);
	if (err) {
		/* a late ARENA for an arena the guest is already replacing
		 * (a recovery followed by a reload): wait for the next one */
		printf("HOSTPEER attach failed: %s; waiting for the next arena\n",
		       ace_arena_why(&A));
		munmap(map, map_size);
		map = NULL;
		return 0;
	}
	if (ace_mproc_claim(&A, "hecho", ACE_SIDE(ACE_SIDE_HOST, peer),
			    ACE_MODE_INTERRUPT, &hecho) ||
	    ace_mproc_claim(&A, "hping", ACE_SIDE(ACE_SIDE_HOST, peer),
			    ACE_MODE_INTERRUPT, &hping))
		return -1;
	ace_rx_init(&rx_echo, hecho);
	ace_rx_init(&rx_ping, hping);
	ping_done = pings_sent = pings_got = 0;
	printf("HOSTPEER peer %d attached: %u bytes of a %u-byte region, generation %#llx\n",
	       peer, map_size, pa->region_size,
	       (unsigned long long)pa->generation);
	fflush(stdout);
	return 0;
}

static int handle_msg(void)
{
	struct ace_peer_msg h;
	char *body = NULL;
	int err = 0;

	nfds = 0;
	if (read_full(&h, sizeof(h)) || h.magic != ACE_PEER_MAGIC ||
	    h.len > 65536)
		return -1;
	body = calloc(1, h.len + 1);
	if (!body || (h.len && read_full(body, h.len)))
		return free(body), -1;
	if (h.type == ACE_PEER_HELLO && nfds >= 2) {
		kick_fd = fds[0];
		raise_fd = fds[1];
		peer = ((struct ace_peer_hello *)body)->peer;
		printf("HOSTPEER hello: peer %d\n", peer);
	} else if (h.type == ACE_PEER_ARENA && nfds >= 1) {
		struct ace_peer_arena *pa = (void *)body;

		err = map_arena(pa, fds[0]);
		close(fds[0]);
	} else if (h.type == ACE_PEER_DETACH) {
		printf("HOSTPEER detach\n");
		unmap_arena();
	}
	free(body);
	return err;
}

/* Asked to (message type ACE_TEST_BREAK): act as a hostile host.  Put a
 * link that is no block into the inbox of the guest kernel's "kecho" and
 * raise it: the guest must notice, report and refuse, not crash. */
static void hostile(void)
{
	u32 kecho;

	if (ace_mproc_lookup(&A, "kecho", &kecho))
		return;
	ace_store(&ace_mproc_at(&A, ACE_ID_SLOT(kecho))->inbox, 12345,
		  ACE_SEQ_CST);
	ace_pending_clear(&A, ACE_ID_SLOT(kecho));
	if (ace_pending_raise(&A, ACE_ID_SLOT(kecho)))
		raise_dev();
	printf("HOSTPEER corrupted kecho's inbox as asked\n");
}

static void echo_all(void)
{
	struct ace_msg_desc d;
	int r;

	while ((r = ace_recv(&A, &rx_echo, &d)) == 1) {
		if (d.type == ACE_TEST_BREAK) {
			ace_free(&A, d.off);
			hostile();
			continue;
		}
		if (d.type == ACE_TEST_REPORT) {
			ace_free(&A, d.off);
			send_broken();
			continue;
		}
		if (d.type == ACE_TEST_FORGE) {
			ace_free(&A, d.off);
			forge_armed = 1;
			printf("HOSTPEER will forge the next arena's header\n");
			continue;
		}
		r = ace_send(&A, hecho, d.src, d.off, d.len);
		if (r < 0) {
			ace_free(&A, d.off);
			continue;
		}
		echoed++;
		if (r == 1)
			raise_dev();
	}
	if (r < 0)
		bad++;
}

static void ping_step(void)
{
	struct ace_msg_desc d;
	u32 kecho, dummy;
	s64 off;
	int r;

	while (ace_recv(&A, &rx_ping, &d) == 1) {
		if (d.tag != (u32)pings_got || d.len != 64 ||
		    *(u32 *)ace_payload(&A, d.off) != 0xace00000u + d.tag)
			bad++;
		ace_free(&A, d.off);
		pings_got++;
	}
	if (ping_done || ace_mproc_lookup(&A, "kecho", &kecho))
		return;
	while (pings_sent < n_ping && pings_sent - pings_got < WINDOW) {
		off = ace_alloc(&A, 64, hping);
		if (off < 0)
			return;
		*(u32 *)ace_payload(&A, (u32)off) = 0xace00000u + pings_sent;
		ace_msg(&A, (u32)off)->tag = pings_sent;
		r = ace_send(&A, hping, kecho, (u32)off, 64);
		if (r < 0) {
			ace_free(&A, (u32)off);
			return;
		}
		if (r == 1)
			raise_dev();
		pings_sent++;
	}
	if (pings_got == n_ping) {
		ping_done = 1;
		rounds++;
		ace_mproc_claim(&A, "hping-done", ACE_SIDE(ACE_SIDE_HOST, peer),
				ACE_MODE_POLL, &dummy);
		printf("HOSTPEER pinged kecho %d times\n", pings_got);
		fflush(stdout);
	}
}

/* Serve until both mprocs are armed with empty inboxes. */
static void service(void)
{
	int i;

	for (i = 0; map && i < 1000; i++) {
		echo_all();
		ping_step();
		if (ace_arm(&A, &rx_echo) == 0 && ace_arm(&A, &rx_ping) == 0)
			return;
	}
}

static int connect_socket(const char *path, int seconds)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	for (i = 0; i < seconds * 10; i++) {
		sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		close(sock);
		usleep(100000);
	}
	return -1;
}

/* Mail waiting after a long sleep, and no kick for it within another
 * second: a lost wake-up. */
static void check_stall(void)
{
	struct pollfd p = { kick_fd, POLLIN, 0 };

	if (!map || kick_fd < 0 || (!ace_pending_mail(&A, &rx_echo) &&
				    !ace_pending_mail(&A, &rx_ping)))
		return;
	if (poll(&p, 1, 1000) == 0) {
		stalls++;
		printf("HOSTPEER stall: mail without a doorbell\n");
	}
}

int main(int argc, char **argv)
{
	int i, seconds = 600;
	time_t end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n_ping = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			seconds = atoi(argv[++i]);
	}
	if (argc < 2 || connect_socket(argv[1], 60))
		return fprintf(stderr, "usage: ace_hostpeer SOCKET, or no socket\n"), 2;
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { kick_fd, POLLIN, 0 } };
		uint64_t v;
		int r = poll(p, kick_fd >= 0 ? 2 : 1, 5000);

		if (r == 0)
			check_stall();
		if (p[0].revents && handle_msg())
			break;
		if (kick_fd >= 0 && (p[1].revents & POLLIN) &&
		    read(kick_fd, &v, sizeof(v)) == sizeof(v))
			kicks += (long)v;
		service();
	}
	if (map && pings_sent && !ping_done)
		unfinished++;	/* pinging started, and was cut off */
	forge_stop();
	printf("HOSTPEER done: echoed %ld, %ld ping rounds of %d (%ld unfinished), kicks %ld, raises %ld, stalls %ld, bad %ld\n",
	       echoed, rounds, n_ping, unfinished, kicks, raises, stalls, bad);
	return rounds && !unfinished && !stalls && !bad ? 0 : 1;
}
