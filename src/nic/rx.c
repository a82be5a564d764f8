// SPDX-License-Identifier: MIT
/*
 * RX: the firmware's DMA into descriptor buffers, interrupt moderation,
 * the TxRx top half, and the driver's poll (igb_poll / igb_clean_rx_irq).
 *
 * The descriptor is the only thing the firmware and the driver share, and
 * DD is the hand-over: the firmware writes the buffer, len, hash and
 * tstamp, then stores status with release; the driver loads status with
 * acquire and only then reads the rest. The other way, the driver writes
 * addr and clears status, then publishes RDT with release; the firmware
 * loads RDT with acquire before it touches a descriptor below it.
 */
#include "nic/nic_priv.h"

#include <errno.h>
#include <string.h>

#include "core/drop.h"

/* Buffers taken from the pool per burst when refilling. */
#define RX_REFILL_BURST 32

/* Error bits the firmware may report (WP_RXD_ERR_*: the high byte). */
#define RXD_ERR_MASK 0xff00u

/* --- firmware side ------------------------------------------------------ */

/* Runt, or longer than MTU + Ethernet header (+ one 802.1Q tag). */
static bool frame_len_ok(const struct wp_nic *nic, const uint8_t *frame,
			 uint32_t len)
{
	uint32_t max = nic->cfg.mtu + WP_ETH_HLEN;

	if (len < WP_ETH_HLEN)
		return false;
	if (frame[12] == 0x81 && frame[13] == 0x00)
		max += WP_ETH_VLAN_HLEN;
	return len <= max;
}

static void count_missed(struct wp_rx_queue *rxq, enum wp_drop_reason r)
{
	wp__stat_add_shared(&rxq->stats.missed, 1);
	wp_drop_count(r);
}

static void count_length_error(struct wp_rx_queue *rxq)
{
	wp__stat_add(&rxq->stats.length_errors, 1);
	wp_drop_count(WP_DROP_RX_LENGTH);
}

static bool fw_enter(struct wp_rx_queue *rxq)
{
	return wp__enter(&rxq->fw_busy, &rxq->up);
}

static void fw_leave(struct wp_rx_queue *rxq)
{
	wp__leave(&rxq->fw_busy);
}

/*
 * The next descriptor the NIC owns. RDH is the firmware's own register;
 * the acquire on RDT pairs with the driver's release after a refill, so
 * the descriptor's addr is valid once we see it below the tail.
 */
static bool fw_head(struct wp_rx_queue *rxq, uint32_t *head)
{
	uint32_t h = atomic_load_explicit(&rxq->rdh, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&rxq->rdt, memory_order_acquire);

	*head = h;
	return h != t;
}

static uint8_t *desc_buf(const struct wp_rx_desc *d)
{
	return (uint8_t *)(uintptr_t)d->addr;
}

void wp__nic_coal_sync(struct wp_rx_queue *rxq)
{
	struct wp_coalesce_params p;
	uint64_t req;

	if (wp_likely(!atomic_load_explicit(&rxq->coal_req,
					    memory_order_relaxed)))
		return;
	req = atomic_exchange_explicit(&rxq->coal_req, 0, memory_order_acquire);
	if (!req)
		return;
	wp__coal_unpack(req, &p);
	wp_coalesce_set(&rxq->coal, &p);
	rxq->coal_deadline = wp_coalesce_deadline(&rxq->coal);
}

static void fw_fire(struct wp_rx_queue *rxq, uint64_t now)
{
	wp_coalesce_fired(&rxq->coal, now);
	rxq->coal_deadline = WP_TIME_NEVER;
	wp_irq_raise(rxq->irq);
}

/*
 * Write back the descriptor at `head` (the frame is already in its
 * buffer), hand it to the driver and tell moderation.
 */
static void fw_publish(struct wp_rx_queue *rxq, uint32_t head, uint32_t len,
		       uint32_t hash, uint16_t status, uint64_t now)
{
	struct wp_rx_desc *d = &rxq->ring[head & rxq->mask];

	d->len = (uint16_t)len;
	d->rss_hash = hash;
	d->tstamp = now;
	/* Release: buffer bytes, len, hash and tstamp before DD. */
	atomic_store_explicit(&d->status,
			      status | WP_RXD_STAT_DD | WP_RXD_STAT_EOP,
			      memory_order_release);
	atomic_store_explicit(&rxq->rdh, head + 1, memory_order_release);

	if (wp_coalesce_frame(&rxq->coal, now))
		fw_fire(rxq, now);
	else
		rxq->coal_deadline = wp_coalesce_deadline(&rxq->coal);
}

/*
 * No descriptor for a frame: raise the vector at once, moderation or not
 * (e1000's receiver-overrun cause, ICR.RXO). A driver whose refill came up
 * short (pool empty) has nothing else to wake it when the ring runs dry;
 * masked (a poll is due anyway), this only sets the pending bit.
 */
static void fw_overrun(struct wp_rx_queue *rxq)
{
	wp_irq_raise(rxq->irq);
}

static uint16_t hash_status(uint32_t hash, bool l4)
{
	return (hash ? WP_RXD_STAT_RSS : 0) | (l4 ? WP_RXD_STAT_L4 : 0);
}

int wp_nic_rx_frame(struct wp_nic *nic, const void *frame, uint32_t len,
		    uint64_t now)
{
	const uint8_t *f = frame;
	struct wp_rx_queue *rxq;
	uint32_t hash, head;
	uint16_t q;
	bool l4;

	if (!nic || (!frame && len))
		return -EINVAL;
	hash = wp_rss_hash_frame(&nic->rss, f, len, &l4);
	q = wp_rss_queue(&nic->rss, hash);
	rxq = &nic->rxq[q];
	if (!frame_len_ok(nic, f, len)) {
		count_length_error(rxq);
		return -EMSGSIZE;
	}
	if (rxq->fw_slot_open)
		return -EBUSY; /* firmware bug: a two-phase DMA is open */
	if (!fw_enter(rxq)) {
		count_missed(rxq, WP_DROP_DEV_DOWN);
		return -ENETDOWN;
	}
	wp__nic_coal_sync(rxq);
	if (!fw_head(rxq, &head)) {
		fw_leave(rxq);
		count_missed(rxq, WP_DROP_RING_FULL);
		fw_overrun(rxq);
		return -ENOBUFS;
	}
	/* The DMA: the one copy a received frame costs. */
	memcpy(desc_buf(&rxq->ring[head & rxq->mask]) + WP_SKB_HEADROOM, f,
	       len);
	fw_publish(rxq, head, len, hash, hash_status(hash, l4), now);
	fw_leave(rxq);
	return q;
}

static struct wp_rx_queue *fw_queue(struct wp_nic *nic, uint16_t q)
{
	return nic && q < nic->cfg.nqueues ? &nic->rxq[q] : NULL;
}

void *wp_nic_rx_slot(struct wp_nic *nic, uint16_t q, uint32_t *room)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);
	uint32_t head;

	if (!rxq)
		return NULL;
	if (!rxq->fw_slot_open) {
		if (!fw_enter(rxq))
			return NULL;
		if (!fw_head(rxq, &head)) {
			fw_leave(rxq);
			return NULL;
		}
		rxq->fw_slot_open = true;
	}
	head = atomic_load_explicit(&rxq->rdh, memory_order_relaxed);
	if (room)
		*room = wp_pool_buf_size(rxq->pool) - WP_SKB_HEADROOM;
	return desc_buf(&rxq->ring[head & rxq->mask]) + WP_SKB_HEADROOM;
}

static void fw_slot_close(struct wp_rx_queue *rxq)
{
	rxq->fw_slot_open = false;
	fw_leave(rxq);
}

int wp_nic_rx_commit(struct wp_nic *nic, uint16_t q, uint32_t len,
		     uint32_t hash, uint16_t err_bits, uint64_t now)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);
	uint32_t head, room;
	const uint8_t *buf;
	bool l4 = false;

	if (!rxq || !rxq->fw_slot_open)
		return -EINVAL;
	head = atomic_load_explicit(&rxq->rdh, memory_order_relaxed);
	buf = desc_buf(&rxq->ring[head & rxq->mask]) + WP_SKB_HEADROOM;
	room = wp_pool_buf_size(rxq->pool) - WP_SKB_HEADROOM;
	if (len > room || !frame_len_ok(nic, buf, len)) {
		fw_slot_close(rxq);
		count_length_error(rxq);
		return -EMSGSIZE;
	}
	wp__nic_coal_sync(rxq);
	if (!hash)
		hash = wp_rss_hash_frame(&nic->rss, buf, len, &l4);
	fw_publish(rxq, head, len, hash,
		   hash_status(hash, l4) | (err_bits & RXD_ERR_MASK), now);
	fw_slot_close(rxq);
	return q;
}

/*
 * The slot at RDH is the NIC's: the driver touches neither its addr nor
 * its bufs entry until it sees DD, and the commit's release of DD orders
 * these stores before the driver's acquire. A resize waits for the open
 * slot (fw_busy), so nothing else reads them meanwhile.
 */
void *wp_nic_rx_swap(struct wp_nic *nic, uint16_t q, void *buf)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);
	uint32_t slot;
	void *old;

	if (!rxq || !rxq->fw_slot_open || !buf)
		return NULL;
	slot = atomic_load_explicit(&rxq->rdh, memory_order_relaxed) &
	       rxq->mask;
	old = rxq->bufs[slot];
	rxq->bufs[slot] = buf;
	rxq->ring[slot].addr = (uint64_t)(uintptr_t)buf;
	return old;
}

void wp_nic_rx_abort(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);

	if (rxq && rxq->fw_slot_open)
		fw_slot_close(rxq);
}

void wp_nic_rx_missed(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);

	if (rxq) {
		count_missed(rxq, WP_DROP_RING_FULL);
		fw_overrun(rxq);
	}
}

/*
 * Fire queue rxq's moderation timer if it expired; its next deadline. A
 * queue that is stopped is skipped: its pending frames were discarded
 * with its ring.
 */
static uint64_t coal_tick(struct wp_rx_queue *rxq, uint64_t now)
{
	bool held = rxq->fw_slot_open;

	if (!held && !fw_enter(rxq))
		return WP_TIME_NEVER;
	wp__nic_coal_sync(rxq);
	if (rxq->coal_deadline <= now) {
		if (wp_coalesce_timer(&rxq->coal, now))
			fw_fire(rxq, now);
		else
			rxq->coal_deadline = wp_coalesce_deadline(&rxq->coal);
	}
	if (!held)
		fw_leave(rxq);
	return rxq->coal_deadline;
}

uint64_t wp_nic_coalesce_tick(struct wp_nic *nic, uint64_t now)
{
	uint64_t next = WP_TIME_NEVER;

	if (!nic)
		return next;
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++) {
		uint64_t d = coal_tick(&nic->rxq[q], now);

		if (d < next)
			next = d;
	}
	return next;
}

uint64_t wp_nic_coalesce_tick_queue(struct wp_nic *nic, uint16_t q,
				    uint64_t now)
{
	struct wp_rx_queue *rxq = fw_queue(nic, q);

	return rxq ? coal_tick(rxq, now) : WP_TIME_NEVER;
}

/* --- top half ------------------------------------------------------------ */

/* igb_msix_ring: count, mask, schedule. Everything else is NAPI's. */
void wp__nic_irq(struct wp_irq_vector *v, void *arg)
{
	struct wp_rx_queue *rxq = arg;

	wp__stat_add(&rxq->stats.irqs, 1);
	/* The IRQ stamp of the frames this poll will pick (src/trace). */
	if (wp_unlikely(wp_trace_active(rxq->nic->trace)))
		rxq->irq_ns = wp_clock_now(rxq->nic->clock);
	wp_irq_mask(v);
	wp_napi_schedule(&rxq->napi);
}

/* --- driver side --------------------------------------------------------- */

/*
 * Give the NIC every empty slot from next_to_use on, in order, as far as
 * the pool allows. A slot that still holds its buffer (the frame in it
 * was dropped for want of an skb head) is re-armed as is. Stops at the
 * first slot the pool cannot fill: the NIC owns a prefix, never a hole.
 * The caller publishes RDT. Pool owner only.
 */
static uint32_t rx_refill(struct wp_rx_queue *rxq)
{
	void *cache[RX_REFILL_BURST];
	uint32_t have = 0, used = 0, filled = 0;

	while (rxq->next_to_use - rxq->next_to_clean < rxq->size) {
		uint32_t slot = rxq->next_to_use & rxq->mask;

		if (!rxq->bufs[slot]) {
			if (used == have) {
				uint32_t want =
					rxq->size -
					(rxq->next_to_use - rxq->next_to_clean);

				if (want > RX_REFILL_BURST)
					want = RX_REFILL_BURST;
				have = wp_pool_get_bufs(rxq->pool, cache, want);
				used = 0;
				if (!have) {
					wp__stat_add(&rxq->stats.alloc_failed,
						     1);
					break;
				}
			}
			rxq->bufs[slot] = cache[used++];
		}
		rxq->ring[slot].addr = (uint64_t)(uintptr_t)rxq->bufs[slot];
		rxq->next_to_use++;
		filled++;
	}
	while (used < have)
		wp_pool_put_buf(rxq->pool, cache[used++]);
	return filled;
}

static void rx_write_tail(struct wp_rx_queue *rxq)
{
	/* Release: addr of every refilled descriptor before the NIC may
	 * DMA into it. */
	atomic_store_explicit(&rxq->rdt, rxq->next_to_use,
			      memory_order_release);
}

uint32_t wp__nic_rx_fill(struct wp_rx_queue *rxq)
{
	uint32_t n = rx_refill(rxq);

	rx_write_tail(rxq);
	return n;
}

/*
 * Control path, queue quiesced: take every descriptor back. Frames the
 * driver had not polled are discarded and counted as missed. keep_bufs:
 * the buffers stay, packed at the front of the ring and owned by the NIC
 * again (a queue parked by set_channels restarts without allocating);
 * otherwise they return to the pool.
 */
void wp__nic_rx_reset(struct wp_rx_queue *rxq, bool keep_bufs, uint64_t now)
{
	uint32_t kept = 0, discarded = 0;

	for (uint32_t i = 0; i < rxq->size; i++) {
		struct wp_rx_desc *d = &rxq->ring[i];
		void *buf = rxq->bufs[i];

		if (atomic_load_explicit(&d->status, memory_order_acquire) &
		    WP_RXD_STAT_DD)
			discarded++;
		atomic_store_explicit(&d->status, 0, memory_order_relaxed);
		d->addr = 0;
		rxq->bufs[i] = NULL;
		if (!buf)
			continue;
		if (keep_bufs) {
			rxq->bufs[kept] = buf;
			rxq->ring[kept].addr = (uint64_t)(uintptr_t)buf;
			kept++;
		} else {
			wp_pool_put_buf(rxq->pool, buf);
		}
	}
	if (discarded) {
		wp__stat_add_shared(&rxq->stats.missed, discarded);
		for (uint32_t i = 0; i < discarded; i++)
			wp_drop_count(WP_DROP_DEV_DOWN);
	}
	rxq->next_to_clean = 0;
	rxq->next_to_use = kept;
	atomic_store_explicit(&rxq->rdh, 0, memory_order_relaxed);
	rx_write_tail(rxq);
	if (rxq->coal.frames_pending)
		wp_coalesce_fired(&rxq->coal, now);
	rxq->coal_deadline = WP_TIME_NEVER;
}

/* One DD descriptor: wrap its buffer in an skb and hand it up. True if
 * it went up (not dropped). */
static bool rx_one(struct wp_rx_queue *rxq, struct wp_rx_desc *d, uint32_t slot,
		   uint16_t status, uint64_t *bytes, struct wp_trace_poll *tp)
{
	uint32_t len = d->len;
	struct wp_skb *skb;
	bool sampled = false;

	/* Tracing: the wire tap and the sampler see the frame as DMA'd. */
	if (wp_unlikely(tp->tc))
		sampled = wp_trace_rx_pick(
			tp, (const uint8_t *)rxq->bufs[slot] + WP_SKB_HEADROOM,
			len, d->tstamp);
	skb = wp_build_skb(rxq->pool, rxq->bufs[slot], WP_SKB_HEADROOM, len);
	if (wp_unlikely(!skb)) {
		/* No skb head left: the frame is lost, the buffer stays in
		 * the slot and goes back to the NIC with the refill. */
		wp__stat_add(&rxq->stats.alloc_failed, 1);
		wp_drop_count(WP_DROP_NOMEM);
		return false;
	}
	rxq->bufs[slot] = NULL;
	skb->hash = d->rss_hash;
	skb->l4_hash = (status & WP_RXD_STAT_L4) != 0;
	skb->queue_mapping = rxq->index;
	skb->tstamp = d->tstamp;
	if (wp_unlikely(sampled))
		wp_trace_rx_sampled(tp, skb);
	if (wp_unlikely(status & RXD_ERR_MASK)) {
		wp__stat_add(&rxq->stats.desc_errors, 1);
		wp_kfree_skb_reason(skb, WP_DROP_RX_DESC_ERROR);
		return false;
	}
	*bytes += len;
	wp_napi_gro_receive(&rxq->napi, skb);
	return true;
}

int wp_nic_napi_poll(struct wp_napi *napi, int budget)
{
	struct wp_rx_queue *rxq = napi->priv;
	uint64_t bytes = 0;
	uint32_t delivered = 0;
	struct wp_trace_poll tp;
	int work = 0;

	/* A core thread started after the NIC was built: the pool is ours
	 * from the first poll (nic.c, pool ownership). */
	if (wp_unlikely(!pthread_equal(rxq->pool_owner, pthread_self())))
		wp__nic_pool_take(rxq);
	/* A ring rebuilt while this thread ran: grow here, as the owner. */
	if (wp_unlikely(rxq->grow_pending)) {
		if (wp_pool_grow(rxq->pool, rxq->grow_pending))
			wp__stat_add(&rxq->stats.alloc_failed, 1);
		rxq->grow_pending = 0;
	}
	wp__stat_add(&rxq->stats.polls, 1);

	wp__nic_tx_clean(&rxq->nic->txq[rxq->index]);
	wp_trace_poll_begin(&tp, rxq->nic->trace, (uint32_t)rxq->napi.cpu->id,
			    rxq->index, rxq->irq_ns);

	while (work < budget) {
		uint32_t slot = rxq->next_to_clean & rxq->mask;
		struct wp_rx_desc *d = &rxq->ring[slot];
		/* Acquire: pairs with the firmware's release of DD. */
		uint16_t status =
			atomic_load_explicit(&d->status, memory_order_acquire);

		if (!(status & WP_RXD_STAT_DD))
			break;
		delivered += rx_one(rxq, d, slot, status, &bytes, &tp);
		atomic_store_explicit(&d->status, 0, memory_order_relaxed);
		rxq->next_to_clean++;
		work++;
	}
	if (delivered) {
		wp__stat_add(&rxq->stats.packets, delivered);
		wp__stat_add(&rxq->stats.bytes, bytes);
	}
	/* Also retries slots an earlier poll could not fill. */
	if (rxq->next_to_use - rxq->next_to_clean < rxq->size && rx_refill(rxq))
		rx_write_tail(rxq);

	if (work < budget && wp_napi_complete_done(napi, work))
		wp_irq_unmask(rxq->irq);
	return work;
}

uint32_t wp_nic_rx_pending(const struct wp_nic *nic, uint16_t q)
{
	const struct wp_rx_queue *rxq;

	if (!nic || q >= nic->cfg.nqueues)
		return 0;
	rxq = &nic->rxq[q];
	return atomic_load_explicit(&((struct wp_rx_queue *)rxq)->rdh,
				    memory_order_acquire) -
	       rxq->next_to_clean;
}
