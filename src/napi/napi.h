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
 * Packets handed up: wp_napi_gro_receive() merges TCP segments (GRO,
 * napi/gro.h) or appends to napi->rx_list; at the end of each poll what
 * GRO holds joins the list and the list goes to napi->rx_handler (Linux
 * napi_gro_flush, gro_normal_list), so upper layers always see batches.
 */
#ifndef WP_NAPI_NAPI_H
#define WP_NAPI_NAPI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cpu.h"
#include "napi/gro.h"
#include "skb/skb.h"

enum {
	WP_NAPI_STATE_SCHED = 1u << 0,   /* on a poll list or being polled */
	WP_NAPI_STATE_MISSED = 1u << 1,  /* scheduled again while running */
	WP_NAPI_STATE_DISABLE = 1u << 2, /* being disabled (ring resize) */
	WP_NAPI_STATE_IN_BUSY_POLL = 1u << 3, /* owned by a busy-poll pass */
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
	struct wp_gro gro;             /* flows held during a poll */
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

/*
 * netif_napi_add: bind to cpu, weight 0 = net.core.dev_weight. The NAPI
 * starts enabled and idle, with GRO on (Linux: NETIF_F_GRO is on by
 * default); priv, id, rx_handler and rx_ctx are the caller's and are left
 * as they are. Control path.
 */
void wp_netif_napi_add(struct wp_cpu *cpu, struct wp_napi *napi,
		       wp_napi_poll_fn poll, int weight);
/* Unbind from its cpu. Disable it first if the cpu's thread runs. */
void wp_netif_napi_del(struct wp_napi *napi);

/* Move a NAPI to another cpu (IRQ affinity change). Not while scheduled. */
void wp_napi_set_cpu(struct wp_napi *napi, struct wp_cpu *cpu);

/* The effective weight (napi->weight, or net.core.dev_weight). */
int wp_napi_weight(const struct wp_napi *napi);

/*
 * Called by a top half on napi->cpu's thread. False if already scheduled
 * (then MISSED is set: the poll that is running will be followed by
 * another) or disabled (nothing is recorded: the driver schedules once
 * after wp_napi_enable, as igb_up does).
 */
bool wp_napi_schedule(struct wp_napi *napi);

/*
 * Driver, from poll(), when work_done < budget: NAPI leaves the poll list.
 * The packets handed up so far go to rx_handler first; once it returns
 * true the NAPI may be disabled by another thread, so the driver only
 * unmasks its vector after it.
 * Returns true if the driver must now unmask its interrupt; false if NAPI
 * was scheduled again meanwhile (it stays on the list) or is in busy-poll.
 */
bool wp_napi_complete_done(struct wp_napi *napi, int work_done);

/*
 * Stop new scheduling and wait out a running poll (ring resize): on return
 * the NAPI is off every list, is not being polled and cannot be scheduled;
 * its vector stays as it was (masked if a top half ran). From a control
 * thread it waits until the core thread has finished with it (a
 * scheduled NAPI gets one last poll); from the core thread itself, or when
 * no thread runs, it takes the NAPI off the poll list at once.
 */
void wp_napi_disable(struct wp_napi *napi);
/* Undo wp_napi_disable (no-op on an enabled NAPI). The driver then
 * schedules once or unmasks its vector: interrupts that came while it was
 * disabled scheduled nothing. */
void wp_napi_enable(struct wp_napi *napi);

/*
 * napi_gro_receive: hand a packet up (consumes it), from the poll. With
 * GRO on, a TCP/IPv4 segment may be held to merge with the ones after it
 * (napi/gro.h); everything goes up by the end of this poll, in order
 * within each connection.
 */
void wp_napi_gro_receive(struct wp_napi *napi, struct wp_skb *skb);

/*
 * ethtool -K gro on|off (NETIF_F_GRO). Any thread; the poller sees it at
 * its next packet. Turning it off leaves nothing held past that poll.
 */
void wp_napi_set_gro(struct wp_napi *napi, bool on);
bool wp_napi_gro_enabled(const struct wp_napi *napi);

/* The NAPI's GRO counters. Any thread: each read is relaxed. */
void wp_napi_gro_stats(const struct wp_napi *napi, struct wp_gro_stats *out);

/*
 * The NET_RX softirq handler. Core thread only. Polls each NAPI on the
 * list once with its weight; one that used its whole weight goes to the
 * tail. Stops when netdev_budget packets were done or netdev_budget_usecs
 * passed (both read live from cpu->sysctl); stopping with work left counts
 * a time_squeeze and leaves NET_RX raised.
 */
void wp_net_rx_action(struct wp_cpu *cpu);

/*
 * Run pending softirqs with Linux's restart and time limits: at most
 * WP_MAX_SOFTIRQ_RESTART runs and WP_MAX_SOFTIRQ_TIME_NS; work still
 * pending then sets cpu->ksoftirqd (counted in ksoftirqd_wakeups), and the
 * softirq runs once per loop iteration, after the hooks, until the poll
 * list is empty. Does nothing while cpu->ksoftirqd is set.
 */
void wp_do_softirq(struct wp_cpu *cpu);

/* --- core threads ------------------------------------------------------ */

/* Initialise a cpu (id, clock, sysctl, irq table); no thread yet. */
void wp_cpu_init(struct wp_cpu *cpu, int id, struct wp_clock *clock,
		 struct wp_sysctl *sysctl, struct wp_irq_table *irqs);
void wp_cpu_destroy(struct wp_cpu *cpu);

/*
 * Add a hook run every loop iteration (timers, control), before the thread
 * starts. -ENOSPC if full. A hook with a deadline re-arms it each time it
 * runs (wp_cpu_arm_timer); the idle thread sleeps no later than that.
 */
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

/*
 * Start/stop the core thread (real time): loops wp_cpu_run_once, sleeping
 * when idle until wp_cpu_kick() or next_timer_ns (busy-poll: never
 * sleeps). The thread counts drops into cpu->drops. Start: 0, -EBUSY if
 * running, or the pthread_create error. Stop waits for the thread.
 */
int wp_cpu_start(struct wp_cpu *cpu);
void wp_cpu_stop(struct wp_cpu *cpu);

/* --- internal to src/napi ---------------------------------------------- */

/*
 * One busy-poll pass: every enabled NAPI bound to cpu is polled with its
 * weight; wp_napi_complete_done() returns false meanwhile, so vectors stay
 * masked. Returns packets done. Core thread only (wp_cpu_run_once).
 */
int wp__napi_busy_poll(struct wp_cpu *cpu);

/* napi_gro_flush: everything GRO holds onto rx_list, oldest first. */
void wp__napi_gro_flush(struct wp_napi *napi);
/* Drop everything GRO holds (the NAPI is going away). */
void wp__napi_gro_purge(struct wp_napi *napi);

/* True on cpu's core thread, or on any thread while none runs it. */
bool wp__cpu_owned(const struct wp_cpu *cpu);

#endif
