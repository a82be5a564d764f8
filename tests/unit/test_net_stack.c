// SPDX-License-Identifier: MIT
/*
 * The protocol layer inside a whole stack (src/stack): the sim backend's
 * traffic through NAPI into UDP, on virtual time and on real core
 * threads with an application thread reading and one sending; the
 * device-half accounting kept; the cores <= queues rule. Every test ends
 * with the NIC down and every pool whole.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "net/net.h"
#include "net/udp.h"
#include "skb/pool.h"
#include "stack/stack.h"

static struct wp_stack *stack_new(struct wp_stack_config *cfg)
{
	char err[256];
	struct wp_stack *s = wp_stack_create(cfg, err, sizeof(err));

	if (!s)
		fail_msg("wp_stack_create: %s", err);
	return s;
}

/* Let go of what the layer holds, then check every pool is whole. */
static void stack_free(struct wp_stack *s)
{
	wp_stack_stop(s);
	wp_net_destroy(s->net);
	s->net = NULL;
	wp_nic_down(s->nic);
	for (uint16_t q = 0; q < s->nic->cfg.nqueues; q++)
		assert_true(wp_pool_is_whole(s->nic->rxq[q].pool));
	wp_stack_destroy(s);
}

static void cores_need_their_own_queue(void **state)
{
	struct wp_stack_config cfg;
	char err[256];

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.cores = 2;
	cfg.queues = 1;
	assert_null(wp_stack_create(&cfg, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "--cores 2 is more than --queues 1"));
	cfg.gw = (192u << 24) | 1; /* off the subnet */
	cfg.cores = 1;
	assert_null(wp_stack_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "--gw"));
}

/* Sim traffic (UDP to port 9 from 10.0.1.x, via the gateway): every
 * frame is accounted at the top of the device half and reaches UDP; the
 * port unreachables are rate limited and wait for an ARP nobody answers. */
static void sim_traffic_on_virtual_time(void **state)
{
	struct wp_stack_config cfg;
	struct wp_stack_rx rx;
	struct wp_net_mib m;
	struct wp_stack *s;

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.rate_pps = 10000;
	cfg.flows = 4;
	cfg.gw = (10u << 24) | 1;
	s = stack_new(&cfg);
	/* the frame due at 0.5 s is handed up after rx-usecs (50 us) */
	assert_int_equal(wp_stack_run_until(s, WP_NSEC_PER_SEC / 2 +
						       60 * WP_NSEC_PER_USEC),
			 0);
	wp_stack_rx_totals(s, &rx);
	wp_net_mib_sum(s->net, &m);
	assert_int_equal(rx.packets, 5000);
	assert_int_equal(m.InReceives, 5000);
	assert_int_equal(m.UdpNoPorts, 5000);
	/* 4 sources, 6 each at first, one a second after: 24 */
	assert_int_equal(m.IcmpOutDestUnreachs, 24);
	assert_int_equal(m.IcmpOutRateLimitHost, 5000 - 24);
	assert_true(rx.latency.count == 5000);
	/* the gateway never answers: three probes, then the queue goes
	 * (and the next error starts over) */
	assert_int_equal(wp_stack_run_until(s, 3 * WP_NSEC_PER_SEC - 1), 0);
	wp_net_mib_sum(s->net, &m);
	assert_int_equal(m.ArpOutRequests, 1 + 3);
	assert_int_equal(m.ArpUnresolvedDiscards, 0); /* 32 wait */
	assert_int_equal(wp_stack_run_until(s, 4 * WP_NSEC_PER_SEC), 0);
	wp_net_mib_sum(s->net, &m);
	assert_true(m.ArpUnresolvedDiscards >= 24 + 4 * 2);
	stack_free(s);
}

/* A socket on port 9 takes the sim's datagrams until its buffer fills. */
static void sim_traffic_into_a_socket(void **state)
{
	struct wp_stack_config cfg;
	struct wp_udp_sock *u;
	struct wp_net_mib m;
	struct wp_stack *s;
	uint32_t read = 0;
	struct wp_skb *skb;

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.virtual_time = true;
	cfg.rate_pps = 10000;
	s = stack_new(&cfg);
	u = wp_udp_sock_alloc(s->net);
	assert_non_null(u);
	assert_int_equal(wp_udp_bind(u, 0, 9), 0);
	assert_int_equal(wp_stack_run_until(s, WP_NSEC_PER_SEC / 10 +
						       60 * WP_NSEC_PER_USEC),
			 0);
	while ((skb = wp_sock_dequeue_rcv_skb(&u->sk))) {
		assert_int_equal(wp_udp_skb_cb(skb)->dport, 9);
		assert_int_equal(wp_udp_skb_cb(skb)->saddr >> 8, 0x0a0001);
		read++;
		wp_consume_skb(skb);
	}
	wp_net_mib_sum(s->net, &m);
	assert_int_equal(m.UdpInDatagrams, read);
	assert_int_equal(m.UdpInDatagrams + m.UdpRcvbufErrors, 1000);
	assert_true(m.UdpRcvbufErrors > 0); /* 212992 bytes of buffers */
	assert_int_equal(m.UdpNoPorts, 0);
	wp_udp_close(u);
	wp_sock_put(&u->sk);
	stack_free(s);
}

struct reader {
	struct wp_udp_sock *u;
	atomic_bool stop;
	uint64_t got;
};

/* An application thread draining the socket while the cores fill it. */
static void *reader_thread(void *arg)
{
	struct reader *r = arg;

	for (;;) {
		struct wp_skb *skb = wp_sock_dequeue_rcv_skb(&r->u->sk);

		if (skb) {
			r->got++;
			wp_consume_skb(skb);
			continue;
		}
		if (atomic_load(&r->stop))
			break;
		wp_sock_wait(&r->u->sk, WP_EPOLLIN, r->u->sk.sk_clock,
			     wp_clock_now(r->u->sk.sk_clock) +
				     5 * WP_NSEC_PER_MSEC);
	}
	return NULL;
}

static void real_time_cores_and_a_reader(void **state)
{
	struct wp_stack_config cfg;
	struct reader r = { 0 };
	struct wp_net_mib m;
	struct wp_stack *s;
	struct wp_skb *skb;
	pthread_t t;
	struct timespec ts = { 0, 300 * 1000 * 1000 };

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.queues = 2;
	cfg.cores = 2;
	cfg.flows = 16;
	cfg.rate_pps = 50000;
	s = stack_new(&cfg);
	r.u = wp_udp_sock_alloc(s->net);
	assert_int_equal(wp_udp_bind(r.u, 0, 9), 0);
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	assert_int_equal(wp_stack_start(s), 0);
	nanosleep(&ts, NULL);
	wp_stack_stop(s);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	while ((skb = wp_sock_dequeue_rcv_skb(&r.u->sk))) {
		r.got++;
		wp_consume_skb(skb);
	}
	wp_net_mib_sum(s->net, &m);
	assert_true(m.UdpInDatagrams > 1000);
	assert_int_equal(m.UdpInDatagrams, r.got);
	/* both cores received (RSS spreads the 16 flows) */
	assert_true(s->rx[0].packets > 0 && s->rx[1].packets > 0);
	wp_udp_close(r.u);
	wp_sock_put(&r.u->sk);
	stack_free(s);
}

struct sender {
	struct wp_stack *s;
	int sent;
};

/* An application thread sending through the submit queues. */
static void *sender_thread(void *arg)
{
	struct sender *snd = arg;
	struct wp_pool_config pc = { .name = "app", .nbufs = 64 };
	struct wp_pool *pool = wp_pool_create(&pc);
	struct wp_udp_sock *u = wp_udp_sock_alloc(snd->s->net);

	assert_non_null(pool);
	for (int i = 0; i < 2000; i++) {
		struct wp_skb *skb = wp_alloc_skb(pool, 64);

		if (!skb) { /* all out in TX rings: let them come back */
			struct timespec ts = { 0, 100 * 1000 };

			nanosleep(&ts, NULL);
			i--;
			continue;
		}
		memset(wp_skb_put(skb, 32), (int)i, 32);
		if (wp_udp_sendto(u, skb, (10u << 24) | 1, 7) == 0)
			snd->sent++;
	}
	wp_udp_close(u);
	wp_sock_put(&u->sk);
	return pool;
}

static void real_time_sender(void **state)
{
	struct wp_stack_config cfg;
	struct sender snd = { 0 };
	struct wp_net_mib m;
	struct wp_stack *s;
	pthread_t t;
	void *pool;
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	(void)state;
	wp_stack_config_default(&cfg);
	cfg.queues = 2;
	cfg.cores = 2;
	cfg.nstatic_arp = 1;
	cfg.static_arp[0].ip = (10u << 24) | 1;
	memcpy(cfg.static_arp[0].mac,
	       (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
	s = stack_new(&cfg);
	snd.s = s;
	assert_int_equal(wp_stack_start(s), 0);
	assert_int_equal(pthread_create(&t, NULL, sender_thread, &snd), 0);
	pthread_join(t, &pool);
	nanosleep(&ts, NULL); /* the cores drain their queues */
	wp_stack_stop(s);
	wp_net_mib_sum(s->net, &m);
	assert_true(snd.sent > 0);
	assert_int_equal(m.UdpOutDatagrams, snd.sent);
	assert_int_equal(m.UdpOutDatagrams + m.SubmitDrops, 2000);
	/* the gratuitous ARP and every datagram left */
	assert_int_equal(s->backend.frames_out, 1 + (uint64_t)snd.sent);
	stack_free(s);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cores_need_their_own_queue),
		cmocka_unit_test(sim_traffic_on_virtual_time),
		cmocka_unit_test(sim_traffic_into_a_socket),
		cmocka_unit_test(real_time_cores_and_a_reader),
		cmocka_unit_test(real_time_sender),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
