// SPDX-License-Identifier: MIT
/*
 * The neighbour table (Linux net/core/neighbour.c, for ARP): an IPv4
 * address -> MAC cache with the NUD state machine
 *
 *   (none) --output--> INCOMPLETE --reply--> REACHABLE --reachable_time-->
 * STALE INCOMPLETE --mcast_solicit probes unanswered--> FAILED (queue dropped)
 *   STALE --output--> DELAY --delay_first_probe--> PROBE --ucast_solicit-->
 * FAILED DELAY/PROBE --reply--> REACHABLE;  FAILED --output--> INCOMPLETE
 *   PERMANENT: static, never changed by ARP, never evicted
 *
 * Packets for an INCOMPLETE entry wait on its queue (neigh_queue of
 * them; a full queue drops its oldest, as Linux does, ARP_QUEUE_FULL),
 * and all queues together hold at most neigh_queue_total: they hold RX
 * pool buffers, which a flood toward dead addresses must not drain.
 * The table holds neigh_max entries; creating one more evicts the entry
 * least recently updated that is not PERMANENT.
 *
 * Threads: every core resolves through the table under its mutex; frames
 * are built and sent after the lock is dropped, on the calling core's TX
 * queue. The timers of all entries run on core 0 (its hook), which also
 * sends the retries. Each entry's deadline feeds the table's next_timer,
 * so the hook costs one load while no deadline is due.
 */
#include "net/net_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"

/* Where a released skb goes once the lock is dropped (skb->cb). */
struct neigh_cb {
	struct wp_eth_addr dst;
};

static struct neigh_cb *neigh_cb(struct wp_skb *skb)
{
	return (struct neigh_cb *)(void *)skb->cb;
}

const char *wp_nud_state_name(int state)
{
	switch (state) {
	case WP_NUD_INCOMPLETE:
		return "INCOMPLETE";
	case WP_NUD_REACHABLE:
		return "REACHABLE";
	case WP_NUD_STALE:
		return "STALE";
	case WP_NUD_DELAY:
		return "DELAY";
	case WP_NUD_PROBE:
		return "PROBE";
	case WP_NUD_FAILED:
		return "FAILED";
	case WP_NUD_PERMANENT:
		return "PERMANENT";
	default:
		return "NONE";
	}
}

/* States with a usable lladdr (Linux NUD_VALID without NOARP). */
static bool nud_valid(uint8_t s)
{
	return s & (WP_NUD_REACHABLE | WP_NUD_STALE | WP_NUD_DELAY |
		    WP_NUD_PROBE | WP_NUD_PERMANENT);
}

int wp__neigh_init(struct wp_net *net)
{
	struct wp_neigh_table *t = &net->neigh;
	uint32_t nb = 1;

	while (nb < net->cfg.neigh_max)
		nb <<= 1;
	t->max = net->cfg.neigh_max;
	t->slots = calloc(t->max, sizeof(*t->slots));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	if (!t->slots || !t->buckets) {
		free(t->slots);
		free(t->buckets);
		return -ENOMEM;
	}
	t->nbuckets = nb;
	for (uint32_t i = 0; i < nb; i++)
		t->buckets[i] = -1;
	for (uint32_t i = 0; i < t->max; i++)
		wp_skb_queue_init(&t->slots[i].arp_queue);
	t->count = 0;
	t->rng = net->cfg.seed ? net->cfg.seed : 1;
	atomic_init(&t->next_timer, WP_TIME_NEVER);
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void wp__neigh_destroy(struct wp_net *net)
{
	struct wp_neigh_table *t = &net->neigh;

	if (!t->slots)
		return;
	for (uint32_t i = 0; i < t->max; i++)
		wp_skb_queue_purge(&t->slots[i].arp_queue, WP_DROP_ARP_FAILED);
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t->buckets);
	t->slots = NULL;
}

static uint32_t neigh_bucket(const struct wp_neigh_table *t, uint32_t ip)
{
	return wp__net_hash32(ip) & (t->nbuckets - 1);
}

static struct wp_neigh *neigh_find(const struct wp_neigh_table *t, uint32_t ip)
{
	for (int32_t i = t->buckets[neigh_bucket(t, ip)]; i >= 0;
	     i = t->slots[i].hnext)
		if (t->slots[i].ip == ip)
			return &t->slots[i];
	return NULL;
}

/* The entry's queue, counted table-wide. Under the table lock. */
static void aq_push(struct wp_neigh_table *t, struct wp_neigh *n,
		    struct wp_skb *skb)
{
	wp_skb_queue_tail(&n->arp_queue, skb);
	t->queued++;
}

static struct wp_skb *aq_pop(struct wp_neigh_table *t, struct wp_neigh *n)
{
	struct wp_skb *skb = wp_skb_dequeue(&n->arp_queue);

	if (skb)
		t->queued--;
	return skb;
}

/* xorshift64: the jitter of reachable_time, under the table lock. */
static uint64_t neigh_rand(struct wp_neigh_table *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

/* Linux neigh_rand_reach_time: uniform in [base/2, 3*base/2). */
static uint64_t rand_reach_time(struct wp_net *net)
{
	uint64_t base = net->cfg.base_reachable_time_ns;

	return base / 2 + neigh_rand(&net->neigh) % base;
}

static void neigh_arm(struct wp_neigh_table *t, struct wp_neigh *n,
		      uint64_t when)
{
	n->timer = when;
	if (when < atomic_load_explicit(&t->next_timer, memory_order_relaxed))
		atomic_store_explicit(&t->next_timer, when,
				      memory_order_relaxed);
}

static void neigh_set_state(struct wp_neigh *n, uint8_t state, uint64_t now)
{
	n->state = state;
	n->updated = now;
	n->probes = 0;
}

/* Take n out of the table; its queue goes to `dead` for the caller. */
static void neigh_remove(struct wp_neigh_table *t, struct wp_neigh *n,
			 struct wp_skb_queue *dead)
{
	int32_t idx = (int32_t)(n - t->slots);
	int32_t *pp = &t->buckets[neigh_bucket(t, n->ip)];
	struct wp_skb *skb;

	while (*pp != idx)
		pp = &t->slots[*pp].hnext;
	*pp = n->hnext;
	while ((skb = aq_pop(t, n)))
		wp_skb_queue_tail(dead, skb);
	n->state = WP_NUD_NONE;
	n->timer = WP_TIME_NEVER;
	t->count--;
}

/*
 * A new entry for ip, evicting the least recently updated non-permanent
 * entry when the table is full (gc_thresh3 reached: forced gc). NULL if
 * every entry is permanent.
 */
static struct wp_neigh *neigh_create(struct wp_net *net, uint32_t ip,
				     uint64_t now, struct wp_skb_queue *dead)
{
	struct wp_neigh_table *t = &net->neigh;
	struct wp_neigh *n = NULL;
	uint32_t b;

	if (t->count == t->max) {
		struct wp_neigh *old = NULL;

		for (uint32_t i = 0; i < t->max; i++) {
			struct wp_neigh *c = &t->slots[i];

			if (c->state == WP_NUD_PERMANENT)
				continue;
			if (!old || c->updated < old->updated)
				old = c;
		}
		if (!old)
			return NULL;
		neigh_remove(t, old, dead);
	}
	for (uint32_t i = 0; i < t->max; i++) {
		if (t->slots[i].state == WP_NUD_NONE) {
			n = &t->slots[i];
			break;
		}
	}
	n->ip = ip;
	memset(&n->lladdr, 0, sizeof(n->lladdr));
	n->confirmed = n->used = n->updated = now;
	n->timer = WP_TIME_NEVER;
	n->probes = 0;
	n->reachable_time = rand_reach_time(net);
	b = neigh_bucket(t, ip);
	n->hnext = t->buckets[b];
	t->buckets[b] = (int32_t)(n - t->slots);
	t->count++;
	return n;
}

/* Move n's queue to `out`, each skb marked with n's lladdr. */
static void neigh_release_queue(struct wp_neigh_table *t, struct wp_neigh *n,
				struct wp_skb_queue *out)
{
	struct wp_skb *skb;

	while ((skb = aq_pop(t, n))) {
		neigh_cb(skb)->dst = n->lladdr;
		wp_skb_queue_tail(out, skb);
	}
}

/* Outside the lock: transmit what was released, on this core. */
static void neigh_send_released(struct wp_net_cpu *pc, struct wp_skb_queue *q)
{
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(q))) {
		struct wp_eth_addr dst = neigh_cb(skb)->dst;

		wp__eth_xmit(pc, skb, &dst, WP_ETH_P_IP);
	}
}

static void neigh_drop_dead(struct wp_net_cpu *pc, struct wp_skb_queue *dead,
			    enum wp_drop_reason why)
{
	struct wp_skb *skb;

	while ((skb = wp_skb_dequeue(dead))) {
		WP_MIB_INC(pc, ArpUnresolvedDiscards);
		wp_kfree_skb_reason(skb, why);
	}
}

/* RFC 1112 6.4: 01:00:5e and the group's low 23 bits. */
static void ip_mc_map(uint32_t group, struct wp_eth_addr *mac)
{
	mac->b[0] = 0x01;
	mac->b[1] = 0x00;
	mac->b[2] = 0x5e;
	mac->b[3] = (uint8_t)((group >> 16) & 0x7f);
	mac->b[4] = (uint8_t)(group >> 8);
	mac->b[5] = (uint8_t)group;
}

int wp__neigh_output(struct wp_net_cpu *pc, struct wp_skb *skb,
		     uint32_t nexthop)
{
	struct wp_net *net = pc->net;
	struct wp_neigh_table *t = &net->neigh;
	struct wp_skb_queue dead;
	struct wp_eth_addr dst;
	struct wp_neigh *n;
	bool probe = false;
	uint64_t now = pc->now;

	/* Group destinations need no resolution. */
	if (wp__net_is_bcast(net, nexthop))
		return wp__eth_xmit(pc, skb, NULL, WP_ETH_P_IP);
	if (wp_ipv4_is_multicast(nexthop)) {
		ip_mc_map(nexthop, &dst);
		return wp__eth_xmit(pc, skb, &dst, WP_ETH_P_IP);
	}

	wp_skb_queue_init(&dead);
	pthread_mutex_lock(&t->lock);
	n = neigh_find(t, nexthop);
	if (!n) {
		n = neigh_create(net, nexthop, now, &dead);
		if (!n) {
			pthread_mutex_unlock(&t->lock);
			WP_MIB_INC(pc, ArpTableFulls);
			WP_MIB_INC(pc, OutDiscards);
			wp_kfree_skb_reason(skb, WP_DROP_NEIGH_CREATEFAIL);
			return -ENOBUFS;
		}
		neigh_set_state(n, WP_NUD_INCOMPLETE, now);
		probe = true;
	}
	n->used = now;
	switch (n->state) {
	case WP_NUD_STALE:
		/* Use it, and check on it if nobody confirms it soon. */
		neigh_set_state(n, WP_NUD_DELAY, now);
		neigh_arm(t, n, now + net->cfg.delay_first_probe_ns);
		/* fall through */
	case WP_NUD_REACHABLE:
	case WP_NUD_DELAY:
	case WP_NUD_PROBE:
	case WP_NUD_PERMANENT:
		dst = n->lladdr;
		pthread_mutex_unlock(&t->lock);
		neigh_drop_dead(pc, &dead, WP_DROP_ARP_FAILED);
		return wp__eth_xmit(pc, skb, &dst, WP_ETH_P_IP);
	case WP_NUD_FAILED:
		neigh_set_state(n, WP_NUD_INCOMPLETE, now);
		probe = true;
		break;
	default:
		break;
	}
	/* INCOMPLETE: wait for the reply, the oldest waiting skb going
	 * first if the queue is full (Linux __neigh_event_send). */
	if (probe) {
		n->probes = 1;
		neigh_arm(t, n, now + net->cfg.retrans_time_ns);
	}
	if (n->arp_queue.qlen >= net->cfg.neigh_queue ||
	    (t->queued >= net->cfg.neigh_queue_total && n->arp_queue.qlen)) {
		struct wp_skb *old = aq_pop(t, n);

		WP_MIB_INC(pc, ArpUnresolvedDiscards);
		WP_MIB_INC(pc, OutDiscards);
		wp_kfree_skb_reason(old, WP_DROP_ARP_QUEUE_FULL);
	} else if (t->queued >= net->cfg.neigh_queue_total) {
		/* Others hold the table's share: this one cannot wait. */
		pthread_mutex_unlock(&t->lock);
		WP_MIB_INC(pc, ArpUnresolvedDiscards);
		WP_MIB_INC(pc, OutDiscards);
		wp_kfree_skb_reason(skb, WP_DROP_ARP_QUEUE_FULL);
		neigh_drop_dead(pc, &dead, WP_DROP_ARP_FAILED);
		if (probe)
			wp__arp_send(pc, WP_ARPOP_REQUEST, nexthop, NULL, NULL);
		return -ENOBUFS;
	}
	aq_push(t, n, skb);
	pthread_mutex_unlock(&t->lock);
	neigh_drop_dead(pc, &dead, WP_DROP_ARP_FAILED);
	if (probe)
		wp__arp_send(pc, WP_ARPOP_REQUEST, nexthop, NULL, NULL);
	return 0;
}

void wp__neigh_update(struct wp_net_cpu *pc, uint32_t ip,
		      const struct wp_eth_addr *mac, bool solicited,
		      bool create)
{
	struct wp_net *net = pc->net;
	struct wp_neigh_table *t = &net->neigh;
	struct wp_skb_queue out, dead;
	struct wp_neigh *n;
	uint64_t now = pc->now;
	bool same;

	wp_skb_queue_init(&out);
	wp_skb_queue_init(&dead);
	pthread_mutex_lock(&t->lock);
	n = neigh_find(t, ip);
	if (!n && create) {
		n = neigh_create(net, ip, now, &dead);
		if (!n)
			WP_MIB_INC(pc, ArpTableFulls);
		else
			neigh_set_state(n, WP_NUD_NONE, now);
	}
	if (!n || n->state == WP_NUD_PERMANENT)
		goto out_unlock;
	same = nud_valid(n->state) && wp_eth_addr_equal(&n->lladdr, mac);
	n->lladdr = *mac;
	if (solicited) {
		neigh_set_state(n, WP_NUD_REACHABLE, now);
		n->confirmed = now;
		n->reachable_time = rand_reach_time(net);
		neigh_arm(t, n, now + n->reachable_time);
	} else if (!same) {
		/* A new address, or the first one: usable, unconfirmed.
		 * (The same address keeps its state: a request proves
		 * nothing, but it does not unprove REACHABLE either.) */
		neigh_set_state(n, WP_NUD_STALE, now);
		neigh_arm(t, n, now + net->cfg.gc_stale_time_ns);
	}
	neigh_release_queue(t, n, &out);
out_unlock:
	pthread_mutex_unlock(&t->lock);
	neigh_drop_dead(pc, &dead, WP_DROP_ARP_FAILED);
	neigh_send_released(pc, &out);
}

/* A probe the timer decided to send once the lock is dropped. */
struct neigh_probe {
	uint32_t ip;
	bool unicast;
	struct wp_eth_addr mac;
};

/*
 * One entry's deadline passed (Linux neigh_timer_handler). Returns true
 * if it wants a probe sent (filled in *pr).
 */
static bool neigh_expire(struct wp_net *net, struct wp_neigh *n, uint64_t now,
			 struct neigh_probe *pr, struct wp_skb_queue *dead)
{
	struct wp_neigh_table *t = &net->neigh;
	const struct wp_net_config *c = &net->cfg;

	n->timer = WP_TIME_NEVER;
	switch (n->state) {
	case WP_NUD_REACHABLE:
		if (n->confirmed + n->reachable_time > now) {
			neigh_arm(t, n, n->confirmed + n->reachable_time);
			return false;
		}
		neigh_set_state(n, WP_NUD_STALE, now);
		neigh_arm(t, n, now + c->gc_stale_time_ns);
		return false;
	case WP_NUD_DELAY:
		if (n->confirmed >= n->updated) {
			/* Confirmed while we waited. */
			neigh_set_state(n, WP_NUD_REACHABLE, now);
			neigh_arm(t, n, n->confirmed + n->reachable_time);
			return false;
		}
		neigh_set_state(n, WP_NUD_PROBE, now);
		/* fall through */
	case WP_NUD_PROBE:
		if (n->probes >= c->ucast_solicit) {
			neigh_set_state(n, WP_NUD_FAILED, now);
			neigh_arm(t, n, now + c->gc_stale_time_ns);
			return false;
		}
		n->probes++;
		pr->ip = n->ip;
		pr->unicast = true;
		pr->mac = n->lladdr;
		neigh_arm(t, n, now + c->retrans_time_ns);
		return true;
	case WP_NUD_INCOMPLETE:
		if (n->probes >= c->mcast_solicit) {
			struct wp_skb *skb;

			/* Nobody answered: what waited is undeliverable. */
			neigh_set_state(n, WP_NUD_FAILED, now);
			while ((skb = aq_pop(t, n)))
				wp_skb_queue_tail(dead, skb);
			neigh_arm(t, n, now + c->gc_stale_time_ns);
			return false;
		}
		n->probes++;
		pr->ip = n->ip;
		pr->unicast = false;
		neigh_arm(t, n, now + c->retrans_time_ns);
		return true;
	case WP_NUD_STALE:
	case WP_NUD_FAILED:
		/* gc_stale_time without use: forget it. */
		if (n->used + c->gc_stale_time_ns > now) {
			neigh_arm(t, n, n->used + c->gc_stale_time_ns);
			return false;
		}
		neigh_remove(t, n, dead);
		return false;
	default:
		return false;
	}
}

void wp__neigh_timer(struct wp_net_cpu *pc)
{
	struct wp_net *net = pc->net;
	struct wp_neigh_table *t = &net->neigh;
	struct wp_skb_queue out, dead;
	struct neigh_probe probes[32];
	uint32_t nprobes = 0;
	uint64_t now = pc->now;
	bool again;

	if (atomic_load_explicit(&t->next_timer, memory_order_relaxed) > now)
		return;
	wp_skb_queue_init(&out);
	wp_skb_queue_init(&dead);
	do {
		again = false;
		pthread_mutex_lock(&t->lock);
		atomic_store_explicit(&t->next_timer, WP_TIME_NEVER,
				      memory_order_relaxed);
		for (uint32_t i = 0; i < t->max; i++) {
			struct wp_neigh *n = &t->slots[i];

			if (n->state == WP_NUD_NONE)
				continue;
			/* Resolved while skbs waited (a static entry was
			 * added): send them now. */
			if (nud_valid(n->state) && n->arp_queue.qlen)
				neigh_release_queue(t, n, &out);
			if (n->timer > now) {
				if (n->timer != WP_TIME_NEVER)
					neigh_arm(t, n, n->timer);
				continue;
			}
			if (nprobes == WP_ARRAY_SIZE(probes)) {
				/* Out of room: this one waits a pass. */
				neigh_arm(t, n, n->timer);
				again = true;
				continue;
			}
			if (neigh_expire(net, n, now, &probes[nprobes], &dead))
				nprobes++;
		}
		pthread_mutex_unlock(&t->lock);
		neigh_drop_dead(pc, &dead, WP_DROP_ARP_FAILED);
		neigh_send_released(pc, &out);
		for (uint32_t i = 0; i < nprobes; i++)
			wp__arp_send(pc, WP_ARPOP_REQUEST, probes[i].ip,
				     probes[i].unicast ? &probes[i].mac : NULL,
				     NULL);
		nprobes = 0;
	} while (again);
}

/* --- control path ------------------------------------------------------- */

int wp_neigh_add_static(struct wp_net *net, uint32_t ip, const uint8_t mac[6])
{
	struct wp_neigh_table *t = &net->neigh;
	uint64_t now = wp_clock_now(net->clock);
	struct wp_skb_queue dead;
	struct wp_eth_addr m;
	struct wp_neigh *n;
	bool waiting;

	memcpy(m.b, mac, 6);
	if (!wp_eth_addr_is_valid(&m) || wp_ipv4_is_martian_src(ip) ||
	    wp__net_is_bcast(net, ip))
		return -EINVAL;
	wp_skb_queue_init(&dead);
	pthread_mutex_lock(&t->lock);
	n = neigh_find(t, ip);
	if (!n)
		n = neigh_create(net, ip, now, &dead);
	if (!n) {
		pthread_mutex_unlock(&t->lock);
		return -ENOSPC;
	}
	n->lladdr = m;
	neigh_set_state(n, WP_NUD_PERMANENT, now);
	n->timer = WP_TIME_NEVER;
	waiting = n->arp_queue.qlen != 0;
	if (waiting)
		neigh_arm(t, n, 0); /* core 0 sends them at its next run */
	pthread_mutex_unlock(&t->lock);
	/* An evicted entry's skbs: no core context here, drop them. */
	wp_skb_queue_purge(&dead, WP_DROP_ARP_FAILED);
	if (waiting)
		wp_cpu_kick(net->cpus[0]);
	return 0;
}

int wp_neigh_del(struct wp_net *net, uint32_t ip)
{
	struct wp_neigh_table *t = &net->neigh;
	struct wp_skb_queue dead;
	struct wp_neigh *n;

	wp_skb_queue_init(&dead);
	pthread_mutex_lock(&t->lock);
	n = neigh_find(t, ip);
	if (n)
		neigh_remove(t, n, &dead);
	pthread_mutex_unlock(&t->lock);
	wp_skb_queue_purge(&dead, WP_DROP_ARP_FAILED);
	return n ? 0 : -ENOENT;
}

int wp_neigh_lookup(const struct wp_net *net, uint32_t ip, int *state,
		    uint8_t mac[6])
{
	struct wp_neigh_table *t = (struct wp_neigh_table *)&net->neigh;
	struct wp_neigh *n;
	int ret = -ENOENT;

	pthread_mutex_lock(&t->lock);
	n = neigh_find(t, ip);
	if (n) {
		if (state)
			*state = n->state;
		if (mac)
			memcpy(mac, n->lladdr.b, 6);
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static void print_ip(FILE *out, uint32_t a)
{
	fprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		a & 0xff);
}

void wp_net_print_neigh(const struct wp_net *net, FILE *out)
{
	struct wp_neigh_table *t = (struct wp_neigh_table *)&net->neigh;

	pthread_mutex_lock(&t->lock);
	for (uint32_t i = 0; i < t->max; i++) {
		const struct wp_neigh *n = &t->slots[i];

		if (n->state == WP_NUD_NONE)
			continue;
		print_ip(out, n->ip);
		fprintf(out, " dev %s", net->nic->name);
		if (nud_valid(n->state))
			fprintf(out, " lladdr %02x:%02x:%02x:%02x:%02x:%02x",
				n->lladdr.b[0], n->lladdr.b[1], n->lladdr.b[2],
				n->lladdr.b[3], n->lladdr.b[4], n->lladdr.b[5]);
		fprintf(out, " %s\n", wp_nud_state_name(n->state));
	}
	pthread_mutex_unlock(&t->lock);
}
