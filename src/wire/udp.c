// SPDX-License-Identifier: MIT
#include "wire/udp.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/ipv4.h"

int wp_udp_parse(const uint8_t *p, size_t len, uint32_t saddr, uint32_t daddr,
		 unsigned flags, struct wp_udp_repr *out,
		 enum wp_drop_reason *why)
{
	struct wp_udp_repr r;
	size_t ulen;

	if (len < WP_UDP_HLEN)
		return wp__wire_fail(why, WP_DROP_UDP_LEN, -EINVAL);
	ulen = wp_get_be16(p + 4);
	if (ulen < WP_UDP_HLEN || ulen > len)
		return wp__wire_fail(why, WP_DROP_UDP_LEN, -EINVAL);
	if (!(flags & WP_WIRE_CSUM_UNNECESSARY) && wp_get_be16(p + 6) != 0 &&
	    wp_csum_tcpudp(saddr, daddr, WP_IPPROTO_UDP, p, ulen) != 0)
		return wp__wire_fail(why, WP_DROP_UDP_CSUM, -EBADMSG);
	r.sport = wp_get_be16(p);
	r.dport = wp_get_be16(p + 2);
	r.payload = p + WP_UDP_HLEN;
	r.payload_len = ulen - WP_UDP_HLEN;
	*out = r;
	return 0;
}

int wp_udp_emit(const struct wp_udp_repr *r, uint32_t saddr, uint32_t daddr,
		uint8_t *p, size_t len)
{
	size_t ulen = WP_UDP_HLEN + r->payload_len;
	uint16_t check;

	if (r->payload_len > WP_IP_MAX_LEN - WP_UDP_HLEN)
		return -EMSGSIZE;
	if (len < ulen)
		return -ENOSPC;
	if (r->payload && r->payload != p + WP_UDP_HLEN)
		memmove(p + WP_UDP_HLEN, r->payload, r->payload_len);
	wp_put_be16(p, r->sport);
	wp_put_be16(p + 2, r->dport);
	wp_put_be16(p + 4, (uint16_t)ulen);
	wp_put_be16(p + 6, 0);
	check = wp_csum_tcpudp(saddr, daddr, WP_IPPROTO_UDP, p, ulen);
	wp_put_be16(p + 6, check ? check : 0xffff);
	return 0;
}
