// SPDX-License-Identifier: MIT
/*
 * IPv4 input (Linux ip_rcv, ip_rcv_finish, ip_local_deliver): validate,
 * PREROUTING, is it ours, reassemble, INPUT, hand to the protocol.
 * A host: forwarding is off, so a datagram for someone else is dropped
 * (InAddrErrors, as Linux counts it with ip_forward = 0).
 */
#include "net/net_priv.h"

#include <errno.h>

#include "wire/icmp.h"

static void ip_drop(struct wp_skb *skb, enum wp_drop_reason why)
{
	wp_kfree_skb_reason(skb, why);
}

/* Count a header the parser refused under its Linux counter. */
static void ip_count_bad(struct wp_net_cpu *pc, const struct wp_skb *skb,
			 enum wp_drop_reason why)
{
	switch (why) {
	case WP_DROP_IP_CSUM:
		WP_MIB_INC(pc, InCsumErrors);
		WP_MIB_INC(pc, InHdrErrors);
		break;
	case WP_DROP_IP_LEN:
		/*
		 * tot_len below the header is a bad header; past the frame,
		 * a truncated packet. The parser checks tot_len after the
		 * version, IHL and checksum, so 20 header bytes are there.
		 */
		if (wp_get_be16(skb->data + 2) > skb->len)
			WP_MIB_INC(pc, InTruncatedPkts);
		else
			WP_MIB_INC(pc, InHdrErrors);
		break;
	case WP_DROP_IP_FRAG:
		/* No reassembly could hold it (offset + length > 65535). */
		WP_MIB_INC(pc, ReasmReqds);
		WP_MIB_INC(pc, ReasmFails);
		break;
	default:
		WP_MIB_INC(pc, InHdrErrors);
		break;
	}
}

/*
 * RFC 1812 5.3.7 and Linux ip_route_input_slow: sources no host may
 * have. A datagram "from" our own address or our subnet's broadcast came
 * from a confused or spoofing peer. 0.0.0.0 to 255.255.255.255 is a
 * booting host (DHCP, RFC 2131 4.1) and passes.
 */
static bool ip_martian_source(const struct wp_net *net, uint32_t saddr,
			      uint32_t daddr)
{
	if (saddr == 0 && wp_ipv4_is_lbcast(daddr))
		return false;
	return wp_ipv4_is_martian_src(saddr) || saddr == net->addr ||
	       wp__net_is_bcast(net, saddr);
}

void wp__ip_rcv(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	enum wp_drop_reason why = WP_DROP_IP_HDR;
	struct wp_ipv4_repr r;
	struct wp_ip_cb *cb;

	wp__net_stamp(pc, skb, WP_STAMP_IP_RCV);
	WP_MIB_INC(pc, InReceives);
	if (wp_ipv4_parse(skb->data, skb->len, &r, &why)) {
		ip_count_bad(pc, skb, why);
		ip_drop(skb, why);
		return;
	}
	/* Link padding (a 60-byte minimum frame) is not the datagram's. */
	wp_skb_trim(skb, (uint32_t)wp_ipv4_total_len(&r));
	/* RFC 1122 3.2.1.7: no host sends TTL 0; such a datagram is
	 * malformed (a host does not otherwise judge TTL on input). */
	if (r.ttl == 0) {
		WP_MIB_INC(pc, InHdrErrors);
		ip_drop(skb, WP_DROP_IP_TTL);
		return;
	}
	if (ip_martian_source(net, r.saddr, r.daddr)) {
		ip_drop(skb, WP_DROP_IP_MARTIAN);
		return;
	}
	if (r.daddr == net->addr) {
		/* ours */
	} else if (wp__net_is_bcast(net, r.daddr)) {
		WP_MIB_INC(pc, InBcastPkts);
	} else if (wp_ipv4_is_multicast(r.daddr)) {
		WP_MIB_INC(pc, InMcastPkts);
	} else {
		WP_MIB_INC(pc, InAddrErrors);
		ip_drop(skb, wp_ipv4_is_martian_dst(r.daddr)
				     ? WP_DROP_IP_MARTIAN
				     : WP_DROP_IP_NOT_OURS);
		return;
	}
	if (wp__nf_hook_active(net, WP_NF_PRE_ROUTING) &&
	    wp__nf_hook(net, WP_NF_PRE_ROUTING, skb, &r) == WP_NF_DROP) {
		ip_drop(skb, WP_DROP_NETFILTER);
		return;
	}

	cb = wp_ip_cb(skb);
	cb->saddr = r.saddr;
	cb->daddr = r.daddr;
	cb->hdr_len = (uint16_t)wp_ipv4_hdr_len(&r);
	cb->protocol = r.protocol;
	cb->id = r.id;
	cb->ttl = r.ttl;
	cb->tos = r.tos;
	cb->flags = 0;
	if (wp_ipv4_is_fragment(&r)) {
		WP_MIB_INC(pc, ReasmReqds);
		cb->frag_off = r.frag_offset;
		cb->frag_end = (uint16_t)(r.frag_offset + r.payload_len);
		if (!r.mf)
			cb->flags |= WP_IPCB_FRAG_LAST;
		/* Pulling the header cannot fail: the parser saw it. */
		wp_skb_pull(skb, cb->hdr_len);
		skb = wp__ip_defrag(pc, skb);
		if (!skb)
			return;
	}
	wp__ip_local_deliver(pc, skb);
}

/* INPUT sees whole datagrams; enough of the header for the rules. */
static bool ip_local_in_drops(struct wp_net *net, struct wp_skb *skb,
			      const struct wp_ip_cb *cb)
{
	struct wp_ipv4_repr r = {
		.saddr = cb->saddr,
		.daddr = cb->daddr,
		.protocol = cb->protocol,
		.ttl = cb->ttl,
		.tos = cb->tos,
		.options_len = (uint16_t)(cb->hdr_len - WP_IPV4_HLEN),
		.payload_len = (uint16_t)(skb->len - cb->hdr_len),
	};

	return wp__nf_hook(net, WP_NF_LOCAL_IN, skb, &r) == WP_NF_DROP;
}

void wp__ip_local_deliver(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb *cb = wp_ip_cb(skb);
	struct wp_net_proto *p;

	if (wp__nf_hook_active(net, WP_NF_LOCAL_IN) &&
	    ip_local_in_drops(net, skb, cb)) {
		ip_drop(skb, WP_DROP_NETFILTER);
		return;
	}
	wp_skb_pull(skb, cb->hdr_len);
	wp_skb_reset_transport_header(skb);
	switch (cb->protocol) {
	case WP_IPPROTO_ICMP:
		WP_MIB_INC(pc, InDelivers);
		wp__icmp_rcv(pc, skb);
		return;
	case WP_IPPROTO_UDP:
		WP_MIB_INC(pc, InDelivers);
		wp__udp_rcv(pc, skb);
		return;
	case WP_IPPROTO_TCP:
		WP_MIB_INC(pc, InDelivers);
		wp__tcp_v4_rcv(pc, skb);
		return;
	default:
		break;
	}
	p = &net->proto[cb->protocol];
	if (p->rcv) {
		WP_MIB_INC(pc, InDelivers);
		p->rcv(p->ctx, net, pc->id, skb);
		return;
	}
	/* RFC 1122 3.2.2.1: protocol unreachable for a transport we lack. */
	WP_MIB_INC(pc, InUnknownProtos);
	wp__icmp_send(pc, skb, WP_ICMP_DEST_UNREACH, WP_ICMP_PROT_UNREACH, 0);
	ip_drop(skb, WP_DROP_IP_NOPROTO);
}
