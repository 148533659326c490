// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_hostpeer - a small host peer for the VM tests: connects to a
 * virtio-ace device's socket, maps the guest's arena, and reports what it
 * sees or plays a simple part.
 *
 *   ace_hostpeer SOCKET probe            print the peer index, the arena
 *                                        and the mprocs in it
 *   ace_hostpeer SOCKET echo NAME SECS   serve as mproc NAME: send every
 *                                        message back to its sender
 *   ace_hostpeer SOCKET ping NAME DST N  send N messages to DST, check
 *                                        the replies, print round trips
 *   ace_hostpeer SOCKET burst DST N      send N messages (tags 0..N-1) to
 *                                        DST as fast as possible
 *   ace_hostpeer SOCKET hold SECS        stay connected (to be killed)
 *   ace_hostpeer SOCKET serve NAME SECS  echo as NAME across the guest's
 *                                        detaches and re-attaches (reboot,
 *                                        rmmod): claims NAME and a marker
 *                                        "arena-N" in the N-th arena seen
 *   ace_hostpeer SOCKET flood DST SECS   send to DST as fast as it takes
 *                                        them, across detaches and
 *                                        re-attaches; counts per arena
 *   ace_hostpeer SOCKET hostile SECS     a hostile host: attack every
 *                                        mproc named atk-KIND (see
 *                                        attacks[] below) once
 *   ace_hostpeer SOCKET grab N SECS      claim mproc "grabber", allocate
 *                                        N blocks and hold them for SECS
 *                                        (reading the device meanwhile)
 *   ace_hostpeer SOCKET hog N SECS       claim N mprocs (hog-0...), each
 *                                        holding 4 blocks, for SECS: its
 *                                        death costs the device a reclaim
 *   ace_hostpeer SOCKET blockfds SECS    make every fd the device gave
 *                                        blocking, fill the raise counter
 *                                        and the doorbell eventfd (if the
 *                                        device gave one: ABI 2.2) to
 *                                        their limit, serve mproc "stuck"
 *                                        and never read a kick, for SECS
 *   ace_hostpeer SOCKET scribble SECS    a peer that never reads its
 *                                        socket again (so never sees
 *                                        DETACH) and writes junk over the
 *                                        arena past its header for SECS
 *                                        or until SIGTERM, across guest
 *                                        reboots; counts the generations
 *                                        it wrote into
 *   ace_hostpeer SOCKET driver N SECS    the guest driver's own suite
 *                                        (guest-module/tests/vm-test.sh),
 *                                        on the raw peer ABI, without
 *                                        libace: see "driver" below
 *
 * probe also prints every shared mapping of the process (what a peer can
 * reach of the guest) and the size of the region fd it was given.
 *
 * Options before SOCKET: -t MS (wait this long for the device and the
 * arena, default 60000).  Exit 0 on success; every failure says why.
 *
 * Every command but driver goes through libace's connection code
 * (lib/ace_host.c); driver reads the device's socket itself and uses only
 * the shared core, so that the guest driver is tested against the peer
 * ABI as docs/device.md writes it, not against the library's reading of
 * it.  The driver section comes before lib/ace_host.h is included: a
 * call from it into libace does not compile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "../../shared/ace_core.h"

/*
 * ---- driver: the guest driver's peer, on the raw peer ABI ----
 *
 *   ace_hostpeer [-t MS] SOCKET driver N SECS
 *
 * Connects to the device's socket (retrying for up to MS, until QEMU has
 * created it), maps the guest's arena from the fds the device passes,
 * and then, on every arena the guest attaches:
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
 * It sleeps only on the kick fd (the guest's doorbell): a wake-up the
 * guest forgot shows up as a stall, which is counted and fails the run.
 * Exits when the device closes the socket (QEMU exited) or after SECS;
 * prints "HOSTPEER ..." lines; exit 0 if, on every arena, the pings all
 * came back, and nothing stalled or was malformed.
 *
 * Deliberately independent of libace: it tests the driver, not the
 * library (it uses the shared core only, and none of lib/).
 */
#define DRV_MAX_FDS	16
#define DRV_WINDOW	8
#define ACE_TEST_BREAK	0xdeadu	/* message type: "corrupt the arena" */
#define ACE_TEST_REPORT	0xdeafu	/* "report the arena broken to the device" */
#define ACE_TEST_FORGE	0xf00du	/* "forge the header of the next arena" */

static struct {
	int sock, kick_fd, raise_fd, peer;
	int fds[DRV_MAX_FDS], nfds;
	struct ace_arena a;
	void *map;
	u32 map_size;
	u32 hecho, hping;
	struct ace_rx rx_echo, rx_ping;
	int n_ping, ping_done, pings_sent, pings_got;
	long echoed, raises, kicks, stalls, bad, rounds, unfinished, claim_failed;
	/* the header forger */
	int forge_armed;
	pthread_t forger;
	volatile int forging;
	void *forge_map;
	u32 forge_size;
} D = { .sock = -1, .kick_fd = -1, .raise_fd = -1 };

static void drv_take_fds(struct msghdr *m)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int), i;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; i < n; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (D.nfds < DRV_MAX_FDS)
				D.fds[D.nfds++] = f;
			else
				close(f);
		}
	}
}

/* Read exactly len bytes, collecting any fds that come with them. */
static int drv_read_full(void *buf, size_t len)
{
	char cbuf[CMSG_SPACE(DRV_MAX_FDS * sizeof(int))];
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(D.sock, &m, MSG_CMSG_CLOEXEC);

		if (n <= 0)
			return -1;
		drv_take_fds(&m);
		got += (size_t)n;
	}
	return 0;
}

static void drv_raise(void)
{
	uint64_t one = 1;

	if (write(D.raise_fd, &one, sizeof(one)) == sizeof(one))
		D.raises++;
}

static void *drv_forge_main(void *unused)
{
	struct ace_arena fa;
	struct ace_geometry g;
	u8 *img = malloc(D.forge_size), *hdr = D.forge_map;
	time_t end = time(NULL) + 8;
	long n = 0;

	(void)unused;
	if (!img || ace_geometry_default(D.forge_size, ACE_MAX_MPROCS, &g) ||
	    ace_arena_init(&fa, img, D.forge_size, &g, 0)) {
		printf("HOSTPEER forger: cannot build a header\n");
		free(img);
		return NULL;
	}
	/* every byte of the header but the generation (0x28..0x2f), which
	 * must stay the guest's for the device to take the arena */
	while (D.forging && time(NULL) < end) {
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

static void drv_forge_stop(void)
{
	if (!D.forge_map)
		return;
	D.forging = 0;
	pthread_join(D.forger, NULL);
	munmap(D.forge_map, D.forge_size);
	D.forge_map = NULL;
}

static void drv_send_broken(void)
{
	struct {
		struct ace_peer_msg h;
		struct ace_peer_broken b;
	} m;

	memset(&m, 0, sizeof(m));
	m.h.magic = ACE_PEER_MAGIC;
	m.h.type = ACE_PEER_BROKEN;
	m.h.len = sizeof(m.b);
	m.b.generation = D.a.generation;
	m.b.value = 0xdeaf;
	m.b.peer = D.peer;
	strcpy(m.b.why, "the test asked for it");
	if (write(D.sock, &m, sizeof(m)) == sizeof(m))
		printf("HOSTPEER reported the arena broken as asked\n");
}

static void drv_unmap_arena(void)
{
	if (D.map && D.pings_sent && !D.ping_done)
		D.unfinished++;	/* pinging started, and was cut off */
	if (D.map && D.forge_armed) {
		/* keep the mapping: the forger writes through it */
		D.forge_armed = 0;
		D.forge_map = D.map;
		D.forge_size = D.map_size;
		D.forging = 1;
		if (pthread_create(&D.forger, NULL, drv_forge_main, NULL)) {
			D.forging = 0;
			munmap(D.map, D.map_size);
			D.forge_map = NULL;
		} else {
			printf("HOSTPEER forging the next arena's header\n");
		}
	} else if (D.map) {
		munmap(D.map, D.map_size);
	}
	D.map = NULL;
	D.hecho = D.hping = 0;
}

static int drv_map_arena(const struct ace_peer_arena *pa, int region_fd)
{
	int err;

	drv_unmap_arena();
	drv_forge_stop();
	D.map_size = pa->arena_size;
	D.map = mmap(NULL, D.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		     region_fd, 0);
	if (D.map == MAP_FAILED)
		return D.map = NULL, -1;
	err = ace_arena_attach(&D.a, D.map, D.map_size);
	if (err) {
		/* a late ARENA for an arena the guest is already replacing
		 * (a recovery followed by a reload): wait for the next one */
		printf("HOSTPEER attach failed: %s; waiting for the next arena\n",
		       ace_arena_why(&D.a));
		munmap(D.map, D.map_size);
		D.map = NULL;
		return 0;
	}
	if ((err = ace_mproc_claim(&D.a, "hecho", ACE_SIDE(ACE_SIDE_HOST, D.peer),
				   ACE_MODE_INTERRUPT, &D.hecho)) ||
	    (err = ace_mproc_claim(&D.a, "hping", ACE_SIDE(ACE_SIDE_HOST, D.peer),
				   ACE_MODE_INTERRUPT, &D.hping))) {
		/* the same late ARENA, caught later: the guest reformats
		 * it under us.  Not a reason to stop serving: the guest's
		 * next ARENA follows (a claim that failed for any other
		 * reason fails the guest's checks, which wait for hecho) */
		printf("HOSTPEER claim failed: %s; waiting for the next arena\n",
		       strerror(-err));
		if (D.hecho)
			ace_mproc_release(&D.a, D.hecho);
		munmap(D.map, D.map_size);
		D.map = NULL;
		D.hecho = D.hping = 0;
		D.claim_failed++;
		return 0;
	}
	ace_rx_init(&D.rx_echo, D.hecho);
	ace_rx_init(&D.rx_ping, D.hping);
	D.ping_done = D.pings_sent = D.pings_got = 0;
	printf("HOSTPEER peer %d attached: %u bytes of a %u-byte region, generation %#llx\n",
	       D.peer, D.map_size, pa->region_size,
	       (unsigned long long)pa->generation);
	fflush(stdout);
	return 0;
}

static int drv_handle_msg(void)
{
	struct ace_peer_msg h;
	char *body = NULL;
	int err = 0;

	D.nfds = 0;
	if (drv_read_full(&h, sizeof(h)) || h.magic != ACE_PEER_MAGIC ||
	    h.len > 65536)
		return -1;
	body = calloc(1, h.len + 1);
	if (!body || (h.len && drv_read_full(body, h.len)))
		return free(body), -1;
	if (h.type == ACE_PEER_HELLO && D.nfds >= 2) {
		D.kick_fd = D.fds[0];
		D.raise_fd = D.fds[1];
		D.peer = ((struct ace_peer_hello *)body)->peer;
		printf("HOSTPEER hello: peer %d\n", D.peer);
	} else if (h.type == ACE_PEER_ARENA && D.nfds >= 1) {
		struct ace_peer_arena *pa = (void *)body;

		err = drv_map_arena(pa, D.fds[0]);
		close(D.fds[0]);
	} else if (h.type == ACE_PEER_DETACH) {
		printf("HOSTPEER detach\n");
		drv_unmap_arena();
	}
	free(body);
	return err;
}

/* Asked to (message type ACE_TEST_BREAK): act as a hostile host.  Put a
 * link that is no block into the inbox of the guest kernel's "kecho" and
 * raise it: the guest must notice, report and refuse, not crash. */
static void drv_hostile(void)
{
	u32 kecho;

	if (ace_mproc_lookup(&D.a, "kecho", &kecho))
		return;
	ace_store(&ace_mproc_at(&D.a, ACE_ID_SLOT(kecho))->inbox, 12345,
		  ACE_SEQ_CST);
	ace_pending_clear(&D.a, ACE_ID_SLOT(kecho));
	if (ace_pending_raise(&D.a, ACE_ID_SLOT(kecho)))
		drv_raise();
	printf("HOSTPEER corrupted kecho's inbox as asked\n");
}

static void drv_echo_all(void)
{
	struct ace_msg_desc d;
	int r;

	while ((r = ace_recv(&D.a, &D.rx_echo, &d)) == 1) {
		if (d.type == ACE_TEST_BREAK) {
			ace_free(&D.a, d.off);
			drv_hostile();
			continue;
		}
		if (d.type == ACE_TEST_REPORT) {
			ace_free(&D.a, d.off);
			drv_send_broken();
			continue;
		}
		if (d.type == ACE_TEST_FORGE) {
			ace_free(&D.a, d.off);
			D.forge_armed = 1;
			printf("HOSTPEER will forge the next arena's header\n");
			continue;
		}
		r = ace_send(&D.a, D.hecho, d.src, d.off, d.len);
		if (r < 0) {
			ace_free(&D.a, d.off);
			continue;
		}
		D.echoed++;
		if (r == 1)
			drv_raise();
	}
	if (r < 0)
		D.bad++;
}

static void drv_ping_step(void)
{
	struct ace_msg_desc d;
	u32 kecho, dummy;
	s64 off;
	int r;

	while (ace_recv(&D.a, &D.rx_ping, &d) == 1) {
		if (d.tag != (u32)D.pings_got || d.len != 64 ||
		    *(u32 *)ace_payload(&D.a, d.off) != 0xace00000u + d.tag)
			D.bad++;
		ace_free(&D.a, d.off);
		D.pings_got++;
	}
	if (D.ping_done || ace_mproc_lookup(&D.a, "kecho", &kecho))
		return;
	while (D.pings_sent < D.n_ping && D.pings_sent - D.pings_got < DRV_WINDOW) {
		off = ace_alloc(&D.a, 64, D.hping);
		if (off < 0)
			return;
		*(u32 *)ace_payload(&D.a, (u32)off) = 0xace00000u + D.pings_sent;
		ace_msg(&D.a, (u32)off)->tag = D.pings_sent;
		r = ace_send(&D.a, D.hping, kecho, (u32)off, 64);
		if (r < 0) {
			ace_free(&D.a, (u32)off);
			return;
		}
		if (r == 1)
			drv_raise();
		D.pings_sent++;
	}
	if (D.pings_got == D.n_ping) {
		D.ping_done = 1;
		D.rounds++;
		ace_mproc_claim(&D.a, "hping-done", ACE_SIDE(ACE_SIDE_HOST, D.peer),
				ACE_MODE_POLL, &dummy);
		printf("HOSTPEER pinged kecho %d times\n", D.pings_got);
		fflush(stdout);
	}
}

/* Serve until both mprocs are armed with empty inboxes. */
static void drv_service(void)
{
	int i;

	for (i = 0; D.map && i < 1000; i++) {
		drv_echo_all();
		drv_ping_step();
		if (ace_arm(&D.a, &D.rx_echo) == 0 && ace_arm(&D.a, &D.rx_ping) == 0)
			return;
	}
}

static int drv_connect(const char *path, int ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	for (i = 0; i < ms / 100; i++) {
		D.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (!connect(D.sock, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		close(D.sock);
		usleep(100000);
	}
	D.sock = -1;
	return -1;
}

/* Mail waiting after a long sleep, and no kick for it within another
 * second: a lost wake-up. */
static void drv_check_stall(void)
{
	struct pollfd p = { D.kick_fd, POLLIN, 0 };

	if (!D.map || D.kick_fd < 0 || (!ace_pending_mail(&D.a, &D.rx_echo) &&
					!ace_pending_mail(&D.a, &D.rx_ping)))
		return;
	if (poll(&p, 1, 1000) == 0) {
		D.stalls++;
		printf("HOSTPEER stall: mail without a doorbell\n");
	}
}

static int cmd_driver(const char *path, int connect_ms, int n_ping, int seconds)
{
	time_t end;

	D.n_ping = n_ping;
	if (n_ping <= 0 || seconds <= 0) {
		fprintf(stderr, "ace_hostpeer: driver N SECS: both above 0\n");
		return 2;
	}
	if (drv_connect(path, connect_ms)) {
		fprintf(stderr, "ace_hostpeer: driver: cannot connect to %s within %d ms\n",
			path, connect_ms);
		return 2;
	}
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		struct pollfd p[2] = { { D.sock, POLLIN, 0 }, { D.kick_fd, POLLIN, 0 } };
		char v[256];
		ssize_t n;
		int r = poll(p, D.kick_fd >= 0 ? 2 : 1, 5000);

		if (r == 0)
			drv_check_stall();
		if (p[0].revents && drv_handle_msg())
			break;
		/* the kick fd is a socket: a byte per doorbell (ABI 2.1) */
		if (D.kick_fd >= 0 && (p[1].revents & POLLIN) &&
		    (n = recv(D.kick_fd, v, sizeof(v), MSG_DONTWAIT)) > 0)
			D.kicks += (long)n;
		drv_service();
	}
	if (D.map && D.pings_sent && !D.ping_done)
		D.unfinished++;	/* pinging started, and was cut off */
	drv_forge_stop();
	printf("HOSTPEER done: echoed %ld, %ld ping rounds of %d (%ld unfinished), kicks %ld, raises %ld, stalls %ld, bad %ld, claims failed %ld\n",
	       D.echoed, D.rounds, D.n_ping, D.unfinished, D.kicks, D.raises,
	       D.stalls, D.bad, D.claim_failed);
	return D.rounds && !D.unfinished && !D.stalls && !D.bad ? 0 : 1;
}

/* ---- every other command: through libace's connection code ---- */

#include "../../lib/ace_host.h"

static struct ace_host H;
static int timeout_ms = 60000;
static const char *sock_path;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "ace_hostpeer: %s: %s\n", what, H.err[0] ? H.err : "failed");
	exit(1);
}

static void list_mprocs(void)
{
	char name[ACE_NAME_MAX];
	u32 s, id, n = 0;

	for (s = 0; s < H.arena->a.nr_mprocs; s++) {
		if (ace_mproc_name(&H.arena->a, s, name, &id))
			continue;
		printf("mproc slot %u id 0x%x name %s side 0x%x\n", s, id, name,
		       ace_read_once(&ace_mproc_at(&H.arena->a, s)->side));
		n++;
	}
	printf("mprocs active: %u\n", n);
}

/* Every shared mapping of this process, and the region fd's size. */
static void print_shared_maps(void)
{
	char line[512], path[256], perms[8];
	unsigned long lo, hi;
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned int n = 0;

	printf("region fd %llu bytes\n", (unsigned long long)H.region_bytes);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &lo, &hi,
			   perms, path) < 3 || perms[3] != 's')
			continue;
		printf("shared mapping %lu bytes %s\n", hi - lo, path);
		n++;
	}
	fclose(f);
	printf("shared mappings: %u\n", n);
}

static int cmd_probe(void)
{
	u32 c;

	printf("peer %u of %u, section bound %u ns\n", H.peer, H.max_peers,
	       H.section_ns);
	printf("arena %u bytes, generation %llu, %u mproc slots, %u blocks\n",
	       H.size, (unsigned long long)H.generation, H.arena->a.nr_mprocs,
	       H.arena->a.total_blocks);
	for (c = 0; c < H.arena->a.nr_classes; c++)
		printf("class %u: %u blocks of %u bytes, %lld free\n", c,
		       H.arena->a.cls[c].nr, 1u << H.arena->a.cls[c].shift,
		       (long long)ace_free_count(&H.arena->a, c));
	list_mprocs();
	print_shared_maps();
	return ace_arena_broken(&H.arena->a) ? 1 : 0;
}

static volatile sig_atomic_t scribble_stop;

static void scribble_term(int sig)
{
	(void)sig;
	scribble_stop = 1;
}

/*
 * A peer that stopped reading its socket: it never learns of DETACH or a
 * reset, keeps its mapping and writes on.  Everything it writes lands in
 * the arena region; the header page is spared so that the generation of
 * the arena it is writing into stays readable.  SIGTERM ends it early
 * with its count (the test stops it once the guest's next boot has seen
 * it: a reboot under TCG takes as long as the host's load makes it).
 */
static int cmd_scribble(double secs)
{
	struct sigaction sa = { .sa_handler = scribble_term };
	double until = now() + secs;
	volatile u64 *w = H.arena->map;
	u64 words = H.size / 8, x = (u64)getpid() * 0x9e3779b97f4a7c15ull;
	u64 last = 0, writes = 0;
	u32 gens = 0, k;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	while (!scribble_stop && now() < until) {
		u64 gen = ((volatile struct ace_arena_hdr *)H.arena->map)->generation;

		if (gen && gen != last) {
			gens++;
			last = gen;
			printf("scribble: writing into arena generation %llu\n",
			       (unsigned long long)gen);
		}
		for (k = 0; k < 4096; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			w[ACE_HDR_SIZE / 8 + x % (words - ACE_HDR_SIZE / 8)] = x;
			writes++;
		}
		usleep(1000);
	}
	printf("scribble: %llu writes into %u arena generation(s)\n",
	       (unsigned long long)writes, gens);
	return 0;
}

/* Wait for mail: poll the inbox for a while, then sleep on the doorbell. */
static int wait_mail(struct ace_rx *rx, double until)
{
	struct pollfd p[2] = {
		{ .fd = H.kick_fd, .events = POLLIN },
		{ .fd = H.sock, .events = POLLIN },
	};
	int spins;

	for (spins = 0; spins < 20000; spins++)
		if (ace_pending_mail(&H.arena->a, rx))
			return 1;
	while (now() < until) {
		if (ace_arm(&H.arena->a, rx)) {
			ace_disarm(&H.arena->a, rx);
			return 1;
		}
		poll(p, 2, 100);
		ace_disarm(&H.arena->a, rx);
		if (p[0].revents & POLLIN)
			ace_host_take_kicks(&H);
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if (ace_host_process(&H, 0) < 0)
				die("device");
			if (!H.attached) {
				fprintf(stderr, "ace_hostpeer: the guest detached the arena\n");
				exit(1);
			}
		}
		if (ace_pending_mail(&H.arena->a, rx))
			return 1;
	}
	return 0;
}

static u32 claim(const char *name)
{
	u32 id;
	int r = ace_mproc_claim(&H.arena->a, name, ACE_SIDE(ACE_SIDE_HOST, H.peer),
				ACE_MODE_ADAPTIVE, &id);

	if (r) {
		fprintf(stderr, "ace_hostpeer: claim %s: %s\n", name, strerror(-r));
		exit(1);
	}
	ace_mproc_at(&H.arena->a, ACE_ID_SLOT(id))->pid = (u32)getpid();
	return id;
}

static void send_or_die(u32 src, u32 dst, u32 off, u32 len)
{
	int r = ace_send(&H.arena->a, src, dst, off, len);

	if (r < 0) {
		fprintf(stderr, "ace_hostpeer: send: %s (%s)\n", strerror(-r),
			ace_arena_why(&H.arena->a));
		exit(1);
	}
	if (r == 1 && ace_host_raise(&H))
		die("raise");
}

static int cmd_echo(const char *name, double secs)
{
	struct ace_rx rx;
	struct ace_msg_desc d;
	double until = now() + secs;
	u64 n = 0;
	u32 me = claim(name);

	ace_rx_init(&rx, me);
	printf("echo: serving as %s (id 0x%x)\n", name, me);
	fflush(stdout);
	while (wait_mail(&rx, until)) {
		while (ace_recv(&H.arena->a, &rx, &d) == 1) {
			send_or_die(me, d.src, d.off, d.len);
			n++;
		}
		if (ace_arena_broken(&H.arena->a))
			break;
	}
	printf("echo: answered %llu messages\n", (unsigned long long)n);
	if (ace_arena_broken(&H.arena->a)) {
		printf("echo: arena broken: %s\n", ace_arena_why(&H.arena->a));
		return 1;
	}
	ace_mproc_release(&H.arena->a, me);
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmd_ping(const char *name, const char *dst_name, u32 count)
{
	struct ace_rx rx;
	struct ace_msg_desc d;
	double *rtt = calloc(count, sizeof(double)), until = now() + timeout_ms / 1e3;
	u32 me = claim(name), dst, i;

	while (ace_mproc_lookup(&H.arena->a, dst_name, &dst)) {
		if (now() > until) {
			fprintf(stderr, "ace_hostpeer: %s never appeared\n", dst_name);
			return 1;
		}
		usleep(10000);
	}
	ace_rx_init(&rx, me);
	for (i = 0; i < count; i++) {
		s64 off = ace_alloc(&H.arena->a, 64, me);
		double t0 = now();

		if (off <= 0) {
			fprintf(stderr, "ace_hostpeer: alloc: %lld\n", (long long)off);
			return 1;
		}
		memset(ace_payload(&H.arena->a, (u32)off), (int)(i & 0xff), 64);
		ace_msg(&H.arena->a, (u32)off)->tag = i;
		send_or_die(me, dst, (u32)off, 64);
		if (!wait_mail(&rx, t0 + 10) || ace_recv(&H.arena->a, &rx, &d) != 1) {
			fprintf(stderr, "ace_hostpeer: no reply to message %u\n", i);
			return 1;
		}
		rtt[i] = now() - t0;
		if (d.tag != i || d.len != 64 ||
		    ((u8 *)ace_payload(&H.arena->a, d.off))[63] != (u8)i) {
			fprintf(stderr, "ace_hostpeer: reply %u is wrong (tag %u len %u)\n",
				i, d.tag, d.len);
			return 1;
		}
		ace_free(&H.arena->a, d.off);
	}
	qsort(rtt, count, sizeof(double), cmp_d);
	printf("ping: %u round trips to %s, p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       count, dst_name, rtt[count / 2] * 1e6, rtt[count * 99 / 100] * 1e6,
	       rtt[count - 1] * 1e6);
	ace_mproc_release(&H.arena->a, me);
	return 0;
}

static int device_poll(const char *who, int ms);

static int cmd_burst(const char *dst_name, u32 count)
{
	double until = now() + timeout_ms / 1e3;
	char name[32];
	u32 me, dst, i, kicks = 0;

	snprintf(name, sizeof(name), "burst-%d", (int)getpid());
	me = claim(name);
	while (ace_mproc_lookup(&H.arena->a, dst_name, &dst)) {
		if (now() > until) {
			fprintf(stderr, "ace_hostpeer: %s never appeared\n", dst_name);
			return 1;
		}
		usleep(10000);
	}
	for (i = 0; i < count; i++) {
		s64 off = ace_alloc(&H.arena->a, 64, me);
		int r;

		if (off <= 0) {
			fprintf(stderr, "ace_hostpeer: alloc: %lld\n", (long long)off);
			return 1;
		}
		ace_msg(&H.arena->a, (u32)off)->tag = i;
		r = ace_send(&H.arena->a, me, dst, (u32)off, 64);
		if (r < 0) {
			fprintf(stderr, "ace_hostpeer: send: %s\n", strerror(-r));
			return 1;
		}
		if (r == 1) {
			kicks++;
			if (ace_host_raise(&H))
				die("raise");
		}
	}
	printf("burst: %u messages to %s, %u kick(s)\n", count, dst_name, kicks);
	/*
	 * Our mproc stays open until we exit: the device closes it then.
	 * Linger a little, so that a forwarder (ace-bridge, which drops a
	 * message whose sender is no longer a live mproc) sees us alive.
	 */
	for (i = 0; i < 20; i++)
		if (device_poll("burst", 100))
			break;
	return 0;
}

/* ---- across arenas: serve and flood ---- */

/* Claim `name` in the current arena; 0 if that fails (said why). */
static u32 claim_soft(const char *name, unsigned mode)
{
	u32 id;
	int r = ace_mproc_claim(&H.arena->a, name, ACE_SIDE(ACE_SIDE_HOST, H.peer),
				mode, &id);

	if (r) {
		printf("claim %s: %s\n", name, strerror(-r));
		return 0;
	}
	ace_mproc_at(&H.arena->a, ACE_ID_SLOT(id))->pid = (u32)getpid();
	return id;
}

/* Read what the device sent, waiting up to ms.  -1 once it is gone
 * (QEMU exited): said, and the caller winds up. */
static int device_poll(const char *who, int ms)
{
	if (ace_host_process(&H, ms) >= 0)
		return 0;
	printf("%s: the device is gone: %s\n", who, H.err);
	return -1;
}

static int cmd_serve(const char *name, double secs)
{
	double until = now() + secs;
	u64 epoch = H.epoch - 1;
	u32 me = 0, arenas = 0;
	u64 n = 0, total = 0;
	struct ace_msg_desc d;
	struct ace_rx rx;
	char mark[32];

	while (now() < until) {
		struct pollfd p[2] = {
			{ .fd = H.kick_fd, .events = POLLIN },
			{ .fd = H.sock, .events = POLLIN },
		};
		int r;

		if (H.epoch != epoch) {
			if (me)
				printf("serve: arena %u gone after %llu messages\n",
				       arenas, (unsigned long long)n);
			epoch = H.epoch;
			me = 0;
			n = 0;
			if (H.attached) {
				arenas++;
				me = claim_soft(name, ACE_MODE_INTERRUPT);
				snprintf(mark, sizeof(mark), "arena-%u", arenas);
				claim_soft(mark, ACE_MODE_POLL);
				ace_rx_init(&rx, me);
				printf("serve: arena %u attached (generation %llu): serving as %s\n",
				       arenas, (unsigned long long)H.generation, name);
			}
		}
		if (!me || ace_arena_broken(&H.arena->a)) {
			if (device_poll("serve", 100))
				break;
			continue;
		}
		while (ace_recv(&H.arena->a, &rx, &d) == 1) {
			r = ace_send(&H.arena->a, me, d.src, d.off, d.len);
			if (r < 0)
				ace_free(&H.arena->a, d.off);
			else if (r == 1)
				ace_host_raise(&H);
			n++;
			total++;
		}
		if (ace_arm(&H.arena->a, &rx) == 0)
			poll(p, 2, 50);
		ace_disarm(&H.arena->a, &rx);
		if (p[0].revents & POLLIN)
			ace_host_take_kicks(&H);
		if ((p[1].revents & (POLLIN | POLLHUP)) && device_poll("serve", 0))
			break;
	}
	printf("serve: %llu messages in %u arena(s)\n", (unsigned long long)total,
	       arenas);
	return arenas ? 0 : 1;
}

static int cmd_grab(u32 n, double secs)
{
	double until = now() + secs;
	u32 me = claim_soft("grabber", ACE_MODE_POLL), got = 0;

	while (me && got < n && ace_alloc(&H.arena->a, 64, me) > 0)
		got++;
	printf("grab: holding %u block(s)\n", got);
	while (now() < until)
		if (device_poll("grab", 100))
			break;
	return me && got == n ? 0 : 1;
}

static int cmd_flood(const char *dst_name, double secs)
{
	double until = now() + secs;
	u64 epoch = H.epoch - 1;
	u32 me = 0, dst = 0, arenas = 0, fed = 0, i = 0;
	u64 sent = 0, total = 0;
	char name[32];

	snprintf(name, sizeof(name), "flood-%d", (int)getpid());
	while (now() < until) {
		s64 off;
		int r;

		if (H.epoch != epoch) {
			if (me)
				printf("flood: arena %u: sent %llu\n", arenas,
				       (unsigned long long)sent);
			fed += me && sent;
			epoch = H.epoch;
			me = dst = 0;
			sent = 0;
			if (H.attached) {
				arenas++;
				me = claim_soft(name, ACE_MODE_POLL);
			}
		}
		if (!me || ace_arena_broken(&H.arena->a)) {
			if (device_poll("flood", 100))
				break;
			continue;
		}
		if (!dst && ace_mproc_lookup(&H.arena->a, dst_name, &dst)) {
			dst = 0;
			if (device_poll("flood", 10))
				break;
			continue;
		}
		/* a sender that never waits still reads its socket often:
		 * after DETACH the guest will reuse the arena's pages */
		if (!(++i & 63) && device_poll("flood", 0))
			break;
		off = ace_alloc(&H.arena->a, 64, me);
		if (off <= 0) {
			if (device_poll("flood", 1))	/* the guest frees slowly */
				break;
			continue;
		}
		ace_msg(&H.arena->a, (u32)off)->tag = (u32)sent;
		r = ace_send(&H.arena->a, me, dst, (u32)off, 64);
		if (r < 0) {
			ace_free(&H.arena->a, (u32)off);
			dst = 0;	/* gone: look it up again */
			continue;
		}
		if (r == 1)
			ace_host_raise(&H);
		sent++;
		total++;
	}
	/* the arena being fed when the device went (its end is an arena
	 * event too: the epoch moved, but the loop ended before it looked) */
	if (me)
		printf("flood: arena %u: sent %llu\n", arenas, (unsigned long long)sent);
	fed += me && sent;
	printf("flood: %llu messages to %s, %u arena(s), %u fed\n",
	       (unsigned long long)total, dst_name, arenas, fed);
	return fed ? 0 : 1;
}

/* ---- a hostile host ---- */

#define ATK_DONE	0xa77acu	/* message type: "the attack is done" */
#define STORM_SECS	5
#define CHURN_PEERS	40

static u32 me;		/* our own mproc in the current arena */
static u64 me_epoch;

static u32 hostile_self(void)
{
	if (me && me_epoch == H.epoch)
		return me;
	me = claim_soft("hostile", ACE_MODE_POLL);
	me_epoch = H.epoch;
	return me;
}

static struct ace_mproc *slot_of(u32 id)
{
	return ace_mproc_at(&H.arena->a, ACE_ID_SLOT(id));
}

static u64 *pending_word(u32 w)
{
	return (u64 *)((u8 *)H.arena->a.base + H.arena->a.pending_off) + w;
}

/* Make the device look at the victim: its pending bit, then a raise. */
static void poke(u32 victim)
{
	ace_pending_raise(&H.arena->a, ACE_ID_SLOT(victim));
	ace_host_raise(&H);
}

/* A block of ours to forge a message in (or to send "done" in later). */
static u32 new_block(void)
{
	s64 off = hostile_self() ? ace_alloc(&H.arena->a, 64, me) : -ENOENT;

	if (off <= 0) {
		printf("hostile: no block: %lld (%s)\n", (long long)off,
		       ace_arena_why(&H.arena->a));
		return 0;
	}
	memset(ace_payload(&H.arena->a, (u32)off), 0xa7, 64);
	return (u32)off;
}

/* Forge a header that says "in flight to victim". */
static void forge(u32 off, u32 victim, u32 len)
{
	struct ace_msg *m = ace_msg(&H.arena->a, off);

	m->len = len;
	m->src = me;
	m->dst = victim;
	m->type = 0;
	m->tag = 0;
	m->owner = victim;
	ace_store(&m->flags, ACE_MSG_QUEUED, ACE_RELEASE);
}

/* Push a forged chain first..last onto the victim's inbox. */
static void push(u32 victim, u32 first, u32 last)
{
	u32 *inbox = &slot_of(victim)->inbox;
	u32 head = ace_load(inbox, ACE_RELAXED);

	do
		ace_store(&ace_msg(&H.arena->a, last)->next, head, ACE_RELAXED);
	while (!ace_cas(inbox, &head, first, ACE_SEQ_CST));
}

/* Tell the victim (a proper message) that the attack is done. */
static void send_done(u32 off, u32 victim)
{
	int r;

	ace_msg(&H.arena->a, off)->type = ATK_DONE;
	r = ace_send(&H.arena->a, me, victim, off, 8);
	if (r == 1)
		ace_host_raise(&H);
	else if (r < 0)
		printf("hostile: cannot tell the victim: %s\n", strerror(-r));
}

/* The victim sleeps (armed), so what we do next must wake it. */
static void wait_armed(u32 victim)
{
	double until = now() + 10;

	while (!(ace_load(&slot_of(victim)->notify, ACE_SEQ_CST) & ACE_NOTIFY_ARMED) &&
	       now() < until)
		usleep(1000);
}

static void atk_oob(u32 v)	/* an inbox link past the arena's end */
{
	ace_store(&slot_of(v)->inbox, H.size + 4096, ACE_SEQ_CST);
	poke(v);
}

static void atk_misaligned(u32 v)	/* an inbox link inside a block */
{
	ace_store(&slot_of(v)->inbox, ace_handle(&H.arena->a, 0, 0) + 8, ACE_SEQ_CST);
	poke(v);
}

static void atk_cycle(u32 v)	/* two forged messages linked to each other */
{
	u32 a = new_block(), b = new_block();

	if (!a || !b)
		return;
	forge(a, v, 8);
	forge(b, v, 8);
	ace_store(&ace_msg(&H.arena->a, a)->next, b, ACE_RELAXED);
	ace_store(&ace_msg(&H.arena->a, b)->next, a, ACE_RELAXED);
	ace_store(&slot_of(v)->inbox, a, ACE_SEQ_CST);
	poke(v);
}

static void atk_len(u32 v)	/* a message longer than its block */
{
	u32 a = new_block();

	if (!a)
		return;
	forge(a, v, 1u << 20);
	push(v, a, a);
	poke(v);
}

static void atk_state(u32 v)	/* the victim's slot state: garbage */
{
	ace_store(&slot_of(v)->state, 0xdeadbeefu, ACE_SEQ_CST);
	poke(v);
}

static void atk_gen(u32 v)	/* the victim's slot, a later generation */
{
	ace_store(&slot_of(v)->state,
		  ACE_SLOT_WORD(ACE_ID_GEN(v) + 1, ACE_SLOT_ACTIVE), ACE_SEQ_CST);
	poke(v);
}

/* A forged ACE section (depth 3) on a sleeping victim, then a message: the
 * section's time bound must still deliver it. */
static void atk_section(u32 v)
{
	u32 *nw = &slot_of(v)->notify, n, a = new_block();

	if (!a)
		return;
	n = ace_load(nw, ACE_SEQ_CST);
	while (!ace_cas(nw, &n, (n & ~ACE_NOTIFY_DEPTH_MASK) | 3, ACE_SEQ_CST))
		;
	send_done(a, v);
}

static void atk_notify(u32 v)	/* every bit of the notify word set */
{
	u32 a = new_block();

	if (!a)
		return;
	ace_store(&slot_of(v)->notify, 0xffffffffu, ACE_SEQ_CST);
	send_done(a, v);
}

static void atk_freelist(u32 v)	/* class 0's free-list head misaligned */
{
	struct ace_arena_hdr *h = ace_hdr(&H.arena->a);
	u32 a = new_block();
	u64 old;

	if (!a)
		return;
	old = ace_load(&h->free[0].head, ACE_SEQ_CST);
	ace_store(&h->free[0].head, ((old >> 32) + 1) << 32 |
		  (ace_handle(&H.arena->a, 0, 0) + 8), ACE_SEQ_CST);
	send_done(a, v);
}

static void atk_header(u32 v)	/* magic and geometry scribbled over */
{
	struct ace_arena_hdr *h = ace_hdr(&H.arena->a);
	u32 a = new_block();

	if (!a)
		return;
	ace_store(&h->magic, 0x0badf00du, ACE_RELAXED);
	ace_store(&h->size, 12345u, ACE_RELAXED);
	ace_store(&h->nr_classes, 99u, ACE_RELAXED);
	ace_store(&h->classes[0].block_size, 3u, ACE_RELAXED);
	ace_store(&h->classes[1].base, 0xfffff000u, ACE_SEQ_CST);
	send_done(a, v);
}

/* Every free slot: ACTIVE with a junk generation, a name without a NUL,
 * an impossible peer, a junk inbox and notify word. */
static void atk_table(u32 v)
{
	u32 s, n = 0, a = new_block();

	if (!a)
		return;
	for (s = 0; s < H.arena->a.nr_mprocs; s++) {
		struct ace_mproc *e = ace_mproc_at(&H.arena->a, s);

		if (ACE_SLOT_STATE(ace_load(&e->state, ACE_ACQUIRE)) != ACE_SLOT_FREE)
			continue;
		memset(e->name, 0xff, sizeof(e->name));
		ace_store(&e->side, ACE_SIDE(ACE_SIDE_HOST, 200), ACE_RELAXED);
		ace_store(&e->inbox, 7u, ACE_RELAXED);
		ace_store(&e->notify, 0xffffffffu, ACE_RELAXED);
		ace_store(&e->state, ACE_SLOT_WORD(0xabcde, ACE_SLOT_ACTIVE), ACE_RELEASE);
		n++;
	}
	printf("hostile: %u free slots filled with junk\n", n);
	send_done(a, v);
}

/* An interrupt storm: every pending bit set, the device raised, in a
 * tight loop. */
static void atk_storm(u32 v)
{
	double end = now() + STORM_SECS;
	u32 a = new_block(), w;
	u64 n = 0;

	if (!a)
		return;
	while (now() < end) {
		for (w = 0; w < H.arena->a.nr_pending_words; w++)
			ace_store(pending_word(w), ~0ull, ACE_SEQ_CST);
		if (ace_host_raise(&H))
			break;
		n++;
	}
	printf("hostile: storm: %llu raises in %d s\n", (unsigned long long)n,
	       STORM_SECS);
	send_done(a, v);
}

/* Peers that come and go as fast as they can. */
static void atk_churn(u32 v)
{
	u32 a = new_block(), i, n = 0;

	if (!a)
		return;
	for (i = 0; i < CHURN_PEERS; i++) {
		struct ace_host h2;

		if (!ace_host_connect(&h2, sock_path, 5000)) {
			ace_host_close(&h2);
			n++;
		}
	}
	printf("hostile: churn: %u peers came and went\n", n);
	send_done(a, v);
}

/*
 * A peer that vanishes mid-message: another connection claims "vanisher",
 * keeps 20 blocks, sends the sleeping victim 10 messages (tags 0..9)
 * without raising the device, leaves one slot half-claimed, and exits.
 * The device must reap both slots; the guest must still wake the victim.
 */
static void atk_vanish(u32 v)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		u32 vm, id, i, s;
		char buf[ACE_NAME_MAX];

		ace_host_close(&H);
		if (ace_host_connect(&H, sock_path, 10000) ||
		    ace_host_wait_arena(&H, 10000) ||
		    ace_mproc_lookup(&H.arena->a, "atk-vanish", &id) || id != v)
			_exit(1);
		vm = claim_soft("vanisher", ACE_MODE_POLL);
		if (!vm)
			_exit(1);
		for (i = 0; i < 20; i++)
			if (ace_alloc(&H.arena->a, 200, vm) <= 0)
				_exit(1);
		for (i = 0; i < 10; i++) {
			s64 off = ace_alloc(&H.arena->a, 64, vm);

			if (off <= 0)
				_exit(1);
			ace_msg(&H.arena->a, (u32)off)->tag = i;
			if (ace_send(&H.arena->a, vm, v, (u32)off, 64) < 0)
				_exit(1);
		}
		for (s = 0; s < H.arena->a.nr_mprocs; s++) {
			struct ace_mproc *e = ace_mproc_at(&H.arena->a, s);
			u32 st0 = ace_load(&e->state, ACE_ACQUIRE);

			if (ACE_SLOT_STATE(st0) != ACE_SLOT_FREE ||
			    ace_mproc_name(&H.arena->a, s, buf, NULL) != -ENOENT)
				continue;
			if (!ace_cas(&e->state, &st0,
				     ACE_SLOT_WORD(ACE_SLOT_GEN(st0) + 1, ACE_SLOT_CLAIMING),
				     ACE_ACQ_REL))
				continue;
			ace_store(&e->side, ACE_SIDE(ACE_SIDE_HOST, H.peer), ACE_RELEASE);
			memcpy(e->name, "half-cl", 7);
			break;
		}
		printf("hostile: vanisher (peer %u) holds 20 blocks, sent 10 unannounced, left slot %u half-claimed; exiting\n",
		       H.peer, s);
		fflush(stdout);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
		printf("hostile: the vanisher failed (status %d)\n", st);
}

static const struct attack {
	const char *kind;
	int armed;		/* wait until the victim sleeps */
	void (*fn)(u32 victim);
} attacks[] = {
	{ "oob", 0, atk_oob },		{ "koob", 0, atk_oob },
	{ "misaligned", 0, atk_misaligned },
	{ "cycle", 0, atk_cycle },	{ "len", 0, atk_len },
	{ "klen", 0, atk_len },		{ "state", 1, atk_state },
	{ "gen", 1, atk_gen },		{ "section", 1, atk_section },
	{ "notify", 1, atk_notify },	{ "freelist", 0, atk_freelist },
	{ "header", 0, atk_header },	{ "table", 0, atk_table },
	{ "storm", 1, atk_storm },	{ "churn", 0, atk_churn },
	{ "vanish", 1, atk_vanish },
};

static void attack(const char *kind, u32 victim)
{
	u64 epoch = H.epoch;
	size_t i;

	for (i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		if (strcmp(kind, attacks[i].kind))
			continue;
		if (attacks[i].armed)
			wait_armed(victim);
		/* Waiting can take seconds, and the arena region outlives a
		 * device reset: act only if the arena is still the one we
		 * were told of (the DETACH is read, the header agrees). */
		if (device_poll("hostile", 0) || H.epoch != epoch ||
		    ace_read_once(&ace_hdr(&H.arena->a)->generation) != H.generation) {
			printf("hostile: %s on atk-%s: the arena changed meanwhile\n",
			       kind, kind);
			return;
		}
		printf("hostile: %s on atk-%s (id 0x%x)\n", kind, kind, victim);
		attacks[i].fn(victim);
		return;
	}
	printf("hostile: no attack called %s\n", kind);
}

static int cmd_hostile(double secs)
{
	static u32 done[4 * ACE_MAX_MPROCS];
	double until = now() + secs;
	u64 epoch = H.epoch - 1;
	u32 ndone = 0, n = 0, s, id, k;
	char name[ACE_NAME_MAX];

	printf("hostile: attacking every atk-KIND mproc for %.0f s\n", secs);
	while (now() < until) {
		if (device_poll("hostile", 10))
			break;
		if (H.epoch != epoch) {
			epoch = H.epoch;
			ndone = 0;
			if (H.attached)
				printf("hostile: arena generation %llu\n",
				       (unsigned long long)H.generation);
		}
		for (s = 0; H.attached && s < H.arena->a.nr_mprocs; s++) {
			if (ace_mproc_name(&H.arena->a, s, name, &id) ||
			    strncmp(name, "atk-", 4))
				continue;
			for (k = 0; k < ndone && done[k] != id; k++)
				;
			if (k < ndone || ndone == sizeof(done) / sizeof(done[0]))
				continue;
			/* The arena region outlives a device reset: an attack
			 * may have taken seconds, and a DETACH and a new arena
			 * may be waiting.  Act only on the arena we were told
			 * of (a peer acting on a view it has not refreshed
			 * would damage the new arena, as a slow one may). */
			if (device_poll("hostile", 0) || H.epoch != epoch)
				break;
			done[ndone++] = id;
			attack(name + 4, id);
			n++;
		}
	}
	printf("hostile: %u attack(s)\n", n);
	return 0;
}

static int cmd_hog(u32 n, double secs)
{
	double until = now() + secs;
	u32 got = 0, blocks = 0, i, k;
	char name[32];

	for (i = 0; i < n; i++) {
		u32 id;

		snprintf(name, sizeof(name), "hog-%u", i);
		id = claim_soft(name, ACE_MODE_POLL);
		if (!id)
			break;
		got++;
		for (k = 0; k < 4; k++)
			blocks += ace_alloc(&H.arena->a, 64 << k, id) > 0;
	}
	printf("hog: %u slot(s), %u block(s)\n", got, blocks);
	while (now() < until)
		if (device_poll("hog", 100))
			break;
	return got == n ? 0 : 1;
}

static int set_blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

static int cmd_blockfds(double secs)
{
	double until = now() + secs;
	u64 full = 0xfffffffffffffffeull;
	u32 id = claim_soft("stuck", ACE_MODE_INTERRUPT);

	if (!id || set_blocking(H.kick_fd) || set_blocking(H.raise_fd) ||
	    set_blocking(H.sock)) {
		fprintf(stderr, "ace_hostpeer: blockfds: %s\n", strerror(errno));
		return 1;
	}
	/* the device reads the raise counter: from its limit too */
	if (write(H.raise_fd, &full, sizeof(full)) != sizeof(full))
		fprintf(stderr, "ace_hostpeer: raise: %s\n", strerror(errno));
	/* the doorbell's eventfd: at its limit and blocking, the next
	 * signal of it waits (under TCG: the vCPU thread, with the BQL) */
	if (H.bell_fd >= 0 && (set_blocking(H.bell_fd) ||
			       write(H.bell_fd, &full, sizeof(full)) != sizeof(full)))
		fprintf(stderr, "ace_hostpeer: bell: %s\n", strerror(errno));
	printf("blockfds: fds blocking, raise counter at its limit, %s\n",
	       H.bell_fd >= 0 ? "bell filled" : "no bell");
	/* never read a kick; now and then fill the raise counter again */
	while (now() < until) {
		usleep(200000);
		if (write(H.raise_fd, &full, sizeof(full)) < 0 && errno != EAGAIN)
			break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-t")) {
		timeout_ms = atoi(argv[2]);
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: ace_hostpeer [-t MS] SOCKET probe|echo NAME SECS|"
			"ping NAME DST N|burst DST N|hold SECS|serve NAME SECS|"
			"flood DST SECS|hostile SECS|grab N SECS|scribble SECS|hog N SECS|"
			"blockfds SECS|driver N SECS\n");
		return 2;
	}
	sock_path = argv[i];
	if (!strcmp(argv[i + 1], "driver") && argc - i == 4)
		return cmd_driver(argv[i], timeout_ms, atoi(argv[i + 2]),
				  atoi(argv[i + 3]));
	if (ace_host_connect(&H, argv[i], timeout_ms))
		die("connect");
	printf("connected: peer %u\n", H.peer);
	if (!strcmp(argv[i + 1], "hold")) {
		sleep(argc > i + 2 ? atoi(argv[i + 2]) : 60);
		return 0;
	}
	if (ace_host_wait_arena(&H, timeout_ms))
		die("arena");
	if (!strcmp(argv[i + 1], "probe"))
		return cmd_probe();
	if (!strcmp(argv[i + 1], "echo") && argc - i == 4)
		return cmd_echo(argv[i + 2], atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "burst") && argc - i == 4)
		return cmd_burst(argv[i + 2], (u32)atoi(argv[i + 3]));
	if (!strcmp(argv[i + 1], "ping") && argc - i == 5)
		return cmd_ping(argv[i + 2], argv[i + 3], (u32)atoi(argv[i + 4]));
	if (!strcmp(argv[i + 1], "serve") && argc - i == 4)
		return cmd_serve(argv[i + 2], atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "flood") && argc - i == 4)
		return cmd_flood(argv[i + 2], atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "hostile") && argc - i == 3)
		return cmd_hostile(atof(argv[i + 2]));
	if (!strcmp(argv[i + 1], "grab") && argc - i == 4)
		return cmd_grab((u32)atoi(argv[i + 2]), atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "scribble") && argc - i == 3)
		return cmd_scribble(atof(argv[i + 2]));
	if (!strcmp(argv[i + 1], "hog") && argc - i == 4)
		return cmd_hog((u32)atoi(argv[i + 2]), atof(argv[i + 3]));
	if (!strcmp(argv[i + 1], "blockfds") && argc - i == 3)
		return cmd_blockfds(atof(argv[i + 2]));
	fprintf(stderr, "ace_hostpeer: unknown command %s\n", argv[i + 1]);
	return 2;
}
