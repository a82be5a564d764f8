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
 * The same bytes, and the target of a complete head, also drive what the
 * directory server does with them (http_parse.h):
 *   - wp_http_target_path: a status it may give, or a normalised path
 *     within its length: no empty, "." or ".." segment, no NUL, no
 *     leading or trailing '/'; re-encoded, it decodes to itself;
 *   - wp_http_parse_range: a range inside the size it was given;
 *   - wp_http_parse_date: a date that formats and parses back to the
 *     same second.
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

/* A decoded path, checked; then encoded again ('%', '?', '#' and what
 * is not a visible character escaped) it must decode to itself. */
static void check_path_out(const char *out, int ret, size_t len)
{
	fuzz_check((size_t)ret <= len && strlen(out) == (size_t)ret,
		   "path within the target, no NUL");
	if (ret == 0)
		return;
	fuzz_check(out[0] != '/' && out[ret - 1] != '/', "no outer '/'");
	for (const char *seg = out;;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		fuzz_check(n > 0, "no empty segment");
		fuzz_check(!(n == 1 && seg[0] == '.') &&
				   !(n == 2 && seg[0] == '.' && seg[1] == '.'),
			   "no '.' or '..' segment");
		if (!end)
			break;
		seg = end + 1;
	}
}

static void check_path(const char *t, size_t len)
{
	char *out = (char *)fuzz_alloc(len + 1), *enc, *again;
	unsigned flags, flags2;
	size_t k = 0;
	int ret = wp_http_target_path(t, len, out, len + 1, &flags);

	if (ret < 0) {
		fuzz_check(ret == -400 || ret == -404, "path status");
		fuzz_check(!(flags & WP_HTTP_PATH_DOTDOT) || ret == -400,
			   "'..' is a 400");
		free(out);
		return;
	}
	check_path_out(out, ret, len);
	fuzz_check(flags == 0 || flags == WP_HTTP_PATH_DIR, "path flags");
	enc = (char *)fuzz_alloc(3 * (size_t)ret + 2);
	enc[k++] = '/';
	for (int i = 0; i < ret; i++) {
		uint8_t c = (uint8_t)out[i];

		if (c <= 0x20 || c >= 0x7f || c == '%' || c == '?' ||
		    c == '#') {
			k += (size_t)sprintf(enc + k, "%%%02X",
					     (unsigned)(uint8_t)out[i]);
		} else {
			enc[k++] = out[i];
		}
	}
	again = (char *)fuzz_alloc(k + 1);
	fuzz_check(wp_http_target_path(enc, k, again, k + 1, &flags2) == ret &&
			   memcmp(again, out, (size_t)ret) == 0,
		   "a normalised path decodes to itself");
	free(again);
	free(enc);
	free(out);
}

static void check_range_date(const uint8_t *data, size_t size)
{
	uint64_t sz = 0, first, last;
	int64_t t, t2;
	char date[WP_HTTP_DATE_LEN + 1];
	int ret;

	/* The size from the first bytes: small ones matter most. */
	for (size_t i = 0; i < size && i < 3; i++)
		sz = sz << 8 | data[i];
	ret = wp_http_parse_range((const char *)data, size, sz, &first, &last);
	fuzz_check(ret == 1 || ret == 0 || ret == -416, "range status");
	if (ret == 1)
		fuzz_check(first <= last && last < sz, "range inside the size");
	if (wp_http_parse_date((const char *)data, size, &t) == 0 && t >= 0) {
		wp_http_format_date(t, date);
		fuzz_check(wp_http_parse_date(date, WP_HTTP_DATE_LEN, &t2) ==
					   0 &&
				   t2 == t,
			   "a date formats and parses back");
	}
	fuzz_check(wp_http_content_type((const char *)data, size) != NULL,
		   "a content type");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wp_http_request r, r2;
	uint8_t *copy = fuzz_dup(data, size), *out;
	int ret = wp_http_parse_request(copy, size, &r);
	size_t n;

	check_status(ret);
	check_path((const char *)copy, size);
	check_range_date(copy, size);
	if (ret != 1) {
		free(copy);
		return 0;
	}
	check_path(r.target, r.target_len);
	if (r.range)
		check_range_date((const uint8_t *)r.range, r.range_len);
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
