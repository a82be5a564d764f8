// SPDX-License-Identifier: MIT
/*
 * The TCP benchmarks tcp and cps: two wirepath stacks on the pair backend, all
 * on one thread (virtual time, the wire with no delay and no rate: what is
 * measured is the stacks, both of them, and the socket calls), each
 * against peers measured in the same run:
 *
 *   tcp       bulk transfer: one connection, MSG-byte non-blocking sends
 *             until the send buffer is full, then the wire runs, then
 *             non-blocking receives until the receive queue is empty;
 *             again for --seconds. Both sides' SO_SNDBUF and SO_RCVBUF
 *             set to BUF. One thread does the work of both ends, so a
 *             "per core" rate here carries sender and receiver on the
 *             same core. Reported per MTU (default 1500 and 9000; the
 *             arguments after `--` name others): Gbit/s of payload per
 *             CPU-second and of wall time, cycles per byte (the thread's
 *             CPU time at the TSC rate: a VM may have no PMU), ns per
 *             segment. Peers: memcpy of the same MSG-sized chunks into a
 *             BUF-sized ring (the bandwidth one copy gets on this
 *             machine, in this run) and the kernel's TCP over loopback,
 *             one thread, MTU 65536 with 64 KiB GSO segments.
 *   cps       connections per second: connect, accept, a REQ-byte
 *             request, a REQ-byte response, the client closes, the server
 *             closes (netperf's TCP_CRR), one after another. wirepath's
 *             virtual clock moves CRR_STEP_NS per turn of the wire and
 *             TIME_WAIT is 2 x net.ipv4.tcp_msl_ms = 200 ms here, so the
 *             TIME_WAIT sockets stay in the thousands; the kernel reuses
 *             loopback TIME_WAIT ports (net.ipv4.tcp_tw_reuse = 2).
 *
 * conn-mem (bench_conn_mem.c) shares the pair (bench_tcp_pair.c).
 *
 * For the kernel, `ratio` fields are wirepath's rate over the kernel's
 * (above 1, wirepath is faster), by CPU time: the figure other processes
 * on a shared machine disturb least. Each measurement is REPS runs; the
 * median is reported.
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
#include "bench_tcp_pair.h"
#include "nic/nic.h"

#define MSG 65536	  /* bytes per send and per receive call */
#define BUF (4 << 20)	  /* SO_SNDBUF / SO_RCVBUF asked for */
#define REQ 64		  /* crr request and response */
#define CRR_STEP_NS 20000 /* virtual time per turn of the wire (crr) */
#define REPS 3
#define MAX_MTUS 8

/* --- tcp: bulk transfer ------------------------------------------------------
 */

struct bulk {
	double gbps;	    /* payload over wall time */
	double ns_per_byte; /* CPU time per payload byte */
	uint64_t bytes;
	int mss;
};

static void bulk_result(struct bulk *r, uint64_t got, uint64_t wall,
			uint64_t cpu)
{
	r->bytes = got;
	r->gbps = (double)got * 8 / (double)(wall ? wall : 1);
	r->ns_per_byte = (double)cpu / (double)(got ? got : 1);
}

/* The loop both TCP sides share: fill, move, drain for `seconds`. */
struct bulk_ops {
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	void (*run)(
		struct wp_bench_pair *w); /* the wire; NULL: the kernel's own */
};

static void wire_turn(struct wp_bench_pair *w)
{
	wp_bench_pair_run(w, 1000);
}

static const struct bulk_ops wp_ops = { wp_send, wp_recv, wire_turn };
static const struct bulk_ops k_ops = { send, recv, NULL };

static void bulk_loop(const struct bulk_ops *ops, struct wp_bench_pair *w,
		      int c, int s, double seconds, struct bulk *r)
{
	static uint8_t out[MSG], in[MSG];
	uint64_t t0, t1, c0, got = 0;

	memset(out, 'b', sizeof(out));
	c0 = wp_bench_thread_cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		ssize_t n;

		while (ops->send(c, out, MSG, MSG_DONTWAIT) > 0)
			;
		if (ops->run)
			ops->run(w);
		while ((n = ops->recv(s, in, MSG, MSG_DONTWAIT)) > 0)
			got += (uint64_t)n;
	}
	t1 = wp_time_real_ns();
	bulk_result(r, got, t1 - t0, wp_bench_thread_cpu_ns() - c0);
}

static int wp_bulk(uint32_t mtu, double seconds, struct bulk *r)
{
	struct wp_bench_pair w;
	socklen_t len = sizeof(r->mss);
	int l, c, s = -1, ret = -1;

	if (wp_bench_pair_open(&w, mtu, 64))
		return -1;
	l = wp_bench_pair_listen(&w, WP_BENCH_TCP_PORT, BUF);
	c = wp_bench_pair_connect(&w, WP_BENCH_TCP_PORT, BUF);
	if (l < 0 || c < 0)
		goto out;
	for (int i = 0; i < 100 && s < 0; i++) {
		wp_bench_pair_run(&w, 10000);
		s = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
	}
	if (s < 0)
		goto out;
	bulk_loop(&wp_ops, &w, c, s, seconds, r);
	wp_getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &r->mss, &len);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench tcp: wirepath bulk: %s\n",
			strerror(errno));
	wp_bench_pair_close(&w);
	return ret;
}

/* --- the kernel's TCP over loopback, one thread -----------------------------
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
	socklen_t len = sizeof(r->mss);
	int c, s;

	if (k_pair(&c, &s, BUF, true)) {
		fprintf(stderr, "bench tcp: kernel sockets: %s\n",
			strerror(errno));
		return -1;
	}
	bulk_loop(&k_ops, NULL, c, s, seconds, r);
	getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &r->mss, &len);
	close(c);
	close(s);
	return 0;
}

/* One copy's bandwidth: MSG-byte chunks into a BUF-sized ring, the shape
 * of the copy into a send buffer. */
static int memcpy_bulk(double seconds, struct bulk *r)
{
	static uint8_t src[MSG];
	uint8_t *dst = malloc(BUF);
	uint64_t t0, t1, c0, got = 0;
	size_t off = 0;

	if (!dst)
		return -1;
	memset(src, 'm', sizeof(src));
	memset(dst, 0, BUF);
	c0 = wp_bench_thread_cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		for (int i = 0; i < 16; i++) {
			memcpy(dst + off, src, MSG);
			wp_bench_keep(dst + off);
			off = (off + MSG) % BUF;
		}
		got += 16 * MSG;
	}
	t1 = wp_time_real_ns();
	bulk_result(r, got, t1 - t0, wp_bench_thread_cpu_ns() - c0);
	r->mss = 0;
	free(dst);
	return 0;
}

/* By CPU time: the figure a loaded machine disturbs least. */
static int cmp_bulk(const void *x, const void *y)
{
	const struct bulk *a = x, *b = y;

	return (a->ns_per_byte > b->ns_per_byte) -
	       (a->ns_per_byte < b->ns_per_byte);
}

typedef int (*bulk_fn)(uint32_t mtu, double seconds, struct bulk *r);

static int k_bulk_any(uint32_t mtu, double seconds, struct bulk *r)
{
	(void)mtu;
	return k_bulk(seconds, r);
}

static int memcpy_bulk_any(uint32_t mtu, double seconds, struct bulk *r)
{
	(void)mtu;
	return memcpy_bulk(seconds, r);
}

/* REPS runs of fn; the median by CPU time per byte. */
static int bulk_median(bulk_fn fn, uint32_t mtu, double seconds,
		       struct bulk *med)
{
	struct bulk rs[REPS];

	for (int i = 0; i < REPS; i++)
		if (fn(mtu, seconds, &rs[i]))
			return -1;
	qsort(rs, REPS, sizeof(rs[0]), cmp_bulk);
	*med = rs[REPS / 2];
	return 0;
}

static double gbit_per_cpu_s(const struct bulk *r)
{
	return 8 / r->ns_per_byte;
}

static void report_bulk(const struct wp_bench_opts *opts, const char *side,
			uint32_t mtu, const struct bulk *r,
			const struct bulk *mc, const struct bulk *k)
{
	double cyc_per_ns = wp_bench_cycles_per_sec() / 1e9;
	struct wp_bench_field f[16] = {
		{ .key = "side", .str = side },
		{ .key = "msg", .value = MSG, .unit = "B" },
		{ .key = "mtu", .value = mtu, .unit = "B" },
		{ .key = "mss", .value = r->mss, .unit = "B" },
		{ .key = "gbit_per_cpu_s",
		  .value = gbit_per_cpu_s(r),
		  .unit = "Gbit/s" },
		{ .key = "gbit_per_s", .value = r->gbps, .unit = "Gbit/s" },
		{ .key = "cycles_per_byte",
		  .value = r->ns_per_byte * cyc_per_ns },
		{ .key = "ns_per_byte", .value = r->ns_per_byte, .unit = "ns" },
		{ .key = "ns_per_segment",
		  .value = r->ns_per_byte * r->mss,
		  .unit = "ns" },
		{ .key = "bytes", .value = (double)r->bytes },
	};
	int n = 10;

	if (!mtu) /* memcpy: no MTU, no segments */
		f[2] = f[3] = f[8] = (struct wp_bench_field){ .key = NULL };
	if (mc) {
		f[n++] = (struct wp_bench_field){ .key = "x_memcpy",
						  .value = gbit_per_cpu_s(r) /
							   gbit_per_cpu_s(mc),
						  .unit = "x" };
	}
	if (k) {
		f[n++] = (struct wp_bench_field){ .key = "ratio",
						  .value = gbit_per_cpu_s(r) /
							   gbit_per_cpu_s(k),
						  .unit = "x" };
	}
	f[n] = (struct wp_bench_field){ .key = NULL };
	/* Squeeze out the fields memcpy has no use for. */
	for (int i = 0, j = 0; i <= n; i++)
		if (f[i].key || i == n)
			f[j++] = f[i];
	wp_bench_report(opts, "tcp", f);
}

static int parse_mtus(const struct wp_bench_opts *opts, uint32_t *mtus)
{
	int n = 0;

	for (int i = 0; i < opts->argc; i++) {
		char *end;
		unsigned long v = strtoul(opts->argv[i], &end, 10);

		if (*end || v < 576 || v > WP_MTU_MAX || n == MAX_MTUS) {
			fprintf(stderr,
				"bench tcp: '%s': an MTU from 576 to %u "
				"expected (at most %d of them)\n",
				opts->argv[i], WP_MTU_MAX, MAX_MTUS);
			return -1;
		}
		mtus[n++] = (uint32_t)v;
	}
	if (!n) {
		mtus[n++] = 1500;
		mtus[n++] = 9000;
	}
	return n;
}

static int bench_tcp(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;
	uint32_t mtus[MAX_MTUS];
	struct bulk w[MAX_MTUS], mc, k;
	int n = parse_mtus(opts, mtus);

	if (n < 0)
		return 1;
	/* The peers first, so each wirepath figure can name its ratios. */
	if (bulk_median(memcpy_bulk_any, 0, seconds, &mc) ||
	    bulk_median(k_bulk_any, 0, seconds, &k))
		return 1;
	for (int i = 0; i < n; i++)
		if (bulk_median(wp_bulk, mtus[i], seconds, &w[i]))
			return 1;
	for (int i = 0; i < n; i++)
		report_bulk(opts, "wirepath", mtus[i], &w[i], &mc, &k);
	report_bulk(opts, "memcpy", 0, &mc, NULL, NULL);
	report_bulk(opts, "linux-loopback", 65536, &k, &mc, NULL);
	return 0;
}

WP_BENCH_REGISTER(bench_tcp, "tcp",
		  "TCP bulk between two stacks on one thread: Gbit/s, "
		  "cycles/byte; vs memcpy and Linux loopback")

/* --- cps: connections per second -------------------------------------------
 */

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
	struct wp_bench_pair w;
	uint64_t t0, t1, c0, n = 0;
	int l, ret = -1;

	if (wp_bench_pair_open(&w, WP_MTU_DEFAULT, 16384))
		return -1;
	l = wp_bench_pair_listen(&w, WP_BENCH_TCP_PORT, 0);
	if (l < 0)
		goto out;
	memset(buf, 'r', sizeof(buf));
	c0 = wp_bench_thread_cpu_ns();
	t0 = wp_time_real_ns();
	t1 = t0 + (uint64_t)(seconds * 1e9);
	while (wp_time_real_ns() < t1) {
		int c = wp_bench_pair_connect(&w, WP_BENCH_TCP_PORT, 0), s;

		wp_bench_pair_run(&w, CRR_STEP_NS); /* SYN, SYN-ACK, ACK */
		s = wp_accept4(l, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0 || s < 0 || wp_send(c, buf, REQ, 0) != REQ)
			goto out;
		wp_bench_pair_run(&w, CRR_STEP_NS);
		if (wp_recv(s, buf, REQ, 0) != REQ ||
		    wp_send(s, buf, REQ, 0) != REQ)
			goto out;
		wp_bench_pair_run(&w, CRR_STEP_NS);
		if (wp_recv(c, buf, REQ, 0) != REQ)
			goto out;
		wp_close(c);
		wp_bench_pair_run(&w, CRR_STEP_NS); /* FIN, its ACK */
		wp_close(s);
		n++;
	}
	t1 = wp_time_real_ns();
	crr_result(r, n, t1 - t0, wp_bench_thread_cpu_ns() - c0);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench cps: wirepath crr: %s\n",
			strerror(errno));
	wp_bench_pair_close(&w);
	return ret;
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
	c0 = wp_bench_thread_cpu_ns();
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
	crr_result(r, n, t1 - t0, wp_bench_thread_cpu_ns() - c0);
	close(l);
	return 0;
fail:
	fprintf(stderr, "bench cps: kernel crr: %s\n", strerror(errno));
	if (l >= 0)
		close(l);
	return -1;
}

static int cmp_crr(const void *x, const void *y)
{
	const struct crr *a = x, *b = y;

	return (a->us_per_conn > b->us_per_conn) -
	       (a->us_per_conn < b->us_per_conn);
}

static void report_crr(const struct wp_bench_opts *opts, const char *side,
		       const struct crr *r, double ratio)
{
	struct wp_bench_field f[] = {
		{ .key = "side", .str = side },
		{ .key = "req", .value = REQ, .unit = "B" },
		{ .key = "conn_per_cpu_s",
		  .value = 1e6 / r->us_per_conn,
		  .unit = "/s" },
		{ .key = "conn_per_s", .value = r->cps, .unit = "/s" },
		{ .key = "us_per_conn", .value = r->us_per_conn, .unit = "us" },
		{ .key = "conns", .value = (double)r->conns },
		{ .key = "ratio", .value = ratio, .unit = "x" },
		{ 0 },
	};

	if (ratio <= 0) /* the peer itself */
		f[6].key = NULL;
	wp_bench_report(opts, "cps", f);
}

static int bench_cps(const struct wp_bench_opts *opts)
{
	double seconds = opts->seconds > 0 ? opts->seconds : 1.0;
	struct crr w[REPS], k[REPS];

	for (int i = 0; i < REPS; i++)
		if (wp_crr(seconds, &w[i]) || k_crr(seconds, &k[i]))
			return 1;
	qsort(w, REPS, sizeof(w[0]), cmp_crr);
	qsort(k, REPS, sizeof(k[0]), cmp_crr);
	/* CPU time per connection, the kernel's over wirepath's: wirepath's
	 * rate over the kernel's. */
	report_crr(opts, "wirepath", &w[REPS / 2],
		   k[REPS / 2].us_per_conn / w[REPS / 2].us_per_conn);
	report_crr(opts, "linux-loopback", &k[REPS / 2], 0);
	return 0;
}

WP_BENCH_REGISTER(bench_cps, "cps",
		  "TCP connect/request/response/close per second, two stacks "
		  "on one thread; vs Linux loopback")
