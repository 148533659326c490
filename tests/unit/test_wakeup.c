// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * The lost-wakeup race: a sleeper arms (store ARMED, full barrier,
 * re-check the inbox) while a sender pushes and then reads the notify
 * word.  Every message is sent the moment the sleeper has consumed the
 * previous one, so the arm and the push race on every round.  A kick that
 * never comes shows up as a sleeper waiting past its timeout with mail in
 * its inbox: the test fails on the first one.
 *
 *   test_wakeup [-n rounds]
 */
#include <pthread.h>
#include <poll.h>
#include <sys/eventfd.h>
#include "ace_test.h"

#define SIZE (1u << 20)

static struct ace_arena A;
static u32 sleeper_id, sender_id;
static int efd;
static u64 rounds = 1000000;
static u64 consumed;		/* sleeper -> sender: messages taken */
static u64 kicks, sleeps, lost;

static void *sleeper(void *arg)
{
	struct ace_rx rx;
	struct ace_msg_desc d;
	u64 got = 0, v;
	int r;

	(void)arg;
	ace_rx_init(&rx, sleeper_id);
	while (got < rounds) {
		r = ace_arm(&A, &rx);
		if (r == 0) {
			struct pollfd p = { .fd = efd, .events = POLLIN };

			__atomic_fetch_add(&sleeps, 1, __ATOMIC_RELAXED);
			if (poll(&p, 1, 2000) != 1) {
				/* no kick in 2 s: is there mail we missed? */
				if (ace_pending_mail(&A, &rx))
					__atomic_store_n(&lost, 1, __ATOMIC_RELAXED);
				else
					fprintf(stderr, "sleeper: idle 2 s with no mail\n");
				ace_disarm(&A, &rx);
				break;
			}
			if (read(efd, &v, sizeof(v)) != sizeof(v))
				break;
		}
		ace_disarm(&A, &rx);
		while ((r = ace_recv(&A, &rx, &d)) == 1) {
			if (d.tag != got)
				DIE("sleeper: got %u, expected %llu", d.tag,
				    (unsigned long long)got);
			ace_free(&A, d.off);
			got++;
		}
		if (r < 0)
			DIE("recv: %s", ace_arena_why(&A));
		__atomic_store_n(&consumed, got, __ATOMIC_RELEASE);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	u64 i, v = 1;
	int spins;

	if (argc == 3 && !strcmp(argv[1], "-n"))
		rounds = strtoull(argv[2], NULL, 0);
	ace_test_arena(&A, SIZE, 8);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK_EQ(ace_mproc_claim(&A, "sleeper", 2, ACE_MODE_INTERRUPT, &sleeper_id), 0);
	CHECK_EQ(ace_mproc_claim(&A, "sender", 3, ACE_MODE_POLL, &sender_id), 0);
	pthread_create(&th, NULL, sleeper, NULL);
	for (i = 0; i < rounds && !__atomic_load_n(&lost, __ATOMIC_RELAXED); i++) {
		s64 off = ace_alloc(&A, 8, sender_id);
		int r;

		if (off <= 0)
			DIE("alloc");
		ace_msg(&A, (u32)off)->tag = (u32)i;
		r = ace_send(&A, sender_id, sleeper_id, (u32)off, 8);
		CHECK(r >= 0);
		if (r == 1) {
			kicks++;
			if (write(efd, &v, sizeof(v)) != sizeof(v))
				DIE("eventfd write");
		}
		/* wait until it is consumed, then race the next arm */
		for (spins = 0; __atomic_load_n(&consumed, __ATOMIC_ACQUIRE) <= i;
		     spins++) {
			if (__atomic_load_n(&lost, __ATOMIC_RELAXED))
				break;
			if (spins > 1000)
				sched_yield();
		}
	}
	pthread_join(th, NULL);
	printf("rounds %llu, kicks %llu, sleeps %llu, lost wakeups %llu\n",
	       (unsigned long long)i, (unsigned long long)kicks,
	       (unsigned long long)sleeps, (unsigned long long)lost);
	CHECK_EQ(lost, 0);
	CHECK_EQ(consumed, rounds);
	/* the race was really exercised: both outcomes happened */
	CHECK(kicks > 0);
	CHECK(sleeps > 0);
	return ace_test_done("wakeup");
}
