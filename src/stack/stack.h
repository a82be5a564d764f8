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
#include "nic/nic.h"

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
	bool started;
	struct wp_stack_rx rx[WP_MAX_CPUS];
	/* What NAPI hands packets to. Default: account and consume (the
	 * device half alone); the protocol stack replaces it. */
	wp_rx_handler_t rx_handler;
	void *rx_ctx;
};

/* Sum of every core's receive accounting. */
void wp_stack_rx_totals(const struct wp_stack *s, struct wp_stack_rx *out);

/* Sum of drop counters: every core's plus the shared block. */
void wp_stack_drops(const struct wp_stack *s, struct wp_drop_stats *out);

/* Sum of every core's softnet counters. */
void wp_stack_softnet(const struct wp_stack *s, struct wp_softnet_stat *out);

#endif
