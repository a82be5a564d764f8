/* SPDX-License-Identifier: MIT */
/*
 * Injected time.
 *
 * Protocol, NIC and NAPI code never reads the system clock: it reads the
 * wp_clock it was given. A real clock reads CLOCK_MONOTONIC; a virtual
 * clock only moves when a test or the pcap backend advances it, so a
 * seeded run replays exactly (smoltcp's Interface::poll(timestamp)).
 *
 * All times are nanoseconds.
 */
#ifndef WP_CORE_CLOCK_H
#define WP_CORE_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define WP_NSEC_PER_USEC 1000ULL
#define WP_NSEC_PER_MSEC 1000000ULL
#define WP_NSEC_PER_SEC 1000000000ULL
#define WP_TIME_NEVER UINT64_MAX

enum wp_clock_kind {
	WP_CLOCK_REAL,
	WP_CLOCK_VIRTUAL,
};

struct wp_clock {
	enum wp_clock_kind kind;
	_Atomic uint64_t virt_ns; /* virtual clocks only */
};

/* CLOCK_MONOTONIC in ns: the only place the system clock is read. */
uint64_t wp_time_real_ns(void);

void wp_clock_init_real(struct wp_clock *c);
void wp_clock_init_virtual(struct wp_clock *c, uint64_t start_ns);

static inline bool wp_clock_is_virtual(const struct wp_clock *c)
{
	return c->kind == WP_CLOCK_VIRTUAL;
}

static inline uint64_t wp_clock_now(const struct wp_clock *c)
{
	if (c->kind == WP_CLOCK_VIRTUAL)
		return atomic_load_explicit(&((struct wp_clock *)c)->virt_ns,
					    memory_order_relaxed);
	return wp_time_real_ns();
}

/* Virtual clocks only; time never moves backwards (earlier values ignored). */
void wp_clock_set(struct wp_clock *c, uint64_t ns);
void wp_clock_advance(struct wp_clock *c, uint64_t delta_ns);

#endif
