// SPDX-License-Identifier: MIT
#include "bench_tcp_pair.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api.h"
#include "core/sysctl.h"
#include "sock/fd.h"
#include "stack/stack.h"
#include "wirepath/pair.h"

#define IP_A ((10u << 24) | 1)
#define IP_B ((10u << 24) | 2)

uint64_t wp_bench_thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void config(struct wp_stack_config *c, uint8_t me, uint32_t addr,
		   uint8_t peer_mac, uint32_t peer, uint32_t mtu)
{
	wp_stack_config_default(c);
	c->mac[0] = 0x02;
	c->mac[5] = me;
	c->addr = addr;
	c->mtu = mtu;
	c->rx_usecs = 0; /* every frame at once: nothing waits on a timer */
	c->nstatic_arp = 1;
	c->static_arp[0].ip = peer;
	c->static_arp[0].mac[0] = 0x02;
	c->static_arp[0].mac[5] = peer_mac;
}

int wp_bench_pair_open(struct wp_bench_pair *w, uint32_t mtu, unsigned nfds)
{
	struct wp_stack_config ca, cb;
	char err[256];

	config(&ca, 0x0a, IP_A, 0x0b, IP_B, mtu);
	config(&cb, 0x0b, IP_B, 0x0a, IP_A, mtu);
	w->p = wp_stack_pair_create(&ca, &cb, NULL, err, sizeof(err));
	if (!w->p) {
		fprintf(stderr, "bench: pair: %s\n", err);
		return -1;
	}
	w->a = wp_stack_pair_a(w->p);
	w->b = wp_stack_pair_b(w->p);
	/* Descriptors of our own, their timeouts on the pair's clock. */
	w->fdt = wp_fdtable_create(nfds, &w->a->clock);
	if (!w->fdt) {
		fprintf(stderr, "bench: %u descriptors: %s\n", nfds,
			strerror(errno));
		wp_stack_pair_destroy(w->p);
		return -1;
	}
	w->old = wp_fdtable_set_current(w->fdt);
	wp_sysctl_set(&w->a->sysctl, "net.ipv4.tcp_msl_ms", "100");
	wp_sysctl_set(&w->b->sysctl, "net.ipv4.tcp_msl_ms", "100");
	return 0;
}

void wp_bench_pair_run(struct wp_bench_pair *w, uint64_t dt)
{
	wp_stack_pair_run_until(w->p, wp_stack_pair_now(w->p) + dt);
}

void wp_bench_pair_close(struct wp_bench_pair *w)
{
	wp_fdtable_set_current(w->old);
	wp_fdtable_destroy(w->fdt); /* closes what is left: FINs */
	wp_bench_pair_run(w, 2 * WP_NSEC_PER_SEC); /* past TIME_WAIT */
	wp_stack_pair_destroy(w->p);
	wp_socket_cleanup();
}

static int set_bufs(int fd, int buf)
{
	if (!buf)
		return 0;
	if (wp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) ||
	    wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)))
		return -1;
	return 0;
}

int wp_bench_pair_listen(struct wp_bench_pair *w, uint16_t port, int buf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int fd = wp_socket_net(w->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || set_bufs(fd, buf) ||
	    wp_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    wp_listen(fd, 4096))
		return -1;
	return fd;
}

int wp_bench_pair_connect(struct wp_bench_pair *w, uint16_t port, int buf)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(IP_B) };
	int fd = wp_socket_net(w->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || set_bufs(fd, buf))
		return -1;
	if (wp_connect(fd, (struct sockaddr *)&to, sizeof(to)) &&
	    errno != EINPROGRESS)
		return -1;
	return fd;
}
