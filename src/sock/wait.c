// SPDX-License-Identifier: MIT
#include "sock/wait.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

#include "skb/skb.h"

/* --- stats ------------------------------------------------------------- */

#define WSTAT_WORDS (sizeof(struct wp_wake_stats) / sizeof(uint64_t))

static _Thread_local struct wp_wake_stats *this_thread_wstats;
static _Atomic uint64_t shared_wstats[WSTAT_WORDS];

static const size_t wstat_offset[] = {
	[WP_WSTAT_WAKE_UPS] = offsetof(struct wp_wake_stats, wake_ups),
	[WP_WSTAT_WAKE_UPS_IDLE] =
		offsetof(struct wp_wake_stats, wake_ups_idle),
	[WP_WSTAT_POLL_CALLS] = offsetof(struct wp_wake_stats, poll_calls),
	[WP_WSTAT_POLL_SCANS] = offsetof(struct wp_wake_stats, poll_scans),
	[WP_WSTAT_POLL_FDS_SCANNED] =
		offsetof(struct wp_wake_stats, poll_fds_scanned),
	[WP_WSTAT_POLL_SLEEPS] = offsetof(struct wp_wake_stats, poll_sleeps),
	[WP_WSTAT_POLL_BUSY_LOOPS] =
		offsetof(struct wp_wake_stats, poll_busy_loops),
	[WP_WSTAT_POLL_BUSY_HITS] =
		offsetof(struct wp_wake_stats, poll_busy_hits),
	[WP_WSTAT_EPOLL_WAITS] = offsetof(struct wp_wake_stats, epoll_waits),
	[WP_WSTAT_EPOLL_ITEMS_POLLED] =
		offsetof(struct wp_wake_stats, epoll_items_polled),
	[WP_WSTAT_EPOLL_EVENTS] = offsetof(struct wp_wake_stats, epoll_events),
	[WP_WSTAT_EPOLL_SLEEPS] = offsetof(struct wp_wake_stats, epoll_sleeps),
	[WP_WSTAT_EPOLL_BUSY_LOOPS] =
		offsetof(struct wp_wake_stats, epoll_busy_loops),
	[WP_WSTAT_EPOLL_BUSY_HITS] =
		offsetof(struct wp_wake_stats, epoll_busy_hits),
};

static const char *const wake_kind_names[WP_WAKE__MAX] = {
	[WP_WAKE_DEFAULT] = "default_wake_function",
	[WP_WAKE_POLLWAKE] = "pollwake",
	[WP_WAKE_EP_POLL_CALLBACK] = "ep_poll_callback",
	[WP_WAKE_EP_AUTOREMOVE] = "ep_autoremove_wake_function",
	[WP_WAKE_OTHER] = "other",
};

const char *wp_wake_kind_name(enum wp_wake_kind kind)
{
	if ((unsigned)kind >= WP_WAKE__MAX)
		return "?";
	return wake_kind_names[kind];
}

void wp_wake_stats_bind(struct wp_wake_stats *s)
{
	this_thread_wstats = s;
}

void wp_wake_stats_shared(struct wp_wake_stats *out)
{
	uint64_t *w = (uint64_t *)(void *)out;

	for (size_t i = 0; i < WSTAT_WORDS; i++)
		w[i] = atomic_load_explicit(&shared_wstats[i],
					    memory_order_relaxed);
}

static void wstat_add_word(size_t off, uint64_t n)
{
	if (this_thread_wstats) {
		*(uint64_t *)(void *)((char *)this_thread_wstats + off) += n;
		return;
	}
	atomic_fetch_add_explicit(&shared_wstats[off / sizeof(uint64_t)], n,
				  memory_order_relaxed);
}

void wp__wake_stat_add(enum wp_wake_stat stat, uint64_t n)
{
	if ((unsigned)stat >= WP_ARRAY_SIZE(wstat_offset) || n == 0)
		return;
	wstat_add_word(wstat_offset[stat], n);
}

/* --- wait queues ------------------------------------------------------- */

void wp_init_waitqueue_head(struct wp_wait_queue *wq)
{
	pthread_mutex_init(&wq->lock, NULL);
	atomic_init(&wq->nr, 0);
	wp_list_init(&wq->head);
}

void wp_destroy_waitqueue_head(struct wp_wait_queue *wq)
{
	pthread_mutex_destroy(&wq->lock);
}

static void wq_add(struct wp_wait_queue *wq, struct wp_wait_queue_entry *e,
		   bool exclusive)
{
	pthread_mutex_lock(&wq->lock);
	if (exclusive) {
		e->flags |= WP_WQ_FLAG_EXCLUSIVE;
		wp_list_add_tail(&e->entry, &wq->head);
	} else {
		e->flags &= ~WP_WQ_FLAG_EXCLUSIVE;
		wp_list_add(&e->entry, &wq->head);
	}
	atomic_store_explicit(
		&wq->nr,
		atomic_load_explicit(&wq->nr, memory_order_relaxed) + 1,
		memory_order_relaxed);
	pthread_mutex_unlock(&wq->lock);
	/*
	 * The caller checks readiness next. Order that load after the nr
	 * store: pairs with the fence in wp_wq_has_sleeper().
	 */
	atomic_thread_fence(memory_order_seq_cst);
}

void wp_add_wait_queue(struct wp_wait_queue *wq, struct wp_wait_queue_entry *e)
{
	wq_add(wq, e, false);
}

void wp_add_wait_queue_exclusive(struct wp_wait_queue *wq,
				 struct wp_wait_queue_entry *e)
{
	wq_add(wq, e, true);
}

/* Caller holds wq->lock. */
static void wq_del_locked(struct wp_wait_queue *wq,
			  struct wp_wait_queue_entry *e)
{
	if (wp_list_empty(&e->entry))
		return;
	wp_list_del_init(&e->entry);
	atomic_store_explicit(
		&wq->nr,
		atomic_load_explicit(&wq->nr, memory_order_relaxed) - 1,
		memory_order_relaxed);
}

void wp_remove_wait_queue(struct wp_wait_queue *wq,
			  struct wp_wait_queue_entry *e)
{
	/*
	 * Always under the lock, even if an autoremove func already
	 * unlinked e: a waker may still be inside that func, touching the
	 * waiter, until it drops the lock.
	 */
	pthread_mutex_lock(&wq->lock);
	wq_del_locked(wq, e);
	pthread_mutex_unlock(&wq->lock);
}

bool wp_wq_has_sleeper(struct wp_wait_queue *wq)
{
	/*
	 * Order the caller's state change (data queued) before the load
	 * of nr: pairs with the fence in wq_add().
	 */
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&wq->nr, memory_order_relaxed) != 0;
}

int wp_wake_up_common(struct wp_wait_queue *wq, uint32_t key, int nr_exclusive,
		      struct wp_skb *skb)
{
	uint32_t calls[WP_WAKE__MAX] = { 0 }, woken[WP_WAKE__MAX] = { 0 };
	struct wp_list_head *pos, *next;
	uint32_t kinds = 0;
	int nwoken = 0;

	if (!wp_wq_has_sleeper(wq)) {
		wp__wake_stat_add(WP_WSTAT_WAKE_UPS_IDLE, 1);
		return 0;
	}

	pthread_mutex_lock(&wq->lock);
	for (pos = wq->head.next; pos != &wq->head; pos = next) {
		struct wp_wait_queue_entry *e =
			wp_list_entry(pos, struct wp_wait_queue_entry, entry);
		uint32_t flags = e->flags;
		unsigned kind =
			e->kind < WP_WAKE__MAX ? e->kind : WP_WAKE_OTHER;
		int ret;

		next = pos->next;
		ret = e->func(e, key);
		/*
		 * e is still valid: its owner frees it only after
		 * wp_remove_wait_queue(), which waits for this lock. An
		 * autoremove func may have unlinked it: keep nr exact.
		 */
		if (wp_list_empty(&e->entry))
			atomic_store_explicit(
				&wq->nr,
				atomic_load_explicit(&wq->nr,
						     memory_order_relaxed) -
					1,
				memory_order_relaxed);
		calls[kind]++;
		if (!ret)
			continue;
		woken[kind]++;
		kinds |= 1u << kind;
		nwoken++;
		if ((flags & WP_WQ_FLAG_EXCLUSIVE) && nr_exclusive > 0 &&
		    --nr_exclusive == 0)
			break;
	}
	pthread_mutex_unlock(&wq->lock);

	if (skb && skb->stamps)
		skb->stamps->wake_kind |= kinds;
	wp__wake_stat_add(WP_WSTAT_WAKE_UPS, 1);
	for (unsigned k = 0; k < WP_WAKE__MAX; k++) {
		if (calls[k])
			wstat_add_word(offsetof(struct wp_wake_stats, calls) +
					       k * sizeof(uint64_t),
				       calls[k]);
		if (woken[k])
			wstat_add_word(offsetof(struct wp_wake_stats, woken) +
					       k * sizeof(uint64_t),
				       woken[k]);
	}
	return nwoken;
}

/* --- waiters ----------------------------------------------------------- */

int wp_waiter_init(struct wp_waiter *w)
{
	pthread_condattr_t attr;
	int err;

	w->triggered = false;
	err = pthread_mutex_init(&w->lock, NULL);
	if (err)
		return -err;
	err = pthread_condattr_init(&attr);
	if (err)
		goto out_mutex;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (err)
		goto out_mutex;
	return 0;

out_mutex:
	pthread_mutex_destroy(&w->lock);
	return -err;
}

void wp_waiter_destroy(struct wp_waiter *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

int wp_waiter_wake(struct wp_waiter *w)
{
	bool was;

	pthread_mutex_lock(&w->lock);
	was = w->triggered;
	w->triggered = true;
	/*
	 * Signal with the lock held: the sleeper cannot return (and free
	 * w) before we unlock, and we touch nothing of w after that.
	 */
	if (!was)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return !was;
}

/* Longest single condvar wait: keeps the absolute time far from overflow. */
#define WAIT_MAX_CHUNK_NS (3600 * WP_NSEC_PER_SEC)

int wp_waiter_sleep(struct wp_waiter *w, const struct wp_clock *clock,
		    uint64_t deadline_ns)
{
	int ret = 0;

	pthread_mutex_lock(&w->lock);
	while (!w->triggered) {
		uint64_t now, rem, abs_ns;
		struct timespec ts;

		if (deadline_ns == WP_TIME_NEVER) {
			pthread_cond_wait(&w->cond, &w->lock);
			continue;
		}
		now = wp_clock_now(clock);
		if (now >= deadline_ns) {
			ret = -ETIMEDOUT;
			break;
		}
		rem = deadline_ns - now;
		if (wp_clock_is_virtual(clock) &&
		    rem > WP_WAIT_VIRTUAL_SLICE_NS)
			rem = WP_WAIT_VIRTUAL_SLICE_NS;
		if (rem > WAIT_MAX_CHUNK_NS)
			rem = WAIT_MAX_CHUNK_NS;
		abs_ns = wp_time_real_ns() + rem;
		ts.tv_sec = (time_t)(abs_ns / WP_NSEC_PER_SEC);
		ts.tv_nsec = (long)(abs_ns % WP_NSEC_PER_SEC);
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	w->triggered = false;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

int wp_default_wake_function(struct wp_wait_queue_entry *e, uint32_t key)
{
	if (key && e->key && !(key & e->key))
		return 0;
	return wp_waiter_wake(e->private);
}

/*
 * Runs under the queue's lock (wp_wake_up_common), which makes the
 * unlink safe; wp_wake_up_common sees the entry gone and fixes nr.
 */
int wp_autoremove_wake_function(struct wp_wait_queue_entry *e, uint32_t key)
{
	int ret = wp_default_wake_function(e, key);

	if (ret)
		wp_list_del_init(&e->entry);
	return ret;
}
