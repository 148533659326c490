// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * ace_spin_mail(): a closed inbox (ACE_INBOX_CLOSED, a word a peer can
 * write) is spun on like an empty one, relaxing each time, and no spins
 * is no look at all (not 2^32 of them).  The relax is counted.
 */
static unsigned long relaxes;
#define ace_cpu_relax() (relaxes++)
#include "ace_test.h"

#define SIZE (1u << 20)

static struct ace_arena A;

int main(void)
{
	struct ace_rx rx;
	struct ace_mproc *e;
	u32 id;

	ace_test_arena(&A, SIZE, 8);
	CHECK_EQ(ace_mproc_claim(&A, "spinner", 2, ACE_MODE_POLL, &id), 0);
	ace_rx_init(&rx, id);
	e = ace_mproc_at(&A, ACE_ID_SLOT(id));

	/* empty: every spin relaxes, no mail */
	relaxes = 0;
	CHECK_EQ(ace_spin_mail(&A, &rx, 100), 0);
	CHECK_EQ(relaxes, 100);

	/* closed: the same as empty (it returned at once, no relax) */
	__atomic_store_n(&e->inbox, ACE_INBOX_CLOSED, __ATOMIC_RELAXED);
	relaxes = 0;
	CHECK_EQ(ace_spin_mail(&A, &rx, 100), 0);
	CHECK_EQ(relaxes, 100);

	/* no spins: no look, no wrap to 2^32 */
	__atomic_store_n(&e->inbox, 0, __ATOMIC_RELAXED);
	relaxes = 0;
	CHECK_EQ(ace_spin_mail(&A, &rx, 0), 0);
	CHECK_EQ(relaxes, 0);

	/* mail: found at once */
	__atomic_store_n(&e->inbox, 1, __ATOMIC_RELAXED);
	relaxes = 0;
	CHECK_EQ(ace_spin_mail(&A, &rx, 100), 1);
	CHECK_EQ(relaxes, 0);
	__atomic_store_n(&e->inbox, 0, __ATOMIC_RELAXED);
	return ace_test_done("test_spin_mail");
}
