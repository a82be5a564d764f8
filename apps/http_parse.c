// SPDX-License-Identifier: MIT
/*
 * The HTTP/1.x request head (http_parse.h). One pass over the bytes,
 * line by line; every index is checked against len before it is read.
 */
#include "http_parse.h"

#include <string.h>

/* tchar (RFC 9110 5.6.2). */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

/* field-vchar, SP, HTAB, obs-text: what a field value may hold. */
static bool is_value_char(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool name_is(const uint8_t *p, size_t n, const char *name)
{
	if (n != strlen(name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)name[i])
			return false;
	return true;
}

/*
 * The next line from *pos: its start and length without the line end.
 * 1 found, 0 no line end yet, -400 a CR not followed by LF.
 */
static int next_line(const uint8_t *buf, size_t len, size_t *pos, size_t *start,
		     size_t *n)
{
	for (size_t i = *pos; i < len; i++) {
		if (buf[i] == '\n') {
			*start = *pos;
			*n = i - *pos;
			*pos = i + 1;
			return 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == len)
				return 0;
			if (buf[i + 1] != '\n')
				return -400;
			*start = *pos;
			*n = i - *pos;
			*pos = i + 2;
			return 1;
		}
	}
	return 0;
}

static int parse_request_line(const uint8_t *l, size_t n,
			      struct wp_http_request *req)
{
	size_t i = 0, t;

	while (i < n && is_tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ' ')
		return -400;
	req->method_str = (const char *)l;
	req->method_len = i;
	if (i == 3 && memcmp(l, "GET", 3) == 0)
		req->method = WP_HTTP_GET;
	else if (i == 4 && memcmp(l, "HEAD", 4) == 0)
		req->method = WP_HTTP_HEAD;
	else
		req->method = WP_HTTP_OTHER;
	t = ++i;
	while (i < n && l[i] > 0x20 && l[i] < 0x7f)
		i++;
	if (i == t || i >= n || l[i] != ' ')
		return -400;
	req->target = (const char *)l + t;
	req->target_len = i - t;
	i++;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, nothing after it. */
	if (n - i != 8 || memcmp(l + i, "HTTP/", 5) != 0 || l[i + 6] != '.' ||
	    l[i + 5] < '0' || l[i + 5] > '9' || l[i + 7] < '0' ||
	    l[i + 7] > '9')
		return -400;
	if (l[i + 5] != '1')
		return -505;
	req->minor = (unsigned)(l[i + 7] - '0');
	req->keep_alive = req->minor >= 1;
	return 0;
}

/* Content-Length: 1#DIGIT, every element equal (RFC 9110 8.6). */
static int parse_content_length(const uint8_t *v, size_t n,
				struct wp_http_request *req)
{
	size_t i = 0;

	for (;;) {
		uint64_t val = 0;
		size_t d = 0;

		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		while (i < n && v[i] >= '0' && v[i] <= '9') {
			/* Past the body limit the exact value does not
			 * matter; saturate rather than overflow. */
			if (val <= UINT32_MAX)
				val = val * 10 + (uint64_t)(v[i] - '0');
			i++;
			d++;
		}
		if (!d)
			return -400;
		if (req->has_content_length && val != req->content_length)
			return -400;
		req->has_content_length = true;
		req->content_length = val;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == n)
			return 0;
		if (v[i] != ',')
			return -400;
		i++;
	}
}

/* Connection: a comma list of tokens; close wins over keep-alive. */
static void parse_connection(const uint8_t *v, size_t n, bool *close,
			     bool *keep)
{
	size_t i = 0;

	while (i < n) {
		size_t s;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (name_is(v + s, i - s, "close"))
			*close = true;
		else if (name_is(v + s, i - s, "keep-alive"))
			*keep = true;
	}
}

static int parse_field(const uint8_t *l, size_t n, struct wp_http_request *req,
		       bool *close, bool *keep)
{
	size_t i = 0, vs, ve;
	int ret = 0;

	while (i < n && is_tchar(l[i]))
		i++;
	/* No name, or whitespace (or anything) before the colon. */
	if (i == 0 || i >= n || l[i] != ':')
		return -400;
	vs = i + 1;
	while (vs < n && (l[vs] == ' ' || l[vs] == '\t'))
		vs++;
	ve = n;
	while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
		ve--;
	for (size_t k = vs; k < ve; k++)
		if (!is_value_char(l[k]))
			return -400;
	if (name_is(l, i, "host")) {
		if (req->has_host)
			return -400;
		req->has_host = true;
	} else if (name_is(l, i, "content-length")) {
		ret = parse_content_length(l + vs, ve - vs, req);
	} else if (name_is(l, i, "transfer-encoding")) {
		req->transfer_encoding = true;
	} else if (name_is(l, i, "connection")) {
		parse_connection(l + vs, ve - vs, close, keep);
	}
	return ret;
}

/* The limits, once no complete head was found in len bytes. */
static int incomplete(size_t len, size_t line_start, bool in_request_line)
{
	if (in_request_line && len - line_start > WP_HTTP_LINE_MAX)
		return -414;
	if (len > WP_HTTP_HEAD_MAX)
		return -431;
	return 0;
}

int wp_http_parse_request(const uint8_t *buf, size_t len,
			  struct wp_http_request *req)
{
	bool close = false, keep = false;
	size_t pos = 0, start, n;
	int ret;

	memset(req, 0, sizeof(*req));
	/* Empty lines before the request line. */
	for (;;) {
		size_t p = pos;

		ret = next_line(buf, len, &p, &start, &n);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return incomplete(len, pos, true);
		if (p > WP_HTTP_HEAD_MAX)
			return -431;
		if (n) {
			if (n > WP_HTTP_LINE_MAX)
				return -414;
			ret = parse_request_line(buf + start, n, req);
			if (ret)
				return ret;
			pos = p;
			break;
		}
		pos = p;
	}
	for (;;) {
		ret = next_line(buf, len, &pos, &start, &n);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return incomplete(len, pos, false);
		if (pos > WP_HTTP_HEAD_MAX)
			return -431;
		if (n == 0)
			break;
		/* obs-fold: a line starting with whitespace (5.2). */
		if (buf[start] == ' ' || buf[start] == '\t')
			return -400;
		if (++req->nfields > WP_HTTP_FIELDS_MAX)
			return -431;
		ret = parse_field(buf + start, n, req, &close, &keep);
		if (ret)
			return ret;
	}
	req->head_len = pos;
	if (req->minor >= 1 && !req->has_host)
		return -400;
	if (req->transfer_encoding)
		return req->has_content_length ? -400 : -501;
	if (req->has_content_length && req->content_length > WP_HTTP_BODY_MAX)
		return -413;
	if (close)
		req->keep_alive = false;
	else if (keep)
		req->keep_alive = true;
	return 1;
}

const char *wp_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}
