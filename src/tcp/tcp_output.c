// SPDX-License-Identifier: MIT
/*
 * TCP output (Linux tcp_output.c): segments cut from the send ring just
 * before the TX ring, the window we advertise, SYN, SYN-ACK, ACK, RST,
 * probes. Everything here runs on the socket's owning core, which
 * transmits on its own TX queue through wp_ip_queue_xmit.
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <string.h>

#define TCP_MIN_SND_MSS 48U /* Linux TCP_MIN_SND_MSS: a floor on any MSS */

/* --- helpers
 * ------------------------------------------------------------------ */

uint32_t wp__tcp_tsval(const struct wp_tcp_sock *tp, uint64_t now)
{
	/* RFC 7323 5.4: a 1 ms clock, offset per connection (7.1). */
	return (uint32_t)(now / WP_NSEC_PER_MSEC) + tp->ts_off;
}

uint32_t wp__tcp_opt_len(const struct wp_tcp_sock *tp)
{
	return tp->rx_opt.tstamp_ok ? 12 : 0;
}

uint32_t wp__tcp_space(const struct wp_tcp_sock *tp)
{
	struct wp_sock *sk = (struct wp_sock *)&tp->sk;
	int64_t room = (int64_t)atomic_load_explicit(&sk->sk_rcvbuf,
						     memory_order_relaxed) -
		       (int64_t)atomic_load_explicit(&sk->sk_rmem_alloc,
						     memory_order_acquire);

	if (room <= 0)
		return 0;
	/* Truesize to payload: what the buffer really holds of data (Linux
	 * scaling_ratio). */
	return (uint32_t)(((uint64_t)room * tp->scaling_ratio) >> 8);
}

void wp__tcp_sync_mss(struct wp_tcp_sock *tp)
{
	struct wp_net *net = tp->net;
	uint32_t mss = net->mtu - WP_IPV4_HLEN - WP_TCP_HLEN;
	uint32_t user =
		atomic_load_explicit(&tp->user_mss, memory_order_relaxed);
	uint32_t room = wp_pool_buf_size(wp__net_pool(&net->pcpu[0])) -
			WP_SKB_HEADROOM - WP_TCP_HLEN_MAX;

	if (tp->rx_opt.mss_clamp && tp->rx_opt.mss_clamp < mss)
		mss = tp->rx_opt.mss_clamp;
	if (user && user < mss)
		mss = user;
	if (room < mss)
		mss = room; /* a segment fits one pool buffer */
	/* An MSS of 0 or 1 offered by a hostile peer: clamp, never divide
	 * by it, never send one-byte segments forever. */
	if (mss < TCP_MIN_SND_MSS + wp__tcp_opt_len(tp))
		mss = TCP_MIN_SND_MSS + wp__tcp_opt_len(tp);
	tp->mss_cache = mss - wp__tcp_opt_len(tp);
}

/* Room left on this core's TX queue, reclaiming finished descriptors
 * when it runs low. */
uint32_t wp__tcp_tx_room(struct wp_net_cpu *pc)
{
	struct wp_nic *nic = pc->net->nic;
	struct wp_tx_queue *txq = &nic->txq[pc->id];
	uint32_t used = txq->next_to_use - txq->next_to_clean;

	if (used + TCP_TXQ_RESERVE >= txq->size) {
		wp_nic_clean_tx(nic, pc->id);
		used = txq->next_to_use - txq->next_to_clean;
	}
	return used >= txq->size ? 0 : txq->size - used;
}

uint16_t wp__tcp_select_window(struct wp_tcp_sock *tp)
{
	uint32_t ws = tp->rx_opt.rcv_wscale;
	uint32_t space = wp__tcp_space(tp);
	uint32_t used = tp->rcv_nxt - tp->rcv_wup;
	uint32_t cur = tp->rcv_wnd > used ? tp->rcv_wnd - used : 0;
	uint32_t max = 65535u << ws;
	uint32_t win;

	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): offer nothing
	 * rather than less than a segment, and whole segments: a sender
	 * filling a window to its last byte sends a runt that costs a whole
	 * buffer here. */
	win = space < tp->rcv_mss ? 0 : space / tp->rcv_mss * tp->rcv_mss;
	/* RFC 9293 3.8.6: never shrink what was offered. */
	if (win < cur)
		win = cur;
	if (win > max)
		win = max;
	/* Round up to the scale: the offer never drops below cur. */
	win = ((win + (1u << ws) - 1) >> ws) << ws;
	if (win > max)
		win = max;
	if (!win && tp->rcv_wnd) {
		WP_MIB_INC(&tp->net->pcpu[tp->sk.sk_cpu], TCPToZeroWindowAdv);
	} else if (win && !tp->rcv_wnd) {
		WP_MIB_INC(&tp->net->pcpu[tp->sk.sk_cpu], TCPFromZeroWindowAdv);
	}
	if (!win)
		WP_MIB_INC(&tp->net->pcpu[tp->sk.sk_cpu], TCPWantZeroWindowAdv);
	tp->rcv_wnd = win;
	tp->rcv_wup = tp->rcv_nxt;
	return (uint16_t)(win >> ws);
}

/* Copy len bytes of the send ring starting at seq to dst. */
static void ring_copy(const struct wp_tcp_sock *tp, uint32_t seq, uint8_t *dst,
		      uint32_t len)
{
	uint32_t off = (seq - tp->snd_base) % tp->snd_size;
	uint32_t first = umin32(len, tp->snd_size - off);

	memcpy(dst, tp->sndring + off, first);
	if (first < len)
		memcpy(dst + first, tp->sndring, len - first);
}

/* --- building and sending a segment -----------------------------------------
 */

static void fill_opts(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		      struct wp_tcp_opts *o);

/*
 * tcp_current_mss: the payload a data segment may carry now. mss_cache
 * leaves room for the timestamp; SACK blocks we owe the peer take more,
 * and a segment must never outgrow the MTU (it is sent with DF).
 */
static uint32_t current_mss(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_tcp_opts o;
	int len;

	if (!tp->nr_sacks || !tp->rx_opt.sack_ok)
		return tp->mss_cache;
	fill_opts(tc, tp, &o);
	len = wp_tcp_options_len(&o);
	if (len < 0)
		return tp->mss_cache;
	return tp->mss_cache + wp__tcp_opt_len(tp) - (uint32_t)len;
}

struct seg {
	uint32_t seq;
	uint32_t len; /* payload bytes from the ring at seq */
	uint16_t flags;
	bool syn_opts;
	bool retrans;
};

static void fill_syn_opts(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			  struct wp_tcp_opts *o, bool synack)
{
	struct wp_net *net = tp->net;

	o->present = WP_TCP_OPT_MSS;
	o->mss = (uint16_t)tp->advmss;
	if (synack ? tp->rx_opt.wscale_ok
		   : TCP_SYSCTL(net, tcp_window_scaling, 1)) {
		o->present |= WP_TCP_OPT_WSCALE;
		o->wscale = tp->rx_opt.rcv_wscale;
	}
	if (synack ? tp->rx_opt.sack_ok : TCP_SYSCTL(net, tcp_sack, 1))
		o->present |= WP_TCP_OPT_SACK_PERM;
	if (synack ? tp->rx_opt.tstamp_ok
		   : TCP_SYSCTL(net, tcp_timestamps, 1)) {
		o->present |= WP_TCP_OPT_TS;
		o->tsval = wp__tcp_tsval(tp, tc->pc->now);
		o->tsecr = synack ? tp->rx_opt.ts_recent : 0;
	}
}

static void fill_opts(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		      struct wp_tcp_opts *o)
{
	uint32_t room = WP_TCP_OPTS_MAX;

	o->present = 0;
	if (tp->rx_opt.tstamp_ok) {
		o->present |= WP_TCP_OPT_TS;
		o->tsval = wp__tcp_tsval(tp, tc->pc->now);
		o->tsecr = tp->rx_opt.ts_recent;
		room -= 12;
	}
	if (tp->rx_opt.sack_ok && tp->nr_sacks) {
		uint32_t n = umin32(tp->nr_sacks, (room - 4) / 8);

		o->present |= WP_TCP_OPT_SACK;
		o->nr_sack = (uint8_t)n;
		memcpy(o->sack, tp->sacks, n * sizeof(o->sack[0]));
	}
}

static int transmit(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		    const struct seg *s)
{
	struct wp_net_cpu *pc = tc->pc;
	struct wp_net *net = tp->net;
	struct wp_tcp_repr r = {
		.sport = tp->sport,
		.dport = tp->dport,
		.seq = s->seq,
		.flags = s->flags,
		.payload = NULL, /* copied into place below */
		.payload_len = s->len,
	};
	struct wp_ip_tx tx = {
		.saddr = tp->saddr,
		.daddr = tp->daddr,
		.protocol = WP_IPPROTO_TCP,
		.df = true,
	};
	struct wp_skb *skb;
	uint8_t *p;
	int hlen, ret;

	if (s->flags & WP_TCP_ACK)
		r.ack_seq = tp->rcv_nxt;
	if (s->flags & WP_TCP_SYN) {
		fill_syn_opts(tc, tp, &r.opts, s->flags & WP_TCP_ACK);
		/* RFC 7323 2.2: the window of a SYN is never scaled. */
		r.window = (uint16_t)umin32(wp__tcp_space(tp), 65535);
		tp->rcv_wnd = r.window;
		tp->rcv_wup = tp->rcv_nxt;
	} else {
		fill_opts(tc, tp, &r.opts);
		r.window = wp__tcp_select_window(tp);
	}
	hlen = wp_tcp_hdr_len(&r);
	if (hlen < 0)
		return hlen;
	skb = wp_alloc_skb(wp__net_pool(pc), (uint32_t)hlen + s->len);
	if (!skb) {
		wp_drop_count(WP_DROP_NOMEM);
		return -ENOBUFS;
	}
	p = wp_skb_put(skb, (uint32_t)hlen + s->len);
	if (s->len)
		ring_copy(tp, s->seq, p + hlen, s->len);
	wp_tcp_emit(&r, tx.saddr, tx.daddr, p, (size_t)hlen + s->len);
	wp_skb_reset_transport_header(skb);
	WP_MIB_INC(pc, TcpOutSegs);
	if (s->retrans) {
		WP_MIB_INC(pc, TcpRetransSegs);
		tp->total_retrans++;
	}
	tp->segs_out++;
	if (s->flags & WP_TCP_ACK) {
		/* Every segment carries the ACK: no delayed ACK owed. */
		tp->ack_pending = false;
		tp->ack_pending_segs = 0;
		wp__tcp_timer_clear(tc, tp, TCP_T_DELACK);
	}
	ret = wp_ip_queue_xmit(net, pc->id, skb, &tx);
	return ret == -ENOBUFS ? ret : 0;
}

void wp__tcp_send_ack(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	/* snd_max, not snd_nxt: after a timeout snd_nxt went back to
	 * snd_una, and an ACK numbered there would be older than what the
	 * peer has seen, unacceptable (BSD sends pure ACKs at snd_max). */
	struct seg s = { .seq = tp->snd_max, .flags = WP_TCP_ACK };

	if (tp->state_core == WP_TCP_CLOSE || tp->state_core == WP_TCP_LISTEN)
		return;
	transmit(tc, tp, &s);
}

void wp__tcp_send_probe0(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	/* tcp_xmit_probe_skb: a sequence number the peer has seen, so it
	 * must answer with an ACK (and its window) and accept nothing. */
	struct seg s = { .seq = tp->snd_una - 1, .flags = WP_TCP_ACK };

	transmit(tc, tp, &s);
}

void wp__tcp_send_syn(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct seg s = { .seq = tp->iss, .flags = WP_TCP_SYN };

	tp->snd_nxt = tp->iss + 1;
	if (after(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	if (!tp->rtt_time && !tp->retransmits)
		tp->rtt_time = tc->pc->now;
	transmit(tc, tp, &s);
}

void wp__tcp_send_synack(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct seg s = { .seq = tp->iss, .flags = WP_TCP_SYN | WP_TCP_ACK };

	tp->snd_nxt = tp->iss + 1;
	if (after(tp->snd_nxt, tp->snd_max))
		tp->snd_max = tp->snd_nxt;
	transmit(tc, tp, &s);
}

void wp__tcp_send_active_reset(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct seg s = { .seq = tp->snd_max, .flags = WP_TCP_RST | WP_TCP_ACK };

	WP_MIB_INC(tc->pc, TcpOutRsts);
	transmit(tc, tp, &s);
}

void wp__tcp_v4_send_reset(struct wp_net_cpu *pc, uint32_t saddr,
			   uint32_t daddr, const struct wp_tcp_repr *th,
			   uint32_t seg_len)
{
	struct wp_tcp_repr r = {
		.sport = th->dport,
		.dport = th->sport,
		.payload = NULL,
	};
	struct wp_ip_tx tx = {
		.saddr = daddr,
		.daddr = saddr,
		.protocol = WP_IPPROTO_TCP,
		.df = true,
	};
	struct wp_skb *skb;

	/* RFC 9293 3.10.7.1: never answer a RST. */
	if (th->flags & WP_TCP_RST)
		return;
	if (th->flags & WP_TCP_ACK) {
		r.seq = th->ack_seq;
		r.flags = WP_TCP_RST;
	} else {
		r.seq = 0;
		r.ack_seq = th->seq + seg_len;
		r.flags = WP_TCP_RST | WP_TCP_ACK;
	}
	skb = wp_alloc_skb(wp__net_pool(pc), WP_TCP_HLEN);
	if (!skb) {
		wp_drop_count(WP_DROP_NOMEM);
		return;
	}
	wp_tcp_emit(&r, tx.saddr, tx.daddr, wp_skb_put(skb, WP_TCP_HLEN),
		    WP_TCP_HLEN);
	wp_skb_reset_transport_header(skb);
	WP_MIB_INC(pc, TcpOutSegs);
	WP_MIB_INC(pc, TcpOutRsts);
	wp_ip_queue_xmit(pc->net, pc->id, skb, &tx);
}

void wp__tcp_send_synack_stateless(struct wp_net_cpu *pc, uint32_t saddr,
				   uint32_t daddr, const struct wp_tcp_repr *r)
{
	struct wp_ip_tx tx = {
		.saddr = saddr,
		.daddr = daddr,
		.protocol = WP_IPPROTO_TCP,
		.df = true,
	};
	struct wp_skb *skb;
	int hlen = wp_tcp_hdr_len(r);

	if (hlen < 0)
		return;
	skb = wp_alloc_skb(wp__net_pool(pc), (uint32_t)hlen);
	if (!skb) {
		wp_drop_count(WP_DROP_NOMEM);
		return;
	}
	wp_tcp_emit(r, saddr, daddr, wp_skb_put(skb, (uint32_t)hlen),
		    (size_t)hlen);
	wp_skb_reset_transport_header(skb);
	WP_MIB_INC(pc, TcpOutSegs);
	wp_ip_queue_xmit(pc->net, pc->id, skb, &tx);
}

/* --- the send loop
 * ------------------------------------------------------------ */

static bool fin_wanted(const struct wp_tcp_sock *tp)
{
	int st = tp->state_core;

	return st == WP_TCP_FIN_WAIT1 || st == WP_TCP_CLOSING ||
	       st == WP_TCP_LAST_ACK;
}

static bool can_send_data(const struct wp_tcp_sock *tp)
{
	int st = tp->state_core;

	return st == WP_TCP_ESTABLISHED || st == WP_TCP_CLOSE_WAIT ||
	       fin_wanted(tp);
}

/*
 * tcp_retransmit_skb: a scoreboard segment again, from its first byte not
 * yet acknowledged, in pieces of the MSS now (it may have shrunk since:
 * ICMP fragmentation needed), the FIN on the last piece if it had one.
 */
int wp__tcp_retransmit_seg(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			   struct tcp_sb_seg *e)
{
	bool fin = e->flags & TCP_SB_FIN;
	uint32_t seq = after(tp->snd_una, e->seq) ? tp->snd_una : e->seq;
	uint32_t end = e->end_seq - (fin ? 1 : 0);
	uint32_t mss = current_mss(tc, tp);
	int ret;

	if (!wp__tcp_tx_room(tc->pc))
		return -ENOBUFS;
	do {
		struct seg s = { .seq = seq,
				 .flags = WP_TCP_ACK | WP_TCP_PSH,
				 .retrans = true };

		s.len = before(seq, end) ? umin32(end - seq, mss) : 0;
		if (fin && seq + s.len == end)
			s.flags |= WP_TCP_FIN;
		ret = transmit(tc, tp, &s);
		if (ret)
			return ret;
		seq += s.len;
	} while (before(seq, end));
	tp->rtt_time = 0; /* Karn */
	return 0;
}

/*
 * tcp_write_xmit: in RFC 6675 NextSeg order, the segments the
 * scoreboard marks lost, then new data, then (in SACK recovery) rules 3
 * and 4. New data goes as the peer's window (from snd_una) and cwnd
 * (against pipe) allow, MSS by MSS, from snd_nxt; Nagle (RFC 9293 3.7.4)
 * holds back a small segment while data is unacknowledged unless
 * TCP_NODELAY; sender SWS avoidance (3.8.6.2.1) holds back a segment the
 * window cuts short. The FIN rides on the last data segment or goes
 * alone. The TX ring running low stops the loop; the socket retries a
 * little later.
 */
void wp__tcp_write_xmit(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_net_cpu *pc = tc->pc;
	uint32_t wseq, mss;
	bool nodelay, sent = false;

	if (!can_send_data(tp) || !tp->sndring)
		return;
	/* RFC 6675 NextSeg rule 1 (and CA_LOSS after an RTO): what is
	 * lost goes before new data. */
	if (wp__tcp_xmit_lost(tc, tp) == -ENOBUFS) {
		wp__tcp_timer_set(tc, tp, TCP_T_TXQ,
				  pc->now + 20 * WP_NSEC_PER_USEC);
		return;
	}
	mss = current_mss(tc, tp);
	wseq = tcp_write_seq(tp);
	nodelay = atomic_load_explicit(&tp->nodelay, memory_order_relaxed);
	for (;;) {
		/* The peer's window counts from snd_una; cwnd limits what
		 * is in the network (RFC 6675 pipe: SACKed and lost
		 * segments are not, retransmissions are). */
		uint32_t inflight = tp->snd_nxt - tp->snd_una;
		uint32_t pipe = tcp_pipe(tp);
		uint32_t avail = wseq - tp->snd_nxt;
		uint32_t room = umin32(
			tp->snd_wnd > inflight ? tp->snd_wnd - inflight : 0,
			tp->cwnd > pipe ? tp->cwnd - pipe : 0);
		struct seg s = { .seq = tp->snd_nxt, .flags = WP_TCP_ACK };

		if (before(wseq, tp->snd_nxt))
			avail = 0;
		if (avail) {
			uint32_t len = umin32(avail, mss);

			if (len > room) {
				/* Window-limited: send a partial segment only
				 * if it is worth it (half the largest window
				 * seen) or nothing is in flight to clock us. */
				if (room == 0 || (room < mss && inflight &&
						  room < tp->max_window / 2))
					break;
				len = room;
			}
			if (len < mss && len == avail && inflight && !nodelay &&
			    !fin_wanted(tp))
				break; /* Nagle */
			s.len = len;
			if (len == avail) {
				s.flags |= WP_TCP_PSH;
				if (fin_wanted(tp) && !tp->fin_sent)
					s.flags |= WP_TCP_FIN;
			}
		} else if (fin_wanted(tp) && !tp->fin_sent &&
			   tp->snd_nxt == wseq) {
			if (pipe >= tp->cwnd && inflight)
				break;
			s.flags |= WP_TCP_FIN;
		} else {
			break;
		}
		/* The scoreboard is full: wait for ACKs, as for cwnd. The
		 * first segment makes it; without memory for it nothing is
		 * sent, and the socket tries again a little later. */
		if (!tp->sb.seg && wp__tcp_sb_alloc(tp)) {
			wp__tcp_timer_set(tc, tp, TCP_T_TXQ,
					  pc->now + TCP_RESOURCE_PROBE);
			break;
		}
		if (tcp_sb_len(&tp->sb) >= tp->sb.cap)
			break;
		if (wp__tcp_tx_room(pc) <= TCP_TXQ_RESERVE) {
			/* The ring drains at wire speed: look again soon
			 * (no busy loop at one instant of virtual time). */
			wp__tcp_timer_set(tc, tp, TCP_T_TXQ,
					  pc->now + 20 * WP_NSEC_PER_USEC);
			break;
		}
		/* No buffer (-ENOBUFS): the segment counts as sent and
		 * the retransmit timer recovers it, as a wire loss. */
		transmit(tc, tp, &s);
		if (s.len)
			WP_MIB_INC(pc, TCPOrigDataSent);
		wp__tcp_sb_push(tp, s.seq,
				s.seq + s.len +
					((s.flags & WP_TCP_FIN) ? 1 : 0),
				s.flags & WP_TCP_FIN);
		tp->snd_nxt += s.len + ((s.flags & WP_TCP_FIN) ? 1 : 0);
		if (s.flags & WP_TCP_FIN)
			tp->fin_sent = true;
		if (after(tp->snd_nxt, tp->snd_max))
			tp->snd_max = tp->snd_nxt;
		if (!tp->rtt_time) {
			tp->rtt_time = pc->now;
			tp->rtt_seq = tp->snd_nxt;
		}
		tp->lsndtime = pc->now;
		sent = true;
		if (s.flags & WP_TCP_FIN)
			break;
	}
	/* NextSeg rules 3 and 4, with what room rules 1 and 2 left. */
	wp__tcp_xmit_recovery_tail(tc, tp);
	if (sent) {
		/* RFC 6298 5.1: the timer runs while data is out. */
		if (tp->timer[TCP_T_RETRANS] == WP_TIME_NEVER ||
		    tp->rtx_kind == TCP_RTX_PROBE) {
			tp->rtx_kind = TCP_RTX_RTO;
			wp__tcp_arm_rto(tc, tp);
		}
		return;
	}
	/* Zero window with data waiting and nothing in flight to bring an
	 * ACK: probe (RFC 9293 3.8.6.1). */
	if (!tp->snd_wnd && after(wseq, tp->snd_nxt) &&
	    tp->snd_una == tp->snd_max &&
	    tp->timer[TCP_T_RETRANS] == WP_TIME_NEVER) {
		tp->rtx_kind = TCP_RTX_PROBE;
		wp__tcp_arm_rto(tc, tp);
	}
}
