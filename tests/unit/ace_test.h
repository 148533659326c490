/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_test.h - a tiny harness for the unit tests: CHECK, a result line,
 * and arenas in anonymous or memfd memory.
 *
 * Each test program checks one behaviour, prints one line per failed check
 * and exits 0 (pass), 1 (fail) or 77 (skip), as liburing's tests do.
 */
#ifndef ACE_TEST_H
#define ACE_TEST_H


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mman.h>
#include "../../shared/ace_core.h"

static int ace_test_failures;
static int ace_test_checks;

#define CHECK(cond) do {						\
	ace_test_checks++;						\
	if (!(cond)) {							\
		ace_test_failures++;					\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
			__FILE__, __LINE__, #cond);			\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	ace_test_checks++;						\
	if (_a != _b) {							\
		ace_test_failures++;					\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
	}								\
} while (0)

#define DIE(...) do {							\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\n");						\
	exit(1);							\
} while (0)

static inline int ace_test_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, ace_test_checks,
	       ace_test_failures);
	return ace_test_failures ? 1 : 0;
}

/* A private arena of `size` bytes, formatted with the default geometry. */
static inline void *ace_test_arena(struct ace_arena *a, unsigned size,
				   unsigned nr_mprocs)
{
	struct ace_geometry g;
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	if (ace_geometry_default(size, nr_mprocs, &g))
		DIE("no default geometry for %u bytes", size);
	if (ace_arena_init(a, mem, size, &g, 1))
		DIE("ace_arena_init failed");
	return mem;
}

/* A memfd holding a formatted arena, for tests that map it more than once
 * (at different addresses) or share it between processes. */
static inline int ace_test_memfd(unsigned size, unsigned nr_mprocs,
				 const struct ace_geometry *gin)
{
	struct ace_geometry g;
	struct ace_arena a;
	int fd = memfd_create("ace-test", 0);
	void *mem;

	if (fd < 0 || ftruncate(fd, size))
		DIE("memfd: %s", strerror(errno));
	if (gin)
		g = *gin;
	else if (ace_geometry_default(size, nr_mprocs, &g))
		DIE("no default geometry for %u bytes", size);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	if (ace_arena_init(&a, mem, size, &g, 1))
		DIE("ace_arena_init failed");
	munmap(mem, size);
	return fd;
}

/* Map the memfd at a fresh address (each call gets its own, so two views
 * of one arena never share an address) and attach to it. */
static inline void *ace_test_map(int fd, unsigned size, struct ace_arena *a)
{
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (mem == MAP_FAILED)
		DIE("mmap: %s", strerror(errno));
	if (ace_arena_attach(a, mem, size))
		DIE("attach: %s", ace_arena_why(a));
	return mem;
}

static inline unsigned long long ace_test_total_blocks(struct ace_arena *a)
{
	return a->total_blocks;
}

#endif /* ACE_TEST_H */
