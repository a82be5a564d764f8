// SPDX-License-Identifier: MIT
/*
 * The demo's client host (demo_host.h). Its application threads use only
 * the socket calls, on wp1; the servers they talk to are wirepath's own
 * applications (apps/) on wp0, started here as `wirepath run --app`
 * would. Every call blocks with a short SO_RCVTIMEO/SO_SNDTIMEO, so a
 * stop is noticed within it.
 */
#include "demo_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <time.h>

#include "../apps/app.h"
#include "sock/fd.h"
#include "sock/sock.h"
#include "stack/stack.h"
#include "wirepath/socket.h"

#define SRV_IP ((10u << 24) | 2) /* wp0's default address */
#define CLI_IP ((10u << 24) | 3)
#define TCP_CHUNK 16384
#define HTTP_PATH "/bytes/100000"
#define UDP_GAP_NS (1000 * 1000) /* a round trip per ms */
#define CALL_TIMEO_US 100000

enum { APP_SINK, APP_UDP_ECHO, APP_TCP_ECHO, APP_HTTP, APP__MAX };

static const struct {
	const char *name;
	uint16_t port;
} app_specs[APP__MAX] = {
	[APP_SINK] = { "udp-sink", 9 },
	[APP_UDP_ECHO] = { "udp-echo", 7 },
	[APP_TCP_ECHO] = { "tcp-echo", 7 },
	[APP_HTTP] = { "http", 80 },
};

struct client {
	struct demo_host *h;
	pthread_t thread;
	bool running;
	_Atomic int fd;
	_Atomic uint64_t n, bytes;
};

struct demo_host {
	struct wp_stack *srv, *cli;
	struct wp_app *app[APP__MAX];
	struct client tcp, http, udp;
	_Atomic bool stop;
	pthread_mutex_t rtt_lock;
	struct wp_hist rtt;
	bool stopped;
	struct demo_host_snap last; /* taken as it stopped */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool stopping(const struct demo_host *h)
{
	return atomic_load_explicit(&((struct demo_host *)h)->stop,
				    memory_order_relaxed);
}

/* A socket on wp1 connected to wp0:port, calls bounded in time. */
static int dial(struct demo_host *h, int type, uint16_t port)
{
	struct timeval tv = { 0, CALL_TIMEO_US };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(SRV_IP) };
	int fd = wp_socket_net(h->cli, AF_INET, type, 0);

	if (fd < 0)
		return -1;
	wp_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	wp_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* A timed-out handshake goes on (EINPROGRESS, then EALREADY):
	 * call again, as a client that keeps waiting would. */
	for (;;) {
		if (wp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
		    errno == EISCONN)
			return fd;
		if ((errno != EINPROGRESS && errno != EALREADY) || stopping(h))
			break;
	}
	wp_close(fd);
	return -1;
}

static void nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Read exactly len bytes (or fail: stop, error, end of stream). */
static bool read_full(struct demo_host *h, int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len && !stopping(h)) {
		ssize_t r = wp_recv(fd, (uint8_t *)buf + got, len - got, 0);

		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || errno != EAGAIN)
			return false;
	}
	return got == len;
}

static bool write_full(struct demo_host *h, int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len && !stopping(h)) {
		ssize_t w =
			wp_send(fd, (const uint8_t *)buf + put, len - put, 0);

		if (w > 0)
			put += (size_t)w;
		else if (errno != EAGAIN)
			return false;
	}
	return put == len;
}

/* A TCP stream through tcp-echo: 16 KiB out, the same 16 KiB back. */
static void *tcp_main(void *arg)
{
	struct client *c = arg;
	struct demo_host *h = c->h;
	static uint8_t out[TCP_CHUNK];
	uint8_t *in = malloc(TCP_CHUNK);
	int fd;

	if (!in)
		return NULL;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)i;
	while (!stopping(h)) {
		fd = dial(h, SOCK_STREAM, app_specs[APP_TCP_ECHO].port);
		if (fd < 0) {
			nap_ms(10);
			continue;
		}
		atomic_store(&c->fd, fd);
		while (write_full(h, fd, out, sizeof(out)) &&
		       read_full(h, fd, in, TCP_CHUNK)) {
			atomic_fetch_add(&c->n, 1);
			atomic_fetch_add(&c->bytes, TCP_CHUNK);
		}
		atomic_store(&c->fd, -1);
		wp_close(fd);
	}
	free(in);
	return NULL;
}

/* The value of a header in an HTTP response head (case-insensitive). */
static long header_long(const char *head, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = head; (p = strchr(p, '\n'));) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
	}
	return -1;
}

/* HTTP/1.1 keep-alive: GET /bytes/100000, the head, then the body. */
static void *http_main(void *arg)
{
	static const char req[] = "GET " HTTP_PATH " HTTP/1.1\r\n"
				  "Host: 10.0.0.2\r\n"
				  "User-Agent: wirepath-demo\r\n\r\n";
	struct client *c = arg;
	struct demo_host *h = c->h;
	char *buf = malloc(65536);
	int fd;

	if (!buf)
		return NULL;
	while (!stopping(h)) {
		fd = dial(h, SOCK_STREAM, app_specs[APP_HTTP].port);
		if (fd < 0) {
			nap_ms(10);
			continue;
		}
		atomic_store(&c->fd, fd);
		while (write_full(h, fd, req, sizeof(req) - 1)) {
			size_t got = 0;
			char *end = NULL;
			long body;

			/* The head, one byte at a time is too slow: read what
			 * comes and find its end. */
			while (!end && got < 4095 && !stopping(h)) {
				ssize_t r =
					wp_recv(fd, buf + got, 4095 - got, 0);

				if (r <= 0 && (r == 0 || errno != EAGAIN))
					break;
				if (r > 0)
					got += (size_t)r;
				buf[got] = '\0';
				end = strstr(buf, "\r\n\r\n");
			}
			if (!end || strncmp(buf, "HTTP/1.1 200", 12))
				break;
			body = header_long(buf, "Content-Length");
			if (body < 0)
				break;
			got -= (size_t)(end + 4 - buf);
			while ((long)got < body && !stopping(h)) {
				size_t want = (size_t)body - got;
				ssize_t r =
					wp_recv(fd, buf,
						want < 65536 ? want : 65536, 0);

				if (r > 0)
					got += (size_t)r;
				else if (r == 0 || errno != EAGAIN)
					break;
			}
			if ((long)got != body)
				break;
			atomic_fetch_add(&c->n, 1);
			atomic_fetch_add(&c->bytes, (uint64_t)body);
		}
		atomic_store(&c->fd, -1);
		wp_close(fd);
	}
	free(buf);
	return NULL;
}

/* UDP round trips through udp-echo, one a millisecond, timed. */
static void *udp_main(void *arg)
{
	struct client *c = arg;
	struct demo_host *h = c->h;
	uint64_t seq = 0;
	int fd = dial(h, SOCK_DGRAM, app_specs[APP_UDP_ECHO].port);

	if (fd < 0)
		return NULL;
	atomic_store(&c->fd, fd);
	while (!stopping(h)) {
		uint64_t msg[8] = { ++seq, now_ns() }, back[8];
		ssize_t r;

		if (wp_send(fd, msg, sizeof(msg), 0) != sizeof(msg)) {
			nap_ms(1);
			continue;
		}
		/* Skip echoes of earlier pings that timed out. */
		do
			r = wp_recv(fd, back, sizeof(back), 0);
		while (r == sizeof(back) && back[0] != seq);
		if (r == sizeof(back)) {
			uint64_t rtt = now_ns() - back[1];

			pthread_mutex_lock(&h->rtt_lock);
			wp_hist_record(&h->rtt, rtt);
			pthread_mutex_unlock(&h->rtt_lock);
			atomic_fetch_add(&c->n, 1);
		}
		nap_ms(UDP_GAP_NS / 1000000);
	}
	atomic_store(&c->fd, -1);
	wp_close(fd);
	return NULL;
}

struct demo_host *demo_host_create(struct wp_stack *server, char *err,
				   size_t errlen)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x03 };
	struct demo_host *h = calloc(1, sizeof(*h));
	struct wp_stack_config cfg;
	int ret;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	wp_stack_config_default(&cfg);
	memcpy(cfg.mac, mac, sizeof(mac));
	cfg.mac_set = true;
	cfg.addr = CLI_IP;
	cfg.rate_pps = 0; /* its wire carries only what wp0 sends */
	h->cli = wp_stack_create(&cfg, err, errlen);
	if (!h->cli) {
		free(h);
		return NULL;
	}
	ret = wp_stack_link_sim(server, h->cli, err, errlen);
	if (ret) {
		wp_stack_destroy(h->cli);
		free(h);
		return NULL;
	}
	h->srv = server;
	pthread_mutex_init(&h->rtt_lock, NULL);
	wp_hist_init(&h->rtt);
	atomic_init(&h->tcp.fd, -1);
	atomic_init(&h->http.fd, -1);
	atomic_init(&h->udp.fd, -1);
	return h;
}

static void client_start(struct demo_host *h, struct client *c,
			 void *(*fn)(void *))
{
	c->h = h;
	c->running = pthread_create(&c->thread, NULL, fn, c) == 0;
}

int demo_host_start(struct demo_host *h, char *err, size_t errlen)
{
	if (wp_stack_start(h->cli)) {
		snprintf(err, errlen, "cannot start wp1's core thread");
		return -1;
	}
	for (int i = 0; i < APP__MAX; i++) {
		const struct wp_app_type *t = wp_app_find(app_specs[i].name);

		/* An application this build lacks leaves its flow out. */
		if (t)
			h->app[i] = wp_app_start(t, h->srv, app_specs[i].port,
						 err, errlen);
	}
	if (h->app[APP_UDP_ECHO])
		client_start(h, &h->udp, udp_main);
	if (h->app[APP_TCP_ECHO])
		client_start(h, &h->tcp, tcp_main);
	if (h->app[APP_HTTP])
		client_start(h, &h->http, http_main);
	return 0;
}

void demo_host_snap(struct demo_host *h, struct demo_host_snap *sn)
{
	struct wp_app *sink = h->app[APP_SINK];

	if (h->stopped) { /* the applications are gone: their last counts */
		*sn = h->last;
		return;
	}
	memset(sn, 0, sizeof(*sn));
	sn->tcp_bytes = atomic_load(&h->tcp.bytes);
	sn->http_reqs = atomic_load(&h->http.n);
	sn->http_bytes = atomic_load(&h->http.bytes);
	sn->udp_rtts = atomic_load(&h->udp.n);
	pthread_mutex_lock(&h->rtt_lock);
	sn->rtt = h->rtt;
	pthread_mutex_unlock(&h->rtt_lock);
	if (sink) {
		struct wp_sock *sk = wp_sockfd_lookup(sink->fd);

		sn->sink_dgrams = atomic_load(&sink->handled);
		if (sk) {
			sn->sink_drops = atomic_load_explicit(
				&sk->sk_drops, memory_order_relaxed);
			wp_sockfd_put(sk);
		}
	}
	wp_wake_stats_shared(&sn->wake);
}

/* `ss -ti`-like: the client's TCP socket of a flow, queues and window. */
static void print_tcp_sock(const char *what, int fd, FILE *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int inq = 0, outq = 0;

	if (fd < 0 || wp_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return;
	wp_ioctl(fd, FIONREAD, &inq);
	wp_ioctl(fd, SIOCOUTQ, &outq);
	fprintf(out,
		"      %-8s Recv-Q %6d Send-Q %6d | cwnd %3u rtt %5.0f us "
		"rcv_space %6u unacked %3u retrans %u\n",
		what, inq, outq, ti.tcpi_snd_cwnd, (double)ti.tcpi_rtt,
		ti.tcpi_rcv_space, ti.tcpi_unacked, ti.tcpi_total_retrans);
}

void demo_host_print_interval(struct demo_host *h,
			      const struct demo_host_snap *a,
			      const struct demo_host_snap *b, double dt,
			      FILE *out)
{
	struct wp_hist rtt;
	const uint64_t *ca = a->wake.calls, *cb = b->wake.calls;

	wp_hist_diff(&rtt, &b->rtt, &a->rtt);
	fprintf(out,
		"      flows: tcp-echo %6.1f MB/s | http %5.0f req/s %6.1f "
		"MB/s | udp-echo %4.0f rtt/s p50 %.0f us | udp-sink %7.0f "
		"dgram/s, %" PRIu64 " dropped (queue full)\n",
		(double)(b->tcp_bytes - a->tcp_bytes) / dt / 1e6,
		(double)(b->http_reqs - a->http_reqs) / dt,
		(double)(b->http_bytes - a->http_bytes) / dt / 1e6,
		(double)(b->udp_rtts - a->udp_rtts) / dt,
		(double)wp_hist_quantile(&rtt, 0.5) / 1e3,
		(double)(b->sink_dgrams - a->sink_dgrams) / dt,
		b->sink_drops - a->sink_drops);
	fprintf(out,
		"      wake-ups/s: default %.0f, pollwake %.0f, "
		"ep_poll_callback %.0f\n",
		(double)(cb[WP_WAKE_DEFAULT] - ca[WP_WAKE_DEFAULT]) / dt,
		(double)(cb[WP_WAKE_POLLWAKE] - ca[WP_WAKE_POLLWAKE]) / dt,
		(double)(cb[WP_WAKE_EP_POLL_CALLBACK] -
			 ca[WP_WAKE_EP_POLL_CALLBACK]) /
			dt);
	print_tcp_sock("tcp-echo", atomic_load(&h->tcp.fd), out);
	print_tcp_sock("http", atomic_load(&h->http.fd), out);
}

void demo_host_print_summary(struct demo_host *h,
			     const struct demo_host_snap *a,
			     const struct demo_host_snap *b, FILE *out)
{
	struct wp_hist rtt;

	wp_hist_diff(&rtt, &b->rtt, &a->rtt);
	fprintf(out, "  applications on wp0, clients on wp1 (10.0.0.3):\n");
	for (int i = 0; i < APP__MAX; i++)
		fprintf(out, "    %-9s :%-3u %s\n", app_specs[i].name,
			app_specs[i].port,
			h->app[i] ? "ran" : "not in this build");
	fprintf(out,
		"    tcp-echo: %" PRIu64 " bytes there and back; http: %" PRIu64
		" responses, %" PRIu64 " bytes\n",
		b->tcp_bytes - a->tcp_bytes, b->http_reqs - a->http_reqs,
		b->http_bytes - a->http_bytes);
	fprintf(out,
		"    udp-echo: %" PRIu64 " round trips, p50 %.0f us p99 %.0f "
		"us; udp-sink: %" PRIu64 " datagrams read, %" PRIu64
		" dropped at its full queue\n",
		b->udp_rtts - a->udp_rtts,
		(double)wp_hist_quantile(&rtt, 0.5) / 1e3,
		(double)wp_hist_quantile(&rtt, 0.99) / 1e3,
		b->sink_dgrams - a->sink_dgrams, b->sink_drops - a->sink_drops);
	fprintf(out, "  wake-ups by kind (wait-queue functions run):\n");
	for (int k = 0; k < WP_WAKE__MAX; k++)
		if (b->wake.calls[k] - a->wake.calls[k])
			fprintf(out, "    %-22s %" PRIu64 "\n",
				wp_wake_kind_name((enum wp_wake_kind)k),
				b->wake.calls[k] - a->wake.calls[k]);
}

void demo_host_stop(struct demo_host *h)
{
	struct client *cl[] = { &h->tcp, &h->http, &h->udp };

	if (!h)
		return;
	atomic_store(&h->stop, true);
	for (size_t i = 0; i < sizeof(cl) / sizeof(cl[0]); i++)
		if (cl[i]->running) {
			pthread_join(cl[i]->thread, NULL);
			cl[i]->running = false;
		}
	demo_host_snap(h, &h->last);
	h->stopped = true;
	for (int i = 0; i < APP__MAX; i++)
		wp_app_stop(h->app[i]);
	wp_stack_stop(h->cli);
}

void demo_host_destroy(struct demo_host *h)
{
	if (!h)
		return;
	wp_stack_destroy(h->cli);
	pthread_mutex_destroy(&h->rtt_lock);
	free(h);
}
