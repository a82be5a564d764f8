// SPDX-License-Identifier: MIT
/*
 * The socket calls of AF_INET / SOCK_STREAM (Linux inet_stream_ops with
 * tcp_prot): the blocking, the waiting and the iovec walking that
 * net/ipv4/af_inet.c and tcp.c do around the protocol, over the calls
 * of src/tcp/tcp.h, none of which sleeps.
 *
 * Where a call waits it sleeps in wp_sock_wait on tcp_poll's mask:
 * accept and recv for EPOLLIN, connect and send for EPOLLOUT. The TCP
 * layer's core wakes the socket's wait queue as it queues data, frees
 * send-buffer space, completes a handshake or takes an error, so a
 * blocked application thread costs nothing while it waits.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "tcp/tcp.h"

static struct wp_tcp_sock *tcp_of(struct wp_socket *so)
{
	return (struct wp_tcp_sock *)(void *)so->sk;
}

struct wp_sock *wp__tcp_sock_create(struct wp_stack *s, int *err)
{
	struct wp_tcp_sock *tsk = wp_tcp_sock_alloc(s->net);

	if (!tsk) {
		*err = -ENOMEM;
		return NULL;
	}
	return wp_tcp_to_sk(tsk);
}

/* The sockaddr_in of a bind or connect, checked as inet_bind does. */
static int sin_get(const struct sockaddr *addr, socklen_t len,
		   struct sockaddr_in *sin, bool any_unspec)
{
	if (len < (socklen_t)sizeof(*sin))
		return -EINVAL;
	memcpy(sin, addr, sizeof(*sin));
	if (sin->sin_family == AF_INET)
		return 0;
	/* AF_UNSPEC passes for INADDR_ANY in bind (compatibility). */
	if (any_unspec && sin->sin_family == AF_UNSPEC &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY))
		return 0;
	return -EAFNOSUPPORT;
}

static int tcp_bind(struct wp_socket *so, const struct sockaddr *addr,
		    socklen_t len)
{
	struct sockaddr_in sin;
	int ret = sin_get(addr, len, &sin, true);

	if (ret)
		return ret;
	return wp_tcp_bind(tcp_of(so), ntohl(sin.sin_addr.s_addr),
			   ntohs(sin.sin_port));
}

/* Sleep for `events` as the call allows: 0 to look again, -EAGAIN when
 * the call may not wait (or its deadline passed), another error. */
static int call_wait(struct wp_sock_call *call, uint32_t events)
{
	int ret;

	if (call->nonblock)
		return -EAGAIN;
	if (wp__call_busy_loop(call, events))
		return 0;
	call->n[WP_SOCKET_STAT_SLEEPS]++;
	ret = wp_sock_wait(call->so->sk, events, call->so->clock,
			   call->deadline);
	if (ret == -ETIMEDOUT)
		return -EAGAIN;
	return ret < 0 ? ret : 0;
}

/*
 * __inet_stream_connect: start the handshake; a blocking call then waits
 * for it to end. A non-blocking connect that has since completed reports
 * 0 once when called again (Linux), then EISCONN.
 */
static int tcp_connect(struct wp_sock_call *call, const struct sockaddr *addr,
		       socklen_t len)
{
	struct wp_socket *so = call->so;
	struct wp_tcp_sock *tsk = tcp_of(so);
	struct sockaddr_in sin;
	int ret, st;

	if (len < (socklen_t)sizeof(addr->sa_family))
		return -EINVAL;
	ret = sin_get(addr, len, &sin, false);
	if (ret)
		return ret;
	/* __inet_stream_connect: anything not CLOSE, a listener too. */
	if (wp_sk_state(so->sk) == WP_TCP_LISTEN)
		return -EISCONN;
	ret = wp_tcp_connect(tsk, ntohl(sin.sin_addr.s_addr),
			     ntohs(sin.sin_port));
	if (ret == -EISCONN && atomic_exchange_explicit(&so->connecting, false,
							memory_order_relaxed))
		return 0;
	if (ret == -EALREADY) {
		ret = wp_tcp_sock_error(tsk);
		if (ret) {
			atomic_store_explicit(&so->connecting, false,
					      memory_order_relaxed);
			return ret;
		}
		if (call->nonblock)
			return -EALREADY;
	} else if (ret != -EINPROGRESS) {
		return ret;
	}
	atomic_store_explicit(&so->connecting, true, memory_order_relaxed);
	for (;;) {
		ret = wp_tcp_sock_error(tsk);
		if (ret)
			break;
		st = wp_sk_state(so->sk);
		if (st != WP_TCP_SYN_SENT && st != WP_TCP_SYN_RECV) {
			/* Closed with no error: reset before it was
			 * told, as Linux's sock_error() would read it. */
			ret = st == WP_TCP_CLOSE ? -ECONNREFUSED : 0;
			break;
		}
		ret = call_wait(call, WP_EPOLLOUT);
		if (ret == -EAGAIN)
			return -EINPROGRESS; /* the handshake goes on */
		if (ret)
			return ret;
	}
	atomic_store_explicit(&so->connecting, false, memory_order_relaxed);
	return ret;
}

static int tcp_listen(struct wp_socket *so, int backlog)
{
	return wp_tcp_listen(tcp_of(so), backlog);
}

static struct wp_sock *tcp_accept(struct wp_sock_call *call, int *err)
{
	struct wp_tcp_sock *child;
	int ret;

	for (;;) {
		child = wp_tcp_accept(tcp_of(call->so), &ret);
		if (child)
			return wp_tcp_to_sk(child);
		if (ret != -EAGAIN)
			break;
		ret = call_wait(call, WP_EPOLLIN | WP_EPOLLRDNORM);
		if (ret)
			break;
	}
	*err = ret;
	return NULL;
}

static int tcp_getname(struct wp_socket *so, struct sockaddr_in *sin, bool peer)
{
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	int st = wp_sk_state(so->sk);

	wp_tcp_get_addrs(tcp_of(so), &saddr, &sport, &daddr, &dport);
	if (peer) {
		/* inet_getname: no peer before the handshake began. */
		if (!dport || st == WP_TCP_CLOSE || st == WP_TCP_SYN_SENT)
			return -ENOTCONN;
		wp__sin_make(sin, daddr, dport);
		return 0;
	}
	wp__sin_make(sin, saddr, sport);
	return 0;
}

/*
 * A connection error taken by a call that still has bytes to report:
 * put it back, for the next call (Linux leaves sk_err set then).
 */
static ssize_t partial(struct wp_sock_call *call, size_t done, ssize_t err)
{
	if (!done)
		return err;
	if (err != -EAGAIN && err != -EPIPE && err != -ENOTCONN)
		wp_sock_set_err(call->so->sk, (int)-err);
	return (ssize_t)done;
}

static ssize_t tcp_sendmsg(struct wp_sock_call *call, const struct msghdr *msg,
			   size_t len)
{
	struct wp_tcp_sock *tsk = tcp_of(call->so);
	size_t done = 0;
	ssize_t r;

	if (!len) {
		r = wp_tcp_sendmsg(tsk, "", 0);
		return r == -ENOTCONN ? -EPIPE : r;
	}
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		const uint8_t *base = msg->msg_iov[i].iov_base;
		size_t off = 0, seg = msg->msg_iov[i].iov_len;

		while (off < seg) {
			r = wp_tcp_sendmsg(tsk, base + off, seg - off);
			if (r > 0) {
				off += (size_t)r;
				done += (size_t)r;
				call->n[WP_SOCKET_STAT_TX_COPIES]++;
				call->n[WP_SOCKET_STAT_TX_BYTES] += (uint64_t)r;
				continue;
			}
			if (r == 0)
				return (ssize_t)done;
			/* tcp_sendmsg -> sk_stream_wait_connect: a socket
			 * that never connected (or listens) gets EPIPE. */
			if (r == -ENOTCONN)
				r = -EPIPE;
			if (r != -EAGAIN)
				return partial(call, done, r);
			/* The send buffer is full: wait for ACKs to free a
			 * third of it (tcp_poll's EPOLLOUT). */
			r = call_wait(call, WP_EPOLLOUT | WP_EPOLLWRNORM);
			if (r)
				return partial(call, done, r);
		}
	}
	return (ssize_t)done;
}

/* MSG_PEEK over several segments: peek once, then scatter. */
static ssize_t peek_iov(struct wp_tcp_sock *tsk, struct msghdr *msg, size_t len)
{
	uint8_t *tmp;
	ssize_t r;
	size_t off = 0;

	if (msg->msg_iovlen == 1)
		return wp_tcp_recvmsg(tsk, msg->msg_iov[0].iov_base, len,
				      WP_MSG_PEEK);
	tmp = malloc(len);
	if (!tmp)
		return -ENOMEM;
	r = wp_tcp_recvmsg(tsk, tmp, len, WP_MSG_PEEK);
	for (size_t i = 0; r > 0 && i < msg->msg_iovlen && off < (size_t)r;
	     i++) {
		size_t n = msg->msg_iov[i].iov_len;

		if (n > (size_t)r - off)
			n = (size_t)r - off;
		if (n)
			memcpy(msg->msg_iov[i].iov_base, tmp + off, n);
		off += n;
	}
	free(tmp);
	return r;
}

/*
 * tcp_recvmsg: copy what is there, segment by segment of the iovec;
 * wait only while fewer than the target bytes were copied (1, or all of
 * len with MSG_WAITALL).
 */
static ssize_t tcp_recvmsg(struct wp_sock_call *call, struct msghdr *msg,
			   size_t len)
{
	struct wp_tcp_sock *tsk = tcp_of(call->so);
	bool peek = call->flags & MSG_PEEK;
	size_t target = (call->flags & MSG_WAITALL) && !peek ? len : 1;
	size_t done = 0, i = 0, off = 0;
	ssize_t r;

	/* A stream has no source address per read (Linux leaves it). */
	if (msg->msg_name)
		msg->msg_namelen = 0;
	if (!len)
		return wp_tcp_recvmsg(tsk, NULL, 0, 0);
	for (;;) {
		if (peek) {
			r = peek_iov(tsk, msg, len);
		} else {
			while (i < msg->msg_iovlen &&
			       off == msg->msg_iov[i].iov_len) {
				i++;
				off = 0;
			}
			if (i == msg->msg_iovlen)
				break;
			r = wp_tcp_recvmsg(
				tsk, (uint8_t *)msg->msg_iov[i].iov_base + off,
				msg->msg_iov[i].iov_len - off, 0);
		}
		if (r > 0) {
			done += (size_t)r;
			off += (size_t)r;
			call->n[WP_SOCKET_STAT_RX_COPIES]++;
			call->n[WP_SOCKET_STAT_RX_BYTES] += (uint64_t)r;
			if (peek || done == len)
				break;
			continue;
		}
		if (r == 0) /* the end of the stream */
			break;
		if (r != -EAGAIN || done >= target)
			return partial(call, done, r == -EAGAIN ? 0 : r);
		r = call_wait(call, WP_EPOLLIN | WP_EPOLLRDNORM);
		if (r)
			return partial(call, done, r);
	}
	return (ssize_t)done;
}

static int tcp_shutdown(struct wp_socket *so, int how)
{
	return wp_tcp_shutdown(tcp_of(so), how);
}

static int get_int(const void *optval, socklen_t optlen, int *val)
{
	if (optlen < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, optval, sizeof(*val));
	return 0;
}

static int tcp_setsockopt(struct wp_socket *so, int level, int name,
			  const void *optval, socklen_t optlen)
{
	struct wp_tcp_sock *tsk = tcp_of(so);
	char cc[16];
	int val, ret;

	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		size_t n = optlen < sizeof(cc) - 1 ? optlen : sizeof(cc) - 1;

		memcpy(cc, optval, n);
		cc[n] = '\0';
		return wp_tcp_set_congestion(tsk, cc);
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l;

		if (optlen < (socklen_t)sizeof(l))
			return -EINVAL;
		memcpy(&l, optval, sizeof(l));
		return wp_tcp_set_linger(tsk, l.l_onoff != 0,
					 l.l_linger < 0 ? 0 : l.l_linger);
	}
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	ret = get_int(optval, optlen, &val);
	if (ret)
		return ret;
	if (level == SOL_SOCKET)
		return name == SO_KEEPALIVE
			       ? wp_tcp_set_keepalive(tsk, val != 0)
			       : -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return wp_tcp_set_nodelay(tsk, val != 0);
	case TCP_MAXSEG:
		return wp_tcp_set_maxseg(tsk, val);
	case TCP_KEEPIDLE:
		return wp_tcp_set_keepidle(tsk, val);
	case TCP_KEEPINTVL:
		return wp_tcp_set_keepintvl(tsk, val);
	case TCP_KEEPCNT:
		return wp_tcp_set_keepcnt(tsk, val);
	default:
		return -ENOPROTOOPT;
	}
}

static int put_opt(void *optval, socklen_t *optlen, const void *v, size_t lv)
{
	size_t len = (size_t)*optlen < lv ? (size_t)*optlen : lv;

	memcpy(optval, v, len);
	*optlen = (socklen_t)len;
	return 0;
}

/* TCP_INFO in Linux's struct tcp_info layout (<netinet/tcp.h>), so a
 * program written for Linux reads it unchanged. */
static int get_tcp_info(struct wp_tcp_sock *tsk, void *optval,
			socklen_t *optlen)
{
	struct wp_tcp_info wi;
	struct tcp_info ti;

	wp_tcp_get_info(tsk, &wi);
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = wi.state;
	ti.tcpi_ca_state = wi.ca_state;
	ti.tcpi_retransmits = wi.retransmits;
	ti.tcpi_probes = wi.probes;
	ti.tcpi_backoff = wi.backoff;
	ti.tcpi_options =
		(uint8_t)(((wi.options & WP_TCPI_OPT_TIMESTAMPS)
				   ? TCPI_OPT_TIMESTAMPS
				   : 0) |
			  ((wi.options & WP_TCPI_OPT_SACK) ? TCPI_OPT_SACK
							   : 0) |
			  ((wi.options & WP_TCPI_OPT_WSCALE) ? TCPI_OPT_WSCALE
							     : 0));
	ti.tcpi_snd_wscale = wi.snd_wscale & 0xf;
	ti.tcpi_rcv_wscale = wi.rcv_wscale & 0xf;
	ti.tcpi_rto = wi.rto;
	ti.tcpi_ato = wi.ato;
	ti.tcpi_snd_mss = wi.snd_mss;
	ti.tcpi_rcv_mss = wi.rcv_mss;
	ti.tcpi_unacked = wi.unacked;
	ti.tcpi_sacked = wi.sacked;
	ti.tcpi_lost = wi.lost;
	ti.tcpi_retrans = wi.retrans;
	ti.tcpi_rtt = wi.rtt;
	ti.tcpi_rttvar = wi.rttvar;
	ti.tcpi_snd_ssthresh = wi.snd_ssthresh;
	ti.tcpi_snd_cwnd = wi.snd_cwnd;
	ti.tcpi_reordering = wi.reordering;
	ti.tcpi_total_retrans = wi.total_retrans;
	ti.tcpi_rcv_space = wi.rcv_wnd;
	return put_opt(optval, optlen, &ti, sizeof(ti));
}

static int tcp_getsockopt(struct wp_socket *so, int level, int name,
			  void *optval, socklen_t *optlen)
{
	struct wp_tcp_sock *tsk = tcp_of(so);
	struct wp_tcp_sockopts o;
	int v;

	if (level == IPPROTO_TCP && name == TCP_INFO)
		return get_tcp_info(tsk, optval, optlen);
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	wp_tcp_get_opts(tsk, &o);
	if (level == SOL_SOCKET) {
		if (name == SO_LINGER) {
			struct linger l = { .l_onoff = o.linger,
					    .l_linger = o.linger_secs };

			return put_opt(optval, optlen, &l, sizeof(l));
		}
		if (name != SO_KEEPALIVE)
			return -ENOPROTOOPT;
		v = o.keepalive;
		return put_opt(optval, optlen, &v, sizeof(v));
	}
	switch (name) {
	case TCP_CONGESTION:
		return put_opt(optval, optlen, o.congestion,
			       sizeof(o.congestion));
	case TCP_NODELAY:
		v = o.nodelay;
		break;
	case TCP_MAXSEG:
		v = o.maxseg;
		break;
	case TCP_KEEPIDLE:
		v = o.keepidle;
		break;
	case TCP_KEEPINTVL:
		v = o.keepintvl;
		break;
	case TCP_KEEPCNT:
		v = o.keepcnt;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return put_opt(optval, optlen, &v, sizeof(v));
}

static void tcp_sync_flags(struct wp_socket *so)
{
	wp_tcp_set_reuseaddr(
		tcp_of(so),
		atomic_load_explicit(&so->reuseaddr, memory_order_relaxed));
}

/* tcp_ioctl SIOCINQ: unread bytes; EINVAL on a listener. */
static int tcp_inq(struct wp_socket *so)
{
	if (wp_sk_state(so->sk) == WP_TCP_LISTEN)
		return -EINVAL;
	return (int)wp_tcp_inq(tcp_of(so));
}

static int tcp_outq(struct wp_socket *so)
{
	if (wp_sk_state(so->sk) == WP_TCP_LISTEN)
		return -EINVAL;
	return (int)wp_tcp_outq(tcp_of(so));
}

static void tcp_show(struct wp_socket *so, FILE *out)
{
	struct wp_tcp_sock *tsk = tcp_of(so);
	int st = wp_sk_state(so->sk);
	uint32_t saddr, daddr;
	uint16_t sport, dport;

	wp_tcp_get_addrs(tsk, &saddr, &sport, &daddr, &dport);
	wp__socket_show(so, out, wp_tcp_state_name(st),
			st == WP_TCP_LISTEN ? 0 : wp_tcp_inq(tsk),
			st == WP_TCP_LISTEN ? 0 : wp_tcp_outq(tsk), saddr,
			sport, daddr, dport, !dport);
}

const struct wp_sock_ops wp__tcp_sock_ops = {
	.type = SOCK_STREAM,
	.bind = tcp_bind,
	.connect = tcp_connect,
	.listen = tcp_listen,
	.accept = tcp_accept,
	.getname = tcp_getname,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.shutdown = tcp_shutdown,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.sync_flags = tcp_sync_flags,
	.inq = tcp_inq,
	.outq = tcp_outq,
	.show = tcp_show,
};
