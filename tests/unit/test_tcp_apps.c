// SPDX-License-Identifier: MIT
/*
 * The TCP applications of `wirepath run --app` on stack B of the pair,
 * on virtual time: the test's thread is every client (non-blocking
 * sockets on A) and runs the machine; between steps it waits until each
 * application is idle (asleep in epoll_wait with nothing ready), as the
 * virtual-time runner does.
 *   - tcp-echo: several concurrent clients, megabytes each, byte-exact;
 *   - tcp-sink: counts per application and per connection;
 *   - tcp-source: the RFC 864 stream, checked against its definition;
 *   - http: GET / and /bytes/N, HEAD, keep-alive and pipelining,
 *     Connection: close and HTTP/1.0, 400/404/405/413/414/431/501/505,
 *     a malformed request that closes its connection while a download
 *     on another goes on intact;
 *   - http:PORT:DIR over a temporary directory: files small and large
 *     (byte-checked), HEAD, index.html, keep-alive and pipelining,
 *     Range and If-Modified-Since, traversal ("..", encoded or not, a
 *     symlink out of the directory) refused, the error statuses and
 *     their counters; the path, range and date functions on their own;
 *   - stop: every connection is closed (the clients read the end of the
 *     stream), the counters add up.
 * Teardown checks every pool is whole and every TCP socket is gone.
 */
#include "test_udp_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../apps/app.h"
#include "../../apps/http_parse.h"
#include "core/sysctl.h"
#include "tcp/tcp.h"

#define REAL_LIMIT_NS (120 * WP_NSEC_PER_SEC)
#define STEP_NS (200 * WP_NSEC_PER_USEC)

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WP_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct fx {
	struct ufx *u;
	struct wp_app *app[4];
	int napps;
	uint64_t limit; /* real time by which the test must be done */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->u = ufx_create(NULL);
	/* TIME_WAIT of 200 ms: teardown's run outlasts it. */
	assert_int_equal(
		wp_sysctl_set(&f->u->a->sysctl, "net.ipv4.tcp_msl_ms", "100"),
		0);
	assert_int_equal(
		wp_sysctl_set(&f->u->b->sysctl, "net.ipv4.tcp_msl_ms", "100"),
		0);
	f->limit = real_ns() + REAL_LIMIT_NS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct ufx *fx = f->u;

	for (int i = 0; i < f->napps; i++)
		wp_app_stop(f->app[i]);
	ufx_destroy_tcp(fx);
	free(f);
	return 0;
}

static struct wp_app *start_arg(struct fx *f, const char *name, uint16_t port,
				const char *arg)
{
	char err[200];
	struct wp_app *app = wp_app_start_arg(wp_app_find(name), f->u->b, port,
					      arg, err, sizeof(err));

	if (!app)
		fail_msg("%s", err);
	f->app[f->napps++] = app;
	return app;
}

static struct wp_app *start(struct fx *f, const char *name, uint16_t port)
{
	return start_arg(f, name, port, NULL);
}

/* One step of the machine, then wait until every application caught
 * up with what it was given. */
static void step(struct fx *f)
{
	struct timespec ts = { 0, 20000 };

	ufx_run(f->u, STEP_NS);
	for (int i = 0; i < f->napps; i++) {
		while (!wp_app_idle(f->app[i])) {
			assert_true(real_ns() < f->limit);
			nanosleep(&ts, NULL);
		}
	}
	assert_true(real_ns() < f->limit);
}

static void step_fx(void *f)
{
	step(f);
}

/* A connection from A to B:port, established. */
static int client(struct fx *f, uint16_t port)
{
	return ufx_tcp_connect(f->u, port, step_fx, f);
}

/* Send all of buf, stepping while the send buffer is full. */
static void send_all(struct fx *f, int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n =
			wp_send(fd, (const uint8_t *)buf + off, len - off, 0);

		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			step(f);
			continue;
		}
		off += (size_t)n;
	}
}

/*
 * Read into buf until len bytes, or the end of the stream (eof true
 * afterwards). Returns the bytes read.
 */
static size_t recv_upto(struct fx *f, int fd, void *buf, size_t len, bool *eof)
{
	size_t got = 0;

	*eof = false;
	while (got < len) {
		ssize_t n = wp_recv(fd, (uint8_t *)buf + got, len - got, 0);

		if (n == 0) {
			*eof = true;
			break;
		}
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			step(f);
			continue;
		}
		got += (size_t)n;
	}
	return got;
}

/* Wait for the end of the stream (nothing else may come). */
static void expect_eof(struct fx *f, int fd)
{
	uint8_t b;
	bool eof;

	assert_int_equal(recv_upto(f, fd, &b, 1, &eof), 0);
	assert_true(eof);
}

/* Wait for a counter of app to reach n. */
static void wait_count(struct fx *f, _Atomic uint64_t *c, uint64_t n)
{
	while (atomic_load(c) < n)
		step(f);
	assert_int_equal(atomic_load(c), n);
}

static uint8_t pattern(unsigned client, size_t i)
{
	return (uint8_t)(i * 131 + (i >> 9) + client * 29);
}

/* RFC 864 as BSD inetd writes it, from its definition (not chargen.c):
 * byte i of the stream. */
static uint8_t chargen_byte(uint64_t i)
{
	uint64_t p = i % (95 * 74), line = p / 74, col = p % 74;

	if (col == 72)
		return '\r';
	if (col == 73)
		return '\n';
	return (uint8_t)((line + col) % 95 + 32);
}

/* --- tcp-echo --------------------------------------------------------- */

#define ECHO_CLIENTS 4
#define ECHO_BYTES (1u << 20)

static void test_echo_concurrent(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "tcp-echo", 7);
	int c[ECHO_CLIENTS];
	size_t sent[ECHO_CLIENTS] = { 0 }, got[ECHO_CLIENTS] = { 0 };
	uint8_t *out = malloc(ECHO_BYTES), *in = malloc(ECHO_BYTES);
	bool all;

	assert_non_null(out);
	assert_non_null(in);
	for (int i = 0; i < ECHO_CLIENTS; i++)
		c[i] = client(f, 7);
	/* All at once: each client writes what its send buffer takes and
	 * reads what came back, in turn, every step. */
	do {
		all = true;
		for (int i = 0; i < ECHO_CLIENTS; i++) {
			uint8_t chunk[8192];
			ssize_t n;

			if (sent[i] < ECHO_BYTES) {
				size_t k = ECHO_BYTES - sent[i];

				if (k > sizeof(chunk))
					k = sizeof(chunk);
				for (size_t j = 0; j < k; j++)
					chunk[j] = pattern((unsigned)i,
							   sent[i] + j);
				n = wp_send(c[i], chunk, k, 0);
				if (n > 0)
					sent[i] += (size_t)n;
			}
			while ((n = wp_recv(c[i], in, ECHO_BYTES, 0)) > 0) {
				for (ssize_t j = 0; j < n; j++)
					if (in[j] !=
					    pattern((unsigned)i,
						    got[i] + (size_t)j))
						fail_msg("client %d byte %zu",
							 i, got[i] + (size_t)j);
				got[i] += (size_t)n;
			}
			assert_true(got[i] <= sent[i]);
			if (got[i] < ECHO_BYTES)
				all = false;
		}
		step(f);
	} while (!all);
	assert_int_equal(atomic_load(&app->accepted), ECHO_CLIENTS);
	assert_int_equal(atomic_load(&app->active), ECHO_CLIENTS);
	/* Each client closes; the echo closes its side after the last
	 * byte: each client reads the end of its stream. */
	for (int i = 0; i < ECHO_CLIENTS; i++)
		assert_int_equal(wp_shutdown(c[i], SHUT_WR), 0);
	for (int i = 0; i < ECHO_CLIENTS; i++) {
		expect_eof(f, c[i]);
		assert_int_equal(wp_close(c[i]), 0);
	}
	wait_count(f, &app->closed, ECHO_CLIENTS);
	assert_int_equal(atomic_load(&app->active), 0);
	assert_int_equal(atomic_load(&app->rx_bytes),
			 (uint64_t)ECHO_CLIENTS * ECHO_BYTES);
	assert_int_equal(atomic_load(&app->tx_bytes),
			 (uint64_t)ECHO_CLIENTS * ECHO_BYTES);
	assert_int_equal(atomic_load(&app->errors), 0);
	free(out);
	free(in);
}

/* A client that writes and never reads: the echo stops reading it (its
 * send buffer is full), and the other connection is served meanwhile. */
static void test_echo_backpressure(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "tcp-echo", 7);
	int hog = client(f, 7), other = client(f, 7);
	static uint8_t buf[1 << 16];
	size_t pushed = 0;
	bool eof;

	memset(buf, 'x', sizeof(buf));
	/* Until nothing more goes in: the echo's send buffer and both
	 * receive windows are full. */
	for (int idle = 0; idle < 50;) {
		ssize_t n = wp_send(hog, buf, sizeof(buf), 0);

		if (n > 0) {
			pushed += (size_t)n;
			idle = 0;
		} else {
			idle++;
		}
		step(f);
	}
	assert_true(pushed > 0);
	assert_true(atomic_load(&app->rx_bytes) < pushed);
	send_all(f, other, "hello", 5);
	assert_int_equal(recv_upto(f, other, buf, 5, &eof), 5);
	assert_memory_equal(buf, "hello", 5);
	/* Reading the hog's echo releases it, byte for byte. */
	assert_int_equal(wp_shutdown(hog, SHUT_WR), 0);
	{
		size_t got = 0;

		for (;;) {
			size_t n = recv_upto(f, hog, buf, sizeof(buf), &eof);

			for (size_t j = 0; j < n; j++)
				assert_int_equal(buf[j], 'x');
			got += n;
			if (eof)
				break;
		}
		assert_int_equal(got, pushed);
	}
	assert_int_equal(wp_close(hog), 0);
	assert_int_equal(wp_close(other), 0);
	wait_count(f, &app->closed, 2);
	assert_int_equal(atomic_load(&app->errors), 0);
}

/* --- tcp-sink ------------------------------------------------------------ */

static void test_sink_counts(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "tcp-sink", 9);
	static const size_t sizes[] = { 1, 100000, 777777, 0 };
	static uint8_t buf[777777];
	int c[4];
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	for (int i = 0; i < 4; i++)
		c[i] = client(f, 9);
	wait_count(f, &app->accepted, 4);
	assert_int_equal(atomic_load(&app->active), 4);
	for (int i = 0; i < 4; i++) {
		send_all(f, c[i], buf, sizes[i]);
		total += sizes[i];
		assert_int_equal(wp_shutdown(c[i], SHUT_WR), 0);
	}
	/* The sink closes each connection once it read its end: each
	 * client sees the end of the stream, nothing before it. */
	for (int i = 0; i < 4; i++) {
		expect_eof(f, c[i]);
		assert_int_equal(wp_close(c[i]), 0);
	}
	wait_count(f, &app->closed, 4);
	assert_int_equal(atomic_load(&app->rx_bytes), total);
	assert_int_equal(atomic_load(&app->tx_bytes), 0);
	assert_int_equal(atomic_load(&app->active), 0);
	assert_int_equal(atomic_load(&app->errors), 0);
}

/* --- tcp-source ---------------------------------------------------------- */

#define SOURCE_BYTES (3u << 20)

static void test_source_stream(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "tcp-source", 19);
	int c = client(f, 19), c2;
	uint8_t *in = malloc(SOURCE_BYTES);
	bool eof;

	assert_non_null(in);
	/* What the client sends is read and dropped; its FIN does not stop
	 * the stream. */
	send_all(f, c, "ignored", 7);
	assert_int_equal(wp_shutdown(c, SHUT_WR), 0);
	assert_int_equal(recv_upto(f, c, in, SOURCE_BYTES, &eof), SOURCE_BYTES);
	assert_false(eof);
	for (size_t i = 0; i < SOURCE_BYTES; i++)
		if (in[i] != chargen_byte(i))
			fail_msg("byte %zu: %u, not %u", i, in[i],
				 chargen_byte(i));
	assert_memory_equal(in, " !\"#$%&'", 8);
	assert_memory_equal(in + 72, "\r\n!\"#", 5);
	/* A second connection starts the stream at its beginning. */
	c2 = client(f, 19);
	assert_int_equal(recv_upto(f, c2, in, 100, &eof), 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(in[i], chargen_byte(i));
	/* Closing with the stream still coming (unread data: a RST); the
	 * source closes its side. */
	assert_int_equal(wp_close(c), 0);
	assert_int_equal(wp_close(c2), 0);
	wait_count(f, &app->closed, 2);
	assert_int_equal(atomic_load(&app->rx_bytes), 7);
	assert_true(atomic_load(&app->tx_bytes) >= SOURCE_BYTES + 100);
	/* Both reset by the peer: aborted, and no call counted as failed. */
	assert_int_equal(atomic_load(&app->aborted), 2);
	assert_int_equal(atomic_load(&app->errors), 0);
	assert_int_equal(atomic_load(&app->active), 0);
	free(in);
}

/*
 * The client vanishes mid-download (the wire goes dead both ways, as when
 * a peer's host is switched off): the source's data go unacknowledged,
 * the retransmission timer backs off tcp_retries2 times and gives up
 * (ETIMEDOUT, TCPAbortOnTimeout), and the application hears of it, counts
 * the failed call and the aborted connection, and closes it: nothing left
 * open, nothing waiting forever.
 */
static void test_source_peer_vanishes(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "tcp-source", 19);
	struct wp_pair_link dead = { .loss_pct = 100,
				     .limit = WP_PAIR_LIMIT_DEFAULT };
	struct wp_net_mib m;
	uint8_t in[4096];
	bool eof;
	int c;

	/* 2: 200 + 400 + 800 ms of RTOs rather than Linux's ~15 minutes. */
	assert_int_equal(
		wp_sysctl_set(&f->u->b->sysctl, "net.ipv4.tcp_retries2", "2"),
		0);
	c = client(f, 19);
	assert_int_equal(recv_upto(f, c, in, sizeof(in), &eof), sizeof(in));
	assert_int_equal(
		wp_stack_pair_set_link(f->u->p, WP_PAIR_A_TO_B, &dead, NULL, 0),
		0);
	assert_int_equal(
		wp_stack_pair_set_link(f->u->p, WP_PAIR_B_TO_A, &dead, NULL, 0),
		0);
	wait_count(f, &app->closed, 1);
	assert_int_equal(atomic_load(&app->aborted), 1);
	assert_int_equal(atomic_load(&app->errors), 1); /* the ETIMEDOUT */
	assert_int_equal(atomic_load(&app->active), 0);
	m = ufx_mib(f->u->b);
	assert_int_equal(m.TCPAbortOnTimeout, 1);
	/* The client's side: what reached it is the stream, nothing more
	 * will; its close resets into the void. */
	for (size_t i = 0; i < sizeof(in); i++)
		assert_int_equal(in[i], chargen_byte(i));
	assert_int_equal(wp_close(c), 0);
}

/* --- http ---------------------------------------------------------------- */

struct response {
	int status;
	char head[2048];
	uint64_t length;
	bool has_length, close;
	uint8_t *body;
};

/* Read one response off fd; bodyless: a HEAD's (Content-Length says
 * what GET would give), as a 304 is. false if the stream ended first. */
static bool read_response(struct fx *f, int fd, struct response *r,
			  bool bodyless)
{
	size_t n = 0;
	bool eof;
	char *p;

	memset(r, 0, sizeof(*r));
	for (;;) {
		assert_true(n < sizeof(r->head) - 1);
		if (recv_upto(f, fd, r->head + n, 1, &eof) == 0)
			return false;
		n++;
		r->head[n] = '\0';
		if (n >= 4 && memcmp(r->head + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
	p = strcasestr(r->head, "\r\nContent-Length: ");
	if (p) {
		r->has_length = true;
		r->length = strtoull(p + 18, NULL, 10);
	}
	r->close = strcasestr(r->head, "\r\nConnection: close\r\n") != NULL;
	assert_true(r->has_length);
	/* A 304's Content-Length is what a 200 would have sent
	 * (RFC 9110 8.6): no body follows. */
	if (bodyless || r->status == 304)
		return true;
	r->body = malloc(r->length + 1);
	assert_non_null(r->body);
	assert_int_equal(recv_upto(f, fd, r->body, r->length, &eof), r->length);
	r->body[r->length] = 0;
	return true;
}

static void response_free(struct response *r)
{
	free(r->body);
	r->body = NULL;
}

static void send_str(struct fx *f, int fd, const char *s)
{
	send_all(f, fd, s, strlen(s));
}

/* Send req on a new connection; read one response. */
static int request_status(struct fx *f, const char *req, bool expect_close)
{
	struct response r;
	int fd = client(f, 80);

	send_str(f, fd, req);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.close, expect_close);
	if (expect_close)
		expect_eof(f, fd);
	response_free(&r);
	assert_int_equal(wp_close(fd), 0);
	return r.status;
}

static void test_http_pages(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "http", 80);
	static const char two[] =
		"GET / HTTP/1.1\r\nHost: b\r\n\r\n"
		"HEAD /bytes/12345 HTTP/1.1\r\nHost: b\r\n\r\n";
	static const char bytes[] =
		"GET /bytes/300000?x=1 HTTP/1.1\r\nHost: b\r\n\r\n";
	static const char closing[] = "GET http://b/ HTTP/1.1\r\nHost: "
				      "b\r\nConnection: close\r\n\r\n";
	struct response r;
	int fd = client(f, 80);

	/* Two pipelined requests in one write: two responses, in order. */
	send_str(f, fd, two);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_false(r.close);
	assert_non_null(strstr(r.head, "Content-Type: text/html"));
	assert_non_null(strstr((char *)r.body, "<h1>wirepath</h1>"));
	assert_int_equal(strlen((char *)r.body), r.length);
	response_free(&r);
	assert_true(read_response(f, fd, &r, true));
	assert_int_equal(r.status, 200);
	assert_int_equal(r.length, 12345);
	/* A download on the same connection: the chargen stream. */
	send_str(f, fd, bytes);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_int_equal(r.length, 300000);
	assert_non_null(strstr(r.head, "application/octet-stream"));
	for (size_t i = 0; i < r.length; i++)
		if (r.body[i] != chargen_byte(i))
			fail_msg("body byte %zu", i);
	response_free(&r);
	/* Connection: close (absolute-form target): the last response,
	 * then the server's FIN. */
	send_str(f, fd, closing);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_true(r.close);
	response_free(&r);
	expect_eof(f, fd);
	assert_int_equal(wp_close(fd), 0);
	/* HTTP/1.0: closes unless asked to keep alive. */
	assert_int_equal(request_status(f, "GET / HTTP/1.0\r\n\r\n", true),
			 200);
	fd = client(f, 80);
	send_str(f, fd, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_true(read_response(f, fd, &r, false));
	assert_non_null(strstr(r.head, "Connection: keep-alive"));
	response_free(&r);
	send_str(f, fd, "GET /bytes/0 HTTP/1.0\r\n\r\n");
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_int_equal(r.length, 0);
	assert_true(r.close);
	response_free(&r);
	expect_eof(f, fd);
	assert_int_equal(wp_close(fd), 0);
	wait_count(f, &app->closed, 3);
	assert_int_equal(atomic_load(&app->handled), 7);
	assert_int_equal(atomic_load(&app->replies), 7);
	assert_int_equal(atomic_load(&app->rejects), 0);
	assert_int_equal(atomic_load(&app->errors), 0);
}

static void test_http_errors(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "http", 80);
	static char big[12000];
	struct response r;
	int fd, n;

	/* 404 and 405 keep the connection: the body of the POST is read
	 * and dropped, the next request is served. */
	fd = client(f, 80);
	send_str(f, fd,
		 "GET /nope HTTP/1.1\r\nHost: b\r\n\r\n"
		 "POST / HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello"
		 "GET /bytes/abc HTTP/1.1\r\nHost: b\r\n\r\n"
		 "GET /bytes/1073741825 HTTP/1.1\r\nHost: b\r\n\r\n"
		 "GET / HTTP/1.1\r\nHost: b\r\n\r\n");
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 404);
	assert_false(r.close);
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 404);
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 400);
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	response_free(&r);
	assert_int_equal(wp_close(fd), 0);

	/* Errors after which nothing can be framed: answer, then close. */
	assert_int_equal(
		request_status(f, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", true),
		400);
	assert_int_equal(request_status(f, "GET / HTTP/1.1\r\n\r\n", true),
			 400); /* no Host */
	assert_int_equal(
		request_status(f, "GET / HTTP/2.0\r\nHost: b\r\n\r\n", true),
		505);
	assert_int_equal(request_status(f,
					"POST / HTTP/1.1\r\nHost: b\r\n"
					"Transfer-Encoding: chunked\r\n\r\n",
					true),
			 501);
	assert_int_equal(request_status(f,
					"POST / HTTP/1.1\r\nHost: b\r\n"
					"Content-Length: 100000\r\n\r\n",
					true),
			 413);
	/* A request line too long; a head too long. */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 5000);
	memcpy(big + 5005, " HTTP/1.1\r\nHost: b\r\n\r\n", 23);
	assert_int_equal(request_status(f, big, true), 414);
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: b\r\nX: ");
	memset(big + n, 'v', 9000);
	memcpy(big + n + 9000, "\r\n\r\n", 5);
	assert_int_equal(request_status(f, big, true), 431);
	wait_count(f, &app->closed, 8);
	assert_int_equal(atomic_load(&app->rejects), 4 + 7);
	assert_int_equal(atomic_load(&app->active), 0);
}

/* A malformed request closes its own connection only: a download on
 * another goes on, byte-exact. */
#define DOWNLOAD (2u << 20)

static void test_http_isolation(void **state)
{
	struct fx *f = *state;
	struct wp_app *app = start(f, "http", 80);
	static const char get[] =
		"GET /bytes/2097152 HTTP/1.1\r\nHost: b\r\n\r\n";
	struct response r;
	uint8_t *body = malloc(DOWNLOAD), head[1024];
	int dl = client(f, 80), bad = client(f, 80);
	size_t got = 0, hn = 0;
	bool eof, sent_bad = false;

	assert_non_null(body);
	send_str(f, dl, get);
	/* The head, then the body in pieces while the other connection
	 * misbehaves. */
	while (hn < 4 || memcmp(head + hn - 4, "\r\n\r\n", 4) != 0) {
		assert_true(hn < sizeof(head));
		assert_int_equal(recv_upto(f, dl, head + hn, 1, &eof), 1);
		hn++;
	}
	assert_int_equal(memcmp(head, "HTTP/1.1 200 OK\r\n", 17), 0);
	while (got < DOWNLOAD) {
		size_t n = DOWNLOAD - got < 50000 ? DOWNLOAD - got : 50000;

		assert_int_equal(recv_upto(f, dl, body + got, n, &eof), n);
		got += n;
		if (!sent_bad && got > DOWNLOAD / 4) {
			send_all(f, bad, "GARBAGE\0\r\n\r\n", 12);
			assert_true(read_response(f, bad, &r, false));
			assert_int_equal(r.status, 400);
			response_free(&r);
			expect_eof(f, bad);
			sent_bad = true;
		}
	}
	for (size_t i = 0; i < DOWNLOAD; i++)
		if (body[i] != chargen_byte(i))
			fail_msg("body byte %zu", i);
	/* Still usable afterwards. */
	send_str(f, dl, "HEAD / HTTP/1.1\r\nHost: b\r\n\r\n");
	assert_true(read_response(f, dl, &r, true));
	assert_int_equal(r.status, 200);
	assert_int_equal(wp_close(dl), 0);
	assert_int_equal(wp_close(bad), 0);
	wait_count(f, &app->closed, 2);
	assert_int_equal(atomic_load(&app->rejects), 1);
	free(body);
}

/* --- http:PORT:DIR ------------------------------------------------------ */

#define BIG_FILE (5u << 20)

/* A directory to serve, and one beside it that must stay out of reach:
 *   www/index.html  www/small.txt  www/big.bin (BIG_FILE bytes)
 *   www/sub/x.json (no index.html)  www/empty.css
 *   www/in.txt -> small.txt         www/out -> ../secret/key.txt
 *   www/abs -> /etc/passwd          www/fifo (a FIFO)
 *   secret/key.txt */
struct tree {
	char root[64], www[80];
};

static const char small_txt[] = "hello from a file\n";
static const char index_html[] = "<h1>index</h1>\n";

static uint8_t big_byte(size_t i)
{
	return pattern(7, i);
}

static void put_file(const char *dir, const char *name, const void *data,
		     size_t len)
{
	char path[320];
	FILE *fp;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) <
		    sizeof(path));
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void tree_make(struct tree *t)
{
	char p[160];
	uint8_t *big = malloc(BIG_FILE);

	assert_non_null(big);
	snprintf(t->root, sizeof(t->root), "/tmp/wp-httpdir-XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->www, sizeof(t->www), "%s/www", t->root);
	assert_int_equal(mkdir(t->www, 0755), 0);
	snprintf(p, sizeof(p), "%s/secret", t->root);
	assert_int_equal(mkdir(p, 0755), 0);
	put_file(p, "key.txt", "SECRET\n", 7);
	snprintf(p, sizeof(p), "%s/sub", t->www);
	assert_int_equal(mkdir(p, 0755), 0);
	put_file(p, "x.json", "{}\n", 3);
	put_file(t->www, "index.html", index_html, sizeof(index_html) - 1);
	put_file(t->www, "small.txt", small_txt, sizeof(small_txt) - 1);
	put_file(t->www, "empty.css", "", 0);
	for (size_t i = 0; i < BIG_FILE; i++)
		big[i] = big_byte(i);
	put_file(t->www, "big.bin", big, BIG_FILE);
	free(big);
	snprintf(p, sizeof(p), "%s/in.txt", t->www);
	assert_int_equal(symlink("small.txt", p), 0);
	snprintf(p, sizeof(p), "%s/out", t->www);
	assert_int_equal(symlink("../secret/key.txt", p), 0);
	snprintf(p, sizeof(p), "%s/abs", t->www);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", t->www);
	assert_int_equal(mkfifo(p, 0644), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tree_remove(struct tree *t)
{
	assert_int_equal(nftw(t->root, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static uint64_t app_counter(struct wp_app *app, const char *name)
{
	for (unsigned i = 0; i < app->type->ncounters; i++)
		if (strcmp(app->type->counter_names[i], name) == 0)
			return atomic_load(&app->counter[i]);
	fail_msg("no counter %s", name);
	return 0;
}

/* GET path on fd (kept alive); the response read, its status. */
static int get(struct fx *f, int fd, const char *method, const char *path,
	       const char *fields, struct response *r)
{
	char req[512];

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: b\r\n%s\r\n",
		 method, path, fields ? fields : "");
	send_str(f, fd, req);
	assert_true(read_response(f, fd, r, strcmp(method, "HEAD") == 0));
	return r->status;
}

static void check_big(const uint8_t *body, size_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (body[i] != big_byte(off + i))
			fail_msg("big.bin byte %zu", off + i);
}

static void test_http_dir_files(void **state)
{
	struct fx *f = *state;
	struct tree t;
	struct wp_app *app;
	struct response r;
	int fd;

	tree_make(&t);
	app = start_arg(f, "http", 80, t.www);
	fd = client(f, 80);
	/* A small file, with its type and date. */
	assert_int_equal(get(f, fd, "GET", "/small.txt", NULL, &r), 200);
	assert_int_equal(r.length, sizeof(small_txt) - 1);
	assert_memory_equal(r.body, small_txt, r.length);
	assert_non_null(strstr(r.head, "\r\nContent-Type: text/plain"));
	assert_non_null(strstr(r.head, "\r\nLast-Modified: "));
	assert_non_null(strstr(r.head, " GMT\r\n"));
	assert_false(r.close);
	response_free(&r);
	/* The root and a directory give index.html (or 404 without). */
	assert_int_equal(get(f, fd, "GET", "/", NULL, &r), 200);
	assert_string_equal((char *)r.body, index_html);
	assert_non_null(strstr(r.head, "\r\nContent-Type: text/html"));
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/./index.html?q=1", NULL, &r), 200);
	assert_string_equal((char *)r.body, index_html);
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/sub/", NULL, &r), 404);
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/sub//x.json", NULL, &r), 200);
	assert_non_null(strstr(r.head, "\r\nContent-Type: application/json"));
	assert_string_equal((char *)r.body, "{}\n");
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/empty.css", NULL, &r), 200);
	assert_int_equal(r.length, 0);
	assert_non_null(strstr(r.head, "\r\nContent-Type: text/css"));
	response_free(&r);
	/* HEAD: the length, no body (the next response follows at once). */
	assert_int_equal(get(f, fd, "HEAD", "/big.bin", NULL, &r), 200);
	assert_int_equal(r.length, BIG_FILE);
	assert_non_null(
		strstr(r.head, "\r\nContent-Type: application/octet-stream"));
	/* The large file, byte for byte, then more on the same
	 * connection: keep-alive across three requests. */
	assert_int_equal(get(f, fd, "GET", "/big.bin", NULL, &r), 200);
	assert_int_equal(r.length, BIG_FILE);
	check_big(r.body, 0, BIG_FILE);
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/in.txt", NULL, &r), 200);
	assert_memory_equal(r.body, small_txt, r.length);
	response_free(&r);
	/* Pipelined: three requests in one write, answered in order; the
	 * last asks to close. */
	send_str(f, fd,
		 "GET /small.txt HTTP/1.1\r\nHost: b\r\n\r\n"
		 "GET /nope HTTP/1.1\r\nHost: b\r\n\r\n"
		 "GET /index.html HTTP/1.1\r\nHost: b\r\n"
		 "Connection: close\r\n\r\n");
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, small_txt, r.length);
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 404);
	response_free(&r);
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 200);
	assert_true(r.close);
	assert_string_equal((char *)r.body, index_html);
	response_free(&r);
	expect_eof(f, fd);
	assert_int_equal(wp_close(fd), 0);
	wait_count(f, &app->closed, 1);
	assert_int_equal(atomic_load(&app->handled), 12);
	assert_int_equal(atomic_load(&app->replies), 12);
	assert_int_equal(atomic_load(&app->rejects), 2);
	assert_int_equal(app_counter(app, "status_404"), 2);
	assert_int_equal(atomic_load(&app->errors), 0);
	tree_remove(&t);
}

/* Two downloads of the large file at once, each byte-exact: the bodies
 * come from the file in chunks, interleaved. */
static void test_http_dir_concurrent(void **state)
{
	struct fx *f = *state;
	struct tree t;
	struct wp_app *app;
	uint8_t *body[2];
	size_t got[2] = { 0 }, hn[2] = { 0 };
	char head[2][512];
	int fd[2];

	tree_make(&t);
	app = start_arg(f, "http", 80, t.www);
	for (int i = 0; i < 2; i++) {
		body[i] = malloc(BIG_FILE);
		assert_non_null(body[i]);
		fd[i] = client(f, 80);
		send_str(f, fd[i], "GET /big.bin HTTP/1.1\r\nHost: b\r\n\r\n");
	}
	while (got[0] < BIG_FILE || got[1] < BIG_FILE) {
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			/* The head a byte at a time, then the body. */
			while (hn[i] < 4 ||
			       memcmp(head[i] + hn[i] - 4, "\r\n\r\n", 4)) {
				assert_true(hn[i] < sizeof(head[i]));
				n = wp_recv(fd[i], head[i] + hn[i], 1, 0);
				if (n <= 0)
					break;
				hn[i]++;
			}
			if (hn[i] < 4 ||
			    memcmp(head[i] + hn[i] - 4, "\r\n\r\n", 4))
				continue;
			n = wp_recv(fd[i], body[i] + got[i],
				    BIG_FILE - got[i] < 20000
					    ? BIG_FILE - got[i]
					    : 20000,
				    0);
			if (n > 0)
				got[i] += (size_t)n;
		}
		step(f);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(memcmp(head[i], "HTTP/1.1 200 OK\r\n", 17), 0);
		check_big(body[i], 0, BIG_FILE);
		free(body[i]);
		assert_int_equal(wp_close(fd[i]), 0);
	}
	wait_count(f, &app->closed, 2);
	assert_int_equal(atomic_load(&app->errors), 0);
	tree_remove(&t);
}

static void test_http_dir_refusals(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *target;
		int status;
	} cases[] = {
		{ "/../secret/key.txt", 400 },
		{ "/%2e%2e/secret/key.txt", 400 },
		{ "/sub/%2E./../secret/key.txt", 400 },
		{ "/sub/..", 400 },
		{ "/sub/.%2e", 400 },
		{ "/..%2fsecret/key.txt", 404 },
		{ "/%2fetc/passwd", 404 },
		{ "/small.txt%00.html", 400 },
		{ "/small%zz", 400 },
		{ "/small%2", 400 },
		{ "*", 400 },
		{ "/out", 404 },  /* a symlink out of the directory */
		{ "/abs", 404 },  /* an absolute symlink */
		{ "/fifo", 404 }, /* not a regular file */
		{ "/small.txt/", 404 },
		{ "/nope.html", 404 },
		{ "/sub/x.json/..", 400 },
	};
	struct tree t;
	struct wp_app *app;
	struct response r;
	static char big[12000];
	int fd, n;

	tree_make(&t);
	app = start_arg(f, "http", 80, t.www);
	/* Each on one kept-alive connection: none of these ends it. */
	fd = client(f, 80);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = get(f, fd, "GET", cases[i].target, NULL, &r);

		if (st != cases[i].status)
			fail_msg("%s: %d, not %d", cases[i].target, st,
				 cases[i].status);
		assert_null(strstr((char *)r.body, "SECRET"));
		assert_null(strstr((char *)r.body, "root:"));
		assert_false(r.close);
		response_free(&r);
	}
	/* 405 with Allow, its body dropped; still served afterwards. */
	send_str(f, fd,
		 "PUT /small.txt HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n"
		 "\r\nabc");
	assert_true(read_response(f, fd, &r, false));
	assert_int_equal(r.status, 405);
	assert_non_null(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/small.txt", NULL, &r), 200);
	response_free(&r);
	assert_int_equal(wp_close(fd), 0);
	/* What ends its connection: malformed, too large, too long. */
	assert_int_equal(request_status(f,
					"GET /small.txt HTTP/1.1\r\n"
					"Host: b\r\nBad Header\r\n\r\n",
					true),
			 400);
	assert_int_equal(
		request_status(f,
			       "POST /small.txt HTTP/1.1\r\nHost: b\r\n"
			       "Content-Length: 70000\r\n\r\n",
			       true),
		413);
	n = snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: b\r\nX: ");
	memset(big + n, 'v', 9000);
	memcpy(big + n + 9000, "\r\n\r\n", 5);
	assert_int_equal(request_status(f, big, true), 431);
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', 5000);
	memcpy(big + 5005, " HTTP/1.1\r\nHost: b\r\n\r\n", 23);
	assert_int_equal(request_status(f, big, true), 414);
	assert_int_equal(
		request_status(f, "GET / HTTP/2.0\r\nHost: b\r\n\r\n", true),
		505);
	wait_count(f, &app->closed, 6);
	assert_int_equal(app_counter(app, "status_400"), 10 + 1);
	assert_int_equal(app_counter(app, "status_404"), 7);
	assert_int_equal(app_counter(app, "status_405"), 1);
	assert_int_equal(app_counter(app, "status_413"), 1);
	assert_int_equal(app_counter(app, "status_414"), 1);
	assert_int_equal(app_counter(app, "status_431"), 1);
	assert_int_equal(app_counter(app, "status_505"), 1);
	/* "..": six sent or decoded; symlinks out: two. */
	assert_int_equal(app_counter(app, "escapes"), 6 + 2);
	assert_int_equal(atomic_load(&app->rejects), 11 + 7 + 5);
	assert_int_equal(atomic_load(&app->errors), 0);
	tree_remove(&t);
}

static void test_http_dir_conditional(void **state)
{
	struct fx *f = *state;
	struct tree t;
	struct wp_app *app;
	struct response r;
	char path[160], fields[128], date[WP_HTTP_DATE_LEN + 1];
	struct stat st;
	int fd;

	tree_make(&t);
	app = start_arg(f, "http", 80, t.www);
	fd = client(f, 80);
	assert_int_equal(
		get(f, fd, "GET", "/big.bin", "Range: bytes=100-199\r\n", &r),
		206);
	assert_int_equal(r.length, 100);
	assert_non_null(strstr(r.head, "\r\nContent-Range: bytes 100-199/"));
	check_big(r.body, 100, 100);
	response_free(&r);
	assert_int_equal(
		get(f, fd, "GET", "/big.bin", "Range: bytes=-70000\r\n", &r),
		206);
	assert_int_equal(r.length, 70000);
	check_big(r.body, BIG_FILE - 70000, 70000);
	response_free(&r);
	assert_int_equal(
		get(f, fd, "GET", "/big.bin", "Range: bytes=5000000-\r\n", &r),
		206);
	assert_int_equal(r.length, BIG_FILE - 5000000);
	check_big(r.body, 5000000, BIG_FILE - 5000000);
	response_free(&r);
	assert_int_equal(
		get(f, fd, "GET", "/small.txt", "Range: bytes=100-\r\n", &r),
		416);
	assert_non_null(strstr(r.head, "\r\nContent-Range: bytes */18\r\n"));
	response_free(&r);
	/* Several ranges: ignored, the whole. */
	assert_int_equal(
		get(f, fd, "GET", "/small.txt", "Range: bytes=0-1,4-5\r\n", &r),
		200);
	assert_int_equal(r.length, sizeof(small_txt) - 1);
	response_free(&r);
	/* If-Modified-Since: at the file's own date, 304 with no body;
	 * a day earlier, the file. */
	snprintf(path, sizeof(path), "%s/small.txt", t.www);
	assert_int_equal(stat(path, &st), 0);
	wp_http_format_date(st.st_mtim.tv_sec, date);
	snprintf(fields, sizeof(fields), "If-Modified-Since: %s\r\n", date);
	assert_int_equal(get(f, fd, "HEAD", "/small.txt", fields, &r), 304);
	assert_int_equal(get(f, fd, "GET", "/small.txt", fields, &r), 304);
	assert_non_null(strstr(r.head, date));
	assert_int_equal(r.length, sizeof(small_txt) - 1);
	wp_http_format_date(st.st_mtim.tv_sec - 86400, date);
	snprintf(fields, sizeof(fields), "If-Modified-Since: %s\r\n", date);
	assert_int_equal(get(f, fd, "GET", "/small.txt", fields, &r), 200);
	assert_memory_equal(r.body, small_txt, r.length);
	response_free(&r);
	assert_int_equal(get(f, fd, "GET", "/small.txt",
			     "If-Modified-Since: yesterday\r\n", &r),
			 200);
	response_free(&r);
	assert_int_equal(wp_close(fd), 0);
	wait_count(f, &app->closed, 1);
	assert_int_equal(app_counter(app, "status_206"), 3);
	assert_int_equal(app_counter(app, "status_416"), 1);
	assert_int_equal(app_counter(app, "status_304"), 2);
	assert_int_equal(atomic_load(&app->rejects), 1);
	tree_remove(&t);
}

/* A directory that is missing, or a file: refused at start, named. */
static void test_http_dir_start(void **state)
{
	struct fx *f = *state;
	const struct wp_app_type *t;
	struct tree tr;
	char err[200], path[160];
	const char *arg;
	uint16_t port;

	tree_make(&tr);
	snprintf(path, sizeof(path), "%s/nosuch", tr.www);
	assert_null(wp_app_start_arg(wp_app_find("http"), f->u->b, 80, path,
				     err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	snprintf(path, sizeof(path), "%s/small.txt", tr.www);
	assert_null(wp_app_start_arg(wp_app_find("http"), f->u->b, 80, path,
				     err, sizeof(err)));
	assert_non_null(strstr(err, "Not a directory"));
	/* The port is free again after a refusal. */
	start_arg(f, "http", 80, tr.www);
	/* Specs: only http takes a third field. */
	assert_int_equal(wp_app_parse("http:8080:/srv/a:b", &t, &port, &arg,
				      err, sizeof(err)),
			 0);
	assert_string_equal(t->name, "http");
	assert_int_equal(port, 8080);
	assert_string_equal(arg, "/srv/a:b");
	assert_int_equal(
		wp_app_parse("http:80", &t, &port, &arg, err, sizeof(err)), 0);
	assert_null(arg);
	assert_int_equal(wp_app_parse("tcp-echo:7:/srv", &t, &port, &arg, err,
				      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "takes no third field"));
	assert_int_equal(
		wp_app_parse("http:80:", &t, &port, &arg, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		wp_app_parse("http:x:/srv", &t, &port, &arg, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		wp_app_parse("http:80:/srv", &t, &port, NULL, err, sizeof(err)),
		-EINVAL);
	tree_remove(&tr);
}

/* The pure functions, on cases picked by hand. */
static void test_http_path_functions(void **state)
{
	static const struct {
		const char *in, *out;
		int ret;
		unsigned flags;
	} paths[] = {
		{ "/", "", 0, WP_HTTP_PATH_DIR },
		{ "/a/b.txt", "a/b.txt", 7, 0 },
		{ "//a///b/", "a/b", 3, WP_HTTP_PATH_DIR },
		{ "/a/./b/.", "a/b", 3, WP_HTTP_PATH_DIR },
		{ "/%61%2E%62?x=/../", "a.b", 3, 0 },
		{ "http://h:80/x#frag", "x", 1, 0 },
		{ "HTTP://h", "", 0, WP_HTTP_PATH_DIR },
		{ "/a%20b", "a b", 3, 0 },
		{ "/..", NULL, -400, WP_HTTP_PATH_DOTDOT },
		{ "/a/%2e%2E/b", NULL, -400, WP_HTTP_PATH_DOTDOT },
		{ "/a/..%2f", NULL, -404, 0 },
		{ "/%00", NULL, -400, 0 },
		{ "/%g0", NULL, -400, 0 },
		{ "/%", NULL, -400, 0 },
		{ "a", NULL, -400, 0 },
		{ "*", NULL, -400, 0 },
		{ "/...", "...", 3, 0 },
	};
	char out[64];
	uint64_t a, b;
	int64_t t;
	char date[WP_HTTP_DATE_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		unsigned flags;
		int ret = wp_http_target_path(paths[i].in, strlen(paths[i].in),
					      out, sizeof(out), &flags);

		if (ret != paths[i].ret || flags != paths[i].flags)
			fail_msg("%s: %d flags %u", paths[i].in, ret, flags);
		if (paths[i].out)
			assert_string_equal(out, paths[i].out);
	}
	assert_int_equal(wp_http_parse_range("bytes=0-0", 9, 10, &a, &b), 1);
	assert_true(a == 0 && b == 0);
	assert_int_equal(wp_http_parse_range("bytes=5-100", 11, 10, &a, &b), 1);
	assert_true(a == 5 && b == 9);
	assert_int_equal(wp_http_parse_range("bytes=-3", 8, 10, &a, &b), 1);
	assert_true(a == 7 && b == 9);
	assert_int_equal(wp_http_parse_range("bytes=-30", 9, 10, &a, &b), 1);
	assert_true(a == 0 && b == 9);
	assert_int_equal(wp_http_parse_range("bytes=10-", 9, 10, &a, &b), -416);
	assert_int_equal(wp_http_parse_range("bytes=-0", 8, 10, &a, &b), -416);
	assert_int_equal(wp_http_parse_range("bytes=0-", 8, 0, &a, &b), -416);
	assert_int_equal(wp_http_parse_range("bytes=5-4", 9, 10, &a, &b), 0);
	assert_int_equal(wp_http_parse_range("lines=1-2", 9, 10, &a, &b), 0);
	assert_int_equal(wp_http_parse_range("bytes=-", 7, 10, &a, &b), 0);
	assert_int_equal(wp_http_parse_range("bytes=99999999999999999999-", 27,
					     10, &a, &b),
			 0);
	assert_int_equal(
		wp_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t), 0);
	assert_int_equal(t, 784111777);
	wp_http_format_date(784111777, date);
	assert_string_equal(date, "Sun, 06 Nov 1994 08:49:37 GMT");
	wp_http_format_date(951782400, date); /* a leap day */
	assert_string_equal(date, "Tue, 29 Feb 2000 00:00:00 GMT");
	assert_int_equal(wp_http_parse_date(date, 29, &t), 0);
	assert_int_equal(t, 951782400);
	assert_int_equal(
		wp_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t),
		-1);
	assert_int_equal(
		wp_http_parse_date("Sun, 06 Nov 1994 24:49:37 GMT", 29, &t),
		-1);
	assert_int_equal(
		wp_http_parse_date("Sun, 31 Apr 1994 08:49:37 GMT", 29, &t),
		-1);
	assert_string_equal(wp_http_content_type("a/b.HTML", 8),
			    "text/html; charset=utf-8");
	assert_string_equal(wp_http_content_type("x.wasm", 6),
			    "application/wasm");
	assert_string_equal(wp_http_content_type("x.tar.gz", 8),
			    "application/octet-stream");
	assert_string_equal(wp_http_content_type(".png", 4),
			    "application/octet-stream");
	assert_string_equal(wp_http_content_type("d.png/x", 7),
			    "application/octet-stream");
}

/* --- stop ------------------------------------------------------------------
 */

static void test_stop_closes_all(void **state)
{
	struct fx *f = *state;
	struct wp_app *echo = start(f, "tcp-echo", 7);
	struct wp_app *src = start(f, "tcp-source", 19);
	int c[6];
	uint8_t buf[64];
	bool eof;

	for (int i = 0; i < 6; i++)
		c[i] = client(f, i < 4 ? 7 : 19);
	send_all(f, c[0], "abc", 3);
	assert_int_equal(recv_upto(f, c[0], buf, 3, &eof), 3);
	wait_count(f, &echo->accepted, 4);
	wait_count(f, &src->accepted, 2);
	/* Stop: every connection is closed with a FIN (the echo's, which
	 * have nothing unread) and the listener goes. */
	wp_app_stop(echo);
	f->app[0] = src;
	f->napps = 1;
	for (int i = 0; i < 4; i++) {
		expect_eof(f, c[i]);
		assert_int_equal(wp_close(c[i]), 0);
	}
	/* The port is free again, with nobody behind it: refused. */
	{
		struct sockaddr_in to = ufx_sin(UFX_IP_B, 7);
		int fd = wp_socket_net(f->u->a, AF_INET,
				       SOCK_STREAM | SOCK_NONBLOCK, 0),
		    err = 0;
		socklen_t len = sizeof(err);
		struct wp_pollfd p = { .fd = fd, .events = WP_POLLOUT };

		ufx_expect_errno(wp_connect(fd, UFX_SA(to), sizeof(to)),
				 EINPROGRESS);
		while (wp_poll(&p, 1, 0) == 0)
			step(f);
		wp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		assert_int_equal(err, ECONNREFUSED);
		assert_int_equal(wp_close(fd), 0);
	}
	wp_app_stop(src);
	f->napps = 0;
	for (int i = 4; i < 6; i++) {
		/* The stream, then its end. */
		for (;;) {
			size_t n = recv_upto(f, c[i], buf, sizeof(buf), &eof);

			if (eof || n == 0)
				break;
		}
		assert_true(eof);
		assert_int_equal(wp_close(c[i]), 0);
	}
}

static void test_parse_specs(void **state)
{
	static const char *const names[] = { "tcp-echo", "tcp-sink",
					     "tcp-source", "http" };
	const struct wp_app_type *t;
	uint16_t port;
	char err[200];

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		char spec[32];

		snprintf(spec, sizeof(spec), "%s:8080", names[i]);
		assert_int_equal(
			wp_app_parse(spec, &t, &port, NULL, err, sizeof(err)),
			0);
		assert_string_equal(t->name, names[i]);
		assert_int_equal(t->sock_type, SOCK_STREAM);
		assert_int_equal(port, 8080);
	}
	assert_int_equal(
		wp_app_parse("ftp:21", &t, &port, NULL, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "tcp-echo, tcp-sink, tcp-source, http"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_specs),
		cmocka_unit_test_setup_teardown(test_echo_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_backpressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sink_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_source_stream, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_source_peer_vanishes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_isolation, setup,
						teardown),
		cmocka_unit_test(test_http_path_functions),
		cmocka_unit_test_setup_teardown(test_http_dir_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_dir_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_dir_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_dir_conditional,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_dir_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_closes_all, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
