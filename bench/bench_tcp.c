// SPDX-License-Identifier: MIT
/*
 * bench tcp: TCP between two wirepath stacks on the pair backend, all on
 * one thread (virtual time, the wire with no delay and no rate: what is
 * measured is the stacks, both of them, and the socket calls), against
 * the kernel's TCP over loopback on one thread, in the same run:
 *
 *   bulk   one connection, MSG-byte non-blocking sends until the send
 *          buffer is full, then the wire runs, then non-blocking
 *          receives until the receive queue is empty; again for
 *          --seconds. Both sides' SO_SNDBUF and SO_RCVBUF set to BUF
 *          (each system clamps to its own net.core.[rw]mem_max and
 *          doubles, the same defaults). Reported: Gbit/s of payload,
 *          ns per segment (elapsed over payload / MSS: wirepath's MSS
 *          is 1448 on its 1500-byte MTU, the kernel's on loopback
 *          65483, with GSO), and ns per byte.
 *   crr    connections per second: connect, accept, a REQ-byte request,
 *          a REQ-byte response, the client closes, the server closes
 *          (netperf's TCP_CRR), one after another. wirepath's virtual
 *          clock moves CRR_STEP_NS per turn of the wire and TIME_WAIT
 *          is 2 x net.ipv4.tcp_msl_ms = 200 ms here, so the TIME_WAIT
 *          sockets stay in the thousands; the kernel reuses loopback
 *          TIME_WAIT ports (net.ipv4.tcp_tw_reuse = 2).
 *   idle   memory per established idle connection: glibc's heap in use
 *          (mallinfo2) before and after IDLE_CONNS connections are
 *          established between the two stacks, divided by the sockets
 *          made (each connection is two: one on each stack). The
 *          descriptor, the socket-call state, the TCP sock and, once
 *          established, its send ring (SO_SNDBUF at its default,
 *          net.ipv4.tcp_wmem[1]) all count; the receive side holds no
 *          memory while nothing is queued.
 *
 * `ratio` is the kernel's time over wirepath's (above 1, wirepath is
 * faster); for crr, wirepath's rate over the kernel's. Each
 * measurement is REPS runs; the median is reported.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "bench.h"
#include "core/sysctl.h"
#include "sock/fd.h"
#include "stack/stack.h"
#include "wirepath/pair.h"

#define MSG 65536	  /* bytes per send and per receive call */
#define BUF (4 << 20)	  /* SO_SNDBUF / SO_RCVBUF asked for */
#define REQ 64		  /* crr request and response */
#define CRR_STEP_NS 20000 /* virtual time per turn of the wire (crr) */
#define IDLE_CONNS 1000	  /* connections for the memory figure */
#define PORT 5001
#define REPS 3
#define IP_A ((10u << 24) | 1)
#define IP_B ((10u << 24) | 2)

/* This thread's CPU time: on a shared machine the figure that does not
 * count the time other processes took the CPU. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* --- two wirepath stacks on one wire ---------------------------------------
 */

struct wpair {
	struct wp_stack_pair *p;
	struct wp_stack *a, *b;
	struct wp_fdtable *fdt, *old;
};

static void config(struct wp_stack_config *c, uint8_t me, uint32_t addr,
		   uint8_t peer_mac, uint32_t peer)
{
	wp_stack_config_default(c);
	c->mac[0] = 0x02;
	c->mac[5] = me;
	c->addr = addr;
	c->rx_usecs = 0; /* every frame at once: nothing waits on a timer */
	c->nstatic_arp = 1;
	c->static_arp[0].ip = peer;
	c->static_arp[0].mac[0] = 0x02;
	c->static_arp[0].mac[5] = peer_mac;
}

static int pair_open(struct wpair *w)
{
	struct wp_stack_config ca, cb;
	char err[256];

	config(&ca, 0x0a, IP_A, 0x0b, IP_B);
	config(&cb, 0x0b, IP_B, 0x0a, IP_A);
	w->p = wp_stack_pair_create(&ca, &cb, NULL, err, sizeof(err));
	if (!w->p) {
		fprintf(stderr, "bench tcp: %s\n", err);
		return -1;
	}
	w->a = wp_stack_pair_a(w->p);
	w->b = wp_stack_pair_b(w->p);
	/* Descriptors of our own, their timeouts on the pair's clock. */
	w->fdt = wp_fdtable_create(4 * IDLE_CONNS, &w->a->clock);
	if (!w->fdt) {
		wp_stack_pair_destroy(w->p);
		return -1;
	}
	w->old = wp_fdtable_set_current(w->fdt);
	wp_sysctl_set(&w->a->sysctl, "net.ipv4.tcp_msl_ms", "100");
	wp_sysctl_set(&w->b->sysctl, "net.ipv4.tcp_msl_ms", "100");
	return 0;
}

static void pair_run(struct wpair *w, uint64_t dt)
{
	wp_stack_pair_run_until(w->p, wp_stack_pair_now(w->p) + dt);
}

static void pair_close(struct wpair *w)
{
	wp_fdtable_set_current(w->old);
	wp_fdtable_destroy(w->fdt);	  /* closes what is left: FINs */
	pair_run(w, 2 * WP_NSEC_PER_SEC); /* past TIME_WAIT */
	wp_stack_pair_destroy(w->p);
	wp_socket_cleanup();
}

static int wp_listener(struct wpair *w, int buf)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(PORT) };
	int fd = wp_socket_net(w->b, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (buf &&
	    (wp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) ||
	     wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf))))
		return -1;
	if (wp_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    wp_listen(fd, 4096))
		return -1;
	return fd;
}

/* A non-blocking connect from A; the wire is run by the caller. */
static int wp_connect_start(struct wpair *w, int buf)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr.s_addr = htonl(IP_B) };
	int fd = wp_socket_net(w->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (buf &&
	    (wp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)) ||
	     wp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf))))
		return -1;
	if (wp_connect(fd, (struct sockaddr *)&to, sizeof(to)) &&
	    errno != EINPROGRESS)
		return -1;
	return fd;
}

struct bulk {
	double gbps;	    /* payload over wall time */
	double ns_per_byte; /* CPU time per payload byte */
	double ns_per_seg;  /* CPU time per MSS of payload */
	uint64_t bytes;
	int mss;
};

static void bulk_result(struct bulk *r, uint64_t got, uint64_t wall,
			uint64_t cpu)
{
	r->bytes = got;
	r->gbps = (double)got * 8 / (double)(wall ? wall : 1);
	r->ns_per_byte = (double)cpu / (double)(got ? got : 1);
	r->ns_per_seg = r->ns_per_byte * r->mss;
}

static int wp_bulk(double seconds, struct bulk *r)
{
	static uint8_t out[MSG], in[MSG];
	struct wpair w;
	uint64_t t0, t1, c0, c1, got = 0;
	socklen_t len = sizeof(r->mss);
	int l, c, s = -1, ret = -1;

	if (pair_open(&w))
		return -1;
	l = wp_listener(&w, BUF);
	c = wp_connect_start(&w, BUF);
	if (l < 0 || c < 0)
		goto out;
	for (int i = 0; i < 100 && s < 0; i++) {
		pair_run(&w, 10000);
		s = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	}
	if (s < 0)
		goto out;
	memset(out, 'w', sizeof(out));
	c0 = cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		ssize_t n;

		while (wp_send(c, out, MSG, MSG_DONTWAIT) > 0)
			;
		pair_run(&w, 1000);
		while ((n = wp_recv(s, in, MSG, MSG_DONTWAIT)) > 0)
			got += (uint64_t)n;
	}
	t1 = wp_time_real_ns();
	c1 = cpu_ns();
	wp_getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &r->mss, &len);
	bulk_result(r, got, t1 - t0, c1 - c0);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench tcp: wirepath bulk: %s\n",
			strerror(errno));
	pair_close(&w);
	return ret;
}

struct crr {
	double cps;	    /* connections per second of wall time */
	double us_per_conn; /* CPU time per connection */
	uint64_t conns;
};

static void crr_result(struct crr *r, uint64_t n, uint64_t wall, uint64_t cpu)
{
	r->conns = n;
	r->cps = (double)n / ((double)(wall ? wall : 1) / 1e9);
	r->us_per_conn = (double)cpu / 1e3 / (double)(n ? n : 1);
}

static int wp_crr(double seconds, struct crr *r)
{
	static uint8_t buf[REQ];
	struct wpair w;
	uint64_t t0, t1, c0, n = 0;
	int l, ret = -1;

	if (pair_open(&w))
		return -1;
	l = wp_listener(&w, 0);
	if (l < 0)
		goto out;
	memset(buf, 'r', sizeof(buf));
	c0 = cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		int c = wp_connect_start(&w, 0), s;

		pair_run(&w, CRR_STEP_NS); /* SYN, SYN-ACK, ACK */
		s = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0 || s < 0 || wp_send(c, buf, REQ, 0) != REQ)
			goto out;
		pair_run(&w, CRR_STEP_NS);
		if (wp_recv(s, buf, REQ, 0) != REQ ||
		    wp_send(s, buf, REQ, 0) != REQ)
			goto out;
		pair_run(&w, CRR_STEP_NS);
		if (wp_recv(c, buf, REQ, 0) != REQ)
			goto out;
		wp_close(c);
		pair_run(&w, CRR_STEP_NS); /* FIN, its ACK */
		wp_close(s);
		n++;
	}
	t1 = wp_time_real_ns();
	crr_result(r, n, t1 - t0, cpu_ns() - c0);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench tcp: wirepath crr: %s\n",
			strerror(errno));
	pair_close(&w);
	return ret;
}

static int wp_idle(double *per_conn, double *per_sock)
{
	static int c[IDLE_CONNS], s[IDLE_CONNS];
	struct wpair w;
	size_t m0, m1;
	int l, accepted = 0, ret = -1;

	if (pair_open(&w))
		return -1;
	l = wp_listener(&w, 0);
	if (l < 0)
		goto out;
	/* One connection first: pools and tables made on first use are
	 * not a connection's cost. */
	c[0] = wp_connect_start(&w, 0);
	pair_run(&w, 10000);
	s[0] = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	if (c[0] < 0 || s[0] < 0)
		goto out;
	m0 = mallinfo2().uordblks;
	for (int i = 1; i < IDLE_CONNS; i++) {
		c[i] = wp_connect_start(&w, 0);
		if (c[i] < 0)
			goto out;
		if (i % 64 == 0)
			pair_run(&w, 10000);
	}
	pair_run(&w, 10000);
	for (accepted = 1; accepted < IDLE_CONNS; accepted++) {
		s[accepted] = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (s[accepted] < 0)
			goto out;
	}
	pair_run(&w, 100 * WP_NSEC_PER_MSEC); /* delayed ACKs, all quiet */
	m1 = mallinfo2().uordblks;
	*per_conn = ((double)m1 - (double)m0) / (IDLE_CONNS - 1);
	*per_sock = *per_conn / 2;
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench tcp: wirepath idle: %s (%d accepted)\n",
			strerror(errno), accepted);
	pair_close(&w);
	return ret;
}

/* --- the peer: the kernel's TCP over loopback, one thread ------------------
 */

static int k_pair(int *c, int *s, int buf, bool nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || *c < 0)
		return -1;
	if (buf) {
		setsockopt(l, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		setsockopt(l, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		setsockopt(*c, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		setsockopt(*c, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	}
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept(l, NULL, NULL);
	close(l);
	if (*s < 0)
		return -1;
	if (nonblock) {
		fcntl(*c, F_SETFL, O_NONBLOCK);
		fcntl(*s, F_SETFL, O_NONBLOCK);
	}
	return 0;
}

static int k_bulk(double seconds, struct bulk *r)
{
	static uint8_t out[MSG], in[MSG];
	uint64_t t0, t1, c0, c1, got = 0;
	socklen_t len = sizeof(r->mss);
	int c, s;

	if (k_pair(&c, &s, BUF, true)) {
		fprintf(stderr, "bench tcp: kernel sockets: %s\n",
			strerror(errno));
		return -1;
	}
	memset(out, 'k', sizeof(out));
	c0 = cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		ssize_t n;

		while (send(c, out, MSG, MSG_DONTWAIT) > 0)
			;
		while ((n = recv(s, in, MSG, MSG_DONTWAIT)) > 0)
			got += (uint64_t)n;
	}
	t1 = wp_time_real_ns();
	c1 = cpu_ns();
	getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &r->mss, &len);
	close(c);
	close(s);
	bulk_result(r, got, t1 - t0, c1 - c0);
	return 0;
}

static int k_crr(double seconds, struct crr *r)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 1, 0 }; /* nothing here should ever wait */
	socklen_t len = sizeof(a);
	uint8_t buf[REQ];
	uint64_t t0, t1, c0, n = 0;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(l, 4096) || getsockname(l, (struct sockaddr *)&a, &len))
		goto fail;
	memset(buf, 'r', sizeof(buf));
	c0 = cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s;

		if (c < 0)
			goto fail;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(c, (struct sockaddr *)&a, sizeof(a)))
			goto fail;
		s = accept(l, NULL, NULL);
		if (s < 0)
			goto fail;
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send(c, buf, REQ, 0) != REQ ||
		    recv(s, buf, REQ, 0) != REQ ||
		    send(s, buf, REQ, 0) != REQ || recv(c, buf, REQ, 0) != REQ)
			goto fail;
		close(c);
		close(s);
		n++;
	}
	t1 = wp_time_real_ns();
	crr_result(r, n, t1 - t0, cpu_ns() - c0);
	close(l);
	return 0;
fail:
	fprintf(stderr, "bench tcp: kernel crr: %s\n", strerror(errno));
	if (l >= 0)
		close(l);
	return -1;
}

/* --- the runs ---------------------------------------------------------------
 */

/* By CPU time: the figure a loaded machine disturbs least. */
static int cmp_bulk(const void *x, const void *y)
{
	const struct bulk *a = x, *b = y;

	return (a->ns_per_byte > b->ns_per_byte) -
	       (a->ns_per_byte < b->ns_per_byte);
}

static int cmp_crr(const void *x, const void *y)
{
	const struct crr *a = x, *b = y;

	return (a->us_per_conn > b->us_per_conn) -
	       (a->us_per_conn < b->us_per_conn);
}

static void report_bulk(const struct wp_bench_opts *opts, const char *side,
			const struct bulk *r, double ratio)
{
	const struct wp_bench_field f[] = {
		{ .key = "test", .str = "bulk" },
		{ .key = "side", .str = side },
		{ .key = "msg", .value = MSG, .unit = "B" },
		{ .key = "gbit_per_s", .value = r->gbps, .unit = "Gbit/s" },
		{ .key = "gbit_per_cpu_s",
		  .value = 8 / r->ns_per_byte,
		  .unit = "Gbit/s" },
		{ .key = "mss", .value = r->mss, .unit = "B" },
		{ .key = "ns_per_segment",
		  .value = r->ns_per_seg,
		  .unit = "ns" },
		{ .key = "ns_per_byte", .value = r->ns_per_byte, .unit = "ns" },
		{ .key = "bytes", .value = (double)r->bytes },
		{ .key = "ratio", .value = ratio, .unit = "x" },
		{ 0 },
	};
	wp_bench_report(opts, "tcp", f);
}

static int bench_bulk(const struct wp_bench_opts *opts, double seconds)
{
	struct bulk w[REPS], k[REPS];

	for (int i = 0; i < REPS; i++)
		if (wp_bulk(seconds, &w[i]) || k_bulk(seconds, &k[i]))
			return 1;
	qsort(w, REPS, sizeof(w[0]), cmp_bulk);
	qsort(k, REPS, sizeof(k[0]), cmp_bulk);
	/* CPU time per byte, the kernel's over wirepath's. */
	report_bulk(opts, "wirepath", &w[REPS / 2], 1.0);
	report_bulk(opts, "linux-loopback", &k[REPS / 2],
		    k[REPS / 2].ns_per_byte / w[REPS / 2].ns_per_byte);
	return 0;
}

static void report_crr(const struct wp_bench_opts *opts, const char *side,
		       const struct crr *r, double ratio)
{
	const struct wp_bench_field f[] = {
		{ .key = "test", .str = "crr" },
		{ .key = "side", .str = side },
		{ .key = "req", .value = REQ, .unit = "B" },
		{ .key = "conn_per_s", .value = r->cps, .unit = "/s" },
		{ .key = "conn_per_cpu_s",
		  .value = 1e6 / r->us_per_conn,
		  .unit = "/s" },
		{ .key = "us_per_conn", .value = r->us_per_conn, .unit = "us" },
		{ .key = "conns", .value = (double)r->conns },
		{ .key = "ratio", .value = ratio, .unit = "x" },
		{ 0 },
	};
	wp_bench_report(opts, "tcp", f);
}

static int bench_crr(const struct wp_bench_opts *opts, double seconds)
{
	struct crr w[REPS], k[REPS];

	for (int i = 0; i < REPS; i++)
		if (wp_crr(seconds, &w[i]) || k_crr(seconds, &k[i]))
			return 1;
	qsort(w, REPS, sizeof(w[0]), cmp_crr);
	qsort(k, REPS, sizeof(k[0]), cmp_crr);
	/* CPU time per connection, the kernel's over wirepath's. */
	report_crr(opts, "wirepath", &w[REPS / 2], 1.0);
	report_crr(opts, "linux-loopback", &k[REPS / 2],
		   k[REPS / 2].us_per_conn / w[REPS / 2].us_per_conn);
	return 0;
}

static int bench_idle(const struct wp_bench_opts *opts)
{
	double per_conn, per_sock;

	if (wp_idle(&per_conn, &per_sock))
		return 1;
	const struct wp_bench_field f[] = {
		{ .key = "test", .str = "idle" },
		{ .key = "side", .str = "wirepath" },
		{ .key = "conns", .value = IDLE_CONNS - 1 },
		{ .key = "bytes_per_conn", .value = per_conn, .unit = "B" },
		{ .key = "bytes_per_socket", .value = per_sock, .unit = "B" },
		{ 0 },
	};
	wp_bench_report(opts, "tcp", f);
	return 0;
}

static int bench_tcp(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;

	if (bench_bulk(opts, seconds) || bench_crr(opts, seconds) ||
	    bench_idle(opts))
		return 1;
	return 0;
}

WP_BENCH_REGISTER(bench_tcp, "tcp",
		  "TCP between two stacks on one thread: bulk Gbit/s, "
		  "connections/s, bytes per idle connection; vs Linux loopback")
