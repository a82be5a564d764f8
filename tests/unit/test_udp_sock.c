// SPDX-License-Identifier: MIT
/*
 * The UDP socket calls, one by one, with every errno they document:
 * socket, bind, connect, getsockname/getpeername, send/sendto/sendmsg/
 * sendmmsg, recv/recvfrom/recvmsg/recvmmsg, the zero-copy receive,
 * shutdown, setsockopt/getsockopt, fcntl, ioctl, and the boundary's
 * counters. Datagrams really cross the pair's wire between two stacks on
 * virtual time (test_udp_common.h); these tests are single-threaded, so
 * every receive here finds its datagram queued or does not block
 * (test_udp_threads covers sleeping).
 */
#include "test_udp_common.h"

#include <limits.h>
#include <linux/sockios.h>

#define PORT_B 7000

/* Send from a fresh socket on A to B:port and run the wire. */
static void a_to_b(struct ufx *fx, int fa, const void *buf, size_t len,
		   uint16_t port)
{
	ufx_sendto(fa, buf, len, UFX_IP_B, port);
	ufx_run(fx, UFX_MS);
}

/* --- socket() ------------------------------------------------------------- */

static void test_socket_create(void **state)
{
	struct ufx *fx = *state;
	int type, fd;
	socklen_t len = sizeof(type);

	fd = wp_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len),
			 0);
	assert_int_equal(type, SOCK_DGRAM);
	assert_int_equal(len, sizeof(int));
	assert_int_equal(
		wp_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &type, &len), 0);
	assert_int_equal(type, IPPROTO_UDP);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &type, &len),
			 0);
	assert_int_equal(type, AF_INET);
	assert_int_equal(wp_fcntl(fd, F_GETFL), O_RDWR);
	/* Lowest free descriptor first. */
	assert_int_equal(wp_close(fd), 0);
	assert_int_equal(wp_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP), fd);
	assert_int_equal(wp_close(fd), 0);

	fd = wp_socket_net(fx->a, AF_INET,
			   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(wp_fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	assert_int_equal(wp_close(fd), 0);
	ufx_expect_errno(wp_close(fd), EBADF);
}

static void test_socket_errors(void **state)
{
	(void)state;
	ufx_expect_errno(wp_socket(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT);
	ufx_expect_errno(wp_socket(AF_UNIX, SOCK_DGRAM, 0), EAFNOSUPPORT);
	ufx_expect_errno(wp_socket(-1, SOCK_DGRAM, 0), EAFNOSUPPORT);
	ufx_expect_errno(wp_socket(4096, SOCK_DGRAM, 0), EAFNOSUPPORT);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM | 0x100, 0), EINVAL);
	ufx_expect_errno(wp_socket(AF_INET, 15, 0), EINVAL);
	ufx_expect_errno(wp_socket(AF_INET, -1, 0), EINVAL);
	/* The type check comes before the family's (Linux __sock_create). */
	ufx_expect_errno(wp_socket(AF_INET6, 15, 0), EINVAL);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_SEQPACKET, 0),
			 ESOCKTNOSUPPORT);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
			 EPROTONOSUPPORT);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_RAW, IPPROTO_UDP),
			 ESOCKTNOSUPPORT);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP),
			 EPROTONOSUPPORT);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM, -1), EINVAL);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM, 300), EINVAL);
	ufx_expect_errno(wp_socket_net(NULL, AF_INET, SOCK_DGRAM, 0), EINVAL);

	wp_stack_make_default(NULL);
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM, 0), ENETDOWN);
	assert_null(wp_stack_default());
}

static void test_socket_emfile(void **state)
{
	struct ufx *fx = *state;
	int fds[8], n = 0;

	assert_int_equal(wp_fdtable_set_max(fx->fdt, 8), 0);
	while (n < 8) {
		fds[n] = wp_socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(fds[n] >= 0);
		n++;
	}
	ufx_expect_errno(wp_socket(AF_INET, SOCK_DGRAM, 0), EMFILE);
	while (n > 0)
		assert_int_equal(wp_close(fds[--n]), 0);
}

/* Every call on a descriptor that is not open, or not a socket. */
static void test_bad_descriptors(void **state)
{
	struct sockaddr_in sin = ufx_sin(UFX_IP_B, PORT_B);
	socklen_t len = sizeof(sin);
	struct wp_mmsghdr mm;
	struct wp_zc_handle *h;
	struct iovec iov;
	struct msghdr msg;
	char buf[8];
	int v = 1, ep, bad[2];

	(void)state;
	memset(&msg, 0, sizeof(msg));
	memset(&mm, 0, sizeof(mm));
	ep = wp_epoll_create1(0);
	assert_true(ep >= 0);
	bad[0] = 99;
	bad[1] = ep;
	for (int i = 0; i < 2; i++) {
		int fd = bad[i], e = i ? ENOTSOCK : EBADF;

		ufx_expect_errno(wp_bind(fd, UFX_SA(sin), len), e);
		ufx_expect_errno(wp_connect(fd, UFX_SA(sin), len), e);
		ufx_expect_errno(wp_getsockname(fd, UFX_SA(sin), &len), e);
		ufx_expect_errno(wp_getpeername(fd, UFX_SA(sin), &len), e);
		ufx_expect_errno(wp_send(fd, buf, 1, 0), e);
		ufx_expect_errno(wp_sendto(fd, buf, 1, 0, UFX_SA(sin), len), e);
		ufx_expect_errno(wp_sendmsg(fd, &msg, 0), e);
		ufx_expect_errno(wp_sendmmsg(fd, &mm, 1, 0), e);
		ufx_expect_errno(wp_recv(fd, buf, 1, 0), e);
		ufx_expect_errno(wp_recvfrom(fd, buf, 1, 0, NULL, NULL), e);
		ufx_expect_errno(wp_recvmsg(fd, &msg, 0), e);
		ufx_expect_errno(wp_recvmmsg(fd, &mm, 1, 0, NULL), e);
		ufx_expect_errno(wp_recv_zc(fd, &iov, &h, 0, NULL, NULL), e);
		ufx_expect_errno(wp_shutdown(fd, SHUT_RD), e);
		ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v,
					       sizeof(v)),
				 e);
		len = sizeof(v);
		ufx_expect_errno(
			wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), e);
		ufx_expect_errno(wp_ioctl(fd, FIONBIO, &v), e);
		ufx_expect_errno(
			wp_socket_get_stats(fd, &(struct wp_socket_stats){ 0 }),
			e);
		len = sizeof(sin);
	}
	ufx_expect_errno(wp_fcntl(99, F_GETFL), EBADF);
	/* fcntl answers for any descriptor. */
	assert_int_equal(wp_fcntl(ep, F_GETFL), O_RDWR);
	assert_int_equal(wp_fcntl(ep, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(wp_fcntl(ep, F_GETFD), 0);
	ufx_expect_errno(wp_fcntl(ep, F_DUPFD, 0), EINVAL);
	assert_int_equal(wp_close(ep), 0);
}

/* --- bind, names ---------------------------------------------------------- */

static void test_bind(void **state)
{
	struct sockaddr_in sin = ufx_sin(UFX_IP_B, PORT_B), got;
	socklen_t len = sizeof(got);
	int fd = wp_socket(AF_INET, SOCK_DGRAM, 0), fd2;
	uint16_t p;

	(void)state;
	ufx_expect_errno(wp_bind(fd, NULL, sizeof(sin)), EFAULT);
	ufx_expect_errno(wp_bind(fd, UFX_SA(sin), sizeof(sin) - 1), EINVAL);
	sin.sin_family = AF_INET6;
	ufx_expect_errno(wp_bind(fd, UFX_SA(sin), sizeof(sin)), EAFNOSUPPORT);
	/* AF_UNSPEC passes for INADDR_ANY only. */
	sin.sin_family = AF_UNSPEC;
	ufx_expect_errno(wp_bind(fd, UFX_SA(sin), sizeof(sin)), EAFNOSUPPORT);
	sin = ufx_sin((10u << 24) | 99, PORT_B);
	ufx_expect_errno(wp_bind(fd, UFX_SA(sin), sizeof(sin)), EADDRNOTAVAIL);
	sin = ufx_sin(UFX_IP_B, PORT_B);
	assert_int_equal(wp_bind(fd, UFX_SA(sin), sizeof(sin)), 0);
	ufx_expect_errno(wp_bind(fd, UFX_SA(sin), sizeof(sin)), EINVAL);
	assert_int_equal(wp_getsockname(fd, UFX_SA(got), &len), 0);
	assert_int_equal(len, sizeof(got));
	assert_int_equal(got.sin_family, AF_INET);
	assert_int_equal(ntohs(got.sin_port), PORT_B);
	assert_int_equal(ntohl(got.sin_addr.s_addr), UFX_IP_B);

	/* The same port: in use, on our address or on any. */
	fd2 = wp_socket(AF_INET, SOCK_DGRAM, 0);
	ufx_expect_errno(wp_bind(fd2, UFX_SA(sin), sizeof(sin)), EADDRINUSE);
	sin = ufx_sin(INADDR_ANY, PORT_B);
	sin.sin_family = AF_UNSPEC;
	ufx_expect_errno(wp_bind(fd2, UFX_SA(sin), sizeof(sin)), EADDRINUSE);
	/* Port 0: an ephemeral port from ip_local_port_range. */
	sin.sin_port = 0;
	assert_int_equal(wp_bind(fd2, UFX_SA(sin), sizeof(sin)), 0);
	p = ufx_port(fd2);
	assert_true(p >= 32768 && p <= 60999);
	assert_int_equal(wp_close(fd2), 0);
	assert_int_equal(wp_close(fd), 0);
}

static void test_reuse(void **state)
{
	struct sockaddr_in sin = ufx_sin(INADDR_ANY, PORT_B);
	int on = 1, v;
	socklen_t len = sizeof(v);
	int fds[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		fds[i] = wp_socket(AF_INET, SOCK_DGRAM, 0);
	/* SO_REUSEADDR on both: they share the port. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(wp_setsockopt(fds[i], SOL_SOCKET, SO_REUSEADDR,
					       &on, sizeof(on)),
				 0);
	assert_int_equal(
		wp_getsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(wp_bind(fds[0], UFX_SA(sin), sizeof(sin)), 0);
	assert_int_equal(wp_bind(fds[1], UFX_SA(sin), sizeof(sin)), 0);
	/* Only one side set: in use. */
	ufx_expect_errno(wp_bind(fds[2], UFX_SA(sin), sizeof(sin)), EADDRINUSE);
	/* SO_REUSEPORT on both, another port. */
	sin.sin_port = htons(PORT_B + 1);
	for (int i = 2; i < 4; i++)
		assert_int_equal(wp_setsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT,
					       &on, sizeof(on)),
				 0);
	assert_int_equal(wp_bind(fds[2], UFX_SA(sin), sizeof(sin)), 0);
	assert_int_equal(wp_bind(fds[3], UFX_SA(sin), sizeof(sin)), 0);
	assert_int_equal(
		wp_getsockopt(fds[3], SOL_SOCKET, SO_REUSEPORT, &v, &len), 0);
	assert_int_equal(v, 1);
	on = 0;
	assert_int_equal(wp_setsockopt(fds[3], SOL_SOCKET, SO_REUSEPORT, &on,
				       sizeof(on)),
			 0);
	assert_int_equal(
		wp_getsockopt(fds[3], SOL_SOCKET, SO_REUSEPORT, &v, &len), 0);
	assert_int_equal(v, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(wp_close(fds[i]), 0);
}

static void test_names(void **state)
{
	struct ufx *fx = *state;
	struct sockaddr_in sin, peer = ufx_sin(UFX_IP_B, PORT_B);
	socklen_t len = sizeof(sin);
	int fd = wp_socket_net(fx->a, AF_INET, SOCK_DGRAM, 0);
	uint8_t raw[sizeof(sin)];

	/* Unbound: 0.0.0.0:0. */
	assert_int_equal(wp_getsockname(fd, UFX_SA(sin), &len), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	assert_int_equal(sin.sin_port, 0);
	assert_int_equal(sin.sin_addr.s_addr, 0);
	ufx_expect_errno(wp_getpeername(fd, UFX_SA(sin), &len), ENOTCONN);
	ufx_expect_errno(wp_getsockname(fd, NULL, &len), EFAULT);
	ufx_expect_errno(wp_getsockname(fd, UFX_SA(sin), NULL), EFAULT);
	len = (socklen_t)-1;
	ufx_expect_errno(wp_getsockname(fd, UFX_SA(sin), &len), EINVAL);

	/* Connected: the peer, and the source the route chose. */
	assert_int_equal(wp_connect(fd, UFX_SA(peer), sizeof(peer)), 0);
	len = sizeof(sin);
	assert_int_equal(wp_getpeername(fd, UFX_SA(sin), &len), 0);
	assert_int_equal(ntohl(sin.sin_addr.s_addr), UFX_IP_B);
	assert_int_equal(ntohs(sin.sin_port), PORT_B);
	assert_int_equal(wp_getsockname(fd, UFX_SA(sin), &len), 0);
	assert_int_equal(ntohl(sin.sin_addr.s_addr), UFX_IP_A);
	assert_true(ntohs(sin.sin_port) >= 32768);

	/* A short buffer gets the start; the length says the whole. */
	memset(raw, 0xee, sizeof(raw));
	len = 4;
	assert_int_equal(wp_getpeername(fd, (struct sockaddr *)raw, &len), 0);
	assert_int_equal(len, sizeof(sin));
	assert_int_equal(raw[0] | raw[1] << 8, AF_INET);
	assert_int_equal(raw[2] << 8 | raw[3], PORT_B);
	assert_int_equal(raw[4], 0xee);
	assert_int_equal(wp_close(fd), 0);
}

/* --- send and receive ----------------------------------------------------- */

static void test_sendto_recvfrom(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 5555);
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	struct wp_socket_stats st;
	char buf[100];

	a_to_b(fx, fa, "hello", 5, PORT_B);
	assert_int_equal(
		wp_recvfrom(fb, buf, sizeof(buf), 0, UFX_SA(from), &len), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(len, sizeof(from));
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(ntohl(from.sin_addr.s_addr), UFX_IP_A);
	assert_int_equal(ntohs(from.sin_port), 5555);
	/* Nothing more. */
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* Zero-length datagrams exist. */
	a_to_b(fx, fa, "", 0, PORT_B);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 0);

	/* One copy per datagram received, and per datagram sent. */
	assert_int_equal(wp_socket_get_stats(fb, &st), 0);
	assert_int_equal(st.rx_datagrams, 2);
	assert_int_equal(st.rx_copies,
			 1); /* nothing to copy of the empty one */
	assert_int_equal(st.rx_bytes, 5);
	assert_int_equal(st.recv_calls, 3);
	assert_int_equal(st.would_block, 1);
	assert_int_equal(wp_socket_get_stats(fa, &st), 0);
	assert_int_equal(st.tx_datagrams, 2);
	assert_int_equal(st.tx_copies, 1);
	assert_int_equal(st.tx_bytes, 5);
	assert_int_equal(st.send_calls, 2);
	ufx_expect_errno(wp_socket_get_stats(fa, NULL), EFAULT);

	/* recv(2) and send(2) on the connected pair. */
	{
		struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);

		assert_int_equal(wp_connect(fa, UFX_SA(to), sizeof(to)), 0);
		assert_int_equal(wp_send(fa, "xyz", 3, 0), 3);
		ufx_run(fx, UFX_MS);
		assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 3);
		assert_memory_equal(buf, "xyz", 3);
	}
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_peek_trunc(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	char buf[64], big[40];
	struct iovec iov = { buf, 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_in from;

	for (int i = 0; i < 40; i++)
		big[i] = (char)('a' + i % 26);
	ufx_sendto(fa, big, 40, UFX_IP_B, PORT_B);
	ufx_sendto(fa, "second", 6, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);

	/* Peek: the datagram stays. */
	assert_int_equal(wp_recv(fb, buf, 10, MSG_PEEK), 10);
	assert_memory_equal(buf, big, 10);
	assert_int_equal(wp_recv(fb, buf, 10, MSG_PEEK | MSG_TRUNC), 40);
	/* recvmsg with a short buffer: MSG_TRUNC in msg_flags, the rest
	 * of the datagram is gone. */
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(wp_recvmsg(fb, &msg, 0), 4);
	assert_memory_equal(buf, big, 4);
	assert_true(msg.msg_flags & MSG_TRUNC);
	assert_int_equal(msg.msg_namelen, sizeof(from));
	assert_int_equal(ntohl(from.sin_addr.s_addr), UFX_IP_A);
	/* MSG_TRUNC in flags: the real length, even with a short buffer. */
	assert_int_equal(wp_recv(fb, buf, 2, MSG_TRUNC), 6);
	assert_memory_equal(buf, "se", 2);
	ufx_expect_errno(wp_recv(fb, buf, 2, MSG_DONTWAIT), EAGAIN);

	/* A datagram that fits: no MSG_TRUNC. */
	ufx_sendto(fa, "ab", 2, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	iov.iov_len = sizeof(buf);
	assert_int_equal(wp_recvmsg(fb, &msg, 0), 2);
	assert_int_equal(msg.msg_flags, 0);
	assert_int_equal(msg.msg_controllen, 0);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_iovecs(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	char p1[] = "abc", p2[] = "defgh", r1[2], r2[3], r3[10];
	struct iovec out[3] = { { p1, 3 }, { NULL, 0 }, { p2, 5 } };
	struct iovec in[3] = { { r1, 2 }, { r2, 3 }, { r3, 10 } };
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);
	struct msghdr m = { .msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = out,
			    .msg_iovlen = 3 };
	struct wp_socket_stats st;
	struct iovec bad = { NULL, 4 };

	assert_int_equal(wp_sendmsg(fa, &m, 0), 8);
	ufx_run(fx, UFX_MS);
	m.msg_name = NULL;
	m.msg_iov = in;
	assert_int_equal(wp_recvmsg(fb, &m, 0), 8);
	assert_memory_equal(r1, "ab", 2);
	assert_memory_equal(r2, "cde", 3);
	assert_memory_equal(r3, "fgh", 3);
	assert_int_equal(wp_socket_get_stats(fa, &st), 0);
	assert_int_equal(st.tx_copies, 2); /* the empty segment costs none */
	assert_int_equal(wp_socket_get_stats(fb, &st), 0);
	assert_int_equal(st.rx_copies, 3);
	assert_int_equal(st.rx_bytes, 8);

	/* Bad vectors. */
	m.msg_iov = &bad;
	m.msg_iovlen = 1;
	ufx_expect_errno(wp_recvmsg(fb, &m, MSG_DONTWAIT), EFAULT);
	ufx_expect_errno(wp_sendmsg(fa, &m, 0), EFAULT);
	m.msg_iovlen = IOV_MAX + 1;
	ufx_expect_errno(wp_recvmsg(fb, &m, MSG_DONTWAIT), EMSGSIZE);
	ufx_expect_errno(wp_sendmsg(fa, &m, 0), EMSGSIZE);
	ufx_expect_errno(wp_recvmsg(fb, NULL, 0), EFAULT);
	ufx_expect_errno(wp_sendmsg(fa, NULL, 0), EFAULT);
	{
		struct iovec huge[2] = { { r1, SSIZE_MAX }, { r2, 2 } };

		m.msg_iov = huge;
		m.msg_iovlen = 2;
		ufx_expect_errno(wp_recvmsg(fb, &m, MSG_DONTWAIT), EINVAL);
	}
	ufx_expect_errno(wp_recv(fb, NULL, 4, MSG_DONTWAIT), EFAULT);
	ufx_expect_errno(wp_send(fa, NULL, 4, 0), EFAULT);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_nonblocking(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	char buf[8];
	int on = 1, off = 0;
	struct timeval tv = { -1, 0 };

	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(wp_fcntl(fb, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(wp_fcntl(fb, F_GETFL), O_RDWR | O_NONBLOCK);
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(wp_fcntl(fb, F_SETFL, 0), 0);
	assert_int_equal(wp_ioctl(fb, FIONBIO, &on), 0);
	assert_int_equal(wp_fcntl(fb, F_GETFL), O_RDWR | O_NONBLOCK);
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(wp_ioctl(fb, FIONBIO, &off), 0);
	assert_int_equal(wp_fcntl(fb, F_GETFL), O_RDWR);
	/* A negative SO_RCVTIMEO: a blocking socket that never waits. */
	assert_int_equal(
		wp_setsockopt(fb, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(wp_fcntl(fb, F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(wp_fcntl(fb, F_GETFD), 0);
	ufx_expect_errno(wp_fcntl(fb, F_GETLK, NULL), EINVAL);
	(void)fx;
	assert_int_equal(wp_close(fb), 0);
}

static void test_send_errors(void **state)
{
	struct ufx *fx = *state;
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);
	static char big[65600];
	int v;

	ufx_expect_errno(wp_send(fa, "x", 1, 0), EDESTADDRREQ);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to) - 1),
			 EINVAL);
	to.sin_family = AF_INET6;
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EAFNOSUPPORT);
	to = ufx_sin(UFX_IP_B, 0);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EINVAL);
	to = ufx_sin(INADDR_ANY, PORT_B);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EINVAL);
	to = ufx_sin(UFX_IP_B, PORT_B);
	ufx_expect_errno(wp_sendto(fa, big, 65508, 0, UFX_SA(to), sizeof(to)),
			 EMSGSIZE);
	ufx_expect_errno(wp_sendto(fa, big, WP_SOCKET_TX_MAX + 1, 0, UFX_SA(to),
				   sizeof(to)),
			 EMSGSIZE);
	ufx_expect_errno(wp_sendto(fa, "x", 1, MSG_OOB, UFX_SA(to), sizeof(to)),
			 EOPNOTSUPP);
	/* No route: no gateway on A. */
	to = ufx_sin((192u << 24) | (2 << 8) | 1, PORT_B);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 ENETUNREACH);
	/* Broadcast needs SO_BROADCAST. */
	to = ufx_sin((10u << 24) | 255, PORT_B);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EACCES);
	to = ufx_sin(0xffffffffu, PORT_B);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EACCES);
	v = 1;
	assert_int_equal(
		wp_setsockopt(fa, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), 0);
	assert_int_equal(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)), 1);

	/* DF path: above the MTU with IP_PMTUDISC_DO. */
	to = ufx_sin(UFX_IP_B, PORT_B);
	v = IP_PMTUDISC_DO;
	assert_int_equal(
		wp_setsockopt(fa, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v)),
		0);
	ufx_expect_errno(wp_sendto(fa, big, 1473, 0, UFX_SA(to), sizeof(to)),
			 EMSGSIZE);
	assert_int_equal(wp_sendto(fa, big, 1472, 0, UFX_SA(to), sizeof(to)),
			 1472);
	ufx_run(fx, UFX_MS);

	/* Shut for writing: EPIPE. */
	wp_shutdown(fa, SHUT_WR);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EPIPE);
	assert_int_equal(wp_close(fa), 0);
}

static void test_large_datagram(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	int v = 1 << 20;
	size_t sizes[] = { 1472, 1473, 8000, 30000 };
	static uint8_t out[30000], in[30001];

	assert_int_equal(
		wp_setsockopt(fb, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)),
		0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + i / 251);
	/* Fragmented on A's core, reassembled on B's. */
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		ufx_sendto(fa, out, sizes[k], UFX_IP_B, PORT_B);
		ufx_run(fx, 5 * UFX_MS);
		memset(in, 0, sizeof(in));
		assert_int_equal(wp_recv(fb, in, sizeof(in), MSG_DONTWAIT),
				 (ssize_t)sizes[k]);
		assert_memory_equal(in, out, sizes[k]);
	}
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* --- connect -------------------------------------------------------------- */

static void test_connect(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	int other = ufx_udp(fx->a, INADDR_ANY, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_A, ufx_port(fa));
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	char buf[16];
	int v;

	ufx_expect_errno(wp_connect(fb, NULL, sizeof(to)), EFAULT);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), 1), EINVAL);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to) - 1), EINVAL);
	to.sin_family = AF_INET6;
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to)), EAFNOSUPPORT);
	to = ufx_sin(UFX_IP_A, 0);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to)), EINVAL);
	to = ufx_sin(INADDR_ANY, 9);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to)), EINVAL);
	to = ufx_sin((198u << 24) | 51, 9);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to)), ENETUNREACH);
	to = ufx_sin((10u << 24) | 255, 9);
	ufx_expect_errno(wp_connect(fb, UFX_SA(to), sizeof(to)), EACCES);
	v = 1;
	assert_int_equal(
		wp_setsockopt(fb, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), 0);
	assert_int_equal(wp_connect(fb, UFX_SA(to), sizeof(to)), 0);
	v = 0;
	assert_int_equal(
		wp_setsockopt(fb, SOL_SOCKET, SO_BROADCAST, &v, sizeof(v)), 0);

	/* B connected to fa: only fa's datagrams arrive; the other's find
	 * no socket (B answers port unreachable). */
	to = ufx_sin(UFX_IP_A, ufx_port(fa));
	assert_int_equal(wp_connect(fb, UFX_SA(to), sizeof(to)), 0);
	ufx_sendto(other, "no", 2, UFX_IP_B, PORT_B);
	ufx_sendto(fa, "yes", 3, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 3);
	assert_memory_equal(buf, "yes", 3);
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(ufx_mib(fx->b).UdpNoPorts, 1);
	/* Send without an address goes to the peer. */
	assert_int_equal(wp_send(fb, "back", 4, 0), 4);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv(fa, buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_memory_equal(buf, "back", 4);
	/* sendto another address from a connected socket: allowed. */
	ufx_sendto(fb, "elsewhere", 9, UFX_IP_A, ufx_port(other));
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv(other, buf, sizeof(buf), MSG_DONTWAIT), 9);

	/* AF_UNSPEC dissolves it: from anyone again, and no default peer. */
	ufx_expect_errno(wp_connect(fb, &un, 1), EINVAL);
	assert_int_equal(wp_connect(fb, &un, sizeof(un)), 0);
	ufx_expect_errno(wp_send(fb, "x", 1, 0), EDESTADDRREQ);
	ufx_expect_errno(
		wp_getpeername(fb, UFX_SA(to), &(socklen_t){ sizeof(to) }),
		ENOTCONN);
	assert_int_equal(ufx_port(fb), PORT_B); /* bind chose it: kept */
	ufx_sendto(other, "now", 3, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 3);
	assert_int_equal(wp_close(other), 0);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* A connected socket learns of ICMP port unreachable: ECONNREFUSED once. */
static void test_econnrefused(void **state)
{
	struct ufx *fx = *state;
	int fa = wp_socket_net(fx->a, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_B, 4444);
	struct wp_pollfd pfd;
	char buf[4];
	int err;
	socklen_t len = sizeof(err);

	assert_int_equal(wp_connect(fa, UFX_SA(to), sizeof(to)), 0);
	assert_int_equal(wp_send(fa, "x", 1, 0), 1);
	ufx_run(fx, UFX_MS);
	assert_int_equal(ufx_mib(fx->b).UdpNoPorts, 1);
	pfd = (struct wp_pollfd){ .fd = fa, .events = WP_POLLIN };
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLERR);
	ufx_expect_errno(wp_recv(fa, buf, sizeof(buf), 0), ECONNREFUSED);
	/* Reported once. */
	ufx_expect_errno(wp_recv(fa, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* On the next send too; and SO_ERROR reads and clears it. */
	assert_int_equal(wp_send(fa, "x", 1, 0), 1);
	ufx_run(fx, UFX_MS);
	ufx_expect_errno(wp_send(fa, "x", 1, 0), ECONNREFUSED);
	assert_int_equal(wp_send(fa, "x", 1, 0), 1);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_getsockopt(fa, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_int_equal(wp_getsockopt(fa, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, 0);

	/* An unconnected socket is not told (Linux without IP_RECVERR). */
	assert_int_equal(wp_connect(fa, &(struct sockaddr){ AF_UNSPEC, { 0 } },
				    sizeof(struct sockaddr)),
			 0);
	ufx_sendto(fa, "x", 1, UFX_IP_B, 4444);
	ufx_run(fx, UFX_MS);
	ufx_expect_errno(wp_recv(fa, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(wp_close(fa), 0);
}

/* --- the receive queue: backpressure -------------------------------------- */

static void test_rcvbuf_backpressure(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	int v = 0, got = 0;
	socklen_t len = sizeof(v);
	char buf[64];
	struct wp_net_mib m0 = ufx_mib(fx->b), m1;

	/* The minimum: two default buffers' truesize; the queue takes
	 * datagrams while below it, so two fit. */
	assert_int_equal(
		wp_setsockopt(fb, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(wp_getsockopt(fb, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 2 * (WP_POOL_BUF_SIZE + sizeof(struct wp_skb)));
	for (int i = 0; i < 10; i++)
		ufx_sendto(fa, buf, 32, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	while (wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT) == 32)
		got++;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(got, 2);
	m1 = ufx_mib(fx->b);
	assert_int_equal(m1.UdpRcvbufErrors - m0.UdpRcvbufErrors, 8);
	assert_int_equal(m1.UdpInErrors - m0.UdpInErrors, 8);
	assert_int_equal(ufx_dropped_b(fx, WP_DROP_SOCKET_RCVBUFF), 8);
	{
		struct wp_sock *sk = wp_sockfd_lookup(fb);

		assert_int_equal(atomic_load(&sk->sk_drops), 8);
		assert_int_equal(atomic_load(&sk->sk_rmem_alloc), 0);
		wp_sockfd_put(sk);
	}
	/* Room again once read. */
	ufx_sendto(fa, buf, 32, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), 32);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* Data left on a socket at close goes back to the pools (teardown). */
static void test_close_with_data(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	char buf[100] = { 0 };

	for (int i = 0; i < 20; i++)
		ufx_sendto(fa, buf, sizeof(buf), UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_close(fb), 0);
	/* Datagrams after the close find no socket. */
	ufx_sendto(fa, buf, sizeof(buf), UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	assert_int_equal(ufx_mib(fx->b).UdpNoPorts, 1);
	assert_int_equal(wp_close(fa), 0);
}

/* --- batches, zero copy --------------------------------------------------- */

static void fill_mmsg(struct wp_mmsghdr *vec, struct iovec *iov,
		      struct sockaddr_in *names, char (*bufs)[32], unsigned n)
{
	memset(vec, 0, n * sizeof(*vec));
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = 32;
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
		vec[i].msg_hdr.msg_name = &names[i];
		vec[i].msg_hdr.msg_namelen = sizeof(names[i]);
	}
}

static void test_recvmmsg(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct wp_mmsghdr vec[8];
	struct iovec iov[8];
	struct sockaddr_in names[8];
	char bufs[8][32], msg[40];
	struct wp_socket_stats st;
	struct timespec ts = { 0, -1 };
	int n, next = 0;

	for (int i = 0; i < 10; i++) {
		int len = snprintf(msg, sizeof(msg), "datagram %d", i);

		ufx_sendto(fa, msg, (size_t)len, UFX_IP_B, PORT_B);
	}
	ufx_sendto(fa, "a long one that does not fit in thirty-two", 42,
		   UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);

	fill_mmsg(vec, iov, names, bufs, 8);
	ufx_expect_errno(wp_recvmmsg(fb, vec, 8, 0, &ts), EINVAL);
	ufx_expect_errno(wp_recvmmsg(fb, NULL, 8, 0, NULL), EFAULT);
	ufx_expect_errno(wp_recvmmsg(fb, vec, 8, MSG_OOB, NULL), EOPNOTSUPP);
	/* A batch of 4, then the rest without waiting. */
	n = wp_recvmmsg(fb, vec, 4, 0, NULL);
	assert_int_equal(n, 4);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < n && next < 10; i++, next++) {
			snprintf(msg, sizeof(msg), "datagram %d", next);
			assert_int_equal(vec[i].msg_len, strlen(msg));
			assert_memory_equal(bufs[i], msg, strlen(msg));
			assert_int_equal(ntohl(names[i].sin_addr.s_addr),
					 UFX_IP_A);
			assert_int_equal(vec[i].msg_hdr.msg_flags, 0);
		}
		if (round == 1)
			break;
		fill_mmsg(vec, iov, names, bufs, 8);
		n = wp_recvmmsg(fb, vec, 8, MSG_WAITFORONE, NULL);
		assert_int_equal(n, 7);
	}
	/* Of the second batch the last one was too long: cut, flagged. */
	assert_int_equal(next, 10);
	assert_int_equal(vec[6].msg_len, 32);
	assert_true(vec[6].msg_hdr.msg_flags & MSG_TRUNC);
	ufx_expect_errno(wp_recvmmsg(fb, vec, 8, MSG_DONTWAIT, NULL), EAGAIN);
	assert_int_equal(wp_socket_get_stats(fb, &st), 0);
	assert_int_equal(st.rx_datagrams, 11);

	/* A bad message in the middle: the ones before it are received,
	 * the error comes with the next call (SO_ERROR). */
	for (int i = 0; i < 3; i++)
		ufx_sendto(fa, "x", 1, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	fill_mmsg(vec, iov, names, bufs, 8);
	iov[1].iov_base = NULL;
	assert_int_equal(wp_recvmmsg(fb, vec, 8, MSG_DONTWAIT, NULL), 1);
	ufx_expect_errno(wp_recvmmsg(fb, vec, 8, MSG_DONTWAIT, NULL), EFAULT);
	fill_mmsg(vec, iov, names, bufs, 8);
	assert_int_equal(wp_recvmmsg(fb, vec, 8, MSG_DONTWAIT, NULL), 2);

	/* MSG_PEEK takes the generic path: the same datagram each time. */
	ufx_sendto(fa, "p", 1, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	fill_mmsg(vec, iov, names, bufs, 8);
	assert_int_equal(wp_recvmmsg(fb, vec, 2, MSG_PEEK, NULL), 2);
	assert_int_equal(wp_recv(fb, msg, sizeof(msg), 0), 1);

	/* A timeout: what arrived by then (virtual time does not move
	 * here, so a zero timeout returns at once). */
	ts = (struct timespec){ 0, 0 };
	ufx_sendto(fa, "t", 1, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	fill_mmsg(vec, iov, names, bufs, 8);
	assert_int_equal(wp_recvmmsg(fb, vec, 8, 0, &ts), 1);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_sendmmsg(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B), bad = to;
	struct wp_mmsghdr vec[5];
	struct iovec iov[5];
	char bufs[5][8];
	int got = 0;

	memset(vec, 0, sizeof(vec));
	for (int i = 0; i < 5; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "m%d", i);
		iov[i] = (struct iovec){ bufs[i], 2 };
		vec[i].msg_hdr.msg_iov = &iov[i];
		vec[i].msg_hdr.msg_iovlen = 1;
		vec[i].msg_hdr.msg_name = &to;
		vec[i].msg_hdr.msg_namelen = sizeof(to);
	}
	assert_int_equal(wp_sendmmsg(fa, vec, 5, 0), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(vec[i].msg_len, 2);
	ufx_run(fx, UFX_MS);
	while (wp_recv(fb, bufs[0], 8, MSG_DONTWAIT) == 2)
		got++;
	assert_int_equal(got, 5);
	ufx_expect_errno(wp_sendmmsg(fa, NULL, 5, 0), EFAULT);

	/* An error in the middle: the datagrams before it count, and the
	 * error is the next call's. */
	bad.sin_port = 0;
	vec[2].msg_hdr.msg_name = &bad;
	assert_int_equal(wp_sendmmsg(fa, vec, 5, 0), 2);
	ufx_expect_errno(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)),
			 EINVAL);
	assert_int_equal(wp_sendto(fa, "x", 1, 0, UFX_SA(to), sizeof(to)), 1);
	/* The first one failing: the call fails. */
	ufx_expect_errno(wp_sendmmsg(fa, vec + 2, 3, 0), EINVAL);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_zero_copy(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 6000);
	struct wp_zc_handle *h[3];
	struct iovec iov;
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	struct wp_socket_stats st0, st;

	wp_socket_get_global_stats(&st0);
	ufx_sendto(fa, "zero-copy", 9, UFX_IP_B, PORT_B);
	ufx_sendto(fa, "two", 3, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	ufx_expect_errno(wp_recv_zc(fb, &iov, &h[0], MSG_PEEK, NULL, NULL),
			 EINVAL);
	ufx_expect_errno(wp_recv_zc(fb, &iov, &h[0], MSG_TRUNC, NULL, NULL),
			 EINVAL);
	ufx_expect_errno(wp_recv_zc(fb, NULL, &h[0], 0, NULL, NULL), EFAULT);
	ufx_expect_errno(wp_recv_zc(fb, &iov, NULL, 0, NULL, NULL), EFAULT);
	ufx_expect_errno(wp_recv_zc(fb, &iov, &h[0], 0, UFX_SA(from), NULL),
			 EFAULT);
	ufx_expect_errno(wp_recv_zc(fb, &iov, &h[0], MSG_OOB, NULL, NULL),
			 EOPNOTSUPP);

	assert_int_equal(wp_recv_zc(fb, &iov, &h[0], 0, UFX_SA(from), &len), 9);
	assert_int_equal(iov.iov_len, 9);
	assert_memory_equal(iov.iov_base, "zero-copy", 9);
	assert_int_equal(ntohs(from.sin_port), 6000);
	/* The payload sits where the NIC wrote it: in an RX pool buffer. */
	{
		struct wp_skb *skb = (struct wp_skb *)(void *)h[0];

		assert_ptr_equal(skb->data, iov.iov_base);
		assert_ptr_equal(skb->pool, fx->b->nic->rxq[0].pool);
	}
	assert_int_equal(wp_recv_zc(fb, &iov, &h[1], 0, NULL, NULL), 3);
	assert_memory_equal(iov.iov_base, "two", 3);
	ufx_expect_errno(wp_recv_zc(fb, &iov, &h[2], MSG_DONTWAIT, NULL, NULL),
			 EAGAIN);
	assert_null(h[2]);
	assert_int_equal(wp_socket_get_stats(fb, &st), 0);
	assert_int_equal(st.zc_datagrams, 2);
	assert_int_equal(st.zc_bytes, 12);
	assert_int_equal(st.rx_copies, 0);
	assert_int_equal(st.rx_datagrams, 0);
	wp_socket_get_global_stats(&st);
	assert_int_equal(st.zc_datagrams - st0.zc_datagrams, 2);
	/* Released in any order, after the socket is gone even. */
	assert_int_equal(wp_close(fb), 0);
	wp_recv_zc_release(h[1]);
	wp_recv_zc_release(h[0]);
	wp_recv_zc_release(NULL);
	assert_int_equal(wp_close(fa), 0);
}

/* --- shutdown, ioctl ------------------------------------------------------ */

static void test_shutdown(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);
	struct wp_pollfd pfd = { .fd = fb, .events = WP_POLLIN };
	char buf[8];

	ufx_expect_errno(wp_shutdown(fb, 3), EINVAL);
	ufx_expect_errno(wp_shutdown(fb, -1), EINVAL);
	ufx_sendto(fa, "q", 1, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	/* Unconnected: ENOTCONN, but it still shuts (Linux). */
	ufx_expect_errno(wp_shutdown(fb, SHUT_RD), ENOTCONN);
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLIN);
	pfd.events |= WP_POLLRDHUP;
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLRDHUP);
	/* Queued data first, then end of file, even when blocking. */
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 1);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 0);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 0);

	/* Connected: 0, and SHUT_WR fails sends with EPIPE. */
	assert_int_equal(wp_connect(fa, UFX_SA(to), sizeof(to)), 0);
	assert_int_equal(wp_shutdown(fa, SHUT_WR), 0);
	ufx_expect_errno(wp_send(fa, "x", 1, 0), EPIPE);
	assert_int_equal(wp_shutdown(fa, SHUT_RDWR), 0);
	pfd.fd = fa;
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLHUP);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

static void test_ioctl(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	char buf[200] = { 0 };
	int v = -1;

	assert_int_equal(wp_ioctl(fb, FIONREAD, &v), 0);
	assert_int_equal(v, 0);
	ufx_sendto(fa, buf, 100, UFX_IP_B, PORT_B);
	ufx_sendto(fa, buf, 150, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	/* The next datagram's size, not the queue's. */
	assert_int_equal(wp_ioctl(fb, SIOCINQ, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 100);
	assert_int_equal(wp_ioctl(fb, FIONREAD, &v), 0);
	assert_int_equal(v, 150);
	assert_int_equal(wp_ioctl(fb, SIOCOUTQ, &v), 0);
	assert_int_equal(v, 0);
	ufx_expect_errno(wp_ioctl(fb, FIONREAD, NULL), EFAULT);
	ufx_expect_errno(wp_ioctl(fb, SIOCGIFMTU, &v), ENOTTY);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* --- options -------------------------------------------------------------- */

static int get_int(int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);

	assert_int_equal(wp_getsockopt(fd, level, name, &v, &len), 0);
	assert_int_equal(len, sizeof(v));
	return v;
}

static void set_int(int fd, int level, int name, int v)
{
	assert_int_equal(wp_setsockopt(fd, level, name, &v, sizeof(v)), 0);
}

static void test_sockopt_buffers(void **state)
{
	struct ufx *fx = *state;
	int fd = wp_socket(AF_INET, SOCK_DGRAM, 0);
	int max = wp_sysctl_read(&fx->b->sysctl.rmem_max);
	int min = (int)(2 * (WP_POOL_BUF_SIZE + sizeof(struct wp_skb)));

	/* The defaults: net.core.rmem_default / wmem_default. */
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 212992);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_SNDBUF), 212992);
	/* Doubled, clamped by rmem_max, floored at the minimum. */
	set_int(fd, SOL_SOCKET, SO_RCVBUF, 100000);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 200000);
	set_int(fd, SOL_SOCKET, SO_RCVBUF, 1 << 30);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 2 * max);
	set_int(fd, SOL_SOCKET, SO_RCVBUF, -5);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 2 * max);
	set_int(fd, SOL_SOCKET, SO_RCVBUF, 100);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), min);
	/* FORCE: no max. */
	set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, 1 << 20);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 2 << 20);
	set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, -1);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), min);
	/* A larger sysctl lets more through. */
	assert_int_equal(
		wp_sysctl_set(&fx->b->sysctl, "net.core.rmem_max", "1000000"),
		0);
	set_int(fd, SOL_SOCKET, SO_RCVBUF, 1 << 30);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_RCVBUF), 2000000);

	set_int(fd, SOL_SOCKET, SO_SNDBUF, 50000);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_SNDBUF), 100000);
	set_int(fd, SOL_SOCKET, SO_SNDBUF, 1 << 30);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_SNDBUF),
			 2 * wp_sysctl_read(&fx->b->sysctl.wmem_max));
	set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, 1 << 22);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_SNDBUF), 2 << 22);
	set_int(fd, SOL_SOCKET, SO_SNDBUF, 1);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_SNDBUF), min);
	assert_int_equal(wp_close(fd), 0);
}

static void test_sockopt_timeouts(void **state)
{
	int fd = wp_socket(AF_INET, SOCK_DGRAM, 0);
	struct timeval tv = { 2, 500000 }, got;
	socklen_t len = sizeof(got);

	(void)state;
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len),
			 0);
	assert_int_equal(len, sizeof(got));
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 0);
	for (int i = 0; i < 2; i++) {
		int name = i ? SO_SNDTIMEO : SO_RCVTIMEO;

		assert_int_equal(
			wp_setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)),
			0);
		assert_int_equal(
			wp_getsockopt(fd, SOL_SOCKET, name, &got, &len), 0);
		assert_int_equal(got.tv_sec, 2);
		assert_int_equal(got.tv_usec, 500000);
		ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, name, &tv,
					       sizeof(tv) - 1),
				 EINVAL);
		ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, name,
					       &(struct timeval){ 1, 1000000 },
					       sizeof(tv)),
				 EDOM);
		ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, name,
					       &(struct timeval){ 1, -1 },
					       sizeof(tv)),
				 EDOM);
		/* {0, 0}: forever again. */
		assert_int_equal(wp_setsockopt(fd, SOL_SOCKET, name,
					       &(struct timeval){ 0, 0 },
					       sizeof(tv)),
				 0);
		assert_int_equal(
			wp_getsockopt(fd, SOL_SOCKET, name, &got, &len), 0);
		assert_int_equal(got.tv_sec, 0);
	}
	assert_int_equal(wp_close(fd), 0);
}

static void test_sockopt_errors(void **state)
{
	int fd = wp_socket(AF_INET, SOCK_DGRAM, 0), v = 1;
	socklen_t len = sizeof(v);
	short s = 0;

	(void)state;
	ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 2),
			 EINVAL);
	ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, NULL, 4),
			 EFAULT);
	ufx_expect_errno(
		wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, (socklen_t)-1),
		EINVAL);
	ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, 9999, &v, sizeof(v)),
			 ENOPROTOOPT);
	/* Read-only options cannot be set. */
	ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, SO_TYPE, &v, sizeof(v)),
			 ENOPROTOOPT);
	ufx_expect_errno(wp_setsockopt(fd, SOL_SOCKET, SO_ERROR, &v, sizeof(v)),
			 ENOPROTOOPT);
	ufx_expect_errno(wp_setsockopt(fd, IPPROTO_UDP, 1, &v, sizeof(v)),
			 ENOPROTOOPT);
	ufx_expect_errno(wp_setsockopt(fd, 12345, 1, &v, sizeof(v)),
			 ENOPROTOOPT);
	ufx_expect_errno(wp_getsockopt(fd, SOL_SOCKET, 9999, &v, &len),
			 ENOPROTOOPT);
	ufx_expect_errno(wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, NULL, &len),
			 EFAULT);
	ufx_expect_errno(wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, NULL),
			 EFAULT);
	len = (socklen_t)-1;
	ufx_expect_errno(wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len),
			 EINVAL);
	/* A short buffer gets the first bytes. */
	len = sizeof(s);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &s, &len), 0);
	assert_int_equal(len, sizeof(s));
	assert_int_equal(s, SOCK_DGRAM);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(get_int(fd, SOL_SOCKET, SO_BROADCAST), 0);
	assert_int_equal(wp_close(fd), 0);
}

static void test_sockopt_ip(void **state)
{
	struct ufx *fx = *state;
	int fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT_B);
	struct wp_zc_handle *h;
	struct iovec iov;
	unsigned char c = 0x2e;
	socklen_t len;
	int v;

	assert_int_equal(get_int(fa, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(get_int(fa, IPPROTO_IP, IP_MTU_DISCOVER),
			 IP_PMTUDISC_WANT);
	set_int(fa, IPPROTO_IP, IP_TTL, 5);
	assert_int_equal(get_int(fa, IPPROTO_IP, IP_TTL), 5);
	ufx_expect_errno(
		wp_setsockopt(fa, IPPROTO_IP, IP_TTL, &(int){ 0 }, sizeof(int)),
		EINVAL);
	ufx_expect_errno(wp_setsockopt(fa, IPPROTO_IP, IP_TTL, &(int){ 256 },
				       sizeof(int)),
			 EINVAL);
	ufx_expect_errno(wp_setsockopt(fa, IPPROTO_IP, IP_TTL, &v, 0), EINVAL);
	/* IP options take a byte too. */
	assert_int_equal(wp_setsockopt(fa, IPPROTO_IP, IP_TOS, &c, 1), 0);
	assert_int_equal(get_int(fa, IPPROTO_IP, IP_TOS), 0x2e);
	len = 1;
	c = 0;
	assert_int_equal(wp_getsockopt(fa, IPPROTO_IP, IP_TTL, &c, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(c, 5);
	ufx_expect_errno(wp_setsockopt(fa, IPPROTO_IP, IP_MTU_DISCOVER,
				       &(int){ 9 }, sizeof(int)),
			 EINVAL);
	ufx_expect_errno(
		wp_setsockopt(fa, IPPROTO_IP, IP_MTU, &(int){ 9 }, sizeof(int)),
		ENOPROTOOPT);
	len = sizeof(v);
	ufx_expect_errno(wp_getsockopt(fa, IPPROTO_IP, IP_MTU, &v, &len),
			 ENOTCONN);
	ufx_expect_errno(wp_getsockopt(fa, IPPROTO_IP, 9999, &v, &len),
			 ENOPROTOOPT);
	assert_int_equal(wp_connect(fa, UFX_SA(to), sizeof(to)), 0);
	assert_int_equal(get_int(fa, IPPROTO_IP, IP_MTU), 1500);

	/* TTL and TOS go on the wire: the receiver's skb says. */
	assert_int_equal(wp_send(fa, "t", 1, 0), 1);
	ufx_run(fx, UFX_MS);
	assert_int_equal(wp_recv_zc(fb, &iov, &h, 0, NULL, NULL), 1);
	assert_int_equal(wp_udp_skb_cb((struct wp_skb *)(void *)h)->ttl, 5);
	assert_int_equal(wp_udp_skb_cb((struct wp_skb *)(void *)h)->tos, 0x2e);
	wp_recv_zc_release(h);
	set_int(fa, IPPROTO_IP, IP_TTL, -1);
	assert_int_equal(get_int(fa, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

/* --- counters ------------------------------------------------------------- */

static void test_global_counters(void **state)
{
	struct ufx *fx = *state;
	struct wp_socket_stats g0, g1;
	int fb, fa;
	char buf[64];

	wp_socket_get_global_stats(&g0);
	fb = ufx_udp(fx->b, INADDR_ANY, PORT_B);
	fa = ufx_udp(fx->a, INADDR_ANY, 0);
	for (int i = 0; i < 3; i++)
		ufx_sendto(fa, "0123456789", 10, UFX_IP_B, PORT_B);
	ufx_run(fx, UFX_MS);
	for (int i = 0; i < 3; i++)
		assert_int_equal(wp_recv(fb, buf, sizeof(buf), 0), 10);
	ufx_expect_errno(wp_recv(fb, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	ufx_expect_errno(wp_recv(77, buf, sizeof(buf), 0), EBADF);
	wp_socket_get_global_stats(&g1);
	/* 2 socket + 2 bind + 3 send + 4 recv + 1 EBADF recv */
	assert_int_equal(g1.calls - g0.calls, 12);
	assert_int_equal(g1.send_calls - g0.send_calls, 3);
	assert_int_equal(g1.recv_calls - g0.recv_calls, 5);
	assert_int_equal(g1.rx_datagrams - g0.rx_datagrams, 3);
	assert_int_equal(g1.rx_copies - g0.rx_copies, 3);
	assert_int_equal(g1.rx_bytes - g0.rx_bytes, 30);
	assert_int_equal(g1.tx_datagrams - g0.tx_datagrams, 3);
	assert_int_equal(g1.tx_bytes - g0.tx_bytes, 30);
	assert_int_equal(g1.would_block - g0.would_block, 1);
	assert_int_equal(g1.errors - g0.errors, 1);
	assert_string_equal(wp_socket_stat_name(WP_SOCKET_STAT_RX_COPIES),
			    "rx_copies");
	assert_string_equal(wp_socket_stat_name(WP_SOCKET_STAT__MAX), "?");
	{
		char *text = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&text, &n);

		wp_socket_print_all(f);
		wp_socket_print_stats(f);
		fclose(f);
		assert_non_null(strstr(text, "0.0.0.0:7000"));
		assert_non_null(strstr(text, "rx_copies: "));
		free(text);
	}
	assert_int_equal(wp_close(fa), 0);
	assert_int_equal(wp_close(fb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, ufx_setup, ufx_teardown)
		T(test_socket_create),
		T(test_socket_errors),
		T(test_socket_emfile),
		T(test_bad_descriptors),
		T(test_bind),
		T(test_reuse),
		T(test_names),
		T(test_sendto_recvfrom),
		T(test_peek_trunc),
		T(test_iovecs),
		T(test_nonblocking),
		T(test_send_errors),
		T(test_large_datagram),
		T(test_connect),
		T(test_econnrefused),
		T(test_rcvbuf_backpressure),
		T(test_close_with_data),
		T(test_recvmmsg),
		T(test_sendmmsg),
		T(test_zero_copy),
		T(test_shutdown),
		T(test_ioctl),
		T(test_sockopt_buffers),
		T(test_sockopt_timeouts),
		T(test_sockopt_errors),
		T(test_sockopt_ip),
		T(test_global_counters),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
