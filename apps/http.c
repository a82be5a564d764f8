// SPDX-License-Identifier: MIT
/*
 * A small HTTP/1.1 server (RFC 9110, 9112) for clients such as curl and
 * browsers to reach the stack with:
 *
 *   GET /          a short HTML page naming wirepath
 *   GET /bytes/N   N bytes (0 .. HTTP_BYTES_MAX) of the chargen stream
 *                  (chargen.h), application/octet-stream: downloads of
 *                  any size whose content a client can check
 *   HEAD           the same heads, no body
 *
 * Persistent connections as RFC 9112 9.3 says (HTTP/1.1 unless
 * "Connection: close", HTTP/1.0 only with "Connection: keep-alive"),
 * pipelined requests answered in order. Every response has a
 * Content-Length. Errors: 400 malformed (http_parse.h), 404 unknown
 * path, 405 a method other than GET and HEAD (with Allow), 413 a body
 * above WP_HTTP_BODY_MAX, 414 a request line above WP_HTTP_LINE_MAX,
 * 431 a head above WP_HTTP_HEAD_MAX or with too many fields, 501 a
 * Transfer-Encoding, 505 not HTTP/1.x. After 400, 413, 414, 431, 501
 * and 505 the connection closes: what follows cannot be framed. A
 * request body (Content-Length) is read and dropped.
 *
 * Bounded: a connection holds one head (WP_HTTP_HEAD_MAX bytes) and one
 * response in progress; it reads no further request while a response
 * is being written (waits for EPOLLOUT only), so a client that pipelines
 * without reading is stopped by TCP's window, not by memory here.
 * A large body is written straight from the chargen table, a bounded
 * amount per turn (WP_APP_BUDGET), so one download does not starve the
 * other connections.
 *
 * Closing after the last response: shutdown(SHUT_WR), then read and drop
 * until the client's FIN (at most HTTP_LINGER_MAX bytes), then close: a
 * close with unread bytes would send a RST, which can destroy the
 * response before the client read it (RFC 9112 9.6). There are no
 * timers here: an idle persistent connection stays open until the
 * client closes it or the application stops.
 */
#include "app.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "chargen.h"
#include "http_parse.h"
#include "wirepath/socket.h"

#define HTTP_BYTES_MAX (1ull << 30) /* /bytes/N: at most 1 GiB */
#define HTTP_LINGER_MAX (1u << 20)  /* dropped while closing */
#define HTTP_HEAD_OUT 384	    /* a response head */

static const char page[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>wirepath</title></head>\n"
	"<body><h1>wirepath</h1>\n"
	"<p>This page was served by the http application of wirepath, a "
	"user-space network stack: from the NIC's descriptor rings through "
	"NAPI, IP and TCP to the socket calls this server makes.</p>\n"
	"<p>GET /bytes/N for N bytes of the RFC 864 character "
	"stream.</p>\n"
	"</body></html>\n";

struct http_conn {
	uint8_t in[WP_HTTP_HEAD_MAX + 1]; /* a head is refused beyond */
	size_t in_len;
	uint64_t skip; /* request body bytes still to read and drop */
	/* The response being written. */
	bool responding;
	bool close_after; /* then close: Connection: close, or an error */
	bool lingering;	  /* SHUT_WR done: dropping input until EOF */
	bool chargen;	  /* the body is the chargen stream, else page */
	char head[HTTP_HEAD_OUT];
	size_t head_len, head_off;
	uint64_t body_len, body_off;
	uint64_t lingered;
};

static void http_listener(struct wp_app *app, int fd)
{
	int one = 1;

	/* Heads and bodies go out in whole writes: no Nagle wait for the
	 * last piece of a response. */
	if (wp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		wp_app_count(&app->errors, 1);
}

/* /bytes/N: 1 and N, 0 not that path, -1 a bad N. */
static int bytes_path(const char *p, size_t n, uint64_t *count)
{
	static const char prefix[] = "/bytes/";
	size_t k = sizeof(prefix) - 1;
	uint64_t v = 0;

	if (n <= k || memcmp(p, prefix, k) != 0)
		return 0;
	for (; k < n; k++) {
		if (p[k] < '0' || p[k] > '9')
			return 0;
		v = v * 10 + (uint64_t)(p[k] - '0');
		if (v > HTTP_BYTES_MAX)
			return -1;
	}
	*count = v;
	return 1;
}

/* The path of a target: absolute-form loses scheme and authority, any
 * form its query. */
static void target_path(const struct wp_http_request *r, const char **p,
			size_t *n)
{
	const char *t = r->target;
	size_t len = r->target_len;
	const char *q;

	if (len > 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *slash = memchr(t + 7, '/', len - 7);

		len = slash ? len - (size_t)(slash - t) : 0;
		t = slash ? slash : "/";
		if (!slash)
			len = 1;
	}
	q = memchr(t, '?', len);
	if (q)
		len = (size_t)(q - t);
	*p = t;
	*n = len;
}

/* Set up the response: its head in hc->head, its body to come. */
static void respond(struct wp_app_conn *c, int status, bool head_only,
		    bool keep_alive, unsigned minor, uint64_t body_len,
		    bool chargen)
{
	struct http_conn *hc = c->priv;
	const char *type = chargen	   ? "application/octet-stream"
			   : status == 200 ? "text/html; charset=utf-8"
					   : "text/plain; charset=utf-8";
	char errbody[64];
	int n;

	if (status != 200) {
		snprintf(errbody, sizeof(errbody), "%d %s\n", status,
			 wp_http_reason(status));
		body_len = strlen(errbody);
		wp_app_count(&c->app->rejects, 1);
	}
	n = snprintf(hc->head, sizeof(hc->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Server: wirepath\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %" PRIu64 "\r\n"
		     "%s%s\r\n",
		     status, wp_http_reason(status), type, body_len,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     !keep_alive  ? "Connection: close\r\n"
		     : minor == 0 ? "Connection: keep-alive\r\n"
				  : "");
	hc->head_len = (size_t)n;
	/* An error's body is short: it goes in the head's buffer. */
	if (status != 200 && !head_only &&
	    hc->head_len + body_len < sizeof(hc->head)) {
		memcpy(hc->head + hc->head_len, errbody, body_len);
		hc->head_len += body_len;
	}
	hc->head_off = 0;
	hc->chargen = chargen;
	hc->body_off = 0;
	hc->body_len = status == 200 && !head_only ? body_len : 0;
	hc->responding = true;
	hc->close_after = !keep_alive;
}

/* A complete head: route it. */
static void serve(struct wp_app_conn *c, const struct wp_http_request *r)
{
	bool head_only = r->method == WP_HTTP_HEAD;
	const char *path;
	uint64_t count;
	size_t n;
	int b;

	if (r->method == WP_HTTP_OTHER) {
		respond(c, 405, false, r->keep_alive, r->minor, 0, false);
		return;
	}
	target_path(r, &path, &n);
	if (n == 1 && path[0] == '/') {
		respond(c, 200, head_only, r->keep_alive, r->minor,
			sizeof(page) - 1, false);
		return;
	}
	b = bytes_path(path, n, &count);
	if (b > 0)
		respond(c, 200, head_only, r->keep_alive, r->minor, count,
			true);
	else if (b < 0)
		respond(c, 400, head_only, r->keep_alive, r->minor, 0, false);
	else
		respond(c, 404, head_only, r->keep_alive, r->minor, 0, false);
}

/* Write what the send buffer takes: 1 done, 0 not yet, -1 failed. */
static int write_response(struct wp_app_conn *c, size_t *moved)
{
	struct http_conn *hc = c->priv;

	while (*moved < WP_APP_BUDGET) {
		struct iovec iov[2];
		size_t want = 0, head = hc->head_len - hc->head_off;
		int cnt = 0;
		ssize_t n;

		if (head)
			iov[cnt++] = (struct iovec){
				.iov_base = hc->head + hc->head_off,
				.iov_len = head,
			};
		if (hc->body_off < hc->body_len) {
			uint64_t left = hc->body_len - hc->body_off;
			const uint8_t *src =
				hc->chargen
					? wp_chargen_at(hc->body_off)
					: (const uint8_t *)page + hc->body_off;

			iov[cnt++] = (struct iovec){
				.iov_base = (void *)src,
				.iov_len = left < WP_CHARGEN_SPAN
						   ? (size_t)left
						   : WP_CHARGEN_SPAN,
			};
		}
		if (!cnt)
			return 1;
		for (int i = 0; i < cnt; i++)
			want += iov[i].iov_len;
		n = wp_app_sendv(c, iov, cnt);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		*moved += (size_t)n;
		if ((size_t)n <= head) {
			hc->head_off += (size_t)n;
		} else {
			hc->head_off = hc->head_len;
			hc->body_off += (uint64_t)n - head;
		}
		if ((size_t)n < want)
			return 0; /* the send buffer is full */
	}
	return hc->head_off == hc->head_len && hc->body_off == hc->body_len;
}

/* Drop input until the client's FIN. KEEP, or CLOSE when done. */
static int linger(struct wp_app_conn *c)
{
	struct http_conn *hc = c->priv;

	for (;;) {
		ssize_t n = wp_app_recv(c, hc->in, sizeof(hc->in));

		if (n < 0 && errno == EAGAIN) {
			c->want = WP_EPOLLIN | WP_EPOLLRDHUP;
			return WP_APP_KEEP;
		}
		if (n <= 0)
			return WP_APP_CLOSE;
		hc->lingered += (uint64_t)n;
		if (hc->lingered > HTTP_LINGER_MAX)
			return WP_APP_CLOSE;
	}
}

/* Drop request body bytes: from the buffer, then from the socket. 1 all
 * dropped, 0 waiting for more, -1 the stream ended or failed. */
static int skip_body(struct wp_app_conn *c)
{
	struct http_conn *hc = c->priv;

	while (hc->skip) {
		size_t n =
			hc->in_len < hc->skip ? hc->in_len : (size_t)hc->skip;
		ssize_t r;

		if (n) {
			memmove(hc->in, hc->in + n, hc->in_len - n);
			hc->in_len -= n;
			hc->skip -= n;
			continue;
		}
		if (c->eof)
			return -1;
		r = wp_app_recv(c, hc->in, sizeof(hc->in));
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		hc->in_len = (size_t)r;
	}
	return 1;
}

/* Parse what is buffered, reading more if needed: 1 a response is set
 * up, 0 waiting for bytes, -1 close. */
static int next_request(struct wp_app_conn *c)
{
	struct http_conn *hc = c->priv;
	struct wp_http_request req;

	for (;;) {
		int ret = wp_http_parse_request(hc->in, hc->in_len, &req);
		ssize_t n;

		if (ret > 0) {
			wp_app_count(&c->app->handled, 1);
			serve(c, &req);
			hc->in_len -= req.head_len;
			memmove(hc->in, hc->in + req.head_len, hc->in_len);
			hc->skip = req.content_length;
			return 1;
		}
		if (ret < 0) {
			/* What follows cannot be framed: answer, close. */
			wp_app_count(&c->app->handled, 1);
			respond(c, -ret, false, false, 1, 0, false);
			hc->in_len = 0;
			return 1;
		}
		if (c->eof)
			return -1; /* the client left, mid-request or not */
		n = wp_app_recv(c, hc->in + hc->in_len,
				sizeof(hc->in) - hc->in_len);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		hc->in_len += (size_t)n;
	}
}

static int http_ready(struct wp_app_conn *c, uint32_t events)
{
	struct http_conn *hc = c->priv;
	size_t moved = 0;
	int r;

	(void)events;
	while (moved < WP_APP_BUDGET) {
		if (hc->lingering)
			return linger(c);
		if (hc->responding) {
			r = write_response(c, &moved);
			if (r < 0)
				return WP_APP_CLOSE;
			if (r == 0)
				break;
			hc->responding = false;
			wp_app_count(&c->app->replies, 1);
			if (hc->close_after) {
				if (wp_shutdown(c->fd, SHUT_WR))
					return WP_APP_CLOSE;
				hc->lingering = true;
				continue;
			}
		}
		r = skip_body(c);
		if (r == 0) {
			c->want = WP_EPOLLIN | WP_EPOLLRDHUP;
			return WP_APP_KEEP;
		}
		if (r < 0)
			return WP_APP_CLOSE;
		r = next_request(c);
		if (r == 0) {
			c->want = WP_EPOLLIN | WP_EPOLLRDHUP;
			return WP_APP_KEEP;
		}
		if (r < 0)
			return WP_APP_CLOSE;
	}
	/*
	 * A response waits for room in the send buffer, or the budget ran
	 * out with work left (a response, or pipelined requests already
	 * read): either way what comes next is writing, so wait for
	 * EPOLLOUT, which a socket with room reports again at once.
	 */
	c->want = WP_EPOLLOUT;
	return WP_APP_KEEP;
}

static const struct wp_app_stream_ops http_ops = {
	.conn_size = sizeof(struct http_conn),
	.listener = http_listener,
	.ready = http_ready,
};

const struct wp_app_type wp_app_http = {
	.name = "http",
	.summary = "HTTP/1.1 server: GET / (a page), GET /bytes/N (N bytes)",
	.sock_type = SOCK_STREAM,
	.stream = &http_ops,
};
