/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * ace_compat.h - the thin environment shim under the ACE core.
 *
 * The ABI header and the core are freestanding C: they include nothing but
 * this file.  This file maps fixed-width types, error numbers and atomics
 * for the three places the core is compiled:
 *
 *   __KERNEL__   the guest kernel module (ace.ko)
 *   otherwise    user space: the QEMU device, libace, tools and tests
 *
 * Atomics are the GCC/Clang __atomic builtins in both worlds: every shared
 * word is at most 64 bits wide and naturally aligned, so they compile to
 * plain lock-prefixed instructions (no libatomic calls), and they are
 * address-free, which is what two address spaces sharing one page need.
 */
#ifndef ACE_COMPAT_H
#define ACE_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/processor.h>	/* cpu_relax() */
#else
#include <stdint.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ACE: the arena is little-endian and the core builds only on little-endian CPUs"
#endif

/*
 * Fields that live in shared memory.  They are little-endian by the ABI; on
 * the little-endian CPUs the core supports they are the native types, and
 * the distinct names mark every word a peer can write (trust is visible in
 * the type, as with __virtio32).
 */
typedef u16 ace_le16;
typedef u32 ace_le32;
typedef u64 ace_le64;

#define ACE_RELAXED __ATOMIC_RELAXED
#define ACE_ACQUIRE __ATOMIC_ACQUIRE
#define ACE_RELEASE __ATOMIC_RELEASE
#define ACE_ACQ_REL __ATOMIC_ACQ_REL
#define ACE_SEQ_CST __ATOMIC_SEQ_CST

/* Read a shared word exactly once (the double-fetch rule: read once, copy,
 * check the copy, use only the copy). */
#define ace_read_once(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define ace_write_once(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ace_load(p, mo)		__atomic_load_n((p), (mo))
#define ace_store(p, v, mo)	__atomic_store_n((p), (v), (mo))
#define ace_xchg(p, v, mo)	__atomic_exchange_n((p), (v), (mo))
#define ace_fetch_or(p, v, mo)	__atomic_fetch_or((p), (v), (mo))
#define ace_fetch_and(p, v, mo)	__atomic_fetch_and((p), (v), (mo))
#define ace_fetch_add(p, v, mo)	__atomic_fetch_add((p), (v), (mo))
/*
 * Strong CAS; on failure *expected is updated with the current value, read
 * with acquire so the caller may follow it.  `mo` is ACE_ACQUIRE,
 * ACE_ACQ_REL or ACE_SEQ_CST (all one lock cmpxchg on x86).
 */
#define ace_cas(p, expected, desired, mo) \
	__atomic_compare_exchange_n((p), (expected), (desired), 0, (mo), \
				    __ATOMIC_ACQUIRE)
#define ace_fence()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

#ifndef ace_cpu_relax	/* a benchmark may bring its own */
#ifdef __KERNEL__
#define ace_cpu_relax()		cpu_relax()
#elif defined(__x86_64__) || defined(__i386__)
#define ace_cpu_relax()		__builtin_ia32_pause()
#else
#define ace_cpu_relax()		__asm__ __volatile__("" ::: "memory")
#endif
#endif

/* Ask for a cache line in exclusive state before writing it: one coherence
 * transaction instead of a shared read followed by an upgrade. */
#define ace_prefetch_w(p)	__builtin_prefetch((p), 1, 3)

#define ACE_ALIGNED(n)		__attribute__((aligned(n)))
/* The hot path's inline functions: inlined even where a compiler would
 * rather call one out-of-line copy (the point is to lose the call). */
#define ace_hot			inline __attribute__((__always_inline__))
/* ...and their slow paths, kept out of them (the kernel's own `noinline`
 * is a macro, hence the spelling). */
#define ace_noinline		__attribute__((__noinline__))
#define ace_likely(x)		__builtin_expect(!!(x), 1)
#define ace_unlikely(x)		__builtin_expect(!!(x), 0)

#ifdef __cplusplus
#define ACE_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define ACE_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#endif /* ACE_COMPAT_H */
