// SPDX-License-Identifier: MIT
#include "test_core_common.h"

#include <pthread.h>
#include <string.h>

#include "core/drop.h"

static void names_match_reasons(void **state)
{
	assert_string_equal(wp_drop_reason_name(WP_DROP_IP_CSUM), "ip_csum");
	assert_string_equal(wp_drop_reason_name(WP_DROP_RING_FULL), "ring_full");
	assert_string_equal(wp_drop_reason_name(WP_DROP__MAX), "?");
	for (int r = 0; r < WP_DROP__MAX; r++)
		assert_non_null(wp_drop_reason_name(r));
}

static void bound_thread_counts_locally(void **state)
{
	struct wp_drop_stats mine, shared_before, shared_after;

	memset(&mine, 0, sizeof(mine));
	wp_drop_stats_shared(&shared_before);
	wp_drop_stats_bind(&mine);
	wp_drop_count(WP_DROP_UDP_CSUM);
	wp_drop_count(WP_DROP_UDP_CSUM);
	wp_drop_count(WP_DROP__MAX + 3); /* out of range: not specified */
	wp_drop_stats_bind(NULL);
	wp_drop_count(WP_DROP_UDP_CSUM);
	wp_drop_stats_shared(&shared_after);
	assert_int_equal(mine.count[WP_DROP_UDP_CSUM], 2);
	assert_int_equal(mine.count[WP_DROP_NOT_SPECIFIED], 1);
	assert_int_equal(shared_after.count[WP_DROP_UDP_CSUM] -
				 shared_before.count[WP_DROP_UDP_CSUM], 1);
}

static void *count_many(void *arg)
{
	for (int i = 0; i < 100000; i++)
		wp_drop_count(WP_DROP_NOMEM);
	return NULL;
}

static void unbound_threads_count_atomically(void **state)
{
	struct wp_drop_stats a, b;
	pthread_t t[4];

	wp_drop_stats_shared(&a);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, count_many, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	wp_drop_stats_shared(&b);
	assert_int_equal(b.count[WP_DROP_NOMEM] - a.count[WP_DROP_NOMEM],
			 400000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_match_reasons),
		cmocka_unit_test(bound_thread_counts_locally),
		cmocka_unit_test(unbound_threads_count_atomically),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
