/* SPDX-License-Identifier: MIT */
/*
 * struct wp_skb: the packet descriptor (Linux's struct sk_buff).
 *
 * An skb is metadata, not the packet. The bytes live in a pool buffer:
 *
 *   head                data              tail              end
 *    |<--- headroom ---->|<----- len ------>|<-- tailroom -->|[shinfo]
 *
 * Layers strip headers with wp_skb_pull() and prepend them with
 * wp_skb_push(): pointer arithmetic on one allocation, never a memcpy.
 * `tail` and `end` are offsets from `head`, as on 64-bit Linux.
 *
 * Ownership: a function that takes an skb says whether it consumes or
 * borrows it. Two ways to let go of one: wp_consume_skb() (normal end of
 * life: delivered, transmitted) and wp_kfree_skb_reason() (a drop: counted
 * under its reason). Both accept NULL and do nothing.
 *
 * Editing operations either succeed or leave the skb untouched.
 *
 * Clones share the data buffer (refcounted in the buffer's shinfo); a
 * cloned skb's data must be treated as read-only (Linux skb_cloned()).
 *
 * Chains (Linux's frag_list): GRO merges segments into one skb whose own
 * buffer holds the first frame, headers included, and whose frag_list
 * holds the skbs of the segments that follow, each pulled to its payload.
 * len counts every byte, data_len those in the chain; the linear part,
 * wp_skb_headlen(), is what data points at. Header pulls and pushes work
 * on the linear part only; wp_pskb_pull() and wp_skb_trim() cut into the
 * chain, wp_skb_copy_bits() reads across it, and freeing the head frees
 * the chain. Every skb in a chain comes from the head's pool.
 */
#ifndef WP_SKB_SKB_H
#define WP_SKB_SKB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/drop.h"

struct wp_pool;

#define WP_SKB_OFFSET_UNSET 0xffffu

/* Per-stage timestamps of a sampled packet (filled only when skb->stamps). */
enum wp_stamp {
	WP_STAMP_DMA,          /* firmware wrote the descriptor, set DD */
	WP_STAMP_IRQ,          /* top half ran */
	WP_STAMP_NAPI_POLL,    /* driver poll picked the descriptor */
	WP_STAMP_SKB_BUILT,    /* wp_build_skb */
	WP_STAMP_GRO,          /* GRO decided (merged or flushed) */
	WP_STAMP_NETIF_RX,     /* wp_netif_receive_skb */
	WP_STAMP_IP_RCV,       /* wp_ip_rcv */
	WP_STAMP_L4_RCV,       /* wp_udp_rcv / wp_tcp_v4_rcv */
	WP_STAMP_SOCK_LOOKUP,  /* socket found */
	WP_STAMP_QUEUED,       /* on sk_receive_queue */
	WP_STAMP_DATA_READY,   /* sk_data_ready ran its wake functions */
	WP_STAMP_READ,         /* copied out at the syscall boundary */
	WP_STAMP__MAX
};

struct wp_skb;

struct wp_skb_stamps {
	uint64_t ns[WP_STAMP__MAX]; /* 0: stage not reached */
	uint32_t wake_kind;         /* which wake function ran (sock layer) */
	uint16_t drop_reason;       /* set by wp_kfree_skb_reason */
	bool dropped;               /* let go by wp_kfree_skb_reason */
	/*
	 * The sampler's (src/trace): called once, on the thread that drops
	 * the last reference, before the descriptor is recycled, so the
	 * record can be filed. NULL: nothing is filed. A clone copies the
	 * stamps, done and priv included: each copy files its own record.
	 */
	void (*done)(struct wp_skb *skb);
	void *done_ctx;
	_Alignas(8) uint8_t priv[48]; /* the sampler's description */
};

struct wp_skb {
	/* sk_buff_head linkage: valid only while on a queue or list. */
	struct wp_skb *next;
	struct wp_skb *prev;

	uint8_t *head;
	uint8_t *data;
	uint32_t tail; /* offset from head */
	uint32_t end;  /* offset from head: size of the buffer's data room */
	uint32_t len;

	uint16_t mac_header;       /* offsets from head, or WP_SKB_OFFSET_UNSET */
	uint16_t network_header;
	uint16_t transport_header;
	uint16_t protocol;         /* EtherType, host order */

	uint32_t hash;             /* RSS hash from the RX descriptor */
	uint16_t queue_mapping;    /* RX queue it arrived on */
	uint8_t pkt_type;          /* host, broadcast, multicast, otherhost */
	uint8_t l4_hash : 1;       /* hash covers ports */
	uint8_t csum_valid : 1;    /* checksum already verified */
	uint8_t cloned : 1;        /* data shared with another skb */
	uint16_t gso_size;         /* GRO: payload of each merged segment */
	uint16_t gso_segs;         /* GRO: segments merged in; 0: not merged */

	_Atomic uint32_t users;    /* refcount of this descriptor (skb_get) */
	uint64_t tstamp;           /* arrival time, ns, clock of the stack */
	struct wp_pool *pool;      /* where head and buffer return */
	struct wp_skb_stamps *stamps; /* non-NULL when sampled for tracing */
	void *sk;                  /* owning socket, if any */

	/* Chain (Linux skb_shinfo(skb)->frag_list): see the top. */
	struct wp_skb *frag_list;  /* linked by next; NULL: linear */
	uint32_t data_len;         /* bytes of len held in frag_list */
	uint32_t frag_truesize;    /* wp_skb_truesize() of the chain's skbs */

	/* Control buffer: private to the layer that holds the skb (Linux cb). */
	_Alignas(8) uint8_t cb[48];
};

/* --- geometry -------------------------------------------------------- */

static inline uint8_t *wp_skb_tail_pointer(const struct wp_skb *skb)
{
	return skb->head + skb->tail;
}

static inline uint8_t *wp_skb_end_pointer(const struct wp_skb *skb)
{
	return skb->head + skb->end;
}

static inline uint32_t wp_skb_headroom(const struct wp_skb *skb)
{
	return (uint32_t)(skb->data - skb->head);
}

static inline uint32_t wp_skb_tailroom(const struct wp_skb *skb)
{
	return skb->end - skb->tail;
}

/* Bytes in the skb's own buffer (Linux skb_headlen). */
static inline uint32_t wp_skb_headlen(const struct wp_skb *skb)
{
	return skb->len - skb->data_len;
}

static inline bool wp_skb_is_nonlinear(const struct wp_skb *skb)
{
	return skb->data_len != 0 || skb->frag_list != NULL;
}

/*
 * Memory an skb holds, charged to the socket that queues it (Linux
 * skb->truesize): the whole data room plus the descriptor, for it and for
 * every skb of its chain. skb->end never changes while the skb is queued;
 * the chain's part changes only when wp_skb_trim() or wp_pskb_pull()
 * frees skbs of it, which callers that charged the skb account for.
 */
static inline uint32_t wp_skb_truesize(const struct wp_skb *skb)
{
	return skb->end + (uint32_t)sizeof(struct wp_skb) + skb->frag_truesize;
}

/* --- editing: each succeeds or leaves the skb untouched --------------- */

/*
 * Reserve headroom in an empty skb (len == 0): moves data and tail.
 * Returns 0, or -EINVAL if not empty, -ENOSPC if there is no room.
 */
int wp_skb_reserve(struct wp_skb *skb, uint32_t len);

/* Extend the data at the tail; returns the old tail, or NULL if no room. */
uint8_t *wp_skb_put(struct wp_skb *skb, uint32_t len);

/* Prepend len bytes into headroom; returns the new data, or NULL. */
uint8_t *wp_skb_push(struct wp_skb *skb, uint32_t len);

/*
 * Pull and the trim of a linear skb are inline, as Linux's __skb_pull
 * is: a bounds check and two stores that every layer of the receive path
 * makes, where a call across libraries would cost more than the work.
 */

/*
 * Strip len bytes from the front of the linear part (headers); returns
 * the new data, or NULL if len > wp_skb_headlen(skb).
 */
static inline uint8_t *wp_skb_pull(struct wp_skb *skb, uint32_t len)
{
	if (len > wp_skb_headlen(skb))
		return NULL;
	skb->len -= len;
	skb->data += len;
	return skb->data;
}

/* wp_skb_trim of an skb with a chain. */
void wp__skb_trim_chain(struct wp_skb *skb, uint32_t len);

/*
 * Cut the data to len bytes (no-op if already shorter or equal). Into a
 * chain: the skb at the cut is trimmed, the ones after it are freed.
 * Owner thread of the pool (the freed skbs go back to it).
 */
static inline void wp_skb_trim(struct wp_skb *skb, uint32_t len)
{
	if (skb->len <= len)
		return;
	if (wp_unlikely(skb->frag_list)) {
		wp__skb_trim_chain(skb, len);
		return;
	}
	skb->len = len;
	skb->tail = wp_skb_headroom(skb) + len;
}

/*
 * Drop the first len bytes, linear part first, then from the chain:
 * chain skbs left empty are freed (the truesize they held goes from
 * frag_truesize). The same bytes as Linux pskb_pull leaves, without
 * copying any: the linear part may end up empty. 0, or -EINVAL (nothing
 * changes) if len > skb->len.
 */
int wp_pskb_pull(struct wp_skb *skb, uint32_t len);

/*
 * Copy len bytes from offset (from data) to `to`, across the chain
 * (Linux skb_copy_bits). 0, or -EINVAL (nothing copied) if the range
 * passes skb->len. Borrows skb.
 */
int wp_skb_copy_bits(const struct wp_skb *skb, uint32_t offset, void *to,
		     uint32_t len);

/*
 * Append `frag` (consumed) to skb's chain after `last` (skb itself or the
 * chain's last skb, the caller's cursor; NULL: find it). frag must be
 * linear and from skb's pool; its data and len are what it adds.
 */
void wp_skb_chain_append(struct wp_skb *skb, struct wp_skb *last,
			 struct wp_skb *frag);

/* --- header offsets (Linux skb_reset_*_header and friends) ------------ */

static inline void wp_skb_reset_mac_header(struct wp_skb *skb)
{
	skb->mac_header = (uint16_t)(skb->data - skb->head);
}

static inline void wp_skb_reset_network_header(struct wp_skb *skb)
{
	skb->network_header = (uint16_t)(skb->data - skb->head);
}

static inline void wp_skb_reset_transport_header(struct wp_skb *skb)
{
	skb->transport_header = (uint16_t)(skb->data - skb->head);
}

static inline uint8_t *wp_skb_mac_header(const struct wp_skb *skb)
{
	return skb->head + skb->mac_header;
}

static inline uint8_t *wp_skb_network_header(const struct wp_skb *skb)
{
	return skb->head + skb->network_header;
}

static inline uint8_t *wp_skb_transport_header(const struct wp_skb *skb)
{
	return skb->head + skb->transport_header;
}

/* --- lifetime ---------------------------------------------------------- */

/*
 * Take another reference on the descriptor (skb_get). Returns skb.
 * Relaxed as Linux refcount_inc: the caller already holds a reference,
 * so the count cannot be 0 and nothing is published by taking one.
 */
static inline struct wp_skb *wp_skb_get(struct wp_skb *skb)
{
	atomic_fetch_add_explicit(&skb->users, 1, memory_order_relaxed);
	return skb;
}

/*
 * A new descriptor for the same data (skb_clone): the buffer's data
 * reference count goes up, both skbs become `cloned`. The clone starts
 * with users == 1 and the same geometry, header offsets, cb and stamps
 * (its own copy of them); it belongs to no socket (sk == NULL). Takes the
 * descriptor from skb->pool, so it runs on the pool's owner thread.
 * Returns NULL (errno ENOMEM) if the pool has no free descriptor, or
 * (errno EINVAL) for a chained skb: no path clones one (GRO's skbs go to
 * TCP alone), so chains are never shared and their frees stay simple.
 */
struct wp_skb *wp_skb_clone(struct wp_skb *skb);

/* True if the data buffer is shared and must not be written. */
bool wp_skb_cloned(const struct wp_skb *skb);

/*
 * Normal end of life: drop one reference; free on the last (with its
 * chain). NULL: no-op. Any thread: a free away from the pool's owner goes
 * to its return stack.
 */
void wp_consume_skb(struct wp_skb *skb);

/*
 * A drop: counts `reason` (core/drop.h) once per call, then releases the
 * reference as wp_consume_skb does; a sampled skb keeps the reason in its
 * stamps for its trace record. NULL: no-op, nothing counted.
 */
void wp_kfree_skb_reason(struct wp_skb *skb, enum wp_drop_reason reason);

/* --- tracing stamps --------------------------------------------------- */

/*
 * Attach a zeroed stamp record from the pool (sampling). -ENOMEM if none.
 * Each descriptor has its own slot, so this cannot fail today; an skb
 * that already has stamps keeps them. The slot is freed with the skb.
 */
int wp_skb_stamp_enable(struct wp_skb *skb);

static inline void wp_skb_stamp(struct wp_skb *skb, enum wp_stamp stage,
				uint64_t now)
{
	if (skb->stamps)
		skb->stamps->ns[stage] = now;
}

/*
 * --- queues (struct sk_buff_head): a doubly linked list with a length ----
 * Not locked: the owner of the queue serialises. `bytes` adds skb->len at
 * enqueue and subtracts it at unlink, so an skb's len must not change
 * while it is queued. unlink: skb must be on q.
 */

struct wp_skb_queue {
	struct wp_skb *head;
	struct wp_skb *tail;
	uint32_t qlen;
	uint64_t bytes; /* sum of skb->len */
};

static inline void wp_skb_queue_init(struct wp_skb_queue *q)
{
	q->head = NULL;
	q->tail = NULL;
	q->qlen = 0;
	q->bytes = 0;
}

static inline void wp_skb_queue_tail(struct wp_skb_queue *q, struct wp_skb *skb)
{
	skb->next = NULL;
	skb->prev = q->tail;
	if (q->tail)
		q->tail->next = skb;
	else
		q->head = skb;
	q->tail = skb;
	q->qlen++;
	q->bytes += skb->len;
}

static inline void wp_skb_queue_head(struct wp_skb_queue *q, struct wp_skb *skb)
{
	skb->prev = NULL;
	skb->next = q->head;
	if (q->head)
		q->head->prev = skb;
	else
		q->tail = skb;
	q->head = skb;
	q->qlen++;
	q->bytes += skb->len;
}

static inline void wp_skb_unlink(struct wp_skb_queue *q, struct wp_skb *skb)
{
	if (skb->prev)
		skb->prev->next = skb->next;
	else
		q->head = skb->next;
	if (skb->next)
		skb->next->prev = skb->prev;
	else
		q->tail = skb->prev;
	skb->next = NULL;
	skb->prev = NULL;
	q->qlen--;
	q->bytes -= skb->len;
}

static inline struct wp_skb *wp_skb_dequeue(struct wp_skb_queue *q)
{
	struct wp_skb *skb = q->head;

	if (skb)
		wp_skb_unlink(q, skb);
	return skb;
}

/* Drop everything on the queue with `reason` (consume if NOT_SPECIFIED). */
void wp_skb_queue_purge(struct wp_skb_queue *q, enum wp_drop_reason reason);

static inline bool wp_skb_queue_empty(const struct wp_skb_queue *q)
{
	return q->qlen == 0;
}

#endif
