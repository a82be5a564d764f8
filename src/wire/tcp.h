/* SPDX-License-Identifier: MIT */
/*
 * TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018).
 *
 *   sport(16) dport(16) seq(32) ack(32)
 *   doff(4) rsrvd(3) AE(1) CWR ECE URG ACK PSH RST SYN FIN
 *   window(16) check(16) urg_ptr(16) [options: (doff - 5) * 4 bytes]
 */
#ifndef WP_WIRE_TCP_H
#define WP_WIRE_TCP_H

#include <stdbool.h>

#include "wire/wire.h"

#define WP_TCP_HLEN 20
#define WP_TCP_HLEN_MAX 60
#define WP_TCP_OPTS_MAX (WP_TCP_HLEN_MAX - WP_TCP_HLEN)
#define WP_TCP_SACK_MAX 4 /* blocks that fit 40 bytes of options */

/* Control bits, as in the 12 bits after the data offset. */
enum {
	WP_TCP_FIN = 0x001,
	WP_TCP_SYN = 0x002,
	WP_TCP_RST = 0x004,
	WP_TCP_PSH = 0x008,
	WP_TCP_ACK = 0x010,
	WP_TCP_URG = 0x020,
	WP_TCP_ECE = 0x040,
	WP_TCP_CWR = 0x080,
	WP_TCP_AE = 0x100,    /* AccECN; once NS (RFC 3540, historic) */
	WP_TCP_RSRVD = 0xe00, /* reserved: sent as zero, ignored */
	WP_TCP_FLAGS_MASK = 0xfff,
};

/* Option kinds (IANA "TCP Option Kind Numbers"). */
enum {
	WP_TCPOPT_EOL = 0,
	WP_TCPOPT_NOP = 1,
	WP_TCPOPT_MSS = 2,
	WP_TCPOPT_WINDOW = 3,
	WP_TCPOPT_SACK_PERM = 4,
	WP_TCPOPT_SACK = 5,
	WP_TCPOPT_TIMESTAMP = 8,
};

enum {
	WP_TCPOLEN_MSS = 4,
	WP_TCPOLEN_WINDOW = 3,
	WP_TCPOLEN_SACK_PERM = 2,
	WP_TCPOLEN_SACK_BASE = 2,
	WP_TCPOLEN_SACK_PERBLOCK = 8,
	WP_TCPOLEN_TIMESTAMP = 10,
};

/* Which options were present (struct wp_tcp_opts.present). */
enum {
	WP_TCP_OPT_MSS = 1u << 0,
	WP_TCP_OPT_WSCALE = 1u << 1,
	WP_TCP_OPT_SACK_PERM = 1u << 2,
	WP_TCP_OPT_TS = 1u << 3,
	WP_TCP_OPT_SACK = 1u << 4,
};

struct wp_tcp_sack_block {
	uint32_t start; /* left edge: first sequence number of the block */
	uint32_t end;	/* right edge: the one after its last */
};

/*
 * The options we understand, values as received: an MSS of 0 or a window
 * scale above 14 is reported as is (RFC 7323 2.3 clamping, and refusing
 * to divide by an MSS of 0, are the TCP layer's). Unknown options are
 * skipped; when one kind appears twice the last one counts.
 */
struct wp_tcp_opts {
	uint8_t present; /* WP_TCP_OPT_* */
	uint8_t wscale;
	uint8_t nr_sack;
	uint16_t mss;
	uint32_t tsval;
	uint32_t tsecr;
	struct wp_tcp_sack_block sack[WP_TCP_SACK_MAX];
};

struct wp_tcp_repr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack_seq;
	uint16_t flags;	 /* WP_TCP_FIN ... and the AE/reserved bits */
	uint16_t window; /* as sent: not scaled */
	uint16_t urg_ptr;
	struct wp_tcp_opts opts;
	const uint8_t *payload; /* after the header; emit: see below */
	size_t payload_len;
};

/*
 * Parse options (the bytes between the fixed header and the data).
 * RFC 9293 3.1: EOL ends the list, NOP is one byte, every other option
 * has a length byte counting kind and length. The walk always ends: each
 * step advances at least one byte, and a length of 0 or 1 or one reaching
 * past len is refused (MUST-7: "be prepared to handle an illegal option
 * length (e.g., zero)"), as is a known option with a length other than its
 * own (a SACK with 0 or more than 4 blocks, or not 2 + 8n bytes).
 *   WP_DROP_TCP_OPTION
 */
int wp_tcp_options_parse(const uint8_t *opt, size_t len,
			 struct wp_tcp_opts *out, enum wp_drop_reason *why);

/*
 * Bytes wp_tcp_options_emit() writes for o, a multiple of 4; -EMSGSIZE if
 * they pass 40, -EINVAL if o is not emittable (SACK blocks 0 or > 4).
 * The layout is Linux's: MSS; SACK_PERM + TS or NOP NOP TS (or NOP NOP
 * SACK_PERM); NOP WS; NOP NOP SACK.
 */
int wp_tcp_options_len(const struct wp_tcp_opts *o);
int wp_tcp_options_emit(const struct wp_tcp_opts *o, uint8_t *p, size_t len);

/*
 * Parse a segment; len is the IP payload length (no length field in TCP),
 * saddr/daddr (host order) form the pseudo-header.
 *   WP_DROP_TCP_HDR     len < 20, data offset < 5 or past len
 *   WP_DROP_TCP_CSUM    the checksum does not verify (skipped with
 *                       WP_WIRE_CSUM_UNNECESSARY)
 *   WP_DROP_TCP_OPTION  see wp_tcp_options_parse()
 * Flag combinations (SYN+FIN, ...) are the TCP layer's to judge.
 */
int wp_tcp_parse(const uint8_t *p, size_t len, uint32_t saddr, uint32_t daddr,
		 unsigned flags, struct wp_tcp_repr *out,
		 enum wp_drop_reason *why);

/* The header length wp_tcp_emit() writes (20 + options), or < 0. */
static inline int wp_tcp_hdr_len(const struct wp_tcp_repr *r)
{
	int olen = wp_tcp_options_len(&r->opts);

	return olen < 0 ? olen : WP_TCP_HLEN + olen;
}

/*
 * Write the header and options at p, move the payload after them unless
 * r->payload already points there or is NULL (the caller put it there),
 * and fill in the checksum. len is the room at p: at least
 * wp_tcp_hdr_len(r) + r->payload_len.
 */
int wp_tcp_emit(const struct wp_tcp_repr *r, uint32_t saddr, uint32_t daddr,
		uint8_t *p, size_t len);

/* The checksum of a segment as it is (0 if it verifies). */
uint16_t wp_tcp_csum(uint32_t saddr, uint32_t daddr, const uint8_t *p,
		     size_t len);

#endif
