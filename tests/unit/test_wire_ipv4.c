// SPDX-License-Identifier: MIT
/*
 * IPv4 header: a captured datagram and a textbook header, options, link
 * padding, fragments at the 65535 limit, every rejection with its drop
 * reason, emit and its failures, the martian predicates.
 */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "wire/ipv4.h"

/* A TCP SYN 127.0.0.1:59284 -> 127.0.0.1:5555 captured on lo. */
static const uint8_t syn[60] = {
	0x45, 0x00, 0x00, 0x3c, 0x72, 0xf4, 0x40, 0x00, 0x40, 0x06, 0xc9, 0xc5,
	0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xe7, 0x94, 0x15, 0xb3,
	0x6f, 0x41, 0xc9, 0xcc, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7,
	0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a,
	0xbb, 0xe8, 0xe0, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* Independent of the code under test: RFC 1071 word by word. */
static void fix_csum(uint8_t *h)
{
	size_t hlen = (size_t)(h[0] & 0x0f) * 4;
	uint32_t s = 0;

	h[10] = h[11] = 0;
	for (size_t i = 0; i < hlen; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	h[10] = (uint8_t)(~s >> 8);
	h[11] = (uint8_t)~s;
}

/* A header of ihl words in buf (room for 100 bytes), tot_len as given. */
static void build(uint8_t *buf, unsigned ihl, uint16_t tot_len)
{
	memset(buf, 0, 100);
	buf[0] = (uint8_t)(0x40 | ihl);
	buf[2] = (uint8_t)(tot_len >> 8);
	buf[3] = (uint8_t)tot_len;
	buf[8] = 64;
	buf[9] = 17;
	memcpy(buf + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	for (unsigned i = 20; i < ihl * 4; i++)
		buf[i] = WP_IPOPT_NOOP;
	fix_csum(buf);
}

static void expect_reject(const uint8_t *p, size_t len, int err,
			  enum wp_drop_reason reason)
{
	struct wp_ipv4_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_ipv4_parse(p, len, &r, &why), err);
	assert_int_equal(why, reason);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(wp_ipv4_parse(p, len, &r, NULL), err);
}

static void assert_repr_equal(const struct wp_ipv4_repr *a,
			      const struct wp_ipv4_repr *b)
{
	assert_int_equal(a->saddr, b->saddr);
	assert_int_equal(a->daddr, b->daddr);
	assert_int_equal(a->tos, b->tos);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->df, b->df);
	assert_int_equal(a->mf, b->mf);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->frag_offset, b->frag_offset);
	assert_int_equal(a->options_len, b->options_len);
	if (a->options_len)
		assert_memory_equal(a->options, b->options, a->options_len);
	assert_int_equal(a->payload_len, b->payload_len);
}

static void test_parse_captured(void **state)
{
	struct wp_ipv4_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_ipv4_parse(syn, sizeof(syn), &r, &why), 0);
	assert_int_equal(r.saddr, wp_ipv4_addr(127, 0, 0, 1));
	assert_int_equal(r.daddr, 0x7f000001);
	assert_int_equal(r.id, 0x72f4);
	assert_true(r.df);
	assert_false(r.mf);
	assert_false(wp_ipv4_is_fragment(&r));
	assert_int_equal(r.frag_offset, 0);
	assert_int_equal(r.ttl, 64);
	assert_int_equal(r.protocol, WP_IPPROTO_TCP);
	assert_int_equal(r.tos, 0);
	assert_null(r.options);
	assert_int_equal(r.options_len, 0);
	assert_int_equal(wp_ipv4_hdr_len(&r), 20);
	assert_int_equal(r.payload_len, 40);
	assert_int_equal(wp_ipv4_total_len(&r), 60);
}

static void test_parse_textbook(void **state)
{
	/* The header whose checksum is b861; tot_len 115. */
	uint8_t buf[115] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			     0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			     0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	struct wp_ipv4_repr r;

	(void)state;
	assert_int_equal(wp_ipv4_parse(buf, sizeof(buf), &r, NULL), 0);
	assert_int_equal(r.protocol, WP_IPPROTO_UDP);
	assert_int_equal(r.saddr, wp_ipv4_addr(192, 168, 0, 1));
	assert_int_equal(r.daddr, wp_ipv4_addr(192, 168, 0, 199));
	assert_int_equal(r.payload_len, 95);
}

static void test_padding_trimmed(void **state)
{
	/* A 28-byte datagram padded to the 46-byte Ethernet minimum. */
	uint8_t buf[100];
	struct wp_ipv4_repr r;

	(void)state;
	build(buf, 5, 28);
	assert_int_equal(wp_ipv4_parse(buf, 46, &r, NULL), 0);
	assert_int_equal(r.payload_len, 8);
	assert_int_equal(wp_ipv4_total_len(&r), 28);
	/* Header only: tot_len == IHL*4 == len. */
	build(buf, 5, 20);
	assert_int_equal(wp_ipv4_parse(buf, 20, &r, NULL), 0);
	assert_int_equal(r.payload_len, 0);
}

static void test_options(void **state)
{
	uint8_t buf[100];
	struct wp_ipv4_repr r;

	(void)state;
	/* Router alert (RFC 2113: type 148, length 4) after two NOPs. */
	build(buf, 7, 28);
	memcpy(buf + 20, "\x01\x01\x94\x04\x00\x00\x00\x00", 8);
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 28, &r, NULL), 0);
	assert_int_equal(r.options_len, 8);
	assert_ptr_equal(r.options, buf + 20);
	assert_int_equal(wp_ipv4_hdr_len(&r), 28);
	assert_int_equal(r.payload_len, 0);

	/* EOL ends the list: what follows is padding, whatever it holds. */
	build(buf, 6, 24);
	memcpy(buf + 20, "\x00\xff\x07\x00", 4);
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 24, &r, NULL), 0);
	/* An option exactly filling the space (40 bytes). */
	build(buf, 15, 60);
	buf[20] = 7; /* record route */
	buf[21] = 39;
	buf[22] = 4;
	buf[59] = WP_IPOPT_END;
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 60, &r, NULL), 0);
	assert_int_equal(r.options_len, 40);
	buf[21] = 40;
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 60, &r, NULL), 0);
}

static void test_reject_header(void **state)
{
	uint8_t buf[100];

	(void)state;
	expect_reject(syn, 0, -EINVAL, WP_DROP_IP_HDR);
	expect_reject(syn, 19, -EINVAL, WP_DROP_IP_HDR);
	/* Version 6. */
	build(buf, 5, 20);
	buf[0] = 0x65;
	fix_csum(buf);
	expect_reject(buf, 40, -EINVAL, WP_DROP_IP_HDR);
	/* IHL 0..4: shorter than the fixed header. */
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		build(buf, 5, 20);
		buf[0] = (uint8_t)(0x40 | ihl);
		expect_reject(buf, 40, -EINVAL, WP_DROP_IP_HDR);
	}
	/* IHL past the buffer: 60-byte header in 40 bytes. */
	build(buf, 15, 60);
	expect_reject(buf, 40, -EINVAL, WP_DROP_IP_HDR);
	expect_reject(buf, 59, -EINVAL, WP_DROP_IP_HDR);
	/* The reserved ("evil") flag. */
	build(buf, 5, 20);
	buf[6] = 0x80;
	fix_csum(buf);
	expect_reject(buf, 20, -EINVAL, WP_DROP_IP_HDR);
}

static void test_reject_csum(void **state)
{
	uint8_t buf[100];

	(void)state;
	memcpy(buf, syn, sizeof(syn));
	buf[11] ^= 1;
	expect_reject(buf, sizeof(syn), -EBADMSG, WP_DROP_IP_CSUM);
	memcpy(buf, syn, sizeof(syn));
	buf[8]--; /* TTL changed, checksum not updated */
	expect_reject(buf, sizeof(syn), -EBADMSG, WP_DROP_IP_CSUM);
	/* Options are covered too. */
	build(buf, 6, 24);
	buf[21] = WP_IPOPT_END;
	expect_reject(buf, 24, -EBADMSG, WP_DROP_IP_CSUM);
}

static void test_reject_length(void **state)
{
	uint8_t buf[100];

	(void)state;
	/* tot_len larger than what arrived: truncated. */
	expect_reject(syn, 59, -EINVAL, WP_DROP_IP_LEN);
	build(buf, 5, 100);
	expect_reject(buf, 99, -EINVAL, WP_DROP_IP_LEN);
	/* tot_len smaller than the header. */
	build(buf, 5, 19);
	expect_reject(buf, 100, -EINVAL, WP_DROP_IP_LEN);
	build(buf, 6, 20);
	expect_reject(buf, 100, -EINVAL, WP_DROP_IP_LEN);
	build(buf, 5, 0);
	expect_reject(buf, 100, -EINVAL, WP_DROP_IP_LEN);
}

static void test_fragment_limit(void **state)
{
	static uint8_t big[65535 + 8];
	struct wp_ipv4_repr r;
	uint8_t buf[100];

	(void)state;
	/* Offset 8184*8 = 65472, 20 + 40 bytes: ends at 65512, accepted. */
	build(buf, 5, 60);
	buf[6] = 0x1f;
	buf[7] = 0xf8;
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 60, &r, NULL), 0);
	assert_int_equal(r.frag_offset, 65472);
	assert_false(r.mf);
	assert_true(wp_ipv4_is_fragment(&r));
	/* Offset 8191*8 = 65528 with 8 bytes ends at 65536: refused. */
	build(buf, 5, 28);
	buf[6] = 0x3f; /* MF too */
	buf[7] = 0xff;
	fix_csum(buf);
	expect_reject(buf, 28, -EINVAL, WP_DROP_IP_FRAG);
	/* 7 bytes end at 65535 exactly: accepted. */
	build(buf, 5, 27);
	buf[6] = 0x3f;
	buf[7] = 0xff;
	fix_csum(buf);
	assert_int_equal(wp_ipv4_parse(buf, 27, &r, NULL), 0);
	assert_true(r.mf);
	assert_int_equal(r.frag_offset, 65528);
	/* The largest unfragmented datagram. */
	build(big, 5, 65535);
	assert_int_equal(wp_ipv4_parse(big, sizeof(big), &r, NULL), 0);
	assert_int_equal(r.payload_len, 65515);
	/* Offset 24 bytes with a full-size payload: past the limit. */
	big[7] = 3;
	fix_csum(big);
	expect_reject(big, sizeof(big), -EINVAL, WP_DROP_IP_FRAG);
}

static void test_reject_options(void **state)
{
	/* Each: 4 option bytes that must be refused. */
	static const uint8_t bad[][4] = {
		{ 0x01, 0x01, 0x01, 0x07 }, /* length byte missing */
		{ 0x07, 0x00, 0x00, 0x00 }, /* length 0 */
		{ 0x07, 0x01, 0x00, 0x00 }, /* length 1 */
		{ 0x07, 0x05, 0x00, 0x00 }, /* past the header */
		{ 0x94, 0x02, 0x07, 0x03 }, /* second option past it */
		{ 0x01, 0x07, 0xff, 0x00 },
	};
	uint8_t buf[100];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(buf, 6, 24);
		memcpy(buf + 20, bad[i], 4);
		fix_csum(buf);
		expect_reject(buf, 24, -EINVAL, WP_DROP_IP_HDR);
		assert_int_equal(wp_ipv4_options_check(bad[i], 4), -EINVAL);
	}
	assert_int_equal(wp_ipv4_options_check(NULL, 0), 0);
	assert_int_equal(wp_ipv4_options_check((const uint8_t *)"\x01", 1), 0);
	assert_int_equal(wp_ipv4_options_check((const uint8_t *)"\x00\x07", 2),
			 0);
}

static void test_emit(void **state)
{
	static const uint8_t router_alert[4] = { 0x94, 0x04, 0x00, 0x00 };
	struct wp_ipv4_repr r, back;
	uint8_t buf[100];

	(void)state;
	/* The captured header comes back byte for byte. */
	assert_int_equal(wp_ipv4_parse(syn, sizeof(syn), &r, NULL), 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_ipv4_emit(&r, buf, 20), 0);
	assert_memory_equal(buf, syn, 20);
	assert_int_equal(buf[20], 0xee); /* the payload is not touched */

	/* Options, fragment fields, tos. */
	r = (struct wp_ipv4_repr){ .saddr = 0x0a000001, .daddr = 0xe0000001,
				   .tos = 0xb8, .ttl = 1, .protocol = 2,
				   .mf = true, .id = 0xbeef,
				   .frag_offset = 1480, .options = router_alert,
				   .options_len = 4, .payload_len = 16 };
	assert_int_equal(wp_ipv4_emit(&r, buf, 24), 0);
	assert_int_equal(buf[0], 0x46);
	assert_int_equal(wp_ipv4_parse(buf, 40, &back, NULL), 0);
	assert_repr_equal(&back, &r);
	assert_ptr_equal(back.options, buf + 20);
	/* In place: options already where they belong. */
	r.options = buf + 20;
	r.ttl = 0;
	assert_int_equal(wp_ipv4_emit(&r, buf, 24), 0);
	assert_int_equal(wp_ipv4_parse(buf, 40, &back, NULL), 0);
	assert_repr_equal(&back, &r);
}

static void test_emit_errors(void **state)
{
	struct wp_ipv4_repr r = { .ttl = 64, .payload_len = 8 };
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_ipv4_emit(&r, buf, 19), -ENOSPC);
	r.options = (const uint8_t *)"\x01\x01\x01\x01";
	r.options_len = 4;
	assert_int_equal(wp_ipv4_emit(&r, buf, 23), -ENOSPC);
	r.options_len = 3; /* not a multiple of 4 */
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.options_len = 44; /* more than 40 */
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.options = NULL;
	r.options_len = 4;
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.options = (const uint8_t *)"\x07\x00\x00\x00"; /* malformed */
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.options_len = 0;
	r.options = NULL;
	r.frag_offset = 100; /* not a multiple of 8 */
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.frag_offset = 65528;
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EINVAL);
	r.frag_offset = 0;
	r.payload_len = 65516;
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), -EMSGSIZE);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	r.payload_len = 65515;
	assert_int_equal(wp_ipv4_emit(&r, buf, 64), 0);
}

static void test_martians(void **state)
{
	(void)state;
	assert_true(wp_ipv4_is_zeronet(wp_ipv4_addr(0, 0, 0, 0)));
	assert_true(wp_ipv4_is_zeronet(wp_ipv4_addr(0, 255, 1, 2)));
	assert_false(wp_ipv4_is_zeronet(wp_ipv4_addr(1, 0, 0, 0)));
	assert_true(wp_ipv4_is_loopback(wp_ipv4_addr(127, 0, 0, 1)));
	assert_true(wp_ipv4_is_loopback(wp_ipv4_addr(127, 255, 255, 255)));
	assert_false(wp_ipv4_is_loopback(wp_ipv4_addr(128, 0, 0, 1)));
	assert_true(wp_ipv4_is_multicast(wp_ipv4_addr(224, 0, 0, 1)));
	assert_true(wp_ipv4_is_multicast(wp_ipv4_addr(239, 255, 255, 255)));
	assert_false(wp_ipv4_is_multicast(wp_ipv4_addr(223, 255, 255, 255)));
	assert_false(wp_ipv4_is_multicast(wp_ipv4_addr(240, 0, 0, 0)));
	assert_true(wp_ipv4_is_lbcast(0xffffffff));
	assert_false(wp_ipv4_is_lbcast(wp_ipv4_addr(10, 255, 255, 255)));
	assert_true(wp_ipv4_is_class_e(wp_ipv4_addr(240, 0, 0, 0)));
	assert_true(wp_ipv4_is_class_e(wp_ipv4_addr(255, 255, 255, 254)));
	assert_false(wp_ipv4_is_class_e(0xffffffff));

	assert_true(wp_ipv4_is_martian_src(0));
	assert_true(wp_ipv4_is_martian_src(wp_ipv4_addr(127, 0, 0, 1)));
	assert_true(wp_ipv4_is_martian_src(wp_ipv4_addr(224, 0, 0, 5)));
	assert_true(wp_ipv4_is_martian_src(0xffffffff));
	assert_true(wp_ipv4_is_martian_src(wp_ipv4_addr(250, 1, 2, 3)));
	assert_false(wp_ipv4_is_martian_src(wp_ipv4_addr(10, 0, 0, 1)));
	assert_false(wp_ipv4_is_martian_src(wp_ipv4_addr(192, 168, 1, 255)));

	assert_true(wp_ipv4_is_martian_dst(0));
	assert_true(wp_ipv4_is_martian_dst(wp_ipv4_addr(127, 1, 2, 3)));
	assert_true(wp_ipv4_is_martian_dst(wp_ipv4_addr(241, 0, 0, 1)));
	assert_false(wp_ipv4_is_martian_dst(0xffffffff));
	assert_false(wp_ipv4_is_martian_dst(wp_ipv4_addr(224, 0, 0, 1)));
	assert_false(wp_ipv4_is_martian_dst(wp_ipv4_addr(10, 0, 0, 2)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_captured),
		cmocka_unit_test(test_parse_textbook),
		cmocka_unit_test(test_padding_trimmed),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_reject_header),
		cmocka_unit_test(test_reject_csum),
		cmocka_unit_test(test_reject_length),
		cmocka_unit_test(test_fragment_limit),
		cmocka_unit_test(test_reject_options),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_emit_errors),
		cmocka_unit_test(test_martians),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
