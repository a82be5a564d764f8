// SPDX-License-Identifier: MIT
/*
 * The control socket, in-process: a real-time sim stack with its server
 * and clients that connect to it. Every request (version, every stat view
 * in text and JSON, every ethtool option, sysctl list/get/set), every
 * refusal (syntax: 2, range: 1, and then nothing changed), the protocol's
 * edges (escapes, a line too long, pipelined requests, a last line
 * without "\n", a client that vanishes), ownership of the path (live:
 * refused, stale: replaced, not a socket: left alone, removed at stop),
 * the control lock, and clients on many threads at once, more than the
 * server serves at a time. JSON lines are checked with a real parser.
 */
#include "test_core_common.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "net/udp.h"
#include "stack/stack.h"
#include "tcp/tcp.h"

struct fx {
	char dir[64];
	char path[128];
	struct wp_stack *s;
};

static struct wp_stack *make_stack(bool virtual_time)
{
	struct wp_stack_config cfg;
	char err[256];
	struct wp_stack *s;

	wp_stack_config_default(&cfg);
	cfg.queues = 2;
	cfg.cores = 2;
	cfg.flows = 8;
	cfg.rate_pps = 20000;
	cfg.virtual_time = virtual_time;
	s = wp_stack_create(&cfg, err, sizeof(err));
	if (!s)
		fprintf(stderr, "stack: %s\n", err);
	return s;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256];

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/wp-test-ctl-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/wp0.ctl", fx->dir);
	fx->s = make_stack(false);
	if (!fx->s)
		return -1;
	if (wp_ctl_start(fx->s, fx->path, err, sizeof(err))) {
		fprintf(stderr, "ctl: %s\n", err);
		return -1;
	}
	if (wp_stack_start(fx->s))
		return -1;
	*state = fx;
	return 0;
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	struct stat st;

	wp_ctl_stop(fx->s);
	/* Removed at a clean stop. */
	assert_int_not_equal(lstat(fx->path, &st), 0);
	wp_stack_stop(fx->s);
	wp_stack_destroy(fx->s);
	rm_dir(fx->dir);
	free(fx);
	return 0;
}

/* --- a client ------------------------------------------------------------
 */

struct resp {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

static void resp_free(struct resp *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* One request on a fresh connection; words NULL-terminated. */
static int call(const char *path, struct resp *r, const char *const *words)
{
	FILE *out, *err;
	int fd, argc = 0;

	memset(r, 0, sizeof(*r));
	while (words[argc])
		argc++;
	fd = wp_ctl_connect(path);
	if (fd < 0)
		return fd;
	out = open_memstream(&r->out, &r->out_len);
	err = open_memstream(&r->err, &r->err_len);
	assert_non_null(out);
	assert_non_null(err);
	r->status = wp_ctl_call(fd, argc, (char *const *)words, out, err,
				"P: ", 5000);
	fclose(out);
	fclose(err);
	close(fd);
	return r->status;
}

#define CALL(path, r, ...)                                                     \
	call(path, r, (const char *const[]){ __VA_ARGS__, NULL })

/* Raw bytes in, everything the server says until it closes, out. */
static char *raw_n(const char *path, const char *req, size_t len)
{
	char *buf = calloc(1, 65536);
	size_t n = 0;
	ssize_t got;
	int fd = wp_ctl_connect(path);

	assert_true(fd >= 0);
	assert_non_null(buf);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	shutdown(fd, SHUT_WR);
	while ((got = recv(fd, buf + n, 65535 - n, 0)) > 0)
		n += (size_t)got;
	close(fd);
	return buf;
}

static char *raw(const char *path, const char *req)
{
	return raw_n(path, req, strlen(req));
}

/* --- a JSON checker: RFC 8259's grammar, no more ------------------------
 */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static const char *json_value(const char *p, int depth);

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p[i]) ||
					    !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 16)
		return NULL;
	p = json_ws(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';

		p = json_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = json_string(json_ws(p));
				if (!p)
					return NULL;
				p = json_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = json_value(p, depth + 1);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	return json_number(p);
}

/* Every line one object; returns how many lines. */
static int json_lines(const char *text)
{
	int n = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		char *line;
		const char *end;

		assert_non_null(nl);
		line = strndup(text, (size_t)(nl - text));
		assert_non_null(line);
		assert_int_equal(line[0], '{');
		end = json_value(line, 0);
		if (!end || *json_ws(end))
			fail_msg("not one JSON object: %s", line);
		free(line);
		text = nl + 1;
		n++;
	}
	return n;
}

static void test_json_checker(void **state)
{
	(void)state;
	assert_int_equal(json_lines("{\"a\":[1,2.5,-3],\"b\":{\"c\":null}}\n"),
			 1);
	assert_null(json_value("{\"a\":}", 0));
	assert_null(json_value("{\"a\":1,}", 0));
	assert_null(json_value("{\"a\"1}", 0));
	assert_null(json_value("\"x\x01\"", 0));
}

/* --- requests -------------------------------------------------------------
 */

static void test_version(void **state)
{
	struct fx *fx = *state;
	struct resp r;
	char want[64];

	assert_int_equal(CALL(fx->path, &r, "version"), 0);
	snprintf(want, sizeof(want), "wirepath-ctl 1 wp0 pid %ld\n",
		 (long)getpid());
	assert_string_equal(r.out, want);
	assert_string_equal(r.err, "");
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "version", "x"), 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "reboot"), 2);
	assert_non_null(strstr(r.err, "P: unknown request 'reboot'"));
	resp_free(&r);
}

static void wait_packets(struct wp_stack *s, uint64_t n)
{
	for (int i = 0; i < 400; i++) {
		struct wp_stack_rx rx;
		struct timespec ts = { 0, 5000000 };

		wp_stack_rx_totals(s, &rx);
		if (rx.packets >= n)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("the stack received fewer than %lu packets", (unsigned long)n);
}

static void test_stat_views_text(void **state)
{
	static const struct {
		const char *view, *want;
	} v[] = {
		{ "summary",
		  "wp0: backend sim, 2 of 2 queues active on 2 cores" },
		{ "interrupts", "wirepath-msi  wp0-TxRx-1" },
		{ "softnet", "budget_exhausted" },
		{ "ethtool", "NIC statistics:\n     rx_packets: " },
		{ "netstat", "Ip:\n    Forwarding: 2\n" },
		{ "drops", "Drops by reason:\n" },
		{ "sockets", "Netid State" },
		{ "arp", "" },
		{ "route",
		  "10.0.0.0/24 dev wp0 proto kernel scope link src 10.0.0.2" },
		{ "latency", "  HANDOFF " },
	};
	struct fx *fx = *state;
	struct resp r;

	wait_packets(fx->s, 100);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(CALL(fx->path, &r, "stat", v[i].view), 0);
		if (!strstr(r.out, v[i].want))
			fail_msg("stat %s: no '%s' in:\n%s", v[i].view,
				 v[i].want, r.out);
		assert_string_equal(r.err, "");
		resp_free(&r);
	}
	/* No view: the summary. */
	assert_int_equal(CALL(fx->path, &r, "stat"), 0);
	assert_non_null(strstr(r.out, "handed up:"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "bogus"), 2);
	assert_non_null(strstr(r.err, "'bogus' is not a view"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "arp", "route"), 2);
	resp_free(&r);
}

static void test_stat_views_json(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	wait_packets(fx->s, 100);
	for (int i = 0; wp_ctl_stat_views[i]; i++) {
		int lines;

		assert_int_equal(CALL(fx->path, &r, "stat",
				      wp_ctl_stat_views[i], "--json"),
				 0);
		lines = json_lines(r.out);
		/* arp and sockets may be empty; the rest have lines */
		if (strcmp(wp_ctl_stat_views[i], "arp") &&
		    strcmp(wp_ctl_stat_views[i], "sockets"))
			assert_true(lines > 0);
		resp_free(&r);
	}
	/* Names as the text has them. */
	assert_int_equal(CALL(fx->path, &r, "stat", "ethtool", "--json"), 0);
	assert_non_null(strstr(r.out, "\"rx_queue_1_packets\":"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "interrupts", "--json"), 0);
	assert_non_null(strstr(r.out, "\"name\":\"wp0-TxRx-0\""));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "--json", "stat", "route"), 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "route", "--json"), 0);
	assert_non_null(strstr(r.out, "\"dst\":\"10.0.0.0/24\",\"dev\":\"wp0\","
				      "\"protocol\":\"kernel\",\"scope\":"
				      "\"link\",\"prefsrc\":\"10.0.0.2\""));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "netstat", "--json"), 0);
	assert_non_null(strstr(r.out, "{\"section\":\"Ip\",\"Forwarding\":2,"));
	assert_non_null(strstr(r.out, "{\"section\":\"Udp\""));
	resp_free(&r);
}

/* softnet_stat's hex columns are the counters, in Linux's order. */
static void test_stat_softnet_columns(void **state)
{
	struct wp_stack *s = make_stack(true);
	char *obuf = NULL, *ebuf = NULL;
	size_t olen, elen;
	FILE *out, *err;
	char *argv[] = { "stat", "softnet", NULL };
	unsigned v[13];

	(void)state;
	assert_non_null(s);
	assert_int_equal(wp_stack_run_until(s, 50 * WP_NSEC_PER_MSEC), 0);
	s->cpu[0].softnet.time_squeeze = 0x1234;
	s->cpu[1].softnet.flow_limit_count = 7;
	out = open_memstream(&obuf, &olen);
	err = open_memstream(&ebuf, &elen);
	assert_int_equal(wp_ctl_exec(s, 2, argv, out, err), 0);
	fclose(out);
	fclose(err);
	assert_int_equal(sscanf(obuf, "%x %x %x %x %x %x %x %x %x %x %x %x %x",
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
				&v[7], &v[8], &v[9], &v[10], &v[11], &v[12]),
			 13);
	assert_true(s->cpu[0].softnet.processed > 0);
	assert_int_equal(v[0], (unsigned)s->cpu[0].softnet.processed);
	assert_int_equal(v[2], 0x1234);
	assert_int_equal(v[12], 0);
	for (int i = 3; i < 9; i++)
		assert_int_equal(v[i], 0);
	/* Second row: cpu 1, index column 1. */
	assert_int_equal(sscanf(strchr(obuf, '\n') + 1,
				"%x %x %x %x %x %x %x %x %x %x %x %x %x", &v[0],
				&v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
				&v[8], &v[9], &v[10], &v[11], &v[12]),
			 13);
	assert_int_equal(v[10], 7);
	assert_int_equal(v[12], 1);
	assert_string_equal(ebuf, "");
	free(obuf);
	free(ebuf);
	wp_stack_destroy(s);
}

static void test_stat_sockets(void **state)
{
	struct fx *fx = *state;
	struct wp_udp_sock *usk = wp_udp_sock_alloc(fx->s->net);
	struct resp r;

	assert_non_null(usk);
	assert_int_equal(wp_udp_bind(usk, 0, 5353), 0);
	assert_int_equal(CALL(fx->path, &r, "stat", "sockets"), 0);
	assert_non_null(strstr(r.out, "udp   UNCONN"));
	assert_non_null(strstr(r.out, "0.0.0.0:5353"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "sockets", "--json"), 0);
	/* Every line an object; the socket's line among them. */
	assert_true(json_lines(r.out) >= 1);
	assert_non_null(strstr(r.out, "{\"netid\":\"udp\",\"state\":"
				      "\"UNCONN\",\"recv_q\":0,\"send_q\":0,"
				      "\"local\":\"0.0.0.0:5353\",\"peer\":"
				      "\"0.0.0.0:*\"}\n"));
	resp_free(&r);
	wp_udp_close(usk);
	wp_sock_put(&usk->sk);
	assert_int_equal(CALL(fx->path, &r, "stat", "sockets"), 0);
	assert_null(strstr(r.out, "5353"));
	resp_free(&r);
}

/* TCP rows: a listener, and a connection with its `ss -i` details. */
static void test_stat_sockets_tcp(void **state)
{
	struct fx *fx = *state;
	struct wp_tcp_sock *l = wp_tcp_sock_alloc(fx->s->net);
	struct wp_tcp_sock *c = wp_tcp_sock_alloc(fx->s->net);
	struct resp r;

	assert_non_null(l);
	assert_non_null(c);
	assert_int_equal(wp_tcp_bind(l, 0, 8080), 0);
	assert_int_equal(wp_tcp_listen(l, 16), 0);
	/* Nobody answers at .9: the connection stays in SYN-SENT. */
	assert_int_equal(wp_tcp_connect(c, (10u << 24) | 9, 80), -EINPROGRESS);
	assert_int_equal(CALL(fx->path, &r, "stat", "sockets"), 0);
	assert_non_null(strstr(r.out, "tcp   LISTEN"));
	assert_non_null(strstr(r.out, "0.0.0.0:8080"));
	assert_non_null(strstr(r.out, "tcp   SYN-SENT"));
	assert_non_null(strstr(r.out, "10.0.0.9:80"));
	assert_non_null(strstr(r.out, "\tcubic"));
	assert_non_null(strstr(r.out, " cwnd:"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "sockets", "--json"), 0);
	assert_non_null(strstr(r.out, "\"state\":\"LISTEN\",\"recv_q\":0,"
				      "\"send_q\":16,"));
	assert_non_null(strstr(r.out, "\"peer\":\"10.0.0.9:80\",\"info\":"
				      "\"cubic"));
	resp_free(&r);
	wp_tcp_close(c);
	wp_sock_put(wp_tcp_to_sk(c));
	wp_tcp_close(l);
	wp_sock_put(wp_tcp_to_sk(l));
}

/* --- ethtool ----------------------------------------------------------------
 */

static void test_ethtool_coalesce(void **state)
{
	struct fx *fx = *state;
	struct wp_coalesce_params p;
	struct resp r;

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-c"), 0);
	assert_non_null(strstr(r.out, "Coalesce parameters for wp0:\n"
				      "Adaptive RX: off  TX: n/a\n"));
	assert_non_null(strstr(r.out, "\nrx-usecs: 50\nrx-frames: 0\n"));
	resp_free(&r);

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-C", "rx-usecs", "10",
			      "rx-frames", "32", "adaptive-rx", "on"),
			 0);
	assert_string_equal(r.out, "");
	resp_free(&r);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 10);
	assert_int_equal(p.rx_frames, 32);
	assert_true(p.adaptive_rx);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-c"), 0);
	assert_non_null(strstr(r.out, "Adaptive RX: on  TX: n/a\n"));
	assert_non_null(strstr(r.out, "\nrx-usecs: 10\nrx-frames: 32\n"));
	resp_free(&r);

	/* One given: the others stay. */
	assert_int_equal(
		CALL(fx->path, &r, "ethtool", "-C", "adaptive-rx", "off"), 0);
	resp_free(&r);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 10);
	assert_false(p.adaptive_rx);

	/* Out of range: 1, nothing changed, rx-frames included. */
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-C", "rx-frames", "1",
			      "rx-usecs", "8193"),
			 1);
	assert_non_null(strstr(r.err, "P: rx-usecs 8193: out of range "
				      "(wp0 takes 0..8192); nothing changed"));
	resp_free(&r);
	assert_int_equal(
		CALL(fx->path, &r, "ethtool", "-C", "rx-frames", "65536"), 1);
	resp_free(&r);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 10);
	assert_int_equal(p.rx_frames, 32);

	/* Syntax: 2, nothing changed. */
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-C", "rx-usecs", "1x"),
			 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-C", "tx-usecs", "1"),
			 2);
	assert_non_null(strstr(r.err, "unknown parameter 'tx-usecs'"));
	resp_free(&r);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 10);
}

/* -k/-K: GRO on by default, off and on again live; fixed ones refused. */
static void test_ethtool_features(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-k"), 0);
	assert_non_null(strstr(r.out, "Features for wp0:\n"));
	assert_non_null(strstr(r.out, "\ngeneric-receive-offload: on\n"));
	assert_non_null(
		strstr(r.out, "\nlarge-receive-offload: off [fixed]\n"));
	assert_non_null(strstr(r.out, "\nreceive-hashing: on [fixed]\n"));
	resp_free(&r);

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-K", "gro", "off"), 0);
	assert_string_equal(r.out, "");
	resp_free(&r);
	assert_false(wp_nic_get_gro(fx->s->nic));
	for (uint16_t q = 0; q < fx->s->nic->cfg.nqueues; q++)
		assert_false(wp_napi_gro_enabled(&fx->s->nic->rxq[q].napi));
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-k"), 0);
	assert_non_null(strstr(r.out, "\ngeneric-receive-offload: off\n"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat"), 0);
	assert_non_null(strstr(r.out, "\nGRO:        off, "));
	resp_free(&r);

	/* A fixed feature anywhere in the request: nothing changes. */
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-K",
			      "generic-receive-offload", "on", "lro", "on"),
			 1);
	assert_non_null(strstr(r.err, "large-receive-offload is fixed on wp0; "
				      "nothing changed"));
	resp_free(&r);
	assert_false(wp_nic_get_gro(fx->s->nic));
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-K",
			      "generic-receive-offload", "on"),
			 0);
	resp_free(&r);
	assert_true(wp_nic_get_gro(fx->s->nic));
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-K", "gro", "maybe"),
			 2);
	assert_non_null(strstr(r.err, "expected on or off"));
	resp_free(&r);

	/* The counters are there, in -S and in stat softnet. */
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-S"), 0);
	assert_non_null(strstr(r.out, "\n     rx_gro_packets: "));
	assert_non_null(strstr(r.out, "\n     rx_gro_bytes: "));
	assert_non_null(strstr(r.out, "\n     rx_gro_skbs: "));
	assert_non_null(strstr(r.out, "\n     rx_queue_0_gro_packets: "));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "softnet"), 0);
	assert_non_null(strstr(r.out, " gro_held gro_merged  gro_flush\n"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "stat", "softnet", "--json"), 0);
	assert_non_null(strstr(r.out, "\"gro_merged\":"));
	resp_free(&r);
}

static void test_ethtool_ring(void **state)
{
	struct fx *fx = *state;
	struct wp_nic *nic = fx->s->nic;
	struct resp r;

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-g"), 0);
	assert_string_equal(r.out, "Ring parameters for wp0:\n"
				   "Pre-set maximums:\n"
				   "RX:\t\t\t4096\nRX Mini:\t\tn/a\n"
				   "RX Jumbo:\t\tn/a\nTX:\t\t\t4096\n"
				   "Current hardware settings:\n"
				   "RX:\t\t\t512\nRX Mini:\t\tn/a\n"
				   "RX Jumbo:\t\tn/a\nTX:\t\t\t512\n\n");
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-G", "rx", "128"), 0);
	resp_free(&r);
	assert_int_equal(nic->cfg.rx_ring_size, 128);
	assert_int_equal(nic->cfg.tx_ring_size, 512);
	assert_int_equal(
		CALL(fx->path, &r, "ethtool", "-G", "tx", "1024", "rx", "256"),
		0);
	resp_free(&r);
	assert_int_equal(nic->cfg.rx_ring_size, 256);
	assert_int_equal(nic->cfg.tx_ring_size, 1024);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-g"), 0);
	assert_non_null(strstr(r.out, "Current hardware settings:\n"
				      "RX:\t\t\t256\n"));
	assert_non_null(strstr(r.out, "TX:\t\t\t1024\n\n"));
	resp_free(&r);
	/* The rings work after the rebuild: packets keep arriving. */
	{
		struct wp_stack_rx rx;

		wp_stack_rx_totals(fx->s, &rx);
		wait_packets(fx->s, rx.packets + 100);
	}
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-S"), 0);
	assert_non_null(strstr(r.out, "rx_queue_1_packets: "));
	resp_free(&r);

	/* Refused whole: a good rx with a bad tx changes neither. */
	assert_int_equal(
		CALL(fx->path, &r, "ethtool", "-G", "rx", "512", "tx", "100"),
		1);
	assert_non_null(strstr(r.err, "tx 100: not a ring size of wp0 (a "
				      "power of two in 64..4096)"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-G", "rx", "8192"), 1);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-G", "rx", "32"), 1);
	resp_free(&r);
	assert_int_equal(nic->cfg.rx_ring_size, 256);
	assert_int_equal(nic->cfg.tx_ring_size, 1024);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-G"), 2);
	resp_free(&r);
	assert_int_equal(
		CALL(fx->path, &r, "ethtool", "-G", "rx", "64", "rx", "64"), 2);
	assert_non_null(strstr(r.err, "rx given twice"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-G", "rx"), 2);
	resp_free(&r);
}

static void test_ethtool_channels_rxfh(void **state)
{
	struct fx *fx = *state;
	struct wp_nic *nic = fx->s->nic;
	struct resp r;

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-l"), 0);
	assert_string_equal(r.out, "Channel parameters for wp0:\n"
				   "Pre-set maximums:\n"
				   "RX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\n"
				   "Combined:\t2\n"
				   "Current hardware settings:\n"
				   "RX:\t\tn/a\nTX:\t\tn/a\nOther:\t\tn/a\n"
				   "Combined:\t2\n\n");
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-x"), 0);
	assert_non_null(strstr(r.out,
			       "RX flow hash indirection table for wp0 "
			       "with 2 RX ring(s):\n"
			       "    0:      0     1     0     1     0     "
			       "1     0     1\n"));
	assert_non_null(strstr(r.out, "  120:      0     1     0     1     0  "
				      "   1     0     1\nRSS hash key:\n"
				      "6d:5a:56:da:25:5b:0e:c2:"));
	assert_non_null(
		strstr(r.out, "RSS hash function:\n    toeplitz: on\n"));
	resp_free(&r);

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-L", "combined", "3"),
			 1);
	assert_non_null(strstr(r.err, "combined 3: out of range (wp0 has 2 "
				      "channels: 1..2); nothing changed"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-L", "combined", "0"),
			 1);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-L", "rx", "1"), 2);
	resp_free(&r);
	assert_int_equal(nic->nqueues, 2);

	assert_int_equal(CALL(fx->path, &r, "ethtool", "-L", "combined", "1"),
			 0);
	resp_free(&r);
	assert_int_equal(nic->nqueues, 1);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-l"), 0);
	assert_non_null(strstr(r.out, "Current hardware settings:\nRX:\t\tn/a\n"
				      "TX:\t\tn/a\nOther:\t\tn/a\n"
				      "Combined:\t1\n"));
	resp_free(&r);
	/* -X cannot use the stopped ring. */
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-X", "equal", "2"), 1);
	assert_non_null(strstr(r.err, "equal 2: out of range (wp0 has 1 "
				      "active RX rings"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-L", "combined", "2"),
			 0);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-X", "equal", "1"), 0);
	resp_free(&r);
	for (unsigned i = 0; i < WP_RSS_RETA_SIZE; i++)
		assert_int_equal(wp_rss_queue(&nic->rss, i), 0);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-x"), 0);
	assert_non_null(strstr(r.out, "  120:      0     0     0     0     0  "
				      "   0     0     0\n"));
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-X", "equal", "0"), 1);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-X", "default"), 0);
	resp_free(&r);
	assert_int_equal(wp_rss_queue(&nic->rss, 1), 1);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-X", "weight", "1"), 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-x", "extra"), 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool"), 2);
	resp_free(&r);
	assert_int_equal(CALL(fx->path, &r, "ethtool", "-Q"), 2);
	resp_free(&r);
}

static void test_ethtool_parse(void **state)
{
	static const char *const bad[][6] = {
		{ "-C", NULL },
		{ "-C", "rx-usecs", NULL },
		{ "-C", "rx-usecs", "-1", NULL },
		{ "-C", "rx-usecs", "+1", NULL },
		{ "-C", "rx-usecs", "99999999999999999999999", NULL },
		{ "-C", "adaptive-rx", "yes", NULL },
		{ "-C", "rx-frames", "1", "rx-frames", "2", NULL },
		{ "-G", "rx", "", NULL },
		{ "-L", NULL },
		{ "-L", "combined", "two", NULL },
		{ "-X", NULL },
		{ "-X", "equal", NULL },
		{ "-X", "equal", "1", "2", NULL },
		{ "-S", "x", NULL },
		{ "--coalesce", NULL },
		{ "-k", "gro", NULL },
		{ "-K", NULL },
		{ "-K", "gro", NULL },
		{ "-K", "gro", "yes", NULL },
		{ "-K", "gro", "on", "gro", "off", NULL },
		{ "-K", "warp-drive", "on", NULL },
	};
	struct wp_ctl_ethtool_req r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int argc = 0;

		while (bad[i][argc])
			argc++;
		err[0] = '\0';
		assert_int_equal(wp_ctl_ethtool_parse(argc,
						      (char *const *)bad[i], &r,
						      err, sizeof(err)),
				 -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(wp_ctl_ethtool_parse(0, NULL, &r, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(wp_ctl_ethtool_parse(
				 4,
				 (char *const[]){ "-C", "rx-usecs", "0", "x" },
				 &r, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		wp_ctl_ethtool_parse(3, (char *const[]){ "-G", "tx", "4096" },
				     &r, err, sizeof(err)),
		0);
	assert_int_equal(r.op, WP_CTL_ETHTOOL_SET_RING);
	assert_true(r.has_tx && !r.has_rx);
	assert_int_equal(r.tx, 4096);
}

/* --- sysctl
 * -------------------------------------------------------------------
 */

static void test_sysctl(void **state)
{
	struct fx *fx = *state;
	struct wp_sysctl *sc = &fx->s->sysctl;
	struct resp r;
	size_t names = 0, lines = 0;

	/* sysctl -a: every name, one line each. */
	assert_int_equal(CALL(fx->path, &r, "sysctl"), 0);
	assert_non_null(strstr(r.out, "net.core.netdev_budget = 300\n"));
	while (wp_sysctl_name(names))
		names++;
	for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, names);
	resp_free(&r);

	assert_int_equal(
		CALL(fx->path, &r, "sysctl", "net.core.netdev_budget=600"), 0);
	assert_string_equal(r.out, "net.core.netdev_budget = 600\n");
	resp_free(&r);
	assert_int_equal(wp_sysctl_read(&sc->netdev_budget), 600);
	assert_int_equal(CALL(fx->path, &r, "sysctl", "net/core/netdev_budget",
			      "net.core.dev_weight"),
			 0);
	assert_string_equal(r.out, "net.core.netdev_budget = 600\n"
				   "net.core.dev_weight = 64\n");
	resp_free(&r);

	/* A vector, with spaces: the client escapes them. */
	assert_int_equal(CALL(fx->path, &r, "sysctl",
			      "net.ipv4.tcp_rmem=4096 87380 6291456"),
			 0);
	assert_string_equal(r.out,
			    "net.ipv4.tcp_rmem = 4096\t87380\t6291456\n");
	resp_free(&r);
	assert_int_equal(wp_sysctl_read(&sc->tcp_rmem[1]), 87380);

	/* Unknown: 1, the message sysctl(8) gives. */
	assert_int_equal(CALL(fx->path, &r, "sysctl", "net.core.x"), 1);
	assert_non_null(strstr(r.err, "P: cannot stat net.core.x: No such "
				      "file or directory\n"));
	assert_string_equal(r.out, "");
	resp_free(&r);
	/* Bad value, and a good one with it: nothing changes. */
	assert_int_equal(CALL(fx->path, &r, "sysctl", "net.core.dev_weight=32",
			      "net.core.netdev_budget=abc"),
			 1);
	assert_non_null(strstr(r.err, "setting key \"net.core.netdev_budget\": "
				      "Invalid argument"));
	assert_non_null(strstr(r.err, "nothing changed"));
	resp_free(&r);
	assert_int_equal(wp_sysctl_read(&sc->dev_weight), 64);
	assert_int_equal(wp_sysctl_read(&sc->netdev_budget), 600);
	assert_int_equal(CALL(fx->path, &r, "sysctl", "net.core.dev_weight=32",
			      "net.core.nope=1"),
			 1);
	resp_free(&r);
	assert_int_equal(wp_sysctl_read(&sc->dev_weight), 64);
	assert_int_equal(
		CALL(fx->path, &r, "sysctl", "net.core.netdev_budget=-5"), 1);
	resp_free(&r);
	assert_int_equal(
		CALL(fx->path, &r, "sysctl", "net.core.netdev_budget="), 1);
	resp_free(&r);
	assert_int_equal(wp_sysctl_read(&sc->netdev_budget), 600);
	assert_int_equal(CALL(fx->path, &r, "sysctl", "=5"), 2);
	resp_free(&r);
}

/* --- the protocol
 * ---------------------------------------------------------------
 */

static void test_protocol_edges(void **state)
{
	struct fx *fx = *state;
	char *big, *got;

	/* Escapes: %20 is a space inside a word. */
	got = raw(fx->path,
		  "sysctl net.ipv4.tcp_wmem=4096%2016384%204194304\n");
	assert_string_equal(got, "> net.ipv4.tcp_wmem = 4096\t16384\t4194304\n"
				 "= 0\n");
	free(got);
	got = raw(fx->path, "stat %zz\n");
	assert_non_null(strstr(got, "! bad escape in '%zz'"));
	assert_non_null(strstr(got, "= 2\n"));
	free(got);
	got = raw(fx->path, "stat %00\n");
	assert_non_null(strstr(got, "= 2\n"));
	free(got);
	got = raw(fx->path, "stat %4\n");
	assert_non_null(strstr(got, "= 2\n"));
	free(got);
	/* Pipelined: two answers in order; blanks and CR are separators. */
	got = raw(fx->path,
		  "version\r\n  ethtool   -l \nsysctl net.core.dev_weight");
	assert_non_null(strstr(got, "> wirepath-ctl 1 wp0"));
	assert_non_null(strstr(got, "> Channel parameters for wp0:"));
	/* The last one had no "\n" before EOF: answered too. */
	assert_non_null(strstr(got, "> net.core.dev_weight = 64\n= 0\n"));
	assert_true(strstr(got, "wirepath-ctl") < strstr(got, "Channel"));
	free(got);
	/* Empty line. */
	got = raw(fx->path, "\n");
	assert_int_equal(
		strncmp(got, "! empty request (expected version, stat, ", 41),
		0);
	assert_non_null(strstr(got, ")\n= 2\n"));
	free(got);
	/* Too long: answered, then cut off. */
	big = malloc(WP_CTL_LINE_MAX + 100);
	assert_non_null(big);
	memset(big, 'a', WP_CTL_LINE_MAX + 100);
	got = raw_n(fx->path, big, WP_CTL_LINE_MAX + 100);
	assert_string_equal(got, "! request longer than 4096 bytes\n= 2\n");
	free(got);
	free(big);
	/* Too many words. */
	big = malloc(2 * (WP_CTL_MAX_ARGS + 1) + 2);
	assert_non_null(big);
	for (int i = 0; i <= WP_CTL_MAX_ARGS; i++)
		memcpy(big + 2 * i, "a ", 2);
	big[2 * (WP_CTL_MAX_ARGS + 1)] = '\n';
	got = raw_n(fx->path, big, 2 * (WP_CTL_MAX_ARGS + 1) + 1);
	assert_non_null(strstr(got, "more than 64 words"));
	free(got);
	free(big);
	{
		struct wp_ctl_stats st;

		wp_ctl_get_stats(fx->s, &st);
		/* The line too long is not a request; 5 of 9 failed. */
		assert_int_equal(st.closed_long, 1);
		assert_int_equal(st.requests, 9);
		assert_int_equal(st.failed, 5);
	}
}

/* A client that sends and goes without reading: the server goes on. */
static void test_client_vanishes(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	for (int i = 0; i < 20; i++) {
		int fd = wp_ctl_connect(fx->path);

		assert_true(fd >= 0);
		assert_true(send(fd, "ethtool -S\nstat netstat\n", 24,
				 MSG_NOSIGNAL) == 24);
		close(fd);
	}
	/* And one that connects and says nothing holds only its slot. */
	{
		int idle = wp_ctl_connect(fx->path);

		assert_true(idle >= 0);
		assert_int_equal(CALL(fx->path, &r, "version"), 0);
		resp_free(&r);
		close(idle);
	}
	assert_int_equal(CALL(fx->path, &r, "stat", "drops"), 0);
	resp_free(&r);
}

static void test_client_errors(void **state)
{
	struct fx *fx = *state;
	char p[PATH_MAX], err[256];
	int sfd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct resp r;

	snprintf(p, sizeof(p), "%s/none.ctl", fx->dir);
	assert_int_equal(wp_ctl_connect(p), -ENOENT);
	/* Stale: bound, never listened, closed. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.ctl", fx->dir);
	sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sfd);
	assert_int_equal(wp_ctl_connect(sa.sun_path), -ECONNREFUSED);
	memset(p, 'x', 200);
	p[200] = '\0';
	assert_int_equal(wp_ctl_connect(p), -ENAMETOOLONG);
	/* A request with an empty word cannot be sent. */
	{
		int fd = wp_ctl_connect(fx->path);

		assert_true(fd >= 0);
		assert_int_equal(wp_ctl_call(fd, 2,
					     (char *const[]){ "stat", "" },
					     stdout, stderr, "", 1000),
				 -EINVAL);
		close(fd);
	}
	/* A word of 4095 bytes and its "\n" fill a line exactly: sent (and
	 * refused as a request); one more byte cannot be sent. */
	{
		char *w = malloc(WP_CTL_LINE_MAX + 1);
		FILE *sink = fopen("/dev/null", "w");
		int fd = wp_ctl_connect(fx->path);

		assert_non_null(w);
		assert_non_null(sink);
		memset(w, 'a', WP_CTL_LINE_MAX);
		w[WP_CTL_LINE_MAX - 1] = '\0';
		assert_int_equal(wp_ctl_call(fd, 1, (char *const[]){ w }, sink,
					     sink, "", 1000),
				 2);
		w[WP_CTL_LINE_MAX - 1] = 'a';
		w[WP_CTL_LINE_MAX] = '\0';
		assert_int_equal(wp_ctl_call(fd, 1, (char *const[]){ w }, sink,
					     sink, "", 1000),
				 -E2BIG);
		close(fd);
		fclose(sink);
		free(w);
	}
	/* Not a wirepath server: a line that is not of the protocol. */
	{
		int pair[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
		assert_int_equal(send(pair[1], "hello\n", 6, 0), 6);
		assert_int_equal(wp_ctl_call(pair[0], 1,
					     (char *const[]){ "version" },
					     stdout, stderr, "", 1000),
				 -EPROTO);
		close(pair[1]);
		close(pair[0]);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
		assert_int_equal(send(pair[1], "> x\n", 4, 0), 4);
		close(pair[1]);
		assert_int_equal(wp_ctl_call(pair[0], 1,
					     (char *const[]){ "version" },
					     stdout, stderr, "", 1000),
				 -ECONNRESET);
		close(pair[0]);
		/* Silent: the timeout. */
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
		assert_int_equal(wp_ctl_call(pair[0], 1,
					     (char *const[]){ "version" },
					     stdout, stderr, "", 100),
				 -ETIMEDOUT);
		close(pair[1]);
		close(pair[0]);
	}
	/* The client's path choice: a given path is taken as is. */
	assert_int_equal(
		wp_ctl_client_path("/x/y.ctl", p, sizeof(p), err, sizeof(err)),
		0);
	assert_string_equal(p, "/x/y.ctl");
	assert_int_equal(wp_ctl_client_path("/x/y.ctl", p, 4, err, sizeof(err)),
			 -ENAMETOOLONG);
	assert_int_equal(CALL(fx->path, &r, "version"), 0);
	resp_free(&r);
}

static void test_default_path(void **state)
{
	char p[PATH_MAX], err[256];

	(void)state;
	assert_int_equal(wp_ctl_default_path("wp0", false, p, sizeof(p), err,
					     sizeof(err)),
			 0);
	if (geteuid() == 0)
		assert_string_equal(p, "/run/wirepath/wp0.ctl");
	else
		assert_non_null(strstr(p, "/wp0.ctl"));
	assert_int_equal(wp_ctl_default_path("a/b", false, p, sizeof(p), err,
					     sizeof(err)),
			 -EINVAL);
	assert_int_equal(wp_ctl_default_path("..", false, p, sizeof(p), err,
					     sizeof(err)),
			 -EINVAL);
	assert_int_equal(
		wp_ctl_default_path("", false, p, sizeof(p), err, sizeof(err)),
		-EINVAL);
	assert_int_equal(
		wp_ctl_default_path("wp0", false, p, 8, err, sizeof(err)),
		-ENAMETOOLONG);
}

/* --- owning the path
 * ------------------------------------------------------------
 */

static void test_path_ownership(void **state)
{
	struct fx *fx = *state;
	struct wp_stack *b = make_stack(false);
	char err[256], p[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	struct resp r;
	FILE *f;
	int sfd;

	assert_non_null(b);
	/* Live: refused, and the first still answers. */
	assert_int_equal(wp_ctl_start(b, fx->path, err, sizeof(err)),
			 -EADDRINUSE);
	assert_non_null(strstr(err, "another stack is using"));
	assert_null(wp_ctl_path(b));
	assert_int_equal(CALL(fx->path, &r, "version"), 0);
	resp_free(&r);
	/* Twice on one stack. */
	assert_int_equal(wp_ctl_start(fx->s, NULL, err, sizeof(err)),
			 -EALREADY);

	/* Not a socket: left alone. */
	snprintf(p, sizeof(p), "%s/file.ctl", fx->dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("mine\n", f);
	fclose(f);
	assert_int_equal(wp_ctl_start(b, p, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists and is not a socket"));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	/* Stale: replaced, and served. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.ctl", fx->dir);
	sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(sfd);
	assert_int_equal(wp_ctl_start(b, sa.sun_path, err, sizeof(err)), 0);
	assert_string_equal(wp_ctl_path(b), sa.sun_path);
	assert_int_equal(lstat(sa.sun_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(CALL(sa.sun_path, &r, "ethtool", "-g"), 0);
	resp_free(&r);
	/* Someone replaced our socket file: stop leaves theirs. */
	assert_int_equal(unlink(sa.sun_path), 0);
	sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	wp_ctl_stop(b);
	assert_int_equal(lstat(sa.sun_path, &st), 0);
	close(sfd);
	unlink(sa.sun_path);
	wp_ctl_stop(b); /* twice: no-op */

	/* Too long; no such directory. */
	memset(p, 'x', 200);
	p[0] = '/';
	p[200] = '\0';
	assert_int_equal(wp_ctl_start(b, p, err, sizeof(err)), -ENAMETOOLONG);
	snprintf(p, sizeof(p), "%s/no/such/dir.ctl", fx->dir);
	assert_int_equal(wp_ctl_start(b, p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot create"));
	assert_null(wp_ctl_path(b));
	wp_stack_destroy(b);
}

/* A server on a stack that is not started answers too. */
static void test_unstarted_stack(void **state)
{
	struct fx *fx = *state;
	struct wp_stack *b = make_stack(true);
	char p[PATH_MAX], err[256];
	struct resp r;

	assert_non_null(b);
	snprintf(p, sizeof(p), "%s/b.ctl", fx->dir);
	assert_int_equal(wp_ctl_start(b, p, err, sizeof(err)), 0);
	assert_int_equal(CALL(p, &r, "stat", "latency"), 0);
	assert_non_null(strstr(r.out, "  HANDOFF             0          -"));
	resp_free(&r);
	wp_ctl_stop(b);
	wp_stack_destroy(b);
}

/*
 * Out of descriptors: the connection waits in the backlog (the server
 * pauses accepting rather than spinning on it) and is served once
 * descriptors are back.
 */
static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void test_accept_emfile(void **state)
{
	struct wp_stack *b = make_stack(true);
	char dir[64] = "/tmp/wp-test-ctl-XXXXXX";
	double cpu;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct wp_ctl_stats st0, st1;
	struct rlimit old, low;
	FILE *sink = fopen("/dev/null", "w");
	char err[256];
	int fd, probe;

	(void)state;
	assert_non_null(b);
	assert_non_null(sink);
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/emfile.ctl", dir);
	assert_int_equal(wp_ctl_start(b, sa.sun_path, err, sizeof(err)), 0);
	wp_ctl_get_stats(b, &st0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	/* The next descriptor number is the limit: none can be made. */
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* No core thread runs (the stack is not started): the CPU this
	 * process uses meanwhile is the control thread's. */
	cpu = cpu_seconds();
	assert_int_equal(wp_ctl_call(fd, 1, (char *const[]){ "version" }, sink,
				     sink, "", 1000),
			 -ETIMEDOUT);
	cpu = cpu_seconds() - cpu;
	wp_ctl_get_stats(b, &st1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(st1.accepted, st0.accepted);
	if (cpu > 0.05)
		fail_msg("the control thread used %.3f s of CPU in 1 s", cpu);
	/* The first request's answer is the one read here. */
	assert_int_equal(wp_ctl_call(fd, 1, (char *const[]){ "version" }, sink,
				     sink, "", 5000),
			 0);
	close(fd);
	fclose(sink);
	wp_ctl_get_stats(b, &st1);
	assert_int_equal(st1.accepted, st0.accepted + 1);
	wp_ctl_stop(b);
	wp_stack_destroy(b);
	rm_dir(dir);
}

/* --- threads
 * ------------------------------------------------------------------
 */

/* While another thread holds the control lock, a request waits. */
struct lock_arg {
	const char *path;
	int status;
	bool done;
	pthread_mutex_t m;
};

static void *lock_client(void *p)
{
	struct lock_arg *a = p;
	struct resp r;
	int st = CALL(a->path, &r, "ethtool", "-C", "rx-usecs", "77");

	resp_free(&r);
	pthread_mutex_lock(&a->m);
	a->status = st;
	a->done = true;
	pthread_mutex_unlock(&a->m);
	return NULL;
}

static void test_control_lock(void **state)
{
	struct fx *fx = *state;
	struct lock_arg a = { .path = fx->path, .status = -1 };
	struct wp_coalesce_params p;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	pthread_t t;
	bool done;

	pthread_mutex_init(&a.m, NULL);
	wp_ctl_lock(fx->s);
	assert_int_equal(pthread_create(&t, NULL, lock_client, &a), 0);
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&a.m);
	done = a.done;
	pthread_mutex_unlock(&a.m);
	assert_false(done);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 50);
	wp_ctl_unlock(fx->s);
	pthread_join(t, NULL);
	assert_true(a.done);
	assert_int_equal(a.status, 0);
	wp_nic_get_coalesce(fx->s->nic, &p);
	assert_int_equal(p.rx_usecs, 77);
	pthread_mutex_destroy(&a.m);
}

#define NTHREADS (WP_CTL_MAX_CLIENTS + 8)
#define NREQ 40

struct many_arg {
	const char *path;
	int id;
	int failures;
};

/* Each thread keeps its connection and mixes reads and writes. */
static void *many_client(void *p)
{
	struct many_arg *a = p;
	int fd = wp_ctl_connect(a->path);
	char val[16], set[64];

	if (fd < 0) {
		a->failures = NREQ;
		return NULL;
	}
	for (int i = 0; i < NREQ; i++) {
		char *obuf = NULL, *ebuf = NULL;
		size_t ol, el;
		FILE *out = open_memstream(&obuf, &ol);
		FILE *err = open_memstream(&ebuf, &el);
		int st;

		snprintf(val, sizeof(val), "%d", (a->id * NREQ + i) % 100);
		snprintf(set, sizeof(set), "net.core.busy_read=%s", val);
		switch (i % 4) {
		case 0:
			st = wp_ctl_call(fd, 2,
					 (char *const[]){ "stat", "softnet" },
					 out, err, "", 10000);
			break;
		case 1:
			st = wp_ctl_call(fd, 4,
					 (char *const[]){ "ethtool", "-C",
							  "rx-usecs", val },
					 out, err, "", 10000);
			break;
		case 2:
			st = wp_ctl_call(fd, 2,
					 (char *const[]){ "sysctl", set }, out,
					 err, "", 10000);
			break;
		default:
			st = wp_ctl_call(
				fd, 3,
				(char *const[]){ "stat", "ethtool", "--json" },
				out, err, "", 10000);
		}
		fclose(out);
		fclose(err);
		/* Everything but -C has output. */
		if (st != 0 || el != 0 || (ol == 0) != (i % 4 == 1))
			a->failures++;
		free(obuf);
		free(ebuf);
	}
	close(fd);
	return NULL;
}

static void test_many_clients(void **state)
{
	struct fx *fx = *state;
	struct many_arg a[NTHREADS];
	pthread_t t[NTHREADS];
	struct wp_ctl_stats st0, st1;

	wp_ctl_get_stats(fx->s, &st0);
	for (int i = 0; i < NTHREADS; i++) {
		a[i] = (struct many_arg){ .path = fx->path, .id = i };
		assert_int_equal(
			pthread_create(&t[i], NULL, many_client, &a[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(a[i].failures, 0);
	wp_ctl_get_stats(fx->s, &st1);
	assert_int_equal(st1.requests - st0.requests, NTHREADS * NREQ);
	assert_int_equal(st1.accepted - st0.accepted, NTHREADS);
	assert_int_equal(st1.failed, st0.failed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker),
		cmocka_unit_test(test_ethtool_parse),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_stat_softnet_columns),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_views_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stat_views_json, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stat_sockets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stat_sockets_tcp, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ethtool_coalesce, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ethtool_ring, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ethtool_features, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ethtool_channels_rxfh,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_edges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_vanishes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_path_ownership, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unstarted_stack, setup,
						teardown),
		cmocka_unit_test(test_accept_emfile),
		cmocka_unit_test_setup_teardown(test_control_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_clients, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
