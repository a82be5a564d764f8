// SPDX-License-Identifier: MIT
/*
 * TCP input with crafted segments: the test plays the peer on the wire
 * of one stack (test_net_common.h) and reads every segment the stack
 * sends. Closed ports answer with the RST of RFC 9293 3.10.7.1; hostile
 * headers (data offset, checksum, option lengths), LAND, broadcast
 * destinations and impossible flags are dropped under their reasons;
 * the passive handshake clamps a hostile MSS; RFC 5961's challenge ACKs
 * answer in-window RSTs and SYNs that are not exact, at a bounded rate;
 * an ACK of unsent data is refused; out-of-order data is SACKed at once;
 * and a reader that stops drives the window to zero, a read reopens it.
 */
#include "test_net_common.h"

#include "net/net_priv.h"
#include "tcp/tcp_priv.h"
#include "wire/tcp.h"

#define PEER_PORT 40000
#define OUR_PORT 80
#define PEER_ISS 1000000u

static int setup(void **state)
{
	struct nfx *fx = nfx_new(1, 1, NULL);

	nfx_learn_peer(fx);
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

/* A segment from the peer (saddr) to daddr, as the repr says. */
static size_t tcp_frame(uint8_t *f, uint32_t saddr, uint32_t daddr,
			const struct wp_tcp_repr *t)
{
	uint8_t m[1600];
	int hl = wp_tcp_hdr_len(t);
	struct wp_ipv4_repr r;

	assert_true(hl >= 20);
	assert_int_equal(wp_tcp_emit(t, saddr, daddr, m,
				     (size_t)hl + t->payload_len),
			 0);
	r = ip_repr(saddr, daddr, WP_IPPROTO_TCP, (size_t)hl + t->payload_len);
	return ip_frame(f, &r, m);
}

static void inject_tcp(struct nfx *fx, const struct wp_tcp_repr *t)
{
	uint8_t f[1700];
	size_t n = tcp_frame(f, PEER_IP, OUR_IP, t);

	nfx_inject(fx, f, n);
}

/* The i-th frame sent, as TCP. */
static void sent_tcp(struct nfx *fx, uint32_t i, struct wp_tcp_repr *t)
{
	struct parsed p;

	assert_true(i < fx->ntx);
	parse_frame(&fx->tx[i], &p);
	assert_true(p.is_ip);
	assert_int_equal(p.ip.protocol, WP_IPPROTO_TCP);
	assert_int_equal(wp_tcp_parse(p.l4, p.l4_len, p.ip.saddr, p.ip.daddr,
				      0, t, NULL),
			 0);
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

/* --- closed ports -------------------------------------------------------------- */

static void closed_port_answers_with_rst(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t = seg(WP_TCP_SYN, 5000, 0), r;
	struct wp_net_mib m;

	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counts 1 */
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_RST | WP_TCP_ACK);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack_seq, 5001);
	assert_int_equal(r.sport, OUR_PORT);
	assert_int_equal(r.dport, PEER_PORT);

	/* ACK with data: <SEQ=SEG.ACK><CTL=RST> */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK | WP_TCP_PSH, 5000, 777);
	t.payload = (const uint8_t *)"abc";
	t.payload_len = 3;
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_RST);
	assert_int_equal(r.seq, 777);

	/* A RST is never answered. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_RST, 5000, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpInSegs, 3);
	assert_int_equal(m.TcpOutRsts, 2);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NO_SOCKET), 3);
}

static void hostile_headers_are_dropped_silently(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t = seg(WP_TCP_SYN, 1, 0);
	struct wp_ipv4_repr ir;
	struct wp_net_mib m;
	uint8_t f[200], d[60];
	size_t n;

	/* data offset 4 (< 5) */
	assert_int_equal(wp_tcp_emit(&t, PEER_IP, OUR_IP, d, 20), 0);
	d[12] = 4 << 4;
	ir = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, 20);
	n = ip_frame(f, &ir, d);
	nfx_inject(fx, f, n);
	/* data offset past the segment */
	d[12] = 15 << 4;
	n = ip_frame(f, &ir, d);
	nfx_inject(fx, f, n);
	/* a bad checksum */
	assert_int_equal(wp_tcp_emit(&t, PEER_IP, OUR_IP, d, 20), 0);
	d[16] ^= 0x5a;
	n = ip_frame(f, &ir, d);
	nfx_inject(fx, f, n);
	/* an option whose length is 0 (MUST-7) */
	assert_int_equal(wp_tcp_emit(&t, PEER_IP, OUR_IP, d, 20), 0);
	memmove(d + 24, d + 20, 0);
	d[12] = 6 << 4;
	d[20] = WP_TCPOPT_MSS;
	d[21] = 0;
	d[22] = d[23] = 0;
	d[16] = d[17] = 0;
	wp_put_be16(d + 16, wp_tcp_csum(PEER_IP, OUR_IP, d, 24));
	ir = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, 24);
	n = ip_frame(f, &ir, d);
	nfx_inject(fx, f, n);
	/* a truncated header */
	ir = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP, 12);
	n = ip_frame(f, &ir, d);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_HDR), 3);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_CSUM), 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_OPTION), 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpInErrs, 5);
	assert_int_equal(m.TcpInCsumErrors, 1);
	assert_int_equal(m.TcpInSegs, 0);
}

static void broadcast_land_and_flag_nonsense(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t = seg(WP_TCP_SYN, 1, 0);
	uint8_t f[200];
	size_t n;

	/* SYN to the subnet broadcast */
	n = tcp_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 255), &t);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	/* SYN+FIN and SYN+RST */
	t.flags = WP_TCP_SYN | WP_TCP_FIN;
	inject_tcp(fx, &t);
	t.flags = WP_TCP_SYN | WP_TCP_RST;
	inject_tcp(fx, &t);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_FLAGS), 2);
	/* port 0 */
	t = seg(WP_TCP_SYN, 1, 0);
	t.dport = 0;
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 0);
	/* LAND: from our own address and port to themselves. Whichever layer
	 * refuses it, nothing answers. */
	t = seg(WP_TCP_SYN, 1, 0);
	t.sport = OUR_PORT;
	n = tcp_frame(f, OUR_IP, OUR_IP, &t);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
}

/* --- a passive connection ---------------------------------------------------------- */

struct conn {
	struct wp_tcp_sock *l, *c;
	uint32_t iss;	 /* ours */
	uint32_t snd;	 /* the peer's next sequence number */
	uint32_t tsval;
};

/* Listen, take a SYN with `opts`, check the SYN-ACK, complete. */
static void open_conn(struct nfx *fx, struct conn *k,
		      const struct wp_tcp_opts *opts, struct wp_tcp_repr *synack)
{
	struct wp_tcp_repr t = seg(WP_TCP_SYN, PEER_ISS, 0);
	int err;

	k->l = wp_tcp_sock_alloc(fx->net);
	assert_non_null(k->l);
	assert_int_equal(wp_tcp_bind(k->l, 0, OUR_PORT), 0);
	assert_int_equal(wp_tcp_listen(k->l, 4), 0);
	if (opts)
		t.opts = *opts;
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, synack);
	assert_int_equal(synack->flags, WP_TCP_SYN | WP_TCP_ACK);
	assert_int_equal(synack->ack_seq, PEER_ISS + 1);
	k->iss = synack->seq;
	k->snd = PEER_ISS + 1;
	assert_null(wp_tcp_accept(k->l, &err));
	assert_int_equal(err, -EAGAIN);
	t = seg(WP_TCP_ACK, k->snd, k->iss + 1);
	if (opts && (opts->present & WP_TCP_OPT_TS)) {
		t.opts.present = WP_TCP_OPT_TS;
		t.opts.tsval = opts->tsval + 1;
		t.opts.tsecr = synack->opts.tsval;
	}
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
	k->c = wp_tcp_accept(k->l, &err);
	assert_non_null(k->c);
	assert_int_equal(wp_sk_state(&k->c->sk), WP_TCP_ESTABLISHED);
	nfx_clear_tx(fx);
}

static void close_conn(struct nfx *fx, struct conn *k)
{
	/* Abort (unread data or not) and let the core finish. */
	wp_tcp_set_linger(k->c, true, 0);
	wp_tcp_close(k->c);
	wp_sock_put(&k->c->sk);
	wp_tcp_close(k->l);
	wp_sock_put(&k->l->sk);
	nfx_advance(fx, WP_NSEC_PER_MSEC);
}

static void handshake_clamps_a_hostile_mss(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_opts o = { .present = WP_TCP_OPT_MSS, .mss = 0 };
	struct wp_tcp_repr sa;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, &o, &sa);
	/* We announce ours; the peer offered none of the others, so we
	 * answer with none. */
	assert_true(sa.opts.present & WP_TCP_OPT_MSS);
	assert_int_equal(sa.opts.mss, 1460);
	assert_false(sa.opts.present &
		     (WP_TCP_OPT_WSCALE | WP_TCP_OPT_TS | WP_TCP_OPT_SACK_PERM));
	/* MSS 0: clamped to a floor, never divided by. */
	assert_true(k.c->mss_cache >= 48);
	/* Sending still works, in small segments. */
	assert_int_equal(wp_tcp_sendmsg(k.c, "0123456789abcdef0123456789abcdef"
					     "0123456789abcdef0123456789abcdef"
					     "xyz",
					 67),
			 67);
	nfx_run(fx);
	assert_true(fx->ntx >= 1);
	for (uint32_t i = 0; i < fx->ntx; i++) {
		struct wp_tcp_repr r;

		sent_tcp(fx, i, &r);
		assert_true(r.payload_len <= k.c->mss_cache);
	}
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpPassiveOpens, 1);
	assert_int_equal(m.TcpCurrEstab, 1);
	close_conn(fx, &k);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpCurrEstab, 0);
}

static void rst_and_syn_in_window_get_challenge_acks(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t, r, sa;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, NULL, &sa);
	/* RST in the window, not at RCV.NXT: challenge ACK, still open. */
	t = seg(WP_TCP_RST, k.snd + 100, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_ACK);
	assert_int_equal(r.ack_seq, k.snd);
	assert_int_equal(wp_sk_state(&k.c->sk), WP_TCP_ESTABLISHED);
	/* SYN on an established connection: challenge ACK too. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_SYN, k.snd + 5, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.flags, WP_TCP_ACK);
	assert_int_equal(wp_sk_state(&k.c->sk), WP_TCP_ESTABLISHED);
	/* RST out of the window: dropped, no answer. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_RST, k.snd + 10000000, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPChallengeACK, 2);
	assert_int_equal(m.TCPSYNChallenge, 1);
	/* The exact RST resets it. */
	t = seg(WP_TCP_RST, k.snd, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(wp_sk_state(&k.c->sk), WP_TCP_CLOSE);
	assert_int_equal(wp_tcp_sock_error(k.c), -ECONNRESET);
	assert_true(wp_tcp_poll(&k.c->sk) & WP_EPOLLHUP);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpEstabResets, 1);
	close_conn(fx, &k);
}

static void challenge_acks_are_rate_limited(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t, sa;
	struct wp_net_mib m;
	struct conn k;

	assert_int_equal(wp_sysctl_set(&fx->sysctl,
				       "net.ipv4.tcp_challenge_ack_limit", "5"),
			 0);
	open_conn(fx, &k, NULL, &sa);
	for (int i = 0; i < 20; i++) {
		t = seg(WP_TCP_RST, k.snd + 1 + (uint32_t)i, 0);
		inject_tcp(fx, &t);
	}
	assert_int_equal(fx->ntx, 5);
	/* A second later the budget is back. */
	nfx_advance(fx, WP_NSEC_PER_SEC);
	nfx_clear_tx(fx);
	t = seg(WP_TCP_RST, k.snd + 1, 0);
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPChallengeACK, 6);
	close_conn(fx, &k);
}

static void acks_of_unsent_data_are_refused(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t, r, sa;
	struct wp_net_mib m;
	struct conn k;
	char buf[8];

	open_conn(fx, &k, NULL, &sa);
	t = seg(WP_TCP_ACK | WP_TCP_PSH, k.snd, k.iss + 1 + 5000);
	t.payload = (const uint8_t *)"evil";
	t.payload_len = 4;
	inject_tcp(fx, &t);
	/* RFC 5961 5.2: an ACK, and the segment (data too) is dropped. */
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.ack_seq, k.snd);
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), -EAGAIN);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPACKSkippedSeq, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_ACK), 1);
	/* Data outside the window: a duplicate ACK, dropped. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK, k.snd + 3000000, k.iss + 1);
	t.payload = (const uint8_t *)"far";
	t.payload_len = 3;
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TCP_SEQUENCE), 1);
	close_conn(fx, &k);
}

static void out_of_order_data_is_sacked_and_reassembled(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_opts o = {
		.present = WP_TCP_OPT_MSS | WP_TCP_OPT_SACK_PERM |
			   WP_TCP_OPT_TS | WP_TCP_OPT_WSCALE,
		.mss = 1460,
		.wscale = 20, /* above 14: taken as 14 */
		.tsval = 100,
	};
	struct wp_tcp_repr t, r, sa;
	struct wp_net_mib m;
	struct conn k;
	char buf[64];

	open_conn(fx, &k, &o, &sa);
	assert_true(sa.opts.present & WP_TCP_OPT_SACK_PERM);
	assert_int_equal(k.c->rx_opt.snd_wscale, 14);
	/* Bytes 10..19 before 0..9: held, a duplicate ACK with a SACK
	 * block at once. */
	t = seg(WP_TCP_ACK, k.snd + 10, k.iss + 1);
	t.opts.present = WP_TCP_OPT_TS;
	t.opts.tsval = 200;
	t.payload = (const uint8_t *)"KLMNOPQRST";
	t.payload_len = 10;
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.ack_seq, k.snd);
	assert_true(r.opts.present & WP_TCP_OPT_SACK);
	assert_int_equal(r.opts.nr_sack, 1);
	assert_int_equal(r.opts.sack[0].start, k.snd + 10);
	assert_int_equal(r.opts.sack[0].end, k.snd + 20);
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), -EAGAIN);
	/* A duplicate of it changes nothing. */
	inject_tcp(fx, &t);
	/* The hole filled: everything in order, ACKed at once. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK, k.snd, k.iss + 1);
	t.opts.present = WP_TCP_OPT_TS;
	t.opts.tsval = 201;
	t.payload = (const uint8_t *)"ABCDEFGHIJ";
	t.payload_len = 10;
	inject_tcp(fx, &t);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &r);
	assert_int_equal(r.ack_seq, k.snd + 20);
	assert_false(r.opts.present & WP_TCP_OPT_SACK);
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), 20);
	assert_memory_equal(buf, "ABCDEFGHIJKLMNOPQRST", 20);
	nfx_mib(fx, &m);
	assert_true(m.TCPOFOQueue >= 1);
	/* PAWS: an older timestamp is an old duplicate. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK, k.snd + 20, k.iss + 1);
	t.opts.present = WP_TCP_OPT_TS;
	t.opts.tsval = 50;
	t.payload = (const uint8_t *)"old";
	t.payload_len = 3;
	inject_tcp(fx, &t);
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), -EAGAIN);
	nfx_mib(fx, &m);
	assert_int_equal(m.PAWSEstab, 1);
	close_conn(fx, &k);
}

static void a_reader_that_stops_closes_the_window(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_repr t, r, sa;
	struct wp_net_mib m;
	uint8_t data[1400], buf[4096];
	uint32_t seq, win = 1;
	struct conn k;
	int i;

	memset(data, 'w', sizeof(data));
	/* A small buffer from the start (a window offered is never taken
	 * back, so shrinking it later would not show). */
	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.ipv4.tcp_rmem",
				       "4096 16384 16384"),
			 0);
	open_conn(fx, &k, NULL, &sa);
	seq = k.snd;
	/* Send full segments while the window allows; nobody reads. */
	for (i = 0; i < 64 && win; i++) {
		nfx_clear_tx(fx);
		t = seg(WP_TCP_ACK, seq, k.iss + 1);
		t.payload = data;
		t.payload_len = sizeof(data);
		inject_tcp(fx, &t);
		nfx_advance(fx, 300 * WP_NSEC_PER_MSEC); /* delayed ACKs */
		if (fx->ntx) {
			sent_tcp(fx, fx->ntx - 1, &r);
			win = r.window;
			seq = r.ack_seq; /* what it took (maybe cut) */
		}
	}
	assert_int_equal(win, 0);
	nfx_mib(fx, &m);
	assert_true(m.TCPToZeroWindowAdv >= 1);
	/* Data beyond a zero window is not taken. */
	nfx_clear_tx(fx);
	t = seg(WP_TCP_ACK, seq, k.iss + 1);
	t.payload = data;
	t.payload_len = sizeof(data);
	inject_tcp(fx, &t);
	nfx_mib(fx, &m);
	assert_true(m.TCPZeroWindowDrop >= 1);
	assert_true(fx->ntx >= 1);
	/* The application reads: a window update goes out by itself. */
	nfx_clear_tx(fx);
	while (wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0) > 0)
		;
	nfx_run(fx);
	assert_true(fx->ntx >= 1);
	sent_tcp(fx, fx->ntx - 1, &r);
	assert_true(r.window > 0);
	assert_int_equal(r.ack_seq, seq);
	close_conn(fx, &k);
}

static void accept_queue_is_bounded(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *l = wp_tcp_sock_alloc(fx->net);
	struct wp_net_mib m;
	int n = 0, err;

	assert_int_equal(wp_tcp_bind(l, 0, OUR_PORT), 0);
	assert_int_equal(wp_tcp_listen(l, 2), 0);
	for (uint16_t p = 1; p <= 4; p++) {
		struct wp_tcp_repr t = seg(WP_TCP_SYN, 100, 0), sa;

		t.sport = (uint16_t)(PEER_PORT + p);
		nfx_clear_tx(fx);
		inject_tcp(fx, &t);
		if (!fx->ntx)
			continue;
		sent_tcp(fx, 0, &sa);
		t = seg(WP_TCP_ACK, 101, sa.seq + 1);
		t.sport = (uint16_t)(PEER_PORT + p);
		inject_tcp(fx, &t);
	}
	nfx_mib(fx, &m);
	assert_true(m.ListenOverflows >= 1);
	while (true) {
		struct wp_tcp_sock *c = wp_tcp_accept(l, &err);

		if (!c)
			break;
		n++;
		wp_tcp_set_linger(c, true, 0);
		wp_tcp_close(c);
		wp_sock_put(&c->sk);
	}
	assert_int_equal(n, 2);
	wp_tcp_close(l);
	wp_sock_put(&l->sk);
	/* The embryo left over dies with its SYN-ACK retries. */
	nfx_advance(fx, 200 * WP_NSEC_PER_SEC);
}

/* --- timers ---------------------------------------------------------------------- */

/* Count the SYNs sent and when: RFC 6298 backoff from 1 s, then
 * ETIMEDOUT after tcp_syn_retries retransmissions. */
static void syn_retries_back_off_then_time_out(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *c = wp_tcp_sock_alloc(fx->net);
	uint64_t t0 = nfx_now(fx), at[8];
	struct wp_net_mib m;
	uint32_t syns = 0;

	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.ipv4.tcp_syn_retries",
				       "3"),
			 0);
	nfx_clear_tx(fx);
	assert_int_equal(wp_tcp_connect(c, PEER_IP, 80), -EINPROGRESS);
	assert_int_equal(wp_tcp_connect(c, PEER_IP, 80), -EALREADY);
	assert_false(wp_tcp_poll(&c->sk) & WP_EPOLLOUT);
	/* 1 + 2 + 4 + 8 s: the last timeout gives up at 15 s. */
	for (int s = 0; s < 40; s++) {
		nfx_advance(fx, WP_NSEC_PER_SEC / 2);
		for (uint32_t i = 0; i < fx->ntx; i++) {
			struct wp_tcp_repr r;

			sent_tcp(fx, i, &r);
			assert_int_equal(r.flags, WP_TCP_SYN);
			assert_true(syns < 8);
			at[syns++] = nfx_now(fx) - t0;
		}
		nfx_clear_tx(fx);
	}
	/* The first, then 1, 2 and 4 seconds apart (half-second grain). */
	assert_int_equal(syns, 4);
	assert_true(at[1] - at[0] >= WP_NSEC_PER_SEC / 2 &&
		    at[1] - at[0] <= 3 * WP_NSEC_PER_SEC / 2);
	assert_true(at[2] - at[1] >= 3 * WP_NSEC_PER_SEC / 2 &&
		    at[2] - at[1] <= 5 * WP_NSEC_PER_SEC / 2);
	assert_true(at[3] - at[2] >= 7 * WP_NSEC_PER_SEC / 2 &&
		    at[3] - at[2] <= 9 * WP_NSEC_PER_SEC / 2);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_CLOSE);
	assert_true(wp_tcp_poll(&c->sk) & (WP_EPOLLERR | WP_EPOLLHUP));
	assert_int_equal(wp_tcp_sock_error(c), -ETIMEDOUT);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpActiveOpens, 1);
	assert_int_equal(m.TcpAttemptFails, 1);
	assert_int_equal(m.TCPSynRetrans, 3);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
}

/* An active open answered by the peer (the test), for timer tests. */
static struct wp_tcp_sock *active_conn(struct nfx *fx, uint32_t *our_seq,
				       uint32_t *peer_seq, uint16_t *our_port)
{
	struct wp_tcp_sock *c = wp_tcp_sock_alloc(fx->net);
	struct wp_tcp_repr syn, t;

	nfx_clear_tx(fx);
	assert_int_equal(wp_tcp_connect(c, PEER_IP, 80), -EINPROGRESS);
	nfx_run(fx);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &syn);
	t = seg(WP_TCP_SYN | WP_TCP_ACK, PEER_ISS, syn.seq + 1);
	t.sport = 80;
	t.dport = syn.sport;
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_ESTABLISHED);
	assert_true(wp_tcp_poll(&c->sk) & WP_EPOLLOUT);
	*our_seq = syn.seq + 1;
	*peer_seq = PEER_ISS + 1;
	*our_port = syn.sport;
	nfx_clear_tx(fx);
	return c;
}

static void rto_backs_off_and_gives_up(void **state)
{
	struct nfx *fx = *state;
	uint32_t us, them, n = 0;
	uint64_t last = 0, gap = 0;
	struct wp_tcp_sock *c;
	struct wp_net_mib m;
	uint16_t port;

	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.ipv4.tcp_retries2",
				       "4"),
			 0);
	c = active_conn(fx, &us, &them, &port);
	assert_int_equal(wp_tcp_sendmsg(c, "lost", 4), 4);
	/* Nothing is ever acknowledged: the same segment again and again,
	 * each gap about twice the one before. */
	for (int s = 0; s < 400 && wp_sk_state(&c->sk) != WP_TCP_CLOSE; s++) {
		nfx_advance(fx, WP_NSEC_PER_SEC / 10);
		for (uint32_t i = 0; i < fx->ntx; i++) {
			struct wp_tcp_repr r;

			sent_tcp(fx, i, &r);
			if (r.flags & WP_TCP_RST)
				continue;
			assert_int_equal(r.seq, us);
			assert_int_equal(r.payload_len, 4);
			if (n >= 2) {
				uint64_t g = nfx_now(fx) - last;

				assert_true(g + WP_NSEC_PER_SEC / 5 >= 2 * gap);
				gap = g;
			} else if (n == 1) {
				gap = nfx_now(fx) - last;
			}
			last = nfx_now(fx);
			n++;
		}
		nfx_clear_tx(fx);
	}
	assert_int_equal(n, 1 + 4);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_CLOSE);
	assert_int_equal(wp_tcp_sock_error(c), -ETIMEDOUT);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeouts, 4);
	assert_int_equal(m.TCPAbortOnTimeout, 1);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
}

static void keepalive_probes_then_times_out(void **state)
{
	struct nfx *fx = *state;
	uint32_t us, them, probes = 0;
	struct wp_tcp_sock *c;
	struct wp_net_mib m;
	uint16_t port;

	c = active_conn(fx, &us, &them, &port);
	assert_int_equal(wp_tcp_set_keepidle(c, 10), 0);
	assert_int_equal(wp_tcp_set_keepintvl(c, 2), 0);
	assert_int_equal(wp_tcp_set_keepcnt(c, 3), 0);
	assert_int_equal(wp_tcp_set_keepidle(c, 0), -EINVAL);
	assert_int_equal(wp_tcp_set_keepalive(c, true), 0);
	nfx_advance(fx, 9 * WP_NSEC_PER_SEC);
	assert_int_equal(fx->ntx, 0);
	for (int s = 0; s < 40 && wp_sk_state(&c->sk) != WP_TCP_CLOSE; s++) {
		nfx_advance(fx, WP_NSEC_PER_SEC / 2);
		for (uint32_t i = 0; i < fx->ntx; i++) {
			struct wp_tcp_repr r;

			sent_tcp(fx, i, &r);
			if (r.flags & WP_TCP_RST)
				continue;
			/* An old sequence number: the peer must answer. */
			assert_int_equal(r.seq, us - 1);
			assert_int_equal(r.payload_len, 0);
			probes++;
		}
		nfx_clear_tx(fx);
	}
	assert_int_equal(probes, 3);
	assert_int_equal(wp_tcp_sock_error(c), -ETIMEDOUT);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPKeepAlive, 3);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
}

static void keepalive_answered_keeps_the_connection(void **state)
{
	struct nfx *fx = *state;
	uint32_t us, them;
	struct wp_tcp_sock *c;
	uint16_t port;

	c = active_conn(fx, &us, &them, &port);
	wp_tcp_set_keepidle(c, 5);
	wp_tcp_set_keepintvl(c, 1);
	wp_tcp_set_keepcnt(c, 2);
	wp_tcp_set_keepalive(c, true);
	for (int i = 0; i < 10; i++) {
		struct wp_tcp_repr t = seg(WP_TCP_ACK, them, us);

		nfx_advance(fx, 3 * WP_NSEC_PER_SEC);
		t.sport = 80;
		t.dport = port;
		inject_tcp(fx, &t); /* the peer answers every probe */
	}
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_ESTABLISHED);
	wp_tcp_set_linger(c, true, 0);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
	nfx_advance(fx, WP_NSEC_PER_MSEC);
}

static void delayed_ack_waits_at_most_200ms(void **state)
{
	struct nfx *fx = *state;
	uint32_t us, them;
	struct wp_tcp_sock *c;
	struct wp_net_mib m;
	uint16_t port;
	int i;

	c = active_conn(fx, &us, &them, &port);
	/* The first segments are acked at once (quickack), then one in
	 * two waits for its partner or the timer. */
	for (i = 0; i < 40; i++) {
		struct wp_tcp_repr t = seg(WP_TCP_ACK, them, us);

		t.sport = 80;
		t.dport = port;
		t.payload = (const uint8_t *)"x";
		t.payload_len = 1;
		nfx_clear_tx(fx);
		inject_tcp(fx, &t);
		them++;
		nfx_advance(fx, 250 * WP_NSEC_PER_MSEC);
		/* Every segment is acked within 250 ms, one way or the
		 * other. */
		assert_true(fx->ntx >= 1);
	}
	nfx_mib(fx, &m);
	assert_true(m.DelayedACKs > 0);
	wp_tcp_set_linger(c, true, 0);
	wp_tcp_close(c);
	wp_sock_put(&c->sk);
	nfx_advance(fx, WP_NSEC_PER_MSEC);
}

/*
 * SegmentSmack: a flood of 1-byte segments, every other byte, never the
 * first. The out-of-order queue holds at most TCP_OFO_MAX_SEGS of them
 * and no more memory than the receive buffer allows (the rest dropped
 * and counted: TCPOFODrop, TCPRcvQDrop), and when the holes are filled
 * what was kept is delivered in order. Then the urgent pointer: URG with a pointer past
 * the payload (RFC 9293 lets urgent data run beyond a segment) or at 0
 * changes nothing for the data, which is delivered inline, as with
 * SO_OOBINLINE.
 */
static void tiny_segment_flood_and_urgent_pointer(void **state)
{
	struct nfx *fx = *state;
	const uint32_t n = 3000;
	struct wp_tcp_repr t, sa;
	struct wp_net_mib m;
	struct conn k;
	static char buf[8192];
	uint8_t b = 'x';
	int got;

	open_conn(fx, &k, NULL, &sa);
	for (uint32_t i = 0; i < n; i++) {
		t = seg(WP_TCP_ACK, k.snd + 1 + 2 * i, k.iss + 1);
		t.payload = &b;
		t.payload_len = 1;
		nfx_clear_tx(fx);
		inject_tcp(fx, &t);
	}
	/* Held, or dropped and counted: by the queue's bound (TCPOFODrop)
	 * or the receive memory's (TCPRcvQDrop: a quarter of slack over
	 * sk_rcvbuf at most). */
	nfx_mib(fx, &m);
	assert_true(k.c->ofo.qlen <= 1024);
	assert_int_equal(k.c->ofo.qlen + m.TCPOFODrop + m.TCPRcvQDrop, n);
	assert_true(m.TCPOFODrop + m.TCPRcvQDrop > 0);
	assert_true(atomic_load(&k.c->sk.sk_rmem_alloc) <=
		    (uint32_t)atomic_load(&k.c->sk.sk_rcvbuf) * 5 / 4);
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), -EAGAIN);
	/* Fill the first hole: byte 0, then the queue's first run. */
	t = seg(WP_TCP_ACK, k.snd, k.iss + 1);
	t.payload = &b;
	t.payload_len = 1;
	inject_tcp(fx, &t);
	got = wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0);
	assert_int_equal(got, 2); /* byte 0 and the held byte 1 */
	/* There was no room for byte 0 but by pruning the queue's tail. */
	nfx_mib(fx, &m);
	assert_int_equal(m.OfoPruned, 1);
	k.snd += 2;
	/* A whole segment over the rest of the holes' range is taken, the
	 * held bytes with it (each the same 'x'). */
	{
		static uint8_t fill[2 * 3000];

		memset(fill, 'x', sizeof(fill));
		t = seg(WP_TCP_ACK, k.snd, k.iss + 1);
		t.payload = fill;
		t.payload_len = 1000;
		inject_tcp(fx, &t);
		got = wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0);
		assert_true(got >= 1000);
		for (int i = 0; i < got; i++)
			assert_int_equal(buf[i], 'x');
		k.snd += (uint32_t)got;
	}
	/* URG, pointer far past the payload, then URG with pointer 0. */
	t = seg(WP_TCP_ACK | WP_TCP_URG | WP_TCP_PSH, k.snd, k.iss + 1);
	t.urg_ptr = 60000;
	t.payload = (const uint8_t *)"urgent";
	t.payload_len = 6;
	inject_tcp(fx, &t);
	k.snd += 6;
	t = seg(WP_TCP_ACK | WP_TCP_URG, k.snd, k.iss + 1);
	t.urg_ptr = 0;
	t.payload = (const uint8_t *)"!";
	t.payload_len = 1;
	inject_tcp(fx, &t);
	k.snd += 1;
	assert_int_equal(wp_tcp_recvmsg(k.c, buf, sizeof(buf), 0), 7);
	assert_memory_equal(buf, "urgent!", 7);
	assert_int_equal(wp_sk_state(&k.c->sk), WP_TCP_ESTABLISHED);
	close_conn(fx, &k);
}

/*
 * Our close, the peer's ACK and FIN: TIME_WAIT for 2 MSL, then gone. With
 * net.ipv4.tcp_max_tw_buckets sockets in TIME_WAIT already, the next
 * connection that would enter it is done at once and counted
 * (TCPTimeWaitOverflow), as on Linux.
 */
static void close_into_time_wait(struct nfx *fx, struct wp_tcp_sock *c,
				 uint32_t us, uint32_t them, uint16_t port)
{
	struct wp_tcp_repr t, fin;

	uint32_t i;

	nfx_clear_tx(fx);
	wp_tcp_close(c);
	nfx_run(fx);
	/* The FIN (after whatever else the core had to say). */
	for (i = 0; i < fx->ntx; i++) {
		sent_tcp(fx, i, &fin);
		if (fin.sport == port && (fin.flags & WP_TCP_FIN))
			break;
	}
	assert_true(i < fx->ntx);
	assert_int_equal(fin.seq, us);
	t = seg(WP_TCP_ACK | WP_TCP_FIN, them, us + 1);
	t.sport = 80;
	t.dport = port;
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
}

static void time_wait_is_bounded(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_sock *c1, *c2;
	uint32_t us1, them1, us2, them2;
	uint16_t p1, p2;
	struct wp_net_mib m;

	assert_int_equal(wp_sysctl_set(&fx->sysctl,
				       "net.ipv4.tcp_max_tw_buckets", "1"),
			 0);
	c1 = active_conn(fx, &us1, &them1, &p1);
	c2 = active_conn(fx, &us2, &them2, &p2);
	close_into_time_wait(fx, c1, us1, them1, p1);
	assert_int_equal(wp_sk_state(&c1->sk), WP_TCP_TIME_WAIT);
	assert_int_equal(wp_tcp_count_states(fx->net, 1u << WP_TCP_TIME_WAIT),
			 1);
	close_into_time_wait(fx, c2, us2, them2, p2);
	/* The bucket is full: c2 is done, not waiting. */
	assert_int_equal(wp_sk_state(&c2->sk), WP_TCP_CLOSE);
	assert_int_equal(wp_tcp_count_states(fx->net, 1u << WP_TCP_TIME_WAIT),
			 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeWaitOverflow, 1);
	assert_int_equal(m.TW, 0);
	wp_sock_put(&c1->sk);
	wp_sock_put(&c2->sk);
	/* 2 MSL later (60 s by default) the first is gone too. */
	nfx_advance(fx, 61 * WP_NSEC_PER_SEC);
	assert_int_equal(wp_tcp_count_states(fx->net, 1u << WP_TCP_TIME_WAIT),
			 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TW, 1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(closed_port_answers_with_rst),
		T(hostile_headers_are_dropped_silently),
		T(broadcast_land_and_flag_nonsense),
		T(handshake_clamps_a_hostile_mss),
		T(rst_and_syn_in_window_get_challenge_acks),
		T(challenge_acks_are_rate_limited),
		T(acks_of_unsent_data_are_refused),
		T(out_of_order_data_is_sacked_and_reassembled),
		T(a_reader_that_stops_closes_the_window),
		T(accept_queue_is_bounded),
		T(syn_retries_back_off_then_time_out),
		T(rto_backs_off_and_gives_up),
		T(keepalive_probes_then_times_out),
		T(keepalive_answered_keeps_the_connection),
		T(delayed_ack_waits_at_most_200ms),
		T(time_wait_is_bounded),
		T(tiny_segment_flood_and_urgent_pointer),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
