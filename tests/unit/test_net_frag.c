// SPDX-License-Identifier: MIT
/*
 * Reassembly and fragmentation (src/net/ip_fragment.c): datagrams come
 * back whole in any order, duplicates are harmless, every hostile shape
 * kills its datagram and is counted, memory stays under its bounds under
 * a flood, queues expire with ICMP time exceeded, and what we send above
 * the MTU goes out as correct fragments.
 */
#include "test_net_common.h"

#include "skb/pool.h"

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

/* One fragment of a datagram whose payload is `whole`. */
static size_t frag_frame(uint8_t *f, uint32_t saddr, uint16_t id, uint8_t proto,
			 const uint8_t *whole, uint32_t off, uint32_t len,
			 bool mf)
{
	struct wp_ipv4_repr r = ip_repr(saddr, OUR_IP, proto, len);

	r.id = id;
	r.frag_offset = (uint16_t)off;
	r.mf = mf;
	return ip_frame(f, &r, whole + off);
}

static void inject_frag(struct nfx *fx, uint16_t id, uint8_t proto,
			const uint8_t *whole, uint32_t off, uint32_t len,
			bool mf)
{
	uint8_t *f = malloc(NFX_FRAME_MAX);
	size_t n;

	assert_non_null(f);
	n = frag_frame(f, PEER_IP, id, proto, whole, off, len, mf);
	nfx_inject(fx, f, n);
	free(f);
}

/* An echo request message of total length len (header included). */
static uint8_t *echo_msg(size_t len, uint16_t seq)
{
	uint8_t *m = malloc(len), *data = malloc(len);

	assert_non_null(m);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 31 + seq);
	icmp_echo_msg(m, 0xbeef, seq, data, len - WP_ICMP_HLEN);
	free(data);
	return m;
}

/* The echo reply we sent must carry exactly the request's data. */
static void expect_echo_reply(const uint8_t *l4, size_t len, const uint8_t *req)
{
	struct wp_icmp_repr m;

	assert_int_equal(wp_icmp_parse(l4, len, 0, &m, NULL), 0);
	assert_int_equal(m.type, WP_ICMP_ECHOREPLY);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(m.data_len, len - WP_ICMP_HLEN);
	assert_memory_equal(m.data, req + WP_ICMP_HLEN, len - WP_ICMP_HLEN);
}

static void in_order_fragments_reassemble(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 1);
	struct wp_net_mib mib;
	struct parsed p;

	inject_frag(fx, 7, WP_IPPROTO_ICMP, m, 0, 400, true);
	inject_frag(fx, 7, WP_IPPROTO_ICMP, m, 400, 400, true);
	assert_int_equal(fx->ntx, 0);
	inject_frag(fx, 7, WP_IPPROTO_ICMP, m, 800, 400, false);
	one_ip_frame(fx, &p);
	assert_false(wp_ipv4_is_fragment(&p.ip));
	expect_echo_reply(p.l4, p.l4_len, m);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmReqds, 3);
	assert_int_equal(mib.ReasmOKs, 1);
	assert_int_equal(mib.ReasmFails, 0);
	assert_int_equal(mib.InReceives, 3);
	assert_int_equal(mib.InDelivers, 1);
	free(m);
}

static void any_order_and_duplicates(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1000, 2);
	struct parsed p;

	inject_frag(fx, 8, WP_IPPROTO_ICMP, m, 800, 200, false);
	inject_frag(fx, 8, WP_IPPROTO_ICMP, m, 400, 400, true);
	inject_frag(fx, 8, WP_IPPROTO_ICMP, m, 400, 400, true); /* again */
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_FRAG_DUP), 1);
	assert_int_equal(fx->ntx, 0);
	inject_frag(fx, 8, WP_IPPROTO_ICMP, m, 0, 400, true);
	one_ip_frame(fx, &p);
	expect_echo_reply(p.l4, p.l4_len, m);
	free(m);
}

/* RFC 5722: any overlap drops the whole datagram. */
static void overlap_kills_the_datagram(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 3);
	struct wp_net_mib mib;

	inject_frag(fx, 9, WP_IPPROTO_ICMP, m, 0, 400, true);
	inject_frag(fx, 9, WP_IPPROTO_ICMP, m, 392, 400, true); /* 8 back */
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmOverlaps, 1);
	assert_int_equal(mib.ReasmFails, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_FRAG_OVERLAP), 2);
	/* what comes after cannot complete the killed datagram */
	inject_frag(fx, 9, WP_IPPROTO_ICMP, m, 400, 400, true);
	inject_frag(fx, 9, WP_IPPROTO_ICMP, m, 800, 400, false);
	assert_int_equal(fx->ntx, 0);
	/* an overlap with the next fragment, and a shorter copy of one */
	inject_frag(fx, 10, WP_IPPROTO_ICMP, m, 400, 400, true);
	inject_frag(fx, 10, WP_IPPROTO_ICMP, m, 0, 408, true);
	inject_frag(fx, 11, WP_IPPROTO_ICMP, m, 0, 800, true);
	inject_frag(fx, 11, WP_IPPROTO_ICMP, m, 0, 400, true);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmOverlaps, 3);
	assert_int_equal(mib.ReasmOKs, 0);
	assert_int_equal(fx->ntx, 0);
	free(m);
}

static void malformed_fragments_kill_the_datagram(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 4), f[200];
	struct wp_net_mib mib;
	size_t n;

	/* not the last, and not a multiple of 8 */
	inject_frag(fx, 20, WP_IPPROTO_ICMP, m, 0, 404, true);
	/* two last fragments that disagree */
	inject_frag(fx, 21, WP_IPPROTO_ICMP, m, 800, 400, false);
	inject_frag(fx, 21, WP_IPPROTO_ICMP, m, 800, 200, false);
	/* data past the end the last fragment set */
	inject_frag(fx, 22, WP_IPPROTO_ICMP, m, 400, 200, false);
	inject_frag(fx, 22, WP_IPPROTO_ICMP, m, 600, 400, true);
	/* an empty fragment */
	inject_frag(fx, 23, WP_IPPROTO_ICMP, m, 800, 0, true);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmFails, 4);
	/* each offender, and the fragments its datagram held */
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_FRAG), 6);
	/* the ping of death: offset + length past 65535, refused at once */
	n = frag_frame(f, PEER_IP, 24, WP_IPPROTO_ICMP, m, 0, 16, false);
	wp_put_be16(f + WP_ETH_HLEN + 6, 65528 / 8);
	wp_put_be16(f + WP_ETH_HLEN + 10, 0);
	wp_put_be16(f + WP_ETH_HLEN + 10,
		    wp_ip_compute_csum(f + WP_ETH_HLEN, 20));
	nfx_inject(fx, f, n);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmFails, 5);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_FRAG), 7);
	assert_int_equal(fx->ntx, 0);
	free(m);
}

/* RFC 792: time exceeded when fragment zero is in hand, else silence. */
static void timeout_sends_time_exceeded(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 5);
	struct wp_icmp_repr e;
	struct wp_net_mib mib;
	struct parsed p;

	inject_frag(fx, 30, WP_IPPROTO_ICMP, m, 0, 400, true);
	inject_frag(fx, 31, WP_IPPROTO_ICMP, m, 400, 400, true);
	nfx_advance(fx, 29 * WP_NSEC_PER_SEC);
	assert_int_equal(fx->ntx, 0);
	nfx_advance(fx, WP_NSEC_PER_SEC);
	one_ip_frame(fx, &p);
	assert_int_equal(wp_icmp_parse(p.l4, p.l4_len, 0, &e, NULL), 0);
	assert_int_equal(e.type, WP_ICMP_TIME_EXCEEDED);
	assert_int_equal(e.code, WP_ICMP_EXC_FRAGTIME);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmTimeout, 2);
	assert_int_equal(mib.ReasmFails, 2);
	assert_int_equal(mib.IcmpOutTimeExcds, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_IP_REASM_TIMEOUT), 2);
	free(m);
}

/* The first fragment of an ICMP error times out: no error about it. */
static void no_time_exceeded_about_an_icmp_error(void **state)
{
	struct nfx *fx = *state;
	uint8_t whole[64] = { WP_ICMP_DEST_UNREACH, 3 };
	struct wp_net_mib mib;

	inject_frag(fx, 40, WP_IPPROTO_ICMP, whole, 0, 32, true);
	nfx_advance(fx, 31 * WP_NSEC_PER_SEC);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmTimeout, 1);
	assert_int_equal(mib.IcmpOutMsgs, 0);
}

static void small_cap(struct wp_net_config *c)
{
	c->ipfrag_high_thresh = 64 * 1024;
}

static int setup_small_cap(void **state)
{
	*state = nfx_new(1, 1, small_cap);
	return 0;
}

static uint32_t bufs_out(struct nfx *fx)
{
	struct wp_pool_stats st;

	wp_pool_get_stats(fx->nic->rxq[0].pool, &st);
	return st.bufs_total - st.bufs_free;
}

/* A flood of fragments that never complete stays under the cap. */
static void flood_stays_under_the_memory_cap(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 6);
	uint32_t per = WP_POOL_BUF_SIZE + (uint32_t)sizeof(struct wp_skb);
	uint32_t base = bufs_out(fx), most = 0;
	struct wp_net_mib mib;

	for (uint16_t id = 0; id < 2000; id++) {
		uint32_t out;

		inject_frag(fx, id, WP_IPPROTO_ICMP, m, 0, 400, true);
		out = bufs_out(fx);
		if (out > most)
			most = out;
	}
	/* 64 KiB of truesize: at most 64 KiB / per fragments held */
	assert_true(most - base <= 64 * 1024 / per + 1);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmReqds, 2000);
	assert_true(mib.ReasmFails >= 2000 - 64 * 1024 / per - 1);
	assert_int_equal(mib.ReasmFails, nfx_dropped(fx, WP_DROP_IP_REASM_MEM));
	/* and a datagram that arrives whole still makes it */
	nfx_learn_peer(fx);
	inject_frag(fx, 9999, WP_IPPROTO_ICMP, m, 0, 600, true);
	inject_frag(fx, 9999, WP_IPPROTO_ICMP, m, 600, 600, false);
	assert_int_equal(fx->ntx, 1);
	free(m);
}

/* With the default cap, the pool bound holds: a quarter of the buffers. */
static void flood_cannot_starve_the_ring(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 7);
	struct wp_pool_stats st;
	uint32_t most = 0;

	wp_pool_get_stats(fx->nic->rxq[0].pool, &st);
	for (uint16_t id = 0; id < 3000; id++) {
		uint32_t out;

		inject_frag(fx, id, WP_IPPROTO_ICMP, m, 0, 400, true);
		out = bufs_out(fx);
		if (out > most)
			most = out;
	}
	/* the ring's own buffers plus a quarter of the pool */
	assert_true(most <= fx->nic->rxq[0].size + st.bufs_total / 4 + 1);
	free(m);
}

static void few_frags(struct wp_net_config *c)
{
	c->ipfrag_max_frags = 4;
	c->ipfrag_max_queues = 4;
}

static int setup_few(void **state)
{
	struct nfx *fx = nfx_new(1, 1, few_frags);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static void fragment_and_queue_limits(void **state)
{
	struct nfx *fx = *state;
	uint8_t *m = echo_msg(1200, 8);
	struct wp_net_mib mib;

	/* a fifth fragment for one datagram kills it */
	for (uint32_t i = 0; i < 5; i++)
		inject_frag(fx, 50, WP_IPPROTO_ICMP, m, i * 80, 80, true);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmFails, 1);
	/* four datagrams wait; a fifth evicts the oldest */
	for (uint16_t id = 60; id < 65; id++)
		inject_frag(fx, id, WP_IPPROTO_ICMP, m, 0, 400, true);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmFails, 2);
	/* 61..64 are still there: completing 64 works */
	inject_frag(fx, 64, WP_IPPROTO_ICMP, m, 400, 800, false);
	assert_int_equal(fx->ntx, 1);
	/* 60 was evicted: its last fragment starts a new queue */
	inject_frag(fx, 60, WP_IPPROTO_ICMP, m, 400, 800, false);
	assert_int_equal(fx->ntx, 1);
	free(m);
}

/* Reassemble what we sent: every fragment within the MTU, offsets
 * multiples of 8, MF on all but the last, one ID. Returns the payload. */
static uint8_t *reassemble_sent(struct nfx *fx, uint32_t first, uint32_t n,
				uint8_t proto, size_t *len)
{
	uint8_t *out = calloc(1, 65536);
	struct wp_ipv4_repr r0;
	size_t end = 0;

	assert_non_null(out);
	for (uint32_t i = first; i < first + n; i++) {
		struct parsed p;

		parse_frame(&fx->tx[i], &p);
		assert_true(p.is_ip);
		assert_true(fx->tx[i].len <= 1514);
		assert_int_equal(p.ip.protocol, proto);
		assert_false(p.ip.df);
		if (i == first)
			r0 = p.ip;
		assert_int_equal(p.ip.id, r0.id);
		assert_int_equal(p.ip.frag_offset % 8, 0);
		assert_int_equal(p.ip.mf, i + 1 < first + n);
		assert_int_equal(p.ip.frag_offset, end);
		memcpy(out + p.ip.frag_offset, p.l4, p.l4_len);
		end = p.ip.frag_offset + p.l4_len;
	}
	*len = end;
	return out;
}

/* A 20000-byte echo: reassembled past a pool buffer, answered in
 * fragments. */
static void big_echo_is_answered_in_fragments(void **state)
{
	struct nfx *fx = *state;
	const size_t len = 20000;
	uint8_t *m = echo_msg(len, 9), *back;
	struct wp_net_mib mib;
	size_t got;

	for (uint32_t off = 0; off < len; off += 1480) {
		uint32_t chunk =
			len - off < 1480 ? (uint32_t)(len - off) : 1480;

		inject_frag(fx, 77, WP_IPPROTO_ICMP, m, off, chunk,
			    off + chunk < len);
	}
	assert_int_equal(fx->ntx, 14);
	back = reassemble_sent(fx, 0, 14, WP_IPPROTO_ICMP, &got);
	assert_int_equal(got, len);
	expect_echo_reply(back, got, m);
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmOKs, 1);
	assert_int_equal(mib.FragOKs, 1);
	assert_int_equal(mib.FragCreates, 14);
	free(back);
	free(m);
}

/* Longer than a reassembly buffer holds: refused, counted. */
static void oversized_datagram_fails(void **state)
{
	struct nfx *fx = *state;
	const size_t len = 65400;
	uint8_t *m = calloc(1, len);
	struct wp_net_mib mib;

	assert_non_null(m);
	for (uint32_t off = 0; off < len; off += 1480) {
		uint32_t chunk =
			len - off < 1480 ? (uint32_t)(len - off) : 1480;

		inject_frag(fx, 78, 253, m, off, chunk, off + chunk < len);
	}
	nfx_mib(fx, &mib);
	assert_int_equal(mib.ReasmFails, 1);
	assert_int_equal(mib.ReasmOKs, 0);
	assert_int_equal(fx->ntx, 0);
	free(m);
}

static void udp_output_is_fragmented(void **state)
{
	struct nfx *fx = *state;
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 1800);
	uint8_t data[1800], *back;
	struct wp_udp_repr u;
	struct wp_net_mib mib;
	struct parsed p;
	size_t got;

	assert_non_null(skb);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	memcpy(wp_skb_put(skb, sizeof(data)), data, sizeof(data));
	nfx_clear_tx(fx);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 4000, PEER_IP, 5000),
			 0);
	nfx_drain_tx(fx);
	assert_int_equal(fx->ntx, 2);
	back = reassemble_sent(fx, 0, 2, WP_IPPROTO_UDP, &got);
	assert_int_equal(got, 8 + sizeof(data));
	parse_frame(&fx->tx[0], &p);
	assert_int_equal(
		wp_udp_parse(back, got, p.ip.saddr, p.ip.daddr, 0, &u, NULL),
		0);
	assert_int_equal(u.dport, 5000);
	assert_memory_equal(u.payload, data, sizeof(data));
	nfx_mib(fx, &mib);
	assert_int_equal(mib.FragOKs, 1);
	assert_int_equal(mib.FragCreates, 2);
	free(back);
}

/* Fragments after the first keep only options with the copied flag. */
static void options_on_later_fragments(void **state)
{
	struct nfx *fx = *state;
	/* security-like copied option (0x82, len 4) + record route (7) */
	const uint8_t opts[12] = {
		0x82, 4, 0xaa, 0xbb, 7, 7, 4, 0, 0, 0, 0, 0
	};
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 1800);
	struct wp_ipv4_repr r = ip_repr(OUR_IP, PEER_IP, 253, 1600);
	struct parsed p0, p1;
	uint8_t *h;

	assert_non_null(skb);
	r.options = opts;
	r.options_len = sizeof(opts);
	r.id = 99;
	memset(wp_skb_put(skb, 1600), 0x11, 1600);
	h = wp_skb_push(skb, 32);
	assert_int_equal(wp_ipv4_emit(&r, h, 32), 0);
	nfx_clear_tx(fx);
	/* through the application path: submit, drained by the core */
	assert_int_equal(wp_net_submit(fx->net, 0, skb), 0);
	nfx_run(fx);
	assert_int_equal(fx->ntx, 2);
	parse_frame(&fx->tx[0], &p0);
	parse_frame(&fx->tx[1], &p1);
	assert_int_equal(p0.ip.options_len, 12);
	assert_memory_equal(p0.ip.options, opts, 12);
	assert_int_equal(p1.ip.options_len, 12);
	assert_memory_equal(p1.ip.options, opts, 4);
	for (int i = 4; i < 11; i++)
		assert_int_equal(p1.ip.options[i], WP_IPOPT_NOOP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(in_order_fragments_reassemble),
		T(any_order_and_duplicates),
		T(overlap_kills_the_datagram),
		T(malformed_fragments_kill_the_datagram),
		T(timeout_sends_time_exceeded),
		T(no_time_exceeded_about_an_icmp_error),
		cmocka_unit_test_setup_teardown(
			flood_stays_under_the_memory_cap, setup_small_cap,
			teardown),
		T(flood_cannot_starve_the_ring),
		cmocka_unit_test_setup_teardown(fragment_and_queue_limits,
						setup_few, teardown),
		T(big_echo_is_answered_in_fragments),
		T(oversized_datagram_fails),
		T(udp_output_is_fragmented),
		T(options_on_later_fragments),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
