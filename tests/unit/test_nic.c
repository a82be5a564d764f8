// SPDX-License-Identifier: MIT
/*
 * The NIC model, driven from both sides without a backend: the tests play
 * the firmware (wp_nic_rx_*, wp_nic_tx_fw_*, wp_nic_coalesce_tick) and
 * run the core(s) on virtual time with wp_cpu_run_once(), except the last
 * tests, which run real core threads against a real firmware thread.
 * Every test ends with the NIC down and every pool whole.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/drop.h"
#include "core/sysctl.h"
#include "napi/napi.h"
#include "nic/backend/backend.h"
#include "nic/nic.h"

#define NCPUS 2
#define T0 (1000 * WP_NSEC_PER_MSEC)

struct fx {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu[NCPUS];
	struct wp_cpu *cpus[NCPUS];
	struct wp_nic *nic;
	struct wp_pool *txpool; /* skbs the tests transmit */
	struct wp_backend be;
	uint32_t kicks;

	/* what the rx handler saw */
	bool hold; /* keep skbs (exhaust the pool) */
	struct wp_skb_queue held;
	_Atomic uint64_t received;
	uint64_t per_queue[WP_NIC_MAX_QUEUES];
	uint64_t bytes;
	struct wp_skb last; /* copy of the last skb's metadata */
	uint8_t last_data[64];
	bool echo; /* transmit what arrives (threads test) */
};

static struct fx *g_fx;

static void rx_handler(void *ctx, struct wp_napi *napi,
		       struct wp_skb_queue *skbs)
{
	struct fx *fx = ctx;
	struct wp_skb *skb;

	(void)napi;
	while ((skb = wp_skb_dequeue(skbs))) {
		atomic_fetch_add(&fx->received, 1);
		if (fx->echo) {
			wp_nic_xmit(fx->nic, skb->queue_mapping, skb,
				    !wp_skb_queue_empty(skbs));
			continue;
		}
		fx->per_queue[skb->queue_mapping]++;
		fx->bytes += skb->len;
		fx->last = *skb;
		memcpy(fx->last_data, skb->data,
		       skb->len < sizeof(fx->last_data)
			       ? skb->len
			       : sizeof(fx->last_data));
		if (fx->hold)
			wp_skb_queue_tail(&fx->held, skb);
		else
			wp_consume_skb(skb);
	}
}

static void fake_kick(struct wp_backend *be, uint16_t q)
{
	struct fx *fx = be->priv;

	(void)q;
	fx->kicks++;
}

static const struct wp_backend_ops fake_ops = {
	.name = "fake",
	.tx_kick = fake_kick,
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct wp_pool_config pc = { .name = "test-tx", .nbufs = 256 };

	assert_non_null(fx);
	wp_clock_init_virtual(&fx->clock, T0);
	wp_sysctl_init(&fx->sysctl);
	for (int i = 0; i < NCPUS; i++)
		fx->cpus[i] = &fx->cpu[i];
	wp_irq_table_init(&fx->irqs, fx->cpus, NCPUS);
	for (int i = 0; i < NCPUS; i++)
		wp_cpu_init(&fx->cpu[i], i, &fx->clock, &fx->sysctl, &fx->irqs);
	wp_skb_queue_init(&fx->held);
	fx->txpool = wp_pool_create(&pc);
	assert_non_null(fx->txpool);
	fx->be.ops = &fake_ops;
	fx->be.priv = fx;
	g_fx = fx;
	*state = fx;
	return 0;
}

static void assert_pools_whole(const struct wp_nic *nic)
{
	for (uint16_t q = 0; q < nic->cfg.nqueues; q++)
		assert_true(wp_pool_is_whole(nic->rxq[q].pool));
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	for (int i = 0; i < NCPUS; i++)
		wp_cpu_stop(&fx->cpu[i]);
	wp_skb_queue_purge(&fx->held, WP_DROP_NOT_SPECIFIED);
	if (fx->nic) {
		wp_nic_down(fx->nic);
		assert_pools_whole(fx->nic);
		wp_nic_destroy(fx->nic);
	}
	assert_true(wp_pool_is_whole(fx->txpool));
	wp_pool_destroy(fx->txpool);
	for (int i = 0; i < NCPUS; i++)
		wp_cpu_destroy(&fx->cpu[i]);
	free(fx);
	return 0;
}

static void base_cfg(struct wp_nic_config *cfg, uint16_t nq, uint32_t ring)
{
	wp_nic_config_default(cfg);
	cfg->nqueues = nq;
	cfg->rx_ring_size = ring;
	cfg->tx_ring_size = ring;
}

static struct wp_nic *create(struct fx *fx, const struct wp_nic_config *cfg)
{
	fx->nic = wp_nic_create(cfg, &fx->clock, &fx->irqs, fx->cpus, NCPUS,
				rx_handler, fx);
	assert_non_null(fx->nic);
	return fx->nic;
}

/* Run the cores until neither has anything left to do. */
static void run(struct fx *fx)
{
	for (int i = 0; i < 10000; i++) {
		bool did = false;

		for (int c = 0; c < NCPUS; c++)
			did |= wp_cpu_run_once(&fx->cpu[c]);
		if (!did)
			return;
	}
	fail_msg("cores never went idle");
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + UDP from 10.0.0.1:sport to 10.0.0.2:dport, len bytes. */
static uint32_t make_udp(uint8_t *f, uint32_t len, uint16_t sport)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	memset(f, 0, len);
	memcpy(f, mac, 6);
	put_be16(f + 12, 0x0800);
	f[14] = 0x45;
	put_be16(f + 16, (uint16_t)(len - 14));
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, (const uint8_t[4]){ 10, 0, 0, 1 }, 4);
	memcpy(f + 30, (const uint8_t[4]){ 10, 0, 0, 2 }, 4);
	put_be16(f + 34, sport);
	put_be16(f + 36, 9);
	put_be16(f + 38, (uint16_t)(len - 34));
	for (uint32_t i = 42; i < len; i++)
		f[i] = (uint8_t)(i * 7 + sport);
	return len;
}

static uint64_t now_ns(struct fx *fx)
{
	return wp_clock_now(&fx->clock);
}

static uint64_t shared_drops(enum wp_drop_reason r)
{
	struct wp_drop_stats st;

	wp_drop_stats_shared(&st);
	return st.count[r];
}

static struct wp_skb *tx_skb(struct fx *fx, uint32_t len, uint8_t tag)
{
	struct wp_skb *skb = wp_alloc_skb(fx->txpool, len);
	uint8_t *p;

	assert_non_null(skb);
	p = wp_skb_put(skb, len);
	assert_non_null(p);
	memset(p, tag, len);
	if (len >= 14)
		put_be16(p + 12, 0x0800);
	return skb;
}

static void immediate(struct wp_nic *nic)
{
	struct wp_coalesce_params p = { .rx_usecs = 0, .rx_frames = 1 };

	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
}

static void never_fires(struct wp_nic *nic)
{
	struct wp_coalesce_params p = { .rx_usecs = WP_COALESCE_USECS_MAX };

	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
}

/* --- configuration and creation ------------------------------------------ */

static void test_config(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;

	wp_nic_config_default(&cfg);
	assert_int_equal(wp_nic_config_validate(&cfg), 0);
	assert_string_equal(cfg.name, "wp0");
	assert_int_equal(cfg.rx_ring_size, WP_RING_DEFAULT);
	assert_int_equal(cfg.mtu, WP_MTU_DEFAULT);
	assert_int_equal(cfg.coalesce.rx_usecs, 50);

	struct wp_nic_config bad[12];
	for (int i = 0; i < 12; i++)
		bad[i] = cfg;
	bad[0].nqueues = 0;
	bad[1].nqueues = WP_NIC_MAX_QUEUES + 1;
	bad[2].rx_ring_size = 100;
	bad[3].tx_ring_size = 32;
	bad[4].rx_ring_size = 8192;
	bad[5].mtu = 67;
	bad[6].mtu = 9001;
	bad[7].coalesce.rx_usecs = WP_COALESCE_USECS_MAX + 1;
	bad[8].pool_bufs = cfg.rx_ring_size - 1;
	bad[9].name = "a-name-too-long-for-ifnamsiz";
	bad[10].name = "";
	bad[11].name = NULL;
	for (int i = 0; i < 12; i++) {
		assert_int_equal(wp_nic_config_validate(&bad[i]), -EINVAL);
		errno = 0;
		assert_null(wp_nic_create(&bad[i], &fx->clock, &fx->irqs,
					  fx->cpus, NCPUS, rx_handler, fx));
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(wp_nic_config_validate(NULL), -EINVAL);
	assert_null(wp_nic_create(&cfg, NULL, &fx->irqs, fx->cpus, NCPUS,
				  rx_handler, fx));
	assert_null(wp_nic_create(&cfg, &fx->clock, &fx->irqs, fx->cpus, 0,
				  rx_handler, fx));
	/* Nothing was left behind by the refusals. */
	assert_int_equal(fx->irqs.nvec, 0);

	/* Jumbo MTU: buffers big enough for a tagged 9000-byte frame. */
	cfg.mtu = WP_MTU_MAX;
	cfg.rx_ring_size = 64;
	cfg.tx_ring_size = 64;
	nic = create(fx, &cfg);
	assert_true(wp_pool_buf_size(nic->rxq[0].pool) >=
		    WP_SKB_HEADROOM + WP_MTU_MAX + 18);
}

static void test_create_layout(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;

	base_cfg(&cfg, 3, 64);
	nic = create(fx, &cfg);
	assert_int_equal(nic->nqueues, 3);
	assert_int_equal(fx->irqs.nvec, 3);
	for (uint16_t q = 0; q < 3; q++) {
		struct wp_rx_queue *rxq = &nic->rxq[q];
		char name[32];

		/* Every descriptor has a buffer; the NIC owns all of them. */
		for (uint32_t i = 0; i < rxq->size; i++) {
			assert_non_null(rxq->bufs[i]);
			assert_int_equal(rxq->ring[i].addr,
					 (uintptr_t)rxq->bufs[i]);
			assert_int_equal(rxq->ring[i].status, 0);
		}
		assert_int_equal(atomic_load(&rxq->rdh), 0);
		assert_int_equal(atomic_load(&rxq->rdt), 64);
		assert_int_equal(wp_nic_rx_pending(nic, q), 0);
		/* igb's vector names; vector and NAPI on cpus[q % ncpus]. */
		snprintf(name, sizeof(name), "wp0-TxRx-%u", q);
		assert_string_equal(rxq->irq->name, name);
		assert_ptr_equal(atomic_load(&rxq->irq->cpu), fx->cpus[q % 2]);
		assert_ptr_equal(rxq->napi.cpu, fx->cpus[q % 2]);
		assert_int_equal(rxq->napi.weight, 0);
		assert_int_equal(wp_napi_weight(&rxq->napi), 64);
		assert_false(atomic_load(&rxq->irq->masked));
	}
	/* Distinct buffers everywhere. */
	assert_ptr_not_equal(nic->rxq[0].bufs[0], nic->rxq[0].bufs[1]);
	assert_ptr_not_equal(nic->rxq[0].bufs[0], nic->rxq[1].bufs[0]);
}

static void dummy_irq(struct wp_irq_vector *v, void *arg)
{
	(void)v;
	(void)arg;
}

/* A failure half-way (no vector left for queue 2) undoes queues 0 and 1. */
static void test_create_unwinds(void **state)
{
	struct fx *fx = *state;
	struct wp_irq_vector *taken[WP_MAX_VECTORS];
	struct wp_nic_config cfg;
	uint32_t n = 0;

	while (n < WP_MAX_VECTORS - 2) {
		taken[n] = wp_request_irq(&fx->irqs, "other", dummy_irq, NULL);
		assert_non_null(taken[n]);
		n++;
	}
	base_cfg(&cfg, 3, 64);
	errno = 0;
	assert_null(wp_nic_create(&cfg, &fx->clock, &fx->irqs, fx->cpus, NCPUS,
				  rx_handler, fx));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(fx->irqs.nvec, n);
	for (int c = 0; c < NCPUS; c++)
		assert_int_equal(fx->cpu[c].nnapis, 0);
	wp_free_irq(taken[--n]);
	create(fx, &cfg);
	assert_int_equal(fx->irqs.nvec, WP_MAX_VECTORS);
	while (n)
		wp_free_irq(taken[--n]);
}

/* --- RX ------------------------------------------------------------------ */

static void test_rx_dd_protocol(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	uint8_t frame[100];
	uint32_t room, hash;
	uint8_t *slot;
	void *buf0;
	bool l4;

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	immediate(nic);
	fx->hold = true;
	make_udp(frame, sizeof(frame), 4242);
	hash = wp_rss_hash_frame(&nic->rss, frame, sizeof(frame), &l4);
	assert_true(l4);
	buf0 = rxq->bufs[0];

	/* The firmware is writing the buffer: nothing is visible yet. */
	slot = wp_nic_rx_slot(nic, 0, &room);
	assert_ptr_equal(slot, (uint8_t *)buf0 + WP_SKB_HEADROOM);
	assert_true(room >= sizeof(frame));
	memcpy(slot, frame, sizeof(frame));
	assert_int_equal(atomic_load(&rxq->ring[0].status), 0);
	assert_int_equal(wp_nic_rx_pending(nic, 0), 0);
	/* Even a poll now finds nothing (force one with the vector). */
	wp_irq_raise(rxq->irq);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 0);
	assert_int_equal(rxq->next_to_clean, 0);
	assert_int_equal(atomic_load(&rxq->rdt), 64);

	/* DD: len, hash and timestamp are there with it. */
	wp_clock_advance(&fx->clock, 1234);
	assert_int_equal(
		wp_nic_rx_commit(nic, 0, sizeof(frame), 0, 0, now_ns(fx)), 0);
	assert_int_equal(atomic_load(&rxq->ring[0].status),
			 WP_RXD_STAT_DD | WP_RXD_STAT_EOP | WP_RXD_STAT_RSS |
				 WP_RXD_STAT_L4);
	assert_int_equal(rxq->ring[0].len, sizeof(frame));
	assert_int_equal(rxq->ring[0].rss_hash, hash);
	assert_int_equal(atomic_load(&rxq->rdh), 1);
	assert_int_equal(wp_nic_rx_pending(nic, 0), 1);

	/* rx-usecs 0 raised the vector; the poll takes the frame. */
	assert_int_equal(rxq->irq->raised, 2);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 1);
	assert_int_equal(rxq->stats.irqs, 2);
	assert_int_equal(fx->last.len, sizeof(frame));
	assert_memory_equal(fx->last_data, frame, sizeof(fx->last_data));
	assert_int_equal(fx->last.hash, hash);
	assert_true(fx->last.l4_hash);
	assert_int_equal(fx->last.queue_mapping, 0);
	assert_int_equal(fx->last.tstamp, T0 + 1234);
	/* No copy: the skb wraps the DMA buffer, headroom in front. */
	assert_ptr_equal(fx->last.data, (uint8_t *)buf0 + WP_SKB_HEADROOM);
	assert_int_equal(wp_skb_headroom(&fx->last), WP_SKB_HEADROOM);
	/* Slot 0 cleared, refilled with another buffer, given back. */
	assert_int_equal(atomic_load(&rxq->ring[0].status), 0);
	assert_non_null(rxq->bufs[0]);
	assert_ptr_not_equal(rxq->bufs[0], buf0);
	assert_int_equal(rxq->ring[0].addr, (uintptr_t)rxq->bufs[0]);
	assert_int_equal(rxq->next_to_clean, 1);
	assert_int_equal(atomic_load(&rxq->rdt), 65);
	assert_int_equal(wp_nic_rx_pending(nic, 0), 0);
	assert_int_equal(rxq->stats.packets, 1);
	assert_int_equal(rxq->stats.bytes, sizeof(frame));
	/* The poll completed: vector unmasked again. */
	assert_false(atomic_load(&rxq->irq->masked));

	/* A supplied hash is used as is; an aborted slot costs nothing. */
	assert_non_null(wp_nic_rx_slot(nic, 0, NULL));
	wp_nic_rx_abort(nic, 0);
	assert_int_equal(atomic_load(&rxq->rdh), 1);
	assert_int_equal(wp_nic_rx_commit(nic, 0, 64, 0, 0, 0), -EINVAL);
	slot = wp_nic_rx_slot(nic, 0, NULL);
	memcpy(slot, frame, sizeof(frame));
	assert_int_equal(
		wp_nic_rx_commit(nic, 0, sizeof(frame), 0xabcd, 0, now_ns(fx)),
		0);
	run(fx);
	assert_int_equal(fx->last.hash, 0xabcd);
	assert_false(fx->last.l4_hash);
	/* RDT moved once per poll, by the number of slots refilled. */
	assert_int_equal(atomic_load(&rxq->rdt), 66);

	/* The two-phase path and wp_nic_rx_frame agree. */
	assert_int_equal(wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			 0);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 3);
	assert_int_equal(fx->last.hash, hash);
	assert_true(fx->last.l4_hash);
	/* Bad queue numbers are refused. */
	assert_null(wp_nic_rx_slot(nic, 1, NULL));
	assert_int_equal(wp_nic_rx_commit(nic, 1, 64, 0, 0, 0), -EINVAL);
}

static void test_rx_batch_one_tail_write(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	uint8_t frame[64];

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	never_fires(nic);
	make_udp(frame, sizeof(frame), 1);
	for (int i = 0; i < 40; i++)
		assert_int_equal(
			wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			0);
	assert_int_equal(wp_nic_rx_pending(nic, 0), 40);
	assert_int_equal(rxq->irq->raised, 0);
	/* One interrupt, one poll, one tail write of 40. */
	wp_irq_raise(rxq->irq);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 40);
	assert_int_equal(rxq->stats.polls, 1);
	assert_int_equal(atomic_load(&rxq->rdt), 64 + 40);
	assert_int_equal(atomic_load(&rxq->rdh), 40);
	assert_int_equal(rxq->next_to_use, 64 + 40);
	/* Wrap around the ring: indices run free, slots repeat. */
	for (int round = 0; round < 5; round++) {
		for (int i = 0; i < 50; i++)
			assert_int_equal(wp_nic_rx_frame(nic, frame,
							 sizeof(frame),
							 now_ns(fx)),
					 0);
		wp_irq_raise(rxq->irq);
		run(fx);
	}
	assert_int_equal(atomic_load(&fx->received), 290);
	assert_int_equal(atomic_load(&rxq->rdt) - atomic_load(&rxq->rdh), 64);
}

static void test_rx_ring_full_missed(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	uint8_t frame[64];
	uint64_t ring_full = shared_drops(WP_DROP_RING_FULL);

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	never_fires(nic);
	make_udp(frame, sizeof(frame), 7);
	for (int i = 0; i < 64; i++)
		assert_int_equal(
			wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			0);
	assert_int_equal(atomic_load(&rxq->rdh), atomic_load(&rxq->rdt));
	/* The wire never waits: each extra frame is refused at once. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(
			wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			-ENOBUFS);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.rx_missed_errors, 1000);
	assert_int_equal(rxq->stats.missed, 1000);
	assert_int_equal(shared_drops(WP_DROP_RING_FULL) - ring_full, 1000);
	/* The overrun raised the vector although moderation would not. */
	assert_true(rxq->irq->raised >= 1);
	/* Two-phase firmware sees no slot, and counts the miss itself. */
	assert_null(wp_nic_rx_slot(nic, 0, NULL));
	wp_nic_rx_missed(nic, 0);
	assert_int_equal(rxq->stats.missed, 1001);

	run(fx);
	assert_int_equal(atomic_load(&fx->received), 64);
	assert_int_equal(wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			 0);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.rx_packets, 64);
	assert_int_equal(st.rx_missed_errors, 1001);
}

static void test_rx_length_errors(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	static uint8_t frame[2048];
	uint64_t len_drops = shared_drops(WP_DROP_RX_LENGTH);
	uint8_t *slot;

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	immediate(nic);
	make_udp(frame, 1514, 1);

	assert_int_equal(wp_nic_rx_frame(nic, frame, 13, 0), -EMSGSIZE);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 0, 0), -EMSGSIZE);
	assert_int_equal(wp_nic_rx_frame(nic, NULL, 0, 0), -EMSGSIZE);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 1515, 0), -EMSGSIZE);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 1518, 0), -EMSGSIZE);
	/* Nothing was DMA'd. */
	assert_int_equal(atomic_load(&rxq->rdh), 0);
	assert_int_equal(rxq->irq->raised, 0);
	/* The limits themselves pass. */
	assert_int_equal(wp_nic_rx_frame(nic, frame, 14, 0), 0);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 1514, 0), 0);
	/* One 802.1Q tag buys 4 bytes. */
	put_be16(frame + 12, 0x8100);
	put_be16(frame + 16, 0x0800);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 1518, 0), 0);
	assert_int_equal(wp_nic_rx_frame(nic, frame, 1519, 0), -EMSGSIZE);
	/* Two-phase: over the MTU is refused and the slot stays the NIC's. */
	slot = wp_nic_rx_slot(nic, 0, NULL);
	memcpy(slot, frame, 1600);
	assert_int_equal(wp_nic_rx_commit(nic, 0, 1600, 0, 0, 0), -EMSGSIZE);
	assert_int_equal(wp_nic_rx_commit(nic, 0, 10, 0, 0, 0), -EINVAL);
	slot = wp_nic_rx_slot(nic, 0, NULL);
	assert_int_equal(wp_nic_rx_commit(nic, 0, 10, 0, 0, 0), -EMSGSIZE);
	assert_int_equal(atomic_load(&rxq->rdh), 3);

	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.rx_length_errors, 8);
	assert_int_equal(st.rx_errors, 8);
	assert_int_equal(st.rx_missed_errors, 0);
	assert_int_equal(shared_drops(WP_DROP_RX_LENGTH) - len_drops, 8);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 3);
	assert_int_equal(fx->bytes, 14 + 1514 + 1518);
}

static void test_rx_desc_error(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_nic *nic;
	uint8_t frame[80], *slot;
	uint64_t drops = shared_drops(WP_DROP_RX_DESC_ERROR);

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	immediate(nic);
	make_udp(frame, sizeof(frame), 3);
	slot = wp_nic_rx_slot(nic, 0, NULL);
	memcpy(slot, frame, sizeof(frame));
	assert_int_equal(wp_nic_rx_commit(nic, 0, sizeof(frame), 0,
					  WP_RXD_ERR_FRAME, now_ns(fx)),
			 0);
	assert_true(atomic_load(&nic->rxq[0].ring[0].status) &
		    WP_RXD_ERR_FRAME);
	assert_int_equal(wp_nic_rx_frame(nic, frame, sizeof(frame), 0), 0);
	run(fx);
	/* The bad one is dropped, the good one after it delivered. */
	assert_int_equal(atomic_load(&fx->received), 1);
	assert_int_equal(nic->rxq[0].stats.desc_errors, 1);
	assert_int_equal(shared_drops(WP_DROP_RX_DESC_ERROR) - drops, 1);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.rx_errors, 1);
	assert_int_equal(st.rx_packets, 1);
	/* Its buffer went back: the ring is full again. */
	assert_int_equal(atomic_load(&nic->rxq[0].rdt) -
				 atomic_load(&nic->rxq[0].rdh),
			 64);
}

static void test_pool_exhaustion(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	uint8_t frame[64];
	int ok = 0, missed = 0;

	base_cfg(&cfg, 1, 64);
	cfg.pool_bufs = 64; /* every buffer is in the ring */
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	immediate(nic);
	make_udp(frame, sizeof(frame), 9);
	fx->hold = true;

	for (int i = 0; i < 10; i++)
		wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
	run(fx);
	assert_int_equal(fx->held.qlen, 10);
	/* No buffer to refill with: the NIC is left 54 descriptors. */
	assert_true(rxq->stats.alloc_failed >= 1);
	assert_int_equal(atomic_load(&rxq->rdt) - atomic_load(&rxq->rdh), 54);
	for (uint32_t i = 0; i < 10; i++)
		assert_null(rxq->bufs[i]);
	for (int i = 0; i < 60; i++) {
		int r = wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));

		if (r == 0)
			ok++;
		else if (r == -ENOBUFS)
			missed++;
	}
	assert_int_equal(ok, 54);
	assert_int_equal(missed, 6);
	assert_int_equal(rxq->stats.missed, 6);

	/* The upper layer lets go; traffic brings the refill. */
	wp_skb_queue_purge(&fx->held, WP_DROP_NOT_SPECIFIED);
	fx->hold = false;
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 64);
	/* The 54 skbs went up after that poll's refill, which came up
	 * short again; the next frames' polls complete it. */
	for (int i = 0; i < 200; i++) {
		wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
		run(fx);
	}
	/* A poll refills before the skbs it built go up, and with a pool
	 * exactly the ring's size one skb in flight is one slot short;
	 * the next poll fills it. */
	assert_true(atomic_load(&rxq->rdt) - atomic_load(&rxq->rdh) >= 63);
	wp_irq_raise(rxq->irq);
	run(fx);
	assert_int_equal(atomic_load(&rxq->rdt) - atomic_load(&rxq->rdh), 64);
	for (uint32_t i = 0; i < 64; i++)
		assert_non_null(rxq->bufs[i]);
	/* Recovered: a full ring's worth is accepted again. */
	for (int i = 0; i < 64; i++)
		assert_int_equal(
			wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx)),
			0);
	run(fx);
}

static void test_coalesce_frames_and_usecs(void **state)
{
	struct fx *fx = *state;
	struct wp_coalesce_params p = { .rx_usecs = 1000, .rx_frames = 4 };
	struct wp_coalesce_params got;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	struct wp_irq_vector *v;
	uint8_t frame[64];
	uint64_t t, next;

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	v = nic->rxq[0].irq;
	make_udp(frame, sizeof(frame), 5);

	/* Invalid values change nothing. */
	got = (struct wp_coalesce_params){ .rx_usecs = 9000 };
	assert_int_equal(wp_nic_set_coalesce(nic, &got), -EINVAL);
	got = (struct wp_coalesce_params){ .rx_frames = 70000 };
	assert_int_equal(wp_nic_set_coalesce(nic, &got), -EINVAL);
	assert_int_equal(wp_nic_set_coalesce(nic, NULL), -EINVAL);
	wp_nic_get_coalesce(nic, &got);
	assert_int_equal(got.rx_usecs, 50);

	/* rx-frames 4: the fourth frame fires. */
	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
	wp_nic_get_coalesce(nic, &got);
	assert_int_equal(got.rx_frames, 4);
	assert_int_equal(got.rx_usecs, 1000);
	for (int i = 0; i < 3; i++) {
		wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
		assert_int_equal(v->raised, 0);
	}
	wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
	assert_int_equal(v->raised, 1);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 4);
	assert_int_equal(nic->rxq[0].stats.irqs, 1);
	assert_int_equal(nic->rxq[0].coal.fired_frames, 1);

	/* rx-usecs 50: the frame waits 50 us of virtual time, no more. */
	p = (struct wp_coalesce_params){ .rx_usecs = 50, .rx_frames = 0 };
	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
	t = now_ns(fx);
	assert_int_equal(wp_nic_coalesce_tick(nic, t), WP_TIME_NEVER);
	wp_nic_rx_frame(nic, frame, sizeof(frame), t);
	wp_clock_set(&fx->clock, t + 10 * WP_NSEC_PER_USEC);
	wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
	assert_int_equal(v->raised, 1);
	next = wp_nic_coalesce_tick(nic, t + 49 * WP_NSEC_PER_USEC);
	assert_int_equal(next, t + 50 * WP_NSEC_PER_USEC);
	assert_int_equal(v->raised, 1);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 4);
	wp_clock_set(&fx->clock, next);
	assert_int_equal(wp_nic_coalesce_tick(nic, next), WP_TIME_NEVER);
	assert_int_equal(v->raised, 2);
	assert_int_equal(nic->rxq[0].coal.fired_timer, 1);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 6);
	assert_int_equal(nic->rxq[0].stats.irqs, 2);

	/* rx-usecs 0 rx-frames 1: one interrupt per frame. */
	immediate(nic);
	for (int i = 0; i < 10; i++) {
		wp_clock_advance(&fx->clock, WP_NSEC_PER_USEC);
		wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
		run(fx);
	}
	assert_int_equal(atomic_load(&fx->received), 16);
	assert_int_equal(nic->rxq[0].stats.irqs, 12);
	assert_int_equal(v->raised, 12);
	assert_int_equal(nic->rxq[0].coal.fired_immediate, 10);
}

static void test_coalesce_lower_fires_pending(void **state)
{
	struct fx *fx = *state;
	struct wp_coalesce_params p = { .rx_usecs = 1000 };
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	uint8_t frame[64];
	uint64_t t = now_ns(fx);

	base_cfg(&cfg, 2, 64);
	nic = create(fx, &cfg);
	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
	make_udp(frame, sizeof(frame), 5);
	wp_nic_rx_frame(nic, frame, sizeof(frame), t);
	assert_int_equal(wp_nic_coalesce_tick(nic, t),
			 t + 1000 * WP_NSEC_PER_USEC);
	/* Lowered to 10 us while the frame waits: due at the next tick. */
	p.rx_usecs = 10;
	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
	assert_int_equal(wp_nic_coalesce_tick(nic, t + 20 * WP_NSEC_PER_USEC),
			 WP_TIME_NEVER);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 1);
}

static void test_napi_budget(void **state)
{
	struct fx *fx = *state;
	struct wp_coalesce_params p = { .rx_usecs = 1000, .rx_frames = 20 };
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	struct wp_rx_queue *rxq;
	struct wp_cpu *cpu = &fx->cpu[0];
	uint8_t frame[64];

	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.core.dev_weight", "8"),
			 0);
	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	rxq = &nic->rxq[0];
	assert_int_equal(wp_napi_weight(&rxq->napi), 8);
	assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
	make_udp(frame, sizeof(frame), 5);
	for (int i = 0; i < 20; i++)
		wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
	assert_int_equal(rxq->irq->raised, 1);

	/* Top half: counted, masked, scheduled. */
	assert_int_equal(wp_cpu_handle_irqs(cpu), 1);
	assert_int_equal(rxq->stats.irqs, 1);
	assert_true(atomic_load(&rxq->irq->masked));
	/* Poll 1 and 2 use the whole weight: the vector stays masked. */
	wp_net_rx_action(cpu);
	assert_int_equal(atomic_load(&fx->received), 8);
	assert_int_equal(rxq->napi.last_work, 8);
	assert_true(atomic_load(&rxq->irq->masked));
	assert_true(atomic_load(&rxq->napi.state) & WP_NAPI_STATE_SCHED);
	/* Frames arriving meanwhile raise nothing a core would see. */
	wp_nic_rx_frame(nic, frame, sizeof(frame), now_ns(fx));
	wp_net_rx_action(cpu);
	assert_int_equal(atomic_load(&fx->received), 16);
	assert_true(atomic_load(&rxq->irq->masked));
	/* Poll 3 does 5 < 8: complete, unmasked. */
	wp_net_rx_action(cpu);
	assert_int_equal(atomic_load(&fx->received), 21);
	assert_int_equal(rxq->napi.last_work, 5);
	assert_false(atomic_load(&rxq->irq->masked));
	assert_false(atomic_load(&rxq->napi.state) & WP_NAPI_STATE_SCHED);
	assert_int_equal(rxq->stats.polls, 3);
	assert_int_equal(rxq->napi.budget_exhausted, 2);
	assert_int_equal(rxq->stats.irqs, 1);
}

/* --- TX ------------------------------------------------------------------ */

static void test_tx_path(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_pool_stats ps;
	struct wp_nic *nic;
	struct wp_tx_queue *txq;
	struct wp_skb *skbs[4];
	const struct wp_tx_desc *d;

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	nic->backend = &fx->be;
	txq = &nic->txq[0];

	/* xmit_more: no doorbell until the last of the batch. */
	for (int i = 0; i < 4; i++) {
		skbs[i] = tx_skb(fx, 60 + (uint32_t)i, (uint8_t)i);
		assert_int_equal(wp_nic_xmit(nic, 0, skbs[i], i < 3), 0);
		if (i < 3) {
			assert_int_equal(atomic_load(&txq->tdt), 0);
			assert_int_equal(fx->kicks, 0);
		}
	}
	assert_int_equal(atomic_load(&txq->tdt), 4);
	assert_int_equal(fx->kicks, 1);
	assert_int_equal(txq->stats.doorbells, 1);
	/* Descriptors point at the skbs' data. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(txq->ring[i].addr, (uintptr_t)skbs[i]->data);
		assert_int_equal(txq->ring[i].len, 60 + i);
		assert_int_equal(txq->ring[i].cmd,
				 WP_TXD_CMD_EOP | WP_TXD_CMD_RS);
		assert_ptr_equal(txq->skbs[i], skbs[i]);
	}

	/* The firmware sends two; they stay allocated until cleaned. */
	for (int i = 0; i < 2; i++) {
		d = wp_nic_tx_fw_next(nic, 0);
		assert_non_null(d);
		/* Asking again before done: the same descriptor. */
		assert_ptr_equal(wp_nic_tx_fw_next(nic, 0), d);
		assert_int_equal(((const uint8_t *)(uintptr_t)d->addr)[0], i);
		wp_nic_tx_fw_done(nic, 0);
		assert_true(atomic_load(&d->status) & WP_TXD_STAT_DD);
	}
	assert_int_equal(atomic_load(&txq->tdh), 2);
	wp_pool_get_stats(fx->txpool, &ps);
	assert_int_equal(ps.bufs_total - ps.bufs_free, 4);
	/* One vector raise for the batch; the poll cleans. */
	wp_nic_tx_fw_irq(nic, 0);
	run(fx);
	assert_int_equal(txq->stats.cleaned, 2);
	assert_int_equal(txq->next_to_clean, 2);
	wp_pool_get_stats(fx->txpool, &ps);
	assert_int_equal(ps.bufs_total - ps.bufs_free, 2);

	/* The rest, then nothing. */
	for (int i = 2; i < 4; i++) {
		assert_non_null(wp_nic_tx_fw_next(nic, 0));
		wp_nic_tx_fw_done(nic, 0);
	}
	assert_null(wp_nic_tx_fw_next(nic, 0));
	wp_nic_tx_fw_done(nic, 0); /* nothing out: no-op */
	assert_int_equal(atomic_load(&txq->tdh), 4);
	assert_int_equal(wp_nic_clean_tx(nic, 0), 2);
	assert_int_equal(wp_nic_clean_tx(nic, 0), 0);
	assert_true(wp_pool_is_whole(fx->txpool));
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.tx_packets, 4);
	assert_int_equal(st.tx_bytes, 60 + 61 + 62 + 63);

	/* 32 descriptors waiting ring the doorbell despite xmit_more. */
	for (int i = 0; i < 40; i++)
		assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), true),
				 0);
	assert_int_equal(atomic_load(&txq->tdt), 4 + 32);
	assert_int_equal(txq->pending_doorbell, 8);
	wp_nic_tx_doorbell(nic, 0);
	assert_int_equal(atomic_load(&txq->tdt), 44);
	assert_int_equal(fx->kicks, 3);
	wp_nic_tx_doorbell(nic, 0); /* nothing pending: no kick */
	assert_int_equal(fx->kicks, 3);
	while (wp_nic_tx_fw_next(nic, 0))
		wp_nic_tx_fw_done(nic, 0);
	wp_nic_tx_fw_irq(nic, 0);
	run(fx);
	assert_true(wp_pool_is_whole(fx->txpool));
	assert_int_equal(txq->stats.packets, 44);

	/* Bad input: consumed and counted. */
	assert_int_equal(wp_nic_xmit(nic, 0, NULL, false), -EINVAL);
	assert_int_equal(wp_nic_xmit(nic, 1, tx_skb(fx, 64, 0), false),
			 -EINVAL);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 13, 0), false),
			 -EMSGSIZE);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 1515, 0), false),
			 -EMSGSIZE);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 1514, 0), false), 0);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.tx_dropped, 2);
	nic->backend = NULL;
}

static void test_tx_ring_full(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_nic *nic;
	struct wp_tx_queue *txq;
	uint64_t full = shared_drops(WP_DROP_TX_RING_FULL);

	base_cfg(&cfg, 1, 64);
	nic = create(fx, &cfg);
	txq = &nic->txq[0];
	for (int i = 0; i < 63; i++)
		assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), true),
				 0);
	assert_int_equal(atomic_load(&txq->tdt), 32);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), true), 0);
	assert_int_equal(atomic_load(&txq->tdt), 64);
	/* Full: dropped, counted; what waited was already rung. */
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), false),
			 -ENOBUFS);
	assert_int_equal(txq->stats.busy, 1);
	assert_int_equal(shared_drops(WP_DROP_TX_RING_FULL) - full, 1);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.tx_busy, 1);
	/* Sent and cleaned: room again. */
	for (int i = 0; i < 10; i++) {
		assert_non_null(wp_nic_tx_fw_next(nic, 0));
		wp_nic_tx_fw_done(nic, 0);
	}
	wp_nic_tx_fw_irq(nic, 0);
	run(fx);
	assert_int_equal(txq->stats.cleaned, 10);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), false), 0);
	/* The 55 not sent are dropped by teardown's ifdown. */
}

/* --- ethtool ops ------------------------------------------------------------
 */

static void test_ring_resize_pending(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_pool_stats ps;
	struct wp_nic *nic;
	uint8_t frame[64];
	int ok = 0;

	base_cfg(&cfg, 2, 64);
	nic = create(fx, &cfg);
	never_fires(nic);

	/* Refused sizes change nothing. */
	assert_int_equal(wp_nic_set_ringparam(nic, 100, 64), -EINVAL);
	assert_int_equal(wp_nic_set_ringparam(nic, 64, 32), -EINVAL);
	assert_int_equal(wp_nic_set_ringparam(nic, 8192, 64), -EINVAL);
	assert_int_equal(wp_nic_set_ringparam(nic, 0, 64), -EINVAL);
	assert_int_equal(nic->cfg.rx_ring_size, 64);
	assert_int_equal(nic->rxq[0].size, 64);
	assert_int_equal(wp_nic_set_ringparam(nic, 64, 64), 0);

	/* Pending on both sides: 20 RX frames, 5 TX (2 sent, 3 not). */
	for (int i = 0; i < 20; i++) {
		make_udp(frame, sizeof(frame), (uint16_t)(1000 + i));
		assert_true(wp_nic_rx_frame(nic, frame, sizeof(frame),
					    now_ns(fx)) >= 0);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(wp_nic_xmit(nic, 1, tx_skb(fx, 64, 0), false),
				 0);
	for (int i = 0; i < 2; i++) {
		assert_non_null(wp_nic_tx_fw_next(nic, 1));
		wp_nic_tx_fw_done(nic, 1);
	}

	assert_int_equal(wp_nic_set_ringparam(nic, 256, 128), 0);
	assert_int_equal(nic->cfg.rx_ring_size, 256);
	assert_int_equal(nic->cfg.tx_ring_size, 128);
	wp_nic_get_stats(nic, &st);
	assert_int_equal(st.rx_missed_errors, 20); /* discarded */
	assert_int_equal(st.tx_packets, 2);	   /* sent */
	assert_int_equal(st.tx_dropped, 3);	   /* never sent */
	assert_true(wp_pool_is_whole(fx->txpool));
	for (uint16_t q = 0; q < 2; q++) {
		struct wp_rx_queue *rxq = &nic->rxq[q];

		assert_int_equal(rxq->size, 256);
		assert_int_equal(nic->txq[q].size, 128);
		assert_int_equal(atomic_load(&rxq->rdt), 256);
		assert_int_equal(atomic_load(&rxq->rdh), 0);
		for (uint32_t i = 0; i < 256; i++)
			assert_non_null(rxq->bufs[i]);
		/* The pool grew to cover the bigger ring. */
		wp_pool_get_stats(rxq->pool, &ps);
		assert_true(ps.bufs_total >= 2 * 256 + 128);
		assert_false(atomic_load(&rxq->irq->masked));
		assert_false(atomic_load(&rxq->napi.state) &
			     WP_NAPI_STATE_DISABLE);
	}
	/* The new ring takes 256 frames per queue. */
	make_udp(frame, sizeof(frame), 1);
	for (int i = 0; i < 300; i++)
		ok += wp_nic_rx_frame(nic, frame, sizeof(frame), 0) >= 0;
	assert_int_equal(ok, 256);
	run(fx); /* the overrun interrupt polls them */
	assert_int_equal(atomic_load(&fx->received), 256);

	/* Shrink, with frames pending again. */
	for (int i = 0; i < 10; i++)
		wp_nic_rx_frame(nic, frame, sizeof(frame), 0);
	assert_int_equal(wp_nic_set_ringparam(nic, 64, 64), 0);
	assert_int_equal(nic->rxq[0].size, 64);
	assert_int_equal(atomic_load(&nic->rxq[0].rdt), 64);
	assert_true(wp_nic_rx_frame(nic, frame, sizeof(frame), 0) >= 0);
	run(fx);
	wp_nic_down(nic);
	assert_pools_whole(nic);
	assert_int_equal(wp_nic_up(nic), 0);
}

static void test_ring_resize_explicit_pool(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_pool_stats ps;
	struct wp_nic *nic;

	base_cfg(&cfg, 1, 64);
	cfg.pool_bufs = 80;
	nic = create(fx, &cfg);
	assert_int_equal(wp_nic_set_ringparam(nic, 512, 64), 0);
	wp_pool_get_stats(nic->rxq[0].pool, &ps);
	/* The 16 spare buffers are kept over the bigger ring. */
	assert_int_equal(ps.bufs_total, 80 + 448);
	assert_int_equal(nic->cfg.pool_bufs, 528);
	assert_int_equal(atomic_load(&nic->rxq[0].rdt), 512);
}

static void test_down_up(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	uint8_t frame[64];

	base_cfg(&cfg, 2, 64);
	nic = create(fx, &cfg);
	immediate(nic);
	make_udp(frame, sizeof(frame), 1);
	wp_nic_rx_frame(nic, frame, sizeof(frame), 0);
	wp_nic_down(nic);
	wp_nic_down(nic);
	assert_pools_whole(nic);
	/* Down: frames are missed, xmit refused, channels still settable. */
	assert_int_equal(wp_nic_rx_frame(nic, frame, sizeof(frame), 0),
			 -ENETDOWN);
	assert_int_equal(wp_nic_xmit(nic, 0, tx_skb(fx, 64, 0), false),
			 -ENETDOWN);
	assert_int_equal(wp_nic_set_ringparam(nic, 128, 64), 0);
	assert_pools_whole(nic);
	assert_int_equal(wp_nic_up(nic), 0);
	assert_int_equal(wp_nic_up(nic), 0);
	assert_int_equal(atomic_load(&nic->rxq[1].rdt), 128);
	assert_true(wp_nic_rx_frame(nic, frame, sizeof(frame), 0) >= 0);
	run(fx);
	assert_int_equal(atomic_load(&fx->received), 1);
	assert_int_equal(nic->rxq[0].stats.missed + nic->rxq[1].stats.missed,
			 2);
}

static void test_channels_and_rss(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	uint8_t frame[64];
	uint32_t hits[4] = { 0 };
	uint64_t before[4];

	base_cfg(&cfg, 4, 256);
	nic = create(fx, &cfg);
	never_fires(nic);
	/* 400 flows spread over all four queues, as the table says. */
	for (uint16_t i = 0; i < 400; i++) {
		bool l4;
		uint32_t h;
		int q;

		make_udp(frame, sizeof(frame), (uint16_t)(20000 + i));
		h = wp_rss_hash_frame(&nic->rss, frame, sizeof(frame), &l4);
		q = wp_nic_rx_frame(nic, frame, sizeof(frame), 0);
		assert_int_equal(q, wp_rss_queue(&nic->rss, h));
		hits[q]++;
	}
	for (int q = 0; q < 4; q++) {
		assert_true(hits[q] > 50);
		wp_irq_raise(nic->rxq[q].irq);
	}
	run(fx);
	for (int q = 0; q < 4; q++) {
		assert_int_equal(fx->per_queue[q], hits[q]);
		before[q] = fx->per_queue[q];
	}

	/* -L combined 2: frames only for queues 0 and 1; 2 and 3 stop. */
	assert_int_equal(wp_nic_set_channels(nic, 0), -EINVAL);
	assert_int_equal(wp_nic_set_channels(nic, 5), -EINVAL);
	assert_int_equal(wp_nic_set_channels(nic, 2), 0);
	assert_int_equal(nic->nqueues, 2);
	for (int q = 2; q < 4; q++) {
		assert_true(atomic_load(&nic->rxq[q].irq->masked));
		assert_true(atomic_load(&nic->rxq[q].napi.state) &
			    WP_NAPI_STATE_DISABLE);
		assert_false(atomic_load(&nic->rxq[q].up));
	}
	memset(hits, 0, sizeof(hits));
	for (uint16_t i = 0; i < 400; i++) {
		int q;

		make_udp(frame, sizeof(frame), (uint16_t)(20000 + i));
		q = wp_nic_rx_frame(nic, frame, sizeof(frame), 0);
		assert_in_range(q, 0, 1);
		hits[q]++;
	}
	assert_true(hits[0] > 100 && hits[1] > 100);
	assert_int_equal(wp_nic_xmit(nic, 3, tx_skb(fx, 64, 0), false),
			 -ENETDOWN);
	/* Queues beyond the channels are not in -X's reach either. */
	assert_int_equal(wp_nic_set_rxfh_equal(nic, 3), -EINVAL);
	assert_int_equal(wp_nic_set_rxfh_equal(nic, 1), 0);
	make_udp(frame, sizeof(frame), 1);
	assert_int_equal(wp_nic_rx_frame(nic, frame, sizeof(frame), 0), 0);
	for (int q = 0; q < 2; q++)
		wp_irq_raise(nic->rxq[q].irq);
	run(fx);
	assert_int_equal(fx->per_queue[0] - before[0], hits[0] + 1);
	assert_int_equal(fx->per_queue[1] - before[1], hits[1]);
	assert_int_equal(fx->per_queue[2], before[2]);
	assert_int_equal(fx->per_queue[3], before[3]);

	/* Back to 4: queue 3 works again, with its parked buffers. */
	assert_int_equal(wp_nic_set_channels(nic, 4), 0);
	assert_int_equal(atomic_load(&nic->rxq[3].rdt) -
				 atomic_load(&nic->rxq[3].rdh),
			 256);
	immediate(nic);
	memset(hits, 0, sizeof(hits));
	for (uint16_t i = 0; i < 100; i++) {
		make_udp(frame, sizeof(frame), (uint16_t)(30000 + i));
		hits[wp_nic_rx_frame(nic, frame, sizeof(frame), 0)]++;
	}
	assert_true(hits[3] > 0);
	run(fx);
	assert_int_equal(wp_nic_set_rxfh_equal(nic, 3), 0);
	for (uint32_t i = 0; i < WP_RSS_RETA_SIZE; i++)
		assert_int_equal(nic->rss.reta[i], i % 3);
}

static void test_ethtool_stats_output(void **state)
{
	struct fx *fx = *state;
	struct wp_nic_config cfg;
	struct wp_nic *nic;
	uint8_t frame[100];
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	base_cfg(&cfg, 2, 64);
	nic = create(fx, &cfg);
	immediate(nic);
	make_udp(frame, sizeof(frame), 1);
	for (int i = 0; i < 3; i++)
		wp_nic_rx_frame(nic, frame, sizeof(frame), 0);
	wp_nic_rx_frame(nic, frame, 5, 0);
	run(fx);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	wp_nic_print_stats(nic, out);
	fclose(out);
	assert_true(strncmp(text, "NIC statistics:\n", 16) == 0);
	assert_non_null(strstr(text, "\n     rx_packets: 3\n"));
	assert_non_null(strstr(text, "\n     rx_bytes: 300\n"));
	assert_non_null(strstr(text, "\n     tx_packets: 0\n"));
	assert_non_null(strstr(text, "\n     rx_length_errors: 1\n"));
	assert_non_null(strstr(text, "\n     rx_errors: 1\n"));
	assert_non_null(strstr(text, "\n     rx_missed_errors: 0\n"));
	assert_non_null(strstr(text, "\n     tx_busy: 0\n"));
	assert_non_null(strstr(text, "\n     alloc_rx_buff_failed: 0\n"));
	assert_non_null(strstr(text, "\n     tx_queue_0_packets: 0\n"));
	assert_non_null(strstr(text, "\n     tx_queue_1_bytes: 0\n"));
	assert_non_null(strstr(text, "\n     rx_queue_1_drops: 0\n"));
	assert_non_null(strstr(text, "\n     rx_queue_0_alloc_failed: 0\n"));
	/* tx queues first, as igb prints them */
	assert_true(strstr(text, "tx_queue_1_packets") <
		    strstr(text, "rx_queue_0_packets"));
	{
		uint16_t q = (uint16_t)wp_rss_queue(
			&nic->rss, wp_rss_hash_frame(&nic->rss, frame,
						     sizeof(frame), NULL));
		char want[64];

		snprintf(want, sizeof(want), "\n     rx_queue_%u_packets: 3\n",
			 q);
		assert_non_null(strstr(text, want));
	}
	/* Only active queues are listed. */
	free(text);
	assert_int_equal(wp_nic_set_channels(nic, 1), 0);
	text = NULL;
	out = open_memstream(&text, &len);
	wp_nic_print_stats(nic, out);
	fclose(out);
	assert_null(strstr(text, "rx_queue_1_packets"));
	free(text);
}

/* --- real threads -----------------------------------------------------------
 */

struct fw_ctx {
	struct fx *fx;
	uint32_t frames;
	_Atomic bool done;
	uint64_t sent, accepted, missed, down, sent_tx;
	bool tx; /* also play the TX firmware */
};

/* One RX + TX firmware thread: bursts of frames over many flows, the
 * moderation timers, and sending whatever the echo put on the TX rings. */
static void *firmware(void *arg)
{
	struct fw_ctx *c = arg;
	struct wp_nic *nic = c->fx->nic;
	uint8_t frame[128];

	for (uint32_t i = 0; i < c->frames; i++) {
		uint64_t now = wp_clock_now(&c->fx->clock);
		int r;

		make_udp(frame, sizeof(frame), (uint16_t)(i % 1024));
		r = wp_nic_rx_frame(nic, frame, sizeof(frame), now);
		c->sent++;
		if (r >= 0) {
			c->accepted++;
		} else if (r == -ENOBUFS) {
			/* Let the cores run (a link partner's pause). */
			c->missed++;
			sched_yield();
		} else if (r == -ENETDOWN)
			c->down++;
		if ((i & 15) == 15) {
			wp_nic_coalesce_tick(nic, now);
			for (uint16_t q = 0; c->tx && q < nic->cfg.nqueues;
			     q++) {
				uint32_t n = 0;

				while (wp_nic_tx_fw_next(nic, q)) {
					wp_nic_tx_fw_done(nic, q);
					n++;
				}
				if (n)
					wp_nic_tx_fw_irq(nic, q);
				c->sent_tx += n;
			}
		}
	}
	atomic_store(&c->done, true);
	/* Keep the timers and TX going until the test is satisfied. */
	while (atomic_load(&c->done)) {
		uint64_t now = wp_clock_now(&c->fx->clock);

		wp_nic_coalesce_tick(nic, now);
		for (uint16_t q = 0; c->tx && q < nic->cfg.nqueues; q++) {
			uint32_t n = 0;

			while (wp_nic_tx_fw_next(nic, q)) {
				wp_nic_tx_fw_done(nic, q);
				n++;
			}
			if (n)
				wp_nic_tx_fw_irq(nic, q);
			c->sent_tx += n;
		}
		sched_yield();
	}
	return NULL;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void run_threads(struct fx *fx, bool churn)
{
	struct fw_ctx c = { .fx = fx,
			    .frames = churn ? 200000 : 500000,
			    .tx = true };
	struct wp_nic_config cfg;
	struct wp_nic_stats st;
	struct wp_nic *nic;
	pthread_t fw;
	int waited = 0;

	wp_clock_init_real(&fx->clock);
	base_cfg(&cfg, 2, 256);
	nic = create(fx, &cfg);
	fx->echo = true;
	/* The core threads start after the NIC exists: their first poll
	 * takes the pools over. */
	for (int i = 0; i < NCPUS; i++)
		assert_int_equal(wp_cpu_start(&fx->cpu[i]), 0);
	assert_int_equal(pthread_create(&fw, NULL, firmware, &c), 0);

	for (int round = 0; churn && !atomic_load(&c.done); round++) {
		sleep_us(2000);
		assert_int_equal(wp_nic_set_ringparam(nic, round & 1 ? 256 : 64,
						      round & 1 ? 128 : 64),
				 0);
		sleep_us(2000);
		assert_int_equal(wp_nic_set_channels(nic, round & 1 ? 2 : 1),
				 0);
		if ((round & 3) == 3) {
			struct wp_coalesce_params p = {
				.rx_usecs = (uint32_t)round % 100,
			};
			assert_int_equal(wp_nic_set_coalesce(nic, &p), 0);
		}
	}
	while (!atomic_load(&c.done))
		sleep_us(1000);

	/* Every frame the firmware took is received, or counted missed
	 * (ring full, or in a ring when it was rebuilt). */
	for (;;) {
		wp_nic_get_stats(nic, &st);
		if (st.rx_packets + st.rx_missed_errors == c.sent &&
		    st.tx_packets + st.tx_dropped + st.tx_busy == st.rx_packets)
			break;
		if (++waited > 10000) {
			fprintf(stderr,
				"sent %llu rx %llu missed %llu tx %llu "
				"dropped %llu busy %llu\n",
				(unsigned long long)c.sent,
				(unsigned long long)st.rx_packets,
				(unsigned long long)st.rx_missed_errors,
				(unsigned long long)st.tx_packets,
				(unsigned long long)st.tx_dropped,
				(unsigned long long)st.tx_busy);
			fail_msg("frames unaccounted for");
		}
		sleep_us(1000);
	}
	/* Every active ring is full of buffers again, including the ones
	 * rebuilt while their core ran (refilled by their own poll). */
	for (waited = 0;; waited++) {
		bool full = true;

		for (uint16_t q = 0; q < nic->nqueues; q++)
			full &= atomic_load(&nic->rxq[q].rdt) -
					atomic_load(&nic->rxq[q].rdh) ==
				nic->rxq[q].size;
		if (full)
			break;
		if (waited > 10000)
			fail_msg("rings not refilled");
		wp_irq_raise(nic->rxq[0].irq);
		sleep_us(1000);
	}
	atomic_store(&c.done, false);
	pthread_join(fw, NULL);
	for (int i = 0; i < NCPUS; i++)
		wp_cpu_stop(&fx->cpu[i]);

	assert_int_equal(c.accepted + c.missed + c.down, c.sent);
	assert_int_equal(atomic_load(&fx->received), st.rx_packets);
	assert_int_equal(st.rx_length_errors, 0);
	assert_true(st.rx_packets > 0);
	if (!churn)
		assert_int_equal(c.down, 0);
	fprintf(stderr,
		"# %s: sent %llu received %llu missed %llu echoed %llu\n",
		churn ? "churn" : "steady", (unsigned long long)c.sent,
		(unsigned long long)st.rx_packets,
		(unsigned long long)st.rx_missed_errors,
		(unsigned long long)st.tx_packets);
}

static void test_threads_rx_tx(void **state)
{
	run_threads(*state, false);
}

static void test_threads_reconfigure(void **state)
{
	run_threads(*state, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_layout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_unwinds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_dd_protocol, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_batch_one_tail_write,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_ring_full_missed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_length_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rx_desc_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_frames_and_usecs,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_coalesce_lower_fires_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_napi_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_ring_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_resize_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ring_resize_explicit_pool,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels_and_rss, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ethtool_stats_output,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_rx_tx, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads_reconfigure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
