/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks (`wirepath bench NAME [--json]`). Each benchmark measures
 * itself and a peer in the same run (memcpy, the kernel, line rate) and
 * prints one record per measurement: human text, or with --json one JSON
 * object per line. Benchmarks never judge: no thresholds, only figures.
 */
#ifndef WP_BENCH_BENCH_H
#define WP_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct wp_bench_opts {
	bool json;
	uint64_t iterations;  /* 0: the benchmark's default */
	double seconds;       /* 0: the benchmark's default */
	int argc;             /* remaining arguments, benchmark-specific */
	char **argv;
};

typedef int (*wp_bench_fn)(const struct wp_bench_opts *opts);

struct wp_bench {
	const char *name;
	const char *summary;
	wp_bench_fn fn;
};

/* One field of a record; value is a double unless str is set. */
struct wp_bench_field {
	const char *key;
	const char *unit;   /* printed after the value in text mode; may be NULL */
	double value;
	const char *str;
};

/*
 * Print a record: text "name: key value unit, key value unit" or JSON
 * {"bench":"name","key":value,...}. Fields end at the first key == NULL.
 */
void wp_bench_report(const struct wp_bench_opts *opts, const char *name,
		     const struct wp_bench_field *fields);

/* Cycle counter (rdtsc on x86-64, 0 elsewhere) and its rate in Hz,
 * calibrated once against CLOCK_MONOTONIC. */
uint64_t wp_bench_cycles(void);
double wp_bench_cycles_per_sec(void);

/* Keep the compiler from deleting a computed value. */
static inline void wp_bench_keep(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Registration: each bench/bench_<name>.c ends with
 *     WP_BENCH_REGISTER(wp_bench_ring, "ring", "SPSC ring cost per element");
 * which adds it to the registry before main() runs (the bench library is
 * linked whole into the wirepath command).
 */
void wp_bench_register(const struct wp_bench *b);
const struct wp_bench *wp_bench_find(const char *name);
/* The i-th registered benchmark in name order, or NULL past the end. */
const struct wp_bench *wp_bench_at(unsigned i);

#define WP_BENCH_REGISTER(fn, name, summary)                               \
	static void __attribute__((constructor)) fn##__register(void)      \
	{                                                                  \
		static const struct wp_bench b = { name, summary, fn };    \
		wp_bench_register(&b);                                     \
	}

#endif
