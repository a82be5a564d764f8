// SPDX-License-Identifier: MIT
/* Interrupt vectors: delivery, MSI-X masking and the PBA, affinity,
 * the /proc/interrupts table. */
#include "test_core_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compiler.h"
#include "irq/irq.h"
#include "napi/napi.h"

#define NCPUS 2

struct fixture {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_cpu cpu[NCPUS];
	struct wp_cpu *cpus[NCPUS];
	struct wp_irq_table irqs;
};

struct handler_log {
	int runs;
	struct wp_irq_vector *last;
	bool mask; /* top half masks, as a NIC's does */
};

static void top_half(struct wp_irq_vector *v, void *arg)
{
	struct handler_log *log = arg;

	log->runs++;
	log->last = v;
	if (log->mask)
		wp_irq_mask(v);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	wp_clock_init_virtual(&f->clock, 0);
	wp_sysctl_init(&f->sysctl);
	for (int i = 0; i < NCPUS; i++) {
		wp_cpu_init(&f->cpu[i], i, &f->clock, &f->sysctl, &f->irqs);
		f->cpus[i] = &f->cpu[i];
	}
	wp_irq_table_init(&f->irqs, f->cpus, NCPUS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < NCPUS; i++)
		wp_cpu_destroy(&f->cpu[i]);
	free(f);
	return 0;
}

static uint64_t pending(struct wp_cpu *cpu)
{
	return atomic_load(&cpu->irq_pending);
}

static void request_spreads_and_runs_out(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { 0 };
	struct wp_irq_vector *v[WP_MAX_VECTORS];
	char name[32];

	assert_null(wp_request_irq(&f->irqs, "x", NULL, NULL));
	for (int i = 0; i < WP_MAX_VECTORS; i++) {
		snprintf(name, sizeof(name), "wp0-TxRx-%d", i);
		v[i] = wp_request_irq(&f->irqs, name, top_half, &log);
		assert_non_null(v[i]);
		assert_int_equal(v[i]->id, i);
		assert_true(v[i]->in_use);
		assert_false(atomic_load(&v[i]->masked));
		assert_ptr_equal(v[i]->cpu, &f->cpu[i % NCPUS]);
		assert_string_equal(v[i]->name, name);
	}
	assert_int_equal(f->irqs.nvec, WP_MAX_VECTORS);
	assert_null(wp_request_irq(&f->irqs, "one-too-many", top_half, &log));

	/* A freed vector is reused, with its counts cleared. */
	assert_true(wp_irq_raise(v[5]));
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[1]), 1);
	wp_free_irq(v[5]);
	wp_free_irq(v[5]);
	assert_int_equal(f->irqs.nvec, WP_MAX_VECTORS - 1);
	assert_ptr_equal(wp_request_irq(&f->irqs, "again", top_half, &log),
			 v[5]);
	assert_int_equal(atomic_load(&v[5]->count[1]), 0);
	assert_int_equal(atomic_load(&v[5]->raised), 0);

	/* Long names are cut, never overflow. */
	wp_free_irq(v[7]);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	v[7] = wp_request_irq(&f->irqs, name, top_half, &log);
	assert_int_equal(strlen(v[7]->name), sizeof(v[7]->name) - 1);
	wp_free_irq(NULL);
}

static void raise_delivers_and_counts(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { 0 };
	struct wp_irq_vector *v0 =
		wp_request_irq(&f->irqs, "a", top_half, &log);
	struct wp_irq_vector *v1 =
		wp_request_irq(&f->irqs, "b", top_half, &log);
	struct wp_irq_vector *v2 =
		wp_request_irq(&f->irqs, "c", top_half, &log);
	uint32_t seq = atomic_load(&f->cpu[0].wake_seq);

	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 0);
	assert_true(wp_irq_raise(v0));
	assert_int_equal(pending(&f->cpu[0]), 1ull << v0->id);
	assert_true(atomic_load(&f->cpu[0].wake_seq) != seq);
	assert_int_equal(pending(&f->cpu[1]), 0);
	assert_int_equal(log.runs, 0); /* nothing runs until the cpu takes it */

	/* Two raises before the cpu looks are one interrupt (one IRR bit). */
	assert_true(wp_irq_raise(v2));
	assert_true(wp_irq_raise(v2));
	assert_int_equal(atomic_load(&v2->raised), 2);
	assert_true(wp_irq_raise(v1));
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 2);
	assert_int_equal(pending(&f->cpu[0]), 0);
	assert_int_equal(log.runs, 2);
	assert_int_equal(atomic_load(&v0->count[0]), 1);
	assert_int_equal(atomic_load(&v2->count[0]), 1);
	assert_int_equal(f->cpu[0].softnet.irqs, 2);

	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[1]), 1);
	assert_ptr_equal(log.last, v1);
	assert_int_equal(atomic_load(&v1->count[1]), 1);
	assert_int_equal(atomic_load(&v1->count[0]), 0);
	assert_int_equal(f->cpu[1].softnet.irqs, 1);

	/* run_once takes them too, and says it did work. */
	assert_false(wp_cpu_has_work(&f->cpu[0]));
	assert_false(wp_cpu_run_once(&f->cpu[0]));
	assert_true(wp_irq_raise(v0));
	assert_true(wp_cpu_has_work(&f->cpu[0]));
	assert_true(wp_cpu_run_once(&f->cpu[0]));
	assert_int_equal(atomic_load(&v0->count[0]), 2);
}

static void masked_raise_pends_and_unmask_delivers(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { .mask = true };
	struct wp_irq_vector *v = wp_request_irq(&f->irqs, "q", top_half, &log);

	assert_true(wp_irq_raise(v));
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 1);
	assert_true(atomic_load(&v->masked)); /* the top half masked it */

	/* Masked: the PBA remembers, the cpu sees nothing. */
	assert_false(wp_irq_raise(v));
	assert_false(wp_irq_raise(v));
	assert_true(atomic_load(&v->pba));
	assert_int_equal(pending(&f->cpu[0]), 0);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 0);
	assert_int_equal(atomic_load(&v->raised), 3);

	/* Unmask: delivered at once, PBA cleared. */
	wp_irq_unmask(v);
	assert_false(atomic_load(&v->pba));
	assert_int_equal(pending(&f->cpu[0]), 1ull << v->id);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 1);
	assert_int_equal(log.runs, 2);
	assert_int_equal(atomic_load(&v->count[0]), 2);

	/* Unmask with an empty PBA delivers nothing. */
	wp_irq_unmask(v);
	assert_int_equal(pending(&f->cpu[0]), 0);
	wp_irq_mask(v);
	wp_irq_unmask(v);
	assert_int_equal(pending(&f->cpu[0]), 0);
}

static void affinity_moves_and_forwards(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { 0 };
	struct wp_irq_vector *v = wp_request_irq(&f->irqs, "q", top_half, &log);

	assert_ptr_equal(v->cpu, &f->cpu[0]);
	wp_irq_set_affinity(v, &f->cpu[1]);
	wp_irq_set_affinity(v, NULL); /* ignored */
	assert_true(wp_irq_raise(v));
	assert_int_equal(pending(&f->cpu[0]), 0);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[1]), 1);
	assert_int_equal(atomic_load(&v->count[1]), 1);

	/* Raised to cpu1, moved to cpu0 before cpu1 took it: cpu1 does not
	 * run it, it forwards it. */
	assert_true(wp_irq_raise(v));
	wp_irq_set_affinity(v, &f->cpu[0]);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[1]), 0);
	assert_int_equal(log.runs, 1);
	assert_int_equal(pending(&f->cpu[0]), 1ull << v->id);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 1);
	assert_int_equal(atomic_load(&v->count[0]), 1);
	assert_int_equal(atomic_load(&v->count[1]), 1);
	assert_int_equal(f->cpu[1].softnet.irqs, 1);
	assert_int_equal(f->cpu[0].softnet.irqs, 1);
}

static void freed_vector_is_spurious(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { 0 };
	struct wp_irq_vector *v = wp_request_irq(&f->irqs, "q", top_half, &log);

	assert_true(wp_irq_raise(v));
	wp_free_irq(v);
	assert_int_equal(wp_cpu_handle_irqs(&f->cpu[0]), 0);
	assert_int_equal(log.runs, 0);
	/* Late raises from a quiescing NIC land in the PBA of a masked,
	 * free vector. */
	assert_false(wp_irq_raise(v));
	assert_int_equal(pending(&f->cpu[0]), 0);
}

static char *print_table(struct wp_irq_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	wp_irq_print(t, out);
	fclose(out);
	return buf;
}

static void proc_interrupts_format(void **state)
{
	struct fixture *f = *state;
	struct handler_log log = { 0 };
	struct wp_irq_vector *v0, *v1, *v2;
	char *text;

	v0 = wp_request_irq(&f->irqs, "wp0-TxRx-0", top_half, &log);
	v1 = wp_request_irq(&f->irqs, "wp0-TxRx-1", top_half, &log);
	v2 = wp_request_irq(&f->irqs, "gone", top_half, &log);
	wp_free_irq(v2);
	for (int i = 0; i < 123; i++) {
		wp_irq_raise(v0);
		wp_cpu_handle_irqs(&f->cpu[0]);
	}
	wp_irq_set_affinity(v0, &f->cpu[1]);
	for (int i = 0; i < 4567; i++) {
		wp_irq_raise(v0);
		wp_irq_raise(v1);
		wp_cpu_handle_irqs(&f->cpu[1]);
	}

	text = print_table(&f->irqs);
	assert_string_equal(
		text, "           CPU0       CPU1       \n"
		      "  0:        123       4567  wirepath-msi  wp0-TxRx-0\n"
		      "  1:          0       4567  wirepath-msi  wp0-TxRx-1\n");
	free(text);
	/* The cells add up to what the cpus counted. */
	assert_int_equal(f->cpu[0].softnet.irqs, 123);
	assert_int_equal(f->cpu[1].softnet.irqs, 2 * 4567);
}

static void empty_table_prints_header_only(void **state)
{
	struct fixture *f = *state;
	char *text = print_table(&f->irqs);

	assert_string_equal(text, "           CPU0       CPU1       \n");
	free(text);
}

/*
 * The unmask window under real threads. The raiser publishes an event,
 * raises, and waits until the cpu has seen it; the cpu's top half masks,
 * reads how many events there are and unmasks. The raiser's next raise
 * then tends to land just as the top half unmasks: it must come back
 * through the PBA. A lost interrupt leaves the raiser waiting, and the
 * test fails on that wait's deadline.
 */
#define EVENTS 50000

struct race {
	struct wp_irq_vector *v;
	struct wp_cpu *cpu;
	_Atomic long events;
	_Atomic long seen;
	_Atomic bool done;
	long lost;
	long pended;
	uint64_t rng;
};

static void race_top_half(struct wp_irq_vector *v, void *arg)
{
	struct race *r = arg;
	unsigned int dwell;

	wp_irq_mask(v);
	atomic_store(&r->seen, atomic_load(&r->events));
	/* Stay masked for a varying while, so that the unmask sweeps
	 * across the raiser's load-masked / store-PBA window. */
	r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
	dwell = (unsigned int)(r->rng >> 58);
	for (unsigned int k = 0; k < dwell; k++)
		wp_cpu_relax();
	wp_irq_unmask(v);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *raiser(void *arg)
{
	struct race *r = arg;

	for (long i = 1; i <= EVENTS; i++) {
		uint64_t deadline;

		atomic_store(&r->events, i);
		if (!wp_irq_raise(r->v))
			r->pended++;
		deadline = mono_ns() + 10000000000ull;
		for (unsigned int spin = 0; atomic_load(&r->seen) < i; spin++) {
			/* Spin while the cpu answers fast (that is where
			 * the window is); yield when the machine is busy. */
			if ((spin & 1023) != 1023)
				continue;
			if (mono_ns() > deadline) {
				r->lost++;
				goto out;
			}
			sched_yield();
		}
	}
out:
	atomic_store(&r->done, true);
	return NULL;
}

static void no_interrupt_lost_in_the_unmask_window(void **state)
{
	struct fixture *f = *state;
	struct race r = { .cpu = &f->cpu[0] };
	pthread_t t;

	r.v = wp_request_irq(&f->irqs, "race", race_top_half, &r);
	assert_non_null(r.v);
	assert_int_equal(pthread_create(&t, NULL, raiser, &r), 0);
	for (unsigned int idle = 0; !atomic_load(&r.done);) {
		if (wp_cpu_handle_irqs(r.cpu))
			idle = 0;
		else if ((++idle & 1023) == 0)
			sched_yield();
	}
	pthread_join(t, NULL);
	assert_int_equal(r.lost, 0);
	assert_int_equal(atomic_load(&r.seen), EVENTS);
	assert_int_equal(atomic_load(&r.v->raised), EVENTS);
	/* Every top half ran on cpu0 and was counted there. */
	assert_int_equal(atomic_load(&r.v->count[0]), f->cpu[0].softnet.irqs);
	assert_true(f->cpu[0].softnet.irqs <= EVENTS);
	print_message("  %ld of %d raises met a masked vector\n", r.pended,
		      EVENTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(request_spreads_and_runs_out,
						setup, teardown),
		cmocka_unit_test_setup_teardown(raise_delivers_and_counts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			masked_raise_pends_and_unmask_delivers, setup,
			teardown),
		cmocka_unit_test_setup_teardown(affinity_moves_and_forwards,
						setup, teardown),
		cmocka_unit_test_setup_teardown(freed_vector_is_spurious, setup,
						teardown),
		cmocka_unit_test_setup_teardown(proc_interrupts_format, setup,
						teardown),
		cmocka_unit_test_setup_teardown(empty_table_prints_header_only,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			no_interrupt_lost_in_the_unmask_window, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
