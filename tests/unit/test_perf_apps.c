// SPDX-License-Identifier: MIT
/*
 * The measuring applications on stack B of the pair (virtual time; the
 * main thread runs the machine and is their client on A):
 *   - sockperf: UDP messages with PONG_REQUEST come back with CLIENT
 *     cleared, warm-up and unrequested ones do not, malformed datagrams
 *     are counted; over TCP, messages split across writes are answered
 *     and a bad length closes the connection;
 *   - iperf3: a whole forward TCP test and a forward UDP test as iperf3's
 *     client runs them (cookie, parameters, streams, TEST_END, results,
 *     IPERF_DONE), the server's results saying the bytes sent; a second
 *     client is denied; bad cookies, unexpected state bytes and bad
 *     parameters end the test cleanly (SERVER_ERROR, then FIN) and are
 *     counted; the server serves the next test, also when its client
 *     comes before the last one's IPERF_DONE.
 * Teardown checks every pool is whole and every TCP socket gone.
 */
#include "test_udp_common.h"

#include <pthread.h>
#include <time.h>

#include "../../apps/app.h"
#include "../../apps/json.h"
#include "core/sysctl.h"
#include "tcp/tcp.h"

#define REAL_LIMIT_NS (60 * WP_NSEC_PER_SEC)

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* One step of the machine, and a moment for the application thread. */
static void step(struct ufx *fx)
{
	struct timespec ts = { 0, 20000 };

	ufx_run(fx, 200 * WP_NSEC_PER_USEC);
	nanosleep(&ts, NULL);
}

static int setup(void **state)
{
	struct ufx *fx = ufx_create(NULL);

	assert_int_equal(
		wp_sysctl_set(&fx->a->sysctl, "net.ipv4.tcp_msl_ms", "100"), 0);
	assert_int_equal(
		wp_sysctl_set(&fx->b->sysctl, "net.ipv4.tcp_msl_ms", "100"), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	ufx_destroy_tcp(*state);
	return 0;
}

static uint64_t counter(struct wp_app *app, const char *name)
{
	for (unsigned i = 0; i < app->type->ncounters; i++)
		if (strcmp(app->type->counter_names[i], name) == 0)
			return atomic_load(&app->counter[i]);
	fail_msg("no counter %s", name);
	return 0;
}

/* Step until the counter reaches want (bounded in real time). */
static void wait_counter(struct ufx *fx, struct wp_app *app, const char *name,
			 uint64_t want)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;

	while (counter(app, name) < want) {
		assert_true(real_ns() < limit);
		step(fx);
	}
	assert_int_equal(counter(app, name), want);
}

struct bounded_step {
	struct ufx *fx;
	uint64_t limit;
};

static void bounded_step(void *arg)
{
	struct bounded_step *b = arg;

	assert_true(real_ns() < b->limit);
	step(b->fx);
}

/* A TCP connection from A to B:port, run until established. */
static int cl_connect(struct ufx *fx, uint16_t port)
{
	struct bounded_step b = { fx, real_ns() + REAL_LIMIT_NS };

	return ufx_tcp_connect(fx, port, bounded_step, &b);
}

static void cl_send(struct ufx *fx, int fd, const void *buf, size_t len)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;
	size_t off = 0;

	while (off < len) {
		ssize_t r = wp_send(fd, (const uint8_t *)buf + off, len - off,
				    MSG_DONTWAIT);

		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		assert_true(r < 0 && errno == EAGAIN);
		assert_true(real_ns() < limit);
		step(fx);
	}
}

/* Up to len bytes, waiting for them; fewer only at the stream's end. */
static size_t cl_recv(struct ufx *fx, int fd, void *buf, size_t len)
{
	uint64_t limit = real_ns() + REAL_LIMIT_NS;
	size_t off = 0;

	while (off < len) {
		ssize_t r = wp_recv(fd, (uint8_t *)buf + off, len - off,
				    MSG_DONTWAIT);

		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		if (r == 0 || errno != EAGAIN)
			break;
		assert_true(real_ns() < limit);
		step(fx);
	}
	return off;
}

/* --- sockperf ------------------------------------------------------------- */

/* A header saying len (whatever the buffer holds). */
static void sp_hdr(uint8_t *m, uint64_t seq, uint16_t flags, uint32_t len)
{
	uint64_t s = htobe64(seq);
	uint16_t f = htons(flags);
	uint32_t l = htonl(len);

	memcpy(m, &s, 8);
	memcpy(m + 8, &f, 2);
	memcpy(m + 10, &l, 4);
}

/* A whole message of len bytes. */
static size_t sp_msg(uint8_t *m, uint64_t seq, uint16_t flags, uint32_t len)
{
	sp_hdr(m, seq, flags, len);
	for (uint32_t i = 14; i < len; i++)
		m[i] = (uint8_t)(seq + i);
	return len;
}

static void test_sockperf_udp(void **state)
{
	struct ufx *fx = *state;
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("sockperf"), fx->b, 11111,
					  err, sizeof(err));
	int fa = ufx_udp(fx->a, INADDR_ANY, 0);
	uint8_t m[1500], in[1500];
	uint64_t limit;
	unsigned got = 0;

	assert_non_null(app);
	/* 20 pings, 5 warm-ups, 5 under-load messages without a pong
	 * request, 3 server messages, 4 malformed datagrams. */
	for (uint64_t i = 0; i < 20; i++)
		ufx_sendto(fa, m, sp_msg(m, i, 3, (uint32_t)(14 + i * 70)),
			   UFX_IP_B, 11111);
	for (uint64_t i = 0; i < 5; i++)
		ufx_sendto(fa, m, sp_msg(m, 100 + i, 7, 64), UFX_IP_B, 11111);
	for (uint64_t i = 0; i < 5; i++)
		ufx_sendto(fa, m, sp_msg(m, 200 + i, 1, 64), UFX_IP_B, 11111);
	for (uint64_t i = 0; i < 3; i++)
		ufx_sendto(fa, m, sp_msg(m, 300 + i, 2, 64), UFX_IP_B, 11111);
	ufx_sendto(fa, m, 13, UFX_IP_B, 11111); /* short */
	sp_hdr(m, 400, 3, 100);
	ufx_sendto(fa, m, 64, UFX_IP_B, 11111); /* length > datagram */
	sp_hdr(m, 401, 3, 10);
	ufx_sendto(fa, m, 64, UFX_IP_B, 11111); /* length < header */
	sp_hdr(m, 402, 3, 70000);
	ufx_sendto(fa, m, 64, UFX_IP_B, 11111); /* length > max */
	limit = real_ns() + REAL_LIMIT_NS;
	while (got < 20) {
		ssize_t n = wp_recv(fa, in, sizeof(in), MSG_DONTWAIT);
		uint16_t f;
		uint64_t seq;

		if (n < 0) {
			assert_true(real_ns() < limit);
			step(fx);
			continue;
		}
		/* In order, the same bytes but for the CLIENT flag. */
		sp_msg(m, got, 3, (uint32_t)(14 + got * 70));
		assert_int_equal(n, 14 + got * 70);
		memcpy(&seq, in, 8);
		memcpy(&f, in + 8, 2);
		assert_int_equal(be64toh(seq), got);
		assert_int_equal(ntohs(f), 2);
		assert_memory_equal(in + 10, m + 10, (size_t)n - 10);
		got++;
	}
	wait_counter(fx, app, "bad_message", 4);
	wait_counter(fx, app, "messages", 25);
	assert_int_equal(counter(app, "warmup"), 5);
	assert_int_equal(counter(app, "not_client"), 3);
	for (int i = 0; i < 20; i++)
		step(fx);
	/* Nothing else came back. */
	assert_true(wp_recv(fa, in, sizeof(in), MSG_DONTWAIT) < 0);
	assert_int_equal(atomic_load(&app->replies), 20);
	assert_int_equal(atomic_load(&app->errors), 0);
	wp_app_stop(app);
	assert_int_equal(wp_close(fa), 0);
}

static void test_sockperf_tcp(void **state)
{
	struct ufx *fx = *state;
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("sockperf"), fx->b, 11111,
					  err, sizeof(err));
	uint8_t out[3000], in[3000];
	size_t len = 0, l;
	int fd;

	assert_non_null(app);
	fd = cl_connect(fx, 11111);
	/* Three pings (one of them not asking for an answer), written in
	 * pieces that cut through headers and payloads. */
	len += sp_msg(out + len, 1, 3, 100);
	len += sp_msg(out + len, 2, 1, 500);
	len += sp_msg(out + len, 3, 3, 1000);
	cl_send(fx, fd, out, 7);
	step(fx);
	cl_send(fx, fd, out + 7, 150);
	step(fx);
	cl_send(fx, fd, out + 157, len - 157);
	l = cl_recv(fx, fd, in, 1100);
	assert_int_equal(l, 1100);
	out[9] = 2;
	out[600 + 9] = 2;
	assert_memory_equal(in, out, 100);
	assert_memory_equal(in + 100, out + 600, 1000);
	wait_counter(fx, app, "messages", 3);
	/* A length no message has: closed, counted. */
	sp_hdr(out, 4, 3, 5);
	cl_send(fx, fd, out, 14);
	assert_int_equal(cl_recv(fx, fd, in, 1), 0);
	assert_int_equal(counter(app, "bad_message"), 1);
	assert_int_equal(counter(app, "tcp_conns"), 1);
	assert_int_equal(wp_close(fd), 0);
	wp_app_stop(app);
}

/* --- iperf3 ------------------------------------------------------------- */

#define COOKIE "abcdefghijklmnopqrstuvwxyz0123456789"

static int8_t cl_state(struct ufx *fx, int fd)
{
	int8_t s = 0;

	assert_int_equal(cl_recv(fx, fd, &s, 1), 1);
	return s;
}

static void cl_json(struct ufx *fx, int fd, const char *json)
{
	uint32_t n = htonl((uint32_t)strlen(json));

	cl_send(fx, fd, &n, 4);
	cl_send(fx, fd, json, strlen(json));
}

/* The server's results: the first stream's "bytes". */
static int64_t cl_results(struct ufx *fx, int fd)
{
	struct wp_json_member m[16], s[16];
	uint32_t n;
	unsigned k, ks;
	char *j;
	const struct wp_json_member *st;
	int64_t bytes;

	assert_int_equal(cl_recv(fx, fd, &n, 4), 4);
	n = ntohl(n);
	assert_true(n > 0 && n < 65536);
	j = malloc(n);
	assert_non_null(j);
	assert_int_equal(cl_recv(fx, fd, j, n), n);
	assert_int_equal(wp_json_scan(j, n, m, 16, &k), 0);
	assert_non_null(wp_json_get(m, k, "cpu_util_total"));
	assert_non_null(wp_json_get(m, k, "sender_has_retransmits"));
	st = wp_json_get(m, k, "streams");
	assert_non_null(st);
	assert_int_equal(st->type, WP_JSON_ARRAY);
	/* [{...}]: the one stream's object. */
	assert_int_equal(wp_json_scan(st->val + 1, st->val_len - 2, s, 16, &ks),
			 0);
	assert_int_equal(wp_json_read_int(s, ks, "id", 1, 1, &bytes), 0);
	assert_int_equal(wp_json_read_int(s, ks, "bytes", 0, INT64_MAX, &bytes),
			 0);
	free(j);
	return bytes;
}

/* The control connection up to CREATE_STREAMS. */
static int cl_begin(struct ufx *fx, const char *params)
{
	int c = cl_connect(fx, 5201);

	cl_send(fx, c, COOKIE, sizeof(COOKIE));
	assert_int_equal(cl_state(fx, c), 9); /* PARAM_EXCHANGE */
	cl_json(fx, c, params);
	return c;
}

/* TEST_END to DISPLAY_RESULTS; returns the server's count of bytes. */
static int64_t cl_results_exchange(struct ufx *fx, int c)
{
	int8_t s = 4;
	int64_t bytes;

	cl_send(fx, c, &s, 1);
	assert_int_equal(cl_state(fx, c), 13); /* EXCHANGE_RESULTS */
	cl_json(fx, c, "{\"cpu_util_total\":1,\"streams\":[]}");
	bytes = cl_results(fx, c);
	assert_int_equal(cl_state(fx, c), 14); /* DISPLAY_RESULTS */
	return bytes;
}

/* TEST_END to IPERF_DONE; returns the server's count of bytes. */
static int64_t cl_finish(struct ufx *fx, int c)
{
	int64_t bytes = cl_results_exchange(fx, c);
	int8_t s = 16; /* IPERF_DONE */

	cl_send(fx, c, &s, 1);
	return bytes;
}

static void test_iperf3_tcp(void **state)
{
	static const char params[] =
		"{\"tcp\":true,\"omit\":0,\"time\":1,\"parallel\":1,"
		"\"len\":8192,\"client_version\":\"3.12\"}";
	/* What the server counts as read once connections are known (not
	 * their cookies): the parameters, the data. */
	const uint64_t all = 4 + strlen(params) + 64 * 8192;
	struct ufx *fx = *state;
	static uint8_t blk[8192];
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("iperf3"), fx->b, 5201,
					  err, sizeof(err));
	int c, d, other;

	assert_non_null(app);
	c = cl_begin(fx, params);
	assert_int_equal(cl_state(fx, c), 10); /* CREATE_STREAMS */
	/* Busy: a second client is denied. */
	other = cl_connect(fx, 5201);
	cl_send(fx, other, "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", 37);
	assert_int_equal(cl_state(fx, other), -1); /* ACCESS_DENIED */
	assert_int_equal(cl_recv(fx, other, blk, 1), 0);
	assert_int_equal(wp_close(other), 0);
	d = cl_connect(fx, 5201);
	cl_send(fx, d, COOKIE, sizeof(COOKIE));
	assert_int_equal(cl_state(fx, c), 1); /* TEST_START */
	assert_int_equal(cl_state(fx, c), 2); /* TEST_RUNNING */
	for (int i = 0; i < 64; i++)
		cl_send(fx, d, blk, sizeof(blk));
	/* Everything read before the test ends (iperf3's client, too, stops
	 * counting what the server has not read). */
	{
		uint64_t limit = real_ns() + REAL_LIMIT_NS;

		while (atomic_load(&app->rx_bytes) < all) {
			assert_true(real_ns() < limit);
			step(fx);
		}
	}
	assert_int_equal(cl_finish(fx, c), 64 * sizeof(blk));
	assert_int_equal(cl_recv(fx, c, blk, 1), 0); /* the server closed */
	wait_counter(fx, app, "tests", 1);
	assert_int_equal(counter(app, "access_denied"), 1);
	assert_int_equal(wp_close(d), 0);
	assert_int_equal(wp_close(c), 0);
	wp_app_stop(app);
}

/* A UDP test's stream: the client's 4-byte hello on u, the server's
 * answer, then TEST_START and TEST_RUNNING on the control connection. */
static void cl_udp_stream(struct ufx *fx, int c, int u)
{
	uint32_t msg = 0x36373839u, reply = 0;
	uint64_t limit = real_ns() + REAL_LIMIT_NS;

	ufx_sendto(u, &msg, 4, UFX_IP_B, 5201);
	while (wp_recv(u, &reply, 4, MSG_DONTWAIT) != 4) {
		assert_true(real_ns() < limit);
		step(fx);
	}
	assert_int_equal(reply, 0x39383736u);
	assert_int_equal(cl_state(fx, c), 1); /* TEST_START */
	assert_int_equal(cl_state(fx, c), 2); /* TEST_RUNNING */
}

static void test_iperf3_udp(void **state)
{
	struct ufx *fx = *state;
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("iperf3"), fx->b, 5201,
					  err, sizeof(err));
	int c, u = ufx_udp(fx->a, INADDR_ANY, 0);
	uint8_t d[200];

	assert_non_null(app);
	c = cl_begin(fx, "{\"udp\":true,\"parallel\":1,\"len\":200,"
			 "\"bandwidth\":1000000}");
	assert_int_equal(cl_state(fx, c), 10);
	cl_udp_stream(fx, c, u);
	/* Packets 1..10 but 5 (lost), then a short one. */
	for (uint32_t i = 1; i <= 10; i++) {
		uint32_t h[3] = { htonl(1000), htonl(0), htonl(i) };

		if (i == 5)
			continue;
		memcpy(d, h, sizeof(h));
		ufx_sendto(u, d, sizeof(d), UFX_IP_B, 5201);
	}
	ufx_sendto(u, d, 11, UFX_IP_B, 5201);
	wait_counter(fx, app, "udp_dropped", 1);
	assert_int_equal(cl_finish(fx, c), 9 * sizeof(d));
	wait_counter(fx, app, "tests", 1);
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(wp_close(u), 0);
	wp_app_stop(app);
}

/*
 * The next client while the last one has its results but has not yet
 * said IPERF_DONE (stock iperf3 exits right after saying it, so the next
 * run's connection can be seen first): the finished test is counted and
 * ended, the new client is served, not told the server is busy.
 */
static void test_iperf3_next_client(void **state)
{
	struct ufx *fx = *state;
	char err[160];
	struct wp_app *app = wp_app_start(wp_app_find("iperf3"), fx->b, 5201,
					  err, sizeof(err));
	int c, c2, u = ufx_udp(fx->a, INADDR_ANY, 0);
	uint8_t b;

	assert_non_null(app);
	c = cl_begin(fx, "{\"udp\":true,\"parallel\":1,\"len\":200,"
			 "\"bandwidth\":1000000}");
	assert_int_equal(cl_state(fx, c), 10);
	cl_udp_stream(fx, c, u);
	assert_int_equal(cl_results_exchange(fx, c), 0);
	/* A second client, another cookie: served. */
	c2 = cl_connect(fx, 5201);
	cl_send(fx, c2, "0123456789abcdefghijklmnopqrstuvwxyz", 37);
	assert_int_equal(cl_state(fx, c2), 9); /* PARAM_EXCHANGE */
	assert_int_equal(counter(app, "tests"), 1);
	assert_int_equal(counter(app, "access_denied"), 0);
	assert_int_equal(cl_recv(fx, c, &b, 1), 0); /* the first is closed */
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(wp_close(c2), 0);
	assert_int_equal(wp_close(u), 0);
	wait_counter(fx, app, "ctrl_closed", 1);
	wp_app_stop(app);
}

/* Each bad input: SERVER_ERROR (-2) or nothing, then the close. */
static void expect_closed(struct ufx *fx, int fd, int8_t first)
{
	uint8_t b[16];
	size_t n = cl_recv(fx, fd, b, sizeof(b));

	if (first) {
		assert_int_equal(n, 9); /* the state and two 32-bit ints */
		assert_int_equal((int8_t)b[0], first);
	} else {
		assert_int_equal(n, 0);
	}
	assert_int_equal(wp_close(fd), 0);
}

static void test_iperf3_bad_input(void **state)
{
	struct ufx *fx = *state;
	char err[160], big[64];
	struct wp_app *app = wp_app_start(wp_app_find("iperf3"), fx->b, 5201,
					  err, sizeof(err));
	uint32_t huge = htonl(1u << 30);
	int8_t s;
	int c;

	assert_non_null(app);
	/* A cookie without its NUL, or with control characters. */
	c = cl_connect(fx, 5201);
	memset(big, 'a', sizeof(big));
	cl_send(fx, c, big, 37);
	expect_closed(fx, c, 0);
	c = cl_connect(fx, 5201);
	big[3] = '\n';
	big[36] = 0;
	cl_send(fx, c, big, 37);
	expect_closed(fx, c, 0);
	wait_counter(fx, app, "bad_cookie", 2);
	/* Parameters: not JSON; too long; out of range; neither TCP nor
	 * UDP; an option this server does not have. */
	expect_closed(fx, cl_begin(fx, "{\"tcp\":true,"), -2);
	c = cl_connect(fx, 5201);
	cl_send(fx, c, COOKIE, sizeof(COOKIE));
	assert_int_equal(cl_state(fx, c), 9);
	cl_send(fx, c, &huge, 4);
	expect_closed(fx, c, -2);
	expect_closed(fx, cl_begin(fx, "{\"tcp\":true,\"parallel\":500}"), -2);
	expect_closed(fx, cl_begin(fx, "{\"omit\":0}"), -2);
	wait_counter(fx, app, "bad_params", 4);
	expect_closed(fx, cl_begin(fx, "{\"tcp\":true,\"bidirectional\":true}"),
		      -2);
	wait_counter(fx, app, "unsupported", 1);
	/* A state byte nobody expects, mid-test. */
	c = cl_begin(fx, "{\"tcp\":true,\"parallel\":1}");
	assert_int_equal(cl_state(fx, c), 10);
	s = 42;
	cl_send(fx, c, &s, 1);
	expect_closed(fx, c, -2);
	wait_counter(fx, app, "bad_message", 1);
	/* The client's results, not JSON. */
	c = cl_begin(fx, "{\"tcp\":true,\"parallel\":1}");
	assert_int_equal(cl_state(fx, c), 10);
	s = 4;
	cl_send(fx, c, &s, 1);
	assert_int_equal(cl_state(fx, c), 13);
	cl_json(fx, c, "[1,2]");
	expect_closed(fx, c, -2);
	wait_counter(fx, app, "bad_results", 1);
	/* The control connection dropped mid-test. */
	c = cl_begin(fx, "{\"tcp\":true,\"parallel\":2}");
	assert_int_equal(cl_state(fx, c), 10);
	assert_int_equal(wp_close(c), 0);
	wait_counter(fx, app, "ctrl_closed", 1);
	/* And the server still serves a whole test. */
	c = cl_begin(fx, "{\"tcp\":true,\"parallel\":1,\"reverse\":true,"
			 "\"len\":1000}");
	assert_int_equal(cl_state(fx, c), 10);
	{
		int d = cl_connect(fx, 5201);
		uint8_t buf[4000];

		cl_send(fx, d, COOKIE, sizeof(COOKIE));
		assert_int_equal(cl_state(fx, c), 1);
		assert_int_equal(cl_state(fx, c), 2);
		/* -R: the server sends. */
		assert_int_equal(cl_recv(fx, d, buf, sizeof(buf)), sizeof(buf));
		assert_true(cl_finish(fx, c) >= (int64_t)sizeof(buf));
		assert_int_equal(wp_close(d), 0);
	}
	wait_counter(fx, app, "tests", 1);
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(counter(app, "bad_cookie"), 2);
	assert_int_equal(counter(app, "bad_params"), 4);
	assert_int_equal(counter(app, "bad_message"), 1);
	wp_app_stop(app);
}

/* Both applications hold TCP and UDP: a port in use either way is refused. */
static void test_ports(void **state)
{
	struct ufx *fx = *state;
	char err[200];
	struct wp_app *a = wp_app_start(wp_app_find("iperf3"), fx->b, 5201, err,
					sizeof(err));

	assert_non_null(a);
	assert_null(wp_app_start(wp_app_find("sockperf"), fx->b, 5201, err,
				 sizeof(err)));
	assert_int_equal(errno, EADDRINUSE);
	wp_app_stop(a);
	a = wp_app_start(wp_app_find("udp-echo"), fx->b, 6000, err,
			 sizeof(err));
	assert_non_null(a);
	assert_null(wp_app_start(wp_app_find("sockperf"), fx->b, 6000, err,
				 sizeof(err)));
	assert_int_equal(errno, EADDRINUSE);
	wp_app_stop(a);
	/* The TCP port taken, the UDP one free: refused, named. */
	{
		int t = wp_socket_net(fx->b, AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sin = ufx_sin(INADDR_ANY, 6001);

		assert_int_equal(wp_bind(t, UFX_SA(sin), sizeof(sin)), 0);
		assert_int_equal(wp_listen(t, 1), 0);
		err[0] = 0;
		assert_null(wp_app_start(wp_app_find("iperf3"), fx->b, 6001,
					 err, sizeof(err)));
		assert_int_equal(errno, EADDRINUSE);
		assert_non_null(strstr(err, "TCP bind/listen"));
		assert_int_equal(wp_close(t), 0);
	}
	a = wp_app_start(wp_app_find("sockperf"), fx->b, 6000, err,
			 sizeof(err));
	assert_non_null(a);
	wp_app_stop(a);
	assert_non_null(wp_app_find("iperf3"));
	assert_non_null(wp_app_find("sockperf"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sockperf_udp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sockperf_tcp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iperf3_tcp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iperf3_udp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iperf3_next_client, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_iperf3_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
