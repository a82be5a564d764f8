// SPDX-License-Identifier: MIT
#include "test_core_common.h"

#include "core/hist.h"

static void empty_and_exact_small_values(void **state)
{
	struct wp_hist h;

	wp_hist_init(&h);
	assert_int_equal(wp_hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 0; v < 10; v++)
		wp_hist_record(&h, v);
	assert_int_equal(h.count, 10);
	assert_int_equal(wp_hist_quantile(&h, 0.5), 4);
	assert_int_equal(wp_hist_quantile(&h, 0.0), 0);
	assert_int_equal(wp_hist_quantile(&h, 1.0), 9);
	assert_true(wp_hist_mean(&h) > 4.49 && wp_hist_mean(&h) < 4.51);
}

static void quantiles_within_one_sixteenth(void **state)
{
	struct wp_hist h;

	wp_hist_init(&h);
	for (uint64_t v = 1; v <= 100000; v++)
		wp_hist_record(&h, v * 7);
	for (int i = 1; i < 100; i++) {
		double q = i / 100.0;
		double want = q * 100000 * 7;
		double got = (double)wp_hist_quantile(&h, q);

		assert_true(got >= want * 0.999);
		assert_true(got <= want * (1 + 1.0 / 16) + 7);
	}
	assert_int_equal(wp_hist_quantile(&h, 1.0), 700000);
	assert_int_equal(h.min, 7);
}

static void huge_values_and_merge(void **state)
{
	struct wp_hist a, b;

	wp_hist_init(&a);
	wp_hist_init(&b);
	wp_hist_record(&a, UINT64_MAX);
	wp_hist_record(&b, 3);
	wp_hist_merge(&a, &b);
	assert_int_equal(a.count, 2);
	assert_int_equal(a.min, 3);
	assert_int_equal(wp_hist_quantile(&a, 0.5), 3);
	assert_int_equal(wp_hist_quantile(&a, 0.99), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_and_exact_small_values),
		cmocka_unit_test(quantiles_within_one_sixteenth),
		cmocka_unit_test(huge_values_and_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
