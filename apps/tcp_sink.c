// SPDX-License-Identifier: MIT
/*
 * TCP discard (RFC 863): read every byte of every connection, count it,
 * keep nothing; close when the peer does. One buffer for the
 * application, not one per connection: nothing is kept between reads.
 */
#include "app.h"

#include <errno.h>

#include "wirepath/socket.h"

#define SINK_BUF 65536

/* The loop's thread's own: every connection reads into it in turn. */
static _Thread_local uint8_t sink_buf[SINK_BUF];

static int sink_ready(struct wp_app_conn *c, uint32_t events)
{
	size_t moved = 0;

	(void)events;
	while (moved < WP_APP_BUDGET) {
		ssize_t n = wp_app_recv(c, sink_buf, SINK_BUF);

		if (n == 0)
			return WP_APP_CLOSE;
		if (n < 0)
			return errno == EAGAIN ? WP_APP_KEEP : WP_APP_CLOSE;
		moved += (size_t)n;
	}
	return WP_APP_KEEP;
}

static const struct wp_app_stream_ops sink_ops = {
	.ready = sink_ready,
};

const struct wp_app_type wp_app_tcp_sink = {
	.name = "tcp-sink",
	.summary = "TCP discard (RFC 863): read and count every byte",
	.sock_type = SOCK_STREAM,
	.stream = &sink_ops,
};
