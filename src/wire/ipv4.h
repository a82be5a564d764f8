/* SPDX-License-Identifier: MIT */
/*
 * IPv4 header (RFC 791 3.1).
 *
 *   ver(4) ihl(4) tos(8) tot_len(16)
 *   id(16) flags(3: reserved DF MF) frag_off(13, in 8-byte units)
 *   ttl(8) protocol(8) check(16)
 *   saddr(32) daddr(32) [options: (ihl - 5) * 4 bytes]
 *
 * Addresses are host order throughout: 10.0.0.1 is 0x0a000001.
 */
#ifndef WP_WIRE_IPV4_H
#define WP_WIRE_IPV4_H

#include <stdbool.h>

#include "wire/wire.h"

#define WP_IPV4_HLEN 20
#define WP_IPV4_HLEN_MAX 60
#define WP_IPV4_OPTS_MAX (WP_IPV4_HLEN_MAX - WP_IPV4_HLEN)
/* tot_len is 16 bits; so is the end of a reassembled datagram. */
#define WP_IP_MAX_LEN 65535

enum {
	WP_IPPROTO_ICMP = 1,
	WP_IPPROTO_TCP = 6,
	WP_IPPROTO_UDP = 17,
};

/* RFC 791 3.1 option types with no length byte. */
enum {
	WP_IPOPT_END = 0,
	WP_IPOPT_NOOP = 1,
};

struct wp_ipv4_repr {
	uint32_t saddr;
	uint32_t daddr;
	uint8_t tos; /* DSCP(6) ECN(2) */
	uint8_t ttl;
	uint8_t protocol;
	bool df; /* don't fragment */
	bool mf; /* more fragments */
	uint16_t id;
	uint16_t frag_offset; /* in bytes: the field times 8 */
	/*
	 * The options bytes (hdr_len - 20 of them, a multiple of 4), walked
	 * and well formed but not interpreted; NULL when there are none.
	 */
	const uint8_t *options;
	uint16_t options_len;
	/*
	 * Bytes of payload after the header by tot_len. Whatever the buffer
	 * holds past hdr_len + payload_len is link padding the caller trims.
	 */
	uint16_t payload_len;
};

static inline size_t wp_ipv4_hdr_len(const struct wp_ipv4_repr *r)
{
	return WP_IPV4_HLEN + (size_t)r->options_len;
}

/* tot_len: the datagram's length, the buffer trimmed of padding. */
static inline size_t wp_ipv4_total_len(const struct wp_ipv4_repr *r)
{
	return wp_ipv4_hdr_len(r) + r->payload_len;
}

static inline bool wp_ipv4_is_fragment(const struct wp_ipv4_repr *r)
{
	return r->mf || r->frag_offset != 0;
}

/*
 * Parse and verify the header at p (len: what the link delivered, maybe
 * padded). The payload is p + wp_ipv4_hdr_len(out), payload_len bytes.
 * Checks, in Linux ip_rcv_core's order, each naming its reason:
 *   WP_DROP_IP_HDR   len < 20, version != 4, IHL < 5, IHL*4 > len;
 *                    the reserved flag set; a malformed option (RFC 791:
 *                    a length byte missing, < 2 or past the header)
 *   WP_DROP_IP_CSUM  the header checksum does not verify
 *   WP_DROP_IP_LEN   tot_len < IHL*4 or tot_len > len
 *   WP_DROP_IP_FRAG  offset*8 + payload ends past 65535 (the "ping of
 *                    death": no reassembly could hold it)
 * The header checksum is always verified: 20 bytes cost less than
 * trusting an offload flag (Linux does the same).
 */
int wp_ipv4_parse(const uint8_t *p, size_t len, struct wp_ipv4_repr *out,
		  enum wp_drop_reason *why);

/*
 * Write the header (wp_ipv4_hdr_len(r) bytes, options copied from
 * r->options) at p with its checksum. The payload is not touched.
 * -EINVAL if the options are not a well formed multiple of 4 bytes up
 * to 40 or the fragment end passes 65535; -EMSGSIZE if tot_len would.
 */
int wp_ipv4_emit(const struct wp_ipv4_repr *r, uint8_t *p, size_t len);

/* Walk options (RFC 791 3.1): 0 if well formed, -EINVAL if not. */
int wp_ipv4_options_check(const uint8_t *opt, size_t len);

/* --- martians (RFC 1812 5.3.7, Linux ipv4_is_*) ----------------------- */

static inline uint32_t wp_ipv4_addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* 0.0.0.0/8: "this network", valid only as a source while booting. */
static inline bool wp_ipv4_is_zeronet(uint32_t a)
{
	return (a >> 24) == 0;
}

/* 127.0.0.0/8: must never appear on a wire (RFC 1122 3.2.1.3 (g)). */
static inline bool wp_ipv4_is_loopback(uint32_t a)
{
	return (a >> 24) == 127;
}

/* 224.0.0.0/4 */
static inline bool wp_ipv4_is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* 255.255.255.255, the limited broadcast. */
static inline bool wp_ipv4_is_lbcast(uint32_t a)
{
	return a == 0xffffffff;
}

/* 240.0.0.0/4 less the limited broadcast: class E, reserved. */
static inline bool wp_ipv4_is_class_e(uint32_t a)
{
	return (a >> 28) == 0xf && !wp_ipv4_is_lbcast(a);
}

/*
 * A source no host may use on the wire: this network, loopback,
 * multicast, broadcast, class E. (Linux lets 0.0.0.0 -> 255.255.255.255
 * through for DHCP before it looks at the source: that exception is the
 * caller's, by destination.)
 */
static inline bool wp_ipv4_is_martian_src(uint32_t a)
{
	return wp_ipv4_is_zeronet(a) || wp_ipv4_is_loopback(a) ||
	       wp_ipv4_is_multicast(a) || wp_ipv4_is_lbcast(a) ||
	       wp_ipv4_is_class_e(a);
}

/* A destination no datagram from the wire may have. */
static inline bool wp_ipv4_is_martian_dst(uint32_t a)
{
	return wp_ipv4_is_zeronet(a) || wp_ipv4_is_loopback(a) ||
	       wp_ipv4_is_class_e(a);
}

#endif
