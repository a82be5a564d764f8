// SPDX-License-Identifier: MIT
/*
 * bench csum: the Internet checksum (src/wire/csum.c) in GB/s over 64,
 * 576, 1500 and 9000-byte buffers: a minimum frame, the IPv4 minimum
 * reassembly size, the Ethernet MTU and a jumbo frame.
 *
 * Peer, measured in the same run over the same buffers: memcpy, which
 * reads as many bytes and also writes them. A checksum that cannot keep
 * up with memcpy is what makes a copy-and-checksum receive path (Linux's
 * csum_and_copy_to_user) cost more than the copy alone.
 *
 * The buffers stay in L1/L2 (hot): this is the loop's own speed, not the
 * memory system's. Each measurement is REPS runs; the median run and the
 * best one are reported, since a preempted run on a shared machine only
 * ever makes it slower. --iterations counts calls per run.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "core/clock.h"
#include "wire/csum.h"

enum {
	REPS = 5,
	/* Calls between two looks at the clock in a timed run. */
	CHUNK = 256,
	MAX_SIZE = 9000,
};

static const size_t sizes[] = { 64, 576, 1500, 9000 };

struct run {
	uint64_t calls;
	uint64_t ns;
};

static double gbps(const struct run *r, size_t size)
{
	return r->ns ? (double)r->calls * (double)size / (double)r->ns : NAN;
}

static int by_ns_per_call(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	/* ns/call compared without dividing: x.ns/x.calls vs y.ns/y.calls */
	double l = (double)x->ns * (double)y->calls;
	double r = (double)y->ns * (double)x->calls;

	return (l > r) - (l < r);
}

static uint64_t csum_calls(const uint8_t *buf, size_t size, uint64_t n)
{
	uint32_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		acc += wp_csum_fold(wp_csum_partial(buf, size, 0));
		wp_bench_keep(buf); /* no hoisting the call out of the loop */
	}
	wp_bench_keep(&acc);
	return n;
}

static uint64_t memcpy_calls(uint8_t *dst, const uint8_t *src, size_t size,
			     uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		memcpy(dst, src, size);
		wp_bench_keep(dst);
	}
	return n;
}

/* One run of `calls` calls, or (calls == 0) of about `ns` nanoseconds. */
static struct run run_once(bool csum, uint8_t *dst, const uint8_t *src,
			   size_t size, uint64_t calls, uint64_t ns)
{
	struct run r = { 0 };
	uint64_t t0 = wp_time_real_ns(), now = t0;

	do {
		uint64_t n = calls ? calls : CHUNK;

		r.calls += csum ? csum_calls(src, size, n)
				: memcpy_calls(dst, src, size, n);
		now = wp_time_real_ns();
	} while (!calls && now - t0 < ns);
	r.ns = now - t0;
	return r;
}

static void measure(const struct wp_bench_opts *opts, uint8_t *dst,
		    const uint8_t *src, size_t size)
{
	uint64_t ns = (uint64_t)((opts->seconds > 0 ? opts->seconds : 0.5) *
				 1e9 / (2 * REPS));
	struct run c[REPS], m[REPS];
	double csum_med, memcpy_med;

	/* Interleaved, so a slow phase of the machine hits both alike. */
	run_once(true, dst, src, size, 0, ns / 4); /* warm up */
	for (int i = 0; i < REPS; i++) {
		c[i] = run_once(true, dst, src, size, opts->iterations, ns);
		m[i] = run_once(false, dst, src, size, opts->iterations, ns);
	}
	qsort(c, REPS, sizeof(c[0]), by_ns_per_call);
	qsort(m, REPS, sizeof(m[0]), by_ns_per_call);
	csum_med = gbps(&c[REPS / 2], size);
	memcpy_med = gbps(&m[REPS / 2], size);

	const struct wp_bench_field f[] = {
		{ "size", "B", (double)size, NULL },
		{ "csum", "GB/s", csum_med, NULL },
		{ "csum_best", "GB/s", gbps(&c[0], size), NULL },
		{ "csum_ns", "ns",
		  (double)c[REPS / 2].ns / (double)c[REPS / 2].calls, NULL },
		{ "memcpy", "GB/s", memcpy_med, NULL },
		{ "memcpy_best", "GB/s", gbps(&m[0], size), NULL },
		{ "csum_vs_memcpy", NULL, csum_med / memcpy_med, NULL },
		{ NULL, NULL, 0, NULL },
	};
	wp_bench_report(opts, "csum", f);
}

static int wp_bench_csum(const struct wp_bench_opts *opts)
{
	/* 64-byte aligned, like a packet buffer's data start; C11 wants the
	 * size a multiple of the alignment. */
	const size_t room = (MAX_SIZE + 64 + 63) & ~(size_t)63;
	uint8_t *src = aligned_alloc(64, room);
	uint8_t *dst = aligned_alloc(64, room);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!src || !dst) {
		free(src);
		free(dst);
		fprintf(stderr, "bench csum: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < MAX_SIZE + 64; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		src[i] = (uint8_t)x;
	}
	memset(dst, 0, MAX_SIZE + 64);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		measure(opts, dst, src, sizes[i]);
	free(src);
	free(dst);
	return 0;
}

WP_BENCH_REGISTER(
	wp_bench_csum, "csum",
	"Internet checksum GB/s vs memcpy over 64..9000-byte buffers");
