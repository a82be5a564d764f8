/* SPDX-License-Identifier: MIT */
/*
 * ARP for IPv4 over Ethernet (RFC 826): the only kind we speak.
 *
 *   htype(2)=1 ptype(2)=0x0800 hlen(1)=6 plen(1)=4 op(2)
 *   sha(6) spa(4) tha(6) tpa(4)                              28 bytes
 */
#ifndef WP_WIRE_ARP_H
#define WP_WIRE_ARP_H

#include "wire/eth.h"

#define WP_ARP_HLEN 28

enum {
	WP_ARPHRD_ETHER = 1,
	WP_ARPOP_REQUEST = 1,
	WP_ARPOP_REPLY = 2,
};

struct wp_arp_repr {
	uint16_t op;		/* WP_ARPOP_REQUEST or WP_ARPOP_REPLY */
	struct wp_eth_addr sha; /* sender hardware address */
	uint32_t spa;		/* sender protocol address, host order */
	struct wp_eth_addr tha;
	uint32_t tpa;
};

/*
 * Parse an ARP packet (bytes past 28 are link padding and ignored).
 *   WP_DROP_ARP_BAD  short, not Ethernet/IPv4, or op not 1 or 2
 */
int wp_arp_parse(const uint8_t *p, size_t len, struct wp_arp_repr *out,
		 enum wp_drop_reason *why);

/* Write the 28 bytes at p. */
int wp_arp_emit(const struct wp_arp_repr *r, uint8_t *p, size_t len);

#endif
