// SPDX-License-Identifier: MIT
/*
 * The link layer (src/net/eth.c) and the counters: EtherType dispatch,
 * 802.1Q policy, frames for other stations, runts; transmit batching
 * (one doorbell per NAPI batch); `netstat -s`; per-core counters summed.
 */
#include "test_net_common.h"

static int setup(void **state)
{
	struct nfx *fx = nfx_new(1, 1, NULL);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	nfx_free(*state);
	return 0;
}

static void vlan_drop(struct wp_net_config *c)
{
	c->vlan_accept = false;
}

static int setup_vlan_drop(void **state)
{
	struct nfx *fx = nfx_new(1, 1, vlan_drop);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static void unknown_types_and_runts(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[64] = { 0 };

	put_eth(f, our_mac, peer_mac, WP_ETH_P_IPV6);
	nfx_inject(fx, f, 60);
	put_eth(f, our_mac, peer_mac, 0x88cc); /* LLDP */
	nfx_inject(fx, f, 60);
	wp_put_be16(f + 12, 0x0100); /* an 802.3 length (no emitter for it) */
	nfx_inject(fx, f, 60);
	nfx_inject(fx, f, 13); /* shorter than a header */
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.EthInUnknownProto, 3);
	assert_int_equal(m.EthInErrors, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_UNHANDLED_PROTO), 3);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ETH_RUNT), 1);
	assert_int_equal(m.InReceives, 0);
}

static void frames_for_other_stations(void **state)
{
	struct nfx *fx = *state;
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "x", 1);
	memcpy(f, other, 6);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.EthInOtherHost, 1);
	assert_int_equal(m.InReceives, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ETH_OTHERHOST), 1);
	/* a multicast frame is taken (IP decides) */
	n = udp_frame(f, PEER_IP, wp_ipv4_addr(224, 0, 0, 251), 5353, 5353,
		      "mdns", 4);
	memcpy(f, (const uint8_t[]){ 1, 0, 0x5e, 0, 0, 0xfb }, 6);
	nfx_inject(fx, f, n);
	nfx_mib(fx, &m);
	assert_int_equal(m.InMcastPkts, 1);
	assert_int_equal(m.UdpIgnoredMulti, 1);
}

static size_t tagged_echo(uint8_t *f, uint16_t tpid)
{
	uint8_t plain[200];
	size_t n = echo_frame(plain, PEER_IP, OUR_IP, 2, 2, "tag", 3);

	memcpy(f, plain, 12);
	wp_put_be16(f + 12, tpid);
	wp_put_be16(f + 14, 42); /* VID 42 */
	memcpy(f + 16, plain + 12, n - 12);
	return n + 4;
}

static void vlan_tags_stripped_by_default(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;
	uint8_t f[220];
	size_t n;

	n = tagged_echo(f, WP_ETH_P_8021Q);
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_false(p.eth.vlan);
	/* stacked tags (802.1ad) are never taken */
	nfx_clear_tx(fx);
	n = tagged_echo(f, WP_ETH_P_8021AD);
	nfx_inject(fx, f, n);
	n = tagged_echo(f, WP_ETH_P_8021Q);
	wp_put_be16(f + 16, WP_ETH_P_8021Q); /* QinQ with two 0x8100 */
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
}

static void vlan_tags_dropped_when_asked(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[220];
	size_t n;

	n = tagged_echo(f, WP_ETH_P_8021Q);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.EthInVlanDropped, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_VLAN), 1);
	/* untagged still works */
	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "x", 1);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 1);
}

/* A NAPI batch of echoes: every reply rides xmit_more, one doorbell. */
static void one_doorbell_per_batch(void **state)
{
	struct nfx *fx = *state;
	uint64_t bells = fx->nic->txq[0].stats.doorbells;
	struct wp_pool *pool = fx->nic->rxq[0].pool;
	struct wp_skb_queue list;
	uint8_t f[200];

	wp_skb_queue_init(&list);
	for (uint16_t i = 0; i < 16; i++) {
		size_t n = echo_frame(f, PEER_IP, OUR_IP, 1, i, "b", 1);
		struct wp_skb *skb = wp_alloc_skb(pool, (uint32_t)n);

		memcpy(wp_skb_put(skb, (uint32_t)n), f, n);
		wp_skb_queue_tail(&list, skb);
	}
	wp_netif_receive_skb_list(fx->net, &fx->nic->rxq[0].napi, &list);
	assert_int_equal(fx->nic->txq[0].stats.doorbells - bells, 1);
	nfx_drain_tx(fx);
	assert_int_equal(fx->ntx, 16);
}

static char *netstat(struct nfx *fx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	wp_net_print_netstat(fx->net, out);
	fclose(out);
	return buf;
}

static void netstat_s_format(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[200];
	char *s;
	size_t n;

	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "x", 1);
	nfx_inject(fx, f, n);
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 9, "x", 1);
	nfx_inject(fx, f, n);
	s = netstat(fx);
	assert_non_null(strstr(s, "Ip:\n    Forwarding: 2\n"
				  "    2 total packets received\n"
				  "    0 forwarded\n"
				  "    0 incoming packets discarded\n"
				  "    2 incoming packets delivered\n"
				  "    2 requests sent out\n"
				  "Icmp:\n"
				  "    1 ICMP messages received\n"
				  "    0 input ICMP message failed\n"
				  "    ICMP input histogram:\n"
				  "        echo requests: 1\n"
				  "    2 ICMP messages sent\n"
				  "    0 ICMP messages failed\n"
				  "    ICMP output histogram:\n"
				  "        destination unreachable: 1\n"
				  "        echo replies: 1\n"
				  "IcmpMsg:\n"
				  "        InType8: 1\n"
				  "        OutType0: 1\n"
				  "        OutType3: 1\n"));
	assert_non_null(strstr(s, "Udp:\n"
				  "    0 packets received\n"
				  "    1 packets to unknown port received\n"
				  "    0 packet receive errors\n"
				  "    0 packets sent\n"
				  "    0 receive buffer errors\n"
				  "    0 send buffer errors\n"));
	assert_non_null(strstr(s, "ArpExt:\n    InRequests: 1\n"));
	free(s);
	/* optional lines appear once non-zero */
	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "x", 1);
	f[WP_ETH_HLEN + 10] ^= 1;
	nfx_inject(fx, f, n);
	s = netstat(fx);
	assert_non_null(strstr(s, "    1 with invalid headers\n"));
	assert_non_null(strstr(s, "IpExt:\n    InCsumErrors: 1\n"));
	free(s);
}

static int setup_two_cores(void **state)
{
	struct nfx *fx = nfx_new(2, 2, NULL);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

/* Counters are per core and summed; core c transmits on its queue c. */
static void cores_count_apart_and_send_on_their_queue(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "x", 1);
	nfx_inject_q(fx, 1, f, n);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(fx->tx[0].q, 1);
	nfx_inject_q(fx, 0, f, n);
	assert_int_equal(fx->tx[1].q, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInEchos, 2);
	assert_int_equal(m.InReceives, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(unknown_types_and_runts),
		T(frames_for_other_stations),
		T(vlan_tags_stripped_by_default),
		cmocka_unit_test_setup_teardown(vlan_tags_dropped_when_asked,
						setup_vlan_drop, teardown),
		T(one_doorbell_per_batch),
		T(netstat_s_format),
		cmocka_unit_test_setup_teardown(
			cores_count_apart_and_send_on_their_queue,
			setup_two_cores, teardown),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
