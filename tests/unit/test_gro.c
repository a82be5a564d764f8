// SPDX-License-Identifier: MIT
/*
 * GRO in the NAPI poll, on virtual time: crafted TCP/IPv4 segments are
 * DMA'd into the real RX ring (wp_nic_rx_frame), the core takes the
 * interrupt and polls, GRO merges, and the skbs NAPI hands up are looked
 * at (length, segments, both checksums over the whole chain, flags)
 * before they go on to IP and TCP (test_net_common.h: one NIC, one
 * protocol layer, the test playing the peer). Where a connection is
 * open, the data must come out of wp_tcp_recvmsg byte for byte.
 *
 * Covered: in-order merging up to 64 KB; PSH, FIN, RST and URG; a hole
 * (out of order, an OFO-merged skb); option, window and ACK changes; a
 * short segment ending the flow, a longer one not joining it; a corrupt
 * checksum never merged; IP ID rules; nine flows against eight slots;
 * ethtool -K gro off. Teardown checks every pool is whole.
 */
#include "test_net_common.h"

#include "net/net_priv.h"
#include "tcp/tcp_priv.h"
#include "wire/tcp.h"

#define PEER_PORT 40000
#define OUR_PORT 80
#define PEER_ISS 1000000u
#define MSS 1460
#define MAX_REC 256

/* What NAPI handed up, one skb. */
struct rec {
	uint32_t len;	  /* frame bytes, chain included */
	uint32_t payload; /* TCP payload bytes */
	uint16_t segs;	  /* gso_segs */
	uint16_t gso_size;
	uint16_t flags; /* TCP flags in the (merged) header */
	uint16_t sport;
	uint32_t seq;
	bool chained;
	bool csum_ok;	 /* IPv4 and TCP checksums over the whole */
	bool payload_ok; /* payload bytes are pat(seq + i) */
};

struct gfx {
	struct nfx *fx;
	struct rec rec[MAX_REC];
	int nrec;
	/* the connection, when one is open */
	struct wp_tcp_sock *l, *c;
	uint32_t iss;  /* ours */
	uint32_t base; /* the peer's first data byte */
};

/* The peer's byte at sequence number seq: any function of seq works. */
static uint8_t pat(uint32_t seq)
{
	uint32_t x = seq * 2654435761u;

	return (uint8_t)(x >> 24 ^ x >> 11);
}

static void record(struct gfx *g, const struct wp_skb *skb)
{
	static uint8_t buf[70000];
	struct rec *r = &g->rec[g->nrec];
	struct wp_ipv4_repr ip;
	struct wp_tcp_repr th;

	assert_true(g->nrec < MAX_REC);
	g->nrec++;
	memset(r, 0, sizeof(*r));
	r->len = skb->len;
	r->segs = skb->gso_segs;
	r->gso_size = skb->gso_size;
	r->chained = wp_skb_is_nonlinear(skb);
	assert_true(skb->len <= sizeof(buf));
	assert_int_equal(wp_skb_copy_bits(skb, 0, buf, skb->len), 0);
	/* Verified from scratch over the linearized frame: the merged
	 * headers must be what a sender of one big segment would send. */
	if (skb->len < WP_ETH_HLEN ||
	    wp_ipv4_parse(buf + WP_ETH_HLEN, skb->len - WP_ETH_HLEN, &ip,
			  NULL) ||
	    ip.protocol != WP_IPPROTO_TCP)
		return;
	r->csum_ok = wp_tcp_parse(buf + WP_ETH_HLEN + wp_ipv4_hdr_len(&ip),
				  ip.payload_len, ip.saddr, ip.daddr, 0, &th,
				  NULL) == 0;
	if (wp_tcp_parse(buf + WP_ETH_HLEN + wp_ipv4_hdr_len(&ip),
			 ip.payload_len, ip.saddr, ip.daddr,
			 WP_WIRE_CSUM_UNNECESSARY, &th, NULL))
		return;
	r->payload = (uint32_t)th.payload_len;
	r->flags = th.flags;
	r->sport = th.sport;
	r->seq = th.seq;
	r->payload_ok = true;
	for (uint32_t i = 0; i < th.payload_len; i++)
		if (th.payload[i] != pat(th.seq + i))
			r->payload_ok = false;
}

/* NAPI's handler: look at each skb, then on to the protocol layer. */
static void rec_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct gfx *g = ctx;

	for (struct wp_skb *skb = skbs->head; skb; skb = skb->next)
		record(g, skb);
	wp_netif_receive_skb_list(g->fx->net, napi, skbs);
}

static int setup(void **state)
{
	struct gfx *g = calloc(1, sizeof(*g));
	struct wp_coalesce_params p = { .rx_usecs = 0, .rx_frames = 1 };

	assert_non_null(g);
	g->fx = nfx_new(1, 1, NULL);
	nfx_learn_peer(g->fx);
	/* An interrupt per frame: the frames a test DMAs before it runs
	 * the core are all there for one poll. */
	assert_int_equal(wp_nic_set_coalesce(g->fx->nic, &p), 0);
	g->fx->nic->rxq[0].napi.rx_handler = rec_rx;
	g->fx->nic->rxq[0].napi.rx_ctx = g;
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct gfx *g = *state;

	nfx_advance(g->fx, 0);
	assert_int_equal(atomic_load(&g->fx->net->tcp->nsocks), 0);
	nfx_free(g->fx);
	free(g);
	return 0;
}

/* --- the peer ------------------------------------------------------------ */

struct seg {
	uint32_t seq;
	uint32_t ack;
	uint16_t flags;
	uint32_t plen;
	uint16_t window;
	uint16_t sport;
	uint16_t id;
	bool df;
	bool ts;
	uint32_t tsval;
	bool corrupt; /* flip a payload bit after the checksum */
};

static struct seg data_seg(const struct gfx *g, uint32_t seq, uint32_t plen)
{
	struct seg s = {
		.seq = seq,
		.ack = g->iss + 1,
		.flags = WP_TCP_ACK,
		.plen = plen,
		.window = 8192,
		.sport = PEER_PORT,
		.df = true,
	};

	return s;
}

static size_t frame_of(uint8_t *f, const struct seg *s)
{
	static uint8_t m[WP_TCP_HLEN_MAX + 2048];
	uint8_t payload[2048];
	struct wp_tcp_repr t = {
		.sport = s->sport,
		.dport = OUR_PORT,
		.seq = s->seq,
		.ack_seq = s->ack,
		.flags = s->flags,
		.window = s->window,
		.payload = payload,
		.payload_len = s->plen,
	};
	struct wp_ipv4_repr r;
	size_t n;
	int hl;

	assert_true(s->plen <= sizeof(payload));
	for (uint32_t i = 0; i < s->plen; i++)
		payload[i] = pat(s->seq + i);
	if (s->ts) {
		t.opts.present = WP_TCP_OPT_TS;
		t.opts.tsval = s->tsval;
		t.opts.tsecr = 1;
	}
	hl = wp_tcp_hdr_len(&t);
	assert_int_equal(
		wp_tcp_emit(&t, PEER_IP, OUR_IP, m, (size_t)hl + s->plen), 0);
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, (size_t)hl + s->plen);
	r.id = s->id;
	r.df = s->df;
	n = ip_frame(f, &r, m);
	if (s->corrupt)
		f[n - 1] ^= 0x40;
	return n;
}

/* DMA segments into the RX ring; the next run polls them together. */
static void dma(struct gfx *g, const struct seg *s, int n)
{
	uint8_t f[2200];

	for (int i = 0; i < n; i++) {
		size_t len = frame_of(f, &s[i]);

		assert_int_equal(wp_nic_rx_frame(g->fx->nic, f, (uint32_t)len,
						 nfx_now(g->fx)),
				 0);
	}
}

/* One poll over what was DMA'd (the test resets the records first). */
static void poll_now(struct gfx *g)
{
	g->nrec = 0;
	nfx_clear_tx(g->fx);
	nfx_run(g->fx);
	assert_int_equal(wp_nic_rx_pending(g->fx->nic, 0), 0);
}

static void assert_rec(const struct gfx *g, int i, uint32_t seq, int segs,
		       uint32_t payload)
{
	const struct rec *r = &g->rec[i];

	assert_true(i < g->nrec);
	assert_int_equal(r->seq, seq);
	assert_int_equal(r->segs > 1 ? r->segs : 1, segs);
	assert_int_equal(r->payload, payload);
	assert_true(r->csum_ok);
	assert_true(r->payload_ok);
	assert_int_equal(r->chained, segs > 1);
}

/* --- a connection ----------------------------------------------------------
 */

/* The peer opens a connection to OUR_PORT (window scaling, so more than
 * 64 KB can be in flight), we accept it. */
static void open_conn(struct gfx *g)
{
	struct nfx *fx = g->fx;
	struct wp_tcp_repr t = {
		.sport = PEER_PORT,
		.dport = OUR_PORT,
		.seq = PEER_ISS,
		.flags = WP_TCP_SYN,
		.window = 65535,
		.opts = { .present = WP_TCP_OPT_MSS | WP_TCP_OPT_WSCALE,
			  .mss = MSS,
			  .wscale = 7 },
	};
	struct wp_tcp_repr r;
	struct parsed p;
	uint8_t f[200], m[80];
	struct wp_ipv4_repr ir;
	int err, hl;

	g->l = wp_tcp_sock_alloc(fx->net);
	assert_non_null(g->l);
	assert_int_equal(wp_tcp_bind(g->l, 0, OUR_PORT), 0);
	assert_int_equal(wp_tcp_listen(g->l, 4), 0);
	hl = wp_tcp_hdr_len(&t);
	assert_int_equal(wp_tcp_emit(&t, PEER_IP, OUR_IP, m, (size_t)hl), 0);
	ir = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, (size_t)hl);
	nfx_clear_tx(fx);
	nfx_inject(fx, f, ip_frame(f, &ir, m));
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_int_equal(wp_tcp_parse(p.l4, p.l4_len, p.ip.saddr, p.ip.daddr, 0,
				      &r, NULL),
			 0);
	g->iss = r.seq;
	t = (struct wp_tcp_repr){ .sport = PEER_PORT,
				  .dport = OUR_PORT,
				  .seq = PEER_ISS + 1,
				  .ack_seq = g->iss + 1,
				  .flags = WP_TCP_ACK,
				  .window = 8192 };
	assert_int_equal(wp_tcp_emit(&t, PEER_IP, OUR_IP, m, WP_TCP_HLEN), 0);
	ir = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, WP_TCP_HLEN);
	nfx_inject(fx, f, ip_frame(f, &ir, m));
	g->c = wp_tcp_accept(g->l, &err);
	assert_non_null(g->c);
	assert_int_equal(wp_sk_state(&g->c->sk), WP_TCP_ESTABLISHED);
	g->base = PEER_ISS + 1;
	nfx_clear_tx(fx);
}

static void close_conn(struct gfx *g)
{
	wp_tcp_set_linger(g->c, true, 0);
	wp_tcp_close(g->c);
	wp_sock_put(&g->c->sk);
	wp_tcp_close(g->l);
	wp_sock_put(&g->l->sk);
	nfx_advance(g->fx, WP_NSEC_PER_MSEC);
}

/* Read everything there is, in reads of `chunk` bytes; check it is the
 * peer's stream from byte `from` on. Returns the bytes read. */
static uint32_t read_all(struct gfx *g, uint32_t from, size_t chunk)
{
	static uint8_t buf[200000];
	uint32_t got = 0;
	ssize_t n;

	while ((n = wp_tcp_recvmsg(g->c, buf, chunk, 0)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			assert_int_equal(buf[i], pat(from + got + (uint32_t)i));
		got += (uint32_t)n;
	}
	return got;
}

/* The last ACK we sent acknowledges `ack`. */
static void assert_acked(struct gfx *g, uint32_t ack)
{
	struct nfx *fx = g->fx;
	struct wp_tcp_repr r;
	struct parsed p;

	assert_true(fx->ntx > 0);
	parse_frame(&fx->tx[fx->ntx - 1], &p);
	assert_int_equal(wp_tcp_parse(p.l4, p.l4_len, p.ip.saddr, p.ip.daddr, 0,
				      &r, NULL),
			 0);
	assert_true(r.flags & WP_TCP_ACK);
	assert_int_equal(r.ack_seq, ack);
}

static void gro_counts(struct gfx *g, struct wp_gro_stats *st)
{
	wp_napi_gro_stats(&g->fx->nic->rxq[0].napi, st);
}

/* --- tests -------------------------------------------------------------------
 */

/*
 * 50 full segments in one poll: 44 fill a datagram (40 + 44 * 1460 =
 * 64280 bytes; a 45th would pass 65535), the other 6 make a second skb.
 * TCP counts InSegs per skb and segs_in per segment, ACKs each GRO skb
 * at once, and the reader gets every byte, in small and large reads.
 */
static void in_order_merge_up_to_64k(void **state)
{
	struct gfx *g = *state;
	struct seg s[50];
	struct wp_net_mib m0, m1;
	struct wp_gro_stats st;
	struct wp_tcp_info info0, info1;

	open_conn(g);
	wp_tcp_get_info(g->c, &info0);
	for (int i = 0; i < 50; i++)
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
	for (int i = 0; i < 50; i++)
		s[i].id = (uint16_t)(100 + i);
	nfx_mib(g->fx, &m0);
	dma(g, s, 50);
	poll_now(g);
	assert_int_equal(g->nrec, 2);
	assert_rec(g, 0, g->base, 44, 44 * MSS);
	assert_int_equal(g->rec[0].len, WP_ETH_HLEN + 40 + 44 * MSS);
	assert_int_equal(g->rec[0].gso_size, MSS);
	assert_rec(g, 1, g->base + 44 * MSS, 6, 6 * MSS);
	gro_counts(g, &st);
	assert_int_equal(st.held, 2);
	assert_int_equal(st.merged, 48);
	assert_int_equal(st.flush, 2);
	assert_int_equal(st.skbs, 2);
	assert_int_equal(st.packets, 50);
	assert_int_equal(st.bytes, 50 * (WP_ETH_HLEN + 40 + MSS));
	nfx_mib(g->fx, &m1);
	assert_int_equal(m1.TcpInSegs - m0.TcpInSegs, 2);
	assert_int_equal(m1.InReceives - m0.InReceives, 2);
	assert_int_equal(m1.TcpInCsumErrors, 0);
	assert_int_equal(m1.TCPZeroWindowDrop + m1.TCPRcvQDrop, 0);
	wp_tcp_get_info(g->c, &info1);
	assert_int_equal(info1.segs_in - info0.segs_in, 50);
	/* An ACK for each GRO skb, the last for all of it. */
	assert_int_equal(g->fx->ntx, 2);
	assert_acked(g, g->base + 50 * MSS);
	/* Odd-sized reads cross every chain boundary. */
	assert_int_equal(read_all(g, g->base, 1000), 50 * MSS);
	assert_int_equal(atomic_load(&g->c->sk.sk_rmem_alloc), 0);
	close_conn(g);
}

/* PSH ends a flow after joining it; the segments after start another. */
static void psh_ends_the_merge(void **state)
{
	struct gfx *g = *state;
	struct seg s[6];

	open_conn(g);
	for (int i = 0; i < 6; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
		s[i].id = (uint16_t)i;
	}
	s[3].flags |= WP_TCP_PSH;
	dma(g, s, 6);
	poll_now(g);
	assert_int_equal(g->nrec, 2);
	assert_rec(g, 0, g->base, 4, 4 * MSS);
	assert_true(g->rec[0].flags & WP_TCP_PSH);
	assert_rec(g, 1, g->base + 4 * MSS, 2, 2 * MSS);
	assert_false(g->rec[1].flags & WP_TCP_PSH);
	assert_int_equal(read_all(g, g->base, 65536), 6 * MSS);
	close_conn(g);
}

/* Data with FIN joins the flow (Linux ORs FIN into the merged header)
 * and ends it; TCP takes the data and the FIN from the one skb. */
static void fin_joins_and_ends(void **state)
{
	struct gfx *g = *state;
	struct seg s[3];

	open_conn(g);
	for (int i = 0; i < 3; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
		s[i].id = (uint16_t)i;
	}
	s[2].flags |= WP_TCP_FIN;
	dma(g, s, 3);
	poll_now(g);
	assert_int_equal(g->nrec, 1);
	assert_rec(g, 0, g->base, 3, 3 * MSS);
	assert_true(g->rec[0].flags & WP_TCP_FIN);
	assert_int_equal(wp_sk_state(&g->c->sk), WP_TCP_CLOSE_WAIT);
	assert_acked(g, g->base + 3 * MSS + 1);
	assert_int_equal(read_all(g, g->base, 65536), 3 * MSS);
	close_conn(g);
}

/* RST and URG never join: the held flow goes up first, then they do,
 * alone. A bare FIN (no payload) does not join either. */
static void rst_urg_and_bare_fin_flush(void **state)
{
	struct gfx *g = *state;
	struct seg s[6];
	uint32_t b = 5000;

	g->iss = 0; /* no connection: GRO does not need one */
	for (int i = 0; i < 6; i++) {
		s[i] = data_seg(g, b + (uint32_t)i * 100, 100);
		s[i].id = (uint16_t)i;
	}
	s[2].flags |= WP_TCP_URG;
	s[5].flags = WP_TCP_RST | WP_TCP_ACK;
	s[5].plen = 0;
	dma(g, s, 6);
	poll_now(g);
	assert_int_equal(g->nrec, 4);
	assert_rec(g, 0, b, 2, 200);
	assert_rec(g, 1, b + 200, 1, 100);
	assert_true(g->rec[1].flags & WP_TCP_URG);
	assert_rec(g, 2, b + 300, 2, 200);
	assert_rec(g, 3, b + 500, 1, 0);
	assert_true(g->rec[3].flags & WP_TCP_RST);

	for (int i = 0; i < 3; i++) {
		s[i] = data_seg(g, b + (uint32_t)i * 100, 100);
		s[i].id = (uint16_t)i;
	}
	s[2].flags = WP_TCP_FIN | WP_TCP_ACK;
	s[2].plen = 0;
	dma(g, s, 3);
	poll_now(g);
	assert_int_equal(g->nrec, 2);
	assert_rec(g, 0, b, 2, 200);
	assert_rec(g, 1, b + 200, 1, 0);
	assert_true(g->rec[1].flags & WP_TCP_FIN);
}

/*
 * A hole: 1-2 merge, 4-5 merge and go to the out-of-order queue as one
 * skb (SACKed at once), 3 comes in the next poll and fills it; the
 * reader gets the stream in order.
 */
static void out_of_order(void **state)
{
	struct gfx *g = *state;
	struct seg s[5];
	struct wp_net_mib m;

	open_conn(g);
	for (int i = 0; i < 5; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
		s[i].id = (uint16_t)i;
	}
	dma(g, s, 2);
	dma(g, s + 3, 2);
	poll_now(g);
	assert_int_equal(g->nrec, 2);
	assert_rec(g, 0, g->base, 2, 2 * MSS);
	assert_rec(g, 1, g->base + 3 * MSS, 2, 2 * MSS);
	assert_int_equal(g->c->ofo.qlen, 1);
	assert_acked(g, g->base + 2 * MSS);
	nfx_mib(g->fx, &m);
	assert_int_equal(m.TCPOFOQueue, 1);
	dma(g, s + 2, 1);
	poll_now(g);
	assert_int_equal(g->nrec, 1);
	assert_rec(g, 0, g->base + 2 * MSS, 1, MSS);
	assert_int_equal(g->c->ofo.qlen, 0);
	assert_acked(g, g->base + 5 * MSS);
	assert_int_equal(read_all(g, g->base, 3000), 5 * MSS);
	assert_int_equal(atomic_load(&g->c->sk.sk_rmem_alloc), 0);
	close_conn(g);
}

/* Timestamp values, the window, the ACK: any change starts a new skb. */
static void option_window_and_ack_changes(void **state)
{
	struct gfx *g = *state;
	struct seg s[8];
	uint32_t b = 7000;

	g->iss = 0;
	for (int i = 0; i < 8; i++) {
		s[i] = data_seg(g, b + (uint32_t)i * 100, 100);
		s[i].id = (uint16_t)i;
		s[i].ts = true;
		s[i].tsval = 100;
	}
	s[2].tsval = 101; /* option bytes differ from here */
	s[3].tsval = 101;
	s[4].tsval = 101;
	s[4].window = 9000; /* window change */
	s[5].tsval = 101;
	s[5].window = 9000;
	s[6].tsval = 101;
	s[6].window = 9000;
	s[6].ack = 2; /* ACK moved (the others ACK 1) */
	s[7] = s[6];
	s[7].seq += 100;
	s[7].id = 7;
	dma(g, s, 8);
	poll_now(g);
	assert_int_equal(g->nrec, 4);
	assert_rec(g, 0, b, 2, 200);
	assert_rec(g, 1, b + 200, 2, 200);
	assert_rec(g, 2, b + 400, 2, 200);
	assert_rec(g, 3, b + 600, 2, 200);
}

/* A short segment joins and ends the flow; a longer one than the first
 * never joins (gso_size is the first's payload). */
static void segment_sizes(void **state)
{
	struct gfx *g = *state;
	struct seg s[6];
	uint32_t b = 9000, at = b;
	/* Odd sizes: the merged checksum adds sums at odd offsets. */
	const uint32_t len[6] = { 1001, 1001, 301, 1001, 1201, 1201 };

	g->iss = 0;
	for (int i = 0; i < 6; i++) {
		s[i] = data_seg(g, at, len[i]);
		s[i].id = (uint16_t)i;
		at += len[i];
	}
	dma(g, s, 6);
	poll_now(g);
	assert_int_equal(g->nrec, 3);
	assert_rec(g, 0, b, 3, 2303);
	assert_int_equal(g->rec[0].gso_size, 1001);
	assert_rec(g, 1, b + 2303, 1, 1001);
	assert_rec(g, 2, b + 3304, 2, 2402);
}

/*
 * A segment whose checksum fails is never merged: it goes up as it
 * came and TCP counts it (TcpInCsumErrors) and drops it; the ones
 * around it still merge. Its retransmission fills the hole.
 */
static void corrupt_checksum_not_merged(void **state)
{
	struct gfx *g = *state;
	struct seg s[4];
	struct wp_net_mib m;

	open_conn(g);
	for (int i = 0; i < 4; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
		s[i].id = (uint16_t)i;
	}
	s[2].corrupt = true;
	dma(g, s, 4);
	poll_now(g);
	/* Not held: it goes up before the flow it interrupted. */
	assert_int_equal(g->nrec, 3);
	assert_false(g->rec[0].csum_ok);
	assert_int_equal(g->rec[0].segs, 0);
	assert_false(g->rec[0].chained);
	assert_rec(g, 1, g->base, 2, 2 * MSS);
	assert_rec(g, 2, g->base + 3 * MSS, 1, MSS);
	nfx_mib(g->fx, &m);
	assert_int_equal(m.TcpInCsumErrors, 1);
	assert_int_equal(nfx_dropped(g->fx, WP_DROP_TCP_CSUM), 1);
	s[2].corrupt = false;
	dma(g, s + 2, 1);
	poll_now(g);
	assert_int_equal(read_all(g, g->base, 4096), 4 * MSS);
	close_conn(g);
}

/* IP IDs: incrementing, or fixed with DF, as the second segment says. */
static void ip_id_rules(void **state)
{
	struct gfx *g = *state;
	struct seg s[4];
	uint32_t b = 11000;

	g->iss = 0;
	for (int i = 0; i < 4; i++) {
		s[i] = data_seg(g, b + (uint32_t)i * 100, 100);
		s[i].id = 500;
	}
	/* Fixed, DF: merges. */
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 1);
	assert_rec(g, 0, b, 4, 400);
	/* Fixed without DF: each alone. */
	for (int i = 0; i < 4; i++)
		s[i].df = false;
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 4);
	/* Incrementing without DF: merges. */
	for (int i = 0; i < 4; i++)
		s[i].id = (uint16_t)(65534 + i); /* wraps */
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 1);
	assert_rec(g, 0, b, 4, 400);
	/* Incrementing, then fixed: the flow was settled incrementing. */
	for (int i = 0; i < 4; i++) {
		s[i].df = true;
		s[i].id = (uint16_t)(i < 2 ? 10 + i : 11);
	}
	/* The third (ID 11, not 12) ends the first skb and starts a
	 * second, which the fourth (ID 11 again) joins as a fixed flow. */
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 2);
	assert_rec(g, 0, b, 2, 200);
	assert_rec(g, 1, b + 200, 2, 200);
}

/*
 * Eight slots, nine flows. Two segments each, flows 0..7 first: all
 * merge; flow 8 then takes the oldest's slot (flow 0 goes up). Round
 * robin over nine flows instead: every arrival evicts, nothing merges.
 */
static void nine_flows_eight_slots(void **state)
{
	struct gfx *g = *state;
	struct seg s[18];
	struct wp_gro_stats st0, st1;
	uint32_t b = 20000;

	g->iss = 0;
	gro_counts(g, &st0);
	for (int r = 0; r < 2; r++)
		for (int f = 0; f < 8; f++) {
			struct seg *x = &s[r * 8 + f];

			*x = data_seg(g, b + (uint32_t)r * 100, 100);
			x->sport = (uint16_t)(1000 + f);
			x->id = (uint16_t)r;
		}
	for (int r = 0; r < 2; r++) {
		s[16 + r] = data_seg(g, b + (uint32_t)r * 100, 100);
		s[16 + r].sport = 1008;
		s[16 + r].id = (uint16_t)r;
	}
	dma(g, s, 18);
	poll_now(g);
	assert_int_equal(g->nrec, 9);
	/* Flow 0 was evicted first; the rest go up oldest first. */
	for (int i = 0; i < 9; i++) {
		assert_int_equal(g->rec[i].sport, 1000 + i);
		assert_rec(g, i, b, 2, 200);
	}
	gro_counts(g, &st1);
	assert_int_equal(st1.flush_oldest - st0.flush_oldest, 1);
	assert_int_equal(st1.merged - st0.merged, 9);

	/* Round robin over nine: always the one needed next was evicted. */
	for (int r = 0; r < 2; r++)
		for (int f = 0; f < 9; f++) {
			struct seg *x = &s[r * 9 + f];

			*x = data_seg(g, b + (uint32_t)r * 100, 100);
			x->sport = (uint16_t)(1000 + f);
			x->id = (uint16_t)r;
		}
	gro_counts(g, &st0);
	dma(g, s, 18);
	poll_now(g);
	assert_int_equal(g->nrec, 18);
	for (int i = 0; i < 18; i++)
		assert_false(g->rec[i].chained);
	gro_counts(g, &st1);
	assert_int_equal(st1.merged - st0.merged, 0);
	assert_int_equal(st1.flush_oldest - st0.flush_oldest, 10);
}

/* ethtool -K gro off: segments go up one by one; on again: merged. */
static void gro_off_and_on(void **state)
{
	struct gfx *g = *state;
	struct seg s[4];
	struct wp_gro_stats st0, st1;

	open_conn(g);
	for (int i = 0; i < 4; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)i * MSS, MSS);
		s[i].id = (uint16_t)i;
	}
	assert_true(wp_nic_get_gro(g->fx->nic));
	wp_nic_set_gro(g->fx->nic, false);
	assert_false(wp_napi_gro_enabled(&g->fx->nic->rxq[0].napi));
	gro_counts(g, &st0);
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 4);
	for (int i = 0; i < 4; i++)
		assert_rec(g, i, g->base + (uint32_t)i * MSS, 1, MSS);
	gro_counts(g, &st1);
	assert_memory_equal(&st0, &st1, sizeof(st0));
	wp_nic_set_gro(g->fx->nic, true);
	for (int i = 0; i < 4; i++) {
		s[i] = data_seg(g, g->base + (uint32_t)(4 + i) * MSS, MSS);
		s[i].id = (uint16_t)(4 + i);
	}
	dma(g, s, 4);
	poll_now(g);
	assert_int_equal(g->nrec, 1);
	assert_rec(g, 0, g->base + 4 * MSS, 4, 4 * MSS);
	assert_int_equal(read_all(g, g->base, 1), 8 * MSS);
	close_conn(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(in_order_merge_up_to_64k),
		T(psh_ends_the_merge),
		T(fin_joins_and_ends),
		T(rst_urg_and_bare_fin_flush),
		T(out_of_order),
		T(option_window_and_ack_changes),
		T(segment_sizes),
		T(corrupt_checksum_not_merged),
		T(ip_id_rules),
		T(nine_flows_eight_slots),
		T(gro_off_and_on),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
