// SPDX-License-Identifier: MIT
/*
 * SYN cookies (net.ipv4.tcp_syncookies) with crafted segments: the test
 * plays the peers on the wire of one stack (test_net_common.h) and reads
 * every segment it sends.
 *   - A flood of spoofed SYNs into a listener with a small backlog
 *     costs it no memory past its SYN queue: cookies answer the rest,
 *     and a real client still connects through one and moves data, with
 *     its window scale and SACK carried in the timestamp.
 *   - Without timestamps a cookie carries no window scale nor SACK, and
 *     its MSS is the largest of Linux's msstab not above the peer's.
 *   - A forged cookie, one for another segment, and one too old are
 *     refused with a RST and counted (SyncookiesFailed); an ACK when no
 *     cookie went out lately is not even checked.
 *   - A good cookie with the accept queue full is dropped
 *     (ListenOverflows, ListenDrops); tcp_syncookies=0 drops SYNs once
 *     the SYN queue is full (TCPReqQFullDrop, ListenDrops).
 * And two wirepath stacks: a client connects to a listener that always
 * answers with cookies (tcp_syncookies=2), with every option agreed, and
 * a stream goes both ways intact.
 */
#include "test_net_common.h"
#include "test_tcp_common.h"

#include "wire/tcp.h"

#define PEER_PORT 40000
#define OUR_PORT 80
#define PEER_ISS 1000000u

static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };

static int setup(void **state)
{
	struct nfx *fx = nfx_new(1, 1, NULL);
	uint8_t f[64];

	nfx_learn_peer(fx);
	/* The gateway too: spoofed sources off the subnet are answered
	 * through it. */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, gw_mac, GW_IP, NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	nfx_clear_tx(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct nfx *fx = *state;

	nfx_advance(fx, 0);
	assert_int_equal(atomic_load(&fx->net->tcp->nsocks), 0);
	nfx_free(fx);
	return 0;
}

static void set(struct nfx *fx, const char *name, const char *v)
{
	assert_int_equal(wp_sysctl_set(&fx->sysctl, name, v), 0);
}

/* A segment from saddr to us, as the repr says. */
static void inject_from(struct nfx *fx, uint32_t saddr,
			const struct wp_tcp_repr *t)
{
	uint8_t m[1600], f[1700];
	int hl = wp_tcp_hdr_len(t);
	struct wp_ipv4_repr r;
	size_t n;

	assert_true(hl >= 20);
	assert_int_equal(
		wp_tcp_emit(t, saddr, OUR_IP, m, (size_t)hl + t->payload_len),
		0);
	r = ip_repr(saddr, OUR_IP, WP_IPPROTO_TCP, (size_t)hl + t->payload_len);
	n = ip_frame(f, &r, m);
	nfx_inject(fx, f, n);
}

static void inject_tcp(struct nfx *fx, const struct wp_tcp_repr *t)
{
	inject_from(fx, PEER_IP, t);
}

/* Segments sent (ARP, as time passes, is not what these tests watch). */
static uint32_t ntcp(struct nfx *fx)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fx->ntx; i++) {
		struct parsed p;

		parse_frame(&fx->tx[i], &p);
		n += p.is_ip;
	}
	return n;
}

/* The i-th segment sent; its destination in *daddr. */
static void sent_tcp_to(struct nfx *fx, uint32_t i, struct wp_tcp_repr *t,
			uint32_t *daddr)
{
	struct parsed p;
	uint32_t k = 0;

	for (;; k++) {
		assert_true(k < fx->ntx);
		parse_frame(&fx->tx[k], &p);
		if (p.is_ip && i-- == 0)
			break;
	}
	assert_int_equal(p.ip.protocol, WP_IPPROTO_TCP);
	assert_int_equal(wp_tcp_parse(p.l4, p.l4_len, p.ip.saddr, p.ip.daddr, 0,
				      t, NULL),
			 0);
	if (daddr)
		*daddr = p.ip.daddr;
}

static void sent_tcp(struct nfx *fx, uint32_t i, struct wp_tcp_repr *t)
{
	sent_tcp_to(fx, i, t, NULL);
}

static struct wp_tcp_repr seg(uint16_t flags, uint32_t seq, uint32_t ack)
{
	struct wp_tcp_repr t = {
		.sport = PEER_PORT,
		.dport = OUR_PORT,
		.seq = seq,
		.ack_seq = ack,
		.flags = flags,
		.window = 65535,
	};

	return t;
}

static struct wp_tcp_sock *listener(struct nfx *fx, int backlog)
{
	struct wp_tcp_sock *l = wp_tcp_sock_alloc(fx->net);

	assert_non_null(l);
	assert_int_equal(wp_tcp_bind(l, 0, OUR_PORT), 0);
	assert_int_equal(wp_tcp_listen(l, backlog), 0);
	return l;
}

static uint32_t alive(struct nfx *fx)
{
	return atomic_load(&fx->net->tcp->nsocks);
}

static uint32_t pool_free(struct nfx *fx)
{
	struct wp_pool_stats st;

	wp_pool_get_stats(fx->nic->rxq[0].pool, &st);
	return st.bufs_free;
}

/* SYN from PEER_PORT + port_off; the SYN-ACK comes back (checked). */
static struct wp_tcp_repr syn_synack(struct nfx *fx, uint16_t port_off,
				     uint32_t iss, const struct wp_tcp_opts *o)
{
	struct wp_tcp_repr t = seg(WP_TCP_SYN, iss, 0), sa;

	t.sport = (uint16_t)(PEER_PORT + port_off);
	if (o)
		t.opts = *o;
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	sent_tcp(fx, 0, &sa);
	assert_int_equal(sa.flags, WP_TCP_SYN | WP_TCP_ACK);
	assert_int_equal(sa.ack_seq, iss + 1);
	assert_int_equal(sa.dport, t.sport);
	nfx_clear_tx(fx);
	return sa;
}

static void abort_child(struct wp_tcp_sock *c)
{
	wp_tcp_set_linger(c, true, 0);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
}

static void close_listener(struct nfx *fx, struct wp_tcp_sock *l)
{
	wp_tcp_close(l);
	wp_sock_put(&l->sk);
	/* Embryos left over die with their SYN-ACK retries. */
	nfx_advance(fx, 200 * WP_NSEC_PER_SEC);
}

/* --- a flood
 * ------------------------------------------------------------------ */

#define FLOOD 5000
#define BACKLOG 4

static void a_syn_flood_costs_no_memory_and_a_client_gets_through(void **state)
{
	struct nfx *fx = *state;
	struct tcp_cpu *tc = &fx->net->tcp->pcpu[0];
	struct wp_tcp_sock *l = listener(fx, BACKLOG), *c;
	struct wp_tcp_opts o = {
		.present = WP_TCP_OPT_MSS | WP_TCP_OPT_WSCALE |
			   WP_TCP_OPT_SACK_PERM | WP_TCP_OPT_TS,
		.mss = 1460,
		.wscale = 7,
		.tsval = 4242,
	};
	uint32_t free0 = pool_free(fx), synacks = 0, most = 0;
	uint64_t x = 0x5eed;
	struct wp_tcp_repr t, sa, r;
	struct wp_net_mib m;
	char buf[16];
	int err;

	for (int i = 0; i < FLOOD; i++) {
		/* Spoofed: 198.18.0.0/15, any port, any ISN. */
		uint32_t src, daddr;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		src = wp_ipv4_addr(198, 18, 0, 0) | (uint32_t)(x >> 47);
		t = seg(WP_TCP_SYN, (uint32_t)(x >> 13), 0);
		t.sport = (uint16_t)(1024 + (x >> 20) % 60000);
		t.opts.present = WP_TCP_OPT_MSS;
		t.opts.mss = 1460;
		nfx_clear_tx(fx);
		inject_from(fx, src, &t);
		/* Each SYN is answered at once (to the gateway), and
		 * nothing piles up: sockets, timers, buffers. */
		assert_int_equal(ntcp(fx), 1);
		sent_tcp_to(fx, 0, &r, &daddr);
		assert_int_equal(r.flags, WP_TCP_SYN | WP_TCP_ACK);
		assert_int_equal(r.ack_seq, t.seq + 1);
		assert_int_equal(r.dport, t.sport);
		assert_int_equal(daddr, src);
		synacks++;
		assert_true(alive(fx) <= 1 + BACKLOG);
		assert_true(tc->heap_len <= BACKLOG);
		assert_int_equal(pool_free(fx), free0);
		if (alive(fx) > most)
			most = alive(fx);
	}
	assert_int_equal(synacks, FLOOD);
	assert_int_equal(most, 1 + BACKLOG);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesSent, FLOOD - BACKLOG);
	assert_int_equal(m.TCPReqQFullDoCookies, FLOOD - BACKLOG);
	assert_int_equal(m.TCPReqQFullDrop, 0);
	assert_int_equal(m.ListenDrops, 0);

	/* The SYN queue is still full of the flood's embryos: a real
	 * client gets a cookie, with its options in the timestamp. */
	sa = syn_synack(fx, 1, PEER_ISS, &o);
	assert_true(sa.opts.present & WP_TCP_OPT_MSS);
	assert_int_equal(sa.opts.mss, 1460);
	assert_true(sa.opts.present & WP_TCP_OPT_WSCALE);
	assert_true(sa.opts.present & WP_TCP_OPT_SACK_PERM);
	assert_true(sa.opts.present & WP_TCP_OPT_TS);
	assert_int_equal(sa.opts.tsecr, o.tsval);
	assert_int_equal(alive(fx), 1 + BACKLOG);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesSent, FLOOD - BACKLOG + 1);

	/* Its third ACK carries data. */
	t = seg(WP_TCP_ACK | WP_TCP_PSH, PEER_ISS + 1, sa.seq + 1);
	t.sport = PEER_PORT + 1;
	t.window = 1000; /* << 7 */
	t.opts.present = WP_TCP_OPT_TS;
	t.opts.tsval = o.tsval + 1;
	t.opts.tsecr = sa.opts.tsval;
	t.payload = (const uint8_t *)"hello";
	t.payload_len = 5;
	inject_tcp(fx, &t);
	c = wp_tcp_accept(l, &err);
	assert_non_null(c);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_ESTABLISHED);
	assert_int_equal(wp_tcp_recvmsg(c, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	/* What the SYN offered, back from the cookie and the TSecr. */
	assert_true(c->rx_opt.tstamp_ok);
	assert_true(c->rx_opt.sack_ok);
	assert_true(c->rx_opt.wscale_ok);
	assert_int_equal(c->rx_opt.snd_wscale, 7);
	assert_int_equal(c->rx_opt.rcv_wscale, sa.opts.wscale);
	assert_int_equal(c->snd_wnd, 1000u << 7);
	assert_int_equal(c->rx_opt.mss_clamp, 1460);
	assert_int_equal(c->iss, sa.seq);
	/* The data was acked; the answer goes with our next TSval. */
	assert_true(ntcp(fx) >= 1);
	sent_tcp(fx, ntcp(fx) - 1, &r);
	assert_int_equal(r.ack_seq, PEER_ISS + 1 + 5);
	nfx_clear_tx(fx);
	assert_int_equal(wp_tcp_sendmsg(c, "world", 5), 5);
	nfx_run(fx);
	assert_int_equal(ntcp(fx), 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.seq, sa.seq + 1);
	assert_int_equal(r.payload_len, 5);
	assert_memory_equal(r.payload, "world", 5);
	assert_true(r.opts.present & WP_TCP_OPT_TS);
	assert_int_equal(r.opts.tsecr, o.tsval + 1);
	assert_false((int32_t)(r.opts.tsval - sa.opts.tsval) < 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesRecv, 1);
	assert_int_equal(m.SyncookiesFailed, 0);
	assert_int_equal(m.TcpPassiveOpens, 1);
	assert_int_equal(m.TcpCurrEstab, 1);

	/* The flood's embryos give up; only the two real sockets stay. */
	nfx_advance(fx, 100 * WP_NSEC_PER_SEC);
	assert_int_equal(alive(fx), 2);
	assert_int_equal(atomic_load(&l->syn_qlen), 0);
	abort_child(c);
	close_listener(fx, l);
}

/* --- what a cookie carries
 * ---------------------------------------------------- */

static void without_timestamps_a_cookie_has_no_wscale_nor_sack(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *l = listener(fx, 8), *c;
	struct wp_tcp_opts o = {
		.present = WP_TCP_OPT_MSS | WP_TCP_OPT_WSCALE |
			   WP_TCP_OPT_SACK_PERM,
		.mss = 1400,
		.wscale = 9,
	};
	struct wp_tcp_repr t, sa, sa2;
	struct wp_tcp_info info;
	struct wp_net_mib m;
	int err;

	set(fx, "net.ipv4.tcp_syncookies", "2");
	sa = syn_synack(fx, 0, PEER_ISS, &o);
	/* Only the MSS: the cookie could not keep the rest. */
	assert_int_equal(sa.opts.present, WP_TCP_OPT_MSS);
	assert_int_equal(sa.opts.mss, 1460);
	/* Nothing was kept. */
	assert_int_equal(alive(fx), 1);
	assert_int_equal(atomic_load(&l->syn_qlen), 0);
	assert_int_equal(fx->net->tcp->pcpu[0].heap_len, 0);
	/* The same SYN again: the same cookie (same minute). */
	sa2 = syn_synack(fx, 0, PEER_ISS, &o);
	assert_int_equal(sa2.seq, sa.seq);
	/* Another peer port: another cookie. */
	sa2 = syn_synack(fx, 1, PEER_ISS, &o);
	assert_true(sa2.seq != sa.seq);

	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1);
	t.window = 5000; /* not scaled */
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 0);
	c = wp_tcp_accept(l, &err);
	assert_non_null(c);
	wp_tcp_get_info(c, &info);
	assert_int_equal(info.state, WP_TCP_ESTABLISHED);
	assert_int_equal(info.options, 0);
	assert_int_equal(c->snd_wnd, 5000);
	/* 1400 offered: msstab's 1300. */
	assert_int_equal(c->rx_opt.mss_clamp, 1300);
	assert_int_equal(info.snd_mss, 1300);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesSent, 3);
	assert_int_equal(m.TCPReqQFullDoCookies, 3);
	assert_int_equal(m.SyncookiesRecv, 1);
	assert_int_equal(m.TcpPassiveOpens, 1);
	abort_child(c);
	close_listener(fx, l);
}

static void msstab_rounds_down_and_a_tiny_mss_gets_536(void **state)
{
	struct nfx *fx = *state;
	static const struct {
		uint16_t offered, kept;
	} cases[] = {
		{ 9000, 1460 }, { 1460, 1460 }, { 1459, 1440 }, { 1440, 1440 },
		{ 1300, 1300 }, { 1299, 536 },	{ 536, 536 },	{ 100, 536 },
	};
	struct wp_tcp_sock *l = listener(fx, 16);

	set(fx, "net.ipv4.tcp_syncookies", "2");
	for (uint16_t i = 0; i < WP_ARRAY_SIZE(cases); i++) {
		struct wp_tcp_opts o = { .present = WP_TCP_OPT_MSS,
					 .mss = cases[i].offered };
		struct wp_tcp_repr sa = syn_synack(fx, i, PEER_ISS + i, &o), t;
		struct wp_tcp_sock *c;
		int err;

		t = seg(WP_TCP_ACK, PEER_ISS + i + 1, sa.seq + 1);
		t.sport = (uint16_t)(PEER_PORT + i);
		inject_tcp(fx, &t);
		c = wp_tcp_accept(l, &err);
		assert_non_null(c);
		assert_int_equal(c->rx_opt.mss_clamp, cases[i].kept);
		abort_child(c);
		nfx_advance(fx, WP_NSEC_PER_MSEC);
	}
	close_listener(fx, l);
}

/* --- refused cookies
 * ------------------------------------------------------------ */

static void forged_and_old_cookies_are_refused(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *l = listener(fx, 8), *c;
	struct wp_tcp_repr t, sa, sb, r;
	struct wp_net_mib m;
	int err;

	set(fx, "net.ipv4.tcp_syncookies", "2");
	sa = syn_synack(fx, 0, PEER_ISS, NULL);

	/* A guess: a RST, as LISTEN answers any ACK, and counted. (One
	 * off would pass for the next MSS index, as in Linux: the index is
	 * added to the hash. Blind guessing is what the hash defeats.) */
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1 + 0x10000);
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_RST);
	assert_int_equal(r.seq, sa.seq + 1 + 0x10000);
	nfx_clear_tx(fx);
	/* The right cookie for another ISN of theirs. */
	t = seg(WP_TCP_ACK, PEER_ISS + 2, sa.seq + 1);
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	nfx_clear_tx(fx);
	/* The right cookie from another port. */
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1);
	t.sport = PEER_PORT + 7;
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	nfx_clear_tx(fx);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesFailed, 3);
	assert_int_equal(m.SyncookiesRecv, 0);
	assert_null(wp_tcp_accept(l, &err));
	assert_int_equal(alive(fx), 1);

	/* A cookie from the minute before still holds. */
	sb = syn_synack(fx, 1, PEER_ISS, NULL);
	nfx_advance(fx, 61 * WP_NSEC_PER_SEC);
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sb.seq + 1);
	t.sport = PEER_PORT + 1;
	inject_tcp(fx, &t);
	c = wp_tcp_accept(l, &err);
	assert_non_null(c);
	abort_child(c);
	nfx_advance(fx, WP_NSEC_PER_MSEC);

	/* Three minutes on, the first cookie is too old, even though
	 * cookies were sent lately (a fresh SYN). */
	nfx_advance(fx, 120 * WP_NSEC_PER_SEC);
	nfx_learn_peer(fx); /* its neighbour entry was forgotten */
	syn_synack(fx, 2, PEER_ISS, NULL);
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1);
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_RST);
	nfx_clear_tx(fx);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesFailed, 4);
	assert_int_equal(m.SyncookiesRecv, 1);

	/* No cookie sent for more than two minutes: an ACK is not even
	 * looked at as one (tcp_synq_no_recent_overflow), just refused. */
	nfx_advance(fx, 121 * WP_NSEC_PER_SEC);
	nfx_learn_peer(fx);
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1);
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesFailed, 4);
	assert_null(wp_tcp_accept(l, &err));
	assert_int_equal(alive(fx), 1);
	close_listener(fx, l);
}

static void a_cookie_with_the_accept_queue_full_is_dropped(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *l = listener(fx, 1), *c;
	struct wp_tcp_repr t, sa, sb;
	struct wp_net_mib m;
	int err;

	set(fx, "net.ipv4.tcp_syncookies", "2");
	sa = syn_synack(fx, 0, PEER_ISS, NULL);
	sb = syn_synack(fx, 1, PEER_ISS, NULL);
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sa.seq + 1);
	inject_tcp(fx, &t);
	assert_int_equal(atomic_load(&l->acc_qlen), 1);
	/* The second is a good cookie, but nobody accepted the first:
	 * dropped without an answer (the peer retransmits). */
	t = seg(WP_TCP_ACK, PEER_ISS + 1, sb.seq + 1);
	t.sport = PEER_PORT + 1;
	t.payload = (const uint8_t *)"x";
	t.payload_len = 1;
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 0);
	assert_int_equal(alive(fx), 2);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesRecv, 2);
	assert_int_equal(m.ListenOverflows, 1);
	assert_int_equal(m.ListenDrops, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_LISTEN_OVERFLOW), 1);
	/* Room again: its retransmission gets in, data and all. */
	c = wp_tcp_accept(l, &err);
	assert_non_null(c);
	abort_child(c);
	inject_tcp(fx, &t);
	c = wp_tcp_accept(l, &err);
	assert_non_null(c);
	assert_int_equal(c->dport, PEER_PORT + 1);
	assert_int_equal(wp_tcp_recvmsg(c, &err, 1, 0), 1);
	abort_child(c);
	close_listener(fx, l);
}

static void without_cookies_a_full_syn_queue_drops(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *l = listener(fx, 2);
	struct wp_tcp_repr t, sa;
	struct wp_net_mib m;

	set(fx, "net.ipv4.tcp_syncookies", "0");
	for (uint16_t p = 0; p < 5; p++) {
		t = seg(WP_TCP_SYN, PEER_ISS, 0);
		t.sport = (uint16_t)(PEER_PORT + p);
		nfx_clear_tx(fx);
		inject_tcp(fx, &t);
		/* Two embryos fill the SYN queue; the rest get nothing. */
		assert_int_equal(ntcp(fx), p < 2 ? 1 : 0);
		if (p < 2) {
			sent_tcp(fx, 0, &sa);
			assert_int_equal(sa.flags, WP_TCP_SYN | WP_TCP_ACK);
		}
	}
	assert_int_equal(atomic_load(&l->syn_qlen), 2);
	assert_int_equal(alive(fx), 3);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPReqQFullDrop, 3);
	assert_int_equal(m.ListenDrops, 3);
	assert_int_equal(m.ListenOverflows, 0);
	assert_int_equal(m.SyncookiesSent, 0);
	assert_int_equal(m.TCPReqQFullDoCookies, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_REQQFULLDROP), 3);
	/* Nor is an ACK taken for a cookie: LISTEN refuses it. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK, PEER_ISS + 1, 12345);
	t.sport = PEER_PORT + 4;
	inject_tcp(fx, &t);
	assert_int_equal(ntcp(fx), 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.SyncookiesFailed, 0);
	close_listener(fx, l);
}

/* --- two stacks
 * ------------------------------------------------------------------ */

static void a_wirepath_client_connects_through_a_cookie(void **state)
{
	struct tpair t;
	struct wp_tcp_sock *c, *s, *l;
	struct wp_tcp_info ci, si;
	struct tstream ab, ba;
	struct wp_net_mib m;

	(void)state;
	tpair_up(&t, NULL);
	assert_int_equal(
		wp_sysctl_set(&t.b->sysctl, "net.ipv4.tcp_syncookies", "2"), 0);
	tconnect(&t, 5001, &c, &s, &l);
	wp_tcp_get_info(c, &ci);
	wp_tcp_get_info(s, &si);
	/* Everything both sides offer, though B kept nothing. */
	assert_int_equal(si.options, WP_TCPI_OPT_TIMESTAMPS | WP_TCPI_OPT_SACK |
					     WP_TCPI_OPT_WSCALE);
	assert_int_equal(ci.options, si.options);
	assert_int_equal(si.snd_wscale, ci.rcv_wscale);
	assert_int_equal(si.rcv_wscale, ci.snd_wscale);
	tmib(t.b, &m);
	assert_int_equal(m.SyncookiesSent, 1);
	assert_int_equal(m.SyncookiesRecv, 1);
	assert_int_equal(m.SyncookiesFailed, 0);

	tstream_init(&ab, c, s, 1 << 20, 1);
	tstream_init(&ba, s, c, 1 << 20, 2);
	for (int i = 0; i < 20000 && (ab.rcvd < ab.total || ba.rcvd < ba.total);
	     i++) {
		tstream_pump(&ab, false);
		tstream_pump(&ba, false);
		trun(&t, WP_NSEC_PER_MSEC);
	}
	tstream_check(&ab);
	tstream_check(&ba);
	tclose(c);
	tclose(s);
	tclose(l);
	trun(&t, 200 * WP_NSEC_PER_SEC);
	tpair_down(&t);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_syn_flood_costs_no_memory_and_a_client_gets_through),
		T(without_timestamps_a_cookie_has_no_wscale_nor_sack),
		T(msstab_rounds_down_and_a_tiny_mss_gets_536),
		T(forged_and_old_cookies_are_refused),
		T(a_cookie_with_the_accept_queue_full_is_dropped),
		T(without_cookies_a_full_syn_queue_drops),
		cmocka_unit_test(a_wirepath_client_connects_through_a_cookie),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
