// SPDX-License-Identifier: MIT
/*
 * UDP: a captured datagram (checksum as tcpdump computes it), the zero
 * checksum, trimming to the length field, every rejection with its drop
 * reason; emit reproduces the captured bytes, sends a computed 0 as ffff,
 * and fails cleanly.
 */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "wire/udp.h"

#define LO 0x7f000001u

/* 127.0.0.1:47448 -> 127.0.0.1:5557 "hello udp\n", captured on lo. */
static const uint8_t dgram[18] = { 0xb9, 0x58, 0x15, 0xb5, 0x00, 0x12,
				   0x09, 0x59, 'h',  'e',  'l',  'l',
				   'o',  ' ',  'u',  'd',  'p',  '\n' };

static void expect_reject(const uint8_t *p, size_t len, unsigned flags,
			  int err, enum wp_drop_reason reason)
{
	struct wp_udp_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_udp_parse(p, len, LO, LO, flags, &r, &why), err);
	assert_int_equal(why, reason);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(wp_udp_parse(p, len, LO, LO, flags, &r, NULL), err);
}

static void test_parse_captured(void **state)
{
	struct wp_udp_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_udp_parse(dgram, 18, LO, LO, 0, &r, &why), 0);
	assert_int_equal(r.sport, 47448);
	assert_int_equal(r.dport, 5557);
	assert_ptr_equal(r.payload, dgram + 8);
	assert_int_equal(r.payload_len, 10);
	assert_memory_equal(r.payload, "hello udp\n", 10);
}

static void test_zero_checksum_means_none(void **state)
{
	uint8_t d[18];
	struct wp_udp_repr r;

	(void)state;
	memcpy(d, dgram, 18);
	d[6] = d[7] = 0;
	d[17] = '!'; /* would not verify if it were checked */
	assert_int_equal(wp_udp_parse(d, 18, LO, LO, 0, &r, NULL), 0);
	assert_int_equal(r.payload_len, 10);
}

static void test_trim_to_length_field(void **state)
{
	uint8_t d[32];
	struct wp_udp_repr r;

	(void)state;
	/* Trailing bytes past the length field are not part of it. */
	memcpy(d, dgram, 18);
	memset(d + 18, 0xab, sizeof(d) - 18);
	assert_int_equal(wp_udp_parse(d, sizeof(d), LO, LO, 0, &r, NULL), 0);
	assert_int_equal(r.payload_len, 10);
	/* An empty datagram: length 8. */
	memcpy(d, "\x00\x07\x00\x09\x00\x08\x00\x00", 8);
	assert_int_equal(wp_udp_parse(d, 8, LO, LO, 0, &r, NULL), 0);
	assert_int_equal(r.payload_len, 0);
}

static void test_reject_length(void **state)
{
	uint8_t d[18];

	(void)state;
	for (size_t n = 0; n < 8; n++)
		expect_reject(dgram, n, 0, -EINVAL, WP_DROP_UDP_LEN);
	/* The length field promises more than the IP payload holds. */
	expect_reject(dgram, 17, 0, -EINVAL, WP_DROP_UDP_LEN);
	expect_reject(dgram, 17, WP_WIRE_CSUM_UNNECESSARY, -EINVAL,
		      WP_DROP_UDP_LEN);
	/* Length field below the header: 0 and 7. */
	memcpy(d, dgram, 18);
	d[4] = 0;
	d[5] = 7;
	expect_reject(d, 18, 0, -EINVAL, WP_DROP_UDP_LEN);
	d[5] = 0;
	expect_reject(d, 18, WP_WIRE_CSUM_UNNECESSARY, -EINVAL,
		      WP_DROP_UDP_LEN);
	d[4] = 0xff;
	d[5] = 0xff;
	expect_reject(d, 18, 0, -EINVAL, WP_DROP_UDP_LEN);
}

static void test_reject_csum(void **state)
{
	uint8_t d[18];
	struct wp_udp_repr r;

	(void)state;
	memcpy(d, dgram, 18);
	d[17] = '!';
	expect_reject(d, 18, 0, -EBADMSG, WP_DROP_UDP_CSUM);
	assert_int_equal(wp_udp_parse(d, 18, LO, LO, WP_WIRE_CSUM_UNNECESSARY,
				      &r, NULL),
			 0);
	/* The pseudo-header counts: another address fails. */
	assert_int_equal(wp_udp_parse(dgram, 18, LO, LO + 1, 0, &r, NULL),
			 -EBADMSG);
	assert_int_equal(wp_udp_parse(dgram, 18, LO, LO, 0, &r, NULL), 0);
}

static void test_emit_captured(void **state)
{
	struct wp_udp_repr r = { .sport = 47448, .dport = 5557,
				 .payload = (const uint8_t *)"hello udp\n",
				 .payload_len = 10 };
	uint8_t buf[32];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, 18), 0);
	assert_memory_equal(buf, dgram, 18);
	assert_int_equal(buf[18], 0xee);
	/* Payload already in place (or NULL: the caller put it there). */
	r.payload = buf + 8;
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, 18), 0);
	assert_memory_equal(buf, dgram, 18);
	r.payload = NULL;
	memset(buf, 0, 8);
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, dgram, 18);
}

static void test_emit_zero_becomes_ffff(void **state)
{
	struct wp_udp_repr r = { .sport = 1, .dport = 2, .payload_len = 2 };
	struct wp_udp_repr back;
	uint8_t buf[10] = { 0 };
	uint16_t c;

	(void)state;
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, sizeof(buf)), 0);
	c = (uint16_t)(buf[6] << 8 | buf[7]);
	assert_int_not_equal(c, 0);
	/* A payload word equal to that checksum makes the sum ffff. */
	buf[8] = (uint8_t)(c >> 8);
	buf[9] = (uint8_t)c;
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, sizeof(buf)), 0);
	assert_int_equal(buf[6], 0xff);
	assert_int_equal(buf[7], 0xff);
	/* And ffff verifies. */
	assert_int_equal(wp_udp_parse(buf, 10, LO, LO, 0, &back, NULL), 0);
}

static void test_emit_errors(void **state)
{
	struct wp_udp_repr r = { .sport = 1, .dport = 2, .payload_len = 4 };
	uint8_t buf[16];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, 11), -ENOSPC);
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, 0), -ENOSPC);
	r.payload_len = 65528;
	assert_int_equal(wp_udp_emit(&r, LO, LO, buf, sizeof(buf)),
			 -EMSGSIZE);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_zero_checksum_means_none),
		cmocka_unit_test(test_trim_to_length_field),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_reject_csum),
		cmocka_unit_test(test_emit_captured),
		cmocka_unit_test(test_emit_zero_becomes_ffff),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
