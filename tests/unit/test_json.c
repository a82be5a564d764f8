// SPDX-License-Identifier: MIT
/*
 * The applications' JSON reader (apps/json.h): iperf3's parameters and
 * results scan into members; everything that is not one valid object is
 * refused, whatever its bytes, and nothing past the given length is read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../apps/json.h"

/* The last scan's copy: the members point into it until the next. */
static char *copy;

static int scan(const char *s, struct wp_json_member *m, unsigned *n)
{
	/* A copy without a NUL: the reader must stop at the length. */
	size_t len = strlen(s);

	free(copy);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, s, len);
	return wp_json_scan(copy, len, m, 16, n);
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

static void test_iperf3_params(void **state)
{
	const char *p =
		"{\"tcp\":\ttrue, \"omit\":0,\"time\":10,\"parallel\":2,"
		"\"reverse\":true,\"len\":131072,\"bandwidth\":0,"
		"\"pacing_timer\":1000,\"client_version\":\"3.12\","
		"\"x\":{\"a\":[1,2.5e-3,{\"b\":null}]},\"neg\":-7}";
	struct wp_json_member m[16];
	unsigned n;
	int64_t v;
	bool b;

	(void)state;
	assert_int_equal(wp_json_scan(p, strlen(p), m, 16, &n), 0);
	assert_int_equal(n, 11);
	assert_int_equal(wp_json_read_bool(m, n, "tcp", &b), 0);
	assert_true(b);
	assert_int_equal(wp_json_read_bool(m, n, "udp", &b), -ENOENT);
	assert_int_equal(wp_json_read_int(m, n, "parallel", 1, 128, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(wp_json_read_int(m, n, "len", 1, 1000, &v), -EINVAL);
	assert_int_equal(wp_json_read_int(m, n, "neg", -10, 0, &v), 0);
	assert_int_equal(v, -7);
	/* A string is not a number, nor a number a flag. */
	assert_int_equal(wp_json_read_int(m, n, "client_version", 0, 9, &v),
			 -EINVAL);
	assert_int_equal(wp_json_read_bool(m, n, "time", &b), -EINVAL);
	assert_non_null(wp_json_get(m, n, "client_version"));
	assert_int_equal(wp_json_get(m, n, "client_version")->val_len, 4);
	assert_int_equal(wp_json_get(m, n, "x")->type, WP_JSON_OBJECT);
	/* Too many members for the table: counted, refused. */
	assert_int_equal(wp_json_scan(p, strlen(p), m, 4, &n), -E2BIG);
	assert_int_equal(n, 11);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"[]",
		"{",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,}",
		"{\"a\":1}x",
		"{\"a\":01}",
		"{\"a\":1.}",
		"{\"a\":-}",
		"{\"a\":1e}",
		"{\"a\":tru}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12g4\"}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"ctl\x01\"}",
		"{a:1}",
		"{\"a\":[1,]}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
		"{\"a\":1}{\"b\":2}",
	};
	struct wp_json_member m[16];
	unsigned n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(scan(bad[i], m, &n), -EINVAL);
	assert_int_equal(scan(" {} ", m, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(scan("{\"s\":\"a\\\"b\\u00e9\"}", m, &n), 0);
	assert_int_equal(m[0].val_len, 10);
	/* Depth at the bound passes, one more fails. */
	assert_int_equal(scan("{\"a\":[[[[[[[[[[[[[[1]]]]]]]]]]]]]]}", m, &n),
			 0);
}

/* Every prefix of a valid object is refused, and read within bounds. */
static void test_prefixes(void **state)
{
	const char *p = "{\"cpu_util_total\":1.5,\"streams\":[{\"id\":1,"
			"\"bytes\":123,\"jitter\":0}],\"ok\":false}";
	struct wp_json_member m[16];
	unsigned n;

	(void)state;
	for (size_t l = 0; l < strlen(p); l++) {
		char *c = malloc(l ? l : 1);

		assert_non_null(c);
		memcpy(c, p, l);
		assert_int_equal(wp_json_scan(c, l, m, 16, &n), -EINVAL);
		free(c);
	}
	assert_int_equal(scan(p, m, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(wp_json_get(m, n, "streams")->type, WP_JSON_ARRAY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_iperf3_params, teardown),
		cmocka_unit_test_teardown(test_refused, teardown),
		cmocka_unit_test_teardown(test_prefixes, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
