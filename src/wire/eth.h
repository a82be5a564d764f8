/* SPDX-License-Identifier: MIT */
/*
 * Ethernet II header, optionally with one IEEE 802.1Q tag.
 *
 *   dst(6) src(6) [0x8100 TCI(2)] ethertype(2) payload
 *
 * The FCS is not part of the frame here: NICs strip it.
 */
#ifndef WP_WIRE_ETH_H
#define WP_WIRE_ETH_H

#include <stdbool.h>
#include <string.h>

#include "wire/wire.h"

#define WP_ETH_ALEN 6
#define WP_ETH_HLEN 14
#define WP_ETH_VLAN_HLEN 4
#define WP_ETH_ZLEN 60 /* minimum frame without FCS: pad up to this */

enum {
	WP_ETH_P_802_3_MIN = 0x0600, /* below: an 802.3 length, not a type */
	WP_ETH_P_IP = 0x0800,
	WP_ETH_P_ARP = 0x0806,
	WP_ETH_P_8021Q = 0x8100,
	WP_ETH_P_IPV6 = 0x86dd,
	WP_ETH_P_8021AD = 0x88a8,
};

#define WP_VLAN_VID_MASK 0x0fff
#define WP_VLAN_VID_RESERVED 0x0fff /* 802.1Q: never sent */

struct wp_eth_addr {
	uint8_t b[WP_ETH_ALEN];
};

static inline bool wp_eth_addr_equal(const struct wp_eth_addr *a,
				     const struct wp_eth_addr *b)
{
	return memcmp(a->b, b->b, WP_ETH_ALEN) == 0;
}

/* Group bit: multicast or broadcast. */
static inline bool wp_eth_addr_is_multicast(const struct wp_eth_addr *a)
{
	return a->b[0] & 1;
}

static inline bool wp_eth_addr_is_broadcast(const struct wp_eth_addr *a)
{
	return (a->b[0] & a->b[1] & a->b[2] & a->b[3] & a->b[4] & a->b[5]) ==
	       0xff;
}

static inline bool wp_eth_addr_is_zero(const struct wp_eth_addr *a)
{
	return (a->b[0] | a->b[1] | a->b[2] | a->b[3] | a->b[4] | a->b[5]) == 0;
}

/* Linux is_valid_ether_addr(): not multicast, not all zero. */
static inline bool wp_eth_addr_is_valid(const struct wp_eth_addr *a)
{
	return !wp_eth_addr_is_multicast(a) && !wp_eth_addr_is_zero(a);
}

struct wp_eth_repr {
	struct wp_eth_addr dst;
	struct wp_eth_addr src;
	uint16_t ethertype; /* of the payload: the inner type when tagged */
	bool vlan;	    /* an 802.1Q tag is present */
	uint16_t vlan_tci;  /* PCP(3) DEI(1) VID(12); 0 unless vlan */
};

static inline size_t wp_eth_hdr_len(const struct wp_eth_repr *r)
{
	return r->vlan ? WP_ETH_HLEN + WP_ETH_VLAN_HLEN : WP_ETH_HLEN;
}

static inline uint16_t wp_eth_vlan_id(const struct wp_eth_repr *r)
{
	return r->vlan_tci & WP_VLAN_VID_MASK;
}

/*
 * Parse the header at p; the payload starts at p + wp_eth_hdr_len(out).
 *   WP_DROP_ETH_RUNT        shorter than the header (with its tag)
 *   WP_DROP_VLAN            a stacked tag (802.1ad / QinQ) or VID 0xfff
 *   WP_DROP_UNHANDLED_PROTO an 802.3 length field instead of a type
 * VID 0 (a priority tag) is accepted.
 */
int wp_eth_parse(const uint8_t *p, size_t len, struct wp_eth_repr *out,
		 enum wp_drop_reason *why);

/* Write wp_eth_hdr_len(r) bytes at p (len: the room there). */
int wp_eth_emit(const struct wp_eth_repr *r, uint8_t *p, size_t len);

#endif
