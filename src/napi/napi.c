// SPDX-License-Identifier: MIT
/*
 * NAPI: scheduling, the NET_RX softirq handler and busy polling
 * (Linux net/core/dev.c: napi_schedule_prep, net_rx_action, __napi_poll,
 * napi_complete_done, napi_disable, napi_busy_loop).
 *
 * Ownership is the SCHED bit. Whoever sets it owns the NAPI (its place on
 * a list, its rx_list, its statistics) until it clears it; clearing it is
 * a release, after which the owner touches the NAPI no more. The core
 * thread owns its poll list outright; other threads only take SCHED in
 * wp_napi_disable().
 */
#include "napi/napi.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "irq/irq.h"

/* A poll list: cpu->poll_head/tail, or one of net_rx_action's own. */
struct napi_list {
	struct wp_napi *head;
	struct wp_napi *tail;
};

static void nl_add_tail(struct napi_list *l, struct wp_napi *n)
{
	n->poll_next = NULL;
	n->poll_prev = l->tail;
	if (l->tail)
		l->tail->poll_next = n;
	else
		l->head = n;
	l->tail = n;
}

static void nl_unlink(struct napi_list *l, struct wp_napi *n)
{
	if (n->poll_prev)
		n->poll_prev->poll_next = n->poll_next;
	else
		l->head = n->poll_next;
	if (n->poll_next)
		n->poll_next->poll_prev = n->poll_prev;
	else
		l->tail = n->poll_prev;
	n->poll_next = NULL;
	n->poll_prev = NULL;
}

static struct wp_napi *nl_pop(struct napi_list *l)
{
	struct wp_napi *n = l->head;

	if (n)
		nl_unlink(l, n);
	return n;
}

static void nl_splice_tail(struct napi_list *dst, struct napi_list *src)
{
	if (!src->head)
		return;
	if (dst->tail) {
		dst->tail->poll_next = src->head;
		src->head->poll_prev = dst->tail;
	} else {
		dst->head = src->head;
	}
	dst->tail = src->tail;
	src->head = NULL;
	src->tail = NULL;
}

static struct napi_list cpu_list_take(struct wp_cpu *cpu)
{
	struct napi_list l = { cpu->poll_head, cpu->poll_tail };

	cpu->poll_head = NULL;
	cpu->poll_tail = NULL;
	return l;
}

static void cpu_list_put(struct wp_cpu *cpu, struct napi_list l)
{
	cpu->poll_head = l.head;
	cpu->poll_tail = l.tail;
}

/* Outside net_rx_action the only list a NAPI can be on is its cpu's. */
static bool on_cpu_list(const struct wp_cpu *cpu, const struct wp_napi *n)
{
	return n->poll_prev || cpu->poll_head == n;
}

static void cpu_list_unlink(struct wp_cpu *cpu, struct wp_napi *n)
{
	struct napi_list l = cpu_list_take(cpu);

	nl_unlink(&l, n);
	cpu_list_put(cpu, l);
	if (!l.head)
		cpu->softirq_pending &= ~WP_NET_RX_SOFTIRQ;
}

/* ____napi_schedule: core thread only. */
static void list_and_raise(struct wp_cpu *cpu, struct wp_napi *n)
{
	struct napi_list l = cpu_list_take(cpu);

	nl_add_tail(&l, n);
	cpu_list_put(cpu, l);
	cpu->softirq_pending |= WP_NET_RX_SOFTIRQ;
}

static uint32_t state_load(const struct wp_napi *n)
{
	return atomic_load_explicit((_Atomic uint32_t *)&n->state,
				    memory_order_acquire);
}

/* Give up ownership: the release orders every write the owner made to
 * the NAPI before a waiter in wp_napi_disable() can take it. */
static void napi_release(struct wp_napi *n)
{
	uint32_t val = state_load(n);

	while (!atomic_compare_exchange_weak_explicit(
		&n->state, &val,
		val & ~(uint32_t)(WP_NAPI_STATE_SCHED | WP_NAPI_STATE_MISSED |
				  WP_NAPI_STATE_IN_BUSY_POLL),
		memory_order_release, memory_order_relaxed))
		;
}

/* napi_gro_flush then gro_normal_list: the batch goes up after each
 * poll, with whatever GRO held. */
static void flush_rx(struct wp_cpu *cpu, struct wp_napi *n)
{
	if (n->gro.nheld)
		wp__napi_gro_flush(n);
	if (wp_skb_queue_empty(&n->rx_list))
		return;
	if (n->rx_handler) {
		cpu->softnet.processed += n->rx_list.qlen;
		n->rx_handler(n->rx_ctx, n, &n->rx_list);
	} else {
		wp_skb_queue_purge(&n->rx_list, WP_DROP_NO_HANDLER);
	}
}

static void account(struct wp_napi *n, int work)
{
	n->packets += (uint64_t)work;
	n->last_work = work;
}

/* --- binding ------------------------------------------------------------ */

static void napis_add(struct wp_cpu *cpu, struct wp_napi *n)
{
	pthread_rwlock_wrlock(&cpu->napis_lock);
	/* One NAPI per vector: WP_MAX_VECTORS cannot be exceeded. */
	if (cpu->nnapis < WP_MAX_VECTORS)
		cpu->napis[cpu->nnapis++] = n;
	pthread_rwlock_unlock(&cpu->napis_lock);
}

/* Waits for a busy-poll pass in progress: the write lock is the grace
 * period after which the pass holds no pointer to n. */
static void napis_del(struct wp_cpu *cpu, struct wp_napi *n)
{
	pthread_rwlock_wrlock(&cpu->napis_lock);
	for (uint32_t i = 0; i < cpu->nnapis; i++) {
		if (cpu->napis[i] != n)
			continue;
		memmove(&cpu->napis[i], &cpu->napis[i + 1],
			(cpu->nnapis - i - 1) * sizeof(cpu->napis[0]));
		cpu->nnapis--;
		break;
	}
	pthread_rwlock_unlock(&cpu->napis_lock);
}

void wp_netif_napi_add(struct wp_cpu *cpu, struct wp_napi *napi,
		       wp_napi_poll_fn poll, int weight)
{
	napi->poll_next = NULL;
	napi->poll_prev = NULL;
	atomic_store_explicit(&napi->state, 0, memory_order_relaxed);
	napi->weight = weight > 0 ? weight : 0;
	napi->poll = poll;
	napi->cpu = cpu;
	wp_skb_queue_init(&napi->rx_list);
	memset(&napi->gro, 0, sizeof(napi->gro));
	atomic_init(&napi->gro.enabled, true);
	napi->polls = 0;
	napi->packets = 0;
	napi->completes = 0;
	napi->budget_exhausted = 0;
	napi->last_work = 0;
	napi->last_completed = false;
	napis_add(cpu, napi);
}

void wp_netif_napi_del(struct wp_napi *napi)
{
	struct wp_cpu *cpu = napi->cpu;

	if (!cpu)
		return;
	napis_del(cpu, napi);
	if (wp__cpu_owned(cpu) && on_cpu_list(cpu, napi))
		cpu_list_unlink(cpu, napi);
	wp__napi_gro_purge(napi);
	wp_skb_queue_purge(&napi->rx_list, WP_DROP_DEV_DOWN);
	napi->cpu = NULL;
}

void wp_napi_set_cpu(struct wp_napi *napi, struct wp_cpu *cpu)
{
	if (!cpu || napi->cpu == cpu)
		return;
	if (napi->cpu)
		napis_del(napi->cpu, napi);
	napi->cpu = cpu;
	napis_add(cpu, napi);
}

int wp_napi_weight(const struct wp_napi *napi)
{
	if (napi->weight > 0)
		return napi->weight;
	if (napi->cpu && napi->cpu->sysctl)
		return wp_sysctl_read(&napi->cpu->sysctl->dev_weight);
	return 64;
}

/* --- scheduling ------------------------------------------------------- */

bool wp_napi_schedule(struct wp_napi *napi)
{
	uint32_t val = state_load(napi), new;

	do {
		if (val & WP_NAPI_STATE_DISABLE)
			return false;
		new = val | WP_NAPI_STATE_SCHED;
		if (val & WP_NAPI_STATE_SCHED)
			new |= WP_NAPI_STATE_MISSED;
	} while (!atomic_compare_exchange_weak_explicit(&napi->state, &val, new,
							memory_order_acq_rel,
							memory_order_acquire));

	if (val & WP_NAPI_STATE_SCHED)
		return false;
	list_and_raise(napi->cpu, napi);
	return true;
}

bool wp_napi_complete_done(struct wp_napi *napi, int work_done)
{
	struct wp_cpu *cpu = napi->cpu;
	uint32_t val = state_load(napi), new;

	if (val & WP_NAPI_STATE_IN_BUSY_POLL)
		return false;

	account(napi, work_done < 0 ? 0 : work_done);
	flush_rx(cpu, napi);
	/* Counted before the release: after it the NAPI is not ours. Taken
	 * back below if MISSED keeps it. */
	napi->completes++;
	napi->last_completed = true;

	do {
		new = val &
		      ~(uint32_t)(WP_NAPI_STATE_SCHED | WP_NAPI_STATE_MISSED);
		/* Scheduled again while we ran: keep SCHED, poll once more. */
		if (val & WP_NAPI_STATE_MISSED)
			new |= WP_NAPI_STATE_SCHED;
	} while (!atomic_compare_exchange_weak_explicit(&napi->state, &val, new,
							memory_order_release,
							memory_order_relaxed));

	if (val & WP_NAPI_STATE_MISSED) {
		napi->completes--;
		napi->last_completed = false;
		list_and_raise(cpu, napi);
		return false;
	}
	cpu->softnet.napi_completes++;
	return true;
}

/* --- disable / enable ---------------------------------------------------- */

static void wait_a_little(void)
{
	/* A poll lasts at most netdev_budget_usecs; napi_disable sleeps
	 * in msleep(1) steps, we in 20 us ones. */
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
}

void wp_napi_disable(struct wp_napi *napi)
{
	struct wp_cpu *cpu = napi->cpu;

	atomic_fetch_or_explicit(&napi->state, WP_NAPI_STATE_DISABLE,
				 memory_order_seq_cst);
	for (;;) {
		uint32_t val = state_load(napi);

		if (!(val & WP_NAPI_STATE_SCHED)) {
			/* Idle: take it so nothing schedules or polls it. */
			if (atomic_compare_exchange_weak_explicit(
				    &napi->state, &val,
				    val | WP_NAPI_STATE_SCHED,
				    memory_order_acquire, memory_order_relaxed))
				return;
			continue;
		}
		if (!cpu || wp__cpu_owned(cpu)) {
			/* Scheduled but not running (we are, or stand for,
			 * the core thread): it waits on the poll list. */
			if (cpu && on_cpu_list(cpu, napi))
				cpu_list_unlink(cpu, napi);
			atomic_fetch_and_explicit(
				&napi->state, ~(uint32_t)WP_NAPI_STATE_MISSED,
				memory_order_relaxed);
			return;
		}
		/* The core thread polls it once more and, seeing DISABLE,
		 * lets it go (or the driver completes it). */
		wp_cpu_kick(cpu);
		wait_a_little();
	}
}

void wp_napi_enable(struct wp_napi *napi)
{
	uint32_t val = state_load(napi);

	do {
		if (!(val & WP_NAPI_STATE_DISABLE))
			return;
	} while (!atomic_compare_exchange_weak_explicit(&napi->state, &val, 0,
							memory_order_release,
							memory_order_relaxed));
}

/* --- NET_RX ------------------------------------------------------------- */

/*
 * __napi_poll: one poll with the NAPI's weight. A poll that did less than
 * its weight has completed (the driver called wp_napi_complete_done(),
 * which accounted it and may have let it go): the NAPI is not touched
 * again. A poll that did its whole weight is still ours: it goes to
 * `repoll`, or, if a disable is waiting, is let go.
 */
static int napi_poll(struct wp_cpu *cpu, struct wp_napi *n,
		     struct napi_list *repoll)
{
	int weight = wp_napi_weight(n);
	int work;

	n->polls++;
	n->last_completed = false;
	cpu->softnet.napi_polls++;
	work = n->poll(n, weight);
	if (work < weight)
		return work > 0 ? work : 0;
	work = weight; /* more than asked for is a driver bug: count weight */

	account(n, work);
	n->budget_exhausted++;
	cpu->softnet.budget_exhausted++;
	flush_rx(cpu, n);
	if (state_load(n) & WP_NAPI_STATE_DISABLE) {
		napi_release(n);
		return work;
	}
	nl_add_tail(repoll, n);
	return work;
}

void wp_net_rx_action(struct wp_cpu *cpu)
{
	const uint64_t start = wp_clock_now(cpu->clock);
	const uint64_t limit =
		start +
		(uint64_t)wp_sysctl_read(&cpu->sysctl->netdev_budget_usecs) *
			WP_NSEC_PER_USEC;
	int budget = wp_sysctl_read(&cpu->sysctl->netdev_budget);
	struct napi_list list = cpu_list_take(cpu);
	struct napi_list repoll = { NULL, NULL };
	struct napi_list fresh;

	cpu->softirq_pending &= ~WP_NET_RX_SOFTIRQ;
	cpu->softnet.softirq_runs++;

	for (;;) {
		struct wp_napi *n;

		if (!list.head) {
			/* Each NAPI is polled once per run; ones scheduled
			 * meanwhile join only if nothing waits to repoll. */
			if (repoll.head || !cpu->poll_head)
				break;
			list = cpu_list_take(cpu);
		}
		n = nl_pop(&list);
		budget -= napi_poll(cpu, n, &repoll);
		if (budget <= 0 || wp_clock_now(cpu->clock) >= limit) {
			/* Linux counts a squeeze even when the last poll
			 * happened to empty the list; we count only a stop
			 * that leaves work behind, which is what the
			 * counter is read for. */
			if (list.head || repoll.head || cpu->poll_head)
				cpu->softnet.time_squeeze++;
			break;
		}
	}

	/* Not polled yet first, then the newly scheduled, then the ones
	 * that used their weight. */
	fresh = cpu_list_take(cpu);
	nl_splice_tail(&list, &fresh);
	nl_splice_tail(&list, &repoll);
	cpu_list_put(cpu, list);
	if (list.head)
		cpu->softirq_pending |= WP_NET_RX_SOFTIRQ;
}

/* --- busy polling -------------------------------------------------------- */

/* napi_busy_loop's grab: an idle or interrupt-scheduled NAPI becomes the
 * pass's; a disabled one is skipped. */
static bool busy_take(struct wp_cpu *cpu, struct wp_napi *n)
{
	uint32_t val = state_load(n);

	do {
		if (val & (WP_NAPI_STATE_DISABLE | WP_NAPI_STATE_IN_BUSY_POLL))
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&n->state, &val,
		val | WP_NAPI_STATE_SCHED | WP_NAPI_STATE_IN_BUSY_POLL,
		memory_order_acquire, memory_order_relaxed));

	/* A top half scheduled it: the pass takes it off the list. */
	if ((val & WP_NAPI_STATE_SCHED) && on_cpu_list(cpu, n))
		cpu_list_unlink(cpu, n);
	return true;
}

int wp__napi_busy_poll(struct wp_cpu *cpu)
{
	int total = 0;

	pthread_rwlock_rdlock(&cpu->napis_lock);
	for (uint32_t i = 0; i < cpu->nnapis; i++) {
		struct wp_napi *n = cpu->napis[i];
		int weight, work;

		if (!busy_take(cpu, n))
			continue;
		weight = wp_napi_weight(n);
		n->polls++;
		n->last_completed = false;
		cpu->softnet.napi_polls++;
		cpu->softnet.busy_polls++;
		work = n->poll(n, weight);
		if (work < 0)
			work = 0;
		if (work >= weight) {
			work = weight;
			n->budget_exhausted++;
			cpu->softnet.budget_exhausted++;
		}
		account(n, work);
		flush_rx(cpu, n);
		napi_release(n);
		total += work;
	}
	pthread_rwlock_unlock(&cpu->napis_lock);
	if (!cpu->poll_head)
		cpu->softirq_pending &= ~WP_NET_RX_SOFTIRQ;
	return total;
}
