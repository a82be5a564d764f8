// SPDX-License-Identifier: MIT
/*
 * Buffer pools (Linux page_pool for the data, skbuff_head_cache for the
 * descriptors) and the parts of the skb lifetime that touch them: build,
 * alloc, clone, free.
 *
 * Memory: each chunk is one allocation of buffers, one of descriptors and
 * one of stamp slots, made at create or wp_pool_grow() and never freed
 * before wp_pool_destroy(). Free objects sit in two LIFO caches (arrays
 * of pointers sized for every object the pool has), so a push can never
 * overflow and the last freed, cache-hot object is the next one handed out.
 *
 * Threads: the owner pops and pushes the caches with plain loads and
 * stores. Other threads push onto two Treiber stacks (descriptors, which
 * carry their buffer when they release it, and raw buffers); the owner
 * takes each stack whole with one atomic exchange when a cache is empty.
 * Only the owner removes nodes and it removes all of them, so a pusher's
 * compare-and-swap can never see a recycled top (no ABA).
 *
 * Counters read by wp_pool_get_stats() on another thread are relaxed
 * atomics that only the owner writes, by load and store: plain moves on
 * x86-64, no locked instruction on the fast path.
 */
#include "skb/pool.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

/*
 * The shared info after each buffer's data room (Linux skb_shared_info).
 *
 * Invariant: dataref == 1 whenever no clone shares the buffer, including
 * while it is free or held raw. Only wp_skb_clone() raises it, and the
 * release that brings it to 0 puts the 1 back before the buffer returns.
 * So building an skb never writes this cache line, and freeing an skb
 * that was never cloned needs no atomic (Linux's !skb->cloned fast path).
 */
struct pool_shinfo {
	_Atomic uint32_t dataref;
	struct pool_shinfo *next; /* remote return stack link */
};

/*
 * A descriptor. Cache-line aligned so that a remote thread freeing one
 * descriptor never shares a line with the one the owner is building.
 * The stamp record lives in a side array: sampling is rare and 100 bytes
 * of stamps per descriptor would double the lines a build touches.
 */
struct pool_head {
	struct wp_skb skb;
	struct wp_skb_stamps *stamps_slot;
} wp_cacheline_aligned;

/* The descriptor is the head's first member: casts between the two are
 * exact, NULL included (the return stack links through skb.next). */
_Static_assert(offsetof(struct pool_head, skb) == 0, "skb first");

struct pool_chunk {
	uint8_t *bufs; /* nbufs * buf_stride bytes */
	uintptr_t bufs_lo, bufs_hi;
	struct pool_head *heads;
	struct wp_skb_stamps *stamps;
	uint32_t nbufs, nheads;
	bool ext; /* bufs is the caller's memory: never freed here */
};

struct wp_pool {
	/* --- owner only: the fast path ----------------------------------- */
	void **buf_cache;	       /* LIFO of free buffers */
	struct pool_head **head_cache; /* LIFO of free descriptors */
	_Atomic uint32_t nbuf_free;    /* entries in buf_cache */
	_Atomic uint32_t nhead_free;   /* entries in head_cache */
	_Atomic uint64_t alloc;
	_Atomic uint64_t recycle;
	_Atomic uint64_t alloc_fail;
	_Atomic uint64_t remote_drained; /* buffers taken off the stacks */
	/* Objects taken off the stacks, packed as remote_pushed (below). */
	_Atomic uint64_t drained_packed;

	/* --- read-mostly: geometry, ownership ---------------------------- */
	pthread_t owner wp_cacheline_aligned;
	uint32_t buf_size;   /* data room: skb->end */
	/* Buffer to shared info: buf_size rounded up to a cache line, or
	 * -WP_POOL_EXT_BUF_OFFSET (the frame's first line) when ext. */
	int32_t shinfo_off;
	uint32_t buf_stride; /* shinfo_off + one line; ext: the frame size */
	bool ext;	     /* wp_pool_create_ext: fixed memory */
	/*
	 * Exact divisibility test by buf_stride = odd << shift, without a
	 * division (Hacker's Delight 10-17): n is a multiple of `odd` iff
	 * n * odd^-1 mod 2^64 <= UINT64_MAX / odd.
	 */
	unsigned stride_shift;
	uint64_t stride_inv;
	uint64_t stride_lim;
	uint32_t bufs_total;
	uint32_t heads_total;
	struct pool_chunk *chunks;
	uint32_t nchunks;
	char name[32];

	/* --- written by other threads ------------------------------------ */
	_Atomic(struct pool_head *) rheads wp_cacheline_aligned;
	_Atomic(struct pool_shinfo *) rbufs;
	/*
	 * Objects pushed onto the stacks since creation: descriptors in the
	 * low 32 bits, buffers from bit 32 (one fetch_add for both). Carries
	 * out of the low half cancel in (pushed - drained), whose halves
	 * are each below 2^32, so the packing never corrupts a count.
	 */
	_Atomic uint64_t remote_pushed;
};

#define POOL_PACK_HEADS 1ull
#define POOL_PACK_BUFS (1ull << 32)

static inline void owner_add64(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint32_t owner_load32(const _Atomic uint32_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void owner_store32(_Atomic uint32_t *c, uint32_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline bool pool_is_owner(const struct wp_pool *pool)
{
	return pthread_equal(pthread_self(), pool->owner);
}

static inline struct pool_shinfo *pool_shinfo(const struct wp_pool *pool,
					      const uint8_t *buf)
{
	return (struct pool_shinfo *)(void *)(buf + pool->shinfo_off);
}

static inline struct pool_head *skb_to_head(struct wp_skb *skb)
{
	return wp_container_of(skb, struct pool_head, skb);
}

/* True if buf is the start of one of this pool's buffers. */
static bool pool_owns_buf(const struct wp_pool *pool, const void *buf)
{
	uintptr_t p = (uintptr_t)buf;

	for (uint32_t i = 0; i < pool->nchunks; i++) {
		const struct pool_chunk *c = &pool->chunks[i];
		uint64_t off;

		if (p < c->bufs_lo || p >= c->bufs_hi)
			continue;
		off = p - c->bufs_lo;
		if (off & ((1ull << pool->stride_shift) - 1))
			return false;
		return (off >> pool->stride_shift) * pool->stride_inv <=
		       pool->stride_lim;
	}
	return false;
}

/*
 * Owner: take both return stacks whole. Each exchange is preceded by a
 * plain load so an empty stack costs no locked instruction. Acquire pairs
 * with the pushers' release: their writes to the objects (and the dataref
 * reset) happen before we hand the objects out again.
 */
static void pool_drain_remote(struct wp_pool *pool)
{
	uint32_t nb = owner_load32(&pool->nbuf_free);
	uint32_t nh = owner_load32(&pool->nhead_free);
	uint64_t took = 0, bufs = 0;

	if (atomic_load_explicit(&pool->rheads, memory_order_relaxed)) {
		struct pool_head *h = atomic_exchange_explicit(
			&pool->rheads, NULL, memory_order_acquire);

		while (h) {
			struct pool_head *next =
				(struct pool_head *)(void *)h->skb.next;

			assert(nh < pool->heads_total);
			if (h->skb.head) {
				assert(nb < pool->bufs_total);
				pool->buf_cache[nb++] = h->skb.head;
				bufs++;
			}
			pool->head_cache[nh++] = h;
			took += POOL_PACK_HEADS;
			h = next;
		}
	}
	if (atomic_load_explicit(&pool->rbufs, memory_order_relaxed)) {
		struct pool_shinfo *s = atomic_exchange_explicit(
			&pool->rbufs, NULL, memory_order_acquire);

		while (s) {
			assert(nb < pool->bufs_total);
			pool->buf_cache[nb++] = (uint8_t *)s - pool->shinfo_off;
			bufs++;
			s = s->next;
		}
	}
	if (!took && !bufs)
		return;
	owner_store32(&pool->nbuf_free, nb);
	owner_store32(&pool->nhead_free, nh);
	owner_add64(&pool->remote_drained, bufs);
	/* Release: a stats reader that sees this sees the pushes it counts. */
	atomic_store_explicit(&pool->drained_packed,
			      atomic_load_explicit(&pool->drained_packed,
						   memory_order_relaxed) +
				      took + bufs * POOL_PACK_BUFS,
			      memory_order_release);
}

static inline void *buf_pop(struct wp_pool *pool)
{
	uint32_t n = owner_load32(&pool->nbuf_free);

	if (wp_unlikely(n == 0)) {
		pool_drain_remote(pool);
		n = owner_load32(&pool->nbuf_free);
		if (n == 0)
			return NULL;
	}
	owner_store32(&pool->nbuf_free, n - 1);
	return pool->buf_cache[n - 1];
}

static inline struct pool_head *head_pop(struct wp_pool *pool)
{
	uint32_t n = owner_load32(&pool->nhead_free);

	if (wp_unlikely(n == 0)) {
		pool_drain_remote(pool);
		n = owner_load32(&pool->nhead_free);
		if (n == 0)
			return NULL;
	}
	owner_store32(&pool->nhead_free, n - 1);
	return pool->head_cache[n - 1];
}

/*
 * Owner. The caches hold every object the pool has, so only a double
 * free can fill one: the assert turns that into an abort instead of a
 * write past the array (one compare on a line we already hold).
 */
static inline void buf_push(struct wp_pool *pool, void *buf)
{
	uint32_t n = owner_load32(&pool->nbuf_free);

	assert(n < pool->bufs_total);
	pool->buf_cache[n] = buf;
	owner_store32(&pool->nbuf_free, n + 1);
}

static inline void head_push(struct wp_pool *pool, struct pool_head *h)
{
	uint32_t n = owner_load32(&pool->nhead_free);

	assert(n < pool->heads_total);
	pool->head_cache[n] = h;
	owner_store32(&pool->nhead_free, n + 1);
}

/*
 * Another thread returns a descriptor, with its buffer in skb.head when
 * this release was the buffer's last. The count goes up before the push
 * so that pushed - drained never goes below zero for a reader.
 */
static void remote_push_head(struct wp_pool *pool, struct pool_head *h,
			     bool with_buf)
{
	struct pool_head *top;

	atomic_fetch_add_explicit(&pool->remote_pushed,
				  POOL_PACK_HEADS +
					  (with_buf ? POOL_PACK_BUFS : 0),
				  memory_order_relaxed);
	top = atomic_load_explicit(&pool->rheads, memory_order_relaxed);
	do {
		h->skb.next = (struct wp_skb *)(void *)top;
	} while (!atomic_compare_exchange_weak_explicit(&pool->rheads, &top, h,
							memory_order_release,
							memory_order_relaxed));
}

static void remote_push_buf(struct wp_pool *pool, void *buf)
{
	struct pool_shinfo *s = pool_shinfo(pool, buf), *top;

	atomic_fetch_add_explicit(&pool->remote_pushed, POOL_PACK_BUFS,
				  memory_order_relaxed);
	top = atomic_load_explicit(&pool->rbufs, memory_order_relaxed);
	do {
		s->next = top;
	} while (!atomic_compare_exchange_weak_explicit(&pool->rbufs, &top, s,
							memory_order_release,
							memory_order_relaxed));
}

/* --- creation and growth ---------------------------------------------- */

static void chunk_free(struct pool_chunk *c)
{
	if (!c->ext)
		free(c->bufs);
	free(c->heads);
	free(c->stamps);
}

/* The modular inverse of an odd d mod 2^64: Newton, 3 -> 96 bits. */
static uint64_t inverse_odd(uint64_t d)
{
	uint64_t x = d;

	for (int i = 0; i < 5; i++)
		x *= 2 - d * x;
	return x;
}

/*
 * Allocate everything a chunk of nbufs buffers and nheads descriptors
 * needs (including caches big enough for the new totals), then commit.
 * On failure nothing has changed. The buffers are written once here so
 * their pages are faulted in on the control path, not on the first DMA.
 * ext: the buffers are the caller's, starting at ext (only each shared
 * info is written: the rest may hold what the caller put there).
 */
static int pool_add_chunk_at(struct wp_pool *pool, uint32_t nbufs,
			     uint32_t nheads, uint8_t *ext)
{
	struct pool_chunk c = { 0 }, *chunks = NULL;
	void **bcache = NULL;
	struct pool_head **hcache = NULL;
	uint32_t bt, ht, nb, nh;
	size_t bytes;

	if (nbufs > UINT32_MAX - pool->bufs_total ||
	    nheads > UINT32_MAX - pool->heads_total ||
	    nbufs > SIZE_MAX / pool->buf_stride)
		return -ENOMEM;
	bt = pool->bufs_total + nbufs;
	ht = pool->heads_total + nheads;
	bytes = (size_t)nbufs * pool->buf_stride;

	/* Biggest first: an impossible size fails before we take the rest. */
	c.ext = ext != NULL;
	if (c.ext)
		c.bufs = ext;
	else if (posix_memalign((void **)&c.bufs, WP_CACHELINE, bytes))
		return -ENOMEM;
	if (posix_memalign((void **)&c.heads, WP_CACHELINE,
			   (size_t)nheads * sizeof(*c.heads)))
		c.heads = NULL;
	if (!c.heads)
		goto out_free;
	c.stamps = malloc((size_t)nheads * sizeof(*c.stamps));
	bcache = malloc((size_t)bt * sizeof(*bcache));
	hcache = malloc((size_t)ht * sizeof(*hcache));
	chunks = malloc((pool->nchunks + 1) * sizeof(*chunks));
	if (!c.stamps || !bcache || !hcache || !chunks)
		goto out_free;

	c.nbufs = nbufs;
	c.nheads = nheads;
	c.bufs_lo = (uintptr_t)c.bufs;
	c.bufs_hi = c.bufs_lo + bytes;
	if (!c.ext)
		memset(c.bufs, 0, bytes);
	memset(c.heads, 0, (size_t)nheads * sizeof(*c.heads));
	/* Written too: calloc's untouched pages would fault (and be
	 * zeroed) under the first sampled packet, in the driver poll. */
	memset(c.stamps, 0, (size_t)nheads * sizeof(*c.stamps));

	/* Commit: nothing below can fail. */
	nb = owner_load32(&pool->nbuf_free);
	nh = owner_load32(&pool->nhead_free);
	if (nb)
		memcpy(bcache, pool->buf_cache, nb * sizeof(*bcache));
	if (nh)
		memcpy(hcache, pool->head_cache, nh * sizeof(*hcache));
	/* Pushed in reverse: the lowest addresses go out first. */
	for (uint32_t i = nbufs; i-- > 0;) {
		uint8_t *buf = c.bufs + (size_t)i * pool->buf_stride;

		atomic_init(&pool_shinfo(pool, buf)->dataref, 1);
		bcache[nb++] = buf;
	}
	for (uint32_t i = nheads; i-- > 0;) {
		c.heads[i].stamps_slot = &c.stamps[i];
		hcache[nh++] = &c.heads[i];
	}
	if (pool->nchunks)
		memcpy(chunks, pool->chunks, pool->nchunks * sizeof(*chunks));
	chunks[pool->nchunks] = c;

	free(pool->buf_cache);
	free(pool->head_cache);
	free(pool->chunks);
	pool->buf_cache = bcache;
	pool->head_cache = hcache;
	pool->chunks = chunks;
	pool->nchunks++;
	pool->bufs_total = bt;
	pool->heads_total = ht;
	owner_store32(&pool->nbuf_free, nb);
	owner_store32(&pool->nhead_free, nh);
	return 0;

out_free:
	free(chunks);
	free(hcache);
	free(bcache);
	chunk_free(&c);
	return -ENOMEM;
}

static int pool_add_chunk(struct wp_pool *pool, uint32_t nbufs, uint32_t nheads)
{
	return pool_add_chunk_at(pool, nbufs, nheads, NULL);
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Descriptors for nbufs buffers: as configured, or a quarter more. */
static int pool_nheads(const struct wp_pool_config *cfg, uint32_t *nheads)
{
	*nheads = cfg->nheads;
	if (*nheads)
		return 0;
	if (cfg->nbufs > UINT32_MAX - cfg->nbufs / 4)
		return -EINVAL;
	*nheads = cfg->nbufs + cfg->nbufs / 4;
	return 0;
}

/*
 * The pool with its geometry and no chunk yet. stride must be a multiple
 * of the cache line (shared infos are line aligned).
 */
static struct wp_pool *pool_new(const struct wp_pool_config *cfg,
				uint32_t buf_size, int32_t shinfo_off,
				uint32_t stride)
{
	struct wp_pool *pool;
	uint64_t odd;

	if (posix_memalign((void **)&pool, WP_CACHELINE, sizeof(*pool)))
		return NULL;
	memset(pool, 0, sizeof(*pool));
	atomic_init(&pool->rheads, NULL);
	atomic_init(&pool->rbufs, NULL);
	pool->owner = pthread_self();
	pool->buf_size = buf_size;
	pool->shinfo_off = shinfo_off;
	pool->buf_stride = stride;
	pool->stride_shift = (unsigned)__builtin_ctz(pool->buf_stride);
	odd = pool->buf_stride >> pool->stride_shift;
	pool->stride_inv = inverse_odd(odd);
	pool->stride_lim = UINT64_MAX / odd;
	snprintf(pool->name, sizeof(pool->name), "%s",
		 cfg->name ? cfg->name : "");
	return pool;
}

struct wp_pool *wp_pool_create(const struct wp_pool_config *cfg)
{
	struct wp_pool *pool;
	uint32_t buf_size, nheads, shinfo_off;
	int ret;

	if (!cfg || cfg->nbufs == 0) {
		errno = EINVAL;
		return NULL;
	}
	buf_size = cfg->buf_size ? cfg->buf_size : WP_POOL_BUF_SIZE;
	if (buf_size < WP_POOL_BUF_SIZE_MIN ||
	    buf_size > WP_POOL_BUF_SIZE_MAX || pool_nheads(cfg, &nheads)) {
		errno = EINVAL;
		return NULL;
	}
	shinfo_off = align_up(buf_size, WP_CACHELINE);
	pool = pool_new(cfg, buf_size, (int32_t)shinfo_off,
			shinfo_off + WP_CACHELINE);
	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
	ret = pool_add_chunk(pool, cfg->nbufs, nheads);
	if (ret) {
		free(pool);
		errno = -ret;
		return NULL;
	}
	return pool;
}

struct wp_pool *wp_pool_create_ext(const struct wp_pool_config *cfg, void *mem,
				   size_t len)
{
	uint32_t frame, nheads;
	struct wp_pool *pool;
	int ret;

	if (!cfg || cfg->nbufs == 0 || !mem ||
	    ((uintptr_t)mem & (WP_CACHELINE - 1))) {
		errno = EINVAL;
		return NULL;
	}
	frame = cfg->buf_size;
	if (frame < WP_POOL_EXT_FRAME_MIN || frame > WP_POOL_EXT_FRAME_MAX ||
	    (frame & (frame - 1)) || len / frame < cfg->nbufs ||
	    pool_nheads(cfg, &nheads)) {
		errno = EINVAL;
		return NULL;
	}
	/* The shared info is the frame's first line: the kernel writes from
	 * XDP_PACKET_HEADROOM on, never before. */
	pool = pool_new(cfg, frame - WP_POOL_EXT_BUF_OFFSET,
			-WP_POOL_EXT_BUF_OFFSET, frame);
	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
	pool->ext = true;
	ret = pool_add_chunk_at(pool, cfg->nbufs, nheads,
				(uint8_t *)mem + WP_POOL_EXT_BUF_OFFSET);
	if (ret) {
		free(pool);
		errno = -ret;
		return NULL;
	}
	return pool;
}

void wp_pool_destroy(struct wp_pool *pool)
{
	if (!pool)
		return;
	for (uint32_t i = 0; i < pool->nchunks; i++)
		chunk_free(&pool->chunks[i]);
	free(pool->chunks);
	free(pool->buf_cache);
	free(pool->head_cache);
	free(pool);
}

void wp_pool_set_owner(struct wp_pool *pool)
{
	pool->owner = pthread_self();
}

void wp_pool_set_owner_thread(struct wp_pool *pool, pthread_t thread)
{
	pool->owner = thread;
}

int wp_pool_grow(struct wp_pool *pool, uint32_t nbufs)
{
	if (nbufs == 0)
		return 0;
	if (pool->ext)
		return -ENOMEM;
	if (nbufs > UINT32_MAX - nbufs / 4)
		return -ENOMEM;
	return pool_add_chunk(pool, nbufs, nbufs + nbufs / 4);
}

uint32_t wp_pool_buf_size(const struct wp_pool *pool)
{
	return pool->buf_size;
}

/* --- raw buffers -------------------------------------------------------- */

void *wp_pool_get_buf(struct wp_pool *pool)
{
	void *buf = buf_pop(pool);

	if (wp_unlikely(!buf)) {
		owner_add64(&pool->alloc_fail, 1);
		return NULL;
	}
	owner_add64(&pool->alloc, 1);
	return buf;
}

uint32_t wp_pool_get_bufs(struct wp_pool *pool, void **bufs, uint32_t n)
{
	uint32_t avail = owner_load32(&pool->nbuf_free), got;

	if (avail < n) {
		pool_drain_remote(pool);
		avail = owner_load32(&pool->nbuf_free);
	}
	got = avail < n ? avail : n;
	for (uint32_t i = 0; i < got; i++)
		bufs[i] = pool->buf_cache[avail - 1 - i];
	owner_store32(&pool->nbuf_free, avail - got);
	owner_add64(&pool->alloc, got);
	if (got < n)
		owner_add64(&pool->alloc_fail, 1);
	return got;
}

void wp_pool_put_buf(struct wp_pool *pool, void *buf)
{
	if (!buf)
		return;
	assert(pool_owns_buf(pool, buf));
	if (pool_is_owner(pool)) {
		buf_push(pool, buf);
		owner_add64(&pool->recycle, 1);
	} else {
		remote_push_buf(pool, buf);
	}
}

/* --- skb lifetime ------------------------------------------------------- */

/*
 * Everything a fresh descriptor needs: every field is written, so nothing
 * of the previous life leaks into the next one. Field by field rather
 * than Linux's memset: for ~150 bytes compilers emit `rep stos`, whose
 * start-up cost alone is several times that of these stores.
 */
static inline struct wp_skb *skb_init(struct wp_pool *pool, struct pool_head *h,
				      uint8_t *buf, uint32_t headroom,
				      uint32_t len)
{
	struct wp_skb *skb = &h->skb;

	skb->next = NULL;
	skb->prev = NULL;
	skb->head = buf;
	skb->data = buf + headroom;
	skb->tail = headroom + len;
	skb->end = pool->buf_size;
	skb->len = len;
	skb->mac_header = WP_SKB_OFFSET_UNSET;
	skb->network_header = WP_SKB_OFFSET_UNSET;
	skb->transport_header = WP_SKB_OFFSET_UNSET;
	skb->protocol = 0;
	skb->hash = 0;
	skb->queue_mapping = 0;
	skb->pkt_type = 0;
	skb->l4_hash = 0;
	skb->csum_valid = 0;
	skb->cloned = 0;
	skb->gso_size = 0;
	skb->gso_segs = 0;
	atomic_store_explicit(&skb->users, 1, memory_order_relaxed);
	skb->tstamp = 0;
	skb->pool = pool;
	skb->stamps = NULL;
	skb->sk = NULL;
	skb->frag_list = NULL;
	skb->data_len = 0;
	skb->frag_truesize = 0;
	memset(skb->cb, 0, sizeof(skb->cb));
	return skb;
}

/* A field added to struct wp_skb must be initialised in skb_init(). */
_Static_assert(sizeof(struct wp_skb) == 168, "update skb_init()");

struct wp_skb *wp_build_skb(struct wp_pool *pool, void *buf, uint32_t headroom,
			    uint32_t len)
{
	struct pool_head *h;

	if (wp_unlikely(headroom > pool->buf_size ||
			len > pool->buf_size - headroom ||
			!pool_owns_buf(pool, buf))) {
		errno = EINVAL;
		return NULL;
	}
	h = head_pop(pool);
	if (wp_unlikely(!h)) {
		owner_add64(&pool->alloc_fail, 1);
		errno = ENOMEM;
		return NULL;
	}
	return skb_init(pool, h, buf, headroom, len);
}

struct wp_skb *wp_alloc_skb(struct wp_pool *pool, uint32_t size)
{
	struct pool_head *h;
	void *buf;

	if (size > pool->buf_size - WP_SKB_HEADROOM) {
		errno = EMSGSIZE;
		return NULL;
	}
	buf = buf_pop(pool);
	if (wp_unlikely(!buf))
		goto out_fail;
	h = head_pop(pool);
	if (wp_unlikely(!h)) {
		buf_push(pool, buf);
		goto out_fail;
	}
	owner_add64(&pool->alloc, 1);
	return skb_init(pool, h, buf, WP_SKB_HEADROOM, 0);

out_fail:
	owner_add64(&pool->alloc_fail, 1);
	errno = ENOMEM;
	return NULL;
}

struct wp_skb *wp_skb_clone(struct wp_skb *skb)
{
	struct wp_pool *pool = skb->pool;
	struct pool_head *h;
	struct wp_skb *n;

	if (wp_unlikely(skb->frag_list)) {
		errno = EINVAL;
		return NULL;
	}
	h = head_pop(pool);
	if (wp_unlikely(!h)) {
		owner_add64(&pool->alloc_fail, 1);
		errno = ENOMEM;
		return NULL;
	}
	/* We hold a reference: the count cannot reach 0 under us. */
	atomic_fetch_add_explicit(&pool_shinfo(pool, skb->head)->dataref, 1,
				  memory_order_relaxed);
	n = &h->skb;
	memcpy(n, skb, sizeof(*n));
	n->next = NULL;
	n->prev = NULL;
	n->sk = NULL; /* as Linux: a clone belongs to no socket */
	atomic_store_explicit(&n->users, 1, memory_order_relaxed);
	n->cloned = 1;
	skb->cloned = 1;
	if (skb->stamps) {
		n->stamps = h->stamps_slot;
		memcpy(n->stamps, skb->stamps, sizeof(*n->stamps));
	}
	return n;
}

bool wp_skb_cloned(const struct wp_skb *skb)
{
	return skb->cloned &&
	       atomic_load_explicit(&pool_shinfo(skb->pool, skb->head)->dataref,
				    memory_order_relaxed) != 1;
}

/*
 * Drop one descriptor reference (Linux skb_unref): a plain load when we
 * hold the only one, which is almost always. Acquire so that whatever
 * another holder did before its release happens before we recycle.
 */
static inline bool skb_unref(struct wp_skb *skb)
{
	if (wp_likely(atomic_load_explicit(&skb->users, memory_order_acquire) ==
		      1))
		return true;
	return atomic_fetch_sub_explicit(&skb->users, 1,
					 memory_order_acq_rel) == 1;
}

/* The last descriptor reference is gone: release the data, recycle. */
static void skb_free(struct wp_skb *skb)
{
	struct wp_pool *pool = skb->pool;
	struct pool_head *h = skb_to_head(skb);
	uint8_t *buf = skb->head;

	/* A sampled packet's journey ends here: file its record first. */
	if (wp_unlikely(skb->stamps && skb->stamps->done))
		skb->stamps->done(skb);
	/* A GRO chain: each skb of it holds one reference, ours. */
	if (wp_unlikely(skb->frag_list)) {
		struct wp_skb *f = skb->frag_list;

		skb->frag_list = NULL;
		while (f) {
			struct wp_skb *next = f->next;

			f->next = NULL;
			wp_consume_skb(f);
			f = next;
		}
	}
	if (skb->cloned) {
		struct pool_shinfo *sh = pool_shinfo(pool, buf);

		/* Acq_rel: the last releaser sees every clone's accesses. */
		if (atomic_fetch_sub_explicit(&sh->dataref, 1,
					      memory_order_acq_rel) != 1)
			buf = NULL;
		else
			atomic_store_explicit(&sh->dataref, 1,
					      memory_order_relaxed);
	}
	if (wp_likely(pool_is_owner(pool))) {
		if (buf) {
			buf_push(pool, buf);
			owner_add64(&pool->recycle, 1);
		}
		head_push(pool, h);
		return;
	}
	skb->head = buf;
	remote_push_head(pool, h, buf != NULL);
}

void wp_consume_skb(struct wp_skb *skb)
{
	if (!skb || !skb_unref(skb))
		return;
	skb_free(skb);
}

void wp_kfree_skb_reason(struct wp_skb *skb, enum wp_drop_reason reason)
{
	if (!skb)
		return;
	wp_drop_count(reason);
	if (wp_unlikely(skb->stamps)) {
		skb->stamps->dropped = true;
		skb->stamps->drop_reason = (uint16_t)reason;
	}
	if (!skb_unref(skb))
		return;
	skb_free(skb);
}

int wp_skb_stamp_enable(struct wp_skb *skb)
{
	struct pool_head *h = skb_to_head(skb);

	if (skb->stamps)
		return 0;
	memset(h->stamps_slot, 0, sizeof(*h->stamps_slot));
	skb->stamps = h->stamps_slot;
	return 0;
}

/* --- stats -------------------------------------------------------------- */

/*
 * Objects on the return stacks, packed (see remote_pushed). Drained is
 * read first, with acquire: every push it counts was counted in
 * remote_pushed before, so the difference cannot go negative.
 */
static uint64_t pool_remote_pending(const struct wp_pool *pool)
{
	uint64_t drained = atomic_load_explicit(&pool->drained_packed,
						memory_order_acquire);

	return atomic_load_explicit(&pool->remote_pushed,
				    memory_order_relaxed) -
	       drained;
}

/*
 * Exact when the owner and remote freers are quiet. While they run, the
 * cache counts are read before the stacks, so an object moving from a
 * stack to a cache in between is missed, never counted twice.
 */
void wp_pool_get_stats(const struct wp_pool *pool, struct wp_pool_stats *st)
{
	uint32_t nbuf_free = owner_load32(&pool->nbuf_free);
	uint32_t nhead_free = owner_load32(&pool->nhead_free);
	uint64_t drained_bufs = atomic_load_explicit(&pool->remote_drained,
						     memory_order_relaxed);
	uint64_t pending = pool_remote_pending(pool);
	uint32_t pending_bufs = (uint32_t)(pending >> 32);

	st->alloc = atomic_load_explicit(&pool->alloc, memory_order_relaxed);
	st->recycle =
		atomic_load_explicit(&pool->recycle, memory_order_relaxed);
	st->remote_free = drained_bufs + pending_bufs;
	st->alloc_fail =
		atomic_load_explicit(&pool->alloc_fail, memory_order_relaxed);
	st->bufs_total = pool->bufs_total;
	st->bufs_free = nbuf_free + pending_bufs;
	st->heads_total = pool->heads_total;
	st->heads_free = nhead_free + (uint32_t)pending;
}

bool wp_pool_is_whole(const struct wp_pool *pool)
{
	struct wp_pool_stats st;

	wp_pool_get_stats(pool, &st);
	return st.bufs_free == st.bufs_total && st.heads_free == st.heads_total;
}
