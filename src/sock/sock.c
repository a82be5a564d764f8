// SPDX-License-Identifier: MIT
#include "sock/sock.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "core/sysctl.h"
#include "sock/fd.h"
#include "trace/trace.h"

/* Linux SOCK_STREAM and SOCK_SEQPACKET: the connection-based types. */
#define SOCK_TYPE_STREAM 1
#define SOCK_TYPE_SEQPACKET 5

#define POLL_READABLE                                                          \
	(WP_EPOLLIN | WP_EPOLLPRI | WP_EPOLLRDNORM | WP_EPOLLRDBAND)
#define POLL_WRITABLE (WP_EPOLLOUT | WP_EPOLLWRNORM | WP_EPOLLWRBAND)

void *wp_sk_alloc(size_t size)
{
	size_t rounded =
		(size + WP_CACHELINE - 1) / WP_CACHELINE * WP_CACHELINE;
	void *p = aligned_alloc(WP_CACHELINE, rounded);

	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	memset(p, 0, rounded);
	return p;
}

void wp_sock_init(struct wp_sock *sk, const struct wp_proto *prot,
		  uint16_t family, uint16_t type, uint16_t protocol,
		  const struct wp_sysctl *sysctl)
{
	memset(sk, 0, sizeof(*sk));
	sk->sk_family = family;
	sk->sk_type = type;
	sk->sk_protocol = protocol;
	sk->sk_cpu = -1;
	sk->sk_prot = prot;
	sk->sk_data_ready = wp_sock_def_readable;
	sk->sk_write_space = wp_sock_def_write_space;
	sk->sk_state_change = wp_sock_def_wakeup;
	sk->sk_error_report = wp_sock_def_error_report;

	atomic_init(&sk->sk_refcnt, 1);
	atomic_init(&sk->sk_state, WP_TCP_CLOSE);
	atomic_init(&sk->sk_shutdown, 0);
	atomic_init(&sk->sk_err, 0);
	atomic_init(&sk->sk_rcvbuf,
		    sysctl ? wp_sysctl_read(&sysctl->rmem_default)
			   : WP_SK_RMEM_DEFAULT);
	atomic_init(&sk->sk_sndbuf,
		    sysctl ? wp_sysctl_read(&sysctl->wmem_default)
			   : WP_SK_WMEM_DEFAULT);
	atomic_init(&sk->sk_wmem_alloc, 0);
	sk->sk_sysctl = sysctl;
	atomic_init(&sk->sk_ll_usec,
		    sysctl ? (uint32_t)wp_sysctl_read(&sysctl->busy_read) : 0);

	pthread_mutex_init(&sk->sk_lock, NULL);
	wp_skb_queue_init(&sk->sk_receive_queue);
	atomic_init(&sk->sk_rmem_alloc, 0);
	atomic_init(&sk->sk_drops, 0);
	atomic_init(&sk->sk_rcv_queued, 0);
	wp_init_waitqueue_head(&sk->sk_wq);
}

/* sk_free: the last reference is gone; nobody else can see sk. */
static void sk_free(struct wp_sock *sk)
{
	struct wp_skb *skb;

	/* Unread data dies with the socket: a drop, as Linux counts it. */
	while ((skb = wp_sock_dequeue_rcv_skb(sk)))
		wp_kfree_skb_reason(skb, WP_DROP_SOCKET_CLOSED);
	wp_destroy_waitqueue_head(&sk->sk_wq);
	pthread_mutex_destroy(&sk->sk_lock);
	sk->sk_prot->free(sk);
}

void wp_sock_put(struct wp_sock *sk)
{
	if (!sk)
		return;
	if (atomic_fetch_sub_explicit(&sk->sk_refcnt, 1,
				      memory_order_acq_rel) == 1)
		sk_free(sk);
}

/* --- receive queue ------------------------------------------------------ */

/* Free what a batch could not queue, after the socket lock is let go. */
static void rcv_drop_list(struct wp_sock *sk, struct wp_skb_queue *drops,
			  enum wp_drop_reason reason)
{
	struct wp_skb *skb;

	if (!drops->qlen)
		return;
	atomic_fetch_add_explicit(&sk->sk_drops, drops->qlen,
				  memory_order_relaxed);
	while ((skb = wp_skb_dequeue(drops)))
		wp_kfree_skb_reason(skb, reason);
}

/* Sampled skbs one round of the list pins; more start another round. */
#define RCV_TRACED_MAX 8

/* One lock, one charge, one wake-up for as much of skbs as it takes. */
static void rcv_round(struct wp_sock *sk, struct wp_skb_queue *skbs,
		      struct wp_sock_rcv_result *res)
{
	struct wp_skb *traced[RCV_TRACED_MAX];
	uint32_t ntraced = 0, queued = 0, charged = 0, rmem, rcvbuf;
	struct wp_skb_queue full;
	struct wp_skb *skb;

	wp_skb_queue_init(&full);
	wp_lock_sock(sk);
	if (wp_sock_flag(sk, WP_SOCK_DEAD)) {
		wp_release_sock(sk);
		res->closed += skbs->qlen;
		rcv_drop_list(sk, skbs, WP_DROP_SOCKET_CLOSED);
		return;
	}
	/*
	 * The charge moves only under this lock (readers release theirs
	 * under it too), so it is read once and the round's added once.
	 */
	rmem = atomic_load_explicit(&sk->sk_rmem_alloc, memory_order_relaxed);
	rcvbuf = (uint32_t)atomic_load_explicit(&sk->sk_rcvbuf,
						memory_order_relaxed);
	while (ntraced < RCV_TRACED_MAX && (skb = wp_skb_dequeue(skbs))) {
		if (rmem + charged >= rcvbuf) {
			wp_skb_queue_tail(&full, skb);
			continue;
		}
		charged += wp_skb_truesize(skb);
		skb->sk = sk;
		wp_skb_queue_tail(&sk->sk_receive_queue, skb);
		/* Under the lock: no reader frees it meanwhile. */
		wp_trace_tap_socket(skb);
		queued++;
		if (wp_unlikely(skb->stamps)) {
			/*
			 * Once the lock drops a reader may dequeue and free
			 * skb; a sampled skb is pinned so sk_data_ready can
			 * record in its stamps which wake functions ran.
			 */
			traced[ntraced++] = wp_skb_get(skb);
			wp_sock_stamp_queued(sk, skb);
		}
	}
	if (queued) {
		/* release: a lock-free poll that sees the charge sees the
		 * skbs. */
		atomic_fetch_add_explicit(&sk->sk_rmem_alloc, charged,
					  memory_order_release);
		atomic_fetch_add_explicit(&sk->sk_rcv_queued, queued,
					  memory_order_release);
	}
	wp_release_sock(sk);

	if (queued) {
		/* The round's wake-up; every sampled skb of it learns
		 * which wake functions ran. */
		sk->sk_data_ready(sk, ntraced ? traced[0] : NULL);
		for (uint32_t i = 0; i < ntraced; i++) {
			if (i)
				traced[i]->stamps->wake_kind |=
					traced[0]->stamps->wake_kind;
			wp_consume_skb(traced[i]);
		}
	}
	res->queued += queued;
	res->rcvbuf += full.qlen;
	rcv_drop_list(sk, &full, WP_DROP_SOCKET_RCVBUFF);
}

void wp_sock_queue_rcv_skb_list(struct wp_sock *sk, struct wp_skb_queue *skbs,
				struct wp_sock_rcv_result *res)
{
	*res = (struct wp_sock_rcv_result){ 0 };
	while (skbs->qlen)
		rcv_round(sk, skbs, res);
}

int wp_sock_queue_rcv_skb(struct wp_sock *sk, struct wp_skb *skb)
{
	struct wp_sock_rcv_result res;
	struct wp_skb_queue q;

	wp_skb_queue_init(&q);
	wp_skb_queue_tail(&q, skb);
	wp_sock_queue_rcv_skb_list(sk, &q, &res);
	if (res.closed)
		return -EPIPE;
	return res.rcvbuf ? -ENOMEM : 0;
}

struct wp_skb *wp_sock_dequeue_rcv_skb(struct wp_sock *sk)
{
	struct wp_skb *skb;

	wp_lock_sock(sk);
	skb = wp_skb_dequeue(&sk->sk_receive_queue);
	if (skb)
		atomic_fetch_sub_explicit(&sk->sk_rmem_alloc,
					  wp_skb_truesize(skb),
					  memory_order_relaxed);
	wp_release_sock(sk);
	return skb;
}

/* --- transmit memory, errors, shutdown --------------------------------- */

void wp_sock_wmem_uncharge(struct wp_sock *sk, uint32_t bytes)
{
	atomic_fetch_sub_explicit(&sk->sk_wmem_alloc, bytes,
				  memory_order_relaxed);
	sk->sk_write_space(sk);
}

void wp_sock_set_err(struct wp_sock *sk, int err)
{
	atomic_store_explicit(&sk->sk_err, err, memory_order_release);
	sk->sk_error_report(sk);
}

void wp_sock_shutdown(struct wp_sock *sk, uint32_t how)
{
	atomic_fetch_or_explicit(&sk->sk_shutdown,
				 (uint8_t)(how & WP_SHUTDOWN_MASK),
				 memory_order_release);
	sk->sk_state_change(sk);
}

/* --- default callbacks ------------------------------------------------- */

void wp_sock_def_readable(struct wp_sock *sk, struct wp_skb *skb)
{
	/* A sampled skb learns which wake functions ran (its DATA_READY
	 * stamp was taken as the socket lock dropped). */
	wp_wake_up_common(&sk->sk_wq, POLL_READABLE, 1, skb);
}

void wp_sock_def_write_space(struct wp_sock *sk)
{
	uint32_t wmem =
		atomic_load_explicit(&sk->sk_wmem_alloc, memory_order_relaxed);
	uint32_t sndbuf = (uint32_t)atomic_load_explicit(&sk->sk_sndbuf,
							 memory_order_relaxed);

	/* Linux: wake writers only once half the buffer is free again. */
	if ((uint64_t)wmem * 2 <= sndbuf)
		wp_wake_up(&sk->sk_wq, POLL_WRITABLE);
}

void wp_sock_def_wakeup(struct wp_sock *sk)
{
	wp_wake_up_all(&sk->sk_wq, 0);
}

void wp_sock_def_error_report(struct wp_sock *sk)
{
	wp_wake_up(&sk->sk_wq, WP_EPOLLERR);
}

uint32_t wp_datagram_poll(struct wp_sock *sk)
{
	uint8_t shutdown =
		atomic_load_explicit(&sk->sk_shutdown, memory_order_acquire);
	uint32_t mask = 0;

	if (atomic_load_explicit(&sk->sk_err, memory_order_acquire))
		mask |= WP_EPOLLERR;
	if (shutdown & WP_RCV_SHUTDOWN)
		mask |= WP_EPOLLRDHUP | WP_EPOLLIN | WP_EPOLLRDNORM;
	if (shutdown == WP_SHUTDOWN_MASK)
		mask |= WP_EPOLLHUP;
	if (wp_sock_rcvq_ready(sk))
		mask |= WP_EPOLLIN | WP_EPOLLRDNORM;
	if (sk->sk_type == SOCK_TYPE_STREAM ||
	    sk->sk_type == SOCK_TYPE_SEQPACKET) {
		int state = wp_sk_state(sk);

		if (state == WP_TCP_CLOSE)
			mask |= WP_EPOLLHUP;
		if (state == WP_TCP_SYN_SENT)
			return mask;
	}
	if (wp_sock_writeable(sk))
		mask |= POLL_WRITABLE;
	return mask;
}

/* --- sleeping ------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

bool wp_busy_loop(uint32_t usec, bool (*ready)(void *arg), void *arg)
{
	uint64_t end;

	if (!usec)
		return false;
	end = mono_ns() + (uint64_t)usec * WP_NSEC_PER_USEC;
	do {
		if (ready(arg))
			return true;
		wp_cpu_relax();
	} while (mono_ns() < end);
	return ready(arg);
}

struct busy_sk {
	struct wp_sock *sk;
	uint32_t want, mask;
};

static bool busy_sk_ready(void *arg)
{
	struct busy_sk *b = arg;

	b->mask = b->sk->sk_prot->poll(b->sk) & b->want;
	return b->mask != 0;
}

uint32_t wp_sock_busy_loop(struct wp_sock *sk, uint32_t events)
{
	struct busy_sk b = { sk, events | WP_EPOLLERR | WP_EPOLLHUP, 0 };

	wp_busy_loop(
		atomic_load_explicit(&sk->sk_ll_usec, memory_order_relaxed),
		busy_sk_ready, &b);
	return b.mask;
}

int wp_sock_wait(struct wp_sock *sk, uint32_t events,
		 const struct wp_clock *clock, uint64_t deadline_ns)
{
	uint32_t want = events | WP_EPOLLERR | WP_EPOLLHUP, mask;
	struct wp_wait_queue_entry wait;
	struct wp_waiter w;
	int ret;

	ret = wp_waiter_init(&w);
	if (ret)
		return ret;
	wp_init_waitqueue_func_entry(&wait, wp_default_wake_function, &w, want);
	wait.kind = WP_WAKE_DEFAULT;
	/* Register before checking: a wake between the two is not lost. */
	wp_add_wait_queue(&sk->sk_wq, &wait);
	for (;;) {
		mask = sk->sk_prot->poll(sk) & want;
		if (mask) {
			ret = (int)mask;
			break;
		}
		if (wp_waiter_sleep(&w, clock, deadline_ns) == -ETIMEDOUT) {
			mask = sk->sk_prot->poll(sk) & want;
			ret = mask ? (int)mask : -ETIMEDOUT;
			break;
		}
	}
	wp_remove_wait_queue(&sk->sk_wq, &wait);
	wp_waiter_destroy(&w);
	return ret;
}

/* --- descriptors ---------------------------------------------------------- */

static uint32_t sock_file_poll(struct wp_file *f)
{
	struct wp_sock *sk = f->private_data;

	return sk->sk_prot->poll(sk);
}

/* sock_close: the last reference to the file is gone. */
static void sock_file_release(struct wp_file *f)
{
	struct wp_sock *sk = f->private_data;

	if (sk->sk_prot->close)
		sk->sk_prot->close(sk);
	/* sock_orphan: from now on input drops (WP_DROP_SOCKET_CLOSED). */
	wp_lock_sock(sk);
	wp_sock_set_flag(sk, WP_SOCK_DEAD);
	sk->sk_file = NULL;
	wp_release_sock(sk);
	wp_sock_put(sk);
}

static const struct wp_file_ops sock_file_ops = {
	.type = WP_FILE_SOCKET,
	.poll = sock_file_poll,
	.release = sock_file_release,
};

int wp_sock_map_fd(struct wp_sock *sk)
{
	struct wp_file *f = wp_file_alloc(&sock_file_ops, sk, &sk->sk_wq);
	int fd;

	if (!f)
		return -ENOMEM;
	sk->sk_file = f;
	fd = wp_fd_install(wp_fdtable_current(), f);
	if (fd < 0) {
		sk->sk_file = NULL;
		wp__file_discard(f);
	}
	return fd;
}

struct wp_sock *wp_sockfd_lookup(int fd)
{
	struct wp_file *f = wp_fdget(wp_fdtable_current(), fd);

	if (!f) {
		errno = EBADF;
		return NULL;
	}
	if (f->f_op->type != WP_FILE_SOCKET) {
		wp_file_put(f);
		errno = ENOTSOCK;
		return NULL;
	}
	return f->private_data;
}

void wp_sockfd_put(struct wp_sock *sk)
{
	wp_file_put(sk->sk_file);
}
