// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * Direct doorbells (ABI 2.2; libace, host backend on a fake device that
 * offers one): libace asks for the doorbell's eventfd, and an
 * interrupt-mode host mproc asleep in ace_mp_recv is woken by the guest's
 * doorbell through that eventfd alone (the fake device never writes the
 * kick then), one wake-up per delivery, each well within libace's 100 ms
 * recheck.  Then a sleeper on ace_fd() (epoll) is woken the same way.
 * Afterwards the eventfd's counter has been read to 0 by libace.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include "lib_fake_dev.h"
#include "../../lib/ace.h"

#define SIZE	(4u << 20)
#define N	40

static struct ace *ch;
static struct ace_mp *sleeper;
static volatile int received;

static void *sleep_recv(void *arg)
{
	struct ace_buf b;
	int i;

	(void)arg;
	for (i = 0; i < N; i++) {
		int r = ace_mp_recv(sleeper, &b, 10000000000ll);

		if (r != 1)
			DIE("sleeper: %d: %s", r, ace_error(ch));
		ace_mp_free(sleeper, &b);
		__atomic_add_fetch(&received, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Until the sleeper is armed (asleep) and has taken `n` messages. */
static void wait_asleep(struct fdev *d, u32 id, int n)
{
	struct ace_mproc *e = ace_mproc_at(&d->a, ACE_ID_SLOT(id));
	int i;

	for (i = 0; i < 100000; i++) {
		if (__atomic_load_n(&received, __ATOMIC_SEQ_CST) == n &&
		    (ace_load(&e->notify, ACE_SEQ_CST) & ACE_NOTIFY_ARMED))
			return;
		usleep(100);
	}
	DIE("the sleeper never went to sleep");
}

int main(void)
{
	struct ace_stats st;
	struct fdev d;
	u32 sid, gid;
	pthread_t th;
	s64 t0, worst = 0;
	u64 v;
	int i, notified = 0, efd;

	fdev_start_bell(&d, SIZE, 64, 1);
	if (ace_open(&ch, d.path, 5000))
		DIE("ace_open: %s", ace_error(ch));
	CHECK(d.bell >= 0);		/* libace asked, and was answered */
	CHECK_EQ(ace_mp_create(ch, "sleeper", ACE_MODE_INTERRUPT, &sleeper), 0);
	sid = ace_mp_id(sleeper);
	CHECK_EQ(ace_mproc_claim(&d.a, "guest", ACE_SIDE(ACE_SIDE_GUEST_USER, 0),
				 ACE_MODE_POLL, &gid), 0);
	if (pthread_create(&th, NULL, sleep_recv, NULL))
		DIE("pthread_create");
	for (i = 0; i < N; i++) {
		wait_asleep(&d, sid, i);
		t0 = now_ns();
		notified += fdev_guest_send(&d, gid, sid, "rung through the eventfd",
					    (u32)i) == 1;
		while (__atomic_load_n(&received, __ATOMIC_SEQ_CST) == i)
			usleep(50);
		if (now_ns() - t0 > worst)
			worst = now_ns() - t0;
	}
	pthread_join(th, NULL);
	CHECK_EQ(notified, N);
	CHECK_EQ(ace_stats(ch, sid, &st), 0);
	CHECK_EQ(st.received, N);
	CHECK_EQ(st.wakeups, N);
	printf("test_lib_bell: %d deliveries through the eventfd, slowest %.1f ms\n",
	       N, worst / 1e6);
	/* a lost doorbell costs the 100 ms recheck; a loaded machine not */
	CHECK(worst < 50000000);

	/* ace_fd(): the eventfd is in its epoll set */
	efd = ace_fd(ch);
	CHECK(efd >= 0);
	CHECK_EQ(ace_mp_arm(sleeper), 0);
	CHECK_EQ(fdev_guest_send(&d, gid, sid, "to an epoll waiter", 999), 1);
	{
		struct epoll_event ev;

		CHECK_EQ(epoll_wait(efd, &ev, 1, 2000), 1);
	}
	CHECK(ace_service(ch) >= 0);
	/* libace read the counter: nothing is left in it */
	CHECK(read(d.bell, &v, sizeof(v)) < 0 && errno == EAGAIN);
	CHECK_EQ(ace_mp_close(sleeper), 0);
	ace_close(ch);
	fdev_stop(&d);
	return ace_test_done("test_lib_bell");
}
