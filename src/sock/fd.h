/* SPDX-License-Identifier: MIT */
/*
 * Files and the descriptor table (Linux struct file, files_struct).
 *
 * A descriptor names a wp_file; a file is a socket or an epoll instance
 * behind a common face: a poll op that returns the current readiness
 * mask, the wait queue that wakes when it changes, and a release op for
 * when the last reference is gone. select, poll and epoll see only that
 * face.
 *
 * References: the table holds one per descriptor; every call that uses a
 * descriptor takes its own (wp_fdget) for its duration, so a close
 * racing a wait only drops the table's reference and the file lives
 * until the wait returns. When the last reference goes (__fput), the
 * file first leaves every epoll instance watching it, then is released.
 *
 * The table: descriptors are allocated lowest free number first (POSIX),
 * up to max_fds (RLIMIT_NOFILE; EMFILE beyond). Storage grows by doubling
 * on the control path (socket creation) up to max_fds. A mutex guards the
 * table; a lookup holds it for a few loads and an increment.
 *
 * A process has one current table, used by the public calls
 * (wp_poll, wp_epoll_*, wp_close...); it is created on first use with
 * the real clock and WP_FD_DEFAULT_MAX descriptors. A stack, a test or a
 * benchmark may install its own (wp_fdtable_set_current), e.g. on a
 * virtual clock.
 */
#ifndef WP_SOCK_FD_H
#define WP_SOCK_FD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/clock.h"
#include "sock/list.h"
#include "sock/wait.h"

#define WP_FD_DEFAULT_MAX 1024u	  /* Linux RLIMIT_NOFILE soft default */
#define WP_FD_HARD_MAX (1u << 20) /* Linux fs.nr_open */

struct wp_file;

enum wp_file_type {
	WP_FILE_SOCKET,
	WP_FILE_EPOLL,
};

struct wp_file_ops {
	enum wp_file_type type;
	/* Current readiness (WP_EPOLL* bits). Never sleeps. */
	uint32_t (*poll)(struct wp_file *f);
	/* The last reference is gone; epoll links are already removed. */
	void (*release)(struct wp_file *f);
};

struct wp_file {
	_Atomic uint32_t f_count;
	const struct wp_file_ops *f_op;
	void *private_data;	    /* struct wp_sock or struct wp_eventpoll */
	struct wp_wait_queue *f_wq; /* wakes when poll's answer changes */
	/* epitems watching this file (Linux f_ep), under f_lock. */
	pthread_mutex_t f_lock;
	struct wp_list_head f_ep_links;
};

/*
 * A new file with one reference (the caller's). NULL with errno ENOMEM.
 * Control path: allocates.
 */
struct wp_file *wp_file_alloc(const struct wp_file_ops *ops, void *private_data,
			      struct wp_wait_queue *wq);

static inline struct wp_file *wp_file_get(struct wp_file *f)
{
	atomic_fetch_add_explicit(&f->f_count, 1, memory_order_relaxed);
	return f;
}

/* fput: drop a reference; the last one removes epoll links, releases. */
void wp_file_put(struct wp_file *f);

/* Free a file that was never installed nor shared, without its release. */
void wp__file_discard(struct wp_file *f);

static inline uint32_t wp_file_poll(struct wp_file *f)
{
	return f->f_op->poll(f);
}

/* --- the table -------------------------------------------------------- */

struct wp_fdtable {
	pthread_mutex_t lock;
	struct wp_file **fd;	 /* size slots */
	uint64_t *open_fds;	 /* bit per slot: in use */
	uint64_t *full_fds_bits; /* bit per word of open_fds: word all ones */
	unsigned size;		 /* slots allocated, multiple of 64 */
	unsigned max_fds;	 /* allocation bound (EMFILE) */
	unsigned next_fd;	 /* no free slot below this */
	unsigned nr_open;
	struct wp_clock *clock; /* timeouts of poll/select/epoll_wait */
	struct wp_clock real_clock;
};

/*
 * A table allowing max_fds descriptors (1..WP_FD_HARD_MAX), with
 * timeouts on clock (NULL: the real clock). NULL with errno EINVAL or
 * ENOMEM.
 */
struct wp_fdtable *wp_fdtable_create(unsigned max_fds, struct wp_clock *clock);

/* Close every descriptor still open, then free. NULL: no-op. */
void wp_fdtable_destroy(struct wp_fdtable *t);

/*
 * setrlimit(RLIMIT_NOFILE): change the bound (1..WP_FD_HARD_MAX).
 * Descriptors already open above it stay open. 0 or -EINVAL.
 */
int wp_fdtable_set_max(struct wp_fdtable *t, unsigned max_fds);

unsigned wp_fdtable_nr_open(struct wp_fdtable *t);

/* The current table (created on first use). */
struct wp_fdtable *wp_fdtable_current(void);

/* Install t as current (NULL: back to the default one). Returns the old. */
struct wp_fdtable *wp_fdtable_set_current(struct wp_fdtable *t);

/*
 * fd_install at the lowest free descriptor. Takes over the caller's
 * reference on f on success; on failure (-EMFILE, -ENOMEM) the caller
 * keeps it. Returns the descriptor or a negative errno.
 */
int wp_fd_install(struct wp_fdtable *t, struct wp_file *f);

/* fdget: the file behind fd with a reference for the caller, or NULL. */
struct wp_file *wp_fdget(struct wp_fdtable *t, int fd);

/*
 * Remove fd from the table and drop the table's reference. 0 or -EBADF.
 */
int wp_fd_close(struct wp_fdtable *t, int fd);

#endif
