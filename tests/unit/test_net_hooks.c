// SPDX-License-Identifier: MIT
/*
 * The hooks (src/net/hooks.c): PREROUTING, INPUT, OUTPUT, POSTROUTING
 * rules that accept, drop or count, their matches and counters, what
 * each hook sees (fragments before reassembly, whole datagrams after),
 * the bounds of the rule table.
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

static uint64_t pkts(struct nfx *fx, int h)
{
	uint64_t p = 0, b = 0;

	assert_int_equal(wp_nf_rule_counters(fx->net, h, &p, &b), 0);
	return p;
}

static uint64_t bytes(struct nfx *fx, int h)
{
	uint64_t p = 0, b = 0;

	assert_int_equal(wp_nf_rule_counters(fx->net, h, &p, &b), 0);
	return b;
}

static void echo(struct nfx *fx, uint32_t saddr)
{
	uint8_t f[200];
	size_t n = echo_frame(f, saddr, OUR_IP, 1, 1, "hook", 4);

	nfx_inject(fx, f, n);
}

static void prerouting_drop(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule r = {
		.hook = WP_NF_PRE_ROUTING,
		.protocol = WP_IPPROTO_ICMP,
		.src = PEER_IP,
		.src_len = 32,
		.verdict = WP_NF_DROP,
	};
	int h = wp_nf_rule_add(fx->net, &r);

	assert_true(h >= 0);
	echo(fx, PEER_IP);
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(pkts(fx, h), 1);
	assert_int_equal(bytes(fx, h), 20 + 8 + 4);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NETFILTER), 1);
	/* another source does not match */
	echo(fx, wp_ipv4_addr(10, 0, 0, 3));
	assert_int_equal(pkts(fx, h), 1);
	nfx_clear_tx(fx);
	/* deleted: answered again */
	assert_int_equal(wp_nf_rule_del(fx->net, h), 0);
	echo(fx, PEER_IP);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(wp_nf_rule_counters(fx->net, h, NULL, NULL), -ENOENT);
}

static void count_then_accept(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule count = { .hook = WP_NF_LOCAL_IN,
				    .verdict = WP_NF_COUNT };
	struct wp_nf_rule accept = { .hook = WP_NF_LOCAL_IN,
				     .dst = wp_ipv4_addr(10, 0, 0, 0),
				     .dst_len = 24,
				     .verdict = WP_NF_ACCEPT };
	struct wp_nf_rule drop = { .hook = WP_NF_LOCAL_IN,
				   .verdict = WP_NF_DROP };
	int hc = wp_nf_rule_add(fx->net, &count);
	int ha = wp_nf_rule_add(fx->net, &accept);
	int hd = wp_nf_rule_add(fx->net, &drop);

	echo(fx, PEER_IP);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(pkts(fx, hc), 1);
	assert_int_equal(pkts(fx, ha), 1);
	assert_int_equal(pkts(fx, hd), 0); /* ACCEPT stopped the walk */
}

static void port_match_at_input(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule r = {
		.hook = WP_NF_LOCAL_IN,
		.protocol = WP_IPPROTO_UDP,
		.dport_lo = 9990,
		.dport_hi = 9999,
		.verdict = WP_NF_DROP,
	};
	int h = wp_nf_rule_add(fx->net, &r);
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	/* dropped before UDP: no port unreachable */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 9995, "x", 1);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpNoPorts, 0);
	/* outside the range: UDP answers */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 10000, "x", 1);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(pkts(fx, h), 1);
}

/* INPUT sees the reassembled datagram, PREROUTING its fragments: a port
 * rule matches only the first fragment there. */
static void hooks_see_fragments_and_wholes(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule pre = { .hook = WP_NF_PRE_ROUTING,
				  .protocol = WP_IPPROTO_UDP,
				  .dport_lo = 7,
				  .dport_hi = 7,
				  .verdict = WP_NF_COUNT };
	struct wp_nf_rule any = { .hook = WP_NF_PRE_ROUTING,
				  .protocol = WP_IPPROTO_UDP,
				  .verdict = WP_NF_COUNT };
	struct wp_nf_rule in = pre;
	uint8_t whole[1208], f[1300];
	struct wp_ipv4_repr r;
	int hp, ha, hi;

	in.hook = WP_NF_LOCAL_IN;
	hp = wp_nf_rule_add(fx->net, &pre);
	ha = wp_nf_rule_add(fx->net, &any);
	hi = wp_nf_rule_add(fx->net, &in);
	memset(whole, 0, sizeof(whole));
	udp_msg(whole, PEER_IP, OUR_IP, 1, 7, whole + 8, 1200);
	for (int i = 0; i < 3; i++) {
		r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_UDP, i < 2 ? 400 : 408);
		r.frag_offset = (uint16_t)(i * 400);
		r.mf = i < 2;
		nfx_inject(fx, f, ip_frame(f, &r, whole + i * 400));
	}
	assert_int_equal(pkts(fx, hp), 1);
	assert_int_equal(pkts(fx, ha), 3);
	assert_int_equal(pkts(fx, hi), 1);
	assert_int_equal(bytes(fx, hi), 20 + 1208);
}

static void output_and_postrouting_drops_are_eperm(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule out = { .hook = WP_NF_LOCAL_OUT,
				  .protocol = WP_IPPROTO_UDP,
				  .dport_lo = 53,
				  .dport_hi = 53,
				  .verdict = WP_NF_DROP };
	struct wp_nf_rule post = { .hook = WP_NF_POST_ROUTING,
				   .dst = PEER_IP,
				   .dst_len = 32,
				   .verdict = WP_NF_DROP };
	struct wp_skb *skb;
	int ho = wp_nf_rule_add(fx->net, &out), hp;

	skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	wp_skb_put(skb, 4);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 1, PEER_IP, 53),
			 -EPERM);
	assert_int_equal(pkts(fx, ho), 1);
	hp = wp_nf_rule_add(fx->net, &post);
	skb = wp_alloc_skb(fx->nic->rxq[0].pool, 16);
	wp_skb_put(skb, 4);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 1, PEER_IP, 54),
			 -EPERM);
	assert_int_equal(pkts(fx, hp), 1);
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NETFILTER), 2);
}

static void rule_table_bounds(void **state)
{
	struct nfx *fx = *state;
	struct wp_nf_rule r = { .hook = WP_NF_LOCAL_IN,
				.verdict = WP_NF_COUNT };
	char *buf = NULL;
	size_t len = 0;
	FILE *out;
	int h = 0, first = -1;

	r.hook = WP_NF_HOOK_MAX;
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -EINVAL);
	r.hook = WP_NF_LOCAL_IN;
	r.verdict = 7;
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -EINVAL);
	r.verdict = WP_NF_COUNT;
	r.dport_hi = 80; /* ports need TCP or UDP */
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -EINVAL);
	r.protocol = WP_IPPROTO_TCP;
	r.dport_lo = 90; /* lo > hi */
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -EINVAL);
	r.dport_lo = 80;
	r.src_len = 33;
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -EINVAL);
	r.src_len = 0;
	assert_int_equal(wp_nf_rule_add(fx->net, NULL), -EINVAL);
	for (int i = 0; i < WP_NF_RULES_MAX; i++) {
		h = wp_nf_rule_add(fx->net, &r);
		assert_true(h >= 0);
		if (first < 0)
			first = h;
	}
	assert_int_equal(wp_nf_rule_add(fx->net, &r), -ENOSPC);
	assert_int_equal(wp_nf_rule_del(fx->net, -1), -ENOENT);
	assert_int_equal(wp_nf_rule_del(fx->net, WP_NF_RULES_MAX), -ENOENT);
	assert_int_equal(wp_nf_rule_del(fx->net, first), 0);
	assert_int_equal(wp_nf_rule_del(fx->net, first), -ENOENT);
	assert_true(wp_nf_rule_add(fx->net, &r) >= 0);
	out = open_memstream(&buf, &len);
	wp_net_print_rules(fx->net, out);
	fclose(out);
	assert_non_null(strstr(buf, "Chain INPUT (policy ACCEPT)"));
	assert_non_null(strstr(buf, "tcp  0.0.0.0/0"));
	assert_non_null(strstr(buf, "dpts:80"));
	assert_non_null(strstr(buf, "Chain POSTROUTING"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(prerouting_drop),
		T(count_then_accept),
		T(port_match_at_input),
		T(hooks_see_fragments_and_wholes),
		T(output_and_postrouting_drops_are_eperm),
		T(rule_table_bounds),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
