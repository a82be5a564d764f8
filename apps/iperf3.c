// SPDX-License-Identifier: MIT
/*
 * An iperf3 server (`--app iperf3:5201`): a stock `iperf3 -c ADDR` runs
 * its tests against wirepath's sockets as it would against Linux's.
 *
 * The protocol (iperf3's control channel), as the server sees it:
 *
 *   client                                   server
 *   connect, 37-byte cookie (36 chars + NUL) ->
 *                                         <- PARAM_EXCHANGE (9)
 *   u32 length (network order), JSON     ->   tcp|udp, parallel, reverse,
 *                                             len, bandwidth, ...
 *                                         <- CREATE_STREAMS (10)
 *   TCP: per stream, connect + the cookie ->  stream ids 1, 3, 4, 5...
 *   UDP: per stream, a 4-byte datagram    ->  (iperf3 numbers them so)
 *        "9876"                           <- "6789" from the port
 *                                         <- TEST_START (1), TEST_RUNNING (2)
 *   data: client to server, or server to client with -R (UDP datagrams
 *   carry sec, usec and a packet count, network order)
 *   TEST_END (4)                         ->
 *                                         <- EXCHANGE_RESULTS (13)
 *   u32 length, its results JSON         ->
 *                                         <- u32 length, ours
 *                                         <- DISPLAY_RESULTS (14)
 *   IPERF_DONE (16)                      ->   both close
 *
 * One test at a time, as iperf3 -s: another client is told ACCESS_DENIED
 * (-1). Control messages are single signed bytes; any byte that is not
 * the one the state expects, a JSON message that is not one valid object
 * or is longer than IP3_JSON_MAX, parameters out of range, or options
 * this server does not have (--bidir, SCTP, authentication) end the test:
 * SERVER_ERROR (-2) with iperf3's error number, then the control
 * connection is closed cleanly (FIN), and each is counted by name.
 *
 * One thread, one epoll instance, non-blocking I/O (MSG_DONTWAIT): the
 * control connection, connections still sending their cookie, the data
 * streams, the UDP socket (app->fd, which also carries the stop: its
 * shutdown wakes the loop). Control writes block, bounded by SO_SNDTIMEO.
 * Results report the process's CPU time (getrusage: wirepath's cores
 * included) and, for a sending TCP stream, TCP_INFO's tcpi_total_retrans.
 */
#include "app.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "json.h"
#include "wirepath/socket.h"

#define IP3_COOKIE 37
#define IP3_MAX_STREAMS 128	  /* iperf3's MAX_STREAMS */
#define IP3_JSON_MAX (64 * 1024)  /* a control message's JSON, at most */
#define IP3_BLK_MAX (1024 * 1024) /* iperf3's MAX_BLOCKSIZE */
#define IP3_UDP_BLK_MAX 65507	  /* iperf3's MAX_UDP_BLOCKSIZE */
#define IP3_PENDING 16		  /* connections still sending a cookie */
#define IP3_PENDING_NS (10 * 1000000000ull)
#define IP3_CTRL_IDLE_NS (30 * 1000000000ull) /* outside TEST_RUNNING */
#define IP3_BURST 16	  /* reads or writes per stream per wake-up */
#define IP3_UDP_BURST 256 /* datagrams per stream per wake-up, with -R */
#define IP3_UDP_BATCH 32
#define IP3_UDP_BUF 65536

/* iperf3's states (iperf_api.h), signed bytes on the wire. */
enum {
	TEST_START = 1,
	TEST_RUNNING = 2,
	TEST_END = 4,
	PARAM_EXCHANGE = 9,
	CREATE_STREAMS = 10,
	CLIENT_TERMINATE = 12,
	EXCHANGE_RESULTS = 13,
	DISPLAY_RESULTS = 14,
	IPERF_DONE = 16,
	ACCESS_DENIED = -1,
	SERVER_ERROR = -2,
};

/* iperf3's error numbers (iperf_api.h) sent with SERVER_ERROR. */
enum {
	IEUNIMP = 13,
	IEUDPBLOCKSIZE = 20,
	IEMESSAGE = 110,
	IERECVPARAMS = 114,
	IERECVRESULTS = 117,
};

/* The UDP stream handshake: 32-bit values in the sender's byte order. */
#define UDP_CONNECT_MSG 0x36373839u
#define UDP_CONNECT_REPLY 0x39383736u
#define LEGACY_UDP_CONNECT_MSG 123456789u

enum ip3_counter {
	IP3_TESTS,	   /* tests run to IPERF_DONE */
	IP3_BAD_MESSAGE,   /* a control byte the state did not expect */
	IP3_BAD_PARAMS,	   /* parameters: not JSON, too long, out of range */
	IP3_BAD_RESULTS,   /* the client's results: not JSON, too long */
	IP3_BAD_COOKIE,	   /* a cookie that is not 36 characters and NUL */
	IP3_ACCESS_DENIED, /* a client while a test runs; table full */
	IP3_CTRL_CLOSED,   /* the control connection ended mid-test */
	IP3_UNSUPPORTED,   /* --bidir, SCTP, authentication, -R with -n */
	IP3_TIMEOUTS,	   /* a peer silent past the limits above */
	IP3_UDP_DROPPED,   /* datagrams of no test, short, or late */
	IP3__MAX
};

static const char *const ip3_counter_names[IP3__MAX] = {
	"tests",      "bad_message",   "bad_params",  "bad_results",
	"bad_cookie", "access_denied", "ctrl_closed", "unsupported",
	"timeouts",   "udp_dropped",
};

/* epoll data: kind << 32 | index. */
enum { EV_UDP, EV_LISTEN, EV_PENDING, EV_CTRL, EV_STREAM };

struct ip3_stream {
	int fd;			 /* TCP; -1 for UDP or once closed */
	struct sockaddr_in peer; /* UDP */
	int id;
	uint64_t bytes, packets; /* counted while TEST_RUNNING */
	uint64_t sent;		 /* -R: all bytes sent (pacing) */
	uint64_t errors, ooo;	 /* UDP: lost, out of order */
	double jitter, prev_transit;
	bool seen;	  /* UDP: a datagram counted (jitter has a base) */
	bool paused;	  /* -R -b: over its rate, EPOLLOUT off until due */
	uint32_t blk_off; /* -R: bytes of the current block already sent */
	uint64_t end_ns;
	int64_t retrans; /* -1 unless a sending TCP stream */
};

struct ip3_pending {
	int fd; /* -1: free */
	size_t got;
	uint8_t cookie[IP3_COOKIE];
	uint64_t since;
};

struct ip3 {
	struct wp_app *app;
	int listen_fd, ep;
	struct ip3_pending pending[IP3_PENDING];

	/* The test; ctrl < 0: none. */
	int ctrl;
	int8_t state; /* the last state sent */
	uint8_t cookie[IP3_COOKIE];
	uint8_t *in; /* control input: a byte or u32 + JSON */
	size_t have;
	uint64_t last_input;
	bool udp, reverse, cnt64, server_output;
	unsigned parallel, nstreams;
	uint32_t len;
	uint64_t rate; /* bits/s per stream, 0: unlimited */
	int window;
	struct ip3_stream *streams;
	uint64_t start_ns, end_ns;
	struct rusage ru0;
	uint8_t *blk; /* the block sent with -R */
	uint8_t *rx;  /* receive buffer */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void count(struct ip3 *t, enum ip3_counter c)
{
	wp_app_count(&t->app->counter[c], 1);
}

static uint64_t ev(unsigned kind, unsigned idx)
{
	return (uint64_t)kind << 32 | idx;
}

static int ep_add(struct ip3 *t, int fd, uint32_t events, uint64_t data)
{
	struct wp_epoll_event e = { .events = events, .data.u64 = data };

	return wp_epoll_ctl(t->ep, WP_EPOLL_CTL_ADD, fd, &e);
}

static void ep_mod(struct ip3 *t, int fd, uint32_t events, uint64_t data)
{
	struct wp_epoll_event e = { .events = events, .data.u64 = data };

	wp_epoll_ctl(t->ep, WP_EPOLL_CTL_MOD, fd, &e);
}

/* A whole control write; a blocking send, bounded by SO_SNDTIMEO. */
static int ctrl_send(struct ip3 *t, const void *buf, size_t len)
{
	ssize_t r = wp_send(t->ctrl, buf, len, MSG_NOSIGNAL);

	if (r != (ssize_t)len) {
		wp_app_count(&t->app->errors, 1);
		return -1;
	}
	wp_app_count(&t->app->tx_bytes, len);
	return 0;
}

static int send_state(struct ip3 *t, int8_t state)
{
	t->state = state;
	return ctrl_send(t, &state, 1);
}

/*
 * The length and the JSON in one send, so they leave in one segment
 * when they fit: iperf3's client reads the JSON right after its length
 * from a non-blocking socket, and takes a short read as a broken one.
 * json has 4 bytes of room before it.
 */
static int send_json(struct ip3 *t, char *json, size_t len)
{
	uint32_t n = htonl((uint32_t)len);

	memcpy(json - 4, &n, 4);
	return ctrl_send(t, json - 4, len + 4);
}

/* The test is over (however it ended): every socket of it closed. */
static void end_test(struct ip3 *t)
{
	for (unsigned i = 0; i < t->nstreams; i++)
		if (t->streams[i].fd >= 0)
			wp_close(t->streams[i].fd);
	free(t->streams);
	t->streams = NULL;
	t->nstreams = 0;
	if (t->ctrl >= 0)
		wp_close(t->ctrl);
	t->ctrl = -1;
	t->have = 0;
	t->state = 0;
}

/* SERVER_ERROR with iperf3's error number, then a clean close. */
static void fail_test(struct ip3 *t, enum ip3_counter why, int ierr)
{
	int32_t v[2] = { (int32_t)htonl((uint32_t)ierr), 0 };

	count(t, why);
	if (send_state(t, SERVER_ERROR) == 0)
		ctrl_send(t, v, sizeof(v));
	end_test(t);
}

/* --- parameters ------------------------------------------------------- */

static int params_apply(struct ip3 *t, const struct wp_json_member *m,
			unsigned n)
{
	bool tcp = false, b = false;
	int64_t v;

	/* What a client leaves out is iperf3's default, not the last
	 * test's value. */
	t->udp = t->reverse = false;

	if (wp_json_get(m, n, "sctp") || wp_json_get(m, n, "authtoken") ||
	    (wp_json_read_bool(m, n, "bidirectional", &b) == 0 && b))
		return -EOPNOTSUPP;
	if (wp_json_read_bool(m, n, "tcp", &tcp) == -EINVAL ||
	    wp_json_read_bool(m, n, "udp", &t->udp) == -EINVAL)
		return -EINVAL;
	if (tcp == t->udp) /* exactly one of them */
		return -EINVAL;
	if (wp_json_read_bool(m, n, "reverse", &t->reverse) == -EINVAL)
		return -EINVAL;
	t->cnt64 = wp_json_get(m, n, "udp_counters_64bit") != NULL;
	t->server_output = wp_json_get(m, n, "get_server_output") != NULL;
	switch (wp_json_read_int(m, n, "parallel", 1, IP3_MAX_STREAMS, &v)) {
	case 0:
		t->parallel = (unsigned)v;
		break;
	case -ENOENT:
		t->parallel = 1;
		break;
	default:
		return -EINVAL;
	}
	switch (wp_json_read_int(m, n, "len", 1, IP3_BLK_MAX, &v)) {
	case 0:
		t->len = (uint32_t)v;
		break;
	case -ENOENT:
		t->len = t->udp ? 1460 : 128 * 1024;
		break;
	default:
		return -EINVAL;
	}
	if (t->udp && t->len > IP3_UDP_BLK_MAX)
		return -EINVAL;
	/* The header a UDP datagram carries. */
	if (t->udp && t->len < (t->cnt64 ? 16u : 12u))
		return -EINVAL;
	switch (wp_json_read_int(m, n, "bandwidth", 0, INT64_MAX, &v)) {
	case 0:
		t->rate = (uint64_t)v;
		break;
	case -ENOENT:
		t->rate = 0;
		break;
	default:
		return -EINVAL;
	}
	switch (wp_json_read_int(m, n, "window", 0, INT32_MAX, &v)) {
	case 0:
		t->window = (int)v;
		break;
	case -ENOENT:
		t->window = 0;
		break;
	default:
		return -EINVAL;
	}
	/* The server ends a sending test only on TEST_END: a byte or block
	 * count it would have to count itself is not done here. */
	if (t->reverse &&
	    ((wp_json_read_int(m, n, "num", 1, INT64_MAX, &v) == 0) ||
	     (wp_json_read_int(m, n, "blockcount", 1, INT64_MAX, &v) == 0)))
		return -EOPNOTSUPP;
	return 0;
}

static void on_params(struct ip3 *t, const char *json, size_t len)
{
	struct wp_json_member m[64];
	unsigned n;
	int ret = wp_json_scan(json, len, m, 64, &n);

	if (ret == 0)
		ret = params_apply(t, m, n);
	if (ret == -EOPNOTSUPP) {
		fail_test(t, IP3_UNSUPPORTED, IEUNIMP);
		return;
	}
	if (ret == 0 && t->udp && t->reverse && t->len > WP_SOCKET_TX_MAX) {
		fail_test(t, IP3_UNSUPPORTED, IEUDPBLOCKSIZE);
		return;
	}
	if (ret) {
		fail_test(t, IP3_BAD_PARAMS, IERECVPARAMS);
		return;
	}
	t->streams = calloc(t->parallel, sizeof(*t->streams));
	free(t->blk);
	t->blk = t->reverse ? calloc(1, t->len) : NULL;
	if (!t->streams || (t->reverse && !t->blk)) {
		wp_app_count(&t->app->errors, 1);
		end_test(t);
		return;
	}
	/* iperf3's payload is random; a fixed pattern does as well. */
	if (t->blk)
		for (uint32_t i = 0; i < t->len; i++)
			t->blk[i] = (uint8_t)('0' + i % 64);
	if (send_state(t, CREATE_STREAMS))
		end_test(t);
}

/* --- the test's course -------------------------------------------------- */

static void start_test(struct ip3 *t)
{
	t->start_ns = now_ns();
	getrusage(RUSAGE_SELF, &t->ru0);
	if (send_state(t, TEST_START) || send_state(t, TEST_RUNNING)) {
		end_test(t);
		return;
	}
	if (t->reverse && !t->udp)
		for (unsigned i = 0; i < t->nstreams; i++)
			ep_mod(t, t->streams[i].fd, WP_EPOLLIN | WP_EPOLLOUT,
			       ev(EV_STREAM, i));
}

/* iperf3 numbers streams 1, 3, 4, 5, ... (iperf_add_stream). */
static int stream_id(unsigned i)
{
	return i == 0 ? 1 : (int)i + 2;
}

static struct ip3_stream *new_stream(struct ip3 *t)
{
	struct ip3_stream *sp = &t->streams[t->nstreams];

	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
	sp->id = stream_id(t->nstreams);
	sp->retrans = -1;
	t->nstreams++;
	return sp;
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static double cpu_seconds(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + r->ru_utime.tv_usec / 1e6 +
	       (double)r->ru_stime.tv_sec + r->ru_stime.tv_usec / 1e6;
}

static void on_test_end(struct ip3 *t)
{
	uint64_t now = now_ns();

	t->end_ns = now;
	for (unsigned i = 0; i < t->nstreams; i++) {
		struct ip3_stream *sp = &t->streams[i];

		sp->end_ns = now;
		if (sp->fd < 0)
			continue;
		if (t->reverse) {
			struct tcp_info ti;
			socklen_t l = sizeof(ti);

			if (wp_getsockopt(sp->fd, IPPROTO_TCP, TCP_INFO, &ti,
					  &l) == 0)
				sp->retrans = ti.tcpi_total_retrans;
			/* Fed until the client's results (tcp_send). */
			if (sp->paused) {
				sp->paused = false;
				ep_mod(t, sp->fd, WP_EPOLLIN | WP_EPOLLOUT,
				       ev(EV_STREAM, i));
			}
		}
	}
	if (send_state(t, EXCHANGE_RESULTS))
		end_test(t);
}

/* Our results (iperf_api.c send_results), as the client reads them. */
static void send_results(struct ip3 *t)
{
	size_t cap = 1024 + 256 * (size_t)t->nstreams, off = 0;
	char *buf = malloc(4 + cap), *j = buf + 4, cc[16] = "";
	double wall = seconds(t->end_ns - t->start_ns);
	double user = 0, sys = 0;
	struct rusage ru;
	socklen_t l = sizeof(cc);

	if (!buf) {
		wp_app_count(&t->app->errors, 1);
		end_test(t);
		return;
	}
	getrusage(RUSAGE_SELF, &ru);
	if (wall > 0) {
		user = ((double)(ru.ru_utime.tv_sec - t->ru0.ru_utime.tv_sec) +
			(ru.ru_utime.tv_usec - t->ru0.ru_utime.tv_usec) / 1e6) /
		       wall * 100;
		sys = (cpu_seconds(&ru) - cpu_seconds(&t->ru0)) / wall * 100 -
		      user;
	}
	off += (size_t)snprintf(j + off, cap - off,
				"{\"cpu_util_total\":%.3f,\"cpu_util_user\":"
				"%.3f,\"cpu_util_system\":%.3f,"
				"\"sender_has_retransmits\":%d,",
				user + sys, user, sys,
				!t->reverse ? -1
				: t->udp    ? 0
					    : 1);
	if (!t->udp && t->nstreams && t->streams[0].fd >= 0 &&
	    wp_getsockopt(t->streams[0].fd, IPPROTO_TCP, TCP_CONGESTION, cc,
			  &l) == 0) {
		cc[sizeof(cc) - 1] = '\0';
		off += (size_t)snprintf(j + off, cap - off,
					"\"congestion_used\":\"%s\",", cc);
	}
	if (t->server_output) {
		uint64_t total = 0;

		for (unsigned i = 0; i < t->nstreams; i++)
			total += t->streams[i].bytes;
		off += (size_t)snprintf(
			j + off, cap - off,
			"\"server_output_text\":\"wirepath iperf3: %u "
			"stream(s), %llu bytes %s in %.3f s\\n\",",
			t->nstreams, (unsigned long long)total,
			t->reverse ? "sent" : "received", wall);
	}
	off += (size_t)snprintf(j + off, cap - off, "\"streams\":[");
	for (unsigned i = 0; i < t->nstreams; i++) {
		const struct ip3_stream *sp = &t->streams[i];

		off += (size_t)snprintf(
			j + off, cap - off,
			"%s{\"id\":%d,\"bytes\":%llu,\"retransmits\":%lld,"
			"\"jitter\":%.9f,\"errors\":%llu,\"packets\":%llu,"
			"\"start_time\":0,\"end_time\":%.6f}",
			i ? "," : "", sp->id, (unsigned long long)sp->bytes,
			(long long)sp->retrans, sp->jitter,
			(unsigned long long)sp->errors,
			(unsigned long long)sp->packets,
			seconds(sp->end_ns - t->start_ns));
	}
	off += (size_t)snprintf(j + off, cap - off, "]}");
	if (send_json(t, j, off) || send_state(t, DISPLAY_RESULTS))
		end_test(t);
	free(buf);
}

static void on_results(struct ip3 *t, const char *json, size_t len)
{
	struct wp_json_member m[16];
	unsigned n;
	int ret = wp_json_scan(json, len, m, 16, &n);

	/* Only checked: what the client measured is the client's to show. */
	if ((ret && ret != -E2BIG) ||
	    !wp_json_get(m, n < 16 ? n : 16, "streams")) {
		fail_test(t, IP3_BAD_RESULTS, IERECVRESULTS);
		return;
	}
	send_results(t);
}

/* --- the control connection -------------------------------------------- */

static bool want_json(const struct ip3 *t)
{
	return t->state == PARAM_EXCHANGE || t->state == EXCHANGE_RESULTS;
}

/* One whole message in t->in (t->have bytes): act on it. */
static void on_ctrl_message(struct ip3 *t)
{
	int8_t b = (int8_t)t->in[0];

	t->have = 0;
	switch (t->state) {
	case PARAM_EXCHANGE:
		on_params(t, (const char *)t->in + 4,
			  ntohl(*(uint32_t *)t->in));
		return;
	case EXCHANGE_RESULTS:
		on_results(t, (const char *)t->in + 4,
			   ntohl(*(uint32_t *)t->in));
		return;
	case CREATE_STREAMS:
	case TEST_START:
	case TEST_RUNNING:
		if (b == TEST_END) {
			on_test_end(t);
			return;
		}
		break;
	case DISPLAY_RESULTS:
		if (b == IPERF_DONE) {
			count(t, IP3_TESTS);
			end_test(t);
			return;
		}
		break;
	}
	if (b == CLIENT_TERMINATE) { /* the client was interrupted */
		count(t, IP3_CTRL_CLOSED);
		end_test(t);
		return;
	}
	fail_test(t, IP3_BAD_MESSAGE, IEMESSAGE);
}

/* Read what the state expects; act on each whole message. */
static void on_ctrl(struct ip3 *t)
{
	while (t->ctrl >= 0) {
		size_t need = 1;
		ssize_t r;

		if (want_json(t)) {
			need = 4;
			if (t->have >= 4) {
				uint32_t n = ntohl(*(uint32_t *)t->in);

				if (n == 0 || n > IP3_JSON_MAX) {
					fail_test(t,
						  t->state == PARAM_EXCHANGE
							  ? IP3_BAD_PARAMS
							  : IP3_BAD_RESULTS,
						  t->state == PARAM_EXCHANGE
							  ? IERECVPARAMS
							  : IERECVRESULTS);
					return;
				}
				need = 4 + n;
			}
		}
		r = wp_recv(t->ctrl, t->in + t->have, need - t->have,
			    MSG_DONTWAIT);
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) {
			/* After DISPLAY_RESULTS a close is as good as
			 * IPERF_DONE (the client has what it wanted). */
			if (r == 0 && t->state == DISPLAY_RESULTS &&
			    t->have == 0)
				count(t, IP3_TESTS);
			else
				count(t, IP3_CTRL_CLOSED);
			end_test(t);
			return;
		}
		wp_app_count(&t->app->rx_bytes, (uint64_t)r);
		t->have += (size_t)r;
		t->last_input = now_ns();
		if (t->have == need && (!want_json(t) || need > 4))
			on_ctrl_message(t);
	}
}

/*
 * A test whose client may be done: its IPERF_DONE or close can sit
 * unread on the control socket (the client exits as soon as it has sent
 * it; a lossy wire delays it), when another client comes or the server
 * stops. Read it now. A client that has its results and has not yet said
 * so has all it wanted, as with a close after DISPLAY_RESULTS: the test
 * counts.
 */
static void settle_done(struct ip3 *t)
{
	on_ctrl(t);
	if (t->ctrl >= 0 && t->state == DISPLAY_RESULTS) {
		count(t, IP3_TESTS);
		end_test(t);
	}
}

/* --- new connections: control or stream, by their cookie ---------------- */

static bool cookie_ok(const uint8_t *c)
{
	for (int i = 0; i < IP3_COOKIE - 1; i++)
		if (c[i] < 0x21 || c[i] > 0x7e)
			return false;
	return c[IP3_COOKIE - 1] == '\0';
}

static void deny(struct ip3 *t, int fd, enum ip3_counter why)
{
	int8_t s = ACCESS_DENIED;

	count(t, why);
	wp_send(fd, &s, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	wp_close(fd);
}

static void become_ctrl(struct ip3 *t, struct ip3_pending *p)
{
	struct timeval tv = { .tv_sec = 5 };

	t->ctrl = p->fd;
	memcpy(t->cookie, p->cookie, IP3_COOKIE);
	t->have = 0;
	t->last_input = now_ns();
	wp_setsockopt(t->ctrl, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ep_mod(t, t->ctrl, WP_EPOLLIN, ev(EV_CTRL, 0));
	if (send_state(t, PARAM_EXCHANGE))
		end_test(t);
}

static void become_stream(struct ip3 *t, struct ip3_pending *p)
{
	struct ip3_stream *sp = new_stream(t);
	int one = 1;

	sp->fd = p->fd;
	if (t->window) {
		wp_setsockopt(sp->fd, SOL_SOCKET, SO_RCVBUF, &t->window,
			      sizeof(t->window));
		wp_setsockopt(sp->fd, SOL_SOCKET, SO_SNDBUF, &t->window,
			      sizeof(t->window));
	}
	wp_setsockopt(sp->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ep_mod(t, sp->fd, WP_EPOLLIN, ev(EV_STREAM, t->nstreams - 1));
	if (t->nstreams == t->parallel)
		start_test(t);
}

static void on_pending(struct ip3 *t, unsigned i)
{
	struct ip3_pending *p = &t->pending[i];
	ssize_t r = wp_recv(p->fd, p->cookie + p->got, IP3_COOKIE - p->got,
			    MSG_DONTWAIT);

	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) { /* gone before saying who it is */
		wp_close(p->fd);
		p->fd = -1;
		return;
	}
	p->got += (size_t)r;
	if (p->got < IP3_COOKIE)
		return;
	/* Another client: the one we have may already be done. */
	if (t->ctrl >= 0 && memcmp(p->cookie, t->cookie, IP3_COOKIE) != 0)
		settle_done(t);
	if (!cookie_ok(p->cookie)) {
		count(t, IP3_BAD_COOKIE);
		wp_close(p->fd);
	} else if (t->ctrl < 0) {
		become_ctrl(t, p);
	} else if (!t->udp && t->state == CREATE_STREAMS &&
		   t->nstreams < t->parallel &&
		   memcmp(p->cookie, t->cookie, IP3_COOKIE) == 0) {
		become_stream(t, p);
	} else {
		/* A second client, or a stream nobody asked for. */
		deny(t, p->fd, IP3_ACCESS_DENIED);
	}
	p->fd = -1;
}

static void on_listen(struct ip3 *t)
{
	for (;;) {
		int fd = wp_accept4(t->listen_fd, NULL, NULL, 0);
		unsigned i;

		if (fd < 0) {
			if (errno != EAGAIN)
				wp_app_count(&t->app->errors, 1);
			return;
		}
		for (i = 0; i < IP3_PENDING && t->pending[i].fd >= 0; i++)
			;
		if (i == IP3_PENDING) {
			deny(t, fd, IP3_ACCESS_DENIED);
			continue;
		}
		t->pending[i].fd = fd;
		t->pending[i].got = 0;
		t->pending[i].since = now_ns();
		if (ep_add(t, fd, WP_EPOLLIN, ev(EV_PENDING, i))) {
			wp_app_count(&t->app->errors, 1);
			wp_close(fd);
			t->pending[i].fd = -1;
		}
	}
}

/* --- data ---------------------------------------------------------------- */

/* Bytes a stream may have sent by now at t->rate (0: no limit). */
static bool may_send(const struct ip3 *t, const struct ip3_stream *sp,
		     uint64_t now)
{
	double allowed;

	if (!t->rate)
		return true;
	allowed = (double)t->rate / 8 * seconds(now - t->start_ns);
	return (double)sp->sent < allowed;
}

/*
 * -R over TCP: blocks of len bytes, whole. After TEST_END iperf3's
 * client drains its streams with blocking reads of whole blocks before
 * it looks at the control connection again; Linux's deep send buffers
 * keep feeding it meanwhile. Here the streams go on sending (uncounted)
 * until the client's results arrive, which it sends only once it has
 * read EXCHANGE_RESULTS, and a block begun is always finished.
 */
static void tcp_send(struct ip3 *t, unsigned i)
{
	struct ip3_stream *sp = &t->streams[i];
	bool running = t->state == TEST_RUNNING;
	bool feeding = running || t->state == EXCHANGE_RESULTS;
	uint64_t now = now_ns();

	for (int k = 0; k < IP3_BURST; k++) {
		ssize_t r;

		if (sp->blk_off == 0 && !feeding) {
			ep_mod(t, sp->fd, WP_EPOLLIN, ev(EV_STREAM, i));
			return;
		}
		if (sp->blk_off == 0 && running && !may_send(t, sp, now)) {
			/* Level-triggered EPOLLOUT would spin: off until
			 * the rate allows more (tcp_resume). */
			sp->paused = true;
			ep_mod(t, sp->fd, WP_EPOLLIN, ev(EV_STREAM, i));
			return;
		}
		r = wp_send(sp->fd, t->blk + sp->blk_off, t->len - sp->blk_off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r <= 0)
			return;
		sp->blk_off = (sp->blk_off + (uint32_t)r) % t->len;
		sp->sent += (uint64_t)r;
		if (running)
			sp->bytes += (uint64_t)r;
		wp_app_count(&t->app->tx_bytes, (uint64_t)r);
	}
}

static void on_stream(struct ip3 *t, unsigned i, uint32_t events)
{
	struct ip3_stream *sp = &t->streams[i];
	bool running = t->state == TEST_RUNNING;

	if (t->reverse && (events & WP_EPOLLOUT))
		tcp_send(t, i);
	if (sp->fd < 0 || !(events & (WP_EPOLLIN | WP_EPOLLHUP | WP_EPOLLERR)))
		return;
	for (int k = 0; k < IP3_BURST; k++) {
		ssize_t r = wp_recv(sp->fd, t->rx, IP3_BLK_MAX, MSG_DONTWAIT);

		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) { /* the client closed it (or reset it) */
			wp_close(sp->fd);
			sp->fd = -1;
			return;
		}
		wp_app_count(&t->app->rx_bytes, (uint64_t)r);
		if (running && !t->reverse)
			sp->bytes += (uint64_t)r;
	}
}

static struct ip3_stream *udp_stream_of(struct ip3 *t,
					const struct sockaddr_in *from)
{
	for (unsigned i = 0; i < t->nstreams; i++)
		if (t->streams[i].peer.sin_addr.s_addr ==
			    from->sin_addr.s_addr &&
		    t->streams[i].peer.sin_port == from->sin_port)
			return &t->streams[i];
	return NULL;
}

static void udp_connect(struct ip3 *t, const struct sockaddr_in *from)
{
	uint32_t reply = UDP_CONNECT_REPLY;
	struct ip3_stream *sp = udp_stream_of(t, from);

	if (!sp) {
		if (t->nstreams == t->parallel) {
			count(t, IP3_UDP_DROPPED);
			return;
		}
		sp = new_stream(t);
		sp->peer = *from;
	}
	if (wp_sendto(t->app->fd, &reply, sizeof(reply), MSG_DONTWAIT,
		      (const struct sockaddr *)from, sizeof(*from)) < 0)
		wp_app_count(&t->app->errors, 1);
	if (t->nstreams == t->parallel && t->state == CREATE_STREAMS)
		start_test(t);
}

/* iperf_udp_recv: loss from the packet count, jitter (RFC 1889). */
static void udp_data(struct ip3 *t, struct ip3_stream *sp, const uint8_t *d,
		     size_t len)
{
	uint32_t sec, usec, c32;
	uint64_t pcount;
	struct timespec ts;
	double transit, dt;

	if (len < (t->cnt64 ? 16u : 12u)) {
		count(t, IP3_UDP_DROPPED);
		return;
	}
	memcpy(&sec, d, 4);
	memcpy(&usec, d + 4, 4);
	if (t->cnt64) {
		uint64_t be;

		memcpy(&be, d + 8, 8);
		pcount = be64toh(be);
	} else {
		memcpy(&c32, d + 8, 4);
		pcount = ntohl(c32);
	}
	sp->bytes += len;
	if (pcount >= sp->packets + 1) {
		if (pcount > sp->packets + 1)
			sp->errors += pcount - 1 - sp->packets;
		sp->packets = pcount;
	} else {
		sp->ooo++;
		if (sp->errors)
			sp->errors--;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	transit = (double)ts.tv_sec + ts.tv_nsec / 1e9 -
		  ((double)ntohl(sec) + ntohl(usec) / 1e6);
	if (!sp->seen) /* the first: no jitter yet */
		sp->prev_transit = transit;
	sp->seen = true;
	dt = transit - sp->prev_transit;
	sp->jitter += ((dt < 0 ? -dt : dt) - sp->jitter) / 16.0;
	sp->prev_transit = transit;
}

static void on_udp_datagram(struct ip3 *t, const uint8_t *d, size_t len,
			    const struct sockaddr_in *from)
{
	struct ip3_stream *sp;
	uint32_t v;

	if (t->ctrl < 0 || !t->udp) {
		count(t, IP3_UDP_DROPPED);
		return;
	}
	if (len == 4 && t->state == CREATE_STREAMS) {
		memcpy(&v, d, 4);
		if (v == UDP_CONNECT_MSG || v == LEGACY_UDP_CONNECT_MSG ||
		    v == htonl(UDP_CONNECT_MSG)) {
			udp_connect(t, from);
			return;
		}
	}
	sp = udp_stream_of(t, from);
	if (!sp || t->state != TEST_RUNNING || t->reverse) {
		count(t, IP3_UDP_DROPPED);
		return;
	}
	udp_data(t, sp, d, len);
}

/* Drain the UDP socket; false once it is shut down (stop). */
static bool on_udp(struct ip3 *t, struct wp_mmsghdr *vec,
		   struct sockaddr_in *from, struct iovec *iov)
{
	for (;;) {
		int n;

		for (unsigned k = 0; k < IP3_UDP_BATCH; k++) {
			iov[k].iov_base = t->rx + (size_t)k * IP3_UDP_BUF;
			iov[k].iov_len = IP3_UDP_BUF;
			memset(&vec[k].msg_hdr, 0, sizeof(vec[k].msg_hdr));
			vec[k].msg_hdr.msg_iov = &iov[k];
			vec[k].msg_hdr.msg_iovlen = 1;
			vec[k].msg_hdr.msg_name = &from[k];
			vec[k].msg_hdr.msg_namelen = sizeof(from[k]);
		}
		n = wp_recvmmsg(t->app->fd, vec, IP3_UDP_BATCH, MSG_DONTWAIT,
				NULL);
		if (n == 0) /* shut down (wp_app_stop) and drained */
			return false;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			wp_app_count(&t->app->errors, 1);
			return !atomic_load_explicit(&t->app->stop,
						     memory_order_acquire);
		}
		for (int k = 0; k < n; k++) {
			wp_app_count(&t->app->rx_bytes, vec[k].msg_len);
			on_udp_datagram(t, iov[k].iov_base, vec[k].msg_len,
					&from[k]);
		}
		wp_app_count(&t->app->handled, (uint64_t)n);
	}
}

/*
 * -R over UDP: datagrams of len bytes at the rate, stamped and counted;
 * like TCP's (tcp_send), fed on uncounted until the client's results.
 */
static void udp_send(struct ip3 *t)
{
	bool running = t->state == TEST_RUNNING;
	uint64_t now = now_ns();

	for (unsigned i = 0; i < t->nstreams; i++) {
		struct ip3_stream *sp = &t->streams[i];

		for (int k = 0; k < IP3_UDP_BURST && may_send(t, sp, now);
		     k++) {
			struct timespec ts;
			uint32_t h[2];

			clock_gettime(CLOCK_REALTIME, &ts);
			h[0] = htonl((uint32_t)ts.tv_sec);
			h[1] = htonl((uint32_t)(ts.tv_nsec / 1000));
			memcpy(t->blk, h, sizeof(h));
			if (t->cnt64) {
				uint64_t c = htobe64(sp->sent / t->len + 1);

				memcpy(t->blk + 8, &c, 8);
			} else {
				uint32_t c = htonl(
					(uint32_t)(sp->sent / t->len + 1));

				memcpy(t->blk + 8, &c, 4);
			}
			if (wp_sendto(t->app->fd, t->blk, t->len, MSG_DONTWAIT,
				      (const struct sockaddr *)&sp->peer,
				      sizeof(sp->peer)) < 0)
				break;
			sp->sent += t->len;
			if (running) {
				sp->packets++;
				sp->bytes += t->len;
			}
			wp_app_count(&t->app->tx_bytes, t->len);
		}
	}
}

/* -R -b over TCP: streams paused by their rate, writable again when due. */
static void tcp_resume(struct ip3 *t)
{
	uint64_t now = now_ns();

	for (unsigned i = 0; i < t->nstreams; i++) {
		struct ip3_stream *sp = &t->streams[i];

		if (sp->paused && sp->fd >= 0 && may_send(t, sp, now)) {
			sp->paused = false;
			ep_mod(t, sp->fd, WP_EPOLLIN | WP_EPOLLOUT,
			       ev(EV_STREAM, i));
		}
	}
}

/* --- the loop --------------------------------------------------------------
 */

static void expire(struct ip3 *t, uint64_t now)
{
	for (unsigned i = 0; i < IP3_PENDING; i++) {
		struct ip3_pending *p = &t->pending[i];

		if (p->fd >= 0 && now - p->since > IP3_PENDING_NS) {
			count(t, IP3_TIMEOUTS);
			wp_close(p->fd);
			p->fd = -1;
		}
	}
	if (t->ctrl >= 0 && t->state != TEST_RUNNING &&
	    now - t->last_input > IP3_CTRL_IDLE_NS) {
		count(t, IP3_TIMEOUTS);
		end_test(t);
	}
}

static void dispatch(struct ip3 *t, const struct wp_epoll_event *e)
{
	unsigned kind = (unsigned)(e->data.u64 >> 32);
	unsigned idx = (unsigned)e->data.u64;

	switch (kind) {
	case EV_LISTEN:
		on_listen(t);
		break;
	case EV_PENDING:
		if (t->pending[idx].fd >= 0)
			on_pending(t, idx);
		break;
	case EV_CTRL:
		on_ctrl(t);
		break;
	case EV_STREAM:
		if (idx < t->nstreams && t->streams[idx].fd >= 0)
			on_stream(t, idx, e->events);
		break;
	}
}

static void ip3_run(struct wp_app *app)
{
	struct ip3 *t = app->priv;
	struct wp_epoll_event evs[32];
	struct wp_mmsghdr vec[IP3_UDP_BATCH];
	struct sockaddr_in from[IP3_UDP_BATCH];
	struct iovec iov[IP3_UDP_BATCH];
	bool live = true;

	while (live) {
		bool sending = t->ctrl >= 0 && t->reverse &&
			       (t->state == TEST_RUNNING ||
				t->state == EXCHANGE_RESULTS);
		/* A paced sender wakes every millisecond; an unlimited UDP
		 * one does not sleep at all. */
		int timeout = !sending || !(t->udp || t->rate) ? 100
			      : t->rate			       ? 1
							       : 0;
		int n = wp_epoll_wait(t->ep, evs, 32, timeout);

		if (n < 0) {
			wp_app_count(&app->errors, 1);
			break;
		}
		for (int i = 0; i < n && live; i++) {
			/* A test ended by an earlier event may have closed
			 * (and renumbered) what later ones name. */
			if ((evs[i].data.u64 >> 32) == EV_UDP)
				live = on_udp(t, vec, from, iov);
			else
				dispatch(t, &evs[i]);
		}
		if (t->ctrl >= 0 && t->reverse &&
		    (t->state == TEST_RUNNING ||
		     t->state == EXCHANGE_RESULTS)) {
			if (t->udp)
				udp_send(t);
			else if (t->rate)
				tcp_resume(t);
		}
		expire(t, now_ns());
	}
	for (unsigned i = 0; i < IP3_PENDING; i++)
		if (t->pending[i].fd >= 0)
			wp_close(t->pending[i].fd);
	if (t->ctrl >= 0)
		settle_done(t);
	end_test(t);
}

static void ip3_close(struct wp_app *app)
{
	struct ip3 *t = app->priv;

	if (!t)
		return;
	if (t->ep >= 0)
		wp_close(t->ep);
	if (t->listen_fd >= 0)
		wp_close(t->listen_fd);
	free(t->in);
	free(t->rx);
	free(t->blk);
	free(t);
	app->priv = NULL;
}

static int ip3_open(struct wp_app *app, char *err, size_t errlen)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(app->port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct ip3 *t = calloc(1, sizeof(*t));
	int one = 1, big = 4 * 1024 * 1024, e;

	if (!t) {
		snprintf(err, errlen, "iperf3:%u: out of memory", app->port);
		return -ENOMEM;
	}
	app->priv = t;
	t->app = app;
	t->ctrl = t->listen_fd = t->ep = -1;
	for (unsigned i = 0; i < IP3_PENDING; i++)
		t->pending[i].fd = -1;
	t->in = malloc(4 + IP3_JSON_MAX);
	/* Big enough for a TCP read of a whole block, or a UDP batch. */
	t->rx = malloc((size_t)IP3_UDP_BATCH * IP3_UDP_BUF > IP3_BLK_MAX
			       ? (size_t)IP3_UDP_BATCH * IP3_UDP_BUF
			       : IP3_BLK_MAX);
	if (!t->in || !t->rx) {
		snprintf(err, errlen, "iperf3:%u: out of memory", app->port);
		e = ENOMEM;
		goto out;
	}
	/* Non-blocking: on_listen accepts until EAGAIN. */
	t->listen_fd = wp_socket_net(app->stack, AF_INET,
				     SOCK_STREAM | SOCK_NONBLOCK, 0);
	t->ep = wp_epoll_create1(0);
	if (t->listen_fd < 0 || t->ep < 0) {
		e = errno;
		snprintf(err, errlen, "iperf3:%u: socket: %s", app->port,
			 strerror(e));
		goto out;
	}
	wp_setsockopt(t->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		      sizeof(one));
	/* Linux grows a sender's buffer towards tcp_wmem[2] by itself;
	 * wirepath grows only the receive side (tcp_moderate_rcvbuf), so
	 * the server asks for a big send buffer (clamped to
	 * net.core.wmem_max, doubled), which every accepted stream
	 * inherits: -R is not held to 16 KiB in flight. */
	wp_setsockopt(t->listen_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (wp_bind(t->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    wp_listen(t->listen_fd, 16)) {
		e = errno;
		snprintf(err, errlen,
			 "iperf3:%u: TCP bind/listen: %s (is another --app on "
			 "TCP port %u?)",
			 app->port, strerror(e), app->port);
		goto out;
	}
	if (ep_add(t, t->listen_fd, WP_EPOLLIN, ev(EV_LISTEN, 0)) ||
	    ep_add(t, app->fd, WP_EPOLLIN, ev(EV_UDP, 0))) {
		e = errno;
		snprintf(err, errlen, "iperf3:%u: epoll: %s", app->port,
			 strerror(e));
		goto out;
	}
	return 0;
out:
	ip3_close(app);
	return -e;
}

const struct wp_app_type wp_app_iperf3 = {
	.name = "iperf3",
	.summary = "an iperf3 server (iperf3 -s): TCP and UDP tests, -R, -P",
	.sock_type = SOCK_DGRAM,
	.run = ip3_run,
	.open = ip3_open,
	.close = ip3_close,
	.transport = "TCP and UDP",
	.counter_names = ip3_counter_names,
	.ncounters = IP3__MAX,
};
