// SPDX-License-Identifier: MIT
/*
 * bench ring: cost per object of the SPSC ring (src/ring), bulk enqueue
 * plus bulk dequeue of pointer batches.
 *
 * One thread: enqueue a batch, dequeue it, repeat, for batches of 1, 8, 32
 * and 128; the ring stays in L1, so this is the ring's own instruction
 * cost (DPDK's test_ring_perf "SP/SC bulk enq/dequeue" has the same shape
 * and reports 2-4 cycles per object).
 *
 * Two threads: a producer and a consumer pinned to two different CPUs,
 * batch 32; adds what the ring exists for, the slot and index cache lines
 * moving between the cores.
 *
 * Peer, measured in the same run: the same batch copied into an array and
 * back out with memcpy, the data movement of an enqueue plus a dequeue
 * without indices or barriers.
 *
 * Each measurement is split into REPS runs, reported as the median run and
 * the best one: on a shared machine a preempted thread inflates a run (the
 * two-thread case most, as the other side spins until it is back).
 *
 * Cycles are TSC reference cycles (as DPDK's rte_rdtsc figures are), not
 * core clock cycles. --iterations counts objects per measurement.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "core/clock.h"
#include "ring/ring.h"

enum {
	RING_SIZE = 1024,
	MAX_BATCH = 128,
	MT_BATCH = 32,
	REPS = 5,
	/* Objects between two looks at the clock in a timed run. */
	CHUNK = 1 << 16,
};

/* One run. */
struct measure {
	uint64_t elems;
	uint64_t ns;
	uint64_t cycles;
	uint64_t full_polls;  /* two threads: producer found the ring full */
	uint64_t empty_polls; /* two threads: consumer found it empty */
};

/* Per run: a number of objects, or 0 and a time. */
struct budget {
	uint64_t elems;
	uint64_t ns;
};

static double per_elem_ns(const struct measure *m)
{
	return m->elems ? (double)m->ns / (double)m->elems : NAN;
}

static double per_elem_cycles(const struct measure *m)
{
	if (!m->elems || wp_bench_cycles_per_sec() <= 0)
		return NAN;
	return (double)m->cycles / (double)m->elems;
}

static int by_ns_per_elem(const void *a, const void *b)
{
	double x = per_elem_ns(a), y = per_elem_ns(b);

	return (x > y) - (x < y);
}

/* Sorts runs[] fastest first; runs[REPS / 2] is then the median. */
static void sort_runs(struct measure runs[REPS])
{
	qsort(runs, REPS, sizeof(runs[0]), by_ns_per_elem);
}

/* --- one thread ---------------------------------------------------------- */

struct st_buffers {
	void *src[MAX_BATCH];
	void *mid[MAX_BATCH];
	void *dst[MAX_BATCH];
};

/* Enqueue+dequeue pairs; -EPROTO if the ring misbehaves. */
static int st_ring_loops(struct wp_ring *r, struct st_buffers *b,
			 uint32_t batch, uint64_t loops)
{
	for (uint64_t i = 0; i < loops; i++) {
		if (wp_ring_enqueue_bulk(r, b->src, batch) != batch)
			return -EPROTO;
		if (wp_ring_dequeue_bulk(r, b->dst, batch) != batch)
			return -EPROTO;
		wp_bench_keep(b->dst);
	}
	return 0;
}

static int st_memcpy_loops(struct wp_ring *unused, struct st_buffers *b,
			   uint32_t batch, uint64_t loops)
{
	size_t len = batch * sizeof(void *);

	for (uint64_t i = 0; i < loops; i++) {
		memcpy(b->mid, b->src, len);
		/* Keeps the two copies from being folded into one. */
		wp_bench_keep(b->mid);
		memcpy(b->dst, b->mid, len);
		wp_bench_keep(b->dst);
	}
	return 0;
}

typedef int (*st_loops_fn)(struct wp_ring *r, struct st_buffers *b,
			   uint32_t batch, uint64_t loops);

static int st_run(st_loops_fn fn, struct wp_ring *r, struct st_buffers *b,
		  uint32_t batch, const struct budget *bud, struct measure *m)
{
	uint64_t loops = (CHUNK + batch - 1) / batch;
	uint64_t t0, c0, now, done = 0;
	int err;

	/* Warm-up: caches, branch predictors, the core's clock. */
	err = fn(r, b, batch, loops);
	if (err)
		return err;
	memset(m, 0, sizeof(*m));
	t0 = wp_time_real_ns();
	c0 = wp_bench_cycles();
	if (bud->elems) {
		loops = (bud->elems + batch - 1) / batch;
		err = fn(r, b, batch, loops);
		done = loops;
		now = wp_time_real_ns();
	} else {
		do {
			err = fn(r, b, batch, loops);
			done += loops;
			now = wp_time_real_ns();
		} while (!err && now - t0 < bud->ns);
	}
	m->cycles = wp_bench_cycles() - c0;
	m->ns = now - t0;
	m->elems = done * batch;
	return err;
}

/* --- two threads --------------------------------------------------------- */

struct mt_ctx {
	struct wp_ring *r;
	uint32_t batch;
	uint64_t target; /* objects to move; 0: until stop */
	int cpu[2];	 /* producer, consumer; -1: not pinned */
	_Atomic int ready;
	_Atomic bool go;
	_Atomic bool stop;	/* timed run is over (set by the caller) */
	_Atomic bool prod_done; /* producer will enqueue no more */
	bool prod_pinned;	/* producer's */
	bool cons_pinned;	/* consumer's */
	struct measure m; /* full_polls: producer's; the rest: consumer's */
};

static bool pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return false;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

static void mt_start(struct mt_ctx *c)
{
	atomic_fetch_add(&c->ready, 1);
	/* Acquire pairs with the release of go in mt_run. */
	while (!atomic_load_explicit(&c->go, memory_order_acquire))
		wp_cpu_relax();
}

static void *mt_producer(void *arg)
{
	struct mt_ctx *c = arg;
	void *src[MAX_BATCH];
	uint64_t sent = 0, full = 0;

	c->prod_pinned = pin_self(c->cpu[0]);
	for (uint32_t i = 0; i < c->batch; i++)
		src[i] = &src[i];
	mt_start(c);
	for (;;) {
		/* Relaxed: only the decision to stop hangs on this flag. */
		if (c->target ? sent >= c->target
			      : atomic_load_explicit(&c->stop,
						     memory_order_relaxed))
			break;
		if (wp_ring_enqueue_bulk(c->r, src, c->batch)) {
			sent += c->batch;
		} else {
			full++;
			wp_cpu_relax();
		}
	}
	c->m.full_polls = full;
	/* Release: the consumer that sees this has seen every enqueue. */
	atomic_store_explicit(&c->prod_done, true, memory_order_release);
	return NULL;
}

static void *mt_consumer(void *arg)
{
	struct mt_ctx *c = arg;
	void *dst[MAX_BATCH];
	uint64_t got = 0, empty = 0, t0, c0;

	c->cons_pinned = pin_self(c->cpu[1]);
	mt_start(c);
	t0 = wp_time_real_ns();
	c0 = wp_bench_cycles();
	for (;;) {
		uint32_t n = wp_ring_dequeue_bulk(c->r, dst, c->batch);

		if (n) {
			got += n;
			wp_bench_keep(dst);
			continue;
		}
		empty++;
		/* Acquire pairs with the producer's release of prod_done. */
		if (atomic_load_explicit(&c->prod_done, memory_order_acquire) &&
		    wp_ring_empty(c->r))
			break;
		wp_cpu_relax();
	}
	c->m.cycles = wp_bench_cycles() - c0;
	c->m.ns = wp_time_real_ns() - t0;
	c->m.elems = got;
	c->m.empty_polls = empty;
	return NULL;
}

/* The first two CPUs this thread may run on, or -1s. */
static void pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int n = 0;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	if (n < 2)
		cpu[0] = cpu[1] = -1;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / WP_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % WP_NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One two-thread run on the empty ring r; the ring is empty again after. */
static int mt_run(struct mt_ctx *c, const struct budget *bud)
{
	pthread_t prod, cons;
	int err;

	c->target = bud->elems;
	err = pthread_create(&cons, NULL, mt_consumer, c);
	if (err)
		return -err;
	err = pthread_create(&prod, NULL, mt_producer, c);
	if (err) {
		/* Let the consumer finish at once: no producer is coming. */
		atomic_store(&c->prod_done, true);
		atomic_store(&c->go, true);
		pthread_join(cons, NULL);
		return -err;
	}
	while (atomic_load(&c->ready) < 2)
		sched_yield();
	/* Release: the threads read the context only after seeing go. */
	atomic_store_explicit(&c->go, true, memory_order_release);
	if (!bud->elems) {
		sleep_ns(bud->ns);
		atomic_store(&c->stop, true);
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	return 0;
}

/* --- reporting ----------------------------------------------------------- */

struct record {
	const char *mode;
	uint32_t batch;
	struct measure *ring; /* REPS runs, sorted */
	struct measure *peer; /* REPS runs, sorted */
	const char *cpus;
	bool polls;
};

static void report(const struct wp_bench_opts *opts, const struct record *rec)
{
	const struct measure *med = &rec->ring[REPS / 2], *best = &rec->ring[0];
	const struct measure *peer = &rec->peer[REPS / 2];
	double ns = per_elem_ns(med), peer_ns = per_elem_ns(peer);
	uint64_t elems = 0, full = 0, empty = 0;

	for (int i = 0; i < REPS; i++) {
		elems += rec->ring[i].elems;
		full += rec->ring[i].full_polls;
		empty += rec->ring[i].empty_polls;
	}
	struct wp_bench_field f[] = {
		{ .key = "mode", .str = rec->mode },
		{ .key = "batch", .value = rec->batch },
		{ .key = "ns_per_elem", .value = ns, .unit = "ns" },
		{ .key = "cycles_per_elem",
		  .value = per_elem_cycles(med),
		  .unit = "cyc" },
		{ .key = "best_ns_per_elem",
		  .value = per_elem_ns(best),
		  .unit = "ns" },
		{ .key = "best_cycles_per_elem",
		  .value = per_elem_cycles(best),
		  .unit = "cyc" },
		{ .key = "mops", .value = 1e3 / ns, .unit = "M/s" },
		{ .key = "peer_memcpy_ns_per_elem",
		  .value = peer_ns,
		  .unit = "ns" },
		{ .key = "peer_memcpy_cycles_per_elem",
		  .value = per_elem_cycles(peer),
		  .unit = "cyc" },
		{ .key = "x_memcpy", .value = ns / peer_ns, .unit = "x" },
		{ .key = "elems", .value = (double)elems },
		{ .key = "cpus", .str = rec->cpus },
		/* Two threads only: how often each side waited. */
		{ .key = "full_polls", .value = (double)full },
		{ .key = "empty_polls", .value = (double)empty },
		{ 0 },
	};

	/* One thread never waits: end the record before the poll counts. */
	if (!rec->polls)
		f[WP_ARRAY_SIZE(f) - 3].key = NULL;
	wp_bench_report(opts, "ring", f);
}

static int bench_single(const struct wp_bench_opts *opts,
			const struct budget *bud, struct wp_ring *r,
			struct measure peer32[REPS])
{
	static const uint32_t batches[] = { 1, 8, 32, 128 };
	struct measure ring[REPS], peer[REPS];
	struct st_buffers b;
	int err = 0;

	for (uint32_t i = 0; i < MAX_BATCH; i++)
		b.src[i] = &b.src[i];
	for (size_t i = 0; i < WP_ARRAY_SIZE(batches); i++) {
		uint32_t batch = batches[i];
		struct record rec = {
			"1thread", batch, ring, peer, "any", false
		};

		/* Interleaved, so both see the same machine over time. */
		for (int k = 0; k < REPS && !err; k++) {
			err = st_run(st_ring_loops, r, &b, batch, bud,
				     &ring[k]);
			if (!err)
				err = st_run(st_memcpy_loops, r, &b, batch, bud,
					     &peer[k]);
		}
		if (err) {
			fprintf(stderr, "bench ring: batch %u: %s\n", batch,
				strerror(-err));
			return err;
		}
		sort_runs(ring);
		sort_runs(peer);
		if (batch == MT_BATCH)
			memcpy(peer32, peer, sizeof(peer));
		report(opts, &rec);
	}
	return 0;
}

static int bench_threads(const struct wp_bench_opts *opts,
			 const struct budget *bud, struct wp_ring *r,
			 struct measure peer32[REPS])
{
	struct measure ring[REPS];
	struct record rec = { "2thread", MT_BATCH,   ring,
			      peer32,	 "unpinned", true };
	bool pinned = true;
	char cpus[32];
	int cpu[2];
	int err;

	pick_cpus(cpu);
	for (int k = 0; k < REPS; k++) {
		struct mt_ctx c = { .r = r, .batch = MT_BATCH };

		c.cpu[0] = cpu[0];
		c.cpu[1] = cpu[1];
		err = mt_run(&c, bud);
		if (err) {
			fprintf(stderr, "bench ring: threads: %s\n",
				strerror(-err));
			return err;
		}
		ring[k] = c.m;
		pinned = pinned && c.prod_pinned && c.cons_pinned;
	}
	sort_runs(ring);
	if (pinned) {
		snprintf(cpus, sizeof(cpus), "%d,%d", cpu[0], cpu[1]);
		rec.cpus = cpus;
	}
	report(opts, &rec);
	return 0;
}

static int bench_ring(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 0.5;
	struct budget bud = {
		.elems = (opts->iterations + REPS - 1) / REPS,
		.ns = (uint64_t)(seconds * 1e9 / REPS),
	};
	struct measure peer32[REPS];
	struct wp_ring *r;
	int err;

	if (opts->argc > 0) {
		fprintf(stderr, "bench ring: takes no arguments\n");
		return -EINVAL;
	}
	r = wp_ring_create(RING_SIZE);
	if (!r) {
		err = -errno;
		fprintf(stderr, "bench ring: %s\n", strerror(errno));
		return err;
	}
	err = bench_single(opts, &bud, r, peer32);
	if (!err)
		err = bench_threads(opts, &bud, r, peer32);
	wp_ring_free(r);
	return err;
}

WP_BENCH_REGISTER(bench_ring, "ring",
		  "SPSC ring cost per object: bulk, 1 and 2 threads, vs memcpy")
