/* SPDX-License-Identifier: MIT */
/*
 * Small compiler helpers shared by every module.
 *
 * Kept deliberately short: branch hints, cache-line alignment and the
 * array-size idiom. Memory ordering is always spelled out with C11
 * atomics at the point of use, with a comment saying what it orders.
 */
#ifndef WP_CORE_COMPILER_H
#define WP_CORE_COMPILER_H

#include <stddef.h>

#define WP_CACHELINE 64
#define wp_cacheline_aligned __attribute__((aligned(WP_CACHELINE)))

#define wp_likely(x) __builtin_expect(!!(x), 1)
#define wp_unlikely(x) __builtin_expect(!!(x), 0)

#define WP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define wp_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline int wp_is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static inline void wp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

#endif
