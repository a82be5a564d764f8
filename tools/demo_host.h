/* SPDX-License-Identifier: MIT */
/*
 * The demo's second host: a client stack (wp1, 10.0.0.3) on its own sim
 * NIC, joined to the demo's stack (wp0, 10.0.0.2) by a crossover cable,
 * with application threads of its own talking to the applications that
 * run on wp0: a TCP stream through tcp-echo, HTTP requests to http, UDP
 * round trips through udp-echo; wp0 also sinks its generated UDP flows
 * in udp-sink. So the demo shows the protocol half too: socket queues,
 * TCP windows, wake-ups by kind, bytes across the syscall boundary.
 *
 *   h = demo_host_create(wp0, err, len);     before wp_stack_start(wp0)
 *   wp_stack_start(wp0); demo_host_start(h, err, len);
 *   ... demo_host_snap / demo_host_print_interval each second ...
 *   demo_host_stop(h);                        clients, apps, wp1 stopped
 *   wp_stack_stop(wp0); demo_host_destroy(h); wp_stack_destroy(wp0);
 */
#ifndef WP_TOOLS_DEMO_HOST_H
#define WP_TOOLS_DEMO_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hist.h"
#include "sock/wait.h"

struct wp_stack;
struct demo_host;

struct demo_host_snap {
	uint64_t tcp_bytes; /* echoed back to the client */
	uint64_t http_reqs; /* responses read completely */
	uint64_t http_bytes;
	uint64_t udp_rtts;    /* udp-echo round trips */
	struct wp_hist rtt;   /* their times */
	uint64_t sink_dgrams; /* generated datagrams udp-sink read */
	uint64_t sink_drops;  /* ... that its full queue dropped */
	struct wp_wake_stats wake;
};

struct demo_host *demo_host_create(struct wp_stack *server, char *err,
				   size_t errlen);
int demo_host_start(struct demo_host *h, char *err, size_t errlen);
void demo_host_snap(struct demo_host *h, struct demo_host_snap *sn);
/* Two lines: the flows, then the sockets' queues and windows and the
 * wake-ups by kind since the last snapshot. */
void demo_host_print_interval(struct demo_host *h,
			      const struct demo_host_snap *a,
			      const struct demo_host_snap *b, double dt,
			      FILE *out);
void demo_host_print_summary(struct demo_host *h,
			     const struct demo_host_snap *a,
			     const struct demo_host_snap *b, FILE *out);
void demo_host_stop(struct demo_host *h);
void demo_host_destroy(struct demo_host *h);

#endif
