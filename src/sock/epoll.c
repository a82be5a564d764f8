// SPDX-License-Identifier: MIT
/*
 * epoll, as Linux fs/eventpoll.c does it.
 *
 * The interest set is registered once: wp_epoll_ctl(ADD) creates an
 * epitem and hangs its wait entry, func ep_poll_callback, on the
 * socket's wait queue. When the socket becomes ready its sk_data_ready
 * runs ep_poll_callback, which links the epitem on the instance's ready
 * list (rdllist) in O(1) and wakes one epoll_wait caller. epoll_wait
 * only walks rdllist: its cost is the number of ready items, not the
 * number watched.
 *
 *   level-triggered  an item reported while still ready goes back on
 *                    rdllist (at the tail: ready items rotate fairly
 *                    when maxevents is smaller than their number)
 *   EPOLLET          an item is reported once, then leaves rdllist
 *                    until the next callback (the next edge)
 *   EPOLLONESHOT     an item is reported once, then disabled (events
 *                    cleared to the private bits) until MOD
 *
 * Locks, outermost first:
 *   epmutex        global; closing a watched file vs closing an instance
 *   ep->mtx        ctl and event transfer; may sleep-wait, never taken
 *                  by wake functions
 *   file->f_lock   the file's list of epitems watching it
 *   wq->lock       a socket's wait queue; held while ep_poll_callback runs
 *   ep->lock       rdllist and epi->event; taken by ep_poll_callback
 *   ep->wq.lock, ep->poll_wait.lock, a waiter's lock
 * epi->event is written with both ep->mtx and ep->lock held, so either
 * lock is enough to read it.
 *
 * Unlike Linux there is no ovflist: ep_send_events pops items from its
 * private list one at a time under ep->lock, so a callback that arrives
 * during a transfer sees each item either still linked (it will be
 * polled) or unlinked (the callback links it on rdllist again). That
 * costs one uncontended lock per reported item instead of two per call.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "sock/epoll.h"
#include "core/sysctl.h"
#include "sock/fd.h"
#include "sock/sock.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

#define EP_PRIVATE_BITS                                                        \
	(WP_EPOLLWAKEUP | WP_EPOLLONESHOT | WP_EPOLLET | WP_EPOLLEXCLUSIVE)
#define EPOLLINOUT_BITS (WP_EPOLLIN | WP_EPOLLOUT)
#define EPOLLEXCLUSIVE_OK_BITS                                                 \
	(EPOLLINOUT_BITS | WP_EPOLLERR | WP_EPOLLHUP | WP_EPOLLWAKEUP |        \
	 WP_EPOLLET | WP_EPOLLEXCLUSIVE)
#define EP_MAX_EVENTS ((int)(INT_MAX / sizeof(struct wp_epoll_event)))
#define EP_HASH_MIN 16u

struct eventpoll;

struct epitem {
	struct wp_list_head rdllink; /* on rdllist or a transfer list */
	struct epitem *hnext;	     /* ep hash chain (under ep->mtx) */
	struct wp_list_head fllink;  /* on file->f_ep_links */
	struct eventpoll *ep;
	struct wp_file *file; /* no reference: removed at last fput */
	int fd;
	struct wp_epoll_event event;
	struct wp_wait_queue_entry wait; /* on file->f_wq */
};

struct eventpoll {
	pthread_mutex_t mtx;
	pthread_mutex_t lock;
	struct wp_list_head rdllist;
	struct wp_wait_queue wq;	/* epoll_wait callers */
	struct wp_wait_queue poll_wait; /* poll/select on the epoll fd */
	/* Items by (file, fd), chained; Linux uses an rbtree. */
	struct epitem **htab;
	unsigned hsize; /* power of two */
	unsigned nitems;
	/* Set when a socket that busy-polls (sk_ll_usec) is added: its
	 * stack's net.core.busy_poll then applies to epoll_wait (Linux
	 * ties it to the sockets' NAPI ids the same way). */
	_Atomic(const struct wp_sysctl *) busy_sysctl;
};

static pthread_mutex_t epmutex = PTHREAD_MUTEX_INITIALIZER;

static const struct wp_file_ops eventpoll_fops;

static bool is_file_epoll(const struct wp_file *f)
{
	return f->f_op->type == WP_FILE_EPOLL;
}

static bool ep_is_linked(const struct epitem *epi)
{
	return !wp_list_empty(&epi->rdllink);
}

/* --- the item table ------------------------------------------------------ */

static unsigned ep_hash(const struct eventpoll *ep, int fd)
{
	return (unsigned)fd * 2654435761u & (ep->hsize - 1);
}

static struct epitem *ep_find(struct eventpoll *ep, struct wp_file *file,
			      int fd)
{
	struct epitem *epi = ep->htab[ep_hash(ep, fd)];

	for (; epi; epi = epi->hnext)
		if (epi->fd == fd && epi->file == file)
			return epi;
	return NULL;
}

/* Double the table before it holds more items than buckets. */
static int ep_hash_reserve(struct eventpoll *ep)
{
	unsigned nsize = ep->hsize * 2, osize = ep->hsize;
	struct epitem **ntab, **otab = ep->htab;

	if (ep->nitems < ep->hsize)
		return 0;
	ntab = calloc(nsize, sizeof(*ntab));
	if (!ntab)
		return -ENOMEM;
	ep->htab = ntab;
	ep->hsize = nsize;
	for (unsigned i = 0; i < osize; i++) {
		struct epitem *epi = otab[i], *next;

		for (; epi; epi = next) {
			unsigned h = ep_hash(ep, epi->fd);

			next = epi->hnext;
			epi->hnext = ntab[h];
			ntab[h] = epi;
		}
	}
	free(otab);
	return 0;
}

static void ep_hash_del(struct eventpoll *ep, struct epitem *epi)
{
	struct epitem **pp = &ep->htab[ep_hash(ep, epi->fd)];

	while (*pp != epi)
		pp = &(*pp)->hnext;
	*pp = epi->hnext;
}

/* --- readiness ---------------------------------------------------------- */

static uint32_t ep_item_poll(struct epitem *epi)
{
	return wp_file_poll(epi->file) & epi->event.events;
}

/*
 * Link a ready item and wake one epoll_wait caller. Caller holds
 * ep->lock. Returns true if pollers of the epoll fd must be woken
 * (after ep->lock is dropped, as Linux ep_poll_safewake).
 */
static bool ep_queue_locked(struct eventpoll *ep, struct epitem *epi)
{
	if (!ep_is_linked(epi))
		wp_list_add_tail(&epi->rdllink, &ep->rdllist);
	wp_wake_up(&ep->wq, 0);
	return wp_wq_has_sleeper(&ep->poll_wait);
}

/* After ctl found an item ready: queue it and wake, outside a callback. */
static void ep_queue(struct eventpoll *ep, struct epitem *epi)
{
	bool pwake;

	pthread_mutex_lock(&ep->lock);
	pwake = ep_queue_locked(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	if (pwake)
		wp_wake_up(&ep->poll_wait, WP_EPOLLIN | WP_EPOLLRDNORM);
}

/*
 * ep_poll_callback: the watched file became ready for `key`. Runs under
 * the file's wait-queue lock, from whatever thread woke it (a core
 * thread's sk_data_ready). O(1): link and wake, no scan.
 *
 * Returns nonzero if the item was queued; for an EPOLLEXCLUSIVE item,
 * only if an epoll_wait caller was there to wake for a matching
 * IN/OUT event, so an exclusive wake-up moves on to another instance
 * otherwise (Linux).
 */
static int ep_poll_callback(struct wp_wait_queue_entry *wait, uint32_t key)
{
	struct epitem *epi = wp_container_of(wait, struct epitem, wait);
	struct eventpoll *ep = epi->ep;
	bool pwake = false;
	uint32_t events;
	int ewake = 0;

	pthread_mutex_lock(&ep->lock);
	events = epi->event.events;
	/* Disabled by EPOLLONESHOT: nothing until MOD. */
	if (!(events & ~EP_PRIVATE_BITS))
		goto out_unlock;
	if (key && !(key & events))
		goto out_unlock;
	if (!ep_is_linked(epi))
		wp_list_add_tail(&epi->rdllink, &ep->rdllist);
	ewake = 1;
	if (wp_wq_has_sleeper(&ep->wq)) {
		if (events & WP_EPOLLEXCLUSIVE) {
			switch (key & EPOLLINOUT_BITS) {
			case WP_EPOLLIN:
				ewake = !!(events & WP_EPOLLIN);
				break;
			case WP_EPOLLOUT:
				ewake = !!(events & WP_EPOLLOUT);
				break;
			default:
				ewake = 1;
				break;
			}
		}
		wp_wake_up(&ep->wq, 0);
	} else if (events & WP_EPOLLEXCLUSIVE) {
		ewake = 0;
	}
	pwake = wp_wq_has_sleeper(&ep->poll_wait);
out_unlock:
	pthread_mutex_unlock(&ep->lock);
	if (pwake)
		wp_wake_up(&ep->poll_wait, WP_EPOLLIN | WP_EPOLLRDNORM);
	return ewake;
}

/*
 * ep_send_events: move up to maxevents ready items into events. Caller
 * holds ep->mtx. Items that turn out not to be ready are dropped from
 * the list; LT items still ready go back at the tail; items not reached
 * go back at the front, so they are first next time.
 */
static int ep_send_events(struct eventpoll *ep, struct wp_epoll_event *events,
			  int maxevents)
{
	struct wp_list_head txlist;
	uint64_t polled = 0;
	int res = 0;

	wp_list_init(&txlist);
	pthread_mutex_lock(&ep->lock);
	wp_list_splice_init(&ep->rdllist, &txlist);
	pthread_mutex_unlock(&ep->lock);

	while (res < maxevents) {
		struct epitem *epi;
		uint32_t revents;

		pthread_mutex_lock(&ep->lock);
		if (wp_list_empty(&txlist)) {
			pthread_mutex_unlock(&ep->lock);
			break;
		}
		epi = wp_list_entry(txlist.next, struct epitem, rdllink);
		wp_list_del_init(&epi->rdllink);
		pthread_mutex_unlock(&ep->lock);

		revents = ep_item_poll(epi);
		polled++;
		if (!revents)
			continue;
		events[res].events = revents;
		events[res].data = epi->event.data;
		res++;
		if (epi->event.events & WP_EPOLLONESHOT) {
			pthread_mutex_lock(&ep->lock);
			epi->event.events &= EP_PRIVATE_BITS;
			pthread_mutex_unlock(&ep->lock);
		} else if (!(epi->event.events & WP_EPOLLET)) {
			pthread_mutex_lock(&ep->lock);
			if (!ep_is_linked(epi))
				wp_list_add_tail(&epi->rdllink, &ep->rdllist);
			pthread_mutex_unlock(&ep->lock);
		}
	}

	/* ep_done_scan */
	pthread_mutex_lock(&ep->lock);
	wp_list_splice_init(&txlist, &ep->rdllist);
	/* Items left: another waiter may take them while we return. */
	if (!wp_list_empty(&ep->rdllist))
		wp_wake_up(&ep->wq, 0);
	pthread_mutex_unlock(&ep->lock);

	wp__wake_stat_add(WP_WSTAT_EPOLL_ITEMS_POLLED, polled);
	return res;
}

static bool ep_events_available(struct eventpoll *ep)
{
	bool avail;

	pthread_mutex_lock(&ep->lock);
	avail = !wp_list_empty(&ep->rdllist);
	pthread_mutex_unlock(&ep->lock);
	return avail;
}

static bool ep_avail_cb(void *arg)
{
	return ep_events_available(arg);
}

/* ep_busy_loop: spin for net.core.busy_poll before the first sleep. */
static bool ep_busy_loop(struct eventpoll *ep)
{
	const struct wp_sysctl *sc =
		atomic_load_explicit(&ep->busy_sysctl, memory_order_relaxed);
	uint32_t usec = sc ? (uint32_t)wp_sysctl_read(&sc->busy_poll) : 0;

	if (!usec)
		return false;
	wp__wake_stat_add(WP_WSTAT_EPOLL_BUSY_LOOPS, 1);
	if (!wp_busy_loop(usec, ep_avail_cb, ep))
		return false;
	wp__wake_stat_add(WP_WSTAT_EPOLL_BUSY_HITS, 1);
	return true;
}

/* ep_poll: the body of epoll_wait. */
static int ep_poll(struct eventpoll *ep, struct wp_epoll_event *events,
		   int maxevents, const struct wp_clock *clock,
		   uint64_t deadline_ns, bool timed_out)
{
	struct wp_wait_queue_entry wait;
	bool eavail = ep_events_available(ep);
	bool have_waiter = false, busy_done = false;
	struct wp_waiter w;
	int res = 0;

	for (;;) {
		if (eavail) {
			pthread_mutex_lock(&ep->mtx);
			res = ep_send_events(ep, events, maxevents);
			pthread_mutex_unlock(&ep->mtx);
			if (res)
				break;
		}
		if (timed_out)
			break;
		if (!busy_done) {
			busy_done = true;
			if (ep_busy_loop(ep)) {
				eavail = true;
				continue;
			}
		}

		if (!have_waiter) {
			res = wp_waiter_init(&w);
			if (res)
				break;
			have_waiter = true;
		}
		wp_init_waitqueue_func_entry(&wait, wp_autoremove_wake_function,
					     &w, 0);
		wait.kind = WP_WAKE_EP_AUTOREMOVE;
		/*
		 * Check and add under ep->lock: every wake of ep->wq happens
		 * under it, so no wake falls between the two.
		 */
		pthread_mutex_lock(&ep->lock);
		eavail = !wp_list_empty(&ep->rdllist);
		if (!eavail)
			wp_add_wait_queue_exclusive(&ep->wq, &wait);
		pthread_mutex_unlock(&ep->lock);

		if (!eavail) {
			wp__wake_stat_add(WP_WSTAT_EPOLL_SLEEPS, 1);
			timed_out = wp_waiter_sleep(&w, clock, deadline_ns) ==
				    -ETIMEDOUT;
		}
		eavail = true;
		pthread_mutex_lock(&ep->lock);
		/*
		 * Timed out but a wake removed us meanwhile: that wake was
		 * meant for us, so take the events rather than lose it.
		 */
		if (timed_out)
			eavail = wp_list_empty(&wait.entry);
		wp_remove_wait_queue(&ep->wq, &wait);
		pthread_mutex_unlock(&ep->lock);
	}
	if (have_waiter)
		wp_waiter_destroy(&w);
	return res;
}

bool wp__epoll_idle(int epfd)
{
	struct wp_file *f = wp_fdget(wp_fdtable_current(), epfd);
	struct eventpoll *ep;
	bool idle;

	if (!f)
		return false;
	if (!is_file_epoll(f)) {
		wp_file_put(f);
		return false;
	}
	ep = f->private_data;
	pthread_mutex_lock(&ep->lock);
	idle = wp_list_empty(&ep->rdllist) && wp_wq_has_sleeper(&ep->wq);
	pthread_mutex_unlock(&ep->lock);
	wp_file_put(f);
	return idle;
}

/* --- ctl ---------------------------------------------------------------- */

/* ep_remove: unhook from the file and the instance, then free. ep->mtx. */
static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
	struct wp_file *file = epi->file;

	/* After this no callback runs on epi, and none is running. */
	wp_remove_wait_queue(file->f_wq, &epi->wait);
	pthread_mutex_lock(&file->f_lock);
	wp_list_del_init(&epi->fllink);
	pthread_mutex_unlock(&file->f_lock);
	ep_hash_del(ep, epi);
	pthread_mutex_lock(&ep->lock);
	if (ep_is_linked(epi))
		wp_list_del_init(&epi->rdllink);
	pthread_mutex_unlock(&ep->lock);
	ep->nitems--;
	free(epi);
}

/* ep_insert, under ep->mtx. 0, -ENOSPC or -ENOMEM (nothing changed). */
static int ep_insert(struct eventpoll *ep, const struct wp_epoll_event *event,
		     struct wp_file *tfile, int fd, unsigned max_items)
{
	struct epitem *epi;
	unsigned h;

	if (ep->nitems >= max_items)
		return -ENOSPC;
	if (ep_hash_reserve(ep))
		return -ENOMEM;
	epi = calloc(1, sizeof(*epi));
	if (!epi)
		return -ENOMEM;
	wp_list_init(&epi->rdllink);
	wp_list_init(&epi->fllink);
	epi->ep = ep;
	epi->file = tfile;
	epi->fd = fd;
	epi->event = *event;
	wp_init_waitqueue_func_entry(&epi->wait, ep_poll_callback, epi,
				     event->events);
	epi->wait.kind = WP_WAKE_EP_POLL_CALLBACK;
	if (tfile->f_op->type == WP_FILE_SOCKET) {
		const struct wp_sock *sk = tfile->private_data;

		if (atomic_load_explicit(&sk->sk_ll_usec,
					 memory_order_relaxed) &&
		    sk->sk_sysctl)
			atomic_store_explicit(&ep->busy_sysctl, sk->sk_sysctl,
					      memory_order_relaxed);
	}

	h = ep_hash(ep, fd);
	epi->hnext = ep->htab[h];
	ep->htab[h] = epi;
	ep->nitems++;
	pthread_mutex_lock(&tfile->f_lock);
	wp_list_add_tail(&epi->fllink, &tfile->f_ep_links);
	pthread_mutex_unlock(&tfile->f_lock);

	/* The add ends with a full barrier: the poll below sees any data
	 * queued before a wake that missed our entry. */
	if (event->events & WP_EPOLLEXCLUSIVE)
		wp_add_wait_queue_exclusive(tfile->f_wq, &epi->wait);
	else
		wp_add_wait_queue(tfile->f_wq, &epi->wait);
	if (ep_item_poll(epi))
		ep_queue(ep, epi);
	return 0;
}

/* ep_modify, under ep->mtx. */
static void ep_modify(struct eventpoll *ep, struct epitem *epi,
		      const struct wp_epoll_event *event)
{
	pthread_mutex_lock(&ep->lock);
	epi->event = *event;
	epi->wait.key = event->events;
	pthread_mutex_unlock(&ep->lock);
	/*
	 * A callback after the unlock sees the new events; one before it
	 * ran before our lock, after its data was queued, so this poll
	 * sees that data. Either way a ready item is queued.
	 */
	if (ep_item_poll(epi))
		ep_queue(ep, epi);
}

static int ep_ctl(struct eventpoll *ep, int op, struct wp_file *tfile, int fd,
		  struct wp_epoll_event *epds, unsigned max_items)
{
	struct epitem *epi;
	int error;

	pthread_mutex_lock(&ep->mtx);
	epi = ep_find(ep, tfile, fd);
	switch (op) {
	case WP_EPOLL_CTL_ADD:
		if (epi) {
			error = -EEXIST;
			break;
		}
		epds->events |= WP_EPOLLERR | WP_EPOLLHUP;
		error = ep_insert(ep, epds, tfile, fd, max_items);
		break;
	case WP_EPOLL_CTL_DEL:
		if (!epi) {
			error = -ENOENT;
			break;
		}
		ep_remove(ep, epi);
		error = 0;
		break;
	case WP_EPOLL_CTL_MOD:
		if (!epi) {
			error = -ENOENT;
			break;
		}
		if (epi->event.events & WP_EPOLLEXCLUSIVE) {
			error = -EINVAL;
			break;
		}
		epds->events |= WP_EPOLLERR | WP_EPOLLHUP;
		ep_modify(ep, epi, epds);
		error = 0;
		break;
	default:
		error = -EINVAL;
		break;
	}
	pthread_mutex_unlock(&ep->mtx);
	return error;
}

/* --- the epoll file ----------------------------------------------------- */

/*
 * poll/select on an epoll descriptor: readable if an item on rdllist is
 * really ready. Items found not ready leave the list (Linux
 * __ep_eventpoll_poll).
 */
static uint32_t ep_eventpoll_poll(struct wp_file *f)
{
	struct eventpoll *ep = f->private_data;
	struct wp_list_head txlist;
	uint32_t res = 0;

	wp_list_init(&txlist);
	pthread_mutex_lock(&ep->mtx);
	pthread_mutex_lock(&ep->lock);
	wp_list_splice_init(&ep->rdllist, &txlist);
	pthread_mutex_unlock(&ep->lock);
	for (;;) {
		struct epitem *epi;

		pthread_mutex_lock(&ep->lock);
		if (wp_list_empty(&txlist)) {
			pthread_mutex_unlock(&ep->lock);
			break;
		}
		epi = wp_list_entry(txlist.next, struct epitem, rdllink);
		pthread_mutex_unlock(&ep->lock);
		/* Left linked while polled: a callback now has nothing to do.
		 */
		if (ep_item_poll(epi)) {
			res = WP_EPOLLIN | WP_EPOLLRDNORM;
			break;
		}
		pthread_mutex_lock(&ep->lock);
		wp_list_del_init(&epi->rdllink);
		pthread_mutex_unlock(&ep->lock);
	}
	pthread_mutex_lock(&ep->lock);
	wp_list_splice_init(&txlist, &ep->rdllist);
	pthread_mutex_unlock(&ep->lock);
	pthread_mutex_unlock(&ep->mtx);
	return res;
}

static void ep_free(struct eventpoll *ep)
{
	/* epmutex: a watched file's last fput may be removing items too. */
	pthread_mutex_lock(&epmutex);
	pthread_mutex_lock(&ep->mtx);
	for (unsigned i = 0; i < ep->hsize; i++)
		while (ep->htab[i])
			ep_remove(ep, ep->htab[i]);
	pthread_mutex_unlock(&ep->mtx);
	pthread_mutex_unlock(&epmutex);

	wp_destroy_waitqueue_head(&ep->poll_wait);
	wp_destroy_waitqueue_head(&ep->wq);
	pthread_mutex_destroy(&ep->lock);
	pthread_mutex_destroy(&ep->mtx);
	free(ep->htab);
	free(ep);
}

static void ep_eventpoll_release(struct wp_file *f)
{
	ep_free(f->private_data);
}

static const struct wp_file_ops eventpoll_fops = {
	.type = WP_FILE_EPOLL,
	.poll = ep_eventpoll_poll,
	.release = ep_eventpoll_release,
};

static struct eventpoll *ep_alloc(void)
{
	struct eventpoll *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return NULL;
	ep->hsize = EP_HASH_MIN;
	ep->htab = calloc(ep->hsize, sizeof(*ep->htab));
	if (!ep->htab) {
		free(ep);
		return NULL;
	}
	pthread_mutex_init(&ep->mtx, NULL);
	pthread_mutex_init(&ep->lock, NULL);
	wp_list_init(&ep->rdllist);
	wp_init_waitqueue_head(&ep->wq);
	wp_init_waitqueue_head(&ep->poll_wait);
	return ep;
}

void wp__eventpoll_release(struct wp_file *f)
{
	bool watched;

	pthread_mutex_lock(&f->f_lock);
	watched = !wp_list_empty(&f->f_ep_links);
	pthread_mutex_unlock(&f->f_lock);
	if (!watched)
		return;

	/*
	 * No ctl can add an item now (that needs a reference to f), but an
	 * instance may be closing: epmutex keeps each epi->ep alive while
	 * we take its mtx.
	 */
	pthread_mutex_lock(&epmutex);
	for (;;) {
		struct epitem *epi = NULL;
		struct eventpoll *ep;

		pthread_mutex_lock(&f->f_lock);
		if (!wp_list_empty(&f->f_ep_links))
			epi = wp_list_entry(f->f_ep_links.next, struct epitem,
					    fllink);
		pthread_mutex_unlock(&f->f_lock);
		if (!epi)
			break;
		ep = epi->ep;
		pthread_mutex_lock(&ep->mtx);
		ep_remove(ep, epi);
		pthread_mutex_unlock(&ep->mtx);
	}
	pthread_mutex_unlock(&epmutex);
}

/* --- system calls -----------------------------------------------------------
 */

static int set_errno(int err)
{
	errno = -err;
	return -1;
}

int wp_epoll_create1(int flags)
{
	struct eventpoll *ep;
	struct wp_file *f;
	int fd;

	if (flags & ~WP_EPOLL_CLOEXEC)
		return set_errno(-EINVAL);
	ep = ep_alloc();
	if (!ep)
		return set_errno(-ENOMEM);
	f = wp_file_alloc(&eventpoll_fops, ep, &ep->poll_wait);
	if (!f) {
		ep_free(ep);
		return set_errno(-ENOMEM);
	}
	fd = wp_fd_install(wp_fdtable_current(), f);
	if (fd < 0) {
		wp_file_put(f);
		return set_errno(fd);
	}
	return fd;
}

int wp_epoll_create(int size)
{
	if (size <= 0)
		return set_errno(-EINVAL);
	return wp_epoll_create1(0);
}

int wp_epoll_ctl(int epfd, int op, int fd, struct wp_epoll_event *event)
{
	struct wp_fdtable *t = wp_fdtable_current();
	struct wp_file *f, *tf = NULL;
	struct wp_epoll_event epds = { 0 };
	bool has_event = op != WP_EPOLL_CTL_DEL;
	unsigned max_items;
	int error;

	if (has_event) {
		if (!event)
			return set_errno(-EFAULT);
		epds = *event;
	}
	f = wp_fdget(t, epfd);
	if (!f)
		return set_errno(-EBADF);
	tf = wp_fdget(t, fd);
	error = -EBADF;
	if (!tf)
		goto out_fput;

	error = -EINVAL;
	if (f == tf || !is_file_epoll(f))
		goto out_fput;
	if (has_event && (epds.events & WP_EPOLLEXCLUSIVE)) {
		if (op == WP_EPOLL_CTL_MOD)
			goto out_fput;
		if (op == WP_EPOLL_CTL_ADD &&
		    (is_file_epoll(tf) ||
		     (epds.events & ~EPOLLEXCLUSIVE_OK_BITS)))
			goto out_fput;
	}
	/* No nesting: an instance inside another could loop back. */
	if (op == WP_EPOLL_CTL_ADD && is_file_epoll(tf))
		goto out_fput;

	pthread_mutex_lock(&t->lock);
	max_items = t->max_fds;
	pthread_mutex_unlock(&t->lock);
	error = ep_ctl(f->private_data, op, tf, fd, &epds, max_items);

out_fput:
	wp_file_put(tf);
	wp_file_put(f);
	return error ? set_errno(error) : 0;
}

int wp_epoll_wait(int epfd, struct wp_epoll_event *events, int maxevents,
		  int timeout_ms)
{
	struct wp_fdtable *t = wp_fdtable_current();
	uint64_t deadline = WP_TIME_NEVER;
	struct wp_file *f;
	int res;

	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return set_errno(-EINVAL);
	if (!events)
		return set_errno(-EFAULT);
	f = wp_fdget(t, epfd);
	if (!f)
		return set_errno(-EBADF);
	if (!is_file_epoll(f)) {
		wp_file_put(f);
		return set_errno(-EINVAL);
	}
	if (timeout_ms > 0) {
		uint64_t now = wp_clock_now(t->clock);
		uint64_t ns = (uint64_t)timeout_ms * WP_NSEC_PER_MSEC;

		/* Saturate below WP_TIME_NEVER: a finite timeout stays finite.
		 */
		deadline = ns >= WP_TIME_NEVER - 1 - now ? WP_TIME_NEVER - 1
							 : now + ns;
	}
	wp__wake_stat_add(WP_WSTAT_EPOLL_WAITS, 1);
	res = ep_poll(f->private_data, events, maxevents, t->clock, deadline,
		      timeout_ms == 0);
	wp_file_put(f);
	if (res < 0)
		return set_errno(res);
	wp__wake_stat_add(WP_WSTAT_EPOLL_EVENTS, (uint64_t)res);
	return res;
}
