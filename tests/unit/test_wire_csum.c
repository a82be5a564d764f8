// SPDX-License-Identifier: MIT
/*
 * The Internet checksum: RFC 1071 and RFC 1624 worked examples, a known
 * IPv4 header, and the fast sum against a plain 16-bit reference on random
 * buffers of every small length at every alignment; the incremental update
 * against a full recompute; chaining, odd-offset blocks, the pseudo-header.
 */
#include "test_core_common.h"

#include <stdlib.h>
#include <string.h>

#include "wire/csum.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure replays. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* RFC 1071 as written: big-endian 16-bit words, 32-bit accumulator. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		s += (uint32_t)p[i] << 8 | p[i + 1];
		s = (s & 0xffff) + (s >> 16);
	}
	if (len & 1) {
		s += (uint32_t)p[len - 1] << 8;
		s = (s & 0xffff) + (s >> 16);
	}
	return (uint16_t)s;
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_sum(p, len);
}

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 3: these bytes sum to ddf2 (with end-around carry). */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(wp_csum_fold(wp_csum_partial(b, sizeof(b), 0)),
			 (uint16_t)~0xddf2);
	/* Byte order independence (RFC 1071 2(B)): swap data, swap sum. */
	{
		uint8_t s[8];

		for (int i = 0; i < 8; i += 2) {
			s[i] = b[i + 1];
			s[i + 1] = b[i];
		}
		assert_int_equal(wp_csum_fold(wp_csum_partial(s, 8, 0)),
				 (uint16_t)~0xf2dd);
	}
}

static void test_known_ipv4_header(void **state)
{
	/* A textbook header whose checksum field holds b861. */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			  0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			  0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	assert_int_equal(wp_ip_compute_csum(h, sizeof(h)), 0);
	h[10] = h[11] = 0;
	assert_int_equal(wp_ip_compute_csum(h, sizeof(h)), 0xb861);
}

static void test_edge_lengths(void **state)
{
	static const uint8_t one = 0xab;
	uint8_t ff[64];

	(void)state;
	/* Nothing sums to zero: the checksum of nothing is ffff. */
	assert_int_equal(wp_ip_compute_csum(NULL, 0), 0xffff);
	/* A lone byte is the high half of a word padded with zero. */
	assert_int_equal(wp_ip_compute_csum(&one, 1), (uint16_t)~0xab00);
	/* All ones: "negative zero" in, checksum 0 out, any length. */
	memset(ff, 0xff, sizeof(ff));
	for (size_t n = 2; n <= sizeof(ff); n += 2)
		assert_int_equal(wp_ip_compute_csum(ff, n), 0);
}

static void test_against_reference(void **state)
{
	enum { MAX = 2100 };
	uint8_t *buf = malloc(MAX + 16);

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 4; round++) {
		fill_random(buf, MAX + 16);
		for (size_t len = 0; len <= 300; len++)
			for (size_t off = 0; off < 8; off++)
				assert_int_equal(
					wp_ip_compute_csum(buf + off, len),
					ref_csum(buf + off, len));
	}
	for (int i = 0; i < 3000; i++) {
		size_t len = rnd() % MAX, off = rnd() % 16;

		fill_random(buf, MAX + 16);
		assert_int_equal(wp_ip_compute_csum(buf + off, len),
				 ref_csum(buf + off, len));
	}
	free(buf);
}

/* The inline header checksum is the general one, for every IHL. */
static void test_ip_fast_csum(void **state)
{
	uint8_t buf[60 + 8];

	(void)state;
	for (int i = 0; i < 2000; i++) {
		unsigned int ihl = 5 + rnd() % 11;
		size_t off = rnd() % 8;

		fill_random(buf, sizeof(buf));
		if (i % 4 == 0) /* many carries */
			memset(buf + off, 0xff, ihl * 4 - rnd() % 3);
		assert_int_equal(wp_ip_fast_csum(buf + off, ihl),
				 ref_csum(buf + off, ihl * 4));
		/* With the checksum stored, the header verifies. */
		buf[off + 10] = buf[off + 11] = 0;
		{
			uint16_t c = wp_ip_fast_csum(buf + off, ihl);

			buf[off + 10] = (uint8_t)(c >> 8);
			buf[off + 11] = (uint8_t)c;
		}
		assert_int_equal(wp_ip_fast_csum(buf + off, ihl), 0);
	}
}

static void test_carry_stress(void **state)
{
	/* Every 64-bit add carries: end-around carries must not be lost. */
	size_t n = 1 << 20;
	uint8_t *buf = malloc(n + 1);

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xff, n + 1);
	buf[0] = 0xfe;
	assert_int_equal(wp_ip_compute_csum(buf, n), ref_csum(buf, n));
	assert_int_equal(wp_ip_compute_csum(buf, n + 1),
			 ref_csum(buf, n + 1));
	free(buf);
}

static void test_chaining(void **state)
{
	uint8_t buf[1500];

	(void)state;
	for (int i = 0; i < 500; i++) {
		size_t len = 1 + rnd() % sizeof(buf);
		size_t cut = rnd() % (len + 1);
		uint32_t s;

		fill_random(buf, len);
		/* Even first block: plain chaining. */
		cut &= ~(size_t)1;
		s = wp_csum_partial(buf, cut, 0);
		s = wp_csum_partial(buf + cut, len - cut, s);
		assert_int_equal(wp_csum_fold(s), ref_csum(buf, len));
		/* Any cut: the second block added at its offset. */
		cut = rnd() % (len + 1);
		s = wp_csum_block_add(wp_csum_partial(buf, cut, 0),
				      wp_csum_partial(buf + cut, len - cut, 0),
				      cut);
		assert_int_equal(wp_csum_fold(s), ref_csum(buf, len));
	}
	/* A starting sum is added as a word would be. */
	buf[0] = 0x12;
	buf[1] = 0x34;
	assert_int_equal(wp_csum_fold(wp_csum_partial(buf, 0, 0x1234)),
			 wp_csum_fold(wp_csum_partial(buf, 2, 0)));
}

static void test_pseudo_header(void **state)
{
	/*
	 * A UDP datagram 127.0.0.1:47448 -> 127.0.0.1:5557 "hello udp\n"
	 * captured on lo; its correct checksum is 0959 (tcpdump agrees).
	 */
	uint8_t udp[] = { 0xb9, 0x58, 0x15, 0xb5, 0x00, 0x12, 0x00, 0x00,
			  'h',  'e',  'l',  'l',  'o',  ' ',  'u',  'd',
			  'p',  '\n' };
	uint32_t lo = 0x7f000001;
	uint8_t ph[12];

	(void)state;
	assert_int_equal(wp_csum_tcpudp(lo, lo, 17, udp, sizeof(udp)), 0x0959);
	/* Same as summing the pseudo-header bytes in front. */
	memcpy(ph, (uint8_t[]){ 127, 0, 0, 1, 127, 0, 0, 1, 0, 17, 0, 18 },
	       12);
	assert_int_equal(wp_csum_fold(wp_csum_partial(
				 udp, sizeof(udp), wp_csum_partial(ph, 12, 0))),
			 0x0959);
	udp[6] = 0x09;
	udp[7] = 0x59;
	assert_int_equal(wp_csum_tcpudp(lo, lo, 17, udp, sizeof(udp)), 0);
}

static void test_rfc1624_example(void **state)
{
	/*
	 * RFC 1624 4: HC = dd2f, m = 5555 -> m' = 3285. Eqn. 3 gives 0000,
	 * what a full recompute gives; eqn. 2 would give ffff.
	 */
	(void)state;
	assert_int_equal(wp_csum_replace2(0xdd2f, 0x5555, 0x3285), 0x0000);
}

static void set_csum(uint8_t *h, size_t len)
{
	h[10] = h[11] = 0;
	uint16_t c = ref_csum(h, len);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void test_incremental_equals_recompute(void **state)
{
	uint8_t h[20];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint16_t check, from, to;
		size_t w;

		fill_random(h, sizeof(h));
		if (i % 7 == 0)
			memset(h, 0, 10); /* sums near zero */
		set_csum(h, sizeof(h));
		check = get16(h + 10);
		/* One 16-bit word (not the checksum) changes. */
		do
			w = (rnd() % 10) * 2;
		while (w == 10);
		from = get16(h + w);
		to = (i % 5 == 0) ? (uint16_t)~from : (uint16_t)rnd();
		if (i % 11 == 0)
			to = 0;
		h[w] = (uint8_t)(to >> 8);
		h[w + 1] = (uint8_t)to;
		check = wp_csum_replace2(check, from, to);
		set_csum(h, sizeof(h));
		assert_int_equal(check, get16(h + 10));
		assert_int_equal(wp_ip_compute_csum(h, sizeof(h)), 0);
	}
}

static void test_incremental_addr_and_ttl(void **state)
{
	uint8_t h[20];

	(void)state;
	for (int i = 0; i < 100000; i++) {
		uint32_t from, to;
		uint16_t check, w;

		fill_random(h, sizeof(h));
		h[0] = 0x45;
		set_csum(h, sizeof(h));
		/* NAT: rewrite the source address. */
		from = get32(h + 12);
		to = rnd();
		h[12] = (uint8_t)(to >> 24);
		h[13] = (uint8_t)(to >> 16);
		h[14] = (uint8_t)(to >> 8);
		h[15] = (uint8_t)to;
		check = wp_csum_replace4(get16(h + 10), from, to);
		set_csum(h, sizeof(h));
		assert_int_equal(check, get16(h + 10));
		/* Forwarding: TTL - 1 changes the ttl/protocol word. */
		w = get16(h + 8);
		h[8]--;
		check = wp_csum_replace2(check, w, get16(h + 8));
		set_csum(h, sizeof(h));
		assert_int_equal(check, get16(h + 10));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_known_ipv4_header),
		cmocka_unit_test(test_edge_lengths),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_ip_fast_csum),
		cmocka_unit_test(test_carry_stress),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_pseudo_header),
		cmocka_unit_test(test_rfc1624_example),
		cmocka_unit_test(test_incremental_equals_recompute),
		cmocka_unit_test(test_incremental_addr_and_ttl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
