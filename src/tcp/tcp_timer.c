// SPDX-License-Identifier: MIT
/*
 * The core side of TCP that is not input: the per-core work queue
 * (requests of application threads, segments handed over by other
 * cores) and the timers (Linux tcp_timer.c).
 *
 * Timers: each socket keeps one deadline per timer (retransmit, delayed
 * ACK, keepalive, TIME_WAIT); the core keeps its sockets in a binary
 * min-heap by their earliest deadline. Arming, moving and cancelling are
 * O(log n); a core with no expired timer pays one comparison per loop.
 * A socket in the heap is held by it.
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <stdlib.h>

#include "irq/irq.h"

/* --- heap
 * ---------------------------------------------------------------------- */

static void heap_place(struct tcp_cpu *tc, uint32_t i, struct wp_tcp_sock *tp)
{
	tc->heap[i] = tp;
	tp->heap_idx = (int32_t)i;
}

static void sift_up(struct tcp_cpu *tc, uint32_t i)
{
	struct wp_tcp_sock *tp = tc->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (tc->heap[p]->timer_next <= tp->timer_next)
			break;
		heap_place(tc, i, tc->heap[p]);
		i = p;
	}
	heap_place(tc, i, tp);
}

static void sift_down(struct tcp_cpu *tc, uint32_t i)
{
	struct wp_tcp_sock *tp = tc->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		uint64_t best = tp->timer_next;

		if (l < tc->heap_len && tc->heap[l]->timer_next < best) {
			m = l;
			best = tc->heap[l]->timer_next;
		}
		if (l + 1 < tc->heap_len && tc->heap[l + 1]->timer_next < best)
			m = l + 1;
		if (m == i)
			break;
		heap_place(tc, i, tc->heap[m]);
		i = m;
	}
	heap_place(tc, i, tp);
}

static void heap_remove(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint32_t i = (uint32_t)tp->heap_idx;
	struct wp_tcp_sock *last = tc->heap[--tc->heap_len];

	tp->heap_idx = -1;
	if (last != tp) {
		heap_place(tc, i, last);
		sift_up(tc, i);
		sift_down(tc, (uint32_t)last->heap_idx);
	}
	wp_sock_put(&tp->sk);
}

/* Grow the heap (control-path rate: once per doubling). */
static int heap_reserve(struct tcp_cpu *tc)
{
	struct wp_tcp_sock **h;
	uint32_t cap;

	if (tc->heap_len < tc->heap_cap)
		return 0;
	cap = tc->heap_cap ? tc->heap_cap * 2 : 64;
	h = realloc(tc->heap, cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	tc->heap = h;
	tc->heap_cap = cap;
	return 0;
}

/* The socket's earliest deadline changed: move it in the heap. The
 * caller holds a reference, so removal never frees it under the caller. */
static void timers_update(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint64_t next = WP_TIME_NEVER;

	for (int w = 0; w < TCP_T__MAX; w++)
		if (tp->timer[w] < next)
			next = tp->timer[w];
	tp->timer_next = next;
	if (next == WP_TIME_NEVER) {
		if (tp->heap_idx >= 0)
			heap_remove(tc, tp);
		return;
	}
	if (tp->heap_idx < 0) {
		if (heap_reserve(tc)) {
			/* Out of memory: the timer cannot run. Retry on the
			 * next arm; count it where it shows. */
			wp_drop_count(WP_DROP_NOMEM);
			return;
		}
		wp_sock_hold(&tp->sk);
		heap_place(tc, tc->heap_len++, tp);
		sift_up(tc, (uint32_t)tp->heap_idx);
		return;
	}
	sift_up(tc, (uint32_t)tp->heap_idx);
	sift_down(tc, (uint32_t)tp->heap_idx);
}

void wp__tcp_timer_set(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
		       enum tcp_timer which, uint64_t when)
{
	if (tp->timer[which] == when)
		return;
	tp->timer[which] = when;
	timers_update(tc, tp);
}

void wp__tcp_timer_clear(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 enum tcp_timer which)
{
	wp__tcp_timer_set(tc, tp, which, WP_TIME_NEVER);
}

void wp__tcp_timers_clear_all(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	for (int w = 0; w < TCP_T__MAX; w++)
		tp->timer[w] = WP_TIME_NEVER;
	timers_update(tc, tp);
}

static uint64_t tcp_now(const struct tcp_cpu *tc)
{
	return tc->pc->now;
}

void wp__tcp_arm_rto(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint64_t rto = tp->rto << tp->backoff;

	if (rto > TCP_RTO_MAX || tp->backoff >= 32)
		rto = TCP_RTO_MAX;
	wp__tcp_timer_set(tc, tp, TCP_T_RETRANS, tcp_now(tc) + rto);
}

static uint64_t keepalive_ns(const struct wp_tcp_sock *tp, const _Atomic int *v,
			     int32_t sys)
{
	int s = atomic_load_explicit(v, memory_order_relaxed);

	return (uint64_t)(s > 0 ? s : sys) * WP_NSEC_PER_SEC;
}

static uint64_t keepidle(const struct wp_tcp_sock *tp)
{
	return keepalive_ns(tp, &tp->keepidle,
			    TCP_SYSCTL(tp->net, tcp_keepalive_time, 7200));
}

static uint64_t keepintvl(const struct wp_tcp_sock *tp)
{
	return keepalive_ns(tp, &tp->keepintvl,
			    TCP_SYSCTL(tp->net, tcp_keepalive_intvl, 75));
}

static uint32_t keepcnt(const struct wp_tcp_sock *tp)
{
	int c = atomic_load_explicit(&tp->keepcnt, memory_order_relaxed);

	return (uint32_t)(c > 0 ? c
				: TCP_SYSCTL(tp->net, tcp_keepalive_probes, 9));
}

void wp__tcp_arm_keepalive(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	if (!atomic_load_explicit(&tp->keepalive, memory_order_relaxed) ||
	    tp->state_core != WP_TCP_ESTABLISHED) {
		if (tp->state_core != WP_TCP_FIN_WAIT2)
			wp__tcp_timer_clear(tc, tp, TCP_T_KEEPALIVE);
		return;
	}
	wp__tcp_timer_set(tc, tp, TCP_T_KEEPALIVE, tp->lrcvtime + keepidle(tp));
}

/* --- timer handlers
 * ------------------------------------------------------------- */

/* tcp_write_timeout: give up after tcp_retries2 (tcp_syn_retries for a
 * SYN). */
static bool write_timeout(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_net *net = tp->net;
	uint32_t limit;

	if (tp->state_core == WP_TCP_SYN_SENT)
		limit = (uint32_t)TCP_SYSCTL(net, tcp_syn_retries, 6);
	else
		limit = (uint32_t)TCP_SYSCTL(net, tcp_retries2, 15);
	if (tp->retransmits < limit)
		return false;
	if (tp->state_core == WP_TCP_SYN_SENT)
		WP_MIB_INC(tc->pc, TcpAttemptFails);
	else
		WP_MIB_INC(tc->pc, TCPAbortOnTimeout);
	wp__tcp_abort(tc, tp, ETIMEDOUT);
	return true;
}

static void synack_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint32_t limit = (uint32_t)TCP_SYSCTL(tp->net, tcp_synack_retries, 5);

	if (tp->retransmits >= limit) {
		/* The embryo dies quietly: the peer never completed. */
		wp__tcp_done(tc, tp);
		return;
	}
	tp->retransmits++;
	tp->backoff++;
	tp->rtt_time = 0;
	WP_MIB_INC(tc->pc, TcpRetransSegs);
	WP_MIB_INC(tc->pc, TCPSynRetrans);
	wp__tcp_send_synack(tc, tp);
	wp__tcp_arm_rto(tc, tp);
}

static void probe_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint32_t limit = (uint32_t)TCP_SYSCTL(tp->net, tcp_retries2, 15);

	if (tp->snd_wnd || tcp_write_seq(tp) == tp->snd_una) {
		/* The window opened (or nothing waits): back to normal. */
		tp->probes_out = 0;
		tp->backoff = 0;
		tp->rtx_kind = TCP_RTX_RTO;
		wp__tcp_write_xmit(tc, tp);
		return;
	}
	/* tcp_probe_timer: a peer that keeps answering with a zero window
	 * is alive and may hold us forever; one that never answers dies. */
	if (tp->probes_out >= limit) {
		WP_MIB_INC(tc->pc, TCPAbortOnTimeout);
		wp__tcp_abort(tc, tp, ETIMEDOUT);
		return;
	}
	tp->probes_out++;
	WP_MIB_INC(tc->pc, TCPWinProbe);
	wp__tcp_send_probe0(tc, tp);
	if (tp->backoff < 31)
		tp->backoff++;
	wp__tcp_arm_rto(tc, tp);
}

/*
 * tcp_retransmit_timer (RFC 6298 5.4-5.7): retransmit the oldest
 * segment, back the timer off, collapse cwnd to one segment (RFC 5681
 * 3.1: loss window). Every segment not SACKed is marked lost and goes
 * again as the window reopens (Linux tcp_enter_loss): SACKed data is not
 * resent, unless the receiver reneged on it.
 */
static void retransmit_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_net_cpu *pc = tc->pc;

	switch (tp->state_core) {
	case WP_TCP_SYN_RECV:
		synack_timer(tc, tp);
		return;
	case WP_TCP_SYN_SENT:
		if (write_timeout(tc, tp))
			return;
		tp->retransmits++;
		tp->backoff++;
		tp->rtt_time = 0;
		WP_MIB_INC(pc, TcpRetransSegs);
		WP_MIB_INC(pc, TCPSynRetrans);
		WP_MIB_INC(pc, TCPTimeouts);
		wp__tcp_send_syn(tc, tp);
		wp__tcp_arm_rto(tc, tp);
		return;
	case WP_TCP_CLOSE:
	case WP_TCP_LISTEN:
	case WP_TCP_TIME_WAIT:
		return;
	default:
		break;
	}
	if (tp->rtx_kind == TCP_RTX_PROBE) {
		probe_timer(tc, tp);
		return;
	}
	if (tp->snd_una == tp->snd_max)
		return; /* everything was acked meanwhile */
	if (write_timeout(tc, tp))
		return;
	WP_MIB_INC(pc, TCPTimeouts);
	if (tp->ca_state != TCP_CA_LOSS) {
		tp->prior_cwnd = tp->cwnd;
		tp->ssthresh = tp->cc->ssthresh(tp);
		tp->cc->event(tp, CA_EVENT_LOSS);
	}
	tp->ca_state = TCP_CA_LOSS;
	tp->cwnd = tp->mss_cache;
	tp->high_seq = tp->snd_max;
	tp->recover = tp->snd_max;
	tp->dupacks = 0;
	tp->bytes_acked_ca = 0;
	tp->rtt_time = 0; /* Karn: no sample from a retransmitted segment */
	if (!tp->retrans_stamp)
		tp->retrans_stamp = pc->now;
	tp->retransmits++;
	if (tp->backoff < 31)
		tp->backoff++;
	wp__tcp_sb_enter_loss(tc, tp);
	wp__tcp_write_xmit(tc, tp);
	wp__tcp_arm_rto(tc, tp);
}

static void delack_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	if (!tp->ack_pending)
		return;
	WP_MIB_INC(tc->pc, DelayedACKs);
	/* An ACK that had to wait: be quicker for a while (Linux inflates
	 * ato and re-enters quickack after a delayed-ACK timeout). */
	tp->quickack = umax32(tp->quickack, 2);
	wp__tcp_send_ack(tc, tp);
}

static void keepalive_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	uint64_t now = tcp_now(tc);
	uint64_t idle;

	if (tp->state_core == WP_TCP_FIN_WAIT2 && tp->dead) {
		/* tcp_fin_timeout: an orphan does not wait for ever. */
		wp__tcp_done(tc, tp);
		return;
	}
	if (tp->state_core != WP_TCP_ESTABLISHED ||
	    !atomic_load_explicit(&tp->keepalive, memory_order_relaxed))
		return;
	/* Unacked data: the retransmit timer judges liveness. */
	if (tp->snd_una != tp->snd_max) {
		wp__tcp_timer_set(tc, tp, TCP_T_KEEPALIVE, now + keepidle(tp));
		return;
	}
	idle = now - tp->lrcvtime;
	if (idle < keepidle(tp) && !tp->probes_out) {
		wp__tcp_timer_set(tc, tp, TCP_T_KEEPALIVE,
				  tp->lrcvtime + keepidle(tp));
		return;
	}
	if (tp->probes_out >= keepcnt(tp)) {
		WP_MIB_INC(tc->pc, TCPAbortOnTimeout);
		wp__tcp_abort(tc, tp, ETIMEDOUT);
		return;
	}
	tp->probes_out++;
	WP_MIB_INC(tc->pc, TCPKeepAlive);
	wp__tcp_send_probe0(tc, tp);
	wp__tcp_timer_set(tc, tp, TCP_T_KEEPALIVE, now + keepintvl(tp));
}

static void timewait_timer(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	if (tp->state_core == WP_TCP_TIME_WAIT)
		WP_MIB_INC(tc->pc, TW);
	wp__tcp_done(tc, tp);
}

static void run_timers(struct tcp_cpu *tc)
{
	uint64_t now = tcp_now(tc);

	while (tc->heap_len && tc->heap[0]->timer_next <= now) {
		struct wp_tcp_sock *tp = tc->heap[0];

		wp_sock_hold(&tp->sk);
		for (int w = 0; w < TCP_T__MAX; w++) {
			if (tp->timer[w] > now)
				continue;
			wp__tcp_timer_clear(tc, tp, (enum tcp_timer)w);
			switch ((enum tcp_timer)w) {
			case TCP_T_RETRANS:
				retransmit_timer(tc, tp);
				break;
			case TCP_T_TXQ:
				wp__tcp_write_xmit(tc, tp);
				break;
			case TCP_T_DELACK:
				delack_timer(tc, tp);
				break;
			case TCP_T_KEEPALIVE:
				keepalive_timer(tc, tp);
				break;
			case TCP_T_TIMEWAIT:
				timewait_timer(tc, tp);
				break;
			case TCP_T__MAX:
				break;
			}
		}
		wp__tcp_update_info(tp);
		wp_sock_put(&tp->sk);
	}
}

/* --- requests from application threads
 * ----------------------------------------- */

void wp__tcp_request(struct wp_tcp_sock *tp, uint32_t req)
{
	struct tcp_cpu *tc;

	atomic_fetch_or_explicit(&tp->pending, req, memory_order_release);
	if (atomic_exchange_explicit(&tp->work_queued, true,
				     memory_order_acq_rel))
		return; /* queued already: the core will see the bits */
	tc = tcp_cpu_of(tp);
	wp_sock_hold(&tp->sk);
	pthread_mutex_lock(&tc->lock);
	tp->wnext = NULL;
	if (tc->work_tail)
		tc->work_tail->wnext = tp;
	else
		tc->work_head = tp;
	tc->work_tail = tp;
	atomic_fetch_add_explicit(&tc->nwork, 1, memory_order_relaxed);
	pthread_mutex_unlock(&tc->lock);
	/* Orders the queued socket before the core's next look at nwork
	 * (as wp_net_submit). */
	wp_cpu_kick(tc->pc->cpu);
}

/*
 * tcp_close_state: the application will send no more (shutdown(WR) or
 * close). The FIN goes after the data in the ring (write_xmit).
 */
static void close_state(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	switch (tp->state_core) {
	case WP_TCP_CLOSE:
	case WP_TCP_SYN_SENT:
		wp__tcp_done(tc, tp);
		return;
	case WP_TCP_SYN_RECV:
		tp->fin_pending = true;
		return;
	case WP_TCP_ESTABLISHED:
		wp__tcp_set_state(tc, tp, WP_TCP_FIN_WAIT1);
		break;
	case WP_TCP_CLOSE_WAIT:
		wp__tcp_set_state(tc, tp, WP_TCP_LAST_ACK);
		break;
	case WP_TCP_FIN_WAIT2:
		if (tp->dead)
			/* An orphan does not wait for the peer's FIN for
			 * ever (tcp_fin_timeout). */
			wp__tcp_timer_set(
				tc, tp, TCP_T_KEEPALIVE,
				tcp_now(tc) +
					(uint64_t)TCP_SYSCTL(
						tp->net, tcp_fin_timeout, 60) *
						WP_NSEC_PER_SEC);
		return;
	default:
		return;
	}
	wp__tcp_write_xmit(tc, tp);
}

static void core_abort(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	int st = tp->state_core;

	tp->dead = true;
	/* RFC 9293 3.10.4 ABORT: a RST in these states; none otherwise. */
	if (st == WP_TCP_ESTABLISHED || st == WP_TCP_CLOSE_WAIT ||
	    st == WP_TCP_FIN_WAIT1 || st == WP_TCP_FIN_WAIT2 ||
	    st == WP_TCP_SYN_RECV)
		wp__tcp_send_active_reset(tc, tp);
	if (st != WP_TCP_CLOSE || tp->ehashed || tp->bhashed)
		wp__tcp_done(tc, tp);
}

/*
 * tcp_rcv_space_adjust (dynamic right-sizing): once a round trip, see
 * how much the application read. When it reads more than last time,
 * grow sk_rcvbuf (toward tcp_rmem[2]) so the window can cover about two
 * round trips of what it reads: a fast reader on a long path is not held
 * to the default buffer. Not when the application set SO_RCVBUF.
 *
 * Received data stays in the NIC's buffers until read, so a window is a
 * promise of pool buffers: no socket grows past a quarter of its core's
 * pool (the rest is the RX ring's and everyone else's). A bigger ring
 * (ethtool -G) brings a bigger pool, and room for bigger windows.
 */
static void rcv_space_adjust(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct wp_sock *sk = &tp->sk;
	uint32_t seq = atomic_load(&tp->copied_seq), copied;
	uint64_t now = tc->pc->now, rcvwin, rcvbuf, pool_cap;
	struct wp_pool_stats ps;

	if (!tp->rcvq_space.time) {
		tp->rcvq_space.space = 10 * tp->advmss;
		goto measure;
	}
	if (!tp->srtt || now - tp->rcvq_space.time < tp->srtt)
		return;
	copied = seq - tp->rcvq_space.seq;
	if (copied <= tp->rcvq_space.space)
		goto measure;
	if (TCP_SYSCTL(tp->net, tcp_moderate_rcvbuf, 1) &&
	    !(atomic_load(&sk->sk_userlocks) & WP_SOCK_RCVBUF_LOCK)) {
		/* Linux: two round trips of reading, room for 16 more
		 * segments, and twice the growth again if it is growing. */
		rcvwin = 2 * (uint64_t)copied + 16 * (uint64_t)tp->advmss;
		rcvwin += 2 * (rcvwin * (copied - tp->rcvq_space.space) /
			       tp->rcvq_space.space);
		rcvbuf = (rcvwin << 8) /
			 (tp->scaling_ratio ? tp->scaling_ratio : 1);
		if (rcvbuf >
		    (uint64_t)TCP_SYSCTL(tp->net, tcp_rmem[2], 6291456))
			rcvbuf = (uint64_t)TCP_SYSCTL(tp->net, tcp_rmem[2],
						      6291456);
		wp_pool_get_stats(wp__net_pool(tc->pc), &ps);
		pool_cap = (uint64_t)ps.bufs_total / 4 *
			   (wp_pool_buf_size(wp__net_pool(tc->pc)) +
			    sizeof(struct wp_skb));
		if (rcvbuf > pool_cap)
			rcvbuf = pool_cap;
		if (rcvbuf > (uint64_t)atomic_load(&sk->sk_rcvbuf))
			atomic_store(&sk->sk_rcvbuf, (int)rcvbuf);
	}
	tp->rcvq_space.space = copied;
measure:
	tp->rcvq_space.seq = seq;
	tp->rcvq_space.time = now ? now : 1;
}

static void handle_requests(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			    uint32_t req)
{
	if (req & TCP_REQ_ABORT) {
		core_abort(tc, tp);
		return;
	}
	if ((req & TCP_REQ_CONNECT) && tp->state_core == WP_TCP_CLOSE &&
	    !(req & TCP_REQ_CLOSE)) {
		tp->state_core = WP_TCP_SYN_SENT;
		WP_MIB_INC(tc->pc, TcpActiveOpens);
		wp__tcp_send_syn(tc, tp);
		wp__tcp_arm_rto(tc, tp);
	}
	if (req & TCP_REQ_CLOSE)
		tp->dead = true;
	if (req & (TCP_REQ_SHUT_WR | TCP_REQ_CLOSE)) {
		close_state(tc, tp);
		if (tp->state_core == WP_TCP_CLOSE)
			return;
	}
	if (req & TCP_REQ_OUTPUT)
		wp__tcp_write_xmit(tc, tp);
	if (req & TCP_REQ_RCVSPACE) {
		rcv_space_adjust(tc, tp);
		/* tcp_cleanup_rbuf: tell the peer when the window we can
		 * offer has grown a lot since we last spoke (at least
		 * doubled, or reopened from below one segment). */
		uint32_t used = tp->rcv_nxt - tp->rcv_wup;
		uint32_t cur = tp->rcv_wnd > used ? tp->rcv_wnd - used : 0;
		uint32_t now = wp__tcp_space(tp);
		int st = tp->state_core;

		if ((st == WP_TCP_ESTABLISHED || st == WP_TCP_FIN_WAIT1 ||
		     st == WP_TCP_FIN_WAIT2) &&
		    now >= tp->rcv_mss && (now >= 2 * cur || cur < tp->rcv_mss))
			wp__tcp_send_ack(tc, tp);
	}
	if (req & TCP_REQ_KEEPALIVE) {
		tp->probes_out = 0;
		wp__tcp_arm_keepalive(tc, tp);
	}
}

static void drain_work(struct tcp_cpu *tc)
{
	struct wp_tcp_sock *list;
	struct wp_skb_queue q;
	struct wp_skb *skb;

	pthread_mutex_lock(&tc->lock);
	list = tc->work_head;
	tc->work_head = tc->work_tail = NULL;
	q = tc->backlog;
	wp_skb_queue_init(&tc->backlog);
	atomic_store_explicit(&tc->nwork, 0, memory_order_relaxed);
	pthread_mutex_unlock(&tc->lock);

	while ((skb = wp_skb_dequeue(&q)))
		wp__tcp_v4_rcv(tc->pc, skb);
	while (list) {
		struct wp_tcp_sock *tp = list;
		uint32_t req;

		list = tp->wnext;
		tp->wnext = NULL;
		atomic_store_explicit(&tp->work_queued, false,
				      memory_order_release);
		req = atomic_exchange_explicit(&tp->pending, 0,
					       memory_order_acq_rel);
		if (req)
			handle_requests(tc, tp, req);
		wp__tcp_update_info(tp);
		wp_sock_put(&tp->sk);
	}
}

void wp__tcp_cpu_run(struct wp_net_cpu *pc)
{
	struct tcp_cpu *tc;

	if (!pc->net->tcp)
		return;
	tc = &pc->net->tcp->pcpu[pc->id];
	if (atomic_load_explicit(&tc->nwork, memory_order_acquire))
		drain_work(tc);
	run_timers(tc);
}

uint64_t wp__tcp_next_timer(const struct wp_net_cpu *pc)
{
	const struct tcp_cpu *tc;

	if (!pc->net->tcp)
		return WP_TIME_NEVER;
	tc = &pc->net->tcp->pcpu[pc->id];
	return tc->heap_len ? tc->heap[0]->timer_next : WP_TIME_NEVER;
}

bool wp__tcp_has_work(const struct wp_net_cpu *pc)
{
	const struct tcp_cpu *tc;

	if (!pc->net->tcp)
		return false;
	tc = &pc->net->tcp->pcpu[pc->id];
	return atomic_load_explicit(&((struct tcp_cpu *)tc)->nwork,
				    memory_order_acquire) != 0;
}
