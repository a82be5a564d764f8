// SPDX-License-Identifier: MIT
#include "core/clock.h"

#include <time.h>

uint64_t wp_time_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void wp_clock_init_real(struct wp_clock *c)
{
	c->kind = WP_CLOCK_REAL;
	atomic_init(&c->virt_ns, 0);
}

void wp_clock_init_virtual(struct wp_clock *c, uint64_t start_ns)
{
	c->kind = WP_CLOCK_VIRTUAL;
	atomic_init(&c->virt_ns, start_ns);
}

void wp_clock_set(struct wp_clock *c, uint64_t ns)
{
	uint64_t cur = atomic_load_explicit(&c->virt_ns, memory_order_relaxed);

	if (c->kind != WP_CLOCK_VIRTUAL || ns <= cur)
		return;
	atomic_store_explicit(&c->virt_ns, ns, memory_order_relaxed);
}

void wp_clock_advance(struct wp_clock *c, uint64_t delta_ns)
{
	if (c->kind != WP_CLOCK_VIRTUAL)
		return;
	atomic_fetch_add_explicit(&c->virt_ns, delta_ns, memory_order_relaxed);
}
