// SPDX-License-Identifier: MIT
#include "wire/tcp.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/ipv4.h"

uint16_t wp_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *p,
		     size_t len)
{
	return wp_csum_tcpudp(saddr, daddr, WP_IPPROTO_TCP, p, len);
}

/* Decode one option whose length olen (>= 2, in bounds) was checked. */
static int option(struct wp_tcp_opts *o, const uint8_t *opt, size_t olen)
{
	size_t n;

	switch (opt[0]) {
	case WP_TCPOPT_MSS:
		if (olen != WP_TCPOLEN_MSS)
			return -EINVAL;
		o->mss = wp_get_be16(opt + 2);
		o->present |= WP_TCP_OPT_MSS;
		return 0;
	case WP_TCPOPT_WINDOW:
		if (olen != WP_TCPOLEN_WINDOW)
			return -EINVAL;
		o->wscale = opt[2];
		o->present |= WP_TCP_OPT_WSCALE;
		return 0;
	case WP_TCPOPT_SACK_PERM:
		if (olen != WP_TCPOLEN_SACK_PERM)
			return -EINVAL;
		o->present |= WP_TCP_OPT_SACK_PERM;
		return 0;
	case WP_TCPOPT_TIMESTAMP:
		if (olen != WP_TCPOLEN_TIMESTAMP)
			return -EINVAL;
		o->tsval = wp_get_be32(opt + 2);
		o->tsecr = wp_get_be32(opt + 6);
		o->present |= WP_TCP_OPT_TS;
		return 0;
	case WP_TCPOPT_SACK:
		/* RFC 2018 3: 2 + 8n bytes; 40 bytes of options hold 4. */
		if (olen < WP_TCPOLEN_SACK_BASE + WP_TCPOLEN_SACK_PERBLOCK ||
		    (olen - WP_TCPOLEN_SACK_BASE) % WP_TCPOLEN_SACK_PERBLOCK)
			return -EINVAL;
		n = (olen - WP_TCPOLEN_SACK_BASE) / WP_TCPOLEN_SACK_PERBLOCK;
		if (n > WP_TCP_SACK_MAX)
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			const uint8_t *b = opt + 2 + i * 8;

			o->sack[i].start = wp_get_be32(b);
			o->sack[i].end = wp_get_be32(b + 4);
		}
		o->nr_sack = (uint8_t)n;
		o->present |= WP_TCP_OPT_SACK;
		return 0;
	default:
		return 0; /* unknown: its length was enough to skip it */
	}
}

int wp_tcp_options_parse(const uint8_t *opt, size_t len,
			 struct wp_tcp_opts *out, enum wp_drop_reason *why)
{
	struct wp_tcp_opts o = { 0 };
	size_t i = 0;

	while (i < len) {
		size_t olen;

		if (opt[i] == WP_TCPOPT_EOL)
			break;
		if (opt[i] == WP_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			return wp__wire_fail(why, WP_DROP_TCP_OPTION, -EINVAL);
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return wp__wire_fail(why, WP_DROP_TCP_OPTION, -EINVAL);
		if (option(&o, opt + i, olen) != 0)
			return wp__wire_fail(why, WP_DROP_TCP_OPTION, -EINVAL);
		i += olen;
	}
	*out = o;
	return 0;
}

int wp_tcp_options_len(const struct wp_tcp_opts *o)
{
	int n = 0;

	if (o->present & WP_TCP_OPT_MSS)
		n += 4;
	if (o->present & (WP_TCP_OPT_TS | WP_TCP_OPT_SACK_PERM))
		n += (o->present & WP_TCP_OPT_TS) ? 12 : 4;
	if (o->present & WP_TCP_OPT_WSCALE)
		n += 4;
	if (o->present & WP_TCP_OPT_SACK) {
		if (o->nr_sack == 0 || o->nr_sack > WP_TCP_SACK_MAX)
			return -EINVAL;
		n += 4 + o->nr_sack * WP_TCPOLEN_SACK_PERBLOCK;
	}
	return n > WP_TCP_OPTS_MAX ? -EMSGSIZE : n;
}

int wp_tcp_options_emit(const struct wp_tcp_opts *o, uint8_t *p, size_t len)
{
	int n = wp_tcp_options_len(o);
	bool ts = o->present & WP_TCP_OPT_TS;
	bool sack_perm = o->present & WP_TCP_OPT_SACK_PERM;

	if (n < 0)
		return n;
	if (len < (size_t)n)
		return -ENOSPC;
	if (o->present & WP_TCP_OPT_MSS) {
		p[0] = WP_TCPOPT_MSS;
		p[1] = WP_TCPOLEN_MSS;
		wp_put_be16(p + 2, o->mss);
		p += 4;
	}
	if (ts) {
		/* SACK_PERM takes the place of the two NOPs before TS. */
		p[0] = sack_perm ? WP_TCPOPT_SACK_PERM : WP_TCPOPT_NOP;
		p[1] = sack_perm ? WP_TCPOLEN_SACK_PERM : WP_TCPOPT_NOP;
		p[2] = WP_TCPOPT_TIMESTAMP;
		p[3] = WP_TCPOLEN_TIMESTAMP;
		wp_put_be32(p + 4, o->tsval);
		wp_put_be32(p + 8, o->tsecr);
		p += 12;
	} else if (sack_perm) {
		p[0] = WP_TCPOPT_NOP;
		p[1] = WP_TCPOPT_NOP;
		p[2] = WP_TCPOPT_SACK_PERM;
		p[3] = WP_TCPOLEN_SACK_PERM;
		p += 4;
	}
	if (o->present & WP_TCP_OPT_WSCALE) {
		p[0] = WP_TCPOPT_NOP;
		p[1] = WP_TCPOPT_WINDOW;
		p[2] = WP_TCPOLEN_WINDOW;
		p[3] = o->wscale;
		p += 4;
	}
	if (o->present & WP_TCP_OPT_SACK) {
		p[0] = WP_TCPOPT_NOP;
		p[1] = WP_TCPOPT_NOP;
		p[2] = WP_TCPOPT_SACK;
		p[3] = (uint8_t)(WP_TCPOLEN_SACK_BASE +
				 o->nr_sack * WP_TCPOLEN_SACK_PERBLOCK);
		p += 4;
		for (unsigned i = 0; i < o->nr_sack; i++) {
			wp_put_be32(p, o->sack[i].start);
			wp_put_be32(p + 4, o->sack[i].end);
			p += 8;
		}
	}
	return 0;
}

int wp_tcp_parse(const uint8_t *p, size_t len, uint32_t saddr, uint32_t daddr,
		 unsigned flags, struct wp_tcp_repr *out,
		 enum wp_drop_reason *why)
{
	struct wp_tcp_repr r;
	size_t doff;
	int err;

	if (len < WP_TCP_HLEN)
		return wp__wire_fail(why, WP_DROP_TCP_HDR, -EINVAL);
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < WP_TCP_HLEN || doff > len)
		return wp__wire_fail(why, WP_DROP_TCP_HDR, -EINVAL);
	if (!(flags & WP_WIRE_CSUM_UNNECESSARY) &&
	    wp_tcp_csum(saddr, daddr, p, len) != 0)
		return wp__wire_fail(why, WP_DROP_TCP_CSUM, -EBADMSG);
	err = wp_tcp_options_parse(p + WP_TCP_HLEN, doff - WP_TCP_HLEN, &r.opts,
				   why);
	if (err)
		return err;
	r.sport = wp_get_be16(p);
	r.dport = wp_get_be16(p + 2);
	r.seq = wp_get_be32(p + 4);
	r.ack_seq = wp_get_be32(p + 8);
	r.flags = wp_get_be16(p + 12) & WP_TCP_FLAGS_MASK;
	r.window = wp_get_be16(p + 14);
	r.urg_ptr = wp_get_be16(p + 18);
	r.payload = p + doff;
	r.payload_len = len - doff;
	*out = r;
	return 0;
}

int wp_tcp_emit(const struct wp_tcp_repr *r, uint32_t saddr, uint32_t daddr,
		uint8_t *p, size_t len)
{
	int hlen = wp_tcp_hdr_len(r);
	size_t tot;

	if (hlen < 0)
		return hlen;
	if (r->payload_len > WP_IP_MAX_LEN - (size_t)hlen)
		return -EMSGSIZE;
	tot = (size_t)hlen + r->payload_len;
	if (len < tot)
		return -ENOSPC;
	if (r->payload && r->payload != p + hlen)
		memmove(p + hlen, r->payload, r->payload_len);
	wp_put_be16(p, r->sport);
	wp_put_be16(p + 2, r->dport);
	wp_put_be32(p + 4, r->seq);
	wp_put_be32(p + 8, r->ack_seq);
	wp_put_be16(p + 12, (uint16_t)((hlen / 4) << 12 |
				       (r->flags & WP_TCP_FLAGS_MASK)));
	wp_put_be16(p + 14, r->window);
	wp_put_be16(p + 16, 0);
	wp_put_be16(p + 18, r->urg_ptr);
	wp_tcp_options_emit(&r->opts, p + WP_TCP_HLEN,
			    (size_t)hlen - WP_TCP_HLEN);
	wp_put_be16(p + 16, wp_tcp_csum(saddr, daddr, p, tot));
	return 0;
}
