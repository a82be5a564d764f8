// SPDX-License-Identifier: MIT
/*
 * The socket calls (Linux net/socket.c): descriptor to socket, argument
 * checks common to every protocol, flags, blocking mode and deadlines,
 * errno, counters; then the protocol's op (struct wp_sock_ops).
 */
#include "api/api.h"

#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "skb/skb.h"
#include "sock/fd.h"
#include "stack/stack.h"

/* Linux include/linux/net.h: SOCK_TYPE_MASK, SOCK_MAX; AF_MAX. */
#define SOCK_TYPE_MASK 0xf
#define SOCK_MAX_TYPE 11
#define IPPROTO_LIMIT 263 /* IPPROTO_MAX */

/* --- the default stack ---------------------------------------------------- */

static _Atomic(struct wp_stack *) default_stack;

struct wp_stack *wp_stack_make_default(struct wp_stack *s)
{
	return atomic_exchange_explicit(&default_stack, s,
					memory_order_acq_rel);
}

struct wp_stack *wp_stack_default(void)
{
	return atomic_load_explicit(&default_stack, memory_order_acquire);
}

/* --- counters: one block per thread, summed on reading -------------------- */

/*
 * Each thread that makes socket calls counts into its own block (single
 * writer: a relaxed load and store, no locked instruction); blocks are on
 * a list readers walk under a mutex. A thread's block is folded into
 * `retired` when the thread exits.
 */
struct stat_block {
	_Atomic uint64_t c[WP_SOCKET_STAT__MAX];
	struct stat_block *next, **pprev;
};

static pthread_mutex_t stat_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stat_block *stat_blocks;
static uint64_t stat_retired[WP_SOCKET_STAT__MAX];
static pthread_key_t stat_key;
static pthread_once_t stat_once = PTHREAD_ONCE_INIT;
static _Thread_local struct stat_block *tls_stats;

static void stat_block_retire(void *arg)
{
	struct stat_block *b = arg;

	pthread_mutex_lock(&stat_lock);
	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		stat_retired[i] +=
			atomic_load_explicit(&b->c[i], memory_order_relaxed);
	*b->pprev = b->next;
	if (b->next)
		b->next->pprev = b->pprev;
	pthread_mutex_unlock(&stat_lock);
	free(b);
}

static void stat_key_init(void)
{
	pthread_key_create(&stat_key, stat_block_retire);
}

/* The calling thread's block; NULL if it cannot have one (no memory):
 * its counts are then lost, never the call. */
static struct stat_block *stat_block_get(void)
{
	struct stat_block *b = tls_stats;

	if (wp_likely(b))
		return b;
	pthread_once(&stat_once, stat_key_init);
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	pthread_mutex_lock(&stat_lock);
	b->next = stat_blocks;
	b->pprev = &stat_blocks;
	if (stat_blocks)
		stat_blocks->pprev = &b->next;
	stat_blocks = b;
	pthread_mutex_unlock(&stat_lock);
	pthread_setspecific(stat_key, b);
	tls_stats = b;
	return b;
}

void wp__stat_add(enum wp_socket_stat stat, uint64_t n)
{
	struct stat_block *b = stat_block_get();

	if (b)
		atomic_store_explicit(
			&b->c[stat],
			atomic_load_explicit(&b->c[stat],
					     memory_order_relaxed) +
				n,
			memory_order_relaxed);
}

_Static_assert(sizeof(struct wp_socket_stats) ==
		       WP_SOCKET_STAT__MAX * sizeof(uint64_t),
	       "one field per enum wp_socket_stat");

static void stats_store(struct wp_socket_stats *st, const uint64_t *v)
{
	uint64_t *f = (uint64_t *)(void *)st;

	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		f[i] = v[i];
}

void wp_socket_get_global_stats(struct wp_socket_stats *st)
{
	uint64_t v[WP_SOCKET_STAT__MAX];

	pthread_mutex_lock(&stat_lock);
	memcpy(v, stat_retired, sizeof(v));
	for (struct stat_block *b = stat_blocks; b; b = b->next)
		for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
			v[i] += atomic_load_explicit(&b->c[i],
						     memory_order_relaxed);
	pthread_mutex_unlock(&stat_lock);
	stats_store(st, v);
}

const char *wp_socket_stat_name(enum wp_socket_stat stat)
{
	static const char *const names[WP_SOCKET_STAT__MAX] = {
		[WP_SOCKET_STAT_CALLS] = "calls",
		[WP_SOCKET_STAT_RECV_CALLS] = "recv_calls",
		[WP_SOCKET_STAT_SEND_CALLS] = "send_calls",
		[WP_SOCKET_STAT_RX_DATAGRAMS] = "rx_datagrams",
		[WP_SOCKET_STAT_RX_COPIES] = "rx_copies",
		[WP_SOCKET_STAT_RX_BYTES] = "rx_bytes_copied",
		[WP_SOCKET_STAT_ZC_DATAGRAMS] = "zc_datagrams",
		[WP_SOCKET_STAT_ZC_BYTES] = "zc_bytes",
		[WP_SOCKET_STAT_TX_DATAGRAMS] = "tx_datagrams",
		[WP_SOCKET_STAT_TX_COPIES] = "tx_copies",
		[WP_SOCKET_STAT_TX_BYTES] = "tx_bytes_copied",
		[WP_SOCKET_STAT_WOULD_BLOCK] = "would_block",
		[WP_SOCKET_STAT_SLEEPS] = "sleeps",
		[WP_SOCKET_STAT_BUSY_POLLS] = "busy_polls",
		[WP_SOCKET_STAT_BUSY_POLL_HITS] = "busy_poll_hits",
		[WP_SOCKET_STAT_ERRORS] = "errors",
	};

	if ((unsigned)stat >= WP_SOCKET_STAT__MAX)
		return "?";
	return names[stat];
}

/* --- sockets: the boundary's state on a sock ------------------------------ */

static void socket_free(struct wp_sock *sk)
{
	struct wp_socket *so = wp__socket(sk);

	sk->sk_user_data = NULL;
	sk->sk_prot = so->inner;
	so->inner->free(sk);
	free(so);
}

struct wp_socket *wp__socket_attach(struct wp_sock *sk,
				    const struct wp_sock_ops *ops,
				    struct wp_stack *stack, int domain,
				    int type, int protocol)
{
	struct wp_socket *so = calloc(1, sizeof(*so));

	if (!so) {
		errno = ENOMEM;
		return NULL;
	}
	so->sk = sk;
	so->ops = ops;
	so->stack = stack;
	so->clock = &stack->clock;
	so->domain = domain;
	so->type = type;
	so->protocol = protocol;
	atomic_init(&so->rcvtimeo_ns, WP_TIME_NEVER);
	atomic_init(&so->sndtimeo_ns, WP_TIME_NEVER);
	/* The protocol's ops, with free going through us first. */
	so->inner = sk->sk_prot;
	so->prot = *sk->sk_prot;
	so->prot.free = socket_free;
	/*
	 * An accepted stream socket is already live on its core, which may
	 * read sk_prot while it is swapped: both tables hold the same ops
	 * but free, which only the last reference (ours among them) runs.
	 */
	sk->sk_prot = &so->prot;
	sk->sk_user_data = so;
	return so;
}

int wp__socket_install(struct wp_sock *sk, const struct wp_sock_ops *ops,
		       struct wp_stack *stack, int type, int protocol,
		       int flags)
{
	struct wp_socket *so;
	int fd;

	so = wp__socket_attach(sk, ops, stack, AF_INET, type, protocol);
	if (!so) {
		wp_sock_put(sk);
		return -ENOMEM;
	}
	/* Linux's default, net.ipv4.ip_no_pmtu_disc = 0. */
	atomic_init(&so->pmtudisc, IP_PMTUDISC_WANT);
	if (flags & SOCK_NONBLOCK)
		atomic_store_explicit(&so->f_flags, O_NONBLOCK,
				      memory_order_relaxed);
	fd = wp_sock_map_fd(sk);
	if (fd < 0)
		wp_sock_put(sk); /* frees so with it */
	return fd;
}

int wp_socket_net(struct wp_stack *s, int domain, int type, int protocol)
{
	int base = type & SOCK_TYPE_MASK;
	const struct wp_sock_ops *ops;
	struct wp_sock *sk;
	int err, fd, proto;

	wp__stat_add(WP_SOCKET_STAT_CALLS, 1);
	/* Linux __sys_socket / __sock_create / inet_create, in order. */
	if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		err = -EINVAL;
		goto out_err;
	}
	if (domain < 0 || domain >= AF_MAX) {
		err = -EAFNOSUPPORT;
		goto out_err;
	}
	if (base >= SOCK_MAX_TYPE) {
		err = -EINVAL;
		goto out_err;
	}
	if (domain != AF_INET) {
		err = -EAFNOSUPPORT;
		goto out_err;
	}
	if (protocol < 0 || protocol >= IPPROTO_LIMIT) {
		err = -EINVAL;
		goto out_err;
	}
	/* inetsw: one protocol per type here. */
	if (base == SOCK_DGRAM) {
		ops = &wp__udp_sock_ops;
		proto = IPPROTO_UDP;
	} else if (base == SOCK_STREAM) {
		ops = &wp__tcp_sock_ops;
		proto = IPPROTO_TCP;
	} else {
		err = -ESOCKTNOSUPPORT;
		goto out_err;
	}
	if (protocol != 0 && protocol != proto) {
		err = -EPROTONOSUPPORT;
		goto out_err;
	}
	if (!s) {
		err = -EINVAL;
		goto out_err;
	}
	sk = base == SOCK_DGRAM ? wp__udp_sock_create(s, &err)
				: wp__tcp_sock_create(s, &err);
	if (!sk)
		goto out_err;
	fd = wp__socket_install(sk, ops, s, base, proto, type);
	if (fd < 0) {
		err = fd;
		goto out_err;
	}
	return fd;

out_err:
	wp__stat_add(WP_SOCKET_STAT_ERRORS, 1);
	errno = -err;
	return -1;
}

int wp_socket(int domain, int type, int protocol)
{
	struct wp_stack *s = wp_stack_default();

	if (!s) {
		wp__stat_add(WP_SOCKET_STAT_CALLS, 1);
		wp__stat_add(WP_SOCKET_STAT_ERRORS, 1);
		errno = ENETDOWN;
		return -1;
	}
	return wp_socket_net(s, domain, type, protocol);
}

/* --- a call --------------------------------------------------------------- */

/*
 * Find fd's socket (a reference on its file for the call) and set up the
 * call: blocking mode from the file flags and MSG_DONTWAIT. 0 or a
 * negative errno (-EBADF, -ENOTSOCK).
 */
static int call_begin(struct wp_sock_call *call, int fd, int flags,
		      enum wp_socket_stat kind)
{
	struct wp_sock *sk;

	memset(call, 0, sizeof(*call));
	call->n[WP_SOCKET_STAT_CALLS] = 1;
	if (kind != WP_SOCKET_STAT_CALLS)
		call->n[kind] = 1;
	call->flags = flags;
	call->deadline = WP_TIME_NEVER;
	sk = wp_sockfd_lookup(fd);
	if (!sk)
		return -errno;
	if (!wp__socket(sk)) {
		/* A sock mapped by someone other than this layer. */
		wp_sockfd_put(sk);
		return -ENOTSOCK;
	}
	call->so = wp__socket(sk);
	call->nonblock = (flags & MSG_DONTWAIT) ||
			 (atomic_load_explicit(&call->so->f_flags,
					       memory_order_relaxed) &
			  O_NONBLOCK);
	return 0;
}

/* Deadline from a timeout (SO_RCVTIMEO / SO_SNDTIMEO); 0: do not wait. */
static void call_set_timeout(struct wp_sock_call *call,
			     const _Atomic uint64_t *timeo)
{
	uint64_t t = atomic_load_explicit(timeo, memory_order_relaxed), now;

	if (t == WP_TIME_NEVER)
		return;
	if (t == 0) {
		call->nonblock = true;
		return;
	}
	now = wp_clock_now(call->so->clock);
	call->deadline =
		t > WP_TIME_NEVER - 1 - now ? WP_TIME_NEVER - 1 : now + t;
}

/* Count the call, drop the reference, and turn ret into the POSIX form. */
static ssize_t call_end(struct wp_sock_call *call, ssize_t ret)
{
	struct stat_block *b = stat_block_get();

	if (ret < 0)
		call->n[ret == -EAGAIN ? WP_SOCKET_STAT_WOULD_BLOCK
				       : WP_SOCKET_STAT_ERRORS]++;
	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++) {
		uint64_t n = call->n[i];

		if (!n)
			continue;
		if (call->so)
			atomic_fetch_add_explicit(&call->so->cnt.c[i], n,
						  memory_order_relaxed);
		if (b)
			atomic_store_explicit(
				&b->c[i],
				atomic_load_explicit(&b->c[i],
						     memory_order_relaxed) +
					n,
				memory_order_relaxed);
	}
	if (call->so)
		wp_sockfd_put(call->so->sk);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* --- addresses ------------------------------------------------------------ */

int wp_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct wp_sock_call call;
	int ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);

	if (ret)
		return (int)call_end(&call, ret);
	if (!addr)
		ret = -EFAULT;
	else
		ret = call.so->ops->bind(call.so, addr, addrlen);
	return (int)call_end(&call, ret);
}

int wp_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct wp_sock_call call;
	int ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);

	if (ret)
		return (int)call_end(&call, ret);
	if (!addr) {
		ret = -EFAULT;
	} else {
		call_set_timeout(&call, &call.so->sndtimeo_ns);
		ret = call.so->ops->connect(&call, addr, addrlen);
	}
	return (int)call_end(&call, ret);
}

int wp_listen(int fd, int backlog)
{
	struct wp_sock_call call;
	int ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);

	if (ret)
		return (int)call_end(&call, ret);
	if (!call.so->ops->listen)
		ret = -EOPNOTSUPP;
	else
		ret = call.so->ops->listen(call.so, backlog);
	return (int)call_end(&call, ret);
}

int wp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct wp_sock_call call;
	struct wp_socket *so;
	struct sockaddr_in sin;
	struct wp_sock *nsk;
	ssize_t ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);
	int err;

	if (ret)
		return (int)call_end(&call, ret);
	so = call.so;
	/* Linux __sys_accept4: flags first, then the socket's ops. */
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) {
		ret = -EINVAL;
		goto out;
	}
	if (!so->ops->accept) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (addr && (!addrlen || (int)*addrlen < 0)) {
		ret = addrlen ? -EINVAL : -EFAULT;
		goto out;
	}
	call_set_timeout(&call, &so->rcvtimeo_ns);
	nsk = so->ops->accept(&call, &err);
	if (!nsk) {
		ret = err;
		goto out;
	}
	/* The peer's name comes from the new socket before it has a
	 * descriptor another thread could close. */
	if (addr) {
		struct wp_socket tmp = { .sk = nsk };

		if (so->ops->getname(&tmp, &sin, true) == 0)
			wp__put_sockaddr(&sin, addr, addrlen);
		else
			*addrlen = 0;
	}
	ret = wp__socket_install(nsk, so->ops, so->stack, so->type,
				 so->protocol, flags);
out:
	return (int)call_end(&call, ret);
}

int wp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return wp_accept4(fd, addr, addrlen, 0);
}

void wp__put_sockaddr(const struct sockaddr_in *sin, struct sockaddr *addr,
		      socklen_t *len)
{
	socklen_t n =
		*len < (socklen_t)sizeof(*sin) ? *len : (socklen_t)sizeof(*sin);

	if (n > 0)
		memcpy(addr, sin, (size_t)n);
	*len = (socklen_t)sizeof(*sin);
}

static int getname(int fd, struct sockaddr *addr, socklen_t *addrlen, bool peer)
{
	struct sockaddr_in sin;
	struct wp_sock_call call;
	int ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);

	if (ret)
		return (int)call_end(&call, ret);
	if (!addr || !addrlen) {
		ret = -EFAULT;
	} else if ((int)*addrlen < 0) {
		ret = -EINVAL;
	} else {
		ret = call.so->ops->getname(call.so, &sin, peer);
		if (!ret)
			wp__put_sockaddr(&sin, addr, addrlen);
	}
	return (int)call_end(&call, ret);
}

int wp_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return getname(fd, addr, addrlen, false);
}

int wp_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return getname(fd, addr, addrlen, true);
}

int wp_shutdown(int fd, int how)
{
	struct wp_sock_call call;
	int ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);

	if (ret)
		return (int)call_end(&call, ret);
	if (how < SHUT_RD || how > SHUT_RDWR)
		ret = -EINVAL;
	else
		ret = call.so->ops->shutdown(call.so, how);
	return (int)call_end(&call, ret);
}

/* --- iovecs --------------------------------------------------------------- */

ssize_t wp__iov_total(const struct iovec *iov, size_t n)
{
	size_t total = 0;

	if (n > IOV_MAX)
		return -EMSGSIZE;
	if (n && !iov)
		return -EFAULT;
	for (size_t i = 0; i < n; i++) {
		if (iov[i].iov_len > (size_t)SSIZE_MAX - total)
			return -EINVAL;
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EFAULT;
		total += iov[i].iov_len;
	}
	return (ssize_t)total;
}

void wp__copy_from_iovec(struct wp_sock_call *call, uint8_t *dst,
			 const struct iovec *iov, size_t iovlen, size_t len)
{
	for (size_t i = 0; i < iovlen && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		if (!n)
			continue;
		memcpy(dst, iov[i].iov_base, n);
		dst += n;
		len -= n;
		call->n[WP_SOCKET_STAT_TX_COPIES]++;
		call->n[WP_SOCKET_STAT_TX_BYTES] += n;
	}
}

/* --- send ----------------------------------------------------------------- */

/* Flags a send understands; MSG_MORE is accepted and ignored. */
#define SEND_FLAGS                                                             \
	(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CONFIRM | MSG_MORE | MSG_EOR)

static ssize_t do_sendmsg(struct wp_sock_call *call, const struct msghdr *msg)
{
	ssize_t len;

	if (call->flags & MSG_OOB)
		return -EOPNOTSUPP;
	len = wp__iov_total(msg->msg_iov, msg->msg_iovlen);
	if (len < 0)
		return len;
	if (msg->msg_name && msg->msg_namelen > 0 &&
	    msg->msg_namelen < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	call_set_timeout(call, &call->so->sndtimeo_ns);
	return call->so->ops->sendmsg(call, msg, (size_t)len);
}

ssize_t wp_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_SEND_CALLS);

	if (ret)
		return call_end(&call, ret);
	ret = msg ? do_sendmsg(&call, msg) : -EFAULT;
	return call_end(&call, ret);
}

ssize_t wp_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *dest, socklen_t addrlen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = (void *)dest,
		.msg_namelen = dest ? addrlen : 0,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_SEND_CALLS);

	if (ret)
		return call_end(&call, ret);
	ret = do_sendmsg(&call, &msg);
	return call_end(&call, ret);
}

ssize_t wp_send(int fd, const void *buf, size_t len, int flags)
{
	return wp_sendto(fd, buf, len, flags, NULL, 0);
}

int wp_sendmmsg(int fd, struct wp_mmsghdr *vec, unsigned int vlen, int flags)
{
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_SEND_CALLS);
	unsigned i;

	if (ret)
		return (int)call_end(&call, ret);
	if (!vec && vlen) {
		ret = -EFAULT;
		goto out;
	}
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV; /* Linux caps the batch */
	for (i = 0; i < vlen; i++) {
		uint64_t deadline = call.deadline;

		ret = do_sendmsg(&call, &vec[i].msg_hdr);
		call.deadline = deadline;
		if (ret < 0)
			break;
		vec[i].msg_len = (unsigned)ret;
	}
	if (i > 0) {
		/* Linux __sys_sendmmsg: the datagrams sent count; the error
		 * waits for the next call, unless it is EAGAIN. */
		if (ret < 0 && ret != -EAGAIN)
			wp_sock_set_err(call.so->sk, (int)-ret);
		ret = i;
	}
out:
	return (int)call_end(&call, ret);
}

/* --- receive -------------------------------------------------------------- */

static ssize_t do_recvmsg(struct wp_sock_call *call, struct msghdr *msg)
{
	ssize_t len;

	if (call->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (call->flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no error queue: never any queued error */
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		return -EINVAL;
	len = wp__iov_total(msg->msg_iov, msg->msg_iovlen);
	if (len < 0)
		return len;
	msg->msg_flags = 0;
	msg->msg_controllen = 0;
	return call->so->ops->recvmsg(call, msg, (size_t)len);
}

ssize_t wp_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_RECV_CALLS);

	if (ret)
		return call_end(&call, ret);
	call_set_timeout(&call, &call.so->rcvtimeo_ns);
	ret = msg ? do_recvmsg(&call, msg) : -EFAULT;
	return call_end(&call, ret);
}

ssize_t wp_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *src, socklen_t *addrlen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = src,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_RECV_CALLS);

	if (ret)
		return call_end(&call, ret);
	if (src) {
		if (!addrlen) {
			ret = -EFAULT;
			goto out;
		}
		msg.msg_namelen = *addrlen;
	}
	call_set_timeout(&call, &call.so->rcvtimeo_ns);
	ret = do_recvmsg(&call, &msg);
	if (ret >= 0 && src)
		*addrlen = msg.msg_namelen;
out:
	return call_end(&call, ret);
}

ssize_t wp_recv(int fd, void *buf, size_t len, int flags)
{
	return wp_recvfrom(fd, buf, len, flags, NULL, NULL);
}

/* The generic recvmmsg: one recvmsg after another (Linux do_recvmmsg). */
static int recvmmsg_loop(struct wp_sock_call *call, struct wp_mmsghdr *vec,
			 unsigned vlen)
{
	unsigned i;
	ssize_t ret = 0;

	for (i = 0; i < vlen; i++) {
		ret = do_recvmsg(call, &vec[i].msg_hdr);
		if (ret < 0)
			break;
		vec[i].msg_len = (unsigned)ret;
		if (call->flags & MSG_WAITFORONE)
			call->nonblock = true;
	}
	return i ? (int)i : (int)ret;
}

int wp_recvmmsg(int fd, struct wp_mmsghdr *vec, unsigned int vlen, int flags,
		struct timespec *timeout)
{
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_RECV_CALLS);
	int n;

	if (ret)
		return (int)call_end(&call, ret);
	if ((!vec && vlen) || (call.flags & MSG_OOB)) {
		ret = !vec && vlen ? -EFAULT : -EOPNOTSUPP;
		goto out;
	}
	if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
			timeout->tv_nsec >= (long)WP_NSEC_PER_SEC)) {
		ret = -EINVAL;
		goto out;
	}
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	call_set_timeout(&call, &call.so->rcvtimeo_ns);
	if (timeout) {
		uint64_t t = (uint64_t)timeout->tv_sec * WP_NSEC_PER_SEC +
			     (uint64_t)timeout->tv_nsec;
		uint64_t now = wp_clock_now(call.so->clock);
		uint64_t d = t > WP_TIME_NEVER - 1 - now ? WP_TIME_NEVER - 1
							 : now + t;

		if (d < call.deadline)
			call.deadline = d;
	}
	if (call.so->ops->recvmmsg && !(call.flags & (MSG_PEEK | MSG_ERRQUEUE)))
		n = call.so->ops->recvmmsg(&call, vec, vlen);
	else
		n = recvmmsg_loop(&call, vec, vlen);
	if (n > 0 && timeout) {
		uint64_t now = wp_clock_now(call.so->clock);
		uint64_t left = call.deadline > now ? call.deadline - now : 0;

		if (call.deadline != WP_TIME_NEVER) {
			timeout->tv_sec = (time_t)(left / WP_NSEC_PER_SEC);
			timeout->tv_nsec = (long)(left % WP_NSEC_PER_SEC);
		}
	}
	ret = n;
out:
	return (int)call_end(&call, ret);
}

ssize_t wp_recv_zc(int fd, struct iovec *iov, struct wp_zc_handle **handle,
		   int flags, struct sockaddr *src, socklen_t *addrlen)
{
	struct wp_sock_call call;
	ssize_t ret = call_begin(&call, fd, flags, WP_SOCKET_STAT_RECV_CALLS);

	if (ret)
		return call_end(&call, ret);
	if (!iov || !handle || (src && !addrlen)) {
		ret = -EFAULT;
	} else if ((flags & (MSG_PEEK | MSG_TRUNC)) ||
		   (src && (int)*addrlen < 0)) {
		ret = -EINVAL;
	} else if (flags & MSG_OOB) {
		ret = -EOPNOTSUPP;
	} else if (!call.so->ops->recv_zc) {
		ret = -EOPNOTSUPP;
	} else {
		call_set_timeout(&call, &call.so->rcvtimeo_ns);
		ret = call.so->ops->recv_zc(&call, iov, handle, src, addrlen);
	}
	return call_end(&call, ret);
}

void wp_recv_zc_release(struct wp_zc_handle *handle)
{
	/* The handle is the skb: back to its pool from this thread. */
	wp_consume_skb((struct wp_skb *)(void *)handle);
}

/* --- fcntl, ioctl --------------------------------------------------------- */

int wp_fcntl(int fd, int cmd, ...)
{
	struct wp_sock_call call;
	struct wp_file *f;
	ssize_t ret;
	va_list ap;
	int arg = 0;

	if (cmd == F_SETFL || cmd == F_SETFD) {
		va_start(ap, cmd);
		arg = va_arg(ap, int);
		va_end(ap);
	}
	/* Any descriptor answers the flag queries; only sockets have flags
	 * that change anything. */
	f = wp_fdget(wp_fdtable_current(), fd);
	if (!f) {
		memset(&call, 0, sizeof(call));
		call.n[WP_SOCKET_STAT_CALLS] = 1;
		return (int)call_end(&call, -EBADF);
	}
	if (f->f_op->type != WP_FILE_SOCKET) {
		wp_file_put(f);
		memset(&call, 0, sizeof(call));
		call.n[WP_SOCKET_STAT_CALLS] = 1;
		if (cmd == F_GETFL)
			return (int)call_end(&call, O_RDWR);
		if (cmd == F_GETFD || cmd == F_SETFD || cmd == F_SETFL)
			return (int)call_end(&call, 0);
		return (int)call_end(&call, -EINVAL);
	}
	wp_file_put(f);
	ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);
	if (ret)
		return (int)call_end(&call, ret);
	switch (cmd) {
	case F_GETFL:
		ret = O_RDWR | atomic_load_explicit(&call.so->f_flags,
						    memory_order_relaxed);
		break;
	case F_SETFL:
		atomic_store_explicit(&call.so->f_flags, arg & O_NONBLOCK,
				      memory_order_relaxed);
		ret = 0;
		break;
	case F_GETFD:
	case F_SETFD:
		ret = 0;
		break;
	default:
		ret = -EINVAL;
	}
	return (int)call_end(&call, ret);
}

int wp_ioctl(int fd, unsigned long request, ...)
{
	struct wp_sock_call call;
	ssize_t ret;
	va_list ap;
	int *arg;

	va_start(ap, request);
	arg = va_arg(ap, int *);
	va_end(ap);
	ret = call_begin(&call, fd, 0, WP_SOCKET_STAT_CALLS);
	if (ret)
		return (int)call_end(&call, ret);
	if (request != FIONBIO && request != FIONREAD && request != SIOCOUTQ) {
		ret = -ENOTTY;
	} else if (!arg) {
		ret = -EFAULT;
	} else if (request == FIONBIO) {
		atomic_store_explicit(&call.so->f_flags, *arg ? O_NONBLOCK : 0,
				      memory_order_relaxed);
		ret = 0;
	} else {
		ret = request == FIONREAD ? call.so->ops->inq(call.so)
					  : call.so->ops->outq(call.so);
		if (ret >= 0) {
			*arg = (int)ret;
			ret = 0;
		}
	}
	return (int)call_end(&call, ret);
}

/* --- stats ---------------------------------------------------------------- */

int wp_socket_get_stats(int fd, struct wp_socket_stats *st)
{
	uint64_t v[WP_SOCKET_STAT__MAX];
	struct wp_socket *so;
	struct wp_sock *sk;

	if (!st) {
		errno = EFAULT;
		return -1;
	}
	sk = wp_sockfd_lookup(fd);
	if (!sk)
		return -1;
	so = wp__socket(sk);
	if (!so) {
		wp_sockfd_put(sk);
		errno = ENOTSOCK;
		return -1;
	}
	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		v[i] = atomic_load_explicit(&so->cnt.c[i],
					    memory_order_relaxed);
	wp_sockfd_put(sk);
	stats_store(st, v);
	return 0;
}

void wp_socket_print_stats(FILE *out)
{
	struct wp_socket_stats st;
	const uint64_t *v = (const uint64_t *)(const void *)&st;

	wp_socket_get_global_stats(&st);
	fprintf(out, "Sockets:\n");
	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		fprintf(out, "    %s: %llu\n",
			wp_socket_stat_name((enum wp_socket_stat)i),
			(unsigned long long)v[i]);
}

static void print_ap(FILE *out, uint32_t a, uint16_t port, bool any)
{
	char buf[32];

	if (any)
		snprintf(buf, sizeof(buf), "*:*");
	else
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u:%u", a >> 24,
			 (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, port);
	fprintf(out, "%-21s ", buf);
}

void wp__socket_show(struct wp_socket *so, FILE *out, const char *state,
		     uint32_t recvq, uint32_t sendq, uint32_t laddr,
		     uint16_t lport, uint32_t daddr, uint16_t dport,
		     bool peer_any)
{
	struct wp_sock *sk = so->sk;
	uint64_t c[WP_SOCKET_STAT__MAX];

	for (int i = 0; i < WP_SOCKET_STAT__MAX; i++)
		c[i] = atomic_load_explicit(&so->cnt.c[i],
					    memory_order_relaxed);
	fprintf(out, "%-10s %6u %6u ", state, recvq, sendq);
	print_ap(out, laddr, lport, false);
	print_ap(out, daddr, dport, peer_any);
	fprintf(out, "%u %llu %llu %llu %llu %llu %llu %llu\n",
		atomic_load_explicit(&sk->sk_drops, memory_order_relaxed),
		(unsigned long long)c[WP_SOCKET_STAT_RX_DATAGRAMS],
		(unsigned long long)c[WP_SOCKET_STAT_RX_COPIES],
		(unsigned long long)c[WP_SOCKET_STAT_RX_BYTES],
		(unsigned long long)c[WP_SOCKET_STAT_ZC_DATAGRAMS],
		(unsigned long long)c[WP_SOCKET_STAT_TX_DATAGRAMS],
		(unsigned long long)c[WP_SOCKET_STAT_TX_BYTES],
		(unsigned long long)c[WP_SOCKET_STAT_CALLS]);
}

void wp_socket_print_all(FILE *out)
{
	struct wp_fdtable *t = wp_fdtable_current();
	unsigned size;

	fprintf(out, "%-4s %-10s %6s %6s %-21s %-21s %s\n", "Fd", "State",
		"Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port",
		"drops rx_datagrams rx_copies rx_bytes zc tx_datagrams "
		"tx_bytes calls");
	pthread_mutex_lock(&t->lock);
	size = t->size;
	pthread_mutex_unlock(&t->lock);
	for (unsigned fd = 0; fd < size; fd++) {
		struct wp_file *f = wp_fdget(t, (int)fd);
		struct wp_socket *so;

		if (!f)
			continue;
		so = f->f_op->type == WP_FILE_SOCKET
			     ? wp__socket((struct wp_sock *)f->private_data)
			     : NULL;
		if (so) {
			fprintf(out, "%-4u ", fd);
			so->ops->show(so, out);
		}
		wp_file_put(f);
	}
}
