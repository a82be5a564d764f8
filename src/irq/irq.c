// SPDX-License-Identifier: MIT
/*
 * Interrupt vectors: delivery, MSI-X masking with a pending bit, and the
 * /proc/interrupts table.
 *
 * Delivery is one bit per vector in the target cpu's irq_pending word,
 * as an APIC's IRR holds one bit per vector: two raises before the cpu
 * takes the first make one interrupt. What must never happen is an
 * assertion that neither reaches a cpu nor stays in the PBA; the
 * raise/unmask protocol below is built around that.
 */
#include "irq/irq.h"

#include <stdio.h>
#include <string.h>

#include "core/compiler.h"

void wp_irq_table_init(struct wp_irq_table *t, struct wp_cpu **cpus,
		       uint32_t ncpus)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < WP_MAX_VECTORS; i++) {
		struct wp_irq_vector *v = &t->vec[i];

		v->id = (uint16_t)i;
		atomic_init(&v->cpu, NULL);
		atomic_init(&v->masked, true);
		atomic_init(&v->pba, false);
		atomic_init(&v->raised, 0);
		for (uint32_t c = 0; c < WP_MAX_CPUS; c++)
			atomic_init(&v->count[c], 0);
	}
	t->cpus = cpus;
	t->ncpus = ncpus;
}

struct wp_irq_vector *wp_request_irq(struct wp_irq_table *t, const char *name,
				     wp_irq_handler_t handler, void *arg)
{
	struct wp_irq_vector *v = NULL;

	if (!handler || t->ncpus == 0)
		return NULL;
	for (uint32_t i = 0; i < WP_MAX_VECTORS; i++) {
		if (!t->vec[i].in_use) {
			v = &t->vec[i];
			break;
		}
	}
	if (!v)
		return NULL;

	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	v->handler = handler;
	v->arg = arg;
	for (uint32_t c = 0; c < WP_MAX_CPUS; c++)
		atomic_store_explicit(&v->count[c], 0, memory_order_relaxed);
	atomic_store_explicit(&v->raised, 0, memory_order_relaxed);
	atomic_store_explicit(&v->pba, false, memory_order_relaxed);
	atomic_store_explicit(&v->cpu, t->cpus[v->id % t->ncpus],
			      memory_order_relaxed);
	v->in_use = true;
	t->nvec++;
	/* Unmasking last publishes the fields above to raisers. */
	atomic_store_explicit(&v->masked, false, memory_order_seq_cst);
	return v;
}

void wp_free_irq(struct wp_irq_vector *v)
{
	struct wp_irq_table *t;

	if (!v || !v->in_use)
		return;
	/* Masked: a late raise lands in the PBA, never on a cpu. A bit
	 * already on a cpu is dropped there because in_use is false. */
	atomic_store_explicit(&v->masked, true, memory_order_seq_cst);
	atomic_store_explicit(&v->pba, false, memory_order_relaxed);
	v->in_use = false;
	v->handler = NULL;
	v->arg = NULL;
	t = wp_container_of(v - v->id, struct wp_irq_table, vec);
	t->nvec--;
}

void wp_irq_set_affinity(struct wp_irq_vector *v, struct wp_cpu *cpu)
{
	if (cpu)
		atomic_store_explicit(&v->cpu, cpu, memory_order_release);
}

/*
 * Post the vector to its cpu. The release on irq_pending orders whatever
 * the raiser wrote before (descriptors with DD) before the bit; the kick
 * then orders the bit before the wake-up (see wp_cpu_kick).
 */
static void deliver(struct wp_irq_vector *v)
{
	struct wp_cpu *cpu =
		atomic_load_explicit(&v->cpu, memory_order_acquire);

	atomic_fetch_or_explicit(&cpu->irq_pending, 1ull << v->id,
				 memory_order_release);
	wp_cpu_kick(cpu);
}

void wp_irq_mask(struct wp_irq_vector *v)
{
	atomic_store_explicit(&v->masked, true, memory_order_seq_cst);
}

/*
 * Unmask, then collect the PBA. Paired with wp_irq_raise(): each side
 * stores (masked=false here, pba=true there) before it loads the other's
 * flag, all seq_cst, so at least one side sees the other's store; the
 * exchange on pba makes exactly one of them deliver.
 */
void wp_irq_unmask(struct wp_irq_vector *v)
{
	atomic_store_explicit(&v->masked, false, memory_order_seq_cst);
	if (atomic_exchange_explicit(&v->pba, false, memory_order_seq_cst))
		deliver(v);
}

bool wp_irq_raise(struct wp_irq_vector *v)
{
	/* A statistic with one writer (see irq.h): no locked add. */
	atomic_store_explicit(
		&v->raised,
		atomic_load_explicit(&v->raised, memory_order_relaxed) + 1,
		memory_order_relaxed);
	if (!atomic_load_explicit(&v->masked, memory_order_seq_cst)) {
		deliver(v);
		return true;
	}
	atomic_store_explicit(&v->pba, true, memory_order_seq_cst);
	/* Unmasked between our load and the PBA store: the unmasker may
	 * have collected the PBA before we set it. Whoever takes it
	 * delivers. */
	if (!atomic_load_explicit(&v->masked, memory_order_seq_cst) &&
	    atomic_exchange_explicit(&v->pba, false, memory_order_seq_cst)) {
		deliver(v);
		return true;
	}
	return false;
}

uint32_t wp_cpu_handle_irqs(struct wp_cpu *cpu)
{
	uint64_t bits;
	uint32_t n = 0;

	/* Acquire pairs with the release in deliver(). */
	bits = atomic_exchange_explicit(&cpu->irq_pending, 0,
					memory_order_acquire);
	if (!bits || !cpu->irqs)
		return 0;

	while (bits) {
		unsigned int id = (unsigned int)__builtin_ctzll(bits);
		struct wp_irq_vector *v = &cpu->irqs->vec[id];
		struct wp_cpu *target;

		bits &= bits - 1;
		if (!v->in_use || !v->handler)
			continue; /* freed while in flight: spurious */
		target = atomic_load_explicit(&v->cpu, memory_order_acquire);
		if (target != cpu) {
			/* The affinity moved after delivery: the top half
			 * belongs to the new cpu, whose NAPI it schedules. */
			deliver(v);
			continue;
		}
		/* One writer per cell (this cpu): load+store, no RMW. */
		atomic_store_explicit(
			&v->count[cpu->id],
			atomic_load_explicit(&v->count[cpu->id],
					     memory_order_relaxed) +
				1,
			memory_order_relaxed);
		cpu->softnet.irqs++;
		v->handler(v, v->arg);
		n++;
	}
	return n;
}

/* As /proc/interrupts (kernel/irq/proc.c show_interrupts): the IRQ column
 * is at least 3 digits wide, each cpu column 10 digits and a space. */
void wp_irq_print(const struct wp_irq_table *t, FILE *out)
{
	const int prec = 3;

	fprintf(out, "%*s", prec + 8, "");
	for (uint32_t c = 0; c < t->ncpus; c++)
		fprintf(out, "CPU%-8d", t->cpus[c]->id);
	fputc('\n', out);

	for (uint32_t i = 0; i < WP_MAX_VECTORS; i++) {
		const struct wp_irq_vector *v = &t->vec[i];

		if (!v->in_use)
			continue;
		fprintf(out, "%*u: ", prec, (unsigned int)v->id);
		for (uint32_t c = 0; c < t->ncpus; c++) {
			const _Atomic uint64_t *cell =
				&v->count[t->cpus[c]->id];

			fprintf(out, "%10llu ",
				(unsigned long long)atomic_load_explicit(
					(_Atomic uint64_t *)cell,
					memory_order_relaxed));
		}
		fprintf(out, " wirepath-msi  %s\n", v->name);
	}
}
