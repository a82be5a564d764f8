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

#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

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

/* --- sockets -------------------------------------------------------------
 *
 * The BSD socket calls, with Linux's constants (AF_INET, SOCK_DGRAM,
 * MSG_*, SOL_SOCKET, SO_*, IPPROTO_IP, IP_*) from the system headers and
 * Linux's errno values. Today: AF_INET / SOCK_DGRAM (UDP).
 *
 * The boundary is where the seeds' "copy into your program's memory"
 * happens: a receive dequeues a datagram (an skb that has not been copied
 * since the NIC wrote it) under the socket lock, then copies its payload
 * into the caller's buffer with the lock released: one copy per
 * datagram. wp_recv_zc() lends the payload instead, with no copy;
 * wp_recvmmsg() takes many datagrams per call under one lock.
 *
 * Blocking: a socket blocks by default. Nothing to read: the call sleeps
 * on the socket's wait queue (sk_data_ready wakes it) until a datagram,
 * an error or a shutdown arrives, or SO_RCVTIMEO passes (EAGAIN). A
 * non-blocking socket (SOCK_NONBLOCK, O_NONBLOCK through wp_fcntl,
 * FIONBIO through wp_ioctl) or a call with MSG_DONTWAIT returns -1/EAGAIN
 * at once instead. Timeouts run on the socket's stack clock, virtual
 * time included.
 *
 * Backpressure: a socket's receive queue holds at most SO_RCVBUF bytes
 * of truesize (the whole buffer of each datagram plus its descriptor,
 * as Linux charges it); a datagram arriving at a full socket is dropped
 * and counted (UdpRcvbufErrors, the socket's drops, WP_DROP_SOCKET_RCVBUFF)
 * and never blocks the core. UDP has no window: the sender learns
 * nothing, as on Linux.
 *
 * Sending: an application thread copies the payload into an skb from its
 * own transmit pool (one per sending thread, made on its first send),
 * builds the headers and hands the datagram to the stack's core, which
 * routes, resolves and transmits it; the core frees the buffer back to
 * the thread's pool. While all of a thread's buffers are in flight a
 * send waits (blocking, up to SO_SNDTIMEO) or fails with EAGAIN.
 *
 * Differences from Linux, all of them listed:
 *   - UDP payloads above WP_SOCKET_TX_MAX (65376) bytes are refused with
 *     EMSGSIZE (Linux's limit is 65507): a datagram is sent from one
 *     buffer, whose size a 16-bit header offset bounds.
 *   - SO_SNDBUF is kept, doubled and reported as Linux does, but UDP
 *     sends are bounded by the thread's transmit pool, not by SO_SNDBUF.
 *   - a full transmit queue of the core is not reported (as Linux
 *     without IP_RECVERR): the datagram is dropped and counted
 *     (UdpSndbufErrors, WP_DROP_SUBMIT_QUEUE_FULL).
 *   - connect() to port 0 or to INADDR_ANY is EINVAL (Linux connects to
 *     the loopback); there is no loopback device.
 *   - ports below 1024 need no privilege; EISCONN never arises for UDP
 *     (sendto on a connected UDP socket sends where it is told, as on
 *     Linux).
 *   - MSG_MORE (corking) is accepted and ignored: every send is a
 *     datagram. MSG_OOB is EOPNOTSUPP. MSG_ERRQUEUE finds no error queue
 *     (EAGAIN). No control messages are produced (msg_controllen 0).
 */

struct wp_stack;

/* The largest UDP payload a send accepts here (see above). */
#define WP_SOCKET_TX_MAX 65376u

/* struct mmsghdr (Linux, <sys/socket.h> with _GNU_SOURCE), same layout. */
struct wp_mmsghdr {
	struct msghdr msg_hdr;
	unsigned int msg_len; /* bytes received or sent */
};

/*
 * The stack wp_socket() creates sockets on (a process-wide default, as
 * a process has one kernel). Returns the previous default. A stack must
 * stop being the default (wp_stack_make_default(NULL)) before it is
 * destroyed; sockets on it must be closed first, too.
 */
struct wp_stack *wp_stack_make_default(struct wp_stack *s);
struct wp_stack *wp_stack_default(void);

/*
 * socket(2) on the default stack, or on s (tests and tools with several
 * stacks in one process). type: SOCK_DGRAM (UDP) or SOCK_STREAM (TCP),
 * optionally | SOCK_NONBLOCK | SOCK_CLOEXEC (accepted: there is no exec).
 * protocol: 0, or IPPROTO_UDP / IPPROTO_TCP to match the type.
 * Returns the descriptor (lowest free) or -1 with errno:
 *   EAFNOSUPPORT     domain is not AF_INET
 *   EINVAL           unknown type or flag bits, protocol out of range
 *   ESOCKTNOSUPPORT  a type with no protocol here (SOCK_RAW, ...)
 *   EPROTONOSUPPORT  a protocol the type does not have
 *   ENETDOWN         wp_socket(): no default stack
 *   EMFILE, ENOMEM
 */
int wp_socket(int domain, int type, int protocol);
int wp_socket_net(struct wp_stack *s, int domain, int type, int protocol);

/*
 * bind(2): a struct sockaddr_in; port 0 picks an ephemeral port
 * (net.ipv4.ip_local_port_range). -1 with errno:
 *   EBADF, ENOTSOCK  fd is not open / not a socket
 *   EFAULT           addr NULL
 *   EINVAL           addrlen < sizeof(struct sockaddr_in), already bound
 *   EAFNOSUPPORT     family not AF_INET (AF_UNSPEC with INADDR_ANY is
 *                    taken as AF_INET, as Linux does)
 *   EADDRNOTAVAIL    the address is not one of the stack's
 *   EADDRINUSE       the port is taken (see SO_REUSEADDR/SO_REUSEPORT),
 *                    or no ephemeral port is free
 */
int wp_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);

/*
 * connect(2) of a UDP socket: sets the default destination and receives
 * only from it; binds an ephemeral port first if needed. AF_UNSPEC
 * dissolves the association (and gives back a port bind did not choose).
 * Connecting again replaces the peer. -1 with errno: EBADF, ENOTSOCK,
 * EFAULT, EINVAL (short addrlen, port 0, INADDR_ANY), EAFNOSUPPORT,
 * ENETUNREACH (no route), EACCES (a broadcast address without
 * SO_BROADCAST), EADDRINUSE (no ephemeral port).
 */
int wp_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);

/*
 * connect(2) of a TCP socket: the three-way handshake (autobinds an
 * ephemeral port; the source address comes from the route). Blocking,
 * it sleeps until the handshake completes or fails, or SO_SNDTIMEO
 * passes (EINPROGRESS then, and the handshake goes on). Non-blocking, it
 * returns -1 with EINPROGRESS at once: wait for POLLOUT, then read
 * SO_ERROR (0 or the failure). -1 with errno: EBADF, ENOTSOCK, EFAULT,
 * EINVAL (short addrlen, a listening socket), EAFNOSUPPORT, EISCONN,
 * EALREADY (a non-blocking connect still in progress), EINPROGRESS,
 * ECONNREFUSED (the peer answered RST), ETIMEDOUT (SYN retries
 * exhausted: net.ipv4.tcp_syn_retries), ENETUNREACH, EADDRNOTAVAIL (no
 * free ephemeral port), ENOMEM.
 */

/*
 * listen(2): a SOCK_STREAM socket starts accepting connections; backlog
 * bounds the queue of connections not yet accepted (clamped to
 * net.core.somaxconn). Binds an ephemeral port if unbound; a listening
 * socket may listen again to change its backlog. -1 with errno: EBADF,
 * ENOTSOCK, EOPNOTSUPP (not a stream socket), EINVAL (connected or
 * connecting), EADDRINUSE.
 */
int wp_listen(int fd, int backlog);

/*
 * accept(2), accept4(2): the oldest established connection of a
 * listening socket, as a new descriptor (flags: SOCK_NONBLOCK,
 * SOCK_CLOEXEC). Blocking, it sleeps until one is there or SO_RCVTIMEO
 * passes (EAGAIN). addr/addrlen, if given, receive the peer's address
 * (truncated as for wp_getpeername). -1 with errno: EBADF, ENOTSOCK,
 * EOPNOTSUPP (not a stream socket), EINVAL (not listening, bad flags),
 * EAGAIN (non-blocking and none ready), EFAULT (addr without addrlen),
 * EMFILE, ENOMEM.
 */
int wp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int wp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/*
 * getsockname(2) / getpeername(2): the address is truncated to *addrlen
 * and *addrlen set to its full size. An unbound socket's name is
 * 0.0.0.0:0. -1 with errno: EBADF, ENOTSOCK, EFAULT (NULL pointers),
 * EINVAL (*addrlen < 0), ENOTCONN (getpeername, not connected).
 */
int wp_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int wp_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);

/*
 * send(2), sendto(2), sendmsg(2): one datagram of len bytes (copied
 * once, into a transmit buffer). dest NULL: the connected peer. Flags:
 * MSG_DONTWAIT, MSG_NOSIGNAL, MSG_CONFIRM, MSG_MORE (ignored). Returns
 * len, or -1 with errno:
 *   EBADF, ENOTSOCK, EFAULT (buf NULL with len > 0)
 *   EDESTADDRREQ     no dest and not connected
 *   EINVAL           dest shorter than sockaddr_in, port 0
 *   EAFNOSUPPORT     dest family not AF_INET (or AF_UNSPEC)
 *   EMSGSIZE         payload above 65507 (or WP_SOCKET_TX_MAX), or above
 *                    the path MTU with IP_MTU_DISCOVER IP_PMTUDISC_DO,
 *                    msg_iovlen above IOV_MAX
 *   EACCES           a broadcast destination without SO_BROADCAST
 *   ENETUNREACH      no route
 *   ECONNREFUSED     (and any pending error) an ICMP error reported on
 *                    a connected socket since the last call (SO_ERROR)
 *   EPIPE            sending side shut down
 *   EAGAIN           non-blocking and no transmit buffer, or
 *                    SO_SNDTIMEO passed
 *   EOPNOTSUPP       MSG_OOB
 */
/*
 * On a TCP socket, send copies into the socket's send buffer (sk_sndbuf
 * bytes; the core segments and retransmits from there) and returns the
 * bytes taken: blocking, all of len unless SO_SNDTIMEO passes or an
 * error comes after some were taken (then the count so far); non-
 * blocking, what fits (EAGAIN if nothing). dest is ignored. EPIPE after
 * shutdown or once the connection is gone (no SIGPIPE is raised: there
 * are no signals here); ENOTCONN before connect; ECONNRESET, ETIMEDOUT
 * and other connection errors once.
 */
ssize_t wp_send(int fd, const void *buf, size_t len, int flags);
ssize_t wp_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *dest, socklen_t addrlen);
ssize_t wp_sendmsg(int fd, const struct msghdr *msg, int flags);

/*
 * sendmmsg(2): up to vlen datagrams; msg_len of each set to its length.
 * Returns how many were sent, or -1 with the first datagram's errno (an
 * error after the first ends the batch and is returned by the next call
 * on the socket, as Linux does via SO_ERROR for non-EAGAIN errors).
 */
int wp_sendmmsg(int fd, struct wp_mmsghdr *vec, unsigned int vlen, int flags);

/*
 * recv(2), recvfrom(2), recvmsg(2): one datagram. Its payload is copied
 * into buf (up to len bytes; the rest of the datagram is discarded, and
 * recvmsg sets MSG_TRUNC in msg_flags). Returns the bytes copied, or
 * with MSG_TRUNC in flags the datagram's real length (Linux UDP).
 * MSG_PEEK leaves the datagram queued. src: the sender (truncated to
 * *addrlen, which is set to sizeof(struct sockaddr_in)). Returns 0 on a
 * zero-length datagram, and after wp_shutdown(SHUT_RD) once the queue is
 * empty. -1 with errno:
 *   EBADF, ENOTSOCK, EFAULT (buf NULL with len > 0, src without addrlen)
 *   EINVAL           *addrlen < 0
 *   EAGAIN           non-blocking (or MSG_DONTWAIT) and nothing queued;
 *                    or SO_RCVTIMEO passed
 *   ECONNREFUSED     (and any pending error) as for send: reported once,
 *                    before any queued data
 *   EMSGSIZE         msg_iovlen above IOV_MAX
 *   EOPNOTSUPP       MSG_OOB
 */
/*
 * On a TCP socket, receive copies the in-order bytes there are, up to
 * len (the stream has no boundaries): blocking, it waits for at least
 * one byte, MSG_WAITALL for all len (or the end of the stream, an error
 * or SO_RCVTIMEO). Returns 0 at the end of the stream (the peer's FIN,
 * or SHUT_RD). MSG_PEEK leaves the bytes queued. src gets the peer.
 * Reading frees receive buffer space, which reopens the advertised
 * window: an application that does not read stops its sender.
 * ENOTCONN before connect; ECONNRESET and other errors once.
 */
ssize_t wp_recv(int fd, void *buf, size_t len, int flags);
ssize_t wp_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *src, socklen_t *addrlen);
ssize_t wp_recvmsg(int fd, struct msghdr *msg, int flags);

/*
 * recvmmsg(2): up to vlen datagrams in one call, taken off the receive
 * queue under one lock and then copied one by one. Waits (unless
 * non-blocking) for the first; MSG_WAITFORONE: never for the others;
 * otherwise waits on until vlen arrived or timeout passes (NULL: no
 * limit besides SO_RCVTIMEO; measured on the stack's clock). Returns how
 * many were received (each msg_len set, msg_flags MSG_TRUNC when cut),
 * or -1 with errno as wp_recvmsg when none was. An error after the first
 * datagram ends the batch and is kept for the next call.
 */
int wp_recvmmsg(int fd, struct wp_mmsghdr *vec, unsigned int vlen, int flags,
		struct timespec *timeout);

/*
 * Zero-copy receive: lend the next datagram's payload where the NIC
 * wrote it. iov->iov_base and iov_len describe the payload (read-only);
 * *handle keeps it alive until wp_recv_zc_release(*handle), from any
 * thread. Flags, blocking, src and errors as wp_recvfrom; MSG_PEEK and
 * MSG_TRUNC are EINVAL. Returns the payload length.
 *
 * Cost: no copy, but the buffer is one the NIC's receive ring refills
 * from: a borrowed buffer is one fewer for the wire until released, so
 * hold few, briefly. Every handle must be released before the stack is
 * destroyed.
 */
struct wp_zc_handle;
ssize_t wp_recv_zc(int fd, struct iovec *iov, struct wp_zc_handle **handle,
		   int flags, struct sockaddr *src, socklen_t *addrlen);
void wp_recv_zc_release(struct wp_zc_handle *handle);

/*
 * shutdown(2): SHUT_RD, SHUT_WR, SHUT_RDWR. Wakes every thread waiting
 * on the socket: a blocked receive returns 0 once the queue is empty, a
 * send fails with EPIPE. On an unconnected UDP socket it takes effect
 * and still returns -1 with ENOTCONN (Linux). -1 with errno: EBADF,
 * ENOTSOCK, EINVAL (how), ENOTCONN.
 */
int wp_shutdown(int fd, int how);

/*
 * setsockopt(2) / getsockopt(2).
 *   SOL_SOCKET:
 *     SO_RCVBUF, SO_SNDBUF  int bytes: min(val, net.core.rmem_max /
 *                           wmem_max) doubled, at least the minimum
 *                           (Linux); getsockopt returns the doubled value
 *     SO_RCVBUFFORCE, SO_SNDBUFFORCE  the same without the max clamp
 *     SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST  int flag (next bind /
 *                           next send)
 *     SO_RCVTIMEO, SO_SNDTIMEO  struct timeval; {0, 0}: no timeout;
 *                           tv_usec outside 0..999999: EDOM; a negative
 *                           tv_sec: no wait at all
 *     SO_ERROR              (get) the pending error, which is cleared
 *     SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN  (get)
 *   IPPROTO_IP:
 *     IP_TTL     1..255, -1: the default (64)
 *     IP_TOS     0..255
 *     IP_MTU_DISCOVER  IP_PMTUDISC_DONT/WANT/DO/PROBE; DO and PROBE set
 *                DF and make sends above the MTU fail with EMSGSIZE
 *     IP_MTU     (get, connected) the path MTU
 * An int option takes optlen >= sizeof(int) (EINVAL otherwise); get
 * truncates to *optlen and sets it. -1 with errno: EBADF, ENOTSOCK,
 * EFAULT (NULL optval/optlen), EINVAL, EDOM, ENOPROTOOPT (unknown level
 * or option), ENOTCONN (IP_MTU unconnected).
 */
int wp_setsockopt(int fd, int level, int optname, const void *optval,
		  socklen_t optlen);
int wp_getsockopt(int fd, int level, int optname, void *optval,
		  socklen_t *optlen);

/*
 * fcntl(2): F_GETFL (O_RDWR, | O_NONBLOCK), F_SETFL (O_NONBLOCK is the
 * only flag that changes), F_GETFD / F_SETFD (FD_CLOEXEC accepted and
 * reported as 0: there is no exec). Epoll descriptors answer F_GETFL and
 * F_GETFD too. -1 with errno EBADF, EINVAL (another command).
 */
int wp_fcntl(int fd, int cmd, ...);

/*
 * ioctl(2): FIONBIO (int *: non-blocking on/off), FIONREAD / SIOCINQ
 * (int *: the size of the next datagram's payload, 0 if none: Linux
 * UDP), SIOCOUTQ (int *: bytes charged to the send side). -1 with errno
 * EBADF, ENOTSOCK, EFAULT (NULL argument), ENOTTY (another request).
 */
int wp_ioctl(int fd, unsigned long request, ...);

/* --- the boundary's counters ---------------------------------------------- */

/*
 * What crossing the boundary cost: calls, copies and the bytes they
 * moved, zero-copy loans apart. Kept per socket and for the process
 * (`wirepath stat sockets`); counting is per thread, summed on reading.
 */
enum wp_socket_stat {
	WP_SOCKET_STAT_CALLS,	     /* socket calls of any kind */
	WP_SOCKET_STAT_RECV_CALLS,   /* recv, recvfrom, recvmsg, recvmmsg, zc */
	WP_SOCKET_STAT_SEND_CALLS,   /* send, sendto, sendmsg, sendmmsg */
	WP_SOCKET_STAT_RX_DATAGRAMS, /* datagrams received by copy */
	WP_SOCKET_STAT_RX_COPIES,    /* memcpy into the application: one per
				      * iovec segment written */
	WP_SOCKET_STAT_RX_BYTES,     /* bytes those copies moved */
	WP_SOCKET_STAT_ZC_DATAGRAMS, /* datagrams lent by wp_recv_zc */
	WP_SOCKET_STAT_ZC_BYTES,     /* their payload bytes (not copied) */
	WP_SOCKET_STAT_TX_DATAGRAMS, /* datagrams handed to the stack */
	WP_SOCKET_STAT_TX_COPIES,    /* memcpy out of the application */
	WP_SOCKET_STAT_TX_BYTES,
	WP_SOCKET_STAT_WOULD_BLOCK,    /* EAGAIN returns */
	WP_SOCKET_STAT_SLEEPS,	       /* times a call slept */
	WP_SOCKET_STAT_BUSY_POLLS,     /* blocking calls that spun first
					* (SO_BUSY_POLL, net.core.busy_read) */
	WP_SOCKET_STAT_BUSY_POLL_HITS, /* ... and found what they waited for
					* without sleeping */
	WP_SOCKET_STAT_ERRORS,	       /* other -1 returns */
	WP_SOCKET_STAT__MAX
};

/* Field i is enum wp_socket_stat i. */
struct wp_socket_stats {
	uint64_t calls, recv_calls, send_calls;
	uint64_t rx_datagrams, rx_copies, rx_bytes;
	uint64_t zc_datagrams, zc_bytes;
	uint64_t tx_datagrams, tx_copies, tx_bytes;
	uint64_t would_block, sleeps, busy_polls, busy_poll_hits, errors;
};

/* "rx_copies" for WP_SOCKET_STAT_RX_COPIES; "?" out of range. */
const char *wp_socket_stat_name(enum wp_socket_stat stat);

/* One socket's counters (they count calls made through fd only). 0, or
 * -1 with errno EBADF, ENOTSOCK, EFAULT. */
int wp_socket_get_stats(int fd, struct wp_socket_stats *st);

/* The process's counters, every socket and thread together; calls
 * that failed before finding a socket (EBADF) count here only. */
void wp_socket_get_global_stats(struct wp_socket_stats *st);

/*
 * Transmit pools: true when every buffer of every sending thread's pool
 * is back (no datagram in flight). Tests check it at teardown, after the
 * stacks are destroyed.
 */
bool wp_socket_tx_pools_whole(void);

/*
 * Free the transmit pools (no thread may be sending). A pool with
 * buffers still out is kept, and -1 with errno EBUSY is returned.
 */
int wp_socket_cleanup(void);

#ifdef __cplusplus
}
#endif

#endif
