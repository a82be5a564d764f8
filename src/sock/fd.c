// SPDX-License-Identifier: MIT
#include "sock/fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock/epoll.h"
#include "wirepath/socket.h"

/* --- files ------------------------------------------------------------- */

struct wp_file *wp_file_alloc(const struct wp_file_ops *ops, void *private_data,
			      struct wp_wait_queue *wq)
{
	struct wp_file *f = calloc(1, sizeof(*f));

	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	atomic_init(&f->f_count, 1);
	f->f_op = ops;
	f->private_data = private_data;
	f->f_wq = wq;
	pthread_mutex_init(&f->f_lock, NULL);
	wp_list_init(&f->f_ep_links);
	return f;
}

void wp_file_put(struct wp_file *f)
{
	if (!f)
		return;
	/* acq_rel: the last putter sees every write made under other refs. */
	if (atomic_fetch_sub_explicit(&f->f_count, 1, memory_order_acq_rel) !=
	    1)
		return;
	/* Linux __fput: leave the epoll instances before the release. */
	wp__eventpoll_release(f);
	f->f_op->release(f);
	pthread_mutex_destroy(&f->f_lock);
	free(f);
}

void wp__file_discard(struct wp_file *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->f_lock);
	free(f);
}

/* --- bitmaps ----------------------------------------------------------- */

#define BITS 64u

static unsigned words_for(unsigned nbits)
{
	return (nbits + BITS - 1) / BITS;
}

/* First zero bit at or after start, below nbits; nbits if none. */
static unsigned find_next_zero_bit(const uint64_t *w, unsigned nbits,
				   unsigned start)
{
	unsigned i = start / BITS;
	uint64_t word;

	if (start >= nbits)
		return nbits;
	word = ~w[i] & (~0ULL << (start % BITS));
	for (;;) {
		if (word) {
			unsigned bit =
				i * BITS + (unsigned)__builtin_ctzll(word);

			return bit < nbits ? bit : nbits;
		}
		if (++i >= words_for(nbits))
			return nbits;
		word = ~w[i];
	}
}

/* --- the table -------------------------------------------------------- */

static void fdtable_init(struct wp_fdtable *t, unsigned max_fds,
			 struct wp_clock *clock)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->max_fds = max_fds;
	wp_clock_init_real(&t->real_clock);
	t->clock = clock ? clock : &t->real_clock;
}

struct wp_fdtable *wp_fdtable_create(unsigned max_fds, struct wp_clock *clock)
{
	struct wp_fdtable *t;

	if (max_fds == 0 || max_fds > WP_FD_HARD_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = malloc(sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	fdtable_init(t, max_fds, clock);
	return t;
}

static void fdtable_close_all(struct wp_fdtable *t)
{
	for (unsigned fd = 0; fd < t->size; fd++)
		wp_fd_close(t, (int)fd);
}

void wp_fdtable_destroy(struct wp_fdtable *t)
{
	if (!t)
		return;
	fdtable_close_all(t);
	free(t->fd);
	free(t->open_fds);
	free(t->full_fds_bits);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int wp_fdtable_set_max(struct wp_fdtable *t, unsigned max_fds)
{
	if (max_fds == 0 || max_fds > WP_FD_HARD_MAX)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	t->max_fds = max_fds;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

unsigned wp_fdtable_nr_open(struct wp_fdtable *t)
{
	unsigned n;

	pthread_mutex_lock(&t->lock);
	n = t->nr_open;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static struct wp_fdtable default_table;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static _Atomic(struct wp_fdtable *) current_table;

static void default_table_init(void)
{
	fdtable_init(&default_table, WP_FD_DEFAULT_MAX, NULL);
}

static struct wp_fdtable *default_fdtable(void)
{
	pthread_once(&default_once, default_table_init);
	return &default_table;
}

struct wp_fdtable *wp_fdtable_current(void)
{
	struct wp_fdtable *t =
		atomic_load_explicit(&current_table, memory_order_acquire);

	return t ? t : default_fdtable();
}

struct wp_fdtable *wp_fdtable_set_current(struct wp_fdtable *t)
{
	struct wp_fdtable *old = atomic_exchange_explicit(&current_table, t,
							  memory_order_acq_rel);

	return old ? old : default_fdtable();
}

/*
 * expand_fdtable: grow to hold descriptor nr, doubling, capped at max_fds
 * rounded up to a word. Called with t->lock held; lookups take the same
 * lock, so moving the arrays is safe. 0 or -ENOMEM (table unchanged).
 */
static int expand_fdtable(struct wp_fdtable *t, unsigned nr)
{
	unsigned cap = words_for(t->max_fds) * BITS;
	unsigned nsize = t->size ? t->size : BITS;
	unsigned owords = words_for(t->size), nwords;
	unsigned ofull = words_for(owords), nfull;
	struct wp_file **fd;
	uint64_t *open, *full;

	while (nsize <= nr)
		nsize *= 2;
	if (nsize > cap)
		nsize = cap;
	nwords = nsize / BITS;
	nfull = words_for(nwords);

	fd = calloc(nsize, sizeof(*fd));
	open = calloc(nwords, sizeof(*open));
	full = calloc(nfull, sizeof(*full));
	if (!fd || !open || !full) {
		free(fd);
		free(open);
		free(full);
		return -ENOMEM;
	}
	if (t->size) {
		memcpy(fd, t->fd, t->size * sizeof(*fd));
		memcpy(open, t->open_fds, owords * sizeof(*open));
		memcpy(full, t->full_fds_bits, ofull * sizeof(*full));
	}
	free(t->fd);
	free(t->open_fds);
	free(t->full_fds_bits);
	t->fd = fd;
	t->open_fds = open;
	t->full_fds_bits = full;
	t->size = nsize;
	return 0;
}

/* Lowest free slot at or after start, or t->size if every slot is taken. */
static unsigned find_next_fd(struct wp_fdtable *t, unsigned start)
{
	unsigned nwords = t->size / BITS;
	unsigned word =
		find_next_zero_bit(t->full_fds_bits, nwords, start / BITS);

	if (word >= nwords)
		return t->size;
	if (word * BITS > start)
		start = word * BITS;
	return find_next_zero_bit(t->open_fds, t->size, start);
}

static void set_open_fd(struct wp_fdtable *t, unsigned fd)
{
	unsigned w = fd / BITS;

	t->open_fds[w] |= 1ULL << (fd % BITS);
	if (t->open_fds[w] == ~0ULL)
		t->full_fds_bits[w / BITS] |= 1ULL << (w % BITS);
}

static void clear_open_fd(struct wp_fdtable *t, unsigned fd)
{
	unsigned w = fd / BITS;

	t->open_fds[w] &= ~(1ULL << (fd % BITS));
	t->full_fds_bits[w / BITS] &= ~(1ULL << (w % BITS));
}

int wp_fd_install(struct wp_fdtable *t, struct wp_file *f)
{
	unsigned fd;
	int ret;

	pthread_mutex_lock(&t->lock);
	fd = find_next_fd(t, t->next_fd);
	if (fd >= t->max_fds) {
		ret = -EMFILE;
		goto out_unlock;
	}
	if (fd >= t->size) {
		ret = expand_fdtable(t, fd);
		if (ret)
			goto out_unlock;
	}
	set_open_fd(t, fd);
	t->fd[fd] = f;
	t->next_fd = fd + 1;
	t->nr_open++;
	ret = (int)fd;
out_unlock:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

struct wp_file *wp_fdget(struct wp_fdtable *t, int fd)
{
	struct wp_file *f = NULL;

	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && (unsigned)fd < t->size && t->fd[fd])
		f = wp_file_get(t->fd[fd]);
	pthread_mutex_unlock(&t->lock);
	return f;
}

int wp_fd_close(struct wp_fdtable *t, int fd)
{
	struct wp_file *f = NULL;

	pthread_mutex_lock(&t->lock);
	if (fd >= 0 && (unsigned)fd < t->size && t->fd[fd]) {
		f = t->fd[fd];
		t->fd[fd] = NULL;
		clear_open_fd(t, (unsigned)fd);
		if ((unsigned)fd < t->next_fd)
			t->next_fd = (unsigned)fd;
		t->nr_open--;
	}
	pthread_mutex_unlock(&t->lock);
	if (!f)
		return -EBADF;
	/* Outside the table lock: the release may close a whole socket. */
	wp_file_put(f);
	return 0;
}

int wp_close(int fd)
{
	int ret = wp_fd_close(wp_fdtable_current(), fd);

	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}
