/* SPDX-License-Identifier: MIT */
/*
 * Single-producer single-consumer ring of pointers.
 *
 * Used wherever one thread hands objects to another: the firmware thread
 * and a core thread, a core thread and an application thread, AF_XDP-style
 * producer/consumer pairs. The NIC descriptor rings are not this ring:
 * they model hardware registers (src/nic).
 *
 * Layout: producer and consumer indices live on separate cache lines, and
 * each side caches the other's index so that it touches the shared line
 * only when its cached view says the ring is full (producer) or empty
 * (consumer) (libxdp xsk.h, DPDK rte_ring).
 *
 * Indices are free-running 32-bit counters; slot = index & mask. Size is a
 * power of two, at least 2; capacity is `size` (no slot is sacrificed).
 * Unsigned subtraction gives the fill level across the 2^32 wrap because
 * size <= 2^30 < 2^31.
 *
 * Bulk operations move all n objects or none; burst operations move as
 * many as fit. Each returns the number moved.
 *
 * Threads: at most one thread enqueues and at most one thread dequeues at
 * any time (they may be the same thread). Handing a side to another thread
 * needs the caller's own synchronisation (a mutex, a thread join).
 *
 * The fast-path operations are static inline: a call would cost as much as
 * the work itself (a few cycles per object in bulk).
 */
#ifndef WP_RING_RING_H
#define WP_RING_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/compiler.h"

struct wp_ring {
	struct {
		_Atomic uint32_t head; /* written by producer only */
		uint32_t cached_tail;  /* producer's view of cons.tail */
	} prod wp_cacheline_aligned;
	struct {
		_Atomic uint32_t tail; /* written by consumer only */
		uint32_t cached_head;  /* consumer's view of prod.head */
	} cons wp_cacheline_aligned;
	/* Read-only after create: stays shared in both cores' caches. */
	uint32_t size wp_cacheline_aligned;
	uint32_t mask;
	/*
	 * Own cache lines, so that the producer's slot stores do not
	 * invalidate the line holding size and mask under the consumer.
	 */
	void *slots[] wp_cacheline_aligned;
};

/* size: power of two in [2, 2^30]. NULL with errno EINVAL or ENOMEM. */
struct wp_ring *wp_ring_create(uint32_t size);
/* NULL does nothing. Objects still in the ring are not touched. */
void wp_ring_free(struct wp_ring *r);

/*
 * Test hook: move an empty ring's indices to idx (for instance just below
 * 2^32, to cross the wrap). -EBUSY if the ring is not empty. Neither side
 * may be in use by another thread during the call.
 */
int wp__ring_set_index(struct wp_ring *r, uint32_t idx);

/* Free slots from the producer's side, refreshing its view of the
 * consumer only when the cached view cannot take n more. */
static inline uint32_t wp__ring_prod_space(struct wp_ring *r, uint32_t head,
					   uint32_t n)
{
	uint32_t space = r->size - (head - r->prod.cached_tail);

	if (space >= n)
		return space;
	/*
	 * Acquire pairs with the consumer's release store of cons.tail: its
	 * loads from the slots it gave back happen before our stores into
	 * them, so we never overwrite an object it has not yet read.
	 */
	r->prod.cached_tail =
		atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	return r->size - (head - r->prod.cached_tail);
}

/* Filled slots from the consumer's side, refreshing its view of the
 * producer only when the cached view holds fewer than n. */
static inline uint32_t wp__ring_cons_avail(struct wp_ring *r, uint32_t tail,
					   uint32_t n)
{
	uint32_t avail = r->cons.cached_head - tail;

	if (avail >= n)
		return avail;
	/*
	 * Acquire pairs with the producer's release store of prod.head: its
	 * stores into the slots up to head are visible before we load them.
	 */
	r->cons.cached_head =
		atomic_load_explicit(&r->prod.head, memory_order_acquire);
	return r->cons.cached_head - tail;
}

/*
 * A run of n pointers: 32 bytes at a time, then 16, then 8. Fixed-size
 * memcpy compiles to plain moves; a plain loop would be turned into a call
 * to memmove, which costs more than a whole small batch.
 */
static inline void wp__ring_copy(void **restrict dst, void *const *restrict src,
				 uint32_t n)
{
	size_t i = 0;

	for (; i + 4 <= n; i += 4)
		memcpy(&dst[i], &src[i], 4 * sizeof(void *));
	if (n & 2) {
		memcpy(&dst[i], &src[i], 2 * sizeof(void *));
		i += 2;
	}
	if (n & 1)
		dst[i] = src[i];
}

/* Slot copies in at most two runs: up to the end of the array, then from
 * its start. */
static inline void wp__ring_copy_in(struct wp_ring *r, uint32_t head,
				    void *const *objs, uint32_t n)
{
	uint32_t idx = head & r->mask;
	uint32_t first = r->size - idx < n ? r->size - idx : n;

	wp__ring_copy(&r->slots[idx], objs, first);
	if (wp_unlikely(first < n))
		wp__ring_copy(r->slots, objs + first, n - first);
}

static inline void wp__ring_copy_out(struct wp_ring *r, uint32_t tail,
				     void **objs, uint32_t n)
{
	uint32_t idx = tail & r->mask;
	uint32_t first = r->size - idx < n ? r->size - idx : n;

	wp__ring_copy(objs, &r->slots[idx], first);
	if (wp_unlikely(first < n))
		wp__ring_copy(objs + first, r->slots, n - first);
}

static inline uint32_t wp__ring_enqueue(struct wp_ring *r, void *const *objs,
					uint32_t n, bool bulk)
{
	/* Only the producer stores prod.head: relaxed reads its own store. */
	uint32_t head =
		atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint32_t space = wp__ring_prod_space(r, head, n);

	if (space < n) {
		if (bulk)
			return 0;
		n = space;
	}
	if (wp_unlikely(n == 0))
		return 0;
	wp__ring_copy_in(r, head, objs, n);
	/*
	 * Release orders the slot stores above before the new head: a
	 * consumer that acquires this head sees the objects in the slots.
	 */
	atomic_store_explicit(&r->prod.head, head + n, memory_order_release);
	return n;
}

static inline uint32_t wp__ring_dequeue(struct wp_ring *r, void **objs,
					uint32_t n, bool bulk)
{
	/* Only the consumer stores cons.tail: relaxed reads its own store. */
	uint32_t tail =
		atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
	uint32_t avail = wp__ring_cons_avail(r, tail, n);

	if (avail < n) {
		if (bulk)
			return 0;
		n = avail;
	}
	if (wp_unlikely(n == 0))
		return 0;
	wp__ring_copy_out(r, tail, objs, n);
	/*
	 * Release orders the slot loads above before the new tail: a
	 * producer that acquires this tail may then overwrite those slots.
	 */
	atomic_store_explicit(&r->cons.tail, tail + n, memory_order_release);
	return n;
}

/* Producer side. Enqueue all n objects or none; returns n or 0. */
static inline uint32_t wp_ring_enqueue_bulk(struct wp_ring *r,
					    void *const *objs, uint32_t n)
{
	return wp__ring_enqueue(r, objs, n, true);
}

/* Producer side. Enqueue the first min(n, free) objects; returns that. */
static inline uint32_t wp_ring_enqueue_burst(struct wp_ring *r,
					     void *const *objs, uint32_t n)
{
	return wp__ring_enqueue(r, objs, n, false);
}

/* Consumer side. Dequeue exactly n objects or none; returns n or 0. */
static inline uint32_t wp_ring_dequeue_bulk(struct wp_ring *r, void **objs,
					    uint32_t n)
{
	return wp__ring_dequeue(r, objs, n, true);
}

/* Consumer side. Dequeue up to n objects in FIFO order; returns how many. */
static inline uint32_t wp_ring_dequeue_burst(struct wp_ring *r, void **objs,
					     uint32_t n)
{
	return wp__ring_dequeue(r, objs, n, false);
}

/* Producer side. 0, or -1 when the ring is full. */
static inline int wp_ring_enqueue(struct wp_ring *r, void *obj)
{
	return wp_ring_enqueue_bulk(r, &obj, 1) == 1 ? 0 : -1;
}

/* Consumer side. The oldest object, or NULL when the ring is empty (an
 * enqueued NULL is indistinguishable: use dequeue_bulk for those). */
static inline void *wp_ring_dequeue(struct wp_ring *r)
{
	void *obj;

	return wp_ring_dequeue_bulk(r, &obj, 1) == 1 ? obj : NULL;
}

/*
 * Objects in the ring. Exact from either side when loaded (the other side
 * may move on at once: for the consumer a lower bound, for the producer an
 * upper bound); from a third thread only approximate, within [0, size].
 * Never updates the cached views, so any thread may call it.
 */
static inline uint32_t wp_ring_count(const struct wp_ring *r)
{
	/*
	 * Acquire keeps the head load below after this one. The consumer
	 * stored this tail after it had seen a head at least as far on, so
	 * the head we then load is never behind it: head - tail never
	 * underflows. It can overshoot size when the tail we hold is stale
	 * (a third thread), hence the clamp.
	 */
	uint32_t tail =
		atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	/* Relaxed: only a number is wanted here, no slot contents. */
	uint32_t head =
		atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint32_t n = head - tail;

	return n > r->size ? r->size : n;
}

/* Free slots; same exactness as wp_ring_count. */
static inline uint32_t wp_ring_free_count(const struct wp_ring *r)
{
	return r->size - wp_ring_count(r);
}

static inline bool wp_ring_empty(const struct wp_ring *r)
{
	return wp_ring_count(r) == 0;
}

static inline bool wp_ring_full(const struct wp_ring *r)
{
	return wp_ring_free_count(r) == 0;
}

#endif
