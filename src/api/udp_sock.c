// SPDX-License-Identifier: MIT
/*
 * The socket calls of AF_INET / SOCK_DGRAM (Linux inet_dgram_ops with
 * udp_prot): address checks, then the UDP table (net/udp.h) for bind,
 * connect and send; the generic datagram path (datagram.c) for receive.
 *
 * The wp_udp_sock fields that bind/connect change are written under the
 * UDP table's slot lock; these calls read them with relaxed atomic loads
 * (as net/udp.c does), so a call racing a connect on the same socket
 * sees the old or the new peer, as on Linux.
 */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "net/udp.h"
#include "skb/skb.h"
#include "stack/stack.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Datagrams one recvmmsg takes off the queue per lock. */
#define RECV_BATCH 64

static struct wp_udp_sock *udp_of(struct wp_socket *so)
{
	return wp_udp_sk(so->sk);
}

struct wp_sock *wp__udp_sock_create(struct wp_stack *s, int *err)
{
	struct wp_udp_sock *usk = wp_udp_sock_alloc(s->net);

	if (!usk) {
		*err = -errno;
		return NULL;
	}
	return &usk->sk;
}

/* Read a sockaddr_in of at least sizeof(struct sockaddr_in) bytes. */
static void sin_read(const struct sockaddr *addr, struct sockaddr_in *sin)
{
	memcpy(sin, addr, sizeof(*sin));
}

void wp__sin_make(struct sockaddr_in *sin, uint32_t addr, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(addr);
}

/* A broadcast destination needs SO_BROADCAST (Linux: EACCES). */
static int check_broadcast(struct wp_socket *so, uint32_t daddr)
{
	struct wp_rt_result rt;

	if (atomic_load_explicit(&so->broadcast, memory_order_relaxed))
		return 0;
	if (wp_route_lookup(udp_of(so)->net, daddr, &rt) == 0 &&
	    rt.type == WP_RTN_BROADCAST)
		return -EACCES;
	return 0;
}

static int udp_bind(struct wp_socket *so, const struct sockaddr *addr,
		    socklen_t len)
{
	struct sockaddr_in sin;

	if (len < (socklen_t)sizeof(sin))
		return -EINVAL;
	sin_read(addr, &sin);
	/* inet_bind: AF_UNSPEC passes only for INADDR_ANY (compatibility). */
	if (sin.sin_family != AF_INET &&
	    (sin.sin_family != AF_UNSPEC ||
	     sin.sin_addr.s_addr != htonl(INADDR_ANY)))
		return -EAFNOSUPPORT;
	return wp_udp_bind(udp_of(so), ntohl(sin.sin_addr.s_addr),
			   ntohs(sin.sin_port));
}

static int udp_connect(struct wp_sock_call *call, const struct sockaddr *addr,
		       socklen_t len)
{
	struct wp_socket *so = call->so;
	struct sockaddr_in sin;
	uint32_t daddr;
	int ret;

	if (len < (socklen_t)sizeof(addr->sa_family))
		return -EINVAL;
	if (addr->sa_family == AF_UNSPEC)
		return wp_udp_disconnect(udp_of(so));
	if (len < (socklen_t)sizeof(sin))
		return -EINVAL;
	sin_read(addr, &sin);
	if (sin.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	daddr = ntohl(sin.sin_addr.s_addr);
	if (daddr) {
		ret = check_broadcast(so, daddr);
		if (ret)
			return ret;
	}
	return wp_udp_connect(udp_of(so), daddr, ntohs(sin.sin_port));
}

static int udp_getname(struct wp_socket *so, struct sockaddr_in *sin, bool peer)
{
	struct wp_udp_sock *usk = udp_of(so);
	uint32_t addr;

	if (peer) {
		if (!LOAD(usk->dport))
			return -ENOTCONN;
		wp__sin_make(sin, LOAD(usk->daddr), LOAD(usk->dport));
		return 0;
	}
	/* inet_getname: the bound address, else the source in use. */
	addr = LOAD(usk->rcv_saddr);
	if (!addr)
		addr = LOAD(usk->saddr);
	wp__sin_make(sin, addr, LOAD(usk->lport));
	return 0;
}

/* A transmit skb for len bytes, waiting for one as the call allows. */
static struct wp_skb *tx_skb(struct wp_sock_call *call, size_t len, int *err)
{
	struct wp_skb *skb;

	for (;;) {
		skb = wp__tx_alloc_skb(len, err);
		if (skb)
			return skb;
		if (*err != -EAGAIN)
			return NULL;
		*err = wp__call_backoff(call);
		if (*err)
			return NULL;
	}
}

static ssize_t udp_sendmsg(struct wp_sock_call *call, const struct msghdr *msg,
			   size_t len)
{
	struct wp_socket *so = call->so;
	struct wp_udp_sock *usk = udp_of(so);
	uint32_t daddr = 0;
	uint16_t dport = 0;
	struct wp_skb *skb;
	int ret;

	/* udp_sendmsg and ip_append_data: 65535 minus IPv4 and UDP. */
	if (len > WP_UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (msg->msg_name) {
		struct sockaddr_in sin;

		if (msg->msg_namelen < (socklen_t)sizeof(sin))
			return -EINVAL;
		sin_read(msg->msg_name, &sin);
		if (sin.sin_family != AF_INET && sin.sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		daddr = ntohl(sin.sin_addr.s_addr);
		dport = ntohs(sin.sin_port);
		/* No loopback here to send INADDR_ANY to (see socket.h). */
		if (!dport || !daddr)
			return -EINVAL;
	} else if (!LOAD(usk->dport)) {
		return -EDESTADDRREQ;
	}
	ret = wp_sock_error(so->sk);
	if (ret)
		return ret;
	if (atomic_load_explicit(&so->sk->sk_shutdown, memory_order_acquire) &
	    WP_SEND_SHUTDOWN)
		return -EPIPE;
	if (daddr) {
		ret = check_broadcast(so, daddr);
		if (ret)
			return ret;
	}
	skb = tx_skb(call, len, &ret);
	if (!skb)
		return ret;
	wp__copy_from_iovec(call, wp_skb_put(skb, (uint32_t)len), msg->msg_iov,
			    msg->msg_iovlen, len);
	ret = wp_udp_sendto(usk, skb, daddr, dport);
	/*
	 * udp_send_skb: without IP_RECVERR a full queue below UDP is not
	 * the sender's error; it is counted (UdpSndbufErrors) and the
	 * datagram is gone, as a wire loss would be.
	 */
	if (ret == -ENOBUFS)
		ret = 0;
	if (ret)
		return ret;
	call->n[WP_SOCKET_STAT_TX_DATAGRAMS]++;
	return (ssize_t)len;
}

static void skb_name(const struct wp_skb *skb, struct sockaddr_in *sin)
{
	const struct wp_udp_skb_cb *cb =
		(const struct wp_udp_skb_cb *)(const void *)skb->cb;

	wp__sin_make(sin, cb->saddr, cb->sport);
}

/* One datagram into msg (udp_recvmsg); releases skb. */
static ssize_t udp_deliver(struct wp_sock_call *call, struct wp_skb *skb,
			   struct msghdr *msg, size_t len)
{
	size_t dlen = skb->len, copied;

	copied = wp__skb_copy_datagram_iovec(call, skb, msg->msg_iov,
					     msg->msg_iovlen, len);
	if (copied < dlen)
		msg->msg_flags |= MSG_TRUNC;
	if (msg->msg_name) {
		struct sockaddr_in sin;

		skb_name(skb, &sin);
		wp__put_sockaddr(&sin, msg->msg_name, &msg->msg_namelen);
	}
	if (!(call->flags & MSG_PEEK))
		call->n[WP_SOCKET_STAT_RX_DATAGRAMS]++;
	wp__skb_free_datagram(call, skb);
	/* Linux UDP: MSG_TRUNC asks for the datagram's real length. */
	return (ssize_t)((call->flags & MSG_TRUNC) ? dlen : copied);
}

static ssize_t udp_recvmsg(struct wp_sock_call *call, struct msghdr *msg,
			   size_t len)
{
	struct wp_skb *skb;
	int err;

	skb = wp__skb_recv_datagram(call, &err);
	if (!skb)
		return err;
	return udp_deliver(call, skb, msg, len);
}

/* Bytes the iovec of msg holds, or a negative errno (checked before a
 * datagram is taken, so a bad message never costs one). */
static ssize_t msg_room(struct msghdr *msg)
{
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		return -EINVAL;
	return wp__iov_total(msg->msg_iov, msg->msg_iovlen);
}

/*
 * recvmmsg: take up to RECV_BATCH datagrams per lock, copy each. The
 * messages of a batch are checked before it is taken.
 */
static int udp_recvmmsg(struct wp_sock_call *call, struct wp_mmsghdr *vec,
			unsigned vlen)
{
	struct wp_skb *skbs[RECV_BATCH];
	size_t room[RECV_BATCH];
	unsigned done = 0;
	int err = 0;

	while (done < vlen) {
		unsigned want =
			vlen - done < RECV_BATCH ? vlen - done : RECV_BATCH;
		unsigned ok, got;

		for (ok = 0; ok < want; ok++) {
			ssize_t r = msg_room(&vec[done + ok].msg_hdr);

			if (r < 0) {
				err = (int)r;
				break;
			}
			room[ok] = (size_t)r;
		}
		if (!ok)
			break;
		got = wp__skb_recv_datagrams(call, skbs, ok, &err);
		for (unsigned i = 0; i < got; i++) {
			struct msghdr *m = &vec[done + i].msg_hdr;

			m->msg_flags = 0;
			m->msg_controllen = 0;
			vec[done + i].msg_len = (unsigned)udp_deliver(
				call, skbs[i], m, room[i]);
		}
		done += got;
		if (!got || ok < want)
			break;
		err = 0;
		if (call->flags & MSG_WAITFORONE)
			call->nonblock = true;
	}
	if (!done)
		return err;
	/* do_recvmmsg: an error after some datagrams waits for the next
	 * call (EAGAIN and end of file are no errors to keep). */
	if (err && err != -EAGAIN)
		wp_sock_set_err(call->so->sk, -err);
	return (int)done;
}

static ssize_t udp_recv_zc(struct wp_sock_call *call, struct iovec *iov,
			   struct wp_zc_handle **handle, struct sockaddr *addr,
			   socklen_t *addrlen)
{
	struct wp_skb *skb;
	int err;

	*handle = NULL;
	iov->iov_base = NULL;
	iov->iov_len = 0;
	skb = wp__skb_recv_datagram(call, &err);
	if (!skb)
		return err;
	if (addr) {
		struct sockaddr_in sin;

		skb_name(skb, &sin);
		wp__put_sockaddr(&sin, addr, addrlen);
	}
	if (wp_unlikely(skb->stamps))
		wp_skb_stamp(skb, WP_STAMP_READ, wp_clock_now(call->so->clock));
	/* Lent, not copied: the application frees it with the handle. */
	iov->iov_base = skb->data;
	iov->iov_len = skb->len;
	*handle = (struct wp_zc_handle *)(void *)skb;
	call->n[WP_SOCKET_STAT_ZC_DATAGRAMS]++;
	call->n[WP_SOCKET_STAT_ZC_BYTES] += skb->len;
	return (ssize_t)skb->len;
}

static int udp_shutdown(struct wp_socket *so, int how)
{
	/* inet_shutdown: SHUT_RD 0 -> RCV_SHUTDOWN 1, and so on. An
	 * unconnected socket still shuts (waking its waiters), but the call
	 * reports ENOTCONN. */
	bool connected = LOAD(udp_of(so)->dport) != 0;

	wp_sock_shutdown(so->sk, (uint32_t)how + 1);
	return connected ? 0 : -ENOTCONN;
}

/* Linux ip_setsockopt reads an int, or a byte when optlen is 1. */
static int ip_get_val(const void *optval, socklen_t optlen, int *val)
{
	if (optlen >= (socklen_t)sizeof(int)) {
		memcpy(val, optval, sizeof(*val));
		return 0;
	}
	if (optlen >= 1) {
		*val = *(const unsigned char *)optval;
		return 0;
	}
	return -EINVAL;
}

static int udp_setsockopt(struct wp_socket *so, int level, int name,
			  const void *optval, socklen_t optlen)
{
	struct wp_udp_sock *usk = udp_of(so);
	int val, ret;

	if (level != IPPROTO_IP)
		return -ENOPROTOOPT;
	switch (name) {
	case IP_TTL:
	case IP_TOS:
	case IP_MTU_DISCOVER:
		break;
	default:
		return -ENOPROTOOPT;
	}
	ret = ip_get_val(optval, optlen, &val);
	if (ret)
		return ret;
	switch (name) {
	case IP_TTL:
		if (val == -1)
			val = 0; /* back to net.ipv4.ip_default_ttl */
		else if (val < 1 || val > 255)
			return -EINVAL;
		STORE(usk->ttl, (uint8_t)val);
		return 0;
	case IP_TOS:
		STORE(usk->tos, (uint8_t)val);
		return 0;
	default: /* IP_MTU_DISCOVER */
		if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT)
			return -EINVAL;
		atomic_store_explicit(&so->pmtudisc, val, memory_order_relaxed);
		STORE(usk->pmtudisc_do,
		      val == IP_PMTUDISC_DO || val == IP_PMTUDISC_PROBE);
		return 0;
	}
}

static int udp_getsockopt(struct wp_socket *so, int level, int name,
			  void *optval, socklen_t *optlen)
{
	struct wp_udp_sock *usk = udp_of(so);
	int v, len = (int)*optlen;

	if (level != IPPROTO_IP)
		return -ENOPROTOOPT;
	switch (name) {
	case IP_TTL:
		v = LOAD(usk->ttl);
		if (!v)
			v = 64;
		break;
	case IP_TOS:
		v = LOAD(usk->tos);
		break;
	case IP_MTU_DISCOVER:
		v = atomic_load_explicit(&so->pmtudisc, memory_order_relaxed);
		break;
	case IP_MTU:
		if (!LOAD(usk->dport))
			return -ENOTCONN;
		v = (int)wp_net_mtu(usk->net);
		break;
	default:
		return -ENOPROTOOPT;
	}
	/* do_ip_getsockopt: a short buffer gets one byte if it fits. */
	if (len < (int)sizeof(int) && len > 0 && v >= 0 && v <= 255) {
		*(unsigned char *)optval = (unsigned char)v;
		*optlen = 1;
		return 0;
	}
	if (len > (int)sizeof(int))
		len = (int)sizeof(int);
	memcpy(optval, &v, (size_t)len);
	*optlen = (socklen_t)len;
	return 0;
}

static void udp_sync_flags(struct wp_socket *so)
{
	wp_udp_set_reuseaddr(
		udp_of(so),
		atomic_load_explicit(&so->reuseaddr, memory_order_relaxed));
	wp_udp_set_reuseport(
		udp_of(so),
		atomic_load_explicit(&so->reuseport, memory_order_relaxed));
}

/* udp_ioctl SIOCINQ: the next datagram's payload length. */
static int udp_inq(struct wp_socket *so)
{
	struct wp_sock *sk = so->sk;
	int n = 0;

	wp_lock_sock(sk);
	if (sk->sk_receive_queue.head)
		n = (int)sk->sk_receive_queue.head->len;
	wp_release_sock(sk);
	return n;
}

static int udp_outq(struct wp_socket *so)
{
	return (int)atomic_load_explicit(&so->sk->sk_wmem_alloc,
					 memory_order_relaxed);
}

static void udp_show(struct wp_socket *so, FILE *out)
{
	struct wp_udp_sock *usk = udp_of(so);
	struct wp_sock *sk = so->sk;

	wp__socket_show(
		so, out, LOAD(usk->dport) ? "ESTAB" : "UNCONN",
		atomic_load_explicit(&sk->sk_rmem_alloc, memory_order_relaxed),
		atomic_load_explicit(&sk->sk_wmem_alloc, memory_order_relaxed),
		LOAD(usk->rcv_saddr), LOAD(usk->lport), LOAD(usk->daddr),
		LOAD(usk->dport), !LOAD(usk->dport));
}

const struct wp_sock_ops wp__udp_sock_ops = {
	.type = SOCK_DGRAM,
	.bind = udp_bind,
	.connect = udp_connect,
	.getname = udp_getname,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.recvmmsg = udp_recvmmsg,
	.recv_zc = udp_recv_zc,
	.shutdown = udp_shutdown,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.sync_flags = udp_sync_flags,
	.inq = udp_inq,
	.outq = udp_outq,
	.show = udp_show,
};
