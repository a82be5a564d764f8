// SPDX-License-Identifier: MIT
/*
 * UDP (src/net/udp.c): the bind rules and ephemeral ports, the lookup
 * order, delivery onto receive queues with the sender in the cb,
 * checksums and lengths, rcvbuf drops, broadcast fan-out, output from
 * application threads through the submit queue, and bind/close racing
 * delivery on real threads.
 */
#include "test_net_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

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

static struct wp_udp_sock *sock_new(struct nfx *fx)
{
	struct wp_udp_sock *u = wp_udp_sock_alloc(fx->net);

	assert_non_null(u);
	return u;
}

static void sock_free(struct wp_udp_sock *u)
{
	wp_udp_close(u);
	wp_sock_put(&u->sk);
}

static void deliver(struct nfx *fx, uint32_t saddr, uint16_t sport,
		    uint32_t daddr, uint16_t dport, const char *msg)
{
	uint8_t f[256];
	size_t n = udp_frame(f, saddr, daddr, sport, dport, msg, strlen(msg));

	nfx_inject(fx, f, n);
}

static uint32_t queued(struct wp_udp_sock *u)
{
	return u->sk.sk_receive_queue.qlen;
}

static void bind_rules(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *a = sock_new(fx), *b = sock_new(fx);
	struct wp_udp_sock *c = sock_new(fx), *d = sock_new(fx);

	assert_int_equal(wp_udp_bind(a, 0, 5000), 0);
	assert_int_equal(wp_udp_bind(a, 0, 5001), -EINVAL); /* bound */
	assert_int_equal(wp_udp_bind(b, 0, 5000), -EADDRINUSE);
	/* our address overlaps INADDR_ANY */
	assert_int_equal(wp_udp_bind(b, OUR_IP, 5000), -EADDRINUSE);
	assert_int_equal(wp_udp_bind(b, wp_ipv4_addr(10, 0, 0, 99), 5000),
			 -EADDRNOTAVAIL);
	/* SO_REUSEADDR on both lets them share */
	wp_udp_set_reuseaddr(a, true);
	wp_udp_set_reuseaddr(b, true);
	assert_int_equal(wp_udp_bind(b, OUR_IP, 5000), 0);
	/* one side only is not enough */
	assert_int_equal(wp_udp_bind(c, 0, 5000), -EADDRINUSE);
	/* SO_REUSEPORT on both */
	wp_udp_set_reuseport(c, true);
	assert_int_equal(wp_udp_bind(c, 0, 5100), 0);
	wp_udp_set_reuseport(d, true);
	assert_int_equal(wp_udp_bind(d, 0, 5100), 0);
	sock_free(a);
	sock_free(b);
	sock_free(c);
	sock_free(d);
	/* closed: the port is free again */
	a = sock_new(fx);
	assert_int_equal(wp_udp_bind(a, 0, 5000), 0);
	sock_free(a);
	/* a group and the broadcast may be bound */
	a = sock_new(fx);
	b = sock_new(fx);
	assert_int_equal(wp_udp_bind(a, wp_ipv4_addr(239, 0, 0, 1), 5200), 0);
	assert_int_equal(wp_udp_bind(b, wp_ipv4_addr(10, 0, 0, 255), 5200), 0);
	assert_int_equal(a->saddr, 0); /* receive-only addresses */
	sock_free(a);
	sock_free(b);
}

static void ephemeral_ports(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *s[8];

	for (int i = 0; i < 8; i++) {
		s[i] = sock_new(fx);
		assert_int_equal(wp_udp_bind(s[i], 0, 0), 0);
		assert_true(s[i]->lport >= 32768 && s[i]->lport <= 60999);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(s[i]->lport, s[j]->lport);
		assert_false(s[i]->port_locked);
	}
	for (int i = 0; i < 8; i++)
		sock_free(s[i]);
}

static void tiny_range(struct wp_net_config *c)
{
	c->port_lo = 40000;
	c->port_hi = 40003;
}

static int setup_tiny(void **state)
{
	*state = nfx_new(1, 1, tiny_range);
	return 0;
}

static void ephemeral_ports_run_out(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *s[5];

	for (int i = 0; i < 4; i++) {
		s[i] = sock_new(fx);
		assert_int_equal(wp_udp_bind(s[i], 0, 0), 0);
	}
	s[4] = sock_new(fx);
	assert_int_equal(wp_udp_bind(s[4], 0, 0), -EADDRINUSE);
	assert_int_equal(wp_udp_connect(s[4], PEER_IP, 53), -EADDRINUSE);
	sock_free(s[0]);
	assert_int_equal(wp_udp_bind(s[4], 0, 0), 0);
	assert_int_equal(s[4]->lport, 40000 + 0 * 1 + (s[4]->lport - 40000));
	for (int i = 1; i < 5; i++)
		sock_free(s[i]);
}

/* A connected 4-tuple beats a bound address, which beats INADDR_ANY. */
static void lookup_prefers_the_most_specific(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *any = sock_new(fx), *addr = sock_new(fx);
	struct wp_udp_sock *conn = sock_new(fx);

	wp_udp_set_reuseaddr(any, true);
	wp_udp_set_reuseaddr(addr, true);
	wp_udp_set_reuseaddr(conn, true);
	assert_int_equal(wp_udp_bind(any, 0, 6000), 0);
	assert_int_equal(wp_udp_bind(addr, OUR_IP, 6000), 0);
	assert_int_equal(wp_udp_bind(conn, OUR_IP, 6000), 0);
	assert_int_equal(wp_udp_connect(conn, PEER_IP, 7000), 0);

	deliver(fx, PEER_IP, 7000, OUR_IP, 6000, "c");
	assert_int_equal(queued(conn), 1);
	deliver(fx, PEER_IP, 7001, OUR_IP, 6000, "a");
	assert_int_equal(queued(addr), 1);
	assert_int_equal(queued(conn), 1);
	wp_udp_close(addr);
	deliver(fx, PEER_IP, 7001, OUR_IP, 6000, "any");
	assert_int_equal(queued(any), 1);
	/* the connected socket hears only its peer */
	wp_udp_close(any);
	nfx_clear_tx(fx);
	deliver(fx, PEER_IP, 7002, OUR_IP, 6000, "nobody");
	assert_int_equal(queued(conn), 1);
	assert_int_equal(fx->ntx, 1); /* port unreachable */
	wp_sock_put(&any->sk);
	wp_sock_put(&addr->sk);
	sock_free(conn);
}

/* SO_REUSEPORT: one flow always lands on one member; flows spread. */
static void reuseport_spreads_flows(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *s[4];
	uint32_t used = 0;

	for (int i = 0; i < 4; i++) {
		s[i] = sock_new(fx);
		wp_udp_set_reuseport(s[i], true);
		assert_int_equal(wp_udp_bind(s[i], 0, 6100), 0);
	}
	for (uint16_t sport = 1000; sport < 1064; sport++) {
		uint32_t before[4], hit = 4;

		for (int i = 0; i < 4; i++)
			before[i] = queued(s[i]);
		for (int k = 0; k < 3; k++)
			deliver(fx, PEER_IP, sport, OUR_IP, 6100, "f");
		for (int i = 0; i < 4; i++) {
			uint32_t d = queued(s[i]) - before[i];

			assert_true(d == 0 || d == 3);
			if (d == 3)
				hit = (uint32_t)i;
		}
		for (int i = 0; i < 4; i++) {
			struct wp_skb *skb;

			while ((skb = wp_sock_dequeue_rcv_skb(&s[i]->sk)))
				wp_consume_skb(skb);
		}
		assert_true(hit < 4);
		used |= 1u << hit;
	}
	assert_true(__builtin_popcount(used) >= 3);
	for (int i = 0; i < 4; i++)
		sock_free(s[i]);
}

static void delivery_keeps_the_sender_in_the_cb(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_udp_skb_cb *cb;
	struct wp_net_mib m;
	struct wp_skb *skb;

	assert_int_equal(wp_udp_bind(u, 0, 6200), 0);
	assert_int_equal(u->sk.sk_prot->poll(&u->sk) & WP_EPOLLIN, 0);
	deliver(fx, PEER_IP, 1234, OUR_IP, 6200, "hello, world");
	assert_true(u->sk.sk_prot->poll(&u->sk) & WP_EPOLLIN);
	skb = wp_sock_dequeue_rcv_skb(&u->sk);
	assert_non_null(skb);
	assert_int_equal(skb->len, 12);
	assert_memory_equal(skb->data, "hello, world", 12);
	cb = wp_udp_skb_cb(skb);
	assert_int_equal(cb->saddr, PEER_IP);
	assert_int_equal(cb->sport, 1234);
	assert_int_equal(cb->daddr, OUR_IP);
	assert_int_equal(cb->dport, 6200);
	assert_int_equal(cb->ttl, 64);
	wp_consume_skb(skb);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpInDatagrams, 1);
	assert_int_equal(fx->ntx, 0);
	sock_free(u);
}

static void full_receive_buffer_drops(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_net_mib m;

	assert_int_equal(wp_udp_bind(u, 0, 6300), 0);
	atomic_store(&u->sk.sk_rcvbuf, 1); /* one skb overshoots, as Linux */
	deliver(fx, PEER_IP, 1, OUR_IP, 6300, "one");
	deliver(fx, PEER_IP, 1, OUR_IP, 6300, "two");
	deliver(fx, PEER_IP, 1, OUR_IP, 6300, "three");
	assert_int_equal(queued(u), 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpInDatagrams, 1);
	assert_int_equal(m.UdpRcvbufErrors, 2);
	assert_int_equal(m.UdpInErrors, 2);
	assert_int_equal(nfx_dropped(fx, WP_DROP_SOCKET_RCVBUFF), 2);
	assert_int_equal(atomic_load(&u->sk.sk_drops), 2);
	sock_free(u); /* the queued one is dropped with the socket */
}

/* Frames handed up together, as one NAPI poll hands its batch. */
struct batch {
	struct nfx *fx;
	struct wp_skb_queue list;
};

static void batch_add(struct batch *b, uint32_t saddr, uint16_t sport,
		      uint16_t dport, const char *msg)
{
	struct wp_pool *pool = b->fx->nic->rxq[0].pool;
	uint8_t f[256];
	size_t n = udp_frame(f, saddr, OUR_IP, sport, dport, msg, strlen(msg));
	struct wp_skb *skb = wp_alloc_skb(pool, (uint32_t)n);
	uint8_t *p;

	assert_non_null(skb);
	p = wp_skb_put(skb, (uint32_t)n);
	assert_non_null(p);
	memcpy(p, f, n);
	skb->tstamp = nfx_now(b->fx);
	wp_skb_queue_tail(&b->list, skb);
}

static void batch_run(struct batch *b)
{
	wp_netif_receive_skb_list(b->fx->net, &b->fx->nic->rxq[0].napi,
				  &b->list);
	assert_true(wp_skb_queue_empty(&b->list));
	nfx_drain_tx(b->fx);
}

static int count_wake(struct wp_wait_queue_entry *e, uint32_t key)
{
	(*(uint32_t *)e->private)++;
	return 1;
}

/* The datagrams on u's queue, in order, are exactly msgs. */
static void expect_queue(struct wp_udp_sock *u, const char *const *msgs,
			 size_t n)
{
	const struct wp_skb *skb = u->sk.sk_receive_queue.head;

	assert_int_equal(queued(u), n);
	for (size_t i = 0; i < n; i++, skb = skb->next) {
		assert_int_equal(skb->len, strlen(msgs[i]));
		assert_memory_equal(skb->data, msgs[i], skb->len);
	}
}

/*
 * List receive: one batch's datagrams reach each socket in the order
 * they came, flows interleaved, with one wake-up per socket, and every
 * per-datagram rule and counter as when they come one by one (a full
 * socket, a closed port). The batch's socket references are all given
 * back.
 */
static void a_batch_wakes_each_socket_once(void **state)
{
	static const char *const a_msgs[] = { "a1", "a2", "a3", "a4" };
	static const char *const b_msgs[] = { "b1", "b2" };
	struct nfx *fx = *state;
	struct wp_udp_sock *a = sock_new(fx), *b = sock_new(fx);
	struct wp_udp_sock *full = sock_new(fx);
	struct wp_wait_queue_entry wa, wb;
	uint32_t woken_a = 0, woken_b = 0;
	struct batch bt = { .fx = fx };
	struct wp_net_mib m;

	assert_int_equal(wp_udp_bind(a, 0, 6400), 0);
	assert_int_equal(wp_udp_bind(b, 0, 6401), 0);
	assert_int_equal(wp_udp_bind(full, 0, 6402), 0);
	atomic_store(&full->sk.sk_rcvbuf, 1); /* one skb overshoots */
	wp_init_waitqueue_func_entry(&wa, count_wake, &woken_a, 0);
	wp_init_waitqueue_func_entry(&wb, count_wake, &woken_b, 0);
	wp_add_wait_queue(&a->sk.sk_wq, &wa);
	wp_add_wait_queue(&b->sk.sk_wq, &wb);

	wp_skb_queue_init(&bt.list);
	batch_add(&bt, PEER_IP, 1000, 6400, "a1");
	batch_add(&bt, PEER_IP, 1000, 6401, "b1");
	batch_add(&bt, PEER_IP, 1001, 6400, "a2"); /* another flow */
	batch_add(&bt, PEER_IP, 1000, 6402, "f1");
	batch_add(&bt, PEER_IP, 1000, 6402, "f2");
	batch_add(&bt, PEER_IP, 1001, 6400, "a3");
	batch_add(&bt, PEER_IP, 1000, 6499, "nobody");
	batch_add(&bt, PEER_IP, 1000, 6401, "b2");
	batch_add(&bt, PEER_IP, 1000, 6400, "a4");
	batch_run(&bt);

	expect_queue(a, a_msgs, 4);
	expect_queue(b, b_msgs, 2);
	assert_int_equal(queued(full), 1);
	assert_int_equal(woken_a, 1);
	assert_int_equal(woken_b, 1);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpInDatagrams, 7);
	assert_int_equal(m.UdpRcvbufErrors, 1);
	assert_int_equal(m.UdpInErrors, 1);
	assert_int_equal(m.UdpNoPorts, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_SOCKET_RCVBUFF), 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_NO_SOCKET), 1);
	assert_int_equal(atomic_load(&a->sk.sk_rcv_queued), 4);
	/* Ours and the table's: the batch held each socket once, and let
	 * go. */
	assert_int_equal(atomic_load(&a->sk.sk_refcnt), 2);
	assert_int_equal(atomic_load(&b->sk.sk_refcnt), 2);
	assert_int_equal(atomic_load(&full->sk.sk_refcnt), 2);

	/* The next batch is another wake-up. */
	batch_add(&bt, PEER_IP, 1000, 6400, "a5");
	batch_run(&bt);
	assert_int_equal(woken_a, 2);
	assert_int_equal(woken_b, 1);

	wp_remove_wait_queue(&a->sk.sk_wq, &wa);
	wp_remove_wait_queue(&b->sk.sk_wq, &wb);
	sock_free(a);
	sock_free(b);
	sock_free(full);
}

/* More sockets in one batch than it gathers for: flushed early, in
 * order, nothing lost. */
static void a_batch_of_many_sockets(void **state)
{
	enum { NSOCK = 19 }; /* more than twice WP_UDP_RCV_SOCKS */
	struct nfx *fx = *state;
	struct wp_udp_sock *u[NSOCK];
	struct batch bt = { .fx = fx };
	struct wp_net_mib m;
	char msg[16];

	wp_skb_queue_init(&bt.list);
	for (int i = 0; i < NSOCK; i++) {
		u[i] = sock_new(fx);
		assert_int_equal(wp_udp_bind(u[i], 0, (uint16_t)(6500 + i)), 0);
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NSOCK; i++) {
			snprintf(msg, sizeof(msg), "%d.%d", i, round);
			batch_add(&bt, PEER_IP, 1000, (uint16_t)(6500 + i),
				  msg);
		}
	}
	batch_run(&bt);
	for (int i = 0; i < NSOCK; i++) {
		char m0[16], m1[16];
		const char *const msgs[] = { m0, m1 };

		snprintf(m0, sizeof(m0), "%d.0", i);
		snprintf(m1, sizeof(m1), "%d.1", i);
		expect_queue(u[i], msgs, 2);
		assert_int_equal(atomic_load(&u[i]->sk.sk_refcnt), 2);
	}
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpInDatagrams, 2 * NSOCK);
	for (int i = 0; i < NSOCK; i++)
		sock_free(u[i]);
}

static void checksums_and_lengths(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_net_mib m;
	uint8_t f[256];
	size_t n, udp = WP_ETH_HLEN + WP_IPV4_HLEN;

	assert_int_equal(wp_udp_bind(u, 0, 6400), 0);
	/* RFC 768: a zero checksum means none was computed */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 6400, "nocsum", 6);
	wp_put_be16(f + udp + 6, 0);
	nfx_inject(fx, f, n);
	assert_int_equal(queued(u), 1);
	/* a wrong one */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 6400, "badcsum", 7);
	f[udp + 6] ^= 0x10;
	nfx_inject(fx, f, n);
	/* a length past the IP payload, and one below the header */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 6400, "longlen", 7);
	wp_put_be16(f + udp + 4, 16);
	nfx_inject(fx, f, n);
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 6400, "shortlen", 8);
	wp_put_be16(f + udp + 4, 7);
	nfx_inject(fx, f, n);
	/* a length shorter than the IP payload: the rest is ignored */
	n = udp_frame(f, PEER_IP, OUR_IP, 1, 6400, "trailer", 7);
	wp_put_be16(f + udp + 4, 8 + 4);
	wp_put_be16(f + udp + 6, 0);
	nfx_inject(fx, f, n);
	assert_int_equal(queued(u), 2);
	assert_int_equal(u->sk.sk_receive_queue.tail->len, 4);
	assert_int_equal(fx->ntx, 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpInDatagrams, 2);
	assert_int_equal(m.UdpInErrors, 3);
	assert_int_equal(m.UdpInCsumErrors, 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_UDP_CSUM), 1);
	assert_int_equal(nfx_dropped(fx, WP_DROP_UDP_LEN), 2);
	sock_free(u);
}

static void broadcast_reaches_every_listener(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *a = sock_new(fx), *b = sock_new(fx);
	struct wp_udp_sock *mine = sock_new(fx);
	uint8_t f[256];
	size_t n;

	wp_udp_set_reuseaddr(a, true);
	wp_udp_set_reuseaddr(b, true);
	wp_udp_set_reuseaddr(mine, true);
	assert_int_equal(wp_udp_bind(a, 0, 6500), 0);
	assert_int_equal(wp_udp_bind(b, wp_ipv4_addr(10, 0, 0, 255), 6500), 0);
	/* bound to our unicast address: not for broadcasts */
	assert_int_equal(wp_udp_bind(mine, OUR_IP, 6500), 0);
	n = udp_frame(f, PEER_IP, wp_ipv4_addr(10, 0, 0, 255), 1, 6500,
		      "all of you", 10);
	memcpy(f, bcast_mac, 6);
	nfx_inject(fx, f, n);
	assert_int_equal(queued(a), 1);
	assert_int_equal(queued(b), 1);
	assert_int_equal(queued(mine), 0);
	assert_memory_equal(a->sk.sk_receive_queue.head->data, "all of you",
			    10);
	assert_memory_equal(b->sk.sk_receive_queue.head->data, "all of you",
			    10);
	sock_free(a);
	sock_free(b);
	sock_free(mine);
}

static void connect_and_disconnect(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_udp_sock *v = sock_new(fx);
	uint16_t port;

	assert_int_equal(wp_udp_connect(u, 0, 53), -EINVAL);
	assert_int_equal(wp_udp_connect(u, PEER_IP, 0), -EINVAL);
	assert_int_equal(wp_udp_connect(u, PEER_IP, 53), 0);
	assert_true(u->hashed);
	assert_int_equal(u->saddr, OUR_IP);
	assert_int_equal(u->rcv_saddr, OUR_IP);
	assert_int_equal(wp_sk_state(&u->sk), WP_TCP_ESTABLISHED);
	port = u->lport;
	/* the autobound port goes back on disconnect (Linux) */
	assert_int_equal(wp_udp_disconnect(u), 0);
	assert_false(u->hashed);
	assert_int_equal(u->rcv_saddr, 0);
	assert_int_equal(wp_udp_bind(v, 0, port), 0);
	/* a port bind() chose stays */
	assert_int_equal(wp_udp_connect(v, PEER_IP, 53), 0);
	assert_int_equal(wp_udp_disconnect(v), 0);
	assert_true(v->hashed);
	assert_int_equal(v->lport, port);
	/* no route: ENETUNREACH */
	assert_int_equal(wp_route_del(fx->net, 0, 0), 0);
	assert_int_equal(wp_udp_connect(u, FAR_IP, 53), -ENETUNREACH);
	sock_free(u);
	sock_free(v);
}

static void print_sockets(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx), *v = sock_new(fx);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_int_equal(wp_udp_bind(u, 0, 6600), 0);
	assert_int_equal(wp_udp_bind(v, OUR_IP, 6601), 0);
	assert_int_equal(wp_udp_connect(v, PEER_IP, 53), 0);
	wp_udp_print_sockets(fx->net, out);
	fclose(out);
	assert_non_null(strstr(buf, "UNCONN"));
	assert_non_null(strstr(buf, "0.0.0.0:6600"));
	assert_non_null(strstr(buf, "0.0.0.0:*"));
	assert_non_null(strstr(buf, "ESTAB"));
	assert_non_null(strstr(buf, "10.0.0.2:6601"));
	assert_non_null(strstr(buf, "10.0.0.1:53"));
	free(buf);
	sock_free(u);
	sock_free(v);
}

/* --- output from application threads ------------------------------------ */

struct app {
	struct nfx *fx;
	struct wp_udp_sock *u;
	int n;
	int results[16];
	bool connected;
};

/* The application's own pool: it allocates on its thread; the core
 * frees the skbs once sent (returned to this pool remotely). */
static void *app_send(void *arg)
{
	struct app *a = arg;
	struct wp_pool_config pc = { .name = "app", .nbufs = 32 };
	struct wp_pool *pool = wp_pool_create(&pc);

	assert_non_null(pool);
	for (int i = 0; i < a->n; i++) {
		struct wp_skb *skb = wp_alloc_skb(pool, 100);
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "datagram %d", i);

		memcpy(wp_skb_put(skb, (uint32_t)len), msg, (size_t)len);
		a->results[i] =
			wp_udp_sendto(a->u, skb, a->connected ? 0 : PEER_IP,
				      a->connected ? 0 : 7777);
	}
	return pool;
}

static struct wp_pool *run_app(struct app *a)
{
	pthread_t t;
	void *pool;

	assert_int_equal(pthread_create(&t, NULL, app_send, a), 0);
	assert_int_equal(pthread_join(t, &pool), 0);
	return pool;
}

static void sendto_from_another_thread(void **state)
{
	struct nfx *fx = *state;
	struct app a = { .fx = fx, .u = sock_new(fx), .n = 3 };
	struct wp_pool *pool;
	struct wp_udp_repr u;
	struct wp_net_mib m;
	struct parsed p;

	nfx_clear_tx(fx);
	pool = run_app(&a);
	for (int i = 0; i < 3; i++)
		assert_int_equal(a.results[i], 0);
	assert_true(a.u->hashed); /* autobound */
	assert_int_equal(fx->ntx, 0);
	nfx_run(fx); /* the core drains its submit queue */
	assert_int_equal(fx->ntx, 3);
	for (uint32_t i = 0; i < 3; i++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "datagram %u", i);
		parse_frame(&fx->tx[i], &p);
		assert_int_equal(p.ip.saddr, OUR_IP);
		assert_int_equal(p.ip.daddr, PEER_IP);
		assert_true(p.ip.df);
		assert_int_equal(wp_udp_parse(p.l4, p.l4_len, OUR_IP, PEER_IP,
					      0, &u, NULL),
				 0);
		assert_int_equal(u.sport, a.u->lport);
		assert_int_equal(u.dport, 7777);
		assert_memory_equal(u.payload, msg, strlen(msg));
	}
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpOutDatagrams, 3);
	assert_int_equal(m.OutRequests, 3);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
	sock_free(a.u);
}

static void small_submit(struct wp_net_config *c)
{
	c->submit_max = 4;
}

static int setup_small_submit(void **state)
{
	struct nfx *fx = nfx_new(1, 1, small_submit);

	nfx_learn_peer(fx);
	*state = fx;
	return 0;
}

static void full_submit_queue_is_enobufs(void **state)
{
	struct nfx *fx = *state;
	struct app a = { .fx = fx, .u = sock_new(fx), .n = 6 };
	struct wp_pool *pool;
	struct wp_net_mib m;

	assert_int_equal(wp_udp_connect(a.u, PEER_IP, 7777), 0);
	a.connected = true;
	nfx_clear_tx(fx);
	pool = run_app(&a);
	for (int i = 0; i < 6; i++)
		assert_int_equal(a.results[i], i < 4 ? 0 : -ENOBUFS);
	nfx_run(fx);
	assert_int_equal(fx->ntx, 4);
	nfx_mib(fx, &m);
	assert_int_equal(m.SubmitDrops, 2);
	assert_int_equal(m.UdpSndbufErrors, 2);
	assert_int_equal(m.UdpOutDatagrams, 4);
	assert_int_equal(nfx_dropped(fx, WP_DROP_SUBMIT_QUEUE_FULL), 2);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
	sock_free(a.u);
}

/* A burst larger than the TX ring waits in the submit queue for the
 * ring to drain rather than being dropped at it. */
static void submit_queue_waits_for_the_ring(void **state)
{
	struct nfx *fx = *state;
	struct wp_pool_config pc = { .name = "burst", .nbufs = 700 };
	struct wp_pool *pool = wp_pool_create(&pc);
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_net_mib m;

	assert_non_null(pool);
	for (int i = 0; i < 600; i++) {
		struct wp_skb *skb = wp_alloc_skb(pool, 16);

		wp_skb_put(skb, 8);
		assert_int_equal(wp_udp_sendto(u, skb, PEER_IP, 7), 0);
	}
	nfx_clear_tx(fx);
	nfx_run(fx); /* one ring's worth: 512 */
	assert_int_equal(fx->ntx, 512);
	nfx_run(fx); /* the ring drained: the rest */
	assert_int_equal(fx->ntx, 600);
	assert_int_equal(nfx_dropped(fx, WP_DROP_TX_RING_FULL), 0);
	nfx_mib(fx, &m);
	assert_int_equal(m.UdpOutDatagrams, 600);
	assert_int_equal(m.OutRequests, 600);
	sock_free(u);
	assert_true(wp_pool_is_whole(pool));
	wp_pool_destroy(pool);
}

static void sendto_errors(void **state)
{
	struct nfx *fx = *state;
	struct wp_udp_sock *u = sock_new(fx);
	struct wp_pool *pool = fx->nic->rxq[0].pool;
	struct wp_skb *skb;

	skb = wp_alloc_skb(pool, 10);
	assert_int_equal(wp_udp_sendto(u, skb, 0, 0), -EDESTADDRREQ);
	skb = wp_alloc_skb(pool, 10);
	assert_int_equal(wp_udp_sendto(u, skb, PEER_IP, 0), -EINVAL);
	u->pmtudisc_do = true;
	skb = wp_alloc_skb(pool, 1473);
	wp_skb_put(skb, 1473);
	assert_int_equal(wp_udp_sendto(u, skb, PEER_IP, 9), -EMSGSIZE);
	assert_int_equal(wp_route_del(fx->net, 0, 0), 0);
	skb = wp_alloc_skb(pool, 10);
	assert_int_equal(wp_udp_sendto(u, skb, FAR_IP, 9), -ENETUNREACH);
	assert_int_equal(wp_udp_sendto(u, NULL, FAR_IP, 9), -EINVAL);
	/* with no headroom left the headers cannot go in */
	skb = wp_alloc_skb(pool, 10);
	wp_skb_push(skb, wp_skb_headroom(skb));
	assert_int_equal(wp_udp_sendto(u, skb, PEER_IP, 9), -EINVAL);
	sock_free(u);
}

/* Core-side output: the datagram goes straight to the wire. */
static void output_on_the_core(void **state)
{
	struct nfx *fx = *state;
	struct wp_skb *skb = wp_alloc_skb(fx->nic->rxq[0].pool, 64);
	struct wp_udp_repr u;
	struct parsed p;

	memcpy(wp_skb_put(skb, 5), "reply", 5);
	nfx_clear_tx(fx);
	assert_int_equal(wp_udp_output(fx->net, 0, skb, 0, 53, PEER_IP, 999),
			 0);
	nfx_drain_tx(fx);
	one_ip_frame(fx, &p);
	assert_int_equal(
		wp_udp_parse(p.l4, p.l4_len, OUR_IP, PEER_IP, 0, &u, NULL), 0);
	assert_int_equal(u.sport, 53);
	assert_int_equal(u.payload_len, 5);
	assert_int_equal(wp_udp_output(fx->net, 9,
				       wp_alloc_skb(fx->nic->rxq[0].pool, 8), 0,
				       1, PEER_IP, 2),
			 -EINVAL);
}

/* --- bind/close racing delivery ------------------------------------------- */

struct churn {
	struct nfx *fx;
	atomic_bool stop;
	atomic_uint binds;
	uint16_t base;
};

/* An application thread: open, bind, read what arrived, close. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		for (uint16_t p = 0; p < 8; p++) {
			struct wp_udp_sock *u = wp_udp_sock_alloc(c->fx->net);
			struct wp_skb *skb;

			if (wp_udp_bind(u, 0, (uint16_t)(c->base + p)) == 0)
				atomic_fetch_add(&c->binds, 1);
			while ((skb = wp_sock_dequeue_rcv_skb(&u->sk)))
				wp_consume_skb(skb);
			wp_udp_close(u);
			wp_sock_put(&u->sk);
		}
	}
	return NULL;
}

static void bind_close_races_delivery(void **state)
{
	struct nfx *fx = *state;
	struct churn c[2] = { { .fx = fx, .base = 8000 },
			      { .fx = fx, .base = 8000 } };
	pthread_t t[2];
	struct wp_net_mib m;
	uint8_t f[256];

	for (int i = 0; i < 2; i++)
		assert_int_equal(
			pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	/* The race needs the churn going: a loaded host may not have run
	 * either thread yet (bounded: a minute of real time). */
	for (int w = 0;
	     w < 60000 &&
	     atomic_load(&c[0].binds) + atomic_load(&c[1].binds) == 0;
	     w++) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 20000; i++) {
		size_t n = udp_frame(f, PEER_IP, OUR_IP, 1,
				     (uint16_t)(8000 + i % 8), "race", 4);

		nfx_inject(fx, f, n);
		nfx_clear_tx(fx);
	}
	for (int i = 0; i < 2; i++) {
		atomic_store(&c[i].stop, true);
		pthread_join(t[i], NULL);
	}
	nfx_mib(fx, &m);
	assert_true(atomic_load(&c[0].binds) + atomic_load(&c[1].binds) > 0);
	/* every datagram is accounted once: queued, no socket, or a
	 * receive error (its socket full, or closed after the lookup) */
	assert_int_equal(m.UdpInDatagrams + m.UdpNoPorts + m.UdpInErrors,
			 20000);
	/* (sockets closed with unread data count as closed drops too) */
	assert_true(m.UdpInErrors - m.UdpRcvbufErrors <=
		    nfx_dropped(fx, WP_DROP_SOCKET_CLOSED));
	assert_int_equal(m.UdpRcvbufErrors,
			 nfx_dropped(fx, WP_DROP_SOCKET_RCVBUFF));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(bind_rules),
		T(ephemeral_ports),
		cmocka_unit_test_setup_teardown(ephemeral_ports_run_out,
						setup_tiny, teardown),
		T(lookup_prefers_the_most_specific),
		T(reuseport_spreads_flows),
		T(delivery_keeps_the_sender_in_the_cb),
		T(full_receive_buffer_drops),
		T(a_batch_wakes_each_socket_once),
		T(a_batch_of_many_sockets),
		T(checksums_and_lengths),
		T(broadcast_reaches_every_listener),
		T(connect_and_disconnect),
		T(print_sockets),
		T(sendto_from_another_thread),
		cmocka_unit_test_setup_teardown(full_submit_queue_is_enobufs,
						setup_small_submit, teardown),
		T(submit_queue_waits_for_the_ring),
		T(sendto_errors),
		T(output_on_the_core),
		T(bind_close_races_delivery),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
