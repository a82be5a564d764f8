/* SPDX-License-Identifier: MIT */
/*
 * The request head of HTTP/1.x (RFC 9112 2-6, RFC 9110 for the fields
 * it acts on): request line, header fields, the empty line. A pure
 * function over bytes, length-checked, bounded, fuzzed
 * (tests/fuzz/fuzz_http.c): nothing above it reads an unchecked byte.
 *
 * What it accepts:
 *   - empty lines before the request line are skipped (RFC 9112 2.2);
 *   - lines end in CRLF, or a bare LF (2.2 allows it); a CR anywhere
 *     else is malformed;
 *   - request-line: token SP request-target SP "HTTP/" DIGIT "." DIGIT,
 *     single spaces, the target visible characters only (3);
 *   - field-name ":" OWS field-value OWS; no whitespace before the colon
 *     and no obsolete line folding (5.1, 5.2: rejected); values are
 *     visible characters, SP, HTAB and obs-text;
 *   - HTTP/1.1 needs exactly one Host (RFC 9112 3.2); more than one Host
 *     is malformed in any version;
 *   - Content-Length: digits (a list of equal values is taken as one,
 *     RFC 9110 8.6); different values, or Content-Length with
 *     Transfer-Encoding, are malformed (RFC 9112 6.3);
 *   - Connection: the tokens close and keep-alive decide persistence
 *     with the version's default (RFC 9112 9.3).
 */
#ifndef WP_APPS_HTTP_PARSE_H
#define WP_APPS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WP_HTTP_LINE_MAX 4096  /* request line: longer is 414 */
#define WP_HTTP_HEAD_MAX 8192  /* the whole head: longer is 431 */
#define WP_HTTP_FIELDS_MAX 64  /* header fields: more is 431 */
#define WP_HTTP_BODY_MAX 65536 /* a request body we read to skip: 413 */

enum wp_http_method {
	WP_HTTP_GET,
	WP_HTTP_HEAD,
	WP_HTTP_OTHER, /* any other token: the server answers 405 */
};

/* What a complete head says. Pointers point into the parsed buffer. */
struct wp_http_request {
	enum wp_http_method method;
	const char *method_str;
	size_t method_len;
	const char *target; /* as sent: origin-form, absolute-form, '*' */
	size_t target_len;
	unsigned minor; /* HTTP/1.minor */
	bool keep_alive;
	bool has_host;
	bool has_content_length;
	bool transfer_encoding; /* present: its body we cannot frame */
	uint64_t content_length;
	/* Range and If-Modified-Since as sent (NULL: absent); the last
	 * one counts if repeated. Read with wp_http_parse_range and
	 * wp_http_parse_date. */
	const char *range;
	size_t range_len;
	const char *if_modified_since;
	size_t if_modified_since_len;
	unsigned nfields;
	size_t head_len; /* bytes of the head, empty line included */
};

/*
 * Parse the head at the start of buf[0, len). Returns
 *   1     complete: *req filled, req->head_len bytes are the head;
 *   0     incomplete: nothing wrong so far, more bytes are needed (len
 *         is below the limits);
 *   -400  malformed; -414 request line too long; -431 head too long or
 *         too many fields; -505 not HTTP/1.x; -501 a Transfer-Encoding
 *         (a body this server cannot frame); -413 a Content-Length above
 *         WP_HTTP_BODY_MAX. The status to answer, negated.
 * Reads no byte at or past buf + len.
 */
int wp_http_parse_request(const uint8_t *buf, size_t len,
			  struct wp_http_request *req);

/* The reason phrase of a status this server sends ("Not Found"). */
const char *wp_http_reason(int status);

/*
 * The file a request target names, below a served directory: the path
 * (absolute-form loses scheme and authority, any form its query and
 * fragment), percent-decoded (RFC 3986 2.1), split on '/', empty and
 * "." segments dropped, written to out as "a/b/c" (no leading or
 * trailing '/'; "" is the directory itself), NUL-terminated. out holds
 * at least len + 1 bytes (decoding only shortens).
 * Returns the length written, or the status to answer, negated:
 *   -400  not a path ("*", no leading '/', a byte that is not a visible
 *         character), a bad %-escape, a %00, or a
 *         ".." segment, sent or decoded (WP_HTTP_PATH_DOTDOT set): the
 *         server never goes above the directory;
 *   -404  a %2F: no file name below the directory holds a '/'.
 * *flags: WP_HTTP_PATH_DIR when the path ended in '/' or named the root.
 * A pure function, fuzzed.
 */
enum {
	WP_HTTP_PATH_DIR = 1,
	WP_HTTP_PATH_DOTDOT = 2,
};
int wp_http_target_path(const char *target, size_t len, char *out, size_t cap,
			unsigned *flags);

/*
 * A Range field value (RFC 9110 14.1.2) against a representation of
 * size bytes: "bytes=a-b", "bytes=a-" or "bytes=-n".
 *   1     one satisfiable range: *first .. *last (inclusive, clipped
 *         to the size): answer 206;
 *   0     ignore it (another unit, several ranges, malformed): answer
 *         200 with the whole (14.2: a server may ignore Range);
 *   -416  none of it lies inside the representation.
 */
int wp_http_parse_range(const char *v, size_t n, uint64_t size, uint64_t *first,
			uint64_t *last);

/*
 * An IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT", to
 * seconds since the epoch. 0, or -1 if it is not one (the obsolete
 * formats included: a condition with an invalid date is ignored, 13.1.3).
 */
int wp_http_parse_date(const char *v, size_t n, int64_t *t);

/* Seconds since the epoch as an IMF-fixdate; out holds at least
 * WP_HTTP_DATE_LEN + 1 bytes. Years 1970..9999. */
#define WP_HTTP_DATE_LEN 29
void wp_http_format_date(int64_t t, char *out);

/* The Content-Type of a file name, by its extension (html, txt, css,
 * js, json, png, jpg, gif, svg, pdf, wasm; application/octet-stream
 * otherwise). */
const char *wp_http_content_type(const char *name, size_t len);

#endif
