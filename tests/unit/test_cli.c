// SPDX-License-Identifier: MIT
/*
 * The wirepath command's framework (tools/cli.c): value parsers accept
 * exactly what they document and refuse everything else without touching
 * the output; the option iterator; the JSON writer's escaping; the
 * command table. Messages go to stderr: the tests check the return value
 * and that *out is untouched on failure.
 */
#include "test_core_common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/*
 * Each test's stderr goes to a file (O_APPEND, so the writers' offsets
 * never matter); refused() reads what was written since the last look
 * and checks the message contract. Teardown replays what no check read
 * (cmocka's own failure reports, unexpected messages) to the real stderr.
 */
static char cap_path[] = "/tmp/wp-test-cli-XXXXXX";
static FILE *cap_reader;
static int real_stderr = -1;

static int cap_setup(void **state)
{
	int fd;

	(void)state;
	fflush(stderr);
	fd = mkstemp(cap_path);
	if (fd < 0)
		return -1;
	close(fd);
	fd = open(cap_path, O_WRONLY | O_APPEND);
	cap_reader = fopen(cap_path, "r");
	real_stderr = dup(2);
	if (fd < 0 || !cap_reader || real_stderr < 0 || dup2(fd, 2) < 0)
		return -1;
	close(fd);
	return 0;
}

static int cap_teardown(void **state)
{
	char line[1024];

	(void)state;
	fflush(stderr);
	dup2(real_stderr, 2);
	close(real_stderr);
	clearerr(cap_reader);
	while (fgets(line, sizeof(line), cap_reader))
		fputs(line, stderr);
	fclose(cap_reader);
	unlink(cap_path);
	strcpy(cap_path + strlen(cap_path) - 6, "XXXXXX");
	return 0;
}

/* Everything written to stderr since the last call (static buffer). */
static const char *new_messages(void)
{
	static char buf[4096];
	size_t n;

	fflush(stderr);
	clearerr(cap_reader);
	n = fread(buf, 1, sizeof(buf) - 1, cap_reader);
	buf[n] = '\0';
	return buf;
}

/*
 * ret is -EINVAL and exactly one line was printed:
 * "wirepath t: WHAT: <problem> (expected <what>)".
 */
static void refused(int ret, const char *what)
{
	const char *m = new_messages();
	char prefix[64];
	size_t len = strlen(m);

	snprintf(prefix, sizeof(prefix), "wirepath t: %s: ", what);
	assert_int_equal(ret, -EINVAL);
	assert_true(strncmp(m, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(m, " (expected "));
	assert_true(len >= 2 && strcmp(m + len - 2, ")\n") == 0);
	assert_ptr_equal(strchr(m, '\n'), m + len - 1);
}

/* ret is 0 and nothing was printed. */
static void accepted(int ret)
{
	assert_int_equal(ret, 0);
	assert_string_equal(new_messages(), "");
}

/* --- unsigned ------------------------------------------------------------- */

static void test_u64_plain(void **state)
{
	uint64_t v = 7;

	(void)state;
	accepted(wp_parse_u64("t", "--n", "0", WP_UNIT_NONE, 0, 10, &v));
	assert_int_equal(v, 0);
	accepted(wp_parse_u64("t", "--n", "1500", WP_UNIT_NONE, 64, 9000, &v));
	assert_int_equal(v, 1500);
	accepted(wp_parse_u64("t", "--n", "18446744073709551615", WP_UNIT_NONE,
			      0, UINT64_MAX, &v));
	assert_true(v == UINT64_MAX);
	/* Leading zeros are decimal, never octal. */
	accepted(wp_parse_u64("t", "--n", "010", WP_UNIT_NONE, 0, 100, &v));
	assert_int_equal(v, 10);
}

static void test_u64_refused(void **state)
{
	static const char *const bad[] = {
		"", " 1", "1 ", "+1", "-1", "-0", "1x", "0x10", "1.5", "1.",
		".5", "1e3", "18446744073709551616", "99999999999999999999999",
		"1k", "nan", "inf",
	};
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_u64("t", "--n", bad[i], WP_UNIT_NONE, 0,
				     UINT64_MAX, &v), "--n");
		assert_int_equal(v, 42);
	}
	/* Range, both ends. */
	refused(wp_parse_u64("t", "--n", "63", WP_UNIT_NONE, 64, 9000,
			     &v), "--n");
	refused(wp_parse_u64("t", "--n", "9001", WP_UNIT_NONE, 64, 9000,
			     &v), "--n");
	assert_int_equal(v, 42);
}

static void test_u64_units(void **state)
{
	uint64_t v = 0;

	(void)state;
	accepted(wp_parse_u64("t", "--size", "4K", WP_UNIT_BYTES, 0, UINT64_MAX,
			      &v));
	assert_int_equal(v, 4096);
	accepted(wp_parse_u64("t", "--size", "4k", WP_UNIT_BYTES, 0, UINT64_MAX,
			      &v));
	assert_int_equal(v, 4096);
	accepted(wp_parse_u64("t", "--size", "2MiB", WP_UNIT_BYTES, 0,
			      UINT64_MAX, &v));
	assert_int_equal(v, 2 << 20);
	accepted(wp_parse_u64("t", "--size", "1.5K", WP_UNIT_BYTES, 0,
			      UINT64_MAX, &v));
	assert_int_equal(v, 1536);
	accepted(wp_parse_u64("t", "--rate", "1M", WP_UNIT_SI, 0, UINT64_MAX,
			      &v));
	assert_int_equal(v, 1000000);
	accepted(wp_parse_u64("t", "--rate", "14.88M", WP_UNIT_SI, 0,
			      UINT64_MAX, &v));
	assert_int_equal(v, 14880000);
	accepted(wp_parse_u64("t", "--rate", "2.500000000000G", WP_UNIT_SI, 0,
			      UINT64_MAX, &v));
	assert_int_equal(v, 2500000000ULL);
	accepted(wp_parse_u64("t", "--rate", "0.000000001G", WP_UNIT_SI, 0,
			      UINT64_MAX, &v));
	assert_int_equal(v, 1);

	v = 9;
	/* A fraction that is not whole, unknown and misplaced suffixes. */
	refused(wp_parse_u64("t", "--rate", "1.0001k", WP_UNIT_SI, 0,
			     UINT64_MAX, &v), "--rate");
	refused(wp_parse_u64("t", "--size", "1.0001K", WP_UNIT_BYTES, 0,
			     UINT64_MAX, &v), "--size");
	refused(wp_parse_u64("t", "--size", "4KB", WP_UNIT_BYTES, 0, UINT64_MAX,
			     &v), "--size");
	refused(wp_parse_u64("t", "--size", "4 K", WP_UNIT_BYTES, 0, UINT64_MAX,
			     &v), "--size");
	refused(wp_parse_u64("t", "--rate", "1Mi", WP_UNIT_SI, 0, UINT64_MAX,
			     &v), "--rate");
	refused(wp_parse_u64("t", "--size", "K", WP_UNIT_BYTES, 0, UINT64_MAX,
			     &v), "--size");
	/* Overflow through the multiplier, and through the fraction. */
	refused(wp_parse_u64("t", "--size", "17179869184G", WP_UNIT_BYTES, 0,
			     UINT64_MAX, &v), "--size");
	refused(wp_parse_u64("t", "--rate", "18446744073.8G", WP_UNIT_SI, 0,
			     UINT64_MAX, &v), "--rate");
	/* Too many significant fraction digits. */
	refused(wp_parse_u64("t", "--rate", "1.0000000000000000001G",
			     WP_UNIT_SI, 0, UINT64_MAX, &v), "--rate");
	assert_int_equal(v, 9);
	/* The suffix applies before the range check. */
	refused(wp_parse_u64("t", "--size", "64K", WP_UNIT_BYTES, 0, 65535,
			     &v), "--size");
	assert_int_equal(v, 9);
}

static void test_u32_wrapper(void **state)
{
	uint32_t v = 3;

	(void)state;
	accepted(wp_parse_u32("t", "--n", "4294967295", WP_UNIT_NONE, 0,
			      UINT32_MAX, &v));
	assert_true(v == UINT32_MAX);
	v = 3;
	refused(wp_parse_u32("t", "--n", "4294967296", WP_UNIT_NONE, 0,
			     UINT32_MAX, &v), "--n");
	assert_int_equal(v, 3);
}

/* --- signed and doubles --------------------------------------------------- */

static void test_i64(void **state)
{
	int64_t v = 5;

	(void)state;
	accepted(wp_parse_i64("t", "--n", "-20", -100, 100, &v));
	assert_int_equal(v, -20);
	accepted(wp_parse_i64("t", "--n", "-9223372036854775808", INT64_MIN,
			      INT64_MAX, &v));
	assert_true(v == INT64_MIN);
	accepted(wp_parse_i64("t", "--n", "9223372036854775807", INT64_MIN,
			      INT64_MAX, &v));
	assert_true(v == INT64_MAX);

	v = 5;
	refused(wp_parse_i64("t", "--n", "9223372036854775808", INT64_MIN,
			     INT64_MAX, &v), "--n");
	refused(wp_parse_i64("t", "--n", "-9223372036854775809", INT64_MIN,
			     INT64_MAX, &v), "--n");
	refused(wp_parse_i64("t", "--n", "+1", -10, 10, &v), "--n");
	refused(wp_parse_i64("t", "--n", "-", -10, 10, &v), "--n");
	refused(wp_parse_i64("t", "--n", "", -10, 10, &v), "--n");
	refused(wp_parse_i64("t", "--n", "1-", -10, 10, &v), "--n");
	refused(wp_parse_i64("t", "--n", "-11", -10, 10, &v), "--n");
	refused(wp_parse_i64("t", "--n", "11", -10, 10, &v), "--n");
	assert_int_equal(v, 5);
}

static void test_double(void **state)
{
	double v = 1;

	(void)state;
	accepted(wp_parse_double("t", "--s", "0.5", 0, 10, &v));
	assert_true(v == 0.5);
	accepted(wp_parse_double("t", "--s", "-2.5e-1", -1, 1, &v));
	assert_true(v == -0.25);
	accepted(wp_parse_double("t", "--s", "10", 0, 10, &v));
	assert_true(v == 10);

	v = 1;
	static const char *const bad[] = {
		"", "nan", "inf", "-inf", "infinity", "0x1p3", " 1", "1 ", "1.",
		".5", "1e", "1e+", "+1", "1,5", "1e999", "--1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_double("t", "--s", bad[i], -1e300, 1e300,
					&v), "--s");
		assert_true(v == 1);
	}
	refused(wp_parse_double("t", "--s", "0", 1e-6, 10, &v), "--s");
	refused(wp_parse_double("t", "--s", "10.01", 0, 10, &v), "--s");
	assert_true(v == 1);
}

/* --- durations ------------------------------------------------------------ */

static void test_duration(void **state)
{
	uint64_t ns = 0;

	(void)state;
	accepted(wp_parse_duration("t", "--d", "50us", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 50000);
	accepted(wp_parse_duration("t", "--d", "50\xc2\xb5s", 0, 0, UINT64_MAX,
				   &ns));
	assert_int_equal(ns, 50000);
	accepted(wp_parse_duration("t", "--d", "1.5s", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 1500000000ULL);
	accepted(wp_parse_duration("t", "--d", "2ms", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 2000000);
	accepted(wp_parse_duration("t", "--d", "250ns", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 250);
	accepted(wp_parse_duration("t", "--d", "1m", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 60000000000ULL);
	accepted(wp_parse_duration("t", "--d", "1h", 0, 0, UINT64_MAX, &ns));
	assert_int_equal(ns, 3600000000000ULL);
	/* A bare number counts the given unit (rx-usecs: microseconds). */
	accepted(wp_parse_duration("t", "rx-usecs", "50", 1000, 0, UINT64_MAX,
				   &ns));
	assert_int_equal(ns, 50000);

	ns = 77;
	static const char *const bad[] = {
		"", "50", "-1us", "1.5ns", "5 us", "5usec", "us", "1.us",
		"5s5", "99999999999h",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_duration("t", "--d", bad[i], 0, 0, UINT64_MAX,
					  &ns), "--d");
		assert_int_equal(ns, 77);
	}
	refused(wp_parse_duration("t", "--d", "999ns", 0, 1000, 2000,
				  &ns), "--d");
	refused(wp_parse_duration("t", "--d", "3us", 0, 1000, 2000,
				  &ns), "--d");
	assert_int_equal(ns, 77);
}

/* --- addresses ------------------------------------------------------------ */

static void test_mac(void **state)
{
	uint8_t m[6] = { 0 };
	const uint8_t want[6] = { 0x02, 0x00, 0x5e, 0xab, 0xcd, 0xef };
	const uint8_t zero[6] = { 0 };

	(void)state;
	accepted(wp_parse_mac("t", "--mac", "02:00:5e:AB:cd:ef", m));
	assert_memory_equal(m, want, 6);
	accepted(wp_parse_mac("t", "--mac", "2:0:5e:ab:cd:ef", m));
	assert_memory_equal(m, want, 6);

	memset(m, 0, 6);
	static const char *const bad[] = {
		"", "02:00:5e:ab:cd", "02:00:5e:ab:cd:ef:01",
		"02-00-5e-ab-cd-ef",
		"020:0:5e:ab:cd:ef", "02:00:5e:ab:cd:eg", "02:00:5e:ab:cd:",
		"02::5e:ab:cd:ef", " 02:00:5e:ab:cd:ef", "02:00:5e:ab:cd:ef ",
		"0200.5eab.cdef",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_mac("t", "--mac", bad[i], m), "--mac");
		assert_memory_equal(m, zero, 6);
	}
}

static void test_ipv4(void **state)
{
	uint32_t a = 1;

	(void)state;
	accepted(wp_parse_ipv4("t", "--gw", "10.0.0.1", &a));
	assert_int_equal(a, 0x0a000001);
	accepted(wp_parse_ipv4("t", "--gw", "255.255.255.255", &a));
	assert_true(a == 0xffffffff);
	accepted(wp_parse_ipv4("t", "--gw", "0.0.0.0", &a));
	assert_int_equal(a, 0);

	a = 1;
	static const char *const bad[] = {
		"", "10.0.0", "10.0.0.1.2", "10.0.0.256", "10.0.0.1000",
		"010.0.0.1", "10.0.0.01", "10..0.1", "10.0.0.", ".10.0.0",
		"10.0.0.1 ", "a.b.c.d", "10.0.0.-1", "0x0a.0.0.1", "167772161",
		"10.0.0.1/24",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_ipv4("t", "--gw", bad[i], &a), "--gw");
		assert_int_equal(a, 1);
	}
}

static void test_ipv4_prefix(void **state)
{
	uint32_t a = 1;
	unsigned p = 99;

	(void)state;
	accepted(wp_parse_ipv4_prefix("t", "--addr", "10.0.0.2/24", false, &a,
				      &p));
	assert_int_equal(a, 0x0a000002);
	assert_int_equal(p, 24);
	accepted(wp_parse_ipv4_prefix("t", "--addr", "0.0.0.0/0", false, &a,
				      &p));
	assert_int_equal(p, 0);
	accepted(wp_parse_ipv4_prefix("t", "--addr", "10.0.0.2/32", false, &a,
				      &p));
	assert_int_equal(p, 32);
	accepted(wp_parse_ipv4_prefix("t", "--addr", "10.0.0.3", true, &a, &p));
	assert_int_equal(a, 0x0a000003);
	assert_int_equal(p, 32);

	a = 1;
	p = 99;
	static const char *const bad[] = {
		"", "10.0.0.2", "10.0.0.2/", "10.0.0.2/33", "10.0.0.2/024",
		"10.0.0.2/2a", "10.0.0.2/-1", "10.0.0.2/24/8", "10.0.0/24",
		"10.0.0.2/99999999999999999999", "/24",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(wp_parse_ipv4_prefix("t", "--addr", bad[i], false, &a,
					     &p), "--addr");
		assert_int_equal(a, 1);
		assert_int_equal(p, 99);
	}
}

static void test_choice(void **state)
{
	static const char *const names[] = { "sim", "pair", "tap", NULL };
	unsigned i = 9;

	(void)state;
	accepted(wp_parse_choice("t", "--backend", "tap", names, &i));
	assert_int_equal(i, 2);
	i = 9;
	refused(wp_parse_choice("t", "--backend", "TAP", names,
				&i), "--backend");
	refused(wp_parse_choice("t", "--backend", "ta", names,
				&i), "--backend");
	refused(wp_parse_choice("t", "--backend", "", names, &i), "--backend");
	assert_int_equal(i, 9);
}

/* --- option iterator ------------------------------------------------------ */

static int cmd_noop(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const struct wp_cmd test_cmd = { "t", "test", "usage: t\n", cmd_noop };

enum { O_SIZE, O_JSON, O_COUNT };

static const struct wp_opt test_opts[] = {
	{ "size", 's', true, O_SIZE },
	{ "json", 'j', false, O_JSON },
	{ "count", 0, true, O_COUNT },
	{ NULL, 0, false, 0 },
};

static void test_args_forms(void **state)
{
	char *argv[] = { "t", "--size", "10", "pos1", "--size=20", "-s30",
			 "-s", "40", "-j", "--json", "-", "--", "--size",
			 "-j", NULL };
	struct wp_args a;

	(void)state;
	wp_args_init(&a, &test_cmd, test_opts, 14, argv);
	assert_int_equal(wp_args_next(&a), O_SIZE);
	assert_string_equal(a.arg, "10");
	assert_string_equal(a.opt, "--size");
	assert_int_equal(wp_args_next(&a), WP_ARG_POSITIONAL);
	assert_string_equal(a.arg, "pos1");
	assert_int_equal(wp_args_next(&a), O_SIZE);
	assert_string_equal(a.arg, "20");
	assert_string_equal(a.opt, "--size");
	assert_int_equal(wp_args_next(&a), O_SIZE);
	assert_string_equal(a.arg, "30");
	assert_string_equal(a.opt, "-s");
	assert_int_equal(wp_args_next(&a), O_SIZE);
	assert_string_equal(a.arg, "40");
	assert_int_equal(wp_args_next(&a), O_JSON);
	assert_int_equal(wp_args_next(&a), O_JSON);
	assert_int_equal(wp_args_next(&a), WP_ARG_POSITIONAL);
	assert_string_equal(a.arg, "-");
	/* After "--" everything is positional. */
	assert_int_equal(wp_args_next(&a), WP_ARG_POSITIONAL);
	assert_string_equal(a.arg, "--size");
	assert_int_equal(wp_args_next(&a), WP_ARG_POSITIONAL);
	assert_string_equal(a.arg, "-j");
	assert_int_equal(wp_args_next(&a), WP_ARG_END);
	assert_int_equal(wp_args_next(&a), WP_ARG_END);
}

static int next_of(int argc, char **argv)
{
	struct wp_args a;

	wp_args_init(&a, &test_cmd, test_opts, argc, argv);
	return wp_args_next(&a);
}

/* A usage error: one message line naming the option, then the usage. */
static void usage_error(int ret, const char *msg)
{
	const char *m = new_messages();
	char want[256];

	snprintf(want, sizeof(want), "wirepath t: %s\nusage: t\n", msg);
	assert_int_equal(ret, WP_ARG_ERROR);
	assert_string_equal(m, want);
}

static void test_args_errors(void **state)
{
	char *unknown[] = { "t", "--frob=1", NULL };
	char *unknown_short[] = { "t", "-x", NULL };
	char *prefix[] = { "t", "--siz", "1", NULL }; /* no abbreviations */
	char *missing[] = { "t", "--size", NULL };
	char *missing_short[] = { "t", "-s", NULL };
	char *novalue[] = { "t", "--json=1", NULL };
	char *bundled[] = { "t", "-jj", NULL };
	char *helpval[] = { "t", "--help=1", NULL };

	(void)state;
	usage_error(next_of(2, unknown),
		    "--frob: unknown option (expected --size, --json, "
		    "--count, or --help)");
	usage_error(next_of(2, unknown_short),
		    "-x: unknown option (expected --size, --json, --count, "
		    "or --help)");
	usage_error(next_of(3, prefix),
		    "--siz: unknown option (expected --size, --json, "
		    "--count, or --help)");
	usage_error(next_of(2, missing), "--size: needs a value");
	usage_error(next_of(2, missing_short), "-s: needs a value");
	usage_error(next_of(2, novalue), "--json: takes no value (got '1')");
	usage_error(next_of(2, bundled),
		    "-j: takes no value, and options cannot be bundled "
		    "(got '-jj'; give them separately)");
	usage_error(next_of(2, helpval), "--help: takes no value (got '1')");
}

static void test_args_help(void **state)
{
	char *help[] = { "t", "--help", NULL };
	char *help_short[] = { "t", "-h", NULL };
	char *path = NULL;
	size_t size = 0;
	FILE *mem;
	int saved = dup(1);

	(void)state;
	/* Help prints the usage on stdout: catch it in a pipe-free way. */
	assert_true(saved >= 0);
	fflush(stdout);
	mem = tmpfile();
	assert_non_null(mem);
	assert_true(dup2(fileno(mem), 1) >= 0);
	assert_int_equal(next_of(2, help), WP_ARG_HELP);
	assert_int_equal(next_of(2, help_short), WP_ARG_HELP);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	rewind(mem);
	assert_true(getline(&path, &size, mem) > 0);
	assert_string_equal(path, "usage: t\n");
	assert_true(getline(&path, &size, mem) > 0);
	assert_string_equal(path, "usage: t\n");
	assert_true(getline(&path, &size, mem) < 0);
	free(path);
	fclose(mem);
	assert_string_equal(new_messages(), "");
}

/* --- JSON ----------------------------------------------------------------- */

/* Run fn writing to a memory stream; returns the malloc'd text. */
static char *json_of(void (*fn)(FILE *f))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void write_escapes(FILE *f)
{
	static const char s[] = "q\" b\\ n\n t\t r\r \x01 \x1f \x7f "
				"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
				"\xff \xc3 \xe0\x80\x80 \xed\xa0\x80 "
				"\xf4\x90\x80\x80 \xc0\xaf";

	wp_json_write_string(f, s, sizeof(s) - 1);
}

static void test_json_escape(void **state)
{
	char *out = json_of(write_escapes);

	(void)state;
	/* Valid UTF-8 passes through; each invalid byte becomes U+FFFD. */
	assert_string_equal(out,
		"\"q\\\" b\\\\ n\\n t\\t r\\r \\u0001 \\u001f \x7f "
		"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
		"\\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd "
		"\\ufffd\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"");
	free(out);
}

static void write_embedded_nul(FILE *f)
{
	wp_json_write_string(f, "a\0b", 3);
}

static void test_json_nul(void **state)
{
	char *out = json_of(write_embedded_nul);

	(void)state;
	assert_string_equal(out, "\"a\\u0000b\"");
	free(out);
}

static void write_object(FILE *f)
{
	struct wp_json j;

	wp_json_begin(&j, f);
	wp_json_str(&j, "s", "x\"y");
	wp_json_str(&j, "null_str", NULL);
	wp_json_u64(&j, "u", UINT64_MAX);
	wp_json_i64(&j, "i", INT64_MIN);
	wp_json_double(&j, "d", 0.25);
	wp_json_double(&j, "nan", NAN);
	wp_json_double(&j, "inf", INFINITY);
	wp_json_bool(&j, "t", true);
	wp_json_bool(&j, "f", false);
	wp_json_null(&j, "n");
	wp_json_array_begin(&j, "a");
	wp_json_u64(&j, NULL, 1);
	wp_json_object_begin(&j, NULL);
	wp_json_str(&j, "k", "v");
	wp_json_object_end(&j);
	wp_json_array_begin(&j, NULL);
	wp_json_array_end(&j);
	wp_json_array_end(&j);
	wp_json_object_begin(&j, "o");
	wp_json_object_end(&j);
	wp_json_end(&j);
	/* A second record starts fresh. */
	wp_json_begin(&j, f);
	wp_json_u64(&j, "second", 2);
	wp_json_end(&j);
}

static void test_json_object(void **state)
{
	char *out = json_of(write_object);

	(void)state;
	assert_string_equal(out,
		"{\"s\":\"x\\\"y\",\"null_str\":null,"
		"\"u\":18446744073709551615,\"i\":-9223372036854775808,"
		"\"d\":0.25,\"nan\":null,\"inf\":null,\"t\":true,\"f\":false,"
		"\"n\":null,\"a\":[1,{\"k\":\"v\"},[]],\"o\":{}}\n"
		"{\"second\":2}\n");
	free(out);
}

/* --- the command table ---------------------------------------------------- */

static const struct wp_cmd cmd_b = { "bravo", "b", "usage: b\n", cmd_noop };
static const struct wp_cmd cmd_a = { "alpha", "a", "usage: a\n", cmd_noop };

static void test_registry(void **state)
{
	(void)state;
	assert_null(wp_cmd_at(0));
	assert_null(wp_cmd_find("alpha"));
	wp_cmd_register(&cmd_b);
	wp_cmd_register(&cmd_a);
	assert_ptr_equal(wp_cmd_at(0), &cmd_a); /* name order */
	assert_ptr_equal(wp_cmd_at(1), &cmd_b);
	assert_null(wp_cmd_at(2));
	assert_ptr_equal(wp_cmd_find("bravo"), &cmd_b);
	assert_null(wp_cmd_find("brav"));
}

/* Every test runs with stderr captured (cap_setup). */
#define T(fn) cmocka_unit_test_setup_teardown(fn, cap_setup, cap_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_u64_plain),
		T(test_u64_refused),
		T(test_u64_units),
		T(test_u32_wrapper),
		T(test_i64),
		T(test_double),
		T(test_duration),
		T(test_mac),
		T(test_ipv4),
		T(test_ipv4_prefix),
		T(test_choice),
		T(test_args_forms),
		T(test_args_errors),
		T(test_args_help),
		T(test_json_escape),
		T(test_json_nul),
		T(test_json_object),
		T(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
