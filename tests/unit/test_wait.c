// SPDX-License-Identifier: MIT
/*
 * The readiness base: wait queues and their wake functions, waiters,
 * the wp_sock base (callbacks, receive queue accounting, refcounts,
 * blocking waits) and the descriptor table.
 *
 * Every test runs on its own descriptor table and ends with no
 * descriptor open, every test socket freed and the skb pool whole.
 */
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sysctl.h"
#include "skb/pool.h"
#include "sock/fd.h"
#include "sock/sock.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

/* --- a socket whose readiness the test sets ------------------------------ */

struct tsock {
	struct wp_sock sk;
	_Atomic uint32_t mask;
	int closes;
};

static _Atomic int live_socks;

static uint32_t tsock_poll(struct wp_sock *sk)
{
	struct tsock *ts = wp_container_of(sk, struct tsock, sk);

	return atomic_load(&ts->mask);
}

static void tsock_close(struct wp_sock *sk)
{
	wp_container_of(sk, struct tsock, sk)->closes++;
}

static void tsock_free(struct wp_sock *sk)
{
	atomic_fetch_sub(&live_socks, 1);
	free(wp_container_of(sk, struct tsock, sk));
}

static const struct wp_proto tsock_proto = {
	.name = "test",
	.poll = tsock_poll,
	.close = tsock_close,
	.free = tsock_free,
};

static struct tsock *tsock_new(void)
{
	struct tsock *ts = wp_sk_alloc(sizeof(*ts));

	assert_non_null(ts);
	wp_sock_init(&ts->sk, &tsock_proto, 2, 2, 17, NULL);
	atomic_init(&ts->mask, 0);
	atomic_fetch_add(&live_socks, 1);
	return ts;
}

static void tsock_set(struct tsock *ts, uint32_t mask)
{
	atomic_store(&ts->mask, mask);
	wp_wake_up(&ts->sk.sk_wq, mask);
}

/* Datagram sockets: wp_datagram_poll over the real receive queue. */
static void dsock_free(struct wp_sock *sk)
{
	atomic_fetch_sub(&live_socks, 1);
	free(sk);
}

static const struct wp_proto dsock_proto = {
	.name = "dgram",
	.poll = wp_datagram_poll,
	.free = dsock_free,
};

static struct wp_sock *dsock_new(void)
{
	struct wp_sock *sk = wp_sk_alloc(sizeof(*sk));

	assert_non_null(sk);
	wp_sock_init(sk, &dsock_proto, 2, 2, 17, NULL);
	atomic_fetch_add(&live_socks, 1);
	return sk;
}

/* --- fixture ----------------------------------------------------------------
 */

struct fx {
	struct wp_fdtable *t;
	struct wp_clock vclock;
	struct wp_pool *pool;
	struct wp_drop_stats drops;
	struct wp_wake_stats ws;
};

static int setup(void **state)
{
	struct wp_pool_config cfg = { .name = "test", .nbufs = 16 };
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	wp_clock_init_virtual(&fx->vclock, 1000 * WP_NSEC_PER_SEC);
	fx->t = wp_fdtable_create(64, NULL);
	fx->pool = wp_pool_create(&cfg);
	if (!fx->t || !fx->pool)
		return -1;
	wp_fdtable_set_current(fx->t);
	wp_drop_stats_bind(&fx->drops);
	wp_wake_stats_bind(&fx->ws);
	atomic_store(&live_socks, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	unsigned open = wp_fdtable_nr_open(fx->t);
	bool whole = wp_pool_is_whole(fx->pool);
	int live = atomic_load(&live_socks);

	wp_wake_stats_bind(NULL);
	wp_drop_stats_bind(NULL);
	wp_fdtable_set_current(NULL);
	wp_fdtable_destroy(fx->t);
	wp_pool_destroy(fx->pool);
	free(fx);
	assert_int_equal(open, 0);
	assert_int_equal(live, 0);
	assert_true(whole);
	return 0;
}

/* --- wait queues ------------------------------------------------------------
 */

struct rec {
	int calls;
	int ret;
	int order;
	uint32_t last_key;
};

static int seq;

static int rec_func(struct wp_wait_queue_entry *e, uint32_t key)
{
	struct rec *r = e->private;

	r->calls++;
	r->order = ++seq;
	r->last_key = key;
	return r->ret;
}

static void test_wake_nonexclusive_all_called(void **state)
{
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry e[3];
	struct rec r[3] = { { .ret = 1 }, { .ret = 0 }, { .ret = 1 } };

	(void)state;
	wp_init_waitqueue_head(&wq);
	for (int i = 0; i < 3; i++) {
		wp_init_waitqueue_func_entry(&e[i], rec_func, &r[i], 0);
		wp_add_wait_queue(&wq, &e[i]);
	}
	assert_true(wp_wq_has_sleeper(&wq));
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].last_key, WP_EPOLLIN);
	}
	/* Non-exclusive entries go to the front: last added runs first. */
	assert_true(r[2].order < r[1].order && r[1].order < r[0].order);
	for (int i = 0; i < 3; i++)
		wp_remove_wait_queue(&wq, &e[i]);
	assert_false(wp_wq_has_sleeper(&wq));
	wp_destroy_waitqueue_head(&wq);
}

static void test_wake_exclusive_limit(void **state)
{
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry ne, ex[3];
	struct rec rn = { .ret = 1 };
	struct rec rx[3] = { { .ret = 0 }, { .ret = 1 }, { .ret = 1 } };

	(void)state;
	wp_init_waitqueue_head(&wq);
	for (int i = 0; i < 3; i++) {
		wp_init_waitqueue_func_entry(&ex[i], rec_func, &rx[i], 0);
		wp_add_wait_queue_exclusive(&wq, &ex[i]);
		assert_true(ex[i].flags & WP_WQ_FLAG_EXCLUSIVE);
	}
	/* Added after the exclusive ones, still runs before them. */
	wp_init_waitqueue_func_entry(&ne, rec_func, &rn, 0);
	wp_add_wait_queue(&wq, &ne);

	/*
	 * One exclusive wake: the first exclusive entry returns 0 (nobody
	 * to wake), so it does not count; the second does; the third is
	 * never called.
	 */
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 2);
	assert_int_equal(rn.calls, 1);
	assert_int_equal(rx[0].calls, 1);
	assert_int_equal(rx[1].calls, 1);
	assert_int_equal(rx[2].calls, 0);
	assert_true(rn.order < rx[0].order);

	/* wake_up_all: no limit. */
	assert_int_equal(wp_wake_up_all(&wq, 0), 3);
	assert_int_equal(rx[2].calls, 1);

	/* nr_exclusive 2 through the common entry point. */
	assert_int_equal(wp_wake_up_common(&wq, WP_EPOLLOUT, 2, NULL), 3);
	assert_int_equal(rx[2].calls, 2);

	wp_remove_wait_queue(&wq, &ne);
	for (int i = 0; i < 3; i++)
		wp_remove_wait_queue(&wq, &ex[i]);
	wp_destroy_waitqueue_head(&wq);
}

static void test_remove_idempotent_and_idle_wake(void **state)
{
	struct fx *fx = *state;
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry e;
	struct rec r = { .ret = 1 };

	wp_init_waitqueue_head(&wq);
	wp_init_waitqueue_func_entry(&e, rec_func, &r, 0);
	wp_add_wait_queue(&wq, &e);
	wp_remove_wait_queue(&wq, &e);
	wp_remove_wait_queue(&wq, &e);
	assert_int_equal(atomic_load(&wq.nr), 0);

	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(fx->ws.wake_ups_idle, 1);
	assert_int_equal(fx->ws.wake_ups, 0);
	wp_destroy_waitqueue_head(&wq);
}

static void test_default_wake_key_filter(void **state)
{
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry e;
	struct wp_waiter w;

	(void)state;
	wp_init_waitqueue_head(&wq);
	assert_int_equal(wp_waiter_init(&w), 0);
	wp_init_waitqueue_func_entry(&e, wp_default_wake_function, &w,
				     WP_EPOLLOUT);
	wp_add_wait_queue(&wq, &e);

	/* An IN wake does not concern an OUT waiter. */
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 0);
	assert_false(w.triggered);
	/* A key-less wake (state change) concerns everyone. */
	assert_int_equal(wp_wake_up(&wq, 0), 1);
	assert_true(w.triggered);
	/* Already triggered: not a new wake-up. */
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLOUT), 0);
	assert_int_equal(wp_waiter_sleep(&w, NULL, WP_TIME_NEVER), 0);
	assert_false(w.triggered);
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLOUT | WP_EPOLLIN), 1);

	wp_remove_wait_queue(&wq, &e);
	wp_waiter_destroy(&w);
	wp_destroy_waitqueue_head(&wq);
}

static void test_autoremove(void **state)
{
	struct fx *fx = *state;
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry a, b;
	struct wp_waiter wa, wb;

	wp_init_waitqueue_head(&wq);
	assert_int_equal(wp_waiter_init(&wa), 0);
	assert_int_equal(wp_waiter_init(&wb), 0);
	wp_init_waitqueue_func_entry(&a, wp_autoremove_wake_function, &wa, 0);
	wp_init_waitqueue_func_entry(&b, wp_autoremove_wake_function, &wb, 0);
	a.kind = b.kind = WP_WAKE_EP_AUTOREMOVE;
	wp_add_wait_queue_exclusive(&wq, &a);
	wp_add_wait_queue_exclusive(&wq, &b);
	assert_int_equal(atomic_load(&wq.nr), 2);

	memset(&fx->ws, 0, sizeof(fx->ws));
	/* One wake, one sleeper: a leaves the queue, b stays. */
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 1);
	assert_true(wa.triggered);
	assert_false(wb.triggered);
	assert_true(wp_list_empty(&a.entry));
	assert_int_equal(atomic_load(&wq.nr), 1);
	assert_int_equal(wp_wake_up(&wq, WP_EPOLLIN), 1);
	assert_true(wb.triggered);
	assert_int_equal(atomic_load(&wq.nr), 0);
	assert_false(wp_wq_has_sleeper(&wq));
	assert_int_equal(fx->ws.calls[WP_WAKE_EP_AUTOREMOVE], 2);
	assert_int_equal(fx->ws.woken[WP_WAKE_EP_AUTOREMOVE], 2);

	/* Removing after an autoremove is harmless and required. */
	wp_remove_wait_queue(&wq, &a);
	wp_remove_wait_queue(&wq, &b);
	wp_waiter_destroy(&wa);
	wp_waiter_destroy(&wb);
	wp_destroy_waitqueue_head(&wq);
}

static void test_stats_by_kind_and_names(void **state)
{
	struct fx *fx = *state;
	struct wp_wait_queue wq;
	struct wp_wait_queue_entry e1, e2;
	struct rec r1 = { .ret = 1 }, r2 = { .ret = 0 };
	struct wp_wake_stats shared_before, shared_after;

	wp_init_waitqueue_head(&wq);
	wp_init_waitqueue_func_entry(&e1, rec_func, &r1, 0);
	wp_init_waitqueue_func_entry(&e2, rec_func, &r2, 0);
	e1.kind = WP_WAKE_POLLWAKE;
	e2.kind = WP_WAKE_EP_POLL_CALLBACK;
	wp_add_wait_queue(&wq, &e1);
	wp_add_wait_queue(&wq, &e2);

	memset(&fx->ws, 0, sizeof(fx->ws));
	wp_wake_stats_shared(&shared_before);
	wp_wake_up(&wq, WP_EPOLLIN);
	wp_wake_up(&wq, WP_EPOLLIN);
	assert_int_equal(fx->ws.wake_ups, 2);
	assert_int_equal(fx->ws.calls[WP_WAKE_POLLWAKE], 2);
	assert_int_equal(fx->ws.woken[WP_WAKE_POLLWAKE], 2);
	assert_int_equal(fx->ws.calls[WP_WAKE_EP_POLL_CALLBACK], 2);
	assert_int_equal(fx->ws.woken[WP_WAKE_EP_POLL_CALLBACK], 0);

	/* Unbound threads count into the shared block. */
	wp_wake_stats_bind(NULL);
	wp_wake_up(&wq, WP_EPOLLIN);
	wp_wake_stats_bind(&fx->ws);
	wp_wake_stats_shared(&shared_after);
	assert_int_equal(shared_after.wake_ups - shared_before.wake_ups, 1);
	assert_int_equal(shared_after.calls[WP_WAKE_POLLWAKE] -
				 shared_before.calls[WP_WAKE_POLLWAKE],
			 1);
	assert_int_equal(fx->ws.wake_ups, 2);

	assert_string_equal(wp_wake_kind_name(WP_WAKE_POLLWAKE), "pollwake");
	assert_string_equal(wp_wake_kind_name(WP_WAKE_EP_POLL_CALLBACK),
			    "ep_poll_callback");
	assert_string_equal(wp_wake_kind_name(WP_WAKE_DEFAULT),
			    "default_wake_function");
	assert_string_equal(wp_wake_kind_name(WP_WAKE__MAX), "?");

	wp_remove_wait_queue(&wq, &e1);
	wp_remove_wait_queue(&wq, &e2);
	wp_destroy_waitqueue_head(&wq);
}

/* --- waiters ---------------------------------------------------------------
 */

struct advancer {
	struct wp_clock *clock;
	uint64_t step_ns;
	int steps;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *advance_thread(void *arg)
{
	struct advancer *a = arg;

	for (int i = 0; i < a->steps; i++) {
		sleep_ms(2);
		wp_clock_advance(a->clock, a->step_ns);
	}
	return NULL;
}

static void test_waiter_timeouts(void **state)
{
	struct fx *fx = *state;
	struct wp_clock real;
	struct wp_waiter w;
	struct advancer a = { &fx->vclock, 100 * WP_NSEC_PER_MSEC, 20 };
	pthread_t th;
	uint64_t t0;

	wp_clock_init_real(&real);
	assert_int_equal(wp_waiter_init(&w), 0);

	/* Past deadline: no sleep. */
	assert_int_equal(
		wp_waiter_sleep(&w, &fx->vclock, wp_clock_now(&fx->vclock)),
		-ETIMEDOUT);
	/* A pending wake is consumed without sleeping, even if late. */
	assert_int_equal(wp_waiter_wake(&w), 1);
	assert_int_equal(wp_waiter_wake(&w), 0);
	assert_int_equal(wp_waiter_sleep(&w, &fx->vclock, 0), 0);

	/* Real clock: sleeps about the requested time. */
	t0 = wp_time_real_ns();
	assert_int_equal(
		wp_waiter_sleep(&w, &real,
				wp_clock_now(&real) + 20 * WP_NSEC_PER_MSEC),
		-ETIMEDOUT);
	assert_true(wp_time_real_ns() - t0 >= 20 * WP_NSEC_PER_MSEC);

	/* Virtual clock: the deadline passes when the clock is advanced. */
	assert_int_equal(pthread_create(&th, NULL, advance_thread, &a), 0);
	assert_int_equal(
		wp_waiter_sleep(&w, &fx->vclock,
				wp_clock_now(&fx->vclock) + WP_NSEC_PER_SEC),
		-ETIMEDOUT);
	pthread_join(th, NULL);
	wp_waiter_destroy(&w);
}

struct waker {
	struct wp_waiter *w;
	unsigned delay_ms;
};

static void *wake_thread(void *arg)
{
	struct waker *wk = arg;

	sleep_ms(wk->delay_ms);
	wp_waiter_wake(wk->w);
	return NULL;
}

static void test_waiter_cross_thread(void **state)
{
	struct wp_waiter w;
	struct waker wk = { &w, 10 };
	pthread_t th;

	(void)state;
	assert_int_equal(wp_waiter_init(&w), 0);
	assert_int_equal(pthread_create(&th, NULL, wake_thread, &wk), 0);
	assert_int_equal(wp_waiter_sleep(&w, NULL, WP_TIME_NEVER), 0);
	pthread_join(th, NULL);
	wp_waiter_destroy(&w);
}

/* --- the sock base ----------------------------------------------------------
 */

static void test_sock_init_defaults(void **state)
{
	struct wp_sysctl sys;
	struct tsock *ts = tsock_new();
	struct wp_sock *sk = &ts->sk;

	(void)state;
	assert_int_equal(atomic_load(&sk->sk_refcnt), 1);
	assert_int_equal(wp_sk_state(sk), WP_TCP_CLOSE);
	assert_int_equal(atomic_load(&sk->sk_rcvbuf), WP_SK_RMEM_DEFAULT);
	assert_int_equal(atomic_load(&sk->sk_sndbuf), WP_SK_WMEM_DEFAULT);
	assert_int_equal(sk->sk_cpu, -1);
	assert_ptr_equal(sk->sk_data_ready, wp_sock_def_readable);
	assert_true(wp_sock_writeable(sk));
	wp_sock_put(sk);

	wp_sysctl_init(&sys);
	atomic_store(&sys.rmem_default, 4096);
	atomic_store(&sys.wmem_default, 8192);
	ts = wp_sk_alloc(sizeof(*ts));
	assert_non_null(ts);
	wp_sock_init(&ts->sk, &tsock_proto, 2, 1, 6, &sys);
	atomic_fetch_add(&live_socks, 1);
	assert_int_equal(atomic_load(&ts->sk.sk_rcvbuf), 4096);
	assert_int_equal(atomic_load(&ts->sk.sk_sndbuf), 8192);
	assert_int_equal(ts->sk.sk_type, 1);
	wp_sock_put(&ts->sk);
}

static void test_sock_refcount(void **state)
{
	struct tsock *ts = tsock_new();

	(void)state;
	wp_sock_hold(&ts->sk);
	wp_sock_hold(&ts->sk);
	wp_sock_put(&ts->sk);
	wp_sock_put(&ts->sk);
	assert_int_equal(atomic_load(&live_socks), 1);
	wp_sock_put(&ts->sk);
	assert_int_equal(atomic_load(&live_socks), 0);
	wp_sock_put(NULL);
}

/* An entry recording every key the socket's queue is woken with. */
struct keyrec {
	struct wp_wait_queue_entry e;
	uint32_t keys[8];
	int n;
};

static int keyrec_func(struct wp_wait_queue_entry *e, uint32_t key)
{
	struct keyrec *k = wp_container_of(e, struct keyrec, e);

	if (k->n < 8)
		k->keys[k->n++] = key;
	return 1;
}

static void test_sock_default_callbacks(void **state)
{
	struct tsock *ts = tsock_new();
	struct wp_sock *sk = &ts->sk;
	struct keyrec k = { .n = 0 };

	(void)state;
	wp_init_waitqueue_func_entry(&k.e, keyrec_func, NULL, 0);
	wp_add_wait_queue(&sk->sk_wq, &k.e);

	sk->sk_data_ready(sk, NULL);
	sk->sk_write_space(sk);
	sk->sk_state_change(sk);
	sk->sk_error_report(sk);
	assert_int_equal(k.n, 4);
	assert_int_equal(k.keys[0], WP_EPOLLIN | WP_EPOLLPRI | WP_EPOLLRDNORM |
					    WP_EPOLLRDBAND);
	assert_int_equal(k.keys[1],
			 WP_EPOLLOUT | WP_EPOLLWRNORM | WP_EPOLLWRBAND);
	assert_int_equal(k.keys[2], 0);
	assert_int_equal(k.keys[3], WP_EPOLLERR);

	/* Write space wakes only once half of sndbuf is free. */
	k.n = 0;
	wp_sock_wmem_charge(sk, WP_SK_WMEM_DEFAULT / 2 + 1);
	assert_false(wp_sock_writeable(sk));
	sk->sk_write_space(sk);
	assert_int_equal(k.n, 0);
	wp_sock_wmem_uncharge(sk, 1);
	assert_int_equal(k.n, 1);
	assert_int_equal(atomic_load(&sk->sk_wmem_alloc),
			 WP_SK_WMEM_DEFAULT / 2);
	wp_sock_wmem_uncharge(sk, WP_SK_WMEM_DEFAULT / 2);
	assert_int_equal(k.n, 2);

	/* Errors: recorded, reported with EPOLLERR, taken once. */
	k.n = 0;
	wp_sock_set_err(sk, ECONNREFUSED);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.keys[0], WP_EPOLLERR);
	assert_int_equal(wp_sock_error(sk), -ECONNREFUSED);
	assert_int_equal(wp_sock_error(sk), 0);

	wp_remove_wait_queue(&sk->sk_wq, &k.e);
	wp_sock_put(sk);
}

static void test_datagram_poll_masks(void **state)
{
	struct wp_sock *sk = dsock_new();

	(void)state;
	assert_int_equal(wp_datagram_poll(sk),
			 WP_EPOLLOUT | WP_EPOLLWRNORM | WP_EPOLLWRBAND);
	atomic_store(&sk->sk_err, EHOSTUNREACH);
	assert_true(wp_datagram_poll(sk) & WP_EPOLLERR);
	assert_int_equal(wp_sock_error(sk), -EHOSTUNREACH);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLERR);

	wp_sock_shutdown(sk, WP_RCV_SHUTDOWN);
	assert_int_equal(wp_datagram_poll(sk) &
				 ~(uint32_t)(WP_EPOLLOUT | WP_EPOLLWRNORM |
					     WP_EPOLLWRBAND),
			 WP_EPOLLRDHUP | WP_EPOLLIN | WP_EPOLLRDNORM);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLHUP);
	wp_sock_shutdown(sk, WP_SEND_SHUTDOWN);
	assert_true(wp_datagram_poll(sk) & WP_EPOLLHUP);

	/* Not writeable: no OUT. */
	wp_sock_wmem_charge(sk, WP_SK_WMEM_DEFAULT);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLOUT);
	atomic_store(&sk->sk_wmem_alloc, 0);

	/* Connection-based: CLOSE is HUP, SYN_SENT hides OUT. */
	sk->sk_type = 1;
	atomic_store(&sk->sk_shutdown, 0);
	assert_true(wp_datagram_poll(sk) & WP_EPOLLHUP);
	wp_sk_set_state(sk, WP_TCP_SYN_SENT);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLOUT);
	wp_sk_set_state(sk, WP_TCP_ESTABLISHED);
	assert_int_equal(wp_datagram_poll(sk),
			 WP_EPOLLOUT | WP_EPOLLWRNORM | WP_EPOLLWRBAND);
	wp_sock_put(sk);
}

static struct wp_skb *make_skb(struct fx *fx, uint32_t len)
{
	void *buf = wp_pool_get_buf(fx->pool);
	struct wp_skb *skb;

	assert_non_null(buf);
	skb = wp_build_skb(fx->pool, buf, WP_SKB_HEADROOM, len);
	assert_non_null(skb);
	return skb;
}

static void test_queue_rcv_skb_accounting(void **state)
{
	struct fx *fx = *state;
	struct wp_sock *sk = dsock_new();
	struct keyrec k = { .n = 0 };
	struct wp_skb *skb;
	uint32_t ts;

	wp_init_waitqueue_func_entry(&k.e, keyrec_func, NULL, 0);
	wp_add_wait_queue(&sk->sk_wq, &k.e);

	skb = make_skb(fx, 100);
	ts = wp_skb_truesize(skb);
	assert_true(ts > 100);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLIN);
	assert_int_equal(wp_sock_queue_rcv_skb(sk, skb), 0);
	assert_int_equal(atomic_load(&sk->sk_rmem_alloc), ts);
	assert_true(wp_datagram_poll(sk) & WP_EPOLLIN);
	assert_int_equal(k.n, 1);
	assert_true(k.keys[0] & WP_EPOLLIN);
	assert_ptr_equal(skb->sk, sk);

	/* rcvbuf: at or above it, the next skb is dropped and counted. */
	atomic_store(&sk->sk_rcvbuf, (int)ts);
	assert_int_equal(wp_sock_queue_rcv_skb(sk, make_skb(fx, 10)), -ENOMEM);
	assert_int_equal(atomic_load(&sk->sk_drops), 1);
	assert_int_equal(fx->drops.count[WP_DROP_SOCKET_RCVBUFF], 1);
	assert_int_equal(k.n, 1);
	assert_int_equal(sk->sk_receive_queue.qlen, 1);

	skb = wp_sock_dequeue_rcv_skb(sk);
	assert_non_null(skb);
	assert_int_equal(skb->len, 100);
	assert_int_equal(atomic_load(&sk->sk_rmem_alloc), 0);
	assert_false(wp_datagram_poll(sk) & WP_EPOLLIN);
	wp_consume_skb(skb);
	assert_null(wp_sock_dequeue_rcv_skb(sk));

	/* One skb may overshoot rcvbuf (Linux checks before charging). */
	atomic_store(&sk->sk_rcvbuf, 1);
	assert_int_equal(wp_sock_queue_rcv_skb(sk, make_skb(fx, 10)), 0);
	assert_int_equal(wp_sock_queue_rcv_skb(sk, make_skb(fx, 10)), -ENOMEM);

	/* Unread data dies with the socket, counted as socket_closed. */
	wp_remove_wait_queue(&sk->sk_wq, &k.e);
	wp_sock_put(sk);
	assert_int_equal(fx->drops.count[WP_DROP_SOCKET_CLOSED], 1);
}

static void test_queue_rcv_skb_dead_and_stamps(void **state)
{
	struct fx *fx = *state;
	struct wp_sock *sk = dsock_new();
	struct wp_epoll_event ev = { .events = WP_EPOLLIN };
	struct wp_pollfd pfd;
	struct wp_skb *skb;
	int fd, epfd;

	sk->sk_clock = &fx->vclock;
	fd = wp_sock_map_fd(sk);
	assert_true(fd >= 0);
	epfd = wp_epoll_create1(0);
	assert_true(epfd >= 0);
	assert_int_equal(wp_epoll_ctl(epfd, WP_EPOLL_CTL_ADD, fd, &ev), 0);

	/* A sampled skb learns which wake functions its arrival ran. */
	skb = make_skb(fx, 64);
	assert_int_equal(wp_skb_stamp_enable(skb), 0);
	wp_skb_get(skb); /* keep it to read its stamps after delivery */
	assert_int_equal(wp_sock_queue_rcv_skb(sk, skb), 0);
	assert_int_equal(skb->stamps->wake_kind,
			 1u << WP_WAKE_EP_POLL_CALLBACK);
	assert_int_equal(skb->stamps->ns[WP_STAMP_QUEUED],
			 wp_clock_now(&fx->vclock));
	assert_int_equal(skb->stamps->ns[WP_STAMP_DATA_READY],
			 wp_clock_now(&fx->vclock));
	/* The queue holds its own reference, and the caller's is intact. */
	assert_int_equal(atomic_load(&skb->users), 2);
	wp_consume_skb(skb);
	pfd.fd = fd;
	pfd.events = WP_POLLIN;
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	wp_consume_skb(wp_sock_dequeue_rcv_skb(sk));

	/* Close: the socket is orphaned and refuses input. */
	wp_sock_hold(sk);
	assert_int_equal(wp_close(fd), 0);
	assert_true(wp_sock_flag(sk, WP_SOCK_DEAD));
	assert_null(sk->sk_file);
	assert_int_equal(wp_sock_queue_rcv_skb(sk, make_skb(fx, 10)), -EPIPE);
	assert_int_equal(fx->drops.count[WP_DROP_SOCKET_CLOSED], 1);
	assert_int_equal(atomic_load(&sk->sk_drops), 1);
	wp_sock_put(sk);
	assert_int_equal(wp_close(epfd), 0);
}

struct sockwaker {
	struct tsock *ts;
	uint32_t mask;
	unsigned delay_ms;
};

static void *sock_wake_thread(void *arg)
{
	struct sockwaker *sw = arg;

	sleep_ms(sw->delay_ms);
	tsock_set(sw->ts, sw->mask);
	return NULL;
}

static void test_sock_wait(void **state)
{
	struct fx *fx = *state;
	struct tsock *ts = tsock_new();
	struct sockwaker sw = { ts, WP_EPOLLOUT, 5 };
	struct sockwaker sw2 = { ts, WP_EPOLLIN | WP_EPOLLOUT, 30 };
	pthread_t th, th2;

	/* Ready now. */
	atomic_store(&ts->mask, WP_EPOLLIN);
	assert_int_equal(
		wp_sock_wait(&ts->sk, WP_EPOLLIN, &fx->vclock, WP_TIME_NEVER),
		WP_EPOLLIN);
	/* Deadline already past: checks once. */
	atomic_store(&ts->mask, 0);
	assert_int_equal(wp_sock_wait(&ts->sk, WP_EPOLLIN, &fx->vclock,
				      wp_clock_now(&fx->vclock)),
			 -ETIMEDOUT);
	/* HUP counts whatever was asked. */
	atomic_store(&ts->mask, WP_EPOLLHUP);
	assert_int_equal(wp_sock_wait(&ts->sk, WP_EPOLLIN, &fx->vclock, 0),
			 WP_EPOLLHUP);

	/* Woken by another thread; an OUT wake does not end an IN wait. */
	atomic_store(&ts->mask, 0);
	memset(&fx->ws, 0, sizeof(fx->ws));
	assert_int_equal(pthread_create(&th, NULL, sock_wake_thread, &sw), 0);
	assert_int_equal(pthread_create(&th2, NULL, sock_wake_thread, &sw2), 0);
	assert_int_equal(
		wp_sock_wait(&ts->sk, WP_EPOLLIN, &fx->vclock, WP_TIME_NEVER),
		WP_EPOLLIN);
	pthread_join(th, NULL);
	pthread_join(th2, NULL);
	assert_int_equal(atomic_load(&ts->sk.sk_wq.nr), 0);
	wp_sock_put(&ts->sk);
}

/* --- descriptors ------------------------------------------------------------
 */

static void test_fd_lowest_first_and_close(void **state)
{
	struct tsock *ts[4];
	int fds[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		ts[i] = tsock_new();
		fds[i] = wp_sock_map_fd(&ts[i]->sk);
		assert_int_equal(fds[i], i);
		assert_ptr_equal(wp_sockfd_lookup(i), &ts[i]->sk);
		wp_sockfd_put(&ts[i]->sk);
	}
	wp_sock_hold(&ts[1]->sk);
	assert_int_equal(wp_close(1), 0);
	assert_int_equal(ts[1]->closes, 1);
	assert_true(wp_sock_flag(&ts[1]->sk, WP_SOCK_DEAD));
	wp_sock_put(&ts[1]->sk);
	assert_int_equal(wp_close(1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(wp_close(-1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(wp_close(100000), -1);
	assert_int_equal(errno, EBADF);
	assert_null(wp_sockfd_lookup(1));
	assert_int_equal(errno, EBADF);

	/* The hole is reused first. */
	ts[1] = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts[1]->sk), 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(wp_close(i), 0);
	assert_int_equal(atomic_load(&live_socks), 0);
}

static void test_fd_emfile_and_growth(void **state)
{
	struct fx *fx = *state;
	struct wp_fdtable *t = wp_fdtable_create(200, NULL);
	struct tsock *ts;
	int fd;

	assert_non_null(t);
	wp_fdtable_set_current(t);
	/* Past the first 64 slots the table grows; at 200, EMFILE. */
	for (int i = 0; i < 200; i++) {
		ts = tsock_new();
		fd = wp_sock_map_fd(&ts->sk);
		assert_int_equal(fd, i);
	}
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), -EMFILE);
	/* The caller kept its reference. */
	assert_null(ts->sk.sk_file);
	wp_sock_put(&ts->sk);

	assert_int_equal(wp_close(150), 0);
	assert_int_equal(wp_close(70), 0);
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), 70);
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), 150);
	assert_int_equal(wp_fdtable_nr_open(t), 200);

	/* Lowering the bound keeps open descriptors, refuses new ones. */
	assert_int_equal(wp_fdtable_set_max(t, 10), 0);
	assert_int_equal(wp_close(5), 0);
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), 5);
	assert_int_equal(wp_close(3), 0);
	assert_int_equal(wp_close(199), 0);
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), 3);
	ts = tsock_new();
	assert_int_equal(wp_sock_map_fd(&ts->sk), -EMFILE);
	wp_sock_put(&ts->sk);
	assert_int_equal(wp_fdtable_set_max(t, 0), -EINVAL);
	assert_int_equal(wp_fdtable_set_max(t, WP_FD_HARD_MAX + 1), -EINVAL);

	/* Destroy closes the rest. */
	wp_fdtable_set_current(fx->t);
	wp_fdtable_destroy(t);
	assert_int_equal(atomic_load(&live_socks), 0);

	errno = 0;
	assert_null(wp_fdtable_create(0, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(wp_fdtable_create(WP_FD_HARD_MAX + 1, NULL));
	wp_fdtable_destroy(NULL);
}

static void test_sockfd_lookup_enotsock(void **state)
{
	int epfd;

	(void)state;
	epfd = wp_epoll_create1(0);
	assert_true(epfd >= 0);
	assert_null(wp_sockfd_lookup(epfd));
	assert_int_equal(errno, ENOTSOCK);
	assert_int_equal(wp_close(epfd), 0);
}

static void test_default_table(void **state)
{
	struct fx *fx = *state;
	struct wp_fdtable *def;
	struct tsock *ts = tsock_new();
	int fd;

	/* With no table installed, the process default is used. */
	assert_ptr_equal(wp_fdtable_set_current(NULL), fx->t);
	def = wp_fdtable_current();
	assert_true(def != fx->t);
	assert_ptr_equal(def->clock, &def->real_clock);
	fd = wp_sock_map_fd(&ts->sk);
	assert_true(fd >= 0);
	assert_int_equal(wp_fdtable_nr_open(def), 1);
	assert_int_equal(wp_close(fd), 0);
	assert_ptr_equal(wp_fdtable_set_current(fx->t), def);
}

#define FD_THREADS 4
#define FD_ROUNDS 2000

static void *fd_churn_thread(void *arg)
{
	int *bad = arg;

	for (int i = 0; i < FD_ROUNDS; i++) {
		struct tsock *ts = tsock_new();
		int fd = wp_sock_map_fd(&ts->sk);
		struct wp_sock *sk;

		if (fd < 0) {
			wp_sock_put(&ts->sk);
			(*bad)++;
			continue;
		}
		/* Our descriptor names our socket until we close it. */
		sk = wp_sockfd_lookup(fd);
		if (sk != &ts->sk)
			(*bad)++;
		if (sk)
			wp_sockfd_put(sk);
		if (wp_close(fd))
			(*bad)++;
	}
	return NULL;
}

static void test_fd_threads(void **state)
{
	pthread_t th[FD_THREADS];
	int bad[FD_THREADS] = { 0 };

	(void)state;
	for (int i = 0; i < FD_THREADS; i++)
		assert_int_equal(
			pthread_create(&th[i], NULL, fd_churn_thread, &bad[i]),
			0);
	for (int i = 0; i < FD_THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(bad[i], 0);
	}
	assert_int_equal(atomic_load(&live_socks), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_wake_nonexclusive_all_called, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_exclusive_limit,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_remove_idempotent_and_idle_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_wake_key_filter,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_autoremove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats_by_kind_and_names,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiter_timeouts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waiter_cross_thread, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sock_init_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sock_refcount, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sock_default_callbacks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_datagram_poll_masks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_rcv_skb_accounting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_queue_rcv_skb_dead_and_stamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sock_wait, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_lowest_first_and_close,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_emfile_and_growth,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockfd_lookup_enotsock,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_threads, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
