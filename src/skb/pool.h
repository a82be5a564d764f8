/* SPDX-License-Identifier: MIT */
/*
 * Buffer pools (Linux page_pool): fixed-size data buffers and skb
 * descriptors, allocated once at creation and recycled forever after.
 * The fast path never calls malloc.
 *
 * A buffer is `buf_size` bytes of data room followed by its shared info
 * (data reference count for clones). RX descriptors point at buffers;
 * wp_build_skb() wraps a filled buffer in a descriptor without copying.
 *
 * Threads: allocation happens only on the pool's owner thread (the core
 * thread that runs the queue's NAPI; wp_pool_set_owner). Frees may come
 * from any thread: the owner returns to a LIFO cache directly, other
 * threads (applications releasing a zero-copy receive, or an skb read
 * from a socket queue) push onto a lock-free return stack that the owner
 * drains in one exchange when its cache runs dry (no ABA: only the owner
 * pops, and it takes the whole stack).
 */
#ifndef WP_SKB_POOL_H
#define WP_SKB_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "skb/skb.h"

#define WP_SKB_HEADROOM 128      /* NET_SKB_PAD-like room for pushes */
#define WP_POOL_BUF_SIZE 2048    /* default data room per buffer */
/* Data room limits: room for the headroom and a minimal frame; header
 * offsets are 16 bits with 0xffff meaning unset, so the room stays below. */
#define WP_POOL_BUF_SIZE_MIN (WP_SKB_HEADROOM + 64)
#define WP_POOL_BUF_SIZE_MAX (64 * 1024 - 64)

struct wp_pool_config {
	const char *name;     /* for stats; copied */
	uint32_t nbufs;       /* data buffers, > 0 */
	uint32_t buf_size;    /* data room per buffer; 0 means WP_POOL_BUF_SIZE */
	uint32_t nheads;      /* skb descriptors; 0 means nbufs + nbufs / 4 */
};

struct wp_pool_stats {
	uint64_t alloc;        /* buffers handed out */
	uint64_t recycle;      /* buffers returned on the owner thread */
	uint64_t remote_free;  /* buffers returned from another thread */
	uint64_t alloc_fail;   /* empty pool on allocation */
	uint32_t bufs_total, bufs_free;
	uint32_t heads_total, heads_free;
};

/*
 * NULL with errno (EINVAL, ENOMEM) on failure: EINVAL for nbufs == 0 or a
 * buf_size outside [WP_POOL_BUF_SIZE_MIN, WP_POOL_BUF_SIZE_MAX]. All the
 * memory is allocated (and touched) here. The caller becomes owner.
 */
struct wp_pool *wp_pool_create(const struct wp_pool_config *cfg);

/*
 * External memory (an AF_XDP UMEM): a pool whose buffers are frames of
 * memory the caller owns, so a frame the kernel wrote becomes an skb
 * without a copy. Each frame of `frame_size` bytes is laid out as
 *
 *   0                 64                128          256            frame_size
 *   | shared info     | unused          | headroom   | data ...          |
 *                                       ^ buffer     ^ WP_POOL_EXT_HEADROOM
 *
 * The buffer (what RX descriptors point at, skb->head) starts
 * WP_POOL_EXT_BUF_OFFSET into its frame, so WP_SKB_HEADROOM later the
 * data begins at XDP_PACKET_HEADROOM, where the kernel writes a frame;
 * the data room runs to the frame's end, exactly what the kernel may
 * fill. The shared info sits in the first line, which the kernel never
 * writes (it is the XDP headroom). Buffer i is frame i: the buffer at
 * mem + i * frame_size + WP_POOL_EXT_BUF_OFFSET.
 */
#define WP_POOL_EXT_HEADROOM 256 /* XDP_PACKET_HEADROOM */
#define WP_POOL_EXT_BUF_OFFSET (WP_POOL_EXT_HEADROOM - WP_SKB_HEADROOM)
#define WP_POOL_EXT_FRAME_MIN 2048
#define WP_POOL_EXT_FRAME_MAX 65536

/*
 * Create a pool over cfg->nbufs frames at mem. cfg->buf_size is the frame
 * size here: a power of two in [WP_POOL_EXT_FRAME_MIN,
 * WP_POOL_EXT_FRAME_MAX]; wp_pool_buf_size() then answers
 * frame_size - WP_POOL_EXT_BUF_OFFSET. mem must be aligned to a cache line
 * and nbufs frames must fit in len. Descriptors are allocated as for
 * wp_pool_create(). The memory stays the caller's: wp_pool_destroy() does
 * not free it, and it must outlive the pool. Such a pool cannot grow
 * (wp_pool_grow: -ENOMEM). NULL with errno EINVAL or ENOMEM.
 */
struct wp_pool *wp_pool_create_ext(const struct wp_pool_config *cfg, void *mem,
				   size_t len);

/* Frees the memory. Buffers still out are leaked to the caller's fault:
 * tests call wp_pool_is_whole() first. NULL: no-op. */
void wp_pool_destroy(struct wp_pool *pool);

/*
 * Make the calling thread the owner (the only thread that allocates:
 * buffers, skbs, clones). Ownership moves only while no thread uses the
 * pool's fast path: the owner field is read unlocked by every free.
 */
void wp_pool_set_owner(struct wp_pool *pool);
/* Hand ownership to a given thread (a core thread, after a control-path
 * refill done while its queue was stopped). */
void wp_pool_set_owner_thread(struct wp_pool *pool, pthread_t thread);

/*
 * Control path only, owner quiesced (queue stopped): add n buffers and
 * n + n/4 descriptors in a new chunk, e.g. before a ring grows
 * (ethtool -G). 0 or -ENOMEM (nothing changes; always for an external
 * pool, whose memory is fixed).
 */
int wp_pool_grow(struct wp_pool *pool, uint32_t nbufs);

uint32_t wp_pool_buf_size(const struct wp_pool *pool);

/*
 * A raw data buffer (buf_size bytes) for an RX descriptor; NULL if empty
 * (alloc_fail counted). Owner thread only. When the owner's cache is
 * empty, the buffers other threads returned are taken back first.
 */
void *wp_pool_get_buf(struct wp_pool *pool);

/* Burst: up to n buffers into bufs; returns how many. Owner only; a short
 * burst counts one alloc_fail. */
uint32_t wp_pool_get_bufs(struct wp_pool *pool, void **bufs, uint32_t n);

/* Return a raw buffer that never became an skb (ring teardown). Any
 * thread. NULL: no-op. */
void wp_pool_put_buf(struct wp_pool *pool, void *buf);

/*
 * build_skb: wrap a buffer from this pool whose bytes
 * [headroom, headroom + len) hold a frame. No copy. Consumes the buffer
 * on success; on failure returns NULL and the buffer still belongs to
 * the caller: errno ENOMEM (no descriptor left, alloc_fail counted) or
 * EINVAL (headroom + len > buf_size, or buf is not the start of one of
 * this pool's buffers). Owner thread only. Header offsets start unset.
 */
struct wp_skb *wp_build_skb(struct wp_pool *pool, void *buf,
			    uint32_t headroom, uint32_t len);

/*
 * alloc_skb for transmit: an empty skb with WP_SKB_HEADROOM reserved and
 * at least `size` bytes of tailroom. NULL (errno ENOMEM or EMSGSIZE if
 * size > buf_size - WP_SKB_HEADROOM). Owner thread only.
 */
struct wp_skb *wp_alloc_skb(struct wp_pool *pool, uint32_t size);

/* Any thread. Exact when the pool is quiet; while the owner and remote
 * freers run, the free counts may briefly miss objects in transit. */
void wp_pool_get_stats(const struct wp_pool *pool, struct wp_pool_stats *st);

/* Every buffer and descriptor is back (includes the return stack).
 * Meaningful once every thread that frees into the pool is done. */
bool wp_pool_is_whole(const struct wp_pool *pool);

#endif
