/* SPDX-License-Identifier: MIT */
/*
 * A bounded multi-producer, single-consumer ring of fixed-size slots
 * (Dmitry Vyukov's bounded queue with one consumer): what the trace
 * records and capture frames travel in from the threads that produce
 * them (core threads; an application thread releasing a sampled skb) to
 * the one thread that takes them off.
 *
 * Each slot starts with a sequence word. A producer claims position p
 * when the slot's sequence says it is free for lap p (seq == p), by a
 * compare-and-swap on the head; it writes the payload and publishes it
 * with seq = p + 1 (release). The consumer takes position t when
 * seq == t + 1 (acquire), reads the payload and frees the slot for the
 * next lap with seq = t + size (release). A full ring fails the claim at
 * once: the producer drops and counts, it never waits. A producer that
 * claimed a slot and has not published it yet stops the consumer at that
 * slot until it does (the consumer returns "empty" meanwhile): a few
 * stores, never a wait on anything the consumer holds.
 *
 * Private to src/trace.
 */
#ifndef WP_TRACE_MPSC_H
#define WP_TRACE_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

struct wp__mpsc {
	_Atomic uint64_t head wp_cacheline_aligned; /* producers claim here */
	_Atomic uint64_t dropped;	    /* claims that found it full */
	uint64_t tail wp_cacheline_aligned; /* consumer only */
	uint8_t *slots;
	uint32_t mask;
	uint32_t stride; /* bytes per slot: sequence word + payload, aligned */
};

/*
 * size: a power of two >= 2; payload: bytes per slot. 0, -EINVAL or
 * -ENOMEM. Control path.
 */
int wp__mpsc_init(struct wp__mpsc *r, uint32_t size, size_t payload);
void wp__mpsc_destroy(struct wp__mpsc *r);

/*
 * Claim a slot: its payload, and *pos to pass to commit. NULL (and
 * `dropped` counted) when full. Any thread.
 */
void *wp__mpsc_claim(struct wp__mpsc *r, uint64_t *pos);
/* Publish a claimed slot. */
void wp__mpsc_commit(struct wp__mpsc *r, uint64_t pos);

/* Consumer: the oldest published payload, or NULL. */
const void *wp__mpsc_peek(struct wp__mpsc *r);
/* Consumer: free the slot peek returned. */
void wp__mpsc_pop(struct wp__mpsc *r);

/* Published or claimed entries, a snapshot (any thread). */
uint32_t wp__mpsc_count(const struct wp__mpsc *r);

static inline uint64_t wp__mpsc_dropped(const struct wp__mpsc *r)
{
	return atomic_load_explicit(&((struct wp__mpsc *)r)->dropped,
				    memory_order_relaxed);
}

#endif
