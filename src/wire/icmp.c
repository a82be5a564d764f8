// SPDX-License-Identifier: MIT
#include "wire/icmp.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/ipv4.h"

/* 0 if type and code are ones we speak; -EPROTONOSUPPORT or -EINVAL. */
static int check_type(uint8_t type, uint8_t code)
{
	switch (type) {
	case WP_ICMP_ECHOREPLY:
	case WP_ICMP_ECHO:
		return code == 0 ? 0 : -EINVAL;
	case WP_ICMP_DEST_UNREACH:
		return code <= WP_ICMP_PREC_CUTOFF ? 0 : -EINVAL;
	case WP_ICMP_TIME_EXCEEDED:
		return code <= WP_ICMP_EXC_FRAGTIME ? 0 : -EINVAL;
	default:
		return -EPROTONOSUPPORT;
	}
}

/*
 * The quote must be an IPv4 header and the 8 bytes after it: what RFC 792
 * promises and what is needed to find the transport ports. Returns the
 * quoted header's length, or 0 if the quote is not that.
 */
static size_t check_quote(const uint8_t *q, size_t len)
{
	size_t hlen;

	if (len < WP_IPV4_HLEN || (q[0] >> 4) != 4)
		return 0;
	hlen = (size_t)(q[0] & 0x0f) * 4;
	if (hlen < WP_IPV4_HLEN || len < hlen + WP_ICMP_QUOTE_MIN)
		return 0;
	return hlen;
}

int wp_icmp_parse(const uint8_t *p, size_t len, unsigned flags,
		  struct wp_icmp_repr *out, enum wp_drop_reason *why)
{
	struct wp_icmp_repr r = { 0 };
	int err;

	if (len < WP_ICMP_HLEN)
		return wp__wire_fail(why, WP_DROP_ICMP_BAD, -EINVAL);
	if (!(flags & WP_WIRE_CSUM_UNNECESSARY) &&
	    wp_ip_compute_csum(p, len) != 0)
		return wp__wire_fail(why, WP_DROP_ICMP_CSUM, -EBADMSG);
	r.type = p[0];
	r.code = p[1];
	err = check_type(r.type, r.code);
	if (err)
		return wp__wire_fail(why, WP_DROP_ICMP_BAD, err);
	r.data = p + WP_ICMP_HLEN;
	r.data_len = len - WP_ICMP_HLEN;
	if (wp_icmp_is_error(r.type)) {
		r.quote_hdr_len = (uint16_t)check_quote(r.data, r.data_len);
		if (!r.quote_hdr_len)
			return wp__wire_fail(why, WP_DROP_ICMP_BAD, -EINVAL);
		if (r.type == WP_ICMP_DEST_UNREACH)
			r.mtu = wp_get_be16(p + 6);
	} else {
		r.id = wp_get_be16(p + 4);
		r.seq = wp_get_be16(p + 6);
	}
	*out = r;
	return 0;
}

int wp_icmp_emit(const struct wp_icmp_repr *r, uint8_t *p, size_t len)
{
	const uint8_t *data = r->data ? r->data : p + WP_ICMP_HLEN;
	bool error = wp_icmp_is_error(r->type);

	if (check_type(r->type, r->code) != 0)
		return -EINVAL;
	if (r->data_len > WP_IP_MAX_LEN - WP_IPV4_HLEN - WP_ICMP_HLEN)
		return -EMSGSIZE;
	if (len < WP_ICMP_HLEN || len - WP_ICMP_HLEN < r->data_len)
		return -ENOSPC;
	if (error && !check_quote(data, r->data_len))
		return -EINVAL;
	if (data != p + WP_ICMP_HLEN)
		memmove(p + WP_ICMP_HLEN, data, r->data_len);
	p[0] = r->type;
	p[1] = r->code;
	wp_put_be16(p + 2, 0);
	if (error) {
		wp_put_be16(p + 4, 0);
		wp_put_be16(p + 6,
			    r->type == WP_ICMP_DEST_UNREACH ? r->mtu : 0);
	} else {
		wp_put_be16(p + 4, r->id);
		wp_put_be16(p + 6, r->seq);
	}
	wp_put_be16(p + 2, wp_ip_compute_csum(p, WP_ICMP_HLEN + r->data_len));
	return 0;
}
