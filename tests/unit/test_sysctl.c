// SPDX-License-Identifier: MIT
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "core/sysctl.h"

static void defaults_are_linux_defaults(void **state)
{
	struct wp_sysctl s;
	char buf[64];

	wp_sysctl_init(&s);
	assert_int_equal(wp_sysctl_read(&s.netdev_budget), 300);
	assert_int_equal(wp_sysctl_read(&s.netdev_budget_usecs), 2000);
	assert_int_equal(wp_sysctl_read(&s.dev_weight), 64);
	assert_int_equal(wp_sysctl_get(&s, "net.ipv4.tcp_rmem", buf,
				       sizeof(buf)), 0);
	assert_string_equal(buf, "4096\t131072\t6291456");
}

static void set_validates_and_changes_nothing_on_error(void **state)
{
	struct wp_sysctl s;
	char buf[64];

	wp_sysctl_init(&s);
	assert_int_equal(wp_sysctl_set(&s, "net.core.netdev_budget", "600"), 0);
	assert_int_equal(wp_sysctl_read(&s.netdev_budget), 600);
	assert_int_equal(wp_sysctl_set(&s, "net.core.netdev_budget", "0"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_set(&s, "net.core.netdev_budget", "-5"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_set(&s, "net.core.netdev_budget", "12x"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_set(&s, "net.core.netdev_budget", ""),
			 -EINVAL);
	assert_int_equal(wp_sysctl_read(&s.netdev_budget), 600);
	assert_int_equal(wp_sysctl_set(&s, "net.core.nope", "1"), -ENOENT);
	assert_int_equal(wp_sysctl_get(&s, "net.core.nope", buf, sizeof(buf)),
			 -ENOENT);
}

static void vectors_need_three_ordered_values(void **state)
{
	struct wp_sysctl s;

	wp_sysctl_init(&s);
	assert_int_equal(wp_sysctl_set(&s, "net.ipv4.tcp_rmem",
				       "4096 87380 1000000"), 0);
	assert_int_equal(wp_sysctl_read(&s.tcp_rmem[1]), 87380);
	assert_int_equal(wp_sysctl_set(&s, "net.ipv4.tcp_rmem", "4096 87380"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_set(&s, "net.ipv4.tcp_rmem", "9 5 10"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_set(&s, "net.ipv4.tcp_rmem", "1 2 3 4"),
			 -EINVAL);
	assert_int_equal(wp_sysctl_read(&s.tcp_rmem[2]), 1000000);
}

static void names_list_ends(void **state)
{
	size_t n = 0;

	while (wp_sysctl_name(n))
		n++;
	assert_true(n >= 11);
	assert_string_equal(wp_sysctl_name(0), "net.core.netdev_budget");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_are_linux_defaults),
		cmocka_unit_test(set_validates_and_changes_nothing_on_error),
		cmocka_unit_test(vectors_need_three_ordered_values),
		cmocka_unit_test(names_list_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
