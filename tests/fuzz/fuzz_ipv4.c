// SPDX-License-Identifier: MIT
/* IPv4 header and options: [mode] datagram. Parse, emit, parse again. */
#include "fuzz.h"

#include "wire/csum.h"
#include "wire/ipv4.h"

static const enum wp_drop_reason ipv4_reasons[] = {
	WP_DROP_IP_HDR,
	WP_DROP_IP_CSUM,
	WP_DROP_IP_LEN,
	WP_DROP_IP_FRAG,
};

static void fix_csum(uint8_t *p, size_t len)
{
	size_t hlen;

	if (len < WP_IPV4_HLEN)
		return;
	hlen = (size_t)(p[0] & 0x0f) * 4;
	if (hlen < WP_IPV4_HLEN || hlen > len)
		return;
	wp_put_be16(p + 10, 0);
	wp_put_be16(p + 10, wp_ip_compute_csum(p, hlen));
}

static bool same(const struct wp_ipv4_repr *a, const struct wp_ipv4_repr *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->tos == b->tos && a->ttl == b->ttl &&
	       a->protocol == b->protocol && a->df == b->df && a->mf == b->mf &&
	       a->id == b->id && a->frag_offset == b->frag_offset &&
	       a->options_len == b->options_len &&
	       a->payload_len == b->payload_len &&
	       (a->options_len == 0 ||
		memcmp(a->options, b->options, a->options_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_ipv4_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint8_t out[WP_IPV4_HLEN_MAX];
	uint8_t *p;
	size_t hlen, n;

	if (size < 1)
		return 0;
	n = size - 1;
	p = fuzz_dup(data + 1, n);
	if (data[0] & FUZZ_FIX_CSUM)
		fix_csum(p, n);
	if (wp_ipv4_parse(p, n, &r, &why) != 0) {
		fuzz_check_reason(why, ipv4_reasons, 4);
		free(p);
		return 0;
	}
	hlen = wp_ipv4_hdr_len(&r);
	fuzz_check(hlen <= n && wp_ipv4_total_len(&r) <= n, "lengths");
	fuzz_check(wp_ipv4_emit(&r, out, hlen - 1) == -ENOSPC, "emit short");
	fuzz_check(wp_ipv4_emit(&r, out, hlen) == 0, "emit");
	/*
	 * All but the checksum comes back as it was; the checksum may be
	 * the other zero (0000 for ffff) and still verify.
	 */
	fuzz_check(memcmp(out, p, 10) == 0 &&
			   memcmp(out + 12, p + 12, hlen - 12) == 0,
		   "emitted bytes");
	/* The reparse sees only the header: its payload is the original's. */
	{
		size_t tot = wp_ipv4_total_len(&r);
		uint8_t *d = fuzz_dup(p, tot);

		memcpy(d, out, hlen);
		fuzz_check(wp_ipv4_parse(d, tot, &back, NULL) == 0, "reparse");
		fuzz_check(same(&r, &back), "round trip");
		free(d);
	}
	free(p);
	return 0;
}
