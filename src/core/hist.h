/* SPDX-License-Identifier: MIT */
/*
 * Log-linear histogram of non-negative values (latencies in ns): each
 * power of two is split into 16 linear sub-buckets, so any recorded value
 * is reported within 1/16 (6.25%) of itself, in a fixed 6 KiB with no
 * allocation. Values under 16 are exact. One writer; merge to combine.
 */
#ifndef WP_CORE_HIST_H
#define WP_CORE_HIST_H

#include <stdint.h>

#define WP_HIST_SUB_BITS 4
#define WP_HIST_SUB (1u << WP_HIST_SUB_BITS)
#define WP_HIST_BUCKETS ((64 - WP_HIST_SUB_BITS + 1) * WP_HIST_SUB)

struct wp_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min, max;
	uint64_t bucket[WP_HIST_BUCKETS];
};

void wp_hist_init(struct wp_hist *h);
void wp_hist_record(struct wp_hist *h, uint64_t v);
void wp_hist_merge(struct wp_hist *into, const struct wp_hist *from);

/* out = cur - prev (bucket-wise): what was recorded in between. min and
 * max are cur's (an upper bound for the interval). */
void wp_hist_diff(struct wp_hist *out, const struct wp_hist *cur,
		  const struct wp_hist *prev);

/* The value at quantile q in [0, 1] (upper edge of its bucket, clamped
 * to max); 0 when empty. */
uint64_t wp_hist_quantile(const struct wp_hist *h, double q);

static inline double wp_hist_mean(const struct wp_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

#endif
