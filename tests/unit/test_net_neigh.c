// SPDX-License-Identifier: MIT
/*
 * The neighbour table (src/net/neigh.c) on virtual time: the bounded
 * queue of an unresolved neighbour, retries and failure with Linux's
 * timings, REACHABLE -> STALE -> DELAY -> PROBE, garbage collection,
 * static entries, the table bound and its eviction, `ip neigh`.
 */
#include "test_net_common.h"

static int setup(void **state)
{
	*state = nfx_new(1, 1, NULL);
	nfx_clear_tx(*state);
	return 0;
}

static int teardown(void **state)
{
	nfx_free(*state);
	return 0;
}

static int state_of(struct nfx *fx, uint32_t ip)
{
	int st = -1;

	if (wp_neigh_lookup(fx->net, ip, &st, NULL))
		return -1;
	return st;
}

/* A datagram to ip:port with one payload byte, the tag. */
static int send_tagged(struct nfx *fx, uint32_t ip, uint8_t tag)
{
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	int ret;

	assert_non_null(skb);
	*wp_skb_put(skb, 1) = tag;
	ret = wp_udp_output(fx->net, 0, skb, 0, 1000, ip, 2000);
	nfx_drain_tx(fx);
	return ret;
}

static void reply_from(struct nfx *fx, const uint8_t *mac, uint32_t ip)
{
	uint8_t f[64];

	arp_frame(f, our_mac, WP_ARPOP_REPLY, mac, ip, our_mac, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
}

static uint32_t count_arp_requests(struct nfx *fx, uint32_t ip, bool *unicast)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fx->ntx; i++) {
		struct parsed p;

		parse_frame(&fx->tx[i], &p);
		if (p.is_arp && p.arp.op == WP_ARPOP_REQUEST &&
		    p.arp.tpa == ip) {
			n++;
			if (unicast)
				*unicast =
					!wp_eth_addr_is_broadcast(&p.eth.dst);
		}
	}
	return n;
}

static void short_queue(struct wp_net_config *c)
{
	c->neigh_queue = 3;
}

static int setup_short_queue(void **state)
{
	*state = nfx_new(1, 1, short_queue);
	nfx_clear_tx(*state);
	return 0;
}

static void queue_keeps_the_newest(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	struct parsed p;

	for (uint8_t tag = 1; tag <= 5; tag++)
		assert_int_equal(send_tagged(fx, PEER_IP, tag), 0);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 1);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_INCOMPLETE);
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpUnresolvedDiscards, 2);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_QUEUE_FULL), 2);
	nfx_clear_tx(fx);
	reply_from(fx, peer_mac, PEER_IP);
	assert_int_equal(fx->ntx, 3);
	for (uint32_t i = 0; i < 3; i++) {
		parse_frame(&fx->tx[i], &p);
		assert_memory_equal(p.eth.dst.b, peer_mac, 6);
		assert_int_equal(p.l4[8], 3 + i); /* oldest two were dropped */
	}
}

/* mcast_solicit = 3 probes, retrans_time 1 s apart, then FAILED. */
/* Linux unres_qlen: 101 wait by default; a burst survives resolution. */
static void default_queue_holds_a_burst(void **state)
{
	struct nfx *fx = *state;

	for (int i = 0; i < 102; i++)
		assert_int_equal(send_tagged(fx, PEER_IP, (uint8_t)i), 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_QUEUE_FULL), 1);
	nfx_clear_tx(fx);
	reply_from(fx, peer_mac, PEER_IP);
	assert_int_equal(fx->ntx, 101);
	for (uint32_t i = 0; i < 101; i++) {
		struct parsed p;

		parse_frame(&fx->tx[i], &p);
		assert_int_equal(p.l4[8], (uint8_t)(i + 1));
	}
}

static void small_total(struct wp_net_config *c)
{
	c->neigh_queue_total = 4;
}

static int setup_small_total(void **state)
{
	*state = nfx_new(1, 1, small_total);
	nfx_clear_tx(*state);
	return 0;
}

/* All the queues together are bounded: a newcomer past the bound is
 * dropped, a neighbour that holds some trades its oldest. */
static void table_wide_queue_bound(void **state)
{
	struct nfx *fx = *state;
	uint32_t other = wp_ipv4_addr(10, 0, 0, 3);

	for (uint8_t i = 0; i < 4; i++)
		assert_int_equal(send_tagged(fx, PEER_IP, i), 0);
	assert_int_equal(send_tagged(fx, other, 9), -ENOBUFS);
	/* it still asked who has the address */
	assert_int_equal(count_arp_requests(fx, other, NULL), 1);
	assert_int_equal(state_of(fx, other), WP_NUD_INCOMPLETE);
	assert_int_equal(send_tagged(fx, PEER_IP, 4), 0); /* drops tag 0 */
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_QUEUE_FULL), 2);
	nfx_clear_tx(fx);
	reply_from(fx, peer_mac, PEER_IP);
	assert_int_equal(fx->ntx, 4);
	/* room again */
	assert_int_equal(send_tagged(fx, other, 9), 0);
	/* the other entry still times out normally */
	nfx_advance(fx, 4 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, other), WP_NUD_FAILED);
}

static void unanswered_resolution_fails(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	assert_int_equal(send_tagged(fx, PEER_IP, 1), 0);
	nfx_advance(fx, WP_NSEC_PER_SEC - 1);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 1);
	nfx_advance(fx, 1);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 2);
	nfx_advance(fx, WP_NSEC_PER_SEC);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 3);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_INCOMPLETE);
	nfx_advance(fx, WP_NSEC_PER_SEC);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 3);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_FAILED);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_FAILED), 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpUnresolvedDiscards, 1);
	assert_int_equal(m.ArpOutRequests, 4); /* with the gratuitous one */
	out = open_memstream(&buf, &len);
	wp_net_print_neigh(fx->net, out);
	fclose(out);
	assert_string_equal(buf, "10.0.0.1 dev wp0 FAILED\n");
	free(buf);
	/* trying again starts over */
	nfx_clear_tx(fx);
	assert_int_equal(send_tagged(fx, PEER_IP, 2), 0);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_INCOMPLETE);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 1);
	/* a FAILED entry nobody uses goes after gc_stale_time */
	nfx_advance(fx, 3 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_FAILED);
	nfx_advance(fx, 60 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), -1);
}

static void reachable_stale_delay_probe(void **state)
{
	struct nfx *fx = *state;
	bool unicast = false;

	send_tagged(fx, PEER_IP, 1);
	reply_from(fx, peer_mac, PEER_IP);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_REACHABLE);
	/* base_reachable_time 30 s, randomised to [15, 45) s */
	nfx_advance(fx, 14 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_REACHABLE);
	nfx_advance(fx, 31 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_STALE);
	/* using a STALE entry sends at once and starts DELAY */
	nfx_clear_tx(fx);
	send_tagged(fx, PEER_IP, 2);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_DELAY);
	/* delay_first_probe_time 5 s: then unicast probes */
	nfx_advance(fx, 5 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_PROBE);
	assert_int_equal(count_arp_requests(fx, PEER_IP, &unicast), 1);
	assert_true(unicast);
	/* while probing, traffic still flows */
	send_tagged(fx, PEER_IP, 3);
	assert_int_equal(fx->ntx, 3);
	/* an answer: REACHABLE again */
	reply_from(fx, peer_mac, PEER_IP);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_REACHABLE);
}

static void unanswered_probes_fail(void **state)
{
	struct nfx *fx = *state;

	send_tagged(fx, PEER_IP, 1);
	reply_from(fx, peer_mac, PEER_IP);
	nfx_advance(fx, 46 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_STALE);
	send_tagged(fx, PEER_IP, 2);
	nfx_clear_tx(fx);
	nfx_advance(fx, 5 * WP_NSEC_PER_SEC + 3 * WP_NSEC_PER_SEC);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 3);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_FAILED);
}

/* A STALE entry nobody uses is forgotten after gc_stale_time. */
static void stale_entries_are_collected(void **state)
{
	struct nfx *fx = *state;

	nfx_learn_peer(fx);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_STALE);
	nfx_advance(fx, 59 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_STALE);
	nfx_advance(fx, 2 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), -1);
}

static void static_entries(void **state)
{
	struct nfx *fx = *state;
	const uint8_t mac2[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	uint8_t m[6];
	int st;

	assert_int_equal(wp_neigh_add_static(fx->net, PEER_IP, mcast), -EINVAL);
	assert_int_equal(wp_neigh_add_static(
				 fx->net, wp_ipv4_addr(127, 0, 0, 1), peer_mac),
			 -EINVAL);
	assert_int_equal(wp_neigh_add_static(fx->net, PEER_IP, peer_mac), 0);
	/* used without any ARP */
	send_tagged(fx, PEER_IP, 1);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(count_arp_requests(fx, PEER_IP, NULL), 0);
	/* ARP cannot change it */
	reply_from(fx, mac2, PEER_IP);
	assert_int_equal(wp_neigh_lookup(fx->net, PEER_IP, &st, m), 0);
	assert_int_equal(st, WP_NUD_PERMANENT);
	assert_memory_equal(m, peer_mac, 6);
	/* nor time */
	nfx_advance(fx, 600 * WP_NSEC_PER_SEC);
	assert_int_equal(state_of(fx, PEER_IP), WP_NUD_PERMANENT);
	out = open_memstream(&buf, &len);
	wp_net_print_neigh(fx->net, out);
	fclose(out);
	assert_string_equal(buf, "10.0.0.1 dev wp0 lladdr 02:00:00:00:00:01 "
				 "PERMANENT\n");
	free(buf);
	assert_int_equal(wp_neigh_del(fx->net, PEER_IP), 0);
	assert_int_equal(wp_neigh_del(fx->net, PEER_IP), -ENOENT);
}

/* What waited for an address a static entry then supplies goes out at
 * core 0's next run. */
static void static_entry_releases_the_queue(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;

	send_tagged(fx, PEER_IP, 7);
	nfx_clear_tx(fx);
	assert_int_equal(wp_neigh_add_static(fx->net, PEER_IP, peer_mac), 0);
	nfx_run(fx);
	one_ip_frame(fx, &p);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
	assert_int_equal(p.l4[8], 7);
}

static void delete_drops_waiting_packets(void **state)
{
	struct nfx *fx = *state;

	send_tagged(fx, PEER_IP, 1);
	send_tagged(fx, PEER_IP, 2);
	assert_int_equal(wp_neigh_del(fx->net, PEER_IP), 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_FAILED), 2);
	assert_int_equal(state_of(fx, PEER_IP), -1);
}

static void tiny_table(struct wp_net_config *c)
{
	c->neigh_max = 4;
}

static int setup_tiny(void **state)
{
	*state = nfx_new(1, 1, tiny_table);
	nfx_clear_tx(*state);
	return 0;
}

/* The table is bounded: a fifth neighbour evicts the least recently
 * updated one; permanent entries are never evicted. */
static void table_bound_and_eviction(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;

	for (uint8_t h = 21; h <= 24; h++) {
		send_tagged(fx, wp_ipv4_addr(10, 0, 0, h), h);
		nfx_advance(fx, 1000);
	}
	send_tagged(fx, wp_ipv4_addr(10, 0, 0, 25), 25);
	assert_int_equal(state_of(fx, wp_ipv4_addr(10, 0, 0, 21)), -1);
	assert_int_equal(state_of(fx, wp_ipv4_addr(10, 0, 0, 22)),
			 WP_NUD_INCOMPLETE);
	assert_int_equal(state_of(fx, wp_ipv4_addr(10, 0, 0, 25)),
			 WP_NUD_INCOMPLETE);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_FAILED), 1);
	/* fill it with permanent entries: nothing more fits */
	for (uint8_t h = 11; h <= 14; h++)
		assert_int_equal(wp_neigh_add_static(fx->net,
						     wp_ipv4_addr(10, 0, 0, h),
						     peer_mac),
				 0);
	assert_int_equal(wp_neigh_add_static(
				 fx->net, wp_ipv4_addr(10, 0, 0, 15), peer_mac),
			 -ENOSPC);
	assert_int_equal(send_tagged(fx, wp_ipv4_addr(10, 0, 0, 16), 16),
			 -ENOBUFS);
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpTableFulls, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NEIGH_CREATEFAIL), 1);
}

static void with_static(struct wp_net_config *c)
{
	c->nstatic_arp = 1;
	c->static_arp[0].ip = GW_IP;
	memcpy(c->static_arp[0].mac, peer_mac, 6);
}

static int setup_static(void **state)
{
	*state = nfx_new(1, 1, with_static);
	nfx_clear_tx(*state);
	return 0;
}

/* Static entries from the configuration; the default route uses one. */
static void configured_static_entries(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;

	assert_int_equal(state_of(fx, GW_IP), WP_NUD_PERMANENT);
	send_tagged(fx, FAR_IP, 1);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.daddr, FAR_IP);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
}

/* Group destinations need no ARP: broadcast, 01:00:5e multicast. */
static void group_destinations(void **state)
{
	struct nfx *fx = *state;
	const uint8_t want[6] = { 0x01, 0x00, 0x5e, 0x7f, 0x02, 0x03 };
	struct parsed p;

	send_tagged(fx, wp_ipv4_addr(10, 0, 0, 255), 1);
	one_ip_frame(fx, &p);
	assert_true(wp_eth_addr_is_broadcast(&p.eth.dst));
	nfx_clear_tx(fx);
	send_tagged(fx, wp_ipv4_addr(239, 255, 2, 3), 2);
	one_ip_frame(fx, &p);
	assert_memory_equal(p.eth.dst.b, want, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		cmocka_unit_test_setup_teardown(queue_keeps_the_newest,
						setup_short_queue, teardown),
		T(default_queue_holds_a_burst),
		cmocka_unit_test_setup_teardown(table_wide_queue_bound,
						setup_small_total, teardown),
		T(unanswered_resolution_fails),
		T(reachable_stale_delay_probe),
		T(unanswered_probes_fail),
		T(stale_entries_are_collected),
		T(static_entries),
		T(static_entry_releases_the_queue),
		T(delete_drops_waiting_packets),
		cmocka_unit_test_setup_teardown(table_bound_and_eviction,
						setup_tiny, teardown),
		cmocka_unit_test_setup_teardown(configured_static_entries,
						setup_static, teardown),
		T(group_destinations),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
