// SPDX-License-Identifier: MIT
/*
 * The routing table (src/net/route.c): the connected and default routes,
 * longest-prefix match, every refused change, the cores' copies following
 * changes, `ip route`.
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

static char *print_routes(struct nfx *fx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	wp_net_print_route(fx->net, out);
	fclose(out);
	return buf;
}

static void connected_and_default(void **state)
{
	struct nfx *fx = *state;
	char *s = print_routes(fx);

	assert_string_equal(s, "default via 10.0.0.254 dev wp0\n"
			       "10.0.0.0/24 dev wp0 proto kernel scope link "
			       "src 10.0.0.2\n");
	free(s);
}

static void lookup_types(void **state)
{
	struct nfx *fx = *state;
	struct wp_rt_result r;

	assert_int_equal(wp_route_lookup(fx->net, PEER_IP, &r), 0);
	assert_int_equal(r.type, WP_RTN_UNICAST);
	assert_int_equal(r.nexthop, PEER_IP);
	assert_int_equal(r.saddr, OUR_IP);
	assert_int_equal(wp_route_lookup(fx->net, FAR_IP, &r), 0);
	assert_int_equal(r.nexthop, GW_IP);
	assert_int_equal(wp_route_lookup(fx->net, OUR_IP, &r), 0);
	assert_int_equal(r.type, WP_RTN_LOCAL);
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(10, 0, 0, 255), &r), 0);
	assert_int_equal(r.type, WP_RTN_BROADCAST);
	assert_int_equal(wp_route_lookup(fx->net, 0xffffffffu, &r), 0);
	assert_int_equal(r.type, WP_RTN_BROADCAST);
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(224, 0, 0, 5), &r), 0);
	assert_int_equal(r.type, WP_RTN_MULTICAST);
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(127, 0, 0, 1), &r),
		-ENETUNREACH);
	assert_int_equal(wp_route_lookup(fx->net, 0, &r), -ENETUNREACH);
}

static void longest_prefix_wins(void **state)
{
	struct nfx *fx = *state;
	uint32_t net24 = wp_ipv4_addr(192, 0, 2, 0);
	uint32_t net25 = wp_ipv4_addr(192, 0, 2, 128);
	uint32_t host = wp_ipv4_addr(192, 0, 2, 200);
	struct wp_rt_result r;
	char *s;

	assert_int_equal(wp_route_add(fx->net, net24, 24, PEER_IP), 0);
	assert_int_equal(
		wp_route_add(fx->net, net25, 25, wp_ipv4_addr(10, 0, 0, 3)), 0);
	assert_int_equal(wp_route_add(fx->net, host, 32, 0), 0); /* on-link */
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(192, 0, 2, 7), &r), 0);
	assert_int_equal(r.nexthop, PEER_IP);
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(192, 0, 2, 130), &r), 0);
	assert_int_equal(r.nexthop, wp_ipv4_addr(10, 0, 0, 3));
	assert_int_equal(wp_route_lookup(fx->net, host, &r), 0);
	assert_int_equal(r.nexthop, host);
	s = print_routes(fx);
	assert_string_equal(s, "default via 10.0.0.254 dev wp0\n"
			       "192.0.2.200 dev wp0 scope link\n"
			       "192.0.2.128/25 via 10.0.0.3 dev wp0\n"
			       "10.0.0.0/24 dev wp0 proto kernel scope link "
			       "src 10.0.0.2\n"
			       "192.0.2.0/24 via 10.0.0.1 dev wp0\n");
	free(s);
	assert_int_equal(wp_route_del(fx->net, net25, 25), 0);
	assert_int_equal(
		wp_route_lookup(fx->net, wp_ipv4_addr(192, 0, 2, 130), &r), 0);
	assert_int_equal(r.nexthop, PEER_IP);
}

static void refused_changes(void **state)
{
	struct nfx *fx = *state;
	uint32_t i;
	int ret = 0;

	assert_int_equal(
		wp_route_add(fx->net, wp_ipv4_addr(10, 1, 0, 1), 16, PEER_IP),
		-EINVAL); /* host bits */
	assert_int_equal(wp_route_add(fx->net, 0, 33, PEER_IP), -EINVAL);
	assert_int_equal(wp_route_add(fx->net, wp_ipv4_addr(10, 1, 0, 0), 16,
				      wp_ipv4_addr(172, 16, 0, 1)),
			 -ENETUNREACH); /* gateway not on a link */
	assert_int_equal(
		wp_route_add(fx->net, wp_ipv4_addr(10, 1, 0, 0), 16, OUR_IP),
		-ENETUNREACH);
	assert_int_equal(wp_route_add(fx->net, wp_ipv4_addr(10, 1, 0, 0), 16,
				      wp_ipv4_addr(224, 0, 0, 1)),
			 -EINVAL);
	assert_int_equal(wp_route_add(fx->net, 0, 0, PEER_IP), -EEXIST);
	assert_int_equal(wp_route_del(fx->net, wp_ipv4_addr(10, 9, 0, 0), 16),
			 -ESRCH);
	assert_int_equal(wp_route_del(fx->net, wp_ipv4_addr(10, 0, 0, 0), 24),
			 -EPERM);
	/* bounded: two routes exist already */
	for (i = 0; i < WP_ROUTE_MAX; i++) {
		ret = wp_route_add(fx->net,
				   wp_ipv4_addr(172, 16, (uint8_t)i, 0), 24,
				   PEER_IP);
		if (ret)
			break;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(i, WP_ROUTE_MAX - 2);
}

/* Cores route on their own copy: a change reaches the next output. */
static void cores_follow_changes(void **state)
{
	struct nfx *fx = *state;
	uint32_t dst = wp_ipv4_addr(198, 51, 100, 1);
	struct wp_skb *skb;
	struct wp_net_mib m;
	struct parsed p;

	skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	wp_skb_put(skb, 4);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 1, dst, 2), 0);
	nfx_drain_tx(fx);
	/* via the gateway: an ARP request for it */
	parse_frame(&fx->tx[0], &p);
	assert_true(p.is_arp);
	assert_int_equal(p.arp.tpa, GW_IP);
	nfx_clear_tx(fx);
	assert_int_equal(wp_route_add(fx->net, wp_ipv4_addr(198, 51, 100, 0),
				      24, PEER_IP),
			 0);
	skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	wp_skb_put(skb, 4);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 1, dst, 2), 0);
	nfx_drain_tx(fx);
	one_ip_frame(fx, &p);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
	assert_int_equal(p.ip.daddr, dst);
	/* no default route: no route */
	assert_int_equal(wp_route_del(fx->net, 0, 0), 0);
	skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	wp_skb_put(skb, 4);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 1, FAR_IP, 2),
			 -ENETUNREACH);
	nfx_mib(fx, &m);
	assert_int_equal(m.OutNoRoutes, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NO_ROUTE), 1);
}

static void bad_gw(struct wp_net_config *c)
{
	c->gw = wp_ipv4_addr(172, 16, 0, 1);
}

/* A default gateway off the subnet is refused at creation. */
static void creation_refuses_an_offlink_gateway(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_config c = fx->cfg;
	struct wp_net *n;

	bad_gw(&c);
	n = wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic, fx->cpus, 1);
	assert_null(n);
	assert_int_equal(errno, EINVAL);
	/* and the other refusals of wp_net_create */
	c = fx->cfg;
	c.prefix_len = 0;
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 1));
	c = fx->cfg;
	c.addr = wp_ipv4_addr(224, 0, 0, 1);
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 1));
	c = fx->cfg;
	c.mac[0] = 1;
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 1));
	c = fx->cfg;
	c.mtu = 9000; /* above the NIC's */
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 1));
	c = fx->cfg;
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 2)); /* more cores than queues */
	assert_int_equal(errno, EINVAL);
	c.port_lo = 5000;
	c.port_hi = 4000;
	assert_null(wp_net_create(&c, &fx->clock, &fx->sysctl, fx->nic,
				  fx->cpus, 1));
	wp_net_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(connected_and_default),
		T(lookup_types),
		T(longest_prefix_wins),
		T(refused_changes),
		T(cores_follow_changes),
		T(creation_refuses_an_offlink_gateway),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
