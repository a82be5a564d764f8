// SPDX-License-Identifier: MIT
/*
 * The SACK sender with crafted ACKs: the test plays the receiving peer
 * on the wire of one stack (test_net_common.h), answers its segments
 * with ACKs carrying SACK blocks of its choosing, and reads exactly which
 * segments the stack sends, and when.
 *
 * Every connection: MSS 1000, no timestamps (segments of 1000 bytes),
 * NewReno congestion control (ssthresh = FlightSize / 2), ten segments
 * in flight (IW10). Sequence numbers below are offsets from the first
 * byte of data.
 */
#include "test_net_common.h"

#include "net/net_priv.h"
#include "tcp/tcp_priv.h"
#include "wire/tcp.h"

#define PEER_PORT 80
#define PEER_ISS 1000000u
#define MSS 1000u
#define NSEG_MAX 64

static int setup(void **state)
{
	struct nfx *fx = nfx_new(1, 1, NULL);

	nfx_learn_peer(fx);
	/* Room in the send ring for every segment a test writes. */
	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.ipv4.tcp_wmem",
				       "4096 131072 4194304"),
			 0);
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

static void inject_tcp(struct nfx *fx, const struct wp_tcp_repr *t)
{
	uint8_t m[1600], f[1700];
	int hl = wp_tcp_hdr_len(t);
	struct wp_ipv4_repr r;
	size_t n;

	assert_true(hl >= 20);
	assert_int_equal(
		wp_tcp_emit(t, PEER_IP, OUR_IP, m, (size_t)hl + t->payload_len),
		0);
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_TCP,
		    (size_t)hl + t->payload_len);
	n = ip_frame(f, &r, m);
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
	assert_int_equal(wp_tcp_parse(p.l4, p.l4_len, p.ip.saddr, p.ip.daddr, 0,
				      t, NULL),
			 0);
}

/* Our connection, as the peer sees it. */
struct conn {
	struct wp_tcp_sock *c;
	uint16_t port; /* ours */
	uint32_t base; /* our first data byte */
	uint32_t peer; /* the peer's next sequence number */
};

/* connect(); the peer answers with MSS 1000 and, if `sack`, SACK
 * permitted. */
static void open_conn(struct nfx *fx, struct conn *k, bool sack)
{
	struct wp_tcp_repr syn, t = {
		.sport = PEER_PORT,
		.seq = PEER_ISS,
		.flags = WP_TCP_SYN | WP_TCP_ACK,
		.window = 65535,
	};

	k->c = wp_tcp_sock_alloc(fx->net);
	assert_non_null(k->c);
	assert_int_equal(wp_tcp_set_congestion(k->c, "reno"), 0);
	nfx_clear_tx(fx);
	assert_int_equal(wp_tcp_connect(k->c, PEER_IP, PEER_PORT),
			 -EINPROGRESS);
	nfx_run(fx);
	assert_int_equal(fx->ntx, 1);
	sent_tcp(fx, 0, &syn);
	assert_true(syn.opts.present & WP_TCP_OPT_SACK_PERM);
	t.dport = syn.sport;
	t.ack_seq = syn.seq + 1;
	t.opts.present = WP_TCP_OPT_MSS | (sack ? WP_TCP_OPT_SACK_PERM : 0);
	t.opts.mss = MSS;
	nfx_clear_tx(fx);
	inject_tcp(fx, &t);
	assert_int_equal(wp_sk_state(&k->c->sk), WP_TCP_ESTABLISHED);
	assert_int_equal(k->c->mss_cache, MSS);
	k->port = syn.sport;
	k->base = syn.seq + 1;
	k->peer = PEER_ISS + 1;
	nfx_clear_tx(fx);
}

static void close_conn(struct nfx *fx, struct conn *k)
{
	wp_tcp_set_linger(k->c, true, 0);
	wp_tcp_close(k->c);
	wp_sock_put(&k->c->sk);
	nfx_advance(fx, WP_NSEC_PER_MSEC);
}

/* An ACK of offset `ack` with n SACK blocks {start, end} (offsets). */
static void peer_ack(struct nfx *fx, const struct conn *k, uint32_t ack,
		     uint32_t n, const uint32_t (*blk)[2])
{
	struct wp_tcp_repr t = {
		.sport = PEER_PORT,
		.dport = k->port,
		.seq = k->peer,
		.ack_seq = k->base + ack,
		.flags = WP_TCP_ACK,
		.window = 65535,
	};

	if (n) {
		t.opts.present = WP_TCP_OPT_SACK;
		t.opts.nr_sack = (uint8_t)n;
		for (uint32_t i = 0; i < n; i++) {
			t.opts.sack[i].start = k->base + blk[i][0];
			t.opts.sack[i].end = k->base + blk[i][1];
		}
	}
	inject_tcp(fx, &t);
}

#define ACK0(fx, k, ack) peer_ack(fx, k, ack, 0, NULL)

#define ACK(fx, k, ack, ...)                                                   \
	do {                                                                   \
		const uint32_t b_[][2] = { __VA_ARGS__ };                      \
		peer_ack(fx, k, ack, WP_ARRAY_SIZE(b_), b_);                   \
	} while (0)

/* The application writes nseg segments' worth; the first ten go. */
static void write_segs(struct nfx *fx, struct conn *k, uint32_t nseg)
{
	static uint8_t buf[NSEG_MAX * MSS];

	for (uint32_t i = 0; i < nseg * MSS; i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(wp_tcp_sendmsg(k->c, buf, nseg * MSS),
			 (ssize_t)(nseg * MSS));
	nfx_run(fx);
}

/* Offsets of the data segments sent from frame `from` on; returns how
 * many. Every one is a whole segment. */
static uint32_t sent_data(struct nfx *fx, const struct conn *k, uint32_t from,
			  uint32_t *off, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = from; i < fx->ntx; i++) {
		struct wp_tcp_repr r;

		sent_tcp(fx, i, &r);
		if (!r.payload_len)
			continue;
		assert_int_equal(r.payload_len, MSS);
		assert_true(n < max);
		off[n++] = r.seq - k->base;
	}
	return n;
}

static void assert_sent(struct nfx *fx, const struct conn *k, uint32_t n,
			const uint32_t *want)
{
	uint32_t got[NSEG_MAX];

	assert_int_equal(sent_data(fx, k, 0, got, NSEG_MAX), n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
	nfx_clear_tx(fx);
}

/* Let time run until the retransmit timer sends something (bounded:
 * the initial RTO is 1 s without an RTT sample). */
static void until_rto(struct nfx *fx)
{
	struct wp_net_mib m;
	uint64_t t0;

	nfx_mib(fx, &m);
	t0 = m.TCPTimeouts;
	for (int n = 0; n < 40 && m.TCPTimeouts == t0; n++) {
		nfx_advance(fx, 100 * WP_NSEC_PER_MSEC);
		nfx_mib(fx, &m);
	}
	assert_int_equal(m.TCPTimeouts, t0 + 1);
}

static void info(struct conn *k, struct wp_tcp_info *i)
{
	wp_tcp_get_info(k->c, i);
}

/* --- recovery
 * ------------------------------------------------------------------ */

/*
 * Segments 2, 5 and 7 of 0..9 lost. RFC 6675 repairs all three before any
 * of the retransmissions is acknowledged: 2 at the third duplicate ACK,
 * 5 once IsLost holds for it, 7 by NextSeg rule 3 (below the highest
 * SACK, room in the window).
 */
static void three_holes_repaired_in_one_round_trip(void **state)
{
	struct nfx *fx = *state;
	const uint32_t first[] = { 0,	 1000, 2000, 3000, 4000,
				   5000, 6000, 7000, 8000, 9000 };
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 10);
	assert_sent(fx, &k, 10, first);
	ACK0(fx, &k, 2000);
	assert_int_equal(fx->ntx, 0);
	ACK(fx, &k, 2000, { 3000, 4000 });
	ACK(fx, &k, 2000, { 3000, 5000 });
	assert_int_equal(fx->ntx, 0);
	info(&k, &i);
	assert_int_equal(i.ca_state, TCP_CA_DISORDER);
	assert_int_equal(i.sacked, 2);
	/* Third duplicate ACK: fast retransmit of 2, cwnd = ssthresh =
	 * 8000 / 2; pipe (5000) leaves no room. */
	ACK(fx, &k, 2000, { 6000, 7000 }, { 3000, 5000 });
	assert_sent(fx, &k, 1, (const uint32_t[]){ 2000 });
	info(&k, &i);
	assert_int_equal(i.ca_state, TCP_CA_RECOVERY);
	assert_int_equal(i.snd_ssthresh, 4);
	assert_int_equal(i.snd_cwnd, 4);
	ACK(fx, &k, 2000, { 8000, 9000 }, { 6000, 7000 }, { 3000, 5000 });
	assert_int_equal(fx->ntx, 0);
	/* Three SACKed above 5: lost (rule 1); 7 has two above, not lost,
	 * but below the highest SACK: rule 3. */
	ACK(fx, &k, 2000, { 8000, 10000 }, { 6000, 7000 }, { 3000, 5000 });
	assert_sent(fx, &k, 2, (const uint32_t[]){ 5000, 7000 });
	info(&k, &i);
	assert_int_equal(i.sacked, 5);
	assert_int_equal(i.lost, 2);
	assert_int_equal(i.retrans, 3);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSackRecovery, 1);
	assert_int_equal(m.TCPRenoRecovery, 0);
	assert_int_equal(m.TCPFastRetrans, 3);
	/* All three arrived: RecoveryPoint acknowledged, recovery over. */
	ACK0(fx, &k, 10000);
	assert_int_equal(fx->ntx, 0);
	info(&k, &i);
	assert_int_equal(i.ca_state, TCP_CA_OPEN);
	assert_int_equal(i.sacked + i.lost + i.retrans, 0);
	assert_int_equal(i.snd_cwnd, 4);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeouts, 0);
	assert_int_equal(m.TcpRetransSegs, 3);
	close_conn(fx, &k);
}

/* The same losses to a peer without SACK: NewReno, one hole per round
 * trip (each partial ACK shows the next), blocks it sends ignored. */
static void no_sack_peer_falls_back_to_newreno(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;
	uint32_t off[NSEG_MAX];

	open_conn(fx, &k, false);
	info(&k, &i);
	assert_false(i.options & WP_TCPI_OPT_SACK);
	write_segs(fx, &k, 10);
	assert_int_equal(sent_data(fx, &k, 0, off, NSEG_MAX), 10);
	nfx_clear_tx(fx);
	ACK0(fx, &k, 2000);
	ACK(fx, &k, 2000, { 3000, 4000 });
	ACK(fx, &k, 2000, { 3000, 5000 });
	assert_int_equal(fx->ntx, 0);
	ACK(fx, &k, 2000, { 6000, 7000 }, { 3000, 5000 });
	assert_sent(fx, &k, 1, (const uint32_t[]){ 2000 });
	ACK(fx, &k, 2000, { 8000, 9000 }, { 6000, 7000 }, { 3000, 5000 });
	ACK(fx, &k, 2000, { 8000, 10000 }, { 6000, 7000 }, { 3000, 5000 });
	assert_int_equal(fx->ntx, 0); /* 5 and 7 wait for partial ACKs */
	info(&k, &i);
	assert_int_equal(i.sacked, 0);
	assert_int_equal(i.ca_state, TCP_CA_RECOVERY);
	ACK0(fx, &k, 5000);
	assert_sent(fx, &k, 1, (const uint32_t[]){ 5000 });
	ACK0(fx, &k, 7000);
	assert_sent(fx, &k, 1, (const uint32_t[]){ 7000 });
	ACK0(fx, &k, 10000);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPRenoRecovery, 1);
	assert_int_equal(m.TCPSackRecovery, 0);
	assert_int_equal(m.TCPFastRetrans, 3);
	assert_int_equal(m.TCPSACKDiscard, 0);
	assert_int_equal(m.TCPTimeouts, 0);
	close_conn(fx, &k);
}

/* --- what is not news
 * ------------------------------------------------------------ */

/*
 * D-SACKs (RFC 2883) report data received twice: no duplicate ACK, no
 * loss marked. Here the second form (a block inside the next one), for
 * data never retransmitted: dubious as well (Linux tcp_dsack_seen).
 */
static void dsack_is_no_news(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 10);
	nfx_clear_tx(fx);
	ACK(fx, &k, 0, { 1000, 2000 });
	ACK(fx, &k, 0, { 1000, 3000 });
	/* Segment 1 arrives again and again: each ACK reports it. */
	for (int n = 0; n < 5; n++)
		ACK(fx, &k, 0, { 1000, 2000 }, { 1000, 3000 });
	assert_int_equal(fx->ntx, 0);
	info(&k, &i);
	assert_int_equal(i.ca_state, TCP_CA_DISORDER);
	assert_int_equal(i.sacked, 2);
	assert_int_equal(i.lost, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPDSACKOfoRecv, 5);
	assert_int_equal(m.TCPDSACKIgnoredDubious, 5); /* never resent */
	assert_int_equal(m.TCPSACKDiscard, 0);
	/* A third segment SACKed: the third duplicate ACK. */
	ACK(fx, &k, 0, { 1000, 4000 });
	assert_sent(fx, &k, 1, (const uint32_t[]){ 0 });
	ACK0(fx, &k, 10000);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSackRecovery, 1);
	close_conn(fx, &k);
}

/* The first form, below the ACK, after a real retransmission: one
 * segment, its ACK lost, the RTO resends it, the peer reports the
 * duplicate. Counted, valid, and still no news. */
static void dsack_after_a_retransmission(void **state)
{
	struct nfx *fx = *state;
	uint32_t off[NSEG_MAX];
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 1);
	assert_int_equal(sent_data(fx, &k, 0, off, NSEG_MAX), 1);
	assert_int_equal(off[0], 0);
	nfx_clear_tx(fx);
	until_rto(fx);
	assert_sent(fx, &k, 1, (const uint32_t[]){ 0 });
	ACK(fx, &k, 1000, { 0, 1000 });
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeouts, 1);
	assert_int_equal(m.TCPDSACKRecv, 1);
	assert_int_equal(m.TCPDSACKRecvSegs, 1);
	assert_int_equal(m.TCPDSACKIgnoredDubious, 0);
	assert_int_equal(m.TCPDSACKIgnoredOld + m.TCPDSACKIgnoredNoUndo, 0);
	assert_int_equal(m.TCPSACKDiscard, 0);
	info(&k, &i);
	assert_int_equal(i.sacked, 0);
	assert_int_equal(i.ca_state, TCP_CA_OPEN);
	close_conn(fx, &k);
}

/* Blocks outside snd_una..snd_nxt, reversed, or straddling snd_nxt are
 * ignored and counted: five ACKs of them are no duplicate ACKs. */
static void bogus_blocks_are_ignored_and_counted(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 10);
	nfx_clear_tx(fx);
	ACK0(fx, &k, 1000);
	ACK(fx, &k, 1000, { 12000, 13000 });		 /* beyond snd_nxt */
	ACK(fx, &k, 1000, { 5000, 4000 });		 /* reversed */
	ACK(fx, &k, 1000, { 9000, 11000 });		 /* past snd_nxt */
	ACK(fx, &k, 1000, { 20000, 21000 }, { 0, 500 }); /* both */
	ACK(fx, &k, 1000, { 1000, 2000 }); /* from snd_una: acked, not */
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSACKDiscard, 6);
	/* An old ACK overtaken by a newer one, with its old blocks: not
	 * the peer's fault, not counted. */
	ACK0(fx, &k, 3000);
	ACK(fx, &k, 1000, { 2000, 3000 });
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSACKDiscard, 6);
	assert_int_equal(fx->ntx, 0);
	info(&k, &i);
	assert_int_equal(i.sacked, 0);
	assert_int_equal(i.ca_state, TCP_CA_OPEN);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSackRecovery + m.TCPRenoRecovery, 0);
	assert_int_equal(m.TcpRetransSegs, 0);
	close_conn(fx, &k);
}

/* --- a receiver model
 * -------------------------------------------------------------- */

/* The peer: which segments it holds; `lose` decides the fate of the
 * n-th copy (0: the first transmission) of segment s. */
struct peer {
	bool have[NSEG_MAX];
	uint32_t copies[NSEG_MAX];
	uint32_t nseg;
	bool (*lose)(uint32_t s, uint32_t copy);
	uint32_t last; /* the segment that arrived last */
};

static uint32_t peer_cum(const struct peer *p)
{
	uint32_t a = 0;

	while (a < p->nseg && p->have[a])
		a++;
	return a;
}

/* The ACK a receiver sends now: cumulative, then up to three blocks,
 * the one with the segment that came last first (RFC 2018 4). */
static void peer_answer(struct nfx *fx, const struct conn *k,
			const struct peer *p)
{
	uint32_t blk[WP_TCP_SACK_MAX][2], n = 0, cum = peer_cum(p);

	for (uint32_t s = cum; s < p->nseg && n < 3;) {
		uint32_t e;

		if (!p->have[s]) {
			s++;
			continue;
		}
		for (e = s; e < p->nseg && p->have[e]; e++)
			;
		blk[n][0] = s * MSS;
		blk[n][1] = e * MSS;
		if (p->last >= s && p->last < e && n) {
			uint32_t t0 = blk[0][0], t1 = blk[0][1];

			blk[0][0] = blk[n][0];
			blk[0][1] = blk[n][1];
			blk[n][0] = t0;
			blk[n][1] = t1;
		}
		n++;
		s = e;
	}
	peer_ack(fx, k, cum * MSS, n, (const uint32_t(*)[2])blk);
}

/*
 * Deliver what the stack sends, frame by frame in order, answering each
 * data segment at once; when nothing is left, let time run (timers). Up
 * to `rounds` timer steps. Every data frame sent is recorded in `log`.
 */
static void peer_run(struct nfx *fx, const struct conn *k, struct peer *p,
		     uint32_t *log, uint32_t *nlog, uint32_t rounds)
{
	uint32_t i = 0;

	while (peer_cum(p) < p->nseg) {
		struct wp_tcp_repr r;
		uint32_t s;

		if (i == fx->ntx) {
			if (!rounds--)
				break;
			nfx_clear_tx(fx);
			i = 0;
			nfx_advance(fx, 50 * WP_NSEC_PER_MSEC);
			continue;
		}
		sent_tcp(fx, i++, &r);
		if (!r.payload_len)
			continue;
		s = (r.seq - k->base) / MSS;
		assert_true(s < p->nseg);
		assert_true(*nlog < 4 * NSEG_MAX);
		log[(*nlog)++] = s;
		if (p->lose(s, p->copies[s]++))
			continue;
		p->have[s] = true;
		p->last = s;
		peer_answer(fx, k, p);
	}
	assert_int_equal(peer_cum(p), p->nseg);
	nfx_clear_tx(fx);
}

static bool lose_never(uint32_t s, uint32_t copy)
{
	(void)s;
	(void)copy;
	return false;
}

/*
 * Segments 0 and 1 lost, 2 and 3 SACKed, then silence (the peer's other
 * ACKs lost): the RTO. Everything not SACKed goes again as the window
 * opens, each once; 2 and 3 never.
 */
static void rto_resends_only_what_was_not_sacked(void **state)
{
	struct nfx *fx = *state;
	struct peer p = { .nseg = 10, .lose = lose_never };
	uint32_t log[4 * NSEG_MAX], nlog = 0, count[10] = { 0 };
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 10);
	nfx_clear_tx(fx);
	ACK(fx, &k, 0, { 2000, 3000 });
	ACK(fx, &k, 0, { 2000, 4000 });
	assert_int_equal(fx->ntx, 0);
	until_rto(fx);
	assert_sent(fx, &k, 1, (const uint32_t[]){ 0 });
	info(&k, &i);
	assert_int_equal(i.ca_state, TCP_CA_LOSS);
	assert_int_equal(i.sacked, 2);
	assert_int_equal(i.lost, 8);
	assert_int_equal(i.retrans, 1);
	/* The peer has 2 and 3; it gets everything from now on. */
	p.have[2] = p.have[3] = true;
	p.have[0] = true;
	p.last = 0;
	peer_answer(fx, &k, &p);
	peer_run(fx, &k, &p, log, &nlog, 10);
	for (uint32_t n = 0; n < nlog; n++)
		count[log[n]]++;
	for (uint32_t s = 1; s < 10; s++)
		assert_int_equal(count[s], s == 2 || s == 3 ? 0 : 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeouts, 1);
	assert_int_equal(m.TcpRetransSegs, 8);
	assert_int_equal(m.TCPSlowStartRetrans, 7);
	assert_int_equal(m.TCPSACKReneging, 0);
	close_conn(fx, &k);
}

/* The first transmission of 0 and its first retransmission are lost. */
static bool lose_zero_twice(uint32_t s, uint32_t copy)
{
	return s == 0 && copy < 2;
}

/*
 * A retransmission lost: segments sent after it are SACKed, so it was
 * (the path keeps order). Segment 0 goes a third time without waiting
 * for the RTO (Linux tcp_mark_lost_retrans: TCPLostRetransmit).
 */
static void lost_retransmission_goes_again_without_rto(void **state)
{
	struct nfx *fx = *state;
	struct peer p = { .nseg = 20, .lose = lose_zero_twice };
	uint32_t log[4 * NSEG_MAX], nlog = 0, zeros = 0;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 20);
	peer_run(fx, &k, &p, log, &nlog, 0);
	for (uint32_t n = 0; n < nlog; n++)
		zeros += log[n] == 0;
	assert_int_equal(zeros, 3);
	assert_int_equal(p.copies[0], 3);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPLostRetransmit, 1);
	assert_int_equal(m.TCPSackRecovery, 1);
	assert_int_equal(m.TCPTimeouts, 0);
	close_conn(fx, &k);
}

/*
 * Segment 0 lost, segment 1 late: SACKs of 2..4 mark both lost, but 1
 * arrives before its turn to be resent. A segment never resent SACKed
 * below the highest SACK is reordering: DupThresh becomes the distance
 * seen, 4 segments, and 1 is not resent.
 */
static void reordering_raises_dupthresh(void **state)
{
	struct nfx *fx = *state;
	struct wp_tcp_info i;
	struct wp_net_mib m;
	struct conn k;

	open_conn(fx, &k, true);
	write_segs(fx, &k, 10);
	nfx_clear_tx(fx);
	info(&k, &i);
	assert_int_equal(i.reordering, 3);
	ACK(fx, &k, 0, { 2000, 3000 });
	ACK(fx, &k, 0, { 2000, 4000 });
	ACK(fx, &k, 0, { 2000, 5000 });
	assert_sent(fx, &k, 1, (const uint32_t[]){ 0 });
	info(&k, &i);
	assert_int_equal(i.lost, 2);
	ACK(fx, &k, 0, { 1000, 5000 });
	assert_int_equal(fx->ntx, 0);
	info(&k, &i);
	assert_int_equal(i.reordering, 4);
	assert_int_equal(i.lost, 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPSACKReorder, 1);
	ACK0(fx, &k, 10000);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.TcpRetransSegs, 1);
	close_conn(fx, &k);
}

/*
 * The receiver SACKed 1..3, then acknowledges 1 without them: it threw
 * them away (RFC 2018 8). The sender times out soon (not after a full
 * RTO), forgets the SACKs and resends everything (TCPSACKReneging).
 */
static void reneging_receiver_gets_everything_again(void **state)
{
	struct nfx *fx = *state;
	uint32_t off[NSEG_MAX], n;
	struct wp_net_mib m;
	struct conn k;

	assert_int_equal(wp_sysctl_set(&fx->sysctl, "net.ipv4.tcp_rto_min_us",
				       "1000000"),
			 0);
	open_conn(fx, &k, true);
	write_segs(fx, &k, 4);
	nfx_clear_tx(fx);
	ACK(fx, &k, 0, { 1000, 2000 });
	ACK(fx, &k, 0, { 1000, 3000 });
	assert_int_equal(fx->ntx, 0);
	/* Segment 0 came: the ACK should cover 1 and 2 as well. */
	ACK0(fx, &k, 1000);
	assert_int_equal(fx->ntx, 0);
	nfx_advance(fx, 500 * WP_NSEC_PER_MSEC);
	nfx_mib(fx, &m);
	assert_int_equal(m.TCPTimeouts, 1);
	assert_int_equal(m.TCPSACKReneging, 1);
	n = sent_data(fx, &k, 0, off, NSEG_MAX);
	assert_true(n >= 1);
	assert_int_equal(off[0], 1000);
	nfx_clear_tx(fx);
	ACK0(fx, &k, 2000);
	n = sent_data(fx, &k, 0, off, NSEG_MAX);
	assert_int_equal(n, 2);
	assert_int_equal(off[0], 2000);
	assert_int_equal(off[1], 3000);
	ACK0(fx, &k, 4000);
	close_conn(fx, &k);
}

/* --- hostile and random ACKs
 * ---------------------------------------------------------- */

/* What the scoreboard claims, recomputed from its segments: contiguous
 * from snd_una to snd_nxt, counts and marks consistent. */
static void sb_check(const struct wp_tcp_sock *tp)
{
	const struct tcp_scoreboard *sb = &tp->sb;
	uint32_t b[3] = { 0 }, n[3] = { 0 }, seq = tp->snd_una;
	const uint8_t fl[3] = { TCP_SB_SACKED, TCP_SB_LOST, TCP_SB_RETRANS };

	assert_true(tcp_sb_len(sb) <= sb->cap);
	for (uint32_t i = sb->head; i != sb->tail; i++) {
		const struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		assert_int_equal(e->seq, seq);
		assert_true(after(e->end_seq, e->seq));
		/* SACKed excludes lost and in flight. */
		if (e->flags & TCP_SB_SACKED)
			assert_false(e->flags & (TCP_SB_LOST | TCP_SB_RETRANS));
		for (int f = 0; f < 3; f++)
			if (e->flags & fl[f]) {
				b[f] += e->end_seq - e->seq;
				n[f]++;
			}
		seq = e->end_seq;
	}
	assert_int_equal(seq, tp->snd_nxt);
	assert_int_equal(b[0], sb->sacked_bytes);
	assert_int_equal(b[1], sb->lost_bytes);
	assert_int_equal(b[2], sb->retrans_bytes);
	assert_int_equal(n[0], sb->sacked_segs);
	assert_int_equal(n[1], sb->lost_segs);
	assert_int_equal(n[2], sb->retrans_segs);
	assert_true(tcp_pipe(tp) <= tp->snd_nxt - tp->snd_una + b[2]);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * A seeded storm of ACKs with blocks of every kind (aligned, ragged,
 * reversed, out of range, D-SACKs), cumulative ACKs now and then, and
 * timeouts: after each the scoreboard adds up. Then the peer takes
 * everything and the connection drains.
 */
static void random_acks_keep_the_scoreboard_consistent(void **state)
{
	struct nfx *fx = *state;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct wp_net_mib m;
	struct conn k;
	uint32_t una = 0;

	open_conn(fx, &k, true);
	write_segs(fx, &k, NSEG_MAX);
	for (int it = 0; it < 3000; it++) {
		uint32_t top = k.c->snd_nxt - k.base;
		uint32_t blk[WP_TCP_SACK_MAX][2], n = (uint32_t)(rnd(&x) % 5);
		uint32_t ack = una;

		if (rnd(&x) % 8 == 0 && una < top)
			ack = una + (uint32_t)(rnd(&x) % (top - una + 1));
		if (rnd(&x) % 16 == 0 && ack >= 2000)
			ack -= 2000; /* old, overtaken */
		for (uint32_t i = 0; i < n; i++) {
			uint32_t a =
				una + (uint32_t)(rnd(&x) % (top - una + 2000));
			uint32_t len = (uint32_t)(rnd(&x) % 5000);

			if (rnd(&x) % 2) {
				a -= a % MSS;
				len = MSS * (1 + len % 4);
			}
			if (rnd(&x) % 8 == 0)
				a = (uint32_t)rnd(&x); /* anywhere */
			else if (rnd(&x) % 8 == 0)
				a -= 3000; /* below the ACK: a D-SACK */
			blk[i][0] = a;
			blk[i][1] = rnd(&x) % 20 ? a + len : a - len;
		}
		peer_ack(fx, &k, ack, n, (const uint32_t(*)[2])blk);
		if (ack > una && ack <= top)
			una = ack;
		if (rnd(&x) % 64 == 0)
			nfx_advance(fx, (rnd(&x) % 1500) * WP_NSEC_PER_MSEC);
		nfx_clear_tx(fx);
		sb_check(k.c);
		una = k.c->snd_una - k.base;
	}
	for (int it = 0; it < 200 && k.c->snd_una != k.c->snd_max; it++) {
		ACK0(fx, &k, k.c->snd_nxt - k.base);
		nfx_clear_tx(fx);
		sb_check(k.c);
		nfx_advance(fx, 10 * WP_NSEC_PER_MSEC);
	}
	assert_int_equal(k.c->snd_una - k.base, NSEG_MAX * MSS);
	assert_int_equal(tcp_sb_len(&k.c->sb), 0);
	/* The storm went through every path it is meant to. */
	nfx_mib(fx, &m);
	assert_true(m.TCPSackRecovery > 0 && m.TCPTimeouts > 0);
	assert_true(m.TCPLostRetransmit > 0 && m.TCPSACKReneging > 0);
	assert_true(m.TCPSACKDiscard > 0 && m.TCPDSACKRecv > 0);
	close_conn(fx, &k);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(three_holes_repaired_in_one_round_trip),
		T(no_sack_peer_falls_back_to_newreno),
		T(dsack_is_no_news),
		T(dsack_after_a_retransmission),
		T(bogus_blocks_are_ignored_and_counted),
		T(rto_resends_only_what_was_not_sacked),
		T(lost_retransmission_goes_again_without_rto),
		T(reordering_raises_dupthresh),
		T(reneging_receiver_gets_everything_again),
		T(random_acks_keep_the_scoreboard_consistent),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
