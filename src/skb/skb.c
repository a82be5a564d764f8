// SPDX-License-Identifier: MIT
/*
 * sk_buff editing, reference taking and queues. Everything here is
 * pointer and offset arithmetic on the descriptor: no function reads or
 * writes packet bytes. Lifetimes that touch the pool (build, clone, free)
 * are in pool.c.
 *
 * Bounds: every length is checked against the room it consumes before
 * anything moves, with subtractions that cannot wrap (head <= data,
 * tail <= end, data - head + len == tail), so a hostile length leaves the
 * skb as it was and makes the call return failure.
 */
#include "skb/skb.h"

#include <errno.h>
#include <stddef.h>

int wp_skb_reserve(struct wp_skb *skb, uint32_t len)
{
	if (skb->len)
		return -EINVAL;
	if (len > wp_skb_tailroom(skb))
		return -ENOSPC;
	skb->data += len;
	skb->tail += len;
	return 0;
}

uint8_t *wp_skb_put(struct wp_skb *skb, uint32_t len)
{
	uint8_t *tmp = wp_skb_tail_pointer(skb);

	if (len > wp_skb_tailroom(skb))
		return NULL;
	skb->tail += len;
	skb->len += len;
	return tmp;
}

uint8_t *wp_skb_push(struct wp_skb *skb, uint32_t len)
{
	if (len > wp_skb_headroom(skb))
		return NULL;
	skb->data -= len;
	skb->len += len;
	return skb->data;
}

uint8_t *wp_skb_pull(struct wp_skb *skb, uint32_t len)
{
	if (len > skb->len)
		return NULL;
	skb->len -= len;
	skb->data += len;
	return skb->data;
}

void wp_skb_trim(struct wp_skb *skb, uint32_t len)
{
	if (skb->len <= len)
		return;
	skb->len = len;
	skb->tail = wp_skb_headroom(skb) + len;
}

/* Relaxed as Linux refcount_inc: the caller already holds a reference,
 * so the count cannot be 0 and nothing is published by taking one. */
struct wp_skb *wp_skb_get(struct wp_skb *skb)
{
	atomic_fetch_add_explicit(&skb->users, 1, memory_order_relaxed);
	return skb;
}

/* --- queues ------------------------------------------------------------- */

void wp_skb_queue_init(struct wp_skb_queue *q)
{
	q->head = NULL;
	q->tail = NULL;
	q->qlen = 0;
	q->bytes = 0;
}

void wp_skb_queue_tail(struct wp_skb_queue *q, struct wp_skb *skb)
{
	skb->next = NULL;
	skb->prev = q->tail;
	if (q->tail)
		q->tail->next = skb;
	else
		q->head = skb;
	q->tail = skb;
	q->qlen++;
	q->bytes += skb->len;
}

void wp_skb_queue_head(struct wp_skb_queue *q, struct wp_skb *skb)
{
	skb->prev = NULL;
	skb->next = q->head;
	if (q->head)
		q->head->prev = skb;
	else
		q->tail = skb;
	q->head = skb;
	q->qlen++;
	q->bytes += skb->len;
}

void wp_skb_unlink(struct wp_skb_queue *q, struct wp_skb *skb)
{
	if (skb->prev)
		skb->prev->next = skb->next;
	else
		q->head = skb->next;
	if (skb->next)
		skb->next->prev = skb->prev;
	else
		q->tail = skb->prev;
	skb->next = NULL;
	skb->prev = NULL;
	q->qlen--;
	q->bytes -= skb->len;
}

struct wp_skb *wp_skb_dequeue(struct wp_skb_queue *q)
{
	struct wp_skb *skb = q->head;

	if (skb)
		wp_skb_unlink(q, skb);
	return skb;
}

void wp_skb_queue_purge(struct wp_skb_queue *q, enum wp_drop_reason reason)
{
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(q)) != NULL) {
		if (reason == WP_DROP_NOT_SPECIFIED)
			wp_consume_skb(skb);
		else
			wp_kfree_skb_reason(skb, reason);
	}
}
