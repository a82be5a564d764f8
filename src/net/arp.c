// SPDX-License-Identifier: MIT
/*
 * ARP (RFC 826) for IPv4 over Ethernet: Linux arp_process and arp_send.
 * What is learnt goes to the neighbour table (neigh.c).
 */
#include "net/net_priv.h"

#include <errno.h>
#include <string.h>

#include "wire/arp.h"

int wp__arp_send(struct wp_net_cpu *pc, uint16_t op, uint32_t tip,
		 const struct wp_eth_addr *dst, const struct wp_eth_addr *tha)
{
	struct wp_net *net = pc->net;
	struct wp_arp_repr a = {
		.op = op,
		.sha = net->mac,
		.spa = net->addr,
		.tpa = tip,
	};
	struct wp_skb *skb;
	uint8_t *p;

	if (tha)
		a.tha = *tha;
	skb = wp_alloc_skb(wp__net_pool(pc), WP_ETH_ZLEN);
	if (!skb) {
		WP_MIB_INC(pc, OutDiscards);
		wp_drop_count(WP_DROP_NOMEM);
		return -ENOBUFS;
	}
	p = wp_skb_put(skb, WP_ARP_HLEN);
	wp_arp_emit(&a, p, WP_ARP_HLEN);
	if (op == WP_ARPOP_REQUEST)
		WP_MIB_INC(pc, ArpOutRequests);
	else
		WP_MIB_INC(pc, ArpOutReplies);
	return wp__eth_xmit(pc, skb, dst, WP_ETH_P_ARP);
}

static void arp_drop(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	WP_MIB_INC(pc, ArpInBad);
	wp_kfree_skb_reason(skb, WP_DROP_ARP_BAD);
}

void wp__arp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	enum wp_drop_reason why = WP_DROP_ARP_BAD;
	struct wp_arp_repr a;
	bool solicited;

	if (wp_arp_parse(skb->data, skb->len, &a, &why)) {
		WP_MIB_INC(pc, ArpInBad);
		wp_kfree_skb_reason(skb, why);
		return;
	}
	if (a.op == WP_ARPOP_REQUEST)
		WP_MIB_INC(pc, ArpInRequests);
	else
		WP_MIB_INC(pc, ArpInReplies);
	/* A sender hardware address no station can have would poison the
	 * cache; a target nobody resolves by ARP is nonsense. */
	if (!wp_eth_addr_is_valid(&a.sha) || wp_ipv4_is_multicast(a.tpa) ||
	    wp_ipv4_is_loopback(a.tpa)) {
		arp_drop(pc, skb);
		return;
	}
	/* RFC 5227 2.1.1: a probe (sender 0.0.0.0) for our address is
	 * answered so the prober sees the conflict; nothing is learnt. */
	if (a.spa == 0) {
		if (a.op == WP_ARPOP_REQUEST && a.tpa == net->addr)
			wp__arp_send(pc, WP_ARPOP_REPLY, 0, &a.sha, &a.sha);
		wp_consume_skb(skb);
		return;
	}
	/* Someone else claims our address, or a source no host has. */
	if (a.spa == net->addr || wp_ipv4_is_martian_src(a.spa) ||
	    wp__net_is_bcast(net, a.spa)) {
		arp_drop(pc, skb);
		return;
	}
	if (a.op == WP_ARPOP_REQUEST && a.tpa == net->addr) {
		/* RFC 826: the requester is about to talk to us: learn it
		 * (STALE: a request proves nothing about reachability),
		 * then answer it directly. */
		wp__neigh_update(pc, a.spa, &a.sha, false, true);
		wp__arp_send(pc, WP_ARPOP_REPLY, a.spa, &a.sha, &a.sha);
		wp_consume_skb(skb);
		return;
	}
	/*
	 * A reply, a request for someone else, a gratuitous ARP: refresh
	 * an entry we already have (Linux arp_accept = 0 creates none).
	 * Only a reply unicast to us confirms reachability.
	 */
	solicited = a.op == WP_ARPOP_REPLY && skb->pkt_type == WP_PACKET_HOST;
	wp__neigh_update(pc, a.spa, &a.sha, solicited, false);
	wp_consume_skb(skb);
}
