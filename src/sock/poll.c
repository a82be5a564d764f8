// SPDX-License-Identifier: MIT
/*
 * select and poll, as Linux fs/select.c does them.
 *
 * One call:
 *   1. first pass: for every descriptor, add a pollwake entry to its wait
 *      queue (__pollwait), then ask its poll op for the current mask;
 *   2. if nothing is ready, sleep;
 *   3. a wake-up (pollwake) only says "something changed somewhere": the
 *      caller rescans all N descriptors (without registering again);
 *   4. on the way out, remove all N entries (poll_freewait).
 * So every call costs O(N) registrations + O(N) per pass + O(N)
 * removals, and every wake-up costs another O(N) pass: the price epoll
 * avoids by keeping the interest set registered and a ready list.
 *
 * Once a descriptor is found ready, the rest of the first pass stops
 * registering (the call will not sleep), as Linux clears _qproc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/sysctl.h"
#include "sock/fd.h"
#include "sock/sock.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

/* Linux fs/select.c: what each select set means in poll bits. */
#define POLLIN_SET                                                             \
	(WP_EPOLLRDNORM | WP_EPOLLRDBAND | WP_EPOLLIN | WP_EPOLLHUP |          \
	 WP_EPOLLERR)
#define POLLOUT_SET                                                            \
	(WP_EPOLLWRBAND | WP_EPOLLWRNORM | WP_EPOLLOUT | WP_EPOLLERR)
#define POLLEX_SET (WP_EPOLLPRI)

/* Entries on the stack before falling back to one allocation. */
#define N_INLINE_POLL_ENTRIES 32

struct poll_table_entry {
	struct wp_file *filp;		 /* holds a reference */
	struct wp_wait_queue_entry wait; /* on filp->f_wq, func pollwake */
};

/* One poll/select call's wait state (Linux struct poll_wqueues). */
struct poll_wqueues {
	struct wp_waiter waiter;
	struct poll_table_entry *entries;
	unsigned nentries;
	unsigned capacity;
	struct poll_table_entry inline_entries[N_INLINE_POLL_ENTRIES];
	/* Busy poll before the first sleep, for this long: net.core.
	 * busy_poll, if a polled socket busy-polls (sk_ll_usec, as Linux's
	 * sk_can_busy_loop); 0 once spent. */
	uint32_t busy_usec;
};

/*
 * pollwake: a socket this caller registered on changed. Wake the caller
 * if the change is one it asked about; it will rescan everything.
 */
static int pollwake(struct wp_wait_queue_entry *e, uint32_t key)
{
	struct poll_wqueues *pwq = e->private;

	if (key && !(key & e->key))
		return 0;
	return wp_waiter_wake(&pwq->waiter);
}

static int poll_initwait(struct poll_wqueues *pwq, unsigned capacity)
{
	int err = wp_waiter_init(&pwq->waiter);

	if (err)
		return err;
	pwq->nentries = 0;
	pwq->capacity = capacity;
	pwq->busy_usec = 0;
	pwq->entries = pwq->inline_entries;
	if (capacity > N_INLINE_POLL_ENTRIES) {
		pwq->entries = malloc(capacity * sizeof(*pwq->entries));
		if (!pwq->entries) {
			wp_waiter_destroy(&pwq->waiter);
			return -ENOMEM;
		}
	}
	return 0;
}

/* __pollwait: register on f's wait queue for `key` events. */
static void poll_wait(struct poll_wqueues *pwq, struct wp_file *f, uint32_t key)
{
	struct poll_table_entry *pe;

	if (pwq->nentries == pwq->capacity)
		return; /* cannot happen: capacity is the number of fds */
	pe = &pwq->entries[pwq->nentries++];
	pe->filp = wp_file_get(f);
	wp_init_waitqueue_func_entry(&pe->wait, pollwake, pwq, key);
	pe->wait.kind = WP_WAKE_POLLWAKE;
	wp_add_wait_queue(f->f_wq, &pe->wait);
	if (f->f_op->type == WP_FILE_SOCKET) {
		const struct wp_sock *sk = f->private_data;

		if (atomic_load_explicit(&sk->sk_ll_usec,
					 memory_order_relaxed) &&
		    sk->sk_sysctl) {
			uint32_t u = (uint32_t)wp_sysctl_read(
				&sk->sk_sysctl->busy_poll);

			if (u > pwq->busy_usec)
				pwq->busy_usec = u;
		}
	}
}

/*
 * Before the first sleep of a call: spin for pwq->busy_usec re-running
 * pass(arg) (each a whole O(N) scan, counted as one) until it finds
 * something. True if it did: the caller looks again instead of sleeping.
 */
static bool poll_busy_loop(struct poll_wqueues *pwq, bool (*pass)(void *),
			   void *arg)
{
	uint32_t usec = pwq->busy_usec;

	if (!usec)
		return false;
	pwq->busy_usec = 0;
	wp__wake_stat_add(WP_WSTAT_POLL_BUSY_LOOPS, 1);
	if (!wp_busy_loop(usec, pass, arg))
		return false;
	wp__wake_stat_add(WP_WSTAT_POLL_BUSY_HITS, 1);
	return true;
}

/* poll_freewait: O(N) again, one lock per entry. */
static void poll_freewait(struct poll_wqueues *pwq)
{
	for (unsigned i = 0; i < pwq->nentries; i++) {
		struct poll_table_entry *pe = &pwq->entries[i];

		wp_remove_wait_queue(pe->filp->f_wq, &pe->wait);
		wp_file_put(pe->filp);
	}
	if (pwq->entries != pwq->inline_entries)
		free(pwq->entries);
	wp_waiter_destroy(&pwq->waiter);
}

/* The table's bound (max_fds) and, if size, its current size. */
static unsigned fdtable_limits(struct wp_fdtable *t, unsigned *size)
{
	unsigned max;

	pthread_mutex_lock(&t->lock);
	max = t->max_fds;
	if (size)
		*size = t->size;
	pthread_mutex_unlock(&t->lock);
	return max;
}

/* now + ms on the table's clock, saturating below WP_TIME_NEVER. */
static uint64_t deadline_after(const struct wp_clock *clock, uint64_t ns)
{
	uint64_t now = wp_clock_now(clock);

	if (ns >= WP_TIME_NEVER - 1 - now)
		return WP_TIME_NEVER - 1;
	return now + ns;
}

/* ---- poll -------------------------------------------------------------- */

/* do_pollfd: one descriptor of one pass. Returns revents. */
static uint16_t do_pollfd(struct wp_fdtable *t, struct wp_pollfd *pfd,
			  struct poll_wqueues *pwq, bool registering,
			  uint64_t *scanned)
{
	uint32_t filter, mask;
	struct wp_file *f;

	if (pfd->fd < 0)
		return 0;
	f = wp_fdget(t, pfd->fd);
	if (!f)
		return WP_POLLNVAL;
	filter = (uint16_t)pfd->events | WP_POLLERR | WP_POLLHUP;
	if (registering)
		poll_wait(pwq, f, filter);
	mask = wp_file_poll(f) & filter;
	(*scanned)++;
	wp_file_put(f);
	return (uint16_t)mask;
}

struct poll_pass {
	struct wp_fdtable *t;
	struct wp_pollfd *fds;
	wp_nfds_t nfds;
	struct poll_wqueues *pwq;
	bool registering;
	int count;
};

/* One pass over every descriptor; true if any has events. */
static bool poll_pass(void *arg)
{
	struct poll_pass *p = arg;
	uint64_t scanned = 0;

	p->count = 0;
	for (wp_nfds_t i = 0; i < p->nfds; i++) {
		uint16_t revents = do_pollfd(p->t, &p->fds[i], p->pwq,
					     p->registering, &scanned);

		p->fds[i].revents = (short)revents;
		if (revents) {
			p->count++;
			p->registering = false;
		}
	}
	p->registering = false;
	wp__wake_stat_add(WP_WSTAT_POLL_SCANS, 1);
	wp__wake_stat_add(WP_WSTAT_POLL_FDS_SCANNED, scanned);
	return p->count != 0;
}

static int do_poll(struct wp_fdtable *t, struct wp_pollfd *fds, wp_nfds_t nfds,
		   struct poll_wqueues *pwq, uint64_t deadline_ns,
		   bool timed_out)
{
	struct poll_pass p = { t, fds, nfds, pwq, !timed_out, 0 };

	for (;;) {
		/* (timeout 0: never registers, never sleeps) */
		if (poll_pass(&p) || timed_out)
			return p.count;
		if (poll_busy_loop(pwq, poll_pass, &p))
			return p.count;
		wp__wake_stat_add(WP_WSTAT_POLL_SLEEPS, 1);
		/* On a timeout, one last pass, as Linux does. */
		if (wp_waiter_sleep(&pwq->waiter, t->clock, deadline_ns))
			timed_out = true;
	}
}

int wp_poll(struct wp_pollfd *fds, wp_nfds_t nfds, int timeout_ms)
{
	struct wp_fdtable *t = wp_fdtable_current();
	uint64_t deadline = WP_TIME_NEVER;
	struct poll_wqueues pwq;
	int ret;

	if (nfds > fdtable_limits(t, NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (!fds && nfds) {
		errno = EFAULT;
		return -1;
	}
	if (timeout_ms > 0)
		deadline = deadline_after(t->clock, (uint64_t)timeout_ms *
							    WP_NSEC_PER_MSEC);
	ret = poll_initwait(&pwq, (unsigned)nfds);
	if (ret) {
		errno = -ret;
		return -1;
	}
	wp__wake_stat_add(WP_WSTAT_POLL_CALLS, 1);
	ret = do_poll(t, fds, nfds, &pwq, deadline, timeout_ms == 0);
	poll_freewait(&pwq);
	return ret;
}

/* ---- select ------------------------------------------------------------ */

struct fd_sets {
	const wp_fd_mask *in, *out, *ex; /* caller's sets, NULL if absent */
	wp_fd_mask *res_in, *res_out, *res_ex;
};

static wp_fd_mask set_word(const wp_fd_mask *set, unsigned i)
{
	return set ? set[i] : 0;
}

/* Bits set in word i of any set, below n. */
static wp_fd_mask interest_word(const struct fd_sets *s, unsigned i, unsigned n)
{
	wp_fd_mask w =
		set_word(s->in, i) | set_word(s->out, i) | set_word(s->ex, i);
	unsigned top = n - i * WP_NFDBITS;

	if (top < WP_NFDBITS)
		w &= ((wp_fd_mask)1 << top) - 1;
	return w;
}

/*
 * One pass over every descriptor in the sets. Returns the number of
 * result bits set, or -EBADF (first pass only: a descriptor not open).
 */
static int select_pass(struct wp_fdtable *t, const struct fd_sets *s,
		       unsigned n, struct poll_wqueues *pwq, bool *registering,
		       bool first)
{
	unsigned words = (unsigned)WP_FD_SET_WORDS(n);
	uint64_t scanned = 0;
	int retval = 0;

	for (unsigned i = 0; i < words; i++) {
		wp_fd_mask all = interest_word(s, i, n);
		wp_fd_mask rin = 0, rout = 0, rex = 0;

		while (all) {
			unsigned b = (unsigned)__builtin_ctzll(all);
			wp_fd_mask bit = (wp_fd_mask)1 << b;
			bool in = set_word(s->in, i) & bit;
			bool out = set_word(s->out, i) & bit;
			bool ex = set_word(s->ex, i) & bit;
			struct wp_file *f;
			uint32_t mask;

			all &= all - 1;
			f = wp_fdget(t, (int)(i * WP_NFDBITS + b));
			if (!f) {
				if (first)
					return -EBADF;
				continue; /* closed since: not ready */
			}
			if (*registering)
				poll_wait(pwq, f,
					  POLLEX_SET | (in ? POLLIN_SET : 0) |
						  (out ? POLLOUT_SET : 0));
			mask = wp_file_poll(f);
			scanned++;
			wp_file_put(f);
			if (in && (mask & POLLIN_SET)) {
				rin |= bit;
				retval++;
			}
			if (out && (mask & POLLOUT_SET)) {
				rout |= bit;
				retval++;
			}
			if (ex && (mask & POLLEX_SET)) {
				rex |= bit;
				retval++;
			}
			if (retval)
				*registering = false;
		}
		s->res_in[i] = rin;
		s->res_out[i] = rout;
		s->res_ex[i] = rex;
	}
	wp__wake_stat_add(WP_WSTAT_POLL_SCANS, 1);
	wp__wake_stat_add(WP_WSTAT_POLL_FDS_SCANNED, scanned);
	return retval;
}

struct select_busy {
	struct wp_fdtable *t;
	const struct fd_sets *s;
	unsigned n;
	struct poll_wqueues *pwq;
	int retval;
};

static bool select_busy_pass(void *arg)
{
	struct select_busy *b = arg;
	bool registering = false;

	b->retval = select_pass(b->t, b->s, b->n, b->pwq, &registering, false);
	return b->retval > 0;
}

static int do_select(struct wp_fdtable *t, const struct fd_sets *s, unsigned n,
		     struct poll_wqueues *pwq, uint64_t deadline_ns,
		     bool timed_out)
{
	struct select_busy b = { t, s, n, pwq, 0 };
	bool registering = !timed_out;
	bool first = true;
	int retval;

	for (;;) {
		retval = select_pass(t, s, n, pwq, &registering, first);
		registering = false;
		first = false;
		if (retval || timed_out)
			return retval;
		if (poll_busy_loop(pwq, select_busy_pass, &b))
			return b.retval;
		wp__wake_stat_add(WP_WSTAT_POLL_SLEEPS, 1);
		if (wp_waiter_sleep(&pwq->waiter, t->clock, deadline_ns))
			timed_out = true;
	}
}

static unsigned count_interest(const struct fd_sets *s, unsigned n)
{
	unsigned count = 0;

	for (unsigned i = 0; i < WP_FD_SET_WORDS(n); i++)
		count += (unsigned)__builtin_popcountll(interest_word(s, i, n));
	return count;
}

/* Copy a result set out: the words covering n, bits above n cleared. */
static void set_fd_set(wp_fd_set *user, const wp_fd_mask *res, unsigned n)
{
	if (user)
		memcpy(user, res, WP_FD_SET_BYTES(n));
}

static void select_finish(struct wp_fdtable *t, struct timeval *tv,
			  uint64_t deadline_ns)
{
	uint64_t now, rem = 0;

	if (!tv)
		return;
	now = wp_clock_now(t->clock);
	if (now < deadline_ns)
		rem = deadline_ns - now;
	tv->tv_sec = (time_t)(rem / WP_NSEC_PER_SEC);
	tv->tv_usec = (suseconds_t)(rem % WP_NSEC_PER_SEC / WP_NSEC_PER_USEC);
}

int wp_select(int nfds, wp_fd_set *readfds, wp_fd_set *writefds,
	      wp_fd_set *exceptfds, struct timeval *timeout)
{
	struct wp_fdtable *t = wp_fdtable_current();
	uint64_t deadline = WP_TIME_NEVER;
	bool nonblock = false;
	struct poll_wqueues pwq;
	wp_fd_mask *res = NULL;
	struct fd_sets s;
	unsigned n, size, words;
	int ret;

	if (nfds < 0)
		goto out_inval;
	if (timeout) {
		uint64_t ns;

		if (timeout->tv_sec < 0 || timeout->tv_usec < 0 ||
		    timeout->tv_usec >= 1000000)
			goto out_inval;
		if ((uint64_t)timeout->tv_sec >=
		    WP_TIME_NEVER / WP_NSEC_PER_SEC)
			ns = WP_TIME_NEVER - 1;
		else
			ns = (uint64_t)timeout->tv_sec * WP_NSEC_PER_SEC +
			     (uint64_t)timeout->tv_usec * WP_NSEC_PER_USEC;
		nonblock = ns == 0;
		deadline = deadline_after(t->clock, ns);
	}

	/* Linux: nfds beyond the table cannot name an open descriptor. */
	n = (unsigned)nfds;
	fdtable_limits(t, &size);
	if (n > size)
		n = size;
	words = (unsigned)WP_FD_SET_WORDS(n);

	s.in = (const wp_fd_mask *)readfds;
	s.out = (const wp_fd_mask *)writefds;
	s.ex = (const wp_fd_mask *)exceptfds;
	res = calloc(3 * (size_t)words + 1, sizeof(*res));
	if (!res) {
		ret = -ENOMEM;
		goto out_free;
	}
	s.res_in = res;
	s.res_out = res + words;
	s.res_ex = res + 2 * words;
	ret = poll_initwait(&pwq, count_interest(&s, n));
	if (ret)
		goto out_free;

	wp__wake_stat_add(WP_WSTAT_POLL_CALLS, 1);
	ret = do_select(t, &s, n, &pwq, deadline, nonblock);
	poll_freewait(&pwq);
	if (ret >= 0) {
		set_fd_set(readfds, s.res_in, n);
		set_fd_set(writefds, s.res_out, n);
		set_fd_set(exceptfds, s.res_ex, n);
		if (timeout)
			select_finish(t, timeout, deadline);
	}

out_free:
	free(res);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;

out_inval:
	errno = EINVAL;
	return -1;
}
