// SPDX-License-Identifier: MIT
/*
 * sk_buff editing, chains and queues: what is not inline in skb.h (pull,
 * trim of a linear skb, skb_get and the queue operations are).
 * Everything here is pointer and offset arithmetic on the descriptor; the
 * one function that touches packet bytes is wp_skb_copy_bits, which reads
 * them. Lifetimes that touch the pool (build, clone, free) are in pool.c.
 *
 * Bounds: every length is checked against the room it consumes before
 * anything moves, with subtractions that cannot wrap (head <= data,
 * tail <= end, data - head + len == tail), so a hostile length leaves the
 * skb as it was and makes the call return failure.
 */
#include "skb/skb.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

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

/* Free the chain from *link on, unlinking it there. */
static void chain_free_from(struct wp_skb *skb, struct wp_skb **link)
{
	struct wp_skb *f = *link;

	*link = NULL;
	while (f) {
		struct wp_skb *next = f->next;

		skb->frag_truesize -= wp_skb_truesize(f);
		f->next = NULL;
		wp_consume_skb(f);
		f = next;
	}
}

void wp__skb_trim_chain(struct wp_skb *skb, uint32_t len)
{
	uint32_t headlen = wp_skb_headlen(skb);
	struct wp_skb **link = &skb->frag_list;
	uint32_t left;

	if (skb->len <= len)
		return;
	if (len <= headlen) {
		chain_free_from(skb, link);
		skb->data_len = 0;
		skb->len = len;
		skb->tail = wp_skb_headroom(skb) + len;
		return;
	}
	/* Keep len - headlen bytes of the chain. */
	left = len - headlen;
	while (*link && left) {
		struct wp_skb *f = *link;

		if (f->len > left)
			wp_skb_trim(f, left);
		left -= f->len;
		link = &f->next;
	}
	chain_free_from(skb, link);
	skb->len = len;
	skb->data_len = len - headlen;
}

int wp_pskb_pull(struct wp_skb *skb, uint32_t len)
{
	uint32_t n = wp_skb_headlen(skb);

	if (len > skb->len)
		return -EINVAL;
	if (n > len)
		n = len;
	skb->data += n;
	skb->len -= n;
	len -= n;
	/* len <= data_len now: the chain holds that many bytes. */
	while (len) {
		struct wp_skb *f = skb->frag_list;

		if (f->len > len) {
			f->data += len;
			f->len -= len;
			skb->len -= len;
			skb->data_len -= len;
			break;
		}
		len -= f->len;
		skb->len -= f->len;
		skb->data_len -= f->len;
		skb->frag_list = f->next;
		skb->frag_truesize -= wp_skb_truesize(f);
		f->next = NULL;
		wp_consume_skb(f);
	}
	return 0;
}

int wp_skb_copy_bits(const struct wp_skb *skb, uint32_t offset, void *to,
		     uint32_t len)
{
	uint32_t headlen = wp_skb_headlen(skb), n;
	uint8_t *dst = to;

	if (offset > skb->len || len > skb->len - offset)
		return -EINVAL;
	if (offset < headlen) {
		n = headlen - offset < len ? headlen - offset : len;
		memcpy(dst, skb->data + offset, n);
		dst += n;
		len -= n;
		offset = 0;
	} else {
		offset -= headlen;
	}
	for (const struct wp_skb *f = skb->frag_list; f && len; f = f->next) {
		if (offset >= f->len) {
			offset -= f->len;
			continue;
		}
		n = f->len - offset < len ? f->len - offset : len;
		memcpy(dst, f->data + offset, n);
		dst += n;
		len -= n;
		offset = 0;
	}
	return 0;
}

void wp_skb_chain_append(struct wp_skb *skb, struct wp_skb *last,
			 struct wp_skb *frag)
{
	if (!last) {
		last = skb;
		for (struct wp_skb *f = skb->frag_list; f; f = f->next)
			last = f;
	}
	frag->next = NULL;
	frag->prev = NULL;
	if (last == skb)
		skb->frag_list = frag;
	else
		last->next = frag;
	skb->len += frag->len;
	skb->data_len += frag->len;
	skb->frag_truesize += wp_skb_truesize(frag);
}

/* --- queues ------------------------------------------------------------- */

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
