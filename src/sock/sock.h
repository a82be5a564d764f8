/* SPDX-License-Identifier: MIT */
/*
 * struct wp_sock: the network-layer socket (Linux struct sock), the base
 * every protocol socket embeds first (struct udp_sock, struct tcp_sock).
 *
 * Two sides touch a socket:
 *   - its core thread (the one whose RSS queue the flow hashes to) owns
 *     it: protocol input runs there, takes the socket lock briefly to
 *     queue an skb, and calls sk_data_ready;
 *   - application threads reach it through the system-call boundary,
 *     take the socket lock briefly in syscalls (dequeue under the lock,
 *     copy after), and sleep on sk_wq.
 * Fields are grouped by who writes them, so the core thread and an
 * application do not share cache lines they both write except the
 * receive queue and the wait queue, which they must share.
 *
 * Readiness: the protocol's poll op returns the current
 * WP_EPOLLIN/OUT/ERR/HUP/RDHUP mask, lock-free (it may be called for
 * thousands of sockets per select). When readiness changes, the protocol
 * calls the matching callback; the defaults wake sk_wq with the mask
 * Linux uses, which runs pollwake or ep_poll_callback for each waiter.
 *
 * Memory: sk_rmem_alloc counts the truesize of the skbs on
 * sk_receive_queue (charged when queued, released when dequeued), and is
 * what sk_rcvbuf bounds: a full socket drops and counts
 * (WP_DROP_SOCKET_RCVBUFF). sk_wmem_alloc is charged and released by the
 * protocol's transmit path against sk_sndbuf.
 *
 * Lifetime: sk_refcnt counts holders (the file, lookup tables, timers,
 * an input path that found the socket). The last wp_sock_put() purges
 * the receive queue and calls sk_prot->free to release the memory.
 */
#ifndef WP_SOCK_SOCK_H
#define WP_SOCK_SOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "skb/skb.h"
#include "sock/wait.h"
#include "wirepath/socket.h"

struct wp_sock;
struct wp_sysctl;
struct wp_file;

/* sk_userlocks: a size the application chose, which auto-tuning leaves
 * alone (Linux SOCK_RCVBUF_LOCK, SOCK_SNDBUF_LOCK). */
#define WP_SOCK_SNDBUF_LOCK 1u
#define WP_SOCK_RCVBUF_LOCK 2u

/* sk_state values: Linux include/net/tcp_states.h, for every socket type. */
enum wp_sk_state {
	WP_TCP_ESTABLISHED = 1,
	WP_TCP_SYN_SENT,
	WP_TCP_SYN_RECV,
	WP_TCP_FIN_WAIT1,
	WP_TCP_FIN_WAIT2,
	WP_TCP_TIME_WAIT,
	WP_TCP_CLOSE,
	WP_TCP_CLOSE_WAIT,
	WP_TCP_LAST_ACK,
	WP_TCP_LISTEN,
	WP_TCP_CLOSING,
	WP_TCP_NEW_SYN_RECV,
};

/* sk_shutdown bits (Linux RCV_SHUTDOWN, SEND_SHUTDOWN). */
#define WP_RCV_SHUTDOWN 1u
#define WP_SEND_SHUTDOWN 2u
#define WP_SHUTDOWN_MASK 3u

/* sk_flags bits (Linux enum sock_flags). */
enum wp_sock_flag {
	WP_SOCK_DEAD, /* orphaned: its file is gone, wake nobody */
	WP_SOCK_DONE, /* protocol finished: no more data will arrive */
};

/* Defaults when no sysctl block is given: net.core.{r,w}mem_default. */
#define WP_SK_RMEM_DEFAULT 212992
#define WP_SK_WMEM_DEFAULT 212992

/*
 * What the sock layer asks of a protocol (Linux struct proto and the
 * poll of struct proto_ops). Protocols add their operations here.
 */
struct wp_proto {
	const char *name;
	/*
	 * Required. The current readiness: WP_EPOLL* bits. Called without
	 * the socket lock, from any thread, possibly for every socket of a
	 * large select: read atomics, take no lock, never sleep.
	 */
	uint32_t (*poll)(struct wp_sock *sk);
	/*
	 * Optional. The last descriptor was closed: unhash, start a
	 * protocol close. Does not consume the file's reference on sk,
	 * which is dropped right after it returns.
	 */
	void (*close)(struct wp_sock *sk);
	/* Required. The last reference is gone: free the containing object. */
	void (*free)(struct wp_sock *sk);
};

struct wp_sock {
	/* --- set at creation, read-mostly --------------------------------- */
	uint16_t sk_family;
	uint16_t sk_type;
	uint16_t sk_protocol;
	int sk_cpu; /* owning core, -1 until hashed */
	const struct wp_proto *sk_prot;
	struct wp_clock *sk_clock; /* the stack's clock, for trace stamps */
	void (*sk_data_ready)(struct wp_sock *sk, struct wp_skb *skb);
	void (*sk_write_space)(struct wp_sock *sk);
	void (*sk_state_change)(struct wp_sock *sk);
	void (*sk_error_report)(struct wp_sock *sk);
	void *sk_user_data;
	const struct wp_sysctl *sk_sysctl; /* the stack's; NULL: defaults */

	/* --- both sides: lifetime, state, limits (atomics) --------------- */
	_Atomic uint32_t sk_refcnt;
	_Atomic uint8_t sk_state;	/* enum wp_sk_state */
	_Atomic uint8_t sk_shutdown;	/* WP_*_SHUTDOWN */
	_Atomic int sk_err;		/* pending error, positive errno */
	_Atomic int sk_rcvbuf;		/* bytes; SO_RCVBUF */
	_Atomic int sk_sndbuf;		/* bytes; SO_SNDBUF */
	_Atomic uint8_t sk_userlocks;	/* WP_SOCK_*_LOCK: set by the user */
	_Atomic uint32_t sk_ll_usec;	/* SO_BUSY_POLL; net.core.busy_read */
	_Atomic uint32_t sk_wmem_alloc; /* bytes charged by transmit */
	struct wp_file *sk_file;	/* NULL once orphaned */
	uint32_t sk_flags;		/* 1 << enum wp_sock_flag; lock */

	/* --- receive side: written by the core thread under the lock ----- */
	_Alignas(WP_CACHELINE) pthread_mutex_t sk_lock;
	struct wp_skb_queue sk_receive_queue;
	_Atomic uint32_t sk_rmem_alloc; /* truesize of sk_receive_queue */
	_Atomic uint32_t sk_drops;	/* receive drops (Linux sk_drops) */
	/* skbs ever queued by wp_sock_queue_rcv_skb{,_list}: datagrams */
	_Atomic uint64_t sk_rcv_queued;

	/* --- sleepers ------------------------------------------------------
	 */
	_Alignas(WP_CACHELINE) struct wp_wait_queue sk_wq;
};

/*
 * sk_prot_alloc: zeroed memory for a protocol sock (a struct that embeds
 * struct wp_sock), aligned to a cache line as struct wp_sock requires
 * (its groups sit on separate lines, as a slab cache with
 * SLAB_HWCACHE_ALIGN gives Linux). Release with free(). NULL with errno
 * ENOMEM. Control path.
 */
void *wp_sk_alloc(size_t size);

/*
 * sock_init_data: initialise an embedded sock with one reference (the
 * creator's), state WP_TCP_CLOSE, the default callbacks, and rcvbuf and
 * sndbuf from sysctl (net.core.rmem_default/wmem_default; NULL: the Linux
 * defaults). prot must provide poll and free.
 */
void wp_sock_init(struct wp_sock *sk, const struct wp_proto *prot,
		  uint16_t family, uint16_t type, uint16_t protocol,
		  const struct wp_sysctl *sysctl);

static inline void wp_sock_hold(struct wp_sock *sk)
{
	atomic_fetch_add_explicit(&sk->sk_refcnt, 1, memory_order_relaxed);
}

/* Drop a reference; the last one purges the queue and frees (sk_free). */
void wp_sock_put(struct wp_sock *sk);

/* lock_sock / release_sock. Hold it briefly: never across a copy or a sleep. */
static inline void wp_lock_sock(struct wp_sock *sk)
{
	pthread_mutex_lock(&sk->sk_lock);
}

static inline void wp_release_sock(struct wp_sock *sk)
{
	pthread_mutex_unlock(&sk->sk_lock);
}

static inline bool wp_sock_flag(const struct wp_sock *sk, enum wp_sock_flag f)
{
	return sk->sk_flags & (1u << f);
}

/* Caller holds the socket lock. */
static inline void wp_sock_set_flag(struct wp_sock *sk, enum wp_sock_flag f)
{
	sk->sk_flags |= 1u << f;
}

static inline int wp_sk_state(const struct wp_sock *sk)
{
	return atomic_load_explicit(&((struct wp_sock *)sk)->sk_state,
				    memory_order_acquire);
}

/* Set sk_state; the caller then calls sk_state_change if waiters care. */
static inline void wp_sk_set_state(struct wp_sock *sk, enum wp_sk_state st)
{
	atomic_store_explicit(&sk->sk_state, (uint8_t)st, memory_order_release);
}

/* What an skb costs its socket: wp_skb_truesize() (skb/skb.h). */

/* --- receive queue ------------------------------------------------------ */

/*
 * A sampled skb was just put on sk_receive_queue, the socket lock still
 * held: stamp QUEUED, and DATA_READY for the sk_data_ready call that
 * follows as the lock drops. DATA_READY is stamped here because after
 * the unlock a reader that is awake may dequeue, copy and stamp READ
 * before the wake-up loop returns, and a journey's times must not go
 * backwards. Not sampled: one load.
 */
static inline void wp_sock_stamp_queued(struct wp_sock *sk, struct wp_skb *skb)
{
	if (!skb->stamps || !sk->sk_clock)
		return;
	wp_skb_stamp(skb, WP_STAMP_QUEUED, wp_clock_now(sk->sk_clock));
	wp_skb_stamp(skb, WP_STAMP_DATA_READY, wp_clock_now(sk->sk_clock));
}

/*
 * sock_queue_rcv_skb: charge skb to sk and queue it, then call
 * sk_data_ready(sk, skb). Consumes skb, always: on failure it is dropped
 * and counted, and sk_drops goes up:
 *   -ENOMEM  sk_rmem_alloc already at or above sk_rcvbuf
 *            (WP_DROP_SOCKET_RCVBUFF; one skb may overshoot, as in Linux)
 *   -EPIPE   the socket is orphaned (WP_DROP_SOCKET_CLOSED)
 * Takes the socket lock; call it without.
 */
int wp_sock_queue_rcv_skb(struct wp_sock *sk, struct wp_skb *skb);

/* What wp_sock_queue_rcv_skb_list did with a list, skb by skb. */
struct wp_sock_rcv_result {
	uint32_t queued; /* on sk_receive_queue */
	uint32_t rcvbuf; /* dropped: the socket was full (-ENOMEM above) */
	uint32_t closed; /* dropped: the socket was orphaned (-EPIPE) */
};

/*
 * The same for a list of skbs bound for one socket (what a protocol
 * gathered over one NAPI poll), in order, with the rules above applied
 * to each: one lock, one charge and one sk_data_ready for the lot
 * instead of one each. Consumes every skb of skbs (left empty).
 * sk_data_ready is given the first sampled skb of the list, and the
 * others learn the same wake functions. (A list with more than a few
 * sampled skbs is taken in rounds of one lock and one wake-up each.)
 */
void wp_sock_queue_rcv_skb_list(struct wp_sock *sk, struct wp_skb_queue *skbs,
				struct wp_sock_rcv_result *res);

/*
 * Dequeue the first skb and release its charge; NULL if the queue is
 * empty. The caller owns the skb. Takes the socket lock; if space was
 * freed, nothing is woken (receive space is the protocol's business,
 * e.g. a TCP window update).
 */
struct wp_skb *wp_sock_dequeue_rcv_skb(struct wp_sock *sk);

/* True if skbs are queued, without the lock (skb_queue_empty_lockless). */
static inline bool wp_sock_rcvq_ready(const struct wp_sock *sk)
{
	return atomic_load_explicit(&((struct wp_sock *)sk)->sk_rmem_alloc,
				    memory_order_acquire) != 0;
}

/* --- transmit memory ---------------------------------------------------- */

/* sock_writeable: less than half of sk_sndbuf is in flight. */
static inline bool wp_sock_writeable(const struct wp_sock *sk)
{
	struct wp_sock *s = (struct wp_sock *)sk;

	return atomic_load_explicit(&s->sk_wmem_alloc, memory_order_relaxed) <
	       (uint32_t)atomic_load_explicit(&s->sk_sndbuf,
					      memory_order_relaxed) /
		       2;
}

static inline void wp_sock_wmem_charge(struct wp_sock *sk, uint32_t bytes)
{
	atomic_fetch_add_explicit(&sk->sk_wmem_alloc, bytes,
				  memory_order_relaxed);
}

/* sock_wfree: release transmit memory and call sk_write_space. */
void wp_sock_wmem_uncharge(struct wp_sock *sk, uint32_t bytes);

/* --- errors and shutdown -------------------------------------------------- */

/* Record a pending error (positive errno) and call sk_error_report. */
void wp_sock_set_err(struct wp_sock *sk, int err);

/* sock_error: take the pending error: 0 or a negative errno. */
static inline int wp_sock_error(struct wp_sock *sk)
{
	int err;

	if (!atomic_load_explicit(&sk->sk_err, memory_order_relaxed))
		return 0;
	err = atomic_exchange_explicit(&sk->sk_err, 0, memory_order_acq_rel);
	return -err;
}

/* Set WP_*_SHUTDOWN bits and call sk_state_change. */
void wp_sock_shutdown(struct wp_sock *sk, uint32_t how);

/* --- default callbacks (Linux sock_def_*) ------------------------------ */

/* sock_def_readable: EPOLLIN|PRI|RDNORM|RDBAND, one exclusive waiter. */
void wp_sock_def_readable(struct wp_sock *sk, struct wp_skb *skb);
/* sock_def_write_space: EPOLLOUT|WRNORM|WRBAND once writeable. */
void wp_sock_def_write_space(struct wp_sock *sk);
/* sock_def_wakeup: a state change wakes everyone, with no key. */
void wp_sock_def_wakeup(struct wp_sock *sk);
/* sock_def_error_report: EPOLLERR. */
void wp_sock_def_error_report(struct wp_sock *sk);

/*
 * datagram_poll: the poll op of datagram sockets. ERR if sk_err, RDHUP
 * and IN on receive shutdown, HUP on full shutdown, IN|RDNORM when skbs
 * are queued, OUT|WRNORM|WRBAND when writeable. Lock-free.
 */
uint32_t wp_datagram_poll(struct wp_sock *sk);

/* --- sleeping on a socket (sk_wait_event) ------------------------------ */

/*
 * sk_busy_loop: before a blocking call sleeps, spin on the socket for up
 * to its sk_ll_usec microseconds of real time (SO_BUSY_POLL, by default
 * net.core.busy_read), looking for events: the reader that catches its
 * data this way pays no sleep and no wake-up. The core threads keep
 * polling the NIC (their pools are theirs alone), so unlike Linux the
 * spinning thread does not run the NAPI poll itself; what it saves is the
 * wait queue's round trip. Returns the events found, 0 if none (or
 * sk_ll_usec is 0: then it does not spin at all).
 */
uint32_t wp_sock_busy_loop(struct wp_sock *sk, uint32_t events);

/*
 * Spin for up to usec microseconds of real time until ready() says yes.
 * True if it did. The loop of wp_sock_busy_loop, for poll and select.
 */
bool wp_busy_loop(uint32_t usec, bool (*ready)(void *arg), void *arg);

/*
 * Sleep until sk_prot->poll(sk) has one of `events` (ERR and HUP always
 * count), or until `clock` reaches deadline_ns (WP_TIME_NEVER: forever;
 * a deadline already past checks once). Returns the poll mask (> 0) or
 * -ETIMEDOUT, or -ENOMEM. The caller holds a reference on sk and not its
 * lock. This is what a blocking recv/send/accept/connect sleeps in.
 */
int wp_sock_wait(struct wp_sock *sk, uint32_t events,
		 const struct wp_clock *clock, uint64_t deadline_ns);

/* --- descriptors ---------------------------------------------------------- */

/*
 * sock_map_fd: a new file for sk in the current descriptor table, at the
 * lowest free descriptor. On success the file takes over the caller's
 * reference on sk; on failure (-EMFILE, -ENOMEM) the caller keeps it.
 * Returns the descriptor or a negative errno. When the last reference to
 * the file goes: sk_prot->close, the sock is orphaned (WP_SOCK_DEAD),
 * and the file's reference is put.
 */
int wp_sock_map_fd(struct wp_sock *sk);

/*
 * sockfd_lookup: the sock behind fd in the current table, with a
 * reference on its file held for the caller; NULL with errno EBADF (not
 * open) or ENOTSOCK (an epoll descriptor). Release with wp_sockfd_put().
 */
struct wp_sock *wp_sockfd_lookup(int fd);
void wp_sockfd_put(struct wp_sock *sk);

#endif
