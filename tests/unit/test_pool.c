// SPDX-License-Identifier: MIT
/*
 * Buffer pools: configuration, exhaustion, validation of foreign
 * buffers, growth, stats, and frees from other threads (the lock-free
 * return stacks) under real concurrency. Every test ends with every pool
 * it made whole again.
 */
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "skb/pool.h"
#include "skb/skb.h"

/* Huge-allocation tests expect NULL, not an ASan abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

struct fx {
	struct wp_pool *pool;
	struct wp_drop_stats drops;
};

static struct wp_pool *pool_new(uint32_t nbufs, uint32_t buf_size,
				uint32_t nheads)
{
	struct wp_pool_config cfg = {
		.name = "test",
		.nbufs = nbufs,
		.buf_size = buf_size,
		.nheads = nheads,
	};
	struct wp_pool *pool = wp_pool_create(&cfg);

	assert_non_null(pool);
	return pool;
}

static int setup_small(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->pool = pool_new(8, 0, 0);
	wp_drop_stats_bind(&fx->drops);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	bool whole = wp_pool_is_whole(fx->pool);

	wp_drop_stats_bind(NULL);
	wp_pool_destroy(fx->pool);
	free(fx);
	assert_true(whole);
	return whole ? 0 : -1;
}

static struct wp_pool_stats stats(struct wp_pool *pool)
{
	struct wp_pool_stats st;

	wp_pool_get_stats(pool, &st);
	return st;
}

static void create_rejects_bad_config(void **state)
{
	struct wp_pool_config cfg = { .nbufs = 4 };
	struct wp_pool *pool;

	errno = 0;
	assert_null(wp_pool_create(NULL));
	assert_int_equal(errno, EINVAL);

	cfg.nbufs = 0;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, EINVAL);

	cfg.nbufs = 4;
	cfg.buf_size = WP_POOL_BUF_SIZE_MIN - 1;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, EINVAL);

	cfg.buf_size = WP_POOL_BUF_SIZE_MAX + 1;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, EINVAL);

	cfg.buf_size = UINT32_MAX;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, EINVAL);

	/* Default descriptor count nbufs + nbufs/4 would not fit. */
	cfg.buf_size = 0;
	cfg.nbufs = UINT32_MAX;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, EINVAL);

	/* Terabytes: the allocation fails cleanly. */
	cfg.nbufs = UINT32_MAX / 2;
	cfg.buf_size = WP_POOL_BUF_SIZE_MAX;
	errno = 0;
	assert_null(wp_pool_create(&cfg));
	assert_int_equal(errno, ENOMEM);

	/* The limits themselves are fine, and the name is optional. */
	cfg.nbufs = 2;
	cfg.buf_size = WP_POOL_BUF_SIZE_MIN;
	pool = wp_pool_create(&cfg);
	assert_non_null(pool);
	assert_int_equal(wp_pool_buf_size(pool), WP_POOL_BUF_SIZE_MIN);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
	cfg.buf_size = WP_POOL_BUF_SIZE_MAX;
	pool = wp_pool_create(&cfg);
	assert_non_null(pool);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);

	wp_pool_destroy(NULL);
}

static void defaults_and_totals(void **state)
{
	struct wp_pool *pool = pool_new(100, 0, 0);
	struct wp_pool_stats st = stats(pool);

	assert_int_equal(wp_pool_buf_size(pool), WP_POOL_BUF_SIZE);
	assert_int_equal(st.bufs_total, 100);
	assert_int_equal(st.bufs_free, 100);
	assert_int_equal(st.heads_total, 125);
	assert_int_equal(st.heads_free, 125);
	assert_int_equal(st.alloc + st.recycle + st.remote_free + st.alloc_fail,
			 0);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);

	pool = pool_new(3, 1000, 7);
	st = stats(pool);
	assert_int_equal(wp_pool_buf_size(pool), 1000);
	assert_int_equal(st.heads_total, 7);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
}

/* Distinct, writable, non-overlapping buffers, each buf_size long. */
static void buffers_are_distinct_and_writable(void **state)
{
	struct fx *fx = *state;
	uint8_t *b[8];

	for (int i = 0; i < 8; i++) {
		b[i] = wp_pool_get_buf(fx->pool);
		assert_non_null(b[i]);
		memset(b[i], i, WP_POOL_BUF_SIZE);
	}
	for (int i = 0; i < 8; i++) {
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(b[i], b[j]);
		for (int k = 0; k < WP_POOL_BUF_SIZE; k++)
			assert_int_equal(b[i][k], i);
	}
	for (int i = 0; i < 8; i++)
		wp_pool_put_buf(fx->pool, b[i]);
}

static void exhaustion_returns_null_and_counts(void **state)
{
	struct fx *fx = *state;
	void *b[8];
	struct wp_pool_stats st;

	for (int i = 0; i < 8; i++)
		assert_non_null(b[i] = wp_pool_get_buf(fx->pool));
	st = stats(fx->pool);
	assert_int_equal(st.alloc, 8);
	assert_int_equal(st.bufs_free, 0);
	assert_false(wp_pool_is_whole(fx->pool));

	assert_null(wp_pool_get_buf(fx->pool));
	errno = 0;
	assert_null(wp_alloc_skb(fx->pool, 10));
	assert_int_equal(errno, ENOMEM);
	st = stats(fx->pool);
	assert_int_equal(st.alloc_fail, 2);
	assert_int_equal(st.alloc, 8);

	/* LIFO: the last returned is the next handed out. */
	wp_pool_put_buf(fx->pool, b[3]);
	assert_ptr_equal(wp_pool_get_buf(fx->pool), b[3]);
	for (int i = 0; i < 8; i++)
		wp_pool_put_buf(fx->pool, b[i]);
	wp_pool_put_buf(fx->pool, NULL);
	st = stats(fx->pool);
	assert_int_equal(st.recycle, 9);
	assert_int_equal(st.alloc, 9);
}

static void burst_get(void **state)
{
	struct fx *fx = *state;
	void *b[16];
	struct wp_pool_stats st;

	assert_int_equal(wp_pool_get_bufs(fx->pool, b, 0), 0);
	assert_int_equal(wp_pool_get_bufs(fx->pool, b, 5), 5);
	assert_int_equal(stats(fx->pool).alloc_fail, 0);
	/* Short burst: what there is, and one failure counted. */
	assert_int_equal(wp_pool_get_bufs(fx->pool, b + 5, 11), 3);
	st = stats(fx->pool);
	assert_int_equal(st.alloc, 8);
	assert_int_equal(st.alloc_fail, 1);
	assert_int_equal(wp_pool_get_bufs(fx->pool, b + 8, 4), 0);
	assert_int_equal(stats(fx->pool).alloc_fail, 2);
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(b[i], b[j]);
	for (int i = 0; i < 8; i++)
		wp_pool_put_buf(fx->pool, b[i]);
}

static void build_skb_validates(void **state)
{
	struct fx *fx = *state;
	struct wp_pool *other = pool_new(2, 0, 0);
	uint8_t *buf = wp_pool_get_buf(fx->pool), *last = NULL, *obuf;
	static uint8_t not_pooled[4096];
	struct wp_pool_stats st0 = stats(fx->pool);
	void *b[8];
	uint32_t n;

	assert_non_null(buf);
	/* Lengths: headroom + len must fit, no wrap-around. */
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf, 0, WP_POOL_BUF_SIZE + 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf, 1, WP_POOL_BUF_SIZE));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf, WP_POOL_BUF_SIZE + 1, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf, 16, UINT32_MAX - 8));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf, UINT32_MAX, 2));
	assert_int_equal(errno, EINVAL);

	/* Pointers that are not one of this pool's buffers. */
	errno = 0;
	assert_null(wp_build_skb(fx->pool, NULL, 0, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, not_pooled, 0, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf + 1, 0, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf + 64, 0, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, buf + WP_POOL_BUF_SIZE, 0, 10));
	assert_int_equal(errno, EINVAL);
	obuf = wp_pool_get_buf(other);
	assert_non_null(obuf);
	errno = 0;
	assert_null(wp_build_skb(fx->pool, obuf, 0, 10));
	assert_int_equal(errno, EINVAL);
	wp_pool_put_buf(other, obuf);

	/* Nothing was taken by the failures. */
	assert_int_equal(stats(fx->pool).bufs_free, st0.bufs_free);
	assert_int_equal(stats(fx->pool).heads_free, st0.heads_free);
	assert_int_equal(stats(fx->pool).alloc_fail, 0);

	/* The exact fits work, at both ends of every buffer. */
	{
		struct wp_skb *skb =
			wp_build_skb(fx->pool, buf, 0, WP_POOL_BUF_SIZE);

		assert_non_null(skb);
		assert_int_equal(wp_skb_tailroom(skb), 0);
		wp_consume_skb(skb);
	}
	n = wp_pool_get_bufs(fx->pool, b, 8);
	assert_int_equal(n, 8);
	for (uint32_t i = 0; i < n; i++) {
		struct wp_skb *skb =
			wp_build_skb(fx->pool, b[i], WP_POOL_BUF_SIZE, 0);

		assert_non_null(skb);
		if (!last || (uint8_t *)b[i] > last)
			last = b[i];
		b[i] = skb;
	}
	/* Where a ninth buffer would start: past the chunk. */
	errno = 0;
	assert_null(
		wp_build_skb(fx->pool, last + WP_POOL_BUF_SIZE + 64, 0, 10));
	assert_int_equal(errno, EINVAL);
	for (uint32_t i = 0; i < n; i++)
		wp_consume_skb(b[i]);

	assert_true(wp_pool_is_whole(other));
	wp_pool_destroy(other);
}

static void build_skb_without_descriptor(void **state)
{
	struct wp_pool *pool = pool_new(4, 0, 2);
	struct wp_skb *a, *b;
	void *buf[3];

	assert_int_equal(wp_pool_get_bufs(pool, buf, 3), 3);
	a = wp_build_skb(pool, buf[0], 0, 10);
	b = wp_build_skb(pool, buf[1], 0, 10);
	assert_non_null(a);
	assert_non_null(b);
	errno = 0;
	assert_null(wp_build_skb(pool, buf[2], 0, 10));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(stats(pool).alloc_fail, 1);

	/* alloc_skb gives its buffer back when no descriptor is left. */
	assert_int_equal(stats(pool).bufs_free, 1);
	errno = 0;
	assert_null(wp_alloc_skb(pool, 10));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(stats(pool).bufs_free, 1);
	assert_int_equal(stats(pool).alloc_fail, 2);

	/* The failed build left buf[2] with us: it still works. */
	wp_consume_skb(a);
	a = wp_build_skb(pool, buf[2], 0, 10);
	assert_non_null(a);
	wp_consume_skb(a);
	wp_consume_skb(b);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
}

static void grow_adds_a_chunk(void **state)
{
	struct fx *fx = *state;
	struct wp_skb *skbs[20];
	struct wp_pool_stats st;
	uint32_t n = 0;

	while ((skbs[n] = wp_alloc_skb(fx->pool, 100)) != NULL)
		n++;
	assert_int_equal(n, 8);
	assert_int_equal(wp_pool_grow(fx->pool, 0), 0);
	assert_int_equal(wp_pool_grow(fx->pool, 8), 0);
	st = stats(fx->pool);
	assert_int_equal(st.bufs_total, 16);
	assert_int_equal(st.heads_total, 10 + 10);
	assert_int_equal(st.bufs_free, 8);

	/* Buffers of the new chunk are this pool's: build_skb takes them. */
	while (n < 16) {
		void *buf = wp_pool_get_buf(fx->pool);

		assert_non_null(buf);
		skbs[n] = wp_build_skb(fx->pool, buf, 0, 10);
		assert_non_null(skbs[n]);
		n++;
	}
	assert_null(wp_pool_get_buf(fx->pool));

	/* Too big: nothing changes. */
	assert_int_equal(wp_pool_grow(fx->pool, UINT32_MAX), -ENOMEM);
	assert_int_equal(wp_pool_grow(fx->pool, UINT32_MAX / 2), -ENOMEM);
	assert_int_equal(wp_pool_grow(fx->pool, 1u << 30), -ENOMEM);
	st = stats(fx->pool);
	assert_int_equal(st.bufs_total, 16);
	assert_int_equal(st.heads_total, 20);
	assert_int_equal(st.bufs_free, 0);

	/* Frees of skbs from both chunks, with the caches reallocated in
	 * between, all land. */
	for (uint32_t i = 0; i < n; i++)
		wp_consume_skb(skbs[i]);
	assert_int_equal(wp_pool_grow(fx->pool, 1), 0);
	st = stats(fx->pool);
	assert_int_equal(st.bufs_total, 17);
	assert_int_equal(st.heads_total, 21);
	assert_int_equal(st.bufs_free, 17);
}

/* --- other threads --------------------------------------------------- */

struct one_free {
	struct wp_skb *skb;
	void *raw;
};

static void *free_one(void *arg)
{
	struct one_free *f = arg;

	wp_consume_skb(f->skb);
	return NULL;
}

static void *free_raw(void *arg)
{
	struct one_free *f = arg;

	wp_pool_put_buf(f->skb->pool, f->raw);
	return NULL;
}

static void run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void remote_free_counts_and_comes_back(void **state)
{
	struct fx *fx = *state;
	struct one_free f = { 0 };
	struct wp_pool_stats st;
	struct wp_skb *s[8], *keep;
	int n = 0;

	f.skb = wp_alloc_skb(fx->pool, 10);
	assert_non_null(f.skb);
	run_thread(free_one, &f);
	st = stats(fx->pool);
	assert_int_equal(st.remote_free, 1);
	assert_int_equal(st.recycle, 0);
	assert_int_equal(st.bufs_free, 8);
	assert_int_equal(st.heads_free, 10);
	assert_true(wp_pool_is_whole(fx->pool));

	/* A raw buffer from another thread. */
	keep = wp_alloc_skb(fx->pool, 10); /* something for free_raw to name */
	assert_non_null(keep);
	f.skb = keep;
	f.raw = wp_pool_get_buf(fx->pool);
	assert_non_null(f.raw);
	run_thread(free_raw, &f);
	assert_int_equal(stats(fx->pool).remote_free, 2);

	/* A remote free of a clone that is not the last keeps the buffer. */
	f.skb = wp_skb_clone(keep);
	f.raw = NULL;
	assert_non_null(f.skb);
	run_thread(free_one, &f);
	st = stats(fx->pool);
	assert_int_equal(st.remote_free, 2);
	assert_int_equal(st.heads_free, 9);
	assert_int_equal(st.bufs_free, 7);
	assert_false(wp_skb_cloned(keep));

	/* The owner takes the stacks back once its cache runs dry: 5 from
	 * the cache, then the remotely freed skb's and the raw buffer. */
	while ((s[n] = wp_alloc_skb(fx->pool, 10)) != NULL)
		n++;
	assert_int_equal(n, 7);
	for (int i = 0; i < n; i++)
		wp_consume_skb(s[i]);
	wp_consume_skb(keep);
	st = stats(fx->pool);
	assert_int_equal(st.remote_free, 2);
	assert_int_equal(st.alloc, st.recycle + st.remote_free);
}

/*
 * The real thing: the owner builds skbs (raw buffer + build_skb, and
 * alloc_skb), sometimes clones them, stamps a sequence number into the
 * data and hands them through a locked queue to freer threads. Clones
 * go to the freers while the owner frees the originals, so dataref is
 * decremented from two threads at once. Freers check the data, which
 * would be overwritten if a buffer were handed out while still in use.
 * The pool is much smaller than the traffic: the owner keeps running
 * dry and taking the return stacks back.
 */
#define XFER_TOTAL 200000
#define XFER_QMAX 64

struct xfer {
	struct wp_pool *pool;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct wp_skb_queue q;
	void *raw[XFER_QMAX];
	uint32_t nraw;
	bool done;
	_Atomic uint64_t bad;
	_Atomic uint64_t freed;
	_Atomic uint64_t dropped; /* from the freers' own drop blocks */
};

static void *freer(void *arg)
{
	struct xfer *x = arg;
	struct wp_drop_stats drops = { 0 };

	wp_drop_stats_bind(&drops);
	for (;;) {
		struct wp_skb *skb;
		void *raw = NULL;
		uint64_t seq;

		pthread_mutex_lock(&x->lock);
		while (wp_skb_queue_empty(&x->q) && !x->nraw && !x->done)
			pthread_cond_wait(&x->cond, &x->lock);
		skb = wp_skb_dequeue(&x->q);
		if (x->nraw)
			raw = x->raw[--x->nraw];
		if (!skb && !raw && x->done) {
			pthread_mutex_unlock(&x->lock);
			break;
		}
		pthread_mutex_unlock(&x->lock);

		if (raw)
			wp_pool_put_buf(x->pool, raw);
		if (!skb)
			continue;
		memcpy(&seq, skb->data, sizeof(seq));
		if (skb->len != 64 || memcmp(skb->data + 8, skb->data, 8) ||
		    seq != skb->hash)
			atomic_fetch_add(&x->bad, 1);
		if (seq & 1)
			wp_kfree_skb_reason(skb, WP_DROP_SOCKET_RCVBUFF);
		else
			wp_consume_skb(skb);
		atomic_fetch_add(&x->freed, 1);
	}
	wp_drop_stats_bind(NULL);
	atomic_fetch_add(&x->dropped, drops.count[WP_DROP_SOCKET_RCVBUFF]);
	return NULL;
}

static bool xfer_hand(struct xfer *x, struct wp_skb *skb, void *raw)
{
	bool ok;

	pthread_mutex_lock(&x->lock);
	ok = x->q.qlen < XFER_QMAX && x->nraw < XFER_QMAX;
	if (ok) {
		if (skb)
			wp_skb_queue_tail(&x->q, skb);
		if (raw)
			x->raw[x->nraw++] = raw;
		pthread_cond_signal(&x->cond);
	}
	pthread_mutex_unlock(&x->lock);
	return ok;
}

static struct wp_skb *owner_make(struct xfer *x, uint64_t seq)
{
	struct wp_skb *skb;

	if (seq % 3 == 0) {
		skb = wp_alloc_skb(x->pool, 64);
		if (skb && !wp_skb_put(skb, 64))
			fail();
	} else {
		void *buf = wp_pool_get_buf(x->pool);

		if (!buf)
			return NULL;
		skb = wp_build_skb(x->pool, buf, WP_SKB_HEADROOM, 64);
		if (!skb)
			wp_pool_put_buf(x->pool, buf);
	}
	if (skb) {
		memcpy(skb->data, &seq, 8);
		memcpy(skb->data + 8, &seq, 8);
		skb->hash = (uint32_t)seq;
	}
	return skb;
}

static void cross_thread_frees(uint32_t nfreers)
{
	struct xfer x = { 0 };
	pthread_t t[4];
	struct wp_pool_stats st;
	uint64_t seq = 0, handed = 0;

	x.pool = pool_new(32, 0, 0);
	pthread_mutex_init(&x.lock, NULL);
	pthread_cond_init(&x.cond, NULL);
	wp_skb_queue_init(&x.q);
	for (uint32_t i = 0; i < nfreers; i++)
		assert_int_equal(pthread_create(&t[i], NULL, freer, &x), 0);

	while (seq < XFER_TOTAL) {
		struct wp_skb *skb = owner_make(&x, seq), *give = skb;
		void *raw = NULL;

		if (!skb) { /* dry: the freers will give some back */
			sched_yield();
			continue;
		}
		if (seq % 4 == 1) {
			/* The clone crosses; the original dies here, maybe
			 * before, maybe after the freer is done with it. */
			give = wp_skb_clone(skb);
			if (!give) {
				wp_consume_skb(skb);
				sched_yield();
				continue;
			}
		}
		if (seq % 16 == 5)
			raw = wp_pool_get_buf(x.pool);
		while (!xfer_hand(&x, give, raw))
			sched_yield();
		if (give != skb)
			wp_consume_skb(skb);
		handed++;
		seq++;
	}
	pthread_mutex_lock(&x.lock);
	x.done = true;
	pthread_cond_broadcast(&x.cond);
	pthread_mutex_unlock(&x.lock);
	for (uint32_t i = 0; i < nfreers; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);

	assert_int_equal(atomic_load(&x.bad), 0);
	assert_int_equal(atomic_load(&x.freed), handed);
	assert_int_equal(atomic_load(&x.dropped), XFER_TOTAL / 2); /* odd */
	st = stats(x.pool);
	/* Every unshared skb and raw buffer came back through a stack:
	 * 32 buffers went round thousands of times. */
	assert_true(st.remote_free >= XFER_TOTAL / 4 * 3);
	assert_int_equal(st.alloc, st.recycle + st.remote_free);
	assert_true(wp_pool_is_whole(x.pool));

	/* After the drain everything is in the owner's cache again. */
	{
		void *b[32];

		assert_int_equal(wp_pool_get_bufs(x.pool, b, 32), 32);
		for (int i = 0; i < 32; i++)
			wp_pool_put_buf(x.pool, b[i]);
	}
	assert_true(wp_pool_is_whole(x.pool));
	pthread_cond_destroy(&x.cond);
	pthread_mutex_destroy(&x.lock);
	wp_pool_destroy(x.pool);
}

static void one_freer_thread(void **state)
{
	cross_thread_frees(1);
}

static void three_freer_threads(void **state)
{
	cross_thread_frees(3);
}

/*
 * Ownership handed to a core thread: it allocates and frees locally
 * (recycle) and hands some skbs back to the creator, whose frees are now
 * remote. Then ownership comes back for the teardown.
 */
struct handoff {
	struct wp_pool *pool;
	pthread_barrier_t owned;
	struct wp_skb *out[16];
	uint32_t nout;
	bool failed;
};

static void *core_thread(void *arg)
{
	struct handoff *h = arg;

	pthread_barrier_wait(&h->owned);
	for (int i = 0; i < 32; i++) {
		struct wp_skb *skb = wp_alloc_skb(h->pool, 10);

		if (!skb) {
			h->failed = true;
			break;
		}
		if (i % 2 && h->nout < 16)
			h->out[h->nout++] = skb;
		else
			wp_consume_skb(skb);
	}
	return NULL;
}

static void set_owner_thread_moves_allocation(void **state)
{
	struct handoff h = { 0 };
	struct wp_pool_stats st;
	pthread_t t;

	h.pool = pool_new(20, 0, 0);
	pthread_barrier_init(&h.owned, NULL, 2);
	assert_int_equal(pthread_create(&t, NULL, core_thread, &h), 0);
	wp_pool_set_owner_thread(h.pool, t);
	pthread_barrier_wait(&h.owned);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(h.failed);
	assert_int_equal(h.nout, 16);

	st = stats(h.pool);
	assert_int_equal(st.recycle, 16);
	assert_false(wp_pool_is_whole(h.pool));
	/* We are not the owner: these go to the return stack. */
	for (uint32_t i = 0; i < h.nout; i++)
		wp_consume_skb(h.out[i]);
	st = stats(h.pool);
	assert_int_equal(st.remote_free, 16);
	assert_int_equal(st.recycle, 16);
	assert_true(wp_pool_is_whole(h.pool));

	/* Back to us: the next allocations drain the stack. */
	wp_pool_set_owner(h.pool);
	{
		void *b[20];

		assert_int_equal(wp_pool_get_bufs(h.pool, b, 20), 20);
		for (int i = 0; i < 20; i++)
			wp_pool_put_buf(h.pool, b[i]);
	}
	st = stats(h.pool);
	assert_int_equal(st.recycle, 36);
	assert_true(wp_pool_is_whole(h.pool));
	pthread_barrier_destroy(&h.owned);
	wp_pool_destroy(h.pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_bad_config),
		cmocka_unit_test(defaults_and_totals),
		cmocka_unit_test_setup_teardown(
			buffers_are_distinct_and_writable, setup_small,
			teardown),
		cmocka_unit_test_setup_teardown(
			exhaustion_returns_null_and_counts, setup_small,
			teardown),
		cmocka_unit_test_setup_teardown(burst_get, setup_small,
						teardown),
		cmocka_unit_test_setup_teardown(build_skb_validates,
						setup_small, teardown),
		cmocka_unit_test(build_skb_without_descriptor),
		cmocka_unit_test_setup_teardown(grow_adds_a_chunk, setup_small,
						teardown),
		cmocka_unit_test_setup_teardown(
			remote_free_counts_and_comes_back, setup_small,
			teardown),
		cmocka_unit_test(one_freer_thread),
		cmocka_unit_test(three_freer_threads),
		cmocka_unit_test(set_owner_thread_moves_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
