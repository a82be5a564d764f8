// SPDX-License-Identifier: MIT
/*
 * GRO for TCP/IPv4 in the NAPI poll (Linux napi_gro_receive,
 * dev_gro_receive, inet_gro_receive, tcp4_gro_receive, tcp_gro_receive,
 * napi_gro_complete, inet_gro_complete, tcp4_gro_complete). The rules
 * are in gro.h.
 *
 * Cost: a frame that is not TCP/IPv4 costs two loads (its EtherType and
 * IP protocol byte): no header parse. A TCP segment is parsed and its
 * checksum verified here (one pass over the payload, which TCP then
 * skips: csum_valid), and compared with at most
 * WP_GRO_MAX_HELD held flows. A merge is pointer work: the segment's skb
 * is pulled to its payload and linked on the chain; its payload sum,
 * kept from the verification, makes the merged checksum without another
 * pass. Handing a merged skb up rewrites two header fields and sums the
 * TCP header once.
 *
 * Everything here runs on the NAPI's poller (the owner of its SCHED bit).
 */
#include "napi/napi.h"

#include <string.h>

#include "core/compiler.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define GRO_L3 WP_ETH_HLEN		    /* IPv4 header: no VLAN tag */
#define GRO_L4 (WP_ETH_HLEN + WP_IPV4_HLEN) /* TCP header: no IP options */

/* Written by the poller only: a load and a store, read relaxed anywhere. */
static inline void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

/* What GRO learned of a segment. */
struct gro_seg {
	struct wp_ipv4_repr ip;
	struct wp_tcp_repr th;
	const uint8_t *tcp; /* the TCP header, in the frame */
	uint32_t thlen;
	uint32_t plen; /* payload bytes */
	uint32_t csum; /* ones' complement sum of the payload */
	bool padded;   /* frame longer than the datagram: flush */
};

/*
 * A TCP/IPv4 segment GRO can judge: parsed by the wire layer, its
 * checksums verified. False: it goes up as it came (anything else, or a
 * segment that fails a check, which the layer above counts).
 */
static bool gro_parse(struct wp_skb *skb, struct gro_seg *s)
{
	struct wp_eth_repr eth;
	const uint8_t *ip;
	uint32_t sum, l4len;

	/*
	 * dev_gro_receive and inet_gro_receive look at the EtherType and
	 * the protocol before anything else: a frame that is not TCP/IPv4
	 * (a VLAN tag included) costs two loads, not two header parses.
	 */
	if (skb->len < GRO_L4 + WP_TCP_HLEN ||
	    wp_get_be16(skb->data + 12) != WP_ETH_P_IP ||
	    skb->data[GRO_L3 + 9] != WP_IPPROTO_TCP)
		return false;
	if (wp_eth_parse(skb->data, skb->len, &eth, NULL) || eth.vlan ||
	    eth.ethertype != WP_ETH_P_IP)
		return false;
	ip = skb->data + GRO_L3;
	/* Version 4, IHL 5: inet_gro_receive takes no IP options. */
	if (ip[0] != 0x45 ||
	    wp_ipv4_parse(ip, skb->len - GRO_L3, &s->ip, NULL) ||
	    wp_ipv4_is_fragment(&s->ip) || s->ip.protocol != WP_IPPROTO_TCP)
		return false;
	l4len = s->ip.payload_len;
	s->tcp = ip + WP_IPV4_HLEN;
	if (wp_tcp_parse(s->tcp, l4len, s->ip.saddr, s->ip.daddr,
			 WP_WIRE_CSUM_UNNECESSARY, &s->th, NULL))
		return false;
	s->plen = (uint32_t)s->th.payload_len;
	s->thlen = l4len - s->plen;
	/* Link padding: Linux flushes such a frame (its total length is
	 * not the frame's) and leaves its checksum to TCP. */
	s->padded = GRO_L3 + wp_ipv4_total_len(&s->ip) != skb->len;
	if (s->padded)
		return true;
	/* The header length is a multiple of 4: the payload's sum adds
	 * to the header's as it is. */
	s->csum = wp_csum_partial(s->th.payload, s->plen, 0);
	sum = wp_csum_add(wp_csum_partial(s->tcp, s->thlen, 0), s->csum);
	if (wp_csum_tcpudp_magic(s->ip.saddr, s->ip.daddr, l4len,
				 WP_IPPROTO_TCP, sum) != 0)
		return false;
	skb->csum_valid = 1;
	return true;
}

/* napi_gro_complete: make the held skb one datagram, hand it up. */
static void gro_complete(struct wp_napi *napi, struct wp_gro_flow *f)
{
	struct wp_gro *g = &napi->gro;
	struct wp_skb *skb = f->skb;

	if (f->count > 1) {
		uint8_t *ip = skb->data + GRO_L3, *th = skb->data + GRO_L4;
		uint16_t old = wp_get_be16(ip + 2);
		uint32_t sum;

		/* inet_gro_complete: the total length, its checksum. */
		wp_put_be16(ip + 2, (uint16_t)f->ip_len);
		wp_put_be16(ip + 10, wp_csum_replace2(wp_get_be16(ip + 10), old,
						      (uint16_t)f->ip_len));
		/* tcp_gro_receive's flag word, and a checksum over the
		 * whole segment from the sums already taken. */
		wp_put_be16(th + 12, wp_get_be16(th + 12) | f->add_flags);
		wp_put_be16(th + 16, 0);
		sum = wp_csum_add(wp_csum_partial(th, f->thlen, 0), f->csum);
		wp_put_be16(th + 16, wp_csum_tcpudp_magic(f->saddr, f->daddr,
							  f->thlen + f->payload,
							  WP_IPPROTO_TCP, sum));
		skb->gso_size = f->gso_size;
		skb->gso_segs = f->count;
		stat_add(&g->stats.skbs, 1);
		stat_add(&g->stats.packets, f->count);
		stat_add(&g->stats.bytes, f->wire_bytes);
	}
	stat_add(&g->stats.flush, 1);
	napi->cpu->softnet.gro_flush++;
	if (skb->stamps)
		wp_skb_stamp(skb, WP_STAMP_GRO, wp_clock_now(napi->cpu->clock));
	wp_skb_queue_tail(&napi->rx_list, skb);
	f->skb = NULL;
	f->last = NULL;
	g->nheld--;
}

/* gro_normal_one: not held, up with this poll's batch. */
static void gro_normal(struct wp_napi *napi, struct wp_skb *skb)
{
	if (skb->stamps)
		wp_skb_stamp(skb, WP_STAMP_GRO, wp_clock_now(napi->cpu->clock));
	wp_skb_queue_tail(&napi->rx_list, skb);
}

static struct wp_gro_flow *gro_oldest(struct wp_gro *g)
{
	struct wp_gro_flow *old = NULL;

	for (int i = 0; i < WP_GRO_MAX_HELD; i++) {
		struct wp_gro_flow *f = &g->flow[i];

		if (f->skb && (!old || f->age < old->age))
			old = f;
	}
	return old;
}

/* Start a held flow with skb (a free slot, or the oldest's). */
static void gro_hold(struct wp_napi *napi, struct wp_skb *skb,
		     const struct gro_seg *s)
{
	struct wp_gro *g = &napi->gro;
	struct wp_gro_flow *f = NULL;

	if (g->nheld == WP_GRO_MAX_HELD) {
		/* gro_flush_oldest */
		f = gro_oldest(g);
		gro_complete(napi, f);
		stat_add(&g->stats.flush_oldest, 1);
	} else {
		for (int i = 0; i < WP_GRO_MAX_HELD && !f; i++)
			if (!g->flow[i].skb)
				f = &g->flow[i];
	}
	*f = (struct wp_gro_flow){
		.skb = skb,
		.last = skb,
		.age = ++g->age,
		.saddr = s->ip.saddr,
		.daddr = s->ip.daddr,
		.sport = s->th.sport,
		.dport = s->th.dport,
		.next_seq = s->th.seq + s->plen,
		.ack_seq = s->th.ack_seq,
		.csum = s->csum,
		.payload = s->plen,
		.wire_bytes = skb->len,
		.ip_len = (uint32_t)wp_ipv4_total_len(&s->ip),
		.flags = s->th.flags,
		.window = s->th.window,
		.gso_size = (uint16_t)s->plen,
		.count = 1,
		.ip_id = s->ip.id,
		.thlen = (uint8_t)s->thlen,
		.ttl = s->ip.ttl,
		.tos = s->ip.tos,
		.df = s->ip.df,
		.is_atomic = s->ip.df,
	};
	g->nheld++;
	stat_add(&g->stats.held, 1);
	napi->cpu->softnet.gro_held++;
}

/*
 * inet_gro_receive's IP ID rule. The ID of the segment after `count`
 * held ones is the first's plus count (incrementing), or, with DF, the
 * first's (fixed); the second segment decides which, for the rest.
 */
static bool ip_id_ok(struct wp_gro_flow *f, const struct gro_seg *s)
{
	uint16_t diff = (uint16_t)(s->ip.id - f->ip_id);

	if (!f->is_atomic || !s->ip.df)
		return diff == f->count;
	if (diff == 1 && f->count == 1) {
		f->is_atomic = false;
		return true;
	}
	return diff == 0;
}

/* tcp_gro_receive's test: may s follow what f holds? */
static bool gro_can_merge(struct wp_gro_flow *f, const struct wp_skb *skb,
			  const struct gro_seg *s)
{
	const struct wp_skb *p = f->skb;
	const uint16_t same =
		(uint16_t) ~(WP_TCP_CWR | WP_TCP_FIN | WP_TCP_PSH);

	if (memcmp(p->data, skb->data, WP_ETH_HLEN) != 0 ||
	    s->ip.ttl != f->ttl || s->ip.tos != f->tos || s->ip.df != f->df ||
	    s->padded || skb->stamps)
		return false;
	if ((s->th.flags & WP_TCP_CWR) || ((s->th.flags ^ f->flags) & same) ||
	    s->th.window != f->window || s->thlen != f->thlen ||
	    s->th.ack_seq != f->ack_seq ||
	    memcmp(p->data + GRO_L4 + WP_TCP_HLEN, s->tcp + WP_TCP_HLEN,
		   s->thlen - WP_TCP_HLEN) != 0)
		return false;
	/* Linux tests the ID after the rest, so only a flow's own second
	 * segment settles its kind. */
	if (!ip_id_ok(f, s))
		return false;
	/* (len - 1) >= mss: no empty segment, none larger than the first. */
	if (s->plen - 1 >= f->gso_size)
		return false;
	return s->th.seq == f->next_seq &&
	       f->ip_len + s->plen < WP_GRO_MAX_SIZE;
}

/* skb_gro_receive: s's payload joins f's chain. Consumes skb. */
static void gro_merge(struct wp_napi *napi, struct wp_gro_flow *f,
		      struct wp_skb *skb, const struct gro_seg *s)
{
	struct wp_gro *g = &napi->gro;
	uint32_t wire = skb->len;

	/* The parse checked these bytes are there. */
	wp_skb_pull(skb, GRO_L4 + s->thlen);
	wp_skb_chain_append(f->skb, f->last, skb);
	f->last = skb;
	f->csum = wp_csum_block_add(f->csum, s->csum, f->payload);
	f->payload += s->plen;
	f->next_seq += s->plen;
	f->ip_len += s->plen;
	f->wire_bytes += wire;
	f->count++;
	f->add_flags |= s->th.flags & (WP_TCP_PSH | WP_TCP_FIN);
	stat_add(&g->stats.merged, 1);
	napi->cpu->softnet.gro_merged++;
}

static struct wp_gro_flow *gro_find(struct wp_gro *g, const struct gro_seg *s)
{
	if (!g->nheld)
		return NULL;
	for (int i = 0; i < WP_GRO_MAX_HELD; i++) {
		struct wp_gro_flow *f = &g->flow[i];

		if (f->skb && f->sport == s->th.sport &&
		    f->dport == s->th.dport && f->saddr == s->ip.saddr &&
		    f->daddr == s->ip.daddr)
			return f;
	}
	return NULL;
}

void wp_napi_gro_receive(struct wp_napi *napi, struct wp_skb *skb)
{
	const uint16_t final =
		WP_TCP_URG | WP_TCP_PSH | WP_TCP_RST | WP_TCP_SYN | WP_TCP_FIN;
	struct wp_gro *g = &napi->gro;
	struct wp_gro_flow *f;
	struct gro_seg s;

	if (!skb)
		return;
	if (!atomic_load_explicit(&g->enabled, memory_order_relaxed)) {
		/* Turned off mid-poll: what is held goes first. */
		if (wp_unlikely(g->nheld))
			wp__napi_gro_flush(napi);
		gro_normal(napi, skb);
		return;
	}
	if (!gro_parse(skb, &s)) {
		gro_normal(napi, skb);
		return;
	}
	f = gro_find(g, &s);
	if (f) {
		if (gro_can_merge(f, skb, &s)) {
			gro_merge(napi, f, skb, &s);
			/* A last segment, or a short one: the flow ends. */
			if (s.plen < f->gso_size || (s.th.flags & final))
				gro_complete(napi, f);
			return;
		}
		gro_complete(napi, f);
	}
	if (!s.plen || (s.th.flags & final) || s.padded)
		gro_normal(napi, skb);
	else
		gro_hold(napi, skb, &s);
}

void wp__napi_gro_flush(struct wp_napi *napi)
{
	struct wp_gro *g = &napi->gro;

	/* Oldest first: a flow that was flushed and held again keeps its
	 * order (two skbs of it are never held at once, but this costs
	 * nothing and keeps the batch in arrival order). */
	while (g->nheld)
		gro_complete(napi, gro_oldest(g));
}

void wp__napi_gro_purge(struct wp_napi *napi)
{
	struct wp_gro *g = &napi->gro;

	for (int i = 0; i < WP_GRO_MAX_HELD; i++) {
		struct wp_gro_flow *f = &g->flow[i];

		if (!f->skb)
			continue;
		wp_kfree_skb_reason(f->skb, WP_DROP_DEV_DOWN);
		f->skb = NULL;
		f->last = NULL;
	}
	g->nheld = 0;
}

void wp_napi_set_gro(struct wp_napi *napi, bool on)
{
	atomic_store_explicit(&napi->gro.enabled, on, memory_order_relaxed);
}

bool wp_napi_gro_enabled(const struct wp_napi *napi)
{
	return atomic_load_explicit(&napi->gro.enabled, memory_order_relaxed);
}

void wp_napi_gro_stats(const struct wp_napi *napi, struct wp_gro_stats *out)
{
	const struct wp_gro_stats *st = &napi->gro.stats;

	out->held = __atomic_load_n(&st->held, __ATOMIC_RELAXED);
	out->merged = __atomic_load_n(&st->merged, __ATOMIC_RELAXED);
	out->flush = __atomic_load_n(&st->flush, __ATOMIC_RELAXED);
	out->flush_oldest =
		__atomic_load_n(&st->flush_oldest, __ATOMIC_RELAXED);
	out->skbs = __atomic_load_n(&st->skbs, __ATOMIC_RELAXED);
	out->packets = __atomic_load_n(&st->packets, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&st->bytes, __ATOMIC_RELAXED);
}
