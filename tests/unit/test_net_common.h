/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the protocol-layer tests: a NIC without a backend and a
 * wp_net on it, on virtual time. The tests play the wire: they build
 * frames with the wire emitters, hand them to wp_netif_receive_skb_list
 * as NAPI would (in skbs from the queue's own pool), play the TX firmware
 * (every transmitted frame is copied out and its descriptor completed)
 * and run the cores' hooks (timers) with wp_cpu_run_once as the clock
 * moves. Teardown destroys the net and checks every pool is whole: each
 * test is a leak test too.
 */
#ifndef WP_TEST_NET_COMMON_H
#define WP_TEST_NET_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/drop.h"
#include "irq/irq.h"
#include "napi/napi.h"
#include "net/net.h"
#include "net/udp.h"
#include "nic/backend/backend.h"
#include "nic/nic.h"
#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define NFX_MAX_CPUS 4
#define NFX_MAX_TX 1024
#define NFX_FRAME_MAX 9100
#define NFX_T0 (1000 * WP_NSEC_PER_SEC)

/* Our side and a peer on the link. */
static const uint8_t our_mac[6]
	__attribute__((unused)) = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t peer_mac[6]
	__attribute__((unused)) = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t bcast_mac[6]
	__attribute__((unused)) = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define OUR_IP wp_ipv4_addr(10, 0, 0, 2)
#define PEER_IP wp_ipv4_addr(10, 0, 0, 1)
#define GW_IP wp_ipv4_addr(10, 0, 0, 254)
#define FAR_IP wp_ipv4_addr(192, 0, 2, 7)

struct nfx_frame {
	uint8_t b[NFX_FRAME_MAX];
	uint32_t len;
	uint16_t q;
};

struct nfx {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu[NFX_MAX_CPUS];
	struct wp_cpu *cpus[NFX_MAX_CPUS];
	uint32_t ncpus;
	uint16_t nqueues;
	struct wp_nic *nic;
	struct wp_backend be;
	struct wp_net *net;
	struct wp_net_config cfg;
	struct nfx_frame *tx; /* captured transmit frames */
	uint32_t ntx;
	struct wp_drop_stats drops0; /* drop counters at setup */
};

static inline void nfx_rx(void *ctx, struct wp_napi *napi,
			  struct wp_skb_queue *skbs)
{
	struct nfx *fx = ctx;

	wp_netif_receive_skb_list(fx->net, napi, skbs);
}

static inline void nfx_kick(struct wp_backend *be, uint16_t q)
{
	(void)be;
	(void)q;
}

static const struct wp_backend_ops nfx_ops __attribute__((unused)) = {
	.name = "test",
	.tx_kick = nfx_kick,
};

/* Every drop counter: the shared block and each core's. */
static inline void nfx_drops(const struct nfx *fx, struct wp_drop_stats *out)
{
	wp_drop_stats_shared(out);
	for (uint32_t i = 0; i < fx->ncpus; i++)
		for (int r = 0; r < WP_DROP__MAX; r++)
			out->count[r] += fx->cpu[i].drops.count[r];
}

/* Drops of `reason` since setup. */
static inline uint64_t nfx_dropped(const struct nfx *fx,
				   enum wp_drop_reason reason)
{
	struct wp_drop_stats d;

	nfx_drops(fx, &d);
	return d.count[reason] - fx->drops0.count[reason];
}

/* Play the TX firmware: copy every frame out, complete it, reclaim. */
static inline void nfx_drain_tx(struct nfx *fx)
{
	for (uint16_t q = 0; q < fx->nqueues; q++) {
		const struct wp_tx_desc *d;

		while ((d = wp_nic_tx_fw_next(fx->nic, q))) {
			if (fx->ntx < NFX_MAX_TX) {
				struct nfx_frame *f = &fx->tx[fx->ntx++];

				assert_true(d->len <= NFX_FRAME_MAX);
				memcpy(f->b, (const void *)(uintptr_t)d->addr,
				       d->len);
				f->len = d->len;
				f->q = q;
			}
			wp_nic_tx_fw_done(fx->nic, q);
		}
		wp_nic_clean_tx(fx->nic, q);
	}
}

/* Run every core's loop once (hooks: timers, submit queues). */
static inline void nfx_run(struct nfx *fx)
{
	for (uint32_t i = 0; i < fx->ncpus; i++)
		wp_cpu_run_once(&fx->cpu[i]);
	nfx_drain_tx(fx);
}

/* Move the clock by ns, stopping at every timer on the way. */
static inline void nfx_advance(struct nfx *fx, uint64_t ns)
{
	uint64_t end = wp_clock_now(&fx->clock) + ns;

	for (;;) {
		uint64_t next = WP_TIME_NEVER;

		nfx_run(fx);
		for (uint32_t i = 0; i < fx->ncpus; i++)
			if (fx->cpu[i].next_timer_ns < next)
				next = fx->cpu[i].next_timer_ns;
		if (next > end || next == WP_TIME_NEVER)
			break;
		if (next <= wp_clock_now(&fx->clock))
			next = wp_clock_now(&fx->clock) + 1;
		wp_clock_set(&fx->clock, next);
	}
	wp_clock_set(&fx->clock, end);
	nfx_run(fx);
}

static inline uint64_t nfx_now(struct nfx *fx)
{
	return wp_clock_now(&fx->clock);
}

/*
 * Build the fixture. cfg_edit may change the net's settings before it is
 * created. Starts the net (its gratuitous ARP is sent and discarded).
 */
static inline struct nfx *nfx_new(uint32_t ncpus, uint16_t nqueues,
				  void (*cfg_edit)(struct wp_net_config *))
{
	struct nfx *fx = calloc(1, sizeof(*fx));
	struct wp_nic_config nc;

	assert_non_null(fx);
	fx->tx = calloc(NFX_MAX_TX, sizeof(*fx->tx));
	assert_non_null(fx->tx);
	fx->ncpus = ncpus;
	fx->nqueues = nqueues;
	wp_clock_init_virtual(&fx->clock, NFX_T0);
	wp_sysctl_init(&fx->sysctl);
	for (uint32_t i = 0; i < ncpus; i++)
		fx->cpus[i] = &fx->cpu[i];
	wp_irq_table_init(&fx->irqs, fx->cpus, ncpus);
	for (uint32_t i = 0; i < ncpus; i++)
		wp_cpu_init(&fx->cpu[i], (int)i, &fx->clock, &fx->sysctl,
			    &fx->irqs);
	wp_nic_config_default(&nc);
	nc.name = "wp0";
	nc.nqueues = nqueues;
	nc.rx_ring_size = 128;
	nc.tx_ring_size = 512;
	memcpy(nc.mac, our_mac, 6);
	fx->nic = wp_nic_create(&nc, &fx->clock, &fx->irqs, fx->cpus, ncpus,
				nfx_rx, fx);
	assert_non_null(fx->nic);
	fx->be.ops = &nfx_ops;
	fx->be.nic = fx->nic;
	fx->nic->backend = &fx->be;

	wp_net_config_default(&fx->cfg);
	memcpy(fx->cfg.mac, our_mac, 6);
	fx->cfg.addr = OUR_IP;
	fx->cfg.prefix_len = 24;
	fx->cfg.gw = GW_IP;
	if (cfg_edit)
		cfg_edit(&fx->cfg);
	fx->net = wp_net_create(&fx->cfg, &fx->clock, &fx->sysctl, fx->nic,
				fx->cpus, ncpus);
	assert_non_null(fx->net);
	assert_int_equal(wp_net_start(fx->net), 0);
	nfx_drops(fx, &fx->drops0);
	nfx_run(fx);
	return fx;
}

static inline void nfx_free(struct nfx *fx)
{
	nfx_drain_tx(fx);
	wp_net_destroy(fx->net);
	nfx_drain_tx(fx);
	wp_nic_down(fx->nic);
	for (uint16_t q = 0; q < fx->nqueues; q++)
		assert_true(wp_pool_is_whole(fx->nic->rxq[q].pool));
	wp_nic_destroy(fx->nic);
	for (uint32_t i = 0; i < fx->ncpus; i++)
		wp_cpu_destroy(&fx->cpu[i]);
	free(fx->tx);
	free(fx);
}

static inline void nfx_clear_tx(struct nfx *fx)
{
	fx->ntx = 0;
}

/* Hand one frame to the stack on RX queue q, as NAPI would, then take
 * what it transmitted. */
static inline void nfx_inject_q(struct nfx *fx, uint16_t q, const void *frame,
				size_t len)
{
	struct wp_pool *pool = fx->nic->rxq[q].pool;
	struct wp_skb_queue list;
	struct wp_skb *skb = wp_alloc_skb(pool, (uint32_t)len);

	assert_non_null(skb);
	memcpy(wp_skb_put(skb, (uint32_t)len), frame, len);
	skb->queue_mapping = q;
	skb->tstamp = nfx_now(fx);
	wp_skb_queue_init(&list);
	wp_skb_queue_tail(&list, skb);
	wp_netif_receive_skb_list(fx->net, &fx->nic->rxq[q].napi, &list);
	assert_true(wp_skb_queue_empty(&list));
	nfx_drain_tx(fx);
}

static inline void nfx_inject(struct nfx *fx, const void *frame, size_t len)
{
	nfx_inject_q(fx, 0, frame, len);
}

static inline void nfx_mib(const struct nfx *fx, struct wp_net_mib *m)
{
	wp_net_mib_sum(fx->net, m);
}

/* --- building frames -------------------------------------------------------
 */

static inline size_t put_eth(uint8_t *p, const uint8_t *dst, const uint8_t *src,
			     uint16_t type)
{
	struct wp_eth_repr e = { .ethertype = type };

	memcpy(e.dst.b, dst, 6);
	memcpy(e.src.b, src, 6);
	assert_int_equal(wp_eth_emit(&e, p, WP_ETH_HLEN), 0);
	return WP_ETH_HLEN;
}

static inline size_t put_arp(uint8_t *p, uint16_t op, const uint8_t *sha,
			     uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	struct wp_arp_repr a = { .op = op, .spa = spa, .tpa = tpa };

	memcpy(a.sha.b, sha, 6);
	if (tha)
		memcpy(a.tha.b, tha, 6);
	assert_int_equal(wp_arp_emit(&a, p, WP_ARP_HLEN), 0);
	return WP_ARP_HLEN;
}

/* An ARP frame padded to 60 bytes as a wire would. */
static inline size_t arp_frame(uint8_t *f, const uint8_t *edst, uint16_t op,
			       const uint8_t *sha, uint32_t spa,
			       const uint8_t *tha, uint32_t tpa)
{
	size_t n = put_eth(f, edst, sha, WP_ETH_P_ARP);

	n += put_arp(f + n, op, sha, spa, tha, tpa);
	memset(f + n, 0, WP_ETH_ZLEN - n);
	return WP_ETH_ZLEN;
}

/* The IPv4 header of r (options in r) at p; payload_len must be set. */
static inline size_t put_ipv4(uint8_t *p, const struct wp_ipv4_repr *r)
{
	size_t hl = wp_ipv4_hdr_len(r);

	assert_int_equal(wp_ipv4_emit(r, p, hl), 0);
	return hl;
}

static inline struct wp_ipv4_repr ip_repr(uint32_t saddr, uint32_t daddr,
					  uint8_t proto, size_t payload_len)
{
	struct wp_ipv4_repr r = {
		.saddr = saddr,
		.daddr = daddr,
		.ttl = 64,
		.protocol = proto,
		.id = 0x1234,
		.payload_len = (uint16_t)payload_len,
	};

	return r;
}

/* A whole frame: Ethernet from the peer to us, IPv4 r, payload. */
static inline size_t ip_frame(uint8_t *f, const struct wp_ipv4_repr *r,
			      const void *payload)
{
	size_t n = put_eth(f, our_mac, peer_mac, WP_ETH_P_IP);

	n += put_ipv4(f + n, r);
	memcpy(f + n, payload, r->payload_len);
	return n + r->payload_len;
}

/* An ICMP echo request message (header + data) into m; returns length. */
static inline size_t icmp_echo_msg(uint8_t *m, uint16_t id, uint16_t seq,
				   const void *data, size_t len)
{
	struct wp_icmp_repr e = {
		.type = WP_ICMP_ECHO,
		.id = id,
		.seq = seq,
		.data = data,
		.data_len = len,
	};

	assert_int_equal(wp_icmp_emit(&e, m, WP_ICMP_HLEN + len), 0);
	return WP_ICMP_HLEN + len;
}

/* A UDP datagram (header + payload) into d under the pseudo-header. */
static inline size_t udp_msg(uint8_t *d, uint32_t saddr, uint32_t daddr,
			     uint16_t sport, uint16_t dport, const void *data,
			     size_t len)
{
	struct wp_udp_repr u = {
		.sport = sport,
		.dport = dport,
		.payload = data,
		.payload_len = len,
	};

	assert_int_equal(wp_udp_emit(&u, saddr, daddr, d, WP_UDP_HLEN + len),
			 0);
	return WP_UDP_HLEN + len;
}

/* A frame from the peer: UDP saddr:sport -> daddr:dport. */
static inline size_t udp_frame(uint8_t *f, uint32_t saddr, uint32_t daddr,
			       uint16_t sport, uint16_t dport, const void *data,
			       size_t len)
{
	uint8_t *m = malloc(WP_UDP_HLEN + len);
	struct wp_ipv4_repr r;
	size_t n;

	assert_non_null(m);
	n = udp_msg(m, saddr, daddr, sport, dport, data, len);
	r = ip_repr(saddr, daddr, WP_IPPROTO_UDP, n);
	n = ip_frame(f, &r, m);
	free(m);
	return n;
}

/* An echo request frame from the peer. */
static inline size_t echo_frame(uint8_t *f, uint32_t saddr, uint32_t daddr,
				uint16_t id, uint16_t seq, const void *data,
				size_t len)
{
	uint8_t *m = malloc(WP_ICMP_HLEN + len);
	struct wp_ipv4_repr r;
	size_t n;

	assert_non_null(m);
	n = icmp_echo_msg(m, id, seq, data, len);
	r = ip_repr(saddr, daddr, WP_IPPROTO_ICMP, n);
	n = ip_frame(f, &r, m);
	free(m);
	return n;
}

/* The peer tells us its MAC (an ARP request for our address). */
static inline void nfx_learn_peer(struct nfx *fx)
{
	uint8_t f[64];

	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	nfx_clear_tx(fx);
}

/* --- reading what was sent --------------------------------------------- */

struct parsed {
	struct wp_eth_repr eth;
	struct wp_ipv4_repr ip;
	const uint8_t *l4; /* the IP payload */
	size_t l4_len;
	struct wp_arp_repr arp;
	bool is_ip, is_arp;
};

static inline void parse_frame(const struct nfx_frame *f, struct parsed *p)
{
	const uint8_t *l3;
	size_t n;

	memset(p, 0, sizeof(*p));
	assert_true(f->len >= WP_ETH_ZLEN);
	assert_int_equal(wp_eth_parse(f->b, f->len, &p->eth, NULL), 0);
	assert_true(wp_eth_addr_equal(&p->eth.src,
				      (const struct wp_eth_addr *)our_mac));
	l3 = f->b + wp_eth_hdr_len(&p->eth);
	n = f->len - wp_eth_hdr_len(&p->eth);
	if (p->eth.ethertype == WP_ETH_P_ARP) {
		assert_int_equal(wp_arp_parse(l3, n, &p->arp, NULL), 0);
		p->is_arp = true;
		return;
	}
	assert_int_equal(p->eth.ethertype, WP_ETH_P_IP);
	assert_int_equal(wp_ipv4_parse(l3, n, &p->ip, NULL), 0);
	p->is_ip = true;
	p->l4 = l3 + wp_ipv4_hdr_len(&p->ip);
	p->l4_len = p->ip.payload_len;
}

/* The only frame sent must be IP: parse it. */
static inline void one_ip_frame(struct nfx *fx, struct parsed *p)
{
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], p);
	assert_true(p->is_ip);
}

#endif
