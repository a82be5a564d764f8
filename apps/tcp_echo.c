// SPDX-License-Identifier: MIT
/*
 * TCP echo (RFC 862): every byte a connection sends comes back on it,
 * in order, until the peer closes; then whatever is still to be echoed
 * goes, and the connection closes.
 *
 * Per connection a buffer of ECHO_BUF bytes: read into it, write it out;
 * while the send buffer cannot take it all, the connection waits for
 * EPOLLOUT and does not read, so a peer that does not read its echo is
 * stopped by TCP's window rather than by memory here. Two copies per
 * byte (recv, send), as any echo server on the socket API.
 */
#include "app.h"

#include <errno.h>
#include <netinet/tcp.h>

#include "wirepath/socket.h"

#define ECHO_BUF 65536

struct echo_conn {
	uint32_t start, end; /* buf[start, end) read, not yet sent */
	uint8_t buf[ECHO_BUF];
};

static void echo_listener(struct wp_app *app, int fd)
{
	int one = 1;

	/* An echo is interactive: no Nagle delay on small writes. */
	if (wp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		wp_app_count(&app->errors, 1);
}

static int echo_ready(struct wp_app_conn *c, uint32_t events)
{
	struct echo_conn *e = c->priv;
	size_t moved = 0;

	while (moved < WP_APP_BUDGET) {
		ssize_t n;

		if (e->start < e->end) {
			n = wp_app_send(c, e->buf + e->start,
					e->end - e->start);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0)
				return WP_APP_CLOSE;
			e->start += (uint32_t)n;
			moved += (size_t)n;
			if (e->start < e->end)
				break; /* the send buffer is full */
			continue;
		}
		if (c->eof)
			return WP_APP_CLOSE; /* all echoed */
		n = wp_app_recv(c, e->buf, sizeof(e->buf));
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return WP_APP_CLOSE;
		e->start = 0;
		e->end = (uint32_t)n;
	}
	/* Bytes waiting to go: wait for room, read nothing meanwhile. */
	c->want = e->start < e->end ? WP_EPOLLOUT : WP_EPOLLIN | WP_EPOLLRDHUP;
	(void)events;
	return WP_APP_KEEP;
}

static const struct wp_app_stream_ops echo_ops = {
	.conn_size = sizeof(struct echo_conn),
	.listener = echo_listener,
	.ready = echo_ready,
};

const struct wp_app_type wp_app_tcp_echo = {
	.name = "tcp-echo",
	.summary = "TCP echo (RFC 862): every byte back on its connection",
	.sock_type = SOCK_STREAM,
	.stream = &echo_ops,
};
