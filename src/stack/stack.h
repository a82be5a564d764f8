/* SPDX-License-Identifier: MIT */
/*
 * The stack's insides, for the wirepath command's tools (sim, demo, stat)
 * and tests, which look at every stage.
 */
#ifndef WP_STACK_STACK_H
#define WP_STACK_STACK_H

#include "wirepath/stack.h"

#include "core/clock.h"
#include "core/cpu.h"
#include "core/hist.h"
#include "core/sysctl.h"
#include "irq/irq.h"
#include "napi/napi.h"
#include "nic/backend/backend.h"
#include "net/net.h"
#include "nic/nic.h"
#include "trace/trace.h"

/*
 * Background sampling: 1 received packet in this many per core carries
 * stamps, so `wirepath stat latency` has data without anyone asking; a
 * `wirepath trace` session replaces the filter while it runs.
 */
#define WP_STACK_TRACE_EVERY 1024

/* Per-core receive accounting at the top of the device half. */
struct wp_stack_rx {
	uint64_t packets;
	uint64_t bytes;
	struct wp_hist latency;   /* DMA -> handed up by NAPI, ns */
};

struct wp_stack {
	struct wp_stack_config cfg;
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_irq_table irqs;
	struct wp_cpu cpu[WP_MAX_CPUS];
	struct wp_cpu *cpus[WP_MAX_CPUS];
	uint32_t ncpus;
	struct wp_nic *nic;
	struct wp_backend backend;
	bool backend_open;
	bool paired;              /* one of a pair: its clock is the pair's */
	bool started;
	struct wp_stack_rx rx[WP_MAX_CPUS];
	struct wp_net *net;       /* the protocol layer */
	struct wp_trace *trace;   /* sampling, stage latency, capture taps */
	bool net_started;
	/* What NAPI hands packets to, after the accounting above: the
	 * protocol layer (wp_netif_receive_skb_list). */
	wp_rx_handler_t rx_handler;
	void *rx_ctx;
	/* The control socket's server (src/ctl), NULL when none runs:
	 * set and cleared by wp_ctl_start/wp_ctl_stop on the thread that
	 * owns the stack. */
	struct wp_ctl *ctl;
};

/*
 * wp_stack_create with the backend attached to `peer` (the pair backend's
 * wire end: wp_backend_config.peer). A stack built with a peer is paired:
 * wp_stack_run_until refuses it; the pair steps it.
 */
struct wp_stack *wp__stack_create(const struct wp_stack_config *cfg,
				  void *peer, char *err, size_t errlen);

/*
 * One pass at `now` (the clock already there): the firmware (frames due,
 * moderation timers, TX), then every core until none has work left.
 * *worked: a core did something, so it may have transmitted and the
 * firmware must step again at this instant. Returns the stack's next
 * event: the firmware's or a core timer's (WP_TIME_NEVER: none).
 */
uint64_t wp__stack_step(struct wp_stack *s, uint64_t now, bool *worked);

/* Sum of every core's receive accounting. */
void wp_stack_rx_totals(const struct wp_stack *s, struct wp_stack_rx *out);

/* Sum of drop counters: every core's plus the shared block. */
void wp_stack_drops(const struct wp_stack *s, struct wp_drop_stats *out);

/* Sum of every core's softnet counters. */
void wp_stack_softnet(const struct wp_stack *s, struct wp_softnet_stat *out);

#endif
