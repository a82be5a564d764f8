/* SPDX-License-Identifier: MIT */
/*
 * Two stacks joined by a virtual wire, in one process, on one virtual
 * clock (smoltcp's netsim): what A transmits arrives at B and the other
 * way round, through a wire that loses, duplicates, reorders, corrupts,
 * delays and rate-limits frames as a seeded PRNG decides. The same
 * configurations, seed and calls give the same run, frame for frame.
 *
 *   wp_pair_impairments_default(&imp); imp.a_to_b.loss_pct = 1; ...
 *   p = wp_stack_pair_create(&cfg_a, &cfg_b, &imp, err, sizeof(err));
 *   wp_stack_pair_run_until(p, t_ns) as often as needed
 *   wp_stack_pair_a(p), wp_stack_pair_b(p): the two stacks
 *   wp_stack_pair_destroy(p);
 *
 * Each direction is its own link (the knobs of Linux netem), with its own
 * PRNG stream: what happens to A->B frames depends only on the seed and
 * on A->B traffic, never on B->A traffic.
 *
 * Fate of a frame the sender's NIC transmits, in this order:
 *   1. four PRNG draws, always (so frame n's fate depends only on n);
 *   2. `limit` frames already in flight: dropped (wire_full), the
 *      transmitter stays idle;
 *   3. serialization: with a rate, the transmitter is busy for
 *      (max(len, 60) + 24) * 8 / rate_bps seconds (FCS, preamble, SFD and
 *      inter-frame gap as on Ethernet), after the frames before it;
 *   4. lost: it was serialized, it never arrives;
 *   5. arrival = end of serialization + delay + jitter, but never before
 *      the frame ahead of it (jitter does not reorder); reordered: held
 *      back reorder_ns more, so later frames overtake it;
 *   6. corrupted: one random bit of one random byte flipped (headers
 *      included, so every checksum gets exercised);
 *   7. duplicated: a second copy of what went on the wire arrives right
 *      after it (it needs room on the wire too, or counts wire_full).
 * So per direction: tx_packets + duplicated ==
 *   lost + wire_full + oversize + delivered + in_flight.
 *
 * Virtual time only: the pair has no real-time mode (its backend's
 * start() is -ENOTSUP). Single-threaded: every call from one thread.
 */
#ifndef WIREPATH_PAIR_H
#define WIREPATH_PAIR_H

#include <stdint.h>
#include <stdio.h>

#include "wirepath/stack.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WP_PAIR_LIMIT_DEFAULT 1000 /* frames in flight (netem's limit) */
#define WP_PAIR_LIMIT_MAX 16384
#define WP_PAIR_TIME_MAX_NS 3600000000000ULL  /* delay, jitter, reorder: 1 h */
#define WP_PAIR_REORDER_DEFAULT_NS 1000000ULL /* 1 ms */
#define WP_PAIR_WIRE_OVERHEAD 24 /* FCS 4 + preamble and SFD 8 + IFG 12 */
#define WP_PAIR_FRAME_MIN 60	 /* shorter frames are padded on the wire */

enum wp_pair_dir {
	WP_PAIR_A_TO_B,
	WP_PAIR_B_TO_A,
};

/* One direction of the wire. Percentages are 0..100 (fractions allowed). */
struct wp_pair_link {
	double loss_pct;      /* lost on the wire */
	double duplicate_pct; /* a second copy arrives right after it */
	double reorder_pct;   /* held back reorder_ns: later frames overtake */
	double corrupt_pct;   /* one bit of one byte flipped */
	uint64_t delay_ns;    /* propagation delay */
	uint64_t jitter_ns;   /* + uniform 0..jitter_ns; never reorders */
	uint64_t reorder_ns;  /* hold-back of a reordered frame */
	uint64_t rate_bps;    /* bits per second; 0: no serialization time */
	uint32_t limit;	      /* frames in flight, 1..WP_PAIR_LIMIT_MAX */
};

struct wp_pair_impairments {
	uint64_t seed;
	struct wp_pair_link a_to_b, b_to_a;
};

/* Counters of one direction. */
struct wp_pair_stats {
	uint64_t tx_packets, tx_bytes; /* taken from the sender's TX ring */
	uint64_t lost;
	uint64_t duplicated; /* copies made (a copy may still be wire_full) */
	uint64_t reordered;  /* frames held back */
	uint64_t corrupted;
	uint64_t wire_full;  /* no room on the wire (limit): dropped */
	uint64_t oversize;   /* longer than any frame the MTUs allow */
	uint64_t delivered;  /* handed to the receiving NIC */
	uint64_t rx_refused; /* ... which refused it (ring full, length) */
	uint64_t in_flight;  /* on the wire now */
};

struct wp_stack_pair;

/* A perfect wire: no impairment, no delay, no rate, limit 1000, seed 1. */
void wp_pair_impairments_default(struct wp_pair_impairments *imp);

/*
 * Build stack A from `a` and stack B from `b`, joined by a wire with the
 * impairments `imp` (NULL: the defaults). Both run on virtual time with
 * the pair backend whatever a->backend, a->virtual_time (and b's) say;
 * both clocks start at 0. NULL with errno set and a message in err
 * naming the side or the knob at fault.
 */
struct wp_stack_pair *wp_stack_pair_create(
	const struct wp_stack_config *a, const struct wp_stack_config *b,
	const struct wp_pair_impairments *imp, char *err, size_t errlen);
/* Both stacks (the pair owns them: never wp_stack_destroy them), then the
 * wire and whatever is still in flight. NULL: no-op. */
void wp_stack_pair_destroy(struct wp_stack_pair *p);

struct wp_stack *wp_stack_pair_a(const struct wp_stack_pair *p);
struct wp_stack *wp_stack_pair_b(const struct wp_stack_pair *p);

/*
 * Run both stacks until the pair's clock reaches t_ns. At each instant
 * both stacks' firmware and cores run in turn until neither has anything
 * left and no frame on the wire is due; then the clock moves to the
 * earliest next event of either side (an arrival, a moderation deadline,
 * a core timer) or t_ns. Both stacks' clocks always read the pair's time.
 * A t_ns in the past runs the current instant only. Returns 0.
 */
int wp_stack_pair_run_until(struct wp_stack_pair *p, uint64_t t_ns);
uint64_t wp_stack_pair_now(const struct wp_stack_pair *p);

/*
 * Change one direction's impairments while it runs (tc qdisc change):
 * frames in flight keep their arrival times; the PRNG stream goes on.
 * The limit may not exceed the one the pair was created with (the wire's
 * buffers are allocated once). 0, or -EINVAL with a message in err and
 * nothing changed.
 */
int wp_stack_pair_set_link(struct wp_stack_pair *p, enum wp_pair_dir dir,
			   const struct wp_pair_link *link, char *err,
			   size_t errlen);

void wp_stack_pair_get_stats(const struct wp_stack_pair *p,
			     enum wp_pair_dir dir, struct wp_pair_stats *st);
/* "     a_to_b_lost: 12" lines, as ethtool -S prints. */
void wp_stack_pair_print_stats(const struct wp_stack_pair *p, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
