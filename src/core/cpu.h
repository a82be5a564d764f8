/* SPDX-License-Identifier: MIT */
/*
 * struct wp_cpu: one core of the stack (Linux's per-CPU softnet_data plus
 * the CPU itself). A core thread owns its cpu: its poll list, its softnet
 * counters, its drop counters. Other threads touch only the atomics
 * marked below (interrupt delivery and wake-up).
 *
 * The loop of a core thread (src/napi/softirq.c):
 *     wait for an interrupt (or poll, in busy-poll mode)
 *     -> take pending vectors: top halves       (src/irq)
 *     -> do_softirq: net_rx_action over NAPIs   (src/napi)
 *     -> hooks: timers, control requests
 * In virtual-time runs the same steps are driven by wp_cpu_run_once()
 * on the caller's thread, so a seed gives the same run.
 */
#ifndef WP_CORE_CPU_H
#define WP_CORE_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/drop.h"
#include "core/sysctl.h"

#define WP_MAX_CPUS 64
#define WP_MAX_VECTORS 64

struct wp_cpu;
struct wp_napi;
struct wp_irq_table;

/* /proc/net/softnet_stat columns, plus wirepath's own. */
struct wp_softnet_stat {
	uint64_t processed;        /* packets handed up by NAPI polls */
	uint64_t dropped;          /* backlog drops */
	uint64_t time_squeeze;     /* net_rx_action stopped with work left */
	uint64_t received_rps;
	uint64_t flow_limit_count;
	/* wirepath */
	uint64_t softirq_runs;     /* net_rx_action invocations */
	uint64_t napi_polls;       /* poll() calls */
	uint64_t budget_exhausted; /* poll() returned == weight */
	uint64_t napi_completes;   /* napi_complete_done that re-armed */
	uint64_t ksoftirqd_wakeups;/* softirq deferred to the ksoftirqd-like path */
	uint64_t busy_polls;       /* polls made in busy-poll mode */
	uint64_t irqs;             /* interrupts taken on this cpu */
	uint64_t gro_held;         /* segments GRO held to merge others into */
	uint64_t gro_merged;       /* segments GRO merged into a held one */
	uint64_t gro_flush;        /* held skbs GRO handed up */
};

typedef void (*wp_cpu_hook_fn)(struct wp_cpu *cpu, void *arg);

#define WP_CPU_MAX_HOOKS 8

struct wp_cpu {
	int id;
	struct wp_clock *clock;
	struct wp_sysctl *sysctl;
	struct wp_irq_table *irqs;

	/* --- written by other threads ------------------------------------ */
	_Atomic uint64_t irq_pending;    /* bit v: vector v asserted to this cpu */
	_Atomic uint32_t wake_seq;       /* bumped by wp_cpu_kick() */
	_Atomic bool stop;
	_Atomic bool sleeping;           /* core thread waits on cond */

	/* --- owned by the core thread ------------------------------------ */
	uint32_t softirq_pending;        /* NET_RX raised */
	struct wp_napi *poll_head;       /* NAPI poll list */
	struct wp_napi *poll_tail;
	bool ksoftirqd;                  /* softirq deferred: run at low priority */
	bool busy_poll;                  /* polling-driven: no interrupts */
	struct wp_napi *napis[WP_MAX_VECTORS]; /* every NAPI bound here (busy poll) */
	uint32_t nnapis;
	struct wp_softnet_stat softnet;
	struct wp_drop_stats drops;

	wp_cpu_hook_fn hooks[WP_CPU_MAX_HOOKS]; /* run every loop iteration */
	void *hook_args[WP_CPU_MAX_HOOKS];
	uint32_t nhooks;
	uint64_t next_timer_ns;          /* earliest hook deadline: sleep bound;
					  * reset to WP_TIME_NEVER before the
					  * hooks run, each re-arms its own */

	pthread_t thread;
	_Atomic bool threaded;           /* a core thread runs this cpu */
	pthread_mutex_t lock;            /* only for sleeping */
	pthread_cond_t cond;
	/* napis[] changes (write) vs a busy-poll pass (read); prefers
	 * writers so a busy-polling thread cannot starve a control thread. */
	pthread_rwlock_t napis_lock;
};

/* A hook's next deadline: the core thread sleeps no later than this. */
static inline void wp_cpu_arm_timer(struct wp_cpu *cpu, uint64_t ns)
{
	if (ns < cpu->next_timer_ns)
		cpu->next_timer_ns = ns;
}

#endif
