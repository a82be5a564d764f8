// SPDX-License-Identifier: MIT
/*
 * TX: the driver's xmit and doorbell (igb_xmit_frame_ring / igb_tx_map),
 * the firmware's send loop, and cleaning (igb_clean_tx_irq).
 *
 * A descriptor points at the skb's data; the skb stays in skbs[slot]
 * until the firmware sets DD on the descriptor, and cleaning frees it.
 * So an skb given to wp_nic_xmit lives exactly until its frame has left.
 */
#include "nic/nic_priv.h"

#include <errno.h>

#include "core/drop.h"
#include "nic/backend/backend.h"

static struct wp_tx_queue *tx_queue(struct wp_nic *nic, uint16_t q)
{
	return nic && q < nic->cfg.nqueues ? &nic->txq[q] : NULL;
}

/* Driver: publish the descriptors written since the last doorbell. */
static void tx_doorbell(struct wp_nic *nic, struct wp_tx_queue *txq)
{
	struct wp_backend *be = nic->backend;

	if (!txq->pending_doorbell)
		return;
	/* Release: addr, len, cmd and the cleared status of every new
	 * descriptor before the firmware sees the tail move. */
	atomic_store_explicit(&txq->tdt, txq->next_to_use,
			      memory_order_release);
	txq->pending_doorbell = 0;
	wp__stat_add(&txq->stats.doorbells, 1);
	if (be && be->ops && be->ops->tx_kick)
		be->ops->tx_kick(be, txq->index);
}

static bool tx_len_ok(const struct wp_nic *nic, const struct wp_skb *skb)
{
	uint32_t max = nic->cfg.mtu + WP_ETH_HLEN;

	if (skb->len < WP_ETH_HLEN)
		return false;
	if (skb->data[12] == 0x81 && skb->data[13] == 0x00)
		max += WP_ETH_VLAN_HLEN;
	return skb->len <= max;
}

static void tx_drop(struct wp_tx_queue *txq, struct wp_skb *skb,
		    enum wp_drop_reason r)
{
	wp__stat_add_shared(&txq->stats.dropped, 1);
	wp_kfree_skb_reason(skb, r);
}

int wp_nic_xmit(struct wp_nic *nic, uint16_t q, struct wp_skb *skb, bool more)
{
	struct wp_tx_queue *txq = tx_queue(nic, q);
	struct wp_tx_desc *d;
	uint32_t slot;

	if (!skb)
		return -EINVAL;
	if (!txq) {
		wp_kfree_skb_reason(skb, WP_DROP_DEV_DOWN);
		return -EINVAL;
	}
	if (!wp__enter(&txq->drv_busy, &txq->up)) {
		tx_drop(txq, skb, WP_DROP_DEV_DOWN);
		return -ENETDOWN;
	}
	if (wp_unlikely(!tx_len_ok(nic, skb))) {
		wp__leave(&txq->drv_busy);
		tx_drop(txq, skb, WP_DROP_TX_LENGTH);
		return -EMSGSIZE;
	}
	if (wp_unlikely(txq->next_to_use - txq->next_to_clean >= txq->size)) {
		/* What is queued must still go out: xmit_more no longer
		 * holds once the queue is full (netif_xmit_stopped). */
		tx_doorbell(nic, txq);
		wp__leave(&txq->drv_busy);
		wp__stat_add(&txq->stats.busy, 1);
		wp_kfree_skb_reason(skb, WP_DROP_TX_RING_FULL);
		return -ENOBUFS;
	}
	slot = txq->next_to_use & txq->mask;
	d = &txq->ring[slot];
	d->addr = (uint64_t)(uintptr_t)skb->data;
	d->len = (uint16_t)skb->len;
	d->cmd = WP_TXD_CMD_EOP | WP_TXD_CMD_RS;
	atomic_store_explicit(&d->status, 0, memory_order_relaxed);
	txq->skbs[slot] = skb;
	if (wp_unlikely(wp_trace_tap_on(nic->trace, WP_TAP_WIRE)))
		wp_trace_tap(wp_trace_cpu(nic->trace,
					  (uint32_t)nic->rxq[q].napi.cpu->id),
			     WP_TAP_WIRE, skb->data, skb->len,
			     wp_clock_now(nic->clock), true);
	txq->next_to_use++;
	txq->pending_doorbell++;
	if (!more || txq->pending_doorbell >= WP_NIC_TX_DOORBELL_BATCH)
		tx_doorbell(nic, txq);
	wp__leave(&txq->drv_busy);
	return 0;
}

void wp_nic_tx_doorbell(struct wp_nic *nic, uint16_t q)
{
	struct wp_tx_queue *txq = tx_queue(nic, q);

	if (!txq || !wp__enter(&txq->drv_busy, &txq->up))
		return;
	tx_doorbell(nic, txq);
	wp__leave(&txq->drv_busy);
}

/*
 * Reclaim descriptors the firmware marked done, oldest first. The acquire
 * on DD pairs with the firmware's release: it has finished reading the
 * skb's data before the skb is freed.
 */
uint32_t wp__nic_tx_clean(struct wp_tx_queue *txq)
{
	uint64_t bytes = 0;
	uint32_t n = 0;

	while (txq->next_to_clean != txq->next_to_use) {
		uint32_t slot = txq->next_to_clean & txq->mask;
		struct wp_tx_desc *d = &txq->ring[slot];
		struct wp_skb *skb;

		if (!(atomic_load_explicit(&d->status, memory_order_acquire) &
		      WP_TXD_STAT_DD))
			break;
		skb = txq->skbs[slot];
		txq->skbs[slot] = NULL;
		bytes += d->len;
		atomic_store_explicit(&d->status, 0, memory_order_relaxed);
		txq->next_to_clean++;
		n++;
		wp_consume_skb(skb);
	}
	if (n) {
		wp__stat_add(&txq->stats.packets, n);
		wp__stat_add(&txq->stats.bytes, bytes);
		wp__stat_add(&txq->stats.cleaned, n);
	}
	return n;
}

uint32_t wp_nic_clean_tx(struct wp_nic *nic, uint16_t q)
{
	struct wp_tx_queue *txq = tx_queue(nic, q);
	uint32_t n;

	if (!txq || !wp__enter(&txq->drv_busy, &txq->up))
		return 0;
	n = wp__nic_tx_clean(txq);
	wp__leave(&txq->drv_busy);
	return n;
}

/*
 * Control path, queue quiesced: empty the ring. Sent frames are reclaimed
 * as a clean would; frames the firmware never took are dropped and
 * counted (tx_dropped), as igb_clean_tx_ring does on ifdown.
 */
void wp__nic_tx_reset(struct wp_tx_queue *txq)
{
	uint32_t sent = 0;
	uint64_t bytes = 0;

	while (txq->next_to_clean != txq->next_to_use) {
		uint32_t slot = txq->next_to_clean & txq->mask;
		struct wp_tx_desc *d = &txq->ring[slot];
		struct wp_skb *skb = txq->skbs[slot];

		txq->skbs[slot] = NULL;
		if (atomic_load_explicit(&d->status, memory_order_acquire) &
		    WP_TXD_STAT_DD) {
			sent++;
			bytes += d->len;
			wp_consume_skb(skb);
		} else {
			tx_drop(txq, skb, WP_DROP_DEV_DOWN);
		}
		atomic_store_explicit(&d->status, 0, memory_order_relaxed);
		txq->next_to_clean++;
	}
	if (sent) {
		wp__stat_add(&txq->stats.packets, sent);
		wp__stat_add(&txq->stats.bytes, bytes);
		wp__stat_add(&txq->stats.cleaned, sent);
	}
	txq->next_to_clean = 0;
	txq->next_to_use = 0;
	txq->pending_doorbell = 0;
	/* fw_open is the firmware's: false whenever fw_busy is. */
	atomic_store_explicit(&txq->tdh, 0, memory_order_relaxed);
	atomic_store_explicit(&txq->tdt, 0, memory_order_relaxed);
}

/* --- firmware side ------------------------------------------------------ */

const struct wp_tx_desc *wp_nic_tx_fw_next(struct wp_nic *nic, uint16_t q)
{
	struct wp_tx_queue *txq = tx_queue(nic, q);
	uint32_t head;

	if (!txq)
		return NULL;
	if (!txq->fw_open) {
		/* TDH is read only once inside: a rebuild resets it. */
		if (!wp__enter(&txq->fw_busy, &txq->up))
			return NULL;
		head = atomic_load_explicit(&txq->tdh, memory_order_relaxed);
		/* Acquire: pairs with the doorbell's release, so the
		 * descriptors below the tail are fully written. */
		if (head ==
		    atomic_load_explicit(&txq->tdt, memory_order_acquire)) {
			wp__leave(&txq->fw_busy);
			return NULL;
		}
		txq->fw_open = true;
	}
	head = atomic_load_explicit(&txq->tdh, memory_order_relaxed);
	return &txq->ring[head & txq->mask];
}

void wp_nic_tx_fw_done(struct wp_nic *nic, uint16_t q)
{
	struct wp_tx_queue *txq = tx_queue(nic, q);
	uint32_t head;

	if (!txq || !txq->fw_open)
		return;
	head = atomic_load_explicit(&txq->tdh, memory_order_relaxed);
	/* Release: the firmware's reads of the frame happen before the
	 * driver may free it. */
	atomic_store_explicit(&txq->ring[head & txq->mask].status,
			      WP_TXD_STAT_DD, memory_order_release);
	atomic_store_explicit(&txq->tdh, head + 1, memory_order_release);
	txq->fw_open = false;
	wp__leave(&txq->fw_busy);
}

void wp_nic_tx_fw_irq(struct wp_nic *nic, uint16_t q)
{
	if (nic && q < nic->cfg.nqueues && nic->rxq[q].irq)
		wp_irq_raise(nic->rxq[q].irq);
}
