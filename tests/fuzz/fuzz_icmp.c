// SPDX-License-Identifier: MIT
/* ICMP: [mode] message. Parse, emit, parse again. */
#include "fuzz.h"

#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

static const enum wp_drop_reason icmp_reasons[] = {
	WP_DROP_ICMP_BAD,
	WP_DROP_ICMP_CSUM,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_icmp_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	unsigned flags;
	uint8_t *p, *out;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	p = fuzz_dup(data + 1, n);
	flags = (data[0] & FUZZ_CSUM_UNNECESSARY) ? WP_WIRE_CSUM_UNNECESSARY
						  : 0;
	if ((data[0] & FUZZ_FIX_CSUM) && n >= WP_ICMP_HLEN) {
		wp_put_be16(p + 2, 0);
		wp_put_be16(p + 2, wp_ip_compute_csum(p, n));
	}
	if (wp_icmp_parse(p, n, flags, &r, &why) != 0) {
		fuzz_check_reason(why, icmp_reasons, 2);
		free(p);
		return 0;
	}
	fuzz_check(r.data == p + WP_ICMP_HLEN && r.data_len == n - WP_ICMP_HLEN,
		   "data span");
	fuzz_check(!wp_icmp_is_error(r.type) ||
			   r.data_len >= r.quote_hdr_len + 8u,
		   "quote span");
	if (r.data_len > WP_IP_MAX_LEN - WP_IPV4_HLEN - WP_ICMP_HLEN) {
		/* Longer than any IPv4 datagram could carry. */
		fuzz_check(wp_icmp_emit(&r, p, n) == -EMSGSIZE, "too long");
		free(p);
		return 0;
	}
	out = fuzz_alloc(n);
	fuzz_check(wp_icmp_emit(&r, out, n - 1) == -ENOSPC, "emit short");
	fuzz_check(wp_icmp_emit(&r, out, n) == 0, "emit");
	fuzz_check(wp_icmp_parse(out, n, 0, &back, NULL) == 0, "reparse");
	fuzz_check(back.type == r.type && back.code == r.code &&
			   back.id == r.id && back.seq == r.seq &&
			   back.mtu == r.mtu &&
			   back.quote_hdr_len == r.quote_hdr_len &&
			   back.data_len == r.data_len &&
			   memcmp(back.data, r.data, r.data_len) == 0,
		   "round trip");
	free(out);
	free(p);
	return 0;
}
