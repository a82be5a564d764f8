// SPDX-License-Identifier: MIT
/*
 * The trace collector: its MPSC rings (bounds, order, real producer
 * threads), the filter and the sampler (every Nth, protocol, address,
 * port, limit, counters), the stamps a sample gets in the poll, the
 * record filed when the skb goes (consumed, dropped with its reason,
 * read), sessions, the latency histograms, and the capture taps. Then a
 * whole stack on virtual time: every sampled UDP packet's journey from
 * DMA to recv(), with times that never go backwards, and a wire capture.
 * Every test ends with its pools whole.
 */
#include "test_core_common.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/net.h"
#include "net/udp.h"
#include "nic/backend/pcapfile.h"
#include "skb/pool.h"
#include "stack/stack.h"
#include "trace/mpsc.h"
#include "trace/trace.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

#define NBUFS 64
#define FRAME_MAX 256
#define IP_A 0x0a000101u /* 10.0.1.1 */
#define IP_B 0x0a000002u /* 10.0.0.2 */
#define IP_C 0x0a000105u /* 10.0.1.5 */

struct fx {
	struct wp_clock clock;
	struct wp_pool *pool;
	struct wp_trace *tr;
	struct wp_drop_stats drops;
};

static int setup(void **state)
{
	struct wp_pool_config cfg = { .name = "trace", .nbufs = NBUFS };
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	wp_clock_init_virtual(&fx->clock, 1000);
	fx->pool = wp_pool_create(&cfg);
	fx->tr = wp_trace_create(&fx->clock, 2);
	if (!fx->pool || !fx->tr)
		return -1;
	wp_drop_stats_bind(&fx->drops);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	bool whole = wp_pool_is_whole(fx->pool);

	wp_drop_stats_bind(NULL);
	wp_trace_destroy(fx->tr);
	wp_pool_destroy(fx->pool);
	free(fx);
	assert_true(whole);
	return whole ? 0 : -1;
}

/* --- frames ------------------------------------------------------------- */

enum kind { K_UDP, K_TCP, K_ICMP, K_ARP, K_RUNT, K_FRAG };

/* Ethernet / IPv4 / {UDP, TCP, ICMP echo} from saddr:sport to
 * daddr:dport, built with the wire emitters. Returns the length. */
static uint32_t frame(uint8_t *f, enum kind k, uint32_t saddr, uint32_t daddr,
		      uint16_t sport, uint16_t dport)
{
	struct wp_eth_repr eth = { .ethertype = WP_ETH_P_IP };
	struct wp_ipv4_repr ip = {
		.saddr = saddr, .daddr = daddr, .ttl = 64, .id = 7
	};
	uint8_t *l4 = f + WP_ETH_HLEN + WP_IPV4_HLEN;
	size_t l4len = 0;

	memset(f, 0, FRAME_MAX);
	memset(eth.dst.b, 0x02, 6);
	memset(eth.src.b, 0x04, 6);
	if (k == K_ARP) {
		eth.ethertype = WP_ETH_P_ARP;
		assert_int_equal(wp_eth_emit(&eth, f, FRAME_MAX), 0);
		return 60;
	}
	if (k == K_RUNT)
		return 10;
	switch (k) {
	case K_UDP:
	case K_FRAG: {
		struct wp_udp_repr u = { .sport = sport, .dport = dport };

		ip.protocol = WP_TRACE_PROTO_UDP;
		assert_int_equal(wp_udp_emit(&u, saddr, daddr, l4, 64), 0);
		l4len = 8 + 16;
		memset(l4 + 8, 0xab, 16);
		/* recompute with the payload in place */
		u.payload = l4 + 8;
		u.payload_len = 16;
		assert_int_equal(wp_udp_emit(&u, saddr, daddr, l4, 64), 0);
		if (k == K_FRAG)
			ip.frag_offset = 64;
		break;
	}
	case K_TCP: {
		struct wp_tcp_repr t = { .sport = sport,
					 .dport = dport,
					 .seq = 1,
					 .flags = WP_TCP_SYN,
					 .window = 1000 };

		ip.protocol = WP_TRACE_PROTO_TCP;
		assert_int_equal(wp_tcp_emit(&t, saddr, daddr, l4, 64), 0);
		l4len = (size_t)wp_tcp_hdr_len(&t);
		break;
	}
	case K_ICMP: {
		struct wp_icmp_repr ic = { .type = WP_ICMP_ECHO, .id = 1 };

		ip.protocol = WP_TRACE_PROTO_ICMP;
		assert_int_equal(wp_icmp_emit(&ic, l4, 64), 0);
		l4len = 8;
		break;
	}
	default:
		break;
	}
	ip.payload_len = (uint16_t)l4len;
	assert_int_equal(wp_eth_emit(&eth, f, FRAME_MAX), 0);
	assert_int_equal(wp_ipv4_emit(&ip, f + WP_ETH_HLEN, FRAME_MAX), 0);
	return (uint32_t)(WP_ETH_HLEN + WP_IPV4_HLEN + l4len);
}

/*
 * What the driver poll does with one frame: pick (tap, decide), build,
 * stamp. DMA'd at `dma`; the poll runs at the clock's time. Returns the
 * skb (the caller lets it go).
 */
static struct wp_skb *poll_one(struct fx *fx, struct wp_trace_poll *tp,
			       const uint8_t *f, uint32_t len, uint64_t dma)
{
	uint8_t *buf = wp_pool_get_buf(fx->pool);
	struct wp_skb *skb;
	bool sampled = false;

	assert_non_null(buf);
	memcpy(buf + WP_SKB_HEADROOM, f, len);
	if (tp->tc)
		sampled = wp_trace_rx_pick(tp, buf + WP_SKB_HEADROOM, len, dma);
	skb = wp_build_skb(fx->pool, buf, WP_SKB_HEADROOM, len);
	assert_non_null(skb);
	if (sampled)
		wp_trace_rx_sampled(tp, skb);
	return skb;
}

static struct wp_skb *poll_kind(struct fx *fx, uint32_t cpu, enum kind k,
				uint16_t dport)
{
	struct wp_trace_poll tp;
	uint8_t f[FRAME_MAX];
	uint32_t len = frame(f, k, IP_A, IP_B, 1024, dport);
	uint64_t now = wp_clock_now(&fx->clock);

	wp_trace_poll_begin(&tp, fx->tr, cpu, (uint16_t)cpu, 0);
	return poll_one(fx, &tp, f, len, now);
}

static void set_filter(struct fx *fx, uint32_t every, uint8_t proto,
		       uint32_t addr, uint16_t port, uint64_t limit)
{
	struct wp_trace_filter f = { .every = every,
				     .proto = proto,
				     .addr = addr,
				     .port = port,
				     .limit = limit };

	assert_int_equal(wp_trace_set_filter(fx->tr, &f), 0);
}

/* --- the MPSC ring ----------------------------------------------------------
 */

static void test_mpsc_bounds_and_order(void **state)
{
	struct wp__mpsc r;
	uint64_t pos;
	uint32_t *p;

	(void)state;
	assert_int_equal(wp__mpsc_init(&r, 3, 4), -EINVAL);
	assert_int_equal(wp__mpsc_init(&r, 1, 4), -EINVAL);
	assert_int_equal(wp__mpsc_init(&r, 4, 0), -EINVAL);
	assert_int_equal(wp__mpsc_init(&r, 4, sizeof(uint32_t)), 0);
	assert_null(wp__mpsc_peek(&r));
	/* Three laps of a 4-slot ring, filled to the brim each time. */
	for (uint32_t lap = 0, v = 0; lap < 3; lap++) {
		for (int i = 0; i < 4; i++) {
			p = wp__mpsc_claim(&r, &pos);
			assert_non_null(p);
			*p = v + (uint32_t)i;
			wp__mpsc_commit(&r, pos);
		}
		assert_int_equal(wp__mpsc_count(&r), 4);
		assert_null(wp__mpsc_claim(&r, &pos));
		assert_int_equal(wp__mpsc_dropped(&r), lap + 1);
		for (int i = 0; i < 4; i++) {
			const uint32_t *q = wp__mpsc_peek(&r);

			assert_non_null(q);
			assert_int_equal(*q, v + (uint32_t)i);
			wp__mpsc_pop(&r);
		}
		assert_null(wp__mpsc_peek(&r));
		v += 4;
	}
	/* A claimed slot not yet committed holds the consumer there. */
	p = wp__mpsc_claim(&r, &pos);
	assert_non_null(p);
	assert_null(wp__mpsc_peek(&r));
	*p = 99;
	wp__mpsc_commit(&r, pos);
	assert_int_equal(*(const uint32_t *)wp__mpsc_peek(&r), 99);
	wp__mpsc_pop(&r);
	wp__mpsc_destroy(&r);
}

#define PRODUCERS 4
#define PER_PRODUCER 200000

struct prod {
	struct wp__mpsc *r;
	uint32_t id;
	uint64_t pushed;
};

static void *producer(void *arg)
{
	struct prod *p = arg;

	for (uint32_t i = 0; i < PER_PRODUCER; i++) {
		uint64_t pos;
		uint64_t *slot = wp__mpsc_claim(p->r, &pos);

		if (!slot)
			continue;
		slot[0] = p->id;
		slot[1] = i;
		wp__mpsc_commit(p->r, pos);
		p->pushed++;
	}
	return NULL;
}

/* Real threads: every published item arrives once, each producer's in
 * its order, and pushed + dropped is everything offered. */
static void test_mpsc_threads(void **state)
{
	struct wp__mpsc r;
	struct prod p[PRODUCERS];
	pthread_t t[PRODUCERS];
	uint64_t next[PRODUCERS] = { 0 }, got = 0, pushed = 0;
	bool done = false;

	(void)state;
	assert_int_equal(wp__mpsc_init(&r, 256, 2 * sizeof(uint64_t)), 0);
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		p[i] = (struct prod){ .r = &r, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, producer, &p[i]),
				 0);
	}
	while (!done) {
		const uint64_t *s = wp__mpsc_peek(&r);

		if (!s) {
			done = got + wp__mpsc_dropped(&r) ==
			       (uint64_t)PRODUCERS * PER_PRODUCER;
			continue;
		}
		assert_true(s[0] < PRODUCERS);
		assert_true(s[1] >= next[s[0]]);
		next[s[0]] = s[1] + 1;
		wp__mpsc_pop(&r);
		got++;
	}
	for (uint32_t i = 0; i < PRODUCERS; i++) {
		pthread_join(t[i], NULL);
		pushed += p[i].pushed;
	}
	assert_int_equal(got, pushed);
	assert_true(got > 0);
	wp__mpsc_destroy(&r);
}

/* --- filter and sampler -----------------------------------------------------
 */

static void test_filter_refused(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_filter f = { .every = 1, .proto = 2 };
	struct wp_trace_filter got;

	assert_int_equal(wp_trace_set_filter(fx->tr, &f), -EINVAL);
	f.proto = WP_TRACE_PROTO_ICMP;
	f.port = 7;
	assert_int_equal(wp_trace_set_filter(fx->tr, &f), -EINVAL);
	f.port = 0;
	assert_int_equal(wp_trace_set_filter(fx->tr, &f), 0);
	wp_trace_get_filter(fx->tr, &got);
	assert_int_equal(got.proto, WP_TRACE_PROTO_ICMP);
	assert_null(wp_trace_create(&fx->clock, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(wp_trace_create(NULL, 1));
}

/* Off: the poll does nothing at all, no skb gets stamps. */
static void test_off_costs_nothing(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_poll tp;
	struct wp_trace_stats st;

	wp_trace_poll_begin(&tp, fx->tr, 0, 0, 0);
	assert_null(tp.tc);
	wp_trace_poll_begin(&tp, NULL, 0, 0, 0);
	assert_null(tp.tc);
	wp_consume_skb(poll_kind(fx, 0, K_UDP, 9));
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.seen, 0);
	assert_int_equal(wp_trace_drain(fx->tr), 0);
}

static void test_every_nth(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_stats st;
	int stamped = 0;

	set_filter(fx, 4, 0, 0, 0, 0);
	for (int i = 0; i < 20; i++) {
		struct wp_skb *skb = poll_kind(fx, 0, K_UDP, 9);

		stamped += skb->stamps != NULL;
		/* The 4th, 8th, ... */
		assert_int_equal(skb->stamps != NULL, (i + 1) % 4 == 0);
		wp_consume_skb(skb);
	}
	assert_int_equal(stamped, 5);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.seen, 20);
	assert_int_equal(st.matched, 20);
	assert_int_equal(st.filtered, 0);
	assert_int_equal(st.sampled, 5);
	/* The core drained earlier records itself as it sampled. */
	wp_trace_drain(fx->tr);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.records, 5);
}

static void test_filter_proto_addr_port(void **state)
{
	struct fx *fx = *state;
	static const struct {
		enum kind k;
		uint16_t dport;
		bool udp9, tcp, icmp, port80;
	} cases[] = {
		{ K_UDP, 9, true, false, false, false },
		{ K_UDP, 80, false, false, false, true },
		{ K_TCP, 80, false, true, false, true },
		{ K_ICMP, 0, false, false, true, false },
		{ K_ARP, 0, false, false, false, false },
		{ K_RUNT, 0, false, false, false, false },
		/* a non-first fragment has no ports to match */
		{ K_FRAG, 9, false, false, false, false },
	};
	struct wp_trace_stats st;
	uint64_t want = 0;

	for (int pass = 0; pass < 4; pass++) {

		switch (pass) {
		case 0:
			set_filter(fx, 1, WP_TRACE_PROTO_UDP, 0, 9, 0);
			break;
		case 1:
			set_filter(fx, 1, WP_TRACE_PROTO_TCP, 0, 0, 0);
			break;
		case 2:
			set_filter(fx, 1, WP_TRACE_PROTO_ICMP, 0, 0, 0);
			break;
		case 3:
			set_filter(fx, 1, 0, 0, 80, 0);
			break;
		}
		for (size_t i = 0; i < WP_ARRAY_SIZE(cases); i++) {
			struct wp_skb *skb =
				poll_kind(fx, 0, cases[i].k, cases[i].dport);
			bool m = pass == 0   ? cases[i].udp9
				 : pass == 1 ? cases[i].tcp
				 : pass == 2 ? cases[i].icmp
					     : cases[i].port80;

			assert_int_equal(skb->stamps != NULL, m);
			want += m;
			wp_consume_skb(skb);
		}
		wp_trace_drain(fx->tr);
		wp_trace_get_stats(fx->tr, &st);
		assert_int_equal(st.records, want);
	}
	assert_int_equal(st.seen, 4 * WP_ARRAY_SIZE(cases));
	assert_int_equal(st.filtered + st.matched, st.seen);
	assert_int_equal(st.sampled, st.matched);
	assert_int_equal(st.sampled, 1 + 1 + 1 + 2);

	/* An address matches source or destination. */
	set_filter(fx, 1, 0, IP_A, 0, 0);
	wp_consume_skb(poll_kind(fx, 1, K_UDP, 9));
	set_filter(fx, 1, 0, IP_B, 0, 0);
	wp_consume_skb(poll_kind(fx, 1, K_UDP, 9));
	set_filter(fx, 1, 0, IP_C, 0, 0);
	wp_consume_skb(poll_kind(fx, 1, K_UDP, 9));
	wp_trace_drain(fx->tr);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.records, want + 2);
}

static void test_limit(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_stats st;

	set_filter(fx, 1, 0, 0, 0, 3);
	for (int i = 0; i < 10; i++)
		wp_consume_skb(poll_kind(fx, (uint32_t)i & 1, K_UDP, 9));
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.sampled, 3);
	assert_int_equal(st.limited, 7);
	/* A new filter starts a new limit. */
	set_filter(fx, 1, 0, 0, 0, 1);
	wp_consume_skb(poll_kind(fx, 0, K_UDP, 9));
	wp_consume_skb(poll_kind(fx, 0, K_UDP, 9));
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.sampled, 4);
	wp_trace_drain(fx->tr);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.records, 4);
}

/* --- stamps and records --------------------------------------------------- */

static void test_stamps_in_the_poll(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_poll tp;
	struct wp_trace_record r;
	uint8_t f[FRAME_MAX];
	uint32_t len = frame(f, K_UDP, IP_A, IP_B, 1024, 9);
	struct wp_skb *skb;

	assert_int_equal(
		wp_trace_session_begin(
			fx->tr, &(struct wp_trace_filter){ .every = 1 }, 8),
		0);
	/* DMA at 2000, top half at 3000, poll at 5000. */
	wp_clock_set(&fx->clock, 5000);
	wp_trace_poll_begin(&tp, fx->tr, 1, 1, 3000);
	skb = poll_one(fx, &tp, f, len, 2000);
	assert_non_null(skb->stamps);
	assert_int_equal(skb->stamps->ns[WP_STAMP_DMA], 2000);
	assert_int_equal(skb->stamps->ns[WP_STAMP_IRQ], 3000);
	assert_int_equal(skb->stamps->ns[WP_STAMP_NAPI_POLL], 5000);
	assert_int_equal(skb->stamps->ns[WP_STAMP_SKB_BUILT], 5000);
	/* The stages above stamp as the packet climbs. */
	wp_clock_set(&fx->clock, 6000);
	wp_skb_stamp(skb, WP_STAMP_GRO, 6000);
	wp_skb_stamp(skb, WP_STAMP_NETIF_RX, 6100);
	wp_consume_skb(skb);

	/* A frame DMA'd after the last top half rode a poll already
	 * scheduled: no IRQ stage. */
	wp_trace_poll_begin(&tp, fx->tr, 1, 1, 3000);
	skb = poll_one(fx, &tp, f, len, 4000);
	assert_int_equal(skb->stamps->ns[WP_STAMP_IRQ], 0);
	wp_kfree_skb_reason(skb, WP_DROP_NO_SOCKET);

	assert_int_equal(wp_trace_session_take(fx->tr, &r, 1), 1);
	assert_int_equal(r.d.id, 1);
	assert_int_equal(r.d.cpu, 1);
	assert_int_equal(r.d.queue, 1);
	assert_int_equal(r.d.len, len);
	assert_int_equal(r.d.proto, WP_TRACE_PROTO_UDP);
	assert_int_equal(r.d.saddr, IP_A);
	assert_int_equal(r.d.daddr, IP_B);
	assert_int_equal(r.d.sport, 1024);
	assert_int_equal(r.d.dport, 9);
	assert_int_equal(r.ns[WP_STAMP_GRO], 6000);
	assert_int_equal(r.ns[WP_STAMP_NETIF_RX], 6100);
	assert_int_equal(r.ns[WP_STAMP_IP_RCV], 0);
	assert_int_equal(r.end_ns, 6000);
	assert_false(r.d.flags & WP_TRACE_F_DROPPED);

	assert_int_equal(wp_trace_session_take(fx->tr, &r, 1), 1);
	assert_int_equal(r.d.id, 2);
	assert_true(r.d.flags & WP_TRACE_F_DROPPED);
	assert_int_equal(r.drop_reason, WP_DROP_NO_SOCKET);
	assert_int_equal(wp_trace_session_take(fx->tr, &r, 1), 0);
	wp_trace_session_end(fx->tr);
}

/* The last reference files the record, whichever it is; a clone files
 * its own. */
static void test_record_on_last_reference(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_record r[4];
	struct wp_skb *skb, *clone;

	assert_int_equal(
		wp_trace_session_begin(
			fx->tr, &(struct wp_trace_filter){ .every = 1 }, 8),
		0);
	skb = poll_kind(fx, 0, K_UDP, 9);
	wp_skb_get(skb);
	wp_consume_skb(skb);
	assert_int_equal(wp_trace_session_take(fx->tr, r, 4), 0);
	wp_skb_stamp(skb, WP_STAMP_READ, 9999);
	clone = wp_skb_clone(skb);
	assert_non_null(clone);
	wp_consume_skb(skb);
	assert_int_equal(wp_trace_session_take(fx->tr, r, 4), 1);
	assert_int_equal(r[0].ns[WP_STAMP_READ], 9999);
	wp_kfree_skb_reason(clone, WP_DROP_SOCKET_CLOSED);
	assert_int_equal(wp_trace_session_take(fx->tr, r, 4), 1);
	assert_int_equal(r[0].d.id, 1);
	assert_int_equal(r[0].drop_reason, WP_DROP_SOCKET_CLOSED);
	wp_trace_session_end(fx->tr);
}

/* A full record ring drops and counts; nothing waits, nothing leaks. */
static void test_record_ring_bound(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_stats st;
	const uint32_t n = WP_TRACE_RECORDS + 10;

	/* A session keeps the core from draining its own ring. */
	assert_int_equal(
		wp_trace_session_begin(fx->tr,
				       &(struct wp_trace_filter){ .every = 1 },
				       WP_TRACE_SESSION_MAX),
		0);
	for (uint32_t i = 0; i < n; i++)
		wp_consume_skb(poll_kind(fx, 0, K_UDP, 9));
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.sampled, n);
	assert_int_equal(st.records_dropped, 10);
	assert_int_equal(wp_trace_drain(fx->tr), WP_TRACE_RECORDS);
	wp_trace_session_end(fx->tr);
}

/* Without a session, the sampling core drains its own ring as it goes:
 * no records are lost however long nobody asks. */
static void test_core_drains_its_ring(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_latency *lat = malloc(sizeof(*lat));
	struct wp_trace_stats st;
	const uint32_t n = 3 * WP_TRACE_RECORDS;

	assert_non_null(lat);
	set_filter(fx, 1, 0, 0, 0, 0);
	for (uint32_t i = 0; i < n; i++)
		wp_consume_skb(poll_kind(fx, 0, K_UDP, 9));
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.records_dropped, 0);
	assert_true(st.records > 0);
	wp_trace_latency(fx->tr, lat);
	assert_int_equal(lat->total.count, n);
	free(lat);
}

static void test_session_rules(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_filter f = { .every = 1,
				     .proto = WP_TRACE_PROTO_UDP,
				     .port = 9 };
	struct wp_trace_filter bg = { .every = 1000 }, got;
	struct wp_trace_record r[8];

	set_filter(fx, 1, 0, 0, 0, 0);
	/* Sampled under the old filter: histograms only. */
	wp_consume_skb(poll_kind(fx, 0, K_TCP, 80));
	assert_int_equal(wp_trace_set_filter(fx->tr, &bg), 0);
	assert_int_equal(wp_trace_session_begin(fx->tr, &f, 0), -EINVAL);
	assert_int_equal(
		wp_trace_session_begin(fx->tr, &f, WP_TRACE_SESSION_MAX + 1),
		-EINVAL);
	assert_int_equal(
		wp_trace_session_begin(
			fx->tr, &(struct wp_trace_filter){ .every = 0 }, 2),
		-EINVAL);
	assert_int_equal(wp_trace_session_begin(fx->tr, &f, 2), 0);
	assert_int_equal(wp_trace_session_begin(fx->tr, &f, 2), -EBUSY);
	assert_int_equal(wp_trace_set_filter(fx->tr, &bg), -EBUSY);
	for (int i = 0; i < 5; i++) {
		wp_consume_skb(poll_kind(fx, (uint32_t)i & 1, K_TCP, 80));
		wp_consume_skb(poll_kind(fx, (uint32_t)i & 1, K_UDP, 9));
	}
	/* count 2: two samples, then the limit */
	assert_int_equal(wp_trace_session_take(fx->tr, r, 8), 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(r[i].d.proto, WP_TRACE_PROTO_UDP);
	wp_trace_session_end(fx->tr);
	wp_trace_session_end(fx->tr);
	assert_int_equal(wp_trace_session_take(fx->tr, r, 8), 0);
	wp_trace_get_filter(fx->tr, &got);
	assert_int_equal(got.every, 1000);
}

/* Each stage's histogram holds the time since the previous stage the
 * packet reached, skipping those it did not. */
static void test_latency_per_stage(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_latency *lat = malloc(sizeof(*lat));
	struct wp_trace_poll tp;
	uint8_t f[FRAME_MAX];
	uint32_t len = frame(f, K_UDP, IP_A, IP_B, 1024, 9);

	assert_non_null(lat);
	set_filter(fx, 1, 0, 0, 0, 0);
	for (int i = 0; i < 10; i++) {
		struct wp_skb *skb;

		wp_clock_set(&fx->clock, 100000 * (uint64_t)(i + 1));
		wp_trace_poll_begin(&tp, fx->tr, 0, 0, 0);
		skb = poll_one(fx, &tp, f, len, wp_clock_now(&fx->clock) - 50);
		wp_skb_stamp(skb, WP_STAMP_GRO, skb->stamps->ns[2] + 7);
		wp_skb_stamp(skb, WP_STAMP_IP_RCV, skb->stamps->ns[2] + 10);
		wp_consume_skb(skb);
	}
	wp_trace_latency(fx->tr, lat);
	assert_int_equal(lat->stage[WP_STAMP_DMA].count, 0);
	assert_int_equal(lat->stage[WP_STAMP_IRQ].count, 0);
	assert_int_equal(lat->stage[WP_STAMP_NAPI_POLL].count, 10);
	assert_int_equal(wp_hist_quantile(&lat->stage[WP_STAMP_NAPI_POLL], .5),
			 50);
	assert_int_equal(lat->stage[WP_STAMP_GRO].count, 10);
	assert_int_equal(wp_hist_quantile(&lat->stage[WP_STAMP_GRO], .99), 7);
	assert_int_equal(lat->stage[WP_STAMP_NETIF_RX].count, 0);
	assert_int_equal(wp_hist_quantile(&lat->stage[WP_STAMP_IP_RCV], .5), 3);
	assert_int_equal(wp_hist_quantile(&lat->total, .5), 60);
	{
		char buf[4096];
		FILE *m = fmemopen(buf, sizeof(buf), "w");
		struct wp_trace_stats st;
		struct wp_trace_filter f = { .every = 1 };

		wp_trace_get_stats(fx->tr, &st);
		wp_trace_latency_print(lat, &st, &f, true, m);
		fclose(m);
		assert_non_null(strstr(buf, "{\"stage\":\"GRO\",\"function\":"
					    "\"GRO (wp_napi_gro_receive)\","
					    "\"samples\":10,\"p50_ns\":7,"));
		assert_non_null(strstr(buf, "{\"stage\":\"TOTAL\""));
		m = fmemopen(buf, sizeof(buf), "w");
		wp_trace_latency_print(lat, &st, &f, false, m);
		fclose(m);
		assert_non_null(strstr(buf, "(1 in 1 received per core): 10 "
					    "records, 0 lost"));
		assert_non_null(strstr(buf, "Sampler: 10 frames seen, 0 "
					    "filtered out, 10 sampled, 0 over "
					    "a limit."));
	}
	free(lat);
}

static void test_print(void **state)
{
	struct fx *fx = *state;
	struct wp_trace_record r = { 0 };
	char buf[4096], fn[96];
	FILE *m = fmemopen(buf, sizeof(buf), "w");

	(void)fx;
	assert_non_null(m);
	r.d.id = 3;
	r.d.flags = WP_TRACE_F_IPV4 | WP_TRACE_F_PORTS;
	r.d.proto = WP_TRACE_PROTO_UDP;
	r.d.saddr = IP_A;
	r.d.daddr = IP_B;
	r.d.sport = 1024;
	r.d.dport = 9;
	r.ns[WP_STAMP_DMA] = 1000;
	r.ns[WP_STAMP_NAPI_POLL] = 3000;
	r.ns[WP_STAMP_DATA_READY] = 4000;
	r.wake_kind = 1u << WP_WAKE_EP_POLL_CALLBACK;
	r.end_ns = 5000;
	wp_trace_record_print(&r, m);
	fclose(m);
	assert_non_null(strstr(buf, "udp 10.0.1.1:1024 -> 10.0.0.2:9"));
	assert_non_null(strstr(buf, "wp_nic rx DMA (DD set)"));
	assert_non_null(strstr(buf, "sk_data_ready -> ep_poll_callback"));
	assert_non_null(strstr(buf, "\n  IRQ"
				    "                "
				    "not reached"));
	assert_non_null(strstr(buf, "end: consumed"));
	r.wake_kind = 0;
	assert_string_equal(
		wp_trace_stage_func(&r, WP_STAMP_DATA_READY, fn, sizeof(fn)),
		"sk_data_ready -> no waiter");
	r.d.proto = WP_TRACE_PROTO_TCP;
	assert_string_equal(
		wp_trace_stage_func(&r, WP_STAMP_L4_RCV, fn, sizeof(fn)),
		"wp_tcp_v4_rcv");
	m = fmemopen(buf, sizeof(buf), "w");
	assert_non_null(m);
	r.d.flags |= WP_TRACE_F_DROPPED;
	r.drop_reason = WP_DROP_UDP_CSUM;
	wp_trace_record_json(&r, m);
	fclose(m);
	assert_non_null(strstr(buf, "{\"id\":3,"));
	assert_non_null(strstr(buf, "\"sport\":1024,\"dport\":9"));
	assert_non_null(strstr(buf, "{\"stage\":\"IRQ\",\"function\":"
				    "\"IRQ top half (wp0-TxRx-0)\","
				    "\"reached\":false}"));
	assert_non_null(strstr(buf, "\"ns\":3000,\"since_dma_ns\":2000,"
				    "\"delta_ns\":2000}"));
	assert_non_null(strstr(buf, "\"end\":\"dropped\","
				    "\"drop_reason\":\"udp_csum\""));
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)strlen(buf));
	assert_string_equal(wp_trace_stage_name(WP_STAMP__MAX), "?");
	assert_string_equal(wp_tap_point_name(WP_TAP_SOCKET), "socket");
}

/* --- capture
 * ------------------------------------------------------------------ */

struct sink {
	uint32_t n;
	uint64_t last_ts;
	uint32_t lens[64];
	uint8_t tx[64];
	bool ordered;
	uint32_t stop_at;
};

static int sink_fn(void *ctx, const struct wp_trace_frame *f)
{
	struct sink *s = ctx;

	if (f->ts_ns < s->last_ts)
		s->ordered = false;
	s->last_ts = f->ts_ns;
	if (s->n < 64) {
		s->lens[s->n] = f->len;
		s->tx[s->n] = f->tx;
	}
	s->n++;
	return s->stop_at && s->n == s->stop_at;
}

static void test_capture_wire(void **state)
{
	struct fx *fx = *state;
	struct sink s = { .ordered = true };
	struct wp_trace_stats st;

	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP__MAX, 1),
			 -EINVAL);
	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_WIRE, 5), 0);
	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_GRO, 5), -EBUSY);
	assert_true(wp_trace_tap_on(fx->tr, WP_TAP_WIRE));
	assert_false(wp_trace_tap_on(fx->tr, WP_TAP_GRO));
	/* Cores interleave in time: the drain merges them in order. */
	for (int i = 0; i < 8; i++) {
		wp_clock_set(&fx->clock, 10000 + 1000 * (uint64_t)i);
		wp_consume_skb(poll_kind(fx, (uint32_t)(i % 2), K_UDP, 9));
	}
	assert_true(wp_trace_capture_full(fx->tr));
	assert_int_equal(wp_trace_capture_drain(fx->tr, sink_fn, &s), 5);
	assert_true(s.ordered);
	assert_int_equal(s.lens[0], 14 + 20 + 8 + 16);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.captured, 5);
	wp_trace_capture_stop(fx->tr);
	assert_false(wp_trace_tap_on(fx->tr, WP_TAP_WIRE));

	/* Leftovers of a capture never reach the next one; a full ring
	 * drops, counts, and does not use up --count. */
	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_WIRE, 0), 0);
	for (uint32_t i = 0; i < WP_TRACE_CAPTURE_SLOTS + 3; i++)
		wp_trace_tap(wp_trace_cpu(fx->tr, 0), WP_TAP_WIRE,
			     (const uint8_t *)"0123456789abcdef", 16, i, true);
	wp_trace_get_stats(fx->tr, &st);
	assert_int_equal(st.capture_dropped, 3);
	wp_trace_capture_stop(fx->tr);
	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_WIRE, 2), 0);
	s = (struct sink){ .ordered = true };
	assert_int_equal(wp_trace_capture_drain(fx->tr, sink_fn, &s), 0);
	wp_trace_tap(wp_trace_cpu(fx->tr, 1), WP_TAP_WIRE,
		     (const uint8_t *)"0123456789abcdef", 16, 1, true);
	wp_trace_tap(wp_trace_cpu(fx->tr, 1), WP_TAP_GRO,
		     (const uint8_t *)"0123456789abcdef", 16, 2, false);
	s = (struct sink){ .ordered = true, .stop_at = 1 };
	assert_int_equal(wp_trace_capture_drain(fx->tr, sink_fn, &s), 1);
	assert_int_equal(s.tx[0], 1);
	wp_trace_capture_stop(fx->tr);
}

/* The socket tap finds its core through the thread's binding, and
 * takes the frame from the MAC header even after the layers pulled. */
static void test_capture_socket_binding(void **state)
{
	struct fx *fx = *state;
	struct sink s = { .ordered = true };
	struct wp_skb *skb = poll_kind(fx, 0, K_UDP, 9);

	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_SOCKET, 0), 0);
	wp_trace_tap_socket(skb); /* unbound: nowhere to go */
	assert_null(wp_trace_bind(wp_trace_cpu(fx->tr, 1)));
	wp_skb_reset_mac_header(skb);
	assert_non_null(wp_skb_pull(skb, 14 + 20 + 8));
	wp_trace_tap_socket(skb);
	assert_ptr_equal(wp_trace_bind(NULL), wp_trace_cpu(fx->tr, 1));
	wp_trace_capture_stop(fx->tr);
	wp_trace_tap_socket(skb);
	assert_int_equal(wp_trace_capture_drain(fx->tr, sink_fn, &s), 1);
	assert_int_equal(s.lens[0], 14 + 20 + 8 + 16);
	wp_consume_skb(skb);
}

static int to_pcap(void *ctx, const struct wp_trace_frame *f)
{
	return wp_pcap_write_part(ctx, f->ts_ns, f->data, f->caplen, f->len);
}

/* Captured frames make a pcap file the reader (and tshark) takes; a
 * frame longer than a capture slot keeps its length on the wire. */
static void test_capture_to_pcap(void **state)
{
	struct fx *fx = *state;
	static uint8_t big[3000];
	uint8_t f[FRAME_MAX];
	uint32_t len = frame(f, K_UDP, IP_A, IP_B, 1024, 9);
	char path[] = "/tmp/test_trace_XXXXXX";
	struct wp_pcap_writer w;
	struct wp_pcap_reader r;
	struct wp_pcap_record rec;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(wp_pcap_writer_open(&w, path), 0);
	assert_int_equal(wp_pcap_write_part(&w, 1, f, 20, 10), -EINVAL);
	assert_int_equal(wp_trace_capture_start(fx->tr, WP_TAP_GRO, 0), 0);
	memcpy(big, f, len);
	wp_trace_tap(wp_trace_cpu(fx->tr, 0), WP_TAP_GRO, f, len,
		     3 * WP_NSEC_PER_SEC + 5, false);
	wp_trace_tap(wp_trace_cpu(fx->tr, 1), WP_TAP_GRO, big, sizeof(big),
		     3 * WP_NSEC_PER_SEC + 7, false);
	assert_int_equal(wp_trace_capture_drain(fx->tr, to_pcap, &w), 2);
	wp_trace_capture_stop(fx->tr);
	assert_int_equal(wp_pcap_writer_close(&w), 0);

	assert_int_equal(wp_pcap_reader_open(&r, path), 0);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.ts_ns, 3 * WP_NSEC_PER_SEC + 5);
	assert_int_equal(rec.caplen, len);
	assert_int_equal(rec.len, len);
	assert_memory_equal(rec.data, f, len);
	assert_int_equal(wp_pcap_read(&r, &rec), 1);
	assert_int_equal(rec.caplen, WP_TRACE_SNAPLEN);
	assert_int_equal(rec.len, sizeof(big));
	assert_int_equal(wp_pcap_read(&r, &rec), 0);
	wp_pcap_reader_close(&r);
	unlink(path);
}

/* --- a whole stack on virtual time ---------------------------------------- */

/*
 * The sim backend sends UDP to 10.0.0.2:9; a socket bound there is read
 * as an application would (dequeue, stamp READ, release) after each
 * step. Every sampled packet reaches every stage but IRQ (which only
 * the packets that opened a poll have), in order, times non-decreasing.
 */
static void test_stack_journey(void **state)
{
	struct wp_stack_config cfg;
	struct wp_stack *s;
	struct wp_udp_sock *usk;
	struct wp_trace_record r[64];
	struct wp_trace_filter f = { .every = 1,
				     .proto = WP_TRACE_PROTO_UDP,
				     .port = 9 };
	struct sink cap = { .ordered = true };
	char err[256];
	size_t n = 0;
	uint32_t with_irq = 0;

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.rate_pps = 100000;
	cfg.flows = 4;
	cfg.queues = 2;
	cfg.cores = 2;
	s = wp_stack_create(&cfg, err, sizeof(err));
	assert_non_null(s);
	assert_non_null(s->trace);
	usk = wp_udp_sock_alloc(s->net);
	assert_non_null(usk);
	assert_int_equal(wp_udp_bind(usk, 0, 9), 0);

	assert_int_equal(wp_trace_session_begin(s->trace, &f, 40), 0);
	assert_int_equal(wp_trace_capture_start(s->trace, WP_TAP_WIRE, 20), 0);
	for (uint64_t t = 0; t < 50 * WP_NSEC_PER_MSEC && n < 40;
	     t += 100 * WP_NSEC_PER_USEC) {
		struct wp_skb *skb;

		assert_int_equal(wp_stack_run_until(s, t), 0);
		while ((skb = wp_sock_dequeue_rcv_skb(&usk->sk))) {
			wp_skb_stamp(skb, WP_STAMP_READ, wp_stack_now(s));
			wp_consume_skb(skb);
		}
		n += wp_trace_session_take(s->trace, r + n, 64 - n);
	}
	assert_int_equal(n, 40);
	for (size_t i = 0; i < n; i++) {
		uint64_t prev = 0;

		for (int st = 0; st < WP_STAMP__MAX; st++) {
			if (st == WP_STAMP_IRQ && !r[i].ns[st])
				continue;
			assert_true(r[i].ns[st] != 0);
			assert_true(r[i].ns[st] >= prev);
			prev = r[i].ns[st];
		}
		with_irq += r[i].ns[WP_STAMP_IRQ] != 0;
		assert_true(r[i].end_ns >= prev);
		assert_int_equal(r[i].d.dport, 9);
		assert_false(r[i].d.flags & WP_TRACE_F_DROPPED);
		assert_true(r[i].d.queue < 2);
	}
	assert_true(with_irq > 0);
	wp_trace_session_end(s->trace);

	assert_int_equal(wp_trace_capture_drain(s->trace, sink_fn, &cap), 20);
	assert_true(cap.ordered);
	wp_trace_capture_stop(s->trace);

	wp_udp_close(usk);
	wp_sock_put(&usk->sk);
	wp_stack_destroy(s);
}

struct reader {
	struct wp_stack *s;
	struct wp_udp_sock *usk;
	_Atomic bool stop;
	uint64_t read;
};

/* An application thread: sleeps on the socket, reads, releases. The
 * last reference of a sampled skb often goes here, off the core. */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	while (!atomic_load(&rd->stop)) {
		struct wp_skb *skb;
		uint64_t now = wp_stack_now(rd->s);

		wp_sock_wait(&rd->usk->sk, WP_EPOLLIN, &rd->s->clock,
			     now + WP_NSEC_PER_MSEC);
		while ((skb = wp_sock_dequeue_rcv_skb(&rd->usk->sk))) {
			wp_skb_stamp(skb, WP_STAMP_READ, wp_stack_now(rd->s));
			wp_consume_skb(skb);
			rd->read++;
		}
	}
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Real threads: core threads sample and stamp, an application thread
 * reads and frees, the control thread (this one) drains and captures at
 * the socket point while all of it runs. Times on the monotonic clock
 * never go backwards across the threads.
 */
static void test_stack_real_threads(void **state)
{
	struct wp_stack_config cfg;
	struct reader rd = { 0 };
	struct wp_trace_record r[32];
	struct wp_trace_filter f = { .every = 3, .proto = WP_TRACE_PROTO_UDP };
	struct sink cap = { .ordered = true };
	struct wp_trace_latency *lat = malloc(sizeof(*lat));
	pthread_t t;
	char err[256];
	size_t n = 0, read_ones = 0;

	(void)state;
	assert_non_null(lat);
	wp_stack_config_default(&cfg);
	cfg.rate_pps = 20000;
	cfg.flows = 8;
	cfg.queues = 2;
	cfg.cores = 2;
	rd.s = wp_stack_create(&cfg, err, sizeof(err));
	assert_non_null(rd.s);
	rd.usk = wp_udp_sock_alloc(rd.s->net);
	assert_non_null(rd.usk);
	/*
	 * A receive buffer deep enough (~0.3 s of this flow) that a reader
	 * starved by a loaded or sanitized host still finds most sampled
	 * packets queued rather than dropped at a full socket.
	 */
	atomic_store(&rd.usk->sk.sk_rcvbuf, 16 << 20);
	assert_int_equal(wp_udp_bind(rd.usk, 0, 9), 0);
	assert_int_equal(wp_stack_start(rd.s), 0);
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);

	assert_int_equal(wp_trace_session_begin(rd.s->trace, &f, 32), 0);
	for (int i = 0; i < 5000 && n < 32; i++) {
		sleep_ms(1);
		n += wp_trace_session_take(rd.s->trace, r + n, 32 - n);
	}
	wp_trace_session_end(rd.s->trace);
	assert_int_equal(n, 32);
	for (size_t i = 0; i < n; i++) {
		uint64_t prev = 0;

		for (int st = 0; st < WP_STAMP__MAX; st++) {
			if (!r[i].ns[st])
				continue;
			assert_true(r[i].ns[st] >= prev);
			prev = r[i].ns[st];
		}
		assert_true(r[i].end_ns >= prev);
		assert_true(r[i].ns[WP_STAMP_DMA] != 0);
		assert_true(r[i].ns[WP_STAMP_QUEUED] != 0 ||
			    (r[i].d.flags & WP_TRACE_F_DROPPED));
		/* Read, or dropped (a loaded machine starves the reader
		 * and the socket's receive buffer fills). */
		read_ones += r[i].ns[WP_STAMP_READ] != 0;
		assert_true(r[i].ns[WP_STAMP_READ] != 0 ||
			    (r[i].d.flags & WP_TRACE_F_DROPPED));
	}
	print_message("%zu of %zu traced packets read\n", read_ones, n);

	assert_int_equal(wp_trace_capture_start(rd.s->trace, WP_TAP_SOCKET, 10),
			 0);
	for (int i = 0; i < 5000 && !wp_trace_capture_full(rd.s->trace); i++)
		sleep_ms(1);
	wp_trace_capture_stop(rd.s->trace);
	assert_int_equal(wp_trace_capture_drain(rd.s->trace, sink_fn, &cap),
			 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(cap.lens[i], cfg.frame_size);

	wp_trace_latency(rd.s->trace, lat);
	assert_true(lat->stage[WP_STAMP_QUEUED].count > 0);

	atomic_store(&rd.stop, true);
	pthread_join(t, NULL);
	wp_stack_stop(rd.s);
	wp_udp_close(rd.usk);
	wp_sock_put(&rd.usk->sk);
	wp_stack_destroy(rd.s);
	free(lat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mpsc_bounds_and_order),
		cmocka_unit_test(test_mpsc_threads),
		cmocka_unit_test_setup_teardown(test_filter_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_off_costs_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_nth, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_filter_proto_addr_port,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stamps_in_the_poll, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_record_on_last_reference,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_ring_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_core_drains_its_ring,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_latency_per_stage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_wire, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_capture_socket_binding,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_to_pcap, setup,
						teardown),
		cmocka_unit_test(test_stack_journey),
		cmocka_unit_test(test_stack_real_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
