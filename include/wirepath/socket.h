/* SPDX-License-Identifier: MIT */
/*
 * wirepath socket API: the system-call boundary of the stack.
 *
 * Calls follow POSIX: they return -1 and set errno on failure, with the
 * errno values Linux uses. Descriptors are small integers from the
 * stack's own descriptor table (not kernel descriptors): the lowest free
 * number first, up to a configurable bound (EMFILE beyond it). They are
 * shared by every thread of the process, and safe to close while another
 * thread waits on them: the object lives until the last call using it
 * returns.
 *
 * Readiness: three ways to wait for many sockets, with the costs the
 * seeds describe:
 *
 *   wp_select / wp_poll  register a wake-up entry (pollwake) on every
 *                        socket, scan all N, sleep; a wake-up makes the
 *                        caller rescan all N. O(N) per call and per wake.
 *   wp_epoll_*           the interest set is registered once
 *                        (wp_epoll_ctl); a socket becoming ready puts its
 *                        item on a ready list (ep_poll_callback, O(1)) and
 *                        wp_epoll_wait reads only that list: O(ready).
 *
 * Event bits have the Linux values, so WP_POLLIN == POLLIN == EPOLLIN.
 */
#ifndef WIREPATH_SOCKET_H
#define WIREPATH_SOCKET_H

#include <stdint.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- event bits (Linux values) ---------------------------------------- */

#define WP_POLLIN 0x0001u   /* data to read */
#define WP_POLLPRI 0x0002u  /* urgent data */
#define WP_POLLOUT 0x0004u  /* room to write */
#define WP_POLLERR 0x0008u  /* pending error (always reported) */
#define WP_POLLHUP 0x0010u  /* hung up (always reported) */
#define WP_POLLNVAL 0x0020u /* poll only: fd is not open */
#define WP_POLLRDNORM 0x0040u
#define WP_POLLRDBAND 0x0080u
#define WP_POLLWRNORM 0x0100u
#define WP_POLLWRBAND 0x0200u
#define WP_POLLMSG 0x0400u
#define WP_POLLRDHUP 0x2000u /* peer shut down its writing side */

#define WP_EPOLLIN WP_POLLIN
#define WP_EPOLLPRI WP_POLLPRI
#define WP_EPOLLOUT WP_POLLOUT
#define WP_EPOLLERR WP_POLLERR
#define WP_EPOLLHUP WP_POLLHUP
#define WP_EPOLLNVAL WP_POLLNVAL
#define WP_EPOLLRDNORM WP_POLLRDNORM
#define WP_EPOLLRDBAND WP_POLLRDBAND
#define WP_EPOLLWRNORM WP_POLLWRNORM
#define WP_EPOLLWRBAND WP_POLLWRBAND
#define WP_EPOLLMSG WP_POLLMSG
#define WP_EPOLLRDHUP WP_POLLRDHUP
/* Wake only one of the epoll instances watching a socket (ADD only). */
#define WP_EPOLLEXCLUSIVE (1u << 28)
/* Accepted for compatibility; wirepath has no suspend to block. */
#define WP_EPOLLWAKEUP (1u << 29)
/* Report once, then disable the item until WP_EPOLL_CTL_MOD re-arms it. */
#define WP_EPOLLONESHOT (1u << 30)
/* Edge-triggered: report a change of readiness once, not while ready. */
#define WP_EPOLLET (1u << 31)

/* --- select / poll ------------------------------------------------------ */

struct wp_pollfd {
	int fd;	       /* < 0: ignored (revents 0) */
	short events;  /* WP_POLL* bits of interest */
	short revents; /* set by wp_poll: events & ready, | ERR | HUP | NVAL */
};

typedef unsigned long wp_nfds_t;

/*
 * Wait until one of fds is ready, or timeout_ms passes (< 0: forever,
 * 0: check once). Every call registers on all nfds sockets and scans all
 * of them, and each wake-up rescans all of them: O(nfds).
 *
 * Returns the number of entries with a nonzero revents (those with
 * WP_POLLNVAL included), 0 on timeout, or -1 with errno:
 *   EINVAL  nfds larger than the descriptor table's bound
 *   EFAULT  fds NULL with nfds > 0
 *   ENOMEM  no memory for the wait entries
 * A closed or never-opened fd is not an error: its revents is WP_POLLNVAL.
 * The timeout runs on the stack's clock.
 */
int wp_poll(struct wp_pollfd *fds, wp_nfds_t nfds, int timeout_ms);

/*
 * Descriptor sets for wp_select: one bit per descriptor, in 64-bit words.
 * A wp_fd_set holds WP_FD_SETSIZE descriptors; as with Linux select, the
 * call itself reads and writes (nfds + 63) / 64 words, so a caller with
 * more descriptors passes a larger array (WP_FD_SET_BYTES(nfds) bytes,
 * zeroed) and the helpers below work on it unchanged.
 */
#define WP_FD_SETSIZE 1024
#define WP_NFDBITS 64
#define WP_FD_SET_WORDS(nfds)                                                  \
	(((unsigned long)(nfds) + WP_NFDBITS - 1) / WP_NFDBITS)
#define WP_FD_SET_BYTES(nfds) (WP_FD_SET_WORDS(nfds) * sizeof(wp_fd_mask))

typedef uint64_t wp_fd_mask;

typedef struct wp_fd_set {
	wp_fd_mask fds_bits[WP_FD_SETSIZE / WP_NFDBITS];
} wp_fd_set;

static inline wp_fd_mask *wp__fd_words(wp_fd_set *s)
{
	return (wp_fd_mask *)(void *)s;
}

/* Clear the first WP_FD_SETSIZE bits (a larger array: memset it). */
static inline void wp_fd_zero(wp_fd_set *s)
{
	for (unsigned i = 0; i < WP_FD_SETSIZE / WP_NFDBITS; i++)
		s->fds_bits[i] = 0;
}

static inline void wp_fd_setbit(int fd, wp_fd_set *s)
{
	wp__fd_words(s)[fd / WP_NFDBITS] |= (wp_fd_mask)1 << (fd % WP_NFDBITS);
}

static inline void wp_fd_clr(int fd, wp_fd_set *s)
{
	wp__fd_words(s)[fd / WP_NFDBITS] &=
		~((wp_fd_mask)1 << (fd % WP_NFDBITS));
}

static inline int wp_fd_isset(int fd, wp_fd_set *s)
{
	return (wp__fd_words(s)[fd / WP_NFDBITS] >> (fd % WP_NFDBITS)) & 1;
}

/*
 * Wait until a descriptor in readfds is readable, one in writefds
 * writable, or one in exceptfds has urgent data; any set may be NULL.
 * On return the sets hold only the ready descriptors. timeout NULL
 * waits forever, {0, 0} checks once; otherwise it is updated to the time
 * not slept (as Linux does). Same O(N) mechanism as wp_poll, N being the
 * number of bits set below nfds.
 *
 * nfds larger than the descriptor table is cut down to it (Linux). Returns
 * the number of bits set in the three sets, 0 on timeout, or -1 with
 * errno:
 *   EINVAL  nfds < 0, or a negative or non-normalized timeout
 *   EBADF   a set holds a descriptor that is not open
 *   ENOMEM  no memory for the wait entries
 */
int wp_select(int nfds, wp_fd_set *readfds, wp_fd_set *writefds,
	      wp_fd_set *exceptfds, struct timeval *timeout);

/* --- epoll ---------------------------------------------------------- */

#define WP_EPOLL_CTL_ADD 1
#define WP_EPOLL_CTL_DEL 2
#define WP_EPOLL_CTL_MOD 3

#define WP_EPOLL_CLOEXEC 02000000 /* accepted; there is no exec */

typedef union wp_epoll_data {
	void *ptr;
	int fd;
	uint32_t u32;
	uint64_t u64;
} wp_epoll_data_t;

struct wp_epoll_event {
	uint32_t events;      /* WP_EPOLL* bits */
	wp_epoll_data_t data; /* returned as given to wp_epoll_ctl */
};

/*
 * A new epoll instance, as a descriptor (close it with wp_close).
 * flags: 0 or WP_EPOLL_CLOEXEC. Returns the descriptor, or -1 with
 * errno EINVAL (unknown flags), EMFILE (table full), ENOMEM.
 */
int wp_epoll_create1(int flags);

/* The old form: size is a hint that must be > 0 (EINVAL otherwise). */
int wp_epoll_create(int size);

/*
 * Add, modify or remove the interest of epfd in fd.
 *   ADD  watch fd for event->events (WP_EPOLLERR and WP_EPOLLHUP are
 *        always watched); if fd is ready now, it is queued at once.
 *   MOD  replace events and data; re-arms a WP_EPOLLONESHOT item.
 *   DEL  stop watching (event may be NULL).
 * Closing fd removes it from every epoll instance by itself (once no
 * call is still using it).
 *
 * Returns 0, or -1 with errno:
 *   EBADF   epfd or fd is not open
 *   EINVAL  epfd is not an epoll instance, fd == epfd, fd is an epoll
 *           instance (nesting is not supported), unknown op, or
 *           WP_EPOLLEXCLUSIVE with MOD, on an exclusive item, or with
 *           events other than IN, OUT, ERR, HUP, WAKEUP, ET
 *   EEXIST  ADD of a descriptor already watched
 *   ENOENT  MOD or DEL of a descriptor not watched
 *   EFAULT  event NULL for ADD or MOD
 *   ENOSPC  the instance watches as many descriptors as the table holds
 *   ENOMEM
 */
int wp_epoll_ctl(int epfd, int op, int fd, struct wp_epoll_event *event);

/*
 * Wait for events on epfd: fill at most maxevents entries of events from
 * the ready list and return how many, 0 on timeout (timeout_ms < 0:
 * forever; 0: do not sleep), or -1 with errno:
 *   EBADF   epfd is not open
 *   EINVAL  epfd is not an epoll instance, or maxevents <= 0 or too big
 *   EFAULT  events NULL
 * Cost: O(events returned), whatever the number of watched descriptors.
 * Level-triggered items still ready are queued again after being
 * reported; with more ready items than maxevents, successive calls
 * rotate through them. Several threads may wait on one instance; a
 * wake-up goes to one of them.
 */
int wp_epoll_wait(int epfd, struct wp_epoll_event *events, int maxevents,
		  int timeout_ms);

/* --- descriptors ------------------------------------------------------ */

/*
 * Release a descriptor (socket or epoll instance). The object goes away
 * when the last call still using it returns. 0, or -1 with errno EBADF.
 */
int wp_close(int fd);

#ifdef __cplusplus
}
#endif

#endif
