// SPDX-License-Identifier: MIT
/*
 * The bounded MPSC ring of mpsc.h. Positions are free-running 64-bit
 * counters (they never wrap in practice), slot = position & mask.
 */
#include "trace/mpsc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static inline _Atomic uint64_t *slot_seq(const struct wp__mpsc *r, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(r->slots + (size_t)(pos & r->mask) *
							       r->stride);
}

static inline void *slot_payload(const struct wp__mpsc *r, uint64_t pos)
{
	return r->slots + (size_t)(pos & r->mask) * r->stride + 8;
}

int wp__mpsc_init(struct wp__mpsc *r, uint32_t size, size_t payload)
{
	size_t stride;

	if (size < 2 || !wp_is_power_of_2(size) || payload == 0 ||
	    payload > (1u << 20))
		return -EINVAL;
	/* The sequence word, then the payload, each slot 8-byte aligned. */
	stride = (8 + payload + 7) & ~(size_t)7;
	memset(r, 0, sizeof(*r));
	if (posix_memalign((void **)&r->slots, WP_CACHELINE,
			   (size_t)size * stride))
		return -ENOMEM;
	r->mask = size - 1;
	r->stride = (uint32_t)stride;
	atomic_init(&r->head, 0);
	atomic_init(&r->dropped, 0);
	r->tail = 0;
	for (uint64_t i = 0; i < size; i++)
		atomic_init(slot_seq(r, i), i);
	return 0;
}

void wp__mpsc_destroy(struct wp__mpsc *r)
{
	free(r->slots);
	r->slots = NULL;
}

void *wp__mpsc_claim(struct wp__mpsc *r, uint64_t *pos)
{
	uint64_t p = atomic_load_explicit(&r->head, memory_order_relaxed);

	for (;;) {
		/* Acquire: the consumer's reads of this slot's previous
		 * payload happen before our writes to it. */
		uint64_t seq = atomic_load_explicit(slot_seq(r, p),
						    memory_order_acquire);
		int64_t dif = (int64_t)(seq - p);

		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &r->head, &p, p + 1, memory_order_relaxed,
				    memory_order_relaxed)) {
				*pos = p;
				return slot_payload(r, p);
			}
			/* p was reloaded by the failed exchange. */
		} else if (dif < 0) {
			/* The slot still holds lap p - size: full. */
			atomic_fetch_add_explicit(&r->dropped, 1,
						  memory_order_relaxed);
			return NULL;
		} else {
			p = atomic_load_explicit(&r->head,
						 memory_order_relaxed);
		}
	}
}

void wp__mpsc_commit(struct wp__mpsc *r, uint64_t pos)
{
	/* Release: the payload before the consumer may read it. */
	atomic_store_explicit(slot_seq(r, pos), pos + 1, memory_order_release);
}

const void *wp__mpsc_peek(struct wp__mpsc *r)
{
	uint64_t t = r->tail;

	/* Acquire: pairs with the producer's commit. */
	if (atomic_load_explicit(slot_seq(r, t), memory_order_acquire) != t + 1)
		return NULL;
	return slot_payload(r, t);
}

void wp__mpsc_pop(struct wp__mpsc *r)
{
	uint64_t t = r->tail;

	/* Release: our reads of the payload before a producer reuses it. */
	atomic_store_explicit(slot_seq(r, t), t + r->mask + 1,
			      memory_order_release);
	/* Relaxed store: wp__mpsc_count() reads it from other threads. */
	__atomic_store_n(&r->tail, t + 1, __ATOMIC_RELAXED);
}

uint32_t wp__mpsc_count(const struct wp__mpsc *r)
{
	uint64_t h = atomic_load_explicit(&((struct wp__mpsc *)r)->head,
					  memory_order_relaxed);
	uint64_t t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);

	return h > t ? (uint32_t)(h - t) : 0;
}
