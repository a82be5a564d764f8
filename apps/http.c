// SPDX-License-Identifier: MIT
/*
 * A small HTTP/1.1 server (RFC 9110, 9112) for clients such as curl and
 * browsers to reach the stack with. Without a directory (http:PORT):
 *
 *   GET /          a short HTML page naming wirepath
 *   GET /bytes/N   N bytes (0 .. HTTP_BYTES_MAX) of the chargen stream
 *                  (chargen.h), application/octet-stream: downloads of
 *                  any size whose content a client can check
 *   HEAD           the same heads, no body
 *
 * With one (http:PORT:DIR), the files under DIR, and nothing else:
 *
 *   - DIR is resolved once (realpath) and opened O_PATH; every file is
 *     opened relative to it with openat2(RESOLVE_BENEATH): a symlink
 *     may point anywhere inside DIR, one leading out of it fails
 *     (EXDEV: 404, counted in escapes). Without openat2 (kernels before
 *     5.6) the path is walked a component at a time with O_NOFOLLOW:
 *     no symlink is followed at all. The target is percent-decoded and
 *     normalised first (wp_http_target_path): a ".." segment, sent or
 *     decoded, is a 400 (escapes), %00 a 400, %2F a 404;
 *   - a directory serves its index.html, else 404 (no listings); a
 *     file that is not regular (FIFO, device, socket) is a 404; one the
 *     server may not read, 403;
 *   - Content-Type by the extension (wp_http_content_type),
 *     Content-Length, Last-Modified, Accept-Ranges; If-Modified-Since
 *     (304 when the file is not newer) and one Range of bytes (206, or
 *     416 when it lies past the end; several ranges are ignored);
 *   - the body is read from the file as the socket takes it: pread of
 *     HTTP_CHUNK bytes into a per-connection buffer (allocated while a
 *     file is being sent, freed after), sent, then the next, never the
 *     whole file in memory; the file's size is the one fstat gave when
 *     the request came (a file that shrinks meanwhile closes the
 *     connection: its Content-Length can no longer be kept).
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
 * request body (Content-Length) is read and dropped. Each status other
 * than 200 is counted under its own name (status_404, ...: wp_app_print
 * shows them), every error (4xx, 5xx) in rejects too.
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
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "chargen.h"
#include "http_parse.h"
#include "wirepath/socket.h"

#define HTTP_BYTES_MAX (1ull << 30) /* /bytes/N: at most 1 GiB */
#define HTTP_LINGER_MAX (1u << 20)  /* dropped while closing */
#define HTTP_HEAD_OUT 512	    /* a response head */
#define HTTP_CHUNK (64 * 1024)	    /* a file is read this much at a time */

/* app->counter[]: the statuses other than 200, and paths refused for
 * leading out of the directory. */
enum {
	HTTP_C_206,
	HTTP_C_304,
	HTTP_C_400,
	HTTP_C_403,
	HTTP_C_404,
	HTTP_C_405,
	HTTP_C_413,
	HTTP_C_414,
	HTTP_C_416,
	HTTP_C_431,
	HTTP_C_501,
	HTTP_C_505,
	HTTP_C_ESCAPES,
	HTTP_NCOUNTERS,
};

static const char *const http_counter_names[HTTP_NCOUNTERS] = {
	"status_206", "status_304", "status_400", "status_403", "status_404",
	"status_405", "status_413", "status_414", "status_416", "status_431",
	"status_501", "status_505", "escapes",
};

/* The served directory (app->priv), when the spec names one. */
struct http_root {
	int dirfd;    /* O_PATH | O_DIRECTORY */
	bool openat2; /* the kernel has it: RESOLVE_BENEATH */
	char path[PATH_MAX];
};

enum http_body {
	BODY_NONE,
	BODY_PAGE,
	BODY_CHARGEN,
	BODY_FILE,
};

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
	enum http_body body;
	char head[HTTP_HEAD_OUT];
	size_t head_len, head_off;
	uint64_t body_len, body_off;
	uint64_t lingered;
	/* BODY_FILE: the file, where the next pread starts, and what was
	 * read but not yet sent (chunk[chunk_off, chunk_len)). */
	int file;
	uint64_t file_pos;
	uint8_t *chunk;
	size_t chunk_off, chunk_len;
	/* The path below the directory, decoded (its own buffer: the head
	 * it came from moves on). */
	char path[WP_HTTP_LINE_MAX + 16];
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

static void count_status(struct wp_app *app, int status)
{
	static const int statuses[] = { 206, 304, 400, 403, 404, 405,
					413, 414, 416, 431, 501, 505 };

	for (unsigned i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i] == status)
			wp_app_count(&app->counter[i], 1);
	if (status >= 400)
		wp_app_count(&app->rejects, 1);
}

/* What a response says beyond its status. */
struct reply {
	const char *type;    /* Content-Type; NULL: none (an error's) */
	uint64_t length;     /* Content-Length */
	enum http_body body; /* what follows the head (not for HEAD) */
	const char *fields;  /* more header lines, each with its CRLF */
};

/* Close what a file body holds. */
static void body_done(struct http_conn *hc)
{
	if (hc->body == BODY_FILE)
		close(hc->file);
	free(hc->chunk);
	hc->chunk = NULL;
	hc->chunk_off = hc->chunk_len = 0;
	hc->body = BODY_NONE;
}

/* Set up the response: its head in hc->head, its body to come. An error
 * (>= 400) gets a short text body of its own; 304 none. */
static void respond(struct wp_app_conn *c, int status, bool head_only,
		    bool keep_alive, unsigned minor, const struct reply *rp)
{
	struct http_conn *hc = c->priv;
	struct reply r = rp ? *rp : (struct reply){ 0 };
	char errbody[64];
	int n;

	count_status(c->app, status);
	if (status >= 400) {
		snprintf(errbody, sizeof(errbody), "%d %s\n", status,
			 wp_http_reason(status));
		r.length = strlen(errbody);
		r.type = "text/plain; charset=utf-8";
		r.body = BODY_NONE;
	}
	if (head_only || status == 304 || status >= 400) {
		if (r.body == BODY_FILE)
			close(hc->file);
		r.body = BODY_NONE;
	}
	n = snprintf(hc->head, sizeof(hc->head),
		     "HTTP/1.1 %d %s\r\n"
		     "Server: wirepath\r\n"
		     "%s%s%s"
		     "Content-Length: %" PRIu64 "\r\n"
		     "%s%s%s\r\n",
		     status, wp_http_reason(status),
		     r.type ? "Content-Type: " : "", r.type ? r.type : "",
		     r.type ? "\r\n" : "", r.length,
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     r.fields ? r.fields : "",
		     !keep_alive  ? "Connection: close\r\n"
		     : minor == 0 ? "Connection: keep-alive\r\n"
				  : "");
	hc->head_len = n > 0 && (size_t)n < sizeof(hc->head) ? (size_t)n : 0;
	/* An error's body is short: it goes in the head's buffer. */
	if (status >= 400 && !head_only &&
	    hc->head_len + r.length < sizeof(hc->head)) {
		memcpy(hc->head + hc->head_len, errbody, r.length);
		hc->head_len += r.length;
	}
	hc->head_off = 0;
	hc->body = r.body;
	hc->body_off = 0;
	hc->body_len = r.body != BODY_NONE ? r.length : 0;
	hc->responding = true;
	hc->close_after = !keep_alive;
}

static void respond_error(struct wp_app_conn *c,
			  const struct wp_http_request *r, int status)
{
	respond(c, status, r->method == WP_HTTP_HEAD, r->keep_alive, r->minor,
		NULL);
}

/* A complete head, no directory: the page and /bytes/N. */
static void serve_builtin(struct wp_app_conn *c,
			  const struct wp_http_request *r)
{
	bool head_only = r->method == WP_HTTP_HEAD;
	const char *path;
	uint64_t count;
	size_t n;
	int b;

	target_path(r, &path, &n);
	if (n == 1 && path[0] == '/') {
		struct reply rp = { .type = "text/html; charset=utf-8",
				    .length = sizeof(page) - 1,
				    .body = BODY_PAGE };

		respond(c, 200, head_only, r->keep_alive, r->minor, &rp);
		return;
	}
	b = bytes_path(path, n, &count);
	if (b > 0) {
		struct reply rp = { .type = "application/octet-stream",
				    .length = count,
				    .body = BODY_CHARGEN };

		respond(c, 200, head_only, r->keep_alive, r->minor, &rp);
	} else {
		respond_error(c, r, b < 0 ? 400 : 404);
	}
}

/*
 * Open rel (no "..", no empty segment: wp_http_target_path) below the
 * root, never leaving it. A descriptor, or -1 with errno (EXDEV: a
 * symlink leads out; ELOOP without openat2: a symlink at all).
 */
static int open_beneath(const struct http_root *root, const char *rel)
{
	const int flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	char part[NAME_MAX + 1];
	int dir = root->dirfd, fd;

	if (root->openat2) {
		struct open_how how = {
			.flags = flags,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};

		return (int)syscall(SYS_openat2, root->dirfd, *rel ? rel : ".",
				    &how, sizeof(how));
	}
	if (!*rel)
		return openat(dir, ".", flags);
	/* A component at a time, following no symlink. */
	for (;;) {
		const char *slash = strchr(rel, '/');
		size_t n = slash ? (size_t)(slash - rel) : strlen(rel);

		if (n > NAME_MAX) {
			fd = -1;
			errno = ENAMETOOLONG;
		} else if (!slash) {
			fd = openat(dir, rel, flags | O_NOFOLLOW);
		} else {
			memcpy(part, rel, n);
			part[n] = '\0';
			fd = openat(dir, part,
				    O_PATH | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
		}
		if (dir != root->dirfd) {
			int e = errno;

			close(dir);
			errno = e;
		}
		if (fd < 0 || !slash)
			return fd;
		dir = fd;
		rel = slash + 1;
	}
}

/* The status of a failed open_beneath. */
static int open_status(struct wp_app *app, int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ELOOP:
		return 404;
	case EXDEV:
		wp_app_count(&app->counter[HTTP_C_ESCAPES], 1);
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	default:
		/* EMFILE, ENOMEM, EIO...: the server's trouble. */
		wp_app_count(&app->errors, 1);
		return 503;
	}
}

/* The file of path below the root, opened, regular, its stat in *st: a
 * descriptor, or the status to answer, negated. A directory gives its
 * index.html. */
static int open_file(struct wp_app *app, char *path, size_t len, unsigned flags,
		     struct stat *st)
{
	const struct http_root *root = app->priv;
	int fd = open_beneath(root, path);

	if (fd < 0)
		return -open_status(app, errno);
	if (fstat(fd, st)) {
		close(fd);
		wp_app_count(&app->errors, 1);
		return -503;
	}
	if (!S_ISDIR(st->st_mode) && (flags & WP_HTTP_PATH_DIR)) {
		close(fd); /* "file/": not a directory */
		return -404;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		/* path has room: the target was longer than the suffix */
		strcpy(path + len, len ? "/index.html" : "index.html");
		fd = open_beneath(root, path);
		if (fd < 0)
			return -open_status(app, errno);
		if (fstat(fd, st)) {
			close(fd);
			wp_app_count(&app->errors, 1);
			return -503;
		}
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -404;
	}
	return fd;
}

/* A complete head with a directory to serve: the file it names. */
static void serve_file(struct wp_app_conn *c, const struct wp_http_request *r)
{
	struct http_conn *hc = c->priv;
	bool head_only = r->method == WP_HTTP_HEAD;
	char fields[192], date[WP_HTTP_DATE_LEN + 1];
	struct reply rp = { .body = BODY_FILE };
	uint64_t first = 0, last = 0;
	int64_t since;
	struct stat st;
	unsigned flags;
	int n, fd, status = 200, range = 0;

	n = wp_http_target_path(r->target, r->target_len, hc->path,
				sizeof(hc->path) - 16, &flags);
	if (n < 0) {
		if (flags & WP_HTTP_PATH_DOTDOT)
			wp_app_count(&c->app->counter[HTTP_C_ESCAPES], 1);
		respond_error(c, r, -n);
		return;
	}
	fd = open_file(c->app, hc->path, (size_t)n, flags, &st);
	if (fd < 0) {
		respond_error(c, r, -fd);
		return;
	}
	hc->file = fd;
	rp.type = wp_http_content_type(hc->path, strlen(hc->path));
	rp.length = (uint64_t)st.st_size;
	wp_http_format_date(st.st_mtim.tv_sec, date);
	/* RFC 9110 13.2.2: If-Modified-Since before Range; a date in the
	 * future or an invalid one is ignored (13.1.3). The file system's
	 * clock is the real one, whatever the stack's. */
	if (r->if_modified_since &&
	    wp_http_parse_date(r->if_modified_since, r->if_modified_since_len,
			       &since) == 0 &&
	    since <= (int64_t)time(NULL) && st.st_mtim.tv_sec <= since)
		status = 304;
	else if (r->range && r->method == WP_HTTP_GET)
		range = wp_http_parse_range(r->range, r->range_len, rp.length,
					    &first, &last);
	if (range < 0) {
		close(fd);
		snprintf(fields, sizeof(fields),
			 "Content-Range: bytes */%" PRIu64 "\r\n", rp.length);
		rp = (struct reply){ .fields = fields };
		respond(c, 416, head_only, r->keep_alive, r->minor, &rp);
		return;
	}
	n = snprintf(fields, sizeof(fields),
		     "Last-Modified: %s\r\nAccept-Ranges: bytes\r\n", date);
	if (range > 0) {
		snprintf(fields + n, sizeof(fields) - (size_t)n,
			 "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
			 "\r\n",
			 first, last, rp.length);
		rp.length = last - first + 1;
		status = 206;
	}
	rp.fields = fields;
	hc->file_pos = first;
	respond(c, status, head_only, r->keep_alive, r->minor, &rp);
}

/* A complete head: route it. */
static void serve(struct wp_app_conn *c, const struct wp_http_request *r)
{
	if (r->method == WP_HTTP_OTHER)
		respond_error(c, r, 405);
	else if (c->app->priv)
		serve_file(c, r);
	else
		serve_builtin(c, r);
}

/*
 * Where the next body bytes are: *p and at most *n of them; 0, or -1
 * when the file cannot give what its Content-Length promised. A file
 * is read HTTP_CHUNK bytes at a time, once what was read went out.
 */
static int body_span(struct http_conn *hc, const uint8_t **p, size_t *n)
{
	uint64_t left = hc->body_len - hc->body_off;

	switch (hc->body) {
	case BODY_PAGE:
		*p = (const uint8_t *)page + hc->body_off;
		*n = (size_t)left;
		return 0;
	case BODY_CHARGEN:
		*p = wp_chargen_at(hc->body_off);
		*n = left < WP_CHARGEN_SPAN ? (size_t)left : WP_CHARGEN_SPAN;
		return 0;
	case BODY_FILE:
		break;
	default:
		*p = NULL;
		*n = 0;
		return 0;
	}
	if (hc->chunk_off == hc->chunk_len) {
		size_t want = left < HTTP_CHUNK ? (size_t)left : HTTP_CHUNK;
		ssize_t got;

		if (!hc->chunk) {
			hc->chunk = malloc(HTTP_CHUNK);
			if (!hc->chunk)
				return -1;
		}
		do
			got = pread(hc->file, hc->chunk, want,
				    (off_t)hc->file_pos);
		while (got < 0 && errno == EINTR);
		if (got <= 0)
			return -1; /* shrunk, or unreadable */
		hc->chunk_off = 0;
		hc->chunk_len = (size_t)got;
		hc->file_pos += (uint64_t)got;
	}
	*p = hc->chunk + hc->chunk_off;
	*n = hc->chunk_len - hc->chunk_off;
	return 0;
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
			const uint8_t *src = NULL;
			size_t len = 0;

			if (body_span(hc, &src, &len)) {
				wp_app_count(&c->app->errors, 1);
				return -1;
			}
			iov[cnt++] = (struct iovec){
				.iov_base = (void *)src,
				.iov_len = len,
			};
		}
		if (!cnt)
			break;
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
			if (hc->body == BODY_FILE)
				hc->chunk_off += (size_t)n - head;
		}
		if ((size_t)n < want)
			return 0; /* the send buffer is full */
	}
	if (hc->head_off < hc->head_len || hc->body_off < hc->body_len)
		return 0;
	body_done(hc);
	return 1;
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
			respond(c, -ret, false, false, 1, NULL);
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

static void http_release(struct wp_app_conn *c)
{
	body_done(c->priv);
}

/* http:PORT:DIR: DIR resolved and opened once, here, so that a missing
 * one is refused at start and later renames of the path do not move
 * what is served. */
static int http_open(struct wp_app *app, char *err, size_t errlen)
{
	struct http_root *root;
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH };
	int e, fd;

	if (!app->arg)
		return 0;
	root = calloc(1, sizeof(*root));
	if (!root) {
		snprintf(err, errlen, "http:%u: out of memory", app->port);
		return -ENOMEM;
	}
	if (!realpath(app->arg, root->path)) {
		e = errno;
		goto out_fail;
	}
	root->dirfd = open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->dirfd < 0) {
		e = errno;
		goto out_fail;
	}
	/* Has the kernel openat2 (5.6)? Else walk without symlinks. */
	fd = (int)syscall(SYS_openat2, root->dirfd, ".", &how, sizeof(how));
	root->openat2 = fd >= 0 || errno != ENOSYS;
	if (fd >= 0)
		close(fd);
	app->priv = root;
	return 0;

out_fail:
	snprintf(err, errlen, "http:%u: directory '%s': %s%s", app->port,
		 app->arg, strerror(e),
		 e == ENOTDIR ? " (http:PORT:DIR serves a directory)" : "");
	free(root);
	return -e;
}

static void http_close(struct wp_app *app)
{
	struct http_root *root = app->priv;

	if (!root)
		return;
	close(root->dirfd);
	free(root);
	app->priv = NULL;
}

static const struct wp_app_stream_ops http_ops = {
	.conn_size = sizeof(struct http_conn),
	.listener = http_listener,
	.ready = http_ready,
	.release = http_release,
};

const struct wp_app_type wp_app_http = {
	.name = "http",
	.summary = "HTTP/1.1 server: the files under DIR, or GET / (a page) "
		   "and GET /bytes/N (N bytes)",
	.sock_type = SOCK_STREAM,
	.arg_name = "DIR",
	.open = http_open,
	.close = http_close,
	.counter_names = http_counter_names,
	.ncounters = HTTP_NCOUNTERS,
	.stream = &http_ops,
};
