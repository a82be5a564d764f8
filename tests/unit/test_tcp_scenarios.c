// SPDX-License-Identifier: MIT
/*
 * TCP under a hostile network, on the pair backend and virtual time:
 * tens of megabytes each way at once through loss (1, 5, 10 %),
 * duplication (5 %), reordering (25 %), corruption (1 %) and a long fat
 * path, every stream checked byte by byte against its generator and by
 * SHA-256 of what was sent against what was read. Corruption flips bits
 * on the wire, headers included: the checksums must stop every one of
 * them (the wire counts what it corrupted, TCP and IP what they refused)
 * and no corrupted byte may reach the application.
 *
 * Sizes: 16 MiB each way per scenario (64 MiB on the clean wire); a
 * sanitized build moves a quarter of that, its point being the memory
 * checks, not the volume.
 */
#include "test_tcp_common.h"

#include <inttypes.h>

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE 4
#endif
#endif
#ifndef SCALE
#define SCALE 1
#endif

#define MIB (1u << 20)

struct outcome {
	struct wp_net_mib a, b;
	struct wp_pair_stats ab, ba;
	uint64_t ns;
};

/* Both directions at once; everything checked; the MIBs returned. */
static void scenario(const struct wp_pair_impairments *imp, uint64_t bytes,
		     struct outcome *o)
{
	struct wp_tcp_sock *c, *s;
	struct tstream st[2];
	struct tpair t;
	uint64_t t0, end;

	tpair_up(&t, imp);
	tsysctl(&t, "net.ipv4.tcp_msl_ms", "100");
	tsysctl(&t, "net.ipv4.tcp_wmem", "4096 1048576 4194304");
	tsysctl(&t, "net.ipv4.tcp_rmem", "4096 1048576 6291456");
	tconnect(&t, 5201, &c, &s, NULL);
	tstream_init(&st[0], c, s, bytes, 101);
	tstream_init(&st[1], s, c, bytes, 202);
	t0 = tnow(&t);
	end = t0 + 3600 * WP_NSEC_PER_SEC;
	while ((st[0].rcvd < bytes || st[1].rcvd < bytes) && tnow(&t) < end) {
		tstream_pump(&st[0], true);
		tstream_pump(&st[1], true);
		trun(&t, WP_NSEC_PER_MSEC);
	}
	o->ns = tnow(&t) - t0;
	tstream_check(&st[0]);
	tstream_check(&st[1]);
	/* The ends of both streams, then an orderly close. */
	trun(&t, WP_NSEC_PER_SEC);
	{
		char b[4];

		assert_int_equal(wp_tcp_recvmsg(c, b, sizeof(b), 0), 0);
		assert_int_equal(wp_tcp_recvmsg(s, b, sizeof(b), 0), 0);
	}
	tclose(c);
	tclose(s);
	trun(&t, 10 * WP_NSEC_PER_SEC);
	tmib(t.a, &o->a);
	tmib(t.b, &o->b);
	wp_stack_pair_get_stats(t.p, WP_PAIR_A_TO_B, &o->ab);
	wp_stack_pair_get_stats(t.p, WP_PAIR_B_TO_A, &o->ba);
	tpair_down(&t);
	print_message("%.1f MiB each way in %.3f s virtual: %" PRIu64
		      " + %" PRIu64 " segments retransmitted\n",
		      (double)bytes / MIB, (double)o->ns / 1e9,
		      o->a.TcpRetransSegs, o->b.TcpRetransSegs);
}

static void both(struct wp_pair_impairments *imp)
{
	imp->b_to_a = imp->a_to_b;
	imp->b_to_a.rate_bps = imp->a_to_b.rate_bps;
}

static void impaired(struct wp_pair_impairments *imp, uint64_t seed)
{
	wp_pair_impairments_default(imp);
	imp->seed = seed;
	imp->a_to_b.delay_ns = WP_NSEC_PER_MSEC;
	imp->a_to_b.rate_bps = 1000000000; /* 1 Gbit/s */
	imp->a_to_b.limit = 4096;
}

/* A clean 1 Gbit/s path: nothing lost, so nothing resent. */
static void clean_wire_64mb(void **state)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	(void)state;
	impaired(&imp, 10);
	both(&imp);
	scenario(&imp, 64ull * MIB / SCALE, &o);
	assert_int_equal(o.ab.lost + o.ab.wire_full + o.ab.rx_refused, 0);
	assert_int_equal(o.a.TcpRetransSegs + o.b.TcpRetransSegs, 0);
}

static void loss(double pct, uint64_t seed)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	impaired(&imp, seed);
	imp.a_to_b.loss_pct = pct;
	both(&imp);
	scenario(&imp, 16ull * MIB / SCALE, &o);
	assert_true(o.ab.lost > 0 && o.ba.lost > 0);
	assert_true(o.a.TcpRetransSegs > 0 && o.b.TcpRetransSegs > 0);
}

static void loss_1(void **state)
{
	(void)state;
	loss(1, 11);
}

static void loss_5(void **state)
{
	(void)state;
	loss(5, 12);
}

static void loss_10(void **state)
{
	(void)state;
	loss(10, 13);
}

static void duplication_5(void **state)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	(void)state;
	impaired(&imp, 14);
	imp.a_to_b.duplicate_pct = 5;
	both(&imp);
	scenario(&imp, 16ull * MIB / SCALE, &o);
	assert_true(o.ab.duplicated > 0);
	/* Duplicates are data already had: D-SACKed or dropped, never
	 * read twice (the byte checks above). */
	assert_true(o.b.TCPPureAcks + o.b.TcpInSegs > 0);
}

static void reordering_25(void **state)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	(void)state;
	impaired(&imp, 15);
	imp.a_to_b.reorder_pct = 25;
	imp.a_to_b.reorder_ns = 200 * WP_NSEC_PER_USEC;
	both(&imp);
	scenario(&imp, 16ull * MIB / SCALE, &o);
	assert_true(o.ab.reordered > 0);
	assert_true(o.b.TCPOFOQueue > 0);
}

static void corruption_1(void **state)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	(void)state;
	impaired(&imp, 16);
	imp.a_to_b.corrupt_pct = 1;
	both(&imp);
	scenario(&imp, 16ull * MIB / SCALE, &o);
	assert_true(o.ab.corrupted > 0);
	/* Refused somewhere below the application: a checksum, a header
	 * check, or a frame that no longer names this host. */
	assert_true(o.b.TcpInCsumErrors + o.b.InHdrErrors + o.b.InAddrErrors +
			    o.b.TcpInErrs >
		    0);
}

static void long_fat_path(void **state)
{
	struct wp_pair_impairments imp;
	struct outcome o;

	(void)state;
	impaired(&imp, 17);
	imp.a_to_b.delay_ns = 25 * WP_NSEC_PER_MSEC; /* 50 ms RTT */
	imp.a_to_b.jitter_ns = WP_NSEC_PER_MSEC;
	imp.a_to_b.loss_pct = 0.1;
	both(&imp);
	scenario(&imp, 16ull * MIB / SCALE, &o);
}

/* FIPS 180-4's examples: the hash these tests trust is SHA-256. */
static void sha256_known_answers(void **state)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	static const uint8_t two_blocks[32] = {
		0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8,
		0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
		0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67,
		0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1,
	};
	const char *m =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	struct tsha256 h;
	uint8_t d[32];

	(void)state;
	tsha256_init(&h);
	tsha256_update(&h, "abc", 3);
	tsha256_final(&h, d);
	assert_memory_equal(d, abc, 32);
	tsha256_init(&h);
	for (size_t i = 0; m[i]; i++) /* byte by byte: chunking is free */
		tsha256_update(&h, m + i, 1);
	tsha256_final(&h, d);
	assert_memory_equal(d, two_blocks, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_known_answers),
		cmocka_unit_test(clean_wire_64mb),
		cmocka_unit_test(loss_1),
		cmocka_unit_test(loss_5),
		cmocka_unit_test(loss_10),
		cmocka_unit_test(duplication_5),
		cmocka_unit_test(reordering_25),
		cmocka_unit_test(corruption_1),
		cmocka_unit_test(long_fat_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
