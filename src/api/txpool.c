// SPDX-License-Identifier: MIT
/*
 * Transmit buffers for application threads.
 *
 * A pool is allocated from by its owner thread only (skb/pool.h), and a
 * core frees a transmitted skb into the pool it came from. So each
 * thread that sends gets pools of its own, made on its first send, the
 * way Linux gives each CPU its own page-fragment cache: a send takes a
 * buffer with no lock and no atomic, and the core's free after
 * transmission goes to the pool's lock-free return stack.
 *
 * Two pools per thread: 2 KiB buffers for datagrams that fit one (the
 * common case), and a few 64 KiB buffers, made on the first large send,
 * for the rest (the IP layer fragments them on the core).
 *
 * Lifetime: a pool can only be freed once every buffer is back. When a
 * thread exits, its pools are freed if whole, else left on the list as
 * orphans, which later calls reap once whole. A pool's owner never
 * changes (the owner field is read unlocked by every free); a new
 * thread that happens to reuse a dead one's thread id frees into the
 * orphan as its "owner", harmlessly: nobody allocates from an orphan.
 */
#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "net/net.h"
#include "skb/pool.h"

#define TX_HEADROOM WP_NET_TX_HEADROOM
#define TX_SMALL_BUF WP_POOL_BUF_SIZE
#define TX_SMALL_NBUFS 512
#define TX_BIG_BUF WP_POOL_BUF_SIZE_MAX
#define TX_BIG_NBUFS 16

_Static_assert(WP_SOCKET_TX_MAX == TX_BIG_BUF - TX_HEADROOM,
	       "WP_SOCKET_TX_MAX is what a big buffer holds");

struct tx_cache {
	struct wp_pool *small, *big;
	bool orphan; /* its thread is gone */
	struct tx_cache *next;
};

static pthread_mutex_t tx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tx_cache *tx_caches; /* under tx_lock */
static pthread_key_t tx_key;
static pthread_once_t tx_once = PTHREAD_ONCE_INIT;
static _Thread_local struct tx_cache *tls_tx;

static bool pool_whole(const struct wp_pool *p)
{
	return !p || wp_pool_is_whole(p);
}

/* Free the pools if nothing is in flight. Under tx_lock. */
static bool tx_cache_release_pools(struct tx_cache *c)
{
	if (!pool_whole(c->small) || !pool_whole(c->big))
		return false;
	wp_pool_destroy(c->small);
	wp_pool_destroy(c->big);
	c->small = NULL;
	c->big = NULL;
	return true;
}

/* Free every orphan whose buffers are all back. Under tx_lock. */
static void tx_reap_orphans(void)
{
	struct tx_cache **pp = &tx_caches;

	while (*pp) {
		struct tx_cache *c = *pp;

		if (c->orphan && tx_cache_release_pools(c)) {
			*pp = c->next;
			free(c);
		} else {
			pp = &c->next;
		}
	}
}

/* Thread exit: its pools go now if whole, else when they are. */
static void tx_cache_orphan(void *arg)
{
	struct tx_cache *c = arg;

	pthread_mutex_lock(&tx_lock);
	c->orphan = true;
	tx_reap_orphans();
	pthread_mutex_unlock(&tx_lock);
}

static void tx_key_init(void)
{
	pthread_key_create(&tx_key, tx_cache_orphan);
}

static struct tx_cache *tx_cache_get(void)
{
	struct tx_cache *c = tls_tx;

	if (wp_likely(c))
		return c;
	pthread_once(&tx_once, tx_key_init);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_lock(&tx_lock);
	tx_reap_orphans();
	c->next = tx_caches;
	tx_caches = c;
	pthread_mutex_unlock(&tx_lock);
	pthread_setspecific(tx_key, c);
	tls_tx = c;
	return c;
}

/* This thread's pool for buffers of buf_size, made on first use. */
static struct wp_pool *tx_pool(struct wp_pool **slot, uint32_t buf_size,
			       uint32_t nbufs)
{
	struct wp_pool_config cfg = {
		.name = buf_size > TX_SMALL_BUF ? "tx-app-64k" : "tx-app",
		.nbufs = nbufs,
		.buf_size = buf_size,
		.nheads = nbufs, /* a transmit skb is never cloned here */
	};
	struct wp_pool *p;

	if (wp_likely(*slot))
		return *slot;
	p = wp_pool_create(&cfg);
	if (!p)
		return NULL;
	/* Published under the lock: cleanup and reaping read the slot. */
	pthread_mutex_lock(&tx_lock);
	*slot = p;
	pthread_mutex_unlock(&tx_lock);
	return p;
}

struct wp_skb *wp__tx_alloc_skb(size_t len, int *err)
{
	struct tx_cache *c = tx_cache_get();
	struct wp_pool *pool;
	struct wp_skb *skb;
	void *buf;

	if (!c) {
		*err = -ENOMEM;
		return NULL;
	}
	if (len > WP_SOCKET_TX_MAX) {
		*err = -EMSGSIZE;
		return NULL;
	}
	if (len <= TX_SMALL_BUF - TX_HEADROOM)
		pool = tx_pool(&c->small, TX_SMALL_BUF, TX_SMALL_NBUFS);
	else
		pool = tx_pool(&c->big, TX_BIG_BUF, TX_BIG_NBUFS);
	if (!pool) {
		*err = -ENOMEM;
		return NULL;
	}
	buf = wp_pool_get_buf(pool);
	if (!buf) {
		*err = -EAGAIN;
		return NULL;
	}
	/* Room in front for UDP, IPv4 with options, 802.1Q Ethernet. */
	skb = wp_build_skb(pool, buf, TX_HEADROOM, 0);
	if (!skb) {
		wp_pool_put_buf(pool, buf);
		*err = -EAGAIN;
		return NULL;
	}
	return skb;
}

bool wp_socket_tx_pools_whole(void)
{
	bool whole = true;

	pthread_mutex_lock(&tx_lock);
	for (struct tx_cache *c = tx_caches; c; c = c->next)
		whole &= pool_whole(c->small) && pool_whole(c->big);
	pthread_mutex_unlock(&tx_lock);
	return whole;
}

int wp_socket_cleanup(void)
{
	bool busy = false;

	pthread_mutex_lock(&tx_lock);
	tx_reap_orphans();
	/* Live threads keep their (empty) cache; pools come back lazily. */
	for (struct tx_cache *c = tx_caches; c; c = c->next)
		busy |= !tx_cache_release_pools(c);
	pthread_mutex_unlock(&tx_lock);
	if (busy) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}
