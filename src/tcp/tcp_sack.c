// SPDX-License-Identifier: MIT
/*
 * The sender's side of SACK: the scoreboard of segments in flight, the
 * SACK blocks of incoming ACKs (RFC 2018, D-SACK of RFC 2883) and
 * SACK-based loss recovery (RFC 6675), after Linux tcp_input.c
 * (tcp_sacktag_write_queue, tcp_mark_head_lost, tcp_mark_lost_retrans,
 * tcp_fastretrans_alert, tcp_enter_loss) and tcp_output.c
 * (tcp_xmit_retransmit_queue).
 *
 *   an ACK      wp__tcp_sb_clean forgets what the cumulative ACK covers;
 *               wp__tcp_sacktag validates the blocks (what lies outside
 *               snd_una..snd_nxt is counted and ignored, a D-SACK is
 *               recognised and is no news) and marks what they newly
 *               cover; wp__tcp_sack_recovery marks as lost what IsLost
 *               says is, spots lost retransmissions and enters recovery
 *               on DupThresh duplicate ACKs or IsLost(snd_una).
 *   output      wp__tcp_write_xmit sends by RFC 6675 NextSeg: the lost
 *               segments (rule 1, wp__tcp_xmit_lost), new data (rule 2),
 *               then rules 3 and 4 (wp__tcp_xmit_recovery_tail), while
 *               cwnd - pipe >= 1 SMSS. Every hole the window has room for
 *               goes in the same round trip, not one per round trip as
 *               NewReno's partial ACKs allow.
 *   RTO         wp__tcp_sb_enter_loss: everything not SACKed is lost and
 *               goes again as the window reopens; SACKed data is not
 *               resent (unless the receiver reneged: then it all is).
 *
 * A peer without SACK keeps NewReno (tcp_input.c); the scoreboard then
 * carries only the RTO's lost marks.
 *
 * Costs: an ACK's blocks are found by binary search (O(log n) each); the
 * loss marking walks from the highest SACKed segment down to where it
 * stopped last time, so each segment is marked once; the rule 1 scan
 * resumes from a hint. A walk of the whole window happens at an RTO and
 * when a lost retransmission may be detected (as Linux's did).
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* --- the scoreboard
 * ------------------------------------------------------------ */

int wp__tcp_sb_alloc(struct wp_tcp_sock *tp)
{
	uint32_t want = umax32(tp->snd_size / TCP_SB_BYTES, TCP_SB_MIN);
	uint32_t cap = TCP_SB_MIN;

	while (cap < want && cap < (1u << 30))
		cap <<= 1;
	tp->sb.seg = calloc(cap, sizeof(*tp->sb.seg));
	if (!tp->sb.seg)
		return -ENOMEM;
	tp->sb.cap = cap;
	return 0;
}

int wp__tcp_sb_grow(struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t want = umax32(tp->snd_size / TCP_SB_BYTES, TCP_SB_MIN);
	uint32_t cap = sb->cap;
	struct tcp_sb_seg *seg;

	if (!sb->seg)
		return 0; /* none yet: the first segment makes it this size */
	while (cap < want && cap < (1u << 30))
		cap <<= 1;
	if (cap == sb->cap)
		return 0;
	seg = calloc(cap, sizeof(*seg));
	if (!seg)
		return -ENOMEM;
	/* Same free-running indices, new mask. */
	for (uint32_t i = sb->head; i != sb->tail; i++)
		seg[i & (cap - 1)] = *tcp_sb_at(sb, i);
	free(sb->seg);
	sb->seg = seg;
	sb->cap = cap;
	return 0;
}

void wp__tcp_sb_reset(struct wp_tcp_sock *tp)
{
	struct tcp_sb_seg *seg = tp->sb.seg;
	uint32_t cap = tp->sb.cap;

	memset(&tp->sb, 0, sizeof(tp->sb));
	tp->sb.seg = seg;
	tp->sb.cap = cap;
	tp->sb.highest_sack = tp->snd_una;
	tp->sb.lost_mark = tp->snd_una;
	tp->sb.lost_high = tp->snd_una;
	tp->sb.rtx_hint = tp->snd_una;
	tp->sb.retrans_low = tp->snd_una;
}

void wp__tcp_sb_free(struct wp_tcp_sock *tp)
{
	free(tp->sb.seg);
	tp->sb.seg = NULL;
	tp->sb.cap = 0;
	tp->sb.head = tp->sb.tail = 0;
}

static uint32_t seg_len(const struct tcp_sb_seg *e)
{
	return e->end_seq - e->seq;
}

/* Set or clear one of SACKED, LOST, RETRANS, keeping the counts. */
static void sb_set(struct tcp_scoreboard *sb, struct tcp_sb_seg *e,
		   uint8_t flag)
{
	uint32_t len = seg_len(e);

	if (e->flags & flag)
		return;
	e->flags |= flag;
	switch (flag) {
	case TCP_SB_SACKED:
		sb->sacked_bytes += len;
		sb->sacked_segs++;
		break;
	case TCP_SB_LOST:
		sb->lost_bytes += len;
		sb->lost_segs++;
		if (after(e->end_seq, sb->lost_high))
			sb->lost_high = e->end_seq;
		if (before(e->seq, sb->rtx_hint))
			sb->rtx_hint = e->seq;
		break;
	case TCP_SB_RETRANS:
		sb->retrans_bytes += len;
		sb->retrans_segs++;
		break;
	default:
		break;
	}
}

static void sb_clear(struct tcp_scoreboard *sb, struct tcp_sb_seg *e,
		     uint8_t flag)
{
	uint32_t len = seg_len(e);

	if (!(e->flags & flag))
		return;
	e->flags &= (uint8_t)~flag;
	switch (flag) {
	case TCP_SB_SACKED:
		sb->sacked_bytes -= len;
		sb->sacked_segs--;
		break;
	case TCP_SB_LOST:
		sb->lost_bytes -= len;
		sb->lost_segs--;
		break;
	case TCP_SB_RETRANS:
		sb->retrans_bytes -= len;
		sb->retrans_segs--;
		break;
	default:
		break;
	}
}

void wp__tcp_sb_push(struct wp_tcp_sock *tp, uint32_t seq, uint32_t end_seq,
		     bool fin)
{
	struct tcp_scoreboard *sb = &tp->sb;
	struct tcp_sb_seg *e = tcp_sb_at(sb, sb->tail++);

	e->seq = seq;
	e->end_seq = end_seq;
	e->rtx_nxt = 0;
	e->flags = fin ? TCP_SB_FIN : 0;
}

void wp__tcp_sb_clean(struct wp_tcp_sock *tp, uint32_t ack)
{
	struct tcp_scoreboard *sb = &tp->sb;

	while (sb->head != sb->tail) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, sb->head);
		uint32_t d;

		if (!after(e->end_seq, ack)) {
			sb_clear(sb, e, TCP_SB_SACKED);
			sb_clear(sb, e, TCP_SB_LOST);
			sb_clear(sb, e, TCP_SB_RETRANS);
			sb->head++;
			continue;
		}
		if (!after(ack, e->seq))
			break;
		/* Part of the segment acked (tcp_trim_head): the counts
		 * keep only what is left of it. */
		d = ack - e->seq;
		if (e->flags & TCP_SB_SACKED)
			sb->sacked_bytes -= d;
		if (e->flags & TCP_SB_LOST)
			sb->lost_bytes -= d;
		if (e->flags & TCP_SB_RETRANS)
			sb->retrans_bytes -= d;
		e->seq = ack;
		break;
	}
	/* The marks never lag snd_una, so they compare modulo 2^32. */
	if (!sb->sacked_segs || before(sb->highest_sack, ack))
		sb->highest_sack = ack;
	if (before(sb->lost_mark, ack))
		sb->lost_mark = ack;
	if (before(sb->lost_high, ack))
		sb->lost_high = ack;
	if (before(sb->rtx_hint, ack))
		sb->rtx_hint = ack;
	if (!sb->retrans_segs || before(sb->retrans_low, ack))
		sb->retrans_low = ack;
}

/* The first segment that ends after seq (seq >= snd_una); tail if none.
 * O(log n): the segments are contiguous and in order. */
static uint32_t sb_find(const struct wp_tcp_sock *tp, uint32_t seq)
{
	const struct tcp_scoreboard *sb = &tp->sb;
	uint32_t lo = sb->head, hi = sb->tail;
	uint32_t off = seq - tp->snd_una;

	while (lo != hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (tcp_sb_at(sb, mid)->end_seq - tp->snd_una > off)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

uint32_t wp__tcp_dupthresh(const struct wp_tcp_sock *tp)
{
	uint32_t mss = tp->mss_cache ? tp->mss_cache : 1;
	uint32_t segs = (tp->snd_max - tp->snd_una + mss - 1) / mss;
	uint32_t base = tp->reordering ? tp->reordering : 3;

	/* RFC 5827 early retransmit: with fewer segments out than the
	 * threshold and nothing new to send, enough duplicates never
	 * come; oseg - 1 of them do. */
	if (segs > base || after(tcp_write_seq(tp), tp->snd_max))
		return base;
	return segs > 1 ? segs - 1 : 1;
}

/* --- SACK blocks
 * --------------------------------------------------------------- */

/*
 * RFC 2883 4: the first block is a D-SACK if it lies below the cumulative
 * ACK, or inside the second block (Linux tcp_check_dsack). A D-SACK
 * covering more than we ever retransmitted is dubious (a receiver lying
 * or broken: tcp_dsack_seen) and is then treated as a plain block.
 */
static bool check_dsack(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			const struct wp_tcp_opts *o, uint32_t ack)
{
	uint32_t s0 = o->sack[0].start, e0 = o->sack[0].end;
	uint32_t mss = tp->mss_cache ? tp->mss_cache : 1;
	uint32_t dups;

	if (before(s0, ack)) {
		WP_MIB_INC(tc->pc, TCPDSACKRecv);
	} else if (o->nr_sack > 1) {
		if (after(e0, o->sack[1].end) || before(s0, o->sack[1].start))
			return false;
		WP_MIB_INC(tc->pc, TCPDSACKOfoRecv);
	} else {
		return false;
	}
	if (!before(s0, e0) || e0 - s0 > umax32(tp->max_window, 65535)) {
		WP_MIB_INC(tc->pc, TCPDSACKIgnoredDubious);
		return false;
	}
	dups = (e0 - s0 + mss - 1) / mss;
	tp->sb.dsack_dups += dups;
	if (tp->sb.dsack_dups > tp->total_retrans) {
		WP_MIB_INC(tc->pc, TCPDSACKIgnoredDubious);
		return false;
	}
	WP_MIB_ADD(tc->pc, TCPDSACKRecvSegs, dups);
	return true;
}

/*
 * Linux tcp_is_sackblock_valid: a block is news only inside
 * (snd_una, snd_nxt]; a D-SACK may lie below snd_una, but not below the
 * start of the last recovery (we could not have sent it twice).
 */
static bool block_valid(const struct wp_tcp_sock *tp, bool dsack,
			uint32_t start, uint32_t end)
{
	const struct tcp_scoreboard *sb = &tp->sb;

	if (after(end, tp->snd_nxt) || !before(start, end))
		return false;
	if (!before(start, tp->snd_nxt))
		return false;
	if (after(start, tp->snd_una))
		return true;
	if (!dsack || !sb->undo_valid)
		return false;
	if (after(end, tp->snd_una))
		return false;
	if (!before(start, sb->undo_marker))
		return true;
	if (!after(end, sb->undo_marker))
		return false;
	return !before(start, end - tp->max_window);
}

/*
 * Mark the segments [start, end) wholly covers. A segment covered only in
 * part stays unmarked (Linux would split its skb; ours are cut at the MSS
 * the receiver acknowledges by, so that happens only after the MSS
 * shrank): the scoreboard then errs on the side of resending. *reord
 * gets the lowest newly SACKed segment that was never retransmitted yet
 * lies below data SACKed before: it arrived late, not lost.
 */
static bool tag_range(struct wp_tcp_sock *tp, uint32_t start, uint32_t end,
		      uint32_t *reord)
{
	struct tcp_scoreboard *sb = &tp->sb;
	bool news = false;

	for (uint32_t i = sb_find(tp, start); i != sb->tail; i++) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		if (!before(e->seq, end))
			break;
		if (before(e->seq, start) || after(e->end_seq, end) ||
		    (e->flags & TCP_SB_SACKED))
			continue;
		if (e->flags & TCP_SB_RETRANS)
			sb_clear(sb, e, TCP_SB_RETRANS);
		else if (!(e->flags & TCP_SB_EVER_RETRANS) &&
			 before(e->seq, sb->highest_sack) &&
			 before(e->seq, *reord))
			*reord = e->seq;
		sb_clear(sb, e, TCP_SB_LOST);
		sb_set(sb, e, TCP_SB_SACKED);
		if (after(e->end_seq, sb->highest_sack))
			sb->highest_sack = e->end_seq;
		news = true;
	}
	return news;
}

/* Linux tcp_check_sack_reordering: data came later than data sent after
 * it; DupThresh grows to the distance seen (bounded by
 * net.ipv4.tcp_max_reordering) so reordering is not taken for loss. */
static void check_reordering(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			     uint32_t low_seq)
{
	uint32_t mss = tp->mss_cache ? tp->mss_cache : 1;
	uint32_t fack = tp->sb.highest_sack;
	uint32_t metric, max;

	if (!before(low_seq, fack))
		return;
	metric = fack - low_seq;
	if (metric > tp->reordering * mss) {
		max = (uint32_t)TCP_SYSCTL(tp->net, tcp_max_reordering, 300);
		tp->reordering = umin32((metric + mss - 1) / mss, max);
	}
	WP_MIB_INC(tc->pc, TCPSACKReorder);
}

uint32_t wp__tcp_sacktag(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 const struct wp_tcp_repr *th)
{
	const struct wp_tcp_opts *o = &th->opts;
	struct wp_tcp_sack_block b[WP_TCP_SACK_MAX];
	uint32_t ack = th->ack_seq, n = 0, flag = 0;
	uint32_t reord = tp->snd_nxt;
	bool dsack;

	if (!o->nr_sack || !tp->sb.seg)
		return 0;
	dsack = check_dsack(tc, tp, o, ack);
	if (dsack)
		flag |= TCP_SACK_DSACK;
	for (uint32_t i = 0; i < o->nr_sack && i < WP_TCP_SACK_MAX; i++) {
		uint32_t start = o->sack[i].start, end = o->sack[i].end;
		bool dup = dsack && i == 0;

		if (!block_valid(tp, dup, start, end)) {
			if (dup) {
				if (tp->sb.undo_valid)
					WP_MIB_INC(tc->pc, TCPDSACKIgnoredOld);
				else
					WP_MIB_INC(tc->pc,
						   TCPDSACKIgnoredNoUndo);
			} else if (ack == tp->snd_una ||
				   after(end, tp->snd_una)) {
				/* An old ACK overtaken by newer ones may
				 * carry old blocks: not counted. */
				WP_MIB_INC(tc->pc, TCPSACKDiscard);
			}
			continue;
		}
		/* A D-SACK reports data received twice: no news about
		 * what is missing. */
		if (dup)
			continue;
		b[n++] = o->sack[i];
	}
	/* Lowest first, so "SACKed before" means below in this ACK too. */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && after(b[j - 1].start, b[j].start);
		     j--) {
			struct wp_tcp_sack_block t = b[j];

			b[j] = b[j - 1];
			b[j - 1] = t;
		}
	for (uint32_t i = 0; i < n; i++)
		if (tag_range(tp, b[i].start, b[i].end, &reord))
			flag |= TCP_SACK_NEW;
	if (reord != tp->snd_nxt)
		check_reordering(tc, tp, reord);
	return flag;
}

/* --- loss marking
 * -------------------------------------------------------------- */

/*
 * RFC 6675 IsLost, applied to every segment: one not SACKed is lost when
 * DupThresh segments, or more than (DupThresh - 1) * SMSS bytes, above it
 * are SACKed. That holds for everything below the first segment it
 * holds for, so the walk goes down from the highest SACKed segment and
 * stops where the last walk stopped (lost_mark): each segment is marked
 * once, and an ACK costs the segments between the two marks.
 */
static void mark_lost(struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t thresh = wp__tcp_dupthresh(tp);
	uint32_t tbytes = (thresh - 1) * tp->mss_cache;
	uint32_t lo, cnt = 0, bytes = 0, mark = 0, i;
	bool hit = false;

	if (!sb->sacked_segs || sb->head == sb->tail)
		return;
	lo = after(sb->lost_mark, tp->snd_una) ? sb->lost_mark : tp->snd_una;
	i = sb_find(tp, sb->highest_sack - 1);
	if (i == sb->tail)
		return;
	for (;;) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		if (!after(e->end_seq, lo))
			break;
		if (e->flags & TCP_SB_SACKED) {
			cnt++;
			bytes += seg_len(e);
		} else if (hit || cnt >= thresh || bytes > tbytes) {
			if (!hit) {
				hit = true;
				mark = e->end_seq;
			}
			sb_set(sb, e, TCP_SB_LOST);
		} else if (cnt == sb->sacked_segs) {
			break; /* every SACKed segment is above: none below */
		}
		if (i == sb->head)
			break;
		i--;
	}
	if (hit && after(mark, sb->lost_mark))
		sb->lost_mark = mark;
}

/*
 * Linux tcp_mark_lost_retrans: a retransmission is lost when something
 * sent after it has been SACKed (the path delivers in order), so it is
 * lost again and may go once more, rather than wait for the RTO.
 */
static void mark_lost_retrans(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t todo = sb->retrans_segs, low = tp->snd_nxt;

	if (!todo || !after(sb->highest_sack, sb->retrans_low))
		return;
	for (uint32_t i = sb->head; i != sb->tail && todo; i++) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		if (!(e->flags & TCP_SB_RETRANS))
			continue;
		todo--;
		if (after(sb->highest_sack, e->rtx_nxt)) {
			sb_clear(sb, e, TCP_SB_RETRANS);
			sb_set(sb, e, TCP_SB_LOST);
			if (before(e->seq, sb->rtx_hint))
				sb->rtx_hint = e->seq;
			WP_MIB_INC(tc->pc, TCPLostRetransmit);
		} else if (before(e->rtx_nxt, low)) {
			low = e->rtx_nxt;
		}
	}
	sb->retrans_low = low;
}

/* --- retransmission
 * ------------------------------------------------------------ */

/* Send e again; `mark`: it counts in pipe as a retransmission in flight
 * (not for RFC 6675's rescue, which leaves HighRxt alone). */
static int sb_retransmit(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			 struct tcp_sb_seg *e, bool mark)
{
	struct tcp_scoreboard *sb = &tp->sb;
	bool head = e == tcp_sb_at(sb, sb->head);
	int ret = wp__tcp_retransmit_seg(tc, tp, e);

	if (ret)
		return ret;
	e->flags |= TCP_SB_EVER_RETRANS;
	if (!mark)
		return 0;
	if (!sb->retrans_segs || before(tp->snd_nxt, sb->retrans_low))
		sb->retrans_low = tp->snd_nxt;
	e->rtx_nxt = tp->snd_nxt;
	sb_set(sb, e, TCP_SB_RETRANS);
	/* The head went again: its timer starts over (Linux rearms the
	 * RTO when the head of the retransmit queue is resent). */
	if (head && tp->timer[TCP_T_RETRANS] != WP_TIME_NEVER &&
	    tp->rtx_kind == TCP_RTX_RTO)
		wp__tcp_arm_rto(tc, tp);
	return 0;
}

/* RFC 6675 (C): another segment only while cwnd - pipe >= 1 SMSS. */
static bool cwnd_room(const struct wp_tcp_sock *tp)
{
	return tcp_pipe(tp) + tp->mss_cache <= tp->cwnd;
}

static void count_retrans(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	if (tp->ca_state == TCP_CA_LOSS)
		WP_MIB_INC(tc->pc, TCPSlowStartRetrans);
	else
		WP_MIB_INC(tc->pc, TCPFastRetrans);
}

int wp__tcp_xmit_lost(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t from, i;

	if (!sb->lost_segs || sb->head == sb->tail)
		return 0;
	from = after(sb->rtx_hint, tp->snd_una) ? sb->rtx_hint : tp->snd_una;
	for (i = sb_find(tp, from); i != sb->tail; i++) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);
		int ret;

		if (!before(e->seq, sb->lost_high))
			break;
		if ((e->flags & (TCP_SB_LOST | TCP_SB_SACKED |
				 TCP_SB_RETRANS)) != TCP_SB_LOST)
			continue;
		if (!cwnd_room(tp)) {
			sb->rtx_hint = e->seq;
			return 0;
		}
		if (wp__tcp_tx_room(tc->pc) <= TCP_TXQ_RESERVE) {
			sb->rtx_hint = e->seq;
			return -ENOBUFS;
		}
		ret = sb_retransmit(tc, tp, e, true);
		if (ret) {
			sb->rtx_hint = e->seq;
			return ret;
		}
		count_retrans(tc, tp);
	}
	sb->rtx_hint = i == sb->tail ? tp->snd_nxt : tcp_sb_at(sb, i)->seq;
	return 0;
}

void wp__tcp_xmit_recovery_tail(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t from, i;
	bool sent = false;

	if (tp->ca_state != TCP_CA_RECOVERY || !tp->rx_opt.sack_ok ||
	    sb->head == sb->tail || !cwnd_room(tp))
		return;
	/* Rule 3: not lost (yet), not retransmitted, below the highest
	 * SACK: a hole IsLost does not condemn, filled while there is
	 * room. Below lost_mark every such segment is lost: rule 1's. */
	from = after(sb->lost_mark, tp->snd_una) ? sb->lost_mark : tp->snd_una;
	for (i = sb_find(tp, from); i != sb->tail && cwnd_room(tp); i++) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		if (!before(e->seq, sb->highest_sack))
			break;
		if (e->flags & (TCP_SB_SACKED | TCP_SB_LOST | TCP_SB_RETRANS))
			continue;
		if (wp__tcp_tx_room(tc->pc) <= TCP_TXQ_RESERVE ||
		    sb_retransmit(tc, tp, e, true))
			return;
		count_retrans(tc, tp);
		sent = true;
	}
	/* Rule 4: once per recovery, the highest segment not SACKed, so a
	 * loss at the tail of the window gets its SACKs without an RTO. */
	if (sent || sb->rescue_done || !cwnd_room(tp))
		return;
	for (i = sb->tail; i != sb->head; i--) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i - 1);

		if (e->flags & TCP_SB_SACKED)
			continue;
		if (e->flags & TCP_SB_RETRANS)
			return;
		if (wp__tcp_tx_room(tc->pc) <= TCP_TXQ_RESERVE ||
		    sb_retransmit(tc, tp, e, false))
			return;
		count_retrans(tc, tp);
		sb->rescue_done = true;
		return;
	}
}

int wp__tcp_retransmit_at(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			  uint32_t seq)
{
	struct tcp_scoreboard *sb = &tp->sb;
	uint32_t i;
	int ret;

	if (!sb->seg || before(seq, tp->snd_una))
		return 0;
	i = sb_find(tp, seq);
	if (i == sb->tail)
		return 0;
	ret = wp__tcp_retransmit_seg(tc, tp, tcp_sb_at(sb, i));
	if (!ret)
		tcp_sb_at(sb, i)->flags |= TCP_SB_EVER_RETRANS;
	return ret;
}

/* --- recovery
 * ------------------------------------------------------------------ */

/* RFC 6675 5: fast retransmit and the start of loss recovery. */
static void enter_recovery(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	struct tcp_sb_seg *head = tcp_sb_at(sb, sb->head);

	tp->prior_cwnd = tp->cwnd;
	tp->ssthresh = tp->cc->ssthresh(tp); /* (4.2) */
	tp->cc->event(tp, CA_EVENT_RECOVERY);
	tp->recover = tp->snd_max; /* (4.1) RecoveryPoint = HighData */
	tp->ca_state = TCP_CA_RECOVERY;
	tp->cwnd = tp->ssthresh;
	sb->undo_marker = tp->snd_una;
	sb->undo_valid = true;
	sb->rescue_done = false;
	WP_MIB_INC(tc->pc, TCPSackRecovery);
	/* (4.3) The first segment presumed dropped goes now, whatever pipe
	 * says: on DupThresh duplicates it is lost even if IsLost cannot
	 * tell yet (small segments). */
	if (!(head->flags & TCP_SB_SACKED)) {
		sb_set(sb, head, TCP_SB_LOST);
		if (after(head->end_seq, sb->lost_mark))
			sb->lost_mark = head->end_seq;
	}
	if ((head->flags & (TCP_SB_LOST | TCP_SB_RETRANS)) == TCP_SB_LOST &&
	    !sb_retransmit(tc, tp, head, true))
		WP_MIB_INC(tc->pc, TCPFastRetrans);
}

void wp__tcp_sack_recovery(struct tcp_cpu *tc, struct wp_tcp_sock *tp,
			   uint32_t flag)
{
	struct tcp_scoreboard *sb = &tp->sb;
	struct tcp_sb_seg *head;

	if (!sb->seg || sb->head == sb->tail)
		return;
	if (flag & TCP_SACK_NEW) {
		/* RFC 6675 2: an ACK with new SACK information is a
		 * duplicate ACK. */
		tp->dupacks++;
		mark_lost(tp);
		mark_lost_retrans(tc, tp);
	}
	head = tcp_sb_at(sb, sb->head);
	if (head->flags & TCP_SB_SACKED) {
		/* The receiver SACKed what it does not acknowledge: it
		 * dropped data it had SACKed (RFC 2018 8). Wait a little
		 * for the ACK, then time out and resend it all (Linux
		 * tcp_check_sack_reneging). */
		uint64_t d = umax32((uint32_t)(tp->srtt / 2),
				    (uint32_t)(10 * WP_NSEC_PER_MSEC));
		uint64_t when = tc->pc->now + d;

		if (tp->timer[TCP_T_RETRANS] > when) {
			tp->rtx_kind = TCP_RTX_RTO;
			wp__tcp_timer_set(tc, tp, TCP_T_RETRANS, when);
		}
		return;
	}
	if (tp->ca_state == TCP_CA_RECOVERY || tp->ca_state == TCP_CA_LOSS)
		return;
	if (!sb->lost_segs && tp->dupacks < wp__tcp_dupthresh(tp)) {
		if (tp->ca_state == TCP_CA_OPEN && sb->sacked_segs)
			tp->ca_state = TCP_CA_DISORDER;
		return;
	}
	/* RFC 6675 5: not before the previous recovery's RecoveryPoint is
	 * acknowledged (that window's losses are being repaired). */
	if (before(tp->snd_una, tp->recover))
		return;
	enter_recovery(tc, tp);
}

void wp__tcp_sb_enter_loss(struct tcp_cpu *tc, struct wp_tcp_sock *tp)
{
	struct tcp_scoreboard *sb = &tp->sb;
	bool reneg;

	if (!sb->seg || sb->head == sb->tail)
		return;
	reneg = tcp_sb_at(sb, sb->head)->flags & TCP_SB_SACKED;
	if (reneg)
		WP_MIB_INC(tc->pc, TCPSACKReneging);
	for (uint32_t i = sb->head; i != sb->tail; i++) {
		struct tcp_sb_seg *e = tcp_sb_at(sb, i);

		if (reneg)
			sb_clear(sb, e, TCP_SB_SACKED);
		if (e->flags & TCP_SB_SACKED)
			continue;
		/* A retransmission that was itself presumed lost. */
		if ((e->flags & (TCP_SB_LOST | TCP_SB_RETRANS)) ==
		    (TCP_SB_LOST | TCP_SB_RETRANS))
			WP_MIB_INC(tc->pc, TCPLostRetransmit);
		sb_clear(sb, e, TCP_SB_RETRANS);
		sb_set(sb, e, TCP_SB_LOST);
	}
	if (reneg || !sb->sacked_segs)
		sb->highest_sack = tp->snd_una;
	sb->lost_mark = tp->snd_nxt;
	sb->rtx_hint = tp->snd_una;
	sb->undo_marker = tp->snd_una;
	sb->undo_valid = true;
	tp->dupacks = 0;
	/* The oldest segment goes now (the RTO's own retransmission). */
	sb_retransmit(tc, tp, tcp_sb_at(sb, sb->head), true);
}
