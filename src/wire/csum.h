/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (RFC 1071), its incremental update (RFC 1624) and
 * the IPv4 pseudo-header sum of UDP and TCP (RFC 768, RFC 9293 3.1).
 *
 * A partial sum is a 32-bit ones' complement accumulator (Linux __wsum)
 * whose value, folded to 16 bits, is the ones' complement sum of the data
 * read as big-endian 16-bit words. Every value here is in host order: a
 * checksum is the number to store with wp_put_be16(), and reading a
 * checksum field with wp_get_be16() gives the number these functions
 * produce. Data that verifies sums (checksum field included) to 0xffff,
 * so wp_csum_fold() of its sum is 0.
 *
 * Partial sums chain: wp_csum_partial(b, n2, wp_csum_partial(a, n1, 0)) is
 * the sum of a followed by b as long as n1 is even. For a block that
 * starts at an odd offset, sum it alone and add it with
 * wp_csum_block_add().
 */
#ifndef WP_WIRE_CSUM_H
#define WP_WIRE_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/compiler.h"

/*
 * Sum len bytes at buf (any alignment) into sum. An odd trailing byte
 * counts as the high byte of a word padded with zero (RFC 1071 4.1).
 * Cost: one 64-bit add-with-carry per 8 bytes, four independent chains.
 */
uint32_t wp_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Ones' complement addition of two partial sums (end-around carry). */
static inline uint32_t wp_csum_add(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

/* Fold a partial sum to 16 bits and complement it: the checksum. */
static inline uint16_t wp_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The checksum of a whole buffer (IPv4 header, ICMP message). */
static inline uint16_t wp_ip_compute_csum(const void *buf, size_t len)
{
	return wp_csum_fold(wp_csum_partial(buf, len, 0));
}

/*
 * ip_fast_csum: the checksum of an IPv4 header of ihl 32-bit words
 * (5..15), inline and without the general loop's tail handling: the
 * words are added in a 64-bit accumulator (15 of them cannot overflow
 * it), folded, complemented. The same value as wp_ip_compute_csum(iph,
 * ihl * 4), so a header that verifies gives 0.
 */
static inline uint16_t wp_ip_fast_csum(const void *iph, unsigned int ihl)
{
	const uint8_t *p = iph;
	uint64_t s = 0;
	uint32_t r;

	if (wp_likely(ihl == 5)) {
		/* No options, nearly always: five loads and adds, where the
		 * general loop is vectorised with a prologue and an epilogue
		 * that cost more than the sum itself. */
		uint32_t w[5];

		memcpy(w, p, sizeof(w)); /* unaligned load */
		s = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	} else {
		for (unsigned int i = 0; i < ihl; i++) {
			uint32_t w;

			memcpy(&w, p + 4 * i, sizeof(w));
			s += w;
		}
	}
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	r = (uint32_t)s;
	r = (r & 0xffff) + (r >> 16);
	r = (r & 0xffff) + (r >> 16);
	r = (uint16_t)~r;
	/* Host-order words: a byte swap gives the big-endian sum (see
	 * wp_csum_partial). */
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
		r = __builtin_bswap16((uint16_t)r);
	return (uint16_t)r;
}

/*
 * Add the sum of a block that sits at byte `offset` of the whole: a block
 * at an odd offset has its bytes in the other halves of the words, which
 * is a multiplication by 256 modulo 0xffff, a rotation by 8.
 */
static inline uint32_t wp_csum_block_add(uint32_t sum, uint32_t sum2,
					 size_t offset)
{
	if (offset & 1)
		sum2 = sum2 << 8 | sum2 >> 24;
	return wp_csum_add(sum, sum2);
}

/*
 * The IPv4 pseudo-header (source, destination, zero, protocol, length)
 * added to sum. Addresses and length in host order; len is the transport
 * length (header and data).
 */
static inline uint32_t wp_csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr,
					     uint32_t len, uint8_t proto,
					     uint32_t sum)
{
	uint64_t s = (uint64_t)sum + saddr + daddr + len + proto;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

static inline uint16_t wp_csum_tcpudp_magic(uint32_t saddr, uint32_t daddr,
					    uint32_t len, uint8_t proto,
					    uint32_t sum)
{
	return wp_csum_fold(
		wp_csum_tcpudp_nofold(saddr, daddr, len, proto, sum));
}

/*
 * The UDP or TCP checksum of len bytes at p under the pseudo-header. With
 * the checksum field zeroed it is the value to store; over a received
 * segment (field included) it is 0 when the segment verifies.
 */
static inline uint16_t wp_csum_tcpudp(uint32_t saddr, uint32_t daddr,
				      uint8_t proto, const void *p, size_t len)
{
	return wp_csum_tcpudp_magic(saddr, daddr, (uint32_t)len, proto,
				    wp_csum_partial(p, len, 0));
}

/*
 * RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data
 * changed from `from` to `to`, HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it
 * never produces the 0xffff that a full recompute cannot (RFC 1624 3), so
 * it equals a full recompute. A UDP checksum of 0 means "none" and must
 * not be updated; a UDP result of 0 must be sent as 0xffff (the caller's
 * rule: RFC 768).
 */
static inline uint16_t wp_csum_replace2(uint16_t check, uint16_t from,
					uint16_t to)
{
	uint32_t s = (uint32_t)(uint16_t)~check + (uint16_t)~from + to;

	return wp_csum_fold(s);
}

/* The same for a 32-bit field (an address: NAT, the pseudo-header). */
static inline uint16_t wp_csum_replace4(uint16_t check, uint32_t from,
					uint32_t to)
{
	uint32_t s = (uint32_t)(uint16_t)~check + (uint16_t) ~(from >> 16) +
		     (uint16_t)~from + (to >> 16) + (to & 0xffff);

	return wp_csum_fold(s);
}

#endif
