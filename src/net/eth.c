// SPDX-License-Identifier: MIT
/*
 * The link layer: __netif_receive_skb (EtherType dispatch, 802.1Q,
 * eth_type_trans's pkt_type) and the Ethernet header on transmit.
 */
#include "net/net_priv.h"

#include <errno.h>
#include <string.h>

#include "wire/arp.h"

static const struct wp_eth_addr eth_broadcast = { { 0xff, 0xff, 0xff, 0xff,
						    0xff, 0xff } };

static void eth_drop(struct wp_net_cpu *pc, struct wp_skb *skb,
		     enum wp_drop_reason why)
{
	switch (why) {
	case WP_DROP_VLAN:
		WP_MIB_INC(pc, EthInVlanDropped);
		break;
	case WP_DROP_UNHANDLED_PROTO:
		WP_MIB_INC(pc, EthInUnknownProto);
		break;
	case WP_DROP_ETH_OTHERHOST:
		WP_MIB_INC(pc, EthInOtherHost);
		break;
	default:
		WP_MIB_INC(pc, EthInErrors);
		break;
	}
	wp_kfree_skb_reason(skb, why);
}

/*
 * eth_type_trans: who the frame is for. Group addresses are taken as
 * they come (we filter no multicast groups: IP decides); a unicast frame
 * for another station reached us only through promiscuity or a
 * misconfigured peer.
 */
static uint8_t eth_pkt_type(const struct wp_net *net,
			    const struct wp_eth_repr *eth)
{
	if (wp_eth_addr_is_multicast(&eth->dst))
		return wp_eth_addr_is_broadcast(&eth->dst)
			       ? WP_PACKET_BROADCAST
			       : WP_PACKET_MULTICAST;
	if (wp_eth_addr_equal(&eth->dst, &net->mac))
		return WP_PACKET_HOST;
	return WP_PACKET_OTHERHOST;
}

static void netif_receive_skb(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	enum wp_drop_reason why = WP_DROP_NOT_SPECIFIED;
	struct wp_eth_repr eth;

	wp__net_stamp(pc, skb, WP_STAMP_NETIF_RX);
	wp_skb_reset_mac_header(skb);
	if (wp_eth_parse(skb->data, skb->len, &eth, &why)) {
		eth_drop(pc, skb, why);
		return;
	}
	/* Tagged frames: we have no VLAN devices, so either the tag is
	 * stripped and the frame taken as untagged (vlan_accept), or the
	 * frame is dropped as Linux drops a VID nobody configured. */
	if (eth.vlan && !net->cfg.vlan_accept) {
		eth_drop(pc, skb, WP_DROP_VLAN);
		return;
	}
	skb->pkt_type = eth_pkt_type(net, &eth);
	if (skb->pkt_type == WP_PACKET_OTHERHOST) {
		eth_drop(pc, skb, WP_DROP_ETH_OTHERHOST);
		return;
	}
	wp_skb_pull(skb, (uint32_t)wp_eth_hdr_len(&eth));
	skb->protocol = eth.ethertype;
	wp_skb_reset_network_header(skb);
	switch (eth.ethertype) {
	case WP_ETH_P_IP:
		wp__ip_rcv(pc, skb);
		break;
	case WP_ETH_P_ARP:
		wp__arp_rcv(pc, skb);
		break;
	default:
		/* IPv6, LLDP, ...: nobody here speaks them. */
		eth_drop(pc, skb, WP_DROP_UNHANDLED_PROTO);
		break;
	}
}

void wp_netif_receive_skb_list(void *ctx, struct wp_napi *napi,
			       struct wp_skb_queue *skbs)
{
	struct wp_net *net = ctx;
	struct wp_net_cpu *pc =
		&net->pcpu[(uint32_t)napi->cpu->id % net->ncpus];
	struct wp_skb *skb;

	wp__net_batch_begin(pc);
	while ((skb = wp_skb_dequeue(skbs)))
		netif_receive_skb(pc, skb);
	wp__net_batch_end(pc);
}

int wp__eth_xmit(struct wp_net_cpu *pc, struct wp_skb *skb,
		 const struct wp_eth_addr *dst, uint16_t ethertype)
{
	struct wp_eth_repr eth = {
		.dst = dst ? *dst : eth_broadcast,
		.src = pc->net->mac,
		.ethertype = ethertype,
	};
	uint8_t *p = wp_skb_push(skb, WP_ETH_HLEN);

	if (!p) {
		WP_MIB_INC(pc, OutDiscards);
		wp_kfree_skb_reason(skb, WP_DROP_NOMEM);
		return -ENOBUFS;
	}
	wp_eth_emit(&eth, p, WP_ETH_HLEN);
	wp_skb_reset_mac_header(skb);
	/* eth_skb_pad: the wire's minimum, as drivers pad short frames. */
	if (skb->len < WP_ETH_ZLEN) {
		uint32_t pad = WP_ETH_ZLEN - skb->len;
		uint8_t *t = wp_skb_put(skb, pad);

		if (t)
			memset(t, 0, pad);
	}
	return wp__net_xmit(pc, skb);
}
