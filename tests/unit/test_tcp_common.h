/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the TCP scenario tests: two stacks on the pair backend (A
 * 10.0.0.1, B 10.0.0.2), one virtual clock, a seeded wire. The test
 * thread plays both applications with the socket-level calls of
 * src/tcp/tcp.h and moves time with the pair. Teardown checks that no
 * TCP socket is left alive and every pool is whole: each test is a leak
 * test too.
 */
#ifndef WP_TEST_TCP_COMMON_H
#define WP_TEST_TCP_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_priv.h"
#include "skb/pool.h"
#include "stack/stack.h"
#include "tcp/tcp_priv.h"
#include "wirepath/pair.h"

#include "test_sha256.h"

#define TA_IP ((10u << 24) | 1)
#define TB_IP ((10u << 24) | 2)

struct tpair {
	struct wp_stack_pair *p;
	struct wp_stack *a, *b;
};

static inline void tpair_config(struct wp_stack_config *c, uint8_t last,
				uint32_t addr)
{
	wp_stack_config_default(c);
	c->mac[5] = last;
	c->addr = addr;
}

static inline void tpair_up_cfg(struct tpair *t,
				const struct wp_stack_config *ca,
				const struct wp_stack_config *cb,
				const struct wp_pair_impairments *imp)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	t->p = wp_stack_pair_create(ca, cb, imp, err, sizeof(err));
	if (!t->p)
		fail_msg("wp_stack_pair_create: %s", err);
	t->a = wp_stack_pair_a(t->p);
	t->b = wp_stack_pair_b(t->p);
}

static inline void tpair_up(struct tpair *t,
			    const struct wp_pair_impairments *imp)
{
	struct wp_stack_config ca, cb;

	tpair_config(&ca, 0x0a, TA_IP);
	tpair_config(&cb, 0x0b, TB_IP);
	tpair_up_cfg(t, &ca, &cb, imp);
}

static inline uint64_t tnow(const struct tpair *t)
{
	return wp_stack_pair_now(t->p);
}

static inline void trun(struct tpair *t, uint64_t dt)
{
	assert_int_equal(wp_stack_pair_run_until(t->p, tnow(t) + dt), 0);
}

static inline void tsysctl(struct tpair *t, const char *name, const char *v)
{
	assert_int_equal(wp_sysctl_set(&t->a->sysctl, name, v), 0);
	assert_int_equal(wp_sysctl_set(&t->b->sysctl, name, v), 0);
}

static inline uint32_t tcp_alive(const struct wp_stack *s)
{
	return atomic_load(&s->net->tcp->nsocks);
}

/*
 * Every socket gone (the test closed and put its own; TIME_WAIT and the
 * rest ran out), then every buffer back in its pool.
 */
static inline void tpair_down(struct tpair *t)
{
	struct wp_stack *s[2] = { t->a, t->b };

	assert_int_equal(tcp_alive(t->a), 0);
	assert_int_equal(tcp_alive(t->b), 0);
	for (int i = 0; i < 2; i++) {
		wp_nic_down(s[i]->nic);
		for (uint16_t q = 0; q < s[i]->nic->cfg.nqueues; q++)
			assert_true(wp_pool_is_whole(s[i]->nic->rxq[q].pool));
	}
	wp_stack_pair_destroy(t->p);
}

static inline void tmib(const struct wp_stack *s, struct wp_net_mib *m)
{
	wp_net_mib_sum(s->net, m);
}

/* --- data
 * --------------------------------------------------------------------- */

/* Byte i of the stream seeded `seed`: a cheap function of both. */
static inline uint8_t tbyte(uint64_t seed, uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ULL ^ seed;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint8_t)(x >> ((i & 7) * 8));
}

/*
 * One direction of a stream transfer driven by the test: the writer sends
 * tbyte(seed, 0..total) as fast as the send buffer takes it; the reader
 * checks every byte against the generator as it reads, and both sides
 * keep a SHA-256 of what they sent and read (tstream_check compares).
 */
struct tstream {
	struct wp_tcp_sock *tx, *rx;
	uint64_t seed;
	uint64_t total;
	uint64_t sent, rcvd;
	struct tsha256 h_tx, h_rx;
	bool tx_shut, bad_byte;
};

static inline void tstream_init(struct tstream *st, struct wp_tcp_sock *tx,
				struct wp_tcp_sock *rx, uint64_t total,
				uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	st->tx = tx;
	st->rx = rx;
	st->total = total;
	st->seed = seed;
	tsha256_init(&st->h_tx);
	tsha256_init(&st->h_rx);
}

/*
 * Write as much as the send buffer takes and read everything there is.
 * Bytes are generated only when it has room (tcp_poll's EPOLLOUT): most
 * steps of a lossy run find it full.
 */
static inline void tstream_pump(struct tstream *st, bool shut_when_done)
{
	static uint8_t buf[65536];

	while (st->sent < st->total &&
	       (wp_tcp_poll(&st->tx->sk) & WP_EPOLLOUT)) {
		size_t n = st->total - st->sent < sizeof(buf)
				   ? (size_t)(st->total - st->sent)
				   : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			buf[i] = tbyte(st->seed, st->sent + i);
		w = wp_tcp_sendmsg(st->tx, buf, n);
		if (w == -EAGAIN)
			break;
		assert_true(w > 0);
		tsha256_update(&st->h_tx, buf, (size_t)w);
		st->sent += (uint64_t)w;
	}
	if (shut_when_done && st->sent == st->total && !st->tx_shut) {
		assert_int_equal(wp_tcp_shutdown(st->tx, WP_SHUT_WR), 0);
		st->tx_shut = true;
	}
	for (;;) {
		ssize_t r = wp_tcp_recvmsg(st->rx, buf, sizeof(buf), 0);

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != tbyte(st->seed, st->rcvd + (uint64_t)i))
				st->bad_byte = true;
		tsha256_update(&st->h_rx, buf, (size_t)r);
		st->rcvd += (uint64_t)r;
	}
}

/* All of it arrived, every byte right, SHA-256 of sent == of read. */
static inline void tstream_check(struct tstream *st)
{
	uint8_t dt[32], dr[32];

	assert_int_equal(st->rcvd, st->total);
	assert_false(st->bad_byte);
	tsha256_final(&st->h_tx, dt);
	tsha256_final(&st->h_rx, dr);
	assert_memory_equal(dt, dr, sizeof(dt));
}

/* --- connections
 * --------------------------------------------------------------- */

/* A listener on B:port, a connection from A; both ends established. */
static inline void tconnect(struct tpair *t, uint16_t port,
			    struct wp_tcp_sock **cli, struct wp_tcp_sock **srv,
			    struct wp_tcp_sock **lsn)
{
	struct wp_tcp_sock *l = wp_tcp_sock_alloc(t->b->net);
	struct wp_tcp_sock *c = wp_tcp_sock_alloc(t->a->net);
	struct wp_tcp_sock *s = NULL;
	int err = 0;

	assert_non_null(l);
	assert_non_null(c);
	assert_int_equal(wp_tcp_bind(l, 0, port), 0);
	assert_int_equal(wp_tcp_listen(l, 16), 0);
	assert_int_equal(wp_tcp_connect(c, TB_IP, port), -EINPROGRESS);
	for (int i = 0; i < 1000 && !s; i++) {
		trun(t, WP_NSEC_PER_MSEC);
		s = wp_tcp_accept(l, &err);
	}
	assert_non_null(s);
	assert_int_equal(wp_sk_state(&c->sk), WP_TCP_ESTABLISHED);
	assert_int_equal(wp_sk_state(&s->sk), WP_TCP_ESTABLISHED);
	*cli = c;
	*srv = s;
	if (lsn) {
		*lsn = l;
	} else {
		wp_tcp_close(l);
		wp_sock_put(&l->sk);
	}
}

static inline void tclose(struct wp_tcp_sock *tp)
{
	wp_tcp_close(tp);
	wp_sock_put(&tp->sk);
}

#endif
