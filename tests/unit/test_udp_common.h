/* SPDX-License-Identifier: MIT */
/*
 * Fixture of the socket-API tests: two stacks on the pair backend (A at
 * 10.0.0.1, B at 10.0.0.2, on one virtual clock), a descriptor table of
 * the test's own whose timeouts run on that clock, and B as the default
 * stack for wp_socket(). The tests are the applications: they open
 * sockets on either stack, send, run the pair, receive.
 *
 * Teardown closes every descriptor, takes both NICs down, checks that
 * every receive pool of both stacks is whole, destroys the pair, then
 * checks that every transmit pool of the sending threads is whole: each
 * test is a leak test too.
 */
#ifndef WP_TEST_UDP_COMMON_H
#define WP_TEST_UDP_COMMON_H

#include "test_core_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "net/net.h"
#include "net/udp.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "sock/fd.h"
#include "stack/stack.h"
#include "tcp/tcp.h"
#include "wirepath/pair.h"
#include "wirepath/socket.h"

#define UFX_IP_A ((10u << 24) | 1)
#define UFX_IP_B ((10u << 24) | 2)
#define UFX_MS WP_NSEC_PER_MSEC

static const uint8_t ufx_mac_a[6]
	__attribute__((unused)) = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t ufx_mac_b[6]
	__attribute__((unused)) = { 0x02, 0, 0, 0, 0, 0x0b };

struct ufx {
	struct wp_stack_pair *p;
	struct wp_stack *a, *b;
	struct wp_fdtable *fdt, *old_fdt;
	struct wp_drop_stats drops0;
};

/*
 * Each side knows the other's MAC (ip neigh ... nud permanent): a burst
 * sent before ARP resolved would otherwise lose all but the
 * neighbour's queue of 3, which the tests of counts do not want.
 */
static inline void ufx_config(struct wp_stack_config *c, const uint8_t *mac,
			      uint32_t addr, const uint8_t *peer_mac,
			      uint32_t peer)
{
	wp_stack_config_default(c);
	memcpy(c->mac, mac, 6);
	c->addr = addr;
	c->rx_usecs = 0; /* every frame at once: short virtual runs */
	c->nstatic_arp = 1;
	c->static_arp[0].ip = peer;
	memcpy(c->static_arp[0].mac, peer_mac, 6);
}

/* Build with impairments (NULL: a perfect wire). */
static inline struct ufx *ufx_create(const struct wp_pair_impairments *imp)
{
	struct ufx *fx = calloc(1, sizeof(*fx));
	struct wp_stack_config ca, cb;
	char err[256];

	assert_non_null(fx);
	ufx_config(&ca, ufx_mac_a, UFX_IP_A, ufx_mac_b, UFX_IP_B);
	ufx_config(&cb, ufx_mac_b, UFX_IP_B, ufx_mac_a, UFX_IP_A);
	fx->p = wp_stack_pair_create(&ca, &cb, imp, err, sizeof(err));
	if (!fx->p)
		fail_msg("pair: %s", err);
	fx->a = wp_stack_pair_a(fx->p);
	fx->b = wp_stack_pair_b(fx->p);
	fx->fdt = wp_fdtable_create(256, &fx->a->clock);
	assert_non_null(fx->fdt);
	fx->old_fdt = wp_fdtable_set_current(fx->fdt);
	wp_stack_make_default(fx->b);
	wp_stack_drops(fx->b, &fx->drops0);
	return fx;
}

static inline int ufx_setup(void **state)
{
	*state = ufx_create(NULL);
	return 0;
}

static inline void ufx_run(struct ufx *fx, uint64_t dt)
{
	assert_int_equal(
		wp_stack_pair_run_until(fx->p, wp_stack_pair_now(fx->p) + dt),
		0);
}

static inline uint64_t ufx_now(struct ufx *fx)
{
	return wp_stack_pair_now(fx->p);
}

static inline void ufx_destroy(struct ufx *fx)
{
	struct wp_stack *s[2] = { fx->a, fx->b };

	wp_stack_make_default(NULL);
	wp_fdtable_set_current(fx->old_fdt);
	wp_fdtable_destroy(fx->fdt);
	/* Past the reassembly timeout (30 s): incomplete datagrams give
	 * their fragments back. */
	ufx_run(fx, 31 * WP_NSEC_PER_SEC);
	for (int i = 0; i < 2; i++) {
		wp_nic_down(s[i]->nic);
		for (uint16_t q = 0; q < s[i]->nic->cfg.nqueues; q++)
			assert_true(wp_pool_is_whole(s[i]->nic->rxq[q].pool));
	}
	wp_stack_pair_destroy(fx->p);
	assert_true(wp_socket_tx_pools_whole());
	assert_int_equal(wp_socket_cleanup(), 0);
	free(fx);
}

static inline int ufx_teardown(void **state)
{
	ufx_destroy(*state);
	return 0;
}

static inline struct sockaddr_in ufx_sin(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(addr);
	return sin;
}

#define UFX_SA(sin) ((struct sockaddr *)&(sin))

/* A UDP socket on s bound to addr:port (port 0: ephemeral). */
static inline int ufx_udp(struct wp_stack *s, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = ufx_sin(addr, port);
	int fd = wp_socket_net(s, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(wp_bind(fd, UFX_SA(sin), sizeof(sin)), 0);
	return fd;
}

/* The socket's bound port. */
static inline uint16_t ufx_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(wp_getsockname(fd, UFX_SA(sin), &len), 0);
	return ntohs(sin.sin_port);
}

static inline void ufx_sendto(int fd, const void *buf, size_t len,
			      uint32_t addr, uint16_t port)
{
	struct sockaddr_in to = ufx_sin(addr, port);

	assert_int_equal(wp_sendto(fd, buf, len, 0, UFX_SA(to), sizeof(to)),
			 (ssize_t)len);
}

static inline struct wp_net_mib ufx_mib(struct wp_stack *s)
{
	struct wp_net_mib m;

	wp_net_mib_sum(s->net, &m);
	return m;
}

/* Drops of `reason` on B since setup. */
static inline uint64_t ufx_dropped_b(struct ufx *fx, enum wp_drop_reason r)
{
	struct wp_drop_stats d;

	wp_stack_drops(fx->b, &d);
	return d.count[r] - fx->drops0.count[r];
}

static inline void ufx_expect_errno(long ret, int err)
{
	assert_int_equal(ret, -1);
	assert_int_equal(errno, err);
}

/*
 * For tests that used TCP: every descriptor closed (a fresh table in
 * place of the old one), two seconds for FINs and TIME_WAIT (the tests
 * set net.ipv4.tcp_msl_ms low), no TCP socket left on either side; then
 * ufx_destroy's checks.
 */
static inline void ufx_destroy_tcp(struct ufx *fx)
{
	wp_fdtable_destroy(fx->fdt);
	fx->fdt = wp_fdtable_create(256, &fx->a->clock);
	wp_fdtable_set_current(fx->fdt);
	ufx_run(fx, 2 * WP_NSEC_PER_SEC);
	assert_int_equal(wp_tcp_nsocks(fx->a->net), 0);
	assert_int_equal(wp_tcp_nsocks(fx->b->net), 0);
	ufx_destroy(fx);
}

/* A non-blocking TCP connection from A to B:port, established; step(arg)
 * moves the machine (and whatever else) while the handshake runs. */
static inline int ufx_tcp_connect(struct ufx *fx, uint16_t port,
				  void (*step)(void *arg), void *arg)
{
	struct sockaddr_in to = ufx_sin(UFX_IP_B, port);
	int fd = wp_socket_net(fx->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct wp_pollfd p = { .fd = fd, .events = WP_POLLOUT };
	int err = -1;
	socklen_t len = sizeof(err);

	assert_true(fd >= 0);
	ufx_expect_errno(wp_connect(fd, UFX_SA(to), sizeof(to)), EINPROGRESS);
	while (wp_poll(&p, 1, 0) == 0)
		step(arg);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, 0);
	return fd;
}

#endif
