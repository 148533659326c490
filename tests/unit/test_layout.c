// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* The ABI: sizes and offsets, the ioctl encoding, the default geometry. */
#include <sys/ioctl.h>
#include <linux/ace.h>
#include "ace_test.h"

static void geometry(unsigned size, unsigned nr)
{
	struct ace_geometry g;
	struct ace_arena a;
	unsigned long long bytes = 0;
	void *mem;
	unsigned c;

	CHECK_EQ(ace_geometry_default(size, nr, &g), 0);
	mem = ace_test_arena(&a, size, nr);
	CHECK_EQ(a.nr_classes, ACE_MAX_CLASSES);
	for (c = 0; c < a.nr_classes; c++) {
		bytes += (unsigned long long)a.cls[c].nr << a.cls[c].shift;
		CHECK_EQ(a.cls[c].base % 4096, 0);
		if (c)
			CHECK(a.cls[c].base >= a.cls[c - 1].end);
	}
	CHECK(a.cls[a.nr_classes - 1].end <= size);
	/* the default gives at least half of the arena to blocks */
	CHECK(bytes * 2 >= size);
	munmap(mem, size);
}

int main(void)
{
	struct ace_geometry g;

	CHECK_EQ(sizeof(struct ace_arena_hdr), 4096);
	CHECK_EQ(sizeof(struct ace_mproc), 256);
	CHECK_EQ(sizeof(struct ace_msg), 32);
	CHECK_EQ(ACE_PCI_DEVICE_ID, 0x107f);
	/* the uapi (<linux/ace.h>): sizes fixed, and in the numbers */
	CHECK_EQ(sizeof(struct ace_ioc_info), 32);
	CHECK_EQ(sizeof(struct ace_ioc_open), 64);
	CHECK_EQ(sizeof(struct ace_ioc_wait), 16);
	CHECK_EQ(sizeof(struct ace_ioc_notify), 8);
	CHECK_EQ(sizeof(struct ace_ioc_eventfd), 8);
	CHECK_EQ(sizeof(((struct ace_ioc_open *)0)->name), ACE_NAME_MAX);
	CHECK_EQ(_IOC_SIZE(ACE_IOC_OPEN), 64);
	CHECK_EQ(_IOC_TYPE(ACE_IOC_INFO), 0xDA);
	CHECK_EQ(_IOC_DIR(ACE_IOC_OPEN), _IOC_READ | _IOC_WRITE);
	CHECK_EQ(ACE_IOC_CLOSE, _IOW(0xDA, 0x02, uint32_t));
	/* ids: slot and generation round-trip, never 0 for gen >= 1 */
	CHECK_EQ(ACE_ID_SLOT(ACE_ID(1023, 0xfffff)), 1023);
	CHECK_EQ(ACE_ID_GEN(ACE_ID(1023, 0xfffff)), 0xfffff);
	CHECK(ACE_ID(0, 1) != 0);

	geometry(ACE_MIN_ARENA, 8);
	geometry(1u << 20, 64);
	geometry(ACE_DEFAULT_ARENA, ACE_DEFAULT_MPROCS);
	geometry(64u << 20, ACE_MAX_MPROCS);
	/* the default 16 MiB arena can carry a 1 MiB message */
	CHECK_EQ(ace_geometry_default(ACE_DEFAULT_ARENA, 64, &g), 0);
	CHECK(g.nr_blocks[3] >= 2 && g.block_size[3] - 32 >= (1u << 20));
	/* refused requests */
	CHECK_EQ(ace_geometry_default(4096, 8, &g), -EINVAL);
	CHECK_EQ(ace_geometry_default(1u << 20, 0, &g), -EINVAL);
	CHECK_EQ(ace_geometry_default(1u << 20, ACE_MAX_MPROCS + 1, &g), -EINVAL);
	return ace_test_done("layout");
}
