// SPDX-License-Identifier: MIT
/*
 * UDP echo (RFC 862): every datagram goes back to where it came from.
 *
 * One thread, batches both ways: wp_recvmmsg with MSG_WAITFORONE sleeps
 * for the first datagram and takes what else is queued (up to ECHO_BATCH)
 * under one socket lock, copying each into its buffer; wp_sendmmsg sends
 * them back, copying each into a transmit buffer. Two copies per echoed
 * datagram, two calls per batch.
 */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wirepath/socket.h"

#define ECHO_BATCH 16
#define ECHO_BUF 65536 /* any UDP datagram fits */

struct echo_slot {
	struct sockaddr_in from;
	struct iovec iov;
};

/* Send n received datagrams back; returns how many went. */
static unsigned echo_back(struct wp_app *app, struct wp_mmsghdr *vec,
			  struct echo_slot *slot, uint8_t (*buf)[ECHO_BUF],
			  unsigned n)
{
	unsigned sent = 0, i = 0;

	for (unsigned k = 0; k < n; k++) {
		/* Send exactly what came: the datagram's length, its sender. */
		slot[k].iov.iov_base = buf[k];
		slot[k].iov.iov_len = vec[k].msg_len;
		vec[k].msg_hdr.msg_namelen = sizeof(slot[k].from);
	}
	while (i < n) {
		int r = wp_sendmmsg(app->fd, vec + i, n - i, 0);

		if (r < 0) {
			/* This one is lost; the rest still go. */
			wp_app_count(&app->errors, 1);
			i++;
			continue;
		}
		for (int k = 0; k < r; k++)
			wp_app_count(&app->tx_bytes, vec[i + k].msg_len);
		sent += (unsigned)r;
		i += (unsigned)r;
	}
	return sent;
}

static void echo_run(struct wp_app *app)
{
	uint8_t(*buf)[ECHO_BUF] = malloc(ECHO_BATCH * sizeof(*buf));
	struct wp_mmsghdr vec[ECHO_BATCH];
	struct echo_slot slot[ECHO_BATCH];

	if (!buf) {
		wp_app_count(&app->errors, 1);
		return;
	}
	for (;;) {
		int n;

		memset(vec, 0, sizeof(vec));
		for (unsigned k = 0; k < ECHO_BATCH; k++) {
			slot[k].iov.iov_base = buf[k];
			slot[k].iov.iov_len = ECHO_BUF;
			vec[k].msg_hdr.msg_iov = &slot[k].iov;
			vec[k].msg_hdr.msg_iovlen = 1;
			vec[k].msg_hdr.msg_name = &slot[k].from;
			vec[k].msg_hdr.msg_namelen = sizeof(slot[k].from);
		}
		n = wp_recvmmsg(app->fd, vec, ECHO_BATCH, MSG_WAITFORONE, NULL);
		/* 0: shut down (wp_app_stop) and drained. */
		if (n == 0 ||
		    (n < 0 &&
		     atomic_load_explicit(&app->stop, memory_order_acquire)))
			break;
		if (n < 0) {
			/* A send error kept for this call (SO_ERROR). */
			wp_app_count(&app->errors, 1);
			continue;
		}
		for (int k = 0; k < n; k++)
			wp_app_count(&app->rx_bytes, vec[k].msg_len);
		wp_app_count(&app->replies,
			     echo_back(app, vec, slot, buf, (unsigned)n));
		wp_app_count(&app->handled, (uint64_t)n);
	}
	free(buf);
}

const struct wp_app_type wp_app_udp_echo = {
	.name = "udp-echo",
	.summary = "UDP echo (RFC 862): every datagram back to its sender",
	.sock_type = SOCK_DGRAM,
	.run = echo_run,
};
