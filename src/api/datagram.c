// SPDX-License-Identifier: MIT
/*
 * The receive side of datagram sockets at the boundary (Linux
 * net/core/datagram.c): take skbs off sk_receive_queue under the socket
 * lock, sleeping on the socket's wait queue when there are none, then
 * copy with the lock released.
 *
 * Why the lock is held only to unlink: the core thread queues under the
 * same lock (wp_sock_queue_rcv_skb), so a copy made under it would stall
 * the softirq for the length of a memcpy. Unlinked, the skb belongs to
 * the caller alone.
 */
#include "api/api.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "skb/skb.h"

/* How long a send waiting for a transmit buffer naps between looks. */
#define TX_BACKOFF_NS (50 * WP_NSEC_PER_USEC)

/*
 * Under the lock: unlink up to n skbs (or reference the first, to peek)
 * and release their charge with one atomic. Returns how many.
 */
static unsigned rcvq_take(struct wp_sock *sk, struct wp_skb **skbs, unsigned n,
			  bool peek)
{
	struct wp_skb_queue *q = &sk->sk_receive_queue;
	uint32_t truesize = 0;
	unsigned got = 0;

	wp_lock_sock(sk);
	if (peek) {
		if (q->head)
			skbs[got++] = wp_skb_get(q->head);
		wp_release_sock(sk);
		return got;
	}
	while (got < n && q->head) {
		struct wp_skb *skb = wp_skb_dequeue(q);

		truesize += wp_skb_truesize(skb);
		skbs[got++] = skb;
	}
	if (truesize)
		atomic_fetch_sub_explicit(&sk->sk_rmem_alloc, truesize,
					  memory_order_relaxed);
	wp_release_sock(sk);
	return got;
}

unsigned wp__skb_recv_datagrams(struct wp_sock_call *call, struct wp_skb **skbs,
				unsigned n, int *err)
{
	struct wp_sock *sk = call->so->sk;
	bool peek = call->flags & MSG_PEEK;
	unsigned got;
	int ret;

	if (!n) {
		*err = 0;
		return 0;
	}
	for (;;) {
		/* Linux __skb_recv_udp: a pending error comes first. */
		ret = wp_sock_error(sk);
		if (ret) {
			*err = ret;
			return 0;
		}
		/* Lock-free look first: an empty queue costs no lock. */
		if (wp_sock_rcvq_ready(sk)) {
			got = rcvq_take(sk, skbs, n, peek);
			if (got)
				return got;
		}
		if (atomic_load_explicit(&sk->sk_shutdown,
					 memory_order_acquire) &
		    WP_RCV_SHUTDOWN) {
			*err = 0;
			return 0;
		}
		if (call->nonblock) {
			*err = -EAGAIN;
			return 0;
		}
		if (wp__call_busy_loop(call, WP_EPOLLIN | WP_EPOLLRDNORM))
			continue;
		call->n[WP_SOCKET_STAT_SLEEPS]++;
		ret = wp_sock_wait(sk, WP_EPOLLIN | WP_EPOLLRDNORM,
				   call->so->clock, call->deadline);
		if (ret == -ETIMEDOUT) {
			*err = -EAGAIN;
			return 0;
		}
		if (ret < 0) {
			*err = ret;
			return 0;
		}
	}
}

struct wp_skb *wp__skb_recv_datagram(struct wp_sock_call *call, int *err)
{
	struct wp_skb *skb;

	return wp__skb_recv_datagrams(call, &skb, 1, err) ? skb : NULL;
}

void wp__skb_free_datagram(struct wp_sock_call *call, struct wp_skb *skb)
{
	if (wp_unlikely(skb->stamps))
		wp_skb_stamp(skb, WP_STAMP_READ, wp_clock_now(call->so->clock));
	wp_consume_skb(skb);
}

size_t wp__skb_copy_datagram_iovec(struct wp_sock_call *call,
				   const struct wp_skb *skb,
				   const struct iovec *iov, size_t iovlen,
				   size_t len)
{
	const uint8_t *src = skb->data;
	size_t left = len < skb->len ? len : skb->len, done = 0;

	for (size_t i = 0; i < iovlen && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (!n)
			continue;
		/* The one copy of the receive path. */
		memcpy(iov[i].iov_base, src + done, n);
		done += n;
		left -= n;
		call->n[WP_SOCKET_STAT_RX_COPIES]++;
	}
	call->n[WP_SOCKET_STAT_RX_BYTES] += done;
	return done;
}

bool wp__call_busy_loop(struct wp_sock_call *call, uint32_t events)
{
	struct wp_sock *sk = call->so->sk;

	if (!atomic_load_explicit(&sk->sk_ll_usec, memory_order_relaxed))
		return false;
	call->n[WP_SOCKET_STAT_BUSY_POLLS]++;
	if (!wp_sock_busy_loop(sk, events))
		return false;
	call->n[WP_SOCKET_STAT_BUSY_POLL_HITS]++;
	return true;
}

int wp__call_backoff(struct wp_sock_call *call)
{
	struct timespec ts = { 0, (long)TX_BACKOFF_NS };

	if (call->nonblock || (call->deadline != WP_TIME_NEVER &&
			       wp_clock_now(call->so->clock) >= call->deadline))
		return -EAGAIN;
	/*
	 * Buffers come back by remote frees, which wake nobody: nap and
	 * look again. A nap, not a clock read: the deadline is checked on
	 * the socket's own clock, virtual or real.
	 */
	call->n[WP_SOCKET_STAT_SLEEPS]++;
	nanosleep(&ts, NULL);
	return 0;
}
