// SPDX-License-Identifier: MIT
/*
 * SYN cookies (Linux net/ipv4/syncookies.c; RFC 4987 3.6): a listener
 * whose SYN queue is full (net.ipv4.tcp_syncookies = 1, the default), or
 * any listener (= 2), answers a SYN with a SYN-ACK whose sequence number
 * carries what the connection needs, and keeps nothing. The third ACK
 * brings it back (SEG.ACK - 1); if it checks out, the child is made then,
 * straight into the accept queue (tcp_input.c). A flood of spoofed SYNs
 * costs one SYN-ACK each and no memory.
 *
 * The cookie (Linux secure_tcp_syn_cookie):
 *
 *   ISN = H0(4-tuple) + their ISN + (count << 24)
 *         + ((H1(4-tuple, count) + MSS index) mod 2^24)
 *
 * H0 and H1 are SipHash-2-4 under two secret keys drawn from the stack's
 * seed; count is the minute of the injected clock. A cookie is good while
 * count has moved by less than 2 (between 60 and 120 s); the MSS is one
 * of four values (msstab), the largest not above what the peer offered.
 * Forging one blindly takes 2^31 tries on average.
 *
 * What the ISN cannot hold, the timestamp can (Linux
 * cookie_init_timestamp): with RFC 7323 timestamps, the low 6 bits of the
 * TSval we send carry the peer's window scale (15: none) and whether it
 * offered SACK, and the peer echoes them in TSecr. A SYN without
 * timestamps gets a SYN-ACK that offers neither window scaling nor SACK
 * (Linux tcp_clear_options), so such a connection has neither.
 */
#include "tcp/tcp_priv.h"

#include <string.h>

#define COOKIEBITS 24
#define COOKIEMASK ((1u << COOKIEBITS) - 1)
#define MAX_SYNCOOKIE_AGE 2

/* The TSval's low bits (Linux TSBITS, TS_OPT_*). */
#define TSBITS 6
#define TSMASK ((1u << TSBITS) - 1)
#define TS_OPT_WSCALE_MASK 0xfu
#define TS_OPT_SACK (1u << 4)

/* The MSS values a cookie can say (Linux msstab for IPv4). */
static const uint16_t msstab[] = { 536, 1300, 1440, 1460 };

static uint32_t cookie_time(uint64_t now)
{
	return (uint32_t)(now / TCP_SYNCOOKIE_PERIOD);
}

static uint32_t cookie_hash(const struct wp_tcp_table *t, int c, uint32_t laddr,
			    uint16_t lport, uint32_t raddr, uint16_t rport,
			    uint32_t count)
{
	return (uint32_t)wp__tcp_siphash(
		t->cookie_key[c], (uint64_t)laddr << 32 | raddr,
		(uint64_t)lport << 48 | (uint64_t)rport << 32 | count);
}

/* The MSS index a cookie holds, or -1 (not ours, or too old). */
static int cookie_mss_index(const struct wp_tcp_table *t, uint64_t now,
			    uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport, uint32_t cookie, uint32_t sseq)
{
	uint32_t count = cookie_time(now), diff, idx;

	cookie -= cookie_hash(t, 0, laddr, lport, raddr, rport, 0) + sseq;
	/* Now (count << 24) + (H1 + index mod 2^24): the minute it was
	 * made is in the top 8 bits. */
	diff = (count - (cookie >> COOKIEBITS)) & (UINT32_MAX >> COOKIEBITS);
	if (diff >= MAX_SYNCOOKIE_AGE)
		return -1;
	idx = (cookie -
	       cookie_hash(t, 1, laddr, lport, raddr, rport, count - diff)) &
	      COOKIEMASK;
	return idx < WP_ARRAY_SIZE(msstab) ? (int)idx : -1;
}

void wp__tcp_syncookie_send(struct wp_net_cpu *pc, struct wp_tcp_sock *lsk,
			    uint32_t laddr, uint32_t raddr,
			    const struct wp_tcp_repr *th)
{
	struct wp_net *net = pc->net;
	const struct wp_tcp_table *t = net->tcp;
	const struct wp_tcp_opts *in = &th->opts;
	uint32_t mss =
		(in->present & WP_TCP_OPT_MSS) ? in->mss : TCP_MSS_DEFAULT;
	uint32_t user =
		atomic_load_explicit(&lsk->user_mss, memory_order_relaxed);
	uint32_t count = cookie_time(pc->now), idx;
	struct wp_tcp_repr r = {
		.sport = th->dport,
		.dport = th->sport,
		.ack_seq = th->seq + 1,
		.flags = WP_TCP_SYN | WP_TCP_ACK,
		/* RFC 7323 2.2: a SYN's window is never scaled. What a
		 * child of this listener would offer: it gets the same. */
		.window = (uint16_t)umin32(wp__tcp_space(lsk), 65535),
	};

	if (user && user < mss)
		mss = user;
	for (idx = WP_ARRAY_SIZE(msstab) - 1; idx; idx--)
		if (mss >= msstab[idx])
			break;
	r.seq = cookie_hash(t, 0, laddr, th->dport, raddr, th->sport, 0) +
		th->seq + (count << COOKIEBITS) +
		((cookie_hash(t, 1, laddr, th->dport, raddr, th->sport, count) +
		  idx) &
		 COOKIEMASK);
	r.opts.present = WP_TCP_OPT_MSS;
	r.opts.mss = (uint16_t)lsk->advmss;
	if ((in->present & WP_TCP_OPT_TS) &&
	    TCP_SYSCTL(net, tcp_timestamps, 1)) {
		uint32_t opts = TS_OPT_WSCALE_MASK;
		uint32_t now_ts = (uint32_t)(pc->now / WP_NSEC_PER_MSEC);
		uint32_t ts;

		if ((in->present & WP_TCP_OPT_WSCALE) &&
		    TCP_SYSCTL(net, tcp_window_scaling, 1)) {
			r.opts.present |= WP_TCP_OPT_WSCALE;
			r.opts.wscale = wp__tcp_select_rcv_wscale(lsk);
			opts = umin32(in->wscale, TCP_MAX_WSCALE);
		}
		if ((in->present & WP_TCP_OPT_SACK_PERM) &&
		    TCP_SYSCTL(net, tcp_sack, 1)) {
			r.opts.present |= WP_TCP_OPT_SACK_PERM;
			opts |= TS_OPT_SACK;
		}
		/* The options in the low bits, never a time ahead of the
		 * clock (the connection's own TSvals follow on from it). */
		ts = (now_ts & ~TSMASK) | opts;
		if ((int32_t)(ts - now_ts) > 0)
			ts -= 1u << TSBITS;
		r.opts.present |= WP_TCP_OPT_TS;
		r.opts.tsval = ts + wp__tcp_ts_off(t, laddr, raddr);
		r.opts.tsecr = in->tsval;
	}
	/* tcp_synq_overflow: cookies are checked from now on. */
	atomic_store_explicit(&lsk->synq_overflow, pc->now ? pc->now : 1,
			      memory_order_relaxed);
	WP_MIB_INC(pc, SyncookiesSent);
	wp__tcp_send_synack_stateless(pc, laddr, raddr, &r);
}

int wp__tcp_syncookie_check(const struct wp_net *net, uint64_t now,
			    uint32_t laddr, uint32_t raddr,
			    const struct wp_tcp_repr *th, struct wp_tcp_opts *o)
{
	const struct wp_tcp_table *t = net->tcp;
	int idx = cookie_mss_index(t, now, laddr, th->dport, raddr, th->sport,
				   th->ack_seq - 1, th->seq - 1);
	uint32_t opts;

	if (idx < 0)
		return -1;
	memset(o, 0, sizeof(*o));
	o->present = WP_TCP_OPT_MSS;
	o->mss = msstab[idx];
	/* cookie_timestamp_decode: no timestamp, no options. */
	if (!(th->opts.present & WP_TCP_OPT_TS))
		return 0;
	if (!TCP_SYSCTL(net, tcp_timestamps, 1))
		return -1;
	o->present |= WP_TCP_OPT_TS;
	o->tsval = th->opts.tsval;
	o->tsecr = th->opts.tsecr;
	opts = (th->opts.tsecr - wp__tcp_ts_off(t, laddr, raddr)) & TSMASK;
	if (opts & TS_OPT_SACK) {
		if (!TCP_SYSCTL(net, tcp_sack, 1))
			return -1;
		o->present |= WP_TCP_OPT_SACK_PERM;
	}
	if ((opts & TS_OPT_WSCALE_MASK) == TS_OPT_WSCALE_MASK)
		return 0;
	if (!TCP_SYSCTL(net, tcp_window_scaling, 1))
		return -1;
	o->present |= WP_TCP_OPT_WSCALE;
	o->wscale = (uint8_t)(opts & TS_OPT_WSCALE_MASK);
	return 0;
}
