/* SPDX-License-Identifier: MIT */
/*
 * Interrupt vectors (MSI-X-like): one per NIC queue, each bound to one
 * cpu (its affinity). The NIC raises a vector; the bound cpu takes it and
 * runs the top half, which only counts, masks the vector and calls
 * wp_napi_schedule() (Linux igb_msix_ring()).
 *
 * Masking follows MSI-X: raising a masked vector sets its pending bit
 * (the PBA) and delivers nothing; unmasking delivers a pending interrupt
 * at once. So the window between a NAPI poll's last look at the ring and
 * napi_complete_done's unmask cannot lose a packet's interrupt.
 *
 * The count table is /proc/interrupts: vectors by cpus.
 */
#ifndef WP_IRQ_IRQ_H
#define WP_IRQ_IRQ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cpu.h"

struct wp_irq_vector;

/* Top half: runs on the vector's cpu thread, with the vector masked by
 * the handler itself if it wants (wp_irq_mask). */
typedef void (*wp_irq_handler_t)(struct wp_irq_vector *v, void *arg);

struct wp_irq_vector {
	uint16_t id;
	bool in_use;
	char name[32];                     /* "wp0-TxRx-0", as igb names them */
	struct wp_cpu *_Atomic cpu;        /* affinity: read by raisers */
	_Atomic bool masked;
	_Atomic bool pba;                  /* raised while masked */
	wp_irq_handler_t handler;
	void *arg;
	_Atomic uint64_t count[WP_MAX_CPUS]; /* /proc/interrupts cells */
	_Atomic uint64_t raised;           /* assertions by the NIC, masked or
					    * not (one writer: wp_irq_raise) */
};

struct wp_irq_table {
	struct wp_irq_vector vec[WP_MAX_VECTORS];
	uint32_t nvec;                     /* vectors in use */
	struct wp_cpu **cpus;
	uint32_t ncpus;
};

void wp_irq_table_init(struct wp_irq_table *t, struct wp_cpu **cpus,
		       uint32_t ncpus);

/* request_irq: a free vector bound to cpus[id % ncpus]; NULL if none left. */
struct wp_irq_vector *wp_request_irq(struct wp_irq_table *t, const char *name,
				     wp_irq_handler_t handler, void *arg);
void wp_free_irq(struct wp_irq_vector *v);

/*
 * /proc/irq/N/smp_affinity: the next raise goes to the new cpu. An
 * interrupt already pending on the old cpu is forwarded by it, unrun, so
 * a top half always runs on the vector's current cpu (the driver moves
 * the vector's NAPI with wp_napi_set_cpu while it is idle).
 */
void wp_irq_set_affinity(struct wp_irq_vector *v, struct wp_cpu *cpu);

void wp_irq_mask(struct wp_irq_vector *v);
/* Unmask; an interrupt raised while masked is delivered now. */
void wp_irq_unmask(struct wp_irq_vector *v);

/*
 * The NIC asserts the vector (any thread). Masked: sets the PBA bit and
 * returns false. Otherwise marks it pending on its cpu, wakes that cpu's
 * thread and returns true. `raised` counts it with a plain load and store,
 * not a locked add: a vector's raiser is its queue's firmware, one thread
 * in every backend, and a locked add per frame cost a fifth of a TCP bulk
 * transfer's time on a VM. A raise from another thread at the same
 * instant (the kick of a ring that restarts short of buffers) may go
 * uncounted; no raise goes undelivered.
 */
bool wp_irq_raise(struct wp_irq_vector *v);

/*
 * The cpu takes its pending interrupts (one atomic exchange of
 * irq_pending): counts each in the table and in softnet.irqs and runs its
 * top half. Core thread only. Returns how many top halves it ran; bits of
 * freed vectors are dropped, those of moved vectors forwarded.
 */
uint32_t wp_cpu_handle_irqs(struct wp_cpu *cpu);

/* Wake a cpu's thread if it sleeps (any thread). Defined in softirq.c. */
void wp_cpu_kick(struct wp_cpu *cpu);

/* Print the table as /proc/interrupts does: header of CPUs, one row per
 * vector: "NN:  count0  count1  wirepath-msi  name". */
void wp_irq_print(const struct wp_irq_table *t, FILE *out);

#endif
