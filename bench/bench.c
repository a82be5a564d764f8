// SPDX-License-Identifier: MIT
#include "bench.h"

#include <math.h>
#include <string.h>

#include "core/clock.h"

void wp_bench_report(const struct wp_bench_opts *opts, const char *name,
		     const struct wp_bench_field *f)
{
	if (opts->json) {
		printf("{\"bench\":\"%s\"", name);
		for (; f->key; f++) {
			if (f->str)
				printf(",\"%s\":\"%s\"", f->key, f->str);
			else if (isfinite(f->value))
				printf(",\"%s\":%.6g", f->key, f->value);
			else
				printf(",\"%s\":null", f->key);
		}
		printf("}\n");
	} else {
		printf("%-24s", name);
		for (const char *sep = ""; f->key; f++, sep = ", ") {
			if (f->str)
				printf("%s%s %s", sep, f->key, f->str);
			else
				printf("%s%s %.4g%s%s", sep, f->key, f->value,
				       f->unit ? " " : "", f->unit ? f->unit : "");
		}
		printf("\n");
	}
	fflush(stdout);
}

uint64_t wp_bench_cycles(void)
{
#if defined(__x86_64__)
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
#else
	return 0;
#endif
}

double wp_bench_cycles_per_sec(void)
{
	static double hz;
	uint64_t t0, c0, t1, c1;

	if (hz > 0)
		return hz;
	t0 = wp_time_real_ns();
	c0 = wp_bench_cycles();
	do {
		t1 = wp_time_real_ns();
	} while (t1 - t0 < 50 * WP_NSEC_PER_MSEC);
	c1 = wp_bench_cycles();
	hz = (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
	return hz;
}

#define WP_BENCH_MAX 64

static const struct wp_bench *registry[WP_BENCH_MAX];
static unsigned nregistered;

void wp_bench_register(const struct wp_bench *b)
{
	unsigned i;

	if (nregistered == WP_BENCH_MAX)
		return;
	/* Insertion sort by name: listings come out in a stable order. */
	for (i = nregistered; i > 0 && strcmp(registry[i - 1]->name, b->name) > 0;
	     i--)
		registry[i] = registry[i - 1];
	registry[i] = b;
	nregistered++;
}

const struct wp_bench *wp_bench_find(const char *name)
{
	for (unsigned i = 0; i < nregistered; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct wp_bench *wp_bench_at(unsigned i)
{
	return i < nregistered ? registry[i] : NULL;
}
