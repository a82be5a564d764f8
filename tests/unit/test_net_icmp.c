// SPDX-License-Identifier: MIT
/*
 * ICMP (src/net/icmp.c): port unreachable quoting the datagram, the two
 * rate limits and their counters, the cases where no error may be sent,
 * bad messages refused, errors received reaching connected sockets.
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

static void global_limit_only(struct wp_net_config *c)
{
	c->icmp_msgs_burst = 5;
	c->icmp_ratelimit_ms = 0;
}

static int setup_global(void **state)
{
	struct nfx *fx = nfx_new(1, 1, global_limit_only);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static void answer_broadcasts(struct wp_net_config *c)
{
	c->icmp_echo_ignore_broadcasts = false;
}

static int setup_bcast(void **state)
{
	struct nfx *fx = nfx_new(1, 1, answer_broadcasts);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static size_t closed_port_frame(uint8_t *f, uint16_t sport)
{
	return udp_frame(f, PEER_IP, OUR_IP, sport, 9999, "knock knock", 11);
}

static void port_unreachable_quotes_the_datagram(void **state)
{
	struct nfx *fx = *state;
	struct wp_icmp_repr m;
	struct wp_net_mib mib;
	struct parsed p;
	uint8_t f[200];
	size_t n;

	n = closed_port_frame(f, 4242);
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.saddr, OUR_IP);
	assert_int_equal(p.ip.daddr, PEER_IP);
	assert_int_equal(p.ip.tos, 0xc0);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &m, NULL), 0);
	assert_int_equal(m.type, WP_ICMP_DEST_UNREACH);
	assert_int_equal(m.code, WP_ICMP_PORT_UNREACH);
	assert_int_equal(m.quote_hdr_len, 20);
	assert_int_equal(m.data_len, n - WP_ETH_HLEN);
	assert_memory_equal(m.data, f + WP_ETH_HLEN, n - WP_ETH_HLEN);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.UdpNoPorts, 1);
	assert_int_equal(mib.IcmpOutMsgs, 1);
	assert_int_equal(mib.IcmpOutDestUnreachs, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NO_SOCKET), 1);
}

/* A big datagram is quoted only as far as a 576-byte error allows. */
static void long_quotes_are_cut_at_576(void **state)
{
	struct nfx *fx = *state;
	uint8_t data[1000] = { 0 }, f[1200];
	struct wp_icmp_repr m;
	struct parsed p;
	size_t n;

	n = udp_frame(f, PEER_IP, OUR_IP, 1, 9999, data, sizeof(data));
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_int_equal(wp_ipv4_total_len(&p.ip), 576);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &m, NULL), 0);
	assert_int_equal(m.data_len, 576 - 28);
	assert_memory_equal(m.data, f + WP_ETH_HLEN, 576 - 28);
}

/* inet_peer_xrlim_allow: a burst of 6 per destination, then 1/s. */
static void per_destination_limit(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	for (uint16_t i = 0; i < 10; i++) {
		n = closed_port_frame(f, (uint16_t)(1000 + i));
		nfx_inject(fx, f, n);
	}
	assert_int_equal(fx->ntx, 6);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpOutRateLimitHost, 4);
	assert_int_equal(m.IcmpOutRateLimitGlobal, 0);
	assert_int_equal(m.UdpNoPorts, 10);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ICMP_RATELIMIT), 4);
	/* half a second earns nothing, a second earns one */
	nfx_advance(fx, WP_NSEC_PER_SEC / 2);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 6);
	nfx_advance(fx, WP_NSEC_PER_SEC / 2);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 7);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 7);
	/* another destination has its own bucket */
	n = udp_frame(f, wp_ipv4_addr(10, 0, 0, 3), OUR_IP, 1, 9999, "x", 1);
	nfx_inject(fx, f, n);
	nfx_advance(fx, 4 * WP_NSEC_PER_SEC); /* its ARP fails */
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpOutMsgs, 8);
	/* echo replies are never limited */
	nfx_clear_tx(fx);
	for (uint16_t i = 0; i < 20; i++) {
		n = echo_frame(f, PEER_IP, OUR_IP, 1, i, "x", 1);
		nfx_inject(fx, f, n);
	}
	assert_int_equal(fx->ntx, 20);
}

/* icmp_global_allow: icmp_msgs_burst deep, icmp_msgs_per_sec refill. */
static void global_limit(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = closed_port_frame(f, 1);
	for (int i = 0; i < 8; i++)
		nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 5);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpOutRateLimitGlobal, 3);
	assert_int_equal(m.IcmpOutRateLimitHost, 0);
	/* 1000/s: one token a millisecond */
	nfx_advance(fx, WP_NSEC_PER_MSEC);
	nfx_inject(fx, f, n);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 6);
	nfx_advance(fx, 10 * WP_NSEC_PER_SEC); /* refilled, capped at 5 */
	for (int i = 0; i < 8; i++)
		nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 11);
}

/* RFC 1122 3.2.2: the datagrams no error may be sent about. */
static void no_error_about_broadcasts(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	/* to the subnet broadcast and the limited broadcast */
	n = udp_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 255), 1, 9999, "x", 1);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	n = udp_frame(f, PEER_IP, 0xffffffffu, 1, 9999, "x", 1);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	/* to a group */
	n = udp_frame(f, PEER_IP, wp_ipv4_addr(239, 1, 2, 3), 1, 9999, "x", 1);
	memcpy(f, (const uint8_t[]){ 1, 0, 0x5e, 1, 2, 3 }, 6);
	nfx_inject(fx, f, n);
	/* our address, but in a link-level broadcast */
	n = closed_port_frame(f, 1);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpIgnoredMulti, 3);
	assert_int_equal(m.UdpNoPorts, 1);
	assert_int_equal(m.IcmpOutMsgs, 0);
}

/* An ICMP error sent to us is counted and consumed, never answered. */
static void errors_are_never_answered(void **state)
{
	struct nfx *fx = *state;
	uint8_t quote[28], msg[64], f[200];
	struct wp_icmp_repr e = {
		.type = WP_ICMP_DEST_UNREACH,
		.code = WP_ICMP_PORT_UNREACH,
		.data = quote,
		.data_len = sizeof(quote),
		.quote_hdr_len = 20,
	};
	struct wp_ipv4_repr q, r;
	struct wp_net_mib m;
	size_t n;

	/* quoting an ICMP echo we never sent */
	q = ip_repr(OUR_IP, PEER_IP, WP_IPPROTO_ICMP, 8);
	put_ipv4(quote, &q);
	icmp_echo_msg(quote + 20, 1, 1, NULL, 0);
	assert_int_equal(wp_icmp_emit(&e, msg, 8 + sizeof(quote)), 0);
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, 8 + sizeof(quote));
	n = ip_frame(f, &r, msg);
	nfx_inject(fx, f, n);
	/* an error about an error */
	quote[20] = WP_ICMP_DEST_UNREACH;
	assert_int_equal(wp_icmp_emit(&e, msg, 8 + sizeof(quote)), 0);
	n = ip_frame(f, &r, msg);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInMsgs, 2);
	assert_int_equal(m.IcmpInDestUnreachs, 2);
	assert_int_equal(m.IcmpInErrors, 0);
	assert_int_equal(m.IcmpOutMsgs, 0);
}

static void bad_messages_are_refused(void **state)
{
	struct nfx *fx = *state;
	uint8_t msg[64], f[200];
	struct wp_ipv4_repr r;
	struct wp_net_mib m;
	size_t n;

	/* checksum */
	n = icmp_echo_msg(msg, 1, 1, "abcd", 4);
	msg[2] ^= 0x40;
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, n);
	nfx_inject(fx, f, ip_frame(f, &r, msg));
	/* shorter than a header */
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, 4);
	nfx_inject(fx, f, ip_frame(f, &r, msg));
	/* an error whose quote is no IPv4 header */
	memset(msg, 0, sizeof(msg));
	msg[0] = WP_ICMP_DEST_UNREACH;
	msg[1] = WP_ICMP_PORT_UNREACH;
	wp_put_be16(msg + 2, wp_ip_compute_csum(msg, 36));
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, 36);
	nfx_inject(fx, f, ip_frame(f, &r, msg));
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInMsgs, 3);
	assert_int_equal(m.IcmpInErrors, 3);
	assert_int_equal(m.IcmpInCsumErrors, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ICMP_CSUM), 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_ICMP_BAD), 2);
	/* a type we know but do not act on (timestamp): consumed quietly */
	memset(msg, 0, 20);
	msg[0] = 13;
	wp_put_be16(msg + 2, wp_ip_compute_csum(msg, 20));
	r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP, 20);
	nfx_inject(fx, f, ip_frame(f, &r, msg));
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInMsgs, 4);
	assert_int_equal(m.IcmpInErrors, 3);
	assert_int_equal(fx->ntx, 0);
}

static void echo_to_broadcast_is_ignored(void **state)
{
	struct nfx *fx = *state;
	struct wp_net_mib m;
	uint8_t f[200];
	size_t n;

	n = echo_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 255), 1, 1, "x", 1);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.IcmpInEchos, 1);
}

static void echo_to_broadcast_answered_when_asked(void **state)
{
	struct nfx *fx = *state;
	struct parsed p;
	uint8_t f[200];
	size_t n;

	n = echo_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 255), 1, 1, "x", 1);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	one_ip_frame(fx, &p);
	assert_int_equal(p.ip.saddr, wp_ipv4_addr(10, 0, 0, 255));
}

/* An unreachable about our datagram reaches the connected socket. */
static void errors_reach_connected_sockets(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *conn = wp_udp_sock_alloc(fx->net);
	struct wp_udp_sock *open = wp_udp_sock_alloc(fx->net);
	uint8_t quote[28], msg[64], f[200];
	struct wp_icmp_repr e = {
		.type = WP_ICMP_DEST_UNREACH,
		.code = WP_ICMP_PORT_UNREACH,
		.data = quote,
		.data_len = sizeof(quote),
		.quote_hdr_len = 20,
	};
	struct wp_ipv4_repr q, r;

	assert_non_null(conn);
	assert_non_null(open);
	assert_int_equal(wp_udp_bind(conn, 0, 5001), 0);
	assert_int_equal(wp_udp_connect(conn, PEER_IP, 53), 0);
	assert_int_equal(wp_udp_bind(open, 0, 5002), 0);
	for (uint16_t port = 5001; port <= 5002; port++) {
		q = ip_repr(OUR_IP, PEER_IP, WP_IPPROTO_UDP, 8);
		put_ipv4(quote, &q);
		udp_msg(quote + 20, OUR_IP, PEER_IP, port, 53, NULL, 0);
		assert_int_equal(wp_icmp_emit(&e, msg, 8 + sizeof(quote)), 0);
		r = ip_repr(PEER_IP, OUR_IP, WP_IPPROTO_ICMP,
			    8 + sizeof(quote));
		nfx_inject(fx, f, ip_frame(f, &r, msg));
	}
	assert_int_equal(wp_sock_error(&conn->sk), -ECONNREFUSED);
	assert_int_equal(wp_sock_error(&conn->sk), 0);
	/* unconnected: it cannot tell which send failed (no IP_RECVERR) */
	assert_int_equal(wp_sock_error(&open->sk), 0);
	wp_udp_close(conn);
	wp_sock_put(&conn->sk);
	wp_udp_close(open);
	wp_sock_put(&open->sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(port_unreachable_quotes_the_datagram),
		T(long_quotes_are_cut_at_576),
		T(per_destination_limit),
		cmocka_unit_test_setup_teardown(global_limit, setup_global,
						teardown),
		T(no_error_about_broadcasts),
		T(errors_are_never_answered),
		T(bad_messages_are_refused),
		T(echo_to_broadcast_is_ignored),
		cmocka_unit_test_setup_teardown(
			echo_to_broadcast_answered_when_asked, setup_bcast,
			teardown),
		T(errors_reach_connected_sockets),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
