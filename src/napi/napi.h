/* SPDX-License-Identifier: MIT */
/*
 * NAPI and the NET_RX softirq (Linux net/core/dev.c).
 *
 *   top half:  wp_napi_schedule()       -> on the cpu's poll list, NET_RX raised
 *   softirq:   wp_net_rx_action()       -> poll each NAPI with its weight,
 *              within netdev_budget packets and netdev_budget_usecs;
 *              out of either with work left -> time_squeeze++, re-raise
 *   driver:    poll(napi, budget)       -> DD descriptors -> skbs -> refill
 *              -> wp_napi_gro_receive(); returns work done
 *              work < budget: wp_napi_complete_done() -> driver unmasks IRQ
 *              work == budget: stays scheduled, IRQ stays masked
 *   do_softirq restarts NET_RX at most 10 times / 2 ms, then defers to the
 *   ksoftirqd-like mode (softnet ksoftirqd_wakeups).
 *
 * Busy-poll mode (the kernel-bypass seed's polling-driven model): the core
 * thread polls every NAPI bound to it in a loop, never sleeps, never
 * unmasks a vector.
 *
 * Packets handed up: wp_napi_gro_receive() appends to napi->rx_list; the
 * list goes to napi->rx_handler after each poll (Linux gro_normal_list),
 * so upper layers always see batches.
 */
#ifndef WP_NAPI_NAPI_H
#define WP_NAPI_NAPI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu.h"
#include "skb/skb.h"

enum {
	WP_NAPI_STATE_SCHED = 1u << 0,   /* on a poll list or being polled */
	WP_NAPI_STATE_MISSED = 1u << 1,  /* scheduled again while running */
	WP_NAPI_STATE_DISABLE = 1u << 2, /* being disabled (ring resize) */
};

#define WP_NET_RX_SOFTIRQ 1u
#define WP_MAX_SOFTIRQ_RESTART 10
#define WP_MAX_SOFTIRQ_TIME_NS (2 * 1000 * 1000)

struct wp_napi;

/* Driver poll: do at most `budget` packets; return how many. */
typedef int (*wp_napi_poll_fn)(struct wp_napi *napi, int budget);

/* Upper layer: consumes every skb on the list (netif_receive_skb_list). */
typedef void (*wp_rx_handler_t)(void *ctx, struct wp_napi *napi,
				 struct wp_skb_queue *skbs);

struct wp_napi {
	struct wp_napi *poll_next;     /* cpu poll list linkage */
	struct wp_napi *poll_prev;
	_Atomic uint32_t state;
	int weight;                    /* 0: read net.core.dev_weight live */
	wp_napi_poll_fn poll;
	struct wp_cpu *cpu;
	void *priv;                    /* the driver's queue */
	uint32_t id;

	struct wp_skb_queue rx_list;   /* handed up after each poll */
	wp_rx_handler_t rx_handler;    /* NULL: drop with NO_HANDLER */
	void *rx_ctx;

	/* statistics */
	uint64_t polls;
	uint64_t packets;
	uint64_t completes;
	uint64_t budget_exhausted;
	/* last poll, for `wirepath sim napi` and tracing */
	int last_work;
	bool last_completed;
};

/* netif_napi_add: bind to cpu, weight 0 = net.core.dev_weight. */
void wp_netif_napi_add(struct wp_cpu *cpu, struct wp_napi *napi,
		       wp_napi_poll_fn poll, int weight);
void wp_netif_napi_del(struct wp_napi *napi);

/* Move a NAPI to another cpu (IRQ affinity change). Not while scheduled. */
void wp_napi_set_cpu(struct wp_napi *napi, struct wp_cpu *cpu);

/* The effective weight (napi->weight, or net.core.dev_weight). */
int wp_napi_weight(const struct wp_napi *napi);

/* Called by a top half on napi->cpu's thread. False if already scheduled. */
bool wp_napi_schedule(struct wp_napi *napi);

/*
 * Driver, from poll(), when work_done < budget: NAPI leaves the poll list.
 * Returns true if the driver must now unmask its interrupt; false if NAPI
 * was scheduled again meanwhile (it stays on the list) or is in busy-poll.
 */
bool wp_napi_complete_done(struct wp_napi *napi, int work_done);

/* Stop new scheduling and wait out a running poll (ring resize). */
void wp_napi_disable(struct wp_napi *napi);
void wp_napi_enable(struct wp_napi *napi);

/* Hand a packet up (consumes it); delivered after this poll returns. */
void wp_napi_gro_receive(struct wp_napi *napi, struct wp_skb *skb);

/* The NET_RX softirq handler. Core thread only. */
void wp_net_rx_action(struct wp_cpu *cpu);

/* Run pending softirqs with Linux's restart and time limits. */
void wp_do_softirq(struct wp_cpu *cpu);

/* --- core threads ------------------------------------------------------ */

/* Initialise a cpu (id, clock, sysctl, irq table); no thread yet. */
void wp_cpu_init(struct wp_cpu *cpu, int id, struct wp_clock *clock,
		 struct wp_sysctl *sysctl, struct wp_irq_table *irqs);
void wp_cpu_destroy(struct wp_cpu *cpu);

/* Add a hook run every loop iteration (timers, control). -ENOSPC if full. */
int wp_cpu_add_hook(struct wp_cpu *cpu, wp_cpu_hook_fn fn, void *arg);

/* Enable busy-poll mode before starting the thread. */
void wp_cpu_set_busy_poll(struct wp_cpu *cpu, bool on);

/*
 * One iteration on the caller's thread: take interrupts, run softirqs
 * (or busy-poll every NAPI), run hooks. For virtual time and tests.
 * Returns true if it did any work.
 */
bool wp_cpu_run_once(struct wp_cpu *cpu);

/* True if the cpu has work it would do on wp_cpu_run_once(). */
bool wp_cpu_has_work(const struct wp_cpu *cpu);

/* Start/stop the core thread (real time): loops wp_cpu_run_once, sleeping
 * when idle until wp_cpu_kick() or next_timer_ns. */
int wp_cpu_start(struct wp_cpu *cpu);
void wp_cpu_stop(struct wp_cpu *cpu);

#endif
