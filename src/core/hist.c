// SPDX-License-Identifier: MIT
#include "core/hist.h"

#include <string.h>

void wp_hist_init(struct wp_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/*
 * Bucket of v: values below WP_HIST_SUB map to themselves; otherwise the
 * exponent e of the top bit picks a group of WP_HIST_SUB buckets and the
 * next WP_HIST_SUB_BITS bits pick the sub-bucket.
 */
static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < WP_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);  /* e >= WP_HIST_SUB_BITS */
	return (e - WP_HIST_SUB_BITS + 1) * WP_HIST_SUB +
	       (unsigned)((v >> (e - WP_HIST_SUB_BITS)) & (WP_HIST_SUB - 1));
}

/* Largest value that falls into bucket b. */
static uint64_t bucket_upper(unsigned b)
{
	unsigned group = b / WP_HIST_SUB, sub = b % WP_HIST_SUB;
	unsigned e;
	uint64_t lo;

	if (group == 0)
		return b;
	e = group + WP_HIST_SUB_BITS - 1;
	lo = ((uint64_t)(WP_HIST_SUB + sub)) << (e - WP_HIST_SUB_BITS);
	return lo + (1ull << (e - WP_HIST_SUB_BITS)) - 1;
}

void wp_hist_record(struct wp_hist *h, uint64_t v)
{
	h->bucket[bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void wp_hist_merge(struct wp_hist *into, const struct wp_hist *from)
{
	for (unsigned i = 0; i < WP_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->count && from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

void wp_hist_diff(struct wp_hist *out, const struct wp_hist *cur,
		  const struct wp_hist *prev)
{
	for (unsigned i = 0; i < WP_HIST_BUCKETS; i++)
		out->bucket[i] = cur->bucket[i] - prev->bucket[i];
	out->count = cur->count - prev->count;
	out->sum = cur->sum - prev->sum;
	out->min = cur->min;
	out->max = cur->max;
}

uint64_t wp_hist_quantile(const struct wp_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The smallest value with at least ceil(q * count) values at or below. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	for (unsigned b = 0; b < WP_HIST_BUCKETS; b++) {
		seen += h->bucket[b];
		if (seen >= rank) {
			uint64_t up = bucket_upper(b);

			return up > h->max ? h->max : up;
		}
	}
	return h->max;
}
