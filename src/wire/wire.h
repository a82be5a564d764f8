/* SPDX-License-Identifier: MIT */
/*
 * The wire layer (smoltcp's src/wire): pure parse and emit of protocol
 * headers on plain byte spans.
 *
 * Every parser takes (const uint8_t *p, size_t len), checks every length
 * before it reads, and fills a validated representation (host byte order
 * fields, spans that point back into p) only when every check passed.
 * Above this layer nobody reads an unchecked byte: the net layer works on
 * representations. On failure a parser returns a negative errno and names
 * the failed check as the drop reason the caller counts (core/drop.h):
 *
 *     -EINVAL           malformed: a length or field is out of range
 *     -EBADMSG          the checksum does not verify
 *     -EPROTONOSUPPORT  well formed but not something we speak
 *
 * Every emitter writes a representation into a buffer the caller gave
 * (room made with wp_skb_push) with correct checksums, and returns 0,
 * -ENOSPC (the buffer is too small), -EINVAL (the representation is not
 * one the parser would accept) or -EMSGSIZE (it does not fit the length
 * field). An emitter that fails has written nothing.
 *
 * Nothing here allocates or keeps state, so the same code serves skbs,
 * pcap files and fuzzers.
 */
#ifndef WP_WIRE_WIRE_H
#define WP_WIRE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/drop.h"

/* Parse flags. */
enum {
	/*
	 * The NIC already verified the transport checksum (Linux
	 * CHECKSUM_UNNECESSARY, skb->csum_valid): do not sum the payload.
	 */
	WP_WIRE_CSUM_UNNECESSARY = 1u << 0,
};

static inline uint16_t wp_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t wp_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void wp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Report a failed check: `why` may be NULL when the caller does not care. */
static inline int wp__wire_fail(enum wp_drop_reason *why,
				enum wp_drop_reason reason, int err)
{
	if (why)
		*why = reason;
	return err;
}

#endif
