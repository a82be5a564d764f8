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

#endif
