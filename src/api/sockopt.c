// SPDX-License-Identifier: MIT
/*
 * setsockopt / getsockopt at level SOL_SOCKET (Linux sk_setsockopt,
 * sk_getsockopt); other levels go to the protocol's ops.
 */
#include "api/api.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "core/sysctl.h"
#include "skb/pool.h"
#include "stack/stack.h"

/*
 * SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF: room for two datagrams of a
 * default-sized buffer (Linux: 2 * TCP_SKB_MIN_TRUESIZE), so a socket
 * shrunk to the minimum still queues one.
 */
#define SOCK_MIN_BUF ((int)(2 * (WP_POOL_BUF_SIZE + sizeof(struct wp_skb))))

static int get_int(const void *optval, socklen_t optlen, int *val)
{
	if (optlen < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, optval, sizeof(*val));
	return 0;
}

/* __sock_set_rcvbuf / sndbuf: val already clamped to the max. */
static int buf_size(uint32_t val)
{
	if (val > INT_MAX / 2)
		val = INT_MAX / 2;
	return (int)val * 2 > SOCK_MIN_BUF ? (int)val * 2 : SOCK_MIN_BUF;
}

/*
 * sock_set_timeout: a struct timeval. tv_usec out of range is EDOM; a
 * negative tv_sec means no wait at all; {0, 0} means forever.
 */
static int set_timeout(_Atomic uint64_t *timeo, const void *optval,
		       socklen_t optlen)
{
	struct timeval tv;
	uint64_t ns;

	if (optlen < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, optval, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		ns = 0;
	} else if (tv.tv_sec == 0 && tv.tv_usec == 0) {
		ns = WP_TIME_NEVER;
	} else if ((uint64_t)tv.tv_sec >=
		   (WP_TIME_NEVER - 1) / WP_NSEC_PER_SEC - 1) {
		ns = WP_TIME_NEVER; /* longer than anything: forever */
	} else {
		ns = (uint64_t)tv.tv_sec * WP_NSEC_PER_SEC +
		     (uint64_t)tv.tv_usec * WP_NSEC_PER_USEC;
	}
	atomic_store_explicit(timeo, ns, memory_order_relaxed);
	return 0;
}

static int sock_setsockopt(struct wp_socket *so, int name, const void *optval,
			   socklen_t optlen)
{
	struct wp_sysctl *sysctl = &so->stack->sysctl;
	struct wp_sock *sk = so->sk;
	int val, ret;

	if (name == SO_RCVTIMEO || name == SO_SNDTIMEO)
		return set_timeout(name == SO_RCVTIMEO ? &so->rcvtimeo_ns
						       : &so->sndtimeo_ns,
				   optval, optlen);
	ret = get_int(optval, optlen, &val);
	if (ret)
		return ret;
	switch (name) {
	case SO_RCVBUF:
	case SO_RCVBUFFORCE: {
		/* min_t(u32, ...): a negative value is a huge one. */
		uint32_t max = (uint32_t)wp_sysctl_read(&sysctl->rmem_max);
		uint32_t v =
			name == SO_RCVBUF
				? ((uint32_t)val < max ? (uint32_t)val : max)
				: (val < 0 ? 0 : (uint32_t)val);

		atomic_store_explicit(&sk->sk_rcvbuf, buf_size(v),
				      memory_order_relaxed);
		atomic_fetch_or(&sk->sk_userlocks, WP_SOCK_RCVBUF_LOCK);
		return 0;
	}
	case SO_SNDBUF:
	case SO_SNDBUFFORCE: {
		uint32_t max = (uint32_t)wp_sysctl_read(&sysctl->wmem_max);
		uint32_t v =
			name == SO_SNDBUF
				? ((uint32_t)val < max ? (uint32_t)val : max)
				: (val < 0 ? 0 : (uint32_t)val);

		atomic_store_explicit(&sk->sk_sndbuf, buf_size(v),
				      memory_order_relaxed);
		atomic_fetch_or(&sk->sk_userlocks, WP_SOCK_SNDBUF_LOCK);
		/* More room may wake writers (Linux calls sk_write_space). */
		sk->sk_write_space(sk);
		return 0;
	}
	case SO_REUSEADDR:
		atomic_store_explicit(&so->reuseaddr, val != 0,
				      memory_order_relaxed);
		break;
	case SO_REUSEPORT:
		atomic_store_explicit(&so->reuseport, val != 0,
				      memory_order_relaxed);
		break;
	case SO_BROADCAST:
		atomic_store_explicit(&so->broadcast, val != 0,
				      memory_order_relaxed);
		break;
	case SO_BUSY_POLL:
		/* Linux: negative is EINVAL (raising it above
		 * net.core.busy_read needs CAP_NET_ADMIN there; a process
		 * owns its whole stack here). */
		if (val < 0)
			return -EINVAL;
		atomic_store_explicit(&sk->sk_ll_usec, (uint32_t)val,
				      memory_order_relaxed);
		return 0;
	default:
		/* SO_KEEPALIVE, SO_LINGER, ...: the protocol's, if any. */
		return so->ops->setsockopt
			       ? so->ops->setsockopt(so, SOL_SOCKET, name,
						     optval, optlen)
			       : -ENOPROTOOPT;
	}
	if (so->ops->sync_flags)
		so->ops->sync_flags(so);
	return 0;
}

/* Copy v (lv bytes) out, truncated to *optlen (Linux sk_getsockopt). */
static int put_opt(void *optval, socklen_t *optlen, const void *v, int lv)
{
	int len = (int)*optlen;

	if (len > lv)
		len = lv;
	memcpy(optval, v, (size_t)len);
	*optlen = (socklen_t)len;
	return 0;
}

static void get_timeout(const _Atomic uint64_t *timeo, struct timeval *tv)
{
	uint64_t ns = atomic_load_explicit(timeo, memory_order_relaxed);

	if (ns == WP_TIME_NEVER)
		ns = 0;
	tv->tv_sec = (time_t)(ns / WP_NSEC_PER_SEC);
	tv->tv_usec = (suseconds_t)(ns % WP_NSEC_PER_SEC / WP_NSEC_PER_USEC);
}

static int sock_getsockopt(struct wp_socket *so, int name, void *optval,
			   socklen_t *optlen)
{
	struct wp_sock *sk = so->sk;
	struct timeval tv;
	int v;

	switch (name) {
	case SO_RCVTIMEO:
	case SO_SNDTIMEO:
		get_timeout(name == SO_RCVTIMEO ? &so->rcvtimeo_ns
						: &so->sndtimeo_ns,
			    &tv);
		return put_opt(optval, optlen, &tv, (int)sizeof(tv));
	case SO_RCVBUF:
		v = atomic_load_explicit(&sk->sk_rcvbuf, memory_order_relaxed);
		break;
	case SO_SNDBUF:
		v = atomic_load_explicit(&sk->sk_sndbuf, memory_order_relaxed);
		break;
	case SO_REUSEADDR:
		v = atomic_load_explicit(&so->reuseaddr, memory_order_relaxed);
		break;
	case SO_REUSEPORT:
		v = atomic_load_explicit(&so->reuseport, memory_order_relaxed);
		break;
	case SO_BROADCAST:
		v = atomic_load_explicit(&so->broadcast, memory_order_relaxed);
		break;
	case SO_BUSY_POLL:
		v = (int)atomic_load_explicit(&sk->sk_ll_usec,
					      memory_order_relaxed);
		break;
	case SO_ERROR:
		v = -wp_sock_error(sk); /* reading it clears it */
		break;
	case SO_TYPE:
		v = so->type;
		break;
	case SO_DOMAIN:
		v = so->domain;
		break;
	case SO_PROTOCOL:
		v = so->protocol;
		break;
	case SO_ACCEPTCONN:
		v = wp_sk_state(sk) == WP_TCP_LISTEN;
		break;
	default:
		return so->ops->getsockopt
			       ? so->ops->getsockopt(so, SOL_SOCKET, name,
						     optval, optlen)
			       : -ENOPROTOOPT;
	}
	return put_opt(optval, optlen, &v, (int)sizeof(v));
}

int wp_setsockopt(int fd, int level, int optname, const void *optval,
		  socklen_t optlen)
{
	struct wp_sock *sk = wp_sockfd_lookup(fd);
	struct wp_socket *so;
	int ret;

	wp__stat_add(WP_SOCKET_STAT_CALLS, 1);
	if (!sk) {
		ret = -errno;
		goto out_err;
	}
	so = wp__socket(sk);
	if (!so) {
		wp_sockfd_put(sk);
		ret = -ENOTSOCK;
		goto out_err;
	}
	atomic_fetch_add_explicit(&so->cnt.c[WP_SOCKET_STAT_CALLS], 1,
				  memory_order_relaxed);
	if (!optval)
		ret = -EFAULT;
	else if ((int)optlen < 0)
		ret = -EINVAL;
	else if (level == SOL_SOCKET)
		ret = sock_setsockopt(so, optname, optval, optlen);
	else if (so->ops->setsockopt)
		ret = so->ops->setsockopt(so, level, optname, optval, optlen);
	else
		ret = -ENOPROTOOPT;
	if (ret)
		atomic_fetch_add_explicit(&so->cnt.c[WP_SOCKET_STAT_ERRORS], 1,
					  memory_order_relaxed);
	wp_sockfd_put(sk);
	if (!ret)
		return 0;
out_err:
	wp__stat_add(WP_SOCKET_STAT_ERRORS, 1);
	errno = -ret;
	return -1;
}

int wp_getsockopt(int fd, int level, int optname, void *optval,
		  socklen_t *optlen)
{
	struct wp_sock *sk = wp_sockfd_lookup(fd);
	struct wp_socket *so;
	int ret;

	wp__stat_add(WP_SOCKET_STAT_CALLS, 1);
	if (!sk) {
		ret = -errno;
		goto out_err;
	}
	so = wp__socket(sk);
	if (!so) {
		wp_sockfd_put(sk);
		ret = -ENOTSOCK;
		goto out_err;
	}
	atomic_fetch_add_explicit(&so->cnt.c[WP_SOCKET_STAT_CALLS], 1,
				  memory_order_relaxed);
	if (!optval || !optlen)
		ret = -EFAULT;
	else if ((int)*optlen < 0)
		ret = -EINVAL;
	else if (level == SOL_SOCKET)
		ret = sock_getsockopt(so, optname, optval, optlen);
	else if (so->ops->getsockopt)
		ret = so->ops->getsockopt(so, level, optname, optval, optlen);
	else
		ret = -ENOPROTOOPT;
	if (ret)
		atomic_fetch_add_explicit(&so->cnt.c[WP_SOCKET_STAT_ERRORS], 1,
					  memory_order_relaxed);
	wp_sockfd_put(sk);
	if (!ret)
		return 0;
out_err:
	wp__stat_add(WP_SOCKET_STAT_ERRORS, 1);
	errno = -ret;
	return -1;
}
