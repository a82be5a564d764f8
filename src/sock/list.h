/* SPDX-License-Identifier: MIT */
/*
 * Circular doubly linked list with a sentinel head (Linux list_head).
 *
 * An unlinked node points at itself (wp_list_del_init), so "is this
 * node on a list?" is wp_list_empty(node): the wait queue and the epoll
 * ready list depend on that to make add and remove idempotent.
 */
#ifndef WP_SOCK_LIST_H
#define WP_SOCK_LIST_H

#include <stdbool.h>

#include "core/compiler.h"

struct wp_list_head {
	struct wp_list_head *next;
	struct wp_list_head *prev;
};

static inline void wp_list_init(struct wp_list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool wp_list_empty(const struct wp_list_head *h)
{
	return h->next == h;
}

static inline void wp__list_insert(struct wp_list_head *n,
				   struct wp_list_head *prev,
				   struct wp_list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert n right after h (at the front when h is the head). */
static inline void wp_list_add(struct wp_list_head *n, struct wp_list_head *h)
{
	wp__list_insert(n, h, h->next);
}

/* Insert n before h (at the back when h is the head). */
static inline void wp_list_add_tail(struct wp_list_head *n,
				    struct wp_list_head *h)
{
	wp__list_insert(n, h->prev, h);
}

/* Unlink n and leave it pointing at itself: safe to delete twice. */
static inline void wp_list_del_init(struct wp_list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	wp_list_init(n);
}

/*
 * Move every node of `list` to the front of `h`, in order, and leave
 * `list` empty. O(1).
 */
static inline void wp_list_splice_init(struct wp_list_head *list,
				       struct wp_list_head *h)
{
	struct wp_list_head *first = list->next, *last = list->prev;

	if (wp_list_empty(list))
		return;
	first->prev = h;
	last->next = h->next;
	h->next->prev = last;
	h->next = first;
	wp_list_init(list);
}

#define wp_list_entry(ptr, type, member) wp_container_of(ptr, type, member)

#endif
