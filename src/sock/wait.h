/* SPDX-License-Identifier: MIT */
/*
 * Wait queues (Linux include/linux/wait.h) and the waiters that sleep on
 * them.
 *
 * A wait queue is a list of entries {func, private, key, flags}. Waking
 * the queue with a poll mask runs each entry's func (__wake_up_common):
 * the func decides what "waking" means for its owner:
 *
 *   wp_default_wake_function   a thread blocked in a socket call
 *   pollwake (poll.c)          a select/poll caller: wake it, and it
 *                              rescans all N descriptors: O(N) per wake
 *   ep_poll_callback (epoll.c) put the epitem on the ready list, O(1),
 *                              then wake an epoll_wait caller
 *
 * Keys are poll masks (WP_EPOLLIN, ...). A wake with key 0 means "no key"
 * (Linux wake_up_all on a state change): every entry matches.
 *
 * Order of entries: non-exclusive entries are added at the front and
 * exclusive ones at the back, so a wake reaches every non-exclusive
 * entry and then at most nr_exclusive exclusive ones whose func returned
 * nonzero (the thundering-herd guard of accept and EPOLLEXCLUSIVE).
 *
 * Locks: each queue has a mutex held while funcs run, so removing an
 * entry under that mutex guarantees its func is not running and will
 * not run again: a waiter may free its entry right after removing it,
 * and must call wp_remove_wait_queue() before freeing it even if an
 * autoremove func already unlinked it (the waker may still be inside
 * that func). Funcs must not sleep and must not take a socket lock.
 *
 * Threads: any thread may wake a queue. Waiters are application threads
 * sleeping on a wp_waiter (mutex + condvar each, never shared).
 */
#ifndef WP_SOCK_WAIT_H
#define WP_SOCK_WAIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "sock/list.h"

struct wp_skb;
struct wp_wait_queue_entry;

/*
 * A wake function: called with the queue's lock held and the wake key.
 * Returns nonzero if it did something (woke a sleeping thread, queued an
 * epitem): only such returns count against nr_exclusive.
 */
typedef int (*wp_wait_queue_func_t)(struct wp_wait_queue_entry *e,
				    uint32_t key);

/* What a wake function is, for stats and trace stamps. */
enum wp_wake_kind {
	WP_WAKE_DEFAULT,  /* default_wake_function: blocked socket call */
	WP_WAKE_POLLWAKE, /* pollwake: select/poll caller */
	WP_WAKE_EP_POLL_CALLBACK, /* ep_poll_callback: epitem -> ready list */
	WP_WAKE_EP_AUTOREMOVE,	  /* ep_autoremove_wake_function: epoll_wait */
	WP_WAKE_OTHER,		  /* anything else (tests, tools) */
	WP_WAKE__MAX
};

/* Entry flags. */
#define WP_WQ_FLAG_EXCLUSIVE 0x01u

struct wp_wait_queue_entry {
	uint32_t flags; /* WP_WQ_FLAG_* */
	uint32_t key;	/* poll events of interest; 0 = any */
	enum wp_wake_kind kind;
	void *private; /* the func's owner: a waiter, an epitem, ... */
	wp_wait_queue_func_t func;
	struct wp_list_head entry; /* self-linked while not on a queue */
};

struct wp_wait_queue {
	pthread_mutex_t lock;
	/*
	 * Entries on the queue, written under lock, read without it by
	 * wakers to skip an idle queue (wq_has_sleeper); see
	 * wp_wq_has_sleeper() for the barrier pairing.
	 */
	_Atomic uint32_t nr;
	struct wp_list_head head;
};

void wp_init_waitqueue_head(struct wp_wait_queue *wq);
/* The queue must be empty. */
void wp_destroy_waitqueue_head(struct wp_wait_queue *wq);

static inline void wp_init_waitqueue_func_entry(struct wp_wait_queue_entry *e,
						wp_wait_queue_func_t func,
						void *private, uint32_t key)
{
	e->flags = 0;
	e->key = key;
	e->kind = WP_WAKE_OTHER;
	e->private = private;
	e->func = func;
	wp_list_init(&e->entry);
}

/*
 * Add at the front (non-exclusive) or back (exclusive; sets the flag).
 * Both end with a full barrier, so that the caller's next readiness
 * check cannot be ordered before the add: it pairs with the barrier in
 * wp_wq_has_sleeper() (Linux sock_poll_wait's smp_mb). Adding an entry
 * that is already queued is a bug.
 */
void wp_add_wait_queue(struct wp_wait_queue *wq, struct wp_wait_queue_entry *e);
void wp_add_wait_queue_exclusive(struct wp_wait_queue *wq,
				 struct wp_wait_queue_entry *e);

/* Remove if queued (no-op otherwise). On return, e's func is not running. */
void wp_remove_wait_queue(struct wp_wait_queue *wq,
			  struct wp_wait_queue_entry *e);

/*
 * True if the queue may have entries. A waker calls it after making
 * the state change visible (data queued, error set): the full barrier
 * here pairs with the one in wp_add_wait_queue(), so either the waker
 * sees the entry or the waiter's readiness check sees the new state.
 */
bool wp_wq_has_sleeper(struct wp_wait_queue *wq);

/*
 * __wake_up_common: run the func of every entry whose key matches
 * (funcs check), stopping after nr_exclusive exclusive entries returned
 * nonzero (0: no limit). An idle queue costs a barrier and a load, no
 * lock. If skb is given and sampled (skb->stamps), the kinds of funcs
 * that returned nonzero are or-ed into skb->stamps->wake_kind as
 * (1u << enum wp_wake_kind). The skb is borrowed. Returns how many funcs
 * returned nonzero.
 */
int wp_wake_up_common(struct wp_wait_queue *wq, uint32_t key, int nr_exclusive,
		      struct wp_skb *skb);

/* wake_up_poll: non-exclusive entries and one exclusive one. */
static inline int wp_wake_up(struct wp_wait_queue *wq, uint32_t key)
{
	return wp_wake_up_common(wq, key, 1, NULL);
}

/* wake_up_all: every entry, exclusive or not. */
static inline int wp_wake_up_all(struct wp_wait_queue *wq, uint32_t key)
{
	return wp_wake_up_common(wq, key, 0, NULL);
}

/* --- waiters: one sleeping application thread ------------------------- */

/*
 * On a virtual clock a sleeping waiter re-reads the clock after this much
 * real time, so a test that advances the clock sees the timeout expire
 * within one slice.
 */
#define WP_WAIT_VIRTUAL_SLICE_NS (1 * WP_NSEC_PER_MSEC)

struct wp_waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool triggered;	     /* a wake arrived since the last sleep */
};

/* 0 or a negative errno from pthread (-ENOMEM, -EAGAIN). */
int wp_waiter_init(struct wp_waiter *w);
void wp_waiter_destroy(struct wp_waiter *w);

/*
 * Mark the waiter triggered and wake it. Returns 1 if it was not
 * triggered yet (a real wake-up), 0 if a wake was already pending.
 */
int wp_waiter_wake(struct wp_waiter *w);

/*
 * Sleep until triggered or until clock reaches deadline_ns
 * (WP_TIME_NEVER: no deadline), and consume the trigger. The deadline is
 * read on the injected clock (which may be NULL with WP_TIME_NEVER); the
 * sleep itself is a real condvar wait. Returns 0 if triggered,
 * -ETIMEDOUT if the deadline passed untriggered.
 */
int wp_waiter_sleep(struct wp_waiter *w, const struct wp_clock *clock,
		    uint64_t deadline_ns);

/*
 * Wake functions for a waiter in e->private. wp_default_wake_function
 * wakes it if the key matches e->key; wp_autoremove_wake_function also
 * removes the entry once it has woken its waiter, so one wake is
 * consumed by one sleeper (exclusive waits).
 */
int wp_default_wake_function(struct wp_wait_queue_entry *e, uint32_t key);
int wp_autoremove_wake_function(struct wp_wait_queue_entry *e, uint32_t key);

/* --- stats ------------------------------------------------------------- */

/*
 * Wake-up and scan counters: what `wirepath stat` and tracing read to
 * show select/poll's O(N) rescans against epoll's O(1) ready list.
 *
 * Counting follows the drop counters (core/drop.h): a thread that binds
 * a block (a core thread binds its own) counts there without atomics;
 * other threads count into a shared atomic block. Hot loops (a poll
 * pass over N descriptors) add once per pass, not once per descriptor.
 */
struct wp_wake_stats {
	uint64_t wake_ups;	/* wakes that found entries and ran funcs */
	uint64_t wake_ups_idle; /* wakes of an empty queue: no lock taken */
	uint64_t calls[WP_WAKE__MAX]; /* funcs run, by kind */
	uint64_t woken[WP_WAKE__MAX]; /* ... that returned nonzero */
	uint64_t poll_calls;	      /* wp_poll + wp_select */
	uint64_t poll_scans;	      /* passes over the whole descriptor set */
	uint64_t poll_fds_scanned; /* ->poll() calls of those passes: N each */
	uint64_t poll_sleeps;	   /* times a poll/select caller slept */
	uint64_t poll_busy_loops;  /* ... spun first (net.core.busy_poll) */
	uint64_t poll_busy_hits;   /* ... and found events without sleeping */
	uint64_t epoll_waits;	   /* wp_epoll_wait calls */
	uint64_t epoll_items_polled; /* ->poll() calls by epoll: ready items
					only */
	uint64_t epoll_events;	     /* events returned by wp_epoll_wait */
	uint64_t epoll_sleeps;	     /* times an epoll_wait caller slept */
	uint64_t epoll_busy_loops;   /* ... spun first (net.core.busy_poll) */
	uint64_t epoll_busy_hits;    /* ... and found events without sleeping */
};

enum wp_wake_stat {
	WP_WSTAT_WAKE_UPS,
	WP_WSTAT_WAKE_UPS_IDLE,
	WP_WSTAT_POLL_CALLS,
	WP_WSTAT_POLL_SCANS,
	WP_WSTAT_POLL_FDS_SCANNED,
	WP_WSTAT_POLL_SLEEPS,
	WP_WSTAT_POLL_BUSY_LOOPS,
	WP_WSTAT_POLL_BUSY_HITS,
	WP_WSTAT_EPOLL_WAITS,
	WP_WSTAT_EPOLL_ITEMS_POLLED,
	WP_WSTAT_EPOLL_EVENTS,
	WP_WSTAT_EPOLL_SLEEPS,
	WP_WSTAT_EPOLL_BUSY_LOOPS,
	WP_WSTAT_EPOLL_BUSY_HITS,
};

/* "pollwake" for WP_WAKE_POLLWAKE; "?" out of range. */
const char *wp_wake_kind_name(enum wp_wake_kind kind);

/* Bind the calling thread's block (NULL unbinds); only it writes there. */
void wp_wake_stats_bind(struct wp_wake_stats *s);

/* Copy the shared block (threads with no block of their own). */
void wp_wake_stats_shared(struct wp_wake_stats *out);

/* Add n to a counter on this thread's block or the shared one. */
void wp__wake_stat_add(enum wp_wake_stat stat, uint64_t n);

#endif
