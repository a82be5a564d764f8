// SPDX-License-Identifier: MIT
/*
 * IPv4 fragments (Linux net/ipv4/ip_fragment.c, ip_output.c):
 * reassembly on input, fragmentation on output.
 *
 * Reassembly. Each core reassembles the fragments its queues receive
 * (RSS hashes every fragment of a datagram on its addresses alone, so
 * they all reach one core), in a bounded table of queues keyed by
 * (source, destination, ID, protocol). A queue holds the fragment skbs
 * themselves, sorted by offset; the datagram is copied out once, when
 * the last hole closes. Hostile input is bounded four ways:
 *   - overlap (RFC 5722's rule, applied to IPv4 as Linux does since
 *     4.19): any fragment overlapping another kills the whole datagram
 *     (ReasmOverlaps); an exact duplicate is dropped alone;
 *   - offsets: the parser already refused offset + length past 65535;
 *     a non-last fragment whose length is not a multiple of 8, a last
 *     fragment that disagrees with the length seen, an empty fragment,
 *     all kill the datagram;
 *   - ipfrag_max_frags fragments per datagram;
 *   - memory: the truesize of every fragment held, over all cores, is
 *     bounded by ipfrag_high_thresh, and the RX buffers held by one core
 *     by a quarter of its pools (a fragment flood must not starve the
 *     rings it arrives on). Past either bound the core evicts its oldest
 *     queues. The table itself holds ipfrag_max_queues queues; a new
 *     datagram in a full table evicts the oldest.
 * A queue lives ipfrag_time; one that expires with its first fragment
 * sends ICMP time exceeded (RFC 792). Every datagram killed counts once
 * in ReasmFails.
 *
 * The reassembled datagram is linear: in a buffer of the core's pool when
 * it fits, else in a 64 KiB buffer of the core's reassembly pool. A
 * datagram longer than such a buffer holds (WP_POOL_BUF_SIZE_MAX less
 * headroom, a little under 65535) fails (ReasmFails, WP_DROP_IP_REASM_MEM).
 *
 * Fragmentation copies the payload into one fresh skb per fragment
 * (Linux's slow path: our skbs have no frag_list to split).
 */
#include "net/net_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/icmp.h"

/* --- table -----------------------------------------------------------------
 */

int wp__ipfrag_init(struct wp_net *net, struct wp_net_cpu *pc)
{
	struct wp_ipfrag_table *t = &pc->frags;
	struct wp_pool_config pcfg = {
		.name = "ipfrag",
		.nbufs =
			net->cfg.ipfrag_big_bufs ? net->cfg.ipfrag_big_bufs : 1,
		.buf_size = WP_POOL_BUF_SIZE_MAX,
	};
	uint32_t nb = 1, bufs = 0;

	while (nb < net->cfg.ipfrag_max_queues)
		nb <<= 1;
	t->max = net->cfg.ipfrag_max_queues;
	t->qs = calloc(t->max, sizeof(*t->qs));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->qs || !t->buckets)
		goto out_free;
	t->nbuckets = nb;
	for (uint32_t i = 0; i < t->max; i++) {
		wp_skb_queue_init(&t->qs[i].frags);
		t->qs[i].hnext = t->free;
		t->free = &t->qs[i];
	}
	/* A quarter of the buffers of the queues this core polls. */
	for (uint16_t q = 0; q < net->nic->cfg.nqueues; q++) {
		struct wp_pool_stats st;

		if (q % net->ncpus != pc->id)
			continue;
		wp_pool_get_stats(net->nic->rxq[q].pool, &st);
		bufs += st.bufs_total;
	}
	t->bufs_max = bufs / 4 > 2 ? bufs / 4 : 2;
	pc->big_pool = wp_pool_create(&pcfg);
	if (!pc->big_pool)
		goto out_free;
	pc->big_owner = pthread_self();
	pc->big_owned = true;
	return 0;

out_free:
	free(t->qs);
	free(t->buckets);
	t->qs = NULL;
	t->buckets = NULL;
	return -ENOMEM;
}

static uint32_t ipq_bucket(const struct wp_ipfrag_table *t, uint32_t saddr,
			   uint32_t daddr, uint16_t id, uint8_t protocol)
{
	uint32_t h = wp__net_hash32(saddr ^ wp__net_hash32(daddr)) ^
		     wp__net_hash32((uint32_t)id << 8 | protocol);

	return h & (t->nbuckets - 1);
}

static void lru_unlink(struct wp_ipfrag_table *t, struct wp_ipq *q)
{
	if (q->lru_prev)
		q->lru_prev->lru_next = q->lru_next;
	else
		t->lru_head = q->lru_next;
	if (q->lru_next)
		q->lru_next->lru_prev = q->lru_prev;
	else
		t->lru_tail = q->lru_prev;
	q->lru_prev = q->lru_next = NULL;
}

/* Free q and everything it holds; each fragment counts under why. */
static void ipq_kill(struct wp_net_cpu *pc, struct wp_ipq *q,
		     enum wp_drop_reason why)
{
	struct wp_ipfrag_table *t = &pc->frags;
	struct wp_ipq **pp = &t->buckets[ipq_bucket(t, q->saddr, q->daddr,
						    q->id, q->protocol)];
	struct wp_skb *skb;

	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
	lru_unlink(t, q);
	while ((skb = wp_skb_dequeue(&q->frags))) {
		if (why == WP_DROP_NOT_SPECIFIED)
			wp_consume_skb(skb);
		else
			wp_kfree_skb_reason(skb, why);
	}
	atomic_fetch_sub_explicit(&pc->net->frag_mem, q->mem,
				  memory_order_relaxed);
	t->bufs -= q->nfrags;
	q->used = false;
	q->hnext = t->free;
	t->free = q;
	t->count--;
}

static void ipq_fail(struct wp_net_cpu *pc, struct wp_ipq *q,
		     enum wp_drop_reason why)
{
	WP_MIB_INC(pc, ReasmFails);
	ipq_kill(pc, q, why);
}

void wp__ipfrag_destroy(struct wp_net_cpu *pc)
{
	struct wp_ipfrag_table *t = &pc->frags;

	while (t->lru_head)
		ipq_kill(pc, t->lru_head, WP_DROP_IP_REASM_TIMEOUT);
	free(t->qs);
	free(t->buckets);
	t->qs = NULL;
	t->buckets = NULL;
	if (pc->big_pool) {
		if (!wp_pool_is_whole(pc->big_pool))
			/* Held by a socket queue still: leave it to its
			 * holder rather than free memory under it. */
			fprintf(stderr,
				"wirepath: reassembly pool of core %u still "
				"lent out at teardown; leaking it\n",
				pc->id);
		else
			wp_pool_destroy(pc->big_pool);
		pc->big_pool = NULL;
	}
}

static struct wp_ipq *ipq_find(struct wp_ipfrag_table *t,
			       const struct wp_ip_cb *cb)
{
	struct wp_ipq *q = t->buckets[ipq_bucket(t, cb->saddr, cb->daddr,
						 cb->id, cb->protocol)];

	for (; q; q = q->hnext)
		if (q->saddr == cb->saddr && q->daddr == cb->daddr &&
		    q->id == cb->id && q->protocol == cb->protocol)
			return q;
	return NULL;
}

static struct wp_ipq *ipq_create(struct wp_net_cpu *pc,
				 const struct wp_ip_cb *cb)
{
	struct wp_ipfrag_table *t = &pc->frags;
	struct wp_ipq *q;
	uint32_t b;

	if (!t->free)
		ipq_fail(pc, t->lru_head, WP_DROP_IP_REASM_MEM);
	q = t->free;
	t->free = q->hnext;
	q->saddr = cb->saddr;
	q->daddr = cb->daddr;
	q->id = cb->id;
	q->protocol = cb->protocol;
	q->flags = 0;
	q->len = q->meat = q->nfrags = q->mem = 0;
	q->expires = pc->now + pc->net->cfg.ipfrag_time_ns;
	q->used = true;
	b = ipq_bucket(t, q->saddr, q->daddr, q->id, q->protocol);
	q->hnext = t->buckets[b];
	t->buckets[b] = q;
	q->lru_next = NULL;
	q->lru_prev = t->lru_tail;
	if (t->lru_tail)
		t->lru_tail->lru_next = q;
	else
		t->lru_head = q;
	t->lru_tail = q;
	t->count++;
	return q;
}

/* --- reassembly ------------------------------------------------------------
 */

static bool big_pool_own(struct wp_net_cpu *pc)
{
	if (!pc->big_owned || !pthread_equal(pc->big_owner, pthread_self())) {
		wp_pool_set_owner(pc->big_pool);
		pc->big_owner = pthread_self();
		pc->big_owned = true;
	}
	return pc->net->cfg.ipfrag_big_bufs != 0;
}

/* A linear, empty skb with room for len bytes after some headroom. */
static struct wp_skb *reasm_alloc(struct wp_net_cpu *pc, uint32_t len)
{
	struct wp_pool *pool = wp__net_pool(pc);
	struct wp_skb *skb;
	void *buf;

	if (len + WP_SKB_HEADROOM <= wp_pool_buf_size(pool))
		return wp_alloc_skb(pool, len);
	if (!big_pool_own(pc) ||
	    len + WP_IPFRAG_BIG_HEADROOM > wp_pool_buf_size(pc->big_pool))
		return NULL;
	buf = wp_pool_get_buf(pc->big_pool);
	if (!buf)
		return NULL;
	skb = wp_build_skb(pc->big_pool, buf, WP_IPFRAG_BIG_HEADROOM, 0);
	if (!skb)
		wp_pool_put_buf(pc->big_pool, buf);
	return skb;
}

/* ip_frag_reasm: every byte is there; copy the datagram out. */
static struct wp_skb *ipq_reasm(struct wp_net_cpu *pc, struct wp_ipq *q)
{
	struct wp_skb *head = q->frags.head, *skb, *f;
	const uint8_t *nh = wp_skb_network_header(head);
	struct wp_ip_cb *hcb = wp_ip_cb(head);
	struct wp_ipv4_repr r;
	uint32_t hl = hcb->hdr_len, total = hl + q->len;
	uint8_t *p;

	/* The head's header was checked on arrival and is intact. */
	if (total > WP_IP_MAX_LEN ||
	    wp_ipv4_parse(nh, (size_t)(wp_skb_tail_pointer(head) - nh), &r,
			  NULL)) {
		ipq_fail(pc, q, WP_DROP_IP_FRAG);
		return NULL;
	}
	skb = reasm_alloc(pc, total);
	if (!skb) {
		WP_MIB_INC(pc, InDiscards);
		ipq_fail(pc, q, WP_DROP_IP_REASM_MEM);
		return NULL;
	}
	p = wp_skb_put(skb, total);
	r.mf = false;
	r.frag_offset = 0;
	r.payload_len = (uint16_t)q->len;
	wp_ipv4_emit(&r, p, hl);
	for (f = q->frags.head; f; f = f->next) {
		struct wp_ip_cb *fcb = wp_ip_cb(f);

		memcpy(p + hl + fcb->frag_off, f->data,
		       (size_t)(fcb->frag_end - fcb->frag_off));
	}
	wp_skb_reset_network_header(skb);
	*wp_ip_cb(skb) = *hcb;
	wp_ip_cb(skb)->flags = WP_IPCB_REASSEMBLED;
	wp_ip_cb(skb)->frag_off = wp_ip_cb(skb)->frag_end = 0;
	skb->pkt_type = head->pkt_type;
	skb->protocol = head->protocol;
	skb->tstamp = head->tstamp;
	skb->hash = head->hash;
	skb->queue_mapping = q->frags.tail->queue_mapping;
	WP_MIB_INC(pc, ReasmOKs);
	ipq_kill(pc, q, WP_DROP_NOT_SPECIFIED);
	return skb;
}

/* Evict oldest queues while memory is over a bound. */
static void ipfrag_evict(struct wp_net_cpu *pc)
{
	struct wp_ipfrag_table *t = &pc->frags;
	uint64_t high = pc->net->cfg.ipfrag_high_thresh;

	while (t->lru_head &&
	       (atomic_load_explicit(&pc->net->frag_mem, memory_order_relaxed) >
			high ||
		t->bufs > t->bufs_max))
		ipq_fail(pc, t->lru_head, WP_DROP_IP_REASM_MEM);
}

struct wp_skb *wp__ip_defrag(struct wp_net_cpu *pc, struct wp_skb *skb)
{
	struct wp_ip_cb *cb = wp_ip_cb(skb);
	uint32_t off = cb->frag_off, end = cb->frag_end;
	struct wp_ipq *q = ipq_find(&pc->frags, cb);
	struct wp_skb *f, *prev;
	enum wp_drop_reason why = WP_DROP_IP_FRAG;

	if (!q)
		q = ipq_create(pc, cb);
	if (cb->flags & WP_IPCB_FRAG_LAST) {
		/* The last fragment fixes the length: nothing may end past
		 * it, and a second last fragment must agree. */
		if (end < q->len ||
		    ((q->flags & WP_IPQ_LAST_IN) && end != q->len))
			goto out_kill;
		q->flags |= WP_IPQ_LAST_IN;
		q->len = end;
	} else {
		/* RFC 791 3.2: every fragment but the last carries a
		 * multiple of 8 bytes. */
		if (end & 7)
			goto out_kill;
		if (end > q->len) {
			if (q->flags & WP_IPQ_LAST_IN)
				goto out_kill;
			q->len = end;
		}
	}
	if (end == off)
		goto out_kill;
	/* The first fragment at or after this offset; prev ends before. */
	for (f = q->frags.head; f && wp_ip_cb(f)->frag_off < off; f = f->next)
		;
	if (f && wp_ip_cb(f)->frag_off == off && wp_ip_cb(f)->frag_end == end) {
		/* A duplicate (a retransmitting link): harmless, alone. */
		wp_kfree_skb_reason(skb, WP_DROP_IP_FRAG_DUP);
		return NULL;
	}
	prev = f ? f->prev : q->frags.tail;
	if ((f && wp_ip_cb(f)->frag_off < end) ||
	    (prev && wp_ip_cb(prev)->frag_end > off)) {
		/* RFC 5722: overlapping fragments are an attack. */
		WP_MIB_INC(pc, ReasmOverlaps);
		why = WP_DROP_IP_FRAG_OVERLAP;
		goto out_kill;
	}
	if (q->nfrags >= pc->net->cfg.ipfrag_max_frags) {
		why = WP_DROP_IP_REASM_MEM;
		goto out_kill;
	}
	/* Insert before f (at the tail when there is none). */
	if (!f) {
		wp_skb_queue_tail(&q->frags, skb);
	} else if (!f->prev) {
		wp_skb_queue_head(&q->frags, skb);
	} else {
		skb->prev = f->prev;
		skb->next = f;
		f->prev->next = skb;
		f->prev = skb;
		q->frags.qlen++;
		q->frags.bytes += skb->len;
	}
	q->meat += end - off;
	q->nfrags++;
	q->mem += wp_skb_truesize(skb);
	pc->frags.bufs++;
	atomic_fetch_add_explicit(&pc->net->frag_mem, wp_skb_truesize(skb),
				  memory_order_relaxed);
	if (off == 0)
		q->flags |= WP_IPQ_FIRST_IN;
	if ((q->flags & (WP_IPQ_FIRST_IN | WP_IPQ_LAST_IN)) ==
		    (WP_IPQ_FIRST_IN | WP_IPQ_LAST_IN) &&
	    q->meat == q->len)
		return ipq_reasm(pc, q);
	ipfrag_evict(pc);
	return NULL;

out_kill:
	wp_kfree_skb_reason(skb, why);
	ipq_fail(pc, q, why);
	return NULL;
}

void wp__ipfrag_timer(struct wp_net_cpu *pc)
{
	struct wp_ipfrag_table *t = &pc->frags;
	struct wp_ipq *q;

	while ((q = t->lru_head) && q->expires <= pc->now) {
		WP_MIB_INC(pc, ReasmTimeout);
		/* RFC 792: time exceeded only with fragment zero in hand
		 * (its header and first 8 bytes are the quote). */
		if (q->flags & WP_IPQ_FIRST_IN)
			wp__icmp_send(pc, q->frags.head, WP_ICMP_TIME_EXCEEDED,
				      WP_ICMP_EXC_FRAGTIME, 0);
		ipq_fail(pc, q, WP_DROP_IP_REASM_TIMEOUT);
	}
}

/* --- fragmentation -----------------------------------------------------------
 */

/*
 * Linux ip_options_fragment: fragments after the first keep only the
 * options whose copied flag (RFC 791 3.1, the type's top bit) is set;
 * the others become NOPs so every fragment has the same header length.
 * The options were walked by the parser (wp_ipv4_options_check): each
 * length byte is there and in range; the loop checks again anyway.
 */
static void ip_options_fragment(uint8_t *opt, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t type = opt[i], olen;

		if (type == WP_IPOPT_END)
			break;
		if (type == WP_IPOPT_NOOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = opt[i + 1];
		if (olen < 2 || i + olen > len)
			break;
		if (!(type & 0x80))
			memset(opt + i, WP_IPOPT_NOOP, olen);
		i += olen;
	}
}

int wp__ip_fragment(struct wp_net_cpu *pc, struct wp_skb *skb,
		    const struct wp_ipv4_repr *r, uint32_t nexthop)
{
	uint32_t hl = (uint32_t)wp_ipv4_hdr_len(r);
	uint32_t mtu = pc->net->mtu, plen = r->payload_len, off = 0;
	uint32_t step = (mtu - hl) & ~7u;
	uint8_t later_opts[WP_IPV4_OPTS_MAX];
	const uint8_t *payload = skb->data + hl;
	int ret = 0;

	if (mtu < hl + 8) {
		WP_MIB_INC(pc, FragFails);
		wp_kfree_skb_reason(skb, WP_DROP_FRAG_NEEDED);
		return -EMSGSIZE;
	}
	if (r->options_len) {
		memcpy(later_opts, r->options, r->options_len);
		ip_options_fragment(later_opts, r->options_len);
	}
	while (off < plen) {
		uint32_t chunk = plen - off < step ? plen - off : step;
		struct wp_ipv4_repr fr = *r;
		struct wp_skb *f;
		uint8_t *p;

		f = wp_alloc_skb(wp__net_pool(pc), hl + chunk);
		if (!f) {
			WP_MIB_INC(pc, FragFails);
			wp_kfree_skb_reason(skb, WP_DROP_NOMEM);
			return -ENOBUFS;
		}
		fr.frag_offset = (uint16_t)(r->frag_offset + off);
		fr.mf = off + chunk < plen || r->mf;
		fr.payload_len = (uint16_t)chunk;
		if (off && r->options_len)
			fr.options = later_opts;
		p = wp_skb_put(f, hl + chunk);
		wp_ipv4_emit(&fr, p, hl);
		memcpy(p + hl, payload + off, chunk);
		wp_skb_reset_network_header(f);
		f->tstamp = skb->tstamp;
		f->hash = skb->hash;
		WP_MIB_INC(pc, FragCreates);
		ret = wp__neigh_output(pc, f, nexthop);
		if (ret)
			break;
		off += chunk;
	}
	if (ret) {
		/* The rest would be useless without the lost fragment. */
		WP_MIB_INC(pc, FragFails);
		wp_kfree_skb_reason(skb, WP_DROP_NOMEM);
		return ret;
	}
	WP_MIB_INC(pc, FragOKs);
	wp_consume_skb(skb);
	return ret;
}
