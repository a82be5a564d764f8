// SPDX-License-Identifier: MIT
/*
 * ARP for Ethernet/IPv4: request and reply, link padding, every field
 * check with its drop reason, emit and its failures.
 */
#include "test_core_common.h"

#include <errno.h>
#include <string.h>

#include "wire/arp.h"

/* who-has 10.0.0.2 tell 10.0.0.1, from 52:54:00:12:34:56, padded to 46. */
static const uint8_t request[46] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
	0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

static void assert_repr_equal(const struct wp_arp_repr *a,
			      const struct wp_arp_repr *b)
{
	assert_int_equal(a->op, b->op);
	assert_true(wp_eth_addr_equal(&a->sha, &b->sha));
	assert_int_equal(a->spa, b->spa);
	assert_true(wp_eth_addr_equal(&a->tha, &b->tha));
	assert_int_equal(a->tpa, b->tpa);
}

static void expect_reject(const uint8_t *p, size_t len, int err)
{
	struct wp_arp_repr r, before;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	memset(&r, 0x5a, sizeof(r));
	before = r;
	assert_int_equal(wp_arp_parse(p, len, &r, &why), err);
	assert_int_equal(why, WP_DROP_ARP_BAD);
	assert_memory_equal(&r, &before, sizeof(r));
	assert_int_equal(wp_arp_parse(p, len, &r, NULL), err);
}

static void test_parse_request(void **state)
{
	struct wp_arp_repr r;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;

	(void)state;
	assert_int_equal(wp_arp_parse(request, sizeof(request), &r, &why), 0);
	assert_int_equal(r.op, WP_ARPOP_REQUEST);
	assert_memory_equal(r.sha.b, request + 8, 6);
	assert_int_equal(r.spa, 0x0a000001);
	assert_true(wp_eth_addr_is_zero(&r.tha));
	assert_int_equal(r.tpa, 0x0a000002);
	/* Exactly 28 bytes is enough; padding is ignored. */
	assert_int_equal(wp_arp_parse(request, WP_ARP_HLEN, &r, NULL), 0);
}

static void test_reject(void **state)
{
	uint8_t p[28];

	(void)state;
	expect_reject(request, 0, -EINVAL);
	expect_reject(request, 8, -EINVAL);
	expect_reject(request, 27, -EINVAL);

	memcpy(p, request, 28);
	p[1] = 6; /* htype IEEE 802 */
	expect_reject(p, 28, -EPROTONOSUPPORT);
	memcpy(p, request, 28);
	p[2] = 0x86; /* ptype IPv6 */
	p[3] = 0xdd;
	expect_reject(p, 28, -EPROTONOSUPPORT);
	memcpy(p, request, 28);
	p[4] = 8; /* hlen */
	expect_reject(p, 28, -EINVAL);
	memcpy(p, request, 28);
	p[5] = 16; /* plen */
	expect_reject(p, 28, -EINVAL);
	memcpy(p, request, 28);
	for (unsigned op = 0; op < 12; op++) {
		if (op == 1 || op == 2)
			continue;
		p[7] = (uint8_t)op; /* RARP 3/4, InARP 8/9 and the rest */
		expect_reject(p, 28, -EPROTONOSUPPORT);
	}
	p[6] = 1; /* op 0x0101 */
	p[7] = 1;
	expect_reject(p, 28, -EPROTONOSUPPORT);
}

static void test_emit_reply(void **state)
{
	struct wp_arp_repr req, rep, back;
	const struct wp_eth_addr me = { { 0x02, 0, 0, 0, 0, 2 } };
	uint8_t buf[WP_ARP_HLEN + 2];

	(void)state;
	assert_int_equal(wp_arp_parse(request, sizeof(request), &req, NULL), 0);
	rep = (struct wp_arp_repr){ .op = WP_ARPOP_REPLY, .sha = me,
				    .spa = req.tpa, .tha = req.sha,
				    .tpa = req.spa };
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_arp_emit(&rep, buf, WP_ARP_HLEN), 0);
	assert_int_equal(buf[WP_ARP_HLEN], 0xee);
	assert_memory_equal(buf, "\x00\x01\x08\x00\x06\x04\x00\x02", 8);
	assert_int_equal(wp_arp_parse(buf, WP_ARP_HLEN, &back, NULL), 0);
	assert_repr_equal(&back, &rep);
	/* And the request comes back byte for byte. */
	assert_int_equal(wp_arp_emit(&req, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, request, WP_ARP_HLEN);
}

static void test_emit_errors(void **state)
{
	struct wp_arp_repr r = { .op = WP_ARPOP_REQUEST };
	uint8_t buf[WP_ARP_HLEN];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wp_arp_emit(&r, buf, WP_ARP_HLEN - 1), -ENOSPC);
	r.op = 3;
	assert_int_equal(wp_arp_emit(&r, buf, WP_ARP_HLEN), -EINVAL);
	r.op = 0;
	assert_int_equal(wp_arp_emit(&r, buf, WP_ARP_HLEN), -EINVAL);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_emit_reply),
		cmocka_unit_test(test_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
