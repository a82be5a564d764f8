/* SPDX-License-Identifier: MIT */
/*
 * The system-call boundary's insides (Linux net/socket.c, struct socket
 * and struct proto_ops), shared by the files of src/api and by tools.
 *
 * A descriptor names a wp_file whose private data is a struct wp_sock
 * (src/sock). The boundary hangs its own per-socket state on
 * sk->sk_user_data: a struct wp_socket with the protocol's call table,
 * the stack the socket lives on, the file flags (O_NONBLOCK), the
 * timeouts and the counters. It lives as long as the sock does: it is
 * freed by the protocol's free op, which the boundary wraps.
 *
 * A call: wp_sockfd_lookup() takes a reference on the file for the
 * call's duration (a concurrent wp_close cannot free the socket under
 * it), the generic code checks arguments and flags, then the protocol's
 * op does the work. Ops return 0 / a byte count or a negative errno;
 * the public functions turn that into -1 and errno.
 */
#ifndef WP_API_API_H
#define WP_API_API_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/clock.h"
#include "sock/sock.h"
#include "wirepath/socket.h"

struct wp_stack;
struct wp_socket;

/* Per-socket counters: relaxed atomic adds, any calling thread. */
struct wp_socket_counters {
	_Atomic uint64_t c[WP_SOCKET_STAT__MAX];
};

/*
 * One call in progress: what the generic layer worked out for the op
 * (blocking or not, until when) and what the op reports back for the
 * counters, added once per call.
 */
struct wp_sock_call {
	struct wp_socket *so;
	int flags;	   /* MSG_* of the call */
	bool nonblock;	   /* O_NONBLOCK or MSG_DONTWAIT */
	uint64_t deadline; /* on so->clock; WP_TIME_NEVER: none */
	uint64_t n[WP_SOCKET_STAT__MAX];
};

/*
 * What a protocol family/type provides (Linux struct proto_ops). Every
 * op gets the socket and returns 0, a count, or a negative errno.
 */
struct wp_sock_ops {
	int type; /* SOCK_DGRAM, ... */
	int (*bind)(struct wp_socket *so, const struct sockaddr *addr,
		    socklen_t len);
	/* AF_UNSPEC is handled by the op (disconnect). The call says
	 * whether a stream connect may wait for its handshake. */
	int (*connect)(struct wp_sock_call *call, const struct sockaddr *addr,
		       socklen_t len);
	/* Stream sockets only (NULL: EOPNOTSUPP). accept returns the new
	 * connection's sock with one reference (the caller's), or NULL
	 * with *err, waiting as call says. */
	int (*listen)(struct wp_socket *so, int backlog);
	struct wp_sock *(*accept)(struct wp_sock_call *call, int *err);
	/* Fill *sin with the local (peer false) or remote address. */
	int (*getname)(struct wp_socket *so, struct sockaddr_in *sin,
		       bool peer);
	ssize_t (*sendmsg)(struct wp_sock_call *call, const struct msghdr *msg,
			   size_t len);
	/* One message, or up to vlen (recvmmsg); ops without it get the
	 * generic loop over recvmsg. */
	ssize_t (*recvmsg)(struct wp_sock_call *call, struct msghdr *msg,
			   size_t len);
	int (*recvmmsg)(struct wp_sock_call *call, struct wp_mmsghdr *vec,
			unsigned vlen);
	ssize_t (*recv_zc)(struct wp_sock_call *call, struct iovec *iov,
			   struct wp_zc_handle **handle, struct sockaddr *addr,
			   socklen_t *addrlen);
	int (*shutdown)(struct wp_socket *so, int how);
	/* Options of levels other than SOL_SOCKET (IPPROTO_IP, ...). */
	int (*setsockopt)(struct wp_socket *so, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(struct wp_socket *so, int level, int name, void *val,
			  socklen_t *len);
	/* SO_REUSEADDR / SO_REUSEPORT / SO_BROADCAST changed. */
	void (*sync_flags)(struct wp_socket *so);
	/* FIONREAD (SIOCINQ) and SIOCOUTQ. */
	int (*inq)(struct wp_socket *so);
	int (*outq)(struct wp_socket *so);
	/* A line of `wirepath stat sockets`. */
	void (*show)(struct wp_socket *so, FILE *out);
};

struct wp_socket {
	struct wp_sock *sk;
	const struct wp_sock_ops *ops;
	struct wp_stack *stack;
	struct wp_clock *clock;	      /* the stack's: timeouts run on it */
	const struct wp_proto *inner; /* the protocol's own wp_proto */
	struct wp_proto prot;	      /* inner, with free wrapped */
	int domain, type, protocol;
	_Atomic int f_flags;	      /* O_NONBLOCK */
	_Atomic uint64_t rcvtimeo_ns; /* WP_TIME_NEVER: block forever */
	_Atomic uint64_t sndtimeo_ns;
	_Atomic bool reuseaddr, reuseport, broadcast;
	_Atomic int pmtudisc;	 /* IP_MTU_DISCOVER mode (inet sockets) */
	_Atomic bool connecting; /* a stream connect began, not reported */
	struct wp_socket_counters cnt;
};

static inline struct wp_socket *wp__socket(struct wp_sock *sk)
{
	return (struct wp_socket *)sk->sk_user_data;
}

/*
 * Allocate the boundary's state for sk (one reference, the caller's) and
 * wrap its protocol's free op so the state goes with the sock. NULL with
 * errno ENOMEM; sk is untouched then.
 */
struct wp_socket *wp__socket_attach(struct wp_sock *sk,
				    const struct wp_sock_ops *ops,
				    struct wp_stack *stack, int domain,
				    int type, int protocol);

/* The UDP ops (udp_sock.c) and their constructor: a new UDP sock on s. */
extern const struct wp_sock_ops wp__udp_sock_ops;
struct wp_sock *wp__udp_sock_create(struct wp_stack *s, int *err);

/* The TCP ops (tcp_sock.c) and their constructor. */
extern const struct wp_sock_ops wp__tcp_sock_ops;
struct wp_sock *wp__tcp_sock_create(struct wp_stack *s, int *err);

/*
 * Give an accepted sock the boundary's state and a descriptor (flags:
 * SOCK_NONBLOCK). Takes over the caller's reference on sk whatever
 * happens. Returns the descriptor or a negative errno.
 */
int wp__socket_install(struct wp_sock *sk, const struct wp_sock_ops *ops,
		       struct wp_stack *stack, int type, int protocol,
		       int flags);

/* A row of wp_socket_print_all (the protocol's show op calls it). */
void wp__socket_show(struct wp_socket *so, FILE *out, const char *state,
		     uint32_t recvq, uint32_t sendq, uint32_t laddr,
		     uint16_t lport, uint32_t daddr, uint16_t dport,
		     bool peer_any);

/* sockaddr_in helpers shared by the inet protocols. */
void wp__sin_make(struct sockaddr_in *sin, uint32_t addr, uint16_t port);

/* --- the generic datagram receive path (datagram.c) ----------------------- */

/*
 * Linux __skb_recv_datagram: the first skb of sk_receive_queue, dequeued
 * (or referenced, with MSG_PEEK), waiting as call says. Returns the skb
 * or NULL with *err: a pending socket error, -EAGAIN (nothing, and the
 * call may not wait or its deadline passed), 0 (receive side shut down:
 * end of file), -ENOMEM.
 */
struct wp_skb *wp__skb_recv_datagram(struct wp_sock_call *call, int *err);

/*
 * Up to n skbs off the queue at once (one lock), waiting for the first
 * as call says; errors as wp__skb_recv_datagram. Returns how many.
 */
unsigned wp__skb_recv_datagrams(struct wp_sock_call *call, struct wp_skb **skbs,
				unsigned n, int *err);

/* Release an skb the receive path handed out (consume; READ stamp). */
void wp__skb_free_datagram(struct wp_sock_call *call, struct wp_skb *skb);

/*
 * Copy skb's data from offset 0 into the iovec: at most len bytes. One
 * copy counted per segment written. Returns bytes copied.
 */
size_t wp__skb_copy_datagram_iovec(struct wp_sock_call *call,
				   const struct wp_skb *skb,
				   const struct iovec *iov, size_t iovlen,
				   size_t len);

/*
 * Linux import_iovec's checks: at most IOV_MAX segments (-EMSGSIZE), a
 * total that fits ssize_t (-EINVAL), no NULL base under a nonzero
 * length (-EFAULT). Returns the total length.
 */
ssize_t wp__iov_total(const struct iovec *iov, size_t n);

/* Gather len bytes from an iovec into dst; counts copies. */
void wp__copy_from_iovec(struct wp_sock_call *call, uint8_t *dst,
			 const struct iovec *iov, size_t iovlen, size_t len);

/* Put a sockaddr_in into a user buffer of *len bytes (Linux
 * move_addr_to_user: truncate, report the full length). */
void wp__put_sockaddr(const struct sockaddr_in *sin, struct sockaddr *addr,
		      socklen_t *len);

/*
 * Sleep a short while (a slice of the socket's clock) or until the
 * call's deadline: for waits with no wake-up to wait for (a transmit
 * pool running dry). -EAGAIN once the deadline has passed, else 0.
 */
int wp__call_backoff(struct wp_sock_call *call);

/*
 * Before a blocking call sleeps for events: the socket's busy poll
 * (wp_sock_busy_loop), counted. True if it found them: look again
 * instead of sleeping.
 */
bool wp__call_busy_loop(struct wp_sock_call *call, uint32_t events);

/* --- transmit buffers (txpool.c) ------------------------------------------ */

/*
 * An empty skb for an application thread to fill with len bytes of
 * payload, with room in front for every header: from the calling
 * thread's own transmit pools (created on its first send; a pool's
 * owner is the only thread that allocates from it, and cores free into
 * it remotely after transmitting). NULL with *err: -EAGAIN (the pool is
 * empty: buffers are in flight), -EMSGSIZE (len above
 * WP_SOCKET_TX_MAX), -ENOMEM (no pool could be made).
 */
struct wp_skb *wp__tx_alloc_skb(size_t len, int *err);

/* Count an event on the calling thread's block (global counters). */
void wp__stat_add(enum wp_socket_stat stat, uint64_t n);

/* `ss -u -a -n -e`-like listing of every socket in the current
 * descriptor table, with the boundary's counters. */
void wp_socket_print_all(FILE *out);

/* The global counters as `wirepath stat` prints them. */
void wp_socket_print_stats(FILE *out);

#endif
