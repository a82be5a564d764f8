// SPDX-License-Identifier: MIT
/*
 * IPv4 output (Linux ip_queue_xmit, __ip_local_out, ip_output,
 * ip_finish_output): header, OUTPUT, route, POSTROUTING, fragmentation,
 * neighbour. Also the submit queue that application threads feed.
 */
#include "net/net_priv.h"

#include <errno.h>

/*
 * IP IDs (Linux ip_idents): 2048 counters, a datagram takes the next
 * value of the counter its (source, destination, protocol) hashes to. IDs
 * toward one destination never repeat before 65536 datagrams, and
 * different destinations cannot learn each other's traffic from a single
 * global counter. The table starts from the seed. Any thread.
 */
uint16_t wp__ip_select_ident(struct wp_net *net, uint32_t saddr, uint32_t daddr,
			     uint8_t protocol)
{
	uint32_t h = wp__net_hash32(daddr ^ net->ident_key) ^
		     wp__net_hash32(saddr + protocol);

	return (uint16_t)atomic_fetch_add_explicit(
		&net->ip_idents[h & (WP_IP_IDENTS - 1)], 1,
		memory_order_relaxed);
}

static int ip_build(struct wp_net *net, struct wp_skb *skb,
		    const struct wp_ip_tx *tx, struct wp_ipv4_repr *r)
{
	uint8_t *p;

	if ((size_t)skb->len + WP_IPV4_HLEN > WP_IP_MAX_LEN)
		return -EMSGSIZE;
	if (wp_skb_headroom(skb) < WP_IPV4_HLEN)
		return -ENOSPC;
	*r = (struct wp_ipv4_repr){
		.saddr = tx->saddr ? tx->saddr : net->addr,
		.daddr = tx->daddr,
		.tos = tx->tos,
		.ttl = tx->ttl ? tx->ttl : WP_IP_DEFAULT_TTL,
		.protocol = tx->protocol,
		.df = tx->df,
		.payload_len = (uint16_t)skb->len,
	};
	r->id = wp__ip_select_ident(net, r->saddr, r->daddr, r->protocol);
	p = wp_skb_push(skb, WP_IPV4_HLEN);
	wp_ipv4_emit(r, p, WP_IPV4_HLEN);
	wp_skb_reset_network_header(skb);
	return 0;
}

int wp_ip_build_header(struct wp_net *net, struct wp_skb *skb,
		       const struct wp_ip_tx *tx)
{
	struct wp_ipv4_repr r;

	return ip_build(net, skb, tx, &r);
}

/* Our own datagram to our own address: straight up the input side. */
static int ip_loopback(struct wp_net_cpu *pc, struct wp_skb *skb,
		       const struct wp_ipv4_repr *r)
{
	struct wp_ip_cb *cb = wp_ip_cb(skb);

	WP_MIB_INC(pc, InReceives);
	skb->pkt_type = WP_PACKET_HOST;
	cb->saddr = r->saddr;
	cb->daddr = r->daddr;
	cb->hdr_len = (uint16_t)wp_ipv4_hdr_len(r);
	cb->protocol = r->protocol;
	cb->ttl = r->ttl;
	cb->tos = r->tos;
	cb->flags = 0;
	wp__ip_local_deliver(pc, skb);
	return 0;
}

int wp__ip_local_out(struct wp_net_cpu *pc, struct wp_skb *skb,
		     const struct wp_ipv4_repr *r)
{
	struct wp_net *net = pc->net;
	struct wp_rt_result rt;

	WP_MIB_INC(pc, OutRequests);
	if (wp__nf_hook_active(net, WP_NF_LOCAL_OUT) &&
	    wp__nf_hook(net, WP_NF_LOCAL_OUT, skb, r) == WP_NF_DROP) {
		wp_kfree_skb_reason(skb, WP_DROP_NETFILTER);
		return -EPERM;
	}
	if (wp__route_output(pc, r->daddr, &rt)) {
		WP_MIB_INC(pc, OutNoRoutes);
		wp_kfree_skb_reason(skb, WP_DROP_NO_ROUTE);
		return -ENETUNREACH;
	}
	if (rt.type == WP_RTN_LOCAL)
		return ip_loopback(pc, skb, r);
	if (wp__nf_hook_active(net, WP_NF_POST_ROUTING) &&
	    wp__nf_hook(net, WP_NF_POST_ROUTING, skb, r) == WP_NF_DROP) {
		wp_kfree_skb_reason(skb, WP_DROP_NETFILTER);
		return -EPERM;
	}
	if (wp_ipv4_total_len(r) > net->mtu) {
		if (r->df) {
			/* A host has no one to tell but the sender. */
			WP_MIB_INC(pc, FragFails);
			wp_kfree_skb_reason(skb, WP_DROP_FRAG_NEEDED);
			return -EMSGSIZE;
		}
		return wp__ip_fragment(pc, skb, r, rt.nexthop);
	}
	return wp__neigh_output(pc, skb, rt.nexthop);
}

int wp_ip_queue_xmit(struct wp_net *net, uint32_t cpu, struct wp_skb *skb,
		     const struct wp_ip_tx *tx)
{
	struct wp_net_cpu *pc;
	struct wp_ipv4_repr r;
	int ret;

	if (!skb)
		return -EINVAL;
	if (cpu >= net->ncpus || !tx) {
		wp_kfree_skb_reason(skb, WP_DROP_NOT_SPECIFIED);
		return -EINVAL;
	}
	pc = &net->pcpu[cpu];
	if (!pc->in_batch)
		pc->now = wp_clock_now(net->clock);
	ret = ip_build(net, skb, tx, &r);
	if (ret) {
		WP_MIB_INC(pc, OutDiscards);
		wp_kfree_skb_reason(skb, ret == -EMSGSIZE ? WP_DROP_FRAG_NEEDED
							  : WP_DROP_NOMEM);
		return ret == -ENOSPC ? -EINVAL : ret;
	}
	return wp__ip_local_out(pc, skb, &r);
}

/* Frames a datagram of this header becomes on the wire. */
static uint32_t ip_frames(const struct wp_net *net,
			  const struct wp_ipv4_repr *r)
{
	size_t hl = wp_ipv4_hdr_len(r), step;

	if (wp_ipv4_total_len(r) <= net->mtu || net->mtu < hl + 8)
		return 1;
	step = (net->mtu - hl) & ~(size_t)7;
	return (uint32_t)((r->payload_len + step - 1) / step);
}

/*
 * Room for n more frames on this core's TX ring, reclaiming what the
 * firmware has sent if need be. A datagram larger than the whole ring
 * is let through (it will be partly dropped and counted by the NIC).
 */
static bool tx_room(struct wp_net_cpu *pc, uint32_t n)
{
	struct wp_tx_queue *txq = &pc->net->nic->txq[pc->id];

	if (n > txq->size)
		n = txq->size;
	if (txq->size - (txq->next_to_use - txq->next_to_clean) >= n)
		return true;
	wp_nic_clean_tx(pc->net->nic, pc->id);
	return txq->size - (txq->next_to_use - txq->next_to_clean) >= n;
}

/* Put q back in front of the submit queue (order kept). */
static void submit_requeue(struct wp_net_cpu *pc, struct wp_skb_queue *q)
{
	struct wp_skb *skb;

	pthread_mutex_lock(&pc->submit_lock);
	while ((skb = q->tail)) {
		wp_skb_unlink(q, skb);
		wp_skb_queue_head(&pc->submit_q, skb);
	}
	atomic_store_explicit(&pc->submit_len, pc->submit_q.qlen,
			      memory_order_relaxed);
	pthread_mutex_unlock(&pc->submit_lock);
}

/*
 * The submit queue is this core's qdisc: datagrams leave it only while
 * the TX ring has room for all their frames, so a burst of sends waits
 * for TX completions instead of being dropped at a full ring. (Frames
 * the stack sends in reply to input still meet the ring as it is.)
 */
void wp__ip_submit_drain(struct wp_net_cpu *pc)
{
	struct wp_skb_queue q;
	struct wp_skb *skb;

	if (!atomic_load_explicit(&pc->submit_len, memory_order_relaxed))
		return;
	pthread_mutex_lock(&pc->submit_lock);
	q = pc->submit_q;
	wp_skb_queue_init(&pc->submit_q);
	atomic_store_explicit(&pc->submit_len, 0, memory_order_relaxed);
	pthread_mutex_unlock(&pc->submit_lock);

	while ((skb = wp_skb_dequeue(&q))) {
		enum wp_drop_reason why = WP_DROP_IP_HDR;
		struct wp_ipv4_repr r;

		/* Built on another thread: checked like anything else
		 * before it goes on the wire. */
		wp_skb_reset_network_header(skb);
		if (wp_ipv4_parse(skb->data, skb->len, &r, &why)) {
			WP_MIB_INC(pc, OutDiscards);
			wp_kfree_skb_reason(skb, why);
			continue;
		}
		if (!tx_room(pc, ip_frames(pc->net, &r))) {
			wp_skb_queue_head(&q, skb);
			break;
		}
		wp_skb_trim(skb, (uint32_t)wp_ipv4_total_len(&r));
		wp__ip_local_out(pc, skb, &r);
	}
	if (!wp_skb_queue_empty(&q))
		submit_requeue(pc, &q);
}
