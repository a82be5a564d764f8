// SPDX-License-Identifier: MIT
/*
 * Congestion control, pluggable (Linux tcp_cong.c): NewReno (RFC 5681,
 * RFC 6582 recovery in tcp_input.c) and CUBIC (RFC 9438). Both grow by
 * slow start below ssthresh with appropriate byte counting (RFC 3465,
 * L = 2 SMSS) and only while the window is what limits the sender.
 * Quantities in bytes; CUBIC computes in segments and seconds, as its RFC
 * writes them.
 */
#include "tcp/tcp_priv.h"

#include <math.h>
#include <string.h>

/* The window limited the sender before this ACK (Linux
 * tcp_is_cwnd_limited): growing it when the application is the limit
 * would make it meaningless. */
static bool cwnd_limited(const struct wp_tcp_sock *tp, uint32_t acked)
{
	uint32_t flight = tp->snd_max - tp->snd_una + acked;

	if (tp->cwnd < tp->ssthresh)
		return flight * 2 >= tp->cwnd;
	return flight + tp->mss_cache >= tp->cwnd;
}

static uint32_t slow_start(struct wp_tcp_sock *tp, uint32_t acked)
{
	uint32_t inc = umin32(acked, 2 * tp->mss_cache);
	uint32_t cwnd = tp->cwnd + inc;

	if (cwnd > tp->ssthresh)
		cwnd = umax32(tp->ssthresh, tp->cwnd);
	inc = cwnd - tp->cwnd;
	tp->cwnd = cwnd;
	return acked > inc ? acked - inc : 0;
}

/* --- NewReno
 * ------------------------------------------------------------------ */

static void reno_init(struct wp_tcp_sock *tp)
{
	tp->bytes_acked_ca = 0;
}

static uint32_t reno_ssthresh(struct wp_tcp_sock *tp)
{
	/* RFC 5681 eq. 4: max(FlightSize / 2, 2 * SMSS) */
	uint32_t flight = tp->snd_max - tp->snd_una;

	return umax32(flight / 2, 2 * tp->mss_cache);
}

static void reno_cong_avoid(struct wp_tcp_sock *tp, uint32_t acked)
{
	if (!cwnd_limited(tp, acked))
		return;
	if (tp->cwnd < tp->ssthresh) {
		acked = slow_start(tp, acked);
		if (!acked)
			return;
	}
	/* RFC 5681 3.1 congestion avoidance: one SMSS per window acked. */
	tp->bytes_acked_ca += acked;
	if (tp->bytes_acked_ca >= tp->cwnd) {
		tp->bytes_acked_ca -= tp->cwnd;
		tp->cwnd += tp->mss_cache;
	}
}

static void reno_event(struct wp_tcp_sock *tp, enum tcp_ca_event ev)
{
	(void)ev;
	tp->bytes_acked_ca = 0;
}

const struct tcp_cc_ops wp__tcp_reno = {
	.name = "reno",
	.init = reno_init,
	.ssthresh = reno_ssthresh,
	.cong_avoid = reno_cong_avoid,
	.event = reno_event,
};

/* --- CUBIC (RFC 9438)
 * --------------------------------------------------------- */

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7
/* RFC 9438 4.3: alpha_cubic = 3 (1 - beta) / (1 + beta) */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

static void cubic_init(struct wp_tcp_sock *tp)
{
	memset(&tp->cubic, 0, sizeof(tp->cubic));
	tp->bytes_acked_ca = 0;
}

static uint32_t cubic_ssthresh(struct wp_tcp_sock *tp)
{
	struct tcp_cubic *c = &tp->cubic;
	uint32_t mss = tp->mss_cache;
	uint32_t cwnd = tp->cwnd;

	c->epoch_start = 0;
	/* 4.7 fast convergence: give up bandwidth to newer flows. */
	if (cwnd < c->w_last_max)
		c->w_last_max = (uint32_t)(cwnd * (1.0 + CUBIC_BETA) / 2.0);
	else
		c->w_last_max = cwnd;
	c->w_max = c->w_last_max;
	/* 4.6: ssthresh = cwnd * beta (of the flight, as a window). */
	return umax32((uint32_t)(umin32(cwnd, tp->snd_max - tp->snd_una + mss) *
				 CUBIC_BETA),
		      2 * mss);
}

static void cubic_cong_avoid(struct wp_tcp_sock *tp, uint32_t acked)
{
	struct tcp_cubic *c = &tp->cubic;
	double mss = tp->mss_cache, t, k, w_cubic, target, cwnd_seg;
	uint64_t now = tp->net->pcpu[tp->sk.sk_cpu].now;
	double rtt = tp->srtt ? (double)tp->srtt / 1e9 : 0.1;

	if (!cwnd_limited(tp, acked))
		return;
	if (tp->cwnd < tp->ssthresh) {
		acked = slow_start(tp, acked);
		if (!acked)
			return;
	}
	cwnd_seg = tp->cwnd / mss;
	if (!c->epoch_start) {
		/* 4.2: a new congestion-avoidance epoch. */
		c->epoch_start = now ? now : 1;
		c->cwnd_origin = tp->cwnd;
		c->w_est = tp->cwnd;
		if (c->w_max <= tp->cwnd) {
			c->k = 0;
			c->w_max = tp->cwnd;
		} else {
			c->k = cbrt((c->w_max - tp->cwnd) / mss / CUBIC_C);
		}
	}
	t = (double)(now - c->epoch_start) / 1e9;
	k = c->k;
	/* 4.2 eq. 1 at t + RTT: where the window should be one RTT on. */
	w_cubic = CUBIC_C * pow(t + rtt - k, 3.0) + c->w_max / mss;
	/* 4.3: the Reno-friendly estimate grows alpha per window acked. */
	c->w_est += (uint32_t)(CUBIC_ALPHA * mss * acked / tp->cwnd);
	if (w_cubic * mss < c->w_est) {
		tp->cwnd = umax32(tp->cwnd, c->w_est);
		return;
	}
	/* 4.4/4.5: move toward the target, at most 1.5 cwnd. */
	target = w_cubic;
	if (target > 1.5 * cwnd_seg)
		target = 1.5 * cwnd_seg;
	if (target > cwnd_seg) {
		c->ack_bytes += acked;
		/* cwnd += (target - cwnd) / cwnd per segment acked */
		double inc = (target - cwnd_seg) / cwnd_seg * c->ack_bytes;

		if (inc >= 1.0) {
			tp->cwnd += (uint32_t)inc;
			c->ack_bytes = 0;
		}
	}
}

static void cubic_event(struct wp_tcp_sock *tp, enum tcp_ca_event ev)
{
	if (ev == CA_EVENT_LOSS || ev == CA_EVENT_IDLE_RESTART)
		tp->cubic.epoch_start = 0;
	tp->cubic.ack_bytes = 0;
}

const struct tcp_cc_ops wp__tcp_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.ssthresh = cubic_ssthresh,
	.cong_avoid = cubic_cong_avoid,
	.event = cubic_event,
};

const struct tcp_cc_ops *wp__tcp_cc_find(const char *name)
{
	if (!strcmp(name, "reno") || !strcmp(name, "newreno"))
		return &wp__tcp_reno;
	if (!strcmp(name, "cubic"))
		return &wp__tcp_cubic;
	return NULL;
}
