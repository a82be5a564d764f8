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
 *
 * Bulk operations move all n objects or none; burst operations move as
 * many as fit. Each returns the number moved.
 */
#ifndef WP_RING_RING_H
#define WP_RING_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/compiler.h"

struct wp_ring {
	struct {
		_Atomic uint32_t head;  /* written by producer only */
		uint32_t cached_tail;   /* producer's view of cons.tail */
	} prod wp_cacheline_aligned;
	struct {
		_Atomic uint32_t tail;  /* written by consumer only */
		uint32_t cached_head;   /* consumer's view of prod.head */
	} cons wp_cacheline_aligned;
	uint32_t size wp_cacheline_aligned;
	uint32_t mask;
	void *slots[];
};

/* size: power of two in [2, 2^30]. NULL with errno EINVAL or ENOMEM. */
struct wp_ring *wp_ring_create(uint32_t size);
void wp_ring_free(struct wp_ring *r);

uint32_t wp_ring_enqueue_bulk(struct wp_ring *r, void *const *objs, uint32_t n);
uint32_t wp_ring_enqueue_burst(struct wp_ring *r, void *const *objs, uint32_t n);
uint32_t wp_ring_dequeue_bulk(struct wp_ring *r, void **objs, uint32_t n);
uint32_t wp_ring_dequeue_burst(struct wp_ring *r, void **objs, uint32_t n);

static inline int wp_ring_enqueue(struct wp_ring *r, void *obj)
{
	return wp_ring_enqueue_bulk(r, &obj, 1) == 1 ? 0 : -1;
}

static inline void *wp_ring_dequeue(struct wp_ring *r)
{
	void *obj;

	return wp_ring_dequeue_bulk(r, &obj, 1) == 1 ? obj : NULL;
}

/* Approximate when called from a third thread; exact from either side. */
uint32_t wp_ring_count(const struct wp_ring *r);
uint32_t wp_ring_free_count(const struct wp_ring *r);

static inline bool wp_ring_empty(const struct wp_ring *r)
{
	return wp_ring_count(r) == 0;
}

static inline bool wp_ring_full(const struct wp_ring *r)
{
	return wp_ring_free_count(r) == 0;
}

#endif
