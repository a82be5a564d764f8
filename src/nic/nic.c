// SPDX-License-Identifier: MIT
/*
 * The NIC model: configuration, creation and teardown, and stopping and
 * starting a queue pair (what ethtool ops and ifdown/ifup build on).
 * RX is in rx.c, TX in tx.c, the ethtool ops in ethtool.c.
 */
#include "nic/nic_priv.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

void wp_nic_config_default(struct wp_nic_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "wp0";
	cfg->nqueues = 1;
	cfg->rx_ring_size = WP_RING_DEFAULT;
	cfg->tx_ring_size = WP_RING_DEFAULT;
	cfg->mtu = WP_MTU_DEFAULT;
	/* locally administered, unicast */
	memcpy(cfg->mac,
	       (const uint8_t[6]){ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }, 6);
	wp_coalesce_params_default(&cfg->coalesce);
	cfg->pool_bufs = 0;
}

static bool ring_size_ok(uint32_t n)
{
	return n >= WP_RING_MIN && n <= WP_RING_MAX && wp_is_power_of_2(n);
}

int wp_nic_config_validate(const struct wp_nic_config *cfg)
{
	if (!cfg || !cfg->name || cfg->name[0] == '\0' ||
	    strlen(cfg->name) >= sizeof(((struct wp_nic *)0)->name))
		return -EINVAL;
	if (cfg->nqueues == 0 || cfg->nqueues > WP_NIC_MAX_QUEUES)
		return -EINVAL;
	if (!ring_size_ok(cfg->rx_ring_size) ||
	    !ring_size_ok(cfg->tx_ring_size))
		return -EINVAL;
	if (cfg->mtu < WP_MTU_MIN || cfg->mtu > WP_MTU_MAX)
		return -EINVAL;
	if (wp_coalesce_validate(&cfg->coalesce))
		return -EINVAL;
	/* Every RX descriptor gets a buffer at creation. */
	if (cfg->pool_bufs && cfg->pool_bufs < cfg->rx_ring_size)
		return -EINVAL;
	return 0;
}

/* Data room per buffer: headroom plus the largest frame (tagged, at MTU),
 * rounded up to 1 KiB; never below the 2 KiB default. */
static uint32_t nic_buf_size(uint32_t mtu)
{
	uint32_t need = WP_SKB_HEADROOM + mtu + WP_ETH_HLEN + WP_ETH_VLAN_HLEN;

	need = (need + 1023) & ~1023u;
	return need < WP_POOL_BUF_SIZE ? WP_POOL_BUF_SIZE : need;
}

static uint32_t nic_pool_target(const struct wp_nic_config *cfg)
{
	return cfg->pool_bufs ? cfg->pool_bufs
			      : 2 * cfg->rx_ring_size + cfg->tx_ring_size;
}

static struct wp_cpu *queue_cpu(const struct wp_nic *nic, uint16_t q)
{
	return nic->cpus[q % nic->ncpus];
}

/* --- pool ownership ------------------------------------------------------
 *
 * A queue's pool has one owner, the only thread that allocates from it
 * and the one whose frees go straight to its free lists: the queue's core
 * thread once that runs, the control thread before. The control path
 * touches a pool's free lists (refill, grow) only when no core thread
 * runs for the queue, or when it is that thread: a running core thread
 * may be freeing an skb from this pool at any moment (a socket closed by
 * a timer), even with the queue's NAPI disabled. Otherwise it only gives
 * buffers back (wp_pool_put_buf is safe from any thread) and leaves the
 * refill, and any growth, to the queue's next poll.
 *
 * The poll claims the pool when it runs on a thread the pool was not
 * handed to (a core thread started after the NIC was created): nothing
 * from the pool has been handed up yet, so nothing is being freed into it.
 */
static bool pool_here(const struct wp_nic *nic, uint16_t q)
{
	struct wp_cpu *cpu = queue_cpu(nic, q);

	return !atomic_load_explicit(&cpu->threaded, memory_order_acquire) ||
	       pthread_equal(cpu->thread, pthread_self());
}

void wp__nic_pool_take(struct wp_rx_queue *rxq)
{
	wp_pool_set_owner(rxq->pool);
	rxq->pool_owner = pthread_self();
}

void wp__nic_pool_give_back(struct wp_nic *nic, struct wp_rx_queue *rxq)
{
	struct wp_cpu *cpu = queue_cpu(nic, rxq->index);

	if (atomic_load_explicit(&cpu->threaded, memory_order_acquire)) {
		wp_pool_set_owner_thread(rxq->pool, cpu->thread);
		rxq->pool_owner = cpu->thread;
	}
}

/* Fill a stopped queue's ring now if this thread may, else leave it to
 * the first poll after the restart (see pool ownership). */
static void queue_refill(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = &nic->rxq[q];

	if (!pool_here(nic, q))
		return;
	wp__nic_pool_take(rxq);
	wp__nic_rx_fill(rxq);
	wp__nic_pool_give_back(nic, rxq);
}

/* --- rings ---------------------------------------------------------------- */

struct ring_set {
	struct wp_rx_desc *rx;
	void **bufs;
	struct wp_tx_desc *tx;
	struct wp_skb **skbs;
};

static void *cache_alloc(size_t n, size_t size)
{
	size_t bytes =
		(n * size + WP_CACHELINE - 1) & ~(size_t)(WP_CACHELINE - 1);
	void *p = aligned_alloc(WP_CACHELINE, bytes);

	if (p)
		memset(p, 0, bytes);
	return p;
}

static void ring_set_free(struct ring_set *r)
{
	free(r->rx);
	free(r->bufs);
	free(r->tx);
	free(r->skbs);
	memset(r, 0, sizeof(*r));
}

static int ring_set_alloc(struct ring_set *r, uint32_t rx, uint32_t tx)
{
	memset(r, 0, sizeof(*r));
	r->rx = cache_alloc(rx, sizeof(*r->rx));
	r->bufs = calloc(rx, sizeof(*r->bufs));
	r->tx = cache_alloc(tx, sizeof(*r->tx));
	r->skbs = calloc(tx, sizeof(*r->skbs));
	if (!r->rx || !r->bufs || !r->tx || !r->skbs) {
		ring_set_free(r);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < rx; i++)
		atomic_init(&r->rx[i].status, 0);
	for (uint32_t i = 0; i < tx; i++)
		atomic_init(&r->tx[i].status, 0);
	return 0;
}

/* Install rings in a stopped (or new) queue pair; returns the old ones. */
static void ring_set_swap(struct wp_rx_queue *rxq, struct wp_tx_queue *txq,
			  struct ring_set *r, uint32_t rx, uint32_t tx)
{
	struct ring_set old = { rxq->ring, rxq->bufs, txq->ring, txq->skbs };

	rxq->ring = r->rx;
	rxq->bufs = r->bufs;
	rxq->size = rx;
	rxq->mask = rx - 1;
	txq->ring = r->tx;
	txq->skbs = r->skbs;
	txq->size = tx;
	txq->mask = tx - 1;
	*r = old;
}

/* --- stop and start ---------------------------------------------------- */

/*
 * Stop a queue pair. Order matters: down first, so the firmware and xmit
 * back off (and count); then wait for any of them already inside; then
 * NAPI (which may unmask the vector as it completes); then the vector.
 */
void wp__nic_queue_stop(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = &nic->rxq[q];
	struct wp_tx_queue *txq = &nic->txq[q];
	unsigned int spins = 0;

	atomic_store_explicit(&rxq->up, false, memory_order_seq_cst);
	atomic_store_explicit(&txq->up, false, memory_order_seq_cst);
	while (atomic_load_explicit(&rxq->fw_busy, memory_order_seq_cst) ||
	       atomic_load_explicit(&txq->fw_busy, memory_order_seq_cst) ||
	       atomic_load_explicit(&txq->drv_busy, memory_order_seq_cst)) {
		if (++spins < 64)
			wp_cpu_relax();
		else
			sched_yield();
	}
	wp_napi_disable(&rxq->napi);
	wp_irq_mask(rxq->irq);
}

/* A ring that restarts short of buffers gets a poll at once to fill it. */
void wp__nic_queue_start(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = &nic->rxq[q];
	struct wp_tx_queue *txq = &nic->txq[q];
	/* Read while NAPI is still off: the indices are the poll's after. */
	bool short_of_bufs = rxq->next_to_use - rxq->next_to_clean < rxq->size;

	atomic_store_explicit(&txq->up, true, memory_order_seq_cst);
	atomic_store_explicit(&rxq->up, true, memory_order_seq_cst);
	wp_napi_enable(&rxq->napi);
	wp_irq_unmask(rxq->irq);
	if (short_of_bufs)
		wp_irq_raise(rxq->irq);
}

/* --- create and destroy ------------------------------------------------ */

static int queue_init(struct wp_nic *nic, uint16_t q)
{
	const struct wp_nic_config *cfg = &nic->cfg;
	struct wp_rx_queue *rxq = &nic->rxq[q];
	struct wp_tx_queue *txq = &nic->txq[q];
	struct wp_cpu *cpu = queue_cpu(nic, q);
	struct wp_pool_config pcfg = { 0 };
	struct ring_set r;
	char name[32];

	rxq->nic = nic;
	rxq->index = q;
	txq->nic = nic;
	txq->index = q;
	atomic_init(&rxq->rdh, 0);
	atomic_init(&rxq->rdt, 0);
	atomic_init(&rxq->fw_busy, false);
	atomic_init(&rxq->coal_req, 0);
	atomic_init(&rxq->up, false);
	atomic_init(&txq->tdh, 0);
	atomic_init(&txq->tdt, 0);
	atomic_init(&txq->fw_busy, false);
	atomic_init(&txq->drv_busy, false);
	atomic_init(&txq->up, false);
	wp_coalesce_init(&rxq->coal, &cfg->coalesce);
	rxq->coal_deadline = WP_TIME_NEVER;

	if (ring_set_alloc(&r, cfg->rx_ring_size, cfg->tx_ring_size))
		return -ENOMEM;
	ring_set_swap(rxq, txq, &r, cfg->rx_ring_size, cfg->tx_ring_size);

	snprintf(name, sizeof(name), "%s-rx-%u", nic->name, q);
	pcfg.name = name;
	pcfg.nbufs = nic_pool_target(cfg);
	pcfg.buf_size = nic_buf_size(cfg->mtu);
	rxq->pool = wp_pool_create(&pcfg);
	if (!rxq->pool)
		return -errno;
	rxq->pool_owner = pthread_self();
	wp__nic_rx_fill(rxq);

	wp_netif_napi_add(cpu, &rxq->napi, wp_nic_napi_poll, 0);
	rxq->napi.priv = rxq;
	rxq->napi.rx_handler = nic->rx_handler;
	rxq->napi.rx_ctx = nic->rx_ctx;
	wp_napi_set_gro(&rxq->napi, __atomic_load_n(&nic->gro, __ATOMIC_RELAXED));

	snprintf(name, sizeof(name), "%s-TxRx-%u", nic->name, q);
	rxq->irq = wp_request_irq(nic->irqs, name, wp__nic_irq, rxq);
	if (!rxq->irq)
		return -ENOSPC;
	/* request_irq spreads by vector id; a queue's vector belongs with
	 * its NAPI, on cpus[q % ncpus]. */
	wp_irq_set_affinity(rxq->irq, cpu);

	/* Handed over last: from here on only the core thread allocates. */
	wp__nic_pool_give_back(nic, rxq);
	atomic_store_explicit(&txq->up, true, memory_order_seq_cst);
	atomic_store_explicit(&rxq->up, true, memory_order_seq_cst);
	return 0;
}

static void queue_fini(struct wp_nic *nic, uint16_t q)
{
	struct wp_rx_queue *rxq = &nic->rxq[q];
	struct wp_tx_queue *txq = &nic->txq[q];
	struct ring_set r = { 0 };

	if (rxq->irq) {
		wp_free_irq(rxq->irq);
		rxq->irq = NULL;
	}
	if (rxq->napi.poll) {
		wp_netif_napi_del(&rxq->napi);
		rxq->napi.poll = NULL;
	}
	if (rxq->ring)
		wp__nic_rx_reset(rxq, false, wp_clock_now(nic->clock));
	if (txq->ring)
		wp__nic_tx_reset(txq);
	ring_set_swap(rxq, txq, &r, 0, 0);
	ring_set_free(&r);
	if (rxq->pool) {
		if (wp_pool_is_whole(rxq->pool)) {
			wp_pool_destroy(rxq->pool);
		} else {
			/* Freed memory under an skb someone still holds is
			 * worse than a leak: say so and keep it. */
			fprintf(stderr,
				"wirepath: %s: rx queue %u pool not whole at "
				"destroy (skbs still held); leaking it\n",
				nic->name, q);
		}
		rxq->pool = NULL;
	}
}

struct wp_nic *wp_nic_create(const struct wp_nic_config *cfg,
			     struct wp_clock *clock, struct wp_irq_table *irqs,
			     struct wp_cpu **cpus, uint32_t ncpus,
			     wp_rx_handler_t rx_handler, void *rx_ctx)
{
	size_t bytes = (sizeof(struct wp_nic) + WP_CACHELINE - 1) &
		       ~(size_t)(WP_CACHELINE - 1);
	struct wp_nic *nic;
	uint16_t q;
	int err;

	if (wp_nic_config_validate(cfg) || !clock || !irqs || !cpus ||
	    ncpus == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (uint32_t c = 0; c < ncpus; c++) {
		if (!cpus[c]) {
			errno = EINVAL;
			return NULL;
		}
	}
	/* Queues hold cache-line aligned registers. */
	nic = aligned_alloc(WP_CACHELINE, bytes);
	if (!nic) {
		errno = ENOMEM;
		return NULL;
	}
	memset(nic, 0, bytes);
	nic->cfg = *cfg;
	snprintf(nic->name, sizeof(nic->name), "%s", cfg->name);
	nic->cfg.name = nic->name;
	nic->clock = clock;
	nic->irqs = irqs;
	nic->cpus = cpus;
	nic->ncpus = ncpus;
	nic->rx_handler = rx_handler;
	nic->rx_ctx = rx_ctx;
	nic->gro = true; /* NETIF_F_GRO: on, as Linux's default */
	wp_rss_init(&nic->rss, cfg->nqueues);

	for (q = 0; q < cfg->nqueues; q++) {
		err = queue_init(nic, q);
		if (err)
			goto out_fini;
	}
	__atomic_store_n(&nic->nqueues, cfg->nqueues, __ATOMIC_RELEASE);
	return nic;

out_fini:
	/* Queues before q are complete and up; q is partly built, not up. */
	for (uint16_t i = 0; i < q; i++)
		wp__nic_queue_stop(nic, i);
	for (uint16_t i = 0; i <= q; i++)
		queue_fini(nic, i);
	free(nic);
	errno = -err;
	return NULL;
}

void wp_nic_destroy(struct wp_nic *nic)
{
	if (!nic)
		return;
	wp_nic_down(nic);
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++)
		queue_fini(nic, q);
	free(nic);
}

/* --- ifdown / ifup -------------------------------------------------------- */

void wp_nic_down(struct wp_nic *nic)
{
	uint16_t active;
	uint64_t now;

	if (!nic || nic->down)
		return;
	active = wp__nic_active(nic);
	now = wp_clock_now(nic->clock);
	for (uint16_t q = 0; q < active; q++)
		wp__nic_queue_stop(nic, q);
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++) {
		wp__nic_rx_reset(&nic->rxq[q], false, now);
		wp__nic_tx_reset(&nic->txq[q]);
	}
	nic->down = true;
}

int wp_nic_up(struct wp_nic *nic)
{
	uint16_t active;

	if (!nic)
		return -EINVAL;
	if (!nic->down)
		return 0;
	active = wp__nic_active(nic);
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++)
		queue_refill(nic, q);
	nic->down = false;
	for (uint16_t q = 0; q < active; q++)
		wp__nic_queue_start(nic, q);
	return 0;
}

/* --- a pool from the backend --------------------------------------------- */

int wp_nic_set_rx_pool(struct wp_nic *nic, uint16_t q, struct wp_pool *pool,
		       struct wp_pool **old)
{
	struct wp_rx_queue *rxq;
	bool running;

	if (!nic || q >= nic->cfg.nqueues || !pool || !old)
		return -EINVAL;
	if (wp_pool_buf_size(pool) < WP_SKB_HEADROOM + nic->cfg.mtu +
					     WP_ETH_HLEN + WP_ETH_VLAN_HLEN)
		return -EINVAL;
	/* The refill below allocates: only where no core thread may be
	 * using either pool (see pool ownership). */
	if (!pool_here(nic, q))
		return -EBUSY;
	rxq = &nic->rxq[q];
	running = !nic->down && q < wp__nic_active(nic);
	if (running)
		wp__nic_queue_stop(nic, q);
	wp__nic_pool_take(rxq);
	wp__nic_rx_reset(rxq, false, wp_clock_now(nic->clock));
	wp__nic_tx_reset(&nic->txq[q]);
	*old = rxq->pool;
	rxq->pool = pool;
	rxq->grow_pending = 0;
	wp__nic_pool_take(rxq);
	/* A parked queue (-L) keeps a full ring, as set_channels leaves it;
	 * a NIC that is down fills its rings when it comes up. */
	if (!nic->down)
		wp__nic_rx_fill(rxq);
	wp__nic_pool_give_back(nic, rxq);
	if (running)
		wp__nic_queue_start(nic, q);
	return 0;
}

/* --- ring resize (ethtool -G) ------------------------------------------- */

/*
 * Everything that can fail is done before anything changes: new rings
 * are allocated up front and pools grown while the old rings are still
 * in place, so -ENOMEM leaves the old sizes running. (A pool whose core
 * thread runs grows at its next poll instead; a failure there shows as
 * alloc_rx_buff_failed and a ring the pool cannot fill.) The queues are
 * stopped together, as igb_set_ringparam takes the whole device down.
 */
int wp__nic_resize(struct wp_nic *nic, uint32_t rx, uint32_t tx)
{
	struct ring_set r[WP_NIC_MAX_QUEUES];
	struct wp_nic_config next = nic->cfg;
	uint16_t n = nic->cfg.nqueues, active = wp__nic_active(nic);
	uint64_t now;
	int err = 0;
	uint16_t q;

	memset(r, 0, sizeof(r));
	for (q = 0; q < n; q++) {
		if (ring_set_alloc(&r[q], rx, tx)) {
			err = -ENOMEM;
			goto out_free;
		}
	}
	/* An explicit pool size keeps its slack over the ring. */
	if (next.pool_bufs && rx > next.rx_ring_size)
		next.pool_bufs += rx - next.rx_ring_size;
	next.rx_ring_size = rx;
	next.tx_ring_size = tx;

	if (!nic->down) {
		for (q = 0; q < active; q++)
			wp__nic_queue_stop(nic, q);
	}
	now = wp_clock_now(nic->clock);
	for (q = 0; q < n && !err; q++) {
		struct wp_rx_queue *rxq = &nic->rxq[q];
		uint32_t target = nic_pool_target(&next);
		bool here = pool_here(nic, q);
		struct wp_pool_stats st;

		if (here)
			wp__nic_pool_take(rxq);
		wp__nic_rx_reset(rxq, false, now);
		wp__nic_tx_reset(&nic->txq[q]);
		wp_pool_get_stats(rxq->pool, &st);
		if (st.bufs_total >= target)
			continue;
		if (!here)
			rxq->grow_pending = target - st.bufs_total;
		else if (wp_pool_grow(rxq->pool, target - st.bufs_total))
			err = -ENOMEM;
	}
	if (!err) {
		for (q = 0; q < n; q++)
			ring_set_swap(&nic->rxq[q], &nic->txq[q], &r[q], rx,
				      tx);
		nic->cfg.rx_ring_size = rx;
		nic->cfg.tx_ring_size = tx;
		nic->cfg.pool_bufs = next.pool_bufs;
	}
	/* Queues whose reset was skipped by a failed grow still hold
	 * their buffers; the refill only adds what is missing. */
	for (q = 0; q < n && !nic->down; q++)
		queue_refill(nic, q);
	if (!nic->down) {
		for (q = 0; q < active; q++)
			wp__nic_queue_start(nic, q);
	}
out_free:
	for (q = 0; q < n; q++)
		ring_set_free(&r[q]);
	return err;
}
