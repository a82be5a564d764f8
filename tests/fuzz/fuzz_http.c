// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.x request head parser (apps/http_parse.c): the input is the
 * bytes a client sent. Invariants:
 *   - the result is one of the statuses the parser may give;
 *   - a complete head lies inside the input and within the limits, and
 *     what it points at (method, target) lies inside the head;
 *   - incremental: every prefix of a complete head is incomplete (what
 *     the server relies on when a head arrives in pieces), and the same
 *     head followed by anything parses the same;
 *   - a canonical head emitted from what was parsed parses back to the
 *     same request.
 */
#include "fuzz.h"

#include "../../apps/http_parse.h"

static void check_status(int ret)
{
	static const int ok[] = { 1, 0, -400, -413, -414, -431, -501, -505 };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (ret == ok[i])
			return;
	fprintf(stderr, "fuzz invariant broken: status %d\n", ret);
	abort();
}

static bool inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
	const uint8_t *q = p;

	return q >= buf && n <= len && q - buf <= (ptrdiff_t)(len - n);
}

/* Emit a canonical head for r; returns its length (0 if it would not
 * fit, which the limits rule out). */
static size_t emit(const struct wp_http_request *r, uint8_t *out, size_t cap)
{
	int n = snprintf(
		(char *)out, cap, "%.*s %.*s HTTP/1.%u\r\n%s%s%llu%s%s\r\n",
		(int)r->method_len, r->method_str, (int)r->target_len,
		r->target, r->minor, r->has_host ? "Host: h\r\n" : "",
		r->has_content_length ? "Content-Length: " : "",
		r->has_content_length ? (unsigned long long)r->content_length
				      : 0ull,
		r->has_content_length ? "\r\n" : "",
		r->keep_alive ? "Connection: keep-alive\r\n"
			      : "Connection: close\r\n");

	/* Without a length the printed 0 must go: rewrite without it. */
	if (!r->has_content_length)
		n = snprintf(
			(char *)out, cap, "%.*s %.*s HTTP/1.%u\r\n%s%s\r\n",
			(int)r->method_len, r->method_str, (int)r->target_len,
			r->target, r->minor, r->has_host ? "Host: h\r\n" : "",
			r->keep_alive ? "Connection: keep-alive\r\n"
				      : "Connection: close\r\n");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_http_request r, r2;
	uint8_t *copy = fuzz_dup(data, size), *out;
	int ret = wp_http_parse_request(copy, size, &r);
	size_t n;

	check_status(ret);
	if (ret != 1) {
		free(copy);
		return 0;
	}
	fuzz_check(r.head_len <= size && r.head_len <= WP_HTTP_HEAD_MAX,
		   "head inside the input and the limit");
	fuzz_check(inside(r.method_str, r.method_len, copy, r.head_len) &&
			   r.method_len > 0,
		   "method inside the head");
	fuzz_check(inside(r.target, r.target_len, copy, r.head_len) &&
			   r.target_len > 0 && r.target_len <= WP_HTTP_LINE_MAX,
		   "target inside the head");
	fuzz_check(r.nfields <= WP_HTTP_FIELDS_MAX, "fields within the limit");
	fuzz_check(!r.has_content_length ||
			   r.content_length <= WP_HTTP_BODY_MAX,
		   "body within the limit");
	fuzz_check(r.minor <= 9 && (r.minor >= 1 ? r.has_host : true),
		   "HTTP/1.1 has a Host");
	/* Every prefix is incomplete; the head alone parses the same. */
	for (size_t k = 0; k < r.head_len; k++) {
		uint8_t *pre = fuzz_dup(copy, k);

		fuzz_check(wp_http_parse_request(pre, k, &r2) == 0,
			   "a prefix of a head is incomplete");
		free(pre);
		/* Quadratic: a few prefixes suffice on long heads. */
		if (r.head_len > 512 && k > 64)
			k += r.head_len / 64;
	}
	{
		uint8_t *head = fuzz_dup(copy, r.head_len);

		fuzz_check(wp_http_parse_request(head, r.head_len, &r2) == 1 &&
				   r2.head_len == r.head_len &&
				   r2.keep_alive == r.keep_alive &&
				   r2.method == r.method,
			   "the head alone parses the same");
		free(head);
	}
	/* Round trip through a canonical head. */
	out = fuzz_alloc(WP_HTTP_HEAD_MAX * 2);
	n = emit(&r, out, WP_HTTP_HEAD_MAX * 2);
	fuzz_check(n > 0, "canonical head fits");
	if (n <= WP_HTTP_HEAD_MAX) {
		uint8_t *exact = fuzz_dup(out, n);

		fuzz_check(wp_http_parse_request(exact, n, &r2) == 1,
			   "canonical head parses");
		fuzz_check(r2.method == r.method && r2.minor == r.minor &&
				   r2.keep_alive == r.keep_alive &&
				   r2.target_len == r.target_len &&
				   memcmp(r2.target, r.target, r.target_len) ==
					   0 &&
				   r2.has_content_length ==
					   r.has_content_length &&
				   r2.content_length == r.content_length &&
				   r2.head_len == n,
			   "canonical head says the same");
		free(exact);
	}
	free(out);
	free(copy);
	return 0;
}
