// SPDX-License-Identifier: MIT
/*
 * UDP discard (RFC 863): read every datagram, count it, keep nothing.
 *
 * Reads in batches with wp_recvmmsg (MSG_WAITFORONE: sleep for the first
 * datagram, take what else is queued under one lock), copying each into
 * a buffer the size of a standard frame's payload; MSG_TRUNC makes each
 * msg_len the datagram's real size, so bytes are counted right even for
 * datagrams cut short.
 */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wirepath/socket.h"

#define SINK_BATCH 64
#define SINK_BUF 2048

static void sink_run(struct wp_app *app)
{
	uint8_t(*buf)[SINK_BUF] = malloc(SINK_BATCH * sizeof(*buf));
	struct wp_mmsghdr vec[SINK_BATCH];
	struct iovec iov[SINK_BATCH];

	if (!buf) {
		wp_app_count(&app->errors, 1);
		return;
	}
	for (;;) {
		int n;

		memset(vec, 0, sizeof(vec));
		for (unsigned k = 0; k < SINK_BATCH; k++) {
			iov[k].iov_base = buf[k];
			iov[k].iov_len = SINK_BUF;
			vec[k].msg_hdr.msg_iov = &iov[k];
			vec[k].msg_hdr.msg_iovlen = 1;
		}
		n = wp_recvmmsg(app->fd, vec, SINK_BATCH,
				MSG_WAITFORONE | MSG_TRUNC, NULL);
		/* 0: shut down (wp_app_stop) and drained. */
		if (n == 0 ||
		    (n < 0 &&
		     atomic_load_explicit(&app->stop, memory_order_acquire)))
			break;
		if (n < 0) {
			wp_app_count(&app->errors, 1);
			continue;
		}
		for (int k = 0; k < n; k++)
			wp_app_count(&app->rx_bytes, vec[k].msg_len);
		wp_app_count(&app->handled, (uint64_t)n);
	}
	free(buf);
}

const struct wp_app_type wp_app_udp_sink = {
	.name = "udp-sink",
	.summary = "UDP discard (RFC 863): read and count every datagram",
	.sock_type = SOCK_DGRAM,
	.run = sink_run,
};
