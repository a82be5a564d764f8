// SPDX-License-Identifier: MIT
/*
 * Ethernet II and 802.1Q: captured and hand-built frames, every rejection
 * with its drop reason, emit and its failures, address predicates.
 */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "wire/eth.h"

/* An IPv4 frame's header captured on lo: zero MACs, type 0800. */
static const uint8_t lo_frame[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0, 0, 0x08, 0x00, 0x45, 0x00 };

/* Broadcast ARP from 52:54:00:12:34:56. */
static const uint8_t arp_frame[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
				     0x08, 0x06 };

/* Tagged: PCP 3, VID 100, carrying IPv4. */
static const uint8_t vlan_frame[] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
				      0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
				      0x81, 0x00, 0x60, 0x64, 0x08, 0x00,
				      0x45 };

static void assert_repr_equal(const struct wp_eth_repr *a,
			      const struct wp_eth_repr *b)
{
	assert_true(wp_eth_addr_equal(&a->dst, &b->dst));
	assert_true(wp_eth_addr_equal(&a->src, &b->src));
	assert_int_equal(a->ethertype, b->ethertype);
	assert_int_equal(a->vlan, b->vlan);
	assert_int_equal(a->vlan_tci, b->vlan_tci);
}

static void expect_reject(const uint8_t *p, size_t len, int err,
			  enum wp_drop_reason reason)
{
	struct wp_eth_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_eth_parse(p, len, &r, &why), err);
	assert_int_equal(why, reason);
	/* A failed parse leaves the representation alone. */
	assert_memory_equal(&r, &before, sizeof(r));
	/* The reason is optional. */
	assert_int_equal(wp_eth_parse(p, len, &r, NULL), err);
}

static void test_parse_untagged(void **state)
{
	struct wp_eth_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_eth_parse(lo_frame, sizeof(lo_frame), &r, &why),
			 0);
	assert_int_equal(r.ethertype, WP_ETH_P_IP);
	assert_false(r.vlan);
	assert_int_equal(r.vlan_tci, 0);
	assert_int_equal(wp_eth_hdr_len(&r), 14);
	assert_true(wp_eth_addr_is_zero(&r.dst));

	/* Exactly the header, nothing after it, is a valid (empty) frame. */
	assert_int_equal(wp_eth_parse(arp_frame, 14, &r, NULL), 0);
	assert_int_equal(r.ethertype, WP_ETH_P_ARP);
	assert_true(wp_eth_addr_is_broadcast(&r.dst));
	assert_true(wp_eth_addr_is_multicast(&r.dst));
	assert_memory_equal(r.src.b, arp_frame + 6, 6);
	assert_true(wp_eth_addr_is_valid(&r.src));
}

static void test_parse_vlan(void **state)
{
	struct wp_eth_repr r;

	(void)state;
	assert_int_equal(wp_eth_parse(vlan_frame, sizeof(vlan_frame), &r,
				      NULL),
			 0);
	assert_true(r.vlan);
	assert_int_equal(r.vlan_tci, 0x6064);
	assert_int_equal(wp_eth_vlan_id(&r), 100);
	assert_int_equal(r.ethertype, WP_ETH_P_IP);
	assert_int_equal(wp_eth_hdr_len(&r), 18);

	/* VID 0: a priority tag, accepted. */
	{
		uint8_t f[18];

		memcpy(f, vlan_frame, 18);
		f[14] = 0xe0;
		f[15] = 0x00;
		assert_int_equal(wp_eth_parse(f, 18, &r, NULL), 0);
		assert_int_equal(wp_eth_vlan_id(&r), 0);
	}
}

static void test_reject_runt(void **state)
{
	(void)state;
	expect_reject(lo_frame, 0, -EINVAL, WP_DROP_ETH_RUNT);
	expect_reject(lo_frame, 1, -EINVAL, WP_DROP_ETH_RUNT);
	expect_reject(lo_frame, 13, -EINVAL, WP_DROP_ETH_RUNT);
	/* A tag promises 4 more bytes. */
	for (size_t n = 14; n < 18; n++)
		expect_reject(vlan_frame, n, -EINVAL, WP_DROP_ETH_RUNT);
}

static void test_reject_tags(void **state)
{
	uint8_t f[22];

	(void)state;
	/* 802.1ad outer tag: QinQ is not spoken. */
	memcpy(f, vlan_frame, 18);
	f[12] = 0x88;
	f[13] = 0xa8;
	expect_reject(f, 18, -EPROTONOSUPPORT, WP_DROP_VLAN);
	/* Two 802.1Q tags. */
	memcpy(f, vlan_frame, 18);
	f[16] = 0x81;
	f[17] = 0x00;
	expect_reject(f, 18, -EPROTONOSUPPORT, WP_DROP_VLAN);
	/* 802.1Q then 802.1ad. */
	f[16] = 0x88;
	f[17] = 0xa8;
	expect_reject(f, 18, -EPROTONOSUPPORT, WP_DROP_VLAN);
	/* VID fff is reserved. */
	memcpy(f, vlan_frame, 18);
	f[14] = 0x0f;
	f[15] = 0xff;
	expect_reject(f, 18, -EINVAL, WP_DROP_VLAN);
}

static void test_reject_length_field(void **state)
{
	struct wp_eth_repr r;
	uint8_t f[18];

	(void)state;
	/* 802.3: a length (here 1500), not a type. */
	memcpy(f, arp_frame, 14);
	f[12] = 0x05;
	f[13] = 0xdc;
	expect_reject(f, 14, -EPROTONOSUPPORT, WP_DROP_UNHANDLED_PROTO);
	f[12] = 0x05;
	f[13] = 0xff;
	expect_reject(f, 14, -EPROTONOSUPPORT, WP_DROP_UNHANDLED_PROTO);
	/* The first type: 0600 parses. */
	f[12] = 0x06;
	f[13] = 0x00;
	assert_int_equal(wp_eth_parse(f, 14, &r, NULL), 0);
	/* Inside a tag too. */
	memcpy(f, vlan_frame, 18);
	f[16] = 0x00;
	f[17] = 0x2e;
	expect_reject(f, 18, -EPROTONOSUPPORT, WP_DROP_UNHANDLED_PROTO);
}

static void test_emit(void **state)
{
	struct wp_eth_repr r, back;
	uint8_t buf[32];

	(void)state;
	assert_int_equal(wp_eth_parse(vlan_frame, sizeof(vlan_frame), &r,
				      NULL),
			 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_eth_emit(&r, buf, 18), 0);
	assert_memory_equal(buf, vlan_frame, 18);
	assert_int_equal(buf[18], 0xee); /* nothing past the header */

	r.vlan = false;
	r.vlan_tci = 0;
	r.ethertype = WP_ETH_P_ARP;
	assert_int_equal(wp_eth_emit(&r, buf, 14), 0);
	assert_int_equal(wp_eth_parse(buf, 14, &back, NULL), 0);
	assert_repr_equal(&back, &r);
}

static void test_emit_errors(void **state)
{
	struct wp_eth_repr r = { .ethertype = WP_ETH_P_IP };
	uint8_t buf[18];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_eth_emit(&r, buf, 13), -ENOSPC);
	r.vlan = true;
	r.vlan_tci = 5;
	assert_int_equal(wp_eth_emit(&r, buf, 17), -ENOSPC);
	r.vlan_tci = 0xffff; /* VID fff */
	assert_int_equal(wp_eth_emit(&r, buf, 18), -EINVAL);
	r.vlan = false;
	r.ethertype = 0x05dc;
	assert_int_equal(wp_eth_emit(&r, buf, 18), -EINVAL);
	r.ethertype = WP_ETH_P_8021Q; /* tags are the vlan field's job */
	assert_int_equal(wp_eth_emit(&r, buf, 18), -EINVAL);
	r.ethertype = WP_ETH_P_8021AD;
	assert_int_equal(wp_eth_emit(&r, buf, 18), -EINVAL);
	/* A failed emit wrote nothing. */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

static void test_addr_predicates(void **state)
{
	struct wp_eth_addr a = { { 0x01, 0x00, 0x5e, 0, 0, 1 } };
	struct wp_eth_addr b = { { 0x02, 0, 0, 0, 0, 1 } };
	struct wp_eth_addr z = { { 0 } };

	(void)state;
	assert_true(wp_eth_addr_is_multicast(&a));
	assert_false(wp_eth_addr_is_broadcast(&a));
	assert_false(wp_eth_addr_is_valid(&a));
	assert_false(wp_eth_addr_is_multicast(&b));
	assert_true(wp_eth_addr_is_valid(&b));
	assert_false(wp_eth_addr_is_valid(&z));
	assert_true(wp_eth_addr_equal(&b, &b));
	assert_false(wp_eth_addr_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_untagged),
		cmocka_unit_test(test_parse_vlan),
		cmocka_unit_test(test_reject_runt),
		cmocka_unit_test(test_reject_tags),
		cmocka_unit_test(test_reject_length_field),
		cmocka_unit_test(test_emit),
		cmocka_unit_test(test_emit_errors),
		cmocka_unit_test(test_addr_predicates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
