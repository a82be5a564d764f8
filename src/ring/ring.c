// SPDX-License-Identifier: MIT
#include "ring/ring.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Fill levels are head - tail in uint32_t: must stay below 2^31. */
#define WP_RING_SIZE_LIMIT (1u << 30)

struct wp_ring *wp_ring_create(uint32_t size)
{
	size_t slots_off = offsetof(struct wp_ring, slots);
	size_t bytes;
	struct wp_ring *r;

	if (size < 2 || size > WP_RING_SIZE_LIMIT || !wp_is_power_of_2(size)) {
		errno = EINVAL;
		return NULL;
	}
	/* Only a 32-bit size_t can overflow (2^30 pointers of 4 bytes). */
	if (size > (SIZE_MAX - slots_off - WP_CACHELINE) / sizeof(void *)) {
		errno = ENOMEM;
		return NULL;
	}
	/* aligned_alloc wants a multiple of the alignment. */
	bytes = slots_off + (size_t)size * sizeof(void *);
	bytes = (bytes + WP_CACHELINE - 1) & ~(size_t)(WP_CACHELINE - 1);
	r = aligned_alloc(WP_CACHELINE, bytes);
	if (!r) {
		errno = ENOMEM;
		return NULL;
	}
	/*
	 * The slots are left uninitialised: a large ring's pages are not
	 * touched until used, and no slot is read before it is written.
	 */
	memset(r, 0, slots_off);
	atomic_init(&r->prod.head, 0);
	atomic_init(&r->cons.tail, 0);
	r->size = size;
	r->mask = size - 1;
	return r;
}

void wp_ring_free(struct wp_ring *r)
{
	free(r);
}

int wp__ring_set_index(struct wp_ring *r, uint32_t idx)
{
	uint32_t head =
		atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint32_t tail =
		atomic_load_explicit(&r->cons.tail, memory_order_relaxed);

	if (head != tail)
		return -EBUSY;
	/* Relaxed: the caller guarantees no other thread uses the ring. */
	atomic_store_explicit(&r->prod.head, idx, memory_order_relaxed);
	atomic_store_explicit(&r->cons.tail, idx, memory_order_relaxed);
	r->prod.cached_tail = idx;
	r->cons.cached_head = idx;
	return 0;
}
