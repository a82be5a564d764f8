// SPDX-License-Identifier: MIT
/*
 * epoll: ctl and wait errno, level-triggered re-reporting, edge-triggered
 * once per edge, EPOLLONESHOT until MOD, MOD and DEL, fair rotation when
 * maxevents is smaller than the ready count, close of a watched fd and of
 * the instance, EPOLLEXCLUSIVE, timeouts, and real threads: a waiter
 * woken by sk_data_ready from another thread, and many threads without
 * lost wake-ups.
 *
 * Every test runs on its own descriptor table and ends with no
 * descriptor open, every test socket freed and no wait entry left.
 */
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sock/fd.h"
#include "sock/sock.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

/* --- a socket whose readiness the test sets ------------------------------ */

struct tsock {
	struct wp_sock sk;
	_Atomic uint32_t mask;
	_Atomic int pending; /* hammer test: datagrams not yet consumed */
	int fd;
};

static _Atomic int live_socks;

static uint32_t tsock_poll(struct wp_sock *sk)
{
	struct tsock *ts = wp_container_of(sk, struct tsock, sk);
	uint32_t mask = atomic_load(&ts->mask);

	if (atomic_load(&ts->pending) > 0)
		mask |= WP_EPOLLIN | WP_EPOLLRDNORM;
	return mask;
}

static void tsock_free(struct wp_sock *sk)
{
	atomic_fetch_sub(&live_socks, 1);
	free(wp_container_of(sk, struct tsock, sk));
}

static const struct wp_proto tsock_proto = {
	.name = "test",
	.poll = tsock_poll,
	.free = tsock_free,
};

static struct tsock *tsock_open(void)
{
	struct tsock *ts = wp_sk_alloc(sizeof(*ts));

	assert_non_null(ts);
	wp_sock_init(&ts->sk, &tsock_proto, 2, 2, 17, NULL);
	atomic_fetch_add(&live_socks, 1);
	ts->fd = wp_sock_map_fd(&ts->sk);
	assert_true(ts->fd >= 0);
	return ts;
}

/* Change readiness and wake with that mask (what sk_data_ready does). */
static void tsock_set(struct tsock *ts, uint32_t mask)
{
	atomic_store(&ts->mask, mask);
	wp_wake_up(&ts->sk.sk_wq, mask);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- fixture ----------------------------------------------------------------
 */

struct fx {
	struct wp_fdtable *t;
	struct wp_clock vclock;
	struct wp_wake_stats ws;
	int epfd;
};

static int setup_clock(void **state, bool virtual_clock)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	wp_clock_init_virtual(&fx->vclock, 1000 * WP_NSEC_PER_SEC);
	fx->t = wp_fdtable_create(256, virtual_clock ? &fx->vclock : NULL);
	if (!fx->t)
		return -1;
	wp_fdtable_set_current(fx->t);
	wp_wake_stats_bind(&fx->ws);
	atomic_store(&live_socks, 0);
	fx->epfd = wp_epoll_create1(0);
	if (fx->epfd < 0)
		return -1;
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_clock(state, true);
}

static int setup_real(void **state)
{
	return setup_clock(state, false);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	int closed = wp_close(fx->epfd);
	unsigned open = wp_fdtable_nr_open(fx->t);
	int live = atomic_load(&live_socks);

	wp_wake_stats_bind(NULL);
	wp_fdtable_set_current(NULL);
	wp_fdtable_destroy(fx->t);
	free(fx);
	assert_int_equal(closed, 0);
	assert_int_equal(open, 0);
	assert_int_equal(live, 0);
	return 0;
}

/* Close sockets; after their epoll items are gone no entry may remain. */
static void close_all(struct tsock **ts, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(wp_close(ts[i]->fd), 0);
}

static void add(int epfd, struct tsock *ts, uint32_t events)
{
	struct wp_epoll_event ev = { .events = events, .data.fd = ts->fd };

	assert_int_equal(wp_epoll_ctl(epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev), 0);
}

static int wait0(int epfd, struct wp_epoll_event *ev, int max)
{
	return wp_epoll_wait(epfd, ev, max, 0);
}

/* --- errors -------------------------------------------------------------- */

static void test_create_errors(void **state)
{
	int fd;

	(void)state;
	errno = 0;
	assert_int_equal(wp_epoll_create1(1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_epoll_create(0), -1);
	assert_int_equal(errno, EINVAL);
	fd = wp_epoll_create(1);
	assert_true(fd >= 0);
	assert_int_equal(wp_close(fd), 0);
	fd = wp_epoll_create1(WP_EPOLL_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wp_close(fd), 0);
}

static void test_create_emfile(void **state)
{
	struct fx *fx = *state;
	int fds[255];

	/* The fixture's instance holds fd 0; 255 more fill the table. */
	for (int i = 0; i < 255; i++) {
		fds[i] = wp_epoll_create1(0);
		assert_true(fds[i] > 0);
	}
	assert_int_equal(wp_epoll_create1(0), -1);
	assert_int_equal(errno, EMFILE);
	for (int i = 0; i < 255; i++)
		assert_int_equal(wp_close(fds[i]), 0);
	assert_int_equal(wp_fdtable_nr_open(fx->t), 1);
}

static void ctl_err(int epfd, int op, int fd, struct wp_epoll_event *ev,
		    int err)
{
	errno = 0;
	assert_int_equal(wp_epoll_ctl(epfd, op, fd, ev), -1);
	assert_int_equal(errno, err);
}

static void test_ctl_errors(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev = { .events = WP_EPOLLIN };
	int ep2 = wp_epoll_create1(0);

	assert_true(ep2 >= 0);
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, NULL, EFAULT);
	ctl_err(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, NULL, EFAULT);
	ctl_err(77, WP_EPOLL_CTL_ADD, ts->fd, &ev, EBADF);
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, 77, &ev, EBADF);
	ctl_err(-1, WP_EPOLL_CTL_ADD, ts->fd, &ev, EBADF);
	ctl_err(ts->fd, WP_EPOLL_CTL_ADD, fx->epfd, &ev, EINVAL);
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, fx->epfd, &ev, EINVAL);
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, ep2, &ev, EINVAL);
	ctl_err(fx->epfd, 0, ts->fd, &ev, EINVAL);
	ctl_err(fx->epfd, 4, ts->fd, &ev, EINVAL);
	ctl_err(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, &ev, ENOENT);
	ctl_err(fx->epfd, WP_EPOLL_CTL_DEL, ts->fd, NULL, ENOENT);
	ctl_err(fx->epfd, WP_EPOLL_CTL_DEL, ep2, NULL, ENOENT);

	/* EPOLLEXCLUSIVE: ADD only, with IN/OUT/ERR/HUP/WAKEUP/ET. */
	ev.events = WP_EPOLLIN | WP_EPOLLEXCLUSIVE | WP_EPOLLONESHOT;
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev, EINVAL);
	ev.events = WP_EPOLLIN | WP_EPOLLEXCLUSIVE | WP_EPOLLRDHUP;
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev, EINVAL);
	ev.events = WP_EPOLLIN | WP_EPOLLEXCLUSIVE;
	ctl_err(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, &ev, EINVAL);

	/* Failed calls changed nothing: the ADD now works, once. */
	ev.events = WP_EPOLLIN;
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev),
			 0);
	ctl_err(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev, EEXIST);
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_DEL, ts->fd, NULL),
			 0);

	/* An exclusive item cannot be modified. */
	ev.events = WP_EPOLLIN | WP_EPOLLET | WP_EPOLLEXCLUSIVE;
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev),
			 0);
	ev.events = WP_EPOLLIN;
	ctl_err(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, &ev, EINVAL);
	ctl_err(ep2, WP_EPOLL_CTL_ADD, fx->epfd, &ev, EINVAL);
	assert_int_equal(wp_close(ep2), 0);
	close_all(&ts, 1);
	assert_int_equal(atomic_load(&live_socks), 0);
}

static void test_ctl_enospc(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[3];

	for (int i = 0; i < 3; i++)
		ts[i] = tsock_open();
	/* An instance watches at most as many descriptors as the table holds.
	 */
	assert_int_equal(wp_fdtable_set_max(fx->t, 2), 0);
	add(fx->epfd, ts[0], WP_EPOLLIN);
	add(fx->epfd, ts[1], WP_EPOLLIN);
	errno = 0;
	assert_int_equal(
		wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_ADD, ts[2]->fd,
			     &(struct wp_epoll_event){ WP_EPOLLIN, { 0 } }),
		-1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(wp_fdtable_set_max(fx->t, 256), 0);
	close_all(ts, 3);
}

static void test_wait_errors(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev[1];

	errno = 0;
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, -1, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 1 << 30, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_epoll_wait(fx->epfd, NULL, 1, 0), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(wp_epoll_wait(99, ev, 1, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(wp_epoll_wait(ts->fd, ev, 1, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 1, 0), 0);
	close_all(&ts, 1);
}

/* --- triggering modes ------------------------------------------------------
 */

#define NWATCH 100

static void test_level_triggered(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[NWATCH];
	struct wp_epoll_event ev[4];

	for (int i = 0; i < NWATCH; i++) {
		ts[i] = tsock_open();
		add(fx->epfd, ts[i], WP_EPOLLIN);
	}
	assert_int_equal(wait0(fx->epfd, ev, 4), 0);

	tsock_set(ts[42], WP_EPOLLIN | WP_EPOLLOUT);
	memset(&fx->ws, 0, sizeof(fx->ws));
	for (int round = 0; round < 3; round++) {
		/* Still ready: reported again and again. */
		assert_int_equal(wait0(fx->epfd, ev, 4), 1);
		assert_int_equal(ev[0].events, WP_EPOLLIN); /* OUT not asked */
		assert_int_equal(ev[0].data.fd, ts[42]->fd);
	}
	/* O(1): one item polled per wait, not 100. */
	assert_int_equal(fx->ws.epoll_items_polled, 3);
	assert_int_equal(fx->ws.epoll_waits, 3);
	assert_int_equal(fx->ws.epoll_events, 3);

	/* No longer ready: polled once more, then gone from the list. */
	atomic_store(&ts[42]->mask, 0);
	assert_int_equal(wait0(fx->epfd, ev, 4), 0);
	assert_int_equal(wait0(fx->epfd, ev, 4), 0);
	assert_int_equal(fx->ws.epoll_items_polled, 4);
	close_all(ts, NWATCH);
}

static void test_edge_triggered(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev[2];

	add(fx->epfd, ts, WP_EPOLLIN | WP_EPOLLET);
	tsock_set(ts, WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].events, WP_EPOLLIN);
	/* Still ready, but no new edge: not reported. */
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	/* A new arrival is a new edge, even though readiness never dropped. */
	tsock_set(ts, WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	/* An edge of an event not asked for is not one. */
	tsock_set(ts, WP_EPOLLIN | WP_EPOLLOUT);
	wp_wake_up(&ts->sk.sk_wq, WP_EPOLLOUT);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1); /* the IN|OUT set above */
	wp_wake_up(&ts->sk.sk_wq, WP_EPOLLOUT);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	/* Readiness changed back by the time of the wait: nothing. */
	tsock_set(ts, WP_EPOLLIN);
	atomic_store(&ts->mask, 0);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	close_all(&ts, 1);
}

static void test_oneshot_and_mod(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev[2];
	struct wp_epoll_event mod = { .events = WP_EPOLLIN | WP_EPOLLONESHOT,
				      .data.u64 = 0xfeedULL };

	add(fx->epfd, ts, WP_EPOLLIN | WP_EPOLLONESHOT);
	tsock_set(ts, WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].data.fd, ts->fd);
	/* Disabled: neither still-ready nor new edges report. */
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	tsock_set(ts, WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	/* MOD re-arms; the item is ready, so it is queued at once. */
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, &mod),
			 0);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].data.u64, 0xfeedULL);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);

	/* MOD to events that are not ready: nothing until they are. */
	mod.events = WP_EPOLLOUT;
	mod.data.u64 = 7;
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_MOD, ts->fd, &mod),
			 0);
	tsock_set(ts, WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 0);
	tsock_set(ts, WP_EPOLLIN | WP_EPOLLOUT);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].events, WP_EPOLLOUT);
	assert_int_equal(ev[0].data.u64, 7);
	/* ERR and HUP are always watched. */
	tsock_set(ts, WP_EPOLLHUP | WP_EPOLLERR | WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].events, WP_EPOLLHUP | WP_EPOLLERR);
	close_all(&ts, 1);
}

static void test_del_removes_ready_item(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[2];
	struct wp_epoll_event ev[2];

	for (int i = 0; i < 2; i++) {
		ts[i] = tsock_open();
		add(fx->epfd, ts[i], WP_EPOLLIN);
		tsock_set(ts[i], WP_EPOLLIN);
	}
	assert_int_equal(
		wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_DEL, ts[0]->fd, NULL), 0);
	assert_int_equal(wait0(fx->epfd, ev, 2), 1);
	assert_int_equal(ev[0].data.fd, ts[1]->fd);
	/* The socket's queue no longer has the item. */
	assert_int_equal(atomic_load(&ts[0]->sk.sk_wq.nr), 0);
	assert_int_equal(atomic_load(&ts[1]->sk.sk_wq.nr), 1);
	/* DEL then ADD again: a fresh item. */
	add(fx->epfd, ts[0], WP_EPOLLIN);
	assert_int_equal(wait0(fx->epfd, ev, 2), 2);
	close_all(ts, 2);
}

static void test_ready_at_add(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev[1];

	atomic_store(&ts->mask, WP_EPOLLIN | WP_EPOLLRDHUP);
	add(fx->epfd, ts, WP_EPOLLIN | WP_EPOLLRDHUP | WP_EPOLLET);
	assert_int_equal(wait0(fx->epfd, ev, 1), 1);
	assert_int_equal(ev[0].events, WP_EPOLLIN | WP_EPOLLRDHUP);
	close_all(&ts, 1);
}

#define NROT 5

static void test_maxevents_fair_rotation(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[NROT];
	struct wp_epoll_event ev[2];
	int seen[NROT] = { 0 };

	for (int i = 0; i < NROT; i++) {
		ts[i] = tsock_open();
		add(fx->epfd, ts[i], WP_EPOLLIN);
		tsock_set(ts[i], WP_EPOLLIN);
	}
	/* 5 ready, 2 per call: every item within 3 calls, none starved. */
	for (int call = 0; call < 3; call++) {
		assert_int_equal(wait0(fx->epfd, ev, 2), 2);
		for (int k = 0; k < 2; k++)
			seen[ev[k].data.fd - ts[0]->fd]++;
	}
	for (int i = 0; i < NROT; i++)
		assert_true(seen[i] >= 1);
	/* Over 5 calls (10 slots), each item exactly twice. */
	memset(seen, 0, sizeof(seen));
	for (int call = 0; call < 5; call++) {
		assert_int_equal(wait0(fx->epfd, ev, 2), 2);
		assert_true(ev[0].data.fd != ev[1].data.fd);
		for (int k = 0; k < 2; k++)
			seen[ev[k].data.fd - ts[0]->fd]++;
	}
	for (int i = 0; i < NROT; i++)
		assert_int_equal(seen[i], 2);
	close_all(ts, NROT);
}

/* --- closing ---------------------------------------------------------------
 */

static void test_close_watched_fd(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct tsock *again;
	struct wp_epoll_event ev[1];
	int fd = ts->fd;

	add(fx->epfd, ts, WP_EPOLLIN);
	tsock_set(ts, WP_EPOLLIN);
	/* Closing removes the item, ready or not, and frees the socket. */
	assert_int_equal(wp_close(fd), 0);
	assert_int_equal(atomic_load(&live_socks), 0);
	assert_int_equal(wait0(fx->epfd, ev, 1), 0);
	/* The number comes back for a new socket: not "already watched". */
	again = tsock_open();
	assert_int_equal(again->fd, fd);
	add(fx->epfd, again, WP_EPOLLIN);
	assert_int_equal(wp_epoll_ctl(fx->epfd, WP_EPOLL_CTL_DEL, fd, NULL), 0);
	close_all(&again, 1);
}

static void test_close_instance(void **state)
{
	struct tsock *ts[3];
	int ep1 = wp_epoll_create1(0), ep2 = wp_epoll_create1(0);

	(void)state;
	assert_true(ep1 >= 0 && ep2 >= 0);
	for (int i = 0; i < 3; i++) {
		ts[i] = tsock_open();
		add(ep1, ts[i], WP_EPOLLIN);
		add(ep2, ts[i], WP_EPOLLIN | WP_EPOLLET);
	}
	tsock_set(ts[1], WP_EPOLLIN);
	assert_int_equal(atomic_load(&ts[1]->sk.sk_wq.nr), 2);
	/* Closing an instance unhooks its items from every socket. */
	assert_int_equal(wp_close(ep1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(atomic_load(&ts[i]->sk.sk_wq.nr), 1);
	/* The other instance is unaffected. */
	{
		struct wp_epoll_event ev[3];

		assert_int_equal(wait0(ep2, ev, 3), 1);
		assert_int_equal(ev[0].data.fd, ts[1]->fd);
	}
	close_all(ts, 3);
	assert_int_equal(wp_close(ep2), 0);
	assert_int_equal(atomic_load(&live_socks), 0);
}

/* --- threads -----------------------------------------------------------------
 */

struct setter {
	struct tsock *ts;
	uint32_t mask;
	unsigned delay_ms;
	bool data_ready; /* through sk_data_ready, as protocol input does */
};

static void *set_thread(void *arg)
{
	struct setter *s = arg;

	sleep_ms(s->delay_ms);
	if (s->data_ready) {
		atomic_store(&s->ts->mask, s->mask);
		s->ts->sk.sk_data_ready(&s->ts->sk, NULL);
	} else {
		tsock_set(s->ts, s->mask);
	}
	return NULL;
}

static void test_blocked_waiter_woken(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[10];
	struct wp_epoll_event ev[4];
	struct wp_wake_stats before, after;
	struct setter s;
	pthread_t th;

	for (int i = 0; i < 10; i++) {
		ts[i] = tsock_open();
		add(fx->epfd, ts[i], WP_EPOLLIN);
	}
	s = (struct setter){ ts[7], WP_EPOLLIN, 20, true };
	memset(&fx->ws, 0, sizeof(fx->ws));
	wp_wake_stats_shared(&before);
	assert_int_equal(pthread_create(&th, NULL, set_thread, &s), 0);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 4, -1), 1);
	pthread_join(th, NULL);
	wp_wake_stats_shared(&after);
	assert_int_equal(ev[0].data.fd, ts[7]->fd);
	assert_int_equal(fx->ws.epoll_sleeps, 1);
	/* One item polled after the wake, not ten. */
	assert_int_equal(fx->ws.epoll_items_polled, 1);
	/* The waking thread ran ep_poll_callback, which woke us. */
	assert_int_equal(after.woken[WP_WAKE_EP_POLL_CALLBACK] -
				 before.woken[WP_WAKE_EP_POLL_CALLBACK],
			 1);
	assert_int_equal(after.woken[WP_WAKE_EP_AUTOREMOVE] -
				 before.woken[WP_WAKE_EP_AUTOREMOVE],
			 1);
	close_all(ts, 10);
}

struct advancer {
	struct wp_clock *clock;
	uint64_t step_ns;
	int steps;
};

static void *advance_thread(void *arg)
{
	struct advancer *a = arg;

	for (int i = 0; i < a->steps; i++) {
		sleep_ms(2);
		wp_clock_advance(a->clock, a->step_ns);
	}
	return NULL;
}

static void test_wait_timeout_virtual(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct advancer a = { &fx->vclock, 200 * WP_NSEC_PER_MSEC, 6 };
	struct wp_epoll_event ev[1];
	uint64_t t0 = wp_clock_now(&fx->vclock);
	pthread_t th;

	add(fx->epfd, ts, WP_EPOLLIN);
	assert_int_equal(pthread_create(&th, NULL, advance_thread, &a), 0);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 1, 1000), 0);
	assert_true(wp_clock_now(&fx->vclock) - t0 >= WP_NSEC_PER_SEC);
	pthread_join(th, NULL);
	close_all(&ts, 1);
}

static void test_wait_timeout_real(void **state)
{
	struct fx *fx = *state;
	struct wp_epoll_event ev[1];
	uint64_t t0 = wp_time_real_ns();

	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 1, 30), 0);
	assert_true(wp_time_real_ns() - t0 >= 30 * WP_NSEC_PER_MSEC);
}

/* A thread blocked in epoll_wait on one instance, result recorded. */
struct epwaiter {
	int epfd;
	int timeout_ms;
	int ret;
	uint64_t data;
};

static void *epwait_thread(void *arg)
{
	struct epwaiter *w = arg;
	struct wp_epoll_event ev[1];

	w->ret = wp_epoll_wait(w->epfd, ev, 1, w->timeout_ms);
	if (w->ret == 1)
		w->data = ev[0].data.u64;
	return NULL;
}

/* Spin (bounded) until `n` waiters have gone to sleep in epoll_wait. */
static bool wait_sleepers(uint64_t base, uint64_t n)
{
	struct wp_wake_stats s;

	for (int i = 0; i < 2000; i++) {
		wp_wake_stats_shared(&s);
		if (s.epoll_sleeps - base >= n)
			return true;
		sleep_ms(1);
	}
	return false;
}

static void test_exclusive_wakes_one_instance(void **state)
{
	struct tsock *ts = tsock_open();
	int ep1 = wp_epoll_create1(0), ep2 = wp_epoll_create1(0);
	struct epwaiter w1 = { ep1, 5000, -2, 0 }, w2 = { ep2, 300, -2, 0 };
	struct wp_epoll_event ev = { .events = WP_EPOLLIN | WP_EPOLLEXCLUSIVE };
	struct wp_wake_stats s;
	pthread_t t1, t2;

	(void)state;
	ev.data.u64 = 1;
	assert_int_equal(wp_epoll_ctl(ep1, WP_EPOLL_CTL_ADD, ts->fd, &ev), 0);
	ev.data.u64 = 2;
	assert_int_equal(wp_epoll_ctl(ep2, WP_EPOLL_CTL_ADD, ts->fd, &ev), 0);

	wp_wake_stats_shared(&s);
	assert_int_equal(pthread_create(&t1, NULL, epwait_thread, &w1), 0);
	assert_int_equal(pthread_create(&t2, NULL, epwait_thread, &w2), 0);
	assert_true(wait_sleepers(s.epoll_sleeps, 2));

	/* One wake: the first instance with a waiter takes it, alone. */
	atomic_store(&ts->mask, WP_EPOLLIN);
	ts->sk.sk_data_ready(&ts->sk, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(w1.ret, 1);
	assert_int_equal(w1.data, 1);
	assert_int_equal(w2.ret, 0); /* timed out: never woken */

	/* No waiter on ep1 now: the exclusive wake moves on to ep2. */
	atomic_store(&ts->mask, 0);
	{
		struct wp_epoll_event out[1];

		/* Drain ep1's list (the item is no longer ready). */
		assert_int_equal(wait0(ep1, out, 1), 0);
	}
	w2 = (struct epwaiter){ ep2, 5000, -2, 0 };
	wp_wake_stats_shared(&s);
	assert_int_equal(pthread_create(&t2, NULL, epwait_thread, &w2), 0);
	assert_true(wait_sleepers(s.epoll_sleeps, 1));
	atomic_store(&ts->mask, WP_EPOLLIN);
	ts->sk.sk_data_ready(&ts->sk, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(w2.ret, 1);
	assert_int_equal(w2.data, 2);

	assert_int_equal(wp_close(ep1), 0);
	assert_int_equal(wp_close(ep2), 0);
	close_all(&ts, 1);
}

static void *close_thread(void *arg)
{
	int *fd = arg;

	sleep_ms(20);
	*fd = wp_close(*fd);
	return NULL;
}

static void test_close_watched_while_waiting(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[2];
	struct wp_epoll_event ev[2];
	struct setter s;
	pthread_t tc, ts_th;
	int cfd;

	for (int i = 0; i < 2; i++) {
		ts[i] = tsock_open();
		add(fx->epfd, ts[i], WP_EPOLLIN);
	}
	cfd = ts[0]->fd;
	/* One thread closes a watched socket while we sleep; then another
	 * socket becomes ready. The closed one is never reported. */
	s = (struct setter){ ts[1], WP_EPOLLIN, 60, true };
	assert_int_equal(pthread_create(&tc, NULL, close_thread, &cfd), 0);
	assert_int_equal(pthread_create(&ts_th, NULL, set_thread, &s), 0);
	assert_int_equal(wp_epoll_wait(fx->epfd, ev, 2, -1), 1);
	pthread_join(tc, NULL);
	pthread_join(ts_th, NULL);
	assert_int_equal(cfd, 0);
	assert_int_equal(ev[0].data.fd, ts[1]->fd);
	assert_int_equal(atomic_load(&live_socks), 1);
	close_all(&ts[1], 1);
}

/* --- many threads, no lost wake-ups --------------------------------------- */

#define HSOCKS 64
#define HWAITERS 4
#define HPRODUCERS 4
#define HPER_PRODUCER 5000
#define HTOTAL (HPRODUCERS * HPER_PRODUCER)

struct hammer {
	int epfd;
	struct tsock *ts[HSOCKS];
	struct tsock *stop;
	_Atomic int consumed;
	_Atomic int lost;
	_Atomic int errors;
	_Atomic unsigned seed;
	uint32_t mode; /* 0 (LT), EPOLLET or EPOLLONESHOT */
};

static unsigned next_rand(_Atomic unsigned *seed)
{
	unsigned x = atomic_fetch_add(seed, 0x9e3779b9u);

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}

static void *producer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < HPER_PRODUCER; i++) {
		struct tsock *ts = h->ts[next_rand(&h->seed) % HSOCKS];

		atomic_fetch_add(&ts->pending, 1);
		ts->sk.sk_data_ready(&ts->sk, NULL);
	}
	return NULL;
}

static bool any_pending(struct hammer *h)
{
	for (int i = 0; i < HSOCKS; i++)
		if (atomic_load(&h->ts[i]->pending) > 0)
			return true;
	return false;
}

/* ET and ONESHOT consumers must drain: no further report otherwise. */
static void consume(struct hammer *h, struct tsock *ts)
{
	int v = atomic_load(&ts->pending);

	while (v > 0) {
		if (!atomic_compare_exchange_weak(&ts->pending, &v, v - 1))
			continue;
		if (atomic_fetch_add(&h->consumed, 1) + 1 == HTOTAL)
			tsock_set(h->stop, WP_EPOLLHUP);
		if (!h->mode)
			return; /* LT: one per report is enough */
		v = atomic_load(&ts->pending);
	}
}

static void *waiter_thread(void *arg)
{
	struct hammer *h = arg;
	struct wp_epoll_event ev[8];

	while (atomic_load(&h->consumed) < HTOTAL) {
		int n = wp_epoll_wait(h->epfd, ev, 8, 2000);

		if (n < 0) {
			atomic_fetch_add(&h->errors, 1);
			return NULL;
		}
		if (n == 0 && any_pending(h)) {
			sleep_ms(50);
			if (any_pending(h)) {
				atomic_fetch_add(&h->lost, 1);
				return NULL;
			}
		}
		for (int i = 0; i < n; i++) {
			struct tsock *ts = ev[i].data.ptr;

			if (ts == h->stop)
				continue;
			consume(h, ts);
			if (h->mode == WP_EPOLLONESHOT) {
				struct wp_epoll_event mod = {
					.events = WP_EPOLLIN | WP_EPOLLONESHOT,
					.data.ptr = ts,
				};

				if (wp_epoll_ctl(h->epfd, WP_EPOLL_CTL_MOD,
						 ts->fd, &mod))
					atomic_fetch_add(&h->errors, 1);
			}
		}
	}
	return NULL;
}

static void hammer(struct fx *fx, uint32_t mode)
{
	pthread_t prod[HPRODUCERS], wt[HWAITERS];
	struct hammer *h = calloc(1, sizeof(*h));
	struct wp_epoll_event ev;

	assert_non_null(h);
	h->epfd = fx->epfd;
	h->mode = mode;
	atomic_init(&h->seed, 777);
	for (int i = 0; i < HSOCKS; i++) {
		h->ts[i] = tsock_open();
		ev = (struct wp_epoll_event){ .events = WP_EPOLLIN | mode,
					      .data.ptr = h->ts[i] };
		assert_int_equal(wp_epoll_ctl(h->epfd, WP_EPOLL_CTL_ADD,
					      h->ts[i]->fd, &ev),
				 0);
	}
	h->stop = tsock_open();
	ev = (struct wp_epoll_event){ .events = WP_EPOLLIN,
				      .data.ptr = h->stop };
	assert_int_equal(
		wp_epoll_ctl(h->epfd, WP_EPOLL_CTL_ADD, h->stop->fd, &ev), 0);

	for (int i = 0; i < HWAITERS; i++)
		assert_int_equal(pthread_create(&wt[i], NULL, waiter_thread, h),
				 0);
	for (int i = 0; i < HPRODUCERS; i++)
		assert_int_equal(
			pthread_create(&prod[i], NULL, producer_thread, h), 0);
	for (int i = 0; i < HPRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < HWAITERS; i++)
		pthread_join(wt[i], NULL);
	assert_int_equal(atomic_load(&h->consumed), HTOTAL);
	assert_int_equal(atomic_load(&h->lost), 0);
	assert_int_equal(atomic_load(&h->errors), 0);
	close_all(h->ts, HSOCKS);
	close_all(&h->stop, 1);
	free(h);
}

static void test_hammer_lt(void **state)
{
	hammer(*state, 0);
}

static void test_hammer_et(void **state)
{
	hammer(*state, WP_EPOLLET);
}

static void test_hammer_oneshot(void **state)
{
	hammer(*state, WP_EPOLLONESHOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_emfile, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ctl_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ctl_enospc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_level_triggered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edge_triggered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_and_mod, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_del_removes_ready_item,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_at_add, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maxevents_fair_rotation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_watched_fd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_instance, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blocked_waiter_woken,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout_virtual,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout_real,
						setup_real, teardown),
		cmocka_unit_test_setup_teardown(
			test_exclusive_wakes_one_instance, setup_real,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_close_watched_while_waiting, setup_real, teardown),
		cmocka_unit_test_setup_teardown(test_hammer_lt, setup_real,
						teardown),
		cmocka_unit_test_setup_teardown(test_hammer_et, setup_real,
						teardown),
		cmocka_unit_test_setup_teardown(test_hammer_oneshot, setup_real,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
