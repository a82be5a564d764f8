// SPDX-License-Identifier: MIT
/*
 * RSS: the Toeplitz hash against Microsoft's published verification
 * suite (IPv4, standard key), the frame parser's edge cases and the
 * indirection table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nic/rss.h"

/*
 * "Verifying the RSS Hash Calculation" (Microsoft): destination and
 * source address:port, then the "IPv4 only" and "IPv4 with TCP" columns.
 */
static const struct {
	uint8_t dst[4];
	uint16_t dport;
	uint8_t src[4];
	uint16_t sport;
	uint32_t ipv4_only;
	uint32_t ipv4_tcp;
} ms_suite[] = {
	{ { 161, 142, 100, 80 }, 1766, { 66, 9, 149, 187 }, 2794,
	  0x323e8fc2, 0x51ccc178 },
	{ { 65, 69, 140, 83 }, 4739, { 199, 92, 111, 2 }, 14230,
	  0xd718262a, 0xc626b0ea },
	{ { 12, 22, 207, 184 }, 38024, { 24, 19, 198, 95 }, 12898,
	  0xd2d0a5de, 0x5c2b394a },
	{ { 209, 142, 163, 6 }, 2217, { 38, 27, 205, 30 }, 48228,
	  0x82989176, 0xafc7327f },
	{ { 202, 188, 127, 2 }, 1303, { 153, 39, 163, 191 }, 44251,
	  0x5d1809c5, 0x10e828a2 },
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Build Ethernet [+ 802.1Q] + IPv4 (ihl words) + 8 bytes of L4 header. */
static uint32_t build_frame(uint8_t *f, bool vlan, uint8_t ihl_words,
			    uint8_t proto, const uint8_t src[4],
			    const uint8_t dst[4], uint16_t sport,
			    uint16_t dport, uint16_t frag)
{
	uint32_t off = 12, ihl = ihl_words * 4u;

	memset(f, 0, 128);
	if (vlan) {
		put_be16(f + off, 0x8100);
		put_be16(f + off + 2, 42);
		off += 4;
	}
	put_be16(f + off, 0x0800);
	off += 2;
	f[off] = (uint8_t)(0x40 | ihl_words);
	put_be16(f + off + 2, (uint16_t)(ihl + 8));
	put_be16(f + off + 6, frag);
	f[off + 8] = 64;
	f[off + 9] = proto;
	memcpy(f + off + 12, src, 4);
	memcpy(f + off + 16, dst, 4);
	put_be16(f + off + ihl, sport);
	put_be16(f + off + ihl + 2, dport);
	return off + ihl + 8;
}

static void test_toeplitz_ms_suite(void **state)
{
	struct wp_rss rss;

	(void)state;
	wp_rss_init(&rss, 4);
	for (size_t i = 0; i < sizeof(ms_suite) / sizeof(ms_suite[0]); i++) {
		uint8_t in[12];

		memcpy(in, ms_suite[i].src, 4);
		memcpy(in + 4, ms_suite[i].dst, 4);
		put_be16(in + 8, ms_suite[i].sport);
		put_be16(in + 10, ms_suite[i].dport);
		assert_int_equal(wp_toeplitz_hash(rss.key, in, 8),
				 ms_suite[i].ipv4_only);
		assert_int_equal(wp_toeplitz_hash(rss.key, in, 12),
				 ms_suite[i].ipv4_tcp);
	}
}

static void test_hash_frame_ms_suite(void **state)
{
	struct wp_rss rss;
	uint8_t f[128];
	bool l4;

	(void)state;
	wp_rss_init(&rss, 4);
	for (size_t i = 0; i < sizeof(ms_suite) / sizeof(ms_suite[0]); i++) {
		const uint8_t *s = ms_suite[i].src, *d = ms_suite[i].dst;
		uint16_t sp = ms_suite[i].sport, dp = ms_suite[i].dport;
		uint32_t len;

		len = build_frame(f, false, 5, 6, s, d, sp, dp, 0);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_tcp);
		assert_true(l4);
		/* UDP hashes its ports the same way. */
		len = build_frame(f, false, 5, 17, s, d, sp, dp, 0);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_tcp);
		assert_true(l4);
		/* One 802.1Q tag changes nothing. */
		len = build_frame(f, true, 5, 6, s, d, sp, dp, 0);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_tcp);
		assert_true(l4);
		/* IP options: the ports move, the hash does not. */
		len = build_frame(f, false, 7, 6, s, d, sp, dp, 0);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_tcp);
		/* Another protocol: addresses only. */
		len = build_frame(f, false, 5, 1, s, d, sp, dp, 0);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_only);
		assert_false(l4);
		/* First fragment (MF): addresses only. */
		len = build_frame(f, false, 5, 6, s, d, sp, dp, 0x2000);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_only);
		assert_false(l4);
		/* Later fragment (offset, DF irrelevant): addresses only. */
		len = build_frame(f, true, 5, 17, s, d, sp, dp, 0x4000 | 185);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4),
				 ms_suite[i].ipv4_only);
		assert_false(l4);
		/* DF alone is not a fragment. */
		len = build_frame(f, false, 5, 6, s, d, sp, dp, 0x4000);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, NULL),
				 ms_suite[i].ipv4_tcp);
	}
}

static void test_hash_frame_hostile(void **state)
{
	static const uint8_t s[4] = { 10, 0, 0, 1 }, d[4] = { 10, 0, 0, 2 };
	struct wp_rss rss;
	uint8_t f[128];
	uint32_t len, full, addr_only;
	bool l4;

	(void)state;
	wp_rss_init(&rss, 2);
	len = build_frame(f, false, 5, 6, s, d, 1000, 80, 0);
	full = wp_rss_hash_frame(&rss, f, len, &l4);
	assert_true(l4);
	addr_only = wp_toeplitz_hash(rss.key, f + 14 + 12, 8);

	/* Every truncation reads only what is there. */
	for (uint32_t cut = 0; cut < len; cut++) {
		uint32_t h = wp_rss_hash_frame(&rss, f, cut, &l4);

		if (cut < 14 + 20) {
			assert_int_equal(h, 0);
			assert_false(l4);
		} else if (cut < 14 + 20 + 4) {
			assert_int_equal(h, addr_only);
			assert_false(l4);
		} else {
			assert_int_equal(h, full);
			assert_true(l4);
		}
	}
	/* Total length that ends before the ports: addresses only. */
	put_be16(f + 14 + 2, 22);
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), addr_only);
	assert_false(l4);
	/* Total length shorter than the header: not hashed. */
	put_be16(f + 14 + 2, 19);
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	put_be16(f + 14 + 2, 28);
	/* IHL below 5 or beyond the frame. */
	f[14] = 0x44;
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	f[14] = 0x4f;
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	/* Not version 4. */
	f[14] = 0x65;
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	f[14] = 0x45;
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), full);
	/* Not IPv4 (ARP), truncated VLAN tag, double tag. */
	put_be16(f + 12, 0x0806);
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	put_be16(f + 12, 0x8100);
	assert_int_equal(wp_rss_hash_frame(&rss, f, 17, &l4), 0);
	put_be16(f + 16, 0x8100);
	assert_int_equal(wp_rss_hash_frame(&rss, f, len, &l4), 0);
	assert_false(l4);
}

/* The table-driven frame hash against the bit-serial reference. */
static void test_lut_matches_reference(void **state)
{
	struct wp_rss rss;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint8_t f[128];

	(void)state;
	wp_rss_init(&rss, 8);
	for (int i = 0; i < 20000; i++) {
		uint8_t s[4], d[4], in[12];
		uint16_t sp, dp;
		uint32_t len;
		bool tcp, frag;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(s, &x, 4);
		memcpy(d, (uint8_t *)&x + 4, 4);
		sp = (uint16_t)(x >> 13);
		dp = (uint16_t)(x >> 29);
		tcp = x & 1;
		frag = (x & 6) == 6;
		len = build_frame(f, (x & 8) != 0, 5, tcp ? 6 : 17, s, d, sp, dp,
				  frag ? 0x2000 : 0);
		memcpy(in, s, 4);
		memcpy(in + 4, d, 4);
		put_be16(in + 8, sp);
		put_be16(in + 10, dp);
		assert_int_equal(wp_rss_hash_frame(&rss, f, len, NULL),
				 wp_toeplitz_hash(rss.key, in, frag ? 8 : 12));
	}
}

static void test_reta(void **state)
{
	struct wp_rss rss;
	uint32_t hits[4] = { 0 };

	(void)state;
	wp_rss_init(&rss, 4);
	assert_int_equal(rss.nqueues, 4);
	for (uint32_t i = 0; i < WP_RSS_RETA_SIZE; i++)
		assert_int_equal(rss.reta[i], i % 4);
	/* Low 7 bits of the hash index the table. */
	assert_int_equal(wp_rss_queue(&rss, 0x51ccc178), (0x78 & 127) % 4);
	assert_int_equal(wp_rss_queue(&rss, 0xffffff80), 0);

	assert_int_equal(wp_rss_set_equal(&rss, 3), 0);
	for (uint32_t i = 0; i < WP_RSS_RETA_SIZE; i++) {
		assert_int_equal(rss.reta[i], i % 3);
		hits[rss.reta[i]]++;
	}
	assert_int_equal(hits[3], 0);
	assert_in_range(hits[0], 42, 43);
	assert_in_range(hits[2], 42, 43);

	/* Refused values change nothing. */
	assert_int_equal(wp_rss_set_equal(&rss, 0), -EINVAL);
	assert_int_equal(wp_rss_set_equal(&rss, 5), -EINVAL);
	for (uint32_t i = 0; i < WP_RSS_RETA_SIZE; i++)
		assert_int_equal(rss.reta[i], i % 3);

	wp_rss_init(&rss, 0);
	assert_int_equal(rss.nqueues, 1);
	assert_int_equal(wp_rss_queue(&rss, 12345), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toeplitz_ms_suite),
		cmocka_unit_test(test_hash_frame_ms_suite),
		cmocka_unit_test(test_hash_frame_hostile),
		cmocka_unit_test(test_lut_matches_reference),
		cmocka_unit_test(test_reta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
