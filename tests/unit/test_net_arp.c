// SPDX-License-Identifier: MIT
/*
 * ARP (src/net/arp.c) and the link layer's dispatch of it: requests for
 * us answered, what is learnt from whom, every malformed or hostile
 * packet refused and counted, the gratuitous ARP at start.
 */
#include "test_net_common.h"

static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 };

static int setup(void **state)
{
	*state = nfx_new(1, 1, NULL);
	return 0;
}

static int teardown(void **state)
{
	nfx_free(*state);
	return 0;
}

static void expect_no_neigh(struct nfx *fx, uint32_t ip)
{
	assert_int_equal(wp_neigh_lookup(fx->net, ip, NULL, NULL), -ENOENT);
}

static void expect_neigh(struct nfx *fx, uint32_t ip, int state,
			 const uint8_t *mac)
{
	uint8_t m[6];
	int st;

	assert_int_equal(wp_neigh_lookup(fx->net, ip, &st, m), 0);
	assert_string_equal(wp_nud_state_name(st), wp_nud_state_name(state));
	if (mac)
		assert_memory_equal(m, mac, 6);
}

static void gratuitous_arp_at_start(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	struct parsed p;

	/* nfx_new ran the cores once: core 0 announced our address. */
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_true(p.is_arp);
	assert_int_equal(p.arp.op, WP_ARPOP_REQUEST);
	assert_int_equal(p.arp.spa, OUR_IP);
	assert_int_equal(p.arp.tpa, OUR_IP);
	assert_true(wp_eth_addr_is_broadcast(&p.eth.dst));
	assert_int_equal(fx->tx[0].len, WP_ETH_ZLEN); /* padded */
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpOutRequests, 1);
	/* Once only. */
	nfx_clear_tx(fx);
	nfx_advance(fx, 10 * WP_NSEC_PER_SEC);
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(wp_net_start(fx->net), -EALREADY);
}

static void request_for_us_is_answered(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	struct parsed p;
	uint8_t f[64];

	nfx_clear_tx(fx);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_true(p.is_arp);
	assert_int_equal(p.arp.op, WP_ARPOP_REPLY);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
	assert_memory_equal(p.arp.sha.b, our_mac, 6);
	assert_int_equal(p.arp.spa, OUR_IP);
	assert_memory_equal(p.arp.tha.b, peer_mac, 6);
	assert_int_equal(p.arp.tpa, PEER_IP);
	/* A request proves nothing about reachability: STALE. */
	expect_neigh(fx, PEER_IP, WP_NUD_STALE, peer_mac);
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpInRequests, 1);
	assert_int_equal(m.ArpOutReplies, 1);
	assert_int_equal(m.ArpInBad, 0);
}

static void request_for_someone_else_is_ignored(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[64];

	nfx_clear_tx(fx);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  wp_ipv4_addr(10, 0, 0, 77));
	nfx_inject(fx, f, WP_ETH_ZLEN);
	assert_int_equal(fx->ntx, 0);
	expect_no_neigh(fx, PEER_IP);
}

/* Each of these is refused, counted in ArpInBad, answered never. */
static void hostile_arp_is_refused(void **state)
{
	struct nfx *fx = *state;
	const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	const uint8_t zero[6] = { 0 };
	uint64_t bad0 = nfx_dropped(fx, WP_DROP_ARP_BAD);
	struct wp_net_mib m;
	uint8_t f[64];
	size_t n;

	nfx_clear_tx(fx);
	/* truncated: 27 of 28 bytes */
	n = put_eth(f, bcast_mac, peer_mac, WP_ETH_P_ARP);
	put_arp(f + n, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL, OUR_IP);
	nfx_inject(fx, f, n + WP_ARP_HLEN - 1);
	/* a multicast or zero sender hardware address */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, mcast, PEER_IP, NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, zero, PEER_IP, NULL, OUR_IP);
	memcpy(f + 6, peer_mac, 6); /* a sane Ethernet source */
	nfx_inject(fx, f, WP_ETH_ZLEN);
	/* someone claims our address */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, other_mac, OUR_IP, NULL,
		  PEER_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	/* martian senders: loopback, multicast, broadcast, class E */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac,
		  wp_ipv4_addr(127, 0, 0, 1), NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac,
		  wp_ipv4_addr(224, 0, 0, 1), NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac,
		  wp_ipv4_addr(10, 0, 0, 255), NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac,
		  wp_ipv4_addr(240, 0, 0, 1), NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	/* a multicast target */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  wp_ipv4_addr(224, 0, 0, 9));
	nfx_inject(fx, f, WP_ETH_ZLEN);
	/* an opcode that is neither request nor reply */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  OUR_IP);
	f[WP_ETH_HLEN + 7] = 3;
	nfx_inject(fx, f, WP_ETH_ZLEN);
	/* not Ethernet/IPv4 (hlen 8) */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  OUR_IP);
	f[WP_ETH_HLEN + 4] = 8;
	nfx_inject(fx, f, WP_ETH_ZLEN);

	assert_int_equal(fx->ntx, 0);
	expect_no_neigh(fx, PEER_IP);
	nfx_mib(fx, &m);
	assert_int_equal(m.ArpInBad, 11);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ARP_BAD) - bad0, 11);
}

/* RFC 5227: a probe (sender 0.0.0.0) for our address gets an answer. */
static void address_probe_is_answered(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;
	uint8_t f[64];

	nfx_clear_tx(fx);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, other_mac, 0, NULL, OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_int_equal(p.arp.op, WP_ARPOP_REPLY);
	assert_int_equal(p.arp.spa, OUR_IP);
	assert_int_equal(p.arp.tpa, 0);
	assert_memory_equal(p.eth.dst.b, other_mac, 6);
	/* nothing learnt about 0.0.0.0 */
	expect_no_neigh(fx, 0);
	/* a probe for another address: silence */
	nfx_clear_tx(fx);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, other_mac, 0, NULL, PEER_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	assert_int_equal(fx->ntx, 0);
}

/* Send something to the peer: the neighbour becomes INCOMPLETE. */
static void send_to_peer(struct nfx *fx, uint16_t port)
{
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 64);

	assert_non_null(skb);
	memset(wp_skb_put(skb, 10), 0xab, 10);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 4000, PEER_IP, port),
			 0);
	nfx_drain_tx(fx);
}

static void reply_resolves_and_releases_the_queue(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;
	uint8_t f[64];

	nfx_clear_tx(fx);
	send_to_peer(fx, 7);
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_true(p.is_arp);
	assert_int_equal(p.arp.op, WP_ARPOP_REQUEST);
	assert_int_equal(p.arp.tpa, PEER_IP);
	assert_true(wp_eth_addr_is_broadcast(&p.eth.dst));
	expect_neigh(fx, PEER_IP, WP_NUD_INCOMPLETE, NULL);

	/* the reply, unicast to us: REACHABLE, and the datagram goes */
	nfx_clear_tx(fx);
	arp_frame(f, our_mac, WP_ARPOP_REPLY, peer_mac, PEER_IP, our_mac,
		  OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	expect_neigh(fx, PEER_IP, WP_NUD_REACHABLE, peer_mac);
	one_ip_frame(fx, &p);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
	assert_int_equal(p.ip.daddr, PEER_IP);
	assert_int_equal(p.ip.protocol, WP_IPPROTO_UDP);
}

static void broadcast_reply_is_not_a_confirmation(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[64];

	send_to_peer(fx, 7);
	arp_frame(f, bcast_mac, WP_ARPOP_REPLY, peer_mac, PEER_IP, our_mac,
		  OUR_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	expect_neigh(fx, PEER_IP, WP_NUD_STALE, peer_mac);
}

static void gratuitous_arp_refreshes_known_entries_only(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[64];

	/* unknown sender: nothing created (arp_accept = 0) */
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL,
		  PEER_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	arp_frame(f, bcast_mac, WP_ARPOP_REPLY, peer_mac, PEER_IP, bcast_mac,
		  PEER_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	expect_no_neigh(fx, PEER_IP);

	/* known: the new address replaces the old one, STALE */
	nfx_learn_peer(fx);
	expect_neigh(fx, PEER_IP, WP_NUD_STALE, peer_mac);
	arp_frame(f, bcast_mac, WP_ARPOP_REQUEST, other_mac, PEER_IP, NULL,
		  PEER_IP);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	expect_neigh(fx, PEER_IP, WP_NUD_STALE, other_mac);
	assert_int_equal(fx->ntx, 0);
}

static void tagged_request_is_answered_untagged(void **state)
{
	struct nfx *fx = *state;
	struct wp_eth_repr e = { .ethertype = WP_ETH_P_ARP,
				 .vlan = true,
				 .vlan_tci = 100 };
	struct parsed p;
	uint8_t f[64];
	size_t n;

	nfx_clear_tx(fx);
	memcpy(e.dst.b, bcast_mac, 6);
	memcpy(e.src.b, peer_mac, 6);
	assert_int_equal(wp_eth_emit(&e, f, 18), 0);
	n = 18 +
	    put_arp(f + 18, WP_ARPOP_REQUEST, peer_mac, PEER_IP, NULL, OUR_IP);
	memset(f + n, 0, sizeof(f) - n);
	nfx_inject(fx, f, 64);
	assert_int_equal(fx->ntx, 1);
	parse_frame(&fx->tx[0], &p);
	assert_false(p.eth.vlan);
	assert_int_equal(p.arp.op, WP_ARPOP_REPLY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(gratuitous_arp_at_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(request_for_us_is_answered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			request_for_someone_else_is_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_arp_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(address_probe_is_answered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			reply_resolves_and_releases_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(
			broadcast_reply_is_not_a_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(
			gratuitous_arp_refreshes_known_entries_only, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			tagged_request_is_answered_untagged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
