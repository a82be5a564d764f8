// SPDX-License-Identifier: MIT
/*
 * The socket calls of TCP (SOCK_STREAM) on the pair backend, on virtual
 * time: the main thread runs the machine (NICs, NAPI, TCP's cores),
 * tests and their threads are the applications.
 *   - socket/bind/listen/connect/accept and their errno, as Linux's;
 *   - non-blocking connect (EINPROGRESS, POLLOUT, SO_ERROR, then 0 once
 *     and EISCONN), a refused connect, getpeername, options, TCP_INFO;
 *   - a blocking echo server on one thread and a blocking client on
 *     another moving a megabyte through MSG_WAITALL;
 *   - one epoll thread (edge-triggered) serving several non-blocking
 *     clients;
 *   - backpressure: a reader that does not read stops a blocking writer,
 *     and reading releases it;
 *   - SO_RCVTIMEO, peer close (recv 0, POLLRDHUP), reset on close with
 *     unread data (ECONNRESET).
 * Teardown checks every pool is whole and every TCP socket is gone.
 */
#include "test_udp_common.h"

#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include <linux/sockios.h>

#include "core/sysctl.h"
#include "tcp/tcp.h"

#define PORT 8080
#define REAL_LIMIT_NS (60 * WP_NSEC_PER_SEC)

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void nap(void)
{
	struct timespec ts = { 0, 20000 };

	nanosleep(&ts, NULL);
}

/* Run the pair until flag is set, bounded in real time. */
static void run_until_flag(struct ufx *fx, _Atomic bool *flag)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;

	while (!atomic_load(flag)) {
		assert_true(real_ns() < limit);
		ufx_run(fx, 200 * WP_NSEC_PER_USEC);
		nap();
	}
}

static int setup(void **state)
{
	struct ufx *fx = ufx_create(NULL);

	/* TIME_WAIT of 200 ms: teardown's run outlasts it. */
	assert_int_equal(
		wp_sysctl_set(&fx->a->sysctl, "net.ipv4.tcp_msl_ms", "100"), 0);
	assert_int_equal(
		wp_sysctl_set(&fx->b->sysctl, "net.ipv4.tcp_msl_ms", "100"), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	/* Every descriptor closed: FINs, TIME_WAIT, and nothing left. */
	ufx_destroy_tcp(*state);
	return 0;
}

static int tcp_socket(struct wp_stack *s, int flags)
{
	int fd = wp_socket_net(s, AF_INET, SOCK_STREAM | flags, 0);

	assert_true(fd >= 0);
	return fd;
}

/* A listener on B, PORT. */
static int listener(struct ufx *fx, int backlog)
{
	struct sockaddr_in sin = ufx_sin(INADDR_ANY, PORT);
	int one = 1, fd = tcp_socket(fx->b, 0);

	assert_int_equal(
		wp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
		0);
	assert_int_equal(wp_bind(fd, UFX_SA(sin), sizeof(sin)), 0);
	assert_int_equal(wp_listen(fd, backlog), 0);
	return fd;
}

/* A non-blocking connect from A, run to completion; returns the fd. */
static int connect_nb(struct ufx *fx)
{
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT);
	int fd = tcp_socket(fx->a, SOCK_NONBLOCK), err;
	socklen_t len = sizeof(err);

	ufx_expect_errno(wp_connect(fd, UFX_SA(to), sizeof(to)), EINPROGRESS);
	ufx_run(fx, 5 * UFX_MS);
	assert_int_equal(wp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, 0);
	return fd;
}

static void test_socket_calls_and_errors(void **state)
{
	struct ufx *fx = *state;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT), peer;
	socklen_t len = sizeof(peer);
	int u = wp_socket_net(fx->b, AF_INET, SOCK_DGRAM, 0);
	int t = tcp_socket(fx->b, 0), v, flags = 0;
	char buf[8];

	/* Type and protocol (inetsw). */
	ufx_expect_errno(wp_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP),
			 EPROTONOSUPPORT);
	assert_true(wp_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) >= 0);
	/* Stream calls on a datagram socket. */
	ufx_expect_errno(wp_listen(u, 5), EOPNOTSUPP);
	ufx_expect_errno(wp_accept(u, NULL, NULL), EOPNOTSUPP);
	/* An unconnected stream socket: Linux's answers. */
	ufx_expect_errno(wp_accept(t, NULL, NULL), EINVAL);
	ufx_expect_errno(wp_send(t, "x", 1, 0), EPIPE);
	ufx_expect_errno(wp_recv(t, buf, sizeof(buf), 0), ENOTCONN);
	ufx_expect_errno(wp_getpeername(t, UFX_SA(peer), &len), ENOTCONN);
	ufx_expect_errno(wp_shutdown(t, SHUT_WR), ENOTCONN);
	ufx_expect_errno(wp_accept4(t, NULL, NULL, 0x4), EINVAL);
	/* A listener. */
	assert_int_equal(wp_listen(t, 4), 0);
	len = sizeof(v);
	assert_int_equal(wp_getsockopt(t, SOL_SOCKET, SO_ACCEPTCONN, &v, &len),
			 0);
	assert_int_equal(v, 1);
	assert_int_equal(wp_getsockopt(t, SOL_SOCKET, SO_TYPE, &v, &len), 0);
	assert_int_equal(v, SOCK_STREAM);
	ufx_expect_errno(wp_connect(t, UFX_SA(to), sizeof(to)), EISCONN);
	ufx_expect_errno(wp_ioctl(t, FIONREAD, &flags), EINVAL);
	ufx_expect_errno(wp_send(t, "x", 1, 0), EPIPE);
	/* accept4's SOCK_NONBLOCK is the new socket's; the listener's own
	 * flag makes the call return at once. */
	assert_int_equal(wp_fcntl(t, F_SETFL, O_NONBLOCK), 0);
	ufx_expect_errno(wp_accept4(t, NULL, NULL, SOCK_NONBLOCK), EAGAIN);
	/* A bad address family, a short address. */
	ufx_expect_errno(wp_connect(u, UFX_SA(to), 4), EINVAL);
	assert_int_equal(wp_close(t), 0);
	assert_int_equal(wp_close(u), 0);
}

static void test_nonblocking_connect_accept(void **state)
{
	struct ufx *fx = *state;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT), a, p;
	socklen_t len = sizeof(a);
	struct wp_pollfd pfd;
	struct tcp_info ti;
	int l = listener(fx, 8), c, s, v, n;
	char buf[64];

	c = tcp_socket(fx->a, SOCK_NONBLOCK);
	ufx_expect_errno(wp_connect(c, UFX_SA(to), sizeof(to)), EINPROGRESS);
	ufx_expect_errno(wp_connect(c, UFX_SA(to), sizeof(to)), EALREADY);
	pfd = (struct wp_pollfd){ .fd = c, .events = WP_POLLOUT };
	assert_int_equal(wp_poll(&pfd, 1, 0), 0);
	ufx_run(fx, 5 * UFX_MS);
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLOUT);
	/* Completed: 0 once, then EISCONN (Linux). */
	assert_int_equal(wp_connect(c, UFX_SA(to), sizeof(to)), 0);
	ufx_expect_errno(wp_connect(c, UFX_SA(to), sizeof(to)), EISCONN);

	pfd = (struct wp_pollfd){ .fd = l, .events = WP_POLLIN };
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	s = wp_accept4(l, UFX_SA(a), &len, SOCK_NONBLOCK);
	assert_true(s >= 0);
	assert_int_equal(len, sizeof(a));
	assert_int_equal(ntohl(a.sin_addr.s_addr), UFX_IP_A);
	len = sizeof(p);
	assert_int_equal(wp_getsockname(c, UFX_SA(p), &len), 0);
	assert_int_equal(a.sin_port, p.sin_port);
	assert_int_equal(ntohl(p.sin_addr.s_addr), UFX_IP_A);
	assert_int_equal(wp_getpeername(c, UFX_SA(p), &len), 0);
	assert_int_equal(ntohs(p.sin_port), PORT);
	assert_int_equal(wp_fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);

	/* Options. */
	v = 1;
	assert_int_equal(
		wp_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	v = 0;
	len = sizeof(v);
	assert_int_equal(wp_getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len),
			 0);
	assert_int_equal(v, 1);
	assert_int_equal(wp_getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, &len),
			 0);
	assert_int_equal(v, 1500 - 40 - 12);
	len = sizeof(ti);
	assert_int_equal(wp_getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.tcpi_state, WP_TCP_ESTABLISHED);
	assert_true(ti.tcpi_options & TCPI_OPT_SACK);
	len = sizeof(buf);
	assert_int_equal(
		wp_getsockopt(c, IPPROTO_TCP, TCP_CONGESTION, buf, &len), 0);
	assert_string_equal(buf, "cubic");
	v = 0;
	ufx_expect_errno(
		wp_setsockopt(c, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)),
		EINVAL);

	/* Data both ways, FIONREAD, peek. */
	ufx_expect_errno(wp_recv(s, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(wp_send(c, "hello, stream", 13, 0), 13);
	ufx_run(fx, 2 * UFX_MS);
	assert_int_equal(wp_ioctl(s, FIONREAD, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(wp_recv(s, buf, 5, MSG_PEEK), 5);
	assert_int_equal(wp_recv(s, buf, 5, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(wp_recv(s, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, ", stream", 8);
	assert_int_equal(wp_send(s, "ok", 2, 0), 2);
	ufx_run(fx, 2 * UFX_MS);
	assert_int_equal(wp_recv(c, buf, sizeof(buf), 0), 2);

	/* The client closes: the server reads the end of the stream. */
	assert_int_equal(wp_close(c), 0);
	ufx_run(fx, 2 * UFX_MS);
	pfd = (struct wp_pollfd){ .fd = s, .events = WP_POLLIN | WP_POLLRDHUP };
	assert_int_equal(wp_poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & WP_POLLRDHUP);
	assert_int_equal(wp_recv(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(wp_close(s), 0);
	assert_int_equal(wp_close(l), 0);
}

/* --- threads ------------------------------------------------------------- */

struct app {
	struct ufx *fx;
	int fd, ret, err;
	size_t bytes;
	_Atomic bool done, started;
	uint8_t *buf;
};

static void *refused_main(void *arg)
{
	struct app *a = arg;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT + 1);

	atomic_store(&a->started, true);
	a->ret = wp_connect(a->fd, UFX_SA(to), sizeof(to));
	a->err = errno;
	atomic_store(&a->done, true);
	return NULL;
}

static void test_blocking_connect_refused(void **state)
{
	struct ufx *fx = *state;
	struct app a = { .fx = fx };
	pthread_t t;

	a.fd = tcp_socket(fx->a, 0);
	assert_int_equal(pthread_create(&t, NULL, refused_main, &a), 0);
	run_until_flag(fx, &a.done);
	pthread_join(t, NULL);
	assert_int_equal(a.ret, -1);
	assert_int_equal(a.err, ECONNREFUSED);
	assert_int_equal(wp_close(a.fd), 0);
}

#define ECHO_BYTES (1u << 20)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

/* Accept one connection, echo it until EOF (all blocking). */
static void *echo_server_main(void *arg)
{
	struct app *a = arg;
	uint8_t buf[3000];
	int s;

	atomic_store(&a->started, true);
	s = wp_accept(a->fd, NULL, NULL);
	if (s < 0) {
		a->ret = -1;
		a->err = errno;
		goto out;
	}
	for (;;) {
		ssize_t n = wp_recv(s, buf, sizeof(buf), 0), off = 0;

		if (n <= 0) {
			a->ret = (int)n;
			a->err = n < 0 ? errno : 0;
			break;
		}
		while (off < n) {
			ssize_t w = wp_send(s, buf + off, (size_t)(n - off), 0);

			if (w < 0) {
				a->ret = -1;
				a->err = errno;
				goto close;
			}
			off += w;
		}
		a->bytes += (size_t)n;
	}
close:
	wp_close(s);
out:
	atomic_store(&a->done, true);
	return NULL;
}

/* Connect, send a megabyte while a second thread reads the echo back. */
static void *echo_reader_main(void *arg)
{
	struct app *a = arg;
	ssize_t n = wp_recv(a->fd, a->buf, ECHO_BYTES, MSG_WAITALL);

	a->ret = (int)n;
	a->err = n < 0 ? errno : 0;
	a->bytes = n > 0 ? (size_t)n : 0;
	atomic_store(&a->done, true);
	return NULL;
}

static void *echo_client_main(void *arg)
{
	struct app *a = arg;
	struct sockaddr_in to = ufx_sin(UFX_IP_B, PORT);
	struct app rd = { .fx = a->fx, .buf = a->buf };
	pthread_t t;
	uint8_t *out = malloc(ECHO_BYTES);

	atomic_store(&a->started, true);
	a->ret = wp_connect(a->fd, UFX_SA(to), sizeof(to));
	if (a->ret || !out) {
		a->err = errno;
		free(out);
		atomic_store(&a->done, true);
		return NULL;
	}
	for (size_t i = 0; i < ECHO_BYTES; i++)
		out[i] = pattern(i);
	rd.fd = a->fd;
	pthread_create(&t, NULL, echo_reader_main, &rd);
	/* One blocking send of the whole megabyte: it sleeps whenever the
	 * send buffer is full and returns once all of it is taken. */
	a->bytes = (size_t)wp_send(a->fd, out, ECHO_BYTES, 0);
	pthread_join(t, NULL);
	a->ret = rd.ret;
	a->err = rd.err;
	assert_int_equal(wp_shutdown(a->fd, SHUT_WR), 0);
	free(out);
	atomic_store(&a->done, true);
	return NULL;
}

static void test_blocking_echo_threads(void **state)
{
	struct ufx *fx = *state;
	struct app srv = { .fx = fx }, cli = { .fx = fx };
	struct wp_socket_stats st;
	pthread_t ts, tc;

	srv.fd = listener(fx, 4);
	cli.fd = tcp_socket(fx->a, 0);
	cli.buf = malloc(ECHO_BYTES);
	assert_non_null(cli.buf);
	assert_int_equal(pthread_create(&ts, NULL, echo_server_main, &srv), 0);
	assert_int_equal(pthread_create(&tc, NULL, echo_client_main, &cli), 0);
	run_until_flag(fx, &cli.done);
	run_until_flag(fx, &srv.done);
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	assert_int_equal(cli.bytes, ECHO_BYTES);
	assert_int_equal(cli.ret, (int)ECHO_BYTES);
	for (size_t i = 0; i < ECHO_BYTES; i++)
		if (cli.buf[i] != pattern(i))
			fail_msg("byte %zu differs", i);
	/* The server saw the client's FIN after all the data. */
	assert_int_equal(srv.ret, 0);
	assert_int_equal(srv.bytes, ECHO_BYTES);
	wp_socket_get_stats(cli.fd, &st);
	assert_int_equal(st.rx_bytes, ECHO_BYTES);
	assert_int_equal(st.tx_bytes, ECHO_BYTES);
	assert_true(st.sleeps > 0);
	free(cli.buf);
	assert_int_equal(wp_close(cli.fd), 0);
	assert_int_equal(wp_close(srv.fd), 0);
}

/* --- epoll: one thread, edge-triggered, many connections ------------------ */

#define N_CLIENTS 6
#define PER_CLIENT 20000

struct ep_server {
	int l, ep;
	_Atomic bool stop, done;
	size_t echoed;
	int conns, closed, err;
};

/* Send len bytes on a non-blocking socket, waiting out EAGAIN. 0, -1. */
static int echo_all(struct ep_server *e, int fd, const uint8_t *buf, size_t len)
{
	while (len && !atomic_load(&e->stop)) {
		ssize_t w = wp_send(fd, buf, len, 0);

		if (w > 0) {
			buf += w;
			len -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			nap();
		} else {
			return -1;
		}
	}
	return len ? -1 : 0;
}

/* Edge-triggered: every readiness change is drained to EAGAIN. */
static void *ep_server_main(void *arg)
{
	struct ep_server *e = arg;
	struct wp_epoll_event ev[16];
	uint8_t buf[4096];

	while (!atomic_load(&e->stop)) {
		int n = wp_epoll_wait(e->ep, ev, 16, 10);

		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == e->l) {
				int s;

				while ((s = wp_accept4(e->l, NULL, NULL,
						       SOCK_NONBLOCK)) >= 0) {
					struct wp_epoll_event ce = {
						.events = WP_EPOLLIN |
							  WP_EPOLLRDHUP |
							  WP_EPOLLET,
						.data.fd = s,
					};

					wp_epoll_ctl(e->ep, WP_EPOLL_CTL_ADD, s,
						     &ce);
					e->conns++;
				}
				continue;
			}
			for (;;) {
				ssize_t r = wp_recv(fd, buf, sizeof(buf), 0);

				if (r > 0) {
					/* Echo all of it: the socket is
					 * non-blocking, and a server thread
					 * the host kept waiting may meet a
					 * full send buffer, which drains as
					 * the client thread runs the wire. */
					if (echo_all(e, fd, buf, (size_t)r))
						e->err++;
					e->echoed += (size_t)r;
					continue;
				}
				if (r == 0 || errno != EAGAIN) {
					wp_epoll_ctl(e->ep, WP_EPOLL_CTL_DEL,
						     fd, NULL);
					wp_close(fd);
					e->closed++;
				}
				break;
			}
		}
	}
	atomic_store(&e->done, true);
	return NULL;
}

static void test_epoll_et_server(void **state)
{
	struct ufx *fx = *state;
	struct ep_server e = { 0 };
	struct wp_epoll_event ev = { .events = WP_EPOLLIN | WP_EPOLLET };
	int c[N_CLIENTS];
	size_t sent[N_CLIENTS] = { 0 }, got[N_CLIENTS] = { 0 };
	uint8_t chunk[1000];
	uint64_t limit = real_ns() + REAL_LIMIT_NS;
	pthread_t t;
	bool all;

	e.l = listener(fx, 16);
	wp_fcntl(e.l, F_SETFL, O_NONBLOCK);
	e.ep = wp_epoll_create1(0);
	ev.data.fd = e.l;
	assert_int_equal(wp_epoll_ctl(e.ep, WP_EPOLL_CTL_ADD, e.l, &ev), 0);
	assert_int_equal(pthread_create(&t, NULL, ep_server_main, &e), 0);
	for (int i = 0; i < N_CLIENTS; i++)
		c[i] = connect_nb(fx);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	/* The clients (this thread, non-blocking) send and read back. */
	do {
		assert_true(real_ns() < limit);
		all = true;
		for (int i = 0; i < N_CLIENTS; i++) {
			uint8_t buf[4096];
			ssize_t r;

			if (sent[i] < PER_CLIENT) {
				size_t n = PER_CLIENT - sent[i];

				r = wp_send(c[i], chunk,
					    n < sizeof(chunk) ? n
							      : sizeof(chunk),
					    0);
				if (r > 0)
					sent[i] += (size_t)r;
			}
			while ((r = wp_recv(c[i], buf, sizeof(buf), 0)) > 0) {
				for (ssize_t k = 0; k < r; k++)
					assert_int_equal(
						buf[k],
						(uint8_t)((got[i] + (size_t)k) %
							  sizeof(chunk)));
				got[i] += (size_t)r;
			}
			if (got[i] < PER_CLIENT)
				all = false;
		}
		ufx_run(fx, 200 * WP_NSEC_PER_USEC);
		nap();
	} while (!all);
	for (int i = 0; i < N_CLIENTS; i++)
		assert_int_equal(wp_close(c[i]), 0);
	/* The server sees every end of stream and closes its side. */
	while (e.closed < N_CLIENTS) {
		assert_true(real_ns() < limit);
		ufx_run(fx, 200 * WP_NSEC_PER_USEC);
		nap();
	}
	atomic_store(&e.stop, true);
	run_until_flag(fx, &e.done);
	pthread_join(t, NULL);
	assert_int_equal(e.conns, N_CLIENTS);
	assert_int_equal(e.echoed, (size_t)N_CLIENTS * PER_CLIENT);
	assert_int_equal(e.err, 0);
	assert_int_equal(wp_close(e.ep), 0);
	assert_int_equal(wp_close(e.l), 0);
}

/* --- backpressure, timeouts, resets ----------------------------------------
 */

static void *blocking_writer_main(void *arg)
{
	struct app *a = arg;
	ssize_t n;

	atomic_store(&a->started, true);
	n = wp_send(a->fd, a->buf, a->bytes, 0);
	a->ret = (int)n;
	a->err = n < 0 ? errno : 0;
	atomic_store(&a->done, true);
	return NULL;
}

static void test_backpressure_blocks_writer(void **state)
{
	struct ufx *fx = *state;
	struct app w = { .fx = fx, .bytes = 4u << 20 };
	uint64_t limit = real_ns() + REAL_LIMIT_NS;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	uint8_t buf[16384];
	size_t got = 0;
	int l = listener(fx, 4), s, inq, outq, n;
	pthread_t t;

	w.fd = connect_nb(fx);
	s = wp_accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(wp_fcntl(w.fd, F_SETFL, 0), 0); /* blocking */
	w.buf = calloc(1, w.bytes);
	assert_non_null(w.buf);
	assert_int_equal(pthread_create(&t, NULL, blocking_writer_main, &w), 0);
	/* Nobody reads on B: its buffer fills, the window it advertises
	 * closes, A's send buffer fills, and the writer sleeps. */
	do {
		assert_true(real_ns() < limit);
		ufx_run(fx, 10 * UFX_MS);
		nap();
		assert_int_equal(wp_ioctl(s, FIONREAD, &inq), 0);
		assert_int_equal(wp_ioctl(w.fd, SIOCOUTQ, &outq), 0);
		assert_int_equal(
			wp_getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	} while (!inq || !outq || ti.tcpi_rcv_space != 0);
	/* It stays so: zero-window probes are answered, nothing moves. */
	ufx_run(fx, 2 * WP_NSEC_PER_SEC);
	if (atomic_load(&w.done))
		fail_msg("writer returned %d errno %d with nobody reading",
			 w.ret, w.err);
	assert_int_equal(wp_ioctl(s, FIONREAD, &n), 0);
	assert_int_equal(n, inq);
	/* Reading on B reopens the window and releases the writer. */
	while (!atomic_load(&w.done) || got < w.bytes) {
		ssize_t r;

		assert_true(real_ns() < limit);
		assert_int_equal(wp_fcntl(s, F_SETFL, O_NONBLOCK), 0);
		while ((r = wp_recv(s, buf, sizeof(buf), 0)) > 0)
			got += (size_t)r;
		ufx_run(fx, 1 * UFX_MS);
		nap();
	}
	pthread_join(t, NULL);
	assert_int_equal(w.ret, (int)w.bytes);
	assert_int_equal(got, w.bytes);
	free(w.buf);
	assert_int_equal(wp_close(w.fd), 0);
	assert_int_equal(wp_close(s), 0);
	assert_int_equal(wp_close(l), 0);
}

static void *timed_recv_main(void *arg)
{
	struct app *a = arg;
	char buf[16];
	ssize_t n;

	atomic_store(&a->started, true);
	n = wp_recv(a->fd, buf, sizeof(buf), 0);
	a->ret = (int)n;
	a->err = n < 0 ? errno : 0;
	atomic_store(&a->done, true);
	return NULL;
}

static void test_rcvtimeo_and_reset(void **state)
{
	struct ufx *fx = *state;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	struct app r = { .fx = fx };
	uint64_t t0;
	int l = listener(fx, 4), c, s;
	char buf[16];
	pthread_t t;

	c = connect_nb(fx);
	s = wp_accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(wp_fcntl(c, F_SETFL, 0), 0);
	assert_int_equal(
		wp_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	r.fd = c;
	t0 = ufx_now(fx);
	assert_int_equal(pthread_create(&t, NULL, timed_recv_main, &r), 0);
	run_until_flag(fx, &r.done);
	pthread_join(t, NULL);
	assert_int_equal(r.ret, -1);
	assert_int_equal(r.err, EAGAIN);
	assert_true(ufx_now(fx) - t0 >= 300 * UFX_MS);

	/* B closes with unread data: RST (RFC 2525 2.17); A's next read
	 * reports ECONNRESET once, then the end of the stream. */
	assert_int_equal(wp_send(c, "unread", 6, 0), 6);
	ufx_run(fx, 2 * UFX_MS);
	assert_int_equal(wp_close(s), 0);
	ufx_run(fx, 2 * UFX_MS);
	ufx_expect_errno(wp_recv(c, buf, sizeof(buf), MSG_DONTWAIT),
			 ECONNRESET);
	assert_int_equal(wp_recv(c, buf, sizeof(buf), MSG_DONTWAIT), 0);
	ufx_expect_errno(wp_send(c, "x", 1, 0), EPIPE);
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(wp_close(l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_calls_and_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonblocking_connect_accept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_connect_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_echo_threads,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoll_et_server, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backpressure_blocks_writer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcvtimeo_and_reset, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
