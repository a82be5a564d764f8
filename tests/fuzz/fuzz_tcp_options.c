// SPDX-License-Identifier: MIT
/*
 * TCP options, alone and inside a segment.
 *   mode bit 2 clear: [mode] options       wp_tcp_options_parse()
 *   mode bit 2 set:   [mode] [saddr daddr] segment   wp_tcp_parse()
 * Parse, emit (Linux's layout), parse again: the options must agree.
 */
#include "fuzz.h"

#include "wire/ipv4.h"
#include "wire/tcp.h"

enum { FUZZ_SEGMENT = 1u << 2 };

static const enum wp_drop_reason tcp_reasons[] = {
	WP_DROP_TCP_HDR,
	WP_DROP_TCP_CSUM,
	WP_DROP_TCP_OPTION,
};

static bool same_opts(const struct wp_tcp_opts *a, const struct wp_tcp_opts *b)
{
	return a->present == b->present && a->mss == b->mss &&
	       a->wscale == b->wscale && a->tsval == b->tsval &&
	       a->tsecr == b->tsecr && a->nr_sack == b->nr_sack &&
	       memcmp(a->sack, b->sack, a->nr_sack * sizeof(a->sack[0])) == 0;
}

/*
 * Linux's layout pads with NOPs, so options packed tighter on the wire
 * may not fit it: SACK with window scale or SACK-permitted is the case.
 */
static bool emittable(const struct wp_tcp_opts *o)
{
	int n = wp_tcp_options_len(o);

	fuzz_check(n != -EINVAL, "parsed options are well formed");
	return n >= 0;
}

static void options(const uint8_t *data, size_t size)
{
	struct wp_tcp_opts o, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint8_t out[WP_TCP_OPTS_MAX];
	int n;

	if (wp_tcp_options_parse(data, size, &o, &why) != 0) {
		fuzz_check(why == WP_DROP_TCP_OPTION, "reason");
		return;
	}
	fuzz_check(o.nr_sack <= WP_TCP_SACK_MAX &&
			   !o.nr_sack == !(o.present & WP_TCP_OPT_SACK),
		   "sack blocks");
	if (!emittable(&o))
		return;
	n = wp_tcp_options_len(&o);
	fuzz_check(n % 4 == 0 && n <= WP_TCP_OPTS_MAX, "options length");
	if (n > 0)
		fuzz_check(wp_tcp_options_emit(&o, out, (size_t)n - 1) ==
				   -ENOSPC,
			   "emit short");
	fuzz_check(wp_tcp_options_emit(&o, out, (size_t)n) == 0, "emit");
	fuzz_check(wp_tcp_options_parse(out, (size_t)n, &back, NULL) == 0,
		   "reparse");
	fuzz_check(same_opts(&o, &back), "round trip");
}

static void segment(const uint8_t *data, size_t size, uint8_t mode)
{
	struct wp_tcp_repr r, back;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	uint32_t saddr, daddr;
	unsigned flags;
	uint8_t *p, *out;
	size_t n, tot;
	int hlen;

	if (size < 8)
		return;
	saddr = wp_get_be32(data);
	daddr = wp_get_be32(data + 4);
	n = size - 8;
	p = fuzz_dup(data + 8, n);
	flags = (mode & FUZZ_CSUM_UNNECESSARY) ? WP_WIRE_CSUM_UNNECESSARY : 0;
	if ((mode & FUZZ_FIX_CSUM) && n >= WP_TCP_HLEN) {
		wp_put_be16(p + 16, 0);
		wp_put_be16(p + 16, wp_tcp_csum(saddr, daddr, p, n));
	}
	if (wp_tcp_parse(p, n, saddr, daddr, flags, &r, &why) != 0) {
		fuzz_check_reason(why, tcp_reasons, 3);
		free(p);
		return;
	}
	fuzz_check(r.payload >= p + WP_TCP_HLEN &&
			   r.payload + r.payload_len == p + n,
		   "payload span");
	if (!emittable(&r.opts)) {
		free(p);
		return;
	}
	hlen = wp_tcp_hdr_len(&r);
	tot = (size_t)hlen + r.payload_len;
	if (tot > WP_IP_MAX_LEN) {
		/* Longer than any IPv4 datagram could carry. */
		fuzz_check(wp_tcp_emit(&r, saddr, daddr, p, n) == -EMSGSIZE,
			   "too long");
		free(p);
		return;
	}
	out = fuzz_alloc(tot);
	fuzz_check(wp_tcp_emit(&r, saddr, daddr, out, tot - 1) == -ENOSPC,
		   "emit short");
	fuzz_check(wp_tcp_emit(&r, saddr, daddr, out, tot) == 0, "emit");
	fuzz_check(wp_tcp_parse(out, tot, saddr, daddr, 0, &back, NULL) == 0,
		   "reparse");
	fuzz_check(back.sport == r.sport && back.dport == r.dport &&
			   back.seq == r.seq && back.ack_seq == r.ack_seq &&
			   back.flags == r.flags && back.window == r.window &&
			   back.urg_ptr == r.urg_ptr &&
			   same_opts(&back.opts, &r.opts) &&
			   back.payload_len == r.payload_len &&
			   memcmp(back.payload, r.payload, r.payload_len) == 0,
		   "round trip");
	free(out);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;

	if (size < 1)
		return 0;
	if (data[0] & FUZZ_SEGMENT) {
		segment(data + 1, size - 1, data[0]);
		return 0;
	}
	p = fuzz_dup(data + 1, size - 1);
	options(p, size - 1);
	free(p);
	return 0;
}
