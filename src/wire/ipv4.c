// SPDX-License-Identifier: MIT
#include "wire/ipv4.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"

enum {
	IP_RF = 0x8000, /* reserved: must be zero (RFC 791 3.1) */
	IP_DF = 0x4000,
	IP_MF = 0x2000,
	IP_OFFMASK = 0x1fff,
};

/*
 * RFC 791 3.1: END and NOOP are one byte; every other option is type,
 * length (counting both), data. Each step advances at least one byte, so
 * the walk ends whatever the bytes say.
 */
int wp_ipv4_options_check(const uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t type = opt[i];
		uint8_t olen;

		if (type == WP_IPOPT_END)
			return 0; /* the rest is padding */
		if (type == WP_IPOPT_NOOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return -EINVAL;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return -EINVAL;
		i += olen;
	}
	return 0;
}

int wp_ipv4_parse(const uint8_t *p, size_t len, struct wp_ipv4_repr *out,
		  enum wp_drop_reason *why)
{
	struct wp_ipv4_repr r;
	size_t hlen, tot_len;
	uint16_t frag;

	if (len < WP_IPV4_HLEN || (p[0] >> 4) != 4)
		return wp__wire_fail(why, WP_DROP_IP_HDR, -EINVAL);
	hlen = (size_t)(p[0] & 0x0f) * 4;
	if (hlen < WP_IPV4_HLEN || hlen > len)
		return wp__wire_fail(why, WP_DROP_IP_HDR, -EINVAL);
	if (wp_ip_fast_csum(p, (unsigned int)hlen / 4) != 0)
		return wp__wire_fail(why, WP_DROP_IP_CSUM, -EBADMSG);
	tot_len = wp_get_be16(p + 2);
	if (tot_len < hlen || tot_len > len)
		return wp__wire_fail(why, WP_DROP_IP_LEN, -EINVAL);
	frag = wp_get_be16(p + 6);
	if (frag & IP_RF)
		return wp__wire_fail(why, WP_DROP_IP_HDR, -EINVAL);
	r.frag_offset = (uint16_t)((frag & IP_OFFMASK) * 8);
	r.payload_len = (uint16_t)(tot_len - hlen);
	if ((size_t)r.frag_offset + r.payload_len > WP_IP_MAX_LEN)
		return wp__wire_fail(why, WP_DROP_IP_FRAG, -EINVAL);
	r.options_len = (uint16_t)(hlen - WP_IPV4_HLEN);
	r.options = r.options_len ? p + WP_IPV4_HLEN : NULL;
	if (r.options_len &&
	    wp_ipv4_options_check(p + WP_IPV4_HLEN, r.options_len) != 0)
		return wp__wire_fail(why, WP_DROP_IP_HDR, -EINVAL);
	r.tos = p[1];
	r.id = wp_get_be16(p + 4);
	r.df = frag & IP_DF;
	r.mf = frag & IP_MF;
	r.ttl = p[8];
	r.protocol = p[9];
	r.saddr = wp_get_be32(p + 12);
	r.daddr = wp_get_be32(p + 16);
	*out = r;
	return 0;
}

int wp_ipv4_emit(const struct wp_ipv4_repr *r, uint8_t *p, size_t len)
{
	size_t hlen = wp_ipv4_hdr_len(r);
	uint16_t frag;

	if (r->options_len > WP_IPV4_OPTS_MAX || r->options_len % 4 != 0 ||
	    (r->options_len && !r->options))
		return -EINVAL;
	if (r->options_len &&
	    wp_ipv4_options_check(r->options, r->options_len) != 0)
		return -EINVAL;
	if (r->frag_offset % 8 != 0 ||
	    (size_t)r->frag_offset + r->payload_len > WP_IP_MAX_LEN)
		return -EINVAL;
	if (hlen + r->payload_len > WP_IP_MAX_LEN)
		return -EMSGSIZE;
	if (len < hlen)
		return -ENOSPC;
	frag = (uint16_t)(r->frag_offset / 8);
	if (r->df)
		frag |= IP_DF;
	if (r->mf)
		frag |= IP_MF;
	/* Options first: they may alias the old header being rewritten. */
	if (r->options_len)
		memmove(p + WP_IPV4_HLEN, r->options, r->options_len);
	p[0] = (uint8_t)(0x40 | hlen / 4);
	p[1] = r->tos;
	wp_put_be16(p + 2, (uint16_t)(hlen + r->payload_len));
	wp_put_be16(p + 4, r->id);
	wp_put_be16(p + 6, frag);
	p[8] = r->ttl;
	p[9] = r->protocol;
	wp_put_be16(p + 10, 0);
	wp_put_be32(p + 12, r->saddr);
	wp_put_be32(p + 16, r->daddr);
	wp_put_be16(p + 10, wp_ip_compute_csum(p, hlen));
	return 0;
}
