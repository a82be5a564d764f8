/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by nic.c (lifetime, queue stop/start), rx.c, tx.c and
 * ethtool.c. Not part of the NIC's contract.
 */
#ifndef WP_NIC_NIC_PRIV_H
#define WP_NIC_NIC_PRIV_H

#include "nic/nic.h"

/* Descriptors written since the last doorbell before xmit_more is ignored. */
#define WP_NIC_TX_DOORBELL_BATCH 32

/*
 * Counters. Each is read by the control path (ethtool -S) while a worker
 * thread writes it, so every access is a relaxed atomic. A counter with
 * one writer at a time takes a load and a store (plain moves on x86);
 * one that two threads may bump at once (rx missed: firmware and a queue
 * rebuild; tx dropped: xmit and a rebuild) takes a real RMW.
 */
static inline void wp__stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void wp__stat_add_shared(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t wp__stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Active queue count: written by set_channels, read by any thread. */
static inline uint16_t wp__nic_active(const struct wp_nic *nic)
{
	return __atomic_load_n(&nic->nqueues, __ATOMIC_ACQUIRE);
}

/*
 * Worker side of the quiesce handshake (see nic.h): announce, then check
 * the queue is up. seq_cst on both so the control path's up=false / wait
 * for !busy cannot interleave with a worker that saw up == true.
 */
static inline bool wp__enter(_Atomic bool *busy, _Atomic bool *up)
{
	atomic_store_explicit(busy, true, memory_order_seq_cst);
	if (wp_likely(atomic_load_explicit(up, memory_order_seq_cst)))
		return true;
	atomic_store_explicit(busy, false, memory_order_release);
	return false;
}

/* Release orders everything the worker did to the queue before the
 * control path, which acquires busy == false, takes the queue over. */
static inline void wp__leave(_Atomic bool *busy)
{
	atomic_store_explicit(busy, false, memory_order_release);
}

/* The top half of a TxRx vector (rx.c). */
void wp__nic_irq(struct wp_irq_vector *v, void *arg);

/* Control path, queue quiesced: rx.c / tx.c helpers. */
void wp__nic_rx_reset(struct wp_rx_queue *rxq, bool keep_bufs, uint64_t now);
uint32_t wp__nic_rx_fill(struct wp_rx_queue *rxq);
void wp__nic_tx_reset(struct wp_tx_queue *txq);
/* Reclaim sent TX descriptors; driver thread, queue running (tx.c). */
uint32_t wp__nic_tx_clean(struct wp_tx_queue *txq);
/* Rebuild every ring at new sizes (nic.c, for ethtool -G). */
int wp__nic_resize(struct wp_nic *nic, uint32_t rx, uint32_t tx);
/* Firmware: apply a pending ethtool -C request (rx.c). */
void wp__nic_coal_sync(struct wp_rx_queue *rxq);

/* nic.c: stop a queue pair (firmware quiesced, NAPI disabled, vector
 * masked) and start it again. */
void wp__nic_queue_stop(struct wp_nic *nic, uint16_t q);
void wp__nic_queue_start(struct wp_nic *nic, uint16_t q);
/* Make the calling (control) thread the pool's owner for a refill, then
 * hand it back to the queue's core thread if it runs. */
void wp__nic_pool_take(struct wp_rx_queue *rxq);
void wp__nic_pool_give_back(struct wp_nic *nic, struct wp_rx_queue *rxq);

/* ethtool -C packing: one 64-bit word the firmware exchanges atomically. */
static inline uint64_t wp__coal_pack(const struct wp_coalesce_params *p)
{
	return 1ull << 63 | (uint64_t)p->adaptive_rx << 62 |
	       (uint64_t)(p->rx_frames & 0xffff) << 32 | p->rx_usecs;
}

static inline void wp__coal_unpack(uint64_t v, struct wp_coalesce_params *p)
{
	p->rx_usecs = (uint32_t)v;
	p->rx_frames = (uint32_t)(v >> 32) & 0xffff;
	p->adaptive_rx = (v >> 62) & 1;
}

#endif
