// SPDX-License-Identifier: MIT
/*
 * TCP character generator (RFC 864): every connection gets the chargen
 * stream (chargen.h) as fast as it takes it, until it closes; anything
 * it sends is read and thrown away (RFC 864 says so). The peer's FIN
 * does not stop the stream: a client that shut down its writing side
 * may still read, and the RFC's server "continues to send until the
 * client closes". A download test for any client: the first N bytes
 * are known, so they can be checked.
 *
 * Sending costs one copy per byte (into the send buffer), out of the
 * chargen table: nothing is computed per byte.
 */
#include "app.h"

#include <errno.h>

#include "chargen.h"
#include "wirepath/socket.h"

#define SOURCE_CHUNK WP_CHARGEN_SPAN

static int source_open(struct wp_app_conn *c)
{
	c->want = WP_EPOLLOUT | WP_EPOLLIN;
	return WP_APP_KEEP;
}

/* Read and drop what the peer sent; false when the connection failed. */
static bool discard_input(struct wp_app_conn *c)
{
	static _Thread_local uint8_t buf[16384];

	for (int i = 0; i < 16; i++) {
		ssize_t n = wp_app_recv(c, buf, sizeof(buf));

		if (n == 0) {
			/* The peer's FIN: stop asking to read (level-
			 * triggered, EOF would be reported forever). */
			c->want &= ~(uint32_t)WP_EPOLLIN;
			return true;
		}
		if (n < 0)
			return errno == EAGAIN;
	}
	return true;
}

static int source_ready(struct wp_app_conn *c, uint32_t events)
{
	size_t moved = 0;

	if ((events & WP_EPOLLIN) && !discard_input(c))
		return WP_APP_CLOSE;
	while (moved < WP_APP_BUDGET) {
		ssize_t n = wp_app_send(c, wp_chargen_at(c->tx_bytes),
					SOURCE_CHUNK);

		if (n < 0)
			return errno == EAGAIN ? WP_APP_KEEP : WP_APP_CLOSE;
		moved += (size_t)n;
		if ((size_t)n < SOURCE_CHUNK)
			break; /* the send buffer is full */
	}
	return WP_APP_KEEP;
}

static const struct wp_app_stream_ops source_ops = {
	.open = source_open,
	.ready = source_ready,
};

const struct wp_app_type wp_app_tcp_source = {
	.name = "tcp-source",
	.summary = "TCP character generator (RFC 864): send until the peer "
		   "closes",
	.sock_type = SOCK_STREAM,
	.stream = &source_ops,
};
