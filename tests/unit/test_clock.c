// SPDX-License-Identifier: MIT
#include "test_core_common.h"

#include "core/clock.h"

static void virtual_clock_moves_only_when_told(void **state)
{
	struct wp_clock c;

	wp_clock_init_virtual(&c, 1000);
	assert_true(wp_clock_is_virtual(&c));
	assert_int_equal(wp_clock_now(&c), 1000);
	wp_clock_advance(&c, 500);
	assert_int_equal(wp_clock_now(&c), 1500);
	wp_clock_set(&c, 1200); /* never backwards */
	assert_int_equal(wp_clock_now(&c), 1500);
	wp_clock_set(&c, 9000);
	assert_int_equal(wp_clock_now(&c), 9000);
}

static void real_clock_is_monotonic_and_ignores_set(void **state)
{
	struct wp_clock c;
	uint64_t a, b;

	wp_clock_init_real(&c);
	a = wp_clock_now(&c);
	wp_clock_set(&c, 1);
	wp_clock_advance(&c, WP_NSEC_PER_SEC * 1000);
	b = wp_clock_now(&c);
	assert_true(b >= a);
	assert_true(b - a < WP_NSEC_PER_SEC * 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtual_clock_moves_only_when_told),
		cmocka_unit_test(real_clock_is_monotonic_and_ignores_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
