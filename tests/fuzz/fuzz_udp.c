// SPDX-License-Identifier: MIT
/*
 * UDP: [mode] [saddr(4) daddr(4)] datagram, the addresses forming the
 * pseudo-header. Parse, emit, parse again.
 */
#include "fuzz.h"

#include "wire/csum.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static const enum wp_drop_reason udp_reasons[] = {
	WP_DROP_UDP_LEN,
	WP_DROP_UDP_CSUM,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_udp_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint32_t saddr, daddr;
	unsigned flags;
	uint8_t *p, *out;
	size_t n, ulen;

	if (size < 9)
		return 0;
	saddr = wp_get_be32(data + 1);
	daddr = wp_get_be32(data + 5);
	n = size - 9;
	p = fuzz_dup(data + 9, n);
	flags = (data[0] & FUZZ_CSUM_UNNECESSARY) ? WP_WIRE_CSUM_UNNECESSARY
						  : 0;
	if ((data[0] & FUZZ_FIX_CSUM) && n >= WP_UDP_HLEN) {
		ulen = wp_get_be16(p + 4);
		if (ulen >= WP_UDP_HLEN && ulen <= n) {
			wp_put_be16(p + 6, 0);
			wp_put_be16(p + 6,
				    wp_csum_tcpudp(saddr, daddr, WP_IPPROTO_UDP,
						   p, ulen));
		}
	}
	if (wp_udp_parse(p, n, saddr, daddr, flags, &r, &why) != 0) {
		fuzz_check_reason(why, udp_reasons, 2);
		free(p);
		return 0;
	}
	ulen = WP_UDP_HLEN + r.payload_len;
	fuzz_check(ulen <= n && r.payload == p + WP_UDP_HLEN, "payload span");
	out = fuzz_alloc(ulen);
	fuzz_check(wp_udp_emit(&r, saddr, daddr, out, ulen - 1) == -ENOSPC,
		   "emit short");
	fuzz_check(wp_udp_emit(&r, saddr, daddr, out, ulen) == 0, "emit");
	fuzz_check(wp_get_be16(out + 6) != 0, "checksum sent");
	fuzz_check(wp_udp_parse(out, ulen, saddr, daddr, 0, &back, NULL) == 0,
		   "reparse");
	fuzz_check(back.sport == r.sport && back.dport == r.dport &&
			   back.payload_len == r.payload_len &&
			   memcmp(back.payload, r.payload, r.payload_len) == 0,
		   "round trip");
	free(out);
	free(p);
	return 0;
}
