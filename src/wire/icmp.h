/* SPDX-License-Identifier: MIT */
/*
 * ICMP for IPv4 (RFC 792, RFC 1812 5.2.7, RFC 1191): echo and echo reply,
 * destination unreachable, time exceeded.
 *
 *   type(8) code(8) check(16) rest(32) data
 *
 *   echo:   rest = id(16) seq(16); data = the payload to echo back
 *   errors: rest = unused(16) mtu(16) (RFC 1191, frag needed) or unused;
 *           data = the offending datagram's IP header + at least 8 bytes
 */
#ifndef WP_WIRE_ICMP_H
#define WP_WIRE_ICMP_H

#include <stdbool.h>

#include "wire/wire.h"

#define WP_ICMP_HLEN 8
#define WP_ICMP_QUOTE_MIN 8 /* bytes of the datagram after its header */

enum wp_icmp_type {
	WP_ICMP_ECHOREPLY = 0,
	WP_ICMP_DEST_UNREACH = 3,
	WP_ICMP_ECHO = 8,
	WP_ICMP_TIME_EXCEEDED = 11,
};

/* Destination unreachable codes (RFC 792, RFC 1812 5.2.7.1). */
enum {
	WP_ICMP_NET_UNREACH = 0,
	WP_ICMP_HOST_UNREACH = 1,
	WP_ICMP_PROT_UNREACH = 2,
	WP_ICMP_PORT_UNREACH = 3,
	WP_ICMP_FRAG_NEEDED = 4,
	WP_ICMP_SR_FAILED = 5,
	WP_ICMP_NET_UNKNOWN = 6,
	WP_ICMP_HOST_UNKNOWN = 7,
	WP_ICMP_HOST_ISOLATED = 8,
	WP_ICMP_NET_ANO = 9,
	WP_ICMP_HOST_ANO = 10,
	WP_ICMP_NET_UNR_TOS = 11,
	WP_ICMP_HOST_UNR_TOS = 12,
	WP_ICMP_PKT_FILTERED = 13,
	WP_ICMP_PREC_VIOLATION = 14,
	WP_ICMP_PREC_CUTOFF = 15,
};

/* Time exceeded codes. */
enum {
	WP_ICMP_EXC_TTL = 0,
	WP_ICMP_EXC_FRAGTIME = 1,
};

struct wp_icmp_repr {
	uint8_t type;
	uint8_t code;
	uint16_t id;  /* echo, echo reply */
	uint16_t seq; /* echo, echo reply */
	uint16_t mtu; /* dest unreachable: next-hop MTU (RFC 1191), or 0 */
	/*
	 * Echo: the payload. Errors: the quoted datagram, starting at its
	 * IP header, at least quote_hdr_len + 8 bytes.
	 */
	const uint8_t *data;
	size_t data_len;
	uint16_t quote_hdr_len; /* errors: IHL*4 of the quoted header */
};

static inline bool wp_icmp_is_error(uint8_t type)
{
	return type == WP_ICMP_DEST_UNREACH || type == WP_ICMP_TIME_EXCEEDED;
}

/*
 * Parse an ICMP message; len is the whole message (the IP payload).
 *   WP_DROP_ICMP_BAD   shorter than 8; a type we do not speak or a code
 *                      not defined for its type; an error whose quote is
 *                      not an IPv4 header plus 8 bytes
 *   WP_DROP_ICMP_CSUM  the checksum over the message does not verify
 *                      (skipped with WP_WIRE_CSUM_UNNECESSARY)
 * A type we do not speak fails with -EPROTONOSUPPORT after its checksum
 * verified: Linux consumes known-but-unhandled types (timestamp, info
 * request) without counting an error, and the ICMP layer may do the same.
 * The quoted header is checked for shape only (version, IHL, length):
 * its checksum and addresses are the ICMP layer's to judge.
 */
int wp_icmp_parse(const uint8_t *p, size_t len, unsigned flags,
		  struct wp_icmp_repr *out, enum wp_drop_reason *why);

/*
 * Write the message at p: the 8-byte header, then the data, then the
 * checksum over both. The data is moved to p + 8 unless r->data already
 * points there (an echo reply built in the request's buffer) or is NULL
 * (the caller wrote it there). len is the room at p: at least
 * 8 + r->data_len. -EINVAL for a message the parser would refuse.
 */
int wp_icmp_emit(const struct wp_icmp_repr *r, uint8_t *p, size_t len);

#endif
