// SPDX-License-Identifier: MIT
/*
 * select and poll: readiness, event filtering, timeouts (0, finite on a
 * virtual and a real clock, forever with a waking thread), POLLNVAL and
 * EBADF, errno on bad arguments, the O(N) rescan on every wake-up, a
 * close racing a wait, and many threads without lost wake-ups.
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

/* A new test socket on a descriptor. */
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
};

static int setup_clock(void **state, bool virtual_clock)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	wp_clock_init_virtual(&fx->vclock, 1000 * WP_NSEC_PER_SEC);
	fx->t = wp_fdtable_create(2048, virtual_clock ? &fx->vclock : NULL);
	if (!fx->t)
		return -1;
	wp_fdtable_set_current(fx->t);
	wp_wake_stats_bind(&fx->ws);
	atomic_store(&live_socks, 0);
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
	unsigned open = wp_fdtable_nr_open(fx->t);
	int live = atomic_load(&live_socks);

	wp_wake_stats_bind(NULL);
	wp_fdtable_set_current(NULL);
	wp_fdtable_destroy(fx->t);
	free(fx);
	assert_int_equal(open, 0);
	assert_int_equal(live, 0);
	return 0;
}

static void close_all(struct tsock **ts, int n)
{
	for (int i = 0; i < n; i++) {
		/* No pollwake entry may outlive its call. */
		assert_int_equal(atomic_load(&ts[i]->sk.sk_wq.nr), 0);
		assert_int_equal(wp_close(ts[i]->fd), 0);
	}
}

/* --- poll ---------------------------------------------------------------- */

static void test_poll_readiness(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[3];
	struct wp_pollfd p[5];

	for (int i = 0; i < 3; i++)
		ts[i] = tsock_open();
	atomic_store(&ts[1]->mask, WP_EPOLLIN | WP_EPOLLOUT);
	atomic_store(&ts[2]->mask, WP_EPOLLOUT);
	p[0] = (struct wp_pollfd){ ts[0]->fd, WP_POLLIN, 77 };
	p[1] = (struct wp_pollfd){ ts[1]->fd, WP_POLLIN, 0 };
	p[2] = (struct wp_pollfd){ ts[2]->fd, WP_POLLIN, 0 };
	p[3] = (struct wp_pollfd){ -1, WP_POLLIN, 5 };
	p[4] = (struct wp_pollfd){ ts[2]->fd, WP_POLLOUT | WP_POLLIN, 0 };

	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(wp_poll(p, 5, 0), 2);
	assert_int_equal(p[0].revents, 0);
	assert_int_equal(p[1].revents, WP_POLLIN); /* OUT not asked */
	assert_int_equal(p[2].revents, 0);	   /* only OUT ready */
	assert_int_equal(p[3].revents, 0);	   /* negative fd ignored */
	assert_int_equal(p[4].revents, WP_POLLOUT);
	assert_int_equal(fx->ws.poll_calls, 1);
	assert_int_equal(fx->ws.poll_scans, 1);
	assert_int_equal(fx->ws.poll_fds_scanned, 4);
	assert_int_equal(fx->ws.poll_sleeps, 0);

	/* ERR and HUP are reported even if not asked for. */
	atomic_store(&ts[0]->mask, WP_EPOLLERR | WP_EPOLLHUP | WP_EPOLLPRI);
	p[0].events = WP_POLLOUT;
	assert_int_equal(wp_poll(p, 1, 0), 1);
	assert_int_equal(p[0].revents, WP_POLLERR | WP_POLLHUP);
	p[0].events = WP_POLLPRI;
	assert_int_equal(wp_poll(p, 1, 0), 1);
	assert_int_equal(p[0].revents, WP_POLLERR | WP_POLLHUP | WP_POLLPRI);
	close_all(ts, 3);
}

static void test_poll_nval_and_errors(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_pollfd p[3] = {
		{ ts->fd, WP_POLLIN, 0 },
		{ 1000, WP_POLLIN, 0 }, /* never opened */
		{ 5000, WP_POLLIN, 0 }, /* beyond the table */
	};

	assert_int_equal(wp_poll(p, 3, 0), 2);
	assert_int_equal(p[0].revents, 0);
	assert_int_equal(p[1].revents, WP_POLLNVAL);
	assert_int_equal(p[2].revents, WP_POLLNVAL);
	/* NVAL alone ends a blocking poll at once. */
	assert_int_equal(wp_poll(&p[1], 1, -1), 1);

	errno = 0;
	assert_int_equal(wp_poll(p, 2049, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wp_poll(NULL, 1, 0), -1);
	assert_int_equal(errno, EFAULT);

	/* No descriptors and no timeout: returns at once. */
	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(wp_poll(NULL, 0, 0), 0);
	assert_int_equal(fx->ws.poll_fds_scanned, 0);
	close_all(&ts, 1);
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

static void test_poll_timeout_virtual(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct wp_pollfd p = { ts->fd, WP_POLLIN, 0 };
	struct advancer a = { &fx->vclock, 250 * WP_NSEC_PER_MSEC, 8 };
	uint64_t t0 = wp_clock_now(&fx->vclock);
	pthread_t th;

	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(pthread_create(&th, NULL, advance_thread, &a), 0);
	/* 1 s of virtual time passes in 4 steps of the advancer. */
	assert_int_equal(wp_poll(&p, 1, 1000), 0);
	assert_true(wp_clock_now(&fx->vclock) - t0 >= WP_NSEC_PER_SEC);
	pthread_join(th, NULL);
	assert_int_equal(p.revents, 0);
	/* First pass, then one last pass after the timeout. */
	assert_true(fx->ws.poll_scans >= 2);
	assert_true(fx->ws.poll_sleeps >= 1);
	close_all(&ts, 1);
}

static void test_poll_timeout_real(void **state)
{
	struct tsock *ts = tsock_open();
	struct wp_pollfd p = { ts->fd, WP_POLLIN, 0 };
	uint64_t t0 = wp_time_real_ns();

	(void)state;
	assert_int_equal(wp_poll(&p, 1, 30), 0);
	assert_true(wp_time_real_ns() - t0 >= 30 * WP_NSEC_PER_MSEC);
	close_all(&ts, 1);
}

struct setter {
	struct tsock *ts;
	uint32_t mask;
	unsigned delay_ms;
};

static void *set_thread(void *arg)
{
	struct setter *s = arg;

	sleep_ms(s->delay_ms);
	tsock_set(s->ts, s->mask);
	return NULL;
}

#define NWAIT 8

static void test_poll_wake_rescans_all(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[NWAIT];
	struct wp_pollfd p[NWAIT];
	struct setter out, in;
	pthread_t th1, th2;

	for (int i = 0; i < NWAIT; i++) {
		ts[i] = tsock_open();
		p[i] = (struct wp_pollfd){ ts[i]->fd, WP_POLLIN, 0 };
	}
	/* First an OUT change nobody asked about, then IN on socket 5. */
	out = (struct setter){ ts[2], WP_EPOLLOUT, 10 };
	in = (struct setter){ ts[5], WP_EPOLLIN, 40 };
	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(pthread_create(&th1, NULL, set_thread, &out), 0);
	assert_int_equal(pthread_create(&th2, NULL, set_thread, &in), 0);
	assert_int_equal(wp_poll(p, NWAIT, -1), 1);
	pthread_join(th1, NULL);
	pthread_join(th2, NULL);
	assert_int_equal(p[5].revents, WP_POLLIN);
	/*
	 * The OUT wake did not match any pollwake key: no pass for it.
	 * The IN wake costs a full rescan: 2 passes, 2N scanned.
	 */
	assert_int_equal(fx->ws.poll_scans, 2);
	assert_int_equal(fx->ws.poll_fds_scanned, 2 * NWAIT);
	assert_int_equal(fx->ws.poll_sleeps, 1);
	close_all(ts, NWAIT);
}

struct closer {
	int fd;
	struct tsock *ts;
	int close_ret;
	int live_after_close;
};

static void *close_then_wake_thread(void *arg)
{
	struct closer *c = arg;

	sleep_ms(10);
	c->close_ret = wp_close(c->fd);
	c->live_after_close = atomic_load(&live_socks);
	tsock_set(c->ts, WP_EPOLLIN);
	return NULL;
}

static void test_poll_close_racing_wait(void **state)
{
	struct tsock *ts = tsock_open();
	struct wp_pollfd p = { ts->fd, WP_POLLIN, 0 };
	struct closer c = { ts->fd, ts, -2, -2 };
	pthread_t th;

	(void)state;
	assert_int_equal(pthread_create(&th, NULL, close_then_wake_thread, &c),
			 0);
	/* Woken; the rescan finds the descriptor gone: POLLNVAL (Linux). */
	assert_int_equal(wp_poll(&p, 1, -1), 1);
	pthread_join(th, NULL);
	assert_int_equal(c.close_ret, 0);
	/* The poller still held the file: the socket outlived the close. */
	assert_int_equal(c.live_after_close, 1);
	assert_int_equal(p.revents, WP_POLLNVAL);
	/* Our file reference was the last: the socket is gone now. */
	assert_int_equal(atomic_load(&live_socks), 0);
}

/* --- select ------------------------------------------------------------- */

static void test_select_readiness(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[4];
	wp_fd_set r, w, e;
	struct timeval tv = { 0, 0 };

	for (int i = 0; i < 4; i++)
		ts[i] = tsock_open();
	atomic_store(&ts[0]->mask, WP_EPOLLIN);
	atomic_store(&ts[1]->mask, WP_EPOLLOUT);
	atomic_store(&ts[2]->mask, WP_EPOLLERR); /* readable and writable */
	atomic_store(&ts[3]->mask, WP_EPOLLPRI);

	wp_fd_zero(&r);
	wp_fd_zero(&w);
	wp_fd_zero(&e);
	for (int i = 0; i < 4; i++) {
		wp_fd_setbit(ts[i]->fd, &r);
		wp_fd_setbit(ts[i]->fd, &w);
		wp_fd_setbit(ts[i]->fd, &e);
	}
	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(wp_select(ts[3]->fd + 1, &r, &w, &e, &tv), 5);
	assert_true(wp_fd_isset(ts[0]->fd, &r));
	assert_false(wp_fd_isset(ts[1]->fd, &r));
	assert_true(wp_fd_isset(ts[2]->fd, &r));
	assert_false(wp_fd_isset(ts[3]->fd, &r));
	assert_false(wp_fd_isset(ts[0]->fd, &w));
	assert_true(wp_fd_isset(ts[1]->fd, &w));
	assert_true(wp_fd_isset(ts[2]->fd, &w));
	assert_true(wp_fd_isset(ts[3]->fd, &e));
	assert_false(wp_fd_isset(ts[0]->fd, &e));
	assert_int_equal(fx->ws.poll_fds_scanned, 4);

	/*
	 * Descriptors at or above nfds are not looked at; the words that
	 * cover nfds come back with those bits clear (Linux).
	 */
	wp_fd_zero(&r);
	wp_fd_setbit(ts[2]->fd, &r);
	assert_int_equal(wp_select(ts[2]->fd, &r, NULL, NULL, &tv), 0);
	assert_false(wp_fd_isset(ts[2]->fd, &r));

	/* NULL sets are fine. */
	wp_fd_zero(&w);
	wp_fd_setbit(ts[1]->fd, &w);
	assert_int_equal(wp_select(64, NULL, &w, NULL, &tv), 1);
	assert_true(wp_fd_isset(ts[1]->fd, &w));
	wp_fd_clr(ts[1]->fd, &w);
	assert_false(wp_fd_isset(ts[1]->fd, &w));
	close_all(ts, 4);
}

static void test_select_errors(void **state)
{
	struct tsock *ts = tsock_open();
	wp_fd_set r, saved;
	struct timeval tv = { 0, 0 };

	(void)state;
	wp_fd_zero(&r);
	wp_fd_setbit(ts->fd, &r);
	wp_fd_setbit(40, &r); /* not open */
	saved = r;
	atomic_store(&ts->mask, WP_EPOLLIN);
	errno = 0;
	assert_int_equal(wp_select(64, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EBADF);
	assert_memory_equal(&r, &saved, sizeof(r)); /* untouched */

	assert_int_equal(wp_select(-1, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EINVAL);
	tv.tv_usec = 1000000;
	assert_int_equal(wp_select(1, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EINVAL);
	tv.tv_usec = -1;
	assert_int_equal(wp_select(1, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EINVAL);
	tv.tv_usec = 0;
	tv.tv_sec = -1;
	assert_int_equal(wp_select(1, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EINVAL);

	/* nfds beyond the table is cut to the table: bit 40 is checked. */
	tv.tv_sec = 0;
	r = saved;
	assert_int_equal(wp_select(1 << 20, &r, NULL, NULL, &tv), -1);
	assert_int_equal(errno, EBADF);
	wp_fd_clr(40, &r);
	assert_int_equal(wp_select(1 << 20, &r, NULL, NULL, &tv), 1);
	close_all(&ts, 1);
}

static void test_select_timeout_updates(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_open();
	struct advancer a = { &fx->vclock, 300 * WP_NSEC_PER_MSEC, 4 };
	struct timeval tv = { 1, 0 };
	pthread_t th;
	wp_fd_set r;

	wp_fd_zero(&r);
	wp_fd_setbit(ts->fd, &r);
	assert_int_equal(pthread_create(&th, NULL, advance_thread, &a), 0);
	assert_int_equal(wp_select(ts->fd + 1, &r, NULL, NULL, &tv), 0);
	pthread_join(th, NULL);
	/* Timed out: the whole time was slept, the set is empty. */
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	assert_false(wp_fd_isset(ts->fd, &r));

	/* Ready at once: the time is left as it was. */
	atomic_store(&ts->mask, WP_EPOLLIN);
	wp_fd_setbit(ts->fd, &r);
	tv = (struct timeval){ 2, 500000 };
	assert_int_equal(wp_select(ts->fd + 1, &r, NULL, NULL, &tv), 1);
	assert_int_equal(tv.tv_sec, 2);
	assert_int_equal(tv.tv_usec, 500000);
	close_all(&ts, 1);
}

static void test_select_blocking_wake(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts[3];
	struct setter in;
	pthread_t th;
	wp_fd_set r;

	wp_fd_zero(&r);
	for (int i = 0; i < 3; i++) {
		ts[i] = tsock_open();
		wp_fd_setbit(ts[i]->fd, &r);
	}
	in = (struct setter){ ts[1], WP_EPOLLIN, 10 };
	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(pthread_create(&th, NULL, set_thread, &in), 0);
	assert_int_equal(wp_select(ts[2]->fd + 1, &r, NULL, NULL, NULL), 1);
	pthread_join(th, NULL);
	assert_true(wp_fd_isset(ts[1]->fd, &r));
	assert_false(wp_fd_isset(ts[0]->fd, &r));
	assert_int_equal(fx->ws.poll_scans, 2);
	assert_int_equal(fx->ws.poll_fds_scanned, 6);
	close_all(ts, 3);
}

#define BIG 1500

static void test_select_beyond_fd_setsize(void **state)
{
	struct tsock **ts = calloc(BIG, sizeof(*ts));
	wp_fd_set *r = calloc(1, WP_FD_SET_BYTES(BIG));
	struct timeval tv = { 0, 0 };

	(void)state;
	assert_non_null(ts);
	assert_non_null(r);
	for (int i = 0; i < BIG; i++) {
		ts[i] = tsock_open();
		wp_fd_setbit(ts[i]->fd, r);
	}
	atomic_store(&ts[1400]->mask, WP_EPOLLIN);
	assert_int_equal(wp_select(BIG, r, NULL, NULL, &tv), 1);
	for (int i = 0; i < BIG; i++)
		assert_int_equal(wp_fd_isset(ts[i]->fd, r), i == 1400);
	close_all(ts, BIG);
	free(r);
	free(ts);
}

/* --- an epoll descriptor in a poll set ------------------------------------ */

static void test_poll_epoll_fd(void **state)
{
	struct tsock *ts = tsock_open();
	struct wp_epoll_event ev = { .events = WP_EPOLLIN };
	struct wp_pollfd p;
	struct setter in = { ts, WP_EPOLLIN, 10 };
	pthread_t th;
	int epfd = wp_epoll_create1(0);

	(void)state;
	assert_true(epfd >= 0);
	assert_int_equal(wp_epoll_ctl(epfd, WP_EPOLL_CTL_ADD, ts->fd, &ev), 0);
	p = (struct wp_pollfd){ epfd, WP_POLLIN, 0 };
	assert_int_equal(wp_poll(&p, 1, 0), 0);

	/* ep_poll_callback wakes the poller through the instance's queue. */
	assert_int_equal(pthread_create(&th, NULL, set_thread, &in), 0);
	assert_int_equal(wp_poll(&p, 1, -1), 1);
	pthread_join(th, NULL);
	assert_int_equal(p.revents, WP_POLLIN);

	/* Queued but no longer ready: not readable, and dropped from the list.
	 */
	atomic_store(&ts->mask, 0);
	assert_int_equal(wp_poll(&p, 1, 0), 0);
	assert_int_equal(wp_close(epfd), 0);
	close_all(&ts, 1);
}

/* --- many threads, no lost wake-ups --------------------------------------- */

#define HSOCKS 16
#define HPOLLERS 4
#define HPRODUCERS 4
#define HPER_PRODUCER 3000
#define HTOTAL (HPRODUCERS * HPER_PRODUCER)

struct hammer {
	struct tsock *ts[HSOCKS];
	struct tsock *stop; /* HUP once everything is consumed */
	_Atomic int consumed;
	_Atomic int lost;
	_Atomic int errors;
	_Atomic unsigned seed;
	bool use_select;
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
		/* What a core thread does after queueing a datagram. */
		ts->sk.sk_data_ready(&ts->sk, NULL);
	}
	return NULL;
}

static void try_consume(struct hammer *h, struct tsock *ts)
{
	int v = atomic_load(&ts->pending);

	while (v > 0) {
		if (atomic_compare_exchange_weak(&ts->pending, &v, v - 1)) {
			if (atomic_fetch_add(&h->consumed, 1) + 1 == HTOTAL)
				tsock_set(h->stop, WP_EPOLLHUP);
			return;
		}
	}
}

static bool any_pending(struct hammer *h)
{
	for (int i = 0; i < HSOCKS; i++)
		if (atomic_load(&h->ts[i]->pending) > 0)
			return true;
	return false;
}

/* One wait over every socket and the stop socket; ready flags out. */
static int hammer_wait(struct hammer *h, bool *ready)
{
	struct wp_pollfd p[HSOCKS + 1];
	struct timeval tv = { 2, 0 };
	wp_fd_set r;
	int n;

	if (h->use_select) {
		wp_fd_zero(&r);
		for (int i = 0; i < HSOCKS; i++)
			wp_fd_setbit(h->ts[i]->fd, &r);
		wp_fd_setbit(h->stop->fd, &r);
		n = wp_select(WP_FD_SETSIZE, &r, NULL, NULL, &tv);
		for (int i = 0; n > 0 && i < HSOCKS; i++)
			ready[i] = wp_fd_isset(h->ts[i]->fd, &r);
		return n;
	}
	for (int i = 0; i < HSOCKS; i++)
		p[i] = (struct wp_pollfd){ h->ts[i]->fd, WP_POLLIN, 0 };
	p[HSOCKS] = (struct wp_pollfd){ h->stop->fd, WP_POLLIN, 0 };
	n = wp_poll(p, HSOCKS + 1, 2000);
	for (int i = 0; n > 0 && i < HSOCKS; i++)
		ready[i] = p[i].revents & WP_POLLIN;
	return n;
}

static void *poller_thread(void *arg)
{
	struct hammer *h = arg;

	while (atomic_load(&h->consumed) < HTOTAL) {
		bool ready[HSOCKS] = { false };
		int n = hammer_wait(h, ready);

		if (n < 0) {
			atomic_fetch_add(&h->errors, 1);
			return NULL;
		}
		/*
		 * Every data_ready wakes every poller. A timeout while data
		 * still waits, and nobody takes it soon after, means a
		 * wake-up was lost.
		 */
		if (n == 0 && any_pending(h)) {
			sleep_ms(50);
			if (any_pending(h)) {
				atomic_fetch_add(&h->lost, 1);
				return NULL;
			}
		}
		for (int i = 0; i < HSOCKS; i++)
			if (ready[i])
				try_consume(h, h->ts[i]);
	}
	return NULL;
}

static void hammer(bool use_select)
{
	pthread_t prod[HPRODUCERS], poll[HPOLLERS];
	struct hammer *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->use_select = use_select;
	atomic_init(&h->seed, 12345);
	for (int i = 0; i < HSOCKS; i++)
		h->ts[i] = tsock_open();
	h->stop = tsock_open();
	for (int i = 0; i < HPOLLERS; i++)
		assert_int_equal(
			pthread_create(&poll[i], NULL, poller_thread, h), 0);
	for (int i = 0; i < HPRODUCERS; i++)
		assert_int_equal(
			pthread_create(&prod[i], NULL, producer_thread, h), 0);
	for (int i = 0; i < HPRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < HPOLLERS; i++)
		pthread_join(poll[i], NULL);
	assert_int_equal(atomic_load(&h->consumed), HTOTAL);
	assert_int_equal(atomic_load(&h->lost), 0);
	assert_int_equal(atomic_load(&h->errors), 0);
	close_all(h->ts, HSOCKS);
	close_all(&h->stop, 1);
	free(h);
}

static void test_poll_hammer(void **state)
{
	(void)state;
	hammer(false);
}

static void test_select_hammer(void **state)
{
	(void)state;
	hammer(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poll_readiness, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll_nval_and_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_timeout_virtual,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_timeout_real,
						setup_real, teardown),
		cmocka_unit_test_setup_teardown(test_poll_wake_rescans_all,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_close_racing_wait,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_readiness, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_select_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_select_timeout_updates,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_blocking_wake,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_beyond_fd_setsize,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_epoll_fd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll_hammer, setup_real,
						teardown),
		cmocka_unit_test_setup_teardown(test_select_hammer, setup_real,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
