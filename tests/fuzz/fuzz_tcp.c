// SPDX-License-Identifier: MIT
/*
 * TCP under hostile segments: a stack on virtual time (one core, the
 * peer 10.0.0.1 resolved) with a listener on port 80, a connection
 * accepted on it (peer port 40000, set up by a real handshake first) and
 * an active open of ours to 10.0.0.1:5555 left in SYN_SENT. The input is
 * a sequence of TCP segments the fuzzer describes field by field; the
 * target wraps each in valid Ethernet and IPv4 (and, unless asked not
 * to, a right TCP checksum), so what is exercised is TCP itself.
 *
 * Input: config(1), then up to 64 segments, each
 *   op(1) flags(2) seq(4) ack(4) window(2) urg(2) port(1) doff(1)
 *   optlen(1) paylen(2) options[optlen & 63, at most 40]
 * (big-endian; a short tail is zero-filled). Payload bytes are a
 * function of the sequence number, so overlapping copies agree.
 *
 * config:
 *   bit 0  net.ipv4.tcp_syncookies = 2 (every SYN to the listener gets
 *          a cookie, the first connection too)
 *   bit 1  the first connection negotiates MSS 1000, window scale 7,
 *          SACK and timestamps (else no options)
 *   bit 2  the smallest buffers (SO_RCVBUF/SO_SNDBUF 4608: the window
 *          closes soon)
 *   bit 3  tcp_challenge_ack_limit 3 (the rate limit is reached)
 * op:
 *   bits 0-1  to: 0 the accepted connection, 1 the listener (peer port
 *             40001 + port % 16), 2 our active open, 3 a closed port
 *   bit 2     seq and ack as given; else relative to what the peer
 *             should send: seq from the socket's rcv_nxt, ack from its
 *             snd_nxt (to the listener: from the last SYN-ACK to that
 *             port, so a cookie can be completed)
 *   bit 3     a wrong TCP checksum
 *   bit 4     the data offset field from doff (else the real one)
 *   bits 5-7  then: 0 nothing, 1 1 ms passes, 2 250 ms, 3 5 s, 4 the
 *             application reads all, 5 it sends paylen * 8 bytes (or
 *             accepts, to the listener), 6 shutdown(SHUT_WR), 7 close
 *
 * Invariants: every frame the stack sends parses at every layer with its
 * checksums (TCP too) and fits the MTU; after the run everything is
 * closed, two hours pass, and then no TCP socket is left alive and every
 * pool is whole.
 */
#include "fuzz.h"

#include "irq/irq.h"
#include "net/net.h"
#include "nic/backend/backend.h"
#include "nic/nic.h"
#include "tcp/tcp_priv.h"
#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define OUR_IP 0x0a000002u
#define PEER_IP 0x0a000001u
#define LPORT 80
#define CPORT 5555	/* the peer's port of our active open */
#define PEER_PORT 40000 /* of the accepted connection */
#define MAX_SEGS 64
#define SEG_HDR 20
#define MAX_ACCEPT 8

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
	/* The last SYN-ACK sent to each peer port 40000 + i. */
	uint32_t synack_seq[17], synack_ack[17], synack_tsval[17];
	bool synack_seen[17];
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

static void rig_up(struct rig *r)
{
	struct wp_nic_config nc;
	struct wp_net_config cfg;

	memset(r, 0, sizeof(*r));
	wp_clock_init_virtual(&r->clock, WP_NSEC_PER_SEC);
	wp_sysctl_init(&r->sysctl);
	r->cpus[0] = &r->cpu;
	wp_irq_table_init(&r->irqs, r->cpus, 1);
	wp_cpu_init(&r->cpu, 0, &r->clock, &r->sysctl, &r->irqs);
	wp_nic_config_default(&nc);
	nc.name = "wp0";
	nc.nqueues = 1;
	nc.rx_ring_size = 64;
	nc.tx_ring_size = 256;
	memcpy(nc.mac, our_mac, 6);
	r->nic = wp_nic_create(&nc, &r->clock, &r->irqs, r->cpus, 1, rig_rx, r);
	fuzz_check(r->nic != NULL, "nic");
	r->be.ops = &rig_ops;
	r->be.nic = r->nic;
	r->nic->backend = &r->be;
	wp_net_config_default(&cfg);
	memcpy(cfg.mac, our_mac, 6);
	cfg.addr = OUR_IP;
	cfg.prefix_len = 24;
	cfg.gw = 0x0a0000feu;
	r->net = wp_net_create(&cfg, &r->clock, &r->sysctl, r->nic, r->cpus, 1);
	fuzz_check(r->net != NULL, "net");
	fuzz_check(wp_net_start(r->net) == 0, "start");
}

/* Every frame sent must be something a receiver accepts. */
static void check_sent(struct rig *r, const uint8_t *f, size_t len)
{
	struct wp_eth_repr e;
	struct wp_ipv4_repr ip;
	struct wp_tcp_repr t;
	const uint8_t *l3;
	size_t n;

	fuzz_check(len >= WP_ETH_ZLEN && len <= WP_MTU_DEFAULT + WP_ETH_HLEN,
		   "sent length");
	fuzz_check(wp_eth_parse(f, len, &e, NULL) == 0, "sent eth");
	l3 = f + wp_eth_hdr_len(&e);
	n = len - wp_eth_hdr_len(&e);
	if (e.ethertype == WP_ETH_P_ARP) {
		struct wp_arp_repr a;

		fuzz_check(wp_arp_parse(l3, n, &a, NULL) == 0, "sent arp");
		return;
	}
	fuzz_check(e.ethertype == WP_ETH_P_IP, "sent ethertype");
	fuzz_check(wp_ipv4_parse(l3, n, &ip, NULL) == 0, "sent ipv4");
	fuzz_check(ip.saddr == OUR_IP, "sent from our address");
	fuzz_check(!wp_ipv4_is_fragment(&ip), "TCP is never fragmented");
	if (ip.protocol != WP_IPPROTO_TCP)
		return;
	l3 += wp_ipv4_hdr_len(&ip);
	fuzz_check(wp_tcp_parse(l3, ip.payload_len, ip.saddr, ip.daddr, 0, &t,
				NULL) == 0,
		   "sent tcp");
	fuzz_check(t.sport && t.dport, "sent ports");
	if ((t.flags & (WP_TCP_SYN | WP_TCP_ACK)) ==
		    (WP_TCP_SYN | WP_TCP_ACK) &&
	    ip.daddr == PEER_IP && t.dport >= PEER_PORT &&
	    t.dport <= PEER_PORT + 16) {
		uint32_t i = t.dport - PEER_PORT;

		r->synack_seq[i] = t.seq;
		r->synack_ack[i] = t.ack_seq;
		r->synack_tsval[i] = t.opts.tsval;
		r->synack_seen[i] = true;
	}
}

/* Play the TX firmware: check and complete every frame, reclaim. */
static void drain(struct rig *r)
{
	const struct wp_tx_desc *d;

	while ((d = wp_nic_tx_fw_next(r->nic, 0))) {
		check_sent(r, (const uint8_t *)(uintptr_t)d->addr, d->len);
		wp_nic_tx_fw_done(r->nic, 0);
	}
	wp_nic_clean_tx(r->nic, 0);
}

static void run_cores(struct rig *r)
{
	wp_cpu_run_once(&r->cpu);
	drain(r);
}

static void advance(struct rig *r, uint64_t ns)
{
	uint64_t end = wp_clock_now(&r->clock) + ns;

	for (int guard = 0; guard < 100000; guard++) {
		uint64_t next;

		run_cores(r);
		next = r->cpu.next_timer_ns;
		if (next > end)
			break;
		if (next <= wp_clock_now(&r->clock))
			next = wp_clock_now(&r->clock) + 1;
		wp_clock_set(&r->clock, next);
	}
	wp_clock_set(&r->clock, end);
	run_cores(r);
}

static void inject(struct rig *r, const uint8_t *f, size_t len)
{
	struct wp_skb_queue list;
	struct wp_skb *skb;

	skb = wp_alloc_skb(r->nic->rxq[0].pool, (uint32_t)len);
	fuzz_check(skb != NULL, "rx skb");
	memcpy(wp_skb_put(skb, (uint32_t)len), f, len);
	skb->queue_mapping = 0;
	skb->tstamp = wp_clock_now(&r->clock);
	wp_skb_queue_init(&list);
	wp_skb_queue_tail(&list, skb);
	wp_netif_receive_skb_list(r->net, &r->nic->rxq[0].napi, &list);
	run_cores(r);
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
	inject(r, f, sizeof(f));
}

/* One segment as the fuzzer describes it. */
struct seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags, window, urg;
	int doff; /* -1: the real one */
	bool bad_csum;
	const uint8_t *opt;
	size_t optlen;
	size_t paylen;
};

/* Wrap the segment in Ethernet and IPv4 and hand it to the stack. */
static void send_seg(struct rig *r, const struct seg *s)
{
	static uint8_t f[WP_ETH_HLEN + WP_IPV4_HLEN + WP_TCP_HLEN_MAX + 1460];
	uint8_t *tcp = f + WP_ETH_HLEN + WP_IPV4_HLEN;
	size_t ol = (s->optlen + 3) & ~(size_t)3;
	size_t hl = WP_TCP_HLEN + ol, len = hl + s->paylen;
	struct wp_eth_repr e = { .ethertype = WP_ETH_P_IP };
	struct wp_ipv4_repr ip = {
		.saddr = PEER_IP,
		.daddr = OUR_IP,
		.ttl = 64,
		.protocol = WP_IPPROTO_TCP,
		.df = true,
		.payload_len = (uint16_t)len,
	};
	uint8_t doff = (uint8_t)(s->doff >= 0 ? s->doff : (int)(hl / 4));
	uint16_t c;

	memcpy(e.dst.b, our_mac, 6);
	memcpy(e.src.b, peer_mac, 6);
	fuzz_check(wp_eth_emit(&e, f, WP_ETH_HLEN) == 0, "emit eth");
	fuzz_check(wp_ipv4_emit(&ip, f + WP_ETH_HLEN, WP_IPV4_HLEN) == 0,
		   "emit ipv4");
	wp_put_be16(tcp, s->sport);
	wp_put_be16(tcp + 2, s->dport);
	wp_put_be32(tcp + 4, s->seq);
	wp_put_be32(tcp + 8, s->ack);
	wp_put_be16(tcp + 12, (uint16_t)((doff & 0xf) << 12 |
					 (s->flags & WP_TCP_FLAGS_MASK)));
	wp_put_be16(tcp + 14, s->window);
	wp_put_be16(tcp + 16, 0);
	wp_put_be16(tcp + 18, s->urg);
	memset(tcp + WP_TCP_HLEN, WP_TCPOPT_EOL, ol);
	if (s->optlen)
		memcpy(tcp + WP_TCP_HLEN, s->opt, s->optlen);
	/* Payload byte k is a function of its sequence number. */
	for (size_t k = 0; k < s->paylen; k++)
		tcp[hl + k] = (uint8_t)((s->seq +
					 (s->flags & WP_TCP_SYN ? 1 : 0) + k) *
					0x9d);
	c = wp_tcp_csum(PEER_IP, OUR_IP, tcp, len);
	wp_put_be16(tcp + 16, s->bad_csum ? (uint16_t)(c ^ 0x5a5a) : c);
	inject(r, f, WP_ETH_HLEN + WP_IPV4_HLEN + len);
}

/* The first connection: a real handshake from the peer. */
static struct wp_tcp_sock *handshake(struct rig *r, struct wp_tcp_sock *l,
				     bool opts)
{
	static const uint8_t syn_opts[] = {
		WP_TCPOPT_MSS,
		4,
		0x03,
		0xe8, /* MSS 1000 */
		WP_TCPOPT_SACK_PERM,
		2, /* SACK */
		WP_TCPOPT_TIMESTAMP,
		10,
		0,
		0,
		0,
		100,
		0,
		0,
		0,
		0,
		WP_TCPOPT_NOP,
		WP_TCPOPT_WINDOW,
		3,
		7,
	};
	struct seg s = {
		.sport = PEER_PORT,
		.dport = LPORT,
		.seq = 1000000,
		.flags = WP_TCP_SYN,
		.window = 65535,
		.doff = -1,
		.opt = opts ? syn_opts : NULL,
		.optlen = opts ? sizeof(syn_opts) : 0,
	};
	/* NOP NOP TS(TSval 101, TSecr: the SYN-ACK's TSval) */
	uint8_t ack_opts[12] = { 1, 1, 8, 10, 0, 0, 0, 101 };
	struct wp_tcp_sock *c;
	int err;

	send_seg(r, &s);
	fuzz_check(r->synack_seen[0], "SYN-ACK");
	/* TSecr: a cookie keeps the window scale and SACK there. */
	wp_put_be32(ack_opts + 8, r->synack_tsval[0]);
	s.flags = WP_TCP_ACK;
	s.seq = 1000001;
	s.ack = r->synack_seq[0] + 1;
	s.window = 1024;
	if (opts) {
		s.opt = ack_opts;
		s.optlen = sizeof(ack_opts);
	} else {
		s.opt = NULL;
		s.optlen = 0;
	}
	send_seg(r, &s);
	c = wp_tcp_accept(l, &err);
	fuzz_check(c != NULL, "first connection accepted");
	return c;
}

struct app {
	struct wp_tcp_sock *l, *srv, *cli;
	/* Held to the end, so sequence numbers can be taken relative to
	 * them after the application closed them. */
	struct wp_tcp_sock *srv_k, *cli_k;
	struct wp_tcp_sock *acc[MAX_ACCEPT];
	uint32_t nacc;
};

static void app_close(struct wp_tcp_sock **tp)
{
	if (!*tp)
		return;
	wp_tcp_close(*tp);
	wp_sock_put(&(*tp)->sk);
	*tp = NULL;
}

static void app_read(struct wp_tcp_sock *tp)
{
	static uint8_t buf[4096];

	if (!tp)
		return;
	while (wp_tcp_recvmsg(tp, buf, sizeof(buf), 0) > 0)
		;
}

static void app_send(struct wp_tcp_sock *tp, size_t n)
{
	static uint8_t buf[16384];

	if (!tp)
		return;
	if (n > sizeof(buf))
		n = sizeof(buf);
	memset(buf, 0x61, n);
	(void)wp_tcp_sendmsg(tp, buf, n);
}

static void app_action(struct rig *r, struct app *a, unsigned to, unsigned act,
		       size_t paylen)
{
	struct wp_tcp_sock **tp = to == 2 ? &a->cli : &a->srv;
	int err;

	switch (act) {
	case 1:
		advance(r, WP_NSEC_PER_MSEC);
		break;
	case 2:
		advance(r, 250 * WP_NSEC_PER_MSEC);
		break;
	case 3:
		advance(r, 5 * WP_NSEC_PER_SEC);
		break;
	case 4:
		app_read(*tp);
		break;
	case 5:
		if (to == 1) {
			struct wp_tcp_sock *c = wp_tcp_accept(a->l, &err);

			if (c && a->nacc < MAX_ACCEPT)
				a->acc[a->nacc++] = c;
			else if (c)
				app_close(&c);
			break;
		}
		app_send(*tp, paylen * 8);
		break;
	case 6:
		if (*tp)
			(void)wp_tcp_shutdown(*tp, WP_SHUT_WR);
		break;
	case 7:
		app_close(tp);
		break;
	default:
		break;
	}
	run_cores(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app a = { 0 };
	struct rig r;
	uint8_t cfg;
	size_t off = 1;

	if (size < 1)
		return 0;
	cfg = data[0];
	rig_up(&r);
	run_cores(&r); /* the gratuitous ARP */
	learn_peer(&r);
	if (cfg & 0x01)
		wp_sysctl_set(&r.sysctl, "net.ipv4.tcp_syncookies", "2");
	if (cfg & 0x08)
		wp_sysctl_set(&r.sysctl, "net.ipv4.tcp_challenge_ack_limit",
			      "3");
	a.l = wp_tcp_sock_alloc(r.net);
	fuzz_check(a.l != NULL, "listener");
	if (cfg & 0x04) {
		wp_tcp_set_rcvbuf(a.l, 1);
		wp_tcp_set_sndbuf(a.l, 1);
	}
	fuzz_check(wp_tcp_bind(a.l, 0, LPORT) == 0 &&
			   wp_tcp_listen(a.l, 4) == 0,
		   "listen");
	a.srv = handshake(&r, a.l, cfg & 0x02);
	a.cli = wp_tcp_sock_alloc(r.net);
	fuzz_check(a.cli != NULL, "client");
	fuzz_check(wp_tcp_connect(a.cli, PEER_IP, CPORT) == -EINPROGRESS,
		   "connect");
	run_cores(&r);
	a.srv_k = a.srv;
	a.cli_k = a.cli;
	wp_sock_hold(&a.srv_k->sk);
	wp_sock_hold(&a.cli_k->sk);

	for (int k = 0; k < MAX_SEGS && off < size; k++) {
		uint8_t h[SEG_HDR] = { 0 };
		size_t n = size - off < SEG_HDR ? size - off : SEG_HDR;
		struct wp_tcp_sock *tp;
		unsigned to, act;
		struct seg s;

		memcpy(h, data + off, n);
		off += n;
		to = h[0] & 3;
		act = h[0] >> 5;
		s.flags = wp_get_be16(h + 1) & WP_TCP_FLAGS_MASK;
		s.seq = wp_get_be32(h + 3);
		s.ack = wp_get_be32(h + 7);
		s.window = wp_get_be16(h + 11);
		s.urg = wp_get_be16(h + 13);
		s.doff = (h[0] & 0x10) ? h[16] & 0xf : -1;
		s.bad_csum = h[0] & 0x08;
		s.optlen = h[17] & 63;
		if (s.optlen > WP_TCP_OPTS_MAX)
			s.optlen = WP_TCP_OPTS_MAX;
		if (s.optlen > size - off)
			s.optlen = size - off;
		s.opt = data + off;
		off += s.optlen;
		s.paylen = wp_get_be16(h + 18) % 1401;
		s.dport = LPORT;
		switch (to) {
		case 0:
			s.sport = PEER_PORT;
			tp = a.srv_k;
			break;
		case 1:
			s.sport = (uint16_t)(PEER_PORT + 1 + h[15] % 16);
			tp = NULL;
			break;
		case 2:
			s.sport = CPORT;
			s.dport = a.cli_k->sport;
			tp = a.cli_k;
			break;
		default:
			s.sport = (uint16_t)(PEER_PORT + h[15]);
			s.dport = 81;
			tp = NULL;
			break;
		}
		if (!(h[0] & 0x04)) {
			if (tp) {
				s.seq += tp->rcv_nxt;
				s.ack += tp->snd_nxt;
			} else if (to == 1 &&
				   r.synack_seen[s.sport - PEER_PORT]) {
				s.seq += r.synack_ack[s.sport - PEER_PORT];
				s.ack += r.synack_seq[s.sport - PEER_PORT] + 1;
			}
		}
		send_seg(&r, &s);
		app_action(&r, &a, to, act, s.paylen);
	}

	/* Everything closes; two hours pass (RTO backoff to tcp_retries2,
	 * FIN_WAIT2 and TIME_WAIT, SYN-ACK retries): nothing may be left. */
	app_close(&a.srv);
	app_close(&a.cli);
	for (uint32_t i = 0; i < a.nacc; i++)
		app_close(&a.acc[i]);
	app_close(&a.l);
	wp_sock_put(&a.srv_k->sk);
	wp_sock_put(&a.cli_k->sk);
	for (int i = 0; i < 120; i++)
		advance(&r, 60 * WP_NSEC_PER_SEC);
	if (atomic_load(&r.net->tcp->nsocks) != 0) {
		fprintf(stderr, "%u TCP sockets alive after 2 h\n",
			atomic_load(&r.net->tcp->nsocks));
		wp_tcp_print_sockets(r.net, stderr);
		fuzz_check(false, "every TCP socket gone");
	}
	wp_net_destroy(r.net);
	drain(&r);
	wp_nic_down(r.nic);
	fuzz_check(wp_pool_is_whole(r.nic->rxq[0].pool), "pool whole");
	wp_nic_destroy(r.nic);
	wp_cpu_destroy(&r.cpu);
	return 0;
}
