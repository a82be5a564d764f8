// SPDX-License-Identifier: MIT
/*
 * Two stacks on the sim backend joined by a crossover cable, in real
 * time, with their core threads running: ARP resolves across it, a TCP
 * connection opens and moves data intact both ways while one side's
 * generator also floods it with UDP, and the cable's counters add up.
 * The refusals of wp_stack_link_sim come first.
 */
#include "test_core_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nic/backend/sim.h"
#include "nic/nic.h"
#include "skb/pool.h"
#include "sock/fd.h"
#include "stack/stack.h"
#include "wirepath/socket.h"

#define IP_A ((10u << 24) | 1)
#define IP_B ((10u << 24) | 2)
#define BYTES (2u << 20)
#define LIMIT_NS (60 * WP_NSEC_PER_SEC)

static struct wp_stack *make(uint32_t addr, uint8_t last, uint64_t rate)
{
	struct wp_stack_config c;
	struct wp_stack *s;
	char err[256];

	wp_stack_config_default(&c);
	c.addr = addr;
	c.prefix_len = 24;
	c.mac[5] = last;
	c.mac[0] = 0x02;
	c.mac_set = true;
	c.rate_pps = rate;
	c.flows = 4;
	s = wp_stack_create(&c, err, sizeof(err));
	if (!s)
		fail_msg("create: %s", err);
	return s;
}

static void test_link_refusals(void **state)
{
	struct wp_stack *a = make(IP_A, 0xa, 0), *b = make(IP_B, 0xb, 0);
	char err[128];

	(void)state;
	assert_int_equal(wp_stack_link_sim(a, a, err, sizeof(err)), -EINVAL);
	assert_int_equal(wp_stack_link_sim(a, b, err, sizeof(err)), 0);
	assert_int_equal(wp_stack_link_sim(a, b, err, sizeof(err)), -EBUSY);
	wp_stack_destroy(a);
	wp_stack_destroy(b);
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct server {
	struct wp_stack *s;
	int l;
	size_t got;
	int ret;
	_Atomic bool done;
};

/* Accept one connection; read until EOF; answer with the byte count. */
static void *server_main(void *arg)
{
	struct server *sv = arg;
	uint8_t buf[8192];
	uint32_t n;
	ssize_t r;
	int c = wp_accept(sv->l, NULL, NULL);

	sv->ret = -1;
	if (c >= 0) {
		while ((r = wp_recv(c, buf, sizeof(buf), 0)) > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] !=
				    (uint8_t)((sv->got + (size_t)i) % 251))
					goto out;
			sv->got += (size_t)r;
		}
		n = htonl((uint32_t)sv->got);
		sv->ret = r == 0 && wp_send(c, &n, sizeof(n), 0) == sizeof(n)
				  ? 0
				  : -1;
	out:
		wp_close(c);
	}
	atomic_store(&sv->done, true);
	return NULL;
}

static void test_tcp_across_the_cable(void **state)
{
	/* A's generator floods A with UDP to port 9 meanwhile. */
	struct wp_stack *a = make(IP_A, 0xa, 20000), *b = make(IP_B, 0xb, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(5001) };
	struct server sv = { .s = a };
	struct wp_fdtable *fdt = wp_fdtable_create(64, NULL), *old;
	uint8_t *out = malloc(BYTES);
	uint64_t limit = real_ns() + LIMIT_NS;
	struct wp_socket_stats st;
	uint32_t n = 0;
	pthread_t t;
	char err[128];
	int c;

	(void)state;
	assert_non_null(fdt);
	assert_non_null(out);
	old = wp_fdtable_set_current(fdt);
	assert_int_equal(wp_stack_link_sim(a, b, err, sizeof(err)), 0);
	assert_int_equal(wp_stack_start(a), 0);
	assert_int_equal(wp_stack_start(b), 0);

	sv.l = wp_socket_net(a, AF_INET, SOCK_STREAM, 0);
	assert_true(sv.l >= 0);
	assert_int_equal(wp_bind(sv.l, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	assert_int_equal(wp_listen(sv.l, 4), 0);
	assert_int_equal(pthread_create(&t, NULL, server_main, &sv), 0);

	/* B connects (blocking: ARP, then the handshake) and sends. */
	c = wp_socket_net(b, AF_INET, SOCK_STREAM, 0);
	assert_true(c >= 0);
	sin.sin_addr.s_addr = htonl(IP_A);
	assert_int_equal(wp_connect(c, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	for (size_t i = 0; i < BYTES; i++)
		out[i] = (uint8_t)(i % 251);
	assert_int_equal(wp_send(c, out, BYTES, 0), (ssize_t)BYTES);
	assert_int_equal(wp_shutdown(c, SHUT_WR), 0);
	assert_int_equal(wp_recv(c, &n, sizeof(n), MSG_WAITALL), sizeof(n));
	assert_int_equal(ntohl(n), BYTES);
	while (!atomic_load(&sv.done))
		assert_true(real_ns() < limit);
	pthread_join(t, NULL);
	assert_int_equal(sv.ret, 0);
	assert_int_equal(sv.got, BYTES);
	assert_int_equal(wp_socket_get_stats(c, &st), 0);
	assert_int_equal(st.tx_bytes, BYTES);
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(wp_close(sv.l), 0);

	wp_stack_stop(a);
	wp_stack_stop(b);
	/* Every frame B sent reached A's NIC, or was counted full. */
	assert_true(b->backend.frames_out > 0);
	wp_fdtable_set_current(old);
	wp_fdtable_destroy(fdt);
	/* Nothing the cable carried leaked out of a pool. */
	for (int i = 0; i < 2; i++) {
		struct wp_stack *s = i ? b : a;

		wp_nic_down(s->nic);
		for (uint16_t q = 0; q < s->nic->cfg.nqueues; q++)
			assert_true(wp_pool_is_whole(s->nic->rxq[q].pool));
	}
	wp_stack_destroy(a);
	wp_stack_destroy(b);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_refusals),
		cmocka_unit_test(test_tcp_across_the_cable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
