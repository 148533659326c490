// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * bench_insn - the hot path's cost in instructions, counted exactly.
 *
 * Run under callgrind (tests/bench/insn.sh does, for `make bench-insn`
 * and for the regression guard in `make test`): each part runs its loop
 * WARM times, the counters are zeroed, it runs N more times, and the
 * counts are dumped under the part's name.  Instructions per message are
 * the dump's total divided by N, loop and checks included.
 *
 *   core           ace_cache_alloc, ace_send, ace_recv, ace_cache_free
 *                  of one mproc sending to itself: every block comes
 *                  back to the cache it left (as in any request/reply)
 *   libace         the same through ace_mp_alloc/send/recv/free
 *   core-stream    A allocates and sends, B receives and frees into its
 *                  own cache: a one-way stream, so A's cache refills and
 *                  B's spills, both in chains, amortized here
 *   libace-stream  the same through libace
 *   rtt            both sides of a polled round trip through libace: A
 *                  allocs and sends, B receives and sends the block back,
 *                  A receives and frees
 *   rtt-core       the same round trip through the core alone
 *   poll           the polling side of a round trip as a guest's ace-ping
 *                  runs it: A allocs and sends, waits for the reply
 *                  (ace_mp_recv with a timeout: nothing there yet), B
 *                  answers during A's first PAUSE (B's work is not
 *                  counted), A checks the reply and frees it
 *
 * The libace parts drive lib/ace.c itself (included below) on a host
 * channel over private memory: an arena formatted here, a socket pair
 * standing for the device (it never says anything), two mprocs.
 *
 * Without valgrind the loops run natively and the program only checks
 * that every message arrived intact (nothing is counted).
 *
 *   bench_insn [-n N]
 */
#include <sys/socket.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else	/* no valgrind: the loops still run and check (insn.sh skips) */
#define CALLGRIND_ZERO_STATS		do { } while (0)
#define CALLGRIND_TOGGLE_COLLECT	do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(s)	do { (void)(s); } while (0)
#define RUNNING_ON_VALGRIND		0
#endif
/* The wait's PAUSE: where the "poll" part's peer answers. */
static inline void bench_relax(void);
#define ace_cpu_relax()		bench_relax()
#include "../../lib/ace.c"

#define ARENA (16u << 20)
#define MSG 64u
#define WARM 20000u

static u64 n = 200000;

static void die(const char *what)
{
	fprintf(stderr, "bench_insn: %s\n", what);
	exit(1);
}

/* A libace host channel over `mem`, attached, with no device behind it. */
static struct ace *channel(void *mem)
{
	struct ace *ch = calloc(1, sizeof(*ch));
	struct ace_host_arena *ha = calloc(1, sizeof(*ha));
	int sv[2];

	if (!ch || !ha || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("channel");
	ch->dev_fd = ch->epfd = -1;
	ch->host.sock = sv[0];	/* sv[1] stays open: the device is silent */
	ch->host.kick_fd = ch->host.raise_fd = -1;
	ch->host.attached = 1;
	ch->host.epoch = 1;
	ch->host.size = ARENA;
	pthread_mutex_init(&ch->lock, NULL);
	pthread_mutex_init(&ch->dev_lock, NULL);
	if (ace_arena_attach(&ha->a, mem, ARENA))
		die("attach");
	ha->epoch = 1;
	ha->refs = 1;		/* the channel's; ha->map: none of its own */
	ch->host.arena = ha;
	ch->svc_epoch = 1;
	return ch;
}

/* ---- the loops: each returns nothing, dies on any surprise ---- */

struct core_side {
	struct ace_arena a;
	struct ace_rx rx;
	struct ace_cache cache;
	u32 id;
};

static struct core_side A, B;

static void __attribute__((noinline)) core_self_loop(u64 count)
{
	struct ace_msg_desc d;
	u64 i;

	for (i = 0; i < count; i++) {
		s64 off = ace_cache_alloc(&A.a, &A.cache, MSG);

		if (off <= 0)
			die("core alloc");
		*(u32 *)ace_payload(&A.a, (u32)off) = (u32)i;
		if (ace_send(&A.a, A.id, A.id, (u32)off, MSG) < 0)
			die("core send");
		if (ace_recv(&A.a, &A.rx, &d) != 1 ||
		    *(u32 *)(A.a.base + d.data) != (u32)i)
			die("core recv");
		if (ace_cache_free(&A.a, &A.cache, d.off))
			die("core free");
	}
}

static void __attribute__((noinline)) core_loop(u64 count)
{
	struct ace_msg_desc d;
	u64 i;

	for (i = 0; i < count; i++) {
		s64 off = ace_cache_alloc(&A.a, &A.cache, MSG);

		if (off <= 0)
			die("core alloc");
		*(u32 *)ace_payload(&A.a, (u32)off) = (u32)i;
		if (ace_send(&A.a, A.id, B.id, (u32)off, MSG) < 0)
			die("core send");
		if (ace_recv(&B.a, &B.rx, &d) != 1 ||
		    *(u32 *)(B.a.base + d.data) != (u32)i)
			die("core recv");
		if (ace_cache_free(&B.a, &B.cache, d.off))
			die("core free");
	}
}

static void __attribute__((noinline)) core_rtt_loop(u64 count)
{
	struct ace_msg_desc d;
	u64 i;

	for (i = 0; i < count; i++) {
		s64 off = ace_cache_alloc(&A.a, &A.cache, MSG);

		if (off <= 0)
			die("rtt alloc");
		*(u32 *)ace_payload(&A.a, (u32)off) = (u32)i;
		if (ace_send(&A.a, A.id, B.id, (u32)off, MSG) < 0)
			die("rtt send");
		if (ace_recv(&B.a, &B.rx, &d) != 1)
			die("rtt recv b");
		if (ace_send(&B.a, B.id, A.id, d.off, d.len) < 0)
			die("rtt echo");
		if (ace_recv(&A.a, &A.rx, &d) != 1 ||
		    *(u32 *)(A.a.base + d.data) != (u32)i)
			die("rtt recv a");
		if (ace_cache_free(&A.a, &A.cache, d.off))
			die("rtt free");
	}
}

static struct ace_mp *mpa, *mpb;
static int echo_due;

/* B answers A's message, uncounted: the peer of the "poll" part. */
static void __attribute__((noinline)) bench_echo(void)
{
	struct ace_buf e;

	echo_due = 0;
	CALLGRIND_TOGGLE_COLLECT;
	if (ace_mp_recv(mpb, &e, ACE_NOWAIT) != 1 || ace_mp_send(mpb, e.src, &e))
		die("poll echo");
	CALLGRIND_TOGGLE_COLLECT;
}

static inline void bench_relax(void)
{
	if (ace_unlikely(echo_due))
		bench_echo();
	else
		__builtin_ia32_pause();
}

static void __attribute__((noinline)) lib_self_loop(u64 count)
{
	struct ace_buf b;
	u64 i;

	for (i = 0; i < count; i++) {
		if (ace_mp_alloc(mpa, MSG, &b))
			die("lib alloc");
		*(u32 *)b.data = (u32)i;
		if (ace_mp_send(mpa, ace_mp_id(mpa), &b))
			die("lib send");
		if (ace_mp_recv(mpa, &b, ACE_NOWAIT) != 1 ||
		    *(u32 *)b.data != (u32)i)
			die("lib recv");
		if (ace_mp_free(mpa, &b))
			die("lib free");
	}
}

static void __attribute__((noinline)) lib_loop(u64 count)
{
	struct ace_buf b;
	u64 i;

	for (i = 0; i < count; i++) {
		if (ace_mp_alloc(mpa, MSG, &b))
			die("lib alloc");
		*(u32 *)b.data = (u32)i;
		if (ace_mp_send(mpa, ace_mp_id(mpb), &b))
			die("lib send");
		if (ace_mp_recv(mpb, &b, ACE_NOWAIT) != 1 ||
		    *(u32 *)b.data != (u32)i)
			die("lib recv");
		if (ace_mp_free(mpb, &b))
			die("lib free");
	}
}

static void __attribute__((noinline)) lib_rtt_loop(u64 count)
{
	struct ace_buf b;
	u64 i;

	for (i = 0; i < count; i++) {
		if (ace_mp_alloc(mpa, MSG, &b))
			die("rtt alloc");
		*(u32 *)b.data = (u32)i;
		if (ace_mp_send(mpa, ace_mp_id(mpb), &b))
			die("rtt send");
		if (ace_mp_recv(mpb, &b, ACE_NOWAIT) != 1)
			die("rtt recv b");
		if (ace_mp_send(mpb, b.src, &b))
			die("rtt echo");
		if (ace_mp_recv(mpa, &b, ACE_NOWAIT) != 1 ||
		    *(u32 *)b.data != (u32)i)
			die("rtt recv a");
		if (ace_mp_free(mpa, &b))
			die("rtt free");
	}
}

static void __attribute__((noinline)) lib_poll_loop(u64 count)
{
	struct ace_buf b;
	u64 i;

	for (i = 0; i < count; i++) {
		if (ace_mp_alloc(mpa, MSG, &b))
			die("poll alloc");
		*(u32 *)b.data = (u32)i;
		if (ace_mp_send(mpa, ace_mp_id(mpb), &b))
			die("poll send");
		echo_due = 1;
		if (ace_mp_recv(mpa, &b, 10000000000ll) != 1 ||
		    *(u32 *)b.data != (u32)i)
			die("poll recv");
		if (ace_mp_free(mpa, &b))
			die("poll free");
	}
	if (echo_due)
		die("poll: the reply came before the wait");
}

static void part(const char *name, void (*loop)(u64))
{
	loop(WARM);
	CALLGRIND_ZERO_STATS;
	loop(n);
	CALLGRIND_DUMP_STATS_AT(name);
}

int main(int argc, char **argv)
{
	struct ace_geometry g;
	struct ace *ch;
	u32 h, q, f;
	void *mem;

	if (argc == 3 && !strcmp(argv[1], "-n"))
		n = strtoull(argv[2], NULL, 0);
	else if (argc != 1)
		die("usage: bench_insn [-n N]");
	mem = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || ace_geometry_default(ARENA, 64, &g) ||
	    ace_arena_init(&A.a, mem, ARENA, &g, 1) ||
	    ace_arena_attach(&B.a, mem, ARENA))
		die("arena");
	if (ace_mproc_claim(&A.a, "a", ACE_SIDE_HOST, ACE_MODE_POLL, &A.id) ||
	    ace_mproc_claim(&A.a, "b", ACE_SIDE_HOST, ACE_MODE_POLL, &B.id))
		die("claim");
	ace_rx_init(&A.rx, A.id);
	ace_rx_init(&B.rx, B.id);
	ace_cache_init(&A.cache, A.id);
	ace_cache_init(&B.cache, B.id);
	part("core", core_self_loop);
	part("core-stream", core_loop);
	part("rtt-core", core_rtt_loop);
	ace_cache_drain(&A.a, &A.cache);
	ace_cache_drain(&B.a, &B.cache);
	ace_mproc_release(&A.a, A.id);
	ace_mproc_release(&A.a, B.id);

	ch = channel(mem);
	if (ace_mp_create(ch, "lib-a", ACE_MODE_POLL, &mpa) ||
	    ace_mp_create(ch, "lib-b", ACE_MODE_POLL, &mpb))
		die(ace_error(ch));
	part("libace", lib_self_loop);
	part("libace-stream", lib_loop);
	part("rtt", lib_rtt_loop);
	part("poll", lib_poll_loop);
	if (ace_mp_close(mpa) || ace_mp_close(mpb))
		die(ace_error(ch));
	/* every block is back */
	if (ace_block_census(&ch->host.arena->a, 0, &h, &q, &f) || h || q ||
	    f != ch->host.arena->a.total_blocks)
		die("blocks leaked");
	printf("bench_insn: %llu messages per part, all delivered intact%s\n",
	       (unsigned long long)n,
	       RUNNING_ON_VALGRIND ? "" : " (not under valgrind: nothing counted)");
	return 0;
}
