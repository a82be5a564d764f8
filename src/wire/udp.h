/* SPDX-License-Identifier: MIT */
/*
 * UDP header (RFC 768): sport(16) dport(16) len(16) check(16).
 */
#ifndef WP_WIRE_UDP_H
#define WP_WIRE_UDP_H

#include <stdbool.h>

#include "wire/wire.h"

#define WP_UDP_HLEN 8

struct wp_udp_repr {
	uint16_t sport;
	uint16_t dport;
	const uint8_t *payload; /* len field - 8 bytes; emit: see below */
	size_t payload_len;
};

/*
 * Parse a datagram; len is the IP payload length (tot_len - IHL*4, not
 * the padded buffer), saddr/daddr (host order) form the pseudo-header.
 *   WP_DROP_UDP_LEN   len < 8; the length field < 8 or > len
 *   WP_DROP_UDP_CSUM  a non-zero checksum that does not verify
 *                     (skipped with WP_WIRE_CSUM_UNNECESSARY)
 * A zero checksum field means the sender computed none (RFC 768). Bytes
 * past the length field are ignored: the payload is trimmed to it.
 */
int wp_udp_parse(const uint8_t *p, size_t len, uint32_t saddr, uint32_t daddr,
		 unsigned flags, struct wp_udp_repr *out,
		 enum wp_drop_reason *why);

/*
 * Write the header at p, move the payload to p + 8 unless r->payload
 * already points there or is NULL (the caller put it there), and fill in
 * the checksum over the pseudo-header; a computed 0 is sent as 0xffff
 * (RFC 768: 0 would mean "no checksum"). len is the room at p: at least
 * 8 + r->payload_len. -EMSGSIZE if the length does not fit 16 bits.
 */
int wp_udp_emit(const struct wp_udp_repr *r, uint32_t saddr, uint32_t daddr,
		uint8_t *p, size_t len);

#endif
