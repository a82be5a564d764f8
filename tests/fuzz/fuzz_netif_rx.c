// SPDX-License-Identifier: MIT
/*
 * The whole receive path: frames through wp_netif_receive_skb_list on a
 * NIC with a protocol layer (ARP, IPv4, reassembly, ICMP, UDP), on
 * virtual time, fresh for every input.
 *
 * Input: flags(1) then frames, each len(2, big-endian) and its bytes (a
 * short last frame takes what is left), at most 32 frames.
 *   bit 0  fix the IPv4 header checksum and the ICMP/UDP checksum of
 *          whole datagrams, so inputs get past them
 *   bit 1  the peer 10.0.0.1 resolves first (replies go out at once)
 *   bit 2  a second passes between frames (ARP and reassembly timers)
 *   bit 3  a UDP socket listens on port 9 (delivery, its queue)
 *   bit 4  two cores on two queues, frames alternating between them
 * After the frames, 40 s pass (every queue expires, every ARP gives up).
 *
 * Invariants: every frame the stack sends parses at every layer it has
 * (checksums verified) and fits the MTU; after teardown every pool is
 * whole again.
 */
#include "fuzz.h"

#include "irq/irq.h"
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

#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define MAX_FRAMES 32

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct rig {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu[2];
	struct wp_cpu *cpus[2];
	uint32_t ncpus;
	struct wp_nic *nic;
	struct wp_backend be;
	struct wp_net *net;
};

static void rig_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *q)
{
	struct rig *r = ctx;

	wp_netif_receive_skb_list(r->net, napi, q);
}

static void rig_kick(struct wp_backend *be, uint16_t q)
{
	(void)be;
	(void)q;
}

static const struct wp_backend_ops rig_ops = { .name = "fuzz",
					       .tx_kick = rig_kick };

static void rig_up(struct rig *r, uint32_t ncpus)
{
	struct wp_nic_config nc;
	struct wp_net_config cfg;

	memset(r, 0, sizeof(*r));
	r->ncpus = ncpus;
	wp_clock_init_virtual(&r->clock, WP_NSEC_PER_SEC);
	wp_sysctl_init(&r->sysctl);
	for (uint32_t i = 0; i < ncpus; i++)
		r->cpus[i] = &r->cpu[i];
	wp_irq_table_init(&r->irqs, r->cpus, ncpus);
	for (uint32_t i = 0; i < ncpus; i++)
		wp_cpu_init(&r->cpu[i], (int)i, &r->clock, &r->sysctl,
			    &r->irqs);
	wp_nic_config_default(&nc);
	nc.name = "wp0";
	nc.nqueues = (uint16_t)ncpus;
	nc.rx_ring_size = 64;
	nc.tx_ring_size = 64;
	memcpy(nc.mac, our_mac, 6);
	r->nic = wp_nic_create(&nc, &r->clock, &r->irqs, r->cpus, ncpus, rig_rx,
			       r);
	fuzz_check(r->nic != NULL, "nic");
	r->be.ops = &rig_ops;
	r->be.nic = r->nic;
	r->nic->backend = &r->be;
	wp_net_config_default(&cfg);
	memcpy(cfg.mac, our_mac, 6);
	cfg.addr = OUR_IP;
	cfg.prefix_len = 24;
	cfg.gw = 0x0a0000feu;
	cfg.ipfrag_big_bufs = 1;
	cfg.ipfrag_max_queues = 16;
	cfg.neigh_max = 16;
	r->net = wp_net_create(&cfg, &r->clock, &r->sysctl, r->nic, r->cpus,
			       ncpus);
	fuzz_check(r->net != NULL, "net");
	fuzz_check(wp_net_start(r->net) == 0, "start");
}

/* Every frame sent must be something a receiver accepts. */
static void check_sent(const uint8_t *f, size_t len)
{
	struct wp_eth_repr e;
	struct wp_ipv4_repr ip;
	const uint8_t *l3;
	size_t n;

	fuzz_check(len >= WP_ETH_ZLEN && len <= WP_MTU_DEFAULT + WP_ETH_HLEN,
		   "sent length");
	fuzz_check(wp_eth_parse(f, len, &e, NULL) == 0, "sent eth");
	fuzz_check(memcmp(e.src.b, our_mac, 6) == 0, "sent from our MAC");
	l3 = f + wp_eth_hdr_len(&e);
	n = len - wp_eth_hdr_len(&e);
	if (e.ethertype == WP_ETH_P_ARP) {
		struct wp_arp_repr a;

		fuzz_check(wp_arp_parse(l3, n, &a, NULL) == 0, "sent arp");
		fuzz_check(a.spa == OUR_IP || a.spa == 0, "arp from us");
		return;
	}
	fuzz_check(e.ethertype == WP_ETH_P_IP, "sent ethertype");
	fuzz_check(wp_ipv4_parse(l3, n, &ip, NULL) == 0, "sent ipv4");
	fuzz_check(ip.saddr == OUR_IP, "sent from our address");
	if (wp_ipv4_is_fragment(&ip))
		return;
	l3 += wp_ipv4_hdr_len(&ip);
	if (ip.protocol == WP_IPPROTO_ICMP) {
		struct wp_icmp_repr m;

		fuzz_check(wp_icmp_parse(l3, ip.payload_len, 0, &m, NULL) == 0,
			   "sent icmp");
	} else if (ip.protocol == WP_IPPROTO_UDP) {
		struct wp_udp_repr u;

		fuzz_check(wp_udp_parse(l3, ip.payload_len, ip.saddr, ip.daddr,
					0, &u, NULL) == 0,
			   "sent udp");
	}
}

/* Play the TX firmware: check and complete every frame, reclaim. */
static void drain(struct rig *r)
{
	for (uint16_t q = 0; q < r->ncpus; q++) {
		const struct wp_tx_desc *d;

		while ((d = wp_nic_tx_fw_next(r->nic, q))) {
			check_sent((const uint8_t *)(uintptr_t)d->addr, d->len);
			wp_nic_tx_fw_done(r->nic, q);
		}
		wp_nic_clean_tx(r->nic, q);
	}
}

static void run_cores(struct rig *r)
{
	for (uint32_t i = 0; i < r->ncpus; i++)
		wp_cpu_run_once(&r->cpu[i]);
	drain(r);
}

static void advance(struct rig *r, uint64_t ns)
{
	uint64_t end = wp_clock_now(&r->clock) + ns;

	for (int guard = 0; guard < 10000; guard++) {
		uint64_t next = WP_TIME_NEVER;

		run_cores(r);
		for (uint32_t i = 0; i < r->ncpus; i++)
			if (r->cpu[i].next_timer_ns < next)
				next = r->cpu[i].next_timer_ns;
		if (next > end)
			break;
		if (next <= wp_clock_now(&r->clock))
			next = wp_clock_now(&r->clock) + 1;
		wp_clock_set(&r->clock, next);
	}
	wp_clock_set(&r->clock, end);
	run_cores(r);
}

static void inject(struct rig *r, uint16_t q, const uint8_t *f, size_t len)
{
	struct wp_skb_queue list;
	struct wp_skb *skb;

	skb = wp_alloc_skb(r->nic->rxq[q].pool, (uint32_t)len);
	fuzz_check(skb != NULL, "rx skb");
	if (len)
		memcpy(wp_skb_put(skb, (uint32_t)len), f, len);
	skb->queue_mapping = q;
	skb->tstamp = wp_clock_now(&r->clock);
	wp_skb_queue_init(&list);
	wp_skb_queue_tail(&list, skb);
	wp_netif_receive_skb_list(r->net, &r->nic->rxq[q].napi, &list);
	drain(r);
}

/*
 * Make the checksums right (the fuzzer cannot guess them). This is the
 * test's own reading of raw bytes, every offset checked against len.
 */
static void fix_checksums(uint8_t *f, size_t len)
{
	size_t ip = WP_ETH_HLEN, hl, tot, l4len;
	uint16_t frag;
	uint8_t *l4;

	if (len >= 18 && wp_get_be16(f + 12) == WP_ETH_P_8021Q)
		ip += 4;
	if (len < ip + WP_IPV4_HLEN || wp_get_be16(f + ip - 2) != WP_ETH_P_IP)
		return;
	hl = (size_t)(f[ip] & 0x0f) * 4;
	if (hl < WP_IPV4_HLEN || ip + hl > len)
		return;
	wp_put_be16(f + ip + 10, 0);
	wp_put_be16(f + ip + 10, wp_ip_compute_csum(f + ip, hl));
	tot = wp_get_be16(f + ip + 2);
	frag = wp_get_be16(f + ip + 6);
	if (tot < hl || ip + tot > len || (frag & 0x3fff))
		return;
	l4 = f + ip + hl;
	l4len = tot - hl;
	if (f[ip + 9] == WP_IPPROTO_ICMP && l4len >= WP_ICMP_HLEN) {
		wp_put_be16(l4 + 2, 0);
		wp_put_be16(l4 + 2, wp_ip_compute_csum(l4, l4len));
	} else if (f[ip + 9] == WP_IPPROTO_UDP && l4len >= WP_UDP_HLEN) {
		uint16_t c;

		wp_put_be16(l4 + 6, 0);
		c = wp_csum_tcpudp(wp_get_be32(f + ip + 12),
				   wp_get_be32(f + ip + 16), WP_IPPROTO_UDP, l4,
				   l4len);
		wp_put_be16(l4 + 6, c ? c : 0xffff);
	}
}

static void learn_peer(struct rig *r)
{
	struct wp_eth_repr e = { .ethertype = WP_ETH_P_ARP };
	struct wp_arp_repr a = { .op = WP_ARPOP_REQUEST,
				 .spa = PEER_IP,
				 .tpa = OUR_IP };
	uint8_t f[WP_ETH_ZLEN] = { 0 };

	memset(e.dst.b, 0xff, 6);
	memcpy(e.src.b, peer_mac, 6);
	memcpy(a.sha.b, peer_mac, 6);
	wp_eth_emit(&e, f, WP_ETH_HLEN);
	wp_arp_emit(&a, f + WP_ETH_HLEN, WP_ARP_HLEN);
	inject(r, 0, f, sizeof(f));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_udp_sock *usk = NULL;
	struct rig r;
	uint8_t flags;
	size_t off = 1;
	int frames = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	rig_up(&r, flags & 0x10 ? 2 : 1);
	run_cores(&r); /* the gratuitous ARP */
	if (flags & 0x02)
		learn_peer(&r);
	if (flags & 0x08) {
		usk = wp_udp_sock_alloc(r.net);
		fuzz_check(usk && wp_udp_bind(usk, 0, 9) == 0, "socket");
	}
	while (off < size && frames < MAX_FRAMES) {
		size_t len = size - off >= 2 ? wp_get_be16(data + off) : 0;
		uint8_t *f;

		off += 2;
		if (off > size)
			break;
		if (len > size - off)
			len = size - off;
		f = fuzz_dup(data + off, len);
		if (flags & 0x01)
			fix_checksums(f, len);
		inject(&r, (uint16_t)(frames % r.ncpus), f, len);
		free(f);
		off += len;
		frames++;
		if (flags & 0x04)
			advance(&r, WP_NSEC_PER_SEC);
	}
	advance(&r, 40 * WP_NSEC_PER_SEC);
	if (usk) {
		wp_udp_close(usk);
		wp_sock_put(&usk->sk);
	}
	wp_net_destroy(r.net);
	drain(&r);
	wp_nic_down(r.nic);
	for (uint16_t q = 0; q < r.ncpus; q++)
		fuzz_check(wp_pool_is_whole(r.nic->rxq[q].pool), "pool whole");
	wp_nic_destroy(r.nic);
	for (uint32_t i = 0; i < r.ncpus; i++)
		wp_cpu_destroy(&r.cpu[i]);
	return 0;
}
