// SPDX-License-Identifier: MIT
/*
 * IPv4 input and output (src/net/ip_input.c, ip_output.c): every check of
 * ip_rcv refuses and counts, options are skipped, padding trimmed,
 * martians dropped, only our datagrams delivered, unknown protocols
 * answered, transports registered, output errors reported.
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

#define IPOFF WP_ETH_HLEN

/* Recompute the header checksum of the frame's IPv4 header after an
 * edit, so the check under test is the one that fails. */
static void fix_csum(uint8_t *f)
{
	size_t hl = (size_t)(f[IPOFF] & 0x0f) * 4;

	wp_put_be16(f + IPOFF + 10, 0);
	wp_put_be16(f + IPOFF + 10, wp_ip_compute_csum(f + IPOFF, hl));
}

static size_t small_echo(uint8_t *f)
{
	static const uint8_t data[32] = "abcdefghijklmnopqrstuvwxyz012345";

	return echo_frame(f, PEER_IP, OUR_IP, 0x77, 1, data, sizeof(data));
}

static void echo_is_answered_with_its_own_payload(void **state)
{
	struct nfx *fx = *state;
	uint8_t data[56], f[200];
	struct wp_icmp_repr m;
	struct wp_net_mib mib;
	struct parsed p;
	size_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	n = echo_frame(f, PEER_IP, OUR_IP, 0x1234, 9, data, sizeof(data));
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_memory_equal(p.eth.dst.b, peer_mac, 6);
	assert_int_equal(p.ip.saddr, OUR_IP);
	assert_int_equal(p.ip.daddr, PEER_IP);
	assert_int_equal(p.ip.ttl, 64);
	assert_int_equal(p.ip.protocol, WP_IPPROTO_ICMP);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &m, NULL), 0);
	assert_int_equal(m.type, WP_ICMP_ECHOREPLY);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.seq, 9);
	assert_int_equal(m.data_len, sizeof(data));
	assert_memory_equal(m.data, data, sizeof(data));
	nfx_mib(fx, &mib);
	assert_int_equal(mib.InReceives, 1);
	assert_int_equal(mib.InDelivers, 1);
	assert_int_equal(mib.OutRequests, 1);
	assert_int_equal(mib.IcmpInEchos, 1);
	assert_int_equal(mib.IcmpOutEchoReps, 1);
	assert_int_equal(mib.IcmpOutMsgs, 1);
}

/* A 4-byte echo in a 60-byte frame: the link padding is not echoed. */
static void padding_is_trimmed(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[64] = { 0 };
	struct wp_icmp_repr m;
	struct parsed p;
	size_t n;

	n = echo_frame(f, PEER_IP, OUR_IP, 1, 1, "ping", 4);
	assert_true(n < WP_ETH_ZLEN);
	memset(f + n, 0xee, WP_ETH_ZLEN - n);
	nfx_inject(fx, f, WP_ETH_ZLEN);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.payload_len, WP_ICMP_HLEN + 4);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &m, NULL), 0);
	assert_int_equal(m.data_len, 4);
	assert_memory_equal(m.data, "ping", 4);
}

static void options_are_skipped(void **state)
{
	struct nfx *fx = *state;
	/* record route (7 bytes, room for 1 address) + NOP */
	const uint8_t opts[8] = { 7, 7, 4, 0, 0, 0, 0, 1 };
	uint8_t m[64], f[200];
	struct wp_ipv4_repr r;
	struct wp_icmp_repr e;
	struct parsed p;
	size_t n;

	n = icmp_echo_msg(m, 5, 6, "options", 7);
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, n);
	r.options = opts;
	r.options_len = sizeof(opts);
	n = ip_frame(f, &r, m);
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.options_len, 0);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &e, NULL), 0);
	assert_int_equal(e.id, 5);
	assert_memory_equal(e.data, "options", 7);
}

struct bad_case {
	const char *what;
	enum wp_drop_reason why;
	size_t hdr, csum, trunc; /* expected MIB deltas */
};

static void expect_refused(struct nfx *fx, const uint8_t *f, size_t n,
			   const struct bad_case *c)
{
	struct wp_net_mib a, b;
	uint64_t d0 = nfx_dropped(fx, c->why);

	nfx_clear_tx(fx);
	nfx_mib(fx, &a);
	nfx_inject(fx, f, n);
	nfx_mib(fx, &b);
	if (fx->ntx != 0 || b.InHdrErrors - a.InHdrErrors != c->hdr ||
	    b.InCsumErrors - a.InCsumErrors != c->csum ||
	    b.InTruncatedPkts - a.InTruncatedPkts != c->trunc ||
	    nfx_dropped(fx, c->why) - d0 != 1 || b.InDelivers != a.InDelivers)
		fail_msg("%s: sent %u, hdr %llu csum %llu trunc %llu drop %llu",
			 c->what, fx->ntx,
			 (unsigned long long)(b.InHdrErrors - a.InHdrErrors),
			 (unsigned long long)(b.InCsumErrors - a.InCsumErrors),
			 (unsigned long long)(b.InTruncatedPkts -
					      a.InTruncatedPkts),
			 (unsigned long long)(nfx_dropped(fx, c->why) - d0));
	assert_int_equal(b.InReceives - a.InReceives, 1);
}

static void bad_headers_are_refused_and_counted(void **state)
{
	struct nfx *fx = *state;
	uint8_t f[200];
	size_t n;

	n = small_echo(f);
	f[IPOFF] = 0x65; /* version 6 */
	fix_csum(f);
	expect_refused(
		fx, f, n,
		&(struct bad_case){ "version", WP_DROP_IP_HDR, 1, 0, 0 });

	n = small_echo(f);
	f[IPOFF] = 0x44; /* IHL 4 */
	expect_refused(fx, f, n,
		       &(struct bad_case){ "ihl<5", WP_DROP_IP_HDR, 1, 0, 0 });

	n = small_echo(f);
	f[IPOFF] = 0x4f; /* IHL 15: 60 bytes, past this short frame */
	expect_refused(
		fx, f, IPOFF + 40,
		&(struct bad_case){ "ihl past", WP_DROP_IP_HDR, 1, 0, 0 });

	n = small_echo(f);
	f[IPOFF + 10] ^= 0x01; /* checksum */
	expect_refused(fx, f, n,
		       &(struct bad_case){ "csum", WP_DROP_IP_CSUM, 1, 1, 0 });

	n = small_echo(f);
	wp_put_be16(f + IPOFF + 2, 12); /* tot_len < IHL*4 */
	fix_csum(f);
	expect_refused(
		fx, f, n,
		&(struct bad_case){ "totlen<hdr", WP_DROP_IP_LEN, 1, 0, 0 });

	n = small_echo(f);
	wp_put_be16(f + IPOFF + 2, (uint16_t)(n - IPOFF + 1)); /* past it */
	fix_csum(f);
	expect_refused(
		fx, f, n,
		&(struct bad_case){ "totlen>frame", WP_DROP_IP_LEN, 0, 0, 1 });

	n = small_echo(f);
	f[IPOFF + 6] |= 0x80; /* reserved flag */
	fix_csum(f);
	expect_refused(
		fx, f, n,
		&(struct bad_case){ "evil bit", WP_DROP_IP_HDR, 1, 0, 0 });

	n = small_echo(f);
	f[IPOFF + 8] = 0; /* TTL 0 */
	fix_csum(f);
	expect_refused(fx, f, n,
		       &(struct bad_case){ "ttl 0", WP_DROP_IP_TTL, 1, 0, 0 });

	/* a runt: the frame holds 10 bytes of IP */
	n = small_echo(f);
	expect_refused(fx, f, IPOFF + 10,
		       &(struct bad_case){ "runt", WP_DROP_IP_HDR, 1, 0, 0 });
}

static void malformed_options_are_refused(void **state)
{
	struct nfx *fx = *state;
	/* an option whose length runs past the header */
	uint8_t f[200];
	size_t n;

	n = small_echo(f);
	/* rebuild with IHL 6 and a bad option in the extra word */
	memmove(f + IPOFF + 24, f + IPOFF + 20, n - IPOFF - 20);
	f[IPOFF] = 0x46;
	f[IPOFF + 20] = 0x44; /* timestamp */
	f[IPOFF + 21] = 40;   /* length past the 4 option bytes */
	f[IPOFF + 22] = 5;
	f[IPOFF + 23] = 0;
	wp_put_be16(f + IPOFF + 2, (uint16_t)(n - IPOFF + 4));
	fix_csum(f);
	expect_refused(fx, f, n + 4,
		       &(struct bad_case){ "option", WP_DROP_IP_HDR, 1, 0, 0 });
}

static void martian_sources_are_dropped(void **state)
{
	struct nfx *fx = *state;
	const uint32_t srcs[] = {
		wp_ipv4_addr(127, 0, 0, 1),  wp_ipv4_addr(0, 0, 0, 5),
		wp_ipv4_addr(224, 1, 1, 1),  wp_ipv4_addr(255, 255, 255, 255),
		wp_ipv4_addr(240, 0, 0, 1),  OUR_IP,
		wp_ipv4_addr(10, 0, 0, 255),
	};
	uint64_t d0 = nfx_dropped(fx, WP_DROP_IP_MARTIAN);
	struct wp_net_mib m;
	uint8_t f[200];

	nfx_clear_tx(fx);
	for (size_t i = 0; i < WP_ARRAY_SIZE(srcs); i++) {
		size_t n = echo_frame(f, srcs[i], OUR_IP, 1, 1, "x", 1);

		nfx_inject(fx, f, n);
	}
	assert_int_equal(fx->ntx, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_MARTIAN) - d0,
			 WP_ARRAY_SIZE(srcs));
	nfx_mib(fx, &m);
	assert_int_equal(m.InDelivers, 0);
}

/* A booting host (0.0.0.0 to 255.255.255.255, DHCP) is no martian. */
static void booting_host_passes(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = udp_frame(f, 0, 0xffffffffu, 68, 67, "dhcp", 4);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	nfx_mib(fx, &m);
	assert_int_equal(m.InDelivers, 1);
	assert_int_equal(m.InBcastPkts, 1);
	assert_int_equal(m.UdpIgnoredMulti, 1); /* nobody listens on 67 */
	assert_int_equal(fx->ntx, 0);		/* and nobody is told */
}

static void datagrams_for_others_are_dropped(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = echo_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 99), 1, 1, "x", 1);
	nfx_inject(fx, f, n);
	n = echo_frame(f, PEER_IP, wp_ipv4_addr(127, 0, 0, 1), 1, 1, "x", 1);
	nfx_inject(fx, f, n);
	n = echo_frame(f, PEER_IP, wp_ipv4_addr(0, 1, 2, 3), 1, 1, "x", 1);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.InAddrErrors, 3);
	assert_int_equal(m.InDelivers, 0);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_NOT_OURS), 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_MARTIAN), 2);
}

static void unknown_protocol_is_unreachable(void **state)
{
	struct nfx *fx = *state;
	const uint8_t payload[12] = "sctp-ish....";
	struct wp_icmp_repr m;
	struct wp_ipv4_repr r;
	struct wp_net_mib mib;
	struct parsed p;
	uint8_t f[200];
	size_t n;

	r = ip_repr(PEER_IP, OUR_IP, 132, sizeof(payload));
	n = ip_frame(f, &r, payload);
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.tos, 0xc0);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &m, NULL), 0);
	assert_int_equal(m.type, WP_ICMP_DEST_UNREACH);
	assert_int_equal(m.code, WP_ICMP_PROT_UNREACH);
	/* the quote is the datagram as it came */
	assert_int_equal(m.data_len, n - IPOFF);
	assert_memory_equal(m.data, f + IPOFF, n - IPOFF);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.InUnknownProtos, 1);
	assert_int_equal(mib.InDelivers, 0);
	assert_int_equal(mib.IcmpOutDestUnreachs, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_NOPROTO), 1);
}

struct proto_seen {
	uint32_t n, saddr, cpu;
	uint8_t first;
	uint32_t len;
};

static void proto_rcv(void *ctx, struct wp_net *net, uint32_t cpu,
		      struct wp_skb *skb)
{
	struct proto_seen *s = ctx;

	(void)net;
	s->n++;
	s->cpu = cpu;
	s->saddr = wp_ip_cb(skb)->saddr;
	s->first = skb->data[0];
	s->len = skb->len;
	wp_consume_skb(skb);
}

static void transports_can_register(void **state)
{
	struct nfx *fx = *state;
	struct proto_seen seen = { 0 };
	const uint8_t payload[20] = { 0xaa, 1, 2, 3 };
	struct wp_ipv4_repr r;
	uint8_t f[200];
	size_t n;

	assert_int_equal(wp_net_add_protocol(fx->net, WP_IPPROTO_UDP, proto_rcv,
					     NULL, &seen),
			 -EEXIST);
	assert_int_equal(wp_net_add_protocol(fx->net, WP_IPPROTO_ICMP,
					     proto_rcv, NULL, &seen),
			 -EEXIST);
	/* a free number: 253 is for experiments (RFC 3692) */
	assert_int_equal(wp_net_add_protocol(fx->net, 253, NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(
		wp_net_add_protocol(fx->net, 253, proto_rcv, NULL, &seen), 0);
	assert_int_equal(
		wp_net_add_protocol(fx->net, 253, proto_rcv, NULL, &seen),
		-EEXIST);
	r = ip_repr(PEER_IP, OUR_IP, 253, sizeof(payload));
	n = ip_frame(f, &r, payload);
	nfx_inject(fx, f, n);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.saddr, PEER_IP);
	assert_int_equal(seen.first, 0xaa);
	assert_int_equal(seen.len, sizeof(payload));
	assert_int_equal(fx->ntx, 0);
}

static struct wp_skb *payload_skb(struct nfx *fx, size_t len)
{
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, (uint32_t)len);

	assert_non_null(skb);
	memset(wp_skb_put(skb, (uint32_t)len), 0x5a, len);
	return skb;
}

static void output_errors_are_reported(void **state)
{
	struct nfx *fx = *state;
	struct wp_ip_tx tx = {
		.daddr = PEER_IP,
		.protocol = 253,
		.df = true,
	};
	struct wp_net_mib m;

	/* DF and larger than the MTU: the caller hears EMSGSIZE */
	assert_int_equal(
		wp_ip_queue_xmit(fx->net, 0, payload_skb(fx, 1481), &tx),
		-EMSGSIZE);
	nfx_mib(fx, &m);
	assert_int_equal(m.FragFails, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_FRAG_NEEDED), 1);
	/* exactly the MTU goes */
	nfx_clear_tx(fx);
	assert_int_equal(
		wp_ip_queue_xmit(fx->net, 0, payload_skb(fx, 1480), &tx), 0);
	nfx_drain_tx(fx);
	assert_int_equal(fx->ntx, 1);
	assert_int_equal(fx->tx[0].len, 1514);
	/* no route once the default is gone */
	assert_int_equal(wp_route_del(fx->net, 0, 0), 0);
	tx.daddr = FAR_IP;
	assert_int_equal(wp_ip_queue_xmit(fx->net, 0, payload_skb(fx, 10), &tx),
			 -ENETUNREACH);
	nfx_mib(fx, &m);
	assert_int_equal(m.OutNoRoutes, 1);
	/* a cpu that does not exist */
	assert_int_equal(wp_ip_queue_xmit(fx->net, 7, payload_skb(fx, 10), &tx),
			 -EINVAL);
	assert_int_equal(wp_ip_queue_xmit(fx->net, 0, NULL, &tx), -EINVAL);
}

/* Our own address is delivered locally: an echo to ourselves is
 * answered to ourselves. */
static void loopback_delivers_to_ourselves(void **state)
{
	struct nfx *fx = *state;
	struct wp_ip_tx tx = { .daddr = OUR_IP, .protocol = WP_IPPROTO_ICMP };
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 64);
	struct wp_net_mib m;
	size_t n;

	assert_non_null(skb);
	n = icmp_echo_msg(wp_skb_put(skb, 8 + 3), 3, 4, "abc", 3);
	assert_int_equal(n, 11);
	nfx_clear_tx(fx);
	assert_int_equal(wp_ip_queue_xmit(fx->net, 0, skb, &tx), 0);
	nfx_drain_tx(fx);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInEchos, 1);
	assert_int_equal(m.IcmpInEchoReps, 1);
	assert_int_equal(m.IcmpOutEchoReps, 1);
}

static void build_header_borrows_and_fails_cleanly(void **state)
{
	struct nfx *fx = *state;
	struct wp_ip_tx tx = { .daddr = PEER_IP, .protocol = 17 };
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 64);
	struct wp_ipv4_repr r;
	uint32_t len;

	assert_non_null(skb);
	wp_skb_put(skb, 16);
	assert_int_equal(wp_ip_build_header(fx->net, skb, &tx), 0);
	assert_int_equal(skb->len, 36);
	assert_int_equal(wp_ipv4_parse(skb->data, skb->len, &r, NULL), 0);
	assert_int_equal(r.saddr, OUR_IP);
	assert_int_equal(r.ttl, 64);
	/* no headroom left: untouched */
	wp_skb_push(skb, wp_skb_headroom(skb));
	len = skb->len;
	assert_int_equal(wp_ip_build_header(fx->net, skb, &tx), -ENOSPC);
	assert_int_equal(skb->len, len);
	wp_consume_skb(skb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(echo_is_answered_with_its_own_payload),
		T(padding_is_trimmed),
		T(options_are_skipped),
		T(bad_headers_are_refused_and_counted),
		T(malformed_options_are_refused),
		T(martian_sources_are_dropped),
		T(booting_host_passes),
		T(datagrams_for_others_are_dropped),
		T(unknown_protocol_is_unreachable),
		T(transports_can_register),
		T(output_errors_are_reported),
		T(loopback_delivers_to_ourselves),
		T(build_header_borrows_and_fails_cleanly),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
