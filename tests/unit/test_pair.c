// SPDX-License-Identifier: MIT
/*
 * The pair backend at the frame level: frames A's NIC sends reach B's
 * NIC (and back) at the times delay and rate say, each impairment does
 * what it says at about the rate it is set to and is counted, the same
 * seed gives exactly the same run (whatever the other direction does),
 * a full wire drops and counts, bad settings are refused with a message,
 * and every pool of both stacks is whole at teardown.
 *
 * Frames carry an experimental EtherType, a sequence number and filler
 * that is a function of it, so the receiver can tell which frame it got
 * and what it should have looked like. Receivers capture with their own
 * rx_handler, so the protocol layer does not see them; frames the
 * protocol layer sends of its own accord (a gratuitous ARP) are told apart
 * (capture.other, extra()) so that counts stay exact.
 */
#include "test_core_common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nic/backend/backend.h"
#include "nic/backend/pair.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "stack/stack.h"
#include "wirepath/pair.h"

#define ETH_P_TEST 0x88b5
#define MAGIC 0x77697265u /* "wire" */
#define HDR_LEN 22	  /* Ethernet + seq + magic */
#define MAX_CAP 40000
#define MAX_KEEP 3000 /* frames whose bytes a capture keeps */
#define FRAME_MAX 1514

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x0b };

struct cap_entry {
	uint32_t seq;
	uint32_t len;
	uint64_t t; /* skb->tstamp: when the wire delivered it */
};

struct capture {
	struct cap_entry *e;
	uint32_t n;
	uint32_t other; /* frames that are not test frames */
	bool keep;	/* keep bytes (any frame, in arrival order) */
	uint8_t (*bytes)[FRAME_MAX];
	uint32_t nbytes;
};

struct rig {
	struct wp_stack_pair *p;
	struct wp_stack *a, *b;
	struct capture ca, cb; /* what A and B received */
	uint64_t sent[2];      /* frames the test put on A's, B's TX rings */
};

/* --- frames -------------------------------------------------------------- */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void frame_build(uint8_t *f, uint32_t len, const uint8_t *dst,
			const uint8_t *src, uint32_t seq)
{
	assert_true(len >= HDR_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_P_TEST >> 8;
	f[13] = ETH_P_TEST & 0xff;
	put32(f + 14, seq);
	put32(f + 18, MAGIC);
	for (uint32_t i = HDR_LEN; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i * 7);
}

static bool is_test_frame(const uint8_t *f, uint32_t len)
{
	return len >= HDR_LEN && f[12] == ETH_P_TEST >> 8 &&
	       f[13] == (ETH_P_TEST & 0xff) && get32(f + 18) == MAGIC;
}

static void cap_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct capture *c = ctx;
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(skbs))) {
		if (c->keep && c->nbytes < MAX_KEEP && skb->len <= FRAME_MAX) {
			memcpy(c->bytes[c->nbytes], skb->data, skb->len);
			c->e[c->nbytes].len = skb->len;
			c->e[c->nbytes].t = skb->tstamp;
			c->nbytes++;
		} else if (is_test_frame(skb->data, skb->len) &&
			   c->n < MAX_CAP) {
			c->e[c->n].seq = get32(skb->data + 14);
			c->e[c->n].len = skb->len;
			c->e[c->n].t = skb->tstamp;
			c->n++;
		} else {
			c->other++;
		}
		wp_consume_skb(skb);
	}
}

/* --- the rig ------------------------------------------------------------- */

static void config_of(struct wp_stack_config *c, const uint8_t *mac,
		      uint32_t addr)
{
	wp_stack_config_default(c);
	memcpy(c->mac, mac, 6);
	c->addr = addr;
}

static void capture_init(struct capture *c, bool keep)
{
	memset(c, 0, sizeof(*c));
	c->e = calloc(MAX_CAP, sizeof(*c->e));
	assert_non_null(c->e);
	c->keep = keep;
	if (keep) {
		c->bytes = calloc(MAX_KEEP, FRAME_MAX);
		assert_non_null(c->bytes);
	}
}

static void rig_up_cfg(struct rig *r, const struct wp_stack_config *ca,
		       const struct wp_stack_config *cb,
		       const struct wp_pair_impairments *imp, bool keep_b)
{
	char err[256];

	memset(r, 0, sizeof(*r));
	r->p = wp_stack_pair_create(ca, cb, imp, err, sizeof(err));
	if (!r->p)
		fail_msg("wp_stack_pair_create: %s", err);
	r->a = wp_stack_pair_a(r->p);
	r->b = wp_stack_pair_b(r->p);
	capture_init(&r->ca, false);
	capture_init(&r->cb, keep_b);
	r->a->rx_handler = cap_rx;
	r->a->rx_ctx = &r->ca;
	r->b->rx_handler = cap_rx;
	r->b->rx_ctx = &r->cb;
}

static void rig_up(struct rig *r, const struct wp_pair_impairments *imp,
		   bool keep_b)
{
	struct wp_stack_config ca, cb;

	config_of(&ca, mac_a, (10u << 24) | 1);
	config_of(&cb, mac_b, (10u << 24) | 2);
	rig_up_cfg(r, &ca, &cb, imp, keep_b);
}

static void check_conservation(const struct wp_stack_pair *p,
			       enum wp_pair_dir d)
{
	struct wp_pair_stats st;

	wp_stack_pair_get_stats(p, d, &st);
	assert_int_equal(st.tx_packets + st.duplicated,
			 st.lost + st.wire_full + st.oversize + st.delivered +
				 st.in_flight);
}

/* Every buffer of both stacks back in its pool once the NICs let go. */
static void rig_down(struct rig *r)
{
	struct wp_stack *s[2] = { r->a, r->b };

	struct wp_pair_stats st;
	struct wp_nic_stats ns;

	check_conservation(r->p, WP_PAIR_A_TO_B);
	check_conservation(r->p, WP_PAIR_B_TO_A);
	for (int i = 0; i < 2; i++) {
		wp_nic_down(s[i]->nic);
		/* firmware, NIC and wire agree on every frame sent */
		wp_nic_get_stats(s[i]->nic, &ns);
		wp_stack_pair_get_stats(r->p, (enum wp_pair_dir)i, &st);
		assert_int_equal(ns.tx_packets, s[i]->backend.frames_out);
		assert_int_equal(st.tx_packets, s[i]->backend.frames_out);
		assert_int_equal(st.tx_bytes, ns.tx_bytes);
		wp_stack_pair_get_stats(r->p, (enum wp_pair_dir) !i, &st);
		assert_int_equal(st.delivered, s[i]->backend.frames_in);
		for (uint16_t q = 0; q < s[i]->nic->cfg.nqueues; q++)
			assert_true(wp_pool_is_whole(s[i]->nic->rxq[q].pool));
	}
	wp_stack_pair_destroy(r->p);
	free(r->ca.e);
	free(r->cb.e);
	free(r->ca.bytes);
	free(r->cb.bytes);
}

static void run_to(struct rig *r, uint64_t t)
{
	assert_int_equal(wp_stack_pair_run_until(r->p, t), 0);
	assert_true(wp_stack_pair_now(r->p) >= t);
	/* one time line */
	assert_int_equal(wp_stack_now(r->a), wp_stack_pair_now(r->p));
	assert_int_equal(wp_stack_now(r->b), wp_stack_pair_now(r->p));
}

static void run_for(struct rig *r, uint64_t dt)
{
	run_to(r, wp_stack_pair_now(r->p) + dt);
}

static uint32_t len_of(uint32_t seq, bool vary)
{
	return vary ? 60 + (seq * 37) % (FRAME_MAX - 60 + 1) : 64;
}

/* Put frames first..first+n-1 on `from`'s TX queue q; they leave at the
 * pair's current time, when it next runs. */
static void send_q(struct rig *r, struct wp_stack *from, uint16_t q,
		   const uint8_t *dst, uint32_t first, uint32_t n,
		   uint32_t fixed_len, bool vary)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t seq = first + i;
		uint32_t len = fixed_len ? fixed_len : len_of(seq, vary);
		struct wp_skb *skb = wp_alloc_skb(from->nic->rxq[0].pool, len);

		assert_non_null(skb);
		frame_build(wp_skb_put(skb, len), len, dst, from->cfg.mac, seq);
		assert_int_equal(wp_nic_xmit(from->nic, q, skb, i + 1 < n), 0);
	}
	r->sent[from == r->b] += n;
}

static void send_frames(struct rig *r, struct wp_stack *from,
			const uint8_t *dst, uint32_t first, uint32_t n)
{
	send_q(r, from, 0, dst, first, n, 0, false);
}

/* Frames a side's firmware took that the test did not send: what the
 * protocol layer sent of its own accord (0 without one). */
static uint64_t extra(const struct rig *r, const struct wp_stack *s)
{
	uint64_t sent = r->sent[s == r->b];

	assert_true(s->backend.frames_out >= sent);
	return s->backend.frames_out - sent;
}

/* FNV-1a over the sequence numbers in arrival order. */
static uint64_t digest(const struct capture *c)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < c->n; i++) {
		h ^= c->e[i].seq;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint32_t popcount8(uint8_t v)
{
	uint32_t n = 0;

	for (; v; v &= (uint8_t)(v - 1))
		n++;
	return n;
}

/* --- refusals ------------------------------------------------------------ */

static void lone_pair_stack_is_refused(void **state)
{
	struct wp_stack_config c;
	char err[256];

	assert_non_null(wp_backend_find("pair"));
	assert_string_equal(wp_backend_find("pair")->name, "pair");
	wp_stack_config_default(&c);
	c.backend = "pair";
	c.virtual_time = true;
	errno = 0;
	assert_null(wp_stack_create(&c, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "pair needs two stacks"));
	assert_non_null(strstr(err, "wp_stack_pair_create"));
}

/* The backend alone, on a bare NIC: every way open can be refused. */
static void backend_open_refusals(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_backend_config bc;
	struct wp_nic_config nc;
	struct wp_clock vclock, rclock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu, *cpus[1] = { &cpu };
	struct wp_backend be, be2;
	struct wp_pair_wire *w;
	struct wp_nic *nic, *nic2;
	char err[128];

	wp_clock_init_virtual(&vclock, 0);
	wp_clock_init_real(&rclock);
	wp_sysctl_init(&sysctl);
	wp_cpu_init(&cpu, 0, &vclock, &sysctl, &irqs);
	wp_irq_table_init(&irqs, cpus, 1);
	wp_nic_config_default(&nc);
	nc.nqueues = 1;
	nic = wp_nic_create(&nc, &vclock, &irqs, cpus, 1, cap_rx, NULL);
	nic2 = wp_nic_create(&nc, &vclock, &irqs, cpus, 1, cap_rx, NULL);
	assert_non_null(nic);
	assert_non_null(nic2);
	wp_pair_impairments_default(&imp);
	w = wp__pair_wire_create(&imp, 1518, err, sizeof(err));
	assert_non_null(w);
	assert_null(wp__pair_wire_end(w, 2));

	wp_backend_config_default(&bc);
	assert_int_equal(
		wp_backend_open(&be, &wp_backend_pair, nic, &vclock, &bc),
		-EINVAL);
	assert_null(nic->backend);
	bc.peer = wp__pair_wire_end(w, 0);
	assert_int_equal(
		wp_backend_open(&be, &wp_backend_pair, nic, &rclock, &bc),
		-EINVAL);
	assert_null(nic->backend);
	assert_int_equal(
		wp_backend_open(&be, &wp_backend_pair, nic, &vclock, &bc), 0);
	assert_ptr_equal(nic->backend, &be);
	/* one NIC per end */
	assert_int_equal(
		wp_backend_open(&be2, &wp_backend_pair, nic2, &vclock, &bc),
		-EBUSY);
	assert_null(nic2->backend);
	/* real time is not offered */
	assert_int_equal(be.ops->start(&be), -ENOTSUP);
	/* idle: nothing due, nothing in flight */
	assert_true(be.ops->done(&be));
	assert_int_equal(be.ops->step(&be, 0), WP_TIME_NEVER);
	assert_int_equal(wp__pair_wire_next(w), WP_TIME_NEVER);
	wp_backend_close(&be);
	/* closed: the end is free again */
	assert_int_equal(
		wp_backend_open(&be2, &wp_backend_pair, nic2, &vclock, &bc), 0);
	wp_backend_close(&be2);

	wp__pair_wire_destroy(w);
	wp__pair_wire_destroy(NULL);
	wp_nic_destroy(nic);
	wp_nic_destroy(nic2);
	wp_cpu_destroy(&cpu);
}

static void expect_bad(struct wp_pair_impairments *imp, const char *what)
{
	struct wp_stack_config ca, cb;
	char err[256];

	config_of(&ca, mac_a, 1);
	config_of(&cb, mac_b, 2);
	errno = 0;
	assert_null(wp_stack_pair_create(&ca, &cb, imp, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	if (!strstr(err, what))
		fail_msg("'%s' does not name '%s'", err, what);
	wp_pair_impairments_default(imp);
}

static void bad_settings_are_refused(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_stack_config ca, cb;
	struct wp_pair_stats st;
	struct wp_pair_link l;
	struct rig r;
	char err[256];

	wp_pair_impairments_default(&imp);
	imp.a_to_b.loss_pct = 100.5;
	expect_bad(&imp, "A->B: loss 100.5");
	imp.b_to_a.duplicate_pct = -1;
	expect_bad(&imp, "B->A: duplicate");
	imp.a_to_b.reorder_pct = NAN;
	expect_bad(&imp, "reorder");
	imp.b_to_a.corrupt_pct = INFINITY;
	expect_bad(&imp, "corrupt");
	imp.a_to_b.limit = 0;
	expect_bad(&imp, "limit 0");
	imp.a_to_b.limit = WP_PAIR_LIMIT_MAX + 1;
	expect_bad(&imp, "limit");
	imp.a_to_b.delay_ns = WP_PAIR_TIME_MAX_NS + 1;
	expect_bad(&imp, "delay");
	imp.b_to_a.jitter_ns = UINT64_MAX;
	expect_bad(&imp, "jitter");
	imp.b_to_a.reorder_ns = WP_PAIR_TIME_MAX_NS + 1;
	expect_bad(&imp, "reorder hold");

	/* a bad stack is named by its side; nothing is left behind */
	config_of(&ca, mac_a, 1);
	config_of(&cb, mac_b, 2);
	cb.queues = 0;
	assert_null(wp_stack_pair_create(&ca, &cb, NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_memory_equal(err, "stack B: --queues 0", 19);
	ca.mtu = WP_MTU_MAX + 1;
	cb.queues = 1;
	assert_null(wp_stack_pair_create(&ca, &cb, NULL, err, sizeof(err)));
	assert_memory_equal(err, "stack A:", 8);
	assert_null(wp_stack_pair_create(NULL, &cb, NULL, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	wp_stack_pair_destroy(NULL);

	/* live changes: refused ones change nothing */
	wp_pair_impairments_default(&imp);
	imp.a_to_b.limit = 8;
	rig_up(&r, &imp, false);
	l = imp.a_to_b;
	l.limit = 9;
	assert_int_equal(wp_stack_pair_set_link(r.p, WP_PAIR_A_TO_B, &l, err,
						sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "built for 8"));
	l.limit = 8;
	l.loss_pct = 101;
	assert_int_equal(wp_stack_pair_set_link(r.p, WP_PAIR_A_TO_B, &l, err,
						sizeof(err)),
			 -EINVAL);
	assert_int_equal(wp_stack_pair_set_link(r.p, (enum wp_pair_dir)2, &l,
						err, sizeof(err)),
			 -EINVAL);
	send_frames(&r, r.a, mac_b, 0, 8);
	run_for(&r, WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 8);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.lost, 0);
	rig_down(&r);
}

static void paired_stack_cannot_run_alone(void **state)
{
	struct rig r;

	rig_up(&r, NULL, false);
	assert_int_equal(wp_stack_run_until(r.a, 1000), -EINVAL);
	assert_int_equal(wp_stack_run_until(r.b, 1000), -EINVAL);
	assert_int_equal(wp_stack_start(r.a), -EINVAL);
	assert_int_equal(r.a->backend.ops->start(&r.a->backend), -ENOTSUP);
	assert_string_equal(r.a->backend.ops->name, "pair");
	assert_int_equal(wp_stack_now(r.a), 0);
	/* the past: the current instant only */
	run_to(&r, 5000);
	assert_int_equal(wp_stack_pair_run_until(r.p, 10), 0);
	assert_int_equal(wp_stack_pair_now(r.p), 5000);
	rig_down(&r);
}

/* --- delivery ------------------------------------------------------------ */

static void frames_cross_both_ways(void **state)
{
	struct wp_pair_stats ab, ba;
	struct wp_nic_stats ns;
	struct rig r;

	rig_up(&r, NULL, false);
	run_to(&r, 1000);
	send_frames(&r, r.a, mac_b, 0, 100);
	send_frames(&r, r.b, mac_a, 1000, 50);
	assert_false(wp_stack_done(r.b)); /* A's frames not sent yet */
	run_for(&r, WP_NSEC_PER_MSEC);

	assert_int_equal(r.cb.n, 100);
	assert_int_equal(r.ca.n, 50);
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(r.cb.e[i].seq, i);
		assert_int_equal(r.cb.e[i].len, len_of(i, false));
		assert_int_equal(r.cb.e[i].t, 1000); /* no delay, no rate */
	}
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(r.ca.e[i].seq, 1000 + i);

	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &ab);
	wp_stack_pair_get_stats(r.p, WP_PAIR_B_TO_A, &ba);
	assert_int_equal(ab.tx_packets, 100 + extra(&r, r.a));
	assert_int_equal(ab.delivered, 100 + extra(&r, r.a));
	assert_int_equal(ab.delivered, r.cb.n + r.cb.other);
	if (!extra(&r, r.a))
		assert_int_equal(ab.tx_bytes, 6400);
	assert_int_equal(ba.tx_packets, 50 + extra(&r, r.b));
	assert_int_equal(ba.delivered, r.ca.n + r.ca.other);
	assert_int_equal(ab.lost + ab.duplicated + ab.reordered + ab.corrupted +
				 ab.wire_full + ab.rx_refused + ab.in_flight,
			 0);
	/* the NICs agree with the wire */
	wp_nic_get_stats(r.b->nic, &ns);
	assert_int_equal(ns.rx_packets, ab.delivered);
	assert_int_equal(ns.rx_bytes, ab.tx_bytes);
	assert_int_equal(r.b->backend.frames_in, ab.delivered);
	assert_int_equal(r.a->backend.frames_out, ab.tx_packets);
	wp_nic_get_stats(r.a->nic, &ns);
	assert_int_equal(ns.tx_packets, ab.tx_packets);
	assert_int_equal(ns.tx_bytes, ab.tx_bytes);
	assert_int_equal(ns.rx_packets, ba.delivered);
	assert_true(wp_stack_done(r.a));
	assert_true(wp_stack_done(r.b));
	rig_down(&r);
}

static void delay_and_rate_set_arrival_times(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_pair_stats st;
	struct rig r;
	const uint64_t t0 = WP_NSEC_PER_MSEC;
	/* (1000 + 24) bytes * 8 at 1 Mb/s */
	const uint64_t ser = 8192 * WP_NSEC_PER_USEC;
	const uint64_t delay = 5 * WP_NSEC_PER_MSEC;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.delay_ns = delay;
	imp.a_to_b.rate_bps = 1000000;
	rig_up(&r, &imp, false);
	run_to(&r, t0);
	send_q(&r, r.a, 0, mac_b, 0, 10, 1000, false);
	send_frames(&r, r.b, mac_a, 0, 1); /* the other way is untouched */
	run_for(&r, delay); /* the first needs one serialization more */
	assert_int_equal(r.cb.n, 0);
	assert_false(wp_stack_done(r.b));
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_true(st.in_flight >= 10);
	run_for(&r, 100 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 10);
	for (uint32_t k = 0; k < 10; k++) {
		assert_int_equal(r.cb.e[k].seq, k);
		assert_int_equal(r.cb.e[k].t, t0 + (k + 1) * ser + delay);
	}
	assert_int_equal(r.ca.n, 1);
	assert_int_equal(r.ca.e[0].t, t0);

	/* runts are padded to 60 on the wire: (60 + 24) * 8 at 1 Mb/s */
	r.cb.n = 0;
	run_to(&r, 200 * WP_NSEC_PER_MSEC);
	send_q(&r, r.a, 0, mac_b, 100, 2, 30, false);
	run_for(&r, 10 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 2);
	assert_int_equal(r.cb.e[1].t - r.cb.e[0].t, 672 * WP_NSEC_PER_USEC);
	assert_int_equal(r.cb.e[0].t, 200 * WP_NSEC_PER_MSEC +
					      672 * WP_NSEC_PER_USEC + delay);
	rig_down(&r);
}

static void jitter_spreads_but_never_reorders(void **state)
{
	struct wp_pair_impairments imp;
	const uint64_t delay = 2 * WP_NSEC_PER_MSEC, jit = WP_NSEC_PER_MSEC;
	const uint64_t gap = 200 * WP_NSEC_PER_USEC;
	uint64_t tmin = UINT64_MAX, tmax = 0;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.delay_ns = delay;
	imp.a_to_b.jitter_ns = jit;
	rig_up(&r, &imp, false);
	for (uint32_t i = 0; i < 500; i++) {
		run_to(&r, (uint64_t)i * gap);
		send_frames(&r, r.a, mac_b, i, 1);
	}
	run_for(&r, 10 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 500);
	for (uint32_t i = 0; i < 500; i++) {
		uint64_t extra = r.cb.e[i].t - (uint64_t)i * gap - delay;

		assert_int_equal(r.cb.e[i].seq, i); /* in order */
		assert_true(r.cb.e[i].t >= (uint64_t)i * gap + delay);
		/* late only by jitter, or by waiting for the one ahead */
		if (i && r.cb.e[i].t > r.cb.e[i - 1].t)
			assert_true(extra <= jit);
		if (extra < tmin)
			tmin = extra;
		if (extra > tmax)
			tmax = extra;
	}
	assert_true(tmax - tmin > jit / 2); /* it does spread */
	rig_down(&r);
}

/* --- impairments --------------------------------------------------------- */

struct loss_run {
	uint64_t digest;
	uint32_t delivered;
	struct wp_pair_stats st;
};

/* 10,000 frames A->B with 10 % loss; optionally as many B->A with 50 %. */
static void loss_run(uint64_t seed, bool reverse, struct loss_run *out)
{
	struct wp_pair_impairments imp;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.seed = seed;
	imp.a_to_b.loss_pct = 10;
	imp.b_to_a.loss_pct = 50;
	rig_up(&r, &imp, false);
	for (uint32_t i = 0; i < 100; i++) {
		send_frames(&r, r.a, mac_b, i * 100, 100);
		if (reverse)
			send_frames(&r, r.b, mac_a, i * 100, 100);
		run_for(&r, WP_NSEC_PER_MSEC);
	}
	run_for(&r, WP_NSEC_PER_MSEC);
	out->digest = digest(&r.cb);
	out->delivered = r.cb.n;
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &out->st);
	assert_int_equal(out->st.tx_packets, 10000 + extra(&r, r.a));
	assert_int_equal(out->st.lost + out->st.delivered, out->st.tx_packets);
	assert_int_equal(out->st.delivered, r.cb.n + r.cb.other);
	for (uint32_t i = 1; i < r.cb.n; i++)
		assert_true(r.cb.e[i].seq > r.cb.e[i - 1].seq);
	if (reverse) {
		assert_true(r.ca.n > 4500 && r.ca.n < 5500);
	}
	rig_down(&r);
}

static void loss_is_seeded_and_per_direction(void **state)
{
	struct loss_run a, b, c, d;

	loss_run(42, false, &a);
	/* binomial(10000, 0.9): sd 30; 10 sd either way */
	assert_true(a.delivered > 8700 && a.delivered < 9300);
	loss_run(42, false, &b);
	assert_int_equal(a.digest, b.digest);
	assert_int_equal(a.delivered, b.delivered);
	/* B->A traffic does not move A->B's fate */
	loss_run(42, true, &c);
	assert_int_equal(a.digest, c.digest);
	assert_memory_equal(&a.st, &c.st, sizeof(a.st));
	loss_run(43, false, &d);
	assert_true(d.digest != a.digest);
}

static void duplication_sends_second_copies(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_pair_stats st;
	uint8_t *count;
	uint32_t twice = 0;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.duplicate_pct = 20;
	imp.a_to_b.delay_ns = 50 * WP_NSEC_PER_USEC;
	rig_up(&r, &imp, false);
	for (uint32_t i = 0; i < 20; i++) {
		send_frames(&r, r.a, mac_b, i * 100, 100);
		run_for(&r, WP_NSEC_PER_MSEC);
	}
	count = calloc(2000, 1);
	assert_non_null(count);
	for (uint32_t i = 0; i < r.cb.n; i++) {
		uint32_t s = r.cb.e[i].seq;

		assert_true(s < 2000);
		if (++count[s] == 2) {
			/* right after the original, at the same time */
			assert_int_equal(r.cb.e[i - 1].seq, s);
			assert_int_equal(r.cb.e[i - 1].t, r.cb.e[i].t);
			twice++;
		}
	}
	for (uint32_t s = 0; s < 2000; s++)
		assert_true(count[s] == 1 || count[s] == 2);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	/* other frames (the protocol layer's) may have been copied too */
	assert_int_equal(st.duplicated, twice + r.cb.other - extra(&r, r.a));
	assert_int_equal(r.cb.n, 2000 + twice);
	assert_int_equal(st.delivered, r.cb.n + r.cb.other);
	/* binomial(2000, 0.2) = 400, sd 18 */
	assert_true(twice > 300 && twice < 500);
	free(count);
	rig_down(&r);
}

static void reordering_lets_later_frames_overtake(void **state)
{
	struct wp_pair_impairments imp;
	const uint64_t gap = 100 * WP_NSEC_PER_USEC;
	const uint64_t delay = 100 * WP_NSEC_PER_USEC;
	const uint64_t hold = WP_NSEC_PER_MSEC;
	uint32_t held = 0, inversions = 0;
	struct wp_pair_stats st;
	uint8_t *seen;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.reorder_pct = 25;
	imp.a_to_b.reorder_ns = hold;
	imp.a_to_b.delay_ns = delay;
	rig_up(&r, &imp, false);
	for (uint32_t i = 0; i < 1000; i++) {
		run_to(&r, (uint64_t)i * gap);
		send_frames(&r, r.a, mac_b, i, 1);
	}
	run_for(&r, 5 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 1000);
	seen = calloc(1000, 1);
	assert_non_null(seen);
	for (uint32_t i = 0; i < 1000; i++) {
		uint32_t s = r.cb.e[i].seq;
		uint64_t sent = (uint64_t)s * gap;

		assert_true(s < 1000);
		assert_false(seen[s]);
		seen[s] = 1;
		if (r.cb.e[i].t == sent + delay + hold)
			held++;
		else
			assert_int_equal(r.cb.e[i].t, sent + delay);
		if (i && s < r.cb.e[i - 1].seq)
			inversions++;
	}
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.reordered, held);
	assert_true(held > 180 && held < 320); /* 250, sd 14 */
	assert_true(inversions > 100);
	free(seen);
	rig_down(&r);
}

/*
 * Bits by which kept frame i differs from test frame `seq` (A to B, the
 * lengths varied); UINT32_MAX if the lengths differ. *where: the last
 * differing byte.
 */
static uint32_t bit_distance(const struct capture *c, uint32_t i, uint32_t seq,
			     uint32_t *where)
{
	uint32_t len = len_of(seq, true), bits = 0;
	uint8_t want[FRAME_MAX];

	if (c->e[i].len != len)
		return UINT32_MAX;
	frame_build(want, len, mac_b, mac_a, seq);
	for (uint32_t j = 0; j < len; j++) {
		uint32_t b = popcount8(want[j] ^ c->bytes[i][j]);

		if (b)
			*where = j;
		bits += b;
	}
	return bits;
}

static void corruption_flips_exactly_one_bit(void **state)
{
	struct wp_pair_impairments imp;
	uint32_t flipped = 0, in_header = 0, k = 0, others = 0;
	struct wp_pair_stats st;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.corrupt_pct = 50;
	rig_up(&r, &imp, true);
	for (uint32_t i = 0; i < 20; i++) {
		send_q(&r, r.a, 0, mac_b, i * 100, 100, 0, true);
		run_for(&r, WP_NSEC_PER_MSEC);
	}
	/*
	 * In order (nothing reorders): the next test frame is frame k. A
	 * frame more than one bit away from it is not a test frame (the
	 * protocol layer's own); a test frame with two flipped bits would
	 * be taken for one and the count below would come up short.
	 */
	for (uint32_t i = 0; i < r.cb.nbytes; i++) {
		uint32_t where = 0, bits = bit_distance(&r.cb, i, k, &where);

		if (bits > 1) {
			others++;
			continue;
		}
		if (bits) {
			flipped++;
			if (where < HDR_LEN)
				in_header++;
		}
		k++;
	}
	assert_int_equal(k, 2000);
	assert_int_equal(others, extra(&r, r.a));
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	if (!others)
		assert_int_equal(st.corrupted, flipped);
	assert_true(flipped > 850 && flipped < 1150); /* 1000, sd 22 */
	/* headers too: about 22/787 of them */
	assert_true(in_header > 0);
	rig_down(&r);
}

static void every_frame_corrupted_at_100_percent(void **state)
{
	struct wp_pair_impairments imp;
	uint32_t k = 0;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.corrupt_pct = 100;
	rig_up(&r, &imp, true);
	send_q(&r, r.a, 0, mac_b, 0, 64, 0, true);
	run_for(&r, WP_NSEC_PER_MSEC);
	for (uint32_t i = 0; i < r.cb.nbytes; i++) {
		uint32_t where, bits = bit_distance(&r.cb, i, k, &where);

		if (bits > 1)
			continue; /* not a test frame */
		assert_int_equal(bits, 1);
		k++;
	}
	assert_int_equal(k, 64);
	rig_down(&r);
}

static void full_wire_drops_and_counts(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_pair_stats st;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.limit = 16;
	imp.a_to_b.rate_bps = 1000000; /* a slow link: frames queue */
	rig_up(&r, &imp, false);
	send_frames(&r, r.a, mac_b, 0, 64);
	run_for(&r, WP_NSEC_PER_USEC);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.tx_packets, 64 + extra(&r, r.a));
	assert_int_equal(st.in_flight, 16);
	assert_int_equal(st.wire_full, st.tx_packets - 16);
	run_for(&r, 100 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 16);
	for (uint32_t i = 0; i < 16; i++)
		assert_int_equal(r.cb.e[i].seq, i);
	/* drained: room again */
	send_frames(&r, r.a, mac_b, 100, 4);
	run_for(&r, 10 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 20);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.wire_full, 48 + extra(&r, r.a));
	assert_int_equal(st.in_flight, 0);
	rig_down(&r);

	/* a copy needs room too: limit 5, every frame duplicated */
	wp_pair_impairments_default(&imp);
	imp.a_to_b.limit = 5;
	imp.a_to_b.duplicate_pct = 100;
	imp.a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	rig_up(&r, &imp, false);
	send_frames(&r, r.a, mac_b, 0, 3);
	run_for(&r, 2 * WP_NSEC_PER_MSEC);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.tx_packets, 3 + extra(&r, r.a));
	assert_int_equal(st.duplicated, 3);
	assert_int_equal(st.wire_full, 1 + extra(&r, r.a));
	assert_int_equal(st.delivered, 5);
	assert_int_equal(r.cb.n, 5);
	rig_down(&r);
}

static void receiver_refusals_are_counted(void **state)
{
	struct wp_stack_config ca, cb;
	struct wp_pair_stats st;
	struct wp_nic_stats ns;
	struct rig r;

	config_of(&ca, mac_a, 1);
	config_of(&cb, mac_b, 2);
	cb.rx_ring = WP_RING_MIN;
	rig_up_cfg(&r, &ca, &cb, NULL, false);
	/* 200 at one instant into a 64-descriptor ring: no poll between */
	send_frames(&r, r.a, mac_b, 0, 200);
	run_for(&r, WP_NSEC_PER_MSEC);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	wp_nic_get_stats(r.b->nic, &ns);
	assert_int_equal(st.delivered, 200 + extra(&r, r.a));
	assert_true(st.rx_refused > 0);
	assert_int_equal(st.rx_refused, ns.rx_missed_errors);
	assert_int_equal(r.cb.n + r.cb.other, st.delivered - st.rx_refused);
	rig_down(&r);
}

static void link_changes_while_running(void **state)
{
	struct wp_pair_impairments imp;
	struct wp_pair_stats st;
	struct wp_pair_link l;
	struct rig r;

	wp_pair_impairments_default(&imp);
	imp.a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	rig_up(&r, &imp, false);
	send_frames(&r, r.a, mac_b, 0, 10);
	run_for(&r, 100 * WP_NSEC_PER_USEC);
	/* in flight when the link changes: they keep their arrival */
	l = imp.a_to_b;
	l.loss_pct = 100;
	l.delay_ns = 0;
	assert_int_equal(
		wp_stack_pair_set_link(r.p, WP_PAIR_A_TO_B, &l, NULL, 0), 0);
	send_frames(&r, r.a, mac_b, 10, 10);
	run_for(&r, 5 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 10);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(r.cb.e[i].seq, i);
		assert_int_equal(r.cb.e[i].t, WP_NSEC_PER_MSEC);
	}
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	/* and any other frame sent after the change (none get through) */
	assert_int_equal(st.lost, 10 + extra(&r, r.a) - r.cb.other);

	/* a smaller limit holds at once; the buffers stay as they were */
	l.loss_pct = 0;
	l.delay_ns = WP_NSEC_PER_MSEC;
	l.limit = 4;
	assert_int_equal(
		wp_stack_pair_set_link(r.p, WP_PAIR_A_TO_B, &l, NULL, 0), 0);
	send_frames(&r, r.a, mac_b, 100, 10);
	run_for(&r, 100 * WP_NSEC_PER_USEC);
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &st);
	assert_int_equal(st.in_flight, 4);
	assert_int_equal(st.wire_full, 6);
	l.limit = WP_PAIR_LIMIT_DEFAULT; /* back up to what it was built for */
	assert_int_equal(
		wp_stack_pair_set_link(r.p, WP_PAIR_A_TO_B, &l, NULL, 0), 0);
	send_frames(&r, r.a, mac_b, 200, 10);
	run_for(&r, 5 * WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 24);
	assert_int_equal(r.cb.e[14].seq, 200);
	rig_down(&r);
}

/* Several queues and cores on each side; both TX queues carry. */
static void multiqueue_stacks(void **state)
{
	struct wp_stack_config ca, cb;
	struct rig r;

	config_of(&ca, mac_a, 1);
	config_of(&cb, mac_b, 2);
	ca.queues = cb.queues = 2;
	ca.cores = cb.cores = 2;
	rig_up_cfg(&r, &ca, &cb, NULL, false);
	send_q(&r, r.a, 0, mac_b, 0, 50, 0, false);
	send_q(&r, r.a, 1, mac_b, 50, 50, 0, false);
	send_q(&r, r.b, 1, mac_a, 0, 30, 0, false);
	run_for(&r, WP_NSEC_PER_MSEC);
	assert_int_equal(r.cb.n, 100);
	assert_int_equal(r.ca.n, 30);
	assert_int_equal(r.a->nic->txq[1].stats.packets, 50);
	rig_down(&r);
}

/* --- the whole run replays ----------------------------------------------- */

struct replay {
	uint64_t h;
	struct wp_pair_stats ab, ba;
	char *text;
	size_t textlen;
};

static uint64_t hash_capture(const struct capture *c, uint64_t h)
{
	for (uint32_t i = 0; i < c->n; i++) {
		const uint64_t v[3] = { c->e[i].seq, c->e[i].len, c->e[i].t };

		for (int j = 0; j < 3; j++) {
			h ^= v[j];
			h *= 0x100000001b3ull;
		}
	}
	return h;
}

static void replay_run(struct replay *out)
{
	struct wp_pair_impairments imp;
	struct wp_pair_link *ls[2];
	struct rig r;
	FILE *f;

	wp_pair_impairments_default(&imp);
	imp.seed = 7;
	ls[0] = &imp.a_to_b;
	ls[1] = &imp.b_to_a;
	for (int i = 0; i < 2; i++) {
		ls[i]->loss_pct = 3 + i;
		ls[i]->duplicate_pct = 2;
		ls[i]->reorder_pct = 5;
		ls[i]->corrupt_pct = 1;
		ls[i]->delay_ns = 300 * WP_NSEC_PER_USEC;
		ls[i]->jitter_ns = 100 * WP_NSEC_PER_USEC;
		ls[i]->reorder_ns = 400 * WP_NSEC_PER_USEC;
		ls[i]->rate_bps = 100000000;
		ls[i]->limit = 64;
	}
	rig_up(&r, &imp, false);
	for (uint32_t i = 0; i < 50; i++) {
		send_q(&r, r.a, 0, mac_b, i * 40, 40, 0, true);
		send_q(&r, r.b, 0, mac_a, i * 30, 30, 0, true);
		run_for(&r, 700 * WP_NSEC_PER_USEC);
	}
	run_for(&r, 10 * WP_NSEC_PER_MSEC);
	out->h =
		hash_capture(&r.cb, hash_capture(&r.ca, 0xcbf29ce484222325ull));
	wp_stack_pair_get_stats(r.p, WP_PAIR_A_TO_B, &out->ab);
	wp_stack_pair_get_stats(r.p, WP_PAIR_B_TO_A, &out->ba);
	f = open_memstream(&out->text, &out->textlen);
	assert_non_null(f);
	wp_stack_pair_print_stats(r.p, f);
	fclose(f);
	rig_down(&r);
}

static void same_seed_same_run(void **state)
{
	struct replay x, y;

	replay_run(&x);
	replay_run(&y);
	assert_int_equal(x.h, y.h);
	assert_memory_equal(&x.ab, &y.ab, sizeof(x.ab));
	assert_memory_equal(&x.ba, &y.ba, sizeof(x.ba));
	assert_string_equal(x.text, y.text);
	/* every impairment happened, in both directions */
	assert_true(x.ab.lost && x.ab.duplicated && x.ab.reordered &&
		    x.ab.corrupted && x.ab.wire_full);
	assert_true(x.ba.lost && x.ba.duplicated && x.ba.reordered &&
		    x.ba.corrupted);
	assert_non_null(strstr(x.text, "pair wire statistics (seed 7):\n"));
	assert_non_null(strstr(x.text, "     a_to_b_lost: "));
	assert_non_null(strstr(x.text, "     b_to_a_in_flight: 0\n"));
	free(x.text);
	free(y.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lone_pair_stack_is_refused),
		cmocka_unit_test(backend_open_refusals),
		cmocka_unit_test(bad_settings_are_refused),
		cmocka_unit_test(paired_stack_cannot_run_alone),
		cmocka_unit_test(frames_cross_both_ways),
		cmocka_unit_test(delay_and_rate_set_arrival_times),
		cmocka_unit_test(jitter_spreads_but_never_reorders),
		cmocka_unit_test(loss_is_seeded_and_per_direction),
		cmocka_unit_test(duplication_sends_second_copies),
		cmocka_unit_test(reordering_lets_later_frames_overtake),
		cmocka_unit_test(corruption_flips_exactly_one_bit),
		cmocka_unit_test(every_frame_corrupted_at_100_percent),
		cmocka_unit_test(full_wire_drops_and_counts),
		cmocka_unit_test(receiver_refusals_are_counted),
		cmocka_unit_test(link_changes_while_running),
		cmocka_unit_test(multiqueue_stacks),
		cmocka_unit_test(same_seed_same_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
