// SPDX-License-Identifier: MIT
/*
 * bench skb: what an sk_buff costs per packet, apart from the bytes.
 *
 *   build_pull_consume  the receive shape, one packet at a time: a buffer
 *                       for the descriptor refill (wp_pool_get_buf), the
 *                       skb around the DMA'd frame (wp_build_skb), the
 *                       Ethernet header stripped (wp_skb_pull), the end
 *                       of life (wp_consume_skb)
 *   build_burst32       the same in NAPI's shape: 32 buffers in one burst,
 *                       32 skbs built and pulled, then 32 freed
 *   alloc_free          transmit: wp_alloc_skb + wp_consume_skb
 *   clone_free          wp_skb_clone + freeing the clone (TCP keeps the
 *                       original for retransmission): the dataref atomics
 *
 * Peer, measured in the same run and interleaved with each measurement:
 * a 64-byte memcpy, the cost of copying just one header's worth of bytes,
 * which is what the stack avoids by moving data pointers.
 *
 * Single thread, pool cache-hot: this is the descriptor's own instruction
 * cost. Each measurement is split into REPS runs, reported as the median
 * and the best. Cycles are TSC reference cycles. On a shared machine a
 * preempted run inflates wall time, so the thread's CPU time is reported
 * too (cpu_ns_per_pkt). --iterations counts packets per measurement.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "skb/pool.h"

enum {
	REPS = 5,
	BURST = 32,
	POOL_BUFS = 1024,
	FRAME = 60, /* a minimum Ethernet frame, without FCS */
	ETH_HLEN = 14,
	RX_HEADROOM = 64,
	/* Packets between two looks at the clock in a timed run. */
	CHUNK = 1 << 16,
};

struct ctx {
	struct wp_pool *pool;
	struct wp_skb *orig; /* clone_free's original */
	uint8_t src[64] wp_cacheline_aligned;
	uint8_t dst[64] wp_cacheline_aligned;
};

/* Runs n packets; 0 or a negative errno. */
typedef int (*loops_fn)(struct ctx *c, uint64_t n);

static int build_pull_consume(struct ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		void *buf = wp_pool_get_buf(c->pool);
		struct wp_skb *skb;

		if (wp_unlikely(!buf))
			return -ENOBUFS;
		skb = wp_build_skb(c->pool, buf, RX_HEADROOM, FRAME);
		if (wp_unlikely(!skb)) {
			wp_pool_put_buf(c->pool, buf);
			return -errno;
		}
		wp_bench_keep(wp_skb_pull(skb, ETH_HLEN));
		wp_consume_skb(skb);
	}
	return 0;
}

static int build_burst32(struct ctx *c, uint64_t n)
{
	void *bufs[BURST];
	struct wp_skb *skbs[BURST];

	for (uint64_t i = 0; i < n; i += BURST) {
		uint32_t got = wp_pool_get_bufs(c->pool, bufs, BURST), k;
		int err = 0;

		for (k = 0; k < got; k++) {
			skbs[k] = wp_build_skb(c->pool, bufs[k], RX_HEADROOM,
					       FRAME);
			if (wp_unlikely(!skbs[k])) {
				err = -errno;
				break;
			}
			wp_bench_keep(wp_skb_pull(skbs[k], ETH_HLEN));
		}
		for (uint32_t j = k; j < got; j++)
			wp_pool_put_buf(c->pool, bufs[j]);
		for (uint32_t j = 0; j < k; j++)
			wp_consume_skb(skbs[j]);
		if (err)
			return err;
		if (got < BURST)
			return -ENOBUFS;
	}
	return 0;
}

static int alloc_free(struct ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct wp_skb *skb = wp_alloc_skb(c->pool, FRAME);

		if (wp_unlikely(!skb))
			return -errno;
		wp_bench_keep(skb);
		wp_consume_skb(skb);
	}
	return 0;
}

static int clone_free(struct ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct wp_skb *clone = wp_skb_clone(c->orig);

		if (wp_unlikely(!clone))
			return -errno;
		wp_bench_keep(clone);
		wp_consume_skb(clone);
	}
	return 0;
}

static int memcpy64(struct ctx *c, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		memcpy(c->dst, c->src, 64);
		/* The clobber makes every copy happen. */
		wp_bench_keep(c->dst);
	}
	return 0;
}

struct measure {
	uint64_t ops, ns, cycles, cpu_ns;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Per run: a number of packets, or 0 and a time. */
struct budget {
	uint64_t ops;
	uint64_t ns;
};

static int run(loops_fn fn, struct ctx *c, const struct budget *bud,
	       struct measure *m)
{
	uint64_t t0, c0, cpu0, now, done = 0;
	int err;

	/* Warm-up: caches, branch predictors, the core's clock. */
	err = fn(c, CHUNK);
	if (err)
		return err;
	cpu0 = thread_cpu_ns();
	t0 = wp_time_real_ns();
	c0 = wp_bench_cycles();
	if (bud->ops) {
		err = fn(c, bud->ops);
		done = bud->ops;
		now = wp_time_real_ns();
	} else {
		do {
			err = fn(c, CHUNK);
			done += CHUNK;
			now = wp_time_real_ns();
		} while (!err && now - t0 < bud->ns);
	}
	m->cycles = wp_bench_cycles() - c0;
	m->cpu_ns = thread_cpu_ns() - cpu0;
	m->ns = now - t0;
	m->ops = done;
	return err;
}

static double per_op_ns(const struct measure *m)
{
	return m->ops ? (double)m->ns / (double)m->ops : NAN;
}

static double per_op_cycles(const struct measure *m)
{
	if (!m->ops || !m->cycles)
		return NAN;
	return (double)m->cycles / (double)m->ops;
}

static double per_op_cpu_ns(const struct measure *m)
{
	return m->ops && m->cpu_ns ? (double)m->cpu_ns / (double)m->ops : NAN;
}

static int by_ns(const void *a, const void *b)
{
	double x = per_op_ns(a), y = per_op_ns(b);

	return (x > y) - (x < y);
}

static void report(const struct wp_bench_opts *opts, const char *op,
		   struct measure *m, struct measure *peer)
{
	const struct measure *med, *best, *pmed;
	double ns, peer_ns;
	uint64_t ops = 0;

	qsort(m, REPS, sizeof(*m), by_ns);
	qsort(peer, REPS, sizeof(*peer), by_ns);
	med = &m[REPS / 2];
	best = &m[0];
	pmed = &peer[REPS / 2];
	ns = per_op_ns(med);
	peer_ns = per_op_ns(pmed);
	for (int i = 0; i < REPS; i++)
		ops += m[i].ops;

	struct wp_bench_field f[] = {
		{ .key = "op", .str = op },
		{ .key = "ns_per_pkt", .value = ns, .unit = "ns" },
		{ .key = "cycles_per_pkt",
		  .value = per_op_cycles(med),
		  .unit = "cyc" },
		{ .key = "best_ns_per_pkt",
		  .value = per_op_ns(best),
		  .unit = "ns" },
		{ .key = "cpu_ns_per_pkt",
		  .value = per_op_cpu_ns(med),
		  .unit = "ns" },
		{ .key = "mpps", .value = 1e3 / ns, .unit = "M/s" },
		{ .key = "peer_memcpy64_ns", .value = peer_ns, .unit = "ns" },
		{ .key = "peer_memcpy64_cycles",
		  .value = per_op_cycles(pmed),
		  .unit = "cyc" },
		{ .key = "peer_memcpy64_cpu_ns",
		  .value = per_op_cpu_ns(pmed),
		  .unit = "ns" },
		{ .key = "x_memcpy64", .value = ns / peer_ns, .unit = "x" },
		{ .key = "pkts", .value = (double)ops },
		{ 0 },
	};
	wp_bench_report(opts, "skb", f);
}

static const struct {
	const char *op;
	loops_fn fn;
} ops[] = {
	{ "build_pull_consume", build_pull_consume },
	{ "build_burst32", build_burst32 },
	{ "alloc_free", alloc_free },
	{ "clone_free", clone_free },
};

static int bench_skb(const struct wp_bench_opts *opts)
{
	struct wp_pool_config cfg = { .name = "bench", .nbufs = POOL_BUFS };
	double seconds = opts->seconds > 0 ? opts->seconds : 0.25;
	struct budget bud = {
		/* Whole bursts, so every op runs the same packet count. */
		.ops = (opts->iterations / REPS + BURST - 1) / BURST * BURST,
		.ns = (uint64_t)(seconds * 1e9 / REPS),
	};
	struct measure m[REPS], peer[REPS];
	struct ctx *c;
	int err = 0;

	if (opts->argc > 0) {
		fprintf(stderr, "bench skb: takes no arguments\n");
		return -EINVAL;
	}
	if (opts->iterations && !bud.ops)
		bud.ops = BURST;
	if (posix_memalign((void **)&c, WP_CACHELINE, sizeof(*c))) {
		fprintf(stderr, "bench skb: out of memory\n");
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->pool = wp_pool_create(&cfg);
	if (!c->pool) {
		err = -errno;
		fprintf(stderr, "bench skb: pool: %s\n", strerror(errno));
		goto out_free_ctx;
	}
	c->orig = wp_alloc_skb(c->pool, FRAME);
	if (!c->orig) {
		err = -errno;
		fprintf(stderr, "bench skb: alloc_skb: %s\n", strerror(errno));
		goto out_destroy_pool;
	}

	for (size_t i = 0; i < WP_ARRAY_SIZE(ops) && !err; i++) {
		/* Interleaved, so both see the same machine over time. */
		for (int k = 0; k < REPS && !err; k++) {
			err = run(ops[i].fn, c, &bud, &m[k]);
			if (!err)
				err = run(memcpy64, c, &bud, &peer[k]);
		}
		if (err)
			fprintf(stderr, "bench skb: %s: %s\n", ops[i].op,
				strerror(-err));
		else
			report(opts, ops[i].op, m, peer);
	}

	wp_consume_skb(c->orig);
	if (!err && !wp_pool_is_whole(c->pool)) {
		fprintf(stderr, "bench skb: pool not whole after the run\n");
		err = -EPROTO;
	}
out_destroy_pool:
	wp_pool_destroy(c->pool);
out_free_ctx:
	free(c);
	return err;
}

WP_BENCH_REGISTER(bench_skb, "skb",
		  "sk_buff cost per packet: build/pull/free, alloc, clone, "
		  "vs a 64-byte memcpy")
