// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_mp_call (libace, host backend on a fake device): the reply is the
 * message with the call's tag; tags differ per call and are never 0;
 * messages with other tags that arrive before the reply, or waited before
 * the call, come out of the next receives in their order; a call times
 * out, and its late reply reaches a later receive; a failed send leaves
 * the request with the caller; every message is counted received once;
 * no block is lost.
 */
#define _GNU_SOURCE
#include <time.h>
#include "lib_fake_dev.h"
#include "../../lib/ace.h"

#define SIZE	(4u << 20)

static struct ace *ch;
static struct ace_mp *svc, *other_mp;
static int stop;

static u64 ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

/* What the service does with a request is its payload's first byte:
 * E echo, N two unrelated messages first (tags 1000, 1001), then echo,
 * S say nothing, L echo 300 ms late, F first a message with the call's
 * tag from another mproc ("other"), then echo. */
static void *service(void *arg)
{
	struct ace_buf b, n;
	int i;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		int r = ace_mp_recv(svc, &b, 50000000);

		if (r < 0)
			DIE("service: %s", ace_error(ch));
		if (r == 0)
			continue;
		switch (((char *)b.data)[0]) {
		case 'N':
			for (i = 0; i < 2; i++) {
				if (ace_mp_alloc(svc, 32, &n))
					DIE("service alloc: %s", ace_error(ch));
				snprintf(n.data, 32, "noise %d", i);
				n.tag = 1000 + (u32)i;
				n.type = 7;
				if (ace_mp_send(svc, b.src, &n))
					DIE("service send: %s", ace_error(ch));
			}
			break;
		case 'F':
			if (ace_mp_alloc(other_mp, 32, &n))
				DIE("other alloc: %s", ace_error(ch));
			snprintf(n.data, 32, "forged");
			n.tag = b.tag;
			if (ace_mp_send(other_mp, b.src, &n))
				DIE("other send: %s", ace_error(ch));
			break;
		case 'S':
			ace_mp_free(svc, &b);
			continue;
		case 'L':
			usleep(300000);
			break;
		}
		if (ace_mp_send(svc, b.src, &b))
			DIE("service reply: %s", ace_error(ch));
	}
	return NULL;
}

/* A request whose payload is `what`. */
static void request(struct ace_mp *mp, struct ace_buf *b, const char *what)
{
	CHECK_EQ(ace_mp_alloc(mp, 64, b), 0);
	snprintf(b->data, 64, "%s", what);
}

int main(void)
{
	struct ace_mp *cli, *other, *gone;
	struct ace_buf req, rep, b;
	struct ace_stats st;
	struct ace_census c;
	struct fdev d;
	u32 sid, gid, tag1, tag2, tag_late;
	u64 got = 0, t0;
	pthread_t th;
	int r;

	fdev_start(&d, SIZE, 64);
	if (ace_open(&ch, d.path, 5000))
		DIE("ace_open: %s", ace_error(ch));
	CHECK_EQ(ace_mp_create(ch, "svc", ACE_MODE_ADAPTIVE, &svc), 0);
	CHECK_EQ(ace_mp_create(ch, "cli", ACE_MODE_ADAPTIVE, &cli), 0);
	CHECK_EQ(ace_mp_create(ch, "other", ACE_MODE_POLL, &other), 0);
	other_mp = other;
	sid = ace_mp_id(svc);
	if (pthread_create(&th, NULL, service, NULL))
		DIE("pthread_create");

	/* the reply, with the call's tag; the next call another tag */
	request(cli, &req, "E one");
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 2000000000), 1);
	tag1 = req.tag;
	CHECK(tag1 != 0);
	CHECK_EQ(rep.tag, tag1);
	CHECK_EQ(rep.src, sid);
	CHECK(!strcmp(rep.data, "E one"));
	CHECK_EQ(ace_mp_free(cli, &rep), 0);
	got++;
	request(cli, &req, "E two");
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 2000000000), 1);
	tag2 = req.tag;
	CHECK(tag2 != 0 && tag2 != tag1);
	CHECK_EQ(rep.tag, tag2);
	CHECK_EQ(ace_mp_free(cli, &rep), 0);
	got++;

	/* two messages already waiting, two more arriving before the reply:
	 * all four come next, in order */
	for (r = 0; r < 2; r++) {
		CHECK_EQ(ace_mp_alloc(other, 32, &b), 0);
		snprintf(b.data, 32, "early %d", r);
		b.tag = 5 + (u32)r;
		CHECK_EQ(ace_mp_send(other, ace_mp_id(cli), &b), 0);
	}
	request(cli, &req, "N");
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 2000000000), 1);
	CHECK_EQ(rep.tag, req.tag);
	CHECK(!strcmp(rep.data, "N"));
	CHECK_EQ(ace_mp_free(cli, &rep), 0);
	got++;
	{
		static const char *const want[] = { "early 0", "early 1", "noise 0",
						    "noise 1" };
		static const u32 tags[] = { 5, 6, 1000, 1001 };

		for (r = 0; r < 4; r++) {
			CHECK_EQ(ace_mp_recv(cli, &b, ACE_NOWAIT), 1);
			CHECK_EQ(b.tag, tags[r]);
			CHECK(!strcmp(b.data, want[r]));
			CHECK_EQ(b.src, r < 2 ? ace_mp_id(other) : sid);
			CHECK_EQ(b.type, r < 2 ? 0 : 7);
			CHECK_EQ(ace_mp_free(cli, &b), 0);
			got++;
		}
	}
	CHECK_EQ(ace_mp_recv(cli, &b, ACE_NOWAIT), 0);

	/* the call's tag from another mproc first: not the reply (kept) */
	request(cli, &req, "F");
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 2000000000), 1);
	CHECK_EQ(rep.src, sid);
	CHECK(!strcmp(rep.data, "F"));
	CHECK_EQ(ace_mp_free(cli, &rep), 0);
	got++;
	CHECK_EQ(ace_mp_recv(cli, &b, ACE_NOWAIT), 1);
	CHECK_EQ(b.tag, req.tag);
	CHECK_EQ(b.src, ace_mp_id(other));
	CHECK(!strcmp(b.data, "forged"));
	CHECK_EQ(ace_mp_free(cli, &b), 0);
	got++;

	/* no answer: 0 after the timeout */
	request(cli, &req, "S");
	t0 = ms_now();
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 200000000), 0);
	CHECK(ms_now() - t0 >= 190 && ms_now() - t0 < 3000);

	/* a late answer: 0, then a later receive has it, with that tag */
	request(cli, &req, "L");
	CHECK_EQ(ace_mp_call(cli, sid, &req, &rep, 50000000), 0);
	tag_late = req.tag;
	CHECK_EQ(ace_mp_recv(cli, &b, 2000000000), 1);
	CHECK_EQ(b.tag, tag_late);
	CHECK(!strcmp(b.data, "L"));
	CHECK_EQ(ace_mp_free(cli, &b), 0);
	got++;

	/* a send that fails: its error, and the request is still ours */
	CHECK_EQ(ace_mp_create(ch, "gone", ACE_MODE_POLL, &gone), 0);
	gid = ace_mp_id(gone);
	CHECK_EQ(ace_mp_close(gone), 0);
	request(cli, &req, "E");
	r = ace_mp_call(cli, gid, &req, &rep, 100000000);
	CHECK(r < 0);
	CHECK_EQ(ace_mp_free(cli, &req), 0);

	/* ACE_NOWAIT: sent, not waited for; the reply comes later */
	request(cli, &req, "E now");
	r = ace_mp_call(cli, sid, &req, &rep, ACE_NOWAIT);
	CHECK(r == 0 || r == 1);
	if (r == 0)
		CHECK_EQ(ace_mp_recv(cli, &rep, 2000000000), 1);
	CHECK_EQ(rep.tag, req.tag);
	CHECK_EQ(ace_mp_free(cli, &rep), 0);
	got++;

	/* each message counted received once */
	CHECK_EQ(ace_stats(ch, ace_mp_id(cli), &st), 0);
	CHECK_EQ(st.received, got);

	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK_EQ(ace_mp_close(cli), 0);
	CHECK_EQ(ace_mp_close(svc), 0);
	CHECK_EQ(ace_mp_close(other), 0);
	/* the silent request was freed by the service: nothing held, nothing
	 * in flight */
	CHECK_EQ(ace_census(ch, &c), 0);
	CHECK_EQ(c.held, 0);
	CHECK_EQ(c.queued, 0);
	CHECK_EQ(c.free, c.total);
	ace_close(ch);
	fdev_stop(&d);
	return ace_test_done("test_lib_call");
}
