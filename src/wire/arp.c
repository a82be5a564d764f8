// SPDX-License-Identifier: MIT
#include "wire/arp.h"

#include <errno.h>

static bool op_ok(uint16_t op)
{
	return op == WP_ARPOP_REQUEST || op == WP_ARPOP_REPLY;
}

int wp_arp_parse(const uint8_t *p, size_t len, struct wp_arp_repr *out,
		 enum wp_drop_reason *why)
{
	struct wp_arp_repr r;

	if (len < WP_ARP_HLEN)
		return wp__wire_fail(why, WP_DROP_ARP_BAD, -EINVAL);
	if (wp_get_be16(p) != WP_ARPHRD_ETHER ||
	    wp_get_be16(p + 2) != WP_ETH_P_IP)
		return wp__wire_fail(why, WP_DROP_ARP_BAD, -EPROTONOSUPPORT);
	if (p[4] != WP_ETH_ALEN || p[5] != 4)
		return wp__wire_fail(why, WP_DROP_ARP_BAD, -EINVAL);
	r.op = wp_get_be16(p + 6);
	if (!op_ok(r.op))
		return wp__wire_fail(why, WP_DROP_ARP_BAD, -EPROTONOSUPPORT);
	memcpy(r.sha.b, p + 8, WP_ETH_ALEN);
	r.spa = wp_get_be32(p + 14);
	memcpy(r.tha.b, p + 18, WP_ETH_ALEN);
	r.tpa = wp_get_be32(p + 24);
	*out = r;
	return 0;
}

int wp_arp_emit(const struct wp_arp_repr *r, uint8_t *p, size_t len)
{
	if (!op_ok(r->op))
		return -EINVAL;
	if (len < WP_ARP_HLEN)
		return -ENOSPC;
	wp_put_be16(p, WP_ARPHRD_ETHER);
	wp_put_be16(p + 2, WP_ETH_P_IP);
	p[4] = WP_ETH_ALEN;
	p[5] = 4;
	wp_put_be16(p + 6, r->op);
	memcpy(p + 8, r->sha.b, WP_ETH_ALEN);
	wp_put_be32(p + 14, r->spa);
	memcpy(p + 18, r->tha.b, WP_ETH_ALEN);
	wp_put_be32(p + 24, r->tpa);
	return 0;
}
