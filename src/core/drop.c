// SPDX-License-Identifier: MIT
#include "core/drop.h"

#include <stdatomic.h>
#include <stddef.h>

static const char *const drop_names[WP_DROP__MAX] = {
#define WP__DROP_NAME(name, str) [WP_DROP_##name] = str,
	WP_DROP_REASONS(WP__DROP_NAME)
#undef WP__DROP_NAME
};

static _Thread_local struct wp_drop_stats *this_thread_drops;
static _Atomic uint64_t shared_drops[WP_DROP__MAX];

const char *wp_drop_reason_name(enum wp_drop_reason r)
{
	if ((unsigned)r >= WP_DROP__MAX)
		return "?";
	return drop_names[r];
}

void wp_drop_count(enum wp_drop_reason r)
{
	if ((unsigned)r >= WP_DROP__MAX)
		r = WP_DROP_NOT_SPECIFIED;
	if (this_thread_drops) {
		this_thread_drops->count[r]++;
		return;
	}
	atomic_fetch_add_explicit(&shared_drops[r], 1, memory_order_relaxed);
}

void wp_drop_stats_bind(struct wp_drop_stats *s)
{
	this_thread_drops = s;
}

void wp_drop_stats_shared(struct wp_drop_stats *out)
{
	for (size_t i = 0; i < WP_DROP__MAX; i++)
		out->count[i] = atomic_load_explicit(&shared_drops[i],
						     memory_order_relaxed);
}
