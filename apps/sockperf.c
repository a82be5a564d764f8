// SPDX-License-Identifier: MIT
/*
 * A sockperf server (`--app sockperf:11111`): what `sockperf server`
 * answers, so `sockperf ping-pong` and `sockperf under-load` measure
 * their latency against wirepath, over UDP and TCP.
 *
 * sockperf's messages start with a 14-byte header, network order:
 *
 *   0  u64 sequence number
 *   8  u16 flags: 1 CLIENT (sent by a client), 2 PONG_REQUEST (answer
 *          this one), 4 WARMUP (not measured: never answered)
 *   10 u32 length of the whole message, header included
 *
 * A client message with PONG_REQUEST goes back to its sender unchanged
 * but for the CLIENT flag, which is cleared; every other message is
 * only counted. ping-pong asks for every reply, under-load for some.
 * Over UDP a datagram holds whole messages (one, from sockperf); over
 * TCP they follow each other on the stream.
 *
 * Malformed input is dropped and counted (bad_message): a UDP datagram
 * shorter than a header or than the length its header gives (the rest
 * of it with it), a length below the header's size or above
 * SOCKPERF_MAX (sockperf's MAX_PAYLOAD_SIZE; over TCP the connection is
 * closed then, as sockperf does, since the stream cannot be resynced).
 *
 * One thread, one epoll instance: the UDP socket (app->fd: batches of
 * recvmmsg, replies by sendmmsg; its shutdown is the stop), the TCP
 * listener and up to SP_CONNS connections, each with an input buffer for
 * a partial message and an output buffer for replies its peer has not
 * taken yet (reading stops while that is full: backpressure, not
 * loss).
 */
#include "app.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "wirepath/socket.h"

#define SP_HDR 14
#define SOCKPERF_MAX 65506 /* sockperf's MAX_PAYLOAD_SIZE */
#define SP_FLAG_CLIENT 1
#define SP_FLAG_PONG 2
#define SP_FLAG_WARMUP 4
#define SP_BATCH 32
#define SP_UDP_BUF 65536
#define SP_CONNS 64
#define SP_TCP_IN 65536
#define SP_TCP_OUT (256 * 1024)

enum sp_counter {
	SP_MESSAGES,	/* client messages measured (warm-up apart) */
	SP_WARMUP,	/* warm-up messages */
	SP_NOT_CLIENT,	/* messages without the CLIENT flag: ignored */
	SP_BAD_MESSAGE, /* malformed, dropped */
	SP_TCP_CONNS,	/* connections accepted */
	SP_TCP_REFUSED, /* connections over SP_CONNS, closed at once */
	SP__MAX
};

static const char *const sp_counter_names[SP__MAX] = {
	"messages",    "warmup",    "not_client",
	"bad_message", "tcp_conns", "tcp_refused",
};

enum { EV_UDP, EV_LISTEN, EV_CONN };

struct sp_conn {
	int fd; /* -1: free */
	size_t in_len, out_off, out_len;
	bool blocked; /* output full: not reading */
	uint8_t in[SP_TCP_IN];
	uint8_t out[SP_TCP_OUT];
};

struct sp {
	struct wp_app *app;
	int listen_fd, ep;
	struct sp_conn *conn[SP_CONNS];
	uint8_t (*buf)[SP_UDP_BUF];
};

static void count(struct sp *s, enum sp_counter c)
{
	wp_app_count(&s->app->counter[c], 1);
}

static uint32_t msg_len(const uint8_t *m)
{
	uint32_t l;

	memcpy(&l, m + 10, 4);
	return ntohl(l);
}

static uint16_t msg_flags(const uint8_t *m)
{
	uint16_t f;

	memcpy(&f, m + 8, 2);
	return ntohs(f);
}

/* Count a whole message; true if it is to be answered (then its CLIENT
 * flag is cleared in place: the reply is the message itself). */
static bool take(struct sp *s, uint8_t *m)
{
	uint16_t f = msg_flags(m);

	if (!(f & SP_FLAG_CLIENT)) {
		count(s, SP_NOT_CLIENT);
		return false;
	}
	if (f & SP_FLAG_WARMUP) {
		count(s, SP_WARMUP);
		return false;
	}
	count(s, SP_MESSAGES);
	if (!(f & SP_FLAG_PONG))
		return false;
	f = htons(f & (uint16_t)~SP_FLAG_CLIENT);
	memcpy(m + 8, &f, 2);
	return true;
}

/* --- UDP ------------------------------------------------------------------ */

/* More than one message in a datagram: each reply on its own. */
static void udp_multi(struct sp *s, uint8_t *d, size_t len,
		      const struct sockaddr_in *from)
{
	size_t off = 0;

	while (off < len) {
		uint32_t l;

		if (len - off < SP_HDR || (l = msg_len(d + off)) < SP_HDR ||
		    l > len - off || l > SOCKPERF_MAX) {
			count(s, SP_BAD_MESSAGE);
			return;
		}
		if (take(s, d + off)) {
			if (wp_sendto(s->app->fd, d + off, l, 0,
				      (const struct sockaddr *)from,
				      sizeof(*from)) < 0) {
				wp_app_count(&s->app->errors, 1);
			} else {
				wp_app_count(&s->app->replies, 1);
				wp_app_count(&s->app->tx_bytes, l);
			}
		}
		off += l;
	}
}

/* Send vec[0..n) back; each went to its sender. */
static void udp_reply(struct sp *s, struct wp_mmsghdr *vec, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		int r = wp_sendmmsg(s->app->fd, vec + i, n - i, 0);

		if (r < 0) {
			wp_app_count(&s->app->errors, 1);
			i++;
			continue;
		}
		for (int k = 0; k < r; k++)
			wp_app_count(&s->app->tx_bytes, vec[i + k].msg_len);
		wp_app_count(&s->app->replies, (uint64_t)r);
		i += (unsigned)r;
	}
}

/* Serve what is queued; false once the socket is shut down (stop). */
static bool on_udp(struct sp *s)
{
	struct wp_mmsghdr vec[SP_BATCH], out[SP_BATCH];
	struct sockaddr_in from[SP_BATCH];
	struct iovec iov[SP_BATCH], oiov[SP_BATCH];

	for (;;) {
		unsigned nout = 0;
		int n;

		memset(vec, 0, sizeof(vec));
		for (unsigned k = 0; k < SP_BATCH; k++) {
			iov[k].iov_base = s->buf[k];
			iov[k].iov_len = SP_UDP_BUF;
			vec[k].msg_hdr.msg_iov = &iov[k];
			vec[k].msg_hdr.msg_iovlen = 1;
			vec[k].msg_hdr.msg_name = &from[k];
			vec[k].msg_hdr.msg_namelen = sizeof(from[k]);
		}
		n = wp_recvmmsg(s->app->fd, vec, SP_BATCH, MSG_DONTWAIT, NULL);
		if (n == 0) /* shut down (wp_app_stop) and drained */
			return false;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0) {
			wp_app_count(&s->app->errors, 1);
			return !atomic_load_explicit(&s->app->stop,
						     memory_order_acquire);
		}
		memset(out, 0, sizeof(out));
		for (int k = 0; k < n; k++) {
			uint8_t *d = s->buf[k];
			size_t len = vec[k].msg_len;

			wp_app_count(&s->app->rx_bytes, len);
			if (len >= SP_HDR && msg_len(d) == len &&
			    len <= SOCKPERF_MAX) {
				/* The usual case: one message, answered
				 * from where it was received. */
				if (!take(s, d))
					continue;
				oiov[nout].iov_base = d;
				oiov[nout].iov_len = len;
				out[nout].msg_hdr.msg_iov = &oiov[nout];
				out[nout].msg_hdr.msg_iovlen = 1;
				out[nout].msg_hdr.msg_name = &from[k];
				out[nout].msg_hdr.msg_namelen = sizeof(from[k]);
				nout++;
			} else {
				udp_multi(s, d, len, &from[k]);
			}
		}
		udp_reply(s, out, nout);
		wp_app_count(&s->app->handled, (uint64_t)n);
	}
}

/* --- TCP ------------------------------------------------------------------ */

static void conn_close(struct sp *s, unsigned i)
{
	wp_close(s->conn[i]->fd);
	free(s->conn[i]);
	s->conn[i] = NULL;
}

static void conn_events(struct sp *s, unsigned i, uint32_t events)
{
	struct wp_epoll_event e = { .events = events,
				    .data.u64 = (uint64_t)EV_CONN << 32 | i };

	wp_epoll_ctl(s->ep, WP_EPOLL_CTL_MOD, s->conn[i]->fd, &e);
}

/* Send what replies are waiting; -1 if the connection is gone. */
static int conn_flush(struct sp *s, struct sp_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t r = wp_send(c->fd, c->out + c->out_off,
				    c->out_len - c->out_off,
				    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0)
			return -1;
		wp_app_count(&s->app->tx_bytes, (uint64_t)r);
		c->out_off += (size_t)r;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return 0;
}

/* Take the whole messages in c->in; -1: malformed (close it). */
static int conn_parse(struct sp *s, struct sp_conn *c)
{
	size_t off = 0;

	while (c->in_len - off >= SP_HDR) {
		uint8_t *m = c->in + off;
		uint32_t l = msg_len(m);

		if (l < SP_HDR || l > SOCKPERF_MAX) {
			count(s, SP_BAD_MESSAGE);
			return -1;
		}
		if (c->in_len - off < l)
			break;
		/* Room for the reply, or stop here until there is. */
		if (SP_TCP_OUT - c->out_len < l) {
			c->blocked = true;
			break;
		}
		if (take(s, m)) {
			memcpy(c->out + c->out_len, m, l);
			c->out_len += l;
			wp_app_count(&s->app->replies, 1);
		}
		off += l;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return 0;
}

static void on_conn(struct sp *s, unsigned i, uint32_t events)
{
	struct sp_conn *c = s->conn[i];

	if ((events & WP_EPOLLOUT) && conn_flush(s, c))
		goto out_close;
	if (c->blocked) {
		c->blocked = false;
		if (conn_parse(s, c) || conn_flush(s, c))
			goto out_close;
	}
	for (int k = 0; k < 16 && !c->blocked; k++) {
		ssize_t r = wp_recv(c->fd, c->in + c->in_len,
				    SP_TCP_IN - c->in_len, MSG_DONTWAIT);

		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0)
			goto out_close;
		wp_app_count(&s->app->rx_bytes, (uint64_t)r);
		c->in_len += (size_t)r;
		if (conn_parse(s, c) || conn_flush(s, c))
			goto out_close;
	}
	/* Waiting to write: watch for room, and read nothing meanwhile. */
	conn_events(s, i,
		    c->out_len ? (c->blocked ? 0u : WP_EPOLLIN) | WP_EPOLLOUT
			       : WP_EPOLLIN);
	return;
out_close:
	conn_close(s, i);
}

static void on_listen(struct sp *s)
{
	for (;;) {
		int fd = wp_accept4(s->listen_fd, NULL, NULL, 0), one = 1;
		struct wp_epoll_event e = { .events = WP_EPOLLIN };
		unsigned i;

		if (fd < 0) {
			if (errno != EAGAIN)
				wp_app_count(&s->app->errors, 1);
			return;
		}
		for (i = 0; i < SP_CONNS && s->conn[i]; i++)
			;
		if (i == SP_CONNS) {
			count(s, SP_TCP_REFUSED);
			wp_close(fd);
			continue;
		}
		s->conn[i] = malloc(sizeof(*s->conn[i]));
		if (!s->conn[i]) {
			wp_app_count(&s->app->errors, 1);
			wp_close(fd);
			continue;
		}
		s->conn[i]->fd = fd;
		s->conn[i]->in_len = s->conn[i]->out_len = 0;
		s->conn[i]->out_off = 0;
		s->conn[i]->blocked = false;
		/* Latency: every reply leaves at once. */
		wp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e.data.u64 = (uint64_t)EV_CONN << 32 | i;
		if (wp_epoll_ctl(s->ep, WP_EPOLL_CTL_ADD, fd, &e)) {
			wp_app_count(&s->app->errors, 1);
			conn_close(s, i);
			continue;
		}
		count(s, SP_TCP_CONNS);
	}
}

static void sp_run(struct wp_app *app)
{
	struct sp *s = app->priv;
	struct wp_epoll_event evs[32];
	bool live = true;

	while (live) {
		int n = wp_epoll_wait(s->ep, evs, 32, -1);

		if (n < 0) {
			wp_app_count(&app->errors, 1);
			break;
		}
		for (int i = 0; i < n && live; i++) {
			unsigned kind = (unsigned)(evs[i].data.u64 >> 32);
			unsigned idx = (unsigned)evs[i].data.u64;

			if (kind == EV_UDP)
				live = on_udp(s);
			else if (kind == EV_LISTEN)
				on_listen(s);
			else if (idx < SP_CONNS && s->conn[idx])
				on_conn(s, idx, evs[i].events);
		}
	}
	for (unsigned i = 0; i < SP_CONNS; i++)
		if (s->conn[i])
			conn_close(s, i);
}

static void sp_close(struct wp_app *app)
{
	struct sp *s = app->priv;

	if (!s)
		return;
	if (s->ep >= 0)
		wp_close(s->ep);
	if (s->listen_fd >= 0)
		wp_close(s->listen_fd);
	free(s->buf);
	free(s);
	app->priv = NULL;
}

static int sp_open(struct wp_app *app, char *err, size_t errlen)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(app->port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct wp_epoll_event e = { .events = WP_EPOLLIN };
	struct sp *s = calloc(1, sizeof(*s));
	int one = 1, ret;

	if (!s) {
		snprintf(err, errlen, "sockperf:%u: out of memory", app->port);
		return -ENOMEM;
	}
	app->priv = s;
	s->app = app;
	s->ep = wp_epoll_create1(0);
	s->listen_fd = wp_socket_net(app->stack, AF_INET,
				     SOCK_STREAM | SOCK_NONBLOCK, 0);
	s->buf = malloc(SP_BATCH * sizeof(*s->buf));
	if (!s->buf || s->ep < 0 || s->listen_fd < 0) {
		ret = s->buf ? errno : ENOMEM;
		snprintf(err, errlen, "sockperf:%u: %s", app->port,
			 strerror(ret));
		goto out;
	}
	wp_setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		      sizeof(one));
	if (wp_bind(s->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    wp_listen(s->listen_fd, 64)) {
		ret = errno;
		snprintf(err, errlen,
			 "sockperf:%u: TCP bind/listen: %s (is another --app "
			 "on TCP port %u?)",
			 app->port, strerror(ret), app->port);
		goto out;
	}
	e.data.u64 = (uint64_t)EV_LISTEN << 32;
	ret = wp_epoll_ctl(s->ep, WP_EPOLL_CTL_ADD, s->listen_fd, &e);
	e.data.u64 = (uint64_t)EV_UDP << 32;
	if (ret || wp_epoll_ctl(s->ep, WP_EPOLL_CTL_ADD, app->fd, &e)) {
		ret = errno;
		snprintf(err, errlen, "sockperf:%u: epoll: %s", app->port,
			 strerror(ret));
		goto out;
	}
	return 0;
out:
	sp_close(app);
	return -ret;
}

const struct wp_app_type wp_app_sockperf = {
	.name = "sockperf",
	.summary = "a sockperf server: ping-pong and under-load, UDP and TCP",
	.sock_type = SOCK_DGRAM,
	.run = sp_run,
	.open = sp_open,
	.close = sp_close,
	.transport = "TCP and UDP",
	.counter_names = sp_counter_names,
	.ncounters = SP__MAX,
};
