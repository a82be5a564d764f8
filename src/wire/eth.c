// SPDX-License-Identifier: MIT
#include "wire/eth.h"

#include <errno.h>

static bool is_tag_type(uint16_t type)
{
	return type == WP_ETH_P_8021Q || type == WP_ETH_P_8021AD;
}

int wp_eth_parse(const uint8_t *p, size_t len, struct wp_eth_repr *out,
		 enum wp_drop_reason *why)
{
	struct wp_eth_repr r = { 0 };
	uint16_t type;

	if (len < WP_ETH_HLEN)
		return wp__wire_fail(why, WP_DROP_ETH_RUNT, -EINVAL);
	memcpy(r.dst.b, p, WP_ETH_ALEN);
	memcpy(r.src.b, p + WP_ETH_ALEN, WP_ETH_ALEN);
	type = wp_get_be16(p + 12);
	if (type == WP_ETH_P_8021AD)
		return wp__wire_fail(why, WP_DROP_VLAN, -EPROTONOSUPPORT);
	if (type == WP_ETH_P_8021Q) {
		if (len < WP_ETH_HLEN + WP_ETH_VLAN_HLEN)
			return wp__wire_fail(why, WP_DROP_ETH_RUNT, -EINVAL);
		r.vlan = true;
		r.vlan_tci = wp_get_be16(p + 14);
		type = wp_get_be16(p + 16);
		if (is_tag_type(type))
			return wp__wire_fail(why, WP_DROP_VLAN,
					     -EPROTONOSUPPORT);
		if ((r.vlan_tci & WP_VLAN_VID_MASK) == WP_VLAN_VID_RESERVED)
			return wp__wire_fail(why, WP_DROP_VLAN, -EINVAL);
	}
	if (type < WP_ETH_P_802_3_MIN)
		return wp__wire_fail(why, WP_DROP_UNHANDLED_PROTO,
				     -EPROTONOSUPPORT);
	r.ethertype = type;
	*out = r;
	return 0;
}

int wp_eth_emit(const struct wp_eth_repr *r, uint8_t *p, size_t len)
{
	size_t off = 12;

	if (r->ethertype < WP_ETH_P_802_3_MIN || is_tag_type(r->ethertype))
		return -EINVAL;
	if (r->vlan && (r->vlan_tci & WP_VLAN_VID_MASK) == WP_VLAN_VID_RESERVED)
		return -EINVAL;
	if (len < wp_eth_hdr_len(r))
		return -ENOSPC;
	memcpy(p, r->dst.b, WP_ETH_ALEN);
	memcpy(p + WP_ETH_ALEN, r->src.b, WP_ETH_ALEN);
	if (r->vlan) {
		wp_put_be16(p + off, WP_ETH_P_8021Q);
		wp_put_be16(p + off + 2, r->vlan_tci);
		off += WP_ETH_VLAN_HLEN;
	}
	wp_put_be16(p + off, r->ethertype);
	return 0;
}
