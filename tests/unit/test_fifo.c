// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* Inbox order: FIFO overall from one sender, FIFO per sender with four
 * concurrent senders, batches, and sends to a closed mproc. */
#include <pthread.h>
#include "ace_test.h"

#define SIZE (4u << 20)
#define SENDERS 4
#define PER_SENDER 200000

static struct ace_arena A;
static u32 rcv_id, snd_id[SENDERS];

static void *sender(void *arg)
{
	unsigned s = (unsigned)(uintptr_t)arg, i;

	for (i = 0; i < PER_SENDER; i++) {
		s64 off;

		while ((off = ace_alloc(&A, 16, snd_id[s])) == -ENOBUFS)
			sched_yield();
		if (off < 0)
			DIE("alloc: %lld", (long long)off);
		ace_msg(&A, (u32)off)->tag = i;
		ace_msg(&A, (u32)off)->type = s;
		if (ace_send(&A, snd_id[s], rcv_id, (u32)off, 16) < 0)
			DIE("send failed");
	}
	return NULL;
}

int main(void)
{
	void *mem = ace_test_arena(&A, SIZE, 16);
	struct ace_rx rx;
	struct ace_msg_desc d[64];
	pthread_t th[SENDERS];
	u32 next[SENDERS] = { 0 }, got = 0, s, i;
	char name[16];
	int n;

	CHECK_EQ(ace_mproc_claim(&A, "rcv", 1, 0, &rcv_id), 0);
	for (s = 0; s < SENDERS; s++) {
		snprintf(name, sizeof(name), "snd%u", s);
		CHECK_EQ(ace_mproc_claim(&A, name, 1, 0, &snd_id[s]), 0);
	}
	ace_rx_init(&rx, rcv_id);

	/* one sender, no concurrency: strict FIFO */
	for (i = 0; i < 100; i++) {
		s64 off = ace_alloc(&A, 4, snd_id[0]);

		ace_msg(&A, (u32)off)->tag = i;
		CHECK_EQ(ace_send(&A, snd_id[0], rcv_id, (u32)off, 4), 0);
	}
	CHECK_EQ(ace_pending_mail(&A, &rx), 1);
	for (i = 0; i < 100; i++) {
		CHECK_EQ(ace_recv(&A, &rx, d), 1);
		CHECK_EQ(d->tag, i);
		CHECK_EQ(d->src, snd_id[0]);
		CHECK_EQ(d->len, 4);
		CHECK_EQ(ace_free(&A, d->off), 0);
	}
	CHECK_EQ(ace_recv(&A, &rx, d), 0);
	CHECK_EQ(ace_pending_mail(&A, &rx), 0);

	/* four concurrent senders: FIFO per sender */
	for (s = 0; s < SENDERS; s++)
		pthread_create(&th[s], NULL, sender, (void *)(uintptr_t)s);
	while (got < SENDERS * PER_SENDER) {
		n = ace_recv_batch(&A, &rx, d, 64);
		CHECK(n >= 0);
		if (n < 0)
			break;
		for (i = 0; i < (u32)n; i++) {
			u32 who = d[i].type;

			if (who >= SENDERS || d[i].tag != next[who]) {
				CHECK(0);
				fprintf(stderr, "sender %u: got %u, expected %u\n",
					who, d[i].tag, who < SENDERS ? next[who] : 0);
				goto out;
			}
			next[who]++;
			CHECK(d[i].src == snd_id[who]);
			ace_free(&A, d[i].off);
		}
		got += n;
	}
out:
	for (s = 0; s < SENDERS; s++) {
		pthread_join(th[s], NULL);
		CHECK_EQ(next[s], PER_SENDER);
	}
	CHECK_EQ(ace_mproc_at(&A, ACE_ID_SLOT(rcv_id))->c.received,
		 SENDERS * PER_SENDER + 100);
	CHECK(ace_mproc_at(&A, ACE_ID_SLOT(rcv_id))->c.max_batch >= 1);

	/* a closed mproc takes no mail; the sender keeps its block */
	{
		s64 off = ace_alloc(&A, 4, snd_id[1]);
		u32 h, q, f;

		CHECK_EQ(ace_mproc_release(&A, rcv_id), 0);
		CHECK_EQ(ace_send(&A, snd_id[1], rcv_id, (u32)off, 4), -ENOENT);
		CHECK_EQ(ace_free(&A, (u32)off), 0);
		CHECK_EQ(ace_block_census(&A, 0, &h, &q, &f), 0);
		CHECK_EQ(f, A.total_blocks);
	}
	/* sending a block one does not hold is refused */
	{
		u32 dst;
		s64 off = ace_alloc(&A, 4, snd_id[1]);

		CHECK_EQ(ace_mproc_claim(&A, "rcv2", 1, 0, &dst), 0);
		CHECK_EQ(ace_send(&A, snd_id[1], dst, (u32)off, 4), 0);
		CHECK_EQ(ace_send(&A, snd_id[1], dst, (u32)off, 4), -EINVAL);
		CHECK_EQ(ace_send(&A, snd_id[1], dst, (u32)off + 1, 4), -EINVAL);
		CHECK_EQ(ace_send(&A, snd_id[1], dst, ace_handle(&A, 0, 0),
				  A.cls[0].payload_max + 1), -EINVAL);
	}
	CHECK_EQ(ace_arena_broken(&A), 0);
	munmap(mem, SIZE);
	return ace_test_done("fifo");
}
