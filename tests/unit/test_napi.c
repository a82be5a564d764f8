// SPDX-License-Identifier: MIT
/*
 * NAPI, the NET_RX softirq and core threads, against a fake driver: a
 * queue is a count of frames waiting; its top half masks its vector and
 * schedules NAPI; its poll takes min(waiting, budget), completes and
 * unmasks when it did less than its budget (igb_poll's shape).
 *
 * Most tests run on virtual time on the test's thread (wp_cpu_run_once),
 * so every count is exact; the last ones start real core threads.
 */
#include "test_core_common.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irq/irq.h"
#include "napi/napi.h"
#include "skb/pool.h"

#define NCPUS 2
#define MAXQ 8
#define US WP_NSEC_PER_USEC
#define MS WP_NSEC_PER_MSEC

struct fixture;

struct fake_q {
	struct wp_napi napi;
	struct wp_irq_vector *irq;
	struct fixture *f;
	_Atomic long pending; /* frames in the "ring" */
	_Atomic long consumed;
	int last_budget;
	uint64_t advance_ns;   /* virtual time each poll takes */
	long arrive_in_poll;   /* frames landing after the last look */
	bool schedule_in_poll; /* a top half runs during the poll */
	bool check_thread;     /* poll must run on napi->cpu's thread */
	bool count_drop;       /* one drop per poll, on the poller */
	_Atomic bool wrong_thread;
	_Atomic bool in_poll;
	_Atomic long polls;
	long complete_false;
	struct wp_pool *pool; /* hand up real skbs when set */
};

struct sink {
	long skbs;
	long batches;
};

struct fixture {
	struct wp_clock clock;
	struct wp_sysctl sysctl;
	struct wp_cpu cpu[NCPUS];
	struct wp_cpu *cpus[NCPUS];
	struct wp_irq_table irqs;
	struct fake_q q[MAXQ];
	int nq;
	struct wp_pool *pool;
	struct sink sink;
};

static void fake_top_half(struct wp_irq_vector *v, void *arg)
{
	struct fake_q *q = arg;

	wp_irq_mask(v);
	wp_napi_schedule(&q->napi);
}

/* The NIC side: frames land, the vector is raised (or pended). */
static bool fake_rx(struct fake_q *q, long frames)
{
	atomic_fetch_add(&q->pending, frames);
	return wp_irq_raise(q->irq);
}

static int fake_poll(struct wp_napi *napi, int budget)
{
	struct fake_q *q = napi->priv;
	long n = atomic_load(&q->pending);

	atomic_store(&q->in_poll, true);
	atomic_fetch_add(&q->polls, 1);
	q->last_budget = budget;
	if (q->check_thread &&
	    !pthread_equal(pthread_self(), napi->cpu->thread))
		atomic_store(&q->wrong_thread, true);
	if (q->count_drop)
		wp_drop_count(WP_DROP_RING_FULL);
	if (n > budget)
		n = budget;
	atomic_fetch_sub(&q->pending, n);
	atomic_fetch_add(&q->consumed, n);
	for (long i = 0; q->pool && i < n; i++) {
		struct wp_skb *skb = wp_alloc_skb(q->pool, 64);

		assert_non_null(skb);
		assert_non_null(wp_skb_put(skb, 60));
		wp_napi_gro_receive(napi, skb);
	}
	if (q->advance_ns)
		wp_clock_advance(&q->f->clock, q->advance_ns);
	if (q->arrive_in_poll) {
		/* Masked: this can only reach the PBA. */
		assert_false(fake_rx(q, q->arrive_in_poll));
		q->arrive_in_poll = 0;
	}
	if (q->schedule_in_poll) {
		q->schedule_in_poll = false;
		assert_false(wp_napi_schedule(napi));
	}
	atomic_store(&q->in_poll, false);
	if (n < budget) {
		if (wp_napi_complete_done(napi, (int)n))
			wp_irq_unmask(q->irq);
		else
			q->complete_false++;
	}
	return (int)n;
}

static void sink_rx(void *ctx, struct wp_napi *napi, struct wp_skb_queue *skbs)
{
	struct sink *s = ctx;
	struct wp_skb *skb;

	s->batches++;
	while ((skb = wp_skb_dequeue(skbs))) {
		s->skbs++;
		wp_consume_skb(skb);
	}
}

static struct fake_q *add_q(struct fixture *f, int cpu, int weight)
{
	struct fake_q *q = &f->q[f->nq];
	char name[32];

	snprintf(name, sizeof(name), "fake-TxRx-%d", f->nq);
	f->nq++;
	q->f = f;
	q->irq = wp_request_irq(&f->irqs, name, fake_top_half, q);
	assert_non_null(q->irq);
	wp_irq_set_affinity(q->irq, &f->cpu[cpu]);
	wp_netif_napi_add(&f->cpu[cpu], &q->napi, fake_poll, weight);
	q->napi.priv = q;
	q->napi.id = (uint32_t)(f->nq - 1);
	return q;
}

static int setup_clock(void **state, bool virtual_time)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (virtual_time)
		wp_clock_init_virtual(&f->clock, 1000 * MS);
	else
		wp_clock_init_real(&f->clock);
	wp_sysctl_init(&f->sysctl);
	for (int i = 0; i < NCPUS; i++) {
		wp_cpu_init(&f->cpu[i], i, &f->clock, &f->sysctl, &f->irqs);
		f->cpus[i] = &f->cpu[i];
	}
	wp_irq_table_init(&f->irqs, f->cpus, NCPUS);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_clock(state, true);
}

static int setup_real(void **state)
{
	return setup_clock(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < NCPUS; i++)
		wp_cpu_stop(&f->cpu[i]);
	for (int i = 0; i < f->nq; i++) {
		wp_netif_napi_del(&f->q[i].napi);
		wp_free_irq(f->q[i].irq);
	}
	for (int i = 0; i < NCPUS; i++)
		wp_cpu_destroy(&f->cpu[i]);
	if (f->pool) {
		/* Every skb handed up came back. */
		if (!wp_pool_is_whole(f->pool))
			return -1;
		wp_pool_destroy(f->pool);
	}
	free(f);
	return 0;
}

static uint32_t state_of(struct fake_q *q)
{
	return atomic_load(&q->napi.state);
}

static bool masked(struct fake_q *q)
{
	return atomic_load(&q->irq->masked);
}

static bool listed(struct wp_cpu *cpu, struct fake_q *q)
{
	for (struct wp_napi *n = cpu->poll_head; n; n = n->poll_next)
		if (n == &q->napi)
			return true;
	return false;
}

/* Run the cpu until it has nothing to do (bounded). */
static int run_idle(struct wp_cpu *cpu)
{
	int iters = 0;

	while (wp_cpu_run_once(cpu) || wp_cpu_has_work(cpu)) {
		if (++iters > 100000)
			fail_msg("cpu never went idle");
	}
	return iters;
}

static void set(struct fixture *f, const char *name, const char *value)
{
	assert_int_equal(wp_sysctl_set(&f->sysctl, name, value), 0);
}

/* --- scheduling ------------------------------------------------------- */

static void schedule_sets_sched_then_missed(void **state)
{
	struct fixture *f = *state;
	struct fake_q *q = add_q(f, 0, 0);
	struct fake_q *q8 = add_q(f, 0, 8);

	assert_int_equal(state_of(q), 0);
	assert_int_equal(f->cpu[0].nnapis, 2);
	assert_true(wp_napi_schedule(&q->napi));
	assert_int_equal(state_of(q), WP_NAPI_STATE_SCHED);
	assert_ptr_equal(f->cpu[0].poll_head, &q->napi);
	assert_true(f->cpu[0].softirq_pending & WP_NET_RX_SOFTIRQ);
	assert_true(wp_cpu_has_work(&f->cpu[0]));

	assert_false(wp_napi_schedule(&q->napi));
	assert_int_equal(state_of(q),
			 WP_NAPI_STATE_SCHED | WP_NAPI_STATE_MISSED);
	assert_ptr_equal(f->cpu[0].poll_tail, &q->napi); /* listed once */

	/* Weight 0 follows net.core.dev_weight live. */
	assert_int_equal(wp_napi_weight(&q->napi), 64);
	set(f, "net.core.dev_weight", "16");
	assert_int_equal(wp_napi_weight(&q->napi), 16);
	assert_int_equal(wp_napi_weight(&q8->napi), 8);
	atomic_store(&q->pending, 100);
	wp_net_rx_action(&f->cpu[0]);
	assert_int_equal(q->last_budget, 16);
	assert_int_equal(atomic_load(&q->consumed), 16);
}

static void weight_used_up_stays_scheduled_and_masked(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	assert_true(fake_rx(q, 1000));
	assert_int_equal(wp_cpu_handle_irqs(cpu), 1);
	assert_true(masked(q));
	wp_net_rx_action(cpu);

	assert_int_equal(atomic_load(&q->consumed), 64);
	assert_int_equal(q->napi.polls, 1);
	assert_int_equal(q->napi.budget_exhausted, 1);
	assert_int_equal(q->napi.last_work, 64);
	assert_false(q->napi.last_completed);
	assert_true(state_of(q) & WP_NAPI_STATE_SCHED);
	assert_true(listed(cpu, q));
	assert_true(masked(q));
	assert_true(cpu->softirq_pending & WP_NET_RX_SOFTIRQ);
	assert_int_equal(cpu->softnet.budget_exhausted, 1);
	/* Only the repoll is left: not a squeeze (Linux breaks the same). */
	assert_int_equal(cpu->softnet.time_squeeze, 0);
	assert_int_equal(cpu->softnet.napi_completes, 0);

	/* More frames while masked: no interrupt, just the PBA. */
	assert_false(fake_rx(q, 10));
	run_idle(cpu);
	assert_int_equal(atomic_load(&q->consumed), 1010);
	assert_false(masked(q));
	assert_false(atomic_load(&q->irq->pba));
	assert_int_equal(state_of(q), 0);
	assert_false(listed(cpu, q));
	/* The polls took the 10 with the rest; the PBA still holds their
	 * interrupt, delivered at the unmask: one more (empty) poll. */
	assert_int_equal(q->napi.completes, 2);
	assert_true(q->napi.last_completed);
	assert_int_equal(q->napi.last_work, 0);
	assert_int_equal(q->napi.packets, 1010);
	assert_int_equal(cpu->softnet.irqs, 2);
}

static void drain_completes_and_unmasks(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	assert_false(wp_cpu_run_once(cpu));
	assert_true(fake_rx(q, 100));
	assert_true(wp_cpu_run_once(cpu));
	/* One do_softirq: run 1 polls 64 and re-raises, run 2 polls 36
	 * and completes. */
	assert_int_equal(cpu->softnet.softirq_runs, 2);
	assert_int_equal(cpu->softnet.napi_polls, 2);
	assert_int_equal(atomic_load(&q->consumed), 100);
	assert_int_equal(q->napi.completes, 1);
	assert_int_equal(q->napi.last_work, 36);
	assert_int_equal(cpu->softnet.napi_completes, 1);
	assert_false(masked(q));
	assert_int_equal(state_of(q), 0);
	assert_false(cpu->softirq_pending & WP_NET_RX_SOFTIRQ);
	assert_false(cpu->ksoftirqd);
	assert_false(wp_cpu_has_work(cpu));
	assert_false(wp_cpu_run_once(cpu));

	/* The next frame interrupts again. */
	assert_true(fake_rx(q, 1));
	run_idle(cpu);
	assert_int_equal(cpu->softnet.irqs, 2);
	assert_int_equal(q->napi.completes, 2);
}

static void netdev_budget_across_napis(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q[6];
	int expect_order[6] = { 5, 0, 1, 2, 3, 4 };
	int i = 0;

	for (int k = 0; k < 6; k++) {
		q[k] = add_q(f, 0, 64);
		fake_rx(q[k], 100000);
	}
	assert_int_equal(wp_cpu_handle_irqs(cpu), 6);

	/* 300 packets: five polls of 64 (320), the sixth waits. */
	wp_net_rx_action(cpu);
	for (int k = 0; k < 5; k++)
		assert_int_equal(q[k]->napi.polls, 1);
	assert_int_equal(q[5]->napi.polls, 0);
	assert_int_equal(cpu->softnet.time_squeeze, 1);
	assert_true(cpu->softirq_pending & WP_NET_RX_SOFTIRQ);
	/* Not yet polled first, then the ones that used their weight. */
	for (struct wp_napi *n = cpu->poll_head; n; n = n->poll_next)
		assert_ptr_equal(n, &q[expect_order[i++]]->napi);
	assert_int_equal(i, 6);

	wp_net_rx_action(cpu);
	assert_int_equal(q[5]->napi.polls, 1);
	assert_int_equal(q[3]->napi.polls, 2);
	assert_int_equal(q[4]->napi.polls, 1);
	assert_int_equal(cpu->softnet.time_squeeze, 2);

	/* Read live: a bigger budget polls everyone once, no squeeze. */
	set(f, "net.core.netdev_budget", "1000");
	wp_net_rx_action(cpu);
	for (int k = 0; k < 6; k++)
		assert_int_equal(q[k]->napi.polls, k == 4 ? 2 : k == 5 ? 2 : 3);
	assert_int_equal(cpu->softnet.time_squeeze, 2);

	/* A budget below one weight still polls once (Linux overshoots). */
	set(f, "net.core.netdev_budget", "1");
	wp_net_rx_action(cpu);
	assert_int_equal(cpu->softnet.napi_polls, 5 + 5 + 6 + 1);
	assert_int_equal(cpu->softnet.time_squeeze, 3);
	assert_int_equal(cpu->softnet.softirq_runs, 4);
}

static void budget_usecs_squeezes_on_time(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q[6];
	uint64_t start = wp_clock_now(&f->clock);

	set(f, "net.core.netdev_budget", "100000");
	for (int k = 0; k < 6; k++) {
		q[k] = add_q(f, 0, 64);
		q[k]->advance_ns = 600 * US;
		fake_rx(q[k], 100000);
	}
	wp_cpu_handle_irqs(cpu);

	/* 2000 us: the 4th poll ends at 2400 us, past the limit. */
	wp_net_rx_action(cpu);
	assert_int_equal(cpu->softnet.napi_polls, 4);
	assert_int_equal(cpu->softnet.time_squeeze, 1);
	assert_true(wp_clock_now(&f->clock) - start == 2400 * US);

	set(f, "net.core.netdev_budget_usecs", "1000");
	wp_net_rx_action(cpu);
	assert_int_equal(cpu->softnet.napi_polls, 6);
	assert_int_equal(cpu->softnet.time_squeeze, 2);
	assert_int_equal(q[4]->napi.polls, 1);
	assert_int_equal(q[5]->napi.polls, 1);

	/* Fast polls: the packet budget is what stops it. */
	for (int k = 0; k < 6; k++)
		q[k]->advance_ns = 0;
	set(f, "net.core.netdev_budget", "128");
	wp_net_rx_action(cpu);
	assert_int_equal(cpu->softnet.napi_polls, 8);
	assert_int_equal(cpu->softnet.time_squeeze, 3);
}

static void missed_polls_again_instead_of_unmasking(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	q->schedule_in_poll = true;
	fake_rx(q, 10);
	wp_cpu_handle_irqs(cpu);
	wp_net_rx_action(cpu);
	/* First poll: 10 frames, complete_done sees MISSED, returns false
	 * and lists it again; the same run polls it once more (nothing
	 * else waits) and that one completes. */
	assert_int_equal(q->napi.polls, 2);
	assert_int_equal(q->complete_false, 1);
	assert_int_equal(q->napi.completes, 1);
	assert_int_equal(cpu->softnet.napi_completes, 1);
	assert_int_equal(cpu->softnet.softirq_runs, 1);
	assert_int_equal(state_of(q), 0);
	assert_false(masked(q));

	/* Behind a NAPI that used its weight, the re-listed one waits for
	 * the next run (it is not polled twice before the other). */
	{
		struct fake_q *busy = add_q(f, 0, 64);

		fake_rx(busy, 1000);
		q->schedule_in_poll = true;
		fake_rx(q, 1);
		wp_cpu_handle_irqs(cpu);
		wp_net_rx_action(cpu);
		assert_int_equal(q->complete_false, 2);
		assert_int_equal(q->napi.polls, 3);
		assert_true(state_of(q) & WP_NAPI_STATE_SCHED);
		assert_false(state_of(q) & WP_NAPI_STATE_MISSED);
		assert_true(listed(cpu, q));
		assert_true(masked(q));
		wp_net_rx_action(cpu);
		assert_int_equal(q->napi.polls, 4);
		assert_int_equal(state_of(q), 0);
		assert_false(masked(q));
	}
}

static void pba_delivers_frames_that_land_before_unmask(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	/* 3 frames land after the poll's last look and before its unmask:
	 * their raise hits the mask, the unmask delivers it. */
	q->arrive_in_poll = 3;
	fake_rx(q, 5);
	assert_true(wp_cpu_run_once(cpu));
	assert_int_equal(atomic_load(&q->consumed), 5);
	assert_int_equal(atomic_load(&q->pending), 3);
	assert_false(masked(q));
	assert_true(atomic_load(&cpu->irq_pending) & (1ull << q->irq->id));
	assert_true(wp_cpu_has_work(cpu));
	run_idle(cpu);
	assert_int_equal(atomic_load(&q->consumed), 8);
	assert_int_equal(atomic_load(&q->pending), 0);
	assert_int_equal(cpu->softnet.irqs, 2);
	assert_int_equal(atomic_load(&q->irq->count[0]), 2);
}

/* --- ksoftirqd ---------------------------------------------------------- */

struct hook_log {
	int runs;
	uint64_t softirq_runs_seen[64];
	bool ksoftirqd_seen[64];
	uint64_t arm_at;
};

static void log_hook(struct wp_cpu *cpu, void *arg)
{
	struct hook_log *h = arg;

	if (h->runs < 64) {
		h->softirq_runs_seen[h->runs] = cpu->softnet.softirq_runs;
		h->ksoftirqd_seen[h->runs] = cpu->ksoftirqd;
	}
	h->runs++;
	if (h->arm_at)
		wp_cpu_arm_timer(cpu, h->arm_at);
}

static void ksoftirqd_after_ten_runs(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);
	struct hook_log h = { 0 };
	int iters = 1;

	assert_int_equal(wp_cpu_add_hook(cpu, log_hook, &h), 0);
	fake_rx(q, 64 * 15 + 1);
	assert_true(wp_cpu_run_once(cpu));
	/* The hook ran after do_softirq gave up (10 runs) ... */
	assert_int_equal(h.runs, 1);
	assert_int_equal(h.softirq_runs_seen[0], WP_MAX_SOFTIRQ_RESTART);
	assert_true(h.ksoftirqd_seen[0]);
	assert_int_equal(cpu->softnet.ksoftirqd_wakeups, 1);
	/* ... and the ksoftirqd pass ran once, after the hook. */
	assert_int_equal(cpu->softnet.softirq_runs, 11);
	assert_true(cpu->ksoftirqd);

	/* do_softirq does nothing while deferred. */
	wp_do_softirq(cpu);
	assert_int_equal(cpu->softnet.softirq_runs, 11);

	while (wp_cpu_run_once(cpu))
		iters++;
	/* 16 polls in all: 10 in do_softirq, then one per iteration. */
	assert_int_equal(cpu->softnet.softirq_runs, 16);
	assert_int_equal(iters, 6);
	for (int i = 1; i < 6; i++)
		assert_int_equal(h.softirq_runs_seen[i], 10 + i - 1 + 1);
	assert_false(cpu->ksoftirqd);
	assert_int_equal(cpu->softnet.ksoftirqd_wakeups, 1);
	assert_int_equal(atomic_load(&q->consumed), 64 * 15 + 1);
	assert_false(masked(q));

	/* A new burst starts with do_softirq again. */
	fake_rx(q, 10);
	run_idle(cpu);
	assert_int_equal(cpu->softnet.ksoftirqd_wakeups, 1);
}

static void ksoftirqd_after_two_ms(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	q->advance_ns = 1 * MS;
	fake_rx(q, 100000);
	wp_cpu_handle_irqs(cpu);
	wp_do_softirq(cpu);
	/* Run 1 ends at 1 ms (restart), run 2 at 2 ms: time is up. */
	assert_int_equal(cpu->softnet.softirq_runs, 2);
	assert_true(cpu->ksoftirqd);
	assert_int_equal(cpu->softnet.ksoftirqd_wakeups, 1);
	/* Each run polled once and ended with only the repoll left, well
	 * inside its own netdev_budget_usecs. */
	assert_int_equal(cpu->softnet.time_squeeze, 0);
}

/* --- busy polling -------------------------------------------------------- */

static void busy_poll_polls_all_and_never_unmasks(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q0 = add_q(f, 0, 64);
	struct fake_q *q1 = add_q(f, 0, 64);
	struct fake_q *other = add_q(f, 1, 64);

	wp_cpu_set_busy_poll(cpu, true);
	assert_true(wp_cpu_has_work(cpu)); /* it never sleeps */
	fake_rx(q0, 100);		   /* an interrupt: masked, listed */
	atomic_store(&q1->pending, 10);	   /* no interrupt at all */
	atomic_store(&other->pending, 10);

	assert_true(wp_cpu_run_once(cpu));
	assert_int_equal(cpu->softnet.irqs, 1);
	assert_int_equal(cpu->softnet.busy_polls, 2);
	assert_int_equal(atomic_load(&q0->consumed), 64);
	assert_int_equal(atomic_load(&q1->consumed), 10);
	assert_int_equal(atomic_load(&other->consumed), 0);
	assert_int_equal(q1->complete_false, 1);
	/* Released after the pass, off the list, vector still masked. */
	assert_int_equal(state_of(q0), 0);
	assert_int_equal(state_of(q1), 0);
	assert_false(listed(cpu, q0));
	assert_false(cpu->softirq_pending & WP_NET_RX_SOFTIRQ);
	assert_true(masked(q0));

	assert_true(wp_cpu_run_once(cpu));
	assert_int_equal(atomic_load(&q0->consumed), 100);
	assert_int_equal(cpu->softnet.busy_polls, 4);
	assert_false(wp_cpu_run_once(cpu)); /* nothing came in */
	assert_int_equal(cpu->softnet.busy_polls, 6);
	assert_true(masked(q0));
	assert_int_equal(cpu->softnet.napi_completes, 0);
	assert_int_equal(cpu->softnet.softirq_runs, 0);
	assert_int_equal(q0->napi.completes, 0);

	/* A disabled NAPI is left alone. */
	wp_napi_disable(&q1->napi);
	atomic_store(&q1->pending, 5);
	wp_cpu_run_once(cpu);
	assert_int_equal(atomic_load(&q1->pending), 5);
	wp_napi_enable(&q1->napi);
	wp_cpu_run_once(cpu);
	assert_int_equal(atomic_load(&q1->pending), 0);
}

/* --- handing packets up ------------------------------------------------ */

static void create_pool(struct fixture *f)
{
	struct wp_pool_config cfg = { .name = "napi-test", .nbufs = 256 };

	f->pool = wp_pool_create(&cfg);
	assert_non_null(f->pool);
}

static void batches_go_to_the_rx_handler(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);

	create_pool(f);
	q->pool = f->pool;
	q->napi.rx_handler = sink_rx;
	q->napi.rx_ctx = &f->sink;
	fake_rx(q, 100);
	run_idle(cpu);
	assert_int_equal(f->sink.skbs, 100);
	assert_int_equal(f->sink.batches, 2); /* 64, then 36 */
	assert_int_equal(cpu->softnet.processed, 100);
	assert_true(wp_skb_queue_empty(&q->napi.rx_list));
}

static void no_handler_drops_with_a_reason(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);
	struct wp_drop_stats drops = { 0 };

	create_pool(f);
	q->pool = f->pool;
	wp_drop_stats_bind(&drops);
	fake_rx(q, 70);
	run_idle(cpu);
	wp_drop_stats_bind(NULL);
	assert_int_equal(drops.count[WP_DROP_NO_HANDLER], 70);
	assert_int_equal(cpu->softnet.processed, 0);
	assert_int_equal(atomic_load(&q->consumed), 70);
}

/* --- disable, enable, bind --------------------------------------------- */

static void disable_on_the_owner_thread(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 64);
	struct fake_q *idle = add_q(f, 0, 64);

	/* Scheduled and waiting: disable takes it off the list at once. */
	fake_rx(q, 10);
	wp_cpu_handle_irqs(cpu);
	assert_true(listed(cpu, q));
	wp_napi_disable(&q->napi);
	assert_false(listed(cpu, q));
	assert_int_equal(state_of(q),
			 WP_NAPI_STATE_SCHED | WP_NAPI_STATE_DISABLE);
	assert_false(cpu->softirq_pending & WP_NET_RX_SOFTIRQ);
	assert_false(wp_napi_schedule(&q->napi));
	assert_false(state_of(q) & WP_NAPI_STATE_MISSED);
	wp_net_rx_action(cpu);
	assert_int_equal(q->napi.polls, 0);

	/* Idle: disable just takes it. */
	wp_napi_disable(&idle->napi);
	assert_int_equal(state_of(idle),
			 WP_NAPI_STATE_SCHED | WP_NAPI_STATE_DISABLE);
	wp_napi_enable(&idle->napi);
	assert_int_equal(state_of(idle), 0);
	wp_napi_enable(&idle->napi); /* no-op when enabled */
	assert_int_equal(state_of(idle), 0);

	/* Restart as a driver does: enable, unmask, and raise once. */
	wp_napi_enable(&q->napi);
	assert_int_equal(state_of(q), 0);
	assert_true(masked(q));
	wp_irq_unmask(q->irq);
	assert_true(wp_irq_raise(q->irq));
	run_idle(cpu);
	assert_int_equal(atomic_load(&q->consumed), 10);
	assert_false(masked(q));
}

static void del_and_set_cpu_rebind(void **state)
{
	struct fixture *f = *state;
	struct fake_q *a = add_q(f, 0, 64);
	struct fake_q *b = add_q(f, 0, 64);
	struct fake_q *c = add_q(f, 0, 64);

	assert_int_equal(f->cpu[0].nnapis, 3);
	wp_napi_set_cpu(&b->napi, &f->cpu[1]);
	wp_irq_set_affinity(b->irq, &f->cpu[1]);
	assert_int_equal(f->cpu[0].nnapis, 2);
	assert_ptr_equal(f->cpu[0].napis[0], &a->napi);
	assert_ptr_equal(f->cpu[0].napis[1], &c->napi);
	assert_int_equal(f->cpu[1].nnapis, 1);
	assert_ptr_equal(b->napi.cpu, &f->cpu[1]);
	fake_rx(b, 5);
	run_idle(&f->cpu[0]);
	assert_int_equal(atomic_load(&b->consumed), 0);
	run_idle(&f->cpu[1]);
	assert_int_equal(atomic_load(&b->consumed), 5);

	/* Deleting a scheduled NAPI on the owner takes it off the list. */
	fake_rx(a, 5);
	wp_cpu_handle_irqs(&f->cpu[0]);
	assert_true(listed(&f->cpu[0], a));
	wp_netif_napi_del(&a->napi);
	assert_false(listed(&f->cpu[0], a));
	assert_null(a->napi.cpu);
	assert_int_equal(f->cpu[0].nnapis, 1);
	wp_netif_napi_del(&a->napi); /* twice: nothing */
	wp_free_irq(a->irq);
	run_idle(&f->cpu[0]);
}

static void hooks_and_timers(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct hook_log h[WP_CPU_MAX_HOOKS];
	uint64_t now = wp_clock_now(&f->clock);

	memset(h, 0, sizeof(h));
	assert_int_equal(wp_cpu_add_hook(cpu, NULL, NULL), -EINVAL);
	for (int i = 0; i < WP_CPU_MAX_HOOKS; i++)
		assert_int_equal(wp_cpu_add_hook(cpu, log_hook, &h[i]), 0);
	assert_int_equal(wp_cpu_add_hook(cpu, log_hook, &h[0]), -ENOSPC);

	h[3].arm_at = now + 5 * MS;
	h[6].arm_at = now + 2 * MS;
	assert_false(wp_cpu_run_once(cpu)); /* hooks are not "work" */
	for (int i = 0; i < WP_CPU_MAX_HOOKS; i++)
		assert_int_equal(h[i].runs, 1);
	assert_true(cpu->next_timer_ns == now + 2 * MS);
	assert_false(wp_cpu_has_work(cpu));
	wp_clock_advance(&f->clock, 2 * MS);
	assert_true(wp_cpu_has_work(cpu));

	/* Re-armed every run: a hook that stops arming stops the timer. */
	h[3].arm_at = 0;
	h[6].arm_at = 0;
	wp_cpu_run_once(cpu);
	assert_true(cpu->next_timer_ns == WP_TIME_NEVER);
	assert_false(wp_cpu_has_work(cpu));
}

/* --- real core threads --------------------------------------------------- */

static bool wait_until(bool (*cond)(struct fixture *), struct fixture *f,
		       int seconds)
{
	uint64_t end = wp_time_real_ns() + (uint64_t)seconds * WP_NSEC_PER_SEC;
	struct timespec ts = { 0, 100000 };

	while (!cond(f)) {
		if (wp_time_real_ns() > end)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

#define PRODUCED 200000

struct producer {
	struct fixture *f;
	long per_q[MAXQ];
	long pended;
	int nq;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (long i = 0; i < PRODUCED; i++) {
		int k = (int)(i % p->nq);

		p->per_q[k]++;
		if (!fake_rx(&p->f->q[k], 1))
			p->pended++;
		if ((i & 1023) == 0)
			sched_yield();
	}
	return NULL;
}

static long total_consumed(struct fixture *f)
{
	long n = 0;

	for (int i = 0; i < f->nq; i++)
		n += atomic_load(&f->q[i].consumed);
	return n;
}

static bool all_consumed(struct fixture *f)
{
	return total_consumed(f) == PRODUCED;
}

/*
 * Every frame consumed and every NAPI back to idle. Consumed is not yet
 * idle: a last poll that used its whole weight stays scheduled for one
 * more (empty) poll before it completes and unmasks.
 */
static bool all_consumed_and_idle(struct fixture *f)
{
	if (!all_consumed(f))
		return false;
	for (int i = 0; i < 4; i++)
		if (state_of(&f->q[i]) != 0 || masked(&f->q[i]))
			return false;
	return true;
}

static void threads_deliver_every_frame(void **state)
{
	struct fixture *f = *state;
	struct producer p = { .f = f, .nq = 4 };
	uint64_t raised = 0, taken = 0;
	pthread_t t;

	for (int i = 0; i < 4; i++) {
		struct fake_q *q = add_q(f, i % NCPUS, 16);

		q->check_thread = true;
		q->count_drop = true;
	}
	for (int i = 0; i < NCPUS; i++)
		assert_int_equal(wp_cpu_start(&f->cpu[i]), 0);
	assert_int_equal(wp_cpu_start(&f->cpu[0]), -EBUSY);

	assert_int_equal(pthread_create(&t, NULL, produce, &p), 0);
	pthread_join(t, NULL);
	if (!wait_until(all_consumed_and_idle, f, 30))
		fail_msg("consumed %ld of %d, or a NAPI not idle",
			 total_consumed(f), PRODUCED);

	for (int i = 0; i < NCPUS; i++)
		wp_cpu_stop(&f->cpu[i]);
	wp_cpu_stop(&f->cpu[0]); /* twice: nothing */
	for (int i = 0; i < NCPUS; i++)
		assert_false(atomic_load(&f->cpu[i].threaded));

	for (int i = 0; i < 4; i++) {
		struct fake_q *q = &f->q[i];
		int home = i % NCPUS;

		assert_int_equal(atomic_load(&q->consumed), p.per_q[i]);
		assert_int_equal(atomic_load(&q->pending), 0);
		assert_false(atomic_load(&q->wrong_thread));
		/* Idle at the end: completed and unmasked. */
		assert_int_equal(state_of(q), 0);
		assert_false(masked(q));
		assert_int_equal(atomic_load(&q->irq->count[1 - home]), 0);
		raised += atomic_load(&q->irq->raised);
		taken += atomic_load(&q->irq->count[home]);
	}
	assert_int_equal(raised, PRODUCED);
	assert_true(taken > 0 && taken <= raised);
	assert_int_equal(taken,
			 f->cpu[0].softnet.irqs + f->cpu[1].softnet.irqs);
	/* Each core thread counted its drops in its own cpu's block. */
	for (int c = 0; c < NCPUS; c++)
		assert_int_equal(f->cpu[c].drops.count[WP_DROP_RING_FULL],
				 atomic_load(&f->q[c].polls) +
					 atomic_load(&f->q[c + 2].polls));
	print_message("  %d frames, %" PRIu64 " interrupts, %ld raises "
		      "pended, %" PRIu64 " + %" PRIu64 " polls\n",
		      PRODUCED, taken, p.pended, f->cpu[0].softnet.napi_polls,
		      f->cpu[1].softnet.napi_polls);

	/* Restartable after a stop. */
	assert_int_equal(wp_cpu_start(&f->cpu[0]), 0);
	fake_rx(&f->q[0], 3);
	wp_cpu_stop(&f->cpu[0]);
}

struct tick {
	_Atomic int runs;
	struct wp_clock *clock;
};

static void tick_hook(struct wp_cpu *cpu, void *arg)
{
	struct tick *t = arg;

	atomic_fetch_add(&t->runs, 1);
	wp_cpu_arm_timer(cpu, wp_clock_now(t->clock) + 2 * MS);
}

static void idle_thread_sleeps_until_timer_or_kick(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct tick t = { .clock = &f->clock };
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	int runs;
	struct fake_q *q = add_q(f, 0, 64);

	assert_int_equal(wp_cpu_add_hook(cpu, tick_hook, &t), 0);
	assert_int_equal(wp_cpu_start(cpu), 0);
	nanosleep(&ts, NULL);
	runs = atomic_load(&t.runs);
	/* A 2 ms timer over 100 ms: about 50 wake-ups (fewer on a loaded
	 * machine), never the millions of a spin. */
	assert_in_range(runs, 1, 200);
	for (int i = 0; atomic_load(&t.runs) < runs + 3; i++) {
		if (i > 100)
			fail_msg("the timer does not wake the thread");
		nanosleep(&ts, NULL);
	}
	for (int i = 0; !atomic_load(&cpu->sleeping); i++) {
		if (i > 10000)
			fail_msg("the idle thread never slept");
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}

	/* A kick (here an interrupt) wakes it well before the timer. */
	for (int i = 0; i < 100; i++) {
		long before = atomic_load(&q->consumed);
		uint64_t t0 = wp_time_real_ns();

		fake_rx(q, 1);
		while (atomic_load(&q->consumed) == before)
			if (wp_time_real_ns() - t0 > 5 * WP_NSEC_PER_SEC)
				fail_msg("interrupt %d never taken", i);
	}
	wp_cpu_stop(cpu);
	assert_int_equal(atomic_load(&q->consumed), 100);
}

struct traffic {
	struct fake_q *q;
	_Atomic bool stop;
};

static void *keep_traffic(void *arg)
{
	struct traffic *tr = arg;
	struct timespec ts = { 0, 10000 };

	while (!atomic_load(&tr->stop)) {
		fake_rx(tr->q, 8);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void disable_from_a_control_thread(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *q = add_q(f, 0, 4);
	struct traffic tr = { .q = q };
	struct timespec ts = { 0, 200000 };
	pthread_t t;

	assert_int_equal(wp_cpu_start(cpu), 0);
	assert_int_equal(pthread_create(&t, NULL, keep_traffic, &tr), 0);
	for (int round = 0; round < 50; round++) {
		long polls;

		wp_napi_disable(&q->napi);
		/* Not polled now, and not again until enabled. */
		assert_false(atomic_load(&q->in_poll));
		assert_int_equal(state_of(q) & (WP_NAPI_STATE_SCHED |
						WP_NAPI_STATE_DISABLE),
				 WP_NAPI_STATE_SCHED | WP_NAPI_STATE_DISABLE);
		polls = atomic_load(&q->polls);
		nanosleep(&ts, NULL);
		assert_int_equal(atomic_load(&q->polls), polls);
		assert_false(atomic_load(&q->in_poll));

		/* Restart: enable, unmask, raise once. */
		wp_napi_enable(&q->napi);
		wp_irq_unmask(q->irq);
		wp_irq_raise(q->irq);
	}
	atomic_store(&tr.stop, true);
	pthread_join(t, NULL);
	for (int i = 0; i < 50000 && atomic_load(&q->pending); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&q->pending), 0);
	wp_cpu_stop(cpu);
}

static void busy_poll_thread_and_napi_del(void **state)
{
	struct fixture *f = *state;
	struct wp_cpu *cpu = &f->cpu[0];
	struct fake_q *a = add_q(f, 0, 64);
	struct fake_q *b = add_q(f, 0, 64);
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	long polls;

	atomic_store(&a->pending, 1L << 40);
	atomic_store(&b->pending, 1L << 40);
	wp_cpu_set_busy_poll(cpu, true);
	assert_int_equal(wp_cpu_start(cpu), 0);
	for (int i = 0; atomic_load(&b->polls) == 0; i++) {
		if (i > 2000)
			fail_msg("the busy-poll thread never polled");
		nanosleep(&ts, NULL);
	}

	/* A control thread removes b while the pass runs: after del
	 * returns, no pass holds it. */
	wp_napi_disable(&b->napi);
	wp_netif_napi_del(&b->napi);
	polls = atomic_load(&b->polls);
	nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&b->polls), polls);
	assert_true(atomic_load(&a->polls) > polls / 2);
	wp_cpu_stop(cpu);
	assert_true(cpu->softnet.busy_polls > 0);
	assert_int_equal(cpu->softnet.napi_completes, 0);
	assert_int_equal(cpu->softnet.softirq_runs, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TR(fn) cmocka_unit_test_setup_teardown(fn, setup_real, teardown)
	const struct CMUnitTest tests[] = {
		T(schedule_sets_sched_then_missed),
		T(weight_used_up_stays_scheduled_and_masked),
		T(drain_completes_and_unmasks),
		T(netdev_budget_across_napis),
		T(budget_usecs_squeezes_on_time),
		T(missed_polls_again_instead_of_unmasking),
		T(pba_delivers_frames_that_land_before_unmask),
		T(ksoftirqd_after_ten_runs),
		T(ksoftirqd_after_two_ms),
		T(busy_poll_polls_all_and_never_unmasks),
		T(batches_go_to_the_rx_handler),
		T(no_handler_drops_with_a_reason),
		T(disable_on_the_owner_thread),
		T(del_and_set_cpu_rebind),
		T(hooks_and_timers),
		TR(threads_deliver_every_frame),
		TR(idle_thread_sleeps_until_timer_or_kick),
		TR(disable_from_a_control_thread),
		TR(busy_poll_thread_and_napi_del),
	};
#undef T
#undef TR
	return cmocka_run_group_tests(tests, NULL, NULL);
}
