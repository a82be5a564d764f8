// SPDX-License-Identifier: MIT
/*
 * The softirq and the core threads (Linux kernel/softirq.c: __do_softirq,
 * ksoftirqd; the idle loop).
 *
 * A core thread loops: take interrupts, run softirqs (or busy-poll), run
 * hooks. When nothing is left it sleeps on its condvar until a kick or
 * its next timer. Wake-ups are never lost: the thread reads wake_seq
 * before it looks for work and sleeps only if wake_seq has not moved,
 * and every producer of work (wp_irq_raise, wp_cpu_stop) publishes the
 * work before it bumps wake_seq.
 */
#include "napi/napi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "irq/irq.h"

/* Idle sleep bound when the clock is virtual: its time cannot be waited
 * for, only watched. */
#define VIRTUAL_IDLE_NS WP_NSEC_PER_MSEC

/* The cpu whose core thread this is (NULL on other threads). */
static _Thread_local struct wp_cpu *this_cpu;

bool wp__cpu_owned(const struct wp_cpu *cpu)
{
	return this_cpu == cpu ||
	       !atomic_load_explicit(&cpu->threaded, memory_order_acquire);
}

void wp_do_softirq(struct wp_cpu *cpu)
{
	uint64_t end;
	int max_restart = WP_MAX_SOFTIRQ_RESTART;

	if (cpu->ksoftirqd || !(cpu->softirq_pending & WP_NET_RX_SOFTIRQ))
		return;
	end = wp_clock_now(cpu->clock) + WP_MAX_SOFTIRQ_TIME_NS;
	for (;;) {
		wp_net_rx_action(cpu);
		if (!(cpu->softirq_pending & WP_NET_RX_SOFTIRQ))
			return;
		if (wp_clock_now(cpu->clock) < end && --max_restart)
			continue;
		/* wakeup_softirqd(): the rest waits its turn behind the
		 * hooks, so a flood cannot starve timers and control. */
		cpu->ksoftirqd = true;
		cpu->softnet.ksoftirqd_wakeups++;
		return;
	}
}

/* run_ksoftirqd: one softirq run per loop iteration. */
static bool run_ksoftirqd(struct wp_cpu *cpu)
{
	bool did = false;

	if (cpu->softirq_pending & WP_NET_RX_SOFTIRQ) {
		wp_net_rx_action(cpu);
		did = true;
	}
	if (!(cpu->softirq_pending & WP_NET_RX_SOFTIRQ))
		cpu->ksoftirqd = false;
	return did;
}

void wp_cpu_init(struct wp_cpu *cpu, int id, struct wp_clock *clock,
		 struct wp_sysctl *sysctl, struct wp_irq_table *irqs)
{
	pthread_condattr_t ca;
	pthread_rwlockattr_t ra;

	memset(cpu, 0, sizeof(*cpu));
	cpu->id = id;
	cpu->clock = clock;
	cpu->sysctl = sysctl;
	cpu->irqs = irqs;
	atomic_init(&cpu->irq_pending, 0);
	atomic_init(&cpu->wake_seq, 0);
	atomic_init(&cpu->stop, false);
	atomic_init(&cpu->sleeping, false);
	atomic_init(&cpu->threaded, false);
	cpu->next_timer_ns = WP_TIME_NEVER;

	pthread_mutex_init(&cpu->lock, NULL);
	/* Deadlines are CLOCK_MONOTONIC, as a real wp_clock is. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cpu->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(
		&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&cpu->napis_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
}

void wp_cpu_destroy(struct wp_cpu *cpu)
{
	wp_cpu_stop(cpu);
	pthread_rwlock_destroy(&cpu->napis_lock);
	pthread_cond_destroy(&cpu->cond);
	pthread_mutex_destroy(&cpu->lock);
}

int wp_cpu_add_hook(struct wp_cpu *cpu, wp_cpu_hook_fn fn, void *arg)
{
	if (!fn)
		return -EINVAL;
	if (cpu->nhooks == WP_CPU_MAX_HOOKS)
		return -ENOSPC;
	cpu->hooks[cpu->nhooks] = fn;
	cpu->hook_args[cpu->nhooks] = arg;
	cpu->nhooks++;
	return 0;
}

void wp_cpu_set_busy_poll(struct wp_cpu *cpu, bool on)
{
	cpu->busy_poll = on;
}

bool wp_cpu_run_once(struct wp_cpu *cpu)
{
	bool did = wp_cpu_handle_irqs(cpu) > 0;

	if (cpu->busy_poll) {
		if (wp__napi_busy_poll(cpu) > 0)
			did = true;
	} else if (!cpu->ksoftirqd &&
		   (cpu->softirq_pending & WP_NET_RX_SOFTIRQ)) {
		wp_do_softirq(cpu);
		did = true;
	}

	cpu->next_timer_ns = WP_TIME_NEVER;
	for (uint32_t i = 0; i < cpu->nhooks; i++)
		cpu->hooks[i](cpu, cpu->hook_args[i]);

	if (cpu->ksoftirqd && run_ksoftirqd(cpu))
		did = true;
	return did;
}

bool wp_cpu_has_work(const struct wp_cpu *cpu)
{
	if (atomic_load_explicit((_Atomic uint64_t *)&cpu->irq_pending,
				 memory_order_acquire))
		return true;
	if (cpu->busy_poll || (cpu->softirq_pending & WP_NET_RX_SOFTIRQ))
		return true;
	return cpu->next_timer_ns != WP_TIME_NEVER &&
	       cpu->next_timer_ns <= wp_clock_now(cpu->clock);
}

/*
 * Kick: bump wake_seq, then signal if the thread sleeps. The store of
 * `sleeping` (sleeper) and the bump (here) are each followed by a load of
 * the other, all seq_cst: either we see it asleep and signal under its
 * lock (which it holds until it waits), or it sees the new seq and does
 * not wait.
 */
void wp_cpu_kick(struct wp_cpu *cpu)
{
	atomic_fetch_add_explicit(&cpu->wake_seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&cpu->sleeping, memory_order_seq_cst)) {
		pthread_mutex_lock(&cpu->lock);
		pthread_cond_signal(&cpu->cond);
		pthread_mutex_unlock(&cpu->lock);
	}
}

static struct timespec ns_to_timespec(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / WP_NSEC_PER_SEC),
		.tv_nsec = (long)(ns % WP_NSEC_PER_SEC),
	};

	return ts;
}

static void cpu_idle(struct wp_cpu *cpu, uint32_t seq)
{
	uint64_t deadline = cpu->next_timer_ns;

	/* Sleeping is the OS's business: with a virtual clock the bound is
	 * a short real-time wait, after which the loop looks at the
	 * virtual time again. */
	if (wp_clock_is_virtual(cpu->clock))
		deadline = wp_time_real_ns() + VIRTUAL_IDLE_NS;

	pthread_mutex_lock(&cpu->lock);
	atomic_store_explicit(&cpu->sleeping, true, memory_order_seq_cst);
	if (atomic_load_explicit(&cpu->wake_seq, memory_order_seq_cst) == seq &&
	    !atomic_load_explicit(&cpu->stop, memory_order_acquire)) {
		if (deadline == WP_TIME_NEVER) {
			pthread_cond_wait(&cpu->cond, &cpu->lock);
		} else {
			struct timespec ts = ns_to_timespec(deadline);

			pthread_cond_timedwait(&cpu->cond, &cpu->lock, &ts);
		}
	}
	atomic_store_explicit(&cpu->sleeping, false, memory_order_relaxed);
	pthread_mutex_unlock(&cpu->lock);
}

static void *cpu_thread(void *arg)
{
	struct wp_cpu *cpu = arg;

	this_cpu = cpu;
	wp_drop_stats_bind(&cpu->drops);
	while (!atomic_load_explicit(&cpu->stop, memory_order_acquire)) {
		/* Read before looking for work: a kick after this point
		 * changes it and the sleep below does not happen. */
		uint32_t seq = atomic_load_explicit(&cpu->wake_seq,
						    memory_order_seq_cst);

		if (wp_cpu_run_once(cpu) || cpu->busy_poll)
			continue;
		if (wp_cpu_has_work(cpu))
			continue;
		cpu_idle(cpu, seq);
	}
	wp_drop_stats_bind(NULL);
	this_cpu = NULL;
	return NULL;
}

int wp_cpu_start(struct wp_cpu *cpu)
{
	char name[16];
	int err;

	if (atomic_load(&cpu->threaded))
		return -EBUSY;
	atomic_store_explicit(&cpu->stop, false, memory_order_relaxed);
	/* Set first: from its first instruction the thread is the owner,
	 * and everyone else must see that it runs. */
	atomic_store(&cpu->threaded, true);
	err = pthread_create(&cpu->thread, NULL, cpu_thread, cpu);
	if (err) {
		atomic_store(&cpu->threaded, false);
		return -err;
	}
	/* As ps shows ksoftirqd/N: the core thread by its cpu. */
	snprintf(name, sizeof(name), "wp-cpu/%d", cpu->id);
	pthread_setname_np(cpu->thread, name);
	return 0;
}

void wp_cpu_stop(struct wp_cpu *cpu)
{
	if (!atomic_load(&cpu->threaded))
		return;
	atomic_store_explicit(&cpu->stop, true, memory_order_release);
	wp_cpu_kick(cpu);
	pthread_join(cpu->thread, NULL);
	atomic_store(&cpu->threaded, false);
}
