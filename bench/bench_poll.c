// SPDX-License-Identifier: MIT
/*
 * bench poll: what one wake-up plus one wait costs with select, poll and
 * epoll when N sockets are watched and one is ready (the seed's
 * "pollwake O(N) vs ep_poll_callback O(1)").
 *
 * ready (one thread): make one socket readable through sk_data_ready,
 * then call select/poll/epoll_wait, which returns it; consume it. For
 * select and poll the call registers on all N sockets, scans all N and
 * unregisters all N; the application then looks for the ready one, as it
 * must. For epoll the wake ran ep_poll_callback (ready list, O(1)) and
 * epoll_wait reads the list. `scanned` is the number of ->poll() calls
 * per wait, from the wake-up stats: N for select/poll; for
 * level-triggered epoll 2 (the one reported last time is re-checked once
 * before it leaves the list), for EPOLLET 1.
 *
 * blocked (two threads): a waiter sleeps in the call; the bench thread
 * waits until it is asleep, then makes one socket ready. `latency` is
 * from sk_data_ready to the waiter's return (select/poll: wake, rescan
 * all N, unregister all N), `waiter_cpu` the waiter's CPU time per event
 * (register + scan + sleep + rescan + unregister), `scanned` its ->poll()
 * calls per event (2N for select/poll).
 *
 * Peer, in the same run: the Linux kernel's select/poll/epoll_wait on N
 * eventfds, one made readable by a write and consumed by a read (ready
 * mode). The kernel's select also takes sets beyond FD_SETSIZE.
 *
 * Each measurement is REPS runs; records give the median run and the
 * best. --seconds is the time per run; --iterations the waits per run.
 * Arguments: "ready" or "blocked" runs only that mode.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/clock.h"
#include "sock/fd.h"
#include "sock/sock.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

enum {
	REPS = 5,
	MAXEV = 64,
	/* Waits between two looks at the clock in a timed run. */
	CHUNK = 16,
};

static const unsigned sizes[] = { 10, 100, 1000, 10000 };

enum call { CALL_SELECT, CALL_POLL, CALL_EPOLL, CALL_EPOLL_ET, CALL__MAX };

static const char *const call_names[CALL__MAX] = {
	[CALL_SELECT] = "select",
	[CALL_POLL] = "poll",
	[CALL_EPOLL] = "epoll",
	[CALL_EPOLL_ET] = "epoll_et",
};

/* Per run: a number of waits, or 0 and a time. */
struct budget {
	uint64_t ops;
	uint64_t ns;
};

struct run {
	uint64_t ops;
	uint64_t ns;
	uint64_t scanned;
};

static double run_ns(const struct run *r)
{
	return r->ops ? (double)r->ns / (double)r->ops : NAN;
}

static int by_ns(const void *a, const void *b)
{
	double x = run_ns(a), y = run_ns(b);

	return (x > y) - (x < y);
}

/* --- the world being waited on -------------------------------------------- */

/* A socket that is readable while `ready` is set. */
struct bsock {
	struct wp_sock sk;
	_Atomic int ready;
	int fd;
};

static uint32_t bsock_poll(struct wp_sock *sk)
{
	struct bsock *b = wp_container_of(sk, struct bsock, sk);

	return atomic_load_explicit(&b->ready, memory_order_relaxed)
		       ? WP_EPOLLIN | WP_EPOLLRDNORM
		       : 0;
}

static void bsock_free(struct wp_sock *sk)
{
	(void)sk; /* the array is freed by the bench */
}

static const struct wp_proto bsock_proto = {
	.name = "bench",
	.poll = bsock_poll,
	.free = bsock_free,
};

/* N sockets on descriptors, the sets and arrays the calls need. */
struct world {
	enum call call;
	unsigned n;
	struct wp_fdtable *t, *old;
	struct bsock *socks;
	int epfd;
	int nfds;		/* select: highest fd + 1 */
	wp_fd_set *tmpl, *rset; /* select: interest, and the call's copy */
	struct wp_pollfd *pfds;
	unsigned next; /* rotates the ready socket */
};

static void world_destroy(struct world *w)
{
	if (w->t) {
		wp_fdtable_set_current(w->old);
		wp_fdtable_destroy(w->t); /* closes every descriptor */
	}
	free(w->socks);
	free(w->tmpl);
	free(w->rset);
	free(w->pfds);
}

static int world_init(struct world *w, enum call call, unsigned n)
{
	memset(w, 0, sizeof(*w));
	w->call = call;
	w->n = n;
	w->epfd = -1;
	w->t = wp_fdtable_create(n + 64, NULL);
	/* struct wp_sock is cache-line aligned: so must the array be. */
	w->socks = wp_sk_alloc(n * sizeof(*w->socks));
	w->tmpl = calloc(1, WP_FD_SET_BYTES(n + 64));
	w->rset = calloc(1, WP_FD_SET_BYTES(n + 64));
	w->pfds = calloc(n, sizeof(*w->pfds));
	if (!w->t || !w->socks || !w->tmpl || !w->rset || !w->pfds)
		goto out_nomem;
	w->old = wp_fdtable_set_current(w->t);
	if (call >= CALL_EPOLL) {
		w->epfd = wp_epoll_create1(0);
		if (w->epfd < 0)
			goto out_errno;
	}
	for (unsigned i = 0; i < n; i++) {
		struct bsock *b = &w->socks[i];

		wp_sock_init(&b->sk, &bsock_proto, 2, 2, 17, NULL);
		b->fd = wp_sock_map_fd(&b->sk);
		if (b->fd < 0) {
			errno = -b->fd;
			goto out_errno;
		}
		wp_fd_setbit(b->fd, w->tmpl);
		w->pfds[i] = (struct wp_pollfd){ b->fd, WP_POLLIN, 0 };
		w->nfds = b->fd + 1;
		if (call >= CALL_EPOLL) {
			struct wp_epoll_event ev = {
				.events = WP_EPOLLIN |
					  (call == CALL_EPOLL_ET ? WP_EPOLLET
								 : 0),
				.data.u32 = i,
			};

			if (wp_epoll_ctl(w->epfd, WP_EPOLL_CTL_ADD, b->fd, &ev))
				goto out_errno;
		}
	}
	return 0;

out_nomem:
	errno = ENOMEM;
out_errno:
	world_destroy(w);
	return -errno;
}

/* The one socket made ready next: spread over the set. */
static struct bsock *pick(struct world *w)
{
	w->next = (w->next + 7919) % w->n;
	return &w->socks[w->next];
}

static void make_ready(struct bsock *b)
{
	atomic_store_explicit(&b->ready, 1, memory_order_relaxed);
	b->sk.sk_data_ready(&b->sk, NULL);
}

/*
 * One wait, as an application does it: the call, then finding and
 * consuming what is ready. Returns how many sockets were consumed, or
 * -1 on error.
 */
static int wait_and_consume(struct world *w, int timeout_ms)
{
	struct wp_epoll_event ev[MAXEV];
	int n, got = 0;

	switch (w->call) {
	case CALL_SELECT: {
		struct timeval tv = { 0, 0 }, *tvp = timeout_ms ? NULL : &tv;
		unsigned words = (unsigned)WP_FD_SET_WORDS(w->nfds);
		const wp_fd_mask *res = (const wp_fd_mask *)(void *)w->rset;

		/* select overwrites its sets: rebuilt for every call. */
		memcpy(w->rset, w->tmpl, WP_FD_SET_BYTES(w->nfds));
		n = wp_select(w->nfds, w->rset, NULL, NULL, tvp);
		if (n < 0)
			return -1;
		for (unsigned i = 0; n && i < words; i++) {
			for (wp_fd_mask m = res[i]; m; m &= m - 1) {
				int fd = (int)(i * WP_NFDBITS) +
					 __builtin_ctzll(m);

				atomic_store_explicit(
					&w->socks[fd - w->socks[0].fd].ready, 0,
					memory_order_relaxed);
				got++;
			}
		}
		return got;
	}
	case CALL_POLL:
		n = wp_poll(w->pfds, w->n, timeout_ms);
		if (n < 0)
			return -1;
		for (unsigned i = 0; n && i < w->n; i++) {
			if (w->pfds[i].revents & WP_POLLIN) {
				atomic_store_explicit(&w->socks[i].ready, 0,
						      memory_order_relaxed);
				got++;
			}
		}
		return got;
	default:
		n = wp_epoll_wait(w->epfd, ev, MAXEV, timeout_ms);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++)
			atomic_store_explicit(&w->socks[ev[i].data.u32].ready,
					      0, memory_order_relaxed);
		return n;
	}
}

static uint64_t scanned_of(const struct wp_wake_stats *s)
{
	return s->poll_fds_scanned + s->epoll_items_polled;
}

/* --- ready mode, wirepath ---------------------------------------------------
 */

static int ready_ops(struct world *w, uint64_t ops)
{
	for (uint64_t i = 0; i < ops; i++) {
		make_ready(pick(w));
		/* Ready already: never sleeps; -1 so a bug hangs, not lies. */
		if (wait_and_consume(w, -1) != 1)
			return -EPROTO;
	}
	return 0;
}

static int ready_run(struct world *w, const struct budget *bud, struct run *r)
{
	struct wp_wake_stats ws = { 0 };
	uint64_t t0, done = 0;
	int err;

	memset(r, 0, sizeof(*r));
	wp_wake_stats_bind(&ws);
	t0 = wp_time_real_ns();
	if (bud->ops) {
		err = ready_ops(w, bud->ops);
		done = bud->ops;
	} else {
		do {
			err = ready_ops(w, CHUNK);
			done += CHUNK;
		} while (!err && wp_time_real_ns() - t0 < bud->ns);
	}
	r->ns = wp_time_real_ns() - t0;
	wp_wake_stats_bind(NULL);
	r->ops = done;
	r->scanned = scanned_of(&ws);
	return err;
}

/* --- ready mode, the kernel -------------------------------------------------
 */

struct kworld {
	enum call call;
	unsigned n;
	int *efd;
	int epfd;
	int nfds;
	unsigned long *tmpl, *rset;
	size_t set_bytes;
	struct pollfd *pfds;
	unsigned next;
};

static void kworld_destroy(struct kworld *k)
{
	for (unsigned i = 0; k->efd && i < k->n; i++)
		if (k->efd[i] >= 0)
			close(k->efd[i]);
	if (k->epfd >= 0)
		close(k->epfd);
	free(k->efd);
	free(k->tmpl);
	free(k->rset);
	free(k->pfds);
}

static int kworld_init(struct kworld *k, enum call call, unsigned n)
{
	size_t bits = 8 * sizeof(unsigned long);

	memset(k, 0, sizeof(*k));
	k->call = call;
	k->n = n;
	k->epfd = -1;
	k->efd = malloc(n * sizeof(*k->efd));
	k->pfds = calloc(n, sizeof(*k->pfds));
	if (!k->efd || !k->pfds)
		goto out_nomem;
	for (unsigned i = 0; i < n; i++)
		k->efd[i] = -1;
	if (call >= CALL_EPOLL) {
		k->epfd = epoll_create1(0);
		if (k->epfd < 0)
			goto out_errno;
	}
	for (unsigned i = 0; i < n; i++) {
		k->efd[i] = eventfd(0, EFD_NONBLOCK);
		if (k->efd[i] < 0)
			goto out_errno;
		if (k->efd[i] + 1 > k->nfds)
			k->nfds = k->efd[i] + 1;
		k->pfds[i] = (struct pollfd){ k->efd[i], POLLIN, 0 };
		if (call >= CALL_EPOLL) {
			struct epoll_event ev = {
				.events = EPOLLIN |
					  (call == CALL_EPOLL_ET ? EPOLLET : 0),
				.data.u32 = i,
			};

			if (epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->efd[i], &ev))
				goto out_errno;
		}
	}
	/* Sets beyond FD_SETSIZE: the kernel reads nfds bits, set by hand. */
	k->set_bytes = ((size_t)k->nfds + bits - 1) / bits * sizeof(long);
	k->tmpl = calloc(1, k->set_bytes);
	k->rset = calloc(1, k->set_bytes);
	if (!k->tmpl || !k->rset)
		goto out_nomem;
	for (unsigned i = 0; i < n; i++)
		k->tmpl[k->efd[i] / bits] |= 1UL << (k->efd[i] % bits);
	return 0;

out_nomem:
	errno = ENOMEM;
out_errno:
	kworld_destroy(k);
	return -errno;
}

static int kready_op(struct kworld *k)
{
	size_t bits = 8 * sizeof(unsigned long);
	struct epoll_event ev[MAXEV];
	uint64_t one = 1, val;
	unsigned i;
	int n, got = 0;

	k->next = (k->next + 7919) % k->n;
	if (write(k->efd[k->next], &one, sizeof(one)) != sizeof(one))
		return -EPROTO;
	switch (k->call) {
	case CALL_SELECT:
		memcpy(k->rset, k->tmpl, k->set_bytes);
		n = select(k->nfds, (fd_set *)(void *)k->rset, NULL, NULL,
			   NULL);
		for (i = 0; n > 0 && i < k->n; i++) {
			int fd = k->efd[i];

			if (k->rset[fd / bits] & (1UL << (fd % bits))) {
				if (read(fd, &val, sizeof(val)) == sizeof(val))
					got++;
			}
		}
		break;
	case CALL_POLL:
		n = poll(k->pfds, k->n, -1);
		for (i = 0; n > 0 && i < k->n; i++)
			if ((k->pfds[i].revents & POLLIN) &&
			    read(k->efd[i], &val, sizeof(val)) == sizeof(val))
				got++;
		break;
	default:
		n = epoll_wait(k->epfd, ev, MAXEV, -1);
		for (int j = 0; j < n; j++)
			if (read(k->efd[ev[j].data.u32], &val, sizeof(val)) ==
			    sizeof(val))
				got++;
		break;
	}
	return got == 1 ? 0 : -EPROTO;
}

static int kready_run(struct kworld *k, const struct budget *bud, struct run *r)
{
	uint64_t t0, done = 0;
	int err = 0;

	memset(r, 0, sizeof(*r));
	t0 = wp_time_real_ns();
	do {
		for (int i = 0; !err && i < CHUNK; i++)
			err = kready_op(k);
		done += CHUNK;
	} while (!err && (bud->ops ? done < bud->ops
				   : wp_time_real_ns() - t0 < bud->ns));
	r->ns = wp_time_real_ns() - t0;
	r->ops = done;
	return err;
}

/* --- blocked mode ----------------------------------------------------------
 */

struct blocked {
	struct world *w;
	_Atomic uint64_t acks;
	_Atomic bool stop;
	_Atomic int err;
	uint64_t cpu_ns;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void *waiter_thread(void *arg)
{
	struct blocked *b = arg;
	uint64_t cpu0 = thread_cpu_ns();

	/* Unbound: counts into the shared block the bench thread reads. */
	while (!atomic_load(&b->stop)) {
		int got = wait_and_consume(b->w, -1);

		if (got < 0) {
			atomic_store(&b->err, -EPROTO);
			break;
		}
		atomic_fetch_add(&b->acks, (uint64_t)got);
	}
	b->cpu_ns = thread_cpu_ns() - cpu0;
	return NULL;
}

static uint64_t sleeps_of(const struct wp_wake_stats *s)
{
	return s->poll_sleeps + s->epoll_sleeps;
}

/* Until the waiter has gone to sleep `target` times (bounded: 5 s). */
static int wait_asleep(struct blocked *b, uint64_t target)
{
	uint64_t t0 = wp_time_real_ns();
	struct wp_wake_stats s;

	for (;;) {
		wp_wake_stats_shared(&s);
		if (sleeps_of(&s) >= target)
			return 0;
		if (atomic_load(&b->err) ||
		    wp_time_real_ns() - t0 > 5 * WP_NSEC_PER_SEC)
			return -ETIMEDOUT;
		wp_cpu_relax();
	}
}

struct brun {
	uint64_t rounds;
	uint64_t lat_ns; /* sum of wake -> return */
	uint64_t cpu_ns; /* waiter CPU */
	uint64_t scanned;
};

static int blocked_run(struct world *w, const struct budget *bud,
		       struct brun *r)
{
	struct wp_wake_stats before, after, mine = { 0 };
	struct blocked b = { .w = w };
	uint64_t t0, base;
	pthread_t th;
	int err = 0;

	memset(r, 0, sizeof(*r));
	/* The bench thread's own wakes stay out of the shared block. */
	wp_wake_stats_bind(&mine);
	wp_wake_stats_shared(&before);
	base = sleeps_of(&before);
	if (pthread_create(&th, NULL, waiter_thread, &b)) {
		wp_wake_stats_bind(NULL);
		return -EAGAIN;
	}
	t0 = wp_time_real_ns();
	while (!err && (bud->ops ? r->rounds < bud->ops
				 : wp_time_real_ns() - t0 < bud->ns)) {
		uint64_t w0;

		err = wait_asleep(&b, base + r->rounds + 1);
		if (err)
			break;
		w0 = wp_time_real_ns();
		make_ready(pick(w));
		while (atomic_load(&b.acks) < r->rounds + 1)
			wp_cpu_relax();
		r->lat_ns += wp_time_real_ns() - w0;
		r->rounds++;
	}
	if (!err)
		err = wait_asleep(&b, base + r->rounds + 1);
	wp_wake_stats_shared(&after);
	atomic_store(&b.stop, true);
	make_ready(pick(w));
	pthread_join(th, NULL);
	wp_wake_stats_bind(NULL);
	r->cpu_ns = b.cpu_ns;
	r->scanned = scanned_of(&after) - scanned_of(&before);
	return err ? err : atomic_load(&b.err);
}

static double brun_lat(const struct brun *r)
{
	return r->rounds ? (double)r->lat_ns / (double)r->rounds : NAN;
}

static int by_lat(const void *a, const void *b)
{
	double x = brun_lat(a), y = brun_lat(b);

	return (x > y) - (x < y);
}

/* --- records ---------------------------------------------------------------
 */

static void report_ready(const struct wp_bench_opts *opts, const char *impl,
			 enum call call, unsigned n, struct run runs[REPS],
			 bool with_scanned)
{
	const struct run *med = &runs[REPS / 2];
	struct wp_bench_field f[] = {
		{ .key = "mode", .str = "ready" },
		{ .key = "impl", .str = impl },
		{ .key = "call", .str = call_names[call] },
		{ .key = "n", .value = n },
		{ .key = "ns_per_wait", .unit = "ns", .value = run_ns(med) },
		{ .key = "best", .unit = "ns", .value = run_ns(&runs[0]) },
		{ .key = "scanned",
		  .value = med->ops ? (double)med->scanned / (double)med->ops
				    : NAN },
		{ .key = NULL },
	};

	if (!with_scanned)
		f[6].key = NULL;
	wp_bench_report(opts, "poll", f);
}

static void report_blocked(const struct wp_bench_opts *opts, enum call call,
			   unsigned n, struct brun runs[REPS])
{
	const struct brun *med = &runs[REPS / 2];
	double rounds = med->rounds ? (double)med->rounds : NAN;
	struct wp_bench_field f[] = {
		{ .key = "mode", .str = "blocked" },
		{ .key = "impl", .str = "wirepath" },
		{ .key = "call", .str = call_names[call] },
		{ .key = "n", .value = n },
		{ .key = "latency", .unit = "ns", .value = brun_lat(med) },
		{ .key = "best", .unit = "ns", .value = brun_lat(&runs[0]) },
		{ .key = "waiter_cpu",
		  .unit = "ns",
		  .value = (double)med->cpu_ns / rounds },
		{ .key = "scanned", .value = (double)med->scanned / rounds },
		{ .key = NULL },
	};

	wp_bench_report(opts, "poll", f);
}

static void report_skip(const struct wp_bench_opts *opts, const char *impl,
			enum call call, unsigned n, const char *why)
{
	struct wp_bench_field f[] = {
		{ .key = "mode", .str = "ready" },
		{ .key = "impl", .str = impl },
		{ .key = "call", .str = call_names[call] },
		{ .key = "n", .value = n },
		{ .key = "skipped", .str = why },
		{ .key = NULL },
	};

	wp_bench_report(opts, "poll", f);
}

/* --- driver ------------------------------------------------------------------
 */

static struct budget budget_of(const struct wp_bench_opts *opts)
{
	struct budget b = { 0, 100 * WP_NSEC_PER_MSEC };

	if (opts->iterations)
		b.ops = opts->iterations;
	else if (opts->seconds > 0)
		b.ns = (uint64_t)(opts->seconds * 1e9);
	return b;
}

static int bench_ready(const struct wp_bench_opts *opts, enum call call,
		       unsigned n)
{
	struct budget bud = budget_of(opts);
	struct run runs[REPS];
	struct world w;
	struct kworld k;
	int err;

	err = world_init(&w, call, n);
	if (err)
		return err;
	err = ready_ops(&w, CHUNK); /* warm-up */
	for (int i = 0; !err && i < REPS; i++)
		err = ready_run(&w, &bud, &runs[i]);
	world_destroy(&w);
	if (err)
		return err;
	qsort(runs, REPS, sizeof(runs[0]), by_ns);
	report_ready(opts, "wirepath", call, n, runs, true);

	err = kworld_init(&k, call, n);
	if (err) {
		report_skip(opts, "kernel", call, n,
			    err == -EMFILE ? "RLIMIT_NOFILE" : strerror(-err));
		return 0;
	}
	err = kready_op(&k);
	for (int i = 0; !err && i < REPS; i++)
		err = kready_run(&k, &bud, &runs[i]);
	kworld_destroy(&k);
	if (err)
		return err;
	qsort(runs, REPS, sizeof(runs[0]), by_ns);
	report_ready(opts, "kernel", call, n, runs, false);
	return 0;
}

static int bench_blocked(const struct wp_bench_opts *opts, enum call call,
			 unsigned n)
{
	struct budget bud = budget_of(opts);
	struct brun runs[REPS];
	struct world w;
	int err;

	err = world_init(&w, call, n);
	if (err)
		return err;
	for (int i = 0; !err && i < REPS; i++)
		err = blocked_run(&w, &bud, &runs[i]);
	world_destroy(&w);
	if (err)
		return err;
	qsort(runs, REPS, sizeof(runs[0]), by_lat);
	report_blocked(opts, call, n, runs);
	return 0;
}

/* Room for the kernel peer's eventfds at the largest N. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int bench_poll(const struct wp_bench_opts *opts)
{
	bool ready = true, blocked = true;
	int err = 0;

	for (int i = 0; i < opts->argc; i++) {
		if (!strcmp(opts->argv[i], "ready")) {
			blocked = false;
		} else if (!strcmp(opts->argv[i], "blocked")) {
			ready = false;
		} else {
			fprintf(stderr,
				"bench poll: unknown argument '%s' "
				"(ready or blocked)\n",
				opts->argv[i]);
			return -EINVAL;
		}
	}
	raise_nofile();
	for (unsigned s = 0; !err && s < WP_ARRAY_SIZE(sizes); s++)
		for (int c = 0; !err && ready && c < CALL__MAX; c++)
			err = bench_ready(opts, (enum call)c, sizes[s]);
	for (unsigned s = 0; !err && s < WP_ARRAY_SIZE(sizes); s++)
		for (int c = 0; !err && blocked && c < CALL__MAX; c++)
			err = bench_blocked(opts, (enum call)c, sizes[s]);
	if (err)
		fprintf(stderr, "bench poll: %s\n", strerror(-err));
	return err;
}

WP_BENCH_REGISTER(bench_poll, "poll",
		  "select/poll O(N) vs epoll O(1): one wake-up + one wait");
