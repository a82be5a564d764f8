// SPDX-License-Identifier: MIT
/*
 * GRO in the NAPI poll, with a connection behind it: TCP segments built
 * from the input are DMA'd into a real RX ring and polled on virtual
 * time, merged (or not) by GRO, and go on to IP and TCP, where a
 * listener accepted the connection of flow 0 and reads what arrives.
 *
 * Input: records of 6 bytes, one segment each (at most 256). Most byte
 * values make the plain case, a full segment of the flow in order, so
 * random inputs merge; the rarer values make everything else:
 *   b0  flow: < 0x80 flow 0 (connected), else b0 % 10 (source port
 *       40000 + flow)
 *   b1  < 0x80: seq in order, nothing changes. Else bits 0-2 where seq
 *       goes (0-3 next, 4 the last segment's again, 5 a segment further:
 *       a hole, 6 a segment back, 7 b5 * 97 ahead), bit 3 corrupt a
 *       payload byte after the checksum, bit 4 a new timestamp, bit 5 a
 *       new window, bit 6 a new ACK
 *   b2  payload: < 0xa0 a full segment (1448), else (b2 - 0xa0) * 16
 *       bytes, at most 1448 (0: a bare ACK)
 *   b3  >= 0xe0: flags from bits 0-4 (PSH FIN URG RST CWR); 0xff with
 *       b5 bit 7: SYN and ECE too
 *   b4  IP ID: < 0xc0 incrementing with DF, < 0xe0 fixed with DF,
 *       < 0xf0 b5 (DF from its bit 0), else fixed without DF
 *   b5  a value for the above; 0: poll after this segment (polls come
 *       every 64 segments anyway)
 * Every frame below 60 bytes is padded to 60, as a wire does.
 *
 * Invariants, on every skb NAPI hands up: the chain adds up (len is the
 * linear part plus each chain skb), a merged skb's IPv4 and TCP checksums
 * verify over the whole, and the payload of any skb whose checksum
 * verifies is the flow's bytes at its seq. Over the run: the segments
 * handed up (gso_segs, 1 for a lone one) are the frames DMA'd; what flow
 * 0's socket reads is its stream, in order. After teardown every pool is
 * whole again.
 */
#include "fuzz.h"

#include "irq/irq.h"
#include "napi/napi.h"
#include "net/net.h"
#include "nic/backend/backend.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "tcp/tcp_priv.h"
#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define OUR_PORT 80
#define PEER_PORT 40000
#define PEER_ISS 1000000u
#define MAX_SEGS 256
#define REC 6
#define MSS 1448 /* 1500 - 40 - a timestamp option */

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct rig {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu;
	struct wp_cpu *cpus[1];
	struct wp_nic *nic;
	struct wp_backend be;
	struct wp_net *net;
	uint32_t iss;	    /* the stack's, from its SYN-ACK */
	uint64_t segs_dmad; /* frames the NIC took */
	uint64_t segs_up;   /* segments in what NAPI handed up */
	uint8_t *lin;	    /* a linearized skb */
};

/* The byte at seq of flow port's stream. */
static uint8_t pat(uint16_t port, uint32_t seq)
{
	uint32_t x = (seq + port * 0x9e3779b9u) * 2654435761u;

	return (uint8_t)(x >> 24 ^ x >> 13);
}

static void check_skb(struct rig *r, const struct wp_skb *skb)
{
	uint32_t lin = wp_skb_headlen(skb), n = 0;
	struct wp_ipv4_repr ip;
	struct wp_tcp_repr th;
	const uint8_t *l4;

	for (const struct wp_skb *f = skb->frag_list; f; f = f->next) {
		fuzz_check(!f->frag_list, "chain skbs are linear");
		n += f->len;
	}
	fuzz_check(n == skb->data_len && lin + n == skb->len, "chain sums");
	fuzz_check(skb->gso_segs != 1, "gso_segs 0 or 2+");
	fuzz_check(!skb->frag_list == (skb->gso_segs == 0), "merged: chain");
	r->segs_up += skb->gso_segs ? skb->gso_segs : 1;
	fuzz_check(skb->len <= WP_ETH_HLEN + WP_IP_MAX_LEN, "size");
	fuzz_check(wp_skb_copy_bits(skb, 0, r->lin, skb->len) == 0, "copy");
	if (skb->len < WP_ETH_HLEN ||
	    wp_ipv4_parse(r->lin + WP_ETH_HLEN, skb->len - WP_ETH_HLEN, &ip,
			  NULL) ||
	    ip.protocol != WP_IPPROTO_TCP) {
		fuzz_check(!skb->gso_segs, "merged: a valid IPv4 header");
		return;
	}
	l4 = r->lin + WP_ETH_HLEN + wp_ipv4_hdr_len(&ip);
	if (wp_tcp_parse(l4, ip.payload_len, ip.saddr, ip.daddr, 0, &th,
			 NULL)) {
		fuzz_check(!skb->gso_segs, "merged: a valid TCP checksum");
		return;
	}
	for (size_t i = 0; i < th.payload_len; i++)
		fuzz_check(th.payload[i] == pat(th.sport, th.seq + (uint32_t)i),
			   "payload at its seq");
	if (skb->gso_segs)
		fuzz_check(th.payload_len > (size_t)skb->gso_size *
						    (skb->gso_segs - 1) &&
				   th.payload_len <= (size_t)skb->gso_size *
							     skb->gso_segs,
			   "gso_size * gso_segs");
}

static void rig_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *q)
{
	struct rig *r = ctx;

	for (struct wp_skb *skb = q->head; skb; skb = skb->next)
		check_skb(r, skb);
	wp_netif_receive_skb_list(r->net, napi, q);
}

static void rig_kick(struct wp_backend *be, uint16_t q)
{
	(void)be;
	(void)q;
}

static const struct wp_backend_ops rig_ops = { .name = "fuzz",
					       .tx_kick = rig_kick };

/* Play the TX firmware; remember the SYN-ACK's sequence number. */
static void drain(struct rig *r)
{
	const struct wp_tx_desc *d;

	while ((d = wp_nic_tx_fw_next(r->nic, 0))) {
		const uint8_t *f = (const uint8_t *)(uintptr_t)d->addr;
		struct wp_ipv4_repr ip;
		struct wp_tcp_repr th;

		if (d->len > WP_ETH_HLEN &&
		    wp_get_be16(f + 12) == WP_ETH_P_IP &&
		    !wp_ipv4_parse(f + WP_ETH_HLEN, d->len - WP_ETH_HLEN, &ip,
				   NULL) &&
		    ip.protocol == WP_IPPROTO_TCP &&
		    !wp_tcp_parse(f + WP_ETH_HLEN + wp_ipv4_hdr_len(&ip),
				  ip.payload_len, ip.saddr, ip.daddr, 0, &th,
				  NULL) &&
		    th.flags == (WP_TCP_SYN | WP_TCP_ACK))
			r->iss = th.seq;
		wp_nic_tx_fw_done(r->nic, 0);
	}
	wp_nic_clean_tx(r->nic, 0);
}

static void rig_up(struct rig *r)
{
	struct wp_coalesce_params p = { .rx_usecs = 0, .rx_frames = 1 };
	struct wp_nic_config nc;
	struct wp_net_config cfg;

	memset(r, 0, sizeof(*r));
	r->lin = malloc(WP_ETH_HLEN + WP_IP_MAX_LEN);
	fuzz_check(r->lin != NULL, "malloc");
	wp_clock_init_virtual(&r->clock, WP_NSEC_PER_SEC);
	wp_sysctl_init(&r->sysctl);
	r->cpus[0] = &r->cpu;
	wp_irq_table_init(&r->irqs, r->cpus, 1);
	wp_cpu_init(&r->cpu, 0, &r->clock, &r->sysctl, &r->irqs);
	wp_nic_config_default(&nc);
	/* Rings no larger than an input's segments need: the pools are
	 * made and freed per input, which the sanitizers make costly. */
	nc.rx_ring_size = 256;
	nc.tx_ring_size = 64;
	memcpy(nc.mac, our_mac, 6);
	r->nic = wp_nic_create(&nc, &r->clock, &r->irqs, r->cpus, 1, rig_rx, r);
	fuzz_check(r->nic != NULL, "nic");
	fuzz_check(wp_nic_set_coalesce(r->nic, &p) == 0, "coalesce");
	r->be.ops = &rig_ops;
	r->be.nic = r->nic;
	r->nic->backend = &r->be;
	wp_net_config_default(&cfg);
	memcpy(cfg.mac, our_mac, 6);
	cfg.addr = OUR_IP;
	cfg.prefix_len = 24;
	cfg.neigh_max = 16;
	r->net = wp_net_create(&cfg, &r->clock, &r->sysctl, r->nic, r->cpus, 1);
	fuzz_check(r->net != NULL, "net");
	fuzz_check(wp_net_start(r->net) == 0, "start");
}

static void run(struct rig *r)
{
	wp_clock_advance(&r->clock, 100 * WP_NSEC_PER_USEC);
	wp_cpu_run_once(&r->cpu);
	drain(r);
}

struct seg {
	uint16_t sport;
	uint32_t seq, ack;
	uint16_t flags, window, id;
	bool df, corrupt;
	uint32_t tsval;
	uint32_t plen;
};

/* Build the frame, padded to 60; DMA it. */
static void dma(struct rig *r, const struct seg *s)
{
	uint8_t f[WP_ETH_HLEN + WP_IPV4_HLEN + WP_TCP_HLEN_MAX + MSS + 64];
	uint8_t *ip = f + WP_ETH_HLEN, *l4 = ip + WP_IPV4_HLEN;
	struct wp_eth_repr e = { .ethertype = WP_ETH_P_IP };
	struct wp_tcp_repr t = {
		.sport = s->sport,
		.dport = OUR_PORT,
		.seq = s->seq,
		.ack_seq = s->ack,
		.flags = s->flags,
		.window = s->window,
		.opts = { .present = WP_TCP_OPT_TS,
			  .tsval = s->tsval,
			  .tsecr = 1 },
		.payload_len = s->plen,
	};
	struct wp_ipv4_repr ir = {
		.saddr = PEER_IP,
		.daddr = OUR_IP,
		.ttl = 64,
		.protocol = WP_IPPROTO_TCP,
		.id = s->id,
		.df = s->df,
	};
	size_t n;
	int hl;

	memcpy(e.dst.b, our_mac, 6);
	memcpy(e.src.b, peer_mac, 6);
	fuzz_check(wp_eth_emit(&e, f, WP_ETH_HLEN) == 0, "eth");
	if (!s->tsval)
		t.opts.present = 0;
	hl = wp_tcp_hdr_len(&t);
	for (uint32_t i = 0; i < s->plen; i++)
		l4[hl + (int)i] = pat(s->sport, s->seq + i);
	t.payload = l4 + hl;
	fuzz_check(wp_tcp_emit(&t, PEER_IP, OUR_IP, l4, (size_t)hl + s->plen) ==
			   0,
		   "tcp");
	ir.payload_len = (uint16_t)(hl + (int)s->plen);
	fuzz_check(wp_ipv4_emit(&ir, ip, WP_IPV4_HLEN) == 0, "ip");
	n = WP_ETH_HLEN + WP_IPV4_HLEN + (size_t)hl + s->plen;
	if (s->corrupt && s->plen)
		f[n - 1] ^= 0x01;
	if (n < WP_ETH_ZLEN) {
		memset(f + n, 0, WP_ETH_ZLEN - n);
		n = WP_ETH_ZLEN;
	}
	if (wp_nic_rx_frame(r->nic, f, (uint32_t)n, wp_clock_now(&r->clock)) >=
	    0)
		r->segs_dmad++;
}

/* The peer asks for us: we learn its address (our replies need it). */
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
	if (wp_nic_rx_frame(r->nic, f, sizeof(f), wp_clock_now(&r->clock)) >= 0)
		r->segs_dmad++;
	run(r);
}

/* The peer opens flow 0's connection: SYN, our SYN-ACK, ACK. */
static struct wp_tcp_sock *open_conn(struct rig *r, struct wp_tcp_sock **lp)
{
	struct wp_tcp_sock *l = wp_tcp_sock_alloc(r->net), *c;
	struct seg s = { .sport = PEER_PORT,
			 .seq = PEER_ISS,
			 .flags = WP_TCP_SYN,
			 .window = 65535,
			 .df = true };
	int err;

	fuzz_check(l && wp_tcp_bind(l, 0, OUR_PORT) == 0 &&
			   wp_tcp_listen(l, 4) == 0,
		   "listen");
	*lp = l;
	learn_peer(r);
	dma(r, &s);
	run(r);
	s.seq = PEER_ISS + 1;
	s.ack = r->iss + 1;
	s.flags = WP_TCP_ACK;
	s.id = 1;
	dma(r, &s);
	run(r);
	c = wp_tcp_accept(l, &err);
	fuzz_check(c != NULL, "accepted");
	return c;
}

/* Read what flow 0's socket has; it must be the stream, in order. */
static void read_conn(struct wp_tcp_sock *c, uint32_t *at)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = wp_tcp_recvmsg(c, buf, sizeof(buf), 0)) > 0)
		for (ssize_t i = 0; i < n; i++)
			fuzz_check(buf[i] == pat(PEER_PORT, (*at)++),
				   "read the stream in order");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_tcp_sock *l, *c;
	uint32_t next[10], last[10], at = PEER_ISS + 1;
	uint16_t ids[10] = { 0 };
	uint32_t tsval = 100, ack, window = 8192;
	struct rig r;
	int pending = 0;

	rig_up(&r);
	c = open_conn(&r, &l);
	ack = r.iss + 1;
	for (int f = 0; f < 10; f++)
		next[f] = last[f] = PEER_ISS + 1;
	for (size_t off = 0; off + REC <= size && off / REC < MAX_SEGS;
	     off += REC) {
		const uint8_t *b = data + off;
		int f = b[0] < 0x80 ? 0 : b[0] % 10;
		struct seg s = {
			.sport = (uint16_t)(PEER_PORT + f),
			.flags = WP_TCP_ACK,
			.plen = b[2] < 0xa0 ? MSS : (b[2] - 0xa0u) * 16u,
			.seq = next[f],
		};

		if (s.plen > MSS)
			s.plen = MSS;
		if (b[1] >= 0x80) {
			switch (b[1] & 7) {
			case 4:
				s.seq = last[f];
				break;
			case 5:
				s.seq = next[f] + MSS;
				break;
			case 6:
				s.seq = next[f] - MSS;
				break;
			case 7:
				s.seq = next[f] + b[5] * 97u;
				break;
			default:
				break;
			}
			s.corrupt = b[1] & 0x08;
			tsval += (b[1] >> 4) & 1;
			window ^= b[1] & 0x20 ? 0x100 : 0;
			ack += (b[1] >> 6) & 1;
		}
		if (b[3] >= 0xe0) {
			static const uint16_t bit[5] = { WP_TCP_PSH, WP_TCP_FIN,
							 WP_TCP_URG, WP_TCP_RST,
							 WP_TCP_CWR };

			for (int k = 0; k < 5; k++)
				if (b[3] & (1u << k))
					s.flags |= bit[k];
			if (b[3] == 0xff && (b[5] & 0x80))
				s.flags |= WP_TCP_SYN | WP_TCP_ECE;
		}
		s.ack = ack;
		s.window = (uint16_t)window;
		s.tsval = tsval;
		if (b[4] < 0xc0) {
			s.id = ids[f]++;
			s.df = true;
		} else if (b[4] < 0xe0) {
			s.id = ids[f];
			s.df = true;
		} else if (b[4] < 0xf0) {
			s.id = b[5];
			s.df = b[5] & 1;
		} else {
			s.id = ids[f];
		}
		dma(&r, &s);
		last[f] = s.seq;
		next[f] = s.seq + s.plen;
		if (!b[5] || ++pending == 64) {
			run(&r);
			read_conn(c, &at);
			pending = 0;
		}
	}
	run(&r);
	read_conn(c, &at);
	fuzz_check(r.segs_up == r.segs_dmad, "every segment went up once");
	/* Abort, let every timer run out, take it all down. */
	wp_tcp_set_linger(c, true, 0);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
	wp_tcp_close(l);
	wp_sock_put(&l->sk);
	for (int i = 0; i < 400; i++)
		run(&r);
	wp_clock_advance(&r.clock, 120 * WP_NSEC_PER_SEC);
	run(&r);
	wp_net_destroy(r.net);
	drain(&r);
	wp_nic_down(r.nic);
	fuzz_check(wp_pool_is_whole(r.nic->rxq[0].pool), "pool whole");
	wp_nic_destroy(r.nic);
	wp_cpu_destroy(&r.cpu);
	free(r.lin);
	return 0;
}
