// SPDX-License-Identifier: MIT
/*
 * TCP input (Linux tcp_ipv4.c tcp_v4_rcv, tcp_input.c): from the segment
 * IP hands up to sk_receive_queue and sk_data_ready.
 *
 *   wp__tcp_v4_rcv: parse (length, checksum, options: src/wire), refuse
 *     what no host accepts (broadcast, LAND, SYN+FIN), __inet_lookup_skb
 *     (ehash, then the listener), hand the segment to the owning core,
 *     or answer a closed port with a RST (RFC 9293 3.10.7.1)
 *   wp__tcp_rcv: LISTEN (a SYN makes an embryo in SYN_RECV), SYN_SENT
 *     (3.10.7.3), and every synchronized state (3.10.7.4), with
 *     tcp_rcv_established's header prediction in front for the common
 *     in-order case.
 * Every segment is consumed; every drop is counted under a reason.
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <string.h>

#include "wire/icmp.h"

#define TCP_CB_HANDED 0x8000 /* tcp_skb_cb.flags: came from another core */

/* --- state, done, abort
 * ---------------------------------------------------------- */

void wp__tcp_set_state(struct tcp_cpu *tc, struct wp_tcp_sock *tp, int st)
{
	struct wp_net_cpu *pc = tc->pc;
	int old = tp->state_core;

	if (old == st)
		return;
	/* Linux tcp_set_state: CurrEstab counts ESTABLISHED and CLOSE_WAIT. */
	switch (st) {
	case WP_TCP_ESTABLISHED:
		WP_MIB_INC(pc, TcpCurrEstab);
		break;
	case WP_TCP_CLOSE_WAIT:
		if (old == WP_TCP_SYN_RECV)
			WP_MIB_INC(pc, TcpCurrEstab);
		break;
	default:
		if (st == WP_TCP_CLOSE &&
		    (old == WP_TCP_ESTABLISHED || old == WP_TCP_CLOSE_WAIT) &&
		    atomic_load(&tp->sk.sk_err))
			WP_MIB_INC(pc, TcpEstabResets);
		if (old == WP_TCP_ESTABLISHED || old == WP_TCP_CLOSE_WAIT)
			WP_MIB_ADD(pc, TcpCurrEstab, (uint64_t)-1);
		break;
	}
	if (st == WP_TCP_TIME_WAIT)
		atomic_fetch_add(&tp->net->tcp->tw_count, 1);
	if (old == WP_TCP_TIME_WAIT)
		atomic_fetch_sub(&tp->net->tcp->tw_count, 1);
	tp->state_core = (uint8_t)st;
	wp_sk_set_state(&tp->sk, (enum wp_sk_state)st);
	tp->sk.sk_state_change(&tp->sk);
}

/* An embryo leaves SYN_RECV: it no longer counts in its listener's SYN
 * queue, and lets go of it. */
static void release_parent(struct wp_tcp_sock *tp)
{
	struct wp_tcp_sock *parent = tp->parent;

	if (!parent)
		return;
	tp->parent = NULL;
	atomic_fetch_sub(&parent->syn_qlen, 1);
	wp_sock_put(&parent->sk);
}

void wp__tcp_purge(struct wp_tcp_sock *tp)
{
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(&tp->ofo))) {
		atomic_fetch_sub(&tp->sk.sk_rmem_alloc, wp_skb_truesize(skb));
		wp_kfree_skb_reason(skb, WP_DROP_SOCKET_CLOSED);
	}
	if (tp->rd_skb) {
		atomic_fetch_sub(&tp->sk.sk_rmem_alloc,
				 wp_skb_truesize(tp->rd_skb));
		wp_kfree_skb_reason(tp->rd_skb, WP_DROP_SOCKET_CLOSED);
		tp->rd_skb = NULL;
	}
	tp->nr_sacks = 0;
}

void wp__tcp_done(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	wp_sock_hold(&tp->sk);
	wp__tcp_set_state(tc, tp, WP_TCP_CLOSE);
	wp__tcp_timers_clear_all(tc, tp);
	release_parent(tp);
	/* Out-of-order data can never be read now. */
	while (!wp_skb_queue_empty(&tp->ofo)) {
		struct wp_skb *skb = wp_skb_dequeue(&tp->ofo);

		atomic_fetch_sub(&tp->sk.sk_rmem_alloc, wp_skb_truesize(skb));
		wp_kfree_skb_reason(skb, WP_DROP_SOCKET_CLOSED);
	}
	tp->nr_sacks = 0;
	if (tp->ehashed)
		wp__tcp_ehash_remove(tp->net, tp);
	/* A child holds its listener's port, not one of its own. */
	if (!tp->port_locked || tp->dead)
		wp__tcp_bhash_remove(tp->net, tp);
	wp_sock_shutdown(&tp->sk, WP_SHUTDOWN_MASK);
	wp__tcp_update_info(tp);
	wp_sock_put(&tp->sk);
}

void wp__tcp_abort(struct tcp_cpu *tc, struct wp_tcp_sock *tp, int err)
{
	atomic_store(&tp->sk.sk_err, err);
	wp__tcp_done(tc, tp);
	tp->sk.sk_error_report(&tp->sk);
}

void wp__tcp_update_info(struct wp_tcp_sock *tp)
{
	struct wp_tcp_info *i = &tp->info;
	uint32_t mss = tp->mss_cache ? tp->mss_cache : 1;

	wp_lock_sock(&tp->sk);
	i->state = tp->state_core;
	i->ca_state = tp->ca_state;
	i->retransmits = tp->retransmits;
	i->probes = tp->probes_out;
	i->backoff = tp->backoff;
	i->options = (tp->rx_opt.tstamp_ok ? WP_TCPI_OPT_TIMESTAMPS : 0) |
		     (tp->rx_opt.sack_ok ? WP_TCPI_OPT_SACK : 0) |
		     (tp->rx_opt.wscale_ok ? WP_TCPI_OPT_WSCALE : 0);
	i->snd_wscale = tp->rx_opt.snd_wscale;
	i->rcv_wscale = tp->rx_opt.rcv_wscale;
	i->rto = (uint32_t)((tp->rto << tp->backoff) / WP_NSEC_PER_USEC);
	i->ato = (uint32_t)(tp->ato / WP_NSEC_PER_USEC);
	i->snd_mss = tp->mss_cache;
	i->rcv_mss = tp->rcv_mss;
	i->unacked = (tp->snd_max - tp->snd_una + mss - 1) / mss;
	i->sacked = tp->sb.sacked_segs;
	i->lost = tp->sb.lost_segs;
	i->retrans = tp->sb.retrans_segs;
	i->total_retrans = tp->total_retrans;
	i->reordering = tp->reordering;
	i->rtt = (uint32_t)(tp->srtt / WP_NSEC_PER_USEC);
	i->rttvar = (uint32_t)(tp->rttvar / WP_NSEC_PER_USEC);
	i->snd_ssthresh = tp->ssthresh / mss;
	i->snd_cwnd = tp->cwnd / mss;
	i->snd_wnd = tp->snd_wnd;
	i->rcv_wnd = tp->rcv_wnd;
	i->bytes_acked = tp->bytes_acked;
	i->bytes_received = tp->bytes_received;
	i->segs_out = tp->segs_out;
	i->segs_in = tp->segs_in;
	i->notsent_bytes = tp->sndring ? tcp_write_seq(tp) - tp->snd_nxt : 0;
	if (before(tcp_write_seq(tp), tp->snd_nxt))
		i->notsent_bytes = 0;
	snprintf(i->ca_name, sizeof(i->ca_name), "%s",
		 tp->cc ? tp->cc->name : "");
	wp_release_sock(&tp->sk);
}

/* --- RTT
 * ---------------------------------------------------------------------- */

void wp__tcp_rtt_sample(struct wp_tcp_sock *tp, uint64_t r)
{
	uint64_t rto_min =
		(uint64_t)TCP_SYSCTL(tp->net, tcp_rto_min_us, 200000) *
		WP_NSEC_PER_USEC;

	if (!r)
		r = 1;
	if (!tp->srtt) {
		/* RFC 6298 2.2 */
		tp->srtt = r;
		tp->rttvar = r / 2;
	} else {
		/* RFC 6298 2.3: beta 1/4, alpha 1/8 */
		uint64_t d = tp->srtt > r ? tp->srtt - r : r - tp->srtt;

		tp->rttvar = (3 * tp->rttvar + d) / 4;
		tp->srtt = (7 * tp->srtt + r) / 8;
	}
	/* RTO = SRTT + max(G, K * RTTVAR), G the 1 ms clock (2.3). */
	tp->rto = tp->srtt + (4 * tp->rttvar > WP_NSEC_PER_MSEC
				      ? 4 * tp->rttvar
				      : WP_NSEC_PER_MSEC);
	if (tp->rto < rto_min)
		tp->rto = rto_min;
	if (tp->rto > TCP_RTO_MAX)
		tp->rto = TCP_RTO_MAX;
	/* Delayed ACKs wait at most an RTT-ish time (Linux ato). */
	tp->ato = tp->srtt / 2;
	if (tp->ato < TCP_ATO_MIN)
		tp->ato = TCP_ATO_MIN;
	if (tp->ato > TCP_DELACK_MAX)
		tp->ato = TCP_DELACK_MAX;
}

/* --- helpers
 * --------------------------------------------------------------------- */

static void tcp_drop(struct wp_net_cpu *pc, struct wp_skb *skb,
		     enum wp_drop_reason why)
{
	(void)pc;
	wp_kfree_skb_reason(skb, why);
}

/* RFC 5961 7: challenge ACKs, at most tcp_challenge_ack_limit per second
 * per socket. */
static void send_challenge_ack(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint64_t now = tc->pc->now;
	uint32_t limit =
		(uint32_t)TCP_SYSCTL(tp->net, tcp_challenge_ack_limit, 1000);

	if (now - tp->chal_window >= WP_NSEC_PER_SEC || !tp->chal_window) {
		tp->chal_window = now ? now : 1;
		tp->chal_count = 0;
	}
	if (tp->chal_count >= limit)
		return;
	tp->chal_count++;
	WP_MIB_INC(tc->pc, TCPChallengeACK);
	wp__tcp_send_ack(tc, tp);
}

/* Out-of-window segments get an ACK, but not at any rate a peer likes
 * (Linux tcp_oow_rate_limited shares the challenge budget here). */
static void send_dupack(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint64_t now = tc->pc->now;
	uint32_t limit =
		(uint32_t)TCP_SYSCTL(tp->net, tcp_challenge_ack_limit, 1000);

	if (now - tp->chal_window >= WP_NSEC_PER_SEC || !tp->chal_window) {
		tp->chal_window = now ? now : 1;
		tp->chal_count = 0;
	}
	if (tp->chal_count >= limit)
		return;
	tp->chal_count++;
	wp__tcp_send_ack(tc, tp);
}

uint8_t wp__tcp_select_rcv_wscale(const struct wp_tcp_sock *tp)
{
	uint32_t max = (uint32_t)TCP_SYSCTL(tp->net, tcp_rmem[2], 6291456);
	uint32_t rcvbuf = (uint32_t)atomic_load(&tp->sk.sk_rcvbuf);
	uint8_t ws = 0;

	if (rcvbuf > max)
		max = rcvbuf;
	/* The smallest scale whose 16-bit window covers the largest
	 * buffer this socket may have (Linux tcp_select_initial_window). */
	while (ws < TCP_MAX_WSCALE && (65535u << ws) < max)
		ws++;
	return ws;
}

/* Options of a SYN or SYN-ACK (RFC 7323, RFC 2018): what both sides
 * agreed on. */
static void syn_options(struct wp_tcp_sock *tp, const struct wp_tcp_opts *o,
			bool active)
{
	struct wp_net *net = tp->net;
	struct tcp_rx_opt *rx = &tp->rx_opt;

	rx->mss_clamp =
		(o->present & WP_TCP_OPT_MSS) ? o->mss : TCP_MSS_DEFAULT;
	rx->wscale_ok = (o->present & WP_TCP_OPT_WSCALE) &&
			TCP_SYSCTL(net, tcp_window_scaling, 1);
	if (rx->wscale_ok) {
		/* RFC 7323 2.3: above 14 is taken as 14. */
		rx->snd_wscale = (uint8_t)umin32(o->wscale, TCP_MAX_WSCALE);
		if (!active)
			rx->rcv_wscale = wp__tcp_select_rcv_wscale(tp);
	} else {
		rx->snd_wscale = 0;
		rx->rcv_wscale = 0;
	}
	rx->sack_ok = (o->present & WP_TCP_OPT_SACK_PERM) &&
		      TCP_SYSCTL(net, tcp_sack, 1);
	rx->tstamp_ok = (o->present & WP_TCP_OPT_TS) &&
			TCP_SYSCTL(net, tcp_timestamps, 1);
	if (rx->tstamp_ok) {
		rx->ts_recent = o->tsval;
		rx->ts_recent_stamp = 0;
	}
	wp__tcp_sync_mss(tp);
	tp->rcv_mss = umin32(tp->advmss, tp->mss_cache);
	if (tp->rcv_mss < TCP_MSS_DEFAULT)
		tp->rcv_mss = TCP_MSS_DEFAULT;
}

/* Congestion state at the start of a connection (RFC 6928: IW10). */
static void init_transfer(struct wp_tcp_sock *tp)
{
	tp->cwnd = TCP_INIT_CWND * tp->mss_cache;
	tp->ssthresh = UINT32_MAX;
	tp->ca_state = TCP_CA_OPEN;
	tp->quickack = TCP_MAX_QUICKACKS;
	tp->recover = tp->iss;
	tp->reordering = (uint32_t)TCP_SYSCTL(tp->net, tcp_reordering, 3);
	wp__tcp_sb_reset(tp);
	tp->cc->init(tp);
}

/* --- receive queue
 * ------------------------------------------------------------- */

/* Queue in-order data (skb->data at the payload, charged already). */
static void queue_rcv(struct wp_tcp_sock *tp, struct wp_skb *skb)
{
	struct wp_sock *sk = &tp->sk;

	tp->rcv_nxt += skb->len;
	tp->bytes_received += skb->len;
	wp_lock_sock(sk);
	skb->sk = sk;
	wp_skb_queue_tail(&sk->sk_receive_queue, skb);
	wp_sock_stamp_queued(sk, skb);
	wp_trace_tap_socket(skb); /* under the lock: no reader frees it */
	/* release: a reader that sees the new end sees the skb. */
	atomic_store_explicit(&tp->rcv_data_end, tp->rcv_nxt,
			      memory_order_release);
	wp_release_sock(sk);
}

/* 2 MSL: how long TIME_WAIT lasts. */
static uint64_t tcp_tw_len(const struct wp_net *net)
{
	return 2 * (uint64_t)TCP_SYSCTL(net, tcp_msl_ms, 30000) *
	       WP_NSEC_PER_MSEC;
}

/*
 * tcp_time_wait: into TIME_WAIT for 2 MSL, unless net.ipv4.
 * tcp_max_tw_buckets sockets are there already: then, as Linux does, the
 * connection is done at once and TCPTimeWaitOverflow counts it (the
 * table of old connections stays bounded whatever the close rate).
 */
static void tcp_time_wait(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	int32_t max = TCP_SYSCTL(tp->net, tcp_max_tw_buckets, 65536);

	if (atomic_load_explicit(&tp->net->tcp->tw_count,
				 memory_order_relaxed) >= (uint32_t)max) {
		WP_MIB_INC(tc->pc, TCPTimeWaitOverflow);
		wp__tcp_done(tc, tp);
		return;
	}
	wp__tcp_set_state(tc, tp, WP_TCP_TIME_WAIT);
	wp__tcp_timers_clear_all(tc, tp);
	wp__tcp_timer_set(tc, tp, TCP_T_TIMEWAIT,
			  tc->pc->now + tcp_tw_len(tp->net));
}

static void fin_received(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	tp->fin_rcvd = true;
	tp->rcv_nxt++;
	atomic_fetch_or(&tp->sk.sk_shutdown, WP_RCV_SHUTDOWN);
	switch (tp->state_core) {
	case WP_TCP_SYN_RECV:
	case WP_TCP_ESTABLISHED:
		wp__tcp_set_state(tc, tp, WP_TCP_CLOSE_WAIT);
		break;
	case WP_TCP_FIN_WAIT1:
		/* Our FIN not acked yet: simultaneous close. */
		wp__tcp_set_state(tc, tp, WP_TCP_CLOSING);
		break;
	case WP_TCP_FIN_WAIT2:
		wp__tcp_timer_clear(tc, tp, TCP_T_KEEPALIVE);
		tcp_time_wait(tc, tp);
		break;
	default:
		break;
	}
	tp->sk.sk_data_ready(&tp->sk, NULL);
	wp__tcp_send_ack(tc, tp);
}

/* Build the SACK blocks we send from the out-of-order queue (RFC 2018
 * 4): the block holding the latest segment first, then the others from
 * the highest. */
static void update_sacks(struct wp_tcp_sock *tp, uint32_t latest)
{
	struct wp_tcp_sack_block b[64]; /* ranges looked at, lowest first */
	uint32_t n = 0, first = UINT32_MAX;
	struct wp_skb *skb;

	tp->nr_sacks = 0;
	if (!tp->rx_opt.sack_ok)
		return;
	for (skb = tp->ofo.head; skb; skb = skb->next) {
		struct tcp_skb_cb *cb = tcp_cb(skb);

		if (n && !after(cb->seq, b[n - 1].end)) {
			if (after(cb->end_seq, b[n - 1].end))
				b[n - 1].end = cb->end_seq;
		} else if (n < WP_ARRAY_SIZE(b)) {
			b[n].start = cb->seq;
			b[n].end = cb->end_seq;
			n++;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (!before(latest, b[i].start) && before(latest, b[i].end))
			first = i;
	if (first != UINT32_MAX)
		tp->sacks[tp->nr_sacks++] = b[first];
	for (uint32_t i = n; i-- > 0 && tp->nr_sacks < WP_TCP_SACK_MAX;)
		if (i != first)
			tp->sacks[tp->nr_sacks++] = b[i];
}

/* Move what the out-of-order queue holds at rcv_nxt onto the receive
 * queue. Returns true if a FIN was reached. */
static bool ofo_drain(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_skb *skb;

	while ((skb = tp->ofo.head)) {
		struct tcp_skb_cb *cb = tcp_cb(skb);
		bool fin = cb->flags & WP_TCP_FIN;
		uint32_t before_ts;

		if (after(cb->seq, tp->rcv_nxt))
			break;
		wp_skb_unlink(&tp->ofo, skb);
		if (!after(cb->end_seq, tp->rcv_nxt) &&
		    !(fin && cb->end_seq == tp->rcv_nxt)) {
			/* Wholly covered by what came in order. */
			atomic_fetch_sub(&tp->sk.sk_rmem_alloc,
					 wp_skb_truesize(skb));
			WP_MIB_INC(tc->pc, TCPOFOMerge);
			wp_kfree_skb_reason(skb, WP_DROP_TCP_OFO_DROP);
			continue;
		}
		/* Charged: what the pull frees of a GRO chain is given
		 * back here, so the reader releases what is left. */
		before_ts = wp_skb_truesize(skb);
		wp_pskb_pull(skb, tp->rcv_nxt - cb->seq);
		if (wp_skb_truesize(skb) != before_ts)
			atomic_fetch_sub(&tp->sk.sk_rmem_alloc,
					 before_ts - wp_skb_truesize(skb));
		cb->seq = tp->rcv_nxt;
		if (skb->len) {
			queue_rcv(tp, skb);
		} else {
			atomic_fetch_sub(&tp->sk.sk_rmem_alloc,
					 wp_skb_truesize(skb));
			wp_consume_skb(skb);
		}
		if (fin)
			return true;
	}
	return false;
}

/* Link skb after pos (NULL: at the head), keeping the queue's counts. */
static void queue_insert_after(struct wp_skb_queue *q, struct wp_skb *pos,
			       struct wp_skb *skb)
{
	skb->prev = pos;
	skb->next = pos ? pos->next : q->head;
	if (skb->next)
		skb->next->prev = skb;
	else
		q->tail = skb;
	if (pos)
		pos->next = skb;
	else
		q->head = skb;
	q->qlen++;
	q->bytes += skb->len;
}

/* Insert into the out-of-order queue, sorted by seq. The walk starts at
 * the tail: segments after a hole usually arrive in order, so the common
 * insert is O(1); the queue is bounded (TCP_OFO_MAX_SEGS). */
static void ofo_insert(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		       struct wp_skb *skb)
{
	struct tcp_skb_cb *cb = tcp_cb(skb);
	struct wp_skb *pos = tp->ofo.tail;

	while (pos && after(tcp_cb(pos)->seq, cb->seq))
		pos = pos->prev;
	if (pos && !after(cb->end_seq, tcp_cb(pos)->end_seq) &&
	    !before(cb->seq, tcp_cb(pos)->seq) &&
	    (!(cb->flags & WP_TCP_FIN) || (tcp_cb(pos)->flags & WP_TCP_FIN))) {
		/* A duplicate of what we hold. */
		WP_MIB_INC(tc->pc, TCPOFOMerge);
		wp_kfree_skb_reason(skb, WP_DROP_TCP_OFO_DROP);
		return;
	}
	queue_insert_after(&tp->ofo, pos, skb);
	atomic_fetch_add(&tp->sk.sk_rmem_alloc, wp_skb_truesize(skb));
	/* Later segments wholly inside the new one go. */
	while (skb->next && !after(tcp_cb(skb->next)->end_seq, cb->end_seq) &&
	       !(tcp_cb(skb->next)->flags & WP_TCP_FIN)) {
		struct wp_skb *n = skb->next;

		wp_skb_unlink(&tp->ofo, n);
		atomic_fetch_sub(&tp->sk.sk_rmem_alloc, wp_skb_truesize(n));
		WP_MIB_INC(tc->pc, TCPOFOMerge);
		wp_kfree_skb_reason(n, WP_DROP_TCP_OFO_DROP);
	}
	WP_MIB_INC(tc->pc, TCPOFOQueue);
}

/*
 * Whether the receive memory admits one more skb (Linux
 * tcp_try_rmem_schedule, without pruning). The window promised payload
 * bytes from the payload-per-truesize ratio of full segments; a peer
 * whose segments come shorter (options eat into them, a runt ends a
 * window) costs more truesize for the same bytes. A quarter of sk_rcvbuf
 * of slack absorbs that, so a window we offered is honoured; beyond it
 * the segment is dropped and counted (TCPRcvQDrop): memory stays bounded
 * whatever the peer sends.
 */
static bool rmem_admits(const struct wp_tcp_sock *tp, const struct wp_skb *skb)
{
	struct wp_tcp_sock *t = (struct wp_tcp_sock *)tp;
	uint32_t rcvbuf = (uint32_t)atomic_load(&t->sk.sk_rcvbuf);

	return atomic_load_explicit(&t->sk.sk_rmem_alloc,
				    memory_order_relaxed) +
		       wp_skb_truesize(skb) <=
	       rcvbuf + rcvbuf / 4;
}

/*
 * tcp_prune_ofo_queue: memory is short for a segment at seq. Drop what
 * the out-of-order queue holds beyond it, highest first (the data
 * furthest from deliverable), until the segment fits: otherwise a queue
 * full of out-of-order data (a flood of tiny segments, or only heavy
 * loss) would leave no room for the in-order segment that fills the
 * hole, and the connection would stall. Counted once per prune
 * (OfoPruned); the SACK blocks then name only what is still held (RFC
 * 2018 allows a receiver to discard SACKed data). True if it fits now.
 */
static bool ofo_prune(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		      const struct wp_skb *skb, uint32_t seq)
{
	bool pruned = false;
	struct wp_skb *t;

	while (!rmem_admits(tp, skb) && (t = tp->ofo.tail) &&
	       after(tcp_cb(t)->seq, seq)) {
		wp_skb_unlink(&tp->ofo, t);
		atomic_fetch_sub(&tp->sk.sk_rmem_alloc, wp_skb_truesize(t));
		wp_kfree_skb_reason(t, WP_DROP_TCP_OFO_DROP);
		pruned = true;
	}
	if (pruned) {
		WP_MIB_INC(tc->pc, OfoPruned);
		update_sacks(tp, seq);
	}
	return rmem_admits(tp, skb);
}

/* Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2): ACK every second full
 * segment, the first segments of a connection at once (quickack), and
 * otherwise within ato (<= 200 ms). A GRO skb counts as the segments in
 * it (the caller adds all but one to ack_pending_segs): one of two or
 * more is ACKed at once, as Linux's "more than one full frame". */
static void ack_snd_check(struct tcp_cpu *tc, struct wp_tcp_sock *tp, bool now)
{
	tp->ack_pending = true;
	tp->ack_pending_segs++;
	if (now || tp->quickack || tp->ack_pending_segs >= 2 ||
	    tp->rcv_wnd - umin32(tp->rcv_wnd, tp->rcv_nxt - tp->rcv_wup) <
		    tp->rcv_mss) {
		if (tp->quickack)
			tp->quickack--;
		wp__tcp_send_ack(tc, tp);
		return;
	}
	if (tp->timer[TCP_T_DELACK] == WP_TIME_NEVER)
		wp__tcp_timer_set(tc, tp, TCP_T_DELACK,
				  tc->pc->now +
					  (tp->ato ? tp->ato : TCP_ATO_MIN));
}

/*
 * tcp_data_queue: data (and FIN) of an acceptable segment, skb->data at
 * the payload. In order: onto the receive queue, then whatever the
 * out-of-order queue now continues. Out of order: into that queue, and
 * an immediate duplicate ACK (with SACK blocks). Consumes skb.
 */
static void data_queue(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		       struct wp_skb *skb)
{
	struct wp_net_cpu *pc = tc->pc;
	struct tcp_skb_cb *cb = tcp_cb(skb);
	uint32_t wnd_end = tp->rcv_wup + tp->rcv_wnd;
	bool fin = cb->flags & WP_TCP_FIN;
	uint32_t seq = cb->seq;
	/* A GRO skb is this many segments (Linux tcp_skb_pcount). */
	uint32_t segs = skb->gso_segs > 1 ? skb->gso_segs : 1;

	cb->end_seq = seq + skb->len;
	if (!skb->len && !fin) {
		wp_consume_skb(skb);
		return;
	}
	/* Old data (a retransmission we have): ACK at once so the peer
	 * stops (RFC 9293 3.10.7.4: trim to the window). */
	if (before(seq, tp->rcv_nxt)) {
		uint32_t old = tp->rcv_nxt - seq;

		if (old >= skb->len && !(fin && cb->end_seq == tp->rcv_nxt)) {
			tp->quickack = umax32(tp->quickack, 1);
			ack_snd_check(tc, tp, true);
			tcp_drop(pc, skb, WP_DROP_TCP_OLD_DATA);
			return;
		}
		wp_pskb_pull(skb, umin32(old, skb->len));
		seq = cb->seq = tp->rcv_nxt;
	}
	/* Beyond the window: nothing of it, or cut to it. */
	if (!before(seq, wnd_end) && skb->len) {
		WP_MIB_INC(pc, TCPZeroWindowDrop);
		ack_snd_check(tc, tp, true);
		tcp_drop(pc, skb, WP_DROP_TCP_ZEROWINDOW);
		return;
	}
	if (after(seq + skb->len, wnd_end)) {
		wp_skb_trim(skb, wnd_end - seq);
		fin = false;
		cb->flags &= (uint16_t)~WP_TCP_FIN;
	}
	cb->end_seq = seq + skb->len;
	if (!rmem_admits(tp, skb) && !ofo_prune(tc, tp, skb, seq)) {
		WP_MIB_INC(pc, TCPRcvQDrop);
		ack_snd_check(tc, tp, true);
		tcp_drop(pc, skb, WP_DROP_SOCKET_RCVBUFF);
		return;
	}
	if (seq == tp->rcv_nxt) {
		bool had_ofo = !wp_skb_queue_empty(&tp->ofo);
		bool fin_now = fin;

		if (skb->len) {
			/* tcp_measure_rcv_mss: a GRO skb's segments are
			 * gso_size each. */
			uint32_t seglen =
				skb->gso_size ? skb->gso_size : skb->len;

			atomic_fetch_add(&tp->sk.sk_rmem_alloc,
					 wp_skb_truesize(skb));
			/* Learn the ratio of payload to buffer. */
			if (skb->len >= tp->rcv_mss / 2)
				tp->scaling_ratio =
					(uint32_t)(((uint64_t)skb->len << 8) /
						   wp_skb_truesize(skb));
			if (!tp->scaling_ratio)
				tp->scaling_ratio = 1;
			if (seglen > tp->rcv_mss)
				tp->rcv_mss = umin32(seglen, 65535);
			queue_rcv(tp, skb);
		} else {
			wp_consume_skb(skb);
		}
		if (had_ofo) {
			fin_now |= ofo_drain(tc, tp);
			update_sacks(tp, tp->rcv_nxt);
		}
		tp->sk.sk_data_ready(&tp->sk, NULL);
		if (fin_now) {
			fin_received(tc, tp);
			return;
		}
		/* Filling a hole is acked at once (RFC 5681 4.2). */
		tp->ack_pending_segs += segs - 1;
		ack_snd_check(tc, tp, had_ofo);
		return;
	}
	/* Out of order. */
	if (tp->ofo.qlen >= TCP_OFO_MAX_SEGS) {
		WP_MIB_INC(pc, TCPOFODrop);
		ack_snd_check(tc, tp, true);
		tcp_drop(pc, skb, WP_DROP_TCP_OFO_DROP);
		return;
	}
	ofo_insert(tc, tp, skb);
	update_sacks(tp, seq);
	tp->quickack = umax32(tp->quickack, 1);
	ack_snd_check(tc, tp, true);
}

/* --- ACK processing
 * ------------------------------------------------------------- */

static void ack_update_window(struct wp_tcp_sock *tp,
			      const struct wp_tcp_repr *th, uint32_t seq)
{
	/* RFC 9293 3.10.7.4, fifth check: update the send window only
	 * from a segment not older than the last one that did. */
	if (before(tp->snd_wl1, seq) ||
	    (tp->snd_wl1 == seq && !before(th->ack_seq, tp->snd_wl2))) {
		uint32_t w = (uint32_t)th->window << tp->rx_opt.snd_wscale;

		tp->snd_wnd = w;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = th->ack_seq;
		if (w > tp->max_window)
			tp->max_window = w;
	}
}

static void rtt_from_ack(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 const struct wp_tcp_repr *th)
{
	uint64_t now = tc->pc->now;

	/* RFC 7323 4.1: with timestamps every ACK of new data samples;
	 * the echo is unambiguous, Karn's problem does not arise. */
	if (tp->rx_opt.tstamp_ok && (th->opts.present & WP_TCP_OPT_TS) &&
	    th->opts.tsecr) {
		uint32_t ms = wp__tcp_tsval(tp, now) - th->opts.tsecr;

		if (ms < 3600 * 1000) {
			wp__tcp_rtt_sample(tp, (uint64_t)ms * WP_NSEC_PER_MSEC);
			tp->rtt_time = 0;
			return;
		}
	}
	/* Karn: rtt_time is cleared by every retransmission. */
	if (tp->rtt_time && !before(th->ack_seq, tp->rtt_seq)) {
		wp__tcp_rtt_sample(tp, now - tp->rtt_time);
		tp->rtt_time = 0;
	}
}

/* Our FIN was acknowledged. */
static void fin_acked(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_net *net = tp->net;

	switch (tp->state_core) {
	case WP_TCP_FIN_WAIT1:
		wp__tcp_set_state(tc, tp, WP_TCP_FIN_WAIT2);
		atomic_fetch_or(&tp->sk.sk_shutdown, WP_SEND_SHUTDOWN);
		if (tp->dead)
			wp__tcp_timer_set(
				tc, tp, TCP_T_KEEPALIVE,
				tc->pc->now +
					(uint64_t)TCP_SYSCTL(
						net, tcp_fin_timeout, 60) *
						WP_NSEC_PER_SEC);
		break;
	case WP_TCP_CLOSING:
		tcp_time_wait(tc, tp);
		break;
	case WP_TCP_LAST_ACK:
		wp__tcp_done(tc, tp);
		break;
	default:
		break;
	}
}

/* NewReno fast retransmit / fast recovery (RFC 5681 3.2, RFC 6582): a
 * peer without SACK. */
static void enter_recovery_reno(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint32_t mss = tp->mss_cache;

	tp->prior_cwnd = tp->cwnd;
	tp->ssthresh = tp->cc->ssthresh(tp);
	tp->cc->event(tp, CA_EVENT_RECOVERY);
	tp->recover = tp->snd_max;
	tp->ca_state = TCP_CA_RECOVERY;
	WP_MIB_INC(tc->pc, TCPRenoRecovery);
	WP_MIB_INC(tc->pc, TCPFastRetrans);
	wp__tcp_retransmit_at(tc, tp, tp->snd_una);
	tp->cwnd = tp->ssthresh + 3 * mss;
}

/*
 * tcp_ack: an acceptable ACK. Returns -1 if the segment must be dropped
 * (an ACK of data never sent, or older than a window). The cumulative
 * ACK first, then its SACK blocks (the scoreboard), then loss recovery:
 * RFC 6675 with SACK (tcp_sack.c), NewReno without.
 */
static int tcp_ack(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		   const struct wp_tcp_repr *th, uint32_t seq, uint32_t len)
{
	struct wp_net_cpu *pc = tc->pc;
	uint32_t ack = th->ack_seq, mss = tp->mss_cache;
	uint32_t prior_wnd = tp->snd_wnd;
	bool sack = tp->rx_opt.sack_ok && tp->sb.seg;
	uint32_t flag = 0, acked, wseq;
	bool fin_covered;

	/* RFC 5961 5.2: acceptable iff SND.UNA - MAX.SND.WND <= SEG.ACK
	 * <= SND.NXT (snd_max: the most we ever sent). */
	if (after(ack, tp->snd_max)) {
		WP_MIB_INC(pc, TCPACKSkippedSeq);
		send_dupack(tc, tp);
		return -1;
	}
	if (before(ack, tp->snd_una - umax32(tp->max_window, 65535))) {
		send_challenge_ack(tc, tp);
		return -1;
	}
	/* Any acceptable ACK shows the peer alive: a zero-window probe or a
	 * keepalive it answered does not count toward giving up (Linux
	 * clears icsk_probes_out here, new data acknowledged or not). */
	tp->probes_out = 0;
	if (!after(ack, tp->snd_una)) {
		if (sack && (th->opts.present & WP_TCP_OPT_SACK))
			flag = wp__tcp_sacktag(tc, tp, th);
		/* ack == snd_una or older: a duplicate? (RFC 5681 2: no
		 * data, no window change, data outstanding, SYN/FIN off;
		 * with SACK, RFC 6675 2: new SACK information.) */
		if (ack == tp->snd_una && !len && tp->snd_una != tp->snd_max &&
		    !(th->flags & (WP_TCP_SYN | WP_TCP_FIN)) &&
		    ((uint32_t)th->window << tp->rx_opt.snd_wscale) ==
			    prior_wnd) {
			if (!sack) {
				tp->dupacks++;
				if (tp->ca_state == TCP_CA_RECOVERY) {
					tp->cwnd += mss; /* inflate */
				} else if (tp->dupacks >=
						   wp__tcp_dupthresh(tp) &&
					   tp->ca_state != TCP_CA_LOSS &&
					   after(ack, tp->recover)) {
					/* RFC 6582 3.2 step 2: not again for
					 * losses of the window already
					 * recovered. */
					enter_recovery_reno(tc, tp);
				} else if (tp->dupacks < 3 &&
					   tp->ca_state == TCP_CA_OPEN) {
					tp->ca_state = TCP_CA_DISORDER;
				}
			}
		} else if (!len) {
			WP_MIB_INC(pc, TCPPureAcks);
		}
		ack_update_window(tp, th, seq);
		if (sack)
			wp__tcp_sack_recovery(tc, tp, flag);
		return 0;
	}

	acked = ack - tp->snd_una;
	wseq = tcp_write_seq(tp);
	/* The FIN is seq wseq (write_seq is final once it is queued); it
	 * was sent at least once if snd_max passed it. */
	fin_covered = (tp->state_core == WP_TCP_FIN_WAIT1 ||
		       tp->state_core == WP_TCP_CLOSING ||
		       tp->state_core == WP_TCP_LAST_ACK) &&
		      atomic_load(&tp->fin_queued) && ack == wseq + 1;
	rtt_from_ack(tc, tp, th);
	tp->bytes_acked += acked;
	tp->snd_una = ack;
	if (before(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	wp__tcp_sb_clean(tp, ack);
	if (tp->sndring)
		atomic_store_explicit(&tp->snd_una_pub,
				      fin_covered ? ack - 1 : ack,
				      memory_order_release);
	tp->retransmits = 0;
	tp->backoff = 0;
	tp->probes_out = 0;
	tp->retrans_stamp = 0;
	tp->dupacks = 0;
	WP_MIB_ADD(pc, TCPDelivered, (acked + mss - 1) / mss);
	if (sack && (th->opts.present & WP_TCP_OPT_SACK))
		flag = wp__tcp_sacktag(tc, tp, th);
	switch (tp->ca_state) {
	case TCP_CA_RECOVERY:
		if (!before(ack, tp->recover)) {
			/* Full ACK (RFC 6582 3.2 step 3; RFC 6675 (A):
			 * RecoveryPoint reached). With SACK cwnd is
			 * ssthresh already (Linux tcp_end_cwnd_reduction). */
			uint32_t flight = tp->snd_max - ack;

			tp->cwnd = sack ? tp->ssthresh
					: umin32(tp->ssthresh,
						 umax32(flight, mss) + mss);
			tp->ca_state = TCP_CA_OPEN;
		} else if (!sack) {
			/* Partial ACK: the next hole, deflate. */
			WP_MIB_INC(pc, TCPFastRetrans);
			wp__tcp_retransmit_at(tc, tp, ack);
			tp->cwnd -= umin32(acked, tp->cwnd - mss);
			if (acked >= mss)
				tp->cwnd += mss;
		}
		break;
	case TCP_CA_LOSS:
		if (!before(ack, tp->high_seq))
			tp->ca_state = TCP_CA_OPEN;
		tp->cc->cong_avoid(tp, acked);
		break;
	default:
		tp->ca_state = TCP_CA_OPEN;
		tp->cc->cong_avoid(tp, acked);
		break;
	}
	if (tp->ca_state == TCP_CA_OPEN && tp->sb.sacked_segs)
		tp->ca_state = TCP_CA_DISORDER;
	if (tp->snd_una == tp->snd_max) {
		wp__tcp_timer_clear(tc, tp, TCP_T_RETRANS);
	} else {
		/* RFC 6298 5.3 */
		tp->rtx_kind = TCP_RTX_RTO;
		wp__tcp_arm_rto(tc, tp);
	}
	ack_update_window(tp, th, seq);
	if (tp->sndring) {
		wp__tcp_sndbuf_expand(tp);
		tp->sk.sk_write_space(&tp->sk);
	}
	if (sack)
		wp__tcp_sack_recovery(tc, tp, flag);
	if (fin_covered)
		fin_acked(tc, tp);
	return 0;
}

/* --- the state machine
 * ------------------------------------------------------------ */

/* PAWS (RFC 7323 5.3): a segment whose timestamp is older than the
 * last one is an old duplicate. */
static bool paws_reject(const struct wp_tcp_sock *tp,
			const struct wp_tcp_repr *th, uint64_t now)
{
	if (!tp->rx_opt.tstamp_ok || !(th->opts.present & WP_TCP_OPT_TS) ||
	    (th->flags & WP_TCP_RST))
		return false;
	if ((int32_t)(th->opts.tsval - tp->rx_opt.ts_recent) >= 0)
		return false;
	/* After 24 days of silence ts_recent is meaningless (5.5). */
	return now - tp->rx_opt.ts_recent_stamp <= TCP_PAWS_24DAYS;
}

static void store_ts_recent(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			    const struct wp_tcp_repr *th, uint32_t seq)
{
	/* RFC 7323 4.3: SEG.TSval >= TS.Recent and SEG.SEQ <=
	 * Last.ACK.sent. */
	if (tp->rx_opt.tstamp_ok && (th->opts.present & WP_TCP_OPT_TS) &&
	    !after(seq, tp->rcv_wup) &&
	    (int32_t)(th->opts.tsval - tp->rx_opt.ts_recent) >= 0) {
		tp->rx_opt.ts_recent = th->opts.tsval;
		tp->rx_opt.ts_recent_stamp = tc->pc->now;
	}
}

/* tcp_sequence: RFC 9293 3.10.7.4's acceptability test, in Linux's
 * form: the segment overlaps [RCV.WUP, RCV.NXT + RCV.WND]. A zero window
 * still takes a segment at RCV.NXT (its ACK and RST count; its data is
 * dropped later). */
static bool seq_acceptable(const struct wp_tcp_sock *tp, uint32_t seq,
			   uint32_t end_seq)
{
	uint32_t used = tp->rcv_nxt - tp->rcv_wup;
	uint32_t wnd = tp->rcv_wnd > used ? tp->rcv_wnd - used : 0;

	return !before(end_seq, tp->rcv_wup) && !after(seq, tp->rcv_nxt + wnd);
}

/* A passive child's third ACK: onto its listener's accept queue. */
static bool child_to_accept_queue(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_tcp_sock *parent = tp->parent;
	struct wp_sock *psk;
	bool ok = false;

	if (!parent)
		return true; /* simultaneous open: nobody to accept it */
	psk = &parent->sk;
	wp_lock_sock(psk);
	if (wp_sk_state(psk) == WP_TCP_LISTEN &&
	    !wp_sock_flag(psk, WP_SOCK_DEAD) &&
	    atomic_load(&parent->acc_qlen) <
		    atomic_load(&parent->max_backlog)) {
		wp_sock_hold(&tp->sk); /* the queue's reference */
		tp->anext = NULL;
		if (parent->acc_tail)
			parent->acc_tail->anext = tp;
		else
			parent->acc_head = tp;
		parent->acc_tail = tp;
		atomic_fetch_add(&parent->acc_qlen, 1);
		ok = true;
	}
	wp_release_sock(psk);
	if (!ok) {
		WP_MIB_INC(tc->pc, ListenOverflows);
		WP_MIB_INC(tc->pc, ListenDrops);
		return false;
	}
	psk->sk_data_ready(psk, NULL);
	return true;
}

static void established(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	wp__tcp_set_state(tc, tp, WP_TCP_ESTABLISHED);
	tp->lrcvtime = tc->pc->now;
	wp__tcp_arm_keepalive(tc, tp);
	if (tp->fin_pending) {
		tp->fin_pending = false;
		wp__tcp_set_state(tc, tp, WP_TCP_FIN_WAIT1);
	}
}

/* RFC 9293 3.10.7.3: SYN-SENT. Consumes skb. */
static void rcv_synsent(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_net_cpu *pc = tc->pc;
	bool ack_ok = false;

	if (th->flags & WP_TCP_ACK) {
		if (!after(th->ack_seq, tp->iss) ||
		    after(th->ack_seq, tp->snd_max)) {
			if (!(th->flags & WP_TCP_RST))
				wp__tcp_v4_send_reset(pc, tp->daddr, tp->saddr,
						      th, 0);
			tcp_drop(pc, skb, WP_DROP_TCP_ACK);
			return;
		}
		ack_ok = true;
	}
	if (th->flags & WP_TCP_RST) {
		/* RFC 5961 3.2 does not apply here: an RST is believed
		 * only with an ACK of our SYN. */
		if (ack_ok) {
			WP_MIB_INC(pc, TcpAttemptFails);
			wp__tcp_abort(tc, tp, ECONNREFUSED);
			tcp_drop(pc, skb, WP_DROP_TCP_RST);
			return;
		}
		tcp_drop(pc, skb, WP_DROP_TCP_RST);
		return;
	}
	if (!(th->flags & WP_TCP_SYN)) {
		tcp_drop(pc, skb, WP_DROP_TCP_FLAGS);
		return;
	}
	tp->irs = th->seq;
	tp->rcv_nxt = th->seq + 1;
	tp->rcv_wup = tp->rcv_nxt;
	atomic_store(&tp->copied_seq, tp->rcv_nxt);
	atomic_store(&tp->rcv_data_end, tp->rcv_nxt);
	syn_options(tp, &th->opts, true);
	if (!tp->rx_opt.wscale_ok)
		tp->rx_opt.rcv_wscale = 0;
	tp->rx_opt.ts_recent_stamp = pc->now;
	tp->snd_wl1 = th->seq;
	if (ack_ok) {
		tp->snd_una = th->ack_seq;
		atomic_store_explicit(&tp->snd_una_pub, tp->snd_una,
				      memory_order_release);
		tp->snd_wnd = th->window; /* RFC 7323 2.2: unscaled in SYN */
		tp->max_window = tp->snd_wnd;
		tp->snd_wl2 = th->ack_seq;
		rtt_from_ack(tc, tp, th);
		tp->retransmits = 0;
		tp->backoff = 0;
		wp__tcp_timer_clear(tc, tp, TCP_T_RETRANS);
		init_transfer(tp);
		established(tc, tp);
		tp->sk.sk_write_space(&tp->sk);
		/* Data on a SYN-ACK is rare; it waits for a retransmission
		 * (as Linux without Fast Open). The ACK goes now. */
		wp__tcp_send_ack(tc, tp);
		if (tp->state_core == WP_TCP_FIN_WAIT1 ||
		    tcp_write_seq(tp) != tp->snd_nxt)
			wp__tcp_write_xmit(tc, tp);
		wp_consume_skb(skb);
		return;
	}
	/* Simultaneous open: SYN-RECEIVED, SYN-ACK with our ISS. */
	tp->snd_wnd = th->window;
	tp->max_window = tp->snd_wnd;
	wp__tcp_set_state(tc, tp, WP_TCP_SYN_RECV);
	tp->retransmits = 0;
	tp->backoff = 0;
	wp__tcp_send_synack(tc, tp);
	wp__tcp_arm_rto(tc, tp);
	wp_consume_skb(skb);
}

/* tcp_rcv_state_process for the synchronized states (and SYN_RECV). */
static void rcv_state_process(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			      struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_net_cpu *pc = tc->pc;
	struct tcp_skb_cb *cb = tcp_cb(skb);
	uint32_t seq = cb->seq, len = skb->len;
	int st = tp->state_core;

	/* A retransmitted SYN of the handshake: repeat the SYN-ACK. */
	if (st == WP_TCP_SYN_RECV && (th->flags & WP_TCP_SYN) &&
	    !(th->flags & (WP_TCP_RST | WP_TCP_ACK)) && seq == tp->irs) {
		wp__tcp_send_synack(tc, tp);
		wp_consume_skb(skb);
		return;
	}
	/* TIME_WAIT: a new SYN beyond the old connection may reopen the
	 * 4-tuple (RFC 6191 with timestamps; Linux tcp_timewait_state_process
	 * takes a higher sequence number too). */
	if (st == WP_TCP_TIME_WAIT && (th->flags & WP_TCP_SYN) &&
	    !(th->flags & (WP_TCP_RST | WP_TCP_ACK)) &&
	    after(seq, tp->rcv_nxt)) {
		wp__tcp_done(tc, tp);
		cb->flags |= TCP_CB_HANDED; /* counted already */
		wp_skb_push(skb, cb->doff);
		wp__tcp_v4_rcv(pc, skb);
		return;
	}
	if (paws_reject(tp, th, pc->now)) {
		WP_MIB_INC(pc, PAWSEstab);
		send_dupack(tc, tp);
		tcp_drop(pc, skb, WP_DROP_TCP_SEQUENCE);
		return;
	}
	/* First: sequence number. */
	if (!seq_acceptable(tp, seq, cb->end_seq)) {
		if (!(th->flags & WP_TCP_RST))
			send_dupack(tc, tp);
		tcp_drop(pc, skb, WP_DROP_TCP_SEQUENCE);
		return;
	}
	/* Second: RST (RFC 5961 3.2). */
	if (th->flags & WP_TCP_RST) {
		if (seq != tp->rcv_nxt) {
			send_challenge_ack(tc, tp);
			tcp_drop(pc, skb, WP_DROP_TCP_RST);
			return;
		}
		if (st == WP_TCP_SYN_RECV && tp->parent) {
			WP_MIB_INC(pc, EmbryonicRsts);
			wp__tcp_done(tc, tp);
		} else if (st == WP_TCP_SYN_RECV) {
			wp__tcp_abort(tc, tp, ECONNREFUSED);
		} else if (st == WP_TCP_CLOSE_WAIT) {
			wp__tcp_abort(tc, tp, EPIPE);
		} else if (st == WP_TCP_CLOSING || st == WP_TCP_LAST_ACK ||
			   st == WP_TCP_TIME_WAIT) {
			wp__tcp_done(tc, tp);
		} else {
			wp__tcp_abort(tc, tp, ECONNRESET);
		}
		tcp_drop(pc, skb, WP_DROP_TCP_RST);
		return;
	}
	/* Fourth: SYN in a synchronized state (RFC 5961 4.2). */
	if (th->flags & WP_TCP_SYN) {
		WP_MIB_INC(pc, TCPSYNChallenge);
		send_challenge_ack(tc, tp);
		tcp_drop(pc, skb, WP_DROP_TCP_FLAGS);
		return;
	}
	/* Fifth: ACK. */
	if (!(th->flags & WP_TCP_ACK)) {
		tcp_drop(pc, skb, WP_DROP_TCP_FLAGS);
		return;
	}
	store_ts_recent(tc, tp, th, seq);
	tp->lrcvtime = pc->now;
	if (st == WP_TCP_SYN_RECV) {
		if (!after(th->ack_seq, tp->snd_una) ||
		    after(th->ack_seq, tp->snd_max)) {
			wp__tcp_v4_send_reset(pc, tp->daddr, tp->saddr, th,
					      len);
			tcp_drop(pc, skb, WP_DROP_TCP_ACK);
			return;
		}
		if (!child_to_accept_queue(tc, tp)) {
			tcp_drop(pc, skb, WP_DROP_TCP_LISTEN_OVERFLOW);
			return;
		}
		if (tp->parent)
			WP_MIB_INC(pc, TcpPassiveOpens);
		release_parent(tp);
		if (wp__tcp_alloc_ring(tp)) {
			wp__tcp_send_active_reset(tc, tp);
			wp__tcp_abort(tc, tp, ENOMEM);
			tcp_drop(pc, skb, WP_DROP_NOMEM);
			return;
		}
		tp->snd_una = th->ack_seq;
		atomic_store_explicit(&tp->snd_una_pub, tp->snd_una,
				      memory_order_release);
		tp->snd_wnd = (uint32_t)th->window << tp->rx_opt.snd_wscale;
		tp->max_window = tp->snd_wnd;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = th->ack_seq;
		rtt_from_ack(tc, tp, th);
		tp->retransmits = 0;
		tp->backoff = 0;
		wp__tcp_timer_clear(tc, tp, TCP_T_RETRANS);
		init_transfer(tp);
		established(tc, tp);
		tp->sk.sk_write_space(&tp->sk);
		st = tp->state_core;
	} else if (tcp_ack(tc, tp, th, seq, len) < 0) {
		tcp_drop(pc, skb, WP_DROP_TCP_ACK);
		return;
	}
	if (tp->state_core == WP_TCP_CLOSE) {
		wp_consume_skb(skb);
		return;
	}
	st = tp->state_core;
	/* Seventh and eighth: data and FIN. */
	switch (st) {
	case WP_TCP_ESTABLISHED:
	case WP_TCP_FIN_WAIT1:
	case WP_TCP_FIN_WAIT2:
		/* Data for a socket nobody will read: the peer must know
		 * (Linux TCPAbortOnData). */
		if (tp->dead && len && after(seq + len, tp->rcv_nxt)) {
			WP_MIB_INC(pc, TCPAbortOnData);
			wp__tcp_send_active_reset(tc, tp);
			wp__tcp_abort(tc, tp, ECONNRESET);
			wp_consume_skb(skb);
			return;
		}
		data_queue(tc, tp, skb);
		break;
	case WP_TCP_TIME_WAIT:
		/* A retransmitted FIN: ACK it, restart 2 MSL. */
		if (th->flags & WP_TCP_FIN) {
			wp__tcp_timer_set(tc, tp, TCP_T_TIMEWAIT,
					  pc->now + tcp_tw_len(tp->net));
			wp__tcp_send_ack(tc, tp);
		}
		wp_consume_skb(skb);
		break;
	default:
		/* CLOSE_WAIT, CLOSING, LAST_ACK: the peer's FIN came; a
		 * retransmission of it gets an ACK. */
		if ((th->flags & WP_TCP_FIN) || len)
			send_dupack(tc, tp);
		wp_consume_skb(skb);
		break;
	}
	if (tp->state_core != WP_TCP_CLOSE)
		wp__tcp_write_xmit(tc, tp);
}

/*
 * tcp_rcv_established's header prediction: ESTABLISHED, only ACK (and
 * PSH), the next expected sequence number, the same window, no hole, not
 * recovering, an in-order timestamp. Pure ACKs and in-order data take a
 * short path; anything else the full one.
 */
static bool fast_path(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		      struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_net_cpu *pc = tc->pc;
	struct tcp_skb_cb *cb = tcp_cb(skb);

	if (tp->state_core != WP_TCP_ESTABLISHED ||
	    (th->flags & (WP_TCP_FLAGS_MASK & ~WP_TCP_PSH & ~WP_TCP_AE &
			  ~WP_TCP_RSRVD)) != WP_TCP_ACK ||
	    cb->seq != tp->rcv_nxt || tp->ca_state != TCP_CA_OPEN ||
	    (th->opts.present & WP_TCP_OPT_SACK) ||
	    !wp_skb_queue_empty(&tp->ofo) ||
	    ((uint32_t)th->window << tp->rx_opt.snd_wscale) != tp->snd_wnd ||
	    after(th->ack_seq, tp->snd_max) || before(th->ack_seq, tp->snd_una))
		return false;
	if (tp->rx_opt.tstamp_ok &&
	    (!(th->opts.present & WP_TCP_OPT_TS) ||
	     (int32_t)(th->opts.tsval - tp->rx_opt.ts_recent) < 0))
		return false;
	if (skb->len &&
	    (th->ack_seq != tp->snd_una || !rmem_admits(tp, skb) ||
	     skb->len > tp->rcv_wnd -
				umin32(tp->rcv_wnd, tp->rcv_nxt - tp->rcv_wup)))
		return false;
	store_ts_recent(tc, tp, th, cb->seq);
	tp->lrcvtime = pc->now;
	if (!skb->len) {
		if (after(th->ack_seq, tp->snd_una)) {
			WP_MIB_INC(pc, TCPHPAcks);
			tcp_ack(tc, tp, th, cb->seq, 0);
			wp__tcp_write_xmit(tc, tp);
		} else {
			WP_MIB_INC(pc, TCPPureAcks);
			tcp_ack(tc, tp, th, cb->seq, 0);
		}
		wp_consume_skb(skb);
		return true;
	}
	WP_MIB_INC(pc, TCPHPHits);
	data_queue(tc, tp, skb);
	return true;
}

/* --- passive open
 * ----------------------------------------------------------------- */

/*
 * tcp_create_openreq_child: an embryo of lsk for the 4-tuple of skb,
 * with the peer's initial sequence number irs and ours iss, the options
 * agreed (opts), timestamps offset. NULL (skb dropped and counted) if
 * there is no memory. The caller sets the windows, then hashes it.
 */
static struct wp_tcp_sock *embryo_new(struct wp_net_cpu *pc,
				      struct wp_tcp_sock *lsk,
				      struct wp_skb *skb,
				      const struct wp_tcp_repr *th,
				      uint32_t irs, uint32_t iss,
				      const struct wp_tcp_opts *opts)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb *ip = &tcp_cb(skb)->ip;
	struct wp_tcp_sock *c = wp__tcp_sock_child(lsk);

	if (!c) {
		WP_MIB_INC(pc, ListenDrops);
		tcp_drop(pc, skb, WP_DROP_NOMEM);
		return NULL;
	}
	c->saddr = ip->daddr;
	c->sport = th->dport;
	c->daddr = ip->saddr;
	c->dport = th->sport;
	c->sk.sk_cpu = pc->id;
	c->irs = irs;
	c->rcv_nxt = irs + 1;
	c->rcv_wup = c->rcv_nxt;
	atomic_store(&c->copied_seq, c->rcv_nxt);
	atomic_store(&c->rcv_data_end, c->rcv_nxt);
	c->iss = iss;
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->snd_base = c->iss + 1;
	atomic_store(&c->write_seq, c->iss + 1);
	atomic_store(&c->snd_una_pub, c->iss + 1);
	c->ts_off = wp__tcp_ts_off(net->tcp, c->saddr, c->daddr);
	syn_options(c, opts, false);
	c->rx_opt.ts_recent_stamp = pc->now;
	return c;
}

/*
 * The embryo into the established hash, counted in lsk's SYN queue, in
 * SYN_RECV. False (skb dropped, the embryo released) if another core
 * hashed the same 4-tuple first (a duplicate SYN, or a copy of the
 * cookie's ACK).
 */
static bool embryo_hash(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
			struct wp_tcp_sock *c, struct wp_skb *skb)
{
	if (wp__tcp_ehash_insert(pc->net, c)) {
		wp_sock_put(&c->sk);
		tcp_drop(pc, skb, WP_DROP_TCP_FLAGS);
		return false;
	}
	wp_sock_hold(&lsk->sk);
	c->parent = lsk;
	atomic_fetch_add(&lsk->syn_qlen, 1);
	c->state_core = WP_TCP_SYN_RECV;
	wp_sk_set_state(&c->sk, WP_TCP_SYN_RECV);
	return true;
}

/* tcp_v4_conn_request: a SYN for a listener. Consumes skb. */
static void conn_request(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
			 struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb *ip = &tcp_cb(skb)->ip;
	struct tcp_cpu *tc = &net->tcp->pcpu[pc->id];
	uint32_t backlog = atomic_load(&lsk->max_backlog);
	uint32_t syn_max =
		umin32(backlog ? backlog : 1,
		       (uint32_t)TCP_SYSCTL(net, tcp_max_syn_backlog, 1024));
	int32_t cookies = TCP_SYSCTL(net, tcp_syncookies, 1);
	bool want_cookie = false;
	struct wp_tcp_sock *c;

	/* tcp_conn_request: a full SYN queue (or tcp_syncookies=2) means a
	 * cookie, or a drop without them (tcp_syn_flood_action). */
	if (cookies == 2 || atomic_load(&lsk->syn_qlen) >= syn_max) {
		if (!cookies) {
			WP_MIB_INC(pc, TCPReqQFullDrop);
			WP_MIB_INC(pc, ListenDrops);
			tcp_drop(pc, skb, WP_DROP_TCP_REQQFULLDROP);
			return;
		}
		WP_MIB_INC(pc, TCPReqQFullDoCookies);
		want_cookie = true;
	}
	/* No room to accept it even if it completes. */
	if (atomic_load(&lsk->acc_qlen) >= backlog) {
		WP_MIB_INC(pc, ListenOverflows);
		WP_MIB_INC(pc, ListenDrops);
		tcp_drop(pc, skb, WP_DROP_TCP_LISTEN_OVERFLOW);
		return;
	}
	if (want_cookie) {
		wp__tcp_syncookie_send(pc, lsk, ip->daddr, ip->saddr, th);
		wp_consume_skb(skb);
		return;
	}
	c = embryo_new(pc, lsk, skb, th, th->seq,
		       wp__tcp_isn(net->tcp, pc->now, ip->daddr, th->dport,
				   ip->saddr, th->sport),
		       &th->opts);
	if (!c)
		return;
	c->snd_wnd = th->window;
	c->max_window = c->snd_wnd;
	c->snd_wl1 = th->seq;
	if (!embryo_hash(pc, lsk, c, skb))
		return;
	wp__tcp_send_synack(tc, c);
	c->rtt_time = pc->now;
	c->rtt_seq = c->iss + 1;
	wp__tcp_arm_rto(tc, c);
	wp_sock_put(&c->sk); /* the table and the timer hold it now */
	wp_consume_skb(skb);
}

static void process(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		    struct wp_skb *skb, const struct wp_tcp_repr *th);

/*
 * cookie_v4_check: an ACK for a listener that sent cookies lately may be
 * the third of a handshake it kept no state for. If its cookie checks
 * out, the child is made as the SYN would have made it, hashed, and
 * takes the segment: its SYN_RECV processing puts it on the accept
 * queue, and whatever data the ACK carries is queued. Returns false if
 * the segment is no cookie of ours (the caller answers as LISTEN does);
 * true: consumed.
 */
static bool cookie_rcv(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
		       struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb *ip = &tcp_cb(skb)->ip;
	struct tcp_cpu *tc = &net->tcp->pcpu[pc->id];
	uint64_t last =
		atomic_load_explicit(&lsk->synq_overflow, memory_order_relaxed);
	struct wp_tcp_opts o;
	struct wp_tcp_sock *c;

	/* tcp_synq_no_recent_overflow: no cookie sent for two periods, no
	 * cookie to check (a stray ACK costs no hashing). */
	if (!TCP_SYSCTL(net, tcp_syncookies, 1) || !last ||
	    pc->now - last > TCP_SYNCOOKIE_VALID)
		return false;
	if (wp__tcp_syncookie_check(net, pc->now, ip->daddr, ip->saddr, th,
				    &o)) {
		WP_MIB_INC(pc, SyncookiesFailed);
		return false;
	}
	WP_MIB_INC(pc, SyncookiesRecv);
	if (atomic_load(&lsk->acc_qlen) >= atomic_load(&lsk->max_backlog)) {
		/* tcp_v4_syn_recv_sock: exit_overflow. */
		WP_MIB_INC(pc, ListenOverflows);
		WP_MIB_INC(pc, ListenDrops);
		tcp_drop(pc, skb, WP_DROP_TCP_LISTEN_OVERFLOW);
		return true;
	}
	/* The SYN was SEG.SEQ - 1; our SYN-ACK was SEG.ACK - 1. */
	c = embryo_new(pc, lsk, skb, th, th->seq - 1, th->ack_seq - 1, &o);
	if (!c)
		return true;
	/* The window the SYN-ACK offered (wp__tcp_syncookie_send). */
	c->rcv_wnd = umin32(wp__tcp_space(c), 65535);
	c->snd_wl1 = c->irs;
	if (!embryo_hash(pc, lsk, c, skb))
		return true;
	process(tc, c, skb, th);
	/* The accept queue filled meanwhile (another core): nothing will
	 * retransmit a SYN-ACK for it, so it goes. */
	if (c->state_core == WP_TCP_SYN_RECV)
		wp__tcp_done(tc, c);
	wp_sock_put(&c->sk); /* the table holds it, and the accept queue */
	return true;
}

static void listen_rcv(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
		       struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	struct wp_ip_cb *ip = &tcp_cb(skb)->ip;

	/* RFC 9293 3.10.7.2 */
	if (th->flags & WP_TCP_RST) {
		tcp_drop(pc, skb, WP_DROP_TCP_RST);
		return;
	}
	if (th->flags & WP_TCP_ACK) {
		if (!(th->flags & WP_TCP_SYN) && cookie_rcv(pc, lsk, skb, th))
			return;
		wp__tcp_v4_send_reset(pc, ip->saddr, ip->daddr, th, skb->len);
		tcp_drop(pc, skb, WP_DROP_TCP_ACK);
		return;
	}
	if (!(th->flags & WP_TCP_SYN)) {
		tcp_drop(pc, skb, WP_DROP_TCP_FLAGS);
		return;
	}
	conn_request(pc, lsk, skb, th);
}

/* --- tcp_v4_rcv
 * ---------------------------------------------------------------- */

static void process(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		    struct wp_skb *skb, const struct wp_tcp_repr *th)
{
	/* Linux tcp_segs_in: a GRO skb counts its segments. */
	tp->segs_in += skb->gso_segs > 1 ? skb->gso_segs : 1;
	if (tp->state_core == WP_TCP_SYN_SENT)
		rcv_synsent(tc, tp, skb, th);
	else if (tp->state_core == WP_TCP_CLOSE) {
		/* Found while dying: as if closed. */
		struct wp_ip_cb *ip = &tcp_cb(skb)->ip;

		wp__tcp_v4_send_reset(tc->pc, ip->saddr, ip->daddr, th,
				      tcp_cb(skb)->end_seq - tcp_cb(skb)->seq);
		tcp_drop(tc->pc, skb, WP_DROP_NO_SOCKET);
	} else if (!fast_path(tc, tp, skb, th))
		rcv_state_process(tc, tp, skb, th);
	if (tp->state_core != WP_TCP_CLOSE)
		wp__tcp_update_info(tp);
}

static void handover(struct wp_net_cpu *pc, struct wp_tcp_sock *tp,
		     struct wp_skb *skb)
{
	struct tcp_cpu *tc = &pc->net->tcp->pcpu[tp->sk.sk_cpu];
	bool full;

	/* Verified once: the owner trusts the checksum. */
	skb->csum_valid = 1;
	tcp_cb(skb)->flags |= TCP_CB_HANDED;
	pthread_mutex_lock(&tc->lock);
	full = tc->backlog.qlen >= TCP_BACKLOG_MAX;
	if (!full) {
		wp_skb_queue_tail(&tc->backlog, skb);
		atomic_fetch_add_explicit(&tc->nwork, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&tc->lock);
	if (full) {
		WP_MIB_INC(pc, TCPBacklogDrop);
		wp_kfree_skb_reason(skb, WP_DROP_TCP_BACKLOG);
		return;
	}
	wp_cpu_kick(tc->pc->cpu);
}

void wp__tcp_v4_rcv(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	struct tcp_skb_cb *cb = tcp_cb(skb);
	struct wp_ip_cb ip = cb->ip;
	bool handed = cb->flags & TCP_CB_HANDED;
	enum wp_drop_reason why = WP_DROP_TCP_HDR;
	struct wp_tcp_repr th;
	struct wp_tcp_sock *tp;
	int hlen;

	if (!handed)
		wp__net_stamp(pc, skb, WP_STAMP_L4_RCV);
	/* TCP is unicast only (RFC 1122 4.2.3.10): a broadcast or a
	 * multicast destination is never a connection. */
	if (skb->pkt_type != WP_PACKET_HOST || ip.daddr != net->addr) {
		wp_kfree_skb_reason(skb, WP_DROP_TCP_BCAST);
		return;
	}
	if (wp_tcp_parse(skb->data, skb->len, ip.saddr, ip.daddr,
			 skb->csum_valid ? WP_WIRE_CSUM_UNNECESSARY : 0, &th,
			 &why)) {
		if (why == WP_DROP_TCP_CSUM)
			WP_MIB_INC(pc, TcpInCsumErrors);
		WP_MIB_INC(pc, TcpInErrs);
		wp_kfree_skb_reason(skb, why);
		return;
	}
	/* Linux counts InSegs once per skb, a GRO skb too (tcp_v4_rcv);
	 * its segments count in the socket's segs_in. */
	if (!handed)
		WP_MIB_INC(pc, TcpInSegs);
	/* LAND: a segment from ourselves to ourselves, same port. */
	if (ip.saddr == ip.daddr && th.sport == th.dport) {
		WP_MIB_INC(pc, TcpInErrs);
		wp_kfree_skb_reason(skb, WP_DROP_TCP_LAND);
		return;
	}
	/* No host makes these: a port scan or an attack. */
	if ((th.flags & WP_TCP_SYN) && (th.flags & (WP_TCP_FIN | WP_TCP_RST))) {
		WP_MIB_INC(pc, TcpInErrs);
		wp_kfree_skb_reason(skb, WP_DROP_TCP_FLAGS);
		return;
	}
	if (!th.sport || !th.dport) {
		WP_MIB_INC(pc, TcpInErrs);
		wp_kfree_skb_reason(skb, WP_DROP_TCP_HDR);
		return;
	}
	/* The data offset as sent: options we skip count too. */
	hlen = (int)(skb->len - th.payload_len);
	cb->doff = (uint16_t)hlen;
	cb->seq = th.seq;
	cb->ack_seq = th.ack_seq;
	cb->end_seq = th.seq + (uint32_t)th.payload_len +
		      ((th.flags & WP_TCP_SYN) ? 1 : 0) +
		      ((th.flags & WP_TCP_FIN) ? 1 : 0);
	cb->flags = (uint16_t)(th.flags | (handed ? TCP_CB_HANDED : 0));

	tp = wp__tcp_lookup_established(net, ip.daddr, th.dport, ip.saddr,
					th.sport);
	if (tp) {
		int owner = __atomic_load_n(&tp->sk.sk_cpu, __ATOMIC_ACQUIRE);

		if (owner < 0) {
			wp_sock_put(&tp->sk);
			wp_kfree_skb_reason(skb, WP_DROP_NO_SOCKET);
			return;
		}
		if ((uint32_t)owner != pc->id) {
			handover(pc, tp, skb);
			wp_sock_put(&tp->sk);
			return;
		}
		wp__net_stamp(pc, skb, WP_STAMP_SOCK_LOOKUP);
		wp_skb_pull(skb, (uint32_t)hlen);
		th.payload = skb->data;
		process(&net->tcp->pcpu[pc->id], tp, skb, &th);
		wp_sock_put(&tp->sk);
		return;
	}
	tp = wp__tcp_lookup_listener(net, ip.daddr, th.dport);
	if (tp) {
		wp_skb_pull(skb, (uint32_t)hlen);
		listen_rcv(pc, tp, skb, &th);
		wp_sock_put(&tp->sk);
		return;
	}
	/* RFC 9293 3.10.7.1: CLOSED. */
	wp__tcp_v4_send_reset(pc, ip.saddr, ip.daddr, &th,
			      cb->end_seq - cb->seq);
	wp_kfree_skb_reason(skb, WP_DROP_NO_SOCKET);
}

/* --- ICMP errors
 * --------------------------------------------------------------- */

void wp__tcp_err(struct wp_net_cpu *pc, const struct wp_icmp_err *err)
{
	struct wp_tcp_sock *tp;
	uint16_t sport, dport;
	uint32_t seq;

	if (err->l4_len < 8)
		return;
	sport = wp_get_be16(err->l4);
	dport = wp_get_be16(err->l4 + 2);
	seq = wp_get_be32(err->l4 + 4);
	tp = wp__tcp_lookup_established(pc->net, err->saddr, sport, err->daddr,
					dport);
	if (!tp)
		return;
	if (tp->sk.sk_cpu != (int)pc->id) {
		/* Its owner would judge it; an ICMP error is advisory. */
		wp_sock_put(&tp->sk);
		return;
	}
	/* RFC 5927 4.1: only about data in flight. */
	if (before(seq, tp->snd_una) || !before(seq, tp->snd_max)) {
		WP_MIB_INC(pc, OutOfWindowIcmps);
		wp_sock_put(&tp->sk);
		return;
	}
	if (err->type == WP_ICMP_DEST_UNREACH &&
	    err->code == WP_ICMP_FRAG_NEEDED && err->mtu >= 68) {
		/* PMTU discovery (RFC 1191): a smaller MSS from now on,
		 * and what was lost goes again at that size. */
		uint32_t mss = err->mtu - WP_IPV4_HLEN - WP_TCP_HLEN;

		if (mss < tp->mss_cache + wp__tcp_opt_len(tp)) {
			struct tcp_cpu *tc = &pc->net->tcp->pcpu[pc->id];

			atomic_store(&tp->user_mss,
				     (uint16_t)umax32(mss, TCP_MSS_MIN));
			wp__tcp_sync_mss(tp);
			wp__tcp_retransmit_at(tc, tp, tp->snd_una);
		}
	} else if (tp->state_core == WP_TCP_SYN_SENT &&
		   err->type == WP_ICMP_DEST_UNREACH &&
		   (err->code == WP_ICMP_PORT_UNREACH ||
		    err->code == WP_ICMP_PROT_UNREACH)) {
		/* Hard errors end a connection attempt (RFC 1122 4.2.3.9). */
		WP_MIB_INC(pc, TcpAttemptFails);
		wp__tcp_abort(&pc->net->tcp->pcpu[pc->id], tp, ECONNREFUSED);
	}
	wp_sock_put(&tp->sk);
}
