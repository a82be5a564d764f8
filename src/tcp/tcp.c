// SPDX-License-Identifier: MIT
/*
 * The application's side of a TCP socket (Linux tcp.c, af_inet.c
 * inet_stream_connect / inet_accept): what the socket system calls do
 * before anything reaches a core. Nothing here transmits or touches the
 * control block the core owns: data goes through the send ring, the
 * receive queue and `pending` (see tcp.h).
 */
#include "tcp/tcp_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nic/rss.h"

#define POLL_IN (WP_EPOLLIN | WP_EPOLLRDNORM)
#define POLL_OUT (WP_EPOLLOUT | WP_EPOLLWRNORM)

/* --- allocation
 * ------------------------------------------------------------------ */

static void tcp_free(struct wp_sock *sk)
{
	struct wp_tcp_sock *tp = tcp_sk(sk);

	wp__tcp_purge(tp);
	free(tp->sndring);
	wp__tcp_sb_free(tp);
	pthread_mutex_destroy(&tp->send_lock);
	pthread_mutex_destroy(&tp->recv_lock);
	atomic_fetch_sub(&tp->net->tcp->nsocks, 1);
	free(tp);
}

static void tcp_close_op(struct wp_sock *sk)
{
	wp_tcp_close(tcp_sk(sk));
}

const struct wp_proto wp_tcp_proto = {
	.name = "TCP",
	.poll = wp_tcp_poll,
	.close = tcp_close_op,
	.free = tcp_free,
};

/* tcp_write_space: writers wake once a third of the ring is free
 * (Linux sk_stream_write_space: free >= queued / 2). */
static bool stream_writeable(const struct wp_tcp_sock *tp)
{
	struct wp_tcp_sock *t = (struct wp_tcp_sock *)tp;
	uint32_t used =
		atomic_load_explicit(&t->write_seq, memory_order_relaxed) -
		atomic_load_explicit(&t->snd_una_pub, memory_order_acquire);
	uint32_t size = __atomic_load_n(&t->snd_size, __ATOMIC_ACQUIRE);

	if (!tp->sndring)
		return false;
	return size - used >= used / 2 && used < size;
}

static void tcp_write_space(struct wp_sock *sk)
{
	if (stream_writeable(tcp_sk(sk)))
		wp_wake_up(&sk->sk_wq, POLL_OUT | WP_EPOLLWRBAND);
}

static struct wp_tcp_sock *sock_new(struct wp_net *net)
{
	struct wp_tcp_sock *tp = wp_sk_alloc(sizeof(*tp));
	int32_t rmem = TCP_SYSCTL(net, tcp_rmem[1], 131072);
	int32_t wmem = TCP_SYSCTL(net, tcp_wmem[1], 16384);

	if (!tp)
		return NULL;
	wp_sock_init(&tp->sk, &wp_tcp_proto, WP_AF_INET, WP_SOCK_STREAM,
		     WP_IPPROTO_TCP_SK, net->sysctl);
	tp->sk.sk_clock = net->clock;
	tp->sk.sk_write_space = tcp_write_space;
	atomic_store(&tp->sk.sk_rcvbuf, rmem);
	atomic_store(&tp->sk.sk_sndbuf, wmem);
	tp->net = net;
	pthread_mutex_init(&tp->send_lock, NULL);
	pthread_mutex_init(&tp->recv_lock, NULL);
	wp_skb_queue_init(&tp->ofo);
	tp->heap_idx = -1;
	for (int w = 0; w < TCP_T__MAX; w++)
		tp->timer[w] = WP_TIME_NEVER;
	tp->timer_next = WP_TIME_NEVER;
	tp->state_core = WP_TCP_CLOSE;
	tp->cc = net->tcp->cc_default;
	tp->rto = TCP_TIMEOUT_INIT;
	tp->ato = TCP_ATO_MIN;
	tp->rx_opt.rcv_wscale = 0;
	/* Payload per truesize of a full-sized segment in a pool buffer,
	 * until real segments teach us (Linux scaling_ratio). */
	tp->scaling_ratio =
		(uint32_t)((uint64_t)1460 * 256 /
			   (WP_POOL_BUF_SIZE + sizeof(struct wp_skb)));
	tp->advmss = net->mtu - WP_IPV4_HLEN - WP_TCP_HLEN;
	tp->rcv_mss = TCP_MSS_DEFAULT;
	tp->mss_cache = TCP_MSS_DEFAULT;
	atomic_fetch_add(&net->tcp->nsocks, 1);
	return tp;
}

struct wp_tcp_sock *wp_tcp_sock_alloc(struct wp_net *net)
{
	return sock_new(net);
}

struct wp_tcp_sock *wp__tcp_sock_child(struct wp_tcp_sock *l)
{
	struct wp_tcp_sock *c = sock_new(l->net);

	if (!c)
		return NULL;
	atomic_store(&c->sk.sk_rcvbuf, atomic_load(&l->sk.sk_rcvbuf));
	atomic_store(&c->sk.sk_sndbuf, atomic_load(&l->sk.sk_sndbuf));
	atomic_store(&c->sk.sk_userlocks, atomic_load(&l->sk.sk_userlocks));
	atomic_store(&c->nodelay, atomic_load(&l->nodelay));
	atomic_store(&c->keepalive, atomic_load(&l->keepalive));
	atomic_store(&c->keepidle, atomic_load(&l->keepidle));
	atomic_store(&c->keepintvl, atomic_load(&l->keepintvl));
	atomic_store(&c->keepcnt, atomic_load(&l->keepcnt));
	atomic_store(&c->linger, atomic_load(&l->linger));
	atomic_store(&c->linger_secs, atomic_load(&l->linger_secs));
	atomic_store(&c->user_mss, atomic_load(&l->user_mss));
	c->cc = l->cc;
	c->advmss = l->advmss;
	/* Its port is the listener's: it is in ehash only. */
	c->port_locked = true;
	return c;
}

#define SND_RING_MIN 1024u

int wp__tcp_alloc_ring(struct wp_tcp_sock *tp)
{
	uint32_t want = (uint32_t)atomic_load(&tp->sk.sk_sndbuf);
	uint32_t size = SND_RING_MIN;

	if (tp->sndring)
		return 0;
	while (size <= want / 2)
		size *= 2;
	tp->sndring = malloc(size);
	if (!tp->sndring)
		return -ENOMEM;
	__atomic_store_n(&tp->snd_size, size, __ATOMIC_RELEASE);
	/* The scoreboard comes with the first segment sent (write_xmit):
	 * an idle connection does without it. */
	return 0;
}

/* Copy [from, to) of the stream from one ring to another. */
static void ring_move(uint8_t *dst, uint32_t dsize, const uint8_t *src,
		      uint32_t ssize, uint32_t base, uint32_t from, uint32_t to)
{
	/* Once the FIN is acknowledged snd_una is one past write_seq (the
	 * FIN's number has no byte in the ring): nothing to move, not the
	 * 4 GiB that to - from would say. */
	if ((int32_t)(to - from) <= 0)
		return;
	while (from != to) {
		uint32_t so = (from - base) % ssize, d = (from - base) % dsize;
		uint32_t n = umin32(umin32(to - from, ssize - so), dsize - d);

		memcpy(dst + d, src + so, n);
		from += n;
	}
}

void wp__tcp_sndbuf_expand(struct wp_tcp_sock *tp)
{
	uint32_t max = (uint32_t)TCP_SYSCTL(tp->net, tcp_wmem[2], 4194304);
	uint64_t want = 2 * (uint64_t)tp->cwnd;
	uint32_t size = tp->snd_size, nsize = size;
	uint8_t *ring, *old;

	if (!tp->sndring || want <= size ||
	    (atomic_load(&tp->sk.sk_userlocks) & WP_SOCK_SNDBUF_LOCK))
		return;
	while (nsize < want && nsize <= max / 2)
		nsize *= 2;
	if (nsize == size)
		return;
	ring = malloc(nsize);
	if (!ring)
		return; /* the ring we have still works */
	/* The writer copies into the ring only under send_lock; the core
	 * (this thread) is the only reader. */
	pthread_mutex_lock(&tp->send_lock);
	ring_move(ring, nsize, tp->sndring, size, tp->snd_base, tp->snd_una,
		  atomic_load_explicit(&tp->write_seq, memory_order_relaxed));
	old = tp->sndring;
	tp->sndring = ring;
	__atomic_store_n(&tp->snd_size, nsize, __ATOMIC_RELEASE);
	atomic_store(&tp->sk.sk_sndbuf, (int)nsize);
	pthread_mutex_unlock(&tp->send_lock);
	free(old);
	/* Room for the segments a bigger window puts in flight (if that
	 * fails, the scoreboard it has still bounds them). */
	wp__tcp_sb_grow(tp);
}

/* --- bind, listen, accept
 * ---------------------------------------------------------- */

int wp_tcp_bind(struct wp_tcp_sock *tp, uint32_t addr, uint16_t port)
{
	struct wp_net *net = tp->net;
	int ret;

	if (wp_sk_state(&tp->sk) != WP_TCP_CLOSE || tp->bhashed || tp->sport)
		return -EINVAL;
	if (addr && addr != net->addr)
		return -EADDRNOTAVAIL;
	ret = wp__tcp_bind_port(tp, addr, port, false);
	if (ret)
		return ret;
	tp->port_locked = port != 0;
	return 0;
}

int wp_tcp_listen(struct wp_tcp_sock *tp, int backlog)
{
	struct wp_net *net = tp->net;
	int st = wp_sk_state(&tp->sk);
	int32_t somax = TCP_SYSCTL(net, somaxconn, 4096);
	int ret;

	if (st != WP_TCP_CLOSE && st != WP_TCP_LISTEN)
		return -EINVAL;
	/* Linux: backlog clamped to somaxconn; 0 still takes one. */
	if (backlog < 0 || backlog > somax)
		backlog = somax;
	atomic_store(&tp->max_backlog, (uint32_t)(backlog ? backlog : 1));
	if (st == WP_TCP_LISTEN)
		return 0;
	if (!tp->bhashed) {
		ret = wp__tcp_bind_port(tp, 0, 0, true);
		if (ret)
			return ret;
	} else {
		/* A listener shares its port with nobody (SO_REUSEADDR
		 * lets connections share, not listeners). */
		struct tcp_bslot *s =
			&net->tcp->bhash[tp->sport & (TCP_BHASH_SLOTS - 1)];
		bool clash = false;

		pthread_mutex_lock(&s->lock);
		for (struct wp_tcp_sock *o = s->head; o; o = o->bnext)
			if (o != tp && o->sport == tp->sport &&
			    (!o->saddr || !tp->saddr ||
			     o->saddr == tp->saddr) &&
			    wp_sk_state(&o->sk) == WP_TCP_LISTEN)
				clash = true;
		if (!clash)
			wp_sk_set_state(&tp->sk, WP_TCP_LISTEN);
		pthread_mutex_unlock(&s->lock);
		if (clash)
			return -EADDRINUSE;
		return 0;
	}
	wp_sk_set_state(&tp->sk, WP_TCP_LISTEN);
	return 0;
}

struct wp_tcp_sock *wp_tcp_accept(struct wp_tcp_sock *tp, int *err)
{
	struct wp_tcp_sock *c;

	if (wp_sk_state(&tp->sk) != WP_TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	wp_lock_sock(&tp->sk);
	c = tp->acc_head;
	if (c) {
		tp->acc_head = c->anext;
		if (!tp->acc_head)
			tp->acc_tail = NULL;
		c->anext = NULL;
		atomic_fetch_sub(&tp->acc_qlen, 1);
	}
	wp_release_sock(&tp->sk);
	if (!c) {
		*err = -EAGAIN;
		return NULL;
	}
	*err = 0;
	return c; /* the queue's reference is the caller's now */
}

/* --- connect
 * ------------------------------------------------------------------------ */

/* The core RSS steers the peer's segments to (as the NIC hashes them:
 * source = the peer). */
static int rss_cpu(const struct wp_net *net, uint32_t laddr, uint16_t lport,
		   uint32_t raddr, uint16_t rport)
{
	const struct wp_nic *nic = net->nic;
	uint8_t in[12];
	uint32_t h;

	wp_put_be32(in, raddr);
	wp_put_be32(in + 4, laddr);
	wp_put_be16(in + 8, rport);
	wp_put_be16(in + 10, lport);
	if (nic->nqueues <= 1)
		return 0;
	h = wp_toeplitz_hash(nic->rss.key, in, sizeof(in));
	return (int)(wp_rss_queue(&nic->rss, h) % net->ncpus);
}

int wp_tcp_connect(struct wp_tcp_sock *tp, uint32_t addr, uint16_t port)
{
	struct wp_net *net = tp->net;
	struct wp_rt_result rt;
	int st = wp_sk_state(&tp->sk);
	int ret;

	if (st == WP_TCP_SYN_SENT || st == WP_TCP_SYN_RECV)
		return -EALREADY;
	if (st != WP_TCP_CLOSE)
		return st == WP_TCP_LISTEN ? -EINVAL : -EISCONN;
	if (tp->ehashed || tp->sndring)
		return -EISCONN; /* a connection ended: not reusable */
	if (!addr || !port)
		return -EINVAL;
	if (wp_route_lookup(net, addr, &rt))
		return -ENETUNREACH;
	if (!tp->saddr)
		tp->saddr = rt.saddr;
	tp->daddr = addr;
	tp->dport = port;
	ret = wp__tcp_alloc_ring(tp);
	if (ret)
		return ret;
	ret = wp__tcp_connect_hash(tp);
	if (ret) {
		free(tp->sndring);
		tp->sndring = NULL;
		wp__tcp_sb_free(tp);
		tp->daddr = 0;
		tp->dport = 0;
		return ret;
	}
	tp->iss = wp__tcp_isn(net->tcp, wp_clock_now(net->clock), tp->saddr,
			      tp->sport, tp->daddr, tp->dport);
	tp->ts_off = wp__tcp_ts_off(net->tcp, tp->saddr, tp->daddr);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss;
	tp->snd_max = tp->iss;
	tp->snd_base = tp->iss + 1;
	atomic_store(&tp->write_seq, tp->iss + 1);
	atomic_store(&tp->snd_una_pub, tp->iss + 1);
	atomic_store(&tp->copied_seq, 0);
	tp->rx_opt.rcv_wscale = 0;
	if (TCP_SYSCTL(net, tcp_window_scaling, 1)) {
		uint32_t max = (uint32_t)TCP_SYSCTL(net, tcp_rmem[2], 6291456);
		uint8_t ws = 0;

		if ((uint32_t)atomic_load(&tp->sk.sk_rcvbuf) > max)
			max = (uint32_t)atomic_load(&tp->sk.sk_rcvbuf);
		while (ws < TCP_MAX_WSCALE && (65535u << ws) < max)
			ws++;
		tp->rx_opt.rcv_wscale = ws;
	}
	{
		uint16_t um = atomic_load(&tp->user_mss);

		if (um && um < tp->advmss)
			tp->advmss = um;
	}
	wp_sk_set_state(&tp->sk, WP_TCP_SYN_SENT);
	/* Publishes everything above to the owner (the request's lock). */
	__atomic_store_n(&tp->sk.sk_cpu,
			 rss_cpu(net, tp->saddr, tp->sport, addr, port),
			 __ATOMIC_RELEASE);
	wp__tcp_request(tp, TCP_REQ_CONNECT);
	return -EINPROGRESS;
}

/* --- send and receive
 * ----------------------------------------------------------------- */

static void ring_write(struct wp_tcp_sock *tp, uint32_t seq, const uint8_t *src,
		       uint32_t len)
{
	uint32_t off = (seq - tp->snd_base) % tp->snd_size;
	uint32_t first = umin32(len, tp->snd_size - off);

	memcpy(tp->sndring + off, src, first);
	if (first < len)
		memcpy(tp->sndring, src + first, len - first);
}

ssize_t wp_tcp_sendmsg(struct wp_tcp_sock *tp, const void *buf, size_t len)
{
	int st, err;
	uint32_t wseq, used, n;

	err = wp_sock_error(&tp->sk);
	if (err)
		return err;
	pthread_mutex_lock(&tp->send_lock);
	st = wp_sk_state(&tp->sk);
	if ((atomic_load(&tp->sk.sk_shutdown) & WP_SEND_SHUTDOWN) ||
	    atomic_load(&tp->fin_queued)) {
		pthread_mutex_unlock(&tp->send_lock);
		return -EPIPE;
	}
	if (st == WP_TCP_LISTEN || !tp->sndring) {
		pthread_mutex_unlock(&tp->send_lock);
		return -ENOTCONN;
	}
	if (st != WP_TCP_ESTABLISHED && st != WP_TCP_CLOSE_WAIT &&
	    st != WP_TCP_SYN_SENT && st != WP_TCP_SYN_RECV) {
		pthread_mutex_unlock(&tp->send_lock);
		return -EPIPE;
	}
	wseq = atomic_load_explicit(&tp->write_seq, memory_order_relaxed);
	used = wseq -
	       atomic_load_explicit(&tp->snd_una_pub, memory_order_acquire);
	n = (uint32_t)(len < tp->snd_size - used ? len : tp->snd_size - used);
	if (!n) {
		pthread_mutex_unlock(&tp->send_lock);
		return len ? -EAGAIN : 0;
	}
	/* The core reads only below write_seq: this copy races nothing. */
	ring_write(tp, wseq, buf, n);
	atomic_store_explicit(&tp->write_seq, wseq + n, memory_order_release);
	pthread_mutex_unlock(&tp->send_lock);
	if (st != WP_TCP_SYN_SENT && st != WP_TCP_SYN_RECV)
		wp__tcp_request(tp, TCP_REQ_OUTPUT);
	return (ssize_t)n;
}

/* The next skb of the receive queue after `after` (NULL: the first),
 * under the socket lock. The reader holds recv_lock: nobody else
 * unlinks, so the pointer stays valid after the lock drops. */
static struct wp_skb *rcvq_next(struct wp_tcp_sock *tp, struct wp_skb *prev)
{
	struct wp_sock *sk = &tp->sk;
	struct wp_skb *skb;

	wp_lock_sock(sk);
	skb = prev ? prev->next : sk->sk_receive_queue.head;
	wp_release_sock(sk);
	return skb;
}

ssize_t wp_tcp_recvmsg(struct wp_tcp_sock *tp, void *buf, size_t len, int flags)
{
	struct wp_sock *sk = &tp->sk;
	uint32_t freed = 0;
	size_t copied = 0;
	int st, err;

	st = wp_sk_state(sk);
	if (st == WP_TCP_LISTEN)
		return -ENOTCONN;
	pthread_mutex_lock(&tp->recv_lock);
	if (flags & WP_MSG_PEEK) {
		/* The partly read skb first (it left the queue), then the
		 * queue from its head. */
		struct wp_skb *skb = tp->rd_skb;
		uint32_t off = tp->rd_off;

		if (!skb)
			skb = rcvq_next(tp, NULL);
		while (skb && copied < len) {
			uint32_t n = (uint32_t)(skb->len - off < len - copied
							? skb->len - off
							: len - copied);

			/* Across a GRO chain (within len: cannot fail). */
			wp_skb_copy_bits(skb, off, (uint8_t *)buf + copied, n);
			copied += n;
			skb = rcvq_next(tp, skb == tp->rd_skb ? NULL : skb);
			off = 0;
		}
		goto out;
	}
	while (copied < len) {
		struct wp_skb *skb = tp->rd_skb;
		uint32_t n;

		if (!skb) {
			wp_lock_sock(sk);
			skb = wp_skb_dequeue(&sk->sk_receive_queue);
			wp_release_sock(sk);
			if (!skb)
				break;
			tp->rd_skb = skb;
			tp->rd_off = 0;
			wp_skb_stamp(skb, WP_STAMP_READ,
				     wp_clock_now(tp->net->clock));
		}
		/* Copied outside the socket lock: the core only appends. */
		n = (uint32_t)(skb->len - tp->rd_off < len - copied
				       ? skb->len - tp->rd_off
				       : len - copied);
		wp_skb_copy_bits(skb, tp->rd_off, (uint8_t *)buf + copied, n);
		copied += n;
		tp->rd_off += n;
		if (tp->rd_off == skb->len) {
			freed += wp_skb_truesize(skb);
			atomic_fetch_sub(&sk->sk_rmem_alloc,
					 wp_skb_truesize(skb));
			tp->rd_skb = NULL;
			tp->rd_off = 0;
			wp_consume_skb(skb);
		}
	}
	atomic_fetch_add(&tp->copied_seq, (uint32_t)copied);
out:
	pthread_mutex_unlock(&tp->recv_lock);
	/* Space freed: the core decides whether the window grew enough to
	 * say so (tcp_cleanup_rbuf). */
	if (freed && __atomic_load_n(&sk->sk_cpu, __ATOMIC_ACQUIRE) >= 0)
		wp__tcp_request(tp, TCP_REQ_RCVSPACE);
	if (copied)
		return (ssize_t)copied;
	if (!len)
		return 0;
	err = wp_sock_error(sk);
	if (err)
		return err;
	if (atomic_load(&sk->sk_shutdown) & WP_RCV_SHUTDOWN)
		return 0;
	st = wp_sk_state(sk);
	if (st == WP_TCP_CLOSE)
		return tp->sndring ? 0 : -ENOTCONN;
	return -EAGAIN;
}

/* --- shutdown and close
 * ------------------------------------------------------------------ */

int wp_tcp_shutdown(struct wp_tcp_sock *tp, int how)
{
	struct wp_sock *sk = &tp->sk;
	int st = wp_sk_state(sk);

	if (how < WP_SHUT_RD || how > WP_SHUT_RDWR)
		return -EINVAL;
	if (st == WP_TCP_CLOSE || st == WP_TCP_LISTEN)
		return -ENOTCONN;
	if (how != WP_SHUT_WR)
		atomic_fetch_or(&sk->sk_shutdown, WP_RCV_SHUTDOWN);
	if (how != WP_SHUT_RD) {
		pthread_mutex_lock(&tp->send_lock);
		atomic_store(&tp->fin_queued, true);
		atomic_fetch_or(&sk->sk_shutdown, WP_SEND_SHUTDOWN);
		pthread_mutex_unlock(&tp->send_lock);
		wp__tcp_request(tp, TCP_REQ_SHUT_WR);
	}
	sk->sk_state_change(sk);
	return 0;
}

static void listener_close(struct wp_tcp_sock *tp)
{
	struct wp_tcp_sock *c;

	wp_lock_sock(&tp->sk);
	wp_sk_set_state(&tp->sk, WP_TCP_CLOSE);
	c = tp->acc_head;
	tp->acc_head = tp->acc_tail = NULL;
	atomic_store(&tp->acc_qlen, 0);
	wp_release_sock(&tp->sk);
	wp__tcp_bhash_remove(tp->net, tp);
	/* Children nobody accepted are reset by their cores (inet_csk_
	 * listen_stop); embryos in SYN_RECV find no listener and die. */
	while (c) {
		struct wp_tcp_sock *n = c->anext;

		c->anext = NULL;
		WP_MIB_SHARED_INC(tp->net, TCPAbortOnClose);
		wp__tcp_request(c, TCP_REQ_ABORT);
		wp_sock_put(&c->sk);
		c = n;
	}
}

void wp_tcp_close(struct wp_tcp_sock *tp)
{
	struct wp_sock *sk = &tp->sk;
	int st = wp_sk_state(sk);
	bool unread, lingers;

	wp_lock_sock(sk);
	if (wp_sock_flag(sk, WP_SOCK_DEAD)) {
		wp_release_sock(sk);
		return;
	}
	wp_sock_set_flag(sk, WP_SOCK_DEAD);
	unread = !wp_skb_queue_empty(&sk->sk_receive_queue) || tp->rd_skb;
	wp_release_sock(sk);

	if (st == WP_TCP_LISTEN) {
		listener_close(tp);
		return;
	}
	if (__atomic_load_n(&sk->sk_cpu, __ATOMIC_ACQUIRE) < 0) {
		/* Never connected: only a bound port to give back. */
		wp__tcp_bhash_remove(tp->net, tp);
		return;
	}
	atomic_fetch_or(&sk->sk_shutdown, WP_SHUTDOWN_MASK);
	lingers = atomic_load(&tp->linger) && !atomic_load(&tp->linger_secs);
	if (unread || lingers) {
		/* RFC 9293 3.10.4 / RFC 2525 2.17: closing with unread data
		 * resets the connection; so does SO_LINGER with 0. */
		if (unread)
			WP_MIB_SHARED_INC(tp->net, TCPAbortOnClose);
		else
			WP_MIB_SHARED_INC(tp->net, TCPAbortOnLinger);
		wp__tcp_request(tp, TCP_REQ_ABORT);
		return;
	}
	pthread_mutex_lock(&tp->send_lock);
	atomic_store(&tp->fin_queued, true);
	pthread_mutex_unlock(&tp->send_lock);
	wp__tcp_request(tp, TCP_REQ_CLOSE);
}

int wp_tcp_sock_error(struct wp_tcp_sock *tp)
{
	return wp_sock_error(&tp->sk);
}

uint32_t wp_tcp_nsocks(const struct wp_net *net)
{
	return atomic_load(&net->tcp->nsocks);
}

uint32_t wp_tcp_inq(const struct wp_tcp_sock *tsk)
{
	struct wp_tcp_sock *tp = (struct wp_tcp_sock *)tsk;

	return atomic_load_explicit(&tp->rcv_data_end, memory_order_acquire) -
	       atomic_load_explicit(&tp->copied_seq, memory_order_relaxed);
}

uint32_t wp_tcp_outq(const struct wp_tcp_sock *tsk)
{
	struct wp_tcp_sock *tp = (struct wp_tcp_sock *)tsk;

	if (!tp->sndring)
		return 0;
	return atomic_load_explicit(&tp->write_seq, memory_order_relaxed) -
	       atomic_load_explicit(&tp->snd_una_pub, memory_order_acquire);
}

/* --- poll
 * ----------------------------------------------------------------------------
 */

uint32_t wp_tcp_poll(struct wp_sock *sk)
{
	struct wp_tcp_sock *tp = tcp_sk(sk);
	int st = wp_sk_state(sk);
	uint8_t shut;
	uint32_t mask = 0;

	if (st == WP_TCP_LISTEN)
		return atomic_load_explicit(&tp->acc_qlen, memory_order_acquire)
			       ? POLL_IN
			       : 0;
	shut = atomic_load_explicit(&sk->sk_shutdown, memory_order_acquire);
	if (atomic_load_explicit(&sk->sk_err, memory_order_acquire))
		mask |= WP_EPOLLERR;
	/* tcp_poll: HUP when both directions are shut or the connection
	 * is gone; RDHUP and IN once the peer's FIN came. */
	if (shut == WP_SHUTDOWN_MASK || st == WP_TCP_CLOSE)
		mask |= WP_EPOLLHUP;
	if (shut & WP_RCV_SHUTDOWN)
		mask |= POLL_IN | WP_EPOLLRDHUP;
	if (st == WP_TCP_SYN_SENT || st == WP_TCP_SYN_RECV ||
	    (st == WP_TCP_CLOSE && !tp->sndring))
		return mask;
	if (atomic_load_explicit(&tp->rcv_data_end, memory_order_acquire) !=
	    atomic_load_explicit(&tp->copied_seq, memory_order_relaxed))
		mask |= POLL_IN;
	if (!(shut & WP_SEND_SHUTDOWN)) {
		if (stream_writeable(tp))
			mask |= POLL_OUT | WP_EPOLLWRBAND;
	} else {
		mask |= POLL_OUT;
	}
	return mask;
}

/* --- options
 * ---------------------------------------------------------------------------
 */

int wp_tcp_set_nodelay(struct wp_tcp_sock *tp, bool on)
{
	atomic_store(&tp->nodelay, on);
	if (on && tp->sk.sk_cpu >= 0)
		wp__tcp_request(tp, TCP_REQ_OUTPUT); /* push what Nagle held */
	return 0;
}

int wp_tcp_set_reuseaddr(struct wp_tcp_sock *tp, bool on)
{
	tp->reuseaddr = on;
	return 0;
}

static void keepalive_changed(struct wp_tcp_sock *tp)
{
	if (__atomic_load_n(&tp->sk.sk_cpu, __ATOMIC_ACQUIRE) >= 0)
		wp__tcp_request(tp, TCP_REQ_KEEPALIVE);
}

int wp_tcp_set_keepalive(struct wp_tcp_sock *tp, bool on)
{
	atomic_store(&tp->keepalive, on);
	keepalive_changed(tp);
	return 0;
}

int wp_tcp_set_keepidle(struct wp_tcp_sock *tp, int secs)
{
	if (secs < 1 || secs > 32767)
		return -EINVAL;
	atomic_store(&tp->keepidle, secs);
	keepalive_changed(tp);
	return 0;
}

int wp_tcp_set_keepintvl(struct wp_tcp_sock *tp, int secs)
{
	if (secs < 1 || secs > 32767)
		return -EINVAL;
	atomic_store(&tp->keepintvl, secs);
	return 0;
}

int wp_tcp_set_keepcnt(struct wp_tcp_sock *tp, int cnt)
{
	if (cnt < 1 || cnt > 127)
		return -EINVAL;
	atomic_store(&tp->keepcnt, cnt);
	return 0;
}

int wp_tcp_set_linger(struct wp_tcp_sock *tp, bool on, int secs)
{
	if (secs < 0)
		return -EINVAL;
	atomic_store(&tp->linger, on);
	atomic_store(&tp->linger_secs, secs);
	return 0;
}

static int buf_size(const struct wp_net *net, int bytes,
		    const _Atomic int32_t *max)
{
	int32_t m = net->sysctl ? wp_sysctl_read(max) : 212992;

	if (bytes < 0)
		return -EINVAL;
	if (bytes > m)
		bytes = m;
	/* Linux doubles the value for its bookkeeping overhead. */
	bytes = bytes > INT32_MAX / 2 ? INT32_MAX : bytes * 2;
	return bytes < 4608 ? 4608 : bytes;
}

int wp_tcp_set_sndbuf(struct wp_tcp_sock *tp, int bytes)
{
	int v = buf_size(tp->net, bytes,
			 tp->net->sysctl ? &tp->net->sysctl->wmem_max : NULL);

	if (v < 0)
		return v;
	atomic_store(&tp->sk.sk_sndbuf, v);
	atomic_fetch_or(&tp->sk.sk_userlocks, WP_SOCK_SNDBUF_LOCK);
	return 0;
}

int wp_tcp_set_rcvbuf(struct wp_tcp_sock *tp, int bytes)
{
	int v = buf_size(tp->net, bytes,
			 tp->net->sysctl ? &tp->net->sysctl->rmem_max : NULL);

	if (v < 0)
		return v;
	atomic_store(&tp->sk.sk_rcvbuf, v);
	atomic_fetch_or(&tp->sk.sk_userlocks, WP_SOCK_RCVBUF_LOCK);
	return 0;
}

int wp_tcp_set_maxseg(struct wp_tcp_sock *tp, int mss)
{
	if (mss && (mss < (int)TCP_MSS_MIN || mss > (int)TCP_MSS_MAX))
		return -EINVAL;
	atomic_store(&tp->user_mss, (uint16_t)mss);
	return 0;
}

int wp_tcp_set_congestion(struct wp_tcp_sock *tp, const char *name)
{
	const struct tcp_cc_ops *cc = name ? wp__tcp_cc_find(name) : NULL;

	if (!cc)
		return -ENOENT;
	if (wp_sk_state(&tp->sk) != WP_TCP_CLOSE || tp->sndring)
		return -EISCONN;
	tp->cc = cc;
	return 0;
}

static int opt_or(const _Atomic int *v, int dflt)
{
	int x = atomic_load(v);

	return x ? x : dflt;
}

void wp_tcp_get_opts(struct wp_tcp_sock *tp, struct wp_tcp_sockopts *o)
{
	int st = wp_sk_state(&tp->sk);

	memset(o, 0, sizeof(*o));
	o->nodelay = atomic_load(&tp->nodelay);
	o->keepalive = atomic_load(&tp->keepalive);
	o->linger = atomic_load(&tp->linger);
	o->linger_secs = atomic_load(&tp->linger_secs);
	o->keepidle = opt_or(&tp->keepidle,
			     TCP_SYSCTL(tp->net, tcp_keepalive_time, 7200));
	o->keepintvl = opt_or(&tp->keepintvl,
			      TCP_SYSCTL(tp->net, tcp_keepalive_intvl, 75));
	o->keepcnt = opt_or(&tp->keepcnt,
			    TCP_SYSCTL(tp->net, tcp_keepalive_probes, 9));
	/* do_tcp_getsockopt TCP_MAXSEG: mss_cache once there is a
	 * connection, else user_mss, else the RFC default. */
	if (st != WP_TCP_CLOSE && st != WP_TCP_LISTEN) {
		wp_lock_sock(&tp->sk);
		o->maxseg = (int)tp->info.snd_mss;
		wp_release_sock(&tp->sk);
	}
	if (!o->maxseg)
		o->maxseg = atomic_load(&tp->user_mss);
	if (!o->maxseg)
		o->maxseg = (int)TCP_MSS_DEFAULT;
	snprintf(o->congestion, sizeof(o->congestion), "%s", tp->cc->name);
}

void wp_tcp_get_info(struct wp_tcp_sock *tp, struct wp_tcp_info *info)
{
	wp_lock_sock(&tp->sk);
	*info = tp->info;
	info->state = (uint8_t)wp_sk_state(&tp->sk);
	wp_release_sock(&tp->sk);
}

void wp_tcp_get_addrs(const struct wp_tcp_sock *tp, uint32_t *saddr,
		      uint16_t *sport, uint32_t *daddr, uint16_t *dport)
{
	if (saddr)
		*saddr = tp->saddr;
	if (sport)
		*sport = tp->sport;
	if (daddr)
		*daddr = tp->daddr;
	if (dport)
		*dport = tp->dport;
}
