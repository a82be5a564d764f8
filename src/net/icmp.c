// SPDX-License-Identifier: MIT
/*
 * ICMP for IPv4 (Linux net/ipv4/icmp.c): echo replies, errors received
 * (handed to the protocol that sent the datagram), errors sent with the
 * rules of RFC 1122 3.2.2 and Linux's two rate limits:
 *   - global: icmp_msgs_per_sec tokens a second, icmp_msgs_burst deep
 *     (icmp_global_allow), counted in OutRateLimitGlobal;
 *   - per destination: one error per icmp_ratelimit ms with a burst of
 *     6 (inet_peer_xrlim_allow), counted in OutRateLimitHost.
 * Both apply to errors only: echo replies are not limited (Linux's
 * icmp_ratemask covers unreachable, source quench, time exceeded and
 * parameter problem).
 */
#include "net/net_priv.h"

#include <errno.h>
#include <string.h>

#include "wire/icmp.h"

/* RFC 1349 / Linux: errors go out with precedence "internetwork
 * control" and the offending datagram's TOS bits. */
#define IPTOS_TOS_MASK 0x1e
#define IPTOS_PREC_INTERNETCONTROL 0xc0
/* Linux XRLIM_BURST_FACTOR. */
#define XRLIM_BURST_FACTOR 6

int wp__icmp_init(struct wp_net *net)
{
	struct wp_icmp_rl *rl = &net->icmp_rl;

	pthread_mutex_init(&rl->lock, NULL);
	rl->global_last = wp_clock_now(net->clock);
	rl->global_credit =
		(uint64_t)net->cfg.icmp_msgs_burst * WP_NSEC_PER_SEC;
	return 0;
}

void wp__icmp_destroy(struct wp_net *net)
{
	pthread_mutex_destroy(&net->icmp_rl.lock);
}

enum rl_verdict { RL_OK, RL_GLOBAL, RL_HOST };

/*
 * The global bucket counts in message-nanoseconds (one message costs
 * 1e9), so a rate of any size refills without rounding away.
 */
static enum rl_verdict icmp_rl_allow(struct wp_net *net, uint32_t dst,
				     uint64_t now)
{
	struct wp_icmp_rl *rl = &net->icmp_rl;
	const struct wp_net_config *c = &net->cfg;
	uint64_t cap = (uint64_t)c->icmp_msgs_burst * WP_NSEC_PER_SEC;
	uint64_t interval = (uint64_t)c->icmp_ratelimit_ms * WP_NSEC_PER_MSEC;
	enum rl_verdict v = RL_OK;
	struct wp_icmp_peer *p;

	pthread_mutex_lock(&rl->lock);
	if (c->icmp_msgs_per_sec) {
		uint64_t d = now > rl->global_last ? now - rl->global_last : 0;

		if (d > 60 * WP_NSEC_PER_SEC)
			d = 60 * WP_NSEC_PER_SEC;
		rl->global_credit += d * c->icmp_msgs_per_sec;
		if (rl->global_credit > cap)
			rl->global_credit = cap;
		rl->global_last = now;
		if (rl->global_credit < WP_NSEC_PER_SEC) {
			v = RL_GLOBAL;
			goto out_unlock;
		}
	}
	if (interval) {
		p = &rl->peers[wp__net_hash32(dst) % WP_ICMP_PEERS];
		if (p->addr != dst || !p->last) {
			/* A new peer (or one that took an old one's slot)
			 * starts with a full burst. */
			p->addr = dst;
			p->tokens = XRLIM_BURST_FACTOR * interval;
			p->last = now;
		}
		p->tokens += now > p->last ? now - p->last : 0;
		if (p->tokens > XRLIM_BURST_FACTOR * interval)
			p->tokens = XRLIM_BURST_FACTOR * interval;
		p->last = now ? now : 1;
		if (p->tokens < interval) {
			v = RL_HOST;
			goto out_unlock;
		}
		p->tokens -= interval;
	}
	if (c->icmp_msgs_per_sec)
		rl->global_credit -= WP_NSEC_PER_SEC;
out_unlock:
	pthread_mutex_unlock(&rl->lock);
	return v;
}

/* Informational types (RFC 792): errors may quote these, no others. */
static bool icmp_is_info(uint8_t type)
{
	return type == WP_ICMP_ECHOREPLY || type == WP_ICMP_ECHO ||
	       (type >= 13 && type <= 18); /* timestamp, info, mask */
}

void wp__icmp_send(struct wp_net_cpu *pc, const struct wp_skb *skb_in,
		   uint8_t type, uint8_t code, uint16_t mtu)
{
	struct wp_net *net = pc->net;
	const uint8_t *nh = wp_skb_network_header(skb_in);
	size_t avail = (size_t)(wp_skb_tail_pointer(skb_in) - nh), hl, quote;
	struct wp_ipv4_repr r;
	struct wp_icmp_repr m = { .type = type, .code = code, .mtu = mtu };
	struct wp_ip_tx tx = { .protocol = WP_IPPROTO_ICMP };
	enum rl_verdict v;
	struct wp_skb *skb;
	uint8_t *p;

	/* The offending datagram, as it arrived (it was checked then). */
	if (wp_ipv4_parse(nh, avail, &r, NULL))
		return;
	hl = wp_ipv4_hdr_len(&r);
	/* RFC 1122 3.2.2: never about a datagram to a broadcast or
	 * multicast address (link or IP), a non-first fragment, a source
	 * that is not one host, or an ICMP error. */
	if (skb_in->pkt_type != WP_PACKET_HOST || r.daddr != net->addr)
		return;
	if (r.frag_offset || wp_ipv4_is_martian_src(r.saddr) ||
	    wp__net_is_bcast(net, r.saddr))
		return;
	if (r.protocol == WP_IPPROTO_ICMP &&
	    (r.payload_len < 1 || !icmp_is_info(nh[hl])))
		return;
	v = icmp_rl_allow(net, r.saddr,
			  pc->in_batch ? pc->now : wp_clock_now(net->clock));
	if (v != RL_OK) {
		if (v == RL_GLOBAL)
			WP_MIB_INC(pc, IcmpOutRateLimitGlobal);
		else
			WP_MIB_INC(pc, IcmpOutRateLimitHost);
		wp_drop_count(WP_DROP_ICMP_RATELIMIT);
		return;
	}
	/* RFC 1812 4.3.2.3: as much of it as fits a 576-byte error. */
	quote = wp_ipv4_total_len(&r);
	if (quote > WP_ICMP_ERR_MAX_LEN - WP_IPV4_HLEN - WP_ICMP_HLEN)
		quote = WP_ICMP_ERR_MAX_LEN - WP_IPV4_HLEN - WP_ICMP_HLEN;
	if (quote < hl + WP_ICMP_QUOTE_MIN) {
		/* RFC 792 wants the header and 8 bytes; there are fewer. */
		WP_MIB_INC(pc, IcmpOutErrors);
		return;
	}
	skb = wp_alloc_skb(wp__net_pool(pc), (uint32_t)(WP_ICMP_HLEN + quote));
	if (!skb) {
		WP_MIB_INC(pc, IcmpOutErrors);
		wp_drop_count(WP_DROP_NOMEM);
		return;
	}
	p = wp_skb_put(skb, (uint32_t)(WP_ICMP_HLEN + quote));
	memcpy(p + WP_ICMP_HLEN, nh, quote);
	m.data = NULL; /* already in place */
	m.data_len = quote;
	m.quote_hdr_len = (uint16_t)hl;
	if (wp_icmp_emit(&m, p, WP_ICMP_HLEN + quote)) {
		WP_MIB_INC(pc, IcmpOutErrors);
		wp_kfree_skb_reason(skb, WP_DROP_ICMP_BAD);
		return;
	}
	WP_MIB_INC(pc, IcmpOutMsgs);
	if (type == WP_ICMP_DEST_UNREACH)
		WP_MIB_INC(pc, IcmpOutDestUnreachs);
	else if (type == WP_ICMP_TIME_EXCEEDED)
		WP_MIB_INC(pc, IcmpOutTimeExcds);
	tx.saddr = net->addr;
	tx.daddr = r.saddr;
	tx.tos = (uint8_t)((r.tos & IPTOS_TOS_MASK) |
			   IPTOS_PREC_INTERNETCONTROL);
	wp_ip_queue_xmit(net, pc->id, skb, &tx);
}

/*
 * icmp_echo: the reply carries the request's id, sequence and data, and
 * nothing else: the parser bounded the data by the ICMP length, which
 * the IP layer bounded by tot_len. Built in the request's buffer when it
 * is ours alone (no copy); the IP header goes in front of it.
 */
static void icmp_echo(struct wp_net_cpu *pc, struct wp_skb *skb,
		      const struct wp_icmp_repr *req)
{
	struct wp_net *net = pc->net;
	struct wp_ip_cb *cb = wp_ip_cb(skb);
	struct wp_icmp_repr rep = *req;
	struct wp_ip_tx tx = {
		.saddr = cb->daddr,
		.daddr = cb->saddr,
		.protocol = WP_IPPROTO_ICMP,
		.tos = cb->tos,
	};
	size_t len = WP_ICMP_HLEN + req->data_len;
	struct wp_skb *out = skb;

	if (wp_skb_cloned(skb)) {
		out = wp_alloc_skb(wp__net_pool(pc), (uint32_t)len);
		if (!out) {
			WP_MIB_INC(pc, IcmpOutErrors);
			wp_kfree_skb_reason(skb, WP_DROP_NOMEM);
			return;
		}
		wp_skb_put(out, (uint32_t)len);
	}
	rep.type = WP_ICMP_ECHOREPLY;
	rep.code = 0;
	if (wp_icmp_emit(&rep, out->data, len)) {
		WP_MIB_INC(pc, IcmpOutErrors);
		if (out != skb)
			wp_kfree_skb_reason(out, WP_DROP_ICMP_BAD);
		wp_kfree_skb_reason(skb, WP_DROP_ICMP_BAD);
		return;
	}
	if (out != skb)
		wp_consume_skb(skb);
	else
		wp_skb_trim(out, (uint32_t)len);
	WP_MIB_INC(pc, IcmpOutMsgs);
	WP_MIB_INC(pc, IcmpOutEchoReps);
	wp_ip_queue_xmit(net, pc->id, out, &tx);
}

/*
 * An error about a datagram we sent: the quote names the protocol and
 * its ports. wp_icmp_parse checked the quote is an IPv4 header (version,
 * IHL) plus 8 bytes, so the fixed fields below are inside it.
 */
static void icmp_unreach(struct wp_net_cpu *pc, struct wp_skb *skb,
			 const struct wp_icmp_repr *m)
{
	struct wp_net *net = pc->net;
	const uint8_t *q = m->data;
	struct wp_icmp_err err = {
		.type = m->type,
		.code = m->code,
		.mtu = m->mtu,
		.saddr = wp_get_be32(q + 12),
		.daddr = wp_get_be32(q + 16),
		.protocol = q[9],
		.l4 = q + m->quote_hdr_len,
		.l4_len = m->data_len - m->quote_hdr_len,
	};
	struct wp_net_proto *p = &net->proto[err.protocol];

	if (wp_ip_cb(skb)->daddr == net->addr && err.saddr == net->addr) {
		if (err.protocol == WP_IPPROTO_UDP)
			wp__udp_err(pc, &err);
		else if (err.protocol == WP_IPPROTO_TCP)
			wp__tcp_err(pc, &err);
		else if (p->err)
			p->err(p->ctx, net, pc->id, &err);
	}
	wp_consume_skb(skb);
}

void wp__icmp_rcv(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_net *net = pc->net;
	enum wp_drop_reason why = WP_DROP_ICMP_BAD;
	struct wp_icmp_repr m;
	int ret;

	WP_MIB_INC(pc, IcmpInMsgs);
	ret = wp_icmp_parse(skb->data, skb->len,
			    skb->csum_valid ? WP_WIRE_CSUM_UNNECESSARY : 0, &m,
			    &why);
	if (ret == -EPROTONOSUPPORT) {
		/* Checksummed, well formed, a type we do not act on
		 * (timestamp, router advertisement...): Linux icmp_discard. */
		wp_consume_skb(skb);
		return;
	}
	if (ret) {
		if (why == WP_DROP_ICMP_CSUM)
			WP_MIB_INC(pc, IcmpInCsumErrors);
		WP_MIB_INC(pc, IcmpInErrors);
		wp_kfree_skb_reason(skb, why);
		return;
	}
	switch (m.type) {
	case WP_ICMP_ECHO:
		WP_MIB_INC(pc, IcmpInEchos);
		/* icmp_echo_ignore_broadcasts: no smurf amplifier here. */
		if (wp_ip_cb(skb)->daddr != net->addr &&
		    net->cfg.icmp_echo_ignore_broadcasts) {
			wp_consume_skb(skb);
			return;
		}
		icmp_echo(pc, skb, &m);
		return;
	case WP_ICMP_ECHOREPLY:
		WP_MIB_INC(pc, IcmpInEchoReps);
		wp_consume_skb(skb);
		return;
	case WP_ICMP_DEST_UNREACH:
		WP_MIB_INC(pc, IcmpInDestUnreachs);
		icmp_unreach(pc, skb, &m);
		return;
	case WP_ICMP_TIME_EXCEEDED:
		WP_MIB_INC(pc, IcmpInTimeExcds);
		icmp_unreach(pc, skb, &m);
		return;
	default:
		wp_consume_skb(skb);
		return;
	}
}
