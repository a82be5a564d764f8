// SPDX-License-Identifier: MIT
/*
 * ICMP: captured echo request, the kernel's echo reply and its port
 * unreachable; building the reply in the request's buffer gives the
 * kernel's bytes; every rejection with its drop reason; emit failures.
 */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "wire/icmp.h"

/* Echo request id 0x1234 seq 1 "wirepath", captured on lo. */
static const uint8_t echo_req[16] = { 0x08, 0x00, 0x17, 0x32, 0x12, 0x34,
				      0x00, 0x01, 'w',  'i',  'r',  'e',
				      'p',  'a',  't',  'h' };
/* Linux's reply to it. */
static const uint8_t echo_rep[16] = { 0x00, 0x00, 0x1f, 0x32, 0x12, 0x34,
				      0x00, 0x01, 'w',  'i',  'r',  'e',
				      'p',  'a',  't',  'h' };
/* Linux's port unreachable for a UDP datagram to 127.0.0.1:5557. */
static const uint8_t port_unreach[46] = {
	0x03, 0x03, 0x06, 0x56, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x26,
	0xfb, 0xad, 0x40, 0x00, 0x40, 0x11, 0x41, 0x17, 0x7f, 0x00, 0x00, 0x01,
	0x7f, 0x00, 0x00, 0x01, 0xb9, 0x58, 0x15, 0xb5, 0x00, 0x12, 0xfe, 0x25,
	'h',  'e',  'l',  'l',  'o',  ' ',  'u',  'd',  'p',  '\n',
};

static void fix_csum(uint8_t *p, size_t len)
{
	uint32_t s = 0;

	p[2] = p[3] = 0;
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	p[2] = (uint8_t)(~s >> 8);
	p[3] = (uint8_t)~s;
}

static void expect_reject(const uint8_t *p, size_t len, int err,
			  enum wp_drop_reason reason)
{
	struct wp_icmp_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_icmp_parse(p, len, 0, &r, &why), err);
	assert_int_equal(why, reason);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(wp_icmp_parse(p, len, 0, &r, NULL), err);
}

static void test_parse_echo(void **state)
{
	struct wp_icmp_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_icmp_parse(echo_req, 16, 0, &r, &why), 0);
	assert_int_equal(r.type, WP_ICMP_ECHO);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.seq, 1);
	assert_ptr_equal(r.data, echo_req + 8);
	assert_int_equal(r.data_len, 8);
	assert_false(wp_icmp_is_error(r.type));

	assert_int_equal(wp_icmp_parse(echo_rep, 16, 0, &r, NULL), 0);
	assert_int_equal(r.type, WP_ICMP_ECHOREPLY);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.seq, 1);

	/* No payload at all. */
	{
		uint8_t e[8] = { 8, 0, 0, 0, 0xab, 0xcd, 0xff, 0xff };

		fix_csum(e, 8);
		assert_int_equal(wp_icmp_parse(e, 8, 0, &r, NULL), 0);
		assert_int_equal(r.data_len, 0);
		assert_int_equal(r.id, 0xabcd);
		assert_int_equal(r.seq, 0xffff);
	}
}

static void test_parse_port_unreach(void **state)
{
	struct wp_icmp_repr r;

	(void)state;
	assert_int_equal(wp_icmp_parse(port_unreach, 46, 0, &r, NULL), 0);
	assert_int_equal(r.type, WP_ICMP_DEST_UNREACH);
	assert_int_equal(r.code, WP_ICMP_PORT_UNREACH);
	assert_true(wp_icmp_is_error(r.type));
	assert_int_equal(r.mtu, 0);
	assert_ptr_equal(r.data, port_unreach + 8);
	assert_int_equal(r.data_len, 38);
	assert_int_equal(r.quote_hdr_len, 20);
	assert_int_equal(r.data[9], 17); /* the quoted protocol: UDP */
}

static void test_parse_frag_needed_and_time_exceeded(void **state)
{
	uint8_t m[8 + 24 + 8];
	struct wp_icmp_repr r;

	(void)state;
	/* Frag needed, next-hop MTU 1400, quoting a header with options. */
	memset(m, 0, sizeof(m));
	m[0] = WP_ICMP_DEST_UNREACH;
	m[1] = WP_ICMP_FRAG_NEEDED;
	m[6] = 0x05;
	m[7] = 0x78;
	m[8] = 0x46;
	fix_csum(m, sizeof(m));
	assert_int_equal(wp_icmp_parse(m, sizeof(m), 0, &r, NULL), 0);
	assert_int_equal(r.mtu, 1400);
	assert_int_equal(r.quote_hdr_len, 24);
	assert_int_equal(r.data_len, 32);
	/* Time exceeded in transit and in reassembly. */
	for (uint8_t code = 0; code <= 1; code++) {
		memset(m, 0, sizeof(m));
		m[0] = WP_ICMP_TIME_EXCEEDED;
		m[1] = code;
		m[8] = 0x45;
		m[6] = 0x12; /* unused here: not an MTU */
		fix_csum(m, 8 + 28);
		assert_int_equal(wp_icmp_parse(m, 8 + 28, 0, &r, NULL), 0);
		assert_int_equal(r.code, code);
		assert_int_equal(r.mtu, 0);
		assert_int_equal(r.quote_hdr_len, 20);
	}
	/* Every destination unreachable code RFC 1812 defines. */
	for (uint8_t code = 0; code <= 15; code++) {
		memcpy(m, port_unreach, 36);
		m[1] = code;
		fix_csum(m, 36);
		assert_int_equal(wp_icmp_parse(m, 36, 0, &r, NULL), 0);
	}
}

static void test_reject_short_and_csum(void **state)
{
	uint8_t m[46];
	struct wp_icmp_repr r;

	(void)state;
	for (size_t n = 0; n < 8; n++)
		expect_reject(echo_req, n, -EINVAL, WP_DROP_ICMP_BAD);
	/* Truncated by one byte: the checksum no longer verifies. */
	expect_reject(echo_req, 15, -EBADMSG, WP_DROP_ICMP_CSUM);
	memcpy(m, echo_req, 16);
	m[15] ^= 0x20;
	expect_reject(m, 16, -EBADMSG, WP_DROP_ICMP_CSUM);
	/* Covered: the quote's last byte too. */
	memcpy(m, port_unreach, 46);
	m[45] = 0;
	expect_reject(m, 46, -EBADMSG, WP_DROP_ICMP_CSUM);
	/* The NIC verified it: the checksum is not looked at. */
	assert_int_equal(wp_icmp_parse(m, 46, WP_WIRE_CSUM_UNNECESSARY, &r,
				       NULL),
			 0);
}

static void test_reject_type_code(void **state)
{
	/* Types we do not speak: source quench, redirect, timestamp, ... */
	static const uint8_t types[] = { 1, 2, 4, 5, 6, 7, 9, 10, 12,
					 13, 14, 15, 16, 17, 18, 255 };
	uint8_t m[16];

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		memcpy(m, echo_req, 16);
		m[0] = types[i];
		fix_csum(m, 16);
		expect_reject(m, 16, -EPROTONOSUPPORT, WP_DROP_ICMP_BAD);
	}
	/* Codes not defined for their type. */
	memcpy(m, echo_req, 16);
	m[1] = 1;
	fix_csum(m, 16);
	expect_reject(m, 16, -EINVAL, WP_DROP_ICMP_BAD);
	memcpy(m, echo_rep, 16);
	m[1] = 0xff;
	fix_csum(m, 16);
	expect_reject(m, 16, -EINVAL, WP_DROP_ICMP_BAD);
}

static void test_reject_bad_codes_on_errors(void **state)
{
	uint8_t m[46];

	(void)state;
	memcpy(m, port_unreach, 46);
	m[1] = 16;
	fix_csum(m, 46);
	expect_reject(m, 46, -EINVAL, WP_DROP_ICMP_BAD);
	memcpy(m, port_unreach, 46);
	m[0] = WP_ICMP_TIME_EXCEEDED;
	m[1] = 2;
	fix_csum(m, 46);
	expect_reject(m, 46, -EINVAL, WP_DROP_ICMP_BAD);
}

static void test_reject_quote(void **state)
{
	uint8_t m[8 + 60 + 8];

	(void)state;
	/* Too short for an IP header. */
	memcpy(m, port_unreach, 46);
	fix_csum(m, 8 + 19);
	expect_reject(m, 8 + 19, -EINVAL, WP_DROP_ICMP_BAD);
	/* A header but not the 8 bytes after it. */
	memcpy(m, port_unreach, 46);
	fix_csum(m, 8 + 27);
	expect_reject(m, 8 + 27, -EINVAL, WP_DROP_ICMP_BAD);
	/* Exactly header + 8: fine. */
	fix_csum(m, 8 + 28);
	{
		struct wp_icmp_repr r;

		assert_int_equal(wp_icmp_parse(m, 8 + 28, 0, &r, NULL), 0);
	}
	/* Not IPv4. */
	memcpy(m, port_unreach, 46);
	m[8] = 0x65;
	fix_csum(m, 46);
	expect_reject(m, 46, -EINVAL, WP_DROP_ICMP_BAD);
	/* IHL below 5. */
	memcpy(m, port_unreach, 46);
	m[8] = 0x44;
	fix_csum(m, 46);
	expect_reject(m, 46, -EINVAL, WP_DROP_ICMP_BAD);
	/* IHL 15: needs 60 + 8 bytes, has 38. */
	memcpy(m, port_unreach, 46);
	m[8] = 0x4f;
	fix_csum(m, 46);
	expect_reject(m, 46, -EINVAL, WP_DROP_ICMP_BAD);
	memset(m + 46, 0, sizeof(m) - 46);
	fix_csum(m, 8 + 67);
	expect_reject(m, 8 + 67, -EINVAL, WP_DROP_ICMP_BAD);
	fix_csum(m, 8 + 68);
	{
		struct wp_icmp_repr r;

		assert_int_equal(wp_icmp_parse(m, 8 + 68, 0, &r, NULL), 0);
		assert_int_equal(r.quote_hdr_len, 60);
	}
}

static void test_emit_echo_reply_in_place(void **state)
{
	struct wp_icmp_repr r;
	uint8_t buf[16];

	(void)state;
	/* The reply is built where the request was: the kernel's bytes. */
	memcpy(buf, echo_req, 16);
	assert_int_equal(wp_icmp_parse(buf, 16, 0, &r, NULL), 0);
	r.type = WP_ICMP_ECHOREPLY;
	assert_int_equal(wp_icmp_emit(&r, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, echo_rep, 16);
	/* data == NULL: the caller already wrote it. */
	memcpy(buf, echo_req, 16);
	r.data = NULL;
	assert_int_equal(wp_icmp_emit(&r, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, echo_rep, 16);
}

static void test_emit_error(void **state)
{
	/* The kernel's port unreachable, from its quote. */
	struct wp_icmp_repr r = { .type = WP_ICMP_DEST_UNREACH,
				  .code = WP_ICMP_PORT_UNREACH,
				  .data = port_unreach + 8,
				  .data_len = 38 };
	struct wp_icmp_repr back;
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_icmp_emit(&r, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, port_unreach, 46);
	assert_int_equal(buf[46], 0xee);
	/* Frag needed carries the MTU; time exceeded never does. */
	r.code = WP_ICMP_FRAG_NEEDED;
	r.mtu = 576;
	assert_int_equal(wp_icmp_emit(&r, buf, 46), 0);
	assert_int_equal(wp_icmp_parse(buf, 46, 0, &back, NULL), 0);
	assert_int_equal(back.mtu, 576);
	assert_int_equal(back.code, WP_ICMP_FRAG_NEEDED);
	assert_memory_equal(back.data, port_unreach + 8, 38);
	r.type = WP_ICMP_TIME_EXCEEDED;
	r.code = WP_ICMP_EXC_TTL;
	assert_int_equal(wp_icmp_emit(&r, buf, 46), 0);
	assert_int_equal(wp_icmp_parse(buf, 46, 0, &back, NULL), 0);
	assert_int_equal(back.mtu, 0);
	assert_int_equal(back.type, WP_ICMP_TIME_EXCEEDED);
}

static void test_emit_errors(void **state)
{
	struct wp_icmp_repr r = { .type = WP_ICMP_ECHO,
				  .data = echo_req + 8,
				  .data_len = 8 };
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_icmp_emit(&r, buf, 15), -ENOSPC);
	assert_int_equal(wp_icmp_emit(&r, buf, 7), -ENOSPC);
	r.data_len = 65535;
	assert_int_equal(wp_icmp_emit(&r, buf, 64), -EMSGSIZE);
	r.data_len = 8;
	r.type = 13;
	assert_int_equal(wp_icmp_emit(&r, buf, 64), -EINVAL);
	r.type = WP_ICMP_ECHO;
	r.code = 3;
	assert_int_equal(wp_icmp_emit(&r, buf, 64), -EINVAL);
	/* An error must quote a header and 8 bytes. */
	r.type = WP_ICMP_DEST_UNREACH;
	r.code = 1;
	r.data = port_unreach + 8;
	r.data_len = 27;
	assert_int_equal(wp_icmp_emit(&r, buf, 64), -EINVAL);
	r.data = echo_req;
	r.data_len = 28;
	assert_int_equal(wp_icmp_emit(&r, buf, 64), -EINVAL);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_echo),
		cmocka_unit_test(test_parse_port_unreach),
		cmocka_unit_test(test_parse_frag_needed_and_time_exceeded),
		cmocka_unit_test(test_reject_short_and_csum),
		cmocka_unit_test(test_reject_type_code),
		cmocka_unit_test(test_reject_bad_codes_on_errors),
		cmocka_unit_test(test_reject_quote),
		cmocka_unit_test(test_emit_echo_reply_in_place),
		cmocka_unit_test(test_emit_error),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
